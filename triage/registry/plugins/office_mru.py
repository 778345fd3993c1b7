"""Office File MRU / Place MRU: documents and folders recently opened in Office (NTUSER).

Keys (every Office version and application found):
  Software\\Microsoft\\Office\\<ver>\\<App>\\File MRU and ...\\Place MRU (Office 2010, 14.0)
  Software\\Microsoft\\Office\\<ver>\\<App>\\User MRU\\<identity>\\File MRU / Place MRU
      (Office 2013 and later; <identity> is e.g. LiveId_... or ADAL_... or AD_...)
Values "Item 1", "Item 2"... (Item 1 the most recent) are strings like
  [F00000000][T01CD0146EA1EADB0][O00000000]*C:\\Users\\me\\Documents\\report.docx
where T is a FILETIME in hexadecimal (UTC): when the document was last opened; F are flags,
O another field kept as written. "Item Metadata N" values are ignored.

Times: each item with a T part gets a "Last Opened" event at that FILETIME. An item without
a T part follows the MRU rule: Item 1 gets the key's last-written time ("Key Last Written"),
the others "MRU Entry" with no timestamp.

data: path, application (Word, Excel...), office_version (14.0, 16.0...), list ("File MRU" /
"Place MRU"), identity (User MRU subkey, when present), mru_position (item number - 1), flags
(F part), value, raw, key.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, path_of, register_plugin
from triage.registry.mru import mru_note, mru_time, numbered_string_values

OFFICE = "Software\\Microsoft\\Office"
LISTS = ("File MRU", "Place MRU")
_ITEM = re.compile(r"^((?:\[[A-Za-z][0-9A-Fa-f]*\])*)\*?(.*)$", re.DOTALL)
_FIELD = re.compile(r"\[([A-Za-z])([0-9A-Fa-f]*)\]")


def parse_item(text: str) -> tuple[dict[str, str], str]:
    """({"F": "00000000", "T": "01CD...", ...}, path) of an Office MRU item string."""
    match = _ITEM.match(text)
    fields = {m.group(1).upper(): m.group(2) for m in _FIELD.finditer(match.group(1))}
    return fields, match.group(2)


@register_plugin
class OfficeMRU(RegistryPlugin):
    name = "office_mru"
    hives = ("NTUSER",)
    description = "Office File MRU / Place MRU: documents and folders opened in Office"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for version in hive.subkeys(OFFICE):
            for app in hive.subkeys(version):
                for list_name in LISTS:
                    key = self._child(app, list_name)
                    if key is not None:
                        yield from self._items(key, version.name(), app.name(), list_name,
                                               None, ctx)
                user_mru = self._child(app, "User MRU")
                for identity in hive.subkeys(user_mru) if user_mru is not None else []:
                    for list_name in LISTS:
                        key = self._child(identity, list_name)
                        if key is not None:
                            yield from self._items(key, version.name(), app.name(),
                                                   list_name, identity.name(), ctx)

    @staticmethod
    def _child(key: Any, name: str) -> Any:
        try:
            return key.subkey(name)
        except Exception:
            return None

    def _items(self, key: Any, version: str, app: str, list_name: str, identity: str | None,
               ctx: ExtractionContext) -> Iterator[Event]:
        for number, name, text in numbered_string_values(key, "Item ", ctx.warn, "Office MRU"):
            try:
                fields, path = parse_item(text)
                stamp = fields.get("T")
                opened = filetime(int(stamp, 16)) if stamp else None
            except (ValueError, AttributeError, OverflowError) as exc:
                ctx.warn(f"Office MRU {path_of(key)}: value {name!r} unreadable ({exc})")
                continue
            position = number - 1
            data = {"path": path, "application": app, "office_version": version,
                    "list": list_name, "identity": identity, "mru_position": position,
                    "flags": fields.get("F"), "value": name, "raw": text, "key": path_of(key)}
            what = "folder" if list_name == "Place MRU" else "document"
            if opened is not None:
                yield Event(opened, "Last Opened", f"{app} {version} opened {what} {path}", data)
                continue
            when, desc = mru_time(key, position)
            note = mru_note(position)
            yield Event(when, desc, f"{app} {version} recent {what} {path} ({note})", data)
