"""UserAssist: programs and shortcuts the user started from the Explorer shell (NTUSER).

Keys: Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{GUID}\\Count, every
GUID subkey (Windows 7+: {CEBFF5CD-...} executables, {F4E57C4B-...} shortcuts; XP/Vista:
{75048700-...}, {5E6AB780-...}). Value names are ROT13-encoded; a name may start with a
known-folder GUID ("{7C5A40EF-...}\\Microsoft Office\\EXCEL.EXE" = ProgramFilesX86).

Value data:
  72 bytes (Windows 7 and later): 0 session id, 4 run count, 8 focus count, 12 focus time in
     milliseconds, 60 last run FILETIME (UTC).
  16 bytes (XP, Vista): 0 session id, 4 run count (stored + 5 on XP: the count is the stored
     value - 5 when it is 5 or more), 8 last run FILETIME (UTC).

Events: one "Last Run" event per entry at the stored last-run FILETIME (no timestamp when it
is 0: the entry was counted but no time was written). UEME_CTLSESSION (session record) is
skipped. data: program (decoded name), value_name (as stored), guid (of the UserAssist
subkey), guid_meaning, known_folder and program_path (the GUID prefix replaced by its default
location, e.g. %PROGRAMFILES(X86)%), run_count, focus_count, focus_time_ms (Win7+),
session_id, record_format ("win7"/"xp"), key.
"""
from __future__ import annotations

import codecs
import struct
from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, path_of, register_plugin
from triage.shellitems import KNOWN_FOLDERS

USERASSIST = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist"

GUID_MEANING = {
    "{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}": "executable file execution",
    "{F4E57C4B-2036-45F0-A9AB-443BCFE33D9F}": "shortcut file execution",
    "{75048700-EF1F-11D0-9888-006097DEACF9}": "programs and shortcuts (XP/Vista)",
    "{5E6AB780-7743-11CF-A12B-00AA004AE837}": "Internet Explorer toolbar (XP/Vista)",
}

SKIPPED = {"UEME_CTLSESSION"}


def decode_name(value_name: str) -> str:
    """ROT13 of the letters A-Z/a-z; everything else (digits, symbols, non-ASCII) unchanged."""
    return codecs.decode(value_name, "rot13")


def resolve_known_folder(program: str) -> tuple[str | None, str]:
    """(known folder name, program with its "{GUID}" prefix replaced by the default path)."""
    if program.startswith("{") and len(program) >= 38 and program[37] == "}":
        entry = KNOWN_FOLDERS.get(program[1:37].upper())
        if entry:
            return entry[0], entry[1] + program[38:]
    return None, program


def parse_record(raw: bytes) -> dict | None:
    """The counters and last-run time of a 72-byte (Win7+) or 16-byte (XP) record."""
    if len(raw) == 72:
        session, runs, focus, focus_ms = struct.unpack_from("<IIII", raw, 0)
        return {"record_format": "win7", "session_id": session, "run_count": runs,
                "focus_count": focus, "focus_time_ms": focus_ms,
                "last_run": filetime(struct.unpack_from("<Q", raw, 60)[0])}
    if len(raw) == 16:
        session, stored = struct.unpack_from("<II", raw, 0)
        return {"record_format": "xp", "session_id": session,
                "run_count": stored - 5 if stored >= 5 else stored, "run_count_stored": stored,
                "last_run": filetime(struct.unpack_from("<Q", raw, 8)[0])}
    return None


@register_plugin
class UserAssist(RegistryPlugin):
    name = "userassist"
    hives = ("NTUSER",)
    description = "UserAssist: programs run from the shell, run counts, focus time, last run"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for guid_key in hive.subkeys(USERASSIST):
            count = hive.key(f"{USERASSIST}\\{guid_key.name()}\\Count")
            if count is None:
                continue
            guid = guid_key.name().upper()
            try:
                values = list(count.values())
            except Exception as exc:
                ctx.warn(f"UserAssist {path_of(count)}: values unreadable ({exc})")
                continue
            for value in values:
                try:
                    event = self._entry(value, guid, path_of(count), ctx)
                except Exception as exc:  # one bad value must not cost the others
                    ctx.warn(f"UserAssist {path_of(count)}: value {value.name()!r} skipped "
                             f"({type(exc).__name__}: {exc})")
                    continue
                if event is not None:
                    yield event

    @staticmethod
    def _entry(value, guid: str, key_path: str, ctx: ExtractionContext) -> Event | None:
        program = decode_name(value.name())
        if program in SKIPPED:
            return None
        raw = value.raw_data()
        record = parse_record(raw) if isinstance(raw, (bytes, bytearray)) else None
        if record is None:
            ctx.warn(f"UserAssist {key_path}: value {program!r} has {len(raw or b'')} bytes, "
                     "not a 16- or 72-byte record: skipped")
            return None
        folder, program_path = resolve_known_folder(program)
        last_run = record.pop("last_run")
        data = {"program": program, "program_path": program_path, "known_folder": folder,
                "value_name": value.name(), "guid": guid,
                "guid_meaning": GUID_MEANING.get(guid), **record, "key": key_path}
        message = f"UserAssist: {program_path} run {record['run_count']} time(s)"
        if record["record_format"] == "win7":
            message += (f", focus {record['focus_count']} time(s) "
                        f"for {record['focus_time_ms']} ms")
        if last_run is None:
            message += " (no last-run time recorded)"
        return Event(last_run, "Last Run", message, data)
