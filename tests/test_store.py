"""The case store's ordering and chain: the SQL path must give exactly the timeline order and the
chain that `triage verify` recomputes, and leave no staging behind."""
from __future__ import annotations

import hashlib
import os
import random

import pytest

from triage import integrity
from triage.store import CaseStore, _Chain


def _record(n: int) -> dict:
    return {"timestamp": None, "timestamp_desc": "Test", "artifact": "A", "family": "f",
            "extractor": "x", "message": f"event {n}", "user": None, "host": None,
            "source": {"evidence": "e", "volume": "v", "path": "/p", "inode": n, "sha256": None},
            "data": {"n": n}, "event_hash": hashlib.sha256(str(n).encode()).hexdigest()}


def _stage(store: CaseStore, numbers: list[int]) -> list[tuple[int, str]]:
    keys = []
    for n in numbers:
        ts = None if n % 7 == 0 else (n % 5) * 1000  # repeated times, and events without one
        record = _record(n)
        store.add_event(record, ts)
        keys.append((-(2**63) if ts is None else ts, record["event_hash"]))
    return keys


def test_finalize_orders_links_and_removes_staging(tmp_path) -> None:
    path = str(tmp_path / "case.sqlite")
    store = CaseStore(path)
    assert os.path.exists(path + "-staging")
    numbers = list(range(12000))  # more than one insert batch
    random.Random(5).shuffle(numbers)
    keys = _stage(store, numbers)
    count, head = store.finalize()
    assert count == len(numbers)
    assert not os.path.exists(path + "-staging")
    rows = store.db.execute("SELECT seq, ts, event_hash, chain_hash FROM events ORDER BY seq").fetchall()
    assert [(r["ts"], r["event_hash"]) for r in rows] == sorted(keys)
    assert [r["seq"] for r in rows] == list(range(1, count + 1))
    link = integrity.CHAIN_SEED
    for row in rows:
        link = integrity.chain_next(link, row["event_hash"])
        assert row["chain_hash"] == link
    assert head == link == integrity.chain_head(r["event_hash"] for r in rows)
    tables = {r[0] for r in store.db.execute("SELECT name FROM sqlite_master")}
    assert "staging" not in tables
    store.close()


def test_empty_timeline(tmp_path) -> None:
    store = CaseStore(str(tmp_path / "case.sqlite"))
    assert store.finalize() == (0, integrity.CHAIN_SEED)
    store.close()


def test_chain_refuses_rows_out_of_order() -> None:
    chain = _Chain()
    chain.step(5, "b")
    chain.step(5, "b")  # equal events (the same record twice) are in order
    with pytest.raises(ValueError, match="out of timeline order at row 3"):
        chain.step(5, "a")


def test_worker_chunks_merge_into_the_staging_file(tmp_path) -> None:
    case = CaseStore(str(tmp_path / "case.sqlite"))
    chunk_path = str(tmp_path / "chunk-00000.sqlite")
    chunk = CaseStore(chunk_path, stage_apart=False)
    assert not os.path.exists(chunk_path + "-staging")
    keys = _stage(chunk, list(range(50)))
    chunk.flush()
    chunk.close()
    keys += _stage(case, list(range(50, 80)))
    case.merge(chunk_path)
    count, _ = case.finalize()
    assert count == 80
    got = [(r["ts"], r["event_hash"]) for r in case.db.execute("SELECT ts, event_hash FROM events ORDER BY seq")]
    assert got == sorted(keys)
    case.close()


def test_each_staged_event_keeps_its_own_files_values_through_merges(tmp_path) -> None:
    """Staged events name their file by a staging_files id: a chunk's ids follow the case's,
    whichever store added files before or after, and every event gets its own file back."""
    case = CaseStore(str(tmp_path / "case.sqlite"))
    _stage(case, list(range(0, 10)))  # inode n: one file per event
    for number, numbers in enumerate((range(10, 30), range(30, 45))):
        path = str(tmp_path / f"chunk-{number:05d}.sqlite")
        chunk = CaseStore(path, stage_apart=False)
        _stage(chunk, list(numbers))
        chunk.flush()
        chunk.close()
        case.merge(path)
    _stage(case, list(range(45, 60)))
    assert case.finalize()[0] == 60
    rows = case.db.execute("SELECT message, inode, artifact, family, extractor, path "
                           "FROM events").fetchall()
    assert sorted(int(m.split()[1]) for m, *_ in rows) == list(range(60))
    assert all(int(m.split()[1]) == inode and rest == ["A", "f", "x", "/p"]
               for m, inode, *rest in [tuple(r) for r in rows])
    assert case.db.execute("SELECT count(*) FROM event_kinds").fetchone()[0] == 1
    case.close()
