"""Evaluate stage: how well the engine finds known agreements, against baselines, with significance.

Both directions count: for every gold pair, the rank of the Canadian partner among all Canadian
candidates for the European query, and the reverse. Metrics follow ranx's names and shapes
(``{query: {doc: score}}``; ``recall@10``, ``mrr``, ``ndcg@10``, ``map``) and are computed by ranx.
Ties in a score matrix are broken by candidate id before ranx sees the run, so every figure is
deterministic.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.errors import GoldError
from matcher.gold import SIGNED_KINDS, GoldPair, load_gold
from matcher.rank import rank_matrix, reciprocal_score
from matcher.score import SIGNALS, fuse

__all__ = [
    "CUTOFFS",
    "METRICS",
    "EvaluationResult",
    "cross_validated_scores",
    "evaluate",
    "evaluate_matrices",
    "fisher_randomization",
    "fit_weights",
    "gold_ranks",
    "random_expectation",
    "run_evaluation",
    "save_fitted_weights",
    "write_report",
]

log = logging.getLogger(__name__)

CUTOFFS = (1, 3, 5, 10)
METRICS = (*(f"recall@{k}" for k in CUTOFFS), "mrr", "ndcg@10", "map")
DIRECTIONS = ("eu_to_ca", "ca_to_eu")
CV_SYSTEM = "fused, fitted weights (LOQO-CV)"


# ----------------------------------------------------------------------------- ranks and metrics


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


# ----------------------------------------------------------------------------- statistics


def fisher_randomization(a: np.ndarray, b: np.ndarray, n_resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided paired randomization test (sign flips of per-query differences); returns the p-value."""
    diff = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    observed = abs(diff.mean())
    if not np.any(diff):
        return 1.0
    rng = np.random.default_rng(seed)
    signs = rng.choice([-1.0, 1.0], size=(n_resamples, len(diff)))
    stats = np.abs((signs * diff).mean(axis=1))
    return float((1 + np.sum(stats >= observed - 1e-12)) / (n_resamples + 1))


