"""`triage attachments`: the attachments the timeline lists, exported safely with a hashed log."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat

import pytest

from conftest import read_jsonl, samples, tree_digest
from fixtures.builders.mail_writer import mime_message
from test_mbox import CUSTOMERS, LOCAL, make_profile

WLM = "Users/bob/AppData/Local/Microsoft/Windows Live Mail/Storage Folders/Sent Items"
HOSTILE = {  # attachment name as written in the message -> what it may become on disk
    "../../../evil.csv": ".._.._.._evil.csv",  # no separator survives
    "CON.txt": "_CON.txt",
    "invoice\u202efdp.exe": "invoice_fdp.exe",  # a right-to-left override cannot disguise it
    "a\x01b.txt": "a_b.txt",
}


def _evidence(root):
    make_profile(root)
    store = root / WLM
    store.mkdir(parents=True)
    attachments = [(f'filename="{name}"', name.encode("utf-8", "surrogatepass") * 3,
                    "application/octet-stream") for name in HOSTILE]
    attachments.append(('filename="meibo.csv"', CUSTOMERS, "text/csv"))
    (store / "00000001-00000002.eml").write_bytes(mime_message([
        ("From", "bob@example.co.jp"), ("To", "rival@gmail.com"), ("Subject", "files"),
        ("Date", "Mon, 07 Apr 2025 10:00:00 +0900")], body="x", attachments=attachments))
    return root


def _log(out):
    with open(out / "attachments_log.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_export_matches_the_timeline_and_stays_inside(cli, tmp_path):
    evidence = _evidence(tmp_path / "ev")
    before = tree_digest(evidence)
    case, out = tmp_path / "case", tmp_path / "out"
    assert cli("run", evidence, "-o", case, "--quiet").exit_code == 0
    listed = {(n, h) for e in read_jsonl(case) if e["family"] == "mail"
              for n, h in zip(e["data"].get("attachment_names") or [],
                              e["data"].get("attachment_sha256") or [])}
    result = cli("attachments", evidence, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["errors"] == [] and summary["stores"] >= 3
    log = _log(out)
    assert {(r["name"], r["sha256"]) for r in log} == listed  # exactly what the timeline lists
    assert all(r["status"] == "exported" and r["sha256"] == r["store_sha256"] for r in log)
    root = os.path.realpath(out)
    for record in log:
        path = os.path.realpath(out / record["exported_as"])
        assert path.startswith(root + os.sep)
        data = open(path, "rb").read()
        assert hashlib.sha256(data).hexdigest() == record["sha256"]
        assert hashlib.md5(data).hexdigest() == record["md5"] and len(data) == record["size"]
        assert not os.stat(path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    names = {os.path.basename(r["exported_as"]) for r in log if r["store"].endswith(".eml")}
    assert names == set(HOSTILE.values()) | {"meibo.csv"}
    assert not (tmp_path / "evil.csv").exists()
    eml = next(r for r in log if r["name"] == "meibo.csv" and r["store"].endswith(".eml"))
    assert (eml["folder"], eml["subject"], eml["sender"]) == (
        "Storage Folders/Sent Items", "files", "bob@example.co.jp")
    assert summary["log_sha256"] == hashlib.sha256((out / "attachments_log.jsonl").read_bytes()).hexdigest()
    assert tree_digest(evidence) == before
    assert not (out / ".attachments.partial").exists()


def test_filters_and_refusals(cli, tmp_path):
    evidence = _evidence(tmp_path / "ev")
    out = tmp_path / "out"
    wanted = hashlib.sha256(CUSTOMERS).hexdigest()
    assert cli("attachments", evidence, "-o", out, "--sha256", wanted.upper(), "-q").exit_code == 0
    assert {r["name"] for r in _log(out)} == {"meibo.csv", "顧客名簿.csv"}
    again = cli("attachments", evidence, "-o", out, "--name", "*.CSV", "--store", f"*{LOCAL}*")
    assert again.exit_code == 2 and "not empty" in again.output
    result = cli("attachments", evidence, "-o", out, "--force", "--name", "*.CSV",
                 "--store", f"*{LOCAL}*", "--json")
    second = json.loads(result.output)
    assert second["log"].endswith("attachments_log-2.jsonl")  # the first log is kept
    assert {r["name"] for r in second["records"]} == {"顧客名簿.csv"}
    inside = cli("attachments", evidence, "-o", evidence / "out")
    assert inside.exit_code == 2 and "inside the evidence" in inside.output


def test_pst_sample_attachment(cli, tmp_path):
    store = samples("mail", "sample1.pst")
    evidence = tmp_path / "ev"
    evidence.mkdir()
    shutil.copy(store, evidence / "sample1.pst")  # the folder walk never follows links
    result = cli("attachments", evidence, "-o", tmp_path / "out", "--json")
    assert result.exit_code == 0, result.output
    (record,) = json.loads(result.output)["records"]
    assert (record["name"], record["folder"], record["subject"]) == (
        "leah_thumper.jpg", "Top of Outlook data file/Sample1", "Here is a sample message")
    assert record["size"] == 93142 and record["sha256"] == record["store_sha256"]


def test_a_store_that_fails_costs_only_itself(cli, tmp_path):
    evidence = _evidence(tmp_path / "ev")
    outlook = evidence / "Users" / "alice" / "AppData" / "Local" / "Microsoft" / "Outlook"
    outlook.mkdir(parents=True)
    (outlook / "broken.pst").write_bytes(b"!BDN" + b"\0" * 600)
    result = cli("attachments", evidence, "-o", tmp_path / "out", "--json")
    summary = json.loads(result.output)
    assert result.exit_code == 1 and any("broken.pst" in e for e in summary["errors"])
    assert summary["counts"]["exported"] >= 6
