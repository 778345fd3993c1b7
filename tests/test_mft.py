"""$MFT extractors (mft_deleted, mft_timeline): a built NTFS volume, the system disk fixture,
plaso's vsstest sample, hand-made damaged records, and the CLI end to end."""
from __future__ import annotations

import hashlib
import io
import json
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from tests.conftest import FIXTURE_IMAGES, read_jsonl, samples, tree_digest  # noqa: E402
from triage.collect import find_path  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.mft import MftDeletedFiles, MftTimeline, _iso  # noqa: E402
from triage.files import BufferedFile, LocalFile  # noqa: E402
from triage.model import ArtifactError, filetime  # noqa: E402
from triage.ntfs_mft import (  # noqa: E402
    MftScan,
    decode_runs,
    fix_record,
    parse_record,
    parse_zone_identifier,
)
from triage.sources import SourceOptions, open_evidence  # noqa: E402

NTFS_DIR = ROOT / "fixtures" / "artifacts" / "ntfs"
SMALL = NTFS_DIR / "mft-small.raw"
FACTS = json.loads((NTFS_DIR / "mft-facts.json").read_text(encoding="utf-8"))
IMAGE_FACTS = json.loads((FIXTURE_IMAGES / "facts.json").read_text(encoding="utf-8"))
VSS_TIME = "2013-12-03T06:30:41.8079077Z"


def _mft_of(image: Path) -> BufferedFile:
    """/$MFT of the first volume of an image, read through dfVFS as the engine does."""
    evidence = open_evidence(str(image), SourceOptions())
    volume = next(iter(evidence.processable()))
    found = find_path(volume.tree, "/$MFT")
    assert found is not None
    return BufferedFile(found, found.read())


@pytest.fixture(scope="module")
def small_mft() -> BufferedFile:
    return _mft_of(SMALL)


def _run(extractor, f):
    ctx = ExtractionContext()
    return list(extractor.extract(f, ctx)), ctx


def _by_path(events):
    found = {}
    for event in events:
        found.setdefault(event.data["path"], []).append(event)
    return found


# ---------------------------------------------------------------- the built volume


def test_small_volume_facts_match_every_reported_entry(small_mft):
    timeline, ctx = _run(MftTimeline(), small_mft)
    assert ctx.warnings == [] and ctx.errors == []
    by_path = _by_path(timeline)
    for fact in FACTS["files"]:
        data = by_path[fact["path"]][0].data
        assert data["entry"] == fact["entry"], fact["path"]
        assert data["sequence"] == fact["sequence"]
        assert data["deleted"] == fact["deleted"] and data["allocated"] == fact["allocated"]
        assert data["is_dir"] == fact["is_dir"]
        assert data["size"] == fact["size"]
        assert data["si_times"] == fact["si_times"]
        assert data["fn_times"] == fact["fn_times"]
        assert data["ads"] == fact["ads"]
        assert data["timestomp"] == fact["timestomp"]
        assert data["orphan"] == fact["orphan"]
        assert data["dos_name"] == fact["dos_name"]
        assert data.get("hard_links", []) == fact["hard_links"]
        if fact["zone_identifier"]:
            assert data["zone_identifier"] == fact["zone_identifier"]
        else:
            assert data["zone_identifier"] is None
        if "file_attributes" in fact:
            assert data["file_attributes"] == fact["file_attributes"]


def test_small_volume_paths_agree_with_the_sleuth_kit(small_mft):
    """Every path fls lists (orphans included) names the same MFT entry here."""
    timeline, _ = _run(MftTimeline(), small_mft)
    ours = {}
    for event in timeline:
        ours[event.data["path"]] = event.data["entry"]
        for link in event.data.get("hard_links", []):
            ours[link] = event.data["entry"]
    for path, entry in FACTS["fls_entries"].items():
        assert ours.get(path) == entry, path


