"""The engine: explanations add up, filters, errors, determinism, known partners."""

from __future__ import annotations

import numpy as np
import pytest

from matcher import CorpusError, Matcher, NotFittedError, ParameterError, UnknownIdError, load_corpus
from matcher.score import SIGNALS

from .conftest import profile, write_corpus


def test_contributions_sum_to_score_for_every_row(tfidf_matcher):
    frame = tfidf_matcher.rankings("eu_to_ca", k=10)
    contrib = frame[[f"contrib_{s}" for s in SIGNALS]].sum(axis=1) + tfidf_matcher.weights_.bias
    np.testing.assert_allclose(contrib, frame["score"], rtol=0, atol=1e-12)
    for row in frame.head(50).itertuples():
        ex = tfidf_matcher.explain(row.query_id, row.candidate_id)
        assert ex.total() == pytest.approx(ex.score, abs=1e-12)
        assert [c.signal for c in ex.contributions] == list(SIGNALS)


def test_rank_is_sorted_with_ties_by_id_and_both_directions(tfidf_matcher):
    eu = tfidf_matcher.rank("skywin", k=15)
    assert list(eu["rank"]) == list(range(1, 16))
    assert eu["score"].is_monotonic_decreasing
    assert set(eu["candidate_country"]) == {"CA"}
    ca = tfidf_matcher.rank("aero-montreal", k=5)
    assert set(ca["candidate_id"]) <= {p.id for p in tfidf_matcher.eu_}


def test_rank_matches_full_scores(tfidf_matcher):
    i = tfidf_matcher.eu_index_["valorial"]
    row = tfidf_matcher.score_matrix()[i]
    best = sorted(range(len(row)), key=lambda j: (-row[j], tfidf_matcher.ca_[j].id))[:10]
    assert list(tfidf_matcher.rank("valorial", k=10)["candidate_id"]) == [tfidf_matcher.ca_[j].id for j in best]


def test_filters_apply_before_top_k(tfidf_matcher):
    only_fr = tfidf_matcher.rank("aero-montreal", k=10, countries=["FR"])
    assert len(only_fr) == 10 and set(only_fr["candidate_country"]) == {"FR"}
    health = tfidf_matcher.rank("skywin", k=5, areas="health_biosciences")
    for cid in health["candidate_id"]:
        assert "health_biosciences" in tfidf_matcher.corpus_.taxonomy.areas_of(tfidf_matcher.corpus_.get(cid).sectors)
    top = tfidf_matcher.rank("skywin", k=1)["candidate_id"][0]
    assert top not in set(tfidf_matcher.rank("skywin", k=10, exclude=[top])["candidate_id"])


def test_filters_that_leave_nothing_give_empty_frames(tfidf_matcher):
    frame = tfidf_matcher.rankings("eu_to_ca", k=5, kinds=["supercluster"], countries=["FR", "CA"], sectors=["tobacco"])
    assert len(frame) == 0 and "why" in frame.columns


def test_bad_filter_and_k_messages(tfidf_matcher):
    with pytest.raises(ParameterError, match=r"unknown filter\(s\) \['country'\]; allowed filters: countries"):
        tfidf_matcher.rank("skywin", country="FR")
    with pytest.raises(ParameterError, match=r"filter 'kinds' got unknown value\(s\) \['pole'\]; allowed: cluster_organisation"):
        tfidf_matcher.rank("skywin", kinds=["pole"])
    with pytest.raises(ParameterError, match="k must be a positive integer; got 0"):
        tfidf_matcher.rank("skywin", k=0)


def test_unknown_id_names_closest(tfidf_matcher):
    with pytest.raises(UnknownIdError, match=r"unknown profile id 'skywn'; closest ids: skywin"):
        tfidf_matcher.rank("skywn")
    with pytest.raises(UnknownIdError, match=r"filter 'exclude': unknown profile id 'medteqq'; closest ids: medteq"):
        tfidf_matcher.rank("skywin", exclude=["medteqq"])


def test_not_fitted_error():
    with pytest.raises(NotFittedError, match="not fitted yet; call fit"):
        Matcher(backend="tfidf").rank("skywin")


def test_parameters_are_stored_unchanged():
    weights = {"semantic": 1.0}
    m = Matcher(backend="tfidf", weights=weights, cache=False)
    assert m.weights is weights and m.backend == "tfidf" and m.cache is False


