"""Thunderbird global search index (`global-messages-db.sqlite`, "Gloda"): one event per
indexed message.

Format: an SQLite 3 database in the profile folder, written by Thunderbird's global database
(the mailnews/db/gloda module of comm-central). Tables read, as known from public write-ups and
the Gloda schema: `messages` (id, folderID, messageKey, conversationID, date, headerMessageID,
deleted), `messagesText_content` (the content table of the messagesText full-text index: docid
= messages.id, c0body, c1subject, c2attachmentNames, c3author, c4recipients),
`folderLocations` (id, folderURI, name) and `conversations` (id, subject). The full-text
virtual table itself needs Thunderbird's own tokenizer, so only its plain content table is read.
Every column is checked for before use. Read from a private copy with its -wal / -journal
(triage.extractors._sqlite).

Why it matters: the index outlives the messages. A message deleted and expunged from its mbox
(and so gone from the folder file) often remains here, with subject, author, recipients and
attachment names, until Gloda notices; `deleted` = 1 marks one Gloda knows is gone.

Time: "Sent", messages.date: PRTime (microseconds since 1970-01-01 UTC, six digits), the date
Thunderbird holds for the message (its Date header). Gloda records no time of its own for
indexing, so there is no "indexed" event. A row without a date gives an event without a
timestamp. "Ghost" rows (no folderID: a message a conversation refers to that was never seen)
carry nothing but an ID and are counted in a note, not listed.

Event data: gloda_id, folder_uri, folder (folderLocations.name), account (the host part of the
folder URI, e.g. "Local%20Folders" unquoted to "Local Folders", or "imap.example.com"),
message_key, conversation_id, conversation_subject, message_id (headerMessageID), deleted,
subject, author (c3author as stored), sender_name, sender_address, recipients_text
(c4recipients as stored), to (the addresses found in it: the index keeps To, Cc and Bcc
together), attachment_names (c2attachmentNames split into names), has_attachments,
attachment_count, external_recipients, external_recipient_count, freemail_recipients,
freemail_recipient_count, internal_domains_known, sender_external, sender_freemail,
time_roles (["Sent"]); body_preview (first N characters of c0body) with the option
`mail_body_preview` = N.
"""
from __future__ import annotations

import re
import sqlite3
import urllib.parse
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, run_section)
from triage.extractors.mbox import mail_message
from triage.files import EvidenceFile
from triage.maildomains import (freemail_for, internal_domains_for, normalize_address,
                                sender_fields, summarize)
from triage.model import ArtifactError, Event

_EMAIL = re.compile(r"[^\s<>,;:\"'()\[\]]+@[A-Za-z0-9\u0080-\uffff.-]+[A-Za-z0-9\u0080-\uffff]")
MAX_ADDRESSES = 1000


def found_addresses(text: str | None) -> list[str]:
    """The distinct SMTP addresses written in a free-text author / recipients column."""
    found: list[str] = []
    for match in _EMAIL.finditer(text or ""):
        address = normalize_address(match.group(0))
        if address and address not in found:
            found.append(address)
            if len(found) >= MAX_ADDRESSES:
                break
    return found


def author_parts(text: str | None) -> tuple[str | None, str | None]:
    """(name, address) of a Gloda author column ("Name <addr>" or "Name addr" or "addr")."""
    if not text:
        return None, None
    addresses = found_addresses(text)
    address = addresses[0] if addresses else None
    name = text
    if address:
        name = re.sub(re.escape(address), "", text, flags=re.IGNORECASE)
    name = name.replace("<>", "").strip().strip('"').strip() or None
    return name, address


def split_names(text: str | None) -> list[str]:
    if not text:
        return []
    return [part.strip() for part in re.split(r"[\r\n]+", text) if part.strip()]


def account_of(uri: str | None) -> str | None:
    """The server / account part of a folder URI (mailbox://nobody@Local%20Folders/Inbox)."""
    if not uri:
        return None
    try:
        host = urllib.parse.urlsplit(uri).netloc
    except ValueError:
        return None
    host = host.rsplit("@", 1)[-1]
    return urllib.parse.unquote(host) or None


