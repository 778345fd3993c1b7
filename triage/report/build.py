"""The investigation report: one self-contained HTML file built from a finished case.

Read only: case.sqlite through `open_readonly` (immutable, no journal) and manifest.json; the
evidence is never opened. The page holds everything it shows: inline CSS, inline SVG charts,
one inline script (allowed by its SHA-256 in the page's Content-Security-Policy, which also
forbids every network request) and the timeline as a JSON island.

Escaping: every text that comes from the evidence or the case goes through `html.escape`
(`_e`) for HTML text and attribute values, SVG text included; the JSON islands have `<`, `>`
and `&` written as \\u escapes, so `</script>` or `<!--` in a file name cannot end the island.
The script only ever sets textContent.

Times are shown in the zone asked for (default: the case's local zone, else UTC) with the zone
named in each column header or next to the time; the store and the exports stay UTC.
"""
from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import html
import json
import os
import platform
import re
import sqlite3
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from triage import __version__
from triage.case_files import check_target
from triage.display import shown
from triage.export import case_zone, local_text, offset_text, utc_datetime
from triage.integrity import sha256_file
from triage.manifest import MANIFEST, read_manifest
from triage.model import Timestamp
from triage.report.assets import CSS, JS
from triage.report.i18n import JS_KEYS, LABELS, check_language, label
from triage.store import NO_TIME_SORT, open_readonly

DEFAULT_NAME = "report.html"
TABLE_LIMIT = 300  # rows per summary table; the rest is counted, never silently dropped
PROVING_LIMIT = 100  # proving events listed per finding
DATA_LIMIT = 1000  # characters of an event's data embedded in the timeline island
SEVERITY_ORDER = ("critical", "high", "medium", "low", "informational")
LEAK_CATEGORIES = ("cloud_storage", "file_transfer", "webmail")
EXEC_PLUGINS = {"userassist": "UserAssist", "bam": "BAM/DAM", "shimcache": "ShimCache",
                "amcache": "Amcache"}
FAMILY_COLORS = {"execution": "#1f77b4", "deleted": "#d62728", "registry": "#7f7f7f",
                 "recent_files": "#2ca02c", "browser": "#ff7f0e", "documents": "#9467bd",
                 "eventlog": "#8c564b", "usb": "#e377c2", "activity": "#17becf"}
EXTRA_COLORS = ("#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd")


class Raw(str):
    """HTML that is already safe (built here from escaped parts)."""


def _e(value: Any) -> str:
    """Evidence text as HTML text: escaped, bidirectional controls shown (triage.display)."""
    if value is None:
        return ""
    if isinstance(value, Raw):
        return value
    return html.escape(shown(value), quote=True)


