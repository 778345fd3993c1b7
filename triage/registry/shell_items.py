"""Shell items (PIDLs, ITEMIDLIST) as found in registry MRU values, and MRU order lists.

Why our own decoder: Explorer stores "which file or folder" as a shell item list in RecentDocs,
ComDlg32 (OpenSavePidlMRU, LastVisitedPidlMRU) and ShellBags. The common item types are small
and well described; decoding them here keeps the project free of another C library and lets a
damaged item degrade to "unknown item" instead of failing the whole value.

Format (little-endian; reference: the "Windows Shell Item format" notes published with libyal's
libfwsi, and Microsoft's KNOWNFOLDERID / shell folder CLSID documentation):

    ITEMIDLIST   = item* + uint16 0 (terminal)
    item         = uint16 size (including itself) + uint8 class type + data

    0x1F         root folder: 3 sort index, 4 GUID (My Computer, Network, Libraries...)
    0x20..0x2F   volume: flag 0x01 = has name, 3 name "C:\\" (ASCII); else 4 GUID
    0x30..0x3F   file entry: flags 0x01 directory, 0x02 file, 0x04 Unicode name;
                 4 uint32 size, 8 FAT date + FAT time (modified, UTC), 12 attributes,
                 14 primary (usually short 8.3) name, NUL-terminated, 2-byte aligned,
                 then extension blocks
    0x40..0x4F   network location: 4 flags, 5 location ("\\\\server\\share", ASCII), then
                 description (flag 0x80) and comments (flag 0x40)
    0x01         Control Panel category: 4 signature 0x39DE2184, 8 uint32 category
    0x61         URI; 0x71 Control Panel item (GUID at 14); 0x74 delegate ("CFSF") file entry
    0x00 / 0x1F  users property view: 4 uint16 data size, 6 signature; 0x23FEBBEE = known
                 folder GUID at 14 (Libraries\\Pictures...)
    property store ("1SPS" serialized property storage, MS-PROPSTORE) inside property-view
                 items of Windows 7+ library/search views: ParsingName {28636AA6-...},24,
                 ItemNameDisplay {B725F130-...},10, the item's full path {1E3EE840-...},8,
                 DateModified/Created/Accessed {B725F130-...},14/15/16 (FILETIME)
    extension block 0xBEEF0004 (file entry): 0 size, 2 version, 4 signature, 8 created FAT,
                 12 accessed FAT, 16 identifier; version >= 7: 20 NTFS reference (6-byte MFT
                 entry + 2-byte sequence); long name (UTF-16) at 20 (v3), 38 (v7), 42 (v8),
                 46 (v9+)

FAT date/time values in shell items are UTC (converted from the file's FILETIME by Explorer),
2-second resolution: they are file system times of the item, not times of the user's action.

MRU lists: `MRUListEx` is an array of uint32 value numbers, most recent first, ended by
0xFFFFFFFF; `MRUList` is a string of value letters ("cab"), most recent first.
"""
from __future__ import annotations

import datetime as _dt
import struct
import uuid
from dataclasses import dataclass
from typing import Any

from triage.model import Timestamp, filetime, from_datetime
from triage.registry import key_time, path_of

