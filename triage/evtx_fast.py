"""Fast EVTX record reader: a pure-Python chunk parser with a per-chunk template cache.

Why: libevtx (pyevtx) renders every record to XML, which the evtx extractor parses again with
ElementTree; that costs about 100 us a record. Here each chunk's templates are parsed once into
plans, so a record costs its header, one unpack of its value descriptors, the System values the
catalogue needs, and (only for the records that go on the timeline) its payload values.

Exactness is the contract: for every record this reader gives what the extractor would get
from libevtx (its accessors, and its XML as ElementTree reads it: escaping, line ends, invalid
characters, empty and dropped elements, arrays as repeated elements), or it raises Unsupported
and the extractor reads that whole chunk through libevtx. The choices copy what the libevtx
installed with triage (pyevtx 20260705: libfwevt, libfvalue) writes, checked value by value in
tests/test_evtx_fast.py:
    integers in decimal, the signed ones as libfvalue prints them ("-" and the bits below the
    sign bit: int8 -5 is "-123", -128 is "-128"); hex32/hex64 "0x%08x"/"0x%016x"; size_t as
    0x and 8 or 16 zeros (libfvalue prints no value); bool "true"/"false"; floats "%.6e" with a
    three-digit exponent (values near a rounding tie, non-finite and subnormal: libevtx);
    GUID upper case in braces; SID "S-rev-authority(decimal)-sub..."; FILETIME ISO 8601 with
    nine digits, past 9999 "(0xhigh 0xlow)"; SYSTEMTIME ISO 8601 with milliseconds (invalid
    ones: libevtx); binary upper-case hex; strings cut at the first NUL, ANSI as Windows-1252.
    Element text: "&", "<", ">" escaped, CR LF and CR become LF, characters XML forbids are
    dropped (the extractor's second parse). Attribute values: tab, CR and LF become spaces; a
    '"' (which libevtx does not escape) makes the XML unreadable: libevtx.
    An optional substitution whose value is NULL drops its attribute, or the element whose last
    substitution it is; a NULL normal substitution makes libevtx fail the record: libevtx.
    An array repeats its element once per item (strings split at NUL; an empty array gives one
    empty element). A name is read with the character after it (its NUL, else libevtx).

Which records libevtx returns from a chunk is copied too (its record loop: from offset 512
while the offset is at most the last record offset; a header that is zero, has no "**\\0\\0", a
size under 24, a size reaching the last 4 bytes of the chunk or a size copy that differs ends
the loop). A chunk is read here only when both CRC32s hold, its header is one libevtx accepts
and, where the loop reached the last record, the record count is the header's (else libevtx
flags the file); the records after a loop that stopped early, and any record libevtx would
recover from a chunk's slack, are libevtx's (`needs_libevtx`). Templates are parsed once per
file (see _Known) and checked once per signature of value types (Plan).

Format: libyal "Windows XML Event Log (EVTX) format" and [MS-EVEN6] BinXml: records
"**\\0\\0", size, identifier, written FILETIME, binary XML, size copy; binary XML: fragment
header 0F 01 01 00, template instance 0C 01 id offset (definition inline where the offset is
the next byte: next, GUID, size, fragment header, element, EOF), value count, descriptors
(uint16 size, uint8 type, uint8 0), values, EOF; elements 01/41 (attributes) with a dependency
identifier, size, name offset (name inline on first use: next, hash, characters, UTF-16, NUL),
attribute list, 02 content 04 or 03; text 05 01; substitutions 0D (normal) / 0E (optional).
"""
from __future__ import annotations

import codecs
import math
import re
import struct
import sys
import uuid
import zlib
from datetime import date, timedelta
from decimal import Decimal
from itertools import accumulate
from typing import Any, BinaryIO, Callable, Iterator
from xml.etree import ElementTree as ET

from triage.model import Timestamp

CHUNK = 0x10000
FILE_HEADER = 4096
_FT_MAX = 2650467743999999999  # 9999-12-31T23:59:59.9999999Z, the last FILETIME libevtx prints
MAX_FIELDS = 2000
_MAX_ELEMENTS = 50000  # rendered elements of one record; more: libevtx (its XML size limits)
_MAX_DEPTH = 32  # nested elements and template instances; deeper: libevtx

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*(:[A-Za-z_][A-Za-z0-9_.\-]*)?\Z")
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_SPECIAL = re.compile("[\x00-\x08\x0b-\x1f\ufffe\uffff]")  # incl. NUL and CR
_DECODE16 = codecs.utf_16_le_decode  # the codec itself: bytes.decode goes through Python code
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ATTR_SPACE = str.maketrans("\t\n\r", "   ")
_DAY = 864000000000  # FILETIME ticks in a day
_EPOCH = date(1601, 1, 1)
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_U32_PAIR = struct.Struct("<II")
_RECORD = struct.Struct("<4sIQQ")
_INSTANCE = struct.Struct("<BBII")


class Unsupported(Exception):
    """Internal: this chunk holds something the fast reader does not read exactly as libevtx
    would; the extractor reads the whole chunk through libevtx instead."""


# what reading past a damaged structure can raise here: it means "leave it to libevtx" too
_READ_ERRORS = (IndexError, KeyError, struct.error, ValueError, UnicodeError, OverflowError,
                RecursionError)


# --- values, rendered as libevtx writes them in its XML ----------------------------------------


def _text(value: str) -> str:
    """An element's whole text (its values one after the other, as libevtx prints them) as
    ElementTree gives it back; libevtx prints a text of exactly one LF as an empty element."""
    if _SPECIAL.search(value) is None:
        return "" if value == "\n" else value
    return _INVALID.sub("", value).replace("\r\n", "\n").replace("\r", "\n")


def _attr(value: str) -> str:
    """An attribute value as ElementTree gives it back from libevtx's XML."""
    if '"' in value or value in ("", "\n"):
        # libevtx writes '"' unescaped and an empty value without its closing quote, and fails
        # to print a value of one LF: the XML is unreadable either way
        raise Unsupported("an attribute value libevtx does not write as readable XML")
    return _INVALID.sub("", value).replace("\r\n", "\n").translate(_ATTR_SPACE)


def _utf16(data: bytes, off: int, size: int) -> str:
    try:
        text = _DECODE16(data[off:off + size], None, True)[0]
    except UnicodeDecodeError:
        raise Unsupported("a UTF-16 string libevtx cannot convert") from None
    cut = text.find("\0")
    return text if cut < 0 else text[:cut]


_TEXTS: dict[bytes, str] = {}


def _utf16_text(data: bytes, off: int, size: int) -> str:
    """_text(_utf16(...)), remembered for short values (the same names recur)."""
    if size > 64:
        return _utf16_text_read(data, off, size)
    raw = data[off:off + size]
    text = _TEXTS.get(raw)
    if text is None:
        if len(_TEXTS) > _CACHE_LIMIT:
            _TEXTS.clear()
        text = _TEXTS[raw] = _utf16_text_read(raw, 0, size)
    return text


def _utf16_text_read(data: bytes, off: int, size: int) -> str:
    """_text(_utf16(...)) with one regex search in the usual case (no NUL, CR or control)."""
    try:
        text = _DECODE16(data[off:off + size], None, True)[0]
    except UnicodeDecodeError:
        raise Unsupported("a UTF-16 string libevtx cannot convert") from None
    if text.isprintable():  # no NUL, CR, LF or other control character: nothing to clean
        return text
    return _clean_text(text)


def _ansi(data: bytes, off: int, size: int) -> str:
    try:
        text = data[off:off + size].decode("cp1252")
    except UnicodeDecodeError:
        raise Unsupported("a byte undefined in Windows-1252") from None
    cut = text.find("\0")
    return text if cut < 0 else text[:cut]


def _unsigned(data: bytes, off: int, size: int) -> str:
    return str(int.from_bytes(data[off:off + size], "little"))


def _signed(data: bytes, off: int, size: int) -> str:
    """libfvalue's signed integers: "-" and the bits below the sign bit (int8 -5 is "-123",
    -1 is "-127"), the lowest value as itself (-128)."""
    value = int.from_bytes(data[off:off + size], "little")
    sign = 1 << (8 * size - 1)
    if not value & sign:
        return str(value)
    return "-" + str(value & (sign - 1) or sign)


def _hex(data: bytes, off: int, size: int) -> str:
    return "0x" + data[off:off + size][::-1].hex()  # little-endian: the digits reversed


def _size_t(data: bytes, off: int, size: int) -> str:
    return "0x" + "0" * (2 * size)


def _bool(data: bytes, off: int, size: int) -> str:
    return "true" if int.from_bytes(data[off:off + size], "little") else "false"


def _binary(data: bytes, off: int, size: int) -> str:
    return data[off:off + size].hex().upper()


_CACHE_LIMIT = 4096
_MISS = object()
_GUIDS: dict[bytes, str] = {}
_SIDS: dict[bytes, str] = {}
_NAMES: dict[bytes, "str | None"] = {}


