"""USB devices seen by the Plug and Play manager (SYSTEM hive, current control set only).

Keys read, below `ControlSet00N` named by `Select\\Current` (older control sets are not read:
they are usually copies of the current one, and reading them would repeat the same facts):

`Enum\\USBSTOR\\<Type>&Ven_<vendor>&Prod_<product>&Rev_<revision>\\<instance>`
    USB mass storage. The instance id is the device's serial number followed by `&<LUN>`;
    when its second character is `&` the device reported no serial and Windows made the id up
    (`serial_generated: true`). Values: FriendlyName, ContainerID, Service, Class, HardwareID,
    and `Device Parameters\\Partmgr\\DiskId` (the disk GUID, also in SWD\\WPDBUSENUM names).
    `device_kind: "mass storage"`.
`Enum\\USB\\VID_<vid>&PID_<pid>[&MI_<interface>]\\<instance>` (and ROOT_HUB*)
    Every USB device: vid, pid, the instance id (the serial number, or a made-up id), Service
    (USBSTOR / UASPStor = mass storage, WUDFRd / WUDFWpdMtp = a WPD device such as an MTP phone,
    usbhub = hub, usbccgp = composite, HidUsb = HID), DeviceDesc, FriendlyName, Mfg,
    LocationInformation, ParentIdPrefix, ContainerID, CompatibleIDs. A device whose Service is
    WUDFRd/WUDFWpdMtp, whose Class is WPD (or the WPD class GUID), or whose CompatibleIDs name
    `USB\\MS_COMP_MTP` or the still-image class `USB\\Class_06&SubClass_01&Prot_01` is
    `device_kind: "portable device (MTP)"`: a phone never has a drive letter, and is kept.
`Enum\\SWD\\WPDBUSENUM\\<name>` (Windows 8 and later) and `Enum\\WpdBusEnumRoot\\UMB\\<name>`
    (Windows 7): the Windows Portable Devices view of a volume or device. The name embeds the
    device path (`_??_USBSTOR#Disk&Ven_...#<serial>#{53f56307-...}`; an MTP device's
    `_??_USB#VID_...#<serial>#{6ac27878-...}`), or on Windows 10 `{disk GUID}#<partition offset
    in hex>`. FriendlyName is the volume label (or drive) or the phone's name.

Times, one event each (all FILETIME UTC, full 100 ns precision):
    "Key Last Written"  the instance key's last-written time (the key changes on many occasions;
                        it is not by itself a connection time).
    "First Install", "Install", "Last Arrival", "Last Removal"
                        the device properties `Properties\\{83da6326-97a6-4088-9453-a1923f573b29}`
                        0064, 0065, 0066, 0067 (DEVPKEY_Device_FirstInstallDate, InstallDate,
                        LastArrivalDate, LastRemovalDate). Windows 8 and later keep each in the
                        (default) value of key `0064`... (type 0xFFFF0010, a FILETIME in 8 raw
                        bytes); Windows 7 in value `Data` of key `00000064\\00000000`, with value
                        `Type` = 0x10. Windows 7 records only 0064 and 0065. A zero time is
                        "not set" and gives no event.

Event data: enum (USBSTOR, USB, SWD\\WPDBUSENUM, WpdBusEnumRoot\\UMB), device_kind, device_id
(the full instance path), serial, serial_generated, the values above (friendly_name,
container_id, service, class, class_guid, hardware_ids, compatible_ids; device_desc and mfg
keep the display text of an `@file.inf,%key%;text` string), USBSTOR vendor/product/revision/device_type/serial_number (the
serial without the `&<LUN>` suffix, which is the Enum\\USB instance id), USB vid/pid/interface,
control_set and key; property events add `property` (e.g. `{83da6326-...}\\0066`).

Device identifiers are parsed by triage/usb_ids.py (shared with the other USB plugins, the
setupapi extractor and the device analysis).
"""
from __future__ import annotations

import re
import struct
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, Timestamp, filetime
from triage.registry import (HiveView, RegistryPlugin, find_value, key_time, path_of,
                             register_plugin, strings_value, subkey, subkeys, text_value,
                             value_bytes)
from triage.usb_ids import DISK_OFFSET, parse_device_path, parse_storage_id, parse_usb_id, \
    serial_generated

DEVICE_PROPERTIES_GUID = "{83da6326-97a6-4088-9453-a1923f573b29}"
PROPERTY_TIMES = {0x64: "First Install", 0x65: "Install", 0x66: "Last Arrival",
                  0x67: "Last Removal"}
DEVPROP_TYPE_FILETIME = 0x10
WPD_CLASS_GUID = "{eec5ad98-8080-425f-922a-dabf3de3f69a}"
_MTP_SERVICES = {"wudfrd", "wudfwpdmtp", "wpdmtp"}
_MTP_COMPATIBLE = ("usb\\ms_comp_mtp", "usb\\class_06&subclass_01&prot_01")

