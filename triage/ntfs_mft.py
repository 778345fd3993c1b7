"""NTFS Master File Table (`$MFT`) reader: one streaming pass, compact path index, no pyfsntfs.

Format (libyal libfsntfs "New Technologies File System (NTFS)" paper; Microsoft's public NTFS
structure notes; Carrier, "File System Forensic Analysis", ch. 12-13). Little-endian throughout.

MFT entry (record), usually 1,024 bytes (4,096 on 4Kn disks; the size is read from the first
record's header, allocated-size field at offset 28):
    0  "FILE" signature ("BAAD" marks a record Windows found torn)
    4  update sequence array offset (uint16), 6 its count (uint16: 1 + number of sectors)
    16 sequence number (uint16), 18 hard link count, 20 first attribute offset
    22 flags (0x01 in use, 0x02 directory), 24 used size, 28 allocated size
    32 base record file reference (uint64; non-zero in an extension record)
    The last two bytes of every 512-byte stride hold the update sequence number; the real bytes
    are kept in the update sequence array ("fixups"). A stride whose last two bytes differ from
    the update sequence number was torn on write: the record is counted as bad.
Attribute header: uint32 type, uint32 length, uint8 non-resident, uint8 name length (UTF-16
characters), uint16 name offset. Resident: uint32 content size at 16, uint16 content offset at 20.
Non-resident: uint64 first VCN at 16, uint16 data-run offset at 32, uint64 real size at 48.
    0x10 $STANDARD_INFORMATION: FILETIME created, modified, MFT entry changed, accessed;
         uint32 file attribute flags at 32.
    0x20 $ATTRIBUTE_LIST: the entry's attributes continue in extension records.
    0x30 $FILE_NAME: uint64 parent file reference (48-bit entry, 16-bit sequence), FILETIME
         created, modified, MFT entry changed, accessed, uint64 allocated and real size, uint32
         flags, uint32 reparse tag, uint8 name length, uint8 namespace (0 POSIX, 1 Win32,
         2 DOS 8.3, 3 Win32 and DOS), UTF-16LE name.
    0x80 $DATA: unnamed = the file's content; named = an alternate data stream (ADS).
Every time is a FILETIME: 100 ns ticks since 1601-01-01 UTC.

Why our own reader: it is a single linear pass over the file with struct, several times faster
than walking entries through pyfsntfs, and it keeps only a compact index (parent entry, parent
sequence, sequence, flags, one name per entry: about 80 bytes an entry) to rebuild paths; the
details of the entries to report are spilled to a temporary file (kept in memory while small)
and read back once the index is complete, so memory does not grow with the MFT.

Paths: rebuilt through each entry's preferred name (Win32 or Win32+DOS, else POSIX, else DOS)
and its parent reference. A link is kept when the parent entry has a name and its sequence
equals the reference's, or, for a parent that is no longer in use, the reference's plus one
(NTFS increments the sequence number when it frees an entry). Otherwise the chain is broken and
the path is `/$OrphanFiles/<names below the break>` with `orphan` True. Loops and absurd depths
are treated as broken chains.
"""
from __future__ import annotations

import codecs
import hashlib
import marshal
import struct
import tempfile
from array import array
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

ROOT_ENTRY = 5
ORPHAN_ROOT = "/$OrphanFiles"
MAX_DEPTH = 512  # deeper parent chains are damage or loops
MAX_EXTENSIONS = 200_000  # extension records remembered for merging into their base entry
MAX_RUNS = 64  # data runs listed for one deleted file
MAX_ADS = 64  # alternate data streams listed for one entry
SPILL_IN_MEMORY = 32 * 1024 * 1024
_CHUNK_RECORDS = 1024

_HDR = struct.Struct("<4sHHQHHHHIIQ")
_ATTR = struct.Struct("<IIBBH4xIH")  # through the resident content offset
_NONRES = struct.Struct("<QQH")
_U64 = struct.Struct("<Q")
_SI = struct.Struct("<4QI")
_SI4 = struct.Struct("<4Q")
_FN = struct.Struct("<Q4Q24xBB")  # parent, 4 times, (sizes, flags), name length, namespace
_REF_MASK = 0xFFFFFFFFFFFF

