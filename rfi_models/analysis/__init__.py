"""Analysis behind the app and the results: reconstructions, explanations, latent spaces and representations.

The names of `__all__` are imported from their submodule on first use, so that a program needing only one part (the
detection CLI needs no Captum and no scikit-learn) does not pay for importing the others.
"""

from __future__ import annotations

import importlib

SUBMODULE_OF = {
    "attention_rollout": "rollout",
    "attribute": "attribution",
    "cls_attention": "rollout",
    "deletion_curve": "map_scores",
    "heatmap": "attribution",
    "map_auc": "map_scores",
    "rollout": "rollout",
    "Projection": "latent",
    "cluster_quality": "latent",
    "extract_latents": "latent",
    "sar_colour_variables": "latent",
    "weight_statistics": "latent",
    "reconstruct_all": "reconstruction",
}
__all__ = [
    "Projection",
    "attention_rollout",
    "attribute",
    "cls_attention",
    "cluster_quality",
    "deletion_curve",
    "extract_latents",
    "heatmap",
    "map_auc",
    "reconstruct_all",
    "rollout",
    "sar_colour_variables",
    "weight_statistics",
]


def __getattr__(name: str):
    """Import `name` from its submodule on first access (PEP 562)."""
    if name not in SUBMODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{SUBMODULE_OF[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
