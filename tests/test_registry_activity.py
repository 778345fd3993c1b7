"""User activity from NTUSER.DAT and SAM: UserAssist, RecentDocs, ComDlg32, RunMRU, TypedPaths,
WordWheelQuery, TypedURLs, Office MRU, network drives, RDP, SAM users; the shell item decoder.

Fixture hives: fixtures/artifacts/registry/activity (built by fixtures/build_registry_activity.py;
expectations from its facts.json). Real hives: ../shared/samples/registry (EXPECTED.md section 4).
"""
from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path

import pytest

from conftest import ROOT, read_jsonl, samples
from triage.extractors import ExtractionContext
from triage.files import LocalFile
from triage.model import FILETIME_EPOCH_DELTA, Timestamp
from triage.registry import HiveView, load_plugins
from triage.registry.hive import open_hive
from triage.registry.plugins.office_mru import parse_item as office_item
from triage.registry.plugins.sam_users import parse_f, parse_v
from triage.registry.plugins.userassist import decode_name, parse_record, resolve_known_folder
from triage.registry.mru import mru_list, mru_list_ex
from triage.shellitems import decode_pidl, fat_datetime, id_list_path, read_utf16z
from triage.shellitems import parse_registry_item as parse_item
from triage.shellitems import registry_items as parse_id_list

FIX = ROOT / "fixtures" / "artifacts" / "registry" / "activity"
FACTS = json.loads((FIX / "facts.json").read_text(encoding="utf-8"))
NT = FACTS["ntuser"]

ACTIVITY_PLUGINS = ("userassist", "recent_docs", "comdlg32", "run_mru", "typed_paths",
                    "word_wheel_query", "typed_urls", "office_mru", "network_drives",
                    "rdp_servers", "sam_users")


def run(plugin: str, path: Path, kind: str = "NTUSER"):
    """(events, ctx) of one plugin on one hive file."""
    opened = open_hive(LocalFile(str(path), path="/" + path.name))
    view = HiveView(registry=opened.registry, hive_type=kind, path=str(path))
    ctx = ExtractionContext()
    events = list(load_plugins()[plugin]().process(view, ctx))
    return events, ctx


def iso(event) -> str | None:
    return event.timestamp.iso() if event.timestamp else None


def by_key_suffix(events, suffix: str):
    return [e for e in events if e.data["key"].endswith(suffix)]


@pytest.fixture(scope="module")
def fixture_events():
    out = {}
    for plugin in ACTIVITY_PLUGINS:
        sam = plugin == "sam_users"
        path, kind = (FIX / "SAM", "SAM") if sam else (FIX / "NTUSER.DAT", "NTUSER")
        events, ctx = run(plugin, path, kind)
        assert ctx.warnings == [] and ctx.errors == [], plugin
        out[plugin] = events
    return out


def test_plugins_are_registered_for_their_hives():
    plugins = load_plugins()
    for name in ACTIVITY_PLUGINS:
        assert plugins[name].hives == (("SAM",) if name == "sam_users" else ("NTUSER",))
        assert plugins[name].__module__.startswith("triage.registry.plugins.")


# ---------------------------------------------------------------------------------------------
# Fixture hives: exact values


def test_userassist_fixture(fixture_events):
    events = fixture_events["userassist"]
    assert len(events) == len(NT["userassist"])  # UEME_CTLSESSION is not an entry
    for expected, event in zip(NT["userassist"], events):
        assert event.timestamp_desc == "Last Run"
        assert iso(event) == expected["last_run"]
        for field in ("guid", "program", "program_path", "known_folder", "run_count",
                      "focus_count", "focus_time_ms"):
            assert event.data[field] == expected[field], field
        # ROT13 is its own inverse
        assert event.data["value_name"] == decode_name(expected["program"])
        assert event.data["key"].endswith(f"UserAssist\\{expected['guid']}\\Count")
    excel = events[0]
    assert excel.timestamp == Timestamp.parse("2026-03-02T00:15:42.5551234Z")
    assert excel.data["program_path"] == \
        "%PROGRAMFILES%\\Microsoft Office\\root\\Office16\\EXCEL.EXE"
    assert excel.data["guid_meaning"] == "executable file execution"
    japanese = next(e for e in events if "月次報告" in e.data["program"])
    # only ASCII letters rotate
    assert japanese.data["value_name"].endswith("\\経理\\月次報告.yax")
    untimed = next(e for e in events if e.data["program"] == "Microsoft.Windows.ControlPanel")
    assert untimed.timestamp is None and "no last-run time" in untimed.message


