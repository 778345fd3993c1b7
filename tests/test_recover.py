"""`triage recover`: deleted files exported when no other file holds their clusters.

Expectations come from fixtures/images/facts.json (system disk deleted files, USB stick) and
fixtures/artifacts/fat/facts.json (the FAT16 / exFAT scenarios); never from triage itself.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
import struct
from pathlib import Path

import pytest

from conftest import FIXTURE_IMAGES
from triage.cli import main
from triage.recover import LOG_FIELDS, safe_component, safe_relative

if "recover" not in main.commands:  # until triage/cli.py registers it
    from triage.cli_recover import recover_command

    main.add_command(recover_command, "recover")

ROOT = Path(__file__).resolve().parents[1]
FACTS = json.loads((FIXTURE_IMAGES / "facts.json").read_text(encoding="utf-8"))
SYSTEM = FACTS["system"]
USB = FACTS["usb"]
FAT_DIR = ROOT / "fixtures" / "artifacts" / "fat"
FAT_FACTS = json.loads((FAT_DIR / "facts.json").read_text(encoding="utf-8"))
MBR = FIXTURE_IMAGES / "win-mbr.raw"
PARTITION = FACTS["images"]["win-mbr.raw"]["partitions"][0]["offset"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _recover(cli, *args) -> tuple[int, dict]:
    result = cli("recover", *args, "--json")
    try:
        return result.exit_code, json.loads(result.output)
    except json.JSONDecodeError:
        return result.exit_code, {"output": result.output}


def _by_path(summary: dict) -> dict[str, dict]:
    return {r["path"]: r for r in summary["records"]}


# ------------------------------------------------------------------ NTFS (system disk)


def test_ntfs_deleted_files_exported(cli, tmp_path):
    out = tmp_path / "out"
    before = sha256(MBR)
    result = cli("recover", MBR, "-o", out)
    assert result.exit_code == 0, result.output
    assert sha256(MBR) == before == FACTS["images"]["win-mbr.raw"]["sha256"]  # only read

    log = out / "recovery_log.jsonl"
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert {r["path"] for r in records} == {d["path"] for d in SYSTEM["deleted_files"]}
    for item in SYSTEM["deleted_files"]:
        record = next(r for r in records if r["path"] == item["path"])
        assert record["inode"] == item["mft_entry"] and record["inode_kind"] == "mft_entry"
        assert record["size"] == item["size"] and record["deleted"] is True
        assert record["status"] in ("recovered", "resident")
        assert record["sha256"] == item["sha256"]
        exported = out / record["exported_as"]
        assert record["exported_as"] == "p1" + item["path"]
        assert sha256(exported) == item["sha256"]
        assert record["md5"] == hashlib.md5(exported.read_bytes()).hexdigest()
        assert record["evidence"] == "win-mbr.raw" and record["volume"] == "p1"
    statuses = {r["path"]: r["status"] for r in records}
    assert statuses["/Users/bob/Desktop/notes.txt"] == "resident"  # 40 bytes: in the record
    assert statuses["/Users/bob/Documents/customers_2026.csv"] == "recovered"
    recovered = next(r for r in records if r["status"] == "recovered")
    assert (recovered["clusters"], recovered["clusters_in_use"], recovered["chain"]) == \
        (1, 0, "data runs")

    # The CSV log holds the same rows; both logs' SHA-256 are printed.
    with open(out / "recovery_log.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == LOG_FIELDS
    assert [(r["path"], r["sha256"], r["status"]) for r in rows] == \
        [(r["path"], r["sha256"], r["status"]) for r in records]
    assert f"SHA-256: {sha256(log)}" in result.output
    assert f"SHA-256: {sha256(out / 'recovery_log.csv')}" in result.output


def _set_bitmap_bit(image: Path, cluster: int) -> None:
    """Mark `cluster` in use in the NTFS $Bitmap and fill it with other bytes: as when another
    file takes the space of a deleted one. Located with The Sleuth Kit (an independent reader)."""
    import pytsk3

    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(image)), offset=PARTITION)
    block = fs.info.block_size
    bitmap = fs.open_meta(inode=6)
    data = next(a for a in bitmap if a.info.type == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
    first_run = next(iter(data))
    assert (cluster // 8) < first_run.len * block
    with open(image, "r+b") as handle:
        where = PARTITION + first_run.addr * block + cluster // 8
        handle.seek(where)
        byte = handle.read(1)[0]
        handle.seek(where)
        handle.write(bytes([byte | (1 << (cluster % 8))]))
        handle.seek(PARTITION + cluster * block)
        handle.write(b"another file's data " * (block // 20))


def _data_clusters(image: Path, inode: int) -> list[int]:
    import pytsk3

    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(image)), offset=PARTITION)
    entry = fs.open_meta(inode=inode)
    data = next(a for a in entry if a.info.type == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
    return [c for run in data for c in range(run.addr, run.addr + run.len)]


def test_ntfs_overwritten_file_is_listed_not_exported(cli, tmp_path):
    image = tmp_path / "win-mbr.raw"
    shutil.copyfile(MBR, image)
    customers = next(d for d in SYSTEM["deleted_files"] if d["path"].endswith(".csv"))
    (cluster,) = _data_clusters(image, customers["mft_entry"])
    _set_bitmap_bit(image, cluster)
    out = tmp_path / "out"
    code, summary = _recover(cli, image, "-o", out)
    assert code == 0
    records = _by_path(summary)
    gone = records[customers["path"]]
    assert gone["status"] == "overwritten"
    assert (gone["clusters"], gone["clusters_in_use"]) == (1, 1)
    assert gone["exported_as"] is None and gone["sha256"] is None
    assert gone["reason"] == "all 1 clusters are in use by other files"
    assert not (out / "p1" / customers["path"].lstrip("/")).exists()
    notes = next(d for d in SYSTEM["deleted_files"] if d["path"].endswith("notes.txt"))
    assert records[notes["path"]]["status"] == "resident"  # its data is in the MFT record
    assert records[notes["path"]]["sha256"] == notes["sha256"]
    assert summary["counts"] == {"overwritten": 1, "resident": 1}


def test_filters_path_and_inode(cli, tmp_path):
    code, summary = _recover(cli, MBR, "-o", tmp_path / "a", "--path", "*.CSV")
    assert code == 0
    assert [r["path"] for r in summary["records"]] == ["/Users/bob/Documents/customers_2026.csv"]
    code, summary = _recover(cli, MBR, "-o", tmp_path / "b", "--inode", "127")
    assert [r["path"] for r in summary["records"]] == ["/Users/bob/Desktop/notes.txt"]
    # --inode takes a live file too (a read-only copy), whatever --deleted says.
    code, summary = _recover(cli, MBR, "-o", tmp_path / "c", "--path", "/nowhere/*")
    assert code == 0 and summary["records"] == []


def test_include_allocated_copies_live_files(cli, tmp_path):
    out = tmp_path / "out"
    code, summary = _recover(cli, MBR, "-o", out, "--include-allocated",
                             "--path", "/users/alice/documents/*")
    assert code == 0
    want = {f["path"]: f for f in SYSTEM["files"]
            if f["path"].startswith("/Users/alice/Documents/")}
    records = _by_path(summary)
    assert set(records) == set(want)
    for path, item in want.items():
        record = records[path]
        assert record["status"] == "allocated" and record["deleted"] is False
        assert record["sha256"] == item["sha256"]
        assert sha256(out / record["exported_as"]) == item["sha256"]


def test_usage_errors(cli, tmp_path):
    result = cli("recover", MBR, "-o", tmp_path / "x", "--include-allocated")
    assert result.exit_code == 2 and "--include-allocated needs --path or --inode" in result.output
    result = cli("recover", tmp_path / "missing.raw", "-o", tmp_path / "y")
    assert result.exit_code == 3
    out = tmp_path / "busy"
    out.mkdir()
    (out / "keep.txt").write_text("examiner's file")
    result = cli("recover", MBR, "-o", out)
    assert result.exit_code == 2 and "not empty" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_force_never_overwrites(cli, tmp_path):
    out = tmp_path / "out"
    assert cli("recover", MBR, "-o", out, "-q").exit_code == 0
    first_log = (out / "recovery_log.jsonl").read_bytes()
    code, summary = _recover(cli, MBR, "-o", out, "--force")
    assert code == 0
    assert (out / "recovery_log.jsonl").read_bytes() == first_log
    assert summary["log"].endswith("recovery_log-2.jsonl")
    exported = sorted(r["exported_as"] for r in summary["records"])
    assert exported == ["p1/Users/bob/Desktop/notes (entry 127).txt",
                        "p1/Users/bob/Documents/customers_2026 (entry 126).csv"]


def test_truncated_ntfs_image(cli, tmp_path):
    image = tmp_path / "cut.raw"
    image.write_bytes(MBR.read_bytes()[:2_000_000])
    result = cli("recover", image, "-o", tmp_path / "out")
    assert result.exit_code == 1
    assert "volume p1: NTFS volume unreadable by The Sleuth Kit" in result.output
    assert "truncated image?" in result.output


# ------------------------------------------------------------------ FAT / exFAT


@pytest.mark.parametrize("name", ["fat16.raw", "exfat.raw"])
def test_fat_fixture_recovery(cli, tmp_path, name):
    facts = FAT_FACTS[name]
    out = tmp_path / "out"
    image = FAT_DIR / name
    code, summary = _recover(cli, image, "-o", out)
    assert code == 0, summary
    assert sha256(image) == facts["sha256"]
    volume = "vol" if facts["partition_table"] is None else "p1"
    records = _by_path(summary)
    expected = {}
    for entry in facts["entries"]:
        if "recovery" not in entry:
            continue
        shown = entry["path"]
        if "deleted_name" in entry:
            shown = shown.rsplit("/", 1)[0] + "/" + entry["deleted_name"]
        expected[shown] = entry
    assert set(records) == set(expected)
    for path, entry in expected.items():
        record, want = records[path], entry["recovery"]
        assert record["status"] == want["status"], path
        assert (record["clusters"], record["clusters_in_use"], record["contiguous_assumed"]) == \
            (want["clusters"], want["clusters_in_use"], want["contiguous_assumed"]), path
        if "chain" in want:
            assert record["chain"] == want["chain"], path
        assert record["inode_kind"] == "entry_offset" and record["volume"] == volume
        assert record["size"] == entry["size"] and record["deleted"] is True
        if want["status"] == "recovered":
            assert record["sha256"] == entry["sha256"], path
            assert sha256(out / record["exported_as"]) == entry["sha256"]
            assert record["exported_as"] == safe_relative(volume, path).replace("\\", "/")
        else:
            assert record["exported_as"] is None and record["sha256"] is None
    exported = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert len(exported) == 2 + sum(r["status"] == "recovered" for r in records.values())


def test_usb_fat32_deleted_file(cli, tmp_path):
    code, summary = _recover(cli, FIXTURE_IMAGES / "usb-fat32.raw", "-o", tmp_path / "out")
    assert code == 0
    (record,) = summary["records"]
    (deleted,) = USB["deleted_files"]
    folder, name = deleted["path"].rsplit("/", 1)
    assert record["path"] == f"{folder}/?{name[1:]}"  # the lost first character
    assert record["status"] == "recovered" and record["contiguous_assumed"] is True
    assert record["sha256"] == deleted["sha256"]
    assert record["exported_as"] == f"p1{folder}/_{name[1:]}"


def test_fat_inode_and_allocated_chain_loop(cli, tmp_path):
    data = bytearray((FAT_DIR / "fat16.raw").read_bytes())
    image = tmp_path / "fat16.raw"
    image.write_bytes(bytes(data))
    code, summary = _recover(cli, image, "-o", tmp_path / "a", "--include-allocated",
                             "--path", "/報告書*")
    (record,) = summary["records"]
    report = next(e for e in FAT_FACTS["fat16.raw"]["entries"]
                  if e["path"].startswith("/報告書"))
    assert record["status"] == "allocated" and record["sha256"] == report["sha256"]
    assert record["chain"] == "FAT chain"
    # --inode takes the entry offset; a FAT loop in its chain makes it unrecoverable.
    from triage import fatfs

    with open(image, "rb") as handle:
        volume = fatfs.open_volume(handle)
        fat, first = volume.fat_offset, record["inode"]
    cluster = struct.unpack_from("<H", data, first + 26)[0]
    struct.pack_into("<H", data, fat + (cluster + 1) * 2, cluster)  # 2nd cluster -> 1st
    image.write_bytes(bytes(data))
    code, summary = _recover(cli, image, "-o", tmp_path / "b", "--inode", str(first))
    (record,) = summary["records"]
    assert record["status"] == "unrecoverable"
    assert record["reason"] == (f"cluster chain loop: cluster {cluster + 1} points back to "
                                f"{cluster}")
    assert code == 0


def test_truncated_fat_volume(cli, tmp_path):
    image = tmp_path / "cut.raw"
    image.write_bytes((FAT_DIR / "fat16.raw").read_bytes()[:60000])
    code, summary = _recover(cli, image, "-o", tmp_path / "out")
    assert code == 1
    memo = _by_path(summary)["/Trash/?emo.txt"]
    assert memo["status"] == "error" and memo["exported_as"] is None
    assert "truncated image?" in memo["reason"]
    assert not (tmp_path / "out" / "vol" / "Trash").exists() or \
        not any((tmp_path / "out" / "vol" / "Trash").iterdir())


# ------------------------------------------------------------------ names


def test_safe_names():
    assert safe_component("..") == "_"
    assert safe_component(".") == "_"
    assert safe_component("") == "_"
    assert safe_component('a<b>c:d"e|f?g*h\\i') == "a_b_c_d_e_f_g_h_i"
    assert safe_component("CON") == "_CON" and safe_component("lpt1.txt") == "_lpt1.txt"
    assert safe_component("trailing. ") == "trailing"
    assert safe_component("顧客リスト.xlsx") == "顧客リスト.xlsx"
    assert len(safe_component("あ" * 200).encode("utf-8")) <= 240
    assert safe_relative("p1/vss2", "/../../etc/passwd").split("/") == \
        ["p1_vss2", "_", "_", "etc", "passwd"]


def test_help_documents_semantics(cli):
    result = cli("recover", "--help")
    assert result.exit_code == 0
    for text in ("--deleted / --include-allocated", "--path GLOB", "--inode N", "--vss",
                 "overwritten", "partial", "contiguous_assumed", "recovery_log.jsonl"):
        assert text in result.output, text
