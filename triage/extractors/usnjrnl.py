"""NTFS USN change journal (`\\$Extend\\$UsnJrnl:$J`): every change NTFS noted on the volume.

Format: the `$J` data stream of `$Extend\\$UsnJrnl` is a sequence of USN records, documented by
Microsoft as USN_RECORD_V2, USN_RECORD_V3 and USN_RECORD_V4 (winioctl.h), and in the libyal
notes on NTFS ("Update (or change) journal"). All integers are little-endian. Each record
starts with a common header (uint32 RecordLength, uint16 MajorVersion, uint16 MinorVersion);
records are 8-byte aligned and a record never starts with a zero length. Windows writes the
journal in 4 KiB pages and zero-fills the end of a page a record does not fit in; as the
journal grows it frees its oldest pages, so the stream is sparse: gigabytes of nothing before
the live records. The USN of a record is its offset in the stream.

    V2 (60-byte fixed part)           V3 (76-byte fixed part)          V4 (64 bytes + extents)
    8  FileReferenceNumber  u64       8  FileReferenceNumber 128 bit  8  FileReferenceNumber 128
    16 ParentFileReference  u64       24 ParentFileReference 128 bit  24 ParentFileReference 128
    24 Usn                  i64       40 Usn                          40 Usn
    32 TimeStamp       FILETIME       48 TimeStamp                    48 Reason      u32
    40 Reason               u32       56 Reason                       52 SourceInfo  u32
    44 SourceInfo           u32       60 SourceInfo                   56 RemainingExtents u32
    48 SecurityId           u32       64 SecurityId                   60 NumberOfExtents  u16
    52 FileAttributes       u32       68 FileAttributes               62 ExtentSize  u16 (16)
    56 FileNameLength (bytes) u16     72 FileNameLength               64 Extents: {i64 offset,
    58 FileNameOffset       u16       74 FileNameOffset                  i64 length} each
    60 FileName  UTF-16LE             76 FileName

An NTFS file reference is a 48-bit MFT entry number and a 16-bit sequence number. V3 carries
128-bit file ids: on NTFS the high 64 bits are zero and the low 64 bits are such a reference;
otherwise (ReFS) there is no entry number and the id is given as 32 hex digits.

Time: TimeStamp is a FILETIME, UTC, 100 ns resolution (seven digits), when the change was
recorded; timestamp_desc "USN Changed". A V4 record (range tracking, Windows 8.1 and later: which
byte ranges of a file were written) holds no time and no name: it is emitted with no timestamp,
never with one borrowed from a neighbour.

Reading: sparse-aware. When the file offers `extents()` (a stream read from an image) sparse
runs are never read. Otherwise zero stretches are passed over one 4 KiB page at a time and the
scan resumes at the first 8-aligned non-zero place. Every record is validated (version 2.0, 3.0
or 4.0, length bounds and alignment, name inside the record); where one does not validate the
scan looks for the next plausible record header in the same page, then goes on page by page;
the stretches skipped are counted in one warning. The stream is read in 4 MiB windows, never
whole.

Parent paths: each record names its parent directory by reference only. The path is rebuilt
from the volume's `$MFT` when the evidence has one (`ctx.open_path("/$MFT")`): a small walker
of MFT records of our own (fixups applied) keeps, for directory records only, entry ->
(sequence, in use, name, parent reference); cached per $MFT (size, SHA-256) for the process.
A reference matches an MFT directory when the sequence numbers agree (for a directory record no
longer in use, NTFS has already increased the sequence by one). The journal's own directory
records come first (a first pass learns them): they name directories the MFT no longer knows
(created and deleted since) and give the name a directory had *at that USN* (a folder renamed
later in the journal shows its old name on the records before the rename). A directory that
cannot be named is written `<entry N>`, e.g. `<entry 1234>/Reports` when only its parent is
unknown.

Events, one per record: timestamp_desc "USN Changed"; message
`customers_2026.csv: FILE_DELETE, CLOSE (parent /Users/bob/Documents)`; a RENAME_NEW_NAME
record whose RENAME_OLD_NAME record was seen adds `; renamed from <old path>`.

Event data: file_name, entry, sequence, parent_entry, parent_sequence, parent_path, usn,
reasons (flag names; an unnamed bit as 0x........), reason_flags, source_info, security_id,
attributes (raw integers), directory (FILE_ATTRIBUTE_DIRECTORY set), version (major: 2, 3, 4),
action (deleted, renamed_from, renamed_to, created, modified or other, first that applies in
that order); a renamed_to record adds old_name and old_parent_path when known; V3/V4 records
with a non-NTFS id add file_id/parent_file_id (entry and sequence are then None); V4 adds
extents ([offset, length] pairs) and remaining_extents. The journal does not say who made the
change (SecurityId indexes `$Secure`, not a user): `user` is None.
"""
from __future__ import annotations

