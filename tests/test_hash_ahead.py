"""Large files hashed ahead of their parsing, on a reader of their own (triage/file_digests.py),
must give exactly the case that hashing them in turn gives: same events (whose hashes include
the file's SHA-256), same sources rows; a failing second reader falls back to another, and a
file no reader can hash is recorded as unreadable without stopping the run.

The fixture images hold no 64 MiB file: the tests lower extraction.BUFFER_LIMIT so that every
file over 4 KiB is streamed from the image, as a $MFT or a large event log is."""
from __future__ import annotations

import io
import sqlite3
import threading
import time

import pytest

from conftest import FIXTURE_IMAGES, make_recycle_tree
from test_hash_overlap import _case  # (head, sources, timeline.jsonl) of a case
from triage import extraction, file_digests
from triage.sources.image import DfvfsTree

STREAMED_FROM = 4096


def _no_ahead(monkeypatch) -> None:
    monkeypatch.setattr(extraction.Extraction, "_streamed", lambda self, match: False)


@pytest.fixture
def streamed(monkeypatch):
    monkeypatch.setattr(extraction, "BUFFER_LIMIT", STREAMED_FROM)


@pytest.fixture
def counted(monkeypatch):
    """How many files the hashing thread hashed, and how often a tree was opened again."""
    seen = {"hashed": 0, "independent": 0}
    digests, independent = file_digests.HashAhead._digests, DfvfsTree.independent

    def counting_digests(self, match):
        result = digests(self, match)
        seen["hashed"] += 1
        return result

    def counting_independent(self):
        seen["independent"] += 1
        return independent(self)
    monkeypatch.setattr(file_digests.HashAhead, "_digests", counting_digests)
    monkeypatch.setattr(DfvfsTree, "independent", counting_independent)
    return seen


@pytest.mark.parametrize("wait", [1, 10_000])
def test_hashing_ahead_gives_the_same_case(cli, tmp_path, monkeypatch, streamed, counted,
                                           wait) -> None:
    source = FIXTURE_IMAGES / "win-mbr.raw"
    with monkeypatch.context() as m:
        _no_ahead(m)
        cli("run", source, "-o", tmp_path / "in-turn", "--quiet")
    assert counted["hashed"] == 0
    monkeypatch.setattr(extraction, "WAIT_EVENTS", wait)  # 1: the parser made to wait
    cli("run", source, "-o", tmp_path / "ahead", "--quiet")
    in_turn, ahead = _case(tmp_path / "in-turn"), _case(tmp_path / "ahead")
    streamed_files = [row for row in ahead[1] if row[3] and row[0]]
    assert counted["hashed"] >= 5 and counted["independent"] == 1  # one second opening
    assert len(streamed_files) >= counted["hashed"]
    assert in_turn == ahead
    assert cli("verify", tmp_path / "ahead").exit_code == 0


def test_local_files_are_hashed_ahead_on_their_own_handles(cli, tmp_path, monkeypatch, streamed,
                                                           counted) -> None:
    evidence = make_recycle_tree(tmp_path / "ev")
    (evidence / "$Recycle.Bin" / "big.bin").write_bytes(b"z" * (STREAMED_FROM + 1))
    for path in (evidence / "$Recycle.Bin").rglob("$I*"):  # over the (lowered) buffer limit
        path.write_bytes(path.read_bytes() + b"\0" * STREAMED_FROM)
    with monkeypatch.context() as m:
        _no_ahead(m)
        cli("run", evidence, "-o", tmp_path / "in-turn", "--quiet")
    cli("run", evidence, "-o", tmp_path / "ahead", "--quiet")
    assert counted["hashed"] >= 2 and counted["independent"] == 0
    assert _case(tmp_path / "in-turn") == _case(tmp_path / "ahead")


def test_a_failing_second_reader_falls_back_to_another(cli, tmp_path, monkeypatch,
                                                       streamed) -> None:
    source = FIXTURE_IMAGES / "win-mbr.raw"
    with monkeypatch.context() as m:
        _no_ahead(m)
        cli("run", source, "-o", tmp_path / "in-turn", "--quiet")
    failed = []

    def broken(f, independent_tree):
        failed.append(f.path)
        raise OSError("second reader broken")
    monkeypatch.setattr(file_digests, "reader_apart", broken)  # the hashing thread's only
    monkeypatch.setattr(extraction, "WAIT_EVENTS", 1)
    cli("run", source, "-o", tmp_path / "fallback", "--quiet")
    assert failed
    assert _case(tmp_path / "in-turn") == _case(tmp_path / "fallback")


