"""The optimizer of every family: AdamW whose weight decay reaches weight matrices only, and its schedule.

As facebookresearch/mae (`param_groups_weight_decay`, via timm) and nanoGPT (`configure_optimizers`) apply it:
parameters with at least 2 dimensions (linear and convolution weights) decay; biases, the scales and shifts of
LayerNorm and BatchNorm (1-D) and learned tokens and position embeddings (the MAE's cls and mask tokens, 3-D but not
weights of a map) do not. Decaying those pulls a norm's scale towards 0 and a token towards the origin, which is a
change of the model, not a regulariser of its maps.
"""

from __future__ import annotations

import math

import torch
from torch import nn

# Leaf names of parameters that never decay whatever their shape (timm's `no_weight_decay` lists).
NO_DECAY_NAMES = ("cls_token", "mask_token", "pos_embed", "decoder_pos_embed")


def decays(name: str, parameter: torch.Tensor) -> bool:
    """Whether the parameter `name` (as in `named_parameters`) is a weight matrix that weight decay applies to."""
    return parameter.ndim >= 2 and name.split(".")[-1] not in NO_DECAY_NAMES


def param_groups_weight_decay(model: nn.Module, weight_decay: float) -> list[dict]:
    """Two AdamW parameter groups: {"params": weight matrices, "weight_decay": weight_decay} and
    {"params": the rest, "weight_decay": 0.0}; frozen parameters are left out."""
    decay, no_decay = [], []
    for name, parameter in model.named_parameters():
        if parameter.requires_grad:
            (decay if decays(name, parameter) else no_decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, config) -> torch.optim.AdamW:
    """AdamW over `param_groups_weight_decay` with config's lr, weight_decay and betas (a `TrainConfig`), with the
    fused kernel: one pass over all parameters per step instead of one op per tensor."""
    groups = param_groups_weight_decay(model, config.weight_decay)
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas, fused=True)


def lr_at(step: int, total: int, warmup: int, config) -> float:
    """Linear warmup to config.lr, then cosine decay to config.lr * min_lr_ratio (config: a `TrainConfig`)."""
    if step < warmup:
        return config.lr * (step + 1) / warmup
    progress = (step - warmup) / max(total - warmup, 1)
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))
