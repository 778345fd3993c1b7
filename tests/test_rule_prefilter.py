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


# --- the same inside SQLite: the query that hands the rules their candidate events ----------

# texts a str() of a value holds where its JSON does not ("one" in None, "Tru" in True, "x01"
# and "7fa" in the repr of a nested "\x01" or "\x7fa"), texts the JSON escapes, plain ones
_TEXTS = ["one", "Tru", "x01", "7fa", "1", "si", "si_created", "a\"b", "a\\b", "é", "\u200e",
          "line\nnext", "C:\\Users"]
_item = st.none() | st.booleans() | st.integers(-2, 12) | st.floats(allow_nan=False, width=32) | \
    st.sampled_from(_TEXTS + ["", "\x01si", "\x7fabc", "si_created_before", "a\0si", "ſi_x",
                              "\u212a", "SI_Created"]) | \
    st.dictionaries(st.sampled_from(["si", "k", "t"]),
                    st.sampled_from(_TEXTS + ["\x01", None, True, "x"]) | st.just([]),
                    max_size=2) | st.lists(st.sampled_from(_TEXTS + [None, False]), max_size=2)
_stored_value = _item | st.lists(_item, max_size=3)


@st.composite
def contains_conditions(draw) -> dict:
    leaf = {"field": draw(st.sampled_from(["data.t", "data.t", "data.u", "data.t.k"])),
            "op": "contains", "value": draw(st.sampled_from(_TEXTS)),
            "nocase": draw(st.sampled_from([False, False, True]))}
    other = draw(leaves())
    return draw(st.sampled_from([leaf, {"all": [leaf, other]}, {"any": [leaf, other]},
                                 {"any": [leaf, leaf]}]))


def _selected(cond: dict, record: dict) -> bool:
    """Whether _candidate_rows hands the event to a rule of this condition."""
    import sqlite3

    from triage.detection.engine import _candidate_rows, _RuleState
    from triage.detection.rules import Rule

    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute("CREATE TABLE events (seq INTEGER, family TEXT, timestamp_desc TEXT, "
               "extractor TEXT, artifact TEXT, data TEXT)")
    db.execute("INSERT INTO events VALUES (1, ?, ?, ?, ?, ?)",
               (*(record[c] for c in PREFILTER_COLUMNS), integrity.canonical(record["data"])))
    state = _RuleState(Rule("T-1", "t", "low", "", "match", cond))
    return [row["seq"] for row in _candidate_rows(db, [state])] == [1]


@settings(max_examples=3000, derandomize=True, deadline=None)
@given(st.one_of(contains_conditions(), contains_conditions(), conditions), records(),
       st.fixed_dictionaries({"t": _stored_value}, optional={"u": _stored_value}))
def test_a_matching_event_is_always_selected_by_sqlite(cond, record, more) -> None:
    """_candidate_rows (column gates, key needles and the `contains` text test on the JSON)
    returns every event the rule matches, whatever the stored value's type."""
    record["data"].update(more)
    if compile_condition(cond)(record):
        assert _selected(cond, record), (cond, record)


def test_contains_on_values_whose_text_is_not_their_json() -> None:
    """The values whose str() holds a text their JSON does not are still selected; a text or
    empty value without the text is not (what makes the test worth making)."""
    base = {"family": "f", "timestamp_desc": "d", "extractor": "e", "artifact": "a"}
    for text, value, nocase, matches in [
            ("one", [None], False, True), ("Tru", [True], False, True), ("Tru", True, False, True),
            ("x01", [{"k": "\x01"}], False, True), ("7fa", [["\x7fa"]], False, True),
            ("1", 1.5, False, True), ("si", {"si": 1}, False, True),
            ("a\"b", ["xa\"b"], False, True), ("é", "café", False, True),
            ("si", [], False, False), ("si", ["other"], False, False), ("si", "x", False, False),
            ("si", None, False, False), ("SI_c", ["xsi_C"], True, True),
            ("si_c", ["ſi_c"], True, True), ("k", "\u212a", True, True), ("a%b", "A%B", True, True),
            ("a_b", ["axb"], True, False), ("si", [], True, False), ("si", ["other"], True, False),
            ("one", [{"t": []}, None], False, True), ("Tru", {"t": [], "x": True}, False, True),
            ("si", [{"t": "x"}, "si"], False, True), ("si", "x\"t\":[]", False, False)]:
        cond = {"field": "data.t", "op": "contains", "value": text, "nocase": nocase}
        record = {**base, "data": {"a": {"t": []}, "t": value, "z": 0}}
        assert compile_condition(cond)(record) is matches, (text, value)
        assert _selected(cond, record) is matches, (text, value)


def test_without_json_functions_the_text_test_is_left_out(monkeypatch) -> None:
    """An SQLite without JSON functions still selects by key (the text test needs them)."""
    from triage.detection import engine

    monkeypatch.setattr(engine, "_has_json1", lambda db: False)
    base = {"family": "f", "timestamp_desc": "d", "extractor": "e", "artifact": "a"}
    cond = {"field": "data.t", "op": "contains", "value": "si", "nocase": False}
    assert _selected(cond, {**base, "data": {"t": [], "z": 0}})  # the key is there: selected
    assert not _selected(cond, {**base, "data": {"z": 0}})
