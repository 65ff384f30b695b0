"""Score stage: each signal on tiny hand-computed fixtures, and fusion."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from matcher.corpus import Profile
from matcher.errors import ParameterError
from matcher.features import SideFeatures
from matcher.rank import BlockRunner, pair_stats, rank_matrix, top_k_both_ways
from matcher.score import (
    SIGNALS,
    Scorer,
    cosine_similarity,
    declared_interest,
    fuse,
    language_overlap,
    lexical_similarity,
    related_sectors,
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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_pairs_signals_do_not_depend_on_the_other_rows(seed):
    """The same pair gives the same bits whatever rows sit beside it: a row moved to another place
    or block, a side cut short or lengthened by a copy (what ``rank_profile`` does), whatever
    kernel BLAS picks for the shapes (checked on OpenBLAS's Haswell, Zen and SkylakeX kernels)."""
    rng = np.random.default_rng(seed)
    left, right = rng.normal(size=(150, 384)).astype(np.float32), rng.normal(size=(90, 384)).astype(np.float32)
    fine_l, fine_r = (rng.random((150, 9)) < 0.3).astype(np.float32), (rng.random((90, 9)) < 0.3).astype(np.float32)
    related = _relatedness(rng)
    full = {"cosine": cosine_similarity(left, right), "related": related_sectors(fine_l, fine_r, related)}
    order = rng.permutation(150)
    for rows, cols in [(order, np.arange(90)), (np.arange(1), np.arange(90)), (np.r_[np.arange(150), 37], np.r_[np.arange(90), 5]), (np.arange(70, 75), np.arange(3))]:
        part = {"cosine": cosine_similarity(left[rows], right[cols]), "related": related_sectors(fine_l[rows], fine_r[cols], related)}
        for name, got in part.items():
            np.testing.assert_array_equal(got, full[name][np.ix_(rows, cols)], err_msg=name)


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


def _side(rng, n: int, side: str, countries: int = 6, dim: int = 16, terms: int = 40) -> SideFeatures:
    """Random features of ``n`` profiles; country column 0 is Canada."""
    emb = rng.normal(size=(n, dim)).astype(np.float32)
    emb[::7] = 0.0  # zero rows: cosine 0
    fine = (rng.random((n, 9)) < 0.25).astype(np.float32)
    areas = (rng.random((n, 3)) < 0.4).astype(np.float32)
    langs = (rng.random((n, 4)) < [0.9, 0.3, 0.2, 0.1]).astype(np.float32)
    lex = sparse.random(n, terms, density=0.15, format="csr", random_state=int(rng.integers(1 << 30)), dtype=np.float64)
    norms = np.sqrt(np.asarray(lex.multiply(lex).sum(axis=1)).ravel())
    lex = (sparse.diags(np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)) @ lex).tocsr()
    country = np.zeros((n, countries), np.float32)
    country[np.arange(n), 0 if side == "ca" else rng.integers(1, countries, n)] = 1.0
    targets = (rng.random((n, countries)) < 0.3).astype(np.float32)
    profiles = tuple(Profile(f"{side}-{i:03d}", f"P{i}", side, "CA" if side == "ca" else "FR", "network", ("s",), "d") for i in range(n))
    return SideFeatures(profiles, emb, fine, areas, langs, lex, country, targets, ((),) * n, (np.zeros((0, dim), np.float32),) * n)


def dense_oracle(eu: SideFeatures, ca: SideFeatures, weights, bias, common, related=None) -> np.ndarray:
    """The fused score written out plainly, pair by pair formulas over whole matrices (float64)."""

    def cos(a, b):
        a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
        na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            sim = (a @ b.T) / np.outer(na, nb)
        return np.clip(np.nan_to_num(sim, nan=0.0, posinf=0.0, neginf=0.0), 0, 1)

    sector = 2 / 3 * cos(eu.fine, ca.fine) + 1 / 3 * cos(eu.areas, ca.areas)
    lexical = np.clip((eu.lexical @ ca.lexical.T).toarray(), 0, 1)
    own = (eu.languages[:, ~common] @ ca.languages[:, ~common].T) > 0
    anyl = (eu.languages @ ca.languages.T) > 0
    language = np.where(own, 1.0, np.where(anyl, 0.5, 0.0))
    interest = 0.5 * (eu.targets @ ca.country.T > 0) + 0.5 * (eu.country @ ca.targets.T > 0)
    # related: mean relatedness over every (European sector, Canadian sector) pair, pair by pair.
    rel = np.zeros((len(eu), len(ca)))
    if related is not None:
        for i in range(len(eu)):
            for j in range(len(ca)):
                pairs = [related[s, t] for s in np.flatnonzero(eu.fine[i]) for t in np.flatnonzero(ca.fine[j])]
                rel[i, j] = np.mean(pairs) if pairs else 0.0
    signals = {"sector": sector, "semantic": cos(eu.embeddings, ca.embeddings), "lexical": lexical, "language": language, "interest": interest, "related": rel}
    return bias + sum(weights.get(n, 0.0) * signals[n] for n in signals)


