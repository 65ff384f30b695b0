"""The batch job: fit on a corpus, write ranked CSVs both ways, the pairings and ``run.json``."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from matcher._gc import gc_paused
from matcher._meta import git_commit, library_versions
from matcher.corpus import load_corpus
from matcher.diversify import check_diversity
from matcher.embed import make_backend
from matcher.engine import Matcher, check_filters, check_k
from matcher.explain import EVIDENCE_PLACES
from matcher.score import SIGNALS
from matcher.weights import load_weights
from matcher.write import check_writable, compact_json, json_pieces, write_run

__all__ = ["REPORT_MAX_PAIRS", "build_details", "details_pieces", "run_batch"]

log = logging.getLogger(__name__)

# Above this many explained pairs the self-contained HTML report is skipped unless asked for.
REPORT_MAX_PAIRS = 50_000


@gc_paused()
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
    extra = {"details.json": details_pieces(matcher, proposals)} if details else {}
    t_rank = time.perf_counter()
    # The corpus hash (json and SHA-256 of every profile) is taken on a thread while the files are
    # made; run.json, written last, waits for it.
    hashing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher-fingerprint")
    fingerprint = hashing.submit(lambda: data.fingerprint)
    hashing.shutdown(wait=False)
    info = {
        "corpus": {"path": data.path, "sha256": None, "eu": len(data.eu), "ca": len(data.ca)},
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

    def run_info() -> dict:
        return {**info, "corpus": {**info["corpus"], "sha256": fingerprint.result()}}

    written = write_run(out, frames, run_info, extra, before_commit=stage_report if html else None, fmt=fmt)
    log.info("wrote %s in %.2fs", ", ".join(written), time.perf_counter() - t0)
    return written


def build_details(matcher: Matcher, proposals) -> dict:
    """Profiles (with their description sentences) and the explanation of every proposed pair:
    details.json read back (:func:`details_pieces` writes it). Evidence refers to sentences by
    index, so each sentence is stored once; numbers are rounded (scores and contributions to 6
    places, similarities to :data:`~matcher.explain.EVIDENCE_PLACES`)."""
    return json.loads(b"".join(details_pieces(matcher, proposals)))


def _details_head(matcher: Matcher) -> dict:
    return {"signals": dict(SIGNALS), "areas": dict(matcher.corpus_.taxonomy.areas), "weights": matcher.weights_.to_dict()}


def _details_profiles(matcher: Matcher) -> dict:
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
    return profiles


def _evidence_arrays(ex) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each pair's evidence picks (pairs x 3): European and Canadian sentence indices (of the
    first sentence equal to the picked one, as ``list.index`` finds it), similarities, and whether
    the slot holds a pick (``-inf`` marks none; no pick at all without evidence)."""
    n = len(ex)
    if ex.evidence is None:
        zeros = np.zeros((n, 3), dtype=np.int64)
        return zeros, zeros, np.zeros((n, 3)), np.zeros((n, 3), dtype=bool)

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
    return eu_first[e_at], ca_first[c_at], vals, picked


# Pairs per piece of details.json's "pairs" object.
DETAILS_CHUNK = 16_384


def details_pieces(matcher: Matcher, proposals) -> Iterator[bytes]:
    """details.json's bytes, piece by piece: compact JSON with sorted keys and a line end (what
    ``json.dumps`` writes of the object; a test compares them with a dict built pair by pair),
    without a Python object per pair: each pair's JSON object is joined from columns of Arrow
    strings (numbers formatted with array operations, :func:`matcher._format.json_float_cells`;
    label lists written once per distinct list), the pairs in key order, a chunk at a time; the
    profiles go through ``json_pieces``."""
    head = _details_head(matcher)
    yield b"{"
    yield b'"areas":' + compact_json(head["areas"]).encode("utf-8")
    yield b',"pairs":'
    yield from _pairs_json(proposals)
    yield b',"profiles":'
    for piece in json_pieces(_details_profiles(matcher)):
        yield piece.encode("utf-8")
    yield f',"signals":{compact_json(head["signals"])},"weights":{compact_json(head["weights"])}}}\n'.encode()


