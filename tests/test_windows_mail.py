"""Windows Mail / Windows Live Mail `.eml` messages and the Windows 10/11 Mail app attachment
cache: exact values from messages built here, the mbox extractor's fields, bad input, and the
mail rules through the CLI."""
from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import read_jsonl, tree_digest  # noqa: E402
from fixtures.builders.mail_writer import encoded_word, mbox_file, mime_message  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import windows_mail as wm  # noqa: E402
from triage.extractors.mbox import MboxExtractor  # noqa: E402
from triage.extractors.windows_mail import (WindowsMailAttachmentCache,  # noqa: E402
                                            WindowsMailEml, cached_attachment, eml_location)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

SHA = lambda data: hashlib.sha256(data).hexdigest()  # noqa: E731
WM = "Users/alice/AppData/Local/Microsoft/Windows Mail/Local Folders"
WLM = "Users/bob/AppData/Local/Microsoft/Windows Live Mail"
APP = ("Users/alice/AppData/Local/Packages/microsoft.windowscommunicationsapps_8wekyb3d8bbwe/"
       "LocalState")
SENT_NAME = "{8F3A1C2E-0B4D-4E5F-9A6B-7C8D9E0F1A2B}.eml"

CUSTOMERS = b"name,phone\r\nsato,03-0000-0000\r\n"
MINUTES = b"minutes of the meeting"
QUOTE_ZIP = b"PK\x05\x06" + bytes(18)  # an empty zip archive
CSV = b"id,amount\n1,100\n"


def crlf(message: bytes) -> bytes:
    """Windows Mail writes .eml files with CRLF line ends."""
    return message.replace(b"\n", b"\r\n")


