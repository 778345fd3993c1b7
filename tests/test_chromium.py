"""Chromium History extractor: built databases (current and Chrome 8 schema, WAL), real samples,
bad input, and a run through the CLI."""
from __future__ import annotations

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, samples, tree_digest  # noqa: E402
from fixtures.builders.browser_writer import (  # noqa: E402
    CHROME_META,
    CHROME_SCHEMA,
    build_chrome_history,
    posix_from_iso,
    webkit_from_iso,
    write_db_with_hot_journal,
)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors._sqlite import wal_damage  # noqa: E402
from triage.extractors.chromium import ChromiumHistory, browser_of  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

EDGE_DIR = "/Users/alice/AppData/Local/Microsoft/Edge/User Data/Default"

T_V1 = "2024-05-01T09:15:30.123456Z"
T_V2 = "2024-05-01T09:16:02.000001Z"
T_V3 = "2024-05-01T09:20:00.500000Z"
T_V4 = "2024-05-01T10:00:00.999999Z"  # only in History-wal
T_ORPHAN = "2024-04-01T00:00:00.000000Z"
T_DL_START = "2024-05-01T09:21:10.654321Z"
T_DL_END = "2024-05-01T09:21:15.000100Z"
T_DL_ACCESS = "2024-05-02T08:00:00.000000Z"
T_DL2_START = "2024-05-01T09:30:00.250000Z"
DIGEST = hashlib.sha256(b"customers").digest()

TYPED = 1 | 0x10000000 | 0x20000000 | 0x02000000  # typed, chain start+end, from address bar
LINK = 0 | 0x10000000 | 0x20000000
REDIRECT = 0 | 0x20000000 | 0x80000000  # link, chain end, server redirect


def history_rows() -> dict:
    w = webkit_from_iso
    return {
        "urls": [
            {"id": 1, "url": "https://46.gigafile.nu/upload", "title": "ギガファイル便",
             "visit_count": 1, "typed_count": 0, "last_visit_time": w(T_V2)},
            {"id": 2, "url": "https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2",
             "title": "顧客リスト - Google 検索", "visit_count": 1, "typed_count": 1,
             "last_visit_time": w(T_V1)},
            {"id": 3, "url": "https://drive.google.com/drive/my-drive", "title": "マイドライブ",
             "visit_count": 1, "last_visit_time": w(T_V3)},
            {"id": 4, "url": "https://mail.yahoo.co.jp/", "title": "Yahoo!メール",
             "visit_count": 3, "typed_count": 2, "last_visit_time": w(T_ORPHAN)},
            {"id": 5, "url": "https://example.org/never", "title": "", "last_visit_time": 0},
        ],
        "visits": [
            {"id": 1, "url": 2, "visit_time": w(T_V1), "from_visit": 0, "transition": TYPED,
             "visit_duration": 31_500_000},
            {"id": 2, "url": 1, "visit_time": w(T_V2), "from_visit": 1, "transition": LINK,
             "visit_duration": 1_500_000},
            {"id": 3, "url": 3, "visit_time": w(T_V3), "from_visit": 0, "transition": REDIRECT,
             "external_referrer_url": "https://intranet.example.co.jp/"},
        ],
        "visit_source": [{"id": 3, "source": 0}],
        "keyword_search_terms": [
            {"keyword_id": 2, "url_id": 2, "term": "顧客リスト", "normalized_term": "顧客リスト"},
        ],
        "downloads": [
            {"id": 1, "guid": "6A0B8C1E-2D3F-4A5B-9C8D-7E6F5A4B3C2D",
             "current_path": "C:\\Users\\alice\\Downloads\\customers.zip",
             "target_path": "C:\\Users\\alice\\Downloads\\customers.zip",
             "start_time": w(T_DL_START), "end_time": w(T_DL_END),
             "last_access_time": w(T_DL_ACCESS), "received_bytes": 2048, "total_bytes": 2048,
             "state": 1, "danger_type": 0, "interrupt_reason": 0, "opened": 1,
             "referrer": "https://drive.google.com/drive/my-drive",
             "tab_url": "https://drive.google.com/drive/my-drive",
             "site_url": "https://drive.google.com/", "mime_type": "application/zip",
             "original_mime_type": "application/x-zip-compressed", "hash": DIGEST},
            {"id": 2, "guid": "00000002-0000-4000-8000-000000000002",
             "current_path": "C:\\Users\\alice\\Downloads\\tool.exe.crdownload",
             "target_path": "C:\\Users\\alice\\Downloads\\tool.exe",
             "start_time": w(T_DL2_START), "end_time": 0, "received_bytes": 100,
             "total_bytes": 5000, "state": 0, "danger_type": 1, "interrupt_reason": 0,
             "opened": 0, "mime_type": "application/octet-stream"},
        ],
        "downloads_url_chains": [
            {"id": 1, "chain_index": 0, "url": "https://drive.google.com/uc?id=1&export=download"},
            {"id": 1, "chain_index": 1,
             "url": "https://drive.usercontent.google.com/download?id=1&export=download"},
            {"id": 2, "chain_index": 0, "url": "https://tools.example.net/tool.exe"},
        ],
    }


