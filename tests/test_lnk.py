"""Shortcut (LNK) extractor: built shortcuts, real samples, bad input and a CLI run."""
from __future__ import annotations

import datetime as dt
import random
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders import lnk_writer as w  # noqa: E402
from tests.conftest import read_jsonl, samples  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.shellitems.link import shell_path as parse_id_list  # noqa: E402
from triage.extractors.lnk import (  # noqa: E402
    LnkExtractor,
    Report,
    link_size,
    read_link,
    target_events,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

FT_CREATED = 134168869231234567  # 2026-03-02T01:02:03.1234567Z
FT_MODIFIED = FT_CREATED - 864_000_000_000  # one day earlier
FT_ACCESSED = FT_CREATED + 36_000_000_001  # one hour and 100 ns later
DROID_VOLUME = "c989f572-4deb-4c64-b0d1-dc4959bbff28"
DROID_FILE = w.uuid1_droid("70:5a:b6:16:a5:f3", FT_CREATED - 10_000_000)
DOCUMENTS = "fdd39ad0-238f-46af-adb4-6c85480369c7"
TARGET = "E:\\CUSTOMERS\\顧客リスト.xlsx"


def _removable_lnk(**overrides) -> bytes:
    """A shortcut to a file on a removable stick (serial 4B1D2C3E, label KIOXIA)."""
    when = dt.datetime(2026, 3, 1, 9, 30, 4)
    items = w.id_list(
        w.root_item(),
        w.volume_item("E:\\"),
        w.file_entry_item("CUSTOMERS", is_directory=True, modified=when, created=when,
                          accessed=when, mft_entry=35, mft_sequence=1),
        w.file_entry_item("顧客リスト.xlsx", short_name="0A1B~1.XLS", size=52311, modified=when,
                          created=dt.datetime(2026, 2, 27, 8, 0, 0), accessed=when,
                          mft_entry=81349, mft_sequence=3),
    )
    values = dict(
        target_id_list=items,
        link_info=w.link_info_local(TARGET, w.DRIVE_REMOVABLE, 0x4B1D2C3E, "KIOXIA"),
        description="customer list",
        relative_path="..\\..\\..\\..\\..\\E:\\CUSTOMERS\\顧客リスト.xlsx",
        working_directory="E:\\CUSTOMERS",
        icon_location="%ProgramFiles%\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
        extra_blocks=[w.environment_block("%USERPROFILE%\\Documents\\顧客リスト.xlsx"),
                      w.tracker_block("ws-acct-07", DROID_VOLUME, DROID_FILE),
                      w.known_folder_block(DOCUMENTS)],
        created=FT_CREATED, modified=FT_MODIFIED, accessed=FT_ACCESSED, file_size=52311,
    )
    values.update(overrides)
    return w.build_lnk(**values)


def _extract(tmp_path: Path, raw: bytes, name: str = "x.lnk", vpath: str | None = None):
    target = tmp_path / name
    target.write_bytes(raw)
    ctx = ExtractionContext()
    events = list(LnkExtractor().extract(LocalFile(str(target), path=vpath or f"/{name}"), ctx))
    return events, ctx


# ---------------------------------------------------------------------------- built files


def test_removable_volume_shortcut(tmp_path):
    raw = _removable_lnk()
    assert link_size(raw) == len(raw)
    events, ctx = _extract(tmp_path, raw)
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2026-03-02T01:02:03.1234567Z", "Target Created"),
        ("2026-03-01T01:02:03.1234567Z", "Target Modified"),
        ("2026-03-02T02:02:03.1234568Z", "Target Accessed"),
    ]
    message = ("Shortcut to E:\\CUSTOMERS\\顧客リスト.xlsx "
               "(E: removable, serial 4B1D2C3E, label KIOXIA)")
    assert all(e.message == message for e in events)
    assert all(e.user is None for e in events)
    data = events[0].data
    assert events[1].data == data and events[2].data == data
    assert events[1].data is not data and events[1].data["shell_items"] is not data["shell_items"]
    expected_items = [
        {"type": "root_folder", "name": "<My Computer>", "folder_id": w.MY_COMPUTER},
        {"type": "volume", "name": "E:\\"},
        {"type": "file_entry", "short_name": "CUSTOMERS", "is_directory": True, "file_size": 0,
         "modified": "2026-03-01T09:30:04Z", "created": "2026-03-01T09:30:04Z",
         "accessed": "2026-03-01T09:30:04Z", "mft_entry": 35, "mft_sequence": 1,
         "file_reference": "35-1", "long_name": "CUSTOMERS", "name": "CUSTOMERS"},
        {"type": "file_entry", "short_name": "0A1B~1.XLS", "is_directory": False,
         "file_size": 52311, "modified": "2026-03-01T09:30:04Z",
         "created": "2026-02-27T08:00:00Z", "accessed": "2026-03-01T09:30:04Z",
         "mft_entry": 81349, "mft_sequence": 3, "file_reference": "81349-3",
         "long_name": "顧客リスト.xlsx", "name": "顧客リスト.xlsx"},
    ]
    assert data == {
        "target_path": TARGET,
        "local_path": TARGET,
        "local_base_path": TARGET,
        "common_path_suffix": None,
        "network_path": None,
        "network_share_name": None,
        "network_device_name": None,
        "network_provider_type": None,
        "relative_path": "..\\..\\..\\..\\..\\E:\\CUSTOMERS\\顧客リスト.xlsx",
        "working_directory": "E:\\CUSTOMERS",
        "arguments": None,
        "description": "customer list",
        "icon_location": "%ProgramFiles%\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
        "icon_index": 0,
        "environment_variables_location": "%USERPROFILE%\\Documents\\顧客リスト.xlsx",
        "show_command": 1,
        "drive_type": 2,
        "drive_type_name": "removable",
        "volume_serial": "4B1D2C3E",
        "volume_label": "KIOXIA",
        "file_attributes": 0x20,
        "file_attribute_names": ["ARCHIVE"],
        "file_size": 52311,
        "target_created": "2026-03-02T01:02:03.1234567Z",
        "target_modified": "2026-03-01T01:02:03.1234567Z",
        "target_accessed": "2026-03-02T02:02:03.1234568Z",
        "shell_item_path": "<My Computer> E:\\CUSTOMERS\\顧客リスト.xlsx",
        "shell_items": expected_items,
        "mft_entry": 81349,
        "mft_sequence": 3,
        "file_reference": "81349-3",
        "known_folder_id": DOCUMENTS,
        "known_folder_name": "Documents",
        "machine_id": "ws-acct-07",
        "droid_volume_id": DROID_VOLUME,
        "droid_file_id": DROID_FILE,
        "birth_droid_volume_id": DROID_VOLUME,
        "birth_droid_file_id": DROID_FILE,
        "mac_address": "70:5a:b6:16:a5:f3",
        "birth_mac_address": "70:5a:b6:16:a5:f3",
        "droid_file_time": "2026-03-02T01:02:02.1234567Z",
    }


