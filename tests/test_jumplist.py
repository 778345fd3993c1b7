"""Jump List extractors: AutomaticDestinations and CustomDestinations, built and real files."""
from __future__ import annotations

import random
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders import jumplist_writer as jw  # noqa: E402
from fixtures.builders import lnk_writer as w  # noqa: E402
from tests.conftest import read_jsonl, samples  # noqa: E402
from triage.artifacts import builtin_dirs  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.jumplist import (  # noqa: E402
    AutomaticDestinationsExtractor,
    CustomDestinationsExtractor,
    app_id,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

FT = 134168869231234567  # 2026-03-02T01:02:03.1234567Z
HOUR = 36_000_000_000
EXPLORER = "f01b4d95cf55d32a"
EXCEL = "b8ab77100df80ab2"
DROID_VOLUME = "c989f572-4deb-4c64-b0d1-dc4959bbff28"
DROID_FILE = w.uuid1_droid("08:00:27:ac:3d:7f", FT - 2 * HOUR)
SHIPPED = [str(d) for d in builtin_dirs()]


def _ctx(*extra_dirs: str) -> ExtractionContext:
    return ExtractionContext(definition_dirs=SHIPPED + list(extra_dirs))


def _lnk(path: str, created: int, mft_entry: int, serial: int = 0x4B1D2C3E,
         label: str = "KIOXIA", drive_type: int = w.DRIVE_REMOVABLE) -> bytes:
    folder, name = path.rsplit("\\", 1)
    return w.build_lnk(
        target_id_list=w.id_list(w.root_item(), w.volume_item(path[:3]),
                                 w.file_entry_item(name, size=100, mft_entry=mft_entry,
                                                   mft_sequence=2)),
        link_info=w.link_info_local(path, drive_type, serial, label),
        working_directory=folder,
        extra_blocks=[w.tracker_block("ws-acct-07", DROID_VOLUME, DROID_FILE)],
        created=created, modified=created + HOUR, accessed=created + 2 * HOUR, file_size=100)


ENTRIES = [
    jw.DestEntry(3, "E:\\CUSTOMERS\\顧客リスト.xlsx", FT + 5 * HOUR, hostname="ws-acct-07",
                 pin_status=0, access_count=7, droid_volume=DROID_VOLUME, droid_file=DROID_FILE),
    jw.DestEntry(2, "C:\\Users\\alice\\Documents\\budget.xlsx", FT + 3 * HOUR,
                 hostname="ws-acct-07", access_count=2),
    jw.DestEntry(1, "\\\\FILESRV\\Public\\old.xlsx", 0, access_count=1),
]
LINKS = {3: _lnk("E:\\CUSTOMERS\\顧客リスト.xlsx", FT, 81349),
         2: _lnk("C:\\Users\\alice\\Documents\\budget.xlsx", FT - 24 * HOUR, 700,
                 serial=0x7A3C5E1F, label="Windows", drive_type=w.DRIVE_FIXED)}


def _auto(tmp_path: Path, raw: bytes, name: str = f"{EXCEL}.automaticDestinations-ms", ctx=None):
    target = tmp_path / name
    target.write_bytes(raw)
    ctx = ctx or _ctx()
    vpath = f"/Users/alice/AppData/Roaming/Microsoft/Windows/Recent/AutomaticDestinations/{name}"
    events = list(AutomaticDestinationsExtractor().extract(LocalFile(str(target), path=vpath),
                                                           ctx))
    return events, ctx


def _custom(tmp_path: Path, raw: bytes, name: str = f"{EXPLORER}.customDestinations-ms"):
    target = tmp_path / name
    target.write_bytes(raw)
    ctx = _ctx()
    events = list(CustomDestinationsExtractor().extract(LocalFile(str(target), path=f"/{name}"),
                                                        ctx))
    return events, ctx


# ---------------------------------------------------------------------------- automatic


def test_automatic_destinations_v4(tmp_path):
    raw = jw.build_automatic_destinations(ENTRIES, LINKS, version=4)
    events, ctx = _auto(tmp_path, raw)
    assert ctx.errors == []
    assert ctx.warnings == [
        f"/Users/alice/AppData/Roaming/Microsoft/Windows/Recent/AutomaticDestinations/{EXCEL}"
        ".automaticDestinations-ms: DestList entry 1 has no shell link stream"]
    dest = [e for e in events if e.timestamp_desc == "Last Accessed"]
    assert [(e.timestamp.iso() if e.timestamp else None, e.message) for e in dest] == [
        ("2026-03-02T06:02:03.1234567Z", "Jump List (Microsoft Excel 2013 and later): "
         "E:\\CUSTOMERS\\顧客リスト.xlsx last accessed (entry 3, 7 accesses, pinned, "
         "host ws-acct-07)"),
        ("2026-03-02T04:02:03.1234567Z", "Jump List (Microsoft Excel 2013 and later): "
         "C:\\Users\\alice\\Documents\\budget.xlsx last accessed (entry 2, 2 accesses, "
         "host ws-acct-07)"),
        (None, "Jump List (Microsoft Excel 2013 and later): \\\\FILESRV\\Public\\old.xlsx "
         "last accessed (entry 1, 1 access)"),
    ]
    first = dest[0].data
    lnk = first.pop("lnk")
    assert first == {
        "app_id": EXCEL,
        "app_name": "Microsoft Excel 2013 and later",
        "destlist_version": 4,
        "entry_number": 3,
        "mru_position": 0,
        "path": "E:\\CUSTOMERS\\顧客リスト.xlsx",
        "hostname": "ws-acct-07",
        "access_count": 7,
        "pinned": True,
        "pin_position": 0,
        "droid_volume_id": DROID_VOLUME,
        "droid_file_id": DROID_FILE,
        "birth_droid_volume_id": DROID_VOLUME,
        "birth_droid_file_id": DROID_FILE,
        "mac_address": "08:00:27:ac:3d:7f",
        "droid_file_time": "2026-03-01T23:02:03.1234567Z",
        "stream": "3",
        "mft_entry": 81349,
        "mft_sequence": 2,
    }
    assert lnk["local_path"] == "E:\\CUSTOMERS\\顧客リスト.xlsx"
    assert lnk["volume_serial"] == "4B1D2C3E" and lnk["volume_label"] == "KIOXIA"
    assert lnk["drive_type_name"] == "removable"
    assert lnk["target_created"] == "2026-03-02T01:02:03.1234567Z"
    assert lnk["file_reference"] == "81349-2"
    assert dest[1].data["pinned"] is False and dest[1].data["pin_position"] is None
    assert dest[1].data["mru_position"] == 1
    assert dest[1].data["droid_file_id"] is None and dest[1].data["mac_address"] is None
    assert dest[2].data["lnk"] is None and dest[2].data["mft_entry"] is None
    assert dest[2].data["hostname"] is None

    targets = [e for e in events if e.timestamp_desc != "Last Accessed"]
    assert [(e.timestamp.iso(), e.timestamp_desc, e.data["entry_number"]) for e in targets] == [
        ("2026-03-01T01:02:03.1234567Z", "Target Created", 2),
        ("2026-03-01T02:02:03.1234567Z", "Target Modified", 2),
        ("2026-03-01T03:02:03.1234567Z", "Target Accessed", 2),
        ("2026-03-02T01:02:03.1234567Z", "Target Created", 3),
        ("2026-03-02T02:02:03.1234567Z", "Target Modified", 3),
        ("2026-03-02T03:02:03.1234567Z", "Target Accessed", 3),
    ]
    assert targets[3].message == (
        "Jump List (Microsoft Excel 2013 and later) entry 3: shortcut to "
        "E:\\CUSTOMERS\\顧客リスト.xlsx (E: removable, serial 4B1D2C3E, label KIOXIA)")
    assert targets[3].data["jump_list"] == "automatic" and targets[3].data["stream"] == "3"
    assert targets[3].data["app_id"] == EXCEL
    assert targets[3].data["volume_label"] == "KIOXIA"
    assert all(e.user is None for e in events)


@pytest.mark.parametrize("version", [1, 3])
def test_automatic_destinations_other_versions(tmp_path, version):
    raw = jw.build_automatic_destinations(ENTRIES[:2], LINKS, version=version)
    events, ctx = _auto(tmp_path, raw)
    assert ctx.warnings == [] and ctx.errors == []
    dest = [e for e in events if e.timestamp_desc == "Last Accessed"]
    assert [e.data["path"] for e in dest] == [ENTRIES[0].path, ENTRIES[1].path]
    assert dest[0].data["destlist_version"] == version
    assert dest[0].data["access_count"] == (None if version == 1 else 7)
    assert dest[0].timestamp.iso() == "2026-03-02T06:02:03.1234567Z"
    assert dest[0].data["hostname"] == "ws-acct-07" and dest[0].data["pinned"] is True


def test_large_destlist_outside_the_mini_stream(tmp_path):
    entries = [jw.DestEntry(n, f"C:\\data\\file{n:03}.txt", FT + n, access_count=n)
               for n in range(1, 61)]
    links = {n: _lnk(f"C:\\data\\file{n:03}.txt", FT, 1000 + n) for n in range(1, 61)}
    raw = jw.build_automatic_destinations(entries, links)
    events, ctx = _auto(tmp_path, raw, name="0123456789abcdef.automaticDestinations-ms")
    assert ctx.warnings == [] and ctx.errors == []
    dest = [e for e in events if e.timestamp_desc == "Last Accessed"]
    assert len(dest) == 60 and len(events) == 60 + 3 * 60
    assert dest[59].data["path"] == "C:\\data\\file060.txt"
    assert dest[59].data["lnk"]["file_reference"] == "1060-2"
    assert dest[0].data["app_name"] is None
    assert dest[0].message.startswith("Jump List (AppID 0123456789abcdef): ")


@pytest.mark.skipif(shutil.which("gsf") is None, reason="gsf (libgsf-bin) not installed")
def test_ole_writer_agrees_with_an_independent_reader(tmp_path):
    """The compound file writer's output read back by libgsf's `gsf` tool."""
    streams = {"DestList": jw.build_destlist(ENTRIES), "3": LINKS[3], "big": b"\x5a" * 9000}
    target = tmp_path / "x.ole"
    target.write_bytes(jw.build_ole(streams))
    for name, content in streams.items():
        out = subprocess.run(["gsf", "cat", str(target), name], capture_output=True, check=True)
        assert out.stdout == content, name


def test_empty_destlist(tmp_path):
    events, ctx = _auto(tmp_path, jw.build_ole({"DestList": b""}))
    assert events == [] and ctx.warnings == []


def test_streams_without_destlist(tmp_path):
    events, ctx = _auto(tmp_path, jw.build_ole({"1": LINKS[2]}))
    assert [e.timestamp_desc for e in events] == ["Target Created", "Target Modified",
                                                  "Target Accessed"]
    assert ctx.errors[0].endswith("no DestList stream; only the shell link streams are read")


def test_truncated_destlist_entry_is_an_error_row(tmp_path):
    destlist = jw.build_destlist(ENTRIES, 4)
    raw = jw.build_ole({"DestList": destlist[:-20], "3": LINKS[3], "2": LINKS[2]})
    events, ctx = _auto(tmp_path, raw)
    assert len([e for e in events if e.timestamp_desc == "Last Accessed"]) == 2
    assert len(ctx.errors) == 1 and "path runs past the end of the stream" in ctx.errors[0]
    assert len(ctx.warnings) == 1
    assert ctx.warnings[0].endswith("DestList header counts 3 entries, 2 read")


def test_bad_embedded_link_is_an_error_row(tmp_path):
    raw = jw.build_automatic_destinations(ENTRIES[:1], {3: b"garbage" * 20})
    events, ctx = _auto(tmp_path, raw)
    assert [e.timestamp_desc for e in events] == ["Last Accessed"]
    assert events[0].data["lnk"] is None
    assert len(ctx.errors) == 1 and "stream 3: not a shortcut file" in ctx.errors[0]
    assert ctx.warnings == []


# ---------------------------------------------------------------------------- custom


def _custom_file() -> bytes:
    return jw.build_custom_destinations([
        jw.Category("custom", [LINKS[3], LINKS[2]], name="Pinned Reports"),
        jw.Category("known", known_id=2),
        jw.Category("tasks", [w.build_lnk(
            link_info=w.link_info_local("C:\\Windows\\System32\\cmd.exe", w.DRIVE_FIXED,
                                        0x7A3C5E1F, "Windows"),
            arguments="/c whoami", description="Run a check", created=FT)]),
    ])


def test_custom_destinations(tmp_path):
    events, ctx = _custom(tmp_path, _custom_file())
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.data["entry_index"], e.data["category"], e.data["category_type"],
             e.timestamp_desc) for e in events] == [
        (0, "Pinned Reports", 0, "Target Created"),
        (0, "Pinned Reports", 0, "Target Modified"),
        (0, "Pinned Reports", 0, "Target Accessed"),
        (1, "Pinned Reports", 0, "Target Created"),
        (1, "Pinned Reports", 0, "Target Modified"),
        (1, "Pinned Reports", 0, "Target Accessed"),
        (2, "tasks", 2, "Target Created"),
    ]
    assert events[0].message == (
        "Jump List (Windows Explorer (Windows 8.1 and later)) Pinned Reports: shortcut to "
        "E:\\CUSTOMERS\\顧客リスト.xlsx (E: removable, serial 4B1D2C3E, label KIOXIA)")
    assert events[6].message == (
        "Jump List (Windows Explorer (Windows 8.1 and later)) tasks: shortcut to "
        "C:\\Windows\\System32\\cmd.exe /c whoami (C: fixed, serial 7A3C5E1F, label Windows)")
    task = events[6].data
    assert task["app_id"] == EXPLORER and task["jump_list"] == "custom"
    assert task["arguments"] == "/c whoami" and task["description"] == "Run a check"
    assert events[6].timestamp.iso() == "2026-03-02T01:02:03.1234567Z"


