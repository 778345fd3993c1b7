"""Execution registry plugins: shimcache, bam, amcache, shellbags (and the shell item decoder).

Fixture hives from fixtures/build_registry_execution.py (expectations from its facts.json),
real hives from ../shared/samples/registry (ground truth in EXPECTED.md section 4). The large
real hives are parsed once per module.
"""
from __future__ import annotations

import json
import random
import shutil
import struct
from pathlib import Path

import pytest
from Registry import Registry

from conftest import ROOT, read_jsonl, samples, tree_digest
from fixtures import build_registry_execution as B
from triage.extractors import ExtractionContext
from triage.files import LocalFile
from triage.registry import HiveView, load_plugins
from triage.registry.hive import open_hive
from triage.registry.plugins.shimcache import (CacheFormatError, ShimCache, detect_format,
                                               parse_cache)
from triage.shellitems import (fat_datetime, join_path, parse_item, parse_item_list,
                               parse_property_stores)

FIX = ROOT / "fixtures" / "artifacts" / "registry" / "execution"
FACTS = json.loads((FIX / "facts.json").read_text(encoding="utf-8"))
ALICE, BOB = FACTS["alice_sid"], FACTS["bob_sid"]
USERS = {ALICE: "alice", BOB: "bob"}


def run(path: Path, kind: str, plugin: str, users: dict | None = None, recover: bool = False):
    """Run one plugin on one hive: read as is (python-registry) or through open_hive."""
    if recover:
        registry = open_hive(LocalFile(str(path), path="/" + path.name)).registry
    else:
        registry = Registry.Registry(str(path))
    ctx = ExtractionContext(users_by_sid=dict(users or {}))
    events = list(load_plugins()[plugin]().process(HiveView(registry, kind, str(path)), ctx))
    return events, ctx


def iso(event):
    return event.timestamp.iso() if event.timestamp else None


# ============================================================================ ShimCache


@pytest.mark.parametrize("hive, fmt", [("SYSTEM", "Windows 10/11"),
                                       ("SYSTEM-1709", "Windows 10/11"),
                                       ("SYSTEM-win81", "Windows 8.1/Server 2012 R2")])
def test_shimcache_fixture_formats(hive, fmt):
    events, ctx = run(FIX / hive, "SYSTEM", "shimcache")
    expected = FACTS["shimcache"][hive]
    assert not ctx.warnings
    assert [e.data["path"] for e in events] == [x["path"] for x in expected]
    for position, (event, fact) in enumerate(zip(events, expected)):
        assert event.timestamp_desc == "File Modified (ShimCache)"
        assert iso(event) == fact["modified"]
        assert event.data["position"] == position
        assert event.data["executed"] == fact["executed"]
        assert event.data["data_size"] == fact["data_size"]
        assert event.data["format"] == fmt
        assert event.data["control_set"] == "ControlSet001" and event.data["current_control_set"]
        assert event.data.get("package") == fact["package"]
        assert event.data["key"].endswith("ControlSet001\\Control\\Session Manager\\AppCompatCache")


def test_shimcache_fixture_exact_values():
    events, _ = run(FIX / "SYSTEM", "SYSTEM", "shimcache")
    first = events[0]
    assert first.data["path"] == "C:\\Users\\alice\\Downloads\\invoice_viewer.exe"
    assert iso(first) == "2026-03-01T22:15:41.5000000Z"
    assert first.data["executed"] is None  # Windows 10 has no insert flag
    assert events[1].data["data_size"] == 8
    assert events[3].timestamp is None  # a zero FILETIME is "not set": no time invented
    win81, _ = run(FIX / "SYSTEM-win81", "SYSTEM", "shimcache")
    assert win81[0].data["executed"] is True and win81[0].data["insert_flags"] == 2
    assert win81[1].data["package"] == "Microsoft.BingWeather_8wekyb3d8bbwe"
    assert win81[1].data["executed"] is False


def test_shimcache_win7_x64_every_control_set():
    events, ctx = run(FIX / "SYSTEM-win7", "SYSTEM", "shimcache")
    assert not ctx.warnings
    facts = FACTS["shimcache"]["SYSTEM-win7"]
    for control_set in ("ControlSet001", "ControlSet002"):
        mine = [e for e in events if e.data["control_set"] == control_set]
        assert [(e.data["path"], iso(e), e.data["executed"], e.data["data_size"]) for e in mine] == [
            (f["path"], f["modified"], f["executed"], f["data_size"]) for f in facts[control_set]]
        assert all(e.data["format"] == "Windows 7/Server 2008 R2" for e in mine)
        # Select\Current = 2 in this hive
        assert all(e.data["current_control_set"] == (control_set == "ControlSet002") for e in mine)


