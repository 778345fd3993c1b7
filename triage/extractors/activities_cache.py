"""Windows Timeline: `ActivitiesCache.db` of the Connected Devices Platform (Windows 10 1803+).

Format: an SQLite 3 database (WAL mode) at `%LOCALAPPDATA%\\ConnectedDevicesPlatform\\
<L.user | Microsoft account id | AAD id>\\ActivitiesCache.db`, one per account. Microsoft does not
document the file; the layout used here is the one described in public examinations of it
(Costas Katsavounidis, "An examination of Win10 ActivitiesCache.db database", 2018; Eric
Zimmerman's WxTCmd notes) and matches the UserActivity API documentation
(Windows.ApplicationModel.UserActivities: StartTime, EndTime, ActivationUri, ContentUri,
VisualElements.DisplayText / Description). The `Activity` table is read (one row per activity
still held; ActivityOperation, the upload queue, is not read). Columns are checked for before
use. The database is read from a private copy with its -wal (records not yet checkpointed
included).

Times: StartTime, EndTime, LastModifiedTime, ExpirationTime, LastModifiedOnClient,
OriginalLastModifiedOnClient, CreatedInCloud are POSIX seconds, UTC, no fraction; 0 or NULL is
"not set".

Events, per Activity row:
    "Activity Started" at StartTime (no timestamp when it is not set).
    "Activity Ended"   at EndTime, when set.

Event data: activity_id (the Id GUID's 16 bytes as hex, in stored order), activity_type
(number), activity_type_name (open for 5 "open app/file/page", in_focus for 6 "app in use",
clipboard 10, copy_paste 16, notification 2, system 11/12/15, else None), activity_status
(active, updated, deleted, ignored), application (from the AppId JSON list of
{application, platform}: the x_exe_path entry, else windows_win32, windows_universal,
packageId, else the first named one), application_path (that application with a leading known
folder GUID replaced by its name, e.g. {6D809377-...}\\x.exe -> %ProgramFiles%\\x.exe),
app_platform, app_ids (the whole AppId list), app_display_name, display_text, description,
content_uri, activation_uri, file_path (a local path from a file: content URI or a path-like
description), url / domain / category (the first http(s) URL among content URI, description
and activation URI, else None), payload_type, active_duration_seconds, user_timezone,
app_activity_id, platform_device_id, package_id_hash, is_local_only, etag, start_time,
end_time, last_modified, last_modified_on_client, original_last_modified_on_client,
expiration, created_in_cloud (ISO 8601 or None), clipboard_payload_present,
clipboard_formats (format names in ClipboardPayload; the content itself is not copied).
"""
from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, iso, run_section)
from triage.extractors.firefox import file_uri_to_path
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event
from triage.urlcat import categorize, lists_for

ACTIVITY_TYPE = {2: "notification", 5: "open", 6: "in_focus", 10: "clipboard", 11: "system",
                 12: "system", 15: "system", 16: "copy_paste"}
ACTIVITY_STATUS = {1: "active", 2: "updated", 3: "deleted", 4: "ignored"}
_PLATFORM_ORDER = ("x_exe_path", "windows_win32", "windows_universal", "packageid")
KNOWN_FOLDERS = {  # KNOWNFOLDERID values (Microsoft "KNOWNFOLDERID" documentation)
    "6D809377-6AF0-444B-8957-A3773F02200E": "%ProgramFiles%",
    "7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E": "%ProgramFiles(x86)%",
    "6365D5A7-0F0D-45E5-87F6-0DA56B6A4F7D": "%CommonProgramFiles%",
    "DE974D24-D9C6-4D3E-BF91-F4455120B917": "%CommonProgramFiles(x86)%",
    "1AC14E77-02E7-4E5D-B744-2EB1AE5198B7": "%SystemRoot%\\System32",
    "D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27": "%SystemRoot%\\SysWOW64",
    "F38BF404-1D43-42F2-9305-67DE0B28FC23": "%SystemRoot%",
    "F1B32785-6FBA-4FCF-9D55-7B8E7F157091": "%LOCALAPPDATA%",
    "3EB685DB-65F9-4CF6-A03A-E3EF65729F3D": "%APPDATA%",
    "62AB5D82-FDC1-4DC3-A9DD-070D1D495D97": "%ProgramData%",
    "5E6C858F-0E22-4760-9AFE-EA3317B67173": "%USERPROFILE%",
}
_GUID_PREFIX = re.compile(r"^\{([0-9A-Fa-f-]{36})\}")
_PATH_LIKE = re.compile(r"^(?:[A-Za-z]:\\|\\\\[^\\])")
_WEB = re.compile(r"https?://", re.IGNORECASE)


