"""One training engine for every family and domain.

AdamW (weight decay on weight matrices only: `train.optim`) with linear warmup then cosine decay, seeded data
order and corruption, tqdm progress, a JSON-lines log, a checkpoint at the end of every epoch (the safetensors
format of rfi_models), and a resume file next to it holding the optimizer state (also safetensors: nothing is
pickled). Runs on the GPU when there is one, and under `torchrun --nproc_per_node N` with DistributedDataParallel
(gloo on CPU, nccl on GPU): each rank takes every N-th batch of the same seeded permutation.

`train` is `set_up` (processes, model, optimizer, resume, data), then per epoch `train_one_epoch` (as in
facebookresearch/mae's engine_pretrain) and, on rank 0, `finish_epoch` (validation, log, checkpoint, resume
file), until the last epoch, max_steps or convergence. The settings of a run and the recipes of every family and
domain are `train.recipes`.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel
from tqdm import tqdm

import rfi_models
from rfi_models.models import Autoencoder, MaskedAutoencoder

from . import data
from .optim import build_optimizer, lr_at
from .recipes import RECIPES as RECIPES  # re-exported (`as`): the programs take the recipes from the engine
from .recipes import VAL_SIZES, TrainConfig
from .recipes import recipe as recipe
from .resume import load_resume_state, resume_path, save_resume_state


class TrainingLoss(nn.Module):
    """Puts `training_loss` behind `forward`, so that DistributedDataParallel sees the call."""

    def __init__(self, model: Autoencoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.model.training_loss(x, generator=generator)


@dataclass
class Distributed:
    rank: int = 0
    world: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def main(self) -> bool:
        return self.rank == 0

    def agree(self, flag: bool) -> bool:
        """Rank 0's `flag` on every rank (only rank 0 validates, so only it knows when to stop)."""
        if self.world == 1:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        dist.broadcast(value, src=0)
        return bool(value.item())

    def close(self) -> None:
        """Wait for every rank, then leave the process group (nothing to do in a single process)."""
        if self.world > 1:
            dist.barrier()
            dist.destroy_process_group()

    @classmethod
    def from_environment(cls) -> Distributed:
        """The ranks torchrun describes in the environment (one process without it), with a device each."""
        world = int(os.environ.get("WORLD_SIZE", "1"))
        cuda = torch.cuda.is_available()
        if world == 1:
            return cls(device=torch.device("cuda" if cuda else "cpu"))
        dist.init_process_group("nccl" if cuda else "gloo")
        local = int(os.environ.get("LOCAL_RANK", "0"))
        device = torch.device(f"cuda:{local}") if cuda else torch.device("cpu")
        if cuda:
            torch.cuda.set_device(device)
        return cls(rank=dist.get_rank(), world=world, device=device)


# ------------------------------------------------------------------------------------------- loop
def load_data(config: TrainConfig) -> tuple[torch.Tensor, torch.Tensor]:
    val_size = config.val_size or VAL_SIZES[config.domain]
    if config.domain == "mnist":
        train, val = data.mnist_split("train"), data.mnist_split("val")
        return (train[: config.train_size] if config.train_size else train), val[:val_size]
    splits = {"train": config.train_size or 3000, "val": val_size}
    train, val = (data.sar_split(split, n, config.rfi_probability, config.real_share) for split, n in splits.items())
    return train, val


@torch.no_grad()
def validate(model: Autoencoder, val: torch.Tensor, config: TrainConfig, device: torch.device) -> dict:
    """Validation loss (fixed corruption seed) and PSNR of reconstructions under the training corruption."""
    model.eval()
    generator = torch.Generator().manual_seed(config.seed + 12345)
    losses, squared = [], []
    corruption = dict(mask_ratio=getattr(model.config, "train_mask_ratio", 0.0))
    corruption["noise_factor"] = getattr(model.config, "noise_factor", 0.0)
    for start in range(0, len(val), config.batch_size * 4):
        x = data.to_unit(val[start : start + config.batch_size * 4]).to(device)
        losses.append(float(model.training_loss(x, generator=generator)) * len(x))
        recon = model.reconstruct(x, seed=config.seed + start, **corruption).image
        squared.append(((recon - x) ** 2).mean().item() * len(x))
    model.train()
    mse = sum(squared) / len(val)
    return {"val_loss": sum(losses) / len(val), "val_psnr": float(10 * np.log10(1 / mse)) if mse > 0 else math.inf}


# PyTorch's CPU flash-attention kernel tiles queries and keys in blocks; for short sequences of narrow heads
# that overhead outweighs the work, and its math backend is faster (the MNIST MAE's training with and without
# it: `ours_img_per_s` and `ours_default_attention_img_per_s` in benchmarks/results.json); for long ones, slower.
MATH_ATTENTION_MAX_TOKENS = 64


