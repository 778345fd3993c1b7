"""RunMRU: commands the user typed in the Start > Run dialog (NTUSER).

Key: Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU. Values a, b, c... hold
the command text followed by "\\1" (the dialog's marker, removed here); MRUList is a string of
those letters, most recent first.

Times: only the key's last-written FILETIME (UTC). It belongs to the most recent command:
MRU position 0 gets "Key Last Written" (when it was last run), the others "MRU Entry" with no
timestamp; values missing from MRUList have mru_position None and no timestamp.

data: command, mru_position, value (letter), key.
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, path_of, register_plugin, value_or
from triage.registry.mru import mru_entries, mru_note, mru_time

RUN_MRU = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RunMRU"


@register_plugin
class RunMRU(RegistryPlugin):
    name = "run_mru"
    hives = ("NTUSER",)
    description = "RunMRU: commands typed in the Run dialog"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        key = hive.key(RUN_MRU)
        if key is None:
            return
        for position, letter in mru_entries(key, ctx.warn, "RunMRU"):
            text = value_or(key, letter)
            if not isinstance(text, str):
                ctx.warn(f"RunMRU {path_of(key)}: value {letter!r} is not a string: skipped")
                continue
            command = text[:-2] if text.endswith("\\1") else text
            when, desc = mru_time(key, position)
            note = mru_note(position)
            yield Event(when, desc, f"Run dialog: {command} ({note})",
                        {"command": command, "mru_position": position, "value": letter,
                         "key": path_of(key)})
