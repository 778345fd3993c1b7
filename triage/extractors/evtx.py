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
"""
from __future__ import annotations

import hashlib
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from typing import Any, Iterator

import pyevtx

from triage import evtx_catalog
from triage.evtx_catalog import Entry
from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, filetime

_FILE_HEADER = 4096
_CHUNK = 0x10000
_MAX_XML_CHARS = 4 * 1024 * 1024  # a record is at most a 64 KiB chunk; its XML stays far below
_MAX_FIELDS = 2000
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


def _put(fields: dict[str, Any], name: str, value: str) -> None:
    """Add a field; a repeated name collects its values in a list."""
    if name in fields:
        old = fields[name]
        fields[name] = old + [value] if isinstance(old, list) else [old, value]
    elif len(fields) < _MAX_FIELDS:
        fields[name] = value


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
                        _put(fields, key, text)
                    elif len(strings) < _MAX_FIELDS:
                        strings.append(text)
                elif name == "Binary":
                    binary = text.strip() or None
                else:
                    _put(fields, name, text)
        elif kind == "UserData":
            for wrapper in part:
                for key, value in wrapper.attrib.items():
                    _put(fields, _local(key), value)
                for node in wrapper.iter():
                    if node is wrapper:
                        continue
                    name = _local(node.tag)
                    for key, value in node.attrib.items():
                        _put(fields, f"{name}_{_local(key)}", value)
                    if len(node) == 0:
                        _put(fields, name, node.text or "")
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
                try:
                    stamp = Timestamp.parse(item.get("SystemTime", ""))
                except ValueError:
                    return None
                return Timestamp(stamp.ns, min(stamp.digits, 7))
    return None


def _present(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        return any(_present(v) for v in value)
    return str(value).strip() not in ("", "-")


def _show(value: Any) -> str:
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value)
    if value is None or str(value).strip() == "":
        return "-"
    return str(value)


def render(template: str, values: dict[str, Any]) -> str:
    """Fill a catalogue template: `{Name}` from values, `[...]` only when all its names are set."""

    def optional(match: re.Match) -> str:
        segment = match.group(1)
        names = _PLACEHOLDER.findall(segment)
        return segment if all(_present(values.get(n)) for n in names) else ""

    return _clean(_PLACEHOLDER.sub(lambda m: _show(values.get(m.group(1))),
                                   _OPTIONAL.sub(optional, template)))


def _clean(text: str) -> str:
    """One line: whitespace runs to one space, direction marks dropped, length bounded."""
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
        return int(text, 16) if text.lower().startswith("0x") else int(text)
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
        return [_bounded(v, name, cut) for v in value[:_MAX_FIELDS]]
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
            handle.seek(0)
            evtx = pyevtx.file()
            try:
                evtx.open_file_object(handle)
            except (OSError, ValueError, TypeError, MemoryError) as exc:
                raise ArtifactError(f"unreadable EVTX file: {_reason(exc)}") from None
            try:
                yield from self._records(evtx, ctx, everything, damaged)
            finally:
                try:
                    evtx.close()
                except (OSError, ValueError):
                    pass
        finally:
            handle.close()

    def _records(self, evtx: Any, ctx: ExtractionContext, everything: bool,
                 damaged: list[tuple[int, int]]) -> Iterator[Event]:
        failures, first_failure = 0, ""
        seen: set[tuple[int, int]] = set()
        try:
            count = evtx.number_of_records
            recovered = evtx.number_of_recovered_records
            corrupted = evtx.is_corrupted()
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"unreadable EVTX file: {_reason(exc)}") from None
        read = 0
        for index in range(count):
            try:
                record = evtx.get_record(index)
                seen.add((record.identifier, record.get_written_time_as_integer()))
                event = self._event(record, ctx, everything, False, damaged)
            except _RECORD_ERRORS as exc:
                failures += 1
                first_failure = first_failure or f"record {index}: {_reason(exc)}"
                continue
            read += 1
            if event is not None:
                yield event
        duplicates = 0
        for index in range(recovered):
            try:
                record = evtx.get_recovered_record(index)
                key = (record.identifier, record.get_written_time_as_integer())
                if key in seen:
                    duplicates += 1
                    continue
                seen.add(key)
                event = self._event(record, ctx, everything, True, damaged)
            except _RECORD_ERRORS as exc:
                failures += 1
                first_failure = first_failure or f"recovered record {index}: {_reason(exc)}"
                continue
            if event is not None:
                yield event
        if corrupted:
            ctx.warn(f"libevtx flags the EVTX file as corrupted (truncated or damaged chunks): "
                     f"{read} of {count} records read, {recovered} recovered")
        elif recovered:
            ctx.warn(f"{recovered} records recovered from slack or damaged chunks "
                     f"({duplicates} duplicates of live records skipped)")
        if failures:
            ctx.warn(f"{failures} unreadable EVTX records, e.g. {first_failure}")

    def _event(self, record: Any, ctx: ExtractionContext, everything: bool, recovered: bool,
               damaged: list[tuple[int, int]]) -> Event | None:
        event_id = record.event_identifier
        provider = record.source_name
        channel = record.channel_name if hasattr(record, "channel_name") else None
        entry = evtx_catalog.lookup(provider, channel, event_id)
        if entry is None and not everything:
            return None

        root = _parse_xml(_optional(record, "get_xml_string"))
        if not channel and root is not None:
            channel = _xml_system_text(root, "Channel")
        stamp = _filetime(_optional(record, "get_creation_time_as_integer"))
        if stamp is None:
            stamp = _system_time(root)
        written = _filetime(record.get_written_time_as_integer())
        user_sid = record.user_security_identifier

        if root is not None:
            fields, strings, binary = _payload(root)
        else:  # no XML: libevtx's strings are all there is
            fields, binary = {}, None
            strings = _strings(record)
        values: dict[str, Any] = {"strings": strings or None, "binary": binary}
        if not fields:
            values.update({str(n): s for n, s in enumerate(strings, 1)})
        values.update(fields)

        data: dict[str, Any] = {
            "channel": channel,
            "provider": provider,
            "event_id": event_id,
            "record_number": record.identifier,
            "level": record.event_level,
            "computer": record.computer_name,
            "user_sid": user_sid,
            "recovered": recovered,
        }
        if any(first <= record.identifier <= last for first, last in damaged):
            data["damaged_chunk"] = True
        if stamp is None and written is not None:
            stamp = written
            data["time_source"] = "written"
        elif written is not None and stamp is not None and written.ns != stamp.ns:
            data["written_time"] = written.iso()

        cut: list[str] = []
        if entry is not None:
            _derive(entry, values)
            for name in entry.ints:
                number = _int(values.get(name))
                if number is not None:
                    values[name] = number
            kept = [(n, values[n]) for n in entry.fields if values.get(n) is not None]
            if entry.keep_all:
                listed = set(entry.fields)
                kept += [(n, values[n]) for n in fields if n not in listed]
            desc = render(entry.timestamp_desc, values)
            message = render(entry.message, values)
        else:
            kept = list(fields.items())
            if not fields and strings:
                kept.append(("strings", strings))
            if binary:
                kept.append(("binary", binary))
            desc = "Event Logged"
            message = self._generic_message(data, fields, strings)
        for name, value in kept:
            key = name if name not in data else f"field_{name}"
            if entry is not None and name == "ScriptBlockText":
                data[key] = value  # already cut to 4 KiB, with its length and hash
            else:
                data[key] = _bounded(value, name, cut)
        if cut:
            data["truncated_fields"] = sorted(set(cut))

        user = self._user(entry, values) or ctx.user_for_sid(user_sid)
        return Event(timestamp=stamp, timestamp_desc=desc, message=message, data=data,
                     user=user)

    @staticmethod
    def _user(entry: Entry | None, values: dict[str, Any]) -> str | None:
        if entry is None or not entry.user:
            return None
        value = values.get(entry.user)
        return str(value) if _present(value) else None

    @staticmethod
    def _generic_message(data: dict[str, Any], fields: dict[str, Any], strings: list[str]) -> str:
        head = f"{data['channel'] or '(no channel)'} event {data['event_id']} from " \
               f"{data['provider'] or '(no provider)'}"
        shown = [f"{k}={_show(v)}" for k, v in fields.items() if _present(v)] if fields else \
            [s for s in strings if _present(s)]
        text = _clean(head + (": " + "; ".join(shown) if shown else ""))
        return text if len(text) < 500 else text[:497] + "..."


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
        count = min(record.number_of_strings, _MAX_FIELDS)
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
