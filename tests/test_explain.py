"""The batch explainer gives exactly the one-pair explanations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher import explain
from matcher.explain import explain_pair, explain_pairs
from matcher.rank import pair_stats
from matcher.score import SIGNALS


def _pairs(m, n_random: int = 300, seed: int = 0):
    """Every pair of a top-3 proposal and random pairs (most sharing little), sorted."""
    proposals = m.propose(3)
    pairs = {(m.eu_index_[e], m.ca_index_[c]) for e, c in proposals.explanations}
    rng = np.random.default_rng(seed)
    pairs |= set(zip(rng.integers(len(m.eu_), size=n_random).tolist(), rng.integers(len(m.ca_), size=n_random).tolist(), strict=True))
    ei, ci = (np.array(x, dtype=np.int64) for x in zip(*sorted(pairs), strict=True))
    return ei, ci


def _both(m, ei, ci):
    stats = pair_stats(m.scorer_, ei, ci)
    eu, ca = m.eu_features_, m.ca_features_
    known = [m.known_.get((eu.profiles[i].id, ca.profiles[j].id)) for i, j in zip(ei, ci, strict=True)]
    args = (m.weights_.weights, m.weights_.bias, m.corpus_.taxonomy, m.features_.tfidf_)
    batch = explain_pairs(eu, ei, ca, ci, stats.score, stats.signals, (stats.rank_eu_to_ca, stats.rank_ca_to_eu), *args, known)
    single = [
        explain_pair(
            eu, int(i), ca, int(j), float(stats.score[p]), {name: float(stats.signals[name][p]) for name in SIGNALS},
            (stats.rank_eu_to_ca[p], stats.rank_ca_to_eu[p]), *args, known[p],
        )
        for p, (i, j) in enumerate(zip(ei, ci, strict=True))
    ]
    return batch, single


def test_batch_explanations_equal_the_one_pair_function(tfidf_matcher):
    ei, ci = _pairs(tfidf_matcher)
    batch, single = _both(tfidf_matcher, ei, ci)
    assert len(batch) == len(single) > 300
    assert any(ex.known_partner for ex in single) and any(ex.terms for ex in single) and any(not ex.shared_sectors for ex in single)
    for b, s in zip(batch, single, strict=True):
        assert b == s
        assert b.to_json() == s.to_json()


def test_batch_explanations_do_not_depend_on_chunking(tfidf_matcher, monkeypatch):
    ei, ci = _pairs(tfidf_matcher, n_random=50, seed=1)
    _, single = _both(tfidf_matcher, ei, ci)
    import matcher._blas

    monkeypatch.setattr(explain, "PAIR_CHUNK", 7)
    monkeypatch.setattr(explain, "EVIDENCE_PART_PAIRS", 1)  # evidence in parts of one pair, on 4 threads
    monkeypatch.setattr(matcher._blas, "local_threads", lambda: 4)
    batch, _ = _both(tfidf_matcher, ei, ci)
    assert batch == single


@pytest.mark.parametrize("part", [1, 3, 50])
def test_batch_terms_picked_in_parts_on_threads_equal_the_one_pair_function(tfidf_matcher, monkeypatch, part):
    import matcher._blas

    ei, ci = _pairs(tfidf_matcher, n_random=50, seed=3)
    _, single = _both(tfidf_matcher, ei, ci)
    monkeypatch.setattr(explain, "TERMS_PART_PAIRS", part)
    monkeypatch.setattr(matcher._blas, "local_threads", lambda: 4)
    batch, _ = _both(tfidf_matcher, ei, ci)
    assert sum(bool(ex.terms) for ex in single) > 50
    assert [ex.terms for ex in batch] == [ex.terms for ex in single]


def test_summary_rows_taken_chunk_by_chunk_are_the_columns_rows(tfidf_matcher, monkeypatch):
    """summary_at gives the rows a plain take gives, in the asked order: repeats, every chunk, none."""
    from matcher.explain import explain_batch

    m = tfidf_matcher
    ei, ci = _pairs(m, n_random=50, seed=2)
    stats = pair_stats(m.scorer_, ei, ci)
    monkeypatch.setattr(explain, "PAIR_CHUNK", 7)
    pairs = explain_batch(
        m.eu_features_, ei, m.ca_features_, ci, stats.score, stats.signals, (stats.rank_eu_to_ca, stats.rank_ca_to_eu),
        m.weights_.weights, m.weights_.bias, m.corpus_.taxonomy, m.features_.tfidf_, evidence=False,
    )
    assert pairs.summary.num_chunks > 10
    rng = np.random.default_rng(0)
    for at in (rng.permutation(len(pairs)), rng.integers(0, len(pairs), 40), np.array([3, 3, 0, len(pairs) - 1]), np.zeros(0, np.int64)):
        got = pairs.summary_at(at)
        assert got.type == pairs.summary.type and got.to_pylist() == [pairs.summary[int(p)].as_py() for p in at]


def test_batch_of_no_pairs_is_empty(tfidf_matcher):
    m = tfidf_matcher
    empty = np.zeros(0, dtype=np.int64)
    got = explain_pairs(m.eu_features_, empty, m.ca_features_, empty, np.zeros(0), {}, (empty, empty), m.weights_.weights, 0.0, m.corpus_.taxonomy, m.features_.tfidf_)
    assert got == []


def _greedy_reference(sim: np.ndarray, n: int) -> list[tuple[int, int, float]]:
    """The rule spelled out: cells by descending value, ties by flat index, rows and columns used once."""
    order = np.lexsort((np.arange(sim.size), -sim.ravel()))
    used_r, used_c, out = set(), set(), []
    for flat in order:
        i, j = divmod(int(flat), sim.shape[1])
        if i in used_r or j in used_c:
            continue
        used_r.add(i)
        used_c.add(j)
        out.append((i, j, float(sim[i, j])))
        if len(out) == n:
            break
    return out


@settings(max_examples=200, deadline=None)
@given(
    st.lists(arrays(np.float32, st.tuples(st.integers(1, 5), st.integers(1, 5)), elements=st.sampled_from([-1.0, -0.0, 0.0, 0.25, 0.5, 1.0])), min_size=1, max_size=6),
    st.integers(1, 4),
)
def test_evidence_picks_follow_the_rule(mats, n):
    # Pair p: European sentence vectors are the rows of mats[p], Canadian ones the unit vectors,
    # so the similarities are mats[p] itself (exact: one product by 1, the rest by 0).
    dim = max(m.shape[1] for m in mats)
    eu_vecs = [np.pad(m, ((0, 0), (0, dim - m.shape[1]))) for m in mats]
    ca_vecs = [np.eye(dim, dtype=np.float32)[: m.shape[1]] for m in mats]
    at = np.arange(len(mats))
    rows, cols, vals = explain._evidence_picks(eu_vecs, at, ca_vecs, at, n)
    for p, m in enumerate(mats):
        got = [(int(i), int(j), float(v)) for i, j, v in zip(rows[p], cols[p], vals[p], strict=True) if v != -np.inf]
        assert got == _greedy_reference(m, n)


@pytest.mark.parametrize("n", [1, 3])
def test_evidence_pairs_of_a_profile_without_sentences_is_empty(n):
    vecs = np.ones((2, 4), dtype=np.float32)
    assert explain.evidence_pairs([], ["a", "b"], vecs[:0], vecs, n) == ()
    assert len(explain.evidence_pairs(["x", "y"], ["a", "b"], vecs, vecs, n)) == min(n, 2)


def test_batch_without_evidence_differs_only_in_evidence(tfidf_matcher):
    from dataclasses import replace

    m = tfidf_matcher
    ei, ci = _pairs(m, n_random=20, seed=2)
    stats = pair_stats(m.scorer_, ei, ci)
    args = (m.eu_features_, ei, m.ca_features_, ci, stats.score, stats.signals, (stats.rank_eu_to_ca, stats.rank_ca_to_eu), m.weights_.weights, m.weights_.bias, m.corpus_.taxonomy, m.features_.tfidf_)
    full, bare = explain_pairs(*args), explain_pairs(*args, evidence=False)
    assert any(ex.evidence for ex in full) and not any(ex.evidence for ex in bare)
    assert [replace(ex, evidence=()) for ex in full] == bare


def test_equal_values_share_one_contribution_and_signed_zeros_stay_apart(tfidf_matcher):
    m = tfidf_matcher
    ei, ci = np.array([0, 1, 2], dtype=np.int64), np.array([0, 0, 0], dtype=np.int64)
    values = {name: np.array([0.0, -0.0, 0.0], dtype=np.float32) for name in SIGNALS}
    got = explain_pairs(m.eu_features_, ei, m.ca_features_, ci, np.zeros(3), values, (ei + 1, ci + 1), m.weights_.weights, 0.0, m.corpus_.taxonomy, m.features_.tfidf_)
    first, second, third = (ex.contributions[0] for ex in got)
    assert first is third and str(second.value) == "-0.0" and str(first.value) == "0.0"


def _reference_terms(eu_row, ca_row, vocabulary, eu, ca, n: int = 8) -> tuple[str, ...]:
    """The matching-terms rule spelled out in Python: shared keywords, then common terms by
    descending product of weights (ties by term index), no word listed twice: a term is skipped
    when it is a keyword, one word twice, or holds a word of a keyword or of a picked bigram; a bigram holding words
    picked on their own takes the first one's place and drops the other."""
    idx, ie, ic = np.intersect1d(eu_row[0], ca_row[0], assume_unique=True, return_indices=True)
    prod = eu_row[1][ie] * ca_row[1][ic]
    keywords = sorted({k.lower() for k in eu.keywords} & {k.lower() for k in ca.keywords})
    kw_words = {w for t in keywords for w in t.split()}
    picked: list[str] = []
    for j in idx[np.lexsort((idx, -prod))].tolist():
        if len(keywords) + len(picked) >= n:
            break
        term = str(vocabulary[j])
        words = term.split()
        bigram_words = {w for t in picked if " " in t for w in t.split()}
        if term in keywords or kw_words & set(words) or bigram_words & set(words) or (len(words) == 2 and words[0] == words[1]):
            continue
        alone = [q for q, t in enumerate(picked) if t in words]
        if len(words) == 2 and alone:
            picked[alone[0]] = term
            for q in reversed(alone[1:]):
                del picked[q]
        else:
            picked.append(term)
    return tuple(keywords[:n]) + tuple(picked)


