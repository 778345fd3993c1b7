"""OneDrive sync client logs (ODL: `.odl`, `.odlgz`, `.odlsent`, `.aodl` / `.aold`): a record
of the functions the client ran, with the time, the source file and function name and the
values passed - the trace of uploads, downloads (hydration), deletions, renames and moves
that the sync database no longer shows.

Where: `%LOCALAPPDATA%\\Microsoft\\OneDrive\\logs\\<Personal|Business1..|Common>\\` (and
`logs\\ListSync\\...`); on macOS `~/Library/Logs/OneDrive/`. Not documented by Microsoft;
the layout below is the one described publicly by Yogesh Khatri ("Reading OneDrive Logs",
swiftforensics.com, February and November 2022, and the notes of his odl.py) and Brian
Maloney (ODL notes for OneDriveExplorer). Every integer is little-endian.

File header, 256 bytes: "EBFGONED", uint32 version (1: clients 17.3.6673-17.3.6998; 2:
    17.3.7010-23.176; 3: 23.180 and later), three unknown fields, then the client version as
    text (0x40 bytes at 0x1C; 0x44 in version 1) and, from version 2, the OS version (0x40
    bytes at 0x5C). After the header: the records, or one gzip stream holding them (the four
    bytes at 0x100 decide, not the extension: `.odlgz` and some `.odlsent` are compressed).
Record, versions 1 and 2: a 56-byte header - signature CC DD EE FF, uint16, uint16, uint64
    time, 2 x uint32, 16 bytes, 2 x uint32, uint32 data length, uint32 - then the data.
Record, version 3: a 32-byte header - signature CC DD EE FF, uint16 context length, uint16,
    uint64 time, 2 x uint32, uint32 data length, uint32 - then the data (data length bytes):
    the context bytes when the context length is not 0, else 24 unknown bytes (a GUID and two
    uint32), then the same layout as versions 1 and 2.
Data: uint32 length + code file name, uint32 flags, uint32 length + function name, then the
    parameters, whose layout depends on the function and is not published. Text in them is
    taken as Khatri describes it: runs of printable bytes preceded by their length (uint32);
    here, runs of at least 4 bytes that are valid UTF-8, cut to the length before them.

Names in parameters are obfuscated. Older clients replace each word with a key listed in
`ObfuscationStringMap.txt` ("key<TAB>value" lines, UTF-16 LE on Windows, newest first, a
value may go on over the next lines; keys are reused over time, so a map read later than a
log may give another name than the one meant). Clients since about April 2022 instead
encrypt each word with AES-128-CBC, zero IV, PKCS#7 padding, the key in `general.keystore`
(JSON, "Key" in base64), the result written in URL-safe base64 without padding; the plain
text is UTF-16 LE. Words are split at the separators `\\ / : . @ % # & * | { } ! ? < > ; ~
( ) " ' [ ] ,` and white space (extensions are not obfuscated). Only files beside the log
(same folder) are used; the AES library is libcaes (pycaes, installed with dfVFS). A word
is replaced only when it decrypts with valid padding to text without control, surrogate,
private-use or unassigned characters, else by the map, else kept; garbage that happens to
decrypt cleanly cannot be ruled out, so `strings_as_logged` keeps what the log says.

Which records go on the timeline: by default those whose function name shows a file action:
it contains Upload, Download, Hydrat, Dehydrat, Delete, Rename or Move (with that capital;
or in lower case at the start of the name or after `::`, `_` or `~`). With the extractor
option `onedrive_odl_all` every record.

Time: the record's uint64, milliseconds since 1970-01-01 UTC (three digits), "Logged": when
the client wrote the record. 0 (not set), or a value past the year 9999 (a warning counts
those), leaves the event without a time.

Event data: client ("OneDrive"), log_folder (Personal, Business1, Common...), log_file,
odl_version, onedrive_version, os_version, record_index (from 1), record_offset (in the file,
or in the inflated data of a compressed log: `offset_in` says "file" or "inflated data"),
code_file, function, flags, file_action (the function is one of the file actions above),
strings (the parameters' text, de-obfuscated where possible; at most 100, each cut at 8,192
characters), strings_as_logged (only when de-obfuscation changed something), obfuscated
(True: no map or key could be used, strings are as logged), deobfuscated_with
(["general.keystore"], ["ObfuscationStringMap.txt"], both, or []), params_size.

Bounds: a record longer than 16 MiB, a missing record signature or a record that runs past
the end stops the file (error or warning naming the offset; earlier records are kept); a
record whose names overrun it is skipped and counted. A compressed log is inflated a piece at
a time and never past 64 times its size (at least 16 MiB, at most 256 MiB): a warning says
where it stopped.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
import unicodedata
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import TimeReader
from triage.extractors.onedrive_settings import decode_text
from triage.files import EvidenceFile, basename
from triage.model import ArtifactError, Event

try:  # libcaes: a dfVFS dependency; without it encrypted names stay as logged
    import pycaes
except ImportError:  # pragma: no cover - dfVFS always brings it
    pycaes = None

HEADER_SIZE = 0x100
SIGNATURE = b"EBFGONED"
RECORD_SIGNATURE = b"\xcc\xdd\xee\xff"
GZIP_MAGIC = b"\x1f\x8b\x08"
VERSIONS = (1, 2, 3)

MAX_RECORD_DATA = 16 * 1024 * 1024
MAX_NAME = 4096
INFLATE_FACTOR = 64
INFLATE_FLOOR = 16 * 1024 * 1024
INFLATE_CAP = 256 * 1024 * 1024
READ_CHUNK = 256 * 1024
MAX_MAP_BYTES = 64 * 1024 * 1024
MAX_KEYSTORE_BYTES = 1024 * 1024
MAX_STRINGS = 100
MAX_STRING_CHARS = 8192
MAX_MESSAGE_TEXT = 300
MAP_FILE = "ObfuscationStringMap.txt"
KEYSTORE_FILE = "general.keystore"

_REC_V12 = struct.Struct("<4sHHQII16sIIII")  # 56 bytes
_REC_V3 = struct.Struct("<4sHHQIIII")  # 32 bytes
_V3_PREFIX = 24  # GUID + 2 x uint32 before the names when there is no context
_U32 = struct.Struct("<I")

FILE_ACTION_RE = re.compile(
    r"Upload|Download|Dehydrat|Hydrat|Delete|Rename|Move"
    r"|(?:^|::|[_~])(?:upload|download|dehydrat|hydrat|delete|rename|move)")
_TEXT_RUN = re.compile(rb"[\t\n\r\x20-\x7e\x80-\xff]{4,}")
_WORD_SPLIT = re.compile(r"([\\/:.@%#&*|{}!?<>;~()\"'\[\],\s]+)")
_B64_WORD = re.compile(r"[A-Za-z0-9_+-]{22,}")


@dataclass(frozen=True)
class OdlHeader:
    version: int
    onedrive_version: str | None
    os_version: str | None


@dataclass
class OdlRecord:
    index: int
    offset: int
    timestamp_ms: int
    code_file: str
    function: str
    flags: int
    params: bytes


def _text(raw: bytes) -> str | None:
    value = raw.split(b"\0", 1)[0].decode("ascii", errors="replace").strip()
    return value or None


def parse_header(head: bytes) -> OdlHeader:
    """The 256-byte file header; ArtifactError when the file is not an ODL log."""
    if not head.startswith(SIGNATURE):
        raise ArtifactError("not a OneDrive ODL log (no EBFGONED signature at offset 0)")
    if len(head) < HEADER_SIZE:
        raise ArtifactError(f"truncated ODL header: {len(head)} of {HEADER_SIZE} bytes")
    version = _U32.unpack_from(head, 8)[0]
    if version not in VERSIONS:
        raise ArtifactError(f"ODL version {version} is not known (versions 1, 2 and 3 are)")
    if version == 1:
        return OdlHeader(version, _text(head[0x1C:0x1C + 0x44]), None)
    return OdlHeader(version, _text(head[0x1C:0x5C]), _text(head[0x5C:0x9C]))


class RecordArea:
    """The bytes after the header, read front to back: the file itself, or its gzip stream
    inflated a piece at a time and never past `cap` bytes (why: a small compressed file may
    claim gigabytes). Multi-member gzip is followed; anything else after the stream is not."""

    def __init__(self, handle: BinaryIO, compressed: bool, cap: int) -> None:
        self.handle, self.compressed, self.cap = handle, compressed, cap
        self.offset = 0  # bytes handed out so far
        self.capped = False
        self.damage: str | None = None
        self.gzip_ended_early = False
        self.trailing = False
        self.inflated = 0
        self._buf = bytearray()
        self._pos = 0
        self._inflater = zlib.decompressobj(31) if compressed else None
        self._done = not compressed

    @property
    def unit(self) -> str:
        return "inflated data" if self.compressed else "file"

    def where(self, offset: int) -> str:
        if self.compressed:
            return f"offset {offset} of the inflated data"
        absolute = HEADER_SIZE + offset
        return f"offset {absolute} (0x{absolute:X})"

    @property
    def stopped_early(self) -> bool:
        return self.capped or self.damage is not None

    def read(self, size: int) -> bytes:
        """Up to `size` bytes; fewer only where the data ends or a bound stops it."""
        if not self.compressed:
            data = self.handle.read(size)
            self.offset += len(data)
            return data
        while len(self._buf) - self._pos < size and self._inflate_more():
            pass
        data = bytes(self._buf[self._pos:self._pos + size])
        self._pos += len(data)
        self.offset += len(data)
        if self._pos > READ_CHUNK * 4:
            del self._buf[:self._pos]
            self._pos = 0
        return data

    def _inflate_more(self) -> bool:
        """Add some inflated bytes to the buffer; False when nothing more can come."""
        if self._done or self._inflater is None:
            return False
        inflater = self._inflater
        if inflater.eof:
            rest = inflater.unused_data or self.handle.read(READ_CHUNK)
            if not rest.startswith(GZIP_MAGIC[:2]):  # no further gzip member
                self._done = True
                self.trailing = bool(rest.strip(b"\0"))
                return False
            self._inflater = inflater = zlib.decompressobj(31)
            data = rest
        else:
            data = inflater.unconsumed_tail or self.handle.read(READ_CHUNK)
        if not data:
            self._done, self.gzip_ended_early = True, True
            return False
        room = self.cap - self.inflated
        if room <= 0:  # checked before inflating: a max_length of 0 would mean "no limit"
            self._done, self.capped = True, True
            return False
        try:
            out = inflater.decompress(data, min(room, READ_CHUNK))
        except zlib.error as exc:
            self._done, self.damage = True, str(exc)
            return False
        self._buf += out
        self.inflated += len(out)
        return True

    def report(self, ctx: ExtractionContext) -> None:
        """Say why the compressed data stopped, when it did not end cleanly."""
        if self.capped:
            ctx.warn(f"inflating stopped at the bound of {self.cap} bytes ({INFLATE_FACTOR} "
                     f"times the file, at least {INFLATE_FLOOR}, at most {INFLATE_CAP}): the "
                     "records after it are not read")
        elif self.damage is not None:
            ctx.error(f"gzip stream damaged after {self.inflated} inflated bytes "
                      f"({self.damage}): the rest of the file is not read")
        elif self.gzip_ended_early:
            ctx.warn(f"the gzip stream ends before its end marker (after {self.inflated} "
                     "inflated bytes): the file is truncated")
        if self.trailing:
            ctx.note("bytes after the end of the gzip stream are not read")


@dataclass
class _Damage:
    count: int = 0
    first: str | None = None

    def add(self, where: str) -> None:
        self.count += 1
        self.first = self.first or where

    def report(self, ctx: ExtractionContext) -> None:
        if self.count:
            ctx.warn(f"{self.count} record(s) whose names run past the record's data were "
                     f"skipped (first at {self.first})")


def _pascal(data: bytes, pos: int) -> tuple[str, int] | None:
    """A uint32-length-prefixed name at `pos`, and the position after it."""
    if pos + 4 > len(data):
        return None
    size = _U32.unpack_from(data, pos)[0]
    end = pos + 4 + size
    if size > MAX_NAME or end > len(data):
        return None
    return data[pos + 4:end].decode("utf-8", errors="replace"), end


def decode_data(data: bytes, version: int,
                context_length: int) -> tuple[str, int, str, bytes] | None:
    """(code file, flags, function, parameters) of a record's data; None when damaged."""
    if version == 3:
        skip = context_length if context_length else _V3_PREFIX
        if skip > len(data):
            return None
        data = data[skip:]
    first = _pascal(data, 0)
    if first is None or first[1] + 4 > len(data):
        return None
    code_file, pos = first
    flags = _U32.unpack_from(data, pos)[0]
    second = _pascal(data, pos + 4)
    if second is None:
        return None
    function, pos = second
    return code_file, flags, function, data[pos:]


