"""Reconstruction: models as rows; the original, what each model saw, its reconstruction, the MAE's reconstruction
with the visible patches pasted back, and the error on one shared scale, with PSNR/SSIM beside each row."""

import streamlit as st
from cache import reconstructions
from overview import overview_and_controls
from widgets import dae_noise, figure, main_height, start_page, talk_mode

from rfi_models.view.panels import BOXES_CAPTION, reconstruction_grid, truth_boxes

selection = start_page("Reconstruction")
controls = overview_and_controls(selection)
image = selection.current.image
dae = "dae" in selection.checkpoints
with controls:
    noise_column, channel_column, _ = st.columns([2, 1, 3])
    noise = noise_column.slider("DAE noise factor", 0.0, 1.0, dae_noise(selection), 0.05, key="noise_factor",
                                disabled=not dae,
                                help="Gaussian noise added before the DAE denoises, seeded by the sidebar's seed; "
                                "the default is the noise it was trained with")  # fmt: skip
    channel = 0
    if image.shape[0] > 1:
        channel = ("VV", "VH").index(channel_column.radio("Channel", ("VV", "VH"), index=1, horizontal=True,
                                                          key="recon_channel"))  # fmt: skip
st.caption(
    f"{selection.current.label} · MAE mask ratio {selection.mask_ratio:.2f} · DAE noise {noise:.2f} · "
    f"seed {selection.seed}"
    + (f" · images show {('VV', 'VH')[channel]}, errors both channels" if image.shape[0] > 1 else "")
    + (BOXES_CAPTION if selection.current.has_boxes else "")
)
views = reconstructions(tuple(map(str, selection.checkpoints.values())), image, selection.mask_ratio,
                        selection.seed, noise, selection.models)  # fmt: skip
# a SAR scene's overview (the whole image and its window, folded) sits above the grid: one control row less
chart = reconstruction_grid(image, views, channel, height=main_height(2 if selection.domain == "sar" else 1),
                            talk=talk_mode(), boxes=truth_boxes(selection.current.boxes,
                                                                selection.current.ignore_boxes))  # fmt: skip
figure(chart, "reconstruction_grid")
