"""Hashing a file while it is parsed (files read into memory) must give exactly the case that
hashing it first gives: same events (whose hashes include the file's SHA-256), same sources
rows, errors kept; and events that waited for the digests are stored even when the parser
fails after them."""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from conftest import FIXTURE_IMAGES, make_recycle_tree
from triage import extraction, integrity


def _case(case) -> tuple:
    db = sqlite3.connect(case / "case.sqlite")
    sources = db.execute("SELECT path, md5, sha1, sha256, status, events, error FROM sources "
                         "ORDER BY id").fetchall()
    head = json.loads((case / "manifest.json").read_text())["timeline"]["chain_head"]
    return head, sources, (case / "timeline.jsonl").read_bytes()


@pytest.mark.parametrize("evidence", ["image", "corrupt"])
def test_overlapped_hashing_gives_the_same_case(cli, tmp_path, monkeypatch, evidence) -> None:
    source = FIXTURE_IMAGES / "win-mbr.raw" if evidence == "image" else \
        make_recycle_tree(tmp_path / "ev", corrupt=True)
    first = tmp_path / "first"
    cli("run", source, "-o", first, "--quiet")
    monkeypatch.setattr(extraction, "OVERLAP_MIN", 0)  # every file hashed while parsed
    monkeypatch.setattr(extraction, "WAIT_EVENTS", 1)  # and the parser made to wait
    overlapped = tmp_path / "overlapped"
    cli("run", source, "-o", overlapped, "--quiet")
    assert _case(first) == _case(overlapped)
    assert cli("verify", overlapped).exit_code == 0


def test_events_that_waited_are_kept_when_the_parser_fails(tmp_path, monkeypatch) -> None:
    """The digests are held back until the parser has failed: its events are still stored,
    with the file's real SHA-256."""
    from triage.artifacts import Artifact
    from triage.extractors import Extractor
    from triage.files import BufferedFile, LocalFile
    from triage.model import Event, Timestamp
    from triage.progress import Reporter
    from triage.store import CaseStore

    gate = threading.Event()
    thread = ThreadPoolExecutor(max_workers=1)

    def slow(data: bytes) -> Future:
        def wait_then_hash() -> dict:
            gate.wait(10)  # the digests arrive only once the parser has given its events
            return integrity.hash_bytes(data)
        return thread.submit(wait_then_hash)
    monkeypatch.setattr(integrity, "hash_bytes_in_background", slow)

    class Failing(Extractor):
        name = "failing"
        family = "test"

        def extract(self, f, ctx):
            for n in range(3):
                yield Event(Timestamp(n * 10**9, 0), "Seen", f"event {n}", {"n": n})
            gate.set()
            raise ValueError("broken after three events")

    content = b"x" * 2048
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    store = CaseStore(str(tmp_path / "case.sqlite"))
    options = type("O", (), {"file_timeout": 0, "file_memory": 0, "extractor_options": {},
                             "max_file_size": 10**9})()
    run = extraction.Extraction(options, {"failing": Failing()}, [], store, Reporter())
    monkeypatch.setattr(extraction, "OVERLAP_MIN", 0)
    artifact = Artifact(name="T", family="test", extractor="failing", paths=("/input.bin",))
    volume = type("V", (), {"id": "dir", "tree": None})()
    evidence = type("E", (), {"name": "ev"})()
    run.process(extraction.Match(artifact, LocalFile(str(path), "/input.bin")), evidence,
                volume, None, {}, None)
    store.flush()
    rows = store.db.execute("SELECT f.sha256 FROM staging s JOIN staging_files f "
                            "ON f.id = s.file").fetchall()
    assert len(rows) == 3 and {r[0] for r in rows} == {hashlib.sha256(content).hexdigest()}
    source = store.db.execute("SELECT status, events, error, sha256 FROM sources").fetchone()
    assert source[0] == "error" and source[1] == 3 and "after 3 events" in source[2]
    assert source[3] == hashlib.sha256(content).hexdigest()
    thread.shutdown()
