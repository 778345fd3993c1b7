"""Box Drive (Windows) virtual file system database (`streemsfs.db`): the files and folders
Box Drive shows in the user's Box folder, with their Box times and whether their content is
cached on this computer - including items that exist only in the cloud.

Why this file: Box Drive presents the Box folder (`C:\\Users\\<user>\\Box` by default) as a
virtual volume, so an image of the disk holds no file entries for it; its node table is
where the examiner sees which files the user had there, when they were opened and which
ones were pulled down to the local cache.

Format: an SQLite 3 database in `%LOCALAPPDATA%\\Box\\Box\\data\\`. Not documented by Box;
the layout is as described in public forensic notes (the SANS FOR500 cloud-storage notes,
the sources of Chad Tilbury's KAPE target `BoxDrive_Metadata`). Only the columns those notes
name and explain are read; every one is checked for before use:
    fsnodes     inodeId (the node's id), parentInodeId (its folder's inodeId), name,
                createdAtTimestamp, modifiedAtTimestamp, accessedAtTimestamp,
                markForOffline (the user chose "make available offline"; folders only),
                folderFetchTimestamp
    cachefiles  inodeId, cacheDataId (the file's name inside Box Drive's cache folder), size
                (bytes cached), age (when the content was cached; 0 = not yet cached)
Other columns (client versions differ) are left out rather than guessed at. Read from a
private copy with its -wal / -journal (triage.extractors._sqlite).

Times, "Unix epoch time" in the notes, read as POSIX seconds UTC; 0 or NULL = not set. A
value too large to be seconds (>= 10^11, past the year 5000) is read as milliseconds, and
the case notes how many were (the notes do not state the precision):
    "Box Created"        createdAtTimestamp: creation of the item as Box Drive records it.
    "Box Modified"       modifiedAtTimestamp: last modification of the item.
    "Box Last Accessed"  accessedAtTimestamp: when the item was added to Box or last opened
                         from the local Box folder.
    "Folder Fetched"     folderFetchTimestamp: when the folder's listing was last
                         synchronised with the cloud.
    "Content Cached"     cachefiles.age: when the file's content was stored in the cache.
A node with none of these gives one event without a timestamp ("Sync Record").

Paths: the names from parentInodeId links, joined with "/", relative to the Box folder. A
node without a parent (NULL, 0 when no node 0 exists, or itself) is the Box folder: its own
path is "" and it is not part of its children's paths. A chain that reaches a missing node,
loops (a warning) or exceeds 256 levels leaves the path starting at the last node reached and
`path_complete` False.

Event data: client ("Box Drive"), inode_id, parent_inode_id, name, path, path_complete,
is_folder (True: it has children or is marked for offline use; False: it has cached
content; None: the tables do not say), mark_for_offline, cached (True: a cachefiles row with a
caching time; False: no row, or age 0; None: for folders, without a cachefiles table, or with a
NULL age), cache_data_id, cached_size, created, modified, accessed, folder_fetched,
content_cached (ISO 8601 or None).

Not read, and why: `sync.db` and `metrics.db` (their Box Drive tables are named in public
but their columns are not described), and the `Box_Streem` logs (`logs\\Box_Streem_*.log`):
their line layout and whether their times are local or UTC are not publicly documented, so
upload and download lines cannot be read without guessing.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any, Hashable, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (TimeReader, as_int, as_text, column, iso,
                                       open_artifact_db, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp

MAX_NODES = 2_000_000
MAX_DEPTH = 256
MILLIS_FROM = 100_000_000_000  # as seconds: year 5138; as milliseconds: 1973-03-03
MAX_IDS_NAMED = 5

FSNODES_COLUMNS = ("inodeId", "parentInodeId", "name", "createdAtTimestamp",
                   "modifiedAtTimestamp", "accessedAtTimestamp", "markForOffline",
                   "folderFetchTimestamp")
CACHEFILES_COLUMNS = ("inodeId", "cacheDataId", "size", "age")


def node_key(value: Any) -> Hashable | None:
    """An inode id as a comparable key: integers (also written as decimal text) as int,
    other text as str, BLOBs as hex; None for NULL. Why: the two tables may store the same id
    with different SQLite types, and a join must still match."""
    if value is None:
        return None
    number = as_int(value)
    if number is not None:
        return number
    if isinstance(value, bytes):
        return value.hex()
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return text


def _flag(value: Any) -> bool | None:
    number = as_int(value)
    return bool(number) if number is not None else None


class _Times:
    """POSIX seconds, or milliseconds when a value cannot be seconds; bad values counted."""

    def __init__(self) -> None:
        self.reader = TimeReader()
        self.millis = 0

    def read(self, field: str, value: Any) -> Timestamp | None:
        number = as_int(value)
        if number is not None and number >= MILLIS_FROM:
            stamp = self.reader.millis(field, number)
            self.millis += stamp is not None
            return stamp
        return self.reader.seconds(field, value)

    def report(self, ctx: ExtractionContext) -> None:
        self.reader.report(ctx)
        if self.millis:
            ctx.note(f"{self.millis} time value(s) too large for POSIX seconds were read as "
                     "milliseconds since 1970")


@dataclass
class _Cache:
    cache_data_id: str | None
    size: int | None
    age: Any


@register
class BoxDriveStreemsFS(Extractor):
    name = "box_drive_streemsfs"
    family = "cloud"
    description = "Box Drive streemsfs.db: files and folders, Box times, locally cached content"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            columns = tables.get("fsnodes")
            if columns is None or not {"inodeid", "name"} <= set(columns):
                raise ArtifactError("not a Box Drive streemsfs.db (no fsnodes table with "
                                    "inodeId and name)")
            _warn_missing(ctx, tables, "fsnodes", FSNODES_COLUMNS)
            times = _Times()
            run = _Run(db, tables, ctx, times, ctx.user_for_path(f.path))
            yield from run_section(ctx, "fsnodes", run.nodes)
            run.report_loops()
            times.report(ctx)


def _warn_missing(ctx: ExtractionContext, tables: dict[str, list[str]], table: str,
                  names: tuple[str, ...]) -> None:
    missing = [n for n in names if n.lower() not in tables.get(table, [])]
    if missing:
        ctx.warn(f"{table} has no column {', '.join(missing)}: those fields are left empty "
                 "(another Box Drive version?)")


class _Run:
    def __init__(self, db: sqlite3.Connection, tables: dict[str, list[str]],
                 ctx: ExtractionContext, times: _Times, user: str | None):
        self.db, self.tables, self.ctx, self.times, self.user = db, tables, ctx, times, user
        self.tree: dict[Hashable, tuple[Hashable | None, str | None]] = {}
        self.parents: set[Hashable] = set()
        self.loops: set[Hashable] = set()
        self.linked = "parentinodeid" in tables["fsnodes"]
        self.cache: dict[Hashable, _Cache] | None = None
        self._load_tree()
        self._load_cache()

    # ------------------------------------------------------------ loading

    def _load_tree(self) -> None:
        if not self.linked:
            return  # warned about with the other missing columns: paths are names only
        try:
            for inode, parent, name in self.db.execute(
                    "SELECT inodeId, parentInodeId, name FROM fsnodes"):
                if len(self.tree) >= MAX_NODES:
                    self.ctx.warn(f"more than {MAX_NODES} nodes: paths may be incomplete")
                    break
                key = node_key(inode)
                if key is None or key in self.tree:
                    continue
                parent_key = node_key(parent)
                self.tree[key] = (parent_key, as_text(name))
                if parent_key is not None and parent_key != key:
                    self.parents.add(parent_key)
        except sqlite3.DatabaseError as exc:
            self.ctx.error(f"fsnodes: could not be read completely for paths ({exc}); "
                           "paths may be incomplete")

    def _load_cache(self) -> None:
        columns = self.tables.get("cachefiles")
        if columns is None:
            self.ctx.warn("no cachefiles table: whether file content is cached is unknown")
            return
        if "inodeid" not in columns:
            self.ctx.warn("cachefiles has no inodeId: whether file content is cached is unknown")
            return
        _warn_missing(self.ctx, self.tables, "cachefiles", CACHEFILES_COLUMNS)
        select = ", ".join(column(self.tables, "c", "cachefiles", n) for n in CACHEFILES_COLUMNS)
        cache: dict[Hashable, _Cache] = {}
        try:
            for row in self.db.execute(f"SELECT {select} FROM cachefiles c"):
                key = node_key(row["inodeId"])
                if key is None or (key not in cache and len(cache) >= MAX_NODES):
                    continue
                entry = _Cache(as_text(row["cacheDataId"]), as_int(row["size"]), row["age"])
                known = cache.get(key)
                if known is None or (as_int(entry.age) or 0) > (as_int(known.age) or 0):
                    cache[key] = entry  # several rows for one file: the latest caching wins
        except sqlite3.DatabaseError as exc:
            self.ctx.error(f"cachefiles: could not be read completely ({exc}); cached flags "
                           "may be missing")
        self.cache = cache

    # ------------------------------------------------------------ paths

    def _is_root(self, key: Hashable | None, parent: Hashable | None) -> bool:
        return parent is None or parent == key or (parent == 0 and 0 not in self.tree)

    def path(self, key: Hashable | None, parent: Hashable | None,
             name: str | None) -> tuple[str, bool]:
        """(path relative to the Box folder, whether the chain reached the Box folder)."""
        if not self.linked:
            return name or "(unnamed)", False
        if self._is_root(key, parent):
            return "", True
        parts = [name or "(unnamed)"]
        seen = {key}
        current = parent
        while True:
            if current in seen:
                self.loops.add(key)
                return "/".join(reversed(parts)), False
            node = self.tree.get(current)
            if node is None or len(parts) >= MAX_DEPTH:
                return "/".join(reversed(parts)), False
            seen.add(current)
            up, folder = node
            if self._is_root(current, up):
                return "/".join(reversed(parts)), True
            parts.append(folder or "(unnamed folder)")
            current = up

    def report_loops(self) -> None:
        if self.loops:
            named = ", ".join(str(k) for k in sorted(self.loops, key=str)[:MAX_IDS_NAMED])
            more = "..." if len(self.loops) > MAX_IDS_NAMED else ""
            self.ctx.warn(f"fsnodes: the parent links of {len(self.loops)} node(s) loop "
                          f"(inodeId {named}{more}): their paths stop where the loop starts")

    # ------------------------------------------------------------ events

    def nodes(self) -> Iterator[Event]:
        select = ", ".join(column(self.tables, "n", "fsnodes", c) for c in FSNODES_COLUMNS)
        for row in self.db.execute(f"SELECT {select} FROM fsnodes n ORDER BY n.inodeId"):
            yield from self._node_events(row)

    def _node_events(self, row: sqlite3.Row) -> Iterator[Event]:
        key, parent = node_key(row["inodeId"]), node_key(row["parentInodeId"])
        name = as_text(row["name"])
        path, complete = self.path(key, parent, name)
        offline = _flag(row["markForOffline"])
        entry = self.cache.get(key) if self.cache is not None and key is not None else None
        t = self.times
        stamps = [
            ("Box Created", t.read("fsnodes.createdAtTimestamp", row["createdAtTimestamp"])),
            ("Box Modified", t.read("fsnodes.modifiedAtTimestamp", row["modifiedAtTimestamp"])),
            ("Box Last Accessed",
             t.read("fsnodes.accessedAtTimestamp", row["accessedAtTimestamp"])),
            ("Folder Fetched",
             t.read("fsnodes.folderFetchTimestamp", row["folderFetchTimestamp"])),
            ("Content Cached", t.read("cachefiles.age", entry.age) if entry else None),
        ]
        cached = self._cached(entry)
        is_folder = True if key in self.parents or offline else (False if cached else None)
        if is_folder:
            cached = None  # content caching is about files
        data = {
            "client": "Box Drive", "inode_id": key, "parent_inode_id": parent, "name": name,
            "path": path, "path_complete": complete, "is_folder": is_folder,
            "mark_for_offline": offline, "cached": cached,
            "cache_data_id": entry.cache_data_id if entry else None,
            "cached_size": entry.size if entry else None,
            "created": iso(stamps[0][1]), "modified": iso(stamps[1][1]),
            "accessed": iso(stamps[2][1]), "folder_fetched": iso(stamps[3][1]),
            "content_cached": iso(stamps[4][1]),
        }
        label = self._label(data)
        emitted = False
        for desc, stamp in stamps:
            if stamp is None:
                continue
            emitted = True
            yield Event(stamp, desc, f"{label}: {desc.lower()}", dict(data), user=self.user)
        if not emitted:
            yield Event(None, "Sync Record", f"{label}: no time recorded", data, user=self.user)

    def _cached(self, entry: _Cache | None) -> bool | None:
        """True: a cachefiles row with a caching time; False: none, or age 0 ("not yet
        cached"); None: no cachefiles table, or a row whose age is NULL."""
        if self.cache is None:
            return None
        if entry is None:
            return False
        if entry.age is None:
            return None
        return as_int(entry.age) != 0

    @staticmethod
    def _label(data: dict[str, Any]) -> str:
        kind = {True: "folder ", False: "file "}.get(data["is_folder"], "")
        where = data["path"] if data["path"] else "(the Box folder)"
        label = f"Box Drive: {kind}{where}"
        if data["cached"]:
            size = data["cached_size"]
            label += f" (cached, {size:,} bytes)" if size is not None else " (cached)"
        elif data["cached"] is False:
            label += " (not cached)"
        if data["mark_for_offline"]:
            label += " (marked for offline use)"
        return label


__all__ = ["BoxDriveStreemsFS", "node_key"]
