"""TypedPaths: paths the user typed in the Explorer address bar (NTUSER).

Key: Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\TypedPaths. Values url1, url2...
(REG_SZ), url1 being the most recently typed.

Times: only the key's last-written FILETIME (UTC), which belongs to url1: url1 gets "Key Last
Written", the others "MRU Entry" with no timestamp.

data: path, mru_position (url number - 1), value, key.
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, path_of, register_plugin
from triage.registry.mru import mru_note, mru_time, numbered_string_values

TYPED_PATHS = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\TypedPaths"


@register_plugin
class TypedPaths(RegistryPlugin):
    name = "typed_paths"
    hives = ("NTUSER",)
    description = "TypedPaths: paths typed in the Explorer address bar"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        key = hive.key(TYPED_PATHS)
        if key is None:
            return
        for number, name, path in numbered_string_values(key, "url", ctx.warn, "TypedPaths"):
            position = number - 1
            when, desc = mru_time(key, position)
            note = mru_note(position)
            yield Event(when, desc, f"Typed in Explorer address bar: {path} ({note})",
                        {"path": path, "mru_position": position, "value": name,
                         "key": path_of(key)})
