"""Windows Shortcut (LNK) files: what a user opened, and on which volume it was.

Format: [MS-SHLLINK] "Shell Link (.LNK) Binary File Format" (Microsoft Open Specifications) and
the libyal liblnk paper "Windows Shortcut File (LNK) format"; the same format from Windows 95 to
11. Read with liblnk (pylnk) for the header, strings and extra data blocks, the project's shell
item decoder (`triage.shellitems.link`, which still asks libfwsi how the list and its items
read) for the target ID list, and a small reader of our own for the LinkInfo
structure, whose parts liblnk only gives joined (share name vs. device name, base path vs.
suffix). ANSI strings are decoded as Windows-1252 (liblnk's default); Unicode copies win where
the file has them.

Times: the header holds the link target's creation, modification and last access times as
FILETIMEs (UTC, 100 ns, seven digits), copied from the target when the shortcut was made or
last resolved. A time of 0 is "not set": no event. The shortcut file's own times are not in
the file (the file system has them) and are not invented here. Shell item FAT times (UTC,
2-second resolution) stay in `shell_items`. The droid file identifier of the tracker block is
a version 1 UUID whose time (`droid_file_time`, UTC, 100 ns) is when link tracking gave the
target its object identifier, and whose node is the MAC address of the machine that did.

Events: "Target Created", "Target Modified", "Target Accessed" (one per time that is set, each
with the full data below). When none is set, one event with no timestamp and the description
"Target Times Not Set", so the shortcut is not lost. `user` is left to the engine (the profile
the .lnk lies in).

Event data: target_path (local path, else network path, else environment-variable location,
else the shell item path), local_path (local base path + common path suffix), local_base_path,
common_path_suffix, network_path, network_share_name, network_device_name (e.g. a mapped
drive "Z:"), network_provider_type, relative_path, working_directory, arguments, description,
icon_location, icon_index, environment_variables_location, show_command, drive_type (0-6),
drive_type_name ("unknown", "no_root_dir", "removable", "fixed", "network", "cdrom",
"ramdisk"), volume_serial (8 upper-case hex digits), volume_label, file_attributes (int),
file_attribute_names, file_size, target_created / target_modified / target_accessed (ISO
8601 or None), shell_item_path, shell_items (list of dicts: type, name, and for file entries
short_name, long_name, file_size, modified, created, accessed, mft_entry, mft_sequence,
file_reference "entry-sequence"), mft_entry, mft_sequence, file_reference (of the target's own
shell item), known_folder_id, known_folder_name, machine_id (tracker NetBIOS name),
droid_volume_id, droid_file_id, birth_droid_volume_id, birth_droid_file_id, mac_address and
birth_mac_address (from the version 1 droid file identifiers), droid_file_time.
Values the file does not record are None.

Damage: a file that is not a shortcut, or that liblnk cannot open, raises ArtifactError. Parts
lost to truncation or damage (LinkInfo, target ID list, extra data) are reported with
`ctx.error` (an error row; the events are kept); oddities (liblnk's corruption flag, a time
past the year 9999) with `ctx.warn`. Sizes and loops are bounded (16 MiB, 64 data blocks,
512 shell items).
"""
from __future__ import annotations

import io
import re
import struct
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pylnk

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, filetime
from triage.shellitems import folder_name
from triage.shellitems.link import shell_path

MAX_LNK_SIZE = 16 * 1024 * 1024  # real shortcuts are a few KiB
HEADER_SIZE = 0x4C
LNK_CLSID = uuid.UUID("00021401-0000-0000-c000-000000000046").bytes_le
SIGNATURE = struct.pack("<I", HEADER_SIZE) + LNK_CLSID
_ANSI = "cp1252"
_UUID_EPOCH_TO_UNIX = 0x01B21DD213814000  # 100 ns ticks from 1582-10-15 to 1970-01-01

DRIVE_TYPES = {0: "unknown", 1: "no_root_dir", 2: "removable", 3: "fixed", 4: "network",
               5: "cdrom", 6: "ramdisk"}
FILE_ATTRIBUTES = ((0x1, "READONLY"), (0x2, "HIDDEN"), (0x4, "SYSTEM"), (0x10, "DIRECTORY"),
                   (0x20, "ARCHIVE"), (0x40, "DEVICE"), (0x80, "NORMAL"), (0x100, "TEMPORARY"),
                   (0x200, "SPARSE_FILE"), (0x400, "REPARSE_POINT"), (0x800, "COMPRESSED"),
                   (0x1000, "OFFLINE"), (0x2000, "NOT_CONTENT_INDEXED"), (0x4000, "ENCRYPTED"))

