"""Shell items (the entries of an ITEMIDLIST / PIDL) as stored in ShellBags `BagMRU` values.

Why a decoder of our own: every numbered value under BagMRU is one shell item naming one step
of a folder path (a root folder, a drive, a directory, a network share...). The common item
types are small and documented, so they are decoded here in pure Python: a damaged item
degrades to an "unknown" item instead of failing the bag, and the times it carries are read at
their true precision. libfwsi (pyfwsi) decodes most of these types too; the tests compare the
two where libfwsi is installed, and nothing here needs it.

Format (little-endian; reference: the "Windows Shell Item format" paper published with libyal's
libfwsi, Microsoft's [MS-PROPSTORE] for property stores and the KNOWNFOLDERID / shell folder
CLSID documentation). An item is `uint16 size (including itself) + uint8 class type + data`;
a list ends with a uint16 0.

    0x1F        root folder: 3 sort index, 4 shell folder GUID (My Computer, Network...),
                optional extension blocks after byte 20. Variant with signature 0xF5A6B710
                at 6: an embedded volume item at 10 (Windows 10 drives; followed by a delegate
                GUID and a shell folder GUID, "Removable Drives" for a removable disk).
                Variant with a property store (signature 0x23A3DFD5 at 6): users property view.
    0x20..0x2F  volume: class flag 0x01 = drive name at 3 ("C:\\", ASCII); 0x2E: a shell
                folder GUID at 4 (This PC\\Documents, \\Pictures...)
    0x30..0x3F  file entry: class flags 0x01 directory, 0x02 file, 0x04 Unicode primary name;
                4 uint32 file size, 8 FAT date + FAT time (modified), 12 uint16 attributes,
                14 primary (usually 8.3 short) name, NUL-terminated, 2-byte aligned; then
                extension blocks. The item's last uint16 is the offset of the first extension
                block.
    0x40..0x4F  network location: 4 flags, 5 location ("\\\\server\\share", ASCII, NUL-ended),
                then description (flag 0x80) and comments (flag 0x40)
    0x61        URI: 3 flags (0x80 = UTF-16 strings), 4 uint16 size of a data block counted
                from offset 4 (0 = none), then a uint16 0 and the URI string
    0x01        Control Panel category: 4 signature 0x39DE2184, 8 uint32 category number
    0x71        Control Panel item: 14 GUID of the applet
    0x74        delegate item: 4 uint16 size, 6 "CFSF", 10 an embedded file entry item, then a
                delegate GUID, a shell folder GUID and the extension blocks
    0x00        users property view: 4 uint16 size, 6 signature; the property store(s) ("1SPS"
                serialized property storage) carry the name. MTP portable device items:
                signature 0x10312005 (storage: name size at 38, name at 54) or 0x07192006
                (folder/file: name size at 62, name at 74), sizes in UTF-16 characters

Extension block 0xBEEF0004 (file entries): 0 uint16 size, 2 uint16 version, 4 signature,
8 created FAT date+time, 12 accessed FAT date+time, 16 uint16 version-dependent identifier;
version >= 7: 20 NTFS file reference (48-bit MFT entry + 16-bit sequence), 36 uint16 size of the
localized name; long name (UTF-16, NUL-ended) at 20 (versions 3-6), 38 (7), 42 (8), 46 (9+);
the localized name follows it. Extension block 0xBEEF0026 (root folders and volumes of Windows
10): 8 uint32, 12 three FILETIMEs (created, modified, accessed of the folder); 0xBEEF0025: two
FILETIMEs at 12 (meaning undocumented). These are kept in the item's data, not made events.

Times: the FAT date/times in file entries and in 0xBEEF0004 are file system times of the
folder itself (not of the user's action), 2-second resolution. Explorer fills them from the
file's UTC FILETIME without converting to local time, so they are reported as UTC.
"""
from __future__ import annotations

import datetime as _dt
import re
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from triage.model import Timestamp, filetime, from_datetime

MAX_ITEMS = 64          # a BagMRU value holds one item; an embedded list is a short path
MAX_EXTENSION_BLOCKS = 16
MAX_PROPERTIES = 256

