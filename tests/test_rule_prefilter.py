"""The rule pre-selection may only skip events a rule cannot match: whenever a condition holds
for an event, the event passes that condition's gate (its columns and its data text)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from triage import integrity
from triage.detection.engine import PREFILTER_COLUMNS, _Gate, _ready, compile_condition

WORDS = ["Logon", "logon", "LOGON", "eventlog", "Disk Connected", "ſ", "s", "İ", "i̇", "10", "1", ""]
FIELDS = ["family", "timestamp_desc", "extractor", "artifact", "message", "data.a", "data.b",
          "data.a.c", "data.LogonType"]
_value = st.none() | st.booleans() | st.integers(-2, 12) | st.sampled_from(WORDS)


@st.composite
def leaves(draw) -> dict:
    op = draw(st.sampled_from(["equals", "not_equals", "in", "contains", "regex", "exists", "gt", "lte"]))
    value: object
    if op == "in":
        value = draw(st.lists(_value, min_size=1, max_size=3))
    elif op == "exists":
        value = draw(st.booleans())
    elif op == "regex":
        value = draw(st.sampled_from(["^L", "o", "1$", "."]))
    elif op in ("gt", "lte"):
        value = draw(st.integers(-2, 12))
    else:
        value = draw(_value)
    return {"field": draw(st.sampled_from(FIELDS)), "op": op, "value": value,
            "nocase": draw(st.booleans())}


conditions = st.recursive(leaves(), lambda inner: st.one_of(
    st.builds(lambda c: {"all": c}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda c: {"any": c}, st.lists(inner, min_size=1, max_size=3)),
    st.builds(lambda c: {"not": c}, inner)), max_leaves=6)

_data_value = st.none() | st.booleans() | st.integers(-2, 12) | st.sampled_from(WORDS) | \
    st.dictionaries(st.sampled_from(["c", "a"]), st.sampled_from(WORDS), max_size=2) | \
    st.lists(st.sampled_from(WORDS), max_size=2)


@st.composite
def records(draw) -> dict:
    record = {c: draw(st.sampled_from(WORDS)) for c in PREFILTER_COLUMNS}
    record["message"] = draw(st.sampled_from(WORDS))
    record["data"] = draw(st.dictionaries(st.sampled_from(["a", "b", "LogonType", "x"]), _data_value,
                                          max_size=3))
    return record


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(conditions, records())
def test_a_matching_event_always_passes_the_gate(cond: dict, record: dict) -> None:
    if not compile_condition(cond)(record):
        return
    gate = _Gate.of(cond)
    folded = {c: record[c].casefold() for c in PREFILTER_COLUMNS}
    assert gate.admits(folded), (cond, record)
    assert _ready((gate,), integrity.canonical(record["data"])), (cond, record)
