"""OneDrive ODL logs and account settings (.ini), built from scratch with
fixtures/builders/onedrive_writer.py: exact values, de-obfuscation with the map and with the
keystore key, every bound on bad input (truncated header, absurd lengths, gzip bomb, not ODL),
and a run through the CLI on a system-drive-like folder."""
from __future__ import annotations

import gzip
import io
import json
import random
import sqlite3
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, tree_digest  # noqa: E402
from fixtures.builders.onedrive_writer import (OdlEntry, added_scope_line,  # noqa: E402
                                               build_ini, build_keystore, build_obfuscation_map,
                                               build_odl, business_scope_line, encrypt_word,
                                               js_ms_from_iso, library_folder_line,
                                               odl_header, odl_record, pascal,
                                               personal_library_line)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import onedrive_logs  # noqa: E402
from triage.extractors.onedrive_logs import (FILE_ACTION_RE, OneDriveOdl,  # noqa: E402
                                             RecordArea, param_strings, parse_obfuscation_map)
from triage.extractors.onedrive_settings import OneDriveSettings, split_fields  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

LOGS = "Users/alice/AppData/Local/Microsoft/OneDrive/logs"
SETTINGS = "Users/alice/AppData/Local/Microsoft/OneDrive/settings"
ms = js_ms_from_iso
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
BUSINESS_ID = "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9"
SITE, WEB, LIB = ("5b4e1c0a2f3d4e5f60718293a4b5c6d7", "6c5f2d1b3a4e5f60718293a4b5c6d7e8",
                  "7d6a3e2c4b5f60718293a4b5c6d7e8f9")


def entries() -> list[OdlEntry]:
    return [
        OdlEntry(ms("2025-04-01T00:20:00.123Z"), "UploadFile.cpp", "CUploadFile::UploadFile",
                 ["C:\\Users\\alice\\OneDrive - Contoso\\abcdef.xlsx", "size=40960"], flags=3),
        OdlEntry(ms("2025-04-01T00:21:00.500Z"), "SyncEngine.cpp", "RefreshStatus", ["idle"]),
        OdlEntry(ms("2025-04-01T00:22:30.000Z"), "Hydration.cpp", "HydrationManager::Hydrate",
                 ["ghijkl.pdf"]),
        OdlEntry(ms("2025-04-01T00:23:00.001Z"), "FileOps.cpp", "RemoveWatcher", ["zzzz"]),
    ]


def place(root: Path, folder: str, name: str) -> Path:
    target = root.joinpath(*folder.split("/"))
    target.mkdir(parents=True, exist_ok=True)
    return target / name


def run(extractor, path: Path, vpath: str, **options):
    ctx = ExtractionContext(options=options)
    return list(extractor.extract(LocalFile(str(path), path=vpath), ctx)), ctx


def odl(tmp_path: Path, name: str = "SyncEngine-2025-04-01.0020.1234.1.odl",
        folder: str = "Business1", **kwargs) -> tuple[Path, str]:
    path = build_odl(place(tmp_path, f"{LOGS}/{folder}", name), kwargs.pop("items", entries()),
                     **kwargs)
    return path, f"/{LOGS}/{folder}/{name}"


# ---------------------------------------------------------------- records


def test_odl_v3_file_actions_exact(tmp_path):
    path, vpath = odl(tmp_path)
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert (ctx.warnings, ctx.errors, ctx.notes) == ([], [], [])
    assert [(e.timestamp.iso(), e.timestamp_desc, e.message) for e in events] == [
        ("2025-04-01T00:20:00.123Z", "Logged",
         "OneDrive log (Business1): UploadFile.cpp CUploadFile::UploadFile: "
         "C:\\Users\\alice\\OneDrive - Contoso\\abcdef.xlsx; size=40960"),
        ("2025-04-01T00:22:30.000Z", "Logged",
         "OneDrive log (Business1): Hydration.cpp HydrationManager::Hydrate: ghijkl.pdf"),
    ]
    assert events[0].data == {
        "client": "OneDrive", "log_folder": "Business1",
        "log_file": "SyncEngine-2025-04-01.0020.1234.1.odl", "odl_version": 3,
        "onedrive_version": "24.201.1006.0005", "os_version": "10.0.22631",
        "record_index": 1, "record_offset": 256, "offset_in": "file",
        "code_file": "UploadFile.cpp", "function": "CUploadFile::UploadFile", "flags": 3,
        "file_action": True,
        "strings": ["C:\\Users\\alice\\OneDrive - Contoso\\abcdef.xlsx", "size=40960"],
        "obfuscated": True, "deobfuscated_with": [], "params_size": 71,
    }
    # record 2 (32 + 24 + names + params) starts where record 1 ends
    first = len(odl_record(entries()[0]))
    assert events[1].data["record_index"] == 3
    assert events[1].data["record_offset"] == 256 + first + len(odl_record(entries()[1]))


