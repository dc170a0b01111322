"""Latent space: the gallery's maps side by side with one legend (or overlaid), a clicked sample's image and
reconstructions beside them, the current image placed among its neighbours, and a box/lasso gallery below."""

import numpy as np
import streamlit as st
from cache import (
    cached_figure,
    checkpoint_identity,
    cluster_table,
    digest,
    latent_maps,
    placements,
    projection,
    reconstructions,
    representation,
)
from overview import overview_and_controls
from sidebar import checkpoints_folder
from widgets import (
    dae_noise,
    figure,
    image_strip_row,
    main_height,
    selectable_figure,
    start_page,
    talk_mode,
)

from rfi_models.analysis.latent import KNN_NEIGHBOURS, PROJECTIONS
from rfi_models.view.gallery import gallery_image
from rfi_models.view.latent_view import colour_options, colour_values, standardised
from rfi_models.view.representation_view import (
    LABEL_FRACTIONS,
    SAR_METRICS,
    SAR_READINGS,
    SAR_SETS,
    probe_scores,
    stale_checkpoints,
)
from rfi_models.view.viz import cka_heatmap, latent_figure, probe_depth_figure, thumbnail

MAX_SHOWN = 8
THUMBNAIL_WIDTH = {"mnist": 112, "sar": 200}  # px: a digit enlarged 4x; a SAR patch at 1/2.5

selection = start_page("Latent space", need_image=False)
controls = overview_and_controls(selection)
domain, families = selection.domain, list(selection.models)
checkpoints = tuple((family, str(path)) for family, path in selection.checkpoints.items())
folder = str(checkpoints_folder())
maps = latent_maps(checkpoints, domain, folder)

with controls:
    menu_column, colour_column, models_column, k_column = st.columns([1.2, 1.2, 2, 1.2])
    chosen_method = st.session_state.get("projection_method", "pca")
    with menu_column.popover(f"Projection: {chosen_method.upper()} {st.session_state.get('projection_dims', 2)}-D",
                             width="stretch"), st.form("projection"):  # fmt: skip
        st.markdown("Parameters apply when you press Compute (UMAP and t-SNE take seconds).")
        method = st.selectbox("Method", PROJECTIONS, format_func=str.upper, key="projection_method")
        dims = st.radio("Dimensions", (2, 3), horizontal=True, key="projection_dims")
        seed = st.number_input("Projection seed", 0, 10**6, 0, key="projection_seed")
        n_neighbors = st.slider("UMAP neighbours", 2, 100, 15, key="umap_neighbours")
        min_dist = st.slider("UMAP min. distance", 0.0, 0.99, 0.1, 0.01, key="umap_min_dist")
        perplexity = st.slider("t-SNE perplexity", 5.0, 100.0, 30.0, 1.0, key="tsne_perplexity")
        st.form_submit_button("Compute")
    params = {"seed": int(seed)}
    if method == "umap" and (n_neighbors, min_dist) != (15, 0.1):
        params |= {"n_neighbors": n_neighbors, "min_dist": min_dist}
    if method == "tsne" and perplexity != 30.0:
        params["perplexity"] = perplexity
    params_key, dims = tuple(sorted(params.items())), int(dims)

    colour_by = colour_column.selectbox("Colour by", colour_options(maps), key="colour_by")
    # One large map first (a page switch stays quick); add the others for linked maps side by side.
    shown = models_column.multiselect("Models", families, default=families[:1], format_func=selection.label,
                                      key="latent_models")  # fmt: skip
    k = k_column.slider("Neighbours of the current image", 1, 20, 5, key="neighbours_k")
if not shown:
    st.info("Choose at least one model.")
    st.stop()
coords = {f: projection(checkpoints, domain, folder, f, method, dims, params_key).coords for f in shown}
hover = [f"#{i}" + (f" · digit {maps.labels[row]}" if maps.labels is not None else
                    f" · RFI {maps.rfi_fraction[row]:.1%}") for row, i in enumerate(maps.index)]  # fmt: skip