import bisect
import codecs
import hashlib
import json.encoder
import re
import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import FILETIME_EPOCH_DELTA, FILETIME_MAX, ArtifactError, Event, Timestamp

PAGE = 4096
WINDOW = 4 * 1024 * 1024  # bytes read at a time (a multiple of PAGE)
MAX_RECORD = 4096  # V2/V3 records are at most 60/76 + 510 bytes; V4 well under a page
_ZERO_PAGE = bytes(PAGE)
_NONZERO = re.compile(rb"[^\x00]")
_VERSION = re.compile(rb"[\x02-\x04]\x00\x00\x00")  # major 2..4, minor 0: at record offset 4

_V2 = struct.Struct("<IHHQQqqIIIIHH")  # 60 bytes
_V3 = struct.Struct("<IHHQQQQqqIIIIHH")  # 76 bytes
_V4 = struct.Struct("<IHHQQQQqIIIHH")  # 64 bytes
_EXTENT = struct.Struct("<qq")
_U32 = struct.Struct("<I")
_utf16 = codecs.utf_16_le_decode
_quote = json.encoder.encode_basestring  # a JSON string, as the engine's encoder writes it
_HEADERS = (b"\x02\0\0\0", b"\x03\0\0\0", b"\x04\0\0\0")  # major, minor of 2.0, 3.0, 4.0

_ENTRY_MASK = (1 << 48) - 1
_ROOT_ENTRY = 5
_DIRECTORY = 0x10  # FILE_ATTRIBUTE_DIRECTORY
_MAX_DEPTH = 128  # path components followed before giving up (a loop in damaged data)
_MAX_DIRS = 2_000_000  # directories kept from the MFT, and from the journal (memory bound)
_MAX_CACHED_PATHS = 1_000_000
_MAX_PENDING_RENAMES = 100_000
_MAX_EXTENTS_KEPT = 256

REASONS = [
    (0x00000001, "DATA_OVERWRITE"),
    (0x00000002, "DATA_EXTEND"),
    (0x00000004, "DATA_TRUNCATION"),
    (0x00000010, "NAMED_DATA_OVERWRITE"),
    (0x00000020, "NAMED_DATA_EXTEND"),
    (0x00000040, "NAMED_DATA_TRUNCATION"),
    (0x00000100, "FILE_CREATE"),
    (0x00000200, "FILE_DELETE"),
    (0x00000400, "EA_CHANGE"),
    (0x00000800, "SECURITY_CHANGE"),
    (0x00001000, "RENAME_OLD_NAME"),
    (0x00002000, "RENAME_NEW_NAME"),
    (0x00004000, "INDEXABLE_CHANGE"),
    (0x00008000, "BASIC_INFO_CHANGE"),
    (0x00010000, "HARD_LINK_CHANGE"),
    (0x00020000, "COMPRESSION_CHANGE"),
    (0x00040000, "ENCRYPTION_CHANGE"),
    (0x00080000, "OBJECT_ID_CHANGE"),
    (0x00100000, "REPARSE_POINT_CHANGE"),
    (0x00200000, "STREAM_CHANGE"),
    (0x00400000, "TRANSACTED_CHANGE"),
    (0x00800000, "INTEGRITY_CHANGE"),
    (0x01000000, "DESIRED_STORAGE_CLASS_CHANGE"),
    (0x80000000, "CLOSE"),
]
_FILE_CREATE, _FILE_DELETE = 0x100, 0x200
_RENAME_OLD, _RENAME_NEW, _CLOSE = 0x1000, 0x2000, 0x80000000
_RENAME_OR_CLOSE = _RENAME_OLD | _RENAME_NEW | _CLOSE
_DATA_CHANGES = 0x77  # DATA_* and NAMED_DATA_*


def decode_reasons(flags: int) -> list[str]:
    """Flag names in bit order; a bit Microsoft does not name is written as 0x........"""
    names = [name for bit, name in REASONS if flags & bit]
    unknown = flags & ~sum(bit for bit, _ in REASONS)
    for bit in range(32):
        if unknown & (1 << bit):
            names.append(f"0x{1 << bit:08X}")
    return names


