"""OneDrive sync client database (`SyncEngineDatabase.db`): the files OneDrive keeps in sync,
with their paths, sizes, hashes and times, including cloud-only ("Files On-Demand") files
that never existed on the disk.

Format: an SQLite 3 database in `%LOCALAPPDATA%\\Microsoft\\OneDrive\\settings\\<account>\\`
(`Personal`, `Business1`...), used by OneDrive since about 2021 (schema version in
`__oddbm_schema`, name 'version'). Not documented by Microsoft; the layout below is as known
from public write-ups (Brian Maloney's "OneDrive Evolution" notes and the OneDriveExplorer
project): `od_ClientFile_Records` (resourceID, parentResourceID, eTag, fileName, fileStatus,
volumeID, itemIndex, lastChange, size, localHashDigest, localHashAlgorithm, sharedItem,
diskCreationTime, diskLastAccessTime), `od_ClientFolder_Records` (resourceID,
parentResourceID, folderName) and, from schema 21 or so, `od_HydrationData` (resourceID,
firstHydrationTime, lastHydrationTime, hydrationCount, lastHydrationType). Every column is
checked for before use. Read from a private copy with its -wal / -journal
(triage.extractors._sqlite). Resource IDs stored as BLOBs (32 hex characters then a 4-byte
number) are written "<hex>+<number>" as OneDrive's own logs do, or the hex alone when the
number is 0.

Times, all POSIX seconds UTC (no fraction); 0 or NULL = not set:
    "Last Change"         lastChange: when the sync engine last recorded a change of the item.
    "Disk Created"        diskCreationTime: creation time of the local copy on the disk.
    "Disk Last Accessed"  diskLastAccessTime: last access time of the local copy.
    "First Hydrated" / "Last Hydrated"  od_HydrationData: when a cloud-only file was first and
                          last downloaded to the disk (opened).
A file row with none of these gives one event without a timestamp ("Sync Record").

Event data: client ("OneDrive"), account (the settings folder: Personal, Business1...),
schema_version, resource_id, parent_resource_id, file_name, path (the folder names from
od_ClientFolder_Records joined with "/", then the file name; a folder chain that cannot be
followed to its end leaves the path starting at the last folder known), size, file_status,
e_tag, volume_id, item_index, shared_item, hash_algorithm ("sha1", "quickxor" or the number),
hash (hex for SHA-1, base64 for quickXor), last_change, disk_created, disk_last_accessed,
first_hydrated, last_hydrated (ISO 8601 or None), hydration_count, last_hydration_type.
"""
from __future__ import annotations

import base64
import sqlite3
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, iso, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event

MAX_FOLDERS = 2_000_000
MAX_DEPTH = 256
HASH_ALGORITHMS = {4: "sha1", 5: "quickxor"}


