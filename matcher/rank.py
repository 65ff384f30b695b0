"""Rank stage: exact top-k both ways and exact ranks of chosen pairs, block by block, all deterministic.

Ties always break by index; callers keep candidates sorted by id, so ties break by id.
``rank_matrix`` ranks a dense matrix (the evaluation's and the tests' reference).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from matcher._blas import local_threads
from matcher._checks import ParamChecks, is_int
from matcher.errors import ParameterError

__all__ = ["KEEP_CELLS", "BlockRunner", "PairStats", "TopK", "listed_pairs", "pair_stats", "rank_matrix", "reciprocal_score", "top_k", "top_k_both_ways"]


def top_k(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Indices and values of the ``k`` best columns of each row, best first, ties by lower index.

    Exact, in one compiled pass over the scores (:func:`matcher._kernels.top_k_block`). ``-inf``
    marks excluded columns and is returned only when fewer than k columns remain.
    """
    scores = _checked_scores(scores, k)
    r_idx, r_val, _, _ = _top_k_block(scores, min(int(k), scores.shape[1]), 0)
    return r_idx, r_val


def top_k_rows_cols(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`top_k` of the rows and of the columns (``top_k(scores.T, k)``) of one matrix, in the
    same one pass: row indices and values, column indices and values."""
    scores = _checked_scores(scores, k)
    return _top_k_block(scores, min(int(k), scores.shape[1]), min(int(k), scores.shape[0]))


def _checked_scores(scores: np.ndarray, k: int) -> np.ndarray:
    scores = np.atleast_2d(scores)
    checks = ParamChecks("top_k")
    checks.require(is_int(k) and k >= 0, f"k must be a non-negative int; got {k!r}")
    checks.require(scores.ndim == 2, f"scores must be a 2-D matrix; got {scores.ndim} dimensions")
    checks.require(np.issubdtype(scores.dtype, np.number) and not np.issubdtype(scores.dtype, np.complexfloating), f"scores must be real numbers; got dtype {scores.dtype}")
    checks.done()
    if np.issubdtype(scores.dtype, np.floating) and np.isnan(scores).any():
        raise ParameterError("scores must not hold NaN (use -inf to exclude a column)")
    return scores


def _top_k_block(scores: np.ndarray, k: int, k_cols: int):
    from matcher import _kernels

    if scores.dtype in (np.float32, np.float64, np.int64, np.uint64):
        return _kernels.top_k_block(np.ascontiguousarray(scores), k, k_cols)
    # Other real kinds (float16, smaller integers) hold exactly in float64: ranked there, values given back in their dtype.
    r_idx, _, c_idx, _ = _kernels.top_k_block(np.ascontiguousarray(scores, dtype=np.float64), k, k_cols)
    return r_idx, np.take_along_axis(scores, r_idx, axis=1), c_idx, np.take_along_axis(scores.T, c_idx, axis=1)


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


@dataclass(frozen=True)
class TopK:
    """Best ``k`` both ways: ``row_idx``/``row_val`` (European rows x k Canadian columns) and
    ``col_idx``/``col_val`` (Canadian columns x k European rows), best first, ties by lower index;
    ``-inf`` marks filtered-out candidates and pads lists shorter than k. Lists re-ranked by
    :func:`~matcher.diversify.diversify_top` are in MMR pick order instead, their values no longer sorted.

    ``row_sig``/``col_sig`` (from :func:`top_k_both_ways`) hold each signal's value at the listed
    pairs, the lists' shapes; ``blocks`` the masked fused score blocks when they were kept (a local
    run within :data:`KEEP_CELLS`), so :func:`pair_stats` need not score the blocks again.
    """

    row_idx: np.ndarray
    row_val: np.ndarray
    col_idx: np.ndarray
    col_val: np.ndarray
    row_sig: dict[str, np.ndarray] | None = None
    col_sig: dict[str, np.ndarray] | None = None
    blocks: tuple[np.ndarray, ...] | None = None


@dataclass(frozen=True)
class PairStats:
    """Score, signal values and exact ranks both ways of chosen pairs, in the order asked."""

    score: np.ndarray
    signals: dict[str, np.ndarray]
    rank_eu_to_ca: np.ndarray
    rank_ca_to_eu: np.ndarray


class BlockRunner:
    """Runs one function over the scorer's row blocks: here, or on a Dask cluster (``client``),
    with an optional progress bar. Results come back in block order, so merges are exact.

    Here, blocks run on ``threads`` threads (default :func:`matcher._blas.local_threads`: the CPUs, at most 4), each block's BLAS on
    one thread: the block functions are numpy, BLAS and compiled kernels that release the GIL, a
    block's values do not depend on the thread that scores it, and at most ``threads + 1`` blocks
    are in flight, so memory stays bounded. ``threads=1`` runs them one after another."""

    def __init__(self, client=None, show_progress: bool = False, desc: str = "scoring", threads: int | None = None) -> None:
        self.client = client
        self.show_progress = show_progress
        self.desc = desc
        self.threads = threads

    def map(self, fn: Callable, scorer, blocks: Sequence[slice], *args) -> Iterator:
        bar = None
        if self.show_progress and blocks:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(blocks), desc=self.desc, unit="block", leave=False)
        try:
            if self.client is None:
                for result in self._local(fn, scorer, blocks, args):
                    yield result
                    if bar is not None:
                        bar.update()
            else:
                # Large inputs go to every worker once; a list of one keeps a tuple in one piece.
                remote = self.client.scatter([scorer], broadcast=True, hash=False)[0]
                shared = [self.client.scatter([a], broadcast=True, hash=False)[0] if isinstance(a, (np.ndarray, tuple)) else a for a in args]
                futures = [self.client.submit(fn, remote, rows, *shared, pure=False) for rows in blocks]
                for future in futures:
                    yield future.result()
                    future.release()
                    if bar is not None:
                        bar.update()
        finally:
            if bar is not None:
                bar.close()

    def _local(self, fn: Callable, scorer, blocks: Sequence[slice], args: tuple) -> Iterator:
        threads = local_threads() if self.threads is None else int(self.threads)
        if threads <= 1 or len(blocks) <= 1:
            for rows in blocks:
                yield fn(scorer, rows, *args)
            return
        from concurrent.futures import ThreadPoolExecutor

        from matcher._blas import one_blas_thread

        pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="matcher-block")
        pending: deque = deque()
        todo = iter(blocks)
        try:
            with one_blas_thread():  # the threads are the parallelism: no BLAS threads on top
                for rows in itertools.islice(todo, threads + 1):
                    pending.append(pool.submit(fn, scorer, rows, *args))
                while pending:
                    result = pending.popleft().result()
                    rows = next(todo, None)
                    if rows is not None:
                        pending.append(pool.submit(fn, scorer, rows, *args))
                    yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def masked_scores(scorer, rows: slice, eu_mask: np.ndarray | None, ca_mask: np.ndarray | None, exclude=None) -> tuple[dict, np.ndarray]:
    """Signals and fused scores of a row block, ``-inf`` where a filter leaves the row or column out
    and at the pairs ``exclude`` lists (``(eu_idx, ca_idx)`` arrays, e.g. known partners)."""
    signals = scorer.signals(rows)
    scores = scorer.scores(rows, signals)
    if ca_mask is not None:
        scores[:, ~ca_mask] = -np.inf
    if eu_mask is not None:
        scores[~eu_mask[rows]] = -np.inf
    if exclude is not None:
        ei, ci = exclude
        inside = (ei >= rows.start) & (ei < rows.stop)
        scores[ei[inside] - rows.start, ci[inside]] = -np.inf
    return signals, scores


def _top_k_task(scorer, rows: slice, eu_mask, ca_mask, k: int, exclude=None, keep: bool = False):
    signals, scores = masked_scores(scorer, rows, eu_mask, ca_mask, exclude)
    r_idx, r_val, c_idx, c_val = top_k_rows_cols(scores, k)
    r_sig = {name: np.take_along_axis(v, r_idx, axis=1) for name, v in signals.items()}
    c_sig = {name: v[c_idx, np.arange(v.shape[1])[:, None]] for name, v in signals.items()}
    return r_idx, r_val, r_sig, c_idx + rows.start, c_val, c_sig, (scores if keep else None)


# Score cells up to which a local top-k pass keeps its score blocks for the rank pass (8 bytes each):
# below it ranking scores every block once; above it the rank pass scores them again and memory stays flat.
KEEP_CELLS = 25_000_000


def top_k_both_ways(scorer, k: int, eu_mask=None, ca_mask=None, runner: BlockRunner | None = None, exclude=None, keep_blocks: bool = False) -> TopK:
    """Exact top-k of every European row and every Canadian column, one row block at a time:
    memory is one block plus the lists, whatever the corpus size. ``exclude``: pairs left out.
    The lists carry each signal's value at their pairs; with ``keep_blocks``, a local run of at
    most :data:`KEEP_CELLS` cells keeps the score blocks too (see :class:`TopK`)."""
    runner = runner or BlockRunner()
    n_rows, n_cols = scorer.shape
    kr, kc = min(k, n_cols), min(k, n_rows)
    keep = keep_blocks and runner.client is None and n_rows * n_cols <= KEEP_CELLS
    row_idx = np.zeros((n_rows, kr), dtype=np.int64)
    row_val = np.full((n_rows, kr), -np.inf)
    row_sig: dict[str, np.ndarray] = {}
    col_idx = np.zeros((n_cols, 0), dtype=np.int64)
    col_val = np.zeros((n_cols, 0))
    col_sig: dict[str, np.ndarray] = {}
    kept = []
    blocks = scorer.blocks()
    for rows, (r_idx, r_val, r_sig, c_idx, c_val, c_sig, scores) in zip(
        blocks, runner.map(_top_k_task, scorer, blocks, eu_mask, ca_mask, k, exclude, keep), strict=True
    ):
        row_idx[rows], row_val[rows] = r_idx, r_val
        for name, v in r_sig.items():
            row_sig.setdefault(name, np.zeros((n_rows, kr), dtype=v.dtype))[rows] = v
        # Merge this block's column lists into the running ones: rows are global, ties by lower row.
        vals, idx = np.hstack([col_val, c_val]), np.hstack([col_idx, c_idx])
        order = np.lexsort((idx, -vals), axis=1)[:, :kc]
        col_idx, col_val = np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)
        col_sig = {name: np.take_along_axis(np.hstack([col_sig.get(name, np.zeros((n_cols, 0), v.dtype)), v]), order, axis=1) for name, v in c_sig.items()}
        if keep:
            kept.append(scores)
    return TopK(row_idx, row_val, col_idx, col_val, row_sig, col_sig, tuple(kept) if keep else None)


def listed_pairs(top: TopK, eu_mask: np.ndarray, ca_mask: np.ndarray, rows: bool = True, cols: bool = True):
    """The distinct pairs of the European rows' lists (``rows``) and of the Canadian columns'
    lists (``cols``) that ``eu_mask``/``ca_mask`` keep, sorted by (European, Canadian) index:
    ``(eu_idx, ca_idx, scores, signals)``, the last two from the lists (``None`` when ``top``
    carries no signal values, e.g. after diversification)."""
    parts = []
    if rows:
        r, pos = np.nonzero(np.isfinite(top.row_val) & eu_mask[:, None])
        parts.append((r, top.row_idx[r, pos], top.row_val[r, pos], None if top.row_sig is None else {n: v[r, pos] for n, v in top.row_sig.items()}))
    if cols:
        c, pos = np.nonzero(np.isfinite(top.col_val) & ca_mask[:, None])
        parts.append((top.col_idx[c, pos], c, top.col_val[c, pos], None if top.col_sig is None else {n: v[c, pos] for n, v in top.col_sig.items()}))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), None
    ei = np.concatenate([p[0] for p in parts]).astype(np.int64)
    ci = np.concatenate([p[1] for p in parts]).astype(np.int64)
    key = ei * max(len(ca_mask), 1) + ci
    _, first = np.unique(key, return_index=True)  # sorted by key, so by (European, Canadian)
    score = np.concatenate([p[2] for p in parts])[first]
    signals = None
    if all(p[3] is not None for p in parts):
        signals = {name: np.concatenate([p[3][name] for p in parts])[first] for name in parts[0][3]}
    return ei[first], ci[first], score, signals


def _grouped(key: np.ndarray, vals: np.ndarray, other: np.ndarray, n: int):
    """Pairs grouped by ``key`` (0..n-1), scores descending within a group: order, pointers,
    scores, the other index, and each group's lowest score (inf for an empty group)."""
    order = np.lexsort((-vals, key))
    ptr = np.searchsorted(key[order], np.arange(n + 1)).astype(np.int64)
    low = np.full(n, np.inf)
    has = ptr[1:] > ptr[:-1]
    low[has] = vals[order][ptr[1:][has] - 1]
    return order, ptr, np.ascontiguousarray(vals[order]), np.ascontiguousarray(other[order]).astype(np.int64), low


