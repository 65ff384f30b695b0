"""Score stage: pure, vectorised signal functions over all European x Canadian pairs at once.

Each function takes plain arrays (rows = European profiles, columns = Canadian profiles in the
result) and returns a float32 matrix in [0, 1]. No model, no I/O, no loop over pairs.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from scipy import sparse

__all__ = [
    "SIGNALS",
    "cosine_similarity",
    "declared_interest",
    "fuse",
    "language_overlap",
    "lexical_similarity",
    "normalize_rows",
    "sector_overlap",
]

# The signals, in the order they are reported, with the label shown in explanations.
SIGNALS: Mapping[str, str] = {
    "sector": "sector overlap",
    "semantic": "semantic similarity",
    "lexical": "lexical similarity",
    "language": "shared working language",
    "interest": "declared interest",
}
# Weight of the fine-sector part of the sector signal; the priority-area part gets the rest.
FINE_SHARE = 2.0 / 3.0


def normalize_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (all-zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def cosine_similarity(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cosine similarity of every left row with every right row, clipped to [0, 1]."""
    sim = normalize_rows(left) @ normalize_rows(right).T
    return np.clip(sim, 0.0, 1.0, out=sim)


def sector_overlap(eu_fine: np.ndarray, ca_fine: np.ndarray, eu_area: np.ndarray, ca_area: np.ndarray) -> np.ndarray:
    """Sector overlap graded by the taxonomy: same fine sector > same priority area > none.

    ``2/3 * cosine(fine sector sets) + 1/3 * cosine(priority-area sets)``: two profiles with the
    same single sector score 1, profiles sharing only a priority area at most 1/3, others 0.
    """
    fine = cosine_similarity(eu_fine, ca_fine)
    area = cosine_similarity(eu_area, ca_area)
    return (FINE_SHARE * fine + (1.0 - FINE_SHARE) * area).astype(np.float32)


def lexical_similarity(eu_tfidf: sparse.spmatrix | np.ndarray, ca_tfidf: sparse.spmatrix | np.ndarray) -> np.ndarray:
    """Cosine of TF-IDF rows (the rows are expected L2-normalised, as scikit-learn makes them)."""
    prod = eu_tfidf @ ca_tfidf.T
    dense = prod.toarray() if sparse.issparse(prod) else np.asarray(prod)
    return np.clip(dense, 0.0, 1.0).astype(np.float32)


def language_overlap(eu_lang: np.ndarray, ca_lang: np.ndarray) -> np.ndarray:
    """1 where the two profiles share at least one working language, else 0."""
    return ((eu_lang @ ca_lang.T) > 0).astype(np.float32)


def declared_interest(eu_targets_ca: np.ndarray, eu_country: np.ndarray, ca_targets: np.ndarray) -> np.ndarray:
    """Half a point per direction in which a side has declared the other as a target.

    ``eu_targets_ca``: 0/1 per European profile (it, or its partnership, targets Canada);
    ``eu_country``: one-hot country per European profile; ``ca_targets``: 0/1 per Canadian profile
    and country (it targets that European country).
    """
    eu_part = 0.5 * np.asarray(eu_targets_ca, dtype=np.float32)[:, None]
    ca_part = 0.5 * (eu_country @ ca_targets.T)
    return (eu_part + ca_part).astype(np.float32)


def fuse(signals: Mapping[str, np.ndarray], weights: Mapping[str, float], bias: float = 0.0) -> np.ndarray:
    """Weighted sum ``bias + sum_k w_k * signal_k``; the score explanations decompose."""
    names = [n for n in SIGNALS if n in signals]
    total = np.full_like(signals[names[0]], bias, dtype=np.float64)
    for name in names:
        total += float(weights.get(name, 0.0)) * signals[name].astype(np.float64)
    return total
