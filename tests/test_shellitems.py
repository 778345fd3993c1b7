"""The shared shell item decoder (triage/shellitems/): one item read once, named by each caller
(ShellBags, registry MRUs, shortcuts) as before; the rules that came from merging three
decoders (names kept per caller, damaged extension blocks, known folders, delegate items,
portable devices, lone surrogates)."""
from __future__ import annotations

import datetime as dt
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures import build_registry_execution as B  # noqa: E402
from fixtures.builders import lnk_writer as w  # noqa: E402
from triage.shellitems import (SHELL_FOLDERS, decode_pidl, folder_name, join_path,  # noqa: E402
                               parse_item, parse_item_list, parse_registry_item)
from triage.shellitems.link import shell_path  # noqa: E402

MY_COMPUTER = "20D04FE0-3AEA-1069-A2D8-08002B30309D"
DOCUMENTS_LIBRARY = "7B0DB17D-9CD2-4A93-9733-46CC89022E7C"
THIS_PC_PICTURES = "3ADD1653-EB32-4CB0-BBD7-DFA0ABB5ACCA"


def _falcon(**kwargs) -> bytes:
    return B.file_entry("PROJEC~1", "Project Falcon", B.fat(2026, 3, 2, 9, 31, 38),
                        B.fat(2026, 2, 14, 11, 5, 20), B.fat(2026, 3, 2, 9, 31, 40),
                        mft_entry=88412, mft_sequence=3, **kwargs)


def test_folder_names_keep_each_callers_spelling():
    assert folder_name(THIS_PC_PICTURES, "registry") == "My Pictures"
    assert SHELL_FOLDERS[THIS_PC_PICTURES] == "Pictures"  # ShellBags
    assert folder_name("{" + DOCUMENTS_LIBRARY.lower() + "}", "link") == "Documents Library"
    assert folder_name(DOCUMENTS_LIBRARY, "registry") == "Documents"
    assert folder_name("871c5380-42a0-1069-a2ea-08002b30309d", "link") == "Internet Folder"
    assert folder_name("871C5380-42A0-1069-A2EA-08002B30309D", "registry") == "Internet Explorer"
    assert folder_name("7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E", "registry") == "ProgramFilesX86"
    assert folder_name("7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E", "link") == "Program Files (x86)"
    assert folder_name("7C5A40EF-A0FB-4BFC-874A-C0F2E0B9FA8E", "shellbag") is None
    assert folder_name(None) is None


def test_one_list_three_views():
    raw = B.pidl(B.root_folder(MY_COMPUTER, 0x50), B.volume("C:\\"), _falcon())
    items = parse_item_list(raw)
    assert [i.kind for i in items] == ["root_folder", "volume", "file_entry"]
    assert join_path([i.name for i in items]) == "<My Computer> C:\\Project Falcon"
    pidl = decode_pidl(raw)
    assert pidl["path"] == "C:\\Project Falcon"
    assert [i["kind"] for i in pidl["shell_items"]] == ["root_folder", "volume", "file_entry"]
    assert pidl["target_modified"] == items[2].modified
    assert pidl["target_modified"].iso() == "2026-03-02T09:31:38Z"  # FAT: no fraction
    link = shell_path(raw)
    assert link.path == "<My Computer> C:\\Project Falcon"
    assert link.items[2]["created"] == "2026-02-14T11:05:20Z"
    assert link.target_reference == (88412, 3)


def test_extension_block_of_an_unknown_version_is_not_read():
    raw = bytearray(_falcon())
    at = raw.index(b"\x04\x00\xef\xbe") - 2
    struct.pack_into("<H", raw, at, 0x2A09)  # damaged version: its layout is unknown
    item = parse_item(bytes(raw))
    assert item.long_name is None and item.mft_entry is None and item.created is None
    assert item.name == "PROJEC~1"
    assert item.problems == ["0xbeef0004 block of unknown version 10761"]


