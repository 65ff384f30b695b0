"""Compiled inner loops (numba): exact top-k both ways of a score block, exact ranks of chosen pairs in one pass over a block, the matching terms of pairs, the lexical signal's sparse product, the fused weighted sum, sparse x dense products, the tokenizer's word runs and first-seen numbering, TF-IDF rows' L2 normalisation, and the CSV writer's line assembly.

Imported lazily (by :func:`matcher.rank.pair_stats` and the explain stage). Compiled code is cached beside this file.
"""

from __future__ import annotations

import numba as nb
import numpy as np

__all__ = [
    "add_rows_at", "char_table", "count_ahead", "csr_times_dense", "csv_cell_sizes", "csv_put_cells", "decimal_cells", "evidence_picks", "first_seen_groups",
    "normalize_rows_l2", "pick_terms", "spans_differ", "sparse_dot_clipped", "top_k_block", "weighted_sum", "word_spans",
]


@nb.njit(nogil=True, cache=True, inline="always")
def _keep(vals, idx, n, k, v, j):  # pragma: no cover - compiled
    """Offer value ``v`` at index ``j`` to a best-first list of ``n`` of at most ``k`` entries (indices
    offered in ascending order, so an equal value stays behind the ones already kept); the new size."""
    if n < k:
        pos = n
        n += 1
    elif v > vals[k - 1]:
        pos = k - 1
    else:
        return n
    while pos > 0 and vals[pos - 1] < v:
        vals[pos] = vals[pos - 1]
        idx[pos] = idx[pos - 1]
        pos -= 1
    vals[pos] = v
    idx[pos] = j
    return n


@nb.njit(nogil=True, cache=True)
def top_k_block(scores, k, k_cols):  # pragma: no cover - compiled
    """The ``k`` best columns of every row and the ``k_cols`` best rows of every column of
    ``scores`` (no NaN), best first, ties by lower index, in one pass over the cells; ``k`` must
    not exceed the columns, nor ``k_cols`` the rows. Returns row indices and values, column
    indices and values."""
    n_rows, n_cols = scores.shape
    r_idx = np.zeros((n_rows, k), dtype=np.int64)
    r_val = np.empty((n_rows, k), dtype=scores.dtype)
    c_idx = np.zeros((n_cols, k_cols), dtype=np.int64)
    c_val = np.empty((n_cols, k_cols), dtype=scores.dtype)
    c_n = np.zeros(n_cols, dtype=np.int64)
    for i in range(n_rows):
        row, vals, idx = scores[i], r_val[i], r_idx[i]
        n = 0
        for j in range(n_cols):
            v = row[j]
            if k > 0:
                n = _keep(vals, idx, n, k, v, j)
            if k_cols > 0 and (c_n[j] < k_cols or v > c_val[j, k_cols - 1]):
                c_n[j] = _keep(c_val[j], c_idx[j], c_n[j], k_cols, v, i)
    return r_idx, r_val, c_idx, c_val


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


