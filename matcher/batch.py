"""The batch job: fit on a corpus, write ranked CSVs both ways, the pairings and ``run.json``."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from matcher._meta import git_commit, library_versions
from matcher.corpus import load_corpus
from matcher.diversify import check_diversity
from matcher.embed import make_backend
from matcher.engine import Matcher, check_filters, check_k
from matcher.explain import EVIDENCE_PLACES
from matcher.score import SIGNALS
from matcher.weights import load_weights
from matcher.write import check_writable, write_run

__all__ = ["REPORT_MAX_PAIRS", "build_details", "run_batch"]

log = logging.getLogger(__name__)

# Above this many explained pairs the self-contained HTML report is skipped unless asked for.
REPORT_MAX_PAIRS = 50_000


def run_batch(
    out: str | Path,
    corpus: str | Path | None = None,
    k: int = 10,
    backend: str = "sentence-transformers",
    model: str | Path | None = None,
    weights: str | Path | None = None,
    gold: str | Path | None = None,
    show_progress: bool = False,
    html: bool = False,
    evaluation: str | Path | None = None,
    fmt: str = "csv",
    details: bool = True,
    force_html: bool = False,
    client=None,
    diversity: float = 0.0,
    **filters: object,
) -> dict[str, Path]:
    """Rank every profile of ``corpus`` and write ``eu_to_ca.csv``, ``ca_to_eu.csv``,
    ``pairings.csv``, ``details.json`` (profiles and explanations, for the HTML report) and
    ``run.json`` to ``out``; with ``html`` also ``report.html``. Checks ``out`` is writable before any work;
    writes only after everything is computed, so a failed run leaves earlier outputs intact.

    ``fmt="parquet"`` writes the tables as Parquet (same columns); ``details=False`` skips
    details.json (and so the report). The report is skipped with a warning above
    :data:`REPORT_MAX_PAIRS` explained pairs unless ``force_html``. ``client`` (a
    ``distributed.Client``) runs encoding and scoring on a Dask cluster; the outputs are the same.
    ``diversity`` (LAMBDA >= 0) re-ranks both directions' lists by maximal marginal relevance
    (:mod:`matcher.diversify`): the direction CSVs then gain ``score_rank``; 0 writes today's files.
    """
    t0 = time.perf_counter()
    # Every parameter is checked before the corpus is read, and the filters before any scoring.
    k = check_k(k)
    diversity = check_diversity(diversity)
    check_filters(filters)
    weights = load_weights(weights)
    make_backend(backend, model)
    out = check_writable(Path(out))
    data = load_corpus(corpus)
    check_filters(filters, data)
    t_load = time.perf_counter()
    matcher = Matcher(backend=backend, model=model, weights=weights, gold=gold, show_progress=show_progress, client=client).fit(data)
    t_fit = time.perf_counter()
    proposals = matcher.propose(k, diversity=diversity, evidence=details, **filters)  # evidence only for details.json
    # The tables in pieces, built while they are written: no whole table is held.
    frames = {
        "eu_to_ca.csv": matcher.direction_chunks(proposals, "eu_to_ca"),
        "ca_to_eu.csv": matcher.direction_chunks(proposals, "ca_to_eu"),
        "pairings.csv": matcher.pairing_chunks(proposals),
    }
    if not len(proposals.pairs):
        log.warning("the filters %s leave no pair: the CSVs hold headers only", {k: v for k, v in filters.items() if v})
    extra = {"details.json": build_details(matcher, proposals)} if details else {}
    t_rank = time.perf_counter()
    info = {
        "corpus": {"path": data.path, "sha256": data.fingerprint, "eu": len(data.eu), "ca": len(data.ca)},
        "backend": matcher.backend_.name,
        "model": getattr(matcher.backend_, "identity", None),
        "weights": matcher.weights_.to_dict(),
        "top_k": k,
        **({"diversity": diversity} if diversity else {}),
        "filters": {key: value for key, value in filters.items() if value},
        "known_pairs": len(matcher.known_),
        "encoded": {"new": matcher.encode_stats_.encoded, "cached": matcher.encode_stats_.cached},
        "timings_s": {
            "load": round(t_load - t0, 3),
            "fit": round(t_fit - t_load, 3),
            "encode": round(matcher.encode_stats_.seconds, 3),
            "rank_and_explain": round(t_rank - t_fit, 3),
        },
        "library_versions": library_versions(),
        "commit": git_commit(),
    }
    n_pairs = len(proposals.pairs)
    if html and not details:
        log.warning("report.html skipped: it is built from details.json, which --no-details leaves out")
        html = False
    elif html and n_pairs > REPORT_MAX_PAIRS and not force_html:
        log.warning("report.html skipped: %d explained pairs is above %d, where the page gets too large to open; pass --force-html to write it anyway", n_pairs, REPORT_MAX_PAIRS)
        html = False
    elif html and fmt != "csv":
        log.warning("report.html skipped: it reads the CSV tables; run with --format csv")
        html = False

    def stage_report(stage) -> None:
        from matcher.report import write_html_report

        ev = evaluation if evaluation is not None else (out / "evaluation" if (out / "evaluation").is_dir() else None)
        write_html_report(stage.dir, stage.path("report.html"), evaluation=ev)
        stage.add("report.html")

    written = write_run(out, frames, info, extra, before_commit=stage_report if html else None, fmt=fmt)
    log.info("wrote %s in %.2fs", ", ".join(written), time.perf_counter() - t0)
    return written


def build_details(matcher: Matcher, proposals) -> dict:
    """Profiles (with their description sentences) and the explanation of every proposed pair.

    Evidence refers to sentences by index, so each sentence is stored once.
    """
    tax = matcher.corpus_.taxonomy
    profiles = {}
    for side in (matcher.eu_features_, matcher.ca_features_):
        for p, sents in zip(side.profiles, side.sentences, strict=True):
            profiles[p.id] = {
                "name": p.name,
                "aliases": list(p.aliases),
                "side": p.side,
                "country": p.country,
                "region": p.region,
                "city": p.city,
                "kind": p.kind,
                "sectors": [tax.label(s) for s in p.sectors],
                "areas": list(tax.areas_of(p.sectors)),
                "keywords": list(p.keywords),
                "languages": list(p.languages),
                "website": p.website,
                "sources": list(p.sources),
                "sentences": list(sents),
            }
    pairs = {}
    ex = proposals.pairs
    eu, ca = ex.eu, ex.ca
    # Python's round (correctly rounded), as the one-pair Explanation's values would be.
    contributions = [dict(zip(SIGNALS, vals, strict=True)) for vals in zip(*([round(x, 6) for x in ex.contribution(name).tolist()] for name in SIGNALS), strict=True)]
    scores = [round(x, 6) for x in ex.score.tolist()]
    evidence = _evidence_indices(ex) if ex.evidence is not None else [[] for _ in range(len(ex))]
    ranks = zip(ex.rank_eu_to_ca.tolist(), ex.rank_ca_to_eu.tolist(), strict=True)
    summaries = ex.summary.to_pylist()
    for p, (i, j, (r_ec, r_ce)) in enumerate(zip(ex.eu_idx.tolist(), ex.ca_idx.tolist(), ranks, strict=True)):
        sectors, _, related = ex.labels[p]
        pairs[f"{eu.profiles[i].id}|{ca.profiles[j].id}"] = {
            "score": scores[p],
            "contributions": contributions[p],
            "shared_sectors": list(sectors),
            "related_sectors": list(related),
            "evidence": evidence[p],
            "terms": list(ex.terms[p]),
            "known_partner": ex.known[p],
            "ranks": [r_ec, r_ce],
            "summary": summaries[p],
        }
    return {
        "signals": dict(SIGNALS),
        "areas": dict(tax.areas),
        "weights": matcher.weights_.to_dict(),
        "profiles": profiles,
        "pairs": pairs,
    }


def _evidence_indices(ex) -> list[list[list]]:
    """Each pair's evidence as ``[European sentence, Canadian sentence, similarity]``: sentence
    indices of the first sentence equal to the picked one (as ``list.index`` finds it), similarities
    rounded to :data:`~matcher.explain.EVIDENCE_PLACES` places; picks marked ``-inf`` (none) left out."""

    def firsts(side) -> tuple[np.ndarray, np.ndarray]:
        """Per profile, where its sentences start in one flat array, and each sentence's first equal index."""
        flat, starts = [], [0]
        for sents in side.sentences:
            seen: dict[str, int] = {}
            flat.extend(seen.setdefault(sent, n) for n, sent in enumerate(sents))
            starts.append(len(flat))
        return np.array(starts[:-1], dtype=np.int64), np.array([*flat, 0], dtype=np.int64)

    rows, cols, vals = ex.evidence
    picked = np.isfinite(vals)
    (eu_start, eu_first), (ca_start, ca_first) = firsts(ex.eu), firsts(ex.ca)
    e_at = np.where(picked, eu_start[ex.eu_idx][:, None] + rows, len(eu_first) - 1)
    c_at = np.where(picked, ca_start[ex.ca_idx][:, None] + cols, len(ca_first) - 1)
    e_idx, c_idx, v, keep = eu_first[e_at].tolist(), ca_first[c_at].tolist(), vals.tolist(), picked.tolist()
    return [
        [[a, b, round(x, EVIDENCE_PLACES)] for a, b, x, k in zip(ea, cb, vx, kp, strict=True) if k]
        for ea, cb, vx, kp in zip(e_idx, c_idx, v, keep, strict=True)
    ]
