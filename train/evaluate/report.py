"""Turning results into files: training-curve PNGs and the RESULTS.md tables (pure functions of their inputs)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from matplotlib.figure import Figure

from rfi_models.analysis.latent import KNN_NEIGHBOURS, NEAR_ZERO_WEIGHT
from rfi_models.artifacts.atomic import write_bytes
from rfi_models.artifacts.training_log import read_training_log

from . import report_representation, report_sar
from .tables import fmt, table

LATENT_HEADER = ["model", "latent dim", "live dims", "silhouette", f"kNN acc. (k={KNN_NEIGHBOURS})", "mean radius"]


def plot_training_curves(folder: Path) -> list[Path]:
    """One PNG per JSON-lines log in folder/logs: training loss per step and validation loss per epoch."""
    written = []
    (folder / "curves").mkdir(exist_ok=True)
    for log in sorted((folder / "logs").glob("*.jsonl")):
        history = read_training_log(log)
        if not history.steps:
            continue
        figure = Figure(figsize=(10, 3.5))  # no pyplot: no backend chosen, no global figure state
        left, right = figure.subplots(1, 2)
        left.plot(history.steps, history.step_losses, lw=0.8)
        left.set(title=f"{log.stem}: training loss", xlabel="step", ylabel="loss", yscale="log")
        right.plot(history.epochs, history.val_losses, "o-", label="validation loss")
        right.plot(history.epochs, history.train_losses, "s--", label="training loss")
        right.set(title="per epoch", xlabel="epoch", ylabel="loss")
        right.legend()
        figure.tight_layout()
        path = folder / "curves" / f"{log.stem}.png"
        png = io.BytesIO()
        figure.savefig(png, format="png", dpi=90)
        write_bytes(path, png.getvalue())
        written.append(path)
    return written


QUALITY_COLUMNS = ["PSNR (dB)", "SSIM", "PSNR hidden", "PSNR raw output", "SSIM raw output"]


def quality_cells(q: dict) -> list[str]:
    return [fmt(q["psnr"], 2), fmt(q["ssim"]), fmt(q.get("psnr_hidden"), 2), fmt(q.get("psnr_raw"), 2),
            fmt(q.get("ssim_raw"))]  # fmt: skip


def mnist_tables(mnist: dict) -> list[str]:
    """The MNIST sections of RESULTS.md from train.evaluate.mnist_study.evaluate_mnist's results."""
    if "reconstruction" not in mnist:
        return ["### MNIST", "(stored MNIST results predate this report: run `python -m train.evaluate --only mnist`)"]
    quality_rows = [
        [f"{name.upper()} {setting.replace('_', ' ')}", *quality_cells(q)]
        for name, settings in mnist["reconstruction"].items()
        for setting, q in settings.items()
    ]
    cae = mnist["reconstruction"].get("cae", {}).get("clean")
    fair = mnist["same_corruption"]
    fair_rows = [[name.upper(), *quality_cells(entry["masked"])[:3], fmt(entry["noisy"]["psnr"], 2),
                  fmt(entry["noisy"]["ssim"])] for name, entry in fair["models"].items()]  # fmt: skip
    latent = {k: v for k, v in mnist["latent"].items() if k != "images"}
    latent_rows = [[name.upper(), str(e["latent_dim"]), str(e["live_dims"]), fmt(e["silhouette"]),
                    fmt(e["knn_accuracy"]), fmt(e["radius"])] for name, e in latent.items()]  # fmt: skip
    weight_rows = [[name.upper(), f"{w['parameters']:,}", fmt(w["near_zero_share"]), fmt(w["mean_abs"], 4)]
                   for name, w in mnist["weights"].items()]  # fmt: skip
    sections = [
        f"### MNIST reconstructions ({mnist['images']} test digits, data range [0, 1], scikit-image SSIM)",
        "MAE rows are the composite (visible patches pasted back) and the hidden pixels; the raw decoder output, "
        "which the MAE's loss never trains on visible patches, is the extra column. `MAE` was trained across mask "
        "ratios, `MAE_FIXED` at the seed report's 0.75 only.",
        table(["model / corruption", *QUALITY_COLUMNS], quality_rows),
    ]
    if cae:
        sections.append(
            f"CAE border: interior PSNR {fmt(cae['psnr_interior'], 2)} dB; the outer {cae['border']}-pixel ring holds "
            f"{100 * cae['border_error_share']:.0f} % of the squared error on {100 * cae['border_area_share']:.0f} % "
            "of the area."
        )
    sections += [
        f"### Same input for every family (mask ratio {fair['mask_ratio']}, noise {fair['noise_factor']})",
        "Masked: every model gets the same masked digits (hidden pixels zeroed; the MAE its own tokens), scored on "
        "the composite and the hidden pixels. Noisy: every model gets the same noisy digits, scored against the clean "
        "ones; the MAE then sees every patch, where its output is untrained.",
        table(
            ["model", "masked: PSNR", "masked: SSIM", "masked: PSNR hidden", "noisy: PSNR", "noisy: SSIM"], fair_rows
        ),
        f"### MNIST latent spaces ({mnist['latent']['images']} test digits, each model's own standardised latent)",
        "Radii are mean distances to the class centroid over the RMS distance to the global centroid. Live "
        "dimensions vary over the test digits. t-SNE and UMAP stay pictures in the app: they do not keep cluster "
        "sizes, so their radii do not compare across separately fitted maps.",
        table(LATENT_HEADER, latent_rows),
        f"### Weights (share of |w| < {NEAR_ZERO_WEIGHT:g}, the seed report's comparison)",
        table(["model", "parameters", "near-zero share", "mean abs"], weight_rows),
    ]
    attention = mnist.get("attention")
    if attention:
        sections += [
            f"### MAE rollout vs saliency (deletion curves, {attention['images']} digits, mask ratio "
            f"{attention['mask_ratio']})",
            "Mean |change| of the hidden-pixel error while the top-ranked visible pixels are zeroed (larger = the map "
            "found what drives the prediction sooner); a random ranking is the control.",
            table(["rollout", "saliency", "random"],
                  [[fmt(attention["rollout"], 4), fmt(attention["saliency"], 4), fmt(attention["random"], 4)]]),
        ]  # fmt: skip
    return [*sections, "### The seed report's claims, checked", *seed_report_claims(mnist)]