IN_USE = 0x01
IS_DIR = 0x02
_NAMED = 0x80  # index flag: the entry has at least one name

NAMESPACES = {0: "POSIX", 1: "Win32", 2: "DOS", 3: "Win32+DOS"}
_NS_RANK = {1: 0, 3: 0, 0: 1, 2: 2}  # lower is preferred for the path

FILE_ATTRIBUTES = (
    (0x1, "readonly"), (0x2, "hidden"), (0x4, "system"), (0x20, "archive"), (0x40, "device"),
    (0x80, "normal"), (0x100, "temporary"), (0x200, "sparse"), (0x400, "reparse_point"),
    (0x800, "compressed"), (0x1000, "offline"), (0x2000, "not_content_indexed"),
    (0x4000, "encrypted"), (0x8000, "integrity_stream"), (0x10000, "virtual"),
    (0x20000, "no_scrub_data"), (0x40000, "recall_on_open"), (0x80000, "pinned"),
    (0x100000, "unpinned"), (0x400000, "recall_on_data_access"),
)

# Positions in the record tuple spilled between the pass and the emission (marshal-friendly).
(R_ENTRY, R_SEQ, R_FLAGS, R_LINKS, R_SI, R_NAMES, R_SIZE, R_DATA, R_RESIDENT_SHA256, R_ADS,
 R_ZONE, R_RUNS, R_ATTR_LIST) = range(13)
# R_SI: (created, modified, changed, accessed, file attribute flags) or None
# R_NAMES: [(name, namespace, parent entry, parent sequence, created, modified, changed,
#            accessed)]
# R_DATA: "resident", "nonresident" or None (no unnamed $DATA seen)
# R_ADS: [(name, size or None, resident)]; R_ZONE: resident Zone.Identifier bytes or None
# R_RUNS: [(first cluster or None when sparse, cluster count)] of the unnamed $DATA, or None


class MftError(Exception):
    """The file is not an MFT at all (raised before any record is reported)."""


_utf16 = codecs.utf_16_le_decode  # bytes.decode('utf-16-le') is 4x slower (no fast path)


def decode_runs(raw: bytes, limit: int = MAX_RUNS) -> tuple[list[tuple[int | None, int]], bool]:
    """Data runs to [(first cluster, count)] (None for a sparse run); True when cut at `limit`
    or damaged. Each run: a header byte (low nibble: size of the count, high nibble: size of
    the signed offset from the previous run's cluster), then those two little-endian values."""
    runs: list[tuple[int | None, int]] = []
    pos = 0
    lcn = 0
    end = len(raw)
    while pos < end:
        header = raw[pos]
        if header == 0:
            return runs, False
        count_size = header & 0x0F
        offset_size = header >> 4
        if not count_size or count_size > 8 or offset_size > 8 or \
                pos + 1 + count_size + offset_size > end:
            return runs, True
        pos += 1
        count = int.from_bytes(raw[pos:pos + count_size], "little")
        pos += count_size
        if offset_size:
            lcn += int.from_bytes(raw[pos:pos + offset_size], "little", signed=True)
            pos += offset_size
            runs.append((lcn, count))
        else:
            runs.append((None, count))
        if len(runs) >= limit:
            return runs, True
    return runs, False


def _file_name(rec: bytes | bytearray, start: int, size: int) -> tuple | None:
    """A resident $FILE_NAME value at `start` (`size` bytes) as a names item: (name,
    namespace, parent entry, parent sequence, created, modified, changed, accessed)."""
    parent, created, modified, changed, accessed, nlen, ns = _FN.unpack_from(rec, start)
    if 66 + 2 * nlen > size:
        return None
    return (_utf16(rec[start + 66:start + 66 + 2 * nlen], "surrogatepass")[0], ns,
            parent & _REF_MASK, parent >> 48, created, modified, changed, accessed)


