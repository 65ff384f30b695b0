"""The evaluation harness: every system scored on the same gold, per query (ranx) and per pair
(raw and filtered), with held-out fits, significance and intervals."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.diversify import diversified_top_k
from matcher.errors import GoldError
from matcher.evaluate.folds import (
    C_GRID,
    FoldRecord,
    HeldOut,
    area_folds,
    cross_validated_scores,
    fit_weights,
    held_out_ranks,
    temporal_fold,
)
from matcher.evaluate.metrics import (
    DIRECTIONS,
    METRICS,
    PAIR_METRICS,
    _random_per_query,
    gold_ranks,
    pair_metrics,
    pair_ranks,
    per_pair_values,
    per_query_metrics,
    random_pair_metrics,
    summarise_metrics,
)
from matcher.evaluate.stats import bootstrap_ci, fisher_randomization
from matcher.gold import GOLD_KINDS, SIGNED_KINDS, GoldPair, load_gold_files
from matcher.rank import rank_matrix, reciprocal_score
from matcher.score import SIGNALS, fuse

log = logging.getLogger(__name__)

CV_SYSTEM = "fused, fitted weights (LOQO-CV)"
AREA_SYSTEM = "fused, fitted weights (leave-one-area-out)"
SEED_FILE = "seed_agreements.csv"
# The diversity levels (LAMBDA) the report compares, and the list length it looks at.
DIVERSITY_LEVELS = (0.0, 0.05, 0.1, 0.25, 0.5, 1.0)
DIVERSITY_K = 10


@dataclass
class EvaluationResult:
    """Everything the evaluation computed; :func:`~matcher.evaluate.write_report` turns it into files."""

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
    pair_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    pair_ranks: dict[str, pd.DataFrame] = field(default_factory=dict)
    area_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    temporal_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    group_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    seed_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    c_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    chosen_C: float | None = None
    diversity_table: pd.DataFrame = field(default_factory=pd.DataFrame)


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


def _pair_rows(name: str, ranks: pd.DataFrame, seed: int, random: bool = False) -> list[dict]:
    """Raw and filtered pair-level rows for one system, with bootstrap intervals over pairs."""
    rows = []
    for filtered in (False, True):
        values = (random_pair_metrics if random else pair_metrics)(ranks, filtered)
        row = {"system": name, "ranks": "filtered" if filtered else "raw", **values}
        if not random and len(ranks):
            per_pair = per_pair_values(ranks, filtered)
            for m in ("mrr", "hits@10"):
                lo, hi = bootstrap_ci(per_pair[m].to_numpy(), seed=seed)
                row[f"{m} ci95"] = f"{lo:.3f}-{hi:.3f}"
        rows.append(row)
    return rows


def _group_rows(ranks: pd.DataFrame, column: str, seed: int) -> list[dict]:
    rows = []
    for value, part in ranks.groupby(column, sort=True):
        for filtered in (False, True):
            per_pair = per_pair_values(part, filtered)
            row = {"by": column, "group": value, "ranks": "filtered" if filtered else "raw", **pair_metrics(part, filtered)}
            for m in ("mrr", "hits@10"):
                lo, hi = bootstrap_ci(per_pair[m].to_numpy(), seed=seed)
                row[f"{m} ci95"] = f"{lo:.3f}-{hi:.3f}"
            rows.append(row)
    return rows


def choose_c(signals, eu_ids, ca_ids, gold, grid: Sequence[float] = C_GRID) -> tuple[float, pd.DataFrame, dict, list[FoldRecord]]:
    """Regularisation strength with the best leave-one-query-out filtered MRR (ties: the smaller C).

    Returns the chosen C, one row of cross-validated figures per C, and the held-out score
    matrices and fold records of the chosen C.
    """
    rows, matrices = [], {}
    for c in grid:
        matrices[c] = cv, _ = cross_validated_scores(signals, eu_ids, ca_ids, gold, fit_options={"C": c})
        ranks = pair_ranks(cv, eu_ids, ca_ids, gold)
        rows.append({"C": c, **{f"raw {m}": v for m, v in pair_metrics(ranks, False).items() if m in ("mrr", "hits@10")},
                     **{f"filtered {m}": v for m, v in pair_metrics(ranks, True).items() if m in ("mrr", "hits@10")}})
    table = pd.DataFrame(rows)
    best = float(table.sort_values(["filtered mrr", "C"], ascending=[False, True]).iloc[0]["C"])
    return best, table, *matrices[best]


def diversity_table(matcher, scores: np.ndarray, gold: Sequence[GoldPair], levels: Sequence[float] = DIVERSITY_LEVELS, k: int = DIVERSITY_K) -> pd.DataFrame:
    """What diverse shortlists cost and gain, one row per diversity level (LAMBDA).

    Every query's top-``k`` of ``scores`` (the evaluated weights' fused scores, both directions) is
    re-ranked by MMR with the engine's function (:func:`~matcher.diversify.diversified_top_k`, the
    candidates' own features). Costs: pair-level hits@k of ``gold`` (both directions pooled, as the
    pair-level tables; *filtered* removes the query's other gold partners before the list is made).
    Gains: the mean number of distinct countries and of distinct fine sectors per list, over every
    query of each direction.
    """
    eu_ids = [p.id for p in matcher.eu_]
    ca_ids = [p.id for p in matcher.ca_]
    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    eu_f, ca_f = matcher.eu_features_, matcher.ca_features_
    partners_of_eu: dict[int, set[int]] = {}
    partners_of_ca: dict[int, set[int]] = {}
    for g in gold:
        partners_of_eu.setdefault(ei[g.eu_id], set()).add(ci[g.ca_id])
        partners_of_ca.setdefault(ci[g.ca_id], set()).add(ei[g.eu_id])
    sides = {  # query side: (query rows of the scores, candidate features, candidate profiles, gold partners)
        "eu_to_ca": (scores, ca_f, matcher.ca_, partners_of_eu),
        "ca_to_eu": (scores.T, eu_f, matcher.eu_, partners_of_ca),
    }
    rows = []
    for lam in levels:
        row: dict[str, object] = {"diversity": float(lam)}
        listed: dict[str, dict[tuple[int, int], set[int]]] = {}  # direction -> (query, gold partner) -> raw and filtered lists
        spread = {}
        for direction, (matrix, feats, cands, partners) in sides.items():
            countries, sectors = [], []
            for q in range(matrix.shape[0]):
                idx, _ = diversified_top_k(matrix[q], k, lam, feats.embeddings, feats.country)
                countries.append(len({cands[c].country for c in idx}))
                sectors.append(int((feats.fine[idx].sum(axis=0) > 0).sum()))
                for own in sorted(partners.get(q, ())):
                    others = sorted(partners[q] - {own})
                    kept = matrix[q].copy()
                    kept[others] = -np.inf
                    filtered = diversified_top_k(kept, k, lam, feats.embeddings, feats.country)[0] if others else idx
                    listed.setdefault(direction, {})[(q, own)] = (set(idx.tolist()), set(filtered.tolist()))
            spread[direction] = (float(np.mean(countries)), float(np.mean(sectors)))
        for n, kind in ((1, "filtered"), (0, "raw")):
            per_pair = [(float(ci[g.ca_id] in listed["eu_to_ca"][(ei[g.eu_id], ci[g.ca_id])][n])
                         + float(ei[g.eu_id] in listed["ca_to_eu"][(ci[g.ca_id], ei[g.eu_id])][n])) / 2 for g in gold]
            row[f"{kind} hits@{k}"] = float(np.mean(per_pair)) if per_pair else float("nan")
        for direction, label in (("eu_to_ca", "European queries"), ("ca_to_eu", "Canadian queries")):
            row[f"countries per list, {label}"] = spread[direction][0]
        for direction, label in (("eu_to_ca", "European queries"), ("ca_to_eu", "Canadian queries")):
            row[f"fine sectors per list, {label}"] = spread[direction][1]
        rows.append(row)
    return pd.DataFrame(rows)


def run_evaluation(
    matcher,
    gold: Sequence[GoldPair],
    seed: int = 0,
    n_resamples: int = 10_000,
    fit: bool = True,
    grid: Sequence[float] | None = None,
    diversity_levels: Sequence[float] = DIVERSITY_LEVELS,
) -> EvaluationResult:
    """Evaluate a fitted :class:`~matcher.Matcher` on ``gold`` pairs (all of the same selection of kinds).

    With ``fit=False`` no weights are fitted: no cross-validated systems and no fitted weights.
    ``grid`` is the set of regularisation strengths the refit chooses from by cross-validation
    (default :data:`~matcher.evaluate.folds.C_GRID`; one value fixes it). ``diversity_levels``:
    the LAMBDAs of the diversity table (:func:`diversity_table`; empty: none).
    """
    eu_ids = [p.id for p in matcher.eu_]
    ca_ids = [p.id for p in matcher.ca_]
    signals = matcher.signal_matrices()  # the scorer's signals, dense at evaluation scale
    fused = fuse(signals, matcher.weights_.weights, matcher.weights_.bias)
    # Reciprocal ordering: the harmonic-mean reciprocal rank, ties broken by the fused score.
    recip = reciprocal_score(rank_matrix(fused), rank_matrix(fused.T).T) + 1e-9 * (fused - fused.min()) / (np.ptp(fused) + 1e-12)
    chosen_c, c_table, cv_scores, folds = None, pd.DataFrame(), None, []
    if fit:
        chosen_c, c_table, cv_scores, folds = choose_c(signals, eu_ids, ca_ids, gold, tuple(grid or C_GRID))
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

    # Pair-level figures, raw and filtered, for every system on the same pairs.
    pair_rank_frames: dict[str, pd.DataFrame] = {}
    pair_rows = _pair_rows("random", pair_ranks(fused, eu_ids, ca_ids, gold), seed, random=True)
    for name, scores in systems.items():
        if scores is None:
            continue
        pair_rank_frames[name] = pair_ranks(scores, eu_ids, ca_ids, gold)
        pair_rows += _pair_rows(name, pair_rank_frames[name], seed)

    area_table = temporal_table = group_table = seed_table = pd.DataFrame()
    fitted: dict[str, float] = {}
    if fit:
        fit_options = {"C": chosen_c}
        area_ranks, area_records = held_out_ranks(signals, eu_ids, ca_ids, gold, area_folds(gold, matcher.corpus_), fit_options=fit_options)
        if len(area_ranks):
            pair_rank_frames[AREA_SYSTEM] = area_ranks
            pair_rows += _pair_rows(AREA_SYSTEM, area_ranks, seed)
            weights_of = {r.query: r.weights for r in area_records}
            area_table = pd.DataFrame(
                [{"held-out area": fold, "pairs": len(part), "trained on": len(next(r for r in area_records if r.query == fold).train_pairs),
                  **{f"filtered {m}": v for m, v in pair_metrics(part, True).items() if m in ("mrr", "hits@10", "median_rank")},
                  **{f"LOQO filtered {m}": v for m, v in pair_metrics(_same_pairs(pair_rank_frames[CV_SYSTEM], part), True).items() if m in ("mrr", "hits@10")},
                  "weights": ", ".join(f"{k} {v:.2f}" for k, v in weights_of[fold].items())}
                 for fold, part in area_ranks.groupby("fold", sort=True)]
            )
        temporal_table = _held_out_table(temporal_fold(gold), signals, eu_ids, ca_ids, gold, pair_rank_frames, label, fit_options, seed)
        seed_pairs = tuple(g for g in gold if g.file == SEED_FILE)
        others = tuple(g for g in gold if g.file != SEED_FILE)
        if seed_pairs and others:
            seed_table = _held_out_table(HeldOut("fitted on the seed's agreements only, scored on the documented ones", others, seed_pairs),
                                         signals, eu_ids, ca_ids, gold, pair_rank_frames, label, fit_options, seed)
        cv_ranks = pair_rank_frames[CV_SYSTEM]
        group_table = pd.DataFrame(_group_rows(cv_ranks, "file", seed) + _group_rows(cv_ranks, "confidence", seed))
        ei = {e: i for i, e in enumerate(eu_ids)}
        ci = {c: j for j, c in enumerate(ca_ids)}
        fitted = fit_weights(signals, [(ei[g.eu_id], ci[g.ca_id]) for g in gold], seed=seed, C=chosen_c)
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
        pair_table=pd.DataFrame(pair_rows),
        pair_ranks=pair_rank_frames,
        area_table=area_table,
        temporal_table=temporal_table,
        group_table=group_table,
        seed_table=seed_table,
        c_table=c_table,
        chosen_C=chosen_c,
        diversity_table=diversity_table(matcher, fused, gold, diversity_levels) if len(diversity_levels) else pd.DataFrame(),
    )


def _same_pairs(ranks: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    keys = set(zip(like.eu_id, like.ca_id, strict=True))
    return ranks[[k in keys for k in zip(ranks.eu_id, ranks.ca_id, strict=True)]]


def _held_out_table(fold: HeldOut | None, signals, eu_ids, ca_ids, gold, pair_rank_frames, label, fit_options, seed) -> pd.DataFrame:
    """One held-out split against the default weights and leave-one-query-out on the same test pairs."""
    if fold is None:
        return pd.DataFrame()
    ranks, (record,) = held_out_ranks(signals, eu_ids, ca_ids, gold, [fold], fit_options=fit_options)
    rows = []
    for name, frame in ((fold.name, ranks), (CV_SYSTEM, _same_pairs(pair_rank_frames[CV_SYSTEM], ranks)),
                        (f"fused, {label}", _same_pairs(pair_rank_frames[f"fused, {label}"], ranks))):
        for row in _pair_rows(name, frame, seed):
            rows.append({**row, "trained on": len(fold.train) if name == fold.name else "", "weights": ", ".join(f"{k} {v:.2f}" for k, v in record.weights.items()) if name == fold.name else ""})
    return pd.DataFrame(rows)


def comparison_table(result: EvaluationResult, direction: str = "both") -> pd.DataFrame:
    """Per-query (ranx) metrics of every system for one direction, or both pooled."""
    cols = ["system", *METRICS, "mean_rank", "median_rank"]
    return result.table[result.table.direction == direction][cols].reset_index(drop=True)


def pair_table(result: EvaluationResult, ranks: str = "filtered") -> pd.DataFrame:
    """Pair-level metrics of every system, raw or filtered ranks."""
    frame = result.pair_table
    cols = ["system", *PAIR_METRICS, "mrr ci95", "hits@10 ci95"]
    return frame[frame["ranks"] == ranks].reindex(columns=cols).reset_index(drop=True)


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
    grid: Sequence[float] | None = None,
) -> EvaluationResult:
    """Evaluate the engine on known agreements; write the report files to ``out`` when given.

    ``gold`` is one or more CSV files (default: every bundled gold file); ``kinds`` selects which
    gold kinds count (documented bilateral agreements by default). When the default kinds are used
    and the gold also holds ``network`` pairs, those are evaluated and reported separately.
    """
    from matcher.corpus import Corpus, load_corpus
    from matcher.engine import Matcher
    from matcher.evaluate.report import write_report

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
    every = load_gold_files(gold, data)
    wanted = tuple(kinds) if kinds is not None else tuple(GOLD_KINDS)
    pairs = tuple(g for g in every if g.kind in wanted)
    if not pairs:
        raise GoldError(f"the gold files hold no pair of kind {', '.join(wanted)}; kinds found: {', '.join(sorted({g.kind for g in every}))}")
    result = run_evaluation(matcher, pairs, seed=seed, n_resamples=n_resamples, grid=grid)
    result.info = _info(matcher, result, gold, wanted, seed, n_resamples)
    network = None
    if kinds is not None and tuple(kinds) == tuple(SIGNED_KINDS):
        others = tuple(g for g in every if g.kind not in wanted)
        if others:
            rest = sorted({g.kind for g in others})
            network = run_evaluation(matcher, others, seed=seed, n_resamples=n_resamples, fit=False, diversity_levels=())
            network.info = _info(matcher, network, gold, rest, seed, n_resamples)
    result.network_table = None if network is None else comparison_table(network)
    if out is not None:
        write_report(matcher, result, out, network)
    return result


def _info(matcher, result: EvaluationResult, gold, kinds, seed: int, n_resamples: int) -> dict:
    from matcher.gold import default_gold_paths

    n_eu, n_ca = len(matcher.eu_), len(matcher.ca_)
    q_eu = len({g.eu_id for g in result.gold})
    q_ca = len({g.ca_id for g in result.gold})
    files = [str(g) for g in gold] if gold else [f"evaluation/gold/{p.name}" for p in default_gold_paths()]
    return {
        "corpus": matcher.corpus_.path,
        "corpus_sha256": matcher.corpus_.fingerprint,
        "n_eu": n_eu,
        "n_ca": n_ca,
        "n_queries_eu": q_eu,
        "n_queries_ca": q_ca,
        "n_candidates_mean": (q_eu * n_ca + q_ca * n_eu) / max(q_eu + q_ca, 1),
        "kinds": list(kinds) if kinds else ["all"],
        "gold_files": files,
        "backend": matcher.backend_.name,
        "model": getattr(matcher.backend_, "identity", ""),
        "weights_name": matcher.weights_.name,
        "weights_kind": matcher.weights_.kind,
        "weights": dict(matcher.weights_.weights),
        "seed": seed,
        "n_resamples": n_resamples,
        "chosen_C": result.chosen_C,
    }


def save_fitted_weights(result: EvaluationResult, path: str | Path, force: bool = False) -> tuple[Path, Path]:
    """Save the weights fitted on all gold pairs, with a model card holding the cross-validated metrics."""
    from matcher._meta import git_commit, library_versions
    from matcher.weights import Weights, load_weights, save_weights

    table = comparison_table(result)
    cv = table[table.system == CV_SYSTEM].iloc[0]

    def figures(frame: pd.DataFrame, system: str) -> dict[str, float]:
        part = frame[frame.system == system]
        out: dict[str, float] = {"pairs": int(part["pairs"].iloc[0])} if len(part) else {}
        for _, row in part.iterrows():
            out.update({f"{row['ranks']} {m}": round(float(row[m]), 4) for m in ("mrr", "hits@10", "median_rank")})
        return out

    temporal = result.temporal_table
    previous = load_weights(None)
    card = {
        "kind": "fitted",
        "method": (
            f"logistic regression on the {len(SIGNALS)} signals (class-balanced), negative coefficients set to 0, scaled to sum 1; "
            f"regularisation C={result.chosen_C} chosen from {list(result.c_table['C']) if len(result.c_table) else [result.chosen_C]} "
            "by leave-one-query-out filtered MRR"
        ),
        "gold": {"files": ", ".join(result.info["gold_files"]), "kinds": ", ".join(result.info["kinds"]), "pairs": len(result.gold)},
        "corpus_sha256": result.info["corpus_sha256"],
        "backend": f"{result.info['backend']} ({result.info['model']})",
        "cv_metrics (leave-one-query-out, both directions)": {m: round(float(cv[m]), 4) for m in (*METRICS, "mean_rank", "median_rank")},
        "pair-level, leave-one-query-out": figures(result.pair_table, CV_SYSTEM),
        "pair-level, leave-one-area-out": figures(result.pair_table, AREA_SYSTEM),
        "pair-level, temporal": figures(temporal, temporal["system"].iloc[0]) if len(temporal) else "not enough dated pairs",
        "previous default weights": {"name": previous.name, **{k: round(v, 4) for k, v in previous.weights.items()}},
        "library_versions": library_versions(),
        "commit": git_commit(),
    }
    return save_weights(Weights(result.fitted_weights, 0.0, Path(path).stem, "fitted"), path, card, force=force)
