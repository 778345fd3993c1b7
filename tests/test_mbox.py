"""mbox extractor (Thunderbird mail folders): built mbox files with Japanese headers and
attachments, Date parsing, bad and non-mbox input, and the mail rules through the CLI."""
from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, tree_digest  # noqa: E402
from fixtures.builders.mail_writer import (build_gloda, encoded_word, mbox_file,  # noqa: E402
                                           mime_message, prtime_from_iso)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import mbox as mbox_module  # noqa: E402
from triage.extractors.mbox import (MboxExtractor, decode_header_text, parse_date,  # noqa: E402
                                    parse_params, thunderbird_location)
from triage.files import LocalFile  # noqa: E402

PROFILE = "Users/alice/AppData/Roaming/Thunderbird/Profiles/k3x9a1b2.default-release"
LOCAL = f"{PROFILE}/Mail/Local Folders"
SHA = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731

CUSTOMERS = b"name,phone\nsato,03-0000-0000\n"
QUOTE = b"%PDF-1.4 quote"
MINUTES = b"meeting minutes"
ESTIMATE = b"%PDF-1.4 estimate"


def inbox_messages() -> list[bytes]:
    """Five messages: to Gmail with a customer list, an undated deleted one from a client, an
    internal one, one to a client with a raw UTF-8 file name, one to Gmail without files."""
    m1 = mime_message([
        ("From", "Alice Sato <alice@example.co.jp>"),
        ("To", encoded_word("山田太郎") + " <Taro.Yamada@gmail.com>"),
        ("Cc", "boss@example.co.jp"),
        ("Subject", encoded_word("顧客名簿の件")),
        ("Date", "Tue, 01 Apr 2025 09:15:30 +0900 (JST)"),
        ("Message-ID", "<m1@example.co.jp>"),
        ("X-Mozilla-Status", "0001"),
        ("X-Mozilla-Status2", "00000000"),
    ], body="see attached\n", attachments=[
        ('filename="' + encoded_word("顧客名簿") + '.csv"', CUSTOMERS, "text/csv")])
    m2 = mime_message([
        ("From", "Partner <partner@client.example.com>"),
        ("To", "alice@example.co.jp"),
        ("Subject", "Quote"),
        ("Date", "Tue, 01 Apr 2025 10:00:00"),
        ("X-Mozilla-Status", "0009"),
    ], body="hello", attachments=[("filename*=UTF-8''%E8%A6%8B%E7%A9%8D.pdf", QUOTE,
                                   "application/pdf")])
    m3 = mime_message([
        ("From", "alice@example.co.jp"),
        ("To", "Bob <bob@sales.example.co.jp>"),
        ("Subject", "minutes"),
        ("Date", "Wed, 2 Apr 2025 01:00:00 +0000"),
        ("X-Mozilla-Status", "0001"),
        ("X-Mozilla-Status2", "00200000"),
    ], body="internal", attachments=[('filename="minutes.txt"', MINUTES, "text/plain")])
    m4 = mime_message([
        ("From", "alice@example.co.jp"),
        ("To", "partner@client.example.com"),
        ("Bcc", "alice.private@yahoo.co.jp"),
        ("Subject", "見積書".encode("utf-8")),  # raw 8-bit header, as some mailers write
        ("Date", "2 Apr 2025 18:30 JST"),
    ], body="estimate", attachments=[('filename="見積書.pdf"'.encode("utf-8"), ESTIMATE,
                                      "application/pdf")])
    m5 = (b"From: alice@example.co.jp\nTo: friend@gmail.com\nSubject: lunch\n"
          b"Date: Thu, 03 Apr 2025 12:00:00 -0500\nX-Mozilla-Status: 1003\n\n"
          b"From here we walk.\nsee you\n")
    return [m1, m2, m3, m4, m5]