def test_recent_docs_fixture(fixture_events):
    events = fixture_events["recent_docs"]
    assert len(events) == sum(len(k["items"]) for k in NT["recent_docs"].values())
    for sub, expected in NT["recent_docs"].items():
        suffix = "RecentDocs" if sub == "null" else f"RecentDocs\\{sub}"
        got = by_key_suffix(events, suffix)
        assert [e.data["mru_position"] for e in got] == list(range(len(expected["items"])))
        for position, (item, event) in enumerate(zip(expected["items"], got)):
            assert (event.data["value"], event.data["name"], event.data["lnk_name"]) == \
                (item["value"], item["name"], item["lnk_name"])
            assert event.data["extension"] == (None if sub == "null" else sub)
            if position == 0:
                assert (iso(event), event.timestamp_desc) == (expected["key_written"],
                                                              "Key Last Written")
            else:
                assert (event.timestamp, event.timestamp_desc) == (None, "MRU Entry")
    first = by_key_suffix(events, "RecentDocs")[0]
    assert first.data["name"] == "q1_summary.docx"
    assert iso(first) == "2026-03-02T00:40:20.1234567Z"


def test_comdlg32_fixture(fixture_events):
    events = fixture_events["comdlg32"]
    for ext, expected in NT["open_save"].items():
        got = by_key_suffix(events, f"OpenSavePidlMRU\\{ext}")
        assert [(e.data["value"], e.data["path"]) for e in got] == \
            [(i["value"], i["path"]) for i in expected["items"]]
        assert iso(got[0]) == expected["key_written"]
        assert all(e.timestamp is None for e in got[1:])
        assert {e.data["extension"] for e in got} == {ext}
    xlsx = by_key_suffix(events, "OpenSavePidlMRU\\xlsx")
    assert xlsx[0].data["path"] == "E:\\CUSTOMERS\\顧客リスト.xlsx"  # the removable drive
    budget = xlsx[1].data
    assert budget["target_mft_entry"] == 91004 and budget["target_mft_sequence"] == 3
    assert budget["target_modified"].iso() == "2026-02-20T08:30:00Z"
    assert budget["target_created"].iso() == "2026-02-20T08:00:00Z"
    last = budget["shell_items"][-1]
    assert (last["short_name"], last["long_name"], last["file_size"]) == \
        ("2026~1.XLS", "予算2026.xlsx", 24576)
    assert [i["kind"] for i in budget["shell_items"]] == \
        ["root_folder", "volume", "file_entry", "file_entry", "file_entry", "file_entry"]

    visited = by_key_suffix(events, "LastVisitedPidlMRU")
    assert [(e.data["program"], e.data["path"]) for e in visited] == \
        [(i["program"], i["path"]) for i in NT["last_visited"]["items"]]
    assert iso(visited[0]) == NT["last_visited"]["key_written"]
    assert visited[0].data["path"] == "\\\\fileserver\\share\\reports"
    sizes = by_key_suffix(events, "CIDSizeMRU")
    assert [e.data["program"] for e in sizes] == [i["program"] for i in NT["cid_size"]["items"]]
    assert iso(sizes[0]) == NT["cid_size"]["key_written"]


