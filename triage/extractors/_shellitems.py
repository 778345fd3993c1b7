"""Shell item lists (ITEMIDLIST): the target ID list of LNK files and Jump List entries.

Format: the libyal libfwsi paper "Windows Shell Item format"; parsed with libfwsi (pyfwsi). A list
is a run of items (uint16 size including itself, then a class type byte and class data) ended
by a uint16 0. The items are also split here by their sizes so that the ones libfwsi exposes
only generically can be read from their bytes (the URI item, class type 0x61: flags byte with
0x80 = UTF-16, uint16 data size, [data], uint16, then the URI string).

`parse_id_list(raw)` gives a `ShellPath`: the items as plain dicts and a readable path in the
usual examiner notation, e.g. `<My Computer> C:\\Program Files\\App\\app.exe`: root folders
and known folders as `<Name>` (`<{guid}>` when the GUID is not known here), then volume,
network, file entry (long name when the extension block has one) and URI items.

Times in file entry items (modification in the item, creation and access in its 0xBEEF0004
extension block) are FAT date/times: 2-second resolution, stored in UTC (libfwsi paper); they
are reported as ISO 8601 strings with no fractional digits. The NTFS file reference in the
extension block is 48 bits of MFT entry and 16 bits of sequence number.
"""
from __future__ import annotations

import datetime as _dt
import struct
from dataclasses import dataclass, field
from typing import Any, Callable

import pyfwsi

from triage.model import from_datetime

MAX_ITEMS = 512  # a real list is a path: a handful of items

# Shell folder class identifiers (root folder items), lower-case GUID -> display name.
SHELL_FOLDERS = {
    "20d04fe0-3aea-1069-a2d8-08002b30309d": "My Computer",
    "208d2c60-3aea-1069-a2d7-08002b30309d": "My Network Places",
    "450d8fba-ad25-11d0-98a8-0800361b1103": "My Documents",
    "59031a47-3f72-44a7-89c5-5595fe6b30ee": "Users Files",
    "871c5380-42a0-1069-a2ea-08002b30309d": "Internet Folder",
    "031e4825-7b94-4dc3-b131-e946b44c8dd5": "Libraries",
    "645ff040-5081-101b-9f08-00aa002f954e": "Recycle Bin",
    "21ec2020-3aea-1069-a2dd-08002b30309d": "Control Panel",
    "26ee0668-a00a-44d7-9371-beb064c98683": "Control Panel",
    "2227a280-3aea-1069-a2de-08002b30309d": "Printers",
    "f02c1a0d-be21-4350-88b0-7367fc96ef3c": "Network",
    "679f85cb-0220-4080-b29b-5540cc05aab6": "Quick access",
    "4234d49b-0245-4df3-b780-3893943456e1": "Applications",
    "b4bfcc3a-db2c-424c-b029-7fe99a87c641": "Desktop",
    "d3162b92-9365-467a-956b-92703aca08af": "Documents",
    "088e3905-0323-4b02-9826-5d99428e115f": "Downloads",
    "3dfdf296-dbec-4fb4-81d1-6a3438bcf4de": "Music",
    "24ad3ad4-a569-4530-98e1-ab02f9417aa8": "Pictures",
    "f86fa3ab-70d2-4fc7-9c99-fcbf05467f3a": "Videos",
    "0db7e03f-fc29-4dc6-9020-ff41b59e513a": "3D Objects",
    "018d5c66-4533-4307-9b53-224de2ed1fe6": "OneDrive",
    "9343812e-1c37-4a49-a12e-4b2d810d956b": "Search Home",
    "ed228fdf-9ea8-4870-83b1-96b02cfe0d52": "My Games",
    "35786d3c-b075-49b9-88dd-029876e11c01": "Portable Devices",
}

