"""Checkpoints: one safetensors file per model, JSON metadata beside the weights, no pickle.

The safetensors header carries one metadata entry, "rfi_models", a JSON document:
    {"format": 1, "architecture": "mae", "config": {...}, "domain": "mnist",
     "normalization": {"input_range": [0, 1], "mean": [...], "std": [...]},
     "training": {...}, "metrics": {...}, ...any other info given to save_checkpoint}
`load_checkpoint` rebuilds the model from that document alone and loads the tensors strictly. Nothing is
ever unpickled: safetensors holds raw tensor bytes and JSON, and torch.load is never called.

Manifest: a folder may hold MANIFEST.json with the sha256 of every checkpoint and latent map below it
(paths relative to the folder). A file in such a folder, or in one of its subfolders, is read only if the
manifest lists it with a matching hash; a file in a folder without a manifest (above it too) is read
unchecked. `save_checkpoint` records what it writes in the manifest when there is one;
`python -m rfi_models.manifest --write FOLDER` rewrites it, and `--verify FOLDER` checks it.
Hashes are cached by (path, mtime, size, inode), so listing or loading the same files again costs a stat.

torch is imported by the functions that build, load or save a model, not by this module: listing checkpoints,
reading their metadata and checking manifests (the app's first page) need no torch, which takes about 2 s
to import on a 2-core machine.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from safetensors import SafetensorError, safe_open

if TYPE_CHECKING:
    import torch

    from .models import Autoencoder

FORMAT_VERSION = 1
METADATA_KEY = "rfi_models"
DOMAINS = ("mnist", "sar")
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = "rfi_models-manifest/1"
MANIFEST_PATTERNS = ("*.safetensors", "*.npz")  # what the code loads: weights and precomputed latent maps
MODEL_SLACK_BYTES = 64 << 20  # buffers not saved (e.g. position embeddings) beyond twice the file's size


class CheckpointError(ValueError):
    """A checkpoint file that is missing, corrupt, of another format, or does not match its model."""


def save_checkpoint(
    model: Autoencoder,
    path: str | Path,
    *,
    domain: str,
    training: dict | None = None,
    metrics: dict | None = None,
    **info,
) -> Path:
    """Write `model` to `path` (.safetensors). Every value in `info` must be JSON-serialisable."""
    from safetensors.torch import save_file

    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, got {domain!r}")
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
    tensors = {name: t.detach().cpu().contiguous() for name, t in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(path), metadata={METADATA_KEY: json.dumps(document)})
    record_in_manifest(path)
    return path


# ------------------------------------------------------------------------------------------- manifest
def absolute(path: str | Path) -> Path:
    """`path` made absolute and normalised, without following symlinks (a link stays under its folder's manifest)."""
    return Path(os.path.abspath(path))


def find_manifest(path: str | Path) -> Path | None:
    """The manifest governing `path`: MANIFEST.json in its folder or in the nearest ancestor that has one."""
    for folder in absolute(path).parents:
        if (folder / MANIFEST_NAME).is_file():
            return folder / MANIFEST_NAME
    return None


def read_manifest(manifest: Path) -> dict[str, str]:
    """{relative POSIX path: sha256 hex} of a manifest file."""
    hint = f"rewrite it with python -m rfi_models.manifest --write {manifest.parent}"
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise CheckpointError(f"{manifest}: unreadable manifest ({err}); {hint}") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise CheckpointError(f"{manifest}: not an rfi_models manifest (format {MANIFEST_FORMAT!r}); {hint}")
    sums = document.get("sha256")
    if not isinstance(sums, dict) or not all(isinstance(v, str) for v in sums.values()):
        raise CheckpointError(f"{manifest}: its 'sha256' entry must map file names to hex digests; {hint}")
    return sums


def file_sha256(path: str | Path) -> str:
    """The sha256 hex digest of a file, cached until its mtime, size or inode changes."""
    stat = Path(path).stat()
    return cached_sha256(str(absolute(path)), stat.st_mtime_ns, stat.st_size, stat.st_ino)


@functools.lru_cache(maxsize=256)
def cached_sha256(path: str, mtime_ns: int, size: int, inode: int) -> str:
    """The sha256 of `path`; the other arguments only key the cache (see file_sha256)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify_against_manifest(path: str | Path) -> bool:
    """Check a file against its manifest (module docstring). True if a manifest vouched for it, False if
    there is no manifest; CheckpointError if the file is not listed or its hash differs."""
    manifest = find_manifest(path)
    if manifest is None:
        return False
    name = absolute(path).relative_to(manifest.parent).as_posix()
    expected = read_manifest(manifest).get(name)
    if expected is None:
        raise CheckpointError(
            f"{name} is not listed in {manifest}, and a folder with a manifest only serves the files it lists; "
            f"add it with python -m rfi_models.manifest --write {manifest.parent}"
        )
    if file_sha256(path) != expected:
        raise CheckpointError(
            f"{name}: its sha256 does not match {manifest} (the file was changed, truncated or replaced); restore "
            "it, or if you changed it on purpose record it with python -m rfi_models.manifest --write "
            f"{manifest.parent}"
        )
    return True


def manifest_files(folder: Path) -> list[Path]:
    """The files a manifest of `folder` covers (MANIFEST_PATTERNS, in subfolders too)."""
    return sorted({path for pattern in MANIFEST_PATTERNS for path in folder.rglob(pattern) if path.is_file()})


def write_manifest_sums(manifest: Path, sums: dict[str, str]) -> None:
    document = {
        "format": MANIFEST_FORMAT,
        "about": "sha256 of every checkpoint and latent map below this folder, verified when they are read "
        "(rfi_models.checkpoint); regenerate with python -m rfi_models.manifest --write FOLDER",
        "sha256": dict(sorted(sums.items())),
    }
    partial = manifest.with_name(f".{manifest.name}.{os.getpid()}.tmp")
    partial.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, manifest)  # readers never see a half-written manifest


def write_manifest(folder: str | Path) -> Path:
    """(Re)write folder/MANIFEST.json with the sha256 of every file it covers; returns its path."""
    folder = absolute(folder)
    manifest = folder / MANIFEST_NAME
    sums = {path.relative_to(folder).as_posix(): file_sha256(path) for path in manifest_files(folder)}
    write_manifest_sums(manifest, sums)
    return manifest


def record_in_manifest(path: str | Path) -> None:
    """Record a file just written in the manifest governing it, if there is one."""
    manifest = find_manifest(path)
    if manifest is not None:
        sums = read_manifest(manifest)
        sums[absolute(path).relative_to(manifest.parent).as_posix()] = file_sha256(path)
        write_manifest_sums(manifest, sums)


def verify_folder(folder: str | Path) -> list[str]:
    """Every problem of folder/MANIFEST.json: missing manifest, listed files missing, unlisted or changed files."""
    folder = absolute(folder)
    manifest = folder / MANIFEST_NAME
    if not manifest.is_file():
        return [f"{folder} has no {MANIFEST_NAME}"]
    sums = read_manifest(manifest)
    problems = [f"{name} is listed in {manifest} but missing" for name in sorted(sums) if not (folder / name).is_file()]
    for path in manifest_files(folder):
        try:
            verify_against_manifest(path)
        except CheckpointError as err:
            problems.append(str(err))
    return problems


# ------------------------------------------------------------------------------------------- reading
def read_checkpoint_info(path: str | Path) -> dict:
    """The metadata document of a checkpoint, checked against its manifest, without loading its tensors."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    verify_against_manifest(path)
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
    return document


def build_model(path: Path, info: dict, device: str | torch.device) -> Autoencoder:
    """The model of a checkpoint's metadata, on `device` ("meta" builds it without allocating its weights)."""
    import torch

    from .models import model_from_config

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
    info = read_checkpoint_info(path)
    if not verify_against_manifest(path):  # cached: a stat and a small JSON read
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
    for path in sorted(Path(folder).glob("*.safetensors")):
        try:
            found.append((path, read_checkpoint_info(path)))
        except CheckpointError as err:
            problems.append(str(err))
    return found, problems
