"""WordWheelQuery: terms the user searched for in Explorer's search box (NTUSER).

Key: Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\WordWheelQuery (and any subkey,
same layout). MRUListEx (uint32 value numbers, most recent first, ended by 0xFFFFFFFF) and
numbered REG_BINARY values holding the search term in UTF-16LE up to a NUL.

Times: only the key's last-written FILETIME (UTC), which belongs to the most recent search:
MRU position 0 gets "Key Last Written", the others "MRU Entry" with no timestamp.

data: term, mru_position, value (the value number as written), key.
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, path_of, raw_value, register_plugin
from triage.registry.mru import mru_ex_entries, mru_note, mru_time
from triage.shellitems import read_utf16z

WORD_WHEEL = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\WordWheelQuery"


@register_plugin
class WordWheelQuery(RegistryPlugin):
    name = "word_wheel_query"
    hives = ("NTUSER",)
    description = "WordWheelQuery: Explorer search terms"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        root = hive.key(WORD_WHEEL)
        if root is None:
            return
        for key in [root] + hive.subkeys(root):
            for position, value_name in mru_ex_entries(key, ctx.warn, "WordWheelQuery"):
                raw = raw_value(key, value_name)
                if raw is None:
                    ctx.warn(f"WordWheelQuery {path_of(key)}: value {value_name} unreadable")
                    continue
                term, _ = read_utf16z(raw, 0)
                when, desc = mru_time(key, position)
                note = mru_note(position)
                yield Event(when, desc, f"Explorer search: {term!r} ({note})",
                            {"term": term, "mru_position": position, "value": value_name,
                             "key": path_of(key)})
