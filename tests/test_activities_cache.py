"""Windows Timeline (ActivitiesCache.db): built databases (WAL included), bad input, CLI run.

No real ActivitiesCache.db is among the shared samples; every expectation comes from files
built here with the Windows 10/11 Activity table layout."""
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
from fixtures.builders.browser_writer import build_activities_cache, posix_from_iso  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.activities_cache import (  # noqa: E402
    ActivitiesCache,
    expand_known_folder,
    pick_application,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

CDP = "/Users/alice/AppData/Local/ConnectedDevicesPlatform/L.alice"

ID1 = bytes.fromhex("0102030405060708090A0B0C0D0E0F10")
ID2 = bytes.fromhex("1112131415161718191A1B1C1D1E1F20")
ID3 = bytes.fromhex("2122232425262728292A2B2C2D2E2F30")
ID4 = bytes.fromhex("3132333435363738393A3B3C3D3E3F40")

S1, M1, X1 = "2024-08-01T01:02:03Z", "2024-08-01T01:02:04Z", "2024-08-31T01:02:04Z"
S2, E2 = "2024-08-01T02:00:00Z", "2024-08-01T02:01:35Z"
S3, E3 = "2024-08-01T02:05:00Z", "2024-08-01T02:05:01Z"
S4 = "2024-08-01T03:00:00Z"  # only in ActivitiesCache.db-wal

WORD_APP = [{"application": "Microsoft.Office.WINWORD.EXE.15", "platform": "windows_win32"},
            {"application": "Microsoft.Office.WINWORD.EXE.15", "platform": "packageId"},
            {"application": "", "platform": "alternateId"}]
CHROME_APP = [
    {"application": "{6D809377-6AF0-444B-8957-A3773F02200E}\\Google\\Chrome\\Application\\chrome.exe",
     "platform": "windows_win32"},
    {"application": "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
     "platform": "x_exe_path"},
]
EXPLORER_APP = [{"application": "{F38BF404-1D43-42F2-9305-67DE0B28FC23}\\explorer.exe",
                 "platform": "windows_win32"}]
EDGE_APP = [{"application": "Microsoft.MicrosoftEdge_8wekyb3d8bbwe!MicrosoftEdge",
             "platform": "windows_universal"},
            {"application": "ABCDEF0123456789", "platform": "afs_crossplatform"}]


def _json(value) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def activity_rows() -> dict:
    t = posix_from_iso
    return {"Activity": [
        {"Id": ID1, "AppId": json.dumps(WORD_APP), "AppActivityId":
         "ECB32AF3-1440-4086-94E3-5311F97F89C4\\C:\\Users\\alice\\Documents\\報告書.docx",
         "ActivityType": 5, "ActivityStatus": 1, "StartTime": t(S1), "EndTime": 0,
         "LastModifiedTime": t(M1), "ExpirationTime": t(X1), "LastModifiedOnClient": t(M1),
         "IsLocalOnly": 0, "PlatformDeviceId": "device-abc", "PackageIdHash": "hash1",
         "ETag": 7, "Payload": _json({
             "displayText": "報告書.docx",
             "description": "C:\\Users\\alice\\Documents\\報告書.docx",
             "appDisplayName": "Word", "activationUri": "ms-shellactivity:",
             "contentUri": "file:///C:/Users/alice/Documents/%E5%A0%B1%E5%91%8A%E6%9B%B8.docx"
                           "?VolumeId={0A1B}&ObjectId={2C3D}&KnownFolderId=Documents",
             "backgroundColor": "black"})},
        {"Id": ID2, "AppId": json.dumps(CHROME_APP), "ActivityType": 6, "ActivityStatus": 1,
         "StartTime": t(S2), "EndTime": t(E2), "LastModifiedTime": t(E2),
         "ExpirationTime": t(X1), "ETag": 8, "Payload": _json({
             "type": "UserEngaged", "reportingApp": "Chrome", "activeDurationSeconds": 95,
             "shellContentDescription": {}, "userTimezone": "Asia/Tokyo"})},
        {"Id": ID3, "AppId": json.dumps(EXPLORER_APP), "ActivityType": 10, "ActivityStatus": 1,
         "StartTime": t(S3), "EndTime": t(E3), "LastModifiedTime": t(E3), "ETag": 9,
         "Payload": _json({"clipboardDataId": "{11111111-2222}", "gdprType": "Text"}),
         "ClipboardPayload": json.dumps([{"content": "6aGn5a6i", "formatName": "Text"}])},
    ]}


WAL_ROWS = {"Activity": [
    {"Id": ID4, "AppId": json.dumps(EDGE_APP), "ActivityType": 5, "ActivityStatus": 2,
     "StartTime": posix_from_iso(S4), "EndTime": 0, "LastModifiedTime": posix_from_iso(S4),
     "ETag": 10, "Payload": _json({
         "displayText": "GigaFile便", "description": "https://gigafile.nu/",
         "appDisplayName": "Microsoft Edge", "contentUri": "https://gigafile.nu/",
         "activationUri": "microsoft-edge:https://gigafile.nu/"})},
]}


def _db(folder: Path) -> Path:
    target = folder.joinpath(*CDP.strip("/").split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / "ActivitiesCache.db"


def _extract(path: Path, ctx: ExtractionContext | None = None):
    ctx = ctx or ExtractionContext()
    f = LocalFile(str(path), path=f"{CDP}/ActivitiesCache.db")
    return list(ActivitiesCache().extract(f, ctx)), ctx


@pytest.fixture
def cache(tmp_path):
    path = _db(tmp_path)
    build_activities_cache(path, activity_rows(), wal_rows=WAL_ROWS)
    return path


def test_every_event(cache):
    events, ctx = _extract(cache)
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["read together with ActivitiesCache.db-wal "
                         "(records not yet checkpointed included)"]
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        (S1, "Activity Started"),
        (S2, "Activity Started"), (E2, "Activity Ended"),
        (S3, "Activity Started"), (E3, "Activity Ended"),
        (S4, "Activity Started"),
    ]
    word = events[0]
    assert word.message == ("Activity started [open] Word: 報告書.docx "
                            "(C:\\Users\\alice\\Documents\\報告書.docx)")
    assert word.data == {
        "activity_id": "01020304-0506-0708-090A-0B0C0D0E0F10", "activity_type": 5,
        "activity_type_name": "open", "activity_status": "active",
        "application": "Microsoft.Office.WINWORD.EXE.15",
        "application_path": "Microsoft.Office.WINWORD.EXE.15", "app_platform": "windows_win32",
        "app_ids": WORD_APP, "app_display_name": "Word", "display_text": "報告書.docx",
        "description": "C:\\Users\\alice\\Documents\\報告書.docx",
        "content_uri": "file:///C:/Users/alice/Documents/%E5%A0%B1%E5%91%8A%E6%9B%B8.docx"
                       "?VolumeId={0A1B}&ObjectId={2C3D}&KnownFolderId=Documents",
        "activation_uri": "ms-shellactivity:",
        "file_path": "C:\\Users\\alice\\Documents\\報告書.docx",
        "url": None, "domain": None, "category": None,
        "payload_type": None, "active_duration_seconds": None, "user_timezone": None,
        "app_activity_id": "ECB32AF3-1440-4086-94E3-5311F97F89C4\\C:\\Users\\alice\\Documents\\報告書.docx",
        "platform_device_id": "device-abc", "package_id_hash": "hash1", "is_local_only": False,
        "etag": 7, "start_time": S1, "end_time": None, "last_modified": M1,
        "last_modified_on_client": M1, "original_last_modified_on_client": None,
        "expiration": X1, "created_in_cloud": None, "clipboard_payload_present": False,
        "clipboard_formats": [],
    }
    assert word.user is None

    focus_start, focus_end = events[1], events[2]
    assert focus_start.data == focus_end.data
    assert focus_start.data["application"] == \
        "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
    assert focus_start.data["app_platform"] == "x_exe_path"
    assert focus_start.data["activity_type_name"] == "in_focus"
    assert focus_start.data["payload_type"] == "UserEngaged"
    assert focus_start.data["active_duration_seconds"] == 95
    assert focus_start.data["user_timezone"] == "Asia/Tokyo"
    assert focus_start.data["end_time"] == E2
    assert focus_start.message == "Activity started [in_focus] chrome.exe"
    assert focus_end.message == "Activity ended [in_focus] chrome.exe"

    clip = events[3]
    assert clip.data["activity_type_name"] == "clipboard"
    assert clip.data["clipboard_payload_present"] is True
    assert clip.data["clipboard_formats"] == ["Text"]
    assert "6aGn5a6i" not in json.dumps(clip.data)  # the clipboard content is not copied
    assert clip.data["application_path"] == "%SystemRoot%\\explorer.exe"

    edge = events[5]
    assert edge.data["activity_status"] == "updated"
    assert edge.data["application"] == "Microsoft.MicrosoftEdge_8wekyb3d8bbwe!MicrosoftEdge"
    assert (edge.data["url"], edge.data["domain"], edge.data["category"]) == (
        "https://gigafile.nu/", "gigafile.nu", "file_transfer")
    assert edge.message == ("Activity started [open] Microsoft Edge: GigaFile便 "
                            "(https://gigafile.nu/)")


def test_wal_only_rows_and_evidence_unchanged(cache):
    folder = cache.parent
    before = tree_digest(folder)
    alone = sqlite3.connect(f"file:{cache}?immutable=1", uri=True)
    assert alone.execute("SELECT count(*) FROM Activity").fetchone()[0] == 3
    alone.close()
    events, _ = _extract(cache)
    assert [e.data["activity_id"] for e in events if e.timestamp_desc == "Activity Started"][-1] \
        == "31323334-3536-3738-393A-3B3C3D3E3F40"
    assert tree_digest(folder) == before


def test_damaged_wal(cache):
    wal = cache.parent / "ActivitiesCache.db-wal"
    raw = bytearray(wal.read_bytes())
    raw[24] ^= 0x01  # header checksum
    wal.write_bytes(bytes(raw))
    events, ctx = _extract(cache)
    assert ctx.warnings == ["ActivitiesCache.db-wal: its header checksum does not match: "
                            "all of it is ignored"]
    assert len(events) == 5  # the WAL-only activity is gone, the committed ones remain


def test_helpers():
    assert pick_application(EDGE_APP) == ("Microsoft.MicrosoftEdge_8wekyb3d8bbwe!MicrosoftEdge",
                                          "windows_universal")
    assert pick_application([{"application": "X", "platform": "afs_crossplatform"}]) == \
        ("X", "afs_crossplatform")
    assert pick_application("not a list") == (None, None)
    assert pick_application([]) == (None, None)
    assert expand_known_folder("{7c5a40ef-a0fb-4bfc-874a-c0f2e0b9fa8e}\\App\\a.exe") == \
        "%ProgramFiles(x86)%\\App\\a.exe"
    assert expand_known_folder("{00000000-0000-0000-0000-000000000000}\\a.exe") == \
        "{00000000-0000-0000-0000-000000000000}\\a.exe"


# ---------------------------------------------------------------- bad input


def test_bad_json_and_times_are_warnings(tmp_path):
    path = _db(tmp_path)
    rows = activity_rows()
    rows["Activity"][0]["Payload"] = b"{broken"
    rows["Activity"][0]["AppId"] = "[oops"
    rows["Activity"][1]["StartTime"] = "noon"
    rows["Activity"][1]["EndTime"] = 10**15  # far past year 9999
    build_activities_cache(path, rows)
    events, ctx = _extract(path)
    assert ctx.errors == []
    assert ctx.warnings == [
        "Activity.EndTime: 1 value(s) not a valid time: left without a time",
        "Activity.StartTime: 1 value(s) not a valid time: left without a time",
        "Activity.AppId: 1 value(s) not valid JSON",
        "Activity.Payload: 1 value(s) not valid JSON",
    ]
    first = events[0]
    assert first.timestamp.iso() == S1
    assert first.data["application"] is None and first.data["display_text"] is None
    assert first.message == "Activity started [open] (unknown application)"
    second = events[1]
    assert second.timestamp is None and second.timestamp_desc == "Activity Started"
    assert [e.timestamp_desc for e in events].count("Activity Ended") == 1  # only the clipboard


def test_deeply_nested_payload_is_bounded(tmp_path):
    path = _db(tmp_path)
    rows = activity_rows()
    rows["Activity"][1]["Payload"] = b"[" * 200_000 + b"]" * 200_000
    build_activities_cache(path, rows)
    events, ctx = _extract(path)
    assert len(events) == 5
    assert ctx.warnings == ["Activity.Payload: 1 value(s) not valid JSON"]


def test_not_sqlite(tmp_path):
    path = tmp_path / "ActivitiesCache.db"
    path.write_bytes(b"SQLite format 2\0" + b"\0" * 100)
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _extract(path)


def test_no_activity_table(tmp_path):
    path = tmp_path / "ActivitiesCache.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE Metadata (Key TEXT, Value TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="not a Windows Timeline database"):
        _extract(path)


def test_truncated(cache, tmp_path):
    cut = tmp_path / "cut.db"
    cut.write_bytes(cache.read_bytes()[:4096 + 100])
    with pytest.raises(ArtifactError, match="damaged SQLite database"):
        _extract(cut)


def test_old_layout_without_optional_columns(tmp_path):
    """An early (1803) layout without ClipboardPayload / OriginalLastModifiedOnClient."""
    path = tmp_path / "ActivitiesCache.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE Activity (Id GUID PRIMARY KEY NOT NULL, AppId TEXT NOT NULL, "
               "ActivityType INT NOT NULL, ActivityStatus INT NOT NULL, StartTime DATETIME, "
               "EndTime DATETIME, LastModifiedTime DATETIME NOT NULL, Payload BLOB, "
               "ETag INT NOT NULL)")
    db.execute("INSERT INTO Activity VALUES (?, ?, 5, 1, ?, ?, ?, ?, 1)",
               (ID1, json.dumps(WORD_APP), posix_from_iso(S1), posix_from_iso(E2),
                posix_from_iso(M1), _json({"displayText": "a.docx", "appDisplayName": "Word"})))
    db.commit()
    db.close()
    events, ctx = _extract(path)
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        (S1, "Activity Started"), (E2, "Activity Ended")]
    assert events[0].data["clipboard_payload_present"] is False
    assert events[0].data["original_last_modified_on_client"] is None


# ---------------------------------------------------------------- end to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    build_activities_cache(_db(evidence), activity_rows(), wal_rows=WAL_ROWS)
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["artifact"] == "WindowsTimeline"]
    assert len(events) == 6
    assert all(e["family"] == "activity" and e["extractor"] == "activities_cache"
               and e["user"] == "alice" for e in events)
    assert sorted(e["timestamp"] for e in events) == sorted([S1, S2, E2, S3, E3, S4])
    edge = next(e for e in events if e["timestamp"] == S4)
    assert edge["data"]["category"] == "file_transfer"
    assert edge["source"]["path"] == f"{CDP}/ActivitiesCache.db"
    assert tree_digest(evidence) == before
