"""Mounted devices: which volume had which drive letter and volume GUID (SYSTEM `MountedDevices`).

Key: `MountedDevices` at the root of the SYSTEM hive (not in a control set). Each value name
is a mount point: `\\DosDevices\\E:` (a drive letter), `\\??\\Volume{GUID}` (a volume GUID, the
one MountPoints2 names in a user's NTUSER.DAT), or `#{GUID}` (a volume without a letter, seen
on Windows 10). The REG_BINARY data identifies the volume:

    12 bytes            MBR disk: uint32 disk signature + uint64 partition offset in bytes
    "DMIO:ID:" + 16     GPT disk: the partition GUID (24 bytes)
    UTF-16LE text       a device path, e.g. `_??_USBSTOR#Disk&Ven_X&Prod_Y&Rev_Z#<serial>#{53f5...}`
                        (removable media) or `\\??\\SCSI#CdRom&Ven_...` / `\\??\\IDE#...`; the
                        bus, vendor, product, revision and serial are parsed from it.

Time: Windows keeps no time per value. Every event carries the key's last-written time
("Key Last Written", FILETIME UTC): the moment some value of the key last changed, shared by all
of its values; it is not the time that value was written.

Event data: mount_point (the value name), drive_letter ("E:") or volume_guid ("{...}"), kind
("mbr", "gpt", "device_path", "unknown"), disk_signature (8 hex digits) and partition_offset,
partition_guid, device_path with bus/vendor/product/revision/serial/serial_generated/
interface_guid, and the other mount points with identical data (volume_guids for a drive
letter, drive_letters for a volume GUID): that is how a letter, a volume GUID and a device are
tied together. One event per value.
"""
from __future__ import annotations

import struct
import uuid
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin
from triage.registry import value_bytes
from triage.usb_ids import parse_device_path

_MAX_HEX = 64  # bytes of an unknown value kept in the data


def decode_mount_data(data: bytes) -> dict[str, Any]:
    """What a MountedDevices value's binary data says about its volume."""
    if len(data) == 12:
        signature, offset = struct.unpack("<IQ", data)
        return {"kind": "mbr", "disk_signature": f"{signature:08X}", "partition_offset": offset}
    if len(data) == 24 and data[:8] == b"DMIO:ID:":
        return {"kind": "gpt", "partition_guid": "{" + str(uuid.UUID(bytes_le=data[8:24])) + "}"}
    if len(data) >= 8 and len(data) % 2 == 0:
        try:
            text = data.decode("utf-16-le").rstrip("\x00")
        except UnicodeDecodeError:
            text = ""
        if text and text.isprintable() and text[:1] in "_\\#":
            out: dict[str, Any] = {"kind": "device_path", "device_path": text}
            out.update(parse_device_path(text))
            return out
    return {"kind": "unknown", "data_hex": data[:_MAX_HEX].hex(), "data_size": len(data)}


def _mount_point(name: str) -> dict[str, Any]:
    upper = name.upper()
    if upper.startswith("\\DOSDEVICES\\") and len(name) >= 14:
        return {"drive_letter": name[12:].upper()}
    if "VOLUME{" in upper:
        start = upper.index("VOLUME{") + 6
        return {"volume_guid": name[start:start + 38].lower()}
    if name.startswith("#{"):
        return {"volume_guid": name[1:39].lower()}
    return {}


def _describe(info: dict[str, Any]) -> str:
    kind = info["kind"]
    if kind == "mbr":
        return (f"MBR disk {info['disk_signature']} partition at offset "
                f"{info['partition_offset']}")
    if kind == "gpt":
        return f"GPT partition {info['partition_guid']}"
    if kind == "device_path":
        if info.get("bus") == "USBSTOR":
            name = " ".join(p for p in (info.get("vendor"), info.get("product")) if p)
            return f"USB storage {name} serial {info.get('serial')}"
        return f"device {info['device_path']}"
    return f"unrecognised data ({info['data_size']} bytes)"


@register_plugin
class MountedDevices(RegistryPlugin):
    name = "mounted_devices"
    hives = ("SYSTEM",)
    description = "MountedDevices: drive letters and volume GUIDs and the volumes behind them"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        key = hive.key("MountedDevices")
        if key is None:
            return
        when = key_time(key)
        entries: list[tuple[str, bytes | None, dict[str, Any]]] = []
        try:
            values = list(key.values())
        except Exception as exc:
            ctx.warn(f"{path_of(key)}: values unreadable ({type(exc).__name__}: {exc})")
            return
        for value in values:
            try:
                name = value.name()
                raw = value_bytes(value)
                info = decode_mount_data(raw)
            except Exception as exc:  # one bad value never costs the others
                ctx.warn(f"{path_of(key)}: a value is unreadable ({type(exc).__name__}: {exc})")
                continue
            if value.value_type() != 3:  # REG_BINARY
                ctx.warn(f"{path_of(key)}: value {name} is {value.value_type_str()}, "
                         "not REG_BINARY: decoded anyway")
            if info["kind"] == "unknown":
                ctx.warn(f"{path_of(key)}: value {name}: unrecognised data of {len(raw)} bytes")
            entries.append((name, raw, info))
        by_data: dict[bytes, list[str]] = {}
        for name, raw, _ in entries:
            by_data.setdefault(raw or b"", []).append(name)
        for name, raw, info in entries:
            point = _mount_point(name)
            others = [_mount_point(n) for n in by_data.get(raw or b"", []) if n != name]
            data: dict[str, Any] = {"mount_point": name, "drive_letter": None,
                                    "volume_guid": None, **point, **info}
            if "drive_letter" in point:
                data["volume_guids"] = sorted(o["volume_guid"] for o in others
                                              if "volume_guid" in o)
            elif "volume_guid" in point:
                data["drive_letters"] = sorted(o["drive_letter"] for o in others
                                               if "drive_letter" in o)
            data["key"] = path_of(key)
            yield Event(when, "Key Last Written",
                        f"Mounted device {name}: {_describe(info)} (the time is the "
                        "MountedDevices key's last write, shared by all its values)", data)
