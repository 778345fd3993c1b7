"""USN change journal extractor: built $J streams (V2, V3, V4), sparse and zero regions, garbage,
parent paths from a built and a real $MFT and from the journal itself, the real sample, the CLI."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders.usn_writer import (  # noqa: E402
    ATTR_DIRECTORY,
    BASIC_INFO_CHANGE,
    CLOSE,
    DATA_EXTEND,
    DATA_OVERWRITE,
    FILE_CREATE,
    FILE_DELETE,
    RENAME_NEW_NAME,
    RENAME_OLD_NAME,
    Garbage,
    MftEntry,
    UsnRecord,
    build_journal,
    build_mft,
    journal_offsets,
    ref,
)
from tests.conftest import FIXTURE_IMAGES, read_jsonl, samples  # noqa: E402
from triage.artifacts import load_definitions  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import usnjrnl  # noqa: E402
from triage.extractors.usnjrnl import (  # noqa: E402
    WINDOW,
    UsnJournalExtractor,
    data_regions,
    decode_reasons,
    load_mft,
    parse_mft,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

T0 = 134168869231234567  # 2026-03-02T01:02:03.1234567Z
SECOND = 10_000_000


def iso(seconds: int, frac: str = "1234567") -> str:
    return f"2026-03-02T01:02:{3 + seconds:02d}.{frac}Z"


# The volume: / -> Users(40) -> bob(41) -> Documents(42, seq 3) -> Quarterly Reports(45), Q3(47)
MFT_ENTRIES = [
    MftEntry(40, 1, "Users", 5, 5),
    MftEntry(41, 1, "bob", 40, 1),
    MftEntry(42, 3, "Documents", 41, 1),
    MftEntry(43, 8, "Old", 41, 1, in_use=False),  # deleted: the sequence went 7 -> 8
    MftEntry(44, 5, "Reused", 5, 5),  # the journal's records are about its sequence 4
    MftEntry(45, 1, "Quarterly Reports", 42, 3, dos_name="QUARTE~1"),
    MftEntry(46, 1, "Torn", 5, 5),
    MftEntry(47, 2, "Q3", 42, 3),  # renamed from Reports during the journal
    MftEntry(48, 1, "notes.txt", 42, 3, directory=False),
]


@pytest.fixture(autouse=True)
def _fresh_mft_cache():
    usnjrnl._MFT_CACHE.clear()
    yield
    usnjrnl._MFT_CACHE.clear()


def _mft_file(tmp_path: Path) -> LocalFile:
    path = tmp_path / "$MFT"
    path.write_bytes(build_mft(MFT_ENTRIES, count=64, torn=(46,)))
    return LocalFile(str(path), path="/$MFT")


def _extract(tmp_path: Path, data: bytes, mft: LocalFile | None = None, file=None):
    if file is None:
        target = tmp_path / "J"
        target.write_bytes(data)
        file = LocalFile(str(target), path="/$Extend/$J")
    ctx = ExtractionContext(open_path=lambda p: mft if mft is not None and p == "/$MFT" else None)
    return list(UsnJournalExtractor().extract(file, ctx)), ctx


# --- records, exact --------------------------------------------------------------------------


def test_v2_records_exact_with_paths_from_the_mft(tmp_path):
    records = [
        UsnRecord("customers_2026.csv", 100, 2, 42, 3, T0, FILE_CREATE, security_id=263),
        UsnRecord("customers_2026.csv", 100, 2, 42, 3, T0 + 1, DATA_EXTEND | FILE_CREATE | CLOSE,
                  security_id=263),
        UsnRecord("customers_2026.csv", 100, 2, 42, 3, T0 + 20 * SECOND, FILE_DELETE | CLOSE,
                  security_id=263, source_info=2),
    ]
    offsets = journal_offsets(records, leading_zeros=8192)
    events, ctx = _extract(tmp_path, build_journal(records, leading_zeros=8192),
                           _mft_file(tmp_path))
    assert ctx.errors == []
    assert ctx.warnings == ["$MFT: 1 directory record(s) torn or malformed, not used for paths"]
    assert ctx.notes == ["parent paths from /$MFT (8 directories)",
                         "3 USN records; 0 sparse bytes not read, 8192 zero bytes skipped"]
    assert [(e.timestamp.iso(), e.timestamp_desc, e.message, e.user) for e in events] == [
        (iso(0), "USN Changed", "customers_2026.csv: FILE_CREATE (parent /Users/bob/Documents)",
         None),
        (iso(0, "1234568"), "USN Changed",
         "customers_2026.csv: DATA_EXTEND, FILE_CREATE, CLOSE (parent /Users/bob/Documents)", None),
        (iso(20), "USN Changed",
         "customers_2026.csv: FILE_DELETE, CLOSE (parent /Users/bob/Documents)", None),
    ]
    assert events[2].data == {
        "file_name": "customers_2026.csv",
        "entry": 100,
        "sequence": 2,
        "parent_entry": 42,
        "parent_sequence": 3,
        "parent_path": "/Users/bob/Documents",
        "usn": offsets[2],
        "reasons": ["FILE_DELETE", "CLOSE"],
        "reason_flags": 0x80000200,
        "source_info": 2,
        "security_id": 263,
        "attributes": 0x20,
        "directory": False,
        "version": 2,
        "action": "deleted",
    }
    assert offsets == [8192, 8192 + 96, 8192 + 192]
    assert [e.data["action"] for e in events] == ["created", "created", "deleted"]


def test_v3_and_v4_records(tmp_path):
    records = [
        UsnRecord("report.docx", 200, 4, 42, 3, T0 + SECOND, DATA_OVERWRITE | CLOSE, version=3,
                  attributes=0x2020, security_id=7),
        UsnRecord("refs.bin", 0x1234, 0, 0x99, 0, T0 + 2 * SECOND, FILE_CREATE, version=3,
                  file_id_high=0xAB, parent_id_high=0xCD),
        UsnRecord("", 200, 4, 42, 3, 0, DATA_OVERWRITE, version=4,
                  extents=[(0, 4096), (65536, 8192)], remaining_extents=1),
    ]
    offsets = journal_offsets(records)
    events, ctx = _extract(tmp_path, build_journal(records), _mft_file(tmp_path))
    assert ctx.errors == []
    first, refs, ranges = events
    assert first.timestamp.iso() == iso(1)
    assert first.message == "report.docx: DATA_OVERWRITE, CLOSE (parent /Users/bob/Documents)"
    assert first.data == {
        "file_name": "report.docx", "entry": 200, "sequence": 4, "parent_entry": 42,
        "parent_sequence": 3, "parent_path": "/Users/bob/Documents", "usn": offsets[0],
        "reasons": ["DATA_OVERWRITE", "CLOSE"], "reason_flags": 0x80000001, "source_info": 0,
        "security_id": 7, "attributes": 0x2020, "directory": False, "version": 3,
        "action": "modified",
    }
    assert refs.timestamp.iso() == iso(2)
    assert refs.message == ("refs.bin: FILE_CREATE (parent <file id "
                            "00000000000000cd0000000000000099>)")
    assert refs.data["entry"] is None and refs.data["parent_entry"] is None
    assert refs.data["file_id"] == "00000000000000ab0000000000001234"
    assert refs.data["parent_file_id"] == "00000000000000cd0000000000000099"
    assert ranges.timestamp is None  # V4 records hold no time: none is invented
    assert ranges.message == ("<entry 200>: DATA_OVERWRITE (parent /Users/bob/Documents) "
                              "(range tracking: 2 extents)")
    assert ranges.data == {
        "file_name": None, "entry": 200, "sequence": 4, "parent_entry": 42,
        "parent_sequence": 3, "parent_path": "/Users/bob/Documents", "usn": offsets[2],
        "reasons": ["DATA_OVERWRITE"], "reason_flags": 1, "source_info": 0,
        "security_id": None, "attributes": None, "directory": None, "version": 4,
        "action": "modified", "extents": [[0, 4096], [65536, 8192]], "remaining_extents": 1,
    }


def test_reason_names_and_actions():
    assert decode_reasons(0x80000000 | 0x02000000 | 0x00200000 | 0x00000020) == [
        "NAMED_DATA_EXTEND", "STREAM_CHANGE", "CLOSE", "0x02000000"]
    assert decode_reasons(0x00FFFF77) == [
        "DATA_OVERWRITE", "DATA_EXTEND", "DATA_TRUNCATION", "NAMED_DATA_OVERWRITE",
        "NAMED_DATA_EXTEND", "NAMED_DATA_TRUNCATION", "FILE_CREATE", "FILE_DELETE", "EA_CHANGE",
        "SECURITY_CHANGE", "RENAME_OLD_NAME", "RENAME_NEW_NAME", "INDEXABLE_CHANGE",
        "BASIC_INFO_CHANGE", "HARD_LINK_CHANGE", "COMPRESSION_CHANGE", "ENCRYPTION_CHANGE",
        "OBJECT_ID_CHANGE", "REPARSE_POINT_CHANGE", "STREAM_CHANGE", "TRANSACTED_CHANGE",
        "INTEGRITY_CHANGE"]
    assert [usnjrnl.action_of(r) for r in (
        FILE_CREATE | FILE_DELETE | CLOSE, RENAME_OLD_NAME, RENAME_NEW_NAME | CLOSE,
        FILE_CREATE | DATA_EXTEND, DATA_EXTEND | CLOSE, BASIC_INFO_CHANGE)] == [
        "deleted", "renamed_from", "renamed_to", "created", "modified", "other"]


# --- parent paths ------------------------------------------------------------------------------


def test_parent_paths_mft_sequences_and_unknown_entries(tmp_path):
    records = [
        UsnRecord("draft.txt", 101, 1, 43, 7, T0, DATA_OVERWRITE | CLOSE),  # deleted dir
        UsnRecord("x.tmp", 102, 1, 44, 4, T0, BASIC_INFO_CHANGE | CLOSE),  # entry reused
        UsnRecord("budget.xlsx", 103, 1, 45, 1, T0, FILE_CREATE | CLOSE),  # DOS + long name
        UsnRecord("y.dat", 104, 1, 46, 1, T0, FILE_CREATE),  # torn MFT record
        UsnRecord("z.dat", 105, 1, 999, 1, T0, FILE_CREATE),  # beyond the MFT
        UsnRecord("top.txt", 106, 1, 5, 5, T0, FILE_CREATE),  # in the root
        UsnRecord("notes2.txt", 107, 1, 48, 1, T0, FILE_CREATE),  # parent is a file record
    ]
    events, ctx = _extract(tmp_path, build_journal(records), _mft_file(tmp_path))
    assert [e.data["parent_path"] for e in events] == [
        "/Users/bob/Old",
        "<entry 44>",
        "/Users/bob/Documents/Quarterly Reports",
        "<entry 46>",
        "<entry 999>",
        "/",
        "<entry 48>",
    ]
    assert events[5].message == "top.txt: FILE_CREATE (parent /)"


def test_parent_paths_learned_from_the_journal(tmp_path):
    """Folders the MFT no longer knows, and the name a folder had at the time of each record."""
    d = ATTR_DIRECTORY
    records = [
        # Exfil (200) created in Documents, a file put in it, then renamed to Backup.
        UsnRecord("Exfil", 200, 1, 42, 3, T0, FILE_CREATE | CLOSE, attributes=d),
        UsnRecord("a.zip", 201, 1, 200, 1, T0 + SECOND, FILE_CREATE | CLOSE),
        UsnRecord("Exfil", 200, 1, 42, 3, T0 + 2 * SECOND, RENAME_OLD_NAME, attributes=d),
        UsnRecord("Backup", 200, 1, 42, 3, T0 + 2 * SECOND, RENAME_NEW_NAME, attributes=d),
        UsnRecord("Backup", 200, 1, 42, 3, T0 + 2 * SECOND, RENAME_NEW_NAME | CLOSE,
                  attributes=d),
        UsnRecord("b.zip", 202, 1, 200, 1, T0 + 3 * SECOND, FILE_CREATE | CLOSE),
        # A file in Stolen (300), whose only record is its deletion, later on.
        UsnRecord("c.zip", 203, 1, 300, 1, T0 + 4 * SECOND, FILE_DELETE | CLOSE),
        UsnRecord("Stolen", 300, 1, 200, 1, T0 + 5 * SECOND, FILE_DELETE | CLOSE, attributes=d),
        # Entry 47 is "Q3" in the MFT; the journal shows it was "Reports" before.
        UsnRecord("d.pdf", 204, 1, 47, 2, T0 + 6 * SECOND, FILE_CREATE | CLOSE),
        UsnRecord("Reports", 47, 2, 42, 3, T0 + 7 * SECOND, RENAME_OLD_NAME, attributes=d),
        UsnRecord("Q3", 47, 2, 42, 3, T0 + 7 * SECOND, RENAME_NEW_NAME | CLOSE, attributes=d),
        UsnRecord("e.pdf", 205, 1, 47, 2, T0 + 8 * SECOND, FILE_CREATE | CLOSE),
    ]
    events, ctx = _extract(tmp_path, build_journal(records), _mft_file(tmp_path))
    assert [(e.data["file_name"], e.data["parent_path"], e.data["action"]) for e in events] == [
        ("Exfil", "/Users/bob/Documents", "created"),
        ("a.zip", "/Users/bob/Documents/Exfil", "created"),
        ("Exfil", "/Users/bob/Documents", "renamed_from"),
        ("Backup", "/Users/bob/Documents", "renamed_to"),
        ("Backup", "/Users/bob/Documents", "renamed_to"),
        ("b.zip", "/Users/bob/Documents/Backup", "created"),
        ("c.zip", "/Users/bob/Documents/Backup/Stolen", "deleted"),
        ("Stolen", "/Users/bob/Documents/Backup", "deleted"),
        ("d.pdf", "/Users/bob/Documents/Reports", "created"),
        ("Reports", "/Users/bob/Documents", "renamed_from"),
        ("Q3", "/Users/bob/Documents", "renamed_to"),
        ("e.pdf", "/Users/bob/Documents/Q3", "created"),
    ]
    assert events[3].message == ("Backup: RENAME_NEW_NAME (parent /Users/bob/Documents; "
                                 "renamed from /Users/bob/Documents/Exfil)")
    assert events[4].data["old_name"] == "Exfil"
    assert events[4].data["old_parent_path"] == "/Users/bob/Documents"
    assert "old_name" not in events[5].data


def test_journal_only_paths_without_an_mft(tmp_path):
    records = [
        UsnRecord("Cases", 50, 1, 5, 5, T0, FILE_CREATE | CLOSE, attributes=ATTR_DIRECTORY),
        UsnRecord("memo.txt", 51, 1, 50, 1, T0, FILE_CREATE),
        UsnRecord("other.txt", 52, 1, 60, 1, T0, FILE_CREATE),
        UsnRecord("Sub", 61, 1, 62, 1, T0, FILE_CREATE, attributes=ATTR_DIRECTORY),
        UsnRecord("deep.txt", 63, 1, 61, 1, T0, FILE_CREATE),
    ]
    events, ctx = _extract(tmp_path, build_journal(records))
    assert [e.data["parent_path"] for e in events] == [
        "/", "/Cases", "<entry 60>", "<entry 62>", "<entry 62>/Sub"]
    assert ctx.notes[0] == "no $MFT beside the journal: parent paths from the journal only"


# --- the $MFT walker ---------------------------------------------------------------------------


def test_mft_walker_on_a_built_mft(tmp_path):
    data = build_mft(MFT_ENTRIES, count=64, torn=(46,))
    dirs, bad = parse_mft(io.BytesIO(data))
    assert bad == 1
    assert dirs == {
        5: (5, True, ".", ref(5, 5)),
        40: (1, True, "Users", ref(5, 5)),
        41: (1, True, "bob", ref(40, 1)),
        42: (3, True, "Documents", ref(41, 1)),
        43: (8, False, "Old", ref(41, 1)),
        44: (5, True, "Reused", ref(5, 5)),
        45: (1, True, "Quarterly Reports", ref(42, 3)),
        47: (2, True, "Q3", ref(42, 3)),
    }
    data4k = build_mft(MFT_ENTRIES[:3], size=4096)
    assert parse_mft(io.BytesIO(data4k))[0][41] == (1, True, "bob", ref(40, 1))
    with pytest.raises(usnjrnl.MftError, match="not an MFT"):
        parse_mft(io.BytesIO(b"\0" * 2048))


def test_mft_cache_by_content(tmp_path):
    mft = _mft_file(tmp_path)
    first = load_mft(mft)
    second = load_mft(mft)
    assert (first[1], first[2], second[1], second[2]) == (1, False, 1, True)
    assert second[0] is first[0]


def _image_tree():
    from triage.sources import open_evidence

    evidence = open_evidence(str(FIXTURE_IMAGES / "win-mbr.raw"))
    return evidence.processable()[0].tree


def _dir_reference(tree, path: str) -> int:
    """The NTFS file reference of a folder of the image, as libfsntfs reads it."""
    node = tree.root()
    for part in path.strip("/").split("/"):
        node = next(c for n, c, d in tree.children(node) if n == part and d)
    return node._fsntfs_file_entry.file_reference


def test_mft_walker_on_the_fixture_image_agrees_with_libfsntfs(tmp_path):
    from triage.collect import find_path

    tree = _image_tree()
    dirs, bad = parse_mft(io.BytesIO(find_path(tree, "/$MFT").read()))
    assert bad == 0
    names = usnjrnl.Names(dirs)
    for folder in ("/Users/bob/Documents", "/Windows/System32/config", "/$Recycle.Bin",
                   "/Program Files/Microsoft Office", "/Users/alice/AppData/Roaming"):
        assert names.path(_dir_reference(tree, folder), 0) == folder


# --- sparse, zeros, garbage, damage --------------------------------------------------------------


def _three(name: str, entry: int, base: int = 0) -> list[UsnRecord]:
    return [UsnRecord(f"{name}{i}.txt", entry + i, 1, 5, 5, T0 + (base + i) * SECOND,
                      FILE_CREATE | CLOSE) for i in range(3)]


def test_zero_regions_and_garbage_are_skipped(tmp_path):
    junk = b"\xde\xad\xbe\xef" * 75  # 300 bytes, padded to 304
    items = _three("a", 10) + [Garbage(junk)] + _three("b", 20, 3) \
        + [Garbage(bytes(3 * 4096))] + _three("c", 30, 6)
    data = build_journal(items, leading_zeros=1024 * 1024)
    last = _three("a", 10)[-1]
    garbage_at = journal_offsets(_three("a", 10), leading_zeros=1024 * 1024)[-1] + \
        len(last.encode(0))
    events, ctx = _extract(tmp_path, data)
    assert [e.data["file_name"] for e in events] == [
        "a0.txt", "a1.txt", "a2.txt", "b0.txt", "b1.txt", "b2.txt", "c0.txt", "c1.txt", "c2.txt"]
    assert [e.timestamp.iso() for e in events] == [iso(i) for i in range(9)]
    assert ctx.warnings == [f"1 stretch(es) of unparseable data skipped (304 bytes, first at "
                            f"stream offset {garbage_at})"]
    assert ctx.errors == []


def test_sparse_runs_are_never_read(tmp_path):
    """A stream from an image: extents() says where the sparse runs are, and they are skipped
    unread (here they hold junk that would otherwise be reported)."""
    live = build_journal(_three("s", 10))
    size = 1 << 34  # 16 GiB of logical size, 64 KiB of data
    target = tmp_path / "live"
    target.write_bytes(b"\xee" * 65536 + live)

    class Handle(io.RawIOBase):
        def __init__(self):
            self.inner = open(target, "rb")
            self.pos = 0

        def seek(self, offset, whence=0):
            self.pos = offset
            return offset

        def read(self, size=-1):
            assert self.pos >= size_sparse, "a sparse run was read"
            self.inner.seek(self.pos - size_sparse + 65536)
            chunk = self.inner.read(size)
            self.pos += len(chunk)
            return chunk

    size_sparse = size - len(live)

    class Stream:
        path = "/$Extend/$UsnJrnl:$J"
        name = "$UsnJrnl:$J"
        inode = 111

        def __init__(self):
            self.size = size

        def open(self):
            return Handle()

        def extents(self):
            half = size_sparse // 2
            return [(0, half, True), (half, size_sparse - half, True), (size_sparse, len(live),
                                                                       False)]

    assert data_regions(Stream()) == ([(size_sparse, size)], size_sparse)
    events, ctx = _extract(tmp_path, b"", file=Stream())
    assert [e.data["file_name"] for e in events] == ["s0.txt", "s1.txt", "s2.txt"]
    # built at offset 0: the Usn fields say so (a record's USN is what it holds, not where)
    assert [e.data["usn"] for e in events] == journal_offsets(_three("s", 10)) == [0, 72, 144]
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes[-1] == (f"3 USN records; {size_sparse} sparse bytes not read, "
                             "0 zero bytes skipped")


def test_record_crossing_a_read_window(tmp_path):
    records = _three("w", 10)
    data = build_journal(records, leading_zeros=WINDOW - 40, page=0)
    events, ctx = _extract(tmp_path, data)
    assert [e.data["file_name"] for e in events] == ["w0.txt", "w1.txt", "w2.txt"]
    assert [e.data["usn"] for e in events] == [WINDOW - 40, WINDOW + 32, WINDOW + 104]
    assert ctx.warnings == []


def test_truncated_last_record(tmp_path):
    data = build_journal(_three("t", 10))
    offsets = journal_offsets(_three("t", 10))
    events, ctx = _extract(tmp_path, data[:-20])
    assert [e.data["file_name"] for e in events] == ["t0.txt", "t1.txt"]
    assert ctx.warnings == [f"record at stream offset {offsets[2]} cut off by the end of the "
                            "data (truncated stream)"]


def test_stream_shorter_than_its_size_is_an_error(tmp_path):
    target = tmp_path / "J"
    target.write_bytes(build_journal(_three("s", 10)))
    short = LocalFile(str(target), path="/$Extend/$J")
    real = short.size
    short.size = real + 8192  # what the file system said; fewer bytes came
    events, ctx = _extract(tmp_path, b"", file=short)
    assert [e.data["file_name"] for e in events] == ["s0.txt", "s1.txt", "s2.txt"]
    assert ctx.errors == [f"stream ends at offset {real}, before its size {real + 8192}"]


def test_malformed_records_are_counted_and_skipped(tmp_path):
    good = _three("g", 10)
    bad_offset = bytearray(UsnRecord("bad.txt", 1, 1, 5, 5, T0, FILE_CREATE).encode(0))
    bad_offset[58:60] = (200).to_bytes(2, "little")  # FileNameOffset past the record end
    bad_version = bytearray(UsnRecord("v5.txt", 2, 1, 5, 5, T0, FILE_CREATE).encode(0))
    bad_version[4] = 5  # MajorVersion 5
    bad_minor = bytearray(UsnRecord("m.txt", 3, 1, 5, 5, T0, FILE_CREATE).encode(0))
    bad_minor[6] = 1  # MinorVersion 1
    items = [good[0], Garbage(bytes(bad_offset)), good[1], Garbage(bytes(bad_version)),
             Garbage(bytes(bad_minor)), good[2]]
    events, ctx = _extract(tmp_path, build_journal(items))
    assert [e.data["file_name"] for e in events] == ["g0.txt", "g1.txt", "g2.txt"]
    assert ctx.warnings == [f"2 stretch(es) of unparseable data skipped "
                            f"({len(bad_offset) + len(bad_version) + len(bad_minor)} bytes, "
                            f"first at stream offset 72)"]


def test_garbage_only_is_an_error_and_zeros_only_is_empty(tmp_path):
    junk = bytes((i * 37 + 11) & 0xFF or 1 for i in range(10000))
    with pytest.raises(ArtifactError, match="no USN record found"):
        _extract(tmp_path, junk)
    events, ctx = _extract(tmp_path, bytes(3 * 4096 * 1000))
    assert events == [] and ctx.warnings == [] and ctx.errors == []
    assert ctx.notes[-1] == "0 USN records; 0 sparse bytes not read, 12288000 zero bytes skipped"
    events, ctx = _extract(tmp_path, b"")
    assert events == [] and ctx.warnings == []


# --- the real sample -----------------------------------------------------------------------------


def test_real_sample_from_plaso(tmp_path):
    path = samples("ntfs", "plaso", "UsnJrnl.raw")
    ctx = ExtractionContext()
    events = list(UsnJournalExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and ctx.errors == []
    assert len(events) == 19
    first = events[0]
    assert first.timestamp.iso() == "2015-11-30T21:15:27.2031250Z"
    assert first.message == "Nieuw - Tekstdocument.txt: FILE_CREATE (parent /)"
    assert (first.data["entry"], first.data["sequence"], first.data["usn"],
            first.data["security_id"]) == (30, 1, 0, 260)
    assert events[3].message == ("first.txt: RENAME_NEW_NAME (parent /; renamed from "
                                 "/Nieuw - Tekstdocument.txt)")
    assert events[-1].message == ".: OBJECT_ID_CHANGE, CLOSE (parent /)"
    assert events[-1].timestamp.iso() == "2015-11-30T21:16:02.0312500Z"
    assert [e.data["action"] for e in events].count("renamed_to") == 4


# --- definitions and the command line ---------------------------------------------------------


def test_definition():
    usn = next(a for a in load_definitions() if a.name == "UsnJournal")
    assert (usn.family, usn.extractor, usn.default) == ("filesystem", "usnjrnl", True)
    assert usn.paths == ("/$Extend/$UsnJrnl:$J", "/$Extend/$J", "/$Extend/$UsnJrnl%3A$J",
                         "/$Extend/$UsnJrnl$J")


@pytest.mark.parametrize("stream_name", ["$J", "$UsnJrnl%3A$J", "$UsnJrnl$J"])
def test_cli_run_on_a_collected_folder_with_the_image_mft(cli, tmp_path, stream_name):
    from triage.collect import find_path

    tree = _image_tree()
    documents = _dir_reference(tree, "/Users/bob/Documents")
    desktop = _dir_reference(tree, "/Users/bob/Desktop")
    evidence = tmp_path / "evidence"
    (evidence / "Windows").mkdir(parents=True)
    (evidence / "$Extend").mkdir()
    (evidence / "$MFT").write_bytes(find_path(tree, "/$MFT").read())
    entry, seq = documents & ((1 << 48) - 1), documents >> 48
    d_entry, d_seq = desktop & ((1 << 48) - 1), desktop >> 48
    records = [
        UsnRecord("customers_2026.csv", 300, 1, entry, seq, T0, FILE_CREATE | CLOSE),
        UsnRecord("customers_2026.csv", 300, 1, entry, seq, T0 + SECOND, RENAME_OLD_NAME),
        UsnRecord("c.csv", 300, 1, d_entry, d_seq, T0 + SECOND, RENAME_NEW_NAME | CLOSE),
        UsnRecord("c.csv", 300, 1, d_entry, d_seq, T0 + 2 * SECOND, FILE_DELETE | CLOSE),
    ]
    (evidence / "$Extend" / stream_name).write_bytes(build_journal(records, leading_zeros=65536))
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = sorted((e for e in read_jsonl(case) if e["artifact"] == "UsnJournal"),
                    key=lambda e: e["data"]["usn"])  # the timeline orders equal times by hash
    assert [(e["timestamp"], e["message"], e["data"]["action"]) for e in events] == [
        (iso(0), "customers_2026.csv: FILE_CREATE, CLOSE (parent /Users/bob/Documents)",
         "created"),
        (iso(1), "customers_2026.csv: RENAME_OLD_NAME (parent /Users/bob/Documents)",
         "renamed_from"),
        (iso(1), "c.csv: RENAME_NEW_NAME, CLOSE (parent /Users/bob/Desktop; renamed from "
                 "/Users/bob/Documents/customers_2026.csv)", "renamed_to"),
        (iso(2), "c.csv: FILE_DELETE, CLOSE (parent /Users/bob/Desktop)", "deleted"),
    ]
    assert all(e["family"] == "filesystem" and e["extractor"] == "usnjrnl"
               and e["timestamp_desc"] == "USN Changed"
               and e["source"]["path"] == f"/$Extend/{stream_name}" for e in events)


_names = st.text(st.characters(max_codepoint=127) | st.characters(codec="utf-16", exclude_categories=("Cs",)) | st.sampled_from(
    ['"', "\\", "\n", "\x00", "\x7f", "日", "\ud800", "\udfff", "é"]), min_size=1, max_size=12)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.lists(st.tuples(_names, st.integers(40, 48), st.integers(0, 2**32 - 1),
                          st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                          st.integers(0, 2**32 - 1), st.sampled_from([2, 3])),
                min_size=1, max_size=12),
       st.booleans())
def test_the_data_text_the_extractor_composes_is_the_engines(tmp_path_factory, items,
                                                            with_mft) -> None:
    """USN events carry their data's JSON composed by the extractor (the engine's largest
    per-event cost otherwise): it must be exactly what the engine's encoder writes, whatever
    the names (quotes, controls, non-ASCII, lone surrogates), flags and numbers; where the
    extractor does not compose it (renames, non-ASCII text) the engine does."""
    from triage.extraction import data_json

    tmp_path = tmp_path_factory.mktemp("usn")
    records = [UsnRecord(name, 100 + n, 1 + n % 3, parent, 3 if parent == 42 else 1,
                         T0 + n * SECOND, reason, attributes=attributes, source_info=source,
                         security_id=security, version=version)
               for n, (name, parent, reason, attributes, source, security, version)
               in enumerate(items)]
    events, _ = _extract(tmp_path, build_journal(records),
                         _mft_file(tmp_path) if with_mft else None)
    assert len(events) == len(records)
    for event in events:
        if event.data_json is not None:
            assert event.data_json == data_json(event.data)
        else:
            plain = [event.data[k] for k in ("file_name", "parent_path")]
            assert "old_name" in event.data or not all(t.isascii() for t in plain)


def test_plain_records_carry_their_data_text(tmp_path):
    records = [UsnRecord("customers_2026.csv", 100, 2, 42, 3, T0, FILE_CREATE, security_id=263),
               UsnRecord("Kunden_ä.csv", 101, 2, 42, 3, T0, FILE_CREATE)]
    events, _ = _extract(tmp_path, build_journal(records), _mft_file(tmp_path))
    assert events[0].data_json is not None and events[1].data_json is None
    from triage.extraction import data_json
    assert events[0].data_json == data_json(events[0].data)