# LinkFlags
_HAS_ID_LIST, _HAS_LINK_INFO, _IS_UNICODE = 0x01, 0x02, 0x80
_STRING_FLAGS = (0x04, 0x08, 0x10, 0x20, 0x40)  # description ... icon location, in file order

Warn = Callable[[str], None]
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass
class Report:
    """Where a parser tells what went wrong: `warn` for an oddity it worked around, `error` for
    part of the file it could not read (the engine makes that an error row for the file)."""

    warn: Warn
    error: Warn

    def within(self, prefix: str) -> "Report":
        return Report(lambda m: self.warn(prefix + m), lambda m: self.error(prefix + m))

    @classmethod
    def for_file(cls, f: EvidenceFile, ctx: ExtractionContext) -> "Report":
        return cls(lambda m: ctx.warn(f"{f.path}: {m}"), lambda m: ctx.error(f"{f.path}: {m}"))

    @classmethod
    def quiet(cls) -> "Report":
        return cls(lambda m: None, lambda m: None)


def _reason(exc: BaseException) -> str:
    """A libyal error chain ("outer. inner: cause. ...") cut to its first inner cause."""
    text = " ".join(str(exc).split())
    parts = [part.strip() for part in text.split(". ") if part.strip()]
    cause = parts[1] if len(parts) > 1 else (parts[0] if parts else type(exc).__name__)
    if re.match(r"^\w+: ", cause):
        cause = cause.split(": ", 1)[1]
    return cause.rstrip(".")


def link_size(raw: bytes, offset: int = 0, end: int | None = None) -> int | None:
    """The length of the shell link starting at `offset`, walked from its own size fields;
    None when the structure runs past `end` (default: the end of `raw`)."""
    end = len(raw) if end is None else min(end, len(raw))
    if offset + HEADER_SIZE > end or raw[offset : offset + 20] != SIGNATURE:
        return None
    (flags,) = struct.unpack_from("<I", raw, offset + 20)
    pos = offset + HEADER_SIZE
    if flags & _HAS_ID_LIST:
        if pos + 2 > end:
            return None
        pos += 2 + struct.unpack_from("<H", raw, pos)[0]
    if flags & _HAS_LINK_INFO:
        if pos + 4 > end:
            return None
        size = struct.unpack_from("<I", raw, pos)[0]
        if size < 4:
            return None
        pos += size
    unit = 2 if flags & _IS_UNICODE else 1
    for flag in _STRING_FLAGS:
        if flags & flag:
            if pos + 2 > end:
                return None
            pos += 2 + unit * struct.unpack_from("<H", raw, pos)[0]
    while True:  # extra data blocks, ended by a block size below 4
        if pos + 4 > end:
            return None
        (size,) = struct.unpack_from("<I", raw, pos)
        if size < 4:
            pos += 4
            break
        pos += size
    return pos - offset if pos <= end else None


# ---------------------------------------------------------------------------- LinkInfo


@dataclass
class LinkInfo:
    has_volume: bool = False
    drive_type: int | None = None
    serial: int | None = None
    label: str | None = None
    local_base_path: str | None = None
    has_network: bool = False
    share_name: str | None = None
    device_name: str | None = None
    provider_type: int | None = None
    common_path_suffix: str | None = None

    @property
    def local_path(self) -> str | None:
        if self.local_base_path is None:
            return None
        return _join_suffix(self.local_base_path, self.common_path_suffix)

    @property
    def network_path(self) -> str | None:
        if self.share_name is None:
            return None
        return _join_suffix(self.share_name, self.common_path_suffix)


def _join_suffix(base: str, suffix: str | None) -> str:
    if not suffix:
        return base
    if base.endswith("\\"):
        return base + suffix
    return base + "\\" + suffix


def _cstring(block: bytes, offset: int) -> str | None:
    if not 0 < offset < len(block):
        return None
    return block[offset:].split(b"\0", 1)[0].decode(_ANSI, errors="replace")


def _wstring(block: bytes, offset: int) -> str | None:
    if not 0 < offset < len(block):
        return None
    end = len(block) - (len(block) - offset) % 2
    for pos in range(offset, end, 2):
        if block[pos] == 0 and block[pos + 1] == 0:
            end = pos
            break
    return block[offset:end].decode("utf-16-le", errors="surrogatepass")