def _entries(n_flags=True):
    return [{"path": "\\??\\C:\\Windows\\system32\\calc.exe", "ft": B.ft(2010, 1, 2, 3, 4, 5, 6),
             "insert_flags": 2, "shim_flags": 0, "size": 918528,
             "updated": B.ft(2010, 1, 3, 0, 0, 0, 7)},
            {"path": "\\??\\C:\\Temp\\x.exe", "ft": B.ft(2011, 5, 6, 7, 8, 9, 1234567),
             "insert_flags": 0, "shim_flags": 0, "size": 1, "updated": 0}]


@pytest.mark.parametrize("blob, kind", [
    (B.cache_vista(_entries(), wide=True), "vista"),
    (B.cache_vista(_entries(), wide=False), "vista"),
    (B.cache_win7(_entries(), wide=False), "win7"),
    (B.cache_win7(_entries(), wide=True), "win7"),
    (B.cache_win8(_entries(), "8.0"), "win8.0"),
    (B.cache_win8(_entries(), "8.1"), "win8.1"),
])
def test_shimcache_formats_in_memory(blob, kind):
    problems = []
    found, entries = parse_cache(blob, problems)
    assert found == kind and not problems
    assert [e.path for e in entries] == ["\\??\\C:\\Windows\\system32\\calc.exe",
                                         "\\??\\C:\\Temp\\x.exe"]
    assert entries[0].modified.iso() == "2010-01-02T03:04:05.0000006Z"
    assert entries[1].modified.iso() == "2011-05-06T07:08:09.1234567Z"
    assert [e.executed for e in entries] == [True, False]


def test_shimcache_windows_xp_lru_order_and_update_time():
    blob = B.cache_xp(_entries(), lru=[1, 0])
    kind, entries = parse_cache(blob)
    assert kind == "xp"
    assert [(e.path, e.position, e.file_size) for e in entries] == [
        ("\\??\\C:\\Windows\\system32\\calc.exe", 1, 918528), ("\\??\\C:\\Temp\\x.exe", 0, 1)]
    assert entries[0].updated.iso() == "2010-01-03T00:00:00.0000007Z"
    assert entries[1].updated is None and entries[0].executed is None

    class Key:  # the smallest key the plugin needs
        def path(self):
            return "ROOT\\ControlSet001\\Control\\Session Manager\\AppCompatibility"

    ctx = ExtractionContext()
    events = list(ShimCache._entries(Key(), blob, "ControlSet001", True, ctx))
    assert [(e.timestamp_desc, iso(e)) for e in events] == [
        ("File Modified (ShimCache)", "2010-01-02T03:04:05.0000006Z"),
        ("Entry Updated (ShimCache)", "2010-01-03T00:00:00.0000007Z"),
        ("File Modified (ShimCache)", "2011-05-06T07:08:09.1234567Z")]
    assert events[0].data["file_size"] == 918528 and events[0].data["format"] == "Windows XP"


@pytest.fixture(scope="module")
def win7_shimcache():
    return run(samples("registry", "win7", "SYSTEM"), "SYSTEM", "shimcache")


def test_real_win7_shimcache_660_entries_mfeann(win7_shimcache):
    events, ctx = win7_shimcache
    assert len(events) == 660 and not ctx.warnings  # 330 in each of the two control sets
    assert {e.data["control_set"] for e in events} == {"ControlSet001", "ControlSet002"}
    mfeann = [e for e in events
              if e.data["path"] == "\\??\\C:\\Program Files\\McAfee\\VirusScan Enterprise\\mfeann.exe"]
    assert len(mfeann) == 2
    for event in mfeann:
        assert iso(event) == "2011-01-12T12:08:00.0000000Z"
        assert event.timestamp_desc == "File Modified (ShimCache)"
        assert event.data["executed"] is True and event.data["position"] == 0
        assert event.data["format"] == "Windows 7/Server 2008 R2"
    current = {e.data["control_set"] for e in events if e.data["current_control_set"]}
    assert current == {"ControlSet001"}