def test_term_picks_list_no_word_twice():
    from dataclasses import dataclass

    from matcher.features import TfidfIndex

    @dataclass
    class P:
        keywords: tuple = ()

    # Common terms by product: supply, "supply chain" = chain, "logistics supply" = logistics = "chain logistics".
    texts = ["supply chain logistics supply chain supply", "supply chain ports supply chain logistics supply", "wind solar grid"]
    lexicon = TfidfIndex()
    x = lexicon.fit_transform(texts).tocsr()
    x.sort_indices()

    def picks(keywords: tuple) -> tuple[str, ...]:
        people = [P(keywords), P(keywords)]
        return explain._pick_terms(x, np.array([0]), x, np.array([1]), people, people, lexicon, 8)[0]

    # "supply chain" takes the place of "supply"; "chain" and the bigrams holding a word of it are left out.
    assert picks(()) == ("supply chain", "logistics")
    # A keyword's words keep out every term holding them: "logistics supply" then takes the place of "supply".
    assert picks(("Chain",)) == ("chain", "logistics supply")
    assert picks(("logistics",)) == ("logistics", "supply chain")
    row = lambda i: (x.indices[x.indptr[i] : x.indptr[i + 1]], x.data[x.indptr[i] : x.indptr[i + 1]])  # noqa: E731
    for kw in ((), ("Chain",), ("logistics",)):
        assert picks(kw) == _reference_terms(row(0), row(1), lexicon.vocabulary_, P(kw), P(kw), 8)