def _u32(block: bytes, offset: int) -> int:
    if offset + 4 > len(block):
        raise ValueError(f"field at offset {offset} past the end of the structure")
    return struct.unpack_from("<I", block, offset)[0]


def _link_info_offset(raw: bytes) -> int | None:
    (flags,) = struct.unpack_from("<I", raw, 20)
    if not flags & _HAS_LINK_INFO:
        return None
    pos = HEADER_SIZE
    if flags & _HAS_ID_LIST:
        if pos + 2 > len(raw):
            return None
        pos += 2 + struct.unpack_from("<H", raw, pos)[0]
    return pos


def parse_link_info(raw: bytes, report: Report) -> LinkInfo | None:
    """The LinkInfo structure of a shell link ([MS-SHLLINK] 2.3), or None when absent."""
    offset = _link_info_offset(raw)
    if offset is None:
        return None
    if offset + 28 > len(raw):
        report.error("LinkInfo runs past the end of the file")
        return None
    size, header_size, flags = struct.unpack_from("<III", raw, offset)
    if size < 28 or offset + size > len(raw) or header_size < 0x1C or header_size > size:
        report.error(f"LinkInfo at offset {offset} has implausible sizes ({size}, header "
                     f"{header_size})")
        return None
    block = raw[offset : offset + size]
    info = LinkInfo()
    try:
        volume_offset, base_offset, network_offset, suffix_offset = struct.unpack_from(
            "<IIII", block, 12)
        base_unicode = suffix_unicode = 0
        if header_size >= 0x24:
            base_unicode, suffix_unicode = struct.unpack_from("<II", block, 28)
        if flags & 0x01:  # VolumeIDAndLocalBasePath
            info.has_volume = True
            volume = block[volume_offset : volume_offset + _u32(block, volume_offset)]
            if len(volume) < 16:
                raise ValueError("VolumeID shorter than 16 bytes")
            info.drive_type, info.serial, label_offset = struct.unpack_from("<III", volume, 4)
            if label_offset == 0x14:
                info.label = _wstring(volume, _u32(volume, 16))
            else:
                info.label = _cstring(volume, label_offset)
            info.local_base_path = (_wstring(block, base_unicode) if base_unicode else None) \
                or _cstring(block, base_offset)
        if flags & 0x02:  # CommonNetworkRelativeLinkAndPathSuffix
            info.has_network = True
            net = block[network_offset : network_offset + _u32(block, network_offset)]
            if len(net) < 20:
                raise ValueError("CommonNetworkRelativeLink shorter than 20 bytes")
            net_flags, name_offset, device_offset, provider = struct.unpack_from("<IIII", net, 4)
            name_unicode = device_unicode = 0
            if name_offset > 0x14 and len(net) >= 28:
                name_unicode, device_unicode = struct.unpack_from("<II", net, 20)
            info.share_name = (_wstring(net, name_unicode) if name_unicode else None) \
                or _cstring(net, name_offset)
            if net_flags & 0x01:
                info.device_name = (_wstring(net, device_unicode) if device_unicode else None) \
                    or _cstring(net, device_offset)
            if net_flags & 0x02:
                info.provider_type = provider
        info.common_path_suffix = (_wstring(block, suffix_unicode) if suffix_unicode else None) \
            or _cstring(block, suffix_offset)
    except (ValueError, struct.error) as exc:
        report.error(f"damaged LinkInfo: {exc}")
    return info


# ---------------------------------------------------------------------------- the link


def _guid(value: Any) -> str | None:
    """A GUID string, None when unset (all zeros)."""
    if not value:
        return None
    text = str(value).lower().strip("{}")
    return None if text == "00000000-0000-0000-0000-000000000000" else text


def droid_facts(droid: str | None) -> tuple[str | None, Timestamp | None]:
    """(MAC address, time) of a version 1 UUID droid identifier; (None, None) otherwise."""
    if not droid:
        return None, None
    try:
        value = uuid.UUID(droid)
    except ValueError:
        return None, None
    if value.version != 1 or value.variant != uuid.RFC_4122:
        return None, None
    mac = ":".join(f"{b:02x}" for b in value.node.to_bytes(6, "big"))
    return mac, Timestamp((value.time - _UUID_EPOCH_TO_UNIX) * 100, 7)


_MAX_FILETIME = 2650467743999999999  # 9999-12-31T23:59:59.9999999Z, the last printable time


