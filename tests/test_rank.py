"""Rank stage: exact top-k against brute force, blocked top-k with awkward block sizes."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import ParameterError
from matcher.rank import blocked_top_k, n_workers, rank_matrix, reciprocal_score, top_k


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


@pytest.mark.parametrize("n_jobs", [1, 2, 3, -1])
@pytest.mark.parametrize("block", [1, 6, 64])
def test_blocked_top_k_same_lists_for_any_worker_count(n_jobs, block):
    rng = np.random.default_rng(block)
    full = np.round(rng.random((70, 45)), 1).astype(np.float32)  # heavy ties across workers
    r_idx, r_val, c_idx, c_val = blocked_top_k(lambda sl: full[sl], 70, 45, 8, block_rows=block, n_jobs=n_jobs)
    np.testing.assert_array_equal(r_idx, brute_top_k(full, 8))
    np.testing.assert_array_equal(r_val, np.take_along_axis(full, r_idx, axis=1))
    np.testing.assert_array_equal(c_idx, brute_top_k(full.T, 8))
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))


def test_blocked_top_k_ranks_minus_inf_like_any_value():
    full = np.array(
        [[-np.inf, 0.5, -np.inf, -np.inf], [-np.inf, -np.inf, -np.inf, -np.inf], [0.1, -np.inf, 0.2, -np.inf]],
        dtype=np.float32,
    )
    r_idx, r_val, c_idx, c_val = blocked_top_k(lambda sl: full[sl], 3, 4, 3, block_rows=2, n_jobs=2)
    np.testing.assert_array_equal(r_idx, brute_top_k(full, 3))
    np.testing.assert_array_equal(r_val, np.take_along_axis(full, r_idx, axis=1))
    np.testing.assert_array_equal(c_idx, brute_top_k(full.T, 3))
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))
    assert r_idx[1].tolist() == [0, 1, 2]  # an all -inf row: ties by index


class _Tiled:
    """A scorer offering column tiles of awkward widths, as FusedScorer does."""

    def __init__(self, full: np.ndarray, width: int) -> None:
        self.full = full
        self.column_tiles = [slice(c, min(c + width, full.shape[1])) for c in range(0, full.shape[1], width)]
        self.calls = 0

    def score_into(self, rows: slice, cols: slice, out: np.ndarray) -> None:
        self.calls += 1
        out[...] = self.full[rows, cols]


@pytest.mark.parametrize(("width", "k", "block"), [(3, 5, 4), (7, 20, 9), (1, 2, 50), (100, 4, 3)])
def test_blocked_top_k_over_column_tiles_equals_brute_force(width, k, block):
    rng = np.random.default_rng(width * k)
    full = np.round(rng.random((41, 33)), 1).astype(np.float32)
    scorer = _Tiled(full, width)
    r_idx, r_val, c_idx, c_val = blocked_top_k(scorer, 41, 33, k, block_rows=block, n_jobs=2)
    np.testing.assert_array_equal(r_idx, brute_top_k(full, k))
    np.testing.assert_array_equal(r_val, np.take_along_axis(full, r_idx, axis=1))
    np.testing.assert_array_equal(c_idx, brute_top_k(full.T, k))
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))
    assert scorer.calls == len(range(0, 41, block)) * len(scorer.column_tiles)


def test_n_jobs_follows_scikit_learn_and_rejects_zero():
    assert n_workers(None) == 1
    assert n_workers(3) == 3
    assert n_workers(-1) >= 1
    assert n_workers(-1) == n_workers(-2) + 1 or n_workers(-2) == 1
    with pytest.raises(ParameterError, match=r"^n_jobs must be None, a positive int, or a negative int \(-1 = all \d+ cores\); got 0$"):
        n_workers(0)
    with pytest.raises(ParameterError, match="block_rows must be a positive int; got 0"):
        blocked_top_k(lambda sl: np.zeros((1, 1)), 1, 1, 1, block_rows=0)
