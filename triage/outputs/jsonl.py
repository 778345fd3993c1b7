"""timeline.jsonl: one event per line with exactly the documented field names.

Keys are written in the contract's order and the line is canonical JSON of the record, so a
line can be re-hashed by anyone: `event_hash` is the SHA-256 of the line's other fields.
"""
from __future__ import annotations

import json
from typing import Iterable, TextIO

import sqlite3

from triage.store import row_to_record


def write(rows: Iterable[sqlite3.Row], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row_to_record(row), ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count