WEIGHTS = {"sector": 0.3, "semantic": 0.25, "lexical": 0.2, "language": 0.15, "interest": 0.1, "related": 0.12}


def _relatedness(rng, n: int = 9) -> np.ndarray:
    """A random symmetric relatedness matrix in [0, 1] with a zero diagonal."""
    r = np.triu((rng.random((n, n)) < 0.3) * rng.random((n, n)), 1).astype(np.float32)
    return r + r.T


@pytest.mark.parametrize(("n_eu", "n_ca", "block_rows"), [(53, 29, 7), (130, 70, 64), (10, 97, 1), (200, 3, 1000), (67, 65, 13)])
def test_scorer_equals_dense_oracle_with_awkward_blocks(n_eu, n_ca, block_rows):
    rng = np.random.default_rng(n_eu * n_ca)
    eu, ca = _side(rng, n_eu, "eu"), _side(rng, n_ca, "ca")
    common = np.array([True, False, False, False])
    related = _relatedness(rng)
    scorer = Scorer(eu, ca, WEIGHTS, 0.05, common, block_rows=block_rows, relatedness=related)
    oracle = dense_oracle(eu, ca, WEIGHTS, 0.05, common, related)
    np.testing.assert_allclose(scorer.score_matrix(), oracle, rtol=0, atol=2e-6)
    blocks = scorer.blocks()
    assert blocks[0].start == 0 and blocks[-1].stop == n_eu and all(b.stop - b.start <= block_rows for b in blocks)
    np.testing.assert_array_equal(np.vstack([scorer.scores(b) for b in blocks]), scorer.score_matrix())


@pytest.mark.parametrize(("block_rows", "k"), [(7, 5), (64, 3), (1, 10), (500, 1)])
def test_blockwise_top_k_and_ranks_equal_dense_ranks(block_rows, k):
    """Top-k both ways and the exact ranks of the proposed pairs, blockwise, equal the ranks of the
    dense oracle's matrix (ties by index; scores rounded to create many ties), filters applied."""
    rng = np.random.default_rng(block_rows)
    eu, ca = _side(rng, 61, "eu"), _side(rng, 37, "ca")
    common = np.array([True, False, False, False])
    scorer = Scorer(eu, ca, WEIGHTS, 0.0, common, block_rows=block_rows)
    scorer.scores = lambda rows, signals=None: np.round(fuse(signals or scorer.signals(rows), scorer.weights, 0.0), 2)
    eu_mask, ca_mask = rng.random(61) < 0.8, rng.random(37) < 0.8
    full = np.vstack([scorer.scores(b) for b in scorer.blocks()])
    masked = np.where(eu_mask[:, None] & ca_mask[None, :], full, -np.inf)
    top = top_k_both_ways(scorer, k, eu_mask, ca_mask)
    np.testing.assert_array_equal(top.row_idx[eu_mask], np.argsort(-masked, axis=1, kind="stable")[eu_mask, :k])
    np.testing.assert_array_equal(top.col_idx[ca_mask], np.argsort(-masked.T, axis=1, kind="stable")[ca_mask, :k])
    i, j = np.nonzero(eu_mask[:, None] & ca_mask[None, :])
    stats = pair_stats(scorer, i, j, eu_mask, ca_mask)
    np.testing.assert_array_equal(stats.rank_eu_to_ca, rank_matrix(masked)[i, j])
    np.testing.assert_array_equal(stats.rank_ca_to_eu, rank_matrix(masked.T).T[i, j])
    np.testing.assert_array_equal(stats.score, full[i, j])


