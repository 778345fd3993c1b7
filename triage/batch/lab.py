"""The lab index of a batch, and what several images have in common.

`LAB_DIR/lab.sqlite` (tables `images`, `lab_findings`, `lab_info`) and `LAB_DIR/lab.jsonl`
(one line per finished image) are rewritten whole each time an image finishes: written to a
temporary file beside them and renamed over the old one, so a reader (or a crash) never sees a
half-written index.

Cross-image correlation reads every finished case (read-only) and reports a value seen in two
or more images as a lab finding:

- `usb_serial`: the same removable device serial (case table `devices`); serials that Windows
  makes up for devices without one (`7&2a8b...&0`) are left out: they mean nothing across hosts;
- `volume_serial`: the same volume serial (the 8 hex digits Windows shows), from a device
  record (`devices.volume_serials`, e.g. a USB stick's FAT serial) or an imaged volume
  (`volumes.serial`; NTFS' 64-bit serial is compared by its low 32 bits, as Windows shows it);
  this ties a seized USB stick to the computers it was used on, and two images of one disk;
- `file_sha256`: the same file content among user documents and recycled files (events of the
  families `documents` and `deleted`: `data.sha256`, `data.r_sha256`, `data.r_contents`),
  counted only for files under a user profile or a Recycle Bin, so common system files never
  make a finding; the empty file is ignored;
- `user_account`: the same account name (not a built-in account) on two or more different hosts
  (from the SOFTWARE hive's ProfileList in the case's system facts, and the user/host pairs of
  the events);
- `host`: the same computer name in two or more images (the same machine imaged twice, or
  re-imaged).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable

LAB_DB = "lab.sqlite"
LAB_JSONL = "lab.jsonl"
CASES = "cases"

IMAGE_COLUMNS = (
    ("seq", "INTEGER PRIMARY KEY"), ("path", "TEXT"), ("case_id", "TEXT"), ("examiner", "TEXT"),
    ("custodian", "TEXT"), ("status", "TEXT"), ("started", "TEXT"), ("finished", "TEXT"),
    ("duration_s", "REAL"), ("cpu_s", "REAL"), ("events", "INTEGER"), ("errors", "INTEGER"),
    ("warnings", "INTEGER"), ("findings", "TEXT"), ("evidence_hashes", "TEXT"), ("case_folder", "TEXT"),
    ("manifest_sha256", "TEXT"), ("chain_head", "TEXT"), ("exit_code", "INTEGER"),
    ("resumed", "INTEGER"), ("error", "TEXT"), ("worker", "TEXT"), ("peak_rss_kib", "INTEGER"),
    ("options", "TEXT"), ("origin", "TEXT"))
_JSON_COLUMNS = {"findings", "evidence_hashes", "options"}

SCHEMA = f"""
CREATE TABLE images ({', '.join(f'{n} {t}' for n, t in IMAGE_COLUMNS)});
CREATE TABLE lab_findings (id INTEGER PRIMARY KEY, kind TEXT, value TEXT, images TEXT,
                           details TEXT);
