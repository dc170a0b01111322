"""Models: training curves, per-layer weight histograms, parameter counts and settings, checkpoint metadata.
One model at a time, chosen above, in tabs: only the open tab is drawn."""

import json

import streamlit as st
from cache import model_figures, shared_model
from sidebar import checkpoints_folder
from widgets import figure, start_page, talk_mode

from rfi_models.analysis.latent import NEAR_ZERO_WEIGHT

selection = start_page("Models", need_image=False)
families = list(selection.checkpoints)
family = st.segmented_control("Model", families, format_func=selection.label, key="models_family", default=families[0])
family = family or families[0]
path = selection.checkpoints[family]
model, info = shared_model(str(path))
counts = model.parameter_counts()
st.subheader(f"{path.name}: {sum(counts.values()):,} parameters, latent size {model.latent_dim}")
training, weights_tab, layers, metadata = st.tabs(
    ["Training", "Weights", "Layers and settings", "Checkpoint metadata"], key="models_tab", on_change="rerun"
)  # only the open tab is drawn: each figure costs the browser a noticeable share of a page switch
log = checkpoints_folder() / "logs" / f"{path.stem}.jsonl"
if training.open or weights_tab.open:
    curves, weights, rows = model_figures(str(path), str(log), family, talk_mode())
if training.open:
    with training:
        if curves is not None:
            figure(curves, f"curves_{family}")
        else:
            st.caption(f"No training log ({log.name}) beside this checkpoint.")
if weights_tab.open:
    with weights_tab:
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
if layers.open:
    with layers:
        left, right = st.columns(2)
        left.table([{"part": part, "parameters": n} for part, n in counts.items()], hide_index=True)
        right.table([{"setting": k, "value": str(v)} for k, v in info["config"].items()], hide_index=True)
        st.code(str(model), language="text")
if metadata.open:
    with metadata:  # as text: an interactive JSON tree takes the browser long to build
        st.code(json.dumps({k: v for k, v in info.items() if k != "config"}, indent=1), language="json")
