"""PST/OST extractor: the real samples (skipped when absent), the folder walk and message
reading on a stand-in for libpff's objects (deleted and recoverable folders, orphans, damage,
ANSI code pages), bad input, the mail-address classification, and a run through the CLI."""
from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, samples, tree_digest  # noqa: E402
from fixtures.builders.browser_writer import posix_from_iso  # noqa: E402
from triage import maildomains  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import pst as pst_module  # noqa: E402
from triage.extractors.pst import (PstExtractor, _Store, codec_for, item_kind,  # noqa: E402
                                   strip_subject_prefix)
from triage.files import LocalFile  # noqa: E402
from triage.model import FILETIME_EPOCH_DELTA, ArtifactError  # noqa: E402

VPATH = "/Users/alice/Documents/Outlook Files/archive.pst"


def _extract(path: Path, **options):
    ctx = ExtractionContext(options=options)
    return list(PstExtractor().extract(LocalFile(str(path), path=VPATH), ctx)), ctx


# ---------------------------------------------------------------- real samples


def test_sample1_pst():
    events, ctx = _extract(samples("mail", "sample1.pst"))
    assert ctx.warnings == [] and ctx.errors == [] and ctx.notes == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2010-03-15T17:12:05.0000000Z", "Sent"),
        ("2010-03-15T17:12:07.9515197Z", "Received"),
        ("2010-03-15T17:12:07.9359200Z", "Created")]
    data = events[0].data
    assert events[0].message == (
        'Mail "Here is a sample message" from Terry Mahaffey <terrymah@microsoft.com> to '
        "terrymah@microsoft.com (1 attachment) [sample1: Top of Outlook data file/Sample1]")
    assert (data["store_name"], data["pst_format"], data["file_type"]) == ("sample1", "unicode",
                                                                           "pst")
    assert (data["folder_path"], data["folder_role"], data["deleted_folder"]) == (
        "Top of Outlook data file/Sample1", None, False)
    assert (data["subject"], data["message_class"], data["read"]) == (
        "Here is a sample message", "IPM.Note", True)
    assert data["recipients"] == [{"type": "to", "name": "Terry Mahaffey",
                                   "address": "terrymah@microsoft.com", "address_type": "EX"}]
    assert (data["to"], data["cc"], data["bcc"]) == (["terrymah@microsoft.com"], [], [])
    assert (data["sender_name"], data["sender_address"]) == ("Terry Mahaffey",
                                                             "terrymah@microsoft.com")
    assert (data["importance"], data["sensitivity"], data["unsent"]) == ("normal", "normal", False)
    assert data["internet_message_id"] == (
        "<B2FDDB8BE384C94794441DB4A7F3D8B804AE624B@TK5EX14MBXC114.redmond.corp.microsoft.com>")
    assert (data["sent"], data["received"], data["created"], data["modified"]) == (
        "2010-03-15T17:12:05.0000000Z", "2010-03-15T17:12:07.9515197Z",
        "2010-03-15T17:12:07.9359200Z", "2010-03-19T20:08:06.4870000Z")
    assert [e.data["time_roles"] for e in events] == [["Sent"], ["Received"], ["Created"]]
    assert (data["has_attachments"], data["attachment_count"], data["attachment_names"]) == (
        True, 1, ["leah_thumper.jpg"])
    attachment = data["attachments"][0]
    assert (attachment["size"], attachment["method"], attachment["hidden"]) == (93142, "by_value",
                                                                                False)
    assert data["attachment_sha256"] == [attachment["sha256"]]
    assert "body_preview" not in data

    # the streamed hash equals the hash of the attachment's data property read whole by libpff
    import pypff

    pff = pypff.file()
    pff.open(str(samples("mail", "sample1.pst")))
    message = pff.get_root_folder().get_sub_folder(1).get_sub_folder(1).get_sub_message(0)
    content = message.get_attachment(0).get_record_set(0).get_entry_by_type(0x3701).get_data()
    pff.close()
    assert content[:3] == b"\xff\xd8\xff" and len(content) == 93142  # a JPEG
    assert attachment["sha256"] == hashlib.sha256(content).hexdigest()