def bootstrap_ci(values: np.ndarray, n_resamples: int = 2_000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap confidence interval of the mean over queries."""
    values = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(n_resamples, len(values)))].mean(axis=1)
    lo, hi = np.quantile(means, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


# ----------------------------------------------------------------------------- fitted weights


def fit_weights(signals: Mapping[str, np.ndarray], positives: Iterable[tuple[int, int]], rows: np.ndarray | None = None, cols: np.ndarray | None = None, seed: int = 0) -> dict[str, float]:
    """Fusion weights learned by logistic regression on the signals of gold pairs against all other pairs.

    Only the pairs in ``rows x cols`` (default: all) are used. Negative coefficients are set to 0 and
    the rest scaled to sum to 1: ranking depends on the direction of the weights only, and
    non-negative weights keep every contribution readable as support for a pair.
    """
    from sklearn.linear_model import LogisticRegression

    names = [s for s in SIGNALS if s in signals]
    n_eu, n_ca = signals[names[0]].shape
    rows = np.arange(n_eu) if rows is None else np.asarray(rows)
    cols = np.arange(n_ca) if cols is None else np.asarray(cols)
    x = np.stack([signals[s][np.ix_(rows, cols)].ravel() for s in names], axis=1)
    y = np.zeros((len(rows), len(cols)), dtype=int)
    rpos = {r: i for i, r in enumerate(rows)}
    cpos = {c: j for j, c in enumerate(cols)}
    for i, j in positives:
        if i in rpos and j in cpos:
            y[rpos[i], cpos[j]] = 1
    y = y.ravel()
    if y.sum() == 0:
        from matcher.errors import GoldError

        raise GoldError(
            "no gold pair is left to fit weights on once the held-out query is removed; "
            "cross-validation needs gold pairs outside each query (add pairs, or evaluate without fitting)"
        )
    model = LogisticRegression(class_weight="balanced", C=1.0, max_iter=1000, random_state=seed).fit(x, y)
    coef = np.clip(model.coef_.ravel(), 0.0, None)
    if coef.sum() == 0:
        coef = np.ones_like(coef)
    coef = coef / coef.sum()
    return {name: float(round(c, 6)) for name, c in zip(names, coef, strict=True)}


@dataclass
class FoldRecord:
    """What one cross-validation fold was fitted on and what it scored."""

    query: str
    direction: str
    train_pairs: tuple[tuple[str, str], ...]
    weights: dict[str, float]


def cross_validated_scores(
    signals: Mapping[str, np.ndarray],
    eu_ids: Sequence[str],
    ca_ids: Sequence[str],
    gold: Sequence[GoldPair],
    fitter: Callable[..., dict[str, float]] = fit_weights,
) -> tuple[dict[str, np.ndarray], list[FoldRecord]]:
    """Leave-one-query-out scores: each query's row (or column) is scored with weights fitted
    without that query's row (or column) and so without any of its gold pairs.

    Returns one held-out score matrix per direction (rows or columns of held-out queries filled)
    and a record of every fold's training pairs.
    """
    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    positives = [(ei[g.eu_id], ci[g.ca_id]) for g in gold]
    out = {"eu_to_ca": np.full(signals["semantic"].shape, -np.inf), "ca_to_eu": np.full(signals["semantic"].shape, -np.inf)}
    folds: list[FoldRecord] = []
    for direction in DIRECTIONS:
        queries = sorted({g.eu_id if direction == "eu_to_ca" else g.ca_id for g in gold})
        for q in queries:
            if direction == "eu_to_ca":
                rows = np.delete(np.arange(len(eu_ids)), ei[q])
                cols = np.arange(len(ca_ids))
                train = [(i, j) for i, j in positives if i != ei[q]]
            else:
                rows = np.arange(len(eu_ids))
                cols = np.delete(np.arange(len(ca_ids)), ci[q])
                train = [(i, j) for i, j in positives if j != ci[q]]
            weights = fitter(signals, train, rows=rows, cols=cols)
            fused = fuse(signals, weights)
            if direction == "eu_to_ca":
                out[direction][ei[q]] = fused[ei[q]]
            else:
                out[direction][:, ci[q]] = fused[:, ci[q]]
            folds.append(FoldRecord(q, direction, tuple((eu_ids[i], ca_ids[j]) for i, j in train), weights))
    return out, folds


# ----------------------------------------------------------------------------- the harness


@dataclass
class EvaluationResult:
    """Everything the evaluation computed; ``write`` turns it into the report files."""

    table: pd.DataFrame
    per_query: dict[str, pd.DataFrame]
    ranks: dict[str, pd.DataFrame]
    significance: pd.DataFrame
    intervals: pd.DataFrame
    ablations: pd.DataFrame
    fitted_weights: dict[str, float]
    folds: list[FoldRecord]
    network_table: pd.DataFrame | None
    gold: tuple[GoldPair, ...]
    significance_headline: str = ""
    info: dict = field(default_factory=dict)


def evaluate_matrices(systems: Mapping[str, np.ndarray | None], eu_ids, ca_ids, gold) -> tuple[pd.DataFrame, dict, dict]:
    """Metric table (one row per system and direction) for score matrices on the same queries.

    A system given as None is the random baseline, reported at its exact expected values
    (mean and median rank included: ``(n + 1) / 2``).
    """
    table_rows, per_query, ranks = [], {}, {}
    for name, scores in systems.items():
        if scores is None:
            pq = _random_per_query(eu_ids, ca_ids, gold)
            # Expected rank of a relevant item in a random ordering of n candidates: (n + 1) / 2.
            rk = pd.DataFrame(
                {"eu_id": [g.eu_id for g in gold], "ca_id": [g.ca_id for g in gold], "kind": [g.kind for g in gold],
                 "rank_eu_to_ca": (len(ca_ids) + 1) / 2, "rank_ca_to_eu": (len(eu_ids) + 1) / 2}
            )
        elif isinstance(scores, dict):  # separate held-out matrices per direction
            parts = [per_query_metrics(scores[d], eu_ids, ca_ids, gold) for d in DIRECTIONS]
            pq = pd.concat([parts[0][parts[0].direction == "eu_to_ca"], parts[1][parts[1].direction == "ca_to_eu"]], ignore_index=True)
            r1 = gold_ranks(scores["eu_to_ca"], eu_ids, ca_ids, gold)
            r2 = gold_ranks(scores["ca_to_eu"], eu_ids, ca_ids, gold)
            rk = r1.assign(rank_ca_to_eu=r2["rank_ca_to_eu"])
        else:
            pq = per_query_metrics(scores, eu_ids, ca_ids, gold)
            rk = gold_ranks(scores, eu_ids, ca_ids, gold)
        per_query[name], ranks[name] = pq, rk
        for direction, values in summarise_metrics(pq, rk).items():
            table_rows.append({"system": name, "direction": direction, **values})
    return pd.DataFrame(table_rows), per_query, ranks


def run_evaluation(matcher, gold: Sequence[GoldPair], seed: int = 0, n_resamples: int = 10_000, fit: bool = True) -> EvaluationResult:
    """Evaluate a fitted :class:`~matcher.Matcher` on ``gold`` pairs (all of the same selection of kinds).

    With ``fit=False`` no weights are fitted: no cross-validated system and no fitted weights.
    """
    eu_ids = [p.id for p in matcher.eu_]
    ca_ids = [p.id for p in matcher.ca_]
    signals = matcher.signals_
    fused = matcher.scores_
    # Reciprocal ordering: the harmonic-mean reciprocal rank, ties broken by the fused score.
    recip = reciprocal_score(rank_matrix(fused), rank_matrix(fused.T).T) + 1e-9 * (fused - fused.min()) / (np.ptp(fused) + 1e-12)
    cv_scores, folds = cross_validated_scores(signals, eu_ids, ca_ids, gold) if fit else (None, [])
    systems: dict[str, object] = {"random": None}
    for name in SIGNALS:
        systems[f"{name} only"] = signals[name]
    label = f"{matcher.weights_.kind} weights {matcher.weights_.name}"
    systems[f"fused, {label}"] = fused
    systems[f"fused reciprocal, {label}"] = recip
    if fit:
        systems[CV_SYSTEM] = cv_scores
    table, per_query, ranks = evaluate_matrices(systems, eu_ids, ca_ids, gold)

    headline = CV_SYSTEM if fit else f"fused, {label}"
    sig_rows = []
    base = per_query[headline]
    for name, pq in per_query.items():
        if name == headline:
            continue
        for metric in ("mrr", "recall@10"):
            a, b = base[metric].to_numpy(), pq[metric].to_numpy()
            sig_rows.append(
                {
                    "system": name,
                    "metric": metric,
                    "fused": float(a.mean()),
                    "baseline": float(b.mean()),
                    "wins": int(np.sum(a > b + 1e-12)),
                    "ties": int(np.sum(np.abs(a - b) <= 1e-12)),
                    "losses": int(np.sum(a < b - 1e-12)),
                    "p_value": fisher_randomization(a, b, n_resamples=n_resamples, seed=seed),
                }
            )
    intervals = []
    for name in (n for n in (f"fused, {label}", f"fused reciprocal, {label}", CV_SYSTEM) if n in per_query):
        for metric in ("mrr", "recall@10", "ndcg@10"):
            lo, hi = bootstrap_ci(per_query[name][metric].to_numpy(), seed=seed)
            intervals.append({"system": name, "metric": metric, "mean": float(per_query[name][metric].mean()), "ci95_low": lo, "ci95_high": hi})

    ablation_systems = {}
    for name in SIGNALS:
        w = dict(matcher.weights_.weights)
        w[name] = 0.0
        ablation_systems[f"without {name}"] = fuse(signals, w, matcher.weights_.bias)
    ablation_table, _, _ = evaluate_matrices({"all signals": fused, **ablation_systems}, eu_ids, ca_ids, gold)
    ablations = ablation_table[ablation_table.direction == "both"].reset_index(drop=True)

    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    fitted = fit_weights(signals, [(ei[g.eu_id], ci[g.ca_id]) for g in gold], seed=seed) if fit else {}
    return EvaluationResult(
        table=table,
        per_query=per_query,
        ranks=ranks,
        significance=pd.DataFrame(sig_rows),
        intervals=pd.DataFrame(intervals),
        ablations=ablations,
        fitted_weights=fitted,
        folds=folds,
        network_table=None,
        gold=tuple(gold),
        significance_headline=headline,
    )


def load_gold_files(paths: Sequence[str | Path] | None, corpus, kinds: Sequence[str] | None) -> tuple[GoldPair, ...]:
    """Gold pairs from one or more files (the bundled seed file when none), duplicates kept once."""
    seen: dict[tuple[str, str], GoldPair] = {}
    for path in paths or [None]:
        for g in load_gold(path, corpus, kinds=kinds):
            seen.setdefault((g.eu_id, g.ca_id), g)
    return tuple(seen.values())



# ----------------------------------------------------------------------------- report files


def _outranked_by(matcher, eu_id: str, ca_id: str, direction: str, limit: int = 5) -> list[str]:
    scores = matcher.scores_
    i, j = matcher.eu_index_[eu_id], matcher.ca_index_[ca_id]
    if direction == "eu_to_ca":
        row, ids, own = scores[i], [p.id for p in matcher.ca_], j
    else:
        row, ids, own = scores[:, j], [p.id for p in matcher.eu_], i
    better = [(float(-row[x]), ids[x]) for x in range(len(ids)) if row[x] > row[own] or (row[x] == row[own] and x < own)]
    return [pid for _, pid in sorted(better)[:limit]]


def per_pair_frame(matcher, result: EvaluationResult, system: str | None = None) -> pd.DataFrame:
    """Each gold pair's ranks in both directions and the candidates that outranked it (best first, up to 5)."""
    system = system or result.info.get("headline") or next(n for n in result.ranks if n.startswith("fused"))
    ranks = result.ranks[system].copy()
    ranks["outranked_by_eu_to_ca"] = ["; ".join(_outranked_by(matcher, r.eu_id, r.ca_id, "eu_to_ca")) for r in ranks.itertuples()]
    ranks["outranked_by_ca_to_eu"] = ["; ".join(_outranked_by(matcher, r.eu_id, r.ca_id, "ca_to_eu")) for r in ranks.itertuples()]
    return ranks


def _plots(result: EvaluationResult, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    ks = list(range(1, 21))
    for name, ranks in result.ranks.items():
        if name == "random":
            n = result.info.get("n_candidates_mean", 100)
            ax.plot(ks, [min(k, n) / n for k in ks], linestyle=":", color="grey", label="random (expected)")
            continue
        values = np.concatenate([ranks["rank_eu_to_ca"].to_numpy(), ranks["rank_ca_to_eu"].to_numpy()])
        ax.plot(ks, [(values <= k).mean() for k in ks], marker="." if "fused" in name else None, label=name)
    ax.set_xlabel("k (candidates shown)")
    ax.set_ylabel("share of gold partners in the top k (both directions)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Recall@k of known agreements")
    fig.tight_layout()
    paths.append(out / "recall_at_k.png")
    fig.savefig(paths[-1], metadata={"Software": None})
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.8), dpi=110)
    ranks = result.ranks[f"fused, {result.info['weights_kind']} weights {result.info['weights_name']}"]
    bins = [1, 2, 4, 6, 11, 21, 51, 1000]
    labels = ["1", "2-3", "4-5", "6-10", "11-20", "21-50", ">50"]
    width = 0.4
    for offset, col, label in ((-width / 2, "rank_eu_to_ca", "European query"), (width / 2, "rank_ca_to_eu", "Canadian query")):
        counts, _ = np.histogram(ranks[col], bins=bins)
        ax.bar(np.arange(len(labels)) + offset, counts, width=width, label=label)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set_xlabel(f"rank of the gold partner (fused, {result.info['weights_name']})")
    ax.set_ylabel("gold pairs")
    ax.legend()
    ax.set_title("Where the known partners rank")
    fig.tight_layout()
    paths.append(out / "gold_rank_distribution.png")
    fig.savefig(paths[-1], metadata={"Software": None})
    plt.close(fig)
    return paths


