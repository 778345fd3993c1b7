"""System facts read before extraction: host name, Windows version, time zone, user accounts.

Why first: every event carries `host`, and extractors name users by SID (Recycle Bin) or by
profile; both come from the SYSTEM and SOFTWARE hives. These are read with python-registry from
memory (the evidence is never written). A missing or corrupt hive costs only these facts: it is
reported, and events then carry the SID or profile name instead.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

from triage.collect import find_path, path_times
from triage.model import posix
from triage.registry.hive import open_hive
from triage.sources import Tree

SYSTEM_HIVE = "/Windows/System32/config/SYSTEM"
SOFTWARE_HIVE = "/Windows/System32/config/SOFTWARE"


@dataclass
class SystemInfo:
    host: str | None = None
    product: str | None = None
    build: str | None = None
    display_version: str | None = None
    install_date: str | None = None
    timezone_name: str | None = None
    timezone_bias_minutes: int | None = None
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # SID -> {name, profile}
    problems: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return bool(self.host or self.product or self.users)

    def users_by_sid(self) -> dict[str, str]:
        return {sid.upper(): u["name"] for sid, u in self.users.items() if u.get("name")}

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "product": self.product, "build": self.build,
                "display_version": self.display_version, "install_date": self.install_date,
                "timezone": self.timezone_name, "timezone_bias_minutes": self.timezone_bias_minutes,
                "users": self.users}


def volume_path(profile_path: object) -> str | None:
    """ProfileImagePath (`C:\\Users\\alice`, `%SystemDrive%\\Users\\alice`,
    `%systemroot%\\system32\\config\\systemprofile`) as a path on the system volume
    (`/Users/alice`); None for other forms (another drive, a UNC path)."""
    if not isinstance(profile_path, str):
        return None
    text = profile_path.strip().replace("/", "\\")
    lowered = text.lower()
    for prefix, root in (("%systemdrive%", ""), ("c:", ""), ("%systemroot%", "Windows")):
        if lowered.startswith(prefix):
            text = root + "\\" + text[len(prefix):]
            break
    else:
        return None
    parts = [p for p in text.split("\\") if p]
    return "/" + "/".join(parts) if parts else None


def _open_hive(tree: Tree, path: str, info: SystemInfo) -> Any:
    """The hive at `path`, recovered from its logs when dirty (as the registry extractor does)."""
    f = find_path(tree, path)
    if f is None:
        return None
    try:
        return open_hive(f).registry
    except Exception as exc:
        info.problems.append(f"{path}: unreadable hive ({exc})")
        return None


def _value(key: Any, name: str) -> Any:
    try:
        return key.value(name).value()
    except Exception:
        return None


def _subkey(hive: Any, path: str) -> Any:
    try:
        return hive.open(path)
    except Exception:
        return None


def _current_control_set(system: Any) -> str:
    select = _subkey(system, "Select")
    current = _value(select, "Current") if select is not None else None
    return f"ControlSet{int(current or 1):03d}"


def read_system_info(tree: Tree) -> SystemInfo:
    info = SystemInfo()
    system = _open_hive(tree, SYSTEM_HIVE, info)
    if system is not None:
        ccs = _current_control_set(system)
        key = _subkey(system, f"{ccs}\\Control\\ComputerName\\ComputerName")
        if key is not None:
            info.host = _value(key, "ComputerName")
        tz = _subkey(system, f"{ccs}\\Control\\TimeZoneInformation")
        if tz is not None:
            info.timezone_name = _value(tz, "TimeZoneKeyName") or _value(tz, "StandardName")
            bias = _value(tz, "Bias")
            if isinstance(bias, int):
                info.timezone_bias_minutes = struct.unpack("<i", struct.pack("<I", bias & 0xFFFFFFFF))[0]
    software = _open_hive(tree, SOFTWARE_HIVE, info)
    if software is not None:
        cv = _subkey(software, "Microsoft\\Windows NT\\CurrentVersion")
        if cv is not None:
            info.product = _value(cv, "ProductName")
            info.build = _value(cv, "CurrentBuild") or _value(cv, "CurrentBuildNumber")
            info.display_version = _value(cv, "DisplayVersion") or _value(cv, "ReleaseId")
            install = _value(cv, "InstallDate")
            if isinstance(install, int) and install > 0:
                info.install_date = posix(install).iso()
        profiles = _subkey(software, "Microsoft\\Windows NT\\CurrentVersion\\ProfileList")
        if profiles is not None:
            for sub in profiles.subkeys():
                path = _value(sub, "ProfileImagePath") or ""
                name = path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1] or None
                info.users[sub.name()] = {"name": name, "profile": path or None}
                folder = volume_path(path)
                times = path_times(tree, folder) if folder else None
                if times and times.get("created"):
                    info.users[sub.name()]["profile_created"] = times["created"].iso()
    return info
