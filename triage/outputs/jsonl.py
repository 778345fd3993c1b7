"""timeline.jsonl: one event per line with exactly the documented field names.

Keys are written in the contract's order and the line is canonical JSON of the record, so a
line can be re-hashed by anyone: `event_hash` is the SHA-256 of the line's other fields.
"""
from __future__ import annotations

import json.encoder
from typing import Any, Iterable, Mapping, Sequence, TextIO

from triage.integrity import canonical
from triage.store import (ARTIFACT, DATA, EVENT_HASH, EVIDENCE, EXTRACTOR, FAMILY, HOST, INODE,
                          MESSAGE, PATH, SEQ, SHA256, TIMESTAMP, TIMESTAMP_DESC, USER, VOLUME)

_string = json.encoder.encode_basestring  # the C encoder canonical() uses for text


def _text(value: Any) -> str:
    """A column's JSON: text through the C encoder directly, anything else (None, integers) as
    canonical() writes it."""
    return _string(value) if value.__class__ is str else canonical(value)


def _tags(names: list[str]) -> str:
    return "[" + ",".join(map(_string, names)) + "]"


def line(row: Sequence[Any], tags: Mapping[int, list[str]]) -> str:
    """One event's line from a stored row (an `events` row, read by position). Composed from
    the columns: `data` is already canonical JSON, so it is written as stored instead of being
    parsed and serialised again (same bytes either way). `tags` (rule ids per event seq) come
    last; they derive from the findings, so they are not part of `event_hash`."""
    return (f'{{"timestamp":{_text(row[TIMESTAMP])},"timestamp_desc":{_text(row[TIMESTAMP_DESC])},'
            f'"artifact":{_text(row[ARTIFACT])},"family":{_text(row[FAMILY])},'
            f'"extractor":{_text(row[EXTRACTOR])},"message":{_text(row[MESSAGE])},'
            f'"user":{_text(row[USER])},"host":{_text(row[HOST])},'
            f'"source":{{"evidence":{_text(row[EVIDENCE])},"volume":{_text(row[VOLUME])},'
            f'"path":{_text(row[PATH])},"inode":{_text(row[INODE])},'
            f'"sha256":{_text(row[SHA256])}}},'
            f'"data":{row[DATA]},"event_hash":{_text(row[EVENT_HASH])},'
            f'"tags":{_tags(tags.get(row[SEQ], ()))}}}\n')


def write(rows: Iterable[Sequence[Any]], out: TextIO, tags: Mapping[int, list[str]] | None = None) -> int:
    count = 0
    tags = tags or {}
    for row in rows:
        out.write(line(row, tags))
        count += 1
    return count
