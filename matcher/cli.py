"""Command line: a thin layer over the public API. Only this module prints."""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import NoReturn

__all__ = ["build_parser", "main", "run"]


# ------------------------------------------------------------------ argument types
# Checked by the parser, before any corpus or model work: a bad value exits 2 with the usage line.


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer; got {text!r}")
    return value


def diversity_value(text: str) -> float:
    """``--diversity LAMBDA``: a finite number >= 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0 (0 = plain ranking); got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0 (0 = plain ranking); got {text!r}")
    return value


def _existing(kind: str, hint: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        path = Path(text)
        ok = path.exists() if kind == "path" else path.is_file() if kind == "file" else path.is_dir()
        if not ok:
            what = {"path": "does not exist", "file": "is not an existing file", "folder": "is not an existing folder"}[kind]
            raise argparse.ArgumentTypeError(f"{text!r} {what}; expected {hint}")
        return text

    check.__name__ = f"existing {kind}"
    return check


def _choices(allowed: Iterable[str], what: str, listing: str | None = None) -> Callable[[str], str]:
    allowed = tuple(allowed)
    listing = listing or f"comma-separated values among: {', '.join(allowed)}"

    def check(text: str) -> str:
        values = [v.strip() for v in text.split(",") if v.strip()]
        bad = [v for v in values if v not in allowed]
        if not values or bad:
            hints = []
            for v in bad:
                close = [a for a in allowed if a.lower() == v.lower()] or difflib.get_close_matches(v, allowed, n=1)
                hints.append(f"{v!r} (did you mean {close[0]!r}?)" if close else repr(v))
            got = ", ".join(hints) if bad else repr(text)
            raise argparse.ArgumentTypeError(f"unknown {what} {got}; expected {listing}")
        return ",".join(values)

    check.__name__ = what
    return check


def region_codes(text: str) -> str:
    from matcher.corpus import REGION_FILTER_EXPECTED, region_filter_ok

    values = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in values if not region_filter_ok(v)]
    if not values or bad:
        got = ", ".join(map(repr, bad)) if bad else repr(text)
        raise argparse.ArgumentTypeError(f"malformed region code(s) {got}; expected comma-separated {REGION_FILTER_EXPECTED}")
    return ",".join(values)


CORPUS_PATH = _existing("path", "a corpus folder or a .csv, .json or .yaml file")
GOLD_FILE = _existing("file", "a gold CSV with columns eu_id, ca_id, source_url (or source), evidence (or note)[, kind, year, confidence]")
WEIGHTS_FILE = _existing("file", "a weights JSON file like models/weights/hand-set-v1.json")
MODEL_DIR = _existing("folder", "a sentence-transformers model folder (with modules.json)")
EVALUATION_DIR = _existing("folder", "an evaluation folder written by `matcher evaluate --out` (e.g. evaluation/report)")
PARTICIPANTS_FILE = _existing("file", "a participants CSV with a column id and optionally max_meetings")
DIVERSITY_HELP = ("re-rank each list by maximal marginal relevance: score - LAMBDA x the highest redundancy "
                  "(same country x embedding cosine) with candidates listed above (default: 0, the plain ranking)")
RUN_DIR = _existing("folder", "a batch-run folder written by `matcher rank --out`")


def _print_counts(title: str, counts: dict, labels: dict | None = None) -> None:
    print(f"  {title}:")
    for key, n in counts.items():
        label = f" ({labels[key]})" if labels and key in labels else ""
        print(f"    {n:4d}  {key}{label}")


def _cmd_corpus_validate(args: argparse.Namespace) -> int:
    from matcher import load_corpus, load_gold
    from matcher.gold import default_gold_paths

    corpus = load_corpus(args.path, strict=True if args.strict else None)
    print(f"OK: {len(corpus.profiles)} profiles ({len(corpus.eu)} eu, {len(corpus.ca)} ca), "
          f"{len(corpus.partnerships)} partnerships in {corpus.path}")
    if corpus.warnings:
        n = len(corpus.warnings)
        print(f"{n} kind{'s' if n != 1 else ''} of warning (printed above); --strict applies the bundled corpus's rules and makes them errors")
    if args.gold or args.path is None:
        for gold in args.gold or default_gold_paths():
            pairs = load_gold(gold, corpus)
            print(f"OK: {len(pairs)} gold pairs in {gold if args.gold else 'evaluation/gold/' + Path(gold).name}")
    return 0


def _cmd_corpus_stats(args: argparse.Namespace) -> int:
    from matcher import corpus_stats, load_corpus

    corpus = load_corpus(args.path)
    stats = corpus_stats(corpus)
    if args.json:
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    tax = corpus.taxonomy
    print(f"corpus {corpus.path}: {stats['profiles']} profiles, {stats['partnerships']} partnerships")
    for side, title in (("eu", "European"), ("ca", "Canadian")):
        s = stats[side]
        print(f"\n{title} profiles: {s['profiles']} in {len(s['countries'])} countries")
        _print_counts("by country", s["countries"])
        _print_counts("by kind", s["kinds"])
        regions = s["regions"]
        shown = dict(list(regions.items())[:15]) if side == "eu" else regions
        more = ", the 15 most frequent shown" if len(shown) < len(regions) else ""
        _print_counts(f"by main region code ({len(regions)} regions{more}; {s['without_region_code']} without one)", shown)
        _print_counts("by priority area", s["areas"], dict(tax.areas))
        _print_counts("by sector", s["sectors"], {c: v.label for c, v in tax.sectors.items()})
        if s["targets_canada"] is not None:
            print(f"  declaring Canada as a target (own or partnership): {s['targets_canada']}")
    print("\nfields left empty (profiles):")
    for name, n in stats["empty_fields"].items():
        print(f"    {n:4d}  {name}")
    return 0


def _cmd_rank(args: argparse.Namespace) -> int:
    from matcher.batch import run_batch

    filters = {"countries": args.countries, "regions": args.regions, "sectors": args.sectors, "areas": args.areas, "kinds": args.kinds, "exclude": args.exclude, "exclude_known": args.new_only}
    with _dask_client(args.dask_workers, args.dask_scheduler) as client:
        return _run_batch(args, filters, client, run_batch)


def _run_batch(args: argparse.Namespace, filters: dict, client, run_batch) -> int:
    written = run_batch(
        args.out,
        corpus=args.corpus,
        k=args.top_k,
        backend=args.backend,
        model=args.model,
        weights=args.weights,
        gold=args.gold,
        show_progress=not args.quiet,
        html=args.html,
        evaluation=args.evaluation,
        fmt=args.format,
        details=not args.no_details,
        force_html=args.force_html,
        client=client,
        diversity=args.diversity,
        **{k: v for k, v in filters.items() if v},
    )
    for _name, path in written.items():
        print(f"wrote {path}")
    return 0


def _cmd_match(args: argparse.Namespace) -> int:
    from matcher import Matcher, load_corpus
    from matcher.write import atomic_write_text, frame_to_csv

    m = Matcher(backend=args.backend, model=args.model, weights=args.weights, show_progress=False).fit(args.corpus)
    profiles = load_corpus(args.profiles, taxonomy=m.corpus_.taxonomy).profiles  # validated as the loader does
    frame = m.rank_profiles(profiles, k=args.top_k, diversity=args.diversity)
    if args.out:
        path = atomic_write_text(Path(args.out), frame_to_csv(frame))
        print(f"wrote {path}")
    elif args.json:
        print(frame.to_json(orient="records", force_ascii=False, indent=2))
    else:
        print(frame_to_csv(frame), end="")
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    from matcher import Matcher
    from matcher.write import check_writable, write_schedule

    check_writable(Path(args.out))  # before any model work
    m = Matcher(backend=args.backend, model=args.model, weights=args.weights, gold=args.gold, show_progress=False).fit(args.corpus)
    plan = m.schedule(args.participants, slots=args.slots, tables=args.tables, min_score=args.min_score, exclude_known=args.new_only)
    n = plan.summary["counts"]
    print(f"{n['meetings']} meetings in {n['slots']} slots for {n['participants']['eu']} European and {n['participants']['ca']} Canadian participants; "
          f"total score {plan.summary['total_score']:.4f} ({plan.summary['solver']['status']})")
    for _name, path in write_schedule(plan, args.out).items():
        print(f"wrote {path}")
    return 0


def finite_float(text: str) -> float:
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number; got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number; got {text!r}")
    return value


class _dask_client:
    """A ``distributed.Client``: on a new LocalCluster of ``workers`` processes, or connected to
    ``scheduler``; None when neither is given. Closed (and the cluster stopped) on exit."""

    def __init__(self, workers: int | None, scheduler: str | None) -> None:
        self.workers, self.scheduler, self.client, self.cluster = workers, scheduler, None, None

    def __enter__(self):
        if not self.workers and not self.scheduler:
            return None
        from matcher.errors import ParameterError

        if self.workers and self.scheduler:
            raise ParameterError("--dask-workers starts a local cluster and --dask-scheduler uses an existing one; give one of them")
        if self.workers is not None and self.workers < 1:
            raise ParameterError(f"--dask-workers must be a positive integer; got {self.workers}")
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:
            raise ParameterError("Dask options need the 'distributed' package; install it with: pip install 'matcher[dask]'") from exc
        if self.scheduler:
            self.client = Client(self.scheduler)
        else:
            self.cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True, dashboard_address=None)
            self.client = Client(self.cluster)
        return self.client

    def __exit__(self, *exc) -> None:
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _cmd_report(args: argparse.Namespace) -> int:
    from matcher.report import write_html_report

    path = write_html_report(args.run, args.out, evaluation=args.evaluation)
    print(f"wrote {path} ({path.stat().st_size / 2**20:.1f} MB)")
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from matcher import Matcher

    m = Matcher(backend=args.backend, model=args.model, weights=args.weights, show_progress=False).fit(args.corpus)
    ex = m.explain(args.eu_id, args.ca_id)
    if args.json:
        print(ex.to_json())
        return 0
    print(ex.summary)
    print(f"score {ex.score:.4f} = bias {ex.bias:.4f}")
    for c in ex.contributions:
        print(f"  + {c.contribution:.4f}  {c.label} ({c.weight:g} x {c.value:.4f})")
    print(f"rank {ex.rank_eu_to_ca} for {ex.eu_id}; rank {ex.rank_ca_to_eu} for {ex.ca_id}")
    for ev in ex.evidence:
        print(f"  [{ev.similarity:.2f}] {ev.eu_sentence}\n         {ev.ca_sentence}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from matcher.evaluate import PAIR_METRICS, evaluate, pair_table
    from matcher.gold import SIGNED_KINDS

    kinds = tuple(k.strip() for k in args.kinds.split(",")) if args.kinds else SIGNED_KINDS
    if args.save_weights:
        from matcher.weights import check_can_save

        check_can_save(args.save_weights, args.force)  # before any work
    result = evaluate(
        corpus=args.corpus,
        gold=args.gold,
        kinds=kinds,
        out=args.out,
        backend=args.backend,
        model=args.model,
        weights=args.weights,
        seed=args.seed,
        n_resamples=args.resamples,
    )
    cols = ["system", *PAIR_METRICS]
    print(f"gold: {len(result.gold)} pairs of kind {', '.join(kinds)}; both directions; pair-level, filtered ranks")
    print(pair_table(result, "filtered")[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if result.network_table is not None:
        cols = ["system", "recall@10", "mrr", "mean_rank", "median_rank"]
        print("\nnetwork co-membership, reported apart:")
        print(result.network_table[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if len(result.diversity_table):
        print("\ndiverse shortlists (MMR, --diversity LAMBDA): pair-level hits@10 and spread of the top-10 lists:")
        print(result.diversity_table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    if args.out:
        print(f"\nreport written to {args.out}")
    if args.save_weights:
        from matcher.evaluate import save_fitted_weights

        paths = save_fitted_weights(result, args.save_weights, force=args.force)
        print("saved " + " and ".join(str(p) for p in paths))
    return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from matcher.bench import run_bench, schedule_bench, st_bench

    if not args.schedule_only:
        sizes = ((10_000, 2_000), (100_000, 10_000)) if not args.quick else ((2_000, 500),)
        run_bench(sizes=sizes, k=args.top_k, repeats=args.repeats, batch=not args.no_batch, dask=not args.no_dask)
        if not args.no_st:
            st_bench(*sizes[0], k=args.top_k, repeats=args.repeats, cold_profiles=200 if not args.quick else 20)
    if not args.no_schedule:
        schedule_bench(*((300, 300) if not args.quick else (60, 60)), repeats=args.repeats)
    return 0


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=CORPUS_PATH, help="corpus folder or file (default: the bundled corpus)")
    p.add_argument("--backend", default="sentence-transformers", choices=["sentence-transformers", "tfidf"], help="embedding backend")
    p.add_argument("--model", type=MODEL_DIR, help="path to a sentence-transformers model folder (default: bundled all-MiniLM-L6-v2)")
    p.add_argument("--weights", type=WEIGHTS_FILE, help="fusion weights JSON (default: models/weights/DEFAULT)")


def _global_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    """-v and --quiet, accepted before or after any subcommand (only the top parser sets defaults)."""
    default = {} if top else {"default": argparse.SUPPRESS}
    p.add_argument("--verbose", "-v", action="store_true", help="log progress and show tracebacks", **default)
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar", **default)


def build_parser() -> argparse.ArgumentParser:
    from matcher.corpus import ISO_COUNTRIES, KINDS
    from matcher.gold import GOLD_KINDS

    parser = argparse.ArgumentParser(prog="matcher", description="Rank and explain EU-Canada cluster pairings.")
    _global_options(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(subparsers, name: str, **kw) -> argparse.ArgumentParser:
        p = subparsers.add_parser(name, **kw)
        _global_options(p)
        return p

    corpus = add(sub, "corpus", help="check and summarise a corpus")
    csub = corpus.add_subparsers(dest="corpus_command", required=True)
    v = add(csub, "validate", help="validate a corpus (the bundled one by default)")
    v.add_argument("path", nargs="?", type=CORPUS_PATH, help="corpus folder or .csv/.json/.yaml file")
    v.add_argument("--gold", action="append", type=GOLD_FILE, help="also check a gold CSV against the corpus (repeatable)")
    v.add_argument("--strict", action="store_true", help="apply the bundled corpus's rules (80-250-word descriptions, sources, review date, no unknown field)")
    v.set_defaults(func=_cmd_corpus_validate)
    s = add(csub, "stats", help="counts by side, country, kind, sector and priority area")
    s.add_argument("path", nargs="?", type=CORPUS_PATH, help="corpus folder or .csv/.json/.yaml file")
    s.add_argument("--json", action="store_true", help="print the figures as JSON")
    s.set_defaults(func=_cmd_corpus_stats)

    r = add(sub, "rank", help="batch job: ranked CSVs both ways, pairings and run.json")
    _engine_options(r)
    r.add_argument("--out", default="output", help="output folder (default: output)")
    r.add_argument("--top-k", type=positive_int, default=10, help="candidates per query (default: 10)")
    r.add_argument("--gold", type=GOLD_FILE, help="gold CSV whose pairs are flagged known_partner (default: every bundled gold file)")
    r.add_argument("--countries", type=_choices(sorted(ISO_COUNTRIES), "country code(s)", "comma-separated ISO 3166-1 alpha-2 codes such as FR,BE,CA"), help="comma-separated ISO codes; restricts the side(s) whose countries are named")
    r.add_argument("--regions", type=region_codes, help="comma-separated region codes (CA-ON, or NUTS codes or prefixes such as FR1, ITC4); restricts the side(s) whose regions are named")
    r.add_argument("--sectors", help="comma-separated fine sector codes")
    r.add_argument("--areas", help="comma-separated priority-area codes")
    r.add_argument("--kinds", type=_choices(KINDS, "organisation kind(s)"), help="comma-separated organisation kinds")
    r.add_argument("--exclude", help="comma-separated profile ids to leave out")
    r.add_argument("--diversity", type=diversity_value, default=0.0, metavar="LAMBDA", help=DIVERSITY_HELP)
    r.add_argument("--new-only", action="store_true", help="leave out pairs with a documented agreement in the gold files (known partners), so each list has k new names")
    r.add_argument("--html", action="store_true", help="also write report.html, the self-contained explorer")
    r.add_argument("--evaluation", type=EVALUATION_DIR, help="evaluation folder whose summary the HTML report includes (e.g. evaluation/report)")
    r.add_argument("--format", choices=["csv", "parquet"], default="csv", help="table format (default: csv)")
    r.add_argument("--no-details", action="store_true", help="skip details.json (and so the HTML report): for large runs")
    r.add_argument("--force-html", action="store_true", help="write report.html even above the size where it is skipped")
    r.add_argument("--dask-workers", type=positive_int, help="run encoding and scoring on a local Dask cluster of N worker processes")
    r.add_argument("--dask-scheduler", help="run encoding and scoring on an existing Dask cluster (scheduler address, e.g. tcp://host:8786)")
    r.set_defaults(func=_cmd_rank)

    mt = add(sub, "match", help="rank the other side of the corpus for profiles that are not in it, without refitting")
    _engine_options(mt)
    mt.add_argument("profiles", metavar="PROFILE_FILE", type=CORPUS_PATH, help="YAML, JSON or CSV file of one or more profiles in the corpus schema")
    mt.add_argument("--top-k", type=positive_int, default=10, help="candidates per profile (default: 10)")
    mt.add_argument("--diversity", type=diversity_value, default=0.0, metavar="LAMBDA", help=DIVERSITY_HELP)
    mt.add_argument("--out", help="write the ranked rows to this CSV file instead of printing them")
    mt.add_argument("--json", action="store_true", help="print the ranked rows as JSON records")
    mt.set_defaults(func=_cmd_match)

    sc = add(sub, "schedule", help="plan a brokerage event: the meetings with the largest total score, in time slots")
    _engine_options(sc)
    sc.add_argument("--participants", required=True, type=PARTICIPANTS_FILE, help="CSV with a column id (a corpus id, or a newcomer's profile row) and optionally max_meetings")
    sc.add_argument("--slots", required=True, type=positive_int, help="time slots of the event (each participant meets at most once per slot)")
    sc.add_argument("--tables", type=positive_int, help="meetings that can run in one slot (default: no limit)")
    sc.add_argument("--min-score", type=finite_float, help="pairs scoring below this are never scheduled (pairs scoring 0 never are)")
    sc.add_argument("--new-only", action="store_true", help="leave out pairs with a documented agreement in the gold files (known partners)")
    sc.add_argument("--gold", type=GOLD_FILE, help="gold CSV of known agreements for --new-only (default: every bundled gold file)")
    sc.add_argument("--out", required=True, help="output folder: meetings.csv, agendas.csv, agenda.html, schedule.json")
    sc.set_defaults(func=_cmd_schedule)

    h = add(sub, "report", help="write the self-contained HTML explorer of a batch run")
    h.add_argument("--run", default="output", type=RUN_DIR, help="batch-run folder written by `matcher rank` (default: output)")
    h.add_argument("--out", help="HTML file (default: <run>/report.html)")
    h.add_argument("--evaluation", type=EVALUATION_DIR, help="evaluation folder to summarise (default: <run>/evaluation when present)")
    h.set_defaults(func=_cmd_report)

    x = add(sub, "explain", help="explain one European-Canadian pair")
    _engine_options(x)
    x.add_argument("eu_id")
    x.add_argument("ca_id")
    x.add_argument("--json", action="store_true", help="print the explanation as JSON")
    x.set_defaults(func=_cmd_explain)

    e = add(sub, "evaluate", help="score the engine against known agreements; write the report")
    _engine_options(e)
    e.add_argument("--gold", action="append", type=GOLD_FILE, help="gold CSV (repeatable; default: every bundled gold file)")
    e.add_argument("--kinds", type=_choices(GOLD_KINDS, "gold kind(s)"), help="comma-separated gold kinds that count (default: mou,agreement,joint_programme)")
    e.add_argument("--out", default="evaluation/report", help="report folder (default: evaluation/report)")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--resamples", type=positive_int, default=10_000, help="sign flips of the randomization test")
    e.add_argument("--save-weights", help="also save the weights fitted on all gold pairs (JSON) with a model card beside it")
    e.add_argument("--force", action="store_true", help="let --save-weights overwrite existing files")
    e.set_defaults(func=_cmd_evaluate)

    b = add(sub, "bench", help="print speed and memory figures (synthetic profiles and the bundled corpus)")
    b.add_argument("--top-k", type=positive_int, default=10)
    b.add_argument("--repeats", type=positive_int, default=3, help="runs per figure; medians are printed")
    b.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    b.add_argument("--no-batch", action="store_true", help="skip the bundled-corpus batch figures")
    b.add_argument("--no-dask", action="store_true", help="skip the 2-worker Dask figure")
    b.add_argument("--schedule-only", action="store_true", help="only the brokerage-event figure (300 x 300 participants, 8 slots)")
    b.add_argument("--no-schedule", action="store_true", help="skip the brokerage-event figure")
    b.add_argument("--no-st", action="store_true", help="skip the sentence-transformers figures (warm and cold cache)")
    b.set_defaults(func=_cmd_bench)

    return parser


class _Terminated(BaseException):
    """SIGTERM, turned into an exception so that temporary outputs are removed on the way out."""


def _on_sigterm(signum, frame) -> None:
    raise _Terminated


def _arrow_on_system_allocator() -> None:
    """Arrow's buffers from the C library's allocator in a command's process, unless the user
    chose with ``ARROW_DEFAULT_MEMORY_POOL``. Arrow's default (mimalloc) hands the pages of large
    freed buffers back and takes them anew: a 10,000 x 2,000 ``matcher rank`` spent 0.4-0.5 s more
    in the kernel with it (the summary lines and the CSV tables are Arrow strings)."""
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _arrow_on_system_allocator()
    from matcher.errors import MatcherError

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if in_main else None
    try:
        return int(args.func(args) or 0)
    except (MatcherError, OSError) as exc:
        if args.verbose:
            raise
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except _Terminated:
        print("terminated", file=sys.stderr)
        return 143
    finally:
        if in_main and previous is not None:
            signal.signal(signal.SIGTERM, previous)


def run() -> NoReturn:
    """The ``matcher`` command (and ``python -m matcher``): :func:`main`, then the process ends
    without the interpreter's teardown, which only frees what the run built (a fifth of a second
    after a 12,000-profile run). Every output is written, fsynced and renamed by then; logs and
    the standard streams are flushed first. When a Dask cluster was used (``distributed`` loaded)
    or child processes remain, the normal exit runs its clean-up."""
    code = main()
    children = "multiprocessing" in sys.modules and sys.modules["multiprocessing"].active_children()
    if "distributed" in sys.modules or children:
        sys.exit(code)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
