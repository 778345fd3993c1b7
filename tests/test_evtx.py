"""EVTX extractor: files built the way Windows writes them, the real samples, bad input, CLI."""
from __future__ import annotations

import hashlib
import io
import struct
import sys
import zlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

import pyevtx  # noqa: E402
from conftest import ALICE, read_jsonl, samples  # noqa: E402

from fixtures.builders.evtx_writer import (  # noqa: E402
    HEX32,
    EvtxRecord,
    Value,
    build_evtx,
    event_data,
    hex64,
    sid,
    u32,
    u64,
    user_data,
)
from triage import evtx_catalog  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.evtx import EvtxExtractor, render  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError, Timestamp  # noqa: E402

# 2026-03-02T01:02:03.1234567Z as FILETIME, and later times
T0 = 134168869231234567
T0_ISO = "2026-03-02T01:02:03.1234567Z"
T1 = T0 + 600_000_000  # + 60 s
T1_ISO = "2026-03-02T01:03:03.1234567Z"
T2 = T0 + 36_000_000_000  # + 1 h
T2_ISO = "2026-03-02T02:02:03.1234567Z"

SECURITY = "Microsoft-Windows-Security-Auditing"
SECURITY_GUID = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
EVENTLOG_NS = "http://manifests.microsoft.com/win/2004/08/windows/eventlog"
LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager"
LSM_NS = "Event_NS"


def _logon_4624() -> EvtxRecord:
    return EvtxRecord(
        4624, SECURITY, "Security", T0, computer="WKS-01.corp.example", level=0,
        provider_guid=SECURITY_GUID, keywords=0x8020000000000000, task=12544, version=2,
        payload=event_data([
            ("SubjectUserSid", sid("S-1-5-18")), ("SubjectUserName", "WKS-01$"),
            ("SubjectDomainName", "CORP"), ("SubjectLogonId", hex64(0x3E7)),
            ("TargetUserSid", sid(ALICE)), ("TargetUserName", "alice"),
            ("TargetDomainName", "CORP"), ("TargetLogonId", hex64(0x4A5B6C)),
            ("LogonType", u32(10)), ("LogonProcessName", "User32 "),
            ("AuthenticationPackageName", "Negotiate"), ("WorkstationName", "WKS-01"),
            ("LogonGuid", Value(0x0F, "{01234567-89ab-cdef-0123-456789abcdef}")),
            ("TransmittedServices", "-"), ("LmPackageName", "-"), ("KeyLength", u32(0)),
            ("ProcessId", hex64(0x2F4)), ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
            ("IpAddress", "192.0.2.7"), ("IpPort", "50123"), ("ImpersonationLevel", "%%1833"),
            ("RestrictedAdminMode", "-"), ("TargetOutboundUserName", "-"),
            ("TargetOutboundDomainName", "-"), ("VirtualAccount", "%%1843"),
            ("TargetLinkedLogonId", hex64(0)), ("ElevatedToken", "%%1842"),
        ]))


def _failed_4625() -> EvtxRecord:
    return EvtxRecord(
        4625, SECURITY, "Security", T1, computer="WKS-01.corp.example", level=0,
        provider_guid=SECURITY_GUID, keywords=0x8010000000000000,
        payload=event_data([
            ("SubjectUserSid", sid("S-1-0-0")), ("SubjectUserName", "-"),
            ("SubjectDomainName", "-"), ("SubjectLogonId", hex64(0)),
            ("TargetUserSid", sid("S-1-0-0")), ("TargetUserName", "administrator"),
            ("TargetDomainName", ""), ("Status", Value(HEX32, 0xC000006D)),
            ("FailureReason", "%%2313"), ("SubStatus", Value(HEX32, 0xC000006A)),
            ("LogonType", u32(3)), ("LogonProcessName", "NtLmSsp "),
            ("AuthenticationPackageName", "NTLM"), ("WorkstationName", "KALI"),
            ("IpAddress", "198.51.100.23"), ("IpPort", "0"),
        ]))


def security_log() -> bytes:
    return build_evtx([_logon_4624(), _failed_4625()])