def test_real_win10_1709_shimcache_is_full():
    events, ctx = run(samples("registry", "win10_1709", "SYSTEM"), "SYSTEM", "shimcache")
    assert len(events) == 1024 and not ctx.warnings  # Windows 10 keeps at most 1024
    assert [e.data["position"] for e in events] == list(range(1024))
    # pinned from this parser (no third-party ground truth for this hive's cache)
    assert events[0].data["path"].endswith("\\TiWorker.exe")
    assert iso(events[0]) == "2020-03-12T07:46:48.3077888Z"
    assert events[0].data["data_size"] == 136 and events[0].data["executed"] is None


def test_shimcache_damaged_values():
    events, ctx = run(FIX / "SYSTEM-bad", "SYSTEM", "shimcache")
    assert [(e.data["control_set"], e.data["path"]) for e in events] == [
        ("ControlSet002", B.WIN10_CACHE[0]["path"])]  # the entry before the damage is kept
    assert any("unknown AppCompatCache signature 0x99999999" in w for w in ctx.warnings)
    assert any("entry 1:" in w and "runs past the value" in w for w in ctx.warnings)
    with pytest.raises(CacheFormatError):
        detect_format(b"\x00\x01")


def test_shimcache_parser_never_crashes_on_hostile_bytes():
    blobs = [B.cache_win10(B.WIN10_CACHE), B.cache_win8(B.WIN81_CACHE), B.cache_win7(_entries()),
             B.cache_vista(_entries(), wide=False), B.cache_xp(_entries())]
    rng = random.Random(7)
    for blob in blobs:
        variants = [blob[:cut] for cut in range(0, len(blob), 7)]
        for _ in range(200):
            damaged = bytearray(blob)
            for _ in range(4):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            variants.append(bytes(damaged))
        variants.append(blob[:4] + struct.pack("<I", 0xFFFFFFFF) + blob[8:])  # absurd count
        for variant in variants:
            try:
                parse_cache(variant, [])
            except CacheFormatError:
                pass


# ============================================================================ BAM / DAM


def test_bam_fixture_state_layout_users_and_dam():
    events, ctx = run(FIX / "SYSTEM", "SYSTEM", "bam", users=USERS)
    assert not ctx.warnings
    got = [{"service": e.data["service"], "sid": e.data["sid"], "program": e.data["program"],
            "last_run": iso(e)} for e in events]
    assert got == FACTS["bam"]["SYSTEM"]
    assert all(e.timestamp_desc == "Last Run" for e in events)
    assert {e.data["sid"]: e.user for e in events} == {ALICE: "alice", BOB: "bob"}
    cmd = next(e for e in events if e.data["program"].endswith("cmd.exe"))
    assert iso(cmd) == "2026-03-02T08:20:00.7654321Z"
    assert cmd.data["key"].endswith(f"ControlSet001\\Services\\bam\\State\\UserSettings\\{ALICE}")
    dam = [e for e in events if e.data["service"] == "dam"]
    assert len(dam) == 1 and dam[0].data["program"].endswith("SearchApp.exe")


def test_bam_fixture_1709_layout_and_unknown_sid():
    events, _ = run(FIX / "SYSTEM-1709", "SYSTEM", "bam")  # no ProfileList known
    assert [(e.data["program"], iso(e), e.user) for e in events] == [
        (f["program"], f["last_run"], ALICE) for f in FACTS["bam"]["SYSTEM-1709"]]
    assert "\\Services\\bam\\UserSettings\\" in events[0].data["key"]


def test_bam_damaged_values_are_skipped_with_warnings():
    events, ctx = run(FIX / "SYSTEM-bad", "SYSTEM", "bam")
    assert [(e.data["program"], iso(e)) for e in events] == [
        ("\\Device\\HarddiskVolume3\\ok.exe", "2026-03-02T01:02:03.0000004Z")]
    assert len(ctx.warnings) == 2
    assert all("is not a FILETIME record" in w and ALICE in w for w in ctx.warnings)


def test_real_win10_1709_bam_55_entries_dwm():
    events, ctx = run(samples("registry", "win10_1709", "SYSTEM"), "SYSTEM", "bam")
    assert len(events) == 55 and not ctx.warnings
    state = [e for e in events if "\\bam\\State\\UserSettings\\" in e.data["key"]]
    assert len(state) == 31
    dwm = [e for e in state if e.data["sid"] == "S-1-5-90-0-1"]
    assert [e.data["program"] for e in dwm] == ["\\Device\\HarddiskVolume2\\Windows\\System32\\dwm.exe"]
    assert iso(dwm[0]) == "2020-04-19T09:09:35.7318159Z"  # regipy: ...35.731816 (µs, rounded)
    assert dwm[0].user == "S-1-5-90-0-1"  # no ProfileList given: the SID itself