# Shell folder CLSIDs and known folders seen as items in shell item lists (display names).
SHELL_FOLDERS: dict[str, str] = {
    "20D04FE0-3AEA-1069-A2D8-08002B30309D": "My Computer",
    "208D2C60-3AEA-1069-A2D7-08002B30309D": "My Network Places",
    "F02C1A0D-BE21-4350-88B0-7367FC96EF3C": "Network",
    "450D8FBA-AD25-11D0-98A8-0800361B1103": "My Documents",
    "59031A47-3F72-44A7-89C5-5595FE6B30EE": "Users Files",
    "031E4825-7B94-4DC3-B131-E946B44C8DD5": "Libraries",
    "1B3EA5DC-B587-4786-B4EF-BD1DC332AEAE": "Libraries",
    "645FF040-5081-101B-9F08-00AA002F954E": "Recycle Bin",
    "21EC2020-3AEA-1069-A2DD-08002B30309D": "Control Panel",
    "26EE0668-A00A-44D7-9371-BEB064C98683": "Control Panel",
    "5399E694-6CE5-4D6C-8FCE-1D8870FDCBA0": "Control Panel Home",
    "871C5380-42A0-1069-A2EA-08002B30309D": "Internet Explorer",
    "4234D49B-0245-4DF3-B780-3893943456E1": "Applications",
    "679F85CB-0220-4080-B29B-5540CC05AAB6": "Quick Access",
    "2227A280-3AEA-1069-A2DE-08002B30309D": "Printers",
    "7007ACC7-3202-11D1-AAD2-00805FC1270E": "Network Connections",
    "35786D3C-B075-49B9-88DD-029876E11C01": "Portable Devices",
    "ED228FDF-9EA8-4870-83B1-96B02CFE0D52": "My Games",
    "9343812E-1C37-4A49-A12E-4B2D810D956B": "Search Home",
    "04731B67-D933-450A-90E6-4ACD2E9408FE": "Search Folder",
    "22877A6D-37A1-461A-91B0-DBDA5AAEBC99": "Recent Places",
    "018D5C66-4533-4307-9B53-224DE2ED1FE6": "OneDrive",
    "E31EA727-12ED-4702-820C-4B6445F28E1A": "Dropbox",
    "E88DCCE0-B7B3-11D1-A9F0-00AA0060FA31": "Compressed Folder",
    # "This PC" folders (Windows 8.1 and later)
    "088E3905-0323-4B02-9826-5D99428E115F": "Downloads",
    "3DFDF296-DBEC-4FB4-81D1-6A3438BCF4DE": "Music",
    "24AD3AD4-A569-4530-98E1-AB02F9417AA8": "Pictures",
    "F86FA3AB-70D2-4FC7-9C99-FCBF05467F3A": "Videos",
    "D3162B92-9365-467A-956B-92703ACA08AF": "Documents",
    "0DB7E03F-FC29-4DC6-9020-FF41B59E513A": "3D Objects",
    "B4BFCC3A-DB2C-424C-B029-7FE99A87C641": "Desktop",
    "1CF1260C-4DD0-4EBB-811F-33C572699FDE": "My Music",
    "3ADD1653-EB32-4CB0-BBD7-DFA0ABB5ACCA": "My Pictures",
    "A0953C92-50DC-43BF-BE83-3742FED03C9C": "My Videos",
    "A8CDFF1C-4878-43BE-B5FD-F8091C1C60D0": "Documents",
    # Libraries (Windows 7 and later)
    "7B0DB17D-9CD2-4A93-9733-46CC89022E7C": "Documents",
    "2112AB0A-C86A-4FFE-A368-0DE96E47012E": "Music",
    "A990AE9F-A03B-4E80-94BC-9912D7504104": "Pictures",
    "491E922F-5643-4AF4-A7EB-4E7A138D8174": "Videos",
}