def parse_record(rec: bytes | bytearray, off: int, rsize: int, entry: int, seq: int, links: int,
                 flags: int, attr_off: int, used: int, details: bool) -> tuple:
    """The fixed-up record at rec[off:off + rsize] (header known good) to the record tuple.
    With `details`, the data runs and the SHA-256 of resident content are computed too
    (costly; deleted entries only). Raises struct.error or ValueError on a damaged attribute
    area (the caller counts the record as bad)."""
    end = off + (used if used <= rsize else rsize)
    pos = off + attr_off
    si = None
    names: list = []
    size = None
    data_kind = None
    resident_sha256 = None
    ads: list = []
    zone = None
    runs = None
    attr_list = False
    unpack_attr = _ATTR.unpack_from
    while pos + 24 <= end:
        atype, alen, nonres, name_len, name_off, clen, coff = unpack_attr(rec, pos)
        if atype == 0xFFFFFFFF:
            break
        if alen < 24 or alen & 7 or pos + alen > end:
            raise ValueError(f"attribute of length {alen} at offset {pos} overruns the record")
        if atype == 0x30:
            if not nonres and clen >= 66 and coff + clen <= alen:
                item = _file_name(rec, pos + coff, clen)
                if item is not None:
                    names.append(item)
        elif atype == 0x10:
            if not nonres and coff + clen <= alen:
                if clen >= 36:
                    si = _SI.unpack_from(rec, pos + coff)
                elif clen >= 32:
                    si = _SI4.unpack_from(rec, pos + coff) + (0,)
        elif atype == 0x80:
            if name_len:
                if len(ads) < MAX_ADS:
                    stream = _utf16(rec[pos + name_off:pos + name_off + 2 * name_len],
                                    "surrogatepass")[0]
                    if nonres:
                        if _U64.unpack_from(rec, pos + 16)[0] == 0:  # first VCN 0: real size
                            ads.append((stream, _U64.unpack_from(rec, pos + 48)[0], False))
                    else:
                        ads.append((stream, clen, True))
                        if coff + clen <= alen and stream.lower() == "zone.identifier":
                            zone = bytes(rec[pos + coff:pos + coff + clen])
            elif nonres:
                start_vcn, _last, run_off = _NONRES.unpack_from(rec, pos + 16)
                if start_vcn == 0:
                    size = _U64.unpack_from(rec, pos + 48)[0]
                    data_kind = "nonresident"
                    if details and run_off < alen:
                        runs = decode_runs(rec[pos + run_off:pos + alen])[0]
            else:
                size = clen
                data_kind = "resident"
                if details and coff + clen <= alen:
                    resident_sha256 = hashlib.sha256(rec[pos + coff:pos + coff + clen]).hexdigest()
        elif atype == 0x20:
            attr_list = True
        pos += alen
    return (entry, seq, flags, links, si, names, size, data_kind, resident_sha256, ads, zone,
            runs, attr_list)


def parse_names(rec: bytes | bytearray, off: int, rsize: int, attr_off: int, used: int) -> list:
    """Only the $FILE_NAME items of a record, as parse_record gives them: for the records a
    scan does not select (the live files of a deleted-file scan), whose names are needed for
    paths and nothing else. Raises as parse_record does on a damaged attribute area."""
    end = off + (used if used <= rsize else rsize)
    pos = off + attr_off
    names: list = []
    unpack_attr = _ATTR.unpack_from
    while pos + 24 <= end:
        atype, alen, nonres, _nl, _no, clen, coff = unpack_attr(rec, pos)
        if atype == 0xFFFFFFFF:
            break
        if alen < 24 or alen & 7 or pos + alen > end:
            raise ValueError(f"attribute of length {alen} at offset {pos} overruns the record")
        if atype == 0x30 and not nonres and clen >= 66 and coff + clen <= alen:
            item = _file_name(rec, pos + coff, clen)
            if item is not None:
                names.append(item)
        pos += alen  # every attribute is still walked: a damaged one fails as in parse_record
    return names


def preferred_name(names: list) -> tuple | None:
    """The name used for the path: Win32 (or Win32+DOS), else POSIX, else DOS."""
    best = None
    best_rank = 9
    for item in names:
        rank = _NS_RANK.get(item[1], 3)
        if rank < best_rank:
            best, best_rank = item, rank
    return best


