"""SQLite artifacts are read from a private copy, with their -wal records, evidence untouched."""
from __future__ import annotations

import os
import shutil
import sqlite3

import pytest

from conftest import tree_digest
from triage.extractors._sqlite import open_sqlite_copy
from triage.files import LocalFile
from triage.model import ArtifactError


def test_uncheckpointed_wal_records_are_read_and_evidence_unchanged(tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    db = sqlite3.connect(live / "History")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")
    db.execute("CREATE TABLE urls (url TEXT)")
    db.commit()
    db.execute("INSERT INTO urls VALUES ('https://gigafile.nu/upload')")
    db.commit()
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    for name in ("History", "History-wal"):  # the seized copy, without a -shm
        shutil.copy(live / name, evidence / name)
    db.close()
    before = tree_digest(evidence)
    with open_sqlite_copy(LocalFile(str(evidence / "History"), path="/History")) as (conn, copied):
        assert copied == ["History-wal"]
        assert [r["url"] for r in conn.execute("SELECT url FROM urls")] == ["https://gigafile.nu/upload"]
    assert tree_digest(evidence) == before
    assert sorted(os.listdir(evidence)) == ["History", "History-wal"]


def test_not_sqlite_is_an_artifact_error(tmp_path):
    junk = tmp_path / "History"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        with open_sqlite_copy(LocalFile(str(junk), path="/History")):
            pass


def test_schema_with_invalid_utf8_in_sqlite_error_is_an_artifact_error(tmp_path):
    """Fuzzing regression: a damaged CREATE statement puts the file's own bytes into SQLite's
    error message, which Python's sqlite3 cannot decode (UnicodeDecodeError, not DatabaseError)."""
    from triage.extractors import ExtractionContext
    from triage.extractors.onedrive import OneDriveSyncEngine

    path = tmp_path / "SyncEngineDatabase.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE od_HydrationData "
               "(resourceID BLOB PRIMARY KEY, firstHydrationTime INTEGER)")
    db.commit()
    db.close()
    raw = path.read_bytes()
    assert raw.count(b"KEY, first") == 1
    path.write_bytes(raw.replace(b"KEY, first", b"KEY\xff\xff\xff\xffirst"))
    with pytest.raises(ArtifactError, match="malformed database schema"):
        with open_sqlite_copy(LocalFile(str(path), path="/db")):
            pass
    with pytest.raises(ArtifactError, match="damaged SQLite database"):
        list(OneDriveSyncEngine().extract(LocalFile(str(path), path="/db"), ExtractionContext()))


@pytest.mark.parametrize("page_size", [512, 65536])
def test_odd_page_sizes_triggers_and_views_are_read_not_run(tmp_path, page_size):
    """A hostile History: extreme page sizes, a trigger that would empty a table and a view
    calling functions. Only SELECTs run on a private copy: nothing fires, the evidence is
    unchanged, the rows are read."""
    from triage.extractors import ExtractionContext
    from triage.extractors.chromium import ChromiumHistory

    profile = tmp_path / "Users/alice/AppData/Local/Google/Chrome/User Data/Default"
    profile.mkdir(parents=True)
    path = profile / "History"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA page_size = {page_size}")
    db.executescript("""
        CREATE TABLE urls (id INTEGER PRIMARY KEY, url TEXT, title TEXT, visit_count INTEGER,
                           typed_count INTEGER, last_visit_time INTEGER, hidden INTEGER);
        CREATE TABLE visits (id INTEGER PRIMARY KEY, url INTEGER, visit_time INTEGER,
                             from_visit INTEGER, transition INTEGER, visit_duration INTEGER);
        INSERT INTO urls VALUES (1, 'https://drive.google.com/', 'Drive', 1, 0,
                                 13318000000000000, 0);
        INSERT INTO visits VALUES (1, 1, 13318000000000000, 0, 1, 0);
        CREATE TRIGGER wipe AFTER INSERT ON visits BEGIN DELETE FROM urls; END;
        CREATE VIEW sneaky AS SELECT load_extension('/tmp/evil.so') AS x, randomblob(1e9) AS y;
        VACUUM;
    """)
    db.close()
    before = tree_digest(tmp_path)
    ctx = ExtractionContext()
    events = list(ChromiumHistory().extract(LocalFile(str(path), path="/Users/alice/AppData/"
                                                      "Local/Google/Chrome/User Data/Default/History"),
                                            ctx))
    assert [e.data["url"] for e in events if e.data.get("url")] == ["https://drive.google.com/"]
    assert tree_digest(tmp_path) == before