def sent_message() -> bytes:
    return crlf(mime_message([
        ("From", encoded_word("佐藤花子") + " <Hanako.Sato@example.co.jp>"),
        ("To", "Taro <taro.yamada@gmail.com>, partner@client.example.com"),
        ("Cc", "boss@example.co.jp"),
        ("Subject", encoded_word("顧客名簿送付")),
        ("Date", "Wed, 2 Apr 2025 18:30:15 +0900"),
        ("Message-ID", "<wm1@example.co.jp>"),
        ("X-Mailer", "Microsoft Windows Mail 6.0.6002.18197"),
    ], body="attached\n", attachments=[
        ('filename="' + encoded_word("顧客名簿") + '.xlsx"', CUSTOMERS,
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ('filename="minutes.txt"', MINUTES, "text/plain")]))


def inbox_message() -> bytes:
    return crlf(mime_message([
        ("From", "Partner <partner@client.example.com>"),
        ("To", "hanako.sato@example.co.jp"),
        ("Subject", "Re: schedule"),
        ("Date", "Thu, 03 Apr 2025 10:00:00 +0000"),
    ], body="ok"))


def live_mail_message() -> bytes:
    """Raw 8-bit Shift_JIS headers, as some Japanese mailers write them, and no Date zone."""
    return crlf(mime_message([
        ("From", "bob@example.co.jp"),
        ("To", "private.bob@yahoo.co.jp"),
        ("Subject", "給与明細".encode("cp932")),
        ("Date", "Fri, 04 Apr 2025 08:00:00"),
    ], body="x", attachments=[('filename="給与.xlsx"'.encode("cp932"), b"salary",
                               "application/octet-stream")]))


def make_system(root: Path) -> Path:
    """A system-drive-like folder: Windows Mail for alice, Windows Live Mail for bob, the
    Windows 10 Mail app's attachment cache and its (unread) store.vol."""
    (root / "Windows").mkdir(parents=True)
    sent = root / WM / "Sent Items"
    sent.mkdir(parents=True)
    (sent / SENT_NAME).write_bytes(sent_message())
    inbox = root / WM / "Inbox"
    inbox.mkdir(parents=True)
    (inbox / "{00000000-0000-0000-0000-000000000001}.eml").write_bytes(inbox_message())
    deleted = root / WLM / "Storage Folders" / "Deleted Items"
    deleted.mkdir(parents=True)
    (deleted / "00294823-00000147.eml").write_bytes(live_mail_message())
    (root / WLM / "Storage Folders" / "Deleted Items" / "WindowsLiveMail.edb").write_bytes(b"x")
    cache = root / APP / "Files" / "S0" / "3" / "Attachments"
    cache.mkdir(parents=True)
    (cache / "quote[1].zip").write_bytes(QUOTE_ZIP)
    (cache / "CC GENERAL[39].csv").write_bytes(CSV)
    (cache / "notes.txt").write_bytes(b"")  # no "[n]" suffix: found in a walk all the same
    (root / APP / "HxStore.hxd").write_bytes(b"\x00" * 64)
    comms = root / "Users/alice/AppData/Local/Comms/UnistoreDB"
    comms.mkdir(parents=True)
    (comms / "store.vol").write_bytes(b"\xef\xcd\xab\x89" + b"\x00" * 60)
    return root


@pytest.fixture
def system(tmp_path: Path) -> Path:
    return make_system(tmp_path / "evidence")


def extract(extractor, path: Path, vpath: str, **options):
    ctx = ExtractionContext(options=options)
    return list(extractor.extract(LocalFile(str(path), path=vpath), ctx)), ctx


# ---------------------------------------------------------------- messages


def test_sent_message_exact(system):
    path = system / WM / "Sent Items" / SENT_NAME
    events, ctx = extract(WindowsMailEml(), path, f"/{WM}/Sent Items/{SENT_NAME}",
                          internal_domains=["example.co.jp"])
    assert (ctx.warnings, ctx.errors, ctx.notes) == ([], [], [])
    (event,) = events
    assert event.timestamp.iso() == "2025-04-02T09:30:15Z" and event.timestamp_desc == "Sent"
    assert event.user == "alice"
    assert event.message == (
        'Mail "顧客名簿送付" from 佐藤花子 <hanako.sato@example.co.jp> to taro.yamada@gmail.com, '
        "partner@client.example.com, boss@example.co.jp (2 attachments) "
        "[Windows Mail: Local Folders/Sent Items]")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert event.data == {
        "mailbox_format": "eml", "client": "Windows Mail", "account": "Local Folders",
        "folder": "Local Folders/Sent Items", "deleted_folder": False, "file_name": SENT_NAME,
        "message_index": 1, "mbox_offset": None, "message_size": path.stat().st_size,
        "truncated": False, "damaged": False, "mime_defects": [],
        "message_id": "<wm1@example.co.jp>", "subject": "顧客名簿送付",
        "date_header": "Wed, 2 Apr 2025 18:30:15 +0900", "date_offset": "+09:00",
        "sender_name": "佐藤花子", "sender_address": "hanako.sato@example.co.jp",
        "to": ["taro.yamada@gmail.com", "partner@client.example.com"],
        "cc": ["boss@example.co.jp"], "bcc": [],
        "recipients": [{"type": "to", "name": "Taro", "address": "taro.yamada@gmail.com"},
                       {"type": "to", "name": None, "address": "partner@client.example.com"},
                       {"type": "cc", "name": None, "address": "boss@example.co.jp"}],
        "has_attachments": True, "attachment_count": 2,
        "attachment_names": ["顧客名簿.xlsx", "minutes.txt"],
        "attachment_sha256": [SHA(CUSTOMERS), SHA(MINUTES)],
        "attachments": [
            {"name": "顧客名簿.xlsx", "size": len(CUSTOMERS), "sha256": SHA(CUSTOMERS),
             "mime_type": xlsx, "inline": False},
            {"name": "minutes.txt", "size": len(MINUTES), "sha256": SHA(MINUTES),
             "mime_type": "text/plain", "inline": False}],
        "mozilla_status": None, "mozilla_status2": None, "read": None, "replied": None,
        "forwarded": None, "flagged": None, "deleted": None,
        "external_recipients": ["taro.yamada@gmail.com", "partner@client.example.com"],
        "external_recipient_count": 2,
        "freemail_recipients": ["taro.yamada@gmail.com"], "freemail_recipient_count": 1,
        "internal_domains_known": True, "sender_external": False, "sender_freemail": False,
        "time_roles": ["Sent"],
    }


def test_same_fields_as_the_mbox_extractor(system, tmp_path):
    """The mail rules and reports read the mbox fields: every one is here, same values."""
    raw = sent_message()
    mbox = tmp_path / "Sent"
    mbox.write_bytes(mbox_file([raw]))
    (theirs,), _ = extract(MboxExtractor(), mbox, "/Sent", internal_domains=["example.co.jp"],
                           mail_body_preview=5)
    ours, _ = extract(WindowsMailEml(), system / WM / "Sent Items" / SENT_NAME,
                      f"/{WM}/Sent Items/{SENT_NAME}", internal_domains=["example.co.jp"],
                      mail_body_preview=5)
    mine = ours[0].data
    assert set(mine) - set(theirs.data) == {"client", "file_name", "damaged", "mime_defects"}
    assert set(theirs.data) <= set(mine)
    own = {"mailbox_format", "account", "folder", "mbox_offset", "message_size",
           "mozilla_status", "mozilla_status2", "read", "replied", "forwarded", "flagged",
           "deleted"}
    assert {k: v for k, v in mine.items() if k in theirs.data and k not in own} == \
        {k: v for k, v in theirs.data.items() if k not in own}
    assert mine["body_preview"] == "attac" and ours[0].timestamp == theirs.timestamp


def test_inbox_message_and_no_internal_domains(system):
    path = system / WM / "Inbox" / "{00000000-0000-0000-0000-000000000001}.eml"
    (event,), ctx = extract(WindowsMailEml(), path, f"/{WM}/Inbox/{path.name}")
    assert event.timestamp.iso() == "2025-04-03T10:00:00Z" and event.user == "alice"
    data = event.data
    assert (data["folder"], data["has_attachments"], data["attachment_names"]) == \
        ("Local Folders/Inbox", False, [])
    assert (data["internal_domains_known"], data["external_recipients"],
            data["sender_external"]) == (False, [], None)
    assert event.message == ('Mail "Re: schedule" from Partner <partner@client.example.com> '
                             "to hanako.sato@example.co.jp [Windows Mail: Local Folders/Inbox]")


def test_live_mail_raw_8bit_headers_deleted_folder_no_zone(system):
    path = system / WLM / "Storage Folders" / "Deleted Items" / "00294823-00000147.eml"
    (event,), ctx = extract(WindowsMailEml(), path,
                            f"/{WLM}/Storage Folders/Deleted Items/00294823-00000147.eml")
    assert ctx.warnings == [] and event.user == "bob"
    assert event.timestamp is None  # "Fri, 04 Apr 2025 08:00:00": no zone, no time
    data = event.data
    assert (data["client"], data["account"], data["folder"], data["deleted_folder"]) == \
        ("Windows Live Mail", "Storage Folders", "Storage Folders/Deleted Items", True)
    assert (data["subject"], data["attachment_names"]) == ("給与明細", ["給与.xlsx"])
    assert data["attachment_sha256"] == [SHA(b"salary")]
    assert (data["date_header"], data["date_offset"]) == ("Fri, 04 Apr 2025 08:00:00", None)
    assert data["freemail_recipients"] == ["private.bob@yahoo.co.jp"]
    assert event.message.endswith("[Windows Live Mail: Storage Folders/Deleted Items] "
                                  "(the Date header gives no usable time)")


def test_locations():
    assert eml_location(f"/{WM}/Sent Items/x.eml") == \
        wm.EmlLocation("Windows Mail", "Local Folders", "Local Folders/Sent Items")
    assert eml_location(f"/{WLM}/Hotmail (bob)/Inbox/Projects/x.eml") == \
        wm.EmlLocation("Windows Live Mail", "Hotmail (bob)", "Hotmail (bob)/Inbox/Projects")
    xp = ("/Documents and Settings/carol/Local Settings/Application Data/Microsoft/"
          "Windows Live Mail/imap.example.com/INBOX/x.eml")
    assert eml_location(xp) == \
        wm.EmlLocation("Windows Live Mail", "imap.example.com", "imap.example.com/INBOX")
    win8 = ("/Users/dan/AppData/Local/Packages/MICROSOFT.WINDOWSCOMMUNICATIONSAPPS_8WEKYB3D8BBWE"
            "/LocalState/Indexed/x.eml")
    assert eml_location(win8) == wm.EmlLocation("Windows Mail app", None, "LocalState/Indexed")
    assert eml_location("/x.eml") == wm.EmlLocation(None, None, None)
    assert eml_location("/exports/Trash/x.eml").deleted_folder is True
    assert eml_location("/exports/Trash/x.eml").where("x.eml") == "exports/Trash"
    assert eml_location("/x.eml").where("x.eml") == "x.eml"


def test_loose_eml_given_alone(tmp_path):
    path = tmp_path / "mail.eml"
    path.write_bytes(inbox_message())
    (event,), _ = extract(WindowsMailEml(), path, "/mail.eml")
    assert (event.data["client"], event.data["folder"], event.user) == (None, None, None)
    assert event.message.endswith("[mail.eml]")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("content, reason", [
    (b"", "empty file"),
    (b" \r\n\r\n", "empty file"),
    (b"\x00\x01\x02\x03 binary garbage \xff\xfe", "does not start with a header field"),
    (b"\xef\xbb\xbfFrom: a@b.example\r\n\r\nx", "does not start with a header field"),
    (b"just some text\r\nwithout headers\r\n", "does not start with a header field"),
    (b"\r\nFrom: a@b.example\r\n\r\nbody", "does not start with a header field"),
    (b"Key: value\r\nOther: thing\r\n\r\nbody", "none of the usual header fields"),
    (b"PK\x03\x04:zip", "does not start with a header field"),
    (b"Archive: x.zip\r\n", "none of the usual header fields"),
])
def test_not_a_message_is_an_artifact_error(tmp_path, content, reason):
    path = tmp_path / "x.eml"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=reason):
        extract(WindowsMailEml(), path, f"/{WM}/Inbox/x.eml")


