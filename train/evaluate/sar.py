"""The SAR part of `python -m train.evaluate`: do the models' residuals find RFI better than no model at all?

Every residual source — each shipped SAR model and the two no-model controls (`rfi_models.detection.controls`) —
goes through the same scores: the raw `error` and `ssim`, the hand-written `rfi` filter, and the `learned`
secondary classifier (`rfi_models.detection.secondary`), trained here once per source on the training sets
(synthetic and semi-synthetic, with RFI masks) from a fixed seed. The baseline (row statistics) is scored too.

- Truth, metrics and boxes: `train.evaluate.sar_metrics` (visible RFI is the truth; invisible changes are left out).
- Thresholds: the one maximising the mean pixel F1 of the semi-synthetic validation set (synthetic where there
  is none) and the real RFI patches (`sar_metrics.joint_threshold`), raised where needed so that it flags at most
  MAX_FLAGGED of the pixels of the validation scenes' real RFI-free quick-looks (archive screening cannot afford
  more; the test scenes' quick-looks only report it).
- Reported on the synthetic and semi-synthetic test sets and on the real RFI patches (the "real RFI (3 patches,
  validation)" column): pixel ROC-AUC and average precision, and at the calibrated threshold pixel IoU,
  precision and recall and the box metrics; and, at that threshold, the share of pixels flagged on the real
  RFI-free quick-looks (any flag there is a false positive).
- The default detector is the one with the highest mean of the average precision on the semi-synthetic
  validation set and on the real RFI patches (`VALIDATION_RULE`).
- Reconstruction floor: each model's held-out MSE against the per-patch, per-channel mean predictor (valid
  pixels; the MAE on its hidden patches at its training ratio).

Calibration (thresholds, classifiers, default) is written to checkpoints/detectors.json, read by the detectors.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.artifacts.atomic import write_bytes
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.data.semisynthetic import scene_split
from rfi_models.data.synthetic_sar import SAR_SIZE
from rfi_models.detection.anomaly import METHODS, score_residual, scoring_mask_ratio
from rfi_models.detection.baseline import baseline_scores
from rfi_models.detection.controls import CONTROLS, control_reconstruction, control_residual_fn
from rfi_models.detection.detector import CALIBRATION_FILE, model_residual_fn
from rfi_models.detection.secondary import SecondaryClassifier, pixel_features, sample_pixels, train_classifier
from rfi_models.detection.tiling import score_tiled
from rfi_models.metrics import valid_pixels
from rfi_models.models import MaskedAutoencoder
from rfi_models.names import FAMILIES

from .sar_metrics import Labelled, joint_threshold, pooled, set_metrics
from .sar_sets import SarSets, load_sets

CLASSIFIER_SEED = 0
PIXELS_PER_CLASS = 10_000  # per training set and class, for the classifier
BATCH = 4
NEIGHBOUR_CONTROL = "control: neighbour patches"  # the MAE's floor task done by the 8 neighbours' mean
BAND_CONTROL = "control: band interpolation"  # the band inpainters' and the row MAE's floor task, no model
SAR_VARIANTS = ("mae_rows_sar", "cae_rows_sar", "dae_rows_sar")  # trained and scored with rows hidden (issue 22)
MAX_FLAGGED = 0.01  # share of the validation scenes' RFI-free quick-look pixels a threshold may flag
VALIDATION_RULE = "mean of the pixel AP on the semi-synthetic validation set and on the real RFI patches"
ResidualFn = Callable[[np.ndarray], np.ndarray]


def residual_sources(folder: Path) -> dict[str, tuple[ResidualFn, Path | None]]:
    """Every residual source: the shipped SAR models (by checkpoint stem: the study's three families, then the
    RFI-aware variants of SAR_VARIANTS) and the controls."""
    sources: dict[str, tuple[ResidualFn, Path | None]] = {}
    for stem in (*(f"{family}_sar" for family in FAMILIES), *SAR_VARIANTS):
        path = folder / f"{stem}.safetensors"
        if path.exists():
            sources[path.stem] = (model_residual_fn(path)[0], path)
    for name in CONTROLS:
        sources[name] = (control_residual_fn(name), None)
    return sources


def in_batches(images: np.ndarray, fn: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([fn(images[i : i + BATCH]) for i in range(0, len(images), BATCH)])


def classifier_for(
    residual_fn: ResidualFn, train_sets: dict, seed: int = CLASSIFIER_SEED, per_class: int = PIXELS_PER_CLASS
) -> SecondaryClassifier:
    """The secondary classifier of one residual source, trained on a seeded class-balanced pixel sample of every
    training set (`Labelled`, or (images [N, 2, H, W], truth [N, H, W]) pairs): up to `per_class` pixels per
    class and set; visible RFI is positive, invisible RFI is left out."""
    rng = np.random.default_rng(seed)
    features, labels = [], []
    for entry in train_sets.values():
        labelled = entry if isinstance(entry, Labelled) else Labelled(entry[0], entry[1], entry[1])
        images = labelled.images
        per_patch = max(1, per_class // len(images))
        for i in range(0, len(images), BATCH):
            batch = images[i : i + BATCH]
            with torch.no_grad():
                f = pixel_features(batch, residual_fn(batch))
            keep = np.stack([labelled.kept(j) for j in range(i, i + len(batch))])
            x, y = sample_pixels(f, labelled.visible[i : i + BATCH], keep, rng, per_patch * len(batch))
            features.append(x)
            labels.append(y)
    return train_classifier(np.concatenate(features), np.concatenate(labels), seed=seed)


def all_scores(images, residual_fn: ResidualFn, classifier: SecondaryClassifier) -> dict[str, list | np.ndarray]:
    """Every method's score maps of one set: {method: float32 [N, H, W]}; the residual is computed once per batch.
    A list of images of other sizes than the models' is scored tile by tile, into a list of maps."""
    if isinstance(images, list):
        fn = memoised(residual_fn)
        methods = (*METHODS, "learned")
        return {m: [score_tiled(method_score_fn(fn, m, classifier), x, SAR_SIZE) for x in images] for m in methods}
    parts: dict[str, list] = {m: [] for m in (*METHODS, "learned")}
    for i in range(0, len(images), BATCH):
        batch = images[i : i + BATCH]
        with torch.no_grad():
            residual = residual_fn(batch)
        for method in METHODS:
            parts[method].append(score_residual(batch, residual, method))
        parts["learned"].append(classifier.scores(batch, residual))
    return {method: np.concatenate(maps) for method, maps in parts.items()}


