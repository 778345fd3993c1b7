"""Outlook mail stores: Personal Storage Table (.pst) and Offline Storage Table (.ost) files.

Format: the PFF file format, documented by Microsoft in [MS-PST] (Outlook Personal Folders File
Format) and by the libyal "Personal Folder File (PFF) format" paper; read here with libpff
(pypff, package libpff-python), from a file object, so a store of tens of GB is walked one
message at a time and never loaded whole. ANSI (32-bit, Outlook 97-2002), Unicode (64-bit,
Outlook 2003 and later) and the 4 KiB-page Unicode OST are read. The properties of each item
are MAPI properties named in [MS-OXPROPS]; their tags are listed below.

Walk: every folder from the root (at most 64 levels deep), every item of every folder, then the
"orphan" items libpff finds outside the folder tree (items left behind by a deletion), each
marked `orphan`. Bodies are not copied: with the option `mail_body_preview` = N (characters)
the first N characters of the plain-text body are kept as `body_preview`.

Times, all UTC FILETIME (100 ns, seven digits), triage.model.filetime():
    "Sent"      PidTagClientSubmitTime (0x0039): when the sender's client submitted the message
                (on a received message too: it is the sender's time).
    "Received"  PidTagMessageDeliveryTime (0x0E06): when it was delivered to this mailbox (or
                saved, for a draft or an item that was never sent).
    "Created"   PidTagCreationTime (0x3007): when this copy was created in this store (a move
                or an import gives the copy a new creation time).
One event per message per distinct time: times that are equal share one event whose
timestamp_desc joins them ("Sent; Received") and whose `time_roles` lists them. A message with
none of the three gets one event without a timestamp ("Message Times Not Set").
The last modification time (PidTagLastModificationTime, 0x3008) is in the data only.

Event data: store_name (the message store's display name), pst_format ("ansi", "unicode",
"unicode_4k"), file_type ("pst" or "ost"), folder_path ("Top of Outlook data file/Inbox"),
folder_role ("deleted_items", "sent_items", "outbox" from the message store's entry IDs, else
by well-known folder names such as "Deleted Items", "削除済みアイテム", "Trash", "Sent Items",
"送信済みアイテム"; "recoverable_items" for the Exchange dumpster; or None),
deleted_folder (the item lies in Deleted Items or Recoverable Items, or below them),
recoverable_items (in Recoverable Items or below), orphan, item_id (libpff's node
identifier), message_class, subject, internet_message_id, conversation_topic, sender_name,
sender_address (SMTP address when the store has one, else the address as stored: an Exchange
DN), sender_address_type, to, cc, bcc (lists of addresses, each
the recipient's SMTP address when known), recipients (list of {type: to/cc/bcc, name, address,
address_type}; at most 1,000 kept, recipient_count gives the total), sent, received, created,
modified (ISO 8601 or None), importance (low/normal/high), sensitivity
(normal/personal/private/confidential), read, unsent, message_flags (raw PidTagMessageFlags),
has_attachments, attachment_count, attachment_names, attachment_sha256 (aligned with the names;
None where the content was not hashed), attachments (list of {name, size, sha256,
method, mime_type, content_id, hidden}), external_recipients, external_recipient_count,
freemail_recipients, freemail_recipient_count, internal_domains_known, sender_external,
sender_freemail (triage.maildomains), time_roles; body_preview when asked for.

Recipients come from the recipient table (PidTagRecipientType 0x0C15, PidTagDisplayName
0x3001, PidTagAddressType 0x3002, PidTagEmailAddress 0x3003, PidTagSmtpAddress 0x39FE); an item
without one falls back to the To/Cc/From of its transport headers (PidTagTransportMessageHeaders
0x007D). Attachments: PidTagAttachLongFilename 0x3707 (else 0x3704, else PidTagDisplayName),
PidTagAttachMethod 0x3705, PidTagAttachSize 0x0E20, PidTagAttachMimeTag 0x370E,
PidTagAttachContentId 0x3712, PidTagAttachmentHidden 0x7FFE; the SHA-256 is of the attachment's
data, streamed in 1 MiB pieces, for contents up to 512 MiB (an embedded message or a reference
has no data of its own to hash). ANSI strings are decoded with the message's code page
(PidTagMessageCodepage 0x3FFD), else the store's.

Damage: a folder or an item that libpff cannot read is reported with ctx.error() (the first 20
of each, then a count) and the walk goes on. Bounds: 200,000 folders, 500 attachments and
1,000 recipients per item, 100,000 orphan items.

Size: the engine's --max-file-size (2 GiB by default) applies, and --file-timeout: a larger or
slower store is recorded as skipped; raise both to read a tens-of-GB mailbox.
"""
from __future__ import annotations