def _property_filetime(prop_key: Any, ctx: ExtractionContext) -> Timestamp | None:
    """The FILETIME of one device property key, in the Windows 8+ or the Windows 7 layout."""
    default = find_value(prop_key, "(default)") or find_value(prop_key, "")
    if default is not None:
        kind = default.value_type() & 0xFFF
        raw = value_bytes(default)
    else:
        slot = subkey(prop_key, "00000000")
        data = find_value(slot, "Data") if slot is not None else None
        if data is None:
            return None  # an empty property key: the time is not set
        raw = value_bytes(data)
        type_value = find_value(slot, "Type")
        type_raw = value_bytes(type_value) if type_value is not None else b""
        kind = struct.unpack_from("<I", type_raw)[0] & 0xFFF if len(type_raw) >= 4 \
            else DEVPROP_TYPE_FILETIME
    if kind != DEVPROP_TYPE_FILETIME:
        ctx.warn(f"{path_of(prop_key)}: property type 0x{kind:X} is not a FILETIME: skipped")
        return None
    if raw is None or len(raw) < 8:
        ctx.warn(f"{path_of(prop_key)}: FILETIME of {len(raw or b'')} bytes (too short): skipped")
        return None
    return filetime(struct.unpack_from("<Q", raw)[0])


def property_times(instance: Any, ctx: ExtractionContext) -> list[tuple[str, Timestamp, str]]:
    """(timestamp_desc, time, property name) for each install/arrival/removal time present."""
    properties = subkey(instance, "Properties")
    group = subkey(properties, DEVICE_PROPERTIES_GUID) if properties is not None else None
    found: list[tuple[str, Timestamp, str]] = []
    for prop in subkeys(group):
        try:
            number = int(prop.name(), 16)
        except ValueError:
            continue
        desc = PROPERTY_TIMES.get(number)
        if desc is None:
            continue
        try:
            when = _property_filetime(prop, ctx)
        except Exception as exc:  # a damaged value must not cost the device's other facts
            ctx.warn(f"{path_of(prop)}: unreadable ({type(exc).__name__}: {exc}): skipped")
            continue
        if when is not None:
            found.append((desc, when, f"{DEVICE_PROPERTIES_GUID}\\{prop.name()}"))
    order = list(PROPERTY_TIMES.values())
    return sorted(found, key=lambda item: order.index(item[0]))


# ---------------------------------------------------------------------------------------------


def _description(text: str | None) -> str | None:
    """`@usbstor.inf,%generic%;USB Mass Storage Device` -> `USB Mass Storage Device`."""
    if text and text.startswith("@") and ";" in text:
        return text.rsplit(";", 1)[1] or None
    return text


def usb_device_kind(device: str, service: str | None, cls: str | None, class_guid: str | None,
                    compatible: list[str]) -> str:
    svc = (service or "").lower()
    compat = [c.lower() for c in compatible]
    if (svc in _MTP_SERVICES or (cls or "").upper() == "WPD"
            or (class_guid or "").lower() == WPD_CLASS_GUID
            or any(c.startswith(m) for c in compat for m in _MTP_COMPATIBLE)):
        return "portable device (MTP)"
    if svc in ("usbstor", "uaspstor") or any(c.startswith("usb\\class_08") for c in compat):
        return "mass storage"
    if svc in ("usbhub", "usbhub3") or device.upper().startswith("ROOT_HUB") \
            or any(c.startswith("usb\\class_09") for c in compat):
        return "hub"
    if svc == "usbccgp":
        return "composite device"
    if svc in ("hidusb", "kbdhid", "mouhid") or any(c.startswith("usb\\class_03") for c in compat):
        return "input device (HID)"
    return "other"


