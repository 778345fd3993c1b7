"""The timeline writers compose lines by hand for speed: they must give exactly what the csv and
json modules give for the same values, whatever text the evidence holds."""
from __future__ import annotations

import enum
import csv
import hashlib
import io
import json
import os

import pytest
from hypothesis import example, given, settings, strategies as st

from triage import integrity
from triage.export import neutralise
from triage.outputs import csv_timeline, jsonl
from triage.store import ROW_COLUMNS

_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
_maybe = st.none() | _text
_data = st.dictionaries(_text, st.none() | st.booleans() | st.integers() | _text, max_size=4)


@st.composite
def rows(draw) -> tuple:
    timestamp = draw(st.none() | st.just("2026-03-11T06:15:02.2000000Z"))
    ts = draw(st.integers(-2**62, 2**62)) if timestamp else -(2**63)
    values = {
        "seq": draw(st.integers(1, 50)), "ts": ts, "timestamp": timestamp,
        "timestamp_desc": draw(_text), "artifact": draw(_text), "family": draw(_text),
        "extractor": draw(_text), "message": draw(_text), "user": draw(_maybe),
        "host": draw(_maybe), "evidence": draw(_text), "volume": draw(_text),
        "path": draw(_text), "inode": draw(st.none() | st.integers(0, 2**48)),
        "sha256": draw(st.none() | st.just("ab" * 32)),
        "data": integrity.canonical(draw(_data)), "event_hash": "cd" * 32, "chain_hash": "ef" * 32}
    return tuple(values[c] for c in ROW_COLUMNS)


_tags = st.dictionaries(st.integers(1, 50), st.lists(_text, max_size=3), max_size=5)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(rows(), _tags)
def test_csv_line_equals_the_csv_module(row: tuple, tags: dict) -> None:
    """Byte for byte what csv.writer writes; a bare carriage return is quoted as well (the csv
    module of Python 3.11 leaves it bare, which its own reader then splits on)."""
    r = dict(zip(ROW_COLUMNS, row))
    cells = [neutralise(v) for v in (
        r["message"], r["timestamp"] or "", r["timestamp_desc"],
        r["ts"] // 1000 if r["timestamp"] else "", r["artifact"], r["family"], r["extractor"],
        r["user"] or "", r["host"] or "", r["evidence"], r["volume"], r["path"],
        "" if r["inode"] is None else r["inode"], r["sha256"], r["data"], r["event_hash"],
        ",".join(tags.get(r["seq"], [])))]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerow(cells)
    ours = csv_timeline.line(row, tags)
    if not any("\r" in str(c) for c in cells):
        assert ours == expected.getvalue()
    parsed = next(csv.reader(io.StringIO(ours, newline="")))
    assert parsed == ["" if c is None else str(c) for c in cells]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(rows(), _tags)
def test_jsonl_line_is_the_canonical_record(row: tuple, tags: dict) -> None:
    r = dict(zip(ROW_COLUMNS, row))
    record = {k: r[k] for k in integrity.EVENT_FIELDS if k not in ("source", "data")}
    record["source"] = {k: r[k] for k in integrity.SOURCE_FIELDS}
    record["data"] = json.loads(r["data"])
    line = jsonl.line(row, tags)
    assert line.endswith("\n") and "\n" not in line[:-1]
    parsed = json.loads(line)
    assert list(parsed) == [*integrity.EVENT_FIELDS, "event_hash", "tags"]
    assert parsed["tags"] == tags.get(r["seq"], [])
    for key in integrity.EVENT_FIELDS:
        assert parsed[key] == record[key]
    assert line == json.dumps({**{k: parsed[k] for k in integrity.EVENT_FIELDS},
                               "event_hash": r["event_hash"], "tags": parsed["tags"]},
                              ensure_ascii=False, separators=(",", ":")) + "\n"


def test_hashed_writer_digest_is_the_file_digest(tmp_path) -> None:
    path = str(tmp_path / "out.txt")
    writer = integrity.HashedTextWriter(path)
    writer.BLOCK = 1000  # many blocks, and more than MAX_WAITING of them
    for n in range(20000):
        writer.write(f"line {n} é 日本\n")
    digest, size = writer.close()
    assert size == os.path.getsize(path)
    assert digest == integrity.sha256_file(path)


_field = st.none() | _text


@settings(max_examples=300, derandomize=True, deadline=None)
@given(_text, _text, _text, _field, st.dictionaries(_text, _maybe | st.integers(0, 9), max_size=3),
       _field, _text, _text, _field, _data)
def test_file_event_hasher_is_event_hash(artifact, family, extractor, host, source, timestamp,
                                         desc, message, user, data) -> None:
    record = {"timestamp": timestamp, "timestamp_desc": desc, "artifact": artifact,
              "family": family, "extractor": extractor, "message": message, "user": user,
              "host": host, "source": source, "data": data}
    reference = hashlib.sha256(integrity.canonical(record).encode("utf-8")).hexdigest()
    assert integrity.event_hash(record) == reference
    hasher = integrity.FileEventHasher(artifact, family, extractor, host, source)
    assert hasher(timestamp, desc, message, user, integrity.canonical(data)) == reference