@pytest.mark.parametrize("threads", [2, 3, 8])
def test_block_passes_on_threads_give_the_lists_and_ranks_of_one_thread_bit_for_bit(tfidf_matcher, threads):
    m = tfidf_matcher
    scorer = Scorer(m.eu_features_, m.ca_features_, m.weights_.weights, m.weights_.bias, m.features_.lingua_franca_, block_rows=37, relatedness=m.features_.related_)
    one, many = BlockRunner(threads=1), BlockRunner(threads=threads)
    a, b = top_k_both_ways(scorer, 7, runner=one), top_k_both_ways(scorer, 7, runner=many)
    for name in ("row_idx", "row_val", "col_idx", "col_val"):
        assert np.array_equal(getattr(a, name), getattr(b, name))
    assert all(np.array_equal(a.row_sig[n], b.row_sig[n]) and np.array_equal(a.col_sig[n], b.col_sig[n]) for n in SIGNALS)
    i, j = np.nonzero(np.isfinite(a.row_val))
    pairs = (i, a.row_idx[i, j])
    s1, s2 = pair_stats(scorer, *pairs, runner=one), pair_stats(scorer, *pairs, runner=many)
    for name in ("score", "rank_eu_to_ca", "rank_ca_to_eu"):
        assert np.array_equal(getattr(s1, name), getattr(s2, name))
    assert all(np.array_equal(s1.signals[n], s2.signals[n]) for n in SIGNALS)


def test_scorer_rejects_bad_blocks(tfidf_matcher):
    with pytest.raises(ParameterError, match="block_rows must be a positive int; got 0"):
        Scorer(tfidf_matcher.eu_features_, tfidf_matcher.ca_features_, WEIGHTS, block_rows=0)


def test_matcher_signals_come_from_the_scorer(tfidf_matcher):
    m = tfidf_matcher
    oracle = dense_oracle(m.eu_features_, m.ca_features_, m.weights_.weights, m.weights_.bias, m.features_.lingua_franca_, m.features_.related_)
    np.testing.assert_allclose(m.score_matrix(), oracle, rtol=0, atol=2e-6)
    assert set(m.signal_matrices()) == set(SIGNALS)


def test_related_sectors_counts_only_documented_cross_sector_pairs():
    # fine sectors s0, s1, s2; s0-s1 linked (1.0), s1-s2 linked (0.5), s0-s2 not linked
    rel = np.array([[0, 1, 0], [1, 0, 0.5], [0, 0.5, 0]], dtype=np.float32)
    eu = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 0]], dtype=np.float32)  # {s0}, {s0, s1}, none
    ca = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]], dtype=np.float32)  # {s0}, {s1}, {s2}, {s1, s2}
    got = related_sectors(eu, ca, rel)
    expected = [
        [0.0, 1.0, 0.0, (1.0 + 0.0) / 2],  # same sector: 0; linked: 1; unlinked: 0; mean over (s0,s1), (s0,s2)
        [1.0 / 2, 1.0 / 2, 0.5 / 2, (1.0 + 0.0 + 0.0 + 0.5) / 4],  # mean over the four sector pairs, s1-s1 counts 0
        [0.0, 0.0, 0.0, 0.0],  # no sectors: 0
    ]
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_related_sectors_rejects_a_matrix_of_the_wrong_shape():
    with pytest.raises(ParameterError, match=r"related_sectors: relatedness must be a 3 x 3 matrix over the fine sectors; got shape \(2, 2\)"):
        related_sectors(np.eye(3, dtype=np.float32), np.eye(3, dtype=np.float32), np.zeros((2, 2)))


def test_scorer_rejects_an_asymmetric_relatedness(tfidf_matcher):
    m = tfidf_matcher
    n = m.eu_features_.fine.shape[1]
    bad = np.zeros((n, n), np.float32)
    bad[0, 1] = 1.0
    with pytest.raises(ParameterError, match=rf"relatedness must be a symmetric {n} x {n} matrix over the fine sectors with values in \[0, 1\] and a zero diagonal"):
        Scorer(m.eu_features_, m.ca_features_, WEIGHTS, relatedness=bad)


