"""Benchmark: prints product-level timings and memory against a bare scikit-learn baseline (never a test).

Run ``matcher bench`` (or ``make bench``). Every figure is measured in a new process (imports
included) on a synthetic corpus file built from the bundled profiles' sentences; times are medians.
"""

from __future__ import annotations

import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["BASELINE", "ST_BASELINE", "run_bench", "schedule_bench", "st_bench", "synthetic_corpus"]

log = logging.getLogger(__name__)

# The bare scikit-learn script a user could write: TF-IDF of description + keywords, brute-force
# cosine nearest neighbours, top-k both ways.
BASELINE = """
import sys
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.neighbors import NearestNeighbors
k = int(sys.argv[2])
df = pd.read_csv(sys.argv[1])
text = df["description"] + " " + df["keywords"].fillna("")
x = TfidfVectorizer().fit_transform(text)
eu, ca = (df["side"] == "eu").to_numpy(), (df["side"] == "ca").to_numpy()
for a, b in ((eu, ca), (ca, eu)):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="cosine").fit(x[b])
    dist, idx = nn.kneighbors(x[a])
    pd.DataFrame({"query": df["id"][a].repeat(k).to_numpy(), "candidate": df["id"][b].to_numpy()[idx.ravel()], "score": 1 - dist.ravel()}).to_csv(sys.argv[3] + str(int(a[0])) + ".csv", index=False)
"""

