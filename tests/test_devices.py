"""One record per removable device, correlated across registry, setupapi and event logs."""
from __future__ import annotations

import json
import shutil

from conftest import ROOT
from fixtures.builders.lnk_writer import build_lnk, link_info_local
from test_evtx import T0_ISO, T2_ISO, partition_log, storsvc_log

USB = ROOT / "fixtures" / "artifacts" / "registry" / "usb"
FACTS = json.loads((USB / "facts.json").read_text(encoding="utf-8"))


def _system_drive(root):
    config = root / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copy(USB / "SYSTEM", config / "SYSTEM")
    shutil.copy(USB / "SOFTWARE", config / "SOFTWARE")
    (root / "Users" / "alice").mkdir(parents=True)
    shutil.copy(USB / "NTUSER.DAT", root / "Users" / "alice" / "NTUSER.DAT")
    logs = root / "Windows" / "System32" / "winevt" / "Logs"
    logs.mkdir(parents=True)
    (logs / "Microsoft-Windows-Partition%4Diagnostic.evtx").write_bytes(partition_log())
    recent = root / "Users" / "alice" / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Recent"
    recent.mkdir(parents=True)
    usrclass = root / "Users" / "alice" / "AppData" / "Local" / "Microsoft" / "Windows"
    usrclass.mkdir(parents=True)
    shutil.copy(ROOT / "fixtures" / "artifacts" / "registry" / "execution" / "UsrClass.dat",
                usrclass / "UsrClass.dat")  # ShellBags of E:\ and E:\exfil
    (recent / "顧客リスト.lnk").write_bytes(build_lnk(
        link_info=link_info_local("E:\\CUSTOMERS\\顧客リスト.xlsx", 2, 0x4B1D2C3E, "KIOXIA"),
        accessed=134174100000000000, file_size=762))
    return root


def test_devices_are_correlated_across_sources(cli, tmp_path):
    case = tmp_path / "case"
    result = cli("run", _system_drive(tmp_path / "ev"), "-o", case, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entities"] == {"devices": 4}
    devices = {d["serial"]: d for d in json.loads(cli("usb", case, "--json").output)}

    stick = devices["0022CFF6B8A7C2B1"]  # USB, USBSTOR, WPD, MountedDevices, EMDMgmt, MountPoints2
    assert (stick["kind"], stick["vendor"], stick["product"]) == ("mass storage", "KIOXIA", "TransMemory")
    assert (stick["vid"], stick["pid"]) == ("0930", "6545")
    assert stick["drive_letters"] == ["E:"]
    assert stick["volume_labels"] == ["KIOXIA"] and stick["volume_serials"] == ["4B1D2C3E"]
    assert stick["volume_guids"] == ["{7f3a9c2e-1b4d-11f1-a5c1-806e6f6e6963}"]
    assert stick["users"] == ["alice"]  # through MountPoints2 and the volume GUID
    opened = stick["files_opened"]  # the shortcut records the stick's volume serial
    by_serial = [(f["path"], f["user"]) for f in opened if f["linked_by"] == "volume serial"]
    assert by_serial == [("E:\\CUSTOMERS\\顧客リスト.xlsx", "alice")]
    # ShellBags record no serial: their E: folders are linked by drive letter (weaker)
    by_letter = {f["path"] for f in opened if f["linked_by"] == "drive letter"}
    assert {"E:\\", "E:\\exfil"} <= {p.replace("<My Computer> ", "") for p in by_letter}
    assert (stick["first_connected"], stick["first_connected_source"]) == (
        "2026-03-09T01:15:41.8765432Z", "usb_devices (USB)")
    assert (stick["last_removed"], stick["last_removed_source"]) == (
        "2026-03-11T07:48:03.3000002Z", "usb_devices (USB)")
    # conflicting sources are all kept, each naming itself
    sources = {(t["desc"], t["source"]) for t in stick["times"]}
    assert {("First Install", "usb_devices (USB)"), ("First Install", "usb_devices (USBSTOR)"),
            ("Last Removal", "usb_devices (USBSTOR)")} <= sources

    phone = devices["28031FDH2000RJ"]
    assert phone["kind"] == "portable device (MTP)" and phone["friendly_name"] == "Pixel 7"
    assert phone["drive_letters"] == []  # no drive letter, still a device

    sandisk = devices["4C530001230721117134"]  # only the event log saw it
    assert (sandisk["vendor"], sandisk["product"], sandisk["capacity"]) == ("SanDisk", "Cruzer Blade", 15_728_640_000)
    assert [(t["desc"], t["time"]) for t in sandisk["times"]] == [
        ("Disk Connected", T0_ISO), ("Disk Disconnected", T2_ISO)]
    assert sandisk["times"][0]["source"] == "event log Microsoft-Windows-Partition/Diagnostic 1006"
    assert (sandisk["last_connected"], sandisk["last_removed"]) == (T0_ISO, T2_ISO)


def test_usb_command_table_and_missing_tables(cli, tmp_path):
    case = tmp_path / "case"
    cli("run", _system_drive(tmp_path / "ev"), "-o", case, "--quiet")
    table = cli("usb", case)
    assert table.exit_code == 0 and "Pixel 7" in table.output and "KIOXIA" in table.output
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "Users").mkdir()
    cli("run", empty, "-o", tmp_path / "c2", "--quiet")
    assert json.loads(cli("usb", tmp_path / "c2", "--json").output) == []


def test_storsvc_reports_make_a_device(cli, tmp_path):
    root = _system_drive(tmp_path / "ev")
    logs = root / "Windows" / "System32" / "winevt" / "Logs"
    (logs / "Microsoft-Windows-Storsvc%4Diagnostic.evtx").write_bytes(storsvc_log())
    case = tmp_path / "case"
    assert cli("run", root, "-o", case, "--quiet").exit_code == 0
    devices = {d["serial"]: d for d in json.loads(cli("usb", case, "--json").output)}
    stick = devices["E0D55EA574F1E7B1A8B7"]
    assert (stick["vendor"], stick["product"], stick["capacity"]) == (
        "Kingston", "DataTraveler 3.0", 30_943_995_904)
    assert [(t["desc"], t["time"], t["source"]) for t in stick["times"]] == [
        ("Storage Service Device Report", T0_ISO,
         "event log Microsoft-Windows-Storsvc/Diagnostic 1001"),
        ("Storage Service Device Report", T2_ISO,
         "event log Microsoft-Windows-Storsvc/Diagnostic 1002")]