def _guid(data: bytes, off: int, size: int) -> str:
    raw = data[off:off + 16]
    text = _GUIDS.get(raw)
    if text is None:
        if len(_GUIDS) > _CACHE_LIMIT:
            _GUIDS.clear()
        text = _GUIDS[raw] = "{" + str(uuid.UUID(bytes_le=raw)).upper() + "}"
    return text


def _sid(data: bytes, off: int, size: int) -> str:
    """A SID as libevtx prints it (the same few SIDs recur: their text is kept)."""
    raw = data[off:off + size]
    text = _SIDS.get(raw)
    if text is None:
        if len(_SIDS) > _CACHE_LIMIT:
            _SIDS.clear()
        text = _SIDS[raw] = _sid_text(data, off, size)
    return text


def _sid_text(data: bytes, off: int, size: int) -> str:
    if size < 8:
        raise Unsupported("a SID too short for libevtx")
    revision, count = data[off], data[off + 1]
    if count > 15 or size < 8 + 4 * count:
        raise Unsupported("a SID libevtx cannot print")
    authority = int.from_bytes(data[off + 2:off + 8], "big")
    subs = struct.unpack_from(f"<{count}I", data, off + 8)
    return f"S-{revision}-{authority}" + "".join(f"-{sub}" for sub in subs)


def filetime_text(value: int) -> str:
    """A FILETIME as libevtx prints it: ISO 8601 with nine digits, or its two halves in hex."""
    if value > _FT_MAX:
        return f"({value >> 32:#010x} {value & 0xFFFFFFFF:#010x})"
    days, ticks = divmod(value, _DAY)
    day = _EPOCH + timedelta(days=days)
    seconds, fraction = divmod(ticks, 10_000_000)
    hours, rest = divmod(seconds, 3600)
    return (f"{day.year:04d}-{day.month:02d}-{day.day:02d}T{hours:02d}:{rest // 60:02d}:"
            f"{rest % 60:02d}.{fraction:07d}00Z")


def _filetime(data: bytes, off: int, size: int) -> str:
    return filetime_text(int.from_bytes(data[off:off + 8], "little"))


def _systemtime(data: bytes, off: int, size: int) -> str:
    year, month, weekday, day, hour, minute, second, milli = struct.unpack_from("<8H", data, off)
    leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
    if not (year <= 9999 and 1 <= month <= 12 and weekday <= 6 and 1 <= day <= days[month - 1]
            and hour < 24 and minute < 60 and second < 60 and milli < 1000):
        raise Unsupported("a SYSTEMTIME libevtx prints as raw fields")
    return (f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}."
            f"{milli:03d}000000Z")


def _float_text(value: float) -> str:
    """libfvalue's "%e" (six digits, three-digit exponent) where it is sure to agree with a
    correctly rounded one: its own digit arithmetic drifts at rounding ties (within 0.001 of a
    half in the seventh digit), next to a power of ten (1e-300 prints as ":.000000e-301"), for
    subnormals and for inf/NaN ("Inf", "NaN", "Ind")."""
    if value == 0:
        return "-0.000000e+000" if str(value).startswith("-") else "0.000000e+000"
    if not math.isfinite(value) or abs(value) < sys.float_info.min:
        raise Unsupported("a float libevtx prints its own way (inf, NaN, subnormal)")
    exact = abs(Decimal(value))
    exponent = exact.adjusted()
    scaled = exact.scaleb(6 - exponent)  # 1,000,000 <= scaled < 10,000,000
    fraction = scaled - int(scaled)
    if abs(fraction - Decimal("0.5")) < Decimal("0.001") or scaled >= Decimal("9999999.499") \
            or scaled < Decimal("1000000.5"):
        # a tie, a carry to 10.000000, or 1.000000 (where libfvalue may take the power of ten
        # below and print ":.000000")
        raise Unsupported("a float near a rounding tie or a power of ten")
    mantissa, _, power = f"{value:.6e}".partition("e")
    return f"{mantissa}e{power[0]}{power[1:].zfill(3)}"


def _real32(data: bytes, off: int, size: int) -> str:
    return _float_text(struct.unpack_from("<f", data, off)[0])


def _real64(data: bytes, off: int, size: int) -> str:
    return _float_text(struct.unpack_from("<d", data, off)[0])


NULL, STRING, ANSI, BINARY, SIZE_T, SID, BINXML, ARRAY = (
    0x00, 0x01, 0x02, 0x0E, 0x10, 0x13, 0x21, 0x80)
# type: (fixed size or 0, formatter); libfwevt reads no other type (it fails the record)
_TYPES: dict[int, tuple[int, Callable[[bytes, int, int], str]]] = {
    STRING: (0, _utf16), ANSI: (0, _ansi),
    0x03: (1, _signed), 0x04: (1, _unsigned), 0x05: (2, _signed), 0x06: (2, _unsigned),
    0x07: (4, _signed), 0x08: (4, _unsigned), 0x09: (8, _signed), 0x0A: (8, _unsigned),
    0x0B: (4, _real32), 0x0C: (8, _real64), 0x0D: (4, _bool), BINARY: (0, _binary),
    0x0F: (16, _guid), SIZE_T: (0, _size_t), 0x11: (8, _filetime), 0x12: (16, _systemtime),
    SID: (0, _sid), 0x14: (4, _hex), 0x15: (8, _hex),
}
_ARRAYS = {0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8A, 0x8B, 0x8C, 0x8F, 0x91,
           0x92, 0x94, 0x95}
_TEXT_TYPES = {STRING, ANSI}  # the only types whose rendering may need XML clean-up


def render(vtype: int, data: bytes, off: int, size: int) -> str:
    """One (non-array) value as libevtx writes it in its XML, before any XML parsing."""
    return _TYPES[vtype][1](data, off, size)


def render_array(vtype: int, data: bytes, off: int, size: int) -> list[str]:
    """An array value's items, one element each in libevtx's XML (at least one)."""
    base = vtype & 0x7F
    if base in _TEXT_TYPES:
        try:
            text = data[off:off + size].decode("utf-16-le" if base == STRING else "cp1252")
        except UnicodeDecodeError:
            raise Unsupported("a string libevtx cannot convert") from None
        items = text.split("\0")
        if len(items) > 1 and items[-1] == "":
            items.pop()
        return items
    width, fmt = _TYPES[base]
    if not size:
        return [""]
    return [fmt(data, at, width) for at in range(off, off + size, width)]


# --- templates ----------------------------------------------------------------------------------


class Sub:
    """A substitution in a template: the value index and whether a NULL value drops it."""

    __slots__ = ("index", "optional")

    def __init__(self, index: int, optional: bool) -> None:
        self.index, self.optional = index, optional


class Elem:
    """A template element: name, attributes (name, static text or Sub) and content (static
    text, Sub or Elem; None for an empty element)."""

    __slots__ = ("name", "attrs", "content")

    def __init__(self, name: str, attrs: list[tuple[str, Any]], content: list[Any] | None) -> None:
        self.name, self.attrs, self.content = name, attrs, content


class Template:
    """A parsed template definition and its plans (one per value-type signature)."""

    __slots__ = ("root", "size", "subs", "attr_subs", "plans", "nested_plans")

    def __init__(self, root: Elem, size: int) -> None:
        self.root, self.size = root, size
        self.subs: list[Sub] = []
        _collect_subs(root, self.subs)
        self.attr_subs: set[int] = set()
        for elem in _elements(root):
            for _, value in elem.attrs:
                if isinstance(value, Sub):
                    self.attr_subs.add(id(value))
                else:
                    _attr(value)  # a '"' in a static attribute value: libevtx
        self.plans: dict[bytes, Plan] = {}  # as a record's template
        self.nested_plans: dict[bytes, Plan] = {}  # as a binary XML value's template


def _collect_subs(elem: Elem, out: list[Sub]) -> None:
    for _, value in elem.attrs:
        if isinstance(value, Sub):
            out.append(value)
    for item in elem.content or ():
        if isinstance(item, Sub):
            out.append(item)
        elif isinstance(item, Elem):
            _collect_subs(item, out)


class _Known:
    """A template definition seen in an earlier chunk: its bytes with the chunk's own offsets
    blanked (the offsets of names, the bucket links of names written inline), and where those
    names are. A definition with the same bytes and names elsewhere parses the same."""

    __slots__ = ("template", "masked", "blanks", "names")

    def __init__(self, template: Template, masked: bytes, blanks: list[int],
                 names: list[tuple[int, str, bool]]) -> None:
        self.template, self.masked, self.blanks, self.names = template, masked, blanks, names


# (GUID, size) -> definitions seen: Windows writes each template again in every chunk that
# uses it, so one parse (and one plan per value-type signature) serves the whole file
_KNOWN: dict[tuple[bytes, int], list[_Known]] = {}
_KNOWN_LIMIT = 2048  # definitions kept (then forgotten all at once)
_KNOWN_VARIANTS = 8  # layouts of one GUID and size kept (a damaged log could make many)


