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

    _, folds = cross_validated_scores(tfidf_matcher.signals_, eu_ids, ca_ids, gold, fitter=recording_fitter)
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
    gold.write_text("eu_id,ca_id,kind\ne-aero,c-aero,mou\ne-food,c-food,agreement\ne-bio,c-bio,agreement\n", encoding="utf-8")
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
    assert "## Comparison (both directions)" in text and "| random |" in text
    assert "Network co-membership" in text  # the seed's network pairs are reported apart


def test_report_compares_every_system_on_the_same_queries(report):
    _, result = report
    systems = set(result.table["system"])
    assert {"random", "sector only", "semantic only", "lexical only", "language only", "interest only", "fused, fitted weights (LOQO-CV)"} <= systems
    sizes = {name: len(pq) for name, pq in result.per_query.items()}
    assert len(set(sizes.values())) == 1
    assert set(result.significance["system"]) == systems - {"fused, fitted weights (LOQO-CV)"}


def test_unknown_gold_ids_are_listed_with_closest(tmp_path, bundled):
    gold = tmp_path / "g.csv"
    gold.write_text("eu_id,ca_id,kind\nskywinn,aero-montreal,mou\nvalorial,aero-montreall,mou\n", encoding="utf-8")
    from matcher import GoldError

    with pytest.raises(GoldError) as info:
        evaluate(corpus=bundled, gold=[gold], backend="tfidf", n_resamples=10)
    message = str(info.value)
    assert "closest ids: skywin" in message and "closest ids: aero-montreal" in message
