"""Representation measures: linear CKA and the fixed linear-probe protocol.

Linear CKA (Kornblith et al. 2019, "Similarity of neural network representations revisited", eq. 4): with column-
centred features X [N, p] and Y [N, q] of the same N samples,
    CKA(X, Y) = ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F),
1 for identical features, invariant to orthogonal transforms and isotropic scaling of either, near 0 for independent
features (of order p q / N^2 for random ones).

The probe protocol (`linear_probe`), fixed and stated so that every stage of every model is read the same way:
features standardised on the training part (scikit-learn StandardScaler), an L2-regularised logistic regression
(LogisticRegression, lbfgs, multinomial for several classes) for each strength C of `C_GRID`, the C with the best
accuracy on the validation part kept, and that fit scored on the test set (no refit). Iterations are capped at
`MAX_ITER`; how many a fit took is reported, so a fit that hit the cap is visible. Reproducible from its seed
(which training samples a label fraction keeps, and the validation split).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

C_GRID = (0.01, 0.1, 1.0)  # inverse L2 strengths tried on the validation split
MAX_ITER = 200
VALIDATION_SHARE = 0.1


def linear_cka(x: np.ndarray, y: np.ndarray) -> float:
    """Linear CKA of features x [N, p] and y [N, q] of the same N samples (float64 internally); 0 when either is
    constant."""
    if x.ndim != 2 or y.ndim != 2 or len(x) != len(y):
        raise ValueError(f"need two feature matrices [N, p], [N, q] of the same N, got {x.shape} and {y.shape}")
    x = np.asarray(x, np.float64) - np.asarray(x, np.float64).mean(axis=0)
    y = np.asarray(y, np.float64) - np.asarray(y, np.float64).mean(axis=0)
    norm_x, norm_y = np.linalg.norm(x.T @ x), np.linalg.norm(y.T @ y)
    if norm_x == 0 or norm_y == 0:
        return 0.0
    return float(np.linalg.norm(y.T @ x) ** 2 / (norm_x * norm_y))


def cka_matrix(features: dict[str, np.ndarray]) -> tuple[list[str], np.ndarray]:
    """Linear CKA between every pair of named feature sets [N, *] -> (names, symmetric matrix [K, K])."""
    names = list(features)
    matrix = np.eye(len(names))
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            matrix[i, j] = matrix[j, i] = linear_cka(features[a], features[names[j]])
    return names, matrix


@dataclass
class ProbeResult:
    test_accuracy: float
    validation_accuracy: float
    strength: float  # the chosen C
    iterations: int  # lbfgs iterations of the chosen fit (MAX_ITER = it hit the cap)
    training_samples: int
    scaler: object = None  # the fitted StandardScaler and LogisticRegression, to score other sets
    probe: object = None

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Positive-class probabilities [N] of a binary probe on other features [N, d]."""
        return self.probe.predict_proba(self.scaler.transform(np.asarray(features, np.float64)))[:, 1]

    def summary(self) -> dict:
        return {
            "accuracy": self.test_accuracy,
            "validation_accuracy": self.validation_accuracy,
            "C": self.strength,
            "iterations": self.iterations,
            "training_samples": self.training_samples,
        }


def label_subset(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Indices of a stratified `fraction` of the samples (at least 2 per class), reproducible from `seed`."""
    if not 0 < fraction <= 1:
        raise ValueError(f"the label fraction must lie in (0, 1], got {fraction}")
    rng = np.random.default_rng(seed)
    chosen = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        chosen.append(rng.permutation(members)[: max(2, round(fraction * len(members)))])
    return np.sort(np.concatenate(chosen))


def validation_split(labels: np.ndarray, seed: int, share: float = VALIDATION_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """(training, validation) indices, stratified, at least one validation sample per class."""
    rng = np.random.default_rng(seed + 1)
    train, val = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        cut = max(1, round(share * len(members)))
        val.append(members[:cut])
        train.append(members[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def fit_probe(train: tuple[np.ndarray, np.ndarray], val: tuple[np.ndarray, np.ndarray],
              test: tuple[np.ndarray, np.ndarray], grid: tuple[float, ...] = C_GRID,
              max_iter: int = MAX_ITER, select: str = "accuracy") -> ProbeResult:  # fmt: skip
    """The protocol on given (features, labels) splits: standardise on train, one fit per C, best C on val by
    `select`: "accuracy", or "average_precision" for a rare positive class (binary), where accuracy is the share of
    negatives for every C."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(train[0])
    x_train, x_val, x_test = (scaler.transform(np.asarray(s[0], np.float64)) for s in (train, val, test))
    best = None
    for strength in grid:
        probe = LogisticRegression(C=strength, max_iter=max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            probe.fit(x_train, train[1])
        score = validation_score(probe, x_val, val[1], select)
        if best is None or score > best[0]:
            best = (score, strength, probe)
    score, strength, probe = best
    return ProbeResult(float(probe.score(x_test, test[1])), score, strength, int(np.max(probe.n_iter_)),
                       len(train[1]), scaler, probe)  # fmt: skip


def validation_score(probe, features: np.ndarray, labels: np.ndarray, select: str) -> float:
    if select == "accuracy":
        return float(probe.score(features, labels))
    if select == "average_precision":
        from sklearn.metrics import average_precision_score

        return float(average_precision_score(labels, probe.predict_proba(features)[:, 1]))
    raise ValueError(f"select must be 'accuracy' or 'average_precision', got {select!r}")


def linear_probe(features: np.ndarray, labels: np.ndarray, test_features: np.ndarray, test_labels: np.ndarray,
                 fraction: float = 1.0, seed: int = 0, grid: tuple[float, ...] = C_GRID,
                 max_iter: int = MAX_ITER) -> ProbeResult:  # fmt: skip
    """The protocol on `fraction` of the labelled training samples: a validation split of them chooses C."""
    kept = label_subset(labels, fraction, seed)
    train, val = validation_split(labels[kept], seed)
    train, val = kept[train], kept[val]
    return fit_probe((features[train], labels[train]), (features[val], labels[val]), (test_features, test_labels),
                     grid, max_iter)  # fmt: skip
