"""System Resource Usage Monitor (`C:\\Windows\\System32\\sru\\SRUDB.dat`): per-application
network and resource use, about every hour, for the last 30 to 60 days.

Format: an Extensible Storage Engine (ESE, "JET Blue") database, read with libesedb (pyesedb;
the libyal paper "Extensible Storage Engine (ESE) Database File (EDB) format"). The SRUM tables
are described in the libyal esedb-kb note "System Resource Usage Monitor (SRUM)" and in public
SRUM write-ups (Khatri, "SRUM forensics"). The database is usually "dirty" on a seized system
(Windows keeps it open and its last changes in SRU*.log / *.jrs transaction logs): libesedb
reads the database file as it is, without those logs; the extractor says so with a warning.

Tables read (others, such as the energy and push-notification providers, are not):
    SruDbIdMapTable: IdType (3: a user SID; the other types name applications, services and
        Store applications), IdIndex (the number other tables use), IdBlob (UTF-16LE text, or
        a binary SID for type 3).
    {973F5D5C-1D90-4944-BE8E-24B94231A174} Network Data Usage: TimeStamp, AppId, UserId,
        InterfaceLuid, L2ProfileId, L2ProfileFlags, BytesSent, BytesRecvd.
    {D10CA2FE-6FCF-4F6D-848E-B2E99266FA89} Application Resource Usage: TimeStamp, AppId,
        UserId, Foreground/BackgroundCycleTime, FaceTime, Foreground/BackgroundContextSwitches,
        Foreground/Background BytesRead, BytesWritten, NumReadOperations, NumWriteOperations,
        NumberOfFlushes.
    {DD6636C4-8929-4683-974E-22C046A43763} Network Connectivity: TimeStamp, AppId, UserId,
        InterfaceLuid, L2ProfileId, ConnectedTime (seconds), ConnectStartTime, L2ProfileFlags.

Times: TimeStamp is an OLE automation date (a double of days since 1899-12-30) in UTC: the
time SRUM wrote the record, i.e. the END of the interval (about one hour, the "Tier 2"
period) whose usage the record holds; the use itself happened at some point in that interval.
It is usually a whole second and then prints with no fraction (else to the microsecond, the
double's precision). ConnectStartTime is a
FILETIME (UTC, 100 ns). A value that is not a valid time leaves the event without a time and
is counted in a warning; no time is ever made up.

Events:
    "Network Usage Recorded" (Network Data Usage, at TimeStamp): message `chrome.exe sent
        1,234,567,890 bytes, received 12,345 bytes (user alice)`.
    "Resource Usage Recorded" (Application Resource Usage, at TimeStamp).
    "Network Connected" (Network Connectivity, at ConnectStartTime; `recorded` is its
        TimeStamp).

Event data (all tables): table, record_id (AutoIncId), app (the IdMap text: a full device path
such as \\Device\\HarddiskVolume3\\Program Files\\...\\chrome.exe, a service or a Store
application name), app_id, user_sid, user_id, recorded (TimeStamp, ISO 8601). Network usage
adds bytes_sent, bytes_received, interface_luid, interface_type (from the LUID's upper 16 bits,
the IANA ifType: ethernet (6), wireless (71), mobile_broadband (243, 244), ppp (23),
loopback (24), tunnel (131), else "iftype N"), interface_type_code, profile_id (L2ProfileId:
the WLAN profile, see SOFTWARE\\Microsoft\\WlanSvc), profile_flags. Resource usage adds
foreground_cycle_time, background_cycle_time, face_time, foreground_/background_
context_switches, bytes_read, bytes_written, read_operations, write_operations, flushes.
Connectivity adds connected_seconds, connect_start, interface_*, profile_id, profile_flags.
`user` is the account name of the record's SID (ProfileList), else the SID.

The ESE helpers at the top (open_database, RowReader, OleDate, TimeCounter) are shared with
webcache.py. Values: integers and GUIDs as stored; text through libesedb (which undoes ESE
7-bit and XPRESS compression and reads long values); a compressed binary value is
decompressed here (7-bit ASCII, 7-bit Unicode, XPRESS), a long value read through libesedb.
"""
from __future__ import annotations

