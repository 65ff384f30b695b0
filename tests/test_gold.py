"""Gold files: the seed's agreements, and every way a gold file can be wrong."""

from __future__ import annotations

import logging

import pytest

from matcher import GoldError, load_corpus, load_gold
from matcher.gold import SIGNED_KINDS

HEADER = "eu_id,ca_id,kind,year,source,evidence\n"


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
        load_gold(write(tmp_path, "eu-autoo,ca-auto,mou,,x,e\neu-bio,ca-fod,mou,,x,e\n"), tiny)
    lines = str(info.value).splitlines()
    assert lines[0].startswith("2 problems in gold file")
    assert "gold.csv:2 [eu-autoo/ca-auto] eu_id: got 'eu-autoo'; expected a profile id of the corpus; closest ids: eu-auto" in lines[1]
    assert "gold.csv:3 [eu-bio/ca-fod] ca_id: got 'ca-fod'" in lines[2] and "closest ids: ca-food" in lines[2]


def test_same_side_pair_names_the_line(tiny, tmp_path):
    with pytest.raises(GoldError) as info:
        load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x,e\neu-auto,eu-bio,mou,,x,e\n"), tiny)
    (problem,) = info.value.problems
    assert (problem.line, problem.field, problem.value) == (3, "ca_id", "eu-bio")
    assert "a profile of side 'ca' (it is 'eu')" in problem.expected


def test_duplicate_pair_is_an_error_naming_both_lines(tiny, tmp_path):
    with pytest.raises(GoldError) as info:
        load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x,e\neu-bio,ca-food,mou,,x,e\neu-auto,ca-auto,agreement,,y,f\n"), tiny)
    (problem,) = info.value.problems
    assert str(problem).endswith("gold.csv:4 [eu-auto/ca-auto] eu_id: got 'eu-auto/ca-auto'; expected each pair once; the pair is already on line 2")


def test_every_provenance_problem_is_listed_at_once(tiny, tmp_path):
    path = tmp_path / "documented.csv"
    path.write_text(
        "eu_id,ca_id,kind,year,source_url,evidence,confidence\n"
        "eu-auto,ca-auto,mou,2019,,Both clusters announced a memorandum.,high\n"
        "eu-bio,ca-food,agreement,19,www.example.org/x,,certain\n"
        "eu-auto,ca-food,joint_programme,,https://example.org/call,A joint call.,medium\n",
        encoding="utf-8",
    )
    with pytest.raises(GoldError) as info:
        load_gold(path, tiny)
    lines = str(info.value).splitlines()
    assert lines[0] == f"5 problems in gold file {str(path)!r}:"
    assert [(p.line, p.field, p.value) for p in info.value.problems] == [
        (2, "source_url", ""), (3, "year", "19"), (3, "source_url", "www.example.org/x"), (3, "evidence", ""), (3, "confidence", "certain"),
    ]
    assert lines[1].endswith("documented.csv:2 [eu-auto/ca-auto] source_url: got ''; expected where the agreement is documented (the public address of the source)")
    assert lines[3].endswith("source_url: got 'www.example.org/x'; expected a public address starting with http:// or https://")
    assert lines[4].endswith("evidence: got ''; expected what the source says about the agreement, in a sentence")
    assert lines[5].endswith("confidence: got 'certain'; expected one of: high, medium")


def test_documented_row_keeps_its_provenance(tiny, tmp_path):
    path = tmp_path / "documented.csv"
    path.write_text(
        "eu_id,ca_id,eu_name,ca_name,kind,year,source_url,evidence,confidence\n"
        'eu-auto,ca-auto,Eu Auto,Ca Auto,joint_programme,2021,https://example.org/call,"A joint call, run by both.",medium\n',
        encoding="utf-8",
    )
    (pair,) = load_gold(path, tiny)
    assert (pair.kind, pair.year, pair.source, pair.evidence, pair.confidence, pair.file, pair.line) == (
        "joint_programme", 2021, "https://example.org/call", "A joint call, run by both.", "medium", "documented.csv", 2,
    )


