"""Write stage, HTML: one self-contained page of shortlists, explanations and evaluation.

The page carries its data as JSON inside the file and renders with a small inline script: no
server, no network, no CDN. Every profile text reaches the page through ``textContent``, never as
markup, so a description containing ``<script>`` shows as text.
"""

from __future__ import annotations

import base64
import csv
import json
import logging
from collections import Counter
from pathlib import Path

from matcher.errors import RunFolderError
from matcher.score import SIGNALS
from matcher.write import atomic_write_text

__all__ = ["REQUIRED_RUN_FILES", "build_report_data", "render_html", "write_html_report"]

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
        "run": {"backend": info.get("backend"), "model": info.get("model"), "corpus": info.get("corpus"), "top_k": info.get("top_k"), "filters": info.get("filters")},
    }


def _json_for_script(data: dict) -> str:
    # Inside <script type="application/json"> only "</script" could end the element; escaping every
    # "<" (and the line separators JavaScript dislikes) keeps any profile text inert.
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def render_html(data: dict) -> str:
    """The whole page as one string."""
    return _TEMPLATE.replace("/*DATA*/", _json_for_script(data)).replace("/*CSS*/", _CSS).replace("/*JS*/", _JS)


def write_html_report(run: str | Path, out: str | Path | None = None, evaluation: str | Path | None = None) -> Path:
    """Write the self-contained HTML report of a run folder (default: ``<run>/report.html``)."""
    run = Path(run)
    data = build_report_data(run, evaluation)
    out = Path(out) if out is not None else run / "report.html"
    path = atomic_write_text(out, render_html(data))
    log.info("wrote %s (%.1f MB)", path, path.stat().st_size / 2**20)
    return path


_TEMPLATE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>EU-Canada cluster pairings</title>
<style>/*CSS*/</style>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
  <h1>EU-Canada cluster pairings</h1>
  <p id="run-info" class="muted"></p>
</header>
<div class="layout">
<nav class="side" aria-label="Clusters">
  <form id="filters" role="search" onsubmit="return false">
    <label for="q">Search clusters (name, alias, keyword)</label>
    <input id="q" type="search" autocomplete="off" placeholder="e.g. aerospace, Montréal, MEDTEQ">
    <label for="f-side">Side</label>
    <select id="f-side"><option value="">Both sides</option><option value="eu">Europe</option><option value="ca">Canada</option></select>
    <label for="f-country">Country</label>
    <select id="f-country"><option value="">All countries</option></select>
    <label for="f-area">Priority area</label>
    <select id="f-area"><option value="">All priority areas</option></select>
    <label for="f-kind">Kind</label>
    <select id="f-kind"><option value="">All kinds</option></select>
  </form>
  <p id="count" class="muted" aria-live="polite"></p>
  <ul id="results" class="results"></ul>
</nav>
<main id="main" tabindex="-1">
  <section id="cluster-view" aria-live="polite"></section>
  <section id="overview" aria-labelledby="overview-h"><h2 id="overview-h">Overview</h2><div id="overview-body"></div></section>
  <section id="evaluation" aria-labelledby="evaluation-h" hidden><h2 id="evaluation-h">Evaluation against known agreements</h2><div id="evaluation-body"></div></section>