# ============================================================================ Amcache


@pytest.fixture(scope="module")
def amcache_fixture():
    return run(FIX / "Amcache.hve", "AMCACHE", "amcache")


def _by(events, **match):
    chosen = [e for e in events if all(e.data.get(k) == v for k, v in match.items())]
    assert chosen, match
    out = {e.timestamp_desc: iso(e) for e in chosen}
    assert len(out) == len(chosen)
    return out, chosen[0].data


def test_amcache_fixture_inventory_application_file(amcache_fixture):
    events, ctx = amcache_fixture
    assert not ctx.warnings
    for fact in FACTS["amcache"]["files"]:
        times, data = _by(events, layout="InventoryApplicationFile", path=fact["path"])
        expected = {"Key Last Written": fact["key_written"]}
        if fact["link_time"]:
            expected["Link Time"] = fact["link_time"]
        assert times == expected
        assert data["sha1"] == fact["sha1"] and data["file_id"] == "0000" + fact["sha1"]
        assert data["size"] == fact["size"]  # REG_QWORD, or the "0x..." string of early builds
        assert (data["product_name"], data["publisher"], data["version"], data["binary_type"]) == (
            fact["product_name"], fact["publisher"], fact["version"], fact["binary_type"])
    _, viewer = _by(events, layout="InventoryApplicationFile",
                    path="c:\\users\\alice\\downloads\\invoice_viewer.exe")
    assert viewer["link_date"] == "02/27/2026 09:41:05"
    assert viewer["key"].endswith("Root\\InventoryApplicationFile\\invoice_viewer.exe|4f2a9c1d7e3b8a60")


def test_amcache_fixture_applications_old_files_and_programs(amcache_fixture):
    events, _ = amcache_fixture
    for fact in FACTS["amcache"]["applications"]:
        times, data = _by(events, layout="InventoryApplication", name=fact["name"])
        expected = {"Key Last Written": fact["key_written"]}
        if fact["installed"]:
            expected["Program Installed"] = fact["installed"]
        assert times == expected
        assert (data["publisher"], data["version"], data["source"], data["root_dir_path"]) == (
            fact["publisher"], fact["version"], fact["source"], fact["root_dir_path"])
    for fact in FACTS["amcache"]["old_files"]:
        times, data = _by(events, layout="File", path=fact["path"])
        assert times == {"Key Last Written": fact["key_written"], "File Modified": fact["modified"],
                         "File Created": fact["created"], "Link Time": fact["link_time"],
                         "Last Modified 2 (Amcache value 17)": fact["value_17"]}
        assert (data["sha1"], data["volume_guid"], data["mft_entry"], data["mft_sequence"],
                data["size"], data["product_name"], data["publisher"]) == (
            fact["sha1"], fact["volume_guid"], fact["mft_entry"], fact["mft_sequence"],
            fact["size"], fact["product_name"], fact["publisher"])
    for fact in FACTS["amcache"]["programs"]:
        times, data = _by(events, layout="Programs", name=fact["name"])
        assert times == {"Program Installed": fact["installed"],
                         "Key Last Written": fact["key_written"]}
        assert data["publisher"] == fact["publisher"] and data["version"] == fact["version"]
    assert len(events) == 13


def test_amcache_damaged_entries():
    events, ctx = run(FIX / "Amcache-bad.hve", "AMCACHE", "amcache")
    assert sorted(e.data["layout"] for e in events) == ["File", "InventoryApplication",
                                                        "InventoryApplicationFile"]
    assert all(e.timestamp_desc == "Key Last Written" for e in events)
    bad = next(e for e in events if e.data["layout"] == "InventoryApplicationFile")
    assert bad.data["sha1"] is None and bad.data["file_id"] == "not-a-hash"
    assert bad.data["size"] is None
    odd = next(e for e in events if e.data["layout"] == "File")
    assert odd.data["mft_entry"] is None and odd.data["path"] == "c:\\odd.exe"
    assert len(ctx.warnings) == 2
    assert any("LinkDate '13/45/2026 99:00:00'" in w for w in ctx.warnings)
    assert any("InstallDate 'yesterday'" in w for w in ctx.warnings)


