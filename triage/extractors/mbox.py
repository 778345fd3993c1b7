"""mbox mail folders (Thunderbird "Local Folders", POP and IMAP offline stores, and any other
mbox file): one event per message, at its Date header.

Format: mbox, a plain concatenation of RFC 5322 messages, each introduced by a separator line
that starts with "From " at the beginning of a line (RFC 4155 describes the family; Thunderbird
writes "From - <date>" and escapes body lines that start with "From " as ">From "). Thunderbird
keeps one mbox file per folder, named after the folder with no extension, in
`Profiles/<profile>/Mail/<account>/` and `ImapMail/<server>/`; a sub-folder lives in the
`<folder>.sbd/` directory beside its parent. The `.msf` index files and other files there are
not mbox files: a file whose first line does not start with "From " gives no events and no
complaint. Messages are MIME (RFC 2045-2049) with RFC 2047 encoded words and RFC 2231
parameters; headers in raw 8-bit (UTF-8 or Shift_JIS) and ISO-2022-JP are decoded too.

Reading is streamed: the file is read line by line, one message at a time; a message over
64 MiB is read for its headers only (`truncated`, a warning) and its attachments are not
listed. The shipped definitions (artifacts/mail.yaml) name the folders Thunderbird and the
common servers create (Inbox, Sent, Drafts, Trash, Archives and its year folders...); a folder
file the user named otherwise is read when given as evidence or named by a definition.

Time: "Sent", the Date header (RFC 5322 section 3.3, seconds precision, no fraction): with a
numeric offset (+0900), or UT/GMT/Z, or the obsolete US zone names of RFC 5322 section 4.3
(EST, EDT, CST, CDT, MST, MDT, PST, PDT), or JST (+0900, the one other name Japanese mailers
write), it is converted to UTC. A Date without a zone, with a military letter or an unknown
name (whose offset RFC 5322 says to read as unknown), or that cannot be parsed gives the event
no timestamp; the header text is kept in `date_header`. "-0000" is UTC with the sender's zone
unknown: the time is kept.

Event data: mailbox_format ("mbox"), account (the Thunderbird account folder, e.g. "Local
Folders" or "imap.example.com"), folder ("Inbox", "Inbox/Projects"), deleted_folder (the folder
is Trash or below it), message_index (1-based, in file order), mbox_offset (byte offset of the
separator line), message_size, truncated, message_id, subject, date_header, date_offset
("+09:00", or None), sender_name, sender_address, to, cc, bcc (address lists), recipients (list
of {type, name, address}), has_attachments, attachment_count, attachment_names,
attachment_sha256, attachments (list of {name, size, sha256, mime_type, inline}; an attached
message/rfc822 has no size or hash), mozilla_status and mozilla_status2 (the raw
X-Mozilla-Status / X-Mozilla-Status2 flags, or None), read, replied, forwarded, flagged, deleted
(X-Mozilla-Status "expunged" 0x0008 or X-Mozilla-Status2 "IMAP deleted" 0x00200000: a message
deleted in Thunderbird but still in the file until the folder is compacted),
external_recipients, external_recipient_count, freemail_recipients, freemail_recipient_count,
internal_domains_known, sender_external, sender_freemail (triage.maildomains), time_roles
(["Sent"]); body_preview (the first N characters of the first text/plain part) when the option
`mail_body_preview` = N is set.
"""
from __future__ import annotations

import calendar
import datetime as _dt
import email.errors
import email.header
import email.utils
import hashlib
import io
import re
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from typing import Any, BinaryIO, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.maildomains import (freemail_for, internal_domains_for, normalize_address,
                                sender_fields, summarize)
from triage.model import Event, Timestamp, posix

MAX_MESSAGE_BYTES = 64 * 1024 * 1024
HEADER_KEEP = 1024 * 1024
MAX_LINE = 1024 * 1024
MAX_PARTS = 1000
MAX_ATTACHMENTS = 500
MAX_RECIPIENTS = 1000

# X-Mozilla-Status (nsMsgMessageFlags, low 16 bits) and X-Mozilla-Status2 (high 16 bits)
MOZ_READ = 0x0001
MOZ_REPLIED = 0x0002
MOZ_MARKED = 0x0004
MOZ_EXPUNGED = 0x0008
MOZ_FORWARDED = 0x1000
MOZ2_IMAP_DELETED = 0x00200000