def test_custom_destinations_damaged_category_falls_back_to_search(tmp_path):
    raw = _custom_file()
    second = raw.index(jw.LNK_CLSID + LINKS[2])
    damaged = raw[:second] + b"\x99" * 16 + raw[second + 16 :]  # unknown class identifier
    events, ctx = _custom(tmp_path, damaged)
    assert [(e.data["entry_index"], e.data["category"]) for e in events
            if e.timestamp_desc == "Target Created"] == [
        (0, "Pinned Reports"), (1, None), (2, None)]
    assert ctx.warnings == [] and len(ctx.errors) == 1
    assert "custom destinations damaged in the category at offset 12: entry of unsupported " \
           "class 99999999-9999-9999-9999-999999999999" in ctx.errors[0]


def test_custom_destinations_header_only_and_known_only(tmp_path):
    events, ctx = _custom(tmp_path, struct.pack("<III", 2, 0, 0))
    assert events == [] and ctx.warnings == [] and ctx.errors == []
    events, ctx = _custom(tmp_path, jw.build_custom_destinations([jw.Category("known")]))
    assert events == [] and ctx.warnings == [] and ctx.errors == []
    events, ctx = _custom(tmp_path, _custom_file() + b"\0" * 6)
    assert len(events) == 7 and ctx.errors == []
    assert ctx.warnings == [f"/{EXPLORER}.customDestinations-ms: 6 bytes after the last category"]


