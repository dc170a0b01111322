"""RFI detection: every detector's mask (or score) over VH in one grid with the true RFI outlined, thresholds in
one row, downloads in one menu, how many detectors flag each pixel, and the numbers against the truth. The MAEs
(the sidebar's and its second one) sit side by side, each named by the masking it was trained with."""

import threading

import numpy as np
import streamlit as st
from cache import detection_rows, detector, session_scores
from overview import what_was_read
from sidebar import checkpoints_folder
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from widgets import controls_area, figure, main_height, start_page, switch_to_sar, talk_mode

from rfi_models import CheckpointError
from rfi_models.detection.agreement import agreement_count, pairwise_iou
from rfi_models.detection.anomaly import SSIM_SCORE_WINDOW
from rfi_models.detection.controls import CONTROLS
from rfi_models.detection.detector import DETECTOR_METHODS, NO_MODEL_SOURCES, default_detector
from rfi_models.detection.tiling import count_tiles
from rfi_models.io import geotiff_bytes
from rfi_models.view.export import FORMATS, file_bytes
from rfi_models.view.model_names import display_name, file_label
from rfi_models.view.panels import BOXES_CAPTION, DISPLAY_SIDE, MAX_STRIPES_DRAWN, detection_grid, truth_boxes
from rfi_models.view.viz import display_stride

selection = start_page("RFI detection", need_image=False)
if selection.domain != "sar":
    switch_to_sar("RFI detection works on dual-polarisation SAR (VV and VH).")
    st.stop()

scene = selection.scene  # the sidebar's whole image, any size
if scene is None:
    st.info("Choose an image in the sidebar: a gallery patch, a generated one with known RFI, a real Sentinel-1 "
            "quick-look, or your upload of any size (the whole image is scored).")  # fmt: skip
    st.stop()
image, truth, label = scene.image, scene.truth, scene.label
georef = scene.info.georef if scene.info else None
controls = controls_area()
with controls:
    detectors_column, method_column, show_column, menu_column = st.columns([3.4, 1, 1, 0.9])
    names = ["baseline", *selection.labelled, *CONTROLS]  # the controls score a residual without any model
    chosen = detectors_column.multiselect("Detectors", names, default=names, format_func=display_name, key="detectors",
                                          help="control-input: the residual is the input itself; control-median: "
                                          "the input minus its per-patch median; no model in either")  # fmt: skip
    ssim_window = " x ".join(map(str, SSIM_SCORE_WINDOW))
    recorded = default_detector(checkpoints_folder())[1]  # the evaluation's best method on validation
    method = method_column.selectbox("Score", DETECTOR_METHODS, key="detection_method",
                                     index=DETECTOR_METHODS.index(recorded if recorded in DETECTOR_METHODS else "rfi"),
                                     help="of the models and controls. rfi: the residual filtered by RFI's structure; "
                                     f"error: squared error; ssim: local 1 - SSIM in a {ssim_window} window; learned: "
                                     "the secondary classifier of `python -m train.evaluate`")  # fmt: skip
    show = show_column.radio("Show", ("mask", "score"), horizontal=True, key="detection_show",
                             help="mask: each mask over VH; score: score / threshold (1: at threshold)")  # fmt: skip
    downloads = menu_column.popover("Downloads", width="stretch")

if not chosen:
    st.info("Choose at least one detector.")
    st.stop()


def mask_bytes(mask: np.ndarray, fmt: str) -> bytes:
    """A mask download; a TIFF carries the input's georeferencing (a GeoTIFF) when it has one."""
    return geotiff_bytes(mask, georef) if fmt == "tif" else file_bytes(mask, fmt)


score_keys = {name: (name if name in NO_MODEL_SOURCES else str(selection.labelled[name]), method) for name in chosen}


def scores_of(name: str):
    """The detector `name` and its score map of the image (with a progress bar while a scene is tiled)."""
    source = score_keys[name][0]
    try:
        found = detector(source, "" if name == "baseline" else method, str(checkpoints_folder()))
    except CheckpointError as err:  # e.g. no learned classifier recorded for a checkpoint the evaluation never saw
        st.warning(f"{display_name(name)} is left out: {err}")
        return None
    tiles = count_tiles(image.shape[1:], found.tile)
    bar = st.progress(0.0, text=f"{display_name(name)}: scoring {tiles} tiles") if tiles > 1 else None
    done, run = [0], get_script_run_ctx()

    def advance(n: int) -> None:  # called from the tiling's worker thread: it draws into this page's run
        add_script_run_ctx(threading.current_thread(), run)
        done[0] += n
        bar.progress(min(done[0] / tiles, 1.0), text=f"{display_name(name)}: {done[0]} / {tiles} tiles")

    scores = session_scores(found, score_keys[name], image, advance if bar else None)
    if bar:
        bar.empty()
    return found, scores


