"""Converting local-time sources to UTC with a recorded zone.

Some artifacts store local wall-clock time (setupapi.dev.log, FAT directory entries). They are
converted with, in order: the examiner's `--source-tz`, else the seized system's own zone (the
SYSTEM hive's TimeZoneKeyName mapped to an IANA zone through `lists/windows_zones.yaml`, so DST
rules apply), else its fixed bias. The zone used is written into the case and every such event
says which zone converted it; with no zone known, the event keeps the local time as text and
gets no timestamp rather than a guessed one.
"""
from __future__ import annotations

import datetime as _dt
import os
import zoneinfo
from typing import Iterable

from triage.datalists import read_yaml
from triage.model import Timestamp, from_datetime


def load_windows_zones(definition_dirs: Iterable[str]) -> dict[str, str]:
    """Windows zone key name -> IANA name, from every `lists/windows_zones.yaml` (later folders
    override). A list that is not valid YAML or not a mapping is a DefinitionError naming it."""
    from triage.artifacts import DefinitionError

    mapping: dict[str, str] = {}
    for folder in definition_dirs:
        path = os.path.join(folder, "lists", "windows_zones.yaml")
        if os.path.isfile(path):
            content = read_yaml(path, DefinitionError) or {}
            if not isinstance(content, dict):
                raise DefinitionError(f"{path}: expected a mapping of Windows zone names to "
                                      "IANA zone names")
            mapping.update({str(k): str(v) for k, v in content.items()})
    return mapping


def resolve_zone(source_tz: str | None, windows_name: str | None, bias_minutes: int | None,
                 definition_dirs: Iterable[str]) -> str | None:
    """The zone name used for local times: an IANA name, or 'UTC+HH:MM' from a bare bias."""
    if source_tz:
        return source_tz
    if windows_name:
        iana = load_windows_zones(definition_dirs).get(windows_name)
        if iana:
            return iana
    if bias_minutes is not None:
        offset = -bias_minutes  # Windows: UTC = local + bias
        sign = "+" if offset >= 0 else "-"
        return f"UTC{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return None


def tzinfo(zone: str) -> _dt.tzinfo:
    """tzinfo for an IANA name or 'UTC+HH:MM'; ValueError for anything else."""
    if zone.startswith("UTC") and len(zone) == 9 and zone[3] in "+-":
        hours, minutes = int(zone[4:6]), int(zone[7:9])
        delta = _dt.timedelta(hours=hours, minutes=minutes)
        return _dt.timezone(delta if zone[3] == "+" else -delta, zone)
    try:
        return zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {zone!r} (use an IANA name like Asia/Tokyo "
                         "or UTC+09:00)") from None


def local_to_utc(local: _dt.datetime, zone: str | None, digits: int = 6) -> Timestamp | None:
    """A naive local wall-clock time to UTC in `zone`; None when no zone is known."""
    if zone is None:
        return None
    return from_datetime(local.replace(tzinfo=tzinfo(zone)), digits)