def action_of(flags: int) -> str:
    if flags & _FILE_DELETE:
        return "deleted"
    if flags & _RENAME_OLD:
        return "renamed_from"
    if flags & _RENAME_NEW:
        return "renamed_to"
    if flags & _FILE_CREATE:
        return "created"
    if flags & _DATA_CHANGES:
        return "modified"
    return "other"


# --- reading the stream ------------------------------------------------------------------------


@dataclass
class ScanStats:
    records: int = 0
    sparse_bytes: int = 0  # never read: sparse runs of the stream
    zero_bytes: int = 0  # read and passed over: zero pages and page padding
    garbage_regions: int = 0
    garbage_bytes: int = 0
    first_garbage: int | None = None
    truncated_at: int | None = None  # a record cut by the end of the data
    short_read_at: int | None = None  # the file gave fewer bytes than its size says


def data_regions(f: EvidenceFile) -> tuple[list[tuple[int, int]], int]:
    """(start, end) stretches of the stream holding data, and the sparse bytes left out."""
    size = f.size
    extents = getattr(f, "extents", None)
    runs = None
    if callable(extents):
        try:
            runs = extents()
        except Exception:  # no run list: read everything, zero pages are skipped anyway
            runs = None
    if not runs:
        return ([(0, size)] if size else []), 0
    regions: list[tuple[int, int]] = []
    covered = 0
    for offset, length, sparse in runs:
        start, end = max(0, offset), min(size, offset + length)
        if end <= start:
            continue
        if sparse:
            continue
        covered += end - start
        start -= start % 8
        if regions and regions[-1][1] >= start:
            regions[-1] = (regions[-1][0], max(regions[-1][1], end))
        else:
            regions.append((start, end))
    last = runs[-1][0] + runs[-1][1]
    if last < size:  # the run list stops short of the size: read the rest
        regions.append((last - last % 8, size))
        covered += size - last
    return regions, max(0, size - covered)


def _valid(buf: bytes, pos: int, n: int) -> tuple[int, tuple] | None:
    """(major version, fields) of a well-formed record at buf[pos], else None."""
    if pos + 8 > n:
        return None
    length, major, minor = struct.unpack_from("<IHH", buf, pos)
    if minor or length & 7 or length > MAX_RECORD or pos + length > n:
        return None
    if major == 2:
        if length < 64:
            return None
        fields = _V2.unpack_from(buf, pos)
        usn, name_length, name_offset = fields[5], fields[11], fields[12]
        fixed = 60
    elif major == 3:
        if length < 80:
            return None
        fields = _V3.unpack_from(buf, pos)
        usn, name_length, name_offset = fields[7], fields[13], fields[14]
        fixed = 76
    elif major == 4:
        if length < 80:
            return None
        fields = _V4.unpack_from(buf, pos)
        count, extent_size = fields[11], fields[12]
        if fields[7] < 0 or extent_size != 16 or not count or 64 + 16 * count > length:
            return None
        return 4, fields
    else:
        return None
    if usn < 0 or name_offset < fixed or name_offset & 1 or not name_length or name_length & 1 \
            or name_offset + name_length > length:
        return None
    return major, fields


