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
