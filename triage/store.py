"""The case store: one SQLite file with events, sources, volumes, errors and case facts.

Why SQLite: embedded, one file to hash and archive, sorts on disk (a million events never sit in
memory), and every examiner's tool can open it. Events are appended to a staging table as they
are extracted, in batches; `finalize()` copies them into `events` in timeline order (time, then
event hash: a total, content-defined order, so the same evidence always gives the same rows) and
links the hash chain while doing so.

The run's staging table lives in a file of its own beside case.sqlite (`case.sqlite-staging`,
attached as `stage`), deleted once the events are in order: case.sqlite is then written once,
compactly, with no VACUUM (which rewrote the whole case: seconds per million events), and an
interrupted run still keeps what it staged. The ordered copy is one INSERT ... SELECT in SQLite,
read through an index on (ts, event_hash); the chain is linked by a Python function that SQLite
calls per row in that order, and which checks the order it is given, so an unexpected query plan
is an error, never a wrong chain.

Events are also counted per kind (family, description, extractor, artifact) as they are
staged, and finalize() writes the counts to `event_kinds`: readers that want a few kinds
(rules, analyses) learn which families to read through `events_family` without a scan of
millions of rows first (see `event_kinds` and `rows_by_family`).
"""
from __future__ import annotations

import errno
import heapq
import json
import os
import sqlite3
from collections import Counter
from operator import itemgetter
from typing import Any, Iterable, Iterator

from triage import integrity

class CaseWriteError(Exception):
    """The case folder could not be written (disk full, quota, I/O error). Never an artifact's
    fault: the run stops, and what was written stays consistent (SQLite transactions)."""


_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def is_disk_full(exc: BaseException) -> bool:
    """Whether an exception (or one it was raised from) means there is no room to write."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in _FULL_ERRNOS:
            return True
        if isinstance(current, sqlite3.Error) and "full" in str(current).lower():
            return True  # SQLITE_FULL: "database or disk is full"
        current = current.__cause__ or current.__context__
    return False


SCHEMA = """
CREATE TABLE IF NOT EXISTS case_info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS volumes (
  evidence TEXT, volume TEXT, partition TEXT, snapshot TEXT, offset INTEGER, size INTEGER,
  partition_type TEXT, fs_type TEXT, label TEXT, serial TEXT, encryption TEXT, status TEXT,
  note TEXT);
CREATE TABLE IF NOT EXISTS sources (
  id INTEGER PRIMARY KEY, evidence TEXT, volume TEXT, path TEXT, inode INTEGER, size INTEGER,
  md5 TEXT, sha1 TEXT, sha256 TEXT, artifact TEXT, extractor TEXT, status TEXT,
  events INTEGER, error TEXT);
CREATE TABLE IF NOT EXISTS errors (
  id INTEGER PRIMARY KEY, severity TEXT, stage TEXT, artifact TEXT, extractor TEXT,
  evidence TEXT, volume TEXT, path TEXT, message TEXT);
CREATE TABLE IF NOT EXISTS events (
  seq INTEGER PRIMARY KEY, ts INTEGER, timestamp TEXT, timestamp_desc TEXT, artifact TEXT,
  family TEXT, extractor TEXT, message TEXT, user TEXT, host TEXT, evidence TEXT, volume TEXT,
  path TEXT, inode INTEGER, sha256 TEXT, data TEXT, event_hash TEXT, chain_hash TEXT);
