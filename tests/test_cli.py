"""The command line: outputs, byte-identical reruns, atomic writes, error format."""

from __future__ import annotations

import csv
import json
import os

import pytest

from matcher import CorpusError
from matcher.cli import main

from .conftest import profile, write_corpus


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_corpus_validate_and_stats(capsys):
    code, out, _ = run(capsys, "corpus", "validate")
    assert code == 0 and out.startswith("OK: ") and "gold pairs" in out
    code, out, _ = run(capsys, "corpus", "stats")
    assert code == 0 and "European profiles:" in out and "by priority area:" in out and "fields left empty" in out


def test_corpus_validate_reports_problems(capsys, tmp_path):
    folder = write_corpus(tmp_path / "c", [profile("eu-a", sectors=["aerospace"])])
    code, _, err = run(capsys, "corpus", "validate", str(folder))
    assert code == 1
    assert err.startswith("CorpusError: 1 problem in corpus")
    assert "[eu-a] sectors: got 'aerospace'; expected a sector code of the taxonomy; closest: aerospace_vehicles_defence" in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def batch_out(tmp_path_factory):
    out = tmp_path_factory.mktemp("run1")
    assert main(["rank", "--backend", "tfidf", "--out", str(out), "--top-k", "5", "--quiet"]) == 0
    return out