def make_profile(root: Path) -> Path:
    """A system-drive-like folder with one Thunderbird profile."""
    local = root / LOCAL
    local.mkdir(parents=True)
    (root / "Windows").mkdir()
    (local / "Inbox").write_bytes(mbox_file(inbox_messages()))
    (local / "Inbox.msf").write_bytes(b"// <!-- <mdb:mork:z v=\"1.4\"/> -->\n")
    (local / "Trash").write_bytes(b"")
    sub = local / "Archives.sbd"
    sub.mkdir()
    (sub / "2025").write_bytes(mbox_file([mime_message([
        ("From", "alice@example.co.jp"), ("To", "carol@partner.example.org"),
        ("Subject", "payroll"), ("Date", "Fri, 04 Apr 2025 08:00:00 +0900")],
        body="x", attachments=[('filename="salary_2025.xlsx"', b"salaries", "application/zip")])],
        separator="From - Fri Apr 04 08:00:01 2025"))
    return root


def _extract(path: Path, vpath: str, **options):
    ctx = ExtractionContext(options=options)
    return list(MboxExtractor().extract(LocalFile(str(path), path=vpath), ctx)), ctx


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    return make_profile(tmp_path / "evidence")


def test_every_message_exact(profile):
    inbox = profile / LOCAL / "Inbox"
    events, ctx = _extract(inbox, f"/{LOCAL}/Inbox", internal_domains=["example.co.jp"])
    assert ctx.warnings == [] and ctx.errors == [] and ctx.notes == []
    assert [(e.timestamp.iso() if e.timestamp else None, e.timestamp_desc) for e in events] == [
        ("2025-04-01T00:15:30Z", "Sent"), (None, "Sent"), ("2025-04-02T01:00:00Z", "Sent"),
        ("2025-04-02T09:30:00Z", "Sent"), ("2025-04-03T17:00:00Z", "Sent")]
    assert [e.message for e in events] == [
        'Mail "顧客名簿の件" from Alice Sato <alice@example.co.jp> to taro.yamada@gmail.com, '
        "boss@example.co.jp (1 attachment) [Local Folders: Inbox]",
        'Mail "Quote" from Partner <partner@client.example.com> to alice@example.co.jp '
        "(1 attachment) [Local Folders: Inbox] (deleted, still in the mbox file) "
        "(the Date header gives no usable time)",
        'Mail "minutes" from alice@example.co.jp to bob@sales.example.co.jp (1 attachment) '
        "[Local Folders: Inbox] (deleted, still in the mbox file)",
        'Mail "見積書" from alice@example.co.jp to partner@client.example.com, '
        "alice.private@yahoo.co.jp (1 attachment) [Local Folders: Inbox]",
        'Mail "lunch" from alice@example.co.jp to friend@gmail.com [Local Folders: Inbox]',
    ]
    first = events[0].data
    size = first["message_size"]
    assert first == {
        "mailbox_format": "mbox", "account": "Local Folders", "folder": "Inbox",
        "deleted_folder": False, "message_index": 1, "mbox_offset": 0, "message_size": size,
        "truncated": False, "message_id": "<m1@example.co.jp>", "subject": "顧客名簿の件",
        "date_header": "Tue, 01 Apr 2025 09:15:30 +0900 (JST)", "date_offset": "+09:00",
        "sender_name": "Alice Sato", "sender_address": "alice@example.co.jp",
        "to": ["taro.yamada@gmail.com"], "cc": ["boss@example.co.jp"], "bcc": [],
        "recipients": [{"type": "to", "name": "山田太郎", "address": "taro.yamada@gmail.com"},
                       {"type": "cc", "name": None, "address": "boss@example.co.jp"}],
        "has_attachments": True, "attachment_count": 1, "attachment_names": ["顧客名簿.csv"],
        "attachment_sha256": [SHA(CUSTOMERS)],
        "attachments": [{"name": "顧客名簿.csv", "size": len(CUSTOMERS), "sha256": SHA(CUSTOMERS),
                         "mime_type": "text/csv", "inline": False}],
        "mozilla_status": 1, "mozilla_status2": 0, "read": True, "replied": False,
        "forwarded": False, "flagged": False, "deleted": False,
        "external_recipients": ["taro.yamada@gmail.com"], "external_recipient_count": 1,
        "freemail_recipients": ["taro.yamada@gmail.com"], "freemail_recipient_count": 1,
        "internal_domains_known": True, "sender_external": False, "sender_freemail": False,
        "time_roles": ["Sent"],
    }
    raw = inbox.read_bytes()
    assert raw[:5] == b"From " and events[1].data["mbox_offset"] == 32 + size  # separator + message
    assert raw[events[1].data["mbox_offset"]:].startswith(b"From - Tue Apr 01 09:00:00 2025\n")

    second = events[1].data
    assert second["date_header"] == "Tue, 01 Apr 2025 10:00:00" and second["date_offset"] is None
    assert second["attachment_names"] == ["見積.pdf"] and second["attachment_sha256"] == [SHA(QUOTE)]
    assert (second["deleted"], second["read"], second["mozilla_status"]) == (True, True, 9)
    assert (second["sender_external"], second["external_recipient_count"]) == (True, 0)

    third = events[2].data
    assert (third["deleted"], third["mozilla_status2"]) == (True, 0x00200000)
    assert third["external_recipients"] == [] and third["to"] == ["bob@sales.example.co.jp"]

    fourth = events[3].data
    assert fourth["subject"] == "見積書" and fourth["attachment_names"] == ["見積書.pdf"]
    assert fourth["bcc"] == ["alice.private@yahoo.co.jp"] and fourth["date_offset"] == "+09:00"
    assert fourth["external_recipients"] == ["partner@client.example.com",
                                             "alice.private@yahoo.co.jp"]
    assert fourth["freemail_recipients"] == ["alice.private@yahoo.co.jp"]
    assert fourth["deleted"] is None and fourth["read"] is None  # no X-Mozilla-Status

    fifth = events[4].data
    assert (fifth["has_attachments"], fifth["attachment_names"]) == (False, [])
    # 0x1003: read, replied, forwarded; the escaped ">From here" body line did not split it
    assert (fifth["read"], fifth["replied"], fifth["forwarded"]) == (True, True, True)
    assert fifth["date_offset"] == "-05:00"
    assert all(e.user is None for e in events)
    assert "body_preview" not in first


