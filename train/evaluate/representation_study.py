"""python -m train.evaluate.representation_study: linear probes through the depth of every model, and linear CKA.

MNIST (`mnist_study`): for every MNIST checkpoint (mae, mae_fixed, cae, dae) and every stage of its encoder
(`rfi_models.analysis.representation`), the fixed probe protocol of `rfi_models.analysis.probes` on frozen
features of the 60k training digits with 1 %, 10 % and 100 % of their labels (a tenth of each subset is the
validation split that picks the strength), scored on the 10k official test digits. Controls: the raw pixels, and a
randomly initialised copy of each architecture (seed 0; the two MAEs share one). Linear CKA on the 10k test digits
between all stages of all trained models and the pixels, and between each model's stages and its random copy's.
SAR: `train.evaluate.representation_sar`.

Features are extracted once (batches, no gradients) and cached in a temporary .npz outside git (`--cache`, keyed by
the checkpoints' sha256), finished probes in a JSON beside it, so an interrupted run resumes. Written to
checkpoints/representation_{mnist,sar}.json, read by the app's Latent space page, and to results.json/RESULTS.md
("representation").
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from rfi_models.analysis.probes import C_GRID, MAX_ITER, cka_matrix, linear_cka, linear_probe
from rfi_models.analysis.representation import (
    PIXELS,
    batched_features,
    pixel_features,
    pooled_features,
    pooled_stages,
)
from rfi_models.artifacts.atomic import write_bytes
from rfi_models.data import load_mnist, load_mnist_sample
from rfi_models.names import checkpoints_dir

from .representation_cache import (
    PROBE_SEED,
    RANDOM,
    cache_key,
    cached_features,
    load_models,
    protocol,
    with_random_copies,
)

MNIST_MODELS = {"mae": "mae_mnist", "mae_fixed": "mae_fixed_mnist", "cae": "cae_mnist", "dae": "dae_mnist"}
FRACTIONS = (0.01, 0.1, 1.0)
CACHE = Path("/tmp/rfi_representation")


def results_path(folder: Path, domain: str) -> Path:
    return Path(folder) / f"representation_{domain}.json"


def mnist_features(models: dict, images: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """{set: {stage: [N, d]}} of images [N, 1, 28, 28] uint8, for every model and the pixels."""
    found = {PIXELS: {PIXELS: pixel_features(torch.from_numpy(images / np.float32(255)), tiles=False)}}
    for name, model in models.items():
        started = time.time()
        found[name] = batched_features(lambda x, m=model: pooled_features(m, x), images, batch_size=500)
        print(f"features {name}: {time.time() - started:.0f} s", flush=True)
    return found


def stage_table(models: dict) -> dict[str, list[dict]]:
    """{set: [{"name", "depth", "line"}]} in encoder order, the pixels one stage at depth 0."""
    table = {PIXELS: [{"name": PIXELS, "depth": 0.0, "line": "main"}]}
    for name, model in models.items():
        table[name] = [vars(stage) for stage in pooled_stages(model)]
    return table


def run_probes(train: dict, test: dict, labels: tuple, fractions, done: dict, progress: Path) -> dict:
    """{set: {stage: {fraction: probe summary}}}; `done` (read from `progress`) is kept, `progress` rewritten after
    each probe so that a rerun resumes."""
    for name, stages in train.items():
        for stage, features in stages.items():
            for fraction in fractions:
                entry = done.setdefault(name, {}).setdefault(stage, {})
                if str(fraction) in entry:
                    continue
                started = time.time()
                result = linear_probe(features, labels[0], test[name][stage], labels[1], fraction, PROBE_SEED)
                entry[str(fraction)] = result.summary() | {"seconds": round(time.time() - started, 1)}
                write_bytes(progress, json.dumps(done).encode())
                print(f"probe {name} / {stage} / {fraction}: {entry[str(fraction)]}", flush=True)
    return done


def cka_results(test: dict, trained: list[str]) -> dict:
    """Linear CKA on the test features: all stages of the trained models and the pixels, the latents alone, and
    every model's stages against its random copy's."""
    stages = {f"{name}: {stage}": v for name in [*trained, PIXELS] for stage, v in test[name].items()}
    labels, matrix = cka_matrix(stages)
    latents = {name: list(test[name].values())[-1] for name in trained}
    latent_labels, latent_matrix = cka_matrix(latents)
    control = {}
    for name in trained:
        copy = next(key for key in test if key.endswith(RANDOM) and key.startswith(name.split("_")[0]))
        control[name] = {stage: linear_cka(v, test[copy][stage]) for stage, v in test[name].items()}
    return {
        "stages": {"labels": labels, "matrix": matrix.round(4).tolist()},
        "latents": {"labels": latent_labels, "matrix": latent_matrix.round(4).tolist()},
        "vs_random_init": control,
    }


def mnist_study(folder: Path, cache: Path, train_count: int | None = None, fractions=FRACTIONS) -> dict:
    """The MNIST probes and CKA (module docstring); train_count limits the training digits (tiny runs)."""
    started = time.time()
    trained, records = load_models(folder, MNIST_MODELS)
    models = with_random_copies(trained)
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist_sample()
    train_images, train_labels = train_images[:train_count, None], train_labels[:train_count]
    key = cache_key(records, len(train_images))
    train = cached_features(cache / f"mnist_train_{key}.npz", lambda: mnist_features(models, train_images))
    test = cached_features(cache / f"mnist_test_{key}.npz", lambda: mnist_features(models, test_images[:, None]))
    progress = cache / f"mnist_probes_{key}_C{'_'.join(map(str, C_GRID))}_{MAX_ITER}.json"
    done = json.loads(progress.read_text()) if progress.exists() else {}
    probes = run_probes(train, test, (train_labels, test_labels), fractions, done, progress)
    return {
        "domain": "mnist",
        "checkpoints": records,
        "protocol": protocol(
            {
                "train_digits": len(train_images),
                "test_digits": len(test_images),
                "label_fractions": list(fractions),
                "task": "digit (10 classes), accuracy",
            }
        ),
        "stages": stage_table(models),
        "probes": probes,
        "cka": cka_results(test, list(trained)),
        "seconds": round(time.time() - started, 1),
    }


def write_study(folder: Path, results: dict) -> Path:
    path = results_path(folder, results["domain"])
    write_bytes(path, (json.dumps(results, indent=1, default=float) + "\n").encode())
    return path


def run(folder: Path, domains, cache: Path = CACHE, mnist_train: int | None = None, sar_patches=None) -> dict:
    """Both studies (or those of `domains`), each written to its JSON; returns the results.json entry."""
    from . import representation_sar

    if "mnist" in domains:
        write_study(folder, mnist_study(folder, cache, mnist_train))
    if "sar" in domains:
        write_study(folder, representation_sar.sar_study(folder, cache, sar_patches or representation_sar.PATCHES))
    return summary(folder)


def main(argv: list[str] | None = None) -> None:
    from . import report, report_representation, representation_sar

    parser = argparse.ArgumentParser(
        prog="python -m train.evaluate.representation_study", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--checkpoints", default=str(checkpoints_dir()))
    parser.add_argument("--only", choices=("mnist", "sar"))
    parser.add_argument("--cache", default=str(CACHE), help="folder for the feature cache (outside git)")
    parser.add_argument("--mnist-train", type=int, help="use only the first N training digits (a quick check)")
    parser.add_argument("--sar-patches", type=int, nargs=3, default=representation_sar.PATCHES,
                        metavar=("TRAIN", "VAL", "TEST"), help="semi-synthetic patches per split")  # fmt: skip
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    folder = Path(args.checkpoints)
    domains = [args.only] if args.only else ["mnist", "sar"]
    done = run(folder, domains, Path(args.cache), args.mnist_train, tuple(args.sar_patches))
    report.merge_results(folder, "representation", lambda _: done)
    print("\n\n".join(report_representation.representation_tables(done)))


def summary(folder: Path) -> dict:
    """The results.json entry: both studies as written."""
    return {domain: json.loads(results_path(folder, domain).read_text())
            for domain in ("mnist", "sar") if results_path(folder, domain).exists()}  # fmt: skip


if __name__ == "__main__":
    main()