# ---------------------------------------------------------------------------- AppIDs


def test_app_id_algorithm():
    assert app_id("{F38BF404-1D43-42F2-9305-67DE0B28FC23}\\explorer.exe") == "1b4dd67f29cb1962"
    assert app_id("Microsoft.Windows.Explorer") == "f01b4d95cf55d32a"


def test_shipped_appid_list_matches_its_sources():
    """Every shipped entry's AppID is recomputed from the ID or path in its comment."""
    folders = {
        "{Windows}": "{F38BF404-1D43-42F2-9305-67DE0B28FC23}",
        "{System32}": "{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}",
        "{SysWOW64}": "{D65231B0-B2F1-4857-A4CE-A8E7C6EA7D27}",
        "{Program Files (x64)}": "{6D809377-6AF0-444B-8957-A3773F02200E}",
        "{Program Files (x86)}": "{7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E}",
    }
    text = (ROOT / "artifacts" / "lists" / "jumplist_appids.yaml").read_text(encoding="utf-8")
    checked = 0
    for line in text.splitlines():
        match = re.match(r"^([0-9a-f]{16}): (.+?)\s+# (.+)$", line)
        if not match:
            continue
        source = match.group(3)
        for short, guid in folders.items():
            source = source.replace(short, guid)
        assert app_id(source) == match.group(1), line
        checked += 1
    assert checked >= 40