def system_log() -> bytes:
    return build_evtx([
        EvtxRecord(7036, "Service Control Manager", "System", T0, qualifiers=16384,
                   provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
                   payload=event_data({"param1": "Windows Update", "param2": "running"})),
        EvtxRecord(7045, "Service Control Manager", "System", T1, qualifiers=16384,
                   provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}", user_sid=ALICE,
                   payload=event_data({"ServiceName": "PSEXESVC",
                                       "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
                                       "ServiceType": "user mode service",
                                       "StartType": "demand start", "AccountName": "LocalSystem"})),
        EvtxRecord(104, "Microsoft-Windows-Eventlog", "System", T2, user_sid=ALICE,
                   provider_guid="{fc65ddd8-d6ef-4962-83d5-6e5cfe9ce148}",
                   payload=user_data("LogFileCleared", EVENTLOG_NS,
                                     {"SubjectUserName": "alice", "SubjectDomainName": "CORP",
                                      "Channel": "Security", "BackupPath": ""})),
    ])


def _disk(time: int, record_id: int | None, capacity: int, table: int) -> EvtxRecord:
    return EvtxRecord(
        1006, "Microsoft-Windows-Partition", "Microsoft-Windows-Partition/Diagnostic", time,
        record_id=record_id, user_sid="S-1-5-18", version=2,
        provider_guid="{412bdff2-a8c4-470d-8f33-63fe0d8c20e2}",
        payload=event_data([
            ("Version", u32(2)), ("DiskNumber", u32(1)), ("Flags", u32(0)),
            ("Characteristics", u32(0)), ("IsSystem", Value(0x0D, 0)),
            ("IsBoot", Value(0x0D, 0)), ("BusType", u32(7)),
            ("Manufacturer", "SanDisk"), ("Model", "Cruzer Blade"), ("Revision", "1.00"),
            ("SerialNumber", "4C530001230721117134"),
            ("ParentId", "USB\\VID_0781&PID_5567\\4C530001230721117134"),
            ("DiskId", Value(0x0F, "{4d4a6f3c-1b2e-4a55-9d66-0123456789ab}")),
            ("Capacity", u64(capacity)), ("BytesPerSector", u32(512)),
            ("PartitionStyle", u32(0)), ("PartitionCount", u32(1 if table else 0)),
            ("PartitionTableBytes", u32(table)),
            ("PartitionTable", Value(0x0E, bytes(range(16)) if table else b"")),
        ]))


def partition_log() -> bytes:
    return build_evtx([_disk(T0, 41, 15_728_640_000, 512), _disk(T2, 42, 0, 0)])


def _extract(tmp_path: Path, data: bytes, name: str = "Security.evtx",
             evtx_all: bool = False, users: dict | None = None):
    target = tmp_path / name
    target.write_bytes(data)
    ctx = ExtractionContext(users_by_sid=users or {}, options={"evtx_all": evtx_all})
    return list(EvtxExtractor().extract(LocalFile(str(target)), ctx)), ctx


# --- the writer on its own, read back by libevtx -----------------------------------------------


def test_writer_read_back_by_pyevtx():
    data = security_log()
    assert len(data) == 4096 + 65536 and data[:8] == b"ElfFile\0"
    assert struct.unpack_from("<I", data, 124)[0] == zlib.crc32(data[:120])
    chunk = data[4096:]
    assert struct.unpack_from("<I", chunk, 124)[0] == zlib.crc32(chunk[:120] + chunk[128:512])
    free = struct.unpack_from("<I", chunk, 48)[0]
    assert struct.unpack_from("<I", chunk, 52)[0] == zlib.crc32(chunk[512:free])

    evtx = pyevtx.file()
    evtx.open_file_object(io.BytesIO(data))
    assert evtx.number_of_records == 2 and evtx.number_of_recovered_records == 0
    assert not evtx.is_corrupted()
    logon, failed = evtx.get_record(0), evtx.get_record(1)
    assert (logon.identifier, logon.event_identifier, logon.event_level) == (1, 4624, 0)
    assert logon.source_name == SECURITY  # (libevtx's provider_identifier is unreliable)
    assert logon.computer_name == "WKS-01.corp.example"
    assert logon.get_written_time_as_integer() == T0
    assert logon.user_security_identifier is None
    strings = [logon.get_string(i) for i in range(logon.get_number_of_strings())]
    assert strings[:9] == ["S-1-5-18", "WKS-01$", "CORP", "0x00000000000003e7", ALICE, "alice",
                           "CORP", "0x00000000004a5b6c", "10"]
    assert strings[18] == "192.0.2.7"
    xml = logon.xml_string
    assert f'<Provider Name="{SECURITY}" Guid="{SECURITY_GUID}"/>' in xml
    assert '<TimeCreated SystemTime="2026-03-02T01:02:03.123456700Z"/>' in xml
    assert '<Data Name="IpAddress">192.0.2.7</Data>' in xml
    assert '<Data Name="LogonGuid">{01234567-89AB-CDEF-0123-456789ABCDEF}</Data>' in xml
    assert "<EventRecordID>1</EventRecordID>" in xml and "<Channel>Security</Channel>" in xml
    assert failed.event_identifier == 4625
    assert '<Data Name="Status">0xc000006d</Data>' in failed.xml_string
    assert '<Data Name="TargetDomainName"/>' in failed.xml_string  # empty, not dropped
    evtx.close()


