"""Thunderbird Gloda index (global-messages-db.sqlite): built databases (with a -wal), ghost
and deleted rows, bad input."""
from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from conftest import tree_digest  # noqa: E402
from fixtures.builders.mail_writer import build_gloda, prtime_from_iso  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.thunderbird import (ThunderbirdGloda, account_of,  # noqa: E402
                                           author_parts, found_addresses)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

VPATH = ("/Users/alice/AppData/Roaming/Thunderbird/Profiles/k3x9a1b2.default-release/"
         "global-messages-db.sqlite")
T1 = "2025-04-01T00:15:30.000000Z"
T2 = "2025-04-02T09:30:00.123456Z"
T3 = "2025-04-03T01:02:03.000001Z"


def rows() -> dict:
    return {
        "folderLocations": [
            {"id": 1, "folderURI": "mailbox://nobody@Local%20Folders/Sent", "dirtyStatus": 0,
             "name": "Sent", "indexingPriority": 0},
            {"id": 2, "folderURI": "imap://alice%40example.co.jp@imap.example.co.jp/INBOX",
             "dirtyStatus": 0, "name": "INBOX", "indexingPriority": 0},
        ],
        "conversations": [{"id": 7, "subject": "顧客名簿の件"}, {"id": 8, "subject": "hello"}],
        "messages": [
            {"id": 1, "folderID": 1, "messageKey": 1024, "conversationID": 7,
             "date": prtime_from_iso(T1), "headerMessageID": "m1@example.co.jp", "deleted": 0},
            {"id": 2, "folderID": None, "messageKey": None, "conversationID": 7, "date": None,
             "headerMessageID": "ghost@example.co.jp"},
            {"id": 3, "folderID": 2, "messageKey": 77, "conversationID": 8,
             "date": prtime_from_iso(T2), "headerMessageID": "m3@client.example.com",
             "deleted": 1},
        ],
        "messagesText_content": [
            {"docid": 1, "c0body": "本文です。顧客名簿を送ります", "c1subject": "顧客名簿の件",
             "c2attachmentNames": "顧客名簿.csv\nmemo.txt",
             "c3author": "Alice Sato <alice@example.co.jp>",
             "c4recipients": "山田太郎 <Taro.Yamada@gmail.com> boss@example.co.jp"},
            {"docid": 3, "c0body": "hi", "c1subject": "hello", "c2attachmentNames": None,
             "c3author": "partner@client.example.com", "c4recipients": "alice@example.co.jp"},
        ],
    }


WAL = {"messages": [{"id": 4, "folderID": 1, "messageKey": 2048, "conversationID": 8,
                     "date": prtime_from_iso(T3), "headerMessageID": "m4@example.co.jp"}],
       "messagesText_content": [{"docid": 4, "c1subject": "wal only",
                                 "c3author": "alice@example.co.jp",
                                 "c4recipients": "friend@yahoo.co.jp"}]}


def _extract(path: Path, **options):
    ctx = ExtractionContext(options=options)
    return list(ThunderbirdGloda().extract(LocalFile(str(path), path=VPATH), ctx)), ctx


@pytest.fixture
def gloda(tmp_path) -> Path:
    return build_gloda(tmp_path / "global-messages-db.sqlite", rows(), wal_rows=WAL)


