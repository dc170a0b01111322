"""Everything the app keeps between reruns. Models, detectors and maps are loaded once per process
(`st.cache_resource`) and shared by every session, so they are never mutated; results of computations are
cached per input (`st.cache_data`). Arguments starting with "_" are not hashed: the checkpoint paths passed
beside them are the cache key."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

import rfi_models
from rfi_models import CheckpointError
from rfi_models.analysis import Projection, cluster_quality, extract_latents, reconstruct_all, weight_statistics
from rfi_models.analysis.explain import ExplainSettings, explain_models
from rfi_models.analysis.latent_maps import LatentMaps, live_latent_maps, projection_of, read_latent_maps
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.artifacts.training_log import read_training_log
from rfi_models.data.quicklook_scale import valid_pixels
from rfi_models.detection.agreement import box_summary, detection_summary
from rfi_models.detection.detector import Detector, recorded_baseline_threshold
from rfi_models.detection.stripes import find_stripes
from rfi_models.names import checkpoint_name, latent_maps_name
from rfi_models.view.gallery import CurrentImage, uploaded_image
from rfi_models.view.model_names import display_name
from rfi_models.view.representation_view import read_representation, representation_file
from rfi_models.view.viz import training_curves, weight_histograms
from rfi_models.view.window import Window, baseline_window


@st.cache_resource(show_spinner=False)
def shared_model(path: str):
    """One model per checkpoint and process, shared by every session: never mutated."""
    return rfi_models.load_checkpoint(path)


@st.cache_data(max_entries=8, show_spinner="Reading the upload…")
def upload(file_id: str, name: str, domain: str, _data: bytes) -> CurrentImage:
    """An upload read once per upload (`file_id` is Streamlit's id of one uploaded file)."""
    return uploaded_image(_data, name, domain)


@st.cache_data(max_entries=16, show_spinner="Finding the most RFI-like window…")
def default_window(digest: str, size: tuple[int, int], _image: np.ndarray) -> Window:
    """The baseline detector's best window of an image, keyed by a digest of it (hashing a whole scene is slow)."""
    return baseline_window(_image, size)


@st.cache_data(max_entries=32, show_spinner=False)
def reconstructions(checkpoints: tuple[str, ...], image: np.ndarray, mask_ratio: float, seed: int, noise: float,
                    _models, mask_scheme: str | None = None) -> list:  # fmt: skip
    """Every model's reconstruction of `image` (`analysis.reconstruct_all`), once per input and setting; the MAE
    hides `mask_scheme` ("random" patches or "rows" of patches; None: the scheme it was trained with)."""
    return reconstruct_all(_models, image, mask_ratio, seed, noise, mask_scheme)


@st.cache_data(max_entries=16, show_spinner=False)
def explanations(checkpoints: tuple[str, ...], image: np.ndarray, truth, settings: ExplainSettings, _models):
    return explain_models(_models, image, truth, settings)


@st.cache_resource(show_spinner="Calibrating the detector on synthetic validation patches…")
def detector(source: str, method: str, folder: str) -> Detector:
    """The detector of a SAR checkpoint path or a no-model control, with the threshold (and, for `learned`, the
    classifier) recorded by the evaluation, or the baseline (source == 'baseline') with its recorded threshold
    (calibrated here when there is none)."""
    if source == "baseline":
        return Detector.baseline(recorded_baseline_threshold(folder))
    return Detector.create(source, method, folder=None if Path(source).suffix else folder)


@st.cache_resource(show_spinner="Loading the latent maps…")
def latent_maps(checkpoints: tuple[tuple[str, str], ...], domain: str, folder: str) -> LatentMaps:
    """The gallery's latent maps for (family, checkpoint path) pairs: the precomputed file when every checkpoint is
    a shipped one it covers, else computed here once (latents and errors; projections on demand)."""
    stored_path = Path(folder) / latent_maps_name(domain)
    try:
        stored = read_latent_maps(stored_path) if stored_path.exists() else None
    except CheckpointError:  # changed since the manifest was written: not trusted, recomputed instead
        stored = None
    if stored is not None and all(
        Path(path).name == checkpoint_name(family, domain) and family in stored.maps for family, path in checkpoints
    ):
        return stored
    return live_latent_maps({family: shared_model(path)[0] for family, path in checkpoints}, domain)


@st.cache_resource(show_spinner="Computing the projection…", max_entries=64)
def projection(
    checkpoints: tuple[tuple[str, str], ...], domain: str, folder: str, family: str, method: str, dims: int,
    params: tuple,
) -> Projection:  # fmt: skip
    return projection_of(latent_maps(checkpoints, domain, folder).maps[family], method, dims, dict(params))


@st.cache_data(max_entries=64, show_spinner=False)
def placements(
    checkpoints: tuple[tuple[str, str], ...], domain: str, folder: str, method: str, dims: int, params: tuple,
    image: np.ndarray, k: int, _models: dict,
) -> tuple[dict, dict]:  # fmt: skip
    """A new image placed into each model's map ([1, dims] coordinates) and the rows of its k nearest samples."""
    placed, nearest = {}, {}
    for family, _ in checkpoints:
        found = projection(checkpoints, domain, folder, family, method, dims, params)
        latent = extract_latents(_models[family], image[None])
        placed[family], nearest[family] = found.place(latent), found.nearest(latent, k)[0][0]
    return placed, nearest


@st.cache_data(max_entries=64, show_spinner=False)
def cluster_table(checkpoints, domain: str, folder: str, family: str, method: str, dims: int, params: tuple) -> dict:
    maps = latent_maps(checkpoints, domain, folder)
    labels = maps.labels if maps.labels is not None else (maps.rfi_fraction > 0).astype(int)
    coords = projection(checkpoints, domain, folder, family, method, dims, params).coords
    return cluster_quality(maps.maps[family].latents, coords, labels)


@st.cache_data(max_entries=64, show_spinner=False)
def detection_rows(detectors: tuple[tuple[str, tuple, float], ...], image: np.ndarray, truth, ignore,
                   boxes: tuple, ignore_boxes: tuple, _scores: dict) -> tuple[list, dict]:  # fmt: skip
    """Summary rows (`detection.agreement.detection_summary`) of (name, score key, threshold) detectors and each
    detector's stripes (`detection.stripes.find_stripes`), once per image and thresholds: the metrics against the
    truth take a fraction of a second per detector. Rows name detectors by `view.model_names.display_name`. Each
    row counts its stripes and, when there are truth boxes, scores them (`detection.agreement.box_summary`)."""
    rows, stripes = [], {}
    valid = valid_pixels(image)
    for name, _, threshold in detectors:
        stripes[name] = find_stripes(_scores[name], threshold, valid)
        row = detection_summary(name, _scores[name], threshold, image, truth, ignore) | {"stripes": len(stripes[name])}
        row["detector"] = display_name(name)  # a SAR MAE by its masking: "MAE · rows"
        rows.append(row | (box_summary(stripes[name], boxes, ignore_boxes) if boxes else {}))
    return rows, stripes


def digest(image: np.ndarray | None) -> str:
    """A short fingerprint of an image, for cache keys built by hand."""
    return "" if image is None else hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]