@pytest.mark.parametrize(("block_rows", "keep_cells"), [(7, 0), (7, 10**9), (64, 10**9), (1, 0)])
def test_listed_pairs_carry_the_scorers_signals_and_kept_blocks_give_the_same_ranks(block_rows, keep_cells, monkeypatch):
    """The lists' signal values are the scorer's at the listed pairs; ranks from the kept score
    blocks (``known`` + ``blocks``) equal those of the two-pass path and of the dense ranks."""
    from matcher import rank

    monkeypatch.setattr(rank, "KEEP_CELLS", keep_cells)
    rng = np.random.default_rng(block_rows + 3)
    eu, ca = _side(rng, 61, "eu"), _side(rng, 37, "ca")
    scorer = Scorer(eu, ca, WEIGHTS, 0.0, np.array([True, False, False, False]), block_rows=block_rows, relatedness=_relatedness(rng))
    eu_mask, ca_mask = rng.random(61) < 0.8, rng.random(37) < 0.8
    top = top_k_both_ways(scorer, 4, eu_mask, ca_mask, keep_blocks=True)
    assert top_k_both_ways(scorer, 4, eu_mask, ca_mask).blocks is None
    assert (top.blocks is not None) == (keep_cells > 0)
    i, j, score, signals = rank.listed_pairs(top, eu_mask, ca_mask)
    listed = {(a, b) for a in np.flatnonzero(eu_mask) for b in top.row_idx[a]} | {(a, b) for b in np.flatnonzero(ca_mask) for a in top.col_idx[b]}
    assert list(zip(i.tolist(), j.tolist(), strict=True)) == sorted(listed)
    dense = scorer.signal_matrices()
    for name in SIGNALS:
        np.testing.assert_array_equal(signals[name], dense[name][i, j])
    plain = pair_stats(scorer, i, j, eu_mask, ca_mask)
    fast = pair_stats(scorer, i, j, eu_mask, ca_mask, known=(score, signals), blocks=top.blocks)
    np.testing.assert_array_equal(fast.score, plain.score)
    np.testing.assert_array_equal(fast.rank_eu_to_ca, plain.rank_eu_to_ca)
    np.testing.assert_array_equal(fast.rank_ca_to_eu, plain.rank_ca_to_eu)
    for name in SIGNALS:
        np.testing.assert_array_equal(fast.signals[name], plain.signals[name])
    masked = np.where(eu_mask[:, None] & ca_mask[None, :], scorer.score_matrix(), -np.inf)
    np.testing.assert_array_equal(fast.rank_eu_to_ca, rank_matrix(masked)[i, j])
    np.testing.assert_array_equal(fast.rank_ca_to_eu, rank_matrix(masked.T).T[i, j])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_lexical_similarity_is_scipys_product_clipped_exactly(seed):
    """The compiled pass gives exactly the values of scipy's sparse product, clipped to [0, 1]
    (rows here not normalised, so some products pass 1), with or without a kept transpose."""
    from scipy import sparse

    from matcher.score import by_term

    rng = np.random.default_rng(seed)
    a = sparse.random(37, 400, density=0.05, format="csr", random_state=seed)
    b = sparse.random(53, 400, density=0.05, format="csr", random_state=seed + 10)
    a.data, b.data = rng.random(len(a.data)) * 2.0, rng.random(len(b.data)) * 2.0
    want = np.clip((a @ b.T).toarray(), 0.0, 1.0).astype(np.float32)
    assert (want == 1.0).any() and (want == 0.0).any() and ((want > 0) & (want < 1)).any()
    np.testing.assert_array_equal(lexical_similarity(a, b), want)
    np.testing.assert_array_equal(lexical_similarity(a, b, by_term(b)), want)
    np.testing.assert_array_equal(lexical_similarity(a[:0], b), want[:0])


def test_fuse_is_numpys_weighted_sum_exactly_for_any_signal_dtypes():
    """The compiled weighted sum gives numpy's ``bias + sum w * s`` bit for bit, in signal order,
    whatever the signals' dtypes and shape, and for any subset of the signals."""
    rng = np.random.default_rng(7)
    signals = {name: rng.random((13, 17)).astype(np.float32) for name in SIGNALS}
    signals["interest"] = signals["interest"].astype(np.float64)
    signals["language"] = (signals["language"] > 0.5).astype(np.int64)
    weights = {name: float(rng.random()) for name in SIGNALS}
    for names in (list(SIGNALS), ["lexical"], ["semantic", "related"]):
        part = {n: signals[n] for n in names}
        want = np.full((13, 17), 0.031)
        for n in SIGNALS:
            if n in part:
                want += weights[n] * part[n].astype(np.float64)
        np.testing.assert_array_equal(fuse(part, weights, 0.031), want)
    np.testing.assert_array_equal(fuse({"sector": signals["sector"][0]}, weights), weights["sector"] * signals["sector"][0].astype(np.float64))
