"""Benchmark: prints timings and memory of the scoring, top-k and batch paths (never a test).

Run ``matcher bench`` (or ``make bench``). Figures are medians of several runs on this machine.
"""

from __future__ import annotations

import gc
import logging
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import sparse

from matcher.corpus import load_taxonomy
from matcher.rank import blocked_top_k
from matcher.score import FusedScorer
from matcher.weights import load_weights

__all__ = ["run_bench", "synthetic_profiles"]

log = logging.getLogger(__name__)


def synthetic_profiles(n: int, seed: int, dim: int = 384, vocab: int = 50_000, terms: int = 60) -> dict[str, np.ndarray]:
    """Random stand-ins for ``n`` profiles' precomputed inputs: unit embeddings, 1-3 sectors with their
    priority areas, working languages, declared targets and sparse TF-IDF rows with Zipf-distributed terms."""
    rng = np.random.default_rng(seed)
    tax = load_taxonomy()
    codes = list(tax.sectors)
    area_index = {a: j for j, a in enumerate(tax.areas)}
    emb = rng.standard_normal((n, dim), dtype=np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    fine = np.zeros((n, len(codes)), np.float32)
    area = np.zeros((n, len(area_index)), np.float32)
    for i in range(n):
        for c in rng.choice(len(codes), size=rng.integers(1, 4), replace=False):
            fine[i, c] = 1
            for a in tax.sectors[codes[c]].areas:
                area[i, area_index[a]] = 1
    lang = (rng.random((n, 6)) < [0.9, 0.4, 0.2, 0.1, 0.1, 0.1]).astype(np.float32)
    ranks = np.arange(1, vocab + 1)
    p = 1.0 / ranks
    p /= p.sum()
    cols = rng.choice(vocab, size=(n, terms), p=p)
    data = rng.random((n, terms)).astype(np.float32)
    lex = sparse.csr_matrix((data.ravel(), (np.repeat(np.arange(n), terms), cols.ravel())), shape=(n, vocab))
    lex.sum_duplicates()
    norms = np.sqrt(np.asarray(lex.multiply(lex).sum(axis=1)).ravel())
    lex = sparse.diags(1.0 / norms) @ lex
    return {"emb": emb, "fine": fine, "area": area, "lang": lang, "lex": lex.tocsr().astype(np.float32), "flag": (rng.random(n) < 0.2).astype(np.float32)}


def _scorer(eu: dict, ca: dict, n_countries: int = 30, seed: int = 1, **options) -> FusedScorer:
    rng = np.random.default_rng(seed)
    n_eu, n_ca = eu["emb"].shape[0], ca["emb"].shape[0]
    country = np.zeros((n_eu, n_countries), np.float32)
    country[np.arange(n_eu), rng.integers(0, n_countries, n_eu)] = 1
    ca_targets = (rng.random((n_ca, n_countries)) < 0.05).astype(np.float32)
    w = load_weights()
    return FusedScorer(
        w.weights, w.bias, eu["emb"], ca["emb"], eu["fine"], ca["fine"], eu["area"], ca["area"], eu["lang"], ca["lang"],
        eu["lex"], ca["lex"], eu["flag"], country, ca_targets, **options,
    )


def _median_time(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _peak_mb(fn: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _blocked_product(a: np.ndarray, bt: np.ndarray, block: int) -> None:
    out = np.empty((min(block, a.shape[0]), bt.shape[1]), dtype=np.float32)
    for start in range(0, a.shape[0], block):
        stop = min(start + block, a.shape[0])
        np.matmul(a[start:stop], bt, out=out[: stop - start])


def _floor(a: np.ndarray, bt: np.ndarray, repeats: int) -> tuple[float, int]:
    """The bare product's time at its fastest block size (BLAS on all cores), and that size."""
    times = {block: _median_time(lambda b=block: _blocked_product(a, bt, b), repeats) for block in (256, 1024, 4096)}
    best = min(times, key=times.get)
    return times[best], best


def _bench_size(n_eu: int, n_ca: int, k: int, repeats: int, block_rows: int, n_jobs: int, out) -> dict:
    eu, ca = synthetic_profiles(n_eu, seed=n_eu), synthetic_profiles(n_ca, seed=7)
    scorer = _scorer(eu, ca)
    emb_t = np.ascontiguousarray(ca["emb"].T)
    floor, floor_block = _floor(eu["emb"], emb_t, repeats)
    ours = _median_time(lambda: scorer.top_k(k, block_rows=block_rows, n_jobs=n_jobs), repeats)
    peak = _peak_mb(lambda: scorer.top_k(k, block_rows=block_rows, n_jobs=n_jobs))
    rss = _peak_rss_mb(n_eu, n_ca, k, block_rows, n_jobs)
    out(
        f"{n_eu:>7} x {n_ca:<6} fused 5-signal scoring + top-{k} both ways: {ours:6.2f} s; peak memory {peak:5.0f} MB of arrays "
        f"(tracemalloc), {rss:5.0f} MB process RSS incl. inputs; bare embedding product {floor:5.2f} s "
        f"(fastest of blocks 256/1024/4096: {floor_block}); ratio {ours / floor:4.2f}x"
    )
    return {"floor_s": floor, "fused_topk_both_s": ours, "ratio": ours / floor, "peak_mb": peak, "peak_rss_mb": rss}


def _peak_rss_mb(n_eu: int, n_ca: int, k: int, block_rows: int, n_jobs: int) -> float:
    """Peak resident memory of a fresh process that builds the inputs and runs the fused top-k once."""
    code = (
        "import resource\n"
        "from matcher.bench import synthetic_profiles, _scorer\n"
        f"eu, ca = synthetic_profiles({n_eu}, seed={n_eu}), synthetic_profiles({n_ca}, seed=7)\n"
        f"_scorer(eu, ca).top_k({k}, block_rows={block_rows}, n_jobs={n_jobs})\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return int(res.stdout.strip().splitlines()[-1]) / 1024


def _compile_seconds() -> float:
    """Time of the first call of the compiled kernels (numba JIT, or loading them from its cache)."""
    eu, ca = synthetic_profiles(40, seed=1), synthetic_profiles(30, seed=2)
    t0 = time.perf_counter()
    _scorer(eu, ca).top_k(5, block_rows=16, n_jobs=1)
    return time.perf_counter() - t0


def run_bench(
    sizes=((10_000, 10_000), (100_000, 10_000)), k: int = 20, repeats: int = 3, block_rows: int = 256, n_jobs: int = -1, batch: bool = True, out=print
) -> dict:
    """Print and return benchmark figures."""
    from threadpoolctl import threadpool_info

    from matcher.rank import n_workers

    results: dict = {}
    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)" for i in threadpool_info()]
    out(f"machine: {sys.platform}, {n_workers(-1)} cores, BLAS: {'; '.join(blas)}; medians of {repeats} runs; top-k workers: {n_workers(n_jobs)}")
    results["compile_s"] = _compile_seconds()
    out(f"first call of the compiled kernels (numba compile or cache load, not in the timings below): {results['compile_s']:.2f} s")
    for n_eu, n_ca in sizes:
        results[f"{n_eu}x{n_ca}"] = _bench_size(n_eu, n_ca, k, repeats, block_rows, n_jobs, out)
    # Cosine-only top-k, one direction, against scikit-learn and sentence-transformers.
    n_eu, n_ca = sizes[0]
    eu, ca = synthetic_profiles(n_eu, seed=n_eu), synthetic_profiles(n_ca, seed=7)
    ca_t = np.ascontiguousarray(ca["emb"].T)
    ours = _median_time(lambda: blocked_top_k(lambda r: eu["emb"][r] @ ca_t, n_eu, n_ca, k, block_rows=block_rows, columns=False, n_jobs=n_jobs), repeats)
    from sklearn.neighbors import NearestNeighbors

    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="cosine").fit(ca["emb"])
    sk = _median_time(lambda: nn.kneighbors(eu["emb"], k), repeats)
    import torch
    from sentence_transformers import util

    te, tc = torch.from_numpy(eu["emb"]), torch.from_numpy(ca["emb"])
    st = _median_time(lambda: util.semantic_search(te, tc, top_k=k), repeats)
    results["cosine_topk"] = {"ours_s": ours, "sklearn_brute_s": sk, "semantic_search_s": st}
    out(f"cosine-only top-{k}, {n_eu} x {n_ca}: ours {ours:.2f} s; sklearn NearestNeighbors(brute) {sk:.2f} s; sentence-transformers semantic_search {st:.2f} s")
    if batch:
        results["batch"] = _bench_batch(out)
    return results


def _bench_batch(out) -> dict:
    from matcher.corpus import load_corpus
    from matcher.embed import EmbeddingCache, SentenceTransformerBackend, embed_documents
    from matcher.features import split_sentences

    corpus = load_corpus()
    with tempfile.TemporaryDirectory() as tmp:
        backend = SentenceTransformerBackend()
        sentences = [split_sentences(p.description) for p in corpus.profiles]
        backend.encode(["warm-up"])  # model load is not encoding time
        cache = EmbeddingCache(Path(tmp), backend.identity)
        t0 = time.perf_counter()
        _, _, stats = embed_documents(backend, sentences, cache)
        cold = time.perf_counter() - t0
        cmd = [sys.executable, "-m", "matcher.cli", "rank", "--quiet", "--out", str(Path(tmp) / "out")]
        subprocess.run(cmd, check=True, capture_output=True)  # fills the user cache if needed
        warm = []
        for _ in range(3):
            t1 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            warm.append(time.perf_counter() - t1)
    n = len(corpus.profiles)
    res = {"profiles": n, "sentences": stats.encoded, "cold_encode_s": cold, "profiles_per_s": n / cold, "warm_batch_s": statistics.median(warm)}
    out(
        f"bundled corpus ({n} profiles): cold encoding {cold:.1f} s = {n / cold:.1f} profiles/s ({stats.encoded / cold:.0f} sentences/s); "
        f"warm-cache batch `matcher rank` end to end (new process, imports included): {res['warm_batch_s']:.2f} s"
    )
    return res