def test_network_share_shortcut(tmp_path):
    raw = w.build_lnk(
        target_id_list=w.id_list(
            w.root_item(w.MY_NETWORK_PLACES, 0x58), w.network_item("\\\\FILESRV", share=False),
            w.network_item("\\\\FILESRV\\Public"), w.file_entry_item("Reports", is_directory=True),
            w.file_entry_item("q1.docx", size=20480, mft_entry=9, mft_sequence=2)),
        link_info=w.link_info_network("\\\\FILESRV\\Public", "Reports\\q1.docx", "Z:"),
        arguments="/safe", created=FT_CREATED, file_size=20480)
    events, ctx = _extract(tmp_path, raw)
    assert ctx.warnings == [] and ctx.errors == []
    (event,) = events
    assert event.timestamp.iso() == "2026-03-02T01:02:03.1234567Z"
    assert event.timestamp_desc == "Target Created"
    assert event.message == ("Shortcut to \\\\FILESRV\\Public\\Reports\\q1.docx /safe "
                             "(network share \\\\FILESRV\\Public, mapped to Z:)")
    data = event.data
    assert data["target_path"] == "\\\\FILESRV\\Public\\Reports\\q1.docx"
    assert data["network_path"] == "\\\\FILESRV\\Public\\Reports\\q1.docx"
    assert data["network_share_name"] == "\\\\FILESRV\\Public"
    assert data["network_device_name"] == "Z:"
    assert data["network_provider_type"] == w.WNNC_NET_LANMAN
    assert data["common_path_suffix"] == "Reports\\q1.docx"
    assert data["local_path"] is None and data["drive_type"] is None
    assert data["volume_serial"] is None and data["volume_label"] is None
    assert data["arguments"] == "/safe"
    assert data["shell_item_path"] == "<My Network Places> \\\\FILESRV\\Public\\Reports\\q1.docx"
    assert data["file_reference"] == "9-2"
    assert data["target_modified"] is None and data["target_accessed"] is None
    assert data["machine_id"] is None and data["mac_address"] is None