@dataclass
class ScanStats:
    record_size: int = 0
    records: int = 0  # records read (entries)
    empty: int = 0  # all-zero or never-used records
    bad: int = 0  # bad signature, torn fixups or damaged attributes
    first_bad: int | None = None
    extensions: int = 0
    used: int = 0  # records with at least one name (in use or deleted)
    in_use: int = 0
    deleted: int = 0
    trailing: int = 0  # bytes after the last whole record
    bad_reasons: dict[str, int] = field(default_factory=dict)


class PathIndex:
    """entry -> parent reference, sequence, flags and one name, in flat arrays (~80 bytes an
    entry with its name): refs[e] = parent entry | parent sequence << 48, meta[e] = sequence
    << 8 | header flags (0x01 in use, 0x02 directory) | 0x80 when the entry has a name."""

    def __init__(self) -> None:
        self.refs = array("Q")
        self.meta = array("L")
        self.names: list[str | None] = []
        self._dir_paths: dict[int, tuple[str, bool]] = {}

    def __len__(self) -> int:
        return len(self.meta)

    def sequence(self, entry: int) -> int:
        return self.meta[entry] >> 8

    def set_name(self, entry: int, name_item: tuple) -> None:
        self.refs[entry] = name_item[2] | name_item[3] << 48
        self.meta[entry] |= _NAMED
        self.names[entry] = name_item[0]

    def links_to(self, parent: int, parent_seq: int) -> bool:
        """Whether a reference (parent, parent_seq) still designates that directory entry."""
        if parent < 0 or parent >= len(self.meta):
            return False
        meta = self.meta[parent]
        if not meta & _NAMED:
            return False
        seq = meta >> 8
        if seq == parent_seq:
            return True
        # An entry freed after the reference was written has its sequence incremented.
        return not meta & IN_USE and seq == ((parent_seq + 1) & 0xFFFF or 1)

    def directory_path(self, entry: int) -> tuple[str, bool]:
        """Path of a directory entry (its own record taken as valid) and whether it is orphaned."""
        if entry == ROOT_ENTRY:
            return "", False
        cached = self._dir_paths.get(entry)
        if cached is not None:
            return cached
        chain: list[int] = []
        seen: set[int] = set()
        current = entry
        base, orphan = ORPHAN_ROOT, True
        while current not in seen and len(chain) <= MAX_DEPTH:
            seen.add(current)
            chain.append(current)
            ref = self.refs[current]
            parent, parent_seq = ref & _REF_MASK, ref >> 48
            if parent == current or not self.links_to(parent, parent_seq):
                break
            if parent == ROOT_ENTRY:
                base, orphan = "", False
                break
            cached = self._dir_paths.get(parent)
            if cached is not None:
                base, orphan = cached
                break
            current = parent
        path = base
        for node in reversed(chain):  # from the top of the chain down, caching folders
            path = f"{path}/{self.names[node]}"
            if self.meta[node] & IS_DIR and len(self._dir_paths) < 4_000_000:
                self._dir_paths[node] = (path, orphan)
        return path, orphan

    def path_for(self, name: str, parent: int, parent_seq: int, entry: int | None = None
                 ) -> tuple[str, bool]:
        """Full path of `name` under the reference (parent, parent_seq)."""
        if entry == ROOT_ENTRY:
            return "/", False
        if parent == entry or not self.links_to(parent, parent_seq):
            return f"{ORPHAN_ROOT}/{name}", True
        base, orphan = self.directory_path(parent)
        return f"{base}/{name}", orphan

    def path(self, entry: int, sequence: int | None = None) -> tuple[str, bool] | None:
        """Path of an entry by number (and sequence when given; None when it does not match):
        for other NTFS parsers, e.g. USN journal records that name an entry and its parent."""
        if entry < 0 or entry >= len(self.meta) or not self.meta[entry] & _NAMED:
            return None
        if sequence is not None and not self.links_to(entry, sequence):
            return None
        ref = self.refs[entry]
        return self.path_for(self.names[entry] or "", ref & _REF_MASK, ref >> 48, entry)


class _Spill:
    """Batches of records (one marshal blob per batch, length-prefixed) in a temporary file
    that stays in memory while small."""

    _LEN = struct.Struct("<I")

    def __init__(self) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=SPILL_IN_MEMORY)
        self.batches = 0

    def write(self, batch: list) -> None:
        if batch:
            blob = marshal.dumps(batch)
            self.file.write(self._LEN.pack(len(blob)))
            self.file.write(blob)
            self.batches += 1

    def __iter__(self) -> Iterator[tuple]:
        self.file.seek(0)
        read = self.file.read
        for _ in range(self.batches):
            (length,) = self._LEN.unpack(read(4))
            yield from marshal.loads(read(length))

    def close(self) -> None:
        self.file.close()