def _json(value: Any) -> Any:
    text = as_text(value)
    if not text:
        return None
    return json.loads(text)


def pick_application(app_ids: Any) -> tuple[str | None, str | None]:
    """(application, platform) chosen from the AppId list."""
    if not isinstance(app_ids, list):
        return None, None
    entries = [e for e in app_ids if isinstance(e, dict) and isinstance(e.get("application"), str)
               and e["application"].strip()]
    for wanted in _PLATFORM_ORDER:
        for entry in entries:
            if str(entry.get("platform", "")).lower() == wanted:
                return entry["application"], entry.get("platform")
    if entries:
        return entries[0]["application"], entries[0].get("platform")
    return None, None


def expand_known_folder(path: str | None) -> str | None:
    if not path:
        return path
    match = _GUID_PREFIX.match(path)
    if match and match.group(1).upper() in KNOWN_FOLDERS:
        return KNOWN_FOLDERS[match.group(1).upper()] + path[match.end():]
    return path


def _guid_hex(value: Any) -> str | None:
    if isinstance(value, bytes):
        raw = value.hex().upper()
        if len(raw) == 32:
            return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"
        return raw
    return as_text(value)


def _first_web_url(*candidates: Any) -> str | None:
    for candidate in candidates:
        if not isinstance(candidate, str):
            continue
        match = _WEB.search(candidate)
        if match and candidate[: match.start()].lower() in ("", "microsoft-edge:"):
            return candidate[match.start():]
    return None


def _basename(path: str | None) -> str | None:
    if not path:
        return None
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] or path


