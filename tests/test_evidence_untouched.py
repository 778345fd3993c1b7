"""The evidence is never modified: every fixture file is hashed before and after every command
that reads evidence has run over it."""
from __future__ import annotations

import hashlib
import os

import pytest

from conftest import FIXTURE_IMAGES, ROOT

FIXTURES = ROOT / "fixtures"


def _state(root):
    """SHA-256, size, mode and modification time of every file under root."""
    out = {}
    for folder, _, files in os.walk(root):
        if "__pycache__" in folder:
            continue
        for name in files:
            path = os.path.join(folder, name)
            st = os.stat(path)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            out[os.path.relpath(path, root)] = (digest, st.st_size, st.st_mode, st.st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def before():
    return _state(FIXTURES)


# every image once, by its first file (split sets by .E01 / .raw.001)
IMAGES = sorted(p.name for p in FIXTURE_IMAGES.iterdir()
                if p.suffix.lower() in (".raw", ".e01", ".vmdk", ".vhd", ".vhdx", ".qcow2")
                or p.name.lower().endswith(".raw.001"))


@pytest.mark.parametrize("name", IMAGES)
def test_run_on_every_fixture_image(before, cli, tmp_path, name):
    result = cli("run", FIXTURE_IMAGES / name, "-o", tmp_path / "case", "--quiet",
                 "--hash-evidence", "--vss", "all")
    assert result.exit_code in (0, 1), result.output


def test_other_commands_and_folder_evidence(before, cli, tmp_path):
    artifacts = FIXTURES / "artifacts"
    assert cli("run", artifacts, "-o", tmp_path / "dir", "--quiet").exit_code in (0, 1)
    for name in ("win-mbr.raw", "usb-fat32.raw", "win.E01"):
        assert cli("info", FIXTURE_IMAGES / name).exit_code == 0
    assert cli("recover", FIXTURE_IMAGES / "usb-fat32.raw", "-o", tmp_path / "rec",
               "-q").exit_code in (0, 1)
    assert cli("recover", FIXTURE_IMAGES / "win-mbr.raw", "-o", tmp_path / "rec2",
               "-q").exit_code in (0, 1)
    assert cli("attachments", FIXTURE_IMAGES / "win.E01", "-o", tmp_path / "att",
               "-q").exit_code in (0, 1)


def test_every_fixture_file_is_unchanged(before):
    # runs last in this module (pytest keeps file order); `before` was taken by the first test
    assert _state(FIXTURES) == before
