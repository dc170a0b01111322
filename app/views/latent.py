"""Latent space: PCA/UMAP/t-SNE maps of the gallery, selections, the current image placed among its neighbours."""

import numpy as np
import streamlit as st
from cache import cluster_table, latent_maps, projection
from scene import scene_overview
from sidebar import checkpoints_folder
from widgets import image_row, selectable_figure, start_page, talk_mode

from rfi_models.analysis import extract_latents, reconstruct_all
from rfi_models.analysis.latent import PROJECTIONS
from rfi_models.gallery import gallery_image
from rfi_models.viz import latent_scatter, thumbnail

MAX_SHOWN = 8

selection = start_page("Latent space", need_image=False)
scene_overview(selection)
domain, families = selection.domain, list(selection.models)
checkpoints = tuple((family, str(path)) for family, path in selection.checkpoints.items())
folder = str(checkpoints_folder())

with st.form("projection"):
    st.markdown("**Projection**: parameters apply when you press Compute (UMAP and t-SNE take seconds).")
    left, middle, right = st.columns(3)
    method = left.selectbox("Method", PROJECTIONS, format_func=str.upper, key="projection_method")
    dims = middle.radio("Dimensions", (2, 3), horizontal=True, key="projection_dims")
    seed = right.number_input("Projection seed", 0, 10**6, 0, key="projection_seed")
    left, middle, right = st.columns(3)
    n_neighbors = left.slider("UMAP neighbours", 2, 100, 15, key="umap_neighbours")
    min_dist = middle.slider("UMAP min. distance", 0.0, 0.99, 0.1, 0.01, key="umap_min_dist")
    perplexity = right.slider("t-SNE perplexity", 5.0, 100.0, 30.0, 1.0, key="tsne_perplexity")
    st.form_submit_button("Compute")
params = {"seed": int(seed)}
if method == "umap" and (n_neighbors, min_dist) != (15, 0.1):
    params |= {"n_neighbors": n_neighbors, "min_dist": min_dist}
if method == "tsne" and perplexity != 30.0:
    params["perplexity"] = perplexity
params_key = tuple(sorted(params.items()))

maps = latent_maps(checkpoints, domain, folder)
known = {"digit": maps.labels} if domain == "mnist" else {"RFI fraction": maps.rfi_fraction}
left, middle, right = st.columns(3)
colour_by = left.selectbox("Colour by", [*known, "reconstruction error", "model"], key="colour_by")
shown = middle.multiselect("Models", families, default=families, format_func=str.upper, key="latent_models")
k = right.slider("Neighbours of the current image", 1, 20, 5, key="neighbours_k")
if not shown:
    st.info("Choose at least one model.")
    st.stop()
projections = {f: projection(checkpoints, domain, folder, f, method, int(dims), params_key) for f in shown}
hover = [f"#{i}" + (f" · digit {maps.labels[row]}" if maps.labels is not None else
                    f" · RFI {maps.rfi_fraction[row]:.1%}") for row, i in enumerate(maps.index)]  # fmt: skip

placed, nearest = {}, {}
if selection.current is not None:
    for family in shown:
        latent = extract_latents(selection.models[family], selection.current.image[None])
        placed[family] = projections[family].place(latent)
        nearest[family] = projections[family].nearest(latent, k)[0][0]


def colour_of(family: str) -> tuple[np.ndarray, bool]:
    """Colour values of the map's samples and whether they are categories."""
    if colour_by == "reconstruction error":
        return maps.maps[family].error, False
    values = known[colour_by]
    return values, domain == "mnist"


title = f"{method.upper()} {dims}-D"
selected_rows: list[int] = []
if colour_by == "model":  # every model in one map, each standardised so their spreads compare
    coords, owners, ids, stars = [], [], [], []
    for family in shown:
        points = projections[family].coords
        centre, spread = points.mean(axis=0), points.std(axis=0).mean()
        coords.append((points - centre) / spread)
        owners += [family.upper()] * len(points)
        ids.append(np.arange(len(points)))
        if family in placed:
            stars.append((placed[family] - centre) / spread)
    chart = latent_scatter(
        np.concatenate(coords), np.asarray(owners), "model", hover * len(shown), categorical=True,
        title=f"{title}, models overlaid (standardised)", placed=np.concatenate(stars) if stars else None,
        sample_ids=np.concatenate(ids), talk=talk_mode(),
    )  # fmt: skip
    selected_rows = selectable_figure(chart, "latent_all", selectable=int(dims) == 2)
else:
    columns = st.columns(1 if talk_mode() else len(shown))
    for column, family in zip(columns * len(shown), shown, strict=False):
        values, categorical = colour_of(family)
        chart = latent_scatter(
            projections[family].coords, values, colour_by, hover, categorical=categorical,
            title=f"{family.upper()}: {title}", placed=placed.get(family), neighbours=nearest.get(family),
            talk=talk_mode(),
        )  # fmt: skip
        with column:
            selected_rows += selectable_figure(chart, f"latent_{family}", selectable=int(dims) == 2)
if int(dims) == 3:
    st.caption("Box and lasso selection work on 2-D maps; 3-D maps can be rotated and zoomed.")

if selection.current is not None:
    st.subheader(f"{selection.current.label}: nearest neighbours in each latent space")
    for family in shown:
        panels = [("current", thumbnail(selection.current.image))]
        panels += [(f"#{maps.index[row]}", thumbnail(gallery_image(domain, int(maps.index[row])).image))
                   for row in nearest[family]]  # fmt: skip
        st.markdown(f"**{family.upper()}**")
        image_row(panels, f"neighbours_{family}", min_columns=k + 1)

if selected_rows:
    rows = list(dict.fromkeys(selected_rows))
    st.subheader(f"Selection: {len(rows)} samples" + (f" (first {MAX_SHOWN} shown)" if len(rows) > MAX_SHOWN else ""))
    images = [gallery_image(domain, int(maps.index[row])) for row in rows[:MAX_SHOWN]]
    st.markdown("**originals**")
    image_row([(f"#{maps.index[r]}", thumbnail(g.image)) for r, g in zip(rows, images, strict=False)],
              "selection_originals", min_columns=MAX_SHOWN)  # fmt: skip
    models = {family: selection.models[family] for family in shown}
    views = [reconstruct_all(models, g.image, selection.mask_ratio, selection.seed) for g in images]  # [image][model]
    for position, family in enumerate(shown):
        st.markdown(f"**{family.upper()} reconstructions**")
        pictures = [(f"#{maps.index[r]}", thumbnail(reconstructions[position].reconstruction))
                    for r, reconstructions in zip(rows, views, strict=False)]  # fmt: skip
        image_row(pictures, f"selection_{family}", min_columns=MAX_SHOWN)
else:
    st.caption("Draw a box or lasso on a 2-D map to see the selected samples and their reconstructions.")

st.subheader("Cluster quality")
quality = {f: cluster_table(checkpoints, domain, folder, f, method, int(dims), params_key) for f in shown}
st.dataframe(
    [
        {
            "model": family.upper(),
            "silhouette (latent)": q["silhouette_latent"],
            "silhouette (map)": q["silhouette_projection"],
            "kNN accuracy (k=5)": q["knn_accuracy"],
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