def test_odl_all_option_and_file_action_names(tmp_path):
    path, vpath = odl(tmp_path)
    events, _ = run(OneDriveOdl(), path, vpath, onedrive_odl_all=True)
    assert [(e.data["function"], e.data["file_action"]) for e in events] == [
        ("CUploadFile::UploadFile", True), ("RefreshStatus", False),
        ("HydrationManager::Hydrate", True), ("RemoveWatcher", False)]
    assert events[3].timestamp.iso() == "2025-04-01T00:23:00.001Z"
    matches = {name: bool(FILE_ACTION_RE.search(name)) for name in (
        "MoveFile", "RemoveItem", "Dehydrate", "DeleteItem", "RenameFolder", "on_delete",
        "Scope::download", "StartDownloadRequest", "Unmoved", "GetStatus")}
    assert matches == {"MoveFile": True, "RemoveItem": False, "Dehydrate": True,
                       "DeleteItem": True, "RenameFolder": True, "on_delete": True,
                       "Scope::download": True, "StartDownloadRequest": True,
                       "Unmoved": False, "GetStatus": False}


def test_odl_v2_compressed_and_v1(tmp_path):
    path, vpath = odl(tmp_path, name="SyncEngine.odlgz", version=2, compressed=True,
                      onedrive_version="22.077.0410.0005", os_version="10.0.19044")
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert (ctx.warnings, ctx.errors) == ([], [])
    assert [(e.timestamp.iso(), e.data["function"], e.data["record_offset"],
             e.data["offset_in"]) for e in events] == [
        ("2025-04-01T00:20:00.123Z", "CUploadFile::UploadFile", 0, "inflated data"),
        ("2025-04-01T00:22:30.000Z", "HydrationManager::Hydrate",
         len(odl_record(entries()[0], 2)) + len(odl_record(entries()[1], 2)), "inflated data")]
    assert (events[0].data["odl_version"], events[0].data["onedrive_version"],
            events[0].data["os_version"]) == (2, "22.077.0410.0005", "10.0.19044")
    old, old_vpath = odl(tmp_path, name="old.odl", folder="Personal", version=1,
                         onedrive_version="17.3.6816.0313")
    events, ctx = run(OneDriveOdl(), old, old_vpath)
    assert [e.data["strings"] for e in events] == [
        ["C:\\Users\\alice\\OneDrive - Contoso\\abcdef.xlsx", "size=40960"], ["ghijkl.pdf"]]
    assert (events[0].data["log_folder"], events[0].data["onedrive_version"],
            events[0].data["os_version"]) == ("Personal", "17.3.6816.0313", None)


def test_odl_v3_context_data(tmp_path):
    item = OdlEntry(ms("2025-04-02T08:00:00Z"), "Move.cpp", "MoveItem", ["from", "to-1"],
                    context=b"\x05\x00ctx!!" + bytes(10))
    path, vpath = odl(tmp_path, items=[item])
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert ctx.warnings == [] and [(e.data["code_file"], e.data["strings"]) for e in events] == [
        ("Move.cpp", ["from", "to-1"])]


def test_param_strings_need_their_length():
    blob = (struct.pack("<I", 7) + b"abc" + b"\x00" * 3  # too short to be text
            + pascal("file.txt") + b"\x01\x02" + struct.pack("<I", 99) + b"not-the-length"
            + pascal("tail") + b"Z\x00\x00" + pascal(b"\xff\xfe\xfd\xfc\xfb"))
    assert param_strings(blob) == ["file.txt", "tail"]


# ---------------------------------------------------------------- de-obfuscation


