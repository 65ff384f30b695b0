"""Rank stage: exact top-k, full rank matrices and the reciprocal ordering, all deterministic.

Ties always break by column index; callers keep candidates sorted by id, so ties break by id.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from matcher._checks import ParamChecks, is_int
from matcher.errors import ParameterError

__all__ = ["blocked_top_k", "n_workers", "rank_matrix", "reciprocal_score", "top_k"]


def _group_max(scores: np.ndarray, width: int) -> np.ndarray:
    """Max of each row over column groups ``j, j + width, j + 2*width, ...`` (works on views too)."""
    _n_rows, n_cols = scores.shape
    order = "F" if not scores.flags.c_contiguous and scores.flags.f_contiguous else "C"
    out = np.array(scores[:, :width], order=order, copy=True)
    for start in range(width, n_cols, width):
        stop = min(start + width, n_cols)
        np.maximum(out[:, : stop - start], scores[:, start:stop], out=out[:, : stop - start])
    return out


def _candidates(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) positions that include every row's k best, found without sorting whole rows.

    The columns are dealt into groups of about eight; the k-th largest group maximum is a lower
    bound of a row's k-th best value, so only groups reaching it are searched.
    """
    n_rows, n_cols = scores.shape
    width = max(-(-n_cols // 8), 8 * k)
    if n_cols < 2 * width:
        return tuple(np.indices((n_rows, n_cols)).reshape(2, -1))
    gmax = _group_max(scores, width)
    bound = np.partition(gmax, width - k, axis=1)[:, width - k]
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
    checks = ParamChecks("top_k")
    checks.require(is_int(k) and k >= 0, f"k must be a non-negative int; got {k!r}")
    checks.require(scores.ndim == 2, f"scores must be a 2-D matrix; got {scores.ndim} dimensions")
    checks.require(np.issubdtype(scores.dtype, np.number), f"scores must be numbers; got dtype {scores.dtype}")
    checks.done()
    if np.issubdtype(scores.dtype, np.floating) and np.isnan(scores).any():
        raise ParameterError("scores must not hold NaN (use -inf to exclude a column)")
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


def n_workers(n_jobs: int | None) -> int:
    """Worker count for scikit-learn's ``n_jobs`` convention: None is 1, -1 all usable cores, -2 all but one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cores = os.cpu_count() or 1
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs == 0:
        raise ParameterError(f"n_jobs must be None, a positive int, or a negative int (-1 = all {cores} cores); got {n_jobs!r}")
    return int(n_jobs) if n_jobs > 0 else max(1, cores + 1 + int(n_jobs))


def blocked_top_k(
    score_block: Callable[[slice], np.ndarray],
    n_rows: int,
    n_cols: int,
    k: int,
    block_rows: int = 256,
    columns: bool = True,
    n_jobs: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Top-k in both directions of an ``n_rows x n_cols`` score matrix never held whole in memory.

    ``score_block(rows)`` returns the scores of a slice of rows against every column. A scorer may
    instead offer ``column_tiles`` (slices covering the columns) and ``score_into(rows, cols, out)``
    (as :class:`matcher.score.FusedScorer` does): the scores of a tile then go into a reused buffer
    small enough to stay in the CPU cache until a compiled kernel has merged them into every row's
    best k and a running best k per column. Peak memory is one tile per worker plus the lists,
    whatever the number of rows.

    ``n_jobs`` worker threads (scikit-learn's convention: None = 1, -1 = all cores) take row blocks
    in turn; the scorer is then called from several threads at once, and BLAS is held to one thread
    per worker while they run. The result does not depend on ``n_jobs``, ``block_rows`` or the tiles.

    With ``columns=False`` only the row direction is computed (the last two results are None).
    Returns ``(row_idx, row_val, col_idx, col_val)``: ``row_idx`` is ``n_rows x k`` column indices,
    ``col_idx`` is ``n_cols x k`` row indices, best first, ties by lower index; ``-inf`` scores are
    ranked like any other value, NaN is not supported.
    """
    from matcher import _kernels

    workers = n_workers(n_jobs)
    checks = ParamChecks("blocked_top_k")
    checks.require(is_int(block_rows) and block_rows >= 1, f"block_rows must be a positive int; got {block_rows!r}")
    checks.require(is_int(k) and k >= 0, f"k must be a non-negative int; got {k!r}")
    checks.require(is_int(n_rows) and n_rows >= 0 and is_int(n_cols) and n_cols >= 0, f"n_rows and n_cols must be non-negative ints; got {n_rows!r} and {n_cols!r}")
    checks.done()
    kr = min(k, n_cols)
    kc = min(k, n_rows)
    row_idx = np.zeros((n_rows, max(kr, 0)), dtype=np.int64)
    row_val = np.zeros((n_rows, max(kr, 0)), dtype=np.float32)
    if kr <= 0 or kc <= 0:
        empty = (np.zeros((n_cols, 0), dtype=np.int64), np.zeros((n_cols, 0), dtype=np.float32))
        return (row_idx, row_val, *empty) if columns else (row_idx, row_val, None, None)
    row_n = np.zeros(n_rows, dtype=np.int64)
    starts = range(0, n_rows, block_rows)
    workers = min(workers, len(starts))
    tiled = hasattr(score_block, "score_into") and hasattr(score_block, "column_tiles")
    tiles = list(score_block.column_tiles) if tiled else [slice(0, n_cols)]
    states = [
        (
            np.full(n_cols, -np.inf, dtype=np.float32),
            np.full((n_cols, kc), -np.inf, dtype=np.float32),
            np.full((n_cols, kc), np.iinfo(np.int64).max, dtype=np.int64),
            np.zeros(len(tiles), dtype=np.int64),
        )
        for _ in range(workers)
    ]

    def work(worker: int) -> None:
        width = max(t.stop - t.start for t in tiles)
        buffer = np.empty((min(block_rows, n_rows), width), dtype=np.float32) if tiled else None
        col_thr, col_val, col_idx, seen = states[worker]
        for start in starts[worker::workers]:
            rows = slice(start, min(start + block_rows, n_rows))
            n = rows.stop - start
            if not tiled:
                block = np.ascontiguousarray(score_block(rows), dtype=np.float32)
                if block.shape != (n, n_cols):
                    raise ParameterError(f"score_block({rows}) returned shape {block.shape}; expected {(n, n_cols)}")
            for t, cols in enumerate(tiles):
                if tiled:
                    tile = buffer[:n, : cols.stop - cols.start]
                    score_block.score_into(rows, cols, tile)
                else:
                    tile = block
                _kernels.select_block(tile, start, cols.start, row_idx, row_val, row_n, columns, col_thr, col_val, col_idx, seen[t : t + 1])

    if workers == 1:
        work(0)
    else:
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(workers) as pool:
            list(pool.map(work, range(workers)))
    if not columns:
        return row_idx, row_val, None, None
    # Each worker saw an ascending subset of rows; the best k of their lists, ties by row index.
    vals = np.concatenate([s[1] for s in states], axis=1)
    idx = np.concatenate([s[2] for s in states], axis=1)
    order = np.lexsort((idx, -vals), axis=1)[:, :kc]
    return row_idx, row_val, np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)