import codecs
import email
import email.message
import email.utils
import hashlib
import os
from dataclasses import dataclass
from typing import Any, BinaryIO, Iterator

import pypff

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.maildomains import (FreemailDomains, freemail_for, internal_domains_for,
                                is_exchange_dn, normalize_address, sender_fields, summarize)
from triage.model import ArtifactError, Event, Timestamp, filetime

MAX_FOLDER_DEPTH = 64
MAX_FOLDERS = 200_000
MAX_RECIPIENTS = 1000
MAX_ATTACHMENTS = 500
MAX_HASH_BYTES = 512 * 1024 * 1024
MAX_ORPHANS = 100_000
MAX_ERRORS_LISTED = 20
_CHUNK = 1024 * 1024

_READ_ERRORS = (OSError, ValueError, TypeError, MemoryError, OverflowError)

# property types
PT_SHORT, PT_LONG, PT_BOOLEAN, PT_LONGLONG = 0x0002, 0x0003, 0x000B, 0x0014
PT_STRING8, PT_UNICODE, PT_SYSTIME, PT_BINARY = 0x001E, 0x001F, 0x0040, 0x0102

# property tags ([MS-OXPROPS])
TAG_IMPORTANCE = 0x0017
TAG_MESSAGE_CLASS = 0x001A
TAG_SENSITIVITY = 0x0036
TAG_SUBJECT = 0x0037
TAG_CLIENT_SUBMIT_TIME = 0x0039
TAG_SENT_REPRESENTING_NAME = 0x0042
TAG_SENT_REPRESENTING_ADDRTYPE = 0x0064
TAG_SENT_REPRESENTING_EMAIL = 0x0065
TAG_CONVERSATION_TOPIC = 0x0070
TAG_TRANSPORT_HEADERS = 0x007D
TAG_SENDER_NAME = 0x0C1A
TAG_SENDER_ADDRTYPE = 0x0C1E
TAG_SENDER_EMAIL = 0x0C1F
TAG_RECIPIENT_TYPE = 0x0C15
TAG_DELIVERY_TIME = 0x0E06
TAG_MESSAGE_FLAGS = 0x0E07
TAG_ATTACH_SIZE = 0x0E20
TAG_INTERNET_MESSAGE_ID = 0x1035
TAG_DISPLAY_NAME = 0x3001
TAG_ADDRTYPE = 0x3002
TAG_EMAIL_ADDRESS = 0x3003
TAG_CREATION_TIME = 0x3007
TAG_LAST_MODIFICATION_TIME = 0x3008
TAG_IPM_OUTBOX_ENTRYID = 0x35E2
TAG_IPM_WASTEBASKET_ENTRYID = 0x35E3
TAG_IPM_SENTMAIL_ENTRYID = 0x35E4
TAG_ATTACH_FILENAME = 0x3704
TAG_ATTACH_METHOD = 0x3705
TAG_ATTACH_LONG_FILENAME = 0x3707
TAG_ATTACH_MIME_TAG = 0x370E
TAG_ATTACH_CONTENT_ID = 0x3712
TAG_SMTP_ADDRESS = 0x39FE
TAG_MESSAGE_CODEPAGE = 0x3FFD
TAG_SENDER_SMTP_ADDRESS = 0x5D01
TAG_SENT_REPRESENTING_SMTP_ADDRESS = 0x5D02
TAG_ATTACHMENT_HIDDEN = 0x7FFE

MSGFLAG_READ = 0x0001
MSGFLAG_UNSENT = 0x0008
MSGFLAG_HASATTACH = 0x0010