def scan(handle: BinaryIO, regions: list[tuple[int, int]], stats: ScanStats,
         directories_only: bool = False) -> Iterator[tuple[int, tuple, bytes, int]]:
    """Every valid record as (major version, fields, window, position in the window).

    `directories_only`: V2 and V3 records without FILE_ATTRIBUTE_DIRECTORY are passed over
    (validated and counted, not yielded): the first pass wants only directories."""
    v2, v3, u32 = _V2.unpack_from, _V3.unpack_from, _U32.unpack_from
    skip_files = _DIRECTORY if directories_only else 0
    for start, end in regions:
        base = start
        in_garbage = False
        while base < end:
            handle.seek(base)
            want = min(WINDOW, end - base)
            buf = handle.read(want)
            n = len(buf)
            final = base + n >= end
            if n < want:
                if stats.short_read_at is None:
                    stats.short_read_at = base + n
                final = True
            if not n:
                break
            pos = 0
            refill = None
            fast_end = n - 76  # where every fixed part still fits in the window
            while pos + 8 <= n:
                # Fast path: the V2 and V3 records that make up a journal (same checks as _valid).
                major = buf[pos + 4]
                if major == 2 and pos <= fast_end:
                    fields = v2(buf, pos)
                    length = fields[0]
                    if fields[1] == 2 and not fields[2] and not length & 7 and \
                            64 <= length <= MAX_RECORD and pos + length <= n and \
                            fields[5] >= 0 and fields[12] >= 60 and fields[11] and \
                            not (fields[11] | fields[12]) & 1 and fields[11] + fields[12] <= length:
                        in_garbage = False
                        stats.records += 1
                        if not skip_files or fields[10] & skip_files:
                            yield 2, fields, buf, pos
                        pos += length
                        continue
                elif major == 3 and pos <= fast_end:
                    fields = v3(buf, pos)
                    length = fields[0]
                    if fields[1] == 3 and not fields[2] and not length & 7 and \
                            80 <= length <= MAX_RECORD and pos + length <= n and \
                            fields[7] >= 0 and fields[14] >= 76 and fields[13] and \
                            not (fields[13] | fields[14]) & 1 and fields[13] + fields[14] <= length:
                        in_garbage = False
                        stats.records += 1
                        if not skip_files or fields[12] & skip_files:
                            yield 3, fields, buf, pos
                        pos += length
                        continue
                length = u32(buf, pos)[0]
                if length == 0:
                    in_garbage = False
                    nxt = _skip_zeros(buf, pos, n)
                    stats.zero_bytes += nxt - pos
                    pos = nxt
                    continue
                if pos + length > n and not final and length <= MAX_RECORD and \
                        buf[pos + 4: pos + 8] in _HEADERS:
                    refill = pos  # the record runs into the next window
                    break
                found = _valid(buf, pos, n)
                if found is not None:
                    in_garbage = False
                    stats.records += 1
                    yield found[0], found[1], buf, pos
                    pos += length
                    continue
                if final and pos + length > n and length <= MAX_RECORD and \
                        buf[pos + 4: pos + 8] in _HEADERS and \
                        _next_valid(buf, pos + 8, n) is None:
                    stats.truncated_at = base + pos  # the last record, cut short
                    pos = n
                    break
                if not in_garbage:
                    in_garbage = True
                    stats.garbage_regions += 1
                    if stats.first_garbage is None:
                        stats.first_garbage = base + pos
                nxt = _next_candidate(buf, pos, n, base)
                stats.garbage_bytes += nxt - pos
                pos = nxt
            if refill is not None:
                base += refill
                continue
            if final:
                if pos < n and stats.truncated_at is None and _NONZERO.search(buf, pos):
                    stats.truncated_at = base + pos  # a few bytes too short for any record
                break
            base += pos


def _next_valid(buf: bytes, pos: int, n: int) -> int | None:
    """The first valid record at or after buf[pos] (8-aligned), or None."""
    i = pos + 4
    while True:
        m = _VERSION.search(buf, i)
        if m is None:
            return None
        start = m.start() - 4
        if start % 8 == 0 and _valid(buf, start, n) is not None:
            return start
        i = m.start() + 1


def _skip_zeros(buf: bytes, pos: int, n: int) -> int:
    """From a zero length at buf[pos]: the next 8-aligned place that holds a non-zero byte."""
    page_end = pos - pos % PAGE + PAGE
    m = _NONZERO.search(buf, pos, min(page_end, n))
    if m is None:
        p = page_end
        while p + PAGE <= n and buf.startswith(_ZERO_PAGE, p):
            p += PAGE
        if p >= n:
            return n
        m = _NONZERO.search(buf, p, min(p + PAGE, n))
        if m is None:
            return n
    q = m.start() & ~7
    return q if q > pos else pos + 8


def _next_candidate(buf: bytes, pos: int, n: int, base: int) -> int:
    """After garbage at buf[pos]: the next 8-aligned place in this page whose header reads like
    a record (version 2, 3 or 4 with minor 0), else the start of the next page."""
    page_end = min(n, (base + pos) - (base + pos) % PAGE + PAGE - base)
    i = pos + 12
    while i < page_end:
        m = _VERSION.search(buf, i, page_end + 4)
        if m is None:
            break
        start = m.start() - 4
        if start % 8 == 0 and start < page_end and _valid(buf, start, n) is not None:
            return start
        i = m.start() + 1
    return max(page_end, pos + 8)


# --- the $MFT: directory names -----------------------------------------------------------------


_MFT_CACHE: "OrderedDict[tuple[int, str], tuple[dict[int, tuple[int, bool, str, int]], int]]" = \
    OrderedDict()
_MFT_CACHE_SIZE = 2  # volumes (live and snapshots) seldom share one $MFT: keep few
_MFT_FILE_NAME = 0x30
_MFT_END = 0xFFFFFFFF