def test_obfuscation_map_beside_the_log(tmp_path):
    path, vpath = odl(tmp_path)
    build_obfuscation_map(path.parent / "ObfuscationStringMap.txt", [
        ("abcdef", "顧客名簿"), ("ghijkl", "見積\r\nline two"), ("abcdef", "older name"),
        ("Users", "never used"), ("alice", "alice")])
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert ctx.warnings == []
    assert events[0].data["strings"] == [
        "C:\\never used\\alice\\OneDrive - Contoso\\顧客名簿.xlsx", "size=40960"]
    assert events[0].data["strings_as_logged"] == [
        "C:\\Users\\alice\\OneDrive - Contoso\\abcdef.xlsx", "size=40960"]
    assert (events[0].data["obfuscated"], events[0].data["deobfuscated_with"]) == (
        False, ["ObfuscationStringMap.txt"])
    assert events[1].data["strings"] == ["見積\nline two.pdf"]
    assert events[1].message.endswith("Hydrate: 見積 line two.pdf")
    assert parse_obfuscation_map("a\tb\nmore\na\tc\nstill\nd\te") == {"a": "b\nmore", "d": "e"}


def test_keystore_key_decrypts_names(tmp_path):
    secret = encrypt_word(KEY, "顧客名簿")
    item = OdlEntry(ms("2025-04-03T01:00:00Z"), "Upload.cpp", "UploadFile",
                    [f"C:\\Users\\alice\\OneDrive\\{secret}.xlsx",
                     "AAAAAAAAAAAAAAAAAAAAAA", "plain"])
    path, vpath = odl(tmp_path, items=[item])
    build_keystore(path.parent / "general.keystore", KEY)
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert (ctx.warnings, ctx.notes) == ([], [])
    assert events[0].data["strings"] == ["C:\\Users\\alice\\OneDrive\\顧客名簿.xlsx",
                                         "AAAAAAAAAAAAAAAAAAAAAA", "plain"]
    assert events[0].data["strings_as_logged"][0] == f"C:\\Users\\alice\\OneDrive\\{secret}.xlsx"
    assert events[0].data["deobfuscated_with"] == ["general.keystore"]
    assert events[0].data["obfuscated"] is False


def test_unusable_keystore_keeps_strings(tmp_path):
    path, vpath = odl(tmp_path)
    (path.parent / "general.keystore").write_text(json.dumps([{"Key": "bm90IGFuIEFFUyBrZXk="}]))
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert ctx.warnings == ["general.keystore not used: its key is 14 bytes, not an AES key"]
    assert events[0].data["obfuscated"] is True and "strings_as_logged" not in events[0].data


# ---------------------------------------------------------------- bad input


def test_not_odl_truncated_header_unknown_version(tmp_path):
    cases = {
        "junk.odl": (b"MZ\x90\x00" + bytes(300), "not a OneDrive ODL log"),
        "gz.odlgz": (gzip.compress(b"x" * 1000), "not a OneDrive ODL log"),
        "empty.odl": (b"", "not a OneDrive ODL log"),
        "short.odl": (odl_header()[:100], "truncated ODL header: 100 of 256 bytes"),
        "v9.odl": (b"EBFGONED" + struct.pack("<I", 9) + bytes(244),
                   "ODL version 9 is not known"),
    }
    for name, (content, expected) in cases.items():
        path = place(tmp_path, "logs", name)
        path.write_bytes(content)
        with pytest.raises(ArtifactError, match=expected):
            run(OneDriveOdl(), path, f"/logs/{name}")


def test_header_only_and_zero_padding(tmp_path):
    path, vpath = odl(tmp_path, items=[])
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert (events, ctx.warnings, ctx.errors, ctx.notes) == ([], [], [], [])
    padded, padded_vpath = odl(tmp_path, name="padded.odl", tail=bytes(4096))
    events, ctx = run(OneDriveOdl(), padded, padded_vpath)
    end = 256 + sum(len(odl_record(e)) for e in entries())
    assert len(events) == 2 and ctx.notes == [
        f"zero bytes from offset {end} (0x{end:X}) on: taken as the end of the records"]