WAL_ROWS = {
    "urls": [{"id": 6, "url": "https://firestorage.jp/upload", "title": "firestorage",
              "visit_count": 1, "last_visit_time": webkit_from_iso(T_V4)}],
    "visits": [{"id": 4, "url": 6, "visit_time": webkit_from_iso(T_V4), "transition": LINK,
                "from_visit": 2}],
}


def _place(tmp_path: Path, folder: str = EDGE_DIR) -> Path:
    target = tmp_path.joinpath(*folder.strip("/").split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / "History"


def _extract(path: Path, vpath: str, ctx: ExtractionContext | None = None):
    ctx = ctx or ExtractionContext()
    return list(ChromiumHistory().extract(LocalFile(str(path), path=vpath), ctx)), ctx


@pytest.fixture
def edge_history(tmp_path):
    path = _place(tmp_path)
    build_chrome_history(path, history_rows(), wal_rows=WAL_ROWS)
    return path


# ---------------------------------------------------------------- current schema


def test_current_schema_every_event(edge_history):
    events, ctx = _extract(edge_history, f"{EDGE_DIR}/History")
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["read together with History-wal (records not yet checkpointed included)"]
    assert [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc) for e in events] == [
        (T_V1, "Visited"), (T_V2, "Visited"), (T_V3, "Visited"), (T_V4, "Visited"),
        (T_ORPHAN, "Last Visited"),
        (T_DL_START, "Download Started"), (T_DL_END, "Download Finished"),
        (T_DL2_START, "Download Started"),
        (T_V1, "Searched"),
    ]
    assert all(e.user is None for e in events)
    base = {"browser": "Edge", "profile": "Default", "schema_version": 70}

    first = events[0]
    assert first.message == ("Edge: visited https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2 "
                             '"顧客リスト - Google 検索" [typed]')
    assert first.data == {
        **base, "url": "https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2",
        "domain": "www.google.co.jp", "category": "search", "title": "顧客リスト - Google 検索",
        "visit_id": 1, "visit_count": 1, "typed_count": 1, "hidden": False,
        "transition": "typed",
        "transition_qualifiers": ["from_address_bar", "chain_start", "chain_end"],
        "transition_raw": TYPED, "from_visit_id": None, "from_visit_url": None,
        "visit_duration_us": 31_500_000, "visit_source": "browsed",
        "external_referrer_url": None,
    }
    second = events[1]
    assert second.data["url"] == "https://46.gigafile.nu/upload"
    assert (second.data["domain"], second.data["category"]) == ("46.gigafile.nu", "file_transfer")
    assert second.data["from_visit_id"] == 1
    assert second.data["from_visit_url"] == "https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2"
    assert second.data["transition"] == "link"
    third = events[2]
    assert third.data["category"] == "cloud_storage"
    assert third.data["transition_qualifiers"] == ["chain_end", "server_redirect"]
    assert third.data["visit_source"] == "synced"
    assert third.data["external_referrer_url"] == "https://intranet.example.co.jp/"

    orphan = events[4]
    assert orphan.message == ('Edge: last visited https://mail.yahoo.co.jp/ "Yahoo!メール" '
                              "(no visit record left)")
    assert orphan.data == {**base, "url": "https://mail.yahoo.co.jp/", "domain": "mail.yahoo.co.jp",
                           "category": "webmail", "title": "Yahoo!メール", "url_id": 4,
                           "visit_count": 3, "typed_count": 2, "hidden": False}

    started, finished = events[5], events[6]
    expected = {
        **base, "url": "https://drive.usercontent.google.com/download?id=1&export=download",
        "domain": "drive.usercontent.google.com", "category": "cloud_storage",
        "download_id": 1, "guid": "6A0B8C1E-2D3F-4A5B-9C8D-7E6F5A4B3C2D",
        "target_path": "C:\\Users\\alice\\Downloads\\customers.zip",
        "current_path": "C:\\Users\\alice\\Downloads\\customers.zip",
        "url_chain": ["https://drive.google.com/uc?id=1&export=download",
                      "https://drive.usercontent.google.com/download?id=1&export=download"],
        "tab_url": "https://drive.google.com/drive/my-drive", "tab_referrer_url": None,
        "referrer": "https://drive.google.com/drive/my-drive",
        "site_url": "https://drive.google.com/", "received_bytes": 2048, "total_bytes": 2048,
        "state": "complete", "danger_type": "not_dangerous", "interrupt_reason": 0,
        "opened": True, "mime_type": "application/zip",
        "original_mime_type": "application/x-zip-compressed", "last_access_time": T_DL_ACCESS,
        "hash": DIGEST.hex(), "by_ext_id": None, "by_ext_name": None,
        "start_time": T_DL_START, "end_time": T_DL_END,
    }
    assert started.data == expected and finished.data == expected
    assert started.message == (
        "Edge: download started https://drive.usercontent.google.com/download?id=1&export=download"
        " -> C:\\Users\\alice\\Downloads\\customers.zip (2,048 of 2,048 bytes, complete)")
    assert finished.message.startswith("Edge: download finished https://drive.usercontent")

    pending = events[7]
    assert pending.data["state"] == "in_progress" and pending.data["end_time"] is None
    assert pending.data["danger_type"] == "dangerous_file"
    assert pending.data["current_path"] == "C:\\Users\\alice\\Downloads\\tool.exe.crdownload"
    assert pending.data["hash"] is None
    assert pending.data["url"] == "https://tools.example.net/tool.exe"
    assert pending.data["category"] == "other"

    search = events[8]
    assert search.message == ('Edge: searched "顧客リスト" '
                              "(https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2)")
    assert search.data == {**base, "url": "https://www.google.co.jp/search?q=%E9%A1%A7%E5%AE%A2",
                           "domain": "www.google.co.jp", "category": "search",
                           "term": "顧客リスト", "normalized_term": "顧客リスト", "keyword_id": 2,
                           "title": "顧客リスト - Google 検索"}