def iter_records(area: RecordArea, version: int, ctx: ExtractionContext) -> Iterator[OdlRecord]:
    """Every record of the area, bounded; framing damage ends the file with a message."""
    layout = _REC_V3 if version == 3 else _REC_V12
    damaged = _Damage()
    index = 0
    while True:
        offset = area.offset
        head = area.read(layout.size)
        if not head:
            break
        if len(head) < layout.size or head[:4] != RECORD_SIGNATURE:
            if not head.strip(b"\0"):
                ctx.note(f"zero bytes from {area.where(offset)} on: taken as the end of the "
                         "records")
            elif len(head) < layout.size:
                if not area.stopped_early:
                    ctx.warn(f"the {area.unit} ends inside the record header at "
                             f"{area.where(offset)}: that record is not read")
            else:
                ctx.error(f"no record signature (CC DD EE FF) at {area.where(offset)}: the "
                          "rest of the file is not read")
            break
        fields = layout.unpack(head)
        timestamp = fields[3]
        if version == 3:
            context_length, data_length = fields[1], fields[6]
        else:
            context_length, data_length = 0, fields[9]
        if data_length > MAX_RECORD_DATA:
            ctx.error(f"the record at {area.where(offset)} claims {data_length} bytes of data "
                      f"(more than the {MAX_RECORD_DATA}-byte bound): the rest of the file is "
                      "not read")
            break
        data = area.read(data_length)
        if len(data) < data_length:
            if not area.stopped_early:
                ctx.warn(f"the {area.unit} ends inside the record at {area.where(offset)}: "
                         f"{data_length - len(data)} of its {data_length} data bytes are "
                         "missing; that record is not read")
            break
        index += 1
        decoded = decode_data(data, version, context_length)
        if decoded is None:
            damaged.add(area.where(offset))
            continue
        code_file, flags, function, params = decoded
        yield OdlRecord(index, offset if area.compressed else HEADER_SIZE + offset, timestamp,
                        code_file, function, flags, params)
    damaged.report(ctx)


