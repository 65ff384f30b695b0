"""Corpus stage: validation cases, round trip, and the bundled corpus's coverage rules."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import matcher
from matcher import CorpusError, load_corpus, write_profiles_csv
from matcher.corpus import EUROPEAN_COUNTRIES, corpus_stats

from .conftest import profile, write_corpus


def problems_of(path: Path, strict: bool | None = None) -> list:
    with pytest.raises(CorpusError) as info:
        load_corpus(path, strict=strict)
    return list(info.value.problems)


def one_problem(path: Path, strict: bool | None = None):
    found = problems_of(path, strict)
    assert len(found) == 1, [str(p) for p in found]
    return found[0]


def test_loads_tiny_corpus_sorted_and_frozen(tiny_corpus):
    corpus = load_corpus(tiny_corpus)
    assert [p.id for p in corpus.profiles] == ["ca-auto", "ca-food", "eu-auto", "eu-bio"]
    with pytest.raises(AttributeError):
        corpus.profiles[0].name = "x"
    assert corpus.get("eu-auto").sectors == ("automotive",)


def test_missing_required_field(tmp_path):
    rec = profile("eu-a")
    del rec["kind"]
    p = one_problem(write_corpus(tmp_path / "c", [rec]))
    assert (p.file, p.record, p.field) == (str(tmp_path / "c" / "profiles.yaml"), "eu-a", "kind")
    assert p.line == 1
    assert "required" in p.expected


def test_unknown_sector_suggests_close_codes(tmp_path):
    p = one_problem(write_corpus(tmp_path / "c", [profile("eu-a", sectors=["automotiv"])]))
    assert (p.record, p.field, p.value) == ("eu-a", "sectors", "automotiv")
    assert "closest: automotive" in p.expected


def test_duplicate_id_names_both_files(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a")], "one.yaml")
    write_corpus(folder, [profile("eu-a")], "two.yaml")
    p = one_problem(folder)
    assert p.field == "id" and p.record == "eu-a"
    assert p.file.endswith("two.yaml") and "one.yaml" in p.expected


def test_unknown_country_code(tmp_path):
    p = one_problem(write_corpus(tmp_path / "c", [profile("eu-a", country="fr")]))
    assert (p.field, p.value) == ("country", "fr")
    assert "did you mean 'FR'" in p.expected


def test_side_country_mismatch(tmp_path):
    p = one_problem(write_corpus(tmp_path / "c", [profile("ca-a", side="ca", country="FR")]))
    assert (p.record, p.field, p.value) == ("ca-a", "country", "FR")
    assert "'CA' for side 'ca'" in p.expected


def test_malformed_region_codes_name_the_expected_pattern(tmp_path):
    found = problems_of(write_corpus(tmp_path / "c", [
        profile("ca-a", side="ca", region_code=["QC"]),
        profile("eu-gr", country="GR", region_code=["GR30"]),
        profile("eu-uk", country="GB", region_code=["UKI3", "UKI"]),
        profile("eu-fr", country="FR", region_code=["FR10", "DE21"]),
    ]))
    assert [(p.record, p.field, p.value, p.expected) for p in found] == [
        ("ca-a", "region_code", "QC", "an ISO 3166-2 code of a Canadian province or territory such as 'CA-QC' or 'CA-ON'"),
        ("eu-gr", "region_code", "GR30", "a NUTS 2 code: EL followed by two letters or digits, such as 'EL10'"),
        ("eu-uk", "region_code", "UKI", "a NUTS 2 code: UK followed by two letters or digits, such as 'UK10'"),
        ("eu-fr", "region_code", "DE21", "a NUTS 2 code: FR followed by two letters or digits, such as 'FR10'"),
    ]
    ok = load_corpus(write_corpus(tmp_path / "ok", [profile("ca-b", side="ca", region_code=["CA-ON", "CA-QC"]), profile("eu-g", country="GR", region_code=["EL30"])]))
    assert ok.get("ca-b").region_code == ("CA-ON", "CA-QC") and ok.get("eu-g").region_code == ("EL30",)


def test_empty_and_short_description(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile(pid, description=text, reviewed="2026-12-03") for pid, text in (("eu-a", ""), ("eu-b", "Too short."))])
    (p,) = problems_of(folder)  # a user corpus: only the empty one is an error
    assert (p.record, p.field) == ("eu-a", "description") and "required" in p.expected
    by_record = {p.record: p for p in problems_of(folder, strict=True)}
    assert by_record["eu-a"].field == "description" and "required" in by_record["eu-a"].expected
    assert by_record["eu-b"].value == "2 words" and by_record["eu-b"].expected == "between 80 and 250 words"


def test_bad_encoding_names_file_and_line(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "latin1.yaml").write_bytes("id: eu-a\nname: Pôle\n".encode("latin-1"))
    p = one_problem(folder)
    assert p.file.endswith("latin1.yaml") and p.field == "encoding" and p.line == 2
    assert "UTF-8" in p.expected


def test_every_problem_is_listed_in_one_error(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a", kind="club"), profile("eu-b", side="us"), profile("Bad Id", sources=["https://example.org/x"])])
    with pytest.raises(CorpusError) as info:
        load_corpus(folder)
    message = str(info.value)
    assert message.startswith("3 problems in corpus")
    assert "[eu-a] kind: got 'club'; expected one of: cluster_organisation" in message
    assert "[eu-b] side: got 'us'" in message
    assert "[Bad Id] id: got 'Bad Id'" in message
    assert isinstance(info.value, ValueError) and isinstance(info.value, matcher.MatcherError)


def test_unknown_field_is_reported_with_suggestion(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a", keywrds=["x"], reviewed="2026-12-03")])
    p = one_problem(folder, strict=True)
    assert p.field == "keywrds" and "did you mean 'keywords'" in p.expected
    assert load_corpus(folder).warnings == ("unknown field 'keywrds' in 1 profile, ignored (did you mean 'keywords'?): eu-a",)


def test_csv_line_numbers(tmp_path):
    src = load_corpus(write_corpus(tmp_path / "c", [profile("eu-a"), profile("eu-b")]))
    out = write_profiles_csv(src.profiles, tmp_path / "p.csv")
    text = out.read_text(encoding="utf-8").replace("eu-b,Eu B,eu,FR", "eu-b,Eu B,eu,XX")
    out.write_text(text, encoding="utf-8")
    p = one_problem(out)
    assert (p.record, p.field, p.line) == ("eu-b", "country", 3)


def test_round_trip_csv_and_json_keep_every_field(bundled, tmp_path):
    out = write_profiles_csv(bundled.profiles, tmp_path / "all.csv")
    again = load_corpus(out)
    assert again.profiles == bundled.profiles
    import json

    (tmp_path / "all.json").write_text(json.dumps([p.to_record() for p in bundled.profiles], ensure_ascii=False), encoding="utf-8")
    assert load_corpus(tmp_path / "all.json").profiles == bundled.profiles


def test_missing_path_and_bad_suffix(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")
    (tmp_path / "x.txt").write_text("hi")
    with pytest.raises(CorpusError, match=r"suffix '\.txt'"):
        load_corpus(tmp_path / "x.txt")


# ---------------------------------------------------------------- the bundled corpus

REQUIRED_CA = ["aero-montreal", "criaq", "medteq", "ecotech-quebec", "cite-de-la-biotech", "saint-hyacinthe-technopole", "accord-marine", "technopole-maritime-quebec", "montreal-invivo", "cqdm", "bioquebec", "propulsion-quebec", "technomontreal", "cargom", "finance-montreal", "prima-quebec", "optonique", "aluquebec", "sherbrooke-innopole", "novarium", "scale-ai", "digital-supercluster", "protein-industries-canada", "ngen", "ocean-supercluster", "ontario-aerospace-council", "caric", "communitech", "life-sciences-ontario", "bioenterprise-canada", "natural-products-canada", "marine-renewables-canada", "cove", "oceans-advance", "foresight-canada"]
REQUIRED_EU = ["aerospace-valley", "skywin", "aviation-valley", "aquimer", "valorial", "biovalley-france", "tenerrdis", "green-tech-valley", "clean-denmark", "eehh", "tweed", "sustainable-business-hub", "wagralim", "vitagora", "foodvalley-nl", "nanoprogress", "packbridge", "plastiwin", "innovcluster", "biopmed", "biocat", "biom", "lyonbiopole", "optence", "human-technology-styria", "litek", "oekoenergie-cluster", "basque-energy-cluster", "merinova", "energyin", "aerospace-cluster-aura", "eskisehir-chamber-of-industry", "hegan", "hamburg-aviation", "niedersachsen-aviation", "aera", "bwcon", "moveo", "torino-wireless", "media-evolution", "safe-cluster", "bavairia", "lombardy-aerospace-cluster", "dta-puglia", "aed-cluster-portugal", "pole-mer-bretagne-atlantique", "pole-mer-mediterranee", "technopole-brest-iroise", "forum-oceano", "blue-cluster", "energy-cluster-denmark", "offshorevast", "gce-ocean-technology", "gce-node", "iceland-ocean-cluster", "biowin", "health-valley", "medicon-village", "medicon-valley-alliance", "medicen", "eurobiomed", "umweltcluster-bayern", "capenergies", "its-owl", "silicon-saxony", "minalogic", "systematic", "cap-digital", "optonet", "photonics-bw", "optecbb", "flanders-food", "agro-food-park", "pole-vehicule-du-futur", "cara", "automotive-cluster-slovenia"]


def test_bundled_corpus_coverage(bundled):
    stats = corpus_stats(bundled)
    assert stats["eu"]["profiles"] >= 400
    assert stats["ca"]["profiles"] >= 120
    assert len(set(stats["eu"]["countries"]) & EUROPEAN_COUNTRIES) >= 30
    assert len(stats["ca"]["regions"]) >= 8
    # Every Canadian profile names its province or territory; European ones have NUTS 2 codes where they have a home region.
    assert stats["ca"]["without_region_code"] == 0
    assert sum(stats["eu"]["regions"].values()) >= stats["eu"]["profiles"] // 2
    for side in ("eu", "ca"):
        assert all(n > 0 for n in stats[side]["areas"].values()), stats[side]["areas"]


def test_bundled_corpus_has_the_named_organisations(bundled):
    missing = [pid for pid in REQUIRED_CA + REQUIRED_EU if pid not in bundled.by_id]
    assert missing == []


def test_every_bundled_profile_cites_sources(bundled):
    assert [p.id for p in bundled.profiles if not p.sources] == []
    assert all(p.reviewed is not None for p in bundled.profiles)


def _names(p) -> set[str]:
    return {n for n in (p.name, *p.aliases) if len(n) >= 4}


def test_no_description_names_another_profile(bundled):
    """Descriptions, keywords and target markets never name another profile of the corpus."""
    patterns = {p.id: [re.compile(rf"(?<!\w){re.escape(n)}(?!\w)") for n in _names(p)] for p in bundled.profiles}
    offenders = []
    for p in bundled.profiles:
        text = " ".join([p.description, *p.keywords, *p.target_markets])
        for own in sorted(_names(p), key=len, reverse=True):  # a profile may name itself
            text = text.replace(own, " ")
        for other in bundled.profiles:
            if other.id == p.id or _names(other) & _names(p):
                continue
            hits = [rx.pattern for rx in patterns[other.id] if rx.search(text)]
            if hits:
                offenders.append((p.id, other.id, hits))
    assert offenders == []


def test_partnerships_derive_canada_targets(bundled):
    assert bundled.targets_canada("valorial")  # New Frontiers in Food targets Canada
    assert bundled.targets_canada("aerospace-valley")  # ABROAD
    assert not bundled.targets_canada("oekoenergie-cluster")  # REINA PLUS names North America only
    assert not bundled.targets_canada("skywin")


def test_stats_counts_match_profiles(bundled):
    stats = corpus_stats(bundled)
    assert stats["eu"]["profiles"] + stats["ca"]["profiles"] == len(bundled.profiles)
    assert sum(stats["eu"]["countries"].values()) == stats["eu"]["profiles"]
    assert stats["ca"]["countries"] == {"CA": stats["ca"]["profiles"]}
    for side in ("eu", "ca"):
        assert sum(stats[side]["regions"].values()) + stats[side]["without_region_code"] == stats[side]["profiles"]


def test_dta_puglia_aliases_name_the_technology_district_only(bundled):
    """'Distretto Aerospaziale Pugliese' is the productive district, a different body: not an alias."""
    assert bundled.get("dta-puglia").aliases == ("DTA", "DTA scarl", "Apulian Aerospace Technology District")


TINY_TAXONOMY = """\
version: 1
sources: [https://example.org/taxonomy]
areas: {mobility: Mobility, health: Health}
sectors:
  automotive: {label: Automotive, areas: [mobility]}
  plastics: {label: Plastics, areas: [mobility]}
  biopharmaceuticals: {label: Biopharmaceuticals, areas: [health]}
"""


def related_corpus(folder: Path, related: str) -> Path:
    """A corpus with its own three-sector taxonomy and related-sectors file."""
    write_corpus(
        folder,
        [
            profile("eu-auto", "eu", "FR", ["automotive"], "electric vehicles and batteries"),
            profile("ca-plastics", "ca", None, ["plastics"], "moulded polymer parts for vehicles"),
            profile("ca-bio", "ca", None, ["biopharmaceuticals"], "vaccines and biologics manufacturing"),
        ],
    )
    (folder / "taxonomy.yaml").write_text(TINY_TAXONOMY, encoding="utf-8")
    (folder / "related_sectors.yaml").write_text(related, encoding="utf-8")
    return folder


RELATED_OK = """\
version: 1
sources:
  src: {title: A source, url: "https://example.org/related"}
links:
  - {a: plastics, b: automotive, source: src, url: "https://example.org/related#1", note: "plastics supply the automotive cluster"}
"""


def test_related_links_are_read_beside_the_taxonomy(tmp_path):
    corpus = load_corpus(related_corpus(tmp_path / "c", RELATED_OK))
    tax = corpus.taxonomy
    assert dict(tax.related) == {("automotive", "plastics"): 1.0}  # stored in taxonomy order
    assert tax.relatedness("plastics", "automotive") == tax.relatedness("automotive", "plastics") == 1.0
    assert tax.relatedness("automotive", "biopharmaceuticals") == 0.0
    assert tax.related_sources == ("https://example.org/related",)


def test_areas_of_is_the_same_for_any_iterable_and_when_asked_again():
    tax = load_corpus().taxonomy
    codes = list(tax.sectors)
    for picked in (codes[:1], codes[3:7], codes[::5], []):
        # Brute force: the areas of the picked codes, in the taxonomy's area order.
        expected = tuple(a for a in tax.areas if any(a in tax.sectors[c].areas for c in picked))
        assert tax.areas_of(picked) == tax.areas_of(tuple(picked)) == tax.areas_of(iter(picked)) == expected
        assert tax.areas_of(tuple(picked)) == expected  # from what the first call found
    assert dict(tax.sector_order) == {c: j for j, c in enumerate(tax.sectors)}


def test_related_links_change_the_corpus_fingerprint(tmp_path):
    with_link = load_corpus(related_corpus(tmp_path / "a", RELATED_OK))
    without = load_corpus(related_corpus(tmp_path / "b", RELATED_OK.split("links:")[0] + "links: []\n"))
    assert with_link.fingerprint != without.fingerprint


def test_related_file_problems_are_listed_together(tmp_path):
    bad = """\
version: 1
sources:
  src: {title: A source, url: "https://example.org/related"}
links:
  - {a: automotiv, b: plastics, source: src, url: "https://example.org/x", note: n}
  - {a: plastics, b: plastics, source: src, url: "https://example.org/x", note: n}
  - {a: automotive, b: plastics, source: other, url: "not an address", note: "", strength: 2}
  - {a: automotive, b: plastics, source: src, url: "https://example.org/x", note: n}
  - {a: plastics, b: automotive, source: src, url: "https://example.org/y", note: n}
  - {a: plastics, b: biopharmaceuticals, source: src, url: "https://example.org/z", note: n, weight: 1}
"""
    folder = related_corpus(tmp_path / "c", bad)
    path = folder / "related_sectors.yaml"
    with pytest.raises(CorpusError) as info:
        load_corpus(folder)
    assert str(info.value) == "\n  ".join(
        [
            "8 problems in related sectors:",
            f"{path}:5 [link 1] a: got 'automotiv'; expected a fine sector code of the taxonomy (closest: automotive)",
            f"{path}:6 [link 2] b: got 'plastics'; expected a sector different from a (same-sector pairs are scored by sector overlap)",
            f"{path}:7 [link 3] source: got 'other'; expected one of the declared sources: src",
            f"{path}:7 [link 3] url: got 'not an address'; expected the http(s) address of the page that states the link",
            f"{path}:7 [link 3] note: got ''; expected what the source says about the link",
            f"{path}:7 [link 3] strength: got 2; expected a number in (0, 1]",
            f"{path}:9 [link 5] b: got 'automotive'; expected a pair not listed before (the same pair is at line 8)",
            f"{path}:10 [link 6] weight: got 1; expected only the keys a, b, note, source, strength, tier, url",
        ]
    )


def test_bundled_related_links_cite_their_source(bundled):
    tax = bundled.taxonomy
    assert len(tax.related) >= 50
    assert all(a != b and a in tax.sectors and b in tax.sectors for a, b in tax.related)
    assert tax.related_sources and all(s.startswith("https://") for s in tax.related_sources)
