"""Training throughput of our MNIST MAE against Hugging Face's ViTMAEForPreTraining at the identical configuration.

Both models are built with random weights from the same numbers (our `create_model("mae", "mnist")` preset: 28 x 28
x 1 images, 4 x 4 patches, width 64, 4 blocks of 4 heads, decoder 32 wide with 2 blocks of 4 heads, MLP ratio 4,
mask ratio 0.75, LayerNorm eps 1e-5, no dropout, pixel loss on hidden patches), trained with the same
optimizer (train/engine.py's fused AdamW with the recipe's lr, weight decay and betas) on the same MNIST
batches of the recipe's batch size, in the same process. A step is what train/engine.py does: loss,
zero_grad, backward, optimizer step; ours runs under the attention backend the engine chooses.
The two are measured in alternating rounds so that both see the same machine load; throughput is images
per second from the median step time. Hugging Face's model is measured with both of its attention
implementations ("sdpa", its default, and "eager") and the faster one is the reference. No hub access:
HF_HUB_OFFLINE=1 and the model comes from a config.

To show what bounds the ratio, the run also counts the floating-point operations of one forward + backward
pass of each model (PyTorch's FlopCounterMode: matrix products and convolutions) and measures this
machine's fp32 matrix-product rate on 2048 x 2048 matrices.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

import rfi_models
from rfi_models.models import MaskedAutoencoder
from train.engine import attention_backend, build_optimizer, recipe

from .compute_limit import matmul_gflop_per_s

RECIPE = recipe("mae", "mnist")
HF_ATTENTION = ("sdpa", "eager")


def vitmae_like(model: MaskedAutoencoder, attention: str):
    """ViTMAEForPreTraining with `model`'s architecture and random weights (transformers is imported here only)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import ViTMAEConfig, ViTMAEForPreTraining

    c = model.config
    if c.img_size[0] != c.img_size[1] or c.patch_size[0] != c.patch_size[1]:
        raise ValueError("ViTMAE needs square images and patches")
    config = ViTMAEConfig(
        image_size=c.img_size[0], patch_size=c.patch_size[0], num_channels=c.in_chans,
        hidden_size=c.embed_dim, num_hidden_layers=c.depth, num_attention_heads=c.num_heads,
        intermediate_size=int(c.embed_dim * c.mlp_ratio), decoder_hidden_size=c.decoder_embed_dim,
        decoder_num_hidden_layers=c.decoder_depth, decoder_num_attention_heads=c.decoder_num_heads,
        decoder_intermediate_size=int(c.decoder_embed_dim * c.mlp_ratio), mask_ratio=c.train_mask_ratio,
        norm_pix_loss=c.norm_pix_loss, layer_norm_eps=1e-5, hidden_act="gelu", qkv_bias=True,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
    )  # fmt: skip
    return ViTMAEForPreTraining._from_config(config, attn_implementation=attention).train()


def reference_loss(reference: torch.nn.Module, ours: MaskedAutoencoder) -> Callable[[torch.Tensor], torch.Tensor]:
    """The training loss of a ViTMAEForPreTraining on images in [0, 1], normalised as ours normalises them."""
    return lambda x: reference(pixel_values=ours.normalize(x)).loss


def training_step(
    model: torch.nn.Module,
    loss_of: Callable[[torch.Tensor], torch.Tensor],
    backend: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext,
):
    """A function that runs one training step of `model` on a batch, its forward pass under `backend()`."""
    optimizer = build_optimizer(model, RECIPE)

    def step(batch: torch.Tensor) -> None:
        with backend():
            loss = loss_of(batch)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def gflop_per_step(loss_of: Callable[[torch.Tensor], torch.Tensor], batch: torch.Tensor) -> float:
    """GFLOP of one forward + backward pass (matrix products and convolutions; elementwise work not counted)."""
    with FlopCounterMode(display=False) as counter:
        loss_of(batch).backward()
    return counter.get_total_flops() / 1e9


def our_training_step(
    model: MaskedAutoencoder, backend: Callable[[], contextlib.AbstractContextManager] = contextlib.nullcontext
):
    """A training step of our MAE with its own seeded mask generator and optimizer."""
    generator = torch.Generator().manual_seed(0)
    return training_step(model, lambda x: model.training_loss(x, generator=generator), backend)


def training_throughput(
    images: np.ndarray, batch_size: int = RECIPE.batch_size, rounds: int = 7, steps_per_round: int = 5,
    warmup_steps: int = 5, model: MaskedAutoencoder | None = None,
) -> dict[str, float]:  # fmt: skip
    """Images per second of our MAE and of ViTMAEForPreTraining ("sdpa" and "eager"), their ratio, the GFLOP
    of one step of each and the machine's matrix-product rate.

    "ours" trains under the attention backend train/engine.py chooses; "ours_default_attention" is the same
    model under PyTorch's default choice (flash attention on the CPU), for the effect of that choice.

    images: uint8 [N, 1, 28, 28]; batches are taken in order, cycling.
    """
    torch.manual_seed(0)
    # at ViTMAE's one mask ratio: the shipped MNIST MAE draws a ratio per batch, which changes the work per step
    ours = (model or rfi_models.create_model("mae", "mnist", train_mask_ratio_range=None)).train()
    batches = [
        torch.from_numpy(images[start : start + batch_size] / np.float32(255))
        for start in range(0, len(images) - batch_size + 1, batch_size)
    ]
    steps = {
        "ours": our_training_step(ours, functools.partial(attention_backend, ours, torch.device("cpu"))),
        "ours_default_attention": our_training_step(copy.deepcopy(ours)),
    }
    for attention in HF_ATTENTION:
        reference = vitmae_like(ours, attention)
        steps[f"transformers_{attention}"] = training_step(reference, reference_loss(reference, ours))
    with attention_backend(ours, torch.device("cpu")):
        work = {"ours_gflop_per_step": gflop_per_step(ours.training_loss, batches[0])}
    work["transformers_gflop_per_step"] = gflop_per_step(reference_loss(reference, ours), batches[0])
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        for i in range(warmup_steps):
            step(batches[i % len(batches)])
    for round_index in range(rounds):
        for name, step in steps.items():
            start = time.perf_counter()
            for i in range(steps_per_round):
                step(batches[(round_index * steps_per_round + i) % len(batches)])
            times[name].append((time.perf_counter() - start) / steps_per_round)
    result = {f"{name}_img_per_s": batch_size / statistics.median(t) for name, t in times.items()}
    reference = max(result[f"transformers_{attention}_img_per_s"] for attention in HF_ATTENTION)
    result["ratio"] = result["ours_img_per_s"] / reference
    return result | work | {"matmul_gflop_per_s": matmul_gflop_per_s()}
