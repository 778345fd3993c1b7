"""RecentDocs: files and folders the user opened through the shell, per extension (NTUSER).

Keys: Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs (all types) and its
subkeys, one per extension (".docx", ".jpg") plus "Folder". Each key: MRUListEx (uint32 value
numbers, most recent first, ended by 0xFFFFFFFF) and numbered REG_BINARY values holding the
item name (UTF-16LE up to a NUL) followed by a shell item naming the shortcut (.lnk) that
Explorer created in the user's Recent folder.

Times: only the key's last-written FILETIME (UTC) is recorded, and it belongs to the most
recent item: MRU position 0 of each key gets a "Key Last Written" event at that time (when that
item was last opened), every other item an "MRU Entry" event with no timestamp. Values that the
MRUListEx does not list are reported with mru_position None and no timestamp.

data: name, lnk_name (from the embedded shell item), extension (the subkey, None for the
RecentDocs key itself), mru_position, value (value name), key.
"""
from __future__ import annotations

from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, path_of, raw_value, register_plugin
from triage.registry.mru import mru_ex_entries, mru_time
from triage.shellitems import read_utf16z, registry_items

RECENT_DOCS = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs"


@register_plugin
class RecentDocs(RegistryPlugin):
    name = "recent_docs"
    hives = ("NTUSER",)
    description = "RecentDocs: files and folders opened through the shell, most recent first"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        root = hive.key(RECENT_DOCS)
        if root is None:
            return
        for key, extension in [(root, None)] + [(k, k.name()) for k in hive.subkeys(root)]:
            for position, value_name in mru_ex_entries(key, ctx.warn, "RecentDocs"):
                raw = raw_value(key, value_name)
                if not raw:
                    ctx.warn(f"RecentDocs {path_of(key)}: value {value_name} empty or unreadable")
                    continue
                try:
                    yield self._event(key, extension, position, value_name, raw)
                except Exception as exc:
                    ctx.warn(f"RecentDocs {path_of(key)}: value {value_name} skipped "
                             f"({type(exc).__name__}: {exc})")

    @staticmethod
    def _event(key: Any, extension: str | None, position: int | None, value_name: str,
               raw: bytes) -> Event:
        name, after = read_utf16z(raw, 0)
        items = registry_items(raw, after) if after < len(raw) else []
        lnk_name = next((i.name for i in items if i.kind == "file_entry" and i.name), None)
        when, desc = mru_time(key, position)
        where = f"RecentDocs{'' if extension is None else ' ' + extension}"
        if position == 0:
            message = f"{where}: {name} opened (most recent; key last written)"
        elif position is None:
            message = f"{where}: {name} (not in MRUListEx; no time recorded)"
        else:
            message = f"{where}: {name} (MRU position {position}; no time recorded)"
        return Event(when, desc, message,
                     {"name": name, "lnk_name": lnk_name, "extension": extension,
                      "mru_position": position, "value": value_name, "key": path_of(key)})