def test_run_mru_typed_paths_word_wheel_fixture(fixture_events):
    runs = fixture_events["run_mru"]
    assert [(e.data["value"], e.data["command"]) for e in runs] == \
        [(i["value"], i["command"]) for i in NT["run_mru"]["items"]]
    assert iso(runs[0]) == NT["run_mru"]["key_written"]
    assert runs[0].data["command"] == "mstsc /v:10.0.0.5"
    assert [e.timestamp for e in runs[1:]] == [None, None]

    paths = fixture_events["typed_paths"]
    assert [e.data["path"] for e in paths] == NT["typed_paths"]["paths"]
    assert [e.data["value"] for e in paths] == ["url1", "url2", "url3"]
    assert iso(paths[0]) == NT["typed_paths"]["key_written"] and paths[1].timestamp is None

    terms = fixture_events["word_wheel_query"]
    assert [(e.data["value"], e.data["term"]) for e in terms] == \
        [(i["value"], i["term"]) for i in NT["word_wheel_query"]["items"]]
    assert iso(terms[0]) == "2026-03-02T00:20:41.4444444Z"
    assert terms[1].data["term"] == "顧客" and terms[1].timestamp is None


def test_typed_urls_fixture(fixture_events):
    events = fixture_events["typed_urls"]
    assert [e.data["url"] for e in events] == [i["url"] for i in NT["typed_urls"]["items"]]
    for expected, event in zip(NT["typed_urls"]["items"], events):
        if expected["typed"]:
            assert (event.timestamp_desc, iso(event)) == ("Typed", expected["typed"])
            assert event.data["typed_time_source"] == "TypedURLsTime"
        else:  # no TypedURLsTime value and not url1: no time at all
            assert (event.timestamp_desc, event.timestamp) == ("MRU Entry", None)
    assert iso(events[0]) == "2026-03-02T00:44:59.9999999Z"


def test_office_mru_fixture(fixture_events):
    events = fixture_events["office_mru"]
    expected = [(block["application"], block["list"], item)
                for block in NT["office"] for item in block["items"]]
    assert len(events) == len(expected)
    for (app, list_name, item), event in zip(expected, events):
        assert event.timestamp_desc == "Last Opened"
        assert iso(event) == item["last_opened"]
        assert (event.data["application"], event.data["list"], event.data["path"],
                event.data["raw"], event.data["office_version"], event.data["identity"]) == \
            (app, list_name, item["path"], item["raw"], "16.0", NT["office"][0]["identity"])
        assert event.data["mru_position"] == item["item"] - 1
    assert events[0].data["path"] == "E:\\CUSTOMERS\\顧客リスト.xlsx"
    assert iso(events[0]) == "2026-03-02T00:14:10.8000000Z"


def test_network_drives_and_rdp_fixture(fixture_events):
    drives = fixture_events["network_drives"]
    mapped = drives[0]
    fact = NT["network_drive"]
    assert (mapped.timestamp_desc, iso(mapped)) == ("Key Last Written", fact["key_written"])
    assert (mapped.data["drive_letter"], mapped.data["remote_path"], mapped.data["user_name"],
            mapped.data["provider_name"]) == ("Z", "\\\\fileserver\\share", "CORP\\alice.adm",
                                              "Microsoft Windows Network")
    mru = drives[1:]
    assert [e.data["remote_path"] for e in mru] == NT["map_network_drive_mru"]["paths"]
    assert iso(mru[0]) == NT["map_network_drive_mru"]["key_written"] and mru[1].timestamp is None

    rdp = fixture_events["rdp_servers"]
    servers = [e for e in rdp if e.timestamp_desc == "Last Connected (key written)"]
    assert [(e.data["server"], iso(e), e.data["username_hint"]) for e in servers] == \
        [(s["server"], s["key_written"], s["username_hint"]) for s in NT["rdp_servers"]]
    assert servers[0].data["cert_hash"] == bytes(range(20)).hex()
    history = [e for e in rdp if e.data["key"].endswith("Terminal Server Client\\Default")]
    assert [e.data["server"] for e in history] == NT["rdp_default"]["servers"]
    assert iso(history[0]) == NT["rdp_default"]["key_written"] and history[1].timestamp is None