def test_small_volume_deleted_files(small_mft):
    events, ctx = _run(MftDeletedFiles(), small_mft)
    assert ctx.warnings == []
    assert ctx.notes == ["/$MFT: 81 MFT records of 1024 bytes: 29 in use, 3 deleted, 49 without a "
                         "name (never used or reserved), 0 extension, 0 unreadable"]
    deleted = [f for f in FACTS["files"] if f["deleted"]]
    assert sorted(e.data["path"] for e in events) == sorted(f["path"] for f in deleted)
    for event in events:
        fact = next(f for f in deleted if f["path"] == event.data["path"])
        assert event.timestamp.iso() == fact["si_times"]["changed"]
        assert event.timestamp_desc == "$SI Entry Modified"
        assert event.data["deleted"] is True and event.data["allocated"] is False
        assert event.data["size"] == fact["size"]
        if event.data["recoverable"] == "resident":
            assert event.data["resident_sha256"] == fact["sha256"]
    plan = next(e for e in events if e.data["entry"] == 80)
    assert plan.message == ("Deleted file /$OrphanFiles/plan.txt (29 bytes), MFT entry 80 (time "
                            "is the last $SI entry change; the deletion time is not recorded)")
    assert plan.data["orphan"] is True
    assert plan.data["names"] == [{"name": "plan.txt", "namespace": "POSIX",
                                   "parent_entry": 79, "parent_sequence": 1}]
    assert plan.data["recoverable"] == "resident" and plan.data["data_runs"] is None
    plan_text = b"exfiltrate on friday via usb\n"
    assert plan.data["resident_sha256"] == hashlib.sha256(plan_text).hexdigest()
    assert plan.user is None  # the orphan's profile is unknown
    a_txt = next(e for e in events if e.data["entry"] == 78)
    assert a_txt.data["path"] == "/Users/carol/Temp/old/a.txt" and a_txt.data["orphan"] is False
    assert a_txt.data["recoverable"] == "data runs"
    assert len(a_txt.data["data_runs"]) == 1 and a_txt.data["data_runs"][0][1] == 1  # 1 cluster
    assert a_txt.user == "carol"
    old = next(e for e in events if e.data["entry"] == 77)
    assert old.message.startswith("Deleted folder /Users/carol/Temp/old, MFT entry 77 (")
    assert old.data["is_dir"] is True and old.data["size"] is None
    assert old.data["recoverable"] == "no data"


def test_small_volume_macb_grouping_and_flags(small_mft):
    by_path = _by_path(_run(MftTimeline(), small_mft)[0])
    exe = by_path["/Users/carol/Downloads/tool_setup.exe"]
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in exe] == [
        ("2026-03-05T01:02:03.1111111Z", "$SI [M..B], $FN [M..B]"),
        ("2026-03-05T01:02:04.2222222Z", "$SI [.AC.], $FN [.AC.]"),
    ]
    assert exe[0].message == (
        "File /Users/carol/Downloads/tool_setup.exe (1,282 bytes), MFT entry 71; "
        "Zone.Identifier ZoneId=3 from https://xx.gigafile.nu/download/abc")
    assert exe[0].user == "carol"
    report = by_path["/Users/carol/Documents/report_final.txt"]
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in report] == [
        ("2019-06-01T12:00:00.0000000Z", "$SI [M..B]"),
        ("2026-02-10T09:15:30.1234567Z", "$FN [MACB]"),
        ("2026-02-10T09:16:00.7654321Z", "$SI [.AC.]"),
    ]
    assert report[0].message.endswith("; possible timestomping: si_created_before_fn_created, "
                                      "si_time_without_fraction")
    notes = by_path["/Users/carol/Documents/notes.txt"]
    assert [e.timestamp_desc for e in notes] == ["$SI [...B], $FN [...B]", "$SI [M...], $FN [M...]",
                                                 "$SI [..C.], $FN [..C.]", "$SI [.A..], $FN [.A..]"]
    assert notes[0].data["names"][1] == {"name": "notes-link.txt", "namespace": "POSIX",
                                         "parent_entry": 68, "parent_sequence": 1}
    programs = by_path["/Program Files"][0].data
    assert programs["name"] == "Program Files" and programs["dos_name"] == "PROGRA~1"
    assert [n["namespace"] for n in programs["names"]] == ["DOS", "Win32"]
    csv = by_path["/Users/carol/Documents/顧客.csv"][0].data
    assert csv["size"] == len("名前,金額\n山田,1000\n".encode())
    assert "/Users/carol/Documents/Secret" not in by_path  # its record now holds new.txt
    root = by_path["/"][0].data
    assert root["entry"] == 5 and root["is_dir"] is True and root["name"] == "."


# ---------------------------------------------------------------- the system disk fixture