# KNOWNFOLDERID values (Microsoft documentation): canonical name and default location written
# with environment variables. UserAssist names programs as "{GUID}\\rest of path".
_START = "%APPDATA%\\Microsoft\\Windows\\Start Menu"
_COMMON_START = "%PROGRAMDATA%\\Microsoft\\Windows\\Start Menu"
_QUICK_LAUNCH = "%APPDATA%\\Microsoft\\Internet Explorer\\Quick Launch"
KNOWN_FOLDERS: dict[str, tuple[str, str]] = {
    "6D809377-6AF0-444B-8957-A3773F02200E": ("ProgramFilesX64", "%PROGRAMFILES%"),
    "7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E": ("ProgramFilesX86", "%PROGRAMFILES(X86)%"),
    "905E63B6-C1BF-494E-B29C-65B732D3D21A": ("ProgramFiles", "%PROGRAMFILES%"),
    "F7F1ED05-9F6D-47A2-AAAE-29D317C6F066": ("ProgramFilesCommon", "%COMMONPROGRAMFILES%"),
    "6365D5A7-0F0D-45E5-87F6-0DA56B6A4F7D": ("ProgramFilesCommonX64", "%COMMONPROGRAMFILES%"),
    "DE974D24-D9C6-4D3E-BF91-F4455120B917": ("ProgramFilesCommonX86", "%COMMONPROGRAMFILES(X86)%"),
    "1AC14E77-02E7-4E5D-B744-2EB1AE5198B7": ("System", "%WINDIR%\\System32"),
    "D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27": ("SystemX86", "%WINDIR%\\SysWOW64"),
    "F38BF404-1D43-42F2-9305-67DE0B28FC23": ("Windows", "%WINDIR%"),
    "0139D44E-6AFE-49F2-8690-3DAFCAE6FFB8": ("CommonPrograms", _COMMON_START + "\\Programs"),
    "A77F5D77-2E2B-44C3-A6A2-ABA601054A51": ("Programs", _START + "\\Programs"),
    "625B53C3-AB48-4EC1-BA1F-A1EF4146FC19": ("StartMenu", _START),
    "A4115719-D62E-491D-AA7C-E74B8BE3B067": ("CommonStartMenu", _COMMON_START),
    "B97D20BB-F46A-4C97-BA10-5E3608430854": ("Startup", _START + "\\Programs\\Startup"),
    "82A5EA35-D9CD-47C5-9629-E15D2F714E6E": ("CommonStartup",
                                             _COMMON_START + "\\Programs\\Startup"),
    "9E3995AB-1F9C-4F13-B827-48B24B6C7174": ("UserPinned", _QUICK_LAUNCH + "\\User Pinned"),
    "52A4F021-7B75-48A9-9F6B-4B87A210BC8F": ("QuickLaunch", _QUICK_LAUNCH),
    "724EF170-A42D-4FEF-9F26-B60E846FBA4F": ("AdminTools",
                                             _START + "\\Programs\\Administrative Tools"),
    "D0384E7D-BAC3-4797-8F14-CBA229B392B5": ("CommonAdminTools",
                                             _COMMON_START + "\\Programs\\Administrative Tools"),
    "5E6C858F-0E22-4760-9AFE-EA3317B67173": ("Profile", "%USERPROFILE%"),
    "B4BFCC3A-DB2C-424C-B029-7FE99A87C641": ("Desktop", "%USERPROFILE%\\Desktop"),
    "FDD39AD0-238F-46AF-ADB4-6C85480369C7": ("Documents", "%USERPROFILE%\\Documents"),
    "374DE290-123F-4565-9164-39C4925E467B": ("Downloads", "%USERPROFILE%\\Downloads"),
    "4BD8D571-6D19-48D3-BE97-422220080E43": ("Music", "%USERPROFILE%\\Music"),
    "33E28130-4E1E-4676-835A-98395C3BC3BB": ("Pictures", "%USERPROFILE%\\Pictures"),
    "18989B1D-99B5-455B-841C-AB7C74E4DDFC": ("Videos", "%USERPROFILE%\\Videos"),
    "1777F761-68AD-4D8A-87BD-30B759FA33DD": ("Favorites", "%USERPROFILE%\\Favorites"),
    "BFB9D5E0-C6A9-404C-B2B2-AE6DB6AF4968": ("Links", "%USERPROFILE%\\Links"),
    "56784854-C6CB-462B-8169-88E350ACB882": ("Contacts", "%USERPROFILE%\\Contacts"),
    "4C5C32FF-BB9D-43B0-B5B4-2D72E54EAAA4": ("SavedGames", "%USERPROFILE%\\Saved Games"),
    "7D1D3A04-DEBB-4115-95CF-2F29DA2920DA": ("SavedSearches", "%USERPROFILE%\\Searches"),
    "3EB685DB-65F9-4CF6-A03A-E3EF65729F3D": ("RoamingAppData", "%APPDATA%"),
    "F1B32785-6FBA-4FCF-9D55-7B8E7F157091": ("LocalAppData", "%LOCALAPPDATA%"),
    "A520A1A4-1780-4FF6-BD18-167343C5AF16": ("LocalAppDataLow", "%USERPROFILE%\\AppData\\LocalLow"),
    "5CD7AEE2-2219-4A67-B85D-6C9CE15660CB": ("UserProgramFiles", "%LOCALAPPDATA%\\Programs"),
    "BCBD3057-CA5C-4622-B42D-BC56DB0AE516": ("UserProgramFilesCommon",
                                             "%LOCALAPPDATA%\\Programs\\Common"),
    "AE50C081-EBD2-438A-8655-8A092E34987A": ("Recent", "%APPDATA%\\Microsoft\\Windows\\Recent"),
    "8983036C-27C0-404B-8F08-102D10DCFD74": ("SendTo", "%APPDATA%\\Microsoft\\Windows\\SendTo"),
    "A63293E8-664E-48DB-A079-DF759E0509F7": ("Templates",
                                             "%APPDATA%\\Microsoft\\Windows\\Templates"),
    "62AB5D82-FDC1-4DC3-A9DD-070D1D495D97": ("ProgramData", "%PROGRAMDATA%"),
    "DFDF76A2-C82A-4D63-906A-5644AC457385": ("Public", "%PUBLIC%"),
    "C4AA340D-F20F-4863-AFEF-F87EF2E6BA25": ("PublicDesktop", "%PUBLIC%\\Desktop"),
    "ED4824AF-DCE4-45A8-81E2-FC7965083634": ("PublicDocuments", "%PUBLIC%\\Documents"),
    "3D644C9B-1FB8-4F30-9B45-F670235F79C0": ("PublicDownloads", "%PUBLIC%\\Downloads"),
    "0762D272-C50A-4BB0-A382-697DCD729B80": ("UserProfiles", "%SYSTEMDRIVE%\\Users"),
    "352481E8-33BE-4251-BA85-6007CAEDCF9D": (
        "InternetCache", "%LOCALAPPDATA%\\Microsoft\\Windows\\Temporary Internet Files"),
    "2B0F765D-C0E9-4171-908E-08A611B84FF6": ("Cookies", "%APPDATA%\\Microsoft\\Windows\\Cookies"),
    "D9DC8A3B-B784-432E-A781-5A1130A75963": ("History",
                                             "%LOCALAPPDATA%\\Microsoft\\Windows\\History"),
    "8AD10C31-2ADB-4296-A8F7-E4701232C972": ("ResourceDir", "%WINDIR%\\Resources"),
}

