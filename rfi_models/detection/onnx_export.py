"""Export a SAR checkpoint's residual graph to ONNX, beside the checkpoint (`detection.onnx_engine` scores with it).

    python -m rfi_models.detection.onnx_export --export checkpoints   # export the SAR checkpoints there whose
                                                                     # export is missing or stale (--force: all)
    python -m rfi_models.detection.onnx_export --check checkpoints    # exit 1, one line each, unless all are current

The graph is `anomaly.residual_tensor` of the model at the mask ratio it was trained at, exactly what the torch
engine runs (`detector.model_residual_fn` at float32): input `tiles` [B, 2, th, tw] float32 in [0, 1], output
`residual` [B, 2, th, tw], B dynamic. The MAE's covering masks do not depend on the input (`covering_mask_noise`,
seed 0), so their noise is made here once and becomes a constant of the graph. The metadata records the sha256 of
the checkpoint it was exported from, which the engine checks before every use (`onnx_engine.check_export`).

The exporter is torch's TorchScript-based one (`torch.onnx.export(..., dynamo=False)`), at a fixed tile size: it
traces the one path a tile takes through the model in under 2 s a checkpoint. The dynamo-based exporter took 10 s
for the CAE and produced an MAE graph that ONNX Runtime refused at batch 1 (an Expand of a specialised shape).
Every export is checked against the torch residual on random tiles at two batch sizes before it is kept.

torch is imported here, and only here: `onnx_engine` (the scoring side) never imports this module.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

from ..artifacts.atomic import write_bytes
from ..artifacts.checkpoint import CheckpointError, load_checkpoint
from ..artifacts.manifest import file_sha256, record_in_manifest
from ..models import MaskedAutoencoder
from .anomaly import covering_mask_noise, covering_masks, residual_tensor, scoring_mask_ratio
from .onnx_engine import (
    INPUT_NAME,
    META_CHECKPOINT_SHA256,
    META_FORMAT,
    ONNX_FORMAT,
    OUTPUT_NAME,
    engine_available,
    export_problem,
    onnx_path,
)

OPSET = 17
CHECK_TOLERANCE = 1e-5  # of the residual, ONNX Runtime against torch, on the check tiles
CHECK_BATCHES = (1, 3)


class ResidualGraph(torch.nn.Module):
    """The residual tiles -> tiles - reconstruction of a SAR model, as the torch engine computes it."""

    def __init__(self, model) -> None:
        super().__init__()
        self.model = model
        self.mask_ratio = scoring_mask_ratio(model)
        masked = isinstance(model, MaskedAutoencoder)
        self.k_masks = covering_masks(model.effective_mask_ratio(self.mask_ratio, None)) if masked else None
        self.register_buffer("noise", covering_mask_noise(model, self.k_masks, 0) if masked else None)

    def forward(self, tiles: torch.Tensor) -> torch.Tensor:
        return residual_tensor(self.model, tiles, self.k_masks, self.mask_ratio, noise=self.noise)


def export_checkpoint(checkpoint: str | Path) -> Path:
    """Export `checkpoint`'s residual graph to its ONNX file (`onnx_path`), checked, written atomically and recorded
    in the folder's manifest when there is one; returns the ONNX file's path."""
    import onnx  # the export's metadata and checker; scoring needs only onnxruntime

    checkpoint = Path(checkpoint)
    model, info = load_checkpoint(checkpoint)
    if info["domain"] != "sar" or model.config.in_chans != 2:
        raise CheckpointError(f"{checkpoint.name} is a {info['domain']} model; only SAR models are exported")
    graph = ResidualGraph(model).eval()  # eval after wrapping: the exporter restores the wrapper's mode on it
    height, width = model.config.img_size
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer's notes on Python values it treats as constants
        warnings.simplefilter("ignore")
        torch.onnx.export(graph, (torch.rand(2, 2, height, width),), buffer, dynamo=False, opset_version=OPSET,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})  # fmt: skip
    exported = onnx.load_from_string(buffer.getvalue())
    metadata = {META_FORMAT: ONNX_FORMAT, META_CHECKPOINT_SHA256: file_sha256(checkpoint),
                "checkpoint": checkpoint.name, "tile": f"{height},{width}", "mask_ratio": str(graph.mask_ratio),
                "k_masks": str(graph.k_masks or 0),
                "exporter": f"torch {torch.__version__} torchscript opset {OPSET}"}  # fmt: skip
    onnx.helper.set_model_props(exported, metadata)
    onnx.checker.check_model(exported)
    data = exported.SerializeToString()
    check_against_torch(graph, data, (height, width))
    target = onnx_path(checkpoint)
    write_bytes(target, data)
    record_in_manifest(target)
    return target


def export_after_training(checkpoint: str | Path) -> str:
    """Rebuild the export of a freshly trained SAR checkpoint, so that the ONNX engines can score with it (the
    export of the earlier weights is stale and would be refused); one line saying what happened."""
    checkpoint = Path(checkpoint)
    if importlib.util.find_spec("onnx") is None or not engine_available("onnx"):
        return f"no ONNX export of {checkpoint.name}: onnx and onnxruntime are not installed (torch scores it)"
    try:
        return f"ONNX export: {export_checkpoint(checkpoint)}"
    except CheckpointError as err:
        return f"no ONNX export of {checkpoint.name}: {err}"


def check_against_torch(graph: ResidualGraph, data: bytes, tile: tuple[int, int]) -> None:
    """Raise CheckpointError unless ONNX Runtime's residual of the serialised graph `data` matches torch's."""
    import onnxruntime

    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    for batch in CHECK_BATCHES:
        tiles = np.random.default_rng(batch).random((batch, 2, *tile), dtype=np.float32)
        ours = session.run(None, {INPUT_NAME: tiles})[0]
        with torch.no_grad():
            reference = graph(torch.from_numpy(tiles)).numpy()
        difference = float(np.abs(ours - reference).max())
        if not difference <= CHECK_TOLERANCE:
            raise CheckpointError(f"the ONNX export differs from torch by {difference:.3g} (> {CHECK_TOLERANCE})")


def sar_checkpoints(folder: str | Path) -> list[Path]:
    """The SAR model checkpoints directly in `folder` (not its subfolders: ablations, segmenters)."""
    from ..artifacts.checkpoint import read_checkpoint_info

    found = []
    for path in sorted(Path(folder).glob("*.safetensors")):
        info = read_checkpoint_info(path)
        if info.get("domain") == "sar" and info.get("config", {}).get("in_chans") == 2:
            found.append(path)
    return found


def export_folder(folder: str | Path, force: bool = False) -> list[tuple[Path, float | None]]:
    """Export every SAR checkpoint directly in `folder` (`onnx_export`) whose export is missing, stale or refused
    (all of them with `force`); [(ONNX path, seconds, or None where the export was current and kept)]."""
    done = []
    for checkpoint in sar_checkpoints(folder):
        if not force and not export_problem(checkpoint):
            done.append((onnx_path(checkpoint), None))
            continue
        started = time.perf_counter()
        done.append((export_checkpoint(checkpoint), time.perf_counter() - started))
    return done


def check_folder(folder: str | Path) -> list[str]:
    """One line per SAR checkpoint directly in `folder` whose ONNX export is missing, stale or refused."""
    return [problem for problem in map(export_problem, sar_checkpoints(folder)) if problem]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfi_models.detection.onnx_export",
                                     description=__doc__.split("\n")[0])  # fmt: skip
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--export", metavar="FOLDER", help="export every SAR checkpoint in FOLDER to ONNX whose export "
                        "is missing or not current")  # fmt: skip
    action.add_argument("--check", metavar="FOLDER", help="check every SAR checkpoint in FOLDER has a current export")
    parser.add_argument("--force", action="store_true", help="with --export: export current ones again too")
    args = parser.parse_args(argv)
    try:
        if args.export:
            for path, seconds in export_folder(args.export, args.force):
                done = "current, kept" if seconds is None else f"wrote it in {seconds:.1f} s"
                print(f"{path} ({path.stat().st_size / 1e6:.1f} MB): {done}")
            return 0
        problems = check_folder(args.check)
    except (CheckpointError, OSError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if problems:
        print("\n".join(f"error: {problem}" for problem in problems), file=sys.stderr)
        return 1
    print(f"{args.check}: every SAR checkpoint has a current ONNX export")
    return 0


if __name__ == "__main__":
    sys.exit(main())
