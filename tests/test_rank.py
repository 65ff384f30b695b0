"""Rank stage: exact top-k against brute force (the blockwise ranks are tested against the dense oracle in test_score)."""

from __future__ import annotations

import numpy as np
import pytest

from matcher.errors import ParameterError
from matcher.rank import BlockRunner, rank_matrix, reciprocal_score, top_k


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


def test_rank_matrix_and_reciprocal():
    scores = np.array([[0.5, 0.9, 0.5], [0.1, 0.2, 0.3]])
    np.testing.assert_array_equal(rank_matrix(scores), [[2, 1, 3], [3, 2, 1]])
    np.testing.assert_allclose(reciprocal_score(np.array([1, 3]), np.array([1, 1])), [1.0, 0.5])


@pytest.mark.parametrize(("rows", "cols", "k"), [(30, 5003, 20), (7, 2048, 1), (12, 1601, 50)])
def test_wide_rows_with_heavy_ties_and_views_are_exact(rows, cols, k):
    rng = np.random.default_rng(cols)
    scores = np.round(rng.random((rows, cols)), 2)  # heavy ties
    scores[0, :] = 0.5  # a row that is all ties
    scores[1, ::3] = -np.inf
    idx, _val = top_k(scores, k)
    np.testing.assert_array_equal(idx, brute_top_k(scores, k))
    idx_t, _ = top_k(scores.T.copy().T, k)  # same data through a non-contiguous view
    np.testing.assert_array_equal(idx_t, idx)


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.float16, np.int64, np.int16, np.uint8])
@pytest.mark.parametrize(("k", "shape"), [(3, (9, 7)), (10, (4, 6)), (1, (1, 5)), (0, (3, 3))])
def test_top_k_rows_cols_equals_brute_force_both_ways(dtype, k, shape):
    from matcher.rank import top_k_rows_cols

    rng = np.random.default_rng(k + shape[0])
    scores = rng.integers(0, 3, size=shape).astype(dtype)  # many ties
    if np.issubdtype(dtype, np.floating):
        scores[0, ::2] = -np.inf
        scores[-1, 0] = -0.0  # equal to 0.0: ties by index
    r_idx, r_val, c_idx, c_val = top_k_rows_cols(scores, k)
    exact = scores.astype(np.float64)  # the oracle negates values: unsigned ones would wrap
    np.testing.assert_array_equal(r_idx, brute_top_k(exact, min(k, shape[1])).reshape(shape[0], -1))
    np.testing.assert_array_equal(c_idx, brute_top_k(exact.T, min(k, shape[0])).reshape(shape[1], -1))
    assert r_val.dtype == c_val.dtype == scores.dtype
    np.testing.assert_array_equal(r_val, np.take_along_axis(scores, r_idx, axis=1))
    np.testing.assert_array_equal(c_val, np.take_along_axis(scores.T, c_idx, axis=1))
    idx, val = top_k(scores, k)
    np.testing.assert_array_equal(idx, r_idx)
    np.testing.assert_array_equal(val, r_val)


def test_top_k_rejects_nan_and_complex_scores():
    from matcher.errors import ParameterError

    with pytest.raises(ParameterError, match="must not hold NaN"):
        top_k(np.array([[0.1, np.nan]]), 1)
    with pytest.raises(ParameterError, match="scores must be real numbers; got dtype complex128"):
        top_k(np.array([[1 + 2j]]), 1)


class _Blocks:
    """The one thing BlockRunner reads of a scorer here: nothing (the tasks get the rows)."""


def _slow_start(scorer, rows, delays):
    import time

    time.sleep(delays[rows.start])
    return rows.start


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_block_runner_yields_results_in_block_order_whatever_finishes_first(threads):
    blocks = [slice(s, s + 1) for s in range(12)]
    delays = {s: 0.02 * ((s * 7) % 5) for s in range(12)}  # later blocks often finish first
    got = list(BlockRunner(threads=threads).map(_slow_start, _Blocks(), blocks, delays))
    assert got == list(range(12))


def test_block_runner_stops_cleanly_when_the_caller_stops_early():
    blocks = [slice(s, s + 1) for s in range(50)]
    it = BlockRunner(threads=2).map(_slow_start, _Blocks(), blocks, dict.fromkeys(range(50), 0.01))
    assert next(it) == 0 and next(it) == 1
    it.close()  # the pool is shut down and the queued blocks cancelled, not run


def _failing(scorer, rows):
    if rows.start == 3:
        raise ParameterError("block 3 failed")
    return rows.start


def test_block_runner_raises_a_tasks_error_in_block_order():
    from matcher.errors import ParameterError as Err
    got = []
    with pytest.raises(Err, match="block 3 failed"):
        for start in BlockRunner(threads=2).map(_failing, _Blocks(), [slice(s, s + 1) for s in range(8)]):
            got.append(start)
    assert got == [0, 1, 2]
