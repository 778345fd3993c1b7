"""The mail clients built into Windows: Windows Mail (Vista), Windows Live Mail (Windows 7
era) and the Windows 8 Mail app, which keep each message as an `.eml` file, and the attachment
cache of the Windows 10/11 "Mail and Calendar" app (microsoft.windowscommunicationsapps).

Layout (Microsoft's and others' public descriptions of where the stores are):
- Windows Mail (Vista): `%LOCALAPPDATA%\\Microsoft\\Windows Mail\\Local Folders\\<folder>\\*.eml`
  (Inbox, Outbox, Sent Items, Deleted Items, Drafts, Junk E-mail and the user's own folders);
  an IMAP or news account has its own folder beside `Local Folders`.
- Windows Live Mail: `%LOCALAPPDATA%\\Microsoft\\Windows Live Mail\\<account>\\<folder>\\*.eml`,
  file names like `00294823-00000147.eml`; local folders under `Storage Folders`. On Windows XP
  (Live Mail 2009) %LOCALAPPDATA% is `Local Settings\\Application Data`.
- Windows 8/8.1 Mail app: cached `.eml` messages somewhere below
  `%LOCALAPPDATA%\\Packages\\microsoft.windowscommunicationsapps_8wekyb3d8bbwe\\`.
Each `.eml` is one RFC 5322 / MIME message (RFC 2045-2049, RFC 2047 words, RFC 2231
parameters), read with the mbox extractor's own functions (triage.extractors.mbox), so both
give the same fields. The folder is the path inside the store: `Local Folders/Sent Items`.
Windows Mail keeps read/replied/flag state in its own database, not in the `.eml`: those
fields are None here.

Time: "Sent", the Date header, read exactly as the mbox extractor reads it (a Date without a
usable zone gives no timestamp; the header text is kept). The file system's times of an `.eml`
are not read here (the file system timeline has them).

Event data: the mbox extractor's message fields (mailbox_format "eml", account, folder,
deleted_folder, message_index 1, mbox_offset None, message_size, truncated, message_id,
subject, date_header, date_offset, sender_name, sender_address, to, cc, bcc, recipients,
has_attachments, attachment_count, attachment_names, attachment_sha256, attachments,
mozilla_status / mozilla_status2 / read / replied / forwarded / flagged / deleted (None),
external / free-mail fields, time_roles ["Sent"], body_preview with `mail_body_preview`), plus
client ("Windows Mail", "Windows Live Mail", "Windows Mail app" or None for an `.eml` found
elsewhere), file_name, damaged (the MIME structure is broken, e.g. a file cut short: read as
far as it goes, with a warning) and mime_defects (the parser's defect names).

Windows 10/11 Mail app: its message store is `%LOCALAPPDATA%\\Comms\\UnistoreDB\\store.vol`,
an ESE database whose columns are named by hexadecimal property tags. Public material
(Chivers, "Navigating the Windows Mail database", Digital Investigation 26, 2018; an Autopsy
plug-in of 2018) says many of those tags are undocumented and were mapped by experiment; the
one public implementation found joins tables on undocumented tags and takes the delivery time
for the sent time. With no documented, consistent schema, store.vol is NOT parsed: no column
meaning is guessed. What is read instead are the attachment files the app caches as ordinary
files under `LocalState\\Files\\S0\\<n>\\Attachments\\`, named `<name>[<number>].<ext>` in
every public example seen (e.g. `quote[1].pdf`): one "Attachment Cached" event per file, with
no time (the evidence file interface gives no file system times; the file system timeline
has them). Its data: client ("Windows Mail app"), file_name (as stored), attachment_name (the
name without the app's "[<number>]" suffix, when it has one), attachment_names
([attachment_name]), cache_folder (the S0 sub-folder, e.g. "3"), size, sha256, time_roles ([]:
whether it was sent or received is not known, so the "Sent" mail rules do not take it). A file
matched by name outside such a folder (loose evidence) gives no event and no complaint.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors.mbox import (HEADER_KEEP, MAX_MESSAGE_BYTES, MAX_PARTS,
                                    mail_message, message_fields)
from triage.files import EvidenceFile
from triage.integrity import sha256_evidence
from triage.model import ArtifactError, Event

MAIL_APP_PACKAGE = "microsoft.windowscommunicationsapps_8wekyb3d8bbwe"
_STORES = {"windows mail": "Windows Mail", "windows live mail": "Windows Live Mail"}
_DELETED_FOLDERS = {"deleted items", "trash", "deleted messages"}
# RFC 5322 section 3.6.8: a field name is printable US-ASCII except the colon
_FIELD_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
# at least one of these must be present for a file to count as a message
_MESSAGE_FIELDS = {"from", "sender", "to", "cc", "bcc", "subject", "date", "message-id",
                   "received", "return-path", "mime-version", "reply-to", "x-unsent",
                   "newsgroups", "content-type", "delivered-to"}
_CACHE_SUFFIX = re.compile(r"^(.*)\[\d+\](\.[^\[\]]*)?$")


# ---------------------------------------------------------------- where a message lies


@dataclass(frozen=True)
class EmlLocation:
    """Which client's store an `.eml` lies in, and its folder inside that store."""

    client: str | None
    account: str | None
    folder: str | None

    @property
    def deleted_folder(self) -> bool:
        return any(p.lower() in _DELETED_FOLDERS for p in (self.folder or "").split("/"))

    def where(self, file_name: str) -> str:
        if self.client and self.folder:
            return f"{self.client}: {self.folder}"
        return self.client or self.folder or file_name


