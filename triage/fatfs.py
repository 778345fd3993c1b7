"""FAT12/16/32 and exFAT read from the raw volume: geometry, allocation, cluster chains and every
directory entry, allocated and deleted.

Why our own parser: dfVFS (and libfsfat behind it) lists allocated files only; an examiner of a
USB stick needs the deleted entries, the long names they kept and the clusters they pointed to,
and `triage recover` needs the same walk to export deleted files. Shared by
triage/extractors/fat_entries.py and triage/recover.py.

Written from Microsoft's "FAT: General Overview of On-Disk Format" (FAT32 File System
Specification 1.03) and "exFAT File System Specification". The exFAT name hash is not checked
(it needs the volume's up-case table); the set checksum is.

FAT12/16/32 (little-endian):
    boot sector / BPB: bytes per sector (11), sectors per cluster (13), reserved sectors (14),
    number of FATs (16), root entry count (17), total sectors 16 (19), FAT size 16 (22),
    total sectors 32 (32); FAT12/16: serial (39), label (43); FAT32: FAT size 32 (36), flags
    (40: bit 7 = only the FAT numbered in bits 0-3 is active), root cluster (44), serial (67),
    label (71). The FAT type is decided by the count of data clusters only (< 4085: FAT12,
    < 65525: FAT16, else FAT32), as the specification says.
    FAT entries: 12, 16 or 28 bits; 0 free, ...F7 bad, >= ...F8 end of chain.
    Directory entry, 32 bytes: name 8+3 (0), attributes (11), NT case flags (12: 0x08 base
    lower case, 0x10 extension lower case), created 10 ms count 0-199 (13), created time (14)
    and date (16), accessed date (18), first cluster high (20, FAT32), modified time (22) and
    date (24), first cluster low (26), size (28). First name byte 0x00: end of the directory;
    0xE5: deleted (the real first character is lost); 0x05: a real 0xE5 (Shift-JIS lead byte).
    VFAT long names: entries with attributes 0x0F before the 8.3 entry, last part first;
    ordinal (0, 0x40 = last part), 13 UTF-16 characters at 1/14/28, checksum of the 8.3 name
    (13). A deleted long-name entry loses its ordinal only: the name survives whole.
    Times are LOCAL wall-clock time: time = hours<<11 | minutes<<5 | seconds/2, date =
    (year-1980)<<9 | month<<5 | day. Modified: 2 s resolution; created: 10 ms; accessed: a
    date only.

exFAT: boot sector "EXFAT   " at 3: volume length (72), FAT offset (80) and length (84) in
    sectors, cluster heap offset (88), cluster count (92), root cluster (96), serial (100),
    bytes-per-sector shift (108), sectors-per-cluster shift (109), number of FATs (110).
    FAT entries are 32-bit; allocation is the allocation bitmap (root entry 0x81), not the FAT:
    a file whose stream extension has NoFatChain stores contiguous clusters with no FAT chain.
    Directory entry sets: File (0x85: secondary count, set checksum, attributes, created /
    modified / accessed timestamps, 10 ms increments for created and modified, and a UTC
    offset per time: bit 7 valid, bits 0-6 signed 15-minute steps), Stream Extension (0xC0:
    flags bit 1 NoFatChain, name length, name hash, valid data length, first cluster, data
    length), File Name (0xC1: 15 UTF-16 characters each). Bit 7 of the type is InUse: a
    deleted set keeps every field with the bit cleared (0x05, 0x40, 0x41).

Bounds: directories deeper than 64, more than 5 million entries in all, directory cycles and
cluster-chain loops are reported (warnings) and cut, never followed for ever.
"""
from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterator

MAX_DEPTH = 64
MAX_ENTRIES = 5_000_000
FAT_DIR_MAX_BYTES = 65536 * 32  # a FAT directory holds at most 65,536 entries
EXFAT_DIR_MAX_BYTES = 256 << 20  # exFAT: 256 MiB
DELETED_DIR_MAX_CLUSTERS = 64  # clusters read of a deleted directory (contiguous, assumed)

ATTR_READ_ONLY, ATTR_HIDDEN, ATTR_SYSTEM, ATTR_VOLUME_ID = 0x01, 0x02, 0x04, 0x08
ATTR_DIRECTORY, ATTR_ARCHIVE = 0x10, 0x20
ATTR_LONG_NAME = 0x0F
_ATTR_NAMES = ((ATTR_READ_ONLY, "read_only"), (ATTR_HIDDEN, "hidden"), (ATTR_SYSTEM, "system"),
               (ATTR_VOLUME_ID, "volume_label"), (ATTR_DIRECTORY, "directory"),
               (ATTR_ARCHIVE, "archive"))

# Characters that may not appear in an 8.3 name (besides controls below 0x20).
_SFN_ILLEGAL = set(b'"*+,./:;<=>?[\\]|')


class FatError(Exception):
    """The volume says it is FAT/exFAT but its structures are impossible or unreadable."""


