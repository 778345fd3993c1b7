"""Seed files for the fuzz targets: built on the fly by the project's own writers
(fixtures/builders/*_writer.py), read from the committed fixtures (fixtures/artifacts/), and,
when the folder exists, read in place from the third-party samples (../shared/samples, or the
folder named by TRIAGE_SAMPLES): never copied anywhere.

A seed is the file under test with the path an examiner would find it at (extractors look at
names and profile paths), the files beside it that its extractor pairs it with (a `$R`, a
`-wal`, a hive's `.LOG1`) and other files of the volume (`/$MFT` for the USN journal). `mutate`
names the file the fuzzer changes: the main file by default, or one of its companions, so that
log recovery and WAL checking are fuzzed too.

Why small seeds: a seed's size is what every input costs. Builders write a handful of records
of every kind the extractor knows; committed disk-image fixtures are kept whole (their empty
space is skipped by the mutators' hot offsets) and big samples are left to the long run.
"""
from __future__ import annotations

import datetime as _dt
import functools
import json
import os
import struct
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

FIXTURES = ROOT / "fixtures" / "artifacts"
SAMPLES_ENV = "TRIAGE_SAMPLES"
CI_SAMPLE_LIMIT = 128 * 1024  # samples bigger than this are used by the long run only
LONG_SAMPLE_LIMIT = 1024 * 1024  # the long run's default; --sample-limit for the 2-16 MiB ones

ALICE_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
FT = 134168869231234567  # 2026-03-02T01:02:03.1234567Z
HOUR = 36_000_000_000
UTC = _dt.timezone.utc
PROFILE = "/Users/alice"
RECENT = f"{PROFILE}/AppData/Roaming/Microsoft/Windows/Recent"


@dataclass
class Seed:
    """One starting point for mutations (see the module docstring)."""

    label: str
    path: str
    data: bytes
    siblings: dict[str, bytes] = field(default_factory=dict)
    folders: dict[str, dict[str, bytes]] = field(default_factory=dict)
    volume: dict[str, bytes] = field(default_factory=dict)
    mutate: str = ""  # "" the main file; "sibling:NAME"; "volume:/PATH"
    origin: str = "built"  # built | fixture | sample
    # Applied to the mutated bytes before the parser sees them (e.g. a prefetch file mutated
    # decompressed, then packed in its MAM container).
    encode: Callable[[bytes], bytes] | None = None

    def target_bytes(self) -> bytes:
        kind, _, name = self.mutate.partition(":")
        if kind == "sibling":
            return self.siblings[name]
        if kind == "volume":
            return self.volume[name]
        return self.data

    def with_mutated(self, data: bytes) -> "Seed":
        """A copy whose mutated file holds `data`."""
        kind, _, name = self.mutate.partition(":")
        copy = Seed(self.label, self.path, self.data, dict(self.siblings), dict(self.folders),
                    dict(self.volume), self.mutate, self.origin, self.encode)
        if kind == "sibling":
            copy.siblings[name] = data
        elif kind == "volume":
            copy.volume[name] = data
        else:
            copy.data = data
        return copy


# ---------------------------------------------------------------------------------- locations


def samples_dir() -> Path | None:
    """The shared samples folder, or None when absent (seeds from it are then skipped)."""
    named = os.environ.get(SAMPLES_ENV)
    folder = Path(named) if named else ROOT.parent / "shared" / "samples"
    return folder if folder.is_dir() else None


def sample_seeds(kind_path: str, path_for: Callable[[Path], str], limit: int,
                 pattern: str = "*", siblings: Callable[[Path], dict[str, bytes]] | None = None
                 ) -> list[Seed]:
    """Seeds from samples/<kind_path>/ (recursively) up to `limit` bytes each."""
    folder = samples_dir()
    if folder is None:
        return []
    base = folder / kind_path
    if not base.exists():
        return []
    found = [base] if base.is_file() else sorted(p for p in base.rglob(pattern) if p.is_file())
    seeds = []
    for path in found:
        if path.stat().st_size > limit:
            continue
        seeds.append(Seed(f"sample:{path.relative_to(folder)}", path_for(path),
                          path.read_bytes(), siblings(path) if siblings else {},
                          origin="sample"))
    return seeds


