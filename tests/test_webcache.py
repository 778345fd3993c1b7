"""WebCache extractor: WebCacheV01.dat databases built with the ESE writer, exact values, bad
input, and a run on a folder laid out like a system drive."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

pytest.importorskip("pyesedb")

from fixtures.builders.ese_writer import build_srudb, build_webcache  # noqa: E402
from tests.conftest import FT_1, FT_2, read_jsonl, tree_digest  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.webcache import (  # noqa: E402
    WebCacheExtractor,
    download_details,
    utf16_strings,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

FT_1_ISO = "2026-03-02T01:02:03.1234567Z"
FT_2_ISO = "2026-03-02T02:02:03.1234567Z"
HOUR = 36_000_000_000
WEBCACHE = "Users/alice/AppData/Local/Microsoft/Windows/WebCache"
HISTORY_DIR = "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\History\\History.IE5\\"
GIGAFILE_ZIP = "https://45.gigafile.nu/0302-c9b2f/customers.zip"
TARGET = "C:\\Users\\alice\\Downloads\\customers.zip"
RESPONSE_HEADERS = (b"\x01\x00\x00\x00\x20\x00\x00\x00"
                    + (GIGAFILE_ZIP + "\0").encode("utf-16-le")
                    + b"\x00\x00\x10\x00"
                    + (TARGET + "\0").encode("utf-16-le") + b"\x00" * 6)

HISTORY = [
    {"EntryId": 1, "Url": "Visited: alice@https://gigafile.nu/", "AccessCount": 3,
     "CreationTime": FT_1 - HOUR, "ModifiedTime": FT_1 - HOUR, "AccessedTime": FT_1,
     "ExpiryTime": FT_1 + 20 * 24 * HOUR, "SyncTime": FT_1, "Type": 0x00100000},
    {"EntryId": 2, "Url": "Visited: alice@https://mail.google.com/mail/u/0/#inbox",
     "AccessCount": 1, "AccessedTime": FT_2, "ModifiedTime": FT_2},
    {"EntryId": 3, "Url": "Visited: alice@file:///C:/Users/alice/Documents/report.docx",
     "AccessCount": 2, "AccessedTime": FT_2 + 1},
    {"EntryId": 4, "Url": "Visited: alice@https://example.com/", "AccessCount": 1,
     "ModifiedTime": FT_1},  # no AccessedTime
    {"EntryId": 5, "Url": "Visited: alice@https://example.org/", "AccessedTime": -5},
]
DAILY = [{"EntryId": 1, "Url": ":2026030220260303: alice@https://gigafile.nu/",
          "AccessCount": 3, "AccessedTime": FT_1}]
DOWNLOADS = [{"EntryId": 1, "Url": "iedownload:" + GIGAFILE_ZIP, "FileSize": 123_456,
              "AccessedTime": FT_2, "CreationTime": FT_2 - 600_000_000,
              "ResponseHeaders": RESPONSE_HEADERS}]
CONTENT = [{"EntryId": 1, "Url": "https://mail.google.com/favicon.ico",
            "Filename": "favicon[1].ico", "FileExtension": "ico", "FileSize": 5430,
            "AccessedTime": FT_1}]


def _database() -> bytes:
    return build_webcache([
        (1, "History", HISTORY_DIR, HISTORY),
        (2, "iedownload", "", DOWNLOADS),
        (3, "Content", "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\INetCache\\IE\\",
         CONTENT),
        (4, "Cookies", "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\INetCookies\\",
         [{"EntryId": 1, "Url": "Cookie:alice@gigafile.nu/", "AccessedTime": FT_1}]),
        (5, "MSHist012026030220260303", HISTORY_DIR + "MSHist012026030220260303\\", DAILY),
        (6, "MSHist012026022320260302", HISTORY_DIR + "MSHist012026022320260302\\", None),
        (7, "DOMStore", "", None),
    ], dirty=True)


def _extract(tmp_path: Path, data: bytes, options: dict | None = None,
             where: str = f"/{WEBCACHE}/WebCacheV01.dat"):
    path = tmp_path / "WebCacheV01.dat"
    path.write_bytes(data)
    ctx = ExtractionContext(options=options or {})
    events = list(WebCacheExtractor().extract(LocalFile(str(path), path=where), ctx))
    return events, ctx


def _iso(event) -> str | None:
    return event.timestamp.iso() if event.timestamp else None


def test_history_and_downloads(tmp_path):
    events, ctx = _extract(tmp_path, _database())
    assert [(e.timestamp_desc, _iso(e), e.data["url"]) for e in events] == [
        ("Visited", FT_1_ISO, "https://gigafile.nu/"),
        ("Visited", FT_2_ISO, "https://mail.google.com/mail/u/0/#inbox"),
        ("Visited", "2026-03-02T02:02:03.1234568Z", "file:///C:/Users/alice/Documents/report.docx"),
        ("Visited", None, "https://example.com/"),
        ("Visited", None, "https://example.org/"),
        ("Download", FT_2_ISO, GIGAFILE_ZIP),
        ("Visited", FT_1_ISO, "https://gigafile.nu/"),
    ]
    gigafile = events[0]
    assert gigafile.message == "Visited https://gigafile.nu/ by alice, 3 visit(s)"
    assert gigafile.user == "alice"
    assert gigafile.data == {
        "browser": "Internet Explorer / Edge (legacy)", "container": "History",
        "container_id": 1, "container_directory": HISTORY_DIR, "entry_id": 1,
        "url": "https://gigafile.nu/", "domain": "gigafile.nu", "category": "file_transfer",
        "url_user": "alice", "access_count": 3, "file_name": None, "file_extension": None,
        "file_size": 0,  # a NULL fixed column before the last one set reads as zeros
        "redirect_url": None,
        "creation_time": "2026-03-02T00:02:03.1234567Z",
        "modified_time": "2026-03-02T00:02:03.1234567Z", "accessed_time": FT_1_ISO,
        "expiry_time": "2026-03-22T01:02:03.1234567Z", "sync_time": FT_1_ISO,
    }
    gmail = events[1]
    assert (gmail.data["domain"], gmail.data["category"]) == ("mail.google.com", "webmail")
    local = events[2]
    assert (local.data["domain"], local.data["category"]) == (None, "other")
    assert events[3].data["modified_time"] == FT_1_ISO  # the times it does have are kept
    download = events[5]
    assert download.message == f"Downloaded {GIGAFILE_ZIP} to {TARGET}"
    assert download.user == "alice"  # from the profile the database lies in
    assert {k: download.data[k] for k in (
        "container", "target_path", "source_url", "file_size", "category", "url_user",
        "creation_time")} == {
        "container": "iedownload", "target_path": TARGET, "source_url": GIGAFILE_ZIP,
        "file_size": 123_456, "category": "file_transfer", "url_user": None,
        "creation_time": "2026-03-02T02:01:03.1234567Z"}
    daily = events[6]
    assert daily.data["container"] == "MSHist012026030220260303"
    assert daily.data["url_user"] == "alice"
    assert ctx.errors == []
    assert ctx.warnings == [
        "the database was not shut down cleanly (dirty shutdown): changes still only in its "
        "transaction logs (V01*.log) are not included",
        "AccessedTime: 1 value(s) not a valid time: left without a time"]
    assert ctx.notes == [
        "container MSHist012026022320260302 (6) has no Container_6 table",
        "1 cached content entr(ies) not put on the timeline (extractor option "
        "webcache_content)"]


def test_content_entries_with_the_option(tmp_path):
    events, ctx = _extract(tmp_path, _database(), {"webcache_content": True})
    content = [e for e in events if e.timestamp_desc == "Cache Entry Accessed"]
    assert len(content) == 1
    assert content[0].message == ("Cached https://mail.google.com/favicon.ico "
                                  "(cached as favicon[1].ico)")
    assert _iso(content[0]) == FT_1_ISO
    assert {k: content[0].data[k] for k in ("file_name", "file_extension", "file_size",
                                            "category")} == {
        "file_name": "favicon[1].ico", "file_extension": "ico", "file_size": 5430,
        "category": "webmail"}
    assert not any("cached content" in n for n in ctx.notes)


def test_many_entries_over_several_pages(tmp_path):
    visits = [{"EntryId": i, "Url": f"Visited: alice@https://example.com/page/{i}",
               "AccessCount": i, "AccessedTime": FT_1 + i * 10_000_000} for i in range(1, 401)]
    data = build_webcache([(1, "History", HISTORY_DIR, visits)])
    events, ctx = _extract(tmp_path, data)
    assert len(events) == 400 and ctx.errors == [] and ctx.warnings == []
    assert events[-1].data["url"] == "https://example.com/page/400"
    assert _iso(events[-1]) == "2026-03-02T01:08:43.1234567Z"


def test_download_without_recognisable_headers(tmp_path):
    data = build_webcache([(2, "iedownload", "", [
        {"EntryId": 1, "Url": "https://example.com/a.exe", "AccessedTime": FT_1,
         "ResponseHeaders": b"\x01\x00\x00\x00"}])])
    events, _ = _extract(tmp_path, data)
    assert events[0].message == "Downloaded https://example.com/a.exe"
    assert events[0].data["target_path"] is None and events[0].data["source_url"] is None


def test_user_names_with_spaces_and_at_signs_in_urls(tmp_path):
    data = build_webcache([(1, "History", HISTORY_DIR, [
        {"EntryId": 1, "Url": "Visited: John Smith@https://user@files.example.net/a",
         "AccessedTime": FT_1}])])
    events, _ = _extract(tmp_path, data, where="/Users/jsmith/AppData/WebCacheV01.dat")
    assert events[0].data["url_user"] == "John Smith" and events[0].user == "John Smith"
    assert events[0].data["url"] == "https://user@files.example.net/a"
    assert events[0].data["domain"] == "files.example.net"


def test_header_string_helpers():
    assert utf16_strings(RESPONSE_HEADERS) == [GIGAFILE_ZIP, TARGET]
    assert utf16_strings(b"\x01\x02") == []
    assert download_details(None, RESPONSE_HEADERS) == (TARGET, GIGAFILE_ZIP)
    unc = ("\\\\fileserver\\share\\report.pdf\0").encode("utf-16-le")
    assert download_details(unc) == ("\\\\fileserver\\share\\report.pdf", None)


def test_not_webcache(tmp_path):
    with pytest.raises(ArtifactError, match="not a WebCache database"):
        _extract(tmp_path, build_srudb())
    with pytest.raises(ArtifactError, match="not an ESE database"):
        _extract(tmp_path, b"\0" * 8192)
    with pytest.raises(ArtifactError, match=r"truncated WebCache ESE database \(5000 bytes\)"):
        _extract(tmp_path, _database()[:5000])


def test_truncated_table_loses_only_its_entries(tmp_path):
    visits = [{"EntryId": i, "Url": f"Visited: alice@https://example.com/page/{i}",
               "AccessedTime": FT_1} for i in range(1, 401)]
    data = build_webcache([(1, "History", HISTORY_DIR, visits), (2, "iedownload", "", DOWNLOADS)])
    pages = len(data) // 4096
    events, ctx = _extract(tmp_path, data[:(pages - 3) * 4096 + 10])  # the last leaves cut
    assert ctx.errors[0].startswith("the file is truncated")
    assert ctx.errors[1].startswith("table Container_1: its records could not be read")
    assert [e.timestamp_desc for e in events] == ["Download"]


# ---------------------------------------------------------------- end to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    folder = evidence / WEBCACHE
    folder.mkdir(parents=True)
    (folder / "WebCacheV01.dat").write_bytes(_database())
    (folder / "V01.log").write_bytes(b"\0" * 512)  # transaction log beside it: not parsed
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["extractor"] == "webcache"]
    assert len(events) == 7
    assert all(e["artifact"] == "WebCache" and e["family"] == "browser" and e["user"] == "alice"
               for e in events)
    visits = [e for e in events if e["timestamp"] == FT_1_ISO and e["timestamp_desc"] == "Visited"]
    assert {e["data"]["container"] for e in visits} == {"History", "MSHist012026030220260303"}
    assert all(e["data"]["category"] == "file_transfer" for e in visits)
    download = next(e for e in events if e["timestamp_desc"] == "Download")
    assert download["timestamp"] == FT_2_ISO and download["data"]["target_path"] == TARGET
    assert download["source"]["path"] == f"/{WEBCACHE}/WebCacheV01.dat"
    assert tree_digest(evidence) == before
