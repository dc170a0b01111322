"""python -m train.evaluate.stripe_masks: do masks that follow the stripes make a residual carry RFI? (issue 22)

For every source (SAR checkpoints, each with the masks it was trained with or with `--mask-scheme rows`, and the
no-model controls), the pooled pixel average precision of its `error` and `rfi` scores on the three real RFI
patches: every pixel of the three, positive inside the RFI boxes, the ignore boxes left out. For every checkpoint
also the reconstruction floor on what it hides (MSE over its hidden pixels against the per-patch, per-channel mean
predictor's, `sar.reconstruction_floor`) on RFI-free synthetic and semi-synthetic test patches. The real
patches are validation data: nothing here is trained or tuned on them. Results go to --out (JSON) and stdout.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import average_precision_score

import rfi_models
from rfi_models.artifacts.atomic import write_bytes
from rfi_models.data.quicklook_scale import valid_pixels
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_sar
from rfi_models.detection.anomaly import score_residual
from rfi_models.detection.controls import CONTROLS, control_residual_fn
from rfi_models.detection.detector import model_residual_fn
from rfi_models.detection.tiling import score_tiled
from rfi_models.models import MaskedAutoencoder
from rfi_models.runtime import keep_large_blocks

from .sar import channel_means, floor_summary, reconstruction_floor

METHODS = ("rfi", "error")


def pooled_average_precision(residual_fn, tile: tuple[int, int]) -> dict[str, float]:
    """Pooled pixel AP of each score of METHODS over the three real RFI patches (ignore boxes left out)."""
    patches = list(real_rfi_patches().values())
    result = {}
    for method in METHODS:
        scores, truth = [], []
        for patch in patches:
            score = score_tiled(lambda tiles, m=method: score_residual(tiles, residual_fn(tiles), m), patch.image, tile)
            keep = ~patch.ignore
            scores.append(score[keep])
            truth.append(patch.positive[keep])
        result[method] = float(average_precision_score(np.concatenate(truth), np.concatenate(scores)))
    return result


def floor_sets(n: int, split: str = "test") -> dict[str, np.ndarray]:
    """n RFI-free synthetic and n RFI-free semi-synthetic patches of `split`, float32 [n, 2, 340, 500]."""
    seed = SPLIT_SEEDS[split]
    synthetic = synthetic_sar(n, seed=seed, rfi_probability=0.0)[0]
    return {"synthetic": synthetic, "semi": semi_synthetic(split, n, seed=seed, rfi_probability=0.0).images}


def covering_floor(residual_fn, images: np.ndarray) -> float:
    """The floor ratio of a covering residual (every pixel predicted while hidden, as the detectors score it): its
    MSE over valid pixels against the per-patch, per-channel mean predictor's. The same for models and controls."""
    squared = baseline = 0.0
    count = 0
    for i in range(0, len(images), 4):
        batch = images[i : i + 4]
        for image, residual, keep in zip(batch, residual_fn(batch), valid_pixels(batch), strict=True):
            squared += float((residual[:, keep] ** 2).sum())
            baseline += float(((image - channel_means(image, keep)[:, None, None])[:, keep] ** 2).sum())
            count += int(keep.sum()) * image.shape[0]
    return floor_summary(squared, baseline, count)["ratio"]


def evaluate_checkpoint(path: Path, mask_scheme: str | None, backgrounds: dict[str, np.ndarray]) -> dict | None:
    """AP (and the floor, with the model's own masks) of one checkpoint; None for a mask scheme it has not."""
    model, _ = rfi_models.load_checkpoint(path)
    model.eval()
    if mask_scheme and not isinstance(model, MaskedAutoencoder):
        return None
    started = time.time()
    residual_fn, _ = model_residual_fn(path, mask_scheme=mask_scheme)
    entry = {"average_precision": pooled_average_precision(residual_fn, model.config.img_size)}
    if backgrounds:
        entry["covering_floor"] = {name: covering_floor(residual_fn, x) for name, x in backgrounds.items()}
        if not mask_scheme:
            entry["floor"] = {name: reconstruction_floor(model, x)["ratio"] for name, x in backgrounds.items()}
    entry["seconds"] = round(time.time() - started, 1)
    return entry


def table(results: dict) -> str:
    """The results as text: AP per score, then the floors (synthetic / semi-synthetic) where measured."""

    def pair(values: dict | None) -> str:
        return f"{values['synthetic']:.3f} / {values['semi']:.3f}" if values else ""

    lines = [f"{'source':44s} {'AP rfi':>7s} {'AP error':>8s}  {'floor (own masks)':>17s}  covering floor"]
    for name, entry in results.items():
        ap = entry["average_precision"]
        own, covering = pair(entry.get("floor")), pair(entry.get("covering_floor"))
        lines.append(f"{name:44s} {ap['rfi']:7.3f} {ap['error']:8.3f}  {own:>17s}  {covering}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate.stripe_masks", description=__doc__.split("\n")[0])
    parser.add_argument("checkpoints", nargs="*", type=Path, help="SAR checkpoints to score")
    parser.add_argument("--mask-scheme", choices=("rows",), help="score the MAE checkpoints with row masks too")
    parser.add_argument("--controls", nargs="*", choices=CONTROLS, default=list(CONTROLS), help="no-model controls")
    parser.add_argument("--floor-patches", type=int, default=16, help="test patches per set for the floor (0: none)")
    parser.add_argument("--floor-split", choices=("val", "test"), default="test",
                        help="split of the floor patches: val to choose between runs, test to report")  # fmt: skip
    parser.add_argument("--out", type=Path, help="JSON file to write the results to")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.checkpoints if not p.is_file()]
    if missing:
        parser.error(f"no such checkpoint: {', '.join(missing)}")
    keep_large_blocks()
    torch.set_num_threads(args.threads)
    results = {}
    backgrounds = floor_sets(args.floor_patches, args.floor_split) if args.floor_patches else {}
    for name in args.controls:
        residual_fn = control_residual_fn(name)
        results[name] = {"average_precision": pooled_average_precision(residual_fn, SAR_SIZE)}
        results[name]["covering_floor"] = {key: covering_floor(residual_fn, x) for key, x in backgrounds.items()}
    for path in args.checkpoints:
        results[path.stem] = evaluate_checkpoint(path, None, backgrounds)
        probe = evaluate_checkpoint(path, args.mask_scheme, backgrounds) if args.mask_scheme else None
        if probe:
            results[f"{path.stem} ({args.mask_scheme} masks)"] = probe
    print(table(results))
    if args.out:
        write_bytes(args.out, (json.dumps(results, indent=1) + "\n").encode())


if __name__ == "__main__":
    main()