def _stats_task(scorer, rows: slice, eu_mask, ca_mask, pairs, exclude=None, values: bool = True, scores=None):
    """Counts of what ranks ahead of each pair in one row block (and, with ``values``, the
    scores and signals of the pairs the block holds); ``scores``: the block's masked scores, when kept."""
    from matcher import _kernels

    eu_idx, ca_idx, r, c = pairs
    signals = None
    if scores is None:
        signals, scores = masked_scores(scorer, rows, eu_mask, ca_mask, exclude)
    _, r_ptr, r_val, r_col, r_min = r
    _, c_ptr, c_val, c_row, c_min = c
    counts = [np.zeros(len(eu_idx), dtype=np.int64) for _ in range(4)]
    _kernels.count_ahead(np.ascontiguousarray(scores), rows.start, r_ptr, r_val, r_col, r_min, counts[0], counts[1], c_ptr, c_val, c_row, c_min, counts[2], counts[3])
    if not values:
        return None, None, {}, counts
    inside = np.flatnonzero((eu_idx >= rows.start) & (eu_idx < rows.stop))
    li, lj = eu_idx[inside] - rows.start, ca_idx[inside]
    return inside, scores[li, lj], {name: v[li, lj] for name, v in signals.items()}, counts


def _segment_prefix(hist: np.ndarray, ptr: np.ndarray) -> np.ndarray:
    """Prefix sums of ``hist`` restarted at each group start."""
    cs = np.cumsum(hist)
    starts = np.repeat(ptr[:-1], np.diff(ptr))
    before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
    return cs - before