CREATE TABLE lab_info (key TEXT PRIMARY KEY, value TEXT);
"""

COMPLETED = ("ok", "completed with errors")
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
_USER_PATH = re.compile(r"(^|[/\\])(users|documents and settings|\$recycle\.bin|recycler|"
                        r"recycled)[/\\]", re.IGNORECASE)
_BUILTIN_NAMES = {"systemprofile", "localservice", "networkservice", "default", "default user",
                  "public", "all users", "administrator", "guest", "defaultaccount",
                  "wdagutilityaccount"}
_HEX = re.compile(r"^[0-9A-F]+$")
KIND_ORDER = ("usb_serial", "volume_serial", "file_sha256", "user_account", "host")


# --- the index -----------------------------------------------------------------------------
def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _cell(name: str, value: Any) -> Any:
    if name in _JSON_COLUMNS:
        return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)
    if name == "resumed":
        return int(bool(value))
    return value


def write_index(lab_dir: str, rows: Iterable[dict[str, Any]],
                findings: Iterable["LabFinding"] = (), info: dict[str, Any] | None = None) -> None:
    """Rewrite lab.sqlite and lab.jsonl atomically (temporary file, then rename)."""
    rows = sorted(rows, key=lambda r: r["seq"])
    findings = list(findings)
    db_path = os.path.join(lab_dir, LAB_DB)
    tmp = os.path.join(lab_dir, f".{LAB_DB}.tmp")
    for stale in (tmp, tmp + "-journal"):
        if os.path.exists(stale):
            os.remove(stale)
    db = sqlite3.connect(tmp)
    try:
        db.executescript(SCHEMA)
        names = [n for n, _ in IMAGE_COLUMNS]
        db.executemany(f"INSERT INTO images ({','.join(names)}) VALUES ({','.join('?' * len(names))})",
                       [tuple(_cell(n, row.get(n)) for n in names) for row in rows])
        db.executemany("INSERT INTO lab_findings (kind, value, images, details) VALUES (?,?,?,?)",
                       [(f.kind, f.value, json.dumps(f.images, ensure_ascii=False),
                         json.dumps(f.details, ensure_ascii=False, sort_keys=True))
                        for f in findings])
        db.executemany("INSERT INTO lab_info VALUES (?, ?)",
                       [(k, json.dumps(v, ensure_ascii=False)) for k, v in (info or {}).items()])
        db.commit()
    finally:
        db.close()
    _fsync(tmp)
    os.replace(tmp, db_path)

    jsonl_path = os.path.join(lab_dir, LAB_JSONL)
    tmp = os.path.join(lab_dir, f".{LAB_JSONL}.tmp")
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            if row.get("status") in (None, "pending", "running"):
                continue  # lines appear as images finish
            handle.write(json.dumps({n: row.get(n) for n, _ in IMAGE_COLUMNS if n != "seq"},
                                    ensure_ascii=False, sort_keys=False) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, jsonl_path)


def _fsync(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_index(lab_dir: str) -> list[dict[str, Any]]:
    """The images of a lab index, JSON columns decoded (read-only)."""
    from triage.store import open_readonly

    db = open_readonly(os.path.join(lab_dir, LAB_DB))
    try:
        rows = [dict(r) for r in db.execute("SELECT * FROM images ORDER BY seq")]
    finally:
        db.close()
    for row in rows:
        for name in _JSON_COLUMNS:
            if row.get(name) is not None:
                row[name] = json.loads(row[name])
    return rows


def read_findings(lab_dir: str) -> list[dict[str, Any]]:
    from triage.store import open_readonly

    db = open_readonly(os.path.join(lab_dir, LAB_DB))
    try:
        rows = [dict(r) for r in db.execute("SELECT * FROM lab_findings ORDER BY id")]
    finally:
        db.close()
    for row in rows:
        row["images"] = json.loads(row["images"])
        row["details"] = json.loads(row["details"])
    return rows


def _parse_time(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    try:
        return _dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def row_from_case(case_dir: str) -> dict[str, Any]:
    """Index fields of a finished case, from its manifest (used by --resume)."""
    from triage.integrity import sha256_file
    from triage.manifest import MANIFEST, read_manifest

    manifest = read_manifest(case_dir)
    counts = manifest.get("counts") or {}
    started, finished = manifest.get("started"), manifest.get("finished")
    begin, end = _parse_time(started), _parse_time(finished)
    errors = int(counts.get("errors") or 0)
    return {
        "status": "completed with errors" if errors else "ok",
        "exit_code": 1 if errors else 0,
        "started": started, "finished": finished,
        "duration_s": (end - begin).total_seconds() if begin and end else None,
        "events": counts.get("events"), "errors": errors, "warnings": counts.get("warnings"),
        "findings": counts.get("findings") or {},
        "evidence_hashes": (manifest.get("evidence") or {}).get("hashes"),
        "chain_head": (manifest.get("timeline") or {}).get("chain_head"),
        "manifest_sha256": sha256_file(os.path.join(case_dir, MANIFEST)),
    }


# --- cross-image correlation ---------------------------------------------------------------
@dataclass
class LabFinding:
    kind: str
    value: str
    images: list[str]
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value, "images": self.images,
                "details": self.details}

    def line(self) -> str:
        label = self.details.get("label")
        what = f"{self.value} ({label})" if label and label.upper() != self.value.upper() \
            else self.value
        return f"{self.kind} {what}: in {len(self.images)} images: {', '.join(self.images)}"


class _Seen:
    """value -> case id -> list of observations (dicts), plus a label per value."""

    def __init__(self) -> None:
        self.where: dict[str, dict[str, list[dict[str, Any]]]] = {}
        self.labels: dict[str, str] = {}

    def add(self, value: str, case: str, observation: dict[str, Any], label: str | None = None) -> None:
        entries = self.where.setdefault(value, {}).setdefault(case, [])
        same = next((e for e in entries if "path" in observation
                     and e.get("path") == observation["path"]), None)
        if same is not None:  # one file seen by two artifacts: one observation
            same.update({k: v for k, v in observation.items() if v and not same.get(k)})
        elif observation not in entries:
            entries.append(observation)
        if label and value not in self.labels:
            self.labels[value] = label

    def shared(self, minimum: int = 2) -> Iterable[tuple[str, dict[str, list[dict[str, Any]]]]]:
        for value in sorted(self.where):
            if len(self.where[value]) >= minimum:
                yield value, self.where[value]


def _serial32(text: Any) -> str | None:
    if not text:
        return None
    value = str(text).strip().upper().replace("-", "")
    if value.startswith("0X"):
        value = value[2:]
    if not value or not _HEX.match(value):
        return None
    value = value[-8:].rjust(8, "0")
    return None if value == "00000000" else value


def _windows_made_serial(serial: str) -> bool:
    """USBSTOR instance ids Windows generates for devices without a serial (`7&2A8B9C1&0`)."""
    return len(serial) > 1 and serial[1] == "&"


def _json(value: Any, default: Any) -> Any:
    if value is None:
        return default
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return default


def _tables(db: sqlite3.Connection) -> set[str]:
    return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _case_facts(case: str, db: sqlite3.Connection, seen: dict[str, _Seen],
                limit_paths: int) -> None:
    tables = _tables(db)
    info = {r[0]: _json(r[1], None) for r in db.execute("SELECT key, value FROM case_info")} \
        if "case_info" in tables else {}
    system = info.get("system") or {}
    host = system.get("host")

    if "devices" in tables:
        for row in db.execute("SELECT serial, friendly_name, vendor, product, first_connected, "
                              "last_connected, volume_serials, volume_labels, drive_letters "
                              "FROM devices"):
            serial = str(row[0]).strip().upper() if row[0] else None
            name = row[1] or " ".join(x for x in (row[2], row[3]) if x) or None
            if serial and not _windows_made_serial(serial):
                seen["usb_serial"].add(serial, case, {
                    "host": host, "device": name, "first_connected": row[4],
                    "last_connected": row[5], "drive_letters": _json(row[8], [])}, label=name)
            for vs in _json(row[6], []):
                key = _serial32(vs)
                if key:
                    seen["volume_serial"].add(key, case, {
                        "as": "device volume", "host": host, "device": name, "serial": serial,
                        "volume_labels": _json(row[7], [])}, label=name)

    if "volumes" in tables:
        for row in db.execute("SELECT volume, fs_type, label, serial FROM volumes "
                              "WHERE snapshot IS NULL"):
            key = _serial32(row[3])
            if key:
                seen["volume_serial"].add(key, case, {
                    "as": "imaged volume", "volume": row[0], "fs_type": row[1], "label": row[2],
                    "serial": str(row[3]).upper()}, label=row[2])

    if "events" in tables:
        for family, path, user, data_text, sha in db.execute(
                "SELECT family, path, user, data, sha256 FROM events "
                "WHERE family IN ('documents', 'deleted')"):
            data = _json(data_text, {})
            if not isinstance(data, dict):
                continue
            hashes: list[tuple[str, str | None]] = []
            if family == "documents" and (data.get("sha256") or sha):
                hashes.append((data.get("sha256") or sha, path))
            if data.get("r_sha256"):
                hashes.append((data["r_sha256"], path))
            for inner in data.get("r_contents") or []:
                if isinstance(inner, dict) and inner.get("sha256"):
                    hashes.append((inner["sha256"], inner.get("path") or path))
            original = data.get("original_path")
            for digest, where in hashes:
                digest = str(digest).lower()
                if digest == EMPTY_SHA256 or not where or not _USER_PATH.search(where):
                    continue
                entries = seen["file_sha256"].where.get(digest, {}).get(case, [])
                if len(entries) >= limit_paths:
                    continue
                observation = {"path": where, "user": user}
                if original:
                    observation["original_path"] = _original_inside(original, data.get("r_file"),
                                                                     where)
                label = os.path.basename(str(observation.get("original_path") or where)
                                         .replace("\\", "/"))
                seen["file_sha256"].add(digest, case, observation, label=label)

        accounts: dict[str, set[str]] = {}
        for sid, profile in (system.get("users") or {}).items():
            name = (profile or {}).get("name") if isinstance(profile, dict) else None
            if name and _user_sid(sid):
                accounts.setdefault(name, set()).add(sid)
        for user, event_host in db.execute("SELECT DISTINCT user, host FROM events "
                                           "WHERE user IS NOT NULL"):
            if event_host and host and event_host != host:
                _add_account(seen, case, user, event_host, set())
            else:
                accounts.setdefault(user, set())
        for name, sids in accounts.items():
            _add_account(seen, case, name, host, sids)

    if host:
        seen["host"].add(host.upper(), case, {
            "host": host, "product": system.get("product"), "build": system.get("build"),
            "install_date": system.get("install_date")}, label=host)


def _original_inside(original: str, r_file: str | None, path: str) -> str:
    """Where a file inside a recycled folder ($R...) was before deletion."""
    parts = path.replace("\\", "/").split("/")
    if r_file and r_file in parts and parts[-1] != r_file:
        inner = parts[parts.index(r_file) + 1:]
        return "\\".join([original.rstrip("\\")] + inner)
    return original


def _user_sid(sid: str) -> bool:
    parts = str(sid).split("-")
    if not str(sid).startswith("S-1-5-21-") or len(parts) < 8:
        return False
    try:
        return int(parts[-1]) >= 1000
    except ValueError:
        return False


def _add_account(seen: dict[str, _Seen], case: str, name: str, host: str | None,
                 sids: set[str]) -> None:
    if not name or not host or name.strip().lower() in _BUILTIN_NAMES or name.endswith("$"):
        return
    seen["user_account"].add(name.strip().lower(), case, {"name": name, "host": host,
                                                         "sids": sorted(sids)}, label=None)


def correlate(cases: list[tuple[str, str]], limit_paths: int = 5,
              problems: list[str] | None = None) -> list[LabFinding]:
    """Lab findings over finished cases: [(case id, case folder), ...].

    A case whose store cannot be read is left out and named in `problems`.
    """
    from triage.store import open_readonly

    seen = {kind: _Seen() for kind in KIND_ORDER}
    problems = problems if problems is not None else []
    for case, folder in cases:
        db_path = os.path.join(folder, "case.sqlite")
        if not os.path.isfile(db_path):
            continue
        try:
            db = open_readonly(db_path)
            try:
                _case_facts(case, db, seen, limit_paths)
            finally:
                db.close()
        except sqlite3.Error as exc:
            problems.append(f"{case}: case.sqlite unreadable ({exc})")
    findings: list[LabFinding] = []
    for kind in KIND_ORDER:
        for value, where in seen[kind].shared():
            if kind == "user_account":
                hosts = sorted({o["host"] for obs in where.values() for o in obs if o.get("host")},
                               key=str.upper)
                if len({h.upper() for h in hosts}) < 2:
                    continue  # the same machine imaged twice is not "several hosts"
                details: dict[str, Any] = {"hosts": hosts}
            else:
                details = {}
            label = seen[kind].labels.get(value)
            if kind == "file_sha256":  # name the file as the user knew it, where known
                originals = sorted(o["original_path"] for obs in where.values() for o in obs
                                   if o.get("original_path"))
                if originals:
                    label = os.path.basename(originals[0].replace("\\", "/"))
            if label:
                details["label"] = label
            details["seen"] = {case: obs for case, obs in sorted(where.items())}
            findings.append(LabFinding(kind, value, sorted(where), details))
    return findings