def _blanked(data: bytes, off: int, end: int, blanks: list[int]) -> bytes:
    copy = bytearray(data[off + 4:end])
    for at in blanks:
        copy[at:at + 4] = b"\0\0\0\0"
    return bytes(copy)


class _Parser:
    """Template definitions and names of one chunk, parsed as libfwevt reads them (with its
    bounds checks), cached by chunk offset (and across chunks, see _Known)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.names: dict[int, tuple[str, int]] = {}
        self.templates: dict[int, Template] = {}
        self.trace: list[tuple[int, str, bool]] | None = None  # name fields while parsing

    def name(self, off: int) -> tuple[str, int]:
        """(name, bytes it takes) of the name structure at `off`."""
        cached = self.names.get(off)
        if cached is not None:
            return cached
        data = self.data
        if off + 8 > CHUNK:
            raise Unsupported("a name past the chunk")
        count = _U16.unpack_from(data, off + 6)[0]
        size = (count + 1) * 2
        if not count or size > CHUNK - off - 8:
            raise Unsupported("a bad name size")
        try:
            text = data[off + 8:off + 8 + size].decode("utf-16-le")
        except UnicodeDecodeError:
            raise Unsupported("a name that is not UTF-16") from None
        if text[-1] != "\0":  # libfwevt takes the character after the name as part of it
            raise Unsupported("a name without its terminating NUL")
        text = text[:-1]
        if not _NAME.match(text):
            raise Unsupported(f"an element or attribute name ElementTree may not read: {text!r}")
        result = (text, 8 + size)
        self.names[off] = result
        return result

    def template(self, off: int) -> Template:
        cached = self.templates.get(off)
        if cached is not None:
            return cached
        data = self.data
        if off + 29 > CHUNK or data[off + 24] != 0x0F:
            raise Unsupported("no fragment header in a template definition")
        size = _U32.unpack_from(data, off + 20)[0]
        key = (data[off + 4:off + 20], size)
        end = off + 24 + size
        if end <= CHUNK:
            for known in _KNOWN.get(key, ()):
                if self._same(off, end, known):
                    self.templates[off] = known.template
                    return known.template
        self.trace = []
        try:
            root, after = self.element(off + 28, 0)
        finally:
            trace, self.trace = self.trace, None
        if after >= CHUNK or data[after] != 0x00:
            raise Unsupported("a template definition without its end of file token")
        if size != after + 1 - (off + 24):
            raise Unsupported("a template definition whose size is not what it holds")
        template = Template(root, size)
        self.templates[off] = template
        names = [(at - off, name, inline) for at, name, inline in trace]
        blanks = [at - 4 for at, _, _ in names]  # relative to off + 4
        blanks += [at for at, _, inline in names if inline]  # the inline name's bucket link
        if len(_KNOWN) > _KNOWN_LIMIT:
            _KNOWN.clear()
        variants = _KNOWN.setdefault(key, [])
        if len(variants) < _KNOWN_VARIANTS:
            variants.append(_Known(template, _blanked(data, off, end, blanks), blanks, names))
        return template

    def _same(self, off: int, end: int, known: _Known) -> bool:
        """Whether the definition at `off` has the known one's bytes and names."""
        if _blanked(self.data, off, end, known.blanks) != known.masked:
            return False
        data = self.data
        for at, name, inline in known.names:
            field = off + at
            target = _U32.unpack_from(data, field)[0]
            if inline:
                if target != field + 4:
                    return False
            elif target >= field + 4 or self.name(target)[0] != name:
                return False
        return True

    def element(self, off: int, depth: int) -> tuple[Elem, int]:
        """The element at `off` and the offset after it."""
        data = self.data
        if depth > _MAX_DEPTH:
            raise Unsupported("elements nested too deep")
        token = data[off] if off < CHUNK else -1
        if token not in (0x01, 0x41):
            raise Unsupported(f"token 0x{token:02x} where an element starts")
        room = CHUNK - off
        if room < 16 or not _U32.unpack_from(data, off + 1)[0] > room - 7:
            raise Unsupported("an element without a dependency identifier")
        size = _U32.unpack_from(data, off + 3)[0]
        pos = off + 7
        name_off = _U32.unpack_from(data, pos)[0]
        pos += 4
        size -= 4
        if name_off > pos:
            raise Unsupported("an element name past its element")
        name, name_size = self.name(name_off)
        if self.trace is not None:
            self.trace.append((pos - 4, name, name_off == pos))
        if name_off == pos:
            pos += name_size
            size -= name_size
        attrs: list[tuple[str, Any]] = []
        if token == 0x41:
            if pos + 4 > CHUNK:
                raise Unsupported("an attribute list past the chunk")
            left = _U32.unpack_from(data, pos)[0]
            pos += 4
            size -= 4
            if left > CHUNK - pos:
                raise Unsupported("an attribute list past the chunk")
            while left > 0:
                start = pos
                attr_name, value, pos = self.attribute(pos)
                if attr_name in (a for a, _ in attrs):
                    raise Unsupported("a repeated attribute (not XML)")
                attrs.append((attr_name, value))
                if pos - start > left:
                    raise Unsupported("an attribute list shorter than its attributes")
                left -= pos - start
                size -= pos - start
        close = data[pos] if pos < CHUNK else -1
        pos += 1
        size -= 1
        if close == 0x03:
            if size:
                raise Unsupported("an empty element whose size does not match")
            return Elem(name, attrs, None), pos
        if close != 0x02:
            raise Unsupported(f"token 0x{close:02x} where an element's start tag closes")
        content: list[Any] = []
        while True:
            if size <= 0 or pos >= CHUNK:
                raise Unsupported("an element without its end tag")
            token = data[pos]
            start = pos
            if token == 0x04:
                pos += 1
            elif token in (0x01, 0x41):
                child, pos = self.element(pos, depth + 1)
                content.append(child)
            elif token in (0x05, 0x45):
                text, pos = self.text(pos)
                content.append(text)
            elif token in (0x0D, 0x0E):
                if pos + 4 > CHUNK:
                    raise Unsupported("a substitution past the chunk")
                content.append(Sub(_U16.unpack_from(data, pos + 1)[0], token == 0x0E))
                pos += 4
            else:
                raise Unsupported(f"token 0x{token:02x} in element content")
            size -= pos - start
            if token == 0x04:
                break
        if size:
            raise Unsupported("an element whose size does not match its content")
        return Elem(name, attrs, content), pos

    def attribute(self, off: int) -> tuple[str, Any, int]:
        data = self.data
        if data[off] not in (0x06, 0x46) or off + 5 > CHUNK:
            raise Unsupported("no attribute token in an attribute list")
        name_off = _U32.unpack_from(data, off + 1)[0]
        pos = off + 5
        if name_off > pos:
            raise Unsupported("an attribute name past its attribute")
        name, name_size = self.name(name_off)
        if self.trace is not None:
            self.trace.append((off + 1, name, name_off == pos))
        if name_off == pos:
            pos += name_size
        token = data[pos] if pos < CHUNK else -1
        if token in (0x05, 0x45):
            value, pos = self.text(pos)
            return name, value, pos
        if token in (0x0D, 0x0E):
            if pos + 4 > CHUNK:
                raise Unsupported("a substitution past the chunk")
            return name, Sub(_U16.unpack_from(data, pos + 1)[0], token == 0x0E), pos + 4
        raise Unsupported(f"token 0x{token:02x} as an attribute value")

    def text(self, off: int) -> tuple[str, int]:
        data = self.data
        if off + 4 > CHUNK or data[off + 1] != STRING:
            raise Unsupported("a text value that is not UTF-16")
        count = _U16.unpack_from(data, off + 2)[0]
        end = off + 4 + 2 * count
        if end >= CHUNK:
            raise Unsupported("a text value past the chunk")
        try:
            text = data[off + 4:end].decode("utf-16-le")
        except UnicodeDecodeError:
            raise Unsupported("a text value libevtx cannot convert") from None
        if "\0" in text:
            raise Unsupported("a NUL in a text value")
        return text, end


# --- plans: what a template gives for one signature of value types ------------------------------


_NO_NESTED: dict = {}  # shared, never written: instances without binary XML values


_UNPACKERS: dict[int, Any] = {}


def _sizes_reader(count: int) -> Callable[[bytes, int], tuple[int, ...]]:
    """unpack_from for the value sizes of a descriptor array of `count` entries (uint16 size,
    uint8 type, uint8 0 each): the sizes alone, in one call."""
    unpack = _UNPACKERS.get(count)
    if unpack is None:
        unpack = _UNPACKERS[count] = struct.Struct("<" + "H2x" * count).unpack_from
    return unpack


