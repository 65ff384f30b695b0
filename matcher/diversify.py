"""Diverse shortlists: each query's list re-ranked by maximal marginal relevance (MMR).

MMR (Carbonell and Goldstein, 1998) builds a list greedily: at each step it takes the candidate
maximising ``score - LAMBDA * max(redundancy with the candidates already taken)``. ``LAMBDA = 0`` is
the plain ranking; the larger it is, the more a candidate that repeats one already listed is pushed
down.

Redundancy of two candidates (:func:`redundancy`, the one place it is computed) is
``[same country] * max(0, cosine of their document embeddings)``, in [0, 1]:

- *similar profile* is the cosine of the candidates' description embeddings
  (``SideFeatures.embeddings``, the vectors of the semantic signal), which summarise sectors,
  technologies and services in one number and cost one dot product per pair; negative cosines
  count as 0 so that redundancy stays in [0, 1];
- *same country* (the candidates' one-hot ``SideFeatures.country`` rows) makes two similar clusters
  from different countries not redundant at all: a European list is spread over countries first.
  Every Canadian candidate is in one country, so a Canadian list (for a European query) is spread
  over profiles only.

Exactness without scoring MMR over every candidate: let ``s_k`` be a query's k-th best score. While
fewer than k candidates are taken, at least one of the k best by score is still free, and its MMR
value is at least ``score - LAMBDA >= s_k - LAMBDA`` (redundancy <= 1); a candidate with
``score < s_k - LAMBDA`` has an MMR value at most its score (redundancy >= 0), so strictly below, and
is never taken. The greedy run on the *pool* ``score >= s_k - LAMBDA`` (:func:`pool_threshold`)
therefore takes the same candidates in the same order as one over all candidates, ties included
(both break ties by the lower candidate index, i.e. by id). The argument holds in floating point
too, since rounding is monotone. The pool grows with LAMBDA: at LAMBDA at least the spread of a
query's scores it is every candidate.

Every entry of :func:`redundancy` depends on its two candidates only (elementwise products summed
over the embedding axis, no matrix product whose blocking depends on the set), so a pool and a
brute-force run over all candidates see the same numbers.
"""

from __future__ import annotations

import numpy as np

from matcher._checks import ParamChecks, is_int, is_number, shape_of
from matcher.errors import ParameterError
from matcher.rank import BlockRunner, TopK, masked_scores

__all__ = ["check_diversity", "diversified_top_k", "diversify_top", "mmr_order", "pool_threshold", "redundancy"]

# Entries of the (rows x candidates x dim) product computed at once in :func:`redundancy`.
_CHUNK = 4_000_000


def check_diversity(value: object) -> float:
    """``value`` as a float when it is a finite number >= 0 (values above 1 are allowed: a larger
    penalty than the whole score scale); else a :class:`~matcher.errors.ParameterError`."""
    checks = ParamChecks("diversity")
    checks.require(is_number(value) and value >= 0, f"diversity must be a finite number >= 0; got {value!r}")
    checks.done()
    return float(value)


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    norms = np.sqrt((x * x).sum(axis=1))
    return np.divide(x, norms[:, None], out=np.zeros_like(x), where=norms[:, None] > 0)