def test_examiner_appid_list_overrides_and_bad_lists_warn(tmp_path):
    mine = tmp_path / "defs" / "lists"
    mine.mkdir(parents=True)
    (mine / "jumplist_appids.yaml").write_text(
        f"{EXCEL}: Excel (lab build)\n'1234': too short\n", encoding="utf-8")
    raw = jw.build_automatic_destinations(ENTRIES[:1], {})
    events, ctx = _auto(tmp_path, raw, ctx=_ctx(str(tmp_path / "defs")))
    assert events[0].data["app_name"] == "Excel (lab build)"
    assert any("entry '1234' is not '<16 hex digits>: name'" in m for m in ctx.warnings)


# ---------------------------------------------------------------------------- real samples


def test_sample_destlist_v1():
    path = samples("jumplist", "plaso", "1b4dd67f29cb1962.automaticDestinations-ms")
    ctx = _ctx()
    events = list(AutomaticDestinationsExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and ctx.errors == []
    dest = [e for e in events if e.timestamp_desc == "Last Accessed"]
    assert len(dest) == 7 and len(events) == 7 + 7 * 3
    first = dest[0]
    assert first.timestamp.iso() == "2015-08-29T15:32:44.0343008Z"
    data = first.data
    assert data["entry_number"] == 7 and data["path"] == "C:\\Users\\bperry\\Downloads"
    assert data["hostname"] == "student-pc1"
    assert data["pinned"] is False and data["access_count"] is None
    assert data["droid_file_id"] == "9b1ce584-4a4c-11e5-b5c9-080027ac3d7f"
    assert data["birth_droid_file_id"] == "9b1ce584-4a4c-11e5-b5c9-080027ac3d7f"
    assert data["droid_volume_id"] == "fb6af886-05d7-402d-9741-d1ee9e64c41f"
    assert data["mac_address"] == "08:00:27:ac:3d:7f"
    assert data["app_name"] == "Windows Explorer (Windows 7)"
    assert data["destlist_version"] == 1
    assert data["droid_file_time"] == "2015-08-24T10:40:58.5000324Z"
    assert data["lnk"]["local_path"] == "C:\\Users\\bperry\\Downloads"
    link = [e for e in events if e.timestamp_desc != "Last Accessed"
            and e.data["entry_number"] == 1]
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in link] == [
        ("Target Created", "2015-08-25T10:30:26.4794695Z"),
        ("Target Modified", "2015-08-25T10:30:31.7294695Z"),
        ("Target Accessed", "2015-08-25T10:30:31.7294695Z"),
    ]
    lnk = link[0].data
    assert lnk["volume_serial"] == "885029E6"
    assert lnk["file_attributes"] == 0x2020 and lnk["file_size"] == 3541
    assert lnk["local_path"] == \
        "C:\\Users\\bperry\\AppData\\Roaming\\Microsoft\\Windows\\Libraries\\Documents.library-ms"
    assert lnk["mac_address"] == "08:00:27:ac:3d:7f"