def test_writer_multi_chunk_and_user_data():
    records = [EvtxRecord(7045, "Service Control Manager", "System", T0 + i,
                          payload=event_data({"ServiceName": f"svc{i:04d}",
                                              "ImagePath": "C:\\x\\" + "y" * (i % 300)}))
               for i in range(400)]
    data = build_evtx(records)
    assert (len(data) - 4096) // 65536 >= 3
    evtx = pyevtx.file()
    evtx.open_file_object(io.BytesIO(data))
    assert evtx.number_of_records == 400 and not evtx.is_corrupted()
    assert [evtx.get_record(i).get_string(0) for i in (0, 199, 399)] == \
        ["svc0000", "svc0199", "svc0399"]
    evtx.close()

    evtx = pyevtx.file()
    evtx.open_file_object(io.BytesIO(system_log()))
    cleared = evtx.get_record(2)
    assert cleared.user_security_identifier == ALICE
    assert [cleared.get_string(i) for i in range(cleared.number_of_strings)] == \
        ["alice", "CORP", "Security", None]
    assert f'<LogFileCleared xmlns="{EVENTLOG_NS}">' in cleared.xml_string
    evtx.close()


# --- built files through the extractor ---------------------------------------------------------


def test_security_logon_and_failed_logon(tmp_path):
    events, ctx = _extract(tmp_path, security_log())
    assert ctx.warnings == []
    logon, failed = events
    assert logon.timestamp.iso() == T0_ISO
    assert logon.timestamp_desc == "Logon"
    assert logon.message == "Logon type 10 (remote interactive) by CORP\\alice from 192.0.2.7"
    assert logon.user == "CORP\\alice"
    assert logon.data == {
        "channel": "Security", "provider": SECURITY, "event_id": 4624, "record_number": 1,
        "level": 0, "computer": "WKS-01.corp.example", "user_sid": None, "recovered": False,
        "TargetUserSid": ALICE, "TargetUserName": "alice", "TargetDomainName": "CORP",
        "TargetLogonId": "0x00000000004a5b6c", "LogonType": 10,
        "logon_type_name": "remote interactive", "LogonProcessName": "User32 ",
        "AuthenticationPackageName": "Negotiate", "WorkstationName": "WKS-01",
        "IpAddress": "192.0.2.7", "IpPort": "50123",
        "ProcessName": "C:\\Windows\\System32\\svchost.exe", "SubjectUserSid": "S-1-5-18",
        "SubjectUserName": "WKS-01$", "SubjectDomainName": "CORP", "ElevatedToken": "%%1842",
        "TargetLinkedLogonId": "0x0000000000000000",
    }
    assert failed.timestamp.iso() == T1_ISO and failed.timestamp_desc == "Failed Logon"
    assert failed.message == (
        "Failed logon type 3 (network) for administrator from 198.51.100.23: bad user name or "
        "authentication information (status 0xc000006d, sub-status 0xc000006a)")
    assert failed.user == "administrator"
    assert failed.data["status_name"] == "bad user name or authentication information"
    assert failed.data["sub_status_name"] == "wrong password"
    assert failed.data["WorkstationName"] == "KALI" and "FailureReason" in failed.data
    assert "TargetDomainName" in failed.data and failed.data["TargetDomainName"] == ""