_SIZE_CHECKS: dict[tuple[Any, ...], Callable[..., tuple[tuple[int, ...], int]]] = {}


def _sized_reader(count: int, fixed: tuple[tuple[int, int], ...], even: tuple[int, ...]
                  ) -> Callable[[bytes, int, int, int], tuple[tuple[int, ...], int]]:
    """(sizes, offset after the values) of a descriptor array at `pos` whose values start at
    `start` and must end by `end`, with the size checks libfwevt makes as it reads the values
    (fixed-width types of their width, UTF-16 of an even size), in that order, as
    straight-line code for one signature: it runs for every template instance, and the
    general form (an itemgetter, a tuple comparison, a reduce over the UTF-16 sizes) took
    about 5 % of an --evtx-all run's instructions. Made once per signature of checks."""
    key = (count, fixed, even)
    found = _SIZE_CHECKS.get(key)
    if found is not None:
        return found
    lines = ["def sized(data, pos, start, end):",
             "    s = unpack(data, pos)",
             "    after = start + sum(s)",
             "    if after > end:",
             "        raise Unsupported('template values past the record')"]
    if fixed:
        condition = " or ".join(f"s[{index}] != {width}" for index, width in fixed)
        lines += [f"    if {condition}:",
                  "        raise Unsupported('a value whose size does not fit its type')"]
    if even:
        condition = " | ".join(f"s[{index}]" for index in even)
        lines += [f"    if ({condition}) & 1:",
                  "        raise Unsupported('a UTF-16 value of an odd size')"]
    lines.append("    return s, after")
    scope: dict[str, Any] = {"unpack": _sizes_reader(count), "Unsupported": Unsupported}
    exec("\n".join(lines), scope)  # noqa: S102 - code made here from integers only
    if len(_SIZE_CHECKS) > _CACHE_LIMIT:
        _SIZE_CHECKS.clear()
    found = _SIZE_CHECKS[key] = scope["sized"]
    return found


class _Values:
    """One template instance's values: where each is (offs: worked out when first asked, most
    nested values are only checked) and what type it has."""

    __slots__ = ("data", "start", "positions", "sizes", "types", "nested")

    def __init__(self, data: bytes, start: int, positions: list[int] | None,
                 sizes: tuple[int, ...], types: bytes) -> None:
        self.data, self.start, self.positions = data, start, positions
        self.sizes, self.types = sizes, types
        self.nested: dict[int, tuple[Any, ...]] = _NO_NESTED

    @property
    def offs(self) -> list[int]:
        positions = self.positions
        if positions is None:
            positions = self.positions = list(accumulate(self.sizes, initial=self.start))
        return positions

    def text(self, index: int) -> str:
        vtype = self.types[index]
        return _TYPES[vtype][1](self.data, self.offs[index], self.sizes[index])

    def child(self, index: int) -> tuple[Plan, _Values]:
        """The plan and values of the binary XML value at `index` (made when first read)."""
        found = self.nested[index]
        if len(found) == 2:
            return found  # type: ignore[return-value]
        plan, start, sizes, types, nested, offs, _ = found
        values = _Values(self.data, start, offs, sizes, types)
        values.nested = nested
        self.nested[index] = (plan, values)
        return plan, values


_SYSTEM_FIELDS = ("Provider", "EventID", "Level", "TimeCreated", "Channel", "Computer", "Security")
_SYSTEM_SAFE = {0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0D, 0x0F, 0x11, 0x14, 0x15}


class Plan:
    """A template with one signature of value types, checked once: which values the System
    accessors read and how, which value sizes each record must have, and how its payload is
    read (flat EventData items, or the general tree evaluation)."""

    def __init__(self, template: Template, types: bytes, top: bool) -> None:
        self.template = template
        self.types = types
        count = len(types)
        fixed: list[tuple[int, int]] = []
        even: list[int] = []
        self.multiple: list[tuple[int, int]] = []
        self.size_t: list[int] = []
        self.binxml: list[int] = []
        self.quoted: list[int] = []  # text values in attributes: a '"' makes the XML unreadable
        attr_subs = template.attr_subs
        for sub in template.subs:
            if sub.index >= count:
                raise Unsupported("a substitution without a value")
            vtype = types[sub.index]
            in_attr = id(sub) in attr_subs
            if vtype == NULL:
                if not sub.optional:
                    raise Unsupported("a NULL value in a normal substitution")
            elif vtype == BINXML:
                if in_attr:
                    raise Unsupported("binary XML as an attribute value")
                self.binxml.append(sub.index)
            elif vtype & ARRAY:
                if vtype not in _ARRAYS or in_attr:
                    raise Unsupported(f"array type 0x{vtype:02x} where libevtx fails or differs")
                base = vtype & 0x7F
                if base == STRING:
                    even.append(sub.index)
                elif base != ANSI:
                    self.multiple.append((sub.index, _TYPES[base][0]))
            elif vtype in _TYPES:
                width = _TYPES[vtype][0]
                if width:
                    fixed.append((sub.index, width))
                elif vtype == STRING:
                    even.append(sub.index)
                elif vtype == SIZE_T:
                    self.size_t.append(sub.index)
                if in_attr and vtype in _TEXT_TYPES:
                    self.quoted.append(sub.index)
            else:
                raise Unsupported(f"value type 0x{vtype:02x}")
        self.sized = _sized_reader(count, tuple(fixed), tuple(sorted(set(even))))
        self.more = bool(self.multiple or self.size_t or self.quoted)
        self.binxml = sorted(set(self.binxml))
        self.offs_needed = top or self.more or bool(self.binxml)  # see _ChunkReader.instance
        self.system = _SystemPlan(template.root, types) if top else None
        # a nested document: flat EventData or the general evaluation (None)
        self.flat = None if top else _flat_eventdata(template.root, types)
        self.steps = _steps(template.root, types) if top else []
        # the payload is one binary XML value (Windows' usual shape): its index, else -1
        only = self.steps[0] if len(self.steps) == 1 else None
        self.nested_flat = only[1] if only is not None and only[0] == _BINXML_STEP else -1

    def check(self, sizes: tuple[int, ...], data: bytes, offs: list[int]) -> None:
        """The rarer checks libfwevt makes as it reads values (arrays, size_t, text values in
        attributes); value sizes and UTF-16 sizes are checked in _ChunkReader.instance."""
        for index, width in self.multiple:
            if sizes[index] % width:
                raise Unsupported("an array whose size is not whole items")
        for index in self.size_t:
            if sizes[index] not in (4, 8):
                raise Unsupported("a size_t of neither 4 nor 8 bytes")
        for index in self.quoted:
            _attr(render(self.types[index], data, offs[index], sizes[index]))


def _elements(elem: Elem) -> Iterator[Elem]:
    yield elem
    for item in elem.content or ():
        if isinstance(item, Elem):
            yield from _elements(item)


class _SystemPlan:
    """Where the values libevtx's record accessors read are, for one template and signature.

    libevtx takes the first element of each name under System; anything but the plain shape
    Windows writes (one substitution of the usual type, a present element) is left to it."""

    def __init__(self, root: Elem, types: bytes) -> None:
        system = [e for e in root.content or () if isinstance(e, Elem) and e.name == "System"]
        first = next((i for i in root.content or () if not isinstance(i, str)), None)
        if len(system) != 1 or first is not system[0] or \
                any(not isinstance(i, Elem) for i in system[0].content or ()):
            raise Unsupported("no plain System element first in the record")
        if _last_sub_drops(root, types):
            raise Unsupported("a record whose root element is dropped")
        for elem in _elements(system[0]):
            if ":" in elem.name or any(":" in name for name, _ in elem.attrs):
                raise Unsupported("a namespace prefix under System")
        children: dict[str, Elem] = {}
        for child in system[0].content or ():
            if child.name in children and child.name in _SYSTEM_FIELDS:
                raise Unsupported(f"two System/{child.name} elements")
            children.setdefault(child.name, child)
            if child.name not in _SYSTEM_FIELDS:
                _check_system_other(child, types)
        for name in _SYSTEM_FIELDS:
            if name not in children:
                raise Unsupported(f"no System/{name}")
        self.event_id = _content_sub(children["EventID"], types, {0x04, 0x06, 0x08})
        self.event_id_unpack = {0x04: struct.Struct("<B"), 0x06: _U16,
                                0x08: _U32}[types[self.event_id]].unpack_from
        self.level = _content_sub(children["Level"], types, {0x04})
        self.channel = _string_source(children["Channel"], types)
        self.computer = _string_source(children["Computer"], types)
        provider = children["Provider"]
        if provider.content:
            raise Unsupported("content in System/Provider")
        attrs = dict(provider.attrs)
        for attr, value in provider.attrs:
            if attr in ("Name", "EventSourceName"):
                if isinstance(value, Sub) and types[value.index] != STRING:
                    raise Unsupported("a System/Provider name that is not one text value")
            elif isinstance(value, Sub) and types[value.index] not in _SYSTEM_SAFE | {NULL}:
                raise Unsupported("an unusual System/Provider attribute")
        name = attrs.get("EventSourceName", attrs.get("Name"))
        if name is None:
            raise Unsupported("no System/Provider name")
        # libevtx's source name: EventSourceName, else Name (static text or a value's index)
        self.provider: str | int | None = name.index if isinstance(name, Sub) else (name or None)
        self.created = _attr_sub(children["TimeCreated"], "SystemTime", types, 0x11)
        self.user = _attr_sub(children["Security"], "UserID", types, SID)


