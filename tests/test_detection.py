"""Detection rules: validation messages, match/threshold/sequence semantics, run and re-run."""
from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from conftest import ALICE, BOB, FT_1, read_jsonl
from fixtures.builders.recycle_writer import build_i_file
from triage.detection.rules import RuleError, load_rule_file, load_rules

MINUTE = 60 * 10**7  # FILETIME ticks


def write_rules(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "r.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return folder


def recycle_burst(root: Path, count: int, sid: str = BOB, step_minutes: int = 1) -> Path:
    folder = root / "$Recycle.Bin" / sid
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"$I{i:06d}.txt").write_bytes(
            build_i_file(f"C:\\Users\\bob\\Documents\\file{i}.txt", 10, FT_1 + i * step_minutes * MINUTE))
    return root


@pytest.mark.parametrize("body, message", [
    ("id: R1\ntitle: t\ndescription: d\nseverity: urgent\nmatch: {field: family, equals: x}\n",
     "r.yaml:1: rule 'R1': field 'severity': must be one of info, low, medium, high, critical"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nmatch:\n  all:\n    - {field: message, regex: '('}\n",
     "r.yaml:7: rule 'R1': field 'match.all[0].regex': invalid regular expression"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nmatch: {field: family, resembles: x}\n",
     "field 'match': exactly one operator"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nthreshold: {where: {field: a, exists: true}, count: 0, window: 1h}\n",
     "field 'threshold.count': must be a positive integer"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nthreshold: {where: {field: a, exists: true}, count: 3, window: soon}\n",
     "field 'threshold.window': not a duration"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nsequence: {steps: [{name: a, where: {field: x, exists: true}}], within: 1h}\n",
     "field 'sequence.steps': must be a list of two steps"),
    ("id: R1\ntitle: t\nseverity: low\nmatch: {field: family, equals: x}\n",
     "field 'description': required"),
    ("id: R1\ntitle: t\ndescription: d\nseverity: low\nmatch: {field: family, equals: x}\ncolour: red\n",
     "field 'colour': unknown field"),
])
def test_rule_errors_name_file_line_and_field(tmp_path, body, message):
    folder = write_rules(tmp_path / "rules", body)
    with pytest.raises(RuleError) as info:
        load_rule_file(folder / "r.yaml")
    assert message in str(info.value)


def test_shipped_rules_are_valid(cli):
    rules = load_rules()
    assert {"TRIAGE-EXE-001", "TRIAGE-DEL-001", "TRIAGE-DEL-002"} <= {r.id for r in rules}
    listed = json.loads(cli("rules", "list", "--json").output)
    assert all(r["severity"] in ("info", "low", "medium", "high", "critical") for r in listed)


def test_validate_command(cli, tmp_path):
    good = write_rules(tmp_path / "good", "id: X1\ntitle: t\ndescription: d\nseverity: info\n"
                                          "match: {field: family, equals: deleted}\n")
    result = cli("rules", "validate", good)
    assert result.exit_code == 0 and "1 rule(s) valid" in result.output
    bad = write_rules(tmp_path / "bad", "id: X1\ntitle: t\ndescription: d\nseverity: info\n")
    result = cli("rules", "validate", bad)
    assert result.exit_code == 2 and "exactly one of match, threshold, sequence" in result.output


def test_personal_data_deletion_fires_and_tags_its_event(cli, recycle_tree, tmp_path):
    case = tmp_path / "c"
    result = cli("run", recycle_tree, "-o", case, "--json")
    summary = json.loads(result.output)
    # bob's $I has no $R beside it: the bin was emptied of it (TRIAGE-DEL-004, medium)
    assert summary["findings"] == {"high": 1, "medium": 1}
    events = read_jsonl(case)
    tagged = [e for e in events if e["tags"]]
    assert [(e["data"]["original_path"], e["tags"]) for e in tagged] == [
        ("C:\\Users\\alice\\顧客.csv", ["TRIAGE-DEL-001"]),
        ("C:\\Users\\bob\\notes.txt", ["TRIAGE-DEL-004"])]
    db = sqlite3.connect(case / "case.sqlite")
    row = db.execute("SELECT rule_id, severity, first_time, last_time, event_count FROM findings "
                     "WHERE rule_id = 'TRIAGE-DEL-001'").fetchone()
    assert row == ("TRIAGE-DEL-001", "high", "2026-03-02T01:02:03.1234567Z",
                   "2026-03-02T01:02:03.1234567Z", 1)
    assert cli("verify", case).exit_code == 0