ROOT_SORT_INDEX = {0x00: "Internet Explorer", 0x42: "Libraries", 0x44: "Users",
                   0x48: "My Documents", 0x50: "My Computer", 0x58: "Network", 0x60: "Recycle Bin",
                   0x68: "Internet Explorer", 0x80: "My Games"}

CONTROL_PANEL_CATEGORIES = {0: "All Control Panel Items", 1: "Appearance and Personalization",
                            2: "Hardware and Sound", 3: "Network and Internet",
                            4: "Sounds, Speech, and Audio Devices", 5: "System and Security",
                            6: "Clock, Language, and Region", 7: "Ease of Access",
                            8: "Programs", 9: "User Accounts", 10: "Security Center",
                            11: "Mobile PC"}

_BEEF0004 = b"\x04\x00\xef\xbe"
_DELEGATE_VOLUME_SIGNATURE = 0xF5A6B710
_USERS_FILES = "59031A47-3F72-44A7-89C5-5595FE6B30EE"
_KNOWN_FOLDER_SIGNATURE = 0x23FEBBEE
_PROPERTY_VIEW_SIGNATURES = {0x23FEBBEE, 0x10141981, 0x3B93AFBB, 0xBEEBEE00, 0x23A3DFD5}


def guid_text(data: bytes, offset: int = 0) -> str | None:
    """A GUID stored little-endian (Windows layout) as upper-case text without braces."""
    raw = data[offset:offset + 16]
    if len(raw) < 16:
        return None
    return str(uuid.UUID(bytes_le=bytes(raw))).upper()


def folder_name(guid: str | None) -> str | None:
    if not guid:
        return None
    guid = guid.strip("{}").upper()
    if guid in SHELL_FOLDERS:
        return SHELL_FOLDERS[guid]
    known = KNOWN_FOLDERS.get(guid)
    return known[0] if known else None


def read_utf16z(data: bytes, offset: int = 0, limit: int | None = None) -> tuple[str, int]:
    """(text, offset after the NUL) of a UTF-16LE string; runs to the end when there is no NUL."""
    end = len(data) if limit is None else min(len(data), limit)
    pos = offset
    while pos + 1 < end:
        if data[pos] == 0 and data[pos + 1] == 0:
            return data[offset:pos].decode("utf-16-le", "replace"), pos + 2
        pos += 2
    return data[offset:end - ((end - offset) % 2)].decode("utf-16-le", "replace"), end