def test_cut_short_message_is_read_as_far_as_it_goes(tmp_path):
    raw = sent_message()
    payload = base64.b64encode(MINUTES)
    cut = raw[:raw.index(payload) + 12]  # inside the second attachment's base64
    path = tmp_path / "cut.eml"
    path.write_bytes(cut)
    (event,), ctx = extract(WindowsMailEml(), path, f"/{WM}/Sent Items/cut.eml")
    data = event.data
    assert (data["damaged"], data["mime_defects"]) == (True, ["CloseBoundaryNotFoundDefect"])
    assert data["attachment_names"] == ["顧客名簿.xlsx", "minutes.txt"]
    assert data["attachment_sha256"][0] == SHA(CUSTOMERS)  # the first one is whole
    assert data["attachments"][1]["size"] == 9  # 12 base64 characters: 9 bytes
    assert event.timestamp.iso() == "2025-04-02T09:30:15Z"
    assert "(damaged MIME structure)" in event.message
    assert ctx.warnings == ["damaged MIME structure (CloseBoundaryNotFoundDefect): the file may "
                            "be cut short; read as far as it goes, attachment sizes and hashes "
                            "cover what is there"]


def test_every_truncation_and_corruption_is_clean(tmp_path):
    """Whatever point a file is cut at, or bytes are overwritten, only events, warnings or
    ArtifactError come out."""
    raw = sent_message()
    path = tmp_path / "x.eml"
    variants = [raw[:n] for n in range(0, len(raw), 23)]
    variants += [raw[:n] + b"\x00\xff\x1b$B" * 8 + raw[n + 40:] for n in range(0, len(raw), 97)]
    for content in variants:
        path.write_bytes(content)
        try:
            events, _ = extract(WindowsMailEml(), path, f"/{WM}/Inbox/x.eml")
        except ArtifactError:
            continue
        assert len(events) == 1 and events[0].data["mailbox_format"] == "eml"
        json.dumps(events[0].data, ensure_ascii=False)  # plain JSON values only


