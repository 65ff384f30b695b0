"""Property-based tests (Hypothesis): the loaders on generated records, the scorer's contributions,
and exact top-k against a sorted brute force.

The loaders (YAML, JSON, CSV, gold CSV) get valid records, broken ones (random unicode, huge and
empty fields, missing and extra keys, wrong types, duplicate ids) and random text: they raise only
CorpusError / GoldError, never another exception, and accept every valid record they are given.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from matcher import CorpusError, GoldError, Matcher, load_corpus, load_gold
from matcher.corpus import ALL_FIELDS, KINDS, LIST_FIELDS, LIST_SEPARATOR, load_taxonomy
from matcher.rank import top_k, top_k_both_ways
from matcher.score import SIGNALS

SETTINGS = settings(
    deadline=None,
    derandomize=True,  # the same examples on every run: CI stays deterministic
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
SECTORS = sorted(load_taxonomy().sectors)
EU_COUNTRIES = ["FR", "DE", "BE", "IT", "ES", "SE", "PL", "GB", "NO", "TR"]

# Text without surrogates (they cannot be written as UTF-8); everything else, controls included.
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
WORD = st.text(st.characters(blacklist_categories=("Cs", "Z", "Cc"), blacklist_characters=LIST_SEPARATOR), min_size=1, max_size=12)
HUGE = st.sampled_from(["word " * 30_000, "x" * 140_000, ""])  # over the csv module's default field limit, or empty
SLUG = st.from_regex(r"[a-z0-9]{1,8}(-[a-z0-9]{1,8}){0,2}", fullmatch=True)
ANY_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | TEXT | HUGE,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)


@st.composite
def valid_record(draw, pid: str | None = None) -> dict:
    side = draw(st.sampled_from(["eu", "ca"]))
    words = draw(st.lists(WORD, min_size=1, max_size=30))
    rec = {
        "id": pid or draw(SLUG),
        "name": draw(WORD) + " " + draw(TEXT.map(lambda t: t.replace("\n", " "))),
        "side": side,
        "country": "CA" if side == "ca" else draw(st.sampled_from(EU_COUNTRIES)),
        "kind": draw(st.sampled_from(list(KINDS))),
        "sectors": draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=3, unique=True)),
        "description": " ".join(words) if draw(st.booleans()) else draw(HUGE.filter(bool)),
    }
    if draw(st.booleans()):
        rec["keywords"] = draw(st.lists(WORD, max_size=4))
        rec["languages"] = draw(st.lists(st.sampled_from(["en", "fr", "de", "it"]), max_size=3, unique=True))
        rec["founded"] = draw(st.integers(1800, 2025))
        rec["members"] = draw(st.integers(0, 10**6))
        rec["sources"] = [f"https://example.org/{draw(SLUG)}"]
        rec["reviewed"] = draw(st.dates(min_value=datetime.date(2000, 1, 1))).isoformat()
        rec["city"] = draw(WORD)
    return rec


@st.composite
def broken_record(draw) -> dict:
    rec = draw(valid_record())
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "extra", "retype", "huge", "empty"]))
        key = draw(st.sampled_from(list(ALL_FIELDS)))
        if action == "drop":
            rec.pop(key, None)
        elif action == "extra":
            rec[draw(TEXT)] = draw(ANY_VALUE)
        elif action == "retype":
            rec[key] = draw(ANY_VALUE)
        elif action == "huge":
            rec[key] = draw(HUGE)
        else:
            rec[key] = draw(st.sampled_from(["", [], None, "   "]))
    return rec


RECORDS = st.lists(st.one_of(valid_record(), broken_record()), min_size=1, max_size=5)


def csv_text(records: list[dict]) -> str:
    columns = list(dict.fromkeys(k for r in records for k in r))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([str(c) for c in columns])
    for r in records:
        row = []
        for c in columns:
            v = r.get(c, "")
            row.append(LIST_SEPARATOR.join(map(str, v)) if isinstance(v, list) else "" if v is None else str(v))
        w.writerow(row)
    return buf.getvalue()


def write(tmp: Path, fmt: str, records: list[dict]) -> Path:
    path = tmp / f"corpus.{fmt}"
    if fmt == "yaml":
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's: fast on huge fields
        path.write_text(yaml.dump(records, Dumper=dumper, allow_unicode=True, sort_keys=False), encoding="utf-8")
    elif fmt == "json":
        path.write_text(json.dumps(records, ensure_ascii=False, default=str), encoding="utf-8")
    else:
        path.write_text(csv_text(records), encoding="utf-8", newline="")
    return path


def expected_fields(rec: dict) -> dict:
    out = {}
    for name, value in rec.items():
        if name in LIST_FIELDS:
            out[name] = tuple(str(v).strip() for v in value if str(v).strip())
        elif name in ("founded", "members"):
            out[name] = value
        elif name != "reviewed":
            out[name] = str(value).strip()
    return out


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("props")


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
@SETTINGS
@given(records=RECORDS)
def test_corpus_loaders_raise_only_corpus_errors(tmp, fmt, records):
    path = write(tmp, fmt, records)
    try:
        corpus = load_corpus(path)
    except CorpusError as exc:
        assert exc.problems and str(exc).startswith(("1 problem in", f"{len(exc.problems)} problems in"))
        return
    assert corpus.profiles


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
@SETTINGS
@given(data=st.data())
def test_corpus_loaders_accept_every_valid_record(tmp, fmt, data):
    ids = data.draw(st.lists(SLUG, min_size=1, max_size=5, unique=True))
    records = [data.draw(valid_record(pid)) for pid in ids]
    corpus = load_corpus(write(tmp, fmt, records))
    assert sorted(p.id for p in corpus.profiles) == sorted(ids)
    for rec in records:
        prof = corpus.get(rec["id"])
        for name, value in expected_fields(rec).items():
            assert getattr(prof, name) == value, (name, value)


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
@settings(SETTINGS, max_examples=20)
@given(data=st.data())
def test_duplicate_ids_are_corpus_errors(tmp, fmt, data):
    pid = data.draw(SLUG)
    records = [data.draw(valid_record(pid)) for _ in range(2)]
    with pytest.raises(CorpusError, match=r"id: got .*; expected a unique id; already used in"):
        load_corpus(write(tmp, fmt, records))


@pytest.mark.parametrize("fmt", ["yaml", "json", "csv"])
@SETTINGS
@given(raw=st.binary(max_size=300) | TEXT.map(lambda t: t.encode("utf-8")))
def test_corpus_loaders_on_random_bytes(tmp, fmt, raw):
    path = tmp / f"random.{fmt}"
    path.write_bytes(raw)
    with contextlib.suppress(CorpusError):
        load_corpus(path)


GOLD_CORPUS = [
    {"id": "eu-a", "side": "eu", "country": "FR"},
    {"id": "eu-b", "side": "eu", "country": "DE"},
    {"id": "ca-a", "side": "ca", "country": "CA"},
    {"id": "ca-b", "side": "ca", "country": "CA"},
]


@pytest.fixture(scope="module")
def gold_corpus(tmp_path_factory):
    from .conftest import profile, write_corpus

    folder = tmp_path_factory.mktemp("gold-corpus")
    return load_corpus(write_corpus(folder, [profile(r["id"], r["side"], r["country"]) for r in GOLD_CORPUS]))


GOLD_COLUMNS = ["eu_id", "ca_id", "kind", "year", "source_url", "evidence", "confidence"]
GOLD_VALUES = {
    "eu_id": st.sampled_from(["eu-a", "eu-b", "eu-x", "ca-a", ""]),
    "ca_id": st.sampled_from(["ca-a", "ca-b", "ca-x", "eu-a", ""]),
    "kind": st.sampled_from(["mou", "agreement", "joint_programme", "network", "treaty", ""]),
    "year": st.sampled_from(["2017", "", "²", "١٩٩٩", "9" * 30, "20x", "-1"]),
    "source_url": st.sampled_from(["https://example.org", "www.example.org", ""]),
    "evidence": st.sampled_from(["Both parties announced a memorandum.", ""]),
    "confidence": st.sampled_from(["high", "medium", "certain", ""]),
}


@st.composite
def gold_table(draw) -> tuple[list[str], list[list[str]]]:
    header = draw(st.one_of(st.just(GOLD_COLUMNS), st.permutations(GOLD_COLUMNS), st.lists(st.sampled_from([*GOLD_COLUMNS, "source", "note"]) | TEXT, max_size=8)))
    rows = []
    for _ in range(draw(st.integers(0, 5))):
        cells = [draw(GOLD_VALUES.get(c, TEXT) | TEXT | HUGE) if draw(st.integers(0, 4)) == 0 else draw(GOLD_VALUES.get(c, TEXT)) for c in header]
        rows.append(cells + draw(st.lists(TEXT, max_size=2)) if draw(st.booleans()) else cells[: draw(st.integers(0, len(cells)))])
    return header, rows


@settings(SETTINGS, max_examples=200)
@given(table=gold_table())
def test_gold_loader_raises_only_gold_errors(tmp, gold_corpus, table):
    header, rows = table
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path = tmp / "gold.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    try:
        pairs = load_gold(path, gold_corpus)
    except GoldError:
        return
    assert pairs and all(p.eu_id.startswith("eu-") and p.ca_id.startswith("ca-") for p in pairs)


@SETTINGS
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from(["eu-a", "eu-b"]), st.sampled_from(["ca-a", "ca-b"]), st.sampled_from(["mou", "agreement", "joint_programme", "network"]),
                  st.integers(1950, 2030) | st.none(), TEXT.filter(lambda t: t.strip() and "\r" not in t), st.sampled_from(["high", "medium"])),
        min_size=1, max_size=4, unique_by=lambda t: (t[0], t[1]),
    )
)
def test_gold_loader_accepts_every_valid_row(tmp, gold_corpus, pairs):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["eu_id", "ca_id", "kind", "year", "source_url", "evidence", "confidence"])
    for e, c, k, y, ev, conf in pairs:
        w.writerow([e, c, k, "" if y is None else y, "https://example.org/a", ev, conf])
    path = tmp / "gold-valid.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    got = load_gold(path, gold_corpus)
    assert {(g.eu_id, g.ca_id): (g.kind, g.year, g.evidence, g.confidence) for g in got} == {
        (e, c): (k, y, ev.strip(), conf) for e, c, k, y, ev, conf in pairs
    }


# ---------------------------------------------------------------- the scorer


VOCAB = ["aircraft", "battery", "vaccine", "ocean", "sensor", "protein", "software", "steel", "robot", "solar", "hydrogen", "photonics"]


@st.composite
def small_corpus(draw) -> list[dict]:
    from .conftest import profile

    n_eu, n_ca = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    out = []
    for i in range(n_eu + n_ca):
        side = "eu" if i < n_eu else "ca"
        topic = " ".join(draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=6)))
        out.append(
            profile(
                f"{side}-{i}", side, None if side == "ca" else draw(st.sampled_from(EU_COUNTRIES)),
                draw(st.lists(st.sampled_from(SECTORS), min_size=1, max_size=3, unique=True)), topic,
                languages=draw(st.lists(st.sampled_from(["en", "fr", "de"]), max_size=3, unique=True)),
                target_markets=draw(st.lists(st.sampled_from(["CA", "FR", "DE", "EU"]), max_size=2, unique=True)),
                keywords=draw(st.lists(st.sampled_from(VOCAB), max_size=3)),
            )
        )
    return out


WEIGHTS = st.fixed_dictionaries({s: st.floats(0, 2) for s in SIGNALS})


@settings(SETTINGS, max_examples=25)
@given(records=small_corpus(), weights=WEIGHTS)
def test_contributions_add_up_for_generated_profiles(tmp, records, weights):
    from .conftest import write_corpus

    folder = write_corpus(tmp / "scorer", records)
    m = Matcher(backend="tfidf", weights=weights, gold=False).fit(folder)
    scores = m.score_matrix()
    for i, e in enumerate(m.eu_):
        for j, c in enumerate(m.ca_):
            ex = m.explain(e.id, c.id)
            assert ex.bias + sum(x.contribution for x in ex.contributions) == pytest.approx(ex.score, abs=1e-9)
            assert ex.score == pytest.approx(float(scores[i, j]), abs=1e-12)
            for x in ex.contributions:
                assert x.contribution == pytest.approx(weights[x.signal] * x.value, abs=1e-9)
                assert 0.0 <= x.value <= 1.0 + 1e-6


# ---------------------------------------------------------------- top-k


def brute(scores: np.ndarray, k: int) -> np.ndarray:
    return np.array([sorted(range(scores.shape[1]), key=lambda j: (-row[j], j))[:k] for row in scores], dtype=np.int64).reshape(scores.shape[0], -1)


TIES = st.sampled_from([0.0, 0.25, 0.5, 1.0, -np.inf])


@settings(SETTINGS, max_examples=150)
@given(scores=arrays(np.float32, st.tuples(st.integers(1, 25), st.integers(1, 70)), elements=TIES), k=st.integers(0, 80))
def test_top_k_equals_sorted_brute_force_with_ties(scores, k):
    idx, val = top_k(scores, k)
    expected = brute(scores, min(k, scores.shape[1]))
    np.testing.assert_array_equal(idx, expected)
    np.testing.assert_array_equal(val, np.take_along_axis(scores, expected, axis=1))


class MatrixScorer:
    """The scorer's block interface over a fixed score matrix."""

    def __init__(self, scores: np.ndarray, block: int) -> None:
        self.matrix, self.shape, self.block = scores, scores.shape, block

    def blocks(self) -> list[slice]:
        return [slice(s, min(s + self.block, self.shape[0])) for s in range(0, self.shape[0], self.block)]

    def signals(self, rows: slice) -> dict:
        return {}

    def scores(self, rows: slice, signals=None) -> np.ndarray:
        return self.matrix[rows].astype(np.float64)


@settings(SETTINGS, max_examples=80)
@given(
    scores=arrays(np.float32, st.tuples(st.integers(1, 30), st.integers(1, 30)), elements=TIES),
    k=st.integers(1, 12),
    block=st.integers(1, 12),
)
def test_blockwise_top_k_equals_sorted_brute_force_both_ways(scores, k, block):
    top = top_k_both_ways(MatrixScorer(scores, block), k)
    np.testing.assert_array_equal(top.row_idx, brute(scores, min(k, scores.shape[1])))
    np.testing.assert_array_equal(top.col_idx, brute(scores.T, min(k, scores.shape[0])))
    np.testing.assert_array_equal(top.row_val, np.take_along_axis(scores, top.row_idx, axis=1))
    np.testing.assert_array_equal(top.col_val, np.take_along_axis(scores.T, top.col_idx, axis=1))
