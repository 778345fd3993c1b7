"""The report's style sheet and script, inlined into every report (no file, font or network).

The script reads two JSON islands (`triage-events`, `triage-labels`) and builds the timeline
table with DOM calls and textContent only: nothing from the evidence is ever parsed as HTML.
The page's Content-Security-Policy allows exactly this script (by its SHA-256) and no other,
so even a mistake in escaping could not run injected code.
"""
from __future__ import annotations

CSS = r"""
:root { --fg: #1d2329; --muted: #5c6670; --line: #d5dbe1; --bg: #ffffff; --soft: #f4f6f8;
  --accent: #1f5f99; --crit: #6a1b9a; --high: #c62828; --medium: #ef6c00; --low: #1565c0;
  --info: #546e7a; }
* { box-sizing: border-box; }
html { font-size: 14px; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.45;
  font-family: system-ui, -apple-system, "Segoe UI", "Hiragino Sans", "Hiragino Kaku Gothic ProN",
  "Yu Gothic UI", "Yu Gothic", Meiryo, "Noto Sans CJK JP", "Noto Sans JP", Roboto, Arial, sans-serif; }
header.top { background: #15324d; color: #fff; padding: 18px 28px 14px; }
header.top h1 { margin: 0 0 4px; font-size: 1.7rem; font-weight: 600; }
header.top .sub { color: #d6e2ee; font-size: .95rem; }
header.top .zone { margin-top: 8px; display: inline-block; background: #24506f; padding: 3px 10px;
  border-radius: 3px; font-size: .9rem; }
nav.toc { position: sticky; top: 0; z-index: 5; background: var(--soft); border-bottom: 1px solid var(--line);
  padding: 6px 28px; font-size: .92rem; }
nav.toc a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
nav.toc a:hover { text-decoration: underline; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { margin: 26px 0 10px; }
section > h2 { font-size: 1.3rem; border-bottom: 2px solid var(--accent); padding-bottom: 4px; margin: 0 0 12px; }
h3 { font-size: 1.05rem; margin: 18px 0 8px; }
p.note { color: var(--muted); margin: 6px 0; }
p.empty { color: var(--muted); font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: .92rem; }
th, td { border: 1px solid var(--line); padding: 4px 7px; text-align: left; vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
table.kv th { width: 24%; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.mono, .mono { font-family: ui-monospace, Consolas, "Courier New", monospace; font-size: .86rem; }
td.wrap, .wrap { overflow-wrap: anywhere; }
td.pre { white-space: pre-line; min-width: 22em; }
td.t { white-space: nowrap; }
small { color: var(--muted); }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: .82rem;
  font-weight: 600; }
.sev-critical { background: var(--crit); } .sev-high { background: var(--high); }
.sev-medium { background: var(--medium); } .sev-low { background: var(--low); }
.sev-informational, .sev-info, .sev-other { background: var(--info); }
.ok { color: #2e7d32; font-weight: 600; } .bad { color: var(--high); font-weight: 700; }
.finding { border: 1px solid var(--line); border-left: 5px solid var(--info); border-radius: 3px;
  padding: 8px 12px; margin: 10px 0; }
.finding.sev-critical-l { border-left-color: var(--crit); } .finding.sev-high-l { border-left-color: var(--high); }
.finding.sev-medium-l { border-left-color: var(--medium); } .finding.sev-low-l { border-left-color: var(--low); }
.finding h3 { margin: 2px 0 6px; }
.finding .meta { color: var(--muted); font-size: .9rem; }
.chart { width: 100%; height: auto; border: 1px solid var(--line); background: #fff; }
.legend { font-size: .88rem; margin: 4px 0; }
.legend span.sw { display: inline-block; width: 11px; height: 11px; margin: 0 4px 0 12px; vertical-align: -1px; }
.filters { display: flex; flex-wrap: wrap; gap: 8px 14px; align-items: end; background: var(--soft);
  border: 1px solid var(--line); padding: 8px 10px; }
.filters label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
.filters input, .filters select, .filters button { font: inherit; padding: 3px 6px; }
.filters select { max-width: 18em; }
.filters input.time { width: 13.5em; } .filters input.text { width: 18em; }
.pager { display: flex; gap: 10px; align-items: center; margin: 8px 0; }
.cap { background: #fff8e1; border: 1px solid #ffe082; padding: 6px 10px; }
.cap.all { background: #e8f5e9; border-color: #a5d6a7; }
#tl-table tbody tr.ev { cursor: pointer; }
#tl-table tbody tr.ev:hover { background: #eef4fa; }
#tl-table tr.detail td { background: #fafbfc; }
#tl-table tr.detail dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
#tl-table tr.detail dt { color: var(--muted); }
#tl-table tr.detail dd { margin: 0; word-break: break-all; font-family: ui-monospace, Consolas, monospace; font-size: .84rem; }
#tl-table td.tags { color: var(--high); font-size: .84rem; }
footer { color: var(--muted); font-size: .85rem; border-top: 1px solid var(--line); padding: 10px 28px 24px; }
@media print {
  nav.toc, .filters, .pager, noscript { display: none; }
  header.top { background: #fff; color: #000; border-bottom: 2px solid #000; }
  header.top .sub, header.top .zone { color: #000; background: none; padding: 0; }
  section { page-break-inside: auto; } .finding { page-break-inside: avoid; }
}
"""