def clean_scores(score_fn: Callable[[np.ndarray], np.ndarray], scenes: dict[str, np.ndarray]) -> dict:
    """{name: float [valid pixels]}: the scores of each real RFI-free image ([2, H, W], any size, tiled)."""
    return {name: score_tiled(score_fn, image, SAR_SIZE)[valid_pixels(image)] for name, image in scenes.items()}


def capped_threshold(threshold: float, clean: dict[str, np.ndarray]) -> float:
    """`threshold`, raised where needed so that at most MAX_FLAGGED of the pooled pixels of the validation scenes'
    RFI-free images in `clean` score at or above it."""
    val = [scores for name, scores in clean.items() if scene_split(name) == "val"]
    if not val:
        return threshold
    pooled_scores = np.sort(np.concatenate(val))
    allowed = int(np.floor(MAX_FLAGGED * pooled_scores.size))  # pixels that may be flagged
    cap = np.nextafter(pooled_scores[-allowed - 1], np.inf)  # flags at most the `allowed` highest
    return float(max(threshold, cap))


def flagged_share(clean: dict[str, np.ndarray], threshold: float) -> dict:
    """Share of valid pixels at or above `threshold` on each real RFI-free image (`clean_scores`)."""
    shares = {name: float((scores >= threshold).mean()) for name, scores in clean.items()}
    return {"per_image": shares, "mean": float(np.mean(list(shares.values()))) if shares else float("nan")}


def memoised(residual_fn: ResidualFn) -> ResidualFn:
    """The same residual function, remembering its results by the tiles' content (the real images are scored
    once per method, over the same tiles)."""
    cache: dict[str, np.ndarray] = {}

    def fn(tiles: np.ndarray) -> np.ndarray:
        key = hashlib.sha1(np.ascontiguousarray(tiles).tobytes()).hexdigest()
        if key not in cache:
            cache[key] = residual_fn(tiles)
        return cache[key]

    return fn


