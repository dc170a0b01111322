"""The ONNX Runtime engine: a SAR checkpoint's residual from its exported graph, without torch.

Each SAR checkpoint `X.safetensors` may have `X.onnx` beside it (`detection.onnx_export`), whose metadata records
the sha256 of the checkpoint it was exported from. An export is used only if it is current: the checkpoint and the
export both match the folder's manifest (`rfi_models.artifacts.manifest`; a changed or replaced file is refused),
and the recorded sha256 is the checkpoint's (an export of an earlier checkpoint is stale and refused). Refusals are
`CheckpointError`s with one line saying what to run.

The engine runs the same residual as the torch engine at float32 (`detector.model_residual_fn`), to within 1e-4
(`tests/test_onnx_engine.py`); the scores are computed from it by the same numpy code (`residual_scores`,
`secondary`). Each session runs on one thread: rows of tiles are scored side by side (`tiling.score_tiled`), and
ONNX Runtime releases Python's lock while it runs. This module imports neither torch nor the model code.
"""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from ..artifacts.errors import CheckpointError
from ..artifacts.manifest import file_sha256, verify_against_manifest

ENGINES = ("auto", "onnx", "openvino", "torch")
EXPORT_ENGINES = ("onnx", "openvino")  # run the ONNX export, without torch
ENGINE_PACKAGES = {"onnx": "onnxruntime==1.32.0", "openvino": "openvino==2026.4.1"}
ONNX_FORMAT = "rfi_models-onnx/1"
META_FORMAT, META_CHECKPOINT_SHA256 = "rfi_models_format", "checkpoint_sha256"
INPUT_NAME, OUTPUT_NAME = "tiles", "residual"
SESSION_THREADS = 1


def onnx_path(checkpoint: str | Path) -> Path:
    """Where the ONNX export of `checkpoint` lives: beside it, with the suffix .onnx."""
    return Path(checkpoint).with_suffix(".onnx")


def engine_available(engine: str) -> bool:
    """Whether the packages of an export engine are installed (openvino's checks read the export with onnxruntime)."""
    names = {"onnxruntime", ENGINE_PACKAGES[engine].split("==")[0]}
    return all(importlib.util.find_spec(name) is not None for name in names)


def rebuild_hint(checkpoint: Path) -> str:
    return f"rebuild it with python -m rfi_models.detection.onnx_export --export {checkpoint.parent}"


def check_export(checkpoint: str | Path) -> Path:
    """The ONNX export of `checkpoint` if it is current (module docstring); CheckpointError saying why if not."""
    checkpoint = Path(checkpoint)
    exported = onnx_path(checkpoint)
    if not exported.is_file():
        raise CheckpointError(f"{checkpoint.name} has no ONNX export ({exported.name}); {rebuild_hint(checkpoint)}")
    verify_against_manifest(checkpoint)
    verify_against_manifest(exported)  # tampered: its sha256 differs from the manifest's
    metadata = session_for(str(exported), file_sha256(exported)).get_modelmeta().custom_metadata_map
    if metadata.get(META_FORMAT) != ONNX_FORMAT:
        raise CheckpointError(f"{exported.name} is not an rfi_models export; {rebuild_hint(checkpoint)}")
    recorded, actual = metadata.get(META_CHECKPOINT_SHA256, ""), file_sha256(checkpoint)
    if recorded != actual:
        raise CheckpointError(f"{exported.name} is stale: it was exported from a checkpoint with sha256 {recorded[:12]}"
                              f", {checkpoint.name} is now {actual[:12]}; {rebuild_hint(checkpoint)}")  # fmt: skip
    return exported


