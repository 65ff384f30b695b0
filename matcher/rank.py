"""Rank stage: exact top-k, full rank matrices and the reciprocal ordering, all deterministic.

Ties always break by column index; callers keep candidates sorted by id, so ties break by id.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["blocked_top_k", "rank_matrix", "reciprocal_score", "top_k"]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` best columns of each row, best first, ties by lower index.

    Exact and O(n) per row: a partition finds the k-th value, every column above it is kept, and
    columns equal to it are kept in index order until k are taken. ``-inf`` marks excluded columns
    and is never returned as a real candidate unless fewer than k columns remain.
    """
    scores = np.atleast_2d(scores)
    n_rows, n_cols = scores.shape
    k = min(int(k), n_cols)
    if k <= 0 or n_rows == 0:
        return np.empty((n_rows, 0), dtype=np.int64), np.empty((n_rows, 0), dtype=scores.dtype)
    kth = np.partition(scores, n_cols - k, axis=1)[:, n_cols - k][:, None]
    above = scores > kth
    tied = scores == kth
    need = k - above.sum(axis=1, keepdims=True)
    keep = above | (tied & (np.cumsum(tied, axis=1) <= need))
    cols = np.nonzero(keep)[1].reshape(n_rows, k)
    vals = np.take_along_axis(scores, cols, axis=1)
    order = np.lexsort((cols, -vals), axis=1)
    return np.take_along_axis(cols, order, axis=1), np.take_along_axis(vals, order, axis=1)


def rank_matrix(scores: np.ndarray) -> np.ndarray:
    """1-based rank of every column within its row (1 = best), ties by lower index."""
    n_rows, n_cols = scores.shape
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(1, n_cols + 1)[None, :].repeat(n_rows, axis=0), axis=1)
    return ranks


def reciprocal_score(rank_eu_to_ca: np.ndarray, rank_ca_to_eu: np.ndarray) -> np.ndarray:
    """Harmonic mean of the two reciprocal ranks, ``2 / (r1 + r2)``: high only when both sides rank each other high."""
    return 2.0 / (np.asarray(rank_eu_to_ca, dtype=np.float64) + np.asarray(rank_ca_to_eu, dtype=np.float64))


def blocked_top_k(
    score_block: Callable[[slice], np.ndarray],
    n_rows: int,
    n_cols: int,
    k: int,
    block_rows: int = 2048,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Top-k in both directions of an ``n_rows x n_cols`` score matrix never held whole in memory.

    ``score_block(rows)`` returns the scores of a slice of rows against every column. Row top-k
    comes from each block; column top-k is merged block by block with a running best-k, so peak
    memory is one block plus the running lists, whatever the number of rows.

    Returns ``(row_idx, row_val, col_idx, col_val)``: ``row_idx`` is ``n_rows x k`` column indices,
    ``col_idx`` is ``n_cols x k`` row indices, best first, ties by lower index.
    """
    kr = min(k, n_cols)
    kc = min(k, n_rows)
    row_idx = np.empty((n_rows, kr), dtype=np.int64)
    row_val = np.empty((n_rows, kr), dtype=np.float32)
    best_val = np.full((kc, n_cols), -np.inf, dtype=np.float32)
    best_idx = np.full((kc, n_cols), np.iinfo(np.int64).max, dtype=np.int64)
    for start in range(0, n_rows, block_rows):
        rows = slice(start, min(start + block_rows, n_rows))
        block = np.asarray(score_block(rows), dtype=np.float32)
        idx, val = top_k(block, kr)
        row_idx[rows], row_val[rows] = idx, val
        # Column direction: candidates are this block's best kc rows per column plus the running best.
        cidx, cval = top_k(block.T, kc)
        merged_val = np.concatenate([best_val, cval.T], axis=0)
        merged_idx = np.concatenate([best_idx, (cidx + start).T], axis=0)
        order = np.lexsort((merged_idx, -merged_val), axis=0)[:kc]
        best_val = np.take_along_axis(merged_val, order, axis=0)
        best_idx = np.take_along_axis(merged_idx, order, axis=0)
    return row_idx, row_val, best_idx.T.copy(), best_val.T.copy()
