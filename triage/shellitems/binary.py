"""Primitive readers shared by the shell item decoders: integers, GUIDs, strings, FAT times and
serialized property stores. Each reader stays inside the bytes it is given and never raises on
short data except `u16`/`u32` (struct.error), which the item decoders catch per item.

Property stores ([MS-PROPSTORE] "serialized property storage", signature "1SPS"):

    storage  = uint32 size, "1SPS", 16 format GUID, value*, uint32 0
    value    = uint32 size, uint32 property id (or, for the string-named format
               D5CDD505-2E9C-101B-9397-08002B2CF9AE: uint32 name size, 1 reserved, UTF-16 name),
               1 reserved, then a typed value: uint16 type, 2 padding, data
    types    = 0x1F VT_LPWSTR (uint32 characters with the NUL, UTF-16LE), 0x13/0x03 VT_UI4/I4,
               0x0B VT_BOOL, 0x48 VT_CLSID, 0x40 VT_FILETIME (UTC, 100 ns)
"""
from __future__ import annotations

import datetime as _dt
import re
import struct
import uuid
from typing import Any

from triage.model import Timestamp, filetime, from_datetime

MAX_PROPERTIES = 256
NAMED_FORMAT = "D5CDD505-2E9C-101B-9397-08002B2CF9AE"  # properties named by a string


def u16(data: bytes, offset: int) -> int:
    return struct.unpack_from("<H", data, offset)[0]


def u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def guid_text(data: bytes, offset: int = 0) -> str | None:
    """A GUID stored in Windows (mixed-endian) layout, as upper-case text without braces; None
    when the 16 bytes are not all there."""
    if offset < 0 or offset + 16 > len(data):
        return None
    return str(uuid.UUID(bytes_le=bytes(data[offset:offset + 16]))).upper()


def read_utf16z(data: bytes, offset: int = 0, limit: int | None = None,
                errors: str = "replace") -> tuple[str, int]:
    """(text, offset after its NUL) of a 2-byte aligned UTF-16LE string; without a NUL the
    string runs to `limit` (default: the end) and a dangling odd byte is left out. File names
    are read with errors="surrogatepass": a lone surrogate is kept as the file system has it."""
    end = len(data) if limit is None else min(len(data), limit)
    pos = offset
    while pos + 1 < end:
        if data[pos] == 0 and data[pos + 1] == 0:
            return bytes(data[offset:pos]).decode("utf-16-le", errors), pos + 2
        pos += 2
    return bytes(data[offset:end - ((end - offset) % 2)]).decode("utf-16-le", errors), end


def read_asciiz(data: bytes, offset: int = 0, limit: int | None = None,
                codepage: str = "cp1252") -> tuple[str, int]:
    """(text, offset after its NUL) of a single-byte (code page) string."""
    end = len(data) if limit is None else min(len(data), limit)
    nul = data.find(b"\x00", offset, end)
    stop = end if nul < 0 else nul
    return bytes(data[offset:stop]).decode(codepage, "replace"), (end if nul < 0 else nul + 1)


def fat_datetime(date: int, time: int) -> Timestamp | None:
    """A FAT date + time (2-second resolution) as a UTC Timestamp with no fractional digits;
    None when unset or not a real date. Shell items store them in UTC (see the package doc)."""
    if not date:
        return None
    try:
        value = _dt.datetime(1980 + (date >> 9), (date >> 5) & 0x0F, date & 0x1F,
                             time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2,
                             tzinfo=_dt.timezone.utc)
    except ValueError:
        return None
    return from_datetime(value, digits=0)


def fat_at(data: bytes, offset: int) -> Timestamp | None:
    """The FAT date + time at `offset`, None when it is not all there."""
    if offset + 4 > len(data):
        return None
    return fat_datetime(u16(data, offset), u16(data, offset + 2))


_PRINTABLE_UTF16 = re.compile(rb"(?:[\x20-\x7e]\x00){3,}")


def utf16_strings(data: bytes) -> list[str]:
    """Printable 2-byte aligned UTF-16LE runs of 3 characters or more: a last resort to name an
    item whose layout is not known."""
    return [m.group().decode("utf-16-le") for m in _PRINTABLE_UTF16.finditer(bytes(data))
            if m.start() % 2 == 0]


# ---------------------------------------------------------------------------------------------
# Property stores


def parse_property_stores(data: bytes, start: int = 0) -> dict[tuple[str, Any], Any]:
    """The values of every serialized property storage found in `data` from `start`, keyed by
    (format GUID, property id or name), in the order found: strings, integers, booleans,
    CLSIDs (text) and FILETIMEs (Timestamp). A storage whose size runs past the data is passed
    over and the search goes on after its signature. Bounded by MAX_PROPERTIES values."""
    found: dict[tuple[str, Any], Any] = {}
    at = data.find(b"1SPS", start)
    while at >= 4 and len(found) < MAX_PROPERTIES:
        storage = at - 4
        size = u32(data, storage)
        end = storage + size
        if size < 24 or end > len(data):
            at = data.find(b"1SPS", at + 4)
            continue
        _read_storage(data, at, end, found)
        at = data.find(b"1SPS", end)
    return found


def _read_storage(data: bytes, at: int, end: int, found: dict[tuple[str, Any], Any]) -> None:
    fmtid = guid_text(data, at + 4) or ""
    named = fmtid == NAMED_FORMAT
    pos = at + 20
    while pos + 9 <= end and len(found) < MAX_PROPERTIES:
        size = u32(data, pos)
        if size == 0 or pos + size > end:
            return
        if named:
            name_size = u32(data, pos + 4)
            key: Any = bytes(data[pos + 9:pos + 9 + name_size]).decode("utf-16-le", "replace")
            key = key.rstrip("\x00")
            typed = pos + 9 + name_size
        else:
            key = u32(data, pos + 4)
            typed = pos + 9
        value = _typed_value(data, typed, pos + size)
        if value is not None:
            found[(fmtid, key)] = value
        pos += size


def _typed_value(data: bytes, offset: int, end: int) -> Any:
    if offset + 4 > end:
        return None
    vtype = u16(data, offset)
    body = offset + 4
    if vtype == 0x1F and body + 4 <= end:  # VT_LPWSTR: uint32 characters (NUL included)
        count = u32(data, body)
        return read_utf16z(data[body + 4:min(end, body + 4 + count * 2)])[0]
    if vtype in (0x13, 0x03) and body + 4 <= end:  # VT_UI4 / VT_I4
        return u32(data, body)
    if vtype == 0x0B and body + 2 <= end:  # VT_BOOL
        return u16(data, body) != 0
    if vtype == 0x48 and body + 16 <= end:  # VT_CLSID
        return guid_text(data, body)
    if vtype == 0x40 and body + 8 <= end:  # VT_FILETIME
        return filetime(struct.unpack_from("<Q", data, body)[0])
    return None