def test_non_utf8_headers_are_decoded_or_kept(tmp_path):
    raw = (b"From: \xc9mile <emile@example.fr>\r\nTo: x@gmail.com\r\n"
           b"Subject: =?iso-8859-1?q?R=E9sum=E9?= \xe9t\xe9\r\n"
           b"Subject: second\r\nDate: Tue, 01 Apr 2025 09:00:00 +0200\r\n"
           b"Content-Type: text/plain; charset=x-unknown-charset\r\n\r\nbody \xff\r\n")
    path = tmp_path / "latin.eml"
    path.write_bytes(raw)
    (event,), ctx = extract(WindowsMailEml(), path, f"/{WM}/Inbox/latin.eml",
                            mail_body_preview=20)
    data = event.data
    assert data["subject"].startswith("Résumé ") and data["sender_address"] == "emile@example.fr"
    assert data["sender_name"] and data["body_preview"].startswith("body ")
    assert event.timestamp.iso() == "2025-04-01T07:00:00Z" and ctx.errors == []


def test_oversized_message_headers_only(tmp_path, monkeypatch):
    monkeypatch.setattr(wm, "MAX_MESSAGE_BYTES", 400)
    path = tmp_path / "big.eml"
    path.write_bytes(sent_message())
    (event,), ctx = extract(WindowsMailEml(), path, f"/{WM}/Sent Items/big.eml")
    data = event.data
    assert (data["truncated"], data["attachment_names"], data["subject"]) == \
        (True, [], "顧客名簿送付")
    assert data["message_size"] == path.stat().st_size
    assert ctx.warnings == [f"message file of {path.stat().st_size} bytes is over 400: headers "
                            "only, attachments not listed"]
    assert "(headers only" in event.message