def param_strings(params: bytes) -> list[str]:
    """The text in a record's parameters: runs of at least 4 printable bytes that follow
    their own uint32 length and are valid UTF-8, taken to that length."""
    found: list[str] = []
    pos = 0
    while len(found) < MAX_STRINGS:
        match = _TEXT_RUN.search(params, pos)
        if match is None:
            break
        start, end = match.span()
        pos = end
        if start < 4:
            continue
        size = _U32.unpack_from(params, start - 4)[0]
        if not 4 <= size <= end - start:
            continue
        try:
            text = params[start:start + size].decode("utf-8")
        except UnicodeDecodeError:
            continue
        found.append(text[:MAX_STRING_CHARS])
        pos = start + size
    return found


def parse_obfuscation_map(text: str) -> dict[str, str]:
    """`key<TAB>value` lines, newest first: the first value of a key is kept; a line without
    a tab continues the value before it."""
    mapping: dict[str, str] = {}
    last: str | None = None
    for line in text.splitlines():
        key, tab, value = line.partition("\t")
        if tab:
            if key in mapping:
                last = None
                continue
            mapping[key] = value
            last = key
        elif last is not None:
            mapping[last] += "\n" + line
    return mapping


def parse_keystore(data: bytes) -> bytes:
    """The AES key of a `general.keystore` (JSON: a list of objects, or one, with "Key")."""
    text, _ = decode_text(data)
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    entries = parsed if isinstance(parsed, list) else [parsed]
    for entry in entries:
        if isinstance(entry, dict) and isinstance(entry.get("Key"), str):
            try:
                key = base64.b64decode(entry["Key"], validate=True)
            except (binascii.Error, ValueError):
                raise ValueError("its Key is not base64") from None
            if len(key) not in (16, 24, 32):
                raise ValueError(f"its key is {len(key)} bytes, not an AES key")
            return key
    raise ValueError("no \"Key\" entry")


