"""Statistics over per-query or per-pair values: paired randomization tests and bootstrap intervals."""

from __future__ import annotations

import numpy as np


def fisher_randomization(a: np.ndarray, b: np.ndarray, n_resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided paired randomization test (sign flips of per-query differences); returns the p-value."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    observed = abs(diff.mean())
    if not np.any(diff):
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_resamples, len(diff)))
    stats = np.abs((signs * diff).mean(axis=1))
    return float((1 + np.sum(stats >= observed - 1e-12)) / (n_resamples + 1))


def bootstrap_ci(values: np.ndarray, n_resamples: int = 2_000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over queries."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)

