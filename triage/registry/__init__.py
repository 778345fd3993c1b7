"""Registry plugins: one small module per kind of registry evidence, each hive opened once.

Why a second plugin level: a hive holds dozens of artifacts (USBSTOR, UserAssist, ShellBags...).
Parsing the hive once per artifact would multiply the cost and the log recovery; so the
`registry` extractor opens each hive once (recovering it from its logs when dirty) and hands it
to every plugin that declares that hive type. A plugin declares `hives` and yields Events; one
plugin's failure is recorded against that plugin and the others still run.

Plugins live in `triage/registry/plugins/` (found automatically) and may come from other
packages through the `triage.registry_plugins` entry-point group.
"""
from __future__ import annotations

import importlib
import pkgutil
import struct
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, Timestamp, filetime

ENTRY_POINT_GROUP = "triage.registry_plugins"
HIVE_TYPES = ("SYSTEM", "SOFTWARE", "SAM", "SECURITY", "NTUSER", "USRCLASS", "AMCACHE", "DEFAULT")


def key_time(key: Any) -> Timestamp | None:
    """A key's last-written time at full FILETIME precision (python-registry rounds to µs)."""
    try:
        return filetime(key._nkrecord.unpack_qword(0x4))
    except Exception:
        return None


MAX_PATH_DEPTH = 512  # deeper parent chains are damage


def path_of(key: Any) -> str:
    """A key's full path, as python-registry's `path()` gives it, also in a damaged hive.

    python-registry climbs the parent links and lets struct.error escape when one points past
    the end of the hive (it only expects its own ParseException), so one damaged link would
    cost a plugin all its events. Here the climb stops at the damage and the path starts with
    "[damaged parent link]"."""
    try:
        return key.path()
    except Exception:  # noqa: BLE001 - whatever the library raises on a bad link
        pass
    names: list[str] = []
    record = getattr(key, "_nkrecord", None)
    seen: set[int] = set()
    try:
        while record is not None and len(names) < MAX_PATH_DEPTH:
            names.append(record.name())
            if record.is_root():
                break
            seen.add(record._offset)
            record = record.parent_key()
            if record._offset in seen:
                names.append("[path cycle]")
                break
    except Exception:  # noqa: BLE001 - the damaged link: keep what was read below it
        names.append("[damaged parent link]")
    return "\\".join(reversed(names)) or "[unreadable key]"


def value_or(key: Any, name: str, default: Any = None) -> Any:
    """A value's data, or `default` when the value is missing or unreadable."""
    try:
        return key.value(name).value()
    except Exception:
        return default


def find_value(key: Any, name: str) -> Any:
    """The registry value object, or None when absent."""
    try:
        for value in key.values():
            if value.name().lower() == name.lower():
                return value
    except Exception:
        return None
    return None


def value_bytes(value: Any) -> bytes:
    """A value's data bytes, exactly as long as the value record says.

    python-registry reads FILETIME (0x10) and QWORD typed data with a fixed or unbounded length
    and so returns garbage for a value that is too short; the vk record is read directly here:
    data of 4 bytes or less sits in the record itself, longer data in the cell it points to.
    Empty when the data cannot be read at all (a damaged hive).
    """
    try:
        vk = value._vkrecord
        length = vk.unpack_dword(0x4)
        if length >= 0x80000000:
            start = vk.absolute_offset(0x8)
            return bytes(vk._buf[start:start + min(length - 0x80000000, 4)])
        if length <= 0x3FD8:
            cell = vk.abs_offset_from_hbin_offset(vk.unpack_dword(0x8))
            room = -struct.unpack_from("<i", vk._buf, cell)[0] - 4
            return bytes(vk._buf[cell + 4:cell + 4 + min(length, max(room, 0))])
    except Exception:
        pass
    try:
        return bytes(value.raw_data() or b"")
    except Exception:  # noqa: BLE001 - its data cell lies past the end of a damaged hive
        return b""


