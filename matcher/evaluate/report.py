"""Report files of an evaluation: report.md, metrics.csv, pairs.csv, per_query.csv and plots."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.evaluate.harness import AREA_SYSTEM, EvaluationResult, comparison_table, pair_table
from matcher.evaluate.metrics import METRICS


def _outranked_by(matcher, scores: np.ndarray, eu_id: str, ca_id: str, direction: str, limit: int = 5) -> list[str]:
    i, j = matcher.eu_index_[eu_id], matcher.ca_index_[ca_id]
    if direction == "eu_to_ca":
        row, ids, own = scores[i], [p.id for p in matcher.ca_], j
    else:
        row, ids, own = scores[:, j], [p.id for p in matcher.eu_], i
    better = [(float(-row[x]), ids[x]) for x in range(len(ids)) if row[x] > row[own] or (row[x] == row[own] and x < own)]
    return [pid for _, pid in sorted(better)[:limit]]


def per_pair_frame(matcher, result: EvaluationResult, system: str | None = None, scores: np.ndarray | None = None) -> pd.DataFrame:
    """Each gold pair's raw and filtered ranks in both directions under ``system`` (default: the
    headline), with the candidates that outranked it (best first, up to 5)."""
    system = system or result.significance_headline or next(n for n in result.ranks if n.startswith("fused"))
    ranks = (result.pair_ranks.get(system) if result.pair_ranks else None)
    ranks = (ranks if ranks is not None else result.ranks[system]).copy()
    scores = matcher.score_matrix() if scores is None else scores
    ranks["outranked_by_eu_to_ca"] = ["; ".join(_outranked_by(matcher, scores, r.eu_id, r.ca_id, "eu_to_ca")) for r in ranks.itertuples()]
    ranks["outranked_by_ca_to_eu"] = ["; ".join(_outranked_by(matcher, scores, r.eu_id, r.ca_id, "ca_to_eu")) for r in ranks.itertuples()]
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



def _section(title: str, intro: str, frame: pd.DataFrame | None, empty: str) -> list[str]:
    body = _md_table(frame) if frame is not None and len(frame) else empty
    return [f"## {title}", "", *([intro, ""] if intro else []), body, ""]


def write_report(matcher, result: EvaluationResult, out: str | Path, network: EvaluationResult | None = None) -> dict[str, Path]:
    """Write report.md, metrics.csv, pair_metrics.csv, per_query.csv and the PNG plots to ``out``
    (atomically, file by file)."""
    from matcher.write import atomic_write_text, check_writable, frame_to_csv

    out = check_writable(Path(out))
    written = {}
    written["metrics.csv"] = atomic_write_text(out / "metrics.csv", frame_to_csv(result.table.copy()))
    if len(result.pair_table):
        written["pair_metrics.csv"] = atomic_write_text(out / "pair_metrics.csv", frame_to_csv(result.pair_table))
    scores = matcher.score_matrix()  # the evaluated weights' scores, once for every table below
    pairs = per_pair_frame(matcher, result, scores=scores)
    written["per_query.csv"] = atomic_write_text(out / "per_query.csv", frame_to_csv(pairs))
    for p in _plots(result, out):
        written[p.name] = p

    info = result.info
    weights = info.get("weights", {})
    lines = [
        "# Evaluation against known EU-Canada agreements",
        "",
        f"Corpus: `{info.get('corpus')}` (sha256 `{info.get('corpus_sha256', '')[:16]}`), {info.get('n_eu')} European and {info.get('n_ca')} Canadian profiles.",
        f"Gold: {len(result.gold)} pairs of kind {', '.join(info.get('kinds', []))} from {', '.join(info.get('gold_files', []))}; "
        f"{info.get('n_queries_eu')} European and {info.get('n_queries_ca')} Canadian queries.",
        f"Backend: {info.get('backend')} (`{info.get('model')}`); fused rows use the {info.get('weights_kind')} weights `{info.get('weights_name')}` "
        f"({', '.join(f'{k} {v:.2f}' for k, v in weights.items())}).",
        "Each gold partner is ranked among all candidates of the other side, in both directions; ties break by id.",
        "Per-query metrics are means over queries, computed with ranx; `random` is the exact expected value of a random ordering.",
        "Pair-level metrics treat each gold pair as one test case (both directions pooled). *Filtered* ranks remove the query's "
        "other gold partners from its candidates, as in link prediction; *raw* ranks keep them.",
        "The fitted-weights rows are held out: leave-one-query-out scores each query with weights fitted without it; "
        "leave-one-area-out scores each pair with weights fitted on no pair of its priority area.",
        "",
    ]
    lines += _section("Pair-level figures, filtered ranks (both directions)", "Bootstrap 95% intervals resample pairs (2000 draws).", pair_table(result, "filtered"), "No pair-level figures.")
    lines += _section("Pair-level figures, raw ranks (both directions)", "", pair_table(result, "raw"), "No pair-level figures.")
    lines += [
        "## Per-query comparison (both directions, raw ranks)",
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
    ]
    lines += _section(
        "Leave-one-area-out: do the weights transfer to sectors they were not fitted on?",
        f"One fold per priority area (a pair's area: the first of the European profile's areas that the Canadian profile shares). "
        f"Filtered figures of the fold's pairs under `{AREA_SYSTEM}`, beside leave-one-query-out on the same pairs.",
        result.area_table, "Not computed (weights were not fitted).",
    )
    lines += _section(
        "Temporal check: fitted on earlier agreements, scored on later ones",
        "Only pairs whose year is known take part; the cutoff is the median year. The same test pairs under leave-one-query-out "
        "and under the evaluated weights are shown for comparison.",
        result.temporal_table, "Not enough dated pairs on both sides of a cutoff (at least 3 each).",
    )
    lines += _section(
        "Seed-only against all-gold fitting",
        "Weights fitted on the seed document's agreements only, scored on the agreements documented since, against "
        "leave-one-query-out weights fitted on all gold (the query's own pairs held out) on the same pairs.",
        result.seed_table, "Not computed (the gold has no pairs beside the seed's, or the seed's file is not among the gold files).",
    )
    lines += _section(
        "Per gold file and per confidence (leave-one-query-out weights)",
        "Bootstrap 95% intervals resample pairs (2000 draws); `unstated` is a gold file without a confidence column (the seed's).",
        result.group_table, "Not computed (weights were not fitted).",
    )
    lines += _section(
        "Regularisation of the fitted weights, chosen by cross-validation",
        f"Leave-one-query-out pair-level figures per logistic-regression C; chosen: C = {result.chosen_C}.",
        result.c_table, "Not computed (weights were not fitted).",
    )
    lines += [
        f"## Significance: {result.significance_headline} against each other system",
        "",
        f"Paired Fisher randomization test over queries (both directions), {info.get('n_resamples')} sign flips, seed {info.get('seed')}.",
        "",
        _md_table(result.significance),
        "",
        "## Bootstrap 95% confidence intervals of per-query metrics (queries resampled, 2000 draws)",
        "",
        _md_table(result.intervals),
        "",
        "## Ablations: fused without each signal",
        "",
        _md_table(result.ablations[["system", *METRICS, "mean_rank", "median_rank"]]),
        "",
    ]
    lines += _section(
        "Diverse shortlists: what maximal marginal relevance costs and gains",
        "Each query's top 10 under the evaluated weights, re-ranked by MMR (`--diversity LAMBDA`: score minus LAMBDA x the highest "
        "redundancy, `[same country] x max(0, embedding cosine)`, with the candidates listed above). Cost: pair-level hits@10 of the "
        "gold (both directions pooled; filtered leaves out the query's other gold partners before the list is made). Gain: distinct "
        "countries and distinct fine sectors per top-10 list, averaged over every query of each direction (a European query's "
        "candidates are all Canadian: one country).",
        result.diversity_table, "Not computed.",
    )
    lines += [
        "## Fitted weights (all gold pairs)",
        "",
        ", ".join(f"{k}: {v:.3f}" for k, v in result.fitted_weights.items()) or "Not fitted.",
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
    lines += [f"## Every gold pair ({result.significance_headline})", "", _md_table(pairs), "", "## Missed gold pairs (raw rank above 10 in a direction, evaluated weights)", ""]
    base = per_pair_frame(matcher, result, next(n for n in result.ranks if n.startswith("fused")), scores)
    missed = base[(base.rank_eu_to_ca > 10) | (base.rank_ca_to_eu > 10)]
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
            for other in _outranked_by(matcher, scores, row.eu_id, row.ca_id, direction, limit=3):
                oe, oc = (row.eu_id, other) if direction == "eu_to_ca" else (other, row.ca_id)
                oex = matcher.explain(oe, oc)
                lines.append(f"  - {other}: score {oex.score:.3f} (" + ", ".join(f"{c.signal} {c.contribution:.3f}" for c in oex.contributions) + ")")
        lines.append("")
    written["report.md"] = atomic_write_text(out / "report.md", "\n".join(lines) + "\n")
    return written