# Shell folder CLSIDs (root folders, This PC folders, delegate folders) -> display names.
SHELL_FOLDERS: dict[str, str] = {
    "20D04FE0-3AEA-1069-A2D8-08002B30309D": "My Computer",
    "450D8FBA-AD25-11D0-98A8-0800361B1103": "My Documents",
    "208D2C60-3AEA-1069-A2D7-08002B30309D": "My Network Places",
    "F02C1A0D-BE21-4350-88B0-7367FC96EF3C": "Network",
    "645FF040-5081-101B-9F08-00AA002F954E": "Recycle Bin",
    "26EE0668-A00A-44D7-9371-BEB064C98683": "Control Panel",
    "21EC2020-3AEA-1069-A2DD-08002B30309D": "Control Panel",
    "5399E694-6CE5-4D6C-8FCE-1D8870FDCBA0": "Control Panel Home",
    "ED7BA470-8E54-465E-825C-99712043E01C": "All Tasks",
    "59031A47-3F72-44A7-89C5-5595FE6B30EE": "Users Files",
    "031E4825-7B94-4DC3-B131-E946B44C8DD5": "Libraries",
    "679F85CB-0220-4080-B29B-5540CC05AAB6": "Quick Access",
    "F874310E-B6B7-47DC-BC84-B9E6B38F5903": "Home",
    "E88865EA-0E1C-4E20-9AA6-EDCD0212C87C": "Gallery",
    "22877A6D-37A1-461A-91B0-DBDA5AAEBC99": "Recent Places",
    "323CA680-C24D-4099-B94D-446DD2D7249E": "Favorites",
    "018D5C66-4533-4307-9B53-224DE2ED1FE6": "OneDrive",
    "E31EA727-12ED-4702-820C-4B6445F28E1A": "Dropbox",
    "871C5380-42A0-1069-A2EA-08002B30309D": "Internet Explorer",
    "2227A280-3AEA-1069-A2DE-08002B30309D": "Printers",
    "7007ACC7-3202-11D1-AAD2-00805FC1270E": "Network Connections",
    "35786D3C-B075-49B9-88DD-029876E11C01": "Portable Devices",
    "4336A54D-038B-4685-AB02-99BB52D3FB8B": "Public",
    "ED228FDF-9EA8-4870-83B1-96B02CFE0D52": "Games",
    "04731B67-D933-450A-90E6-4ACD2E9408FE": "Search Results",
    "9343812E-1C37-4A49-A12E-4B2D810D956B": "Search Home",
    "3080F90D-D7AD-11D9-BD98-0000947B0257": "Show Desktop",
    "3080F90E-D7AD-11D9-BD98-0000947B0257": "Window Switcher",
    "F5FB2C77-0E2F-4A16-A381-3E560C68BC83": "Removable Drives",
    "5E591A74-DF96-48D3-8D67-1733BCEE28BA": "Delegate folder in This PC",
    "DFFACDC5-679F-4156-8947-C5C76BC0B67F": "Delegate folder in Users Files",
    # This PC folders (Windows 8.1 and later).
    "B4BFCC3A-DB2C-424C-B029-7FE99A87C641": "Desktop",
    "A8CDFF1C-4878-43BE-B5FD-F8091C1C60D0": "Documents",
    "D3162B92-9365-467A-956B-92703ACA08AF": "Documents",
    "374DE290-123F-4565-9164-39C4925E467B": "Downloads",
    "088E3905-0323-4B02-9826-5D99428E115F": "Downloads",
    "1CF1260C-4DD0-4EBB-811F-33C572699FDE": "Music",
    "3DFDF296-DBEC-4FB4-81D1-6A3438BCF4DE": "Music",
    "3ADD1653-EB32-4CB0-BBD7-DFA0ABB5ACCA": "Pictures",
    "24AD3AD4-A569-4530-98E1-AB02F9417AA8": "Pictures",
    "A0953C92-50DC-43BF-BE83-3742FED03C9C": "Videos",
    "F86FA3AB-70D2-4FC7-9C99-FCBF05467F3A": "Videos",
    "0DB7E03F-FC29-4DC6-9020-FF41B59E513A": "3D Objects",
}