@functools.lru_cache(maxsize=16)
def session_for(path: str, sha256: str):
    """An ONNX Runtime session of `path` (one per file version: `sha256` keys the cache), on SESSION_THREADS."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = SESSION_THREADS
    options.log_severity_level = 3  # errors only: its warnings would precede our one-line messages
    try:
        return onnxruntime.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    except Exception as err:  # onnxruntime's own exception types (InvalidProtobuf, Fail, ...) are not exported
        message = " ".join(str(err).split())[:200]
        raise CheckpointError(f"{Path(path).name} is not a readable ONNX model ({message})") from None


def onnx_residual_fn(
    checkpoint: str | Path, engine: str = "onnx"
) -> tuple[Callable[[np.ndarray], np.ndarray], tuple[int, int]]:
    """The residual function of a SAR checkpoint's current ONNX export and its tile size (`check_export`), run by
    ONNX Runtime ("onnx") or OpenVINO ("openvino", `openvino_run`)."""
    exported = check_export(checkpoint)
    session = session_for(str(exported), file_sha256(exported))
    try:
        height, width = (int(v) for v in session.get_modelmeta().custom_metadata_map.get("tile", "").split(","))
    except ValueError:
        raise CheckpointError(f"{exported.name} records no tile size; {rebuild_hint(Path(checkpoint))}") from None
    if engine == "openvino":
        run = openvino_run(str(exported), file_sha256(exported))
    elif engine == "onnx":
        run = functools.partial(session.run, None)
    else:
        raise ValueError(f"export engines are {EXPORT_ENGINES}, got {engine!r}")

    def residual_fn(tiles: np.ndarray) -> np.ndarray:
        return run({INPUT_NAME: np.ascontiguousarray(tiles, dtype=np.float32)})[0]

    return residual_fn, (height, width)


@functools.lru_cache(maxsize=16)
def openvino_run(path: str, sha256: str) -> Callable[[dict], list[np.ndarray]]:
    """inputs -> [residual] through OpenVINO's compiled model of the export at `path` (one per file version), on
    SESSION_THREADS, in float32 (its default on CPUs with AMX would be bfloat16), one infer request per thread."""
    import threading

    import openvino

    core = openvino.Core()
    try:
        compiled = core.compile_model(core.read_model(path), "CPU", {
            "INFERENCE_NUM_THREADS": SESSION_THREADS, "INFERENCE_PRECISION_HINT": "f32"})  # fmt: skip
    except RuntimeError as err:
        message = " ".join(str(err).split())[:200]
        raise CheckpointError(f"{Path(path).name}: OpenVINO cannot compile it ({message})") from None
    local = threading.local()

    def run(inputs: dict) -> list[np.ndarray]:
        if not hasattr(local, "request"):
            local.request = compiled.create_infer_request()
        return [np.array(local.request.infer(inputs)[compiled.output(0)])]  # a copy: the request reuses its buffer

    return run


def engine_for(checkpoint: str | Path, engine: str = "auto", precision: str = "auto") -> tuple[str, str]:
    """(engine, a note for the user or "") for scoring `checkpoint` with `engine` at `precision`.

    "auto": onnx when onnxruntime is installed, the precision is not bfloat16 (the export is float32) and the
    export is current; else torch, with a note saying why when an export exists but cannot be used. "onnx" and
    "openvino" (the same export, run by OpenVINO) raise CheckpointError where "auto" would fall back."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if engine == "torch":
        return "torch", ""
    wanted = "onnx" if engine == "auto" else engine
    problem = ""
    if precision == "bfloat16":
        problem = f"the {wanted} engine runs float32 only; use --precision float32 or auto"
    elif not engine_available(wanted):
        problem = f"the {wanted} engine needs onnxruntime==1.32.0 and {ENGINE_PACKAGES[wanted]} (pip install)"
    else:
        problem = export_problem(Path(checkpoint))
    if not problem:
        return wanted, ""
    if engine != "auto":
        raise CheckpointError(f"--engine {engine}: {problem}")
    quiet = precision == "bfloat16" or not onnx_path(checkpoint).is_file()  # nothing the user has to know
    return "torch", "" if quiet else f"note: scoring with torch: {problem}"


def export_problem(checkpoint: Path) -> str:
    """Why `checkpoint`'s export cannot be used ("" if it is current)."""
    try:
        check_export(checkpoint)
    except CheckpointError as err:
        return str(err)
    return ""