class MftError(Exception):
    pass


def _fixup(record: bytearray, size: int) -> bool:
    """Apply the update sequence array in place; False when a sector is torn."""
    usa_offset, usa_count = struct.unpack_from("<HH", record, 4)
    if usa_count < 2 or usa_offset < 42 or usa_offset + 2 * usa_count > size:
        return False
    stride = size // (usa_count - 1)
    if stride < 256 or stride * (usa_count - 1) != size:
        return False
    check = record[usa_offset: usa_offset + 2]
    for i in range(1, usa_count):
        end = i * stride - 2
        if record[end: end + 2] != check:
            return False
        record[end: end + 2] = record[usa_offset + 2 * i: usa_offset + 2 * i + 2]
    return True


def _directory_record(record: bytearray, size: int) -> tuple[int, bool, str, int] | None:
    """(sequence, in use, name, parent reference) of a base directory record with a name."""
    sequence, first_attribute, flags, used, _, base_ref = struct.unpack_from("<H2xHHIIQ",
                                                                            record, 16)
    if base_ref:
        return None  # an extension record: names live in the base record
    used = min(used, size)
    pos = first_attribute
    best: tuple[int, str, int] | None = None
    rank = {1: 0, 3: 0, 0: 1, 2: 2}  # Win32, Win32 & DOS, POSIX, DOS 8.3: prefer the long name
    while pos + 16 <= used:
        kind, length = struct.unpack_from("<II", record, pos)
        if kind == _MFT_END or length < 16 or pos + length > used:
            break
        if kind > _MFT_FILE_NAME:
            break
        if kind == _MFT_FILE_NAME and record[pos + 8] == 0 and length >= 24:
            content_size, content_offset = struct.unpack_from("<IH", record, pos + 16)
            start = pos + content_offset
            if content_offset >= 24 and start + content_size <= pos + length and content_size >= 66:
                parent_ref = struct.unpack_from("<Q", record, start)[0]
                chars, namespace = record[start + 64], record[start + 65]
                if 66 + 2 * chars <= content_size:
                    name = bytes(record[start + 66: start + 66 + 2 * chars]).decode(
                        "utf-16-le", errors="surrogatepass")
                    order = rank.get(namespace, 3)
                    if best is None or order < best[0]:
                        best = (order, name, parent_ref)
        pos += length
    if best is None:
        return None
    return sequence, bool(flags & 1), best[1], best[2]


_Dirs = dict[int, tuple[int, bool, str, int]]  # entry -> (sequence, in use, name, parent ref)


def parse_mft(handle: BinaryIO, limit: int = _MAX_DIRS) -> tuple[_Dirs, int]:
    """Directory records of an $MFT: entry -> (sequence, in use, name, parent reference), and
    how many directory records were skipped as torn or malformed."""
    first = handle.read(64)
    if len(first) < 48 or first[:4] != b"FILE":
        raise MftError("not an MFT (no FILE record at offset 0)")
    size = struct.unpack_from("<I", first, 28)[0]
    if size not in (1024, 2048, 4096):
        raise MftError(f"unsupported MFT record size {size}")
    handle.seek(0)
    dirs: _Dirs = {}
    bad = 0
    entry = 0
    chunk_records = WINDOW // size
    while True:
        buf = handle.read(chunk_records * size)
        if not buf:
            break
        count = len(buf) // size
        for i in range(count):
            off = i * size
            if buf[off + 22] & 2 and buf.startswith(b"FILE", off):
                record = bytearray(buf[off: off + size])
                found = _directory_record(record, size) if _fixup(record, size) else None
                if found is None:
                    bad += 1
                elif len(dirs) < limit:
                    dirs[entry + i] = found
        entry += count
        if len(buf) < chunk_records * size:
            break
    return dirs, bad


def load_mft(mft: EvidenceFile) -> tuple[dict[int, tuple[int, bool, str, int]], int, bool]:
    """Directories of a volume's $MFT, cached by (size, SHA-256): (dirs, bad records, cached)."""
    digest = hashlib.sha256()
    with mft.open() as handle:
        while True:
            block = handle.read(WINDOW)
            if not block:
                break
            digest.update(block)
    key = (mft.size, digest.hexdigest())
    if key in _MFT_CACHE:
        _MFT_CACHE.move_to_end(key)
        dirs, bad = _MFT_CACHE[key]
        return dirs, bad, True
    with mft.open() as handle:
        dirs, bad = parse_mft(handle)
    _MFT_CACHE[key] = (dirs, bad)
    while len(_MFT_CACHE) > _MFT_CACHE_SIZE:
        _MFT_CACHE.popitem(last=False)
    return dirs, bad, False


