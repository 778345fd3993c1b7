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
import tempfile
from contextlib import contextmanager
from typing import Iterator

from triage.files import EvidenceFile
from triage.model import ArtifactError

COMPANIONS = ("-wal", "-journal")
_CHUNK = 1 << 20


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
            db.row_factory = sqlite3.Row
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ArtifactError(f"damaged SQLite database: {exc}") from None
        try:
            yield db, copied
        finally:
            db.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
