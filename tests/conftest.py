"""Shared test helpers: a small system-like folder built from scratch, and a CLI runner."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures.builders.recycle_writer import build_i_file
from triage.cli import main

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_IMAGES = ROOT / "fixtures" / "images"
SAMPLES = ROOT.parent / "shared" / "samples"

ALICE = "S-1-5-21-1111111111-2222222222-3333333333-1001"
BOB = "S-1-5-21-1111111111-2222222222-3333333333-1002"
# 2026-03-02T01:02:03.1234567Z as FILETIME
FT_1 = 134168869231234567
FT_2 = FT_1 + 36_000_000_000  # one hour later


def samples(*parts: str) -> Path:
    path = SAMPLES.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared sample {path} absent")
    return path


def make_recycle_tree(root: Path, corrupt: bool = False) -> Path:
    """A directory laid out like a system drive with a Recycle Bin for two users."""
    alice = root / "$Recycle.Bin" / ALICE
    bob = root / "$Recycle.Bin" / BOB
    alice.mkdir(parents=True)
    bob.mkdir(parents=True)
    (root / "Users" / "alice").mkdir(parents=True)
    (alice / "$IAAAAAA.csv").write_bytes(build_i_file("C:\\Users\\alice\\顧客.csv", 12, FT_1))
    (alice / "$RAAAAAA.csv").write_bytes(b"customer-list")
    (bob / "$IBBBBBB.txt").write_bytes(build_i_file("C:\\Users\\bob\\notes.txt", 5, FT_2, version=1))
    if corrupt:
        (bob / "$ICORRUPT.txt").write_bytes(b"\x07\x00\x00\x00garbage")
    return root


@pytest.fixture
def recycle_tree(tmp_path: Path) -> Path:
    return make_recycle_tree(tmp_path / "evidence")


@pytest.fixture
def cli():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(main, [str(a) for a in args], catch_exceptions=False)

    return invoke


def read_jsonl(case: Path) -> list[dict]:
    with open(case / "timeline.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def one_artifact(tmp_path: Path, evidence: Path, name: str, extractor: str, file: str) -> Path:
    """A definitions folder with one artifact `name` read by `extractor` from
    /Users/*/`file`, and that file (one byte) in alice's profile of `evidence`: for tests of
    what the engine does around an extractor. Returns the folder (for --artifacts)."""
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / f"{name.lower()}.yaml").write_text(
        f"name: {name}\nfamily: test\nextractor: {extractor}\npaths: [/Users/*/{file}]\n")
    (evidence / "Users" / "alice" / file).write_bytes(b"x")
    return defs


def tree_digest(path: Path) -> dict[str, str]:
    """SHA-256 of every file under path (or of path itself): to prove evidence is unchanged."""
    import hashlib

    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


__all__ = ["os"]
