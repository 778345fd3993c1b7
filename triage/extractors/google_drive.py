"""Google Drive for desktop (DriveFS) metadata database (`metadata_sqlite_db`): every item of
the account's Drive the client knows, with paths, sizes, trash state and times, including
items that were never downloaded to this computer.

Format: an SQLite 3 database in `%LOCALAPPDATA%\\Google\\DriveFS\\<account id>\\` (macOS
`~/Library/Application Support/Google/DriveFS/<account id>/`). Not documented by Google; the
layout is as known from public write-ups (e.g. the DriveFS Sleuth project and forensic blog
posts): table `items` (stable_id, id (the cloud ID; newer versions keep it in
`stable_ids.cloud_id`), local_title, mime_type, is_folder, file_size, trashed, is_owner,
is_tombstone, starred, team_drive_stable_id, modified_date, viewed_by_me_date,
shared_with_me_date) and `stable_parents` (item_stable_id, parent_stable_id). Every column is
checked for before use. Read from a private copy with its -wal / -journal
(triage.extractors._sqlite).

Times, all milliseconds since 1970-01-01 UTC (three digits); 0 or NULL = not set:
    "Item Modified"   modified_date: last modification of the item in Drive.
    "Viewed by Me"    viewed_by_me_date: the last time this account opened it.
    "Shared with Me"  shared_with_me_date: when it was shared with this account.
An item with none of these gives one event without a timestamp ("Sync Record").

Event data: client ("Google Drive"), account_id (the DriveFS account folder), stable_id,
cloud_id, title, path (titles from the root, e.g. "My Drive/顧客/list.xlsx", joined with "/";
a parent chain that cannot be followed leaves the path starting at the last item known),
mime_type, is_folder, file_size, trashed, is_owner, tombstone (a deleted item the client still
remembers), starred, shared_drive (the item lies in a shared drive), modified, viewed_by_me,
shared_with_me (ISO 8601 or None).
"""
from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, iso, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event

MAX_FOLDERS = 2_000_000
MAX_DEPTH = 256


def _flag(value: Any) -> bool | None:
    number = as_int(value)
    return bool(number) if number is not None else None


@register
class GoogleDriveFS(Extractor):
    name = "google_drivefs"
    family = "cloud"
    description = "Google Drive for desktop metadata_sqlite_db: items, paths, trash, times"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "items" not in tables or not {"stable_id", "local_title"} <= set(tables["items"]):
                raise ArtifactError("not a DriveFS metadata database (no items table)")
            parts = [p for p in f.path.split("/") if p]
            times = TimeReader()
            run = _Run(db, tables, parts[-2] if len(parts) >= 2 else None, ctx, times)
            yield from run_section(ctx, "items", run.items)
            times.report(ctx)


class _Run:
    def __init__(self, db: sqlite3.Connection, tables: dict[str, list[str]],
                 account: str | None, ctx: ExtractionContext, times: TimeReader):
        self.db, self.tables, self.ctx, self.times = db, tables, ctx, times
        self.base = {"client": "Google Drive", "account_id": account}
        self.parents: dict[int, int] = {}
        self.titles: dict[int, str | None] = {}
        self._load_tree()

    def _load_tree(self) -> None:
        columns = self.tables.get("stable_parents", [])
        if not {"item_stable_id", "parent_stable_id"} <= set(columns):
            self.ctx.warn("no stable_parents table: paths are item titles only")
            return
        try:
            for item, parent in self.db.execute(
                    "SELECT item_stable_id, parent_stable_id FROM stable_parents"):
                key, value = as_int(item), as_int(parent)
                if key is not None and value is not None and key not in self.parents:
                    self.parents[key] = value
                    if len(self.parents) >= MAX_FOLDERS:
                        self.ctx.warn(f"more than {MAX_FOLDERS} parent links: paths may be "
                                      "incomplete")
                        break
            folder_filter = "WHERE is_folder = 1" if "is_folder" in self.tables["items"] else ""
            for stable_id, title in self.db.execute(
                    f"SELECT stable_id, local_title FROM items {folder_filter}"):
                key = as_int(stable_id)
                if key is not None and len(self.titles) < MAX_FOLDERS:
                    self.titles[key] = as_text(title)
        except sqlite3.DatabaseError as exc:
            self.ctx.error(f"stable_parents / items: could not be read completely ({exc}); "
                           "paths may be incomplete")

    def path(self, stable_id: int | None, title: str | None) -> str:
        parts = [title or "(untitled)"]
        seen: set[int] = set()
        current = self.parents.get(stable_id) if stable_id is not None else None
        while current is not None and current in self.titles and current not in seen \
                and len(parts) < MAX_DEPTH:
            seen.add(current)
            parts.append(self.titles[current] or "(untitled folder)")
            current = self.parents.get(current)
        return "/".join(reversed(parts))

    def items(self) -> Iterator[Event]:
        names = ["stable_id", "id", "local_title", "mime_type", "is_folder", "file_size",
                 "trashed", "is_owner", "is_tombstone", "starred", "team_drive_stable_id",
                 "modified_date", "viewed_by_me_date", "shared_with_me_date"]
        select = [column(self.tables, "i", "items", n) for n in names]
        join = ""
        if "id" not in self.tables["items"] and \
                {"stable_id", "cloud_id"} <= set(self.tables.get("stable_ids", [])):
            select[1] = 's."cloud_id" AS "id"'
            join = "LEFT JOIN stable_ids s ON s.stable_id = i.stable_id"
        for row in self.db.execute(
                f"SELECT {', '.join(select)} FROM items i {join} ORDER BY i.stable_id"):
            stable_id = as_int(row["stable_id"])
            title = as_text(row["local_title"])
            stamps = [
                ("Item Modified", self.times.millis("items.modified_date", row["modified_date"])),
                ("Viewed by Me",
                 self.times.millis("items.viewed_by_me_date", row["viewed_by_me_date"])),
                ("Shared with Me",
                 self.times.millis("items.shared_with_me_date", row["shared_with_me_date"])),
            ]
            path = self.path(stable_id, title)
            is_folder = _flag(row["is_folder"])
            trashed = _flag(row["trashed"])
            tombstone = _flag(row["is_tombstone"])
            data = {
                **self.base, "stable_id": stable_id, "cloud_id": as_text(row["id"]),
                "title": title, "path": path, "mime_type": as_text(row["mime_type"]),
                "is_folder": is_folder, "file_size": as_int(row["file_size"]),
                "trashed": trashed, "is_owner": _flag(row["is_owner"]), "tombstone": tombstone,
                "starred": _flag(row["starred"]),
                "shared_drive": row["team_drive_stable_id"] is not None
                if "team_drive_stable_id" in self.tables["items"] else None,
                "modified": iso(stamps[0][1]), "viewed_by_me": iso(stamps[1][1]),
                "shared_with_me": iso(stamps[2][1]),
            }
            kind = "folder" if is_folder else "file"
            size = data["file_size"]
            label = f"Google Drive: {kind} {path}"
            if not is_folder and size is not None:
                label += f" ({size:,} bytes)"
            if trashed:
                label += " (in the trash)"
            if tombstone:
                label += " (deleted)"
            emitted = False
            for desc, stamp in stamps:
                if stamp is None:
                    continue
                emitted = True
                yield Event(stamp, desc, f"{label}: {desc.lower()}", dict(data))
            if not emitted:
                yield Event(None, "Sync Record", f"{label}: no time recorded", data)


__all__ = ["GoogleDriveFS"]
