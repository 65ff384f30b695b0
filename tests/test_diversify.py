"""Diverse shortlists (MMR): the redundancy formula, the exact pool against a brute-force greedy run
over every candidate, the blockwise lists both ways, the API and the CLI."""

from __future__ import annotations

import csv
import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher import ParameterError
from matcher.cli import main
from matcher.diversify import check_diversity, diversified_top_k, diversify_top, mmr_order, redundancy
from matcher.rank import top_k, top_k_both_ways

SETTINGS = settings(deadline=None, derandomize=True, max_examples=80, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def one_hot(codes, width: int = 4) -> np.ndarray:
    return np.eye(width, dtype=np.float32)[np.asarray(codes)]


def brute_mmr(scores, k, lam, emb, country, red=None) -> list[int]:
    """Greedy MMR over every finite candidate, written out: no pool, one pair at a time
    (``red``: the candidates' redundancy matrix, when already computed)."""
    red = redundancy(emb, country, emb, country) if red is None else red
    free = [j for j in range(len(scores)) if np.isfinite(scores[j])]
    taken: list[int] = []
    while free and len(taken) < k:
        def gain(j):
            return float(scores[j]) - lam * max((red[j, t] for t in taken), default=0.0)

        best = max(free, key=lambda j: (gain(j), -j))  # ties: the lower index
        taken.append(best)
        free.remove(best)
    return taken


# ----------------------------------------------------------------------------- redundancy


def test_redundancy_is_same_country_times_clipped_cosine():
    emb = np.array([[1.0, 0.0], [2.0, 0.0], [1.0, 1.0], [-1.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    country = one_hot([0, 0, 0, 0, 0, 1])
    red = redundancy(emb, country, emb, country)
    r = 1 / math.sqrt(2)
    expected = np.array(
        [
            [1, 1, r, 0, 0, 0],  # a longer vector in the same direction is as redundant; the opposite one is not (clipped)
            [1, 1, r, 0, 0, 0],
            [r, r, 1, 0, 0, 0],
            [0, 0, 0, 1, 0, 0],
            [0, 0, 0, 0, 0, 0],  # a zero embedding is redundant with nothing
            [0, 0, 0, 0, 0, 1],  # same direction, other country: not redundant
        ]
    )
    np.testing.assert_allclose(red, expected, atol=1e-12)
    assert red.dtype == np.float64 and red.min() >= 0 and red.max() <= 1


def test_redundancy_entries_do_not_depend_on_the_set():
    rng = np.random.default_rng(3)
    emb = rng.normal(size=(120, 37)).astype(np.float32)
    country = one_hot(rng.integers(0, 3, 120))
    full = redundancy(emb, country, emb, country)
    np.testing.assert_array_equal(full, full.T)
    for _ in range(10):
        a = rng.choice(120, rng.integers(1, 30), replace=False)
        b = np.sort(rng.choice(120, rng.integers(1, 90), replace=False))
        np.testing.assert_array_equal(redundancy(emb[a], country[a], emb[b], country[b]), full[np.ix_(a, b)])


def test_redundancy_shape_problems_are_listed_together():
    with pytest.raises(ParameterError) as info:
        redundancy(np.zeros((2, 3)), np.zeros((3, 4)), np.zeros((2, 5)), np.zeros((2, 2)))
    assert str(info.value) == (
        "3 problems with the parameters of redundancy:\n"
        "  redundancy: the embeddings must have the same number of columns; got 3 and 5\n"
        "  redundancy: the country rows must have the same number of columns; got 4 and 2\n"
        "  redundancy: one country row per embedding row; got 2 and 3 (left), 2 and 2 (right)"
    )


# ----------------------------------------------------------------------------- MMR on one list


def test_hand_computed_lists():
    # c0 and c1: same country, same direction (redundancy 1); c2: same direction, other country; c3: orthogonal.
    scores = np.array([1.0, 0.75, 0.5, 0.25])
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    country = one_hot([0, 0, 1, 0])
    # lambda 0.25: after c0, c1 gains 0.75 - 0.25 = 0.5, a tie with c2's 0.5: the lower index wins.
    assert mmr_order(scores, 3, 0.25, emb, country).tolist() == [0, 1, 2]
    # lambda 0.5: c1 gains 0.25 < c2's 0.5; then c1 and c3 tie at 0.25: c1 (lower index).
    assert mmr_order(scores, 4, 0.5, emb, country).tolist() == [0, 2, 1, 3]
    # lambda 1: c1 gains 0 < c3's 0.25.
    assert mmr_order(scores, 4, 1.0, emb, country).tolist() == [0, 2, 3, 1]
    assert mmr_order(scores, 4, 0.0, emb, country).tolist() == [0, 1, 2, 3]
    idx, val = diversified_top_k(np.array([1.0, 0.75, -np.inf, 0.5, 0.25]), 3, 0.5, np.insert(emb, 2, [5.0, 5.0], axis=0), np.insert(country, 2, one_hot([0]), axis=0))
    assert idx.tolist() == [0, 3, 1] and val.tolist() == [1.0, 0.5, 0.75]  # the -inf candidate is never listed


def test_pool_leaves_out_only_candidates_that_cannot_be_taken():
    # s_k = 0.5 (k = 2), lambda 0.25: the pool is score >= 0.25; 0.2 is below it and cannot be taken
    # although it is the only candidate not redundant with the first.
    scores = np.array([1.0, 0.5, 0.2])
    emb = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    country = one_hot([0, 0, 0])
    assert diversified_top_k(scores, 2, 0.25, emb, country)[0].tolist() == [0, 1] == brute_mmr(scores, 2, 0.25, emb, country)
    assert diversified_top_k(scores, 2, 0.9, emb, country)[0].tolist() == [0, 2] == brute_mmr(scores, 2, 0.9, emb, country)


@pytest.mark.parametrize("seed", range(12))
def test_pool_equals_brute_force_over_all_candidates(seed):
    rng = np.random.default_rng(seed)
    n, dim = int(rng.integers(1, 90)), int(rng.integers(1, 12))
    scores = rng.integers(0, 9, n) / 8.0  # many ties
    scores[rng.random(n) < 0.15] = -np.inf
    emb = rng.normal(size=(n, dim))
    emb[rng.random(n) < 0.2] = emb[0]  # duplicated profiles: redundancy exactly 1 within a country
    country = one_hot(rng.integers(0, 3, n))
    for k in (1, 3, 10, n + 2):
        for lam in (0.0, 0.1, 0.25, 0.5, 1.0, 3.0):
            idx, val = diversified_top_k(scores, k, lam, emb, country)
            assert idx.tolist() == brute_mmr(scores, k, lam, emb, country), (k, lam)
            np.testing.assert_array_equal(val, scores[idx])


@settings(SETTINGS)
@given(
    scores=arrays(np.float64, st.integers(0, 40), elements=st.sampled_from([0.0, 0.125, 0.25, 0.5, 0.75, 1.0, -np.inf])),
    k=st.integers(0, 45),
    lam=st.sampled_from([0.0, 0.125, 0.3, 0.5, 1.0, 2.5]),
    seed=st.integers(0, 2**16),
)
def test_mmr_properties(scores, k, lam, seed):
    rng = np.random.default_rng(seed)
    emb = rng.normal(size=(len(scores), 4))
    country = one_hot(rng.integers(0, 2, len(scores)))
    idx, val = diversified_top_k(scores, k, lam, emb, country)
    available = int(np.isfinite(scores).sum())
    assert len(idx) == min(k, available) and len(set(idx.tolist())) == len(idx)  # a subset, no repeats
    assert np.all(np.isfinite(scores[idx]))
    again = diversified_top_k(scores, k, lam, emb.copy(), country.copy())
    np.testing.assert_array_equal(idx, again[0])  # deterministic
    plain_idx, plain_val = top_k(scores, k)
    keep = np.isfinite(plain_val[0])
    if len(idx):
        assert idx[0] == plain_idx[0, 0]  # nothing is taken yet: the first is the best by score
    if lam == 0:
        np.testing.assert_array_equal(idx, plain_idx[0][keep])
        np.testing.assert_array_equal(val, plain_val[0][keep])
    assert idx.tolist() == brute_mmr(scores, k, lam, emb, country)


def test_parameters_are_checked_together():
    assert check_diversity(0) == 0.0 and check_diversity(2.5) == 2.5 and check_diversity(np.float32(0.5)) == 0.5
    for bad in (-0.1, float("nan"), float("inf"), True, "0.5", None):
        with pytest.raises(ParameterError) as info:
            check_diversity(bad)
        assert str(info.value) == f"diversity must be a finite number >= 0; got {bad!r}"
    with pytest.raises(ParameterError) as info:
        diversified_top_k(np.zeros((2, 2)), -1, -1.0, np.zeros((3, 2)), np.zeros((3, 1)))
    assert str(info.value) == (
        "4 problems with the parameters of diversified_top_k:\n"
        "  k must be a non-negative int; got -1\n"
        "  scores must be one query's 1-D row; got 2 dimensions\n"
        "  diversity must be a finite number >= 0; got -1.0\n"
        "  embeddings and country need one row per candidate (2); got (3, 2) and (3, 1)"
    )
    with pytest.raises(ParameterError, match=r"scores must not hold NaN \(use -inf to exclude a candidate\)"):
        diversified_top_k(np.array([0.5, np.nan]), 1, 0.5, np.zeros((2, 2)), np.zeros((2, 1)))


# ----------------------------------------------------------------------------- blockwise, both ways


class MatrixScorer:
    """The scorer's block interface over a fixed score matrix, with each side's embeddings and countries."""

    def __init__(self, scores: np.ndarray, block: int, eu, ca) -> None:
        self.matrix, self.shape, self.block_rows, self.eu, self.ca = scores, scores.shape, block, eu, ca

    def blocks(self) -> list[slice]:
        return [slice(s, min(s + self.block_rows, self.shape[0])) for s in range(0, self.shape[0], self.block_rows)]

    def block_of(self, row: int) -> slice:
        start = (row // self.block_rows) * self.block_rows
        return slice(start, min(start + self.block_rows, self.shape[0]))

    def signals(self, rows: slice) -> dict:
        return {}

    def scores(self, rows: slice, signals=None) -> np.ndarray:
        return self.matrix[rows].astype(np.float64)


def _side(rng, n: int) -> SimpleNamespace:
    emb = rng.normal(size=(n, 5))
    emb[rng.random(n) < 0.2] = emb[0]
    return SimpleNamespace(embeddings=emb, country=one_hot(rng.integers(0, 3, n)))


@pytest.mark.parametrize(("n_eu", "n_ca", "block", "k"), [(37, 23, 5, 4), (10, 41, 1, 10), (64, 7, 64, 3), (53, 29, 7, 12), (5, 5, 2, 1)])
def test_blockwise_lists_equal_brute_force_both_ways(n_eu, n_ca, block, k):
    rng = np.random.default_rng(n_eu * n_ca + block)
    scores = rng.integers(0, 6, (n_eu, n_ca)) / 4.0
    eu, ca = _side(rng, n_eu), _side(rng, n_ca)
    scorer = MatrixScorer(scores, block, eu, ca)
    eu_mask, ca_mask = rng.random(n_eu) < 0.8, rng.random(n_ca) < 0.8
    ex = rng.integers(0, [n_eu, n_ca], (8, 2))
    order = np.lexsort((ex[:, 1], ex[:, 0]))
    exclude = (ex[order, 0].astype(np.int64), ex[order, 1].astype(np.int64))
    masked = np.where(eu_mask[:, None] & ca_mask[None, :], scores, -np.inf)
    masked[exclude] = -np.inf
    for lam in (0.0, 0.25, 0.6):
        top = top_k_both_ways(scorer, k, eu_mask, ca_mask, exclude=exclude)
        div = diversify_top(scorer, top, lam, eu_mask, ca_mask, exclude=exclude, rows=np.flatnonzero(eu_mask), cols=np.flatnonzero(ca_mask))
        for i in np.flatnonzero(eu_mask):
            got = div.row_idx[i][np.isfinite(div.row_val[i])].tolist()
            assert got == brute_mmr(masked[i], k, lam, ca.embeddings, ca.country), (lam, "row", i)
            np.testing.assert_array_equal(div.row_val[i][: len(got)], masked[i, got])
        for j in np.flatnonzero(ca_mask):
            got = div.col_idx[j][np.isfinite(div.col_val[j])].tolist()
            assert got == brute_mmr(masked[:, j], k, lam, eu.embeddings, eu.country), (lam, "column", j)
            np.testing.assert_array_equal(div.col_val[j][: len(got)], masked[got, j])
        if lam == 0:
            np.testing.assert_array_equal(np.where(np.isfinite(div.row_val), div.row_val, -np.inf), np.where(np.isfinite(top.row_val), top.row_val, -np.inf))
    # Rows only: the columns' lists are left as they were, and only the wanted rows change.
    top = top_k_both_ways(scorer, k, eu_mask, ca_mask, exclude=exclude)
    div = diversify_top(scorer, top, 0.6, eu_mask, ca_mask, exclude=exclude, rows=np.array([0]))
    np.testing.assert_array_equal(div.col_idx, top.col_idx)
    np.testing.assert_array_equal(div.row_idx[1:], top.row_idx[1:])


# ----------------------------------------------------------------------------- the engine


class DenseLists:
    """Brute-force MMR lists of corpus queries from the dense score matrix and the features."""

    def __init__(self, m) -> None:
        self.m, self.scores = m, m.score_matrix()
        self.red = {side: redundancy(f.embeddings, f.country, f.embeddings, f.country) for side, f in (("eu", m.eu_features_), ("ca", m.ca_features_))}

    def __call__(self, query_id: str, k: int, lam: float) -> list[str]:
        m = self.m
        if query_id in m.eu_index_:
            row, side, cands, red = self.scores[m.eu_index_[query_id]], m.ca_features_, m.ca_, self.red["ca"]
        else:
            row, side, cands, red = self.scores[:, m.ca_index_[query_id]], m.eu_features_, m.eu_, self.red["eu"]
        return [cands[j].id for j in brute_mmr(row, k, lam, side.embeddings, side.country, red)]


def test_engine_lists_equal_the_dense_brute_force(tfidf_matcher):
    m = tfidf_matcher
    _dense_list = DenseLists(m)
    for query in ("aero-montreal", "skywin"):
        plain = m.rank(query, k=10)
        assert m.rank(query, k=10, diversity=0).equals(plain)  # 0 is today's ranking, same columns
        frame = m.rank(query, k=10, diversity=0.5)
        assert frame.candidate_id.tolist() == _dense_list(query, 10, 0.5)
        assert frame["rank"].tolist() == list(range(1, 11))
        assert list(frame.columns) == [*plain.columns[:4], "score_rank", *plain.columns[4:]]
        contrib = frame[[c for c in frame.columns if c.startswith("contrib_")]].sum(axis=1)
        np.testing.assert_allclose(contrib, frame.score, atol=1e-9)
        # score_rank is the exact rank by score, as in the plain list.
        full = m.rank(query, k=len(m.eu_))
        by_score = dict(zip(full.candidate_id, full["rank"], strict=True))
        assert frame.score_rank.tolist() == [by_score[c] for c in frame.candidate_id]
    eu_lists = m.rankings("eu_to_ca", k=5, diversity=0.3)
    ca_lists = m.rankings("ca_to_eu", k=5, diversity=0.3)
    for frame in (eu_lists, ca_lists):
        for query, part in frame.groupby("query_id", sort=False):
            assert part.candidate_id.tolist() == _dense_list(query, 5, 0.3), query


def test_diversified_pairings_keep_the_exact_ranks(tfidf_matcher):
    m = tfidf_matcher
    plain = m.pairings(k=5).set_index(["eu_id", "ca_id"])
    div = m.pairings(k=5, diversity=1.0).set_index(["eu_id", "ca_id"])
    eu, ca = m.rankings("eu_to_ca", k=5, diversity=1.0), m.rankings("ca_to_eu", k=5, diversity=1.0)
    listed = set(zip(eu.query_id, eu.candidate_id, strict=True)) | set(zip(ca.candidate_id, ca.query_id, strict=True))
    assert set(div.index) == listed and set(div.index) != set(plain.index)
    both = sorted(set(div.index) & set(plain.index))
    assert both and div.loc[both, ["rank_eu_to_ca", "rank_ca_to_eu", "reciprocal_score"]].equals(plain.loc[both, ["rank_eu_to_ca", "rank_ca_to_eu", "reciprocal_score"]])


def test_diversity_with_filters_and_new_profiles(tfidf_matcher):
    m = tfidf_matcher
    frame = m.rank("aero-montreal", k=8, diversity=0.5, countries=["FR", "DE", "CA"], exclude_known=True)
    assert set(frame.candidate_country) <= {"FR", "DE"} and not frame.known_partner.any()
    known = {e for e, c in m.known_ if c == "aero-montreal"}
    assert not known & set(frame.candidate_id)
    # A corpus profile under a new id gets the same diversified lists, both sides.
    for pid in ("aero-montreal", "skywin"):
        new = m.rank_profile(m.corpus_.get(pid).to_record() | {"id": "draft"}, k=10, diversity=0.5)
        ours = m.rank(pid, k=10, diversity=0.5)
        cols = [c for c in ours.columns if c not in ("query_id", "known_partner")]
        assert new[cols].equals(ours[cols]) and "score_rank" in cols
    with pytest.raises(ParameterError) as info:
        m.rank("aero-montreal", diversity=-0.5)
    assert str(info.value) == "diversity must be a finite number >= 0; got -0.5"
    for call in (lambda: m.pairings(diversity=float("inf")), lambda: m.rankings(diversity="x"), lambda: m.rank_profiles([], diversity=None)):
        with pytest.raises(ParameterError, match="diversity must be a finite number >= 0; got "):
            call()


# ----------------------------------------------------------------------------- the command line


def test_cli_diversity(capsys, tmp_path):
    code = main(["rank", "--backend", "tfidf", "--out", str(tmp_path), "--top-k", "4", "--quiet", "--diversity", "0.5"])
    capsys.readouterr()
    assert code == 0
    with open(tmp_path / "ca_to_eu.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[3:5] == ["rank", "score_rank"]
    aero = [r["candidate_id"] for r in rows if r["query_id"] == "aero-montreal"]
    assert len(aero) == 4 and json.loads((tmp_path / "run.json").read_text())["diversity"] == 0.5
    for r in rows:
        assert abs(sum(float(r[c]) for c in r if c.startswith("contrib_")) - float(r["score"])) < 1e-5


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "lots"])
@pytest.mark.parametrize("command", ["rank", "match"])
def test_cli_rejects_bad_diversity(capsys, command, value):
    argv = [command, *(["corpus"] if command == "match" else []), "--diversity", value]
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == f"matcher {command}: error: argument --diversity: expected a finite number >= 0 (0 = plain ranking); got {value!r}"


# ----------------------------------------------------------------------------- the evaluation


def test_evaluation_diversity_table(tfidf_matcher):
    from matcher.evaluate import pair_table, run_evaluation
    from matcher.evaluate.harness import diversity_table
    from matcher.gold import SIGNED_KINDS, load_gold_files

    m = tfidf_matcher
    gold = tuple(g for g in load_gold_files(None, m.corpus_) if g.kind in SIGNED_KINDS)
    result = run_evaluation(m, gold, n_resamples=20, fit=False, diversity_levels=(0.0, 0.5))
    table = result.diversity_table
    assert table["diversity"].tolist() == [0.0, 0.5]
    # At 0 the lists are the plain top 10: the pair-level hits@10 of the evaluated weights, raw and filtered.
    fused = next(s for s in result.pair_table.system if s.startswith("fused, "))
    for kind in ("filtered", "raw"):
        expected = pair_table(result, kind).set_index("system").loc[fused, "hits@10"]
        assert table.loc[0, f"{kind} hits@10"] == pytest.approx(expected, abs=1e-12)
    assert table.loc[0, "countries per list, European queries"] == 1.0  # Canadian candidates only
    # The Canadian queries' lists by hand, from the engine's lists.
    lists = m.rankings("ca_to_eu", k=10, diversity=0.5)
    by_query = lists.groupby("query_id").candidate_country.nunique()
    assert table.loc[1, "countries per list, Canadian queries"] == pytest.approx(by_query.mean())
    assert table.loc[1, "countries per list, Canadian queries"] > table.loc[0, "countries per list, Canadian queries"]
    sectors = lists.groupby("query_id").candidate_id.agg(lambda ids: len({s for c in ids for s in m.corpus_.get(c).sectors}))
    assert table.loc[1, "fine sectors per list, Canadian queries"] == pytest.approx(sectors.mean())
    again = diversity_table(m, m.score_matrix(), gold, (0.5,))
    assert again.iloc[0].equals(table.iloc[1])


def test_cli_diversity_zero_is_todays_bytes_and_reruns_are_identical(capsys, tmp_path, tiny_corpus):
    def files(name, *extra):
        out = tmp_path / name
        assert main(["rank", "--backend", "tfidf", "--corpus", str(tiny_corpus), "--out", str(out), "--quiet", "--html", *extra]) == 0
        return {f: (out / f).read_bytes() for f in ("eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv", "details.json", "report.html")}

    plain = files("plain")
    assert files("zero", "--diversity", "0") == plain
    diverse = files("diverse", "--diversity", "0.5")
    assert files("again", "--diversity", "0.5") == diverse
    assert b"rank,score_rank," in diverse["eu_to_ca.csv"] and b"score_rank" not in plain["eu_to_ca.csv"]
    assert "top 10 · diversity 0.5 (MMR order)" in diverse["report.html"].decode() and "diversity" not in plain["report.html"].decode().split("top 10")[1][:40]
    capsys.readouterr()
