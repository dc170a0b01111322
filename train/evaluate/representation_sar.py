"""The SAR half of `python -m train.evaluate.representation_study`: does a model's representation know where RFI is?

A linear probe for "this tile contains visible RFI", per SAR model (mae_sar, cae_sar, dae_sar), per stage and
for the controls (pixels, random-init copies): tiles are 20 x 100 px (a 17 x 5 grid of each 340 x 500 input,
`representation.TILE_GRID`), each stage's map average-pooled onto them.

- Semi-synthetic patches (`semi_synthetic`, split by scene): the train split fits the probe, val chooses its
  strength, test reports it. A tile is positive when it holds at least MIN_VISIBLE_PIXELS pixels of the
  generator's `visible` mask (RFI that raised VH by at least 1 dB), negative when the RFI changed none of its
  pixels; tiles in between (RFI too faint to see), and tiles that are mostly no-data, are left out.
- The three real RFI patches (`real_rfi_patches`, evaluation only, never fitted on): covered by 340 x 500 windows
  on the tile grid (a patch shorter than 340 rows is mirror-padded; tiles outside the patch are dropped, a tile two
  windows share is counted once). A tile is positive when it overlaps an RFI box; tiles that overlap only an ignore
  box are left out.

Two readings of each tile: its features as they are, and relative to its patch (minus the patch's median tile,
`relative_to_patch`): RFI is an anomaly against its own scene, and a linear probe of absolute features must also
separate scenes. Reported: ROC-AUC and average precision (with the share of positives, which is chance AP) on both sets.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from rfi_models.analysis.probes import fit_probe
from rfi_models.analysis.representation import (
    PIXELS,
    TILE_GRID,
    batched_features,
    pixel_features,
    tile_features,
    tile_stages,
)
from rfi_models.data.quicklook_scale import valid_pixels
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import SAR_SIZE

from .representation_cache import cache_key, cached_features, load_models, protocol, with_random_copies

SAR_MODELS = {"mae": "mae_sar", "cae": "cae_sar", "dae": "dae_sar"}
PATCHES = (48, 24, 32)  # semi-synthetic patches: train, val, test
MIN_VISIBLE_PIXELS = 20  # of a tile's 2000: 1 %
MIN_VALID_SHARE = 0.5
TILE = (SAR_SIZE[0] // TILE_GRID[0], SAR_SIZE[1] // TILE_GRID[1])


def tile_sums(masks: np.ndarray) -> np.ndarray:
    """bool [N, 340, 500] -> pixels per tile [N * 85], tiles in row-major order."""
    (gh, gw), (th, tw) = TILE_GRID, TILE
    return masks.reshape(len(masks), gh, th, gw, tw).sum(axis=(2, 4)).reshape(-1)


def semi_synthetic_tiles(split: str, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(images [n, 2, 340, 500], labels [n * 85] bool, kept [n * 85] bool) of one split."""
    data = semi_synthetic(split, n, rfi_probability=0.5)
    visible, exact = tile_sums(data.visible), tile_sums(data.masks)
    valid = tile_sums(valid_pixels(data.images)) >= MIN_VALID_SHARE * TILE[0] * TILE[1]
    return data.images, visible >= MIN_VISIBLE_PIXELS, valid & ((visible >= MIN_VISIBLE_PIXELS) | (exact == 0))