def eml_location(path: str) -> EmlLocation:
    """`.../Microsoft/Windows Mail/Local Folders/Sent Items/x.eml` -> ("Windows Mail",
    "Local Folders", "Local Folders/Sent Items"); an `.eml` elsewhere -> (None, None, its
    folder path)."""
    parts = [p for p in path.split("/") if p]
    folders = parts[:-1]
    for index, part in enumerate(folders):
        lower = part.lower()
        if lower == "microsoft" and index + 1 < len(folders) \
                and folders[index + 1].lower() in _STORES:
            inside = folders[index + 2:]
            return EmlLocation(_STORES[folders[index + 1].lower()],
                               inside[0] if inside else None, "/".join(inside) or None)
        if lower == MAIL_APP_PACKAGE:
            return EmlLocation("Windows Mail app", None, "/".join(folders[index + 1:]) or None)
    return EmlLocation(None, None, "/".join(folders) or None)


# ---------------------------------------------------------------- reading one message


@dataclass
class EmlContent:
    """The bytes parsed: the whole file, or its headers only when it is over the bound."""

    content: bytes
    size: int
    truncated: bool


def read_eml(f: EvidenceFile) -> EmlContent:
    """At most MAX_MESSAGE_BYTES are parsed; a bigger file gives its headers only."""
    handle = f.open()
    try:
        data = handle.read(MAX_MESSAGE_BYTES + 1)
    except OSError as exc:
        raise ArtifactError(f"cannot read the message file: {exc}") from exc
    finally:
        handle.close()
    if len(data) <= MAX_MESSAGE_BYTES:
        return EmlContent(data, len(data), False)
    head = data[:HEADER_KEEP]
    ends = [head.find(m) + len(m) for m in (b"\r\n\r\n", b"\n\n") if head.find(m) != -1]
    return EmlContent(head[:min(ends)] if ends else head, max(f.size, len(data)), True)


def check_message_start(content: bytes) -> None:
    """An ArtifactError unless the bytes start like an RFC 5322 message (a header field, or
    an mbox-style "From " line as some programs save)."""
    if not content.strip():
        raise ArtifactError("empty file: no message in it")
    first = content.split(b"\n", 1)[0].rstrip(b"\r")
    if not (_FIELD_LINE.match(first) or first.startswith(b"From ")):
        raise ArtifactError("not an RFC 5322 message: the file does not start with a header "
                            "field")


def parse_message(eml: EmlContent) -> Message:
    check_message_start(eml.content)
    parser = BytesHeaderParser if eml.truncated else BytesParser
    try:
        msg = parser(policy=compat32).parsebytes(eml.content)
    except (ValueError, TypeError, LookupError, AssertionError, IndexError) as exc:
        raise ArtifactError(f"message cannot be parsed: {type(exc).__name__}: {exc}") from exc
    if not {key.lower() for key, _ in msg.raw_items()} & _MESSAGE_FIELDS:
        raise ArtifactError("not an RFC 5322 message: none of the usual header fields (From, "
                            "To, Subject, Date, Message-ID, Received, MIME-Version...) is present")
    return msg


def mime_defects(msg: Message) -> list[str]:
    """The parser's complaints about the MIME structure (a missing closing boundary is what a
    file cut short gives)."""
    found: set[str] = set()
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            break
        found.update(type(d).__name__ for d in getattr(part, "defects", []))
    return sorted(found)