def _check_system_other(elem: Elem, types: bytes) -> None:
    """A System element no accessor reads: its values only need to print without fail."""
    for item in _elements(elem):
        for _, value in item.attrs:
            if isinstance(value, Sub) and types[value.index] not in _SYSTEM_SAFE | {NULL}:
                raise Unsupported("an unusual System value type")
            if isinstance(value, str):
                _attr(value)
        for value in item.content or ():
            if isinstance(value, Sub) and types[value.index] not in _SYSTEM_SAFE | {NULL}:
                raise Unsupported("an unusual System value type")


def _last_sub_drops(elem: Elem, types: bytes) -> bool:
    """libfwevt keeps an element unless its last content substitution is a NULL (optional)."""
    last = None
    for item in elem.content or ():
        if isinstance(item, Sub):
            last = item
    return last is not None and types[last.index] == NULL


def _content_sub(elem: Elem, types: bytes, allowed: set[int]) -> int:
    content = elem.content or []
    if elem.attrs and any(isinstance(v, Sub) and types[v.index] not in _SYSTEM_SAFE | {NULL}
                          for _, v in elem.attrs):
        raise Unsupported("an unusual System attribute")
    if len(content) != 1 or not isinstance(content[0], Sub) or \
            types[content[0].index] not in allowed:
        raise Unsupported(f"System/{elem.name} that is not one value of the usual type")
    return content[0].index


def _string_source(elem: Elem, types: bytes) -> str | int:
    """A static text (str) or the index of a UTF-16 value (int)."""
    content = elem.content or []
    if elem.attrs:
        raise Unsupported(f"attributes on System/{elem.name}")
    if len(content) == 1 and isinstance(content[0], str):
        return content[0]
    if len(content) == 1 and isinstance(content[0], Sub) and types[content[0].index] == STRING:
        return content[0].index
    raise Unsupported(f"System/{elem.name} that is not one text value")


def _attr_sub(elem: Elem, name: str, types: bytes, vtype: int) -> int | None:
    """Index of the attribute's value (-1: the attribute is absent or NULL)."""
    if elem.content:
        raise Unsupported(f"content in System/{elem.name}")
    for attr, value in elem.attrs:
        if attr == name:
            if not isinstance(value, Sub):
                raise Unsupported(f"System/{elem.name}@{name} as text")
            if types[value.index] == NULL:
                return -1
            if types[value.index] != vtype:
                raise Unsupported(f"System/{elem.name}@{name} of an unusual type")
            return value.index
        if isinstance(value, Sub) and types[value.index] not in _SYSTEM_SAFE | {NULL}:
            raise Unsupported("an unusual System attribute")
    return -1


# --- payload: EventData, UserData, BinaryEventData as the extractor reads them ------------------


class _Flat:
    """EventData whose children are all leaf elements with text or values (no NULLs, arrays or
    nested XML): the extractor's fields, unnamed strings and binary straight from the values.

    items: (kind, key, parts) with parts the element's raw text pieces (str) and value indexes
    (int); fast: where every item is a named field of its own name (the usual case), (key,
    static text or None, value index, formatter) with the formatter giving element text."""

    __slots__ = ("items", "fast", "keys", "reads", "fields")

    def __init__(self, items: list[tuple[int, str, list[Any]]],
                 fast: list[tuple[str, str | None, int, Any]] | None) -> None:
        self.items, self.fast = items, fast
        # every item one value: the fields are {key: formatter(value)...} (_compiled_fields)
        self.keys: tuple[str, ...] | None = None
        self.reads: list[tuple[int, Any]] = []
        self.fields: Callable[[bytes, list[int], Any], dict[str, Any]] | None = None
        if fast is not None and all(static is None for _, static, _, _ in fast):
            self.keys = tuple(key for key, _, _, _ in fast)
            self.reads = [(index, fmt) for _, _, index, fmt in fast]
            self.fields = _compiled_fields(self.keys, self.reads)


def _string_runs(reads: list[tuple[int, Any]]) -> list[list[int]]:
    """Positions in `reads` of the runs of two or more UTF-16 values stored one after the
    other (consecutive value indexes): each run is decoded with one call, then sliced."""
    runs: list[list[int]] = []
    for at, (index, fmt) in enumerate(reads):
        if fmt is not _utf16_text:
            continue
        if runs and runs[-1][-1] == at - 1 and reads[at - 1][0] == index - 1:
            runs[-1].append(at)
        else:
            runs.append([at])
    return [run for run in runs if len(run) > 1]


def _compiled_fields(keys: tuple[str, ...], reads: list[tuple[int, Any]]
                     ) -> Callable[[bytes, list[int], Any], dict[str, Any]]:
    """The fields of flat EventData of one value each, in document order, as straight-line
    code for one plan (it runs for every kept record): each value read by its formatter,
    except runs of UTF-16 values, decoded at once and sliced where that gives the same texts
    (else one by one). Equal to one formatter call per value (tests/test_evtx_compiled.py)."""
    names: dict[str, Any] = {"_DECODE16": _DECODE16}
    lines = ["def fields(data, o, s):"]
    runs = {run[0]: run for run in _string_runs(reads)}
    done: set[int] = set()
    for at, (index, fmt) in enumerate(reads):
        if at in done:
            continue
        run = runs.get(at)
        if run is None:
            names[f"f{at}"] = fmt
            lines.append(f"    v{at} = f{at}(data, o[{index}], s[{index}])")
            continue
        first, last = reads[run[0]][0], reads[run[-1]][0]
        # the run as one text when every value of it is its own slice of it: no character
        # needs cleaning (no NUL, CR, LF or other control) and none is a surrogate pair (one
        # character from four bytes would shift the slices); else (t None) the values one by
        # one, which say which fails, as libevtx does. Inline: a call for each run of each
        # record cost more than this body.
        lines.append(f"    r = data[o[{first}]:o[{last}] + s[{last}]]")
        lines.append("    try:")
        lines.append("        t = _DECODE16(r, None, True)[0]")
        lines.append("    except UnicodeDecodeError:")
        lines.append("        t = None")
        lines.append("    if t is not None and (len(t) * 2 != len(r) or not t.isprintable()):")
        lines.append("        t = None")
        lines.append("    if t is not None:")
        lines.append("        p = 0")
        for position in run:
            index = reads[position][0]
            lines.append(f"        q = p + (s[{index}] >> 1)")
            lines.append(f"        v{position} = t[p:q]")
            lines.append("        p = q")
        lines.append("    else:")
        for position in run:
            index = reads[position][0]
            names[f"f{position}"] = reads[position][1]
            lines.append(f"        v{position} = f{position}(data, o[{index}], s[{index}])")
        done.update(run)
    lines.append("    return {" + ", ".join(f"{key!r}: v{at}" for at, key in enumerate(keys)) + "}")
    exec("\n".join(lines), names)  # noqa: S102 - code made here from ints and repr()'d names
    return names["fields"]  # type: ignore[return-value]


def _clean_text(text: str) -> str:
    """A decoded UTF-16 value as element text: cut at NUL, then as ElementTree reads it."""
    cut = text.find("\0")
    return _text(text if cut < 0 else text[:cut])


_NAMED, _UNNAMED, _BINARY, _OTHER = 0, 1, 2, 3


def _text_formatter(vtype: int) -> Callable[[bytes, int, int], str]:
    """Formatter of a value as element text (strings cleaned as ElementTree reads them)."""
    if vtype == STRING:
        return _utf16_text
    fmt = _TYPES[vtype][1]
    if vtype == ANSI:
        return lambda data, off, size: _text(fmt(data, off, size))
    return fmt


