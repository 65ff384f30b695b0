"""Rank stage: exact top-k against brute force, blocked top-k with awkward block sizes."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.rank import blocked_top_k, rank_matrix, reciprocal_score, top_k


def brute_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    return np.array([sorted(range(scores.shape[1]), key=lambda j: (-row[j], j))[:k] for row in scores])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_top_k_equals_brute_force_with_ties(seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 4, size=(40, 17)).astype(np.float32)  # many ties
    idx, val = top_k(scores, 6)
    np.testing.assert_array_equal(idx, brute_top_k(scores, 6))
    np.testing.assert_array_equal(val, np.take_along_axis(scores, idx, axis=1))


def test_top_k_k_larger_than_columns_and_excluded():
    scores = np.array([[0.2, -np.inf, 0.9]])
    idx, val = top_k(scores, 5)
    assert idx.tolist() == [[2, 0, 1]]
    assert val[0, 2] == -np.inf


@pytest.mark.parametrize(("rows", "cols", "k", "block"), [(53, 29, 5, 7), (10, 40, 20, 3), (64, 8, 3, 64), (31, 31, 1, 1), (9, 12, 4, 1000)])
def test_blocked_top_k_both_directions_equal_brute_force(rows, cols, k, block):
    rng = np.random.default_rng(rows * cols)
    left = rng.normal(size=(rows, 6)).astype(np.float32)
    right = rng.normal(size=(cols, 6)).astype(np.float32)
    full = np.round(left @ right.T, 1)  # rounding creates ties
    r_idx, r_val, c_idx, c_val = blocked_top_k(lambda sl: full[sl], rows, cols, k, block_rows=block)
    np.testing.assert_array_equal(r_idx, brute_top_k(full, k))
    np.testing.assert_array_equal(r_val, np.take_along_axis(full, r_idx, axis=1))
    np.testing.assert_array_equal(c_idx, brute_top_k(full.T, k))
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))


def test_rank_matrix_and_reciprocal():
    scores = np.array([[0.5, 0.9, 0.5], [0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(rank_matrix(scores), [[2, 1, 3], [3, 2, 1]])
    np.testing.assert_allclose(reciprocal_score(np.array([1, 3]), np.array([1, 1])), [1.0, 0.5])


@pytest.mark.parametrize(("rows", "cols", "k"), [(30, 5003, 20), (7, 2048, 1), (12, 1601, 50)])
def test_wide_rows_take_the_prefiltered_path_exactly(rows, cols, k):
    rng = np.random.default_rng(cols)
    scores = np.round(rng.random((rows, cols)), 2)  # heavy ties
    scores[0, :] = 0.5  # a row that is all ties
    scores[1, ::3] = -np.inf
    idx, _val = top_k(scores, k)
    np.testing.assert_array_equal(idx, brute_top_k(scores, k))
    idx_t, _ = top_k(scores.T.copy().T, k)  # same data through a non-contiguous view
    np.testing.assert_array_equal(idx_t, idx)


def test_blocked_top_k_wide_matrix_with_ties():
    rng = np.random.default_rng(5)
    full = np.round(rng.random((300, 2600)), 2).astype(np.float32)
    r_idx, _, c_idx, c_val = blocked_top_k(lambda sl: full[sl], 300, 2600, 10, block_rows=77)
    np.testing.assert_array_equal(r_idx, brute_top_k(full, 10))
    np.testing.assert_array_equal(c_idx, brute_top_k(full.T, 10))
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))
