"""Gold files: the seed's agreements, and every way a gold file can be wrong."""

from __future__ import annotations

import logging

import pytest

from matcher import GoldError, load_corpus, load_gold
from matcher.gold import SIGNED_KINDS

HEADER = "eu_id,ca_id,kind,year,source\n"


@pytest.fixture
def tiny(tiny_corpus):
    return load_corpus(tiny_corpus)


def write(tmp_path, body: str):
    path = tmp_path / "gold.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_seed_gold_has_exactly_the_seed_agreements(bundled):
    signed = load_gold(None, bundled, kinds=SIGNED_KINDS)
    assert {(g.eu_id, g.ca_id) for g in signed} == {
        ("aerospace-valley", "aero-montreal"),
        ("aerospace-valley", "criaq"),
        ("skywin", "aero-montreal"),
        ("skywin", "criaq"),
        ("aviation-valley", "aero-montreal"),
        ("aquimer", "accord-marine"),
        ("valorial", "saint-hyacinthe-technopole"),
        ("biovalley-france", "medteq"),
    }
    network = load_gold(None, bundled, kinds=["network"])
    assert {g.ca_id for g in network} == {"ecotech-quebec"}
    assert all(g.source.startswith("seed ") for g in (*signed, *network))


def test_unknown_ids_listed_with_closest(tiny, tmp_path):
    with pytest.raises(GoldError) as info:
        load_gold(write(tmp_path, "eu-autoo,ca-auto,mou,,x\neu-bio,ca-fod,mou,,x\n"), tiny)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("2 problems in gold file")
    assert "gold.csv:2 [eu-autoo/ca-auto] eu_id: got 'eu-autoo'; expected a profile id of the corpus; closest ids: eu-auto" in lines[1]
    assert "gold.csv:3 [eu-bio/ca-fod] ca_id: got 'ca-fod'" in lines[2] and "closest ids: ca-food" in lines[2]


def test_same_side_pair_names_the_line(tiny, tmp_path):
    with pytest.raises(GoldError) as info:
        load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x\neu-auto,eu-bio,mou,,x\n"), tiny)
    (problem,) = info.value.problems
    assert (problem.line, problem.field, problem.value) == (3, "ca_id", "eu-bio")
    assert "a profile of side 'ca' (it is 'eu')" in problem.expected


def test_duplicates_counted_once_with_warning(tiny, tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        pairs = load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x\neu-auto,ca-auto,mou,,x\n"), tiny)
    assert len(pairs) == 1
    assert "gold.csv:3 duplicates the gold pair on line 2" in caplog.text


def test_empty_gold_and_no_pair_of_selected_kind(tiny, tmp_path):
    with pytest.raises(GoldError, match="has no pair; expected at least one"):
        load_gold(write(tmp_path, ""), tiny)
    with pytest.raises(GoldError, match="has no pair of kind network"):
        load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x\n"), tiny, kinds=["network"])


def test_missing_columns_and_bad_kind(tiny, tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("eu,ca\neu-auto,ca-auto\n", encoding="utf-8")
    with pytest.raises(GoldError, match="lacks column"):
        load_gold(path, tiny)
    with pytest.raises(GoldError, match="kind: got 'treaty'; expected one of: mou, agreement, network"):
        load_gold(write(tmp_path, "eu-auto,ca-auto,treaty,,x\n"), tiny)