def test_extension_block_with_a_damaged_size_is_found_by_its_signature():
    raw = bytearray(_falcon())
    at = raw.index(b"\x04\x00\xef\xbe") - 4
    struct.pack_into("<H", raw, at, 0x4C3C)  # runs past the item
    item = parse_item(bytes(raw))
    assert (item.long_name, item.mft_entry) == ("Project Falcon", 88412)
    assert item.problems == ["0xbeef0004 block found by its signature (damaged size or offset)"]


def _users_property_view(guid_size: int) -> bytes:
    body = b"\x00" + struct.pack("<HIHH", 0x1A, 0x23FEBBEE, 0, guid_size)
    return B.item(0x00, body + B.guid_le(DOCUMENTS_LIBRARY) + bytes(10))


def test_known_folder_needs_its_guid_size():
    known = parse_registry_item(_users_property_view(16))
    assert (known.kind, known.name, known.guid) == ("known_folder", "Documents",
                                                    DOCUMENTS_LIBRARY)
    assert parse_item(_users_property_view(16)).known_folder == DOCUMENTS_LIBRARY
    other = parse_registry_item(_users_property_view(0))
    assert (other.kind, other.name) == ("property_view", "<property view>")


def test_delegate_items_are_read_at_their_offsets():
    inner = B.file_entry("BOXSYN~1", "Box Sync", B.fat(2018, 3, 28), B.fat(2018, 3, 28),
                         B.fat(2018, 3, 28), size=0)
    guids = B.guid_le("5E591A74-DF96-48D3-8D67-1733BCEE28BA") + B.guid_le(MY_COMPUTER)
    delegate = B.item(0x74, b"\x00" + struct.pack("<H", 4 + len(inner)) + b"CFSF" + inner + guids)
    item = parse_item(delegate)
    assert (item.kind, item.short_name, item.long_name) == ("delegate_file_entry", "BOXSYN~1",
                                                            "Box Sync")
    last = decode_pidl(B.pidl(delegate))["shell_items"][-1]
    assert (last["type"], last["kind"], last["short_name"], last["file_size"]) == (
        "0x74", "file_entry", "BOXSYN~1", 0)
    assert last["modified"].iso() == "2018-03-28T00:00:00Z" and last["is_directory"] is True


def test_portable_devices_are_named_in_mru_paths():
    raw = B.pidl(B.mtp_storage("Galaxy", "SID-{1}", "FAT32"), B.mtp_folder("Camera", "o1"))
    pidl = decode_pidl(raw)
    assert pidl["path"] == "Galaxy\\Camera"
    assert [i["kind"] for i in pidl["shell_items"]] == ["portable_device_storage",
                                                       "portable_device_entry"]


def test_lone_surrogate_in_a_file_name_is_kept():
    raw = B.file_entry("A", "aXb", B.fat(2026, 1, 1), B.fat(2026, 1, 1), B.fat(2026, 1, 1))
    raw = raw.replace("X".encode("utf-16-le"), b"\x00\xd8")
    assert parse_item(raw).long_name == "a\ud800b"
    assert decode_pidl(B.pidl(raw))["path"] == "a\ud800b"


def test_shortcut_view_reads_damaged_items_as_libfwsi_does():
    when = dt.datetime(2026, 3, 1, 9, 30, 4)
    entry = bytearray(w.file_entry_item("report.docx", short_name="REPORT~1.DOC", modified=when,
                                        created=when, accessed=when, mft_entry=7))
    at = entry.index(b"\x04\x00\xef\xbe") - 2
    struct.pack_into("<H", entry, at, 0x2A08)
    raw = w.id_list(w.root_item(), w.volume_item("C:\\"), bytes(entry))
    link = shell_path(raw)
    assert link.path == "<My Computer> C:\\REPORT~1.DOC"
    assert "long_name" not in link.items[2] and link.target_reference is None
    errors: list[str] = []
    assert shell_path(b"\x05\x00\xff\xff", errors.append) is None
    assert errors[0].startswith("unreadable shell item list: ")
