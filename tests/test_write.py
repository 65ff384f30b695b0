"""Outputs under concurrent and interrupted runs: complete sets, previous outputs intact, nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from matcher.cli import main
from matcher.errors import OutputError
from matcher.write import STAGE_PREFIX, OutputStage, recover_output, write_run

REPO = Path(__file__).resolve().parents[1]
OUTPUTS = ["ca_to_eu.csv", "details.json", "eu_to_ca.csv", "pairings.csv", "report.html", "run.json"]


def _env() -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")  # the kill driver forks
    return env


def _rank(corpus: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "matcher", "rank", "--backend", "tfidf", "--corpus", str(corpus), "--out", str(out), "--quiet", *extra]


def test_concurrent_runs_all_succeed_and_leave_one_complete_set(tmp_path, tiny_corpus):
    out = tmp_path / "shared"
    procs = [subprocess.Popen(_rank(tiny_corpus, out, "--html"), env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    results = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err.decode() for _, err in results]
    single = tmp_path / "single"
    assert main(_rank(tiny_corpus, single, "--html")[3:]) == 0  # the same run alone, in this process
    assert sorted(os.listdir(out)) == OUTPUTS  # no staging folder, no temporary file
    for name in OUTPUTS:
        if name != "run.json":
            assert (out / name).read_bytes() == (single / name).read_bytes(), name
    shared, alone = json.loads((out / "run.json").read_text()), json.loads((single / "run.json").read_text())
    assert shared["outputs_sha256"] == alone["outputs_sha256"] and shared.keys() == alone.keys()


KILL_POINTS = [
    "load", "fit", "stage-1", "stage-3", "stage-5",
    "commit-0", "commit-2", "commit-4",
    "sigterm-fit", "sigint-stage-2", "sigterm-commit-2",
]


def test_a_killed_run_leaves_the_previous_outputs(tmp_path, tiny_corpus):
    """Kill `matcher rank` at several points (SIGKILL, and SIGTERM / SIGINT for the graceful path).

    Before the commit, the folder keeps the previous outputs byte for byte (only a hidden staging
    folder may be left, which the next run removes). Killed among the renames, every file is complete
    (previous or new) and the next run, or recover_output, completes the commit. SIGTERM or SIGINT
    during the commit waits for it to finish."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "tests.kill_driver", str(out), str(tiny_corpus), json.dumps(KILL_POINTS)],
        cwd=REPO, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    previous, new = result["previous"], result["new"]
    assert previous["files"] != new["files"] and previous["hidden"] == []
    for point, entry in result["points"].items():
        seen = entry["after_kill"]
        if point.startswith(("sigterm-", "sigint-")):
            assert entry["exit"] == (130 if point.startswith("sigint-") else 143), point
            assert seen == (new if point.endswith("commit-2") else previous), point  # cleaned up, nothing half done
        elif point.startswith("commit-"):
            done = int(point.split("-")[1])
            assert entry["signal"] == 9, point
            assert set(seen["files"]) == set(previous["files"])
            assert sum(seen["files"][n] == new["files"][n] for n in seen["files"]) == done, point
            assert all(seen["files"][n] in (previous["files"][n], new["files"][n]) for n in seen["files"]), point
            assert len(seen["hidden"]) == 1 and seen["hidden"][0].startswith(STAGE_PREFIX)
            assert entry["after_recovery"] == new, point  # the commit is completed, not left mixed
        else:
            assert entry["signal"] == 9, point
            assert seen["files"] == previous["files"], point
            assert entry["after_recovery"] == previous, point  # the dead run's staging folder is removed
        assert entry["restored"] == previous, point


def test_stage_left_without_commit_removes_everything(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "eu_to_ca.csv").write_text("old\n")
    with pytest.raises(RuntimeError), OutputStage(out) as stage:
        stage.write_text("eu_to_ca.csv", "new\n")
        raise RuntimeError("the run failed")
    assert os.listdir(out) == ["eu_to_ca.csv"] and (out / "eu_to_ca.csv").read_text() == "old\n"
    with OutputStage(out) as stage:
        stage.write_text("eu_to_ca.csv", "new\n")
        stage.write_text("run.json", "{}\n")
        assert list(stage.commit()) == ["eu_to_ca.csv", "run.json"]
    assert sorted(os.listdir(out)) == ["eu_to_ca.csv", "run.json"] and recover_output(out) == []
    with pytest.raises(OutputError, match=r"^output file names are plain, visible names; got '\.\./x'$"), OutputStage(out) as stage:
        stage.write_text("../x", "no")


def test_the_command_exits_with_main_s_code_and_its_messages_after_the_quick_exit(tmp_path, tiny_corpus):
    """``python -m matcher`` ends with os._exit after main: the code, stderr and every output are there."""
    out = tmp_path / "out"
    ok = subprocess.run([*_rank(tiny_corpus, out)[:-1], "--verbose"], env=_env(), capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "wrote" in ok.stderr  # the log lines were flushed before the exit
    assert {p.name for p in out.iterdir()} >= {"eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv", "details.json", "run.json"}
    bad = subprocess.run(_rank(tmp_path / "missing.csv", tmp_path / "other"), env=_env(), capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    corrupt = tmp_path / "bad.csv"
    corrupt.write_text("id,side\nx,eu\n", encoding="utf-8")
    failed = subprocess.run(_rank(corrupt, tmp_path / "third"), env=_env(), capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1 and "CorpusError" in failed.stderr and not (tmp_path / "third" / "run.json").exists()


def test_a_failing_table_stops_the_extra_file_and_keeps_the_previous_outputs(tmp_path):
    """details.json is made on a second thread: when a table fails, it stops at its next piece
    (the run does not wait for the whole file) and the error is the table's."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "a.csv").write_text("old\n")
    made = []

    def extra():
        yield b"{"
        threading.Event().wait(0.5)  # the table fails meanwhile
        for i in range(1000):
            made.append(i)
            yield b"1,"

    def table():  # fails at once, before any CSV work
        raise KeyError("a broken piece")
        yield pd.DataFrame({"a": [1], "b": [2]})

    with pytest.raises(KeyError, match="a broken piece"):
        write_run(out, {"a.csv": table()}, {}, {"details.json": extra()})
    assert made in ([], [0])  # stopped at its next piece (none made if the thread started after the failure), not all 1,000
    assert os.listdir(out) == ["a.csv"] and (out / "a.csv").read_text() == "old\n"