@pytest.mark.parametrize("fails", ["before its turn", "while it is parsed"])
def test_a_file_no_reader_can_hash_is_unreadable_and_the_run_goes_on(cli, tmp_path, monkeypatch,
                                                                    streamed, fails) -> None:
    """The hashing thread fails for one file either before the file's turn (then the main
    reader hashes it before parsing, as without hashing ahead) or once its parse has begun
    (then a reader of the main thread's own tries); here every reader fails for it."""
    source = FIXTURE_IMAGES / "win-mbr.raw"
    with monkeypatch.context() as m:
        _no_ahead(m)
        cli("run", source, "-o", tmp_path / "in-turn", "--quiet")
    victim = "/Windows/System32/config/SOFTWARE"
    parsing = threading.Event()

    def thread_reader(f, independent_tree):
        if f.path == victim:
            if fails == "while it is parsed":
                assert parsing.wait(10)
            raise OSError("sector unreadable")
        return reader_apart(f, independent_tree)

    def main_reader(f, independent_tree):
        raise OSError("sector unreadable") if f.path == victim else AssertionError("not used")

    def main_stream(f, stop=None):
        if f.path == victim:
            raise OSError("sector unreadable")
        return stream_digests(f, stop)

    def run_extractor(self, artifact, extractor, readable, *args):
        if readable.path == victim:
            parsing.set()
        return run_extractor_in_turn(self, artifact, extractor, readable, *args)

    reader_apart, stream_digests = file_digests.reader_apart, extraction.stream_digests
    run_extractor_in_turn = extraction.Extraction._run_extractor
    monkeypatch.setattr(file_digests, "reader_apart", thread_reader)
    monkeypatch.setattr(extraction, "reader_apart", main_reader)
    monkeypatch.setattr(extraction, "stream_digests", main_stream)
    monkeypatch.setattr(extraction.Extraction, "_run_extractor", run_extractor)
    monkeypatch.setattr(extraction, "WAIT_EVENTS", 1)
    result = cli("run", source, "-o", tmp_path / "broken", "--quiet")
    assert "Traceback" not in result.output
    assert parsing.is_set() == (fails == "while it is parsed")
    db = sqlite3.connect(tmp_path / "broken" / "case.sqlite")
    status, events, error, sha = db.execute(
        "SELECT status, events, error, sha256 FROM sources WHERE path = ?", (victim,)).fetchone()
    assert (status, events, sha) == ("unreadable", 0, None)
    assert "cannot read file: OSError: sector unreadable" in error
    assert db.execute("SELECT count(*) FROM events WHERE path = ?", (victim,)).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM errors WHERE stage = 'read' AND path = ?",
                      (victim,)).fetchone()[0] == 1
    others = [row for row in _case(tmp_path / "in-turn")[1] if row[0] != victim]
    assert [row for row in _case(tmp_path / "broken")[1] if row[0] != victim] == others


def test_close_stops_the_thread_at_its_next_chunk() -> None:
    """A run that stops (an error, Ctrl-C) is not held up hashing files it will not parse."""
    reads = []

    class Slow:
        path, inode, size, opens_apart = "/big", 1, 1 << 40, True

        def open(self):
            class Handle(io.RawIOBase):
                def read(self, size=-1):
                    reads.append(size)
                    time.sleep(0.01)
                    return b"x" * 1024
            return Handle()

    files = [Slow(), Slow()]
    matches = [extraction.Match(None, f) for f in files]
    ahead = file_digests.HashAhead(object(), matches, lambda m: True)
    first, second = (ahead._futures[id(m)] for m in matches)
    while not reads:
        time.sleep(0.01)
    started = time.monotonic()
    ahead.close()
    assert time.monotonic() - started < 2
    assert isinstance(first.exception(), file_digests.Cancelled)
    assert second.cancelled() or isinstance(second.exception(), file_digests.Cancelled)
    assert not [t for t in threading.enumerate() if t.name.startswith("triage-hash-ahead")]


def test_files_under_the_buffer_limit_and_exempt_ones_are_not_hashed_ahead(tmp_path) -> None:
    class F:
        def __init__(self, size, exempt=False):
            self.size, self.hash_exempt, self.path = size, exempt, "/x"
    options = type("O", (), {"max_file_size": 10 * extraction.BUFFER_LIMIT})()
    run = extraction.Extraction(options, {}, [], None, None)
    artifact = type("A", (), {"max_size": None})()
    big = extraction.BUFFER_LIMIT + 1
    assert [run._streamed(extraction.Match(artifact, F(size)))
            for size in (extraction.BUFFER_LIMIT, big, 10 * extraction.BUFFER_LIMIT + 1)] == \
        [False, True, False]
    assert not run._streamed(extraction.Match(artifact, F(big, exempt=True)))