# --- names and paths -----------------------------------------------------------------------------


class Names:
    """Directory names from the MFT and the journal, and the parent paths built from them."""

    def __init__(self, mft: dict[int, tuple[int, bool, str, int]] | None = None):
        self.mft = mft or {}
        # reference -> [(usn, name, parent reference)], one item per change of name or parent
        self.history: dict[int, list[tuple[int, str, int]]] = {}
        self.usns: dict[int, list[int]] = {}
        self.cache: dict[int, str] = {}
        self.full = False

    def learn(self, ref: int, usn: int, name: str, parent: int) -> None:
        """A journal record about a directory (records come in USN order)."""
        items = self.history.get(ref)
        if items is None:
            if len(self.history) >= _MAX_DIRS:
                self.full = True
                return
            self.history[ref] = [(usn, name, parent)]
            return
        last = items[-1]
        if usn < last[0]:  # out of order (a damaged stream): keep what was learned
            return
        if last[1] != name or last[2] != parent:
            items.append((usn, name, parent))

    def finish(self) -> None:
        for ref, items in self.history.items():
            if len(items) > 1:
                self.usns[ref] = [item[0] for item in items]

    def _lookup(self, ref: int, usn: int) -> tuple[str, int, bool] | None:
        """(name, parent reference, same at every USN) of a directory at this USN."""
        items = self.history.get(ref)
        if items is not None:
            if len(items) == 1:
                return items[0][1], items[0][2], True
            index = bisect.bisect_right(self.usns[ref], usn) - 1
            item = items[max(index, 0)]
            return item[1], item[2], False
        entry, sequence = ref & _ENTRY_MASK, ref >> 48
        known = self.mft.get(entry)
        if known is None:
            return None
        seq, in_use, name, parent = known
        if sequence and seq != sequence and (in_use or (seq - 1) & 0xFFFF != sequence):
            return None  # the MFT entry now holds another directory
        return name, parent, True

    def path(self, ref: int, usn: int) -> str:
        """The directory's path at this USN: '/' for the root, `<entry N>` for what is unknown."""
        cached = self.cache.get(ref)
        if cached is not None:
            return cached
        parts: list[str] = []
        static = True
        current = ref
        seen = set()
        while True:
            entry = current & _ENTRY_MASK
            if entry == _ROOT_ENTRY:
                prefix = ""
                break
            hit = self.cache.get(current) if current != ref else None
            if hit is not None:
                prefix = "" if hit == "/" else hit
                break
            found = self._lookup(current, usn)
            if found is None or current in seen or len(parts) >= _MAX_DEPTH:
                prefix = f"<entry {entry}>"
                break
            seen.add(current)
            name, parent, same = found
            static = static and same
            parts.append(name)
            current = parent
        text = prefix + "".join("/" + p for p in reversed(parts)) if parts else (prefix or "/")
        if static and len(self.cache) < _MAX_CACHED_PATHS:
            self.cache[ref] = text
        return text


def _ref128(low: int, high: int) -> tuple[int | None, str | None]:
    """An NTFS reference (low 64 bits) when the high 64 bits are zero, else the id in hex."""
    if high == 0:
        return low, None
    return None, f"{high:016x}{low:016x}"


# --- the extractor ---------------------------------------------------------------------------


def _time(value: int) -> Timestamp | None:
    if not value or value > FILETIME_MAX or value < 0:
        return None
    return Timestamp((value - FILETIME_EPOCH_DELTA) * 100, 7)