def test_system_service_installed_and_log_cleared(tmp_path):
    events, ctx = _extract(tmp_path, system_log(), "System.evtx", users={ALICE: "alice"})
    assert ctx.warnings == []
    assert [e.data["event_id"] for e in events] == [7045, 104]  # 7036 is not catalogued
    service, cleared = events
    assert service.timestamp.iso() == T1_ISO and service.timestamp_desc == "Service Installed"
    assert service.message == ("Service PSEXESVC installed: %SystemRoot%\\PSEXESVC.exe "
                               "(user mode service, demand start) as LocalSystem")
    assert service.user == "alice"  # System/Security@UserID through the profile list
    assert service.data == {
        "channel": "System", "provider": "Service Control Manager", "event_id": 7045,
        "record_number": 2, "level": 4, "computer": "WKS-01", "user_sid": ALICE,
        "recovered": False, "ServiceName": "PSEXESVC", "ImagePath": "%SystemRoot%\\PSEXESVC.exe",
        "ServiceType": "user mode service", "StartType": "demand start",
        "AccountName": "LocalSystem",
    }
    assert cleared.timestamp.iso() == T2_ISO and cleared.timestamp_desc == "Log Cleared"
    assert cleared.message == "Event log Security cleared by CORP\\alice"
    assert cleared.user == "CORP\\alice"
    assert cleared.data["Channel"] == "Security" and cleared.data["channel"] == "System"
    assert cleared.data["BackupPath"] == "" and cleared.data["provider"] == \
        "Microsoft-Windows-Eventlog"


def test_evtx_all_adds_uncatalogued_records(tmp_path):
    events, _ = _extract(tmp_path, system_log(), "System.evtx", evtx_all=True)
    assert [e.data["event_id"] for e in events] == [7036, 7045, 104]
    other = events[0]
    assert other.timestamp.iso() == T0_ISO and other.timestamp_desc == "Event Logged"
    assert other.message == ("System event 7036 from Service Control Manager: "
                             "param1=Windows Update; param2=running")
    assert other.data["param1"] == "Windows Update" and other.data["param2"] == "running"
    assert other.user is None
    # catalogued records look the same with or without the option
    plain, _ = _extract(tmp_path, system_log(), "System.evtx")
    assert [(e.message, e.data) for e in events[1:]] == [(e.message, e.data) for e in plain]


def test_partition_diagnostic_removable_disk(tmp_path):
    events, _ = _extract(tmp_path, partition_log(), "Microsoft-Windows-Partition%4Diagnostic.evtx")
    connect, disconnect = events
    assert connect.timestamp.iso() == T0_ISO
    assert connect.timestamp_desc == "Disk Connected"
    assert connect.message == ("Disk connected: SanDisk Cruzer Blade serial 4C530001230721117134, "
                               "15728640000 bytes (parent USB\\VID_0781&PID_5567\\"
                               "4C530001230721117134)")
    assert connect.data["record_number"] == 41 and connect.data["Capacity"] == 15_728_640_000
    assert connect.data["SerialNumber"] == "4C530001230721117134"
    assert connect.data["connected"] is True and connect.data["partition_table_present"] is True
    assert connect.data["BusType"] == 7 and connect.data["PartitionCount"] == 1
    assert connect.user == "S-1-5-18"
    assert disconnect.timestamp.iso() == T2_ISO
    assert disconnect.timestamp_desc == "Disk Disconnected"
    assert disconnect.data["Capacity"] == 0 and disconnect.data["connected"] is False
    assert disconnect.data["partition_table_present"] is False
    assert disconnect.message.startswith("Disk disconnected: SanDisk Cruzer Blade serial ")


