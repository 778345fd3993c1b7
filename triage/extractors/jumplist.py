"""Windows Jump Lists (Windows 7 and later): files and places a user opened, per application.

Formats (libyal dtformats "Jump lists format"; shell links per [MS-SHLLINK], read by `lnk`):

`Recent\\AutomaticDestinations\\<AppID>.automaticDestinations-ms` (extractor "jumplist_auto"):
an OLE compound file (read with libolecf, pyolecf) holding a `DestList` stream and one shell
link stream per entry, named by the entry number in lower-case hexadecimal. DestList: a 32-byte
header (uint32 format version: 1 on Windows 7/8, 3 and 4 on Windows 10/11; number of entries,
of pinned entries, last entry number, revision) and variable-size entries: 8-byte checksum,
droid volume / droid file / birth droid volume / birth droid file GUIDs, 16-byte NetBIOS host
name, uint32 entry number, FILETIME last access (UTC, 100 ns), int32 pin status (-1 = not
pinned, else the position among pinned items), from version 2 on a uint32 access count, then
the UTF-16LE path (lone surrogates are kept). A zero-byte DestList is an empty list.

`Recent\\CustomDestinations\\<AppID>.customDestinations-ms` (extractor "jumplist_custom"):
uint32 version 2, uint32 number of categories, uint32 0, then categories (type 0 custom with a
UTF-16LE name, 1 known: 1 "frequent" / 2 "recent", 2 tasks), each a list of entries (16-byte
class identifier, then for 00021401-0000-0000-C000-000000000046 a whole shell link) and a
uint32 footer 0xBABFFBAB. The shell link sizes are walked from their own structures; when a
category cannot be walked the rest of the file is searched for shell link headers (4C 00 00 00
+ the LNK class identifier); an error row names the offset.

Damage: a file that is not a jump list, or whose compound file libolecf cannot open, raises
ArtifactError. Parts that cannot be read (a stream, a truncated DestList entry, an embedded
shell link, a category) are reported with `ctx.error` (an error row; the other events are
kept); oddities (an unusual version, a count that does not match) with `ctx.warn`.

The AppID (the file name before the first dot) is mapped to an application name with
`lists/jumplist_appids.yaml` (the shipped list first, then the examiner's `--artifacts` lists,
later entries winning); `app_id()` computes an AppID from an application user model ID or a
KNOWNFOLDERID-normalised executable path.

Events, AutomaticDestinations:
    "Last Accessed"  one per DestList entry, at its FILETIME (None when 0). Data: app_id,
                     app_name, destlist_version, entry_number, mru_position (0 = most recent),
                     path, hostname, access_count (None in version 1, which has none), pinned,
                     pin_position, droid_volume_id, droid_file_id, birth_droid_volume_id,
                     birth_droid_file_id (None when all zero), mac_address and droid_file_time
                     (from a version 1 droid file GUID), stream (its shell link stream name),
                     mft_entry / mft_sequence (of the target, from the shell link's target ID
                     list: the DestList entry itself records none), and lnk (the shell link's
                     data as the "lnk" extractor gives it, or None when the stream is missing).
    "Target Created" / "Target Modified" / "Target Accessed" (or one untimed "Target Times Not
                     Set"): the embedded shell link's target times, as the "lnk" extractor gives
                     them, with app_id, app_name, jump_list "automatic", entry_number, stream.
Events, CustomDestinations: the target time events of every shell link, with app_id, app_name,
jump_list "custom", category (name, "frequent", "recent" or "tasks"), category_type (0, 1, 2),
entry_index (position in the file, from 0).
`user` is left to the engine (the profile the file lies in).
"""
from __future__ import annotations

import functools
import io
import re
import struct
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

import pyolecf
import yaml

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors.lnk import (
    LNK_CLSID,
    SIGNATURE,
    Link,
    Report,
    _reason,
    checked_filetime,
    droid_facts,
    link_size,
    read_link,
    target_events,
)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event