REMOVABLE_FOLDERS = {"F5FB2C77-0E2F-4A16-A381-3E560C68BC83", "35786D3C-B075-49B9-88DD-029876E11C01"}
NETWORK_FOLDERS = {"F02C1A0D-BE21-4350-88B0-7367FC96EF3C", "208D2C60-3AEA-1069-A2D7-08002B30309D"}

# Control Panel categories (class 0x01) by number.
CONTROL_PANEL_CATEGORIES = {
    0: "All Control Panel Items", 1: "Appearance and Personalization", 2: "Hardware and Sound",
    3: "Network and Internet", 4: "Sounds, Speech, and Audio Devices", 5: "System and Security",
    6: "Clock, Language, and Region", 7: "Ease of Access", 8: "Programs", 9: "User Accounts",
    10: "Security Center", 11: "Mobile PC",
}

# Control Panel applets (class 0x71) by CLSID.
CONTROL_PANEL_ITEMS = {
    "ED834ED6-4B5A-4BFE-8F11-A626DCB6A921": "Personalization",
    "BB06C0E4-D293-4F75-8A90-CB05B6477EEE": "System",
    "7B81BE6A-CE2B-4676-A29E-EB907A5126C5": "Programs and Features",
    "D450A8A1-9568-45C7-9C0E-B4F9FB4537BD": "Installed Updates",
    "9C60DE1E-E5FC-40F4-A487-460851A8D915": "AutoPlay",
    "BB64F8A7-BEE7-4E1A-AB8D-7D8273F7FDB6": "Action Center",
    "17CD9488-1228-4B2F-88CE-4298E93E0966": "Default Programs",
    "A8A91A66-3A7D-4424-8D24-04E180695C7A": "Devices and Printers",
    "025A5937-A6BE-4686-A844-36FE4BEC8B6D": "Power Options",
    "8E908FC9-BECC-40F6-915B-F4CA0E70D03D": "Network and Sharing Center",
    "60632754-C523-4B62-B45C-4172DA012619": "User Accounts",
    "C58C4893-3BE0-4B45-ABB5-A63E4B8C8651": "Troubleshooting",
    "36EEF7DB-88AD-4E81-AD49-0E313F0C35F8": "Windows Update",
    "D555645E-D4F8-4C29-A827-D93C859C4F2A": "Ease of Access Center",
    "C555438B-3C23-4769-A71F-B6D3D9B6053A": "Display",
    "F2DDFC82-8F12-4CDD-B7DC-D4FE1425AA4D": "Sound",
    "B98A2BEA-7D42-4558-8BD1-832F41BAC6FD": "Backup and Restore",
    "6DFD7C5C-2451-11D3-A299-00C04F8EF6AF": "Folder Options",
    "E2E7934B-DCE5-43C4-9576-7FE4F75E7480": "Date and Time",
    "62D8ED13-C9D0-4CE8-A914-47DD628FB1B0": "Region",
    "9FE63AFD-59CF-4419-9775-ABCC3849F861": "Recovery",
    "BD84B380-8CA2-1069-AB1D-08000948F534": "Fonts",
    "D9EF8727-CAC2-4E60-809E-86F80A666C91": "BitLocker Drive Encryption",
    "A3DD4F92-658A-410F-84FD-6FBBBEF2FFFE": "Internet Options",
    "6C8EEC18-8D75-41B2-A177-8831D59D2D50": "Mouse",
    "725BE8F7-668E-4C7B-8F90-46BDB0936430": "Keyboard",
    "4026492F-2F69-46B8-B9BF-5654FC07E423": "Windows Firewall",
    "1206F5F1-0569-412C-8FEC-3204630DFB70": "Credential Manager",
    "74246BFC-4C96-11D0-ABEF-0020AF6B0B7A": "Device Manager",
    "D20EA4E1-3957-11D2-A40B-0C5020524153": "Administrative Tools",
}

# Property keys (format GUID, id) whose string names an item.
_PKEY_ITEM_NAME_DISPLAY = ("B725F130-47EF-101A-A5F1-02608C9EEBAC", 10)
_PKEY_PARSING_NAME = ("28636AA6-953D-11D2-B5D6-00C04FD918D0", 30)
_NAMED_FMTID = "D5CDD505-2E9C-101B-9397-08002B2CF9AE"  # string-named properties