class _Kind(enum.IntEnum):
    """An int subclass: json_safe writes its name, the json module its number."""
    TWO = 2


_scalar = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=8)
           | st.sampled_from(["\ud800", "a\udfffb", "日本", "=x", _Kind.TWO]) | st.binary(max_size=4))
_key = st.text(max_size=6) | st.sampled_from(["\ud83d", "é"]) | st.integers(-3, 12) | st.booleans() \
    | st.none()
_values = st.recursive(_scalar, lambda inner: st.lists(inner, max_size=3)
                       | st.tuples(inner, inner) | st.dictionaries(_key, inner, max_size=3), max_leaves=8)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.dictionaries(_key, _values, max_size=6))
def test_data_json_is_canonical_json_safe(data: dict) -> None:
    """The direct serialisation of event data gives exactly json_safe's text, whatever the
    extractor put in it (surrogates, NaN, non-text keys, nested and odd types)."""
    from triage.extraction import data_json, json_safe

    try:
        expected = integrity.canonical(json_safe(data))
    except TypeError:  # json_safe's own view cannot be sorted (mixed key kinds after cleaning)
        return
    assert data_json(data) == expected


_plain = (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats()
          | st.text(max_size=8) | st.sampled_from(["\ud800", "a\udfffb", "日本", "NaN", _Kind.TWO]))


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(max_size=6) | st.sampled_from(["é", "\udc80", "a"]),
                       _plain | st.lists(_plain, max_size=3), max_size=8))
def test_data_json_direct_path_is_exact(data: dict) -> None:
    """The flat dicts the direct path takes (most events): surrogates, NaN and infinities,
    non-ASCII keys, lists of plain values."""
    from triage.extraction import data_json, json_safe

    assert data_json(data) == integrity.canonical(json_safe(data))


_nested_plain = st.recursive(_plain, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.text(max_size=3) | st.integers(-3, 12) | st.booleans() | st.none()
    | st.sampled_from(["\udc80", "10", "2"]), inner, max_size=3), max_leaves=10)


@settings(max_examples=1500, derandomize=True, deadline=None)
@given(st.dictionaries(st.text(max_size=4), _nested_plain, max_size=5))
@example({"a": [_Kind.TWO], "b": {"c": _Kind.TWO}, "d": [{"x": 1.5, "y": [None, True]}]})
@example({"a": {"10": 1, "2": 2}, "b": {10: 1, 2: 2}})
def test_data_json_nested_path_is_exact(data: dict) -> None:
    """Nested dicts and lists of plain values (the $MFT's names, times, streams): keys that
    are numbers, booleans or None (json writes and sorts them otherwise than json_safe),
    surrogates, NaN, int subclasses."""
    from triage.extraction import data_json, json_safe

    try:
        expected = integrity.canonical(json_safe(data))
    except TypeError:
        return
    assert data_json(data) == expected


def test_large_case_writes_its_csv_in_a_second_process(cli, tmp_path, monkeypatch) -> None:
    """The two-process path (a case of many events) writes the same files and manifest
    hashes as the one-pass path."""
    import json as _json

    from conftest import FIXTURE_IMAGES
    from triage import case as case_module

    one = tmp_path / "one"
    assert cli("run", FIXTURE_IMAGES / "win-mbr.raw", "-o", one, "--quiet").exit_code == 0
    import concurrent.futures

    submitted: list[str] = []

    class Counting(concurrent.futures.ProcessPoolExecutor):
        def submit(self, fn, *args, **kwargs):  # type: ignore[override]
            submitted.append(fn.__name__)
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Counting)
    monkeypatch.setattr(case_module, "PARALLEL_OUTPUT_MIN", 1)
    monkeypatch.setattr(case_module.os, "cpu_count", lambda: 2)
    two = tmp_path / "two"
    assert cli("run", FIXTURE_IMAGES / "win-mbr.raw", "-o", two, "--quiet").exit_code == 0
    assert submitted == ["_csv_in_child"]  # the CSV was written by the second process
    for name in ("timeline.jsonl", "timeline.csv"):
        assert (one / name).read_bytes() == (two / name).read_bytes()
    outputs = [_json.loads((c / "manifest.json").read_text())["outputs"] for c in (one, two)]
    for name in ("timeline.jsonl", "timeline.csv"):
        assert outputs[0][name] == outputs[1][name]
        assert outputs[1][name]["sha256"] == integrity.sha256_file(str(two / name))
    assert cli("verify", two).exit_code == 0


def test_data_json_reuses_one_c_encoder_and_falls_back_without_it(monkeypatch) -> None:
    """The direct path encodes with one C encoder made at import (not one per call); where
    the accelerator is missing, the JSONEncoder gives the same text."""
    from triage import extraction

    assert extraction._FLAT_ENCODER is not None  # CPython: the fast path is the one tested
    data = {"z": [1, "é", None], "a": 2.5, "m": "x\n\"y\"", "b": True}
    fast = extraction.data_json(data)
    monkeypatch.setattr(extraction, "_FLAT_ENCODER", None)
    assert extraction.data_json(data) == fast == integrity.canonical(extraction.json_safe(data))
    with pytest.raises(ValueError):
        extraction._encode_flat({"a": float("nan")})
