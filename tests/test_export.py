"""`triage export`: every format from a fixture case, the filters, formula neutralisation, the
xlsx workbook read back with openpyxl, the body file line format, and the manifest (an export
inside the case keeps `triage verify` passing; one outside prints its SHA-256)."""
from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib.util
import json
import re
import shutil
import sys
import zoneinfo
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from test_report import FIXTURE_E01, make_hostile_evidence, run_case  # noqa: E402
from triage.cli import main  # noqa: E402
from triage.cli_report import export_command  # noqa: E402
from triage.export import (CSV_COLUMNS, DEFAULT_NAMES, FORMATS, body_field, body_line,  # noqa: E402
                           export, export_with_stats, neutralise, parse_time)
from triage.outputs import csv_timeline  # noqa: E402

FORMULA = ("=", "+", "-", "@", "\t", "\r")
BODY_LINE = re.compile(r"^0\|[^|\n]*\|\d+\|0\|0\|0\|\d+\|-?\d+\|-?\d+\|-?\d+\|-?\d+$")


@pytest.fixture(scope="module")
def image_case(tmp_path_factory) -> Path:
    return run_case(FIXTURE_E01, tmp_path_factory.mktemp("export") / "case")


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile-export")
    return run_case(make_hostile_evidence(base / "evidence"), base / "case")


def jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


# ------------------------------------------------------------------ formats


def test_csv_and_jsonl_are_the_timeline_files(image_case, tmp_path):
    assert CSV_COLUMNS == csv_timeline.COLUMNS
    assert export(str(image_case), "jsonl", str(tmp_path / "t.jsonl")) == len(jsonl(image_case / "timeline.jsonl"))
    assert (tmp_path / "t.jsonl").read_bytes() == (image_case / "timeline.jsonl").read_bytes()
    count = export(str(image_case), "csv", str(tmp_path / "t.csv"))
    with open(tmp_path / "t.csv", encoding="utf-8", newline="") as mine, \
            open(image_case / "timeline.csv", encoding="utf-8", newline="") as theirs:
        ours, case = list(csv.reader(mine)), list(csv.reader(theirs))
    assert len(ours) == count + 1 and ours[0] == list(CSV_COLUMNS)
    assert [[neutralise(c) for c in row] for row in case] == ours  # the same rows, made safe
    tagged = [r for r in jsonl(tmp_path / "t.jsonl") if r["tags"]]
    assert {t for r in tagged for t in r["tags"]} >= {"TRIAGE-DEL-001", "TRIAGE-EXE-001"}


def test_timesketch_records(image_case, tmp_path):
    out = tmp_path / "ts.jsonl"
    stats = export_with_stats(str(image_case), "timesketch", str(out))
    records = jsonl(out)
    events = jsonl(image_case / "timeline.jsonl")
    untimed = sum(1 for e in events if e["timestamp"] is None)
    assert untimed and stats.skipped_untimed == untimed and stats.written == len(records) == len(events) - untimed
    for record in records:
        assert list(record)[:4] == ["message", "datetime", "timestamp_desc", "timestamp"]
        assert isinstance(record["timestamp"], int) and record["datetime"].endswith("+00:00")
        assert all(not isinstance(v, dict) for v in record.values())  # flat
    seven_z = next(r for r in records if r["message"].startswith("7Z.EXE run"))
    assert seven_z["datetime"] == "2026-03-11T05:58:29.500000+00:00"
    assert seven_z["timestamp"] == 1773208709500000
    assert seven_z["triage_timestamp"] == "2026-03-11T05:58:29.5000000Z"
    assert seven_z["data_executable"] == "7Z.EXE" and seven_z["data_run_count"] == 1
    assert "TRIAGE-EXE-001" in seven_z["tag"] and seven_z["artifact"] == "WindowsPrefetch"
    assert isinstance(seven_z["data_files"], list)  # a list of texts stays a list