_SIG_ROOT_DRIVE = 0xF5A6B710
_SIG_CONTROL_PANEL_CATEGORY = 0x39DE2184
_SIG_BEEF0004 = 0xBEEF0004
_SIG_BEEF0025 = 0xBEEF0025
_SIG_BEEF0026 = 0xBEEF0026
_PROPERTY_VIEW_SIGNATURES = {0x23FEBBEE, 0xBEEBEE00, 0x23A3DFD5, 0x10141981, 0x3B93AFBB}
_PORTABLE_DEVICE_SIGNATURES = {0x10312005, 0x07192006}

_DELEGATE_GUID_BYTES = uuid.UUID("5E591A74-DF96-48D3-8D67-1733BCEE28BA").bytes_le

_DRIVE = re.compile(r"^([A-Za-z]):\\?$")


@dataclass
class ShellItem:
    """One decoded shell item. `name` is the path segment it contributes."""

    kind: str
    class_type: int
    size: int
    name: str
    guid: str | None = None
    short_name: str | None = None
    long_name: str | None = None
    localized_name: str | None = None
    modified: Timestamp | None = None
    created: Timestamp | None = None
    accessed: Timestamp | None = None
    mft_entry: int | None = None
    mft_sequence: int | None = None
    file_size: int | None = None
    attributes: int | None = None
    drive_letter: str | None = None
    removable: bool = False
    network: bool = False
    extension_version: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def is_token(self) -> bool:
        """Shown as <Name> in a path (root folders, Control Panel, property views)."""
        return self.name.startswith("<") and self.name.endswith(">")


# ---------------------------------------------------------------------------------------------
# Primitive readers


def _u16(data: bytes, offset: int) -> int:
    return struct.unpack_from("<H", data, offset)[0]


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def guid_at(data: bytes, offset: int) -> str | None:
    """A GUID in Windows (mixed-endian) layout as upper-case text without braces."""
    if offset < 0 or offset + 16 > len(data):
        return None
    return str(uuid.UUID(bytes_le=bytes(data[offset:offset + 16]))).upper()


def _folder_token(guid: str | None) -> str:
    if guid is None:
        return "<unknown folder>"
    return f"<{SHELL_FOLDERS.get(guid, '{' + guid + '}')}>"


def utf16z(data: bytes, offset: int, end: int | None = None) -> tuple[str, int]:
    """A NUL-terminated UTF-16LE string and the offset just after its terminator."""
    end = len(data) if end is None else min(end, len(data))
    pos = offset
    while pos + 1 < end and (data[pos] or data[pos + 1]):
        pos += 2
    text = bytes(data[offset:pos]).decode("utf-16-le", "replace")
    return text, min(pos + 2, end)


def asciiz(data: bytes, offset: int, end: int | None = None,
           codepage: str = "cp1252") -> tuple[str, int]:
    end = len(data) if end is None else min(end, len(data))
    stop = data.find(b"\0", offset, end)
    if stop < 0:
        stop = end
    return bytes(data[offset:stop]).decode(codepage, "replace"), min(stop + 1, end)


def fat_datetime(date: int, time: int) -> Timestamp | None:
    """A FAT date + time (2-second resolution) as a UTC Timestamp; None when unset or invalid."""
    if date == 0 and time == 0:
        return None
    year = (date >> 9) + 1980
    month = (date >> 5) & 0x0F
    day = date & 0x1F
    hour = time >> 11
    minute = (time >> 5) & 0x3F
    second = (time & 0x1F) * 2
    try:
        value = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)
    except ValueError:
        return None
    return from_datetime(value, digits=0)


def fat_at(data: bytes, offset: int) -> Timestamp | None:
    if offset + 4 > len(data):
        return None
    return fat_datetime(_u16(data, offset), _u16(data, offset + 2))


def utf16_strings(data: bytes, minimum: int = 3) -> list[str]:
    """Printable UTF-16LE runs (2-byte aligned) in a blob: a last resort to name odd items."""
    found: list[str] = []
    for match in re.finditer(rb"(?:[\x20-\x7e][\x00]){%d,}" % minimum, bytes(data)):
        if match.start() % 2 == 0:
            found.append(match.group().decode("utf-16-le"))
    return found


