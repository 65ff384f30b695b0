"""details.json's pairs say what the explanations say."""

from __future__ import annotations

from matcher.batch import build_details


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