def test_no_times_gives_one_untimed_event(tmp_path):
    raw = w.build_lnk(target_id_list=w.id_list(w.root_item(w.INTERNET, 0x68),
                                               w.uri_item("https://example.org/a?b=1")))
    events, ctx = _extract(tmp_path, raw)
    (event,) = events
    assert event.timestamp is None
    assert event.timestamp_desc == "Target Times Not Set"
    assert event.message == "Shortcut to <Internet Folder> https://example.org/a?b=1"
    assert event.data["shell_items"] == [
        {"type": "root_folder", "name": "<Internet Folder>", "folder_id": w.INTERNET},
        {"type": "uri", "name": "https://example.org/a?b=1"}]
    assert event.data["target_path"] == event.data["shell_item_path"]
    assert event.data["file_size"] == 0 and event.data["drive_type"] is None


def test_arguments_hidden_after_white_space_stay_on_one_line(tmp_path):
    args = " " * 260 + "\r\n-enc  SQBFAFgA"
    raw = w.build_lnk(link_info=w.link_info_local("C:\\Windows\\System32\\cmd.exe",
                                                  w.DRIVE_FIXED, 1, ""),
                      arguments=args, created=FT_CREATED)
    (event,) = _extract(tmp_path, raw)[0]
    assert event.data["arguments"] == args
    assert event.message == ("Shortcut to C:\\Windows\\System32\\cmd.exe -enc SQBFAFgA "
                             "(C: fixed, serial 00000001)")


def test_unicode_label_and_ansi_fallback(tmp_path):
    raw = _removable_lnk(link_info=w.link_info_local("D:\\report.pdf", w.DRIVE_FIXED, 0x1234ABCD,
                                                     "データ"))
    events, _ = _extract(tmp_path, raw)
    assert events[0].data["volume_label"] == "データ"
    assert events[0].data["local_path"] == "D:\\report.pdf"
    assert events[0].message.endswith("(D: fixed, serial 1234ABCD, label データ)")


def test_shell_items_unknown_folder_and_bad_list():
    unknown = "11111111-2222-3333-4444-555555555555"
    shell = parse_id_list(w.id_list(w.root_item(unknown), w.file_entry_item("x.txt")))
    assert shell.path == "<{11111111-2222-3333-4444-555555555555}> x.txt"
    warnings: list[str] = []
    assert parse_id_list(b"\x05\x00\xff\xff", warnings.append) is None
    assert warnings and warnings[0].startswith("unreadable shell item list")


# ---------------------------------------------------------------------------- real samples


def test_sample_nero_info_tool(tmp_path):
    path = samples("lnk", "plaso", "NeroInfoTool.lnk")
    ctx = ExtractionContext()
    events = list(LnkExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2009-06-05T20:13:20.0000000Z", "Target Created"),
        ("2009-06-05T20:13:20.0000000Z", "Target Modified"),
        ("2010-01-29T21:30:11.3321569Z", "Target Accessed"),
    ]
    exe = "C:\\Program Files (x86)\\Nero\\Nero 9\\Nero InfoTool\\InfoTool.exe"
    assert events[0].message == (f"Shortcut to {exe} -ScParameter=30002 "
                                 "(C: fixed, serial 70ECFA33, label OS)")
    assert events[0].data["arguments"] == "-ScParameter=30002  "  # as recorded
    data = events[0].data
    assert data["local_path"] == exe and data["target_path"] == exe
    assert data["icon_location"] == exe
    assert data["volume_serial"] == "70ECFA33"
    assert data["drive_type"] == 3 and data["drive_type_name"] == "fixed"
    assert data["volume_label"] == "OS"
    assert data["file_attributes"] == 0x20 and data["file_size"] == 4635160
    assert data["relative_path"] == ("..\\..\\..\\..\\..\\..\\..\\..\\Program Files (x86)\\Nero"
                                     "\\Nero 9\\Nero InfoTool\\InfoTool.exe")
    assert data["working_directory"] == "C:\\Program Files (x86)\\Nero\\Nero 9\\Nero InfoTool"
    assert data["description"] == (
        "Nero InfoTool provides you with information about the most important features of "
        "installed drives, inserted discs, installed software and much more. With Nero "
        "InfoTool you can find out all about your drive and your system configuration.")
    assert data["shell_item_path"] == f"<My Computer> {exe}"
    assert data["file_reference"] == "81349-1"
    assert (data["mft_entry"], data["mft_sequence"]) == (81349, 1)
    last = data["shell_items"][-1]
    assert last["long_name"] == "InfoTool.exe"
    assert (last["created"], last["modified"], last["accessed"]) == (
        "2009-06-05T20:13:20Z", "2009-06-05T20:13:20Z", "2010-01-29T21:30:12Z")
    assert data["mac_address"] == "70:5a:b6:16:a5:f3"
    assert data["droid_file_id"] == "958705b5-0d19-11df-9fe4-705ab616a5f3"
    assert data["droid_file_time"] == "2010-01-29T21:02:17.8401717Z"
    assert data["machine_id"] == "win-3qmdjgkf3g9"


