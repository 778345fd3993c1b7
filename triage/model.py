"""The event record shared by every artifact, and the time type it carries.

Why a Timestamp class and not datetime: FILETIME has 100 ns resolution and datetime stops at
microseconds; an examiner must see the source's full precision, and sorting must be exact. A
Timestamp is an integer of nanoseconds since 1970-01-01 UTC plus how many fractional digits the
source really has, so "2015-05-14T22:11:58.0911341Z" is printed with seven digits, never padded
with invented precision.
"""
from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from typing import Any

FILETIME_EPOCH_DELTA = 116444736000000000  # 100 ns ticks between 1601-01-01 and 1970-01-01
FILETIME_MAX = 2650467743999999999  # 9999-12-31T23:59:59.9999999Z: later values are not dates
_NS = 1_000_000_000


class ArtifactError(Exception):
    """Raised by an extractor when its input is not what the format says.

    The engine turns it into an error row for that one file; the run goes on.
    """


_EPOCH_ORDINAL = _dt.date(1970, 1, 1).toordinal()


@functools.lru_cache(maxsize=8192)
def _day_text(days: int) -> str:
    """YYYY-MM-DD of a day counted from 1970-01-01 (cached: a timeline has few distinct days,
    and formatting the date is most of what writing a time costs)."""
    return _dt.date.fromordinal(_EPOCH_ORDINAL + days).strftime("%Y-%m-%d")


@functools.lru_cache(maxsize=16384)
def _minute_text(minutes: int) -> str:
    """YYYY-MM-DDTHH:MM: of a minute counted from 1970-01-01T00:00 (see Timestamp.iso)."""
    days, minute_of_day = divmod(minutes, 1440)
    return f"{_day_text(days)}T{minute_of_day // 60:02d}:{minute_of_day % 60:02d}:"


@dataclass(frozen=True, order=True)
class Timestamp:
    """A UTC instant: nanoseconds since the Unix epoch and the source's precision in digits."""

    ns: int
    digits: int = 9

    def iso(self) -> str:
        """ISO 8601 UTC with exactly the source's fractional digits, e.g. ...T22:11:58.0911341Z.

        (Runs for every event the engine records: the text up to the minute comes from a
        cache, as events come in runs of nearby times.)"""
        seconds, frac_ns = divmod(self.ns, _NS)
        minutes, secs = divmod(seconds, 60)
        digits = self.digits
        if digits > 0:
            return f"{_minute_text(minutes)}{secs:02d}.{f'{frac_ns:09d}'[:digits]}Z"
        return f"{_minute_text(minutes)}{secs:02d}Z"

    @property
    def micros(self) -> int:
        """Microseconds since the epoch (what Timesketch's `timestamp` column wants)."""
        return self.ns // 1000

    def datetime(self) -> _dt.datetime:
        return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(
            microseconds=self.ns // 1000
        )

    @classmethod
    def parse(cls, text: str) -> "Timestamp":
        """Inverse of iso(): keeps the number of fractional digits written."""
        if not text.endswith("Z"):
            raise ValueError(f"not a UTC ISO 8601 time: {text!r}")
        body = text[:-1]
        main, _, frac = body.partition(".")
        base = _dt.datetime.strptime(main, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=_dt.timezone.utc)
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        seconds = (base - epoch) // _dt.timedelta(seconds=1)
        frac_ns = int((frac + "000000000")[:9]) if frac else 0
        return cls(seconds * _NS + frac_ns, len(frac))


def filetime(value: int) -> Timestamp | None:
    """FILETIME (100 ns ticks since 1601, UTC) to Timestamp; 0, all-ones and values past the
    year 9999 (garbage in a damaged record) mean "not set"."""
    if not value or value > FILETIME_MAX:
        return None
    return Timestamp((value - FILETIME_EPOCH_DELTA) * 100, 7)


def posix(seconds: float | int, digits: int = 0) -> Timestamp:
    """POSIX seconds (optionally fractional) to Timestamp with the given precision."""
    if isinstance(seconds, int):
        return Timestamp(seconds * _NS, digits)
    return Timestamp(round(seconds * _NS), digits)


def posix_micros(value: int) -> Timestamp:
    return Timestamp(value * 1000, 6)


def from_datetime(value: _dt.datetime, digits: int = 6) -> Timestamp:
    """An aware datetime to Timestamp; a naive one is refused so no zone is ever assumed."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: convert local time with a recorded zone first")
    delta = value - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    return Timestamp((delta // _dt.timedelta(microseconds=1)) * 1000, digits)


@dataclass
class Event:
    """What an extractor says about one moment in one artifact file.

    The engine adds artifact, family, extractor, host and provenance (`source`) and computes
    `event_hash`; an extractor fills only what the format tells. `timestamp` is None only when
    the artifact records no time at all for this fact; no time is ever invented.
    """

    timestamp: Timestamp | None
    timestamp_desc: str
    message: str
    data: dict[str, Any] = field(default_factory=dict)
    user: str | None = None
    # The canonical JSON of `data` (triage.extraction.data_json), when a hot extractor that
    # knows its data's shape composes it itself (the USN journal: 2 of 3 million events of a
    # workstation image; the engine's generic encoding is its largest per-event cost). It must
    # be exactly the engine's text: a test per such extractor holds them equal. Never set
    # it for data the extractor changes after giving the event.
    data_json: str | None = field(default=None, repr=False, compare=False)