def test_file_object_of_an_image_source(tmp_path):
    """Stores over 64 MiB reach the extractor as the image source's file object."""
    import os

    from triage.sources.image import _FileObject

    path = samples("mail", "support.pst")

    class Inner:  # the dfVFS file-IO methods _FileObject relies on
        def __init__(self):
            self.handle = open(path, "rb")

        def read(self, size=None):
            return self.handle.read(-1 if size is None else size)

        def seek(self, offset, whence=os.SEEK_SET):
            self.handle.seek(offset, whence)

        def get_offset(self):
            return self.handle.tell()

        def get_size(self):
            return os.path.getsize(path)

    class ImageFile(LocalFile):
        def open(self):
            return _FileObject(Inner())

    ctx = ExtractionContext()
    events = list(PstExtractor().extract(ImageFile(str(path), path=VPATH), ctx))
    assert len(events) == 34 and ctx.errors == []


def test_sample1_body_preview():
    events, _ = _extract(samples("mail", "sample1.pst"), mail_body_preview=25)
    assert {e.data["body_preview"] for e in events} == {"With a sample attachment."}


def test_32bit_ansi_pst():
    events, ctx = _extract(samples("mail", "32-bit.pst"))
    assert ctx.errors == [] and ctx.warnings == []
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        ("2004-08-17T14:00:46.5961753Z", "Sent"),
        ("2004-08-24T19:42:33.2710000Z", "Received"),
        ("2004-08-17T14:40:49.7603447Z", "Created")]
    data = events[1].data
    assert (data["pst_format"], data["store_name"], data["folder_path"]) == (
        "ansi", "Personal Folders", "Top of Personal Folders/Calendar")
    assert (data["message_class"], data["subject"]) == (
        "IPM.Appointment", "Updated: Olympus training for new hires")
    assert events[1].message.startswith('Appointment "Updated: Olympus training for new hires" '
                                        "from Cyndy Foulkrod </O=INRS/")
    assert data["to"] == ["cyndy.foulkrod@stellent.com", "patty.fukasawa@stellent.com",
                          "barb.tentinger@stellent.com", "zeeshan.farooq@stellent.com"]
    assert data["cc"] == ["john.harrison@stellent.com", "al.senzamici@stellent.com",
                          "vince.raso@stellent.com"]
    assert data["sender_address"] == "/O=INRS/OU=FIRST ADMINISTRATIVE GROUP/CN=RECIPIENTS/CN=CFOULKRO"
    assert data["sender_address_type"] == "EX"
    # an Exchange DN sender counts as internal once internal domains are known
    events, _ = _extract(samples("mail", "32-bit.pst"), internal_domains=["stellent.com"])
    assert (events[0].data["sender_external"], events[0].data["external_recipients"]) == (False, [])


def test_dist_list_pst():
    events, ctx = _extract(samples("mail", "dist-list.pst"))
    assert ctx.errors == [] and ctx.warnings == []
    assert [(e.data["message_class"], e.timestamp_desc) for e in events] == [
        ("IPM.DistList", "Sent"), ("IPM.DistList", "Received"), ("IPM.DistList", "Created"),
        ("IPM.Contact", "Sent"), ("IPM.Contact", "Received"), ("IPM.Contact", "Created"),
        ("IPM.Microsoft.ScheduleData.FreeBusy", "Created")]
    assert [e.data["subject"] for e in events[::3]] == ["test dist list", "contact name 1",
                                                        "LocalFreebusy"]
    assert events[0].message.startswith('Distribution list "test dist list"')
    assert events[6].data["folder_path"] == "Freebusy Data"


def test_support_pst_counts_and_recipients():
    events, ctx = _extract(samples("mail", "support.pst"),
                           internal_domains=["hackingteam.com", "hackingteam.it"])
    assert ctx.errors == [] and ctx.warnings == []
    assert len(events) == 34  # 17 messages: sent = received, so two events each
    messages = {(e.data["folder_path"], e.data["item_id"]) for e in events}
    folders = [f for f, _ in messages]
    assert folders.count("Top of Personal Folders/Drafts") == 6
    assert folders.count("Top of Personal Folders/Sent Messages") == 11
    assert {e.timestamp_desc for e in events} == {"Sent; Received", "Created"}
    assert all(e.data["folder_role"] == "sent_items" for e in events
               if e.data["folder_path"].endswith("Sent Messages"))
    notice = [e for e in events if e.data["subject"] == "IMPORTANT: Support portal downtime for "
              "maintenance" and e.timestamp_desc == "Sent; Received"]
    assert len(notice) == 1
    data = notice[0].data
    assert notice[0].timestamp.iso() == "2014-03-12T19:14:36.0000000Z"
    assert data["time_roles"] == ["Sent", "Received"]
    assert data["attachment_names"] == ["support@hackingteam.it.asc", "ATT00001.htm"]
    assert [a["size"] for a in data["attachments"]] == [3223, 253]
    assert data["attachment_sha256"] == [
        "7a4833aacf7b8b9a0855851a0303145e15d24cda7bc4cfceb72235060e4b3ac6",
        "076137c705bb339aae637ae892b4641e424c9741b442e19abc8297aeaceb51f3"]
    assert (data["recipient_count"], len(data["bcc"]), data["to"], data["cc"]) == (91, 91, [], [])
    assert data["sender_address"] == "support@hackingteam.it" and data["sender_external"] is False
    assert "mauro.sorrento@gmail.com" in data["freemail_recipients"]
    assert data["external_recipient_count"] == len(data["external_recipients"]) > 0
    assert set(data["freemail_recipients"]) <= set(data["external_recipients"])


