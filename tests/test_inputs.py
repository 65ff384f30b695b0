"""Every bad input gets one clear error: the probes of issue 13, each with its exact message.

Corpus files (CSV limits and shape, YAML/JSON values the parsers refuse), user versus bundled rules,
weights files, and the library's parameter checks. The command line's checks are in test_cli.py.
"""

from __future__ import annotations

import csv
import inspect
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import yaml

import matcher
from matcher import CorpusError, ParameterError, WeightsError, errors, load_corpus
from matcher.corpus import MAX_FIELD_CHARS
from matcher.rank import top_k
from matcher.score import Scorer, cosine_similarity, fuse
from matcher.weights import Weights, load_weights

from .conftest import description, profile, write_corpus

COLUMNS = ["id", "name", "side", "country", "kind", "sectors", "description", "languages", "sources", "reviewed"]


def row(pid: str, side: str = "eu", text: str | None = None) -> dict:
    p = profile(pid, side, reviewed="2026-12-03")
    return {**p, "sectors": ";".join(p["sectors"]), "languages": "en", "sources": p["sources"][0], "description": text or p["description"]}


def write_csv(path: Path, rows: list[dict], columns: list[str] = COLUMNS) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def message(path) -> str:
    with pytest.raises(CorpusError) as info:
        load_corpus(path)
    return str(info.value)


# ---------------------------------------------------------------- CSV limits and shape


def test_csv_field_over_the_default_limit_loads(tmp_path, caplog):
    text = " ".join(["word"] * 40_000)  # 200k characters: over the csv module's default 131,072
    path = write_csv(tmp_path / "big.csv", [row("eu-a", text=text), row("ca-a", "ca")])
    with caplog.at_level(logging.WARNING):
        corpus = load_corpus(path)
    assert corpus.get("eu-a").description == text
    assert corpus.warnings == (
        "description outside 80-250 words in 1 profile (kept: a description of any length is embedded in 150-word windows): eu-a (40000 words)",
    )
    assert f"corpus {str(path)!r}: description outside 80-250 words in 1 profile" in caplog.text


def test_csv_field_over_the_stated_maximum_names_line_and_column(tmp_path):
    path = write_csv(tmp_path / "huge.csv", [row("eu-a"), row("eu-big", text="x" * (MAX_FIELD_CHARS + 1)), row("Bad Id")])
    assert message(path) == (
        f"2 problems in corpus {str(path)!r}:\n"
        f"  {path}:3 [eu-big] description: got '10,000,001 characters'; expected at most 10,000,000 characters in one field\n"
        f"  {path}:4 [Bad Id] id: got 'Bad Id'; expected a slug of lowercase letters, digits and single hyphens, e.g. 'aero-montreal'"
    )


def test_csv_missing_required_column_is_one_problem_listing_the_header(tmp_path):
    columns = [c for c in COLUMNS if c != "description"]
    path = write_csv(tmp_path / "p.csv", [row(f"eu-{i}") for i in range(30)], columns)
    assert message(path) == (
        f"1 problem in corpus {str(path)!r}:\n"
        f"  {path}:1 description: got no such column; expected a column 'description': the field is required; "
        "the header has 9 columns: id, name, side, country, kind, sectors, languages, sources, reviewed"
    )


def test_csv_unknown_column_is_a_warning_naming_the_closest(tmp_path):
    path = write_csv(tmp_path / "p.csv", [{**row("eu-a"), "keywrds": "x"}], [*COLUMNS, "keywrds"])
    assert load_corpus(path).warnings == (f"unknown column 'keywrds' in {path} is ignored (did you mean 'keywords'?)",)
    assert message_strict(path) == (
        f"1 problem in corpus {str(path)!r}:\n"
        f"  {path}:1 header: got 'keywrds'; expected one of the known fields (did you mean 'keywords'?): "
        "id, name, side, country, kind, sectors, description, aliases, region, region_code, city, keywords, languages, "
        "founded, members, website, target_markets, sources, reviewed"
    )


def message_strict(path) -> str:
    with pytest.raises(CorpusError) as info:
        load_corpus(path, strict=True)
    return str(info.value)


def test_csv_repeated_column_and_empty_file(tmp_path):
    path = write_csv(tmp_path / "p.csv", [row("eu-a")], [*COLUMNS, "languages"])
    assert message(path).endswith(f"{path}:1 header: got 'languages'; expected each column once; 'languages' appears 2 times")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    assert message(empty) == (
        f"1 problem in corpus {str(empty)!r}:\n"
        f"  {empty}:1 got 'an empty file'; expected a header line naming the columns, at least id, name, side, country, kind, sectors, description"
    )


