"""Open an SQLite artifact (browser history, activity databases) safely, never in place.

Why a copy: opening a database in place may write to it (a -shm file, a WAL checkpoint, a
journal rollback), and the evidence must never change; and the `-wal` / `-journal` files beside
it hold records not yet written to the main file, which an examiner needs. So the main file and
those companions are copied to a private temporary folder and only the copy is opened, letting
SQLite read the WAL (or roll back an interrupted write) as it would on the live system. Sizes
are bounded by the engine's --max-file-size.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import tempfile
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from triage.extractors import ExtractionContext
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp

COMPANIONS = ("-wal", "-journal")
_CHUNK = 1 << 20
# Python's sqlite3 decodes SQLite's error messages as UTF-8, and a damaged schema puts the
# database's own bytes into the message ('malformed database schema (x\xff...)'): opening such
# a file raises UnicodeDecodeError, not DatabaseError.
OPEN_ERRORS = (sqlite3.DatabaseError, UnicodeDecodeError)


def error_text(exc: BaseException) -> str:
    """SQLite's message, also when Python could not decode it (see OPEN_ERRORS)."""
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        return exc.object.decode("utf-8", "replace")
    return str(exc)


def _copy(f: EvidenceFile, target: str) -> None:
    with f.open() as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


@contextmanager
def open_sqlite_copy(f: EvidenceFile) -> Iterator[tuple[sqlite3.Connection, list[str]]]:
    """Yield (connection, companions copied) for a private read-only copy of `f`.

    Raises ArtifactError when the file is not an SQLite database or is damaged beyond opening.
    """
    folder = tempfile.mkdtemp(prefix="triage-sqlite-")
    try:
        main = os.path.join(folder, "db")
        _copy(f, main)
        with open(main, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise ArtifactError("not an SQLite 3 database")
        copied = []
        for suffix in COMPANIONS:
            companion = f.sibling(f.name + suffix)
            if companion is not None and companion.size > 0:
                _copy(companion, main + suffix)
                copied.append(companion.name)
        try:
            # The private copy is opened read-write so SQLite can do what it would on the live
            # system: apply the WAL, or roll back a hot journal left by an interrupted write
            # (read-only, it refuses such a file). The evidence itself is never opened.
            db = sqlite3.connect(f"file:{main}?mode=rw", uri=True)
            # Hostile schemas: functions named in views and triggers of the evidence's schema
            # may not run with side effects (SQLite 3.31+); extensions are never enabled.
            db.execute("PRAGMA trusted_schema = OFF")
            db.row_factory = sqlite3.Row
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except OPEN_ERRORS as exc:
            raise ArtifactError(f"damaged SQLite database: {error_text(exc)}") from None
        try:
            yield db, copied
        finally:
            db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ---------------------------------------------------------------- helpers shared by the SQLite
# extractors (browsers, activity, mail and cloud-sync databases)

WEBKIT_EPOCH_DELTA_US = 11_644_473_600_000_000  # microseconds from 1601-01-01 to 1970-01-01
_MIN_NS = -11_644_473_600 * 1_000_000_000  # 1601-01-01T00:00:00Z
_MAX_NS = 253_402_300_799 * 1_000_000_000  # 9999-12-31T23:59:59Z


def sqlite_text(raw: bytes) -> str:
    """Text columns as str: invalid UTF-8 kept visible (surrogate escapes), never an error."""
    return raw.decode("utf-8", "surrogateescape")


def schema(db: sqlite3.Connection) -> dict[str, list[str]]:
    """{table name (lower case): [column names (lower case)]} for every table."""
    tables: dict[str, list[str]] = {}
    names = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in names:
        if not isinstance(name, str):
            continue
        quoted = '"' + name.replace('"', '""') + '"'
        info = db.execute(f"PRAGMA table_info({quoted})")
        tables[name.lower()] = [str(row[1]).lower() for row in info]
    return tables


def column(tables: dict[str, list[str]], alias: str, table: str, name: str,
           label: str | None = None) -> str:
    """`alias.name AS label` when the column exists, else `NULL AS label`."""
    label = label or name
    if name.lower() in tables.get(table, []):
        return f'{alias}."{name}" AS "{label}"'
    return f'NULL AS "{label}"'


def as_int(value: Any) -> int | None:
    """An integer column value, or None when it is NULL or not an integer."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    return str(value)


class TimeReader:
    """Converts raw time values and counts the ones that cannot be times (one warning each)."""

    def __init__(self) -> None:
        self.bad: dict[str, int] = {}

    def _check(self, field: str, value: Any) -> int | None:
        if value is None:
            return None
        number = as_int(value)
        if number is None:
            self.bad[field] = self.bad.get(field, 0) + 1
            return None
        return number

    def _keep(self, field: str, ts: Timestamp) -> Timestamp | None:
        if _MIN_NS <= ts.ns <= _MAX_NS:
            return ts
        self.bad[field] = self.bad.get(field, 0) + 1
        return None

    def webkit(self, field: str, value: Any) -> Timestamp | None:
        """Microseconds since 1601-01-01 UTC; 0 = not set."""
        number = self._check(field, value)
        if not number:
            return None
        if number < 0:
            self.bad[field] = self.bad.get(field, 0) + 1
            return None
        return self._keep(field, Timestamp((number - WEBKIT_EPOCH_DELTA_US) * 1000, 6))

    def micros(self, field: str, value: Any) -> Timestamp | None:
        """Microseconds since 1970-01-01 UTC (Mozilla PRTime); 0 = not set."""
        number = self._check(field, value)
        if not number:
            return None
        return self._keep(field, Timestamp(number * 1000, 6))

    def millis(self, field: str, value: Any) -> Timestamp | None:
        """Milliseconds since 1970-01-01 UTC (JavaScript time); 0 = not set."""
        number = self._check(field, value)
        if not number:
            return None
        return self._keep(field, Timestamp(number * 1_000_000, 3))

    def seconds(self, field: str, value: Any) -> Timestamp | None:
        """POSIX seconds (time_t), UTC; 0 = not set."""
        number = self._check(field, value)
        if not number:
            return None
        return self._keep(field, Timestamp(number * 1_000_000_000, 0))

    def report(self, ctx: ExtractionContext) -> None:
        for field, count in sorted(self.bad.items()):
            ctx.warn(f"{field}: {count} value(s) not a valid time: left without a time")


def iso(ts: Timestamp | None) -> str | None:
    return ts.iso() if ts else None


def run_section(ctx: ExtractionContext, what: str,
                produce: Callable[[], Iterator[Event]]) -> Iterator[Event]:
    """Yield a section's events; a damaged table loses that section only (an error row)."""
    try:
        yield from produce()
    except sqlite3.DatabaseError as exc:
        ctx.error(f"{what}: could not be read completely ({exc}); the other records are kept")


@contextmanager
def open_artifact_db(f: EvidenceFile, ctx: ExtractionContext) -> Iterator[tuple[sqlite3.Connection, dict[str, list[str]]]]:
    """(connection, schema) of an SQLite artifact: a private copy with its -wal/-journal
    (noted in the case), text never failing on bad UTF-8, a damaged WAL warned about."""
    with open_sqlite_copy(f) as (db, copied):
        db.text_factory = sqlite_text
        note_companions(ctx, copied)
        check_wal(f, ctx)
        try:
            tables = schema(db)
        except OPEN_ERRORS as exc:
            raise ArtifactError(f"damaged SQLite database: {error_text(exc)}") from None
        yield db, tables


def note_companions(ctx: ExtractionContext, copied: list[str]) -> None:
    if copied:
        ctx.note(f"read together with {', '.join(copied)} (records not yet checkpointed included)")


_WAL_MAGIC = {0x377F0682: "<", 0x377F0683: ">"}  # checksum words little- / big-endian
_WAL_CHECK_LIMIT = 256 * 1024 * 1024


def _wal_checksum(data: bytes, order: str, s0: int, s1: int) -> tuple[int, int]:
    for x0, x1 in struct.iter_unpack(order + "II", data):
        s0 = (s0 + x0 + s1) & 0xFFFFFFFF
        s1 = (s1 + x1 + s0) & 0xFFFFFFFF
    return s0, s1


def wal_damage(data: bytes) -> str | None:
    """Why SQLite will not use all of a -wal file's frames, or None when every frame is valid.

    The write-ahead log format (sqlite.org "Database File Format", section 4): a 32-byte header
    (magic, version, page size, checkpoint sequence, two salts, a checksum of the first 24
    bytes), then frames of a 24-byte header (page number, database size after commit or 0,
    the two salts, a cumulative checksum) and one page. SQLite silently stops at the first frame
    whose salts or checksum do not match and ignores every frame after the last valid commit
    frame; this tells the examiner that it happened.
    """
    if len(data) < 32:
        return f"truncated ({len(data)} bytes; its header alone is 32): all of it is ignored"
    magic, _version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", data[:32])
    order = _WAL_MAGIC.get(magic)
    if order is None:
        return "no write-ahead log signature: all of it is ignored"
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        if page_size != 1:  # 1 encodes 65536
            return f"invalid page size {page_size} in its header: all of it is ignored"
        page_size = 65536
    s0, s1 = _wal_checksum(data[:24], order, 0, 0)
    if (s0, s1) != (c0, c1):
        return "its header checksum does not match: all of it is ignored"
    frame_size = 24 + page_size
    offset, valid, committed, bad_frame = 32, 0, 0, None
    while offset + frame_size <= len(data):
        page, commit, fs1, fs2, f0, f1 = struct.unpack(">6I", data[offset:offset + 24])
        if (fs1, fs2) != (salt1, salt2):
            break  # a frame left over from an earlier checkpoint cycle: normal, not damage
        s0, s1 = _wal_checksum(data[offset:offset + 8], order, s0, s1)
        s0, s1 = _wal_checksum(data[offset + 24:offset + frame_size], order, s0, s1)
        if (s0, s1) != (f0, f1) or page == 0:
            bad_frame = valid + 1
            break
        valid += 1
        if commit:
            committed = valid
        offset += frame_size
    problems = []
    if bad_frame is not None:
        rest = (len(data) - 32) // frame_size - valid
        problems.append(f"frame {bad_frame} fails its checksum ({rest} frame(s) from there on)")
    if valid > committed:
        problems.append(f"{valid - committed} frame(s) after the last commit "
                        "(an unfinished transaction)")
    partial = (len(data) - 32) % frame_size
    if partial:
        problems.append(f"a partial frame of {partial} bytes at the end")
    if not problems:
        return None
    return ("damaged or incomplete: " + "; ".join(problems)
            + f"; only the records of its first {committed} frame(s) are read")


def check_wal(f: EvidenceFile, ctx: ExtractionContext) -> None:
    """Warn when the -wal beside `f` holds frames SQLite will not apply."""
    companion = f.sibling(f.name + "-wal")
    if companion is None or companion.size == 0:
        return
    if companion.size > _WAL_CHECK_LIMIT:
        ctx.note(f"{companion.name} is over {_WAL_CHECK_LIMIT} bytes: its frames were not verified")
        return
    try:
        data = companion.read()
    except OSError as exc:
        ctx.warn(f"{companion.name}: cannot be read to verify it: {exc}")
        return
    problem = wal_damage(data)
    if problem:
        ctx.warn(f"{companion.name}: {problem}")