# ---------------------------------------------------------------------------------------------
# Extension blocks and property stores


def parse_extension_blocks(data: bytes, start: int, item: ShellItem) -> None:
    """Walk the extension blocks from `start` and record what they say on `item`."""
    pos = start
    for _ in range(MAX_EXTENSION_BLOCKS):
        if pos + 8 > len(data):
            return
        size = _u16(data, pos)
        if size < 8 or pos + size > len(data):
            return
        block = bytes(data[pos:pos + size])
        signature = _u32(block, 4)
        if signature == _SIG_BEEF0004:
            _beef0004(block, item)
        elif signature == _SIG_BEEF0025 and size >= 28:
            times = [filetime(struct.unpack_from("<Q", block, 12 + 8 * i)[0]) for i in range(2)]
            item.extra["beef0025_times"] = [t.iso() for t in times if t is not None]
        elif signature == _SIG_BEEF0026 and size >= 36:
            times = [filetime(struct.unpack_from("<Q", block, 12 + 8 * i)[0]) for i in range(3)]
            for label, value in zip(("created", "modified", "accessed"), times):
                if value is not None:
                    item.extra[f"beef0026_{label}"] = value.iso()
        elif (signature & 0xFFFF0000) == 0xBEEF0000:
            item.extra.setdefault("extension_blocks", []).append(f"0x{signature:08x}")
        else:
            return
        pos += size


def _beef0004(block: bytes, item: ShellItem) -> None:
    if len(block) < 20:
        item.problems.append("0xbeef0004 block too short")
        return
    version = _u16(block, 2)
    item.extension_version = version
    item.created = fat_at(block, 8)
    item.accessed = fat_at(block, 12)
    end = len(block) - 2  # the last uint16 is the offset of the first block in the item
    localized_size = 0
    if version >= 7:
        if len(block) < 38:
            item.problems.append("0xbeef0004 block too short for its version")
            return
        reference = struct.unpack_from("<Q", block, 20)[0]
        if reference:
            item.mft_entry = reference & 0xFFFFFFFFFFFF
            item.mft_sequence = reference >> 48
        localized_size = _u16(block, 36)
        name_at = 38 + (4 if version >= 8 else 0) + (4 if version >= 9 else 0)
    elif version >= 3:
        localized_size = _u16(block, 18)
        name_at = 20
    else:
        return
    if name_at >= end:
        return
    long_name, after = utf16z(block, name_at, end)
    item.long_name = long_name or None
    if localized_size and after < end:
        if version >= 7:
            localized, _ = utf16z(block, after, end)
        else:
            localized, _ = asciiz(block, after, end)
        item.localized_name = localized or None


def parse_property_stores(data: bytes, start: int = 0) -> dict[str, Any]:
    """String (and small integer) properties of the serialized property stores ("1SPS") found
    from `start`: {"{FMTID}/id" or "{FMTID}/name": value}. Bounded and tolerant."""
    found: dict[str, Any] = {}
    pos = data.find(b"1SPS", start)
    while pos >= 4 and len(found) < MAX_PROPERTIES:
        storage_at = pos - 4
        storage_size = _u32(data, storage_at)
        if storage_size < 24 or storage_at + storage_size > len(data):
            break
        fmtid = guid_at(data, pos + 4)
        named = fmtid == _NAMED_FMTID
        cursor = pos + 20
        storage_end = storage_at + storage_size
        while cursor + 9 <= storage_end and len(found) < MAX_PROPERTIES:
            value_size = _u32(data, cursor)
            if value_size == 0 or cursor + value_size > storage_end:
                break
            if named:
                name_size = _u32(data, cursor + 4)
                name = bytes(data[cursor + 9:cursor + 9 + name_size]).decode("utf-16-le", "replace")
                key = f"{{{fmtid}}}/{name.rstrip(chr(0))}"
                typed_at = cursor + 9 + name_size
            else:
                key = f"{{{fmtid}}}/{_u32(data, cursor + 4)}"
                typed_at = cursor + 9
            value = _typed_value(data, typed_at, cursor + value_size)
            if value is not None:
                found[key] = value
            cursor += value_size
        pos = data.find(b"1SPS", storage_end)
    return found


