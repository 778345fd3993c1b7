"""Volumes and network shares a user mounted (NTUSER `...\\Explorer\\MountPoints2`).

Key: `Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\MountPoints2` in the user's
NTUSER.DAT. Explorer adds a subkey when this user's session sees a volume or connects a share:

    `{GUID}`              a volume, by the volume GUID that SYSTEM's MountedDevices maps to a
                          drive letter and a device (`\\??\\Volume{GUID}`): this ties a USB
                          stick to the user.
    `##server#share`      a network share, `\\\\server\\share` (mapped drive or UNC path).
    `CPC\\Volume\\{GUID}` the same volumes under the CPC subkey (Windows 7 and later).
    `E` (one letter)      a drive letter (Windows XP and 2000).

Time: one event per subkey at its last-written time ("Key Last Written", FILETIME UTC): when
Explorer last updated it, often the last time the volume was seen by this user (the first
creation is not recorded). The registry extractor sets `user` from the hive's profile.

Data: kind ("volume", "volume (CPC)", "network share", "drive letter", "other"), volume_guid,
share (\\\\server\\share), drive_letter, the subkey's values `_LabelFromReg`, `BaseClass`,
`_CommentFromDesktopINI`, `_LabelFromDesktopINI` when present (label, base_class, ...) and key.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin
from triage.registry import subkey, subkeys, text_value

MOUNTPOINTS2 = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\MountPoints2"
_GUID = re.compile(r"^\{[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}$")
_VALUES = {"_LabelFromReg": "label", "BaseClass": "base_class",
           "_LabelFromDesktopINI": "label_from_desktop_ini",
           "_CommentFromDesktopINI": "comment_from_desktop_ini"}


def classify(name: str) -> dict[str, Any]:
    if _GUID.match(name):
        return {"kind": "volume", "volume_guid": name.lower()}
    if name.startswith("##") and len(name) > 2:
        return {"kind": "network share", "share": "\\\\" + name[2:].replace("#", "\\")}
    if len(name) == 1 and name.isalpha():
        return {"kind": "drive letter", "drive_letter": f"{name.upper()}:"}
    return {"kind": "other"}


@register_plugin
class MountPoints2(RegistryPlugin):
    name = "mountpoints2"
    hives = ("NTUSER",)
    description = "MountPoints2: volumes (by volume GUID) and network shares this user mounted"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        root = hive.key(MOUNTPOINTS2)
        if root is None:
            return
        entries: list[tuple[Any, dict[str, Any]]] = []
        for sub in subkeys(root):
            if sub.name().upper() == "CPC":
                for volume in subkeys(subkey(sub, "Volume")):
                    info = classify(volume.name())
                    if info["kind"] == "volume":
                        info["kind"] = "volume (CPC)"
                    entries.append((volume, info))
                continue
            entries.append((sub, classify(sub.name())))
        for key, info in entries:
            try:
                yield self._event(key, info, ctx)
            except Exception as exc:  # one bad entry never costs the others
                ctx.warn(f"{path_of(key)}: unreadable ({type(exc).__name__}: {exc})")

    @staticmethod
    def _event(key: Any, info: dict[str, Any], ctx: ExtractionContext) -> Event:
        data: dict[str, Any] = {"name": key.name(), **info}
        for value, field in _VALUES.items():
            text = text_value(key, value, ctx)
            if text is not None:
                data[field] = text
        data["key"] = path_of(key)
        kind = info["kind"]
        if kind.startswith("volume"):
            what = f"volume {info['volume_guid']}"
        elif kind == "network share":
            what = f"network share {info['share']}"
        elif kind == "drive letter":
            what = f"drive {info['drive_letter']}"
        else:
            what = f"mount point {key.name()}"
        return Event(key_time(key), "Key Last Written",
                     f"MountPoints2: {what} mounted by this user (key last written)", data)
