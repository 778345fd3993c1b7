"""`triage export CASE`: the timeline of a finished case in another tool's format, filtered.

Rebuilt from case.sqlite alone (opened read-only), never from the evidence. Formats:

csv         the columns of timeline.csv (message, datetime, timestamp_desc, timestamp, ...).
jsonl       the records of timeline.jsonl (the JSONL contract, with `tags`).
timesketch  JSONL that Timesketch imports as is: message, datetime (ISO 8601 with +00:00,
            microseconds), timestamp_desc, timestamp (microseconds since the epoch) first,
            then the provenance fields, `tag` (rule ids), `triage_timestamp` (the full
            precision time) and the artifact's data flattened to `data_<key>[_<subkey>]`.
            Timesketch needs a time: events without one are left out (and counted).
bodyfile    The Sleuth Kit body file (mactime 3.x): MD5|name|inode|mode|UID|GID|size|atime|
            mtime|ctime|crtime, POSIX seconds. One line per event, its time in the field its
            timestamp_desc suggests (see `body_field`), name "[artifact] message". Events
            without a time are left out (and counted).
xlsx        An Excel workbook: one sheet per family, then "Findings" and "USB devices"; frozen
            header, autofilter, the time as a real Excel date-time in the chosen zone (Excel
            has no zones: the zone is in the header) and the full precision UTC time as text.

Filters (all optional, combined with AND): start/end (ISO 8601, UTC unless the text carries an
offset; both ends inclusive; a date alone as `end` means the end of that day; an event without
a time never matches a time filter), family, artifact, user (one name or several;
case-insensitive), contains (case-insensitive text in the message).

Spreadsheet formula injection: a text cell of the CSV and XLSX outputs that starts with =, +,
-, @, a tab or a carriage return gets a leading apostrophe (`neutralise`), following the OWASP
advice on CSV injection, so an evidence file name such as `=HYPERLINK(...)` is shown, never
evaluated. The JSONL outputs keep the text exactly as stored.

This module imports nothing from triage.case or triage.outputs at load time, so the timeline
writers may import `neutralise` from here.
"""
from __future__ import annotations

import csv
import datetime as _dt
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Sequence, TextIO

from triage.model import Timestamp
from triage.store import NO_TIME_SORT, open_readonly, row_to_record

FORMATS = ("csv", "jsonl", "xlsx", "bodyfile", "timesketch")
DEFAULT_NAMES = {"csv": "export.csv", "jsonl": "export.jsonl", "xlsx": "export.xlsx",
                 "bodyfile": "export.bodyfile", "timesketch": "export.timesketch.jsonl"}
CSV_COLUMNS = ("message", "datetime", "timestamp_desc", "timestamp", "artifact", "family",
               "extractor", "user", "host", "evidence", "volume", "path", "inode", "sha256",
               "data", "event_hash", "tag")  # the columns of timeline.csv (checked by a test)
_NS = 1_000_000_000
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

# ------------------------------------------------------------------ formula neutralisation

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula, prefixed with an apostrophe.

    Only text is touched (numbers stay numbers, so a negative number is not mangled)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


# ------------------------------------------------------------------ time zones and times


def zone_info(zone: str | None) -> _dt.tzinfo:
    """tzinfo for an IANA name or 'UTC+HH:MM' (triage.timezones); 'UTC' needs no tz database."""
    if not zone or zone.upper() in ("UTC", "Z", "ETC/UTC"):
        return _dt.timezone.utc
    from triage.timezones import tzinfo

    return tzinfo(zone)


def case_zone(manifest: dict[str, Any], zone: str | None) -> tuple[str, _dt.tzinfo]:
    """The display zone: the one asked for, else the case's local zone, else UTC."""
    name = zone or manifest.get("local_time_zone") or "UTC"
    return name, zone_info(name)


def _parse_ts(iso: str | None) -> Timestamp | None:
    if not iso:
        return None
    try:
        return Timestamp.parse(iso)
    except ValueError:
        return None