@register
class UsnJournalExtractor(Extractor):
    name = "usnjrnl"
    family = "filesystem"
    description = "NTFS USN change journal ($UsnJrnl:$J): file creations, deletions, renames"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        regions, sparse = data_regions(f)
        names = Names(self._mft(ctx))

        # Pass 1: the directories the journal itself names (created, renamed, deleted).
        learned = ScanStats()
        with f.open() as handle:
            for major, fields, buf, pos in scan(handle, regions, learned, True):
                if major == 2:
                    if fields[10] & _DIRECTORY:
                        start = pos + fields[12]
                        name = _utf16(buf[start: start + fields[11]], "surrogatepass")[0]
                        names.learn(fields[3], fields[5], name, fields[4])
                elif major == 3:
                    if fields[12] & _DIRECTORY and not fields[4] and not fields[6]:
                        start = pos + fields[14]
                        name = _utf16(buf[start: start + fields[13]], "surrogatepass")[0]
                        names.learn(fields[3], fields[7], name, fields[5])
        names.finish()
        if names.full:
            ctx.warn(f"more than {_MAX_DIRS} directories in the journal: paths of the others "
                     "come from the MFT only")

        # Pass 2: one event per record.
        stats = ScanStats(sparse_bytes=sparse)
        with f.open() as handle:
            yield from self._events(scan(handle, regions, stats), names)
        self._report(f, ctx, stats)

    @staticmethod
    def _mft(ctx: ExtractionContext) -> dict | None:
        try:
            mft = ctx.open_path("/$MFT")
        except Exception as exc:
            ctx.warn(f"$MFT not readable ({exc}): parent paths from the journal only")
            return None
        if mft is None:
            ctx.note("no $MFT beside the journal: parent paths from the journal only")
            return None
        try:
            dirs, bad, cached = load_mft(mft)
        except (MftError, OSError, struct.error, IndexError, ValueError) as exc:
            ctx.warn(f"$MFT unreadable ({exc}): parent paths from the journal only")
            return None
        if bad:
            ctx.warn(f"$MFT: {bad} directory record(s) torn or malformed, not used for paths")
        if len(dirs) >= _MAX_DIRS:
            ctx.warn(f"$MFT: more than {_MAX_DIRS} directories; only the first are used for paths")
        ctx.note(f"parent paths from {mft.path} ({len(dirs)} directories"
                 f"{', cached' if cached else ''})")
        return dirs

    @staticmethod
    def _report(f: EvidenceFile, ctx: ExtractionContext, stats: ScanStats) -> None:
        if stats.garbage_regions:
            ctx.warn(f"{stats.garbage_regions} stretch(es) of unparseable data skipped "
                     f"({stats.garbage_bytes} bytes, first at stream offset "
                     f"{stats.first_garbage})")
        if stats.truncated_at is not None:
            ctx.warn(f"record at stream offset {stats.truncated_at} cut off by the end of the "
                     "data (truncated stream)")
        if stats.short_read_at is not None:
            ctx.error(f"stream ends at offset {stats.short_read_at}, before its size {f.size}")
        ctx.note(f"{stats.records} USN records; {stats.sparse_bytes} sparse bytes not read, "
                 f"{stats.zero_bytes} zero bytes skipped")
        if not stats.records and stats.garbage_regions:
            raise ArtifactError("no USN record found: not a $UsnJrnl:$J stream or damaged "
                                f"({stats.garbage_bytes} bytes of unparseable data)")

    @staticmethod
    def _events(records: Iterator[tuple[int, tuple, bytes, int]], names: Names) -> Iterator[Event]:
        reason_cache: dict[int, tuple[list[str], str, str, str, str]] = {}
        renames: dict[Any, tuple[str | None, str]] = {}
        path_cache = names.cache
        path = names.path
        last_stamp, last_time = None, None
        mask, directory, delta, latest = _ENTRY_MASK, _DIRECTORY, FILETIME_EPOCH_DELTA, FILETIME_MAX
        decode, quote = _utf16, _quote
        for major, fields, buf, pos in records:
            if major == 2:
                (_, _, _, ref, parent, usn, stamp, reason, source, security, attributes,
                 name_length, name_offset) = fields
            elif major == 3 and not fields[4] and not fields[6]:  # NTFS ids in 128 bits
                (_, _, _, ref, _, parent, _, usn, stamp, reason, source, security,
                 attributes, name_length, name_offset) = fields
            else:
                yield _other_event(major, fields, buf, pos, names)
                continue

            decoded = reason_cache.get(reason)
            if decoded is None:
                decoded = _reason_text(reason)
                if len(reason_cache) < 4096:
                    reason_cache[reason] = decoded
            flag_names, flag_text, action, reasons_json, action_json = decoded
            start = pos + name_offset
            name = decode(buf[start: start + name_length], "surrogatepass")[0]
            parent_path = path_cache.get(parent) or path(parent, usn)
            if stamp != last_stamp:
                last_stamp = stamp
                last_time = Timestamp((stamp - delta) * 100, 7) if 0 < stamp <= latest else None
            data = {
                "file_name": name,
                "entry": ref & mask,
                "sequence": ref >> 48,
                "parent_entry": parent & mask,
                "parent_sequence": parent >> 48,
                "parent_path": parent_path,
                "usn": usn,
                "reasons": flag_names[:],
                "reason_flags": reason,
                "source_info": source,
                "security_id": security,
                "attributes": attributes,
                "directory": attributes & directory != 0,
                "version": major,
                "action": action,
            }
            message = f"{name}: {flag_text} (parent {parent_path})"
            if reason & _RENAME_OR_CLOSE and (renames or reason & _RENAME_OLD):
                if reason & _RENAME_OLD:
                    if len(renames) >= _MAX_PENDING_RENAMES:
                        renames.clear()
                    renames[ref] = (name, parent_path)
                elif ref in renames:
                    if reason & _RENAME_NEW:
                        old_name, old_parent = renames[ref]
                        data["old_name"] = old_name
                        data["old_parent_path"] = old_parent
                        message = (f"{name}: {flag_text} (parent {parent_path}; renamed from "
                                   f"{old_parent.rstrip('/')}/{old_name})")
                    if reason & _CLOSE:
                        del renames[ref]
            event = Event(last_time, "USN Changed", message, data, None)
            if len(data) == 15 and name.isascii() and parent_path.__class__ is str and \
                    parent_path.isascii():  # (no rename keys; text needs no cleaning)
                event.data_json = (
                    f'{{"action":{action_json},"attributes":{attributes},"directory":'
                    f'{"true" if attributes & directory else "false"},"entry":{ref & mask},'
                    f'"file_name":{quote(name)},"parent_entry":{parent & mask},'
                    f'"parent_path":{quote(parent_path)},"parent_sequence":{parent >> 48},'
                    f'"reason_flags":{reason},"reasons":{reasons_json},"security_id":{security},'
                    f'"sequence":{ref >> 48},"source_info":{source},"usn":{usn},'
                    f'"version":{major}}}')
            yield event


