"""Score stage: each signal on tiny hand-computed fixtures, and fusion."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from matcher.score import (
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


def test_blocked_fused_scorer_equals_signal_fusion(tfidf_matcher):
    """The scale path (one block at a time, linear signals folded) gives the engine's scores."""
    scorer = tfidf_matcher.fused_scorer()
    blocks = [scorer(slice(i, i + 37)) for i in range(0, scorer.shape[0], 37)]
    np.testing.assert_allclose(np.vstack(blocks), tfidf_matcher.scores_, rtol=0, atol=2e-6)