def test_without_internal_domains_external_is_unknown(profile):
    events, _ = _extract(profile / LOCAL / "Inbox", f"/{LOCAL}/Inbox")
    first = events[0].data
    assert first["internal_domains_known"] is False and first["external_recipients"] == []
    assert first["sender_external"] is None
    assert first["freemail_recipients"] == ["taro.yamada@gmail.com"]


def test_body_preview_on_request(profile):
    events, _ = _extract(profile / LOCAL / "Inbox", f"/{LOCAL}/Inbox", mail_body_preview=7)
    # the mbox's ">From " escape of a body line is kept as the file has it
    assert [e.data["body_preview"] for e in events] == ["see att", "hello", "interna",
                                                         "estimat", ">From h"]


def test_subfolder_and_trash_location(profile):
    events, _ = _extract(profile / LOCAL / "Archives.sbd" / "2025",
                         f"/{LOCAL}/Archives.sbd/2025")
    assert [(e.data["account"], e.data["folder"], e.data["attachment_names"]) for e in events] \
        == [("Local Folders", "Archives/2025", ["salary_2025.xlsx"])]
    assert thunderbird_location(f"/{PROFILE}/ImapMail/imap.gmail.com/INBOX.sbd/Work") == \
        ("imap.gmail.com", "INBOX/Work")
    assert thunderbird_location("/loose/Sent") == (None, "Sent")
    trash = profile / "Trash-copy"
    trash.write_bytes(mbox_file([b"From: a@b.example\nSubject: gone\n\nx\n"]))
    events, _ = _extract(trash, f"/{LOCAL}/Trash")
    assert events[0].data["deleted_folder"] is True and events[0].timestamp is None
    assert events[0].message.endswith("(no Date header)")