def test_wal_only_records_are_read_and_evidence_unchanged(edge_history):
    folder = edge_history.parent
    before = tree_digest(folder)
    # the WAL rows are not in the main file: a plain read of it alone does not see them
    alone = sqlite3.connect(f"file:{edge_history}?immutable=1", uri=True)
    assert alone.execute("SELECT count(*) FROM visits").fetchone()[0] == 3
    alone.close()
    events, _ = _extract(edge_history, f"{EDGE_DIR}/History")
    wal_visit = [e for e in events if e.data.get("visit_id") == 4]
    assert len(wal_visit) == 1
    assert wal_visit[0].timestamp.iso() == T_V4
    assert wal_visit[0].data["url"] == "https://firestorage.jp/upload"
    assert wal_visit[0].data["category"] == "file_transfer"
    assert wal_visit[0].data["from_visit_url"] == "https://46.gigafile.nu/upload"
    assert tree_digest(folder) == before
    assert sorted(p.name for p in folder.iterdir()) == ["History", "History-wal"]


def test_damaged_wal_is_reported_and_committed_rows_kept(edge_history):
    wal = edge_history.parent / "History-wal"
    raw = bytearray(wal.read_bytes())
    raw[-100] ^= 0xFF  # inside the last page: that frame's checksum fails
    wal.write_bytes(bytes(raw))
    events, ctx = _extract(edge_history, f"{EDGE_DIR}/History")
    assert len(ctx.warnings) == 1
    assert ctx.warnings[0].startswith("History-wal: damaged or incomplete: frame ")
    assert "fails its checksum" in ctx.warnings[0]
    # SQLite drops the transaction whose frame is bad: the rows of the main file remain
    assert [e.data.get("visit_id") for e in events if e.timestamp_desc == "Visited"] == [1, 2, 3]