# Runs a command and prints its wall time and peak RSS (MB), measured from a parent that does nothing else.
_MEASURE = """
import resource, subprocess, sys, time
t = time.perf_counter()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def synthetic_corpus(n_eu: int, n_ca: int, path: str | Path, seed: int = 0) -> Path:
    """A corpus CSV of ``n_eu`` European and ``n_ca`` Canadian profiles whose descriptions are
    sentences drawn from the bundled profiles (80-250 words each), with their sectors and languages."""
    from dataclasses import replace

    from matcher.corpus import EUROPEAN_COUNTRIES, load_corpus, write_profiles_csv
    from matcher.features import split_sentences

    rng = np.random.default_rng(seed)
    corpus = load_corpus()
    pool = [s for p in corpus.profiles for s in split_sentences(p.description)]
    countries = sorted(EUROPEAN_COUNTRIES)
    out = []
    for side, n in (("eu", n_eu), ("ca", n_ca)):
        templates = corpus.eu if side == "eu" else corpus.ca
        for i in range(n):
            t = templates[int(rng.integers(len(templates)))]
            words, sents = 0, []
            while words < 100:
                s = pool[int(rng.integers(len(pool)))]
                if words + len(s.split()) > 240:
                    continue
                sents.append(s)
                words += len(s.split())
            out.append(
                replace(
                    t, id=f"{side}-{i:06d}", name=f"{side.upper()} {i}", description=" ".join(sents),
                    country=countries[int(rng.integers(len(countries)))] if side == "eu" else "CA",
                    region_code=(), aliases=(), region=None,
                )
            )
    return write_profiles_csv(out, path)


def _measure(cmd: list[str]) -> tuple[float, float]:
    res = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], check=True, capture_output=True, text=True)
    t, rss = res.stdout.split()
    return float(t), float(rss)


def _median(fn: Callable[[], tuple[float, float]], repeats: int) -> tuple[float, float]:
    return _medians([fn], repeats)[0]


def _medians(fns: list[Callable[[], tuple[float, float]]], repeats: int) -> list[tuple[float, float]]:
    """Each measurement's median time and largest peak RSS over ``repeats`` rounds, the
    measurements taking turns within a round: a machine that slows down for a while slows all the
    compared commands alike, and their ratio stays fair."""
    runs: list[list[tuple[float, float]]] = [[] for _ in fns]
    for _ in range(repeats):
        for got, fn in zip(runs, fns, strict=True):
            got.append(fn())
    return [(statistics.median(r[0] for r in got), max(r[1] for r in got)) for got in runs]


def _rank_cmd(corpus: Path, out: Path, k: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "matcher", "rank", "--backend", "tfidf", "--corpus", str(corpus), "--out", str(out), "--top-k", str(k), "--quiet", *extra]


def run_bench(
    sizes=((10_000, 2_000), (100_000, 10_000)), k: int = 10, repeats: int = 3, batch: bool = True, dask: bool = True, out=print
) -> dict:
    """Print and return the figures: for each size, ``matcher rank --backend tfidf`` end to end vs the
    scikit-learn baseline (time, peak RSS; the baseline, and the same run with ``--no-details`` (the
    tables only, as the baseline writes), only for the first size), Dask with 2 workers
    vs one process (first size), and, with ``batch``, the bundled corpus end to end and ``rank_profile``."""
    results: dict = {}
    out(f"machine: {sys.platform}, Python {sys.version.split()[0]}; medians of {repeats} runs, peak RSS the largest; every figure a new process")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n, (n_eu, n_ca) in enumerate(sizes):
            path = synthetic_corpus(n_eu, n_ca, tmp / f"corpus-{n_eu}x{n_ca}.csv")
            ours_run = lambda p=path: _measure(_rank_cmd(p, tmp / "out", k))  # noqa: E731
            if n == 0:
                # The baseline, the product and the product with --no-details (the tables only, like
                # for like: the baseline writes no details.json either), taking turns.
                base_run = lambda p=path: _measure([sys.executable, "-c", BASELINE, str(p), str(k), str(tmp / "base")])  # noqa: E731
                tables_run = lambda p=path: _measure(_rank_cmd(p, tmp / "out-tables", k, "--no-details"))  # noqa: E731
                base, ours, tables = _medians([base_run, ours_run, tables_run], repeats)
            else:
                ours = _median(ours_run, 1)
            row = {"matcher_s": ours[0], "matcher_rss_mb": ours[1]}
            line = f"{n_eu:>7} x {n_ca:<6} `matcher rank --backend tfidf` end to end: {ours[0]:6.1f} s, peak RSS {ours[1]:5.0f} MB"
            if n == 0:
                row.update(baseline_s=base[0], baseline_rss_mb=base[1], ratio=ours[0] / base[0])
                line += f"; scikit-learn baseline {base[0]:5.1f} s, {base[1]:5.0f} MB; ratio {ours[0] / base[0]:4.2f}x"
            out(line)
            if n == 0:
                row.update(tables_s=tables[0], tables_rss_mb=tables[1], tables_ratio=tables[0] / base[0])
                out(f"  the same with --no-details (the CSVs only, as the baseline): {tables[0]:6.1f} s, peak RSS {tables[1]:5.0f} MB; ratio {tables[0] / base[0]:4.2f}x")
            if n == 0 and dask:
                try:
                    import distributed  # noqa: F401
                except ImportError:
                    out("  Dask: not installed (pip install matcher[dask]); skipped")
                else:
                    d = _median(lambda p=path: _measure(_rank_cmd(p, tmp / "out-dask", k, "--dask-workers", "2")), repeats)
                    row.update(dask2_s=d[0], dask2_rss_mb=d[1])
                    out(f"  same run on a 2-worker Dask LocalCluster: {d[0]:6.1f} s (one process: {ours[0]:6.1f} s); driver+workers peak RSS {d[1]:5.0f} MB")
            results[f"{n_eu}x{n_ca}"] = row
        if batch:
            results["batch"] = _bench_bundled(tmp, repeats, out)
    return results


def _bench_bundled(tmp: Path, repeats: int, out) -> dict:
    """The bundled corpus, warm cache, end to end; and ``rank_profile`` of its profiles after fit."""
    cmd = [sys.executable, "-m", "matcher", "rank", "--quiet", "--out", str(tmp / "bundled")]
    subprocess.run(cmd, check=True, capture_output=True)  # fills the user cache if needed
    warm = _median(lambda: _measure(cmd), repeats)
    from matcher import Matcher

    m = Matcher(backend="tfidf").fit()
    times = []
    for p in m.corpus_.profiles[:: max(1, len(m.corpus_.profiles) // 50)]:
        t0 = time.perf_counter()
        m.rank_profile(p.to_record() | {"id": p.id + "-copy"}, k=10)
        times.append(time.perf_counter() - t0)
    res = {"warm_batch_s": warm[0], "warm_batch_rss_mb": warm[1], "rank_profile_ms": 1000 * statistics.median(times)}
    out(
        f"bundled corpus ({len(m.corpus_.profiles)} profiles), sentence-transformers, warm cache, `matcher rank` end to end: {warm[0]:.2f} s, "
        f"peak RSS {warm[1]:.0f} MB; `rank_profile` after fit (tfidf backend): median {res['rank_profile_ms']:.1f} ms per profile"
    )
    return res


# The bare script over the same embeddings: one GEMM, top-k both ways (argpartition), the CSVs written.
ST_BASELINE = """
import sys
import numpy as np
import pandas as pd
k = int(sys.argv[2])
data = np.load(sys.argv[1])
eu, ca, eu_ids, ca_ids = data["eu"], data["ca"], data["eu_ids"], data["ca_ids"]
sim = eu @ ca.T
for name, s, q, c in (("eu", sim, eu_ids, ca_ids), ("ca", sim.T, ca_ids, eu_ids)):
    idx = np.argpartition(-s, k - 1, axis=1)[:, :k]
    val = np.take_along_axis(s, idx, 1)
    order = np.argsort(-val, axis=1, kind="stable")
    idx, val = np.take_along_axis(idx, order, 1), np.take_along_axis(val, order, 1)
    pd.DataFrame({"query": np.repeat(q, k), "candidate": c[idx.ravel()], "score": val.ravel()}).to_csv(sys.argv[3] + name + ".csv", index=False)