def _md_table(frame: pd.DataFrame, floatfmt: str = ".3f") -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for row in frame.itertuples(index=False):
        cells = [format(v, floatfmt) if isinstance(v, float) and not math.isnan(v) else ("" if isinstance(v, float) else str(v)) for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_table(result: EvaluationResult, direction: str = "both") -> pd.DataFrame:
    cols = ["system", *METRICS, "mean_rank", "median_rank"]
    return result.table[result.table.direction == direction][cols].reset_index(drop=True)


def write_report(matcher, result: EvaluationResult, out: str | Path, network: EvaluationResult | None = None) -> dict[str, Path]:
    """Write report.md, metrics.csv, per_query.csv and the PNG plots to ``out`` (atomically, file by file)."""
    from matcher.write import atomic_write_text, check_writable, frame_to_csv

    out = check_writable(Path(out))
    written = {}
    metrics = result.table.copy()
    written["metrics.csv"] = atomic_write_text(out / "metrics.csv", frame_to_csv(metrics))
    pairs = per_pair_frame(matcher, result)
    written["per_query.csv"] = atomic_write_text(out / "per_query.csv", frame_to_csv(pairs))
    for p in _plots(result, out):
        written[p.name] = p

    info = result.info
    lines = [
        "# Evaluation against known EU-Canada agreements",
        "",
        f"Corpus: `{info.get('corpus')}` (sha256 `{info.get('corpus_sha256', '')[:16]}`), {info.get('n_eu')} European and {info.get('n_ca')} Canadian profiles.",
        f"Gold: {len(result.gold)} pairs of kind {', '.join(info.get('kinds', []))} from {', '.join(info.get('gold_files', []))}; "
        f"{info.get('n_queries_eu')} European and {info.get('n_queries_ca')} Canadian queries.",
        f"Backend: {info.get('backend')} (`{info.get('model')}`); fused rows use the {info.get('weights_kind')} weights `{info.get('weights_name')}`.",
        "Each gold partner is ranked among all candidates of the other side, in both directions; ties break by id.",
        "Metrics are means over queries, computed with ranx; `random` is the exact expected value of a random ordering.",
        "The fitted-weights row is leave-one-query-out: each query is scored with weights fitted without it.",
        "",
        "## Comparison (both directions)",
        "",
        _md_table(comparison_table(result, "both")),
        "",
        "### European queries (rank of the Canadian partner)",
        "",
        _md_table(comparison_table(result, "eu_to_ca")),
        "",
        "### Canadian queries (rank of the European partner)",
        "",
        _md_table(comparison_table(result, "ca_to_eu")),
        "",
        f"## Significance: {result.significance_headline} against each other system",
        "",
        f"Paired Fisher randomization test over queries (both directions), {info.get('n_resamples')} sign flips, seed {info.get('seed')}.",
        "",
        _md_table(result.significance),
        "",
        "## Bootstrap 95% confidence intervals (queries resampled, 2000 draws)",
        "",
        _md_table(result.intervals),
        "",
        "## Ablations: fused without each signal",
        "",
        _md_table(result.ablations[["system", *METRICS, "mean_rank", "median_rank"]]),
        "",
        "## Fitted weights (all gold pairs)",
        "",
        ", ".join(f"{k}: {v:.3f}" for k, v in result.fitted_weights.items()),
        "",
        "![recall at k](recall_at_k.png)",
        "",
        "![gold rank distribution](gold_rank_distribution.png)",
        "",
    ]
    if network is not None:
        lines += [
            "## Network co-membership (reported apart from signed agreements)",
            "",
            _md_table(comparison_table(network, "both")),
            "",
        ]
    lines += ["## Every gold pair", "", _md_table(pairs), "", "## Missed gold pairs (rank above 10 in a direction)", ""]
    missed = pairs[(pairs.rank_eu_to_ca > 10) | (pairs.rank_ca_to_eu > 10)]
    if not len(missed):
        lines.append("None.")
    for row in missed.itertuples():
        ex = matcher.explain(row.eu_id, row.ca_id)
        lines += [
            f"### {ex.eu_name} - {ex.ca_name} (rank {row.rank_eu_to_ca} for the European query, {row.rank_ca_to_eu} for the Canadian query)",
            "",
            f"- Score {ex.score:.3f} = " + " + ".join(f"{c.label} {c.contribution:.3f}" for c in ex.contributions),
            f"- {ex.summary}",
        ]
        for direction, ranked in (("eu_to_ca", row.rank_eu_to_ca), ("ca_to_eu", row.rank_ca_to_eu)):
            if ranked <= 10:
                continue
            query = row.eu_id if direction == "eu_to_ca" else row.ca_id
            lines.append(f"- Ranked above it for `{query}`:")
            for other in _outranked_by(matcher, row.eu_id, row.ca_id, direction, limit=3):
                oe, oc = (row.eu_id, other) if direction == "eu_to_ca" else (other, row.ca_id)
                oex = matcher.explain(oe, oc)
                lines.append(f"  - {other}: score {oex.score:.3f} (" + ", ".join(f"{c.signal} {c.contribution:.3f}" for c in oex.contributions) + ")")
        lines.append("")
    written["report.md"] = atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return written


def evaluate(
    corpus=None,
    gold: Sequence[str | Path] | None = None,
    kinds: Sequence[str] | None = SIGNED_KINDS,
    out: str | Path | None = None,
    backend: str = "sentence-transformers",
    model: str | Path | None = None,
    weights: str | Path | Mapping[str, float] | None = None,
    seed: int = 0,
    n_resamples: int = 10_000,
    matcher=None,
) -> EvaluationResult:
    """Evaluate the engine on known agreements; write the report files to ``out`` when given.

    ``gold`` is one or more CSV files (default: the bundled seed agreements); ``kinds`` selects which
    gold kinds count (signed agreements by default). When the default kinds are used and the gold
    also holds ``network`` pairs, those are evaluated and reported separately.
    """
    from matcher.corpus import Corpus, load_corpus
    from matcher.engine import Matcher
    from matcher.gold import GOLD_KINDS

    if out is not None:
        from matcher.write import check_writable

        check_writable(Path(out))
    if matcher is None:
        from matcher.weights import hand_set_weights_path

        data = corpus if isinstance(corpus, Corpus) else load_corpus(corpus)
        # Hand-set weights by default: weights fitted on this gold would be scored in-sample.
        chosen = weights if weights is not None else hand_set_weights_path()
        matcher = Matcher(backend=backend, model=model, weights=chosen, gold=False).fit(data)
    data = matcher.corpus_
    pairs = load_gold_files(gold, data, kinds)
    result = run_evaluation(matcher, pairs, seed=seed, n_resamples=n_resamples)
    result.info = _info(matcher, result, gold, kinds, seed, n_resamples)
    network = None
    if kinds is not None and tuple(kinds) == tuple(SIGNED_KINDS):
        rest = [k for k in GOLD_KINDS if k not in kinds]
        try:
            others = load_gold_files(gold, data, rest)
        except GoldError:  # no network pairs in these files: nothing to report apart
            others = ()
        if others:
            network = run_evaluation(matcher, others, seed=seed, n_resamples=n_resamples, fit=False)
            network.info = _info(matcher, network, gold, rest, seed, n_resamples)
    result.network_table = None if network is None else comparison_table(network)
    if out is not None:
        write_report(matcher, result, out, network)
    return result


def _info(matcher, result: EvaluationResult, gold, kinds, seed: int, n_resamples: int) -> dict:
    n_eu, n_ca = len(matcher.eu_), len(matcher.ca_)
    q_eu = len({g.eu_id for g in result.gold})
    q_ca = len({g.ca_id for g in result.gold})
    return {
        "corpus": matcher.corpus_.path,
        "corpus_sha256": matcher.corpus_.fingerprint,
        "n_eu": n_eu,
        "n_ca": n_ca,
        "n_queries_eu": q_eu,
        "n_queries_ca": q_ca,
        "n_candidates_mean": (q_eu * n_ca + q_ca * n_eu) / max(q_eu + q_ca, 1),
        "kinds": list(kinds) if kinds else ["all"],
        "gold_files": [str(g) for g in gold] if gold else ["evaluation/gold/seed_agreements.csv"],
        "backend": matcher.backend_.name,
        "model": getattr(matcher.backend_, "identity", ""),
        "weights_name": matcher.weights_.name,
        "weights_kind": matcher.weights_.kind,
        "seed": seed,
        "n_resamples": n_resamples,
    }


def save_fitted_weights(result: EvaluationResult, path: str | Path, force: bool = False) -> tuple[Path, Path]:
    """Save the weights fitted on all gold pairs, with a model card holding the cross-validated metrics."""
    from matcher._meta import git_commit, library_versions
    from matcher.weights import Weights, save_weights

    table = comparison_table(result)
    cv = table[table.system == CV_SYSTEM].iloc[0]
    card = {
        "kind": "fitted",
        "method": "logistic regression on the five signals (class-balanced), negative coefficients set to 0, scaled to sum 1",
        "gold": {"files": ", ".join(result.info["gold_files"]), "kinds": ", ".join(result.info["kinds"]), "pairs": len(result.gold)},
        "corpus_sha256": result.info["corpus_sha256"],
        "backend": f"{result.info['backend']} ({result.info['model']})",
        "cv_metrics (leave-one-query-out, both directions)": {m: round(float(cv[m]), 4) for m in (*METRICS, "mean_rank", "median_rank")},
        "library_versions": library_versions(),
        "commit": git_commit(),
    }
    return save_weights(Weights(result.fitted_weights, 0.0, Path(path).stem, "fitted"), path, card, force=force)
