"""MRU ("most recently used") lists in registry values, shared by the user activity plugins.

Format: `MRUListEx` is an array of uint32 value numbers, most recent first, ended by
0xFFFFFFFF (RecentDocs, ComDlg32 Pidl MRUs, WordWheelQuery, ShellBags); `MRUList` is a string
of value letters ("cab": c is the most recent) (RunMRU, Map Network Drive MRU, XP
OpenSaveMRU). Other lists are numbered string values ("url1", "MRU0", "File1").

Times: an MRU key records only its own last-written FILETIME (UTC), and it belongs to the most
recent entry (position 0) only; every other entry has no time (`MRU_ENTRY`).
"""
from __future__ import annotations

import struct
from typing import Any, Callable

from triage.model import Timestamp
from triage.registry import key_time, path_of

MRU_ENTRY = "MRU Entry"  # timestamp_desc of an MRU item that has no time of its own

Warn = Callable[[str], None] | None


def mru_list_ex(raw: bytes | None, limit: int | None = None) -> list[int]:
    """Value numbers of an MRUListEx (uint32 array, most recent first, ended by 0xFFFFFFFF),
    at most `limit` of them."""
    if not raw:
        return []
    order: list[int] = []
    for (number,) in struct.iter_unpack("<I", bytes(raw[:len(raw) - len(raw) % 4])):
        if number == 0xFFFFFFFF or (limit is not None and len(order) >= limit):
            break
        order.append(number)
    return order


def mru_list(text: Any) -> list[str]:
    """Value names of an MRUList string ("cba": c is the most recent)."""
    if not isinstance(text, str):
        return []
    return [letter for letter in text.rstrip("\x00") if letter]


def mru_time(key: Any, position: int | None) -> tuple[Timestamp | None, str]:
    """(time, timestamp_desc) for the item at `position` of an MRU key: the key's last-written
    time belongs to the most recent item (position 0) only; the others have no time."""
    if position == 0:
        return key_time(key), "Key Last Written"
    return None, MRU_ENTRY


def mru_note(position: int | None) -> str:
    """How an MRU entry's time should be read, for its message."""
    if position == 0:
        return "most recent; key last written"
    if position is None:
        return "no time recorded"
    return f"MRU position {position}; no time recorded"


def mru_ex_entries(key: Any, warn: Warn, what: str) -> list[tuple[int | None, str]]:
    """(MRU position, value name) of every numbered value of an MRUListEx key: the listed ones
    in list order, then those the list leaves out (position None). `warn` is ctx.warn."""
    names = _value_names(key, warn, what, lambda name: name.isdigit(), int)
    if names is None:
        return []
    try:
        raw = key.value("MRUListEx").raw_data()
    except Exception:
        raw = None
    if raw is None and names:
        _warn(warn, f"{what} {path_of(key)}: no MRUListEx value; order unknown")
    elif raw is not None and (len(raw) % 4 or raw[-4:] != b"\xff\xff\xff\xff"):
        _warn(warn, f"{what} {path_of(key)}: MRUListEx of {len(raw)} bytes is malformed")
    listed = mru_list_ex(raw)
    missing = [n for n in listed if n not in names]
    if missing:
        _warn(warn, f"{what} {path_of(key)}: MRUListEx names absent value(s) "
                    f"{', '.join(map(str, missing))}")
    return _in_order(names, [n for n in listed if n in names])


def mru_entries(key: Any, warn: Warn, what: str) -> list[tuple[int | None, str]]:
    """(MRU position, value name) of every one-letter value of an MRUList key (RunMRU, Map
    Network Drive MRU, XP OpenSaveMRU): listed ones in list order, then the others."""
    names = _value_names(key, warn, what, lambda name: len(name) == 1, str.lower)
    if names is None:
        return []
    try:
        listed = key.value("MRUList").value()
    except Exception:
        listed = None
    if listed is None and names:
        _warn(warn, f"{what} {path_of(key)}: no MRUList value; order unknown")
    missing = [c for c in mru_list(listed) if c.lower() not in names]
    if missing:
        _warn(warn, f"{what} {path_of(key)}: MRUList names absent value(s) {''.join(missing)}")
    return _in_order(names, [c.lower() for c in mru_list(listed) if c.lower() in names])


def _value_names(key: Any, warn: Warn, what: str, wanted: Callable[[str], bool],
                 ident: Callable[[str], Any]) -> dict[Any, str] | None:
    """{identity: value name} of the key's values that `wanted` accepts; None (warned) when
    the values cannot be read."""
    names: dict[Any, str] = {}
    try:
        for value in key.values():
            if wanted(value.name()):
                names[ident(value.name())] = value.name()
    except Exception as exc:
        _warn(warn, f"{what} {path_of(key)}: values unreadable ({exc})")
        return None
    return names


def _in_order(names: dict[Any, str], listed: list[Any]) -> list[tuple[int | None, str]]:
    """The listed values with their positions (first mention wins), then the unlisted ones."""
    order = list(dict.fromkeys(listed))
    out: list[tuple[int | None, str]] = [(pos, names[n]) for pos, n in enumerate(order)]
    out += [(None, names[n]) for n in sorted(set(names) - set(order))]
    return out


def numbered_string_values(key: Any, prefix: str, warn: Warn,
                           what: str) -> list[tuple[int, str, str]]:
    """(number, value name, text) of the string values named <prefix><number> (url1, MRU0...),
    in number order; a value of another type is reported through `warn` and left out."""
    found: list[tuple[int, str, str]] = []
    try:
        values = list(key.values())
    except Exception as exc:
        _warn(warn, f"{what} {path_of(key)}: values unreadable ({exc})")
        return []
    for value in values:
        name = value.name()
        if not (name[:len(prefix)].lower() == prefix.lower() and name[len(prefix):].isdigit()):
            continue
        try:
            text = value.value()
        except Exception:
            text = None
        if not isinstance(text, str):
            _warn(warn, f"{what} {path_of(key)}: value {name!r} is not a string: skipped")
            continue
        found.append((int(name[len(prefix):]), name, text))
    return sorted(found)


def _warn(warn: Warn, message: str) -> None:
    if warn is not None:
        warn(message)


__all__ = ["MRU_ENTRY", "mru_entries", "mru_ex_entries", "mru_list", "mru_list_ex", "mru_note",
           "mru_time", "numbered_string_values"]
