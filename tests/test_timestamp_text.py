"""Timestamp.iso() against a reference built on datetime, over the whole FILETIME range and
every precision (iso() is composed by hand from cached parts: it runs for every event)."""
from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from triage.model import Timestamp

_EPOCH = dt.datetime(1970, 1, 1)
_LOW = (dt.datetime(1601, 1, 1) - _EPOCH) // dt.timedelta(microseconds=1) * 1000
_HIGH = (dt.datetime(9999, 12, 31, 23, 59, 59) - _EPOCH) // dt.timedelta(microseconds=1) * 1000


def _reference(ns: int, digits: int) -> str:
    seconds, frac = divmod(ns, 10**9)
    moment = _EPOCH + dt.timedelta(seconds=seconds)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.year < 1000:  # strftime does not pad the year everywhere
        text = f"{moment.year:04d}" + text[text.index("-"):]
    return text + (f".{frac:09d}"[:digits + 1] if digits > 0 else "") + "Z"


@settings(max_examples=400, deadline=None)
@given(st.integers(_LOW, _HIGH), st.integers(0, 9))
@example(0, 9)
@example(-1, 9)                      # the last nanosecond before the epoch
@example(-60 * 10**9, 0)             # a whole minute before it
@example(1700000000123456700, 7)
@example(_LOW, 7)
@example(_HIGH + 999_999_999, 9)
def test_iso_is_the_reference(ns: int, digits: int) -> None:
    stamp = Timestamp(ns, digits)
    assert stamp.iso() == _reference(ns, digits)
    assert Timestamp.parse(stamp.iso()).iso() == stamp.iso()