MAX_FILE_SIZE = 64 * 1024 * 1024  # real jump lists are at most a few MiB
MAX_STREAM_SIZE = 16 * 1024 * 1024
MAX_STREAMS = 10_000
MAX_CATEGORIES = 1_000
OLE_SIGNATURE = bytes.fromhex("d0cf11e0a1b11ae1")
CUSTOM_FOOTER = 0xBABFFBAB
APPID_LIST = "jumplist_appids.yaml"
_HEX_STREAM = re.compile(r"^[0-9a-f]+$", re.IGNORECASE)
_APPID = re.compile(r"^[0-9a-f]{16}$")
_KNOWN_CATEGORIES = {1: "frequent", 2: "recent"}


# ---------------------------------------------------------------------------- AppIDs


def _crc64_table() -> list[int]:
    poly = 0x92C64265D32139A4  # applied least significant bit first
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _crc64_table()


def app_id(name: str) -> str:
    """The AppID Windows derives from an application user model ID or a normalised path
    (e.g. "{F38BF404-1D43-42F2-9305-67DE0B28FC23}\\explorer.exe" -> "1b4dd67f29cb1962")."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in name.upper().encode("utf-16-le"):
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return f"{crc:016x}"


@functools.lru_cache(maxsize=32)
def _load_names(paths: tuple[str, ...]) -> tuple[dict[str, str], tuple[str, ...]]:
    names: dict[str, str] = {}
    problems: list[str] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                content = yaml.safe_load(handle)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(f"{path}: unreadable AppID list ({type(exc).__name__}); ignored")
            continue
        if content is None:
            continue
        if not isinstance(content, dict):
            problems.append(f"{path}: an AppID list must be a mapping of AppID to name; ignored")
            continue
        for key, value in content.items():
            if not isinstance(key, str) or not _APPID.match(key.lower()) \
                    or not isinstance(value, str):
                problems.append(f"{path}: entry {key!r} is not '<16 hex digits>: name' "
                                "(quote AppIDs made only of digits); ignored")
                continue
            names[key.lower()] = value.strip()
    return names, tuple(problems)


def app_names(ctx: ExtractionContext) -> dict[str, str]:
    names, problems = _load_names(tuple(ctx.list_files(APPID_LIST)))
    for problem in problems:
        ctx.warn(problem)
    return names


def _app(f: EvidenceFile, ctx: ExtractionContext) -> dict[str, Any]:
    stem = f.name.split(".", 1)[0].lower()
    return {"app_id": stem, "app_name": app_names(ctx).get(stem)}


def _label(app: dict[str, Any]) -> str:
    return app["app_name"] or f"AppID {app['app_id']}"


# ---------------------------------------------------------------------------- DestList


@dataclass
class DestEntry:
    offset: int
    entry_number: int
    path: str
    hostname: str | None
    last_access: int
    pin_status: int
    access_count: int | None
    droid_volume: str | None
    droid_file: str | None
    birth_droid_volume: str | None
    birth_droid_file: str | None


def _guid(raw: bytes) -> str | None:
    return None if raw == b"\0" * 16 else str(uuid.UUID(bytes_le=raw))


def parse_destlist(data: bytes, report: Report) -> tuple[int | None, list[DestEntry]]:
    """(format version, entries) of a DestList stream; (None, []) for an empty stream."""
    if not data:
        return None, []
    if len(data) < 32:
        raise ArtifactError(f"DestList stream of {len(data)} bytes is shorter than its 32-byte "
                            "header")
    version, count = struct.unpack_from("<II", data, 0)
    if version == 1:
        fixed = 114
    elif 2 <= version <= 9:
        fixed = 130
        if version not in (3, 4):
            report.warn(f"DestList format version {version} not seen before; read as version "
                        "3/4")
    else:
        raise ArtifactError(f"unsupported DestList format version {version}")
    entries: list[DestEntry] = []
    offset = 32
    while offset < len(data):
        if offset + fixed > len(data):
            report.error(f"DestList entry at offset {offset} is truncated ({len(data) - offset} "
                         "bytes left); ignored")
            break
        (chars,) = struct.unpack_from("<H", data, offset + fixed - 2)
        end = offset + fixed + 2 * chars
        if end > len(data):
            report.error(f"DestList entry at offset {offset}: its path runs past the end of the "
                         "stream; ignored")
            break
        host = data[offset + 72 : offset + 88].split(b"\0", 1)[0].decode("cp1252",
                                                                          errors="replace")
        number, _, _, last_access, pin = struct.unpack_from("<IIfQi", data, offset + 88)
        access_count = None
        if version >= 2:
            (access_count,) = struct.unpack_from("<I", data, offset + 116)
        entries.append(DestEntry(
            offset=offset,
            entry_number=number,
            path=data[offset + fixed : end].decode("utf-16-le", errors="surrogatepass"),
            hostname=host or None,
            last_access=last_access,
            pin_status=pin,
            access_count=access_count,
            droid_volume=_guid(data[offset + 8 : offset + 24]),
            droid_file=_guid(data[offset + 24 : offset + 40]),
            birth_droid_volume=_guid(data[offset + 40 : offset + 56]),
            birth_droid_file=_guid(data[offset + 56 : offset + 72]),
        ))
        offset = end + (4 if version >= 2 else 0)
    if len(entries) != count:
        report.warn(f"DestList header counts {count} entries, {len(entries)} read")
    return version, entries


# ---------------------------------------------------------------------------- OLE streams


def _read_streams(raw: bytes, report: Report) -> dict[str, bytes]:
    """Every stream directly under the root storage, by name (bounded in number and size)."""
    if raw[:8] != OLE_SIGNATURE:
        raise ArtifactError("not an OLE compound file (no D0 CF 11 E0 signature)")
    ole = pyolecf.file()
    try:
        ole.open_file_object(io.BytesIO(raw))
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"unreadable OLE compound file: {_reason(exc)}") from None
    streams: dict[str, bytes] = {}
    try:
        root = ole.root_item
        count = root.number_of_sub_items if root is not None else 0
        if count > MAX_STREAMS:
            report.error(f"{count} items in the compound file; only the first {MAX_STREAMS} "
                         "read")
        for index in range(min(count, MAX_STREAMS)):
            try:
                item = root.get_sub_item(index)
                name = item.name or ""
                if not isinstance(item, pyolecf.stream):
                    continue
                size = item.size
            except (OSError, ValueError, TypeError) as exc:
                report.error(f"directory entry {index} unreadable: {_reason(exc)}")
                continue
            if size > MAX_STREAM_SIZE:
                report.error(f"stream {name!r} of {size} bytes is too large; skipped")
                continue
            try:
                streams[name] = item.read_buffer(size) if size else b""
            except (OSError, ValueError, MemoryError) as exc:
                report.error(f"stream {name!r} unreadable: {_reason(exc)}")
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"unreadable OLE compound file: {_reason(exc)}") from None
    finally:
        try:
            ole.close()
        except (OSError, ValueError):
            pass
    return streams


def _read_file(f: EvidenceFile) -> bytes:
    with f.open() as handle:
        raw = handle.read(MAX_FILE_SIZE + 1)
    if not raw:
        raise ArtifactError("empty file")
    if len(raw) > MAX_FILE_SIZE:
        raise ArtifactError("file too large to be a jump list (over 64 MiB)")
    return raw


def _destlist_data(entry: DestEntry, version: int, app: dict[str, Any], position: int,
                   link: Link | None) -> dict[str, Any]:
    mac, droid_time = droid_facts(entry.droid_file)
    lnk = dict(link.data) if link else None
    return {
        **app,
        "destlist_version": version,
        "entry_number": entry.entry_number,
        "mru_position": position,
        "path": entry.path,
        "hostname": entry.hostname,
        "access_count": entry.access_count,
        "pinned": entry.pin_status >= 0,
        "pin_position": entry.pin_status if entry.pin_status >= 0 else None,
        "droid_volume_id": entry.droid_volume,
        "droid_file_id": entry.droid_file,
        "birth_droid_volume_id": entry.birth_droid_volume,
        "birth_droid_file_id": entry.birth_droid_file,
        "mac_address": mac,
        "droid_file_time": droid_time.iso() if droid_time else None,
        "stream": f"{entry.entry_number:x}",
        "mft_entry": lnk.get("mft_entry") if lnk else None,
        "mft_sequence": lnk.get("mft_sequence") if lnk else None,
        "lnk": lnk,
    }


def _destlist_message(app: dict[str, Any], entry: DestEntry) -> str:
    notes = [f"entry {entry.entry_number}"]
    if entry.access_count is not None:
        notes.append("1 access" if entry.access_count == 1 else f"{entry.access_count} accesses")
    if entry.pin_status >= 0:
        notes.append("pinned")
    if entry.hostname:
        notes.append(f"host {entry.hostname}")
    path = entry.path or "(no path recorded)"
    return f"Jump List ({_label(app)}): {path} last accessed ({', '.join(notes)})"


@register
class AutomaticDestinationsExtractor(Extractor):
    name = "jumplist_auto"
    family = "recent_files"
    description = "Jump List AutomaticDestinations (DestList v1/v3/v4 and embedded shell links)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        report = Report.for_file(f, ctx)
        streams = _read_streams(_read_file(f), report)
        app = _app(f, ctx)
        link_names = sorted((n for n in streams if _HEX_STREAM.match(n)), key=lambda n: int(n, 16))
        if "DestList" not in streams:
            if not link_names:
                raise ArtifactError("no DestList stream: not an automatic destinations jump list")
            report.error("no DestList stream; only the shell link streams are read")

        links: dict[str, Link] = {}
        for name in link_names:
            try:
                links[name.lower()] = read_link(streams[name], report.within(f"stream {name}: "))
            except ArtifactError as exc:
                report.error(f"stream {name}: {exc}")

        version, entries = parse_destlist(streams.get("DestList", b""), report)
        present = {name.lower() for name in link_names}
        for position, entry in enumerate(entries):
            stream = f"{entry.entry_number:x}"
            link = links.get(stream)
            if link is None and stream not in present:
                report.warn(f"DestList entry {entry.entry_number} has no shell link stream")
            yield Event(
                timestamp=checked_filetime(entry.last_access, report.warn,
                                           f"DestList entry {entry.entry_number} access time"),
                timestamp_desc="Last Accessed",
                message=_destlist_message(app, entry),
                data=_destlist_data(entry, version or 0, app, position, link),
                user=None,
            )

        for name in link_names:
            link = links.get(name.lower())
            if link is None:
                continue
            extra = {**app, "jump_list": "automatic", "entry_number": int(name, 16),
                     "stream": name}
            message = f"Jump List ({_label(app)}) entry {int(name, 16)}: shortcut to " \
                      f"{link.describe()}"
            yield from target_events(link, message, extra)


# ---------------------------------------------------------------------------- Custom


@dataclass
class _Found:
    offset: int
    raw: bytes
    category: str | None
    category_type: int | None


class _Malformed(Exception):
    pass


def _u32(raw: bytes, pos: int) -> int:
    if pos + 4 > len(raw):
        raise _Malformed("ends inside a category")
    return struct.unpack_from("<I", raw, pos)[0]


def _walk(raw: bytes, found: list[_Found]) -> int:
    """Walk the categories; returns where parsing stopped (raises _Malformed with `.pos`)."""
    count = _u32(raw, 4)
    if count > MAX_CATEGORIES:
        raise _Malformed(f"implausible number of categories ({count})")
    pos = 12
    for _ in range(count):
        start = pos
        try:
            kind = _u32(raw, pos)
            pos += 4
            name: str | None
            if kind == 0:
                if pos + 2 > len(raw):
                    raise _Malformed("ends inside a category name")
                (chars,) = struct.unpack_from("<H", raw, pos)
                pos += 2
                if pos + 2 * chars > len(raw):
                    raise _Malformed("category name runs past the end of the file")
                name = raw[pos : pos + 2 * chars].decode("utf-16-le", errors="surrogatepass")
                pos += 2 * chars
                entries = _u32(raw, pos)
                pos += 4
            elif kind == 1:
                known = _u32(raw, pos)
                pos += 4
                name, entries = _KNOWN_CATEGORIES.get(known, f"known category {known}"), 0
            elif kind == 2:
                name = "tasks"
                entries = _u32(raw, pos)
                pos += 4
            else:
                raise _Malformed(f"unknown category type {kind}")
            for _ in range(entries):
                if raw[pos : pos + 16] != LNK_CLSID:
                    clsid = raw[pos : pos + 16]
                    text = str(uuid.UUID(bytes_le=clsid)) if len(clsid) == 16 else "(truncated)"
                    raise _Malformed(f"entry of unsupported class {text}")
                size = link_size(raw, pos + 16)
                if size is None:
                    raise _Malformed("shell link runs past the end of the file")
                found.append(_Found(pos + 16, raw[pos + 16 : pos + 16 + size], name, kind))
                pos += 16 + size
            if _u32(raw, pos) != CUSTOM_FOOTER:
                raise _Malformed("category does not end with the 0xBABFFBAB footer")
            pos += 4
        except _Malformed as exc:
            exc.pos = start  # type: ignore[attr-defined]
            raise
    return pos


def _scan(raw: bytes, start: int, found: list[_Found], report: Report) -> None:
    """Every shell link header after `start` (each link cut at the next one, at most)."""
    offsets = []
    pos = raw.find(SIGNATURE, start)
    while pos >= 0 and len(offsets) < MAX_STREAMS:
        offsets.append(pos)
        pos = raw.find(SIGNATURE, pos + len(SIGNATURE))
    if pos >= 0:
        report.error(f"more than {MAX_STREAMS} shell links; those from offset {pos} on ignored")
    for index, offset in enumerate(offsets):
        limit = offsets[index + 1] if index + 1 < len(offsets) else len(raw)
        size = link_size(raw, offset, limit)
        found.append(_Found(offset, raw[offset : offset + size] if size else raw[offset:limit],
                            None, None))


def parse_custom(raw: bytes, report: Report) -> list[_Found]:
    if len(raw) < 12:
        raise ArtifactError(f"truncated custom destinations file ({len(raw)} bytes, the header "
                            "alone is 12)")
    (version,) = struct.unpack_from("<I", raw, 0)
    found: list[_Found] = []
    if version != 2:
        if raw.find(SIGNATURE) < 0:
            raise ArtifactError(f"not a custom destinations file (version {version}, no shell "
                                "links)")
        report.warn(f"custom destinations format version {version} (expected 2); shell links "
                    "found by signature")
        _scan(raw, 12, found, report)
        return found
    try:
        end = _walk(raw, found)
    except _Malformed as exc:
        pos = getattr(exc, "pos", 12)
        report.error(f"custom destinations damaged in the category at offset {pos}: {exc}; the "
                     "rest of the file is searched for shell links")
        resume = max([pos] + [item.offset + len(item.raw) for item in found])
        _scan(raw, resume, found, report)
        return found
    if end != len(raw):
        report.warn(f"{len(raw) - end} bytes after the last category")
    return found


@register
class CustomDestinationsExtractor(Extractor):
    name = "jumplist_custom"
    family = "recent_files"
    description = "Jump List CustomDestinations (categories of shell links)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        report = Report.for_file(f, ctx)
        raw = _read_file(f)
        app = _app(f, ctx)
        for index, item in enumerate(parse_custom(raw, report)):
            try:
                link = read_link(item.raw, report.within(f"shell link at offset {item.offset}: "))
            except ArtifactError as exc:
                report.error(f"shell link at offset {item.offset}: {exc}")
                continue
            extra = {**app, "jump_list": "custom", "category": item.category,
                     "category_type": item.category_type, "entry_index": index}
            where = f" {item.category}" if item.category else ""
            message = f"Jump List ({_label(app)}){where}: shortcut to {link.describe()}"
            yield from target_events(link, message, extra)


__all__ = ["app_id", "parse_custom", "parse_destlist"]
