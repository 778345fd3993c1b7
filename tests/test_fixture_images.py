"""The shipped fixture images, end to end through `triage run`, against fixtures/images/facts.json.

Every container of the same system disk must give the same events; the values are compared
with the facts the builder recorded from its own constants (not with triage's output).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import FIXTURE_IMAGES, read_jsonl, tree_digest

FACTS = json.loads((FIXTURE_IMAGES / "facts.json").read_text(encoding="utf-8"))
SYSTEM = FACTS["system"]
SYSTEM_IMAGES = [name for name, img in FACTS["images"].items() if img["content"] == "system"]


@pytest.fixture(scope="module")
def e01_case(tmp_path_factory):
    from click.testing import CliRunner
    from triage.cli import main

    case = tmp_path_factory.mktemp("e01") / "case"
    result = CliRunner().invoke(main, ["run", str(FIXTURE_IMAGES / "win.E01"), "-o", str(case),
                                       "--hash-evidence", "--json", "--examiner", "T. Sato"])
    assert result.exit_code == 0, result.output
    return case, json.loads(result.output)


def _comparable(events: list[dict]) -> list[tuple]:
    """What must not depend on the container: everything but the evidence name and hash."""
    return sorted((e["timestamp"] or "", e["timestamp_desc"], e["message"], e["user"], e["host"],
                   e["source"]["volume"], e["source"]["path"], e["source"]["inode"],
                   e["source"]["sha256"], json.dumps(e["data"], sort_keys=True)) for e in events)


def test_prefetch_events_match_facts(e01_case):
    case, _ = e01_case
    events = [e for e in read_jsonl(case) if e["artifact"] == "WindowsPrefetch"]
    for pf in SYSTEM["prefetch"]:
        mine = [e for e in events if e["source"]["path"] == pf["path"]]
        assert mine, pf["path"]
        runs = [e["timestamp"] for e in sorted(mine, key=lambda e: e["data"].get("run_index", 99))
                if e["timestamp_desc"] in ("Last Run", "Previous Run")]
        assert runs == pf["run_times"], pf["path"]
        last = next(e for e in mine if e["timestamp_desc"] == "Last Run")
        assert last["data"]["executable"] == pf["executable"]
        assert last["data"]["prefetch_hash"] == pf["hash"]
        assert last["data"]["run_count"] == pf["run_count"]
        assert last["data"]["format_version"] == pf["version"]
        assert last["data"]["compressed"] == pf["compressed"]
        assert last["data"]["files"] == pf["filenames"]
        assert last["source"]["sha256"] == pf["sha256"]
        created = sorted((e["data"]["volumes"][e["data"]["volume_index"]]["serial"], e["timestamp"])
                         for e in mine if e["timestamp_desc"] == "Volume Created")
        assert created == sorted((v["serial"], v["creation"]) for v in pf["volumes"])
        assert all(e["host"] == SYSTEM["host"] and e["user"] is None for e in mine)


def test_recycle_bin_events_match_facts(e01_case):
    case, _ = e01_case
    events = {e["source"]["path"]: e for e in read_jsonl(case) if e["artifact"] == "RecycleBin"}
    assert set(events) == {r["path"] for r in SYSTEM["recycle_bin"]}
    for entry in SYSTEM["recycle_bin"]:
        event = events[entry["path"]]
        assert event["timestamp"] == entry["deleted"]
        assert event["user"] == entry["user"]  # SID resolved through the SOFTWARE hive
        data = event["data"]
        assert (data["original_path"], data["size"], data["version"], data["sid"]) == \
            (entry["original_path"], entry["size"], entry["version"], entry["sid"])
        assert data["r_present"] == entry["r_present"]
        assert data.get("r_sha256") == entry["r_sha256"]
        assert data.get("r_is_directory", False) == entry["r_is_directory"]
        if entry["r_is_directory"]:  # a deleted folder: every file inside, hashed
            assert [(c["path"], c["size"], c["sha256"]) for c in data["r_contents"]] == \
                [(c["path"], c["size"], c["sha256"]) for c in entry["r_contents"]]


def test_manifest_and_evidence_hash_verification(e01_case):
    case, summary = e01_case
    image = FACTS["images"]["win.E01"]
    hashes = summary["evidence_hashes"]
    assert hashes["verification"] == "match"
    assert hashes["stored"] == {"md5": image["stored_md5"], "sha1": image["stored_sha1"]}
    assert hashes["computed"]["size"] == image["media_size"]
    manifest = json.loads((case / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["examiner"] == "T. Sato"
    assert manifest["evidence"]["containers"] == ["EWF"]
    assert manifest["evidence"]["volume_system"] == "MBR"
    assert manifest["system"]["host"] == SYSTEM["host"]
    assert manifest["system"]["product"] == SYSTEM["windows"]["product"]
    assert manifest["counts"]["events"] == summary["events"] == len(read_jsonl(case))
    volume = manifest["volumes"][0]
    part = image["partitions"][0]
    assert (volume["id"], volume["offset"], volume["size"], volume["label"], volume["serial"]) == \
        ("p1", part["offset"], part["size"], image["label"], image["volume_serial"])


@pytest.mark.parametrize("name", [n for n in SYSTEM_IMAGES if n != "win.E01"])
def test_every_container_gives_the_same_events(cli, e01_case, tmp_path, name):
    case_e01, _ = e01_case
    case = tmp_path / "case"
    result = cli("run", FIXTURE_IMAGES / name, "-o", case, "--quiet")
    assert result.exit_code == 0, result.output
    assert _comparable(read_jsonl(case)) == _comparable(read_jsonl(case_e01))
    assert cli("verify", case).exit_code == 0


def test_run_leaves_evidence_unchanged(cli, tmp_path):
    image = FIXTURE_IMAGES / "win-split.E01"
    segments = [FIXTURE_IMAGES / s["file"] for s in FACTS["images"]["win-split.E01"]["segment_files"]]
    before = {str(p): tree_digest(p)[str(p)] for p in segments}
    assert before == {str(FIXTURE_IMAGES / s["file"]): s["sha256"]
                      for s in FACTS["images"]["win-split.E01"]["segment_files"]}
    assert cli("run", image, "-o", tmp_path / "c", "--quiet", "--hash-evidence").exit_code == 0
    assert {str(p): tree_digest(p)[str(p)] for p in segments} == before


def test_info_describes_the_system_disk(cli):
    facts = json.loads(cli("info", FIXTURE_IMAGES / "win-gpt.raw", "--json").output)
    image = FACTS["images"]["win-gpt.raw"]
    assert facts["volume_system"] == "GPT"
    assert facts["volumes"][0]["offset"] == image["partitions"][0]["offset"]
    assert facts["volumes"][0]["partition_type"].startswith("Microsoft basic data")
    win = facts["windows"][0]
    assert win["host"] == SYSTEM["host"]
    assert (win["product"], win["build"], win["display_version"]) == (
        SYSTEM["windows"]["product"], SYSTEM["windows"]["build"], SYSTEM["windows"]["display_version"])
    assert win["install_date"] == SYSTEM["windows"]["install_date"].replace(".0000000Z", "Z")
    assert win["timezone"] == SYSTEM["timezone"]["key_name"]
    assert win["timezone_bias_minutes"] == SYSTEM["timezone"]["bias"]
    users = {u["sid"]: u for u in SYSTEM["users"]}
    for sid, user in users.items():
        assert win["users"][sid]["name"] == user["name"]
        assert win["users"][sid]["profile"] == user["profile_path"]
        assert win["users"][sid]["profile_created"] == user["profile_created"]


def test_profile_creation_from_the_profile_folder(e01_case):
    case, _ = e01_case
    created = {(e["data"]["sid"], e["timestamp"], e["user"]) for e in read_jsonl(case)
               if e["timestamp_desc"] == "Profile Folder Created"}
    assert created == {(u["sid"], u["profile_created"], u["name"]) for u in SYSTEM["users"]}


def test_usb_stick_is_read(cli):
    facts = json.loads(cli("info", FIXTURE_IMAGES / "usb-fat32.raw", "--json").output)
    assert facts["volumes"][0]["fs_type"] == "FAT"
    assert facts["volumes"][0]["label"] == FACTS["usb"]["label"]


def test_unreadable_image_gets_one_line_and_exit_3(cli, tmp_path):
    truncated = tmp_path / "trunc.E01"
    truncated.write_bytes((FIXTURE_IMAGES / "win.E01").read_bytes()[:150_000])
    result = cli("run", truncated, "-o", tmp_path / "a")
    assert result.exit_code == 3
    assert "damaged, truncated or incomplete image" in result.output
    assert "bytes of the media unreadable from offset 0" in result.output
    assert "Traceback" not in result.output


def test_truncated_raw_image_is_flagged(cli, tmp_path):
    short = tmp_path / "short.raw"
    short.write_bytes((FIXTURE_IMAGES / "win-mbr.raw").read_bytes()[:20_000_000])
    result = cli("run", short, "-o", tmp_path / "c", "--json")
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert summary["errors"] >= 1
    assert "truncated image?" in summary["volumes"][0]["note"]


def test_documents_swept_on_other_volumes_only(cli, e01_case, tmp_path):
    case = tmp_path / "usb"
    result = cli("run", FIXTURE_IMAGES / "usb-fat32.raw", "-o", case, "--json")
    summary = json.loads(result.output)
    assert summary["per_artifact"]["DocumentsOnOtherVolumes"] >= 1
    docs = [e for e in read_jsonl(case) if e["artifact"] == "DocumentsOnOtherVolumes"]
    wanted = {f["path"]: f["sha256"] for f in FACTS["usb"]["files"] if f["path"].endswith(".xlsx")}
    assert {e["source"]["path"]: e["data"]["sha256"] for e in docs} == wanted
    system_case, _ = e01_case
    manifest = json.loads((system_case / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["per_artifact"]["DocumentsOnOtherVolumes"] == 0
