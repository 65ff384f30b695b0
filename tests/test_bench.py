"""Benchmark command: runs end to end on tiny sizes and reports every figure (timings are never asserted)."""

from __future__ import annotations

from matcher.bench import run_bench


def test_bench_prints_each_figure_on_tiny_sizes():
    lines: list[str] = []
    res = run_bench(sizes=((300, 200),), k=5, repeats=1, batch=False, out=lines.append)
    assert set(res["300x200"]) == {"floor_s", "fused_topk_both_s", "ratio", "peak_mb", "peak_rss_mb"}
    assert res["300x200"]["ratio"] > 0 and res["compile_s"] > 0
    assert any("fused 5-signal scoring + top-5 both ways" in line and "ratio" in line for line in lines)
    assert any(line.startswith("cosine-only top-5") for line in lines)
