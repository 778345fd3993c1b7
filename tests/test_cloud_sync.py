"""Cloud sync clients: OneDrive SyncEngineDatabase.db, Dropbox sync_history.db and Google Drive
for desktop metadata_sqlite_db, built with the schemas known from public write-ups; bad input;
a run through the CLI on a system-drive-like folder."""
from __future__ import annotations

import base64
import json
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, tree_digest  # noqa: E402
from fixtures.builders.mail_writer import (build_drivefs, build_dropbox,  # noqa: E402
                                           build_onedrive, js_ms_from_iso, onedrive_id,
                                           posix_from_iso)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.dropbox import DropboxSyncHistory  # noqa: E402
from triage.extractors.google_drive import GoogleDriveFS  # noqa: E402
from triage.extractors.onedrive import OneDriveSyncEngine, resource_id  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

ONEDRIVE_DIR = "Users/alice/AppData/Local/Microsoft/OneDrive/settings/Business1"
DROPBOX_DIR = "Users/alice/AppData/Local/Dropbox/instance1"
DRIVEFS_DIR = "Users/alice/AppData/Local/Google/DriveFS/104857600123456789012"

ROOT_ID = "A1B2C3D4E5F60718293A4B5C6D7E8F90"
DOCS_ID = "11111111111111111111111111111111"
CUST_ID = "22222222222222222222222222222222"
FILE1_ID = "33333333333333333333333333333333"
FILE2_ID = "44444444444444444444444444444444"
SHA1 = bytes.fromhex("a9993e364706816aba3e25717850c26c9cd0d89d")
QUICKXOR = bytes(range(20))
p = posix_from_iso


def onedrive_rows() -> dict:
    return {
        "od_ScopeInfo_Records": [{"scopeID": ROOT_ID, "remotePath": "/personal/alice"}],
        "od_ClientFolder_Records": [
            {"parentScopeID": ROOT_ID, "parentResourceID": onedrive_id(ROOT_ID),
             "resourceID": onedrive_id(DOCS_ID, 5), "folderName": "Documents"},
            {"parentScopeID": ROOT_ID, "parentResourceID": onedrive_id(DOCS_ID, 5),
             "resourceID": onedrive_id(CUST_ID), "folderName": "顧客"},
        ],
        "od_ClientFile_Records": [
            {"parentResourceID": onedrive_id(CUST_ID), "resourceID": onedrive_id(FILE1_ID, 7),
             "eTag": "\"{33333333-3333-3333-3333-333333333333},4\"", "fileName": "顧客名簿.xlsx",
             "fileStatus": 2, "volumeID": 1234, "itemIndex": 5678,
             "lastChange": p("2025-04-01T00:20:00Z"), "size": 40960,
             "diskCreationTime": p("2025-03-31T23:00:00Z"),
             "diskLastAccessTime": p("2025-04-01T00:19:59Z"), "localHashDigest": SHA1,
             "localHashAlgorithm": 4, "sharedItem": 0},
            {"parentResourceID": onedrive_id("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),
             "resourceID": onedrive_id(FILE2_ID), "fileName": "cloud-only.pdf", "fileStatus": 9,
             "lastChange": 0, "size": 100, "localHashDigest": QUICKXOR,
             "localHashAlgorithm": 5, "sharedItem": 1},
        ],
        "od_HydrationData": [{"resourceID": onedrive_id(FILE1_ID, 7),
                              "firstHydrationTime": p("2025-04-01T00:05:00Z"),
                              "lastHydrationTime": p("2025-04-01T00:18:00Z"),
                              "hydrationCount": 3, "lastHydrationType": "UserInitiated"}],
    }


def _run(extractor, path: Path, vpath: str):
    ctx = ExtractionContext()
    return list(extractor.extract(LocalFile(str(path), path=vpath), ctx)), ctx


def place(root: Path, folder: str, name: str) -> Path:
    target = root.joinpath(*folder.split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / name


# ---------------------------------------------------------------- OneDrive


def test_onedrive_sync_engine(tmp_path):
    db = build_onedrive(place(tmp_path, ONEDRIVE_DIR, "SyncEngineDatabase.db"), onedrive_rows())
    events, ctx = _run(OneDriveSyncEngine(), db, f"/{ONEDRIVE_DIR}/SyncEngineDatabase.db")
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc) for e in events] == [
        ("2025-04-01T00:20:00Z", "Last Change"), ("2025-03-31T23:00:00Z", "Disk Created"),
        ("2025-04-01T00:19:59Z", "Disk Last Accessed"), ("2025-04-01T00:05:00Z", "First Hydrated"),
        ("2025-04-01T00:18:00Z", "Last Hydrated"), (None, "Sync Record")]
    assert events[0].message == ("OneDrive (Business1): Documents/顧客/顧客名簿.xlsx "
                                 "(40,960 bytes): last change")
    assert events[0].data == {
        "client": "OneDrive", "account": "Business1", "schema_version": 33,
        "resource_id": f"{FILE1_ID}+7", "parent_resource_id": CUST_ID,
        "file_name": "顧客名簿.xlsx", "path": "Documents/顧客/顧客名簿.xlsx", "size": 40960,
        "file_status": 2, "e_tag": "\"{33333333-3333-3333-3333-333333333333},4\"",
        "volume_id": 1234, "item_index": 5678, "shared_item": False, "hash_algorithm": "sha1",
        "hash": SHA1.hex(), "last_change": "2025-04-01T00:20:00Z",
        "disk_created": "2025-03-31T23:00:00Z", "disk_last_accessed": "2025-04-01T00:19:59Z",
        "first_hydrated": "2025-04-01T00:05:00Z", "last_hydrated": "2025-04-01T00:18:00Z",
        "hydration_count": 3, "last_hydration_type": "UserInitiated",
    }
    cloud = events[5]
    assert cloud.message == "OneDrive (Business1): cloud-only.pdf (100 bytes): no time recorded"
    assert (cloud.data["path"], cloud.data["hash_algorithm"], cloud.data["hash"]) == (
        "cloud-only.pdf", "quickxor", base64.b64encode(QUICKXOR).decode())
    assert cloud.data["shared_item"] is True and cloud.data["hydration_count"] is None


