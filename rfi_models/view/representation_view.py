"""What the latent page shows of the precomputed representation study (checkpoints/representation_{domain}.json,
written by `python -m train.evaluate.representation_study`): the probe scores to draw and whether they are of the
sidebar's checkpoints."""

from __future__ import annotations

import json
from pathlib import Path

LABEL_FRACTIONS = {"1 %": "0.01", "10 %": "0.1", "100 %": "1.0"}  # MNIST: the share of training labels
SAR_SETS = {"semi-synthetic test": "semi_synthetic", "real RFI patches": "real"}
SAR_METRICS = {"ROC-AUC": "roc_auc", "average precision": "average_precision"}
SAR_READINGS = {"relative to the patch": "probes_relative", "as they are": "probes"}  # the tiles' features


def representation_file(folder: str | Path, domain: str) -> Path:
    return Path(folder) / f"representation_{domain}.json"


def read_representation(folder: str | Path, domain: str) -> dict | None:
    """The stored study of one domain, or None when there is none or it cannot be read."""
    path = representation_file(folder, domain)
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) and {"stages", "probes", "checkpoints"} <= set(results) else None


def probe_scores(results: dict, fraction: str = "1.0", test_set: str = "semi_synthetic",
                 metric: str = "roc_auc", reading: str = "probes") -> dict[str, dict[str, float]]:  # fmt: skip
    """{set: {stage: score}}: MNIST test accuracy at a label fraction, or a SAR metric on one test set, of the tile
    features as they are (reading "probes") or relative to their patch ("probes_relative")."""
    if results["domain"] == "mnist":
        return {name: {stage: entry[fraction]["accuracy"] for stage, entry in stages.items() if fraction in entry}
                for name, stages in results["probes"].items()}  # fmt: skip
    return {name: {stage: entry[test_set][metric] for stage, entry in stages.items()}
            for name, stages in results[reading].items()}  # fmt: skip


def stale_checkpoints(results: dict, current: dict[str, tuple[str, str]]) -> list[str]:
    """The families whose sidebar checkpoint (file name, sha256) is not the one the study was made with."""
    recorded = {family: (entry["file"], entry["sha256"]) for family, entry in results["checkpoints"].items()}
    return [family for family, identity in current.items() if recorded.get(family) != identity]