def test_wal_damage_reasons():
    assert wal_damage(b"") .startswith("truncated (0 bytes")
    assert wal_damage(b"\0" * 32) == "no write-ahead log signature: all of it is ignored"


# ---------------------------------------------------------------- old schema (Chrome 8)


def test_chrome8_schema_built(tmp_path):
    path = _place(tmp_path, "/Users/bob/AppData/Local/Google/Chrome/User Data/Profile 1")
    w = webkit_from_iso
    build_chrome_history(path, {
        "urls": [{"id": 1, "url": "https://www.dropbox.com/home", "title": "Dropbox",
                  "visit_count": 1, "last_visit_time": w("2010-12-01T10:00:00.000001Z")}],
        "visits": [{"id": 1, "url": 1, "visit_time": w("2010-12-01T10:00:00.000001Z"),
                    "transition": 1 | 0x30000000}],
        "keyword_search_terms": [{"keyword_id": 3, "url_id": 1, "lower_term": "dropbox",
                                  "term": "Dropbox"}],
        "downloads": [{"id": 1, "full_path": "C:\\Users\\bob\\Downloads\\a.pdf",
                       "url": "https://dl.dropboxusercontent.com/a.pdf",
                       "start_time": posix_from_iso("2010-12-01T10:01:02Z"),
                       "received_bytes": 10, "total_bytes": 20, "state": 2}],
    }, legacy=True)
    events, ctx = _extract(path, "/Users/bob/AppData/Local/Google/Chrome/User Data/Profile 1/History")
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2010-12-01T10:00:00.000001Z", "Visited"),
        ("2010-12-01T10:01:02Z", "Download Started"),  # POSIX seconds: no fraction invented
        ("2010-12-01T10:00:00.000001Z", "Searched"),
    ]
    visit, download, search = events
    assert visit.data["browser"] == "Chrome" and visit.data["profile"] == "Profile 1"
    assert visit.data["schema_version"] == 20
    assert visit.data["visit_duration_us"] is None and visit.data["visit_source"] == "browsed"
    assert download.data["target_path"] == download.data["current_path"] == \
        "C:\\Users\\bob\\Downloads\\a.pdf"
    assert download.data["url_chain"] == ["https://dl.dropboxusercontent.com/a.pdf"]
    assert download.data["category"] == "cloud_storage"
    assert download.data["state"] == "cancelled"
    assert download.data["danger_type"] is None and download.data["guid"] is None
    assert search.data["term"] == "Dropbox" and search.data["normalized_term"] == "dropbox"