def resource_id(value: Any) -> str | None:
    """A resource ID as text ("<32 hex>+<n>" for the BLOB form, as stored for TEXT)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        head = value[:32]
        try:
            text = head.decode("ascii")
        except UnicodeDecodeError:
            return value.hex()
        if len(head) == 32 and all(c in "0123456789abcdefABCDEF" for c in text):
            number = int.from_bytes(value[32:], "big") if len(value) > 32 else 0
            return f"{text}+{number}" if number else text
        return value.hex()
    return str(value)


def _hash(digest: Any, algorithm: int | None) -> str | None:
    if digest is None or digest == b"" or digest == "":
        return None
    if isinstance(digest, str):
        return digest
    if algorithm == 5:
        return base64.b64encode(digest).decode("ascii")
    return digest.hex()


def account_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else None


@register
class OneDriveSyncEngine(Extractor):
    name = "onedrive_sync_engine"
    family = "cloud"
    description = "OneDrive SyncEngineDatabase.db: synced and cloud-only files, hydration times"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "od_clientfile_records" not in tables:
                raise ArtifactError("not a OneDrive SyncEngineDatabase (no od_ClientFile_Records)")
            times = TimeReader()
            run = _Run(db, tables, account_of(f.path), ctx, times)
            yield from run_section(ctx, "od_ClientFile_Records", run.files)
            times.report(ctx)


class _Run:
    def __init__(self, db: sqlite3.Connection, tables: dict[str, list[str]],
                 account: str | None, ctx: ExtractionContext, times: TimeReader):
        self.db, self.tables, self.ctx, self.times = db, tables, ctx, times
        self.base = {"client": "OneDrive", "account": account,
                     "schema_version": self._version()}
        self.folders: dict[str, tuple[str | None, str | None]] = {}
        self._load_folders()

    def _version(self) -> int | None:
        if "__oddbm_schema" not in self.tables:
            return None
        try:
            row = self.db.execute(
                "SELECT value FROM __oddbm_schema WHERE name = 'version'").fetchone()
        except sqlite3.DatabaseError:
            return None
        return as_int(row[0]) if row else None

    def _load_folders(self) -> None:
        columns = self.tables.get("od_clientfolder_records", [])
        if not {"resourceid", "parentresourceid", "foldername"} <= set(columns):
            if "od_clientfolder_records" in self.tables:
                self.ctx.warn("od_ClientFolder_Records lacks resourceID, parentResourceID or "
                              "folderName: paths are file names only")
            return
        try:
            for row in self.db.execute("SELECT resourceID, parentResourceID, folderName "
                                       "FROM od_ClientFolder_Records"):
                if len(self.folders) >= MAX_FOLDERS:
                    self.ctx.warn(f"more than {MAX_FOLDERS} folders: paths may be incomplete")
                    break
                key = resource_id(row[0])
                if key is not None:
                    self.folders[key] = (resource_id(row[1]), as_text(row[2]))
        except sqlite3.DatabaseError as exc:
            self.ctx.error(f"od_ClientFolder_Records: could not be read completely ({exc}); "
                           "paths may be incomplete")

    def path(self, parent: str | None, name: str | None) -> str:
        parts = [name or "(unnamed)"]
        seen: set[str] = set()
        while parent is not None and parent in self.folders and parent not in seen \
                and len(parts) < MAX_DEPTH:
            seen.add(parent)
            parent, folder_name = self.folders[parent]
            parts.append(folder_name or "(unnamed folder)")
        return "/".join(reversed(parts))

    def files(self) -> Iterator[Event]:
        cols = self.tables["od_clientfile_records"]
        names = ["resourceID", "parentResourceID", "eTag", "fileName", "fileStatus", "volumeID",
                 "itemIndex", "lastChange", "size", "localHashDigest", "localHashAlgorithm",
                 "sharedItem", "diskCreationTime", "diskLastAccessTime"]
        select = [column(self.tables, "f", "od_clientfile_records", n) for n in names]
        hydration = "od_hydrationdata" in self.tables and "resourceid" in \
            self.tables["od_hydrationdata"] and "resourceid" in cols
        for n in ("firstHydrationTime", "lastHydrationTime", "hydrationCount",
                  "lastHydrationType"):
            select.append(column(self.tables, "h", "od_hydrationdata", n) if hydration
                          else f'NULL AS "{n}"')
        join = "LEFT JOIN od_HydrationData h ON h.resourceID = f.resourceID" if hydration else ""
        query = f"SELECT {', '.join(select)} FROM od_ClientFile_Records f {join}"
        for row in self.db.execute(query):
            algorithm = as_int(row["localHashAlgorithm"])
            stamps = [
                ("Last Change", self.times.seconds("lastChange", row["lastChange"])),
                ("Disk Created", self.times.seconds("diskCreationTime", row["diskCreationTime"])),
                ("Disk Last Accessed",
                 self.times.seconds("diskLastAccessTime", row["diskLastAccessTime"])),
                ("First Hydrated",
                 self.times.seconds("firstHydrationTime", row["firstHydrationTime"])),
                ("Last Hydrated",
                 self.times.seconds("lastHydrationTime", row["lastHydrationTime"])),
            ]
            name = as_text(row["fileName"])
            parent = resource_id(row["parentResourceID"])
            path = self.path(parent, name)
            size = as_int(row["size"])
            shared = as_int(row["sharedItem"])
            data = {
                **self.base,
                "resource_id": resource_id(row["resourceID"]), "parent_resource_id": parent,
                "file_name": name, "path": path, "size": size,
                "file_status": as_int(row["fileStatus"]), "e_tag": as_text(row["eTag"]),
                "volume_id": as_int(row["volumeID"]), "item_index": as_int(row["itemIndex"]),
                "shared_item": bool(shared) if shared is not None else None,
                "hash_algorithm": HASH_ALGORITHMS.get(algorithm, algorithm)
                if algorithm is not None else None,
                "hash": _hash(row["localHashDigest"], algorithm),
                "last_change": iso(stamps[0][1]), "disk_created": iso(stamps[1][1]),
                "disk_last_accessed": iso(stamps[2][1]), "first_hydrated": iso(stamps[3][1]),
                "last_hydrated": iso(stamps[4][1]),
                "hydration_count": as_int(row["hydrationCount"]),
                "last_hydration_type": as_text(row["lastHydrationType"])
                if row["lastHydrationType"] is not None else None,
            }
            size_text = f"{size:,} bytes" if size is not None else "size unknown"
            label = f"OneDrive ({self.base['account'] or 'account unknown'}): {path} ({size_text})"
            emitted = False
            for desc, stamp in stamps:
                if stamp is None:
                    continue
                emitted = True
                yield Event(stamp, desc, f"{label}: {desc.lower()}", dict(data))
            if not emitted:
                yield Event(None, "Sync Record", f"{label}: no time recorded", data)


__all__ = ["OneDriveSyncEngine", "resource_id"]
