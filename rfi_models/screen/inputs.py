"""What to screen: INPUTS (files, folders searched recursively, text files listing them) -> scenes with unique names.

A scene is a file the readers may accept (by its suffix, `SCENE_SUFFIXES`) or a Sentinel-1 `.SAFE` folder.
Whether its content is really usable is decided later, per scene, by the readers: a scene they refuse
becomes a refused row of the summary, not a failed run.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

SCENE_SUFFIXES = (".npy", ".npz", ".tif", ".tiff", ".png", ".zip")
LIST_SUFFIXES = (".txt", ".lst", ".list")


class ArgumentError(ValueError):
    """INPUTS that cannot be screened at all (missing paths, a list naming nothing): exit code 2."""


@dataclass(frozen=True)
class SceneInput:
    path: Path  # absolute
    name: str  # output names: DIR/<name>.mask.tif, DIR/<name>.scores.tif
    bytes: int  # size (a .SAFE folder: the sum of its files) and modification time identify the input
    mtime_ns: int


def is_safe_folder(path: Path) -> bool:
    return path.is_dir() and path.suffix.upper() == ".SAFE"


def scenes_in_folder(folder: Path) -> list[Path]:
    """Scene files and .SAFE folders below `folder`, sorted; nothing inside a .SAFE folder is a scene of its own."""
    found = []
    for root, dirs, files in os.walk(folder):
        safe = sorted(d for d in dirs if d.upper().endswith(".SAFE"))
        found += [Path(root) / d for d in safe]
        dirs[:] = sorted(d for d in dirs if d not in safe and not d.startswith("."))
        found += [Path(root) / f for f in files if Path(f).suffix.lower() in SCENE_SUFFIXES and not f.startswith(".")]
    return sorted(found)


def read_list(path: Path) -> list[Path]:
    """The paths a text file lists, one per line (blank lines and # comments skipped), relative to the file."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ArgumentError(f"{path}: cannot be read as a list of inputs ({err})") from None
    listed = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
    return [(path.parent / entry).resolve() if not Path(entry).is_absolute() else Path(entry) for entry in listed]


def expand(inputs: list[str | Path], nested: bool = False) -> list[Path]:
    """Every scene named by `inputs`, in the order given, without repeats. A missing path is an ArgumentError;
    so are folders and lists that hold no scene. Files are kept whatever they hold (refused later if bad)."""
    scenes: list[Path] = []
    for item in map(Path, inputs):
        if not item.exists():
            raise ArgumentError(f"{item}: no such file or folder")
        if is_safe_folder(item):
            found = [item]
        elif item.is_dir():
            found = scenes_in_folder(item)
            if not found:
                raise ArgumentError(f"{item}: no scene in this folder (looked for {', '.join(SCENE_SUFFIXES)}, .SAFE)")
        elif item.suffix.lower() in LIST_SUFFIXES and not nested:
            found = expand(read_list(item), nested=True)
            if not found:
                raise ArgumentError(f"{item}: the list names no input")
        else:
            found = [item]
        scenes += [path.resolve() for path in found]
    return list(dict.fromkeys(scenes))


def identity(path: Path) -> tuple[int, int]:
    """(bytes, mtime_ns) of a file, or of all files in a folder (latest mtime)."""
    if path.is_dir():
        stats = [p.stat() for p in path.rglob("*") if p.is_file()]
        return sum(s.st_size for s in stats), max((s.st_mtime_ns for s in stats), default=0)
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def scene_name(path: Path) -> str:
    """The file name without its suffix (.SAFE and .zip included)."""
    return path.name[: -len(path.suffix)] if path.suffix else path.name


def scene_inputs(inputs: list[str | Path]) -> list[SceneInput]:
    """The scenes to screen with unique output names: a name shared by several inputs gets a hash of its path."""
    paths = expand(inputs)
    names = [scene_name(path) for path in paths]
    scenes = []
    for path, name in zip(paths, names, strict=True):
        if names.count(name) > 1:
            name = f"{name}-{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
        scenes.append(SceneInput(path, name, *identity(path)))
    return scenes