def _typed_value(data: bytes, offset: int, end: int) -> Any:
    if offset + 4 > end:
        return None
    vtype = _u16(data, offset)
    body = offset + 4
    if vtype == 0x1F and body + 4 <= end:  # VT_LPWSTR: uint32 characters (with NUL)
        count = _u32(data, body)
        text = bytes(data[body + 4:min(end, body + 4 + count * 2)]).decode("utf-16-le", "replace")
        return text.split("\0", 1)[0]
    if vtype in (0x13, 0x03) and body + 4 <= end:  # VT_UI4 / VT_I4
        return _u32(data, body)
    if vtype == 0x0B and body + 2 <= end:  # VT_BOOL
        return _u16(data, body) != 0
    if vtype == 0x48 and body + 16 <= end:  # VT_CLSID
        return guid_at(data, body)
    return None


# ---------------------------------------------------------------------------------------------
# Item classes


def parse_item(data: bytes, codepage: str = "cp1252") -> ShellItem:
    """Decode one shell item (its bytes, the size field included). Never raises."""
    data = bytes(data)
    if len(data) < 3:
        return ShellItem("unknown", -1, len(data), "<empty item>", problems=["item too short"])
    class_type = data[2]
    try:
        item = _parse(data, class_type, codepage)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
        item = ShellItem("unknown", class_type, len(data), f"<unknown item 0x{class_type:02x}>",
                         problems=[f"undecodable item: {exc}"])
    return item


def _parse(data: bytes, class_type: int, codepage: str) -> ShellItem:
    size = len(data)
    signature6 = _u32(data, 6) if size >= 10 else None
    if class_type == 0x1F:
        if signature6 == _SIG_ROOT_DRIVE:
            return _root_drive(data)
        if signature6 in _PROPERTY_VIEW_SIGNATURES and size > 20 and b"1SPS" in data:
            return _property_view(data, class_type)
        guid = guid_at(data, 4)
        item = ShellItem("root_folder", class_type, size, _folder_token(guid), guid=guid)
        item.extra["sort_index"] = data[3]
        if size > 22:
            parse_extension_blocks(data, 20, item)
        item.network = guid in NETWORK_FOLDERS
        item.removable = guid in REMOVABLE_FOLDERS
        return item
    group = class_type & 0x70
    if group == 0x20:
        return _volume(data, class_type)
    if group == 0x30:
        return _file_entry(data, class_type, codepage)
    if group == 0x40:
        return _network(data, class_type, codepage)
    if class_type == 0x61:
        return _uri(data, class_type)
    if (class_type == 0x01 and signature6 is not None
            and _u32(data, 4) == _SIG_CONTROL_PANEL_CATEGORY):
        number = _u32(data, 8)
        label = CONTROL_PANEL_CATEGORIES.get(number, f"Control Panel category {number}")
        item = ShellItem("control_panel_category", class_type, size, f"<{label}>")
        item.extra["category"] = number
        return item
    if class_type == 0x71:
        guid = guid_at(data, 14)
        label = CONTROL_PANEL_ITEMS.get(guid or "", "{" + str(guid) + "}")
        return ShellItem("control_panel_item", class_type, size, f"<{label}>", guid=guid)
    if class_type == 0x74 and size >= 12 and data[6:10] == b"CFSF":
        return _delegate(data, class_type, codepage)
    if class_type == 0x00 and signature6 in _PORTABLE_DEVICE_SIGNATURES:
        return _portable_device(data, class_type, signature6)
    if signature6 in _PROPERTY_VIEW_SIGNATURES or b"1SPS" in data:
        return _property_view(data, class_type)
    return ShellItem("unknown", class_type, size, f"<unknown item 0x{class_type:02x}>",
                     problems=[f"unsupported shell item class 0x{class_type:02x}"])


