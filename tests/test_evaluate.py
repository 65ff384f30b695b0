"""Evaluation: metrics against hand computation, exact random baseline, leakage-free folds, report files."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from matcher import GoldPair, Matcher
from matcher.evaluate import (
    cross_validated_scores,
    evaluate,
    fisher_randomization,
    gold_ranks,
    per_query_metrics,
    random_expectation,
)

from .conftest import profile, write_corpus


def test_metrics_match_hand_computation():
    # Two European queries, three Canadian candidates.
    scores = np.array([[0.9, 0.5, 0.1], [0.2, 0.8, 0.4]])
    eu, ca = ["e1", "e2"], ["c1", "c2", "c3"]
    gold = [GoldPair("e1", "c2"), GoldPair("e2", "c2"), GoldPair("e2", "c3")]
    pq = per_query_metrics(scores, eu, ca, gold).set_index(["direction", "query"])
    # e1: c2 at rank 2 -> RR 1/2, recall@1 0, recall@3 1. e2: c2 rank 1, c3 rank 2 -> RR 1, AP 1.
    assert pq.loc[("eu_to_ca", "e1"), "mrr"] == pytest.approx(0.5)
    assert pq.loc[("eu_to_ca", "e1"), "recall@1"] == 0
    assert pq.loc[("eu_to_ca", "e2"), "map"] == pytest.approx(1.0)
    # c2's candidates: e2 (0.8) then e1 (0.5): both relevant -> ndcg@10 = 1; c3: e2 (0.4) first -> RR 1.
    assert pq.loc[("ca_to_eu", "c2"), "ndcg@10"] == pytest.approx(1.0)
    # ndcg@10 of e1 by hand: one relevant at rank 2 -> (1/log2(3)) / 1
    assert pq.loc[("eu_to_ca", "e1"), "ndcg@10"] == pytest.approx(1 / math.log2(3))
    ranks = gold_ranks(scores, eu, ca, gold)
    assert ranks["rank_eu_to_ca"].tolist() == [2, 1, 2] and ranks["rank_ca_to_eu"].tolist() == [2, 1, 1]


@pytest.mark.parametrize(("n", "r"), [(5, 1), (6, 2), (7, 3)])
def test_random_expectation_is_exact(n, r):
    perms = list(itertools.permutations(range(n)))
    sums = dict.fromkeys(("recall@1", "recall@3", "mrr", "map"), 0.0)
    for perm in perms:
        ranks = sorted(perm.index(x) + 1 for x in range(r))  # relevant docs are 0..r-1
        sums["recall@1"] += sum(rk <= 1 for rk in ranks) / r
        sums["recall@3"] += sum(rk <= 3 for rk in ranks) / r
        sums["mrr"] += 1 / ranks[0]
        sums["map"] += sum((i + 1) / rk for i, rk in enumerate(ranks)) / r
    expected = random_expectation(n, r)
    for name, total in sums.items():
        assert expected[name] == pytest.approx(total / len(perms)), name


def test_fisher_randomization_is_seeded_and_sensible():
    a = np.array([1.0, 1.0, 0.5, 1.0, 1.0, 0.8, 1.0, 1.0])
    b = np.array([0.1, 0.2, 0.1, 0.0, 0.3, 0.2, 0.1, 0.2])
    assert fisher_randomization(a, a) == 1.0
    p = fisher_randomization(a, b, seed=3)
    assert p == fisher_randomization(a, b, seed=3)
    assert p < 0.02  # all eight queries favour a: 2/2^8 under the null


def test_no_fold_is_fitted_on_its_own_query(tfidf_matcher):
    corpus = tfidf_matcher.corpus_
    from matcher.gold import SIGNED_KINDS, load_gold

    gold = load_gold(None, corpus, kinds=SIGNED_KINDS)
    eu_ids = [p.id for p in tfidf_matcher.eu_]
    ca_ids = [p.id for p in tfidf_matcher.ca_]
    seen = []

    def recording_fitter(signals, positives, rows=None, cols=None, **_):
        seen.append((set(rows.tolist()), set(cols.tolist()), list(positives)))
        return {"sector": 0.5, "semantic": 0.5}

    _, folds = cross_validated_scores(tfidf_matcher.signal_matrices(), eu_ids, ca_ids, gold, fitter=recording_fitter)
    assert len(folds) == len({g.eu_id for g in gold}) + len({g.ca_id for g in gold})
    for fold, (rows, cols, positives) in zip(folds, seen, strict=True):
        assert all(fold.query not in pair for pair in fold.train_pairs)
        if fold.direction == "eu_to_ca":
            assert eu_ids.index(fold.query) not in rows
            assert all(eu_ids[i] != fold.query for i, _ in positives)
        else:
            assert ca_ids.index(fold.query) not in cols
            assert all(ca_ids[j] != fold.query for _, j in positives)


def test_harness_runs_on_unseen_corpus_and_gold(tmp_path):
    folder = write_corpus(
        tmp_path / "c",
        [
            profile("e-aero", "eu", "FR", ["aerospace_vehicles_defence"], "aircraft engines and avionics"),
            profile("e-food", "eu", "DE", ["food_processing_manufacturing"], "dairy and plant protein food"),
            profile("e-bio", "eu", "IT", ["biopharmaceuticals"], "vaccines and biologics"),
            profile("c-aero", "ca", None, ["aerospace_vehicles_defence"], "aircraft engines and avionics supply chain"),
            profile("c-food", "ca", None, ["food_processing_manufacturing"], "plant protein and dairy food processing"),
            profile("c-bio", "ca", None, ["biopharmaceuticals"], "biologics and vaccines manufacturing"),
        ],
    )
    gold = tmp_path / "gold.csv"
    gold.write_text(
        "eu_id,ca_id,kind,source,evidence\ne-aero,c-aero,mou,s,e\ne-food,c-food,agreement,s,e\ne-bio,c-bio,agreement,s,e\n", encoding="utf-8"
    )
    result = evaluate(corpus=folder, gold=[gold], backend="tfidf", out=tmp_path / "out", n_resamples=200)
    table = result.table.set_index(["system", "direction"])
    assert table.loc[("sector only", "both"), "mrr"] == pytest.approx(1.0)
    assert table.loc[("random", "both"), "recall@1"] == pytest.approx(1 / 3)
    assert (tmp_path / "out" / "report.md").is_file()


@pytest.fixture(scope="module")
def report(tmp_path_factory, bundled):
    out = tmp_path_factory.mktemp("report")
    from matcher.weights import hand_set_weights_path

    m = Matcher(backend="tfidf", weights=hand_set_weights_path(), gold=False).fit(bundled)
    result = evaluate(out=out, matcher=m, n_resamples=500)
    return out, result


def test_report_files_exist_and_parse(report):
    out, result = report
    metrics = pd.read_csv(out / "metrics.csv")
    assert set(metrics["direction"]) == {"eu_to_ca", "ca_to_eu", "both"}
    assert {"recall@10", "mrr", "ndcg@10", "map", "mean_rank"} <= set(metrics.columns)
    pairs = pd.read_csv(out / "per_query.csv")
    assert len(pairs) == len(result.gold) and {"rank_eu_to_ca", "rank_ca_to_eu", "outranked_by_eu_to_ca"} <= set(pairs.columns)
    for png in ("recall_at_k.png", "gold_rank_distribution.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (out / "report.md").read_text(encoding="utf-8")
    assert "## Per-query comparison (both directions, raw ranks)" in text and "| random |" in text
    assert "## Pair-level figures, filtered ranks (both directions)" in text
    assert "## Leave-one-area-out" in text and "## Per gold file and per confidence" in text
    assert "Network co-membership" in text  # the seed's network pairs are reported apart
    assert "## Diverse shortlists: what maximal marginal relevance costs and gains" in text
    assert list(result.diversity_table["diversity"]) == [0.0, 0.05, 0.1, 0.25, 0.5, 1.0]


def test_report_compares_every_system_on_the_same_queries(report):
    _, result = report
    systems = set(result.table["system"])
    assert {"random", "sector only", "semantic only", "lexical only", "language only", "interest only", "fused, fitted weights (LOQO-CV)"} <= systems
    sizes = {name: len(pq) for name, pq in result.per_query.items()}
    assert len(set(sizes.values())) == 1
    assert set(result.significance["system"]) == systems - {"fused, fitted weights (LOQO-CV)"}


def test_unknown_gold_ids_are_listed_with_closest(tmp_path, bundled):
    gold = tmp_path / "g.csv"
    gold.write_text("eu_id,ca_id,kind,source,note\nskywinn,aero-montreal,mou,s,n\nvalorial,aero-montreall,mou,s,n\n", encoding="utf-8")
    from matcher import GoldError

    with pytest.raises(GoldError) as info:
        evaluate(corpus=bundled, gold=[gold], backend="tfidf", n_resamples=10)
    message = str(info.value)
    assert "closest ids: skywin" in message and "closest ids: aero-montreal" in message


def test_filtered_ranks_remove_the_other_partners_by_hand():
    from matcher.evaluate import pair_metrics, pair_ranks

    # e1's candidates in order: c1 (0.9), c2 (0.5), c3 (0.5, tie broken by position), c4 (0.1).
    scores = np.array([[0.9, 0.5, 0.5, 0.1], [0.2, 0.8, 0.4, 0.3]])
    eu, ca = ["e1", "e2"], ["c1", "c2", "c3", "c4"]
    gold = [GoldPair("e1", "c1"), GoldPair("e1", "c3"), GoldPair("e2", "c3")]
    ranks = pair_ranks(scores, eu, ca, gold).set_index(["eu_id", "ca_id"])
    # e1 -> c3: raw rank 3 (c1, c2 above); filtered: c1 is e1's other partner, so rank 2.
    assert ranks.loc[("e1", "c3"), ["rank_eu_to_ca", "filtered_eu_to_ca"]].tolist() == [3, 2]
    # c3's European candidates: e1 (0.5) above e2 (0.4); for c3 -> e2 e1 is another partner: filtered rank 1.
    assert ranks.loc[("e2", "c3"), ["rank_ca_to_eu", "filtered_ca_to_eu"]].tolist() == [2, 1]
    assert ranks.loc[("e1", "c1"), ["rank_eu_to_ca", "filtered_eu_to_ca", "rank_ca_to_eu"]].tolist() == [1, 1, 1]
    assert ranks.loc[("e1", "c3"), "filtered_candidates_eu_to_ca"] == 3
    frame = ranks.reset_index()
    raw, filtered = pair_metrics(frame, False), pair_metrics(frame, True)
    # raw ranks: e1-c1 (1, 1), e1-c3 (3, 1), e2-c3 (2, 2); filtered: (1, 1), (2, 1), (2, 1).
    assert raw["mrr"] == pytest.approx(np.mean([1, 1, 1 / 3, 1, 1 / 2, 1 / 2]))
    assert filtered["mrr"] == pytest.approx(np.mean([1, 1, 1 / 2, 1, 1 / 2, 1]))
    assert raw["hits@1"] == pytest.approx(3 / 6) and filtered["hits@1"] == pytest.approx(4 / 6)


@pytest.mark.parametrize("n", [1, 4, 7])
def test_random_pair_metrics_are_exact(n):
    from matcher.evaluate import random_pair_metrics

    frame = pd.DataFrame({"candidates_eu_to_ca": [n], "candidates_ca_to_eu": [n], "filtered_candidates_eu_to_ca": [n], "filtered_candidates_ca_to_eu": [n]})
    expected = random_pair_metrics(frame, filtered=False)
    assert expected["mrr"] == pytest.approx(np.mean([1 / r for r in range(1, n + 1)]))
    assert expected["hits@3"] == pytest.approx(min(3, n) / n)
    assert expected["mean_rank"] == pytest.approx((n + 1) / 2)


def _recording(seen):
    def fitter(signals, positives, rows=None, cols=None, ignore=(), **_):
        seen.append((set(positives), set(ignore)))
        return {"sector": 0.5, "semantic": 0.5}

    return fitter


def test_no_area_fold_is_fitted_on_a_pair_of_its_area(tfidf_matcher):
    from matcher.evaluate import area_folds, held_out_ranks, pair_area
    from matcher.gold import load_gold_files

    corpus = tfidf_matcher.corpus_
    gold = load_gold_files(None, corpus, kinds=("mou", "agreement", "joint_programme"))
    eu_ids = [p.id for p in tfidf_matcher.eu_]
    ca_ids = [p.id for p in tfidf_matcher.ca_]
    ei, ci = {e: i for i, e in enumerate(eu_ids)}, {c: j for j, c in enumerate(ca_ids)}
    folds = area_folds(gold, corpus)
    assert len(folds) >= 2 and sum(len(f.test) for f in folds) == len(gold)
    seen = []
    ranks, _ = held_out_ranks(tfidf_matcher.signal_matrices(), eu_ids, ca_ids, gold, folds, fitter=_recording(seen))
    for fold, (positives, ignore) in zip(folds, seen, strict=True):
        test = {(ei[g.eu_id], ci[g.ca_id]) for g in fold.test}
        area = fold.name.removeprefix("area ")
        assert all(pair_area(corpus.get(g.eu_id), corpus.get(g.ca_id), corpus.taxonomy) == area for g in fold.test)
        assert not positives & test and test <= ignore
        assert positives == {(ei[g.eu_id], ci[g.ca_id]) for g in fold.train}
    assert sorted(zip(ranks.eu_id, ranks.ca_id, strict=True)) == sorted((g.eu_id, g.ca_id) for g in gold)


def test_temporal_fold_fits_on_earlier_years_only():
    from matcher.evaluate import temporal_fold

    gold = [GoldPair(f"e{i}", f"c{i}", year=y) for i, y in enumerate([2007, 2010, 2013, 2016, 2017, 2019, 2022])] + [GoldPair("e9", "c9")]
    fold = temporal_fold(gold)
    assert max(g.year for g in fold.train) == 2016 < min(g.year for g in fold.test)
    assert len(fold.train) == 4 and len(fold.test) == 3 and all(g.year is not None for g in fold.train + fold.test)
    assert temporal_fold(gold[:4]) is None  # fewer than 3 on one side


def test_fit_weights_ignores_held_out_pairs():
    from matcher.evaluate import fit_weights

    rng = np.random.default_rng(0)
    signals = {name: rng.random((6, 5)) for name in ("sector", "semantic", "lexical", "language", "interest")}
    signals["sector"][0, 0] = signals["sector"][1, 1] = 5.0  # the two positives stand out on sector
    signals["semantic"][2, 2] = 5.0  # a held-out pair standing out on semantic must not count as a negative
    with_ignore = fit_weights(signals, [(0, 0), (1, 1)], ignore=[(2, 2)])
    without = fit_weights(signals, [(0, 0), (1, 1)])
    assert with_ignore["sector"] > 0.5 and with_ignore != without