# ---------------------------------------------------------------- bad input


def test_not_a_pst(tmp_path):
    path = tmp_path / "fake.pst"
    path.write_bytes(b"PK\x03\x04 this is a zip")
    with pytest.raises(ArtifactError, match=r"not a PST/OST file \(no !BDN signature\)"):
        _extract(path)
    path.write_bytes(b"!BDN\x00\x00\x00\x00SM\x63\x00" + b"\x00" * 500)
    with pytest.raises(ArtifactError, match="unsupported PST/OST format version 99"):
        _extract(path)
    path.write_bytes(b"")
    with pytest.raises(ArtifactError, match="no !BDN signature"):
        _extract(path)


def test_truncated_pst(tmp_path):
    data = samples("mail", "sample1.pst").read_bytes()
    path = tmp_path / "cut.pst"
    path.write_bytes(data[:65536])
    with pytest.raises(ArtifactError, match="unreadable PST/OST file: unable to read data block"):
        _extract(path)


# ---------------------------------------------------------------- walk on a stand-in


def ft(iso: str) -> bytes:
    return (posix_from_iso(iso) * 10_000_000 + FILETIME_EPOCH_DELTA).to_bytes(8, "little")


def u(text: str) -> tuple[int, bytes]:
    return 0x1F, text.encode("utf-16-le")


def a(text: str, codec: str = "cp1252") -> tuple[int, bytes]:
    return 0x1E, text.encode(codec) + b"\x00"


def i32(value: int) -> tuple[int, bytes]:
    return 0x03, value.to_bytes(4, "little")


def t(iso: str) -> tuple[int, bytes]:
    return 0x40, ft(iso)


class _Entry:
    def __init__(self, kind: int, data: bytes):
        self.kind, self.data = kind, data

    def get_value_type(self) -> int:
        return self.kind

    def get_data(self) -> bytes:
        return self.data


class _RecordSet:
    def __init__(self, props: dict[int, tuple[int, bytes]]):
        self.props = props

    def get_entry_by_type(self, tag: int) -> _Entry | None:
        return _Entry(*self.props[tag]) if tag in self.props else None


class _Table:
    def __init__(self, rows: list[dict]):
        self.rows = rows

    def get_number_of_record_sets(self) -> int:
        return len(self.rows)

    def get_record_set(self, index: int) -> _RecordSet:
        return _RecordSet(self.rows[index])


class _Item:
    def __init__(self, props: dict, ident: int = 0, recipients: list[dict] | None = None,
                 attachments: list["_Attachment"] | None = None, body: bytes | None = None):
        self.props, self.ident, self.body = props, ident, body
        self._recipients = recipients
        self._attachments = attachments or []

    def get_number_of_record_sets(self) -> int:
        return 1

    def get_record_set(self, index: int) -> _RecordSet:
        return _RecordSet(self.props)

    def get_identifier(self) -> int:
        return self.ident

    @property
    def recipients(self) -> _Table:
        if self._recipients is None:
            raise AttributeError("recipients")
        return _Table(self._recipients)

    def get_number_of_attachments(self) -> int:
        return len(self._attachments)

    def get_attachment(self, index: int) -> "_Attachment":
        found = self._attachments[index]
        if isinstance(found, Exception):
            raise found
        return found

    def get_plain_text_body(self) -> bytes | None:
        return self.body


