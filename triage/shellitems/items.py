"""Decoding of single shell items and item lists into `ShellItem`s (layouts: see the package
documentation). Every decoder reads only the item's own bytes; an item that cannot be read
becomes kind "unknown" with a problem, never an exception.
"""
from __future__ import annotations

import re
import struct
import uuid
from dataclasses import dataclass, field
from typing import Any

from triage.model import Timestamp, filetime
from triage.shellitems.binary import (fat_at, guid_text, parse_property_stores, read_asciiz,
                                      read_utf16z, u16, u32, utf16_strings)
from triage.shellitems.names import (CONTROL_PANEL_CATEGORIES, CONTROL_PANEL_ITEMS,
                                     NETWORK_FOLDERS, REMOVABLE_FOLDERS, SHELL_FOLDERS)

MAX_ITEMS = 512  # a real list is a path: a handful of items
MAX_EXTENSION_BLOCKS = 16

SIG_ROOT_DRIVE = 0xF5A6B710
SIG_CONTROL_PANEL_CATEGORY = 0x39DE2184
SIG_KNOWN_FOLDER = 0x23FEBBEE
PROPERTY_VIEW_SIGNATURES = {0x23FEBBEE, 0xBEEBEE00, 0x23A3DFD5, 0x10141981, 0x3B93AFBB}
PORTABLE_DEVICE_SIGNATURES = {0x10312005, 0x07192006}
_BEEF0004, _BEEF0025, _BEEF0026 = 0xBEEF0004, 0xBEEF0025, 0xBEEF0026
_BEEF0004_VERSIONS = (3, 7, 8, 9)  # Windows XP, Vista, 7, 8 and later
_DELEGATE_GUID = uuid.UUID("5E591A74-DF96-48D3-8D67-1733BCEE28BA").bytes_le
_DRIVE = re.compile(r"^([A-Za-z]):\\?$")
_NAMES = "surrogatepass"  # file names keep a lone surrogate as NTFS stores it

# Property keys (format GUID, id) that name an item.
ITEM_NAME_DISPLAY = ("B725F130-47EF-101A-A5F1-02608C9EEBAC", 10)
PARSING_PATH = ("28636AA6-953D-11D2-B5D6-00C04FD918D0", 30)


@dataclass
class ShellItem:
    """One decoded shell item. `name` is the path segment it contributes: a file, folder,
    drive, share or URI as written, or `<Name>` for a virtual folder (root folders, Control
    Panel, property views). `signature` is the uint32 at offset 6 (it tells variants of a class
    apart), `known_folder` the KNOWNFOLDERID of a users property view, `properties` the values
    of its property stores; `raw` keeps the item's bytes for readers of rarer layouts."""

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
    signature: int | None = None
    known_folder: str | None = None
    properties: dict[tuple[str, Any], Any] = field(default_factory=dict)
    raw: bytes = b""
    extra: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def is_token(self) -> bool:
        """Shown as <Name> in a path (root folders, Control Panel, property views)."""
        return self.name.startswith("<") and self.name.endswith(">")


def _folder_token(guid: str | None) -> str:
    if guid is None:
        return "<unknown folder>"
    return f"<{SHELL_FOLDERS.get(guid, '{' + guid + '}')}>"


# ---------------------------------------------------------------------------------------------
# Lists and items


def parse_item_list(data: bytes, offset: int = 0, codepage: str = "cp1252") -> list[ShellItem]:
    """Every item of an ITEMIDLIST from `offset` up to its terminal uint16 0; an item whose
    size runs past the data ends the list as a "<truncated item>"."""
    data = bytes(data)
    items: list[ShellItem] = []
    pos = offset
    while pos + 2 <= len(data) and len(items) < MAX_ITEMS:
        size = u16(data, pos)
        if size == 0:
            break
        if size < 3 or pos + size > len(data):
            items.append(ShellItem("unknown", -1, size, "<truncated item>",
                                   problems=[f"item size {size} runs past the value"]))
            break
        items.append(parse_item(data[pos:pos + size], codepage))
        pos += size
    return items