@pytest.mark.parametrize("path, browser", [
    ("/Users/a/AppData/Local/Google/Chrome/User Data/Default/History", "Chrome"),
    ("/Users/a/AppData/Local/Google/Chrome SxS/User Data/Default/History", "Chrome Canary"),
    ("/Users/a/AppData/Local/Microsoft/Edge/User Data/Profile 2/History", "Edge"),
    ("/Users/a/AppData/Local/BraveSoftware/Brave-Browser/User Data/Default/History", "Brave"),
    ("/Users/a/AppData/Roaming/Opera Software/Opera Stable/History", "Opera"),
    ("/Users/a/AppData/Roaming/Opera Software/Opera GX Stable/Default/History", "Opera GX"),
    ("/Users/a/AppData/Local/Vivaldi/User Data/Default/History", "Vivaldi"),
    ("/Users/a/AppData/Local/Chromium/User Data/Default/History", "Chromium"),
    ("/History", "Chromium-based"),
])
def test_browser_from_path(path, browser):
    assert browser_of(path) == browser


# ---------------------------------------------------------------- real samples


def _sample(name: str, vpath: str = "/Users/john/AppData/Local/Google/Chrome/User Data/Default/History"):
    path = samples("browser", "chrome", name)
    events, ctx = _extract(path, vpath)
    assert ctx.warnings == [] and ctx.errors == []
    return events


def test_sample_chrome8_history():
    events = _sample("History")
    # plaso counts 71 event_data (69 visits + 2 downloads); this extractor also reports the 3
    # keyword_search_terms rows as "Searched" (74). The Chrome 8 downloads table has no end_time,
    # so there is no "Download Finished"; every URL still has a visit, so no "Last Visited".
    kinds = [e.timestamp_desc for e in events]
    assert len(events) == 74
    assert kinds.count("Visited") == 69 and kinds.count("Download Started") == 2
    assert kinds.count("Searched") == 3
    first = events[0]
    assert first.timestamp.iso() == "2011-04-07T12:03:11.000000Z"
    assert first.data["url"] == "http://start.ubuntu.com/10.04/Google/"
    assert first.data["title"] == "Ubuntu Start Page"
    assert first.data["visit_count"] == 4 and first.data["typed_count"] == 0
    assert first.data["transition"] == "link" and first.data["transition_raw"] == 805306368
    assert first.data["visit_source"] == "firefox_imported"  # visit_source 3
    assert first.data["schema_version"] == 20
    download = next(e for e in events if e.timestamp_desc == "Download Started")
    assert download.timestamp.iso() == "2011-05-23T08:35:30Z"
    assert download.data["url"] == "http://fatloss4idiotsx.com/download/funcats/funcats_scr.exe"
    assert download.data["target_path"] == "/home/john/Downloads/funcats_scr.exe"
    assert download.data["received_bytes"] == download.data["total_bytes"] == 1132155
    assert download.data["state"] == "complete"
    searches = [(e.timestamp.iso(), e.data["term"], e.data["category"])
                for e in events if e.timestamp_desc == "Searched"]
    assert searches == [
        ("2011-05-23T08:34:40.436195Z", "funny cats", "search"),
        ("2011-05-23T08:34:48.648849Z", "really really funny cats", "search"),
        ("2011-05-23T08:34:56.327602Z", "funnycats.exe", "search"),
    ]


