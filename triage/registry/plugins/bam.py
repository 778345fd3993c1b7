"""BAM / DAM (SYSTEM): the Background and Desktop Activity Moderators' last-run times per user.

Keys (every control set present; `data.control_set`):
    ControlSet00N\\Services\\bam\\State\\UserSettings\\<SID>   (Windows 10 1809 and later)
    ControlSet00N\\Services\\bam\\UserSettings\\<SID>          (Windows 10 1709 to 1803)
    ...\\Services\\dam\\State\\UserSettings\\<SID> and ...\\Services\\dam\\UserSettings\\<SID>

Each value of a SID key names a program: a device path (`\\Device\\HarddiskVolume2\\Windows\\
System32\\cmd.exe`) or a packaged app's identity; its REG_BINARY data starts with a FILETIME
(UTC): the last time the program ran for that user ("Last Run"; Windows keeps the entry about a
week). The remaining bytes (24 in all on the samples) are not interpreted. The `Version` and
`SequenceNumber` DWORD values are bookkeeping, skipped. A value too short for a FILETIME or of
another type is skipped with a warning naming the key.

data: program (the value name as stored), sid, service ("bam"/"dam"), control_set, key.
user: the account of the SID (ctx.user_for_sid: the SID itself when unknown).
"""
from __future__ import annotations

import struct
from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, path_of, register_plugin

_LAYOUTS = ("Services\\bam\\State\\UserSettings", "Services\\bam\\UserSettings",
            "Services\\dam\\State\\UserSettings", "Services\\dam\\UserSettings")
_BOOKKEEPING = {"version", "sequencenumber"}
MAX_VALUES_PER_SID = 10000
REG_BINARY = 3


@register_plugin
class BackgroundActivityModerator(RegistryPlugin):
    name = "bam"
    hives = ("SYSTEM",)
    description = "BAM/DAM: last run time of programs per user (Windows 10 1709+)"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        control_sets = sorted(k.name() for k in hive.subkeys(hive.registry.root())
                              if k.name().lower().startswith("controlset"))
        for control_set in control_sets:
            for layout in _LAYOUTS:
                root = hive.key(f"{control_set}\\{layout}")
                if root is None:
                    continue
                service = layout.split("\\")[1]
                for sid_key in hive.subkeys(root):
                    yield from self._sid(sid_key, service, control_set, ctx)

    @staticmethod
    def _sid(sid_key, service: str, control_set: str, ctx: ExtractionContext) -> Iterator[Event]:
        sid = sid_key.name()
        user = ctx.user_for_sid(sid)
        key_path = path_of(sid_key)
        try:
            values = list(sid_key.values())
        except Exception as exc:
            ctx.warn(f"{key_path}: values unreadable ({exc})")
            return
        for value in values[:MAX_VALUES_PER_SID]:
            try:
                program = value.name()
                if program.lower() in _BOOKKEEPING:
                    continue
                raw = value.raw_data()
                vtype = value.value_type()
            except Exception as exc:
                ctx.warn(f"{key_path}: a value is unreadable ({exc})")
                continue
            if vtype != REG_BINARY or raw is None or len(raw) < 8:
                ctx.warn(f"{key_path}: value {program!r} is not a FILETIME record "
                         f"(type {vtype}, {len(raw or b'')} bytes): skipped")
                continue
            when = filetime(struct.unpack_from("<Q", raw, 0)[0])
            yield Event(when, "Last Run",
                        f"{service.upper()}: {program} last run by {user}",
                        {"program": program, "sid": sid, "service": service,
                         "control_set": control_set, "key": key_path},
                        user=user)
        if len(values) > MAX_VALUES_PER_SID:
            ctx.warn(f"{key_path}: more than {MAX_VALUES_PER_SID} values: the rest is ignored")
