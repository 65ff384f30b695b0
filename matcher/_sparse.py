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
    from matcher._blas import in_parts

    dtype = np.result_type(a.dtype, x.dtype)
    x = np.ascontiguousarray(x, dtype=dtype)
    data = a.data.astype(dtype, copy=False)
    out = np.zeros((a.shape[0], x.shape[1]), dtype=dtype)
    # Each thread writes its own rows of ``out``.
    in_parts(lambda r0, r1: _kernels.csr_times_dense(a.indptr, a.indices, data, x, out, r0, r1), a.shape[0], MIN_ENTRIES_PER_THREAD, threads, work=a.indptr)
    return out
