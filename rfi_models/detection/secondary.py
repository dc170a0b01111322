"""The learned secondary step: a small per-pixel classifier that tells RFI from other anomalies.

The original study's author separated RFI from other anomalies of a CAE map with "a secondary
classification". Here it is a per-pixel multilayer perceptron on features of one residual source (a model's
residual, or a no-model control's, see `detection.controls`) and of the input:

- per channel (VV, VH): the residual r and the input x at the pixel;
- local row statistics per channel: the residual's mean over RANGE_WINDOW and WIDE_RANGE_WINDOW columns of the
  row, each minus its mean over the surrounding AZIMUTH_WINDOW rows (a stripe stands out of the rows around it,
  tall regions such as land do not), and the same RANGE_WINDOW row contrast of the input.

Trained with the RFI masks of the synthetic and semi-synthetic training sets (class-balanced pixel sample, seeded),
its threshold is calibrated on validation sets and it is reported on test sets (`train/evaluate/sar.py`). Its
output is P(RFI) per pixel, 0 on no-data. Stored as plain JSON (standardisation and layer weights), never pickled;
inference is numpy only.

Training the same classifier on a control's residual answers the tool's question: does a model's residual carry
information about RFI that the input alone does not?
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from ..data.quicklook_scale import valid_pixels

RANGE_WINDOW = 41
WIDE_RANGE_WINDOW = 151
AZIMUTH_WINDOW = 81
FEATURES = tuple(
    f"{name}_{channel}"
    for channel in ("vv", "vh")
    for name in ("residual", "input", "row_residual", "row_residual_wide", "row_input")
)
HIDDEN = (16, 16)


def row_contrast(values: np.ndarray, range_window: int) -> np.ndarray:
    """[N, H, W] -> mean over `range_window` columns of the row, minus that mean's mean over AZIMUTH_WINDOW rows."""
    along = ndimage.uniform_filter1d(values, range_window, axis=2, mode="nearest")
    return along - ndimage.uniform_filter1d(along, AZIMUTH_WINDOW, axis=1, mode="nearest")


def pixel_features(images: np.ndarray, residual: np.ndarray) -> np.ndarray:
    """images, residual float [N, 2, H, W] -> features float32 [N, len(FEATURES), H, W] (FEATURES' order)."""
    images = np.asarray(images, dtype=np.float32)
    residual = np.asarray(residual, dtype=np.float32)
    planes = []
    for c in range(2):
        r, x = residual[:, c], images[:, c]
        planes += [r, x, row_contrast(r, RANGE_WINDOW), row_contrast(r, WIDE_RANGE_WINDOW)]
        planes.append(row_contrast(x, RANGE_WINDOW))
    return np.stack(planes, axis=1).astype(np.float32)


@dataclass
class SecondaryClassifier:
    """A per-pixel MLP (ReLU hidden layers, sigmoid output) on standardised `pixel_features`."""

    mean: np.ndarray  # [F]
    std: np.ndarray  # [F]
    weights: list[np.ndarray]  # [in, out] per layer
    biases: list[np.ndarray]  # [out] per layer
    seed: int = 0

    def probability_of_features(self, features: np.ndarray) -> np.ndarray:
        """features [P, F] -> P(RFI) [P], float32."""
        h = (features - self.mean) / self.std
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = h @ w + b
            if i < len(self.weights) - 1:
                np.maximum(h, 0, out=h)
        return (1 / (1 + np.exp(-np.clip(h[:, 0], -60, 60)))).astype(np.float32)

    def scores(self, images: np.ndarray, residual: np.ndarray) -> np.ndarray:
        """images, residual [N, 2, H, W] -> P(RFI) float32 [N, H, W], 0 on no-data."""
        features = pixel_features(images, residual)
        n, f, h, w = features.shape
        flat = np.moveaxis(features, 1, -1).reshape(-1, f)
        out = self.probability_of_features(flat).reshape(n, h, w)
        out[~valid_pixels(images)] = 0
        return out

    def to_dict(self) -> dict:
        return {
            "features": list(FEATURES),
            "mean": self.mean.tolist(),
            "std": self.std.tolist(),
            "weights": [w.tolist() for w in self.weights],
            "biases": [b.tolist() for b in self.biases],
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> SecondaryClassifier:
        if list(data.get("features", [])) != list(FEATURES):
            raise ValueError(f"the classifier was trained on features {data.get('features')}, not {FEATURES}")

        def array(values) -> np.ndarray:
            return np.asarray(values, dtype=np.float32)

        return cls(
            mean=array(data["mean"]),
            std=array(data["std"]),
            weights=[array(w) for w in data["weights"]],
            biases=[array(b) for b in data["biases"]],
            seed=int(data.get("seed", 0)),
        )


def sample_pixels(
    features: np.ndarray, truth: np.ndarray, valid: np.ndarray, rng: np.random.Generator, per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Up to `per_class` valid RFI pixels and as many valid clean pixels: ([P, F] float32, [P] float32 labels)."""
    flat = np.moveaxis(features, 1, -1).reshape(-1, features.shape[1])
    labels, keep = truth.reshape(-1), valid.reshape(-1)
    chosen = []
    for value in (True, False):
        index = np.flatnonzero(keep & (labels == value))
        chosen.append(rng.choice(index, size=min(per_class, index.size), replace=False) if index.size else index)
    index = np.sort(np.concatenate(chosen))
    return flat[index], labels[index].astype(np.float32)


def train_classifier(
    features: np.ndarray, labels: np.ndarray, seed: int = 0, steps: int = 300, lr: float = 0.01
) -> SecondaryClassifier:
    """Fit the MLP to pixels ([P, F] features, [P] labels in {0, 1}) with full-batch AdamW; the same seed and data
    give the same weights. Runs on one torch thread (restored after): the model is tiny, and a second thread only
    waits for the first."""
    import torch  # only training needs torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        mean, std = features.mean(axis=0), features.std(axis=0) + 1e-6
        weights, biases = fit_mlp(torch, (features - mean) / std, labels, seed, steps, lr)
    finally:
        torch.set_num_threads(threads)
    return SecondaryClassifier(mean.astype(np.float32), std.astype(np.float32), weights, biases, seed=seed)


def fit_mlp(torch, x: np.ndarray, y: np.ndarray, seed: int, steps: int, lr: float):
    """(weights, biases) of the MLP fitted to standardised features x [P, F] and labels y [P]."""
    generator = torch.Generator().manual_seed(seed)
    inputs, targets = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)), torch.from_numpy(y).float()
    layers = []
    for fan_in, fan_out in itertools.pairwise((x.shape[1], *HIDDEN, 1)):
        bound = 1 / np.sqrt(fan_in)
        w = (torch.rand(fan_in, fan_out, generator=generator) * 2 - 1) * bound
        layers.append((w.requires_grad_(), torch.zeros(fan_out, requires_grad=True)))
    optimizer = torch.optim.AdamW([p for layer in layers for p in layer], lr=lr, weight_decay=1e-4)
    for _ in range(steps):
        h = inputs
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < len(layers) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(h[:, 0], targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [w.detach().numpy().copy() for w, _ in layers], [b.detach().numpy().copy() for _, b in layers]
