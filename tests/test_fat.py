"""FAT12/16/32 and exFAT directory entries (extractor fat_entries, parser triage.fatfs).

Expectations come from fixtures/artifacts/fat/facts.json (written by
fixtures.build_fat_fixtures from its own constants) and fixtures/images/facts.json ("usb").
"""
from __future__ import annotations

import json
import shutil
import struct
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import FIXTURE_IMAGES, read_jsonl
from triage import fatfs
from triage.extractors import ExtractionContext
from triage.extractors.fat_entries import FatDirectoryEntries
from triage.files import LocalFile
from triage.model import ArtifactError, Timestamp

FAT_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts" / "fat"
FAT_FACTS = json.loads((FAT_DIR / "facts.json").read_text(encoding="utf-8"))
USB = json.loads((FIXTURE_IMAGES / "facts.json").read_text(encoding="utf-8"))["usb"]
FAT16 = FAT_FACTS["fat16.raw"]
EXFAT = FAT_FACTS["exfat.raw"]


def _fat_events(case: Path) -> list[dict]:
    return [e for e in read_jsonl(case) if e["artifact"] == "FatDirectoryEntries"]


def _by_path(events: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for event in events:
        out.setdefault(event["data"]["path"], []).append(event)
    return out


def _instant(text: str | None) -> int | None:
    return None if text is None else Timestamp.parse(text).ns


def _times(events: list[dict]) -> dict[str, int | None]:
    """{"Created": ns, "Modified": ns, ...} from one entry's events (grouped descs split).

    Equal instants share one event (written with the finer precision), so instants, not
    strings, are compared."""
    out = {}
    for event in events:
        for desc in event["timestamp_desc"].split("; "):
            assert desc not in out
            out[desc] = _instant(event["timestamp"])
    return out


def _want(**times: str | None) -> dict[str, int | None]:
    names = {"created": "Created", "modified": "Modified", "accessed": "Accessed",
             "accessed_date": "Accessed (date only)"}
    return {names[k]: _instant(v) for k, v in times.items()}


def _shown_path(entry: dict) -> str:
    """The path triage shows: a deleted 8.3-only name has '?' for its lost first character."""
    if "deleted_name" in entry:
        return entry["path"].rsplit("/", 1)[0] + "/" + entry["deleted_name"]
    return entry["path"]


def _run(cli, tmp_path: Path, image: Path, *extra: str) -> Path:
    case = tmp_path / "case"
    result = cli("run", image, "-o", case, "-q", "--only", "FatDirectoryEntries", *extra)
    assert result.exit_code == 0, result.output
    return case


def _ctx(zone: str | None = None) -> ExtractionContext:
    return ExtractionContext(timezone=zone)


def _extract(path: Path, zone: str | None = None):
    ctx = _ctx(zone)
    events = list(FatDirectoryEntries().extract(LocalFile(str(path), path="@volume"), ctx))
    return events, ctx


# ------------------------------------------------------------------ FAT16 through the CLI


@pytest.fixture(scope="module")
def fat16_tokyo(tmp_path_factory):
    from click.testing import CliRunner
    from triage.cli import main

    case = tmp_path_factory.mktemp("fat16") / "case"
    result = CliRunner().invoke(main, ["run", str(FAT_DIR / "fat16.raw"), "-o", str(case), "-q",
                                       "--only", "FatDirectoryEntries",
                                       "--source-tz", "Asia/Tokyo"])
    assert result.exit_code == 0, result.output
    return _by_path(_fat_events(case))


def test_fat16_every_entry_with_tokyo_times(fat16_tokyo):
    assert set(fat16_tokyo) == {_shown_path(e) for e in FAT16["entries"]}
    for entry in FAT16["entries"]:
        events = fat16_tokyo[_shown_path(entry)]
        assert _times(events) == _want(created=entry["created_utc_tokyo"],
                                       modified=entry["modified_utc_tokyo"],
                                       accessed_date=entry["accessed_utc_tokyo"]), entry
        data = events[0]["data"]
        assert data["created_local"] == entry["created_local"]
        assert data["modified_local"] == entry["modified_local"]
        assert data["accessed_local"] == entry["accessed_local"]
        assert data["time_zone"] == "Asia/Tokyo"
        assert data["deleted"] is entry["deleted"], entry["path"]
        assert data["is_dir"] is entry["is_dir"]
        assert data["size"] == entry["size"]
        assert data["file_system"] == "FAT16"
        assert data["volume_serial"] == FAT16["volume_serial"]
        assert data["volume_label"] == FAT16["label"]
        assert "timestamp_note" not in data
        for event in events:
            assert event["extractor"] == "fat_entries" and event["family"] == "filesystem"


def test_fat16_deleted_names(fat16_tokyo):
    # 8.3-only deleted names lose their first character ...
    secret = fat16_tokyo["/?ecret.txt"][0]
    assert secret["data"]["short_name"] == "?ecret.txt"
    assert secret["data"]["first_char_lost"] is True
    assert secret["data"]["name"] == "?ecret.txt"
    assert secret["message"] == ("Deleted file /?ecret.txt (1,200 bytes); first character of "
                                 "the name lost [FAT16 'STICK16']")
    # ... a deleted long name survives whole (only its ordinal byte was overwritten).
    listing = fat16_tokyo["/機密リスト.csv"][0]["data"]
    assert listing["name"] == "機密リスト.csv" and listing["deleted"] is True
    assert listing["first_char_lost"] is True and listing["short_name"].startswith("?")
    assert fat16_tokyo["/Trash"][0]["data"]["is_dir"] is True
    memo = fat16_tokyo["/Trash/?emo.txt"][0]
    assert memo["data"]["deleted"] is True and memo["data"]["in_deleted_dir"] is True
    # Live entries: long names (Japanese included), 8.3 with NT lower-case flags.
    report = fat16_tokyo["/報告書_2026年4月.docx"][0]["data"]
    assert report["deleted"] is False and report["first_char_lost"] is False
    assert report["attributes"] == ["archive"]
    assert fat16_tokyo["/Projects/old/notes.txt"][0]["data"]["short_name"] == "notes.txt"
    assert fat16_tokyo["/README.TXT"][0]["data"]["short_name"] == "README.TXT"


def test_fat16_without_zone_has_no_timestamp(cli, tmp_path):
    events = _fat_events(_run(cli, tmp_path, FAT_DIR / "fat16.raw"))
    distinct = sum(len({_instant(e["created_utc_tokyo"]), _instant(e["modified_utc_tokyo"]),
                        _instant(e["accessed_utc_tokyo"])}) for e in FAT16["entries"])
    assert len(events) == distinct  # equal local times share an event, as with a zone
    readme = [e for e in events if e["data"]["path"] == "/README.TXT"]
    assert {e["timestamp_desc"] for e in readme} == {"Created", "Modified",
                                                     "Accessed (date only)"}
    for event in events:
        assert event["timestamp"] is None
        assert event["data"]["time_zone"] is None
        assert event["data"]["timestamp_note"].startswith("local time only")
    assert readme[0]["data"]["created_local"] == "2026-04-01T09:15:28.37"


# ------------------------------------------------------------------ exFAT through the CLI


@pytest.mark.parametrize("zone", [None, "Asia/Tokyo"])
def test_exfat_entries(cli, tmp_path, zone):
    extra = ("--source-tz", zone) if zone else ()
    found = _by_path(_fat_events(_run(cli, tmp_path, FAT_DIR / "exfat.raw", *extra)))
    assert set(found) == {e["path"] for e in EXFAT["entries"]}
    for entry in EXFAT["entries"]:
        events = found[entry["path"]]
        data = events[0]["data"]
        if entry["utc_offset_minutes"] is not None:  # the entry's own offset wins
            want = _want(created=entry["created_utc"], modified=entry["modified_utc"],
                         accessed=entry["accessed_utc"])
            assert data["created_utc_offset"] == "+09:00"
            assert data["time_zone"] is None
        elif zone:
            want = _want(created=entry["created_utc_tokyo"],
                         modified=entry["modified_utc_tokyo"],
                         accessed=entry["accessed_utc_tokyo"])
            assert data["time_zone"] == "Asia/Tokyo"
        else:
            want = _want(created=None, modified=None, accessed=None)
            assert data["created_utc_offset"] is None
        assert _times(events) == want, entry["path"]
        assert data["created_local"] == entry["created_local"]
        assert data["modified_local"] == entry["modified_local"]
        assert data["accessed_local"] == entry["accessed_local"]
        assert (data["deleted"], data["is_dir"], data["size"]) == \
            (entry["deleted"], entry["is_dir"], entry["size"])
        assert data["no_fat_chain"] is entry["no_fat_chain"]
        assert data["checksum_valid"] is True
        assert data["short_name"] is None and data["first_char_lost"] is False
        assert data["file_system"] == "exFAT" and data["volume_serial"] == EXFAT["volume_serial"]
        assert data["volume_label"] == EXFAT["label"]
    assert found["/OldPhotos/IMG_0100.JPG"][0]["data"]["in_deleted_dir"] is True


# ------------------------------------------------------------------ the shipped FAT32 stick


def test_usb_fat32_stick(cli, tmp_path):
    found = _by_path(_fat_events(_run(cli, tmp_path, FIXTURE_IMAGES / "usb-fat32.raw",
                                      "--source-tz", "Asia/Tokyo")))
    for item in USB["files"]:
        events = found[item["path"]]
        data = events[0]["data"]
        assert data["modified_local"] == item["modified_local"]
        assert data["size"] == item["size"] and data["deleted"] is False
        assert data["volume_label"] == USB["label"]
        assert data["volume_serial"] == USB["volume_serial"]
        local = datetime.fromisoformat(item["modified_local"])  # Tokyo: UTC+9 all year
        want = (local - timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert _times(events)["Modified"] == _instant(want)
    (deleted,) = USB["deleted_files"]
    folder, name = deleted["path"].rsplit("/", 1)
    events = found[f"{folder}/?{name[1:]}"]
    data = events[0]["data"]
    assert data["deleted"] is True and data["first_char_lost"] is True
    assert data["size"] == deleted["size"] and data["file_system"] == "FAT32"


def test_ntfs_volume_is_skipped_quietly(cli, tmp_path):
    case = _run(cli, tmp_path, FIXTURE_IMAGES / "win-mbr.raw")
    assert _fat_events(case) == []
    import sqlite3

    with sqlite3.connect(case / "case.sqlite") as db:
        rows = db.execute("select severity, message from errors where artifact = ?",
                          ("FatDirectoryEntries",)).fetchall()
    assert rows == []


# ------------------------------------------------------------------ parser details, bad input


def test_checksums_and_times():
    # The LFN checksum of an 8.3 name, and the one first byte a deleted entry's checksum implies.
    short = b"README  TXT"
    value = fatfs.lfn_checksum(short)
    assert fatfs.lost_first_byte(short[1:], value) == ord("R")
    assert fatfs.decode_fat_datetime(0, 0) == (None, True)  # "not set"
    stamp, ok = fatfs.decode_fat_datetime((46 << 9) | (4 << 5) | 1, (9 << 11) | (15 << 5) | 14, 137)
    assert ok and stamp.isoformat() == "2026-04-01T09:15:29.370000"
    assert fatfs.decode_fat_datetime((46 << 9) | (13 << 5) | 1, 0) == (None, False)  # month 13
    assert fatfs.decode_fat_datetime((46 << 9) | (4 << 5) | 1, 24 << 11) == (None, False)
    assert fatfs.exfat_utc_offset(0x80 | 36) == 540
    assert fatfs.exfat_utc_offset(0x80 | (-20 & 0x7F)) == -300
    assert fatfs.exfat_utc_offset(36) is None  # not marked valid


def test_not_fat_gives_nothing(tmp_path):
    ntfs = tmp_path / "ntfs.raw"
    ntfs.write_bytes(b"\xebR\x90NTFS    " + b"\0" * 4000)
    junk = tmp_path / "junk.raw"
    junk.write_bytes(bytes(range(256)) * 16)
    for path in (ntfs, junk):
        events, ctx = _extract(path)
        assert events == [] and ctx.warnings == [] and ctx.errors == []


def test_truncated_volume(tmp_path):
    data = (FAT_DIR / "fat16.raw").read_bytes()
    short = tmp_path / "short.raw"
    short.write_bytes(data[:1000])
    with pytest.raises(ArtifactError, match="truncated"):
        _extract(short)
    cut = tmp_path / "cut.raw"
    cut.write_bytes(data[:60000])  # the root folder survives, /Trash's cluster is cut
    events, ctx = _extract(cut, "Asia/Tokyo")
    paths = {e.data["path"] for e in events}
    assert "/README.TXT" in paths and "/Projects/old/notes.txt" in paths
    assert ctx.warnings == ["/Trash: directory data cut short at byte 60000 (truncated image?)"]


def _fat16_copy(tmp_path: Path) -> tuple[Path, bytearray, fatfs.FatVolume]:
    data = bytearray((FAT_DIR / "fat16.raw").read_bytes())
    path = tmp_path / "fat16.raw"
    path.write_bytes(bytes(data))
    with open(path, "rb") as handle:
        volume = fatfs.open_volume(handle)
    return path, data, volume


def _entry(image: Path, path: str) -> fatfs.FatEntry:
    with open(image, "rb") as handle:
        volume = fatfs.open_volume(handle)
        return next(e for e in volume.walk(lambda m: None) if e.path == path)


def test_cluster_chain_loop(tmp_path):
    path, data, volume = _fat16_copy(tmp_path)
    projects = _entry(path, "/Projects").first_cluster
    # Give the folder a second cluster that points back to the first: a loop.
    struct.pack_into("<H", data, volume.fat_offset + projects * 2, 200)
    struct.pack_into("<H", data, volume.fat_offset + 200 * 2, projects)
    path.write_bytes(bytes(data))
    events, ctx = _extract(path, "UTC")
    assert ctx.warnings == [f"/Projects: cluster chain loop: cluster 200 points back to {projects}"]
    assert "/Projects/old/notes.txt" in {e.data["path"] for e in events}


def test_directory_cycle(tmp_path):
    path, data, volume = _fat16_copy(tmp_path)
    old = _entry(path, "/Projects/old")
    projects = _entry(path, "/Projects").first_cluster
    # /Projects/old now claims the cluster of /Projects: walking it would never end.
    struct.pack_into("<H", data, old.entry_offset + 26, projects)
    path.write_bytes(bytes(data))
    events, ctx = _extract(path, "UTC")
    assert ctx.warnings == [f"/Projects/old: directory cycle (cluster {projects} already "
                            "walked): not walked again"]
    old_events = [e for e in events if e.data["path"] == "/Projects/old"]
    assert {d for e in old_events for d in e.timestamp_desc.split("; ")} == {
        "Created", "Modified", "Accessed (date only)"}


def test_depth_limit(tmp_path):
    path, _, _ = _fat16_copy(tmp_path)
    with open(path, "rb") as handle:
        volume = fatfs.open_volume(handle)
        warnings: list[str] = []
        paths = [e.path for e in volume.walk(warnings.append, max_depth=1)]
    assert "/Projects/old" in paths and "/Projects/old/notes.txt" not in paths
    assert warnings == ["/Projects/old: deeper than 1 folders: not walked"]


def test_entry_limit(tmp_path):
    path, _, _ = _fat16_copy(tmp_path)
    with open(path, "rb") as handle:
        volume = fatfs.open_volume(handle)
        warnings: list[str] = []
        assert len(list(volume.walk(warnings.append, max_entries=3))) == 3
    assert warnings == ["more than 3 directory entries: the walk stopped there"]


def test_invalid_dates_and_damaged_exfat_set(tmp_path):
    path, data, volume = _fat16_copy(tmp_path)
    readme = _entry(path, "/README.TXT")
    struct.pack_into("<H", data, readme.entry_offset + 24, (46 << 9) | (13 << 5) | 1)  # month 13
    path.write_bytes(bytes(data))
    events, ctx = _extract(path, "UTC")
    mine = [e for e in events if e.data["path"] == "/README.TXT"]
    assert {e.timestamp_desc for e in mine} == {"Created", "Accessed (date only)"}
    assert mine[0].data["invalid_times"] == ["modified"]
    assert mine[0].data["modified_local"] is None
    assert ctx.warnings == ["1 entry has date or time fields that are not valid dates: listed in "
                            "invalid_times, no event for those times"]

    disk = bytearray((FAT_DIR / "exfat.raw").read_bytes())
    volume_bytes = bytearray(disk[EXFAT["partition_offset"]:
                                  EXFAT["partition_offset"] + EXFAT["partition_size"]])
    exvol = tmp_path / "exvol.raw"
    exvol.write_bytes(bytes(volume_bytes))
    target = _entry(exvol, "/final.docx")
    volume_bytes[target.entry_offset + 64 + 2] ^= 0x01  # a name character changes: 'f' -> 'g'
    exvol.write_bytes(bytes(volume_bytes))
    events, ctx = _extract(exvol)
    damaged = [e for e in events if e.data["path"] == "/ginal.docx"]
    assert damaged and damaged[0].data["checksum_valid"] is False
    assert ctx.warnings == ["/ginal.docx: exFAT entry set checksum does not match (damaged entry)"]


def test_builder_facts_match_images():
    """The committed images are the ones facts.json describes."""
    import hashlib

    for name in ("fat16.raw", "exfat.raw"):
        digest = hashlib.sha256((FAT_DIR / name).read_bytes()).hexdigest()
        assert digest == FAT_FACTS[name]["sha256"], name


@pytest.mark.skipif(not all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "mdel")),
                    reason="dosfstools / mtools not installed")
