"""The batch job: fit on a corpus, write ranked CSVs both ways, the pairings and ``run.json``."""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path

from matcher._meta import git_commit, library_versions
from matcher.corpus import load_corpus
from matcher.engine import Matcher
from matcher.write import check_writable, write_run

__all__ = ["run_batch"]

log = logging.getLogger(__name__)


def run_batch(
    out: str | Path,
    corpus: str | Path | None = None,
    k: int = 10,
    backend: str = "sentence-transformers",
    model: str | Path | None = None,
    weights: str | Path | None = None,
    gold: str | Path | None = None,
    show_progress: bool = False,
    **filters: object,
) -> dict[str, Path]:
    """Rank every profile of ``corpus`` and write ``eu_to_ca.csv``, ``ca_to_eu.csv``,
    ``pairings.csv`` and ``run.json`` to ``out``. Checks ``out`` is writable before any work;
    writes only after everything is computed, so a failed run leaves earlier outputs intact.
    """
    t0 = time.perf_counter()
    out = check_writable(Path(out))
    data = load_corpus(corpus)
    t_load = time.perf_counter()
    matcher = Matcher(backend=backend, model=model, weights=weights, gold=gold, show_progress=show_progress).fit(data)
    t_fit = time.perf_counter()
    frames = {
        "eu_to_ca.csv": matcher.rankings("eu_to_ca", k=k, **filters),
        "ca_to_eu.csv": matcher.rankings("ca_to_eu", k=k, **filters),
        "pairings.csv": matcher.pairings(k=k, **filters),
    }
    if not len(frames["eu_to_ca.csv"]) and not len(frames["ca_to_eu.csv"]):
        log.warning("the filters %s leave no pair: the CSVs hold headers only", {k: v for k, v in filters.items() if v})
    t_rank = time.perf_counter()
    csv_hash = hashlib.sha256(b"".join(f.to_csv(index=False).encode() for f in frames.values())).hexdigest()
    info = {
        "corpus": {"path": data.path, "sha256": data.fingerprint, "eu": len(data.eu), "ca": len(data.ca)},
        "backend": matcher.backend_.name,
        "model": getattr(matcher.backend_, "identity", None),
        "weights": matcher.weights_.to_dict(),
        "top_k": k,
        "filters": {key: value for key, value in filters.items() if value},
        "known_pairs": len(matcher.known_),
        "encoded": {"new": matcher.encode_stats_.encoded, "cached": matcher.encode_stats_.cached},
        "timings_s": {
            "load": round(t_load - t0, 3),
            "fit": round(t_fit - t_load, 3),
            "encode": round(matcher.encode_stats_.seconds, 3),
            "rank_and_explain": round(t_rank - t_fit, 3),
        },
        "outputs_sha256": csv_hash,
        "library_versions": library_versions(),
        "commit": git_commit(),
    }
    written = write_run(out, frames, info)
    log.info("wrote %s in %.2fs", ", ".join(written), time.perf_counter() - t0)
    return written