@pytest.fixture(scope="module")
def amcache_2017():
    return run(samples("registry", "amcache", "Amcache-2017.hve"), "AMCACHE", "amcache")


def test_real_amcache_2017_old_layout_idafree(amcache_2017):
    events, ctx = amcache_2017
    assert not ctx.warnings
    times, data = _by(events, layout="File",
                      path="c:\\users\\user\\appdata\\local\\temp\\chocolatey\\is-f4510.tmp\\idafree50.tmp")
    assert data["sha1"] == "82274eef0911a948f91425f5e5b0e730517fe75e"
    assert times == {
        "File Created": "2017-08-01T12:43:35.1772758Z",
        "File Modified": "2017-08-01T12:43:35.3024523Z",
        # plaso reports value 17 as the entry's written time: 12:43:35.3715211
        "Last Modified 2 (Amcache value 17)": "2017-08-01T12:43:35.3715211Z",
        "Key Last Written": "2017-08-01T12:43:35.4741623Z",  # the key's own last write
        "Link Time": "1992-06-19T22:22:17Z"}
    assert (data["mft_entry"], data["mft_sequence"]) == (0x1852B, 0x10)


def test_real_amcache_2017_programs_and_counts(amcache_2017):
    events, _ = amcache_2017
    installs = {e.data["layout"]: iso(e) for e in events
                if e.timestamp_desc == "Program Installed"
                and e.data["name"] == "FileInsight - File analysis tool"}
    assert installs == {"InventoryApplication": "2017-08-01T12:52:59Z",
                        "Programs": "2017-08-01T12:52:59Z"}
    fileinsight = [e for e in events if e.data.get("name") == "FileInsight - File analysis tool"]
    assert {e.data["publisher"] for e in fileinsight} == {"McAfee Inc."}
    files = [e for e in events if e.timestamp_desc == "Key Last Written"
             and e.data["layout"] in ("File", "InventoryApplicationFile")]
    assert len(files) == 1367  # regipy's AmCache plugin count
    tpvm = next(e for e in files if e.data["path"] == "C:\\Windows\\system32\\TPVMMondeu.dll")
    assert tpvm.data["sha1"] == "056f4b9d9ec9b5dc548e1b460da889e44089d76f"
    assert tpvm.data["program_id"] == "0000" + "75a010066bb612ca7357ce31df8e9f0300000904"


def test_real_amcache_win10_svchost():
    events, ctx = run(samples("registry", "amcache", "win10-Amcache.hve"), "AMCACHE", "amcache")
    assert not ctx.warnings
    times, data = _by(events, layout="InventoryApplicationFile",
                      path="c:\\windows\\system32\\svchost.exe")
    assert times == {"Key Last Written": "2019-12-17T05:30:28.2416496Z",
                     "Link Time": "1997-01-10T22:26:24Z"}
    assert data["file_id"] == "000075c5a97f521f760e32a4a9639a653eed862e9c61"
    assert data["sha1"] == "75c5a97f521f760e32a4a9639a653eed862e9c61"
    assert data["size"] == 53744 and data["binary_type"] == "pe64_amd64"
    seven_zip, _ = _by(events, layout="InventoryApplication", name="7-Zip 19.00 (x64)")
    assert seven_zip["Program Installed"] == "2019-12-16T21:01:06Z"


# ============================================================================ Shell items


def test_fat_datetime():
    assert fat_datetime(0x4C76, 0x1656).iso() == "2018-03-22T02:50:44Z"
    assert fat_datetime(0, 0) is None
    assert fat_datetime(0x4C5E, 0x0000) is None  # 30 February 2018
    assert fat_datetime(0x4C00, 0) is None  # month 0