def test_onedrive_old_schema_and_bad_input(tmp_path):
    old = place(tmp_path, "old", "SyncEngineDatabase.db")
    db = sqlite3.connect(old)
    db.execute("CREATE TABLE od_ClientFile_Records (resourceID TEXT, parentResourceID TEXT, "
               "fileName TEXT, lastChange INTEGER, size INTEGER)")
    db.execute("INSERT INTO od_ClientFile_Records VALUES ('r1', 'p1', 'a.txt', 1700000000, 5)")
    db.commit()
    db.close()
    events, ctx = _run(OneDriveSyncEngine(), old, "/x/settings/Personal/SyncEngineDatabase.db")
    assert [(e.timestamp.iso(), e.data["path"], e.data["schema_version"], e.data["disk_created"])
            for e in events] == [("2023-11-14T22:13:20Z", "a.txt", None, None)]
    assert events[0].data["account"] == "Personal" and ctx.errors == [] and ctx.warnings == []
    other = place(tmp_path, "other", "SyncEngineDatabase.db")
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(ArtifactError, match="not a OneDrive SyncEngineDatabase"):
        _run(OneDriveSyncEngine(), other, "/SyncEngineDatabase.db")
    junk = place(tmp_path, "junk", "SyncEngineDatabase.db")
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _run(OneDriveSyncEngine(), junk, "/SyncEngineDatabase.db")
    assert resource_id(b"\xff\xfe") == "fffe" and resource_id(None) is None
    assert resource_id(onedrive_id(ROOT_ID)) == ROOT_ID and resource_id("abc") == "abc"


def test_onedrive_folder_loop_is_bounded(tmp_path):
    rows = {"od_ClientFolder_Records": [
        {"parentResourceID": onedrive_id(CUST_ID), "resourceID": onedrive_id(DOCS_ID),
         "folderName": "a"},
        {"parentResourceID": onedrive_id(DOCS_ID), "resourceID": onedrive_id(CUST_ID),
         "folderName": "b"}],
        "od_ClientFile_Records": [{"parentResourceID": onedrive_id(DOCS_ID),
                                   "resourceID": onedrive_id(FILE1_ID), "fileName": "f",
                                   "lastChange": p("2025-01-01T00:00:00Z")}]}
    db = build_onedrive(place(tmp_path, "loop", "SyncEngineDatabase.db"), rows)
    events, _ = _run(OneDriveSyncEngine(), db, "/loop/SyncEngineDatabase.db")
    assert [e.data["path"] for e in events] == ["b/a/f"]


# ---------------------------------------------------------------- Dropbox