def text_value(key: Any, name: str, ctx: ExtractionContext) -> str | None:
    """A REG_SZ/REG_EXPAND_SZ value; a value of another type is skipped with a warning."""
    value = find_value(key, name)
    if value is None:
        return None
    try:
        data = value.value()
    except Exception as exc:
        ctx.warn(f"{path_of(key)}: value {name} unreadable ({type(exc).__name__}): skipped")
        return None
    if isinstance(data, str):
        return data.rstrip("\x00") or None
    ctx.warn(f"{path_of(key)}: value {name} is {value.value_type_str()}, not a string: skipped")
    return None


def strings_value(key: Any, name: str, ctx: ExtractionContext) -> list[str]:
    """A REG_MULTI_SZ value as its non-empty strings (a single REG_SZ is accepted)."""
    value = find_value(key, name)
    if value is None:
        return []
    try:
        data = value.value()
    except Exception as exc:
        ctx.warn(f"{path_of(key)}: value {name} unreadable ({type(exc).__name__}): skipped")
        return []
    if isinstance(data, str):
        data = [data]
    if not isinstance(data, list):
        ctx.warn(f"{path_of(key)}: value {name} is {value.value_type_str()}, not strings: skipped")
        return []
    return [s for s in data if isinstance(s, str) and s]


def subkey(key: Any, name: str) -> Any:
    try:
        return key.subkey(name)
    except Exception:
        return None


def subkeys(key: Any) -> list[Any]:
    try:
        return list(key.subkeys()) if key is not None else []
    except Exception:
        return []


def raw_value(key: Any, name: str) -> bytes | None:
    """A value's bytes exactly as stored (None when the value is absent)."""
    value = find_value(key, name)
    return None if value is None else value_bytes(value)


def filetime_value(key: Any, name: str) -> Timestamp | None:
    """A REG_BINARY/REG_QWORD value holding a FILETIME."""
    raw = raw_value(key, name)
    if raw is None or len(raw) < 8:
        return None
    return filetime(struct.unpack_from("<Q", raw)[0])


@dataclass
class HiveView:
    """What a plugin sees: the parsed hive, its type, and its owner."""

    registry: Any  # Registry.Registry
    hive_type: str
    path: str
    user: str | None = None  # the profile owner for NTUSER / UsrClass
    sid: str | None = None
    recovered: bool = False
    _ccs: str | None = field(default=None, repr=False)

    def key(self, path: str) -> Any:
        """A key by path below the root, or None."""
        try:
            return self.registry.open(path)
        except Exception:
            return None

    def subkeys(self, path_or_key: Any) -> list[Any]:
        key = self.key(path_or_key) if isinstance(path_or_key, str) else path_or_key
        if key is None:
            return []
        try:
            return list(key.subkeys())
        except Exception:
            return []

    @property
    def current_control_set(self) -> str:
        """`ControlSet00N` from SYSTEM\\Select\\Current (ControlSet001 when absent)."""
        if self._ccs is None:
            select = self.key("Select")
            current = value_or(select, "Current", 1) if select is not None else 1
            self._ccs = f"ControlSet{int(current or 1):03d}"
        return self._ccs


class RegistryPlugin:
    """Subclass, set `name` and `hives`, implement `process`."""

    name: str = ""
    hives: tuple[str, ...] = ()
    description: str = ""

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        raise NotImplementedError


_PLUGINS: dict[str, type[RegistryPlugin]] = {}


def register_plugin(cls: type[RegistryPlugin]) -> type[RegistryPlugin]:
    if not cls.name or not cls.hives:
        raise ValueError(f"{cls.__qualname__} needs a name and hives")
    unknown = set(cls.hives) - set(HIVE_TYPES)
    if unknown:
        raise ValueError(f"{cls.__qualname__}: unknown hive type {sorted(unknown)[0]}")
    _PLUGINS[cls.name] = cls
    return cls


_LOADED = False


def load_plugins() -> dict[str, type[RegistryPlugin]]:
    """Every registry plugin (discovered once per process; each hive asks again)."""
    global _LOADED
    if _LOADED:
        return dict(_PLUGINS)
    _LOADED = True
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception:
            continue
        if isinstance(loaded, type) and issubclass(loaded, RegistryPlugin):
            register_plugin(loaded)
    from triage.registry import plugins

    for module in pkgutil.iter_modules(plugins.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{plugins.__name__}.{module.name}")
    return dict(_PLUGINS)