def test_rdp_powershell_sysmon_and_umdf(tmp_path):
    script = "Write-Host 'x'\n" + "A" * 5000 + "é"
    records = [
        EvtxRecord(21, LSM, LSM + "/Operational", T0, user_sid="S-1-5-18",
                   payload=user_data("EventXML", LSM_NS, {"User": "CORP\\alice",
                                                          "SessionID": "3",
                                                          "Address": "192.0.2.7"})),
        EvtxRecord(4104, "Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational",
                   T1, level=5, user_sid=ALICE,
                   payload=event_data({"MessageNumber": u32(1), "MessageTotal": u32(1),
                                       "ScriptBlockText": script,
                                       "ScriptBlockId": "a9f3c0de-0000-4000-8000-000000000001",
                                       "Path": ""})),
        EvtxRecord(1, "Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational", T2,
                   payload=event_data({"RuleName": "-", "UtcTime": "2026-03-02 02:02:03.120",
                                       "ProcessId": u32(4242),
                                       "Image": "C:\\Tools\\rclone.exe",
                                       "CommandLine": "rclone.exe copy C:\\Finance remote:",
                                       "User": "CORP\\alice",
                                       "ParentImage": "C:\\Windows\\System32\\cmd.exe"})),
        EvtxRecord(2003, "Microsoft-Windows-DriverFrameworks-UserMode",
                   "Microsoft-Windows-DriverFrameworks-UserMode/Operational", T2 + 1,
                   payload=user_data("UMDFHostDeviceArrivalBegin", "http://x.invalid/umdf", {},
                                     {"instance": "WPDBUSENUMROOT\\UMB\\2&37C186B&0&STORAGE",
                                      "lifetime": "{0E7B2E5C-4B6D-4CF0-9B6C-7E1D2A3B4C5D}"})),
        EvtxRecord(2100, "Microsoft-Windows-DriverFrameworks-UserMode",
                   "Microsoft-Windows-DriverFrameworks-UserMode/Operational", T2 + 2,
                   payload=user_data("UMDFHostDeviceRequest", "http://x.invalid/umdf",
                                     {"Status": u32(0)},
                                     {"instance": "WPDBUSENUMROOT\\UMB\\2&37C186B&0&STORAGE",
                                      "lifetime": "{0E7B2E5C-4B6D-4CF0-9B6C-7E1D2A3B4C5D}"})),
    ]
    events, ctx = _extract(tmp_path, build_evtx(records), "mixed.evtx", users={ALICE: "alice"})
    assert ctx.warnings == []
    rdp, ps, sysmon, arrival, request = events
    assert rdp.timestamp_desc == "Remote Session Logon"
    assert rdp.message == "Remote desktop session logon: CORP\\alice (session 3) from 192.0.2.7"
    assert rdp.user == "CORP\\alice"
    assert (rdp.data["User"], rdp.data["SessionID"], rdp.data["Address"]) == \
        ("CORP\\alice", "3", "192.0.2.7")

    assert ps.timestamp_desc == "Script Block Logged" and ps.user == "alice"
    assert ps.data["script_length"] == len(script)
    assert ps.data["script_sha256"] == hashlib.sha256(script.encode()).hexdigest()
    assert ps.data["script_truncated"] is True
    assert ps.data["ScriptBlockText"] == script[:4096]
    assert (ps.data["MessageNumber"], ps.data["MessageTotal"]) == (1, 1)
    assert ps.message.startswith("PowerShell script block a9f3c0de-0000-4000-8000-000000000001 "
                                 "(part 1 of 1): Write-Host 'x' AAAA")
    assert "\n" not in ps.message

    assert sysmon.timestamp_desc == "Process Created" and sysmon.user == "CORP\\alice"
    assert sysmon.message == ("C:\\Tools\\rclone.exe started by CORP\\alice: rclone.exe copy "
                              "C:\\Finance remote: (parent C:\\Windows\\System32\\cmd.exe)")
    assert sysmon.data["ProcessId"] == "4242" and "RuleName" not in sysmon.data

    assert arrival.message == ("UMDF driver load for device WPDBUSENUMROOT\\UMB\\2&37C186B&0&"
                               "STORAGE (lifetime {0E7B2E5C-4B6D-4CF0-9B6C-7E1D2A3B4C5D})")
    assert arrival.data["instance"] == "WPDBUSENUMROOT\\UMB\\2&37C186B&0&STORAGE"
    assert request.timestamp_desc == "Device PnP Operation" and request.data["Status"] == "0"


