"""Features at every stage of an encoder, for linear probes and CKA (`analysis.probes`).

The stages are computed by explicit staged forwards that call the model's own layers in order (no hooks, no mode
or weight changes: the app shares one model per checkpoint), and match `encode` at the end (a test checks it):

- MAE: `embed` (patch embedding plus positions), `block1` ... `blockK` (the tokens after each block) and `latent`
  (after the final LayerNorm). Read as the CLS token and as the mean over the patch tokens; the latent is the CLS
  token, what `encode` returns.
- CAE: `stage1` ... (each stride-2 stage of two convolution units) and `latent` (the dense bottleneck, global).
- DAE: `stage1` ... `stage3` (convolution, ReLU, max-pooling each); the last is the bottleneck, `latent` flattened.

Two readings of a stage's feature map [N, C, h, w]:
- `pooled_features` (MNIST): one vector per image, the map averaged over its positions ("(mean)"/"(pooled)") or,
  for global vectors, the vector itself; pixels as the 784 raw values.
- `tile_features` (SAR): one vector per 20 x 100 px tile of a 340 x 500 input (a 17 x 5 grid, `TILE_GRID`): the
  map average-pooled onto the tile grid (adaptive pooling, so every stage's resolution maps onto the same tiles).
  Global vectors (the MAE's CLS token, the CAE's dense latent) say nothing about where RFI is and are left out.
  Pixels: the image average-pooled to 4 x 10 cells per tile, both channels (80 values per tile).

`random_copy` is a randomly initialised model of the same architecture (seeded), the probes' control.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ..models import Autoencoder
from ..models.bands import network_input

TILE_GRID = (17, 5)  # tiles of a 340 x 500 SAR input: 20 rows x 100 columns each
PIXEL_CELLS = (4, 10)  # the pixel control's cells per tile
PIXELS = "pixels"


@dataclass(frozen=True)
class Stage:
    """One reading of one stage: its name, where it sits in the encoder (0 = first stage, 1 = the latent) and the
    line it belongs to in the depth figure ("main", or "cls" for the MAE's CLS tokens)."""

    name: str
    depth: float
    line: str = "main"


@torch.no_grad()
def stage_outputs(model: Autoencoder, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """x [N, C, H, W] in [0, 1] -> (spatial maps {stage: [N, C', h, w]}, global vectors {stage: [N, d]})."""
    model.check_input(x)
    if model.name == "mae":
        return mae_outputs(model, x)
    if model.name == "cae":
        maps, h = {}, network_input(model, x)
        for i, stage in enumerate(model.down, 1):
            h = maps[f"stage{i}"] = stage(h)
        return maps, {"latent": model.to_latent(h.flatten(1))}
    maps, h = {}, network_input(model, x)
    for i in range(len(model.encoder) // 3):
        h = maps[f"stage{i + 1}"] = model.encoder[3 * i : 3 * i + 3](h)
    return maps, {"latent": h.flatten(1)}


def mae_outputs(model: Autoencoder, x: torch.Tensor) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The MAE's stages with every patch visible, tokens in grid order (forward_encoder at mask ratio 0)."""
    n, (gh, gw) = len(x), model.grid_size
    tokens = model.patch_embed(model.normalize(x)).flatten(2).transpose(1, 2) + model.pos_embed[:, 1:, :]

    def grid(t: torch.Tensor) -> torch.Tensor:
        return t.transpose(1, 2).reshape(n, -1, gh, gw)

    maps, vectors = {"embed": grid(tokens)}, {}
    h = torch.cat([(model.cls_token + model.pos_embed[:, :1, :]).expand(n, -1, -1), tokens], dim=1)
    for i, block in enumerate(model.blocks, 1):
        h, _ = block(h)
        maps[f"block{i}"], vectors[f"block{i}"] = grid(h[:, 1:]), h[:, 0]
    h = model.norm(h)
    maps["latent"], vectors["latent"] = grid(h[:, 1:]), h[:, 0]
    return maps, vectors


def pooled_stages(model: Autoencoder) -> list[Stage]:
    """The stages `pooled_features` returns, in encoder order."""
    if model.name == "mae":
        depth = len(model.blocks) + 1
        stages = [Stage("embed (mean)", 0.0)]
        for i in range(1, depth):
            stages += [Stage(f"block{i} (CLS)", i / depth, "cls"), Stage(f"block{i} (mean)", i / depth)]
        return [*stages, Stage("latent (CLS)", 1.0)]
    count = len(model.down) if model.name == "cae" else len(model.encoder) // 3
    return [Stage(f"stage{i} (pooled)", (i - 1) / count) for i in range(1, count + 1)] + [Stage("latent", 1.0)]


def tile_stages(model: Autoencoder) -> list[Stage]:
    """The stages `tile_features` returns, in encoder order (spatial maps only)."""
    if model.name == "mae":
        depth = len(model.blocks) + 1
        return [Stage("embed", 0.0)] + [Stage(f"block{i}", i / depth) for i in range(1, depth)] + [Stage("latent", 1.0)]
    if model.name == "cae":
        count = len(model.down)
        return [Stage(f"stage{i}", (i - 1) / (count - 1)) for i in range(1, count + 1)]
    count = len(model.encoder) // 3
    return [Stage(f"stage{i}", (i - 1) / (count - 1)) for i in range(1, count)] + [Stage("latent", 1.0)]


def pooled_features(model: Autoencoder, x: torch.Tensor) -> dict[str, np.ndarray]:
    """{stage name of `pooled_stages`: float32 [N, d]} for images x [N, C, H, W] in [0, 1]."""
    maps, vectors = stage_outputs(model, x)
    found = {}
    for stage in pooled_stages(model):
        key, reading = stage.name.split(" ")[0], stage.name.partition(" ")[2]
        tensor = vectors[key] if reading in ("(CLS)", "") else maps[key].mean(dim=(2, 3))
        found[stage.name] = tensor.float().cpu().numpy()
    return found


def to_tiles(maps: torch.Tensor, grid: tuple[int, int] = TILE_GRID) -> np.ndarray:
    """[N, C, h, w] -> float32 [N * tiles, C]: average-pooled onto the tile grid, tiles in row-major order."""
    pooled = F.adaptive_avg_pool2d(maps.float(), grid)
    return pooled.permute(0, 2, 3, 1).reshape(-1, maps.shape[1]).cpu().numpy()


def tile_features(model: Autoencoder, x: torch.Tensor) -> dict[str, np.ndarray]:
    """{stage name of `tile_stages`: float32 [N * 85, C]} for SAR inputs x [N, C, 340, 500] in [0, 1]."""
    maps, _ = stage_outputs(model, x)
    return {stage.name: to_tiles(maps[stage_key(model, stage.name)]) for stage in tile_stages(model)}


def stage_key(model: Autoencoder, name: str) -> str:
    """The map behind a tile stage: the DAE's `latent` is its last stage's map."""
    return f"stage{len(model.encoder) // 3}" if model.name == "dae" and name == "latent" else name


def pixel_features(x: torch.Tensor, tiles: bool) -> np.ndarray:
    """The pixel control: raw pixels [N, C * H * W] (tiles=False), or per tile the image pooled to PIXEL_CELLS
    cells, [N * tiles, C * cells]."""
    if not tiles:
        return x.reshape(len(x), -1).float().numpy()
    (gh, gw), (ch, cw) = TILE_GRID, PIXEL_CELLS
    cells = F.adaptive_avg_pool2d(x.float(), (gh * ch, gw * cw)).reshape(len(x), x.shape[1], gh, ch, gw, cw)
    return cells.permute(0, 2, 4, 1, 3, 5).reshape(len(x) * gh * gw, -1).numpy()


def random_copy(model: Autoencoder, seed: int = 0) -> Autoencoder:
    """A randomly initialised model of the same family and config, in eval mode, seeded (the global RNG is left as
    it was)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        copy = type(model)(model.config)
    return copy.eval()


def batched_features(extract, images: np.ndarray, batch_size: int) -> dict[str, np.ndarray]:
    """extract(float32 tensor batch in [0, 1]) -> {name: [B', d]}, run over images [N, C, H, W] (uint8 or floats
    in [0, 1]) in batches and concatenated."""
    scale = np.float32(255) if images.dtype == np.uint8 else np.float32(1)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.asarray(images[start : start + batch_size], dtype=np.float32) / scale)
        with torch.no_grad():
            for name, values in extract(batch).items():
                parts.setdefault(name, []).append(values)
    return {name: np.concatenate(values) for name, values in parts.items()}