def checked_filetime(value: int, warn: Warn, what: str) -> Timestamp | None:
    """filetime(), and None with a warning for a value past the year 9999 (damage)."""
    if value and _MAX_FILETIME < value < 0x7FFFFFFFFFFFFFFF:
        warn(f"{what} 0x{value:016X} is past the year 9999; ignored")
        return None
    return filetime(value)


def attribute_names(flags: int | None) -> list[str]:
    return [name for bit, name in FILE_ATTRIBUTES if flags and flags & bit]


@dataclass
class Link:
    """One parsed shell link: its JSON-able fields and its three target times."""

    data: dict[str, Any]
    created: Timestamp | None
    modified: Timestamp | None
    accessed: Timestamp | None

    @property
    def target(self) -> str | None:
        return self.data.get("target_path")

    def volume_note(self) -> str:
        """" (E: removable, serial 4B1D2C3E, label KIOXIA)" or " (network share ...)"."""
        d = self.data
        parts: list[str] = []
        if d.get("drive_type") is not None:
            letter = re.match(r"^([A-Za-z]:)", d.get("local_path") or "")
            kind = d.get("drive_type_name") or "unknown"
            parts.append(f"{letter.group(1).upper()} {kind}" if letter else kind)
            if d.get("volume_serial"):
                parts.append(f"serial {d['volume_serial']}")
            if d.get("volume_label"):
                parts.append(f"label {d['volume_label']}")
        elif d.get("network_share_name"):
            parts.append(f"network share {d['network_share_name']}")
            if d.get("network_device_name"):
                parts.append(f"mapped to {d['network_device_name']}")
        return f" ({', '.join(parts)})" if parts else ""

    def describe(self) -> str:
        """"C:\\x.exe -args (C: fixed, serial ...)": the target, its arguments and volume, on
        one line (runs of white space and control characters shown as one space)."""
        text = self.target or "(no target path recorded)"
        args = " ".join(_CONTROL.sub(" ", self.data.get("arguments") or "").split())
        if args:
            text += " " + (args if len(args) <= 200 else args[:200] + "...")
        return _CONTROL.sub(" ", text + self.volume_note())


def _string(lnk: Any, name: str) -> str | None:
    try:
        value = getattr(lnk, name)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return value if value else None


def read_link(raw: bytes, report: Report) -> Link:
    """Parse one shell link held in memory; ArtifactError when it is not one or is unreadable."""
    if not raw:
        raise ArtifactError("empty file")
    if len(raw) < HEADER_SIZE:
        raise ArtifactError(f"truncated shortcut: {len(raw)} bytes, the header alone is 76")
    if raw[:20] != SIGNATURE:
        raise ArtifactError("not a shortcut file (no 0x4C header size and LNK class identifier)")
    size = link_size(raw)
    if size is None:
        report.error("the shortcut's structures run past the end of the data (truncated)")
    lnk = pylnk.file()
    try:
        lnk.open_file_object(io.BytesIO(raw))
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"unreadable shortcut: {_reason(exc)}") from None
    try:
        return _fields(lnk, raw, report)
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"unreadable shortcut: {_reason(exc)}") from None
    finally:
        try:
            lnk.close()
        except (OSError, ValueError):
            pass