class _Attachment(_Item):
    def __init__(self, props: dict, content: bytes | None, short: int = 0):
        super().__init__(props)
        self.content, self.short, self.pos = content, short, 0

    def get_size(self) -> int | None:
        return None if self.content is None else len(self.content)

    def seek_offset(self, offset: int, whence: int) -> None:
        self.pos = offset

    def read_buffer(self, size: int) -> bytes:
        end = min(self.pos + size, len(self.content) - self.short)
        chunk = self.content[self.pos:end]
        self.pos = end
        return chunk


class _Folder:
    def __init__(self, name: str | None, ident: int, items: list[Any] = (),
                 subfolders: list["_Folder"] = ()):
        self.name, self.ident, self.items, self.subfolders = name, ident, list(items), list(subfolders)

    def get_name(self) -> str | None:
        return self.name

    def get_identifier(self) -> int:
        return self.ident

    def get_number_of_sub_messages(self) -> int:
        return len(self.items)

    def get_sub_message(self, index: int) -> Any:
        found = self.items[index]
        if isinstance(found, Exception):
            raise found
        return found

    def get_number_of_sub_folders(self) -> int:
        return len(self.subfolders)

    def get_sub_folder(self, index: int) -> "_Folder":
        return self.subfolders[index]


class _Pff:
    def __init__(self, root: _Folder, store: _Item | None, orphans: list[Any] = ()):
        self.root, self.store, self.orphans = root, store, list(orphans)

    def get_ascii_codepage(self) -> bytes:
        return b"cp1252"

    def get_message_store(self) -> _Item | None:
        return self.store

    def get_root_folder(self) -> _Folder:
        return self.root

    def get_number_of_orphan_items(self) -> int:
        return len(self.orphans)

    def get_orphan_item(self, index: int) -> Any:
        return self.orphans[index]


def entry_id(nid: int) -> tuple[int, bytes]:
    return 0x102, b"\x00" * 4 + b"\x11" * 16 + nid.to_bytes(4, "little")


T_SENT = "2025-04-01T00:15:30Z"
T_CREATED = "2025-04-01T00:16:00Z"


def stand_in() -> _Pff:
    attachment = _Attachment({0x3707: u("顧客名簿.xlsx"), 0x3705: i32(1), 0x0E20: i32(5000),
                              0x370E: u("application/vnd.ms-excel")}, b"x" * 3_000_000)
    embedded = _Attachment({0x3001: u("Fwd: old"), 0x3705: i32(5)}, None)
    cut = _Attachment({0x3707: u("cut.bin"), 0x3705: i32(1)}, b"y" * 100, short=10)
    deleted_mail = _Item({
        0x001A: u("IPM.Note"), 0x0037: u("\x01\x01顧客リスト"),
        0x0039: t(T_SENT), 0x0E06: t(T_SENT), 0x3007: t(T_CREATED), 0x0E07: i32(0x11),
        0x0017: i32(2), 0x0C1A: u("Alice Sato"), 0x0C1F: u("/o=Example/cn=alice"),
        0x0C1E: u("EX"), 0x5D01: u("Alice@Example.co.jp"),
    }, ident=2001, recipients=[
        {0x0C15: i32(0x10000001), 0x3001: u("Taro"), 0x3002: u("SMTP"),  # MAPI_P1 | MAPI_TO
         0x3003: u("taro@gmail.com"),
         0x39FE: u("Taro@Gmail.com")},
        {0x0C15: i32(2), 0x3001: u("Bob"), 0x3002: u("EX"), 0x3003: u("/o=Example/cn=bob")},
        {0x0C15: i32(3), 0x3001: u("Carol"), 0x3002: u("SMTP"),
         0x3003: u("carol@partner.example.org")},
    ], attachments=[attachment, embedded, cut, OSError("libpff: unable to retrieve")],
        body="本文テキスト".encode("utf-8"))
    ansi = _Item({0x001A: a("IPM.Note"), 0x0037: a("給与明細", "cp932"), 0x3FFD: i32(932),
                  0x0C1A: a("経理", "cp932"), 0x007D: a(
                      "From: =?ISO-2022-JP?B?GyRCN1BNfRsoQg==?= <keiri@example.co.jp>\r\n"
                      "To: a@example.co.jp, \"B\" <b@mail.example.net>\r\n"
                      "Cc: c@docomo.ne.jp\r\n")}, ident=2002)
    untimed = _Item({0x001A: u("IPM.StickyNote"), 0x0037: u("memo")}, ident=2003)
    recoverable = _Item({0x001A: u("IPM.Note"), 0x0037: u("purged"), 0x3007: t(T_CREATED)},
                        ident=2004)
    orphan = _Item({0x001A: u("IPM.Note"), 0x0037: u("lost"), 0x0E06: t(T_SENT)}, ident=2005)
    not_message = _Item({0x3001: u("an attachment table")}, ident=2006)
    root = _Folder(None, 290, subfolders=[
        _Folder("Top of Information Store", 32802, subfolders=[
            _Folder("削除済みアイテム", 32866, items=[deleted_mail],
                    subfolders=[_Folder("old", 40000, items=[ansi])]),
            _Folder("Notes", 32898, items=[untimed, OSError("pypff: unable to retrieve sub "
                                                            "message. libpff: read failed.")]),
        ]),
        _Folder("Recoverable Items", 33000, subfolders=[
            _Folder("Purges", 33001, items=[recoverable])]),
    ])
    store = _Item({0x3001: u("alice@example.co.jp"), 0x35E3: entry_id(32866)})
    return _Pff(root, store, orphans=[orphan, not_message])