"""


def st_bench(n_eu: int = 10_000, n_ca: int = 2_000, k: int = 10, repeats: int = 3, cold_profiles: int = 200, out=print) -> dict:
    """Print and return the sentence-transformers figures: ``matcher rank`` end to end on a synthetic
    ``n_eu x n_ca`` corpus with a warm embedding cache (its descriptions are sentences of the bundled
    profiles, so a cache filled by the bundled corpus serves them; the first run fills what is missing),
    beside the bare script a user would write over the same embeddings (one GEMM, top-k both ways,
    the CSVs); scoring and writing are the product's run.json ``rank_and_explain`` plus writing, i.e.
    the end-to-end time minus load and fit; the same again with ``--no-details`` (the tables only,
    as the bare script writes). Cold: profiles encoded per second with an empty cache."""
    import json
    import os

    from matcher import Matcher

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = synthetic_corpus(n_eu, n_ca, tmp / f"corpus-{n_eu}x{n_ca}.csv")

        def rank_cmd(name: str, *extra: str) -> list[str]:
            return [sys.executable, "-m", "matcher", "rank", "--corpus", str(corpus), "--out", str(tmp / name), "--top-k", str(k), "--quiet", *extra]

        subprocess.run(rank_cmd("out"), check=True, capture_output=True)  # fills the cache with anything missing
        m = Matcher(gold=False).fit(corpus)
        arrays = tmp / "embeddings.npz"
        np.savez(arrays, eu=m.eu_features_.embeddings, ca=m.ca_features_.embeddings, eu_ids=np.array(m.eu_features_.ids), ca_ids=np.array(m.ca_features_.ids))
        del m
        timings: dict[str, list[dict]] = {"out": [], "out-tables": []}

        def product_run(name: str, *extra: str) -> tuple[float, float]:
            got = _measure(rank_cmd(name, *extra))
            timings[name].append(json.loads((tmp / name / "run.json").read_text(encoding="utf-8"))["timings_s"])
            return got

        # The product, the same with --no-details (the tables only, like for like: the bare script
        # writes no details.json either) and the bare script, taking turns.
        product, tables, bare = _medians(
            [lambda: product_run("out"), lambda: product_run("out-tables", "--no-details"),
             lambda: _measure([sys.executable, "-c", ST_BASELINE, str(arrays), str(k), str(tmp / "bare-")])],
            repeats,
        )
        # Load and fit of the product's runs: medians, like the end-to-end times they are taken from.
        t = {key: statistics.median(r[key] for r in timings["out"]) for key in ("load", "fit")}
        t_tables = {key: statistics.median(r[key] for r in timings["out-tables"]) for key in ("load", "fit")}
        scoring_writing = product[0] - t["load"] - t["fit"]
        tables_scoring_writing = tables[0] - t_tables["load"] - t_tables["fit"]
        # Cold: a fresh cache folder (the model is extracted into it first, outside the timing).
        small = synthetic_corpus(cold_profiles // 2, cold_profiles - cold_profiles // 2, tmp / "cold.csv", seed=1)
        env = dict(os.environ, MATCHER_CACHE_DIR=str(tmp / "cold-cache"))
        subprocess.run([sys.executable, "-c", "from matcher.embed import default_model_path; default_model_path()"], check=True, env=env)
        res_cold = subprocess.run(
            [sys.executable, "-c", "import sys, time; from matcher import Matcher; t = time.perf_counter(); m = Matcher(gold=False).fit(sys.argv[1]); "
             "print(time.perf_counter() - t, m.encode_stats_.encoded)", str(small)],
            check=True, capture_output=True, text=True, env=env,
        )
        cold_s, pieces = res_cold.stdout.split()
    res = {
        "product_s": product[0], "product_rss_mb": product[1], "load_s": t["load"], "fit_s": t["fit"], "scoring_writing_s": scoring_writing,
        "bare_s": bare[0], "bare_rss_mb": bare[1], "ratio": scoring_writing / bare[0],
        "tables_s": tables[0], "tables_rss_mb": tables[1], "tables_scoring_writing_s": tables_scoring_writing, "tables_ratio": tables_scoring_writing / bare[0],
        "cold_profiles_per_s": cold_profiles / float(cold_s), "cold_pieces": int(pieces),
    }
    out(
        f"{n_eu} x {n_ca}, sentence-transformers, warm cache: `matcher rank` end to end {product[0]:.1f} s, peak RSS {product[1]:.0f} MB "
        f"(load {t['load']:.1f} s, fit {t['fit']:.1f} s, scoring and writing {scoring_writing:.1f} s); bare GEMM + top-k + CSVs over the same "
        f"embeddings {bare[0]:.1f} s, {bare[1]:.0f} MB; scoring and writing / bare = {res['ratio']:.1f}x"
    )
    out(
        f"  the same with --no-details (the CSVs only, as the bare script): {tables[0]:.1f} s, peak RSS {tables[1]:.0f} MB "
        f"(scoring and writing {tables_scoring_writing:.1f} s); scoring and writing / bare = {res['tables_ratio']:.1f}x"
    )
    out(f"cold cache: {res['cold_profiles_per_s']:.1f} profiles encoded per second ({cold_profiles} profiles, {pieces} pieces, fit included)")
    return res


def schedule_bench(n_eu: int = 300, n_ca: int = 300, slots: int = 8, repeats: int = 3, seed: int = 0, out=print) -> dict:
    """Print and return the brokerage-event figures: ``matcher schedule --backend tfidf`` end to end
    (a new process, imports, corpus load and fit included) for an event of every profile of a
    synthetic ``n_eu x n_ca`` corpus with capacities drawn from 1 to ``slots``, and the planning step
    alone (:func:`~matcher.schedule.plan_meetings` and :func:`~matcher.schedule.assign_slots` on
    that event's score matrix from the one scorer)."""
    from matcher import Matcher
    from matcher.schedule import assign_slots, plan_meetings

    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus = synthetic_corpus(n_eu, n_ca, tmp / f"corpus-{n_eu}x{n_ca}.csv", seed=seed)
        ids = [f"eu-{i:06d}" for i in range(n_eu)] + [f"ca-{i:06d}" for i in range(n_ca)]
        caps = rng.integers(1, slots + 1, len(ids))
        people = tmp / "participants.csv"
        people.write_text("id,max_meetings\n" + "".join(f"{p},{c}\n" for p, c in zip(ids, caps, strict=True)), encoding="utf-8")
        cmd = [sys.executable, "-m", "matcher", "schedule", "--backend", "tfidf", "--corpus", str(corpus), "--participants", str(people), "--slots", str(slots), "--out", str(tmp / "event"), "--quiet"]
        end_to_end = _median(lambda: _measure(cmd), repeats)
        m = Matcher(backend="tfidf").fit(corpus)
        scores = m.score_matrix()
        eu_cap, ca_cap = caps[:n_eu].astype(np.int64), caps[n_eu:].astype(np.int64)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            plan = plan_meetings(scores, eu_cap, ca_cap)
            assign_slots(plan.eu, plan.ca, slots)
            times.append(time.perf_counter() - t0)
    res = {"schedule_s": end_to_end[0], "schedule_rss_mb": end_to_end[1], "plan_s": statistics.median(times), "meetings": len(plan), "pairs_eligible": plan.eligible}
    out(
        f"{n_eu} x {n_ca}-participant event, {slots} slots, capacities 1-{slots}: `matcher schedule --backend tfidf` end to end "
        f"{res['schedule_s']:.2f} s (peak RSS {res['schedule_rss_mb']:.0f} MB); planning alone (exact plan + slots, "
        f"{res['meetings']} meetings among {res['pairs_eligible']} eligible pairs) {res['plan_s']:.2f} s; medians of {repeats} runs"
    )
    return res