def _json_island(value: Any) -> str:
    text = shown(json.dumps(value, ensure_ascii=False, separators=(",", ":")))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _num(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else _e(value)


def _base(path: Any) -> str:
    text = str(path or "")
    return re.split(r"[\\/]", text.rstrip("\\/"))[-1] if text else ""


@dataclass
class _Ctx:
    lang: str
    zone: str
    tz: _dt.tzinfo

    def t(self, key: str, **values: Any) -> str:
        return label(self.lang, key, **values)

    def h(self, key: str, **values: Any) -> str:
        return _e(self.t(key, **values))

    def time(self, iso: str | None) -> Raw:
        """A time in the display zone, the UTC original in the tooltip."""
        if not iso:
            return Raw("")
        local = local_text(iso, self.tz)
        return Raw(f'<time datetime="{_e(iso)}" title="UTC {_e(iso)}">{_e(local)}</time>')

    def time_named(self, iso: str | None) -> Raw:
        """A standalone time with its zone named next to it."""
        if not iso:
            return Raw(_e(self.t("none")))
        return Raw(f"{self.time(iso)} ({_e(self.zone)})")

    @property
    def time_col(self) -> str:
        return self.t("time_col", zone=self.zone)


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], numeric: Sequence[int] = (),
           classes: dict[int, str] | None = None, table_class: str = "") -> str:
    classes = dict(classes or {})
    for index in numeric:
        classes[index] = (classes.get(index, "") + " num").strip()
    head = "".join(f'<th class="num">{_e(h)}</th>' if i in numeric else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            text = _num(value) if i in numeric else _e(value)
            cls = classes.get(i)
            cells.append(f'<td class="{cls}">{text}</td>' if cls else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls = f' class="{table_class}"' if table_class else ""
    return f"<table{cls}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _kv(rows: Iterable[tuple[str, Any]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _more(ctx: _Ctx, total: int, shown: int) -> str:
    return f'<p class="note">{ctx.h("more_rows", n=f"{total - shown:,}")}</p>' if total > shown else ""


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _has_table(db: sqlite3.Connection, name: str) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (name,)).fetchone() is not None


def _section(anchor: str, title: str, body: str) -> str:
    return f'<section id="{anchor}"><h2>{_e(title)}</h2>{body}</section>'


# ---------------------------------------------------------------- case and evidence


def _case_section(ctx: _Ctx, manifest: dict[str, Any], manifest_sha: str) -> str:
    ev = manifest.get("evidence") or {}
    tool = manifest.get("tool") or {}
    rows: list[tuple[str, Any]] = [
        (ctx.t("examiner"), manifest.get("examiner") or ctx.t("none")),
        (ctx.t("case_id"), manifest.get("case_id") or ctx.t("none")),
        (ctx.t("evidence_name"), ev.get("name")),
        (ctx.t("evidence_path"), ev.get("path")),
        (ctx.t("evidence_kind"), ev.get("kind")),
        (ctx.t("containers"), ", ".join(ev.get("containers") or []) or ctx.t("none")),
        (ctx.t("volume_system"), ev.get("volume_system") or ctx.t("none")),
        (ctx.t("tool"), f"{tool.get('name', 'triage')} {tool.get('version', '')}".strip()),
        (ctx.t("platform"), f"Python {tool.get('python', '')} / {tool.get('platform', '')}"),
        (ctx.t("started"), ctx.time_named(manifest.get("started"))),
        (ctx.t("finished"), ctx.time_named(manifest.get("finished"))),
        (ctx.t("local_zone"), manifest.get("local_time_zone") or ctx.t("none")),
        (ctx.t("command_line"), Raw(f'<span class="mono wrap">{_e(" ".join(manifest.get("command_line") or []))}</span>')),
    ]
    counts = manifest.get("counts") or {}
    rows.append((ctx.t("counts"), ctx.t("counts_text", events=f"{counts.get('events') or 0:,}",
                                        files=f"{counts.get('files') or 0:,}",
                                        errors=f"{counts.get('errors') or 0:,}",
                                        warnings=f"{counts.get('warnings') or 0:,}")))
    snaps = manifest.get("snapshots") or {}
    rows.append((ctx.t("snapshots"), ctx.t("snapshots_text", found=snaps.get("found") or 0,
                                           processed=snaps.get("processed") or 0)))
    parts = [_kv(rows)]
    segments = ev.get("segments") or []
    if segments:
        parts.append(f"<h3>{ctx.h('segments')}</h3>")
        parts.append(_table([ctx.t("path"), ctx.t("size")],
                            [(s.get("path"), s.get("size")) for s in segments], numeric=(1,),
                            classes={0: "wrap mono"}))
    parts.append(f"<h3>{ctx.h('hashes')}</h3>")
    hashes = ev.get("hashes") or {}
    if not hashes:
        parts.append(f'<p class="note">{ctx.h("not_hashed")}</p>')
    else:
        computed, stored = hashes.get("computed") or {}, hashes.get("stored") or {}
        hash_rows = []
        for algo in ("md5", "sha1", "sha256"):
            if computed.get(algo) or stored.get(algo):
                hash_rows.append((algo.upper(), computed.get(algo) or "", stored.get(algo) or ""))
        parts.append(_table(["", ctx.t("hash_computed"), ctx.t("hash_stored")], hash_rows,
                            classes={1: "mono wrap", 2: "mono wrap"}))
        if computed.get("size") is not None:
            parts.append(f'<p class="note">{ctx.h("media_size")}: {_num(computed.get("size"))}</p>')
        verification = hashes.get("verification")
        if verification:
            if str(verification).lower() == "match":
                text = f'<span class="ok">{ctx.h("verification_match")}</span>'
            elif str(verification).upper() == "MISMATCH":
                text = f'<span class="bad">{ctx.h("verification_mismatch")}</span>'
            else:
                text = _e(verification)
            parts.append(f"<p><strong>{ctx.h('verification')}:</strong> {text}</p>")
    volumes = manifest.get("volumes") or []
    if volumes:
        parts.append(f"<h3>{ctx.h('volumes')}</h3>")
        parts.append(_table(
            [ctx.t("vol_id"), ctx.t("vol_offset"), ctx.t("size"), ctx.t("vol_type"), ctx.t("vol_fs"),
             ctx.t("vol_label"), ctx.t("vol_serial"), ctx.t("vol_encryption"), ctx.t("vol_status")],
            [(v.get("id"), v.get("offset"), v.get("size"), v.get("partition_type"), v.get("fs_type"),
              v.get("label"), v.get("serial"), v.get("encryption"),
              " ".join(x for x in (v.get("status"), v.get("note")) if x)) for v in volumes],
            numeric=(1, 2)))
    timeline = manifest.get("timeline") or {}
    parts.append(f"<h3>{ctx.h('integrity')}</h3>")
    parts.append(_kv([
        (ctx.t("chain_head"), Raw(f'<span class="mono wrap">{_e(timeline.get("chain_head"))}</span>')),
        (ctx.t("manifest_sha256"), Raw(f'<span class="mono wrap">{_e(manifest_sha)}</span>')),
    ]))
    parts.append(f'<p class="note">{ctx.h("verify_hint")}</p>')
    outputs = manifest.get("outputs") or {}
    if outputs:
        parts.append(f"<h3>{ctx.h('outputs')}</h3>")
        parts.append(_table([ctx.t("file"), "SHA-256", ctx.t("size")],
                            [(name, o.get("sha256"), o.get("size")) for name, o in outputs.items()],
                            numeric=(2,), classes={1: "mono wrap"}))
    return _section("case", ctx.t("sec_case"), "".join(parts))


# ---------------------------------------------------------------- system


def _system_section(ctx: _Ctx, manifest: dict[str, Any]) -> str:
    system = manifest.get("system") or {}
    if not system:
        return _section("system", ctx.t("sec_system"), f'<p class="empty">{ctx.h("no_system")}</p>')
    zone = system.get("timezone") or ""
    if system.get("timezone_bias_minutes") is not None:
        zone = f"{zone} ({ctx.t('bias', minutes=system.get('timezone_bias_minutes'))})".strip()
    version = " ".join(str(x) for x in (system.get("product"), system.get("display_version")) if x)
    rows = [(ctx.t("host"), system.get("host") or ctx.t("none")),
            (ctx.t("product"), version or ctx.t("none")),
            (ctx.t("build"), system.get("build") or ctx.t("none")),
            (ctx.t("install_date"), ctx.time_named(system.get("install_date"))),
            (ctx.t("system_zone"), zone or ctx.t("none"))]
    parts = [_kv(rows)]
    users = system.get("users") or {}
    if users:
        parts.append(f"<h3>{ctx.h('user_profiles')}</h3>")
        parts.append(_table([ctx.t("sid"), ctx.t("name"), ctx.t("profile")],
                            [(sid, (u or {}).get("name"), (u or {}).get("profile"))
                             for sid, u in sorted(users.items())], classes={0: "mono", 2: "wrap"}))
    return _section("system", ctx.t("sec_system"), "".join(parts))


# ---------------------------------------------------------------- findings


def _severity_key(severity: str | None) -> int:
    sev = (severity or "").lower()
    return SEVERITY_ORDER.index(sev) if sev in SEVERITY_ORDER else len(SEVERITY_ORDER)


def _sev_badge(ctx: _Ctx, severity: str | None) -> str:
    sev = (severity or "other").lower()
    key = f"sev_{sev}"
    text = ctx.t(key) if key in LABELS[ctx.lang] else sev
    cls = sev if sev in SEVERITY_ORDER else "other"
    return f'<span class="badge sev-{cls}">{_e(text)}</span>'


def _findings_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    if not _has_table(db, "findings"):
        return _section("findings", ctx.t("sec_findings"), f'<p class="empty">{ctx.h("no_findings")}</p>')
    findings = sorted(db.execute("SELECT * FROM findings").fetchall(),
                      key=lambda f: (_severity_key(f["severity"]), f["first_time"] or "", f["id"]))
    if not findings:
        return _section("findings", ctx.t("sec_findings"), f'<p class="empty">{ctx.h("no_findings")}</p>')
    counts = Counter((f["severity"] or "other").lower() for f in findings)
    summary = " ".join(f"{_sev_badge(ctx, sev)} {counts[sev]:,}"
                       for sev in sorted(counts, key=_severity_key))
    parts = [f"<p><strong>{ctx.h('findings_summary')}:</strong> {summary}</p>"]
    for f in findings:
        sev = (f["severity"] or "other").lower()
        events = db.execute(
            "SELECT e.seq, e.timestamp, e.timestamp_desc, e.artifact, e.message, e.user, e.path "
            "FROM finding_events fe JOIN events e ON e.seq = fe.seq WHERE fe.finding_id = ? "
            "ORDER BY e.seq LIMIT ?", (f["id"], PROVING_LIMIT)).fetchall()
        total = max(f["event_count"] or 0, len(events))
        span = ""
        if f["first_time"]:
            span = f"{ctx.time(f['first_time'])}"
            if f["last_time"] and f["last_time"] != f["first_time"]:
                span += f" – {ctx.time(f['last_time'])}"
            span += f" ({_e(ctx.zone)})"
        meta = [f"{ctx.h('rule')}: <span class=\"mono\">{_e(f['rule_id'])}</span>"]
        if f["attack"]:
            meta.append(f"{ctx.h('attack')}: {_e(f['attack'])}")
        if span:
            meta.append(f"{ctx.h('span')}: {span}")
        if f["group_value"]:
            meta.append(_e(f["group_value"]))
        table = _table([ctx.time_col, ctx.t("desc"), ctx.t("artifact"), ctx.t("message"), ctx.t("user")],
                       [(ctx.time(e["timestamp"]), e["timestamp_desc"], e["artifact"], e["message"],
                         e["user"]) for e in events], classes={3: "wrap"})
        more = (f'<p class="note">{ctx.h("more_proving", n=f"{total - len(events):,}")}</p>'
                if total > len(events) else "")
        parts.append(
            f'<div class="finding sev-{_e(sev)}-l">'
            f"<h3>{_sev_badge(ctx, sev)} {_e(f['title'])}</h3>"
            f'<div class="meta">{" · ".join(meta)}</div>'
            f"<p><strong>{ctx.h('explanation')}:</strong> {_e(f['explanation'])}</p>"
            f'<p class="note">{_e(f["description"])}</p>'
            f"<h4>{ctx.h('proving_events', n=f'{total:,}')}</h4>{table}{more}</div>")
    return _section("findings", ctx.t("sec_findings"), "".join(parts))


# ---------------------------------------------------------------- devices


def _mark_kind(desc: str) -> str:
    d = (desc or "").lower()
    if "install" in d:
        return "install"
    if "removal" in d or "disconnect" in d:
        return "removal"
    if "arrival" in d or "connect" in d:
        return "arrival"
    return "other"


_MARK_COLORS = {"install": "#6a1b9a", "arrival": "#2e7d32", "removal": "#c62828", "other": "#90a4ae"}


def _ns(iso: str | None) -> int | None:
    if not iso:
        return None
    try:
        return Timestamp.parse(iso).ns
    except ValueError:
        return None


def _local_date(ns: int, tz: _dt.tzinfo) -> _dt.date | None:
    value = utc_datetime(ns)
    if value is None:
        return None
    try:
        return value.astimezone(tz).date()
    except (OverflowError, ValueError):
        return None


def _mark(kind: str, x: float, y: float) -> str:
    color = _MARK_COLORS[kind]
    if kind == "install":
        return (f'<path d="M{x:.1f} {y - 7:.1f} L{x + 7:.1f} {y:.1f} L{x:.1f} {y + 7:.1f} '
                f'L{x - 7:.1f} {y:.1f} Z" fill="{color}"/>')
    if kind == "removal":
        return f'<rect x="{x - 5:.1f}" y="{y - 5:.1f}" width="10" height="10" fill="{color}"/>'
    if kind == "arrival":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="5.5" fill="{color}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}" fill-opacity="0.8"/>'


def _ticks(lo: int, hi: int, count: int) -> list[int]:
    if hi <= lo:
        return [lo]
    step = (hi - lo) / count
    return [int(lo + step * i) for i in range(count + 1)]


def _device_name(d: dict[str, Any]) -> str:
    ids = "/".join(f"{k} {d[k.lower()]}" for k in ("VID", "PID") if d.get(k.lower()))
    return (d.get("friendly_name") or " ".join(x for x in (d.get("vendor"), d.get("product")) if x)
            or ids or d.get("serial") or "?")


def _usb_chart(ctx: _Ctx, devices: list[dict[str, Any]]) -> str:
    points = [(i, t, _ns(t.get("time"))) for i, d in enumerate(devices) for t in d.get("times") or []]
    points = [(i, t, ns) for i, t, ns in points if ns is not None]
    if not points:
        return ""
    lo = min(ns for _, _, ns in points)
    hi = max(ns for _, _, ns in points)
    if hi - lo < 86_400 * 10**9:
        lo -= 43_200 * 10**9
        hi += 43_200 * 10**9
    pad = (hi - lo) // 40
    lo, hi = lo - pad, hi + pad
    left, right, row_h, top = 250, 20, 34, 14
    width = 1100
    plot = width - left - right
    height = top + row_h * len(devices) + 40

    def x_of(ns: int) -> float:
        return left + plot * (ns - lo) / (hi - lo)

    out = [f'<svg class="chart" role="img" aria-label="{ctx.h("lifecycle")}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="12">']
    axis_y = top + row_h * len(devices) + 4
    ticks = _ticks(lo, hi, 6)
    for number, tick in enumerate(ticks):
        x = x_of(tick)
        day = _local_date(tick, ctx.tz)
        anchor = "end" if number == len(ticks) - 1 else "middle"
        out.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{axis_y}" stroke="#e3e7eb"/>')
        out.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="{anchor}" fill="#5c6670">'
                   f'{_e(day.isoformat() if day else "")}</text>')
    for index, d in enumerate(devices):
        y = top + row_h * index + row_h / 2
        name = _device_name(d)
        text = f"#{d.get('id')} {name}"
        short = text if len(text) <= 34 else text[:33] + "…"
        out.append(f'<text x="8" y="{y + 4:.1f}" fill="#1d2329"><title>{_e(text)} {_e(d.get("serial") or "")}'
                   f"</title>{_e(short)}</text>")
        mine = sorted(ns for i, _, ns in points if i == index)
        if mine:
            out.append(f'<line x1="{x_of(mine[0]):.1f}" y1="{y:.1f}" x2="{x_of(mine[-1]):.1f}" y2="{y:.1f}" '
                       f'stroke="#b0bec5" stroke-width="2"/>')
        for i, t, ns in points:
            if i != index:
                continue
            kind = _mark_kind(t.get("desc") or "")
            tip = f"{t.get('desc')} — {local_text(t.get('time'), ctx.tz)} ({ctx.zone}) — {t.get('source')}"
            out.append(f"<g><title>{_e(tip)}</title>{_mark(kind, x_of(ns), y)}</g>")
    out.append(f'<line x1="{left}" y1="{axis_y}" x2="{width - right}" y2="{axis_y}" stroke="#90a4ae"/>')
    out.append("</svg>")
    legend = "".join(f'<span class="sw" style="background:{_MARK_COLORS[k]}"></span>{ctx.h("mark_" + k)}'
                     for k in ("install", "arrival", "removal", "other"))
    return f"<h3>{ctx.h('lifecycle')}</h3>" + "".join(out) + f'<div class="legend">{legend}</div>'