def _fields(lnk: Any, raw: bytes, report: Report) -> Link:
    if lnk.is_corrupted():
        report.warn("liblnk reports the shortcut as corrupted; values may be incomplete")
    info = parse_link_info(raw, report) or LinkInfo()
    created = checked_filetime(lnk.get_file_creation_time_as_integer(), report.warn,
                               "target creation time")
    modified = checked_filetime(lnk.get_file_modification_time_as_integer(), report.warn,
                                "target modification time")
    accessed = checked_filetime(lnk.get_file_access_time_as_integer(), report.warn,
                                "target access time")

    shell = None
    try:
        id_list = lnk.link_target_identifier_data
    except (OSError, ValueError) as exc:
        report.error(f"unreadable target ID list: {_reason(exc)}")
        id_list = None
    if id_list:
        shell = shell_path(bytes(id_list), report.error)
    reference = shell.target_reference if shell else None

    known_folder_id = None
    for index in range(min(lnk.number_of_data_blocks, 64)):
        try:
            block = lnk.get_data_block(index)
            signature, content = block.signature, bytes(block.data or b"")
        except (OSError, ValueError, TypeError) as exc:
            report.error(f"unreadable extra data block {index}: {_reason(exc)}")
            continue
        if signature == 0xA000000B and len(content) >= 16:
            known_folder_id = str(uuid.UUID(bytes_le=content[:16]))

    droid_file = _guid(_string(lnk, "droid_file_identifier"))
    birth_droid_file = _guid(_string(lnk, "birth_droid_file_identifier"))
    mac, droid_time = droid_facts(droid_file)
    birth_mac, _ = droid_facts(birth_droid_file)
    attributes = lnk.file_attribute_flags
    environment = _string(lnk, "environment_variables_location")
    serial = f"{info.serial:08X}" if info.serial is not None else None

    data: dict[str, Any] = {
        "target_path": info.local_path or info.network_path or environment
        or (shell.path if shell and shell.path else None),
        "local_path": info.local_path,
        "local_base_path": info.local_base_path,
        "common_path_suffix": info.common_path_suffix or None,
        "network_path": info.network_path,
        "network_share_name": info.share_name,
        "network_device_name": info.device_name,
        "network_provider_type": info.provider_type,
        "relative_path": _string(lnk, "relative_path"),
        "working_directory": _string(lnk, "working_directory"),
        "arguments": _string(lnk, "command_line_arguments"),
        "description": _string(lnk, "description"),
        "icon_location": _string(lnk, "icon_location"),
        "icon_index": lnk.icon_index,
        "environment_variables_location": environment,
        "show_command": lnk.show_window_value,
        "drive_type": info.drive_type if info.has_volume else None,
        "drive_type_name": DRIVE_TYPES.get(info.drive_type, f"type {info.drive_type}")
        if info.has_volume and info.drive_type is not None else None,
        "volume_serial": serial,
        "volume_label": info.label if info.has_volume else None,
        "file_attributes": attributes,
        "file_attribute_names": attribute_names(attributes),
        "file_size": lnk.file_size,
        "target_created": created.iso() if created else None,
        "target_modified": modified.iso() if modified else None,
        "target_accessed": accessed.iso() if accessed else None,
        "shell_item_path": shell.path if shell and shell.path else None,
        "shell_items": shell.items if shell else [],
        "mft_entry": reference[0] if reference else None,
        "mft_sequence": reference[1] if reference else None,
        "file_reference": f"{reference[0]}-{reference[1]}" if reference else None,
        "known_folder_id": known_folder_id,
        "known_folder_name": folder_name(known_folder_id, "link"),
        "machine_id": _string(lnk, "machine_identifier"),
        "droid_volume_id": _guid(_string(lnk, "droid_volume_identifier")),
        "droid_file_id": droid_file,
        "birth_droid_volume_id": _guid(_string(lnk, "birth_droid_volume_identifier")),
        "birth_droid_file_id": birth_droid_file,
        "mac_address": mac,
        "birth_mac_address": birth_mac,
        "droid_file_time": droid_time.iso() if droid_time else None,
    }
    return Link(data=data, created=created, modified=modified, accessed=accessed)


def target_events(link: Link, message: str, extra: dict[str, Any] | None = None,
                  user: str | None = None) -> Iterator[Event]:
    """The link's target time events (or one untimed event when it records no time)."""
    base = {**(extra or {}), **link.data}
    stamps = (("Target Created", link.created), ("Target Modified", link.modified),
              ("Target Accessed", link.accessed))
    emitted = False
    for desc, stamp in stamps:
        if stamp is None:
            continue
        emitted = True
        yield Event(timestamp=stamp, timestamp_desc=desc, message=message,
                    data=_copy(base), user=user)
    if not emitted:
        yield Event(timestamp=None, timestamp_desc="Target Times Not Set", message=message,
                    data=_copy(base), user=user)


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """A fresh dict for every event (lists of dicts included) so no two events share state."""
    out = dict(data)
    if isinstance(out.get("shell_items"), list):
        out["shell_items"] = [dict(item) for item in out["shell_items"]]
    if isinstance(out.get("file_attribute_names"), list):
        out["file_attribute_names"] = list(out["file_attribute_names"])
    return out


@register
class LnkExtractor(Extractor):
    name = "lnk"
    family = "recent_files"
    description = "Windows Shortcut (.lnk): target path, volume, times, shell items, tracker"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with f.open() as handle:
            raw = handle.read(MAX_LNK_SIZE + 1)
        if len(raw) > MAX_LNK_SIZE:
            raise ArtifactError("file too large to be a shortcut (over 16 MiB)")
        link = read_link(raw, Report.for_file(f, ctx))
        yield from target_events(link, f"Shortcut to {link.describe()}")
