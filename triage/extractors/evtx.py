"""Windows XML event logs (`C:\\Windows\\System32\\winevt\\Logs\\*.evtx`, Vista and later).

Format: EVTX, documented in the libyal libevtx paper "Windows XML Event Log (EVTX) format" and
Microsoft's [MS-EVEN6] (binary XML); read with libevtx (pyevtx). A 4096-byte file header
("ElfFile\\0", CRC32) and 64 KiB chunks ("ElfChnk\\0", CRC32s of the header and of the records),
each holding records of binary XML built from templates. libevtx also returns "recovered"
records found in a chunk's slack or in damaged chunks. The old Windows NT to XP/2003 format
(`.evt`, "LfLe" records) is not read by this extractor.

Which records go on the timeline: by default only those of the curated catalogue
(triage/evtx_catalog.py: logons, account changes, log clearing, service installs, USB and
other devices, remote desktop, PowerShell script blocks, Sysmon...); with the extractor option
`evtx_all` (`triage run --evtx-all`) every record, the uncatalogued ones as "Event Logged".

Times: the event's time is System/TimeCreated@SystemTime, a FILETIME (UTC, 100 ns, seven
digits), when the record has it (from libevtx, or parsed from the record's XML). A record
without it is placed at the record header's written time (a FILETIME too, when the record was
written to the log) and says so in `time_source` "written"; `written_time` (ISO 8601) is kept
in the data whenever it differs from TimeCreated. No other time is used.

Event data, always: channel, provider (System/Provider@Name), event_id, record_number
(EventRecordID), level, computer, user_sid (System/Security@UserID or None), recovered (True
for records libevtx recovered from slack or damaged chunks),
    damaged_chunk (only when True: the chunk whose header claims the record's identifier fails
    its CRC32 checks, so the record may have been damaged or edited after Windows wrote it).
Then the record's fields:
    catalogued events: the fields the catalogue entry lists, as Windows named them in
        EventData (`<Data Name=..>`) or UserData (leaf elements; attributes of the UserData
        wrapper by name, of inner elements as Element_attribute), and its derived values
        (e.g. logon_type_name, status_name, connected, script_sha256);
    other events (evtx_all): every named field; `strings`, the unnamed EventData values in
        order (placeholders {1}, {2}... in catalogue messages); `binary`, the EventData
        Binary as hex. A field whose name clashes with the keys above is kept as `field_NAME`.
Text values longer than 32,768 characters are cut and listed in `truncated_fields`.
PowerShell 4104 keeps ScriptBlockText cut to 4 KiB of UTF-8, with script_length (characters)
and script_sha256 (of the whole text in UTF-8).
`user`: the account the catalogue names for the event (e.g. the target of a logon), else the
account of user_sid (a name when the system's profile list knows the SID, else the SID).

Damage: a truncated file (fewer bytes than the chunks its header counts, or a partial last
chunk), a file libevtx flags as corrupted, chunks failing their checks, unreadable records and
a file header checksum mismatch give warnings; the readable records are still returned. A
file that is not EVTX, or that libevtx cannot open at all, is an ArtifactError.

Speed: records are read by triage/evtx_fast.py (a pure-Python chunk reader with a template
cache: this extractor became about four times faster) wherever it reads a chunk exactly as
libevtx does; a damaged or unusual chunk is read through libevtx (counted in a note), and
recovered records and libevtx's view of damage come from libevtx as before (libevtx is not
even opened for a clean file). The extractor option `evtx_fast` False reads everything
through libevtx. Either way each record becomes the same neutral view (event id, provider,
channel at once, then details()), so all that follows is shared.
"""
from __future__ import annotations

import hashlib
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any, Iterator

import pyevtx

from triage import evtx_catalog, evtx_fast
from triage.evtx_catalog import Entry
from triage.evtx_fast import MAX_FIELDS, put_field
from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import FILETIME_EPOCH_DELTA, ArtifactError, Event, Timestamp, filetime

_FILE_HEADER = 4096
_CHUNK = 0x10000
_MAX_XML_CHARS = 4 * 1024 * 1024  # a record is at most a 64 KiB chunk; its XML stays far below
_MAX_VALUE_CHARS = 32768
_SCRIPT_BYTES = 4096
_MAX_MESSAGE_CHARS = 2048
_MAX_FILETIME = 2650467743999999999  # 9999-12-31T23:59:59.9999999Z
# what libevtx and a damaged record can raise while one record is read: that record is skipped
_RECORD_ERRORS = (OSError, ValueError, TypeError, UnicodeError, MemoryError, OverflowError)

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_]+)\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")
_SPACES = re.compile(r"\s+")
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e]")