def test_one_sided_corpus_is_a_clear_error(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a"), profile("eu-b")])
    with pytest.raises(CorpusError, match="has no Canadian profiles; the matcher needs at least one profile on each side"):
        Matcher(backend="tfidf").fit(load_corpus(folder))


def test_known_partners_flagged_from_gold_never_scored(tfidf_matcher, bundled):
    ex = tfidf_matcher.explain("biovalley-france", "medteq")
    assert ex.known_partner == "agreement"
    unflagged = Matcher(backend="tfidf", gold=False).fit(bundled)
    assert unflagged.explain("biovalley-france", "medteq").known_partner is None
    np.testing.assert_array_equal(unflagged.score_matrix(), tfidf_matcher.score_matrix())


def test_explanation_parts(tfidf_matcher):
    ex = tfidf_matcher.explain("aero-montreal", "skywin")  # order of ids does not matter
    assert (ex.eu_id, ex.ca_id) == ("skywin", "aero-montreal")
    assert "Aerospace vehicles and defence" in ex.shared_sectors
    assert 1 <= len(ex.evidence) <= 3
    assert ex.evidence == tuple(sorted(ex.evidence, key=lambda e: -e.similarity))
    assert ex.summary.startswith("Skywin (BE) and Aéro Montréal (CA): same sector")
    assert '"contributions"' in ex.to_json()


def test_pairings_carry_both_ranks_and_reciprocal(tfidf_matcher):
    frame = tfidf_matcher.pairings(k=3)
    assert ((frame["rank_eu_to_ca"] <= 3) | (frame["rank_ca_to_eu"] <= 3)).all()
    np.testing.assert_allclose(frame["reciprocal_score"], 2 / (frame["rank_eu_to_ca"] + frame["rank_ca_to_eu"]))
    assert frame["reciprocal_score"].is_monotonic_decreasing
    row = frame.iloc[0]
    ex = tfidf_matcher.explain(row["eu_id"], row["ca_id"])
    assert (ex.rank_eu_to_ca, ex.rank_ca_to_eu) == (row["rank_eu_to_ca"], row["rank_ca_to_eu"])


@pytest.mark.slow
def test_real_model_proposes_same_sector_partners_for_aero_montreal(real_matcher):
    query = real_matcher.corpus_.get("aero-montreal")
    top = real_matcher.rank("aero-montreal", k=10)
    sectors = [real_matcher.corpus_.get(c).sectors for c in top["candidate_id"]]
    assert all(set(s) & set(query.sectors) for s in sectors)  # aerospace or mobility technologies
    assert sum("aerospace_vehicles_defence" in s for s in sectors[:3]) == 3
    assert real_matcher.backend_.identity.startswith("st:all-MiniLM-L6-v2")


def test_region_filter_restricts_only_the_side_it_names(tfidf_matcher):
    corpus = tfidf_matcher.corpus_
    ontario = tfidf_matcher.rank("skywin", k=50, regions=["CA-ON"])
    assert len(ontario) == min(50, sum("CA-ON" in p.region_code for p in corpus.ca))
    assert all("CA-ON" in corpus.get(c).region_code for c in ontario["candidate_id"])
    # A NUTS prefix selects every region below it; a Canadian code leaves the European side alone.
    south_west_france = tfidf_matcher.rank("aero-montreal", k=100, regions=["FRJ", "CA-QC"])
    assert len(south_west_france) > 0
    assert all(any(code.startswith("FRJ") for code in corpus.get(c).region_code) for c in south_west_france["candidate_id"])
    expected = sorted(p.id for p in corpus.eu if any(code.startswith("FRJ") for code in p.region_code))
    assert sorted(south_west_france["candidate_id"]) == expected[:100]
    with pytest.raises(ParameterError, match=r"filter 'regions' got malformed code\(s\) \['CA-XX', 'fr10'\]; expected ISO 3166-2 Canadian codes"):
        tfidf_matcher.rank("skywin", regions=["CA-XX", "fr10"])


def _copy_of(m, pid: str, new_id: str) -> dict:
    return m.corpus_.get(pid).to_record() | {"id": new_id}


@pytest.mark.parametrize("pid", ["skywin", "aero-montreal", "medteq", "aquimer", "mila"])
def test_rank_profile_of_a_copied_profile_gives_the_same_candidates_in_order(tfidf_matcher, pid):
    m = tfidf_matcher
    assert not any(pid in part.members for part in m.corpus_.partnerships)  # its declared targets are its own
    ours = m.rank(pid, k=15)
    new = m.rank_profile(_copy_of(m, pid, "brand-new-profile"), k=15)
    assert list(new["candidate_id"]) == list(ours["candidate_id"])
    assert set(new["query_id"]) == {"brand-new-profile"}
    np.testing.assert_array_equal(new["score"], ours["score"])
    cols = [c for c in ours.columns if c not in ("query_id", "known_partner")]  # gold names the corpus id only
    assert new[cols].equals(ours[cols])


def test_rank_profile_filters_and_validation(tfidf_matcher):
    m = tfidf_matcher
    only_fr = m.rank_profile(_copy_of(m, "aero-montreal", "draft"), k=5, countries=["FR"])
    assert len(only_fr) == 5 and set(only_fr["candidate_country"]) == {"FR"}
    with pytest.raises(CorpusError, match=r"sectors: got 'aerospace'; expected a sector code of the taxonomy"):
        m.rank_profile(_copy_of(m, "skywin", "bad") | {"sectors": ["aerospace"]})
    with pytest.raises(NotFittedError):
        Matcher(backend="tfidf").rank_profile(_copy_of(m, "skywin", "x"))


def test_explain_needs_no_ranking_and_matches_the_batch(tfidf_matcher):
    m = tfidf_matcher
    proposals = m.propose(5)
    (eu_id, ca_id), ex = next(iter(sorted(proposals.explanations.items())))
    assert m.explain(eu_id, ca_id) == ex


def test_exclude_known_leaves_out_documented_partners_before_the_top_k(tfidf_matcher):
    m = tfidf_matcher
    known = {c for e, c in m.known_ if e == "skywin"} | {e for e, c in m.known_ if c == "aero-montreal"}
    assert {"aero-montreal", "skywin"} <= known  # the seed's Skywin - Aéro Montréal MoU
    plain = m.rank("aero-montreal", k=10)
    new = m.rank("aero-montreal", k=10, exclude_known=True)
    assert len(new) == 10 and not set(new["candidate_id"]) & {e for e, c in m.known_ if c == "aero-montreal"}
    assert set(plain["candidate_id"]) & {e for e, c in m.known_ if c == "aero-montreal"}
    # The new list is the plain ranking with the known partners taken out (deeper ranks move up).
    deeper = m.rank("aero-montreal", k=60)
    expected = [c for c in deeper["candidate_id"] if (c, "aero-montreal") not in m.known_][:10]
    assert list(new["candidate_id"]) == expected
    eu_query = m.rank("skywin", k=5, exclude_known=True)
    assert not {("skywin", c) for c in eu_query["candidate_id"]} & set(m.known_)
    pairs = m.pairings(k=5, exclude_known=True)
    assert len(pairs) and not {(r.eu_id, r.ca_id) for r in pairs.itertuples()} & set(m.known_)
    with pytest.raises(ParameterError, match="filter 'exclude_known' must be True or False; got 'yes'"):
        m.rank("skywin", exclude_known="yes")


def test_related_sectors_contribute_and_are_named(tmp_path):
    from .test_corpus import RELATED_OK, related_corpus

    weights = tmp_path / "w.json"
    weights.write_text('{"weights": {"semantic": 0.5, "related": 0.25}}', encoding="utf-8")
    m = Matcher(backend="tfidf", weights=weights).fit(related_corpus(tmp_path / "c", RELATED_OK))
    frame = m.rank("eu-auto", k=2).set_index("candidate_id")
    # automotive / plastics is a documented link (value 1); automotive / biopharmaceuticals is not.
    assert frame.loc["ca-plastics", "contrib_related"] == pytest.approx(0.25)
    assert frame.loc["ca-bio", "contrib_related"] == 0.0
    assert frame.loc["ca-plastics", "related_sectors"] == "Automotive / Plastics"
    assert "related sectors: Automotive / Plastics" in frame.loc["ca-plastics", "why"]
    ex = m.explain("eu-auto", "ca-plastics")
    assert ex.related_sectors == ("Automotive / Plastics",)
    assert dict((c.signal, c.value) for c in ex.contributions)["related"] == pytest.approx(1.0)
    assert ex.total() == pytest.approx(ex.score, abs=1e-12)
