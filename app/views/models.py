"""Models: architecture and parameter counts, training curves, per-layer weight histograms, checkpoint metadata.
One model at a time, chosen above: only its figures are drawn."""

import streamlit as st
from cache import model_figures, shared_model
from sidebar import checkpoints_folder
from widgets import figure, start_page, talk_mode

from rfi_models.analysis.latent import NEAR_ZERO_WEIGHT

selection = start_page("Models", need_image=False)
families = list(selection.checkpoints)
family = st.segmented_control("Model", families, format_func=str.upper, key="models_family", default=families[0])
family = family or families[0]
path = selection.checkpoints[family]
model, info = shared_model(str(path))
counts = model.parameter_counts()
st.subheader(f"{path.name}: {sum(counts.values()):,} parameters, latent size {model.latent_dim}")
left, right = st.columns(2)
left.dataframe([{"part": part, "parameters": n} for part, n in counts.items()], hide_index=True)
right.dataframe([{"setting": k, "value": str(v)} for k, v in info["config"].items()], hide_index=True)
with st.expander("Layers (PyTorch summary)"):
    st.code(str(model), language="text")

log = checkpoints_folder() / "logs" / f"{path.stem}.jsonl"
curves, weights, rows = model_figures(str(path), str(log), family, talk_mode())
if curves is not None:
    figure(curves, f"curves_{family}")
else:
    st.caption(f"No training log ({log.name}) beside this checkpoint.")
figure(weights, f"weights_{family}")
st.dataframe(
    [
        {
            "layer": r["layer"],
            "shape": " x ".join(map(str, r["shape"])),
            "mean |w|": r["mean_abs"],
            "std": r["std"],
            f"share |w| < {NEAR_ZERO_WEIGHT:g}": r["near_zero_share"],
        }
        for r in rows
    ],
    hide_index=True,
)
with st.expander("Checkpoint metadata"):
    st.json({k: v for k, v in info.items() if k != "config"})