def test_sample_unpaired_surrogate():
    path = samples("lnk", "plaso", "unpaired_surrogate.lnk")
    ctx = ExtractionContext()
    events = list(LnkExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and ctx.errors == []
    assert events[0].timestamp.iso() == "2023-07-10T04:01:20.7971076Z"
    assert events[0].timestamp_desc == "Target Created"
    data = events[0].data
    assert data["local_path"] == "C:\\test\\unicode_U+0000d800_\ud800.exe"  # lone surrogate kept
    assert data["volume_serial"] == "2CA3D1AE" and data["drive_type"] == 3
    assert data["file_attributes"] == 0x20 and data["file_size"] == 11264
    assert data["working_directory"] == "C:\\test" and data["description"] is None
    assert data["file_reference"] == "386618-63"
    last = data["shell_items"][-1]
    assert last["short_name"] == "UNICOD~1.EXE"
    assert (last["accessed"], last["created"], last["modified"]) == (
        "2023-07-10T04:01:28Z", "2023-07-10T04:01:22Z", "2019-12-06T21:29:00Z")


def test_sample_example_environment_block():
    path = samples("lnk", "plaso", "example.lnk")
    events = list(LnkExtractor().extract(LocalFile(str(path)), ExtractionContext()))
    data = events[0].data
    assert data["target_path"] == "%windir%\\system32\\migwiz\\migwiz.exe"
    assert data["environment_variables_location"] == "%windir%\\system32\\migwiz\\migwiz.exe"
    assert data["machine_id"] == "win-tj9qcsjkags"
    assert data["local_path"] is None and data["shell_items"] == []


# ---------------------------------------------------------------------------- bad input


def _bad_cases() -> list[tuple[str, bytes]]:
    good = _removable_lnk()
    id_size_offset = 76
    huge_id = bytearray(good)
    struct.pack_into("<H", huge_id, id_size_offset, 0xFFFF)
    return [
        ("empty", b""),
        ("short", b"L\0\0\0"),
        ("text", b"this is not a shortcut\n" * 10),
        ("wrong-clsid", struct.pack("<I", 0x4C) + b"\x11" * 72),
        ("header-only-with-id-list-flag", good[:76]),
        ("huge-id-list-size", bytes(huge_id)),
    ]


@pytest.mark.parametrize("label, content", _bad_cases())
def test_bad_input_raises_artifact_error(tmp_path, capfd, label, content):
    target = tmp_path / f"{label}.lnk"
    target.write_bytes(content)
    with pytest.raises(ArtifactError) as caught:
        list(LnkExtractor().extract(LocalFile(str(target)), ExtractionContext()))
    reason = str(caught.value)
    assert reason and "\n" not in reason
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def test_bad_input_reasons(tmp_path):
    cases = dict(_bad_cases())
    for label, expected in [("empty", "empty file"),
                            ("short", "truncated shortcut: 4 bytes, the header alone is 76"),
                            ("text", "not a shortcut file"),
                            ("huge-id-list-size", "unreadable shortcut")]:
        with pytest.raises(ArtifactError, match=expected):
            read_link(cases[label], Report.quiet())


def test_damaged_link_info(tmp_path):
    raw = bytearray(_removable_lnk())
    info_offset = 76 + 2 + struct.unpack_from("<H", raw, 76)[0]
    struct.pack_into("<I", raw, info_offset + 12, 0xFFFF)  # VolumeID offset out of range
    with pytest.raises(ArtifactError, match="^unreadable shortcut: volume information offset "
                                            "exceeds location information size$"):
        _extract(tmp_path, bytes(raw))


def test_truncated_tail_yields_with_warning(tmp_path, capfd):
    raw = _removable_lnk()
    events, ctx = _extract(tmp_path, raw[: len(raw) - 40])  # cut inside the tracker block
    assert len(events) == 3
    assert events[0].data["environment_variables_location"] == \
        "%USERPROFILE%\\Documents\\顧客リスト.xlsx"
    assert events[0].data["machine_id"] is None  # the tracker block is lost
    assert ctx.errors == [
        "/x.lnk: the shortcut's structures run past the end of the data (truncated)"]
    assert ctx.warnings == [
        "/x.lnk: liblnk reports the shortcut as corrupted; values may be incomplete"]
    assert capfd.readouterr().err == ""


def test_every_truncation_and_random_damage_is_contained(tmp_path, capfd):
    """No cut or flipped byte may raise anything but ArtifactError, or print anything."""
    raws = [_removable_lnk(), samples("lnk", "plaso", "NeroInfoTool.lnk").read_bytes()]
    rng = random.Random(1234)
    cases = [raw[:n] for raw in raws for n in range(0, len(raw), 7)]
    for _ in range(300):
        raw = bytearray(rng.choice(raws))
        for _ in range(rng.randint(1, 8)):
            raw[rng.randrange(20, len(raw))] = rng.randrange(256)
        cases.append(bytes(raw))
    for raw in cases:
        try:
            for event in read_link_events(raw):
                assert event.timestamp_desc
        except ArtifactError as exc:
            assert str(exc) and "\n" not in str(exc)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


def read_link_events(raw: bytes):
    return list(target_events(read_link(raw, Report.quiet()), "m"))


# ---------------------------------------------------------------------------- end to end


def test_cli_run_on_a_user_profile(cli, tmp_path):
    root = tmp_path / "evidence"
    recent = root / "Users" / "alice" / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Recent"
    desktop = root / "Users" / "alice" / "Desktop"
    recent.mkdir(parents=True)
    desktop.mkdir(parents=True)
    (recent / "顧客リスト.xlsx.lnk").write_bytes(_removable_lnk())
    (desktop / "broken.lnk").write_bytes(b"not a shortcut at all")
    (desktop / "notes.txt").write_bytes(b"ignored")
    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json")
    assert result.exit_code == 1, result.output  # the broken shortcut is an error row
    events = [e for e in read_jsonl(case) if e["extractor"] == "lnk"]
    assert [(e["timestamp"], e["timestamp_desc"]) for e in events] == [
        ("2026-03-01T01:02:03.1234567Z", "Target Modified"),
        ("2026-03-02T01:02:03.1234567Z", "Target Created"),
        ("2026-03-02T02:02:03.1234568Z", "Target Accessed"),
    ]
    first = events[0]
    assert first["artifact"] == "WindowsShortcuts" and first["family"] == "recent_files"
    assert first["user"] == "alice"
    assert first["source"]["path"] == \
        "/Users/alice/AppData/Roaming/Microsoft/Windows/Recent/顧客リスト.xlsx.lnk"
    assert first["data"]["volume_serial"] == "4B1D2C3E"
    assert first["data"]["file_reference"] == "81349-3"
    assert first["message"] == ("Shortcut to E:\\CUSTOMERS\\顧客リスト.xlsx "
                                "(E: removable, serial 4B1D2C3E, label KIOXIA)")


def test_time_past_year_9999_is_dropped_with_a_warning(tmp_path):
    raw = _removable_lnk(accessed=0x7FFFFFFFFFFFFFF0)
    events, ctx = _extract(tmp_path, raw)
    assert [e.timestamp_desc for e in events] == ["Target Created", "Target Modified"]
    assert events[0].data["target_accessed"] is None
    assert ctx.warnings == ["/x.lnk: target access time 0x7FFFFFFFFFFFFFF0 is past the year "
                            "9999; ignored"]


def test_cli_stores_a_lone_surrogate_escaped(cli, tmp_path):
    sample = samples("lnk", "plaso", "unpaired_surrogate.lnk")
    recent = tmp_path / "evidence" / "Users" / "carol" / "AppData" / "Roaming" / "Microsoft" / \
        "Windows" / "Recent"
    recent.mkdir(parents=True)
    (recent / "unicode.lnk").write_bytes(sample.read_bytes())
    case = tmp_path / "case"
    result = cli("run", tmp_path / "evidence", "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = [e for e in read_jsonl(case) if e["extractor"] == "lnk"]
    assert len(events) == 3 and {e["user"] for e in events} == {"carol"}
    assert events[0]["data"]["local_path"] == "C:\\test\\unicode_U+0000d800_\\ud800.exe"
    assert events[0]["message"] == \
        "Shortcut to C:\\test\\unicode_U+0000d800_\\ud800.exe (C: fixed, serial 2CA3D1AE)"
