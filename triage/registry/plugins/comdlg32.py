"""ComDlg32: files chosen and folders visited in the Windows Open/Save dialogs (NTUSER).

Keys below Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\ComDlg32:
  OpenSavePidlMRU\\<ext> (Vista+): one subkey per extension ("*" = all); MRUListEx order;
      each value is a shell item list (PIDL) naming the file: decoded to a path.
  LastVisitedPidlMRU, LastVisitedPidlMRULegacy (Vista+): MRUListEx; each value is the
      program's executable name (UTF-16LE, NUL) followed by the PIDL of the folder it last
      used in the dialog.
  CIDSizeMRU (Vista+): MRUListEx; each value starts with the program's executable name
      (UTF-16LE, NUL); the rest is the dialog's size/position.
  OpenSaveMRU\\<ext>, LastVisitedMRU (XP): MRUList letters; OpenSaveMRU values are path
      strings, LastVisitedMRU values are UTF-16 "program.exe NUL folder NUL".

Times: only each key's last-written FILETIME (UTC), which belongs to the key's most recent
item: MRU position 0 gets "Key Last Written" (when that file was chosen / that program last
used the dialog), the other items "MRU Entry" with no timestamp. Times found inside a shell
item (target_modified/created/accessed: FAT or FILETIME file system times of the item) are
kept in data; they describe the file, not the user's action.

data: path (decoded), program (LastVisited/CIDSize), extension (OpenSave subkey), list
(OpenSavePidlMRU, LastVisitedPidlMRU, ...), mru_position, value, key, shell_items (decoded
items: type, kind, name, short/long names, GUID, file size, times, MFT entry), target_* times.
"""
from __future__ import annotations

from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import HiveView, RegistryPlugin, path_of, raw_value, register_plugin, value_or
from triage.registry.mru import mru_entries, mru_ex_entries, mru_time
from triage.shellitems import decode_pidl, read_utf16z

COMDLG32 = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\ComDlg32"


@register_plugin
class ComDlg32(RegistryPlugin):
    name = "comdlg32"
    hives = ("NTUSER",)
    description = "Open/Save dialog MRUs: files chosen, folders last visited per program"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        if hive.key(COMDLG32) is None:
            return
        for ext_key in hive.subkeys(f"{COMDLG32}\\OpenSavePidlMRU"):
            yield from self._mru_ex(ext_key, "OpenSavePidlMRU", ctx, self._open_save,
                                    extension=ext_key.name())
        for name in ("LastVisitedPidlMRU", "LastVisitedPidlMRULegacy"):
            key = hive.key(f"{COMDLG32}\\{name}")
            if key is not None:
                yield from self._mru_ex(key, name, ctx, self._last_visited)
        key = hive.key(f"{COMDLG32}\\CIDSizeMRU")
        if key is not None:
            yield from self._mru_ex(key, "CIDSizeMRU", ctx, self._cid_size)
        for ext_key in hive.subkeys(f"{COMDLG32}\\OpenSaveMRU"):
            yield from self._mru_letters(ext_key, "OpenSaveMRU", ctx, extension=ext_key.name())
        key = hive.key(f"{COMDLG32}\\LastVisitedMRU")
        if key is not None:
            yield from self._mru_letters(key, "LastVisitedMRU", ctx)

    # -- Vista and later: MRUListEx + binary values -----------------------------------------

    def _mru_ex(self, key: Any, list_name: str, ctx: ExtractionContext, decode: Any,
                extension: str | None = None) -> Iterator[Event]:
        for position, value_name in mru_ex_entries(key, ctx.warn, f"ComDlg32 {list_name}"):
            raw = raw_value(key, value_name)
            if not raw:
                ctx.warn(f"ComDlg32 {path_of(key)}: value {value_name} empty or unreadable")
                continue
            try:
                facts, message = decode(raw, extension)
            except Exception as exc:
                ctx.warn(f"ComDlg32 {path_of(key)}: value {value_name} skipped "
                         f"({type(exc).__name__}: {exc})")
                continue
            yield self._event(key, list_name, position, value_name, facts, message, extension)

    @staticmethod
    def _open_save(raw: bytes, extension: str | None) -> tuple[dict, str]:
        facts = decode_pidl(raw)
        return facts, f"Open/Save dialog ({extension}): {facts['path']}"

    @staticmethod
    def _last_visited(raw: bytes, extension: str | None) -> tuple[dict, str]:
        program, after = read_utf16z(raw, 0)
        facts = {"program": program, **decode_pidl(raw, after)}
        return facts, f"Open/Save dialog: {program} last used folder {facts['path']}"

    @staticmethod
    def _cid_size(raw: bytes, extension: str | None) -> tuple[dict, str]:
        program, _ = read_utf16z(raw, 0)
        return {"program": program}, f"Open/Save dialog used by {program}"

    # -- XP: MRUList + strings -----------------------------------------------------------------

    def _mru_letters(self, key: Any, list_name: str, ctx: ExtractionContext,
                     extension: str | None = None) -> Iterator[Event]:
        for position, value_name in mru_entries(key, ctx.warn, f"ComDlg32 {list_name}"):
            if list_name == "OpenSaveMRU":
                path = value_or(key, value_name)
                if not isinstance(path, str):
                    ctx.warn(f"ComDlg32 {path_of(key)}: value {value_name} is not a string")
                    continue
                facts = {"path": path}
                message = f"Open/Save dialog ({extension}): {path}"
            else:
                raw = raw_value(key, value_name)
                if not raw:
                    ctx.warn(f"ComDlg32 {path_of(key)}: value {value_name} empty or unreadable")
                    continue
                program, after = read_utf16z(raw, 0)
                folder, _ = read_utf16z(raw, after)
                facts = {"program": program, "path": folder}
                message = f"Open/Save dialog: {program} last used folder {folder}"
            yield self._event(key, list_name, position, value_name, facts, message, extension)

    @staticmethod
    def _event(key: Any, list_name: str, position: int | None, value_name: str, facts: dict,
               message: str, extension: str | None) -> Event:
        when, desc = mru_time(key, position)
        if position == 0:
            message += " (most recent; key last written)"
        elif position is None:
            message += " (not in the MRU list; no time recorded)"
        else:
            message += f" (MRU position {position}; no time recorded)"
        data = {"list": list_name, **facts, "mru_position": position, "value": value_name,
                "key": path_of(key)}
        if extension is not None:
            data["extension"] = extension
        return Event(when, desc, message, data)
