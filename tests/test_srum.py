"""SRUM extractor: SRUDB.dat databases built with the ESE writer, exact values, bad input, and
a run on a folder laid out like a system drive."""
from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

pytest.importorskip("pyesedb")

from fixtures.builders.ese_writer import (  # noqa: E402
    Column,
    ColumnType,
    build_database,
    build_srudb,
    sid_bytes,
)
from tests.conftest import ALICE, BOB, FT_1, read_jsonl, tree_digest  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.srum import (  # noqa: E402
    SrumExtractor,
    interface_type,
    seven_bit_decompress,
    sid_string,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

UTC = dt.timezone.utc
H1 = dt.datetime(2026, 3, 2, 1, 0, 0, tzinfo=UTC)
H2 = dt.datetime(2026, 3, 2, 2, 0, 0, tzinfo=UTC)
CHROME = "\\Device\\HarddiskVolume3\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
WIRELESS = (71 << 48) | (5 << 24)
ETHERNET = (6 << 48) | (1 << 24)
PROFILE = 268435457


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


ID_MAP = [
    {"IdType": 0, "IdIndex": 1, "IdBlob": _utf16(CHROME)},
    {"IdType": 3, "IdIndex": 2, "IdBlob": sid_bytes(ALICE)},
    {"IdType": 1, "IdIndex": 3, "IdBlob": _utf16("Dnscache\0")},
    {"IdType": 3, "IdIndex": 4, "IdBlob": sid_bytes(BOB)},
    {"IdType": 3, "IdIndex": 5, "IdBlob": b"\x02\x00"},  # not a SID
]
NETWORK = [
    {"AutoIncId": 1, "TimeStamp": H1, "AppId": 1, "UserId": 2, "InterfaceLuid": WIRELESS,
     "L2ProfileId": PROFILE, "L2ProfileFlags": 0, "BytesSent": 2_147_483_648,
     "BytesRecvd": 12_345},
    {"AutoIncId": 2, "TimeStamp": H2, "AppId": 3, "UserId": 4, "InterfaceLuid": ETHERNET,
     "L2ProfileId": 0, "L2ProfileFlags": 0, "BytesSent": 1_000, "BytesRecvd": 2_000},
    {"AutoIncId": 3, "TimeStamp": float("nan"), "AppId": 77, "UserId": 88,
     "InterfaceLuid": (999 << 48), "BytesSent": 5, "BytesRecvd": 6},
]
RESOURCE = [
    {"AutoIncId": 1, "TimeStamp": H1, "AppId": 1, "UserId": 2,
     "ForegroundCycleTime": 123_456_789_012, "BackgroundCycleTime": 9_876_543,
     "FaceTime": 36_000_000_000, "ForegroundContextSwitches": 4_000,
     "BackgroundContextSwitches": 300, "ForegroundBytesRead": 1_048_576,
     "ForegroundBytesWritten": 2_097_152, "ForegroundNumReadOperations": 10,
     "ForegroundNumWriteOperations": 20, "ForegroundNumberOfFlushes": 1,
     "BackgroundBytesRead": 4_096, "BackgroundBytesWritten": 8_192,
     "BackgroundNumReadOperations": 3, "BackgroundNumWriteOperations": 4,
     "BackgroundNumberOfFlushes": 0},
]
CONNECTIVITY = [
    {"AutoIncId": 1, "TimeStamp": H2, "AppId": 3, "UserId": 2, "InterfaceLuid": WIRELESS,
     "L2ProfileId": PROFILE, "ConnectedTime": 3_600, "ConnectStartTime": FT_1,
     "L2ProfileFlags": 0},
]


def _extract(tmp_path: Path, data: bytes, users: dict | None = None):
    path = tmp_path / "SRUDB.dat"
    path.write_bytes(data)
    ctx = ExtractionContext(users_by_sid=users if users is not None else {ALICE: "alice"})
    events = list(SrumExtractor().extract(LocalFile(str(path)), ctx))
    return events, ctx


def _iso(event) -> str | None:
    return event.timestamp.iso() if event.timestamp else None


def test_network_usage_resource_usage_and_connectivity(tmp_path):
    data = build_srudb(ID_MAP, NETWORK, RESOURCE, CONNECTIVITY)
    events, ctx = _extract(tmp_path, data)
    assert [(e.timestamp_desc, _iso(e)) for e in events] == [
        ("Network Usage Recorded", "2026-03-02T01:00:00Z"),
        ("Network Usage Recorded", "2026-03-02T02:00:00Z"),
        ("Network Usage Recorded", None),
        ("Resource Usage Recorded", "2026-03-02T01:00:00Z"),
        ("Network Connected", "2026-03-02T01:02:03.1234567Z"),
    ]
    chrome = events[0]
    assert chrome.message == ("chrome.exe sent 2,147,483,648 bytes, received 12,345 bytes "
                              "(user alice)")
    assert chrome.user == "alice"
    assert chrome.data == {
        "table": "Network Data Usage", "record_id": 1, "app": CHROME, "app_id": 1,
        "user_sid": ALICE, "user_id": 2, "recorded": "2026-03-02T01:00:00Z",
        "bytes_sent": 2_147_483_648, "bytes_received": 12_345, "interface_luid": WIRELESS,
        "interface_type": "wireless", "interface_type_code": 71, "profile_id": PROFILE,
        "profile_flags": 0,
    }
    service = events[1]  # bob is not in ProfileList here: the SID stands for him
    assert service.message == "Dnscache sent 1,000 bytes, received 2,000 bytes (user " + BOB + ")"
    assert service.user == BOB and service.data["app"] == "Dnscache"
    assert service.data["interface_type"] == "ethernet"
    unknown = events[2]
    assert unknown.message == "application #77 sent 5 bytes, received 6 bytes (no user)"
    assert unknown.user is None and unknown.data["user_sid"] is None
    assert unknown.data["interface_type"] == "iftype 999" and unknown.data["recorded"] is None
    resource = events[3]
    assert resource.message == (
        "chrome.exe used 123,456,789,012 foreground and 9,876,543 background CPU cycles, read "
        "1,048,576 bytes and wrote 2,097,152 bytes in the foreground (user alice)")
    assert {k: resource.data[k] for k in (
        "face_time", "foreground_context_switches", "background_context_switches",
        "background_bytes_read", "background_bytes_written", "foreground_read_operations",
        "foreground_write_operations", "foreground_flushes", "background_read_operations",
        "background_write_operations", "background_flushes")} == {
        "face_time": 36_000_000_000, "foreground_context_switches": 4_000,
        "background_context_switches": 300, "background_bytes_read": 4_096,
        "background_bytes_written": 8_192, "foreground_read_operations": 10,
        "foreground_write_operations": 20, "foreground_flushes": 1,
        "background_read_operations": 3, "background_write_operations": 4,
        "background_flushes": 0}
    connection = events[4]
    assert connection.message == ("Network connection on wireless (profile 268435457) for "
                                  "3,600 seconds")
    assert connection.data["connected_seconds"] == 3_600
    assert connection.data["recorded"] == "2026-03-02T02:00:00Z"
    assert connection.data["connect_start"] == "2026-03-02T01:02:03.1234567Z"
    assert ctx.errors == []
    assert ctx.warnings == ["SruDbIdMapTable: 1 user entr(ies) not a valid SID",
                            "TimeStamp: 1 value(s) not a valid time: left without a time"]


def test_fractional_recording_time_keeps_microseconds(tmp_path):
    rows = [{"AutoIncId": 1, "TimeStamp": dt.datetime(2026, 3, 2, 1, 0, 0, 250000, tzinfo=UTC),
             "AppId": 1, "UserId": 2, "BytesSent": 1, "BytesRecvd": 2}]
    events, _ = _extract(tmp_path, build_srudb(ID_MAP, rows, None, None))
    assert _iso(events[0]) == "2026-03-02T01:00:00.250000Z"


def test_many_records_over_several_pages(tmp_path):
    rows = [{"AutoIncId": i, "TimeStamp": H1 + dt.timedelta(hours=i), "AppId": 1, "UserId": 2,
             "InterfaceLuid": WIRELESS, "BytesSent": i * 1000, "BytesRecvd": i}
            for i in range(1, 601)]
    events, ctx = _extract(tmp_path, build_srudb(ID_MAP, rows, None, None))
    assert len(events) == 600 and ctx.errors == []
    assert events[-1].data["bytes_sent"] == 600_000
    assert _iso(events[-1]) == "2026-03-27T01:00:00Z"


def test_missing_id_map_keeps_raw_identifiers(tmp_path):
    data = build_srudb(network_usage=NETWORK[:1], resource_usage=None, connectivity=None,
                       with_id_map=False)
    events, ctx = _extract(tmp_path, data)
    assert len(events) == 1
    assert events[0].message == ("application #1 sent 2,147,483,648 bytes, received 12,345 "
                                 "bytes (no user)")
    assert events[0].data["app"] is None and events[0].data["user_id"] == 2
    assert "no SruDbIdMapTable table: application and user identifiers are not resolved" \
        in ctx.warnings
    assert any("Application Resource Usage" in n for n in ctx.notes)


def test_dirty_database_is_read_with_a_warning(tmp_path):
    events, ctx = _extract(tmp_path, build_srudb(ID_MAP, NETWORK[:1], dirty=True))
    assert len(events) == 1
    assert ctx.warnings[0].startswith("the database was not shut down cleanly (dirty shutdown)")


def test_not_ese(tmp_path):
    with pytest.raises(ArtifactError, match=r"not an ESE database \(no 0x89ABCDEF signature"):
        _extract(tmp_path, b"SQLite format 3\0" + bytes(5000))
    with pytest.raises(ArtifactError, match="not an ESE database: only 3 bytes"):
        _extract(tmp_path, b"abc")


def test_truncated(tmp_path):
    data = build_srudb(ID_MAP, NETWORK)
    with pytest.raises(ArtifactError, match=r"^truncated SRUM ESE database \(6000 bytes\): "):
        _extract(tmp_path, data[:6000])
    with pytest.raises(ArtifactError, match="truncated ESE database: 600 bytes"):
        _extract(tmp_path, data[:600])
    # cut in the middle of the tables: the catalog reads, the lost pages are reported
    events, ctx = _extract(tmp_path, data[:26 * 4096 + 100])
    assert events == []
    assert ctx.errors[0].startswith("the file is truncated (106596 bytes, not a whole number of "
                                    "4096-byte pages)")
    assert any(e.startswith("table {973F5D5C-1D90-4944-BE8E-24B94231A174}: its records could "
                            "not be read") for e in ctx.errors)


def test_other_ese_database_is_not_srum(tmp_path):
    data = build_database([("Containers", [Column("ContainerId", ColumnType.LONG_LONG)], [])])
    with pytest.raises(ArtifactError, match="not a SRUM database"):
        _extract(tmp_path, data)


def test_helpers():
    assert sid_string(sid_bytes(ALICE)) == ALICE
    assert sid_string(sid_bytes("S-1-5-18")) == "S-1-5-18"
    assert sid_string(b"\x01\x05\x00") is None
    assert interface_type(WIRELESS) == ("wireless", 71)
    assert interface_type((243 << 48)) == ("mobile_broadband", 243)
    assert interface_type(None) == (None, None)
    # 7-bit "ASCII" (scheme 1): "abc" = 21 bits, 3 bytes; last byte uses 5 bits (lead low bits 4)
    packed = (ord("a") | ord("b") << 7 | ord("c") << 14).to_bytes(3, "little")
    assert seven_bit_decompress(bytes([0x08 | 4]) + packed) == b"abc"
    assert seven_bit_decompress(bytes([0x10 | 4]) + packed) == b"a\0b\0c\0"  # scheme 2: UTF-16


# ---------------------------------------------------------------- end to end

SOFTWARE = ROOT / "fixtures" / "artifacts" / "registry" / "execution" / "SOFTWARE"


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    sru = evidence / "Windows" / "System32" / "sru"
    sru.mkdir(parents=True)
    (sru / "SRUDB.dat").write_bytes(build_srudb(ID_MAP, NETWORK[:2], RESOURCE, CONNECTIVITY,
                                                dirty=True))
    config = evidence / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copy(SOFTWARE, config / "SOFTWARE")
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["extractor"] == "srum"]
    assert [(e["timestamp_desc"], e["timestamp"]) for e in events] == [
        ("Network Usage Recorded", "2026-03-02T01:00:00Z"),
        ("Resource Usage Recorded", "2026-03-02T01:00:00Z"),
        ("Network Connected", "2026-03-02T01:02:03.1234567Z"),
        ("Network Usage Recorded", "2026-03-02T02:00:00Z"),
    ]
    chrome = events[0]
    assert chrome["artifact"] == "SRUM" and chrome["family"] == "activity"
    assert chrome["user"] == "alice"
    assert chrome["message"] == ("chrome.exe sent 2,147,483,648 bytes, received 12,345 bytes "
                                 "(user alice)")
    assert chrome["source"]["path"] == "/Windows/System32/sru/SRUDB.dat"
    assert events[3]["user"] == "bob"  # named through the SOFTWARE hive's ProfileList
    assert tree_digest(evidence) == before


def test_column_name_unreadable_in_the_catalog_is_a_warning(tmp_path):
    """Fuzzing regression: a catalog entry whose name length is absurd (0xFFFF) made
    pyesedb's column.name raise OSError ("invalid byte stream") out of the extractor."""
    data = build_srudb(ID_MAP[:1], NETWORK[:1], None, None)
    assert data.count(b"\r\x00InterfaceLuid") == 2  # the catalog and its backup copy
    data = data.replace(b"\r\x00InterfaceLuid", b"\xff\xff\xff\xffterfaceLuid")
    events, ctx = _extract(tmp_path, data)
    assert len(events) == 1
    assert events[0].data["bytes_sent"] == 2_147_483_648
    assert events[0].data["interface_luid"] is None
    assert any("1 column definition(s) unreadable" in w for w in ctx.warnings)