def test_dropbox_sync_history(tmp_path):
    db = build_dropbox(place(tmp_path, DROPBOX_DIR, "sync_history.db"), [
        {"event_type": "file", "file_event_type": "add", "direction": "upload",
         "file_id": "id:AAAAAAAAAAAAAAAAAAAAAQ",
         "local_path": "C:\\Users\\alice\\Dropbox\\顧客名簿.xlsx",
         "timestamp": p("2025-04-01T00:30:00Z"), "other_user": 0},
        {"event_type": "file", "file_event_type": "delete", "direction": "download",
         "file_id": "id:BB", "local_path": "C:\\Users\\alice\\Dropbox\\old.txt",
         "timestamp": p("2025-04-02T00:00:00Z"), "other_user": 1},
        {"event_type": "file", "file_event_type": "edit", "direction": None, "file_id": None,
         "local_path": None, "timestamp": 0},
    ])
    events, ctx = _run(DropboxSyncHistory(), db, f"/{DROPBOX_DIR}/sync_history.db")
    assert ctx.errors == [] and ctx.warnings == []
    assert [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc, e.message)
            for e in events] == [
        ("2025-04-01T00:30:00Z", "File Uploaded",
         "Dropbox: C:\\Users\\alice\\Dropbox\\顧客名簿.xlsx added, uploaded"),
        ("2025-04-02T00:00:00Z", "File Downloaded",
         "Dropbox: C:\\Users\\alice\\Dropbox\\old.txt deleted, downloaded"),
        (None, "Sync Event", "Dropbox: (no path) edited, direction unknown"),
    ]
    assert events[0].data == {
        "client": "Dropbox", "instance": "instance1", "event_type": "file",
        "file_event_type": "add", "direction": "upload", "file_id": "id:AAAAAAAAAAAAAAAAAAAAAQ",
        "local_path": "C:\\Users\\alice\\Dropbox\\顧客名簿.xlsx", "other_user": False}
    assert events[1].data["other_user"] is True


def test_dropbox_bad_input(tmp_path):
    other = place(tmp_path, "x", "sync_history.db")
    sqlite3.connect(other).execute("CREATE TABLE sync_history (a)").connection.close()
    with pytest.raises(ArtifactError, match="not a Dropbox sync_history database"):
        _run(DropboxSyncHistory(), other, "/sync_history.db")


# ---------------------------------------------------------------- Google Drive


def drivefs_rows() -> dict:
    ms = js_ms_from_iso
    return {
        "items": [
            {"stable_id": 1, "id": "root-cloud-id", "trashed": 0, "is_owner": 1,
             "mime_type": "application/vnd.google-apps.folder", "is_folder": 1,
             "local_title": "マイドライブ", "is_tombstone": 0, "subscribed": 1,
             "modified_date": 0},
            {"stable_id": 2, "id": "folder-cloud-id", "trashed": 0, "is_owner": 1,
             "mime_type": "application/vnd.google-apps.folder", "is_folder": 1,
             "local_title": "顧客", "is_tombstone": 0, "subscribed": 1,
             "modified_date": ms("2025-04-01T00:00:00.123Z")},
            {"stable_id": 3, "id": "file-cloud-id", "trashed": 1, "is_owner": 1,
             "mime_type": "text/csv", "is_folder": 0, "local_title": "名簿.csv",
             "is_tombstone": 0, "subscribed": 1, "file_size": 2048, "starred": 1,
             "modified_date": ms("2025-04-01T00:40:00.500Z"),
             "viewed_by_me_date": ms("2025-04-01T00:41:00.001Z"),
             "shared_with_me_date": 0},
            {"stable_id": 4, "id": "shared-cloud-id", "trashed": 0, "is_owner": 0,
             "mime_type": "application/pdf", "is_folder": 0, "local_title": "見積.pdf",
             "is_tombstone": 1, "subscribed": 0, "team_drive_stable_id": 9,
             "shared_with_me_date": ms("2025-03-01T09:00:00Z")},
        ],
        "stable_parents": [
            {"item_stable_id": 2, "parent_stable_id": 1, "local_title_hash": 0},
            {"item_stable_id": 3, "parent_stable_id": 2, "local_title_hash": 0},
            {"item_stable_id": 4, "parent_stable_id": 77, "local_title_hash": 0},
        ],
    }


