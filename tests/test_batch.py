"""details.json's pairs say what the explanations say."""

from __future__ import annotations

import pytest

from matcher.batch import build_details, details_pieces


def test_details_pairs_are_the_explanations(tfidf_matcher):
    m = tfidf_matcher
    proposals = m.propose(5)
    details = build_details(m, proposals)
    explanations = proposals.explanations
    assert set(details["pairs"]) == {f"{e}|{c}" for e, c in explanations} and len(explanations) > 500
    with_evidence = 0
    for (eu_id, ca_id), ex in explanations.items():
        got = details["pairs"][f"{eu_id}|{ca_id}"]
        assert got["score"] == round(ex.score, 6)
        assert got["contributions"] == {c.signal: round(c.contribution, 6) for c in ex.contributions}
        assert got["shared_sectors"] == list(ex.shared_sectors) and got["related_sectors"] == list(ex.related_sectors)
        assert got["terms"] == list(ex.terms) and got["summary"] == ex.summary and got["known_partner"] == ex.known_partner
        assert got["ranks"] == [ex.rank_eu_to_ca, ex.rank_ca_to_eu]
        eu_sents, ca_sents = details["profiles"][eu_id]["sentences"], details["profiles"][ca_id]["sentences"]
        # Evidence points at the first sentence equal to the picked one, with its rounded similarity.
        assert [[eu_sents.index(e.eu_sentence), ca_sents.index(e.ca_sentence), e.similarity] for e in ex.evidence] == got["evidence"]
        with_evidence += bool(ex.evidence)
    assert with_evidence > 500


def _json_of(obj) -> bytes:
    import json

    return (json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def _details_oracle(m, proposals) -> dict:
    """details.json's object built pair by pair from the one-pair Explanations: the oracle of the
    column-by-column writer."""
    from matcher.batch import _details_head, _details_profiles

    pairs = {}
    for (eu_id, ca_id), ex in proposals.explanations.items():
        eu_sents, ca_sents = m.eu_features_.sentences[m.eu_index_[eu_id]], m.ca_features_.sentences[m.ca_index_[ca_id]]
        pairs[f"{eu_id}|{ca_id}"] = {
            "score": round(ex.score, 6),
            "contributions": {c.signal: round(c.contribution, 6) for c in ex.contributions},
            "shared_sectors": list(ex.shared_sectors),
            "related_sectors": list(ex.related_sectors),
            "evidence": [[eu_sents.index(e.eu_sentence), ca_sents.index(e.ca_sentence), e.similarity] for e in ex.evidence],
            "terms": list(ex.terms),
            "known_partner": ex.known_partner,
            "ranks": [ex.rank_eu_to_ca, ex.rank_ca_to_eu],
            "summary": ex.summary,
        }
    return {**_details_head(m), "profiles": _details_profiles(m), "pairs": pairs}


@pytest.mark.parametrize("evidence", [True, False])
@pytest.mark.parametrize("filters", [{}, {"countries": ["FR", "CA"]}, {"sectors": ["coal_mining"]}])
def test_details_bytes_are_the_json_of_the_details_object(tfidf_matcher, monkeypatch, evidence, filters):
    """details_pieces writes, column by column, json.dumps of the object built pair by pair, in any chunking."""
    import matcher.batch

    m = tfidf_matcher
    proposals = m.propose(7, evidence=evidence, **filters)
    want = _json_of(_details_oracle(m, proposals))
    assert b"".join(details_pieces(m, proposals)) == want
    monkeypatch.setattr(matcher.batch, "DETAILS_CHUNK", 13)
    assert b"".join(details_pieces(m, proposals)) == want
    assert filters.get("sectors") or len(proposals.pairs) > 100


def test_details_bytes_escape_quotes_backslashes_and_control_characters(tmp_path):
    from matcher import Matcher

    from .conftest import profile, write_corpus

    odd = 'Grappe "Électro" \\ nord\ttab'
    corpus = write_corpus(tmp_path / "odd", [
        profile("eu-odd", "eu", "FR", ["automotive"], "electric vehicles and batteries", name=odd, keywords=['say "ev"', "back\\slash", "battery"]),
        profile("eu-two", "eu", "DE", ["automotive"], "electric vehicles and charging"),
        profile("ca-odd", "ca", None, ["automotive"], "electric vehicles and battery supply chains", keywords=['say "ev"', "back\\slash", "battery"]),
        profile("ca-two", "ca", None, ["automotive"], "battery recycling and electric vehicles"),
    ])
    m = Matcher(backend="tfidf", gold=False).fit(corpus)
    proposals = m.propose(2)
    details = _details_oracle(m, proposals)
    assert any(odd in p["summary"] for p in details["pairs"].values())
    assert any('say "ev"' in p["terms"] for p in details["pairs"].values())
    assert b"".join(details_pieces(m, proposals)) == _json_of(details)
    assert build_details(m, proposals) == details