def _usb_section(ctx: _Ctx, db_path: str) -> str:
    from triage.analysis.devices import read_devices

    devices = read_devices(db_path)
    if not devices:
        return _section("usb", ctx.t("sec_usb"), f'<p class="empty">{ctx.h("no_devices")}</p>')
    rows = []
    for d in devices:
        volumes = list(d.get("drive_letters") or [])
        volumes += [f"{l} ({s})" for l, s in zip(d.get("volume_labels") or [], d.get("volume_serials") or [])]
        volumes += list(d.get("volume_guids") or [])
        ident = [x for x in (d.get("kind"), "VID/PID " + "/".join(x for x in (d.get("vid"), d.get("pid")) if x)
                             if d.get("vid") or d.get("pid") else None,
                             f"{d['capacity']:,} B" if isinstance(d.get("capacity"), int) else None) if x]
        device = Raw(f"<strong>{_e(_device_name(d))}</strong><br><small>{_e(' · '.join(ident))}</small>")

        def when(key: str, d: dict[str, Any] = d) -> Raw:
            if not d.get(key):
                return Raw("")
            return Raw(f"{ctx.time(d[key])}<br><small>{_e(d.get(key + '_source'))}</small>")

        rows.append((d.get("id"), device, d.get("serial"), when("first_connected"),
                     when("last_connected"), when("last_removed"), ", ".join(volumes),
                     ", ".join(d.get("users") or []), len(d.get("files_opened") or [])))
    table = _table(["#", ctx.t("device"), ctx.t("serial"), f"{ctx.t('first_connected')} ({ctx.zone})",
                    f"{ctx.t('last_connected')} ({ctx.zone})", f"{ctx.t('last_removed')} ({ctx.zone})",
                    ctx.t("volumes_letters"), ctx.t("users"), ctx.t("files_opened")], rows,
                   numeric=(0, 8), classes={2: "mono wrap", 6: "wrap"})
    files = [(f, d) for d in devices for f in d.get("files_opened") or []]
    extra = ""
    if files:
        shown = files[:TABLE_LIMIT]
        extra = (f"<h3>{ctx.h('files_opened')}</h3>" + _table(
            ["#", ctx.time_col, ctx.t("desc"), ctx.t("path"), ctx.t("user")],
            [(d.get("id"), ctx.time(f.get("time")), f.get("desc"), f.get("path"), f.get("user"))
             for f, d in shown], numeric=(0,), classes={3: "wrap"}) + _more(ctx, len(files), len(shown)))
    return _section("usb", ctx.t("sec_usb"), table + _usb_chart(ctx, devices) + extra)


