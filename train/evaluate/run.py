"""python -m train.evaluate: results from the shipped checkpoints, on data never used in training or tuning.

Writes checkpoints/results.json, checkpoints/RESULTS.md, training curves (checkpoints/curves/*.png) and
the precomputed latent maps the app opens with (checkpoints/latents_{domain}.npz, see rfi_models.analysis.latent_maps).
Linear probes through each model's depth and CKA: train/evaluate/representation_study.py
(checkpoints/representation_*.json).

- MNIST (the official test set; training used the 60k training set only): see train/evaluate/mnist_study.py.
- SAR: every model against the no-model controls, on synthetic, semi-synthetic and real RFI-free data, with
  the learned secondary classifier: see train/evaluate/sar.py (it also writes checkpoints/detectors.json).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.analysis.latent_maps import precompute_latent_maps
from rfi_models.artifacts.manifest import write_manifest
from rfi_models.data import load_mnist_sample, synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS
from rfi_models.detection.anomaly import anomaly_maps
from rfi_models.metrics import image_quality, rfi_pixel_metrics
from rfi_models.models import DAE_NOISE
from rfi_models.names import DOMAINS, MAE_DISPLAY_RATIO, checkpoint_name, checkpoints_dir

from . import representation_study, sar
from .mnist_study import evaluate_mnist
from .report import plot_training_curves, write_results_json, write_results_markdown
from .sar_sets import add_set_arguments

CHECKPOINTS = checkpoints_dir()


def checkpoint_path(folder: Path, model: str, domain: str) -> Path:
    return folder / checkpoint_name(model, domain)


def image_quality_over(model, images: np.ndarray, batch: int = 500, **corruption) -> dict[str, float]:
    """Mean PSNR/SSIM (whole image and masked region where there is a mask) over images [N, 1, 28, 28] uint8."""
    sums: dict[str, float] = {}
    for start in range(0, len(images), batch):
        x = torch.from_numpy(images[start : start + batch] / np.float32(255))
        with torch.no_grad():
            out = model.reconstruct(x, seed=start, **corruption)
        for i in range(len(x)):
            mask = None if out.mask is None else out.mask[i].numpy()
            for key, value in image_quality(x[i].numpy(), out.image[i].numpy(), mask).items():
                sums[key] = sums.get(key, 0.0) + value
    return {key: value / len(images) for key, value in sums.items()}


REFERENCE_MNIST_IMAGES = 64
REFERENCE_SAR_PATCHES = 4


def reference_metrics(path: Path) -> dict[str, float]:
    """Figures on a small fixed subset that a test recomputes, to show a checkpoint still gives its results."""
    model, info = rfi_models.load_checkpoint(path)
    torch.manual_seed(0)
    if info["domain"] == "mnist":
        images = load_mnist_sample()[0][:REFERENCE_MNIST_IMAGES, None]
        corruption = {"mae": {"mask_ratio": MAE_DISPLAY_RATIO}, "dae": {"noise_factor": DAE_NOISE}}.get(model.name, {})
        quality = image_quality_over(model, images, **corruption)
        return {"psnr": quality["psnr"], "ssim": quality["ssim"]}
    # recorded on the legacy recipe; re-record (and drop the pin) when the SAR checkpoints are retrained
    images, truth = synthetic_sar(REFERENCE_SAR_PATCHES, seed=SPLIT_SEEDS["test"], rfi_probability=1.0, recipe="legacy")
    with torch.no_grad():
        scores = anomaly_maps(model, images, "rfi")
    metrics = rfi_pixel_metrics(scores, truth, images)
    return {"roc_auc": metrics["roc_auc"], "average_precision": metrics["average_precision"]}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS))
    parser.add_argument("--mnist-images", type=int, default=2000, help="MNIST test digits for PSNR/SSIM")
    parser.add_argument("--mnist-latent", type=int, default=2000, help="MNIST test digits for latent-space figures")
    parser.add_argument("--mnist-attention", type=int, default=64, help="MNIST test digits for deletion curves")
    parser.add_argument("--per-class", type=int, default=200, help="MNIST test images per class for latent maps")
    add_set_arguments(parser, threads=2)
    parser.add_argument("--sar-only", nargs="+", metavar="DETECTOR",
                        help="re-evaluate only these SAR detectors (e.g. mae_sar control-input baseline); the others "
                        "keep their recorded results when those were made on the same data and checkpoint")  # fmt: skip
    parser.add_argument("--sar-map-patches", type=int, default=120, help="synthetic SAR test patches in the latent map")
    parser.add_argument("--only", choices=DOMAINS, help="re-evaluate one domain; the other's stored results stay")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    started = time.time()
    stored = folder / "results.json"
    earlier = json.loads(stored.read_text()) if stored.exists() else {}
    results = earlier if args.only else {}
    for key in ("sar_ablation", "sar_classifier_data", "sar_segmenter"):  # made by their own studies: kept
        if key in earlier:
            results[key] = earlier[key]
    domains = [args.only] if args.only else list(DOMAINS)
    if "mnist" in domains:
        precompute_latent_maps(folder, "mnist", args.per_class)
        results["mnist"] = evaluate_mnist(folder, args.mnist_images, args.mnist_latent, args.mnist_attention)
    if "sar" in domains:
        precompute_latent_maps(folder, "sar", sar_patches=args.sar_map_patches)
        only = set(args.sar_only) if args.sar_only else None
        results["sar"] = sar.run(folder, args.sar_train, args.sar_val, args.sar_test, only)
        results.pop("sar_training_data", None)  # the 3-epoch ablation of an earlier version; not redone
    results["representation"] = representation_study.run(folder, domains)  # probes by depth and CKA, both JSONs
    reference = results.setdefault("reference", {})
    for domain in domains:
        reference |= {p.stem: reference_metrics(p) for p in sorted(folder.glob(f"*_{domain}.safetensors"))}
    results["settings"] = vars(args) | {"torch_threads": torch.get_num_threads()}
    results["settings"]["seconds"] = round(time.time() - started, 1)
    write_results_json(folder, results)
    plot_training_curves(folder)
    write_results_markdown(results, folder / "RESULTS.md")
    write_manifest(folder)  # the sha256 of every checkpoint and latent map, checked whenever they are read
    print((folder / "RESULTS.md").read_text())
