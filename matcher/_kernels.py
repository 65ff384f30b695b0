"""Compiled inner loops of the scale path (numba): the per-element part of the fused score and the
both-way top-k selection, each one pass over a block of scores that stays in cache.

Imported lazily by :class:`matcher.score.FusedScorer` and :func:`matcher.rank.blocked_top_k`, so the
small-corpus path never loads numba. Functions release the GIL (``nogil``): the blocked top-k runs
one worker thread per core, each on its own blocks. Compiled code is cached beside this file.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = ["add_row_terms", "select_block"]

# Elements checked together before any scalar work: most chunks hold no candidate at all.
_CHUNK = 32


@nb.njit(nogil=True, cache=True)
def add_row_terms(
    block, row0, row_const, eu_lang, ca_lang, own_langs, w_own, w_common, target_tab, eu_target_pat,
    eu_indptr, eu_indices, eu_data, ca_indptr, ca_indices, ca_data,
):  # pragma: no cover - compiled; tested through FusedScorer
    """Add to each row of ``block`` (global rows ``row0...``) the parts of the fused score that are
    not matrix products: a per-row constant, shared working language (bit masks), declared interest
    (a row of ``target_tab`` per country pattern) and the sparse feature columns through an inverted
    index (``ca_*`` is CSC: per feature, the Canadian profiles holding it)."""
    n_rows, n_cols = block.shape
    for i in range(n_rows):
        gi = row0 + i
        out = block[i]
        mask = eu_lang[gi]
        trow = target_tab[eu_target_pat[gi]]
        c = row_const[gi]
        for j in range(n_cols):
            shared = mask & ca_lang[j]
            lang = w_own if (shared & own_langs) != 0 else (w_common if shared != 0 else np.float32(0.0))
            out[j] += (lang + trow[j]) + c
        for p in range(eu_indptr[gi], eu_indptr[gi + 1]):
            feature = eu_indices[p]
            a = eu_data[p]
            for q in range(ca_indptr[feature], ca_indptr[feature + 1]):
                out[ca_indices[q]] += a * ca_data[q]


@nb.njit(nogil=True, cache=True, inline="always")
def _insert(vals, idxs, n, v, ix):  # pragma: no cover - compiled
    """Insert ``v`` (index ``ix``) into the descending list ``vals[:n]`` after any equal values,
    dropping the last entry when full; returns the list's new last value."""
    k = vals.shape[0]
    p = n if n < k else k - 1
    while p > 0 and vals[p - 1] < v:
        vals[p] = vals[p - 1]
        idxs[p] = idxs[p - 1]
        p -= 1
    vals[p] = v
    idxs[p] = ix
    return vals[k - 1]


@nb.njit(nogil=True, cache=True, fastmath={"nsz", "reassoc"})
def _segment_floor(row, k):  # pragma: no cover - compiled
    """Smallest of the maxima of ``k`` contiguous segments: at least k values of ``row`` reach it,
    so it is a lower bound of the row's k-th best value."""
    n = row.shape[0]
    low = np.float32(np.inf)
    for g in range(k):
        a = (g * n) // k
        b = ((g + 1) * n) // k
        m = row[a]
        for j in range(a + 1, b):
            m = max(m, row[j])
        low = min(low, m)
    return low


@nb.njit(nogil=True, cache=True, fastmath={"nsz", "reassoc"})
def _row_flags(out, start, thr, flags):  # pragma: no cover - compiled
    """Per chunk of ``out[start:]``: does any value beat the row threshold? Returns the chunk count."""
    width = out.shape[0]
    nch = 0
    for j0 in range(start, width, _CHUNK):
        j1 = min(j0 + _CHUNK, width)
        m = out[j0]
        for j in range(j0 + 1, j1):
            m = max(m, out[j])
        flags[nch] = m > thr
        nch += 1
    return nch


@nb.njit(nogil=True, cache=True)
def _both_flags(out, start, thr, thr_c, flags):  # pragma: no cover - compiled
    """Per chunk of ``out[start:]``: does any value beat the row threshold or its column's? Returns the chunk count."""
    width = out.shape[0]
    nch = 0
    for j0 in range(start, width, _CHUNK):
        j1 = min(j0 + _CHUNK, width)
        h = 0
        for j in range(j0, j1):
            h |= (out[j] > thr) | (out[j] > thr_c[j])
        flags[nch] = h
        nch += 1
    return nch


@nb.njit(nogil=True, cache=True)
def select_block(block, row0, col0, row_idx, row_val, row_n, columns, col_thr, col_val, col_idx, seen):  # pragma: no cover - compiled
    """Merge a tile of scores (global rows ``row0...``, columns ``col0...``) into every row's best k
    (``row_idx/row_val``, ``row_n`` entries filled so far) and, when ``columns``, into one worker's
    running best k per column (``col_val``/``col_idx`` are ``n_cols x k``, ``col_thr`` their last
    values, ``seen[0]`` the rows this worker has merged into this tile's columns).

    A worker must see the tiles of a row in ascending column order and its rows in ascending order.
    Lists are best first; ties keep the lower index because an equal value never displaces an
    earlier one. Lists start from the first k values they see, so ``-inf`` scores are ranked too;
    NaN is not supported.
    """
    n_rows, width = block.shape
    kr = row_idx.shape[1]
    kc = col_val.shape[1]
    cand = np.empty(_CHUNK, dtype=np.int64)
    flags = np.empty(width // _CHUNK + 2, dtype=np.uint8)
    for i in range(n_rows):
        gi = row0 + i
        out = block[i]
        rv = row_val[gi]
        ri = row_idx[gi]
        start = 0
        n = row_n[gi]
        while n < kr and start < width:
            _insert(rv, ri, n, out[start], col0 + start)
            n += 1
            start += 1
        row_n[gi] = n
        if n < kr:
            thr = np.float32(np.inf)  # the list is still filling: nothing else to compare against
            low = thr
        else:
            low = np.nextafter(_segment_floor(out, kr), np.float32(-np.inf)) if width >= kr else np.float32(-np.inf)
            thr = max(rv[kr - 1], low)
        check_columns = columns
        if columns:
            if seen[0] < kc:
                for j in range(width):
                    col_thr[col0 + j] = _insert(col_val[col0 + j], col_idx[col0 + j], seen[0], out[j], gi)
                seen[0] += 1
                check_columns = False
            else:
                for j in range(start):
                    if out[j] > col_thr[col0 + j]:
                        col_thr[col0 + j] = _insert(col_val[col0 + j], col_idx[col0 + j], kc, out[j], gi)
        thr_c = col_thr[col0 : col0 + width]
        # Flag the chunks holding a candidate (a tight vectorised pass), then merge only those.
        nch = _both_flags(out, start, thr, thr_c, flags) if check_columns else _row_flags(out, start, thr, flags)
        for f in range(nch):
            if flags[f] == 0:
                continue
            j0 = start + f * _CHUNK
            j1 = min(j0 + _CHUNK, width)
            c = 0
            if check_columns:
                for j in range(j0, j1):
                    cand[c] = j
                    c += (out[j] > thr) | (out[j] > thr_c[j])
            else:
                for j in range(j0, j1):
                    cand[c] = j
                    c += out[j] > thr
            for p in range(c):
                j = cand[p]
                v = out[j]
                if v > thr:
                    thr = max(_insert(rv, ri, kr, v, col0 + j), low)
                if check_columns and v > thr_c[j]:
                    thr_c[j] = _insert(col_val[col0 + j], col_idx[col0 + j], kc, v, gi)