def read_asciiz(data: bytes, offset: int = 0, limit: int | None = None,
                codepage: str = "cp1252") -> tuple[str, int]:
    """(text, offset after the NUL) of a single-byte (code page) string."""
    end = len(data) if limit is None else min(len(data), limit)
    nul = data.find(b"\x00", offset, end)
    stop = end if nul < 0 else nul
    return data[offset:stop].decode(codepage, "replace"), (end if nul < 0 else nul + 1)


def fat_datetime(date: int, time: int) -> Timestamp | None:
    """A FAT date + time pair (UTC in shell items) as a Timestamp; None when unset/invalid."""
    if not date:
        return None
    try:
        value = _dt.datetime(1980 + (date >> 9), (date >> 5) & 0x0F, date & 0x1F,
                             time >> 11, (time >> 5) & 0x3F, (time & 0x1F) * 2,
                             tzinfo=_dt.timezone.utc)
    except ValueError:
        return None
    return from_datetime(value, digits=0)


def mru_list_ex(raw: bytes | None) -> list[int]:
    """Value numbers of an MRUListEx (uint32 array, most recent first, ended by 0xFFFFFFFF)."""
    if not raw:
        return []
    order: list[int] = []
    for (number,) in struct.iter_unpack("<I", raw[:len(raw) - len(raw) % 4]):
        if number == 0xFFFFFFFF:
            break
        order.append(number)
    return order


def mru_list(text: Any) -> list[str]:
    """Value names of an MRUList string ("cba": c is the most recent)."""
    if not isinstance(text, str):
        return []
    return [letter for letter in text.rstrip("\x00") if letter]


MRU_ENTRY = "MRU Entry"  # timestamp_desc of an MRU item that has no time of its own


def mru_time(key: Any, position: int | None) -> tuple[Timestamp | None, str]:
    """(time, timestamp_desc) for the item at `position` of an MRU key: the key's last-written
    time belongs to the most recent item (position 0) only; the others have no time."""
    if position == 0:
        return key_time(key), "Key Last Written"
    return None, MRU_ENTRY


def mru_note(position: int | None) -> str:
    """How an MRU entry's time should be read, for its message."""
    if position == 0:
        return "most recent; key last written"
    if position is None:
        return "no time recorded"
    return f"MRU position {position}; no time recorded"


def mru_ex_entries(key: Any, warn: Any, what: str) -> list[tuple[int | None, str]]:
    """(MRU position, value name) of every numbered value of an MRUListEx key: the listed ones
    in list order, then those the list leaves out (position None). `warn` is ctx.warn."""
    names: dict[int, str] = {}
    try:
        for value in key.values():
            if value.name().isdigit():
                names[int(value.name())] = value.name()
    except Exception as exc:
        _warn(warn, f"{what} {path_of(key)}: values unreadable ({exc})")
        return []
    try:
        raw = key.value("MRUListEx").raw_data()
    except Exception:
        raw = None
    if raw is None and names:
        _warn(warn, f"{what} {path_of(key)}: no MRUListEx value; order unknown")
    elif raw is not None and (len(raw) % 4 or raw[-4:] != b"\xff\xff\xff\xff"):
        _warn(warn, f"{what} {path_of(key)}: MRUListEx of {len(raw)} bytes is malformed")
    listed = mru_list_ex(raw)
    missing = [n for n in listed if n not in names]
    if missing:
        _warn(warn, f"{what} {path_of(key)}: MRUListEx names absent value(s) "
                    f"{', '.join(map(str, missing))}")
    order = list(dict.fromkeys(n for n in listed if n in names))
    out: list[tuple[int | None, str]] = [(pos, names[n]) for pos, n in enumerate(order)]
    out += [(None, names[n]) for n in sorted(set(names) - set(order))]
    return out


