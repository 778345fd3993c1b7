"""--workers N gives exactly the case a single process gives (events, chain, sources, errors)."""
from __future__ import annotations

import json
import sqlite3

from conftest import FIXTURE_IMAGES, make_recycle_tree


def _rows(case, table, columns):
    db = sqlite3.connect(case / "case.sqlite")
    return db.execute(f"SELECT {columns} FROM {table} ORDER BY rowid").fetchall()


def _same_case(a, b):
    assert (a / "timeline.jsonl").read_bytes() == (b / "timeline.jsonl").read_bytes()
    head = [json.loads((c / "manifest.json").read_text())["timeline"]["chain_head"] for c in (a, b)]
    assert head[0] == head[1]
    cols = "evidence, volume, path, inode, size, md5, sha1, sha256, artifact, extractor, status, events, error"
    assert _rows(a, "sources", cols) == _rows(b, "sources", cols)
    cols = "severity, stage, artifact, extractor, evidence, volume, path, message"
    assert _rows(a, "errors", cols) == _rows(b, "errors", cols)


def test_workers_give_the_same_case_on_an_image(cli, tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("run", FIXTURE_IMAGES / "win.E01", "-o", one, "--quiet").exit_code == 0
    assert cli("run", FIXTURE_IMAGES / "win.E01", "-o", two, "--quiet", "--workers", "3").exit_code == 0
    _same_case(one, two)
    assert cli("verify", two).exit_code == 0


def test_workers_keep_errors_in_order(cli, tmp_path):
    evidence = make_recycle_tree(tmp_path / "ev", corrupt=True)
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("run", evidence, "-o", one, "--quiet").exit_code == 1
    assert cli("run", evidence, "-o", two, "--quiet", "--workers", "2").exit_code == 1
    _same_case(one, two)


def test_chunks_keep_match_order_and_isolate_big_files():
    from types import SimpleNamespace

    from triage.parallel import FILE_WEIGHT, _chunks

    sizes = [10] * 50 + [2**30] + [10] * 50 + [2**29] + [10] * 20
    matches = [SimpleNamespace(file=SimpleNamespace(size=s), n=i) for i, s in enumerate(sizes)]
    chunks = _chunks(matches, 2)
    assert [m.n for chunk in chunks for m in chunk] == list(range(len(sizes)))  # order kept
    assert all(chunks)
    big = [chunk for chunk in chunks if any(m.file.size >= 2**29 for m in chunk)]
    assert len(big) == 2 and all(len(chunk) == 1 for chunk in big)  # each big file alone
    small = _chunks([SimpleNamespace(file=SimpleNamespace(size=0), n=i) for i in range(100)], 2)
    assert len(small) == 8 and {len(c) for c in small} == {12, 13}  # equal files: equal counts
    assert _chunks([], 2) == [] and FILE_WEIGHT > 0
