"""USB and portable-device registry plugins: usb_devices, mounted_devices, portable_devices,
mountpoints2. Fixture hives from fixtures/build_registry_usb.py, real hives from
../shared/samples/registry (facts in EXPECTED.md section 4)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from Registry import Registry

from conftest import ROOT, read_jsonl, samples, tree_digest
from triage.extractors import ExtractionContext
from triage.files import LocalFile
from triage.registry import HiveView, load_plugins
from triage.registry.hive import open_hive
from triage.registry.plugins import usb_devices
from triage.registry.plugins.mounted_devices import decode_mount_data
from triage.registry.plugins.mountpoints2 import classify
from triage.registry.plugins.portable_devices import parse_emdmgmt_name
from triage.usb_ids import parse_device_path, parse_instance_id

FIX = ROOT / "fixtures" / "artifacts" / "registry" / "usb"
FACTS = json.loads((FIX / "facts.json").read_text(encoding="utf-8"))
KIOXIA_PATH = ("_??_USBSTOR#Disk&Ven_KIOXIA&Prod_TransMemory&Rev_1.00#0022CFF6B8A7C2B1&0#"
               "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}")
STICK_VOLUME = "{7f3a9c2e-1b4d-11f1-a5c1-806e6f6e6963}"


def run(path: Path, kind: str, plugin: str):
    opened = open_hive(LocalFile(str(path), path="/" + path.name))
    view = HiveView(opened.registry, kind, str(path))
    ctx = ExtractionContext()
    events = list(load_plugins()[plugin]().process(view, ctx))
    return events, ctx


def times(events, **match):
    """{timestamp_desc: iso} of the events whose data has every `match` item."""
    chosen = [e for e in events if all(e.data.get(k) == v for k, v in match.items())]
    assert chosen, match
    out = {e.timestamp_desc: e.timestamp.iso() for e in chosen}
    assert len(out) == len(chosen), "one event per time kind"
    return out


# ------------------------------------------------------------------- usb_devices: fixture


def test_usbstor_stick_from_the_fixture_hive():
    events, ctx = run(FIX / "SYSTEM", "SYSTEM", "usb_devices")
    assert ctx.warnings == []
    stick = [e for e in events if e.data["enum"] == "USBSTOR"
             and e.data["serial"] == "0022CFF6B8A7C2B1&0"]
    assert times(stick) == {
        "Key Last Written": "2026-03-11T07:48:03.1130001Z",
        "First Install": "2026-03-09T01:15:42.1234567Z",
        "Install": "2026-03-09T01:15:43.2345678Z",
        "Last Arrival": "2026-03-11T06:02:44.9171234Z",
        "Last Removal": "2026-03-11T07:48:03.1125678Z"}
    expected = FACTS["usbstor"]
    assert times(stick) == {"Key Last Written": expected["key_last_written"], **expected["times"]}
    data = stick[0].data
    assert data["device_kind"] == "mass storage"
    assert (data["vendor"], data["product"], data["revision"]) == ("KIOXIA", "TransMemory", "1.00")
    assert data["device_type"] == "Disk"
    assert data["serial_number"] == "0022CFF6B8A7C2B1" and data["serial_generated"] is False
    assert data["friendly_name"] == "KIOXIA TransMemory USB Device"
    assert data["container_id"] == "{5c1e7a40-8d2b-5f3e-9a61-0b7c4d2e8f13}"
    assert data["disk_id"] == "{a3f0c2d1-1d7e-11f1-b4a2-806e6f6e6963}"
    assert data["device_id"] == expected["device_id"]
    assert data["control_set"] == "ControlSet001"
    assert data["key"].endswith("\\Enum\\USBSTOR\\Disk&Ven_KIOXIA&Prod_TransMemory&Rev_1.00"
                                "\\0022CFF6B8A7C2B1&0")
    arrival = next(e for e in stick if e.timestamp_desc == "Last Arrival")
    assert arrival.data["property"] == "{83da6326-97a6-4088-9453-a1923f573b29}\\0066"
    assert "KIOXIA TransMemory USB Device" in arrival.message


def test_usbstor_serial_made_up_by_windows():
    events, _ = run(FIX / "SYSTEM", "SYSTEM", "usb_devices")
    noname = [e for e in events if e.data.get("serial") == "7&1c2a3b4d&0"]
    assert times(noname) == {"Key Last Written": "2026-03-05T00:00:01.4242424Z",
                             "First Install": "2026-03-04T23:59:59.9999999Z",
                             "Install": "2026-03-05T00:00:00.0000001Z"}
    assert noname[0].data["serial_generated"] is True and noname[0].data["serial_number"] is None


def test_usb_vid_pid_mtp_phone_and_hub():
    events, _ = run(FIX / "SYSTEM", "SYSTEM", "usb_devices")
    usb = [e for e in events if e.data["enum"] == "USB"]
    stick = [e for e in usb if e.data["serial"] == "0022CFF6B8A7C2B1"]
    assert times(stick) == {"Key Last Written": "2026-03-11T06:02:44.8000003Z",
                            "First Install": "2026-03-09T01:15:41.8765432Z",
                            "Install": "2026-03-09T01:15:41.9876543Z",
                            "Last Arrival": "2026-03-11T06:02:44.7000001Z",
                            "Last Removal": "2026-03-11T07:48:03.3000002Z"}
    data = stick[0].data
    assert (data["vid"], data["pid"], data["device_kind"]) == ("0930", "6545", "mass storage")
    assert data["service"] == "USBSTOR" and data["location_information"] == "Port_#0003.Hub_#0001"
    assert data["device_desc"] == "USB Mass Storage Device"
    phone = [e for e in usb if e.data["serial"] == "28031FDH2000RJ"]
    assert times(phone) == {"Key Last Written": "2026-03-14T09:30:00.2000000Z",
                            "First Install": "2026-03-12T10:20:30.5555555Z",
                            "Install": "2026-03-12T10:20:31.6666666Z",
                            "Last Arrival": "2026-03-14T08:00:01.0000001Z",
                            "Last Removal": "2026-03-14T09:30:00.1234567Z"}
    data = phone[0].data
    assert data["device_kind"] == "portable device (MTP)"  # no drive letter, still reported
    assert (data["vid"], data["pid"], data["friendly_name"]) == ("18D1", "4EE1", "Pixel 7")
    assert data["service"] == "WUDFWpdMtp" and data["class"] == "WPD"
    assert "USB\\MS_COMP_MTP" in data["compatible_ids"]
    assert "Pixel 7" in phone[0].message
    hub = [e for e in usb if e.data["serial"] == "4&2f3a1b5c&0&0"]
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in hub] == [
        ("Key Last Written", "2026-03-02T08:00:00.1111111Z")]
    assert hub[0].data["device_kind"] == "hub" and hub[0].data["vid"] is None


def test_wpdbusenum_volume_with_its_label_and_the_phone():
    events, _ = run(FIX / "SYSTEM", "SYSTEM", "usb_devices")
    wpd = [e for e in events if e.data["enum"] == "SWD\\WPDBUSENUM"
           and e.data["device_kind"] == "mass storage"]
    assert times(wpd) == {"Key Last Written": "2026-03-11T06:02:46.2000009Z",
                          "First Install": "2026-03-09T01:15:45.5000005Z",
                          "Last Arrival": "2026-03-11T06:02:46.1000007Z"}
    data = wpd[0].data
    assert data["friendly_name"] == "KIOXIA"  # the volume label
    assert data["device_kind"] == "mass storage"
    assert (data["vendor"], data["product"], data["serial"]) == (
        "KIOXIA", "TransMemory", "0022CFF6B8A7C2B1&0")
    assert data["device_id"] == f"SWD\\WPDBUSENUM\\{KIOXIA_PATH}"
    phone = [e for e in events if e.data["enum"] == "SWD\\WPDBUSENUM"
             and e.data["device_kind"] == "portable device (MTP)"]
    expected = FACTS["wpdbusenum_phone"]
    assert times(phone) == {"Key Last Written": "2026-03-14T09:30:00.4000000Z",
                            "First Install": "2026-03-12T10:20:33.1212121Z",
                            "Last Arrival": "2026-03-14T08:00:03.3434343Z"}
    assert times(phone) == {"Key Last Written": expected["key_last_written"], **expected["times"]}
    assert (phone[0].data["friendly_name"], phone[0].data["vid"], phone[0].data["pid"],
            phone[0].data["serial"]) == ("Pixel 7", "18D1", "4EE1", "28031FDH2000RJ")
    assert len(events) == 25


# ------------------------------------------------------------------- usb_devices: real hives


def test_real_win10_usbstor_sandisk():
    events, ctx = run(samples("registry", "win10_1709", "SYSTEM"), "SYSTEM", "usb_devices")
    assert ctx.warnings == []
    usbstor = [e for e in events if e.data["enum"] == "USBSTOR"]
    assert {e.data["device_id"] for e in usbstor} == {
        "USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.20\\200608767007B7C08A6A&0"}
    data = usbstor[0].data
    assert data["friendly_name"] == "SanDisk Cruzer USB Device"
    assert data["serial"] == "200608767007B7C08A6A&0"
    assert (data["vendor"], data["product"], data["revision"]) == ("SanDisk", "Cruzer", "1.20")
    assert data["disk_id"] == "{fc416b61-6437-11ea-bd0c-a483e7c21469}"
    # EXPECTED.md (regipy, microseconds through a float): first = last install
    # 2020-03-17T14:02:38.95549Z, last connected .946628Z, removed 14:23:45.50469Z; the
    # FILETIMEs themselves give seven digits:
    assert times(usbstor) == {"Key Last Written": "2020-03-17T14:02:38.9650501Z",
                              "First Install": "2020-03-17T14:02:38.9554894Z",
                              "Install": "2020-03-17T14:02:38.9554894Z",
                              "Last Arrival": "2020-03-17T14:02:38.9466272Z",
                              "Last Removal": "2020-03-17T14:23:45.5046900Z"}
    usb = [e for e in events
           if e.data["device_id"] == "USB\\VID_0781&PID_5530\\200608767007B7C08A6A"]
    assert usb[0].data["device_kind"] == "mass storage"
    assert usb[0].data["container_id"] == data["container_id"]
    # the WPD volume of that disk: `{disk GUID}#<partition offset>` (Windows 10 naming)
    wpd = [e for e in events if e.data["enum"] == "SWD\\WPDBUSENUM"
           and e.data.get("disk_id") == data["disk_id"]]
    assert wpd and wpd[0].data["partition_offset"] == 0xC900000
    assert times(wpd)["Last Removal"] == "2020-03-17T14:23:45.5046900Z"


def test_real_win7_usb_entries_and_win7_property_layout():
    path = samples("registry", "win7", "SYSTEM")
    events, ctx = run(path, "SYSTEM", "usb_devices")
    assert ctx.warnings == []
    usb = [e for e in events if e.data["enum"] == "USB" and e.timestamp_desc == "Key Last Written"]
    # EXPECTED.md counts 14 USB entries: regipy reads ControlSet001 and ControlSet002, which
    # hold the same 7 devices; this plugin reads the current control set only (Select\Current=1).
    assert len(usb) == 7 and {e.data["control_set"] for e in usb} == {"ControlSet001"}
    hive = Registry.Registry(str(path))
    per_set = [sum(len(list(d.subkeys())) for d in hive.open(f"{cs}\\Enum\\USB").subkeys())
               for cs in ("ControlSet001", "ControlSet002")]
    assert per_set == [7, 7]
    hub = next(e for e in usb if e.data["serial"] == "5&391b2433&0")
    assert hub.data["device_id"] == "USB\\ROOT_HUB\\5&391b2433&0"
    assert hub.data["device_desc"] == "USB Root Hub" and hub.data["service"] == "usbhub"
    assert hub.timestamp.iso() == "2012-04-07T10:31:37.6252465Z"  # regipy: ...37.625246Z
    # Windows 7 keeps device properties as 00000064\00000000 {Type, Data}
    hp = [e for e in events if e.data["enum"] == "USBSTOR"]
    assert hp[0].data["friendly_name"] == "HP v100w USB Device"
    assert times(hp) == {"Key Last Written": "2012-04-07T10:31:37.6408714Z",
                         "First Install": "2011-04-01T04:52:38.6860000Z",  # Data e01b2da028f0cb01
                         "Install": "2011-04-01T04:52:38.6860000Z"}
    wpd = next(e for e in events if e.data["enum"] == "WpdBusEnumRoot\\UMB")
    assert wpd.data["friendly_name"] == "SECRETPLANS" and wpd.data["serial"] == "AA951D0000007252&0"


# ------------------------------------------------------------------- mounted_devices


def test_mounted_devices_fixture():
    events, ctx = run(FIX / "SYSTEM", "SYSTEM", "mounted_devices")
    assert ctx.warnings == []
    assert len(events) == 6 == FACTS["mounted_devices"]["values"]
    assert {e.timestamp.iso() for e in events} == {"2026-03-11T06:02:45.3456789Z"}
    assert all(e.timestamp_desc == "Key Last Written" for e in events)
    assert all("shared by all its values" in e.message for e in events)
    by = {e.data["mount_point"]: e.data for e in events}
    c = by["\\DosDevices\\C:"]
    assert (c["kind"], c["drive_letter"], c["disk_signature"], c["partition_offset"]) == (
        "mbr", "C:", "5A17C0DE", 1048576)
    assert c["volume_guids"] == ["{3e0d2d25-0000-0000-0000-100000000000}"]
    e = by["\\DosDevices\\E:"]
    assert e["kind"] == "device_path" and e["device_path"] == KIOXIA_PATH
    assert (e["bus"], e["vendor"], e["product"], e["revision"], e["serial"]) == (
        "USBSTOR", "KIOXIA", "TransMemory", "1.00", "0022CFF6B8A7C2B1&0")
    assert e["volume_guids"] == [STICK_VOLUME]
    volume = by[f"\\??\\Volume{STICK_VOLUME}"]
    assert volume["volume_guid"] == STICK_VOLUME and volume["drive_letters"] == ["E:"]
    f = by["\\DosDevices\\F:"]
    assert (f["kind"], f["partition_guid"]) == ("gpt", "{c1a9e8f0-2222-4b6b-9a2a-0123456789ab}")
    assert f["volume_guids"] == ["{9b8c7d6e-5f4a-11f1-8e2d-806e6f6e6963}"]


def test_real_win7_mounted_devices():
    events, ctx = run(samples("registry", "win7", "SYSTEM"), "SYSTEM", "mounted_devices")
    assert len(events) == 11 and ctx.warnings == []
    c = next(e for e in events if e.data["mount_point"] == "\\DosDevices\\C:")
    # EXPECTED.md: key last write 2011-07-05T19:33:28.328124Z (regipy); FILETIME 129543680083281250
    assert c.timestamp.iso() == "2011-07-05T19:33:28.3281250Z"
    assert (c.data["kind"], c.data["disk_signature"], c.data["partition_offset"]) == (
        "mbr", "5CBEA03E", 1048576)
    assert c.data["volume_guids"] == ["{656b1715-ecf6-11df-92e6-806e6f6e6963}"]
    e = next(e for e in events if e.data["mount_point"] == "\\DosDevices\\E:")
    assert (e.data["vendor"], e.data["product"], e.data["serial"]) == (
        "HP", "v100w", "AA951D0000007252&0")


# ------------------------------------------------------------------- portable_devices


def test_portable_devices_and_emdmgmt_fixture():
    events, ctx = run(FIX / "SOFTWARE", "SOFTWARE", "portable_devices")
    assert ctx.warnings == [] and len(events) == 3
    wpd = {e.data["device_id"]: e for e in events if e.data["source"] == "Windows Portable Devices"}
    stick = wpd[FACTS["portable_devices"]["stick"]["device_id"]]
    assert stick.timestamp.iso() == "2026-03-09T01:15:47.7654321Z"
    assert stick.data["friendly_name"] == "KIOXIA" and stick.data["device_kind"] == "mass storage"
    assert (stick.data["vendor"], stick.data["serial"]) == ("KIOXIA", "0022CFF6B8A7C2B1&0")
    phone = wpd[FACTS["portable_devices"]["phone"]["device_id"]]
    assert phone.timestamp.iso() == "2026-03-12T10:20:35.3333333Z"
    assert phone.data["friendly_name"] == "Pixel 7"
    assert phone.data["device_kind"] == "portable device (MTP)"
    assert (phone.data["vid"], phone.data["pid"], phone.data["serial"]) == (
        "18D1", "4EE1", "28031FDH2000RJ")
    emd = next(e for e in events if e.data["source"] == "EMDMgmt")
    assert emd.timestamp.iso() == "2026-03-09T01:16:02.2468024Z"
    assert emd.timestamp_desc == "Key Last Written"
    assert (emd.data["volume_label"], emd.data["volume_serial"]) == ("KIOXIA", "4B1D2C3E")
    assert emd.data["volume_serial_decimal"] == 1260203070 == 0x4B1D2C3E
    assert emd.data["device_path"] == KIOXIA_PATH and emd.data["serial"] == "0022CFF6B8A7C2B1&0"
    assert emd.data["last_tested_time"] is None and emd.data["device_status"] == 2


# ------------------------------------------------------------------- mountpoints2


def test_mountpoints2_fixture():
    events, ctx = run(FIX / "NTUSER.DAT", "NTUSER", "mountpoints2")
    assert ctx.warnings == []
    got = sorted((e.data["kind"], e.data.get("volume_guid") or e.data.get("share"),
                  e.timestamp.iso()) for e in events)
    assert got == [
        ("network share", "\\\\fileserver\\share", "2026-03-10T00:30:15.8080808Z"),
        ("volume", "{3e0d2d25-0000-0000-0000-100000000000}", "2026-03-02T08:01:12.5000000Z"),
        ("volume", STICK_VOLUME, "2026-03-11T06:03:01.1357913Z"),
        ("volume (CPC)", STICK_VOLUME, "2026-03-11T06:03:01.2000000Z")]
    share = next(e for e in events if e.data["kind"] == "network share")
    assert share.data["label"] == "share on fileserver"
    assert share.data["name"] == "##fileserver#share"
    assert all(e.timestamp_desc == "Key Last Written" for e in events)


def test_real_mountpoints2_ties_a_user_to_a_win7_volume():
    events, _ = run(samples("registry", "win7", "NTUSER-vibranium.DAT"), "NTUSER", "mountpoints2")
    got = {(e.data.get("volume_guid") or e.data.get("share")): e.timestamp.iso() for e in events}
    assert got == {"\\\\controller\\public": "2012-04-03T22:11:22.2768456Z",
                   "{656b1715-ecf6-11df-92e6-806e6f6e6963}": "2012-04-03T22:11:22.5148920Z",
                   "{656b1718-ecf6-11df-92e6-806e6f6e6963}": "2012-04-03T22:11:22.5207456Z"}
    mounted, _ = run(samples("registry", "win7", "SYSTEM"), "SYSTEM", "mounted_devices")
    letters = {e.data["volume_guid"]: e.data["drive_letters"] for e in mounted
               if e.data["volume_guid"]}
    assert letters["{656b1715-ecf6-11df-92e6-806e6f6e6963}"] == ["C:"]
    assert letters["{656b1718-ecf6-11df-92e6-806e6f6e6963}"] == ["D:"]
    xp, _ = run(samples("registry", "winxp", "NTUSER.DAT"), "NTUSER", "mountpoints2")
    assert sorted(e.data.get("drive_letter") for e in xp if e.data["kind"] == "drive letter") == [
        "A:", "C:", "D:"]


# ------------------------------------------------------------------- bad input


def test_bad_system_values_are_skipped_with_warnings():
    events, ctx = run(FIX / "SYSTEM-bad", "SYSTEM", "usb_devices")
    bad = [e for e in events if e.data.get("serial") == "BAD0001&0"]
    # 0064 is 4 bytes, 0066 is a REG_SZ, 0065 is empty: only 0067 and the key time remain
    assert times(bad) == {"Key Last Written": "2026-03-20T12:00:01.0000000Z",
                          "Last Removal": "2026-03-20T12:00:00.0000005Z"}
    assert bad[0].data["friendly_name"] is None
    warned = "\n".join(ctx.warnings)
    assert "BAD0001&0: value FriendlyName is RegDWord, not a string" in warned
    assert "BAD0001&0\\Properties\\{83da6326-97a6-4088-9453-a1923f573b29}\\0064: FILETIME of 4 " \
           "bytes (too short)" in warned
    assert "\\0066: property type 0x1 is not a FILETIME" in warned
    assert "USBSTOR\\NotAStorageId: not a <type>&Ven_&Prod_&Rev_ device id" in warned
    assert "\\00000065: FILETIME of 3 bytes (too short)" in warned
    assert "VID_1234&PID_5678\\SER: value HardwareID is RegDWord" in warned
    odd = next(e for e in events if e.data.get("serial") == "SER1&0")
    assert odd.data["vendor"] is None and odd.data["friendly_name"] == "Odd Device"
    noprops = [e for e in events if e.data.get("serial") == "NOPROPS&0"]
    assert [e.timestamp_desc for e in noprops] == ["Key Last Written"]
    win7 = [e for e in events if e.data.get("serial") == "SER"]
    assert times(win7) == {"Key Last Written": "2026-03-21T09:30:01.0000000Z",
                           "First Install": "2026-03-21T09:30:00.7654321Z"}
    malformed = next(e for e in events if e.data.get("serial") == "abc")
    assert malformed.data["vid"] is None and malformed.data["service"] is None
    mounted, ctx = run(FIX / "SYSTEM-bad", "SYSTEM", "mounted_devices")
    by = {e.data["mount_point"]: e.data for e in mounted}
    assert by["\\DosDevices\\G:"]["kind"] == "unknown" and by["\\DosDevices\\G:"]["data_size"] == 3
    assert by["\\DosDevices\\H:"]["kind"] == "unknown"
    assert by["\\DosDevices\\I:"]["serial"] == "S1&0"
    assert any("\\DosDevices\\H: is RegSZ, not REG_BINARY" in w for w in ctx.warnings)


def test_bad_software_and_ntuser():
    events, ctx = run(FIX / "SOFTWARE-bad", "SOFTWARE", "portable_devices")
    assert len(events) == 3
    device = next(e for e in events if e.data.get("device_id") == "NOT#A#DEVICE")
    assert device.data["friendly_name"] is None and device.data["device_kind"] == "other"
    assert "serial" not in device.data
    garbage = next(e for e in events if e.data.get("key", "").endswith("garbage_name"))
    assert garbage.data["volume_serial"] is None and garbage.data["last_tested_time"] is None
    nolabel = next(e for e in events if e.data.get("device_path") == KIOXIA_PATH)
    assert nolabel.data["volume_label"] is None and nolabel.data["volume_serial"] == "4B1D2C3E"
    assert nolabel.data["last_tested_time"] == "2026-03-22T01:02:03.4567890Z"
    warned = "\n".join(ctx.warnings)
    assert "NOT#A#DEVICE: value FriendlyName is RegDWord" in warned
    assert "garbage_name: no decimal volume serial" in warned
    assert "garbage_name: LastTestedTime of 2 bytes (too short)" in warned
    events, ctx = run(FIX / "NTUSER-bad.DAT", "NTUSER", "mountpoints2")
    assert sorted(e.data["kind"] for e in events) == ["other", "volume"]
    assert "label" not in next(e for e in events if e.data["kind"] == "volume").data
    assert any("_LabelFromReg is RegDWord" in w for w in ctx.warnings)


@pytest.mark.parametrize("hive, kind, plugin", [
    ("SOFTWARE", "SYSTEM", "usb_devices"), ("SOFTWARE", "SYSTEM", "mounted_devices"),
    ("NTUSER.DAT", "SOFTWARE", "portable_devices"), ("SYSTEM", "NTUSER", "mountpoints2")])
def test_missing_keys_give_nothing_and_no_noise(hive, kind, plugin):
    events, ctx = run(FIX / hive, kind, plugin)
    assert events == [] and ctx.warnings == [] and ctx.errors == []


def test_one_failing_device_entry_costs_only_that_entry(monkeypatch):
    real = usb_devices.property_times

    def flaky(instance, ctx):
        if instance.name() == "28031FDH2000RJ":
            raise ValueError("damaged cell")
        return real(instance, ctx)

    monkeypatch.setattr(usb_devices, "property_times", flaky)
    events, ctx = run(FIX / "SYSTEM", "SYSTEM", "usb_devices")
    assert not any(e.data["enum"] == "USB" and e.data["serial"] == "28031FDH2000RJ"
                   for e in events)
    assert len(events) == 25 - 5
    assert any("VID_18D1&PID_4EE1\\28031FDH2000RJ: unreadable device entry (ValueError: "
               "damaged cell)" in w for w in ctx.warnings)


# ------------------------------------------------------------------- parsers


def test_device_path_and_id_parsers():
    assert parse_device_path(KIOXIA_PATH) == {
        "bus": "USBSTOR", "device": "Disk&Ven_KIOXIA&Prod_TransMemory&Rev_1.00",
        "serial": "0022CFF6B8A7C2B1&0", "device_type": "Disk", "vendor": "KIOXIA",
        "product": "TransMemory", "revision": "1.00", "serial_generated": False,
        "interface_guid": "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}"}
    win7 = parse_device_path("2&37c186b&0&STORAGE#VOLUME#_??_USBSTOR#DISK&VEN_HP&PROD_V100W"
                             "&REV_1024#AA951D0000007252&0#")
    assert (win7["vendor"], win7["serial"], win7["interface_guid"]) == (
        "HP", "AA951D0000007252&0", None)
    mtp = parse_device_path("\\??\\USB#VID_18d1&PID_4ee1#28031FDH2000RJ#{6ac27878-a6fa-4155-ba85-"
                            "f98f491d4f33}")
    assert (mtp["bus"], mtp["vid"], mtp["pid"], mtp["serial"]) == ("USB", "18D1", "4EE1",
                                                                    "28031FDH2000RJ")
    assert parse_device_path("nonsense") == {}
    assert parse_instance_id("USB\\VID_0781&PID_5567\\200608767007B7C08A6A")["pid"] == "5567"
    ident = parse_instance_id("USBSTOR\\Disk&Ven_SanDisk&Prod_Cruzer&Rev_1.26\\2006&0")
    assert (ident["vendor"], ident["product"], ident["revision"]) == ("SanDisk", "Cruzer", "1.26")
    assert parse_instance_id(f"SWD\\WPDBUSENUM\\{KIOXIA_PATH}")["serial"] == "0022CFF6B8A7C2B1&0"


def test_mount_data_emdmgmt_and_mountpoints_names():
    assert decode_mount_data(bytes.fromhex("3ea0be5c0000100000000000")) == {
        "kind": "mbr", "disk_signature": "5CBEA03E", "partition_offset": 1048576}
    gpt = decode_mount_data(b"DMIO:ID:" + bytes(range(16)))
    assert gpt == {"kind": "gpt", "partition_guid": "{03020100-0504-0706-0809-0a0b0c0d0e0f}"}
    assert decode_mount_data(b"")["kind"] == "unknown"
    assert decode_mount_data("\x00\x01garbage!".encode("utf-16-le"))["kind"] == "unknown"
    name = parse_emdmgmt_name(f"{KIOXIA_PATH}MY_LABEL_1260203070")
    assert (name["volume_label"], name["volume_serial"]) == ("MY_LABEL", "4B1D2C3E")
    assert parse_emdmgmt_name(f"{KIOXIA_PATH}_99999999999")["volume_serial"] is None
    assert classify("##192.168.1.10#c$") == {"kind": "network share",
                                            "share": "\\\\192.168.1.10\\c$"}
    assert classify("{D89561FC-77FB-11DC-B29D-806D6172696F}")["volume_guid"] == \
        "{d89561fc-77fb-11dc-b29d-806d6172696f}"
    assert classify("E") == {"kind": "drive letter", "drive_letter": "E:"}


# ------------------------------------------------------------------- end to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    evidence = tmp_path / "evidence"
    config = evidence / "Windows" / "System32" / "config"
    config.mkdir(parents=True)
    shutil.copy(FIX / "SYSTEM", config / "SYSTEM")
    shutil.copy(FIX / "SOFTWARE", config / "SOFTWARE")
    (evidence / "Users" / "alice").mkdir(parents=True)
    shutil.copy(FIX / "NTUSER.DAT", evidence / "Users" / "alice" / "NTUSER.DAT")
    before = tree_digest(evidence)
    case = tmp_path / "case"
    result = cli("run", evidence, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = read_jsonl(case)
    mine = [e for e in events if e["data"].get("plugin") in (
        "usb_devices", "mounted_devices", "portable_devices", "mountpoints2")]
    counts = {p: sum(1 for e in mine if e["data"]["plugin"] == p) for p in (
        "usb_devices", "mounted_devices", "portable_devices", "mountpoints2")}
    assert counts == {"usb_devices": 25, "mounted_devices": 6, "portable_devices": 3,
                      "mountpoints2": 4}
    assert all(e["host"] == "WS-ACCT-07" and e["family"] == "registry" for e in mine)
    arrival = next(e for e in mine if e["timestamp_desc"] == "Last Arrival"
                   and e["data"]["enum"] == "USBSTOR" and e["data"]["vendor"] == "KIOXIA")
    assert arrival["timestamp"] == "2026-03-11T06:02:44.9171234Z"
    assert arrival["data"]["hive"] == "SYSTEM"
    assert arrival["source"]["path"] == "/Windows/System32/config/SYSTEM"
    # user -> volume GUID (MountPoints2) -> drive letter and device (MountedDevices) -> USBSTOR
    mp2 = next(e for e in mine if e["data"]["plugin"] == "mountpoints2"
               and e["data"]["kind"] == "volume" and e["data"]["volume_guid"] == STICK_VOLUME)
    assert mp2["user"] == "alice" and mp2["timestamp"] == "2026-03-11T06:03:01.1357913Z"
    volume = next(e for e in mine if e["data"]["plugin"] == "mounted_devices"
                  and e["data"]["volume_guid"] == STICK_VOLUME)
    assert volume["data"]["drive_letters"] == ["E:"]
    assert volume["data"]["serial"] == arrival["data"]["serial"]
    assert all(e["user"] is None for e in mine if e["data"]["plugin"] != "mountpoints2")
    assert tree_digest(evidence) == before