def session_scores(found: Detector, key: tuple, image: np.ndarray, progress=None) -> np.ndarray:
    """The detector's score map of `image`, computed once per (detector `key`, image) and kept in this session:
    score maps of a large scene are large and the session's own, so only the current image's are kept."""
    fingerprint = digest(image)
    kept = st.session_state.get("detection_scores", {})
    if kept.get("digest") != fingerprint:
        kept = st.session_state["detection_scores"] = {"digest": fingerprint}
    if key not in kept:
        kept[key] = found.score(image, progress=progress)
    return kept[key]


@st.cache_resource(show_spinner=False, max_entries=32)
def model_figures(path: str, log: str, family: str, talk: bool) -> tuple:
    """A checkpoint's training curves (None without a log), weight histograms and per-layer weight rows, built
    once per checkpoint and mode and shared by every session (never mutated)."""
    rows = weight_statistics(shared_model(path)[0])
    curves = training_curves(read_training_log(log), f"{family.upper()} training", talk) if Path(log).exists() else None
    return curves, weight_histograms(rows, f"{family.upper()} weights per layer", talk), rows


@st.cache_resource(max_entries=32, show_spinner=False)
def cached_figure(key: tuple, _build):
    """A page's figure, built by `_build()` once per `key` (everything the figure depends on, hashable) and shared
    by every session: never mutated (Streamlit serialises a copy). Building and validating a figure of thousands
    of points takes a tenth of a second that a page switch would otherwise pay every time."""
    return _build()


def modified(path: str | Path) -> float:
    """A file's modification time (0 when it is missing), to key cached readers so that a rewritten file is reread."""
    try:
        return Path(path).stat().st_mtime
    except OSError:
        return 0.0


@st.cache_resource(max_entries=8, show_spinner=False)
def _representation(folder: str, domain: str, mtime: float) -> dict | None:
    return read_representation(folder, domain)


def representation(folder: str, domain: str) -> dict | None:
    """The precomputed probe and CKA study of a domain (`view.representation_view`), read once per version of
    the file and shared by every session: never mutated."""
    return _representation(folder, domain, modified(representation_file(folder, domain)))


def checkpoint_identity(path: str | Path) -> tuple[str, str]:
    """(file name, sha256) of a checkpoint (the manifest's hash, cached until the file changes)."""
    return Path(path).name, file_sha256(path)