_MAP_CACHE: "OrderedDict[str, dict[str, str]]" = OrderedDict()


def _cached_map(raw: bytes) -> dict[str, str]:
    """The parsed map, kept for the next log of the same folder (same bytes, same map)."""
    digest = hashlib.sha256(raw).hexdigest()
    if digest in _MAP_CACHE:
        _MAP_CACHE.move_to_end(digest)
        return _MAP_CACHE[digest]
    mapping = parse_obfuscation_map(decode_text(raw)[0])
    _MAP_CACHE[digest] = mapping
    while len(_MAP_CACHE) > 2:
        _MAP_CACHE.popitem(last=False)
    return mapping


@dataclass
class Revealer:
    """Turns obfuscated words back into names with whatever the log folder provides."""

    mapping: dict[str, str] | None = None
    key: bytes | None = None
    used: list[str] = field(default_factory=list)
    _aes: Any = None
    _seen: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key is not None and pycaes is not None:
            self._aes = pycaes.context()
            self._aes.set_key(pycaes.crypt_modes.DECRYPT, self.key)

    @property
    def active(self) -> bool:
        return bool(self.used)

    def reveal(self, text: str) -> str:
        parts = _WORD_SPLIT.split(text)
        for i in range(0, len(parts), 2):
            if parts[i]:
                parts[i] = self._word(parts[i])
        return "".join(parts)

    def _word(self, word: str) -> str:
        if word in self._seen:
            return self._seen[word]
        value = self._decrypt(word) if self._aes is not None else None
        if value is None and self.mapping is not None:
            value = self.mapping.get(word)
        value = word if value is None else value
        if len(self._seen) < 100_000:
            self._seen[word] = value
        return value

    def _decrypt(self, word: str) -> str | None:
        if len(word) % 4 == 1 or not _B64_WORD.fullmatch(word):
            return None
        try:
            raw = base64.b64decode(word.replace("-", "+").replace("_", "/")
                                   + "=" * (-len(word) % 4))
        except (binascii.Error, ValueError):
            return None
        if not raw or len(raw) % 16:
            return None
        try:
            plain = pycaes.crypt_cbc(self._aes, pycaes.crypt_modes.DECRYPT, b"\0" * 16, raw)
        except (OSError, ValueError, TypeError):
            return None
        pad = plain[-1]
        if not 1 <= pad <= 16 or plain[-pad:] != bytes([pad]) * pad:
            return None
        body = plain[:-pad]
        if not body or len(body) % 2:
            return None
        try:
            text = body.decode("utf-16-le")
        except UnicodeDecodeError:
            return None
        if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in text):
            return None
        return text