def test_rank_writes_all_outputs(batch_out):
    assert sorted(p.name for p in batch_out.iterdir()) == ["ca_to_eu.csv", "details.json", "eu_to_ca.csv", "pairings.csv", "run.json"]
    with open(batch_out / "eu_to_ca.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["rank"] for r in rows} == {"1", "2", "3", "4", "5"}
    for r in rows:
        total = sum(float(r[k]) for k in r if k.startswith("contrib_"))
        assert abs(total - float(r["score"])) < 1e-5
    info = json.loads((batch_out / "run.json").read_text())
    assert info["backend"] == "tfidf" and len(info["corpus"]["sha256"]) == 64 and info["weights"]["weights"]


def test_rank_twice_gives_same_bytes(batch_out, tmp_path):
    assert main(["rank", "--backend", "tfidf", "--out", str(tmp_path), "--top-k", "5", "--quiet"]) == 0
    for name in ("eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv", "details.json"):
        assert (tmp_path / name).read_bytes() == (batch_out / name).read_bytes(), name


def test_new_only_writes_no_known_partner(batch_out, tmp_path):
    assert main(["rank", "--backend", "tfidf", "--out", str(tmp_path), "--top-k", "5", "--quiet", "--new-only"]) == 0
    for name in ("eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv"):
        with open(batch_out / name, encoding="utf-8") as fh:
            before = [r for r in csv.DictReader(fh) if r["known_partner"]]
        with open(tmp_path / name, encoding="utf-8") as fh:
            after = list(csv.DictReader(fh))
        assert before and not [r for r in after if r["known_partner"]], name
    assert json.loads((tmp_path / "run.json").read_text())["filters"] == {"exclude_known": True}


def test_failed_run_leaves_earlier_outputs_intact(capsys, tmp_path):
    out = tmp_path / "out"
    assert main(["rank", "--backend", "tfidf", "--out", str(out), "--top-k", "2", "--quiet"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    broken = write_corpus(tmp_path / "broken", [profile("eu-a", kind="club")])
    code, _, err = run(capsys, "rank", "--backend", "tfidf", "--out", str(out), "--corpus", str(broken))
    assert code == 1 and err.startswith("CorpusError: 1 problem in corpus")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output_fails_before_work(capsys, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, err = run(capsys, "rank", "--backend", "tfidf", "--out", str(locked / "out"))
    assert code == 1 and err.startswith("OutputError: output folder")


def test_output_path_that_is_a_file_fails_before_work(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run(capsys, "rank", "--backend", "tfidf", "--out", str(blocker / "out"))
    assert code == 1 and err.startswith("OutputError: output folder") and "choose another --out folder" in err


def test_filters_leaving_nothing_write_headers_and_warn(capsys, tmp_path, caplog):
    code, _, err = run(capsys, "rank", "--backend", "tfidf", "--out", str(tmp_path), "--sectors", "tobacco", "--quiet")
    assert code == 0
    assert (tmp_path / "eu_to_ca.csv").read_text().count("\n") == 1
    assert "leave no pair" in caplog.text or "leave no pair" in err


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_shows_traceback_before_or_after_the_subcommand(tmp_path, where):
    broken = write_corpus(tmp_path / "c", [profile("eu-a", kind="club")])
    argv = ["-v", "corpus", "validate", str(broken)] if where == "before" else ["corpus", "validate", str(broken), "--verbose"]
    with pytest.raises(CorpusError, match="1 problem in corpus"):
        main(argv)


def test_quiet_is_accepted_before_and_after_the_subcommand(capsys, tmp_path, tiny_corpus):
    for argv in (["--quiet", "rank"], ["rank", "--quiet"], ["rank", "-q"]):
        code, out, _ = run(capsys, *argv, "--backend", "tfidf", "--corpus", str(tiny_corpus), "--out", str(tmp_path / "o"))
        assert code == 0 and out.splitlines()[-1] == f"wrote {tmp_path / 'o' / 'run.json'}"


def usage_error(capsys, *argv) -> str:
    """The parser's exit: status 2, argparse's usage line, then the one error line."""
    with pytest.raises(SystemExit) as info:
        main(list(argv))
    assert info.value.code == 2
    out, err = capsys.readouterr()
    lines = err.splitlines()
    assert out == "" and lines[0].startswith(f"usage: matcher {argv[0]}")
    return lines[-1]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["rank", "--top-k", "0"], "matcher rank: error: argument --top-k: expected a positive integer; got '0'"),
        (["rank", "--top-k", "ten"], "matcher rank: error: argument --top-k: expected a positive integer; got 'ten'"),
        (["rank", "--countries", "fr,XX"], "matcher rank: error: argument --countries: unknown country code(s) 'fr' (did you mean 'FR'?), 'XX'; expected comma-separated ISO 3166-1 alpha-2 codes such as FR,BE,CA"),
        (["rank", "--kinds", "clubs"], "matcher rank: error: argument --kinds: unknown organisation kind(s) 'clubs'; expected comma-separated values among: cluster_organisation, supercluster, research_consortium, industry_association, network, innovation_agency, technology_centre, innovation_hub, cluster_partnership"),
        (["rank", "--corpus", "nope"], "matcher rank: error: argument --corpus: 'nope' does not exist; expected a corpus folder or a .csv, .json or .yaml file"),
        (["rank", "--weights", "nope.json"], "matcher rank: error: argument --weights: 'nope.json' is not an existing file; expected a weights JSON file like models/weights/hand-set-v1.json"),
        (["rank", "--model", "nope"], "matcher rank: error: argument --model: 'nope' is not an existing folder; expected a sentence-transformers model folder (with modules.json)"),
        (["rank", "--gold", "nope.csv"], "matcher rank: error: argument --gold: 'nope.csv' is not an existing file; expected a gold CSV with columns eu_id, ca_id, source_url (or source), evidence (or note)[, kind, year, confidence]"),
        (["rank", "--evaluation", "nope"], "matcher rank: error: argument --evaluation: 'nope' is not an existing folder; expected an evaluation folder written by `matcher evaluate --out` (e.g. evaluation/report)"),
        (["report", "--run", "nope"], "matcher report: error: argument --run: 'nope' is not an existing folder; expected a batch-run folder written by `matcher rank --out`"),
        (["evaluate", "--kinds", "treaty"], "matcher evaluate: error: argument --kinds: unknown gold kind(s) 'treaty'; expected comma-separated values among: mou, agreement, joint_programme, network"),
        (["evaluate", "--resamples", "0"], "matcher evaluate: error: argument --resamples: expected a positive integer; got '0'"),
        (["corpus", "validate", "nope"], "matcher corpus validate: error: argument path: 'nope' does not exist; expected a corpus folder or a .csv, .json or .yaml file"),
        (["bench", "--repeats", "0"], "matcher bench: error: argument --repeats: expected a positive integer; got '0'"),
    ],
)
def test_parser_checks_parameters_before_any_work(capsys, monkeypatch, argv, expected):
    import matcher.corpus

    def no_work(*a, **k):
        raise AssertionError("the corpus was loaded")

    monkeypatch.setattr(matcher.corpus, "load_corpus", no_work)
    assert usage_error(capsys, *argv) == expected


def test_bad_weights_file_fails_before_the_corpus_is_read(capsys, tmp_path, monkeypatch):
    import matcher.batch

    bad = tmp_path / "w.json"
    bad.write_text('{"weights": {"semantic": "high"}}')
    monkeypatch.setattr(matcher.batch, "load_corpus", lambda *a, **k: pytest.fail("the corpus was loaded"))
    code, _, err = run(capsys, "rank", "--backend", "tfidf", "--weights", str(bad), "--out", str(tmp_path / "o"))
    assert code == 1
    assert err == f"WeightsError: 1 problem in weights file {str(bad)!r}:\n  {bad}:1 weights.semantic: got 'high'; expected a finite number >= 0 (a signal's weight)\n"


def test_validate_warns_for_user_rules_and_strict_makes_them_errors(capsys, tmp_path, caplog):
    folder = write_corpus(tmp_path / "c", [profile("eu-a", reviewed="2026-12-03", description=" ".join(["word"] * 400)), profile("ca-a", "ca", reviewed="2026-12-03")])
    code, out, _ = run(capsys, "corpus", "validate", str(folder))
    assert code == 0
    assert [r.getMessage() for r in caplog.records if r.name == "matcher.corpus"] == [  # the CLI prints it to stderr
        f"corpus {str(folder)!r}: description outside 80-250 words in 1 profile "
        "(kept: a description of any length is embedded in 150-word windows): eu-a (400 words)"
    ]
    assert out.splitlines() == [
        f"OK: 2 profiles (1 eu, 1 ca), 0 partnerships in {folder}",
        "1 kind of warning (printed above); --strict applies the bundled corpus's rules and makes them errors",
    ]
    code, out, err = run(capsys, "corpus", "validate", str(folder), "--strict")
    assert code == 1 and out == ""
    assert err == (
        f"CorpusError: 1 problem in corpus {str(folder)!r}:\n"
        f"  {folder / 'profiles.yaml'}:8 [eu-a] description: got '400 words'; expected between 80 and 250 words\n"
    )


def test_match_ranks_a_new_profile_file(capsys, tmp_path, bundled):
    import yaml

    rec = bundled.get("aero-montreal").to_record() | {"id": "draft-aero"}
    path = tmp_path / "new.yaml"
    path.write_text(yaml.safe_dump([rec], allow_unicode=True, sort_keys=False), encoding="utf-8")
    out_csv = tmp_path / "m.csv"
    code, out, _ = run(capsys, "match", str(path), "--backend", "tfidf", "--top-k", "4", "--out", str(out_csv))
    assert code == 0 and out.startswith("wrote ")
    with open(out_csv, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"] and {r["query_id"] for r in rows} == {"draft-aero"}
    for r in rows:
        assert abs(sum(float(r[k]) for k in r if k.startswith("contrib_")) - float(r["score"])) < 1e-5
    code, out, _ = run(capsys, "match", str(path), "--backend", "tfidf", "--top-k", "2", "--json")
    assert code == 0 and [r["rank"] for r in json.loads(out)] == [1, 2]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump([rec | {"sectors": ["aerospace"]}], allow_unicode=True), encoding="utf-8")
    code, _, err = run(capsys, "match", str(bad), "--backend", "tfidf")
    assert code == 1 and err.startswith("CorpusError: 1 problem in corpus") and "closest: aerospace_vehicles_defence" in err


@pytest.fixture
def small_corpus(tmp_path, bundled):
    """Thirty profiles of the bundled corpus, in one CSV (fast runs)."""
    from matcher import write_profiles_csv

    return write_profiles_csv([*bundled.eu[:20], *bundled.ca[:12]], tmp_path / "small.csv")


def test_parquet_tables_match_the_csv_and_no_details(small_corpus, tmp_path):
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    base = ["rank", "--backend", "tfidf", "--corpus", str(small_corpus), "--top-k", "3", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "csv")]) == 0
    assert main([*base, "--out", str(tmp_path / "pq"), "--format", "parquet", "--no-details", "--html"]) == 0
    assert sorted(p.name for p in (tmp_path / "pq").iterdir()) == ["ca_to_eu.parquet", "eu_to_ca.parquet", "pairings.parquet", "run.json"]
    for name in ("eu_to_ca", "ca_to_eu", "pairings"):
        a = pd.read_csv(tmp_path / "csv" / f"{name}.csv", keep_default_na=False)
        b = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        assert list(a.columns) == list(b.columns) and len(a) == len(b)
        assert list(a.iloc[:, 0]) == list(b.iloc[:, 0])