def attention_backend(model: nn.Module, device: torch.device) -> contextlib.AbstractContextManager:
    """The scaled_dot_product_attention backend to run a training forward pass under: math for short sequences on
    the CPU, else the default choice. A fresh context manager per call: the backend flags are process-wide, so
    only the training loop sets them, around its forward passes."""
    short = isinstance(model, MaskedAutoencoder) and 1 + model.num_patches <= MATH_ATTENTION_MAX_TOKENS  # decoder
    if device.type == "cpu" and short:
        return sdpa_kernel(SDPBackend.MATH)
    return contextlib.nullcontext()


def converged(history: list[dict], config: TrainConfig) -> bool:
    """True when the best validation loss improved by less than converge_tolerance (relative) over the last
    converge_window epochs: best of those epochs against the best before them, so that one noisy epoch at the end
    of the window neither stops nor prolongs a run that is still improving (identical for a falling loss)."""
    window = config.converge_window
    if window < 1 or len(history) <= window:
        return False
    before = min(epoch["val_loss"] for epoch in history[:-window])
    now = min(epoch["val_loss"] for epoch in history[-window:])
    return (before - now) < config.converge_tolerance * abs(before)


def log_line(path: Path, record: dict) -> None:
    with path.open("a") as f:
        f.write(json.dumps(record) + "\n")


def start_or_resume(config: TrainConfig, model: Autoencoder, optimizer: torch.optim.Optimizer, env: Distributed,
                    fresh: bool) -> dict:  # fmt: skip
    """The progress to continue from: the resume file's, or a fresh start (which clears an old log). Rank 0
    makes the output folders and logs the start or resume with the whole config."""
    log, state_path = Path(config.log), resume_path(config.out)
    progress = {"epoch": 0, "step": 0, "seconds": 0.0, "history": []}
    if state_path.exists() and not fresh:
        progress = load_resume_state(state_path, model, optimizer)
    elif env.main and log.exists():
        log.unlink()
    if env.main:
        Path(config.out).parent.mkdir(parents=True, exist_ok=True)
        log.parent.mkdir(parents=True, exist_ok=True)
        log_line(
            log, {"event": "resume" if progress["epoch"] else "start", "epoch": progress["epoch"], **asdict(config)}
        )
    return progress


@dataclass
class Run:
    """One training run: its settings, processes, model, optimizer, data and progress."""

    config: TrainConfig
    env: Distributed
    model: Autoencoder
    loss_fn: nn.Module  # the model's training loss, behind DistributedDataParallel when there are several ranks
    optimizer: torch.optim.Optimizer
    train_set: torch.Tensor
    val_set: torch.Tensor
    progress: dict  # epoch, step, seconds, history (and converged): what rank 0 saves in the resume file
    step: int  # optimizer steps taken, on every rank

    @property
    def steps_per_epoch(self) -> int:
        return len(self.train_set) // (self.config.batch_size * self.env.world)

    @property
    def warmup_steps(self) -> int:
        return max(1, int(self.config.warmup_epochs * self.steps_per_epoch))

    def out_of_steps(self) -> bool:
        return bool(self.config.max_steps and self.step >= self.config.max_steps)


def set_up(config: TrainConfig, fresh: bool) -> Run:
    """Processes, the seeded model and its optimizer, the progress to continue from, and the data."""
    env = Distributed.from_environment()
    torch.manual_seed(config.seed)
    model = rfi_models.create_model(config.model, config.domain, **config.overrides).to(env.device).train()
    optimizer = build_optimizer(model, config)
    if config.init_from:  # before anything is written; a resume file then replaces these weights
        start_from_weights(model, config)
    progress = start_or_resume(config, model, optimizer, env, fresh)
    loss_fn: nn.Module = TrainingLoss(model)
    if env.world > 1:
        loss_fn = nn.parallel.DistributedDataParallel(loss_fn)  # after resuming: it broadcasts rank 0's weights
    train_set, val_set = load_data(config)
    run = Run(config, env, model, loss_fn, optimizer, train_set, val_set, progress, progress["step"])
    if run.steps_per_epoch == 0:
        raise ValueError(f"{len(train_set)} training images are fewer than one batch per rank ({config.batch_size})")
    return run


# Model config fields that set the training corruption, not the architecture: a fine-tune may change them.
CORRUPTION_FIELDS = ("mask_scheme", "train_mask_ratio", "train_mask_ratio_range", "noise_factor", "train_noise_range")