def utc_datetime(ns: int) -> _dt.datetime | None:
    try:
        return _EPOCH + _dt.timedelta(microseconds=ns // 1000)
    except OverflowError:
        return None


def offset_text(value: _dt.datetime) -> str:
    delta = value.utcoffset() or _dt.timedelta(0)
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def local_text(iso: str | None, tz: _dt.tzinfo, with_offset: bool = True) -> str:
    """'2026-03-11 15:15:02.2000000 +09:00': the UTC time `iso` in `tz`, full precision kept."""
    ts = _parse_ts(iso)
    if ts is None:
        return iso or ""
    seconds, frac = divmod(ts.ns, _NS)
    try:
        local = (_EPOCH + _dt.timedelta(seconds=seconds)).astimezone(tz)
    except (OverflowError, ValueError):
        return iso or ""
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if ts.digits:
        text += "." + f"{frac:09d}"[: ts.digits]
    return f"{text} {offset_text(local)}" if with_offset else text


def excel_datetime(iso: str | None, tz: _dt.tzinfo, ns: int | None = None) -> _dt.datetime | None:
    """A naive local datetime for Excel, cut (not rounded) to the milliseconds Excel keeps, so
    59.9999999 s never shows as the next second; the full precision is in the text column.

    `ns` (the store's sort time) spares parsing `iso` again when the caller has it."""
    if ns is None or ns == NO_TIME_SORT:
        ts = _parse_ts(iso)
        if ts is None:
            return None
        ns = ts.ns
    value = utc_datetime(ns)
    if value is None:
        return None
    try:
        local = value.astimezone(tz).replace(tzinfo=None)
        local = local.replace(microsecond=local.microsecond // 1000 * 1000)
    except (OverflowError, ValueError):
        return None
    if not 1900 <= local.year <= 9999:  # outside Excel's calendar: the text column has it
        return None
    return local


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
                  r"\s*(Z|[+-]\d{2}:?\d{2})?$", re.IGNORECASE)


def parse_time(text: str, end: bool = False) -> int:
    """ISO 8601 text to nanoseconds since the epoch (UTC unless it carries an offset).

    As an end bound, the unwritten parts are filled to their last instant: '2026-03-11' is
    the whole day, '2026-03-11T06:15' the whole minute, '...:02.2' up to ...:02.299999999."""
    match = _ISO.match(text.strip())
    if not match:
        raise ValueError(f"not an ISO 8601 time: {text!r} (e.g. 2026-03-11, 2026-03-11T06:15:00Z "
                         "or 2026-03-11T15:15:00+09:00)")
    year, month, day, hour, minute, second, frac, offset = match.groups()
    try:
        base = _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                            int(second or 0), tzinfo=_dt.timezone.utc)
    except ValueError as exc:
        raise ValueError(f"not a valid time: {text!r} ({exc})") from None
    if offset and offset.upper() != "Z":
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        base -= sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    ns = ((base - _EPOCH) // _dt.timedelta(seconds=1)) * _NS
    ns += int((frac or "").ljust(9, "0")) if frac else 0
    if end:
        if hour is None:
            ns += 86_400 * _NS - 1
        elif minute is not None and second is None:
            ns += 60 * _NS - 1
        elif second is not None:
            ns += (10 ** (9 - len(frac)) - 1) if frac else _NS - 1
    return ns


# ------------------------------------------------------------------ filters


def _names(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    return tuple(out)


@dataclass
class EventFilter:
    start_ns: int | None = None
    end_ns: int | None = None
    families: tuple[str, ...] = ()
    artifacts: tuple[str, ...] = ()
    users: tuple[str, ...] = ()
    contains: str | None = None

    @classmethod
    def build(cls, start: str | None = None, end: str | None = None,
              family: str | Sequence[str] | None = None,
              artifact: str | Sequence[str] | None = None,
              user: str | Sequence[str] | None = None, contains: str | None = None) -> "EventFilter":
        return cls(start_ns=parse_time(start) if start else None,
                   end_ns=parse_time(end, end=True) if end else None,
                   families=_names(family), artifacts=_names(artifact), users=_names(user),
                   contains=contains or None)

    def sql(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.start_ns is not None or self.end_ns is not None:
            clauses.append("ts > ?")
            params.append(NO_TIME_SORT)
        if self.start_ns is not None:
            clauses.append("ts >= ?")
            params.append(self.start_ns)
        if self.end_ns is not None:
            clauses.append("ts <= ?")
            params.append(self.end_ns)
        for column, values in (("family", self.families), ("artifact", self.artifacts),
                               ("user", self.users)):
            if values:
                clauses.append(f"{column} COLLATE NOCASE IN ({','.join('?' * len(values))})")
                params.extend(values)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def matches_text(self, row: sqlite3.Row) -> bool:
        if not self.contains:
            return True
        return self.contains.casefold() in (row["message"] or "").casefold()

    def describe(self) -> dict[str, Any]:
        return {k: v for k, v in (("start_ns", self.start_ns), ("end_ns", self.end_ns),
                                  ("families", list(self.families)),
                                  ("artifacts", list(self.artifacts)),
                                  ("users", list(self.users)), ("contains", self.contains)) if v}


def select_events(db: sqlite3.Connection, flt: EventFilter) -> Iterator[sqlite3.Row]:
    where, params = flt.sql()
    for row in db.execute(f"SELECT * FROM events {where} ORDER BY seq", params):
        if flt.matches_text(row):
            yield row


# ------------------------------------------------------------------ writers


@dataclass
class ExportStats:
    path: str
    fmt: str
    written: int = 0
    skipped_untimed: int = 0  # bodyfile and timesketch: events with no time cannot be placed
    sheets: list[str] = field(default_factory=list)


def _tags_of(db: sqlite3.Connection) -> dict[int, list[str]]:
    from triage.case import event_tags  # lazy: triage.case imports the timeline writers

    return event_tags(db)


def _write_csv(rows: Iterable[sqlite3.Row], out: TextIO, tags: dict[int, list[str]],
               stats: ExportStats) -> None:
    """The lines of timeline.csv (the same writer), for the selected events."""
    from triage.outputs import csv_timeline  # lazy: the timeline writers import this module

    out.write(csv_timeline.HEADER)
    for row in rows:
        out.write(csv_timeline.line(row, tags))
        stats.written += 1


def _write_jsonl(rows: Iterable[sqlite3.Row], out: TextIO, tags: dict[int, list[str]],
                 stats: ExportStats) -> None:
    """The lines of timeline.jsonl (the same writer), for the selected events."""
    from triage.outputs import jsonl

    for row in rows:
        out.write(jsonl.line(row, tags))
        stats.written += 1


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _flatten(f"{prefix}_{key}", item, out)
    elif isinstance(value, list):
        if all(not isinstance(v, (dict, list)) for v in value):
            if value:
                out[prefix] = value
        else:
            out[prefix] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    elif value is not None:
        out[prefix] = value


def timesketch_record(row: sqlite3.Row, tags: dict[int, list[str]]) -> dict[str, Any] | None:
    """The event as Timesketch imports it; None for an event without a time."""
    ts = _parse_ts(row["timestamp"])
    if ts is None:
        return None
    when = utc_datetime(ts.ns)
    if when is None:
        return None
    record: dict[str, Any] = {
        "message": row["message"],
        "datetime": when.isoformat(timespec="microseconds"),
        "timestamp_desc": row["timestamp_desc"],
        "timestamp": ts.ns // 1000,
        "triage_timestamp": row["timestamp"],
        "artifact": row["artifact"], "family": row["family"], "extractor": row["extractor"],
        "user": row["user"], "host": row["host"], "evidence": row["evidence"],
        "volume": row["volume"], "path": row["path"], "inode": row["inode"],
        "source_sha256": row["sha256"], "event_hash": row["event_hash"],
        "tag": tags.get(row["seq"], []), "seq": row["seq"],
    }
    data: dict[str, Any] = {}
    _flatten("data", json.loads(row["data"] or "{}"), data)
    record.update(data)
    return record


def _write_timesketch(rows: Iterable[sqlite3.Row], out: TextIO, tags: dict[int, list[str]],
                      stats: ExportStats) -> None:
    for row in rows:
        record = timesketch_record(row, tags)
        if record is None:
            stats.skipped_untimed += 1
            continue
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        stats.written += 1


BODY_FIELDS = ("atime", "mtime", "ctime", "crtime")


def body_field(timestamp_desc: str | None) -> str:
    """Which body file time an event's time goes to, from what the time means.

    changed -> ctime (metadata change); created / creation -> crtime; accessed, run, visited,
    opened -> atime; modified, written and anything else -> mtime."""
    desc = (timestamp_desc or "").lower()
    if "changed" in desc:
        return "ctime"
    if "creat" in desc:
        return "crtime"
    if any(word in desc for word in ("access", "run", "visit", "opened")):
        return "atime"
    return "mtime"


def _body_text(text: str) -> str:
    # mactime splits on '|' and reads one line per entry: keep both out of the name
    return (text.replace("\r", " ").replace("\n", " ").replace("|", "%7C"))


def body_line(row: sqlite3.Row) -> str | None:
    ts = _parse_ts(row["timestamp"])
    if ts is None:
        return None
    seconds = ts.ns // _NS
    times = {name: 0 for name in BODY_FIELDS}
    times[body_field(row["timestamp_desc"])] = seconds
    data = json.loads(row["data"] or "{}")
    size = data.get("size") if isinstance(data, dict) else None
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        size = 0
    name = _body_text(f"[{row['artifact']}] {row['message']}")
    inode = row["inode"] if row["inode"] is not None else 0
    return "|".join(["0", name, str(inode), "0", "0", "0", str(size),
                     *(str(times[n]) for n in BODY_FIELDS)])


def _write_bodyfile(rows: Iterable[sqlite3.Row], out: TextIO, tags: dict[int, list[str]],
                    stats: ExportStats) -> None:
    for row in rows:
        line = body_line(row)
        if line is None:
            stats.skipped_untimed += 1
            continue
        out.write(line)
        out.write("\n")
        stats.written += 1


# ------------------------------------------------------------------ xlsx

XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_TEXT = 32_767
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def xlsx_text(value: Any) -> Any:
    """A cell value Excel accepts: control characters shown as \\xNN, text cut at Excel's
    limit (said in the cell), formulas neutralised."""
    if not isinstance(value, str):
        return value
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", value)
    if len(value) > XLSX_MAX_TEXT - 60:
        value = value[: XLSX_MAX_TEXT - 60] + f" ... [cut: {len(value)} characters in the case]"
    return neutralise(value)


class _Book:
    """A write-only workbook whose sheets get a bold frozen header and an autofilter."""

    def __init__(self) -> None:
        from openpyxl import Workbook

        self.wb = Workbook(write_only=True)
        self.used: set[str] = set()
        self.sheets: list[Any] = []

    def sheet_name(self, wanted: str) -> str:
        base = _SHEET_BAD.sub("_", wanted).strip("'") or "sheet"
        base = base[:31]
        name, n = base, 2
        while name.lower() in self.used:
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)] + suffix
            n += 1
        self.used.add(name.lower())
        return name

    def add(self, title: str, header: Sequence[str], widths: Sequence[int]) -> "_Sheet":
        from openpyxl.utils import get_column_letter

        ws = self.wb.create_sheet(self.sheet_name(title))
        ws.freeze_panes = "A2"
        for index, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        sheet = _Sheet(ws, header)
        self.sheets.append(sheet)
        return sheet

    def save(self, path: str) -> list[str]:
        for sheet in self.sheets:
            sheet.close()
        self.wb.save(path)
        return [s.ws.title for s in self.sheets]


class _Sheet:
    def __init__(self, ws: Any, header: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        self.ws = ws
        self.header = list(header)
        self.rows = 0
        self._cell = WriteOnlyCell
        bold = Font(bold=True)
        cells = []
        for title in header:
            cell = WriteOnlyCell(ws, value=title)
            cell.font = bold
            cells.append(cell)
        ws.append(cells)

    @property
    def full(self) -> bool:
        return self.rows + 1 >= XLSX_MAX_ROWS

    def append(self, values: Sequence[Any], datetime_columns: Sequence[int] = ()) -> None:
        cells: list[Any] = []
        for index, value in enumerate(values):
            if index in datetime_columns and value is not None:
                cell = self._cell(self.ws, value=value)
                cell.number_format = DATETIME_FORMAT
                cells.append(cell)
            else:
                cells.append(xlsx_text(value))
        self.ws.append(cells)
        self.rows += 1

    def close(self) -> None:
        from openpyxl.utils import get_column_letter

        last = get_column_letter(len(self.header))
        self.ws.auto_filter.ref = f"A1:{last}{self.rows + 1}"


EVENT_SHEET_COLUMNS = ("timestamp (UTC, full precision)", "timestamp_desc", "message", "artifact",
                       "extractor", "user", "host", "evidence", "volume", "path", "inode",
                       "sha256", "data", "event_hash", "tags", "seq")
_EVENT_WIDTHS = (24, 31, 20, 90, 22, 16, 14, 14, 14, 8, 50, 9, 20, 60, 20, 16, 8)


def _write_xlsx(db: sqlite3.Connection, flt: EventFilter, path: str,
                tags: dict[int, list[str]], stats: ExportStats, zone: str,
                tz: _dt.tzinfo, case_dir: str) -> None:
    book = _Book()
    time_header = f"time ({zone})"
    event_header = (time_header, *EVENT_SHEET_COLUMNS)
    where, params = flt.sql()
    families = sorted({r[0] or "other" for r in
                       db.execute(f"SELECT DISTINCT family FROM events {where}", params)})
    rows = select_events(db, flt)
    sheets: dict[str, _Sheet] = {f: book.add(f, event_header, _EVENT_WIDTHS) for f in families}
    parts: dict[str, int] = {}
    for row in rows:
        family = row["family"] or "other"
        sheet = sheets[family]
        if sheet.full:  # Excel's row limit: go on in "family (2)"
            parts[family] = parts.get(family, 1) + 1
            sheet = sheets[family] = book.add(f"{family} ({parts[family]})", event_header,
                                              _EVENT_WIDTHS)
        sheet.append([excel_datetime(row["timestamp"], tz, row["ts"]), row["timestamp"] or "",
                      row["timestamp_desc"], row["message"], row["artifact"], row["extractor"],
                      row["user"], row["host"], row["evidence"], row["volume"], row["path"],
                      row["inode"], row["sha256"], row["data"], row["event_hash"],
                      ",".join(tags.get(row["seq"], [])), row["seq"]], datetime_columns=(0,))
        stats.written += 1
    _findings_sheet(book, db, zone, tz)
    _devices_sheet(book, case_dir, zone, tz)
    stats.sheets = book.save(path)


def _findings_sheet(book: _Book, db: sqlite3.Connection, zone: str, tz: _dt.tzinfo) -> None:
    header = ("id", "severity", "rule_id", "title", "ATT&CK", f"first ({zone})", f"last ({zone})",
              "first (UTC, full precision)", "last (UTC, full precision)", "explanation",
              "description", "tags", "group_value", "event_count", "proving events (seq)")
    sheet = book.add("Findings", header, (6, 10, 18, 40, 12, 24, 24, 31, 31, 50, 60, 20, 16, 8, 30))
    try:
        findings = db.execute("SELECT * FROM findings ORDER BY id").fetchall()
        links: dict[int, list[int]] = {}
        for fid, seq in db.execute("SELECT finding_id, seq FROM finding_events ORDER BY finding_id, seq"):
            links.setdefault(fid, []).append(seq)
    except sqlite3.Error:
        return
    for f in findings:
        tags = ", ".join(json.loads(f["tags"] or "[]"))
        seqs = ",".join(str(s) for s in links.get(f["id"], []))
        sheet.append([f["id"], f["severity"], f["rule_id"], f["title"], f["attack"],
                      excel_datetime(f["first_time"], tz), excel_datetime(f["last_time"], tz),
                      f["first_time"], f["last_time"], f["explanation"], f["description"], tags,
                      f["group_value"], f["event_count"], seqs], datetime_columns=(5, 6))


def _devices_sheet(book: _Book, case_dir: str, zone: str, tz: _dt.tzinfo) -> None:
    from triage.analysis.devices import read_devices

    header = ("id", "kind", "vendor", "product", "friendly_name", "serial", "vid", "pid",
              "capacity", f"first connected ({zone})", "first connected (UTC, full precision)",
              "first source", f"last connected ({zone})", "last connected (UTC, full precision)",
              "last connected source", f"last removed ({zone})", "last removed (UTC, full precision)",
              "last removed source",
              "drive letters", "volume GUIDs", "volume serials", "volume labels", "users",
              "files opened", "times (JSON)")
    sheet = book.add("USB devices", header, (5, 16, 14, 18, 30, 24, 8, 8, 14, 24, 31, 22, 24, 31,
                                             22, 24, 31, 22, 12, 40, 16, 16, 16, 8, 60))
    for d in read_devices(os.path.join(case_dir, "case.sqlite")):
        sheet.append([
            d["id"], d["kind"], d["vendor"], d["product"], d["friendly_name"], d["serial"],
            d["vid"], d["pid"], d["capacity"],
            excel_datetime(d["first_connected"], tz), d["first_connected"], d["first_connected_source"],
            excel_datetime(d["last_connected"], tz), d["last_connected"], d["last_connected_source"],
            excel_datetime(d["last_removed"], tz), d["last_removed"], d["last_removed_source"],
            ", ".join(d["drive_letters"]), ", ".join(d["volume_guids"]),
            ", ".join(d["volume_serials"]), ", ".join(d["volume_labels"]), ", ".join(d["users"]),
            len(d["files_opened"]), json.dumps(d["times"], ensure_ascii=False)],
            datetime_columns=(9, 12, 15))


# ------------------------------------------------------------------ entry points

_TEXT_WRITERS: dict[str, Callable[..., None]] = {
    "csv": _write_csv, "jsonl": _write_jsonl, "timesketch": _write_timesketch,
    "bodyfile": _write_bodyfile}


def export_with_stats(case_dir: str, fmt: str, out: str, *, start: str | None = None,
                      end: str | None = None, family: str | Sequence[str] | None = None,
                      artifact: str | Sequence[str] | None = None,
                      user: str | Sequence[str] | None = None, contains: str | None = None,
                      tz: str | None = None) -> ExportStats:
    """Write the filtered timeline of case_dir to `out` in `fmt`; returns what was written.

    The file is written beside `out` and renamed into place when complete. Raises ValueError
    for an unknown format, zone or time."""
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r} (one of: {', '.join(FORMATS)})")
    flt = EventFilter.build(start, end, family, artifact, user, contains)
    db_path = os.path.join(case_dir, "case.sqlite")
    if not os.path.isfile(db_path):
        raise ValueError(f"{case_dir}: no case.sqlite (not a triage case folder)")
    from triage.manifest import MANIFEST, read_manifest

    manifest = read_manifest(case_dir) if os.path.isfile(os.path.join(case_dir, MANIFEST)) else {}
    zone, tzinfo_ = case_zone(manifest, tz)
    stats = ExportStats(path=out, fmt=fmt)
    partial = out + ".partial"
    db = open_readonly(db_path)
    try:
        tags = _tags_of(db)
        if fmt == "xlsx":
            _write_xlsx(db, flt, partial, tags, stats, zone, tzinfo_, case_dir)
        else:
            newline = "" if fmt == "csv" else "\n"
            with open(partial, "w", encoding="utf-8", newline=newline) as handle:
                _TEXT_WRITERS[fmt](select_events(db, flt), handle, tags, stats)
        os.replace(partial, out)
    except BaseException:
        if os.path.exists(partial):
            os.remove(partial)
        raise
    finally:
        db.close()
    return stats


def export(case_dir: str, fmt: str, out: str, *, start: str | None = None, end: str | None = None,
           family: str | Sequence[str] | None = None, artifact: str | Sequence[str] | None = None,
           user: str | Sequence[str] | None = None, contains: str | None = None,
           tz: str | None = None) -> int:
    """Export the case's timeline; returns the number of events written."""
    return export_with_stats(case_dir, fmt, out, start=start, end=end, family=family,
                             artifact=artifact, user=user, contains=contains, tz=tz).written


__all__ = ["CSV_COLUMNS", "DEFAULT_NAMES", "EventFilter", "ExportStats", "FORMATS", "body_field",
           "body_line", "case_zone", "excel_datetime", "export", "export_with_stats",
           "local_text", "neutralise", "parse_time", "select_events",
           "timesketch_record", "zone_info"]