def attribute_names(value: int) -> list[str]:
    return [name for bit, name in _ATTR_NAMES if value & bit]


def lfn_checksum(short: bytes) -> int:
    """The 8-bit checksum of an 11-byte 8.3 name that every long-name entry repeats."""
    total = 0
    for byte in short:
        total = (((total & 1) << 7) + (total >> 1) + byte) & 0xFF
    return total


def lost_first_byte(short_tail: bytes, checksum: int) -> int:
    """The one first byte that gives `checksum` with the other 10 bytes of an 8.3 name.

    Every step of the checksum is a bijection of the running sum, so exactly one value fits:
    it cannot prove that a deleted long name belongs to the entry, only rule out impossible
    first characters.
    """
    for candidate in range(256):
        if lfn_checksum(bytes([candidate]) + short_tail) == checksum:
            return candidate
    raise AssertionError("unreachable: the checksum is a bijection of the first byte")


def exfat_set_checksum(entries: bytes) -> int:
    """The 16-bit SetChecksum of an exFAT entry set (bytes 2 and 3 of the first entry skipped)."""
    total = 0
    for index, byte in enumerate(entries):
        if index in (2, 3):
            continue
        total = (((total & 1) << 15) + (total >> 1) + byte) & 0xFFFF
    return total


def decode_fat_datetime(date: int, time: int = 0, centis: int = 0
                        ) -> tuple[_dt.datetime | None, bool]:
    """(naive local datetime, valid) from FAT date/time words; date 0 is "not set" (None, True)."""
    if date == 0:
        return None, True
    day, month, year = date & 0x1F, (date >> 5) & 0x0F, 1980 + (date >> 9)
    seconds, minutes, hours = (time & 0x1F) * 2, (time >> 5) & 0x3F, time >> 11
    if centis > 199 or hours > 23 or minutes > 59 or seconds > 59:
        return None, False
    try:
        base = _dt.datetime(year, month, day, hours, minutes, seconds)
    except ValueError:
        return None, False
    return base + _dt.timedelta(milliseconds=10 * centis), True


def exfat_utc_offset(value: int) -> int | None:
    """Minutes east of UTC from an exFAT UtcOffset byte; None when the offset is not valid."""
    if not value & 0x80:
        return None
    steps = value & 0x7F
    if steps >= 64:
        steps -= 128
    return steps * 15


@dataclass
class FatEntry:
    """One directory entry (a FAT 8.3 entry with its long name, or an exFAT entry set)."""

    path: str
    name: str
    short_name: str | None  # FAT only; a lost first character shows as '?'
    long_name: str | None
    deleted: bool
    first_char_lost: bool  # FAT deleted entries: the 8.3 name's first byte was overwritten
    in_deleted_dir: bool
    is_dir: bool
    size: int
    first_cluster: int
    attributes: int
    entry_offset: int  # byte offset in the volume of the 8.3 entry / exFAT File entry
    created: _dt.datetime | None = None  # naive: local wall-clock time as recorded
    modified: _dt.datetime | None = None
    accessed: _dt.datetime | None = None
    created_offset: int | None = None  # exFAT: minutes east of UTC when recorded
    modified_offset: int | None = None
    accessed_offset: int | None = None
    invalid_times: list[str] = field(default_factory=list)
    short_name_hex: str | None = None  # 8.3 bytes when not plain ASCII
    no_fat_chain: bool | None = None  # exFAT stream extension flag
    valid_data_length: int | None = None
    checksum_valid: bool | None = None  # exFAT set checksum
    depth: int = 0


class _Paged:
    """Cached reads over a list of (volume offset, length) extents seen as one byte string."""

    PAGE = 1 << 16
    MAX_PAGES = 256

    def __init__(self, volume: "FatVolume", extents: list[tuple[int, int]]):
        self.volume = volume
        self.extents = extents
        self.length = sum(n for _, n in extents)
        self.pages: dict[int, bytes] = {}

    def _page(self, number: int) -> bytes:
        page = self.pages.get(number)
        if page is None:
            if len(self.pages) >= self.MAX_PAGES:
                self.pages.clear()
            page = self._read(number * self.PAGE, min(self.PAGE, self.length - number * self.PAGE))
            self.pages[number] = page
        return page

    def _read(self, start: int, size: int) -> bytes:
        out = bytearray()
        position = 0
        for offset, length in self.extents:
            if size <= 0:
                break
            if start < position + length:
                skip = max(0, start - position)
                take = min(length - skip, size)
                out += self.volume.read_at(offset + skip, take, exact=True)
                start += take
                size -= take
            position += length
        return bytes(out)

    def get(self, start: int, size: int) -> bytes:
        if start < 0 or start + size > self.length:
            raise FatError(f"read past the end of a {self.length}-byte region")
        out = bytearray()
        while size > 0:
            number, inner = divmod(start, self.PAGE)
            piece = self._page(number)[inner:inner + size]
            if not piece:
                raise FatError("short read inside the FAT or bitmap")
            out += piece
            start += len(piece)
            size -= len(piece)
        return bytes(out)