# ---------------------------------------------------------------- Mail app attachment cache


def test_cached_attachment_exact(system):
    path = system / APP / "Files" / "S0" / "3" / "Attachments" / "quote[1].zip"
    (event,), ctx = extract(WindowsMailAttachmentCache(), path,
                            f"/{APP}/Files/S0/3/Attachments/quote[1].zip")
    assert (ctx.warnings, ctx.errors) == ([], [])
    assert event.timestamp is None and event.timestamp_desc == "Attachment Cached"
    assert event.user == "alice"
    assert event.data == {
        "client": "Windows Mail app", "file_name": "quote[1].zip", "attachment_name": "quote.zip",
        "attachment_names": ["quote.zip"], "cache_folder": "3", "size": len(QUOTE_ZIP),
        "sha256": SHA(QUOTE_ZIP), "time_roles": []}
    assert event.message == (f"Windows Mail attachment cached: quote.zip ({len(QUOTE_ZIP)} "
                             "bytes, stored as quote[1].zip in cache folder 3; no time "
                             "recorded here)")


def test_cached_attachment_names():
    base = f"/{APP}/Files/S0"
    assert cached_attachment(f"{base}/5/Attachments/CC GENERAL[39].csv") == \
        wm.CachedAttachment("CC GENERAL[39].csv", "CC GENERAL.csv", "5")
    assert cached_attachment(f"{base}/5/Attachments/README[7]") == \
        wm.CachedAttachment("README[7]", "README", "5")
    assert cached_attachment(f"{base}/5/Attachments/data[2].tar.gz").attachment_name == \
        "data.tar.gz"
    assert cached_attachment(f"{base}/5/Attachments/[3].pdf").attachment_name == "[3].pdf"
    assert cached_attachment(f"{base}/5/Attachments/plain.pdf").attachment_name == "plain.pdf"
    assert cached_attachment("/Files/S0/Attachments/a[1].txt").cache_folder is None
    assert cached_attachment(f"{base}/5/a[1].txt") is None
    assert cached_attachment("/Users/x/Downloads/report[1].pdf") is None


def test_loose_bracket_file_gives_nothing(tmp_path):
    path = tmp_path / "report[1].pdf"
    path.write_bytes(b"%PDF")
    events, ctx = extract(WindowsMailAttachmentCache(), path, "/report[1].pdf")
    assert events == [] and (ctx.warnings, ctx.errors, ctx.notes) == ([], [], [])


# ---------------------------------------------------------------- through the CLI