</main>
</div>
<script id="data" type="application/json">/*DATA*/</script>
<script>/*JS*/</script>
</body>
</html>
"""

_CSS = """
:root{--fg:#1a1a1a;--muted:#555;--bg:#fff;--panel:#f4f5f7;--line:#d0d4da;--accent:#0b57d0;--known:#8a4b00}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
a{color:var(--accent)}
a:focus,button:focus,input:focus,select:focus,summary:focus{outline:3px solid #f2a900;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:9}
.top{padding:12px 20px;border-bottom:1px solid var(--line)}
.top h1{margin:0;font-size:22px}
.muted{color:var(--muted);margin:4px 0}
.layout{display:flex;align-items:flex-start}
.side{width:310px;flex:none;padding:12px 16px;border-right:1px solid var(--line);position:sticky;top:0;max-height:100vh;overflow:auto;background:var(--panel)}
.side label{display:block;font-weight:600;margin-top:8px}
.side input,.side select{width:100%;padding:6px;font:inherit;border:1px solid #8a8f98;border-radius:4px;background:#fff;color:var(--fg)}
.results{list-style:none;padding:0;margin:8px 0}
.results li{padding:3px 0;border-bottom:1px solid var(--line)}
.results a{text-decoration:none}.results a:hover{text-decoration:underline}
.badge{display:inline-block;font-size:12px;padding:0 6px;border-radius:9px;border:1px solid var(--line);background:#fff;color:var(--fg);margin-left:4px}
main{flex:1;padding:12px 24px;min-width:0}
section{margin-bottom:28px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 16px;background:var(--panel)}
.card h2{margin:0 0 4px}
.card dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:8px 0}
.card dt{font-weight:600}.card dd{margin:0}
.chip{display:inline-block;background:#e3ecfb;color:#0a2f6b;border-radius:12px;padding:1px 9px;margin:2px 4px 2px 0;font-size:13px}
.partners{list-style:none;padding:0;margin:0}
.partner{border-bottom:1px solid var(--line);padding:10px 0}
.partner h4{margin:0;font-size:16px}
.known{color:var(--known);font-weight:700;margin-left:6px}
.bar{display:flex;height:16px;width:100%;max-width:520px;background:#eceef1;border-radius:3px;overflow:hidden;margin:6px 0 2px}
.bar span{display:block;height:100%}
.legend{display:flex;flex-wrap:wrap;gap:10px;font-size:13px;margin:6px 0}
.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
.s-sector{background:#1b7837}.s-semantic{background:#2166ac}.s-lexical{background:#b35806}.s-language{background:#762a83}.s-interest{background:#c51b7d}
.why{margin:4px 0;color:#333}
details{margin-top:4px}summary{cursor:pointer;color:var(--accent)}
.ev{margin:6px 0 6px 8px;padding-left:8px;border-left:3px solid var(--line)}
.ev p{margin:2px 0}
mark{background:#ffe58a;color:#000;padding:0 1px}
table{border-collapse:collapse;margin:8px 0}
th,td{border:1px solid var(--line);padding:4px 8px;text-align:right}
th:first-child,td:first-child{text-align:left}
.heat td{min-width:54px}
.cols{display:flex;gap:24px;flex-wrap:wrap}
.eval-img{max-width:100%;height:auto;border:1px solid var(--line)}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media print{.side,.skip,#filters{display:none}.layout{display:block}main{padding:0}details{display:block}details>*{display:block}a{color:#000}}
@media (max-width:800px){.layout{display:block}.side{width:auto;position:static;max-height:none}}
"""

_JS = r"""
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const SIG = D.signal_order;
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") e.textContent = v; else if (k === "cls") e.className = v; else e.setAttribute(k, v);
  }
  for (const k of kids) if (k !== null && k !== undefined) e.append(k);
  return e;
}
const fold = (s) => (s || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
const kindLabel = (k) => k.replace(/_/g, " ");
const sideLabel = (s) => (s === "eu" ? "Europe" : "Canada");
const ids = Object.keys(D.profiles).sort((a, b) => fold(D.profiles[a].name).localeCompare(fold(D.profiles[b].name)));
const haystack = {};
for (const id of ids) {
  const p = D.profiles[id];
  haystack[id] = fold([p.name, id, ...(p.aliases || []), ...(p.keywords || []), p.city || "", p.region || ""].join(" | "));
}

function fillSelect(sel, values, label) {
  for (const v of values) sel.append(el("option", {value: v, text: label ? label(v) : v}));
}
fillSelect($("f-country"), [...new Set(ids.map((i) => D.profiles[i].country))].sort());
fillSelect($("f-area"), Object.keys(D.areas), (a) => D.areas[a]);
fillSelect($("f-kind"), [...new Set(ids.map((i) => D.profiles[i].kind))].sort(), kindLabel);

function applyFilters() {
  const q = fold($("q").value.trim());
  const side = $("f-side").value, country = $("f-country").value, area = $("f-area").value, kind = $("f-kind").value;
  const list = $("results");
  list.replaceChildren();
  let n = 0;
  for (const id of ids) {
    const p = D.profiles[id];
    if (q && !haystack[id].includes(q)) continue;
    if (side && p.side !== side) continue;
    if (country && p.country !== country) continue;
    if (area && !p.areas.includes(area)) continue;
    if (kind && p.kind !== kind) continue;
    n++;
    list.append(el("li", {"data-id": id}, el("a", {href: "#" + id, text: p.name}), el("span", {cls: "badge", text: p.country})));
  }
  $("count").textContent = n + " of " + ids.length + " clusters";
}
for (const id of ["q", "f-side", "f-country", "f-area", "f-kind"]) for (const ev of ["input", "change"]) $(id).addEventListener(ev, applyFilters);

function highlight(text, terms) {
  const frag = document.createDocumentFragment();
  const words = (terms || []).flatMap((t) => t.split(/\s+/)).filter((w) => w.length > 2);
  if (!words.length) { frag.append(text); return frag; }
  const esc = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const re = new RegExp("(" + esc.join("|") + ")", "gi");
  const fText = fold(text);
  let last = 0, m;
  while ((m = re.exec(fText)) !== null) {
    if (m[0].length === 0) { re.lastIndex++; continue; }
    const before = fText[m.index - 1], after = fText[m.index + m[0].length];
    if ((before && /\w/.test(before)) || (after && /\w/.test(after))) continue;
    frag.append(text.slice(last, m.index), el("mark", {text: text.slice(m.index, m.index + m[0].length)}));
    last = m.index + m[0].length;
  }
  frag.append(text.slice(last));
  return frag;
}

function scoreBar(pair, scale) {
  const parts = SIG.map((s) => D.signals[s] + " " + pair.contributions[s].toFixed(3)).join(", ");
  const bar = el("div", {cls: "bar", role: "img", "aria-label": "score " + pair.score.toFixed(3) + " = " + parts});
  for (const s of SIG) {
    const v = Math.max(pair.contributions[s], 0);
    if (v <= 0) continue;
    bar.append(el("span", {cls: "s-" + s, style: "width:" + (100 * v / scale).toFixed(2) + "%", title: D.signals[s] + ": " + v.toFixed(3)}));
  }
  return bar;
}

function legend() {
  const box = el("div", {cls: "legend", "aria-hidden": "true"});
  for (const s of SIG) box.append(el("span", {}, el("i", {cls: "s-" + s}), D.signals[s]));
  return box;
}

function partnerItem(queryId, candId, rank, scale) {
  const q = D.profiles[queryId], c = D.profiles[candId];
  const eu = q.side === "eu" ? queryId : candId, ca = q.side === "eu" ? candId : queryId;
  const pair = D.pairs[eu + "|" + ca];
  const head = el("h4", {}, rank + ". ", el("a", {href: "#" + candId, text: c.name}), " ",
    el("span", {cls: "badge", text: c.country}), el("span", {cls: "badge", text: kindLabel(c.kind)}),
    pair.known_partner ? el("span", {cls: "known", text: "known partner (" + pair.known_partner + ")"}) : null);
  const li = el("li", {cls: "partner", "data-candidate": candId}, head);
  li.append(el("div", {cls: "muted", text: "score " + pair.score.toFixed(3) + " · rank " + pair.ranks[0] + " for the European side, " + pair.ranks[1] + " for the Canadian side"}));
  li.append(scoreBar(pair, scale));
  const contrib = el("p", {cls: "sr", text: SIG.map((s) => D.signals[s] + " " + pair.contributions[s].toFixed(3)).join("; ")});
  li.append(contrib);
  if (pair.shared_sectors.length) {
    const chips = el("div", {"aria-label": "shared sectors"});
    for (const s of pair.shared_sectors) chips.append(el("span", {cls: "chip", text: s}));
    li.append(chips);
  }
  li.append(el("p", {cls: "why", text: pair.summary}));
  if (pair.evidence.length) {
    const det = el("details", {}, el("summary", {text: "Evidence: " + pair.evidence.length + " sentence pairs"}));
    for (const [i, j, sim] of pair.evidence) {
      det.append(el("div", {cls: "ev"},
        el("p", {}, el("strong", {text: D.profiles[eu].name + ": "}), highlight(D.profiles[eu].sentences[i], pair.terms)),
        el("p", {}, el("strong", {text: D.profiles[ca].name + ": "}), highlight(D.profiles[ca].sentences[j], pair.terms)),
        el("p", {cls: "muted", text: "similarity " + sim.toFixed(2)})));
    }
    li.append(det);
  }
  return li;
}

function profileCard(id) {
  const p = D.profiles[id];
  const card = el("div", {cls: "card"});
  card.append(el("h2", {id: id + "-h", text: p.name}));
  if (p.aliases.length) card.append(el("p", {cls: "muted", text: "Also: " + p.aliases.join(", ")}));
  const dl = el("dl");
  const row = (k, v) => { if (v) dl.append(el("dt", {text: k}), el("dd", {}, v)); };
  row("Side", sideLabel(p.side));
  row("Country", [p.country, p.region, p.city].filter(Boolean).join(" · "));
  row("Kind", kindLabel(p.kind));
  const chips = el("span");
  for (const s of p.sectors) chips.append(el("span", {cls: "chip", text: s}));
  row("Sectors", chips);
  row("Priority areas", p.areas.map((a) => D.areas[a]).join(", "));
  row("Languages", (p.languages || []).join(", "));
  if (p.website && /^https?:\/\//.test(p.website)) row("Website", el("a", {href: p.website, rel: "noopener", text: p.website}));
  if (p.sources.length) {
    const ul = el("ul");
    for (const s of p.sources) if (/^https?:\/\//.test(s)) ul.append(el("li", {}, el("a", {href: s, rel: "noopener", text: s})));
    row("Sources", ul);
  }
  card.append(dl);
  card.append(el("p", {cls: "desc", text: p.sentences.join(" ")}));
  return card;
}

function showCluster(id) {
  const view = $("cluster-view");
  view.replaceChildren();
  const p = D.profiles[id];
  if (!p) return false;
  const sec = el("section", {id: id, cls: "cluster", "aria-labelledby": id + "-h"});
  sec.append(profileCard(id));
  const direction = p.side === "eu" ? "eu_to_ca" : "ca_to_eu";
  const cands = (D.lists[direction][id] || []);
  sec.append(el("h3", {text: (p.side === "eu" ? "Canadian" : "European") + " partners proposed for " + p.name}));
  if (!cands.length) sec.append(el("p", {text: "No candidate left by the run's filters."}));
  else {
    let scale = 0;
    for (const c of cands) {
      const key = p.side === "eu" ? id + "|" + c : c + "|" + id;
      scale = Math.max(scale, D.pairs[key].score);
    }
    sec.append(legend());
    const ul = el("ol", {cls: "partners"});
    cands.forEach((c, i) => ul.append(partnerItem(id, c, i + 1, scale || 1)));
    sec.append(ul);
  }
  // Where this cluster appears in the other side's lists.
  const other = p.side === "eu" ? "ca_to_eu" : "eu_to_ca";
  const back = Object.entries(D.lists[other]).filter(([, list]) => list.includes(id)).map(([q, list]) => [q, list.indexOf(id) + 1]);
  if (back.length) {
    sec.append(el("h3", {text: "Proposed to"}));
    const ul = el("ul");
    back.sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
    for (const [q, r] of back) ul.append(el("li", {}, el("a", {href: "#" + q, text: D.profiles[q].name}), " (rank " + r + ")"));
    sec.append(ul);
  }
  sec.append(el("p", {}, el("a", {href: "#overview", text: "Back to the overview"})));
  view.append(sec);
  document.title = p.name + " · EU-Canada cluster pairings";
  return true;
}

function overview() {
  const o = D.overview, box = $("overview-body");
  box.append(el("p", {text: (o.sides.eu || 0) + " European and " + (o.sides.ca || 0) + " Canadian clusters; " + o.pairings + " proposed pairs."}));
  const cols = el("div", {cls: "cols"});
  const t1 = el("table", {}, el("caption", {text: "Clusters by priority area"}), el("tr", {}, el("th", {scope: "col", text: "Priority area"}), el("th", {scope: "col", text: "Europe"}), el("th", {scope: "col", text: "Canada"})));
  for (const a of Object.keys(D.areas)) t1.append(el("tr", {}, el("th", {scope: "row", text: D.areas[a]}), el("td", {text: o.areas.eu[a]}), el("td", {text: o.areas.ca[a]})));
  const t2 = el("table", {}, el("caption", {text: "Clusters by country"}), el("tr", {}, el("th", {scope: "col", text: "Country"}), el("th", {scope: "col", text: "Clusters"})));
  for (const [c, n] of Object.entries(o.countries)) t2.append(el("tr", {}, el("th", {scope: "row", text: c}), el("td", {text: n})));
  cols.append(t1, t2);
  box.append(cols);
  const max = Math.max(1, ...Object.values(o.heat).flatMap((r) => Object.values(r)));
  const heat = el("table", {cls: "heat"}, el("caption", {text: "Proposed pairs by European priority area (rows) and Canadian priority area (columns)"}));
  const hr = el("tr", {}, el("th", {scope: "col", text: "Europe \\ Canada"}));
  for (const a of Object.keys(D.areas)) hr.append(el("th", {scope: "col", text: D.areas[a]}));
  heat.append(hr);
  for (const ea of Object.keys(D.areas)) {
    const tr = el("tr", {}, el("th", {scope: "row", text: D.areas[ea]}));
    for (const ca of Object.keys(D.areas)) {
      const v = o.heat[ea][ca], f = v / max;
      const light = 95 - Math.round(65 * f);
      tr.append(el("td", {style: "background:hsl(215,70%," + light + "%);color:" + (light < 55 ? "#fff" : "#000"), text: v}));
    }
    heat.append(tr);
  }
  box.append(heat);
}

function evaluation() {
  if (!D.evaluation) return;
  const sec = $("evaluation"), box = $("evaluation-body");
  sec.hidden = false;
  const t = el("table", {}, el("caption", {text: "Known agreements found, both directions (means over queries)"}));
  const hr = el("tr");
  for (const c of D.evaluation.columns) hr.append(el("th", {scope: "col", text: c}));
  t.append(hr);
  for (const r of D.evaluation.rows) {
    const tr = el("tr");
    r.forEach((v, i) => tr.append(el(i === 0 ? "th" : "td", i === 0 ? {scope: "row", text: v} : {text: v})));
    t.append(tr);
  }
  box.append(t);
  for (const img of D.evaluation.images) box.append(el("p", {}, el("img", {cls: "eval-img", src: img.src, alt: img.alt})));
}

function route() {
  const id = decodeURIComponent(location.hash.slice(1));
  if (D.profiles[id]) {
    showCluster(id);
    const target = document.getElementById(id);
    target.scrollIntoView();
    const h = document.getElementById(id + "-h");
    if (h) { h.setAttribute("tabindex", "-1"); h.focus({preventScroll: true}); }
  } else if (!id || id === "overview" || id === "evaluation" || id === "main") {
    if (!id) $("cluster-view").replaceChildren();
  }
}

const r = D.run;
$("run-info").textContent = "Backend " + r.backend + (r.model ? " (" + r.model + ")" : "") + " · corpus " + r.corpus + " · top " + r.top_k +
  (r.filters && Object.keys(r.filters).length ? " · filters " + JSON.stringify(r.filters) : "") + " · weights " + D.weights.name;
applyFilters();
overview();
evaluation();
window.addEventListener("hashchange", route);
route();
document.body.setAttribute("data-ready", "1");
"""
