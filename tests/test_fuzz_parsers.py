"""Every parser fuzzed for a bounded number of mutated inputs (the CI part of fuzz/).

Each target of fuzz/targets.py gets EXAMPLES inputs (FUZZ_EXAMPLES overrides), drawn
derandomized so CI is reproducible, from its seeds (built fixtures; the shared samples up to
128 KiB when present). The property (fuzz/harness.py): events or the target's expected error,
nothing else; valid events; within the deadline and the memory bound. A failure shrinks to a
few mutation operations, printed with the traceback. The long run is fuzz/run_fuzz.py.
"""
from __future__ import annotations

import os
import pkgutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402

from fuzz import seeds as S  # noqa: E402
from fuzz import targets as T  # noqa: E402
from fuzz.mutators import Op, Plan, apply, hot_offsets, plans  # noqa: E402
from triage.extractors import load_extractors  # noqa: E402

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# Parser modules that are not extractors: each must have a row in the table.
PARSER_MODULES = ("triage.ntfs_mft", "triage.fatfs", "triage.registry.hive",
                  "triage.shellitems", "triage.extractors._sqlite", "triage.usb_ids",
                  "triage.datalists", "triage.detection.rules")


def test_every_extractor_has_a_fuzz_target():
    report = load_extractors()
    missing = sorted(name for name, cls in report.extractors.items()
                     if cls.__module__.startswith("triage.") and name not in T.TARGETS)
    assert not missing, f"extractors without a fuzz target in fuzz/targets.py: {missing}"
    for name, cls in report.extractors.items():
        if name in T.TARGETS:
            assert T.TARGETS[name].kind == "extractor"
            assert T.TARGETS[name].module == cls.__module__


def test_every_extractor_module_has_a_fuzz_target():
    import triage.extractors as package

    modules = {f"triage.extractors.{m.name}" for m in pkgutil.iter_modules(package.__path__)
               if not m.name.startswith("_")}
    missing = sorted(modules - T.extractor_modules())
    assert not missing, f"extractor modules without a fuzz target in fuzz/targets.py: {missing}"


def test_every_parser_module_has_a_fuzz_target():
    covered = {t.module for t in T.TARGETS.values()}
    assert set(PARSER_MODULES) <= covered, sorted(set(PARSER_MODULES) - covered)


def test_every_target_has_seeds_that_parse():
    """Unmutated seeds must go through: a seed the parser rejects fuzzes nothing behind it."""
    for name, target in T.TARGETS.items():
        seeds = target.seed_list(S.CI_SAMPLE_LIMIT)
        assert seeds, name
        for index, seed in enumerate(seeds):
            if name == "pst" and seed.origin == "built":
                continue  # the header-only stand-in is meant to be rejected
            outcome, _ = T.run_plan(target, seeds, Plan(index, ()), deadline=30)
            assert not outcome.failed, (name, seed.label, outcome.trace)
            assert outcome.expected_error is None, (name, seed.label, outcome.expected_error)


def test_mutations_do_what_they_say():
    data = bytes(range(16))
    assert apply(data, [Op("flip", 1, value=0)])[1] == 0
    assert apply(data, [Op("truncate", 5)]) == data[:5]
    assert apply(data, [Op("zero", 2, size=3)])[2:5] == b"\0\0\0"
    assert apply(data, [Op("insert", 0, blob=b"ab")])[:2] == b"ab"
    assert apply(data, [Op("insert", 16, size=3, value=7)])[-3:] == b"\7\7\7"
    assert apply(data, [Op("absurd", 5, size=4, value=0xFFFFFFFF)])[4:8] == b"\xff" * 4
    assert apply(data, [Op("absurd", 0, size=2, value=2**63 - 1)])[:2] == b"\xff\xff"
    assert apply(data, [Op("duplicate", 0, size=2, src=4)])[:3] == bytes([4, 5, 0])
    assert apply(data, [Op("splice", 0, size=2, src=4)]) == bytes([4, 5]) + data[2:]
    assert apply(b"", [Op("flip", 3), Op("splice", 2, size=4)]) == b""
    assert hot_offsets(bytes(1024) + b"x" + bytes(1023)) == [1024]


def test_the_property_catches_what_it_must():
    from fuzz.harness import run_input
    from triage.extractors import ExtractionContext
    from triage.model import ArtifactError, Event, Timestamp

    def events(*items):
        return lambda: iter(items)

    def raising(exc):
        def call():
            raise exc
        return call

    ok = Event(Timestamp(0), "Created", "fine", {"raw": b"\x00", "when": Timestamp(5)})
    assert not run_input(events(ok), (ArtifactError,)).failed
    assert run_input(raising(ArtifactError("bad")), (ArtifactError,)).expected_error
    assert run_input(raising(IndexError("x")), (ArtifactError,)).site.startswith("IndexError")
    too_late = Event(Timestamp(253_402_300_800 * 10**9), "Created", "year 10000")
    assert "outside 1601..9999" in run_input(events(too_late), (ArtifactError,)).failure
    assert run_input(events("not an event"), (ArtifactError,)).failed
    odd_value = Event(None, "x", "y", {"k": object()})  # json_safe stores it as text
    assert not run_input(events(odd_value), (ArtifactError,)).failed

    def forever():
        while True:
            pass
    assert run_input(forever, (), deadline=0.2).site == "InputTimeout: deadline"

    def hungry():
        block = bytearray(40 << 20)
        return [len(block)]
    assert run_input(hungry, (), memory_limit=16 << 20, events_only=False).site == \
        "PropertyViolation: memory bound"
    ctx = ExtractionContext()
    ctx.error("registry plugin office_mru: IndexError: list index out of range")
    assert "hidden crash" in run_input(events(), (ArtifactError,), ctx).failure


@pytest.mark.parametrize("name", sorted(T.TARGETS))
def test_fuzz(name):
    target = T.get(name)
    seeds = target.seed_list(S.CI_SAMPLE_LIMIT)
    hot = [hot_offsets(seed.target_bytes()) for seed in seeds]

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), print_blob=False)
    @given(plan=plans(hot))
    def check(plan: Plan) -> None:
        outcome, data = T.run_plan(target, seeds, plan)
        if outcome.failed:
            seed = seeds[plan.seed]
            raise AssertionError(
                f"{name}: {outcome.site}\n{outcome.failure}\nseed {seed.label!r} "
                f"({seed.mutate or 'main file'} mutated, {len(data)} bytes): "
                f"{plan.describe()}\n{outcome.trace}")

    check()