def test_sample_destlist_v3():
    path = samples("jumplist", "plaso", "9d1f905ce5044aee.automaticDestinations-ms")
    ctx = _ctx()
    events = list(AutomaticDestinationsExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and len(events) == 4
    first = events[0]
    assert first.timestamp_desc == "Last Accessed"
    assert first.timestamp.iso() == "2016-01-17T13:08:08.2475045Z"
    assert first.data["entry_number"] == 2
    assert first.data["path"] == "http://support.microsoft.com/kb/3124263"
    assert first.data["hostname"] is None and first.data["access_count"] == 1
    assert first.data["destlist_version"] == 3
    assert first.data["app_name"] == "Microsoft Edge (legacy)"
    for key in ("droid_volume_id", "droid_file_id", "birth_droid_volume_id",
                "birth_droid_file_id"):
        assert first.data[key] is None  # all-zero GUIDs
    untimed = [e for e in events if e.timestamp is None]
    assert [e.timestamp_desc for e in untimed] == ["Target Times Not Set"] * 2
    assert untimed[0].data["shell_item_path"] == (
        "<Internet Folder> http://go.microsoft.com/fwlink/?linkid=624682&clcid=0x409&campaign="
        "ct!!31DAEFFBA6804D2599B337798559C7F4")
    assert untimed[0].data["file_size"] == 0


def test_sample_custom_destinations():
    path = samples("jumplist", "plaso", "5afe4de1b92fc382.customDestinations-ms")
    ctx = _ctx()
    events = list(CustomDestinationsExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and ctx.errors == []
    assert len({e.data["entry_index"] for e in events}) == 9 and len(events) == 27
    display = [e for e in events if e.data["arguments"] and "Microsoft.Display" in
               e.data["arguments"]]
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in display] == [
        ("Target Created", "2009-07-13T23:55:56.2481035Z"),
        ("Target Modified", "2009-07-14T01:39:11.3880000Z"),
        ("Target Accessed", "2009-07-13T23:55:56.2481035Z"),
    ]
    data = display[0].data
    assert data["local_path"] == "C:\\Windows\\System32\\GettingStarted.exe"
    assert data["arguments"] == ("{DE3895CB-077B-4C38-B6E3-F3DE1E0D84FC} "
                                 "%systemroot%\\system32\\control.exe /name Microsoft.Display")
    assert data["description"] == "@%systemroot%\\system32\\oobefldr.dll,-1262"
    assert data["volume_serial"] == "885029E6" and data["file_size"] == 11776
    assert data["icon_location"] == "%systemroot%\\system32\\display.dll"
    assert data["environment_variables_location"] == "%SystemRoot%\\system32\\GettingStarted.exe"
    assert data["mac_address"] == "00:1d:09:fa:5a:1c"
    assert data["droid_file_id"] == "4f6fe1af-7034-11de-b675-001d09fa5a1c"
    assert data["droid_file_time"] == "2009-07-14T05:08:04.1036207Z"
    system32 = [i for i in data["shell_items"] if i.get("long_name") == "System32"]
    assert system32[0]["file_reference"] == "2305-1"
    assert data["category"] == "tasks" and data["category_type"] == 2


def test_sample_custom_destinations_complex():
    path = samples("jumplist", "plaso", "368d807282ccde9d.customDestinations-ms")
    ctx = _ctx()
    events = list(CustomDestinationsExtractor().extract(LocalFile(str(path)), ctx))
    assert ctx.warnings == [] and len(events) == 9
    assert [e.data["category"] for e in events[::3]] == ["My Category 1", "tasks",
                                                         "My Category 2"]
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events[:3]] == [
        ("Target Created", "2023-07-12T18:11:18.2749654Z"),
        ("Target Modified", "2023-07-14T04:04:00.3349887Z"),
        ("Target Accessed", "2024-01-16T06:12:41.2400523Z"),
    ]
    data = events[0].data
    assert data["local_path"] == "C:\\test" and data["arguments"] == "My Arguments"
    assert data["icon_location"] == "My Icon" and data["volume_serial"] == "2CA3D1AE"
    assert data["file_attributes"] == 0x10 and data["file_size"] == 4096
    assert data["shell_item_path"] == "<My Computer> C:\\test"
    assert data["file_reference"] == "407354-78"
    assert data["mac_address"] == "52:54:00:ee:b6:05"
    assert data["droid_file_id"] == "d78dbcb3-20de-11ee-a2f8-525400eeb605"


