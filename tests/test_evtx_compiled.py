"""The EVTX reader's and extractor's generated code against the generic definitions it
replaces: each generated function must give what its definition gives (or fail the same way)
for any input. The definitions themselves are held to libevtx in tests/test_evtx_fast.py."""
from __future__ import annotations

from itertools import accumulate
from typing import Any

from hypothesis import example, given, settings, strategies as st

from triage import evtx_fast as ef
from triage.extractors import evtx

# UTF-16 values: plain text, text needing clean-up (NUL, CR, LF, controls, non-printables),
# characters outside the BMP (surrogate pairs), and raw bytes that may not decode at all
_TEXT = st.text(alphabet=st.sampled_from(list("abc xyz-\\$.") + ["\0", "\r", "\n", "\t", "\x01",
                                                                     "\u00a0", "\u200e", "é",
                                                                     "\U0001f600", "\ufffe"]),
                max_size=12)
_PRINTABLE = st.text(alphabet=st.sampled_from(["a", "b", "é", "\U0001f600"]), max_size=5)
_RAW16 = st.binary(max_size=12).map(lambda b: b[:len(b) // 2 * 2])
_VALUE = st.one_of(
    _TEXT.map(lambda t: (ef.STRING, t.encode("utf-16-le", "surrogatepass"))),
    _PRINTABLE.map(lambda t: (ef.STRING, t.encode("utf-16-le"))),
    _RAW16.map(lambda b: (ef.STRING, b)),
    st.integers(0, 2**32 - 1).map(lambda n: (0x08, n.to_bytes(4, "little"))),
    st.integers(0, 2**64 - 1).map(lambda n: (0x15, n.to_bytes(8, "little"))),
    st.sampled_from([b"\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00"]).map(
        lambda b: (ef.SID, b)),
)


def _outcome(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except ef.Unsupported:
        return "Unsupported"


@settings(max_examples=400, deadline=None)
@given(st.lists(_VALUE, min_size=1, max_size=8), st.randoms(use_true_random=False),
       st.booleans())
def test_compiled_fields_read_each_value_as_its_formatter(values, rng, shuffle):
    """Runs of UTF-16 values decoded at once and sliced give what one decode per value gives,
    whatever the text (clean-up, surrogate pairs, undecodable bytes) and value order."""
    lead = b"\xaa" * 3  # values need not start at offset 0
    data = lead + b"".join(raw for _, raw in values)
    sizes = tuple(len(raw) for _, raw in values)
    offs = list(accumulate(sizes, initial=len(lead)))
    order = list(range(len(values)))
    if shuffle:
        rng.shuffle(order)  # elements may read the values in another order than stored
    reads = [(index, ef._text_formatter(values[index][0])) for index in order]
    keys = tuple(f"k{index}" for index in order)

    def one_by_one() -> dict[str, Any]:  # the definition: one formatter call per value
        return {key: fmt(data, offs[index], sizes[index]) for key, (index, fmt) in zip(keys, reads)}

    expected = _outcome(one_by_one)
    compiled = _outcome(ef._compiled_fields(keys, reads), data, offs, sizes)
    assert compiled == expected
    if isinstance(expected, dict):
        assert list(compiled) == list(expected)  # key order is the event's data order


# names of listed fields: ordinary ones, keys the event data holds already (kept as field_NAME),
# field_ names, repeats; values: short texts, over-long texts (cut), lists, ints, None (unset)
_NAME = st.sampled_from(["TargetUserName", "IpAddress", "channel", "computer", "written_time",
                         "field_channel", "ScriptBlockText", "LogonType"])
_FIELD_VALUE = st.one_of(st.none(), st.text(max_size=4), st.integers(),
                         st.sampled_from(["x" * (evtx._MAX_VALUE_CHARS + 1), "-"]),
                         st.lists(st.sampled_from(["a", "y" * (evtx._MAX_VALUE_CHARS + 2)]),
                                  max_size=3))


@settings(max_examples=300, deadline=None)
@example(["ScriptBlockText", "IpAddress"], {"ScriptBlockText": "s" * (evtx._MAX_VALUE_CHARS + 1),
                                            "IpAddress": ["y" * (evtx._MAX_VALUE_CHARS + 1)]},
         set())
@given(st.lists(_NAME, min_size=1, max_size=8), st.dictionaries(_NAME, _FIELD_VALUE),
       st.sets(st.sampled_from(sorted(evtx._DATA_KEYS))))
def test_compiled_fill_puts_what_the_definition_puts(names, values, present):
    """A catalogue entry's compiled fill gives the same data (keys, order, values) and the same
    cut list as _fill_slowly, whatever keys the data holds already."""
    names = tuple(names)
    results = []
    for fill in (lambda *a: evtx._fill_slowly(names, *a), evtx._compile_fill(names)):
        data = {key: "base" for key in sorted(present)}
        cut: list[str] = []
        fill(values.get, data, cut)
        results.append((list(data.items()), cut))
    assert results[0] == results[1]