def test_shell_items_from_the_builders():
    users = parse_item(B.file_entry("PROJEC~1", "Project Falcon", B.fat(2026, 3, 2, 9, 31, 38),
                                    B.fat(2026, 2, 14, 11, 5, 20), B.fat(2026, 3, 2, 9, 31, 40),
                                    mft_entry=88412, mft_sequence=3))
    assert (users.kind, users.short_name, users.long_name, users.name) == (
        "file_entry", "PROJEC~1", "Project Falcon", "Project Falcon")
    assert (users.mft_entry, users.mft_sequence, users.extension_version) == (88412, 3, 9)
    assert (users.modified.iso(), users.created.iso(), users.accessed.iso()) == (
        "2026-03-02T09:31:38Z", "2026-02-14T11:05:20Z", "2026-03-02T09:31:40Z")
    share = parse_item(B.network_location("\\\\srv\\data", "Microsoft Network"))
    assert (share.kind, share.name, share.network, share.extra["description"]) == (
        "network_location", "\\\\srv\\data", True, "Microsoft Network")
    drive = parse_item(B.removable_root_drive("E:\\"))
    assert (drive.kind, drive.name, drive.drive_letter, drive.removable) == (
        "root_drive", "E:\\", "E", True)
    uri = parse_item(B.uri_item("https://intranet.example/wiki"))
    assert (uri.kind, uri.name) == ("uri", "https://intranet.example/wiki")
    assert parse_item(B.control_panel_category(1)).name == "<Appearance and Personalization>"
    assert parse_item(B.mtp_storage("Galaxy", "SID-{1}", "FAT32")).name == "Galaxy"
    assert parse_item(B.mtp_folder("Camera", "o1")).name == "Camera"
    assert join_path(["<My Computer>", "C:\\", "Users", "alice"]) == "<My Computer> C:\\Users\\alice"


def test_shell_items_damaged_and_hostile():
    assert parse_item_list(b"") == []
    truncated = parse_item_list(b"\xc8\x00\x31\x00")
    assert truncated[0].problems and truncated[0].name == "<truncated item>"
    unknown = parse_item(b"\x0c\x00\x99" + bytes(9))
    assert unknown.kind == "unknown" and unknown.problems
    rng = random.Random(11)
    seeds = [item for folder in B.FOLDERS for item in [folder["item"]]]
    for _ in range(400):
        blob = bytearray(rng.choice(seeds))
        for _ in range(rng.randrange(1, 6)):
            blob[rng.randrange(len(blob))] = rng.randrange(256)
        for item in parse_item_list(bytes(blob) + b"\0\0"):
            assert isinstance(item.name, str)
    assert parse_property_stores(b"\xff\xff\xff\xff1SPS" + bytes(40)) == {}


def test_shell_items_agree_with_libfwsi_on_real_file_entries():
    pyfwsi = pytest.importorskip("pyfwsi")
    checked = 0
    for parts, root in [
            (("win10", "UsrClass-regipy.dat"), "Local Settings\\Software\\Microsoft\\Windows\\Shell\\BagMRU"),
            (("winxp", "NTUSER.DAT"), "Software\\Microsoft\\Windows\\ShellNoRoam\\BagMRU")]:
        registry = Registry.Registry(str(samples("registry", *parts)))
        stack = [registry.open(root)]
        while stack:
            key = stack.pop()
            stack.extend(key.subkeys())
            for value in key.values():
                if not value.name().isdigit():
                    continue
                raw = value.raw_data()
                mine = parse_item_list(raw)[0]
                if mine.kind != "file_entry":
                    continue
                theirs = pyfwsi.item_list()
                theirs.copy_from_byte_stream(raw)
                entry = theirs.items[0]
                ext = next(e for e in entry.extension_blocks if hasattr(e, "long_name"))
                assert mine.short_name == entry.name and mine.long_name == ext.long_name
                if ext.file_reference is not None:
                    assert (mine.mft_sequence << 48) | mine.mft_entry == ext.file_reference
                checked += 1
    assert checked == 13


# ============================================================================ ShellBags


@pytest.fixture(scope="module")
def shellbags_fixture():
    return run(FIX / "UsrClass.dat", "USRCLASS", "shellbags")


