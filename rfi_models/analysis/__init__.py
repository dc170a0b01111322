"""Analysis behind the app and the results: anomaly and RFI maps, detectors, tiling, explanations, latent spaces."""

from .anomaly import METHODS, anomaly_maps, residuals, rfi_score
from .baseline import baseline_scores
from .detector import Detector
from .explain import attention_rollout, attribute, cls_attention, deletion_curve, heatmap, map_auc, rollout
from .latent import Projection, cluster_quality, extract_latents, sar_colour_variables, weight_statistics
from .reconstruction import reconstruct_all
from .tiling import score_tiled

__all__ = [
    "METHODS",
    "Detector",
    "Projection",
    "anomaly_maps",
    "attention_rollout",
    "attribute",
    "baseline_scores",
    "cls_attention",
    "cluster_quality",
    "deletion_curve",
    "extract_latents",
    "heatmap",
    "map_auc",
    "reconstruct_all",
    "residuals",
    "rfi_score",
    "rollout",
    "sar_colour_variables",
    "score_tiled",
    "weight_statistics",
]