IMPORTANCE = {0: "low", 1: "normal", 2: "high"}
SENSITIVITY = {0: "normal", 1: "personal", 2: "private", 3: "confidential"}
RECIPIENT_TYPE = {1: "to", 2: "cc", 3: "bcc"}
ATTACH_METHOD = {0: "none", 1: "by_value", 2: "by_reference", 3: "by_reference_resolve",
                 4: "by_reference_only", 5: "embedded_message", 6: "ole", 7: "by_web_reference"}
_NO_DATA_METHODS = {0, 2, 3, 4, 5, 7}

FORMAT_BY_VERSION = {14: "ansi", 15: "ansi", 23: "unicode", 36: "unicode_4k"}
FILE_TYPE = {b"SM": "pst", b"SO": "ost", b"AB": "pab"}

# Folder names that mark a role when the message store does not name the folder (lower case).
DELETED_NAMES = {"deleted items", "削除済みアイテム", "trash", "ごみ箱", "deleted messages"}
SENT_NAMES = {"sent items", "送信済みアイテム", "sent", "sent messages", "sent mail"}
RECOVERABLE_NAMES = {"recoverable items", "回復可能なアイテム"}

ITEM_KINDS = (  # message class prefix (lower case) -> how the item is named in messages
    ("ipm.note", "Mail"), ("ipm.schedule.meeting", "Meeting"), ("ipm.appointment", "Appointment"),
    ("ipm.contact", "Contact"), ("ipm.distlist", "Distribution list"), ("ipm.task", "Task"),
    ("ipm.stickynote", "Note"), ("ipm.activity", "Journal entry"), ("report.", "Report"),
    ("ipm.post", "Post"),
)

_CODEPAGES = {20127: "ascii", 28591: "latin-1", 65001: "utf-8", 50220: "iso2022_jp",
              50221: "iso2022_jp_ext", 50222: "iso2022_jp", 51932: "euc_jp", 54936: "gb18030",
              1200: "utf-16-le", 20932: "euc_jp"}


def codec_for(codepage: int | None) -> str | None:
    """A Python codec for a Windows code page number, or None when it is unknown."""
    if not codepage:
        return None
    name = _CODEPAGES.get(codepage, f"cp{codepage}")
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def strip_subject_prefix(value: str | None) -> str | None:
    """A PST subject may start with U+0001 and a prefix-length character: drop both."""
    if value and value.startswith("\x01"):
        return value[2:]
    return value


class _Props:
    """The first record set of a PFF item, read one property at a time."""

    def __init__(self, item: Any, codec: str, record_set: Any = None):
        self.codec = codec
        self.rs = record_set
        if record_set is None and item is not None:
            try:
                if item.get_number_of_record_sets():
                    self.rs = item.get_record_set(0)
            except _READ_ERRORS:
                self.rs = None

    def entry(self, tag: int) -> Any:
        if self.rs is None:
            return None
        try:
            return self.rs.get_entry_by_type(tag)
        except _READ_ERRORS:
            return None

    def raw(self, tag: int, types: tuple[int, ...]) -> bytes | None:
        entry = self.entry(tag)
        if entry is None:
            return None
        try:
            if entry.get_value_type() not in types:
                return None
            data = entry.get_data()
        except _READ_ERRORS:
            return None
        return data if isinstance(data, bytes) else None

    def text(self, tag: int) -> str | None:
        entry = self.entry(tag)
        if entry is None:
            return None
        try:
            kind = entry.get_value_type()
            data = entry.get_data()
        except _READ_ERRORS:
            return None
        if not isinstance(data, bytes):
            return None
        if kind == PT_UNICODE:
            text = data.decode("utf-16-le", "replace")
        elif kind == PT_STRING8:
            text = data.decode(self.codec, "replace")
        else:
            return None
        text = text.rstrip("\x00")
        return text or None

    def integer(self, tag: int) -> int | None:
        data = self.raw(tag, (PT_SHORT, PT_LONG, PT_BOOLEAN, PT_LONGLONG))
        if not data:
            return None
        return int.from_bytes(data[:8], "little")

    def time(self, tag: int) -> Timestamp | None:
        data = self.raw(tag, (PT_SYSTIME,))
        if data is None or len(data) != 8:
            return None
        return filetime(int.from_bytes(data, "little"))


def _nid_of_entry_id(data: bytes | None) -> int | None:
    """The node identifier at the end of a PST entry ID (flags, provider UID, NID)."""
    if not data or len(data) != 24:
        return None
    return int.from_bytes(data[20:24], "little")