def _walk(pff: _Pff, **options):
    ctx = ExtractionContext(options=options)
    return list(_Store(pff, "unicode_4k", "ost", ctx).events()), ctx


def test_walk_roles_orphans_damage_and_codepages():
    events, ctx = _walk(stand_in(), internal_domains=["example.co.jp"], mail_body_preview=4)
    assert ctx.errors == [
        "attachment cut.bin: content ends after 90 of 100 bytes",
        "attachment 4 unreadable: unable to retrieve",
        "folder Top of Information Store/Notes: item 2 unreadable: read failed"]
    assert ctx.warnings == []
    assert [(e.data["subject"], e.timestamp_desc, e.timestamp.iso() if e.timestamp else None)
            for e in events] == [
        ("顧客リスト", "Sent; Received", "2025-04-01T00:15:30.0000000Z"),
        ("顧客リスト", "Created", "2025-04-01T00:16:00.0000000Z"),
        ("給与明細", "Message Times Not Set", None),
        ("memo", "Message Times Not Set", None),
        ("purged", "Created", "2025-04-01T00:16:00.0000000Z"),
        ("lost", "Received", "2025-04-01T00:15:30.0000000Z"),
    ]
    first = events[0].data
    assert first["folder_path"] == "Top of Information Store/削除済みアイテム"
    assert (first["folder_role"], first["deleted_folder"], first["recoverable_items"]) == (
        "deleted_items", True, False)
    assert (first["store_name"], first["pst_format"], first["file_type"]) == (
        "alice@example.co.jp", "unicode_4k", "ost")
    assert (first["importance"], first["read"], first["has_attachments"]) == ("high", True, True)
    assert first["sender_address"] == "alice@example.co.jp" and first["sender_external"] is False
    assert first["to"] == ["taro@gmail.com"] and first["cc"] == ["/o=Example/cn=bob"]
    assert first["bcc"] == ["carol@partner.example.org"]
    assert first["external_recipients"] == ["taro@gmail.com", "carol@partner.example.org"]
    assert first["freemail_recipients"] == ["taro@gmail.com"]
    assert first["attachment_names"] == ["顧客名簿.xlsx", "Fwd: old", "cut.bin", None]
    assert first["attachment_sha256"] == [hashlib.sha256(b"x" * 3_000_000).hexdigest(), None,
                                          None, None]
    assert [(x["size"], x["method"]) for x in first["attachments"]] == [
        (3_000_000, "by_value"), (None, "embedded_message"), (100, "by_value"), (None, None)]
    assert first["attachment_count"] == 4 and first["body_preview"] == "本文テキ"
    assert events[0].message == (
        'Mail "顧客リスト" from Alice Sato <alice@example.co.jp> to taro@gmail.com, '
        "/o=Example/cn=bob, carol@partner.example.org (4 attachments) "
        "[alice@example.co.jp: Top of Information Store/削除済みアイテム] "
        "(in a deleted-items folder)")

    ansi = events[2].data  # ANSI strings in the message's code page (932), header fallback
    assert ansi["folder_path"] == "Top of Information Store/削除済みアイテム/old"
    assert ansi["deleted_folder"] is True and ansi["folder_role"] is None
    assert (ansi["sender_name"], ansi["sender_address"]) == ("経理", "keiri@example.co.jp")
    assert ansi["recipients"] == [
        {"type": "to", "name": None, "address": "a@example.co.jp", "address_type": "SMTP"},
        {"type": "to", "name": "B", "address": "b@mail.example.net", "address_type": "SMTP"},
        {"type": "cc", "name": None, "address": "c@docomo.ne.jp", "address_type": "SMTP"}]
    assert ansi["freemail_recipients"] == ["c@docomo.ne.jp"]
    assert ansi["time_roles"] == [] and ansi["body_preview"] is None

    recoverable = events[4].data
    assert (recoverable["folder_path"], recoverable["folder_role"],
            recoverable["deleted_folder"], recoverable["recoverable_items"]) == (
        "Recoverable Items/Purges", None, True, True)
    orphan = events[5]
    assert orphan.data["orphan"] is True and orphan.data["folder_path"] is None
    assert orphan.message.endswith("[alice@example.co.jp: orphan item] "
                                   "(orphan item: in no folder, possibly deleted)")
    assert item_kind(events[3].data["message_class"]) == "Note"


