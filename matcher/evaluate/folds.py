"""Fitted weights and held-out folds: leave-one-query-out, leave-one-area-out, temporal and
train-on-one-gold-set splits, each fitted on no pair it scores."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher.errors import GoldError
from matcher.evaluate.metrics import DIRECTIONS, pair_ranks
from matcher.gold import GoldPair
from matcher.score import SIGNALS, fuse

# Regularisation strengths tried when the default weights are refitted; chosen by cross-validation.
C_GRID = (0.01, 0.1, 1.0, 10.0, 100.0)


def fit_weights(
    signals: Mapping[str, np.ndarray],
    positives: Iterable[tuple[int, int]],
    rows: np.ndarray | None = None,
    cols: np.ndarray | None = None,
    seed: int = 0,
    ignore: Iterable[tuple[int, int]] = (),
    C: float = 1.0,
) -> dict[str, float]:
    """Fusion weights learned by logistic regression on the signals of gold pairs against all other pairs.

    Only the pairs in ``rows x cols`` (default: all) are used, less the pairs in ``ignore`` (gold
    pairs held out, which must count neither as positives nor as negatives). Negative
    coefficients are set to 0 and the rest scaled to sum to 1: ranking depends on the direction of
    the weights only, and non-negative weights keep every contribution readable as support.
    """
    from sklearn.linear_model import LogisticRegression

    names = [s for s in SIGNALS if s in signals]
    n_eu, n_ca = signals[names[0]].shape
    rows = np.arange(n_eu) if rows is None else np.asarray(rows)
    cols = np.arange(n_ca) if cols is None else np.asarray(cols)
    x = np.stack([signals[s][np.ix_(rows, cols)].ravel() for s in names], axis=1)
    y = np.zeros((len(rows), len(cols)), dtype=int)
    keep = np.ones((len(rows), len(cols)), dtype=bool)
    rpos = {r: i for i, r in enumerate(rows.tolist())}
    cpos = {c: j for j, c in enumerate(cols.tolist())}
    for i, j in positives:
        if i in rpos and j in cpos:
            y[rpos[i], cpos[j]] = 1
    for i, j in ignore:
        if i in rpos and j in cpos and not y[rpos[i], cpos[j]]:
            keep[rpos[i], cpos[j]] = False
    y, keep = y.ravel(), keep.ravel()
    if y.sum() == 0:
        raise GoldError(
            "no gold pair is left to fit weights on once the held-out pairs are removed; "
            "cross-validation needs gold pairs outside each fold (add pairs, or evaluate without fitting)"
        )
    model = LogisticRegression(class_weight="balanced", C=C, max_iter=1000, random_state=seed).fit(x[keep], y[keep])
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
    fit_options: Mapping[str, object] | None = None,
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
            weights = fitter(signals, train, rows=rows, cols=cols, **(fit_options or {}))
            fused = fuse(signals, weights)
            if direction == "eu_to_ca":
                out[direction][ei[q]] = fused[ei[q]]
            else:
                out[direction][:, ci[q]] = fused[:, ci[q]]
            folds.append(FoldRecord(q, direction, tuple((eu_ids[i], ca_ids[j]) for i, j in train), weights))
    return out, folds



# ----------------------------------------------------------------------------- grouped and temporal folds


@dataclass(frozen=True)
class HeldOut:
    """One held-out split: weights fitted on ``train`` pairs only, scored on ``test`` pairs."""

    name: str
    test: tuple[GoldPair, ...]
    train: tuple[GoldPair, ...]


def pair_area(eu, ca, taxonomy) -> str:
    """The priority area a pair belongs to: the first of the European profile's areas (in its sector
    order) that the Canadian profile shares, else the European profile's main area."""
    ca_areas = set(taxonomy.areas_of(ca.sectors))
    own = [a for code in eu.sectors for a in taxonomy.sectors[code].areas]
    shared = [a for a in own if a in ca_areas]
    return (shared or own or ["none"])[0]


def area_folds(gold: Sequence[GoldPair], corpus) -> list[HeldOut]:
    """Leave-one-area-out: one fold per priority area, fitted on the pairs of every other area."""
    areas = {g: pair_area(corpus.get(g.eu_id), corpus.get(g.ca_id), corpus.taxonomy) for g in gold}
    folds = []
    for area in sorted(set(areas.values())):
        test = tuple(g for g in gold if areas[g] == area)
        train = tuple(g for g in gold if areas[g] != area)
        if train:
            folds.append(HeldOut(f"area {area}", test, train))
    return folds


def temporal_fold(gold: Sequence[GoldPair], cutoff: int | None = None, minimum: int = 3) -> HeldOut | None:
    """Fitted on the dated pairs up to ``cutoff``, scored on the later ones (pairs without a year
    take no part). The default cutoff is the median year of the dated pairs; None when either side
    would have fewer than ``minimum`` pairs."""
    dated = sorted((g for g in gold if g.year is not None), key=lambda g: (g.year, g.eu_id, g.ca_id))
    if cutoff is None and dated:
        cutoff = dated[(len(dated) - 1) // 2].year
    train = tuple(g for g in dated if g.year <= cutoff) if dated else ()
    test = tuple(g for g in dated if g.year > cutoff) if dated else ()
    if len(train) < minimum or len(test) < minimum:
        return None
    return HeldOut(f"fitted on agreements up to {cutoff}, scored on later ones", test, train)


def held_out_ranks(
    signals: Mapping[str, np.ndarray],
    eu_ids: Sequence[str],
    ca_ids: Sequence[str],
    gold: Sequence[GoldPair],
    folds: Sequence[HeldOut],
    fitter: Callable[..., dict[str, float]] = fit_weights,
    fit_options: Mapping[str, object] | None = None,
) -> tuple[pd.DataFrame, list[FoldRecord]]:
    """Raw and filtered ranks of each fold's test pairs under weights fitted on its train pairs.

    Every gold pair outside a fold's train set is ignored by its fit (neither a positive nor a
    negative), so no fold sees the pairs it scores. Filtering uses all of ``gold``.
    """
    ei = {e: i for i, e in enumerate(eu_ids)}
    ci = {c: j for j, c in enumerate(ca_ids)}
    frames, records = [], []
    for fold in folds:
        train = {(ei[g.eu_id], ci[g.ca_id]) for g in fold.train}
        ignore = [(ei[g.eu_id], ci[g.ca_id]) for g in gold if (ei[g.eu_id], ci[g.ca_id]) not in train]
        weights = fitter(signals, sorted(train), ignore=ignore, **(fit_options or {}))
        ranks = pair_ranks(fuse(signals, weights), eu_ids, ca_ids, fold.test, gold)
        ranks.insert(0, "fold", fold.name)
        frames.append(ranks)
        records.append(FoldRecord(fold.name, "both", tuple((g.eu_id, g.ca_id) for g in fold.train), weights))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), records
