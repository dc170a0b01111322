"""The MAE's attention rollout and raw CLS attention, mapped onto the patch grid.

Attention rollout (Abnar & Zuidema 2020): per block, fuse the heads (mean, max or min), optionally
zero the weakest `discard_ratio` of the entries (never CLS -> CLS), add the identity (residual path),
renormalise the rows and multiply the blocks in order; the CLS row says how much each visible token
feeds the CLS token. The MAE encoder sees CLS plus the visible tokens in shuffled order, so the row is
mapped back onto the patch grid; hidden patches carry no value (NaN) and are marked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models import MaskedAutoencoder

FUSIONS = ("mean", "max", "min")


def fuse_heads(weights: torch.Tensor, fusion: str) -> torch.Tensor:
    """[N, heads, T, T] -> [N, T, T]."""
    if fusion not in FUSIONS:
        raise ValueError(f"head fusion must be one of {FUSIONS}, got {fusion!r}")
    return {"mean": weights.mean(1), "max": weights.amax(1), "min": weights.amin(1)}[fusion]


def rollout(attentions: list[torch.Tensor], fusion: str = "mean", discard_ratio: float = 0.0) -> torch.Tensor:
    """Attention weights of every block ([N, heads, T, T] each) -> rollout matrix [N, T, T]."""
    if not 0.0 <= discard_ratio < 1.0:
        raise ValueError(f"discard_ratio must lie in [0, 1), got {discard_ratio}")
    n, _, tokens, _ = attentions[0].shape
    eye = torch.eye(tokens, dtype=attentions[0].dtype).expand(n, -1, -1)
    result = eye.clone()
    for weights in attentions:
        fused = fuse_heads(weights, fusion)
        if discard_ratio > 0:
            flat = fused.reshape(n, -1).clone()
            weakest = flat.topk(int(flat.shape[1] * discard_ratio), dim=-1, largest=False).indices
            cls_to_cls = flat[:, :1].clone()
            flat.scatter_(1, weakest, 0.0)
            flat[:, :1] = cls_to_cls  # never discarded
            fused = flat.view(n, tokens, tokens)
        a = 0.5 * fused + 0.5 * eye
        a = a / a.sum(dim=-1, keepdim=True)
        result = a @ result
    return result


@dataclass
class GridMap:
    """A value per patch on the full grid [gh, gw] (NaN on hidden patches) and the hidden patches (bool)."""

    values: np.ndarray
    hidden: np.ndarray

    def to_pixels(self, patch_size: tuple[int, int]) -> np.ndarray:
        """[H, W] with each patch's value repeated over its pixels (NaN where hidden)."""
        return np.kron(self.values, np.ones(patch_size))


def visible_tokens_to_grid(
    model: MaskedAutoencoder, row: torch.Tensor, noise: torch.Tensor, mask_ratio: float
) -> GridMap:
    """A value per visible token (shuffled order, [L_keep]) -> GridMap on the patch grid."""
    length = model.num_patches
    keep = row.shape[-1]
    ids_keep = torch.argsort(noise[0])[:keep]
    values = torch.full((length,), float("nan"))
    values[ids_keep] = row.float().cpu()
    hidden = torch.ones(length, dtype=torch.bool)
    hidden[ids_keep] = False
    return GridMap(values.view(model.grid_size).numpy(), hidden.view(model.grid_size).numpy())


@torch.no_grad()
def encoder_attentions(model: MaskedAutoencoder, x: torch.Tensor, mask_ratio: float, seed: int):
    noise = model.mask_noise(1, seed=seed)
    encoded = model.forward_encoder(model.normalize(x[:1]), mask_ratio, noise, return_attention=True)
    return encoded.attentions, noise


def attention_rollout(
    model: MaskedAutoencoder,
    x: torch.Tensor,
    mask_ratio: float = 0.0,
    seed: int = 0,
    fusion: str = "mean",
    discard_ratio: float = 0.0,
) -> GridMap:
    """Rollout of the CLS token over the patch grid for one image x [1, C, H, W], scaled to max 1."""
    attentions, noise = encoder_attentions(model, x, mask_ratio, seed)
    cls_row = rollout(attentions, fusion, discard_ratio)[0, 0, 1:]
    return visible_tokens_to_grid(model, cls_row / cls_row.max().clamp_min(1e-12), noise, mask_ratio)


def cls_attention(
    model: MaskedAutoencoder, x: torch.Tensor, block: int, head: int, mask_ratio: float = 0.0, seed: int = 0
) -> GridMap:
    """The raw attention of the CLS token to every visible patch in one block and head."""
    attentions, noise = encoder_attentions(model, x, mask_ratio, seed)
    if not (0 <= block < len(attentions) and 0 <= head < attentions[0].shape[1]):
        raise ValueError(f"block must be < {len(attentions)} and head < {attentions[0].shape[1]}")
    return visible_tokens_to_grid(model, attentions[block][0, head, 0, 1:], noise, mask_ratio)