def test_every_message_exact(gloda):
    before = tree_digest(gloda.parent)
    events, ctx = _extract(gloda, internal_domains=["example.co.jp"])
    assert tree_digest(gloda.parent) == before
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == [
        "read together with global-messages-db.sqlite-wal (records not yet checkpointed included)",
        "1 message row(s) without a folder (conversation placeholders for messages never seen) "
        "not listed"]
    assert [(e.timestamp.iso(), e.timestamp_desc) for e in events] == [
        (T1, "Sent"), (T2, "Sent"), (T3, "Sent")]
    assert [e.message for e in events] == [
        'Thunderbird index: Mail "顧客名簿の件" from Alice Sato <alice@example.co.jp> to '
        "taro.yamada@gmail.com, boss@example.co.jp (2 attachments) [Local Folders: Sent]",
        'Thunderbird index: Mail "hello" from partner@client.example.com to alice@example.co.jp '
        "[imap.example.co.jp: INBOX] (marked deleted in the index)",
        'Thunderbird index: Mail "wal only" from alice@example.co.jp to friend@yahoo.co.jp '
        "[Local Folders: Sent]",
    ]
    assert events[0].data == {
        "gloda_id": 1, "folder_uri": "mailbox://nobody@Local%20Folders/Sent", "folder": "Sent",
        "account": "Local Folders", "message_key": 1024, "conversation_id": 7,
        "conversation_subject": "顧客名簿の件", "message_id": "m1@example.co.jp",
        "deleted": False, "subject": "顧客名簿の件",
        "author": "Alice Sato <alice@example.co.jp>", "sender_name": "Alice Sato",
        "sender_address": "alice@example.co.jp",
        "recipients_text": "山田太郎 <Taro.Yamada@gmail.com> boss@example.co.jp",
        "to": ["taro.yamada@gmail.com", "boss@example.co.jp"],
        "attachment_names": ["顧客名簿.csv", "memo.txt"], "has_attachments": True,
        "attachment_count": 2, "external_recipients": ["taro.yamada@gmail.com"],
        "external_recipient_count": 1, "freemail_recipients": ["taro.yamada@gmail.com"],
        "freemail_recipient_count": 1, "internal_domains_known": True,
        "sender_external": False, "sender_freemail": False, "time_roles": ["Sent"],
    }
    second = events[1].data
    assert (second["deleted"], second["sender_external"], second["has_attachments"]) == \
        (True, True, False)
    assert second["account"] == "imap.example.co.jp" and second["conversation_subject"] == "hello"
    third = events[2].data
    assert third["deleted"] is False and third["freemail_recipients"] == ["friend@yahoo.co.jp"]
    assert all("body_preview" not in e.data for e in events)


def test_body_preview_and_minimal_schema(gloda, tmp_path):
    events, _ = _extract(gloda, mail_body_preview=5)
    assert [e.data["body_preview"] for e in events] == ["本文です。", "hi", None]
    bare = tmp_path / "bare" / "global-messages-db.sqlite"
    bare.parent.mkdir()
    db = sqlite3.connect(bare)
    db.execute("CREATE TABLE messages (id INTEGER PRIMARY KEY, date INTEGER)")
    db.execute("INSERT INTO messages VALUES (5, 0)")
    db.commit()
    db.close()
    events, ctx = _extract(bare)
    assert len(events) == 1 and events[0].timestamp is None and ctx.errors == []
    assert events[0].data["subject"] is None and events[0].data["folder_uri"] is None
    assert events[0].message == ('Thunderbird index: Mail "(no subject)" from (unknown sender) '
                                 "to (no recipients) [(folder unknown)]")


def test_bad_input(tmp_path):
    not_db = tmp_path / "global-messages-db.sqlite"
    not_db.write_bytes(b"not a database at all")
    with pytest.raises(ArtifactError, match="not an SQLite 3 database"):
        _extract(not_db)
    other = tmp_path / "other.sqlite"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE moz_places (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(ArtifactError, match="not a Thunderbird Gloda database"):
        _extract(other)
    bad_date = build_gloda(tmp_path / "d" / "global-messages-db.sqlite", {
        "folderLocations": [{"id": 1, "folderURI": "x", "name": "x"}],
        "messages": [{"id": 1, "folderID": 1, "conversationID": 1, "date": "yesterday"}]})
    events, ctx = _extract(bad_date)
    assert events[0].timestamp is None
    assert ctx.warnings == ["messages.date: 1 value(s) not a valid time: left without a time"]


def test_helpers():
    assert author_parts('"Sato, Alice" <Alice@Example.co.jp>') == ("Sato, Alice",
                                                                   "alice@example.co.jp")
    assert author_parts("bob@example.org") == (None, "bob@example.org")
    assert author_parts(None) == (None, None)
    assert found_addresses("a@x.example; A@X.example, <b@y.example>") == ["a@x.example",
                                                                          "b@y.example"]
    assert account_of("mailbox://nobody@Local%20Folders/Inbox") == "Local Folders"
    assert account_of("imap://u%40d@imap.example.com/INBOX") == "imap.example.com"
    assert account_of(None) is None