# Known folder identifiers (KNOWNFOLDERID), lower-case GUID -> display name.
KNOWN_FOLDERS = {
    "7b0db17d-9cd2-4a93-9733-46cc89022e7c": "Documents Library",
    "a990ae9f-a03b-4e80-94bc-9912d7504104": "Pictures Library",
    "2112ab0a-c86a-4ffe-a368-0de96e47012e": "Music Library",
    "491e922f-5643-4af4-a7eb-4e7a138d8174": "Videos Library",
    "374de290-123f-4565-9164-39c4925e467b": "Downloads",
    "fdd39ad0-238f-46af-adb4-6c85480369c7": "Documents",
    "b4bfcc3a-db2c-424c-b029-7fe99a87c641": "Desktop",
    "33e28130-4e1e-4676-835a-98395c3bc3bb": "Pictures",
    "4bd8d571-6d19-48d3-be97-422220080e43": "Music",
    "18989b1d-99b5-455b-841c-ab7c74e4ddfc": "Videos",
    "5e6c858f-0e22-4760-9afe-ea3317b67173": "User Profile",
    "1777f761-68ad-4d8a-87bd-30b759fa33dd": "Favorites",
    "bfb9d5e0-c6a9-404c-b2b2-ae6db6af4968": "Links",
    "ae50c081-ebd2-438a-8655-8a092e34987a": "Recent Items",
    "f38bf404-1d43-42f2-9305-67de0b28fc23": "Windows",
    "1ac14e77-02e7-4e5d-b744-2eb1ae5198b7": "System32",
    "d65231b0-b2f1-4857-a4ce-a8e7c6ea7d27": "SysWOW64",
    "905e63b6-c1bf-494e-b29c-65b732d3d21a": "Program Files",
    "6d809377-6af0-444b-8957-a3773f02200e": "Program Files (x64)",
    "7c5a40ef-a0fb-4bfc-874a-c0f2e0b9fa8e": "Program Files (x86)",
    "f1b32785-6fba-4fcf-9d55-7b8e7f157091": "Local AppData",
    "3eb685db-65f9-4cf6-a03a-e3ef65729f3d": "Roaming AppData",
    "a520a1a4-1780-4ff6-bd18-167343c5af16": "LocalLow AppData",
    "62ab5d82-fdc1-4dc3-a9dd-070d1d495d97": "ProgramData",
    "dfdf76a2-c82a-4d63-906a-5644ac457385": "Public",
}


def folder_name(guid: str | None) -> str | None:
    """The display name of a shell folder or known folder GUID, None when not known here."""
    if not guid:
        return None
    key = guid.strip("{}").lower()
    return SHELL_FOLDERS.get(key) or KNOWN_FOLDERS.get(key)


def file_reference(value: int | None) -> tuple[int, int] | None:
    """(MFT entry, sequence) of a 64-bit NTFS file reference; None for 0 / unset."""
    if not value:
        return None
    return value & 0xFFFFFFFFFFFF, value >> 48


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


def _iso(value: Any) -> str | None:
    if not isinstance(value, _dt.datetime):
        return None
    try:
        return from_datetime(value.replace(tzinfo=_dt.timezone.utc), 0).iso()
    except (ValueError, OverflowError):
        return None


def _attr(obj: Any, name: str) -> Any:
    """A pyfwsi property; libfwsi raises for values it cannot decode (a bad FAT date...)."""
    try:
        return getattr(obj, name)
    except (OSError, ValueError, TypeError, OverflowError):
        return None


def _split(raw: bytes) -> list[bytes]:
    """The items of a list, by their uint16 sizes (stops at the terminator or bad sizes)."""
    items: list[bytes] = []
    offset = 0
    while offset + 2 <= len(raw) and len(items) < MAX_ITEMS:
        (size,) = struct.unpack_from("<H", raw, offset)
        if size < 3 or offset + size > len(raw):
            break
        items.append(raw[offset : offset + size])
        offset += size
    return items


def _uri(raw: bytes) -> str | None:
    """The URI string of a 0x61 item."""
    if len(raw) < 8:
        return None
    flags = raw[3]
    (data_size,) = struct.unpack_from("<H", raw, 4)
    position = 4 + (data_size if data_size else 2) + 2
    if position >= len(raw):
        return None
    text = raw[position:]
    if flags & 0x80:
        end = len(text) - len(text) % 2
        for pos in range(0, end, 2):
            if text[pos : pos + 2] == b"\0\0":
                end = pos
                break
        return text[:end].decode("utf-16-le", errors="surrogatepass") or None
    return text.split(b"\0", 1)[0].decode("cp1252", errors="replace") or None


