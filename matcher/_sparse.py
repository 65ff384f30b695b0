"""Sparse x dense products on several threads, with scipy's values bit for bit.

scipy's ``csr_matrix @ ndarray`` runs on one thread; the tfidf backend's randomized SVD is mostly
such products (thirteen, with the TF-IDF matrix and its transpose). :func:`sparse_times_dense`
splits the output rows between :func:`matcher._blas.local_threads` threads running one compiled
kernel (:func:`matcher._kernels.csr_times_dense`) that adds each row's entries in scipy's order, so
the result does not depend on the thread count. ``A.T @ Q`` is ``sparse_times_dense(A.T.tocsr(), Q)``:
the transpose's rows hold their entries in row order, the order in which scipy's ``csc_matvecs``
adds them.
"""

from __future__ import annotations

import numpy as np

__all__ = ["sparse_times_dense"]

# Stored entries per thread below which a product runs on the calling thread alone.
MIN_ENTRIES_PER_THREAD = 50_000


def sparse_times_dense(a, x: np.ndarray, threads: int | None = None) -> np.ndarray:
    """``a @ x`` for a CSR matrix ``a`` (float32 or float64) and a dense 2-D ``x``, the values
    scipy gives, on up to ``threads`` threads (default :func:`matcher._blas.local_threads`), the
    rows split so that each thread gets about as many stored entries."""
    from matcher import _kernels
    from matcher._blas import local_threads

    dtype = np.result_type(a.dtype, x.dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    data = a.data.astype(dtype, copy=False)
    out = np.zeros((a.shape[0], x.shape[1]), dtype=dtype)
    n_rows, entries = a.shape[0], int(a.indptr[-1])
    threads = local_threads() if threads is None else max(1, int(threads))
    threads = max(1, min(threads, n_rows, entries // MIN_ENTRIES_PER_THREAD))
    if threads == 1:
        _kernels.csr_times_dense(a.indptr, a.indices, data, x, out, 0, n_rows)
        return out
    from concurrent.futures import ThreadPoolExecutor

    cuts = np.searchsorted(a.indptr, np.linspace(0, entries, threads + 1)[1:-1]).tolist()
    bounds = list(zip([0, *cuts], [*cuts, n_rows], strict=True))
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="matcher-sparse") as pool:
        for done in [pool.submit(_kernels.csr_times_dense, a.indptr, a.indices, data, x, out, r0, r1) for r0, r1 in bounds]:
            done.result()
    return out
