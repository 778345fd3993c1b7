"""Shell item lists as registry MRU plugins report them (RecentDocs, ComDlg32 OpenSavePidlMRU /
LastVisitedPidlMRU): one `RegistryItem` per decoded item, with the names and kinds these
events have always carried ("My Computer", "C:\\", kind "network"...), and a usable path.

The items are decoded by `triage.shellitems.items`; this module only names them. A path starts
at the last volume or network item ("E:\\CUSTOMERS\\list.xlsx"), at the full path a property
store gives, at a known folder's default location inside the user's folder
("%USERPROFILE%\\Documents\\..."), or else at the root ("Libraries\\Pictures").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from triage.model import Timestamp
from triage.shellitems.binary import NAMED_FORMAT, guid_text, u16
from triage.shellitems.items import (PROPERTY_VIEW_SIGNATURES, SIG_ROOT_DRIVE, ShellItem,
                                     parse_item, parse_item_list)
from triage.shellitems.names import (CONTROL_PANEL_CATEGORIES, CONTROL_PANEL_ITEMS,
                                     KNOWN_FOLDERS, ROOT_SORT_INDEX, USERS_FILES, folder_name)

_STORAGE = "B725F130-47EF-101A-A5F1-02608C9EEBAC"
_SHELL = "28636AA6-953D-11D2-B5D6-00C04FD918D0"
_SEARCH_PATH = "1E3EE840-BC2B-476C-8237-2ACD1A839B22"
_ZERO_GUID = "00000000-0000-0000-0000-000000000000"


@dataclass
class RegistryItem:
    """One item as MRU events report it: class type, kind, name and the file system facts."""

    class_type: int
    kind: str  # root_folder, volume, file_entry, network, uri, control_panel, known_folder, ...
    name: str
    guid: str | None = None
    short_name: str | None = None
    long_name: str | None = None
    is_directory: bool | None = None
    file_size: int | None = None
    modified: Timestamp | None = None
    created: Timestamp | None = None
    accessed: Timestamp | None = None
    mft_entry: int | None = None
    mft_sequence: int | None = None
    full_path: str | None = None  # from a property store, when the item carries one

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": f"0x{self.class_type:02x}", "kind": self.kind,
                               "name": self.name}
        for key in ("guid", "short_name", "long_name", "full_path", "is_directory", "file_size",
                    "modified", "created", "accessed", "mft_entry", "mft_sequence"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


def registry_items(data: bytes, offset: int = 0, codepage: str = "cp1252") -> list[RegistryItem]:
    """The items of the ITEMIDLIST at `offset`, named for MRU events."""
    return [registry_item(item) for item in parse_item_list(data, offset, codepage)]


def parse_registry_item(data: bytes, codepage: str = "cp1252") -> RegistryItem:
    """One item's bytes (size field included), named for MRU events. Never raises."""
    return registry_item(parse_item(data, codepage))


def registry_item(item: ShellItem) -> RegistryItem:
    """Name a decoded item the way MRU events do."""
    class_type = item.class_type
    if class_type < 0 or not item.raw:
        return RegistryItem(0, "unknown", item.name)
    unknown = RegistryItem(class_type, "unknown", f"<shell item 0x{class_type:02x}>")
    if item.kind == "unknown" and item.problems[:1] and item.problems[0].startswith("undecodable"):
        return unknown
    if class_type in (0x00, 0x1F) and item.signature in PROPERTY_VIEW_SIGNATURES:
        if item.known_folder:
            guid = item.known_folder
            return RegistryItem(class_type, "known_folder", folder_name(guid) or f"{{{guid}}}",
                                guid=guid)
        return _property_view(item)
    if class_type == 0x1F:
        return _root(item, unknown)
    group = class_type & 0x70
    if group == 0x20:
        return _volume(item)
    if group == 0x30 or (item.kind == "delegate_file_entry" and item.size >= 26):
        return _file_entry(item)
    if group == 0x40:
        location = item.name if item.name != "<network location>" else "<network>"
        return RegistryItem(class_type, "network", location)
    return _other(item, unknown)


def _other(item: ShellItem, unknown: RegistryItem) -> RegistryItem:
    """Control Panel, URI, portable device and property view items."""
    class_type = item.class_type
    if item.kind == "control_panel_category" and item.size >= 12:
        number = item.extra["category"]
        return RegistryItem(class_type, "control_panel_category",
                            CONTROL_PANEL_CATEGORIES.get(number, f"<category {number}>"))
    if class_type == 0x71 and item.size >= 30:
        guid = item.guid
        name = CONTROL_PANEL_ITEMS.get(guid or "") or folder_name(guid) or f"{{{guid}}}"
        return RegistryItem(class_type, "control_panel", name, guid=guid)
    if item.kind == "uri" or item.kind.startswith("portable_device"):
        return RegistryItem(class_type, item.kind, item.name)
    if item.kind == "users_property_view":
        return _property_view(item)
    return unknown


