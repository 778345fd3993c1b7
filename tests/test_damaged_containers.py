"""Damaged containers: the readable parts are processed and the damage is reported with offsets
(a cut or missing E01 segment, a wiped partition table, a zero-filled region, a corrupt VSS
store)."""
from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from conftest import FIXTURE_IMAGES, SAMPLES

FACTS = json.loads((FIXTURE_IMAGES / "facts.json").read_text(encoding="utf-8"))
SPLIT = [s["file"] for s in FACTS["images"]["win-split.E01"]["segment_files"]]


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    """Events per artifact of the intact system disk."""
    from click.testing import CliRunner
    from triage.cli import main

    case = tmp_path_factory.mktemp("intact") / "case"
    result = CliRunner().invoke(main, ["run", str(FIXTURE_IMAGES / "win-mbr.raw"), "-o",
                                       str(case), "--json"])
    return json.loads(result.output)


def _errors(case):
    with sqlite3.connect(case / "case.sqlite") as db:
        return db.execute("SELECT severity, stage, volume, path, message FROM errors").fetchall()


def _run(cli, evidence, case, *extra):
    result = cli("run", evidence, "-o", case, "--json", *extra)
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.output) if result.output.startswith("{") else None


def test_missing_last_e01_segment_is_read_as_far_as_it_goes(cli, tmp_path, intact):
    split = tmp_path / "split"
    split.mkdir()
    for name in SPLIT[:-1]:  # the last segment is lost
        shutil.copy(FIXTURE_IMAGES / name, split / name)
    code, summary = _run(cli, split / SPLIT[0], tmp_path / "case")
    assert code == 1
    assert summary["per_artifact"] == intact["per_artifact"]  # nothing evidential was there
    damage = [e for e in _errors(tmp_path / "case") if e[1] == "image"]
    assert damage and all(m.startswith("media bytes ") and "missing segment file" in m
                          for *_, m in damage)
    first = int(damage[0][4].split()[2].split("-")[0])
    assert 0 < first < FACTS["images"]["win-split.E01"]["media_size"]


