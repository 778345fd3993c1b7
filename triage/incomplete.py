"""The marker of an unfinished case folder (`RUN_INCOMPLETE.json` in `CASE.partial`).

Why a marker and not only the `.partial` name: a folder can be renamed by hand, copied or
archived, and an examiner given one must still learn that its run did not finish and why
(interrupted, disk full, failed; "running" when the process was killed). `triage run` writes it
first and removes it last, just before publishing the case; `triage verify` reports it.
"""
from __future__ import annotations

import json
import os
from typing import Any

INCOMPLETE_MARKER = "RUN_INCOMPLETE.json"


def write_marker(folder: str, facts: dict[str, Any]) -> None:
    path = os.path.join(folder, INCOMPLETE_MARKER)
    with open(path + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(facts, handle, ensure_ascii=False, indent=2)
    os.replace(path + ".tmp", path)


def read_marker(folder: str) -> dict[str, Any] | None:
    """The marker's facts; {} when it exists but cannot be read; None when there is none."""
    path = os.path.join(folder, INCOMPLETE_MARKER)
    if not os.path.exists(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            facts = json.load(handle)
        return facts if isinstance(facts, dict) else {}
    except (OSError, ValueError):
        return {}


def describe(facts: dict[str, Any]) -> str:
    """One line for an examiner: what state the run was left in, and why."""
    state = facts.get("state") or "unknown"
    text = {"running": "the run never finished (the process was killed, or is still running)",
            "interrupted": "the run was interrupted (Ctrl-C)",
            "disk full": "the run stopped: the disk was full",
            "write failed": "the run stopped: the case folder could not be written",
            "failed": "the run failed"}.get(state, f"the run stopped ({state})")
    if facts.get("reason"):
        text += f": {facts['reason']}"
    if facts.get("started"):
        text += f" (started {facts['started']})"
    return text