placed, nearest = {}, {}
if selection.current is not None:
    placed, nearest = placements(checkpoints, domain, folder, method, dims, params_key, selection.current.image, k,
                                 selection.models)  # fmt: skip
    placed = {f: placed[f] for f in shown}

title, talk, height = f"{method.upper()} {dims}-D", talk_mode(), main_height()


def named(by_family: dict) -> dict:
    """The same values keyed by model key: the figure names a SAR MAE by its masking."""
    return {selection.key(family): value for family, value in by_family.items()}


def maps_figure():
    if colour_by == "model":
        shared, stars = standardised(coords, placed)
        return latent_figure(named(shared), hover, placed=named(stars), talk=talk, height=height,
                             title=f"{title}, models overlaid (standardised)")  # fmt: skip
    values = named({f: colour_values(maps, f, colour_by)[0] for f in shown})
    rings = named({f: nearest[f] for f in shown if f in nearest})
    return latent_figure(named(coords), hover, colours=values, colour_name=colour_by, placed=named(placed),
                         neighbours=rings, categorical=colour_values(maps, shown[0], colour_by)[1], title=title,
                         talk=talk, height=height)  # fmt: skip


current = digest(selection.current.image) if selection.current is not None else ""
key = ("latent", checkpoints, domain, method, dims, params_key, tuple(shown), colour_by, k, current, talk, height)
map_column, sample_column = st.columns([3, 1])
with map_column:
    chart = cached_figure(key, maps_figure)
    selected_rows = list(dict.fromkeys(selectable_figure(chart, "latent_maps", selectable=dims == 2)))


