"""python -m train.evaluate: results from the shipped checkpoints, on data never used in training or tuning.

Writes checkpoints/results.json, checkpoints/RESULTS.md, training curves (checkpoints/curves/*.png) and
the precomputed latent maps the app opens with (checkpoints/latents_{domain}.npz, see rfi_models.analysis.latent_maps).

- MNIST (the official test set; training used the 60k training set only): see train/mnist_study.py.
- SAR (synthetic test seed 3000; training used seed 1000, thresholds were calibrated on seed 2000):
  pixel ROC-AUC, average precision, best F1 and IoU at the default threshold for each model and the
  baseline, image-level RFI detection AUC, and latency per patch.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

import rfi_models
from rfi_models.analysis import Detector, anomaly_maps
from rfi_models.analysis.detector import store_calibrated_thresholds
from rfi_models.analysis.latent_maps import precompute_latent_maps
from rfi_models.data import load_mnist_sample, synthetic_sar
from rfi_models.data.synthetic_sar import SPLIT_SEEDS
from rfi_models.manifest import write_manifest
from rfi_models.metrics import image_quality, rfi_pixel_metrics
from rfi_models.models import DAE_NOISE
from rfi_models.names import DOMAINS, FAMILIES

from .mnist_study import evaluate_mnist
from .report import plot_training_curves, write_results_markdown

CHECKPOINTS = Path("checkpoints")


def checkpoint_path(folder: Path, model: str, domain: str) -> Path:
    return folder / f"{model}_{domain}.safetensors"


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


def image_detection_auc(scores: np.ndarray, truth: np.ndarray) -> float:
    """AUC of a per-image score (99.9th percentile of the map) against 'has RFI'."""
    has_rfi = truth.reshape(len(truth), -1).any(axis=1)
    per_image = np.percentile(scores.reshape(len(scores), -1), 99.9, axis=1)
    return float(roc_auc_score(has_rfi, per_image)) if 0 < has_rfi.sum() < len(has_rfi) else float("nan")


def median_latency_ms(detector: Detector, patch: np.ndarray, repeats: int = 5) -> float:
    detector.score_batch(patch[None])
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        detector.score_batch(patch[None])
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times))


def evaluate_detector(detector: Detector, images: np.ndarray, truth: np.ndarray) -> dict:
    with torch.no_grad():
        scores = np.concatenate([detector.score_batch(images[i : i + 4]) for i in range(0, len(images), 4)])
    metrics = rfi_pixel_metrics(scores, truth, images, threshold=detector.threshold)
    return {
        **metrics,
        "threshold": detector.threshold,
        "image_auc": image_detection_auc(scores, truth),
        "latency_ms": median_latency_ms(detector, images[0]),
    }


def evaluate_sar(folder: Path, n_patches: int) -> dict:
    images, truth = synthetic_sar(n_patches, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    results = {"baseline": evaluate_detector(Detector.baseline(), images, truth)}
    for family in FAMILIES:
        path = checkpoint_path(folder, family, "sar")
        if not path.exists():
            results[family] = {"missing": str(path)}
            continue
        store_calibrated_thresholds(path)  # on validation patches (seed 2000), once per checkpoint
        entry = {}
        for method in ("rfi", "error"):
            entry[method] = evaluate_detector(Detector.from_checkpoint(path, method), images, truth)
        _, info = rfi_models.load_checkpoint(path)
        entry["training"] = info.get("training", {})
        results[family] = entry
    return results


REFERENCE_MNIST_IMAGES = 64
REFERENCE_SAR_PATCHES = 4


def reference_metrics(path: Path) -> dict[str, float]:
    """Figures on a small fixed subset that a test recomputes, to show a checkpoint still gives its results."""
    model, info = rfi_models.load_checkpoint(path)
    torch.manual_seed(0)
    if info["domain"] == "mnist":
        images = load_mnist_sample()[0][:REFERENCE_MNIST_IMAGES, None]
        corruption = {"mae": {"mask_ratio": 0.75}, "dae": {"noise_factor": DAE_NOISE}}.get(model.name, {})
        quality = image_quality_over(model, images, **corruption)
        return {"psnr": quality["psnr"], "ssim": quality["ssim"]}
    # recorded on the legacy recipe; re-record (and drop the pin) when the SAR checkpoints are retrained
    images, truth = synthetic_sar(REFERENCE_SAR_PATCHES, seed=SPLIT_SEEDS["test"], rfi_probability=1.0, recipe="legacy")
    with torch.no_grad():
        scores = anomaly_maps(model, images, "rfi")
    metrics = rfi_pixel_metrics(scores, truth, images)
    return {"roc_auc": metrics["roc_auc"], "average_precision": metrics["average_precision"]}


def evaluate_training_data_ablation(folder: Path, n_patches: int) -> dict:
    """The same MAE recipe trained on RFI-free patches vs on all patches (checkpoints/ablation), rfi score."""
    images, truth = synthetic_sar(n_patches, seed=SPLIT_SEEDS["test"], rfi_probability=0.5)
    results = {}
    for path in sorted((folder / "ablation").glob("*.safetensors")):
        store_calibrated_thresholds(path, ("rfi",))
        _, info = rfi_models.load_checkpoint(path)
        entry = evaluate_detector(Detector.from_checkpoint(path, "rfi"), images, truth)
        recipe = info["training"]["recipe"]
        entry |= {"rfi_probability": recipe["rfi_probability"], "train_size": recipe["train_size"]}
        entry["epochs"] = info["training"]["epochs_completed"]
        results[path.stem] = entry
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", default=str(CHECKPOINTS))
    parser.add_argument("--mnist-images", type=int, default=2000, help="MNIST test digits for PSNR/SSIM")
    parser.add_argument("--mnist-latent", type=int, default=2000, help="MNIST test digits for latent-space figures")
    parser.add_argument("--mnist-attention", type=int, default=64, help="MNIST test digits for deletion curves")
    parser.add_argument("--per-class", type=int, default=200, help="MNIST test images per class for latent maps")
    parser.add_argument("--sar-patches", type=int, default=100, help="synthetic SAR test patches")
    parser.add_argument("--sar-map-patches", type=int, default=120, help="synthetic SAR test patches in the latent map")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", choices=DOMAINS, help="re-evaluate one domain; the other's stored results stay")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    started = time.time()
    stored = folder / "results.json"
    results = json.loads(stored.read_text()) if args.only and stored.exists() else {}
    domains = [args.only] if args.only else list(DOMAINS)
    if "mnist" in domains:
        precompute_latent_maps(folder, "mnist", args.per_class)
        results["mnist"] = evaluate_mnist(folder, args.mnist_images, args.mnist_latent, args.mnist_attention)
    if "sar" in domains:
        precompute_latent_maps(folder, "sar", sar_patches=args.sar_map_patches)
        results["sar"] = evaluate_sar(folder, args.sar_patches)
        results["sar_training_data"] = evaluate_training_data_ablation(folder, args.sar_patches)
    reference = results.setdefault("reference", {})
    for domain in domains:
        reference |= {p.stem: reference_metrics(p) for p in sorted(folder.glob(f"*_{domain}.safetensors"))}
    results["settings"] = vars(args) | {"torch_threads": torch.get_num_threads()}
    results["settings"]["seconds"] = round(time.time() - started, 1)
    stored.write_text(json.dumps(results, indent=2, default=float))
    plot_training_curves(folder)
    write_results_markdown(results, folder / "RESULTS.md")
    write_manifest(folder)  # the sha256 of every checkpoint and latent map, checked whenever they are read
    print((folder / "RESULTS.md").read_text())


if __name__ == "__main__":
    main()