def test_absurd_length_bad_signature_and_truncation(tmp_path):
    end = 256 + sum(len(odl_record(e)) for e in entries())
    absurd = struct.pack("<4sHHQIIII", b"\xcc\xdd\xee\xff", 0, 0, 1, 0, 0, 0xFFFFFFF0, 0)
    path, vpath = odl(tmp_path, name="absurd.odl", tail=absurd + b"rest")
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert len(events) == 2 and ctx.errors == [
        f"the record at offset {end} (0x{end:X}) claims 4294967280 bytes of data (more than "
        "the 16777216-byte bound): the rest of the file is not read"]
    path, vpath = odl(tmp_path, name="sig.odl", tail=b"garbage!" * 8)
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert len(events) == 2 and ctx.errors == [
        f"no record signature (CC DD EE FF) at offset {end} (0x{end:X}): the rest of the file "
        "is not read"]
    cut = odl_record(entries()[0])[:-5]
    path, vpath = odl(tmp_path, name="cut.odl", tail=cut)
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert len(events) == 2 and ctx.errors == [] and ctx.warnings == [
        f"the file ends inside the record at offset {end} (0x{end:X}): 5 of its "
        f"{len(cut) + 5 - 32} data bytes are missing; that record is not read"]
    path, vpath = odl(tmp_path, name="head.odl", tail=cut[:20])
    _, ctx = run(OneDriveOdl(), path, vpath)
    assert ctx.warnings == [f"the file ends inside the record header at offset {end} "
                            f"(0x{end:X}): that record is not read"]


def test_damaged_names_skip_one_record_and_bad_times(tmp_path):
    bad = OdlEntry(ms("2025-04-01T00:00:00Z"), "x", "Upload",
                   raw_data=pascal("Upload.cpp") + b"\x00\x00\x00\x00" + struct.pack("<I", 5000))
    later = OdlEntry(0, "Upload.cpp", "UploadFile", ["zero-time"])
    huge = OdlEntry(2 ** 63, "Upload.cpp", "UploadFile", ["far-future"])
    path, vpath = odl(tmp_path, items=[bad, later, huge])
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert [(e.timestamp, e.data["record_index"], e.data["strings"]) for e in events] == [
        (None, 2, ["zero-time"]), (None, 3, ["far-future"])]
    assert ctx.warnings == [
        "1 record(s) whose names run past the record's data were skipped (first at offset 256 "
        "(0x100))", "record time: 1 value(s) not a valid time: left without a time"]


def test_gzip_bomb_is_bounded(tmp_path, monkeypatch):
    filler = OdlEntry(1, "Status.cpp", "ReportStatus", ["x" * 40])
    size = len(odl_record(filler))
    count = (4 * 1024 * 1024) // size  # 4 MiB of records; compresses about 500-fold
    path, vpath = odl(tmp_path, name="bomb.odlgz", items=[filler] * count, compressed=True)
    assert path.stat().st_size < 64 * 1024
    monkeypatch.setattr(onedrive_logs, "INFLATE_FLOOR", 0)
    cap = 64 * path.stat().st_size
    events, ctx = run(OneDriveOdl(), path, vpath, onedrive_odl_all=True)
    assert 0 < len(events) <= cap // size < count
    assert ctx.errors == [] and ctx.warnings == [
        f"inflating stopped at the bound of {cap} bytes (64 times the file, at least 0, at most "
        f"{256 * 1024 * 1024}): the records after it are not read"]
    with open(path, "rb") as handle:  # the reader itself never inflates past its cap
        handle.seek(256)
        area = RecordArea(handle, True, 100_000)
        while area.read(65536):
            pass
    assert (area.capped, area.inflated) == (True, 100_000)


def test_damaged_and_truncated_gzip(tmp_path):
    path, vpath = odl(tmp_path, name="bad.odlgz", compressed=True)
    raw = bytearray(path.read_bytes())
    raw[270:300] = b"\xff" * 30
    path.write_bytes(bytes(raw))
    _, ctx = run(OneDriveOdl(), path, vpath)
    assert len(ctx.errors) == 1 and ctx.errors[0].startswith("gzip stream damaged after ")
    path, vpath = odl(tmp_path, name="short.odlgz", compressed=True)
    path.write_bytes(path.read_bytes()[:-12])
    events, ctx = run(OneDriveOdl(), path, vpath)
    assert len(events) == 2 and ctx.warnings[-1].startswith(
        "the gzip stream ends before its end marker")
    area = RecordArea(io.BytesIO(gzip.compress(b"ab") + gzip.compress(b"cd") + b"junk"), True,
                      1000)
    assert area.read(10) == b"abcd" and area.trailing


