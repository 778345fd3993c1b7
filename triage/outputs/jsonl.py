"""timeline.jsonl: one event per line with exactly the documented field names.

Keys are written in the contract's order and the line is canonical JSON of the record, so a
line can be re-hashed by anyone: `event_hash` is the SHA-256 of the line's other fields.
"""
from __future__ import annotations

from typing import Iterable, Mapping, TextIO

import sqlite3

from triage.integrity import canonical



def write(rows: Iterable[sqlite3.Row], out: TextIO, tags: Mapping[int, list[str]] | None = None) -> int:
    """`tags` (rule ids per event seq) are added as the last field; they are derived from the
    findings, so they are not part of `event_hash`."""
    count = 0
    tags = tags or {}
    dumps = _dumps
    for row in rows:
        # Composed from the stored columns: `data` is already canonical JSON, so it is written
        # as stored instead of being parsed and serialised again (same bytes either way).
        source = (f'{{"evidence":{dumps(row["evidence"])},"volume":{dumps(row["volume"])},'
                  f'"path":{dumps(row["path"])},"inode":{dumps(row["inode"])},'
                  f'"sha256":{dumps(row["sha256"])}}}')
        out.write(
            f'{{"timestamp":{dumps(row["timestamp"])},"timestamp_desc":{dumps(row["timestamp_desc"])},'
            f'"artifact":{dumps(row["artifact"])},"family":{dumps(row["family"])},'
            f'"extractor":{dumps(row["extractor"])},"message":{dumps(row["message"])},'
            f'"user":{dumps(row["user"])},"host":{dumps(row["host"])},"source":{source},'
            f'"data":{row["data"]},"event_hash":{dumps(row["event_hash"])},'
            f'"tags":{dumps(tags.get(row["seq"], []))}}}\n')
        count += 1
    return count


def _dumps(value: object) -> str:
    """Compact JSON of one stored column (str, int or None: the canonical encoder's fast path;
    lists of tags: sorted-key JSON is the same text for a list of strings)."""
    return canonical(value)
