"""One record per physical removable device, correlated from every source that saw it.

Windows scatters a USB stick's story: USBSTOR and USB keys (identity, install, arrival and
removal times), SWD\\WPDBUSENUM and Windows Portable Devices (the name a user saw),
MountedDevices (drive letters, volume GUIDs), EMDMgmt (volume label and serial), each user's
MountPoints2 (who mounted that volume), setupapi.dev.log (first install) and the event logs
(Partition/Diagnostic 1006 connect/disconnect with capacity; Kernel-PnP; DriverFrameworks).
This analysis joins them on the device serial (the USBSTOR instance id without its `&N` LUN
suffix), the container id, the volume GUID and the volume serial, and writes table `devices`
(and `device_events`: which timeline events each device is built from).

Conflicting sources are kept, not averaged: `times` lists every timestamp with what it means
and which source (plugin or log) said it; first/last figures name their source too.
Files and folders opened from a device are linked by the volume serial that shortcut and Jump
List entries record, or by drive letter when no serial is recorded (ShellBags record none):
`linked_by` says which; a drive letter is reused by other devices, so such links are weaker.
"""
from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterator

from triage.store import event_kinds, rows_by_family

SCHEMA = """
CREATE TABLE IF NOT EXISTS devices (
  id INTEGER PRIMARY KEY, kind TEXT, vendor TEXT, product TEXT, serial TEXT, vid TEXT, pid TEXT,
  friendly_name TEXT, capacity INTEGER, first_connected TEXT, first_connected_source TEXT,
  last_connected TEXT, last_connected_source TEXT, last_removed TEXT, last_removed_source TEXT,
  drive_letters TEXT, volume_guids TEXT, volume_serials TEXT, volume_labels TEXT, users TEXT,
  container_ids TEXT, times TEXT, files_opened TEXT);
CREATE TABLE IF NOT EXISTS device_events (device_id INTEGER, seq INTEGER, role TEXT);
"""
_KINDS_KEPT = {"mass storage", "portable device (MTP)", "other"}
_FIRST = {"First Install", "Install", "Device Install Started"}
_ARRIVAL = {"Last Arrival", "Disk Connected", "Device Connected"}
_REMOVAL = {"Last Removal", "Disk Disconnected", "Device Disconnected"}
_LUN = re.compile(r"&\d+$")


def norm_serial(serial: Any) -> str | None:
    if not serial:
        return None
    text = str(serial).strip().upper()
    return _LUN.sub("", text) or None


@dataclass
class Device:
    serials: set[str] = field(default_factory=set)
    container_ids: set[str] = field(default_factory=set)
    kind: str | None = None
    vendor: str | None = None
    product: str | None = None
    vid: str | None = None
    pid: str | None = None
    friendly_name: str | None = None
    capacity: int | None = None
    drive_letters: set[str] = field(default_factory=set)
    volume_guids: set[str] = field(default_factory=set)
    volume_serials: set[str] = field(default_factory=set)
    volume_labels: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    times: list[dict[str, Any]] = field(default_factory=list)
    events: dict[int, str] = field(default_factory=dict)  # seq -> role
    files: list[dict[str, Any]] = field(default_factory=list)

    def absorb(self, other: "Device") -> None:
        for name in ("serials", "container_ids", "drive_letters", "volume_guids",
                     "volume_serials", "volume_labels", "users"):
            getattr(self, name).update(getattr(other, name))
        for name in ("kind", "vendor", "product", "vid", "pid", "friendly_name", "capacity"):
            if getattr(self, name) is None:
                setattr(self, name, getattr(other, name))
        self.times.extend(other.times)
        self.events.update(other.events)

    def pick(self, descs: set[str], latest: bool) -> tuple[str | None, str | None]:
        chosen = [t for t in self.times if t["desc"] in descs and t["time"]]
        if not chosen:
            return None, None
        best = max(chosen, key=lambda t: t["time"]) if latest else min(chosen, key=lambda t: t["time"])
        return best["time"], best["source"]


class _Index:
    """Devices found so far, by each identifier; merging when one event links two."""

    def __init__(self) -> None:
        self.devices: list[Device] = []

    def find(self, serial: str | None, container: str | None) -> Device | None:
        for device in self.devices:
            if (serial and serial in device.serials) or (container and container in device.container_ids):
                return device
        return None

    def get(self, serial: str | None, container: str | None) -> Device:
        device = self.find(serial, container)
        if device is None:
            device = Device()
            self.devices.append(device)
        if serial:
            device.serials.add(serial)
        if container:
            device.container_ids.add(container)
            # the container id may join a device first seen under another serial
            for other in [d for d in self.devices if d is not device and container in d.container_ids]:
                device.absorb(other)
                self.devices.remove(other)
        return device


def _source(record: dict[str, Any]) -> str:
    data = record["data"]
    return data.get("plugin") or record["extractor"]


# An event-log record names a device only through one of these keys (see _evtx_identity): the
# others (most of a large Security log) are left in SQLite, never decoded.
_EVTX_IDENTITY_KEYS = ("SerialNumber", "serial", "DeviceInstanceId", "InstanceId",
                       "device_instance_id")