def sample_views(image: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(caption, picture) of an image and of every shown model's reconstruction of it."""
    views = reconstructions(tuple(str(selection.checkpoints[f]) for f in shown), image, selection.mask_ratio,
                            selection.seed, dae_noise(selection), {f: selection.models[f] for f in shown})  # fmt: skip
    return [("image", thumbnail(image))] + [(selection.label(v.family), thumbnail(v.reconstruction)) for v in views]


with sample_column:
    if len(selected_rows) == 1 or (not selected_rows and selection.current is not None):
        sample = gallery_image(domain, int(maps.index[selected_rows[0]])) if selected_rows else selection.current
        st.markdown(f"**{sample.label}**")
        captions, pictures = zip(*sample_views(sample.image), strict=True)
        st.image(list(pictures), caption=list(captions), width=THUMBNAIL_WIDTH[domain])
    more = "; draw a box or lasso for a gallery below." if dims == 2 else "; 3-D maps rotate and zoom."
    st.caption(f"Click a point to see that sample and its reconstructions here{more}")

if selection.current is not None:
    neighbours = st.expander(f"{selection.current.label}: nearest neighbours in each latent space",
                             key="latent_neighbours", on_change="rerun")  # fmt: skip
    if neighbours.open:  # drawn only when opened: a page switch should not wait for pictures below the fold
        with neighbours:
            for family in shown:
                panels = [("current", thumbnail(selection.current.image))]
                panels += [(f"#{maps.index[row]}", thumbnail(gallery_image(domain, int(maps.index[row])).image))
                           for row in nearest[family]]  # fmt: skip
                st.markdown(f"**{selection.label(family)}**")
                image_strip_row(panels, f"neighbours_{family}")

if len(selected_rows) > 1:
    rows = selected_rows
    st.subheader(f"Selection: {len(rows)} samples" + (f" (first {MAX_SHOWN} shown)" if len(rows) > MAX_SHOWN else ""))
    images = [gallery_image(domain, int(maps.index[row])) for row in rows[:MAX_SHOWN]]
    st.markdown("**originals**")
    image_strip_row([(f"#{maps.index[r]}", thumbnail(g.image)) for r, g in zip(rows, images, strict=False)],
                    "selection_originals")  # fmt: skip
    views = [sample_views(g.image)[1:] for g in images]  # [image][model]
    for position, family in enumerate(shown):
        st.markdown(f"**{selection.label(family)} reconstructions**")
        pictures = [(f"#{maps.index[r]}", per_model[position][1]) for r, per_model in zip(rows, views, strict=False)]
        image_strip_row(pictures, f"selection_{family}")

st.subheader("Cluster quality")
quality = {f: cluster_table(checkpoints, domain, folder, f, method, dims, params_key) for f in shown}
st.table(
    [
        {
            "model": selection.label(family),
            "silhouette (latent)": q["silhouette_latent"],
            "silhouette (map)": q["silhouette_projection"],
            f"kNN accuracy (k={KNN_NEIGHBOURS})": q["knn_accuracy"],
            "trustworthiness": q["trustworthiness"],
            "mean radius (latent)": np.mean(list(q["radius_latent"].values())),
            "mean radius (map)": np.mean(list(q["radius_projection"].values())),
        }
        for family, q in quality.items()
    ],
    hide_index=True,
)
st.caption(
    ("Classes are the digits. " if domain == "mnist" else "Classes are 'has RFI' and 'no RFI'. ")
    + "Radii are mean distances to the class centroid over the RMS spread of all points (comparable across models)."
)


def representation_section(study: dict) -> None:
    """The precomputed linear probes by depth (and, for MNIST, the CKA matrix) of the study's checkpoints."""
    current = {family: checkpoint_identity(path) for family, path in selection.checkpoints.items()}
    made_with = ", ".join(entry["file"] for entry in study["checkpoints"].values())
    if stale := stale_checkpoints(study, current):
        st.warning(
            f"Precomputed for {made_with}; the sidebar's {', '.join(f.upper() for f in stale)} checkpoint "
            "differs, so these figures are not of it. Recompute (minutes, not in the app): "
            f"`python -m train.evaluate.representation_study --only {domain} --checkpoints FOLDER`."
        )
    protocol = study["protocol"]
    if domain == "mnist":
        labels = st.radio("Training labels", list(LABEL_FRACTIONS), index=2, horizontal=True, key="probe_labels")
        scores, y_title = probe_scores(study, LABEL_FRACTIONS[labels]), "test accuracy"
        about = (f"{protocol['test_digits']} test digits; probes on {labels} of {protocol['train_digits']} training "
                 "digits")  # fmt: skip
    else:
        left, middle, right = st.columns(3)
        test_set = left.radio("Reported on", list(SAR_SETS), horizontal=True, key="probe_set")
        metric = middle.radio("Score", list(SAR_METRICS), horizontal=True, key="probe_metric")
        reading = right.radio("Tile features", list(SAR_READINGS), horizontal=True, key="probe_reading")
        scores = probe_scores(study, test_set=SAR_SETS[test_set], metric=SAR_METRICS[metric],
                              reading=SAR_READINGS[reading])  # fmt: skip
        y_title, about = metric, f"'this 20 x 100 px tile has visible RFI', {test_set}, features {reading}"
    key = ("probe_depth", domain, made_with, y_title, about, talk)
    figure(cached_figure(key, lambda: probe_depth_figure(study["stages"], scores, y_title, f"Linear probes: {about}",
                                                         talk=talk)), "probe_depth")  # fmt: skip
    st.caption(f"Standardised features, L2 logistic regression, strength C from {protocol['C_grid']} chosen on a "
               f"validation split, at most {protocol['max_iter']} iterations. Dashed: random-init copies and raw "
               f"pixels; dotted: the MAE's CLS token. Made with {made_with}.")  # fmt: skip
    if "cka" in study:
        cka = study["cka"]["stages"]
        chart = cached_figure(("cka", domain, made_with, talk), lambda: cka_heatmap(
            cka["labels"], cka["matrix"], f"Linear CKA between all stages ({protocol['test_digits']} test digits)",
            talk=talk, height=760))  # fmt: skip
        figure(chart, "cka")


study = representation(folder, domain)
probes_view = st.expander("Linear probes through the depth of each model" + (" and CKA" if domain == "mnist" else ""),
                          key="representation_view", on_change="rerun")  # fmt: skip
if probes_view.open:  # drawn only when opened, like the neighbours: a page switch should not wait for it
    with probes_view:
        if study is None or study.get("domain") != domain:
            st.info(
                f"No precomputed probes for {domain}: `python -m train.evaluate.representation_study --only {domain}`."
            )
        else:
            representation_section(study)