@nb.njit(nogil=True, cache=True)
def pick_terms(e_ptr, e_idx, e_dat, c_ptr, c_idx, c_dat, ei, ci, term_words, kw_ptr, kw_terms, ban_ptr, ban_words, limit, n):  # pragma: no cover - compiled
    """Matching terms of pairs ``(ei[p], ci[p])`` of two CSR TF-IDF matrices (sorted indices):
    the terms both rows hold, by descending product of weights, ties by lower term, up to
    ``limit[p]`` (at most ``n``) terms; no word is listed twice. A term is skipped when it is one
    of the pair's keyword terms (``kw_terms[kw_ptr[p]:kw_ptr[p + 1]]``), a bigram of one word twice, or holds a word of a keyword
    (``ban_words[ban_ptr[p]:...]``) or of a bigram picked before (``term_words``: a bigram's two
    words, -1 for a word); a bigram holding words picked before on their own takes the first one's
    place, and the other's place is given up. Returns ``len(ei) x n`` term columns, -1 padded."""
    out = np.full((len(ei), n), -1, dtype=np.int64)
    for p in range(len(ei)):
        if limit[p] <= 0:
            continue
        a, a1 = e_ptr[ei[p]], e_ptr[ei[p] + 1]
        b, b1 = c_ptr[ci[p]], c_ptr[ci[p] + 1]
        size = min(a1 - a, b1 - b)
        terms = np.empty(size, dtype=np.int64)
        prods = np.empty(size, dtype=np.float64)
        m = 0
        while a < a1 and b < b1:
            if e_idx[a] == c_idx[b]:
                terms[m] = e_idx[a]
                prods[m] = e_dat[a] * c_dat[b]
                m += 1
                a += 1
                b += 1
            elif e_idx[a] < c_idx[b]:
                a += 1
            else:
                b += 1
        order = np.argsort(-prods[:m], kind="mergesort")  # stable: ties keep the lower term first
        row = out[p]
        picked = 0
        for o in order:
            if picked >= limit[p]:
                break
            t = terms[o]
            skip = False
            for q in range(kw_ptr[p], kw_ptr[p + 1]):
                if kw_terms[q] == t:
                    skip = True
            w0, w1 = term_words[t, 0], term_words[t, 1]
            if w0 < 0:  # a word is its own one word
                w0 = t
                w1 = t
            elif w0 == w1:  # one word twice ("energy energy", across two sentences) names nothing
                skip = True
            for q in range(ban_ptr[p], ban_ptr[p + 1]):
                if ban_words[q] == w0 or ban_words[q] == w1:
                    skip = True
            for q in range(picked):
                r = row[q]
                if term_words[r, 0] >= 0 and (term_words[r, 0] == w0 or term_words[r, 0] == w1 or term_words[r, 1] == w0 or term_words[r, 1] == w1):
                    skip = True
            if skip:
                continue
            at = picked
            if term_words[t, 0] >= 0:  # a bigram: the place of the first of its words picked on its own
                q = 0
                while q < picked:
                    if row[q] == w0 or row[q] == w1:
                        if at == picked:
                            at = q
                            q += 1
                        else:
                            row[q:picked - 1] = row[q + 1:picked].copy()
                            picked -= 1
                            row[picked] = -1
                    else:
                        q += 1
            row[at] = t
            if at == picked:
                picked += 1
    return out


@nb.njit(nogil=True, cache=True)
def sparse_dot_clipped(a_ptr, a_idx, a_dat, b_ptr, b_idx, b_dat, n_cols):  # pragma: no cover - compiled
    """``clip(A @ B, 0, 1)`` as a dense float32 matrix, for CSR ``A`` (rows x terms) and CSR ``B``
    (terms x ``n_cols``): each row's products are summed in float64 in the order scipy's sparse
    product sums them (A's entries in turn, each against B's row of that term), so the values are
    scipy's, without building the sparse product."""
    n = len(a_ptr) - 1
    out = np.zeros((n, n_cols), dtype=np.float32)
    acc = np.zeros(n_cols, dtype=np.float64)
    for i in range(n):
        for jj in range(a_ptr[i], a_ptr[i + 1]):
            k = a_idx[jj]
            v = a_dat[jj]
            for kk in range(b_ptr[k], b_ptr[k + 1]):
                acc[b_idx[kk]] += v * b_dat[kk]
        for j in range(n_cols):
            x = acc[j]
            if x < 0.0:
                x = 0.0
            elif x > 1.0:
                x = 1.0
            out[i, j] = x
            acc[j] = 0.0
    return out


@nb.njit(nogil=True, cache=True)
def csr_times_dense(indptr, indices, data, x, out, r0, r1):  # pragma: no cover - compiled
    """Rows ``r0:r1`` of ``out += A @ x`` for the CSR matrix ``A`` (``indptr``, ``indices``,
    ``data``) and the dense C-ordered ``x``: each output row adds ``a * x[j]`` over its stored
    entries in storage order, as scipy's ``csr_matvecs`` does, so the values are scipy's bit for bit."""
    n_vecs = x.shape[1]
    for i in range(r0, r1):
        row = out[i]
        for jj in range(indptr[i], indptr[i + 1]):
            a = data[jj]
            xj = x[indices[jj]]
            for k in range(n_vecs):
                row[k] += a * xj[k]


