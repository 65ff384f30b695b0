"""Threaded sparse x dense products: scipy's values bit for bit, whatever the thread count; the
tfidf backend's randomized SVD built on them: TruncatedSVD's components bit for bit."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from matcher import _sparse
from matcher._sparse import sparse_times_dense
from matcher.embed import _randomized_components


def _random_csr(rng, n_rows, n_cols, density, dtype, shuffle=True):
    a = sparse.random(n_rows, n_cols, density=density, format="csr", dtype=dtype, random_state=rng)
    if shuffle:  # entries of a row out of column order, as CountVectorizer stores them
        for i in range(n_rows):
            lo, hi = a.indptr[i], a.indptr[i + 1]
            at = lo + rng.permutation(hi - lo)
            a.indices[lo:hi], a.data[lo:hi] = a.indices[at], a.data[at]
        a.has_sorted_indices = False
    return a


@settings(max_examples=40, deadline=None)
@given(
    n_rows=st.integers(0, 40), n_cols=st.integers(1, 30), n_vecs=st.integers(1, 9), density=st.floats(0.0, 1.0),
    threads=st.integers(1, 5), dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2**16),
)
def test_equals_scipy_bit_for_bit_at_any_thread_count(n_rows, n_cols, n_vecs, density, threads, dtype, seed):
    rng = np.random.default_rng(seed)
    a = _random_csr(rng, n_rows, n_cols, density, dtype)
    x = rng.normal(size=(n_cols, n_vecs)).astype(np.float32)
    y = rng.normal(size=(n_rows, n_vecs)).astype(np.float32)
    with mock.patch.object(_sparse, "MIN_ENTRIES_PER_THREAD", 1):  # split even tiny matrices between threads
        got = sparse_times_dense(a, x, threads=threads)
        # The transpose as a CSR copy: the order in which scipy adds a CSC matrix's columns.
        got_t = sparse_times_dense(a.T.tocsr(), y, threads=threads)
    want = a @ x
    assert got.dtype == want.dtype and got.shape == want.shape
    assert np.array_equal(got, want)
    assert np.array_equal(got_t, a.T @ y)


def test_a_fortran_ordered_right_hand_side_is_read_as_it_is_values():
    rng = np.random.default_rng(3)
    a = _random_csr(rng, 300, 200, 0.05, np.float32)
    x = np.asfortranarray(rng.normal(size=(200, 7)).astype(np.float32))
    assert np.array_equal(sparse_times_dense(a, x, threads=2), a @ x)


@pytest.mark.parametrize(("shape", "n_iter"), [((60, 400), 5), ((400, 60), 5), ((80, 300), 2), ((90, 120), 0)])
def test_randomized_components_are_truncated_svds(shape, n_iter):
    """Both orientations (more columns than rows is the corpus case) and each power-iteration
    normaliser scikit-learn picks (LU above two iterations, none at two or fewer)."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.utils.extmath import svd_flip
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(sum(shape) + n_iter)
    x = _random_csr(rng, *shape, 0.08, np.float32)
    with threadpool_limits(1, user_api="blas"):
        want = TruncatedSVD(n_components=20, random_state=0, algorithm="randomized", n_iter=n_iter).fit(x).components_
        _, got = svd_flip(None, _randomized_components(x, 20, n_iter, 0), u_based_decision=False)
    assert np.array_equal(got, want)
