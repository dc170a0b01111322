"""Files that appear complete or not at all: written under a temporary name beside the final one, then renamed.

A run killed half-way (even by SIGKILL) leaves at most a hidden `.<name>.partial-<pid><suffix>` file, never a
partial file at the final path, because `os.replace` within one folder is atomic on POSIX file systems. The
temporary name keeps the final suffix, so writers that choose the format from the suffix still work.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

PARTIAL_MARK = ".partial-"


def partial_path(final: Path) -> Path:
    """The temporary name of `final` while this process writes it."""
    return final.with_name(f".{final.stem}{PARTIAL_MARK}{os.getpid()}{final.suffix}")


def is_partial(path: Path) -> bool:
    """Whether `path` is the temporary file of a write in progress (or of a killed one): never a finished file."""
    return path.name.startswith(".") and PARTIAL_MARK in path.name


@contextlib.contextmanager
def atomic_path(final: str | Path) -> Iterator[Path]:
    """Yield a temporary path to write; on success it is flushed to disk and renamed to `final`, on error removed."""
    final = Path(final)
    temporary = partial_path(final)
    try:
        yield temporary
        with temporary.open("rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)


def write_bytes(final: str | Path, data: bytes) -> None:
    """Write `data` to `final` atomically: an error part-way (a full disk, a crash) leaves `final` as it was."""
    with atomic_path(final) as temporary:
        temporary.write_bytes(data)


def remove_stale_partials(folder: str | Path) -> list[Path]:
    """Delete the temporary files that killed runs left in `folder` (not those of live processes); returns them."""
    removed = []
    for path in Path(folder).glob(f".*{PARTIAL_MARK}*"):
        pid = path.stem.rpartition(PARTIAL_MARK)[2]
        if pid.isdigit() and not process_alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True