def _flat_eventdata(elem: Elem, types: bytes) -> _Flat | None:
    if elem.name != "EventData" or _last_sub_drops(elem, types):
        return None
    items: list[tuple[int, str, list[Any]]] = []
    for _, value in elem.attrs:
        if isinstance(value, Sub):
            return None
        _attr(value)
    if any(":" in e.name or any(":" in name for name, _ in e.attrs) for e in _elements(elem)):
        return None  # namespace prefixes: the general evaluation resolves them
    for child in elem.content or ():
        if isinstance(child, Sub):
            return None  # values between EventData's children: the general evaluation
        if not isinstance(child, Elem):
            continue
        parts: list[Any] = []
        for _, value in child.attrs:
            if isinstance(value, Sub):
                return None
            _attr(value)
        for piece in child.content or ():
            if isinstance(piece, Elem):
                return None
            if isinstance(piece, Sub):
                vtype = types[piece.index]
                if vtype == NULL or vtype == BINXML or vtype & ARRAY:
                    return None
                parts.append(piece.index)
            else:
                parts.append(piece)  # raw: the element's whole text is read at once
        if len(parts) == 1 and isinstance(parts[0], str):
            parts = [_text(parts[0])]
        elif not parts:
            parts = [""]
        attrs = dict(child.attrs)
        if child.name == "Data":
            key = _attr(attrs["Name"]) if "Name" in attrs else ""
            items.append((_NAMED, key, parts) if key else (_UNNAMED, "", parts))
        elif child.name == "Binary":
            items.append((_BINARY, "", parts))
        else:
            items.append((_OTHER, child.name, parts))
    keys = [name for kind, name, _ in items if kind in (_NAMED, _OTHER)]
    fast: list[tuple[str, str | None, int, Any]] | None = None
    if len(set(keys)) == len(keys) == len(items) <= MAX_FIELDS and \
            all(len(parts) == 1 for _, _, parts in items):
        fast = []
        for _, key, parts in items:
            if isinstance(parts[0], str):
                fast.append((key, parts[0], 0, None))
            else:
                fast.append((key, None, parts[0], _text_formatter(types[parts[0]])))
    return _Flat(items, fast)


_FLAT_STEP, _ELEM_STEP, _BINXML_STEP, _VALUE_STEP = 0, 1, 2, 3


def _steps(root: Elem, types: bytes) -> list[tuple[int, Any]]:
    """The record root's content after System, in order: flat EventData (with its element, for
    the general evaluation when other parts come along), other elements, binary XML values
    (documents of their own) and other values (printed, not read)."""
    steps: list[tuple[int, Any]] = []
    for item in root.content or ():
        if isinstance(item, Elem):
            if item.name == "System":
                continue
            flat = _flat_eventdata(item, types)
            steps.append((_FLAT_STEP, (flat, item)) if flat else (_ELEM_STEP, item))
        elif isinstance(item, Sub):
            vtype = types[item.index]
            if vtype == BINXML:
                steps.append((_BINXML_STEP, item.index))
            elif vtype != NULL:
                steps.append((_VALUE_STEP, item.index))
    return steps


class _ChunkReader:
    """Records of one chunk (bytes), parsed and checked; raises Unsupported for anything the
    reader leaves to libevtx."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.parser = _Parser(data)
        self.templates = self.parser.templates

    def instance(self, pos: int, end: int, top: bool, depth: int = 0) -> tuple[Any, ...]:
        """The template instance at `pos` (its values must end before `end`): its plan, where
        its values start, their sizes, types, binary XML values (read too: libevtx reads them
        with the record), the values' offsets (when worked out) and the offset after them."""
        data = self.data
        if depth > _MAX_DEPTH:
            raise Unsupported("template instances nested too deep")
        if pos + 10 > end or data[pos] != 0x0C:
            raise Unsupported("not a template instance (a record without a template)")
        # the definition's offset and the four bytes after the instance header: the value
        # count when the definition is elsewhere (the usual case), in one unpack (in the
        # chunk: `end` is at most 4 bytes before the record's end)
        def_off, count = _U32_PAIR.unpack_from(data, pos + 6)
        pos += 10
        template = self.templates.get(def_off)
        if template is None:
            if def_off > pos:
                raise Unsupported("data between a template instance and its definition")
            template = self.parser.template(def_off)
        if def_off == pos:
            pos = def_off + 24 + template.size
            if pos + 4 > end:
                raise Unsupported("template values past the record")
            count = _U32.unpack_from(data, pos)[0]
        elif def_off > pos:
            raise Unsupported("data between a template instance and its definition")
        elif pos + 4 > end:
            raise Unsupported("template values past the record")
        start = pos + 4 + 4 * count
        if start > end:
            raise Unsupported("template value descriptors past the record")
        types = data[pos + 6:start:4]
        plans = template.plans if top else template.nested_plans
        plan = plans.get(types)
        if plan is None:
            plan = plans[types] = Plan(template, types, top)
        # with what libfwevt checks as it reads the values (it fails the record otherwise)
        sizes, after = plan.sized(data, pos + 4, start, end)
        offs = list(accumulate(sizes, initial=start)) if plan.offs_needed else None
        if plan.more:
            plan.check(sizes, data, offs)  # type: ignore[arg-type]
        nested = _NO_NESTED
        binxml = plan.binxml
        if binxml:  # (a loop, not a comprehension: no frame of its own before Python 3.12)
            nested = {}
            for index in binxml:
                nested[index] = self.nested(offs[index], sizes[index], depth + 1)  # type: ignore
        return plan, start, sizes, types, nested, offs, after

    def nested(self, off: int, size: int, depth: int) -> tuple[Any, ...]:
        """A binary XML value: one template instance, in a fragment or alone (what instance()
        gives; _Values.child makes it a plan and _Values when read)."""
        data = self.data
        if size >= 18 and data[off:off + 4] == b"\x0f\x01\x01\x00":
            start = off + 4
        elif size >= 14 and data[off] == 0x0C:
            start = off
        else:
            raise Unsupported("binary XML that is not a template instance")
        found = self.instance(start, off + size, False, depth)
        after = found[-1]
        if after != off + size and not (after == off + size - 1 and data[after] == 0):
            raise Unsupported("binary XML of another size than its template instance")
        return found

    def record(self, off: int, size: int, identifier: int, written: int) -> "FastRecord":
        data = self.data
        end = off + size - 4
        if data[off + 24:off + 28] != b"\x0f\x01\x01\x00":
            raise Unsupported("a record without a fragment header")
        plan, start, sizes, types, nested, offs, after = self.instance(off + 28, end, True)
        if after >= end or data[after] != 0x00:
            raise Unsupported("a record whose binary XML does not end after its template")
        return FastRecord(identifier, written, plan, data, start, sizes, types, nested, offs)


# --- the neutral record: what the extractor reads, from either path -----------------------------


# A record's values the extractor reads once it keeps the record (from libevtx or from the fast
# reader), in this order: channel_xml (System/Channel from the XML, libevtx's path only),
# created (TimeCreated FILETIME), system_time (a Timestamp from the XML text where the FILETIME
# is unusable), written (the record header's FILETIME), user_sid, fields (named payload
# values), strings (unnamed EventData values), binary (EventData Binary as hex), identifier,
# level, computer. A plain tuple: it is made and unpacked once for every record kept.
Details = tuple[
    "str | None", "int | None", "Timestamp | None", "int | None", "str | None",
    dict[str, Any], list[str], "str | None", int, int, "str | None"]


def parse_system_time(text: str | None) -> Timestamp | None:
    """System/TimeCreated@SystemTime text to a Timestamp (FILETIME precision, 7 digits)."""
    if not text:
        return None
    try:
        stamp = Timestamp.parse(text)
    except ValueError:
        return None
    return Timestamp(stamp.ns, min(stamp.digits, 7))


PayloadReader = Callable[[Any], tuple[dict[str, Any], list[str], "str | None"]]


