"""timeline.jsonl: one event per line with exactly the documented field names.

Keys are written in the contract's order and the line is canonical JSON of the record, so a
line can be re-hashed by anyone: `event_hash` is the SHA-256 of the line's other fields.
"""
from __future__ import annotations

import json
from typing import Iterable, Mapping, TextIO

import sqlite3

from triage.store import row_to_record


def write(rows: Iterable[sqlite3.Row], out: TextIO, tags: Mapping[int, list[str]] | None = None) -> int:
    """`tags` (rule ids per event seq) are added as the last field; they are derived from the
    findings, so they are not part of `event_hash`."""
    count = 0
    tags = tags or {}
    for row in rows:
        record = row_to_record(row)
        record["tags"] = tags.get(row["seq"], [])
        out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        count += 1
    return count
