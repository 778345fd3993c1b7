"""Amcache.hve (AMCACHE): programs and executable files recorded by the compatibility appraiser.

Presence of an entry means Windows inventoried the file (it ran, was installed, or lay in a
scanned folder): it is evidence of presence, and of execution only together with other sources.

Windows 10 1709 and later (`Root\\InventoryApplicationFile\\<id>`, one key per file):
    LowerCaseLongPath (path), FileId ("0000" + SHA-1 of the first 31,457,280 bytes), Size
    (REG_QWORD, or a "0x..." string on early builds), LinkDate ("MM/DD/YYYY HH:MM:SS", the PE
    header's link time, UTC), ProductName, Publisher, Version, BinaryType, ProgramId, Name,
    LongPathHash.
    Events: "Key Last Written" (the key's last-written time: when the appraiser first recorded
    or last changed the entry, the usual "first seen" time) and "Link Time" (PE compile time,
    set by the linker: it can be forged and says nothing about this computer).
`Root\\InventoryApplication\\<ProgramId>` (installed programs): Name, Publisher, Version,
    InstallDate ("MM/DD/YYYY HH:MM:SS"; UTC: on the samples it precedes the key's last write by
    seconds), Source (AddRemoveProgram, AppxPackage, ...), RootDirPath, UninstallString,
    RegistryKeyPath. Events: "Program Installed" (when InstallDate is set), "Key Last Written".

Windows 8 to 10 1607 (`Root\\File\\<volume GUID>\\<file reference>`, value names are hex
numbers): 15 path, 101 "0000" + SHA-1, 11 last modified FILETIME, 12 created FILETIME, f link
time (POSIX seconds, UTC), 17 a further FILETIME, 0 product name, 1 company, 3 language,
5 file version, 6 file size, c description, 100 program id. The key name is the NTFS file
reference: sequence number in the bits above 32, MFT entry in the low 32 bits.
    Events: "Key Last Written" (first recorded), "File Modified" and "File Created" (the file's
    $STANDARD_INFORMATION times as the appraiser read them), "Link Time", and
    "Last Modified 2 (Amcache value 17)": value 17's FILETIME, whose meaning is not documented
    by Microsoft (researchers named it "last modified time 2"; it is not the key's time).
`Root\\Programs\\<program id>`: 0 name, 1 version, 2 publisher, 3 language, 6 source, 7
    uninstall key(s), d folders, a install time (POSIX seconds UTC in the low 32 bits).
    Events: "Program Installed", "Key Last Written".

Other Inventory* keys (drivers, devices, shortcuts) are not read here.
data: key, layout ("InventoryApplicationFile", "File", "InventoryApplication", "Programs"),
path, sha1, file_id, size, link_date, product_name, publisher, version, binary_type,
program_id, volume_guid, mft_entry, mft_sequence; programs: name, version, publisher,
install_date, source, root_dir_path, uninstall_string.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, Timestamp, filetime, from_datetime, posix
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin

MAX_KEYS = 200_000
_SHA1 = re.compile(r"^(?:0000)?([0-9a-fA-F]{40})$")
_US_DATE = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4}) (\d{1,2}):(\d{2}):(\d{2})\s*$")


def us_datetime(text: Any) -> Timestamp | None:
    """'MM/DD/YYYY HH:MM:SS' (UTC) to a Timestamp with whole seconds; None if not that form."""
    if not isinstance(text, str):
        return None
    match = _US_DATE.match(text)
    if not match:
        return None
    month, day, year, hour, minute, second = (int(g) for g in match.groups())
    try:
        value = _dt.datetime(year, month, day, hour, minute, second, tzinfo=_dt.timezone.utc)
    except ValueError:
        return None
    return from_datetime(value, digits=0)


def sha1_of(file_id: Any) -> str | None:
    if not isinstance(file_id, str):
        return None
    match = _SHA1.match(file_id.strip())
    return match.group(1).lower() if match else None


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text, 16) if text.lower().startswith("0x") else int(text)
        except ValueError:
            return None
    return None


def _values(key: Any, key_path: str, ctx: ExtractionContext) -> dict[str, Any]:
    """Every readable value of a key by name; an unreadable one is skipped with a warning."""
    found: dict[str, Any] = {}
    try:
        values = list(key.values())
    except Exception as exc:
        ctx.warn(f"{key_path}: values unreadable ({exc})")
        return found
    for value in values[:1000]:
        try:
            found[value.name()] = value.value()
        except Exception as exc:
            ctx.warn(f"{key_path}: value unreadable ({exc})")
    return found


def _str(value: Any) -> str | None:
    if isinstance(value, str):
        return value or None
    if isinstance(value, list):
        joined = "; ".join(v for v in value if isinstance(v, str) and v)
        return joined or None
    return None


def _filetime_value(value: Any) -> Timestamp | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return filetime(value)
    if isinstance(value, (bytes, bytearray)) and len(value) >= 8:
        return filetime(int.from_bytes(value[:8], "little"))
    return None


def _posix_value(value: Any) -> Timestamp | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    value &= 0xFFFFFFFF
    return posix(value) if value else None


def _subkeys(hive: HiveView, key: Any, key_path: str,
             ctx: ExtractionContext) -> list[tuple[Any, str]]:
    """(subkey, its path): paths are built here, python-registry's key.path() is slow."""
    keys = hive.subkeys(key)
    if len(keys) > MAX_KEYS:
        ctx.warn(f"{key_path}: {len(keys)} subkeys, only the first {MAX_KEYS} read")
        keys = keys[:MAX_KEYS]
    return [(sub, f"{key_path}\\{sub.name()}") for sub in keys]


