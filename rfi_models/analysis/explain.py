"""Explanations: MAE attention rollout, Captum attributions for all three families, and numbers to compare them.

Attention rollout (Abnar & Zuidema 2020): per block, fuse the heads (mean, max or min), optionally
zero the weakest `discard_ratio` of the entries (never CLS -> CLS), add the identity (residual path),
renormalise the rows and multiply the blocks in order; the CLS row says how much each visible token
feeds the CLS token. The MAE encoder sees CLS plus the visible tokens in shuffled order, so the row is
mapped back onto the patch grid; hidden patches carry no value (NaN) and are marked.

Captum attributions need one scalar per sample: `ScalarTarget` wraps a model and returns the
reconstruction error over the image or a region (against the clean image, given as an additional
forward argument) or the latent norm. The wrapper holds a reference, never registers hooks, never
changes the mode or requires_grad of the model it wraps, so a model shared by every app session can be
explained safely: only the input gets gradients.

Comparisons by numbers: `map_auc` (ROC-AUC of a map against a truth mask, e.g. the RFI mask) and
`deletion_curve` (the target as the most-attributed pixels are removed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..data.quicklook import valid_pixels
from ..models import Autoencoder, MaskedAutoencoder

FUSIONS = ("mean", "max", "min")
TARGETS = ("reconstruction_error", "region_error", "latent_norm")
ATTRIBUTION_METHODS = ("saliency", "integrated_gradients", "smoothgrad", "gradient_shap", "occlusion")


# ------------------------------------------------------------------------------------------- rollout
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


# ------------------------------------------------------------------------------------------- Captum
class ScalarTarget(nn.Module):
    """One scalar per sample from an autoencoder, for Captum. x [N, C, H, W] -> [N].

    reconstruction_error / region_error: mean squared error between the reconstruction of x and the
    clean image `reference` [1, C, H, W] (over `region` [H, W] bool for region_error). The MAE uses one
    fixed mask for every sample of the batch, so attributions do not mix masks.
    latent_norm: the L2 norm of `encode(x)`.
    """

    def __init__(self, model: Autoencoder, target: str, mask_ratio: float = 0.0, seed: int = 0, region=None) -> None:
        super().__init__()
        if target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, got {target!r}")
        if target == "region_error" and (region is None or not np.any(region)):
            raise ValueError("region_error needs a non-empty region mask [H, W]")
        self.model = model
        self.target, self.mask_ratio, self.seed = target, mask_ratio, seed
        self.region = None if region is None else torch.as_tensor(np.asarray(region), dtype=torch.bool)

    def forward(self, x: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
        if self.target == "latent_norm":
            return self.model.encode(x).norm(dim=1)
        options = {}
        if isinstance(self.model, MaskedAutoencoder):
            options["noise"] = self.model.mask_noise(1, seed=self.seed).expand(x.shape[0], -1)
        image = self.model.reconstruct(x, mask_ratio=self.mask_ratio, **options).image
        squared = (image - reference) ** 2  # [N, C, H, W]
        if self.region is not None and self.target == "region_error":
            return squared[:, :, self.region].mean(dim=(1, 2))
        return squared.mean(dim=(1, 2, 3))


# 2 SAR patches of 340 x 500, or every step for an MNIST digit. Integrated Gradients (32 steps) on a SAR patch,
# median ms at 2 / 4 patches per pass: DAE 1621 / 1974 (its 32-channel full-size activations are memory-bound),
# MAE 978 / 878, CAE 976 / 824; the DAE is the slowest model, so the smaller batch wins.
GRADIENT_BATCH_PIXELS = 340_000


def gradient_batch(x: torch.Tensor, steps: int) -> int:
    """How many of `steps` interpolated inputs share one backward pass: as many as GRADIENT_BATCH_PIXELS
    allows. Larger batches of large images fall out of the CPU caches and run slower, not faster."""
    return max(1, min(steps, GRADIENT_BATCH_PIXELS // (x.shape[-2] * x.shape[-1])))


def attribute(
    model: Autoencoder,
    x: torch.Tensor,
    method: str = "saliency",
    target: str = "reconstruction_error",
    mask_ratio: float = 0.0,
    seed: int = 0,
    region=None,
    steps: int = 32,
    samples: int = 8,
    window: tuple[int, int] | None = None,
) -> np.ndarray:
    """Attribution [C, H, W] for one image x [1, C, H, W] in [0, 1]."""
    from captum.attr import GradientShap, IntegratedGradients, NoiseTunnel, Occlusion, Saliency  # slow import

    if method not in ATTRIBUTION_METHODS:
        raise ValueError(f"method must be one of {ATTRIBUTION_METHODS}, got {method!r}")
    forward = ScalarTarget(model, target, mask_ratio, seed, region)
    x = x[:1].detach()
    extra = (x,)
    baseline = torch.zeros_like(x)
    with torch.enable_grad():
        inputs = x.clone().requires_grad_(True)
        if method == "saliency":
            result = Saliency(forward).attribute(inputs, additional_forward_args=extra, abs=True)
        elif method == "integrated_gradients":
            result = IntegratedGradients(forward).attribute(
                inputs,
                baselines=baseline,
                n_steps=steps,
                internal_batch_size=gradient_batch(x, steps),
                additional_forward_args=extra,
            )
        elif method == "smoothgrad":
            result = NoiseTunnel(Saliency(forward)).attribute(
                inputs, nt_type="smoothgrad", nt_samples=samples, stdevs=0.1, additional_forward_args=extra
            )
        elif method == "gradient_shap":
            baselines = torch.cat([baseline, torch.full_like(x, float(x.mean()))])
            result = GradientShap(forward).attribute(
                inputs, baselines=baselines, n_samples=samples, stdevs=0.05, additional_forward_args=extra
            )
        else:
            h, w = window or default_occlusion_window(x.shape[-2:])
            result = Occlusion(forward).attribute(
                x, sliding_window_shapes=(x.shape[1], h, w), strides=(x.shape[1], h // 2, w // 2),
                baselines=0.0, additional_forward_args=extra, perturbations_per_eval=16,
            )  # fmt: skip
    return result[0].detach().cpu().numpy()


def default_occlusion_window(size) -> tuple[int, int]:
    height, width = int(size[0]), int(size[1])
    return max(2, height // 7), max(2, width // 7)


def heatmap(attribution: np.ndarray) -> np.ndarray:
    """[C, H, W] attribution -> [H, W] magnitude (sum of |a| over channels)."""
    return np.abs(attribution).sum(axis=0)


# ------------------------------------------------------------------------------------------- numbers
def map_auc(explanation: np.ndarray, truth: np.ndarray, image: np.ndarray) -> float:
    """ROC-AUC of an [H, W] map against a bool [H, W] truth mask, no-data and NaN pixels excluded."""
    from ..metrics import rfi_pixel_metrics  # scikit-learn: imported when first needed

    finite = np.isfinite(explanation)
    usable = np.where(finite, explanation, 0.0)
    keep = image * finite[None]  # NaN pixels (hidden patches) count as no-data
    return rfi_pixel_metrics(usable, truth, keep)["roc_auc"]


@torch.no_grad()
def deletion_curve(
    model: Autoencoder,
    x: torch.Tensor,
    explanation: np.ndarray,
    target: str = "reconstruction_error",
    steps: int = 10,
    mask_ratio: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Fractions [steps + 1] and the target after removing (zeroing) that fraction of the most-explained pixels.

    Only pixels that removal can change are ranked: those with a finite map value (not a hidden MAE patch)
    and a non-zero value in some channel (zeroing a black MNIST background pixel does nothing). All
    fractions run as one batch. A map that finds what drives the target changes it fastest.
    """
    candidates = np.flatnonzero(np.isfinite(explanation).ravel() & valid_pixels(x[0].cpu().numpy()).ravel())
    order = candidates[np.argsort(-explanation.ravel()[candidates], kind="stable")]
    fractions = np.linspace(0, 1, steps + 1)
    batch = x[:1].repeat(steps + 1, 1, 1, 1).clone()
    flat = batch.view(steps + 1, batch.shape[1], -1)
    for i, fraction in enumerate(fractions):
        flat[i, :, order[: round(fraction * order.size)]] = 0.0
    forward = ScalarTarget(model, target, mask_ratio, seed, None)
    return fractions, forward(batch, x[:1]).cpu().numpy()