def load_revealer(f: EvidenceFile, ctx: ExtractionContext) -> Revealer:
    """The map and the key beside the log, each only if it can be read."""
    revealer = Revealer()
    keystore = f.sibling(KEYSTORE_FILE)
    if keystore is not None:
        if keystore.size > MAX_KEYSTORE_BYTES:
            ctx.warn(f"{KEYSTORE_FILE} of {keystore.size} bytes is too large to be a key "
                     "store: not used")
        else:
            try:
                key = parse_keystore(keystore.read(MAX_KEYSTORE_BYTES))
            except ValueError as exc:
                ctx.warn(f"{KEYSTORE_FILE} not used: {exc}")
            else:
                if pycaes is None:
                    ctx.note(f"{KEYSTORE_FILE} present but no AES library (pycaes) is "
                             "installed: encrypted names are kept as logged")
                else:
                    revealer = Revealer(key=key, used=[KEYSTORE_FILE])
    mapfile = f.sibling(MAP_FILE)
    if mapfile is not None:
        if mapfile.size > MAX_MAP_BYTES:
            ctx.warn(f"{MAP_FILE} of {mapfile.size} bytes is over the {MAX_MAP_BYTES}-byte "
                     "bound: not used")
        else:
            revealer.mapping = _cached_map(mapfile.read(MAX_MAP_BYTES))
            revealer.used.append(MAP_FILE)
    return revealer