def test_pair_in_two_files_is_counted_once(tiny, tmp_path, caplog):
    from matcher.gold import load_gold_files

    first = write(tmp_path, "eu-auto,ca-auto,mou,,x,e\n")
    second = tmp_path / "second.csv"
    second.write_text(HEADER + "eu-auto,ca-auto,agreement,,y,f\neu-bio,ca-food,mou,,z,g\n", encoding="utf-8")
    with caplog.at_level(logging.INFO):
        pairs = load_gold_files([first, second], tiny)
    assert [(g.eu_id, g.ca_id, g.file) for g in pairs] == [("eu-auto", "ca-auto", "gold.csv"), ("eu-bio", "ca-food", "second.csv")]
    assert "repeats the gold pair eu-auto/ca-auto of gold.csv" in caplog.text


def test_empty_gold_and_no_pair_of_selected_kind(tiny, tmp_path):
    with pytest.raises(GoldError, match="has no pair; expected at least one"):
        load_gold(write(tmp_path, ""), tiny)
    with pytest.raises(GoldError, match="has no pair of kind network"):
        load_gold(write(tmp_path, "eu-auto,ca-auto,mou,,x,e\n"), tiny, kinds=["network"])


def test_missing_columns_and_bad_kind(tiny, tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("eu,ca\neu-auto,ca-auto\n", encoding="utf-8")
    with pytest.raises(GoldError) as info:
        load_gold(path, tiny)
    assert str(info.value) == (
        f"gold file {str(path)!r} lacks column(s) eu_id, ca_id, source_url or source, evidence or note; found eu, ca; "
        "expected a CSV with columns eu_id, ca_id, source_url (or source), evidence (or note)[, kind, year, confidence]"
    )
    with pytest.raises(GoldError, match="kind: got 'treaty'; expected one of: mou, agreement, joint_programme, network"):
        load_gold(write(tmp_path, "eu-auto,ca-auto,treaty,,x,e\n"), tiny)


def test_documented_agreements_extend_the_seed_with_provenance(bundled):
    from matcher.gold import default_gold_paths, load_gold_files

    paths = {p.name: p for p in default_gold_paths()}
    assert set(paths) == {"seed_agreements.csv", "documented_agreements.csv"}
    documented = load_gold(paths["documented_agreements.csv"], bundled)
    seed = load_gold(paths["seed_agreements.csv"], bundled)
    assert len(documented) >= 40
    assert not {(g.eu_id, g.ca_id) for g in documented} & {(g.eu_id, g.ca_id) for g in seed}
    assert all(g.source.startswith(("http://", "https://")) and g.evidence and g.confidence in ("high", "medium") for g in documented)
    every = load_gold_files(None, bundled)
    assert len(every) == len(documented) + len(seed)
    # Agreements spread over many organisations, not a handful of hubs.
    assert len({g.eu_id for g in documented}) >= 30 and len({g.ca_id for g in documented}) >= 20


def test_known_partner_reads_every_bundled_gold_file(tfidf_matcher):
    assert tfidf_matcher.known_[("aerospace-valley", "aero-montreal")] == "mou"  # the seed's
    assert tfidf_matcher.known_[("gifas", "aero-montreal")] == "agreement"  # documented since


def test_gold_field_over_the_csv_limit_is_one_clear_error(tiny, tmp_path):
    import csv

    path = tmp_path / "huge.csv"
    path.write_text(HEADER + "eu-auto,ca-auto,mou,,x," + "e" * (csv.field_size_limit() + 1) + "\n", encoding="utf-8")
    with pytest.raises(GoldError) as info:
        load_gold(path, tiny)
    assert str(info.value).startswith(f"gold file {str(path)!r}:2: got a field the CSV reader refuses (field larger than field limit")
    assert str(info.value).endswith(f"expected fields of at most {csv.field_size_limit():,} characters")