def _volume(data: bytes, class_type: int) -> ShellItem:
    item = ShellItem("volume", class_type, len(data), "")
    if class_type & 0x01:
        name, _ = asciiz(data, 3, min(len(data), 3 + 20), "ascii")
        item.name = name or "<volume>"
        match = _DRIVE.match(name)
        if match:
            item.drive_letter = match.group(1).upper()
            item.name = f"{item.drive_letter}:\\"
    elif len(data) >= 20:
        item.guid = guid_at(data, 4)
        item.name = _folder_token(item.guid)
        item.removable = item.guid in REMOVABLE_FOLDERS
        if len(data) > 22:
            parse_extension_blocks(data, 20, item)
    else:
        item.name = "<volume>"
    return item


def _root_drive(data: bytes) -> ShellItem:
    """0x1F with signature 0xF5A6B710: an embedded volume item, a delegate GUID, a folder GUID."""
    inner_size = _u16(data, 10)
    inner = data[10:10 + inner_size] if inner_size >= 3 else b""
    item = _volume(inner, inner[2]) if inner else ShellItem("volume", 0x1F, len(data), "<volume>")
    item.kind = "root_drive"
    item.class_type = 0x1F
    item.size = len(data)
    # After the embedded item (and padding): a delegate GUID then the shell folder GUID.
    guids: list[str] = []
    marker = data.find(_DELEGATE_GUID_BYTES, 10 + inner_size)
    if marker >= 0:
        guids = [g for g in (guid_at(data, marker), guid_at(data, marker + 16)) if g]
    item.extra["delegate_guids"] = guids
    if any(g in REMOVABLE_FOLDERS for g in guids if g):
        item.removable = True
    return item


def _file_entry(data: bytes, class_type: int, codepage: str, ext_search_from: int | None = None,
                ) -> ShellItem:
    size = len(data)
    item = ShellItem("file_entry", class_type, size, "")
    item.extra["directory"] = bool(class_type & 0x01)
    if size < 14:
        item.name = "<file entry>"
        item.problems.append("file entry item too short")
        return item
    item.file_size = _u32(data, 4)
    item.modified = fat_at(data, 8)
    item.attributes = _u16(data, 12)
    if class_type & 0x04:
        short, after = utf16z(data, 14)
    else:
        short, after = asciiz(data, 14, None, codepage)
        if after % 2:
            after += 1
    item.short_name = short or None
    # The extension block: the item's last uint16 points at it; else look right after the name.
    candidates = []
    if size >= 2:
        candidates.append(_u16(data, size - 2))
    candidates.append(after)
    for start in candidates:
        if 14 <= start and start + 8 <= size and _u32(data, start + 4) == _SIG_BEEF0004:
            parse_extension_blocks(data, start, item)
            break
    item.name = item.long_name or item.short_name or "<file entry>"
    return item


def _delegate(data: bytes, class_type: int, codepage: str) -> ShellItem:
    """0x74 "CFSF": a file entry wrapped by a delegate folder (Users Files, libraries...)."""
    region = _u16(data, 4)
    inner_size = _u16(data, 10)
    inner = data[10:10 + inner_size]
    if len(inner) >= 3:
        item = _file_entry(inner, inner[2], codepage)
    else:
        item = ShellItem("file_entry", class_type, len(data), "<file entry>")
    item.kind = "delegate_file_entry"
    item.class_type = class_type
    item.size = len(data)
    guid_at_ = 6 + region
    delegate, folder = guid_at(data, guid_at_), guid_at(data, guid_at_ + 16)
    item.extra["delegate_guids"] = [g for g in (delegate, folder) if g]
    parse_extension_blocks(data, guid_at_ + 32, item)
    item.name = item.long_name or item.short_name or "<file entry>"
    return item


def _network(data: bytes, class_type: int, codepage: str) -> ShellItem:
    flags = data[4] if len(data) > 4 else 0
    location, after = asciiz(data, 5, None, codepage)
    item = ShellItem("network_location", class_type, len(data), location or "<network location>")
    item.network = True
    item.extra["network_flags"] = flags
    if flags & 0x80 and after < len(data):
        description, after = asciiz(data, after, None, codepage)
        item.extra["description"] = description or None
    if flags & 0x40 and after < len(data):
        comments, after = asciiz(data, after, None, codepage)
        item.extra["comments"] = comments or None
    return item


