"""Data: offline MNIST, the synthetic Sentinel-1 generator (`synthetic_sar`; recipes in `backgrounds`, `sar_rfi`,
`sar_legacy`), semi-synthetic data on real backgrounds (`semisynthetic`), and the 8-bit quick-look scale
with its no-data rule."""

from .mnist import MNIST_MEAN, MNIST_STD, load_mnist, load_mnist_sample
from .quicklook_scale import db_to_quicklook, quicklook_to_db, valid_pixels
from .synthetic_sar import SAR_SIZE, SarPatch, synthetic_sar, synthetic_sar_patches

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "SAR_SIZE",
    "SarPatch",
    "db_to_quicklook",
    "load_mnist",
    "load_mnist_sample",
    "quicklook_to_db",
    "synthetic_sar",
    "synthetic_sar_patches",
    "valid_pixels",
]
