"""Firefox places.sqlite and downloads.sqlite extractors: built databases (current schema, WAL),
real samples, bad input, and a run through the CLI."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, samples, tree_digest  # noqa: E402
from fixtures.builders.browser_writer import (  # noqa: E402
    build_firefox_downloads,
    build_places,
    js_ms_from_iso,
    prtime_from_iso,
)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.firefox import (  # noqa: E402
    FirefoxDownloads,
    FirefoxPlaces,
    file_uri_to_path,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

PROFILE = "/Users/alice/AppData/Roaming/Mozilla/Firefox/Profiles/x1y2z3.default-release"

T1 = "2024-07-01T08:00:00.000001Z"
T2 = "2024-07-01T08:00:05.250000Z"
T3 = "2024-07-01T08:01:00.123456Z"
T4 = "2024-07-01T09:00:00.654321Z"  # only in places.sqlite-wal
T_ORPHAN = "2024-06-30T23:59:59.999999Z"
TB0 = "2024-01-01T00:00:00.000000Z"
TB1 = "2024-01-02T00:00:00.000000Z"
TB2 = "2024-06-01T12:00:00.100000Z"
TB3 = "2024-06-01T12:00:30.000007Z"
TB4 = "2024-06-02T07:30:00.000000Z"
T_DL_START = "2024-07-01T08:01:00.200000Z"
T_DL_END = "2024-07-01T08:01:04.567Z"  # JavaScript milliseconds
T_DL2_START = "2024-07-01T08:00:06.000000Z"


def places_rows() -> dict:
    p = prtime_from_iso
    return {
        "moz_places": [
            {"id": 1, "url": "https://46.gigafile.nu/", "title": "GigaFile便",
             "rev_host": "un.elifagig.64.", "visit_count": 1, "typed": 0,
             "last_visit_date": p(T2), "guid": "AAAAAAAAAAA1"},
            {"id": 2, "url": "https://mail.google.com/mail/u/0/", "title": "Gmail",
             "visit_count": 1, "typed": 1, "last_visit_date": p(T1), "guid": "AAAAAAAAAAA2"},
            {"id": 3, "url": "https://www.dropbox.com/s/abc/report%20final.xlsx?dl=1",
             "title": None, "visit_count": 0, "hidden": 1, "last_visit_date": p(T3),
             "guid": "AAAAAAAAAAA3"},
            {"id": 4, "url": "https://onedrive.live.com/", "title": "OneDrive",
             "visit_count": 2, "last_visit_date": p(T_ORPHAN), "guid": "AAAAAAAAAAA4"},
            {"id": 5, "url": "https://wetransfer.com/", "title": "WeTransfer",
             "last_visit_date": None, "guid": "AAAAAAAAAAA5"},
        ],
        "moz_historyvisits": [
            {"id": 1, "from_visit": 0, "place_id": 2, "visit_date": p(T1), "visit_type": 2,
             "session": 0, "source": 0},
            {"id": 2, "from_visit": 1, "place_id": 1, "visit_date": p(T2), "visit_type": 1,
             "session": 0, "source": 3},
            {"id": 3, "from_visit": 2, "place_id": 3, "visit_date": p(T3), "visit_type": 7,
             "session": 0, "source": 0},
        ],
        "moz_bookmarks": [
            {"id": 1, "type": 2, "parent": 0, "position": 0, "title": "", "dateAdded": p(TB0),
             "lastModified": p(TB0), "guid": "root________"},
            {"id": 2, "type": 2, "parent": 1, "position": 0, "title": "menu",
             "dateAdded": p(TB0), "lastModified": p(TB1), "guid": "menu________"},
            {"id": 3, "type": 2, "parent": 1, "position": 1, "title": "toolbar",
             "dateAdded": p(TB0), "lastModified": p(TB0), "guid": "toolbar_____"},
            {"id": 10, "type": 2, "parent": 3, "position": 0, "title": "転送サービス",
             "dateAdded": p(TB2), "lastModified": p(TB2), "guid": "folder000010"},
            {"id": 11, "type": 1, "fk": 5, "parent": 10, "position": 0, "title": "WeTransfer",
             "dateAdded": p(TB3), "lastModified": p(TB4), "guid": "bookmark0011"},
            {"id": 12, "type": 3, "parent": 2, "position": 0, "dateAdded": p(TB3),
             "lastModified": p(TB3), "guid": "separator012"},
        ],
        "moz_anno_attributes": [
            {"id": 1, "name": "bookmarkProperties/description"},
            {"id": 2, "name": "downloads/destinationFileURI"},
            {"id": 3, "name": "downloads/metaData"},
        ],
        "moz_items_annos": [
            {"id": 1, "item_id": 11, "anno_attribute_id": 1, "content": "大容量ファイル送信",
             "dateAdded": p(TB3), "lastModified": p(TB3)},
        ],
        "moz_annos": [
            {"id": 1, "place_id": 3, "anno_attribute_id": 2,
             "content": "file:///C:/Users/alice/Downloads/report%20final.xlsx", "flags": 0,
             "expiration": 4, "type": 3, "dateAdded": p(T_DL_START),
             "lastModified": p(T_DL_START)},
            {"id": 2, "place_id": 3, "anno_attribute_id": 3,
             "content": json.dumps({"state": 1, "endTime": js_ms_from_iso(T_DL_END),
                                    "fileSize": 52311}),
             "flags": 0, "expiration": 4, "type": 3, "dateAdded": p(T_DL_START),
             "lastModified": p(T_DL_START)},
            {"id": 3, "place_id": 1, "anno_attribute_id": 2,
             "content": "file:///C:/Users/alice/Downloads/archive.7z", "dateAdded": p(T_DL2_START)},
            {"id": 4, "place_id": 1, "anno_attribute_id": 3,
             "content": json.dumps({"state": 3, "deleted": True}),
             "dateAdded": p(T_DL2_START)},
        ],
    }


WAL_ROWS = {
    "moz_places": [{"id": 6, "url": "https://firestorage.jp/", "title": "firestorage",
                    "visit_count": 1, "last_visit_date": prtime_from_iso(T4),
                    "guid": "AAAAAAAAAAA6"}],
    "moz_historyvisits": [{"id": 4, "from_visit": 0, "place_id": 6,
                           "visit_date": prtime_from_iso(T4), "visit_type": 2, "source": 0}],
}


def _place(tmp_path: Path, name: str, folder: str = PROFILE) -> Path:
    target = tmp_path.joinpath(*folder.strip("/").split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / name


def _extract(extractor, path: Path, vpath: str, ctx: ExtractionContext | None = None):
    ctx = ctx or ExtractionContext()
    return list(extractor.extract(LocalFile(str(path), path=vpath), ctx)), ctx


@pytest.fixture
def places(tmp_path):
    path = _place(tmp_path, "places.sqlite")
    build_places(path, places_rows(), wal_rows=WAL_ROWS)
    return path


# ---------------------------------------------------------------- places.sqlite, built


def test_places_every_event(places):
    events, ctx = _extract(FirefoxPlaces(), places, f"{PROFILE}/places.sqlite")
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["read together with places.sqlite-wal (records not yet checkpointed included)"]
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        (T1, "Visited"), (T2, "Visited"), (T3, "Visited"), (T4, "Visited"),
        (T_ORPHAN, "Last Visited"),
        (TB0, "Bookmark Added"),  # root folder
        (TB0, "Bookmark Added"), (TB1, "Bookmark Modified"),  # menu
        (TB0, "Bookmark Added"),  # toolbar
        (TB2, "Bookmark Added"),  # 転送サービス (not modified since)
        (TB3, "Bookmark Added"), (TB4, "Bookmark Modified"),  # WeTransfer; separator skipped
        (T_DL2_START, "Download Started"),  # place 1: cancelled, no end time
        (T_DL_START, "Download Started"), ("2024-07-01T08:01:04.567Z", "Download Finished"),
    ]
    base = {"browser": "Firefox", "profile": "x1y2z3.default-release"}
    first = events[0]
    assert first.message == 'Firefox: visited https://mail.google.com/mail/u/0/ "Gmail" [typed]'
    assert first.data == {
        **base, "url": "https://mail.google.com/mail/u/0/", "domain": "mail.google.com",
        "category": "webmail", "title": "Gmail", "visit_id": 1, "visit_count": 1, "typed": 1,
        "hidden": 0, "visit_type": "typed", "visit_type_raw": 2, "from_visit_id": None,
        "from_visit_url": None, "session": 0, "visit_source": "organic",
    }
    second = events[1]
    assert second.data["category"] == "file_transfer"
    assert second.data["from_visit_url"] == "https://mail.google.com/mail/u/0/"
    assert second.data["visit_source"] == "searched"
    third = events[2]
    assert third.data["visit_type"] == "download" and third.data["hidden"] == 1
    assert third.data["title"] is None
    assert third.message == ("Firefox: visited https://www.dropbox.com/s/abc/report%20final.xlsx?dl=1"
                             " [download]")
    assert events[3].data["url"] == "https://firestorage.jp/"  # from the WAL
    orphan = events[4]
    assert orphan.data == {**base, "url": "https://onedrive.live.com/",
                           "domain": "onedrive.live.com", "category": "cloud_storage",
                           "title": "OneDrive", "place_id": 4, "visit_count": 2, "typed": 0,
                           "hidden": 0}

    root = events[5]
    assert root.data["folder"] is None and root.data["bookmark_type"] == "folder"
    assert root.message == "Firefox: folder (untitled) added"
    folder = events[9]
    assert folder.message == 'Firefox: folder "転送サービス" added in toolbar'
    added, modified = events[10], events[11]
    expected = {
        **base, "url": "https://wetransfer.com/", "domain": "wetransfer.com",
        "category": "file_transfer", "bookmark_id": 11, "bookmark_type": "bookmark",
        "title": "WeTransfer", "folder": "toolbar/転送サービス", "guid": "bookmark0011",
        "description": "大容量ファイル送信", "date_added": TB3, "last_modified": TB4,
    }
    assert added.data == expected and modified.data == expected
    assert added.message == ('Firefox: bookmark "WeTransfer" https://wetransfer.com/ added in '
                             "toolbar/転送サービス")
    assert modified.message.endswith("modified in toolbar/転送サービス")

    cancelled = events[12]
    assert cancelled.data["state"] == "canceled" and cancelled.data["deleted"] is True
    assert cancelled.data["target_path"] == "C:\\Users\\alice\\Downloads\\archive.7z"
    assert cancelled.data["end_time"] is None
    started, finished = events[13], events[14]
    expected_dl = {
        **base, "url": "https://www.dropbox.com/s/abc/report%20final.xlsx?dl=1",
        "domain": "www.dropbox.com", "category": "cloud_storage", "title": None, "place_id": 3,
        "target_uri": "file:///C:/Users/alice/Downloads/report%20final.xlsx",
        "target_path": "C:\\Users\\alice\\Downloads\\report final.xlsx", "target_name": None,
        "state": "finished", "file_size": 52311, "deleted": None,
        "end_time": "2024-07-01T08:01:04.567Z",
    }
    assert started.data == expected_dl and finished.data == expected_dl
    assert started.message == ("Firefox: download started https://www.dropbox.com/s/abc/"
                               "report%20final.xlsx?dl=1 -> C:\\Users\\alice\\Downloads\\"
                               "report final.xlsx (finished)")


def test_places_wal_only_rows_and_evidence_unchanged(places):
    folder = places.parent
    before = tree_digest(folder)
    alone = sqlite3.connect(f"file:{places}?immutable=1", uri=True)
    assert alone.execute("SELECT count(*) FROM moz_historyvisits").fetchone()[0] == 3
    alone.close()
    events, _ = _extract(FirefoxPlaces(), places, f"{PROFILE}/places.sqlite")
    (wal_visit,) = [e for e in events if e.data.get("visit_id") == 4]
    assert wal_visit.timestamp.iso() == T4
    assert wal_visit.data["category"] == "file_transfer"
    assert tree_digest(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["places.sqlite", "places.sqlite-wal"]


def test_places_damaged_wal(places):
    wal = places.parent / "places.sqlite-wal"
    wal.write_bytes(wal.read_bytes()[:-1000])  # the last frame is cut
    events, ctx = _extract(FirefoxPlaces(), places, f"{PROFILE}/places.sqlite")
    assert len(ctx.warnings) == 1
    assert ctx.warnings[0].startswith("places.sqlite-wal: damaged or incomplete: ")
    assert "partial frame" in ctx.warnings[0]
    assert [e.data.get("visit_id") for e in events if e.timestamp_desc == "Visited"] == [1, 2, 3]


@pytest.mark.parametrize("uri, path", [
    ("file:///C:/Users/a%20b/x.zip", "C:\\Users\\a b\\x.zip"),
    ("file:///D:/plaso.zip", "D:\\plaso.zip"),
    ("file:///home/u/%E3%81%82.txt", "/home/u/あ.txt"),
    ("file://server/share/x.doc", "\\\\server\\share\\x.doc"),
    ("https://example.com/x", None),
    (None, None),
])
def test_file_uri_to_path(uri, path):
    assert file_uri_to_path(uri) == path


# ---------------------------------------------------------------- downloads.sqlite, built


def test_legacy_downloads_built(tmp_path):
    path = _place(tmp_path, "downloads.sqlite")
    p = prtime_from_iso
    build_firefox_downloads(path, {"moz_downloads": [
        {"id": 1, "name": "顧客.zip", "source": "https://datadeliver.net/dl/abc",
         "target": "file:///C:/Users/alice/Desktop/%E9%A1%A7%E5%AE%A2.zip", "tempPath": "",
         "startTime": p("2012-02-03T04:05:06.000007Z"), "endTime": p("2012-02-03T04:05:09.5Z"),
         "state": 1, "referrer": "https://datadeliver.net/", "currBytes": 1000,
         "maxBytes": 1000, "mimeType": "application/zip"},
        {"id": 2, "name": "big.iso", "source": "https://example.com/big.iso",
         "target": "file:///C:/Users/alice/Downloads/big.iso",
         "startTime": p("2012-02-03T05:00:00Z"), "endTime": 0, "state": 4, "currBytes": 10,
         "maxBytes": -1},
    ]})
    events, ctx = _extract(FirefoxDownloads(), path, f"{PROFILE}/downloads.sqlite")
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2012-02-03T04:05:06.000007Z", "Download Started"),
        ("2012-02-03T04:05:09.500000Z", "Download Finished"),
        ("2012-02-03T05:00:00.000000Z", "Download Started"),
    ]
    assert events[0].data == {
        "browser": "Firefox", "profile": "x1y2z3.default-release",
        "url": "https://datadeliver.net/dl/abc", "domain": "datadeliver.net",
        "category": "file_transfer", "download_id": 1, "name": "顧客.zip",
        "target_uri": "file:///C:/Users/alice/Desktop/%E9%A1%A7%E5%AE%A2.zip",
        "target_path": "C:\\Users\\alice\\Desktop\\顧客.zip", "temp_path": None,
        "referrer": "https://datadeliver.net/", "received_bytes": 1000, "total_bytes": 1000,
        "state": "finished", "mime_type": "application/zip", "preferred_application": None,
        "preferred_action": 0, "auto_resume": 0, "start_time": "2012-02-03T04:05:06.000007Z",
        "end_time": "2012-02-03T04:05:09.500000Z",
    }
    assert events[0].message == ("Firefox: download started https://datadeliver.net/dl/abc -> "
                                 "C:\\Users\\alice\\Desktop\\顧客.zip (1,000 bytes, finished)")
    assert events[2].data["total_bytes"] is None  # -1: size unknown
    assert events[2].data["state"] == "paused"


# ---------------------------------------------------------------- real samples


def test_sample_places():
    path = samples("browser", "firefox", "places.sqlite")
    events, ctx = _extract(FirefoxPlaces(), path, f"{PROFILE}/places.sqlite")
    assert ctx.warnings == [] and ctx.errors == []
    # plaso counts 103 event_data: 1 visit, 101 moz_bookmarks rows (91 bookmarks, 8 folders,
    # 2 separators) and 1 bookmark annotation. Here: 1 "Visited", 99 "Bookmark Added"
    # (separators carry nothing and are skipped), 17 "Bookmark Modified" (rows whose
    # lastModified differs from dateAdded); annotations are folded into the bookmark's data.
    kinds = [e.timestamp_desc for e in events]
    assert len(events) == 117
    assert (kinds.count("Visited"), kinds.count("Bookmark Added"),
            kinds.count("Bookmark Modified")) == (1, 99, 17)
    visit = events[0]
    assert visit.timestamp.iso() == "2011-07-01T11:16:21.371935Z"
    assert visit.data["url"] == "http://news.google.com/"
    assert visit.data["title"] == "Google News"
    assert visit.data["visit_count"] == 1
    assert visit.data["visit_type"] == "typed" and visit.data["visit_type_raw"] == 2
    added = {e.data["title"]: e for e in events if e.timestamp_desc == "Bookmark Added"}
    headlines = added["Latest Headlines"]
    assert headlines.timestamp.iso() == "2011-03-21T10:05:01.553774Z"
    assert headlines.data["bookmark_type"] == "folder"
    assert headlines.data["folder"] == "Bookmarks Toolbar"
    recent = added["Recently Bookmarked"]
    assert recent.timestamp.iso() == "2011-07-01T11:13:59.266344Z"
    assert recent.data["url"].startswith("place:folder=BOOKMARKS_MENU")
    assert recent.data["domain"] is None and recent.data["category"] == "other"
    ubuntu = added["Ubuntu and Free Software links"]
    assert ubuntu.data["description"] == (
        "Information and resources about Ubuntu, Debian and Free Software in general")


def test_sample_downloads():
    path = samples("browser", "firefox", "downloads.sqlite")
    events, ctx = _extract(FirefoxDownloads(), path, f"{PROFILE}/downloads.sqlite")
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2013-07-18T18:59:59.312000Z", "Download Started"),
        ("2013-07-18T19:01:18.578000Z", "Download Finished"),
    ]
    data = events[0].data
    assert data["url"] == "https://plaso.googlecode.com/files/plaso-static-1.0.1-win32-vs2008.zip"
    assert data["name"] == "plaso-static-1.0.1-win32-vs2008.zip"
    assert data["target_path"] == "D:\\plaso-static-1.0.1-win32-vs2008.zip"
    assert data["received_bytes"] == data["total_bytes"] == 15974599
    assert data["state"] == "finished" and data["mime_type"] == "application/zip"


# ---------------------------------------------------------------- bad input


def test_not_sqlite(tmp_path):
    path = tmp_path / "places.sqlite"
    path.write_bytes(b"\0" * 4096)
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _extract(FirefoxPlaces(), path, "/places.sqlite")


def test_wrong_database(tmp_path):
    path = tmp_path / "places.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_cookies (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="not a Firefox places database"):
        _extract(FirefoxPlaces(), path, "/places.sqlite")
    with pytest.raises(ArtifactError, match="not a Firefox downloads database"):
        _extract(FirefoxDownloads(), path, "/downloads.sqlite")


def test_truncated(places, tmp_path):
    cut = tmp_path / "cut.sqlite"
    cut.write_bytes(places.read_bytes()[:5000])
    with pytest.raises(ArtifactError, match="damaged SQLite database"):
        _extract(FirefoxPlaces(), cut, "/places.sqlite")


def test_missing_visits_table_and_bad_metadata(tmp_path):
    path = tmp_path / "places.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR, "
               "title LONGVARCHAR, last_visit_date INTEGER)")
    db.execute("CREATE TABLE moz_anno_attributes (id INTEGER PRIMARY KEY, name VARCHAR(32))")
    db.execute("CREATE TABLE moz_annos (id INTEGER PRIMARY KEY, place_id INTEGER, "
               "anno_attribute_id INTEGER, content LONGVARCHAR, dateAdded INTEGER)")
    db.execute("INSERT INTO moz_places VALUES (1, 'https://mega.nz/file/x', 'MEGA', ?)",
               (prtime_from_iso("2023-03-03T03:03:03.000003Z"),))
    db.execute("INSERT INTO moz_anno_attributes VALUES (1, 'downloads/destinationFileURI'), "
               "(2, 'downloads/metaData')")
    db.execute("INSERT INTO moz_annos VALUES (1, 1, 1, 'file:///C:/x.bin', ?), "
               "(2, 1, 2, '{not json', 0)", (prtime_from_iso("2023-03-03T03:03:04Z"),))
    db.commit()
    db.close()
    events, ctx = _extract(FirefoxPlaces(), path, "/places.sqlite")
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2023-03-03T03:03:03.000003Z", "Last Visited"),
        ("2023-03-03T03:03:04.000000Z", "Download Started"),
    ]
    assert events[1].data["state"] is None and events[1].data["category"] == "cloud_storage"
    assert ctx.warnings == ["no 'moz_historyvisits' table: visits not available",
                            "downloads/metaData: 1 annotation(s) not valid JSON"]


def test_bookmark_parent_loop_is_bounded(tmp_path):
    path = _place(tmp_path, "places.sqlite")
    rows = places_rows()
    rows["moz_bookmarks"] = [
        {"id": 1, "type": 2, "parent": 2, "title": "A", "dateAdded": prtime_from_iso(TB0)},
        {"id": 2, "type": 2, "parent": 1, "title": "B", "dateAdded": prtime_from_iso(TB0)},
    ]
    build_places(path, rows)
    events, _ = _extract(FirefoxPlaces(), path, f"{PROFILE}/places.sqlite")
    folders = [e.data["folder"] for e in events if e.timestamp_desc == "Bookmark Added"]
    assert folders == ["A/B", "B/A"]


# ---------------------------------------------------------------- end to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    build_places(_place(evidence, "places.sqlite"), places_rows(), wal_rows=WAL_ROWS)
    build_firefox_downloads(_place(evidence, "downloads.sqlite"), {"moz_downloads": [
        {"id": 1, "name": "a.txt", "source": "https://www.filesend.to/dl/a.txt",
         "target": "file:///C:/Users/alice/Downloads/a.txt",
         "startTime": prtime_from_iso("2012-02-03T04:05:06.000007Z"), "endTime": 0,
         "state": 0}]})
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = read_jsonl(case)
    history = [e for e in events if e["artifact"] == "FirefoxHistory"]
    downloads = [e for e in events if e["artifact"] == "FirefoxDownloads"]
    assert len(history) == 15 and len(downloads) == 1
    assert all(e["user"] == "alice" and e["family"] == "browser" for e in history + downloads)
    wal_visit = next(e for e in history if e["data"].get("visit_id") == 4)
    assert wal_visit["timestamp"] == T4 and wal_visit["extractor"] == "firefox_places"
    assert downloads[0]["timestamp"] == "2012-02-03T04:05:06.000007Z"
    assert downloads[0]["data"]["category"] == "file_transfer"
    assert downloads[0]["source"]["path"] == f"{PROFILE}/downloads.sqlite"
    assert tree_digest(evidence) == before