def test_bodyfile(image_case, tmp_path):
    out = tmp_path / "case.body"
    stats = export_with_stats(str(image_case), "bodyfile", str(out))
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == stats.written and stats.skipped_untimed > 0
    for line in lines:
        assert BODY_LINE.match(line), line
        assert sum(1 for t in line.split("|")[7:] if t != "0") == 1  # one time per event
    fields = {name: i for i, name in enumerate(("md5", "name", "inode", "mode", "uid", "gid", "size",
                                                 "atime", "mtime", "ctime", "crtime"))}

    def line_of(text: str) -> list[str]:
        return next(l for l in lines if text in l).split("|")

    run = line_of("[WindowsPrefetch] 7Z.EXE run (1 time in total; last run)")
    assert run[fields["atime"]] == "1773208709" and run[fields["mtime"]] == "0"
    deleted = line_of("payroll_2025.csv sent to the Recycle Bin")
    assert deleted[fields["mtime"]] == "1773209702" and deleted[fields["size"]] == "397"
    assert deleted[fields["inode"]] != "0"  # the $I file's MFT entry
    created = line_of("referenced by 7Z.EXE Prefetch")  # "Volume Created"
    assert created[fields["crtime"]] != "0"


def test_body_field_and_escaping():
    assert body_field("Target Modified") == "mtime"
    assert body_field("Key Last Written") == "mtime"
    assert body_field("Target Accessed") == "atime"
    assert body_field("Last Run") == "atime" and body_field("Previous Run") == "atime"
    assert body_field("Visited") == "atime" and body_field("Last Visited") == "atime"
    assert body_field("File Created") == "crtime" and body_field("Volume Created") == "crtime"
    assert body_field("Metadata Changed") == "ctime"
    assert body_field("Deleted") == "mtime" and body_field(None) == "mtime"
    row = {"timestamp": "1970-01-01T00:00:10.9Z", "timestamp_desc": "Last Run", "artifact": "A|B",
           "message": "x|y\nz", "inode": None, "data": '{"size": 5}'}
    assert body_line(row) == "0|[A%7CB] x%7Cy z|0|0|0|0|5|10|0|0|0"
    assert body_line(dict(row, timestamp=None)) is None