def parse_item(data: bytes, codepage: str = "cp1252") -> ShellItem:
    """Decode one shell item (its bytes, the size field included). Never raises."""
    data = bytes(data)
    if len(data) < 3:
        return ShellItem("unknown", -1, len(data), "<empty item>", raw=data,
                         problems=["item too short"])
    class_type = data[2]
    signature = u32(data, 6) if len(data) >= 10 else None
    try:
        item = _parse(data, class_type, signature, codepage)
    except (struct.error, IndexError, ValueError, UnicodeDecodeError) as exc:
        item = ShellItem("unknown", class_type, len(data), f"<unknown item 0x{class_type:02x}>",
                         problems=[f"undecodable item: {exc}"])
    item.raw, item.signature = data, signature
    if signature == SIG_KNOWN_FOLDER and len(data) >= 30 and u16(data, 12) == 16:
        item.known_folder = guid_text(data, 14)  # 12: size of the GUID that follows
    return item


def _parse(data: bytes, class_type: int, signature: int | None, codepage: str) -> ShellItem:
    size = len(data)
    if class_type == 0x1F:
        if signature == SIG_ROOT_DRIVE:
            return _root_drive(data)
        if signature in PROPERTY_VIEW_SIGNATURES and size > 20 and b"1SPS" in data:
            return _property_view(data, class_type)
        return _root_folder(data)
    group = class_type & 0x70
    if group == 0x20:
        return _volume(data, class_type, codepage)
    if group == 0x30:
        return _file_entry(data, class_type, codepage)
    if group == 0x40:
        return _network(data, class_type, codepage)
    if class_type == 0x61:
        return _uri(data, class_type)
    if class_type == 0x01 and signature is not None and u32(data, 4) == SIG_CONTROL_PANEL_CATEGORY:
        number = u32(data, 8)
        label = CONTROL_PANEL_CATEGORIES.get(number, f"Control Panel category {number}")
        item = ShellItem("control_panel_category", class_type, size, f"<{label}>")
        item.extra["category"] = number
        return item
    if class_type == 0x71:
        guid = guid_text(data, 14)
        label = CONTROL_PANEL_ITEMS.get(guid or "", "{" + str(guid) + "}")
        return ShellItem("control_panel_item", class_type, size, f"<{label}>", guid=guid)
    if class_type == 0x74 and size >= 12 and data[6:10] == b"CFSF":
        return _delegate(data, class_type, codepage)
    if class_type == 0x00 and signature in PORTABLE_DEVICE_SIGNATURES:
        return _portable_device(data, class_type, signature)
    if signature in PROPERTY_VIEW_SIGNATURES or b"1SPS" in data:
        return _property_view(data, class_type)
    return ShellItem("unknown", class_type, size, f"<unknown item 0x{class_type:02x}>",
                     problems=[f"unsupported shell item class 0x{class_type:02x}"])


# ---------------------------------------------------------------------------------------------
# Item classes


def _root_folder(data: bytes) -> ShellItem:
    """0x1F: 3 sort index, 4 shell folder GUID, extension blocks after byte 20."""
    guid = guid_text(data, 4)
    item = ShellItem("root_folder", 0x1F, len(data), _folder_token(guid), guid=guid)
    item.extra["sort_index"] = data[3]
    if len(data) > 22:
        parse_extension_blocks(data, 20, item)
    item.network = guid in NETWORK_FOLDERS
    item.removable = guid in REMOVABLE_FOLDERS
    return item


def _volume(data: bytes, class_type: int, codepage: str = "cp1252") -> ShellItem:
    """0x20-0x2F: flag 0x01 = a drive name at 3 ("C:\\"), else a shell folder GUID at 4."""
    item = ShellItem("volume", class_type, len(data), "")
    if class_type & 0x01:
        name, _ = read_asciiz(data, 3, min(len(data), 3 + 20), codepage)
        item.extra["volume_name"] = name
        item.name = name or "<volume>"
        match = _DRIVE.match(name)
        if match:
            item.drive_letter = match.group(1).upper()
            item.name = f"{item.drive_letter}:\\"
    elif len(data) >= 20:
        item.guid = guid_text(data, 4)
        item.name = _folder_token(item.guid)
        item.removable = item.guid in REMOVABLE_FOLDERS
        if len(data) > 22:
            parse_extension_blocks(data, 20, item)
    else:
        item.name = "<volume>"
    return item