# ---------------------------------------------------------------- execution


@dataclass
class _Program:
    name: str
    paths: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    run_count: int | None = None
    last_run: _When | None = None
    first_seen: _When | None = None
    users: set[str] = field(default_factory=set)


_When = tuple[int, str]  # (the store's sort time in ns, the ISO text): compared without parsing


def _when(ts: int | None, iso: str | None) -> _When | None:
    return (ts, iso) if iso and ts is not None and ts != NO_TIME_SORT else None


def _later(a: _When | None, b: _When | None) -> _When | None:
    return b if a is None or (b is not None and b[0] > a[0]) else a


def _earlier(a: _When | None, b: _When | None) -> _When | None:
    return b if a is None or (b is not None and b[0] < a[0]) else a


def _iso(value: _When | None) -> str | None:
    return value[1] if value else None


def _newest_first(value: _When | None) -> int:
    return -value[0] if value else 2**63


def _execution_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    likes = " OR ".join("data LIKE ?" for _ in EXEC_PLUGINS)
    rows = db.execute(
        "SELECT ts, timestamp, timestamp_desc, artifact, family, user, data FROM events "
        f"WHERE family = 'execution' OR (family = 'registry' AND ({likes})) ORDER BY seq",
        [f'%"plugin":"{p}"%' for p in EXEC_PLUGINS])
    programs: dict[str, _Program] = {}
    for r in rows:
        data = _loads(r["data"])
        desc = r["timestamp_desc"] or ""
        if r["family"] == "execution":
            source = "Prefetch" if r["artifact"] == "WindowsPrefetch" else r["artifact"]
            path = data.get("executable_path") or data.get("executable") or data.get("path")
            name = data.get("executable") or _base(path)
        else:
            plugin = data.get("plugin")
            if plugin not in EXEC_PLUGINS:
                continue
            source = EXEC_PLUGINS[plugin]
            path = (data.get("program_path") or data.get("program") or data.get("path")
                    or data.get("root_dir_path") or data.get("name"))
            name = _base(data.get("program_path") or data.get("program") or data.get("path")) or data.get("name")
        if not name:
            continue
        key = str(name).lower()
        prog = programs.get(key)
        if prog is None:
            prog = programs[key] = _Program(name=str(name))
        if path:
            prog.paths.add(str(path))
        prog.sources.add(source)
        if r["user"]:
            prog.users.add(r["user"])
        count = data.get("run_count")
        if isinstance(count, int) and not isinstance(count, bool):
            prog.run_count = max(prog.run_count or 0, count)
        lowered = desc.lower()
        when = _when(r["ts"], r["timestamp"])
        if "run" in lowered:
            prog.last_run = _later(prog.last_run, when)
            prog.first_seen = _earlier(prog.first_seen, when)
        elif lowered in ("key last written", "program installed"):
            prog.first_seen = _earlier(prog.first_seen, when)
    if not programs:
        return _section("execution", ctx.t("sec_execution"), f'<p class="empty">{ctx.h("no_execution")}</p>')
    ordered = sorted(programs.values(), key=lambda p: (_newest_first(p.last_run), p.name.lower()))
    shown = ordered[:TABLE_LIMIT]

    def paths(p: _Program) -> str:
        items = sorted(p.paths)
        text = "\n".join(items[:3])
        return text + (f"\n(+{len(items) - 3})" if len(items) > 3 else "")

    table = _table([ctx.t("program"), ctx.t("path"), ctx.t("source"), ctx.t("run_count"),
                    f"{ctx.t('last_run')} ({ctx.zone})", f"{ctx.t('first_seen')} ({ctx.zone})", ctx.t("users")],
                   [(p.name, paths(p), ", ".join(sorted(p.sources)), p.run_count, ctx.time(_iso(p.last_run)),
                     ctx.time(_iso(p.first_seen)), ", ".join(sorted(p.users))) for p in shown],
                   numeric=(3,), classes={0: "wrap", 1: "wrap mono pre", 6: "wrap"})
    return _section("execution", ctx.t("sec_execution"),
                    f'<p class="note">{ctx.h("exec_note")}</p>' + table + _more(ctx, len(ordered), len(shown)))


