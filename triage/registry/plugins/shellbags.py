"""ShellBags (USRCLASS, NTUSER): folders a user opened in Explorer, with their view settings.

Keys (BagMRU trees; the `Bags\\<NodeSlot>` view settings are not read):
    UsrClass.dat  Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU (Vista and later),
                  the same under ShellNoRoam and under Wow6432Node\\Local Settings
    NTUSER.DAT    Software\\Microsoft\\Windows\\Shell\\BagMRU and ...\\ShellNoRoam\\BagMRU (XP)

Structure: each BagMRU key holds numbered values; value N is one shell item (decoded by
triage.shellitems) naming a child folder, and the subkey N holds that folder's own
children. The full path is built from the items of every ancestor. `MRUListEx` orders the
values most recently used first (`data.mru_position`, 0 = most recent); `NodeSlot` points at
the folder's `Bags` view settings. The walk is depth-first, at most 64 levels and 100,000 keys.

Events, one set per folder (per numbered value):
* "Key Last Written": the last-written time (FILETIME, UTC) of the folder's own key (BagMRU\\..\\N):
  when the bag of that folder was last updated (its child list or order changed, typically
  while the user browsed inside it). It is not necessarily the first or the last visit. When
  the folder has no key of its own the event has no time. The parent key's time (when the
  parent's MRU order last changed: for the item at `mru_position` 0, the last time that item
  was selected) is given as `data.parent_key_last_written`.
* "Folder Modified", "Folder Created", "Folder Accessed": the folder's own file system times as
  the shell item recorded them when the bag was written (the item's FAT modified time; created
  and accessed from its 0xBEEF0004 extension block). FAT date/times have 2-second resolution;
  Explorer stores them from the UTC FILETIME without converting to local time, so they are
  reported as UTC (`data.fat_times_utc` says so).

data: path, item_type, item_types (of every item from the root), class_type, name,
short_name, long_name, mft_entry, mft_sequence, file_attributes, drive_letter, removable and
network (when an item of the path says so: the Removable Drives folder, a portable device, a
network location, the Network folder), shell_folder (GUID), mru_position, node_slot, value,
key, parent_key, parent_key_last_written, bag_root; problems when an item could not be decoded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, Timestamp
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, register_plugin
from triage.registry.mru import mru_list_ex
from triage.shellitems import ShellItem, join_path, parse_item_list

MAX_DEPTH = 64
MAX_KEYS = 100_000
MAX_VALUES = 10_000

ROOTS = {
    "USRCLASS": ("Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU",
                 "Local Settings\\Software\\Microsoft\\Windows\\ShellNoRoam\\BagMRU",
                 "Wow6432Node\\Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU"),
    "NTUSER": ("Software\\Microsoft\\Windows\\Shell\\BagMRU",
               "Software\\Microsoft\\Windows\\ShellNoRoam\\BagMRU",
               "Software\\Classes\\Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU"),
}


@dataclass
class _Pending:
    """A folder found in its parent's value, reported once its own key has been read."""

    items: list[ShellItem]
    value: str
    mru_position: int | None
    parent_path: str
    parent_time: Timestamp | None


@dataclass
class _KeyContent:
    numbered: list[tuple[int, str, Any]] = field(default_factory=list)
    mru: list[int] = field(default_factory=list)
    node_slot: int | None = None


def _read_key(key: Any, key_path: str, ctx: ExtractionContext) -> _KeyContent:
    """The numbered values, MRUListEx and NodeSlot of a BagMRU key, in one pass."""
    content = _KeyContent()
    try:
        values = list(key.values())
    except Exception as exc:
        ctx.warn(f"{key_path}: values unreadable ({exc})")
        return content
    for value in values[:MAX_VALUES]:
        try:
            name = value.name()
            if name.isascii() and name.isdigit():
                content.numbered.append((int(name), name, value))
            elif name == "MRUListEx":
                content.mru = mru_list_ex(value.raw_data(), MAX_VALUES)
            elif name == "NodeSlot":
                slot = value.value()
                if isinstance(slot, int) and not isinstance(slot, bool):
                    content.node_slot = slot
        except Exception as exc:
            ctx.warn(f"{key_path}: a value is unreadable ({exc})")
    content.numbered.sort(key=lambda entry: entry[0])
    return content