def test_recovered_record_and_written_time(tmp_path):
    lost = EvtxRecord(4720, SECURITY, "Security", T1, record_id=9,
                      payload=event_data({"TargetUserName": "backdoor", "TargetDomainName": "WKS",
                                          "TargetSid": sid(ALICE), "SubjectUserName": "alice",
                                          "SubjectDomainName": "WKS"}))
    late = _logon_4624()
    late.written = T2  # written to the log an hour after the event was created
    events, ctx = _extract(tmp_path, build_evtx([late], slack=lost))
    logon, created = events
    assert logon.timestamp.iso() == T0_ISO and logon.data["written_time"] == T2_ISO
    assert logon.data["recovered"] is False
    assert created.data["recovered"] is True and created.data["record_number"] == 9
    assert created.message == "Account WKS\\backdoor created by WKS\\alice"
    assert created.timestamp.iso() == T1_ISO
    assert any("1 records recovered" in w for w in ctx.warnings)


def test_no_time_created_uses_the_written_time(tmp_path):
    record = _logon_4624()
    record.time, record.written = None, T1
    events, _ = _extract(tmp_path, build_evtx([record]))
    assert events[0].timestamp.iso() == T1_ISO
    assert events[0].data["time_source"] == "written" and "written_time" not in events[0].data


def test_render_optional_segments_and_catalogue_is_consistent():
    assert render("A {x}[ from {y}][ at {z}]", {"x": "1", "y": "-", "z": "t"}) == "A 1 at t"
    assert render("{x} {missing}", {"x": "{y} [q]"}) == "{y} [q] -"
    for entry in evtx_catalog.CATALOG:  # every placeholder is a kept field or derived value
        assert entry.timestamp_desc and entry.message
        assert evtx_catalog.lookup(entry.provider.upper(), None, entry.event_id) is entry
        assert set(entry.derive) <= set(evtx_catalog.DERIVED)
    assert evtx_catalog.lookup(None, "security", 4624).event_id == 4624
    assert evtx_catalog.lookup("Other-Provider", "Security", 4624) is None


# --- real samples ------------------------------------------------------------------------------


def test_sample_system_every_record():
    path = samples("evtx", "plaso", "System.evtx")
    ctx = ExtractionContext(options={"evtx_all": True})
    events = list(EvtxExtractor().extract(LocalFile(str(path)), ctx))
    assert len(events) == 5009 and ctx.warnings == []
    first = events[0]
    assert first.timestamp.iso() == "2010-11-21T03:55:59.6264271Z"
    assert first.timestamp_desc == "Event Logged"
    assert first.data == {
        "channel": "System", "provider": "Service Control Manager", "event_id": 7036,
        "record_number": 1, "level": 4, "computer": "37L4247F27-26", "user_sid": None,
        "recovered": False, "param1": "Windows Event Log", "param2": "stopped",
        "binary": "6500760065006E0074006C006F0067002F0031000000",
    }
    assert first.message == ("System event 7036 from Service Control Manager: "
                             "param1=Windows Event Log; param2=stopped")
    assert sorted({e.data["record_number"] for e in events}) == list(range(1, 5010))


def test_sample_system_catalogued_only():
    path = samples("evtx", "plaso", "System.evtx")
    ctx = ExtractionContext()
    events = list(EvtxExtractor().extract(LocalFile(str(path)), ctx))
    counts: dict[str, int] = {}
    for event in events:
        counts[event.timestamp_desc] = counts.get(event.timestamp_desc, 0) + 1
    assert counts == {"Device Service Added": 67, "Device Installed": 63,
                      "Service Installed": 25, "Service Started": 8, "Service Stopped": 6,
                      "Unexpected Shutdown": 1}
    service = next(e for e in events if e.data["record_number"] == 174)
    assert service.message == ("Service Intel(R) PRO/1000 NDIS 6 Adapter Driver installed: "
                               "system32\\DRIVERS\\E1G6032E.sys (kernel mode driver, demand start)")
    assert service.user == "S-1-5-18" and service.data["AccountName"] == ""
    shutdown = next(e for e in events if e.data["event_id"] == 6008)
    assert shutdown.message == "The previous system shutdown at 1:34:44 PM on 8/25/2015 was " \
                               "unexpected"
    assert shutdown.data["strings"][0] == "1:34:44 PM"


