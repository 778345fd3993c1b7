"""USB and storage device identifiers as Windows writes them in the registry and in logs.

`USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.20\\<serial>&0`, `USB\\VID_0781&PID_5567\\<serial>`,
and device interface paths such as `_??_USBSTOR#Disk&Ven_...#<serial>#{53f56307-...}` found in
MountedDevices, EMDMgmt, Windows Portable Devices, setupapi.dev.log and event logs. Shared by
the registry plugins, the setupapi extractor and the device analysis, so a serial is read the
same way everywhere and devices correlate across sources.
"""
from __future__ import annotations

import re
from typing import Any

_STORAGE_ID = re.compile(
    r"^(?P<device_type>[^&#\\]*)&Ven_(?P<vendor>[^&#\\]*)(?:&Prod_(?P<product>[^&#\\]*))?"
    r"(?:&Rev_(?P<revision>[^&#\\]*))?", re.IGNORECASE)
_USB_ID = re.compile(
    r"^VID_(?P<vid>[0-9A-F]{4})&PID_(?P<pid>[0-9A-F]{4})(?:&MI_(?P<mi>[0-9A-F]{2}))?",
    re.IGNORECASE)
DISK_OFFSET = re.compile(r"^(?P<guid>\{[0-9A-F-]{36}\})#(?P<offset>[0-9A-F]{1,16})$",
                          re.IGNORECASE)
_PREFIXES = ("_??_", "\\??\\", "\\\\?\\", "##?#")


def serial_generated(instance: str | None) -> bool:
    """True when Windows made the instance id up (its second character is '&')."""
    return bool(instance) and len(instance) > 1 and instance[1] == "&"


def parse_storage_id(text: str) -> dict[str, Any]:
    """`Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.20` -> device_type, vendor, product, revision."""
    match = _STORAGE_ID.match(text or "")
    if not match:
        return {}
    return {k: (v or None) for k, v in match.groupdict().items()}


def parse_usb_id(text: str) -> dict[str, Any]:
    """`VID_0781&PID_5530[&MI_00]` -> vid, pid (upper-case hex), interface."""
    match = _USB_ID.match(text or "")
    if not match:
        return {}
    return {"vid": match.group("vid").upper(), "pid": match.group("pid").upper(),
            "interface": match.group("mi").upper() if match.group("mi") else None}


def _identity(bus: str, device: str, instance: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"bus": bus.upper() if bus else None, "device": device or None,
                           "serial": instance or None}
    if bus.upper() in ("USBSTOR", "SCSI"):
        out.update(parse_storage_id(device))
    elif bus.upper() == "USB":
        out.update(parse_usb_id(device))
    if instance:
        out["serial_generated"] = serial_generated(instance)
    return out


def parse_device_path(path: str) -> dict[str, Any]:
    """A device interface path as MountedDevices, EMDMgmt and WPD names write it.

    `_??_USBSTOR#Disk&Ven_X&Prod_Y&Rev_Z#<serial>#{53f56307-...}` (also with `\\??\\`),
    `USB#VID_xxxx&PID_yyyy#<serial>#{...}`, and names that embed one after other text
    (`SWD#WPDBUSENUM#_??_USBSTOR#...`, `...STORAGE#VOLUME#_??_USBSTOR#...`). Returns bus,
    device, serial, interface_guid, plus vendor/product/revision (USBSTOR) or vid/pid (USB).
    """
    text = (path or "").strip().rstrip("\x00")
    upper = text.upper()
    start = -1
    for marker in ("USBSTOR#", "USB#VID_"):
        pos = upper.rfind(marker)
        if pos >= 0 and (pos == 0 or upper[pos - 1] in "_\\#?"):
            start = pos
            break
    if start < 0:
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text = text[len(prefix):]
                break
        start = 0
    parts = text[start:].split("#")
    if len(parts) < 2:
        return {}
    out = _identity(parts[0], parts[1], parts[2] if len(parts) > 2 and parts[2] else None)
    guid = next((p for p in parts[3:] if p.startswith("{")), None)
    out["interface_guid"] = guid[:38].lower() if guid else None
    return out


def parse_instance_id(text: str) -> dict[str, Any]:
    """A device instance id: `USB\\VID_0781&PID_5567\\<serial>`, `USBSTOR\\Disk&Ven_...\\<serial>`,
    or one whose last part embeds a device path (`SWD\\WPDBUSENUM\\_??_USBSTOR#...`)."""
    parts = (text or "").strip().split("\\")
    if len(parts) >= 3 and "#" in parts[-1]:
        embedded = parse_device_path(parts[-1])
        if embedded.get("bus") in ("USB", "USBSTOR"):
            return embedded
    if len(parts) < 2:
        return {}
    return _identity(parts[0], parts[1], "\\".join(parts[2:]) or None)