def method_score_fn(residual_fn: ResidualFn, method: str, classifier: SecondaryClassifier):
    if method == "learned":
        return lambda tiles: classifier.scores(tiles, residual_fn(tiles))
    return lambda tiles: score_residual(tiles, residual_fn(tiles), method)


def validation_sets(sets: SarSets) -> dict[str, Labelled]:
    """The sets thresholds and the default detector are chosen on: the calibration set and the real RFI."""
    chosen = {sets.calibration_name(): sets.val[sets.calibration_name()]}
    return chosen | ({"real_rfi": sets.real_rfi} if sets.real_rfi is not None else {})


def judged(scores: dict[str, object], sets: SarSets, real_fn: Callable) -> dict:
    """One detector's entry from its score maps on every labelled set ({set name: maps}, validation sets first):
    the threshold, validation and test metrics, and the share flagged on the real RFI-free quick-looks."""
    val_sets = validation_sets(sets)
    clean = clean_scores(real_fn, sets.real)
    threshold = joint_threshold([pooled(scores[name], labelled) for name, labelled in val_sets.items()])
    threshold = capped_threshold(threshold, clean)
    calibration_set = sets.calibration_name()
    entry = {"threshold": threshold, "val": set_metrics(scores[calibration_set], val_sets[calibration_set], threshold)}
    if "real_rfi" in val_sets:
        entry["real_rfi"] = set_metrics(scores["real_rfi"], sets.real_rfi, threshold)
    for name, labelled in sets.test.items():
        entry[name] = set_metrics(scores[f"test/{name}"], labelled, threshold)
    entry["real_rfi_free"] = flagged_share(clean, threshold)
    return entry


def labelled_sets(sets: SarSets) -> dict[str, Labelled]:
    """Every labelled set a detector is scored on: validation ones by name, test ones as test/<name>."""
    return validation_sets(sets) | {f"test/{name}": labelled for name, labelled in sets.test.items()}


def evaluate_source(residual_fn: ResidualFn, sets: SarSets, seed: int = CLASSIFIER_SEED) -> tuple[dict, dict]:
    """(results per method, calibration per method) of one residual source."""
    classifier = classifier_for(residual_fn, sets.train, seed)
    real_fn = memoised(residual_fn)
    scored = {name: all_scores(labelled.images, real_fn, classifier) for name, labelled in labelled_sets(sets).items()}
    results, calibration = {}, {}
    for method in (*METHODS, "learned"):
        maps = {name: by_method[method] for name, by_method in scored.items()}
        results[method] = judged(maps, sets, method_score_fn(real_fn, method, classifier))
        calibration[method] = {"threshold": results[method]["threshold"]}
    calibration["learned"]["classifier"] = classifier.to_dict()
    return results, calibration


def evaluate_baseline(sets: SarSets) -> dict:
    def maps(images):
        if isinstance(images, list):
            return [score_tiled(baseline_scores, x, SAR_SIZE) for x in images]
        return in_batches(images, baseline_scores)

    scores = {name: maps(labelled.images) for name, labelled in labelled_sets(sets).items()}
    return judged(scores, sets, baseline_scores)