def test_sample_truncated_system2_warns_and_keeps_records():
    path = samples("evtx", "plaso", "System2.evtx")
    ctx = ExtractionContext(options={"evtx_all": True})
    events = list(EvtxExtractor().extract(LocalFile(str(path)), ctx))
    assert len(events) == 194
    assert any("truncated EVTX file: header counts 96 chunks" in w for w in ctx.warnings)
    assert any("corrupted" in w for w in ctx.warnings)
    logon = events[178]
    assert logon.data["record_number"] == 179 and logon.data["event_id"] == 4624
    assert logon.timestamp == Timestamp.parse("2015-08-09T09:15:48.4341250Z")
    assert logon.message == "Logon type 5 (service) by NT AUTHORITY\\SYSTEM"
    default = list(EvtxExtractor().extract(LocalFile(str(path)), ExtractionContext()))
    assert len(default) == 108
    added = [e for e in default if e.data["event_id"] == 4732]  # members added to local groups
    assert len(added) == 4 and all(e.timestamp_desc == "Member Added to Group" for e in added)


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data, reason", [
    (b"", "not an EVTX file"),
    (b"PK\x03\x04" + bytes(200), "not an EVTX file"),
    (b"\x30\x00\x00\x00LfLe" + bytes(40), "legacy Windows event log (.evt"),
    (b"ElfFile\x00" + bytes(50), "truncated EVTX file (58 bytes"),
])
def test_bad_input(tmp_path, data, reason):
    with pytest.raises(ArtifactError, match=reason.replace("(", r"\(").replace(".", r"\.")):
        _extract(tmp_path, data)


def test_damaged_files_warn_and_keep_what_is_readable(tmp_path):
    records = [EvtxRecord(7045, "Service Control Manager", "System", T0 + i,
                          payload=event_data({"ServiceName": f"svc{i}", "ImagePath": "x.exe"}))
               for i in range(6)]
    data = bytearray(build_evtx(records, records_per_chunk=3))
    # a cut file: the second chunk is half there
    events, ctx = _extract(tmp_path, bytes(data[:4096 + 65536 + 30000]), "cut.evtx")
    assert [e.data["ServiceName"] for e in events] == ["svc0", "svc1", "svc2"]
    assert any("truncated EVTX file" in w for w in ctx.warnings)
    # an edited header: checksum mismatch is reported, records still read
    data[24] ^= 0xFF
    events, ctx = _extract(tmp_path, bytes(data), "edited.evtx")
    assert len(events) == 6
    assert any("header checksum mismatch" in w for w in ctx.warnings)
    # a record edited after it was written: its chunk's CRC32 fails, its records are flagged
    data[24] ^= 0xFF
    edited = bytearray(data)
    at = edited.index("svc1".encode("utf-16-le"))
    edited[at] = ord("S")
    events, ctx = _extract(tmp_path, bytes(edited), "edited.evtx")
    assert [(e.data["ServiceName"], e.data.get("damaged_chunk")) for e in events] == [
        ("svc0", True), ("Svc1", True), ("svc2", True), ("svc3", None), ("svc4", None),
        ("svc5", None)]
    assert any("1 EVTX chunks fail their signature or checksum check (chunk 0)" in w
               for w in ctx.warnings)
    # garbage over the first chunk's records: no crash, the other chunk is still read
    data[4096 + 512:4096 + 1400] = b"\xa5" * 888
    events, ctx = _extract(tmp_path, bytes(data), "garbage.evtx")
    assert {"svc3", "svc4", "svc5"} <= {e.data["ServiceName"] for e in events}
    assert ctx.warnings


def test_mutated_files_never_crash(tmp_path):
    """Random byte changes and cuts: the extractor returns events or ArtifactError, nothing else."""
    import random

    rng = random.Random(20260302)
    bases = [security_log(), system_log(), partition_log()]
    for number in range(60):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 30)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if number % 5 == 0:
            data = data[:rng.randrange(len(data))]
        try:
            events, _ = _extract(tmp_path, bytes(data), "fuzz.evtx", evtx_all=True)
        except ArtifactError:
            continue
        for event in events:
            assert event.timestamp is None or event.timestamp.iso()
            assert "\n" not in event.message