def _describe(item: Any, raw: bytes | None) -> dict[str, Any]:
    """One pyfwsi item as a plain dict with `type` and `name` (the path component)."""
    class_type = _attr(item, "class_type")
    if isinstance(item, pyfwsi.root_folder):
        guid = _attr(item, "shell_folder_identifier")
        name = folder_name(guid)
        return {"type": "root_folder", "name": f"<{name or '{' + str(guid) + '}'}>",
                "folder_id": guid}
    if isinstance(item, pyfwsi.volume):
        name = _attr(item, "name")
        if name:
            return {"type": "volume", "name": name}
        guid = _attr(item, "identifier") or _attr(item, "shell_folder_identifier")
        return {"type": "volume", "name": f"<{folder_name(guid) or '{' + str(guid) + '}'}>",
                "folder_id": guid}
    if isinstance(item, pyfwsi.file_entry):
        short = _attr(item, "name")
        info: dict[str, Any] = {"type": "file_entry", "short_name": short}
        info["is_directory"] = bool((class_type or 0) & 0x01)
        info["file_size"] = _attr(item, "file_size")
        info["modified"] = _iso(_attr(item, "modification_time"))
        long_name = None
        for block in _attr(item, "extension_blocks") or []:
            if isinstance(block, pyfwsi.file_entry_extension):
                long_name = _attr(block, "long_name")
                info["created"] = _iso(_attr(block, "creation_time"))
                info["accessed"] = _iso(_attr(block, "access_time"))
                reference = file_reference(_attr(block, "file_reference"))
                if reference:
                    info["mft_entry"], info["mft_sequence"] = reference
                    info["file_reference"] = f"{reference[0]}-{reference[1]}"
                break
        info["long_name"] = long_name
        info["name"] = long_name or short or ""
        return info
    if isinstance(item, pyfwsi.network_location):
        return {"type": "network_location", "name": _attr(item, "location") or "",
                "description": _attr(item, "description"), "comments": _attr(item, "comments")}
    if isinstance(item, pyfwsi.compressed_folder):
        return {"type": "compressed_folder", "name": _attr(item, "name") or ""}
    if isinstance(item, pyfwsi.users_property_view):
        guid = _attr(item, "known_folder_identifier")
        if guid:
            name = folder_name(guid) or "{" + guid + "}"
            return {"type": "known_folder", "name": f"<{name}>", "folder_id": guid}
        return {"type": "property_view", "name": "<property view>"}
    if isinstance(item, (pyfwsi.control_panel_category, pyfwsi.control_panel_item)):
        ident = _attr(item, "identifier")
        return {"type": "control_panel", "name": f"<Control Panel item {ident}>"}
    if class_type == 0x61 and raw is not None:
        url = _uri(raw)
        if url:
            return {"type": "uri", "name": url}
    label = f"0x{class_type:02x}" if isinstance(class_type, int) else "?"
    return {"type": "unknown", "name": f"<unknown shell item {label}>", "class_type": class_type}


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


def clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def parse_id_list(raw: bytes, on_error: Callable[[str], None] | None = None
                  ) -> ShellPath | None:
    """A shell item list's items and readable path; None (told to `on_error`) when unreadable."""
    if not raw:
        return None
    parts = _split(raw)
    items_list = pyfwsi.item_list()
    try:
        items_list.copy_from_byte_stream(raw)
        count = min(items_list.number_of_items, MAX_ITEMS)
        pyitems = [items_list.get_item(index) for index in range(count)]
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        if on_error:
            reason = " ".join(str(exc).split())
            on_error(f"unreadable shell item list: {reason[:200]}")
        return None
    if len(parts) != len(pyitems):  # cannot pair the raw bytes with libfwsi's items
        parts = []
    items = [clean(_describe(item, parts[i] if parts else None)) for i, item in enumerate(pyitems)]
    return ShellPath(path=_join(items), items=items)