def test_error_listing_is_bounded(monkeypatch):
    monkeypatch.setattr(pst_module, "MAX_ERRORS_LISTED", 2)
    broken = [OSError(f"x. libpff: bad {n}.") for n in range(5)]
    root = _Folder(None, 1, subfolders=[_Folder("Inbox", 2, items=broken)])
    events, ctx = _walk(_Pff(root, None))
    assert events == []
    assert ctx.errors == ["folder Inbox: item 1 unreadable: bad 0",
                          "folder Inbox: item 2 unreadable: bad 1",
                          "3 more unreadable items not listed"]
    assert ctx.warnings == ["no message store: folder roles taken from folder names only"]


def test_depth_is_bounded(monkeypatch):
    monkeypatch.setattr(pst_module, "MAX_FOLDER_DEPTH", 3)
    item = _Item({0x001A: u("IPM.Note"), 0x0037: u("deep"), 0x3007: t(T_CREATED)})
    deepest = _Folder("d4", 5, items=[item])
    chain = _Folder("d3", 4, items=[item], subfolders=[deepest])
    chain = _Folder("d2", 3, subfolders=[chain])
    root = _Folder(None, 1, subfolders=[_Folder("d1", 2, subfolders=[chain])])
    events, ctx = _walk(_Pff(root, None))
    assert [e.data["folder_path"] for e in events] == ["d1/d2/d3"]
    assert "folder d1/d2/d3: sub-folders deeper than 3 levels not read" in ctx.warnings


def test_small_helpers():
    assert strip_subject_prefix("\x01\x05RE: x") == "RE: x"
    assert strip_subject_prefix("plain") == "plain" and strip_subject_prefix(None) is None
    assert (codec_for(932), codec_for(1252), codec_for(65001), codec_for(20127)) == (
        "cp932", "cp1252", "utf-8", "ascii")
    assert codec_for(None) is None and codec_for(12345) is None
    assert [item_kind(c) for c in ("IPM.Note", "IPM.Schedule.Meeting.Request", "REPORT.IPM.Note.NDR",
                                   "IPM.Note.SMIME", None, "IPM.Custom")] == [
        "Mail", "Meeting", "Report", "Mail", "Item", "IPM.Custom"]


# ---------------------------------------------------------------- address classification


def test_address_normalisation():
    n = maildomains.normalize_address
    assert n(" <Taro.Yamada@Gmail.COM> ") == "taro.yamada@gmail.com"
    assert n("SMTP:Bob@Example.co.jp") == "bob@example.co.jp"
    assert n("mailto:a@b.example") == "a@b.example"
    assert n("/o=Example/ou=Exchange/cn=Recipients/cn=bob") is None
    assert n("Taro Yamada") is None and n("") is None and n(None) is None and n("a@") is None
    assert maildomains.domain_of("x@ＥＸＡＭＰＬＥ.jp") is not None
    assert maildomains.is_exchange_dn("/O=INRS/OU=X/CN=RECIPIENTS/CN=Y")


