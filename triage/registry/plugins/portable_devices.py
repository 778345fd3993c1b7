"""Portable devices and ReadyBoost-tested volumes (SOFTWARE hive).

Keys:

`Microsoft\\Windows Portable Devices\\Devices\\<device id>`
    One subkey per device or volume Windows Portable Devices has seen. The id is a device path
    with `#` for `\\`: `SWD#WPDBUSENUM#_??_USBSTOR#DISK&VEN_X&PROD_Y&REV_Z#<serial>&0#{53f5...}`
    (a USB storage volume, Windows 8 and later), `WPDBUSENUMROOT#UMB#2&...&STORAGE#VOLUME#_??_
    USBSTOR#...` (Windows 7), or `USB#VID_xxxx&PID_yyyy#<serial>#{6ac27878-...}` (an MTP
    phone or camera). Value FriendlyName: the volume label (or the drive, "E:\\") or the
    device's name ("Pixel 7"). Event: "Key Last Written" (FILETIME UTC) of that subkey.
    Data: device_id, friendly_name, bus, vendor/product/revision or vid/pid, serial,
    serial_generated, device_kind ("mass storage" or "portable device (MTP)"), key.

`Microsoft\\Windows NT\\CurrentVersion\\EMDMgmt\\<name>`
    ReadyBoost's record of each volume it tested (Vista to 10; absent where ReadyBoost is off,
    e.g. systems booting from an SSD). The name is the device path followed by the volume label
    and the volume serial number in decimal after the last `_`:
    `_??_USBSTOR#Disk&Ven_X&Prod_Y&Rev_Z#<serial>&0#{53f56307-...}KIOXIA_1260207166`.
    Event: "Key Last Written" (FILETIME UTC). Data: device_path, volume_label (None when the
    volume had none), volume_serial (8 upper-case hex digits: the serial that LNK files,
    Prefetch and the file system show, e.g. 4B1D2C3E), volume_serial_decimal, the parsed
    device fields, and the values DeviceStatus and LastTestedTime (a FILETIME; ISO in data,
    None when 0).
"""
from __future__ import annotations

import struct
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin, value_or
from triage.registry import find_value, text_value, value_bytes
from triage.usb_ids import parse_device_path

DEVICES = "Microsoft\\Windows Portable Devices\\Devices"
EMDMGMT = "Microsoft\\Windows NT\\CurrentVersion\\EMDMgmt"
_IDENTITY = ("bus", "vendor", "product", "revision", "vid", "pid", "serial", "serial_generated",
             "interface_guid")


def parse_emdmgmt_name(name: str) -> dict[str, Any]:
    """Device path, volume label and volume serial from an EMDMgmt subkey name."""
    brace = name.rfind("}")
    device_path, tail = (name[:brace + 1], name[brace + 1:]) if brace >= 0 else ("", name)
    label, sep, serial_text = tail.rpartition("_")
    out: dict[str, Any] = {"device_path": device_path or None,
                           "volume_label": (label if sep else tail) or None,
                           "volume_serial": None, "volume_serial_decimal": None}
    if sep and serial_text.isdigit() and int(serial_text) <= 0xFFFFFFFF:
        out["volume_serial_decimal"] = int(serial_text)
        out["volume_serial"] = f"{int(serial_text):08X}"
    if device_path:
        out.update({k: v for k, v in parse_device_path(device_path).items() if k in _IDENTITY})
    return out


@register_plugin
class PortableDevices(RegistryPlugin):
    name = "portable_devices"
    hives = ("SOFTWARE",)
    description = "Windows Portable Devices (volume labels, phones) and EMDMgmt (volume serials)"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for key in hive.subkeys(DEVICES):
            try:
                yield self._device(key, ctx)
            except Exception as exc:  # one bad entry never costs the others
                ctx.warn(f"{path_of(key)}: unreadable ({type(exc).__name__}: {exc})")
        for key in hive.subkeys(EMDMGMT):
            try:
                yield self._emdmgmt(key, ctx)
            except Exception as exc:
                ctx.warn(f"{path_of(key)}: unreadable ({type(exc).__name__}: {exc})")

    @staticmethod
    def _device(key: Any, ctx: ExtractionContext) -> Event:
        device_id = key.name()
        parsed = parse_device_path(device_id)
        ident = {k: v for k, v in parsed.items() if k in _IDENTITY} \
            if parsed.get("bus") in ("USB", "USBSTOR") else {}
        kind = {"USB": "portable device (MTP)", "USBSTOR": "mass storage"}.get(
            ident.get("bus") or "", "other")
        friendly = text_value(key, "FriendlyName", ctx)
        data = {"source": "Windows Portable Devices", "device_id": device_id,
                "friendly_name": friendly, "device_kind": kind, **ident, "key": path_of(key)}
        what = " ".join(p for p in (ident.get("vendor"), ident.get("product")) if p) or (
            f"VID_{ident['vid']}&PID_{ident['pid']}" if ident.get("vid") else device_id)
        serial = f" serial {ident['serial']}" if ident.get("serial") else ""
        return Event(key_time(key), "Key Last Written",
                     f"Portable device {friendly or '(no FriendlyName)'}: {what}{serial} [{kind}]",
                     data)

    @staticmethod
    def _emdmgmt(key: Any, ctx: ExtractionContext) -> Event:
        info = parse_emdmgmt_name(key.name())
        if info["volume_serial"] is None:
            ctx.warn(f"{path_of(key)}: no decimal volume serial after the last '_' of the name")
        status = value_or(key, "DeviceStatus")
        tested_value = find_value(key, "LastTestedTime")
        tested = value_bytes(tested_value) if tested_value is not None else None
        tested_at = None
        if tested is not None and len(tested) >= 8:
            stamp = filetime(struct.unpack_from("<Q", tested)[0])
            tested_at = stamp.iso() if stamp else None
        elif tested is not None:
            ctx.warn(f"{path_of(key)}: LastTestedTime of {len(tested)} bytes (too short): ignored")
        data = {"source": "EMDMgmt", **info,
                "device_status": status if isinstance(status, int) else None,
                "last_tested_time": tested_at, "key": path_of(key)}
        what = " ".join(p for p in (info.get("vendor"), info.get("product")) if p) or \
            info["device_path"] or key.name()
        serial = f"volume serial {info['volume_serial']}" if info["volume_serial"] \
            else "no volume serial"
        device = f" (device serial {info['serial']})" if info.get("serial") else ""
        return Event(key_time(key), "Key Last Written",
                     f"ReadyBoost (EMDMgmt) volume {info['volume_label'] or '(no label)'}, "
                     f"{serial}, on {what}{device}", data)
