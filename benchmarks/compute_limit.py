"""The machine's limit for RFI detection, measured in the same run as the detection rows it judges.

- `gflop_per_tile`: the floating-point operations of the detector's model on one tile, counted by torch's
  `FlopCounterMode` on its residual graph (every covering mask of a MAE included; a multiply-add counts as 2:
  matrix products and convolutions, the elementwise work not counted). `compute_limit` multiplies it by the tiles
  the images are cut into (they overlap by `tiling.OVERLAP`, so a megapixel costs more than its own area's tiles).
  The numpy scores computed from the residual are left out too.
- `matmul_gflop_per_s`: the float32 matrix-product rate of this machine on the benchmarks' torch threads, the
  median of repeated 2048 x 2048 products.
- Their ratio is the fastest the images could be scored if every operation ran at the matrix-product rate; a
  detection row reports its speed as a share of it.
"""

from __future__ import annotations

from pathlib import Path

from rfi_models.detection.tiling import OVERLAP, count_tiles

from .timing import median_seconds

MATMUL_SIZE = 2048


def gflop_per_tile(checkpoint: Path) -> tuple[float, tuple[int, int]]:
    """(GFLOP of the checkpoint's residual graph on one tile, the tile's size)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from rfi_models.artifacts.checkpoint import load_checkpoint
    from rfi_models.detection.onnx_export import ResidualGraph

    model, _ = load_checkpoint(checkpoint)
    graph = ResidualGraph(model).eval()
    tile = tuple(model.config.img_size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        graph(torch.rand(1, 2, *tile))
    return counter.get_total_flops() / 1e9, tile


def matmul_gflop_per_s(size: int = MATMUL_SIZE, repeats: int = 5) -> float:
    """fp32 matrix-product rate of this machine on size x size matrices, on this process's torch threads (the best
    case for a GEMM kernel)."""
    import torch

    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / median_seconds(lambda: a @ b, repeats) / 1e9


def compute_limit(checkpoint: Path, shapes: list[tuple[int, int]]) -> dict:
    """The detector's count for images of `shapes` (height, width), the machine's rate, and their ratio: the fewest
    seconds that work could take, and the Mpx/s that makes."""
    per_tile, tile = gflop_per_tile(checkpoint)
    tiles = sum(count_tiles(shape, tile, OVERLAP) for shape in shapes)
    megapixels = sum(height * width for height, width in shapes) / 1e6
    rate = matmul_gflop_per_s()
    return {
        "gflop_per_tile": per_tile,
        "tiles": tiles,
        "megapixels": megapixels,
        "gflop_per_mpx": per_tile * tiles / megapixels,
        "matmul_gflop_per_s": rate,
        "limit_seconds": per_tile * tiles / rate,
        "limit_mpx_per_s": megapixels * rate / (per_tile * tiles),
    }