-- For the readers that want one family or a time range (report sections, exports, labs,
-- analyses): filled as finalize() inserts the ordered rows, so no extra pass over the case.
CREATE INDEX IF NOT EXISTS events_family ON events (family);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
"""

# Staged events name their file (artifact, extractor, host, provenance: what every event of
# one file shares) by a row of staging_files, joined back in when finalize() orders them: nine
# fewer values bound per event and a fifth less staging to write and read again.
STAGING_SCHEMA = """
CREATE TABLE IF NOT EXISTS {schema}.staging_files (
  id INTEGER PRIMARY KEY, artifact TEXT, family TEXT, extractor TEXT, host TEXT, evidence TEXT,
  volume TEXT, path TEXT, inode INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS {schema}.staging (
  ts INTEGER, event_hash TEXT, timestamp TEXT, timestamp_desc TEXT, message TEXT, user TEXT,
  data TEXT, file INTEGER);
"""
FILE_COLUMNS = ("artifact", "family", "extractor", "host", "evidence", "volume", "path", "inode",
                "sha256")
STAGED_COLUMNS = ("ts", "event_hash", "timestamp", "timestamp_desc", "message", "user", "data",
                  "file")
STAGING_SUFFIX = "-staging"

EVENT_COLUMNS = ("ts", "timestamp", "timestamp_desc", "artifact", "family", "extractor", "message",
                 "user", "host", "evidence", "volume", "path", "inode", "sha256", "data",
                 "event_hash")
# The columns of `events` in table order (what `SELECT *` gives): writers that stream millions
# of rows read them by position, which is several times cheaper than by name.
ROW_COLUMNS = ("seq", "ts", "timestamp", "timestamp_desc", "artifact", "family", "extractor",
               "message", "user", "host", "evidence", "volume", "path", "inode", "sha256", "data",
               "event_hash", "chain_hash")
(SEQ, TS, TIMESTAMP, TIMESTAMP_DESC, ARTIFACT, FAMILY, EXTRACTOR, MESSAGE, USER, HOST, EVIDENCE,
 VOLUME, PATH, INODE, SHA256, DATA, EVENT_HASH, CHAIN_HASH) = range(len(ROW_COLUMNS))
NO_TIME_SORT = -(2**63)  # events without a time sort first, never at an invented time
BATCH = 5000

# An event's kind: what rules are pre-selected on and what analyses pick events by. Counted as
# each batch is staged, per (file, description) in C (itemgetter, Counter), where a pass over
# a finished case costs seconds per million events.
KIND_COLUMNS = ("family", "timestamp_desc", "extractor", "artifact")
Kind = tuple[Any, Any, Any, Any]
_FILE_AND_DESC = itemgetter(STAGED_COLUMNS.index("file"), STAGED_COLUMNS.index("timestamp_desc"))
# `event_kinds` in a finished case; `staged_kinds` in a worker's chunk (read by merge()).
KINDS_TABLE = ("CREATE TABLE IF NOT EXISTS {table} (family TEXT, timestamp_desc TEXT, "
               "extractor TEXT, artifact TEXT, events INTEGER)")


def file_values(artifact: str, family: str, extractor: str, host: str | None,
                source: dict[str, Any]) -> tuple[Any, ...]:
    """The values of a staging_files row (FILE_COLUMNS): what every event of one file shares."""
    return (artifact, family, extractor, host, source["evidence"], source["volume"],
            source["path"], source["inode"], source["sha256"])


def file_of(record: dict[str, Any]) -> tuple[Any, ...]:
    """file_values of an event's record."""
    return file_values(record["artifact"], record["family"], record["extractor"],
                       record["host"], record["source"])


def record_to_row(record: dict[str, Any], ts: int | None) -> tuple[Any, ...]:
    """A record's values for the `events` table (EVENT_COLUMNS), for code that writes finished
    events directly (tests); staged events go through CaseStore.add_event."""
    src = record["source"]
    return (NO_TIME_SORT if ts is None else ts, record["timestamp"], record["timestamp_desc"],
            record["artifact"], record["family"], record["extractor"], record["message"],
            record["user"], record["host"], src["evidence"], src["volume"], src["path"],
            src["inode"], src["sha256"],
            record.get("data_json") or integrity.canonical(record["data"]), record["event_hash"])


def row_to_record(row: sqlite3.Row) -> dict[str, Any]:
    """The exported event (the JSONL contract) from a stored row."""
    return {
        "timestamp": row["timestamp"],
        "timestamp_desc": row["timestamp_desc"],
        "artifact": row["artifact"],
        "family": row["family"],
        "extractor": row["extractor"],
        "message": row["message"],
        "user": row["user"],
        "host": row["host"],
        "source": {"evidence": row["evidence"], "volume": row["volume"], "path": row["path"],
                   "inode": row["inode"], "sha256": row["sha256"]},
        "data": json.loads(row["data"]),
        "event_hash": row["event_hash"],
    }


class _Chain:
    """The hash chain, linked row by row as SQLite hands the ordered events over."""

    def __init__(self) -> None:
        self.link = integrity.CHAIN_SEED
        self.count = 0
        self.last: tuple[int, str] | None = None
        self.error: str | None = None

    def step(self, ts: int, event_hash: str) -> str:
        key = (ts, event_hash)
        if self.last is not None and key < self.last:
            self.error = f"events reached the chain out of timeline order at row {self.count + 1}"
            raise ValueError(self.error)
        self.last = key
        self.count += 1
        self.link = integrity.chain_next(self.link, event_hash)
        return self.link


class CaseStore:
    """Write side of case.sqlite during a run.

    `stage_apart`: stage events in `<path>-staging` (the run's case) rather than in `path`
    itself (a worker's temporary chunk, which is merged and deleted anyway)."""

    def __init__(self, path: str, stage_apart: bool = True):
        self.path = path
        self.db = sqlite3.connect(path)
        self.db.row_factory = sqlite3.Row
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.executescript(SCHEMA)
        self.staging_path: str | None = None
        schema = "main"
        if stage_apart:
            self.staging_path = path + STAGING_SUFFIX
            self.db.execute("ATTACH DATABASE ? AS stage", (self.staging_path,))
            self.db.execute("PRAGMA stage.journal_mode=OFF")
            self.db.execute("PRAGMA stage.synchronous=OFF")
            schema = "stage"
        self.db.executescript(STAGING_SCHEMA.format(schema=schema))
        self._staging = f"{schema}.staging"
        self._schema = schema
        self._pending: list[tuple[Any, ...]] = []
        self._files: dict[tuple[Any, ...], int] = {}  # FILE_COLUMNS values -> staging_files id
        self._file_kinds: dict[int, tuple[Any, Any, Any]] = {}  # id -> family, extractor, artifact
        self.staged = 0
        self.kinds: Counter[Kind] = Counter()  # staged events per kind (merged chunks too)
        self._chunk = not stage_apart
        self._finalized = False

    def set_info(self, key: str, value: Any) -> None:
        self.db.execute("INSERT OR REPLACE INTO case_info VALUES (?, ?)",
                        (key, json.dumps(value, ensure_ascii=False)))

    def add_volume(self, evidence: str, info: dict[str, Any]) -> None:
        self.db.execute(
            "INSERT INTO volumes VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (evidence, info["id"], info["partition"], info["snapshot"], info["offset"],
             info["size"], info["partition_type"], info["fs_type"], info["label"],
             info["serial"], info["encryption"], info["status"], info["note"]))

    def add_source(self, **row: Any) -> None:
        cols = ("evidence", "volume", "path", "inode", "size", "md5", "sha1", "sha256",
                "artifact", "extractor", "status", "events", "error")
        self.db.execute(f"INSERT INTO sources ({','.join(cols)}) VALUES ({','.join('?' * len(cols))})",
                        tuple(row.get(c) for c in cols))

    def add_error(self, severity: str, stage: str, message: str, artifact: str | None = None,
                  extractor: str | None = None, evidence: str | None = None,
                  volume: str | None = None, path: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO errors (severity, stage, artifact, extractor, evidence, volume, path, "
            "message) VALUES (?,?,?,?,?,?,?,?)",
            (severity, stage, artifact, extractor, evidence, volume, path, message))

    def file_id(self, values: tuple[Any, ...]) -> int:
        """The staging_files row of one file's shared event values (file_of), added once."""
        found = self._files.get(values)
        if found is None:
            found = self.db.execute(
                f"INSERT INTO {self._schema}.staging_files ({','.join(FILE_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(FILE_COLUMNS))})", values).lastrowid
            self._files[values] = found
            self._file_kinds[found] = (values[1], values[2], values[0])
        return found

    def add_event(self, record: dict[str, Any], ts: int | None, file: int | None = None) -> None:
        """Stage one event; `file`: its file_id, when the caller has it (else looked up)."""
        if file is None:
            file = self.file_id(file_of(record))
        self._pending.append((NO_TIME_SORT if ts is None else ts, record["event_hash"],
                              record["timestamp"], record["timestamp_desc"], record["message"],
                              record["user"],
                              record.get("data_json") or integrity.canonical(record["data"]),
                              file))
        if len(self._pending) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self.db.executemany(
                f"INSERT INTO {self._staging} ({','.join(STAGED_COLUMNS)}) "
                f"VALUES ({','.join('?' * len(STAGED_COLUMNS))})", self._pending)
            self.staged += len(self._pending)
            for (file, desc), events in Counter(map(_FILE_AND_DESC, self._pending)).items():
                family, extractor, artifact = self._file_kinds[file]  # once stored, not before
                self.kinds[family, desc, extractor, artifact] += events
            self._pending.clear()

    def merge(self, other_path: str) -> None:
        """Append another store's staged events, sources and errors (a worker's chunk), in its
        own insertion order."""
        self.flush()
        self.db.commit()
        self.db.execute("ATTACH DATABASE ? AS chunk", (other_path,))
        try:
            # the chunk's files get ids after this store's, its events follow them
            base = self.db.execute(f"SELECT coalesce(max(id), 0) FROM {self._schema}."
                                   "staging_files").fetchone()[0]
            files = ",".join(FILE_COLUMNS)
            self.db.execute(f"INSERT INTO {self._schema}.staging_files (id, {files}) "
                            f"SELECT id + ?, {files} FROM chunk.staging_files", (base,))
            cols = ",".join(STAGED_COLUMNS[:-1])
            self.db.execute(f"INSERT INTO {self._staging} ({cols}, file) "
                            f"SELECT {cols}, file + ? FROM chunk.staging ORDER BY rowid", (base,))
            self.staged += self.db.execute("SELECT count(*) FROM chunk.staging").fetchone()[0]
            if self.db.execute("SELECT 1 FROM chunk.sqlite_master "
                               "WHERE name = 'staged_kinds'").fetchone():
                kinds = f"SELECT {','.join(KIND_COLUMNS)}, events FROM chunk.staged_kinds"
            else:  # a chunk closed without its counts: counted here, one pass over it
                kinds = ("SELECT f.family, s.timestamp_desc, f.extractor, f.artifact, count(*) "
                         "FROM chunk.staging s JOIN chunk.staging_files f ON f.id = s.file "
                         "GROUP BY 1, 2, 3, 4")
            for *kind, events in self.db.execute(kinds):
                self.kinds[tuple(kind)] += events
            source_cols = ("evidence, volume, path, inode, size, md5, sha1, sha256, artifact, "
                           "extractor, status, events, error")
            self.db.execute(f"INSERT INTO sources ({source_cols}) SELECT {source_cols} "
                            "FROM chunk.sources ORDER BY id")
            error_cols = "severity, stage, artifact, extractor, evidence, volume, path, message"
            self.db.execute(f"INSERT INTO errors ({error_cols}) SELECT {error_cols} "
                            "FROM chunk.errors ORDER BY id")
            self.db.commit()
        finally:
            self.db.execute("DETACH DATABASE chunk")

    def finalize(self) -> tuple[int, str]:
        """Move staged events into timeline order with the chain; returns (count, chain head)."""
        self.flush()
        self.db.commit()
        schema = self._schema
        # The ordered copy reads the staged rows in time order, which is not the order they
        # were written in: a 128 MiB page cache for the staging file (SQLite's default is
        # 2 MiB) turns most of those reads into cache hits (bench-100k's $MFT timeline, 213,000
        # events: 3.3 -> 2.4 s). Freed with the staging file.
        self.db.execute(f"PRAGMA {schema}.cache_size=-131072")
        self.db.execute(f"CREATE INDEX {schema}.staging_order ON staging (ts, event_hash)")
        chain = _Chain()
        self.db.create_function("triage_chain", 2, chain.step)
        cols = ",".join(EVENT_COLUMNS)
        picked = ",".join(f"f.{c}" if c in FILE_COLUMNS else f"s.{c}" for c in EVENT_COLUMNS)
        try:  # (each staged row in time order, its file's row by its id)
            self.db.execute(
                f"INSERT INTO main.events (seq, {cols}, chain_hash) "
                f"SELECT NULL, {picked}, triage_chain(s.ts, s.event_hash) "
                f"FROM {self._staging} s INDEXED BY staging_order "
                f"JOIN {schema}.staging_files f ON f.id = s.file ORDER BY s.ts, s.event_hash")
        except sqlite3.Error as exc:
            if chain.error:
                raise RuntimeError(f"timeline order: {chain.error}") from exc
            raise
        finally:
            self.db.create_function("triage_chain", 2, None)
        rows, last = self.db.execute("SELECT count(*), max(seq) FROM main.events").fetchone()
        if rows != chain.count or (rows and last != rows):  # every row linked once, seq 1..N
            raise RuntimeError(f"timeline order: {rows} events stored, {chain.count} linked")
        counted = sum(self.kinds.values())
        if counted != chain.count:  # readers trust event_kinds to name every event's kind
            raise RuntimeError(f"event kinds: {counted} events counted, {chain.count} ordered")
        self._write_kinds("main.event_kinds")
        self.db.commit()
        self._finalized = True
        self._drop_staging()
        return chain.count, chain.link

    def _drop_staging(self) -> None:
        if self.staging_path is None:  # a worker's chunk store (merged, never published)
            self.db.execute("DROP TABLE main.staging")
            self.db.execute("DROP TABLE main.staging_files")
            self.db.commit()
            return
        self.db.execute("DETACH DATABASE stage")
        os.remove(self.staging_path)
        self.staging_path = None

    def _write_kinds(self, table: str) -> None:
        """The kind counts as a table, in a fixed order (the same case from any number of
        workers)."""
        self.db.execute(KINDS_TABLE.format(table=table))
        self.db.execute(f"DELETE FROM {table}")
        self.db.executemany(f"INSERT INTO {table} VALUES (?,?,?,?,?)",
                            sorted(((*kind, events) for kind, events in self.kinds.items()),
                                   key=lambda row: [(v is not None, v) for v in row[:4]]))

    def commit(self) -> None:
        self.db.commit()

    def close(self) -> None:
        if self._chunk and not self._finalized:  # merge() reads them instead of the rows
            self._write_kinds("main.staged_kinds")
        self.db.commit()
        self.db.close()


def open_readonly(path: str) -> sqlite3.Connection:
    """Open a finished case without ever writing to it (immutable: no journal, no locks)."""
    db = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    db.row_factory = sqlite3.Row
    return db


def event_kinds(db: sqlite3.Connection) -> list[tuple[Any, Any, Any, Any, int]]:
    """(family, timestamp_desc, extractor, artifact, events) for every kind of event in the
    case, sorted: from `event_kinds` (written by finalize), or, in a case written before that
    table existed, counted with one pass over the events."""
    if db.execute("SELECT 1 FROM main.sqlite_master WHERE type = 'table' "
                  "AND name = 'event_kinds'").fetchone():
        sql = "SELECT family, timestamp_desc, extractor, artifact, events FROM main.event_kinds"
    else:
        sql = (f"SELECT {', '.join(KIND_COLUMNS)}, count(*) FROM main.events "
               "GROUP BY 1, 2, 3, 4")
    return [tuple(row) for row in db.execute(sql + " ORDER BY 1, 2, 3, 4")]


def rows_by_family(db: sqlite3.Connection, families: Iterable[Any], columns: str,
                   where: str = "1", params: tuple[Any, ...] = ()) -> Iterator[Any]:
    """`SELECT columns FROM events e WHERE (where)` for the events of `families` only, in seq
    order (`columns` must start with seq).

    One query per family, merged here: each reads its family through `events_family`, whose
    entries for one family are in seq order, so no other family is read and nothing is sorted
    (with `family IN (...)` SQLite reads through the index too, then puts every row back in
    order in a temporary B-tree). Where the families hold nearly every event, this costs about
    what one pass over the table costs (bench-1m's rules: 3.19 M of 3.22 M events, the same
    seconds within the noise)."""
    cursors: list[sqlite3.Cursor] = []
    try:
        for family in sorted(set(families), key=lambda f: (f is not None, f)):
            cursors.append(db.execute(f"SELECT {columns} FROM main.events e WHERE e.family IS ? "
                                      f"AND ({where}) ORDER BY e.seq", (family, *params)))
        yield from heapq.merge(*cursors, key=itemgetter(0))
    finally:  # (before a caller drops a table the statements read)
        for cursor in cursors:
            cursor.close()


def iter_events(db: sqlite3.Connection, where: str = "", params: tuple[Any, ...] = ()) -> Iterator[sqlite3.Row]:
    yield from db.execute(f"SELECT * FROM events {where} ORDER BY seq", params)
