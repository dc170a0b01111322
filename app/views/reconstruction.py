"""Reconstruction: the original, what each model saw, the three reconstructions, error maps and PSNR/SSIM."""

import streamlit as st
from scene import scene_overview
from widgets import image_row

from rfi_models.analysis import reconstruct_all
from rfi_models.viz import channel_views, heat_colours

selection = st.session_state["selection"]
st.title("Reconstruction")
for problem in selection.problems:
    st.error(problem)
if selection.current is None or not selection.models:
    st.info("Choose an image and at least one checkpoint in the sidebar.")
    st.stop()

scene_overview(selection)
image = selection.current.image
st.caption(
    f"{selection.current.label} · MAE mask ratio {selection.mask_ratio:.2f} · DAE noise 0.5 · seed {selection.seed}"
)
views = reconstruct_all(selection.models, image, selection.mask_ratio, selection.seed)

st.subheader("Original")
image_row(channel_views(image, selection.domain), "original")

for view in views:
    quality = view.quality
    headline = f"PSNR {quality['psnr']:.2f} dB · SSIM {quality['ssim']:.3f}"
    if "psnr_masked" in quality:
        headline += f" · masked region: PSNR {quality['psnr_masked']:.2f} dB, SSIM {quality['ssim_masked']:.3f}"
    st.subheader(f"{view.family.upper()}: {headline}")
    seen = "masked input" if view.family == "mae" else "noisy input" if view.family == "dae" else "input"
    panels = [(f"{seen} ({c})", p) for c, p in channel_views(view.model_input, selection.domain)[:1]]
    panels += [(f"reconstruction ({c})", p) for c, p in channel_views(view.reconstruction, selection.domain)]
    panels.append(("absolute error", heat_colours(view.error)))
    image_row(panels, f"reconstruction_{view.family}")