def fix_record(raw: bytes, usa_off: int, usa_cnt: int) -> bytes | str:
    """The record with the sector ends restored from the update sequence array, or the
    reason it cannot be (a torn write leaves a sector end that is not the sequence number)."""
    size = len(raw)
    sectors = usa_cnt - 1
    if sectors <= 0 or size % sectors or usa_off + 2 * usa_cnt > size:
        return "bad update sequence array"
    stride = size // sectors
    usn = raw[usa_off:usa_off + 2]
    if sectors == 2 and stride == 512:  # 1,024-byte records: the usual case, one expression
        if raw[510:512] != usn or raw[1022:1024] != usn:
            return "update sequence mismatch (torn write)"
        return (raw[:510] + raw[usa_off + 2:usa_off + 4] + raw[512:1022]
                + raw[usa_off + 4:usa_off + 6])
    parts = []
    start = 0
    for i in range(1, usa_cnt):
        end = i * stride - 2
        if raw[end:end + 2] != usn:
            return "update sequence mismatch (torn write)"
        parts.append(raw[start:end])
        parts.append(raw[usa_off + 2 * i:usa_off + 2 * i + 2])
        start = end + 2
    return b"".join(parts)


_NONZERO = bytes([0]) + bytes([1]) * 255


def _differences(left: bytes, right: bytes) -> Iterator[int]:
    """Indexes where two equal-length byte strings differ (XOR as big integers, then a scan
    that visits only the differing bytes)."""
    xor = (int.from_bytes(left, "little") ^ int.from_bytes(right, "little")).to_bytes(
        len(left), "little").translate(_NONZERO)
    i = xor.find(1)
    while i >= 0:
        yield i
        i = xor.find(1, i + 1)


def record_size_of(first: bytes) -> int:
    """The record size from the first record's header, or MftError."""
    if len(first) < 48 or first[:4] != b"FILE":
        raise MftError("not an NTFS $MFT: the first record has no FILE signature")
    alloc = struct.unpack_from("<I", first, 28)[0]
    if alloc < 256 or alloc > 65536 or alloc & (alloc - 1):
        raise MftError(f"not an NTFS $MFT: implausible record size {alloc}")
    return alloc