class _ReadOnly:
    """A file object like the image source's: read/seek/tell, no readline."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.pos + size
        chunk = self.data[self.pos:end]
        self.pos += len(chunk)
        return chunk

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset
        return offset

    def tell(self) -> int:
        return self.pos

    def close(self) -> None:
        pass


def test_file_object_without_readline(profile):
    inbox = profile / LOCAL / "Inbox"
    expected, _ = _extract(inbox, f"/{LOCAL}/Inbox")

    class Wrapped(LocalFile):
        def open(self):
            return _ReadOnly(inbox.read_bytes())

    ctx = ExtractionContext()
    events = list(MboxExtractor().extract(Wrapped(str(inbox), path=f"/{LOCAL}/Inbox"), ctx))
    assert [e.data for e in events] == [e.data for e in expected] and len(events) == 5


@pytest.mark.parametrize("content", [
    b"", b"// <!-- <mdb:mork:z v=\"1.4\"/> -->\n", b"<html>filter log</html>",
    b"\x00\x01\x02 binary", b"From:not-a-separator@example.com\n",
])
def test_non_mbox_files_give_nothing_quietly(tmp_path, content):
    path = tmp_path / "Inbox.msf"
    path.write_bytes(content)
    events, ctx = _extract(path, f"/{LOCAL}/Inbox.msf")
    assert events == [] and ctx.warnings == [] and ctx.errors == [] and ctx.notes == []


def test_oversized_message_headers_only(tmp_path, monkeypatch):
    monkeypatch.setattr(mbox_module, "MAX_MESSAGE_BYTES", 400)
    big = mime_message([("From", "alice@example.co.jp"), ("To", "x@gmail.com"),
                        ("Subject", "big"), ("Date", "Tue, 01 Apr 2025 09:00:00 +0000")],
                       body="y" * 2000, attachments=[('filename="a.bin"', b"z" * 2000,
                                                      "application/octet-stream")])
    small = b"From: b@example.org\nSubject: after\nDate: Tue, 01 Apr 2025 10:00:00 +0000\n\nok\n"
    path = tmp_path / "Inbox"
    path.write_bytes(mbox_file([big, small]))
    events, ctx = _extract(path, f"/{LOCAL}/Inbox")
    assert [e.data["subject"] for e in events] == ["big", "after"]
    assert events[0].data["truncated"] is True and events[0].data["attachment_names"] == []
    assert events[0].timestamp.iso() == "2025-04-01T09:00:00Z"
    assert events[1].data["truncated"] is False
    assert ctx.warnings == [f"message 1 at offset 0 is {events[0].data['message_size']} bytes "
                            "(over 400): headers only, attachments not listed"]


def test_damaged_mime_is_read_as_far_as_it_goes(tmp_path):
    broken = (b"From: alice@example.co.jp\nTo: x@gmail.com, , <broken\nSubject: =?UTF-8?B?####?=\n"
              b"Date: 99 Foo 2025 25:61:00 +0900\nX-Mozilla-Status: zz\n"
              b'Content-Type: multipart/mixed; boundary="b"\n\n--b\n'
              b"Content-Disposition: attachment; filename=\"cut.bin\"\n"
              b"Content-Transfer-Encoding: base64\n\nAAAA=\x00=\n")  # no closing boundary
    path = tmp_path / "Inbox"
    path.write_bytes(mbox_file([broken]))
    events, ctx = _extract(path, f"/{LOCAL}/Inbox")
    assert len(events) == 1 and ctx.errors == []
    data = events[0].data
    assert events[0].timestamp is None and data["mozilla_status"] is None
    assert data["attachment_names"] == ["cut.bin"] and data["to"][0] == "x@gmail.com"


@pytest.mark.parametrize("text, iso, offset", [
    ("Mon, 15 Mar 2010 10:12:05 -0700", "2010-03-15T17:12:05Z", "-07:00"),
    ("Mon, 15 Mar 2010 10:12:05 -0000", "2010-03-15T10:12:05Z", "-00:00"),
    ("15 Mar 10 10:12 EST", "2010-03-15T15:12:00Z", "-05:00"),
    ("Tue, 1 Apr 2025 09:00:00 +0900 (JST)", "2025-04-01T00:00:00Z", "+09:00"),
    ("Sun, 31 Dec 2028 23:59:60 GMT", "2029-01-01T00:00:00Z", "+00:00"),
    ("Mon, 15 Mar 2010 10:12:05", None, None),
    ("Mon, 15 Mar 2010 10:12:05 A", None, None),
    ("Mon, 15 Mar 2010 10:12:05 CEST", None, None),
    ("Mon, 31 Feb 2010 10:12:05 +0000", None, None),
    ("not a date", None, None),
    (None, None, None),
])
def test_date_header(text, iso, offset):
    stamp, zone = parse_date(text)
    assert (stamp.iso() if stamp else None, zone) == (iso, offset)


def test_header_and_parameter_decoding():
    assert decode_header_text("=?ISO-2022-JP?B?GyRCOFw1Ukw+Sm0kTjdvGyhC?=") == "顧客名簿の件"
    assert decode_header_text("Re: =?UTF-8?B?6aGn5a6i?=\n =?UTF-8?B?5ZCN57C/?=") == "Re: 顧客名簿"
    sjis = "給与.xlsx".encode("cp932").decode("ascii", "surrogateescape")
    assert decode_header_text(sjis) == "給与.xlsx"
    assert parse_params("attachment; filename*0*=UTF-8''%E5%90%8D; filename*1*=%E7%B0%BF; "
                        'filename*2=".xlsx"') == {"filename": "名簿.xlsx"}
    assert parse_params('attachment; filename="a;b \\"q\\".txt"') == {"filename": 'a;b "q".txt'}
    assert parse_params("inline") == {}


def test_cli_thunderbird_profile_and_mail_rules(cli, profile, tmp_path):
    build_gloda(profile / PROFILE / "global-messages-db.sqlite", {
        "folderLocations": [{"id": 1, "folderURI": "mailbox://nobody@Local%20Folders/Inbox",
                             "dirtyStatus": 0, "name": "Inbox", "indexingPriority": 0}],
        "conversations": [{"id": 1, "subject": "old list"}],
        "messages": [{"id": 1, "folderID": 1, "messageKey": 4096, "conversationID": 1,
                      "date": prtime_from_iso("2025-03-01T00:00:00.000001Z"),
                      "headerMessageID": "old@example.co.jp", "deleted": 1}],
        "messagesText_content": [{"docid": 1, "c1subject": "old list",
                                  "c2attachmentNames": "名簿.csv",
                                  "c3author": "Alice Sato <alice@example.co.jp>",
                                  "c4recipients": "Taro <taro.yamada@gmail.com>"}],
    })
    before = tree_digest(profile)
    case = tmp_path / "case"
    result = cli("run", profile, "-o", case, "--json", "--internal-domain", "example.co.jp")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    counts = {k: v for k, v in summary["per_artifact"].items() if v}
    assert counts == {"ThunderbirdGloda": 1, "ThunderbirdMbox": 6}
    assert (summary["errors"], summary["warnings"]) == (0, 0)  # .msf and empty Trash: quiet
    assert tree_digest(profile) == before
    events = read_jsonl(case)
    mail = [e for e in events if e["family"] == "mail"]
    assert all(e["user"] == "alice" for e in mail)
    tagged = sorted((e["data"]["subject"], sorted(e["tags"])) for e in mail if e["tags"])
    assert tagged == [
        ("old list", ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]),
        ("payroll", ["TRIAGE-MAIL-001", "TRIAGE-MAIL-003"]),
        ("見積書", ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002"]),
        ("顧客名簿の件", ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]),
    ]
    # not fired: "Quote" (external sender), "minutes" (internal only), "lunch" (no attachment)
    assert summary["findings"] == {"high": 2, "medium": 1}

    plain = tmp_path / "plain"
    result = cli("run", profile, "-o", plain, "--json")
    events = read_jsonl(plain)
    tagged = sorted((e["data"]["subject"], sorted(e["tags"])) for e in events if e["tags"])
    assert tagged == [  # no --internal-domain: MAIL-001 cannot tell what is external
        ("old list", ["TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]),
        ("payroll", ["TRIAGE-MAIL-003"]),
        ("見積書", ["TRIAGE-MAIL-002"]),
        ("顧客名簿の件", ["TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]),
    ]
    assert json.loads(result.output)["findings"] == {"high": 2}


def test_cli_body_preview_option(cli, profile, tmp_path):
    plain, preview = tmp_path / "plain", tmp_path / "preview"
    assert cli("run", profile, "-o", plain, "--quiet").exit_code == 0
    assert not any("body_preview" in e["data"] for e in read_jsonl(plain))
    assert cli("run", profile, "-o", preview, "--quiet", "--mail-body-preview", "7").exit_code == 0
    previews = sorted(e["data"]["body_preview"] for e in read_jsonl(preview)
                      if e["data"].get("body_preview"))
    assert previews and all(len(p) <= 7 for p in previews)
    assert "see att" in previews
    manifest = json.loads((preview / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["options"]["extractor_options"]["mail_body_preview"] == 7


def test_user_created_folders_are_found_and_index_files_left_out(cli, profile, tmp_path):
    local = profile / LOCAL
    own = local / "顧客対応"  # a folder the user created, with a sub-folder
    own.write_bytes(mbox_file([mime_message([
        ("From", "alice@example.co.jp"), ("To", "Taro.Yamada@gmail.com"),
        ("Subject", "list"), ("Date", "Sat, 05 Apr 2025 08:00:00 +0900")],
        body="x", attachments=[('filename="meibo.csv"', CUSTOMERS, "text/csv")])]))
    (local / "顧客対応.msf").write_bytes(b"// <!-- <mdb:mork:z v=\"1.4\"/> -->\n")
    (local / "顧客対応.sbd").mkdir()
    (local / "顧客対応.sbd" / "2026 plan").write_bytes(mbox_file([mime_message([
        ("From", "alice@example.co.jp"), ("To", "bob@example.co.jp"),
        ("Subject", "plan"), ("Date", "Sun, 06 Apr 2025 08:00:00 +0900")], body="y")]))
    (local / "msgFilterRules.dat").write_bytes(b'version="9"\n')
    (local / "notes").write_bytes(b"not a mail folder\n")  # found, read, passed over quietly
    case = tmp_path / "case"
    result = cli("run", profile, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["per_artifact"]["ThunderbirdMbox"] == 8
    subjects = {e["data"]["subject"]: e["data"]["folder"] for e in read_jsonl(case)
                if e["artifact"] == "ThunderbirdMbox"}
    assert subjects["list"] == "顧客対応" and subjects["plan"] == "顧客対応/2026 plan"
    import sqlite3
    with sqlite3.connect(case / "case.sqlite") as db:
        read = {row[0].rsplit("/", 1)[-1] for row in db.execute(
            "SELECT path FROM sources WHERE artifact = 'ThunderbirdMbox'")}
    assert not any(name.endswith((".msf", ".dat")) for name in read)
    assert {"顧客対応", "2026 plan", "Inbox", "notes"} <= read


def test_loose_files_are_not_all_mbox_candidates(cli, tmp_path):
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "Inbox").write_bytes(mbox_file(inbox_messages()[:1]))
    (loose / "readme").write_bytes(b"From the desk of nobody\n")  # no catch-all by name
    case = tmp_path / "case"
    result = cli("run", loose, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    import sqlite3
    with sqlite3.connect(case / "case.sqlite") as db:
        paths = [row[0] for row in db.execute("SELECT path FROM sources")]
    assert paths == ["/Inbox"]


def test_charset_name_with_nul_is_not_a_crash(tmp_path):
    """Fuzzing regression: a declared charset holding a NUL made codecs raise ValueError
    ("embedded null character"), neither UnicodeDecodeError nor LookupError."""
    raw = (b"From - Tue Apr 01 09:00:00 2025\n"
           b"From: alice@example.co.jp\nSubject: =?ISO-2022\x00-JP?B?GyRCOFw1UhsoQg==?=\n"
           b"Content-Type: text/plain; charset=\"utf\x00-8\"\n\nbody\n")
    path = tmp_path / "Inbox"
    path.write_bytes(raw)
    events, ctx = _extract(path, f"/{LOCAL}/Inbox", mail_body_preview=10)
    assert len(events) == 1
    assert events[0].data["subject"]


def test_raw_8bit_byte_in_rfc2231_filename_is_not_a_crash(tmp_path):
    """Fuzzing regression: a raw 8-bit byte inside an RFC 2231 `filename*=` value reached
    urllib's unquote as a surrogate escape (UnicodeEncodeError)."""
    raw = (b"From - Tue Apr 01 09:00:00 2025\n"
           b"From: alice@example.co.jp\nSubject: x\nMIME-Version: 1.0\n"
           b'Content-Type: multipart/mixed; boundary="B"\n\n--B\nContent-Type: text/plain\n\nhi\n'
           b"--B\nContent-Type: application/pdf\n"
           b"Content-Disposition: attachment; filename*=UTF-8''%E8%A6\xa8.pdf\n\n%PDF\n--B--\n")
    path = tmp_path / "Inbox"
    path.write_bytes(raw)
    events, ctx = _extract(path, f"/{LOCAL}/Inbox")
    assert len(events) == 1
    assert events[0].data["attachment_count"] == 1
    assert events[0].data["attachment_names"][0].endswith(".pdf")