def channel_means(image: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """The per-channel mean of image [C, H, W] over the pixels `keep` [H, W] (0 where there are none): the
    per-patch, per-channel mean predictor of the reconstruction floor."""
    return np.array([channel[keep].mean() if keep.any() else 0.0 for channel in image])


def floor_summary(squared: float, baseline: float, count: int) -> dict[str, float]:
    """MSE, the mean predictor's MSE and their ratio from summed squared errors over `count` values."""
    mse, mean_mse = squared / max(count, 1), baseline / max(count, 1)
    return {"mse": mse, "mean_predictor_mse": mean_mse, "ratio": mse / mean_mse if mean_mse else float("nan")}


def floor_terms(image: np.ndarray, prediction: np.ndarray, keep: np.ndarray, where: np.ndarray) -> tuple:
    """(squared error, the mean predictor's squared error, values) of one image [C, H, W] over `where` [H, W], the
    mean taken over its valid pixels `keep`."""
    mean = channel_means(image, keep)[:, None, None]
    squared = float(((image - prediction)[:, where] ** 2).sum())
    return squared, float(((image - mean)[:, where] ** 2).sum()), int(where.sum()) * image.shape[0]


def reconstruction_floor(model, images: np.ndarray, seed: int = 0) -> dict[str, float]:
    """Held-out reconstruction MSE of `model` vs the per-patch, per-channel mean predictor, over valid pixels
    (the MAE: over its hidden patches, at the mask ratio it was trained at; a band inpainter: over the bands of
    its own covering masks). images: float32 [N, 2, H, W]."""
    terms = []
    for i in range(0, len(images), BATCH):
        x = torch.from_numpy(np.ascontiguousarray(images[i : i + BATCH]))
        with torch.no_grad():
            out = model.reconstruct(x, mask_ratio=scoring_mask_ratio(model), seed=seed + i)
        valid = valid_pixels(x.numpy())  # [B, H, W]
        region = valid if out.mask is None else valid & out.mask.numpy()
        terms += map(floor_terms, x.numpy(), out.image.numpy(), valid, region)
    return floor_summary(*map(sum, zip(*terms, strict=True)))


def band_control_floor(images: np.ndarray) -> dict[str, float]:
    """The band inpainters' floor task without a model: every 20-row band predicted by band interpolation
    (`control-band`), scored like `reconstruction_floor` over every valid pixel. images float32 [N, 2, H, W]."""
    valid = valid_pixels(images)
    terms = map(floor_terms, images, control_reconstruction("control-band", images), valid, valid)
    return floor_summary(*map(sum, zip(*terms, strict=True)))


def neighbour_patch_floor(images: np.ndarray, patch: tuple[int, int], mask_ratio: float, seed: int = 0) -> dict:
    """The MAE's floor task without a model: each hidden patch predicted as the mean of the visible patches among
    its 8 neighbours (per channel; the patch's own image mean where none is visible), scored like
    `reconstruction_floor` on the hidden patches. images float32 [N, 2, H, W] with sides multiples of `patch`."""
    rng = np.random.default_rng(seed)
    (ph, pw), (_, _, height, width) = patch, images.shape
    rows, cols = height // ph, width // pw
    squared = baseline = 0.0
    count = 0
    for image, keep in zip(images, valid_pixels(images), strict=True):
        means = channel_means(image, keep)
        blocks = image.reshape(2, rows, ph, cols, pw).mean(axis=(2, 4))  # [2, rows, cols]
        hidden = np.zeros(rows * cols, bool)
        hidden[rng.permutation(rows * cols)[: int(mask_ratio * rows * cols)]] = True
        visible = ~hidden.reshape(rows, cols)
        padded = np.pad(blocks * visible, ((0, 0), (1, 1), (1, 1)))
        weight = np.pad(visible.astype(float), 1)
        sums = sum(padded[:, 1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols] for dr in (-1, 0, 1) for dc in (-1, 0, 1))
        counts = sum(weight[1 + dr : 1 + dr + rows, 1 + dc : 1 + dc + cols] for dr in (-1, 0, 1) for dc in (-1, 0, 1))
        guess = np.where(counts > 0, sums / np.maximum(counts, 1), means[:, None, None])
        prediction = np.repeat(np.repeat(guess, ph, axis=1), pw, axis=2)
        where = np.repeat(np.repeat(~visible, ph, axis=0), pw, axis=1) & keep
        squared += float(((image - prediction)[:, where] ** 2).sum())
        baseline += float(((image - means[:, None, None])[:, where] ** 2).sum())
        count += int(where.sum()) * 2
    return floor_summary(squared, baseline, count)


def source_identity(path: Path | None, source: str) -> str:
    """What a source's results depend on besides the data: its checkpoint's sha256, or the control's name."""
    return file_sha256(path) if path else source


def evaluate(folder: Path, sets: SarSets, only: set[str] | None = None, previous: dict | None = None) -> dict:
    """Every detector's results and the calibration file's content: {"results": ..., "calibration": ...}.

    `only`: the detectors to evaluate (source names, "baseline"); every other one is taken from `previous` (an
    earlier return value) when that was made on the same data with the same checkpoint, else evaluated too."""
    described = json.loads(json.dumps(sets.describe()))
    old = previous if previous and previous["results"].get("sets") == described else {"results": {}, "calibration": {}}
    old_results, old_detectors = old["results"], old["calibration"].get("detectors", {})

    def reuse(source: str, identity: str) -> bool:
        recorded = old_results.get("identity", {}).get(source)
        return only is not None and source not in only and recorded == identity

    results: dict = {"sets": described, "identity": {"baseline": "baseline"}, "sources": {}, "floor": {}}
    reused = reuse("baseline", "baseline") and "baseline" in old_results
    results["baseline"] = old_results["baseline"] if reused else evaluate_baseline(sets)
    detectors = {"baseline": {"threshold": results["baseline"]["threshold"]}}
    for source, (residual_fn, path) in residual_sources(folder).items():
        identity = results["identity"][source] = source_identity(path, source)
        if reuse(source, identity) and source in old_results.get("sources", {}):
            results["sources"][source] = old_results["sources"][source]
            detectors |= {key: value for key, value in old_detectors.items() if key.startswith(f"{source}/")}
            if source in old_results.get("floor", {}):
                results["floor"][source] = old_results["floor"][source]
            continue
        results["sources"][source], calibration = evaluate_source(residual_fn, sets)
        extra = {"checkpoint_sha256": identity} if path else {}
        detectors |= {f"{source}/{method}": values | extra for method, values in calibration.items()}
        if path:
            model, _ = rfi_models.load_checkpoint(path)
            results["floor"][source] = {name: reconstruction_floor(model, x) for name, x in sets.clean_test.items()}
            if isinstance(model, MaskedAutoencoder) and NEIGHBOUR_CONTROL not in results["floor"]:  # the study's MAE
                geometry = (tuple(model.config.patch_size), scoring_mask_ratio(model))
                results["floor"][NEIGHBOUR_CONTROL] = {
                    name: neighbour_patch_floor(x, *geometry) for name, x in sets.clean_test.items()
                }
    if NEIGHBOUR_CONTROL not in results["floor"] and NEIGHBOUR_CONTROL in old_results.get("floor", {}):
        results["floor"][NEIGHBOUR_CONTROL] = old_results["floor"][NEIGHBOUR_CONTROL]  # its MAE was reused
    results["floor"][BAND_CONTROL] = {name: band_control_floor(x) for name, x in sets.clean_test.items()}
    results["default"] = best_on_validation(results)
    calibration = {"calibration_set": sets.calibration_name(), "default": results["default"], "detectors": detectors}
    return {"results": results, "calibration": calibration}


def validation_score(entry: dict) -> float:
    """The default detector's rule (`VALIDATION_RULE`); the calibration set's AP alone without real RFI."""
    aps = [entry["val"]["average_precision"], *([entry["real_rfi"]["average_precision"]] if "real_rfi" in entry
                                                else [])]  # fmt: skip
    return float(np.mean(aps))


def best_on_validation(results: dict) -> dict:
    """The detector with the highest `validation_score`."""
    candidates = [("baseline", "", results["baseline"])]
    for source, methods in results["sources"].items():
        candidates += [(source, method, entry) for method, entry in methods.items()]
    scored = [(source, method, validation_score(entry)) for source, method, entry in candidates]
    source, method, score = max(scored, key=lambda c: -1 if np.isnan(c[2]) else c[2])
    return {"source": source, "method": method, "rule": VALIDATION_RULE, "validation_score": score}


def run(folder: Path, n_train: int, n_val: int, n_test: int, only: set[str] | None = None) -> dict:
    """Evaluate the SAR detectors (`only` some of them: see `evaluate`), write folder/detectors.json, return the
    SAR results."""
    sets = load_sets(n_train, n_val, n_test)
    previous = None
    if only is not None:
        try:
            results = json.loads((folder / "results.json").read_text())["sar"]
            previous = {"results": results, "calibration": json.loads((folder / CALIBRATION_FILE).read_text())}
        except (OSError, ValueError, KeyError):
            previous = None
    done = evaluate(folder, sets, only, previous)
    write_bytes(folder / CALIBRATION_FILE, json.dumps(done["calibration"], default=float).encode())
    return done["results"]
