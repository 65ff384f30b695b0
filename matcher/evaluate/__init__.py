"""Evaluate stage: how well the engine finds known agreements, against baselines, with significance.

Both directions count: for every gold pair, the rank of the Canadian partner among all Canadian
candidates for the European query, and the reverse. Per-query metrics follow ranx's names and
shapes and are computed by ranx; pair-level figures are given with raw and filtered ranks. Weights
are fitted only on pairs a fold does not score (leave-one-query-out, leave-one-area-out, temporal,
seed-only).

Modules: ``metrics`` (ranks and metrics), ``stats`` (randomization test, bootstrap), ``folds``
(fitted weights and held-out splits), ``harness`` (the evaluation run), ``report`` (files).
"""

from matcher.evaluate.folds import (
    C_GRID,
    HeldOut,
    area_folds,
    cross_validated_scores,
    fit_weights,
    held_out_ranks,
    pair_area,
    temporal_fold,
)
from matcher.evaluate.harness import (
    AREA_SYSTEM,
    CV_SYSTEM,
    EvaluationResult,
    comparison_table,
    evaluate,
    evaluate_matrices,
    pair_table,
    run_evaluation,
    save_fitted_weights,
)
from matcher.evaluate.metrics import (
    CUTOFFS,
    METRICS,
    PAIR_METRICS,
    gold_ranks,
    pair_metrics,
    pair_ranks,
    per_query_metrics,
    random_expectation,
    random_pair_metrics,
    rank_in,
)
from matcher.evaluate.report import write_report
from matcher.evaluate.stats import bootstrap_ci, fisher_randomization

__all__ = [
    "AREA_SYSTEM",
    "CUTOFFS",
    "CV_SYSTEM",
    "C_GRID",
    "METRICS",
    "PAIR_METRICS",
    "EvaluationResult",
    "HeldOut",
    "area_folds",
    "bootstrap_ci",
    "comparison_table",
    "cross_validated_scores",
    "evaluate",
    "evaluate_matrices",
    "fisher_randomization",
    "fit_weights",
    "gold_ranks",
    "held_out_ranks",
    "pair_area",
    "pair_metrics",
    "pair_ranks",
    "pair_table",
    "per_query_metrics",
    "random_expectation",
    "random_pair_metrics",
    "rank_in",
    "run_evaluation",
    "save_fitted_weights",
    "temporal_fold",
    "write_report",
]
