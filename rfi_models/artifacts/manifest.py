"""The sha256 manifest of a checkpoints folder: which files the code may read from it.

A folder may hold MANIFEST.json with the sha256 of every checkpoint and latent map below it (paths relative
to the folder). A file in such a folder, or in one of its subfolders, is read only if the manifest lists it
with a matching hash; a file in a folder without a manifest (above it too) is read unchecked.
`rfi_models.artifacts.checkpoint.save_checkpoint` records what it writes in the manifest when there is one.
Hashes are cached by (path, mtime, size, inode), so listing or loading the same files again costs a stat.

python -m rfi_models.artifacts.manifest --write checkpoints    # (re)write checkpoints/MANIFEST.json
python -m rfi_models.artifacts.manifest --verify checkpoints   # exit 1, one line per problem, if anything differs
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
from pathlib import Path

from .atomic import is_partial, write_bytes
from .errors import CheckpointError

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = "rfi_models-manifest/1"
MANIFEST_PATTERNS = ("*.safetensors", "*.npz", "*.onnx")  # what the code loads: weights, latent maps, ONNX exports


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
    hint = f"rewrite it with python -m rfi_models.artifacts.manifest --write {manifest.parent}"
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
            f"add it with python -m rfi_models.artifacts.manifest --write {manifest.parent}"
        )
    if file_sha256(path) != expected:
        raise CheckpointError(
            f"{name}: its sha256 does not match {manifest} (the file was changed, truncated or replaced); restore "
            "it, or if you changed it on purpose record it with python -m rfi_models.artifacts.manifest --write "
            f"{manifest.parent}"
        )
    return True


def manifest_files(folder: Path) -> list[Path]:
    """The files a manifest of `folder` covers (MANIFEST_PATTERNS, in subfolders too)."""
    found = {path for pattern in MANIFEST_PATTERNS for path in folder.rglob(pattern) if path.is_file()}
    return sorted(path for path in found if not is_partial(path))  # a save in progress is not a file yet


def write_manifest_sums(manifest: Path, sums: dict[str, str]) -> None:
    document = {
        "format": MANIFEST_FORMAT,
        "about": "sha256 of every checkpoint and latent map below this folder, verified when they are read "
        "(rfi_models.artifacts.checkpoint); regenerate with python -m rfi_models.artifacts.manifest --write FOLDER",
        "sha256": dict(sorted(sums.items())),
    }
    write_bytes(manifest, (json.dumps(document, indent=2) + "\n").encode())  # never seen half-written


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rfi_models.artifacts.manifest", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", metavar="FOLDER", help="(re)write FOLDER/MANIFEST.json")
    action.add_argument("--verify", metavar="FOLDER", help="check FOLDER against its MANIFEST.json")
    args = parser.parse_args(argv)
    if args.write:
        manifest = write_manifest(args.write)
        print(f"wrote {manifest} ({len(read_manifest(manifest))} files)")
        return 0
    try:
        problems = verify_folder(args.verify)
    except CheckpointError as err:
        problems = [str(err)]
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    if not problems:
        print(f"{args.verify}: every file matches its manifest")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
