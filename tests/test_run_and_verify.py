"""End to end through the CLI: run -> case folder -> verify, and tampering detected."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from conftest import ALICE, make_recycle_tree, read_jsonl, tree_digest

FIELDS = ["timestamp", "timestamp_desc", "artifact", "family", "extractor", "message", "user",
          "host", "source", "data", "event_hash", "tags"]


def run_case(cli, evidence: Path, case: Path, *extra: str):
    result = cli("run", evidence, "-o", case, "--quiet", *extra)
    return result


def test_run_writes_case_folder_with_contract_fields(cli, recycle_tree, tmp_path):
    case = tmp_path / "case1"
    before = tree_digest(recycle_tree)
    result = run_case(cli, recycle_tree, case, "--examiner", "Sato", "--case", "2026-042")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in case.iterdir()) == ["case.sqlite", "manifest.json", "report.html",
                                                      "timeline.csv", "timeline.jsonl"]
    events = read_jsonl(case)
    assert [list(e) for e in events] == [FIELDS, FIELDS]
    assert list(events[0]["source"]) == ["evidence", "volume", "path", "inode", "sha256"]
    first = events[0]
    assert first["timestamp"] == "2026-03-02T01:02:03.1234567Z"
    assert first["timestamp_desc"] == "Deleted"
    assert first["artifact"] == "RecycleBin" and first["family"] == "deleted"
    assert first["source"]["path"] == f"/$Recycle.Bin/{ALICE}/$IAAAAAA.csv"
    assert first["source"]["evidence"] == "evidence" and first["source"]["volume"] == "dir"
    assert first["data"]["original_path"] == "C:\\Users\\alice\\顧客.csv"
    assert first["data"]["r_present"] is True
    assert events[1]["timestamp"] == "2026-03-02T02:02:03.1234567Z"
    manifest = json.loads((case / "manifest.json").read_text())
    assert manifest["examiner"] == "Sato" and manifest["case_id"] == "2026-042"
    assert manifest["counts"]["events"] == 2
    assert set(manifest["outputs"]) == {"case.sqlite", "timeline.jsonl", "timeline.csv", "report.html"}
    # every artifact file read is hashed three ways with its provenance
    db = sqlite3.connect(case / "case.sqlite")
    rows = db.execute("SELECT path, md5, sha1, sha256, status FROM sources ORDER BY path").fetchall()
    assert len(rows) == 2 and all(len(r[1]) == 32 and len(r[2]) == 40 and len(r[3]) == 64 for r in rows)
    assert tree_digest(recycle_tree) == before  # evidence untouched
    verify = cli("verify", case)
    assert verify.exit_code == 0, verify.output
    assert "intact" in verify.output


def test_csv_is_timesketch_ready(cli, recycle_tree, tmp_path):
    import csv

    case = tmp_path / "c"
    assert run_case(cli, recycle_tree, case).exit_code == 0
    with open(case / "timeline.csv", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:4] == ["message", "datetime", "timestamp_desc", "timestamp"]
    assert rows[0]["datetime"] == "2026-03-02T01:02:03.1234567Z"
    assert rows[0]["timestamp"] == "1772413323123456"


def test_same_evidence_same_events_and_chain(cli, recycle_tree, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    assert run_case(cli, recycle_tree, a).exit_code == 0
    assert run_case(cli, recycle_tree, b).exit_code == 0
    assert (a / "timeline.jsonl").read_bytes() == (b / "timeline.jsonl").read_bytes()
    ma = json.loads((a / "manifest.json").read_text())
    mb = json.loads((b / "manifest.json").read_text())
    assert ma["timeline"]["chain_head"] == mb["timeline"]["chain_head"]


def test_verify_names_changed_jsonl_line(cli, recycle_tree, tmp_path):
    case = tmp_path / "c"
    assert run_case(cli, recycle_tree, case).exit_code == 0
    path = case / "timeline.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace("notes.txt", "notez.txt")
    path.write_text("".join(lines), encoding="utf-8")
    result = cli("verify", case)
    assert result.exit_code == 4
    assert "timeline.jsonl: SHA-256 differs" in result.output
    assert "timeline.jsonl: line 2: content does not match its event_hash" in result.output


def _tamper_db(case: Path, sql: str) -> None:
    db = sqlite3.connect(case / "case.sqlite")
    db.execute(sql)
    db.commit()
    db.close()


def test_verify_detects_changed_deleted_and_reordered_rows(cli, tmp_path):
    evidence = make_recycle_tree(tmp_path / "ev")
    base = tmp_path / "base"
    assert run_case(cli, evidence, base).exit_code == 0
    import shutil

    cases = {
        "changed": "UPDATE events SET message = 'nothing here' WHERE seq = 1",
        "deleted": "DELETE FROM events WHERE seq = 1",
        "reordered": "UPDATE events SET seq = CASE seq WHEN 1 THEN 2 ELSE 1 END",
    }
    expected = {
        "changed": "event 1: content does not match its event_hash",
        "deleted": "event sequence jumps from 0 to 2",
        "reordered": "out of timeline order",
    }
    for name, sql in cases.items():
        case = tmp_path / name
        shutil.copytree(base, case)
        if name == "reordered":
            _tamper_db(case, "UPDATE events SET seq = seq + 100")
            _tamper_db(case, "UPDATE events SET seq = CASE seq WHEN 101 THEN 2 ELSE 1 END")
        else:
            _tamper_db(case, sql)
        result = cli("verify", case)
        assert result.exit_code == 4, name
        assert "case.sqlite: SHA-256 differs" in result.output
        assert expected[name] in result.output, (name, result.output)


def test_verify_checks_manifest_hash_and_missing_files(cli, recycle_tree, tmp_path):
    case = tmp_path / "c"
    result = cli("run", recycle_tree, "-o", case, "--json")
    summary = json.loads(result.output)
    assert cli("verify", case, "--manifest-sha256", summary["manifest_sha256"]).exit_code == 0
    assert cli("verify", case, "--manifest-sha256", "0" * 64).exit_code == 4
    (case / "timeline.csv").unlink()
    result = cli("verify", case)
    assert result.exit_code == 4 and "timeline.csv: missing" in result.output


def test_corrupt_artifact_costs_that_file_only(cli, tmp_path):
    evidence = make_recycle_tree(tmp_path / "ev", corrupt=True)
    case = tmp_path / "c"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["events"] == 2 and summary["errors"] == 1
    db = sqlite3.connect(case / "case.sqlite")
    errors = db.execute("SELECT severity, artifact, path, message FROM errors").fetchall()
    assert len(errors) == 1
    assert errors[0][0] == "error" and errors[0][1] == "RecycleBin"
    assert errors[0][2].endswith("$ICORRUPT.txt")
    assert "Traceback" not in result.output
    assert cli("verify", case).exit_code == 0


def test_existing_case_refused_unless_force(cli, recycle_tree, tmp_path):
    case = tmp_path / "c"
    assert run_case(cli, recycle_tree, case).exit_code == 0
    result = run_case(cli, recycle_tree, case)
    assert result.exit_code == 2
    assert "already exists" in result.output
    assert run_case(cli, recycle_tree, case, "--force").exit_code == 0
    assert not (tmp_path / "c.partial").exists()


def test_bad_evidence_gets_one_line_and_exit_3(cli, tmp_path):
    missing = cli("run", tmp_path / "nope.E01", "-o", tmp_path / "c")
    assert missing.exit_code == 3
    assert missing.output.strip().startswith("triage: error: no such file")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(bytes(range(256)) * 64)
    result = cli("run", junk, "-o", tmp_path / "c2")
    assert result.exit_code == 3
    assert "and not a file that any artifact definition names" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "c2").exists()


def test_single_artifact_file_is_evidence(cli, recycle_tree, tmp_path):
    single = recycle_tree / "$Recycle.Bin" / ALICE / "$IAAAAAA.csv"
    case = tmp_path / "c"
    assert run_case(cli, single, case).exit_code == 0
    events = read_jsonl(case)
    assert len(events) == 1
    assert events[0]["source"]["volume"] == "file"
    assert events[0]["data"]["original_path"].endswith("顧客.csv")


def test_only_filters_by_name_or_family(cli, recycle_tree, tmp_path):
    result = cli("run", recycle_tree, "-o", tmp_path / "a", "--only", "execution", "--json")
    assert json.loads(result.output)["events"] == 0
    result = cli("run", recycle_tree, "-o", tmp_path / "b", "--only", "recyclebin", "--json")
    assert json.loads(result.output)["events"] == 2
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--only", "nosuch")
    assert result.exit_code == 2 and "no artifact or family named 'nosuch'" in result.output


def test_collected_folder_with_drive_letter(cli, tmp_path):
    root = tmp_path / "collected"
    make_recycle_tree(root / "C")
    result = cli("run", root, "-o", tmp_path / "c", "--json")
    summary = json.loads(result.output)
    assert summary["events"] == 2
    assert summary["volumes"][0]["id"] == "C"