@nb.njit(nogil=True, cache=True)
def word_spans(chars, is_word, mask):  # pragma: no cover - compiled
    """The words of ``chars`` (code points): maximal runs of at least two characters ``c`` with
    ``is_word[c]``, the matches of ``(?u)\\b\\w\\w+\\b`` when ``is_word`` is ``\\w``. Returns each
    word's start and end and its 64-bit FNV-1a hash over its code points, ``& mask``."""
    n = len(chars)
    starts = np.empty(n // 2 + 1, dtype=np.int64)
    ends = np.empty(n // 2 + 1, dtype=np.int64)
    hashes = np.empty(n // 2 + 1, dtype=np.uint64)
    m = 0
    i = 0
    while i < n:
        if not is_word[chars[i]]:
            i += 1
            continue
        j = i
        h = np.uint64(14695981039346656037)
        while j < n and is_word[chars[j]]:
            h = (h ^ np.uint64(chars[j])) * np.uint64(1099511628211)
            j += 1
        if j - i >= 2:
            starts[m] = i
            ends[m] = j
            hashes[m] = h & mask
            m += 1
        i = j
    return starts[:m], ends[:m], hashes[:m]


@nb.njit(nogil=True, cache=True)
def char_table(chars):  # pragma: no cover - compiled
    """Which code points occur in ``chars``: a boolean array up to the largest one."""
    top = 0
    for c in chars:
        if c > top:
            top = c
    out = np.zeros(np.int64(top) + 1, dtype=np.bool_)
    for c in chars:
        out[c] = True
    return out


@nb.njit(nogil=True, cache=True)
def first_seen_groups(hashes):  # pragma: no cover - compiled
    """Number the distinct values of ``hashes`` in the order they first occur (a hash table with
    linear probing): each entry's group, and each group's first position (ascending)."""
    n = len(hashes)
    size = 2
    while size < 2 * n:
        size *= 2
    keys = np.zeros(size, dtype=np.uint64)
    slot_group = np.full(size, -1, dtype=np.int64)
    group = np.empty(n, dtype=np.int64)
    first = np.empty(n, dtype=np.int64)
    top = np.uint64(size - 1)
    g = 0
    for t in range(n):
        h = hashes[t]
        s = np.int64(h & top)
        while True:
            found = slot_group[s]
            if found == -1:
                keys[s] = h
                slot_group[s] = g
                first[g] = t
                group[t] = g
                g += 1
                break
            if keys[s] == h:
                group[t] = found
                break
            s = (s + 1) & (size - 1)
    return group, first[:g]


@nb.njit(nogil=True, cache=True)
def spans_differ(chars, starts, ends, rep):  # pragma: no cover - compiled
    """For each span ``t`` of ``chars``, whether its characters differ from those of span ``rep[t]``
    (the first span with its hash): True only where two words share a hash."""
    out = np.zeros(len(starts), dtype=np.bool_)
    for t in range(len(starts)):
        r = rep[t]
        if r == t:
            continue
        a, b, size = starts[t], starts[r], ends[t] - starts[t]
        if ends[r] - b != size:
            out[t] = True
            continue
        for q in range(size):
            if chars[a + q] != chars[b + q]:
                out[t] = True
                break
    return out


@nb.njit(nogil=True, cache=True)
def normalize_rows_l2(indptr, data):  # pragma: no cover - compiled
    """Divide each row of a CSR matrix (``indptr``, ``data``; float32 or float64) by its L2 norm, in
    place, rows of norm 0 left as they are: the squares in the data's precision, summed in float64
    in storage order, each value divided by the norm in float64 and stored back, as scikit-learn's
    ``inplace_csr_row_normalize_l2`` does, so the values are its bit for bit."""
    for i in range(len(indptr) - 1):
        total = 0.0
        for p in range(indptr[i], indptr[i + 1]):
            total += data[p] * data[p]
        if total == 0.0:
            continue
        total = np.sqrt(total)
        for p in range(indptr[i], indptr[i + 1]):
            data[p] /= total


@nb.njit(nogil=True, cache=True)
def weighted_sum(bias, w, n, s0, s1, s2, s3, s4, s5):  # pragma: no cover - compiled
    """``bias + w[0] * s0 + ... + w[n-1] * s_{n-1}`` cell by cell (flat arrays of one length,
    ``n`` <= 6; unused slots are not read), in float64 and in that order: the values numpy's
    ``total = bias; total += w_k * s_k`` gives, in one pass and without temporaries."""
    out = np.empty(len(s0), dtype=np.float64)
    for i in range(len(s0)):
        t = bias
        if n > 0:
            t += w[0] * s0[i]
        if n > 1:
            t += w[1] * s1[i]
        if n > 2:
            t += w[2] * s2[i]
        if n > 3:
            t += w[3] * s3[i]
        if n > 4:
            t += w[4] * s4[i]
        if n > 5:
            t += w[5] * s5[i]
        out[i] = t
    return out


@nb.njit(nogil=True, cache=True)
def csv_cell_sizes(data, at, a, b, cr, extra, size):  # pragma: no cover - compiled
    """Rows ``a..b`` of one column of UTF-8 cells (row ``r``: bytes ``at[r]:at[r + 1]`` of ``data``)
    as the csv module's QUOTE_MINIMAL writes them: a cell holding a comma, a quote or a line feed
    (or a carriage return, when ``cr``: the line end holds one) is put in quotes, its quotes doubled.
    Fills ``extra`` (-1: written as it is; else the quotes inside, to double) and ``size`` (bytes
    written), both indexed from row ``a``."""
    for r in range(a, b):
        s, e = at[r], at[r + 1]
        quotes, marks = 0, 0
        for x in range(s, e):  # no branch: the loop vectorises
            d = data[x]
            quotes += d == 34
            marks += (d == 44) | (d == 10) | (cr & (d == 13))
        quoted = quotes + marks > 0
        extra[r - a] = quotes if quoted else -1
        size[r - a] = e - s + (quotes + 2 if quoted else 0)


@nb.njit(nogil=True, cache=True)
def csv_put_cells(data, at, a, b, extra, out, pos, tail):  # pragma: no cover - compiled
    """Write rows ``a..b`` of one column (see :func:`csv_cell_sizes`, whose ``extra`` this takes)
    into ``out``, row ``r`` at ``pos[r - a]`` and followed by the bytes ``tail`` (a comma, or the
    line end after the last column); ``pos`` moves past what was written."""
    for r in range(a, b):
        o, s, e = pos[r - a], at[r], at[r + 1]
        doubled = extra[r - a]
        if doubled >= 0:
            out[o] = 34
            o += 1
        if doubled <= 0:
            out[o : o + e - s] = data[s:e]
            o += e - s
        else:
            for x in range(s, e):
                out[o] = data[x]
                o += 1
                if data[x] == 34:
                    out[o] = 34
                    o += 1
        if doubled >= 0:
            out[o] = 34
            o += 1
        for x in range(len(tail)):
            out[o] = tail[x]
            o += 1
        pos[r - a] = o


@nb.njit(nogil=True, cache=True, inline="always")
def _places(frac, digits, strip):  # pragma: no cover - compiled
    """The places :func:`decimal_cells` writes of a fraction of ``digits`` places, and how many:
    all of them, or with ``strip`` the trailing zeros dropped, one kept (``digits`` 0: one zero)."""
    places = digits
    if strip:
        while places > 1 and frac % 10 == 0:
            frac //= 10
            places -= 1
        places = max(places, 1)
    return frac, places


@nb.njit(nogil=True, cache=True)
def decimal_cells(units, negative, digits, strip):  # pragma: no cover - compiled
    """The UTF-8 text of each ``units[i] / 10**digits`` (``units`` >= 0), a minus sign first where
    ``negative[i]``: the whole part in decimal, then (``digits`` > 0) a point and the ``digits``
    places, zero-padded, as ``"%.{digits}f"`` writes them. With ``strip``, the places lose their
    trailing zeros but keep one, and ``digits`` 0 gives ".0" (as JSON writes a float). Returns the
    cells' offsets (``len(units) + 1``) and bytes: one pass counts, a second writes."""
    n = len(units)
    scale = np.int64(1)
    for _ in range(digits):
        scale *= 10
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    for i in range(n):
        whole = units[i] // scale
        frac, places = _places(units[i] % scale, digits, strip)
        size = 1 if negative[i] else 0
        size += 1
        while whole >= 10:
            whole //= 10
            size += 1
        offsets[i + 1] = offsets[i] + size + (places + 1 if places else 0)
    out = np.empty(offsets[n], dtype=np.uint8)
    for i in range(n):
        o, end = offsets[i], offsets[i + 1]
        whole = units[i] // scale
        frac, places = _places(units[i] % scale, digits, strip)
        if negative[i]:
            out[o] = 45
            o += 1
        if places:  # the places, last digit first, from the end of the cell
            for x in range(places):
                out[end - 1 - x] = 48 + frac % 10
                frac //= 10
            out[end - 1 - places] = 46
            end -= places + 1
        for x in range(end - o):  # the whole part, last digit first
            out[end - 1 - x] = 48 + whole % 10
            whole //= 10
    return offsets, out


@nb.njit(nogil=True, cache=True)
def evidence_picks(e_ptr, e_vecs, c_ptr, c_vecs, ei, ci, n):  # pragma: no cover - compiled
    """For each pair ``p``: the similarities of the European profile ``ei[p]``'s sentence vectors
    (rows ``e_ptr[ei[p]]:e_ptr[ei[p] + 1]`` of ``e_vecs``) with the Canadian ``ci[p]``'s (of
    ``c_vecs``), each a dot product summed in float64 in the order of the dimensions and rounded
    once to float32; then the ``n`` best cells, best first, ties by lower (row, column), each row
    and column used at most once. Returns rows, columns and values (pairs x ``n``; a ``-inf``
    value and row and column 0 where there is no pick)."""
    n_pairs, dim = len(ei), e_vecs.shape[1]
    rows, cols = np.zeros((n_pairs, n), dtype=np.int64), np.zeros((n_pairs, n), dtype=np.int64)
    vals = np.full((n_pairs, n), -np.inf)
    sim, acc = np.empty(0, dtype=np.float64), np.empty(0, dtype=np.float64)
    for p in range(n_pairs):
        a0, b0 = e_ptr[ei[p]], c_ptr[ci[p]]
        ne, nc = e_ptr[ei[p] + 1] - a0, c_ptr[ci[p] + 1] - b0
        if ne == 0 or nc == 0:
            continue
        if len(sim) < ne * nc:
            sim = np.empty(ne * nc, dtype=np.float64)
        if len(acc) < nc:
            acc = np.empty(nc, dtype=np.float64)
        for r in range(ne):
            acc[:nc] = 0.0
            for k in range(dim):  # one running sum per column, each in the order of the dimensions
                x = np.float64(e_vecs[a0 + r, k])
                for c in range(nc):
                    acc[c] += x * np.float64(c_vecs[b0 + c, k])
            for c in range(nc):
                sim[r * nc + c] = np.float64(np.float32(acc[c]))
        used_r, used_c = np.zeros(ne, dtype=np.bool_), np.zeros(nc, dtype=np.bool_)
        for t in range(n):
            best, br, bc = -np.inf, -1, -1
            for r in range(ne):
                if used_r[r]:
                    continue
                for c in range(nc):
                    if not used_c[c] and sim[r * nc + c] > best:  # strictly greater: the first of equal cells stays
                        best, br, bc = sim[r * nc + c], r, c
            if br < 0:
                break
            rows[p, t], cols[p, t], vals[p, t] = br, bc, best
            used_r[br], used_c[bc] = True, True
    return rows, cols, vals


@nb.njit(nogil=True, cache=True)
def add_rows_at(out, idx, rows):  # pragma: no cover - compiled
    """``out[idx[p]] += rows[p]`` for each ``p`` in order: ``np.add.at``'s sums, the same additions
    in the same order, without its per-element dispatch."""
    for p in range(len(idx)):
        for k in range(out.shape[1]):
            out[idx[p], k] += rows[p, k]