_ZONES = {"UT": 0, "GMT": 0, "Z": 0, "UTC": 0, "EST": -300, "EDT": -240, "CST": -360,
          "CDT": -300, "MST": -420, "MDT": -360, "PST": -480, "PDT": -420, "JST": 540}
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_DATE = re.compile(
    r"^\s*(?:[A-Za-z]+\s*,?\s*)?(\d{1,2})[\s-]+([A-Za-z]{3})[A-Za-z]*\.?[\s-]+(\d{2,4})\s+"
    r"(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([+-]\d{4}|[A-Za-z]{1,5})?\s*$")
_COMMENT = re.compile(r"\([^()]*\)")
_SURROGATES = re.compile("[\udc80-\udcff]")

_CHARSET_TRIES = {
    "iso-2022-jp": ["iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2004", "iso2022_jp_3"],
    "shift_jis": ["cp932", "shift_jis_2004"], "sjis": ["cp932"], "x-sjis": ["cp932"],
    "shift-jis": ["cp932"], "windows-31j": ["cp932"], "cp932": ["cp932"],
    "euc-jp": ["euc_jp", "euc_jis_2004"], "x-euc-jp": ["euc_jp"],
    "gb2312": ["gb18030"], "gbk": ["gb18030"], "ks_c_5601-1987": ["cp949"],
    "unknown-8bit": [], "x-unknown": [], "us-ascii": ["ascii"], "ascii": ["ascii"],
}