class MftScan:
    """One pass over an $MFT: builds the PathIndex and spills the records `select` keeps.

    `select(flags)` decides from the header flags whether a named base record is reported
    (e.g. only those not in use); `details` adds data runs and resident-content hashes to the
    reported records of entries not in use. Extension records are merged into their base entry.
    """

    def __init__(self, handle: BinaryIO, select: Callable[[int], bool], details: bool = False):
        self.handle = handle
        self.select = select
        self.details = details
        self.index = PathIndex()
        self.stats = ScanStats()
        self.extensions: dict[int, list[tuple[int, tuple]]] = {}
        self.extensions_dropped = 0
        self._extensions_kept = 0
        self._spill = _Spill()

    def _bad(self, entry: int, reason: str) -> None:
        stats = self.stats
        stats.bad += 1
        if stats.first_bad is None:
            stats.first_bad = entry
        stats.bad_reasons[reason] = stats.bad_reasons.get(reason, 0) + 1

    def run(self) -> "MftScan":
        read = self.handle.read
        pending = read(1024)
        rsize = record_size_of(pending)
        usa_off, usa_cnt = struct.unpack_from("<HH", pending, 4)
        self.stats.record_size = rsize
        chunk_size = rsize * _CHUNK_RECORDS
        while True:
            more = read(chunk_size)
            data = pending + more if pending else more
            whole = len(data) - len(data) % rsize
            self._chunk(data, whole, rsize, usa_off, usa_cnt)
            if not more:
                self.stats.trailing = len(data) - whole
                break
            pending = data[whole:]
        self._merge_extension_names()
        return self

    def _fixed_chunk(self, data: bytes, whole: int, rsize: int, usa_off: int, usa_cnt: int
                     ) -> tuple[bytearray, set[int]]:
        """All records of a chunk fixed up at once with extended slices (C speed), for the
        usual layout (the first record's update sequence array offset and count). Returns the
        fixed copy and the offsets of records to handle one by one (another layout, a torn
        sector, no FILE signature)."""
        buf = bytearray(data[:whole])
        odd: set[int] = set()
        sectors = usa_cnt - 1
        if sectors <= 0 or rsize % sectors or usa_off + 2 * usa_cnt > rsize:
            return buf, set(range(0, whole, rsize))
        stride = rsize // sectors
        step = rsize
        # Records whose header differs from the common layout are done one by one. Columns
        # (one byte of every record) are compared whole; positions are looked up only where
        # they differ.
        layout = struct.pack("<4sHH", b"FILE", usa_off, usa_cnt)
        for k in range(8):
            column = data[k:whole:step]
            if column.count(layout[k]) != len(column):
                odd.update(i * step for i in _differences(column, layout[k:k + 1] * len(column)))
        for k in range(2):
            usn = data[usa_off + k:whole:step]
            for sector in range(1, usa_cnt):
                end = sector * stride - 2 + k
                column = data[end:whole:step]
                if column != usn:
                    odd.update(i * step for i in _differences(column, usn))
                buf[end:whole:step] = data[usa_off + 2 * sector + k:whole:step]
        return buf, odd

    def _chunk(self, data: bytes, whole: int, rsize: int, usa_off: int, usa_cnt: int) -> None:
        buf, odd = self._fixed_chunk(data, whole, rsize, usa_off, usa_cnt)
        index = self.index
        refs_add = index.refs.append
        meta_add = index.meta.append
        names_add = index.names.append
        hdr = _HDR.unpack_from
        select = self.select
        details = self.details
        stats = self.stats
        entry = len(index)
        batch: list = []
        for off in range(0, whole, rsize):
            rec = buf
            pos = off
            if odd and off in odd:
                raw = data[off:off + rsize]
                if raw[:4] != b"FILE":
                    if raw[:4] == b"\0\0\0\0":
                        stats.empty += 1
                    else:
                        self._bad(entry, "BAAD signature" if raw[:4] == b"BAAD"
                                  else "no FILE signature")
                    refs_add(0)
                    meta_add(0)
                    names_add(None)
                    entry += 1
                    continue
                fixed = fix_record(raw, *struct.unpack_from("<HH", raw, 4))
                if fixed.__class__ is str:
                    self._bad(entry, fixed)
                    refs_add(0)
                    meta_add(struct.unpack_from("<H", raw, 16)[0] << 8)
                    names_add(None)
                    entry += 1
                    continue
                rec, pos = fixed, 0
            (_s, _uo, _uc, _lsn, seq, links, attr_off, flags, used_size, _alloc,
             base) = hdr(rec, pos)
            # A record the scan does not want (and not an extension) matters for its name only
            # (paths): its $FILE_NAME items are read, nothing else.
            wanted = bool(base & _REF_MASK) or select(flags)
            try:
                if wanted:
                    record = parse_record(rec, pos, rsize, entry, seq, links, flags, attr_off,
                                          used_size, details and not flags & IN_USE)
                    names = record[5]
                else:
                    record, names = None, parse_names(rec, pos, rsize, attr_off, used_size)
            except (struct.error, ValueError):
                self._bad(entry, "damaged attributes")
                refs_add(0)
                meta_add(seq << 8)
                names_add(None)
                entry += 1
                continue
            if base & _REF_MASK:
                stats.extensions += 1
                self._remember_extension(base, record)  # type: ignore[arg-type]
                refs_add(0)
                meta_add(seq << 8)
                names_add(None)
            elif names:
                best = names[0] if len(names) == 1 else preferred_name(names)
                refs_add(best[2] | best[3] << 48)
                meta_add(seq << 8 | (flags & 0x7F) | _NAMED)
                names_add(best[0])
                if flags & IN_USE:
                    stats.in_use += 1
                else:
                    stats.deleted += 1
                if wanted:
                    batch.append(record)
            else:
                refs_add(0)
                meta_add(seq << 8 | (flags & 0x7F))
                names_add(None)
                if wanted and record[12]:  # type: ignore[index]
                    batch.append(record)  # its names may be in extension records
                else:
                    stats.empty += 1
            entry += 1
        stats.records = entry
        stats.used = stats.in_use + stats.deleted
        self._spill.write(batch)

    def _remember_extension(self, base_ref: int, record: tuple) -> None:
        if not (record[R_NAMES] or record[R_DATA] or record[R_ADS]):
            return  # later extents of a fragmented attribute: nothing to merge
        if self._extensions_kept >= MAX_EXTENSIONS:
            self.extensions_dropped += 1
            return
        self._extensions_kept += 1
        self.extensions.setdefault(base_ref & _REF_MASK, []).append((base_ref >> 48, record))

    def _extension_records(self, entry: int, seq: int) -> list[tuple]:
        found = []
        for base_seq, record in self.extensions.get(entry, ()):
            if base_seq == seq or ((base_seq + 1) & 0xFFFF or 1) == seq:
                found.append(record)
        return found

    def _merge_extension_names(self) -> None:
        index = self.index
        for entry in self.extensions:
            if entry >= len(index) or index.names[entry] is not None:
                continue
            names = [n for r in self._extension_records(entry, index.sequence(entry))
                     for n in r[R_NAMES]]
            if names:
                index.set_name(entry, preferred_name(names))

    def merged(self, record: tuple) -> tuple:
        """A base record with its extension records' names, data size and streams added."""
        extra = self._extension_records(record[R_ENTRY], record[R_SEQ])
        if not extra:
            return record
        rec = list(record)
        names = list(rec[R_NAMES])
        ads = list(rec[R_ADS])
        for ext in extra:
            names.extend(ext[R_NAMES])
            ads.extend(ext[R_ADS])
            if rec[R_DATA] is None and ext[R_DATA] is not None:
                rec[R_SIZE], rec[R_DATA] = ext[R_SIZE], ext[R_DATA]
                rec[R_RESIDENT_SHA256], rec[R_RUNS] = ext[R_RESIDENT_SHA256], ext[R_RUNS]
            if rec[R_ZONE] is None and ext[R_ZONE] is not None:
                rec[R_ZONE] = ext[R_ZONE]
        rec[R_NAMES] = names
        rec[R_ADS] = ads[:MAX_ADS]
        return tuple(rec)

    def records(self) -> Iterator[tuple]:
        """The selected base records (merged, with at least one name), in entry order."""
        try:
            for record in self._spill:
                if self.extensions:
                    record = self.merged(record)
                if record[R_NAMES]:
                    yield record
        finally:
            self._spill.close()


