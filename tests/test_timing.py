"""Per-stage timings in the run summary: every stage named, extraction split per family."""
from __future__ import annotations

import json

from conftest import FIXTURE_IMAGES

from triage.timing import StageTimes

STAGES = ("definitions and rules", "open evidence", "system facts", "collect",
          "read and hash", "timeline order and chain", "analyses", "rules", "outputs", "report")


def _timings(cli, tmp_path, *extra):
    result = cli("run", FIXTURE_IMAGES / "win-mbr.raw", "-o", tmp_path / "case", "--json", *extra)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    return summary, summary["timings"]


def test_summary_names_every_stage_and_family(cli, tmp_path):
    summary, timings = _timings(cli, tmp_path)
    for stage in STAGES:
        assert stage in timings, stage
    families = {k.split(":", 1)[1] for k in timings if k.startswith("extract:")}
    produced = {row["family"] for row in map(json.loads, open(tmp_path / "case" / "timeline.jsonl"))}
    assert produced <= families
    for figures in timings.values():
        assert figures["wall_s"] >= 0 and figures["cpu_s"] >= 0
    # the stages are part of the run: together they cannot exceed its duration by much
    assert sum(f["wall_s"] for f in timings.values()) <= summary["duration_s"] + 1.0


def test_worker_timings_are_merged(cli, tmp_path):
    _, timings = _timings(cli, tmp_path, "--workers", "2")
    assert any(k.startswith("extract:registry") for k in timings)
    assert timings["read and hash"]["cpu_s"] >= 0


def test_stage_times_accumulate_and_merge():
    times = StageTimes()
    times.add("a", 1.0, 0.5)
    times.add("a", 0.5, 0.25)
    times.merge({"b": {"wall_s": 2.0, "cpu_s": 1.0}, "a": {"wall_s": 1.0, "cpu_s": 0.0}})
    assert times.to_dict() == {"a": {"wall_s": 2.5, "cpu_s": 0.75},
                               "b": {"wall_s": 2.0, "cpu_s": 1.0}}
    with times.stage("c"):
        pass
    assert list(times.to_dict()) == ["a", "b", "c"]
