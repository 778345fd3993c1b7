"""ShimCache / AppCompatCache (SYSTEM): executables the Application Compatibility engine saw.

Key: `ControlSet00N\\Control\\Session Manager\\AppCompatCache`, value `AppCompatCache`
(REG_BINARY); Windows XP keeps it in `...\\Session Manager\\AppCompatibility`. Every control set
present is read (`data.control_set`, `data.current_control_set` says which one Windows booted
with); the same entries usually appear in each.

What the time is: each entry's FILETIME is the file's LAST MODIFICATION time ($STANDARD_INFORMATION)
when Windows cached it, NOT a time of execution: `timestamp_desc` is "File Modified (ShimCache)".
An entry with no time (0) gets no timestamp. Windows XP entries also carry the time the entry was
last updated, a separate event "Entry Updated (ShimCache)". The cache is written to the
registry at shutdown, so entries added since the last shutdown are not there.

Order: entries are stored most recent first; `data.position` is that order (0 = most recently
inserted or updated). `data.executed` is the "executed" (CSRSS insert) flag, bit 0x2 of the
insert flags, on the formats that have it (Vista/2008, 7/2008 R2, 8.0, 8.1): True means the
process was created; Windows 10/11 and XP entries carry no such flag (None).

Formats (little-endian; reference: Mandiant's "Leveraging the Application Compatibility Cache in
Forensic Investigations" white paper and the libyal/dtformats AppCompatCache notes):

    XP 32-bit   magic 0xDEADBEEF; 4 count; 16 LRU index array; entries at 400, 552 bytes each:
                path UTF-16 (528 bytes, NUL-padded), last modified FILETIME, uint64 file size,
                last update FILETIME
    Vista/2008  magic 0xBADC0FFE; 4 count; entries at 8. 32-bit (24 bytes): uint16 length,
                uint16 max length, uint32 path offset, FILETIME, uint32 insert flags, uint32
                shim flags. 64-bit (32 bytes): the same with 4 bytes of padding and a 64-bit
                path offset.
    7/2008 R2   magic 0xBADC0FEE; 4 count; entries at 128. 32-bit (32 bytes): as Vista, then
                uint32 data size, uint32 data offset. 64-bit (48 bytes): uint16 length, uint16
                max length, 4 padding, uint64 path offset, FILETIME, uint32 insert flags,
                uint32 shim flags, uint64 data size, uint64 data offset.
    8.0 / 8.1   header size 0x80; entries from 0x80 with signature "00ts" (8.0) or "10ts" (8.1):
                4 signature, 4 unknown (hash), 4 entry data size, then uint16 path size, path,
                [8.1: uint16 package size, package name], uint32 insert flags, uint32 shim
                flags, FILETIME, uint32 data size, data
    10 / 11     header size 0x30 (10 before 1703) or 0x34; entries "10ts": 4 signature,
                4 unknown, 4 entry data size, uint16 path size, path, FILETIME, uint32 data size,
                data

Paths are reported as stored (`\\??\\C:\\...`, `SYSVOL\\...` on Server 2003, or a packaged app).
data: path, position, executed, insert_flags, shim_flags, data_size, file_size (XP), format,
control_set, current_control_set, key.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, Timestamp, filetime
from triage.registry import HiveView, RegistryPlugin, path_of, raw_value, register_plugin

MAX_ENTRIES = 65536  # Windows keeps at most 1024 (96 on XP); a larger count is damage
CSRSS_EXECUTED = 0x2

XP_MAGIC = 0xDEADBEEF
VISTA_MAGIC = 0xBADC0FFE
WIN7_MAGIC = 0xBADC0FEE
WIN8_HEADER = 0x80
WIN10_HEADERS = (0x30, 0x34)


@dataclass
class CacheEntry:
    position: int
    path: str
    modified: Timestamp | None
    executed: bool | None = None
    insert_flags: int | None = None
    shim_flags: int | None = None
    data_size: int | None = None
    file_size: int | None = None
    updated: Timestamp | None = None
    package: str | None = None


class CacheFormatError(ValueError):
    """The value is not an AppCompatCache this parser knows."""


def _u16(data: bytes, off: int) -> int:
    return struct.unpack_from("<H", data, off)[0]


def _u32(data: bytes, off: int) -> int:
    return struct.unpack_from("<I", data, off)[0]


def _u64(data: bytes, off: int) -> int:
    return struct.unpack_from("<Q", data, off)[0]


def _text(data: bytes, off: int, size: int) -> str:
    if off < 0 or size < 0 or off + size > len(data):
        raise CacheFormatError(f"path at {off} (+{size}) outside the value")
    return bytes(data[off:off + size]).decode("utf-16-le", "replace").split("\0", 1)[0]


def _executed(flags: int | None) -> bool | None:
    return None if flags is None else bool(flags & CSRSS_EXECUTED)


def detect_format(data: bytes) -> str:
    """'xp', 'vista', 'win7', 'win8.0', 'win8.1' or 'win10' (raises CacheFormatError)."""
    if len(data) < 8:
        raise CacheFormatError("value too short for an AppCompatCache header")
    magic = _u32(data, 0)
    if magic == XP_MAGIC:
        return "xp"
    if magic == VISTA_MAGIC:
        return "vista"
    if magic == WIN7_MAGIC:
        return "win7"
    if magic == WIN8_HEADER and len(data) >= WIN8_HEADER + 4:
        signature = bytes(data[WIN8_HEADER:WIN8_HEADER + 4])
        if signature == b"00ts":
            return "win8.0"
        if signature == b"10ts":
            return "win8.1"
    if magic in WIN10_HEADERS and len(data) >= magic + 4 and data[magic:magic + 4] == b"10ts":
        return "win10"
    if magic in WIN10_HEADERS and len(data) == magic:
        return "win10"  # an empty Windows 10 cache
    raise CacheFormatError(f"unknown AppCompatCache signature 0x{magic:08x}")


FORMAT_NAMES = {"xp": "Windows XP", "vista": "Windows Vista/Server 2008",
                "win7": "Windows 7/Server 2008 R2", "win8.0": "Windows 8.0/Server 2012",
                "win8.1": "Windows 8.1/Server 2012 R2", "win10": "Windows 10/11"}


def parse_cache(data: bytes, problems: list[str] | None = None) -> tuple[str, list[CacheEntry]]:
    """Decode an AppCompatCache value: (format, entries in stored order = recency order).

    A damaged entry ends the walk (its predecessors are kept) and is reported in `problems`.
    """
    data = bytes(data)
    problems = problems if problems is not None else []
    kind = detect_format(data)
    parser = {"xp": _parse_xp, "vista": _parse_vista, "win7": _parse_win7,
              "win8.0": _parse_win8, "win8.1": _parse_win8, "win10": _parse_win10}[kind]
    entries: list[CacheEntry] = []
    try:
        for entry in parser(data, kind):
            entries.append(entry)
            if len(entries) >= MAX_ENTRIES:
                problems.append(f"more than {MAX_ENTRIES} entries: the rest is ignored")
                break
    except (CacheFormatError, struct.error, IndexError) as exc:
        problems.append(f"entry {len(entries)}: {exc}")
    return kind, entries


def _count(data: bytes) -> int:
    count = _u32(data, 4)
    if count > MAX_ENTRIES:
        raise CacheFormatError(f"implausible entry count {count}")
    return count


def _parse_xp(data: bytes, kind: str) -> Iterator[CacheEntry]:
    count = min(_count(data), 96)
    lru = [_u32(data, 16 + 4 * i) for i in range(count)] if len(data) >= 16 + 4 * count else []
    rank = {index: pos for pos, index in enumerate(lru) if index < count}
    if len(rank) != count:
        rank = {}
    for index in range(count):
        off = 400 + index * 552
        if off + 552 > len(data):
            raise CacheFormatError(f"entry at {off} runs past the value")
        path = _text(data, off, 528)
        yield CacheEntry(rank.get(index, index), path, filetime(_u64(data, off + 528)),
                         file_size=_u64(data, off + 536), updated=filetime(_u64(data, off + 544)))


def _layout_fits(data: bytes, first: int, count: int, entry_size: int, wide: bool) -> bool:
    """Does the first entry read with this layout point at a path inside the value?"""
    if count == 0:
        return True
    if first + entry_size > len(data):
        return False
    length, maximum = _u16(data, first), _u16(data, first + 2)
    if wide:
        if _u32(data, first + 4) != 0:
            return False
        offset = _u64(data, first + 8)
    else:
        offset = _u32(data, first + 4)
    table_end = first + count * entry_size
    return (length % 2 == 0 and maximum >= length and table_end <= offset
            and offset + length <= len(data))


def _parse_vista(data: bytes, kind: str) -> Iterator[CacheEntry]:
    yield from _parse_table(data, first=8, narrow=24, wide=32, with_data=False)


def _parse_win7(data: bytes, kind: str) -> Iterator[CacheEntry]:
    yield from _parse_table(data, first=128, narrow=32, wide=48, with_data=True)


def _parse_table(data: bytes, first: int, narrow: int, wide: int,
                 with_data: bool) -> Iterator[CacheEntry]:
    count = _count(data)
    if _layout_fits(data, first, count, wide, True):
        is_wide, size = True, wide
    elif _layout_fits(data, first, count, narrow, False):
        is_wide, size = False, narrow
    else:
        raise CacheFormatError("neither the 32-bit nor the 64-bit entry layout fits")
    for index in range(count):
        off = first + index * size
        if off + size > len(data):
            raise CacheFormatError(f"entry at {off} runs past the value")
        length = _u16(data, off)
        if is_wide:
            path_at, rest = _u64(data, off + 8), off + 16
        else:
            path_at, rest = _u32(data, off + 4), off + 8
        path = _text(data, path_at, length)
        modified = filetime(_u64(data, rest))
        insert, shim = _u32(data, rest + 8), _u32(data, rest + 12)
        data_size = None
        if with_data:
            data_size = _u64(data, rest + 16) if is_wide else _u32(data, rest + 16)
        yield CacheEntry(index, path, modified, _executed(insert), insert, shim, data_size)


def _ts_entries(data: bytes, start: int, signature: bytes) -> Iterator[tuple[int, int, str, int, int]]:
    """The "00ts"/"10ts" entries of Windows 8 to 11 caches: (index, offset, path, cursor after
    the path, end of the entry); every length is checked against the value."""
    off, index = start, 0
    while off + 12 <= len(data):
        if data[off:off + 4] != signature:
            raise CacheFormatError(f"entry at {off} has no {signature.decode()} signature")
        size = _u32(data, off + 8)
        body = off + 12
        end = body + size
        if end > len(data) or size < 2:
            raise CacheFormatError(f"entry at {off} runs past the value")
        path_size = _u16(data, body)
        yield index, off, _text(data, body + 2, path_size), body + 2 + path_size, end
        off, index = end, index + 1


def _parse_win8(data: bytes, kind: str) -> Iterator[CacheEntry]:
    signature = b"00ts" if kind == "win8.0" else b"10ts"
    for index, off, path, cursor, end in _ts_entries(data, WIN8_HEADER, signature):
        package = None
        if kind == "win8.1":
            package_size = _u16(data, cursor)
            package = _text(data, cursor + 2, package_size) or None
            cursor += 2 + package_size
        if cursor + 20 > end:
            raise CacheFormatError(f"entry at {off} too short for its fields")
        insert, shim = _u32(data, cursor), _u32(data, cursor + 4)
        modified = filetime(_u64(data, cursor + 8))
        data_size = _u32(data, cursor + 16)
        yield CacheEntry(index, path, modified, _executed(insert), insert, shim, data_size,
                         package=package)


def _parse_win10(data: bytes, kind: str) -> Iterator[CacheEntry]:
    for index, off, path, cursor, end in _ts_entries(data, _u32(data, 0), b"10ts"):
        if cursor + 12 > end:
            raise CacheFormatError(f"entry at {off} too short for its fields")
        modified = filetime(_u64(data, cursor))
        data_size = _u32(data, cursor + 8)
        yield CacheEntry(index, path, modified, None, None, None, data_size)


def _control_sets(hive: HiveView) -> list[str]:
    names = []
    for key in hive.subkeys(hive.registry.root()):
        name = key.name()
        if name.lower().startswith("controlset") and name[10:].isdigit():
            names.append(name)
    return sorted(names)


@register_plugin
class ShimCache(RegistryPlugin):
    name = "shimcache"
    hives = ("SYSTEM",)
    description = "AppCompatCache: executables seen by the compatibility engine (file mtimes)"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        current = hive.current_control_set.lower()
        for control_set in _control_sets(hive):
            for sub, value_name in (("Control\\Session Manager\\AppCompatCache", "AppCompatCache"),
                                    ("Control\\Session Manager\\AppCompatibility",
                                     "AppCompatCache")):
                key = hive.key(f"{control_set}\\{sub}")
                if key is None:
                    continue
                raw = raw_value(key, value_name)
                if raw is None:
                    continue
                yield from self._entries(key, raw, control_set, control_set.lower() == current,
                                         ctx)

    @staticmethod
    def _entries(key, raw: bytes, control_set: str, is_current: bool,
                 ctx: ExtractionContext) -> Iterator[Event]:
        key_path = path_of(key)
        problems: list[str] = []
        try:
            kind, entries = parse_cache(raw, problems)
        except CacheFormatError as exc:
            ctx.warn(f"{key_path}: {exc}")
            return
        for problem in problems:
            ctx.warn(f"{key_path}: {problem}")
        label = FORMAT_NAMES[kind]
        for entry in entries:
            data = {"path": entry.path, "position": entry.position, "executed": entry.executed,
                    "insert_flags": entry.insert_flags, "shim_flags": entry.shim_flags,
                    "data_size": entry.data_size, "format": label, "control_set": control_set,
                    "current_control_set": is_current, "key": key_path}
            if entry.file_size is not None:
                data["file_size"] = entry.file_size
            if entry.package:
                data["package"] = entry.package
            flag = "" if entry.executed is None else f", executed flag {entry.executed}"
            yield Event(entry.modified, "File Modified (ShimCache)",
                        f"ShimCache entry {entry.position}: {entry.path} "
                        f"(file last modified{flag})", data)
            if entry.updated is not None:
                yield Event(entry.updated, "Entry Updated (ShimCache)",
                            f"ShimCache entry {entry.position} updated: {entry.path}", dict(data))