# ---------------------------------------------------------------- browsing


def _category_name(ctx: _Ctx, category: str) -> str:
    key = f"cat_{category}"
    return ctx.t(key) if key in LABELS[ctx.lang] else category


def _browsing_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    visits: Counter[str] = Counter()
    domain_cat: dict[str, str] = {}
    first: dict[str, _When | None] = {}
    last: dict[str, _When | None] = {}
    domain_users: dict[str, set[str]] = defaultdict(set)
    categories: Counter[str] = Counter()
    downloads: list[tuple[Any, ...]] = []
    searches: list[tuple[Any, ...]] = []
    any_event = False
    for r in db.execute("SELECT ts, timestamp, timestamp_desc, user, data FROM events "
                        "WHERE family = 'browser' ORDER BY seq"):
        any_event = True
        data = _loads(r["data"])
        desc = r["timestamp_desc"] or ""
        domain = data.get("domain")
        category = data.get("category") or "other"
        if "visit" in desc.lower():
            categories[category] += 1
            if domain:
                visits[domain] += 1
                domain_cat[domain] = category
                when = _when(r["ts"], r["timestamp"])
                first[domain] = _earlier(first.get(domain), when)
                last[domain] = _later(last.get(domain), when)
                if r["user"]:
                    domain_users[domain].add(r["user"])
        elif desc == "Download Started":
            downloads.append((r["timestamp"], data.get("url") or data.get("source_url"),
                              data.get("target_path") or data.get("current_path"),
                              data.get("state"), data.get("received_bytes"), data.get("total_bytes"),
                              data.get("browser"), r["user"], category))
        elif desc == "Searched":
            searches.append((r["timestamp"], data.get("term"), data.get("browser"), r["user"]))
    if not any_event:
        return _section("browsing", ctx.t("sec_browsing"), f'<p class="empty">{ctx.h("no_browsing")}</p>')
    parts = []
    ordered_cats = [c for c in LEAK_CATEGORIES] + sorted(c for c in categories if c not in LEAK_CATEGORIES)
    parts.append(f"<h3>{ctx.h('categories')}</h3>")
    parts.append(_table([ctx.t("category"), ctx.t("visits")],
                        [(Raw(f"<strong>{_e(_category_name(ctx, c))}</strong>") if c in LEAK_CATEGORIES
                          else _category_name(ctx, c), categories.get(c, 0)) for c in ordered_cats],
                        numeric=(1,)))
    leak = sorted((d for d in visits if domain_cat.get(d) in LEAK_CATEGORIES),
                  key=lambda d: (-visits[d], d))
    parts.append(f"<h3>{ctx.h('leak_domains')}</h3>")
    if leak:
        shown = leak[:TABLE_LIMIT]
        parts.append(_table([ctx.t("domain"), ctx.t("category"), ctx.t("visits"),
                             f"{ctx.t('first_visit')} ({ctx.zone})", f"{ctx.t('last_visit')} ({ctx.zone})",
                             ctx.t("users")],
                            [(d, _category_name(ctx, domain_cat[d]), visits[d], ctx.time(_iso(first.get(d))),
                              ctx.time(_iso(last.get(d))), ", ".join(sorted(domain_users[d]))) for d in shown],
                            numeric=(2,), classes={0: "wrap"}) + _more(ctx, len(leak), len(shown)))
    else:
        parts.append(f'<p class="empty">{_e(ctx.t("none"))}</p>')
    top = sorted(visits, key=lambda d: (-visits[d], d))[:25]
    if top:
        parts.append(f"<h3>{ctx.h('top_domains')}</h3>")
        parts.append(_table([ctx.t("domain"), ctx.t("category"), ctx.t("visits"),
                             f"{ctx.t('last_visit')} ({ctx.zone})"],
                            [(d, _category_name(ctx, domain_cat.get(d, "other")), visits[d],
                              ctx.time(_iso(last.get(d)))) for d in top], numeric=(2,), classes={0: "wrap"}))
    parts.append(f"<h3>{ctx.h('downloads')}</h3>")
    if downloads:
        shown_d = downloads[:TABLE_LIMIT]
        parts.append(_table([ctx.time_col, ctx.t("url"), ctx.t("target"), ctx.t("state"), ctx.t("bytes"),
                             ctx.t("browser"), ctx.t("user"), ctx.t("category")],
                            [(ctx.time(t), u, p, s, f"{rb if rb is not None else '?'} / {tb if tb is not None else '?'}",
                              b, us, _category_name(ctx, c)) for t, u, p, s, rb, tb, b, us, c in shown_d],
                            classes={1: "wrap", 2: "wrap"}) + _more(ctx, len(downloads), len(shown_d)))
    else:
        parts.append(f'<p class="empty">{_e(ctx.t("none"))}</p>')
    if searches:
        shown_s = searches[:TABLE_LIMIT]
        parts.append(f"<h3>{ctx.h('searches')}</h3>")
        parts.append(_table([ctx.time_col, ctx.t("term"), ctx.t("browser"), ctx.t("user")],
                            [(ctx.time(t), term, b, u) for t, term, b, u in shown_s], classes={1: "wrap"})
                     + _more(ctx, len(searches), len(shown_s)))
    return _section("browsing", ctx.t("sec_browsing"), "".join(parts))


# ---------------------------------------------------------------- recent files and documents


def _recent_path(data: dict[str, Any]) -> str | None:
    lnk = data.get("lnk") if isinstance(data.get("lnk"), dict) else {}
    return (data.get("path") or data.get("target_path") or data.get("local_path")
            or lnk.get("target_path") or lnk.get("local_path") or data.get("network_path")
            or data.get("shell_item_path"))


