"""Shell item lists as shortcuts (LNK target ID lists) and Jump List entries report them: the
items as plain dicts and a path in the usual examiner notation, e.g.
`<My Computer> C:\\Program Files\\App\\app.exe`: root folders and known folders as `<Name>`
(`<{guid}>` when the GUID is not known here), then volume, network, file entry (long name when
the extension block has one) and URI items.

The values (names, GUIDs, sizes, times, MFT references, URIs, shares) come from the shared
decoder, `triage.shellitems.items`. libfwsi (pyfwsi) is still asked for what it has always
decided here, so that every shortcut, damaged ones included, reads as it did: whether the list
can be read at all (if not, libfwsi's reason goes to `on_error` and there is no path), which
type each item is read as, which items it cannot read (those stay `<unknown shell item 0xNN>`
with the class type libfwsi reports) and whether a file entry's 0xBEEF0004 extension block is
usable. Compressed (ZIP) folder names and Control Panel identifiers, layouts the shared decoder
does not read, are libfwsi's too.

Times in file entry items are FAT date/times: 2-second resolution, stored in UTC; they are
given as ISO 8601 strings with no fractional digits. The NTFS file reference in the extension
block is 48 bits of MFT entry and 16 bits of sequence number.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pyfwsi

from triage.shellitems.binary import guid_text
from triage.shellitems.items import MAX_ITEMS, ShellItem, parse_item_list
from triage.shellitems.names import folder_name


@dataclass
class ShellPath:
    path: str
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def target_reference(self) -> tuple[int, int] | None:
        """The file reference of the last file entry item (the link target itself)."""
        for item in reversed(self.items):
            if item.get("type") == "file_entry":
                if item.get("mft_entry") is None:
                    return None
                return item["mft_entry"], item["mft_sequence"]
        return None


def shell_path(raw: bytes, on_error: Callable[[str], None] | None = None) -> ShellPath | None:
    """A shell item list's items and readable path; None (told to `on_error`) when unreadable."""
    if not raw:
        return None
    try:
        checked = _libfwsi_items(raw)
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        if on_error:
            reason = " ".join(str(exc).split())
            on_error(f"unreadable shell item list: {reason[:200]}")
        return None
    decoded = parse_item_list(raw)
    items = [_clean(_describe(decoded[i] if i < len(decoded) else None, libfwsi_item))
             for i, libfwsi_item in enumerate(checked)]
    return ShellPath(path=_join(items), items=items)


def _libfwsi_items(raw: bytes) -> list[Any]:
    items_list = pyfwsi.item_list()
    items_list.copy_from_byte_stream(raw)
    count = min(items_list.number_of_items, MAX_ITEMS)
    return [items_list.get_item(index) for index in range(count)]


def _attr(obj: Any, name: str) -> Any:
    """A pyfwsi property; libfwsi raises for values it cannot decode."""
    try:
        return getattr(obj, name)
    except (OSError, ValueError, TypeError, OverflowError):
        return None


def _token(guid: str | None) -> str:
    return f"<{folder_name(guid, 'link') or '{' + str(guid) + '}'}>"


def _describe(item: ShellItem | None, checked: Any) -> dict[str, Any]:
    """One item as a plain dict with `type` and `name` (the path component): the type libfwsi
    read it as, the values the shared decoder read."""
    if item is not None:
        for cls, describe in _DESCRIBERS:
            if isinstance(checked, cls):
                return describe(item, checked)
    class_type = _attr(checked, "class_type")  # libfwsi could not read it: its class type
    if class_type == 0x61 and item is not None and item.kind == "uri" and item.network:
        return {"type": "uri", "name": item.name}
    label = f"0x{class_type:02x}" if isinstance(class_type, int) else "?"
    return {"type": "unknown", "name": f"<unknown shell item {label}>", "class_type": class_type}


def _root_folder(item: ShellItem, checked: Any) -> dict[str, Any]:
    guid = (guid_text(item.raw, 4) or "").lower() or None
    return {"type": "root_folder", "name": _token(guid), "folder_id": guid}


def _volume(item: ShellItem, checked: Any) -> dict[str, Any]:
    name = item.extra.get("volume_name")
    if name:
        return {"type": "volume", "name": name}
    guid = item.guid.lower() if item.guid else None
    return {"type": "volume", "name": _token(guid), "folder_id": guid}


def _file_entry(item: ShellItem, checked: Any) -> dict[str, Any]:
    info: dict[str, Any] = {"type": "file_entry", "short_name": item.short_name or "",
                            "is_directory": bool(item.extra.get("directory")),
                            "file_size": item.file_size,
                            "modified": item.modified.iso() if item.modified else None}
    long_name = None
    if any(isinstance(block, pyfwsi.file_entry_extension)
           for block in _attr(checked, "extension_blocks") or []):
        long_name = item.long_name
        info["created"] = item.created.iso() if item.created else None
        info["accessed"] = item.accessed.iso() if item.accessed else None
        if item.mft_entry is not None:
            info["mft_entry"], info["mft_sequence"] = item.mft_entry, item.mft_sequence
            info["file_reference"] = f"{item.mft_entry}-{item.mft_sequence}"
    info["long_name"] = long_name
    info["name"] = long_name or item.short_name or ""
    return info


def _network(item: ShellItem, checked: Any) -> dict[str, Any]:
    location = item.name if item.name != "<network location>" else ""
    return {"type": "network_location", "name": location,
            "description": item.extra.get("description"), "comments": item.extra.get("comments")}


def _compressed_folder(item: ShellItem, checked: Any) -> dict[str, Any]:
    return {"type": "compressed_folder", "name": _attr(checked, "name") or ""}


def _property_view(item: ShellItem, checked: Any) -> dict[str, Any]:
    if item.known_folder:
        guid = item.known_folder.lower()
        return {"type": "known_folder", "name": _token(guid), "folder_id": guid}
    return {"type": "property_view", "name": "<property view>"}


def _control_panel(item: ShellItem, checked: Any) -> dict[str, Any]:
    return {"type": "control_panel", "name": f"<Control Panel item {_attr(checked, 'identifier')}>"}


_DESCRIBERS: list[tuple[type, Callable[[ShellItem, Any], dict[str, Any]]]] = [
    (pyfwsi.root_folder, _root_folder), (pyfwsi.volume, _volume),
    (pyfwsi.file_entry, _file_entry), (pyfwsi.network_location, _network),
    (pyfwsi.compressed_folder, _compressed_folder),
    (pyfwsi.users_property_view, _property_view),
    (pyfwsi.control_panel_category, _control_panel), (pyfwsi.control_panel_item, _control_panel),
]


def _join(items: list[dict[str, Any]]) -> str:
    path = ""
    previous: dict[str, Any] | None = None
    for item in items:
        name = item.get("name") or ""
        if not name:
            continue
        if previous and previous["type"] == "network_location" and \
                item["type"] == "network_location" and name.lower().startswith(
                    (previous.get("name") or "").lower()):
            path = path[: len(path) - len(previous["name"])] + name  # \\server -> \\server\share
        elif not path:
            path = name
        elif path.endswith("\\"):
            path += name
        elif name.startswith("<") or path.endswith(">") or item["type"] in ("volume", "uri") \
                or item["type"] == "network_location":
            path += " " + name
        else:
            path += "\\" + name
        previous = item
    return path


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}