found_scores = {name: found for name in chosen if (found := scores_of(name)) is not None}
if not found_scores:
    st.stop()
thresholds = {}
for column, (name, (found, scores)) in zip(controls.columns(len(found_scores)), found_scores.items(), strict=True):
    top = float(max(np.percentile(scores, 99.9), 2 * found.threshold, 1e-6))
    thresholds[name] = column.slider(f"{display_name(name)} threshold", 0.0, top, float(min(found.threshold, top)),
                                     top / 400, format="%.4g", key=f"threshold_{name}_{method}",
                                     help=f"calibrated default {found.threshold:.4g}")  # fmt: skip
masks = {name: scores >= thresholds[name] for name, (_, scores) in found_scores.items()}
with downloads:
    for name, (_, scores) in found_scores.items():
        for fmt in FORMATS:
            st.download_button(f"{display_name(name)} mask .{fmt}", lambda m=masks[name], f=fmt: mask_bytes(m, f),
                               f"rfi_mask_{file_label(name)}.{fmt}", key=f"mask_{name}_{fmt}",
                               width="stretch")  # fmt: skip
        st.download_button(f"{display_name(name)} scores .npy", lambda s=scores: file_bytes(s, "npy"),
                           f"rfi_scores_{file_label(name)}.npy", key=f"scores_{name}", width="stretch")  # fmt: skip

height, width = image.shape[1:]
stride = display_stride(image.shape, DISPLAY_SIDE)
outlined = " · true RFI outlined in green" if truth is not None else ""
drawn_truth = BOXES_CAPTION if scene.has_boxes else outlined
st.caption(f"{label} · {height} x {width} px · VH{drawn_truth} · each detector's stripes in cyan (at most "
           f"{MAX_STRIPES_DRAWN}, the strongest)"
           + (f" · shown every {stride} pixels (downloads: full resolution)" if stride > 1 else ""))  # fmt: skip
score_maps = {name: scores for name, (_, scores) in found_scores.items()}
rows = tuple((name, score_keys[name], thresholds[name]) for name in found_scores)
summary_rows, stripes = detection_rows(rows, image, truth, scene.ignore, scene.boxes, scene.ignore_boxes, score_maps)
results = {name: (scores / max(thresholds[name], 1e-12), masks[name]) for name, (_, scores) in found_scores.items()}
chart = detection_grid(image[1], results, agreement_count(masks), truth, show=show, height=main_height(2),
                       talk=talk_mode(), columns=4 if len(results) > 4 else 3,
                       boxes=truth_boxes(scene.boxes, scene.ignore_boxes), stripes=stripes)  # fmt: skip
figure(chart, "detection_grid")
what_was_read(scene)  # under the grid: above it, its lines pushed the grid below a 1920 x 1080 screen

summary, agreement = st.columns([3, 2])
summary.markdown("**Against the true RFI mask**" if truth is not None else "**Detectors**")
summary.dataframe(summary_rows, hide_index=True)
if scene.has_boxes:
    summary.caption("Truth: the pixels of the RFI boxes, the ignore boxes left out. A stripe finds a box when their "
                    "IoU is at least 0.5 (COCO, pycocotools); dashed stripes fill their boxes only partly, so pixel "
                    "recall understates what the stripes find.")  # fmt: skip
elif truth is not None and scene.ignore is not None and scene.ignore.any():
    summary.caption("Truth: the visible RFI; pixels the RFI changed invisibly are left out of the metrics.")
if scene.info is not None and scene.info.rfi is not None:
    summary.markdown(f"**The processor's own RFI annotation**, beside ours: {scene.info.rfi.summary()}")
if truth is not None and not truth.any():
    summary.caption("This image has no RFI: ROC-AUC and precision are undefined; every flagged pixel is a false alarm.")
agreement.markdown("**Agreement** (IoU of the masks)")
iou = pairwise_iou(masks)
agreement.dataframe([{"detector": display_name(a), **{display_name(b): v for b, v in row.items()}}
                     for a, row in iou.items()],
                    hide_index=True)  # fmt: skip