def mru_entries(key: Any, warn: Any, what: str) -> list[tuple[int | None, str]]:
    """(MRU position, value name) of every one-letter value of an MRUList key (RunMRU, Map
    Network Drive MRU, XP OpenSaveMRU): listed ones in list order, then the others."""
    names: dict[str, str] = {}
    try:
        for value in key.values():
            if len(value.name()) == 1:
                names[value.name().lower()] = value.name()
    except Exception as exc:
        _warn(warn, f"{what} {path_of(key)}: values unreadable ({exc})")
        return []
    try:
        listed = key.value("MRUList").value()
    except Exception:
        listed = None
    if listed is None and names:
        _warn(warn, f"{what} {path_of(key)}: no MRUList value; order unknown")
    missing = [c for c in mru_list(listed) if c.lower() not in names]
    if missing:
        _warn(warn, f"{what} {path_of(key)}: MRUList names absent value(s) {''.join(missing)}")
    order = list(dict.fromkeys(c.lower() for c in mru_list(listed) if c.lower() in names))
    out: list[tuple[int | None, str]] = [(pos, names[c]) for pos, c in enumerate(order)]
    out += [(None, names[c]) for c in sorted(set(names) - set(order))]
    return out


def numbered_string_values(key: Any, prefix: str, warn: Any,
                           what: str) -> list[tuple[int, str, str]]:
    """(number, value name, text) of the string values named <prefix><number> (url1, MRU0...),
    in number order; a value of another type is reported through `warn` and left out."""
    found: list[tuple[int, str, str]] = []
    try:
        values = list(key.values())
    except Exception as exc:
        _warn(warn, f"{what} {path_of(key)}: values unreadable ({exc})")
        return []
    for value in values:
        name = value.name()
        if not (name[:len(prefix)].lower() == prefix.lower() and name[len(prefix):].isdigit()):
            continue
        try:
            text = value.value()
        except Exception:
            text = None
        if not isinstance(text, str):
            _warn(warn, f"{what} {path_of(key)}: value {name!r} is not a string: skipped")
            continue
        found.append((int(name[len(prefix):]), name, text))
    return sorted(found)


def _warn(warn: Any, message: str) -> None:
    if warn is not None:
        warn(message)


@dataclass
class ShellItem:
    """One decoded shell item: what kind, its name, and the file system facts it carries."""

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
    extension_version: int | None = None
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


def _beef0004(item: bytes, start: int, found: ShellItem) -> None:
    """Fill long name, creation/access times and MFT reference from a 0xBEEF0004 block."""
    size, version = struct.unpack_from("<HH", item, start)
    block = item[start:start + size] if size >= 20 else item[start:]
    if len(block) < 20:
        return
    found.extension_version = version
    cdate, ctime, adate, atime = struct.unpack_from("<HHHH", block, 8)
    found.created = fat_datetime(cdate, ctime)
    found.accessed = fat_datetime(adate, atime)
    if version >= 7 and len(block) >= 28:
        reference = struct.unpack_from("<Q", block, 20)[0]
        entry = reference & 0xFFFFFFFFFFFF
        if entry:
            found.mft_entry, found.mft_sequence = entry, reference >> 48
    name_at = {3: 20, 4: 20, 5: 20, 6: 20, 7: 38, 8: 42}.get(version, 46 if version >= 9 else 0)
    if name_at and name_at < len(block) - 2:
        name, _ = read_utf16z(block, name_at, len(block) - 2)
        if name:
            found.long_name = name


def _file_entry(item: bytes, class_type: int, codepage: str, name_at: int = 14,
                header_at: int = 0) -> ShellItem:
    found = ShellItem(class_type, "file_entry", "")
    flags = class_type & 0x0F
    found.is_directory = bool(flags & 0x01) if flags & 0x03 else None
    if len(item) >= header_at + 14:
        found.file_size = struct.unpack_from("<I", item, header_at + 4)[0]
        mdate, mtime = struct.unpack_from("<HH", item, header_at + 8)
        found.modified = fat_datetime(mdate, mtime)
    if flags & 0x04:
        primary, after = read_utf16z(item, name_at)
    else:
        primary, after = read_asciiz(item, name_at, codepage=codepage)
        after += after % 2
    found.short_name = primary or None
    ext = item.find(_BEEF0004, after)
    if ext >= 4:
        _beef0004(item, ext - 4, found)
    found.name = found.long_name or found.short_name or ""
    return found


def parse_item(item: bytes, codepage: str = "cp1252") -> ShellItem:
    """Decode one shell item (its bytes including the 2-byte size). Never raises on bad data:
    an item it cannot read becomes kind "unknown" named by its class type."""
    if len(item) < 3:
        return ShellItem(0, "unknown", "<empty item>")
    class_type = item[2]
    try:
        found = _parse(item, class_type, codepage)
    except (struct.error, ValueError, IndexError):
        found = None
    return found or ShellItem(class_type, "unknown", f"<shell item 0x{class_type:02x}>")