def test_shellbags_fixture_folders(shellbags_fixture):
    events, ctx = shellbags_fixture
    assert not ctx.warnings
    facts = FACTS["shellbags"]
    folders = {e.data["path"]: e for e in events if e.timestamp_desc == "Key Last Written"}
    assert sorted(folders) == sorted(f["path"] for f in facts["folders"])
    for fact in facts["folders"]:
        event = folders[fact["path"]]
        data = event.data
        assert iso(event) == fact["key_written"], fact["path"]
        assert data["key"].endswith(f"{facts['bagmru_key']}\\{fact['key']}")
        assert (data["item_type"], data["node_slot"], data["mru_position"]) == (
            fact["item_type"], fact["node_slot"], fact["mru_position"]), fact["path"]
        assert (data["drive_letter"], data["removable"], data["network"]) == (
            fact["drive_letter"], fact["removable"], fact["network"]), fact["path"]
        if fact["mft"]:
            assert [data["mft_entry"], data["mft_sequence"]] == fact["mft"]
        if fact["long_name"]:
            assert (data["short_name"], data["long_name"]) == (fact["short_name"], fact["long_name"])
        fat = {e.timestamp_desc: iso(e) for e in events
               if e.data["key"] == data["key"] and e.timestamp_desc.startswith("Folder ")}
        if fact["fat"]:
            assert fat == fact["fat"]
            assert all(e.data["fat_times_utc"] for e in events
                       if e.data["key"] == data["key"] and e.timestamp_desc != "Key Last Written")
    roots = [e for e in folders.values() if e.data["parent_key"].endswith("Shell\\BagMRU")]
    assert {e.data["parent_key_last_written"] for e in roots} == {facts["bagmru_written"]}
    falcon = folders["<My Computer> C:\\Users\\alice\\Project Falcon"].data
    assert falcon["item_types"] == ["root_folder", "volume", "file_entry", "file_entry",
                                    "file_entry"]
    assert len(events) == 19 + 3 * 6


def test_shellbags_damaged_items_and_depth_bound():
    events, ctx = run(FIX / "UsrClass-bad.dat", "USRCLASS", "shellbags")
    warnings = "\n".join(ctx.warnings)
    assert "item size 200 runs past the value" in warnings
    assert "unsupported shell item class 0x99" in warnings
    assert "value 2 holds no shell item" in warnings
    assert "deeper than 64 levels: not read" in warnings
    folders = [e for e in events if e.timestamp_desc == "Key Last Written"]
    deepest = max(folders, key=lambda e: len(e.data["item_types"]))
    assert len(deepest.data["item_types"]) == 64 and deepest.timestamp is None
    assert any(e.data["path"] == "Z:\\deep0\\deep1" for e in folders)


def test_real_win8_usrclass_shellbags():
    events, ctx = run(samples("registry", "win8", "UsrClass.dat"), "USRCLASS", "shellbags")
    assert not ctx.warnings
    folders = [e for e in events if e.timestamp_desc == "Key Last Written"]
    # plaso: 7 keys (BagMRU itself and its 6 subkeys), one folder per subkey here
    assert len(folders) == 6
    top = [e for e in folders if e.data["parent_key"].endswith("Shell\\BagMRU")]
    assert [(e.data["value"], e.data["path"]) for e in top] == [("0", "<Control Panel>"),
                                                                ("1", "<My Computer>")]
    assert {e.data["parent_key_last_written"] for e in top} == {"2016-10-09T20:04:37.8092483Z"}
    pictures = next(e for e in folders if e.data["key"].endswith("BagMRU\\1\\0"))
    assert iso(pictures) == "2016-10-09T19:59:07.2344283Z"
    assert pictures.data["path"] == "<My Computer> <Pictures>"
    deepest = next(e for e in folders if e.data["key"].endswith("BagMRU\\0\\0\\0\\0"))
    assert deepest.data["path"] == ("<Control Panel> <Appearance and Personalization> "
                                    "<Personalization> <Desktop Background>")


def test_real_win10_usrclass_primary_file_like_regipy():
    events, ctx = run(samples("registry", "win10", "UsrClass-regipy.dat"), "USRCLASS", "shellbags")
    folders = [e for e in events if e.timestamp_desc == "Key Last Written"]
    assert len(folders) == 29 and not ctx.warnings
    top = {int(e.data["value"]): e for e in folders if e.data["parent_key"].endswith("Shell\\BagMRU")}
    dropbox = top[9]
    assert (dropbox.data["path"], dropbox.data["item_type"]) == ("<Dropbox>", "root_folder")
    assert dropbox.data["parent_key_last_written"] == "2018-04-05T02:13:26.8430240Z"
    order = sorted(top, key=lambda n: top[n].data["mru_position"])
    assert order == [4, 8, 7, 6, 9, 0, 1, 5, 3, 2]
    drive = top[1]
    assert (drive.data["path"], drive.data["removable"], drive.data["drive_letter"]) == (
        "D:\\", True, "D")
    box = next(e for e in folders if e.data["path"] == "<My Computer> C:\\Users\\jcloudy\\Box Sync")
    assert (box.data["mft_entry"], box.data["mft_sequence"], box.data["short_name"]) == (
        140782, 2, "BOXSYN~1")
    assert iso(box) == "2018-04-05T02:12:11.0046477Z"
    fat = {e.timestamp_desc: iso(e) for e in events if e.data["key"] == box.data["key"]
           and e.timestamp_desc != "Key Last Written"}
    assert fat == {"Folder Modified": "2018-04-05T02:11:16Z",
                   "Folder Created": "2018-03-28T00:53:58Z",
                   "Folder Accessed": "2018-04-05T02:11:16Z"}