@register
class ActivitiesCache(Extractor):
    name = "activities_cache"
    family = "activity"
    description = "Windows Timeline ActivitiesCache.db: activities started and ended"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "activity" not in tables:
                raise ArtifactError("not a Windows Timeline database (no Activity table)")
            times = TimeReader()
            problems: dict[str, int] = {}
            yield from run_section(ctx, "Activity",
                                   lambda: self._rows(db, tables, ctx, times, problems))
            times.report(ctx)
            for what, count in sorted(problems.items()):
                ctx.warn(f"Activity.{what}: {count} value(s) not valid JSON")

    @staticmethod
    def _rows(db: sqlite3.Connection, tables: dict[str, list[str]], ctx: ExtractionContext,
              times: TimeReader, problems: dict[str, int]) -> Iterator[Event]:
        lists = lists_for(ctx)
        names = ["Id", "AppId", "PackageIdHash", "AppActivityId", "ActivityType",
                 "ActivityStatus", "LastModifiedTime", "ExpirationTime", "Payload",
                 "IsLocalOnly", "PlatformDeviceId", "CreatedInCloud", "StartTime", "EndTime",
                 "LastModifiedOnClient", "OriginalLastModifiedOnClient", "ClipboardPayload",
                 "ETag"]
        select = ", ".join(column(tables, "a", "activity", n) for n in names)
        for row in db.execute(f"SELECT {select} FROM Activity a ORDER BY a.rowid"):
            parsed: dict[str, Any] = {}
            for field in ("AppId", "Payload", "ClipboardPayload"):
                try:
                    parsed[field] = _json(row[field])
                except (ValueError, RecursionError):  # RecursionError: hostile nesting
                    parsed[field] = None
                    problems[field] = problems.get(field, 0) + 1
            app_ids = parsed["AppId"] if isinstance(parsed["AppId"], list) else None
            payload = parsed["Payload"] if isinstance(parsed["Payload"], dict) else {}
            clip = parsed["ClipboardPayload"]
            application, platform = pick_application(app_ids)
            kind = as_int(row["ActivityType"])
            status = as_int(row["ActivityStatus"])
            display = payload.get("displayText")
            description = payload.get("description")
            content_uri = payload.get("contentUri")
            activation_uri = payload.get("activationUri")
            file_path = None
            if isinstance(content_uri, str):
                file_path = file_uri_to_path(content_uri.split("?", 1)[0])
            if file_path is None and isinstance(description, str) and _PATH_LIKE.match(description):
                file_path = description
            url = _first_web_url(content_uri, description, activation_uri)
            formats = []
            if isinstance(clip, list):
                formats = [str(e.get("formatName")) for e in clip
                           if isinstance(e, dict) and e.get("formatName") is not None]
            start = times.seconds("Activity.StartTime", row["StartTime"])
            end = times.seconds("Activity.EndTime", row["EndTime"])
            data = {
                "activity_id": _guid_hex(row["Id"]),
                "activity_type": kind,
                "activity_type_name": ACTIVITY_TYPE.get(kind) if kind is not None else None,
                "activity_status": (ACTIVITY_STATUS.get(status, f"unknown ({status})")
                                    if status is not None else None),
                "application": application,
                "application_path": expand_known_folder(application),
                "app_platform": platform,
                "app_ids": app_ids,
                "app_display_name": _str(payload.get("appDisplayName")),
                "display_text": _str(display),
                "description": _str(description),
                "content_uri": _str(content_uri),
                "activation_uri": _str(activation_uri),
                "file_path": file_path,
                "url": url,
                **(categorize(url, lists) if url else {"domain": None, "category": None}),
                "payload_type": _str(payload.get("type")),
                "active_duration_seconds": as_int(payload.get("activeDurationSeconds")),
                "user_timezone": _str(payload.get("userTimezone")),
                "app_activity_id": as_text(row["AppActivityId"]),
                "platform_device_id": as_text(row["PlatformDeviceId"]),
                "package_id_hash": as_text(row["PackageIdHash"]),
                "is_local_only": (bool(row["IsLocalOnly"]) if row["IsLocalOnly"] is not None
                                  else None),
                "etag": as_int(row["ETag"]),
                "start_time": iso(start), "end_time": iso(end),
                "last_modified": iso(times.seconds("Activity.LastModifiedTime",
                                                   row["LastModifiedTime"])),
                "last_modified_on_client": iso(times.seconds("Activity.LastModifiedOnClient",
                                                             row["LastModifiedOnClient"])),
                "original_last_modified_on_client": iso(times.seconds(
                    "Activity.OriginalLastModifiedOnClient", row["OriginalLastModifiedOnClient"])),
                "expiration": iso(times.seconds("Activity.ExpirationTime", row["ExpirationTime"])),
                "created_in_cloud": iso(times.seconds("Activity.CreatedInCloud",
                                                      row["CreatedInCloud"])),
                "clipboard_payload_present": _clipboard_present(row["ClipboardPayload"], clip),
                "clipboard_formats": formats,
            }
            app = data["app_display_name"] or _basename(application) or "(unknown application)"
            what = data["display_text"] or data["description"] or url or file_path
            kind_text = data["activity_type_name"] or f"type {kind}"
            subject = f"{app}: {what}" if what else app
            if data["description"] and data["display_text"] \
                    and data["description"] != data["display_text"]:
                subject += f" ({data['description']})"
            yield Event(start, "Activity Started", f"Activity started [{kind_text}] {subject}",
                        data)
            if end is not None:
                yield Event(end, "Activity Ended", f"Activity ended [{kind_text}] {subject}",
                            dict(data))


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _clipboard_present(raw: Any, parsed: Any) -> bool:
    """True when ClipboardPayload holds something: a non-empty JSON list, or bytes that are not
    JSON at all (kept as present rather than lost)."""
    if raw is None or raw in (b"", ""):
        return False
    if isinstance(parsed, (list, dict)):
        return bool(parsed)
    return parsed is None or bool(parsed)