def test_google_drivefs(tmp_path):
    db = build_drivefs(place(tmp_path, DRIVEFS_DIR, "metadata_sqlite_db"), drivefs_rows())
    events, ctx = _run(GoogleDriveFS(), db, f"/{DRIVEFS_DIR}/metadata_sqlite_db")
    assert ctx.errors == [] and ctx.warnings == []
    assert [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc, e.message)
            for e in events] == [
        (None, "Sync Record", "Google Drive: folder マイドライブ: no time recorded"),
        ("2025-04-01T00:00:00.123Z", "Item Modified",
         "Google Drive: folder マイドライブ/顧客: item modified"),
        ("2025-04-01T00:40:00.500Z", "Item Modified",
         "Google Drive: file マイドライブ/顧客/名簿.csv (2,048 bytes) (in the trash): item modified"),
        ("2025-04-01T00:41:00.001Z", "Viewed by Me",
         "Google Drive: file マイドライブ/顧客/名簿.csv (2,048 bytes) (in the trash): viewed by me"),
        ("2025-03-01T09:00:00.000Z", "Shared with Me",
         "Google Drive: file 見積.pdf (deleted): shared with me"),
    ]
    assert events[2].data == {
        "client": "Google Drive", "account_id": "104857600123456789012", "stable_id": 3,
        "cloud_id": "file-cloud-id", "title": "名簿.csv", "path": "マイドライブ/顧客/名簿.csv",
        "mime_type": "text/csv", "is_folder": False, "file_size": 2048, "trashed": True,
        "is_owner": True, "tombstone": False, "starred": True, "shared_drive": False,
        "modified": "2025-04-01T00:40:00.500Z", "viewed_by_me": "2025-04-01T00:41:00.001Z",
        "shared_with_me": None}
    shared = events[4].data
    assert (shared["shared_drive"], shared["tombstone"], shared["is_owner"]) == (True, True, False)


def test_google_drivefs_cloud_ids_elsewhere_and_bad_input(tmp_path):
    path = place(tmp_path, "new", "metadata_sqlite_db")
    db = sqlite3.connect(path)
    db.executescript("CREATE TABLE items (stable_id INTEGER PRIMARY KEY, local_title TEXT, "
                     "modified_date INTEGER); CREATE TABLE stable_ids (stable_id INTEGER, "
                     "cloud_id TEXT); INSERT INTO items VALUES (5, 'a.txt', 1700000000000); "
                     "INSERT INTO stable_ids VALUES (5, 'cloud-5');")
    db.commit()
    db.close()
    events, ctx = _run(GoogleDriveFS(), path, "/new/metadata_sqlite_db")
    assert [(e.data["cloud_id"], e.data["path"], e.timestamp.iso()) for e in events] == [
        ("cloud-5", "a.txt", "2023-11-14T22:13:20.000Z")]
    assert ctx.warnings == ["no stable_parents table: paths are item titles only"]
    other = place(tmp_path, "other", "metadata_sqlite_db")
    sqlite3.connect(other).execute("CREATE TABLE items (x)").connection.close()
    with pytest.raises(ArtifactError, match="not a DriveFS metadata database"):
        _run(GoogleDriveFS(), other, "/metadata_sqlite_db")


# ---------------------------------------------------------------- through the CLI


def test_cli_cloud_clients(cli, tmp_path):
    root = tmp_path / "evidence"
    (root / "Windows").mkdir(parents=True)
    build_onedrive(place(root, ONEDRIVE_DIR, "SyncEngineDatabase.db"), onedrive_rows())
    build_dropbox(place(root, DROPBOX_DIR, "sync_history.db"), [
        {"event_type": "file", "file_event_type": "add", "direction": "upload",
         "local_path": "C:\\Users\\alice\\Dropbox\\a.txt", "timestamp": p("2025-04-01T00:30:00Z")}])
    build_drivefs(place(root, DRIVEFS_DIR, "metadata_sqlite_db"), drivefs_rows())
    before = tree_digest(root)
    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json", "--only", "cloud")
    summary = json.loads(result.output)
    assert tree_digest(root) == before
    assert {k: v for k, v in summary["per_artifact"].items() if v} == {
        "OneDriveSyncEngine": 6, "DropboxSyncHistory": 1, "GoogleDriveFS": 5}
    assert (summary["errors"], summary["warnings"]) == (0, 0)
    events = read_jsonl(case)
    assert {(e["family"], e["user"]) for e in events} == {("cloud", "alice")}
    assert {e["extractor"] for e in events} == {"onedrive_sync_engine", "dropbox_sync_history",
                                                "google_drivefs"}
