"""SetupAPI logs (setupapi extractor): real plaso test logs, synthetic USB sections in every
encoding, Windows XP format, bounds, time zones, and a CLI run on a system-drive folder."""
from __future__ import annotations

import shutil

import pytest

from conftest import ROOT, read_jsonl, samples, tree_digest
from triage.extractors import ExtractionContext
from triage.extractors.setupapi import MAX_LINE, SetupApiLog
from triage.files import LocalFile
from triage.model import ArtifactError

USB_FIX = ROOT / "fixtures" / "artifacts" / "registry" / "usb"

DEV_LOG = """\
[Device Install Log]
     OS Version = 10.0.19045
     Service Pack = 0.0
     Suite = 0x0100
     ProductType = 1
     Architecture = amd64

[BeginLog]

[Boot Session: 2026/03/09 10:02:11.500]

>>>  [Device Install (Hardware initiated) - USB\\VID_0930&PID_6545\\0022CFF6B8A7C2B1]
>>>  Section start 2026/03/09 10:15:40.123
     ump: Creating Install Process: DrvInst.exe 10:15:40.130
     ndv: Retrieving device info...
     dvi: Device Class: {36fc9e60-c465-11cf-8056-444553540000}
<<<  Section end 2026/03/09 10:15:41.987
<<<  [Exit status: SUCCESS]


>>>  [Device Install (Hardware initiated) - USBSTOR\\Disk&Ven_KIOXIA&Prod_TransMemory&Rev_1.00\\0022CFF6B8A7C2B1&0]
>>>  Section start 2026/03/09 10:15:42.004
     ump: Creating Install Process: DrvInst.exe 10:15:42.010
!    dvi: Device not started: Device has problem: 0x1c (CM_PROB_FAILED_INSTALL).
<<<  Section end 2026/03/09 10:15:43.250
<<<  [Exit status: SUCCESS]


>>>  [Setup Import Driver Package - C:\\Temp\\café\\vendor.inf]
>>>  Section start 2026/03/10 09:00:00.001
      cmd: "C:\\Windows\\System32\\pnputil.exe" /add-driver C:\\Temp\\café\\vendor.inf
!!!  sto: Failed to import driver package. Error = 0x800B0109
!!!  sto: Catalog is not signed.
<<<  Section end 2026/03/10 09:00:00.250
<<<  [Exit status: FAILURE(0x800b0109)]


>>>  [Device Install (Hardware initiated) - USB\\VID_18D1&PID_4EE1\\28031FDH2000RJ]
>>>  Section start 2026/03/12 19:20:29.999
     dvi: Device Class: {eec5ad98-8080-425f-922a-dabf3de3f69a}
"""

XP_LOG = """\
[SetupAPI Log]
OS Version = 5.1.2600 Service Pack 3
Platform ID = 2 (NT)
Service Pack = 3.0
Suite = 0x0100
Product Type = 1
Architecture = x86
[2009/06/03 08:51:38 1028.7 Driver Install]
#-019 Searching for hardware ID(s): usb\\vid_0781&pid_5406&rev_0010,usb\\vid_0781&pid_5406
#-198 Command line processed: C:\\WINDOWS\\system32\\services.exe
#I022 Found "USB\\VID_0781&PID_5406" in C:\\WINDOWS\\inf\\usbstor.inf; Device: "USB Mass Storage Device".
#I123 Doing full install of "USB\\VID_0781&PID_5406\\0000161511737EFB".
#I121 Device install of "USB\\VID_0781&PID_5406\\0000161511737EFB" finished successfully.
[2009/06/03 08:51:45 1028.11 Driver Install]
#-019 Searching for hardware ID(s): usbstor\\disksandisk_u3_cruzer_micro__8.02
#I123 Doing full install of "USBSTOR\\DISK&VEN_SANDISK&PROD_U3_CRUZER_MICRO&REV_8.02\\0000161511737EFB&0".
#E360 An unsigned or incorrectly signed file "c:\\windows\\inf\\oem5.inf" will be installed.
#I121 Device install of "USBSTOR\\DISK&VEN_SANDISK&PROD_U3_CRUZER_MICRO&REV_8.02\\0000161511737EFB&0" finished successfully.
[2009/06/03 09:10:02 504.3 Sysprep]
#E005 Could not do it.
"""