def fixture(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def _sqlite_files(build: Callable[[Path], Path]) -> tuple[bytes, dict[str, bytes]]:
    """Run an SQLite builder in a private folder; (main file, {"-wal"/"-journal" name: bytes})."""
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as folder:
        main = build(Path(folder) / "db")
        companions = {}
        for suffix in ("-wal", "-journal"):
            extra = Path(str(main) + suffix)
            if extra.exists():
                companions[suffix] = extra.read_bytes()
        return main.read_bytes(), companions


def _sqlite_seeds(label: str, path: str, build: Callable[[Path], Path]) -> list[Seed]:
    """The database, and (when the builder left one) the same with its -wal mutated."""
    data, companions = _sqlite_files(build)
    name = path.rsplit("/", 1)[-1]
    siblings = {name + suffix: raw for suffix, raw in companions.items()}
    seeds = [Seed(label, path, data, siblings)]
    for sibling in siblings:
        seeds.append(Seed(f"{label} ({sibling} mutated)", path, data, siblings,
                          mutate=f"sibling:{sibling}"))
    return seeds


# ---------------------------------------------------------------------------------- prefetch


def prefetch_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.prefetch_writer import PrefetchVolume, build_prefetch
    from fuzz.fixups import mam_compress

    vol = "\\VOLUME{01d3096ba3a46863-2ca3d1ae}"
    volumes = [PrefetchVolume(vol, 0x2CA3D1AE, FT - 1000 * HOUR,
                              [vol + "\\WINDOWS", vol + "\\WINDOWS\\SYSTEM32"])]
    files = [vol + "\\WINDOWS\\SYSTEM32\\NTDLL.DLL", vol + "\\WINDOWS\\SYSTEM32\\NOTEPAD.EXE",
             vol + "\\USERS\\ALICE\\顧客.TXT"]
    where = "/Windows/Prefetch/NOTEPAD.EXE-D8414F97.pf"
    seeds = []
    for version, compressed in ((17, False), (23, False), (26, False), (30, False), (30, True)):
        runs = [FT, FT - HOUR, 0, FT - 3 * HOUR] if version >= 26 else [FT]
        data = build_prefetch("NOTEPAD.EXE", 0xD8414F97, runs, 5, volumes, files,
                              version=version, compressed=compressed)
        seeds.append(Seed(f"v{version}{' MAM' if compressed else ''}", where, data))
    seeds.append(Seed("v30 mutated, then MAM-compressed", where, seeds[3].data,
                      encode=mam_compress))
    seeds += sample_seeds("prefetch", lambda p: f"/Windows/Prefetch/{p.name}", limit, "*.pf")
    return seeds


# ---------------------------------------------------------------------------------- recycle bin


def recycle_i_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.recycle_writer import build_i_file

    folder = f"/$Recycle.Bin/{ALICE_SID}"
    seeds = [
        Seed("v2 with $R", f"{folder}/$IAB12CD.xlsx",
             build_i_file("C:\\Users\\alice\\Documents\\顧客.xlsx", 42, FT),
             {"$RAB12CD.xlsx": b"customer-list" * 3}),
        Seed("v1 with $R folder", f"{folder}/$IZZ99.txt",
             build_i_file("C:\\Users\\alice\\Old", 9, FT - HOUR, version=1),
             folders={"$RZZ99.txt": {"a.txt": b"first", "sub/b.txt": b"second"}}),
    ]
    seeds += sample_seeds("recyclebin", lambda p: f"{folder}/{p.name}", limit, "$I*")
    return seeds


def recycle_info2_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.recycle_writer import Info2Record, build_info2

    folder = f"/RECYCLER/{ALICE_SID}"
    records = [Info2Record(1, 2, FT, 4096, "C:\\Documents and Settings\\alice\\report.doc"),
               Info2Record(2, 3, FT + HOUR, 12, "D:\\data\\list.csv", removed=True),
               Info2Record(3, 2, FT + 2 * HOUR, 1, "C:\\temp\\x.txt")]
    seeds = [Seed("xp", f"{folder}/INFO2", build_info2(records), {"Dc1.doc": b"document"}),
             Seed("win98", f"{folder}/INFO2", build_info2(records[:1], record_size=280))]
    seeds += sample_seeds("recyclebin", lambda p: f"{folder}/INFO2", limit, "INFO2")
    return seeds


# ---------------------------------------------------------------------------------- shortcuts


def _lnk_bytes() -> list[bytes]:
    from fixtures.builders import lnk_writer as w

    when = _dt.datetime(2026, 3, 1, 9, 30, 4, tzinfo=UTC)
    local = w.build_lnk(
        target_id_list=w.id_list(
            w.root_item(), w.volume_item("E:\\"),
            w.file_entry_item("CUSTOMERS", is_directory=True, modified=when, created=when,
                              accessed=when, mft_entry=35, mft_sequence=1),
            w.file_entry_item("顧客リスト.xlsx", short_name="0A1B~1.XLS", size=52311,
                              modified=when, created=when, accessed=when, mft_entry=81349,
                              mft_sequence=3)),
        link_info=w.link_info_local("E:\\CUSTOMERS\\顧客リスト.xlsx", w.DRIVE_REMOVABLE,
                                    0x4B1D2C3E, "KIOXIA"),
        description="customer list", relative_path="..\\CUSTOMERS\\顧客リスト.xlsx",
        working_directory="E:\\CUSTOMERS", arguments="/r",
        icon_location="%ProgramFiles%\\Office\\EXCEL.EXE",
        extra_blocks=[w.environment_block("%USERPROFILE%\\Documents\\a.xlsx"),
                      w.tracker_block("ws-acct-07", "c989f572-4deb-4c64-b0d1-dc4959bbff28",
                                      w.uuid1_droid("08:00:27:ac:3d:7f", FT)),
                      w.known_folder_block("fdd39ad0-238f-46af-adb4-6c85480369c7")],
        created=FT, modified=FT - HOUR, accessed=FT + HOUR, file_size=52311)
    network = w.build_lnk(
        target_id_list=w.id_list(w.root_item(w.MY_NETWORK_PLACES),
                                 w.network_item("\\\\FILESRV\\Public"),
                                 w.file_entry_item("old.xlsx", size=10),
                                 w.uri_item("https://example.com/a")),
        link_info=w.link_info_network("\\\\FILESRV\\Public", "old.xlsx", device_name="Z:"),
        created=FT, modified=FT, accessed=FT)
    return [local, network]


def lnk_seeds(limit: int) -> list[Seed]:
    local, network = _lnk_bytes()
    seeds = [Seed("local removable", f"{RECENT}/顧客リスト.xlsx.lnk", local),
             Seed("network share", f"{RECENT}/old.xlsx.lnk", network)]
    seeds += sample_seeds("lnk", lambda p: f"{RECENT}/{p.name}", limit, "*.lnk")
    return seeds


def jumplist_auto_seeds(limit: int) -> list[Seed]:
    from fixtures.builders import jumplist_writer as jw

    local, network = _lnk_bytes()
    where = f"{RECENT}/AutomaticDestinations/b8ab77100df80ab2.automaticDestinations-ms"
    entries = [jw.DestEntry(2, "E:\\CUSTOMERS\\顧客リスト.xlsx", FT, hostname="ws-acct-07",
                            pin_status=0, access_count=7,
                            droid_volume="c989f572-4deb-4c64-b0d1-dc4959bbff28"),
               jw.DestEntry(1, "\\\\FILESRV\\Public\\old.xlsx", 0, access_count=1)]
    seeds = []
    for version in (1, 4):
        data = jw.build_automatic_destinations(entries, {2: local, 1: network}, version=version)
        seeds.append(Seed(f"DestList v{version}", where, data))
    seeds += sample_seeds("jumplist", lambda p: f"{RECENT}/AutomaticDestinations/{p.name}", limit,
                          "*.automaticDestinations-ms")
    return seeds


def jumplist_custom_seeds(limit: int) -> list[Seed]:
    from fixtures.builders import jumplist_writer as jw

    local, network = _lnk_bytes()
    where = f"{RECENT}/CustomDestinations/f01b4d95cf55d32a.customDestinations-ms"
    data = jw.build_custom_destinations([
        jw.Category("custom", [local, network], name="Pinned"), jw.Category("known", known_id=2),
        jw.Category("tasks", [network])])
    seeds = [Seed("three categories", where, data)]
    seeds += sample_seeds("jumplist", lambda p: f"{RECENT}/CustomDestinations/{p.name}", limit,
                          "*.customDestinations-ms")
    return seeds


# ---------------------------------------------------------------------------------- event logs


def evtx_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.evtx_writer import (HEX32, EvtxRecord, Value, build_evtx, event_data,
                                               hex64, sid, u32, u64, user_data)

    security = "Microsoft-Windows-Security-Auditing"
    records = [
        EvtxRecord(4624, security, "Security", FT, computer="WKS-01.corp.example",
                   provider_guid="{54849625-5478-4994-A5BA-3E3B0328C30D}", level=0,
                   payload=event_data([
                       ("SubjectUserSid", sid("S-1-5-18")), ("TargetUserSid", sid(ALICE_SID)),
                       ("TargetUserName", "alice"), ("TargetDomainName", "CORP"),
                       ("TargetLogonId", hex64(0x4A5B6C)), ("LogonType", u32(10)),
                       ("IpAddress", "192.0.2.7"), ("IpPort", "50123"),
                       ("LogonGuid", Value(0x0F, "{01234567-89ab-cdef-0123-456789abcdef}"))])),
        EvtxRecord(4625, security, "Security", FT + HOUR, payload=event_data([
            ("TargetUserName", "administrator"), ("Status", Value(HEX32, 0xC000006D)),
            ("LogonType", u32(3)), ("IpAddress", "198.51.100.23")])),
        EvtxRecord(7045, "Service Control Manager", "System", FT + 2 * HOUR, qualifiers=16384,
                   user_sid=ALICE_SID, payload=event_data({
                       "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
                       "StartType": "demand start"})),
        EvtxRecord(104, "Microsoft-Windows-Eventlog", "System", FT + 3 * HOUR,
                   payload=user_data("LogFileCleared",
                                     "http://manifests.microsoft.com/win/2004/08/windows/eventlog",
                                     {"SubjectUserName": "alice", "Channel": "Security"})),
        EvtxRecord(1006, "Microsoft-Windows-Partition", "Microsoft-Windows-Partition/Diagnostic",
                   FT + 4 * HOUR, version=2, payload=event_data([
                       ("Capacity", u64(15_728_640_000)), ("Manufacturer", "SanDisk"),
                       ("SerialNumber", "4C530001230721117134"),
                       ("PartitionTable", Value(0x0E, bytes(range(16))))])),
    ]
    slack = EvtxRecord(4720, security, "Security", FT + 5 * HOUR, record_id=99,
                       payload=event_data({"TargetUserName": "mallory"}))
    where = "/Windows/System32/winevt/Logs/Security.evtx"
    seeds = [Seed("security+system", where, build_evtx(records)),
             Seed("two chunks with slack", where,
                  build_evtx(records[:2], records_per_chunk=1, slack=slack))]
    seeds += sample_seeds("evtx", lambda p: f"/Windows/System32/winevt/Logs/{p.name}", limit,
                          "*.evtx")
    return seeds


# ---------------------------------------------------------------------------------- browsers


def chromium_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.browser_writer import build_chrome_history, webkit_from_iso as w

    rows = {
        "urls": [{"id": 1, "url": "https://46.gigafile.nu/upload", "title": "ギガファイル便",
                  "visit_count": 1, "last_visit_time": w("2024-05-01T09:16:02.000001Z")},
                 {"id": 2, "url": "https://www.google.co.jp/search?q=x", "title": "x",
                  "visit_count": 1, "typed_count": 1,
                  "last_visit_time": w("2024-05-01T09:15:30.123456Z")}],
        "visits": [{"id": 1, "url": 2, "visit_time": w("2024-05-01T09:15:30.123456Z"),
                    "from_visit": 0, "transition": 0x30000001, "visit_duration": 31_500_000},
                   {"id": 2, "url": 1, "visit_time": w("2024-05-01T09:16:02.000001Z"),
                    "from_visit": 1, "transition": 0x30000000,
                    "external_referrer_url": "https://intranet.example/"}],
        "visit_source": [{"id": 2, "source": 0}],
        "keyword_search_terms": [{"keyword_id": 2, "url_id": 2, "term": "顧客",
                                  "normalized_term": "顧客"}],
        "downloads": [{"id": 1, "guid": "6A0B8C1E-2D3F-4A5B-9C8D-7E6F5A4B3C2D",
                       "current_path": "C:\\Users\\alice\\Downloads\\c.zip",
                       "target_path": "C:\\Users\\alice\\Downloads\\c.zip",
                       "start_time": w("2024-05-01T09:21:10.654321Z"),
                       "end_time": w("2024-05-01T09:21:15.000100Z"), "received_bytes": 2048,
                       "total_bytes": 2048, "state": 1, "opened": 1,
                       "tab_url": "https://drive.google.com/", "mime_type": "application/zip",
                       "hash": b"\x01" * 32}],
        "downloads_url_chains": [{"id": 1, "chain_index": 0, "url": "https://drive.google.com/uc"},
                                 {"id": 1, "chain_index": 1, "url": "https://d.example/x"}],
    }
    wal = {"urls": [{"id": 3, "url": "https://firestorage.jp/", "title": "f", "visit_count": 1,
                     "last_visit_time": w("2024-05-01T10:00:00.999999Z")}],
           "visits": [{"id": 3, "url": 3, "visit_time": w("2024-05-01T10:00:00.999999Z"),
                       "transition": 0x30000000}]}
    where = f"{PROFILE}/AppData/Local/Microsoft/Edge/User Data/Default/History"
    seeds = _sqlite_seeds("current schema + wal", where,
                          lambda p: build_chrome_history(p, rows, wal_rows=wal))
    legacy = {"urls": [{"id": 1, "url": "https://example.com/", "title": "e", "visit_count": 1,
                        "last_visit_time": w("2011-01-01T00:00:00Z")}],
              "visits": [{"id": 1, "url": 1, "visit_time": w("2011-01-01T00:00:00Z")}],
              "downloads": [{"id": 1, "full_path": "C:\\d\\a.exe", "url": "https://e/a.exe",
                             "start_time": 1293840000, "received_bytes": 1, "total_bytes": 1,
                             "state": 1}]}
    seeds += _sqlite_seeds("Chrome 8 schema", where.replace("Microsoft/Edge", "Google/Chrome"),
                           lambda p: build_chrome_history(p, legacy, legacy=True))
    seeds += sample_seeds("browser/chrome", lambda p: where, limit, "History*")
    return seeds


def _places_rows() -> dict:
    from fixtures.builders.browser_writer import js_ms_from_iso, prtime_from_iso as p

    t = "2024-07-01T08:00:00.000001Z"
    return {
        "moz_places": [{"id": 1, "url": "https://46.gigafile.nu/", "title": "GigaFile便",
                        "rev_host": "un.elifagig.64.", "visit_count": 1, "last_visit_date": p(t),
                        "guid": "AAAAAAAAAAA1"},
                       {"id": 2, "url": "https://www.dropbox.com/s/a/r.xlsx?dl=1", "hidden": 1,
                        "last_visit_date": p(t), "guid": "AAAAAAAAAAA2"}],
        "moz_historyvisits": [{"id": 1, "from_visit": 0, "place_id": 1, "visit_date": p(t),
                               "visit_type": 2, "session": 0, "source": 0},
                              {"id": 2, "from_visit": 1, "place_id": 2, "visit_date": p(t) + 1,
                               "visit_type": 7, "source": 3}],
        "moz_bookmarks": [{"id": 1, "type": 2, "parent": 0, "title": "", "dateAdded": p(t),
                           "lastModified": p(t), "guid": "root________"},
                          {"id": 10, "type": 2, "parent": 1, "title": "転送", "dateAdded": p(t),
                           "lastModified": p(t), "guid": "folder000010"},
                          {"id": 11, "type": 1, "fk": 1, "parent": 10, "title": "Giga",
                           "dateAdded": p(t), "lastModified": p(t), "guid": "bookmark0011"}],
        "moz_anno_attributes": [{"id": 1, "name": "bookmarkProperties/description"},
                                {"id": 2, "name": "downloads/destinationFileURI"},
                                {"id": 3, "name": "downloads/metaData"}],
        "moz_items_annos": [{"id": 1, "item_id": 11, "anno_attribute_id": 1, "content": "d",
                             "dateAdded": p(t), "lastModified": p(t)}],
        "moz_annos": [{"id": 1, "place_id": 2, "anno_attribute_id": 2,
                       "content": "file:///C:/Users/alice/Downloads/r%20final.xlsx",
                       "dateAdded": p(t), "lastModified": p(t)},
                      {"id": 2, "place_id": 2, "anno_attribute_id": 3,
                       "content": json.dumps({"state": 1, "fileSize": 52311,
                                              "endTime": js_ms_from_iso(t)}),
                       "dateAdded": p(t), "lastModified": p(t)}],
    }


FIREFOX = f"{PROFILE}/AppData/Roaming/Mozilla/Firefox/Profiles/x1y2z3.default-release"


def firefox_places_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.browser_writer import build_places, prtime_from_iso

    wal = {"moz_places": [{"id": 3, "url": "https://wetransfer.com/", "guid": "AAAAAAAAAAA3",
                           "last_visit_date": prtime_from_iso("2024-07-01T09:00:00Z")}]}
    seeds = _sqlite_seeds("places + wal", f"{FIREFOX}/places.sqlite",
                          lambda p: build_places(p, _places_rows(), wal_rows=wal))
    seeds += sample_seeds("browser/firefox/places.sqlite", lambda p: f"{FIREFOX}/places.sqlite",
                          limit)
    return seeds


def firefox_downloads_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.browser_writer import build_firefox_downloads, prtime_from_iso as p

    rows = {"moz_downloads": [
        {"id": 1, "name": "a.zip", "source": "https://e.example/a.zip",
         "target": "file:///C:/Users/alice/Downloads/a.zip", "startTime": p("2012-01-01T00:00:00Z"),
         "endTime": p("2012-01-01T00:00:09Z"), "state": 1, "referrer": "https://e.example/",
         "currBytes": 10, "maxBytes": 10, "mimeType": "application/zip"}]}
    seeds = _sqlite_seeds("legacy downloads", f"{FIREFOX}/downloads.sqlite",
                          lambda p_: build_firefox_downloads(p_, rows))
    seeds += sample_seeds("browser/firefox/downloads.sqlite",
                          lambda p_: f"{FIREFOX}/downloads.sqlite", limit)
    return seeds


def activities_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.browser_writer import build_activities_cache, posix_from_iso as t

    app = json.dumps([{"application": "Microsoft.Office.WINWORD.EXE.15",
                       "platform": "windows_win32"},
                      {"application": "{6D809377-6AF0-444B-8957-A3773F02200E}\\App\\a.exe",
                       "platform": "x_exe_path"}])
    payload = json.dumps({"displayText": "報告書.docx", "appDisplayName": "Word",
                          "description": "C:\\Users\\alice\\Documents\\報告書.docx",
                          "contentUri": "file:///C:/Users/alice/Documents/x.docx"
                                        "?VolumeId={0A1B}&KnownFolderId=Documents",
                          "activeDurationSeconds": 95, "type": "UserEngaged"}).encode()
    rows = {"Activity": [
        {"Id": bytes(range(16)), "AppId": app, "AppActivityId": "ECB32AF3\\C:\\x.docx",
         "ActivityType": 5, "ActivityStatus": 1, "StartTime": t("2024-08-01T01:02:03Z"),
         "EndTime": 0, "LastModifiedTime": t("2024-08-01T01:02:04Z"),
         "ExpirationTime": t("2024-08-31T01:02:04Z"), "Payload": payload, "ETag": 7},
        {"Id": bytes(range(16, 32)), "AppId": app, "ActivityType": 10, "ActivityStatus": 1,
         "StartTime": t("2024-08-01T02:05:00Z"), "LastModifiedTime": t("2024-08-01T02:05:01Z"),
         "Payload": b'{"clipboardDataId": "{1}"}',
         "ClipboardPayload": json.dumps([{"content": "6aGn5a6i", "formatName": "Text"}])}],
        "ActivityOperation": [
            {"OperationOrder": 1, "Id": bytes(range(32, 48)), "OperationType": 1, "AppId": app,
             "ActivityType": 6, "StartTime": t("2024-08-01T03:00:00Z"),
             "LastModifiedTime": t("2024-08-01T03:00:00Z"), "Payload": payload}]}
    where = f"{PROFILE}/AppData/Local/ConnectedDevicesPlatform/L.alice/ActivitiesCache.db"
    return _sqlite_seeds("activities", where, lambda p: build_activities_cache(p, rows))


def webcache_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.ese_writer import build_webcache

    history_dir = "C:\\Users\\alice\\AppData\\Local\\Microsoft\\Windows\\History\\History.IE5\\"
    url = "https://45.gigafile.nu/0302-c9b2f/customers.zip"
    headers = (b"\x01\x00\x00\x00\x20\x00\x00\x00" + (url + "\0").encode("utf-16-le")
               + b"\x00\x00\x10\x00" + "C:\\Users\\alice\\Downloads\\c.zip\0".encode("utf-16-le"))
    data = build_webcache([
        (1, "History", history_dir, [
            {"EntryId": 1, "Url": "Visited: alice@https://gigafile.nu/", "AccessCount": 3,
             "CreationTime": FT - HOUR, "ModifiedTime": FT - HOUR, "AccessedTime": FT,
             "ExpiryTime": FT + HOUR, "SyncTime": FT, "Type": 0x00100000},
            {"EntryId": 2, "Url": "Visited: alice@file:///C:/Users/alice/r.docx",
             "AccessedTime": FT + 1}]),
        (2, "iedownload", "", [{"EntryId": 1, "Url": "iedownload:" + url, "FileSize": 123_456,
                                "AccessedTime": FT, "ResponseHeaders": headers}]),
        (3, "Content", "C:\\INetCache\\", [{"EntryId": 1, "Url": "https://m.example/f.ico",
                                            "Filename": "f[1].ico", "AccessedTime": FT}]),
        (5, "MSHist012026030220260303", history_dir + "MSHist012026030220260303\\",
         [{"EntryId": 1, "Url": ":2026030220260303: alice@https://gigafile.nu/",
           "AccessedTime": FT}]),
        (6, "DOMStore", "", None)], dirty=True)
    where = f"{PROFILE}/AppData/Local/Microsoft/Windows/WebCache/WebCacheV01.dat"
    return [Seed("history, downloads, content", where, data)]


def srum_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.ese_writer import build_srudb, sid_bytes

    h1 = _dt.datetime(2026, 3, 2, 1, tzinfo=UTC)
    chrome = "\\Device\\HarddiskVolume3\\Program Files\\Chrome\\chrome.exe"
    id_map = [{"IdType": 0, "IdIndex": 1, "IdBlob": chrome.encode("utf-16-le")},
              {"IdType": 3, "IdIndex": 2, "IdBlob": sid_bytes(ALICE_SID)},
              {"IdType": 1, "IdIndex": 3, "IdBlob": "Dnscache\0".encode("utf-16-le")}]
    network = [{"AutoIncId": 1, "TimeStamp": h1, "AppId": 1, "UserId": 2,
                "InterfaceLuid": (71 << 48) | (5 << 24), "L2ProfileId": 268435457,
                "L2ProfileFlags": 0, "BytesSent": 2_147_483_648, "BytesRecvd": 12_345}]
    resource = [{"AutoIncId": 1, "TimeStamp": h1, "AppId": 3, "UserId": 2,
                 "ForegroundCycleTime": 123_456_789, "FaceTime": 36_000_000_000,
                 "ForegroundBytesRead": 1_048_576}]
    connectivity = [{"AutoIncId": 1, "TimeStamp": h1, "AppId": 1, "UserId": 2,
                     "InterfaceLuid": (6 << 48) | (1 << 24), "L2ProfileId": 0,
                     "ConnectedTime": 3_600, "ConnectStartTime": FT, "L2ProfileFlags": 0}]
    data = build_srudb(id_map, network, resource, connectivity)
    return [Seed("network, resource, connectivity", "/Windows/System32/sru/SRUDB.dat", data)]


# ---------------------------------------------------------------------------------- mail, cloud

THUNDERBIRD = f"{PROFILE}/AppData/Roaming/Thunderbird/Profiles/k3x9a1b2.default-release"


def mbox_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.mail_writer import encoded_word, mbox_file, mime_message

    m1 = mime_message([("From", "Alice Sato <alice@example.co.jp>"),
                       ("To", encoded_word("山田太郎") + " <Taro.Yamada@gmail.com>"),
                       ("Cc", "boss@example.co.jp"), ("Subject", encoded_word("顧客名簿の件")),
                       ("Date", "Tue, 01 Apr 2025 09:15:30 +0900 (JST)"),
                       ("Message-ID", "<m1@example.co.jp>"), ("X-Mozilla-Status", "0001")],
                      body="see attached\n",
                      attachments=[('filename="' + encoded_word("顧客名簿") + '.csv"',
                                    b"name,phone\n", "text/csv"),
                                   ("filename*=UTF-8''%E8%A6%8B.pdf", b"%PDF-1.4",
                                    "application/pdf")])
    m2 = (b"From: alice@example.co.jp\nTo: friend@gmail.com\nSubject: lunch\n"
          b"Date: Thu, 03 Apr 2025 12:00:00 -0500\nX-Mozilla-Status: 1003\n\n"
          b"From here we walk.\n")
    m3 = mime_message([("From", "alice@example.co.jp"), ("To", "p@client.example.com"),
                       ("Subject", "見積書".encode("utf-8")), ("Date", "2 Apr 2025 18:30 JST")],
                      body="estimate", attachments=[('filename="見積書.pdf"'.encode("utf-8"),
                                                     b"%PDF", "application/pdf")])
    return [Seed("inbox", f"{THUNDERBIRD}/Mail/Local Folders/Inbox", mbox_file([m1, m2, m3]))]


def gloda_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.mail_writer import build_gloda, prtime_from_iso as p

    rows = {
        "folderLocations": [{"id": 1, "folderURI": "mailbox://nobody@Local%20Folders/Sent",
                             "dirtyStatus": 0, "name": "Sent", "indexingPriority": 0}],
        "conversations": [{"id": 7, "subject": "顧客名簿の件"}],
        "messages": [{"id": 1, "folderID": 1, "messageKey": 1024, "conversationID": 7,
                      "date": p("2025-04-01T00:15:30Z"), "headerMessageID": "m1@example.co.jp",
                      "jsonAttributes": json.dumps({"43": [1], "44": "x"})},
                     {"id": 2, "folderID": None, "conversationID": 7, "date": None,
                      "headerMessageID": "ghost@example.co.jp", "deleted": 1}],
        "messagesText_content": [{"docid": 1, "c0body": "本文", "c1subject": "顧客名簿の件",
                                  "c2attachmentNames": "顧客名簿.csv\nmemo.txt",
                                  "c3author": "Alice Sato <alice@example.co.jp>",
                                  "c4recipients": "山田 <Taro.Yamada@gmail.com> b@example.co.jp"}],
    }
    wal = {"messages": [{"id": 3, "folderID": 1, "messageKey": 2048, "conversationID": 7,
                         "date": p("2025-04-03T01:02:03Z"), "headerMessageID": "m4@e.jp"}]}
    return _sqlite_seeds("gloda + wal", f"{THUNDERBIRD}/global-messages-db.sqlite",
                         lambda path: build_gloda(path, rows, wal_rows=wal))


def pst_seeds(limit: int) -> list[Seed]:
    """No PST writer exists: the shared samples, else a bare "!BDN" header (which the
    extractor must reject cleanly)."""
    where = f"{PROFILE}/Documents/Outlook Files/archive.pst"
    seeds = sample_seeds("mail", lambda p: where, max(limit, 300 * 1024), "*.pst")
    header = bytearray(512)
    header[0:4] = b"!BDN"
    struct.pack_into("<HH", header, 8, 0x4D53, 23)  # client magic "SM", unicode version
    return seeds or [Seed("header only (no samples)", where, bytes(header))]


def onedrive_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.mail_writer import build_onedrive, onedrive_id, posix_from_iso as p

    root, docs, file1 = "A1B2C3D4E5F60718293A4B5C6D7E8F90", "1" * 32, "3" * 32
    rows = {
        "od_ScopeInfo_Records": [{"scopeID": root, "remotePath": "/personal/alice"}],
        "od_ClientFolder_Records": [{"parentScopeID": root, "parentResourceID": onedrive_id(root),
                                     "resourceID": onedrive_id(docs, 5), "folderName": "顧客"}],
        "od_ClientFile_Records": [{"parentResourceID": onedrive_id(docs, 5),
                                   "resourceID": onedrive_id(file1, 7), "fileName": "名簿.xlsx",
                                   "fileStatus": 2, "lastChange": p("2025-04-01T00:20:00Z"),
                                   "size": 40960, "diskCreationTime": p("2025-03-31T23:00:00Z"),
                                   "localHashDigest": bytes(20), "localHashAlgorithm": 4}],
        "od_HydrationData": [{"resourceID": onedrive_id(file1, 7),
                              "firstHydrationTime": p("2025-04-01T00:05:00Z"),
                              "lastHydrationTime": p("2025-04-01T00:18:00Z"),
                              "hydrationCount": 3, "lastHydrationType": "UserInitiated"}],
    }
    where = f"{PROFILE}/AppData/Local/Microsoft/OneDrive/settings/Business1/SyncEngineDatabase.db"
    return _sqlite_seeds("sync engine", where, lambda path: build_onedrive(path, rows))


def dropbox_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.mail_writer import build_dropbox, posix_from_iso as p

    rows = [{"event_type": "file", "file_event_type": "add", "direction": "upload",
             "file_id": "id:abc", "local_path": "C:\\Users\\alice\\Dropbox\\顧客.xlsx",
             "timestamp": p("2025-04-01T00:00:00Z"), "other_user": 0},
            {"event_type": "file", "file_event_type": "delete", "direction": "download",
             "local_path": None, "timestamp": p("2025-04-02T00:00:00Z"), "other_user": 1}]
    where = f"{PROFILE}/AppData/Local/Dropbox/instance1/sync_history.db"
    return _sqlite_seeds("sync history", where, lambda path: build_dropbox(path, rows))


def drivefs_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.mail_writer import build_drivefs, js_ms_from_iso as ms

    rows = {"items": [
        {"stable_id": 1, "id": "root", "trashed": 0, "is_owner": 1, "is_folder": 1,
         "mime_type": "application/vnd.google-apps.folder", "local_title": "My Drive",
         "is_tombstone": 0, "subscribed": 1, "modified_date": ms("2025-04-01T00:00:00Z")},
        {"stable_id": 2, "id": "f1", "trashed": 0, "is_owner": 1, "is_folder": 0,
         "mime_type": "text/csv", "local_title": "顧客.csv", "is_tombstone": 0, "subscribed": 1,
         "modified_date": ms("2025-04-01T00:20:00Z"), "file_size": 100,
         "viewed_by_me_date": ms("2025-04-01T00:21:00Z")}],
        "stable_parents": [{"item_stable_id": 2, "parent_stable_id": 1, "local_title_hash": 7}],
        "properties": [{"property": "driveway_account_id", "value": b"1048576"}]}
    where = (f"{PROFILE}/AppData/Local/Google/DriveFS/104857600123456789012/"
             "metadata_sqlite_db")
    return _sqlite_seeds("drivefs", where, lambda path: build_drivefs(path, rows))


def box_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.box_writer import build_streemsfs, posix_from_iso as p

    nodes = [{"inodeId": 1, "parentInodeId": 0, "name": "Box",
              "folderFetchTimestamp": p("2025-04-01T00:00:00Z")},
             {"inodeId": 2, "parentInodeId": 1, "name": "顧客", "markForOffline": 1,
              "createdAtTimestamp": p("2025-03-01T09:00:00Z")},
             {"inodeId": 3, "parentInodeId": 2, "name": "名簿.xlsx",
              "createdAtTimestamp": p("2025-03-02T01:00:00Z"),
              "modifiedAtTimestamp": p("2025-04-01T00:30:00Z") * 1000,
              "accessedAtTimestamp": p("2025-04-01T00:31:00Z")},
             {"inodeId": 5, "parentInodeId": 99, "name": "orphan.txt"}]
    cache = [{"cacheDataId": "0f1e2d3c", "inodeId": 3, "size": 40960,
              "age": p("2025-04-01T00:31:01Z")}]
    wal = [{"inodeId": 6, "parentInodeId": 2, "name": "wal.txt",
            "createdAtTimestamp": p("2025-04-02T00:00:00Z")}]
    where = f"{PROFILE}/AppData/Local/Box/Box/data/streemsfs.db"
    return _sqlite_seeds("streemsfs + wal", where,
                         lambda path: build_streemsfs(path, nodes, cache, wal_nodes=wal))


ONEDRIVE_LOGS = f"{PROFILE}/AppData/Local/Microsoft/OneDrive/logs/Business1"


def odl_seeds(limit: int) -> list[Seed]:
    from fixtures.builders import onedrive_writer as w

    entries = [w.OdlEntry(1743466200000, "SyncEngine.cpp", "UploadFile",
                          ["C:\\Users\\alice\\OneDrive\\顧客.xlsx", "abcd1234"]),
               w.OdlEntry(1743466260000, "Hydration.cpp", "HydrateFile",
                          ["key1 key2", "https://contoso-my.sharepoint.com/x"], flags=3),
               w.OdlEntry(1743466320000, "Delete.cpp", "DeleteItem", [],
                          raw_params=b"\x05\x00\x00\x00hello" + bytes(8))]
    names = {"ObfuscationStringMap.txt": "\ufeffkey1\tCustomers\r\nkey2\tList\r\n"
                                          .encode("utf-16-le")}
    seeds = []
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as folder:
        for version, compressed in ((3, False), (2, False), (3, True), (1, False)):
            name = f"SyncEngine-v{version}{'.odlgz' if compressed else '.odl'}"
            path = w.build_odl(Path(folder) / name, entries, version=version,
                               compressed=compressed)
            seeds.append(Seed(f"v{version}{' gzip' if compressed else ''}",
                              f"{ONEDRIVE_LOGS}/{name}", path.read_bytes(), dict(names)))
        seeds.append(Seed("obfuscation map mutated", seeds[0].path, seeds[0].data, dict(names),
                          mutate="sibling:ObfuscationStringMap.txt"))
    return seeds


def onedrive_settings_seeds(limit: int) -> list[Seed]:
    from fixtures.builders import onedrive_writer as w

    folder = f"{PROFILE}/AppData/Local/Microsoft/OneDrive/settings"
    lines = [w.business_scope_line(0, "C:\\Users\\alice\\OneDrive - Contoso", "site1",
                                   "web1", "lib1"),
             w.library_folder_line(1, "parent1", "C:\\Users\\alice\\Contoso\\Docs"),
             w.added_scope_line("f1", "site2", "web2", "lib2", "link2", "Shared/顧客")]
    personal = [w.personal_library_line("C:\\Users\\alice\\OneDrive")]
    glob = ["cid = A1B2C3D4E5F60718", "UserEmail = alice@example.com", "broken line"]
    seeds = []
    with tempfile.TemporaryDirectory(prefix="fuzz-seed-") as tmp:
        for label, where, content, encoding in (
                ("business ini", f"{folder}/Business1/0a1b2c3d-4e5f.ini", lines, "utf-16-le"),
                ("personal ini utf-8", f"{folder}/Personal/A1B2C3D4E5F60718.ini", personal,
                 "utf-8"),
                ("global.ini", f"{folder}/Personal/global.ini", glob, "utf-16-le")):
            raw = w.build_ini(Path(tmp) / "x.ini", content, encoding=encoding).read_bytes()
            seeds.append(Seed(label, where, raw))
    return seeds


WINDOWS_MAIL = f"{PROFILE}/AppData/Local/Microsoft/Windows Live Mail/alice@example.com/Inbox"
MAIL_APP = (f"{PROFILE}/AppData/Local/Packages/microsoft.windowscommunicationsapps_8wekyb3d8bbwe"
            "/LocalState/Files/S0/3/Attachments")


def eml_seeds(limit: int) -> list[Seed]:
    messages = mbox_seeds(limit)[0].data.split(b"From - Tue Apr 01 09:00:00 2025\n")
    return [Seed(f"message {i}", f"{WINDOWS_MAIL}/00294823-0000014{i}.eml", raw)
            for i, raw in enumerate(m for m in messages if m.strip())]


def mail_cache_seeds(limit: int) -> list[Seed]:
    return [Seed("cached pdf", f"{MAIL_APP}/見積書[1].pdf", b"%PDF-1.4 quote\n" * 4)]


# ---------------------------------------------------------------------------------- documents


def ooxml_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.office_writer import app_xml, build_ooxml, core_xml

    core = core_xml([("dc:creator", "佐藤"), ("cp:lastModifiedBy", "alice"),
                     ("dcterms:created", "2025-04-01T00:00:00Z"),
                     ("dcterms:modified", "2025-04-02T01:02:03Z"),
                     ("cp:lastPrinted", "2025-04-03T00:00:00Z"), ("cp:revision", "7"),
                     ("dc:title", "顧客リスト")])
    app = app_xml([("TotalTime", "42"), ("Company", "Example"), ("Pages", "3"),
                   ("Template", "Normal.dotm")])
    where = f"{PROFILE}/Documents/顧客リスト.docx"
    seeds = [Seed("docx", where, build_ooxml("docx", core, app)),
             Seed("xlsx stored", where.replace(".docx", ".xlsx"),
                  build_ooxml("xlsx", core, app, compression=0)),
             Seed("encrypted", f"{PROFILE}/Documents/secret.docx",
                  fixture("office", "encrypted.docx"), origin="fixture")]
    seeds += sample_seeds("office", lambda p: f"{PROFILE}/Documents/{p.name}", limit, "*.*x")
    return seeds


def ole_seeds(limit: int) -> list[Seed]:
    seeds = [Seed(name, f"{PROFILE}/Documents/{name}", fixture("office", name), origin="fixture")
             for name in ("ja-summary.doc", "unicode-summary.xls", "bad-summary.doc",
                          "no-properties.ppt")]
    seeds.append(Seed("encrypted ooxml in OLE", f"{PROFILE}/Documents/secret.docx",
                      fixture("office", "encrypted.docx"), origin="fixture"))
    seeds += sample_seeds("office", lambda p: f"{PROFILE}/Documents/{p.name}", limit, "*.xls")
    seeds += sample_seeds("office", lambda p: f"{PROFILE}/Documents/{p.name}", limit, "*.doc")
    return seeds


def pdf_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.office_writer import build_pdf, pdf_hex_utf16, xmp_packet

    info = {"Author": b"(alice)", "Title": pdf_hex_utf16("顧客リスト"),
            "CreationDate": b"(D:20250401090000+09'00')", "ModDate": b"(D:20250402)",
            "Producer": b"(Writer)"}
    xmp = xmp_packet({"xmp:CreateDate": "2025-04-01T00:00:00Z", "pdf:Producer": "Writer"},
                     authors=["佐藤"])
    where = f"{PROFILE}/Documents/report.pdf"
    return [Seed("plain", where, build_pdf(info, xmp)),
            Seed("object streams", where, build_pdf(info, xmp, compressed=True, xmp_filter=True)),
            Seed("incremental update", where, build_pdf(info, xmp, update={"Author": b"(bob)"})),
            Seed("qpdf", where, fixture("office", "qpdf-objstm.pdf"), origin="fixture")]


# ---------------------------------------------------------------------------------- setupapi

SETUPAPI_DEV = """\
[Device Install Log]
     OS Version = 10.0.19045
[BeginLog]
[Boot Session: 2026/03/09 10:02:11.500]
>>>  [Device Install (Hardware initiated) - USB\\VID_0930&PID_6545\\0022CFF6B8A7C2B1]
>>>  Section start 2026/03/09 10:15:40.123
     dvi: Device Class: {36fc9e60-c465-11cf-8056-444553540000}
<<<  Section end 2026/03/09 10:15:41.987
<<<  [Exit status: SUCCESS]
>>>  [Device Install (Hardware initiated) - USBSTOR\\Disk&Ven_KIOXIA&Prod_Trans&Rev_1.00\\0022CFF6B8A7C2B1&0]
>>>  Section start 2026/03/09 10:15:42.004
!    dvi: Device not started: Device has problem: 0x1c.
<<<  Section end 2026/03/09 10:15:43.250
<<<  [Exit status: SUCCESS]
>>>  [Device Install (Hardware initiated) - SWD\\WPDBUSENUM\\_??_USBSTOR#Disk&Ven_A&Prod_B&Rev_1#123&0#{53f56307-b6bf-11d0-94f2-00a0c91efb8b}]
>>>  Section start 2026/03/12 19:20:29.999
"""
SETUPAPI_XP = """\
[SetupAPI Log]
OS Version = 5.1.2600 Service Pack 3
[2009/06/03 08:51:38 1028.7 Driver Install]
#-019 Searching for hardware ID(s): usb\\vid_0781&pid_5406&rev_0010,usb\\vid_0781&pid_5406
#I123 Doing full install of "USB\\VID_0781&PID_5406\\0000161511737EFB".
#I121 Device install of "USB\\VID_0781&PID_5406\\0000161511737EFB" finished successfully.
[2009/06/03 08:51:45 1028.11 Driver Install]
#I123 Doing full install of "USBSTOR\\DISK&VEN_SANDISK&PROD_CRUZER&REV_8.02\\0000161511737EFB&0".
"""


def setupapi_seeds(limit: int) -> list[Seed]:
    seeds = [Seed("dev log", "/Windows/INF/setupapi.dev.log", SETUPAPI_DEV.encode("utf-8")),
             Seed("dev log utf-16", "/Windows/INF/setupapi.dev.log",
                  b"\xff\xfe" + SETUPAPI_DEV.encode("utf-16-le")),
             Seed("xp log", "/Windows/setupapi.log", SETUPAPI_XP.encode("cp1252"))]
    seeds += sample_seeds("setupapi", lambda p: f"/Windows/INF/{p.name}", limit, "*.log")
    return seeds


# ---------------------------------------------------------------------------------- file systems


def mkntfs_mft(records: int = 128) -> bytes:
    """The first `records` records of the $MFT inside the committed mkntfs volume
    (fixtures/artifacts/ntfs/mft-small.raw; the $MFT starts at the boot sector's cluster)."""
    volume = fixture("ntfs", "mft-small.raw")
    sector, per_cluster = struct.unpack_from("<HB", volume, 11)
    start = struct.unpack_from("<Q", volume, 0x30)[0] * sector * per_cluster
    return volume[start:start + records * 1024]


def mft_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.usn_writer import MftEntry, build_mft

    built = build_mft([MftEntry(40, 1, "Users", 5, 5), MftEntry(41, 1, "bob", 40, 1),
                       MftEntry(42, 3, "Documents", 41, 1),
                       MftEntry(43, 8, "Old", 41, 1, in_use=False),
                       MftEntry(48, 1, "notes.txt", 42, 3, directory=False, in_use=False),
                       MftEntry(49, 1, "QUARTE~1", 42, 3, dos_name="QUARTE~1")],
                      count=64, torn=(46,))
    return [Seed("mkntfs $MFT (Zone.Identifier, timestomped, orphans)", "/$MFT", mkntfs_mft(),
                 origin="fixture"),
            Seed("built", "/$MFT", built)]


def usnjrnl_seeds(limit: int) -> list[Seed]:
    from fixtures.builders.usn_writer import (CLOSE, FILE_CREATE, FILE_DELETE, RENAME_NEW_NAME,
                                              RENAME_OLD_NAME, Garbage, MftEntry, UsnRecord,
                                              build_journal, build_mft)

    mft = build_mft([MftEntry(40, 1, "Users", 5, 5), MftEntry(41, 1, "bob", 40, 1),
                     MftEntry(42, 3, "Documents", 41, 1)], count=48)
    records = [UsnRecord("customers.csv", 100, 2, 42, 3, FT, FILE_CREATE),
               UsnRecord("Reports", 101, 1, 42, 3, FT + 1, FILE_CREATE, attributes=0x10),
               UsnRecord("Q3", 101, 1, 42, 3, FT + 2, RENAME_OLD_NAME, version=3),
               Garbage(b"\xde\xad" * 40),
               UsnRecord("Q3-new", 101, 1, 42, 3, FT + 3, RENAME_NEW_NAME | CLOSE, version=3),
               UsnRecord("", 100, 2, 42, 3, 0, FILE_DELETE, version=4,
                         extents=[(0, 4096), (8192, 4096)], remaining_extents=1),
               UsnRecord("customers.csv", 100, 2, 42, 3, FT + 9, FILE_DELETE | CLOSE)]
    journal = build_journal(records, leading_zeros=4096)
    seeds = [Seed("v2/v3/v4 with $MFT", "/$Extend/$UsnJrnl:$J", journal, volume={"/$MFT": mft}),
             Seed("$MFT mutated", "/$Extend/$UsnJrnl:$J", journal, volume={"/$MFT": mft},
                  mutate="volume:/$MFT")]
    seeds += sample_seeds("ntfs/plaso/UsnJrnl.raw", lambda p: "/$Extend/$UsnJrnl:$J", limit)
    return seeds


def fat_seeds(limit: int) -> list[Seed]:
    """The committed FAT16 volume, and the exFAT volume cut out of its MBR disk."""
    disk = fixture("fat", "exfat.raw")
    start, sectors = struct.unpack_from("<II", disk, 0x1BE + 8)
    exfat = disk[start * 512:(start + sectors) * 512]
    return [Seed("FAT16 stick", "@volume", fixture("fat", "fat16.raw"), origin="fixture"),
            Seed("exFAT stick", "@volume", exfat, origin="fixture")]


# ---------------------------------------------------------------------------------- registry

REGISTRY_FIXTURES = {
    "usb/SYSTEM": "/Windows/System32/config/SYSTEM",
    "usb/SOFTWARE": "/Windows/System32/config/SOFTWARE",
    "usb/NTUSER.DAT": f"{PROFILE}/NTUSER.DAT",
    "activity/NTUSER.DAT": f"{PROFILE}/NTUSER.DAT",
    "activity/SAM": "/Windows/System32/config/SAM",
    "execution/SYSTEM": "/Windows/System32/config/SYSTEM",
    "execution/SYSTEM-win7": "/Windows/System32/config/SYSTEM",
    "execution/SYSTEM-1709": "/Windows/System32/config/SYSTEM",
    "execution/SOFTWARE": "/Windows/System32/config/SOFTWARE",
    "execution/Amcache.hve": "/Windows/AppCompat/Programs/Amcache.hve",
    "execution/UsrClass.dat": f"{PROFILE}/AppData/Local/Microsoft/Windows/UsrClass.dat",
}


def _hive_checksum(block: bytes | bytearray) -> int:
    value = 0
    for (word,) in struct.iter_unpack("<I", bytes(block[:508])):
        value ^= word
    return 0xFFFFFFFE if value == 0xFFFFFFFF else (value or 1)


def dirty_hive_with_old_log(hive: bytes, sectors: int = 8) -> tuple[bytes, bytes]:
    """A copy of `hive` made dirty (sequence numbers differ) and an old-format (Vista to 8.0)
    .LOG1 for it: the log's base block (file type 1), the "DIRT" vector marking the first
    `sectors` 512-byte sectors of the hive bins, and those sectors (the hive's own bytes)."""
    dirty = bytearray(hive)
    seq = struct.unpack_from("<I", dirty, 8)[0]
    struct.pack_into("<II", dirty, 4, seq + 1, seq)
    struct.pack_into("<I", dirty, 508, _hive_checksum(dirty))
    base = bytearray(hive[:512])
    struct.pack_into("<II", base, 4, seq + 1, seq + 1)
    struct.pack_into("<I", base, 28, 1)  # file type: transaction log (old format)
    struct.pack_into("<I", base, 508, _hive_checksum(base))
    hbins = struct.unpack_from("<I", hive, 40)[0]
    bitmap = bytearray((hbins // 512 + 7) // 8)
    for index in range(sectors):
        bitmap[index // 8] |= 1 << (index % 8)
    vector = b"DIRT" + bytes(bitmap)
    vector += bytes(-(512 + len(vector)) % 512)
    body = hive[4096:4096 + sectors * 512]
    return bytes(dirty), bytes(base) + vector + body


def _registry_fixture_seeds() -> list[Seed]:
    seeds = []
    for rel, where in REGISTRY_FIXTURES.items():
        seeds.append(Seed(rel, where, fixture("registry", *rel.split("/")), origin="fixture"))
    return seeds


def _dirty_seeds() -> list[Seed]:
    system = fixture("registry", "usb", "SYSTEM")
    dirty, log = dirty_hive_with_old_log(system)
    where = "/Windows/System32/config/SYSTEM"
    return [Seed("dirty SYSTEM, old log", where, dirty, {"SYSTEM.LOG1": log}, origin="fixture"),
            Seed("dirty SYSTEM, old log mutated", where, dirty, {"SYSTEM.LOG1": log},
                 mutate="sibling:SYSTEM.LOG1", origin="fixture")]


def _sample_dirty_seeds(limit: int) -> list[Seed]:
    """yarp's dirty hives with their logs (new and old formats), each log mutated in turn."""
    folder = samples_dir()
    if folder is None:
        return []
    seeds = []
    for hive in (folder / "registry" / "yarp").glob("*/*DirtyHive"):
        logs = {p.name: p.read_bytes() for p in sorted(hive.parent.glob(hive.name + ".LOG*"))}
        if hive.stat().st_size > limit or not logs:
            continue
        where = f"{PROFILE}/NTUSER.DAT"
        renamed = {"NTUSER.DAT" + name[len(hive.name):]: raw for name, raw in logs.items()}
        data = hive.read_bytes()
        for name in renamed:
            seeds.append(Seed(f"sample:{hive.name} ({name} mutated)", where, data, renamed,
                              mutate=f"sibling:{name}", origin="sample"))
    return seeds


def registry_seeds(limit: int) -> list[Seed]:
    seeds = _registry_fixture_seeds() + _dirty_seeds()
    names = {"SYSTEM": "/Windows/System32/config/SYSTEM",
             "SOFTWARE": "/Windows/System32/config/SOFTWARE",
             "SAM": "/Windows/System32/config/SAM", "SECURITY": "/Windows/System32/config/SECURITY"}

    def where(path: Path) -> str:
        if path.name in names:
            return names[path.name]
        lowered = path.name.lower()
        if "usrclass" in lowered:
            return f"{PROFILE}/AppData/Local/Microsoft/Windows/UsrClass.dat"
        if "amcache" in lowered:
            return "/Windows/AppCompat/Programs/Amcache.hve"
        return f"{PROFILE}/NTUSER.DAT"

    for sub in ("win7", "win8", "winxp", "win10", "amcache", "win10_1709"):
        seeds += [s for s in sample_seeds(f"registry/{sub}", where, limit)
                  if ".LOG" not in s.label]
    seeds += _sample_dirty_seeds(limit)
    return seeds


def hive_seeds(limit: int) -> list[Seed]:
    """For the hive parser alone: the fixtures, the dirty ones, and the yarp logs."""
    return _registry_fixture_seeds()[:4] + _dirty_seeds() + _sample_dirty_seeds(limit)


# ---------------------------------------------------------------------------------- shell items


def shell_item_lists() -> list[Seed]:
    """ITEMIDLISTs as LNK files, MRU values and ShellBags hold them."""
    from fixtures.builders import lnk_writer as w

    when = _dt.datetime(2026, 3, 1, 9, 30, 4, tzinfo=UTC)
    lists = {
        "my computer path": w.id_list(
            w.root_item(), w.volume_item("C:\\"),
            w.file_entry_item("Users", is_directory=True, modified=when, created=when,
                              accessed=when, mft_entry=40, mft_sequence=1),
            w.file_entry_item("報告書.docx", short_name="REPORT~1.DOC", size=1024,
                              modified=when, created=when, accessed=when, mft_entry=7,
                              mft_sequence=2)),
        "network and uri": w.id_list(w.root_item(w.MY_NETWORK_PLACES),
                                     w.network_item("\\\\FILESRV\\Public"),
                                     w.network_item("\\\\FILESRV", share=False),
                                     w.uri_item("https://example.com/a")),
        "internet + control panel": w.id_list(
            w.root_item(w.INTERNET),
            struct.pack("<HBBII", 12, 0x01, 0, 0x39DE2184, 3),
            w.root_item("26ee0668-a00a-44d7-9371-beb064c98683")),
        "property view": w.id_list(_property_view_item()),
    }
    return [Seed(label, "(shell item list)", raw) for label, raw in lists.items()]


def _property_view_item() -> bytes:
    """A users property view item (0x00, signature 0x23FEBBEE) holding one serialized property
    store with a UTF-16 ParsingName, as Windows 7+ library views write them."""
    fmtid = bytes.fromhex("a66a63283d95d211b5d600c04fd918d0")  # {28636AA6-953D-11D2-B5D6-...}
    value = "C:\\Users\\alice\\Documents".encode("utf-16-le") + b"\0\0"
    prop = struct.pack("<IIBH", 0, 24, 0, 0x1F) + b"\0" + struct.pack("<I", len(value) // 2) + value
    prop = struct.pack("<I", 4 + len(prop)) + prop[4:]
    storage = struct.pack("<I", 24 + len(prop) + 4) + b"1SPS" + fmtid + prop + b"\0\0\0\0"
    stores = struct.pack("<I", len(storage) + 4) + storage
    body = struct.pack("<BBHI", 0x00, 0, len(stores) + 8, 0x23FEBBEE) + bytes(6) + stores
    return struct.pack("<H", len(body) + 2) + body


# ---------------------------------------------------------------------------------- text inputs


def device_id_seeds() -> list[Seed]:
    texts = ["USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.20\\4C530001230721117134&0",
             "USB\\VID_0781&PID_5567\\4C530001230721117134",
             "_??_USBSTOR#Disk&Ven_KIOXIA&Prod_TransMemory&Rev_1.00#0022CFF6B8A7C2B1&0#"
             "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}",
             "SWD\\WPDBUSENUM\\{4d4a6f3c-1b2e-4a55-9d66-0123456789ab}#0000000000100000",
             "USB\\VID_18D1&PID_4EE1&MI_00\\6&2a3b4c5d&0&0000"]
    return [Seed(t.split("\\", 1)[0], "(device id)", t.encode("utf-8")) for t in texts]


def yaml_list_seeds(name: str) -> list[Seed]:
    path = ROOT / "artifacts" / "lists" / name
    seeds = [Seed(name, str(path), path.read_bytes(), origin="fixture")]
    return seeds


def rule_seeds() -> list[Seed]:
    return [Seed(p.name, str(p), p.read_bytes(), origin="fixture")
            for p in sorted((ROOT / "rules").glob("*.yaml"))]


def definition_seeds() -> list[Seed]:
    return [Seed(p.name, str(p), p.read_bytes(), origin="fixture")
            for p in sorted((ROOT / "artifacts").glob("*.yaml"))[:6]]


def wal_seeds() -> list[Seed]:
    seeds = []
    for seed in chromium_seeds(0) + gloda_seeds(0):
        for name, raw in seed.siblings.items():
            if name.endswith("-wal") and not any(s.data == raw for s in seeds):
                seeds.append(Seed(f"{seed.label}: {name}", name, raw))
    return seeds


@functools.lru_cache(maxsize=None)
def cached(builder: Callable[[int], list[Seed]], limit: int) -> tuple[Seed, ...]:
    """A target's seeds, built once per process."""
    return tuple(builder(limit))
