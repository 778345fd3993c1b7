"""`event_kinds`: events counted per (family, timestamp_desc, extractor, artifact) as they are
staged, written by finalize(), and read by the rules and the devices analysis so that they read
only the families they need. What is read must never change: the same kinds, rows, findings
and devices as the full scans they replace, on cases with the table and on cases without it."""
from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURE_IMAGES
from test_devices import _system_drive
from triage.analysis import devices
from triage.cli import main
from triage.detection import engine, load_rules
from triage.manifest import read_manifest, write_manifest
from triage.store import CaseStore, event_kinds, rows_by_family

SCAN = ("SELECT family, timestamp_desc, extractor, artifact, count(*) FROM events "
        "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4")
# devices._events before event_kinds: every event read (the reference for the family path)
OLD_DEVICE_QUERY = ("SELECT seq, timestamp, timestamp_desc, extractor, user, message, data "
                    "FROM events WHERE extractor IN ('registry', 'setupapi', 'lnk', "
                    "'jumplist_auto', 'jumplist_custom') OR (extractor = 'evtx' AND "
                    f"({devices._EVTX_WITH_IDENTITY})) ORDER BY seq")


def _run(*args: object) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def _db(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    return db


def _change(case: Path, sql: str) -> None:
    """Change case.sqlite and hash it into the manifest anew (as if written so)."""
    db = sqlite3.connect(case / "case.sqlite")
    db.execute(sql)
    db.commit()
    db.close()
    if (case / "manifest.json").exists():
        write_manifest(str(case), read_manifest(str(case)))


def _drop_kinds(case: Path) -> None:
    """Make `case` look written by a version without event_kinds."""
    _change(case, "DROP TABLE event_kinds")


def _findings(db: sqlite3.Connection) -> list[tuple]:
    result = engine.evaluate(load_rules([], builtin=True), db)
    assert not result.rule_errors
    return [(f.rule.id, f.events, f.explanation, f.group_value, f.total) for f in result.findings]


def _full_scan(db, families, columns, where="1", params=()):
    """rows_by_family without the family restriction: one pass over every event."""
    yield from db.execute(f"SELECT {columns} FROM main.events e WHERE ({where}) ORDER BY e.seq",
                          params)


@pytest.fixture(scope="module")
def image_cases(tmp_path_factory) -> tuple[Path, Path]:
    """The shipped fixture image, run in one process and with two workers."""
    root = tmp_path_factory.mktemp("image")
    one, two = root / "one", root / "two"
    _run("run", FIXTURE_IMAGES / "win.E01", "-o", one, "--quiet")
    _run("run", FIXTURE_IMAGES / "win.E01", "-o", two, "--quiet", "--workers", "2")
    return one, two


@pytest.fixture(scope="module")
def device_case(tmp_path_factory) -> Path:
    """A system drive with USB registry keys, event logs, a shortcut and ShellBags."""
    root = tmp_path_factory.mktemp("devices")
    _run("run", _system_drive(root / "ev"), "-o", root / "case", "--quiet")
    return root / "case"


def test_event_kinds_count_every_event_in_one_process_and_with_workers(image_cases) -> None:
    tables = []
    for case in image_cases:
        db = _db(case / "case.sqlite")
        scanned = [tuple(r) for r in db.execute(SCAN)]
        stored = [tuple(r) for r in db.execute("SELECT * FROM event_kinds")]  # as written
        assert stored == scanned and event_kinds(db) == scanned
        manifest = json.loads((case / "manifest.json").read_text())
        assert sum(r[4] for r in stored) == manifest["timeline"]["events"] > 0
        assert len({r[0] for r in stored}) > 1  # several families: the restriction matters
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert "staged_kinds" not in names  # (a worker chunk's table, never in a case)
        tables.append(stored)
    assert tables[0] == tables[1]


def test_a_case_without_the_table_reads_the_same(device_case, tmp_path) -> None:
    """A case from before event_kinds: kinds counted from the events, the same findings and
    devices; `rules run`, verify, report and usb keep working on it."""
    old = tmp_path / "old"
    shutil.copytree(device_case, old)
    _drop_kinds(old)
    new_db, old_db = _db(device_case / "case.sqlite"), _db(old / "case.sqlite")
    assert event_kinds(old_db) == event_kinds(new_db) == [tuple(r) for r in new_db.execute(SCAN)]
    findings = _findings(new_db)
    assert findings and _findings(old_db) == findings
    found = devices.correlate(new_db)
    assert len(found) == 4 and devices.correlate(old_db) == found
    new_db.close()
    old_db.close()  # (its rule reading left a transaction open: the CLI below writes)

    new = tmp_path / "new"
    shutil.copytree(device_case, new)
    runner = CliRunner()
    outputs: dict[str, list[str]] = {}
    for command, options in ((["rules", "run"], ["--json"]), (["verify"], []), (["report"], []),
                             (["usb"], ["--json"])):
        for case in (new, old):
            result = runner.invoke(main, [*command, str(case), *options], catch_exceptions=False)
            assert result.exit_code == 0, (command, result.output)
            outputs.setdefault(command[0], []).append(result.output)
    assert outputs["rules"][0] == outputs["rules"][1] and "TRIAGE-USB" in outputs["rules"][0]
    assert outputs["usb"][0] == outputs["usb"][1]
    db = sqlite3.connect(old / "case.sqlite")
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    assert "event_kinds" not in names  # nothing wrote it into the old case


@pytest.mark.parametrize("kinds_table", [True, False])
def test_family_restriction_reads_what_a_full_scan_reads(image_cases, device_case, tmp_path,
                                                          monkeypatch, kinds_table) -> None:
    """Differential: rule candidates, findings and device events through rows_by_family are
    exactly those of a pass over every event (and the old device query)."""
    cases = []
    for case in (image_cases[0], device_case):
        copy = tmp_path / case.name / "case.sqlite"
        copy.parent.mkdir()
        shutil.copy(case / "case.sqlite", copy)
        if not kinds_table:
            _drop_kinds(copy.parent)
        cases.append(copy)
    read: set = set()

    def recording(db, families, *args):
        families = set(families)
        read.update(families)
        return rows_by_family(db, families, *args)

    states = [engine._RuleState(r) for r in load_rules([], builtin=True)]
    for path in cases:
        db = _db(path)
        monkeypatch.setattr(engine, "rows_by_family", recording)
        monkeypatch.setattr(devices, "rows_by_family", recording)
        candidates = [tuple(r) for r in engine._candidate_rows(db, states)]
        findings = _findings(db)
        device_events = list(devices._events(db))
        monkeypatch.setattr(engine, "rows_by_family", _full_scan)
        assert candidates == [tuple(r) for r in engine._candidate_rows(db, states)]
        assert candidates and findings == _findings(db)
        old = [(r[0], {"timestamp": r[1], "timestamp_desc": r[2], "extractor": r[3],
                       "user": r[4], "message": r[5], "data": json.loads(r[6])})
               for r in db.execute(OLD_DEVICE_QUERY)]
        assert device_events == old and old
    families = {r[0] for path in cases for r in _db(path).execute("SELECT family FROM events")}
    assert read < families  # some family was left unread (the image's documents, say)


def _plans(db: sqlite3.Connection, reader) -> list[str]:
    """EXPLAIN QUERY PLAN of every family query `reader` runs, taken at its first row (while
    the tables its queries read exist)."""
    statements: list[str] = []
    plans: list[str] = []
    db.set_trace_callback(statements.append)
    try:
        for _ in reader():
            if not plans:
                plans = ["\n".join(str(tuple(r)) for r in db.execute("EXPLAIN QUERY PLAN " + s))
                         for s in statements if "FROM main.events e WHERE e.family IS" in s]
    finally:
        db.set_trace_callback(None)
    return plans


def test_readers_use_the_family_index_and_no_sort(device_case) -> None:
    db = _db(device_case / "case.sqlite")
    states = [engine._RuleState(r) for r in load_rules([], builtin=True)]
    for reader in (lambda: engine._candidate_rows(db, states), lambda: devices._events(db)):
        plans = _plans(db, reader)
        assert plans
        for plan in plans:
            assert "USING INDEX events_family (family=?)" in plan, plan
            assert "TEMP B-TREE" not in plan and "SCAN e" not in plan, plan


# --- the store: counting, merging worker chunks, the check in finalize -------------------

def _record(n: int, family: str, extractor: str = "x") -> dict:
    return {"timestamp": None, "timestamp_desc": f"D{n % 3}", "artifact": "A", "family": family,
            "extractor": extractor, "message": f"event {n}", "user": None, "host": None,
            "source": {"evidence": "e", "volume": "v", "path": "/p", "inode": n, "sha256": None},
            "data": {"n": n}, "event_hash": hashlib.sha256(f"{family}{n}".encode()).hexdigest()}


def _chunk(path: Path, family: str, count: int) -> None:
    chunk = CaseStore(str(path), stage_apart=False)
    for n in range(count):
        chunk.add_event(_record(n, family), n)
    chunk.flush()
    chunk.close()


def _kinds_after_finalize(store: CaseStore) -> tuple[list[tuple], list[tuple]]:
    store.finalize()
    return ([tuple(r) for r in store.db.execute("SELECT * FROM event_kinds")],
            [tuple(r) for r in store.db.execute(SCAN)])


def test_merged_chunks_bring_their_counts(tmp_path) -> None:
    store = CaseStore(str(tmp_path / "case.sqlite"))
    for n in range(7000):  # more than one insert batch
        store.add_event(_record(n, "own", None if n % 5 == 0 else "x"), n)  # NULLs are kinds too
    _chunk(tmp_path / "c1.sqlite", "chunked", 40)
    _chunk(tmp_path / "c2.sqlite", "own", 30)
    chunk_db = sqlite3.connect(tmp_path / "c2.sqlite")
    assert chunk_db.execute("SELECT sum(events) FROM staged_kinds").fetchone()[0] == 30
    chunk_db.execute("DROP TABLE staged_kinds")  # a chunk without its counts: counted on merge
    chunk_db.commit()
    chunk_db.close()
    store.merge(str(tmp_path / "c1.sqlite"))
    store.merge(str(tmp_path / "c2.sqlite"))
    stored, scanned = _kinds_after_finalize(store)
    assert stored == scanned and sum(r[4] for r in stored) == 7070
    assert ("own", "D0", None, "A", 467) in stored
    store.close()


def test_merge_reads_the_chunks_counts_not_its_rows(tmp_path) -> None:
    store = CaseStore(str(tmp_path / "case.sqlite"))
    _chunk(tmp_path / "c1.sqlite", "f", 10)
    db = sqlite3.connect(tmp_path / "c1.sqlite")
    db.execute("UPDATE staged_kinds SET events = events + 1")  # counts that are not the rows'
    db.commit()
    db.close()
    store.merge(str(tmp_path / "c1.sqlite"))
    with pytest.raises(RuntimeError, match="event kinds: 13 events counted, 10 ordered"):
        store.finalize()


@pytest.mark.parametrize("change", [1, -1])
def test_finalize_refuses_counts_that_do_not_add_up(tmp_path, change) -> None:
    store = CaseStore(str(tmp_path / "case.sqlite"))
    for n in range(20):
        store.add_event(_record(n, "f"), n)
    store.flush()
    store.kinds[("f", "D0", "x", "A")] += change
    with pytest.raises(RuntimeError, match=f"kinds: {20 + change} events counted, 20 ordered"):
        store.finalize()


def test_verify_finds_a_changed_event_kinds_table(device_case, tmp_path) -> None:
    """A changed table is found even where the manifest was rehashed: rules and analyses
    trust it to name every event's family."""
    case = tmp_path / "case"
    shutil.copytree(device_case, case)
    _run("verify", case)
    _change(case, "UPDATE event_kinds SET events = events + 1 WHERE rowid = 1")
    result = CliRunner().invoke(main, ["verify", str(case)])
    assert result.exit_code != 0
    assert "event_kinds does not match the events for 1 kind" in result.output
