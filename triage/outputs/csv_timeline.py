"""timeline.csv: Timesketch-ready (message, datetime, timestamp_desc first), one row per event.

`timestamp` is microseconds since the epoch as Timesketch expects; the full-precision time is
in `datetime`. Events without a time keep an empty datetime rather than an invented one.
`data` holds the artifact's structured fields as JSON. Text that a spreadsheet would run as a
formula (starting with =, +, -, @, tab or CR) gets a leading apostrophe.
"""
from __future__ import annotations

import csv
import sqlite3
from typing import Iterable, Mapping, TextIO

from triage.export import neutralise_row

COLUMNS = ("message", "datetime", "timestamp_desc", "timestamp", "artifact", "family",
           "extractor", "user", "host", "evidence", "volume", "path", "inode", "sha256", "data",
           "event_hash", "tag")


def write(rows: Iterable[sqlite3.Row], out: TextIO, tags: Mapping[int, list[str]] | None = None) -> int:
    tags = tags or {}
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows:
        micros = row["ts"] // 1000 if row["timestamp"] else ""
        writer.writerow(neutralise_row([row["message"], row["timestamp"] or "", row["timestamp_desc"], micros,
                         row["artifact"], row["family"], row["extractor"], row["user"] or "",
                         row["host"] or "", row["evidence"], row["volume"], row["path"],
                         "" if row["inode"] is None else row["inode"], row["sha256"], row["data"],
                         row["event_hash"], ",".join(tags.get(row["seq"], []))]))
        count += 1
    return count
