"""RFI detectors: a source of residuals, a score, a threshold; a score map for inputs of any size.

A detector is named by its source and its score method:
- source: a SAR checkpoint (its residual input - reconstruction), a no-model control (`control-input`,
  `control-median`: see `detection.controls`), or `baseline` (row statistics of VH, no residual);
- method: `error`, `ssim`, `rfi` (`detection.anomaly.score_residual`) or `learned` (the secondary classifier of
  `detection.secondary`, trained for that source).
Models and controls go through the same scoring code; they differ only in the residual.

Calibration lives in one file, `detectors.json` in the checkpoints folder, written by `python -m train.evaluate`:
every detector's threshold (best F1 on validation data, never the test set), the learned classifiers, and the
default detector (its source and method, and the rule that chose it). A model's entries carry the
sha256 of the checkpoint they were calibrated with and are ignored for any other file. A checkpoint's own recorded
thresholds (`metrics.rfi_threshold_<method>`, written by earlier versions) come next; a detector without any is
calibrated on the spot on synthetic validation patches.

This module is the one definition of the detectors that `python -m rfi_models.detect`, `python -m rfi_models.screen`
and the app share: the sources (`NO_MODEL_SOURCES` and checkpoints), the methods (`DETECTOR_METHODS`), the default
(`choose_detector`: the recorded default's source and method, nothing else of its entry) and the command-line
arguments that name them (`add_detector_arguments`).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..artifacts.checkpoint import CheckpointError, load_checkpoint, read_checkpoint_info
from ..artifacts.manifest import file_sha256
from ..data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_sar
from ..names import checkpoints_dir
from .baseline import baseline_scores
from .controls import CONTROLS, control_residual_fn
from .onnx_engine import ENGINES, EXPORT_ENGINES
from .residual_scores import METHODS, score_residual
from .secondary import SecondaryClassifier
from .tiling import ScoreFn, score_tiled

CALIBRATION_PATCHES = 32
DETECTOR_METHODS = (*METHODS, "learned")
NO_MODEL_SOURCES = ("baseline", *CONTROLS)
CALIBRATION_FILE = "detectors.json"
FALLBACK_METHOD = "rfi"  # of a checkpoint or control named without a method, and when no default is recorded
PRECISIONS = ("auto", "float32", "bfloat16")
DEFAULT_PRECISION = "float32"  # of the library (evaluation, app): the same scores on every machine
CLI_PRECISION = "auto"  # of the command lines: `resolve_precision`
ResidualFn = Callable[[np.ndarray], np.ndarray]  # tiles [B, 2, th, tw] in [0, 1] -> residual [B, 2, th, tw]


def read_calibration(folder: str | Path) -> dict:
    """The calibration file of a checkpoints folder as a dict ({} when there is none or it is unreadable)."""
    try:
        data = json.loads((Path(folder) / CALIBRATION_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def calibration_entry(folder: str | Path, key: str, checkpoint: Path | None = None) -> dict:
    """The recorded entry of detector `key` ("source/method" or "baseline"), {} if none or calibrated with another
    checkpoint file."""
    entry = read_calibration(folder).get("detectors", {}).get(key, {})
    if checkpoint is not None and entry.get("checkpoint_sha256") != file_sha256(checkpoint):
        return {}
    return entry


def default_detector(folder: str | Path | None = None) -> tuple[str, str]:
    """(source, method) of the default detector recorded by the evaluation; ("baseline", "") if none is. Only these
    two keys of the "default" entry are read (the rest records how it was chosen)."""
    recorded = read_calibration(folder or checkpoints_dir()).get("default", {})
    recorded = recorded if isinstance(recorded, dict) else {}
    return str(recorded.get("source", "baseline")), str(recorded.get("method", ""))


def choose_detector(
    checkpoint: str | None = None, method: str | None = None, folder: str | Path | None = None
) -> tuple[str, str]:
    """The (source, method) for `Detector.create` that a command line's --checkpoint and --method name.

    Left out, both are the default detector recorded in `folder` (default: `checkpoints_dir()`), a model's source
    being its checkpoint file there; a checkpoint or control given without a method, or a recorded default without
    one, is scored with FALLBACK_METHOD. The baseline has no method ("")."""
    folder = Path(folder or checkpoints_dir())
    if checkpoint is None:
        checkpoint, recorded = default_detector(folder)
        if checkpoint not in NO_MODEL_SOURCES:
            checkpoint = str(folder / f"{checkpoint}.safetensors")
        method = method or recorded
    return checkpoint, "" if checkpoint == "baseline" else method or FALLBACK_METHOD


def add_detector_arguments(parser: argparse.ArgumentParser) -> None:
    """--checkpoint, --method, --threshold and --precision: how every command line names its detector."""
    controls = ", ".join(f"'{name}'" for name in CONTROLS)
    parser.add_argument("--checkpoint", help=f"SAR checkpoint (.safetensors), 'baseline', or a no-model control "
                        f"({controls}); default: the default detector recorded by `python -m train.evaluate` in "
                        f"{CALIBRATION_FILE} of the checkpoints folder ($RFI_MODELS_CHECKPOINTS, else the "
                        "repository's checkpoints/)")  # fmt: skip
    parser.add_argument("--method", choices=DETECTOR_METHODS,
                        help="score of a checkpoint or control: error, ssim, rfi (hand-written filter) or learned "
                        f"(secondary classifier); default: the default detector's, else {FALLBACK_METHOD}")  # fmt: skip
    parser.add_argument("--threshold", type=float, help="score threshold (default: the detector's calibrated one)")
    parser.add_argument("--precision", choices=PRECISIONS, default=CLI_PRECISION,
                        help=f"of a model's matrix products (default {CLI_PRECISION}: bfloat16 where the CPU has "
                        "AMX, else float32; see the README)")  # fmt: skip
    parser.add_argument("--engine", choices=ENGINES, default="auto",
                        help="what runs a checkpoint's model: onnx (ONNX Runtime, float32, no torch), openvino (the "
                        "same export run by OpenVINO, if installed), torch, or auto "
                        "(default): onnx where onnxruntime is installed and the checkpoint's ONNX export is current "
                        "(python -m rfi_models.detection.onnx_engine --export), else torch")  # fmt: skip


def choose_engine(engine: str, source: str, precision: str) -> tuple[str, str, str]:
    """(engine, precision, note) to score `source` with: the engine of `onnx_engine.engine_for` for a checkpoint
    ("" for the no-model sources, which run no model), float32 for onnx, else `resolve_precision`'s; the note is
    for the user ("" if none)."""
    if source in NO_MODEL_SOURCES:
        return "", resolve_precision(precision), ""
    from .onnx_engine import engine_for

    chosen, note = engine_for(source, engine, precision)
    return chosen, "float32" if chosen in EXPORT_ENGINES else resolve_precision(precision), note


def resolve_precision(precision: str) -> str:
    """Precision "auto" -> "bfloat16" on CPUs with AMX tiles (where bfloat16 matrix products are native and faster),
    else "float32"; the other precisions are returned as they are."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision != "auto":
        return precision
    import torch

    amx = getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)  # private: absent in other torch versions
    return "bfloat16" if amx() else "float32"


