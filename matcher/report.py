"""Write stage, HTML: one self-contained page of shortlists, explanations and evaluation.

The page carries its data as JSON inside the file and renders with a small inline script: no
server, no network, no CDN. The markup, style and script live in ``matcher/templates/`` (a Jinja2
template with autoescaping, and the CSS and JavaScript it inlines). Every profile text reaches the
page through ``textContent``, never as markup, so a description containing ``<script>`` shows as
text; the header line is escaped by the template.
"""

from __future__ import annotations

import base64
import csv
import json
import logging
from collections import Counter
from functools import cache
from pathlib import Path

from matcher.errors import RunFolderError
from matcher.score import SIGNALS
from matcher.write import atomic_write_text

__all__ = ["REQUIRED_RUN_FILES", "build_report_data", "render_agenda_html", "render_html", "run_line", "write_html_report"]

log = logging.getLogger(__name__)

REQUIRED_RUN_FILES = ("details.json", "eu_to_ca.csv", "ca_to_eu.csv", "pairings.csv", "run.json")
EVALUATION_FILES = ("metrics.csv", "recall_at_k.png", "gold_rank_distribution.png")


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _check_run(run: Path) -> None:
    if not run.is_dir():
        raise RunFolderError(f"run folder {str(run)!r} does not exist; make it with `matcher rank --out {run}`")
    for name in REQUIRED_RUN_FILES:
        if not (run / name).is_file():
            raise RunFolderError(
                f"run folder {str(run)!r} lacks {name}, which the report needs; make it with `matcher rank --out {run}`"
            )


def _evaluation_data(folder: Path | None) -> dict | None:
    if folder is None or not (folder / "metrics.csv").is_file():
        return None
    rows = [r for r in _read_csv(folder / "metrics.csv") if r.get("direction") == "both"]
    columns = ["system", "recall@1", "recall@5", "recall@10", "mrr", "ndcg@10", "mean_rank"]
    table = [[r["system"], *(f"{float(r[c]):.3f}" if r.get(c) not in (None, "") else "" for c in columns[1:])] for r in rows]
    images = []
    for name, alt in (("recall_at_k.png", "Recall at k of known agreements, per system"), ("gold_rank_distribution.png", "Distribution of the ranks of known partners")):
        path = folder / name
        if path.is_file():
            images.append({"alt": alt, "src": "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")})
    return {"columns": columns, "rows": table, "images": images}


def build_report_data(run: str | Path, evaluation: str | Path | None = None) -> dict:
    """Everything the page shows, as one JSON-ready dict, from a run folder (and evaluation folder)."""
    run = Path(run)
    _check_run(run)
    details = json.loads((run / "details.json").read_text(encoding="utf-8"))
    info = json.loads((run / "run.json").read_text(encoding="utf-8"))
    lists: dict[str, dict[str, list]] = {"eu_to_ca": {}, "ca_to_eu": {}}
    for direction in lists:
        for row in _read_csv(run / f"{direction}.csv"):
            lists[direction].setdefault(row["query_id"], []).append(row["candidate_id"])
    profiles = details["profiles"]
    areas = details["areas"]
    pairings = _read_csv(run / "pairings.csv")
    heat = {a: dict.fromkeys(areas, 0) for a in areas}
    for row in pairings:
        for ea in profiles[row["eu_id"]]["areas"]:
            for ca in profiles[row["ca_id"]]["areas"]:
                heat[ea][ca] += 1
    overview = {
        "sides": Counter(p["side"] for p in profiles.values()),
        "countries": dict(sorted(Counter(p["country"] for p in profiles.values()).items(), key=lambda kv: (-kv[1], kv[0]))),
        "areas": {
            side: {a: sum(a in p["areas"] for p in profiles.values() if p["side"] == side) for a in areas} for side in ("eu", "ca")
        },
        "pairings": len(pairings),
        "heat": heat,
    }
    if evaluation is None and (run / "evaluation").is_dir():
        evaluation = run / "evaluation"
    return {
        "profiles": profiles,
        "pairs": details["pairs"],
        "lists": lists,
        "signals": details["signals"],
        "signal_order": [s for s in SIGNALS if s in details["signals"]] + sorted(set(details["signals"]) - set(SIGNALS)),
        "areas": areas,
        "weights": details["weights"],
        "overview": overview,
        "evaluation": _evaluation_data(Path(evaluation)) if evaluation is not None else None,
        "run": {"backend": info.get("backend"), "model": info.get("model"), "corpus": _corpus_info(info.get("corpus")), "top_k": info.get("top_k"), "filters": info.get("filters"),
                **({"diversity": info["diversity"]} if info.get("diversity") else {})},
    }