def _root_drive(data: bytes) -> ShellItem:
    """0x1F with signature 0xF5A6B710 (Windows 10 drives): a volume item at 10, then a
    delegate GUID and a shell folder GUID ("Removable Drives" for a removable disk)."""
    inner_size = u16(data, 10)
    inner = data[10:10 + inner_size] if inner_size >= 3 else b""
    item = _volume(inner, inner[2]) if inner else ShellItem("volume", 0x1F, len(data), "<volume>")
    item.kind, item.class_type, item.size = "root_drive", 0x1F, len(data)
    guids: list[str] = []
    marker = data.find(_DELEGATE_GUID, 10 + inner_size)
    if marker >= 0:
        guids = [g for g in (guid_text(data, marker), guid_text(data, marker + 16)) if g]
    item.extra["delegate_guids"] = guids
    if any(g in REMOVABLE_FOLDERS for g in guids):
        item.removable = True
    return item


def _file_entry(data: bytes, class_type: int, codepage: str) -> ShellItem:
    """0x30-0x3F: flags 0x01 directory, 0x04 Unicode name; 4 size, 8 FAT modified time,
    12 attributes, 14 primary name (2-byte aligned), then extension blocks, the first one
    pointed at by the item's last uint16."""
    size = len(data)
    item = ShellItem("file_entry", class_type, size, "")
    item.extra["directory"] = bool(class_type & 0x01)
    if size < 14:
        item.name = "<file entry>"
        item.problems.append("file entry item too short")
        return item
    item.file_size = u32(data, 4)
    item.modified = fat_at(data, 8)
    item.attributes = u16(data, 12)
    if class_type & 0x04:
        short, after = read_utf16z(data, 14, errors=_NAMES)
    else:
        short, after = read_asciiz(data, 14, None, codepage)
        after += after % 2
    item.short_name = short or None
    for start in (u16(data, size - 2), after):
        if 14 <= start and start + 8 <= size and u32(data, start + 4) == _BEEF0004:
            parse_extension_blocks(data, start, item)
            break
    if item.extension_version is None and not item.problems:
        _recover_beef0004(data, after, item)
    item.name = item.long_name or item.short_name or "<file entry>"
    return item


def _recover_beef0004(data: bytes, after: int, item: ShellItem) -> None:
    """A 0xBEEF0004 block that neither the item's pointer nor the end of the name leads to, or
    whose size runs past the item (damage): found by its signature, read up to the item's end,
    and said so in `problems`."""
    found = data.find(b"\x04\x00\xef\xbe", after)
    if found < 4:
        return
    start = found - 4
    size = u16(data, start)
    _beef0004(data[start:start + size] if size >= 20 else data[start:], item)
    if item.extension_version is not None:
        item.problems.append("0xbeef0004 block found by its signature (damaged size or offset)")


def _delegate(data: bytes, class_type: int, codepage: str) -> ShellItem:
    """0x74 "CFSF": a file entry (at 10) wrapped by a delegate folder, then a delegate GUID,
    a shell folder GUID and the extension blocks."""
    region = u16(data, 4)
    inner = data[10:10 + u16(data, 10)]
    if len(inner) >= 3:
        item = _file_entry(inner, inner[2], codepage)
    else:
        item = ShellItem("file_entry", class_type, len(data), "<file entry>")
    item.kind, item.class_type, item.size = "delegate_file_entry", class_type, len(data)
    guids_at = 6 + region
    delegate, folder = guid_text(data, guids_at), guid_text(data, guids_at + 16)
    item.extra["delegate_guids"] = [g for g in (delegate, folder) if g]
    parse_extension_blocks(data, guids_at + 32, item)
    item.name = item.long_name or item.short_name or "<file entry>"
    return item


def _network(data: bytes, class_type: int, codepage: str) -> ShellItem:
    """0x40-0x4F: 4 flags, 5 location ("\\\\server\\share"), then description (flag 0x80)
    and comments (flag 0x40)."""
    flags = data[4] if len(data) > 4 else 0
    location, after = read_asciiz(data, 5, None, codepage)
    item = ShellItem("network_location", class_type, len(data), location or "<network location>")
    item.network = True
    item.extra["network_flags"] = flags
    if flags & 0x80 and after < len(data):
        description, after = read_asciiz(data, after, None, codepage)
        item.extra["description"] = description or None
    if flags & 0x40 and after < len(data):
        comments, after = read_asciiz(data, after, None, codepage)
        item.extra["comments"] = comments or None
    return item


def _uri(data: bytes, class_type: int) -> ShellItem:
    """0x61: 3 flags (0x80 = UTF-16), 4 uint16 size of a data block counted from offset 4 (0 =
    none; it holds connection details such as FTP user names), then a uint16 and the URI."""
    flags = data[3] if len(data) > 3 else 0
    block = u16(data, 4) if len(data) >= 6 else 0
    start = 4 + max(block, 2) + 2
    text = ""
    if start < len(data):
        text = read_utf16z(data, start)[0] if flags & 0x80 else read_asciiz(data, start)[0]
    if ":" not in text:
        candidates = [s for s in utf16_strings(data) if "://" in s]
        text = candidates[0] if candidates else text
    item = ShellItem("uri", class_type, len(data), text or "<uri>")
    item.network = bool(text)
    return item