def deletion_area(values: np.ndarray) -> float:
    """Normalised area under a deletion curve (trapezoid over fractions 0..1)."""
    return float(np.trapezoid(values, dx=1 / (len(values) - 1)))


@dataclass
class ExplanationScore:
    """How one [H, W] explanation map does: agreement with the RFI mask, and its deletion curve."""

    name: str
    rfi_auc: float  # ROC-AUC of the map against the RFI mask; NaN when the truth is unknown
    deletion_change: float  # mean |target change| over the deletion curve: higher = found what drives it sooner
    fractions: np.ndarray  # [steps + 1] share of pixels removed
    deletion: np.ndarray  # [steps + 1] the target after removing them


def score_explanations(
    model: Autoencoder,
    x: torch.Tensor,
    maps: dict[str, np.ndarray],
    truth: np.ndarray | None = None,
    target: str = "reconstruction_error",
    mask_ratio: float = 0.0,
    seed: int = 0,
    steps: int = 10,
) -> list[ExplanationScore]:
    """Score every named map [H, W] for one image x [1, C, H, W]: RFI-mask ROC-AUC (when `truth` is given) and
    the deletion curve of `target` (region targets are scored on the whole image)."""
    deletion_target = "reconstruction_error" if target == "region_error" else target
    scores = []
    for name, explanation in maps.items():
        auc = map_auc(explanation, truth, x[0].cpu().numpy()) if truth is not None else float("nan")
        fractions, values = deletion_curve(model, x, explanation, deletion_target, steps, mask_ratio, seed)
        scores.append(ExplanationScore(name, auc, deletion_area(np.abs(values - values[0])), fractions, values))
    return scores


# ------------------------------------------------------------------------------------------- one image, all models
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
    maps: dict[str, dict[str, np.ndarray]]  # family -> map name -> [H, W] (NaN on hidden MAE patches)
    scores: dict[str, list[ExplanationScore]]  # family -> scores of its maps, plus a random reference map
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
    """For one image [C, H, W] in [0, 1]: the MAE's rollout and CLS attention, every model's Captum map, and
    their scores (RFI-mask ROC-AUC when `truth` [H, W] is known, deletion curves)."""
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
            block = settings.block if settings.block >= 0 else model.config.depth - 1
            attention = cls_attention(model, x, block, settings.head, settings.mask_ratio, settings.seed)
            maps[family][f"CLS attention b{block} h{settings.head}"] = attention.to_pixels(patch)
        attribution = attribute(model, x, settings.method, settings.target, settings.mask_ratio, settings.seed, region)
        maps[family][captum_name] = heatmap(attribution)
        scored = {**maps[family], "random": reference}
        scores[family] = score_explanations(
            model, x, scored, truth, settings.target, settings.mask_ratio, settings.seed
        )
    return Explanations(maps, scores, truth is not None)