def _pairs_json(proposals) -> Iterator[bytes]:
    """The "pairs" object of details.json, in pieces: per pair "EU_ID|CA_ID", its score and
    contributions, shared and related sectors, evidence (sentence indices, similarity), terms,
    known partner, ranks both ways and summary line."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from matcher._format import json_float_cells

    ex = proposals.pairs
    n = len(ex)
    if not n:
        yield b"{}"
        return
    string = pa.large_string()

    def join(*parts, **options) -> pa.Array:  # literal text as large strings, like the columns
        return pc.binary_join_element_wise(*(pa.scalar(x, string) if isinstance(x, str) else x for x in parts), **options)

    def text(values) -> pa.Array:
        return pa.array(values, string)

    def numbers(values) -> pa.Array:
        return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), string)

    def quoted(cells) -> pa.Array:
        """JSON strings: quoted, and (where one holds a quote, a backslash or a control character) escaped by json."""
        cells = cells.cast(string)
        if not pc.any(pc.match_substring_regex(cells, r'[\x00-\x1f"\\]')).as_py():
            return join('"', cells, '"', "")
        return text([compact_json(x) for x in cells.to_pylist()])

    def string_lists(lists) -> pa.Array:
        """JSON arrays of lists of strings: every string quoted at once, each list's joined by commas."""
        offsets = np.concatenate([[0], np.cumsum(np.fromiter(map(len, lists), dtype=np.int64, count=len(lists)))])
        items = quoted(text([x for xs in lists for x in xs]))
        return join("[", pc.binary_join(pa.LargeListArray.from_arrays(pa.array(offsets), items), pa.scalar(",", string)), "]", "")

    # The pairs in key order ("EU_ID|CA_ID" as Python sorts strings), found first: every column
    # below is built in that order, so a chunk is a slice of each (no gather of strings).
    eu_id, ca_id = (text([p.id for p in side.profiles]) for side in (ex.eu, ex.ca))
    order = pc.sort_indices(join(eu_id.take(pa.array(ex.eu_idx)), ca_id.take(pa.array(ex.ca_idx)), "|")).to_numpy()
    eu_key, ca_key = (text([compact_json(p.id)[1:-1] for p in side.profiles]).take(pa.array(idx[order])) for side, idx in ((ex.eu, ex.eu_idx), (ex.ca, ex.ca_idx)))
    e_idx, c_idx, vals, picked = (a[order] for a in _evidence_arrays(ex))

    def slot(s: int) -> pa.Array:
        """Each pair's pick in slot ``s`` as "[a,b,x]", after a comma where an earlier slot holds one; empty where none."""
        cell = join("[", numbers(e_idx[:, s]), ",", numbers(c_idx[:, s]), ",", json_float_cells(vals[:, s], EVIDENCE_PLACES).cast(string), "]", "")
        if s:
            cell = pc.if_else(pa.array(picked[:, :s].any(axis=1)), join(",", cell, ""), cell)
        return pc.if_else(pa.array(picked[:, s]), cell, pa.scalar("", string))

    evidence = join(*(slot(s) for s in range(picked.shape[1])), "")
    codes = pa.array(ex.label_code[order])
    shared, related = (string_lists([x[part] for x in ex.label_set]).take(codes) for part in (0, 2))
    known = {k: compact_json(k) for k in set(ex.known)}
    # The parts of each pair's text, in the order json writes the keys (sorted): literal text or a
    # column; each pair's text starts with a comma (the first one's is dropped).
    parts = [',"', eu_key, "|", ca_key, '":{"contributions":{']
    for m, name in enumerate(sorted(SIGNALS)):
        parts += [f'{"," if m else ""}"{name}":', json_float_cells(ex.contribution(name)[order], 6).cast(string)]
    parts += [
        '},"evidence":[', evidence, '],"known_partner":', text([known[ex.known[p]] for p in order.tolist()]),
        ',"ranks":[', numbers(ex.rank_eu_to_ca[order]), ",", numbers(ex.rank_ca_to_eu[order]), '],"related_sectors":', related,
        ',"score":', json_float_cells(ex.score[order], 6).cast(string), ',"shared_sectors":', shared,
        ',"summary":', quoted(ex.summary_at(order)), ',"terms":', string_lists([ex.terms[p] for p in order.tolist()]), "}",
    ]
    for start in range(0, n, DETAILS_CHUNK):
        size = min(DETAILS_CHUNK, n - start)
        pairs = join(*(part if isinstance(part, str) else part.slice(start, size) for part in parts), "")
        # The pairs' texts one after another are the joined column's data between its first and last offsets.
        offsets = np.frombuffer(pairs.buffers()[1], dtype=np.int64)[pairs.offset : pairs.offset + len(pairs) + 1]
        if start == 0:
            yield b"{"
        yield memoryview(pairs.buffers()[2])[offsets[0] + (start == 0) : offsets[-1]]
    yield b"}"