def pair_stats(
    scorer, eu_idx, ca_idx, eu_mask=None, ca_mask=None, runner: BlockRunner | None = None, exclude=None, known=None, blocks=None
) -> PairStats:
    """Score, signals and exact ranks both ways (1 = best, ties by lower index, among the rows and
    columns the masks keep) of the pairs ``(eu_idx[p], ca_idx[p])``, blockwise: a first pass over
    the blocks holding the pairs finds their scores, a second over every block counts what ranks
    ahead of each pair. No all-pairs matrix is held. Pairs in ``exclude`` count as candidates of no one.

    ``known`` (``(scores, signals)`` of the pairs, from the same scorer, masks and ``exclude``,
    e.g. :func:`listed_pairs`) skips the first pass; ``blocks`` (the masked score blocks a
    :class:`TopK` kept) lets the second count without scoring again."""
    runner = runner or BlockRunner()
    eu_idx, ca_idx = np.asarray(eu_idx, dtype=np.int64), np.asarray(ca_idx, dtype=np.int64)
    n_rows, n_cols = scorer.shape
    n = len(eu_idx)
    if known is None:
        thr = np.full(n, -np.inf)
        needed = sorted({scorer.block_of(int(i)).start for i in eu_idx})
        own = [scorer.block_of(s) for s in needed]
        for inside, vals in runner.map(_score_task, scorer, own, eu_mask, ca_mask, eu_idx, ca_idx, exclude):
            thr[inside] = vals
    else:
        thr = np.asarray(known[0], dtype=np.float64)
    if not np.all(np.isfinite(thr)):
        from matcher.errors import ParameterError

        raise ParameterError("pair_stats: every pair must be kept by the filters")
    r = _grouped(eu_idx, thr, ca_idx, n_rows)
    c = _grouped(ca_idx, thr, eu_idx, n_cols)
    score = np.zeros(n) if known is None else thr
    signals: dict[str, np.ndarray] = {} if known is None else dict(known[1])
    totals = [np.zeros(n, dtype=np.int64) for _ in range(4)]
    pairs = (eu_idx, ca_idx, r, c)
    values = known is None  # the count pass also gathers the pairs' scores and signals
    if blocks is not None and not values:
        counted = (_stats_task(scorer, rows, eu_mask, ca_mask, pairs, exclude, False, b) for rows, b in zip(scorer.blocks(), blocks, strict=True))
    else:
        counted = runner.map(_stats_task, scorer, scorer.blocks(), eu_mask, ca_mask, pairs, exclude, values)
    for inside, vals, found, counts in counted:
        if values:
            score[inside] = vals
            for name, v in found.items():
                signals.setdefault(name, np.zeros(n, dtype=v.dtype))[inside] = v
        for t, part in zip(totals, counts, strict=True):
            t += part
    rank_ec = np.empty(n, dtype=np.int64)
    rank_ce = np.empty(n, dtype=np.int64)
    rank_ec[r[0]] = 1 + totals[1] + _segment_prefix(totals[0], r[1])
    rank_ce[c[0]] = 1 + totals[3] + _segment_prefix(totals[2], c[1])
    return PairStats(score, signals, rank_ec, rank_ce)


def _score_task(scorer, rows: slice, eu_mask, ca_mask, eu_idx, ca_idx, exclude=None):
    _, scores = masked_scores(scorer, rows, eu_mask, ca_mask, exclude)
    inside = np.flatnonzero((eu_idx >= rows.start) & (eu_idx < rows.stop))
    return inside, scores[eu_idx[inside] - rows.start, ca_idx[inside]]