def test_cut_e01_segment_damage_names_the_byte_range(cli, tmp_path):
    split = tmp_path / "split"
    split.mkdir()
    for name in SPLIT:
        shutil.copy(FIXTURE_IMAGES / name, split / name)
    last = split / SPLIT[-1]
    last.write_bytes(last.read_bytes()[: last.stat().st_size // 2])
    code, summary = _run(cli, split / SPLIT[0], tmp_path / "case")
    assert code == 1 and summary["events"] > 0
    with sqlite3.connect(tmp_path / "case" / "case.sqlite") as db:
        info = json.loads(db.execute("SELECT value FROM case_info WHERE key = 'media_damage'")
                          .fetchone()[0])
    assert info["bytes"] > 0 and info["ranges"][0][0] + info["ranges"][0][1] <= \
        FACTS["images"]["win-split.E01"]["media_size"]


@pytest.mark.parametrize("image, wipe", [
    ("win-mbr.raw", "mbr"), ("win-gpt.raw", "gpt"), ("usb-fat32.raw", "mbr")])
def test_wiped_partition_table_volumes_found_by_boot_sector(cli, tmp_path, image, wipe):
    data = bytearray((FIXTURE_IMAGES / image).read_bytes())
    if wipe == "mbr":
        data[446:510] = bytes(64)
    else:  # protective MBR, primary and backup GPT headers and entries
        data[:17 * 1024] = bytes(17 * 1024)
        data[-17 * 1024:] = bytes(17 * 1024)
    broken = tmp_path / f"broken-{image}"
    broken.write_bytes(bytes(data))
    code_ok, good = _run(cli, FIXTURE_IMAGES / image, tmp_path / "good")
    code, summary = _run(cli, broken, tmp_path / "case")
    assert (code, code_ok) == (0, 0)
    assert summary["per_artifact"] == good["per_artifact"] and summary["events"] == good["events"]
    found = [v for v in summary["volumes"] if v["id"].startswith("found")]
    main = next(v for v in good["volumes"] if v["status"] == "processed")
    assert found and found[0]["offset"] == main["offset"] and found[0]["fs_type"] == main["fs_type"]
    warnings = [e for e in _errors(tmp_path / "case") if e[0] == "warning" and e[1] == "volume"]
    assert any(f"found by its boot sector at offset {main['offset']}" in e[4] for e in warnings)


def test_zero_filled_region_costs_only_the_files_there(cli, tmp_path, intact):
    from triage.collect import find_path
    from triage.sources import SourceOptions, open_evidence

    image = FIXTURE_IMAGES / "win-mbr.raw"
    volume = next(v for v in open_evidence(str(image), SourceOptions()).processable())
    hive = find_path(volume.tree, "/Windows/System32/config/SOFTWARE").read()
    data = bytearray(image.read_bytes())
    at = data.find(hive[:4096])
    assert at > 0
    data[at:at + 64 * 1024] = bytes(64 * 1024)  # the hive's first 64 KiB are zeros now
    damaged = tmp_path / "zeroed.raw"
    damaged.write_bytes(bytes(data))
    code, summary = _run(cli, damaged, tmp_path / "case")
    assert code == 1
    errors = [e for e in _errors(tmp_path / "case") if e[0] == "error"]
    assert errors and all(e[3] == "/Windows/System32/config/SOFTWARE" for e in errors)
    for artifact in ("WindowsPrefetch", "RecycleBin", "RegistrySystem", "RegistryNTUSER"):
        assert summary["per_artifact"][artifact] == intact["per_artifact"][artifact]


def _vss_raw(tmp_path, damage_at: int | None, name: str):
    """The shared VSS sample's media as a sparse raw file, with 16 KiB overwritten at a
    volume offset (the structure the test names)."""
    pyqcow = pytest.importorskip("pyqcow")
    sample = SAMPLES / "images" / "vsstest.qcow2"
    if not sample.exists():
        pytest.skip("shared sample images/vsstest.qcow2 absent")
    source = pyqcow.file()
    source.open(str(sample))
    size = source.get_media_size()
    target = tmp_path / name
    with open(target, "wb") as out:
        out.truncate(size)
        offset = 0
        while offset < size:
            block = source.read_buffer(1 << 20)
            if block.count(0) != len(block):
                out.seek(offset)
                out.write(block)
            offset += len(block)
        if damage_at is not None:
            out.seek(damage_at)
            out.write(b"\xab" * 16384)
    source.close()
    return target, size


def _vss_catalog_and_store(raw) -> tuple[int, int]:
    """The catalog offset (VSS volume header at 0x1E00) and the first store's block list."""
    import struct

    with open(raw, "rb") as handle:
        handle.seek(0x1E00 + 0x30)
        catalog = struct.unpack("<Q", handle.read(8))[0]
        handle.seek(catalog + 128 + 128 + 8)  # second catalog entry (type 3): block list
        store_list = struct.unpack("<Q", handle.read(8))[0]
    return catalog, store_list


def test_corrupt_vss_store_costs_only_that_snapshot(cli, tmp_path):
    clean, _ = _vss_raw(tmp_path, None, "clean.raw")
    _, store_list = _vss_catalog_and_store(clean)
    damaged, _ = _vss_raw(tmp_path, store_list, "bad-store.raw")
    code, summary = _run(cli, damaged, tmp_path / "case", "--vss", "all")
    assert code == 1
    status = {v["id"]: v["status"] for v in summary["volumes"]}
    assert status["vol"] == "processed" and status["vol/vss2"] == "processed"
    assert status["vol/vss1"].startswith("skipped: file system unreadable")
    errors = [e for e in _errors(tmp_path / "case") if e[0] == "error"]
    assert len(errors) == 1 and errors[0][2] == "vol/vss1"
    assert f"at offset {store_list}" in errors[0][4]


def test_corrupt_vss_catalog_keeps_the_live_volume(cli, tmp_path):
    clean, _ = _vss_raw(tmp_path, None, "clean.raw")
    catalog, _ = _vss_catalog_and_store(clean)
    damaged, _ = _vss_raw(tmp_path, catalog, "bad-catalog.raw")
    code, summary = _run(cli, damaged, tmp_path / "case", "--vss", "all")
    assert code == 0 and [v["id"] for v in summary["volumes"]] == ["vol"]
    warnings = [e for e in _errors(tmp_path / "case") if e[0] == "warning"]
    assert any("shadow copies present but unreadable" in e[4] and "catalog" in e[4]
               for e in warnings)