def _iso(stamp: Timestamp | None) -> str | None:
    return stamp.iso() if stamp else None


@dataclass
class _Folder:
    path: str
    role: str | None
    deleted: bool
    recoverable: bool


class _ErrorLog:
    """Report the first few unreadable parts individually, then only count them."""

    def __init__(self, ctx: ExtractionContext):
        self.ctx = ctx
        self.counts: dict[str, int] = {}

    def add(self, kind: str, message: str) -> None:
        count = self.counts.get(kind, 0) + 1
        self.counts[kind] = count
        if count <= MAX_ERRORS_LISTED:
            self.ctx.error(message)

    def close(self) -> None:
        for kind, count in self.counts.items():
            if count > MAX_ERRORS_LISTED:
                self.ctx.error(f"{count - MAX_ERRORS_LISTED} more unreadable {kind} not listed")


def _reason(exc: BaseException) -> str:
    """libpff's error chain ("outer: ... inner: cause. ...") cut to its innermost cause."""
    text = " ".join(str(exc).split())
    parts = [p.strip() for p in text.split(". ") if p.strip()]
    cause = parts[1] if len(parts) > 1 else (parts[0] if parts else type(exc).__name__)
    if ": " in cause:
        cause = cause.split(": ", 1)[1]
    return cause.rstrip(".")


def _header_info(handle: BinaryIO) -> tuple[str, str]:
    head = handle.read(12)
    handle.seek(0)
    if len(head) < 12 or head[:4] != b"!BDN":
        raise ArtifactError("not a PST/OST file (no !BDN signature)")
    version = int.from_bytes(head[10:12], "little")
    fmt = FORMAT_BY_VERSION.get(version)
    if fmt is None:
        raise ArtifactError(f"unsupported PST/OST format version {version}")
    return fmt, FILE_TYPE.get(head[8:10], head[8:10].decode("latin-1"))


def item_kind(message_class: str | None) -> str:
    lower = (message_class or "").lower()
    for prefix, kind in ITEM_KINDS:
        if lower.startswith(prefix):
            return kind
    return message_class or "Item"


def _recipient_text(addresses: list[str]) -> str:
    if not addresses:
        return "(no recipients)"
    shown = ", ".join(addresses[:3])
    if len(addresses) > 3:
        shown += f" and {len(addresses) - 3} more"
    return shown


@register
class PstExtractor(Extractor):
    name = "pst"
    family = "mail"
    description = "Outlook PST/OST mail stores: messages, recipients, attachments (hashed)"
    exports_attachments = True  # hands attachment content to an `attachment_sink` option

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        handle = f.open()
        try:
            fmt, file_type = _header_info(handle)
            pff = pypff.file()
            try:
                pff.open_file_object(handle)
            except _READ_ERRORS as exc:
                raise ArtifactError(f"unreadable PST/OST file: {_reason(exc)}") from None
            try:
                yield from _Store(pff, fmt, file_type, ctx).events()
            finally:
                try:
                    pff.close()
                except _READ_ERRORS:
                    pass
        finally:
            handle.close()