def test_sam_users_fixture(fixture_events):
    events = fixture_events["sam_users"]
    descs = {"last_login": "Last Login", "password_last_set": "Password Last Set",
             "last_failed_login": "Last Failed Login", "account_expires": "Account Expires",
             "account_created": "Account Created"}
    for user in FACTS["sam"]:
        mine = [e for e in events if e.user == user["username"]]
        expected = {desc: user[field] for field, desc in descs.items() if user[field]}
        assert {e.timestamp_desc: iso(e) for e in mine} == expected
        data = mine[0].data
        for field in ("rid", "full_name", "comment", "flags", "login_count",
                      "failed_login_count", "password_hint"):
            assert data[field] == user[field], field
        assert data["user_key_last_written"].iso() == user["user_key_written"]
    alice = [e for e in events if e.user == "alice"]
    assert alice[0].timestamp_desc == "Last Login"
    assert iso(alice[0]) == "2026-03-02T00:10:31.7777777Z"
    assert alice[0].data["full_name"] == "田中 アリス"
    created = next(e for e in alice if e.timestamp_desc == "Account Created")
    assert "commonly taken as the creation time" in created.message
    bob = [e for e in events if e.user == "bob"]
    assert bob[0].data["disabled"] is True and "account disabled" in bob[0].data["flags_text"]
    assert "Last Login" not in {e.timestamp_desc for e in bob}  # never logged on


# ---------------------------------------------------------------------------------------------
# Bad input


def test_bad_ntuser_values_are_skipped_with_warnings():
    bad = FIX / "bad" / "NTUSER.DAT"
    events, ctx = run("userassist", bad)
    assert [e.data["program"] for e in events] == ["C:\\good.exe"]
    assert len(ctx.warnings) == 2
    assert all("UserAssist" in w and "\\Count" in w for w in ctx.warnings)

    events, ctx = run("recent_docs", bad)
    assert [(e.data["name"], e.data["mru_position"]) for e in events] == \
        [("truncated.txt", 0), ("orphan.txt", None), ("no-mru-list.txt", None)]
    assert events[0].data["lnk_name"] is None
    assert any("absent value(s) 5" in w for w in ctx.warnings)
    assert any("value 1 empty" in w for w in ctx.warnings)
    assert any("RecentDocs\\.txt: no MRUListEx" in w for w in ctx.warnings)

    events, ctx = run("comdlg32", bad)
    assert [e.data["path"] for e in events[:2]] == ["<truncated item>", "<shell item 0x99>"]
    events, ctx = run("run_mru", bad)
    assert [e.data["command"] for e in events] == ["ok"]
    assert "'a' is not a string" in ctx.warnings[0]
    events, ctx = run("typed_urls", bad)
    assert [e.data["url"] for e in events] == ["http://a/"]
    assert events[0].timestamp_desc == "Key Last Written"  # 4-byte TypedURLsTime is not a time
    assert len(ctx.warnings) == 2
    events, ctx = run("word_wheel_query", bad)
    assert events[0].data["term"] == "t" and "malformed" in ctx.warnings[0]
    events, ctx = run("office_mru", bad)
    assert [(e.data["path"], e.timestamp_desc) for e in events] == \
        [("C:\\bad.docx", "Key Last Written"), ("C:\\plain path.docx", "MRU Entry")]
    events, ctx = run("network_drives", bad)
    assert events[0].data["drive_letter"] == "Y" and "no RemotePath string" in ctx.warnings[0]
    events, ctx = run("rdp_servers", bad)
    assert events[0].data["username_hint"] is None and len(ctx.warnings) == 1


