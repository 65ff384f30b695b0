"""Benchmark command: runs end to end on tiny sizes and reports every figure (timings are never asserted)."""

from __future__ import annotations

from matcher.bench import run_bench, schedule_bench


def test_bench_prints_each_figure_on_tiny_sizes():
    lines: list[str] = []
    res = run_bench(sizes=((60, 30),), k=5, repeats=1, batch=False, dask=False, out=lines.append)
    assert {"matcher_s", "matcher_rss_mb", "baseline_s", "baseline_rss_mb", "ratio", "tables_s", "tables_ratio"} <= set(res["60x30"])
    assert res["60x30"]["ratio"] > 0 and res["60x30"]["tables_ratio"] > 0
    assert any("`matcher rank --backend tfidf` end to end" in line and "scikit-learn baseline" in line for line in lines)
    assert any("--no-details" in line for line in lines)


def test_schedule_bench_prints_its_figure_on_a_tiny_event():
    lines: list[str] = []
    res = schedule_bench(12, 10, slots=3, repeats=1, out=lines.append)
    assert {"schedule_s", "schedule_rss_mb", "plan_s", "meetings", "pairs_eligible"} <= set(res)
    assert 0 < res["meetings"] <= 10 * 3
    assert len(lines) == 1 and "`matcher schedule --backend tfidf` end to end" in lines[0] and "planning alone" in lines[0]


def test_st_bench_prints_warm_and_cold_figures():
    from matcher.bench import st_bench

    lines: list[str] = []
    res = st_bench(40, 20, k=3, repeats=1, cold_profiles=6, out=lines.append)
    assert {"product_s", "fit_s", "scoring_writing_s", "bare_s", "ratio", "tables_s", "tables_ratio", "cold_profiles_per_s", "cold_pieces"} <= set(res)
    assert res["cold_pieces"] > 0 and res["cold_profiles_per_s"] > 0
    assert len(lines) == 3 and "bare GEMM + top-k + CSVs" in lines[0] and "--no-details" in lines[1] and "profiles encoded per second" in lines[2]


def test_compared_commands_take_turns_and_give_median_time_and_largest_rss():
    from matcher.bench import _medians

    calls: list[str] = []
    times = {"a": iter([3.0, 1.0, 2.0]), "b": iter([5.0, 9.0, 7.0])}

    def run(name: str):
        def fn() -> tuple[float, float]:
            calls.append(name)
            t = next(times[name])
            return t, 10 * t

        return fn

    assert _medians([run("a"), run("b")], 3) == [(2.0, 30.0), (7.0, 90.0)]
    assert calls == ["a", "b", "a", "b", "a", "b"]