def test_sample_empty_custom_destinations():
    path = samples("jumplist", "plaso", "c98dce577f884ef8.customDestinations-ms")
    ctx = _ctx()
    assert list(CustomDestinationsExtractor().extract(LocalFile(str(path)), ctx)) == []
    assert ctx.warnings == [] and ctx.errors == []


# ---------------------------------------------------------------------------- bad input


def _auto_bad_cases() -> list[tuple[str, bytes, str]]:
    good = jw.build_automatic_destinations(ENTRIES, LINKS)
    return [
        ("empty", b"", "^empty file$"),
        ("text", b"not a jump list\n" * 40, "not an OLE compound file"),
        ("ole-truncated", good[:700], "unreadable OLE compound file"),
        ("no-destlist", jw.build_ole({"Other": b"x"}), "no DestList stream"),
        ("short-destlist", jw.build_ole({"DestList": b"\x04\0\0\0"}),
         "DestList stream of 4 bytes is shorter than its 32-byte header"),
        ("bad-version", jw.build_ole({"DestList": struct.pack("<8I", 77, 0, 0, 0, 0, 0, 0, 0)}),
         "unsupported DestList format version 77"),
    ]


@pytest.mark.parametrize("label, content, reason", _auto_bad_cases())
def test_automatic_bad_input(tmp_path, capfd, label, content, reason):
    with pytest.raises(ArtifactError, match=reason):
        _auto(tmp_path, content)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize("label, content, reason", [
    ("empty", b"", "^empty file$"),
    ("short", b"\x02\0\0\0", r"truncated custom destinations file \(4 bytes"),
    ("wrong-version", struct.pack("<III", 7, 1, 0) + b"x" * 50,
     "not a custom destinations file"),
])
def test_custom_bad_input(tmp_path, capfd, label, content, reason):
    with pytest.raises(ArtifactError, match=reason):
        _custom(tmp_path, content)
    assert capfd.readouterr().err == ""