@pytest.mark.parametrize("name, visit, start, end, version", [
    ("History-57.0.2987.133", "2018-01-21T14:09:53.885478Z", "2018-01-21T14:09:53.900399Z",
     "2018-01-21T14:09:54.858738Z", 32),
    ("History-59.0.3071.86", "2018-01-21T14:08:52.037692Z", "2018-01-21T14:08:51.811123Z",
     "2018-01-21T14:08:52.662377Z", 36),
])
def test_sample_chrome57_59(name, visit, start, end, version):
    events = _sample(name)
    # plaso: 2 event_data (one visit, one download); here the download gives two events
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        (visit, "Visited"), (start, "Download Started"), (end, "Download Finished")]
    assert events[0].data["url"] == \
        "https://raw.githubusercontent.com/dfirlabs/chrome-specimens/master/generate-specimens.sh"
    assert events[0].data["schema_version"] == version
    download = events[1].data
    assert download["target_path"] == "/home/ubuntu/Downloads/plaso-20171231.1.win32.msi"
    assert download["received_bytes"] == download["total_bytes"] == 3080192
    assert download["url"] == ("https://raw.githubusercontent.com/log2timeline/l2tbinaries/master/"
                               "win32/plaso-20171231.1.win32.msi")
    assert download["mime_type"] == "application/octet-stream"
    assert download["danger_type"] == "maybe_dangerous_content"
    assert download["state"] == "complete" and download["opened"] is False


# ---------------------------------------------------------------- bad input


def test_not_sqlite(tmp_path):
    path = tmp_path / "History"
    path.write_bytes(b"MZ\x90\x00" + b"\0" * 2000)
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _extract(path, "/History")


def test_other_sqlite_database(tmp_path):
    path = tmp_path / "History"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE cookies (name TEXT)")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="not a Chromium History database"):
        _extract(path, "/History")


