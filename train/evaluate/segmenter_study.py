"""Does a model's residual help a supervised RFI segmenter? One U-Net (`rfi_models.models.segmenter`), trained once
on the input alone and once per residual source.

The `input` run sees the input alone (VV, VH); a `residual_<model>` run the input plus a shipped SAR model's
residual (`model_residual_fn` of checkpoints/<model>_sar.safetensors, scored as the detectors score it: covering
masks or bands; 2 more channels), one run per model of --residual (default RESIDUAL_SOURCES: the study's MAE and the
three models trained with rows hidden). Everything else is the same: architecture (but the first convolution's
in-channels), training patches, seed, crops, batches, steps, optimizer (AdamW, weight decay on weight matrices only:
`train.optim`), loss, schedule and the selection rule, so that the difference is what the residual adds. A no-model
control's name (`control-band`) in --residual gives the same run on that control's residual: what the model's
residual adds beyond a residual that needs no model.

- Training data: semi-synthetic (`semi_synthetic("train", ...)`: generator RFI in real RFI-free quick-look
  backgrounds of the training acquisitions) and synthetic (`synthetic_sar_truth`, the train seed) patches; the
  target is the *visible* RFI; invisible RFI (exact mask outside the visible one) and no-data pixels carry no loss.
  The residuals of the training patches are computed once per model and cached (.npz files in --cache, outside
  the repository).
- Loss: BCE with logits, pos_weight = negatives / positives of the training pixels (capped at POS_WEIGHT_CAP).
  Random crops of CROP with azimuth (row) flips half the time.
- Selection: every EVAL_EVERY steps the pooled pixel AP on the three real RFI patches (validation only, never
  trained on; positive = the boxes, ignore boxes left out; `train.evaluate.sar_metrics.pooled`), scored tile by
  tile like every detector (`score_tiled`, tiles of SAR_SIZE). The best evaluation's weights are kept; a run stops after
  PATIENCE evaluations without a higher real AP, or at the step budget.
- Report: pixel AP on visible RFI of the semi-synthetic test set (`train.evaluate.sar_sets`' construction: 32 patches,
  seed 0, half with RFI) and on the real patches, for both segmenters and, computed here on the same sets by the
  same code, the no-model controls and the study's MAE through `score_residual` (methods error, ssim, rfi).

    OMP_NUM_THREADS=1 python -m train.evaluate.segmenter_study  # ~20 min of one thread per run; a finished run is kept

Runs one after another in one process: they share checkpoints/segmenter_study.json. Writes
checkpoints/segmenter/segmenter_<run>{,_semival}_sar.safetensors (outside the family registry, see the model's
module), checkpoints/logs/segmenter_<run>.jsonl and checkpoints/segmenter_study.json.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import io
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from rfi_models.artifacts.atomic import write_bytes
from rfi_models.artifacts.manifest import file_sha256
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_sar_truth
from rfi_models.detection.anomaly import METHODS, score_residual
from rfi_models.detection.controls import CONTROLS, control_residual_fn
from rfi_models.detection.detector import model_residual_fn
from rfi_models.detection.tiling import score_tiled
from rfi_models.models.segmenter import Segmenter, SegmenterConfig, parameter_count, save_segmenter
from rfi_models.names import checkpoint_name, checkpoints_dir

from ..optim import build_optimizer, lr_at
from .report import merge_results
from .sar import classifier_for, memoised
from .sar_metrics import Labelled, pooled, real_rfi_set
from .sar_sets import synthetic_set

RESIDUAL_SOURCES = ("mae_sar", "mae_rows_sar", "cae_rows_sar", "dae_rows_sar")  # checkpoint stems
SELECTIONS = {"real_ap": "", "semi_val_ap": "_semival"}  # what a kept checkpoint was selected by: its file suffix
MAE = checkpoints_dir() / checkpoint_name("mae", "sar")
POS_WEIGHT_CAP = 50.0
BATCH = 4  # patches per scoring batch
EVALUATION_TRAIN = 16  # training patches per set of `python -m train.evaluate` (--sar-train)


@dataclass
class StudyConfig:
    widths: tuple[int, ...] = (16, 32, 64)
    semi_patches: int = 96
    synthetic_patches: int = 32
    rfi_probability: float = 0.75
    data_seed: int = 0
    seed: int = 0
    crop: tuple[int, int] = (128, 256)
    batch_size: int = 8
    max_steps: int = 1200
    warmup: int = 100
    lr: float = 2e-3
    eval_every: int = 100
    patience: int = 5
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    min_lr_ratio: float = 0.01


def training_set(config: StudyConfig) -> Labelled:
    """The training patches: semi-synthetic, then synthetic; visible and exact RFI masks."""
    semi = semi_synthetic("train", config.semi_patches, seed=config.data_seed, rfi_probability=config.rfi_probability)
    images, visible, exact = [semi.images], [semi.visible], [semi.masks]
    if config.synthetic_patches:
        syn, syn_exact, syn_visible = synthetic_sar_truth(
            config.synthetic_patches, seed=SPLIT_SEEDS["train"], rfi_probability=config.rfi_probability
        )
        images, visible, exact = [*images, syn], [*visible, syn_visible], [*exact, syn_exact]
    return Labelled(np.concatenate(images), np.concatenate(visible), np.concatenate(exact))


def batched_residual(residual_fn, images: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return np.concatenate([residual_fn(images[i : i + BATCH]) for i in range(0, len(images), BATCH)])


def run_name(source: str | None) -> str:
    """The run key of a residual source (a checkpoint stem; None = the input alone): "input", "residual_mae", ..."""
    return "input" if source is None else f"residual_{source.removesuffix('_sar')}"


def residual_source(source: str, folder: Path) -> tuple:
    """(the residual function, its checkpoint) of a run's source: a no-model control (no checkpoint) or a SAR
    checkpoint stem in `folder`."""
    if source in CONTROLS:
        return control_residual_fn(source), None
    checkpoint = folder / f"{source}.safetensors"
    return model_residual_fn(checkpoint)[0], checkpoint


def training_residuals(images: np.ndarray, residual_fn, checkpoint: Path | None, cache: Path) -> np.ndarray:
    """The residual of every training patch, float32 [N, 2, H, W]: a control's computed, a checkpoint's stored in
    `cache` (float16), keyed by the images and the checkpoint."""
    if checkpoint is None:
        return batched_residual(residual_fn, images)
    key = hashlib.sha1(images.tobytes() + file_sha256(checkpoint).encode()).hexdigest()
    if cache.is_file():
        with np.load(cache) as stored:
            if str(stored["key"]) == key:
                return stored["residual"].astype(np.float32)
    residual = batched_residual(residual_fn, images)
    buffer = io.BytesIO()
    np.savez(buffer, key=key, residual=residual.astype(np.float16))
    cache.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(cache, buffer.getvalue())
    return residual


def sample_batch(rng: np.random.Generator, inputs: np.ndarray, target: np.ndarray, weight: np.ndarray, config):
    """A batch of random crops with azimuth flips: (x [B, C, h, w], target [B, 1, h, w], weight [B, 1, h, w])."""
    (h, w), (height, width) = config.crop, inputs.shape[2:]
    xs, ys, ws = [], [], []
    for i in rng.integers(0, len(inputs), config.batch_size):
        top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
        rows, cols = slice(top, top + h), slice(left, left + w)
        x, y, m = inputs[i, :, rows, cols], target[i, rows, cols], weight[i, rows, cols]
        if rng.random() < 0.5:
            x, y, m = x[:, ::-1], y[::-1], m[::-1]
        xs.append(x), ys.append(y), ws.append(m)

    def tensor(arrays):
        return torch.from_numpy(np.ascontiguousarray(np.stack(arrays), dtype=np.float32))

    return tensor(xs), tensor(ys)[:, None], tensor(ws)[:, None]


def segmenter_score_fn(model: Segmenter, residual_fn=None):
    """Tiles [B, 2, th, tw] -> RFI probability [B, th, tw]: the segmenter on the tiles (and their residual)."""

    def score(tiles: np.ndarray) -> np.ndarray:
        x = tiles if residual_fn is None else np.concatenate([tiles, residual_fn(tiles)], axis=1)
        return model.rfi_scores(x)

    return score


def pixel_ap(scores, labelled: Labelled) -> float:
    """Pooled pixel average precision on visible RFI (invisible RFI, ignore boxes and no-data left out)."""
    values, truth = pooled(scores, labelled)
    return float(average_precision_score(truth, values))


def set_ap(score_fn, labelled: Labelled) -> float:
    """AP of a tile score function on a set: arrays [N, 2, H, W] of the tile size in batches, lists tile by tile."""
    if isinstance(labelled.images, list):
        return pixel_ap([score_tiled(score_fn, image, SAR_SIZE) for image in labelled.images], labelled)
    with torch.no_grad():
        scores = np.concatenate([score_fn(labelled.images[i : i + BATCH]) for i in range(0, len(labelled), BATCH)])
    return pixel_ap(scores, labelled)


def pos_weight_of(train: Labelled, kept: np.ndarray) -> float:
    positives = (train.visible & kept).sum()
    return float(min(POS_WEIGHT_CAP, (kept.sum() - positives) / max(positives, 1)))


def train_run(name: str, inputs: np.ndarray, train: Labelled, validate, config: StudyConfig, log: Path) -> dict:
    """Train one segmenter on `inputs` [N, C, H, W] against train.visible; `validate(model)` -> {selection: AP} for
    every SELECTIONS entry. Stops once no selection's AP has risen for `patience` evaluations (or at max_steps).
    Returns {"models": {selection: the best evaluation's model}, "best": {selection: {...}}, "history": [...]}."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = Segmenter(SegmenterConfig(inputs.shape[1], config.widths))
    optimizer = build_optimizer(model, config)
    kept = np.stack([train.kept(i) for i in range(len(train))])
    pos_weight = torch.tensor(pos_weight_of(train, kept))
    history, losses, start = [], [], time.time()
    best = {key: {"ap": -1.0, "step": 0, "evaluation": 0} for key in SELECTIONS}
    models = {key: copy.deepcopy(model) for key in SELECTIONS}
    log.parent.mkdir(parents=True, exist_ok=True)
    for step in range(1, config.max_steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step - 1, config.max_steps, config.warmup, config)
        x, y, w = sample_batch(rng, inputs, train.visible, kept, config)
        model.train()
        loss = (F.binary_cross_entropy_with_logits(model(x), y, w, pos_weight=pos_weight, reduction="sum")
                / w.sum().clamp_min(1))  # fmt: skip
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if step % config.eval_every and step != config.max_steps:
            continue
        model.eval()
        record = {"event": "eval", "run": name, "step": step, "loss": float(np.mean(losses)), **validate(model),
                  "lr": optimizer.param_groups[0]["lr"], "wall_s": round(time.time() - start, 1)}  # fmt: skip
        history.append(record)
        losses = []
        write_bytes(log, "".join(json.dumps(r) + "\n" for r in history).encode())
        print(json.dumps(record), flush=True)
        for key in SELECTIONS:
            if record[key] > best[key]["ap"]:
                best[key] = {"ap": record[key], "step": step, "evaluation": len(history)}
                models[key] = copy.deepcopy(model).eval()
        if all(len(history) - b["evaluation"] >= config.patience for b in best.values()):
            break
    return {"models": models, "best": best, "history": history, "wall_s": round(time.time() - start, 1),
            "pos_weight": float(pos_weight), "steps": history[-1]["step"]}  # fmt: skip


def reference_rows(semi_test: Labelled, real: Labelled, have: dict) -> dict:
    """AP of the no-model controls and of the shipped MAE on both sets, every `score_residual` method and the
    `learned` classifier, trained as the evaluation trains it (`sar.classifier_for`, on the evaluation's
    training sets: 16 synthetic and 16 semi-synthetic patches); rows already in `have` are kept as they are."""
    sources = {name: control_residual_fn(name) for name in CONTROLS}
    sources[MAE.stem] = model_residual_fn(MAE)[0]
    rows = dict(have)
    for source, residual_fn in sources.items():
        fn = memoised(residual_fn)
        for method in (*METHODS, "learned"):
            if f"{source} {method}" in rows:
                continue
            if method == "learned":
                classifier = classifier_for(fn, evaluation_training_sets())

                def score(tiles, fn=fn, classifier=classifier):
                    return classifier.scores(tiles, fn(tiles))
            else:

                def score(tiles, fn=fn, method=method):
                    return score_residual(tiles, fn(tiles), method)

            rows[f"{source} {method}"] = sets_ap(score, (semi_test, real))
            print(rows[f"{source} {method}"], source, method, flush=True)
    return rows


def evaluation_training_sets(n: int = EVALUATION_TRAIN) -> dict[str, Labelled]:
    """The training sets of `train.evaluate.sar_sets.load_sets(n, ...)` (the learned classifiers' data)."""
    semi = semi_synthetic("train", n, rfi_probability=0.5)
    return {"synthetic": synthetic_set(n, "train"), "semi_synthetic": Labelled(semi.images, semi.visible, semi.masks)}


def run_segmenters(config: StudyConfig, folder: Path, cache: Path, sets: tuple[Labelled, ...], done: dict, save,
                   sources: tuple[str, ...] = RESIDUAL_SOURCES) -> None:  # fmt: skip
    """Train (or, where its checkpoints exist, keep) the input-alone segmenter and one per residual source (checkpoint
    stems in `folder`) into `done` ({row name: row}), calling `save()` after each run (the study file is the resume
    file: a finished run is not redone). Sets: (semi-synthetic test, real RFI, semi-synthetic validation)."""
    train = training_set(config)
    for source in (None, *sources):
        name = run_name(source)
        paths = {key: folder / "segmenter" / f"segmenter_{name}{suffix}_sar.safetensors"
                 for key, suffix in SELECTIONS.items()}  # fmt: skip
        if all(f"{name}{suffix}" in done and paths[key].is_file() for key, suffix in SELECTIONS.items()):
            continue
        residual_fn, checkpoint, inputs = None, None, train.images
        if source is not None:
            residual_fn, checkpoint = residual_source(source, folder)
            residual = training_residuals(train.images, residual_fn, checkpoint, cache / f"{source}.npz")
            inputs, residual_fn = np.concatenate([train.images, residual], axis=1), memoised(residual_fn)
        trained = train_segmenter(name, inputs, train, sets, residual_fn, config, folder)
        models = trained.pop("models")
        result = {**trained, "parameters": parameter_count(models["real_ap"]), "config": asdict(config)}
        for key, suffix in SELECTIONS.items():
            save_segmenter(models[key], paths[key], inputs=["VV", "VH"] + ([f"{source} residual VV",
                           f"{source} residual VH"] if source else []), selected_by=key, training=result,
                           residual_checkpoint=checkpoint.name if checkpoint else None,
                           residual_sha256=file_sha256(checkpoint) if checkpoint else None)  # fmt: skip
            done[f"{name}{suffix}"] = {**sets_ap(segmenter_score_fn(models[key], residual_fn), sets),
                                       "selected_by": key, "best": trained["best"][key], "steps": trained["steps"],
                                       "wall_s": trained["wall_s"], "parameters": result["parameters"]}  # fmt: skip
            print(name, suffix, done[f"{name}{suffix}"], flush=True)
        save()


def train_segmenter(name: str, inputs: np.ndarray, train: Labelled, sets: tuple[Labelled, ...], residual_fn,
                    config: StudyConfig, folder: Path) -> dict:  # fmt: skip
    """`train_run` of one segmenter, validated on the real patches and the semi-synthetic validation set."""
    _, real, semi_val = sets

    def validate(model) -> dict[str, float]:
        score = segmenter_score_fn(model, residual_fn)
        return {"real_ap": set_ap(score, real), "semi_val_ap": set_ap(score, semi_val)}

    return train_run(name, inputs, train, validate, config, folder / "logs" / f"segmenter_{name}.jsonl")


def sets_ap(score_fn, sets: tuple[Labelled, ...]) -> dict[str, float]:
    """Pixel AP of a tile score function on the semi-synthetic test set and on the real patches."""
    return {"semi_test_ap": set_ap(score_fn, sets[0]), "real_ap": set_ap(score_fn, sets[1])}


def evaluation_sets() -> tuple[Labelled, Labelled, Labelled]:
    """The semi-synthetic test set as `train.evaluate.sar_sets.load_sets` builds it (32 patches, seed 0, half with RFI),
    the real RFI patches, and the semi-synthetic validation set as load_sets builds it (24 patches)."""
    test, val = semi_synthetic("test", 32, rfi_probability=0.5), semi_synthetic("val", 24, rfi_probability=0.5)
    return (Labelled(test.images, test.visible, test.masks), real_rfi_set(real_rfi_patches()),
            Labelled(val.images, val.visible, val.masks))  # fmt: skip


def parse_args(argv=None) -> tuple[argparse.Namespace, StudyConfig]:
    defaults = StudyConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", type=Path, default=checkpoints_dir())
    parser.add_argument("--cache", type=Path, default=Path("/tmp/segmenter_residuals"),
                        help="folder of the cached training residuals, one .npz per model")  # fmt: skip
    parser.add_argument("--residual", nargs="+", default=list(RESIDUAL_SOURCES), metavar="CHECKPOINT_STEM",
                        help="the SAR models (or no-model controls, e.g. control-band) whose residual a segmenter "
                        "run sees, one run each")  # fmt: skip
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--patience", type=int, default=defaults.patience)
    parser.add_argument("--semi-patches", type=int, default=defaults.semi_patches)
    parser.add_argument("--synthetic-patches", type=int, default=defaults.synthetic_patches)
    parser.add_argument("--seed", type=int, default=defaults.seed, help="training seed (weights, crops, order)")
    parser.add_argument("--redo", action="store_true", help="train again even where a run's checkpoint exists")
    args = parser.parse_args(argv)
    for name in ("max_steps", "eval_every", "patience", "semi_patches", "synthetic_patches"):
        if getattr(args, name) < (0 if name == "synthetic_patches" else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive")
    missing = [stem for stem in args.residual
               if stem not in CONTROLS and not (args.checkpoints / f"{stem}.safetensors").is_file()]  # fmt: skip
    if missing:
        parser.error(f"--residual: no checkpoint {', '.join(missing)} (.safetensors) in {args.checkpoints}")
    config = StudyConfig(max_steps=args.max_steps, eval_every=args.eval_every, patience=args.patience,
                         semi_patches=args.semi_patches, synthetic_patches=args.synthetic_patches,
                         seed=args.seed)  # fmt: skip
    return args, config


def main(argv=None) -> None:
    args, config = parse_args(argv)
    torch.set_num_threads(1)
    out = args.checkpoints / "segmenter_study.json"
    previous = json.loads(out.read_text()) if out.is_file() and not args.redo else {}
    done = {} if previous.get("config") != json.loads(json.dumps(asdict(config))) else previous.get("runs", {})
    start = time.time()
    sets = evaluation_sets()
    rows = reference_rows(*sets[:2], previous.get("references", {}))
    command = " ".join(
        ["OMP_NUM_THREADS=1 python -m train.evaluate.segmenter_study", *(sys.argv[1:] if argv is None else argv)]
    )
    study = {"config": asdict(config), "command": command, "references": rows, "runs": done}

    def save() -> None:
        study["table"] = {**{f"segmenter {k}": v for k, v in done.items()}, **rows}
        study["wall_s"] = round(time.time() - start + previous.get("wall_s", 0) * bool(done), 1)
        write_bytes(out, (json.dumps(study, indent=1) + "\n").encode())

    save()
    run_segmenters(config, args.checkpoints, args.cache, sets, done, save, tuple(args.residual))
    merge_results(args.checkpoints, "sar_segmenter", lambda _: {k: v for k, v in study.items() if k != "table"})
    for name, row in study["table"].items():
        print(f"{name:32s} semi test AP {row['semi_test_ap']:.3f}  real AP {row['real_ap']:.3f}")


if __name__ == "__main__":
    main()