import ntpath
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, filetime

try:  # libesedb-python: without it both ESE extractors report every file as unreadable
    import pyesedb
except ImportError:  # pragma: no cover - depends on the installation
    pyesedb = None

try:  # libfwnt-python comes with dfvfs; without it XPRESS-compressed values stay raw
    import pyfwnt
except ImportError:  # pragma: no cover - depends on the installation
    pyfwnt = None

# ---------------------------------------------------------------- ESE helpers (shared)

ESE_SIGNATURE = b"\xef\xcd\xab\x89"
_STATE_NAMES = {1: "just created", 2: "dirty shutdown", 3: "clean shutdown",
                4: "being converted", 5: "force detach"}
MAX_RECORDS = 2_000_000  # per table: far above any real SRUM or WebCache table
_OLE_EPOCH_DAYS = 25569  # days from 1899-12-30 to 1970-01-01
_NS_PER_DAY = 86_400 * 1_000_000_000
_MIN_NS = -11_644_473_600 * 1_000_000_000  # 1601-01-01
_MAX_NS = 253_402_300_799 * 1_000_000_000  # 9999-12-31T23:59:59

COLTYPE_DATE_TIME = 8
_FIXED_FORMATS = {1: "<B", 2: "<B", 3: "<h", 4: "<i", 5: "<q", 6: "<f", 7: "<d", 8: "<d",
                  14: "<I", 15: "<q", 17: "<H"}
_TEXT_TYPES = (10, 12)
_BINARY_TYPES = (9, 11)
_GUID_TYPE = 16
_UNKNOWN_TYPE = 0  # a column whose catalog entry cannot be read: its value is kept as bytes


def libyal_reason(exc: BaseException) -> str:
    """A libyal error chain ("outer: ... inner: cause.") cut to its innermost causes."""
    text = " ".join(str(exc).split())
    parts = [p.strip().rstrip(".") for p in text.split(". ") if p.strip()]
    if not parts:
        return type(exc).__name__
    causes = [p.split(": ", 1)[1] if ": " in p else p for p in parts[-2:]]
    return "; ".join(dict.fromkeys(causes))


@dataclass
class EseDatabase:
    handle: Any  # pyesedb.file
    state: int
    size: int = 0
    page_size: int = 0
    tables: dict[str, Any] = field(default_factory=dict)  # name -> pyesedb.table

    @property
    def truncated(self) -> bool:
        return bool(self.page_size) and self.size % self.page_size != 0

    @property
    def dirty(self) -> bool:
        return self.state == 2

    def close(self) -> None:
        try:
            self.handle.close()
        except (OSError, ValueError):
            pass


def open_database(handle: BinaryIO, what: str) -> EseDatabase:
    """Open an ESE database from a file object; ArtifactError with the reason when it is not."""
    if pyesedb is None:
        raise ArtifactError("ESE databases cannot be read: libesedb-python is not installed")
    try:
        size = handle.seek(0, 2)
        handle.seek(0)
        head = handle.read(668)
        handle.seek(0)
    except OSError as exc:
        raise ArtifactError(f"cannot read the file: {exc}") from None
    if len(head) < 8:
        raise ArtifactError(f"not an ESE database: only {len(head)} bytes")
    if head[4:8] != ESE_SIGNATURE:
        raise ArtifactError("not an ESE database (no 0x89ABCDEF signature at offset 4)")
    if len(head) < 668:
        raise ArtifactError(f"truncated ESE database: {len(head)} bytes, not even a file header")
    (state,) = struct.unpack_from("<I", head, 52)
    (page_size,) = struct.unpack_from("<I", head, 236)
    if page_size not in (2048, 4096, 8192, 16384, 32768):
        page_size = 0
    database = pyesedb.file()
    result = EseDatabase(database, state, size, page_size)
    damage = "truncated" if result.truncated else "unreadable"
    try:
        database.open_file_object(handle)
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"{damage} {what} ESE database ({size} bytes): "
                            f"{libyal_reason(exc)}") from None
    try:
        for index in range(database.get_number_of_tables()):
            table = database.get_table(index)
            if table is not None and table.name:
                result.tables.setdefault(table.name, table)
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        result.close()
        raise ArtifactError(f"{damage} {what} ESE catalog: {libyal_reason(exc)}") from None
    return result