def verdict(holds: bool) -> str:
    return "holds" if holds else "does not hold"


def compared(value: float, control: float) -> str:
    return "beats" if value > control else "does not beat"


def seed_report_claims(mnist: dict) -> list[str]:
    """Each claim of the MNIST seed report next to the figure that tests it, worded from the figures."""
    latent, weights, fair = mnist["latent"], mnist["weights"], mnist["same_corruption"]["models"]
    families = [k for k in ("mae", "cae", "dae") if k in latent and k in weights and k in fair]
    if len(families) < 3:
        return ["(needs the three MNIST checkpoints)"]
    best_silhouette = max(families, key=lambda k: latent[k]["silhouette"])
    tightest = min(families, key=lambda k: latent[k]["radius"])
    sparsest = max(families, key=lambda k: weights[k]["near_zero_share"])
    best_hidden = max(families, key=lambda k: fair[k]["masked"]["psnr_hidden"])
    best_noisy = max(families, key=lambda k: fair[k]["noisy"]["psnr"])
    figures = lambda values: ", ".join(f"{k.upper()} {fmt(values(k))}" for k in families)  # noqa: E731
    lines = [
        f"1. *The MAE's classes cluster tighter* {verdict(best_silhouette == 'mae' and tightest == 'mae')} in each "
        f"model's own latent space: silhouette {figures(lambda k: latent[k]['silhouette'])}; mean radius "
        f"{figures(lambda k: latent[k]['radius'])}.",
        f"2. *The DAE has more near-zero weights* {verdict(sparsest == 'dae')}: share of |w| < {NEAR_ZERO_WEIGHT:g} "
        f"{figures(lambda k: weights[k]['near_zero_share'])}.",
        f"3. *The MAE reconstructs much better* {verdict(best_hidden == 'mae')} on the same masked digits "
        f"(hidden-pixel PSNR {figures(lambda k: fair[k]['masked']['psnr_hidden'])} dB) and "
        f"{verdict(best_noisy == 'mae')} on the same noisy digits (PSNR "
        f"{figures(lambda k: fair[k]['noisy']['psnr'])} dB); best on masked digits: {best_hidden.upper()}, "
        f"on noisy digits: {best_noisy.upper()}.",
    ]
    attention = mnist.get("attention")
    if attention:
        lines.append(
            f"4. *MAE attention marks the visible patches that matter*: rollout's deletion area "
            f"{fmt(attention['rollout'], 4)} vs saliency {fmt(attention['saliency'], 4)} and a random ranking "
            f"{fmt(attention['random'], 4)}: rollout {compared(attention['rollout'], attention['random'])} the random "
            f"control and {compared(attention['rollout'], attention['saliency'])} saliency."
        )
    return lines


def partial_run(settings: dict) -> str:
    """What a run with --only or --sar-only re-evaluated (its time is that run's), as a sentence; "" for a full run."""
    parts = [f"the {settings['only']} domain"] if settings.get("only") else []
    parts += [f"the SAR detectors {', '.join(settings['sar_only'])}"] if settings.get("sar_only") else []
    if not parts:
        return ""
    return (f" That run re-evaluated {' and, of it, '.join(parts)}; the other results are kept from earlier runs on "
            "the same data and checkpoints.")  # fmt: skip


def write_results_markdown(results: dict, path: Path) -> None:
    settings = results["settings"]
    parts = [
        "# Results",
        f"Generated by `python -m train.evaluate` ({settings['seconds']} s, {settings['torch_threads']} torch threads)."
        f"{partial_run(settings)} Every figure is computed on data never used in training or tuning.",
        *mnist_tables(results.get("mnist", {})),
        *report_sar.sar_sections(results.get("sar", {})),
        *report_sar.classifier_data_tables(results.get("sar_classifier_data", {})),
        *report_sar.ablation_tables(results.get("sar_ablation", {})),
        *report_sar.segmenter_tables(results.get("sar_segmenter", {})),
        *report_representation.representation_tables(results.get("representation", {})),
    ]
    write_bytes(path, ("\n\n".join(parts) + "\n").encode())


def write_results_json(folder: Path, results: dict) -> None:
    """folder/results.json, written atomically: its one writer (`train.evaluate` and `merge_results`)."""
    write_bytes(folder / "results.json", json.dumps(results, indent=2, default=float).encode())


def merge_results(folder: Path, key: str, update: Callable[[dict], dict]) -> dict:
    """Set results.json's `key` to update(its earlier value, {} if none) and rewrite RESULTS.md, for the studies run
    apart from `train.evaluate`. The file is read just before it is written (another run may have written since)
    and replaced atomically. Returns the new value."""
    stored = folder / "results.json"
    results = json.loads(stored.read_text()) if stored.exists() else {}
    results[key] = update(results.get(key, {}))
    write_results_json(folder, results)
    if "settings" in results:
        write_results_markdown(results, folder / "RESULTS.md")
    return results[key]