def parse_zone_identifier(raw: bytes) -> dict:
    """The `[ZoneTransfer]` section of a Zone.Identifier stream: ZoneId, ReferrerUrl, HostUrl,
    and any other key (e.g. LastWriterPackageFamilyName) under `other`."""
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = raw.decode("utf-16", "replace")
    else:
        text = raw.decode("utf-8-sig", "replace")
    result: dict = {"zone_id": None, "zone": None, "referrer_url": None, "host_url": None}
    other: dict[str, str] = {}
    for line in text.replace("\r", "\n").split("\n"):
        line = line.strip().strip("\0")
        if not line or line.startswith("[") or "=" not in line:
            continue
        key, value = (part.strip() for part in line.split("=", 1))
        lower = key.lower()
        if lower == "zoneid":
            result["zone_id"] = int(value) if value.lstrip("-").isdigit() else value
            result["zone"] = ZONES.get(result["zone_id"]) if isinstance(result["zone_id"], int) \
                else None
        elif lower == "referrerurl":
            result["referrer_url"] = value
        elif lower == "hosturl":
            result["host_url"] = value
        elif len(other) < 32:
            other[key] = value[:1024]
    if other:
        result["other"] = other
    return result


ZONES = {0: "Local Machine", 1: "Local Intranet", 2: "Trusted Sites", 3: "Internet",
         4: "Restricted Sites"}


def attribute_names(value: int) -> list[str]:
    return [name for bit, name in FILE_ATTRIBUTES if value & bit]
