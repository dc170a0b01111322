"""Explanations of one image by every model, for the app's Explain page: the MAE's rollout and CLS attention
(`rollout`), a Captum attribution of every model (`attribution`), and their scores (`map_scores`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..models import Autoencoder, MaskedAutoencoder
from .attribution import attribute, heatmap
from .map_scores import ExplanationScore, score_explanations
from .rollout import attention_rollout, cls_attention


@dataclass(frozen=True)
class ExplainSettings:
    fusion: str = "mean"
    discard_ratio: float = 0.0
    block: int = -1  # CLS attention block (-1: the last)
    head: int = 0
    method: str = "saliency"
    target: str = "reconstruction_error"
    region: tuple[tuple[int, int], tuple[int, int]] | None = None  # ((row0, row1), (col0, col1)) for region_error
    mask_ratio: float = 0.0
    seed: int = 0


@dataclass
class Explanations:
    maps: dict[str, dict[str, np.ndarray]]  # model key -> map name -> [H, W] (NaN on hidden MAE patches)
    scores: dict[str, list[ExplanationScore]]  # model key -> scores of its maps, plus a random reference map
    truth_known: bool


def region_mask(region, size: tuple[int, int]) -> np.ndarray | None:
    if region is None:
        return None
    (row0, row1), (col0, col1) = region
    mask = np.zeros(size, dtype=bool)
    mask[row0:row1, col0:col1] = True
    return mask


def explain_models(
    models: dict[str, Autoencoder], image: np.ndarray, truth: np.ndarray | None, settings: ExplainSettings
) -> Explanations:
    """For one image [C, H, W] in [0, 1]: every MAE's rollout and CLS attention (each with the masking it was
    trained with; the block and head clipped to its own), every model's Captum map, and their scores (RFI-mask
    ROC-AUC when `truth` [H, W] is known, deletion curves). `models` is keyed by family or model key."""
    x = torch.from_numpy(np.ascontiguousarray(image, dtype=np.float32))[None]
    region = region_mask(settings.region, image.shape[1:])
    captum_name = settings.method.replace("_", " ")
    maps: dict[str, dict[str, np.ndarray]] = {}
    scores: dict[str, list[ExplanationScore]] = {}
    reference = np.random.default_rng(settings.seed).random(image.shape[1:])
    for family, model in models.items():
        maps[family] = {}
        if isinstance(model, MaskedAutoencoder):
            patch = model.config.patch_size
            grid = attention_rollout(model, x, settings.mask_ratio, settings.seed, settings.fusion,
                                     settings.discard_ratio)  # fmt: skip
            maps[family]["rollout"] = grid.to_pixels(patch)
            depth = model.config.depth
            block = settings.block if 0 <= settings.block < depth else depth - 1
            head = min(settings.head, model.config.num_heads - 1)
            attention = cls_attention(model, x, block, head, settings.mask_ratio, settings.seed)
            maps[family][f"CLS attention b{block} h{head}"] = attention.to_pixels(patch)
        attribution = attribute(model, x, settings.method, settings.target, settings.mask_ratio, settings.seed, region)
        maps[family][captum_name] = heatmap(attribution)
        scored = {**maps[family], "random": reference}
        scores[family] = score_explanations(
            model, x, scored, truth, settings.target, settings.mask_ratio, settings.seed
        )
    return Explanations(maps, scores, truth is not None)
