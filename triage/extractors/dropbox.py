"""Dropbox desktop client sync history (`sync_history.db`): files uploaded to and downloaded
from Dropbox by this computer.

Format: an SQLite 3 database in the client's instance folder
(`%LOCALAPPDATA%\\Dropbox\\instance<N>\\`, Linux `~/.dropbox/instance<N>/`). Not documented by
Dropbox; the layout is as known from public write-ups (and plaso's `dropbox` SQLite plugin):
table `sync_history` (event_type TEXT NOT NULL, file_event_type TEXT, direction TEXT, file_id
TEXT, local_path TEXT, timestamp INTEGER NOT NULL, other_user INTEGER). event_type is "file"
for file events; file_event_type is "add", "edit" or "delete"; direction is "upload" (a change
made here, sent to Dropbox) or "download" (a change made elsewhere, received here). Read from a
private copy with its -wal / -journal (triage.extractors._sqlite). nucleus.sqlite3, the newer
client's item database, is not read (its records are serialised objects).

Time: timestamp, POSIX seconds UTC (no fraction): when the client recorded the sync event.
Events: "File Uploaded" (direction upload), "File Downloaded" (download), "Sync Event" (any
other direction).

Event data: client ("Dropbox"), instance (the instance folder), event_type, file_event_type,
direction, file_id, local_path, other_user (the change was made by another user of a shared
folder, when the column says so).
"""
from __future__ import annotations

import sqlite3
from typing import Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event

DESCRIPTIONS = {"upload": "File Uploaded", "download": "File Downloaded"}
ACTIONS = {"add": "added", "edit": "edited", "delete": "deleted"}


@register
class DropboxSyncHistory(Extractor):
    name = "dropbox_sync_history"
    family = "cloud"
    description = "Dropbox sync_history.db: files uploaded and downloaded"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "sync_history" not in tables or "timestamp" not in tables["sync_history"]:
                raise ArtifactError("not a Dropbox sync_history database (no sync_history table)")
            parts = [p for p in f.path.split("/") if p]
            instance = parts[-2] if len(parts) >= 2 else None
            times = TimeReader()
            yield from run_section(ctx, "sync_history",
                                   lambda: self._rows(db, tables, instance, times))
            times.report(ctx)

    @staticmethod
    def _rows(db: sqlite3.Connection, tables: dict[str, list[str]], instance: str | None,
              times: TimeReader) -> Iterator[Event]:
        names = ["event_type", "file_event_type", "direction", "file_id", "local_path",
                 "timestamp", "other_user"]
        select = ", ".join(column(tables, "s", "sync_history", n) for n in names)
        for row in db.execute(f"SELECT {select} FROM sync_history s"):
            direction = as_text(row["direction"])
            action = as_text(row["file_event_type"])
            other = as_int(row["other_user"])
            data = {
                "client": "Dropbox", "instance": instance,
                "event_type": as_text(row["event_type"]), "file_event_type": action,
                "direction": direction, "file_id": as_text(row["file_id"]),
                "local_path": as_text(row["local_path"]),
                "other_user": bool(other) if other is not None else None,
            }
            desc = DESCRIPTIONS.get((direction or "").lower(), "Sync Event")
            verb = ACTIONS.get((action or "").lower(), action or "changed")
            way = {"upload": "uploaded", "download": "downloaded"}.get(
                (direction or "").lower(), direction or "direction unknown")
            message = f"Dropbox: {data['local_path'] or '(no path)'} {verb}, {way}"
            yield Event(times.seconds("sync_history.timestamp", row["timestamp"]), desc,
                        message, data)


__all__ = ["DropboxSyncHistory"]
