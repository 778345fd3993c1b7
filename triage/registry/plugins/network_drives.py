"""Mapped network drives and the Map Network Drive history (NTUSER).

Keys:
  Network\\<letter> (one subkey per persistent mapped drive, e.g. Network\\Z): RemotePath
      (UNC path), UserName (alternate account, or DWORD 0 when none), ProviderName, and
      ConnectionType / ProviderType / DeferFlags.
  Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Map Network Drive MRU: values a, b...
      (UNC paths typed in the "Map Network Drive" dialog) and MRUList, most recent first.

Times: Network\\<letter> gets a "Key Last Written" event at that subkey's last-written FILETIME
(UTC), commonly when the mapping was created or last changed. The Map Network Drive MRU
follows the MRU rule: the key's last-written time belongs to the most recent path (MRU position
0, "Key Last Written"); the others get "MRU Entry" with no timestamp.

data: drive_letter, remote_path, user_name, provider_name, connection_type, provider_type,
defer_flags, key (mapped drives); remote_path, mru_position, value, key (MRU).
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin, value_or
from triage.registry.mru import mru_entries, mru_note, mru_time

MAP_MRU = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\Map Network Drive MRU"


@register_plugin
class NetworkDrives(RegistryPlugin):
    name = "network_drives"
    hives = ("NTUSER",)
    description = "Mapped network drives (Network\\<letter>) and the Map Network Drive MRU"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for drive in hive.subkeys("Network"):
            remote = value_or(drive, "RemotePath")
            if not isinstance(remote, str):
                ctx.warn(f"Network drive {path_of(drive)}: no RemotePath string")
                remote = None if remote is None else str(remote)
            user_name = value_or(drive, "UserName")
            letter = drive.name().upper()
            yield Event(key_time(drive), "Key Last Written",
                        f"Mapped network drive {letter}: -> {remote}"
                        + (f" as {user_name}" if isinstance(user_name, str) and user_name else ""),
                        {"drive_letter": letter, "remote_path": remote,
                         "user_name": user_name if isinstance(user_name, str) else None,
                         "provider_name": value_or(drive, "ProviderName"),
                         "connection_type": value_or(drive, "ConnectionType"),
                         "provider_type": value_or(drive, "ProviderType"),
                         "defer_flags": value_or(drive, "DeferFlags"), "key": path_of(drive)})
        key = hive.key(MAP_MRU)
        if key is None:
            return
        for position, letter in mru_entries(key, ctx.warn, "Map Network Drive MRU"):
            path = value_or(key, letter)
            if not isinstance(path, str):
                ctx.warn(f"Map Network Drive MRU {path_of(key)}: value {letter!r} is not a string")
                continue
            when, desc = mru_time(key, position)
            note = mru_note(position)
            yield Event(when, desc, f"Map Network Drive dialog: {path} ({note})",
                        {"remote_path": path, "mru_position": position, "value": letter,
                         "key": path_of(key)})