def start_from_weights(model: Autoencoder, config: TrainConfig) -> None:
    """Copy the weights of checkpoint `config.init_from` into `model`, which must be the same family with the same
    model config but for CORRUPTION_FIELDS (a fine-tune changes the data, schedule or masks, not the architecture)."""
    source, info = rfi_models.load_checkpoint(config.init_from)
    architecture = [
        {k: v for k, v in asdict(c).items() if k not in CORRUPTION_FIELDS} for c in (source.config, model.config)
    ]
    if info["architecture"] != config.model or architecture[0] != architecture[1]:
        raise ValueError(
            f"--init-from {config.init_from}: a {info['architecture']} with config {info['config']}, "
            f"not this run's {config.model} with {asdict(model.config)}"
        )
    model.load_state_dict(source.state_dict())


def train_step(run: Run, x: torch.Tensor, corruption: torch.Generator) -> tuple[float, float]:
    """One optimizer step on the batch x at the scheduled learning rate; returns (loss, learning rate)."""
    lr = lr_at(run.step, run.steps_per_epoch * run.config.epochs, run.warmup_steps, run.config)
    for group in run.optimizer.param_groups:
        group["lr"] = lr
    with attention_backend(run.model, run.env.device):
        loss = run.loss_fn(x, corruption)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    run.step += 1
    return loss.item(), lr


def train_one_epoch(run: Run, epoch: int) -> dict:
    """One pass over this rank's share of a seeded permutation of the training set (or until max_steps), with
    the mean loss logged every log_every steps; returns the epoch's record (epoch, train_loss, seconds)."""
    config, env = run.config, run.env
    started = time.time()
    order = torch.randperm(len(run.train_set), generator=torch.Generator().manual_seed(config.seed * 1000 + epoch))
    corruption = torch.Generator().manual_seed((config.seed * 1000 + epoch) * 64 + env.rank)
    running, counted, epoch_loss = 0.0, 0, 0.0
    bar = tqdm(range(run.steps_per_epoch), desc=f"{config.model}/{config.domain} epoch {epoch + 1}/{config.epochs}",
               disable=not env.main, mininterval=5, file=sys.stderr)  # fmt: skip
    for local_step in bar:
        first = (local_step * env.world + env.rank) * config.batch_size
        x = data.to_unit(run.train_set[order[first : first + config.batch_size]]).to(env.device)
        x = data.random_crop(x, config.crop, corruption) if config.crop else x
        loss, lr = train_step(run, x, corruption)
        running += loss
        epoch_loss += loss
        counted += 1
        if env.main and (counted == config.log_every or local_step == run.steps_per_epoch - 1):
            log_line(Path(config.log), {"event": "step", "epoch": epoch + 1, "step": run.step,
                                        "loss": running / counted, "lr": lr})  # fmt: skip
            bar.set_postfix(loss=f"{running / counted:.4f}", refresh=False)
            running, counted = 0.0, 0
        if run.out_of_steps():
            break
    return {"epoch": epoch + 1, "train_loss": epoch_loss / (local_step + 1), "seconds": time.time() - started}


def finish_epoch(run: Run, record: dict) -> None:
    """Rank 0, after an epoch: validate, update the progress and whether it converged, log, and save the
    checkpoint and the resume file."""
    record |= validate(run.model, run.val_set, run.config, run.env.device)
    progress = {
        "epoch": record["epoch"],
        "step": run.step,
        "seconds": run.progress["seconds"] + record["seconds"],
        "history": [*run.progress["history"], record],
    }
    progress["converged"] = converged(progress["history"], run.config)
    run.progress = progress
    log_line(Path(run.config.log), {"event": "epoch", **record})
    write_checkpoint(run.model, run.config, progress, run.env)
    save_resume_state(resume_path(run.config.out), run.model, run.optimizer, progress)


def train(config: TrainConfig, fresh: bool = False) -> Path:
    """Train (or resume) one model; returns the checkpoint path. Rank 0 writes files."""
    return run_to_end(set_up(config, fresh))


def run_to_end(run: Run) -> Path:
    """Epochs until the ceiling, max_steps or convergence; returns the checkpoint path."""
    config = run.config
    for epoch in range(run.progress["epoch"], config.epochs):
        record = train_one_epoch(run, epoch)
        if run.env.main:
            finish_epoch(run, record)
        if run.out_of_steps():
            break
        if run.env.agree(bool(run.progress.get("converged"))):
            if run.env.main:
                log_line(Path(config.log), {"event": "converged", "epoch": epoch + 1})
            break
    run.env.close()
    return Path(config.out)


def write_checkpoint(model: Autoencoder, config: TrainConfig, progress: dict, env: Distributed) -> None:
    last = progress["history"][-1]
    summary = {
        "recipe": asdict(config),
        "epochs_completed": progress["epoch"],
        "converged": bool(progress.get("converged")),
        "steps": progress["step"],
        "train_seconds": round(progress["seconds"], 1),
        "world_size": env.world,
        "device": str(env.device),
        "torch": torch.__version__,
        "final": last,
    }
    rfi_models.save_checkpoint(model, config.out, domain=config.domain, training=summary)
