"""Models: architecture and parameter counts, training curves, per-layer weight histograms, checkpoint metadata."""

import streamlit as st
from cache import shared_model
from sidebar import checkpoints_folder
from widgets import figure, start_page, talk_mode

from rfi_models.analysis import weight_statistics
from rfi_models.training_log import read_training_log
from rfi_models.viz import training_curves, weight_histograms

selection = start_page("Models", need_image=False)
tabs = st.tabs([family.upper() for family in selection.models])
for tab, (family, path) in zip(tabs, selection.checkpoints.items(), strict=True):
    model, info = shared_model(str(path))
    with tab:
        counts = model.parameter_counts()
        st.subheader(f"{path.name}: {sum(counts.values()):,} parameters, latent size {model.latent_dim}")
        left, right = st.columns(2)
        left.dataframe([{"part": part, "parameters": n} for part, n in counts.items()], hide_index=True)
        right.dataframe([{"setting": k, "value": str(v)} for k, v in info["config"].items()], hide_index=True)
        with st.expander("Layers (PyTorch summary)"):
            st.code(str(model), language="text")

        log = checkpoints_folder() / "logs" / f"{path.stem}.jsonl"
        if log.exists():
            history = read_training_log(log)
            figure(training_curves(history, f"{family.upper()} training", talk_mode()), f"curves_{family}")
        else:
            st.caption(f"No training log ({log.name}) beside this checkpoint.")

        rows = weight_statistics(model)
        figure(weight_histograms(rows, f"{family.upper()} weights per layer", talk_mode()), f"weights_{family}")
        st.dataframe(
            [
                {
                    "layer": r["layer"],
                    "shape": " x ".join(map(str, r["shape"])),
                    "mean |w|": r["mean_abs"],
                    "std": r["std"],
                    "share |w| < 0.01": r["near_zero_share"],
                }
                for r in rows
            ],
            hide_index=True,
        )
        with st.expander("Checkpoint metadata"):
            st.json({k: v for k, v in info.items() if k != "config"})