def _reason_text(reason: int) -> tuple[list[str], str, str, str, str]:
    """A reason mask's flag names, their text, its action; and the JSON of the names and of
    the action (for the event's data text)."""
    flags = decode_reasons(reason)
    action = action_of(reason)
    return (flags, ", ".join(flags), action, "[" + ",".join(map(_quote, flags)) + "]",
            _quote(action))


def _other_event(major: int, fields: tuple, buf: bytes, pos: int, names: Names) -> Event:
    """A V3 record with non-NTFS (ReFS) ids, or a V4 range-tracking record (no time, no name)."""
    if major == 3:
        (_, _, _, low, high, plow, phigh, usn, stamp, reason, source, security, attributes,
         name_length, name_offset) = fields
        start = pos + name_offset
        name = _utf16(buf[start: start + name_length], "surrogatepass")[0]
    else:
        (_, _, _, low, high, plow, phigh, usn, reason, source, remaining, count, _) = fields
        stamp, security, attributes, name = 0, None, None, None
    ref, file_id = _ref128(low, high)
    parent, parent_id = _ref128(plow, phigh)
    flag_names, flag_text, action, _, _ = _reason_text(reason)
    parent_path = names.path(parent, usn) if parent is not None else f"<file id {parent_id}>"
    if name is not None:
        shown = name
    elif ref is not None:
        shown = f"<entry {ref & _ENTRY_MASK}>"
    else:
        shown = f"<file id {file_id}>"
    data: dict[str, Any] = {
        "file_name": name,
        "entry": ref & _ENTRY_MASK if ref is not None else None,
        "sequence": ref >> 48 if ref is not None else None,
        "parent_entry": parent & _ENTRY_MASK if parent is not None else None,
        "parent_sequence": parent >> 48 if parent is not None else None,
        "parent_path": parent_path,
        "usn": usn,
        "reasons": flag_names,
        "reason_flags": reason,
        "source_info": source,
        "security_id": security,
        "attributes": attributes,
        "directory": bool(attributes & _DIRECTORY) if attributes is not None else None,
        "version": major,
        "action": action,
    }
    if file_id is not None or parent_id is not None:
        data["file_id"] = file_id
        data["parent_file_id"] = parent_id
    message = f"{shown}: {flag_text} (parent {parent_path})"
    if major == 4:
        kept = min(count, _MAX_EXTENTS_KEPT)
        data["extents"] = [list(_EXTENT.unpack_from(buf, pos + 64 + 16 * i)) for i in range(kept)]
        data["remaining_extents"] = remaining
        message += f" (range tracking: {count} extent{'s' if count != 1 else ''})"
    return Event(_time(stamp), "USN Changed", message, data, None)