@pytest.mark.parametrize("image", ["win-mbr.raw", "win.E01"])
def test_system_disk_deleted_files(image):
    events, ctx = _run(MftDeletedFiles(), _mft_of(FIXTURE_IMAGES / image))
    assert ctx.warnings == [] and ctx.errors == []
    facts = IMAGE_FACTS["system"]["deleted_files"]
    assert [(e.data["path"], e.data["entry"], e.data["size"]) for e in events] == [
        (f["path"], f["mft_entry"], f["size"]) for f in facts]
    for event, fact in zip(events, facts):
        assert event.data["si_times"]["created"] == fact["created"]
        assert event.data["si_times"]["modified"] == fact["modified"]
        assert event.data["orphan"] is False and event.user == "bob"
    csv, notes = events
    assert csv.message == (
        "Deleted file /Users/bob/Documents/customers_2026.csv (1,993 bytes), MFT entry 126 "
        "(time is the last $SI entry change; the deletion time is not recorded)")
    assert csv.data["recoverable"] == "data runs" and csv.data["data_runs"]
    assert notes.data["recoverable"] == "resident"
    assert notes.data["resident_sha256"] == facts[1]["sha256"]


# ---------------------------------------------------------------- plaso's vsstest sample


def test_vsstest_sample_matches_plaso():
    """plaso's NTFS MFT parser gives 71 event data ($SI and $FN attributes) for this $MFT;
    index 0 is $MFT itself, entry 0 sequence 1, parent entry 5 sequence 5, all times equal."""
    f = _mft_of(samples("images", "vsstest.qcow2"))
    events, ctx = _run(MftTimeline(), f)
    assert ctx.warnings == []
    assert ctx.notes == ["/$MFT: 256 MFT records of 1024 bytes: 30 in use, 0 deleted, 226 "
                         "without a name (never used or reserved), 0 extension, 0 unreadable"]
    records = {e.data["entry"]: e.data for e in events}
    assert len(records) == 30 and sum(len(d["names"]) for d in records.values()) == 37
    # plaso's 71 counts the $SI and $FN attributes of every non-empty base record: the 30
    # named ones and the reserved entries 12-15 (in use, $SI only, no name: not reported).
    raw = f.read()
    attributes = reserved = 0
    for entry in range(len(raw) // 1024):
        chunk = raw[entry * 1024:(entry + 1) * 1024]
        if chunk[:4] != b"FILE":
            continue
        seq, links, attr_off, flags, used = struct.unpack_from("<HHHHI", chunk, 16)
        record = parse_record(fix_record(chunk, 48, 3), 0, 1024, entry, seq, links, flags,
                              attr_off, used, False)
        attributes += len(record[5]) + (record[4] is not None)
        reserved += record[4] is not None and not record[5]
    assert (attributes, reserved) == (71, 4)
    mft = records[0]
    assert (mft["path"], mft["sequence"], mft["allocated"]) == ("/$MFT", 1, True)
    assert mft["names"] == [{"name": "$MFT", "namespace": "Win32+DOS", "parent_entry": 5,
                             "parent_sequence": 5}]
    assert set(mft["si_times"].values()) == {VSS_TIME} == set(mft["fn_times"].values())
    first = next(e for e in events if e.data["entry"] == 0)
    assert (first.timestamp.iso(), first.timestamp_desc) == (VSS_TIME, "$SI [MACB], $FN [MACB]")
    assert len(events) == 41
    assert records[33]["dos_name"] == "$TXFLO~1"
    assert records[33]["path"] == ("/$Extend/$RmMetadata/$TxfLog/"
                                   "$TxfLogContainer00000000000000000001")
    blf = records[32]
    assert blf["si_times"]["accessed"] == "2013-12-03T06:30:42.9779097Z"  # plaso filestat test
    assert _run(MftDeletedFiles(), f)[0] == []


# ---------------------------------------------------------------- hand-made records


def _attr(atype: int, content: bytes, name: str = "") -> bytes:
    encoded = name.encode("utf-16-le")
    offset = (24 + len(encoded) + 7) & ~7
    total = (offset + len(content) + 7) & ~7
    out = bytearray(total)
    struct.pack_into("<IIBBH4xIH", out, 0, atype, total, 0, len(name), 24, len(content), offset)
    out[24:24 + len(encoded)] = encoded
    out[offset:offset + len(content)] = content
    return bytes(out)


def _nonresident(atype: int, size: int, runs: bytes, first_vcn: int = 0) -> bytes:
    total = (64 + len(runs) + 1 + 7) & ~7
    out = bytearray(total)
    struct.pack_into("<IIBBH", out, 0, atype, total, 1, 0, 64)
    struct.pack_into("<QQH", out, 16, first_vcn, 0, 64)
    struct.pack_into("<QQQ", out, 40, size, size, size)
    out[64:64 + len(runs)] = runs
    return bytes(out)


def _si(times=(1, 2, 3, 4), flags=0x20) -> bytes:
    return _attr(0x10, struct.pack("<4QI", *times, flags) + bytes(36))


def _fn(name: str, parent: int, parent_seq: int, ns: int = 1, times=(1, 2, 3, 4)) -> bytes:
    return _attr(0x30, struct.pack("<Q4Q2QIIBB", parent | parent_seq << 48, *times, 0, 0, 0, 0,
                                   len(name), ns) + name.encode("utf-16-le"))


def _record(seq: int, flags: int, *attrs: bytes, size: int = 1024, base: int = 0,
            torn: bool = False) -> bytes:
    sectors = size // 512
    first = (48 + 2 * (sectors + 1) + 7) & ~7
    body = b"".join(attrs) + b"\xff\xff\xff\xff" + bytes(4)
    rec = bytearray(size)
    struct.pack_into("<4sHHQHHHHIIQ", rec, 0, b"FILE", 48, sectors + 1, 0, seq, 1, first, flags,
                     first + len(body), size, base)
    rec[first:first + len(body)] = body
    usn = b"\x07\x00"
    rec[48:50] = usn
    for i in range(1, sectors + 1):
        end = i * 512 - 2
        rec[48 + 2 * i:50 + 2 * i] = rec[end:end + 2]
        rec[end:end + 2] = usn if not (torn and i == sectors) else b"\x99\x99"
    return bytes(rec)


def _volume(*records: bytes, size: int = 1024) -> list[bytes]:
    """Records 0..5 of a minimal volume ($MFT, four system files, the root folder)."""
    base = [_record(1, 1, _si(), _fn("$MFT", 5, 5, 3), _attr(0x80, b""), size=size)]
    base += [_record(i, 1, _si(), _fn(f"$S{i}", 5, 5, 3), size=size) for i in range(1, 5)]
    base.append(_record(5, 3, _si(), _fn(".", 5, 5, 3), size=size))
    return base + list(records)


def _file(records: list[bytes], tmp_path: Path, tail: bytes = b"") -> LocalFile:
    path = tmp_path / "MFT"
    path.write_bytes(b"".join(records) + tail)
    return LocalFile(str(path), path="/$MFT")


def test_damaged_records_are_counted_once(tmp_path):
    records = _volume(
        _record(1, 1, _si(), _fn("ok.txt", 5, 5)),                     # 6
        _record(1, 0, _si(), _fn("torn.txt", 5, 5), torn=True),        # 7 torn write
        b"BAAD" + bytes(1020),                                          # 8
        b"\x13\x37" * 512,                                              # 9 garbage
        bytes(1024),                                                    # 10 never used
        _record(1, 0, _si(), _fn("gone.txt", 5, 5), _attr(0x80, b"abc")),  # 11 deleted
    )
    broken = bytearray(_record(1, 0, _si(), _fn("bad-attr.txt", 5, 5)))
    struct.pack_into("<I", broken, 56 + 4, 4000)  # first attribute overruns the record
    records.append(bytes(broken))                                       # 12
    events, ctx = _run(MftDeletedFiles(), _file(records, tmp_path, tail=b"FILE" + bytes(100)))
    assert [e.data["path"] for e in events] == ["/gone.txt"]
    assert events[0].data["resident_sha256"] == hashlib.sha256(b"abc").hexdigest()
    assert events[0].timestamp == filetime(3)  # the $SI entry-modified time
    assert ctx.warnings == [
        "/$MFT: 4 of 13 MFT records unreadable (1 BAAD signature, 1 damaged attributes, "
        "1 no FILE signature, 1 update sequence mismatch (torn write)); first at entry 7",
        "/$MFT: 104 bytes after the last whole 1024-byte record ignored",
    ]


def test_not_an_mft(tmp_path):
    for content, reason in ((b"", "no FILE signature"), (b"MZ" + bytes(2000), "no FILE signature")):
        path = tmp_path / "x"
        path.write_bytes(content)
        with pytest.raises(ArtifactError, match=reason):
            list(MftTimeline().extract(LocalFile(str(path), path="/$MFT"), ExtractionContext()))
    odd = bytearray(_record(1, 1, _si(), _fn("$MFT", 5, 5)))
    struct.pack_into("<I", odd, 28, 1000)
    with pytest.raises(ArtifactError, match="implausible record size 1000"):
        list(MftDeletedFiles().extract(BufferedFile(LocalFile(__file__), bytes(odd)),
                                       ExtractionContext()))


def test_4096_byte_records(tmp_path):
    records = _volume(_record(1, 0, _si(), _fn("big.bin", 5, 5), size=4096), size=4096)
    events, ctx = _run(MftDeletedFiles(), _file(records, tmp_path))
    assert [e.data["path"] for e in events] == ["/big.bin"]
    assert ctx.notes[0].startswith("/$MFT: 7 MFT records of 4096 bytes")


def test_orphans_reuse_and_loops(tmp_path):
    records = _volume(
        _record(2, 2, _si(), _fn("gone-dir", 5, 5)),          # 6 deleted folder (seq bumped)
        _record(1, 0, _si(), _fn("inside.txt", 6, 1)),        # 7 in the deleted folder: kept
        _record(3, 3, _si(), _fn("reused", 5, 5)),            # 8 folder in use, seq 3
        _record(1, 0, _si(), _fn("lost.txt", 8, 1)),          # 9 parent reused: orphan
        _record(2, 2, _si(), _fn("loop-a", 11, 1)),           # 10 a folder loop
        _record(2, 2, _si(), _fn("loop-b", 10, 1)),           # 11
        _record(1, 0, _si(), _fn("in-loop.txt", 10, 1)),      # 12
        _record(1, 0, _si(), _fn("no-parent.txt", 999, 1)),   # 13
    )
    events, _ = _run(MftDeletedFiles(), _file(records, tmp_path))
    paths = {e.data["entry"]: (e.data["path"], e.data["orphan"]) for e in events}
    assert paths[6] == ("/gone-dir", False)
    assert paths[7] == ("/gone-dir/inside.txt", False)
    assert paths[9] == ("/$OrphanFiles/lost.txt", True)
    assert paths[12][1] is True and paths[12][0].endswith("/loop-a/in-loop.txt")
    assert paths[12][0].startswith("/$OrphanFiles/")
    assert paths[13] == ("/$OrphanFiles/no-parent.txt", True)


def test_names_ads_zone_and_extension_records(tmp_path):
    zone_text = "[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=https://e.example/a.zip\r\n"
    zone = b"\xff\xfe" + zone_text.encode("utf-16-le")
    records = _volume(
        _record(1, 0, _si((50_000_000, 40_000_000, 60_000_000, 70_000_000), flags=0x6),
                _fn("LONGNA~1.TXT", 5, 5, ns=2, times=(49_999_999,) * 4),
                _fn("Long name.txt", 5, 5, ns=1, times=(49_999_999,) * 4),
                _nonresident(0x80, 123456, b"\x21\x02\x10\x27\x00"),
                _attr(0x80, zone, "Zone.Identifier"),
                _attr(0x80, b"x" * 10, "extra")),                               # 6
        _record(1, 0, _si(), _attr(0x20, bytes(32))),                           # 7 base
        _record(1, 0, _fn("spread.dat", 5, 5), _nonresident(0x80, 999, b"\x11\x01\x05\x00"),
                base=7 | 1 << 48),                                              # 8 extension
    )
    events, ctx = _run(MftDeletedFiles(), _file(records, tmp_path))
    first, spread = events
    data = first.data
    assert data["path"] == "/Long name.txt" and data["dos_name"] == "LONGNA~1.TXT"
    assert data["size"] == 123456 and data["data_runs"] == [[10000, 2]]
    assert data["ads"] == [{"name": "Zone.Identifier", "size": len(zone), "resident": True},
                           {"name": "extra", "size": 10, "resident": True}]
    assert data["zone_identifier"] == {"zone_id": 3, "zone": "Internet", "referrer_url": None,
                                       "host_url": "https://e.example/a.zip"}
    assert data["file_attributes"] == ["hidden", "system"]
    assert data["timestomp"] == ["si_time_without_fraction", "si_modified_before_si_created"]
    assert spread.data["path"] == "/spread.dat" and spread.data["size"] == 999
    assert spread.data["data_runs"] == [[5, 1]]
    assert ctx.notes[0].endswith("1 extension, 0 unreadable")


def test_helpers():
    assert decode_runs(b"\x21\x02\x10\x27\x11\x03\xfe\x01\x04\x00") == (
        [(10000, 2), (9998, 3), (None, 4)], False)
    assert decode_runs(b"\x21\x02") == ([], True)
    assert parse_zone_identifier(b"[ZoneTransfer]\nZoneId=2\nLastWriterPackageFamilyName=X\n") == {
        "zone_id": 2, "zone": "Trusted Sites", "referrer_url": None, "host_url": None,
        "other": {"LastWriterPackageFamilyName": "X"}}
    for value in (1, 116444736000000000, 133500000001234567, 2650467743999999999):
        assert _iso(value) == filetime(value).iso()
    assert _iso(0) is None and _iso(2650467744000000000) is None


def test_streaming_handle_matches_buffered(tmp_path, small_mft):
    """A file object read in chunks (files over 64 MiB) gives the same events as bytes."""
    path = tmp_path / "MFT"
    path.write_bytes(small_mft.read())
    local = LocalFile(str(path), path="/$MFT")
    assert [(e.timestamp, e.message) for e in _run(MftTimeline(), local)[0]] == \
        [(e.timestamp, e.message) for e in _run(MftTimeline(), small_mft)[0]]
    scan = MftScan(io.BytesIO(small_mft.read()), lambda flags: True).run()
    assert scan.index.path(80) == ("/$OrphanFiles/plan.txt", True)
    assert scan.index.path(79, 1) is None  # the Secret folder's old sequence
    assert scan.index.path(74, 1) == ("/Users/carol/Documents/notes.txt", False)


# ---------------------------------------------------------------- end to end


def test_cli_deleted_by_default_timeline_on_request(cli, tmp_path):
    before = tree_digest(SMALL)
    case = tmp_path / "case"
    result = cli("run", SMALL, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(case)
    deleted = [r for r in rows if r["artifact"] == "NtfsDeletedFiles"]
    assert sorted(r["data"]["entry"] for r in deleted) == [77, 78, 80]
    assert all(r["family"] == "deleted" and r["extractor"] == "mft_deleted" and
               r["source"]["path"] == "/$MFT" and r["source"]["inode"] == 0 for r in deleted)
    assert not [r for r in rows if r["artifact"] == "NtfsFileSystemTimeline"]

    case2 = tmp_path / "case2"
    result = cli("run", SMALL, "-o", case2, "--only", "NtfsFileSystemTimeline", "--json")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(case2)
    assert rows and {r["artifact"] for r in rows} == {"NtfsFileSystemTimeline"}
    assert {r["family"] for r in rows} == {"filesystem"}
    stomped = [r for r in rows if r["data"]["timestomp"]]
    assert {r["data"]["path"] for r in stomped} == {"/Users/carol/Documents/report_final.txt",
                                                    "/Users/carol/Documents/copied.dat"}
    assert tree_digest(SMALL) == before


def test_shared_data_serialised_once_gives_the_same_case(cli, tmp_path, monkeypatch):
    """The timeline's events of one entry share one data dict, serialised once
    (Extractor.shares_data): the same timeline and event hashes as serialising each event's."""
    from triage import extraction
    from triage.extractors.mft import MftTimeline

    calls: list[int] = []
    real = extraction.data_json

    def counted(data):
        calls.append(id(data))
        return real(data)

    monkeypatch.setattr(extraction, "data_json", counted)
    once, every = tmp_path / "once", tmp_path / "every"
    assert cli("run", SMALL, "-o", once, "--only", "NtfsFileSystemTimeline").exit_code == 0
    serialised_once = len(calls)
    monkeypatch.setattr(MftTimeline, "shares_data", False)
    calls.clear()
    assert cli("run", SMALL, "-o", every, "--only", "NtfsFileSystemTimeline").exit_code == 0
    rows = read_jsonl(every)
    assert len(calls) == len(rows) > serialised_once  # fewer serialisations, same events
    assert (once / "timeline.jsonl").read_bytes() == (every / "timeline.jsonl").read_bytes()


def test_cli_on_vsstest_sample(cli, tmp_path):
    image = samples("images", "vsstest.qcow2")
    case = tmp_path / "case"
    result = cli("run", image, "-o", case, "--only", "NtfsFileSystemTimeline", "--json")
    assert result.exit_code == 0, result.output
    rows = read_jsonl(case)
    assert len(rows) == 41
    mft = next(r for r in rows if r["data"]["entry"] == 0)
    assert (mft["timestamp"], mft["timestamp_desc"], mft["message"]) == (
        VSS_TIME, "$SI [MACB], $FN [MACB]", "File /$MFT (262,144 bytes), MFT entry 0")