JS = r"""
(function () {
  "use strict";
  var body = document.body;
  window.addEventListener("error", function (event) {
    body.setAttribute("data-js-error", String(event.message || "error"));
  });
  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }
  var L = JSON.parse(byId("triage-labels").textContent);
  var island = JSON.parse(byId("triage-events").textContent);
  var rows = island.rows;
  // fields: 0 seq, 1 local time, 2 UTC time, 3 meaning, 4 family, 5 artifact, 6 message,
  // 7 user, 8 path, 9 rule ids, 10 data (maybe cut), 11 event hash; 12 added: search text
  for (var i = 0; i < rows.length; i++) {
    var r = rows[i];
    r[12] = [r[3], r[4], r[5], r[6], r[7], r[8], r[9]].join("\n").toLowerCase();
  }
  var table = byId("tl-table");
  var tbody = table.tBodies[0];
  var inputs = {
    from: byId("f-from"), to: byId("f-to"), family: byId("f-family"), user: byId("f-user"),
    text: byId("f-text"), size: byId("f-size")
  };
  var state = { page: 0, size: 100, matches: rows };

  function distinct(index) {
    var seen = {}, out = [];
    for (var j = 0; j < rows.length; j++) {
      var v = rows[j][index];
      if (v && !Object.prototype.hasOwnProperty.call(seen, v)) { seen[v] = 1; out.push(v); }
    }
    return out.sort();
  }
  function fill(select, values) {
    select.appendChild(el("option", null, L.all)).value = "";
    for (var j = 0; j < values.length; j++) { select.appendChild(el("option", null, values[j])).value = values[j]; }
  }
  fill(inputs.family, distinct(4));
  fill(inputs.user, distinct(7));

  function timeKey(text) { return text.trim().replace("T", " "); }
  function apply() {
    var from = timeKey(inputs.from.value), to = timeKey(inputs.to.value);
    var toKey = to ? to + "\uffff" : "";
    var family = inputs.family.value, user = inputs.user.value;
    var text = inputs.text.value.trim().toLowerCase();
    state.matches = rows.filter(function (r) {
      if (from || to) {
        if (!r[1]) { return false; }
        if (from && r[1] < from) { return false; }
        if (toKey && r[1] > toKey) { return false; }
      }
      if (family && r[4] !== family) { return false; }
      if (user && r[7] !== user) { return false; }
      if (text && r[12].indexOf(text) < 0) { return false; }
      return true;
    });
    state.page = 0;
    render();
  }
  function detailRow(r) {
    var tr = el("tr", "detail"), td = el("td"), dl = el("dl");
    td.colSpan = 7;
    var items = [[L.utc, r[2]], [L.path, r[8]], [L.event_hash, r[11]], [L.data, r[10]]];
    for (var j = 0; j < items.length; j++) {
      dl.appendChild(el("dt", null, items[j][0]));
      dl.appendChild(el("dd", null, items[j][1]));
    }
    td.appendChild(dl);
    tr.appendChild(td);
    return tr;
  }
  function render() {
    var size = state.size, total = state.matches.length;
    var pages = Math.max(1, Math.ceil(total / size));
    if (state.page >= pages) { state.page = pages - 1; }
    var start = state.page * size, end = Math.min(total, start + size);
    var frag = document.createDocumentFragment();
    for (var j = start; j < end; j++) {
      var r = state.matches[j];
      var tr = el("tr", "ev");
      tr.setAttribute("data-i", String(j));
      var time = el("td", "mono t", r[1]);
      time.title = r[2] ? "UTC " + r[2] : "";
      tr.appendChild(time);
      tr.appendChild(el("td", null, r[3]));
      tr.appendChild(el("td", null, r[4]));
      tr.appendChild(el("td", null, r[5]));
      tr.appendChild(el("td", "wrap", r[6]));
      tr.appendChild(el("td", null, r[7]));
      tr.appendChild(el("td", "tags", r[9]));
      frag.appendChild(tr);
    }
    tbody.textContent = "";
    tbody.appendChild(frag);
    byId("tl-status").textContent = total ? fmt(L.showing, { a: start + 1, b: end, n: total }) : L.no_match;
    byId("tl-page").textContent = fmt(L.page, { p: state.page + 1, n: pages });
    byId("tl-prev").disabled = state.page <= 0;
    byId("tl-next").disabled = state.page >= pages - 1;
  }
  tbody.addEventListener("click", function (event) {
    var tr = event.target.closest ? event.target.closest("tr.ev") : null;
    if (!tr) { return; }
    var next = tr.nextSibling;
    if (next && next.className === "detail") { tbody.removeChild(next); return; }
    var r = state.matches[Number(tr.getAttribute("data-i"))];
    tbody.insertBefore(detailRow(r), tr.nextSibling);
  });
  var timer = null;
  function later() { if (timer) { clearTimeout(timer); } timer = setTimeout(apply, 200); }
  inputs.from.addEventListener("input", later);
  inputs.to.addEventListener("input", later);
  inputs.text.addEventListener("input", later);
  inputs.family.addEventListener("change", apply);
  inputs.user.addEventListener("change", apply);
  inputs.size.addEventListener("change", function () {
    state.size = Number(inputs.size.value) || 100; state.page = 0; render();
  });
  byId("f-reset").addEventListener("click", function () {
    inputs.from.value = ""; inputs.to.value = ""; inputs.text.value = "";
    inputs.family.value = ""; inputs.user.value = ""; apply();
  });
  byId("tl-prev").addEventListener("click", function () { state.page -= 1; render(); });
  byId("tl-next").addEventListener("click", function () { state.page += 1; render(); });
  byId("tl-controls").hidden = false;
  render();
  body.setAttribute("data-ready", "1");
})();
"""
