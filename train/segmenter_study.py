"""Does a model's residual help a supervised RFI segmenter? One U-Net (`rfi_models.models.segmenter`), trained twice.

Run A sees the input alone (VV, VH); run B the input plus the shipped SAR MAE's residual (`model_residual_fn` of
checkpoints/mae_sar.safetensors, its covering masks: 2 more channels). Everything else is the same: architecture
(but the first convolution's in-channels), training patches, seed, crops, batches, steps, optimizer (AdamW, weight
decay on weight matrices only: `train.optim`), loss, schedule and the selection rule, so that the difference is what
the residual adds.

- Training data: semi-synthetic (`semi_synthetic("train", ...)`: generator RFI in real RFI-free quick-look
  backgrounds of the training acquisitions) and synthetic (`synthetic_sar_truth`, the train seed) patches; the
  target is the *visible* RFI; invisible RFI (exact mask outside the visible one) and no-data pixels carry no loss.
  The residuals of the training patches are computed once and cached in an .npz outside the repository.
- Loss: BCE with logits, pos_weight = negatives / positives of the training pixels (capped at POS_WEIGHT_CAP).
  Random crops of CROP with azimuth (row) flips half the time.
- Selection: every EVAL_EVERY steps the pooled pixel AP on the three real RFI patches (validation only, never
  trained on; positive = the boxes, ignore boxes left out; `train.sar_metrics.pooled`), scored tile by tile like
  every detector (`score_tiled`, tiles of SAR_SIZE). The best evaluation's weights are kept; a run stops after
  PATIENCE evaluations without a higher real AP, or at the step budget.
- Report: pixel AP on visible RFI of the semi-synthetic test set (`train.sar_sets`' construction: 32 patches,
  seed 0, half with RFI) and on the real patches, for both segmenters and, computed here on the same sets by the
  same code, the no-model controls and the MAE through `score_residual` (methods error, ssim, rfi).

    OMP_NUM_THREADS=1 python -m train.segmenter_study    # ~40 min on one thread; a finished run is not redone

Writes checkpoints/segmenter/segmenter_{input,residual}_sar.safetensors (outside the family registry, see the
model's module), checkpoints/logs/segmenter_{input,residual}.jsonl and checkpoints/segmenter_study.json.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import average_precision_score

from rfi_models.analysis.anomaly import METHODS, score_residual
from rfi_models.analysis.controls import CONTROLS, control_residual_fn
from rfi_models.analysis.detector import model_residual_fn
from rfi_models.analysis.tiling import score_tiled
from rfi_models.atomic import write_bytes
from rfi_models.data.real_rfi import real_rfi_patches
from rfi_models.data.semisynthetic import semi_synthetic
from rfi_models.data.synthetic_sar import SAR_SIZE, SPLIT_SEEDS, synthetic_sar_truth
from rfi_models.manifest import file_sha256
from rfi_models.models.segmenter import Segmenter, SegmenterConfig, load_segmenter, parameter_count, save_segmenter

from .evaluate_sar import memoised
from .optim import build_optimizer, lr_at
from .sar_metrics import Labelled, pooled, real_rfi_set

RUNS = ("input", "residual")
MAE = Path("checkpoints/mae_sar.safetensors")
POS_WEIGHT_CAP = 50.0
BATCH = 4  # patches per scoring batch


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
    max_steps: int = 1500
    warmup: int = 100
    eval_every: int = 100
    patience: int = 5
    lr: float = 2e-3
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


def cached_residuals(images: np.ndarray, cache: Path) -> np.ndarray:
    """The MAE's residual of every training patch, float32 [N, 2, H, W]; stored in `cache` (float16), keyed by the
    images and the checkpoint."""
    key = hashlib.sha1(images.tobytes() + file_sha256(MAE).encode()).hexdigest()
    if cache.is_file():
        with np.load(cache) as stored:
            if str(stored["key"]) == key:
                return stored["residual"].astype(np.float32)
    residual = batched_residual(model_residual_fn(MAE)[0], images)
    with open(cache.with_suffix(".partial.npz"), "wb") as f:
        np.savez(f, key=key, residual=residual.astype(np.float16))
    cache.with_suffix(".partial.npz").replace(cache)
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
    """Train one segmenter on `inputs` [N, C, H, W] against train.visible; `validate(model)` -> real AP. Returns
    {"model": the best evaluation's model, "history": [...], "best": {...}, "wall_s": ...}."""
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model = Segmenter(SegmenterConfig(inputs.shape[1], config.widths))
    optimizer = build_optimizer(model, config)
    kept = np.stack([train.kept(i) for i in range(len(train))])
    pos_weight = torch.tensor(pos_weight_of(train, kept))
    history, best, losses, start = [], {"real_ap": -1.0, "step": 0}, [], time.time()
    best_model = copy.deepcopy(model)
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
        record = {"event": "eval", "run": name, "step": step, "loss": float(np.mean(losses)),
                  "real_ap": validate(model), "lr": optimizer.param_groups[0]["lr"],
                  "wall_s": round(time.time() - start, 1)}  # fmt: skip
        history.append(record)
        losses = []
        write_bytes(log, "".join(json.dumps(r) + "\n" for r in history).encode())
        print(json.dumps(record), flush=True)
        if record["real_ap"] > best["real_ap"]:
            best, best_model = {"real_ap": record["real_ap"], "step": step}, copy.deepcopy(model)
        elif len(history) - 1 - next(i for i, r in enumerate(history) if r["step"] == best["step"]) >= config.patience:
            break
    best_model.eval()
    return {"model": best_model, "history": history, "best": best, "wall_s": round(time.time() - start, 1),
            "pos_weight": float(pos_weight), "steps": history[-1]["step"]}  # fmt: skip


def reference_rows(semi_test: Labelled, real: Labelled) -> dict:
    """AP of the no-model controls and of the shipped MAE, every `score_residual` method, on both sets."""
    sources = {name: control_residual_fn(name) for name in CONTROLS}
    sources[MAE.stem] = model_residual_fn(MAE)[0]
    rows = {}
    for source, residual_fn in sources.items():
        fn = memoised(residual_fn)
        for method in METHODS:

            def score(tiles, fn=fn, method=method):
                return score_residual(tiles, fn(tiles), method)

            rows[f"{source} {method}"] = {"semi_test_ap": set_ap(score, semi_test), "real_ap": set_ap(score, real)}
            print(rows[f"{source} {method}"], source, method, flush=True)
    return rows


def run_segmenters(config: StudyConfig, folder: Path, cache: Path, sets: tuple[Labelled, Labelled], done: dict, save):
    """Train (or, where its checkpoint exists, reload) both segmenters into `done` ({run: row}), calling `save()`
    after each run (the study file is the resume file: a finished run is not redone)."""
    semi_test, real = sets
    train = training_set(config)
    mae_fn = memoised(model_residual_fn(MAE)[0])
    for name in RUNS:
        path = folder / "segmenter" / f"segmenter_{name}_sar.safetensors"
        residual_fn = mae_fn if name == "residual" else None
        if name in done and path.is_file():
            model, info = load_segmenter(path)
            result = info["training"]
        else:
            inputs = train.images if name == "input" else np.concatenate(
                [train.images, cached_residuals(train.images, cache)], axis=1)  # fmt: skip
            trained = train_run(name, inputs, train, lambda m, r=residual_fn: set_ap(segmenter_score_fn(m, r), real),
                                config, folder / "logs" / f"segmenter_{name}.jsonl")  # fmt: skip
            model = trained.pop("model")
            result = {**trained, "parameters": parameter_count(model), "config": asdict(config)}
            inputs_doc = ["VV", "VH"] + (["MAE residual VV", "MAE residual VH"] if residual_fn else [])
            save_segmenter(model, path, inputs=inputs_doc, training=result,
                           residual_checkpoint=MAE.name if residual_fn else None,
                           residual_sha256=file_sha256(MAE) if residual_fn else None)  # fmt: skip
        score = segmenter_score_fn(model, residual_fn)
        done[name] = {"semi_test_ap": set_ap(score, semi_test), "real_ap": set_ap(score, real),
                                     "best_step": result["best"]["step"], "steps": result["steps"],
                                     "wall_s": result["wall_s"], "parameters": parameter_count(model)}  # fmt: skip
        save()
        print(name, done[name], flush=True)


def test_sets() -> tuple[Labelled, Labelled]:
    """The semi-synthetic test set as `train.sar_sets.load_sets` builds it (32 patches, seed 0, half with RFI) and
    the real RFI patches."""
    semi = semi_synthetic("test", 32, rfi_probability=0.5)
    return Labelled(semi.images, semi.visible, semi.masks), real_rfi_set(real_rfi_patches())


def parse_args(argv=None) -> tuple[argparse.Namespace, StudyConfig]:
    defaults = StudyConfig()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoints", type=Path, default=Path("checkpoints"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/segmenter_mae_residuals.npz"))
    parser.add_argument("--max-steps", type=int, default=defaults.max_steps)
    parser.add_argument("--eval-every", type=int, default=defaults.eval_every)
    parser.add_argument("--patience", type=int, default=defaults.patience)
    parser.add_argument("--semi-patches", type=int, default=defaults.semi_patches)
    parser.add_argument("--synthetic-patches", type=int, default=defaults.synthetic_patches)
    parser.add_argument("--redo", action="store_true", help="train again even where a run's checkpoint exists")
    args = parser.parse_args(argv)
    for name in ("max_steps", "eval_every", "patience", "semi_patches", "synthetic_patches"):
        if getattr(args, name) < (0 if name == "synthetic_patches" else 1):
            parser.error(f"--{name.replace('_', '-')} must be positive")
    config = StudyConfig(max_steps=args.max_steps, eval_every=args.eval_every, patience=args.patience,
                         semi_patches=args.semi_patches, synthetic_patches=args.synthetic_patches)  # fmt: skip
    return args, config


