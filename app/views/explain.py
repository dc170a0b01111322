"""Explain: models as rows, the MAE's attention rollout and CLS attention then each model's Captum attribution on
one relative scale, the maps compared by numbers beside them, and deletion curves below. In SAR, a second MAE
(the sidebar's) sits beside the first, each named by the masking it was trained with."""

import numpy as np
import streamlit as st
from cache import cached_figure, digest, explanations
from overview import overview_and_controls
from widgets import figure, main_height, start_page, talk_mode

from rfi_models.analysis.attribution import ATTRIBUTION_METHODS, TARGETS
from rfi_models.analysis.explain import ExplainSettings
from rfi_models.analysis.rollout import FUSIONS
from rfi_models.view.panels import BOXES_CAPTION, explanation_grid, truth_boxes
from rfi_models.view.viz import line_chart

selection = start_page("Explain")
controls = overview_and_controls(selection)
image, domain = selection.current.image, selection.domain
height, width = image.shape[1:]
mae = selection.models.get("mae")
depth, heads = (mae.config.depth, mae.config.num_heads) if mae is not None else (1, 1)

with controls:
    method_column, target_column, fusion_column, discard_column, block_column, head_column = st.columns(
        [1.4, 1.4, 0.8, 1.2, 0.8, 0.8]
    )
    method = method_column.selectbox("Attribution (all models)", ATTRIBUTION_METHODS, key="captum_method",
                                     format_func=lambda m: m.replace("_", " "))  # fmt: skip
    target = target_column.selectbox("Target", TARGETS, key="captum_target", format_func=lambda t: t.replace("_", " "))
    fusion = fusion_column.selectbox("Rollout heads", FUSIONS, key="fusion", disabled=mae is None)
    discard = discard_column.slider("Rollout discard ratio", 0.0, 0.95, 0.0, 0.05, key="discard", disabled=mae is None)
    block = block_column.number_input("CLS block", 0, depth - 1, depth - 1, key="block", disabled=mae is None)
    head = head_column.number_input("CLS head", 0, heads - 1, 0, key="head", disabled=mae is None)
    region = None
    if target == "region_error":
        rows_column, cols_column = st.columns(2)
        rows = rows_column.slider("Region rows", 0, height, (height // 4, 3 * height // 4), key="region_rows")
        cols = cols_column.slider("Region columns", 0, width, (width // 4, 3 * width // 4), key="region_cols")
        region = (rows, cols)
        if rows[0] == rows[1] or cols[0] == cols[1]:
            st.error("The region is empty: give it at least one row and one column.")
            st.stop()

settings = ExplainSettings(
    fusion, discard, int(block), int(head), method, target, region, selection.mask_ratio, selection.seed
)
with st.spinner("Computing explanations…"):
    paths = tuple(str(p) for p in selection.labelled.values())
    result = explanations(paths, image, selection.current.truth, settings, selection.labelled_models)

st.caption(
    f"{selection.current.label} · MAE mask ratio {selection.mask_ratio:.2f}, hidden patches grey"
    + (", each MAE hiding what it was trained on: random patches or rows of patches" if domain == "sar" else "")
    + " · maps relative to their 99.5th percentile"
    + (" · image: VH" if domain == "sar" else "")
    + (BOXES_CAPTION if selection.current.has_boxes else "")
)
grid_column, numbers_column = (st.container(), st.container()) if talk_mode() else st.columns([3, 1])
with grid_column:
    height, talk = main_height(2 if region else 1), talk_mode()
    boxes = truth_boxes(selection.current.boxes, selection.current.ignore_boxes)
    key = ("explain", paths, digest(image), digest(selection.current.truth), repr(settings), height, talk, boxes)
    chart = cached_figure(key, lambda: explanation_grid(image[-1], result.maps, height=height, talk=talk,
                                                        boxes=boxes))  # fmt: skip
    figure(chart, "explain_grid")
table = [
    {"model": family, "map": score.name, "ROC-AUC vs RFI mask": score.rfi_auc, "deletion change": score.deletion_change}
    for family, scores in result.scores.items()
    for score in scores
]
with numbers_column:
    st.subheader("Compared by numbers")
    st.dataframe(table, hide_index=True)
    if result.truth_known:
        best = max(table, key=lambda r: np.nan_to_num(r["ROC-AUC vs RFI mask"]))
        st.metric("Best map against the RFI mask", f"{best['model']} · {best['map']}")
st.caption(
    "ROC-AUC of each map against the true RFI mask (synthetic SAR only; 0.5 = chance). Deletion change: the mean "
    "change of the target as the most-explained pixels are zeroed, 0 to 100 %; higher means the map found what "
    "drives the target sooner. 'random' is the same with a random map, for reference."
)
deletion = st.expander("Deletion curves", key="deletion_curves_open", on_change="rerun")
if deletion.open:  # drawn only when opened: a page switch should not wait for a figure below the fold
    curves = {
        f"{family} · {score.name}": (score.fractions, score.deletion)
        for family, scores in result.scores.items()
        for score in scores
    }
    with deletion:
        figure(line_chart(curves, "share of pixels removed", target.replace("_", " "), "", talk=talk_mode()),
               "deletion_curves")  # fmt: skip