# ---------------------------------------------------------------- text decoding


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Bytes of a header or a part in `charset`; undeclared or wrong: UTF-8, then Shift_JIS
    (cp932), then ISO-2022-JP when the bytes hold its escape sequences; else UTF-8 with
    replacement characters."""
    tries: list[str] = []
    if charset:
        key = charset.strip().strip('"').lower()
        tries.extend(_CHARSET_TRIES.get(key, [key]))
    if b"\x1b$" in data or b"\x1b(" in data:
        tries.extend(["iso2022_jp", "iso2022_jp_ext", "iso2022_jp_2004"])
    tries.extend(["utf-8", "cp932"])
    for name in tries:
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
        except ValueError:  # a declared charset with a NUL in it: "embedded null character"
            continue
    return data.decode("utf-8", "replace")


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", " ")


def _fix_8bit(value: str) -> str:
    """A header parsed from bytes keeps raw 8-bit bytes as surrogate escapes: decode them."""
    if _SURROGATES.search(value):
        return decode_bytes(value.encode("ascii", "surrogateescape"))
    if "\x1b" in value:
        try:
            return decode_bytes(value.encode("ascii"))
        except UnicodeEncodeError:
            return value
    return value


def decode_header_text(value: Any) -> str | None:
    """A header value as text: unfolded, 8-bit bytes and RFC 2047 encoded words decoded."""
    if value is None:
        return None
    text = _fix_8bit(_unfold(str(value)))
    if "=?" in text:
        try:
            parts = email.header.decode_header(text)
        except (email.errors.HeaderParseError, ValueError, LookupError, AssertionError):
            parts = [(text, None)]
        out = []
        for part, charset in parts:
            out.append(part if isinstance(part, str) else decode_bytes(part, charset))
        text = "".join(out)
    return text.strip()


def raw_headers(msg: Message, name: str) -> list[str]:
    """Every raw value of a header (no policy processing, so 8-bit bytes survive)."""
    wanted = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == wanted]


def first_header(msg: Message, name: str) -> str | None:
    values = raw_headers(msg, name)
    return decode_header_text(values[0]) if values else None


def addresses(values: list[str], limit: int = MAX_RECIPIENTS) -> list[tuple[str | None, str]]:
    """(display name, address) pairs of address headers; the address normalised when it is an
    SMTP address, else as written."""
    found = []
    try:
        pairs = email.utils.getaddresses([_unfold(v) for v in values])
    except (ValueError, TypeError, IndexError):
        pairs = []
    for name, address in pairs:
        if not address:
            continue
        clean = _fix_8bit(address).strip()
        found.append((decode_header_text(name) or None, normalize_address(clean) or clean))
        if len(found) >= limit:
            break
    return found


def parse_params(raw: str) -> dict[str, str]:
    """MIME parameters of a Content-Type / Content-Disposition value (RFC 2045, RFC 2231
    extended and continued parameters joined and decoded; 8-bit and RFC 2047 names too)."""
    pieces, buf, quoted, escaped = [], [], False, False
    for ch in _unfold(raw):
        if escaped:
            buf.append(ch)
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            pieces.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    pieces.append("".join(buf))
    plain: dict[str, str] = {}
    extended: dict[str, dict[int, tuple[str, bool]]] = {}
    for piece in pieces[1:]:
        key, sep, value = piece.partition("=")
        if not sep:
            continue
        key = key.strip().lower()
        value = value.strip()
        match = re.match(r"^([^*]+)\*(\d+)?(\*)?$", key)
        if match:
            base, number, star = match.group(1), match.group(2), match.group(3)
            is_ext = bool(star) or number is None
            extended.setdefault(base, {})[int(number or 0)] = (value, is_ext)
        else:
            plain[key] = value
    result: dict[str, str] = {}
    for base, segments in extended.items():
        charset = None
        data = bytearray()
        for index in sorted(segments):
            value, is_ext = segments[index]
            if is_ext:
                if index == min(segments) and value.count("'") >= 2:
                    charset, _, value = value.split("'", 2)
                # raw 8-bit bytes in the value come from the parser as surrogate escapes
                data += urllib.parse.unquote_to_bytes(value.encode("utf-8", "surrogateescape"))
            else:
                data += _fix_8bit(value).encode("utf-8")
        result[base] = decode_bytes(bytes(data), charset or "utf-8")
    for key, value in plain.items():
        if key not in result:
            result[key] = decode_header_text(value) or ""
    return result


def part_filename(part: Message) -> str | None:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        values = raw_headers(part, header)
        if values:
            name = parse_params(values[0]).get(param)
            if name:
                return name
    return None


def _disposition(part: Message) -> str | None:
    values = raw_headers(part, "content-disposition")
    if not values:
        return None
    return _unfold(values[0]).split(";", 1)[0].strip().lower() or None


# ---------------------------------------------------------------- date


def parse_date(value: str | None) -> tuple[Timestamp | None, str | None]:
    """(UTC time, offset "+09:00") of an RFC 5322 date; (None, None) when the zone is missing
    or unknown, or the text is not a date."""
    if not value:
        return None, None
    text = _COMMENT.sub(" ", _COMMENT.sub(" ", value))
    match = _DATE.match(text)
    if not match:
        return None, None
    day, mon, year, hour, minute, second, zone = match.groups()
    month = _MONTHS.get(mon.lower())
    if month is None or zone is None:
        return None, None
    year_n = int(year)
    if len(year) == 2:
        year_n += 2000 if year_n < 50 else 1900
    elif len(year) == 3:
        year_n += 1900
    if zone[0] in "+-" and zone[1:].isdigit():
        hours, minutes = int(zone[1:3]), int(zone[3:5])
        if minutes >= 60:
            return None, None
        offset = (hours * 60 + minutes) * (-1 if zone[0] == "-" else 1)
    else:
        offset = _ZONES.get(zone.upper())
        if offset is None:
            return None, None
    sec = int(second or 0)
    try:
        _dt.date(year_n, month, int(day))
    except ValueError:
        return None, None
    if int(hour) > 23 or int(minute) > 59 or sec > 60:
        return None, None
    seconds = calendar.timegm((year_n, month, int(day), int(hour), int(minute), sec, 0, 0, 0))
    seconds -= offset * 60
    sign = "-" if offset < 0 or zone == "-0000" else "+"  # -0000: UTC, sender's zone unknown
    return posix(seconds), f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


# ---------------------------------------------------------------- splitting the file


@dataclass
class RawMessage:
    offset: int
    separator: bytes
    size: int = 0
    truncated: bool = False
    content: bytearray = field(default_factory=bytearray)

    def add(self, line: bytes) -> None:
        self.size += len(line)
        if self.truncated:
            return
        if self.size <= MAX_MESSAGE_BYTES:
            self.content += line
            return
        self.truncated = True
        self.content += line
        end = -1
        for marker in (b"\r\n\r\n", b"\n\n"):
            found = self.content.find(marker)
            if found != -1 and (end == -1 or found < end):
                end = found + len(marker)
        keep = end if end != -1 else HEADER_KEEP
        del self.content[min(keep, HEADER_KEEP):]

    def body(self) -> bytes:
        data = bytes(self.content)
        if not self.truncated:  # the blank line before the next separator is mbox's own
            if data.endswith(b"\r\n\r\n"):
                data = data[:-2]
            elif data.endswith(b"\n\n"):
                data = data[:-1]
        return data


class _RawReader(io.RawIOBase):
    """Any object with read() (a dfVFS file object has no readline) as a raw stream, so an
    io.BufferedReader can give lines."""

    def __init__(self, handle: Any):
        self.handle = handle

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.handle.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        return size


def split_mbox(handle: BinaryIO) -> Iterator[RawMessage]:
    """The messages of an mbox file, one at a time; nothing when it does not start with
    a "From " line."""
    handle = io.BufferedReader(_RawReader(handle), buffer_size=1024 * 1024)
    position = 0
    current: RawMessage | None = None
    line_start = True
    while True:
        line = handle.readline(MAX_LINE)
        if not line:
            break
        if line_start and line.startswith(b"From "):
            if current is not None:
                yield current
            current = RawMessage(offset=position, separator=line.rstrip(b"\r\n"))
        elif current is None:
            return  # not an mbox file
        else:
            current.add(line)
        position += len(line)
        line_start = line.endswith(b"\n")
    if current is not None:
        yield current


# ---------------------------------------------------------------- paths


def thunderbird_location(path: str) -> tuple[str | None, str]:
    """(account, folder) of a Thunderbird mbox path: `.../Mail/Local Folders/Inbox.sbd/Sub`
    -> ("Local Folders", "Inbox/Sub"); a file elsewhere -> (None, its name)."""
    parts = [p for p in path.split("/") if p]
    for index, part in enumerate(parts[:-1]):
        if part.lower() in ("mail", "imapmail") and index + 2 < len(parts):
            account = parts[index + 1]
            folder = [p[:-4] if p.lower().endswith(".sbd") else p for p in parts[index + 2:]]
            return account, "/".join(folder)
    return None, parts[-1] if parts else ""


# ---------------------------------------------------------------- message content


def _hex_flags(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value.strip(), 16)
    except ValueError:
        return None


def attachments_of(msg: Message, sink: Any = None) -> list[dict[str, Any]]:
    """Every attachment part: name, size and SHA-256 of the decoded content; with a `sink`
    (triage.mail_export.AttachmentSink) the content is also handed to it."""
    found: list[dict[str, Any]] = []
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS or len(found) >= MAX_ATTACHMENTS:
            break
        disposition = _disposition(part)
        name = part_filename(part)
        content_type = part.get_content_type()
        if part.is_multipart():
            if content_type == "message/rfc822" and (disposition == "attachment" or name):
                found.append({"name": name or "(attached message)", "size": None,
                              "sha256": None, "mime_type": content_type, "inline": False})
            continue
        if disposition != "attachment" and not name:
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, AssertionError):
            payload = None
        if not isinstance(payload, bytes):
            payload = b""
        if sink is not None:
            writer = sink.open_attachment(len(found), name)
            writer.write(payload)
            writer.close()
        found.append({"name": name, "size": len(payload),
                      "sha256": hashlib.sha256(payload).hexdigest(),
                      "mime_type": content_type, "inline": disposition == "inline"})
    return found


def first_text(msg: Message, limit: int) -> str | None:
    for count, part in enumerate(msg.walk()):
        if count >= MAX_PARTS:
            break
        if part.get_content_type() != "text/plain" or _disposition(part) == "attachment":
            continue
        try:
            payload = part.get_payload(decode=True)
        except (ValueError, TypeError, AssertionError):
            continue
        if isinstance(payload, bytes):
            return decode_bytes(payload, part.get_content_charset())[:limit]
    return None


def _recipient_text(values: list[str]) -> str:
    if not values:
        return "(no recipients)"
    text = ", ".join(values[:3])
    if len(values) > 3:
        text += f" and {len(values) - 3} more"
    return text


def message_fields(msg: Message, headers_only: bool, ctx: ExtractionContext,
                   domains: tuple[list[str], Any] | None = None
                   ) -> tuple[Timestamp | None, dict[str, Any]]:
    """The Date header's time and the fields every RFC 5322 message event has (mbox, .eml):
    message_id, subject, date, sender, recipients, attachments (none when `headers_only`),
    the external / free-mail classification, time_roles and, on request, body_preview.
    `domains`: (internal domains, free-mail list) when the caller has them for a whole store."""
    internal, freemail = domains or (internal_domains_for(ctx), freemail_for(ctx))
    date_header = first_header(msg, "date")
    stamp, offset = parse_date(date_header)
    recipients = []
    for header, kind in (("to", "to"), ("cc", "cc"), ("bcc", "bcc")):
        for name, address in addresses(raw_headers(msg, header)):
            recipients.append({"type": kind, "name": name, "address": address})
    recipients = recipients[:MAX_RECIPIENTS]
    senders = addresses(raw_headers(msg, "from"), 1)
    sender_name, sender_address = senders[0] if senders else (None, None)
    attachments = [] if headers_only else attachments_of(msg, ctx.options.get("attachment_sink"))
    data: dict[str, Any] = {
        "message_id": first_header(msg, "message-id"),
        "subject": first_header(msg, "subject"), "date_header": date_header,
        "date_offset": offset, "sender_name": sender_name, "sender_address": sender_address,
        "to": [r["address"] for r in recipients if r["type"] == "to"],
        "cc": [r["address"] for r in recipients if r["type"] == "cc"],
        "bcc": [r["address"] for r in recipients if r["type"] == "bcc"],
        "recipients": recipients,
        "has_attachments": bool(attachments), "attachment_count": len(attachments),
        "attachment_names": [a["name"] for a in attachments],
        "attachment_sha256": [a["sha256"] for a in attachments],
        "attachments": attachments,
        **summarize([r["address"] for r in recipients], internal, freemail),
        **sender_fields(sender_address, internal, freemail),
        "time_roles": ["Sent"],
    }
    try:
        preview = max(0, int(ctx.options.get("mail_body_preview", 0) or 0))
    except (TypeError, ValueError):
        preview = 0
    if preview > 0 and not headers_only:
        data["body_preview"] = first_text(msg, preview)
    return stamp, data


def mail_message(kind: str, subject: str | None, sender_name: str | None,
                 sender_address: str | None, recipients: list[str], attachments: int,
                 where: str) -> str:
    sender = sender_address or sender_name or "(unknown sender)"
    if sender_name and sender_address and sender_name != sender_address:
        sender = f"{sender_name} <{sender_address}>"
    text = f'{kind} "{subject or "(no subject)"}" from {sender} to {_recipient_text(recipients)}'
    if attachments:
        text += f" ({attachments} attachment{'s' if attachments != 1 else ''})"
    return f"{text} [{where}]"


@register
class MboxExtractor(Extractor):
    name = "mbox"
    family = "mail"
    description = "mbox mail folders (Thunderbird): messages, recipients, attachments (hashed)"

    exports_attachments = True  # hands attachment content to an `attachment_sink` option

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        account, folder = thunderbird_location(f.path)
        top = folder.split("/", 1)[0].lower()
        base = {"mailbox_format": "mbox", "account": account, "folder": folder,
                "deleted_folder": top in ("trash", "deleted items", "deleted messages")}
        domains = (internal_domains_for(ctx), freemail_for(ctx))  # once per store
        handle = f.open()
        try:
            for index, raw in enumerate(split_mbox(handle), start=1):
                yield self._event(raw, index, base, ctx, domains)
        finally:
            handle.close()

    @staticmethod
    def _event(raw: RawMessage, index: int, base: dict[str, Any], ctx: ExtractionContext,
               domains: tuple[list[str], Any]) -> Event:
        content = raw.body()
        if raw.truncated:
            ctx.warn(f"message {index} at offset {raw.offset} is {raw.size} bytes (over "
                     f"{MAX_MESSAGE_BYTES}): headers only, attachments not listed")
            msg = BytesHeaderParser(policy=compat32).parsebytes(content)
        else:
            msg = BytesParser(policy=compat32).parsebytes(content)
        sink = ctx.options.get("attachment_sink")
        try:
            stamp, fields = message_fields(msg, raw.truncated, ctx, domains)
        except BaseException:
            if sink is not None:
                sink.discard()
            raise
        status = _hex_flags(first_header(msg, "x-mozilla-status"))
        status2 = _hex_flags(first_header(msg, "x-mozilla-status2"))
        deleted = None
        if status is not None or status2 is not None:
            deleted = bool((status or 0) & MOZ_EXPUNGED) or bool((status2 or 0) & MOZ2_IMAP_DELETED)
        data: dict[str, Any] = {
            **base,
            "message_index": index, "mbox_offset": raw.offset, "message_size": raw.size,
            "truncated": raw.truncated, **fields,
            "mozilla_status": status, "mozilla_status2": status2,
            "read": bool(status & MOZ_READ) if status is not None else None,
            "replied": bool(status & MOZ_REPLIED) if status is not None else None,
            "forwarded": bool(status & MOZ_FORWARDED) if status is not None else None,
            "flagged": bool(status & MOZ_MARKED) if status is not None else None,
            "deleted": deleted,
        }
        if sink is not None:
            sink.message(data)
        where = f"{base['account']}: {base['folder']}" if base["account"] else base["folder"]
        message = mail_message("Mail", data["subject"], data["sender_name"],
                               data["sender_address"], [r["address"] for r in data["recipients"]],
                               data["attachment_count"], where)
        if deleted:
            message += " (deleted, still in the mbox file)"
        if stamp is None:
            message += " (the Date header gives no usable time)" if data["date_header"] else \
                " (no Date header)"
        return Event(stamp, "Sent", message, data)


__all__ = ["MboxExtractor", "addresses", "message_fields", "decode_bytes", "decode_header_text", "parse_date",
           "parse_params", "split_mbox", "thunderbird_location"]