def _corpus_info(corpus) -> dict:
    """run.json's corpus entry ({path, sha256, eu, ca}); an older run may hold the path alone."""
    if isinstance(corpus, dict):
        return {k: corpus.get(k) for k in ("path", "sha256", "eu", "ca")}
    return {"path": None if corpus is None else str(corpus), "sha256": None, "eu": None, "ca": None}


def run_line(data: dict) -> str:
    """The header's one line about the run: backend, model, corpus, top-k, filters, weights."""
    run = data["run"]
    corpus = run["corpus"]
    parts = ["Backend " + str(run.get("backend")) + (f" ({run['model']})" if run.get("model") else "")]
    if corpus.get("eu") is not None:
        parts.append(f"corpus {corpus['path']} ({corpus['eu']} European and {corpus['ca']} Canadian profiles)")
    else:
        parts.append(f"corpus {corpus['path']}")
    parts.append(f"top {run.get('top_k')}")
    if run.get("diversity"):
        parts.append(f"diversity {run['diversity']:g} (MMR order)")
    if run.get("filters"):
        parts.append("filters " + "; ".join(f"{k} {', '.join(v) if isinstance(v, (list, tuple)) else v}" for k, v in run["filters"].items()))
    parts.append(f"weights {data['weights'].get('name')}")
    return " · ".join(parts)


def _json_for_script(data: dict) -> str:
    # Inside <script type="application/json"> only "</script" could end the element; escaping every
    # "<" (and the line separators JavaScript dislikes) keeps any profile text inert.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


@cache
def _environment():
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def _asset(name: str) -> str:
    """A file of the templates folder as it is (the CSS and script are inlined, not parsed)."""
    env = _environment()
    return env.loader.get_source(env, name)[0]


def render_html(data: dict) -> str:
    """The whole page as one string."""
    import markupsafe

    page = _environment().get_template("report.html.j2")
    return page.render(
        data_json=markupsafe.Markup(_json_for_script(data)),
        run_line=run_line(data),
        style=markupsafe.Markup(_asset("report.css")),
        script=markupsafe.Markup(_asset("report.js")),
    )


def write_html_report(run: str | Path, out: str | Path | None = None, evaluation: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a run folder (default: ``<run>/report.html``)."""
    run = Path(run)
    data = build_report_data(run, evaluation)
    out = Path(out) if out is not None else run / "report.html"
    path = atomic_write_text(out, render_html(data))
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 2**20)
    return path


def schedule_line(summary: dict) -> str:
    """The agenda page's one line about the event: total score, counts, solver status."""
    n = summary["counts"]
    parts = [
        f"{n['meetings']} meetings in {n['slots']} slots" + (f" at {n['tables']} tables" if n["tables"] is not None else ""),
        f"{n['participants']['eu']} European and {n['participants']['ca']} Canadian participants",
        f"total score {summary['total_score']:.4f}",
        f"plan {summary['solver']['status']} (HiGHS; gap {summary['solver']['certificate']['gap_units']:g} units of 1e-6)",
        f"backend {summary['backend']}, weights {summary['weights']}",
    ]
    p = summary["parameters"]
    if p["min_score"] is not None:
        parts.append(f"min score {p['min_score']:g}")
    if p["new_only"]:
        parts.append("new partners only")
    return " · ".join(parts)


def render_agenda_html(schedule) -> str:
    """The agenda page of a :class:`~matcher.schedule.Schedule`: the meetings by slot, then each
    participant's slots with the partner and the reason (self-contained, escaped by the template)."""
    import markupsafe

    by_slot: dict[int, list] = {}
    for m in schedule.meetings.itertuples(index=False):
        by_slot.setdefault(int(m.slot), []).append({"eu_id": m.eu_id, "eu_name": m.eu_name, "ca_id": m.ca_id, "ca_name": m.ca_name, "score": f"{m.score:.3f}"})
    people: dict[str, dict] = {}
    for a in schedule.agendas.itertuples(index=False):
        p = people.setdefault(a.participant_id, {"id": a.participant_id, "name": a.participant_name, "side_label": "Europe" if a.side == "eu" else "Canada", "slots": []})
        free = a.status == "free"
        p["slots"].append({"slot": int(a.slot), "free": free, "partner_id": a.partner_id, "partner_name": a.partner_name, "score": "" if free else f"{a.score:.3f}", "why": a.why})
    page = _environment().get_template("agenda.html.j2")
    return page.render(
        style=markupsafe.Markup(_asset("report.css")),
        summary_line=schedule_line(schedule.summary),
        slots=[{"number": k, "meetings": v} for k, v in sorted(by_slot.items())],
        participants=list(people.values()),
    )
