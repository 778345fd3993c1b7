"""The collector settings of an extraction: applied once, cycles still collected.

Each check runs in a fresh interpreter: the settings are process-wide."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_settings_applied_once() -> None:
    found = _python(
        "import gc, json\n"
        "from triage import gc_policy\n"
        "before = gc.get_threshold()\n"
        "gc_policy.tune_for_extraction()\n"
        "frozen = gc.get_freeze_count()\n"
        "junk = [[] for _ in range(1000)]\n"
        "gc_policy.tune_for_extraction()\n"
        "print(json.dumps({'before': before, 'after': gc.get_threshold(), 'frozen': frozen,\n"
        "                  'frozen_again': gc.get_freeze_count()}))\n")
    assert found["after"][0] == 50_000
    assert found["after"][1:] == found["before"][1:]
    assert found["frozen"] > 1000  # the modules start-up imported
    assert found["frozen_again"] == found["frozen"]  # the second call froze nothing more


def test_cycles_still_collected() -> None:
    found = _python(
        "import gc, json, weakref\n"
        "from triage import gc_policy\n"
        "gc_policy.tune_for_extraction()\n"
        "class Node: pass\n"
        "a, b = Node(), Node()\n"
        "a.other, b.other = b, a\n"
        "gone = []\n"
        "weakref.finalize(a, gone.append, True)\n"
        "del a, b\n"
        "for _ in range(3): keep = [{} for _ in range(60_000)]\n"
        "print(json.dumps({'gone': bool(gone)}))\n")
    assert found["gone"]


def test_a_run_applies_them(tmp_path: Path) -> None:
    """The engine tunes the collector as a run starts (the shipped fixture image)."""
    image = ROOT / "fixtures" / "images" / "win-mbr.raw"
    found = _python(
        "import gc, json\n"
        "from triage.engine import run\n"
        "from triage.progress import make_reporter\n"
        "from triage.engine import RunOptions\n"
        "assert gc.get_threshold()[0] != 50_000\n"
        f"options = RunOptions(evidence={str(image)!r}, case_dir={str(tmp_path / 'case')!r})\n"
        "run(options, make_reporter(True))\n"
        "print(json.dumps({'young': gc.get_threshold()[0], 'frozen': gc.get_freeze_count()}))\n")
    assert found["young"] == 50_000
    assert found["frozen"] > 0