_EVTX_WITH_IDENTITY = " OR ".join(f"instr(data, '{json.dumps(k)}:') > 0" for k in _EVTX_IDENTITY_KEYS)


_EXTRACTORS = ("registry", "setupapi", "lnk", "jumplist_auto", "jumplist_custom")
_WANTED = (f"extractor IN ({', '.join(map(repr, _EXTRACTORS))}) "  # (SQL text literals)
           f"OR (extractor = 'evtx' AND ({_EVTX_WITH_IDENTITY}))")


def _events(db: sqlite3.Connection) -> Iterator[tuple[int, dict[str, Any]]]:
    """The events a device can be built from, in timeline order. Only the families that hold
    events of these extractors (the case's event_kinds say which) are read, through the family
    index: the file-system records, most of a large case, are never visited."""
    families = {kind[0] for kind in event_kinds(db) if kind[2] in (*_EXTRACTORS, "evtx")}
    for row in rows_by_family(db, families, "seq, timestamp, timestamp_desc, extractor, user, "
                              "message, data", _WANTED):
        yield row[0], {"timestamp": row[1], "timestamp_desc": row[2], "extractor": row[3],
                       "user": row[4], "message": row[5], "data": json.loads(row[6])}


def _evtx_identity(data: dict[str, Any]) -> tuple[str | None, str | None]:
    for key in _EVTX_IDENTITY_KEYS[:2]:
        if data.get(key):
            return norm_serial(data[key]), None
    for key in _EVTX_IDENTITY_KEYS[2:]:
        if data.get(key):
            from triage.usb_ids import parse_instance_id

            return norm_serial(parse_instance_id(str(data[key])).get("serial")), None
    return None, None


def correlate(db: sqlite3.Connection) -> list[Device]:
    index = _Index()
    volume_owner: dict[str, Device] = {}
    mounts: list[tuple[int, dict[str, Any]]] = []
    links: list[tuple[int, dict[str, Any]]] = []
    for seq, record in _events(db):
        data, desc = record["data"], record["timestamp_desc"]
        plugin = data.get("plugin")
        if plugin == "usb_devices":
            if data.get("device_kind") not in _KINDS_KEPT:
                continue
            device = index.get(norm_serial(data.get("serial")), data.get("container_id"))
            device.kind = device.kind or data.get("device_kind")
            for name in ("vendor", "product", "vid", "pid"):
                if data.get(name) and getattr(device, name) is None:
                    setattr(device, name, data[name])
            if data.get("friendly_name") and (device.friendly_name is None or
                                              data.get("enum") == "USBSTOR"):
                device.friendly_name = data["friendly_name"]
            device.times.append({"desc": desc, "time": record["timestamp"],
                                 "source": f"{plugin} ({data.get('enum')})", "seq": seq})
            device.events[seq] = "identity"
        elif plugin == "mounted_devices" and data.get("serial"):
            device = index.get(norm_serial(data["serial"]), None)
            if data.get("drive_letter"):
                device.drive_letters.add(data["drive_letter"].upper())
            for guid in [data.get("volume_guid")] + list(data.get("volume_guids") or []):
                if guid:
                    device.volume_guids.add(guid.lower())
                    volume_owner[guid.lower()] = device
            device.drive_letters.update(d.upper() for d in data.get("drive_letters") or [])
            device.events[seq] = "mount"
        elif plugin == "portable_devices" and data.get("serial"):
            device = index.get(norm_serial(data["serial"]), None)
            if data.get("volume_serial"):
                device.volume_serials.add(str(data["volume_serial"]).upper())
            if data.get("volume_label"):
                device.volume_labels.add(data["volume_label"])
            if data.get("friendly_name") and device.friendly_name is None:
                device.friendly_name = data["friendly_name"]
            device.events[seq] = "volume"
        elif plugin == "mountpoints2" and data.get("volume_guid"):
            mounts.append((seq, record))
        elif record["extractor"] == "setupapi":
            serial = norm_serial(data.get("serial"))
            if serial and index.find(serial, None) is not None or (serial and data.get("bus") in ("USB", "USBSTOR")):
                device = index.get(serial, None)
                device.times.append({"desc": desc, "time": record["timestamp"],
                                     "source": "setupapi.dev.log", "seq": seq})
                device.events[seq] = "install"
        elif record["extractor"] == "evtx":
            serial, _ = _evtx_identity(data)
            if not serial:
                continue
            device = index.get(serial, None)
            size = data.get("Capacity") or data.get("Size")
            if size and device.capacity is None:
                try:
                    device.capacity = int(size)
                except (TypeError, ValueError):
                    pass
            for name, key in (("vendor", "Manufacturer"), ("product", "Model"),
                              ("vendor", "VendorId"), ("product", "ProductId")):
                if data.get(key) and str(data[key]).strip() and getattr(device, name) is None:
                    setattr(device, name, str(data[key]).strip())
            device.times.append({"desc": desc, "time": record["timestamp"],
                                 "source": f"event log {data.get('channel')} {data.get('event_id')}",
                                 "seq": seq})
            device.events[seq] = "connection"
        elif record["extractor"] in ("lnk", "jumplist_auto", "jumplist_custom") or \
                (plugin == "shellbags" and data.get("drive_letter")):
            links.append((seq, record))
    for seq, record in mounts:
        device = volume_owner.get(record["data"]["volume_guid"].lower())
        if device is not None:
            if record["user"]:
                device.users.add(record["user"])
            device.events[seq] = "user mount"
    _link_files(index.devices, links)
    return index.devices