# --- end to end --------------------------------------------------------------------------------


def test_cli_system_drive(cli, tmp_path):
    logs = tmp_path / "evidence" / "Windows" / "System32" / "winevt" / "Logs"
    logs.mkdir(parents=True)
    (logs / "Security.evtx").write_bytes(security_log())
    (logs / "System.evtx").write_bytes(system_log())
    (logs / "Microsoft-Windows-Partition%4Diagnostic.evtx").write_bytes(partition_log())
    case = tmp_path / "case"
    result = cli("run", tmp_path / "evidence", "-o", case, "--quiet")
    assert result.exit_code == 0, result.output
    events = read_jsonl(case)
    # ordered by time (then by event hash among equal times)
    assert [e["timestamp"] for e in events] == [T0_ISO, T0_ISO, T1_ISO, T1_ISO, T2_ISO, T2_ISO]
    assert sorted((e["timestamp"], e["timestamp_desc"]) for e in events) == [
        (T0_ISO, "Disk Connected"), (T0_ISO, "Logon"), (T1_ISO, "Failed Logon"),
        (T1_ISO, "Service Installed"), (T2_ISO, "Disk Disconnected"), (T2_ISO, "Log Cleared"),
    ]
    assert {e["artifact"] for e in events} == {"WindowsEventLogs"}
    assert {e["family"] for e in events} == {"eventlog"} and {e["extractor"] for e in events} == \
        {"evtx"}
    logon = next(e for e in events if e["timestamp_desc"] == "Logon")
    assert logon["message"] == "Logon type 10 (remote interactive) by CORP\\alice from 192.0.2.7"
    assert logon["source"]["path"] == "/Windows/System32/winevt/Logs/Security.evtx"
    assert logon["data"]["LogonType"] == 10
    assert cli("verify", case).exit_code == 0

    every = tmp_path / "every"
    assert cli("run", tmp_path / "evidence", "-o", every, "--quiet", "--evtx-all").exit_code == 0
    assert len(read_jsonl(every)) == 7  # + the uncatalogued 7036


# --- Storage service diagnostics (Storsvc 1001/1002) ------------------------------------------


def storsvc_log() -> bytes:
    """Storsvc reports as recent Windows builds write them. Microsoft documents no field list:
    the names used here are the ones the catalogue's message names (and one it does not)."""
    def report(event_id: int, time: int, record_id: int) -> EvtxRecord:
        return EvtxRecord(
            event_id, "Microsoft-Windows-Storsvc", "Microsoft-Windows-Storsvc/Diagnostic", time,
            record_id=record_id, user_sid="S-1-5-18",
            provider_guid="{aea1b4fa-97d1-45f2-a64c-4d69fffd92c9}",
            payload=event_data([
                ("Version", u32(1)), ("DiskNumber", u32(2)), ("VendorId", "Kingston"),
                ("ProductId", "DataTraveler 3.0"), ("ProductRevision", "PMAP"),
                ("SerialNumber", "E0D55EA574F1E7B1A8B7"), ("BusType", u32(7)),
                ("Size", u64(30_943_995_904)), ("FirmwareBuild", "2.1"),
            ]))
    return build_evtx([report(1001, T0, 7), report(1002, T2, 8)])


def test_storsvc_reports_keep_every_field(tmp_path):
    events, ctx = _extract(tmp_path, storsvc_log(), "Microsoft-Windows-Storsvc%4Diagnostic.evtx")
    assert not ctx.errors and [e.data["event_id"] for e in events] == [1001, 1002]
    first = events[0]
    assert first.timestamp_desc == "Storage Service Device Report"
    assert first.message == ("Storage service diagnostic event 1001: device Kingston DataTraveler 3.0"
                             " serial E0D55EA574F1E7B1A8B7, bus type 7, 30943995904 bytes")
    assert first.data["SerialNumber"] == "E0D55EA574F1E7B1A8B7"
    assert first.data["Size"] == 30_943_995_904 and first.data["BusType"] == 7
    assert first.data["FirmwareBuild"] == "2.1"  # not listed, kept (keep_all)
    assert first.timestamp.iso() == T0_ISO