def _uri(data: bytes, class_type: int) -> ShellItem:
    """0x61: 3 flags (0x80 = UTF-16), 4 uint16 size of a data block counted from offset 4 (0 =
    none; the block holds connection details, e.g. FTP user names), then a uint16 0 and the
    URI string."""
    flags = data[3] if len(data) > 3 else 0
    block = _u16(data, 4) if len(data) >= 6 else 0
    start = 4 + max(block, 2) + 2
    text = ""
    if start < len(data):
        if flags & 0x80:
            text, _ = utf16z(data, start)
        else:
            text, _ = asciiz(data, start)
    if ":" not in text:
        candidates = [s for s in utf16_strings(data) if "://" in s]
        text = candidates[0] if candidates else text
    item = ShellItem("uri", class_type, len(data), text or "<uri>")
    item.network = bool(text)
    return item


def _property_view(data: bytes, class_type: int) -> ShellItem:
    props = parse_property_stores(data)
    name = None
    for key in (_PKEY_ITEM_NAME_DISPLAY, _PKEY_PARSING_NAME):
        value = props.get(f"{{{key[0]}}}/{key[1]}")
        if isinstance(value, str) and value:
            name = value
            break
    if name is None:
        searches = sorted((s for s in utf16_strings(data) if s.startswith("Search Results in ")),
                          key=len)
        if searches:
            name = searches[0]
    item = ShellItem("users_property_view", class_type, len(data), f"<{name or 'property view'}>")
    item.extra["signature"] = f"0x{_u32(data, 6):08x}" if len(data) >= 10 else None
    strings = {k: v for k, v in props.items() if isinstance(v, str) and v}
    if strings:
        item.extra["properties"] = dict(list(strings.items())[:16])
    return item


def _portable_device(data: bytes, class_type: int, signature: int) -> ShellItem:
    """MTP (portable device) items, layouts from the libfwsi paper: a storage device
    (0x10312005: uint32 name size in characters at 38, name UTF-16 at 54) or a folder/file on
    it (0x07192006: uint32 name size at 62, name UTF-16 at 74)."""
    size_at, name_at = (38, 54) if signature == 0x10312005 else (62, 74)
    name = None
    if len(data) >= name_at:
        chars = _u32(data, size_at)
        if 0 < chars <= (len(data) - name_at) // 2:
            name = bytes(data[name_at:name_at + 2 * chars]).decode("utf-16-le", "replace")
            name = name.split("\0", 1)[0] or None
    if not name:
        strings = [s for s in utf16_strings(data) if not s.startswith("{")]
        name = strings[0] if strings else None
    kind = "portable_device_storage" if signature == 0x10312005 else "portable_device_entry"
    item = ShellItem(kind, class_type, len(data), name or "<portable device>")
    item.removable = True
    item.extra["signature"] = f"0x{signature:08x}"
    return item


# ---------------------------------------------------------------------------------------------
# Lists and paths


def parse_item_list(data: bytes, codepage: str = "cp1252") -> list[ShellItem]:
    """Every item of an ITEMIDLIST (a BagMRU value holds one, then a uint16 0)."""
    data = bytes(data)
    items: list[ShellItem] = []
    pos = 0
    while pos + 2 <= len(data) and len(items) < MAX_ITEMS:
        size = _u16(data, pos)
        if size == 0:
            break
        if size < 3 or pos + size > len(data):
            items.append(ShellItem("unknown", -1, size, "<truncated item>",
                                   problems=[f"item size {size} runs past the value"]))
            break
        items.append(parse_item(data[pos:pos + size], codepage))
        pos += size
    return items


def join_path(segments: list[str]) -> str:
    """Join item names the usual way: `<My Computer> C:\\Users\\alice`, `\\\\server\\share\\dir`."""
    out = ""
    for segment in segments:
        if not out:
            out = segment
        elif out.endswith(">") or segment.startswith("<"):
            out += " " + segment
        elif out.endswith("\\"):
            out += segment
        else:
            out += "\\" + segment
    return out


__all__ = ["ShellItem", "parse_item", "parse_item_list", "join_path", "fat_datetime",
           "parse_property_stores", "SHELL_FOLDERS", "CONTROL_PANEL_ITEMS",
           "CONTROL_PANEL_CATEGORIES"]