def _property_view(data: bytes, class_type: int) -> ShellItem:
    """A users property view (library, search and device views): named by its property store
    (ItemNameDisplay, else the parsing path), else by a "Search Results in ..." string."""
    props = parse_property_stores(data)
    name = None
    for key in (ITEM_NAME_DISPLAY, PARSING_PATH):
        value = props.get(key)
        if isinstance(value, str) and value:
            name = value
            break
    if name is None:
        searches = sorted((s for s in utf16_strings(data) if s.startswith("Search Results in ")),
                          key=len)
        if searches:
            name = searches[0]
    item = ShellItem("users_property_view", class_type, len(data), f"<{name or 'property view'}>")
    item.properties = props
    item.extra["signature"] = f"0x{u32(data, 6):08x}" if len(data) >= 10 else None
    strings = {f"{{{fmtid}}}/{key}": value for (fmtid, key), value in props.items()
               if isinstance(value, str) and value}
    if strings:
        item.extra["properties"] = dict(list(strings.items())[:16])
    return item


def _portable_device(data: bytes, class_type: int, signature: int) -> ShellItem:
    """MTP items: a storage (0x10312005: uint32 name size in characters at 38, UTF-16 name at
    54) or a folder or file on it (0x07192006: name size at 62, name at 74)."""
    size_at, name_at = (38, 54) if signature == 0x10312005 else (62, 74)
    name = None
    if len(data) >= name_at:
        chars = u32(data, size_at)
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
# Extension blocks


def parse_extension_blocks(data: bytes, start: int, item: ShellItem) -> None:
    """Walk the extension blocks (uint16 size, uint16 version, uint32 0xBEEFxxxx signature)
    from `start` and record what they say on `item`."""
    pos = start
    for _ in range(MAX_EXTENSION_BLOCKS):
        if pos + 8 > len(data):
            return
        size = u16(data, pos)
        if size < 8 or pos + size > len(data):
            return
        block = bytes(data[pos:pos + size])
        signature = u32(block, 4)
        if signature == _BEEF0004:
            _beef0004(block, item)
        elif signature == _BEEF0025 and size >= 28:
            times = [filetime(struct.unpack_from("<Q", block, 12 + 8 * i)[0]) for i in range(2)]
            item.extra["beef0025_times"] = [t.iso() for t in times if t is not None]
        elif signature == _BEEF0026 and size >= 36:
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
    """File entry extension: 8 created and 12 accessed FAT times; version 7+: 20 NTFS file
    reference (48-bit MFT entry, 16-bit sequence); the long name (UTF-16) at 20 (version 3),
    38 (7), 42 (8) or 46 (9), then the localized name. Other versions are damage: not read."""
    if len(block) < 20:
        item.problems.append("0xbeef0004 block too short")
        return
    version = u16(block, 2)
    if version not in _BEEF0004_VERSIONS:
        item.problems.append(f"0xbeef0004 block of unknown version {version}")
        return
    item.extension_version = version
    item.created = fat_at(block, 8)
    item.accessed = fat_at(block, 12)
    end = len(block) - 2  # the last uint16 is the offset of the first block in the item
    if version >= 7:
        if len(block) < 38:
            item.problems.append("0xbeef0004 block too short for its version")
            return
        reference = struct.unpack_from("<Q", block, 20)[0]
        if reference:
            item.mft_entry, item.mft_sequence = reference & 0xFFFFFFFFFFFF, reference >> 48
        localized_size = u16(block, 36)
        name_at = 38 + (4 if version >= 8 else 0) + (4 if version >= 9 else 0)
    else:
        localized_size = u16(block, 18)
        name_at = 20
    if name_at >= end:
        return
    long_name, after = read_utf16z(block, name_at, end, _NAMES)
    item.long_name = long_name or None
    if localized_size and after < end:
        if version >= 7:
            localized = read_utf16z(block, after, end, _NAMES)[0]
        else:
            localized = read_asciiz(block, after, end)[0]
        item.localized_name = localized or None


# ---------------------------------------------------------------------------------------------
# Paths


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