def _reason(exc: BaseException) -> str:
    """libevtx's error chain cut to its innermost cause."""
    text = " ".join(str(exc).split())
    parts = [part.strip() for part in text.split(". ") if part.strip()]
    cause = parts[-1] if parts else type(exc).__name__
    if ": " in cause:
        cause = cause.split(": ", 1)[1]
    return cause.rstrip(".")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_xml(text: str | None) -> ET.Element | None:
    """The record's XML (libevtx's rendering), bounded; None when absent or unparsable."""
    if not text or len(text) > _MAX_XML_CHARS or "<!DOCTYPE" in text or "<!ENTITY" in text:
        return None
    try:
        return ET.fromstring(text)
    except ET.ParseError:
        try:
            return ET.fromstring(_INVALID_XML.sub("", text))
        except ET.ParseError:
            return None


def _payload(root: ET.Element) -> tuple[dict[str, Any], list[str], str | None]:
    """(named fields, unnamed EventData strings, Binary hex) of EventData or UserData."""
    fields: dict[str, Any] = {}
    strings: list[str] = []
    binary: str | None = None
    for part in root:
        kind = _local(part.tag)
        if kind == "EventData":
            for item in part:
                name = _local(item.tag)
                text = item.text or ""
                if name == "Data":
                    key = item.get("Name")
                    if key:
                        put_field(fields, key, text)
                    elif len(strings) < MAX_FIELDS:
                        strings.append(text)
                elif name == "Binary":
                    binary = text.strip() or None
                else:
                    put_field(fields, name, text)
        elif kind == "UserData":
            for wrapper in part:
                for key, value in wrapper.attrib.items():
                    put_field(fields, _local(key), value)
                for node in wrapper.iter():
                    if node is wrapper:
                        continue
                    name = _local(node.tag)
                    for key, value in node.attrib.items():
                        put_field(fields, f"{name}_{_local(key)}", value)
                    if len(node) == 0:
                        put_field(fields, name, node.text or "")
        elif kind == "BinaryEventData":
            binary = (part.text or "").strip() or None
    return fields, strings, binary


def _system_time(root: ET.Element | None) -> Timestamp | None:
    """System/TimeCreated@SystemTime from the XML; FILETIME precision (7 digits) kept."""
    if root is None:
        return None
    for part in root:
        if _local(part.tag) != "System":
            continue
        for item in part:
            if _local(item.tag) == "TimeCreated" and item.get("SystemTime"):
                return evtx_fast.parse_system_time(item.get("SystemTime", ""))
    return None


def _present(value: Any) -> bool:
    if value.__class__ is str:  # the usual case first
        return value.strip() not in ("", "-")
    if value is None:
        return False
    if isinstance(value, list):
        return any(_present(v) for v in value)
    return str(value).strip() not in ("", "-")