def test_fat12_built_with_mtools(tmp_path):
    """FAT12 packs two 12-bit entries in three bytes: chains of odd and even clusters."""
    import hashlib
    import os
    import subprocess

    image = tmp_path / "floppy.raw"
    with open(image, "wb") as handle:
        handle.truncate(1440 * 1024)
    subprocess.run(["mkfs.vfat", "-F", "12", "-n", "FLOPPY", str(image)], check=True,
                   capture_output=True)
    payload = bytes(range(256)) * 20  # 5,120 bytes: 10 clusters of 512
    source = tmp_path / "payload.bin"
    source.write_bytes(payload)
    env = dict(os.environ, MTOOLS_SKIP_CHECK="1")
    for name in ("first.bin", "second.bin"):
        subprocess.run(["mcopy", "-i", str(image), str(source), f"::/{name}"], check=True,
                       env=env, capture_output=True)
    subprocess.run(["mdel", "-i", str(image), "::/first.bin"], check=True, env=env,
                   capture_output=True)
    with open(image, "rb") as handle:
        volume = fatfs.open_volume(handle)
        assert volume.kind == "FAT12" and volume.label == "FLOPPY"
        entries = {e.path: e for e in volume.walk(lambda m: None)}
        live, gone = entries["/second.bin"], entries["/?irst.bin"]
        clusters, problem = volume.chain(live.first_cluster, 100)
        assert problem is None and len(clusters) == 10
        data = volume.read_clusters(clusters, live.size)
        assert hashlib.sha256(data).digest() == hashlib.sha256(payload).digest()
        assert gone.deleted and gone.first_char_lost
        assert not any(volume.is_allocated(c) for c in range(gone.first_cluster,
                                                              gone.first_cluster + 10))