def window_offsets(size: int, window: int, step: int) -> list[int]:
    """Window starts along one axis on the tile grid: 0 and the last start that keeps the window inside."""
    return sorted({0, max(size - window, 0) // step * step})


def real_tiles() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows [W, 2, 340, 500], labels [W * 85] bool, kept [W * 85] bool) of the three real RFI patches."""
    windows, labels, kept, seen = [], [], [], set()
    for name, patch in real_rfi_patches().items():
        image = patch.image
        short = max(SAR_SIZE[0] - image.shape[1], 0), max(SAR_SIZE[1] - image.shape[2], 0)
        padded = np.pad(image, ((0, 0), (0, short[0]), (0, short[1])), mode="reflect")
        positive, ignore, valid = patch.positive, patch.ignore, valid_pixels(image[None])[0]
        for top in window_offsets(image.shape[1], SAR_SIZE[0], TILE[0]):
            for left in window_offsets(image.shape[2], SAR_SIZE[1], TILE[1]):
                windows.append(padded[:, top : top + SAR_SIZE[0], left : left + SAR_SIZE[1]])
                for row in range(TILE_GRID[0]):
                    for col in range(TILE_GRID[1]):
                        r, c = top + row * TILE[0], left + col * TILE[1]
                        box = (slice(r, r + TILE[0]), slice(c, c + TILE[1]))
                        inside = r + TILE[0] <= image.shape[1] and c + TILE[1] <= image.shape[2]
                        fresh = inside and (name, r, c) not in seen
                        seen.add((name, r, c))
                        hit = bool(positive[box].any()) if inside else False
                        labels.append(hit)
                        kept.append(fresh and (hit or not ignore[box].any())
                                    and valid[box].mean() >= MIN_VALID_SHARE)  # fmt: skip
    return np.stack(windows), np.array(labels), np.array(kept)


def sar_features(models: dict, images: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    found = {PIXELS: {PIXELS: pixel_features(torch.from_numpy(images), tiles=True)}}
    for name, model in models.items():
        started = time.time()
        found[name] = batched_features(lambda x, m=model: tile_features(m, x), images, batch_size=4)
        print(f"SAR features {name}: {time.time() - started:.0f} s", flush=True)
    return found


def binary_metrics(scores: np.ndarray, labels: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, roc_auc_score

    return {
        "roc_auc": float(roc_auc_score(labels, scores)),
        "average_precision": float(average_precision_score(labels, scores)),
        "positive_share": float(labels.mean()),
        "tiles": len(labels),
    }


def relative_to_patch(features: np.ndarray) -> np.ndarray:
    """Tile features [W * 85, d] minus their window's median tile, per feature: what a tile has that the rest of
    its patch has not (RFI is an anomaly against its own scene, and backgrounds differ between scenes)."""
    tiles = features.reshape(-1, TILE_GRID[0] * TILE_GRID[1], features.shape[1])
    return (tiles - np.median(tiles, axis=1, keepdims=True)).reshape(features.shape)


def sar_probes(features: dict, sets: dict, reading) -> dict:
    """{set: {stage: probe summary with both test sets' metrics}} of features read through `reading`."""
    probes = {}
    for name, stages in features["train"].items():
        probes[name] = {}
        for stage in stages:
            picked = {split: (reading(features[split][name][stage])[kept], labels[kept])
                      for split, (_, labels, kept) in sets.items()}  # fmt: skip
            result = fit_probe(picked["train"], picked["val"], picked["test"], select="average_precision")
            summary = result.summary()
            summary["validation_average_precision"] = summary.pop("validation_accuracy")
            probes[name][stage] = summary | {
                "semi_synthetic": binary_metrics(result.scores(picked["test"][0]), picked["test"][1]),
                "real": binary_metrics(result.scores(picked["real"][0]), picked["real"][1]),
            }
            print(f"SAR probe {name} / {stage}: {probes[name][stage]}", flush=True)
    return probes


def sar_study(folder: Path, cache: Path, patches: tuple[int, int, int] = PATCHES) -> dict:
    """The SAR probes (module docstring) -> the representation_sar.json document."""
    started = time.time()
    trained, records = load_models(folder, SAR_MODELS)
    models = with_random_copies(trained)
    sets = {split: semi_synthetic_tiles(split, n) for split, n in zip(("train", "val", "test"), patches, strict=True)}
    sets["real"] = real_tiles()
    key = cache_key(records, *patches)
    features = {
        split: cached_features(cache / f"sar_{split}_{key}.npz", lambda s=split: sar_features(models, sets[s][0]))
        for split in sets
    }
    probes = {"probes": sar_probes(features, sets, lambda v: v),
              "probes_relative": sar_probes(features, sets, relative_to_patch)}  # fmt: skip
    return {
        "domain": "sar",
        "checkpoints": records,
        "protocol": protocol({"patches": dict(zip(("train", "val", "test"), patches, strict=True)),
                              "tile": list(TILE), "min_visible_pixels": MIN_VISIBLE_PIXELS,
                              "task": "tile contains visible RFI (binary)",
                              "strength_chosen_by": "validation average precision",
                              "real_windows": len(sets["real"][0])}),
        "stages": {PIXELS: [{"name": PIXELS, "depth": 0.0, "line": "main"}]}
        | {name: [vars(stage) for stage in tile_stages(model)] for name, model in models.items()},
        **probes,
        "seconds": round(time.time() - started, 1),
    }  # fmt: skip
