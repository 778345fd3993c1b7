"""`triage batch`: many fixture images in parallel into one lab folder.

The worker wrappers below (`hang_before_publish`) are module-level so that spawned worker
processes can import them by name: they stop one image just before its case folder would be
published, which is the moment a killed or interrupted run must not leave a case that looks
whole.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from triage.batch.lab import read_findings, read_index
from triage.batch.manifest import (assign_folders, is_first_image_file, load_items,
                                   parse_options, read_csv_manifest, read_yaml_manifest,
                                   scan_folder)
from triage.batch.runner import (BatchInterrupted, BatchListener, BatchOptions, run_batch,
                                 run_image)
from triage.cli_batch import batch_command
from triage.engine import RunOptions, UsageError, run
from triage.progress import Reporter
from triage.verify import verify_case

IMAGES = Path(__file__).resolve().parents[1] / "fixtures" / "images"
USB_SERIAL = "0022CFF6B8A7C2B1"           # KIOXIA stick in the system disk's registry
PAYROLL_SHA256 = "65cbb9719daf736c8b65793a3e0db6dc8387add031db7fd1b17a999078a0cdb6"  # recycled


# --- worker wrappers (imported by name in spawned workers) -----------------------------------
def hang_before_publish(task: dict) -> dict:
    """The image whose case id starts with 'hang' stops forever just before its rename."""
    if str(task.get("case_id", "")).startswith("hang"):
        from triage import engine

        def _never(self, work):  # the outputs are complete in CASE.partial; never renamed
            while True:
                time.sleep(1)

        engine.Run._publish = _never
    return run_image(task)


class Recorder(BatchListener):
    def __init__(self, on_progress=None):
        self.workers: dict[str, str] = {}
        self.done: list[str] = []
        self.on_progress = on_progress

    def started(self, row, message):
        self.workers[row["case_id"]] = message.get("worker") or ""

    def progress(self, row, message):
        if self.on_progress:
            self.on_progress(row, message)

    def finished(self, row):
        self.done.append(row["case_id"])


# --- helpers --------------------------------------------------------------------------------
def _link(folder: Path, name: str) -> Path:
    target = folder / name
    target.symlink_to(IMAGES / name)
    return target


def _broken_e01(path: Path) -> Path:
    """A truncated E01: recognised as EWF, unreadable: 'evidence unreadable'."""
    path.write_bytes((IMAGES / "win.E01").read_bytes()[:4096])
    return path


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _single_run(tmp: Path, name: str, **options) -> dict:
    case = tmp / f"single-{name}"
    summary = run(RunOptions(evidence=str(IMAGES / name), case_dir=str(case), **options),
                  Reporter())
    return {"chain_head": summary.chain_head, "events": summary.events,
            "timeline": _sha256(case / "timeline.jsonl")}


def _wait_for(predicate, timeout: float = 60.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


# --- the main batch: a folder of images, --jobs 2 -------------------------------------------
@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("batch")
    images = root / "images"
    images.mkdir()
    for name in ("win.E01", "win.vmdk", "usb-fat32.raw"):
        _link(images, name)
    _broken_e01(images / "broken.E01")
    (images / "notes.txt").write_text("not an image")
    lab_dir = root / "lab"
    result = run_batch(BatchOptions(source=str(images), lab_dir=str(lab_dir), jobs=2))
    return {"root": root, "images": images, "lab": lab_dir, "result": result}


def test_batch_statuses_and_exit_code(lab):
    rows = {r["case_id"]: r for r in lab["result"].rows}
    assert set(rows) == {"win-E01", "win-vmdk", "usb-fat32", "broken"}  # notes.txt skipped
    assert rows["win-E01"]["status"] == "ok"
    assert rows["win-vmdk"]["status"] == "ok"
    assert rows["usb-fat32"]["status"] in ("ok", "completed with errors")
    assert rows["broken"]["status"] == "evidence unreadable"
    assert "broken.E01" in rows["broken"]["error"]
    assert lab["result"].exit_code == 1  # one image could not be read
    cases = lab["lab"] / "cases"
    assert sorted(p.name for p in cases.iterdir()) == ["usb-fat32", "win-E01", "win-vmdk"]
    for name in ("usb-fat32", "win-E01", "win-vmdk"):
        assert verify_case(str(cases / name)).ok


def test_lab_index_sqlite_and_jsonl(lab):
    rows = {r["case_id"]: r for r in read_index(str(lab["lab"]))}
    assert len(rows) == 4
    e01 = rows["win-E01"]
    case = lab["lab"] / "cases" / "win-E01"
    manifest = json.loads((case / "manifest.json").read_text())
    assert e01["path"] == str(lab["images"] / "win.E01")
    assert e01["case_folder"] == "cases/win-E01"
    assert e01["events"] == manifest["counts"]["events"] > 0
    assert e01["errors"] == manifest["counts"]["errors"]
    assert e01["findings"] == manifest["counts"]["findings"]
    assert e01["chain_head"] == manifest["timeline"]["chain_head"]
    assert e01["manifest_sha256"] == _sha256(case / "manifest.json")
    assert e01["evidence_hashes"] == manifest["evidence"]["hashes"]
    assert e01["started"] and e01["finished"] and e01["duration_s"] > 0
    assert e01["resumed"] == 0 and e01["worker"]
    assert rows["broken"]["events"] is None and rows["broken"]["exit_code"] == 3
    # the case manifest records the equivalent `triage run` command line
    assert manifest["command_line"][:3] == ["triage", "run", str(lab["images"] / "win.E01")]
    assert manifest["case_id"] == "win-E01"

    lines = [json.loads(line) for line in (lab["lab"] / "lab.jsonl").read_text().splitlines()]
    assert sorted(line["case_id"] for line in lines) == sorted(rows)
    assert {line["case_id"]: line["status"] for line in lines} == \
        {k: r["status"] for k, r in rows.items()}
    assert not [p for p in lab["lab"].iterdir() if p.name.endswith(".tmp")]
    info = dict(sqlite3.connect(lab["lab"] / "lab.sqlite").execute("SELECT * FROM lab_info"))
    assert json.loads(info["jobs"]) == 2 and json.loads(info["counts"])["ok"] >= 2


def test_batch_chain_heads_equal_single_runs(lab, tmp_path):
    rows = {r["case_id"]: r for r in lab["result"].rows}
    for name, case_id in (("win.E01", "win-E01"), ("win.vmdk", "win-vmdk")):
        single = _single_run(tmp_path, name)
        case = lab["lab"] / "cases" / case_id
        assert rows[case_id]["chain_head"] == single["chain_head"]
        assert rows[case_id]["events"] == single["events"]
        assert _sha256(case / "timeline.jsonl") == single["timeline"]


def test_cross_image_findings(lab):
    findings = read_findings(str(lab["lab"]))
    by_key = {(f["kind"], f["value"]): f for f in findings}
    usb = by_key[("usb_serial", USB_SERIAL)]
    assert usb["images"] == ["win-E01", "win-vmdk"]
    assert "KIOXIA" in usb["details"]["label"]
    payroll = by_key[("file_sha256", PAYROLL_SHA256)]
    assert payroll["images"] == ["win-E01", "win-vmdk"]
    assert payroll["details"]["label"] == "payroll_2025.csv"
    seen = payroll["details"]["seen"]["win-E01"][0]
    assert "$Recycle.Bin" in seen["path"] and seen["original_path"].endswith("payroll_2025.csv")
    # both disks hold the same NTFS volume (serial ...9B2D4680): the same disk imaged twice
    assert by_key[("volume_serial", "9B2D4680")]["images"] == ["win-E01", "win-vmdk"]
    assert by_key[("host", "WS-ACCT-07")]["images"] == ["win-E01", "win-vmdk"]
    # alice and bob exist on one host only: no user_account finding
    assert not [f for f in findings if f["kind"] == "user_account"]
    # only user files: no system file (hives, Prefetch) makes a finding
    for f in findings:
        if f["kind"] == "file_sha256":
            for observations in f["details"]["seen"].values():
                for o in observations:
                    assert "/Users/" in o["path"] or "$Recycle.Bin" in o["path"]
    assert [f.kind for f in lab["result"].findings][:1] == ["usb_serial"]


def test_existing_cases_refused_without_resume(lab):
    with pytest.raises(UsageError, match="--resume"):
        run_batch(BatchOptions(source=str(lab["images"]), lab_dir=str(lab["lab"])))
    result = CliRunner().invoke(batch_command, [str(lab["images"]), "-o", str(lab["lab"])])
    assert result.exit_code == 2 and "already exist" in result.output


def test_resume_keeps_verified_cases_and_redoes_the_rest(lab, tmp_path):
    lab_dir = tmp_path / "lab"
    shutil.copytree(lab["lab"], lab_dir, symlinks=True)
    cases = lab_dir / "cases"
    # a changed case no longer verifies; a .partial is what an interrupted run leaves
    with open(cases / "win-vmdk" / "timeline.csv", "a", encoding="utf-8") as handle:
        handle.write("tampered\n")
    shutil.copytree(cases / "usb-fat32", cases / "win-E01.partial")
    before = _sha256(cases / "win-E01" / "manifest.json")
    result = run_batch(BatchOptions(source=str(lab["images"]), lab_dir=str(lab_dir),
                                    jobs=2, resume=True))
    rows = {r["case_id"]: r for r in result.rows}
    assert rows["win-E01"]["resumed"] and rows["usb-fat32"]["resumed"]
    assert rows["win-E01"]["status"] == "ok"
    assert _sha256(cases / "win-E01" / "manifest.json") == before  # untouched
    assert not (cases / "win-E01.partial").exists()
    assert not rows["win-vmdk"]["resumed"] and rows["win-vmdk"]["status"] == "ok"
    assert verify_case(str(cases / "win-vmdk")).ok
    first = {r["case_id"]: r for r in lab["result"].rows}
    assert rows["win-vmdk"]["chain_head"] == first["win-vmdk"]["chain_head"]
    assert rows["broken"]["status"] == "evidence unreadable"  # tried again
    assert any("win-vmdk" in p and "does not verify" in p for p in result.problems)
    indexed = {r["case_id"]: r for r in read_index(str(lab_dir))}
    assert indexed["win-E01"]["resumed"] == 1 and indexed["win-vmdk"]["resumed"] == 0
    assert ("usb_serial", USB_SERIAL) in {(f.kind, f.value) for f in result.findings}
    # a case made with other run options is not the one asked for: done again
    changed = run_batch(BatchOptions(source=str(lab["images"]), lab_dir=str(lab_dir), jobs=2,
                                     resume=True, options={"only": ["RecycleBin"]}))
    assert not any(r["resumed"] for r in changed.rows)
    assert any("win-E01" in p and "other options (only)" in p for p in changed.problems)
    assert json.loads((cases / "win-E01" / "manifest.json").read_text())["options"]["only"] == \
        ["RecycleBin"]


# --- a killed worker, a timeout, Ctrl-C -----------------------------------------------------
def _manifest(tmp_path: Path, rows: list[tuple[str, str]]) -> Path:
    path = tmp_path / "batch.csv"
    path.write_text("path,case_id\n" + "".join(f"{IMAGES / n},{c}\n" for n, c in rows))
    return path


def test_killed_worker_leaves_no_complete_looking_case(tmp_path):
    manifest = _manifest(tmp_path, [("win.E01", "hang-victim"), ("win.vmdk", "other")])
    lab_dir = tmp_path / "lab"
    recorder = Recorder()
    outcome: dict = {}

    def batch() -> None:
        outcome["result"] = run_batch(BatchOptions(source=str(manifest), lab_dir=str(lab_dir),
                                                   jobs=2), recorder, run=hang_before_publish)

    thread = threading.Thread(target=batch)
    thread.start()
    partial = lab_dir / "cases" / "hang-victim.partial"
    _wait_for(lambda: (partial / "manifest.json").exists() and "hang-victim" in recorder.workers)
    pid = int(recorder.workers["hang-victim"].rsplit(":", 1)[1])
    os.kill(pid, signal.SIGKILL)
    thread.join(60)
    assert not thread.is_alive()
    rows = {r["case_id"]: r for r in outcome["result"].rows}
    assert rows["hang-victim"]["status"] == "failed: worker process died (killed by SIGKILL)"
    assert rows["other"]["status"] == "ok"          # the image beside it is untouched
    assert not (lab_dir / "cases" / "hang-victim").exists()  # nothing that looks whole
    assert partial.exists()                          # the unfinished work, visibly unfinished
    assert outcome["result"].exit_code == 1
    # --resume removes the .partial and does the image again (this time without the hang)
    again = run_batch(BatchOptions(source=str(manifest), lab_dir=str(lab_dir), resume=True))
    rows = {r["case_id"]: r for r in again.rows}
    assert rows["other"]["resumed"] and rows["hang-victim"]["status"] == "ok"
    assert not partial.exists() and verify_case(str(lab_dir / "cases" / "hang-victim")).ok
    assert again.exit_code == 0


def test_image_timeout_stops_a_hanging_image(tmp_path):
    manifest = _manifest(tmp_path, [("win.E01", "hang-slow")])
    lab_dir = tmp_path / "lab"
    result = run_batch(BatchOptions(source=str(manifest), lab_dir=str(lab_dir), jobs=1,
                                    image_timeout=3), run=hang_before_publish)
    row = result.rows[0]
    assert row["status"].startswith("failed: timed out after 3 s (--image-timeout)")
    assert not (lab_dir / "cases" / "hang-slow").exists()
    assert result.exit_code == 3  # no image could be read
    assert read_index(str(lab_dir))[0]["status"] == row["status"]


def test_interrupt_marks_unfinished_images_and_keeps_no_half_case(tmp_path):
    manifest = _manifest(tmp_path, [("win.E01", "hang-int"), ("usb-fat32.raw", "later")])
    lab_dir = tmp_path / "lab"

    def ctrl_c(row, message):
        if row["case_id"] == "hang-int" and (lab_dir / "cases" / "hang-int.partial").exists():
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as stop:
        run_batch(BatchOptions(source=str(manifest), lab_dir=str(lab_dir), jobs=1),
                  Recorder(on_progress=ctrl_c), run=hang_before_publish)
    result = stop.value.result
    assert result.exit_code == 130
    statuses = {r["case_id"]: r["status"] for r in read_index(str(lab_dir))}
    assert statuses == {"hang-int": "interrupted", "later": "interrupted"}
    assert not (lab_dir / "cases" / "hang-int").exists()
    assert not (lab_dir / ".batch.lock").exists()


# --- manifests ------------------------------------------------------------------------------
def test_csv_manifest(tmp_path):
    (tmp_path / "rules").mkdir()
    path = tmp_path / "lab.csv"
    path.write_text(
        "path,case_id,examiner,custodian,options\n"
        "images/a.E01,EV-1,Sato,Tanaka,\"--only RecycleBin,WindowsPrefetch --vss all --evtx-all\"\n"
        "# a comment line\n"
        "\n"
        "/abs/b.vmdk,,,,\"{\"\"source_tz\"\": \"\"Asia/Tokyo\"\", \"\"rules\"\": \"\"rules\"\"}\"\n",
        encoding="utf-8")
    a, b = read_csv_manifest(str(path))
    assert a.path == str(tmp_path / "images" / "a.E01")
    assert (a.case_id, a.examiner, a.custodian) == ("EV-1", "Sato", "Tanaka")
    assert a.options == {"only": ["RecycleBin", "WindowsPrefetch"], "vss": "all", "evtx_all": True}
    assert b.path == "/abs/b.vmdk" and b.case_id is None
    assert b.options == {"source_tz": "Asia/Tokyo", "rules": [str(tmp_path / "rules")]}
    assert a.origin == f"{path}:2"


def test_yaml_manifest_with_defaults(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(
        "defaults:\n"
        "  examiner: Sato\n"
        "  options: {vss: all}\n"
        "images:\n"
        "  - path: a.E01\n"
        "    case_id: EV-1\n"
        "    custodian: Tanaka\n"
        "    options: {only: [RecycleBin], evtx_all: true, vss: none}\n"
        "  - b.vmdk\n", encoding="utf-8")
    a, b = read_yaml_manifest(str(path))
    assert (a.case_id, a.examiner, a.custodian) == ("EV-1", "Sato", "Tanaka")
    assert a.options == {"vss": "none", "only": ["RecycleBin"], "evtx_all": True}
    assert b.path == str(tmp_path / "b.vmdk") and b.options == {"vss": "all"}
    assert b.examiner == "Sato"


@pytest.mark.parametrize("text, message", [
    ("path,case_id\na.E01,X\nb.E01,x\n", "used twice"),
    ("case_id\nX\n", "no 'path' column"),
    ("path,options\na.E01,--no-such-thing 1\n", "unknown option '--no-such-thing'"),
    ("path,options\na.E01,--vss some\n", "'vss' must be one of none, all"),
    ("path,options\na.E01,--source-tz Mars/Base\n", "source_tz"),
    ("path,options\na.E01,--only\n", "--only needs a value"),
    ("path,colour\na.E01,red\n", "unknown field 'colour'"),
])
def test_manifest_errors_are_usage_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=message) as error:
        load_items(str(path), str(tmp_path / "lab"))
    assert str(path) in str(error.value)
    result = CliRunner().invoke(batch_command, [str(path), "-o", str(tmp_path / "lab")])
    assert result.exit_code == 2 and "triage: error:" in result.output


def test_unknown_artifact_in_options_is_refused_before_any_image(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(f"path,options\n{IMAGES / 'win.E01'},--only NoSuchArtifact\n")
    result = CliRunner().invoke(batch_command, [str(path), "-o", str(tmp_path / "lab")])
    assert result.exit_code == 2
    assert f"{path}:2: --only: no artifact or family named 'nosuchartifact'" in result.output
    assert not (tmp_path / "lab").exists()


def test_options_string_and_mapping_agree():
    text = parse_options("--only RecycleBin --only WindowsPrefetch --evtx-all --file-timeout=60 "
                         "--internal-domain example.com,example.org --no-builtin-rules", "/b")
    mapping = parse_options({"only": "RecycleBin,WindowsPrefetch", "evtx_all": "yes",
                             "file_timeout": 60, "internal_domains": ["example.com",
                                                                       "example.org"],
                             "no_builtin_rules": True}, "/b")
    assert text == mapping == {"only": ["RecycleBin", "WindowsPrefetch"], "evtx_all": True,
                               "file_timeout": 60.0, "no_builtin_rules": True,
                               "internal_domain": ["example.com", "example.org"]}


def test_folder_scan_takes_first_segments_only(tmp_path):
    names = ["a.E01", "a.E02", "a.E03", "b.raw.001", "b.raw.002", "c.vmdk", "c-flat.vmdk",
             "lone-flat.vmdk", "d.dd", "e.qcow2", "f.vhdx", "g.vhd", "h.img", "i.raw",
             "notes.txt", "hash.md5", ".hidden.E01", "sub/x.E01", "sub/x.E02", "lab/cases/y.raw"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    items = assign_folders(scan_folder(str(tmp_path), exclude=[str(tmp_path / "lab")]),
                           base=str(tmp_path))
    found = {os.path.relpath(i.path, tmp_path): i.folder for i in items}
    assert found == {"a.E01": "a", "b.raw.001": "b", "c.vmdk": "c", "lone-flat.vmdk": "lone-flat",
                     "d.dd": "d", "e.qcow2": "e", "f.vhdx": "f", "g.vhd": "g", "h.img": "h",
                     "i.raw": "i", os.path.join("sub", "x.E01"): "x"}
    assert not is_first_image_file("a.E02", set()) and is_first_image_file("A.e01", set())


def test_folder_names_never_collide():
    from triage.batch.manifest import BatchItem

    items = assign_folders([BatchItem(path="/ev/win.E01"), BatchItem(path="/ev/win.vmdk"),
                            BatchItem(path="/ev/usb.raw"), BatchItem(path="/ev/other.E01",
                                                                     case_id="win-vmdk")])
    assert [i.folder for i in items] == ["win-E01", "win-vmdk-2", "usb", "win-vmdk"]


def test_dask_worker_check_names_each_problem(tmp_path):
    from triage import __version__
    from triage.batch.dask_runner import check_workers

    class FakeClient:
        def run(self, function, evidence, cases_dir):
            return {"tcp://10.0.0.7:4000": {"version": "0.0.1", "unreadable": evidence,
                                            "lab_writable": False},
                    "tcp://10.0.0.8:4000": {"version": __version__, "unreadable": [],
                                            "lab_writable": True}}

    tasks = [{"evidence": str(IMAGES / "win.E01")}, {"evidence": str(tmp_path / "missing.E01")}]
    with pytest.raises(UsageError) as error:
        check_workers(FakeClient(), tasks, str(tmp_path))
    text = str(error.value)
    assert "tcp://10.0.0.7:4000 runs triage 0.0.1" in text
    assert f"cannot read {IMAGES / 'win.E01'}" in text and "missing.E01" not in text
    assert f"cannot write to {tmp_path}" in text and "10.0.0.8" not in text


# --- the command line -----------------------------------------------------------------------
def test_cli_yaml_manifest_with_options_json_summary(tmp_path):
    manifest = tmp_path / "lab.yaml"
    manifest.write_text(
        "images:\n"
        f"  - path: {IMAGES / 'win.qcow2'}\n"
        "    case_id: EV-7\n"
        "    examiner: Sato\n"
        "    custodian: Tanaka\n"
        "    options: --only RecycleBin\n", encoding="utf-8")
    lab_dir = tmp_path / "lab"
    result = CliRunner().invoke(batch_command, [str(manifest), "-o", str(lab_dir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["exit_code"] == 0 and summary["counts"]["ok"] == 1
    row = summary["images"][0]
    assert (row["case_id"], row["examiner"], row["custodian"]) == ("EV-7", "Sato", "Tanaka")
    assert row["options"] == {"only": ["RecycleBin"]}
    manifest_json = json.loads((lab_dir / "cases" / "EV-7" / "manifest.json").read_text())
    assert manifest_json["options"]["only"] == ["RecycleBin"]
    assert manifest_json["examiner"] == "Sato" and manifest_json["case_id"] == "EV-7"
    single = _single_run(tmp_path, "win.qcow2", only=["RecycleBin"])
    assert row["chain_head"] == single["chain_head"] and row["events"] == single["events"]


def test_scheduler_without_dask_is_a_clear_usage_error(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    manifest = _manifest(tmp_path, [("win.E01", "x")])
    result = CliRunner().invoke(batch_command, [str(manifest), "-o", str(tmp_path / "lab"),
                                                "--scheduler", "tcp://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "needs Dask" in result.output and "triage[cluster]" in result.output
