"""Benchmark command: runs end to end on tiny sizes and reports every figure (timings are never asserted)."""

from __future__ import annotations

from matcher.bench import run_bench


def test_bench_prints_each_figure_on_tiny_sizes():
    lines: list[str] = []
    res = run_bench(sizes=((60, 30),), k=5, repeats=1, batch=False, dask=False, out=lines.append)
    assert {"matcher_s", "matcher_rss_mb", "baseline_s", "baseline_rss_mb", "ratio"} <= set(res["60x30"])
    assert res["60x30"]["ratio"] > 0
    assert any("`matcher rank --backend tfidf` end to end" in line and "scikit-learn baseline" in line for line in lines)