def test_mutated_logs_never_escape(tmp_path):
    """Random byte damage anywhere (header included): ArtifactError or messages, nothing else."""
    plain, vpath = odl(tmp_path, name="plain.odl")
    packed, gz_vpath = odl(tmp_path, name="packed.odlgz", compressed=True)
    rng = random.Random(20250401)
    for original, where in ((plain.read_bytes(), vpath), (packed.read_bytes(), gz_vpath)):
        target = tmp_path / "mutant.odl"
        for _ in range(150):
            raw = bytearray(original)
            for _ in range(rng.randint(1, 8)):
                raw[rng.randrange(len(raw))] = rng.randrange(256)
            target.write_bytes(bytes(raw[:rng.randint(len(raw) // 2, len(raw))]))
            try:
                run(OneDriveOdl(), target, where, onedrive_odl_all=True)
            except ArtifactError:
                pass


# ---------------------------------------------------------------- settings


def test_personal_settings(tmp_path):
    folder = f"{SETTINGS}/Personal"
    glob = build_ini(place(tmp_path, folder, "global.ini"),
                     ["cid = a1b2c3d4e5f60718", "version = 1", "cid = ignored"])
    events, ctx = run(OneDriveSettings(), glob, f"/{folder}/global.ini")
    assert ctx.warnings == [] and [(e.timestamp, e.timestamp_desc, e.message, e.data)
                                   for e in events] == [
        (None, "Account Settings", "OneDrive account settings (Personal): cid a1b2c3d4e5f60718",
         {"client": "OneDrive", "account": "Personal", "cid": "a1b2c3d4e5f60718",
          "settings": {"cid": "a1b2c3d4e5f60718", "version": "1"}})]
    cid = build_ini(place(tmp_path, folder, "a1b2c3d4e5f60718.ini"),
                    [personal_library_line("C:\\Users\\alice\\OneDrive"), "other = 1"])
    events, ctx = run(OneDriveSettings(), cid, f"/{folder}/a1b2c3d4e5f60718.ini")
    assert [(e.timestamp, e.timestamp_desc, e.message) for e in events] == [
        (None, "Sync Root",
         "OneDrive (Personal) sync root C:\\Users\\alice\\OneDrive: OneDrive (personal) (library)")]
    assert events[0].data["local_path_from"] == "documented position"
    assert events[0].data["fields"][:4] == ["1", "4", "A1B2C3D4E5F60718!101", "1583355024"]


def test_business_settings_sync_roots(tmp_path):
    folder = f"{SETTINGS}/Business1"
    path = build_ini(place(tmp_path, folder, f"{BUSINESS_ID}.ini"), [
        business_scope_line(0, "C:\\Users\\alice\\OneDrive - Contoso", SITE, WEB, LIB),
        business_scope_line(1, "C:\\Users\\alice\\Contoso\\Projects - Documents", SITE, WEB,
                            LIB, name="Projects"),
        library_folder_line(1, "f" * 32, "C:\\Users\\alice\\Contoso\\Projects - Docs"),
        added_scope_line("e" * 32 + "+1", SITE, WEB, LIB, "8" * 32, "Shared Documents/見積"),
    ])
    events, ctx = run(OneDriveSettings(), path, f"/{folder}/{BUSINESS_ID}.ini")
    assert ctx.notes == []
    assert [e.message for e in events] == [
        "OneDrive (Business1) sync root C:\\Users\\alice\\OneDrive - Contoso: OneDrive for "
        "Business (libraryScope)",
        "OneDrive (Business1) sync root C:\\Users\\alice\\Contoso\\Projects - Documents: "
        "SharePoint library (libraryScope)",
        "OneDrive (Business1) sync root C:\\Users\\alice\\Contoso\\Projects - Docs: SharePoint "
        "library folder (libraryFolder)",
        "OneDrive (Business1) sync root path in library: Shared Documents/見積: Shortcut added "
        "to My files (AddedScope)",
    ]
    data = events[0].data
    del data["fields"]
    assert data == {
        "client": "OneDrive", "account": "Business1", "entry": "libraryScope",
        "library_type": "OneDrive for Business",
        "local_path": "C:\\Users\\alice\\OneDrive - Contoso",
        "local_path_from": "documented position", "library_number": "0", "site_id": SITE,
        "web_id": WEB, "library_id": LIB, "parent_folder_id": None, "link_id": None,
        "relative_path": None, "emails": ["alice@contoso.com"]}
    assert (events[2].data["library_number"], events[2].data["parent_folder_id"]) == ("1", "f" * 32)
    assert (events[3].data["local_path"], events[3].data["link_id"]) == (None, "8" * 32)


def test_settings_utf8_fallback_and_other_files(tmp_path):
    folder = "Users/alice/Library/Application Support/OneDrive/settings/Business1"
    path = build_ini(place(tmp_path, folder, f"{BUSINESS_ID}.ini"),
                     ['libraryScope = 0 "x" "/Users/alice/OneDrive - Contoso" 9'],
                     encoding="utf-8")
    events, _ = run(OneDriveSettings(), path, f"/{folder}/{BUSINESS_ID}.ini")
    assert [(e.data["local_path"], e.data["local_path_from"]) for e in events] == [
        ("/Users/alice/OneDrive - Contoso", "first path-like field")]
    other = build_ini(place(tmp_path, folder, "global.ini"), ["something = 1"])
    events, ctx = run(OneDriveSettings(), other, f"/{folder}/global.ini")
    assert events == [] and ctx.notes == [
        "no `cid = ` line: not a OneDrive account global.ini; nothing taken"]
    broken = place(tmp_path, folder, "0000aaaa-0000-0000-0000-000000000000.ini")
    broken.write_bytes(b"\xff\xfel\x00i\x00b\x00\x00\xd8")  # UTF-16 with a lone surrogate
    events, ctx = run(OneDriveSettings(), broken, f"/{folder}/{broken.name}")
    assert events == [] and ctx.warnings == [
        "some bytes are not valid text in the file's encoding: shown as U+FFFD"]
    assert split_fields('a "b c" "" d') == ["a", "b c", "", "d"]


# ---------------------------------------------------------------- through the CLI


def test_cli_onedrive_logs_and_settings(cli, tmp_path):
    root = tmp_path / "evidence"
    (root / "Windows").mkdir(parents=True)
    path, _ = odl(root)
    build_obfuscation_map(path.parent / "ObfuscationStringMap.txt", [("abcdef", "顧客名簿")])
    odl(root, name="Nucleus-2025-04-01.odlgz", folder="ListSync/Business1", compressed=True,
        items=[OdlEntry(ms("2025-04-01T03:00:00Z"), "Delete.cpp", "DeleteItem", ["gone.txt"])])
    place(root, f"{LOGS}/Common", "junk.odl").write_bytes(b"junk")
    build_ini(place(root, f"{SETTINGS}/Business1", "global.ini"), [f"cid = {BUSINESS_ID}"])
    build_ini(place(root, f"{SETTINGS}/Business1", f"{BUSINESS_ID}.ini"), [
        business_scope_line(0, "C:\\Users\\alice\\OneDrive - Contoso", SITE, WEB, LIB)])
    build_ini(place(root, f"{SETTINGS}/Business1", "ClientPolicy.ini"), ["DavUrlNamespace = x"])
    before = tree_digest(root)
    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json", "--only", "OneDriveLogs,OneDriveSettings")
    summary = json.loads(result.output)
    assert tree_digest(root) == before
    assert {k: v for k, v in summary["per_artifact"].items() if v} == {
        "OneDriveLogs": 3, "OneDriveSettings": 2}
    assert summary["errors"] == 1  # junk.odl: not an ODL log
    events = read_jsonl(case)
    assert {(e["family"], e["user"]) for e in events} == {("cloud", "alice")}
    upload = next(e for e in events if e["data"].get("function") == "CUploadFile::UploadFile")
    assert upload["timestamp"] == "2025-04-01T00:20:00.123Z"
    assert upload["data"]["strings"][0] == "C:\\Users\\alice\\OneDrive - Contoso\\顧客名簿.xlsx"
    deleted = next(e for e in events if e["data"].get("function") == "DeleteItem")
    assert (deleted["data"]["log_folder"], deleted["data"]["obfuscated"]) == ("Business1", True)
    with sqlite3.connect(case / "case.sqlite") as db:
        sources = {row[0].rsplit("/", 1)[-1]: row[1:] for row in
                   db.execute("SELECT path, status, events, error FROM sources")}
    assert sources == {  # ClientPolicy.ini is left out by the definition's exclude
        "SyncEngine-2025-04-01.0020.1234.1.odl": ("parsed", 2, None),
        "Nucleus-2025-04-01.odlgz": ("parsed", 1, None),
        "junk.odl": ("error", 0, "ArtifactError: not a OneDrive ODL log (no EBFGONED "
                     "signature at offset 0)"),
        "global.ini": ("parsed", 1, None), f"{BUSINESS_ID}.ini": ("parsed", 1, None)}
    every = tmp_path / "every"
    result = cli("run", root, "-o", every, "--json", "--only", "OneDriveLogs",
                 "--onedrive-odl-all")
    logged = json.loads(result.output)["per_artifact"]["OneDriveLogs"]
    assert logged > 3  # the records that are not file actions are on the timeline too