# ---------------------------------------------------------------- bundled versus user rules


def test_user_corpus_with_a_long_description_loads_with_one_warning(tmp_path):
    records = [profile(f"eu-{i}", description=description("batteries", 400), reviewed="2026-12-03") for i in range(7)]
    folder = write_corpus(tmp_path / "c", [*records, profile("ca-a", "ca", reviewed="2026-12-03")])
    corpus = load_corpus(folder)
    assert len(corpus.profiles) == 8
    assert corpus.warnings == (
        "description outside 80-250 words in 7 profiles (kept: a description of any length is embedded in 150-word windows): "
        "eu-0 (407 words), eu-1 (407 words), eu-2 (407 words), eu-3 (407 words), eu-4 (407 words) and 2 more",
    )
    with pytest.raises(CorpusError) as info:
        load_corpus(folder, strict=True)
    problems = [str(p) for p in info.value.problems]
    assert len(problems) == 7
    assert problems[0] == f"{folder / 'profiles.yaml'}:8 [eu-0] description: got '407 words'; expected between 80 and 250 words"


def test_strict_rules_sources_and_review_date(tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a", sources=[], website="www.example.org")])
    assert load_corpus(folder).warnings == (
        "source or website that is not an http(s):// address (not linked in the report) in 1 profile: eu-a ('www.example.org')",
        "no sources in 1 profile: eu-a",
        "no review date in 1 profile: eu-a",
    )
    shown = message_strict(folder).splitlines()[1:]
    assert shown == [
        f"  {folder / 'profiles.yaml'}:21 [eu-a] website: got 'www.example.org'; expected an http(s):// address",
        f"  {folder / 'profiles.yaml'}:20 [eu-a] sources: got []; expected at least one public address the facts come from (every bundled profile cites its sources)",
        f"  {folder / 'profiles.yaml'}:1 [eu-a] reviewed: got None; expected the date the profile was last checked, as YYYY-MM-DD",
    ]


def test_the_bundled_corpus_gets_the_strict_rules_by_path_too(bundled):
    assert bundled.warnings == ()
    again = load_corpus(Path(matcher.corpus.bundled_path("corpus")))
    assert again.profiles == bundled.profiles and again.warnings == ()


def test_engine_checks_stay_errors_for_user_corpora(tmp_path):
    blank_sectors = profile("eu-c")
    blank_sectors["sectors"] = " ; "
    folder = write_corpus(
        tmp_path / "c",
        [
            profile("eu-a", description="   \n "),
            profile("eu-b", name=["A", "B"]),
            blank_sectors,
            profile("eu-d", side="us"),
            profile("eu-e", sectors=["aerospace"]),
        ],
    )
    lines = message(folder).splitlines()
    f = folder / "profiles.yaml"
    assert lines == [
        f"5 problems in corpus {str(folder)!r}:",
        f"  {f}:8 [eu-a] description: got '   \\n '; expected a value: this field is required",
        f"  {f}:14 [eu-b] name: got ['A', 'B']; expected text",
        f"  {f}:41 [eu-c] sectors: got ' ; '; expected a value: this field is required",
        f"  {f}:58 [eu-d] side: got 'us'; expected one of: eu, ca",
        f"  {f}:82 [eu-e] sectors: got 'aerospace'; expected a sector code of the taxonomy; closest: aerospace_vehicles_defence, paper_packaging, apparel",
    ]


# ---------------------------------------------------------------- values the parsers refuse


def test_yaml_values_the_parser_cannot_build(tmp_path):
    base = yaml.safe_dump([profile("eu-a", reviewed="2026-12-03")], sort_keys=False)
    bad_date = tmp_path / "date.yaml"
    bad_date.write_text(base.replace("reviewed: '2026-12-03'", "reviewed: 2026-13-45"))
    assert message(bad_date).splitlines()[1] == (
        f"  {bad_date}:22 [eu-a] reviewed: got 'month must be in 1..12'; expected a valid value (dates as YYYY-MM-DD, numbers of ordinary size)"
    )
    big = tmp_path / "big.yaml"
    big.write_text(base + "  founded: " + "9" * 5000 + "\n")
    assert message(big).splitlines()[1] == (
        f"  {big}:23 [eu-a] founded: got 'an integer longer than 4,300 digits'; expected a valid value (dates as YYYY-MM-DD, numbers of ordinary size)"
    )


def test_json_shapes_and_numbers_the_parser_refuses(tmp_path):
    cases = {
        "scalar.json": ("5", ":1 got 5; expected a JSON list of profile objects, one object, or {\"profiles\": [...]}"),
        "null.json": ("null", ":1 got None; expected a JSON list of profile objects, one object, or {\"profiles\": [...]}"),
        "deep.json": ("[" * 100_000 + "]" * 100_000, " got 'nesting deeper than the recursion limit'; expected valid JSON of profile records"),
        "big.json": ('[{"founded": ' + "9" * 5000 + "}]", " got 'an integer longer than 4,300 digits'; expected valid JSON with numbers of ordinary size"),
        "bad.json": ('[{"id": "eu-a",}]', ":1 got 'Expecting property name enclosed in double quotes'; expected valid JSON"),
    }
    for name, (text, tail) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert message(path) == f"1 problem in corpus {str(path)!r}:\n  {path}{tail}", name


def test_text_utf8_cannot_hold_is_an_error_naming_the_field(tmp_path):
    """JSON's escapes can make a lone surrogate, which no UTF-8 output can hold."""
    p = profile("eu-a", "eu", reviewed="2026-12-03")
    path = tmp_path / "surrogates.json"
    path.write_text(json.dumps([{**p, "name": "Bad \ud800 name", "keywords": ["ok", "x\udfff"]}]))
    assert message(path) == (
        f"2 problems in corpus {str(path)!r}:\n"
        f"  {path} [eu-a] name: got 'Bad \\ud800 name'; expected text that UTF-8 can hold (no lone surrogate code point such as \\ud800)\n"
        f"  {path} [eu-a] keywords: got ('ok', 'x\\udfff'); expected text items that UTF-8 can hold (no lone surrogate code point such as \\ud800)"
    )


def test_yaml_keys_that_are_not_text_are_unknown_fields(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump([{**profile("eu-a", reviewed="2026-12-03"), 1: "x"}]))
    assert load_corpus(path).warnings == ("unknown field '1' in 1 profile, ignored: eu-a",)


def test_user_taxonomy_and_partnerships_are_checked(tmp_path):
    folder = write_corpus(tmp_path / "t", [profile("eu-a")])
    (folder / "taxonomy.yaml").write_text("areas: [a\n")
    assert message(folder) == f"1 problem in taxonomy:\n  {folder / 'taxonomy.yaml'}:2 got 'while parsing a flow sequence'; expected valid YAML"
    folder = write_corpus(tmp_path / "p", [profile("eu-a"), profile("ca-a", "ca")])
    (folder / "partnerships.yaml").write_text(yaml.safe_dump([{"id": "x", "name": "X", "kind": "escp", "members": 5}]))
    assert message(folder).splitlines()[1] == f"  {folder / 'partnerships.yaml'}:3 [x] members: got 5; expected a list of text items"


# ---------------------------------------------------------------- weights files


def weights_message(tmp_path, text: str | bytes) -> str:
    path = tmp_path / "w.json"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(WeightsError) as info:
        load_weights(path)
    return str(info.value).replace(str(path), "w.json")


def test_weights_files_are_validated_like_corpus_files(tmp_path):
    assert weights_message(tmp_path, '{"weights": {"semantic": 0.5,}}') == (
        "1 problem in weights file 'w.json':\n  w.json:1 got 'Expecting property name enclosed in double quotes'; expected valid JSON"
    )
    bad = json.dumps({"weights": {"semantic": "high", "sectr": 0.2, "lexical": -1}, "bias": None, "name": 3}, indent=2)
    assert weights_message(tmp_path, bad) == (
        "5 problems in weights file 'w.json':\n"
        "  w.json:3 weights.semantic: got 'high'; expected a finite number >= 0 (a signal's weight)\n"
        "  w.json:4 weights.sectr: got 'sectr'; expected one of the signals (did you mean 'sector'?): sector, semantic, lexical, language, interest, related\n"
        "  w.json:5 weights.lexical: got -1; expected a finite number >= 0 (a signal's weight)\n"
        "  w.json:7 bias: got None; expected a finite number\n"
        "  w.json:8 name: got 3; expected text"
    )
    assert weights_message(tmp_path, "[1, 2]") == (
        "1 problem in weights file 'w.json':\n"
        "  w.json:1 got [1, 2]; expected a JSON object with 'weights' (signal: weight) and optionally 'bias', 'name', 'kind'"
    )
    assert weights_message(tmp_path, '{"bias": 0.1}') == (
        "1 problem in weights file 'w.json':\n"
        "  w.json weights: got None; expected an object mapping signals to weights: sector, semantic, lexical, language, interest, related"
    )
    assert weights_message(tmp_path, b'{"weights": {"semantic": 0.5}, "name": "caf\xe9"}') == (
        "1 problem in weights file 'w.json':\n"
        "  w.json:1 encoding: got b'\\xe9\"}'; expected UTF-8 text (byte 43 is not); re-save the file as UTF-8"
    )
    with pytest.raises(WeightsError, match=r"^weights file '.*nope.json' does not exist; expected a JSON file like models/weights/hand-set-v1.json$"):
        load_weights(tmp_path / "nope.json")


def test_weights_mapping_checks():
    with pytest.raises(WeightsError) as info:
        Weights({"semantic": float("nan"), "colour": 1.0}, bias="x")
    assert str(info.value) == (
        "3 problems in weights:\n"
        "  weights semantic: got nan; expected a finite number >= 0 (a signal's weight)\n"
        "  weights colour: got 'colour'; expected one of the signals: sector, semantic, lexical, language, interest, related\n"
        "  weights bias: got 'x'; expected a finite number"
    )
    assert isinstance(info.value, ParameterError) and isinstance(info.value, ValueError)


# ---------------------------------------------------------------- library parameter checks


def test_scoring_and_ranking_parameters_raise_parameter_errors():
    def msg(fn, *args, **kw):
        with pytest.raises(ParameterError) as info:
            fn(*args, **kw)
        return str(info.value)

    assert msg(fuse, {}, {}) == "fuse needs at least one of the signals sector, semantic, lexical, language, interest, related; got []"
    assert msg(fuse, {"sector": np.zeros((2, 3)), "semantic": np.zeros((2, 2))}, {"sector": float("inf")}) == (
        "2 problems with the parameters of fuse:\n"
        "  fuse needs signal matrices of one shape; got {'sector': (2, 3), 'semantic': (2, 2)}\n"
        "  fuse: the weight of 'sector' must be a finite number; got inf"
    )
    assert msg(cosine_similarity, np.zeros((2, 3)), np.zeros((2, 4))) == (
        "cosine_similarity: rows must have the same number of columns on both sides; got 3 and 4"
    )
    assert msg(top_k, np.zeros((2, 2)), -1) == "k must be a non-negative int; got -1"
    assert msg(top_k, np.array([[0.5, np.nan]]), 1) == "scores must not hold NaN (use -inf to exclude a column)"


def test_scorer_collects_every_problem(tfidf_matcher):
    import dataclasses

    eu, ca = tfidf_matcher.eu_features_, tfidf_matcher.ca_features_
    narrow = dataclasses.replace(ca, embeddings=ca.embeddings[:, :10])  # Canadian embeddings of the wrong width
    with pytest.raises(ParameterError) as info:
        Scorer(eu, narrow, {"semantic": -1.0, "colour": 1.0}, float("nan"), block_rows=0)
    assert str(info.value).splitlines() == [
        "5 problems with the parameters of Scorer:",
        "  Scorer: unknown signal(s) ['colour'] in weights; allowed signals: sector, semantic, lexical, language, interest, related",
        "  Scorer needs finite non-negative weights; got {'sector': 0.0, 'semantic': -1.0, 'lexical': 0.0, 'language': 0.0, 'interest': 0.0, 'related': 0.0}",
        "  Scorer: bias must be a finite number; got nan",
        "  block_rows must be a positive int; got 0",
        f"  Scorer: the two sides' embeddings must be matrices with the same number of columns; got shapes {eu.embeddings.shape} and ({len(ca)}, 10)",
    ]


def test_every_error_class_is_in_all_and_in_the_family():
    classes = {name for name, obj in inspect.getmembers(errors, inspect.isclass) if obj.__module__ == errors.__name__}
    assert classes == set(errors.__all__)
    for name in errors.__all__:
        cls = getattr(errors, name)
        assert issubclass(cls, errors.MatcherError)
        assert cls is errors.MatcherError or any(b.__module__ == "builtins" and b is not object for b in cls.__mro__[1:]), name
        assert getattr(matcher, name) is cls