def test_truncated_database(edge_history, tmp_path):
    whole = edge_history.read_bytes()
    cut = tmp_path / "cut" / "History"
    cut.parent.mkdir()
    cut.write_bytes(whole[: len(whole) // 3])
    with pytest.raises(ArtifactError, match="damaged SQLite database: database disk image is malformed"):
        _extract(cut, "/History")


def _smash_table(path: Path, table: str) -> None:
    """Overwrite the root page of one table with garbage (the rest of the file stays valid)."""
    db = sqlite3.connect(path)
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    db.close()
    raw = bytearray(path.read_bytes())
    raw[(root - 1) * size:root * size] = b"\xa5" * size
    path.write_bytes(bytes(raw))


def test_damaged_table_loses_that_section_only(tmp_path):
    path = _place(tmp_path)
    build_chrome_history(path, history_rows())
    _smash_table(path, "downloads")
    events, ctx = _extract(path, f"{EDGE_DIR}/History")
    assert [e.timestamp_desc for e in events] == ["Visited"] * 3 + ["Last Visited", "Searched"]
    assert len(ctx.errors) == 1
    assert ctx.errors[0].startswith("downloads: could not be read completely (")
    assert ctx.errors[0].endswith("); the other records are kept")


def test_missing_tables_downloads_only(tmp_path):
    path = tmp_path / "History"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR)")
    db.execute("CREATE TABLE downloads (id INTEGER PRIMARY KEY, current_path LONGVARCHAR, "
               "target_path LONGVARCHAR, start_time INTEGER, received_bytes INTEGER, "
               "total_bytes INTEGER, state INTEGER)")
    db.execute("INSERT INTO downloads VALUES (1, 'C:\\a.txt', 'C:\\a.txt', ?, 1, 1, 1)",
               (webkit_from_iso("2020-01-01T00:00:00.000001Z"),))
    db.commit()
    db.close()
    events, ctx = _extract(path, "/History")
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2020-01-01T00:00:00.000001Z", "Download Started")]
    assert events[0].data["url"] is None and events[0].data["url_chain"] == []
    assert events[0].data["schema_version"] is None
    assert ctx.warnings == ["no 'urls' table: browsing history not available",
                            "no 'visits' table: browsing history not available"]


def test_hostile_values(tmp_path):
    path = _place(tmp_path)
    rows = history_rows()
    rows["visits"][0]["visit_time"] = "yesterday"
    rows["visits"][1]["visit_time"] = 2**62  # past year 9999
    rows["visits"][2]["visit_time"] = -5
    rows["urls"][0]["title"] = b"caf\xe9"  # not UTF-8
    rows["downloads"][0]["state"] = 77
    build_chrome_history(path, rows)
    db = sqlite3.connect(path)  # store the title as TEXT with invalid UTF-8 bytes
    db.execute("UPDATE urls SET title = CAST(X'636166E9' AS TEXT) WHERE id = 1")
    db.commit()
    db.close()
    events, ctx = _extract(path, f"{EDGE_DIR}/History")
    visits = [e for e in events if e.timestamp_desc == "Visited"]
    assert [e.timestamp for e in visits] == [None, None, None]
    assert ctx.warnings == ["visits.visit_time: 3 value(s) not a valid time: left without a time"]
    assert visits[1].data["title"] == "caf\udce9"  # kept, visibly escaped
    download = next(e for e in events if e.timestamp_desc == "Download Started")
    assert download.data["state"] == "unknown (77)"


def test_download_without_start_time_keeps_no_time(tmp_path):
    path = _place(tmp_path)
    rows = history_rows()
    rows["downloads"] = rows["downloads"][1:]
    rows["downloads"][0]["start_time"] = 0
    build_chrome_history(path, rows)
    events, ctx = _extract(path, f"{EDGE_DIR}/History")
    (download,) = [e for e in events if e.timestamp_desc.startswith("Download")]
    assert download.timestamp is None and download.timestamp_desc == "Download Started"
    assert download.data["start_time"] is None
    assert ctx.warnings == []  # 0 is "not set", not a bad value


def test_hot_rollback_journal_gives_the_committed_state(tmp_path):
    path = _place(tmp_path)
    pending = {"urls": [{"id": 100 + i, "url": f"https://pending.example/{i}" + "x" * 300,
                         "last_visit_time": webkit_from_iso(T_V4)} for i in range(200)]}
    write_db_with_hot_journal(path, CHROME_SCHEMA, history_rows(), pending, meta=CHROME_META)
    assert (path.parent / "History-journal").stat().st_size > 0
    events, ctx = _extract(path, f"{EDGE_DIR}/History")
    assert len(events) == 8  # the committed rows only (no WAL here)
    assert not any("pending.example" in (e.data.get("url") or "") for e in events)


# ---------------------------------------------------------------- end to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    edge = _place(evidence)
    build_chrome_history(edge, history_rows(), wal_rows=WAL_ROWS)
    chrome = _place(evidence, "/Users/bob/AppData/Local/Google/Chrome/User Data/Profile 1")
    build_chrome_history(chrome, {
        "urls": [{"id": 1, "url": "https://www.filesend.to/", "title": "宅ふぁいる便",
                  "last_visit_time": webkit_from_iso("2024-06-01T00:00:00.000002Z")}],
        "visits": [{"id": 1, "url": 1, "visit_time": webkit_from_iso("2024-06-01T00:00:00.000002Z"),
                    "transition": LINK}],
    })
    (evidence / "Users" / "bob" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" /
     "Profile 1" / "History-journal").write_bytes(b"")  # empty journal: ignored
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["artifact"] == "ChromiumHistory"]
    assert len(events) == 10
    by_user = {}
    for event in events:
        by_user.setdefault(event["user"], []).append(event)
    assert sorted(by_user) == ["alice", "bob"]
    assert len(by_user["alice"]) == 9
    (bob,) = by_user["bob"]
    assert bob["timestamp"] == "2024-06-01T00:00:00.000002Z"
    assert bob["timestamp_desc"] == "Visited" and bob["family"] == "browser"
    assert bob["extractor"] == "chromium_history"
    assert bob["data"]["browser"] == "Chrome" and bob["data"]["profile"] == "Profile 1"
    assert bob["data"]["category"] == "file_transfer"
    assert bob["source"]["path"] == "/Users/bob/AppData/Local/Google/Chrome/User Data/Profile 1/History"
    wal_event = next(e for e in by_user["alice"] if e["data"].get("visit_id") == 4)
    assert wal_event["timestamp"] == T_V4
    assert wal_event["data"]["url"] == "https://firestorage.jp/upload"
    assert tree_digest(evidence) == before
