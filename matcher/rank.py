"""Rank stage: exact top-k, full rank matrices and the reciprocal ordering, all deterministic.

Ties always break by column index; callers keep candidates sorted by id, so ties break by id.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["blocked_top_k", "rank_matrix", "reciprocal_score", "top_k"]


def _group_max(scores: np.ndarray, width: int) -> np.ndarray:
    """Max of each row over column groups ``j, j + width, j + 2*width, ...`` (works on views too)."""
    _n_rows, n_cols = scores.shape
    order = "F" if not scores.flags.c_contiguous and scores.flags.f_contiguous else "C"
    out = np.array(scores[:, :width], order=order, copy=True)
    for start in range(width, n_cols, width):
        stop = min(start + width, n_cols)
        np.maximum(out[:, : stop - start], scores[:, start:stop], out=out[:, : stop - start])
    return out


def _candidates(scores: np.ndarray, k: int, floor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) positions that include every row's k best, found without sorting whole rows.

    The columns are dealt into groups of about eight; the k-th largest group maximum is a lower
    bound of a row's k-th best value, so only groups reaching it are searched. ``floor`` (one value
    per row) raises the bound further; rows may then have fewer than k candidates.
    """
    n_rows, n_cols = scores.shape
    width = max(-(-n_cols // 8), 8 * k)
    if n_cols < 2 * width:
        if floor is None:
            return tuple(np.indices((n_rows, n_cols)).reshape(2, -1))
        return np.nonzero(scores >= floor[:, None])
    gmax = _group_max(scores, width)
    bound = np.partition(gmax, width - k, axis=1)[:, width - k]
    if floor is not None:
        bound = np.maximum(bound, floor)
    g_rows, g_cols = np.nonzero(gmax >= bound[:, None])
    found_rows, found_cols = [], []
    for start in range(0, n_cols, width):
        rows, cols = g_rows, g_cols + start
        if start + width > n_cols:
            inside = cols < n_cols
            rows, cols = rows[inside], cols[inside]
        keep = scores[rows, cols] >= bound[rows]
        found_rows.append(rows[keep])
        found_cols.append(cols[keep])
    return np.concatenate(found_rows), np.concatenate(found_cols)


def _descending_key(vals: np.ndarray) -> np.ndarray:
    """float32 values mapped to int64 that sort in descending value order."""
    vals = np.asarray(vals, dtype=np.float32) + np.float32(0.0)  # -0.0 becomes +0.0: they compare equal
    u = vals.view(np.uint32).astype(np.int64)
    u = np.where(u & 0x80000000, ~u & 0xFFFFFFFF, u | 0x80000000)
    return 0xFFFFFFFF - u


def _first_k(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, k: int):
    """Sort entries by (row, -value, column) and keep the first k of each row.

    Entries must come in ascending column order within each row (``_candidates`` makes them so);
    float32 values then need one stable sort of a packed (row, -value) key.
    """
    if vals.dtype == np.float32:
        order = np.argsort((rows.astype(np.int64) << 32) | _descending_key(vals), kind="stable")
    else:
        order = np.lexsort((cols, -vals, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    first = np.searchsorted(rows, np.arange(n_rows))
    take = (np.arange(len(rows)) - first[rows]) < k
    return rows[take], cols[take], vals[take]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` best columns of each row, best first, ties by lower index.

    Exact, and close to one pass over the scores for wide rows (see ``_candidates``). ``-inf``
    marks excluded columns and is returned only when fewer than k columns remain.
    """
    scores = np.atleast_2d(scores)
    n_rows, n_cols = scores.shape
    k = min(int(k), n_cols)
    if k <= 0 or n_rows == 0:
        return np.empty((n_rows, 0), dtype=np.int64), np.empty((n_rows, 0), dtype=scores.dtype)
    rows, cols = _candidates(scores, k)
    _, cols, vals = _first_k(rows, cols, scores[rows, cols], n_rows, k)
    return cols.reshape(n_rows, k).astype(np.int64), vals.reshape(n_rows, k)


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
    columns: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Top-k in both directions of an ``n_rows x n_cols`` score matrix never held whole in memory.

    ``score_block(rows)`` returns the scores of a slice of rows against every column. Row top-k
    comes from each block; column top-k is merged block by block with a running best-k, so peak
    memory is one block plus the running lists, whatever the number of rows.

    With ``columns=False`` only the row direction is computed (the last two results are None).
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
        if not columns:
            continue
        # Column direction: a block entry can only enter a column's list by beating its current k-th.
        b_cols, b_rows = _candidates(block.T, kc, floor=best_val[-1])
        if len(b_cols):
            touched = np.unique(b_cols)
            run_cols = np.repeat(touched, kc)
            run_rows = best_idx[:, touched].T.ravel()
            run_vals = best_val[:, touched].T.ravel()
            _m_cols, m_rows, m_vals = _first_k(
                np.concatenate([run_cols, b_cols]),
                np.concatenate([run_rows, b_rows + start]),
                np.concatenate([run_vals, block[b_rows, b_cols]]),
                n_cols,
                kc,
            )
            best_idx[:, touched] = m_rows.reshape(len(touched), kc).T
            best_val[:, touched] = m_vals.reshape(len(touched), kc).T
    if not columns:
        return row_idx, row_val, None, None
    return row_idx, row_val, best_idx.T.copy(), best_val.T.copy()