@pytest.mark.parametrize("n", [8, 3, 1])
def test_compiled_term_picks_follow_the_rule(tfidf_matcher, n):
    m = tfidf_matcher
    ei, ci = _pairs(m, n_random=200, seed=3)
    eu, ca, lexicon = m.eu_features_, m.ca_features_, m.features_.tfidf_
    got = explain._pick_terms(eu.lexical, ei, ca.lexical, ci, eu.profiles, ca.profiles, lexicon, n)
    want = [_reference_terms(eu.lexical_row(i), ca.lexical_row(j), lexicon.vocabulary_, eu.profiles[i], ca.profiles[j], n) for i, j in zip(ei.tolist(), ci.tolist(), strict=True)]
    assert got == want
    assert any(len(t) == n for t in want) and any(" " in term for t in want for term in t)  # full lists and bigrams occur
    for terms, i, j in zip(got, ei.tolist(), ci.tolist(), strict=True):  # after the keywords, no word twice
        keywords = {k.lower() for k in eu.profiles[i].keywords} & {k.lower() for k in ca.profiles[j].keywords}
        words = [w for term in terms[len(keywords) :] for w in term.split()]
        assert len(set(words)) == len(words) and not set(words) & {w for k in keywords for w in k.split()}


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["solar", "panel", "grid", "storage", "battery", "hydrogen", "wind"]), min_size=1, max_size=12).map(" ".join), min_size=2, max_size=8), st.integers(1, 6))
def test_compiled_term_picks_follow_the_rule_on_random_texts(texts, n):
    from dataclasses import dataclass

    from matcher.features import TfidfIndex

    @dataclass
    class P:
        keywords: tuple = ()

    lexicon = TfidfIndex()
    x = lexicon.fit_transform(texts).tocsr()
    x.sort_indices()
    kws = [P(("Grid", "solar panel")) if i % 2 else P(("grid",)) for i in range(len(texts))]
    ei, ci = (np.array(a, np.int64) for a in zip(*[(i, j) for i in range(len(texts)) for j in range(len(texts))], strict=True))
    got = explain._pick_terms(x, ei, x, ci, kws, kws, lexicon, n)
    row = lambda i: (x.indices[x.indptr[i] : x.indptr[i + 1]], x.data[x.indptr[i] : x.indptr[i + 1]])  # noqa: E731
    assert got == [_reference_terms(row(i), row(j), lexicon.vocabulary_, kws[i], kws[j], n) for i, j in zip(ei.tolist(), ci.tolist(), strict=True)]


def test_evidence_similarities_are_the_float64_products_rounded_to_float32():
    """Random unit vectors: the picks and values are those of the dense product (row_dots) under the rule."""
    from matcher.score import normalize_rows, row_dots

    rng = np.random.default_rng(4)
    eu_vecs = [normalize_rows(rng.standard_normal((k, 24)).astype(np.float32)) for k in (1, 3, 7, 0, 5)]
    ca_vecs = [normalize_rows(rng.standard_normal((k, 24)).astype(np.float32)) for k in (4, 2, 6)]
    ei, ci = np.array([0, 1, 2, 3, 4, 2, 1]), np.array([0, 1, 2, 0, 1, 0, 2])
    rows, cols, vals = explain._evidence_picks(eu_vecs, ei, ca_vecs, ci, 3)
    for p, (i, j) in enumerate(zip(ei, ci, strict=True)):
        want = _greedy_reference(row_dots(eu_vecs[i], ca_vecs[j]), 3) if len(eu_vecs[i]) else []
        got = [(int(r), int(c), float(v)) for r, c, v in zip(rows[p], cols[p], vals[p], strict=True) if v != -np.inf]
        assert got == want