def model_residual_fn(
    path: str | Path, precision: str = DEFAULT_PRECISION, mask_scheme: str | None = None
) -> tuple[ResidualFn, tuple[int, int]]:
    """The residual function of a SAR checkpoint and its tile size: the MAE at the mask ratio it was trained at with
    covering masks of `mask_scheme` ("random" patches or "rows"; None = the scheme it was trained with), a band
    inpainter on covering bands, another CAE or DAE on the plain input (`anomaly.residuals`).

    `precision` "bfloat16" runs the model's matrix products in bfloat16 (torch.autocast), the rest in float32:
    faster on CPUs with native bfloat16 (AMX), with the same detection metrics (see README); "auto" picks it
    where the CPU has AMX (`resolve_precision`)."""
    import torch

    from .anomaly import residuals, scoring_mask_ratio

    precision = resolve_precision(precision)
    model, info = load_checkpoint(path)
    if info["domain"] != "sar" or model.config.in_chans != 2:
        raise CheckpointError(f"{Path(path).name} is a {info['domain']} model; RFI detection needs a SAR model")
    ratio = scoring_mask_ratio(model)

    def residual_fn(tiles: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(np.ascontiguousarray(tiles, dtype=np.float32))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bfloat16"):
            return residuals(model, x, mask_ratio=ratio, mask_scheme=mask_scheme)

    return residual_fn, model.config.img_size


@dataclass
class Detector:
    name: str
    score_batch: ScoreFn  # [B, 2, th, tw] in [0, 1] -> [B, th, tw]
    tile: tuple[int, int]
    threshold: float

    @classmethod
    def create(cls, source: str, method: str = "rfi", threshold: float | None = None, folder: str | Path | None = None,
               precision: str = DEFAULT_PRECISION, engine: str = "torch") -> Detector:  # fmt: skip
        """The detector of `source` ('baseline', a control name, or a SAR checkpoint path) and `method`, with the
        recorded threshold of `folder` (default: the checkpoint's folder, else `checkpoints_dir()`) unless given;
        `precision` is a model's (`model_residual_fn`), `engine` what runs it: "torch", or "onnx" or "openvino"
        (its current ONNX export, `onnx_engine.onnx_residual_fn`, float32)."""
        if source == "baseline":
            recorded = calibration_entry(folder or checkpoints_dir(), "baseline").get("threshold")
            return cls.baseline(threshold if threshold is not None else recorded)
        if source in CONTROLS:
            return cls.from_residual(source, control_residual_fn(source), SAR_SIZE, method, threshold,
                                     Path(folder or checkpoints_dir()))  # fmt: skip
        return cls.from_checkpoint(source, method, threshold, folder, precision, engine)

    @classmethod
    def baseline(cls, threshold: float | None = None) -> Detector:
        detector = cls("baseline", baseline_scores, SAR_SIZE, threshold if threshold is not None else np.nan)
        return detector.calibrated() if threshold is None else detector

    @classmethod
    def from_checkpoint(
        cls,
        path: str | Path,
        method: str = "rfi",
        threshold: float | None = None,
        folder: str | Path | None = None,
        precision: str = DEFAULT_PRECISION,
        engine: str = "torch",
    ) -> Detector:
        if engine in EXPORT_ENGINES:
            from .onnx_engine import onnx_residual_fn

            residual_fn, tile = onnx_residual_fn(path, engine)
        else:
            residual_fn, tile = model_residual_fn(path, precision)
        if threshold is None:  # checkpoints calibrated before the calibration file existed carry their own thresholds
            threshold = calibration_entry(folder or Path(path).parent, f"{Path(path).stem}/{method}", Path(path)).get(
                "threshold", read_checkpoint_info(path).get("metrics", {}).get(f"rfi_threshold_{method}")
            )
        return cls.from_residual(Path(path).stem, residual_fn, tile, method, threshold,
                                 Path(folder or Path(path).parent), checkpoint=Path(path))  # fmt: skip

    @classmethod
    def from_residual(
        cls,
        source: str,
        residual_fn: ResidualFn,
        tile: tuple[int, int],
        method: str,
        threshold: float | None,
        folder: Path,
        checkpoint: Path | None = None,
    ) -> Detector:
        """A detector that scores `residual_fn`'s residual with `method`; the threshold and, for `learned`, the
        classifier come from the calibration file of `folder`."""
        if method not in DETECTOR_METHODS:
            raise ValueError(f"method must be one of {DETECTOR_METHODS}, got {method!r}")
        entry = calibration_entry(folder, f"{source}/{method}", checkpoint)
        if method == "learned":
            if "classifier" not in entry:
                raise CheckpointError(f"no learned classifier is recorded for {source} in {folder / CALIBRATION_FILE}"
                                      "; `python -m train.evaluate` trains them")  # fmt: skip
            classifier = SecondaryClassifier.from_dict(entry["classifier"])

            def score_batch(tiles: np.ndarray) -> np.ndarray:
                return classifier.scores(tiles, residual_fn(tiles))
        else:

            def score_batch(tiles: np.ndarray) -> np.ndarray:
                return score_residual(tiles, residual_fn(tiles), method)

        chosen = threshold if threshold is not None else entry.get("threshold")
        detector = cls(f"{source} ({method})", score_batch, tile, np.nan if chosen is None else float(chosen))
        return detector if chosen is not None else detector.calibrated()

    def calibrated(self, n: int = CALIBRATION_PATCHES) -> Detector:
        """This detector with the best-F1 threshold on `n` synthetic validation patches."""
        from ..metrics import rfi_pixel_metrics  # scikit-learn: imported only when calibrating

        images, truth = synthetic_sar(n, *self.tile, seed=SPLIT_SEEDS["val"], rfi_probability=0.5)
        scores = np.concatenate([self.score_batch(images[i : i + 4]) for i in range(0, n, 4)])  # residuals: no_grad
        best = rfi_pixel_metrics(scores, truth, images)["best_f1_threshold"]
        return Detector(self.name, self.score_batch, self.tile, float(best))

    def score(
        self, image, out: np.ndarray | None = None, to_unit=lambda block: block, progress=None, threads: int = 1
    ) -> np.ndarray:
        """Score map float32 [H, W] of an array-like [2, H, W] image of any size (at least 20 x 20); `threads` rows of
        tiles at a time (see `tiling.score_tiled`)."""
        return score_tiled(
            self.score_batch, image, self.tile, out=out, to_unit=to_unit, progress=progress, threads=threads
        )


def recorded_baseline_threshold(folder: str | Path) -> float | None:
    """The baseline's calibrated threshold recorded by `python -m train.evaluate` in folder's calibration file."""
    value = calibration_entry(folder, "baseline").get("threshold")
    return None if value is None else float(value)
