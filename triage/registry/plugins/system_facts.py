"""System facts as timeline events: host name, Windows version and install, time zone, last
shutdown, user profiles (SYSTEM, SOFTWARE).

Times: InstallDate is POSIX seconds UTC; ShutdownTime is a FILETIME UTC; key last-written times
are FILETIME UTC. The time zone is reported as Windows stores it (key name and bias in minutes,
UTC = local + bias).
"""
from __future__ import annotations

import struct
from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, posix
from triage.sysinfo import volume_path
from triage.registry import (HiveView, RegistryPlugin, filetime_value, key_time, path_of,
                             register_plugin, value_or)


def _signed(value: object) -> int | None:
    if not isinstance(value, int):
        return None
    return struct.unpack("<i", struct.pack("<I", value & 0xFFFFFFFF))[0]


@register_plugin
class SystemFacts(RegistryPlugin):
    name = "system_facts"
    hives = ("SYSTEM", "SOFTWARE")

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        if hive.hive_type == "SYSTEM":
            yield from self._system(hive)
        else:
            yield from self._software(hive, ctx)

    def _system(self, hive: HiveView) -> Iterator[Event]:
        ccs = hive.current_control_set
        key = hive.key(f"{ccs}\\Control\\ComputerName\\ComputerName")
        if key is not None:
            name = value_or(key, "ComputerName")
            yield Event(key_time(key), "Key Last Written", f"Computer name: {name}",
                        {"computer_name": name, "key": path_of(key)})
        tz = hive.key(f"{ccs}\\Control\\TimeZoneInformation")
        if tz is not None:
            zone = value_or(tz, "TimeZoneKeyName") or value_or(tz, "StandardName")
            bias = _signed(value_or(tz, "Bias"))
            yield Event(key_time(tz), "Key Last Written",
                        f"Time zone: {zone} (bias {bias} minutes)",
                        {"timezone": zone, "bias_minutes": bias,
                         "active_bias_minutes": _signed(value_or(tz, "ActiveTimeBias")),
                         "standard_name": value_or(tz, "StandardName"),
                         "daylight_name": value_or(tz, "DaylightName"), "key": path_of(tz)})
        windows = hive.key(f"{ccs}\\Control\\Windows")
        if windows is not None:
            shutdown = filetime_value(windows, "ShutdownTime")
            if shutdown is not None:
                yield Event(shutdown, "Last Shutdown", "Windows last shut down",
                            {"control_set": ccs, "key": path_of(windows)})

    def _software(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        cv = hive.key("Microsoft\\Windows NT\\CurrentVersion")
        if cv is not None:
            product = value_or(cv, "ProductName")
            build = value_or(cv, "CurrentBuild") or value_or(cv, "CurrentBuildNumber")
            data = {"product": product, "build": build,
                    "display_version": value_or(cv, "DisplayVersion") or value_or(cv, "ReleaseId"),
                    "edition": value_or(cv, "EditionID"), "ubr": value_or(cv, "UBR"),
                    "registered_owner": value_or(cv, "RegisteredOwner"),
                    "registered_organization": value_or(cv, "RegisteredOrganization"),
                    "key": path_of(cv)}
            install = value_or(cv, "InstallDate")
            if isinstance(install, int) and install > 0:
                yield Event(posix(install), "Installed", f"{product} (build {build}) installed", data)
        profiles = hive.key("Microsoft\\Windows NT\\CurrentVersion\\ProfileList")
        for sub in hive.subkeys(profiles) if profiles is not None else []:
            path = value_or(sub, "ProfileImagePath")
            user = ctx.user_for_sid(sub.name())
            yield Event(key_time(sub), "Key Last Written",
                        f"User profile {sub.name()} at {path}",
                        {"sid": sub.name(), "profile_path": path, "key": path_of(sub)}, user=user)
            folder = volume_path(path)
            times = ctx.path_times(folder) if folder else None
            if times and times.get("created"):
                yield Event(times["created"], "Profile Folder Created",
                            f"User profile folder {path} created ({sub.name()})",
                            {"sid": sub.name(), "profile_path": path, "folder": folder,
                             "time_source": "file system creation time of the profile folder "
                                            "(NTFS $STANDARD_INFORMATION)"}, user=user)