def note_state(db: EseDatabase, ctx: ExtractionContext, logs: str) -> None:
    if db.truncated:
        ctx.error(f"the file is truncated ({db.size} bytes, not a whole number of "
                  f"{db.page_size}-byte pages): records on the missing pages are lost")
    if db.dirty:
        ctx.warn("the database was not shut down cleanly (dirty shutdown): changes still only "
                 f"in its transaction logs ({logs}) are not included")
    elif db.state not in (3,):
        name = _STATE_NAMES.get(db.state, "unknown")
        ctx.note(f"database state {db.state} ({name})")


def seven_bit_decompress(data: bytes) -> bytes:
    """ESE 7-bit compression (schemes 1 "7-bit ASCII" and 2 "7-bit Unicode", the upper five
    bits of the lead byte; its low three bits + 1 are the bits used in the last byte): 7-bit
    values packed from the low bits up. Unicode values are UTF-16LE code units below 0x80."""
    if len(data) < 2:
        return b""
    lead = data[0]
    total_bits = (len(data) - 2) * 8 + (lead & 0x07) + 1
    value = int.from_bytes(data[1:], "little")
    units = bytes((value >> (7 * i)) & 0x7F for i in range(total_bits // 7))
    if lead >> 3 == 2:
        return b"".join(bytes((unit, 0)) for unit in units)
    return units


def _decompress(data: bytes) -> bytes:
    """A compressed LongBinary/Binary value (the value flag 0x02): ESE 7-bit or XPRESS."""
    if not data:
        return data
    scheme = data[0] >> 3
    if scheme in (1, 2):
        return seven_bit_decompress(data)
    if scheme == 3:  # XPRESS (plain LZ77): lead byte, uint16 uncompressed size, stream
        if pyfwnt is None or len(data) < 3:
            raise ValueError("XPRESS-compressed value (libfwnt-python missing)")
        size = struct.unpack_from("<H", data, 1)[0]
        return pyfwnt.lzxpress_decompress(data[3:], size)
    raise ValueError(f"unsupported compression scheme {scheme}")


class RowReader:
    """Reads a table's records as {column name: Python value}; counts what it cannot read."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.columns: list[tuple[str, int]] = []
        self.bad_values = 0
        self.bad_records = 0
        self.bad_columns = 0
        self.failure: str | None = None
        try:
            count = table.get_number_of_columns()
        except (OSError, ValueError, MemoryError) as exc:
            self.failure = libyal_reason(exc)
            return
        for index in range(count):  # a column's position in `columns` is its index
            name, ctype = None, _UNKNOWN_TYPE
            try:
                column = table.get_column(index)
                ctype = column.type
                name = column.name
            except (OSError, ValueError, MemoryError):
                # a damaged catalog entry, e.g. a name length past its data: not valid UTF-8
                self.bad_columns += 1
            self.columns.append((name or f"column{index}", ctype))

    def value(self, record: Any, index: int, ctype: int) -> Any:
        try:
            if record.is_long_value(index):
                long_value = record.get_value_data_as_long_value(index)
                if long_value is None:
                    return None
                if ctype in _TEXT_TYPES:
                    return long_value.get_data_as_string()
                return long_value.get_data()
            if ctype in _TEXT_TYPES:
                return record.get_value_data_as_string(index)
            data = record.get_value_data(index)
        except (OSError, ValueError, TypeError, UnicodeDecodeError, MemoryError):
            self.bad_values += 1
            return None
        if data is None:
            return None
        if ctype in _BINARY_TYPES:
            flags = record.get_value_data_flags(index) or 0
            if flags & pyesedb.value_flags.COMPRESSED:
                try:
                    return _decompress(data)
                except (OSError, ValueError):
                    self.bad_values += 1
                    return data
            return data
        if ctype == _GUID_TYPE:
            if len(data) != 16:
                self.bad_values += 1
                return None
            return str(uuid.UUID(bytes_le=data)).upper()
        fmt = _FIXED_FORMATS.get(ctype)
        if fmt is None:
            return data
        if len(data) != struct.calcsize(fmt):
            self.bad_values += 1
            return None
        (number,) = struct.unpack(fmt, data)
        if ctype == 1:
            return bool(number)
        if ctype == COLTYPE_DATE_TIME:
            return OleDate(number)
        return number

    def rows(self, limit: int = MAX_RECORDS) -> Iterator[dict[str, Any]]:
        if self.failure:
            return
        try:
            count = self.table.get_number_of_records()
        except (OSError, ValueError, MemoryError) as exc:
            self.failure = libyal_reason(exc)
            return
        for index in range(min(count, limit)):
            try:
                record = self.table.get_record(index)
            except (OSError, ValueError, MemoryError):
                self.bad_records += 1
                continue
            yield {name: self.value(record, position, ctype)
                   for position, (name, ctype) in enumerate(self.columns)}
        if count > limit:
            self.bad_records += count - limit

    def report(self, ctx: ExtractionContext) -> None:
        name = self.table.name
        if self.failure:
            ctx.error(f"table {name}: its records could not be read ({self.failure})")
        if self.bad_records:
            ctx.error(f"table {name}: {self.bad_records} record(s) could not be read")
        if self.bad_values:
            ctx.warn(f"table {name}: {self.bad_values} value(s) could not be read")
        if self.bad_columns:
            ctx.warn(f"table {name}: {self.bad_columns} column definition(s) unreadable in the "
                     "catalog: read under a column<N> name, not as the column they are")


@dataclass(frozen=True)
class OleDate:
    """An ESE DateTime column value: an OLE automation date (days since 1899-12-30)."""

    days: float

    def timestamp(self) -> Timestamp | None:
        """UTC Timestamp; whole seconds print without a fraction, else to the microsecond."""
        days = self.days
        if days != days or days in (float("inf"), float("-inf")) or days == 0.0:
            return None
        micros = round((days - _OLE_EPOCH_DAYS) * 86_400_000_000)
        ns = micros * 1000
        if not _MIN_NS <= ns <= _MAX_NS:
            return None
        return Timestamp(ns, 0 if ns % 1_000_000_000 == 0 else 6)


class TimeCounter:
    """Counts values that are not valid times, per field, for one warning each."""

    def __init__(self) -> None:
        self.bad: dict[str, int] = {}

    def ole(self, name: str, value: Any) -> Timestamp | None:
        if value is None:
            return None
        stamp = value.timestamp() if isinstance(value, OleDate) else None
        if stamp is None:
            self.bad[name] = self.bad.get(name, 0) + 1
        return stamp

    def filetime(self, name: str, value: Any) -> Timestamp | None:
        if value is None or value == 0:
            return None
        stamp = filetime(value) if isinstance(value, int) and value > 0 else None
        if stamp is None:
            self.bad[name] = self.bad.get(name, 0) + 1
        return stamp

    def report(self, ctx: ExtractionContext) -> None:
        for name, count in sorted(self.bad.items()):
            ctx.warn(f"{name}: {count} value(s) not a valid time: left without a time")


def iso(ts: Timestamp | None) -> str | None:
    return ts.iso() if ts else None


# ---------------------------------------------------------------- SRUM

ID_MAP_TABLE = "SruDbIdMapTable"
NETWORK_USAGE = "{973F5D5C-1D90-4944-BE8E-24B94231A174}"
RESOURCE_USAGE = "{D10CA2FE-6FCF-4F6D-848E-B2E99266FA89}"
CONNECTIVITY = "{DD6636C4-8929-4683-974E-22C046A43763}"
_TABLE_NAMES = {NETWORK_USAGE: "Network Data Usage", RESOURCE_USAGE: "Application Resource Usage",
                CONNECTIVITY: "Network Connectivity"}
ID_TYPE_SID = 3
IF_TYPES = {6: "ethernet", 71: "wireless", 243: "mobile_broadband", 244: "mobile_broadband",
            23: "ppp", 24: "loopback", 131: "tunnel"}


def sid_string(data: bytes) -> str | None:
    """A binary security identifier as S-1-5-21-...; None when it is not one."""
    if len(data) < 8 or data[0] != 1:
        return None
    count = data[1]
    if count > 15 or len(data) < 8 + 4 * count:
        return None
    authority = int.from_bytes(data[2:8], "big")
    subs = struct.unpack_from(f"<{count}I", data, 8)
    return "S-1-" + "-".join(str(v) for v in (authority, *subs))


def _id_text(blob: Any) -> str | None:
    if blob is None:
        return None
    if isinstance(blob, str):
        return blob.rstrip("\0")
    data = bytes(blob)
    if len(data) % 2 and data.endswith(b"\0"):  # a padding byte left by decompression
        data = data[:-1]
    if len(data) % 2 == 0:
        try:
            return data.decode("utf-16-le").rstrip("\0")
        except UnicodeDecodeError:
            pass
    return data.hex()


def interface_type(luid: Any) -> tuple[str | None, int | None]:
    if not isinstance(luid, int):
        return None, None
    code = (luid >> 48) & 0xFFFF
    return IF_TYPES.get(code, f"iftype {code}"), code


def app_label(app: str | None, app_id: Any) -> str:
    if not app:
        return f"application #{app_id}" if app_id is not None else "(unknown application)"
    return ntpath.basename(app.rstrip("\\")) or app


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _count(value: Any) -> str:
    number = _int(value)
    return f"{number:,}" if number is not None else "?"


@dataclass
class _IdMap:
    apps: dict[int, str] = field(default_factory=dict)
    sids: dict[int, str] = field(default_factory=dict)


def _read_id_map(db: EseDatabase, ctx: ExtractionContext) -> _IdMap:
    result = _IdMap()
    table = db.tables.get(ID_MAP_TABLE)
    if table is None:
        ctx.warn(f"no {ID_MAP_TABLE} table: application and user identifiers are not resolved")
        return result
    reader = RowReader(table)
    bad_sids = 0
    for row in reader.rows():
        index, kind, blob = _int(row.get("IdIndex")), _int(row.get("IdType")), row.get("IdBlob")
        if index is None or blob is None:
            continue
        if kind == ID_TYPE_SID:
            sid = sid_string(bytes(blob)) if isinstance(blob, (bytes, bytearray)) else None
            if sid is None:
                bad_sids += 1
                continue
            result.sids[index] = sid
        else:
            text = _id_text(blob)
            if text is not None:
                result.apps[index] = text
    reader.report(ctx)
    if bad_sids:
        ctx.warn(f"{ID_MAP_TABLE}: {bad_sids} user entr(ies) not a valid SID")
    return result


@register
class SrumExtractor(Extractor):
    name = "srum"
    family = "activity"
    description = ("SRUM SRUDB.dat: bytes each application sent and received, resource use "
                   "and network connections, per hour")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        handle = f.open()
        try:
            db = open_database(handle, "SRUM")
            try:
                yield from self._extract(db, ctx)
            finally:
                db.close()
        finally:
            handle.close()

    def _extract(self, db: EseDatabase, ctx: ExtractionContext) -> Iterator[Event]:
        present = [name for name in (ID_MAP_TABLE, *_TABLE_NAMES) if name in db.tables]
        if not present:
            raise ArtifactError(f"not a SRUM database (no {ID_MAP_TABLE} and none of the "
                                "network or application usage tables)")
        note_state(db, ctx, "SRU*.log, *.jrs")
        ids = _read_id_map(db, ctx)
        for table_name in _TABLE_NAMES:
            if table_name not in db.tables:
                ctx.note(f"no {_TABLE_NAMES[table_name]} table {table_name}")
        times = TimeCounter()
        if NETWORK_USAGE in db.tables:
            yield from self._rows(db, NETWORK_USAGE, ids, ctx, times, self._network_usage)
        if RESOURCE_USAGE in db.tables:
            yield from self._rows(db, RESOURCE_USAGE, ids, ctx, times, self._resource_usage)
        if CONNECTIVITY in db.tables:
            yield from self._rows(db, CONNECTIVITY, ids, ctx, times, self._connectivity)
        times.report(ctx)

    @staticmethod
    def _rows(db: EseDatabase, table_name: str, ids: _IdMap, ctx: ExtractionContext,
              times: TimeCounter, make) -> Iterator[Event]:
        reader = RowReader(db.tables[table_name])
        for row in reader.rows():
            app_id, user_id = _int(row.get("AppId")), _int(row.get("UserId"))
            sid = ids.sids.get(user_id) if user_id is not None else None
            app = ids.apps.get(app_id) if app_id is not None else None
            recorded = times.ole("TimeStamp", row.get("TimeStamp"))
            base = {
                "table": _TABLE_NAMES[table_name],
                "record_id": _int(row.get("AutoIncId")),
                "app": app,
                "app_id": app_id,
                "user_sid": sid,
                "user_id": user_id,
                "recorded": iso(recorded),
            }
            user = ctx.user_for_sid(sid)
            yield make(row, base, recorded, app_label(app, app_id), user, times)
        reader.report(ctx)

    @staticmethod
    def _who(user: str | None) -> str:
        return f"user {user}" if user else "no user"

    def _network_usage(self, row, base, recorded, label, user, times) -> Event:
        luid = _int(row.get("InterfaceLuid"))
        kind, code = interface_type(luid)
        data = {
            **base,
            "bytes_sent": _int(row.get("BytesSent")),
            "bytes_received": _int(row.get("BytesRecvd")),
            "interface_luid": luid,
            "interface_type": kind,
            "interface_type_code": code,
            "profile_id": _int(row.get("L2ProfileId")),
            "profile_flags": _int(row.get("L2ProfileFlags")),
        }
        message = (f"{label} sent {_count(data['bytes_sent'])} bytes, received "
                   f"{_count(data['bytes_received'])} bytes ({self._who(user)})")
        return Event(recorded, "Network Usage Recorded", message, data, user)

    def _resource_usage(self, row, base, recorded, label, user, times) -> Event:
        data = {
            **base,
            "foreground_cycle_time": _int(row.get("ForegroundCycleTime")),
            "background_cycle_time": _int(row.get("BackgroundCycleTime")),
            "face_time": _int(row.get("FaceTime")),
            "foreground_context_switches": _int(row.get("ForegroundContextSwitches")),
            "background_context_switches": _int(row.get("BackgroundContextSwitches")),
        }
        for side in ("Foreground", "Background"):
            prefix = side.lower()
            data[f"{prefix}_bytes_read"] = _int(row.get(f"{side}BytesRead"))
            data[f"{prefix}_bytes_written"] = _int(row.get(f"{side}BytesWritten"))
            data[f"{prefix}_read_operations"] = _int(row.get(f"{side}NumReadOperations"))
            data[f"{prefix}_write_operations"] = _int(row.get(f"{side}NumWriteOperations"))
            data[f"{prefix}_flushes"] = _int(row.get(f"{side}NumberOfFlushes"))
        message = (f"{label} used {_count(data['foreground_cycle_time'])} foreground and "
                   f"{_count(data['background_cycle_time'])} background CPU cycles, read "
                   f"{_count(data['foreground_bytes_read'])} bytes and wrote "
                   f"{_count(data['foreground_bytes_written'])} bytes in the foreground "
                   f"({self._who(user)})")
        return Event(recorded, "Resource Usage Recorded", message, data, user)

    def _connectivity(self, row, base, recorded, label, user, times) -> Event:
        luid = _int(row.get("InterfaceLuid"))
        kind, code = interface_type(luid)
        started = times.filetime("ConnectStartTime", row.get("ConnectStartTime"))
        data = {
            **base,
            "connected_seconds": _int(row.get("ConnectedTime")),
            "connect_start": iso(started),
            "interface_luid": luid,
            "interface_type": kind,
            "interface_type_code": code,
            "profile_id": _int(row.get("L2ProfileId")),
            "profile_flags": _int(row.get("L2ProfileFlags")),
        }
        message = (f"Network connection on {kind or 'an unknown interface'} "
                   f"(profile {data['profile_id']}) for {_count(data['connected_seconds'])} "
                   f"seconds")
        return Event(started, "Network Connected", message, data, user)
