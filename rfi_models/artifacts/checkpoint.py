"""Checkpoints: one safetensors file per model, JSON metadata beside the weights, no pickle.

The safetensors header carries one metadata entry, "rfi_models", a JSON document:
    {"format": 1, "architecture": "mae", "config": {...}, "domain": "mnist",
     "normalization": {"input_range": [0, 1], "mean": [...], "std": [...]},
     "training": {...}, "metrics": {...}, ...any other info given to save_checkpoint}
`load_checkpoint` rebuilds the model from that document alone and loads the tensors strictly. Nothing is
ever unpickled: safetensors holds raw tensor bytes and JSON, and torch.load is never called.

A file in a folder with a manifest is read only if the manifest vouches for it (`rfi_models.artifacts.manifest`);
`save_checkpoint` records what it writes there.

torch is imported by the functions that build, load or save a model, not by this module: listing checkpoints,
reading their metadata and checking manifests (the app's first page) need no torch, which takes seconds
to import on a small machine.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError, safe_open

from ..names import DOMAINS, check_domain
from .atomic import is_partial, write_bytes
from .errors import CheckpointError
from .manifest import record_in_manifest, verify_against_manifest

if TYPE_CHECKING:
    import torch

    from ..models import Autoencoder

FORMAT_VERSION = 1
METADATA_KEY = "rfi_models"
MODEL_SLACK_BYTES = 64 << 20  # buffers not saved (e.g. position embeddings) beyond twice the file's size


def save_checkpoint(
    model: Autoencoder,
    path: str | Path,
    *,
    domain: str,
    training: dict | None = None,
    metrics: dict | None = None,
    **info,
) -> Path:
    """Write `model` to `path` (.safetensors) atomically: a failed save leaves the previous file as it was. Every
    value in `info` must be JSON-serialisable."""
    check_domain(domain)
    config = model.config.to_dict()
    document = {
        "format": FORMAT_VERSION,
        "architecture": model.name,
        "config": config,
        "domain": domain,
        "normalization": {"input_range": [0.0, 1.0], "mean": config["mean"], "std": config["std"]},
        "training": training or {},
        "metrics": metrics or {},
        **info,
    }
    return write_weights(model, path, document)


def write_weights(module: torch.nn.Module, path: str | Path, document: dict) -> Path:
    """Write the state of `module` and the metadata `document` to `path` (.safetensors) atomically, and record it in
    the folder's manifest when there is one: how every checkpoint of the package is written."""
    from safetensors.torch import save

    tensors = {name: t.detach().cpu().contiguous() for name, t in module.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, save(tensors, metadata={METADATA_KEY: json.dumps(document)}))
    record_in_manifest(path)
    return path


def read_checkpoint_info(path: str | Path) -> dict:
    """The metadata document of a checkpoint, checked against its manifest, without loading its tensors."""
    return checked_info(Path(path))[0]


def checked_info(path: Path) -> tuple[dict, bool]:
    """(the metadata document of a checkpoint, whether its folder's manifest vouched for the file)."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    vouched = verify_against_manifest(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: not a readable safetensors checkpoint ({err})") from None
    if METADATA_KEY not in metadata:
        raise CheckpointError(f"{path.name}: a safetensors file, but not an rfi_models checkpoint (no metadata)")
    try:
        document = json.loads(metadata[METADATA_KEY])
    except (json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(f"{path.name}: checkpoint metadata is not valid JSON ({err})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
        raise CheckpointError(f"{path.name}: unsupported checkpoint format (expected format {FORMAT_VERSION})")
    for key in ("architecture", "config", "domain"):
        if key not in document:
            raise CheckpointError(f"{path.name}: checkpoint metadata lacks {key!r}")
    if document["domain"] not in DOMAINS:
        raise CheckpointError(f"{path.name}: unknown domain {document['domain']!r}; expected one of {DOMAINS}")
    return document, vouched


def build_model(path: Path, info: dict, device: str | torch.device) -> Autoencoder:
    """The model of a checkpoint's metadata, on `device` ("meta" builds it without allocating its weights)."""
    import torch

    from ..models import model_from_config

    try:
        with torch.device(device):
            return model_from_config(info["architecture"], info["config"])
    except (KeyError, TypeError, ValueError, RuntimeError, OverflowError) as err:
        raise CheckpointError(f"{path.name}: cannot rebuild the model from its metadata ({err})") from None


def tensor_shapes(path: Path) -> dict[str, tuple[int, ...]]:
    """{name: shape} of a safetensors file's tensors, from its header alone."""
    try:
        with safe_open(str(path), framework="numpy") as f:
            return {name: tuple(f.get_slice(name).get_shape()) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: corrupt tensor data ({err})") from None


def check_weights_fit(path: Path, info: dict, model: Autoencoder, shapes: dict[str, tuple[int, ...]]) -> None:
    """Refuse a model (a meta-device skeleton is enough) needing far more memory than the file holds, or whose
    tensor names or shapes differ from the file's."""
    needed = sum(t.numel() * t.element_size() for t in itertools.chain(model.parameters(), model.buffers()))
    if needed > 2 * path.stat().st_size + MODEL_SLACK_BYTES:
        raise CheckpointError(
            f"{path.name}: its metadata describes a {info['architecture']} model of {needed / 2**20:,.0f} MiB, "
            f"but the file holds {path.stat().st_size / 2**20:,.1f} MiB of weights"
        )
    expected = {name: tuple(t.shape) for name, t in model.state_dict().items()}
    problems = [f"missing {name}" for name in sorted(expected.keys() - shapes.keys())]
    problems += [f"unexpected {name}" for name in sorted(shapes.keys() - expected.keys())]
    problems += [
        f"{name} is {list(shapes[name])} in the file but {list(shape)} in the model"
        for name, shape in sorted(expected.items())
        if name in shapes and shapes[name] != shape
    ]
    if problems:
        more = f" and {len(problems) - 3} more" if len(problems) > 3 else ""
        raise CheckpointError(
            f"{path.name}: weights do not match the {info['architecture']} config ({'; '.join(problems[:3])}{more})"
        )


def load_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> tuple[Autoencoder, dict]:
    """Rebuild the model described by the file and load its weights; returns (model in eval mode, info).

    Unless a manifest vouches for the file, the model is first built on the meta device and compared with
    the file (size, tensor names and shapes), so metadata describing a giant model never allocates it.
    """
    path = Path(path)
    info, vouched = checked_info(path)
    if not vouched:
        check_weights_fit(path, info, build_model(path, info, "meta"), tensor_shapes(path))
    model = build_model(path, info, "cpu")
    try:
        with safe_open(str(path), framework="pt", device=str(device)) as f:
            state = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118 (safe_open has no iterator)
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{path.name}: corrupt tensor data ({err})") from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        summary = str(err).splitlines()[0]
        raise CheckpointError(
            f"{path.name}: weights do not match the {info['architecture']} config ({summary})"
        ) from None
    return model.to(device).eval(), info


def find_checkpoints(folder: str | Path) -> tuple[list[tuple[Path, dict]], list[str]]:
    """Every *.safetensors checkpoint in `folder` -> ([(path, info)], [problems with unreadable files])."""
    found, problems = [], []
    for path in sorted(p for p in Path(folder).glob("*.safetensors") if not is_partial(p)):  # not a save in progress
        try:
            found.append((path, read_checkpoint_info(path)))
        except CheckpointError as err:
            problems.append(str(err))
    return found, problems
