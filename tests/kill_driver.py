"""Kill a batch run at chosen points (run by test_write.py as ``python -m tests.kill_driver``).

The driver imports matcher and warms it up with one run, then for each point forks a child that
runs ``matcher rank`` and kills itself there (SIGKILL, or SIGTERM / SIGINT to test the graceful
path); forking keeps each run at a fraction of a second. After each child it records what the
output folder shows, completes a commit left half done (``recover_output``), and restores the
previous outputs. It prints one JSON object; the test makes the assertions.

Points: ``load`` (corpus read), ``fit``, ``stage-N`` (after N files are staged), ``commit-J``
(after J of the commit's renames), each optionally prefixed ``sigterm-`` or ``sigint-``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sys
from pathlib import Path


def snapshot(folder: Path) -> dict:
    """Visible files (hash, or run.json's top_k) and hidden entries of a folder."""
    files, hidden = {}, []
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            hidden.append(p.name)
        elif p.name == "run.json":
            files[p.name] = f"top_k={json.loads(p.read_text())['top_k']}"
        else:
            files[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()[:16]
    return {"files": files, "hidden": hidden}


def arm(point: str, out: Path) -> None:
    """Patch the child so that it signals itself at ``point``."""
    import matcher.batch
    import matcher.engine
    import matcher.write

    sig = signal.SIGKILL
    for prefix, s in (("sigterm-", signal.SIGTERM), ("sigint-", signal.SIGINT)):
        if point.startswith(prefix):
            sig, point = s, point[len(prefix) :]

    def fire() -> None:
        os.kill(os.getpid(), sig)

    name, _, n = point.partition("-")
    if name == "load":
        real_load = matcher.batch.load_corpus

        def load(*a, **k):
            corpus = real_load(*a, **k)
            fire()
            return corpus

        matcher.batch.load_corpus = load
    elif name == "fit":
        real_fit = matcher.engine.Matcher.fit

        def fit(self, *a, **k):
            result = real_fit(self, *a, **k)
            fire()
            return result

        matcher.engine.Matcher.fit = fit
    elif name == "stage":
        real_write = matcher.write.OutputStage.write_bytes
        count = [0]

        def write_bytes(self, *a, **k):
            result = real_write(self, *a, **k)
            count[0] += 1
            if count[0] == int(n):
                fire()
            return result

        matcher.write.OutputStage.write_bytes = write_bytes
    elif name == "commit":
        real_replace = os.replace
        done = [0]

        def replace(src, dst, *a, **k):
            if Path(dst).parent == out and Path(src).parent.name.startswith(matcher.write.STAGE_PREFIX):
                if done[0] == int(n):
                    fire()
                done[0] += 1
            return real_replace(src, dst, *a, **k)

        os.replace = replace
    else:
        raise SystemExit(f"unknown point {point!r}")


def main() -> None:
    out, corpus, points = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
    from matcher.cli import main as cli
    from matcher.write import recover_output

    args = ["rank", "--backend", "tfidf", "--corpus", corpus, "--quiet"]
    previous = [*args, "--out", str(out), "--top-k", "1"]
    quiet = open(os.devnull, "w")  # noqa: SIM115 - the driver's and children's stdout stay clean for the JSON
    real_stdout, sys.stdout = sys.stdout, quiet
    cli([*args, "--out", str(out.parent / "reference"), "--top-k", "2"])  # warm-up, and what a completed run writes
    cli(previous)
    result = {"previous": snapshot(out), "new": snapshot(out.parent / "reference"), "points": {}}
    for point in points:
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            arm(point, out)
            code = cli([*args, "--out", str(out), "--top-k", "2"])
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        entry = {"signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None, "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None}
        entry["after_kill"] = snapshot(out)
        entry["recovered"] = recover_output(out)
        entry["after_recovery"] = snapshot(out)
        cli(previous)
        entry["restored"] = snapshot(out)
        result["points"][point] = entry
    sys.stdout = real_stdout
    print(json.dumps(result))


if __name__ == "__main__":
    main()
