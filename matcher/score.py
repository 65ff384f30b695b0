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
    "FusedScorer",
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
# Value of the language signal when the only shared languages are lingua francas.
COMMON_ONLY = 0.5
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


def language_overlap(eu_lang: np.ndarray, ca_lang: np.ndarray, common: np.ndarray | None = None) -> np.ndarray:
    """Shared working language: 1 when the two share a language that is not a lingua franca,
    ``COMMON_ONLY`` when they share only a lingua franca (``common`` marks those columns, e.g.
    English, which almost every cluster lists), 0 when they share none.
    """
    eu_lang = np.asarray(eu_lang, dtype=np.float32)
    ca_lang = np.asarray(ca_lang, dtype=np.float32)
    if common is None:
        common = np.zeros(eu_lang.shape[1], dtype=bool)
    common = np.asarray(common, dtype=bool)
    any_shared = (eu_lang @ ca_lang.T) > 0
    own_shared = (eu_lang[:, ~common] @ ca_lang[:, ~common].T) > 0
    return np.where(own_shared, 1.0, np.where(any_shared, COMMON_ONLY, 0.0)).astype(np.float32)


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


class FusedScorer:
    """The fused score, block by block, for corpora too large for one matrix per signal.

    Gives the same values as :func:`fuse` over the five signal functions above (a test checks it),
    but computes a block of rows at a time so memory stays flat as sizes grow, and folds the
    linear parts into as few matrix products as possible: the clipped semantic product, then one
    product (accumulated in place) for sector overlap, declared interest, shared language and the
    lexical terms frequent enough to make a sparse product dense; rare lexical terms stay sparse.
    """

    def __init__(
        self,
        weights: Mapping[str, float],
        bias: float,
        eu_emb: np.ndarray,
        ca_emb: np.ndarray,
        eu_fine: np.ndarray,
        ca_fine: np.ndarray,
        eu_area: np.ndarray,
        ca_area: np.ndarray,
        eu_lang: np.ndarray,
        ca_lang: np.ndarray,
        eu_lex,
        ca_lex,
        eu_targets_ca: np.ndarray,
        eu_country: np.ndarray,
        ca_targets: np.ndarray,
        lang_common: np.ndarray | None = None,
        dense_terms: int = 128,
    ) -> None:
        w = {name: float(weights.get(name, 0.0)) for name in SIGNALS}
        if any(v < 0 for v in w.values()):
            raise ValueError(f"FusedScorer needs non-negative weights; got {w}")
        self.bias = float(bias)
        self.w = w
        # clip(w * cos, 0, w) == w * clip(cos, 0, 1) for w >= 0: the weight is folded into the rows.
        self.eu_emb = w["semantic"] * normalize_rows(eu_emb)
        self.ca_emb_t = np.ascontiguousarray(normalize_rows(ca_emb).T)
        eu_lex = sparse.csr_matrix(eu_lex, dtype=np.float32)
        ca_lex = sparse.csr_matrix(ca_lex, dtype=np.float32)
        df = np.bincount(eu_lex.indices, minlength=eu_lex.shape[1]) + np.bincount(ca_lex.indices, minlength=ca_lex.shape[1])
        frequent = np.sort(np.argsort(-df, kind="stable")[: min(dense_terms, int((df > 1).sum()))])
        rare = np.setdiff1d(np.arange(eu_lex.shape[1]), frequent)
        flag = np.asarray(eu_targets_ca, dtype=np.float32)[:, None]
        # The language signal is linear in the Canadian side's language patterns: column p on the
        # right is 1 for profiles with pattern p; on the left, the signal's value against pattern p.
        n_lang = np.asarray(eu_lang).shape[1]
        common_mask = _bitmask(np.zeros((1, n_lang)) if lang_common is None else np.asarray(lang_common, dtype=float)[None, :])[0]
        eu_mask, ca_mask = _bitmask(eu_lang), _bitmask(ca_lang)
        patterns, ca_pattern = np.unique(ca_mask, return_inverse=True)
        shared = eu_mask[:, None] & patterns[None, :]
        eu_lang_part = np.where((shared & ~common_mask) != 0, 1.0, np.where(shared != 0, COMMON_ONLY, 0.0)).astype(np.float32)
        ca_lang_part = np.zeros((len(ca_mask), len(patterns)), np.float32)
        ca_lang_part[np.arange(len(ca_mask)), ca_pattern] = 1.0
        self.eu_aux_t = np.ascontiguousarray(np.hstack(
            [
                w["sector"] * FINE_SHARE * normalize_rows(eu_fine),
                w["sector"] * (1 - FINE_SHARE) * normalize_rows(eu_area),
                w["interest"] * 0.5 * flag,
                w["interest"] * 0.5 * np.asarray(eu_country, dtype=np.float32),
                w["lexical"] * eu_lex[:, frequent].toarray(),
                w["language"] * eu_lang_part,
            ]
        ).astype(np.float32).T)
        self.ca_aux_t = np.ascontiguousarray(
            np.hstack(
                [
                    normalize_rows(ca_fine),
                    normalize_rows(ca_area),
                    np.ones((ca_fine.shape[0], 1), np.float32),
                    np.asarray(ca_targets, np.float32),
                    ca_lex[:, frequent].toarray(),
                    ca_lang_part,
                ]
            ).T.astype(np.float32)
        )
        self.eu_rare = (w["lexical"] * eu_lex[:, rare]).tocsr()
        self.ca_rare_t = ca_lex[:, rare].T.tocsr()
        self.shape = (self.eu_emb.shape[0], self.ca_emb_t.shape[1])

    def __call__(self, rows: slice) -> np.ndarray:
        """Fused scores of a slice of European rows against every Canadian column (float32)."""
        from scipy.linalg.blas import sgemm

        out = self.eu_emb[rows] @ self.ca_emb_t
        np.clip(out, 0.0, self.w["semantic"], out=out)
        # Accumulate the second product into ``out`` (BLAS beta=1) instead of adding a new matrix.
        out = sgemm(1.0, self.ca_aux_t.T, self.eu_aux_t[:, rows], beta=1.0, c=out.T, overwrite_c=True).T
        rare = (self.eu_rare[rows] @ self.ca_rare_t).tocsr()
        if rare.nnz:
            _add_sparse(out, rare)
        if self.bias:
            out += self.bias
        return out


def _bitmask(indicator: np.ndarray) -> np.ndarray:
    """0/1 rows of up to 64 columns packed into one unsigned integer per row."""
    indicator = np.asarray(indicator) > 0
    if indicator.shape[1] > 64:
        raise ValueError(f"at most 64 working languages are supported; got {indicator.shape[1]}")
    weights = np.left_shift(np.uint64(1), np.arange(indicator.shape[1], dtype=np.uint64))
    return (indicator.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _add_sparse(out: np.ndarray, matrix: sparse.csr_matrix) -> None:
    """``out += matrix`` in place, without building a dense copy of the sparse matrix."""
    try:
        from scipy.sparse._sparsetools import csr_todense  # accumulates into its output
    except ImportError:  # pragma: no cover - older or newer scipy layouts
        out += matrix.toarray()
        return
    m, n = matrix.shape
    csr_todense(m, n, matrix.indptr, matrix.indices, matrix.data.astype(out.dtype, copy=False), out)