@register_plugin
class Amcache(RegistryPlugin):
    name = "amcache"
    hives = ("AMCACHE",)
    description = "Amcache.hve: files (path, SHA-1, first recorded) and installed programs"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for name, handler in (("Root\\InventoryApplicationFile", self._inventory_file),
                              ("Root\\InventoryApplication", self._inventory_application),
                              ("Root\\Programs", self._program)):
            parent = hive.key(name)
            if parent is None:
                continue
            for key, key_path in _subkeys(hive, parent, path_of(parent), ctx):
                try:
                    yield from handler(key, key_path, ctx)
                except Exception as exc:  # one bad entry must not cost the others
                    ctx.warn(f"{key_path}: entry skipped ({type(exc).__name__}: {exc})")
        files = hive.key("Root\\File")
        if files is not None:
            for volume, volume_path in _subkeys(hive, files, path_of(files), ctx):
                for key, key_path in _subkeys(hive, volume, volume_path, ctx):
                    try:
                        yield from self._file(key, key_path, volume.name(), ctx)
                    except Exception as exc:
                        ctx.warn(f"{key_path}: entry skipped ({type(exc).__name__}: {exc})")

    # -- Windows 10 1709+ ------------------------------------------------------------------

    @staticmethod
    def _inventory_file(key: Any, key_path: str, ctx: ExtractionContext) -> Iterator[Event]:
        v = _values(key, key_path, ctx)
        path = _str(v.get("LowerCaseLongPath"))
        file_id = _str(v.get("FileId"))
        data = {"layout": "InventoryApplicationFile", "key": key_path, "path": path,
                "name": _str(v.get("Name")), "sha1": sha1_of(file_id), "file_id": file_id,
                "size": _int(v.get("Size")), "link_date": _str(v.get("LinkDate")),
                "product_name": _str(v.get("ProductName")), "publisher": _str(v.get("Publisher")),
                "version": _str(v.get("Version")), "binary_type": _str(v.get("BinaryType")),
                "program_id": _str(v.get("ProgramId")),
                "long_path_hash": _str(v.get("LongPathHash"))}
        shown = path or key.name()
        sha = f" (SHA-1 {data['sha1']})" if data["sha1"] else ""
        yield Event(key_time(key), "Key Last Written",
                    f"Amcache file recorded: {shown}{sha}", data)
        link = us_datetime(data["link_date"])
        if link is not None:
            yield Event(link, "Link Time", f"Amcache file PE link time: {shown}", dict(data))
        elif data["link_date"]:
            ctx.warn(f"{key_path}: LinkDate {data['link_date']!r} is not MM/DD/YYYY HH:MM:SS")

    @staticmethod
    def _inventory_application(key: Any, key_path: str, ctx: ExtractionContext) -> Iterator[Event]:
        v = _values(key, key_path, ctx)
        name = _str(v.get("Name"))
        data = {"layout": "InventoryApplication", "key": key_path, "name": name,
                "version": _str(v.get("Version")), "publisher": _str(v.get("Publisher")),
                "install_date": _str(v.get("InstallDate")), "source": _str(v.get("Source")),
                "root_dir_path": _str(v.get("RootDirPath")),
                "uninstall_string": _str(v.get("UninstallString")),
                "registry_key_path": _str(v.get("RegistryKeyPath")),
                "program_id": _str(v.get("ProgramId")),
                "package_full_name": _str(v.get("PackageFullName"))}
        label = " ".join(p for p in (name or key.name(), data["version"]) if p)
        by = f" ({data['publisher']})" if data["publisher"] else ""
        installed = us_datetime(data["install_date"])
        if installed is not None:
            yield Event(installed, "Program Installed", f"Program installed: {label}{by}", data)
        elif data["install_date"]:
            ctx.warn(f"{key_path}: InstallDate {data['install_date']!r} is not "
                     "MM/DD/YYYY HH:MM:SS")
        yield Event(key_time(key), "Key Last Written", f"Amcache program recorded: {label}{by}",
                    dict(data))

    # -- Windows 8 to 10 1607 ---------------------------------------------------------------

    @staticmethod
    def _file(key: Any, key_path: str, volume: str, ctx: ExtractionContext) -> Iterator[Event]:
        v = _values(key, key_path, ctx)
        path = _str(v.get("15"))
        file_id = _str(v.get("101"))
        reference = None
        try:
            reference = int(key.name(), 16)
        except ValueError:
            pass
        link = _posix_value(v.get("f"))
        data = {"layout": "File", "key": key_path, "path": path, "sha1": sha1_of(file_id),
                "file_id": file_id, "size": _int(v.get("6")),
                "product_name": _str(v.get("0")), "publisher": _str(v.get("1")),
                "version": _str(v.get("5")), "description": _str(v.get("c")),
                "language": _int(v.get("3")), "program_id": _str(v.get("100")),
                "volume_guid": volume,
                "mft_entry": reference & 0xFFFFFFFF if reference is not None else None,
                "mft_sequence": reference >> 32 if reference is not None else None,
                "link_date": link.iso() if link else None}
        shown = path or key.name()
        sha = f" (SHA-1 {data['sha1']})" if data["sha1"] else ""
        yield Event(key_time(key), "Key Last Written", f"Amcache file recorded: {shown}{sha}",
                    data)
        for name, desc, text in (("11", "File Modified", "file last modified"),
                                 ("12", "File Created", "file created"),
                                 ("17", "Last Modified 2 (Amcache value 17)",
                                  "value 17 time")):
            when = _filetime_value(v.get(name))
            if when is not None:
                yield Event(when, desc, f"Amcache {text}: {shown}", dict(data))
        if link is not None:
            yield Event(link, "Link Time", f"Amcache file PE link time: {shown}", dict(data))

    @staticmethod
    def _program(key: Any, key_path: str, ctx: ExtractionContext) -> Iterator[Event]:
        v = _values(key, key_path, ctx)
        name = _str(v.get("0"))
        installed = _posix_value(v.get("a"))
        data = {"layout": "Programs", "key": key_path, "name": name,
                "version": _str(v.get("1")), "publisher": _str(v.get("2")),
                "language": _str(v.get("3")), "source": _str(v.get("6")),
                "uninstall_key": _str(v.get("7")), "paths": _str(v.get("d")),
                "install_date": installed.iso() if installed else None}
        label = " ".join(p for p in (name or key.name(), data["version"]) if p)
        by = f" ({data['publisher']})" if data["publisher"] else ""
        if installed is not None:
            yield Event(installed, "Program Installed", f"Program installed: {label}{by}", data)
        yield Event(key_time(key), "Key Last Written", f"Amcache program recorded: {label}{by}",
                    dict(data))
