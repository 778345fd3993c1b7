"""Box Drive streemsfs.db (fsnodes + cachefiles, as named in public forensic notes), built from
scratch by fixtures/builders/box_writer.py: paths rebuilt from parent links, UTC times, the
cached flag, the user from the profile path; bad input; a run through the CLI on a folder."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, tree_digest  # noqa: E402
from fixtures.builders.box_writer import (build_streemsfs, js_ms_from_iso,  # noqa: E402
                                          posix_from_iso)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.box_drive import BoxDriveStreemsFS, node_key  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

BOX_DIR = "Users/alice/AppData/Local/Box/Box/data"
VPATH = f"/{BOX_DIR}/streemsfs.db"
p = posix_from_iso


def nodes() -> list[dict]:
    return [
        {"inodeId": 1, "parentInodeId": 0, "name": "Box",
         "folderFetchTimestamp": p("2025-04-01T00:00:00Z")},
        {"inodeId": 2, "parentInodeId": 1, "name": "顧客", "markForOffline": 1,
         "createdAtTimestamp": p("2025-03-01T09:00:00Z")},
        {"inodeId": 3, "parentInodeId": 2, "name": "顧客名簿.xlsx",
         "createdAtTimestamp": p("2025-03-02T01:00:00Z"),
         "modifiedAtTimestamp": p("2025-04-01T00:30:00Z"),
         "accessedAtTimestamp": p("2025-04-01T00:31:00Z"), "markForOffline": 0},
        {"inodeId": 4, "parentInodeId": 2, "name": "見積.pdf",
         "modifiedAtTimestamp": js_ms_from_iso("2025-02-01T10:00:00.250Z")},
        {"inodeId": 5, "parentInodeId": 99, "name": "orphan.txt"},
    ]


def cachefiles() -> list[dict]:
    return [
        {"cacheDataId": "0f1e2d3c", "inodeId": 3, "size": 40960,
         "age": p("2025-04-01T00:31:01Z")},
        {"cacheDataId": "older", "inodeId": 3, "size": 100, "age": p("2025-03-02T01:00:05Z")},
        {"cacheDataId": "pending", "inodeId": 4, "size": 0, "age": 0},
    ]


def place(root: Path, folder: str = BOX_DIR) -> Path:
    target = root.joinpath(*folder.split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / "streemsfs.db"


def _run(path: Path, vpath: str = VPATH):
    ctx = ExtractionContext()
    return list(BoxDriveStreemsFS().extract(LocalFile(str(path), path=vpath), ctx)), ctx


def _table(events) -> list[tuple]:
    return [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc, e.message)
            for e in events]


def test_box_streemsfs_nodes(tmp_path):
    db = build_streemsfs(place(tmp_path), nodes(), cachefiles())
    events, ctx = _run(db)
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["1 time value(s) too large for POSIX seconds were read as "
                         "milliseconds since 1970"]
    file_label = "Box Drive: file 顧客/顧客名簿.xlsx (cached, 40,960 bytes)"
    assert _table(events) == [
        ("2025-04-01T00:00:00Z", "Folder Fetched",
         "Box Drive: folder (the Box folder): folder fetched"),
        ("2025-03-01T09:00:00Z", "Box Created",
         "Box Drive: folder 顧客 (marked for offline use): box created"),
        ("2025-03-02T01:00:00Z", "Box Created", f"{file_label}: box created"),
        ("2025-04-01T00:30:00Z", "Box Modified", f"{file_label}: box modified"),
        ("2025-04-01T00:31:00Z", "Box Last Accessed", f"{file_label}: box last accessed"),
        ("2025-04-01T00:31:01Z", "Content Cached", f"{file_label}: content cached"),
        ("2025-02-01T10:00:00.250Z", "Box Modified",
         "Box Drive: 顧客/見積.pdf (not cached): box modified"),
        (None, "Sync Record", "Box Drive: orphan.txt (not cached): no time recorded"),
    ]
    assert events[2].data == {
        "client": "Box Drive", "inode_id": 3, "parent_inode_id": 2, "name": "顧客名簿.xlsx",
        "path": "顧客/顧客名簿.xlsx", "path_complete": True, "is_folder": False,
        "mark_for_offline": False, "cached": True, "cache_data_id": "0f1e2d3c",
        "cached_size": 40960, "created": "2025-03-02T01:00:00Z",
        "modified": "2025-04-01T00:30:00Z", "accessed": "2025-04-01T00:31:00Z",
        "folder_fetched": None, "content_cached": "2025-04-01T00:31:01Z",
    }
    assert {e.user for e in events} == {"alice"}
    root, folder, pdf, orphan = events[0].data, events[1].data, events[6].data, events[7].data
    assert (root["path"], root["is_folder"], root["cached"], root["name"]) == (
        "", True, None, "Box")
    assert (folder["is_folder"], folder["mark_for_offline"], folder["cached"]) == (True, True, None)
    assert (pdf["cached"], pdf["is_folder"], pdf["cache_data_id"], pdf["content_cached"]) == (
        False, None, "pending", None)
    assert (orphan["path"], orphan["path_complete"], orphan["cached"]) == (
        "orphan.txt", False, False)


def test_box_rows_in_the_wal_are_read(tmp_path):
    db = build_streemsfs(place(tmp_path), nodes()[:2], wal_nodes=[
        {"inodeId": 6, "parentInodeId": 2, "name": "new.docx",
         "createdAtTimestamp": p("2025-04-02T00:00:00Z")}])
    events, ctx = _run(db)
    assert (events[-1].data["path"], events[-1].timestamp.iso()) == (
        "顧客/new.docx", "2025-04-02T00:00:00Z")
    assert any("streemsfs.db-wal" in n for n in ctx.notes)


def test_box_null_and_bad_times(tmp_path):
    db = build_streemsfs(place(tmp_path), [
        {"inodeId": 1, "parentInodeId": None, "name": "Box"},
        {"inodeId": 2, "parentInodeId": 1, "name": "a.txt", "createdAtTimestamp": None,
         "modifiedAtTimestamp": "yesterday", "accessedAtTimestamp": -99_999_999_999_999}])
    events, ctx = _run(db)
    assert _table(events) == [
        (None, "Sync Record", "Box Drive: folder (the Box folder): no time recorded"),
        (None, "Sync Record", "Box Drive: a.txt (not cached): no time recorded")]
    assert ctx.warnings == [
        "fsnodes.accessedAtTimestamp: 1 value(s) not a valid time: left without a time",
        "fsnodes.modifiedAtTimestamp: 1 value(s) not a valid time: left without a time"]


def test_box_parent_cycle_is_bounded_and_warned(tmp_path):
    db = build_streemsfs(place(tmp_path), [
        {"inodeId": 10, "parentInodeId": 11, "name": "a"},
        {"inodeId": 11, "parentInodeId": 10, "name": "b"},
        {"inodeId": 12, "parentInodeId": 10, "name": "f.txt",
         "createdAtTimestamp": p("2025-01-01T00:00:00Z")},
        {"inodeId": 13, "parentInodeId": 13, "name": "self-root"}], cachefiles=[])
    events, ctx = _run(db)
    paths = {e.data["inode_id"]: (e.data["path"], e.data["path_complete"]) for e in events}
    assert paths == {10: ("b/a", False), 11: ("a/b", False), 12: ("b/a/f.txt", False),
                     13: ("", True)}
    assert ctx.warnings == ["fsnodes: the parent links of 3 node(s) loop (inodeId 10, 11, 12): "
                            "their paths stop where the loop starts"]


def test_box_missing_table_and_columns(tmp_path):
    no_cache = build_streemsfs(
        place(tmp_path, "a"), [{"inodeId": 1, "parentInodeId": 0, "name": "Box"},
                               {"inodeId": 2, "parentInodeId": 1, "name": "x.txt",
                                "createdAtTimestamp": p("2025-01-01T00:00:00Z")}],
        schema="CREATE TABLE fsnodes (inodeId INTEGER, parentInodeId INTEGER, name TEXT, "
               "createdAtTimestamp INTEGER);")
    events, ctx = _run(no_cache, "/a/streemsfs.db")
    assert [(e.data["path"], e.data["cached"], e.data["modified"]) for e in events] == [
        ("", None, None), ("x.txt", None, None)]
    assert events[1].message == "Box Drive: x.txt: box created"
    assert ctx.warnings == [
        "fsnodes has no column modifiedAtTimestamp, accessedAtTimestamp, markForOffline, "
        "folderFetchTimestamp: those fields are left empty (another Box Drive version?)",
        "no cachefiles table: whether file content is cached is unknown"]
    assert events[0].user is None  # not in a profile

    no_parent = build_streemsfs(
        place(tmp_path, "b"), [{"inodeId": "7", "name": "x.txt"}],
        schema="CREATE TABLE fsnodes (inodeId TEXT, name TEXT);\n"
               "CREATE TABLE cachefiles (cacheDataId TEXT, inodeId INTEGER);")
    events, ctx = _run(no_parent, "/b/streemsfs.db")
    assert [(e.data["inode_id"], e.data["path"], e.data["path_complete"], e.data["cached"])
            for e in events] == [(7, "x.txt", False, False)]
    assert ctx.warnings[0].startswith("fsnodes has no column parentInodeId, createdAtTimestamp")
    assert ctx.warnings[1] == ("cachefiles has no column size, age: those fields are left empty "
                               "(another Box Drive version?)")

    no_inode = build_streemsfs(place(tmp_path, "c"), [{"name": "x"}],
                               schema="CREATE TABLE fsnodes (id INTEGER, name TEXT);")
    with pytest.raises(ArtifactError, match="not a Box Drive streemsfs.db"):
        _run(no_inode, "/c/streemsfs.db")

    cache_no_inode = build_streemsfs(
        place(tmp_path, "d"), [{"inodeId": 1, "name": "x"}],
        schema="CREATE TABLE fsnodes (inodeId INTEGER, parentInodeId INTEGER, name TEXT);\n"
               "CREATE TABLE cachefiles (cacheDataId TEXT, size INTEGER);")
    events, ctx = _run(cache_no_inode, "/d/streemsfs.db")
    assert events[0].data["cached"] is None
    assert "cachefiles has no inodeId: whether file content is cached is unknown" in ctx.warnings


def test_box_not_a_streemsfs_database(tmp_path):
    other = place(tmp_path, "other")
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ArtifactError, match="no fsnodes table"):
        _run(other, "/streemsfs.db")
    junk = place(tmp_path, "junk")
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _run(junk, "/streemsfs.db")
    empty = place(tmp_path, "empty")
    empty.write_bytes(b"")
    with pytest.raises(ArtifactError):
        _run(empty, "/streemsfs.db")


def test_box_damaged_database_gives_clean_errors(tmp_path):
    rows = [{"inodeId": i, "parentInodeId": max(i - 1, 0), "name": f"n{i}-" + "x" * 200,
             "createdAtTimestamp": p("2025-01-01T00:00:00Z") + i} for i in range(1, 400)]
    good = build_streemsfs(place(tmp_path, "good"), rows, [
        {"cacheDataId": f"c{i}", "inodeId": i, "size": i, "age": p("2025-01-02T00:00:00Z")}
        for i in range(1, 400, 3)])
    data = good.read_bytes()
    assert len(data) > 16 * 4096
    partial = 0
    for n, offset in enumerate(range(4096, len(data), len(data) // 12)):
        bad = place(tmp_path, f"bad{n}")
        bad.write_bytes(data[:offset] + b"\xff" * 700 + data[offset + 700:])
        try:
            events, ctx = _run(bad, "/x/streemsfs.db")
        except ArtifactError:
            continue
        assert all(e.data["client"] == "Box Drive" for e in events)
        partial += bool(ctx.errors)  # a damaged page loses its rows, with an error row
    assert partial
    short = place(tmp_path, "short")
    short.write_bytes(data[:len(data) // 2])
    try:
        _run(short, "/x/streemsfs.db")
    except ArtifactError:
        pass


def test_node_key():
    assert [node_key(v) for v in (None, 5, "5", " 12 ", "-3", "abc", b"\x01\xff", 7.0)] == [
        None, 5, 5, 12, -3, "abc", "01ff", 7]


def test_cli_box_drive(cli, tmp_path):
    root = tmp_path / "evidence"
    (root / "Windows").mkdir(parents=True)
    build_streemsfs(place(root), nodes(), cachefiles())
    # the definition matches case-insensitively, as Windows does
    build_streemsfs(place(root, "Users/bob/AppData/Local/BOX/Box/data"),
                    [{"inodeId": 1, "parentInodeId": 0, "name": "Box"},
                     {"inodeId": 2, "parentInodeId": 1, "name": "b.txt",
                      "createdAtTimestamp": p("2025-05-01T00:00:00Z")}])
    before = tree_digest(root)
    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json", "--only", "cloud")
    summary = json.loads(result.output)
    assert tree_digest(root) == before
    assert {k: v for k, v in summary["per_artifact"].items() if v} == {"BoxDriveStreemsFS": 10}
    assert (summary["errors"], summary["warnings"]) == (0, 0)
    events = read_jsonl(case)
    assert {(e["family"], e["extractor"], e["artifact"]) for e in events} == {
        ("cloud", "box_drive_streemsfs", "BoxDriveStreemsFS")}
    by_user = {(e["user"], e["data"]["path"], e["timestamp_desc"]) for e in events}
    assert ("alice", "顧客/顧客名簿.xlsx", "Content Cached") in by_user
    assert ("bob", "b.txt", "Box Created") in by_user
    cached = [e for e in events if e["timestamp_desc"] == "Content Cached"]
    assert [e["timestamp"] for e in cached] == ["2025-04-01T00:31:01Z"]