def _root(item: ShellItem, unknown: RegistryItem) -> RegistryItem:
    """0x1F: a root folder by GUID (all zeros: by sort index), or a drive wrapped in a root
    item (signature 0xF5A6B710: the volume item at offset 10)."""
    data, size = item.raw, item.size
    if item.signature == SIG_ROOT_DRIVE:
        if size < 13:
            return unknown
        inner_size = u16(data, 10)
        if not 3 <= inner_size <= size - 10:
            return unknown
        inner = registry_item(parse_item(data[10:10 + inner_size]))
        inner.class_type = 0x1F
        return inner
    if size < 20:
        return unknown
    guid = guid_text(data, 4)
    if guid == _ZERO_GUID:
        name = ROOT_SORT_INDEX.get(data[3], "<root folder>")
    else:
        name = folder_name(guid) or f"{{{guid}}}"
    return RegistryItem(0x1F, "root_folder", name, guid=guid)


def _volume(item: ShellItem) -> RegistryItem:
    if item.class_type & 0x01:
        name = item.extra.get("volume_name", "")
        return RegistryItem(item.class_type, "volume", name.rstrip("\\") + "\\" if name else "")
    guid = item.guid if item.size >= 20 else None
    name = folder_name(guid) or (f"{{{guid}}}" if guid else "<volume>")
    return RegistryItem(item.class_type, "volume", name, guid=guid)


def _file_entry(item: ShellItem) -> RegistryItem:
    if item.kind == "delegate_file_entry":  # the wrapped entry's own class says
        is_directory = item.extra.get("directory")
    else:
        flags = item.class_type & 0x0F
        is_directory = bool(flags & 0x01) if flags & 0x03 else None
    found = RegistryItem(item.class_type, "file_entry", item.long_name or item.short_name or "",
                         short_name=item.short_name, long_name=item.long_name,
                         is_directory=is_directory,
                         file_size=item.file_size, modified=item.modified, created=item.created,
                         accessed=item.accessed)
    if item.mft_entry:
        found.mft_entry, found.mft_sequence = item.mft_entry, item.mft_sequence
    return found


def _property_view(item: ShellItem) -> RegistryItem:
    """Named by its ParsingName, ItemNameDisplay or AutolistCacheKey property; the item's full
    path and its DateModified/Created/Accessed come from the property store too."""
    props = {key: value for key, value in item.properties.items()
             if isinstance(value, (str, Timestamp))}
    name = next((value for value in (props.get((_SHELL, 24)), props.get((_STORAGE, 10)),
                                     props.get((NAMED_FORMAT, "AutolistCacheKey")))
                 if isinstance(value, str) and value), None)
    found = RegistryItem(item.class_type, "property_view", name or "<property view>")
    path = props.get((_SEARCH_PATH, 8))
    if isinstance(path, str) and path:
        found.full_path = path
    for pid, attr in ((14, "modified"), (15, "created"), (16, "accessed")):
        value = props.get((_STORAGE, pid))
        if isinstance(value, Timestamp):
            setattr(found, attr, value)
    return found


def id_list_path(items: list[RegistryItem]) -> str:
    """A readable path: from the last volume ("C:\\") or network item when there is one,
    otherwise from the root folder ("Libraries\\Pictures", "Desktop\\notes.txt")."""
    start, base = 0, None
    for index, item in enumerate(items):
        if item.full_path:
            start, base = index, item.full_path
        elif item.kind in ("volume", "network") and item.name and not item.name.startswith("{"):
            start, base = index, None
        elif (item.kind == "known_folder" and index > 0 and items[index - 1].guid == USERS_FILES
              and (item.guid or "") in KNOWN_FOLDERS):
            # A known folder inside the user's own folder: its default location.
            start, base = index, KNOWN_FOLDERS[item.guid or ""][1]
    parts: list[str] = []
    for position, item in enumerate(items[start:]):
        name = base if position == 0 and base else item.name
        if not parts:
            parts.append(name)
        elif parts[-1].endswith("\\"):
            parts[-1] += name
        else:
            parts.append(name)
    return "\\".join(parts)


def decode_pidl(data: bytes, offset: int = 0, codepage: str = "cp1252") -> dict[str, Any]:
    """Path and facts of a PIDL, for an event's data: path, items, and the last item's file
    system facts (its own times, not the user's) when it is a file entry."""
    items = registry_items(data, offset, codepage)
    out: dict[str, Any] = {"path": id_list_path(items),
                           "shell_items": [item.as_dict() for item in items]}
    if items and items[-1].kind in ("file_entry", "property_view"):
        last = items[-1]
        for key in ("modified", "created", "accessed"):
            value = getattr(last, key)
            if value is not None:
                out[f"target_{key}"] = value
        if last.mft_entry is not None:
            out["target_mft_entry"] = last.mft_entry
            out["target_mft_sequence"] = last.mft_sequence
    return out