@register
class ThunderbirdGloda(Extractor):
    name = "thunderbird_gloda"
    family = "mail"
    description = "Thunderbird global-messages-db.sqlite (Gloda index): messages, deleted ones"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "messages" not in tables or "date" not in tables["messages"]:
                raise ArtifactError("not a Thunderbird Gloda database (no messages table)")
            times = TimeReader()
            yield from run_section(ctx, "messages", lambda: self._messages(db, tables, ctx, times))
            times.report(ctx)

    @staticmethod
    def _messages(db: sqlite3.Connection, tables: dict[str, list[str]], ctx: ExtractionContext,
                  times: TimeReader) -> Iterator[Event]:
        internal = internal_domains_for(ctx)
        freemail = freemail_for(ctx)
        try:
            preview = max(0, int(ctx.options.get("mail_body_preview", 0) or 0))
        except (TypeError, ValueError):
            preview = 0
        columns = tables["messages"]
        has_text = "messagestext_content" in tables
        has_folders = "folderlocations" in tables and "folderid" in columns
        has_conversations = "conversations" in tables and "conversationid" in columns

        def text_col(name: str) -> str:
            return column(tables, "t", "messagestext_content", name) if has_text \
                else f'NULL AS "{name}"'

        select = ", ".join([
            "m.id AS id", column(tables, "m", "messages", "folderID"),
            column(tables, "m", "messages", "messageKey"),
            column(tables, "m", "messages", "conversationID"), "m.date AS date",
            column(tables, "m", "messages", "headerMessageID"),
            column(tables, "m", "messages", "deleted"),
            text_col("c0body") if preview else 'NULL AS "c0body"',
            text_col("c1subject"), text_col("c2attachmentNames"), text_col("c3author"),
            text_col("c4recipients"),
            column(tables, "fl", "folderlocations", "folderURI") if has_folders
            else 'NULL AS "folderURI"',
            column(tables, "fl", "folderlocations", "name", "folderName") if has_folders
            else 'NULL AS "folderName"',
            column(tables, "c", "conversations", "subject", "conversationSubject")
            if has_conversations else 'NULL AS "conversationSubject"',
        ])
        joins = []
        if has_text:
            joins.append("LEFT JOIN messagesText_content t ON t.docid = m.id")
        if has_folders:
            joins.append("LEFT JOIN folderLocations fl ON fl.id = m.folderID")
        if has_conversations:
            joins.append("LEFT JOIN conversations c ON c.id = m.conversationID")
        ghosts = 0
        query = f"SELECT {select} FROM messages m {' '.join(joins)} ORDER BY m.id"
        for row in db.execute(query):
            if "folderid" in columns and row["folderID"] is None:
                ghosts += 1
                continue
            author = as_text(row["c3author"])
            sender_name, sender_address = author_parts(author)
            recipients_text = as_text(row["c4recipients"])
            to = found_addresses(recipients_text)
            names = split_names(as_text(row["c2attachmentNames"]))
            uri = as_text(row["folderURI"])
            deleted = as_int(row["deleted"])
            subject = as_text(row["c1subject"])
            data: dict[str, Any] = {
                "gloda_id": as_int(row["id"]), "folder_uri": uri,
                "folder": as_text(row["folderName"]), "account": account_of(uri),
                "message_key": as_int(row["messageKey"]),
                "conversation_id": as_int(row["conversationID"]),
                "conversation_subject": as_text(row["conversationSubject"]),
                "message_id": as_text(row["headerMessageID"]),
                "deleted": bool(deleted) if deleted is not None else None,
                "subject": subject, "author": author, "sender_name": sender_name,
                "sender_address": sender_address, "recipients_text": recipients_text,
                "to": to, "attachment_names": names, "has_attachments": bool(names),
                "attachment_count": len(names),
                **summarize(to, internal, freemail),
                **sender_fields(sender_address, internal, freemail),
                "time_roles": ["Sent"],
            }
            if preview:
                body = as_text(row["c0body"])
                data["body_preview"] = body[:preview] if body else None
            where = data["folder"] or uri or "(folder unknown)"
            if data["account"]:
                where = f"{data['account']}: {where}"
            message = "Thunderbird index: " + mail_message(
                "Mail", subject, sender_name, sender_address, to, len(names), where)
            if data["deleted"]:
                message += " (marked deleted in the index)"
            yield Event(times.micros("messages.date", row["date"]), "Sent", message, data)
        if ghosts:
            ctx.note(f"{ghosts} message row(s) without a folder (conversation placeholders "
                     "for messages never seen) not listed")


__all__ = ["ThunderbirdGloda", "account_of", "author_parts", "found_addresses", "split_names"]