def _show(value: Any) -> str:
    if value.__class__ is str:  # the usual case first
        return value if value.strip() else "-"
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or str(value).strip() == "":
        return "-"
    return str(value)


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a catalogue template: `{Name}` from values, `[...]` only when all its names are set.

    Each template is split once into text and names (_compile): rendering runs for every kept
    record, and two regular-expression passes with callbacks cost more than the record."""
    return _renderer(template)(values)


def _renderer(template: str) -> Any:
    """render() for one template (compiled once)."""
    renderer = _RENDERERS.get(template)
    if renderer is None:
        renderer = _RENDERERS[template] = _compile(template)
    return renderer


def _render_slowly(template: str, values: dict[str, Any]) -> str:
    """The definition of render(): optional segments first, then every placeholder."""

    def optional(match: re.Match) -> str:
        segment = match.group(1)
        names = _PLACEHOLDER.findall(segment)
        return segment if all(_present(values.get(n)) for n in names) else ""

    return _clean(_PLACEHOLDER.sub(lambda m: _show(values.get(m.group(1))),
                                   _OPTIONAL.sub(optional, template)))


_RENDERERS: dict[str, Any] = {}
_ENTRIES: dict[tuple[Any, ...], "_Kind | None"] = {}  # evtx_catalog.lookup's answers
_NOT_LOOKED_UP = object()


def _split(text: str) -> list[tuple[bool, str]] | None:
    """(is a name, text) pieces; None when a brace is not part of a placeholder (it could pair
    with another once an optional segment is dropped: left to _render_slowly)."""
    pieces: list[tuple[bool, str]] = []
    last = 0
    for match in _PLACEHOLDER.finditer(text):
        pieces += [(False, text[last:match.start()]), (True, match.group(1))]
        last = match.end()
    pieces.append((False, text[last:]))
    if any(not name and ("{" in piece or "}" in piece) for name, piece in pieces):
        return None
    return pieces


def _compile(template: str) -> Any:
    """render() for one template, with the same result as _render_slowly."""
    parts: list[tuple[Any, ...]] = []  # ("text", pieces) or ("optional", names, pieces)
    last = 0
    for match in _OPTIONAL.finditer(template):
        before, inner = _split(template[last:match.start()]), _split(match.group(1))
        if before is None or inner is None:
            return lambda values: _render_slowly(template, values)
        parts += [("text", before), ("optional", [p for n, p in inner if n], inner)]
        last = match.end()
    rest = _split(template[last:])
    if rest is None:
        return lambda values: _render_slowly(template, values)
    parts.append(("text", rest))
    if all(part[0] == "text" and not any(name for name, _ in part[1]) for part in parts):
        constant = _clean(template)
        return lambda values: constant
    # straight-line code: each name read once, optional segments as conditions
    variables: dict[str, str] = {}
    for part in parts:
        for name, piece in part[-1]:
            if name:
                variables.setdefault(piece, f"v{len(variables)}")
    lines = ["def renderer(values):", "    get = values.get"]
    lines += [f"    {var} = get({name!r})" for name, var in variables.items()]

    # _show and _present with their usual case (a text) inline: they ran about six times a
    # catalogued record
    def show(var: str) -> str:
        return f"({var} if {var}.__class__ is str and {var}.strip() else _show({var}))"

    def present(var: str) -> str:
        return (f"({var}.strip() not in ('', '-') if {var}.__class__ is str "
                f"else _present({var}))")

    def joined(pieces: list[tuple[bool, str]]) -> str:
        return " + ".join(show(variables[piece]) if name else repr(piece)
                          for name, piece in pieces if name or piece) or "''"

    lines.append("    out = ''")
    for part in parts:
        if part[0] == "optional":
            condition = " and ".join(present(variables[n]) for n in part[1]) or "True"
            lines.append(f"    if {condition}:")
            lines.append(f"        out += {joined(part[-1])}")
        else:
            lines.append(f"    out += {joined(part[-1])}")
    lines.append("    return _clean(out)")
    names = {"_show": _show, "_present": _present, "_clean": _clean}
    exec("\n".join(lines), names)  # noqa: S102 - code made here from repr()'d template parts
    return names["renderer"]


def _clean(text: str) -> str:
    """One line: whitespace runs to one space, direction marks dropped, length bounded."""
    if text.isprintable() and "  " not in text:
        # no whitespace but single spaces, no direction marks (Cf): nothing to replace
        return text.strip()[:_MAX_MESSAGE_CHARS]
    return _SPACES.sub(" ", _BIDI.sub("", text)).strip()[:_MAX_MESSAGE_CHARS]


def _account(domain: Any, user: Any) -> str | None:
    if not _present(user):
        return None
    return f"{domain}\\{user}" if _present(domain) else str(user)


def _int(value: Any) -> int | None:
    if not isinstance(value, str):
        return value if isinstance(value, int) else None
    text = value.strip()
    try:
        return int(text, 16) if text[:2] in ("0x", "0X") else int(text)
    except ValueError:
        return None


def _status_name(value: Any) -> str | None:
    number = _int(value)
    if number is None:
        return None
    return evtx_catalog.NTSTATUS_NAMES.get(f"0X{number & 0xFFFFFFFF:08X}")


def _derive(entry: Entry, values: dict[str, Any]) -> None:
    """Add the derived values the entry asks for (see evtx_catalog.DERIVED)."""
    for name in entry.derive:
        if name == "accounts":
            values["target"] = _account(values.get("TargetDomainName"),
                                        values.get("TargetUserName"))
            values["subject"] = _account(values.get("SubjectDomainName"),
                                         values.get("SubjectUserName"))
        elif name == "source":
            for key in ("IpAddress", "WorkstationName"):
                if _present(values.get(key)):
                    values["source"] = values[key]
                    break
        elif name == "logon_type":
            number = _int(values.get("LogonType"))
            values["logon_type_name"] = evtx_catalog.LOGON_TYPES.get(number, "unknown") \
                if number is not None else None
        elif name == "status":
            values["status_name"] = _status_name(values.get("Status")) or "unknown status"
            values["sub_status_name"] = _status_name(values.get("SubStatus"))
        elif name == "disk":
            capacity = _int(values.get("Capacity"))
            connected = bool(capacity)
            table = _int(values.get("PartitionTableBytes"))
            values["connected"] = connected
            values["partition_table_present"] = bool(table) if table is not None \
                else _present(values.get("PartitionTable"))
            values["disk_state"] = "connected" if connected else "disconnected"
            values["disk_event"] = "Connected" if connected else "Disconnected"
        elif name == "script":
            text = values.get("ScriptBlockText")
            text = "\n".join(text) if isinstance(text, list) else (text or "")
            raw = text.encode("utf-8", "surrogatepass")
            cut = raw[:_SCRIPT_BYTES].decode("utf-8", "ignore")
            values["ScriptBlockText"] = cut
            values["script_length"] = len(text)
            values["script_sha256"] = hashlib.sha256(raw).hexdigest()
            values["script_truncated"] = len(raw) > _SCRIPT_BYTES
            values["script_preview"] = _SPACES.sub(" ", text).strip()[:200] or "-"


def _bounded(value: Any, name: str, cut: list[str]) -> Any:
    if isinstance(value, str) and len(value) > _MAX_VALUE_CHARS:
        cut.append(name)
        return value[:_MAX_VALUE_CHARS]
    if isinstance(value, list):
        return [_bounded(v, name, cut) for v in value[:MAX_FIELDS]]
    return value


def _check_header(f: EvidenceFile, head: bytes, ctx: ExtractionContext) -> None:
    if len(head) >= 8 and head[4:8] == b"LfLe":
        raise ArtifactError("legacy Windows event log (.evt, NT to XP/2003): not an EVTX file")
    if head[:8] != b"ElfFile\x00":
        raise ArtifactError("not an EVTX file (no ElfFile signature)")
    if len(head) < 128:
        raise ArtifactError(f"truncated EVTX file ({len(head)} bytes, header is 128)")
    (stored,) = struct.unpack_from("<I", head, 124)
    if zlib.crc32(head[:120]) != stored:
        ctx.warn("EVTX file header checksum mismatch (header damaged or edited)")
    (chunks,) = struct.unpack_from("<H", head, 42)
    expected = _FILE_HEADER + chunks * _CHUNK
    if f.size < expected:
        whole = max(0, (f.size - _FILE_HEADER) // _CHUNK)
        ctx.warn(f"truncated EVTX file: header counts {chunks} chunks ({expected} bytes), the "
                 f"file has {f.size} bytes ({whole} whole chunks); records past the end are lost")
    elif f.size > _FILE_HEADER and (f.size - _FILE_HEADER) % _CHUNK:
        ctx.warn(f"EVTX file size {f.size} is not a whole number of 64 KiB chunks: the last, "
                 "partial chunk is not read")


def _damaged_chunks(handle: Any, chunks: int, ctx: ExtractionContext) -> list[tuple[int, int]]:
    """Record identifier ranges of the chunks (of the `chunks` the header counts) whose
    signature or CRC32s do not hold. libevtx does not say which chunk a record came from, so
    a record is matched to a chunk by the identifier range in the chunk header."""
    damaged: list[int] = []
    ranges: list[tuple[int, int]] = []
    for index in range(chunks):
        handle.seek(_FILE_HEADER + index * _CHUNK)
        chunk = handle.read(_CHUNK)
        if len(chunk) < _CHUNK:
            break  # the truncation is reported from the header check
        if chunk[:8] != b"ElfChnk\x00":
            damaged.append(index)
            continue
        header_crc, = struct.unpack_from("<I", chunk, 124)
        free, records_crc = struct.unpack_from("<II", chunk, 48)
        if zlib.crc32(chunk[:120] + chunk[128:512]) != header_crc or \
                zlib.crc32(chunk[512:min(max(free, 512), _CHUNK)]) != records_crc:
            damaged.append(index)
            first, last = struct.unpack_from("<QQ", chunk, 24)
            if first <= last < first + _CHUNK:
                ranges.append((first, last))
    if damaged:
        listed = ", ".join(str(i) for i in damaged[:10])
        more = f" and {len(damaged) - 10} more" if len(damaged) > 10 else ""
        ctx.warn(f"{len(damaged)} EVTX chunks fail their signature or checksum check (chunk "
                 f"{listed}{more}): their records are marked damaged_chunk")
    return ranges


@register
class EvtxExtractor(Extractor):
    name = "evtx"
    family = "eventlog"
    description = ("Windows XML event logs (.evtx): curated catalogue of events (logons, "
                   "services, devices, RDP, PowerShell, Sysmon...); --evtx-all for every record")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        everything = bool(ctx.options.get("evtx_all"))
        handle = f.open()
        try:
            head = handle.read(_FILE_HEADER)
            _check_header(f, head, ctx)
            damaged = _damaged_chunks(handle, struct.unpack_from("<H", head, 42)[0], ctx)
            fast = None
            if ctx.options.get("evtx_fast", True):
                fast = evtx_fast.FileReader(handle, f.size, head)
                if fast.libevtx_only:
                    fast = None
            reading = _Reading(self, handle, ctx, everything, damaged)
            try:
                if fast is None:
                    reading.open()
                    yield from reading.libevtx_records(0, reading.count)
                else:
                    yield from reading.fast_records(fast)
                yield from reading.finish()
            finally:
                reading.close()
        finally:
            handle.close()

    def _event(self, view: Any, ctx: ExtractionContext, everything: bool, recovered: bool,
               damaged: list[tuple[int, int]]) -> Event | None:
        """One record (a _LibevtxView or an evtx_fast.FastRecord) as an Event, or None when it
        is not catalogued and evtx_all is off."""
        event_id = view.event_id
        provider = view.provider
        channel = view.channel
        key = (provider, event_id) if provider else (None, channel, event_id)
        kind = _ENTRIES.get(key, _NOT_LOOKED_UP)  # (one lookup per kind of record)
        if kind is _NOT_LOOKED_UP:
            if len(_ENTRIES) > 10000:
                _ENTRIES.clear()
            found = evtx_catalog.lookup(provider, channel, event_id)
            kind = _ENTRIES[key] = _Kind(found) if found is not None else None
        if kind is None and not everything:
            return None
        entry = kind.entry if kind is not None else None

        (channel_xml, created, system_time, written_raw, user_sid, fields, strings, binary,
         identifier, level, computer) = view.details(_payload)
        if not channel:
            channel = channel_xml
        # (_filetime, inline: this runs for every record)
        stamp = Timestamp((created - FILETIME_EPOCH_DELTA) * 100, 7) \
            if created and created <= _MAX_FILETIME else system_time
        written_set = bool(written_raw) and written_raw <= _MAX_FILETIME  # _filetime not None
        values: dict[str, Any] = {}  # what the catalogue entry reads (none without an entry)
        if entry is not None:
            if fields and not entry.keep_all:
                # {"strings": .., "binary": .., **fields} without the copy: the fields are
                # this record's own dict, and only keep_all reads them again (below)
                values = fields
                if "strings" not in values:
                    values["strings"] = strings or None
                if "binary" not in values:
                    values["binary"] = binary
            elif fields:
                values = {"strings": strings or None, "binary": binary, **fields}
            else:
                values = {"strings": strings or None, "binary": binary}
                values.update({str(n): s for n, s in enumerate(strings, 1)})

        data: dict[str, Any] = {
            "channel": channel,
            "provider": provider,
            "event_id": event_id,
            "record_number": identifier,
            "level": level,
            "computer": computer,
            "user_sid": user_sid,
            "recovered": recovered,
        }
        if damaged and any(first <= identifier <= last for first, last in damaged):
            data["damaged_chunk"] = True
        if stamp is None and written_set:
            stamp = _filetime(written_raw)
            data["time_source"] = "written"
        elif written_set and stamp is not None and \
                (written_raw - FILETIME_EPOCH_DELTA) * 100 != stamp.ns:
            data["written_time"] = _filetime(written_raw).iso()  # type: ignore[union-attr]

        cut: list[str] = []
        if entry is not None:
            _derive(entry, values)
            for name in entry.ints:
                number = _int(values.get(name))
                if number is not None:
                    values[name] = number
            desc = kind.desc(values)  # type: ignore[union-attr]
            message = kind.message(values)  # type: ignore[union-attr]
            kind.fill(values.get, data, cut)  # type: ignore[union-attr]  # listed values, in order
            if entry.keep_all:  # then the payload's other fields
                listed = set(entry.fields)
                for name in fields:
                    if name not in listed:
                        value = values[name]  # (as derived: ints, the cut script)
                        key = name if name not in data else f"field_{name}"
                        data[key] = value if name == "ScriptBlockText" else \
                            _bounded(value, name, cut)
        else:
            desc = "Event Logged"
            kept: Any = fields.items()
            shown = _plain_shown(fields) if fields and not binary else None
            if shown is not None and data.keys().isdisjoint(fields):
                message = _generic_message(data, shown)
                data.update(fields)  # what the loop below gives such fields, at once
                kept = ()
            else:
                message = _generic_message(data, _shown(fields, strings))
                if (not fields and strings) or binary:
                    kept = list(kept)
                    if not fields and strings:
                        kept.append(("strings", strings))
                    if binary:
                        kept.append(("binary", binary))
            for name, value in kept:
                key = name if name not in data else f"field_{name}"
                if value.__class__ is str and len(value) <= _MAX_VALUE_CHARS:
                    data[key] = value
                else:
                    data[key] = _bounded(value, name, cut)
        if cut:
            data["truncated_fields"] = sorted(set(cut))

        user = self._user(entry, values) or ctx.user_for_sid(user_sid)
        return Event(stamp, desc, message, data, user)

    @staticmethod
    def _user(entry: Entry | None, values: dict[str, Any]) -> str | None:
        if entry is None or not entry.user:
            return None
        value = values.get(entry.user)
        return str(value) if _present(value) else None


class _Kind:
    """A catalogue entry with the code its records run made once: its two templates'
    renderers and the fill of its listed fields (what would else be looked up for every
    record)."""

    __slots__ = ("entry", "desc", "message", "fill")

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.desc = _renderer(entry.timestamp_desc)
        self.message = _renderer(entry.message)
        self.fill = _compile_fill(entry.fields)


# keys the event data may hold before the listed fields are put (a field of such a name is
# kept as field_NAME)
_DATA_KEYS = frozenset({"channel", "provider", "event_id", "record_number", "level", "computer",
                        "user_sid", "recovered", "damaged_chunk", "time_source", "written_time"})


def _fill_slowly(names: tuple[str, ...], get: Any, data: dict[str, Any], cut: list[str]) -> None:
    """The definition of a compiled fill: each listed name's value that is set, in order,
    as field_NAME where the data has the name already, bounded (ScriptBlockText is cut by
    _derive already, with its length and hash)."""
    for name in names:
        value = get(name)
        if value is None:
            continue
        key = name if name not in data else f"field_{name}"
        if value.__class__ is str and len(value) <= _MAX_VALUE_CHARS:
            data[key] = value  # what _bounded gives it (the usual case, made short)
        elif name == "ScriptBlockText":
            data[key] = value
        else:
            data[key] = _bounded(value, name, cut)


def _compile_fill(names: tuple[str, ...]) -> Any:
    """_fill_slowly for one catalogue entry's names as straight-line code (it runs for every
    catalogued record): the clash check kept only for names that can clash (a key above, a
    field_ name, a name listed twice)."""
    lines = ["def fill(get, data, cut):"]
    for name in names:
        quoted, other = repr(name), repr(f"field_{name}")
        lines += [f"    v = get({quoted})", "    if v is not None:"]
        if name in _DATA_KEYS or name.startswith("field_") or names.count(name) > 1:
            lines.append(f"        k = {quoted} if {quoted} not in data else {other}")
        else:
            lines.append(f"        k = {quoted}")
        lines.append(f"        if v.__class__ is str and len(v) <= {_MAX_VALUE_CHARS}:")
        lines.append("            data[k] = v")
        lines.append("        else:")
        lines.append("            data[k] = v" if name == "ScriptBlockText" else
                     f"            data[k] = _bounded(v, {quoted}, cut)")
    lines.append("    return None")
    scope = {"_bounded": _bounded}
    exec("\n".join(lines), scope)  # noqa: S102 - code made here from repr()'d names
    return scope["fill"]


def _shown(fields: dict[str, Any], strings: list[str]) -> list[str]:
    """The parts of an uncatalogued record's message: `name=value` of each field that is
    set, else the unnamed strings that are."""
    if fields:
        return [f"{k}={v}" if v.__class__ is str else f"{k}={_show(v)}"
                for k, v in fields.items() if _present(v)]
    return [s for s in strings if _present(s)]


def _plain_shown(fields: dict[str, Any]) -> list[str] | None:
    """_shown(fields, []) in one pass when every field is one text of at most
    _MAX_VALUE_CHARS (the usual payload, kept in the data as it is); else None."""
    shown = []
    for k, v in fields.items():
        if v.__class__ is not str or len(v) > _MAX_VALUE_CHARS:
            return None
        if v.strip() not in ("", "-"):  # _present(v)
            shown.append(f"{k}={v}")
    return shown


def _generic_message(data: dict[str, Any], shown: list[str]) -> str:
    """An uncatalogued record's message: channel, event id, provider and the parts shown."""
    head = f"{data['channel'] or '(no channel)'} event {data['event_id']} from " \
           f"{data['provider'] or '(no provider)'}"
    text = f"{head}: {'; '.join(shown)}" if shown else head
    if text.isprintable() and "  " not in text:  # _clean's usual case, without the call
        text = text.strip()[:_MAX_MESSAGE_CHARS]
    else:
        text = _clean(text)
    return text if len(text) < 500 else text[:497] + "..."