def extract(path, zone=None):
    ctx = ExtractionContext(timezone=zone)
    events = list(SetupApiLog().extract(LocalFile(str(path)), ctx))
    return events, ctx


def write(tmp_path, text, encoding="utf-8", bom=b"", name="setupapi.dev.log"):
    path = tmp_path / name
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))
    return path


# ----------------------------------------------------------------- real logs (plaso test data)


def test_real_dev_log_sections():
    events, ctx = extract(samples("setupapi", "plaso", "setupapi.dev.log"))
    assert len(events) == 194 and ctx.warnings == []
    event = events[28]
    assert event.data["section_title"] == (
        "Device Install (DiInstallDriver) - C:\\Windows\\System32\\DriverStore\\FileRepository"
        "\\prnms003.inf_x86_8f17aac186c70ea6\\prnms003.inf")
    assert event.timestamp_desc == "Device Install Started"
    assert event.data["start_local"] == "2016/10/12 03:36:30.936"
    assert event.data["end_local"] == "2016/10/12 03:36:30.998"
    assert event.data["exit_status"] == "SUCCESS"
    assert event.data["inf_path"].endswith("prnms003.inf")
    assert event.data["device_instance_id"] is None
    assert event.data["os_version"] == "10.0.10240"
    # no zone known: no timestamp, the local text is kept and the reason given
    assert event.timestamp is None and event.data["time_zone"] is None
    assert "no time zone known" in event.data["timestamp_note"]
    assert any("no time zone is known" in n for n in ctx.notes)
    last = events[193]  # the one USB section of this log
    assert (last.data["bus"], last.data["vendor"], last.data["product"], last.data["serial"]) == (
        "USBSTOR", "Generic", "Flash_Disk", "99E2116A&0")


def test_real_dev_log_converted_with_a_zone():
    events, _ = extract(samples("setupapi", "plaso", "setupapi.dev.log"), "Asia/Tokyo")
    assert events[28].timestamp.iso() == "2016-10-11T18:36:30.936Z"
    assert events[28].data["end"] == "2016-10-11T18:36:30.998Z"
    assert events[28].data["time_zone"] == "Asia/Tokyo"
    assert "timestamp_note" not in events[28].data
    events, _ = extract(samples("setupapi", "plaso", "setupapi.dev.log"), "UTC")
    assert events[28].timestamp.iso() == "2016-10-12T03:36:30.936Z"


def test_real_setup_log_sections():
    events, ctx = extract(samples("setupapi", "plaso", "setupapi.setup.log"), "UTC")
    assert len(events) == 16 and ctx.warnings == []
    event = events[15]
    assert event.data["section_title"] == (
        "Setup Import Driver Package - C:\\Windows\\system32\\spool\\tools\\Microsoft XPS "
        "Document Writer\\prnms001.Inf")
    assert event.timestamp_desc == "Setup Section Started"
    assert event.timestamp.iso() == "2015-11-22T17:57:17.502Z"
    assert event.data["end"] == "2015-11-22T17:57:17.704Z"
    assert (event.data["start_local"], event.data["end_local"]) == (
        "2015/11/22 17:57:17.502", "2015/11/22 17:57:17.704")


# ----------------------------------------------------------------- synthetic USB sections


