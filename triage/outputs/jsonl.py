"""timeline.jsonl: one event per line with exactly the documented field names.

Keys are written in the contract's order and the line is canonical JSON of the record, so a
line can be re-hashed by anyone: `event_hash` is the SHA-256 of the line's other fields.
"""
from __future__ import annotations

import json.encoder
from typing import Any, Mapping, Sequence

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


class _Segments(dict):
    """JSON text of column groups that repeat from event to event (the artifact, family and
    extractor; the host and source of one file), composed once per distinct group."""

    LIMIT = 100_000

    def __missing__(self, key: tuple[Any, ...]) -> str:
        if len(self) >= self.LIMIT:
            self.clear()  # bounded: a case with more distinct sources recomputes some
        if len(key) == 3:
            text = (f'"artifact":{_text(key[0])},"family":{_text(key[1])},'
                    f'"extractor":{_text(key[2])}')
        else:
            text = (f'"host":{_text(key[0])},"source":{{"evidence":{_text(key[1])},'
                    f'"volume":{_text(key[2])},"path":{_text(key[3])},"inode":{_text(key[4])},'
                    f'"sha256":{_text(key[5])}}}')
        self[key] = text
        return text


_SEGMENTS = _Segments()


def line(row: Sequence[Any], tags: Mapping[int, list[str]]) -> str:
    """One event's line from a stored row (an `events` row, read by position). Composed from
    the columns: `data` is already canonical JSON, so it is written as stored instead of being
    parsed and serialised again (same bytes either way). `tags` (rule ids per event seq) come
    last; they derive from the findings, so they are not part of `event_hash`."""
    segments = _SEGMENTS
    seq = row[SEQ]
    return (f'{{"timestamp":{_text(row[TIMESTAMP])},"timestamp_desc":{_text(row[TIMESTAMP_DESC])},'
            f'{segments[row[ARTIFACT], row[FAMILY], row[EXTRACTOR]]},'
            f'"message":{_text(row[MESSAGE])},"user":{_text(row[USER])},'
            f'{segments[row[HOST], row[EVIDENCE], row[VOLUME], row[PATH], row[INODE], row[SHA256]]},'
            f'"data":{row[DATA]},"event_hash":{_text(row[EVENT_HASH])},'
            f'"tags":{_tags(tags[seq]) if seq in tags else "[]"}}}\n')