def redundancy(left_embeddings: np.ndarray, left_country: np.ndarray, right_embeddings: np.ndarray, right_country: np.ndarray) -> np.ndarray:
    """``[same country] * max(0, cosine of the embeddings)`` of every left with every right
    candidate: a ``len(left) x len(right)`` float64 matrix in [0, 1].

    Embeddings are one row per candidate (any norm; zero rows are redundant with nothing);
    countries are one-hot rows over the same columns on both sides (``SideFeatures.country``).
    """
    checks = ParamChecks("redundancy")
    shapes = {name: shape_of(x) for name, x in (("left_embeddings", left_embeddings), ("left_country", left_country),
                                                 ("right_embeddings", right_embeddings), ("right_country", right_country))}
    if checks.require(all(len(s) == 2 for s in shapes.values()), f"redundancy needs 2-D matrices; got shapes {shapes}"):
        le, lc, re_, rc = shapes.values()
        checks.require(le[1] == re_[1], f"redundancy: the embeddings must have the same number of columns; got {le[1]} and {re_[1]}")
        checks.require(lc[1] == rc[1], f"redundancy: the country rows must have the same number of columns; got {lc[1]} and {rc[1]}")
        checks.require(le[0] == lc[0] and re_[0] == rc[0], f"redundancy: one country row per embedding row; got {le[0]} and {lc[0]} (left), {re_[0]} and {rc[0]} (right)")
    checks.done()
    left, right = _unit(left_embeddings), _unit(right_embeddings)
    same = (np.asarray(left_country, dtype=np.float64) @ np.asarray(right_country, dtype=np.float64).T) > 0  # 0/1 rows: exact
    cos = np.empty((len(left), len(right)))
    step = max(1, _CHUNK // max(1, len(right) * left.shape[1]))
    for start in range(0, len(left), step):
        cos[start : start + step] = (left[start : start + step, None, :] * right[None, :, :]).sum(axis=2)
    return np.where(same, np.clip(cos, 0.0, 1.0), 0.0)


def pool_threshold(kth_best: float | np.ndarray, diversity: float) -> float | np.ndarray:
    """The lowest score MMR can take, ``s_k - LAMBDA`` (see the module docstring for the proof):
    candidates scoring below it are left out of the greedy run. ``-inf`` when there is no k-th best."""
    return np.asarray(kth_best, dtype=np.float64) - float(diversity)


def mmr_order(scores: np.ndarray, k: int, diversity: float, embeddings: np.ndarray, country: np.ndarray) -> np.ndarray:
    """Positions of ``min(k, len(scores))`` candidates in MMR pick order.

    ``scores`` (finite, 1-D) are the candidates in id order, ``embeddings`` and ``country`` their
    rows. Each step takes the largest ``score - diversity * max redundancy with those taken``; ties
    go to the lower position. ``diversity = 0`` gives the plain order by score.
    """
    scores = np.asarray(scores, dtype=np.float64)
    steps = min(int(k), len(scores))
    taken = np.zeros(len(scores), dtype=bool)
    worst = np.zeros(len(scores))
    out = np.empty(steps, dtype=np.int64)
    for t in range(steps):
        gain = np.where(taken, -np.inf, scores - diversity * worst)
        c = int(np.argmax(gain))  # the first maximum: ties by lower position
        out[t], taken[c] = c, True
        if t + 1 < steps and diversity > 0:
            np.maximum(worst, redundancy(embeddings[c : c + 1], country[c : c + 1], embeddings, country)[0], out=worst)
    return out


def diversified_top_k(scores: np.ndarray, k: int, diversity: float, embeddings: np.ndarray, country: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Candidate indices and scores of one query's MMR list of up to ``k`` (``-inf`` scores are
    left out): the greedy run over the pool ``score >= s_k - diversity`` only, exactly as over all."""
    scores = np.asarray(scores)
    checks = ParamChecks("diversified_top_k")
    checks.require(is_int(k) and k >= 0, f"k must be a non-negative int; got {k!r}")
    checks.require(scores.ndim == 1, f"scores must be one query's 1-D row; got {scores.ndim} dimensions")
    checks.require(is_number(diversity) and diversity >= 0, f"diversity must be a finite number >= 0; got {diversity!r}")
    checks.require(shape_of(embeddings)[:1] == scores.shape[:1] and shape_of(country)[:1] == scores.shape[:1],
                   f"embeddings and country need one row per candidate ({scores.shape[0] if scores.ndim else 0}); got {shape_of(embeddings)} and {shape_of(country)}")
    checks.done()
    if np.issubdtype(scores.dtype, np.floating) and np.isnan(scores).any():
        raise ParameterError("scores must not hold NaN (use -inf to exclude a candidate)")
    finite = np.flatnonzero(np.isfinite(scores))
    n = min(int(k), len(finite))
    if n == 0:
        return np.zeros(0, dtype=np.int64), scores[:0]
    kth = np.partition(scores[finite], len(finite) - n)[len(finite) - n]
    pool = finite[scores[finite] >= pool_threshold(kth, diversity)]
    order = mmr_order(scores[pool], n, float(diversity), embeddings[pool], country[pool])
    idx = pool[order]
    return idx, scores[idx]


def _diversify_task(scorer, rows: slice, eu_mask, ca_mask, exclude, want_rows, k_row, want_cols, col_floor, diversity):
    """One block: the MMR lists of the wanted rows in it, and the column pools' entries in it."""
    _, scores = masked_scores(scorer, rows, eu_mask, ca_mask, exclude)
    lists = []
    for r in want_rows[(want_rows >= rows.start) & (want_rows < rows.stop)]:
        lists.append((int(r), *diversified_top_k(scores[r - rows.start], k_row, diversity, scorer.ca.embeddings, scorer.ca.country)))
    sub = scores[:, want_cols]
    hit_rows, hit_cols = np.nonzero(np.isfinite(sub) & (sub >= col_floor[None, :]))
    return lists, (hit_rows + rows.start, hit_cols, sub[hit_rows, hit_cols])


def diversify_top(
    scorer,
    top: TopK,
    diversity: float,
    eu_mask=None,
    ca_mask=None,
    runner: BlockRunner | None = None,
    exclude=None,
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
) -> TopK:
    """``top`` (exact plain top-k both ways, from :func:`~matcher.rank.top_k_both_ways` with the same
    masks and ``exclude``) with the lists of European ``rows`` and Canadian ``cols`` re-ranked by MMR.

    One more pass over the row blocks: a row's pool comes from its block's scores, a column's pool
    gathers every block's entries at or above ``s_k - diversity`` (``s_k`` from ``top``). Lists keep
    their width, padded with ``-inf``; values are in pick order, no longer sorted.
    """
    runner = runner or BlockRunner()
    want_rows = np.asarray(rows if rows is not None else [], dtype=np.int64)
    want_cols = np.asarray(cols if cols is not None else [], dtype=np.int64)
    row_idx, row_val = top.row_idx.copy(), top.row_val.copy()
    col_idx, col_val = top.col_idx.copy(), top.col_val.copy()
    kr, kc = row_idx.shape[1], col_idx.shape[1]
    if not len(want_rows) and not len(want_cols):
        return TopK(row_idx, row_val, col_idx, col_val)
    kth = col_val[want_cols, kc - 1] if kc else np.full(len(want_cols), -np.inf)
    floor = pool_threshold(kth, diversity)
    blocks = scorer.blocks()
    if not len(want_cols):  # only the blocks holding the wanted rows
        starts = {scorer.block_of(int(r)).start for r in want_rows}
        blocks = [b for b in blocks if b.start in starts]
    entries = []
    for lists, found in runner.map(_diversify_task, scorer, blocks, eu_mask, ca_mask, exclude, want_rows, kr, want_cols, floor, diversity):
        for r, idx, val in lists:
            row_idx[r], row_val[r] = 0, -np.inf
            row_idx[r, : len(idx)], row_val[r, : len(idx)] = idx, val
        entries.append(found)
    if len(want_cols):
        pool_rows = np.concatenate([e[0] for e in entries])
        pool_cols = np.concatenate([e[1] for e in entries])
        pool_vals = np.concatenate([e[2] for e in entries])
        order = np.lexsort((pool_rows, pool_cols))  # by column, then row (id) order
        pool_rows, pool_cols, pool_vals = pool_rows[order], pool_cols[order], pool_vals[order]
        ptr = np.searchsorted(pool_cols, np.arange(len(want_cols) + 1))
        eu = scorer.eu
        for p, c in enumerate(want_cols):
            members, vals = pool_rows[ptr[p] : ptr[p + 1]], pool_vals[ptr[p] : ptr[p + 1]]
            pick = mmr_order(vals, kc, diversity, eu.embeddings[members], eu.country[members])
            col_idx[c], col_val[c] = 0, -np.inf
            col_idx[c, : len(pick)], col_val[c, : len(pick)] = members[pick], vals[pick]
    return TopK(row_idx, row_val, col_idx, col_val)