def test_cli_windows_mail_and_mail_rules(cli, system, tmp_path):
    before = tree_digest(system)
    case = tmp_path / "case"
    result = cli("run", system, "-o", case, "--json", "--internal-domain", "example.co.jp")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    counts = {k: v for k, v in summary["per_artifact"].items() if v}
    assert counts == {"WindowsMail": 3, "WindowsMailAttachmentCache": 3}
    assert (summary["errors"], summary["warnings"]) == (0, 0)
    assert tree_digest(system) == before
    events = [e for e in read_jsonl(case) if e["family"] == "mail"]
    assert {e["source"]["path"].rsplit("/", 1)[-1] for e in events} == {
        SENT_NAME, "{00000000-0000-0000-0000-000000000001}.eml", "00294823-00000147.eml",
        "quote[1].zip", "CC GENERAL[39].csv", "notes.txt"}
    sent = next(e for e in events if e["data"].get("subject") == "顧客名簿送付")
    assert sent["user"] == "alice" and sent["timestamp"] == "2025-04-02T09:30:15Z"
    assert sorted(sent["tags"]) == ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]
    tagged = sorted(e["source"]["path"].rsplit("/", 1)[-1] for e in events if e["tags"])
    # bob's message (internal sender, free-mail recipient, payroll file name) has no usable
    # Date: it is still a "Sent" message and the rules need no time; the inbox message from
    # an external sender without attachments fires nothing
    assert tagged == ["00294823-00000147.eml", SENT_NAME]
    bob = next(e for e in events if e["user"] == "bob")
    assert bob["timestamp"] is None
    assert sorted(bob["tags"]) == ["TRIAGE-MAIL-001", "TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]
    cached = [e for e in events if e["artifact"] == "WindowsMailAttachmentCache"]
    assert all(e["timestamp"] is None and e["tags"] == [] for e in cached)
    assert sorted((e["data"]["attachment_name"], e["data"]["size"], e["data"]["sha256"])
                  for e in cached) == [("CC GENERAL.csv", len(CSV), SHA(CSV)),
                                       ("notes.txt", 0, SHA(b"")),
                                       ("quote.zip", len(QUOTE_ZIP), SHA(QUOTE_ZIP))]
    db = sqlite3.connect(case / "case.sqlite")
    paths = [r[0] for r in db.execute("SELECT path FROM sources")]
    assert not any(p.lower().endswith(("store.vol", "hxstore.hxd", ".edb")) for p in paths)


def test_cli_single_eml_file(cli, tmp_path):
    path = tmp_path / "saved.eml"
    path.write_bytes(sent_message())
    case = tmp_path / "case"
    result = cli("run", path, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    (event,) = read_jsonl(case)
    assert (event["artifact"], event["source"]["path"], event["data"]["client"]) == \
        ("WindowsMail", "/saved.eml", None)
    assert sorted(event["tags"]) == ["TRIAGE-MAIL-002", "TRIAGE-MAIL-003"]  # no internal domains


def test_cli_loose_attachment_folder(cli, tmp_path):
    """A collected copy of the app's LocalState folder, not laid out like a system drive:
    matched by name, the "[n]" files are listed; other loose files are not candidates."""
    loose = tmp_path / "LocalState"
    cache = loose / "Files" / "S0" / "4" / "Attachments"
    cache.mkdir(parents=True)
    (cache / "quote[1].zip").write_bytes(QUOTE_ZIP)
    (cache / "notes.txt").write_bytes(b"x")
    (loose / "report[2].bin").write_bytes(b"y")  # a "[n]" name outside the cache: no event
    case = tmp_path / "case"
    result = cli("run", loose, "-o", case, "--json")
    assert result.exit_code == 0, result.output
    (event,) = read_jsonl(case)
    assert (event["data"]["attachment_name"], event["data"]["cache_folder"]) == ("quote.zip", "4")
    assert event["source"]["path"] == "/Files/S0/4/Attachments/quote[1].zip"
    with sqlite3.connect(case / "case.sqlite") as db:
        read = sorted(row[0] for row in db.execute("SELECT path FROM sources"))
    assert read == ["/Files/S0/4/Attachments/quote[1].zip", "/report[2].bin"]
