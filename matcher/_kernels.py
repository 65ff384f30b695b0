"""Compiled inner loop of the rank stage (numba): exact ranks of chosen pairs, one pass over a block.

Imported lazily by :func:`matcher.rank.pair_stats`. Compiled code is cached beside this file.
"""

from __future__ import annotations

import numba as nb

__all__ = ["count_ahead"]


@nb.njit(nogil=True, cache=True, inline="always")
def _first_below(vals, a, b, v):  # pragma: no cover - compiled
    """First position in ``vals[a:b]`` (descending) holding a value below ``v``; ``b`` if none."""
    lo, hi = a, b
    while lo < hi:
        mid = (lo + hi) // 2
        if vals[mid] < v:
            hi = mid
        else:
            lo = mid + 1
    return lo


@nb.njit(nogil=True, cache=True, inline="always")
def _count_cell(vals, other, hist, tie, a, b, v, own):  # pragma: no cover - compiled
    """One cell of score ``v`` at index ``own`` against the group ``vals[a:b]`` (descending):
    ahead of every pair scoring below ``v``, and of those scoring ``v`` whose index is higher."""
    p = _first_below(vals, a, b, v)
    if p < b:
        hist[p] += 1
    p -= 1
    while p >= a and vals[p] == v:
        if own < other[p]:
            tie[p] += 1
        p -= 1


@nb.njit(nogil=True, cache=True)
def count_ahead(block, row0, r_ptr, r_val, r_col, r_min, r_hist, r_tie, c_ptr, c_val, c_row, c_min, c_hist, c_tie):  # pragma: no cover - compiled
    """Count, for chosen pairs, the cells of ``block`` (global rows ``row0...``, every column) that
    rank ahead of them: a higher score, or an equal one with a lower index (ties by id).

    Pairs are grouped twice, by row (``r_ptr`` over global rows; ``r_val`` their scores, descending
    within a row; ``r_col`` their columns) and by column (``c_ptr``, ``c_val``, ``c_row``). A cell
    above a group's lowest score (``r_min``/``c_min``) is located by bisection: ``*_hist[p] += 1``
    means one more cell ahead of every pair from position ``p`` to the group's end (a prefix sum
    over the group finishes the count); an equal score goes to ``*_tie`` when its index is lower.
    """
    n_rows, n_cols = block.shape
    for i in range(n_rows):
        gi = row0 + i
        out = block[i]
        for j in range(n_cols):
            v = out[j]
            if v >= r_min[gi]:
                _count_cell(r_val, r_col, r_hist, r_tie, r_ptr[gi], r_ptr[gi + 1], v, j)
            if v >= c_min[j]:
                _count_cell(c_val, c_row, c_hist, c_tie, c_ptr[j], c_ptr[j + 1], v, gi)