def test_threshold_fires_on_a_burst_and_not_on_a_trickle(cli, tmp_path):
    burst = recycle_burst(tmp_path / "burst", 25, step_minutes=0)
    trickle = recycle_burst(tmp_path / "trickle", 25, step_minutes=5)
    a = json.loads(cli("run", burst, "-o", tmp_path / "a", "--json").output)
    b = json.loads(cli("run", trickle, "-o", tmp_path / "b", "--json").output)
    def rules(summary):
        return {line.split("] ", 1)[1].split(" ", 1)[0] for line in summary["finding_list"]}

    assert "TRIAGE-DEL-002" in rules(a)
    assert any("25 events (at least 20 distinct data.original_path within 10m) for user = "
               in line for line in a["finding_list"])
    assert "TRIAGE-DEL-002" not in rules(b)


SEQUENCE = f"""\
id: SEQ-1
title: Deleted by alice then by bob
description: test sequence
severity: low
sequence:
  steps:
    - {{name: first, where: {{field: data.sid, equals: {ALICE}}}}}
    - {{name: then, where: {{field: data.sid, equals: {BOB}}}}}
  within: 2h
"""


def test_sequence_within_window(cli, recycle_tree, tmp_path):
    rules = write_rules(tmp_path / "rules", SEQUENCE)
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--rules", rules, "--no-builtin-rules", "--json")
    summary = json.loads(result.output)
    assert summary["finding_list"] == [
        "[low] SEQ-1 Deleted by alice then by bob: 'first' (1 event(s)) then 'then' within 2h"]
    short = write_rules(tmp_path / "short", SEQUENCE.replace("within: 2h", "within: 30m"))
    result = cli("run", recycle_tree, "-o", tmp_path / "d", "--rules", short, "--no-builtin-rules", "--json")
    assert json.loads(result.output)["findings"] == {}


def test_sequence_join_requires_equal_values(cli, recycle_tree, tmp_path):
    joined = SEQUENCE.replace("  within: 2h", "  within: 2h\n  join: {first: data.size, then: data.size}")
    rules = write_rules(tmp_path / "rules", joined)
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--rules", rules, "--no-builtin-rules", "--json")
    assert json.loads(result.output)["findings"] == {}  # sizes 12 and 5 differ


def test_rules_run_on_existing_case_then_verify(cli, recycle_tree, tmp_path):
    case = tmp_path / "c"
    assert cli("run", recycle_tree, "-o", case, "--no-builtin-rules", "--quiet").exit_code == 0
    assert all(e["tags"] == [] for e in read_jsonl(case))
    rules = write_rules(tmp_path / "rules", SEQUENCE)
    result = cli("rules", "run", case, "--rules", rules, "--json")
    assert result.exit_code == 0
    assert [f["rule"] for f in json.loads(result.output)["findings"]] == [
        "TRIAGE-DEL-001", "TRIAGE-DEL-004", "SEQ-1"]
    assert {tuple(e["tags"]) for e in read_jsonl(case)} == {("SEQ-1", "TRIAGE-DEL-001"),
                                                           ("SEQ-1", "TRIAGE-DEL-004")}
    manifest = json.loads((case / "manifest.json").read_text())
    assert len(manifest["rule_runs"]) == 1
    assert cli("verify", case).exit_code == 0
    (case / "timeline.csv").write_text("tampered")
    refused = cli("rules", "run", case)
    assert refused.exit_code == 2 and "does not verify" in refused.output


def test_rule_failing_at_run_time_is_recorded_and_skipped(cli, recycle_tree, tmp_path, monkeypatch):
    from triage.detection import engine

    real_equal = engine._equal

    def breaking(value, wanted, nocase):
        if wanted == "boom":
            raise TypeError("cannot compare")
        return real_equal(value, wanted, nocase)

    monkeypatch.setattr(engine, "_equal", breaking)
    bad = """\
id: BAD-1
title: breaks
description: breaks at run time
severity: low
match: {field: message, equals: boom}
"""
    rules = write_rules(tmp_path / "rules", bad)
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--rules", rules, "--json")
    summary = json.loads(result.output)
    assert summary["findings"] == {"high": 1, "medium": 1}  # the shipped rules still ran
    db = sqlite3.connect(tmp_path / "c" / "case.sqlite")
    assert db.execute("SELECT rule_id FROM rule_errors").fetchall() == [("BAD-1",)]
