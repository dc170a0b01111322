"""Reconstruction: models as rows; the original, what each model saw, its reconstruction, the MAE's reconstruction
with the visible patches pasted back, and the error on one shared scale, with PSNR/SSIM beside each row. The MAE
hides random patches or whole rows of patches (range lines): a choice, by default the masking it was trained with."""

import streamlit as st
from cache import reconstructions
from overview import overview_and_controls
from widgets import dae_noise, figure, main_height, start_page, talk_mode

from rfi_models.names import MASK_SCHEMES
from rfi_models.view.model_names import MASKING_CHOICES, trained_scheme
from rfi_models.view.panels import BOXES_CAPTION, reconstruction_grid, truth_boxes

selection = start_page("Reconstruction")
controls = overview_and_controls(selection)
image = selection.current.image
dae, mae = "dae" in selection.checkpoints, selection.checkpoints.get("mae")
with controls:
    noise_column, channel_column, scheme_column, _ = st.columns([2, 1, 2, 1])
    noise = noise_column.slider("DAE noise factor", 0.0, 1.0, dae_noise(selection), 0.05, key="noise_factor",
                                disabled=not dae,
                                help="Gaussian noise added before the DAE denoises, seeded by the sidebar's seed; "
                                "the default is the noise it was trained with")  # fmt: skip
    channel = 0
    if image.shape[0] > 1:
        channel = ("VV", "VH").index(channel_column.radio("Channel", ("VV", "VH"), index=1, horizontal=True,
                                                          key="recon_channel"))  # fmt: skip
    scheme = None
    if mae is not None:  # every MAE can hide either; the default follows the chosen checkpoint's training
        trained = trained_scheme(mae)
        scheme = scheme_column.radio("MAE masking", MASK_SCHEMES, index=MASK_SCHEMES.index(trained),
                                     format_func=MASKING_CHOICES.get, horizontal=True, key=f"mae_scheme_{mae.name}",
                                     help="random patches: MAE's own masking; rows of patches: whole range lines "
                                     f"hidden, the shape of RFI stripes. This MAE was trained on "
                                     f"{MASKING_CHOICES[trained]}.")  # fmt: skip


def masking_caption() -> str:
    """The MAE's masking for the caption: the scheme, the share it really hides and the training's when they differ."""
    if scheme is None:
        return ""
    hidden = selection.models["mae"].effective_mask_ratio(selection.mask_ratio, scheme)
    trained = trained_scheme(mae)
    share = [f"{hidden:.2f} of the image"] if abs(hidden - selection.mask_ratio) > 1e-9 else []
    training = f", trained on {MASKING_CHOICES[trained]}" if trained != scheme else ""
    return f", hiding {MASKING_CHOICES[scheme]} ({', '.join([*share, 'grey'])}){training}"


st.caption(
    f"{selection.current.label} · MAE mask ratio {selection.mask_ratio:.2f}{masking_caption()} · DAE noise "
    f"{noise:.2f} · seed {selection.seed}"
    + (f" · images show {('VV', 'VH')[channel]}, errors both channels" if image.shape[0] > 1 else "")
    + (BOXES_CAPTION if selection.current.has_boxes else "")
)
models = {selection.key(family): model for family, model in selection.models.items()}  # a SAR MAE by its masking
views = reconstructions(tuple(map(str, selection.checkpoints.values())), image, selection.mask_ratio,
                        selection.seed, noise, models, scheme)  # fmt: skip
# a SAR scene's overview (the whole image and its window, folded) sits above the grid: one control row less
chart = reconstruction_grid(image, views, channel, height=main_height(2 if selection.domain == "sar" else 1),
                            talk=talk_mode(), boxes=truth_boxes(selection.current.boxes,
                                                                selection.current.ignore_boxes))  # fmt: skip
figure(chart, "reconstruction_grid")