class FatVolume:
    """An opened FAT12/16/32 or exFAT volume over a seekable, read-only file object."""

    def __init__(self, handle: BinaryIO, size: int | None = None):
        self.handle = handle
        self.size = size
        boot = self.read_at(0, 512)
        if len(boot) < 512:
            raise FatError(f"volume of {len(boot)} bytes is shorter than a boot sector")
        self.boot = boot
        self.label: str | None = None
        self.serial: str | None = None
        self._bitmap: _Paged | None = None
        self.bitmap_problem: str | None = None
        if boot[3:11] == b"EXFAT   ":
            self._init_exfat(boot)
        else:
            self._init_fat(boot)
        self._fat = _Paged(self, [(self.fat_offset, self.fat_bytes)])
        if self.size is not None and self.size < self.data_offset:
            raise FatError(f"volume of {self.size} bytes ends before its data area "
                           f"(at byte {self.data_offset}): truncated")

    # -- geometry -----------------------------------------------------------------------------
    def _init_exfat(self, boot: bytes) -> None:
        (volume_length, fat_offset, fat_length, heap_offset, cluster_count, root_cluster,
         serial) = struct.unpack_from("<QIIIIII", boot, 72)
        bps_shift, spc_shift, fats = boot[108], boot[109], boot[110]
        if not 9 <= bps_shift <= 12 or spc_shift > 25 - bps_shift or fats not in (1, 2):
            raise FatError(f"exFAT boot sector has impossible geometry (sector shift {bps_shift}, "
                           f"cluster shift {spc_shift}, {fats} FATs)")
        self.kind = "exFAT"
        self.sector_size = 1 << bps_shift
        self.cluster_size = self.sector_size << spc_shift
        self.cluster_count = cluster_count
        if not 2 <= root_cluster < cluster_count + 2 or fat_length == 0 or heap_offset == 0:
            raise FatError(f"exFAT boot sector: root cluster {root_cluster} outside the "
                           f"{cluster_count} clusters, or no FAT / cluster heap")
        active = 1 if fats == 2 and struct.unpack_from("<H", boot, 106)[0] & 1 else 0
        self.fat_offset = (fat_offset + active * fat_length) * self.sector_size
        self.fat_bytes = min(fat_length * self.sector_size, (cluster_count + 2) * 4)
        self.data_offset = heap_offset * self.sector_size
        self.root_cluster = root_cluster
        self.root_region: tuple[int, int] | None = None
        self.volume_bytes = volume_length * self.sector_size
        self.serial = f"{serial:08X}"
        self.entry_bits = 32

    def _init_fat(self, boot: bytes) -> None:
        bps, spc, reserved, fats, root_entries, total16, media, fat16 = struct.unpack_from(
            "<HBHBHHBH", boot, 11)
        total32, fat32 = struct.unpack_from("<II", boot, 32)
        if bps not in (512, 1024, 2048, 4096) or spc == 0 or spc & (spc - 1) or reserved == 0 \
                or fats == 0 or not (media >= 0xF8 or media == 0xF0):
            raise FatError("not a FAT boot sector")
        fat_sectors = fat16 or fat32
        total = total16 or total32
        root_sectors = (root_entries * 32 + bps - 1) // bps
        data_start = reserved + fats * fat_sectors + root_sectors
        if fat_sectors == 0 or total <= data_start:
            raise FatError(f"FAT boot sector: {total} sectors cannot hold {reserved} reserved, "
                           f"{fats} x {fat_sectors} FAT and {root_sectors} root-directory sectors")
        clusters = (total - data_start) // spc
        self.kind = "FAT12" if clusters < 4085 else "FAT16" if clusters < 65525 else "FAT32"
        self.sector_size = bps
        self.cluster_size = bps * spc
        self.cluster_count = clusters
        self.entry_bits = {"FAT12": 12, "FAT16": 16, "FAT32": 32}[self.kind]
        active = 0
        if self.kind == "FAT32":
            flags = struct.unpack_from("<H", boot, 40)[0]
            if flags & 0x80 and (flags & 0x0F) < fats:
                active = flags & 0x0F
        self.fat_offset = (reserved + active * fat_sectors) * bps
        needed = {12: (clusters + 2) * 3 // 2 + 1, 16: (clusters + 2) * 2,
                  32: (clusters + 2) * 4}[self.entry_bits]
        self.fat_bytes = min(fat_sectors * bps, needed)
        self.data_offset = data_start * bps
        self.volume_bytes = total * bps
        if self.kind == "FAT32":
            self.root_cluster = struct.unpack_from("<I", boot, 44)[0]
            self.root_region = None
            serial_at, label_at = 67, 71
            if not 2 <= self.root_cluster < clusters + 2:
                raise FatError(f"FAT32 root cluster {self.root_cluster} is outside the volume")
        else:
            self.root_cluster = 0
            self.root_region = ((reserved + fats * fat_sectors) * bps, root_sectors * bps)
            serial_at, label_at = 39, 43
        if boot[serial_at - 1] in (0x28, 0x29):  # extended boot signature: serial (and label)
            self.serial = f"{struct.unpack_from('<I', boot, serial_at)[0]:08X}"
            if boot[serial_at - 1] == 0x29:
                label = boot[label_at:label_at + 11].decode("cp437").strip()
                if label and label != "NO NAME":
                    self.label = label

    @property
    def max_cluster(self) -> int:
        return self.cluster_count + 1

    # -- raw access ---------------------------------------------------------------------------
    def read_at(self, offset: int, size: int, exact: bool = False) -> bytes:
        self.handle.seek(offset)
        data = self.handle.read(size)
        if exact and len(data) < size:
            raise FatError(f"only {len(data)} of {size} bytes readable at volume offset "
                           f"{offset}: truncated image?")
        return data

    def cluster_offset(self, cluster: int) -> int:
        return self.data_offset + (cluster - 2) * self.cluster_size

    def valid_cluster(self, cluster: int) -> bool:
        return 2 <= cluster <= self.max_cluster

    def fat_entry(self, cluster: int) -> int:
        if self.entry_bits == 12:
            raw = struct.unpack("<H", self._fat.get(cluster + cluster // 2, 2))[0]
            return raw >> 4 if cluster & 1 else raw & 0x0FFF
        if self.entry_bits == 16:
            return struct.unpack("<H", self._fat.get(cluster * 2, 2))[0]
        value = struct.unpack("<I", self._fat.get(cluster * 4, 4))[0]
        return value if self.kind == "exFAT" else value & 0x0FFFFFFF

    def _end_of_chain(self, value: int) -> bool:
        return value >= {12: 0xFF8, 16: 0xFFF8}.get(self.entry_bits,
                                                    0xFFFFFFF8 if self.kind == "exFAT"
                                                    else 0x0FFFFFF8)

    def _bad(self, value: int) -> bool:
        return value == {12: 0xFF7, 16: 0xFFF7}.get(self.entry_bits,
                                                    0xFFFFFFF7 if self.kind == "exFAT"
                                                    else 0x0FFFFFF7)

    def chain(self, first: int, limit: int) -> tuple[list[int], str | None]:
        """Clusters of a FAT chain from `first`, at most `limit`; (clusters, problem or None)."""
        if not self.valid_cluster(first):
            return [], f"first cluster {first} is outside the volume (2..{self.max_cluster})"
        clusters = [first]
        seen = {first}
        current = first
        while len(clusters) < limit:
            try:
                value = self.fat_entry(current)
            except FatError as exc:
                return clusters, str(exc)
            if self._end_of_chain(value):
                return clusters, None
            if value == 0:
                return clusters, (f"chain from cluster {first} reaches a free cluster after "
                                  f"{current}")
            if self._bad(value):
                return clusters, f"chain from cluster {first} reaches a bad-cluster mark"
            if not self.valid_cluster(value):
                return clusters, f"chain from cluster {first} points outside the volume ({value})"
            if value in seen:
                return clusters, f"cluster chain loop: cluster {current} points back to {value}"
            seen.add(value)
            clusters.append(value)
            current = value
        return clusters, None

    # -- allocation ---------------------------------------------------------------------------
    def load_bitmap(self, first: int, length: int) -> None:
        """exFAT: the allocation bitmap described by the root directory's 0x81 entry."""
        need = (self.cluster_count + 7) // 8
        if length < need:
            self.bitmap_problem = f"allocation bitmap of {length} bytes is shorter than {need}"
        count = (max(length, 1) + self.cluster_size - 1) // self.cluster_size
        clusters, problem = self.chain(first, count)
        if len(clusters) < count:
            # The bitmap's FAT chain is damaged: the bitmap is contiguous in practice.
            if self.valid_cluster(first) and first + count - 1 <= self.max_cluster:
                clusters = list(range(first, first + count))
            else:
                self.bitmap_problem = problem or "allocation bitmap outside the volume"
                return
        extents = self._extents(clusters, length)
        self._bitmap = _Paged(self, extents)

    def _extents(self, clusters: list[int], length: int) -> list[tuple[int, int]]:
        extents: list[tuple[int, int]] = []
        for start, count in runs_of(clusters):
            size = min(count * self.cluster_size, length)
            if size <= 0:
                break
            extents.append((self.cluster_offset(start), size))
            length -= size
        return extents

    def is_allocated(self, cluster: int) -> bool:
        """Whether a cluster is in use now: the FAT (FAT12/16/32) or the allocation bitmap
        (exFAT; without a readable bitmap, the FAT)."""
        if self.kind == "exFAT" and self._bitmap is not None:
            index = cluster - 2
            if index // 8 < self._bitmap.length:
                return bool(self._bitmap.get(index // 8, 1)[0] & (1 << (index % 8)))
        return self.fat_entry(cluster) != 0

    # -- reading data -------------------------------------------------------------------------
    def iter_data(self, clusters: list[int], size: int, chunk: int = 1 << 20) -> Iterator[bytes]:
        """The first `size` bytes stored in `clusters`, in pieces of at most `chunk` bytes."""
        for start, count in runs_of(clusters):
            offset = self.cluster_offset(start)
            remaining = min(count * self.cluster_size, size)
            while remaining > 0:
                take = min(chunk, remaining)
                data = self.read_at(offset, take, exact=True)
                yield data
                offset += take
                remaining -= take
                size -= take
            if size <= 0:
                return

    def read_clusters(self, clusters: list[int], size: int | None = None) -> bytes:
        total = len(clusters) * self.cluster_size if size is None else size
        return b"".join(self.iter_data(clusters, total))

    # -- walking ------------------------------------------------------------------------------
    def walk(self, warn: Callable[[str], None], max_depth: int = MAX_DEPTH,
             max_entries: int = MAX_ENTRIES) -> Iterator[FatEntry]:
        """Every directory entry, depth first in on-disk order, allocated and deleted."""
        walker = _Walker(self, warn, max_depth, max_entries)
        yield from walker.run()


def runs_of(clusters: list[int]) -> Iterator[tuple[int, int]]:
    """(first cluster, count) for each run of consecutive clusters."""
    start = previous = None
    count = 0
    for cluster in clusters:
        if start is not None and cluster == previous + 1:
            count += 1
        else:
            if start is not None:
                yield start, count
            start, count = cluster, 1
        previous = cluster
    if start is not None:
        yield start, count


def open_volume(handle: BinaryIO, size: int | None = None) -> FatVolume | None:
    """A FatVolume when the boot sector is FAT12/16/32 or exFAT; None for any other file system
    (NTFS, ext, an empty partition). FatError when it claims FAT/exFAT but is damaged."""
    handle.seek(0)
    boot = handle.read(512)
    if len(boot) < 36:
        return None
    if boot[3:11] == b"EXFAT   ":
        return FatVolume(handle, size)
    if boot[3:11] == b"NTFS    " or boot[0] not in (0xEB, 0xE9):
        return None
    try:
        return FatVolume(handle, size)
    except FatError as exc:
        if str(exc) == "not a FAT boot sector":
            return None
        raise


# -------------------------------------------------------------------------------------------


@dataclass
class _Dir:
    path: str
    data: bytes
    offsets: list[tuple[int, int]]  # (volume offset, bytes) of each piece of `data`
    depth: int
    deleted: bool  # the directory itself is deleted: everything in it is too


class _Walker:
    def __init__(self, volume: FatVolume, warn: Callable[[str], None], max_depth: int,
                 max_entries: int):
        self.v = volume
        self.warn = warn
        self.max_depth = max_depth
        self.max_entries = max_entries
        self.count = 0
        self.visited: set[int] = set()
        self.orphan_lfn = 0
        self.stopped = False

    def run(self) -> Iterator[FatEntry]:
        root = self._root()
        if root is None:
            return
        stack = [root]
        while stack and not self.stopped:
            directory = stack.pop()
            children: list[_Dir] = []
            parse = self._exfat_dir if self.v.kind == "exFAT" else self._fat_dir
            for entry in parse(directory):
                if self.count >= self.max_entries:
                    self.warn(f"more than {self.max_entries:,} directory entries: the walk "
                              "stopped there")
                    self.stopped = True
                    break
                self.count += 1
                yield entry
                if entry.is_dir:
                    sub = self._subdir(entry, directory)
                    if sub is not None:
                        children.append(sub)
            stack.extend(reversed(children))  # depth first, in on-disk order
        if self.orphan_lfn:
            self.warn(f"{self.orphan_lfn} long-name entr{'y' if self.orphan_lfn == 1 else 'ies'} "
                      "matched no 8.3 entry (orphaned by an editor without long-name support, "
                      "or damaged): ignored")

    def _root(self) -> _Dir | None:
        v = self.v
        if v.root_region is not None:
            offset, length = v.root_region
            data = v.read_at(offset, length)
            if len(data) < length:
                self.warn(f"root directory cut short: {len(data)} of {length} bytes readable")
            return _Dir("", data, [(offset, len(data))], 0, False)
        clusters, problem = v.chain(v.root_cluster, self._dir_limit())
        if problem:
            self.warn(f"root directory: {problem}")
        self.visited.add(v.root_cluster)
        return self._load("", clusters, 0, False, None)

    def _dir_limit(self) -> int:
        limit = FAT_DIR_MAX_BYTES if self.v.kind != "exFAT" else EXFAT_DIR_MAX_BYTES
        return max(1, limit // self.v.cluster_size)

    def _load(self, path: str, clusters: list[int], depth: int, deleted: bool,
              size: int | None) -> _Dir | None:
        total = len(clusters) * self.v.cluster_size
        if size is not None:
            total = min(total, size)
        pieces: list[tuple[int, int]] = []
        data = bytearray()
        try:
            for start, count in runs_of(clusters):
                want = min(count * self.v.cluster_size, total - len(data))
                if want <= 0:
                    break
                offset = self.v.cluster_offset(start)
                chunk = self.v.read_at(offset, want)
                data += chunk
                pieces.append((offset, len(chunk)))
                if len(chunk) < want:
                    end = offset + len(chunk)
                    self.warn(f"{path or '/'}: directory data cut short at byte {end}"
                              " (truncated image?)")
                    break
        except OSError as exc:
            self.warn(f"{path or '/'}: directory unreadable: {exc}")
        return _Dir(path, bytes(data), pieces, depth, deleted)

    def _subdir(self, entry: FatEntry, parent: _Dir) -> _Dir | None:
        v = self.v
        depth = parent.depth + 1
        if depth > self.max_depth:
            self.warn(f"{entry.path}: deeper than {self.max_depth} folders: not walked")
            return None
        first = entry.first_cluster
        if first == 0 and entry.size == 0 and v.kind == "exFAT":
            return None  # an empty exFAT directory has no cluster
        if not v.valid_cluster(first):
            if not entry.deleted:
                self.warn(f"{entry.path}: folder's first cluster {first} is outside the volume")
            return None
        if first in self.visited:
            if not entry.deleted:
                self.warn(f"{entry.path}: directory cycle (cluster {first} already walked): "
                          "not walked again")
            return None
        deleted = entry.deleted
        if not deleted:
            self.visited.add(first)
            if v.kind == "exFAT" and entry.no_fat_chain:
                count = max(1, (entry.size + v.cluster_size - 1) // v.cluster_size)
                count = min(count, self._dir_limit())
                if first + count - 1 > v.max_cluster:
                    self.warn(f"{entry.path}: folder runs past the end of the volume")
                    count = v.max_cluster - first + 1
                return self._load(entry.path, list(range(first, first + count)), depth, False,
                                  entry.size or None)
            clusters, problem = v.chain(first, self._dir_limit())
            if problem:
                self.warn(f"{entry.path}: {problem}")
            size = entry.size if v.kind == "exFAT" and entry.size else None
            return self._load(entry.path, clusters, depth, False, size)
        # A deleted folder: its chain is gone; read contiguous free clusters (assumed).
        clusters = []
        wanted = DELETED_DIR_MAX_CLUSTERS
        if v.kind == "exFAT" and entry.size:
            wanted = min(wanted, (entry.size + v.cluster_size - 1) // v.cluster_size)
        try:
            for cluster in range(first, min(first + wanted, v.max_cluster + 1)):
                if v.is_allocated(cluster):
                    break
                clusters.append(cluster)
        except FatError as exc:
            self.warn(f"{entry.path}: {exc}")
        if not clusters:
            return None
        loaded = self._load(entry.path, clusters, depth, True, None)
        if loaded is None or not self._looks_like_dir(loaded.data, first):
            return None
        self.visited.add(first)
        return loaded

    def _looks_like_dir(self, data: bytes, first: int) -> bool:
        """A deleted folder's first cluster still holds its entries (not reused for data)."""
        if len(data) < 64:
            return False
        if self.v.kind != "exFAT":
            dot, dotdot = data[:32], data[32:64]
            if dot[:11] != b".          " or not dot[11] & ATTR_DIRECTORY:
                return False
            cluster = struct.unpack_from("<H", dot, 26)[0]
            if self.v.kind == "FAT32":
                cluster |= struct.unpack_from("<H", dot, 20)[0] << 16
            return cluster == first and dotdot[:11] == b"..         "
        return data[0] in (0x85, 0x05)  # an entry set (live or deleted) comes first

    # -- FAT12/16/32 ---------------------------------------------------------------------------
    def _offset(self, directory: _Dir, position: int) -> int:
        for offset, length in directory.offsets:
            if position < length:
                return offset + position
            position -= length
        return -1

    def _fat_dir(self, directory: _Dir) -> Iterator[FatEntry]:
        data = directory.data
        pending: list[bytes] = []  # long-name entries since the last 8.3 entry, disk order
        for position in range(0, len(data) - 31, 32):
            raw = data[position:position + 32]
            first = raw[0]
            if first == 0x00:
                break
            attr = raw[11]
            if attr & 0x3F == ATTR_LONG_NAME:
                pending.append(raw)
                continue
            long_parts, pending = pending, []
            if attr & ATTR_VOLUME_ID and not attr & ATTR_DIRECTORY:
                if directory.depth == 0 and first != 0xE5:
                    label = raw[:11].decode("cp437", errors="replace").rstrip()
                    self.v.label = label or self.v.label
                continue
            if raw[:2] in (b". ", b".."):
                continue
            entry = self._fat_entry(directory, raw, position, long_parts)
            if entry is not None:
                yield entry

    def _fat_entry(self, directory: _Dir, raw: bytes, position: int,
                   long_parts: list[bytes]) -> FatEntry | None:
        deleted = raw[0] == 0xE5
        base, ext = bytearray(raw[:8]), bytes(raw[8:11])
        if base[0] == 0x05 and not deleted:
            base[0] = 0xE5
        short_name, short_hex = _short_name(bytes(base), ext, raw[12], deleted)
        long_name = self._long_name(long_parts, raw, deleted)
        attr = raw[11]
        cluster = struct.unpack_from("<H", raw, 26)[0]
        if self.v.kind == "FAT32":
            cluster |= struct.unpack_from("<H", raw, 20)[0] << 16
        size = struct.unpack_from("<I", raw, 28)[0]
        centis = raw[13]
        c_time, c_date, a_date, m_time, m_date = struct.unpack_from("<HHH", raw, 14) + \
            struct.unpack_from("<HH", raw, 22)
        name = long_name or short_name
        path = f"{directory.path}/{name}"
        entry = FatEntry(path=path, name=name, short_name=short_name, long_name=long_name,
                         deleted=deleted or directory.deleted, first_char_lost=deleted,
                         in_deleted_dir=directory.deleted, is_dir=bool(attr & ATTR_DIRECTORY),
                         size=size, first_cluster=cluster, attributes=attr,
                         entry_offset=self._offset(directory, position), short_name_hex=short_hex,
                         depth=directory.depth)
        for label, (date, time, cs) in (("created", (c_date, c_time, centis)),
                                        ("modified", (m_date, m_time, 0)),
                                        ("accessed", (a_date, 0, 0))):
            value, valid = decode_fat_datetime(date, time, cs)
            if not valid:
                entry.invalid_times.append(label)
            setattr(entry, label, value)
        return entry

    def _long_name(self, parts: list[bytes], short: bytes, deleted: bool) -> str | None:
        """The long name the entries before an 8.3 entry spell, or None.

        Allocated: the ordinals must count down to 1 (0x40 on the first) and every checksum
        must match the 8.3 name. Deleted: the ordinals are lost; the trailing run of deleted
        entries with one checksum is read back until the part that holds the name's end, and
        kept only when the 8.3 first byte that checksum implies is a legal 8.3 character.
        """
        if not parts:
            return None
        if not deleted:
            run: list[bytes] = []  # nearest the 8.3 entry first: ordinals 1, 2, ... n | 0x40
            for part in reversed(parts):
                if part[0] == 0xE5:
                    break
                run.append(part)
                if part[0] & 0x40:
                    break
            checksum = lfn_checksum(short[:11])
            ok = bool(run) and bool(run[-1][0] & 0x40) and all(
                (p[0] & 0x1F) == i + 1 and p[13] == checksum for i, p in enumerate(run))
            self.orphan_lfn += sum(1 for p in parts if p[0] != 0xE5) - (len(run) if ok else 0)
            return _join_lfn(run) if ok else None
        run = _trailing(parts, lambda p: p[0] == 0xE5)
        if not run:
            return None
        checksum = run[-1][13]
        run = _trailing(run, lambda p: p[13] == checksum)
        ordered: list[bytes] = []
        for part in reversed(run):  # the part nearest the 8.3 entry holds the name's start
            ordered.append(part)
            if _lfn_chars(part).find("\0") >= 0 or len(ordered) == 20:
                break
        first = lost_first_byte(short[1:11], checksum)
        if first <= 0x20 or first in _SFN_ILLEGAL or first == 0xE5:
            return None
        return _join_lfn(ordered) or None

    # -- exFAT --------------------------------------------------------------------------------
    def _exfat_dir(self, directory: _Dir) -> Iterator[FatEntry]:
        data = directory.data
        slots = len(data) // 32
        index = 0
        while index < slots:
            raw = data[index * 32:index * 32 + 32]
            kind = raw[0]
            if kind == 0x00:
                break
            if kind == 0x81 and directory.depth == 0 and self.v._bitmap is None:
                if not raw[1] & 1:  # the first bitmap (TexFAT keeps a second)
                    first, length = struct.unpack_from("<IQ", raw, 20)
                    try:
                        self.v.load_bitmap(first, length)
                    except FatError as exc:
                        self.v.bitmap_problem = str(exc)
            elif kind == 0x83 and directory.depth == 0:
                count = min(raw[1], 11)
                label = raw[2:2 + count * 2].decode("utf-16-le", errors="replace")
                self.v.label = label or self.v.label
            if kind in (0x85, 0x05):
                entry, used = self._exfat_set(directory, data, index, slots)
                if entry is not None:
                    yield entry
                index += used
                continue
            index += 1

    def _exfat_set(self, directory: _Dir, data: bytes, index: int, slots: int
                   ) -> tuple[FatEntry | None, int]:
        primary = data[index * 32:index * 32 + 32]
        in_use = primary[0] == 0x85
        secondary = primary[1]
        if not 2 <= secondary <= 18:
            return None, 1
        if index + secondary >= slots:
            if in_use:
                self.warn(f"{directory.path or '/'}: exFAT entry set at slot {index} runs past "
                          "the end of the directory")
            return None, 1
        body = data[index * 32:(index + secondary + 1) * 32]
        types = [body[i * 32] for i in range(1, secondary + 1)]
        want_bit = 0x80 if in_use else 0x00
        if any(t & 0x80 != want_bit for t in types) or (types[0] & 0x7F) != 0x40:
            if in_use:
                self.warn(f"{directory.path or '/'}: exFAT file entry at slot {index} lacks its "
                          "stream extension: skipped")
            return None, 1  # a deleted set whose slots were reused
        restored = bytearray(body)
        if not in_use:
            for i in range(secondary + 1):
                restored[i * 32] |= 0x80
        checksum_valid = exfat_set_checksum(bytes(restored)) == \
            struct.unpack_from("<H", primary, 2)[0]
        if not checksum_valid and (directory.deleted or not in_use):
            # Deleted sets are trusted only whole: a slot overwritten by another deleted set
            # (or cluster data in a deleted folder) breaks the checksum.
            return None, 1
        stream = body[32:64]
        flags, name_length = stream[1], stream[3]  # the name hash (4) is not checked
        valid_length = struct.unpack_from("<Q", stream, 8)[0]
        first_cluster = struct.unpack_from("<I", stream, 20)[0]
        size = struct.unpack_from("<Q", stream, 24)[0]
        chars = []
        for i in range(2, secondary + 1):
            part = body[i * 32:i * 32 + 32]
            if part[0] & 0x7F == 0x41:
                chars.append(part[2:32].decode("utf-16-le", errors="replace"))
        name = "".join(chars)[:name_length]
        attr = struct.unpack_from("<H", primary, 4)[0]
        if not name:
            name = "?"
        entry = FatEntry(path=f"{directory.path}/{name}", name=name, short_name=None,
                         long_name=name, deleted=not in_use or directory.deleted,
                         first_char_lost=False, in_deleted_dir=directory.deleted,
                         is_dir=bool(attr & ATTR_DIRECTORY), size=size,
                         first_cluster=first_cluster, attributes=attr & 0xFFFF,
                         entry_offset=self._offset(directory, index * 32),
                         no_fat_chain=bool(flags & 0x02), valid_data_length=valid_length,
                         checksum_valid=checksum_valid, depth=directory.depth)
        if not checksum_valid:
            self.warn(f"{entry.path}: exFAT entry set checksum does not match (damaged entry)")
        stamps = struct.unpack_from("<III", primary, 8)
        increments = (primary[20], primary[21], 0)
        offsets = (primary[22], primary[23], primary[24])
        for label, stamp, centis, offset in zip(("created", "modified", "accessed"), stamps,
                                                increments, offsets):
            value, valid = decode_fat_datetime(stamp >> 16, stamp & 0xFFFF, centis)
            if not valid:
                entry.invalid_times.append(label)
            setattr(entry, label, value)
            setattr(entry, f"{label}_offset", exfat_utc_offset(offset) if value else None)
        return entry, secondary + 1


def _trailing(items: list[bytes], keep: Callable[[bytes], bool]) -> list[bytes]:
    """The longest run at the end of `items` whose members all satisfy `keep`."""
    cut = len(items)
    while cut > 0 and keep(items[cut - 1]):
        cut -= 1
    return items[cut:]


def _lfn_chars(part: bytes) -> str:
    raw = part[1:11] + part[14:26] + part[28:32]
    return raw.decode("utf-16-le", errors="replace")


def _join_lfn(parts: Any) -> str:
    text = "".join(_lfn_chars(p) for p in parts)
    end = text.find("\0")
    if end >= 0:
        text = text[:end]
    return text.rstrip("\uffff")


def _short_name(base: bytes, ext: bytes, case_flags: int, deleted: bool
                ) -> tuple[str, str | None]:
    """Display form of an 8.3 name (NT lower-case flags applied; '?' for a lost first byte)
    and, when it is not plain ASCII, its bytes in hex."""
    raw = base + ext
    hexed = raw.hex() if any(b >= 0x80 for b in raw[1 if deleted else 0:]) else None

    def decode(part: bytes) -> str:
        try:
            return part.decode("ascii")
        except UnicodeDecodeError:
            pass
        try:
            return part.decode("cp932")  # Japanese OEM code page, when it fits
        except UnicodeDecodeError:
            return part.decode("cp437")

    stem_bytes = base.rstrip(b" ")
    if deleted:
        stem_bytes = stem_bytes[1:]
    stem = ("?" if deleted else "") + decode(stem_bytes)
    extension = decode(ext.rstrip(b" "))
    if case_flags & 0x08:
        stem = stem.lower()
    if case_flags & 0x10:
        extension = extension.lower()
    return (f"{stem}.{extension}" if extension else stem), hexed