def test_report_is_skipped_above_its_size_unless_asked(small_corpus, tmp_path, monkeypatch, caplog):
    import matcher.batch

    monkeypatch.setattr(matcher.batch, "REPORT_MAX_PAIRS", 5)
    base = ["rank", "--backend", "tfidf", "--corpus", str(small_corpus), "--top-k", "3", "--quiet", "--html"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert not (tmp_path / "a" / "report.html").exists() and "above 5" in caplog.text
    assert main([*base, "--out", str(tmp_path / "b"), "--force-html"]) == 0
    assert (tmp_path / "b" / "report.html").exists()


def test_dask_two_workers_give_the_same_bytes(small_corpus, tmp_path):
    pytest.importorskip("distributed")
    base = ["rank", "--backend", "tfidf", "--corpus", str(small_corpus), "--top-k", "3", "--quiet"]
    assert main([*base, "--out", str(tmp_path / "one")]) == 0
    assert main([*base, "--out", str(tmp_path / "dask"), "--dask-workers", "2"]) == 0
    for name in ("eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv", "details.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_commands_put_arrow_on_the_system_allocator_unless_the_user_chose(monkeypatch):
    import pyarrow as pa

    from matcher.cli import _arrow_on_system_allocator

    before = pa.default_memory_pool()
    try:
        monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "mimalloc")
        pa.set_memory_pool(pa.mimalloc_memory_pool())
        _arrow_on_system_allocator()
        assert pa.default_memory_pool().backend_name == "mimalloc"  # the user's choice stays
        monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL")
        _arrow_on_system_allocator()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(before)
