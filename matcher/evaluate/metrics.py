"""Ranks and metrics: where gold partners rank, ranx's per-query metrics, and pair-level raw and
filtered figures as in link prediction.

Metrics follow ranx's names and shapes (``{query: {doc: score}}``; ``recall@10``, ``mrr``,
``ndcg@10``, ``map``) and are computed by ranx. Ties in a score matrix are broken by candidate id
(candidate order) before ranx sees the run, so every figure is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from matcher.gold import GoldPair
from matcher.rank import rank_matrix

CUTOFFS = (1, 3, 5, 10)
METRICS = (*(f"recall@{k}" for k in CUTOFFS), "mrr", "ndcg@10", "map")
DIRECTIONS = ("eu_to_ca", "ca_to_eu")


def gold_ranks(scores: np.ndarray, eu_ids: Sequence[str], ca_ids: Sequence[str], gold: Iterable[GoldPair]) -> pd.DataFrame:
    """Rank of every gold partner in both directions (1 = best; ties broken by candidate id)."""
    r_ec = rank_matrix(scores)
    r_ce = rank_matrix(scores.T)
    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    rows = [
        {"eu_id": g.eu_id, "ca_id": g.ca_id, "kind": g.kind, "rank_eu_to_ca": int(r_ec[ei[g.eu_id], ci[g.ca_id]]), "rank_ca_to_eu": int(r_ce[ci[g.ca_id], ei[g.eu_id]])}
        for g in gold
    ]
    return pd.DataFrame(rows, columns=["eu_id", "ca_id", "kind", "rank_eu_to_ca", "rank_ca_to_eu"])


def _qrels_and_run(scores: np.ndarray, eu_ids: Sequence[str], ca_ids: Sequence[str], gold: Sequence[GoldPair], direction: str):
    """ranx-shaped ``{query: {doc: relevance}}`` and ``{query: {doc: score}}`` for one direction.

    Scores handed to ranx are ``n - rank + 1`` so that ranx's ordering equals ours, ties included.
    """
    if direction == "eu_to_ca":
        matrix, q_ids, d_ids = scores, eu_ids, ca_ids
        pairs = [(g.eu_id, g.ca_id) for g in gold]
    else:
        matrix, q_ids, d_ids = scores.T, ca_ids, eu_ids
        pairs = [(g.ca_id, g.eu_id) for g in gold]
    qrels: dict[str, dict[str, int]] = {}
    for q, d in pairs:
        qrels.setdefault(q, {})[d] = 1
    index = {q: i for i, q in enumerate(q_ids)}
    queries = sorted(qrels)
    ranks = rank_matrix(matrix[[index[q] for q in queries]])
    n = len(d_ids)
    run = {q: {d_ids[j]: float(n - ranks[i, j] + 1) for j in range(n)} for i, q in enumerate(queries)}
    return qrels, run


def per_query_metrics(scores: np.ndarray, eu_ids: Sequence[str], ca_ids: Sequence[str], gold: Sequence[GoldPair]) -> pd.DataFrame:
    """One row per (direction, query) with every metric, computed by ranx."""
    from ranx import Qrels, Run
    from ranx import evaluate as rx_evaluate

    frames = []
    for direction in DIRECTIONS:
        qrels, run = _qrels_and_run(scores, eu_ids, ca_ids, gold, direction)
        values = rx_evaluate(Qrels(qrels), Run(run), list(METRICS), return_mean=False, make_comparable=True)
        frame = pd.DataFrame({m: np.asarray(values[m], dtype=float) for m in METRICS})
        frame.insert(0, "query", sorted(qrels))
        frame.insert(0, "direction", direction)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def random_expectation(n_candidates: int, n_relevant: int) -> dict[str, float]:
    """Exact expected metric values of a uniformly random ordering of ``n`` candidates with ``R`` relevant."""
    n, r = n_candidates, n_relevant
    out = {f"recall@{k}": min(k, n) / n for k in CUTOFFS}
    # First relevant at position p: C(n-p, R-1) / C(n, R).
    total = math.comb(n, r)
    out["mrr"] = sum(math.comb(n - p, r - 1) / total / p for p in range(1, n - r + 2))
    harmonic = sum(1 / p for p in range(1, n + 1))
    out["map"] = (harmonic + (r - 1) / (n - 1) * (n - harmonic)) / n if n > 1 else 1.0
    dcg = sum((r / n) / math.log2(p + 1) for p in range(1, min(10, n) + 1))
    idcg = sum(1 / math.log2(p + 1) for p in range(1, min(10, r) + 1))
    out["ndcg@10"] = dcg / idcg
    return out


def _random_per_query(eu_ids, ca_ids, gold) -> pd.DataFrame:
    rows = []
    for direction in DIRECTIONS:
        counts: dict[str, int] = {}
        for g in gold:
            q = g.eu_id if direction == "eu_to_ca" else g.ca_id
            counts[q] = counts.get(q, 0) + 1
        n = len(ca_ids) if direction == "eu_to_ca" else len(eu_ids)
        for q in sorted(counts):
            rows.append({"direction": direction, "query": q, **random_expectation(n, counts[q])})
    return pd.DataFrame(rows)


def summarise_metrics(per_query: pd.DataFrame, ranks: pd.DataFrame | None) -> dict[str, dict[str, float]]:
    """Mean of every metric per direction and overall, plus mean and median rank of gold partners."""
    out = {}
    for name, part in (("eu_to_ca", per_query[per_query.direction == "eu_to_ca"]), ("ca_to_eu", per_query[per_query.direction == "ca_to_eu"]), ("both", per_query)):
        row = {m: float(part[m].mean()) for m in METRICS}
        if ranks is not None:
            cols = ["rank_eu_to_ca"] if name == "eu_to_ca" else ["rank_ca_to_eu"] if name == "ca_to_eu" else ["rank_eu_to_ca", "rank_ca_to_eu"]
            values = np.concatenate([ranks[c].to_numpy() for c in cols])
            row["mean_rank"] = float(values.mean())
            row["median_rank"] = float(np.median(values))
        out[name] = row
    return out



# ----------------------------------------------------------------------------- pair-level, raw and filtered

PAIR_METRICS = ("mrr", "hits@1", "hits@3", "hits@10", "mean_rank", "median_rank")
PAIR_COLUMNS = ("eu_id", "ca_id", "kind", "year", "confidence", "file")


def rank_in(values: np.ndarray, own: int, exclude: Iterable[int] = ()) -> int:
    """1-based rank of candidate ``own`` among ``values`` (higher first, ties by position), with the
    candidates in ``exclude`` removed first."""
    better = (values > values[own]) | ((values == values[own]) & (np.arange(len(values)) < own))
    skip = [x for x in exclude if x != own]
    if skip:
        better[skip] = False
    return int(better.sum()) + 1


def pair_ranks(
    scores: np.ndarray | dict[str, np.ndarray],
    eu_ids: Sequence[str],
    ca_ids: Sequence[str],
    pairs: Sequence[GoldPair],
    gold: Sequence[GoldPair] | None = None,
) -> pd.DataFrame:
    """Raw and filtered rank of every pair's partner in both directions.

    Raw ranks are among all candidates; filtered ranks remove the query's other partners in
    ``gold`` (default: ``pairs``) from the candidates, as in link prediction, so that a query with
    three documented partners is not penalised for ranking the other two first. ``scores`` is one
    matrix or one matrix per direction (held-out rows or columns).
    """
    gold = pairs if gold is None else gold
    by_dir = scores if isinstance(scores, dict) else dict.fromkeys(DIRECTIONS, scores)
    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    partners_of_eu: dict[str, list[int]] = {}
    partners_of_ca: dict[str, list[int]] = {}
    for g in gold:
        partners_of_eu.setdefault(g.eu_id, []).append(ci[g.ca_id])
        partners_of_ca.setdefault(g.ca_id, []).append(ei[g.eu_id])
    rows = []
    for g in pairs:
        i, j = ei[g.eu_id], ci[g.ca_id]
        row, col = by_dir["eu_to_ca"][i], by_dir["ca_to_eu"][:, j]
        others_ca = partners_of_eu.get(g.eu_id, [])
        others_eu = partners_of_ca.get(g.ca_id, [])
        rows.append(
            {
                "eu_id": g.eu_id, "ca_id": g.ca_id, "kind": g.kind, "year": g.year, "confidence": g.confidence or "unstated", "file": g.file,
                "rank_eu_to_ca": rank_in(row, j), "rank_ca_to_eu": rank_in(col, i),
                "filtered_eu_to_ca": rank_in(row, j, others_ca), "filtered_ca_to_eu": rank_in(col, i, others_eu),
                "candidates_eu_to_ca": len(ca_ids), "candidates_ca_to_eu": len(eu_ids),
                "filtered_candidates_eu_to_ca": len(ca_ids) - len(set(others_ca) - {j}),
                "filtered_candidates_ca_to_eu": len(eu_ids) - len(set(others_eu) - {i}),
            }
        )
    columns = [*PAIR_COLUMNS, "rank_eu_to_ca", "rank_ca_to_eu", "filtered_eu_to_ca", "filtered_ca_to_eu",
               "candidates_eu_to_ca", "candidates_ca_to_eu", "filtered_candidates_eu_to_ca", "filtered_candidates_ca_to_eu"]
    return pd.DataFrame(rows, columns=columns)


def _rank_columns(filtered: bool) -> tuple[str, str]:
    prefix = "filtered" if filtered else "rank"
    return f"{prefix}_eu_to_ca", f"{prefix}_ca_to_eu"


def per_pair_values(ranks: pd.DataFrame, filtered: bool) -> pd.DataFrame:
    """Each pair's metric values, both directions averaged: the units a bootstrap over pairs resamples."""
    a, b = (ranks[c].to_numpy(dtype=float) for c in _rank_columns(filtered))
    out = {"mrr": (1 / a + 1 / b) / 2}
    for k in (1, 3, 10):
        out[f"hits@{k}"] = ((a <= k).astype(float) + (b <= k)) / 2
    out["mean_rank"] = (a + b) / 2
    return pd.DataFrame(out)