def test_xlsx_workbook(image_case, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "case.xlsx"
    stats = export_with_stats(str(image_case), "xlsx", str(out))
    events = jsonl(image_case / "timeline.jsonl")
    families = sorted({e["family"] for e in events})
    assert stats.sheets == families + ["Findings", "USB devices"]
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == stats.sheets
    tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
    rows_seen = 0
    for name in stats.sheets:
        ws = wb[name]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref == f"A1:{ws.cell(1, ws.max_column).column_letter}{ws.max_row}"
        assert all(c.font.b for c in ws[1])
    for family in families:
        ws = wb[family]
        header = [c.value for c in ws[1]]
        assert header[0] == "time (Asia/Tokyo)" and header[1] == "timestamp (UTC, full precision)"
        for row in ws.iter_rows(min_row=2):
            rows_seen += 1
            local, utc_text = row[0], row[1].value
            if not utc_text:
                assert local.value is None
                continue
            assert local.is_date and isinstance(local.value, dt.datetime) and local.value.tzinfo is None
            assert local.number_format == "yyyy-mm-dd hh:mm:ss.000"
            expected = dt.datetime.strptime(utc_text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
            assert local.value.replace(microsecond=0) == expected.astimezone(tokyo).replace(tzinfo=None)
    assert rows_seen == len(events) == stats.written
    deleted = [r for r in wb["deleted"].iter_rows(min_row=2, values_only=True) if "payroll" in r[3]]
    assert deleted[0][1] == "2026-03-11T06:15:02.2000000Z"  # seven digits kept as text
    assert deleted[0][0] == dt.datetime(2026, 3, 11, 15, 15, 2, 200000)
    findings = list(wb["Findings"].iter_rows(min_row=2, values_only=True))
    assert {f[2] for f in findings} >= {"TRIAGE-DEL-001", "TRIAGE-EXE-001"}
    devices = list(wb["USB devices"].iter_rows(min_row=2, values_only=True))
    assert devices[0][5] == "0022CFF6B8A7C2B1" and devices[0][9] == dt.datetime(2026, 2, 2, 12, 4, 11, 230000)
    utc = tmp_path / "utc.xlsx"
    export(str(image_case), "xlsx", str(utc), tz="UTC", family="deleted")
    wb = openpyxl.load_workbook(utc)
    assert wb.sheetnames == ["deleted", "Findings", "USB devices"]
    assert wb["deleted"]["A1"].value == "time (UTC)"
    assert wb["deleted"]["A2"].value == dt.datetime(2026, 1, 28, 9, 0, 0)


# ------------------------------------------------------------------ filters


def test_parse_time():
    base = parse_time("2026-03-11T06:15:02Z")
    assert base == 1773209702 * 10**9
    assert parse_time("2026-03-11T15:15:02+09:00") == base
    assert parse_time("2026-03-11 06:15:02") == base  # no offset: UTC
    assert parse_time("2026-03-11T06:15:02.2Z") == base + 200_000_000
    assert parse_time("2026-03-11T06:15:02.1234567Z") == base + 123_456_700
    assert parse_time("2026-03-11", end=True) == parse_time("2026-03-12") - 1
    assert parse_time("2026-03-11T06:15", end=True) == parse_time("2026-03-11T06:16") - 1
    assert parse_time("2026-03-11T06:15:02.2Z", end=True) == base + 299_999_999
    for bad in ("yesterday", "2026-13-01", "2026-03-11T25:00"):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_filters(image_case, tmp_path):
    events = jsonl(image_case / "timeline.jsonl")
    out = tmp_path / "f.jsonl"

    def run(**filters) -> list[dict]:
        count = export(str(image_case), "jsonl", str(out), **filters)
        records = jsonl(out)
        assert count == len(records)
        return records

    deleted = run(family="deleted")
    assert deleted and all(r["family"] == "deleted" for r in deleted)
    assert len(deleted) == sum(1 for e in events if e["family"] == "deleted")
    assert len(run(family=["deleted", "documents"])) == len(deleted) + sum(
        1 for e in events if e["family"] == "documents")
    assert {r["artifact"] for r in run(artifact="windowsprefetch")} == {"WindowsPrefetch"}  # any case
    bob = run(user="BOB")
    assert bob and all(r["user"] == "bob" for r in bob)
    assert [r["message"] for r in run(contains="PAYROLL")] == [
        e["message"] for e in events if "payroll" in e["message"].lower()]
    assert len(run(contains="取引先")) == 1
    # times: UTC unless an offset is given; both ends inclusive; untimed events never match
    window = run(start="2026-03-11T06:15:02.2Z", end="2026-03-11T15:16:40.7777777+09:00")
    assert [r["timestamp"] for r in window] == [e["timestamp"] for e in events if e["timestamp"]
                                                and "2026-03-11T06:15:02.2" <= e["timestamp"] <= "2026-03-11T06:16:40.7777777Z"]
    assert len(window) >= 2
    day = run(end="2026-01-28")
    assert day and all(r["timestamp"] and r["timestamp"] < "2026-01-29" for r in day)
    assert any(r["timestamp"].startswith("2026-01-28") for r in day)
    combined = run(start="2026-03-11", family="deleted", user="bob")
    assert combined and all(r["family"] == "deleted" and r["user"] == "bob" for r in combined)
    assert run(family="no-such-family") == []


# ------------------------------------------------------------------ formula neutralisation


def test_neutralise():
    for text in ("=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(text) == "'" + text
    for value in ("1+2", "a=b", "", "'=x", -5, 3.5, None):
        assert neutralise(value) == value


def test_formula_text_is_neutralised_in_csv_and_xlsx(hostile_case, tmp_path):
    csv_out = tmp_path / "h.csv"
    export(str(hostile_case), "csv", str(csv_out))
    with open(csv_out, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c.startswith(FORMULA)]
    assert any(c.startswith("'=1+2.docx") for c in cells) and any(c.startswith("'@SUM(A1)") for c in cells)
    assert any(c.startswith("'-cmd.xlsx") for c in cells)
    # JSONL keeps the text exactly
    export(str(hostile_case), "jsonl", str(tmp_path / "h.jsonl"))
    assert any(r["message"].startswith("=1+2.docx") for r in jsonl(tmp_path / "h.jsonl"))
    openpyxl = pytest.importorskip("openpyxl")
    xlsx_out = tmp_path / "h.xlsx"
    export(str(hostile_case), "xlsx", str(xlsx_out))
    wb = openpyxl.load_workbook(xlsx_out)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    assert not [t for t in texts if t.startswith(FORMULA)]
    assert "'+mallory" in texts or any(t.startswith("'=1+2.docx") for t in texts)
    assert any("<img src=x onerror=alert(1)>" in t for t in texts)  # text kept, not mangled


# ------------------------------------------------------------------ the command and the manifest


def test_export_inside_the_case_is_verified(image_case, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(image_case, case)
    runner = CliRunner()
    formats = [f for f in FORMATS if f != "xlsx" or importlib.util.find_spec("openpyxl")]
    for fmt in formats:
        result = runner.invoke(export_command, [str(case), "--format", fmt])
        assert result.exit_code == 0, result.output
        path = case / DEFAULT_NAMES[fmt]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in result.output and "registered in manifest.json" in result.output
        manifest = json.loads((case / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["outputs"][DEFAULT_NAMES[fmt]] == {"sha256": digest, "size": path.stat().st_size}
    filtered = runner.invoke(export_command, [str(case), "-f", "csv", "--family", "deleted", "--from",
                                              "2026-03-11T15:00:00+09:00", "--contains", "txt",
                                              "-o", str(case / "exports-deleted.csv")])
    assert filtered.exit_code == 0, filtered.output
    assert filtered.output.startswith("2 events written")
    manifest_sha = hashlib.sha256((case / "manifest.json").read_bytes()).hexdigest()
    assert manifest_sha in filtered.output
    verify = runner.invoke(main, ["verify", str(case), "--manifest-sha256", manifest_sha])
    assert verify.exit_code == 0, verify.output
    assert f"{3 + 1 + len(formats) + 1} files" in verify.output  # + report.html of the run
    (case / "export.csv").write_text("changed\n", encoding="utf-8")
    changed = runner.invoke(main, ["verify", str(case)])
    assert changed.exit_code == 4 and "export.csv" in changed.output


def test_export_outside_the_case_prints_its_hash(image_case, tmp_path):
    before = (image_case / "manifest.json").read_bytes()
    out = tmp_path / "out.timesketch.jsonl"
    result = CliRunner().invoke(export_command, [str(image_case), "-f", "timesketch", "-o", str(out),
                                                 "--user", "alice,bob"])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.output
    assert "not registered" in result.output
    assert (image_case / "manifest.json").read_bytes() == before
    assert {r["user"] for r in jsonl(out)} <= {"alice", "bob"}


def test_export_command_refusals(image_case, tmp_path):
    runner = CliRunner()
    for args, text in (
            (["-f", "csv", "-o", str(image_case / "timeline.csv")], "refusing"),
            (["-f", "jsonl", "-o", str(image_case / "manifest.json")], "refusing"),
            (["-f", "csv", "--from", "last week"], "ISO 8601"),
            (["-f", "xlsx", "--tz", "Nowhere/Nothing"], "time zone"),
            (["-f", "pdf"], "pdf")):
        result = runner.invoke(export_command, [str(image_case), *args])
        assert result.exit_code == 2, (args, result.output)
        assert text in result.output, (args, result.output)
    assert not list(image_case.glob("export*"))
    case = tmp_path / "case"
    shutil.copytree(image_case, case)
    with open(case / "timeline.jsonl", "a", encoding="utf-8") as handle:
        handle.write("{}\n")
    changed = runner.invoke(export_command, [str(case), "-f", "csv"])
    assert changed.exit_code == 4 and not (case / "export.csv").exists()
