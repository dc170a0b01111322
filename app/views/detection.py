"""RFI detection: score maps of every SAR model and the baseline, thresholds, masks, metrics and downloads."""

import hashlib

import numpy as np
import streamlit as st
from cache import detector
from scene import what_was_read
from sidebar import checkpoints_folder
from widgets import image_row, start_page

from rfi_models.analysis import METHODS
from rfi_models.analysis.tiling import count_tiles
from rfi_models.export import FORMATS, file_bytes
from rfi_models.io import geotiff_bytes
from rfi_models.metrics import rfi_pixel_metrics
from rfi_models.viz import display_stride, heat_colours, mask_overlay, to_uint8

selection = start_page("RFI detection", need_image=False)
if selection.domain != "sar":
    st.info("RFI detection works on dual-polarisation SAR: switch the domain to SAR in the sidebar.")
    st.stop()

scene = selection.scene
if scene is None:
    st.info("Choose an image in the sidebar: a gallery patch, a generated one with known RFI, a real Sentinel-1 "
            "quick-look, or your upload of any size (the whole image is scored).")  # fmt: skip
    st.stop()
image, truth, label = scene.image, scene.truth, scene.label
georef = scene.info.georef if scene.info else None

left, right = st.columns(2)
names = ["baseline", *selection.models]
chosen = left.multiselect("Detectors", names, default=names, format_func=str.upper, key="detectors")
method = right.selectbox("Model score", METHODS, index=METHODS.index("rfi"), key="detection_method",
                         help="rfi: the residual filtered by RFI's structure; error: squared error; "
                         "ssim: local 1 - SSIM in a 20 x 100 window")  # fmt: skip
height, width = image.shape[1:]
st.caption(f"{label} · {height} x {width} px" + (" · true RFI mask known" if truth is not None else ""))
what_was_read(scene)

digest = hashlib.sha1(image.tobytes()).hexdigest()
scores_of = {k: v for k, v in st.session_state.get("detection_scores", {}).items() if k[-1] == digest}
st.session_state["detection_scores"] = scores_of  # this session's scores of the current image only
stride = display_stride(image.shape)
vv, vh = to_uint8(image[0, ::stride, ::stride]), to_uint8(image[1, ::stride, ::stride])
if stride > 1:
    st.caption(f"Pictures are shown at 1/{stride} resolution; downloads are at full resolution.")

valid = np.any(image != 0, axis=0)


def mask_bytes(mask: np.ndarray, fmt: str) -> bytes:
    """A mask download; a TIFF carries the input's georeferencing (a GeoTIFF) when it has one."""
    return geotiff_bytes(mask, georef) if fmt == "tif" else file_bytes(mask, fmt)

  # no-data pixels are never counted
rows = []
for name in chosen:
    source_path = "baseline" if name == "baseline" else str(selection.checkpoints[name])
    score_method = "" if name == "baseline" else method  # the baseline has one score of its own
    found = detector(source_path, score_method, str(checkpoints_folder()))
    key = (source_path, score_method, digest)
    if key not in scores_of:
        tiles = count_tiles((height, width), found.tile)
        bar = st.progress(0.0, text=f"{name.upper()}: scoring {tiles} tiles") if tiles > 1 else None
        done = [0]

        def advance(n: int, bar=bar, done=done, tiles=tiles) -> None:
            done[0] += n
            bar.progress(min(done[0] / tiles, 1.0), text=f"{done[0]} / {tiles} tiles")

        scores_of[key] = found.score(image, progress=advance if bar else None)
        if bar:
            bar.empty()
    scores = scores_of[key]

    st.subheader(f"{name.upper()}" + (f" ({method} score)" if name != "baseline" else " (row statistics of VH)"))
    top = float(max(np.percentile(scores, 99.9), 2 * found.threshold, 1e-6))
    threshold = st.slider(f"Threshold (calibrated default {found.threshold:.4g})", 0.0, top,
                          float(min(found.threshold, top)), top / 400, format="%.4g",
                          key=f"threshold_{source_path}_{score_method}")  # fmt: skip
    mask = scores >= threshold
    panels = [
        ("score", heat_colours(scores[::stride, ::stride])),
        ("mask on VV", mask_overlay(vv, mask[::stride, ::stride])),
        ("mask on VH", mask_overlay(vh, mask[::stride, ::stride])),
    ]
    if truth is not None:
        panels.append(("true RFI", mask_overlay(vh, truth[::stride, ::stride], colour=(0, 255, 0))))
    image_row(panels, f"detection_{name}", min_columns=4)
    columns = st.columns(len(FORMATS) + 1)
    for column, fmt in zip(columns, FORMATS, strict=False):
        column.download_button(f"Mask .{fmt}", lambda fmt=fmt, mask=mask: mask_bytes(mask, fmt),
                               f"rfi_mask_{name}.{fmt}", key=f"mask_{name}_{fmt}")  # fmt: skip
    columns[-1].download_button("Scores .npy", lambda scores=scores: file_bytes(scores, "npy"),
                                f"rfi_scores_{name}.npy", key=f"scores_{name}")  # fmt: skip
    flagged = float(mask[valid].mean()) if mask.any() else 0.0
    row = {"detector": name.upper(), "threshold": threshold, "flagged share": flagged}
    if truth is not None:
        quality = rfi_pixel_metrics(scores, truth, image, threshold)
        row |= {k: quality[k] for k in ("roc_auc", "average_precision", "best_f1", "iou", "precision", "recall")}
    rows.append(row)

if rows:
    st.subheader("Summary" + (" against the true RFI mask" if truth is not None else ""))
    st.dataframe(rows, hide_index=True)
    rfi = scene.info.rfi if scene.info else None
    if rfi is not None:
        st.markdown(f"**The processor's own RFI annotation**, beside ours: {rfi.summary()}")
    if truth is not None and not truth.any():
        st.caption("This image has no RFI: ROC-AUC and precision are undefined; every flagged pixel is a false alarm.")
