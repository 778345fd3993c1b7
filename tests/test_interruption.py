"""Interrupted, killed and disk-full runs: nothing published, the unfinished case marked and
reported by `triage verify`, and what was written left consistent."""
from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from conftest import ROOT, make_recycle_tree, one_artifact
from fixtures.builders.mail_writer import mbox_file, mime_message
from triage.extractors import Extractor, register

TB_INBOX = "Users/alice/AppData/Roaming/Thunderbird/Profiles/x.default/Mail/Local Folders/Inbox"


def _mail_evidence(root, count):
    inbox = root / TB_INBOX
    inbox.parent.mkdir(parents=True)
    (root / "Windows").mkdir()
    messages = [mime_message([("From", "a@example.com"), ("To", f"user{i}@example.org"),
                              ("Subject", f"message {i} " + "x" * 200),
                              ("Date", "Tue, 01 Apr 2025 09:15:30 +0900")], body="body")
                for i in range(count)]
    inbox.write_bytes(mbox_file(messages))
    return root


def _triage(*args, preexec=None):
    return subprocess.Popen([sys.executable, "-m", "triage", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=preexec)


def _small_disk():
    """The child may write files of at most 512 KiB: writing more fails with EFBIG, as on a
    full disk (SIGXFSZ ignored so the write returns the error instead of killing)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (512 * 1024, 512 * 1024))


def test_disk_full_stops_cleanly_and_keeps_a_consistent_partial_case(cli, tmp_path):
    evidence = _mail_evidence(tmp_path / "ev", 6000)
    case = tmp_path / "case"
    proc = _triage("run", evidence, "-o", case, "--quiet", preexec=_small_disk)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 6, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "cannot write the case folder" in err and "marked incomplete" in err
    partial = tmp_path / "case.partial"
    assert not case.exists() and partial.is_dir()
    marker = json.loads((partial / "RUN_INCOMPLETE.json").read_text(encoding="utf-8"))
    # EFBIG reaches SQLite as an I/O error; a real full disk gives SQLITE_FULL ("disk full")
    assert marker["state"] in ("disk full", "write failed") and marker["reason"]
    with sqlite3.connect(partial / "case.sqlite") as db:  # nothing written is corrupted
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for target in (case, partial):
        result = cli("verify", target)
        assert result.exit_code == 4
        assert "INCOMPLETE" in result.output
        assert ("disk was full" in result.output or "could not be written" in result.output)


@register
class _InterruptedForTests(Extractor):
    """Test-only extractor: the examiner presses Ctrl-C while it runs."""

    name = "test_ctrl_c"
    family = "test"

    def extract(self, f, ctx):
        raise KeyboardInterrupt


def test_ctrl_c_leaves_a_marked_partial_case(cli, tmp_path):
    evidence = make_recycle_tree(tmp_path / "ev")
    defs = one_artifact(tmp_path, evidence, "Stop", "test_ctrl_c", "stop.bin")
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--artifacts", defs)
    assert result.exit_code == 130 and "interrupted" in result.output
    assert not case.exists()
    marker = json.loads((tmp_path / "case.partial" / "RUN_INCOMPLETE.json").read_text())
    assert marker["state"] == "interrupted" and marker["started"]
    verified = cli("verify", case)
    assert verified.exit_code == 4 and "interrupted (Ctrl-C)" in verified.output
    # a later run replaces the unfinished folder and publishes a finished, verifiable case
    assert cli("run", evidence, "-o", case, "--quiet").exit_code == 0
    assert not (tmp_path / "case.partial").exists()
    assert cli("verify", case).exit_code == 0


def test_killed_run_is_reported_as_never_finished(cli, tmp_path):
    evidence = _mail_evidence(tmp_path / "ev", 40000)
    case = tmp_path / "case"
    proc = _triage("run", evidence, "-o", case, "--quiet")
    marker = tmp_path / "case.partial" / "RUN_INCOMPLETE.json"
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    if proc.poll() is not None:
        pytest.skip("the run finished before it could be killed")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert not case.exists()
    result = cli("verify", case)
    assert result.exit_code == 4
    assert "never finished (the process was killed" in result.output


def test_disk_full_is_recognised_through_the_exception_chain():
    import errno

    from triage.store import CaseWriteError, is_disk_full

    assert is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    assert is_disk_full(sqlite3.OperationalError("database or disk is full"))
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise CaseWriteError("writing the case failed") from inner
    except CaseWriteError as outer:
        assert is_disk_full(outer)
    assert not is_disk_full(ValueError("bad record"))
    assert not is_disk_full(OSError(errno.EACCES, "Permission denied"))
