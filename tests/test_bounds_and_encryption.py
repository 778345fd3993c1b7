"""Pathological input is bounded (time, size), and a locked encrypted volume is skipped, not fatal."""
from __future__ import annotations

import json
import sqlite3
import time

from dfvfs.lib import definitions

from conftest import one_artifact
from triage.extractors import Extractor, register
from triage.model import Event
from triage.sources import Evidence, SourceOptions, Volume
from triage.sources.image import _Walker


@register
class _SlowForTests(Extractor):
    """Test-only extractor that never finishes on its own."""

    name = "test_never_ends"
    family = "test"

    def extract(self, f, ctx):
        yield Event(None, "No time", "started", {})
        while True:
            time.sleep(0.01)


def test_file_timeout_abandons_one_file_and_keeps_going(cli, recycle_tree, tmp_path):
    defs = one_artifact(tmp_path, recycle_tree, "Slow", "test_never_ends", "slow.bin")
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--artifacts", defs,
                 "--file-timeout", "0.3", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["per_artifact"]["RecycleBin"] == 2  # the rest of the run went on
    assert summary["per_artifact"]["Slow"] == 1  # what came before the timeout is kept
    db = sqlite3.connect(tmp_path / "c" / "case.sqlite")
    (message,) = db.execute("SELECT message FROM errors WHERE artifact = 'Slow'").fetchone()
    assert "gave up after 0.3 s (--file-timeout)" in message


@register
class _HungryForTests(Extractor):
    """Test-only extractor that keeps allocating, as a decompression bomb would."""

    name = "test_eats_memory"
    family = "test"

    def extract(self, f, ctx):
        yield Event(None, "No time", "started", {})
        hoard = []
        for _ in range(4000):  # up to 4 GiB if nothing stops it
            hoard.append(bytearray(1024 * 1024))
            time.sleep(0.001)


def test_file_memory_abandons_one_file_and_keeps_going(cli, recycle_tree, tmp_path):
    from triage.limits import MemoryGuard

    if not MemoryGuard(1).active:
        import pytest
        pytest.skip("no /proc resident-memory reading here")
    defs = one_artifact(tmp_path, recycle_tree, "Hungry", "test_eats_memory", "bomb.bin")
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--artifacts", defs,
                 "--file-memory", "64", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["per_artifact"]["RecycleBin"] == 2 and summary["per_artifact"]["Hungry"] == 1
    db = sqlite3.connect(tmp_path / "c" / "case.sqlite")
    (message,) = db.execute("SELECT message FROM errors WHERE artifact = 'Hungry'").fetchone()
    assert "memory grew by more than 64 MiB (--file-memory)" in message
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["file_memory"] == 64 * 1024 * 1024


def test_max_file_size_records_and_skips(cli, recycle_tree, tmp_path):
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--max-file-size", "100", "--json")
    summary = json.loads(result.output)
    assert result.exit_code == 1
    assert summary["per_artifact"]["RecycleBin"] == 1  # the 544-byte v1 $I is over the limit
    db = sqlite3.connect(tmp_path / "c" / "case.sqlite")
    rows = db.execute("SELECT status, error FROM sources WHERE status = 'skipped'").fetchall()
    assert len(rows) == 1 and "over the 100-byte limit" in rows[0][1]


class _Spec:
    def __init__(self, location=None):
        self.location = location
        self.type_indicator = None


class _Node:
    def __init__(self, type_indicator, location=None, subs=(), fs=False, vsroot=False):
        self.type_indicator = type_indicator
        self.path_spec = _Spec(location)
        self.sub_nodes = list(subs)
        self._fs, self._vsroot = fs, vsroot

    def IsFileSystem(self):
        return self._fs

    def IsVolumeSystemRoot(self):
        return self._vsroot


class _ScanContext:
    def __init__(self, locked):
        self.locked = set(locked)

    def IsLockedScanNode(self, spec):
        return spec in self.locked


class _Scanner:
    """Unlocks only with the right recovery password, as dfVFS's SourceScanner would."""

    def __init__(self, context):
        self.context = context
        self.tried = []

    def Unlock(self, scan_context, spec, kind, data):
        self.tried.append((kind, data))
        if (kind, data) == ("recovery_password", "111111-222222"):
            scan_context.locked.discard(spec)
            return True
        return False

    def Scan(self, scan_context, scan_path_spec=None):
        pass


def _walk(options):
    bde = _Node(definitions.TYPE_INDICATOR_BDE, subs=[_Node("NTFS", fs=True)])
    context = _ScanContext([bde.path_spec])
    scanner = _Scanner(context)
    evidence = Evidence(path="disk.raw", kind="image")
    walker = _Walker(scanner, context, options, evidence, ctx=None)
    walker._file_system = lambda spec, volume: evidence.volumes.append(volume)  # no real FS here
    walker.walk(bde, Volume(id="p2", partition="p2"))
    return evidence, scanner


def test_locked_bitlocker_volume_is_reported_and_skipped():
    evidence, scanner = _walk(SourceOptions(password="wrong"))
    (volume,) = evidence.volumes
    assert volume.encryption == "BitLocker"
    assert volume.status == "skipped: encrypted volume locked (no or wrong key given)"
    assert volume.note == "the keys given did not unlock it"
    assert scanner.tried == [("password", "wrong")]
    evidence, _ = _walk(SourceOptions())
    assert "give --recovery-password" in evidence.volumes[0].note


def test_bitlocker_volume_unlocked_with_recovery_password():
    evidence, scanner = _walk(SourceOptions(recovery_password="111111-222222", password="x"))
    (volume,) = evidence.volumes
    assert volume.status == "processed" and volume.encryption == "BitLocker"
    assert scanner.tried[0] == ("recovery_password", "111111-222222")