def _recent_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    recent: dict[tuple[str, str], dict[str, Any]] = {}
    for r in db.execute("SELECT ts, timestamp, timestamp_desc, artifact, user, data FROM events "
                        "WHERE family = 'recent_files' ORDER BY seq"):
        data = _loads(r["data"])
        path = _recent_path(data)
        if not path:
            continue
        key = (str(path).lower(), r["user"] or "")
        item = recent.setdefault(key, {"path": path, "user": r["user"], "last": None, "count": 0,
                                       "artifacts": set(), "apps": set(), "volume": ""})
        item["count"] += 1
        item["last"] = _later(item["last"], _when(r["ts"], r["timestamp"]))
        item["artifacts"].add(r["artifact"])
        if data.get("app_name"):
            item["apps"].add(str(data["app_name"]))
        lnk = data.get("lnk") if isinstance(data.get("lnk"), dict) else data
        volume = " ".join(str(x) for x in (lnk.get("drive_type_name"), lnk.get("volume_label"),
                                           lnk.get("volume_serial")) if x)
        if volume:
            item["volume"] = volume
    parts = [f"<h3>{ctx.h('recent_files')}</h3>"]
    if recent:
        ordered = sorted(recent.values(), key=lambda i: (_newest_first(i["last"]), str(i["path"])))
        shown = ordered[:TABLE_LIMIT]
        parts.append(_table([ctx.t("path"), f"{ctx.t('last_time')} ({ctx.zone})", ctx.t("count"),
                             ctx.t("application"), ctx.t("volume_info"), ctx.t("source"), ctx.t("user")],
                            [(i["path"], ctx.time(_iso(i["last"])), i["count"], ", ".join(sorted(i["apps"])),
                              i["volume"], ", ".join(sorted(i["artifacts"])), i["user"]) for i in shown],
                            numeric=(2,), classes={0: "wrap"}) + _more(ctx, len(ordered), len(shown)))
    else:
        parts.append(f'<p class="empty">{ctx.h("no_recent")}</p>')
    docs: dict[tuple[str, str], dict[str, Any]] = {}
    for r in db.execute("SELECT timestamp, artifact, user, path, sha256, data FROM events "
                        "WHERE family = 'documents' ORDER BY seq"):
        data = _loads(r["data"])
        key = (r["path"] or "", data.get("sha256") or r["sha256"] or "")
        if key in docs:
            continue
        docs[key] = {"name": data.get("file_name") or _base(r["path"]), "title": data.get("title"),
                     "author": data.get("author"), "saved_by": data.get("last_saved_by"),
                     "created": data.get("created"),
                     "saved": data.get("last_saved") or data.get("modified"),
                     "format": data.get("format"), "user": r["user"], "path": r["path"]}
    parts.append(f"<h3>{ctx.h('documents')}</h3>")
    if docs:
        ordered_docs = sorted(docs.values(), key=lambda d: (-(_ns(d["saved"] or d["created"]) or NO_TIME_SORT),
                                                            str(d["name"] or "")))
        shown_docs = ordered_docs[:TABLE_LIMIT]
        parts.append(_table([ctx.t("file_name"), ctx.t("doc_title"), ctx.t("author"), ctx.t("last_saved_by"),
                             f"{ctx.t('created')} ({ctx.zone})", f"{ctx.t('last_saved')} ({ctx.zone})",
                             ctx.t("format"), ctx.t("user"), ctx.t("path")],
                            [(d["name"], d["title"], d["author"], d["saved_by"], ctx.time(d["created"]),
                              ctx.time(d["saved"]), d["format"], d["user"], d["path"]) for d in shown_docs],
                            classes={0: "wrap", 8: "wrap mono"}) + _more(ctx, len(ordered_docs), len(shown_docs)))
    else:
        parts.append(f'<p class="empty">{ctx.h("no_documents")}</p>')
    return _section("recent", ctx.t("sec_recent"), "".join(parts))


# ---------------------------------------------------------------- deleted


def _deleted_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    rows = db.execute("SELECT timestamp, artifact, user, message, data FROM events "
                      "WHERE family = 'deleted' ORDER BY seq").fetchall()
    if not rows:
        return _section("deleted", ctx.t("sec_deleted"), f'<p class="empty">{ctx.h("no_deleted")}</p>')
    shown = rows[:TABLE_LIMIT]
    out = []
    for r in shown:
        data = _loads(r["data"])
        present = data.get("r_present")
        out.append((ctx.time(r["timestamp"]), data.get("original_path") or r["message"], data.get("size"),
                    "" if present is None else ctx.t("yes" if present else "no"), r["user"], r["artifact"]))
    table = _table([f"{ctx.t('deleted_time')} ({ctx.zone})", ctx.t("original_path"), ctx.t("size"),
                    ctx.t("recoverable"), ctx.t("user"), ctx.t("artifact")], out, numeric=(2,),
                   classes={1: "wrap"})
    return _section("deleted", ctx.t("sec_deleted"), table + _more(ctx, len(rows), len(shown)))


# ---------------------------------------------------------------- activity histogram


def _family_color(family: str, order: list[str]) -> str:
    if family in FAMILY_COLORS:
        return FAMILY_COLORS[family]
    extras = [f for f in order if f not in FAMILY_COLORS]
    return EXTRA_COLORS[extras.index(family) % len(EXTRA_COLORS)] if family in extras else "#999999"


def _bucket_start(day: _dt.date, unit: str) -> _dt.date:
    if unit == "week":
        return day - _dt.timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_bucket(day: _dt.date, unit: str) -> _dt.date:
    if unit == "week":
        return day + _dt.timedelta(days=7)
    if unit == "month":
        return (day.replace(day=28) + _dt.timedelta(days=4)).replace(day=1)
    return day + _dt.timedelta(days=1)


