"""Explain: MAE attention rollout next to Captum attributions of all three models, compared by numbers."""

import numpy as np
import streamlit as st
from cache import explanations
from scene import scene_overview
from widgets import figure, image_row, start_page, talk_mode

from rfi_models.analysis.explain import ATTRIBUTION_METHODS, FUSIONS, TARGETS, ExplainSettings
from rfi_models.viz import heat_colours, line_chart, nan_to_grey, overlay, to_uint8

selection = start_page("Explain")
scene_overview(selection)
image, domain = selection.current.image, selection.domain
height, width = image.shape[1:]

rollout_column, captum_column = st.columns(2)
with rollout_column:
    st.subheader("Attention rollout (MAE)")
    fusion = st.selectbox("Head fusion", FUSIONS, key="fusion")
    discard = st.slider("Discard ratio", 0.0, 0.95, 0.0, 0.05, key="discard")
    mae = selection.models.get("mae")
    depth, heads = (mae.config.depth, mae.config.num_heads) if mae is not None else (1, 1)
    block = st.number_input("CLS attention: block", 0, depth - 1, depth - 1, key="block")
    head = st.number_input("CLS attention: head", 0, heads - 1, 0, key="head")
with captum_column:
    st.subheader("Captum attributions (all models)")
    method = st.selectbox("Method", ATTRIBUTION_METHODS, key="captum_method",
                          format_func=lambda m: m.replace("_", " "))  # fmt: skip
    target = st.selectbox("Target", TARGETS, key="captum_target", format_func=lambda t: t.replace("_", " "))
    region = None
    if target == "region_error":
        rows = st.slider("Region rows", 0, height, (height // 4, 3 * height // 4), key="region_rows")
        cols = st.slider("Region columns", 0, width, (width // 4, 3 * width // 4), key="region_cols")
        region = (rows, cols)
opacity = st.slider("Overlay opacity", 0.0, 1.0, 0.6, 0.05, key="opacity")

settings = ExplainSettings(
    fusion, discard, int(block), int(head), method, target, region, selection.mask_ratio, selection.seed
)
if settings.region is not None and (region[0][0] == region[0][1] or region[1][0] == region[1][1]):
    st.error("The region is empty: give it at least one row and one column.")
    st.stop()
with st.spinner("Computing explanations…"):
    paths = tuple(str(p) for p in selection.checkpoints.values())
    result = explanations(paths, image, selection.current.truth, settings, selection.models)

background = to_uint8(image[-1])  # the digit, or VH where RFI is strongest
st.caption(
    f"{selection.current.label} · MAE mask ratio {selection.mask_ratio:.2f} (hidden patches grey) · "
    f"overlay on {'VH' if domain == 'sar' else 'the digit'}"
)
for family, maps in result.maps.items():
    st.subheader(family.upper())
    panels = [
        (name, overlay(background, nan_to_grey(heat_colours(values), values), opacity)) for name, values in maps.items()
    ]
    image_row(panels, f"explain_{family}", min_columns=4)

st.subheader("Compared by numbers")
table = [
    {
        "model": family,
        "map": score.name,
        "ROC-AUC vs RFI mask": score.rfi_auc,
        "deletion change": score.deletion_change,
    }
    for family, scores in result.scores.items()
    for score in scores
]
st.dataframe(table, hide_index=True)
st.caption(
    "ROC-AUC of each map against the true RFI mask (synthetic SAR only; 0.5 = chance). Deletion change: the mean "
    "change of the target as the most-explained pixels are zeroed, 0 to 100 %; higher means the map found what "
    "drives the target sooner. 'random' is the same with a random map, for reference."
)
if result.truth_known:
    st.metric("Best map against the RFI mask", max(table, key=lambda r: np.nan_to_num(r["ROC-AUC vs RFI mask"]))["map"])
curves = {
    f"{family} · {score.name}": (score.fractions, score.deletion)
    for family, scores in result.scores.items()
    for score in scores
}
figure(line_chart(curves, "share of pixels removed", target.replace("_", " "), "Deletion curves", talk=talk_mode()),
       "deletion_curves")  # fmt: skip