def test_real_win10_usrclass_recovered_from_logs_has_more_bags():
    events, _ = run(samples("registry", "win10", "UsrClass-regipy.dat"), "USRCLASS", "shellbags",
                    recover=True)
    listed = [e for e in events if e.timestamp_desc == "Key Last Written"]
    assert len(listed) == 38  # 29 in the primary file, 9 more from the logs
    folders = {e.data["path"]: e for e in listed}
    imager = folders["F:\\Programs\\Imager_Lite_3.1.1"]
    assert imager.data["removable"] is True and iso(imager) == "2018-04-06T12:41:08.1327328Z"


def test_real_winxp_ntuser_shellnoroam():
    events, _ = run(samples("registry", "winxp", "NTUSER.DAT"), "NTUSER", "shellbags")
    paths = [e.data["path"] for e in events if e.timestamp_desc == "Key Last Written"]
    assert "<My Computer> C:\\Documents and Settings\\Administrator\\My Documents" in paths
    docs = next(e for e in events if e.data["path"] == "<My Computer> C:\\Documents and Settings"
                and e.timestamp_desc == "Folder Created")
    assert iso(docs) == "2007-10-11T13:23:48Z" and docs.data["short_name"] == "DOCUME~1"
    assert docs.data["bag_root"] == "Software\\Microsoft\\Windows\\ShellNoRoam\\BagMRU"


# ============================================================================ end to end


def test_end_to_end_system_drive(tmp_path, cli):
    evidence = tmp_path / "evidence"
    places = {"SYSTEM": "Windows/System32/config/SYSTEM",
              "SOFTWARE": "Windows/System32/config/SOFTWARE",
              "Amcache.hve": "Windows/AppCompat/Programs/Amcache.hve",
              "UsrClass.dat": "Users/alice/AppData/Local/Microsoft/Windows/UsrClass.dat"}
    for name, where in places.items():
        target = evidence / where
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(FIX / name, target)
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case)
              if e["data"].get("plugin") in ("shimcache", "bam", "amcache", "shellbags")]
    counts = {p: sum(1 for e in events if e["data"]["plugin"] == p)
              for p in ("shimcache", "bam", "amcache", "shellbags")}
    assert counts == {"shimcache": 4, "bam": 5, "amcache": 13, "shellbags": 37}
    shim = next(e for e in events if e["data"]["plugin"] == "shimcache"
                and e["data"]["position"] == 0)
    assert shim["timestamp"] == "2026-03-01T22:15:41.5000000Z"
    assert shim["timestamp_desc"] == "File Modified (ShimCache)"
    assert shim["source"]["path"] == "/Windows/System32/config/SYSTEM"
    bam = {e["data"]["program"]: e for e in events if e["data"]["plugin"] == "bam"}
    viewer = bam["\\Device\\HarddiskVolume3\\Users\\alice\\Downloads\\invoice_viewer.exe"]
    assert viewer["user"] == "alice" and viewer["timestamp"] == "2026-03-02T08:14:09.1234567Z"
    assert bam["\\Device\\HarddiskVolume3\\Windows\\explorer.exe"]["user"] == "bob"
    amcache = next(e for e in events if e["data"]["plugin"] == "amcache"
                   and e["timestamp_desc"] == "Link Time"
                   and e["data"]["layout"] == "InventoryApplicationFile")
    assert amcache["timestamp"] == "2026-02-27T09:41:05Z" and amcache["data"]["hive"] == "AMCACHE"
    bags = [e for e in events if e["data"]["plugin"] == "shellbags"]
    assert {e["user"] for e in bags} == {"alice"}
    falcon = next(e for e in bags if e["timestamp_desc"] == "Folder Created"
                  and e["data"]["path"] == "<My Computer> C:\\Users\\alice\\Project Falcon")
    assert falcon["timestamp"] == "2026-02-14T11:05:20Z" and falcon["data"]["hive"] == "USRCLASS"
    assert tree_digest(evidence) == before