def main(argv=None) -> None:
    args, config = parse_args(argv)
    torch.set_num_threads(1)
    out = args.checkpoints / "segmenter_study.json"
    previous = json.loads(out.read_text()) if out.is_file() and not args.redo else {}
    done = {} if previous.get("config") != json.loads(json.dumps(asdict(config))) else previous.get("runs", {})
    start = time.time()
    semi_test, real = test_sets()
    rows = previous.get("references") if done else None
    rows = rows or reference_rows(semi_test, real)
    command = " ".join(["OMP_NUM_THREADS=1 python -m train.segmenter_study", *(sys.argv[1:] if argv is None else argv)])
    study = {"config": asdict(config), "command": command, "references": rows, "runs": done}

    def save() -> None:
        study["table"] = {**{f"segmenter {k}": v for k, v in done.items()}, **rows}
        study["wall_s"] = round(time.time() - start + previous.get("wall_s", 0) * bool(done), 1)
        write_bytes(out, (json.dumps(study, indent=1) + "\n").encode())

    save()
    run_segmenters(config, args.checkpoints, args.cache, (semi_test, real), done, save)
    for name, row in study["table"].items():
        print(f"{name:32s} semi test AP {row['semi_test_ap']:.3f}  real AP {row['real_ap']:.3f}")


if __name__ == "__main__":
    main()
