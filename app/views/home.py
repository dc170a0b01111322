"""Home: what the tool does and how to use it, the results tables, and the current image."""

import streamlit as st
from sidebar import checkpoints_folder
from widgets import image_row

from rfi_models.view.viz import channel_views, draw_boxes

selection = st.session_state["selection"]

st.title("MAE vs CAE vs DAE")
st.write(
    "Compare a ViT masked autoencoder (MAE), a convolutional autoencoder (CAE) and a denoising autoencoder (DAE) "
    "on MNIST digits and on dual-polarisation Sentinel-1 patches, where radio-frequency interference (RFI) shows "
    "up as what the models fail to reconstruct."
)
st.markdown(
    "**How to use it.** Pick the domain, the checkpoints and an image in the sidebar: a gallery image, your own "
    "upload, or (SAR) a generated patch with or without RFI. The SAR gallery opens on real Sentinel-1 patches with "
    "real RFI and their hand-drawn boxes. The mask ratio and seed drive the MAE's mask and the DAE's noise. The URL "
    "keeps these settings: copy it to share the view."
)
for problem in selection.problems:
    st.error(problem)
if not selection.checkpoints:
    st.info(
        "No trained checkpoints for this domain in `checkpoints/`. Train them with `python -m train` (see the README)."
    )

if selection.current is not None:
    st.subheader(f"Current image: {selection.current.label}")
    current = selection.current
    views = channel_views(current.image, selection.domain)
    if current.has_boxes:  # a real RFI patch: its hand-drawn boxes on every view
        views = [(f"{caption}, RFI boxes green, ignore orange", draw_boxes(view, current.boxes, current.ignore_boxes))
                 for caption, view in views]  # fmt: skip
    image_row(views, "current_image")

results = checkpoints_folder() / "RESULTS.md"
if results.exists():
    with st.expander("Results of the shipped checkpoints", expanded=False):
        st.markdown(results.read_text())