def _parse(item: bytes, class_type: int, codepage: str) -> ShellItem | None:
    size = len(item)
    signature6 = struct.unpack_from("<I", item, 6)[0] if size >= 10 else None
    if class_type in (0x00, 0x1F) and signature6 in _PROPERTY_VIEW_SIGNATURES:
        if signature6 == _KNOWN_FOLDER_SIGNATURE and size >= 30:
            guid = guid_text(item, 14)
            return ShellItem(class_type, "known_folder", folder_name(guid) or f"{{{guid}}}",
                             guid=guid)
        return _property_view(item, class_type)
    if class_type == 0x1F and signature6 == _DELEGATE_VOLUME_SIGNATURE and size >= 13:
        # A root item wrapping another item (seen: a volume "D:\\") at offset 10.
        inner_size = struct.unpack_from("<H", item, 10)[0]
        if 3 <= inner_size <= size - 10:
            inner = parse_item(item[10:10 + inner_size], codepage)
            inner.class_type = class_type
            return inner
        return None
    if class_type == 0x1F and size >= 20:
        guid = guid_text(item, 4)
        if guid == "00000000-0000-0000-0000-000000000000":
            name = ROOT_SORT_INDEX.get(item[3], "<root folder>")
        else:
            name = folder_name(guid) or f"{{{guid}}}"
        return ShellItem(class_type, "root_folder", name, guid=guid)
    if class_type & 0x70 == 0x20:
        if class_type & 0x01:
            name, _ = read_asciiz(item, 3, min(size, 23), codepage)
            return ShellItem(class_type, "volume", name.rstrip("\\") + "\\" if name else "")
        guid = guid_text(item, 4) if size >= 20 else None
        return ShellItem(class_type, "volume", folder_name(guid) or (f"{{{guid}}}" if guid else
                                                                      "<volume>"), guid=guid)
    if class_type & 0x70 == 0x30:
        return _file_entry(item, class_type, codepage)
    if class_type & 0x70 == 0x40:
        location, _ = read_asciiz(item, 5, codepage=codepage)
        return ShellItem(class_type, "network", location or "<network>")
    if class_type == 0x01 and size >= 12 and item[4:8] == b"\x84\x21\xde\x39":
        category = struct.unpack_from("<I", item, 8)[0]
        return ShellItem(class_type, "control_panel_category",
                         CONTROL_PANEL_CATEGORIES.get(category, f"<category {category}>"))
    if class_type == 0x71 and size >= 30:
        guid = guid_text(item, 14)
        return ShellItem(class_type, "control_panel", folder_name(guid) or f"{{{guid}}}",
                         guid=guid)
    if class_type == 0x74 and item[6:10] == b"CFSF" and size >= 26:
        # Delegate item wrapping a file entry: the file entry header starts at offset 12.
        found = _file_entry(item, 0x31, codepage, name_at=26, header_at=12)
        found.class_type, found.kind = class_type, "file_entry"
        return found
    if class_type == 0x61:
        return _uri(item)
    return None


_FMTID_STORAGE = "B725F130-47EF-101A-A5F1-02608C9EEBAC"
_FMTID_SHELL = "28636AA6-953D-11D2-B5D6-00C04FD918D0"
_FMTID_SEARCH_PATH = "1E3EE840-BC2B-476C-8237-2ACD1A839B22"
_NAMED_FMTID = "D5CDD505-2E9C-101B-9397-08002B2CF9AE"


