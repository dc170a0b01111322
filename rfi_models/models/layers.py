"""Generic ViT layers: the fixed 2-D sin-cos position embedding, multi-head self-attention and the pre-norm
transformer block (as in facebookresearch/mae and timm), for any grid of patches."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def sincos_position_embedding(dim: int, grid_h: int, grid_w: int) -> torch.Tensor:
    """Fixed 2-D sin-cos embedding, [1 + grid_h * grid_w, dim], row-major, with a zero CLS row first.

    Half of the dimensions encode the row, half the column (MAE's get_2d_sincos_pos_embed).
    """

    def one_axis(positions: torch.Tensor, axis_dim: int) -> torch.Tensor:
        omega = 1.0 / 10000 ** (torch.arange(axis_dim // 2, dtype=torch.float64) / (axis_dim / 2))
        angles = positions.double()[:, None] * omega[None, :]  # [L, axis_dim / 2]
        return torch.cat([angles.sin(), angles.cos()], dim=1)

    rows, cols = torch.meshgrid(torch.arange(grid_h), torch.arange(grid_w), indexing="ij")
    grid = torch.cat([one_axis(rows.flatten(), dim // 2), one_axis(cols.flatten(), dim // 2)], dim=1)
    return torch.cat([torch.zeros(1, dim, dtype=torch.float64), grid]).float()


class Attention(nn.Module):
    """Multi-head self-attention: fused by default, explicit weights on request."""

    def __init__(self, dim: int, num_heads: int) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """x: [B, T, D] -> ([B, T, D], weights [B, heads, T, T] or None)."""
        b, t, d = x.shape
        qkv = self.qkv(x).reshape(b, t, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)  # each [B, heads, T, head_dim]
        if return_weights:
            weights = ((q * self.scale) @ k.transpose(-2, -1)).softmax(dim=-1)
            out = weights @ v
        else:
            weights = None
            out = F.scaled_dot_product_attention(q, k, v)
        out = out.transpose(1, 2).reshape(b, t, d)
        return self.proj(out), weights


class Block(nn.Module):
    """Pre-norm transformer block (timm's ViT Block without drop-path and layer scale)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float) -> None:
        super().__init__()
        hidden = int(dim * mlp_ratio)
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x: torch.Tensor, return_weights: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        attended, weights = self.attn(self.norm1(x), return_weights)
        x = x + attended
        x = x + self.mlp(self.norm2(x))
        return x, weights