def message_event(msg: Message, eml: EmlContent, location: EmlLocation, file_name: str,
                  ctx: ExtractionContext, user: str | None) -> Event:
    """One "Sent" event with the mbox extractor's message fields."""
    sink = ctx.options.get("attachment_sink")
    try:
        stamp, fields = message_fields(msg, eml.truncated, ctx)
    except BaseException:
        if sink is not None:
            sink.discard()
        raise
    defects = mime_defects(msg)
    data: dict[str, Any] = {
        "mailbox_format": "eml", "client": location.client, "account": location.account,
        "folder": location.folder, "deleted_folder": location.deleted_folder,
        "file_name": file_name, "message_index": 1, "mbox_offset": None,
        "message_size": eml.size, "truncated": eml.truncated,
        "damaged": bool(defects), "mime_defects": defects, **fields,
        # Windows Mail keeps these states in its own database, not in the .eml
        "mozilla_status": None, "mozilla_status2": None, "read": None, "replied": None,
        "forwarded": None, "flagged": None, "deleted": None,
    }
    if sink is not None:
        sink.message(data)
    message = mail_message("Mail", data["subject"], data["sender_name"], data["sender_address"],
                           [r["address"] for r in data["recipients"]], data["attachment_count"],
                           location.where(file_name))
    if eml.truncated:
        message += " (headers only: the file is too big to parse whole)"
    if defects:
        message += " (damaged MIME structure)"
    if stamp is None:
        message += " (the Date header gives no usable time)" if data["date_header"] else \
            " (no Date header)"
    return Event(stamp, "Sent", message, data, user)


@register
class WindowsMailEml(Extractor):
    name = "windows_mail_eml"
    family = "mail"
    description = ("Windows Mail / Windows Live Mail / Windows 8 Mail app .eml messages: "
                   "recipients, attachments (hashed)")
    exports_attachments = True  # hands attachment content to an `attachment_sink` option

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        eml = read_eml(f)
        msg = parse_message(eml)
        if eml.truncated:
            ctx.warn(f"message file of {eml.size} bytes is over {MAX_MESSAGE_BYTES}: headers "
                     "only, attachments not listed")
        event = message_event(msg, eml, eml_location(f.path), f.name, ctx,
                              ctx.user_for_path(f.path))
        if event.data["mime_defects"]:
            ctx.warn("damaged MIME structure (" + ", ".join(event.data["mime_defects"]) +
                     "): the file may be cut short; read as far as it goes, attachment sizes "
                     "and hashes cover what is there")
        yield event


# ---------------------------------------------------------------- Mail app attachment cache


@dataclass(frozen=True)
class CachedAttachment:
    """Where a file lies in the Mail app's `Files/S0/<n>/Attachments/` cache."""

    file_name: str
    attachment_name: str
    cache_folder: str | None


def cached_attachment(path: str) -> CachedAttachment | None:
    """The cache entry a path names, or None when it is not inside `Files/S0/.../Attachments/`."""
    parts = [p for p in path.split("/") if p]
    lower = [p.lower() for p in parts]
    if len(parts) < 2 or lower[-2] != "attachments":
        return None
    for index in range(len(lower) - 2):
        if lower[index] == "files" and lower[index + 1] == "s0":
            name = parts[-1]
            match = _CACHE_SUFFIX.match(name)
            original = match.group(1) + (match.group(2) or "") if match and match.group(1) \
                else name
            return CachedAttachment(name, original, "/".join(parts[index + 2:-2]) or None)
    return None


@register
class WindowsMailAttachmentCache(Extractor):
    name = "windows_mail_attachment_cache"
    family = "mail"
    description = "Windows 10/11 Mail app cached attachment files: name, size, SHA-256 (no time)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        entry = cached_attachment(f.path)
        if entry is None:
            return  # a loose file matched by its name only: not the Mail app's cache
        try:
            size, sha256 = sha256_evidence(f)
        except OSError as exc:
            raise ArtifactError(f"cannot read the cached attachment: {exc}") from exc
        data = {"client": "Windows Mail app", "file_name": entry.file_name,
                "attachment_name": entry.attachment_name,
                "attachment_names": [entry.attachment_name], "cache_folder": entry.cache_folder,
                "size": size, "sha256": sha256, "time_roles": []}
        message = (f"Windows Mail attachment cached: {entry.attachment_name} ({size} bytes, "
                   f"stored as {entry.file_name} in cache folder {entry.cache_folder or '?'}; "
                   "no time recorded here)")
        yield Event(None, "Attachment Cached", message, data, ctx.user_for_path(f.path))


__all__ = ["CachedAttachment", "EmlContent", "EmlLocation", "WindowsMailAttachmentCache",
           "WindowsMailEml", "cached_attachment", "eml_location", "mime_defects",
           "parse_message", "read_eml"]