class _Store:
    """One open PFF file being walked."""

    def __init__(self, pff: Any, fmt: str, file_type: str, ctx: ExtractionContext):
        self.pff = pff
        self.ctx = ctx
        self.errors = _ErrorLog(ctx)
        self.internal = internal_domains_for(ctx)
        self.freemail: FreemailDomains = freemail_for(ctx)
        self.preview = _int_option(ctx.options.get("mail_body_preview", 0))
        self.sink = ctx.options.get("attachment_sink")  # triage.mail_export, when exporting
        try:
            codepage = pff.get_ascii_codepage()
            default = codepage.decode("ascii") if isinstance(codepage, bytes) else str(codepage)
            self.codec = codecs.lookup(default).name
        except (LookupError, *_READ_ERRORS):
            self.codec = "cp1252"
        self.base = {"store_name": None, "pst_format": fmt, "file_type": file_type}
        self.roles: dict[int, str] = {}
        self._read_store()
        self.folders_seen = 0

    def _read_store(self) -> None:
        try:
            store = self.pff.get_message_store()
        except _READ_ERRORS:
            store = None
        if store is None:
            self.ctx.warn("no message store: folder roles taken from folder names only")
            return
        props = _Props(store, self.codec)
        self.base["store_name"] = props.text(TAG_DISPLAY_NAME)
        for tag, role in ((TAG_IPM_WASTEBASKET_ENTRYID, "deleted_items"),
                          (TAG_IPM_SENTMAIL_ENTRYID, "sent_items"),
                          (TAG_IPM_OUTBOX_ENTRYID, "outbox")):
            nid = _nid_of_entry_id(props.raw(tag, (PT_BINARY,)))
            if nid is not None:
                self.roles[nid] = role

    # ---------------------------------------------------------------- walk

    def events(self) -> Iterator[Event]:
        try:
            root = self.pff.get_root_folder()
        except _READ_ERRORS as exc:
            raise ArtifactError(f"unreadable PST/OST root folder: {_reason(exc)}") from None
        if root is None:
            raise ArtifactError("PST/OST file without a root folder")
        yield from self._folder(root, _Folder("", None, False, False), 0)
        yield from self._orphans()
        self.errors.close()

    def _folder_info(self, folder: Any, parent: _Folder, depth: int) -> _Folder:
        if depth == 0:
            return parent  # the root folder: no name, not part of any path
        try:
            name = folder.get_name() or ""
        except _READ_ERRORS:
            name = ""
        try:
            nid = folder.get_identifier()
        except _READ_ERRORS:
            nid = None
        lower = name.strip().lower()
        role = self.roles.get(nid) if nid is not None else None
        if role is None and lower in RECOVERABLE_NAMES:
            role = "recoverable_items"
        if role is None and lower in DELETED_NAMES:
            role = "deleted_items"
        if role is None and lower in SENT_NAMES:
            role = "sent_items"
        path = f"{parent.path}/{name}" if parent.path else name
        return _Folder(path=path, role=role,
                       deleted=parent.deleted or role in ("deleted_items", "recoverable_items"),
                       recoverable=parent.recoverable or role == "recoverable_items")

    def _folder(self, folder: Any, parent: _Folder, depth: int) -> Iterator[Event]:
        self.folders_seen += 1
        info = self._folder_info(folder, parent, depth)
        label = info.path or "(root folder)"
        try:
            count = folder.get_number_of_sub_messages()
        except _READ_ERRORS as exc:
            self.errors.add("folders", f"folder {label}: items unreadable: {_reason(exc)}")
            count = 0
        for index in range(count):
            try:
                item = folder.get_sub_message(index)
            except _READ_ERRORS as exc:
                self.errors.add("items", f"folder {label}: item {index + 1} unreadable: "
                                         f"{_reason(exc)}")
                continue
            if item is None:
                continue
            yield from self._item_events(item, info, orphan=False, label=label)
        try:
            subfolders = folder.get_number_of_sub_folders()
        except _READ_ERRORS as exc:
            self.errors.add("folders", f"folder {label}: sub-folders unreadable: {_reason(exc)}")
            return
        if subfolders and depth + 1 > MAX_FOLDER_DEPTH:
            self.ctx.warn(f"folder {label}: sub-folders deeper than {MAX_FOLDER_DEPTH} levels "
                          "not read")
            return
        for index in range(subfolders):
            if self.folders_seen >= MAX_FOLDERS:
                self.ctx.warn(f"more than {MAX_FOLDERS} folders: the rest not read")
                return
            try:
                child = folder.get_sub_folder(index)
            except _READ_ERRORS as exc:
                self.errors.add("folders", f"folder {label}: sub-folder {index + 1} unreadable: "
                                           f"{_reason(exc)}")
                continue
            if child is not None:
                yield from self._folder(child, info, depth + 1)

    def _orphans(self) -> Iterator[Event]:
        try:
            count = self.pff.get_number_of_orphan_items()
        except _READ_ERRORS:
            return
        if count > MAX_ORPHANS:
            self.ctx.warn(f"{count} orphan items: only the first {MAX_ORPHANS} read")
            count = MAX_ORPHANS
        info = _Folder(path="", role=None, deleted=False, recoverable=False)
        for index in range(count):
            try:
                item = self.pff.get_orphan_item(index)
            except _READ_ERRORS as exc:
                self.errors.add("orphan items", f"orphan item {index + 1} unreadable: "
                                                f"{_reason(exc)}")
                continue
            if item is None or isinstance(item, pypff.folder):
                continue
            props = _Props(item, self.codec)
            if props.text(TAG_MESSAGE_CLASS) is None:
                continue  # not a message (an attachment, a table, a recipient list)
            yield from self._item_events(item, info, orphan=True, label="(orphan items)")

    # ---------------------------------------------------------------- one item

    def _item_events(self, item: Any, folder: _Folder, orphan: bool,
                     label: str) -> Iterator[Event]:
        try:
            data, times = self._item(item, folder, orphan)
        except _READ_ERRORS as exc:
            self.errors.add("items", f"folder {label}: item unreadable: {_reason(exc)}")
            if self.sink is not None:
                self.sink.discard()
            return
        if self.sink is not None:
            self.sink.message(data)
        kind = item_kind(data["message_class"])
        sender = data["sender_name"] or data["sender_address"] or "(unknown sender)"
        if data["sender_name"] and data["sender_address"] and \
                data["sender_address"] != data["sender_name"]:
            sender = f"{data['sender_name']} <{data['sender_address']}>"
        recipients = [r["address"] or r["name"] or "?" for r in data["recipients"]]
        message = f'{kind} "{data["subject"] or "(no subject)"}" from {sender} to ' \
                  f"{_recipient_text(recipients)}"
        if data["attachment_count"]:
            plural = "s" if data["attachment_count"] != 1 else ""
            message += f" ({data['attachment_count']} attachment{plural})"
        where = data["folder_path"] or ("orphan item" if orphan else "(root folder)")
        if data["store_name"]:
            where = f"{data['store_name']}: {where}"
        message += f" [{where}]"
        if data["deleted_folder"]:
            message += " (in a deleted-items folder)"
        elif orphan:
            message += " (orphan item: in no folder, possibly deleted)"

        groups: dict[int, tuple[Timestamp, list[str]]] = {}
        for role, stamp in times:
            if stamp is None:
                continue
            if stamp.ns in groups:
                groups[stamp.ns][1].append(role)
            else:
                groups[stamp.ns] = (stamp, [role])
        if not groups:
            yield Event(None, "Message Times Not Set", message, {**data, "time_roles": []})
            return
        for stamp, roles in groups.values():
            yield Event(stamp, "; ".join(roles), message, {**_copy(data), "time_roles": roles})

    def _item(self, item: Any, folder: _Folder,
              orphan: bool) -> tuple[dict[str, Any], list[tuple[str, Timestamp | None]]]:
        props = _Props(item, self.codec)
        codec = codec_for(props.integer(TAG_MESSAGE_CODEPAGE)) or self.codec
        if codec != self.codec:
            props = _Props(item, codec)
        sent = props.time(TAG_CLIENT_SUBMIT_TIME)
        received = props.time(TAG_DELIVERY_TIME)
        created = props.time(TAG_CREATION_TIME)
        modified = props.time(TAG_LAST_MODIFICATION_TIME)
        flags = props.integer(TAG_MESSAGE_FLAGS)
        importance = props.integer(TAG_IMPORTANCE)
        sensitivity = props.integer(TAG_SENSITIVITY)
        try:
            identifier = item.get_identifier()
        except _READ_ERRORS:
            identifier = None

        headers: email.message.Message | None = None

        def transport_headers() -> email.message.Message | None:
            nonlocal headers
            if headers is None:
                text = props.text(TAG_TRANSPORT_HEADERS)
                headers = email.message_from_string(text) if text else email.message.Message()
            return headers

        sender_name = props.text(TAG_SENDER_NAME) or props.text(TAG_SENT_REPRESENTING_NAME)
        sender_type = props.text(TAG_SENDER_ADDRTYPE) or props.text(TAG_SENT_REPRESENTING_ADDRTYPE)
        stored = props.text(TAG_SENDER_EMAIL) or props.text(TAG_SENT_REPRESENTING_EMAIL)
        sender_address = (normalize_address(props.text(TAG_SENDER_SMTP_ADDRESS))
                          or normalize_address(props.text(TAG_SENT_REPRESENTING_SMTP_ADDRESS)))
        if sender_address is None and stored and not is_exchange_dn(stored):
            sender_address = normalize_address(stored)
        if sender_address is None:
            header_from = transport_headers().get_all("From") or []
            parsed = [a for _, a in email.utils.getaddresses([str(v) for v in header_from]) if a]
            sender_address = normalize_address(parsed[0]) if parsed else None
        if sender_address is None and stored:
            sender_address = stored  # an Exchange DN: still the fact the store records

        recipients, total = self._recipients(item, codec)
        if total == 0:
            recipients = self._header_recipients(transport_headers())
            total = len(recipients)
        attachments = self._attachments(item, codec)
        try:
            attachment_count = item.get_number_of_attachments()
        except (AttributeError, *_READ_ERRORS):
            attachment_count = len(attachments)
        addresses = [r["address"] for r in recipients if r["address"]]
        data: dict[str, Any] = {
            **self.base,
            "folder_path": folder.path or None,
            "folder_role": folder.role,
            "deleted_folder": folder.deleted,
            "recoverable_items": folder.recoverable,
            "orphan": orphan,
            "item_id": identifier,
            "message_class": props.text(TAG_MESSAGE_CLASS),
            "subject": strip_subject_prefix(props.text(TAG_SUBJECT)),
            "conversation_topic": props.text(TAG_CONVERSATION_TOPIC),
            "internet_message_id": props.text(TAG_INTERNET_MESSAGE_ID),
            "sender_name": sender_name,
            "sender_address": sender_address,
            "sender_address_type": sender_type,
            "to": [r["address"] or r["name"] for r in recipients if r["type"] == "to"],
            "cc": [r["address"] or r["name"] for r in recipients if r["type"] == "cc"],
            "bcc": [r["address"] or r["name"] for r in recipients if r["type"] == "bcc"],
            "recipients": recipients,
            "recipient_count": total,
            "sent": _iso(sent), "received": _iso(received), "created": _iso(created),
            "modified": _iso(modified),
            "importance": IMPORTANCE.get(importance) if importance is not None else None,
            "sensitivity": SENSITIVITY.get(sensitivity) if sensitivity is not None else None,
            "read": bool(flags & MSGFLAG_READ) if flags is not None else None,
            "unsent": bool(flags & MSGFLAG_UNSENT) if flags is not None else None,
            "message_flags": flags,
            "has_attachments": attachment_count > 0,
            "attachment_count": attachment_count,
            "attachment_names": [a["name"] for a in attachments],
            "attachment_sha256": [a["sha256"] for a in attachments],
            "attachments": attachments,
            **summarize(addresses, self.internal, self.freemail),
            **sender_fields(sender_address, self.internal, self.freemail),
        }
        if self.preview > 0:
            data["body_preview"] = self._preview(item)
        return data, [("Sent", sent), ("Received", received), ("Created", created)]

    def _recipients(self, item: Any, codec: str) -> tuple[list[dict[str, Any]], int]:
        try:
            table = item.recipients
        except (AttributeError, *_READ_ERRORS):
            return [], 0
        if table is None:
            return [], 0
        try:
            count = table.get_number_of_record_sets()
        except _READ_ERRORS:
            return [], 0
        found = []
        for index in range(min(count, MAX_RECIPIENTS)):
            try:
                record = table.get_record_set(index)
            except _READ_ERRORS:
                continue
            props = _Props(None, codec, record)
            kind = props.integer(TAG_RECIPIENT_TYPE)
            name = props.text(TAG_DISPLAY_NAME)
            address_type = props.text(TAG_ADDRTYPE)
            stored = props.text(TAG_EMAIL_ADDRESS)
            address = normalize_address(props.text(TAG_SMTP_ADDRESS))
            if address is None and stored:
                address = normalize_address(stored) or stored
            if kind is not None:  # the high bits are flags (MAPI_P1, MAPI_SUBMITTED)
                kind &= 0xFF
            found.append({"type": None if kind is None else RECIPIENT_TYPE.get(kind, f"type {kind}"),
                          "name": name,
                          "address": address, "address_type": address_type})
        return found, count

    @staticmethod
    def _header_recipients(headers: email.message.Message) -> list[dict[str, Any]]:
        found = []
        for field, kind in (("To", "to"), ("Cc", "cc"), ("Bcc", "bcc")):
            values = [str(v) for v in headers.get_all(field) or []]
            for name, address in email.utils.getaddresses(values):
                if not name and not address:
                    continue
                found.append({"type": kind, "name": name or None,
                              "address": normalize_address(address) or address or None,
                              "address_type": "SMTP" if normalize_address(address) else None})
                if len(found) >= MAX_RECIPIENTS:
                    return found
        return found

    def _attachments(self, item: Any, codec: str) -> list[dict[str, Any]]:
        try:
            count = item.get_number_of_attachments()
        except (AttributeError, *_READ_ERRORS):
            return []
        if count > MAX_ATTACHMENTS:
            self.ctx.warn(f"item with {count} attachments: only the first {MAX_ATTACHMENTS} "
                          "listed")
        found = []
        for index in range(min(count, MAX_ATTACHMENTS)):
            try:
                attachment = item.get_attachment(index)
            except _READ_ERRORS as exc:
                self.errors.add("attachments", f"attachment {index + 1} unreadable: "
                                               f"{_reason(exc)}")
                found.append({"name": None, "size": None, "sha256": None, "method": None,
                              "mime_type": None, "content_id": None, "hidden": None})
                continue
            props = _Props(attachment, codec)
            method = props.integer(TAG_ATTACH_METHOD)
            name = (props.text(TAG_ATTACH_LONG_FILENAME) or props.text(TAG_ATTACH_FILENAME)
                    or props.text(TAG_DISPLAY_NAME))
            size, digest = None, None
            if method not in _NO_DATA_METHODS:
                out = self.sink.open_attachment(index, name) if self.sink is not None else None
                try:
                    size, digest = self._hash(attachment, name, out)
                finally:
                    if out is not None:
                        out.close()
            hidden = props.integer(TAG_ATTACHMENT_HIDDEN)
            found.append({
                "name": name,
                "size": size if size is not None else props.integer(TAG_ATTACH_SIZE),
                "sha256": digest,
                "method": ATTACH_METHOD.get(method, f"method {method}") if method is not None
                else None,
                "mime_type": props.text(TAG_ATTACH_MIME_TAG),
                "content_id": props.text(TAG_ATTACH_CONTENT_ID),
                "hidden": bool(hidden) if hidden is not None else None,
            })
        return found

    def _hash(self, attachment: Any, name: str | None,
              out: Any = None) -> tuple[int | None, str | None]:
        """Size and SHA-256 of the content, read in chunks (and written to `out` as well,
        when exporting)."""
        try:
            size = attachment.get_size()
        except _READ_ERRORS:
            return None, None
        if size is None:
            return None, None
        if size > MAX_HASH_BYTES:
            self.ctx.warn(f"attachment {name or '(unnamed)'} of {size} bytes is over "
                          f"{MAX_HASH_BYTES} bytes: not hashed")
            return size, None
        digest = hashlib.sha256()
        done = 0
        try:
            attachment.seek_offset(0, os.SEEK_SET)
            while done < size:
                chunk = attachment.read_buffer(min(_CHUNK, size - done))
                if not chunk:
                    break
                digest.update(chunk)
                if out is not None:
                    out.write(chunk)
                done += len(chunk)
        except _READ_ERRORS as exc:
            self.errors.add("attachments", f"attachment {name or '(unnamed)'}: content "
                                           f"unreadable: {_reason(exc)}")
            return size, None
        if done != size:
            self.errors.add("attachments", f"attachment {name or '(unnamed)'}: content ends "
                                           f"after {done} of {size} bytes")
            return size, None
        return size, digest.hexdigest()

    def _preview(self, item: Any) -> str | None:
        try:
            body = item.get_plain_text_body()
        except (AttributeError, *_READ_ERRORS):
            return None
        if not body:
            return None
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        return text.replace("\x00", "")[: self.preview]


def _int_option(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    """A fresh copy of the lists and dicts in the data, so events never share them."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            out[key] = [dict(v) if isinstance(v, dict) else v for v in value]
        else:
            out[key] = value
    return out


__all__ = ["PstExtractor", "codec_for", "item_kind", "strip_subject_prefix"]
