"""Shell items (ITEMIDLIST / PIDL): the one decoder for shortcuts, Jump Lists and the registry.

Why one decoder of our own: Explorer names "which file or folder" with a list of shell items
in LNK target ID lists, Jump List entries, RecentDocs and ComDlg32 MRU values and ShellBags.
The common item types are small and documented, so they are decoded once, here, in pure
Python: a damaged item degrades to an "unknown" item instead of failing the whole list, and
the times an item carries are read at their true precision. Each caller then names the items
its own way: `link` for shortcuts and Jump Lists (which still asks libfwsi how a list and its
items read, as shortcuts always have), `registry_view` for MRU values, `join_path` for
ShellBags.

Format (little-endian; references: the "Windows Shell Item format" paper published with
libyal's libfwsi, Microsoft's [MS-PROPSTORE] for property stores and the KNOWNFOLDERID / shell
folder CLSID documentation). A list is `item* + uint16 0`; an item is
`uint16 size (including itself) + uint8 class type + data`.

    0x1F        root folder: 3 sort index, 4 shell folder GUID (My Computer, Network...),
                extension blocks after byte 20. Signature 0xF5A6B710 at 6: a volume item at 10
                (Windows 10 drives), then a delegate GUID and a shell folder GUID ("Removable
                Drives" for a removable disk). A property-view signature at 6 with a property
                store: a users property view.
    0x20..0x2F  volume: class flag 0x01 = drive name at 3 ("C:\\", code page); else a shell
                folder GUID at 4 (This PC\\Documents...)
    0x30..0x3F  file entry: class flags 0x01 directory, 0x02 file, 0x04 Unicode primary name;
                4 uint32 file size, 8 FAT date + time (modified), 12 uint16 attributes,
                14 primary (usually 8.3) name, NUL-terminated, 2-byte aligned; then extension
                blocks, the first one at the offset in the item's last uint16
    0x40..0x4F  network location: 4 flags, 5 location ("\\\\server\\share", code page), then
                description (flag 0x80) and comments (flag 0x40)
    0x61        URI: 3 flags (0x80 = UTF-16), 4 uint16 size of a data block counted from 4 (0 =
                none), then a uint16 and the URI
    0x01        Control Panel category: 4 signature 0x39DE2184, 8 uint32 category number
    0x71        Control Panel item: 14 GUID of the applet
    0x74        delegate item: 4 uint16 size, 6 "CFSF", 10 an embedded file entry item, then a
                delegate GUID, a shell folder GUID and the extension blocks
    0x00        users property view: 4 uint16 size, 6 signature (0x23FEBBEE: a known folder
                GUID at 14), property stores ("1SPS") that carry the name and full path; MTP
                (portable device) items: signature 0x10312005 (storage: name size at 38, name
                at 54) or 0x07192006 (folder/file: name size at 62, name at 74), UTF-16

Extension block 0xBEEF0004 (file entries): 0 uint16 size, 2 uint16 version, 4 signature,
8 created FAT date+time, 12 accessed FAT date+time; version >= 7: 20 NTFS file reference
(48-bit MFT entry + 16-bit sequence), 36 uint16 size of the localized name; long name (UTF-16,
NUL-ended) at 20 (versions 3-6), 38 (7), 42 (8), 46 (9+), the localized name after it.
0xBEEF0026 (root folders and volumes of Windows 10): three FILETIMEs at 12 (created, modified,
accessed of the folder); 0xBEEF0025: two FILETIMEs at 12 (meaning undocumented).

Times: the FAT date/times of file entries and of 0xBEEF0004 are file system times of the item
itself (not of the user's action), 2-second resolution; Explorer fills them from the file's
UTC FILETIME without converting to local time, so they are reported as UTC with no fractional
digits. FILETIMEs (extension blocks, property stores) keep their 100 ns precision.
"""
from __future__ import annotations

from triage.shellitems.binary import (fat_datetime, guid_text, parse_property_stores,
                                      read_asciiz, read_utf16z)
from triage.shellitems.items import ShellItem, join_path, parse_item, parse_item_list
from triage.shellitems.names import (CONTROL_PANEL_CATEGORIES, CONTROL_PANEL_ITEMS, KNOWN_FOLDERS,
                                     SHELL_FOLDERS, folder_name)
from triage.shellitems.registry_view import (RegistryItem, decode_pidl, id_list_path,
                                             parse_registry_item, registry_items)

__all__ = ["CONTROL_PANEL_CATEGORIES", "CONTROL_PANEL_ITEMS", "KNOWN_FOLDERS", "RegistryItem",
           "SHELL_FOLDERS", "ShellItem", "decode_pidl", "fat_datetime", "folder_name",
           "guid_text", "id_list_path", "join_path", "parse_item", "parse_item_list",
           "parse_property_stores", "parse_registry_item", "read_asciiz", "read_utf16z",
           "registry_items"]