@register_plugin
class ShellBags(RegistryPlugin):
    name = "shellbags"
    hives = ("USRCLASS", "NTUSER")
    description = "ShellBags: folders opened in Explorer (BagMRU shell items)"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for root_path in ROOTS.get(hive.hive_type, ()):
            root = hive.key(root_path)
            if root is not None:
                yield from self._walk(root, root_path, ctx)

    def _walk(self, root: Any, root_path: str, ctx: ExtractionContext) -> Iterator[Event]:
        # Key paths are built while descending: python-registry's key.path() walks every
        # parent cell and costs O(depth) lookups per call.
        base = path_of(root)
        stack: list[tuple[Any, str, _Pending | None, int]] = [(root, base, None, 0)]
        seen = 0
        while stack:
            key, key_path, pending, depth = stack.pop()
            seen += 1
            if seen > MAX_KEYS:
                ctx.warn(f"{base}: more than {MAX_KEYS} BagMRU keys: the rest is ignored")
                return
            content = _read_key(key, key_path, ctx)
            own_time = key_time(key)
            if pending is not None:
                yield from self._events(pending, key_path, own_time, content.node_slot,
                                        root_path)
            rank = {number: pos for pos, number in enumerate(content.mru)}
            try:
                subkeys = {sub.name(): sub for sub in key.subkeys()}
            except Exception as exc:
                ctx.warn(f"{key_path}: subkeys unreadable ({exc})")
                subkeys = {}
            ancestors = pending.items if pending is not None else []
            children = []
            for number, name, value in content.numbered:
                try:
                    raw = value.raw_data()
                except Exception as exc:
                    ctx.warn(f"{key_path}: value {name} unreadable ({exc})")
                    continue
                items = parse_item_list(raw) if raw else []
                if not items:
                    ctx.warn(f"{key_path}: value {name} holds no shell item: skipped")
                    continue
                for problem in items[0].problems:
                    ctx.warn(f"{key_path}\\{name}: {problem}")
                found = _Pending(ancestors + [items[0]], name, rank.get(number), key_path,
                                 own_time)
                child = subkeys.get(name)
                child_path = f"{key_path}\\{name}"
                if child is None:
                    yield from self._events(found, child_path, None, None, root_path)
                elif depth + 1 >= MAX_DEPTH:
                    ctx.warn(f"{child_path}: deeper than {MAX_DEPTH} levels: not read")
                    yield from self._events(found, child_path, None, None, root_path)
                else:
                    children.append((child, child_path, found, depth + 1))
            stack.extend(reversed(children))

    @staticmethod
    def _events(found: _Pending, key_path: str, own_time: Timestamp | None,
                node_slot: int | None, root_path: str) -> Iterator[Event]:
        path_items = found.items
        item = path_items[-1]
        path = join_path([i.name for i in path_items])
        drive = next((i.drive_letter for i in path_items if i.drive_letter), None)
        data: dict[str, Any] = {
            "path": path, "name": item.name, "item_type": item.kind,
            "item_types": [i.kind for i in path_items],
            "class_type": f"0x{item.class_type:02x}" if item.class_type >= 0 else None,
            "short_name": item.short_name, "long_name": item.long_name,
            "mft_entry": item.mft_entry, "mft_sequence": item.mft_sequence,
            "file_attributes": item.attributes, "drive_letter": drive,
            "removable": any(i.removable for i in path_items),
            "network": any(i.network for i in path_items),
            "shell_folder": item.guid, "mru_position": found.mru_position,
            "node_slot": node_slot, "value": found.value, "key": key_path,
            "parent_key": found.parent_path,
            "parent_key_last_written": found.parent_time.iso() if found.parent_time else None,
            "bag_root": root_path,
        }
        for name, text in item.extra.items():
            if name.startswith(("beef0025", "beef0026")) or name in (
                    "category", "description", "properties", "delegate_guids", "signature"):
                data[name] = text
        if item.problems:
            data["problems"] = list(item.problems)
        yield Event(own_time, "Key Last Written",
                    f"ShellBag folder: {path} (its bag was last updated)", data)
        for when, desc in ((item.modified, "Folder Modified"), (item.created, "Folder Created"),
                           (item.accessed, "Folder Accessed")):
            if when is not None:
                yield Event(when, desc, f"ShellBag folder: {path} ({desc[7:].lower()} "
                            "time recorded in the shell item)", dict(data, fat_times_utc=True))