class FastRecord:
    """One record read by the fast reader: what the catalogue needs at once, the rest (the
    payload, the only costly part) when the extractor asks for details()."""

    __slots__ = ("identifier", "written", "plan", "data", "start", "sizes", "types", "nested",
                 "offs", "_values", "event_id", "provider", "channel")

    def __init__(self, identifier: int, written: int, plan: Plan, data: bytes, start: int,
                 sizes: tuple[int, ...], types: bytes, nested: dict[int, tuple[Any, ...]],
                 offs: list[int]) -> None:
        """The top template instance's values as instance() gives them (a _Values only when
        the general payload path asks: the usual record never needs one)."""
        self.identifier, self.written = identifier, written
        self.plan, self.data, self.start, self.sizes, self.types = plan, data, start, sizes, types
        self.nested, self.offs, self._values = nested, offs, None
        system = plan.system
        self.event_id = system.event_id_unpack(data, offs[system.event_id])[0]
        provider = system.provider
        self.provider = provider if provider is None or provider.__class__ is str else \
            _accessor_text(provider, data, offs, sizes)
        # read for every record, as libevtx's accessor is (a string it cannot convert fails it)
        self.channel = _accessor_text(system.channel, data, offs, sizes)

    @property
    def values(self) -> _Values:
        values = self._values
        if values is None:
            values = self._values = _Values(self.data, self.start, self.offs, self.sizes,
                                            self.types)
            values.nested = self.nested  # (the same dict: a child() made is seen by both)
        return values

    def details(self, payload: PayloadReader) -> Details:
        """`payload` is the extractor's reading of an XML tree (its _payload), used on the
        tree this reader builds where the payload is not flat EventData."""
        try:
            system = self.plan.system
            data, offs, sizes = self.data, self.offs, self.sizes
            at = system.created
            created = _U64.unpack_from(data, offs[at])[0] if at >= 0 else None
            at = system.user
            user_sid = _sid(data, offs[at], sizes[at]) if at >= 0 else None
            level = data[offs[system.level]]
            computer = _accessor_text(system.computer, data, offs, sizes)
            at = self.plan.nested_flat
            flat = self.nested[at][0].flat if at >= 0 else None
            if flat is not None and flat.keys is not None:  # the usual payload
                found = self.nested[at]
                if len(found) == 7:  # as instance() gave it: no _Values needed
                    _, start, nested_sizes, _, _, nested_offs, _ = found
                    if nested_offs is None:
                        nested_offs = list(accumulate(nested_sizes, initial=start))
                else:  # (made into a _Values by an earlier child())
                    nested = found[1]
                    nested_offs, nested_sizes = nested.offs, nested.sizes
                fields: dict[str, Any] = flat.fields(data, nested_offs,  # type: ignore
                                                     nested_sizes)
                strings: list[str] = []
                binary = None
            else:
                fields, strings, binary = self._payload(payload)
            system_time = None
            if created is not None and (not created or created > _FT_MAX):
                system_time = parse_system_time(filetime_text(created))
            return (None, created, system_time, self.written, user_sid, fields, strings, binary,
                    self.identifier, level, computer)
        except _READ_ERRORS as exc:
            raise Unsupported(f"unexpected {type(exc).__name__} reading a record") from None

    def _payload(self, payload: PayloadReader) -> tuple[dict[str, Any], list[str], str | None]:
        values = self.values
        flats: list[tuple[_Flat, _Values]] = []
        general = False
        for kind, step in self.plan.steps:
            if kind == _FLAT_STEP:
                flats.append((step[0], values))
            elif kind == _BINXML_STEP:
                plan, nested = values.child(step)
                if plan.flat is None:
                    general = True
                flats.append((plan.flat, nested))  # type: ignore[arg-type]
            elif kind == _ELEM_STEP:
                general = True
            else:
                _render_check(step, values)
        if not general:
            fields: dict[str, Any] = {}
            strings: list[str] = []
            binary: str | None = None
            for flat, nested in flats:
                binary = _apply_flat(flat, nested, fields, strings, binary)
            return fields, strings, binary
        counter = [0]
        tree = ET.Element("Event")
        scope = _scope(self.plan.template.root, values, {})
        for kind, step in self.plan.steps:
            if kind == _FLAT_STEP or kind == _ELEM_STEP:
                elem = step[1] if kind == _FLAT_STEP else step
                tree.extend(_evaluate(elem, values, counter, 0, scope))
            elif kind == _BINXML_STEP:
                plan, nested = values.child(step)
                tree.extend(_evaluate(plan.template.root, nested, counter, 1, scope))
        _check_text_reads(tree)
        return payload(tree)


def _check_text_reads(tree: ET.Element) -> None:
    """The extractor reads the text of EventData's children and of BinaryEventData; for an
    element with child elements that text is libevtx's indentation, not copied here."""
    for part in tree:
        if part.tag == "EventData" and any(len(item) for item in part):
            raise Unsupported("an EventData child with child elements")
        if part.tag == "BinaryEventData" and len(part):
            raise Unsupported("BinaryEventData with child elements")


def _accessor_text(source: str | int, data: bytes, offs: list[int],
                   sizes: tuple[int, ...]) -> str | None:
    """A string as libevtx's accessors give it: raw (no XML), cut at NUL, None when empty
    (channel, computer and provider names recur: their text is kept)."""
    if source.__class__ is str:
        return source or None  # type: ignore[return-value]
    off = offs[source]  # type: ignore[index]
    raw = data[off:off + sizes[source]]  # type: ignore[index]
    text = _NAMES.get(raw, _MISS)
    if text is _MISS:
        if len(_NAMES) > _CACHE_LIMIT:
            _NAMES.clear()
        text = _NAMES[raw] = _utf16(raw, 0, len(raw)) or None
    return text  # type: ignore[return-value]


def _render_check(index: int, values: _Values) -> None:
    vtype = values.types[index]
    if vtype & ARRAY:
        render_array(vtype, values.data, values.offs[index], values.sizes[index])
    else:
        values.text(index)


def _apply_flat(flat: _Flat, values: _Values, fields: dict[str, Any], strings: list[str],
                binary: str | None) -> str | None:
    data, offs, sizes = values.data, values.offs, values.sizes
    if flat.keys is not None and not fields:
        fields.update(flat.fields(data, offs, sizes))  # type: ignore[misc]
        return binary
    if flat.fast is not None and not fields:
        for key, static, index, fmt in flat.fast:
            fields[key] = static if fmt is None else fmt(data, offs[index], sizes[index])
        return binary
    for kind, key, parts in flat.items:
        text = _join(parts, values)
        if kind == _NAMED or kind == _OTHER:
            put_field(fields, key, text)
        elif kind == _UNNAMED:
            if len(strings) < MAX_FIELDS:
                strings.append(text)
        else:
            binary = text.strip() or None
    return binary


def _join(parts: list[Any], values: _Values) -> str:
    """An element's text from its raw parts (static text, value indexes)."""
    if len(parts) == 1 and parts[0].__class__ is str:
        return parts[0]  # already read as element text at plan time
    return _text("".join(values.text(part) if part.__class__ is int else part for part in parts))


def put_field(fields: dict[str, Any], name: str, value: str) -> None:
    """Add a payload field (both readers: this one and the extractor's libevtx path); a
    repeated name collects its values in a list, at most MAX_FIELDS names."""
    if name in fields:
        old = fields[name]
        fields[name] = old + [value] if isinstance(old, list) else [old, value]
    elif len(fields) < MAX_FIELDS:
        fields[name] = value


def _scope(elem: Elem, values: _Values, outer: dict[str, str]) -> dict[str, str]:
    """Namespace prefixes declared at this element (xmlns:p) added to those in scope."""
    scope = outer
    for name, value in elem.attrs:
        if name.startswith("xmlns:"):
            if isinstance(value, Sub):
                if values.types[value.index] == NULL:
                    continue
                value = values.text(value.index)
            if scope is outer:
                scope = dict(outer)
            scope[name[6:]] = _attr(value)
    return scope


def _qualified(name: str, scope: dict[str, str]) -> str:
    """An attribute name as ElementTree keys it: {uri}local for a prefixed one."""
    prefix, _, local = name.partition(":")
    if not local:
        return name
    uri = _XML_NS if prefix == "xml" else scope.get(prefix)
    if uri is None or prefix == "xmlns":
        raise Unsupported(f"namespace prefix {prefix!r} not declared (unreadable XML)")
    return "{" + uri + "}" + local


def _evaluate(elem: Elem, values: _Values, counter: list[int], depth: int,
              outer: dict[str, str]) -> list[ET.Element]:
    """The element as ElementTree would read it from libevtx's XML: none (dropped by a NULL
    optional substitution), one, or one per array item. Elements are named by their local
    name (the extractor reads no namespace); elements with child elements get no text (see
    _check_text_reads)."""
    if depth > _MAX_DEPTH:
        raise Unsupported("elements nested too deep")
    types = values.types
    if _last_sub_drops(elem, types):
        return []  # libfwevt drops it before anything in it is printed
    array_at = -1
    for position, item in enumerate(elem.content or ()):
        if isinstance(item, Sub) and types[item.index] & ARRAY:
            if array_at >= 0:
                raise Unsupported("two arrays in one element")
            array_at = position
    scope = _scope(elem, values, outer)
    attrib: dict[str, str] = {}
    for name, value in elem.attrs:
        if isinstance(value, Sub):
            if types[value.index] == NULL:
                continue
            text = _attr(values.text(value.index))
        else:
            text = _attr(value)
        if name == "xmlns" or name.startswith("xmlns:"):
            continue
        key = _qualified(name, scope)
        if key in attrib:
            raise Unsupported("an attribute repeated under two prefixes")
        attrib[key] = text
    tag = _qualified(elem.name, scope).rpartition("}")[2]
    if array_at >= 0:
        sub = elem.content[array_at]  # type: ignore[index]
        vtype = types[sub.index]
        items = render_array(vtype, values.data, values.offs[sub.index], values.sizes[sub.index])
        return [_build(elem, tag, attrib, values, counter, depth, scope, (array_at, item))
                for item in items]
    return [_build(elem, tag, attrib, values, counter, depth, scope, None)]