def test_bad_sam_users_degrade_per_account():
    events, ctx = run("sam_users", FIX / "bad" / "SAM", "SAM")
    assert [e.timestamp_desc for e in events if e.user == "alice"] == \
        ["Last Login", "Password Last Set", "Last Failed Login", "Account Created"]
    rids = {e.data["rid"]: e for e in events if e.user != "alice"}
    assert set(rids) == {1002, 1003, 1004}
    assert rids[1002].timestamp_desc == "Key Last Written"  # F too short: no times
    assert rids[1003].data["username"] is None and rids[1003].timestamp_desc == "Last Login"
    assert rids[1004].user == "nof"  # no F value, V still read
    assert len(ctx.warnings) == 4


def test_parsers_on_garbage():
    assert parse_record(b"\0" * 20) is None
    when = Timestamp.parse("2009-08-04T15:11:22.8110676Z")
    xp = struct.pack("<IIQ", 1, 19, when.ns // 100 + FILETIME_EPOCH_DELTA)
    assert parse_record(xp)["run_count"] == 14
    assert parse_record(xp)["last_run"].iso() == "2009-08-04T15:11:22.8110676Z"
    assert parse_record(struct.pack("<IIQ", 1, 3, 0))["run_count"] == 3
    assert resolve_known_folder("{00000000-0000-0000-0000-000000000000}\\x.exe") == \
        (None, "{00000000-0000-0000-0000-000000000000}\\x.exe")
    assert office_item("C:\\plain.docx") == ({}, "C:\\plain.docx")
    with pytest.raises(ValueError):
        parse_f(b"\0" * 10)
    fields, problems = parse_v(b"")
    assert set(fields.values()) == {None} and "shorter than its 0xCC-byte table" in problems[0]
    assert mru_list_ex(struct.pack("<IIII", 1, 0, 0xFFFFFFFF, 7)) == [1, 0]
    assert mru_list_ex(b"\x01\x00") == [] and mru_list("cab\x00") == ["c", "a", "b"]
    assert mru_list(5) == []
    assert read_utf16z("ab".encode("utf-16-le")) == ("ab", 4)
    assert fat_datetime(0, 0) is None and fat_datetime(0xFFFF, 0xFFFF) is None
    for blob in (b"", b"\x01", b"\x03\x00\x1f", b"\xff\xff\x00", b"\x14\x00\x1f" + b"\0" * 5,
                 bytes(range(256))):
        items = parse_id_list(blob)
        assert isinstance(id_list_path(items), str)
        decode_pidl(blob)
    assert parse_item(b"\x05\x00\x99\x00\x00").kind == "unknown"


def test_shell_item_types():
    network = b"\xc3\x01\x80\\\\srv\\share\x00Microsoft Network\x00\x00\x00"
    items = parse_id_list(struct.pack("<H", len(network) + 2) + network + b"\0\0")
    assert (items[0].kind, items[0].name) == ("network", "\\\\srv\\share")
    category = struct.pack("<HBB", 12, 0x01, 0) + b"\x84\x21\xde\x39" + struct.pack("<I", 5)
    assert parse_item(category).name == "System and Security"
    zeros_root = struct.pack("<HBB", 20, 0x1F, 0x50) + b"\0" * 16
    assert parse_item(zeros_root).name == "My Computer"
    unknown_root = struct.pack("<HBB", 20, 0x1F, 0x50) + bytes(range(16))
    assert parse_item(unknown_root).name.startswith("{03020100-")  # never named by sort index


class _Value:
    def __init__(self, name, data):
        self._name, self._data = name, data

    def name(self):
        return self._name

    def value(self):
        return self._data

    def raw_data(self):
        return self._data if isinstance(self._data, bytes) else str(self._data).encode("utf-16-le")


class _Key:
    """The few python-registry Key methods the plugins use, for layouts no hive here holds."""

    def __init__(self, path, values):
        self._path, self._values = path, [_Value(n, d) for n, d in values.items()]

    def path(self):
        return self._path

    def name(self):
        return self._path.rsplit("\\", 1)[-1]

    def values(self):
        return self._values

    def value(self, name):
        for value in self._values:
            if value.name().lower() == name.lower():
                return value
        raise KeyError(name)


def test_xp_comdlg32_string_lists():
    from triage.registry.plugins.comdlg32 import ComDlg32

    ctx = ExtractionContext()
    open_save = _Key("ROOT\\ComDlg32\\OpenSaveMRU\\txt",
                     {"a": "C:\\notes.txt", "b": "D:\\x.txt", "MRUList": "ba"})
    events = list(ComDlg32()._mru_letters(open_save, "OpenSaveMRU", ctx, extension="txt"))
    assert [(e.data["path"], e.data["mru_position"]) for e in events] == \
        [("D:\\x.txt", 0), ("C:\\notes.txt", 1)]
    assert events[0].timestamp_desc == "Key Last Written" and events[1].timestamp is None
    visited = _Key("ROOT\\ComDlg32\\LastVisitedMRU",
                   {"a": "notepad.exe\0C:\\Temp\0".encode("utf-16-le"), "MRUList": "a"})
    events = list(ComDlg32()._mru_letters(visited, "LastVisitedMRU", ctx))
    assert (events[0].data["program"], events[0].data["path"]) == ("notepad.exe", "C:\\Temp")
    assert ctx.warnings == []


# ---------------------------------------------------------------------------------------------
# Real hives (EXPECTED.md section 4)


def test_winxp_userassist():
    events, ctx = run("userassist", samples("registry", "winxp", "NTUSER.DAT"))
    xp = [e for e in events if e.data["guid"] == "{75048700-EF1F-11D0-9888-006097DEACF9}"]
    assert len(xp) == 14
    assert xp[0].data["program"] == "UEME_RUNPIDL:%csidl2%\\MSN.lnk"
    assert (xp[0].data["run_count"], iso(xp[0])) == (14, "2009-08-04T15:11:22.8110676Z")
    assert xp[0].data["record_format"] == "xp" and ctx.warnings == []


def test_win7_vibranium_userassist_typed_urls_word_wheel():
    hive = samples("registry", "win7", "NTUSER-vibranium.DAT")
    events, _ = run("userassist", hive)
    # regipy's validation counts 62 because its GUID list names both Windows 7 GUIDs twice;
    # the hive holds 31 entries (18 + 13, UEME_CTLSESSION excluded).
    assert len(events) == 31
    excel = next(e for e in events if e.data["program"].endswith("EXCEL.EXE"))
    assert excel.data["program_path"] == \
        "%PROGRAMFILES(X86)%\\Microsoft Office\\Office14\\EXCEL.EXE"
    assert excel.data["known_folder"] == "ProgramFilesX86"
    assert (excel.data["run_count"], excel.data["focus_count"], excel.data["focus_time_ms"]) == \
        (4, 1, 47673)
    assert iso(excel) == "2012-04-04T15:43:14.7850000Z"
    rdp = next(e for e in events if e.data["program"] == "Microsoft.Windows.RemoteDesktop")
    assert (rdp.data["run_count"], rdp.data["focus_count"], rdp.data["focus_time_ms"]) == \
        (8, 9, 180000)
    assert iso(rdp) == "2012-04-03T22:06:58.1242823Z"

    urls, _ = run("typed_urls", hive)
    assert [e.data["url"] for e in urls] == ["http://199.73.28.114:53/",
                                             "http://go.microsoft.com/fwlink/?LinkId=69157"]
    assert iso(urls[0]) == "2012-04-03T22:37:55.4115006Z" and urls[1].timestamp is None

    terms, _ = run("word_wheel_query", hive)
    assert len(terms) == 6
    assert (terms[0].data["term"], terms[0].data["value"], terms[0].data["mru_position"]) == \
        ("alloy", "1", 0)
    assert iso(terms[0]) == "2012-04-04T15:45:18.5513397Z"
    assert [e.data["term"] for e in terms[1:]] == ["test-plan", "vibranium", "accounts",
                                                    "myron maclain", "adamantium"]


def test_win8_userassist_and_typed_urls_time():
    hive = samples("registry", "win8", "NTUSER.DAT")
    events, _ = run("userassist", hive)
    exe = [e for e in events if e.data["guid"] == "{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}"]
    assert len(exe) == 9
    ie = exe[2]
    assert ie.data["program"] == "Microsoft.InternetExplorer.Default"
    assert (ie.data["run_count"], ie.data["focus_count"], ie.data["focus_time_ms"]) == \
        (2, 8, 842124)
    assert iso(ie) == "2016-10-09T19:58:01.7670000Z"
    urls, _ = run("typed_urls", hive)
    assert (urls[0].data["url"], urls[0].timestamp_desc, iso(urls[0])) == \
        ("http://www.catnews.com/", "Typed", "2016-10-05T09:47:50.9674171Z")
    assert (urls[4].timestamp_desc, urls[4].timestamp) == ("MRU Entry", None)  # zero FILETIME


def test_win8_sam_users():
    events, ctx = run("sam_users", samples("registry", "win8", "SAM"), "SAM")
    assert sorted({e.data["rid"] for e in events}) == [500, 501, 1001] and ctx.warnings == []
    admin = [e for e in events if e.user == "Administrator"]
    assert {e.timestamp_desc: iso(e) for e in admin} == {
        "Last Login": "2014-03-18T10:20:47.3414256Z",
        "Password Last Set": "2014-03-18T10:20:51.0757954Z",
        "Account Created": "2015-11-23T02:26:36.0266868Z"}  # plaso's "key written"
    data = admin[0].data
    assert (data["rid"], data["login_count"]) == (500, 3)
    assert data["comment"] == "Built-in account for administering the computer/domain"


def test_win7_nfury_activity():
    hive = samples("registry", "win7", "NTUSER-WIN7.DAT")
    office, _ = run("office_mru", hive)
    assert len(office) == 7 and {e.data["application"] for e in office} == {"Word"}
    assert office[0].data["path"] == ("C:\\Users\\nfury\\Documents\\StarFury\\StarFury\\"
                                      "SA-23E Mitchell-Hyundyne Starfury.docx")
    assert (office[0].timestamp_desc, iso(office[0])) == ("Last Opened",
                                                          "2012-03-13T18:27:15.0830000Z")
    places = [e for e in office if e.data["list"] == "Place MRU"]
    assert [e.data["path"] for e in places] == ["C:\\Users\\nfury\\Documents\\StarFury\\StarFury\\",
                                                "C:\\Users\\nfury\\Documents\\"]
    urls, _ = run("typed_urls", hive)
    assert len(urls) == 13 and urls[0].data["url"] == "http://cnn.com/"
    assert iso(urls[0]) == "2012-03-12T21:23:53.3077499Z"
    assert urls[12].data["url"] == "http://go.microsoft.com/fwlink/?LinkId=69157"
    terms, _ = run("word_wheel_query", hive)
    assert [(e.data["term"], iso(e)) for e in terms] == \
        [("rar.exe", "2012-04-06T18:44:16.0756740Z"), ("hyth", None)]
    recent, _ = run("recent_docs", hive)
    root = by_key_suffix(recent, "RecentDocs")
    assert len(root) == 19
    assert (root[0].data["name"], root[0].data["lnk_name"], iso(root[0])) == \
        ("The SHIELD", "The SHIELD.lnk", "2012-04-01T13:52:39.1137417Z")
    dialogs, _ = run("comdlg32", hive)
    star = by_key_suffix(dialogs, "OpenSavePidlMRU\\*")
    assert len(star) == 17
    assert star[0].data["path"] == ("C:\\Users\\nfury\\Pictures\\The SHIELD\\"
                                    "captain_america_shield_by_almogrem-d48x9x8.jpg")
    assert iso(star[0]) == "2012-04-01T13:52:38.9701962Z"
    assert "\\\\controller\\WebDavShare\\Firefox Setup 3.6.12.exe" in [e.data["path"] for e in star]
    visited = by_key_suffix(dialogs, "LastVisitedPidlMRU")
    assert (visited[0].data["program"], visited[0].data["path"]) == \
        ("chrome.exe", "C:\\Users\\nfury\\Pictures\\The SHIELD")
    runs, _ = run("run_mru", hive)
    assert [(e.data["command"], iso(e)) for e in runs] == \
        [("\\\\controller\\WebDavShare", "2010-11-10T07:59:46.4991250Z")]
    drives, _ = run("network_drives", hive)
    assert [(e.data["drive_letter"], e.data["remote_path"], iso(e)) for e in drives] == \
        [("P", "\\\\controller\\public", "2011-08-22T14:51:04.6824345Z")]


# ---------------------------------------------------------------------------------------------
# End to end


def test_cli_run_on_a_system_drive_folder(cli, tmp_path):
    drive = tmp_path / "evidence"
    (drive / "Users" / "alice").mkdir(parents=True)
    (drive / "Users" / "bob").mkdir(parents=True)
    (drive / "Windows" / "System32" / "config").mkdir(parents=True)
    shutil.copy(FIX / "NTUSER.DAT", drive / "Users" / "alice" / "NTUSER.DAT")
    shutil.copy(FIX / "bad" / "NTUSER.DAT", drive / "Users" / "bob" / "NTUSER.DAT")
    shutil.copy(FIX / "SAM", drive / "Windows" / "System32" / "config" / "SAM")
    case = tmp_path / "case"
    result = cli("run", drive, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{"):])
    assert summary["errors"] == 0 and summary["warnings"] > 0  # bob's hive is damaged
    rows = read_jsonl(case)
    mine = [r for r in rows if r["data"].get("plugin") in ACTIVITY_PLUGINS]
    alice = [r for r in mine if r["source"]["path"] == "/Users/alice/NTUSER.DAT"]
    assert {r["user"] for r in alice} == {"alice"}
    assert {r["data"]["plugin"] for r in alice} == set(ACTIVITY_PLUGINS) - {"sam_users"}
    excel = next(r for r in alice if r["data"]["plugin"] == "userassist"
                 and r["data"]["program"].endswith("EXCEL.EXE"))
    assert (excel["timestamp"], excel["timestamp_desc"], excel["data"]["run_count"]) == \
        ("2026-03-02T00:15:42.5551234Z", "Last Run", 7)
    assert excel["artifact"] == "RegistryNTUSER" and excel["data"]["hive"] == "NTUSER"
    opened = next(r for r in alice if r["data"]["plugin"] == "comdlg32"
                  and r["data"]["key"].endswith("OpenSavePidlMRU\\xlsx")
                  and r["data"]["mru_position"] == 1)
    assert opened["timestamp"] is None
    assert opened["data"]["target_modified"] == "2026-02-20T08:30:00Z"
    sam = [r for r in mine if r["data"]["plugin"] == "sam_users"]
    assert {(r["user"], r["timestamp_desc"], r["timestamp"]) for r in sam} >= {
        ("alice", "Last Login", "2026-03-02T00:10:31.7777777Z"),
        ("bob", "Account Expires", "2026-06-30T15:00:00.0000000Z")}
    assert {r["artifact"] for r in sam} == {"RegistrySAM"}
    bob = [r for r in mine if r["source"]["path"] == "/Users/bob/NTUSER.DAT"]
    assert {r["user"] for r in bob} == {"bob"}
    assert any(r["data"].get("program") == "C:\\good.exe" for r in bob)