class _LibevtxView:
    """A libevtx record as the neutral view _event reads: the catalogue's keys at once, the
    rest in details() in the order the extractor always asked libevtx for them (so a record
    libevtx cannot read fails at the same point, with the same reason)."""

    __slots__ = ("record", "event_id", "provider", "channel")

    def __init__(self, record: Any) -> None:
        self.record = record
        self.event_id = record.event_identifier
        self.provider = record.source_name
        self.channel = record.channel_name if hasattr(record, "channel_name") else None

    def details(self, payload: Any) -> evtx_fast.Details:
        record = self.record
        root = _parse_xml(_optional(record, "get_xml_string"))
        channel_xml = _xml_system_text(root, "Channel") if root is not None else None
        created = _optional(record, "get_creation_time_as_integer")
        system_time = _system_time(root) if _filetime(created) is None else None
        written = record.get_written_time_as_integer()
        user_sid = record.user_security_identifier
        if root is not None:
            fields, strings, binary = payload(root)
        else:  # no XML: libevtx's strings are all there is
            fields, binary = {}, None
            strings = _strings(record)
        return (channel_xml, created, system_time, written, user_sid, fields, strings, binary,
                record.identifier, record.event_level, record.computer_name)


class _Failed:
    """A record _event could not turn into an event (counted with the unreadable ones)."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Reading:
    """One file's records in libevtx's order, from the fast reader chunk by chunk or from
    libevtx by record index. libevtx is opened when first needed: a chunk the fast reader
    leaves to it, recovered records, or the damage it reports.

    libevtx numbers records across the file; the fast reader says which records libevtx
    returns from each chunk (`live`), so a chunk read through libevtx is the index range after
    the records before it (read by index, so whatever libevtx has is read exactly once). A
    chunk the fast reader read, once libevtx is open, is only skipped over in that numbering
    after its first and last record (identifier and written time) are found there; otherwise
    the rest of the file is read through libevtx."""

    def __init__(self, extractor: EvtxExtractor, handle: Any, ctx: ExtractionContext,
                 everything: bool, damaged: list[tuple[int, int]]) -> None:
        self.extractor, self.handle, self.ctx = extractor, handle, ctx
        self.everything, self.damaged = everything, damaged
        self.evtx: Any = None
        self.count = self.recovered = 0
        self.corrupted = False
        self.read = self.failures = 0
        self.first_failure = ""
        self.seen: set[tuple[int, int]] = set()
        self.fast_live: list[list[tuple[int, int]]] = []  # read by the fast reader
        self.cursor = 0  # records taken so far, in libevtx's numbering

    def open(self) -> None:
        if self.evtx is not None:
            return
        self.handle.seek(0)
        evtx = pyevtx.file()
        try:
            evtx.open_file_object(self.handle)
        except (OSError, ValueError, TypeError, MemoryError) as exc:
            raise ArtifactError(f"unreadable EVTX file: {_reason(exc)}") from None
        self.evtx = evtx
        try:
            self.count = evtx.number_of_records
            self.recovered = evtx.number_of_recovered_records
            self.corrupted = evtx.is_corrupted()
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"unreadable EVTX file: {_reason(exc)}") from None

    def close(self) -> None:
        if self.evtx is not None:
            try:
                self.evtx.close()
            except (OSError, ValueError):
                pass

    def _fail(self, label: str, exc: BaseException) -> None:
        self.failures += 1
        self.first_failure = self.first_failure or f"{label}: {_reason(exc)}"

    def libevtx_records(self, start: int, stop: int) -> Iterator[Event]:
        """Records start..stop-1 of libevtx's numbering, read through libevtx."""
        for index in range(start, stop):
            try:
                record = self.evtx.get_record(index)
                self.seen.add((record.identifier, record.get_written_time_as_integer()))
                event = self.extractor._event(_LibevtxView(record), self.ctx, self.everything,
                                              False, self.damaged)
            except _RECORD_ERRORS as exc:
                self._fail(f"record {index}", exc)
                continue
            self.read += 1
            if event is not None:
                yield event
        self.cursor = max(self.cursor, stop)

    def _matches(self, index: int, key: tuple[int, int]) -> bool:
        """Whether libevtx reads record `index` and it is the one of this key."""
        try:
            record = self.evtx.get_record(index)
            return (record.identifier, record.get_written_time_as_integer()) == key
        except _RECORD_ERRORS:
            return False

    def _aligned(self, live: list[tuple[int, int]]) -> bool:
        """Whether libevtx's records from the cursor on are this chunk's records (first and
        last), as the fast reader read them: otherwise its events could differ."""
        if not live:
            return True
        last = self.cursor + len(live) - 1
        return last < self.count and self._matches(self.cursor, live[0]) and \
            self._matches(last, live[-1])

    def _open_after(self, last: tuple[int, int] | None) -> None:
        """Open libevtx where the fast reader has read records already: the record before the
        cursor must be the last of them (never seen to fail; a warning if it does)."""
        if self.evtx is not None:
            return
        self.open()
        if last is not None and not (self.cursor <= self.count and
                                     self._matches(self.cursor - 1, last)):
            self.ctx.warn(f"the fast EVTX reader and libevtx disagree on the records before "
                          f"record {self.cursor}")

    def _fast_chunk(self, chunk: evtx_fast.ChunkRead) -> list[Any] | None:
        """The event (or None, or the _Failed) of each record of a chunk the fast reader read;
        None when a record's details turn out to be beyond the fast reader (the chunk is then
        read through libevtx: nothing of it has been given out yet)."""
        event, ctx, everything, damaged = self.extractor._event, self.ctx, self.everything, \
            self.damaged
        out: list[Any] = []
        try:
            for record in chunk.records or ():
                try:
                    out.append(event(record, ctx, everything, False, damaged))
                except _RECORD_ERRORS as exc:
                    out.append(_Failed(exc))
        except evtx_fast.Unsupported:
            return None
        return out

    def _chunk_end(self, chunk: evtx_fast.ChunkRead) -> Iterator[Event]:
        """The record that ends at the chunk's last byte: libevtx never returns it (it wants
        four bytes after a record), so without the fast reader it would be lost. It is given
        outside libevtx's numbering (the cursor does not move) and marked in its data."""
        tail = chunk.tail
        try:
            event = self.extractor._event(tail, self.ctx, self.everything, False, self.damaged)
        except evtx_fast.Unsupported:
            self.ctx.warn(f"record {chunk.tail_id} ends at the last byte of chunk {chunk.index}: "
                          "libevtx does not return such a record and it could not be read here")
            return
        except _RECORD_ERRORS as exc:
            self._fail(f"record {chunk.tail_id} (at the end of chunk {chunk.index})", exc)
            return
        if event is not None:  # (None: not catalogued, and --evtx-all is off)
            self.ctx.note(f"record {chunk.tail_id} ends at the last byte of chunk "
                          f"{chunk.index}: libevtx does not return such a record; read by "
                          "triage's own reader (data.chunk_end_record)")
            event.data["chunk_end_record"] = True
            yield event

    def fast_records(self, reader: evtx_fast.FileReader) -> Iterator[Event]:
        """Chunk by chunk: the fast reader's records, or libevtx's index range for the chunk.

        Reading libevtx by index is contiguous, so whatever libevtx returns from a chunk left to
        it is read exactly once; a chunk the fast reader read is only skipped over in libevtx's
        numbering (when libevtx is open) after its first and last record are found there, else
        the rest of the file is read through libevtx."""
        fast = 0
        last: tuple[int, int] | None = None
        lost = False
        why = ""  # the first chunk left to libevtx, and why
        for chunk in reader.chunks():
            done = self._fast_chunk(chunk) if chunk.records is not None else None
            if done is None and not why:
                why = f"chunk {chunk.index}: {chunk.reason or 'a record the fast reader leaves'}"
            if done is not None:
                if self.evtx is not None and not self._aligned(chunk.live):
                    lost = True
                    break
                self.fast_live.append(chunk.live)  # for `seen`, if libevtx recovers records
                if any(result.__class__ is _Failed for result in done):
                    for offset, result in enumerate(done):
                        if result.__class__ is _Failed:
                            self._fail(f"record {self.cursor + offset}", result.error)
                            done[offset] = None
                        else:
                            self.read += 1
                else:
                    self.read += len(done)
                yield from filter(None, done)
                if chunk.tail is not None:
                    yield from self._chunk_end(chunk)
                self.cursor += len(chunk.live)
                last = chunk.live[-1] if chunk.live else last
                fast += 1
                continue
            if chunk.tail_id is not None:
                self.ctx.warn(f"record {chunk.tail_id} ends at the last byte of chunk "
                              f"{chunk.index}, which is read through libevtx: libevtx does not "
                              "return such a record, so it is missing from the timeline")
            self._open_after(last)
            stop = min(self.cursor + len(chunk.live), self.count)
            yield from self.libevtx_records(self.cursor, stop)
        if reader.needs_libevtx or lost:
            self._open_after(last)
        if self.evtx is not None:
            if lost or self.cursor < self.count:
                yield from self.libevtx_records(self.cursor, self.count)
            elif self.cursor > self.count:
                self.ctx.warn(f"the fast EVTX reader found {self.cursor} records, libevtx "
                              f"{self.count}")
        else:
            self.count = self.cursor
        if fast < reader.whole:  # the others (all after a disagreement) went to libevtx
            self.ctx.note(f"{reader.whole - fast} of {reader.whole} EVTX chunks read through "
                          f"libevtx (damaged or unusual for the fast reader; first {why})")

    def finish(self) -> Iterator[Event]:
        """Recovered records (libevtx's), then the warnings on what could not be read."""
        if self.recovered:
            for live in self.fast_live:
                self.seen.update(live)
        duplicates = 0
        for index in range(self.recovered):
            try:
                record = self.evtx.get_recovered_record(index)
                key = (record.identifier, record.get_written_time_as_integer())
                if key in self.seen:
                    duplicates += 1
                    continue
                self.seen.add(key)
                event = self.extractor._event(_LibevtxView(record), self.ctx, self.everything,
                                              True, self.damaged)
            except _RECORD_ERRORS as exc:
                self._fail(f"recovered record {index}", exc)
                continue
            if event is not None:
                yield event
        ctx = self.ctx
        if self.corrupted:
            ctx.warn(f"libevtx flags the EVTX file as corrupted (truncated or damaged chunks): "
                     f"{self.read} of {self.count} records read, {self.recovered} recovered")
        elif self.recovered:
            ctx.warn(f"{self.recovered} records recovered from slack or damaged chunks "
                     f"({duplicates} duplicates of live records skipped)")
        if self.failures:
            ctx.warn(f"{self.failures} unreadable EVTX records, e.g. {self.first_failure}")


def _filetime(value: int | None) -> Timestamp | None:
    """A FILETIME as a Timestamp; None when unset or past 9999-12-31 (no printable date)."""
    if not value or value > _MAX_FILETIME:
        return None
    return filetime(value)


def _optional(record: Any, getter: str) -> Any:
    """A record value libevtx may not have (older versions) or may refuse to give (None)."""
    method = getattr(record, getter, None)
    if method is None:
        return None
    try:
        return method()
    except (OSError, ValueError, UnicodeError):
        return None


def _strings(record: Any) -> list[str]:
    """libevtx's substitution strings (it refuses them for a record without event data)."""
    try:
        count = min(record.number_of_strings, MAX_FIELDS)
        return [record.get_string(i) or "" for i in range(count)]
    except (OSError, ValueError, UnicodeError):
        return []


def _xml_system_text(root: ET.Element, name: str) -> str | None:
    for part in root:
        if _local(part.tag) == "System":
            for item in part:
                if _local(item.tag) == name:
                    return item.text
    return None