@pytest.mark.parametrize("encoding, bom", [
    ("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("utf-16-le", b"\xff\xfe"),
    ("utf-16-be", b"\xfe\xff"), ("utf-16-le", b""), ("cp1252", b"")])
def test_usb_sections_in_every_encoding(tmp_path, encoding, bom):
    events, ctx = extract(write(tmp_path, DEV_LOG, encoding, bom), "Asia/Tokyo")
    assert [e.timestamp_desc for e in events] == [
        "Device Install Started", "Device Install Started", "Setup Section Started",
        "Device Install Started"]
    usb, usbstor, failed, cut = events
    assert usb.timestamp.iso() == "2026-03-09T01:15:40.123Z"
    assert usb.data["start_local"] == "2026/03/09 10:15:40.123"
    assert usb.data["end"] == "2026-03-09T01:15:41.987Z"
    assert usb.data["device_instance_id"] == "USB\\VID_0930&PID_6545\\0022CFF6B8A7C2B1"
    assert (usb.data["bus"], usb.data["vid"], usb.data["pid"], usb.data["serial"]) == (
        "USB", "0930", "6545", "0022CFF6B8A7C2B1")
    assert usb.data["exit_status"] == "SUCCESS" and usb.data["time_zone"] == "Asia/Tokyo"
    assert usb.data["boot_session"] == "2026/03/09 10:02:11.500"
    assert usb.data["os_version"] == "10.0.19045" and usb.data["line"] == 12
    assert (usbstor.data["vendor"], usbstor.data["product"], usbstor.data["revision"],
            usbstor.data["serial"], usbstor.data["serial_generated"]) == (
        "KIOXIA", "TransMemory", "1.00", "0022CFF6B8A7C2B1&0", False)
    assert usbstor.data["warning_count"] == 1 and usbstor.data["error_count"] == 0
    assert usbstor.timestamp.iso() == "2026-03-09T01:15:42.004Z"
    assert failed.data["exit_status"] == "FAILURE(0x800b0109)"
    assert failed.data["error_count"] == 2
    assert failed.data["errors"][0] == \
        "!!!  sto: Failed to import driver package. Error = 0x800B0109"
    assert failed.data["inf_path"] == "C:\\Temp\\café\\vendor.inf"
    assert failed.data["command"] == '"C:\\Windows\\System32\\pnputil.exe" /add-driver ' \
                                     "C:\\Temp\\café\\vendor.inf"
    assert "[FAILURE(0x800b0109)]" in failed.message
    # the log ends inside the phone's section: kept, with no end and no exit status
    assert cut.timestamp.iso() == "2026-03-12T10:20:29.999Z"
    assert (cut.data["vid"], cut.data["pid"]) == ("18D1", "4EE1")
    assert cut.data["end"] is None and cut.data["exit_status"] is None
    assert any("ends inside a section" in w for w in ctx.warnings)
    if encoding == "cp1252":
        assert any("cp1252" in n for n in ctx.notes)


def test_time_zones_with_daylight_saving_and_fixed_offsets(tmp_path):
    path = write(tmp_path, DEV_LOG)
    events, _ = extract(path, "America/New_York")  # DST began 2026-03-08: UTC-4
    assert events[0].timestamp.iso() == "2026-03-09T14:15:40.123Z"
    events, _ = extract(path, "UTC+05:30")
    assert events[0].timestamp.iso() == "2026-03-09T04:45:40.123Z"
    assert events[0].data["time_zone"] == "UTC+05:30"


def test_over_long_lines_are_cut_and_parsing_goes_on(tmp_path):
    text = DEV_LOG.replace("     ndv: Retrieving device info...",
                           "     ndv: " + "A" * (MAX_LINE * 10))
    events, ctx = extract(write(tmp_path, text), "UTC")
    assert len(events) == 4 and events[0].data["end_local"] == "2026/03/09 10:15:41.987"
    assert any("longer than 8192 characters were cut" in w for w in ctx.warnings)
    events, ctx = extract(write(tmp_path, text, "utf-16-le", b"\xff\xfe"), "UTC")
    assert len(events) == 4 and any("were cut" in w for w in ctx.warnings)


def test_section_without_end_followed_by_another(tmp_path):
    text = DEV_LOG.replace(
        "<<<  Section end 2026/03/09 10:15:41.987\n<<<  [Exit status: SUCCESS]\n", "")
    events, ctx = extract(write(tmp_path, text), "UTC")
    assert len(events) == 4 and events[0].data["end"] is None
    assert events[0].data["exit_status"] is None
    assert any("line 12: section has no end" in w for w in ctx.warnings)


def test_windows_xp_setupapi_log(tmp_path):
    events, ctx = extract(write(tmp_path, XP_LOG, name="setupapi.log"), "Europe/Berlin")
    assert len(events) == 3
    usb, usbstor, sysprep = events
    assert usb.timestamp.iso() == "2009-06-03T06:51:38Z"  # CEST, whole seconds
    assert usb.timestamp_desc == "Device Install Started" and usb.data["log_format"] == "xp"
    assert usb.data["device_instance_id"] == "USB\\VID_0781&PID_5406\\0000161511737EFB"
    assert (usb.data["vid"], usb.data["pid"], usb.data["serial"]) == (
        "0781", "5406", "0000161511737EFB")
    assert usb.data["exit_status"] == "SUCCESS" and usb.data["process_thread"] == "1028.7"
    assert usb.data["os_version"] == "5.1.2600 Service Pack 3"
    assert (usbstor.data["vendor"], usbstor.data["product"], usbstor.data["revision"]) == (
        "SANDISK", "U3_CRUZER_MICRO", "8.02")
    assert usbstor.data["error_count"] == 1 and usbstor.data["exit_status"] == "SUCCESS"
    assert sysprep.timestamp_desc == "Setup Section Started"
    assert sysprep.data["exit_status"] == "FAILURE" and sysprep.data["device_instance_id"] is None
    assert ctx.warnings == []


def test_not_a_setupapi_log(tmp_path):
    junk = tmp_path / "setupapi.dev.log"
    junk.write_bytes(b"\x00\x01\x02 random bytes\n" * 50)
    with pytest.raises(ArtifactError, match="not a SetupAPI log"):
        extract(junk)
    empty = write(tmp_path, "[Device Install Log]\n     OS Version = 10.0.19045\n", name="e.log")
    assert extract(empty)[0] == []


# ----------------------------------------------------------------- end to end


def test_cli_run_converts_with_the_seized_system_zone(cli, tmp_path):
    evidence = tmp_path / "evidence"
    config = evidence / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copy(USB_FIX / "SYSTEM", config / "SYSTEM")  # TimeZoneKeyName Tokyo Standard Time
    inf = evidence / "Windows" / "INF"
    inf.mkdir()
    write(inf, DEV_LOG)
    write(inf, DEV_LOG.split(">>>  [Setup Import")[0], name="setupapi.dev.20260309_101500.log")
    write(evidence / "Windows", XP_LOG, name="setupapi.log")
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["extractor"] == "setupapi"]
    by_artifact = {}
    for e in events:
        by_artifact.setdefault(e["artifact"], []).append(e)
    assert {k: len(v) for k, v in by_artifact.items()} == {
        "SetupAPIDevLog": 6, "SetupAPILogXP": 3}
    assert all(e["family"] == "usb" and e["host"] == "WS-ACCT-07" for e in events)
    first = next(e for e in events if e["source"]["path"] == "/Windows/INF/setupapi.dev.log")
    assert first["timestamp"] == "2026-03-09T01:15:40.123Z"
    assert first["data"]["time_zone"] == "Asia/Tokyo"
    assert first["data"]["device_instance_id"] == "USB\\VID_0930&PID_6545\\0022CFF6B8A7C2B1"
    assert tree_digest(evidence) == before
    case2 = tmp_path / "case2"
    result = cli("run", evidence, "-o", case2, "--source-tz", "UTC", "--only", "usb")
    assert result.exit_code == 0, result.output
    first = next(e for e in read_jsonl(case2)
                 if e["source"]["path"] == "/Windows/INF/setupapi.dev.log")
    assert first["timestamp"] == "2026-03-09T10:15:40.123Z" and first["data"]["time_zone"] == "UTC"