def _inflate_cap(size: int) -> int:
    return min(INFLATE_CAP, max(INFLATE_FACTOR * size, INFLATE_FLOOR))


def _one_line(text: str) -> str:
    return " ".join(text.split())


@register
class OneDriveOdl(Extractor):
    name = "onedrive_odl"
    family = "cloud"
    description = ("OneDrive ODL logs (.odl, .odlgz, .odlsent, .aodl): uploads, downloads, "
                   "deletions, renames and moves; option onedrive_odl_all for every record")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        everything = bool(ctx.options.get("onedrive_odl_all"))
        handle = f.open()
        try:
            header = parse_header(handle.read(HEADER_SIZE))
            compressed = handle.read(len(GZIP_MAGIC)) == GZIP_MAGIC
            handle.seek(HEADER_SIZE)
            area = RecordArea(handle, compressed, _inflate_cap(f.size))
            revealer = load_revealer(f, ctx)
            base = {"client": "OneDrive", "log_folder": _folder_of(f.path),
                    "log_file": basename(f.path), "odl_version": header.version,
                    "onedrive_version": header.onedrive_version,
                    "os_version": header.os_version}
            times = TimeReader()
            for record in iter_records(area, header.version, ctx):
                action = bool(FILE_ACTION_RE.search(record.function))
                if action or everything:
                    yield self._event(record, action, area, revealer, base, times)
            area.report(ctx)
            times.report(ctx)
        finally:
            handle.close()

    @staticmethod
    def _event(record: OdlRecord, action: bool, area: RecordArea, revealer: Revealer,
               base: dict[str, Any], times: TimeReader) -> Event:
        logged = param_strings(record.params)
        strings = [revealer.reveal(s) for s in logged] if revealer.active else logged
        data: dict[str, Any] = {
            **base, "record_index": record.index, "record_offset": record.offset,
            "offset_in": area.unit, "code_file": record.code_file,
            "function": record.function, "flags": record.flags, "file_action": action,
            "strings": strings, "obfuscated": not revealer.active,
            "deobfuscated_with": list(revealer.used), "params_size": len(record.params),
        }
        if strings != logged:
            data["strings_as_logged"] = logged
        text = _one_line("; ".join(strings))
        if len(text) > MAX_MESSAGE_TEXT:
            text = text[:MAX_MESSAGE_TEXT] + "..."
        folder = base["log_folder"] or "logs"
        message = f"OneDrive log ({folder}): {record.code_file} {record.function}"
        stamp = times.millis("record time", record.timestamp_ms)
        return Event(stamp, "Logged", f"{message}: {text}" if text else message, data)


def _folder_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else None


__all__ = ["OneDriveOdl", "OdlHeader", "OdlRecord", "RecordArea", "Revealer",
           "decode_data", "iter_records", "param_strings", "parse_header",
           "parse_keystore", "parse_obfuscation_map"]