def _file_fields(data: dict[str, Any]) -> tuple[str | None, str | None]:
    """(volume serial, drive letter) a shortcut, Jump List or ShellBag entry records."""
    lnk = data.get("lnk") if isinstance(data.get("lnk"), dict) else data
    serial = lnk.get("volume_serial") or lnk.get("drive_serial_number")
    path = lnk.get("local_path") or lnk.get("target_path") or lnk.get("path") or ""
    path = re.sub(r"^<My Computer> ", "", str(path))  # ShellBag paths start at their root
    letter = path[:2].upper() if re.match(r"^[A-Za-z]:", path) else None
    if letter is None and data.get("drive_letter"):
        letter = str(data["drive_letter"])[:1].upper() + ":"
    return (str(serial).upper() if serial else None), letter


def _link_files(devices: list[Device], links: list[tuple[int, dict[str, Any]]]) -> None:
    by_serial = {s: d for d in devices for s in d.volume_serials}
    by_letter = {l: d for d in devices for l in d.drive_letters if l != "C:"}
    for seq, record in links:
        serial, letter = _file_fields(record["data"])
        device, how = (by_serial.get(serial), "volume serial") if serial else (None, "")
        if device is None and letter and not serial:
            device, how = by_letter.get(letter), "drive letter"
        if device is None:
            continue
        lnk = record["data"].get("lnk") if isinstance(record["data"].get("lnk"), dict) else record["data"]
        device.files.append({"seq": seq, "time": record["timestamp"], "desc": record["timestamp_desc"],
                             "path": lnk.get("local_path") or lnk.get("target_path") or lnk.get("path"),
                             "user": record["user"], "linked_by": how})
        device.events[seq] = "file opened"


def write_devices(db: sqlite3.Connection, devices: list[Device]) -> int:
    db.executescript(SCHEMA)
    db.execute("DELETE FROM devices")
    db.execute("DELETE FROM device_events")
    ordered = sorted(devices, key=lambda d: (d.pick(_FIRST | _ARRIVAL, False)[0] or "~",
                                             sorted(d.serials)))
    for number, d in enumerate(ordered, 1):
        first, first_src = d.pick(_FIRST, False)
        if first is None:
            first, first_src = d.pick(_ARRIVAL, False)
        last, last_src = d.pick(_ARRIVAL, True)
        removed, removed_src = d.pick(_REMOVAL, True)
        serial = sorted(d.serials, key=lambda s: ("&" in s[:3], s))[0] if d.serials else None
        db.execute("INSERT INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", (
            number, d.kind, d.vendor, d.product, serial, d.vid, d.pid, d.friendly_name, d.capacity,
            first, first_src, last, last_src, removed, removed_src,
            json.dumps(sorted(d.drive_letters)), json.dumps(sorted(d.volume_guids)),
            json.dumps(sorted(d.volume_serials)), json.dumps(sorted(d.volume_labels), ensure_ascii=False),
            json.dumps(sorted(d.users), ensure_ascii=False), json.dumps(sorted(d.container_ids)),
            json.dumps(sorted(d.times, key=lambda t: (t["time"] or "", t["desc"])), ensure_ascii=False),
            json.dumps(sorted(d.files, key=lambda f: (f["time"] or "", f["seq"])), ensure_ascii=False)))
        db.executemany("INSERT INTO device_events VALUES (?,?,?)",
                       [(number, seq, role) for seq, role in sorted(d.events.items())])
    db.commit()
    return len(ordered)


def analyse(db_path: str) -> int:
    db = sqlite3.connect(db_path)
    try:
        return write_devices(db, correlate(db))
    finally:
        db.close()


_JSON_COLUMNS = ("drive_letters", "volume_guids", "volume_serials", "volume_labels", "users",
                 "container_ids", "times", "files_opened")


def read_devices(db_path: str) -> list[dict[str, Any]]:
    """The devices of a finished case (read-only), JSON columns decoded."""
    from triage.store import open_readonly

    db = open_readonly(db_path)
    try:
        rows = db.execute("SELECT * FROM devices ORDER BY id").fetchall()
    except sqlite3.OperationalError:
        rows = []
    finally:
        db.close()
    devices = []
    for row in rows:
        item = dict(row)
        for column in _JSON_COLUMNS:
            item[column] = json.loads(item[column] or "[]")
        devices.append(item)
    return devices