@register_plugin
class UsbDevices(RegistryPlugin):
    name = "usb_devices"
    hives = ("SYSTEM",)
    description = "USB devices: Enum\\USBSTOR, Enum\\USB (VID/PID, MTP), SWD\\WPDBUSENUM"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        ccs = hive.current_control_set
        sources = (("USBSTOR", f"{ccs}\\Enum\\USBSTOR", self._usbstor),
                   ("USB", f"{ccs}\\Enum\\USB", self._usb),
                   ("SWD\\WPDBUSENUM", f"{ccs}\\Enum\\SWD\\WPDBUSENUM", None),
                   ("WpdBusEnumRoot\\UMB", f"{ccs}\\Enum\\WpdBusEnumRoot\\UMB", None))
        for enum, path, describe in sources:
            root = hive.key(path)
            if root is None:
                continue
            if describe is None:
                for instance in hive.subkeys(root):
                    yield from self._guarded(instance, ctx, lambda i=instance: self._wpd(
                        enum, i, ccs, ctx))
                continue
            for device in hive.subkeys(root):
                for instance in hive.subkeys(device):
                    yield from self._guarded(instance, ctx, lambda d=device, i=instance: describe(
                        d, i, ccs, ctx))

    @staticmethod
    def _guarded(instance: Any, ctx: ExtractionContext, make: Any) -> Iterator[Event]:
        try:
            events = list(make())
        except Exception as exc:  # one bad entry never costs the others
            ctx.warn(f"{path_of(instance)}: unreadable device entry ({type(exc).__name__}: {exc})")
            return
        yield from events

    @staticmethod
    def _events(instance: Any, data: dict[str, Any], label: str,
                ctx: ExtractionContext) -> Iterator[Event]:
        yield Event(key_time(instance), "Key Last Written", f"{label}: device key last written",
                    dict(data))
        for desc, when, prop in property_times(instance, ctx):
            yield Event(when, desc, f"{label}: {desc.lower()}", {**data, "property": prop})

    def _common(self, instance: Any, ctx: ExtractionContext) -> dict[str, Any]:
        return {
            "friendly_name": text_value(instance, "FriendlyName", ctx),
            "container_id": text_value(instance, "ContainerID", ctx),
            "service": text_value(instance, "Service", ctx),
            "class": text_value(instance, "Class", ctx),
            "class_guid": text_value(instance, "ClassGUID", ctx),
            "device_desc": _description(text_value(instance, "DeviceDesc", ctx)),
            "mfg": _description(text_value(instance, "Mfg", ctx)),
        }

    def _usbstor(self, device: Any, instance: Any, ccs: str,
                 ctx: ExtractionContext) -> Iterator[Event]:
        serial = instance.name()
        ident = parse_storage_id(device.name())
        if not ident:
            ctx.warn(f"{path_of(device)}: not a <type>&Ven_&Prod_&Rev_ device id: vendor unknown")
        generated = serial_generated(serial)
        parameters = subkey(instance, "Device Parameters")
        partmgr = subkey(parameters, "Partmgr") if parameters is not None else None
        data = {
            "enum": "USBSTOR", "device_kind": "mass storage",
            "device_id": f"USBSTOR\\{device.name()}\\{serial}",
            "device_type": ident.get("device_type"), "vendor": ident.get("vendor"),
            "product": ident.get("product"), "revision": ident.get("revision"),
            "serial": serial, "serial_generated": generated,
            "serial_number": None if generated else re.sub(r"&\d+$", "", serial),
            **self._common(instance, ctx),
            "hardware_ids": strings_value(instance, "HardwareID", ctx),
            "disk_id": text_value(partmgr, "DiskId", ctx) if partmgr is not None else None,
            "control_set": ccs, "key": path_of(instance),
        }
        name = data["friendly_name"] or " ".join(
            p for p in (data["vendor"], data["product"]) if p) or device.name()
        yield from self._events(instance, data, f"USB mass storage {name} (serial {serial})", ctx)

    def _usb(self, device: Any, instance: Any, ccs: str,
             ctx: ExtractionContext) -> Iterator[Event]:
        serial = instance.name()
        ident = parse_usb_id(device.name())
        common = self._common(instance, ctx)
        compatible = strings_value(instance, "CompatibleIDs", ctx)
        kind = usb_device_kind(device.name(), common["service"], common["class"],
                               common["class_guid"], compatible)
        data = {
            "enum": "USB", "device_kind": kind,
            "device_id": f"USB\\{device.name()}\\{serial}",
            "vid": ident.get("vid"), "pid": ident.get("pid"), "interface": ident.get("interface"),
            "serial": serial, "serial_generated": serial_generated(serial),
            **common,
            "location_information": text_value(instance, "LocationInformation", ctx),
            "parent_id_prefix": text_value(instance, "ParentIdPrefix", ctx),
            "hardware_ids": strings_value(instance, "HardwareID", ctx),
            "compatible_ids": compatible,
            "control_set": ccs, "key": path_of(instance),
        }
        shown = data["friendly_name"] or data["device_desc"]
        ids = f"VID_{data['vid']}&PID_{data['pid']}" if ident else device.name()
        label = f"USB device {ids}{f' ({shown})' if shown else ''} serial {serial} [{kind}]"
        yield from self._events(instance, data, label, ctx)

    def _wpd(self, enum: str, instance: Any, ccs: str, ctx: ExtractionContext) -> Iterator[Event]:
        name = instance.name()
        common = self._common(instance, ctx)
        compatible = strings_value(instance, "CompatibleIDs", ctx)
        embedded = parse_device_path(name)
        data: dict[str, Any] = {"enum": enum, "device_id": f"{enum}\\{name}"}
        disk = DISK_OFFSET.match(name)
        if embedded.get("bus") == "USB":
            kind = "portable device (MTP)"
        elif embedded.get("bus") == "USBSTOR" or disk or \
                any(c.lower() == "wpdbusenum\\fs" for c in compatible):
            kind = "mass storage"
        else:
            kind = usb_device_kind("", common["service"], common["class"], common["class_guid"],
                                   compatible)
        data["device_kind"] = kind
        if embedded.get("bus") in ("USB", "USBSTOR"):
            data.update({k: embedded.get(k) for k in (
                "bus", "vendor", "product", "revision", "vid", "pid", "serial",
                "serial_generated", "interface_guid") if k in embedded})
        if disk:
            data["disk_id"] = disk.group("guid").lower()
            data["partition_offset"] = int(disk.group("offset"), 16)
        data.update(common)
        data.update({"compatible_ids": compatible, "control_set": ccs, "key": path_of(instance)})
        shown = common["friendly_name"] or "(no FriendlyName)"
        yield from self._events(instance, data, f"Portable device {shown} ({kind}) {name}", ctx)