def _activity_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    per_day: dict[_dt.date, Counter[str]] = defaultdict(Counter)
    cache: dict[int, _dt.date | None] = {}
    quarter = 900 * 10**9  # every zone offset in use is a multiple of 15 minutes
    # Counted per quarter hour inside SQLite (a few thousand rows come back, not one per
    # event); SQLite's integer division truncates, so times before 1970 are counted here.
    counted = db.execute(f"SELECT ts / {quarter}, family, count(*) FROM events WHERE ts >= 0 "
                         f"GROUP BY 1, 2").fetchall()
    counted += [(ts // quarter, family, 1) for ts, family in db.execute(
        "SELECT ts, family FROM events WHERE ts > ? AND ts < 0", (NO_TIME_SORT,))]
    for key, family, count in counted:
        if key not in cache:
            cache[key] = _local_date(key * quarter, ctx.tz)
        day = cache[key]
        if day is not None:
            per_day[day][family or "other"] += count
    untimed = db.execute("SELECT COUNT(*) FROM events WHERE ts = ?", (NO_TIME_SORT,)).fetchone()[0]
    note = f'<p class="note">{ctx.h("untimed", n=f"{untimed:,}")}</p>' if untimed else ""
    if not per_day:
        return _section("activity", ctx.t("sec_activity"), f'<p class="empty">{ctx.h("no_activity")}</p>{note}')
    first, last = min(per_day), max(per_day)
    span = (last - first).days + 1
    unit = "day" if span <= 400 else ("week" if span <= 7 * 400 else "month")
    buckets: dict[_dt.date, Counter[str]] = defaultdict(Counter)
    for day, counts in per_day.items():
        buckets[_bucket_start(day, unit)].update(counts)
    keys = []
    cursor = _bucket_start(first, unit)
    while cursor <= last:
        keys.append(cursor)
        cursor = _next_bucket(cursor, unit)
    family_totals = Counter()
    for counts in buckets.values():
        family_totals.update(counts)
    families = sorted(family_totals, key=lambda f: (-family_totals[f], f))
    peak = max(sum(buckets[k].values()) for k in keys)
    width, height, left, right, top, bottom = 1100, 260, 56, 14, 12, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_w = plot_w / len(keys)
    drawn = max(min(bar_w - 1, 48.0), 0.8)  # a few wide slots still get slim bars

    def label_of(day: _dt.date) -> str:
        return day.strftime("%Y-%m") if unit == "month" else day.isoformat()

    svg = [f'<svg class="chart" role="img" aria-label="{ctx.h("sec_activity")}" '
           f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-size="11">']
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        svg.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e7eb"/>')
        svg.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#5c6670">{int(peak * frac):,}</text>')
    for index, key in enumerate(keys):
        counts = buckets.get(key) or Counter()
        total = sum(counts.values())
        if not total:
            continue
        x = left + index * bar_w
        tip = f"{label_of(key)}: {total:,} — " + ", ".join(f"{f} {counts[f]:,}" for f in families if counts.get(f))
        parts = [f"<g><title>{_e(tip)}</title>"]
        y = top + plot_h
        for family in families:
            n = counts.get(family, 0)
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            parts.append(f'<rect x="{x + (bar_w - drawn) / 2:.2f}" y="{y:.2f}" width="{drawn:.2f}" '
                         f'height="{h:.2f}" fill="{_family_color(family, families)}"/>')
        parts.append("</g>")
        svg.append("".join(parts))
    step = max(1, len(keys) // 8)
    for index in range(0, len(keys), step):
        x = left + (index + 0.5) * bar_w
        anchor = "end" if x > width - right - 40 else ("start" if x < left + 30 else "middle")
        svg.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="{anchor}" fill="#5c6670">'
                   f"{_e(label_of(keys[index]))}</text>")
    svg.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#90a4ae"/>')
    svg.append(f'<text x="{width - right}" y="{height - 6}" text-anchor="end" fill="#5c6670">{_e(ctx.zone)}</text>')
    svg.append("</svg>")
    legend = "".join(f'<span class="sw" style="background:{_family_color(f, families)}"></span>'
                     f"{_e(f)} ({family_totals[f]:,})" for f in families)
    busiest = max(keys, key=lambda k: sum((buckets.get(k) or Counter()).values()))
    title = ctx.t({"day": "per_day", "week": "per_week", "month": "per_month"}[unit])
    body = (f"<h3>{_e(title)} ({_e(ctx.zone)})</h3>" + "".join(svg) + f'<div class="legend">{legend}</div>'
            + f'<p class="note">{ctx.h("peak", when=label_of(busiest), n=f"{peak:,}")}</p>' + note)
    return _section("activity", ctx.t("sec_activity"), body)


# ---------------------------------------------------------------- timeline


def _timeline_section(ctx: _Ctx, db: sqlite3.Connection, max_events: int) -> tuple[str, list[list[Any]]]:
    from triage.case import event_tags

    total = db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    tags = event_tags(db)
    island: list[list[Any]] = []
    for r in db.execute("SELECT seq, timestamp, timestamp_desc, family, artifact, message, user, path, "
                        "data, event_hash FROM events ORDER BY seq LIMIT ?", (max(0, max_events),)):
        data = r["data"] or ""
        if len(data) > DATA_LIMIT:
            data = data[:DATA_LIMIT] + f"… [{len(r['data']):,}]"
        island.append([r["seq"], local_text(r["timestamp"], ctx.tz) if r["timestamp"] else "",
                       r["timestamp"] or "", r["timestamp_desc"] or "", r["family"] or "",
                       r["artifact"] or "", r["message"] or "", r["user"] or "", r["path"] or "",
                       ",".join(tags.get(r["seq"], [])), data, r["event_hash"] or ""])
    embedded = len(island)
    if embedded >= total:
        cap = f'<p class="cap all" id="tl-cap">{ctx.h("cap_all", n=f"{total:,}")}</p>'
    else:
        cap = (f'<p class="cap" id="tl-cap">'
               f'{ctx.h("cap_some", k=f"{embedded:,}", n=f"{total:,}", cap=f"{max(0, max_events):,}")}</p>')
    hint = ctx.t("time_hint", zone=ctx.zone)
    controls = (
        f'<div id="tl-controls" hidden>'
        f'<div class="filters"><strong>{ctx.h("filters")}</strong>'
        f'<label>{ctx.h("from")}<input id="f-from" class="time" type="text" placeholder="{_e(hint)}"></label>'
        f'<label>{ctx.h("to")}<input id="f-to" class="time" type="text" placeholder="{_e(hint)}"></label>'
        f'<label>{ctx.h("family")}<select id="f-family"></select></label>'
        f'<label>{ctx.h("user")}<select id="f-user"></select></label>'
        f'<label>{ctx.h("text")}<input id="f-text" class="text" type="search"></label>'
        f'<label>{ctx.h("rows_per_page")}<select id="f-size"><option>50</option>'
        f'<option selected>100</option><option>250</option><option>500</option></select></label>'
        f'<button id="f-reset" type="button">{ctx.h("reset")}</button></div>'
        f'<div class="pager"><button id="tl-prev" type="button">{ctx.h("prev")}</button>'
        f'<span id="tl-page"></span><button id="tl-next" type="button">{ctx.h("next")}</button>'
        f'<span id="tl-status"></span></div></div>')
    head = "".join(f"<th>{_e(h)}</th>" for h in (ctx.time_col, ctx.t("desc"), ctx.t("family"), ctx.t("artifact"),
                                                 ctx.t("message"), ctx.t("user"), ctx.t("tags")))
    table = f'<table id="tl-table"><thead><tr>{head}</tr></thead><tbody></tbody></table>'
    noscript = f'<noscript><p class="note">{ctx.h("js_needed")}</p></noscript>'
    return _section("timeline", ctx.t("sec_timeline"), cap + noscript + controls + table), island


# ---------------------------------------------------------------- errors


def _errors_section(ctx: _Ctx, db: sqlite3.Connection) -> str:
    total = db.execute("SELECT COUNT(*) FROM errors").fetchone()[0] if _has_table(db, "errors") else 0
    if not total:
        return _section("errors", ctx.t("sec_errors"), f'<p class="empty">{ctx.h("no_errors")}</p>')
    rows = db.execute("SELECT severity, stage, artifact, volume, path, message FROM errors ORDER BY id LIMIT ?",
                      (TABLE_LIMIT,)).fetchall()
    table = _table([ctx.t("err_severity"), ctx.t("err_stage"), ctx.t("artifact"), ctx.t("path"),
                    ctx.t("message")],
                   [(r["severity"], r["stage"], r["artifact"],
                     f"{r['volume'] or ''} {r['path'] or ''}".strip(), r["message"]) for r in rows],
                   classes={3: "wrap mono", 4: "wrap"})
    return _section("errors", ctx.t("sec_errors"), table + _more(ctx, total, len(rows)))


# ---------------------------------------------------------------- page


def script_hash(script: str = JS) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def _csp() -> str:
    return ("default-src 'none'; script-src '" + script_hash() + "'; style-src 'unsafe-inline'; "
            "img-src 'none'; font-src 'none'; connect-src 'none'; media-src 'none'; object-src 'none'; "
            "frame-src 'none'; base-uri 'none'; form-action 'none'")


_TOC = (("case", "sec_case"), ("system", "sec_system"), ("findings", "sec_findings"), ("usb", "sec_usb"),
        ("execution", "sec_execution"), ("browsing", "sec_browsing"), ("recent", "sec_recent"),
        ("deleted", "sec_deleted"), ("activity", "sec_activity"), ("timeline", "sec_timeline"),
        ("errors", "sec_errors"))


def render_report(case_dir: str, lang: str = "en", tz: str | None = None, max_events: int = 20000) -> str:
    """The report's HTML text (see build_report)."""
    check_language(lang)
    manifest = read_manifest(case_dir)
    zone, tzinfo_ = case_zone(manifest, tz)
    ctx = _Ctx(lang, zone, tzinfo_)
    manifest_sha = sha256_file(os.path.join(case_dir, MANIFEST))
    db_path = os.path.join(case_dir, "case.sqlite")
    if not os.path.isfile(db_path):
        raise ValueError(f"{case_dir}: no case.sqlite (not a triage case folder)")
    db = open_readonly(db_path)
    try:
        sections = [
            _case_section(ctx, manifest, manifest_sha),
            _system_section(ctx, manifest),
            _findings_section(ctx, db),
            _usb_section(ctx, db_path),
            _execution_section(ctx, db),
            _browsing_section(ctx, db),
            _recent_section(ctx, db),
            _deleted_section(ctx, db),
            _activity_section(ctx, db),
        ]
        timeline, island = _timeline_section(ctx, db, max_events)
        sections.append(timeline)
        sections.append(_errors_section(ctx, db))
    finally:
        db.close()
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    ev = manifest.get("evidence") or {}
    subtitle = " · ".join(_e(x) for x in (
        f"{ctx.t('case_id')}: {manifest.get('case_id')}" if manifest.get("case_id") else None,
        f"{ctx.t('examiner')}: {manifest.get('examiner')}" if manifest.get("examiner") else None,
        f"{ctx.t('evidence_name')}: {ev.get('name')}" if ev.get("name") else None,
        (manifest.get("system") or {}).get("host")) if x)
    zone_now = ""
    try:
        offset = "UTC" + offset_text(_dt.datetime.now(_dt.timezone.utc).astimezone(tzinfo_))
        zone_now = "" if offset == zone or zone in ("UTC", "Etc/UTC") else f" ({offset})"
    except (OverflowError, ValueError):
        pass
    toc = " ".join(f'<a href="#{anchor}">{ctx.h(key)}</a>' for anchor, key in _TOC)
    labels = {key: LABELS[lang][key] for key in JS_KEYS}
    title = ctx.t("title") + (f" — {manifest.get('case_id')}" if manifest.get("case_id") else "")
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_e(_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f'<meta name="generator" content="triage {_e(__version__)}">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head>"
        f'<body data-lang="{lang}">'
        f'<header class="top"><h1>{ctx.h("title")}</h1><div class="sub">{subtitle}</div>'
        f'<div class="sub">{ctx.h("generated")}: {ctx.time_named(now)}</div>'
        f'<div class="zone">{ctx.h("zone_note", zone=zone + zone_now)}</div></header>'
        f'<nav class="toc" aria-label="{ctx.h("contents")}">{toc}</nav>'
        f"<main>{''.join(sections)}</main>"
        f'<footer><p>{ctx.h("footer", version=__version__)} {ctx.h("offline_note")}</p>'
        f'<p class="mono">Python {_e(platform.python_version())}</p></footer>'
        f'<script type="application/json" id="triage-labels">{_json_island(labels)}</script>'
        f'<script type="application/json" id="triage-events">{_json_island({"rows": island})}</script>'
        f"<script>{JS}</script>"
        "</body></html>\n")


def build_report(case_dir: str, lang: str = "en", tz: str | None = None, out: str | None = None,
                 max_events: int = 20000) -> str:
    """Write the investigation report of a finished case; returns the path written.

    Default output: CASE/report.html. The file is written beside its target and renamed into
    place when complete. It is NOT registered in the manifest here: call
    `triage.case_files.register_output(case_dir, "report.html")` (or `record_output`)."""
    out = out or os.path.join(case_dir, DEFAULT_NAME)
    check_target(case_dir, out)
    text = render_report(case_dir, lang=lang, tz=tz, max_events=max_events)
    partial = out + ".partial"
    try:
        with open(partial, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(partial, out)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    return out