def property_values(data: bytes) -> dict[tuple[str, Any], Any]:
    """String (VT_LPWSTR) and FILETIME (VT_FILETIME) values of every serialized property
    storage ("1SPS") found in `data`, keyed by (format id, property id or name)."""
    values: dict[tuple[str, Any], Any] = {}
    at = data.find(b"1SPS")
    while at >= 4:
        start = at - 4
        size = struct.unpack_from("<I", data, start)[0]
        end = start + size
        if size < 24 or end > len(data):
            at = data.find(b"1SPS", at + 4)
            continue
        fmtid = guid_text(data, at + 4)
        pos = at + 20
        while pos + 9 <= end:
            vsize = struct.unpack_from("<I", data, pos)[0]
            if vsize < 9 or pos + vsize > end:
                break
            if fmtid == _NAMED_FMTID:
                nsize = struct.unpack_from("<I", data, pos + 4)[0]
                prop: Any = data[pos + 9:pos + 9 + nsize].decode("utf-16-le", "replace")
                prop = prop.rstrip("\x00")
                typed = pos + 9 + nsize
            else:
                prop = struct.unpack_from("<I", data, pos + 4)[0]
                typed = pos + 9
            if typed + 8 <= pos + vsize:
                vtype = struct.unpack_from("<H", data, typed)[0]
                if vtype == 0x1F:
                    count = struct.unpack_from("<I", data, typed + 4)[0]
                    raw = data[typed + 8:min(typed + 8 + count * 2, pos + vsize)]
                    values[(fmtid, prop)] = read_utf16z(raw)[0]
                elif vtype == 0x40 and typed + 12 <= pos + vsize:
                    values[(fmtid, prop)] = filetime(struct.unpack_from("<Q", data, typed + 4)[0])
            pos += vsize
        at = data.find(b"1SPS", end)
    return values


def _property_view(item: bytes, class_type: int) -> ShellItem:
    """A property-view item (library, search and network views): named by its property store."""
    props = property_values(item)
    name = (props.get((_FMTID_SHELL, 24)) or props.get((_FMTID_STORAGE, 10))
            or props.get((_NAMED_FMTID, "AutolistCacheKey")))
    found = ShellItem(class_type, "property_view", name or "<property view>")
    path = props.get((_FMTID_SEARCH_PATH, 8))
    if isinstance(path, str) and path:
        found.full_path = path
    for pid, attr in ((14, "modified"), (15, "created"), (16, "accessed")):
        value = props.get((_FMTID_STORAGE, pid))
        if value is not None and not isinstance(value, str):
            setattr(found, attr, value)
    return found


def _uri(item: bytes) -> ShellItem:
    """URI item: the text is the longest printable string in it (UTF-16 when flag 0x80)."""
    unicode = bool(item[3] & 0x80) if len(item) > 3 else False
    best = ""
    pos = 4
    while pos < len(item):
        if unicode:
            text, nxt = read_utf16z(item, pos)
        else:
            text, nxt = read_asciiz(item, pos)
        if len(text) > len(best) and text.isprintable() and "://" in text:
            best = text
        pos = max(nxt, pos + (2 if unicode else 1))
    return ShellItem(0x61, "uri", best or "<uri>")


def parse_id_list(data: bytes, offset: int = 0, codepage: str = "cp1252") -> list[ShellItem]:
    """The items of an ITEMIDLIST starting at `offset`, up to its terminal 0 or a bad size."""
    items: list[ShellItem] = []
    pos = offset
    while pos + 2 <= len(data):
        size = struct.unpack_from("<H", data, pos)[0]
        if size == 0:
            break
        if size < 3 or pos + size > len(data):
            items.append(ShellItem(0, "unknown", "<truncated item>"))
            break
        items.append(parse_item(bytes(data[pos:pos + size]), codepage))
        pos += size
    return items


def id_list_path(items: list[ShellItem]) -> str:
    """A readable path: from the last volume ("C:\\") or network item when there is one,
    otherwise from the root folder ("Libraries\\Pictures", "Desktop\\notes.txt")."""
    start, base = 0, None
    for index, item in enumerate(items):
        if item.full_path:
            start, base = index, item.full_path
        elif item.kind in ("volume", "network") and item.name and not item.name.startswith("{"):
            start, base = index, None
        elif (item.kind == "known_folder" and index > 0 and items[index - 1].guid == _USERS_FILES
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
    items = parse_id_list(data, offset, codepage)
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


__all__ = ["KNOWN_FOLDERS", "MRU_ENTRY", "SHELL_FOLDERS", "ShellItem", "decode_pidl",
           "fat_datetime", "folder_name", "guid_text", "id_list_path", "mru_entries",
           "mru_ex_entries", "mru_list", "mru_list_ex", "mru_time", "numbered_string_values",
           "parse_id_list", "parse_item", "property_values", "read_asciiz", "read_utf16z"]