def _build(elem: Elem, tag: str, attrib: dict[str, str], values: _Values, counter: list[int],
           depth: int, scope: dict[str, str], array_item: tuple[int, str] | None) -> ET.Element:
    counter[0] += 1
    if counter[0] > _MAX_ELEMENTS:
        raise Unsupported("a record of too many elements")
    node = ET.Element(tag, attrib)
    texts: list[str] = []
    children = False
    types = values.types
    for position, item in enumerate(elem.content or ()):
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, Elem):
            for child in _evaluate(item, values, counter, depth + 1, scope):
                node.append(child)
                children = True
        elif array_item is not None and position == array_item[0]:
            texts.append(array_item[1])
        else:
            vtype = types[item.index]
            if vtype == NULL:
                continue
            if vtype == BINXML:
                plan, nested = values.child(item.index)
                for child in _evaluate(plan.template.root, nested, counter, depth + 1, scope):
                    node.append(child)
                    children = True
                continue
            texts.append(values.text(item.index))
    if not children:
        node.text = _text("".join(texts))
    elif texts:
        # libevtx prints such an element oddly (its value, not always its children)
        raise Unsupported("an element with both text and child elements")
    return node


# --- chunks and files ---------------------------------------------------------------------------


Record = tuple[int, int, int, int]  # (offset, size, identifier, written) in a chunk


def walk(data: bytes) -> tuple[list[Record], bool, Record | None]:
    """The records libevtx returns from a chunk with a good signature, as its loop finds them:
    [(offset, size, identifier, written)], whether the loop ended at the last record (not at a
    header it could not read), and the record it stopped at when that one is whole but ends in
    the chunk's last four bytes: libevtx wants four bytes after a record, so a record that
    ends exactly at the chunk's end is neither returned nor recovered by it."""
    last = _U32.unpack_from(data, 44)[0]
    found: list[Record] = []
    off = 512
    while off <= last:
        room = CHUNK - off
        if room < 28:
            return found, False, None
        # (a header of zeros ends libevtx's loop too: it has no signature either)
        magic, size, identifier, written = _RECORD.unpack_from(data, off)
        if magic != b"**\0\0" or size < 24 or size > room or \
                _U32.unpack_from(data, off + size - 4)[0] != size:
            return found, False, None
        if size > room - 4:
            return found, False, (off, size, identifier, written)
        found.append((off, size, identifier, written))
        off += size
    return found, True, None


def _slack_has_record(data: bytes, start: int) -> bool:
    """Whether libevtx's scan of a chunk after its records (a signature at 4-byte steps from
    where its record loop stopped, a header it can read, binary XML after it) recovers one."""
    at = data.find(b"**\0\0", start)
    while at >= 0:
        if (at - start) % 4 == 0 and CHUNK - at >= 28:
            size = _U32.unpack_from(data, at + 4)[0]
            if 24 <= size <= CHUNK - at - 4 and _U32.unpack_from(data, at + size - 4)[0] == size:
                xml = size - 28 if size > 28 else 0
                if (xml >= 5 and data[at + 24] == 0x0A) or \
                        (xml >= 4 and data[at + 24:at + 28] == b"\x0f\x01\x01\x00"):
                    return True
        at = data.find(b"**\0\0", at + 1)
    return False


class ChunkRead:
    """One chunk: its records read here (records), or None where libevtx must read it; and the
    (identifier, written time) of each record libevtx returns from it, in order (live).

    `tail`: a record ending at the chunk's very end, which libevtx never returns (see walk),
    read here when the rest of the chunk is; `tail_id`: its identifier, whether read or not."""

    __slots__ = ("index", "records", "live", "reason", "tail", "tail_id")

    def __init__(self, index: int, records: list[FastRecord] | None,
                 live: list[tuple[int, int]], reason: str, tail: FastRecord | None = None,
                 tail_id: int | None = None) -> None:
        self.index, self.records, self.live, self.reason = index, records, live, reason
        self.tail, self.tail_id = tail, tail_id


class FileReader:
    """The chunks of an EVTX file, in libevtx's order, each read here or left to libevtx.

    `libevtx_only`: libevtx would refuse the file, or read its chunks from elsewhere than
    this reader (a header block size other than 4096): the extractor reads it all through
    libevtx, as without the fast reader. After chunks() has run, `needs_libevtx` tells
    whether libevtx still has something to say: recovered records, chunks left to it, or
    damage that makes it flag the file as corrupted."""

    def __init__(self, handle: BinaryIO, size: int, head: bytes) -> None:
        self.handle, self.size, self.head = handle, size, head
        self.header_chunks = _U16.unpack_from(head, 42)[0] if len(head) >= 44 else 0
        self.dirty = len(head) >= 124 and bool(_U32.unpack_from(head, 120)[0] & 1)
        self.whole = max(0, (size - FILE_HEADER) // CHUNK)
        self.needs_libevtx = not self._clean_header()
        self.libevtx_only = self._libevtx_only()

    def _clean_header(self) -> bool:
        head = self.head
        if len(head) < FILE_HEADER or self.whole < self.header_chunks:
            return False  # libevtx counts fewer chunks than the header: it flags corruption
        first, last = struct.unpack_from("<QQ", head, 8)
        first, last = first & 0xFFFF, last & 0xFFFF
        return (zlib.crc32(head[:120]) == _U32.unpack_from(head, 124)[0]
                and _U16.unpack_from(head, 40)[0] == FILE_HEADER
                and _U16.unpack_from(head, 38)[0] == 3
                and first <= last and self.header_chunks == last - first + 1)

    def _libevtx_only(self) -> bool:
        """libevtx fails to open a file shorter than its header, whose header block size is
        not 4096 here, or with a chunk of good signature but bad header size or free space."""
        if len(self.head) < FILE_HEADER or _U16.unpack_from(self.head, 40)[0] != FILE_HEADER:
            return True
        for index in range(self.whole):
            self.handle.seek(FILE_HEADER + index * CHUNK)
            head = self.handle.read(56)
            if head[:8] != b"ElfChnk\0":
                continue
            header_size, _, free = struct.unpack_from("<III", head, 40)
            if header_size != 128 or not 512 <= free <= CHUNK:
                return True
        return False

    def chunks(self) -> Iterator[ChunkRead]:
        for index in range(self.whole):
            self.handle.seek(FILE_HEADER + index * CHUNK)
            data = self.handle.read(CHUNK)
            if len(data) < CHUNK:
                self.needs_libevtx = True
                return
            yield self._chunk(index, data)

    def _chunk(self, index: int, data: bytes) -> ChunkRead:
        if not any(data):  # libevtx skips a chunk of zeros
            if index < self.header_chunks:
                self.needs_libevtx = True  # it flags the file as corrupted
            return ChunkRead(index, [], [], "")
        good = data[:8] == b"ElfChnk\0"
        live: list[tuple[int, int]] = []
        found: list[Record] = []
        clean = False
        tail: Record | None = None
        if good:
            found, clean, tail = walk(data)
            if index < self.header_chunks or self.dirty:
                live = [(ident, written) for _, _, ident, written in found]
        tail_id = tail[2] if tail else None
        if index >= self.header_chunks or not good:
            self.needs_libevtx = True
            return ChunkRead(index, None, live, "a chunk outside the header's count or damaged",
                             None, tail_id)
        reason = _chunk_trouble(data, found, clean)
        if not reason:
            end = found[-1][0] + found[-1][1] if found else 512
            if _slack_has_record(data, end):
                self.needs_libevtx = True  # recovered records are libevtx's
            reader = _ChunkReader(data)
            try:
                records = [reader.record(*record) for record in found]
            except Unsupported as exc:
                reason = str(exc)
            except _READ_ERRORS as exc:
                reason = f"unexpected {type(exc).__name__} reading a record"
            else:
                return ChunkRead(index, records, live, "", self._tail(reader, tail), tail_id)
        self.needs_libevtx = True
        return ChunkRead(index, None, live, reason, None, tail_id)

    @staticmethod
    def _tail(reader: "_ChunkReader", tail: Record | None) -> FastRecord | None:
        """The chunk-end record libevtx does not return, read here (None if it cannot be)."""
        if tail is None:
            return None
        try:
            return reader.record(*tail)
        except (Unsupported, *_READ_ERRORS):
            return None


def _chunk_trouble(data: bytes, found: list[tuple[int, int, int, int]], clean: bool) -> str:
    """Why libevtx must read this chunk (its checks fail, its records are not what the chunk
    header says), or ''."""
    first_num, last_num = struct.unpack_from("<QQ", data, 8)
    free, records_crc = struct.unpack_from("<II", data, 48)
    if not 512 <= free <= CHUNK or _U32.unpack_from(data, 40)[0] != 128:
        return "a chunk header libevtx refuses"
    if zlib.crc32(data[:120] + data[128:512]) != _U32.unpack_from(data, 124)[0]:
        return "chunk header CRC32 mismatch"
    if zlib.crc32(data[512:free]) != records_crc:
        return "chunk records CRC32 mismatch"
    if first_num > last_num or (clean and len(found) != last_num - first_num + 1):
        return "record count differs from the chunk header"  # libevtx: corrupted
    return ""