def test_hostile_counts_are_bounded(tmp_path):
    events, ctx = _custom(tmp_path, struct.pack("<III", 2, 0xFFFFFFFF, 0))
    assert events == [] and "implausible number of categories" in ctx.errors[0]
    header = struct.pack("<IIIfIIII", 4, 0xFFFFFFFF, 0, 1.0, 1, 0, 1, 0)
    events, ctx = _auto(tmp_path, jw.build_ole({"DestList": header}))
    assert events == [] and "DestList header counts 4294967295 entries, 0 read" in ctx.warnings[0]


def test_damaged_files_are_contained(tmp_path, capfd):
    """Cut or flipped bytes give events, warnings or ArtifactError, and print nothing."""
    rng = random.Random(99)
    bases = [(AutomaticDestinationsExtractor(), jw.build_automatic_destinations(ENTRIES, LINKS)),
             (CustomDestinationsExtractor(), _custom_file())]
    target = tmp_path / "x"
    for extractor, raw in bases:
        cases = [raw[:n] for n in range(0, len(raw), max(1, len(raw) // 60))]
        for _ in range(80):
            damaged = bytearray(raw)
            for _ in range(rng.randint(1, 16)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            cases.append(bytes(damaged))
        for case in cases:
            target.write_bytes(case)
            try:
                list(extractor.extract(LocalFile(str(target)), _ctx()))
            except ArtifactError as exc:
                assert str(exc) and "\n" not in str(exc)
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""


# ---------------------------------------------------------------------------- end to end


def test_cli_run_finds_jump_lists(cli, tmp_path):
    recent = tmp_path / "evidence" / "Users" / "bob" / "AppData" / "Roaming" / "Microsoft" / \
        "Windows" / "Recent"
    (recent / "AutomaticDestinations").mkdir(parents=True)
    (recent / "CustomDestinations").mkdir(parents=True)
    (recent / "AutomaticDestinations" / f"{EXCEL}.automaticDestinations-ms").write_bytes(
        jw.build_automatic_destinations(ENTRIES[:2], LINKS))
    (recent / "CustomDestinations" / f"{EXPLORER}.customDestinations-ms").write_bytes(
        _custom_file())
    case = tmp_path / "case"
    result = cli("run", tmp_path / "evidence", "-o", case, "--json")
    assert result.exit_code == 0, result.output
    events = read_jsonl(case)
    auto = [e for e in events if e["extractor"] == "jumplist_auto"]
    custom = [e for e in events if e["extractor"] == "jumplist_custom"]
    assert len(auto) == 2 + 6 and len(custom) == 7
    assert {e["artifact"] for e in auto} == {"JumpListAutomaticDestinations"}
    assert {e["artifact"] for e in custom} == {"JumpListCustomDestinations"}
    assert {e["family"] for e in auto + custom} == {"recent_files"}
    assert {e["user"] for e in auto + custom} == {"bob"}
    last = [e for e in auto if e["timestamp_desc"] == "Last Accessed"]
    assert [(e["timestamp"], e["data"]["path"]) for e in last] == [
        ("2026-03-02T04:02:03.1234567Z", "C:\\Users\\alice\\Documents\\budget.xlsx"),
        ("2026-03-02T06:02:03.1234567Z", "E:\\CUSTOMERS\\顧客リスト.xlsx"),
    ]
    assert last[1]["data"]["lnk"]["volume_label"] == "KIOXIA"
    assert last[1]["data"]["app_name"] == "Microsoft Excel 2013 and later"
