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
  if (pair.related_sectors.length) {
    const chips = el("div", {"aria-label": "related sectors"});
    for (const s of pair.related_sectors) chips.append(el("span", {cls: "chip related", text: "related: " + s}));
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

applyFilters();
overview();
evaluation();
window.addEventListener("hashchange", route);
route();
document.body.setAttribute("data-ready", "1");