def pair_metrics(ranks: pd.DataFrame, filtered: bool) -> dict[str, float]:
    """Pair-level metrics pooled over both directions: MRR, hits@k, mean and median rank."""
    if not len(ranks):
        return dict.fromkeys((*PAIR_METRICS, "pairs"), float("nan"))
    values = per_pair_values(ranks, filtered)
    both = np.concatenate([ranks[c].to_numpy(dtype=float) for c in _rank_columns(filtered)])
    out = {m: float(values[m].mean()) for m in PAIR_METRICS if m in values}
    out["median_rank"] = float(np.median(both))
    out["pairs"] = len(ranks)
    return out


def random_pair_metrics(ranks: pd.DataFrame, filtered: bool) -> dict[str, float]:
    """Exact expected pair-level metrics of a uniformly random ordering of the same candidates."""
    prefix = "filtered_candidates" if filtered else "candidates"
    ns = np.concatenate([ranks[f"{prefix}_eu_to_ca"].to_numpy(), ranks[f"{prefix}_ca_to_eu"].to_numpy()])
    out = {"mrr": float(np.mean([sum(1 / p for p in range(1, n + 1)) / n for n in ns]))}
    for k in (1, 3, 10):
        out[f"hits@{k}"] = float(np.mean([min(k, n) / n for n in ns]))
    out["mean_rank"] = float(np.mean((ns + 1) / 2))
    out["median_rank"] = float(np.median((ns + 1) / 2))
    out["pairs"] = len(ranks)
    return out
