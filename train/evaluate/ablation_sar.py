"""python -m train.evaluate.ablation_sar: does RFI in the training data change what a model finds?

RFI-free training (rfi_probability 0) against contaminated training (half the patches with RFI), three seeds each,
per family (`--families`, all three by default). Every run uses the recipe of `train.engine` with its convergence
stop, changed only where `ABLATION_CHANGES` says so, and every checkpoint is
scored exactly like the shipped detectors (`train.evaluate.sar.evaluate_source`, the same sets as
`python -m train.evaluate`), so the spread over seeds shows how much of a difference between the two is noise.
Checkpoints and logs go to checkpoints/ablation/; a finished run is not trained again, an interrupted one resumes.
The summary of each family is written into checkpoints/results.json ("sar_ablation", by family) and RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

import rfi_models
from rfi_models.artifacts.training_log import read_training_log
from rfi_models.detection.detector import model_residual_fn
from rfi_models.names import FAMILIES, checkpoints_dir
from rfi_models.runtime import keep_large_blocks

from ..engine import converged, recipe, train
from . import report, report_sar
from .sar import evaluate_source, reconstruction_floor
from .sar_sets import add_set_arguments, load_sets

PROBABILITIES = (0.0, 0.5)
SEEDS = (0, 1, 2)
# Departures from a family's recipe (train.recipes.RECIPES):
# - the MAE on 480 patches instead of 1920, so that six runs fit in an afternoon of one CPU core, with a cosine
#   schedule of 20 epochs (about what a 480-patch MAE took to converge before) and 64 validation patches;
# - the MAE and CAE through their whole schedule (converge_window 0; the criterion is then checked on each log and
#   reported): the first runs met it on plateaus at a high learning rate, the MAE at epoch 12 of a 40-epoch
#   schedule and the CAE at epoch 9 (0.8 % over 3 epochs), at losses that runs of the same setting improved on by
#   13 % (MAE) and 29 % (the shipped CAE) in the epochs after.
ABLATION_CHANGES: dict[str, dict] = {
    "mae": dict(train_size=480, epochs=20, val_size=64, converge_window=0),
    "cae": dict(converge_window=0),
}


def run_name(family: str, probability: float, seed: int) -> str:
    return f"{family}_sar_rfi{probability:g}_seed{seed}"


def finished(log: Path) -> bool:
    """Whether a run's log ends in convergence or at its epoch ceiling."""
    if not log.exists():
        return False
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    ceiling = next((r["epochs"] for r in reversed(records) if r["event"] in ("start", "resume")), None)
    epochs = [r["epoch"] for r in records if r["event"] == "epoch"]
    return any(r["event"] == "converged" for r in records) or (bool(epochs) and epochs[-1] == ceiling)


def meets_criterion(log: Path, family: str) -> bool:
    """Whether a run's validation losses meet the family recipe's convergence criterion at its last epoch, whatever
    stopped it."""
    history = [{"val_loss": loss} for loss in read_training_log(log).val_losses]
    return converged(history, recipe(family, "sar"))


def train_runs(folder: Path, family: str, probabilities: tuple[float, ...] = PROBABILITIES) -> dict[str, Path]:
    """Train every run of `family` at `probabilities` that has not finished; returns run name -> checkpoint."""
    paths = {}
    changes = ABLATION_CHANGES.get(family, {})
    for probability in probabilities:
        for seed in SEEDS:
            name = run_name(family, probability, seed)
            out, log = folder / "ablation" / f"{name}.safetensors", folder / "ablation" / "logs" / f"{name}.jsonl"
            if not finished(log):
                config = recipe(
                    family, "sar", seed=seed, rfi_probability=probability, out=str(out), log=str(log), **changes
                )
                train(config)
            paths[name] = out
    return paths


def summary(values: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(values)), "min": float(np.min(values)), "max": float(np.max(values))}


def evaluate_runs(family: str, paths: dict[str, Path], sets) -> dict:
    """Per run: average precision per test set and score, real RFI-free share flagged, reconstruction floor; then
    mean, min and max over the seeds of each training condition."""
    runs = {}
    for name, path in paths.items():
        scored, _ = evaluate_source(model_residual_fn(path)[0], sets)
        model, meta = rfi_models.load_checkpoint(path)
        training = meta["training"]
        runs[name] = {
            "epochs": training["epochs_completed"],
            "converged": meets_criterion(path.parent / "logs" / f"{name}.jsonl", family),
            "train_seconds": training["train_seconds"],
            "average_precision": {
                test_set: {method: entry[test_set]["average_precision"] for method, entry in scored.items()}
                for test_set in sets.test
            },
            "real_rfi_free": {method: entry["real_rfi_free"]["mean"] for method, entry in scored.items()},
            "floor": {test_set: reconstruction_floor(model, x)["ratio"] for test_set, x in sets.clean_test.items()},
        }
    conditions = {}
    for probability in PROBABILITIES:
        members = [runs[run_name(family, probability, seed)] for seed in SEEDS]
        first = members[0]

        def spread(test_set: str, method: str, members=members) -> dict[str, float]:
            return summary([m["average_precision"][test_set][method] for m in members])

        conditions[f"rfi_probability {probability:g}"] = {
            "average_precision": {
                test_set: {method: spread(test_set, method) for method in methods}
                for test_set, methods in first["average_precision"].items()
            },
            "floor": {test_set: summary([m["floor"][test_set] for m in members]) for test_set in first["floor"]},
            "converged": sum(m["converged"] for m in members),
            "epochs": [m["epochs"] for m in members],
        }
    return {
        "family": family,
        "recipe_changes": ABLATION_CHANGES.get(family, {}),
        "seeds": list(SEEDS),
        "runs": runs,
        "conditions": conditions,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m train.evaluate.ablation_sar", description=__doc__.split("\n")[0])
    parser.add_argument("--checkpoints", default=str(checkpoints_dir()))
    parser.add_argument("--families", nargs="+", choices=FAMILIES, default=list(FAMILIES), help="families to ablate")
    add_set_arguments(parser)
    parser.add_argument(
        "--probabilities",
        nargs="+",
        type=float,
        choices=PROBABILITIES,
        default=list(PROBABILITIES),
        help="train only the runs of these training conditions (two processes can then train disjoint runs)",
    )
    parser.add_argument("--train-only", action="store_true", help="train, then stop (evaluate in a later call)")
    args = parser.parse_args(argv)
    keep_large_blocks()
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    paths = {family: train_runs(folder, family, tuple(args.probabilities)) for family in args.families}
    if args.train_only:
        return
    sets = load_sets(args.sar_train, args.sar_val, args.sar_test)
    ablations = {family: evaluate_runs(family, runs, sets) for family, runs in paths.items()}
    stored = report.merge_results(
        folder, "sar_ablation", lambda earlier: report_sar.ablations_by_family(earlier) | ablations
    )
    print("\n\n".join(report_sar.ablation_tables(stored)))


if __name__ == "__main__":
    main()
