"""Turning results into files: training-curve PNGs and the RESULTS.md tables (pure functions of their inputs)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from rfi_models.training_log import read_training_log


def plot_training_curves(folder: Path) -> list[Path]:
    """One PNG per JSON-lines log in folder/logs: training loss per step and validation loss per epoch."""
    written = []
    (folder / "curves").mkdir(exist_ok=True)
    for log in sorted((folder / "logs").glob("*.jsonl")):
        history = read_training_log(log)
        if not history.steps:
            continue
        figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.5))
        left.plot(history.steps, history.step_losses, lw=0.8)
        left.set(title=f"{log.stem}: training loss", xlabel="step", ylabel="loss", yscale="log")
        right.plot(history.epochs, history.val_losses, "o-", label="validation loss")
        right.plot(history.epochs, history.train_losses, "s--", label="training loss")
        right.set(title="per epoch", xlabel="epoch", ylabel="loss")
        right.legend()
        figure.tight_layout()
        path = folder / "curves" / f"{log.stem}.png"
        figure.savefig(path, dpi=90)
        plt.close(figure)
        written.append(path)
    return written


def fmt(value, digits: int = 3) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def mnist_tables(mnist: dict) -> list[str]:
    quality_rows, cluster_rows, radius_rows, weight_rows = [], [], [], []
    for family, entry in mnist.items():
        if "missing" in entry:
            quality_rows.append([family.upper(), "not trained yet", "", "", ""])
            continue
        for setting, q in entry["quality"].items():
            quality_rows.append(
                [
                    f"{family.upper()} {setting.replace('_', ' ')}",
                    fmt(q["psnr"], 2),
                    fmt(q["ssim"]),
                    fmt(q.get("psnr_masked"), 2),
                    fmt(q.get("ssim_masked")),
                ]
            )
        c = entry["clusters_tsne"]
        mean = lambda radii: sum(radii.values()) / len(radii)  # noqa: E731
        cluster_rows.append(
            [
                family.upper(),
                str(entry["latent_dim"]),
                fmt(c["silhouette_latent"]),
                fmt(c["silhouette_projection"]),
                fmt(c["knn_accuracy"]),
                fmt(c["trustworthiness"]),
                fmt(mean(c["radius_latent"])),
                fmt(mean(c["radius_projection"])),
            ]
        )
        radius_rows.append(
            [family.upper()]
            + [f"{c['radius_latent'][k]:.3f} / {c['radius_projection'][k]:.3f}" for k in sorted(c["radius_latent"])]
        )
        w = entry["weights"]
        weight_rows.append([family.upper(), f"{w['parameters']:,}", fmt(w["near_zero_share"]), fmt(w["mean_abs"], 4)])
    classes = [str(k) for k in range(10)]
    return [
        "### MNIST reconstructions (10k test images, data range [0, 1], SSIM 2-D per image)",
        table(["model / corruption", "PSNR (dB)", "SSIM", "PSNR masked", "SSIM masked"], quality_rows),
        "### MNIST latent spaces (200 test images per class; t-SNE 2-D)",
        table(
            [
                "model",
                "latent dim",
                "silhouette (latent)",
                "silhouette (t-SNE)",
                "kNN acc. (k=5)",
                "trustworthiness",
                "mean radius (latent)",
                "mean radius (t-SNE)",
            ],
            cluster_rows,
        ),
        "Radii are mean distances to the class centroid divided by the RMS distance of all points to the global "
        "centroid, so they compare across models. Per class, latent / t-SNE:",
        table(["model", *classes], radius_rows),
        "### Weights (share of |w| < 0.01, the seed report's comparison)",
        table(["model", "parameters", "near-zero share", "mean abs"], weight_rows),
    ]


def sar_table(sar: dict) -> list[str]:
    rows = []
    for name, entry in sar.items():
        if "missing" in entry:
            rows.append([name.upper(), "not trained yet"] + [""] * 7)
            continue
        for method, r in [("", entry)] if name == "baseline" else [(m, entry[m]) for m in ("rfi", "error")]:
            label = name if name == "baseline" else f"{name.upper()} ({method} score)"
            rows.append(
                [
                    label,
                    fmt(r["roc_auc"]),
                    fmt(r["average_precision"]),
                    fmt(r["best_f1"]),
                    fmt(r["iou"]),
                    fmt(r["threshold"], 4),
                    fmt(r["image_auc"]),
                    fmt(r["latency_ms"], 1),
                ]
            )
    return [
        "### SAR RFI detection (synthetic test set, seed 3000; thresholds calibrated on seed 2000)",
        table(
            [
                "detector",
                "pixel ROC-AUC",
                "avg. precision",
                "best F1",
                "IoU @ threshold",
                "threshold",
                "image AUC",
                "latency / patch (ms)",
            ],
            rows,
        ),
    ]


def ablation_table(ablation: dict) -> list[str]:
    if not ablation:
        return []
    rows = [
        [name, f"{r['rfi_probability']:.0%}", str(r["train_size"]), str(r["epochs"]), fmt(r["roc_auc"]),
         fmt(r["average_precision"]), fmt(r["best_f1"]), fmt(r["iou"]), fmt(r["image_auc"])]
        for name, r in ablation.items()
    ]  # fmt: skip
    return [
        "### SAR training data: RFI-free patches only vs all patches (same MAE recipe, rfi score, test seed 3000)",
        table(["checkpoint", "training patches with RFI", "patches", "epochs", "pixel ROC-AUC", "avg. precision",
               "best F1", "IoU @ threshold", "image AUC"], rows),
    ]  # fmt: skip


def write_results_markdown(results: dict, path: Path) -> None:
    settings = results["settings"]
    parts = [
        "# Results",
        f"Generated by `python -m train.evaluate` ({settings['seconds']} s, {settings['torch_threads']} torch threads)."
        " "
        "Every figure is computed on data never used in training or tuning.",
        *mnist_tables(results["mnist"]),
        *sar_table(results["sar"]),
        *ablation_table(results.get("sar_training_data", {})),
    ]
    path.write_text("\n\n".join(parts) + "\n")