def test_classify():
    internal = ["example.co.jp"]
    c = maildomains.classify
    assert c("boss@example.co.jp", internal) == maildomains.AddressClass(
        "boss@example.co.jp", "example.co.jp", True, False)
    assert c("x@sales.example.co.jp", internal).internal is True  # sub-domain
    assert c("x@notexample.co.jp", internal).external is True
    assert c("x@gmail.com", internal) == maildomains.AddressClass("x@gmail.com", "gmail.com",
                                                                  False, True)
    assert c("x@ab.biglobe.ne.jp", internal).freemail is True  # sub-domain of a listed one
    assert c("x@gmail.com", []).internal is None  # internal domains unknown
    assert c("/o=Org/cn=bob", internal).internal is True
    assert c("/o=Org/cn=bob", None).internal is None
    assert c("Bob", internal) == maildomains.AddressClass(None, None, None, False)
    assert maildomains.summarize(["a@gmail.com", "A@gmail.com", "b@example.co.jp", "Bob"],
                                 internal) == {
        "external_recipients": ["a@gmail.com"], "external_recipient_count": 1,
        "freemail_recipients": ["a@gmail.com"], "freemail_recipient_count": 1,
        "internal_domains_known": True}
    assert maildomains.summarize(["a@gmail.com"], None)["external_recipients"] == []
    assert maildomains.sender_fields("a@gmail.com", None) == {"sender_external": None,
                                                              "sender_freemail": True}


def test_freemail_list_extension_and_errors(tmp_path):
    extra = tmp_path / "defs" / "lists"
    extra.mkdir(parents=True)
    (extra / "freemail_domains.yaml").write_text("freemail:\n  - corp-webmail.example\n",
                                                 encoding="utf-8")
    shipped = maildomains.shipped_list()
    ctx = ExtractionContext(definition_dirs=[str(Path(shipped).parents[1]), str(tmp_path / "defs")])
    lists = maildomains.freemail_for(ctx)
    assert lists.contains("corp-webmail.example") and lists.contains("gmail.com")
    assert not lists.contains("example.co.jp") and not lists.contains(None)
    (extra / "freemail_domains.yaml").write_text("webmail:\n  - x.example\n", encoding="utf-8")
    ctx = ExtractionContext(definition_dirs=[str(Path(shipped).parents[1]), str(tmp_path / "defs")])
    lists = maildomains.freemail_for(ctx)
    assert lists.contains("gmail.com") and not lists.contains("x.example")
    assert len(ctx.errors) == 1 and "unknown key 'webmail'" in ctx.errors[0]
    with pytest.raises(maildomains.MailListError, match="is not a domain"):
        maildomains.FreemailDomains.from_mappings([("t", {"freemail": ["not a domain"]})])
    assert maildomains.internal_domains_for(
        ExtractionContext(options={"internal_domains": ["@Example.CO.JP"]})) == ["example.co.jp"]


# ---------------------------------------------------------------- through the CLI


def test_cli_outlook_profile_and_rules(cli, tmp_path):
    root = tmp_path / "evidence"
    outlook = root / "Users" / "alice" / "Documents" / "Outlook Files"
    outlook.mkdir(parents=True)
    (root / "Windows").mkdir()
    shutil.copyfile(samples("mail", "support.pst"), outlook / "support.pst")
    archive = root / "Users" / "alice" / "Desktop" / "old"
    archive.mkdir(parents=True)
    shutil.copyfile(samples("mail", "sample1.pst"), archive / "backup.pst")
    ost = root / "Users" / "alice" / "AppData" / "Local" / "Microsoft" / "Outlook"
    ost.mkdir(parents=True)
    (ost / "alice@example.co.jp.ost").write_bytes(b"garbage, not an OST")
    before = tree_digest(root)
    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json", "--internal-domain", "hackingteam.com",
                 "--internal-domain", "hackingteam.it")
    summary = json.loads(result.output)
    assert tree_digest(root) == before
    assert summary["per_artifact"]["OutlookPST"] == 37
    assert summary["errors"] == 1  # the garbage OST, recorded against that file only
    events = [e for e in read_jsonl(case) if e["artifact"] == "OutlookPST"]
    assert all(e["user"] == "alice" and e["family"] == "mail" for e in events)
    tagged = {(e["data"]["subject"], e["timestamp_desc"]): e["tags"] for e in events if e["tags"]}
    # the one message with attachments, sent to Gmail Bcc recipients from an internal address
    assert tagged == {("IMPORTANT: Support portal downtime for maintenance", "Sent; Received"):
                      ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002"]}
    sample1 = [e for e in events if e["source"]["path"].endswith("backup.pst")]
    assert len(sample1) == 3 and all(not e["tags"] for e in sample1)  # to microsoft.com, no rule
    assert summary["findings"] == {"high": 1, "medium": 1}
