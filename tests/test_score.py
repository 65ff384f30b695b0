"""Score stage: each signal on tiny hand-computed fixtures, and fusion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from threadpoolctl import threadpool_limits

from matcher.score import (
    FusedScorer,
    cosine_similarity,
    declared_interest,
    fuse,
    language_overlap,
    lexical_similarity,
    sector_overlap,
)


def test_sector_overlap_grades_fine_over_area_over_none():
    # fine sectors: s0, s1, s2 ; areas: a0 (s0, s1), a1 (s2)
    eu_fine = np.array([[1, 0, 0]], dtype=np.float32)
    ca_fine = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    eu_area = np.array([[1, 0]], dtype=np.float32)
    ca_area = np.array([[1, 0], [1, 0], [0, 1]], dtype=np.float32)
    got = sector_overlap(eu_fine, ca_fine, eu_area, ca_area)
    np.testing.assert_allclose(got, [[1.0, 1 / 3, 0.0]], rtol=1e-6)


def test_sector_overlap_partial_sets():
    # EU has {s0, s1}, CA has {s0}: fine cosine 1/sqrt(2); both only in area a0: area cosine 1.
    got = sector_overlap(np.array([[1, 1]], np.float32), np.array([[1, 0]], np.float32), np.array([[1]], np.float32), np.array([[1]], np.float32))
    np.testing.assert_allclose(got, [[2 / 3 / np.sqrt(2) + 1 / 3]], rtol=1e-6)


def test_cosine_is_clipped_and_handles_zero_rows():
    left = np.array([[3, 4], [0, 0]], dtype=np.float32)
    right = np.array([[3, 4], [-3, -4], [4, -3]], dtype=np.float32)
    np.testing.assert_allclose(cosine_similarity(left, right), [[1, 0, 0], [0, 0, 0]], atol=1e-6)


def test_lexical_similarity_of_normalised_tfidf_rows():
    eu = sparse.csr_matrix(np.array([[0.6, 0.8, 0.0]]))
    ca = sparse.csr_matrix(np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]))
    np.testing.assert_allclose(lexical_similarity(eu, ca), [[0.8, 0.0]], rtol=1e-6)


def test_language_overlap_grades_lingua_franca_below_other_languages():
    # columns: en, de, fr ; en is the lingua franca
    eu = np.array([[1, 0, 1], [0, 1, 0], [1, 1, 0]], dtype=np.float32)  # en+fr, de, en+de
    ca = np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32)  # en+fr, en
    common = np.array([True, False, False])
    np.testing.assert_array_equal(language_overlap(eu, ca, common), [[1, 0.5], [0, 0], [0.5, 0.5]])
    np.testing.assert_array_equal(language_overlap(eu, ca), [[1, 1], [0, 0], [1, 1]])


def test_declared_interest_counts_each_direction_half():
    eu_flag = np.array([1, 0], dtype=np.float32)  # first EU profile targets Canada
    eu_country = np.array([[1, 0], [0, 1]], dtype=np.float32)  # FR, DE
    ca_targets = np.array([[0, 1], [0, 0]], dtype=np.float32)  # first CA profile targets DE
    np.testing.assert_allclose(declared_interest(eu_flag, eu_country, ca_targets), [[0.5, 0.5], [0.5, 0.0]])


def test_fuse_is_bias_plus_weighted_sum():
    signals = {"sector": np.array([[1.0, 0.0]]), "semantic": np.array([[0.5, 0.25]])}
    got = fuse(signals, {"sector": 0.2, "semantic": 0.4, "lexical": 9.0}, bias=0.1)
    np.testing.assert_allclose(got, [[0.1 + 0.2 + 0.2, 0.1 + 0.1]])


@pytest.mark.parametrize(("block_cols", "dense_density"), [(2048, 0.01), (16, 0.01), (7, 0.0), (50, 1.0)])
def test_blocked_fused_scorer_equals_signal_fusion(tfidf_matcher, block_cols, dense_density):
    """The scale path (row blocks, column tiles, linear signals folded, sparse features through the
    inverted index or all in the product or none) gives the engine's scores."""
    scorer = tfidf_matcher.fused_scorer(block_cols=block_cols, dense_density=dense_density)
    blocks = [scorer(slice(i, i + 37)) for i in range(0, scorer.shape[0], 37)]
    np.testing.assert_allclose(np.vstack(blocks), tfidf_matcher.scores_, rtol=0, atol=2e-6)


@pytest.mark.parametrize(("block_rows", "block_cols", "n_jobs"), [(7, 16, 1), (5, 9, 2), (64, 2048, 3)])
def test_fused_scorer_top_k_is_exact_on_its_own_scores(tfidf_matcher, block_rows, block_cols, n_jobs):
    """Both-way top-k of the tiled, multi-worker path equals brute force on the same blocks' scores
    (computed with one BLAS thread, as the workers are)."""
    scorer = tfidf_matcher.fused_scorer(block_cols=block_cols)
    n_eu, n_ca = scorer.shape
    with threadpool_limits(1, user_api="blas"):
        full = np.vstack([scorer(slice(i, i + block_rows)) for i in range(0, n_eu, block_rows)])
    r_idx, r_val, c_idx, c_val = scorer.top_k(10, block_rows=block_rows, n_jobs=n_jobs)
    np.testing.assert_array_equal(r_idx, np.argsort(-full, axis=1, kind="stable")[:, :10])
    np.testing.assert_array_equal(r_val, np.take_along_axis(full, r_idx, axis=1))
    np.testing.assert_array_equal(c_idx, np.argsort(-full.T, axis=1, kind="stable")[:, :10])
    np.testing.assert_array_equal(c_val, np.take_along_axis(full.T, c_idx, axis=1))
    assert r_idx.shape == (n_eu, 10) and c_idx.shape == (n_ca, 10)


def test_fused_scorer_rejects_negative_weights_and_bad_tiles(tfidf_matcher):
    with pytest.raises(ValueError, match="block_cols must be a positive int; got 0"):
        tfidf_matcher.fused_scorer(block_cols=0)
    inputs = tfidf_matcher._scorer_inputs
    with pytest.raises(ValueError, match="FusedScorer needs non-negative weights"):
        FusedScorer({"semantic": -1.0}, 0.0, *inputs)
