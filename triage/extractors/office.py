"""Document properties: who wrote a document, who last saved it, and when (Office and PDF).

Three extractors, one per container format. Every event's data carries the document's own
`file_name` and `sha256` (of the whole file as found), so a known leaked file can be matched,
and `format`. Each document gives up to three events, in this order, each with every property
in its data: "Created", "Last Saved" ("Modified" for PDF) and "Last Printed". When a document
records none of these times, one "Created" event with no timestamp is still emitted so its
properties and hash are not lost. A time that is present but cannot be placed in UTC (no time
zone written, or not a valid date) gives its event with no timestamp; the text as written is
kept in `<field>_raw`. No time is ever invented or assumed to be in a zone.

Problems: a part that cannot be read (a malformed properties part, an unreadable property-set
stream, a PDF's /Info or XMP that cannot be found or decoded) is an error for the file, and
what could be read is still reported; odd values (an invalid date, a non-numeric count, a
damaged property) are warnings; an encrypted PDF is a note. A file that is not of its format,
or holds something hostile (a DTD, a ZIP bomb), raises ArtifactError.

Shared data fields (None when the document does not record them):
    title, subject, author, keywords, comments, category, last_saved_by, revision (text, as
    written), created, last_saved, last_printed (ISO 8601 UTC), template, application,
    app_version (text), company, manager, pages, words, characters, characters_with_spaces,
    lines, paragraphs, slides, notes, hidden_slides, security (integers), has_vba_project.

OOXML, extractor "ooxml" (.docx .xlsx .pptx .docm .xlsm .pptm .dotx ...; ECMA-376 Part 2, Open
Packaging Conventions, core properties; Part 1, extended properties). A ZIP package: the core
and extended properties parts are located through the package relationships `_rels/.rels`
(falling back to `docProps/core.xml` and `docProps/app.xml`).
    core.xml: dc:creator -> author, cp:lastModifiedBy -> last_saved_by, dcterms:created ->
        created, dcterms:modified -> last_saved, cp:lastPrinted -> last_printed, cp:revision,
        dc:title, dc:subject, cp:keywords, dc:description -> comments, cp:category, and
        cp:contentStatus, dc:language, dc:identifier, cp:version (content_status, language,
        identifier, version).
    Times are W3CDTF (ISO 8601 profile): 'Z' is UTC, +hh:mm / -hh:mm are converted to UTC, the
        fractional digits written are kept; a time without a zone or a date alone is local
        or imprecise and gives no timestamp. created_raw, last_saved_raw, last_printed_raw keep
        the text as written.
    app.xml: Application, AppVersion, Company, Manager, TotalTime -> edit_time_minutes (total
        editing time in minutes), Template, Pages, Words, Characters, CharactersWithSpaces,
        Lines, Paragraphs, Slides, Notes, HiddenSlides, DocSecurity -> security.
    has_vba_project: the package holds a vbaProject.bin part (macros).
    Safety: at most 10,000 ZIP members; a properties part declaring over 10 MiB or a
    compression ratio over 100 is refused, and so is any XML with a DTD or entity declaration
    (no external entities, no entity expansion); reads are bounded whatever the ZIP declares.

OLE2 compound files, extractor "ole_summary" (.doc .xls .ppt; [MS-CFB] container read with
libolecf, [MS-OLEPS] property sets parsed here): the `\\x05SummaryInformation` stream
(FMTID_SummaryInformation F29F85E0-4FF9-1068-AB91-08002B27B3D9) and the
`\\x05DocumentSummaryInformation` stream (FMTID_DocSummaryInformation
D5CDD502-2E9C-101B-9397-08002B2CF9AE; its second, user-defined section is not read).
    SummaryInformation: 2 title, 3 subject, 4 author, 5 keywords, 6 comments, 7 template,
        8 last_saved_by, 9 revision, 10 edit time, 11 last printed, 12 created, 13 last saved,
        14 pages, 15 words, 16 characters, 18 application, 19 security.
    DocumentSummaryInformation: 2 category, 5 lines, 6 paragraphs, 7 slides, 8 notes,
        9 hidden_slides, 14 manager, 15 company, 17 characters_with_spaces, 23 app_version
        (major.minor from the high and low 16 bits).
    created, last_saved and last_printed are FILETIME, UTC, seven fractional digits (Office
    writes whole minutes). edit_time_seconds is the total editing time, a FILETIME used as a
    duration (100 ns ticks; a whole number of seconds is given as an integer). code_page is the
    property set's code page (property 1), used for 8-bit strings (e.g. 932 Shift_JIS, 1252;
    1200 means UTF-16LE). root_modified is the root storage's modification time (FILETIME
    UTC, or None). has_vba_project: a `Macros` (Word) or `_VBA_PROJECT_CUR` (Excel) storage
    (PowerPoint keeps its macros inside its own stream: not detected). A password-protected
    OOXML document is an OLE2 file holding an `EncryptedPackage` stream: it is read here
    (format "OLE2 (encrypted OOXML package)", and a note), whichever extractor its name chose;
    an OOXML package with a legacy extension is handed to "ooxml" the same way.

PDF, extractor "pdf_info" (ISO 32000-1 7.5.5 file trailer, 14.3.3 document information
dictionary, 14.3.2 metadata streams; XMP, ISO 16684-1). No full PDF parser: the trailer or
cross-reference stream dictionary is found in the last 64 KiB, indirect objects by a scan for
`N G obj` (the last one in the file wins, as with incremental updates; at most a million
objects, the newest, are indexed) or inside object streams (FlateDecode only; at most 16 MiB
per stream and 64 MiB in all are inflated). Files over 200 MiB are refused.
    Info: title, author, subject, keywords, creator (the authoring application), producer,
        trapped, info_custom (any other text entries); CreationDate -> created, ModDate ->
        modified, with created_raw / modified_raw as written. Dates are D:YYYYMMDDHHmmSSOHH'mm':
        with O 'Z', '+' or '-' they are converted to UTC (precision: seconds); with no O the
        relation to UTC is unknown and the event has no timestamp. Text strings are
        PDFDocEncoding, UTF-16BE with a byte-order mark, or UTF-8 with one; literal or hex.
    XMP (the catalog's /Metadata stream): xmp_created, xmp_modified, xmp_metadata_date (UTC,
        with their _raw texts), xmp_creator_tool, xmp_producer, xmp_authors (dc:creator, a
        list), xmp_title, xmp_document_id, xmp_instance_id (xmpMM). Events "Created (XMP)" and
        "Modified (XMP)" are added only when the XMP time differs from the Info time (or the
        Info time is missing): a mismatch is worth seeing.
    pdf_version (from the %PDF- header), encrypted (an /Encrypt entry: strings are not
    decrypted, so no properties are read), document_id (the trailer /ID, hex), eof_markers (the
    number of %%EOF markers: more than one usually means incremental updates, or linearization).
"""
from __future__ import annotations

import bisect
import codecs
import datetime as _dt
import hashlib
import re
import struct
import uuid
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator
from urllib.parse import unquote
from xml.parsers import expat

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, filetime

try:  # libolecf-python: only the OLE2 extractor needs it
    import pyolecf
except ImportError:  # pragma: no cover - depends on the installation
    pyolecf = None

_CHUNK = 1 << 20
_MiB = 1 << 20

# ---------------------------------------------------------------------------------- common


def _sha256(f: EvidenceFile) -> str:
    """SHA-256 of the whole file, streamed in 1 MiB chunks (memory stays bounded)."""
    digest = hashlib.sha256()
    with f.open() as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _iso(ts: Timestamp | None) -> str | None:
    return ts.iso() if ts else None


def _checked_filetime(value: int, what: str, problems: list[str]) -> Timestamp | None:
    """filetime(), and None (with a problem noted) for a time past year 9999."""
    ts = filetime(value)
    if ts is None:
        return None
    try:
        ts.iso()
    except (OverflowError, ValueError):
        problems.append(f"{what} FILETIME 0x{value:016X} is out of range")
        return None
    return ts


_W3CDTF = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)


def _aware(year: int, month: int, day: int, hour: int, minute: int, second: int,
           offset_minutes: int) -> _dt.datetime:
    zone = _dt.timezone(_dt.timedelta(minutes=offset_minutes))
    return _dt.datetime(year, month, day, hour, minute, second, tzinfo=zone)


def _to_timestamp(value: _dt.datetime, fraction: str) -> Timestamp:
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    seconds = (value - epoch) // _dt.timedelta(seconds=1)
    fraction = fraction[:9]
    frac_ns = int((fraction + "000000000")[:9]) if fraction else 0
    return Timestamp(seconds * 1_000_000_000 + frac_ns, len(fraction))


def parse_w3cdtf(text: str) -> tuple[Timestamp | None, str | None]:
    """(UTC timestamp, problem). No timestamp for a date alone or a time without a zone."""
    match = _W3CDTF.match(text.strip())
    if not match:
        return None, f"not a W3CDTF time: {text!r}"
    year, month, day, hour, minute, second, frac, zone = match.groups()
    if hour is None or zone is None:
        return None, None  # local or imprecise: kept raw, never placed in UTC by guesswork
    if zone == "Z":
        offset = 0
    else:
        digits = zone[1:].replace(":", "")
        offset = int(digits[:2]) * 60 + int(digits[2:])
        if int(digits[2:]) > 59 or offset > 14 * 60:
            return None, f"implausible time zone offset in {text!r}"
        offset = -offset if zone[0] == "-" else offset
    try:
        value = _aware(int(year), int(month), int(day), int(hour), int(minute),
                       int(second or 0), offset)
    except ValueError:
        return None, f"not a valid date and time: {text!r}"
    return _to_timestamp(value, frac or ""), None


def _message(name: str, desc: str, author: str | None, last_saved_by: str | None,
             revision: str | None, note: str | None) -> str:
    if desc == "Created":
        head = f"created by {author}" if author else "created"
        extras = [f"last saved by {last_saved_by}" if last_saved_by else ""]
    elif desc == "Last Saved":
        head = f"last saved by {last_saved_by}" if last_saved_by else "last saved"
        extras = [f"created by {author}" if author else ""]
    else:
        head = "last printed"
        extras = [f"created by {author}" if author else "",
                  f"last saved by {last_saved_by}" if last_saved_by else ""]
    extras.append(f"revision {revision}" if revision else "")
    text = f"{name}: {head}"
    shown = [e for e in extras if e]
    if shown:
        text += f" ({', '.join(shown)})"
    if note:
        text += f"; {note}"
    return text


_BIN_SID = re.compile(r"^/(?:\$Recycle\.Bin|RECYCLER)/(S-1-\d+(?:-\d+)+)/", re.IGNORECASE)


def _bin_user(f: EvidenceFile, ctx: ExtractionContext) -> str | None:
    """The owner of the Recycle Bin folder a document lies in (None elsewhere: the engine
    names the profile owner from /Users/<name>/ paths itself)."""
    match = _BIN_SID.match(f.path)
    return ctx.user_for_sid(match.group(1)) if match else None


def _office_events(name: str, data: dict, times: list[tuple[str, Timestamp | None, str | None]],
                   user: str | None = None) -> Iterator[Event]:
    """One event per recorded time (desc, timestamp, raw text or None when absent)."""
    present = [(desc, ts, raw) for desc, ts, raw in times if ts is not None or raw]
    if not present:
        present = [("Created", None, None)]
    for desc, ts, raw in present:
        note = None
        if ts is None and raw:
            note = f"time {raw!r} has no time zone or is not valid: not placed in UTC"
        message = _message(name, desc, data.get("author"), data.get("last_saved_by"),
                           data.get("revision"), note)
        yield Event(timestamp=ts, timestamp_desc=desc, message=message, data=dict(data),
                    user=user)


# ------------------------------------------------------------------------------ safe XML


@dataclass
class _Node:
    ns: str
    tag: str
    attrs: dict[tuple[str, str], str]
    children: list["_Node"] = field(default_factory=list)
    text: str = ""

    def find(self, tag: str) -> "_Node | None":
        return next((c for c in self.children if c.tag == tag), None)

    def iter(self) -> Iterator["_Node"]:
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))


class XmlRefused(Exception):
    """XML that could expand entities or reach outside: refused, never parsed."""


_MAX_XML_ELEMENTS = 100_000
_MAX_XML_DEPTH = 256


def _split(name: str) -> tuple[str, str]:
    ns, sep, local = name.rpartition(" ")
    return (ns, local) if sep else ("", name)


def _refuse_dtd(raw: bytes, what: str) -> None:
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise XmlRefused(f"{what} has a DTD or entity declaration: refused")


def parse_xml(raw: bytes, what: str) -> _Node:
    """A namespace-aware tree of `raw`; no DTD, no entity declarations, bounded size.

    Raises XmlRefused for a DTD or entity declaration (before and while parsing, so an encoded
    declaration the byte check misses is still caught) and ValueError for malformed XML.
    """
    _refuse_dtd(raw, what)
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root: list[_Node] = []
    stack: list[_Node] = []
    count = [0]

    def refuse(*_args: Any) -> None:
        raise XmlRefused(f"{what} has a DTD or entity declaration: refused")

    def start(name: str, attrs: dict[str, str]) -> None:
        count[0] += 1
        if count[0] > _MAX_XML_ELEMENTS or len(stack) >= _MAX_XML_DEPTH:
            raise ValueError(f"{what} is too large or too deeply nested")
        ns, local = _split(name)
        node = _Node(ns, local, {_split(k): v for k, v in attrs.items()})
        if stack:
            stack[-1].children.append(node)
        else:
            root.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def chars(text: str) -> None:
        if stack and len(stack[-1].text) < _MiB:
            stack[-1].text += text

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        raise ValueError(f"{what} is not well-formed XML: {exc}") from None
    if not root:
        raise ValueError(f"{what} has no root element")
    return root[0]


# ------------------------------------------------------------------------------------ OOXML

_MAX_ZIP_MEMBERS = 10_000
_MAX_PART = 10 * _MiB
_MAX_RATIO = 100
_CORE_NS_HINT = "core-properties"
_APP_REL_HINTS = ("extended-properties", "extendedProperties")

_CORE_TEXT = {  # core.xml element (local name) -> data key
    "title": "title", "subject": "subject", "creator": "author", "keywords": "keywords",
    "description": "comments", "category": "category", "lastModifiedBy": "last_saved_by",
    "revision": "revision", "contentStatus": "content_status", "language": "language",
    "identifier": "identifier", "version": "version",
}
_CORE_TIMES = {"created": "created", "modified": "last_saved", "lastPrinted": "last_printed"}
_APP_TEXT = {"Application": "application", "AppVersion": "app_version", "Company": "company",
             "Manager": "manager", "Template": "template"}
_APP_INT = {"TotalTime": "edit_time_minutes", "Pages": "pages", "Words": "words",
            "Characters": "characters", "CharactersWithSpaces": "characters_with_spaces",
            "Lines": "lines", "Paragraphs": "paragraphs", "Slides": "slides", "Notes": "notes",
            "HiddenSlides": "hidden_slides", "DocSecurity": "security"}

_SHARED_KEYS = ("title", "subject", "author", "keywords", "comments", "category",
                "last_saved_by", "revision", "created", "last_saved", "last_printed", "template",
                "application", "app_version", "company", "manager")
_COUNT_KEYS = ("pages", "words", "characters", "characters_with_spaces", "lines", "paragraphs",
               "slides", "notes", "hidden_slides", "security")


def _zip_declared_entries(handle: BinaryIO) -> int | None:
    """Member count from the end-of-central-directory record (Zip64 aware), before zipfile
    builds one object per member; None when no record is found (zipfile then says why)."""
    handle.seek(0, 2)
    size = handle.tell()
    start = max(0, size - (65535 + 22))
    handle.seek(start)
    tail = handle.read()
    pos = tail.rfind(b"PK\x05\x06")
    if pos < 0 or pos + 22 > len(tail):
        return None
    (total,) = struct.unpack_from("<H", tail, pos + 10)
    if total != 0xFFFF or pos < 20 or tail[pos - 20:pos - 16] != b"PK\x06\x07":
        return total
    (record_offset,) = struct.unpack_from("<Q", tail, pos - 20 + 8)
    if record_offset + 56 > size:
        return None
    handle.seek(record_offset)
    record = handle.read(56)
    if record[:4] != b"PK\x06\x06":
        return None
    return struct.unpack_from("<Q", record, 32)[0]


def _read_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, refusing what could exhaust memory (ArtifactError)."""
    what = info.filename
    if info.flag_bits & 0x1:
        raise ArtifactError(f"{what} is encrypted")
    if info.file_size > _MAX_PART:
        raise ArtifactError(f"{what} declares {info.file_size} bytes, over the 10 MiB limit:"
                            " refused")
    if info.file_size > _MAX_RATIO * max(info.compress_size, 1) or (
            info.file_size and not info.compress_size):
        raise ArtifactError(f"{what} compression ratio is over {_MAX_RATIO} (ZIP bomb?): refused")
    try:
        with zf.open(info) as member:
            data = member.read(_MAX_PART + 1)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError, ValueError) as exc:
        raise ArtifactError(f"{what} cannot be read: {_one_line(exc)}") from None
    if len(data) > _MAX_PART:
        raise ArtifactError(f"{what} is over the 10 MiB limit: refused")
    return data


def _relationship_targets(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo],
                          ctx: ExtractionContext, path: str) -> tuple[str | None, str | None]:
    """Part names of the core and extended properties according to `_rels/.rels`."""
    info = members.get("_rels/.rels")
    if info is None:
        return None, None
    try:
        root = parse_xml(_read_part(zf, info), "_rels/.rels")
    except XmlRefused as exc:
        raise ArtifactError(str(exc)) from None
    except ValueError as exc:
        ctx.warn(f"{path}: {exc}")
        return None, None
    core = app = None
    for rel in root.iter():
        if rel.tag != "Relationship":
            continue
        kind = rel.attrs.get(("", "Type"), "")
        target = unquote(rel.attrs.get(("", "Target"), "")).lstrip("/")
        if rel.attrs.get(("", "TargetMode"), "") == "External" or not target:
            continue
        if kind.endswith(_CORE_NS_HINT) and core is None:
            core = target
        elif kind.endswith(_APP_REL_HINTS) and app is None:
            app = target
    return core, app


def _child_text(node: _Node) -> str:
    return node.text.strip()


@register
class OoxmlProperties(Extractor):
    """Core and extended properties of an Office Open XML package (Word, Excel, PowerPoint)."""

    name = "ooxml"
    family = "documents"
    description = "Office Open XML document properties (docProps/core.xml, docProps/app.xml)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        if f.read(8) == _OLE_SIGNATURE:
            # A password-protected OOXML document is an OLE2 file holding EncryptedPackage
            # (or the file is a legacy document with a new extension): read it as one.
            yield from OleSummary().extract(f, ctx)
            return
        data: dict[str, Any] = {"file_name": f.name, "sha256": _sha256(f), "format": "OOXML"}
        for key in _SHARED_KEYS:
            data[key] = None
        for key in ("content_status", "language", "identifier", "version",
                    "created_raw", "last_saved_raw", "last_printed_raw", "edit_time_minutes"):
            data[key] = None
        for key in _COUNT_KEYS:
            data[key] = None
        with f.open() as handle:
            try:
                declared = _zip_declared_entries(handle)
            except OSError as exc:
                raise ArtifactError(f"cannot read the file: {_one_line(exc)}") from None
            if declared is not None and declared > _MAX_ZIP_MEMBERS:
                raise ArtifactError(f"ZIP declares {declared} members, over the "
                                    f"{_MAX_ZIP_MEMBERS} limit: refused")
            handle.seek(0)
            try:
                zf = zipfile.ZipFile(handle)
            except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
                    NotImplementedError, struct.error) as exc:
                raise ArtifactError(f"not a ZIP archive (an OOXML document is one): "
                                    f"{_one_line(exc)}") from None
            with zf:
                infos = zf.infolist()
                if len(infos) > _MAX_ZIP_MEMBERS:
                    raise ArtifactError(f"ZIP has {len(infos)} members, over the "
                                        f"{_MAX_ZIP_MEMBERS} limit: refused")
                members: dict[str, zipfile.ZipInfo] = {}
                for info in infos:  # OPC part names compare case-insensitively
                    members.setdefault(info.filename.lower(), info)
                if "[content_types].xml" not in members:
                    raise ArtifactError("ZIP archive without [Content_Types].xml: "
                                        "not an OOXML package")
                data["has_vba_project"] = any(n.rsplit("/", 1)[-1] == "vbaproject.bin"
                                              for n in members)
                core_name, app_name = _relationship_targets(zf, members, ctx, f.path)
                core = self._part(zf, members, core_name or "docProps/core.xml", ctx, f.path)
                app = self._part(zf, members, app_name or "docProps/app.xml", ctx, f.path)
        times: dict[str, Timestamp | None] = {}
        if core is not None:
            self._core(core, data, times, ctx, f.path)
        if app is not None:
            self._app(app, data, ctx, f.path)
        yield from _office_events(f.name, data, [
            ("Created", times.get("created"), data["created_raw"]),
            ("Last Saved", times.get("last_saved"), data["last_saved_raw"]),
            ("Last Printed", times.get("last_printed"), data["last_printed_raw"]),
        ], _bin_user(f, ctx))

    @staticmethod
    def _part(zf: zipfile.ZipFile, members: dict[str, zipfile.ZipInfo], name: str,
              ctx: ExtractionContext, path: str) -> _Node | None:
        info = members.get(name.lower())
        if info is None:
            return None
        raw = _read_part(zf, info)
        try:
            return parse_xml(raw, info.filename)
        except XmlRefused as exc:
            raise ArtifactError(str(exc)) from None
        except ValueError as exc:
            ctx.error(f"{path}: {exc}; its properties are not read")
            return None

    @staticmethod
    def _core(root: _Node, data: dict, times: dict, ctx: ExtractionContext, path: str) -> None:
        for child in root.children:
            if child.tag in _CORE_TEXT:
                key = _CORE_TEXT[child.tag]
                if data.get(key) is None:
                    data[key] = _child_text(child)
            elif child.tag in _CORE_TIMES:
                key = _CORE_TIMES[child.tag]
                raw = _child_text(child)
                if not raw or data.get(f"{key}_raw") is not None:
                    continue
                ts, problem = parse_w3cdtf(raw)
                if problem:
                    ctx.warn(f"{path}: {child.tag}: {problem}")
                data[f"{key}_raw"] = raw
                data[key] = _iso(ts)
                times[key] = ts

    @staticmethod
    def _app(root: _Node, data: dict, ctx: ExtractionContext, path: str) -> None:
        for child in root.children:
            if child.tag in _APP_TEXT:
                data[_APP_TEXT[child.tag]] = _child_text(child)
            elif child.tag in _APP_INT:
                raw = _child_text(child)
                try:
                    data[_APP_INT[child.tag]] = int(raw)
                except ValueError:
                    ctx.warn(f"{path}: app.xml {child.tag} is not an integer: {raw[:40]!r}")


# ------------------------------------------------------------------- OLE2 property sets

FMTID_SUMMARY = uuid.UUID("F29F85E0-4FF9-1068-AB91-08002B27B3D9")
FMTID_DOC_SUMMARY = uuid.UUID("D5CDD502-2E9C-101B-9397-08002B2CF9AE")
FMTID_USER_DEFINED = uuid.UUID("D5CDD505-2E9C-101B-9397-08002B2CF9AE")

VT_I2, VT_I4, VT_BOOL, VT_I1, VT_UI1, VT_UI2, VT_UI4 = 0x02, 0x03, 0x0B, 0x10, 0x11, 0x12, 0x13
VT_I8, VT_UI8, VT_INT, VT_UINT = 0x14, 0x15, 0x16, 0x17
VT_LPSTR, VT_LPWSTR, VT_FILETIME = 0x1E, 0x1F, 0x40
_INT_TYPES = {VT_I2: "<h", VT_I4: "<i", VT_I1: "<b", VT_UI1: "<B", VT_UI2: "<H", VT_UI4: "<I",
              VT_I8: "<q", VT_UI8: "<Q", VT_INT: "<i", VT_UINT: "<I"}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_MAX_PROPERTIES = 10_000
_MAX_STREAM = 4 * _MiB  # property sets are small; a thumbnail can make them a few hundred KiB
CP_WINUNICODE = 1200

_CODECS = {1200: "utf-16-le", 1201: "utf-16-be", 65001: "utf-8", 20127: "ascii",
           28591: "latin-1", 10000: "mac_roman", 20932: "euc_jp", 51932: "euc_jp",
           50220: "iso2022_jp", 936: "gbk", 54936: "gb18030", 949: "cp949", 950: "cp950",
           932: "cp932"}


class FileTimeValue(int):
    """A VT_FILETIME value (100 ns ticks since 1601, or a duration in ticks)."""


@dataclass
class PropertySection:
    fmtid: uuid.UUID
    code_page: int | None
    values: dict[int, Any]


def _codec(code_page: int | None) -> str:
    if code_page is None:
        return "cp1252"
    name = _CODECS.get(code_page, f"cp{code_page}")
    try:
        codecs.lookup(name)
    except LookupError:
        return ""
    return name


def _decode_8bit(raw: bytes, code_page: int | None, problems: list[str], pid: int) -> str:
    if code_page == CP_WINUNICODE:
        text = raw[: len(raw) - len(raw) % 2].decode("utf-16-le", errors="replace")
    else:
        codec = _codec(code_page)
        if not codec:
            problems.append(f"code page {code_page} unknown: property {pid} decoded as "
                            "Windows-1252")
            codec = "cp1252"
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            problems.append(f"property {pid} is not valid in code page {code_page}")
            text = raw.decode(codec, errors="replace")
    return text.split("\0", 1)[0]


def _parse_section(data: bytes, start: int, fmtid: uuid.UUID, problems: list[str]
                   ) -> PropertySection:
    if start + 8 > len(data):
        problems.append(f"section at offset {start} lies outside the stream ({len(data)} bytes)")
        return PropertySection(fmtid, None, {})
    size, count = struct.unpack_from("<II", data, start)
    end = start + size
    if size < 8 or end > len(data):
        problems.append(f"section at offset {start} declares {size} bytes; the stream has "
                        f"{len(data) - start} from there")
        end = len(data)
    most = min(_MAX_PROPERTIES, (end - start - 8) // 8)
    if count > most:
        problems.append(f"section declares {count} properties, room for {most}")
        count = most
    raw_values: dict[int, tuple[int, Any]] = {}
    for index in range(count):
        pid, offset = struct.unpack_from("<II", data, start + 8 + index * 8)
        pos = start + offset
        if offset < 8 or pos + 4 > end:
            problems.append(f"property {pid} offset {offset} lies outside its section")
            continue
        (vt,) = struct.unpack_from("<H", data, pos)
        body = pos + 4
        value: Any = None
        if vt in _INT_TYPES:
            fmt = _INT_TYPES[vt]
            if body + struct.calcsize(fmt) > end:
                problems.append(f"property {pid} is truncated")
                continue
            (value,) = struct.unpack_from(fmt, data, body)
        elif vt == VT_BOOL:
            if body + 2 > end:
                problems.append(f"property {pid} is truncated")
                continue
            value = struct.unpack_from("<H", data, body)[0] != 0
        elif vt == VT_FILETIME:
            if body + 8 > end:
                problems.append(f"property {pid} is truncated")
                continue
            value = FileTimeValue(struct.unpack_from("<Q", data, body)[0])
        elif vt in (VT_LPSTR, VT_LPWSTR):
            if body + 4 > end:
                problems.append(f"property {pid} is truncated")
                continue
            (length,) = struct.unpack_from("<I", data, body)
            nbytes = length * 2 if vt == VT_LPWSTR else length
            if body + 4 + nbytes > end:
                problems.append(f"property {pid} string of {nbytes} bytes overruns its section")
                continue
            value = data[body + 4: body + 4 + nbytes]
        else:
            continue  # thumbnails, vectors, blobs: not document properties we report
        if pid not in raw_values:
            raw_values[pid] = (vt, value)
    code_page = None
    if 1 in raw_values and isinstance(raw_values[1][1], int):
        code_page = raw_values[1][1] & 0xFFFF  # VT_I2: 65001 is stored as -535
    values: dict[int, Any] = {}
    for pid, (vt, value) in raw_values.items():
        if vt == VT_LPSTR:
            value = _decode_8bit(value, code_page, problems, pid)
        elif vt == VT_LPWSTR:
            value = value.decode("utf-16-le", errors="replace").split("\0", 1)[0]
        values[pid] = value
    if code_page is None and any(vt == VT_LPSTR for vt, _ in raw_values.values()):
        problems.append("no code page property: 8-bit strings decoded as Windows-1252")
    return PropertySection(fmtid, code_page, values)


def parse_property_set_stream(data: bytes) -> tuple[list[PropertySection], list[str]]:
    """The sections of an [MS-OLEPS] PropertySetStream and the problems met.

    Raises ValueError when the stream is not a property set at all.
    """
    if len(data) < 28:
        raise ValueError(f"property set stream of {len(data)} bytes is shorter than its header")
    byte_order, version = struct.unpack_from("<HH", data, 0)
    if byte_order != 0xFFFE:
        raise ValueError(f"property set byte order mark 0x{byte_order:04X} is not 0xFFFE")
    if version not in (0, 1):
        raise ValueError(f"property set version {version} is not 0 or 1")
    (count,) = struct.unpack_from("<I", data, 24)
    if count < 1 or count > 2 or 28 + count * 20 > len(data):
        raise ValueError(f"property set declares {count} sections (1 or 2 expected)")
    problems: list[str] = []
    sections = []
    for index in range(count):
        fmtid = uuid.UUID(bytes_le=data[28 + index * 20: 44 + index * 20])
        (offset,) = struct.unpack_from("<I", data, 44 + index * 20)
        sections.append(_parse_section(data, offset, fmtid, problems))
    return sections, problems


_SUMMARY_TEXT = {2: "title", 3: "subject", 4: "author", 5: "keywords", 6: "comments",
                 7: "template", 8: "last_saved_by", 9: "revision", 18: "application"}
_SUMMARY_INT = {14: "pages", 15: "words", 16: "characters", 19: "security"}
_SUMMARY_TIMES = {12: "created", 13: "last_saved", 11: "last_printed"}
_DOC_TEXT = {2: "category", 14: "manager", 15: "company"}
_DOC_INT = {5: "lines", 6: "paragraphs", 7: "slides", 8: "notes", 9: "hidden_slides",
            17: "characters_with_spaces"}


def _read_stream(item: Any) -> bytes:
    if not hasattr(item, "read_buffer"):
        raise ValueError("is a storage, not a stream")
    size = item.get_size()
    if size > _MAX_STREAM:
        raise ValueError(f"{size} bytes, over the {_MAX_STREAM // _MiB} MiB limit")
    return item.read_buffer(size) if size else b""


@register
class OleSummary(Extractor):
    """SummaryInformation and DocumentSummaryInformation of a legacy Office (OLE2) document."""

    name = "ole_summary"
    family = "documents"
    description = "OLE2 (.doc/.xls/.ppt) SummaryInformation and DocumentSummaryInformation"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        if pyolecf is None:  # pragma: no cover - depends on the installation
            raise ArtifactError("libolecf-python (pyolecf) is not installed")
        head = f.read(8)
        if head[:4] == b"PK\x03\x04":  # an OOXML package with a legacy extension
            yield from OoxmlProperties().extract(f, ctx)
            return
        if head != _OLE_SIGNATURE:
            raise ArtifactError("not an OLE2 compound file (no D0CF11E0 signature)")
        data: dict[str, Any] = {"file_name": f.name, "sha256": _sha256(f), "format": "OLE2",
                                "code_page": None}
        for key in _SHARED_KEYS:
            data[key] = None
        data["edit_time_seconds"] = None
        for key in _COUNT_KEYS:
            data[key] = None
        times: dict[str, Timestamp | None] = {}
        with f.open() as handle:
            olecf = pyolecf.file()
            try:
                olecf.open_file_object(handle)
            except (OSError, ValueError, TypeError, MemoryError) as exc:
                raise ArtifactError(f"unreadable OLE2 compound file: {_one_line(exc)}") from None
            try:
                root = olecf.get_root_item()
                if root is None:
                    raise ArtifactError("OLE2 compound file has no root storage")
                problems: list[str] = []
                data["root_modified"] = _iso(_checked_filetime(
                    root.get_modification_time_as_integer(), "root storage modification",
                    problems))
                for problem in problems:
                    ctx.warn(f"{f.path}: {problem}")
                names = {(item.name or "") for item in root.sub_items}
                data["has_vba_project"] = bool({"Macros", "_VBA_PROJECT_CUR"} & names)
                if "EncryptedPackage" in names:
                    data["format"] = "OLE2 (encrypted OOXML package)"
                    ctx.note(f"{f.path}: a password-protected OOXML document: only the "
                             "property sets stored beside its encrypted package are readable")
                summary = self._sections(root, "\x05SummaryInformation", FMTID_SUMMARY, ctx,
                                         f.path)
                document = self._sections(root, "\x05DocumentSummaryInformation",
                                          FMTID_DOC_SUMMARY, ctx, f.path)
            except (OSError, ValueError, TypeError, MemoryError) as exc:
                raise ArtifactError(f"unreadable OLE2 compound file: {_one_line(exc)}") from None
            finally:
                try:
                    olecf.close()
                except (OSError, ValueError):
                    pass
        if summary is not None:
            data["code_page"] = summary.code_page
            self._summary(summary.values, data, times, ctx, f.path)
        if document is not None:
            if data["code_page"] is None:
                data["code_page"] = document.code_page
            self._document(document.values, data)
        yield from _office_events(f.name, data, [
            ("Created", times.get("created"), None),
            ("Last Saved", times.get("last_saved"), None),
            ("Last Printed", times.get("last_printed"), None),
        ], _bin_user(f, ctx))

    @staticmethod
    def _sections(root: Any, name: str, fmtid: uuid.UUID, ctx: ExtractionContext,
                  path: str) -> PropertySection | None:
        item = root.get_sub_item_by_name(name)
        if item is None:
            return None
        label = name.lstrip("\x05")
        try:
            raw = _read_stream(item)
            sections, problems = parse_property_set_stream(raw)
        except ValueError as exc:
            ctx.error(f"{path}: {label}: {exc}; not read")
            return None
        for problem in problems:
            ctx.warn(f"{path}: {label}: {problem}")
        if sections[0].fmtid != fmtid:
            ctx.error(f"{path}: {label}: section format id {sections[0].fmtid} is not "
                      f"{fmtid}; not read")
            return None
        return sections[0]

    @staticmethod
    def _summary(values: dict[int, Any], data: dict, times: dict, ctx: ExtractionContext,
                 path: str) -> None:
        for pid, key in _SUMMARY_TEXT.items():
            if isinstance(values.get(pid), str):
                data[key] = values[pid]
        for pid, key in _SUMMARY_INT.items():
            if isinstance(values.get(pid), int) and not isinstance(values[pid], bool):
                data[key] = int(values[pid])
        problems: list[str] = []
        for pid, key in _SUMMARY_TIMES.items():
            value = values.get(pid)
            if isinstance(value, FileTimeValue):
                ts = _checked_filetime(int(value), key.replace("_", " "), problems)
                data[key] = _iso(ts)
                times[key] = ts
        edit = values.get(10)
        if isinstance(edit, FileTimeValue):
            whole, rest = divmod(int(edit), 10_000_000)
            data["edit_time_seconds"] = whole if not rest else int(edit) / 10_000_000
        for problem in problems:
            ctx.warn(f"{path}: SummaryInformation: {problem}")

    @staticmethod
    def _document(values: dict[int, Any], data: dict) -> None:
        for pid, key in _DOC_TEXT.items():
            if isinstance(values.get(pid), str):
                data[key] = values[pid]
        for pid, key in _DOC_INT.items():
            if isinstance(values.get(pid), int) and not isinstance(values[pid], bool):
                data[key] = int(values[pid])
        version = values.get(23)
        if isinstance(version, int) and not isinstance(version, bool):
            data["app_version"] = f"{(version >> 16) & 0xFFFF}.{version & 0xFFFF}"


# -------------------------------------------------------------------------------------- PDF

_PDF_MAX = 200 * _MiB
_PDF_TAIL = 64 * 1024
_PDF_MAX_STREAM = 16 * _MiB
_PDF_INFLATE_BUDGET = 64 * _MiB
_PDF_MAX_OBJSTM = 10_000
_PDF_MAX_DEPTH = 32
_PDF_MAX_STRING = _MiB
_PDF_MAX_ITEMS = 100_000  # entries of one dictionary or array
_SKIP_RE = re.compile(rb"(?:[\x00\t\n\x0c\r ]+|%[^\r\n]*)*")
_LITERAL_SPECIAL = re.compile(rb"[\\()\r]")
_NAME_RE = re.compile(rb"[^\x00\t\n\x0c\r ()<>\[\]{}/%]{0,1024}")
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
            ord("f"): b"\f", ord("("): b"(", ord(")"): b")", ord("\\"): b"\\"}
_WHITESPACE = b"\x00\t\n\x0c\r "
_DELIMITERS = b"()<>[]{}/%"
_REGULAR_END = rb"(?![^\x00\t\n\x0c\r ()<>\[\]{}/%])"
_OBJ_RE = re.compile(rb"(?<![0-9])(\d{1,10})[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+obj"
                     + _REGULAR_END)
# `N G obj` read backwards: "jbo", the generation and the number reversed, then no digit.
_OBJ_REVERSED_RE = re.compile(rb"jbo[\x00\t\n\x0c\r ]+"
                              rb"(\d{1,5})[\x00\t\n\x0c\r ]+(\d{1,10})(?![0-9])")
_PDF_MAX_OBJECTS = 1_000_000
_REF_RE = re.compile(rb"[\x00\t\n\x0c\r ]+(\d{1,5})[\x00\t\n\x0c\r ]+R" + _REGULAR_END)
_NUMBER_RE = re.compile(rb"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")
_STREAM_RE = re.compile(rb"[\x00\t\x0c\r\n ]*stream(?:\r\n|\n|\r)")
_PDF_DATE = re.compile(r"^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?"
                       r"(?:([Z+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?$")

# PDFDocEncoding (ISO 32000-1 Annex D): Latin-1 except for these code points.
_PDFDOC = {0x18: 0x02D8, 0x19: 0x02C7, 0x1A: 0x02C6, 0x1B: 0x02D9, 0x1C: 0x02DD, 0x1D: 0x02DB,
           0x1E: 0x02DA, 0x1F: 0x02DC, 0x80: 0x2022, 0x81: 0x2020, 0x82: 0x2021, 0x83: 0x2026,
           0x84: 0x2014, 0x85: 0x2013, 0x86: 0x0192, 0x87: 0x2044, 0x88: 0x2039, 0x89: 0x203A,
           0x8A: 0x2212, 0x8B: 0x2030, 0x8C: 0x201E, 0x8D: 0x201C, 0x8E: 0x201D, 0x8F: 0x2018,
           0x90: 0x2019, 0x91: 0x201A, 0x92: 0x2122, 0x93: 0xFB01, 0x94: 0xFB02, 0x95: 0x0141,
           0x96: 0x0152, 0x97: 0x0160, 0x98: 0x0178, 0x99: 0x017D, 0x9A: 0x0131, 0x9B: 0x0142,
           0x9C: 0x0153, 0x9D: 0x0161, 0x9E: 0x017E, 0xA0: 0x20AC}


class PdfSyntaxError(ValueError):
    pass


class _Name(str):
    """A PDF name object (/Foo), as opposed to a string."""


class _String(bytes):
    """A PDF string object's bytes (literal or hex)."""


@dataclass(frozen=True)
class _Ref:
    num: int
    gen: int


def pdf_text(raw: bytes) -> str:
    """A PDF text string: UTF-16BE or UTF-8 with a byte-order mark, else PDFDocEncoding."""
    if raw[:2] == b"\xfe\xff":
        return raw[2: len(raw) - len(raw) % 2].decode("utf-16-be", errors="replace")
    if raw[:3] == b"\xef\xbb\xbf":
        return raw[3:].decode("utf-8", errors="replace")
    return raw.decode("latin-1").translate(_PDFDOC)


def parse_pdf_date(text: str) -> tuple[Timestamp | None, str | None]:
    """(UTC timestamp, problem) of a PDF date; no timestamp when no UTC offset is written."""
    match = _PDF_DATE.match(text.strip())
    if not match:
        return None, f"not a PDF date: {text!r}"
    year, month, day, hour, minute, second, sign, off_h, off_m = match.groups()
    if sign is None or minute is None:
        return None, None  # relation to UTC unknown (or no time of day): kept raw
    if sign == "Z":
        offset = 0
    else:
        if off_h is None:
            return None, None
        offset = int(off_h) * 60 + int(off_m or 0)
        if int(off_m or 0) > 59 or offset > 14 * 60:
            return None, f"implausible UTC offset in {text!r}"
        offset = -offset if sign == "-" else offset
    try:
        value = _aware(int(year), int(month or 1), int(day or 1), int(hour), int(minute),
                       int(second or 0), offset)
    except ValueError:
        return None, f"not a valid date and time: {text!r}"
    return _to_timestamp(value, ""), None


class _PdfParser:
    """Parses one PDF object at a position of a buffer (no streams, no indirect resolution)."""

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos

    def skip(self) -> None:
        """Past white space and comments (% to the end of the line)."""
        self.pos = _SKIP_RE.match(self.buf, self.pos).end()

    def value(self, depth: int = 0) -> Any:
        if depth > _PDF_MAX_DEPTH:
            raise PdfSyntaxError("objects nested too deeply")
        self.skip()
        buf, pos = self.buf, self.pos
        if pos >= len(buf):
            raise PdfSyntaxError("unexpected end of data")
        c = buf[pos:pos + 1]
        if buf.startswith(b"<<", pos):
            return self._dict(depth)
        if c == b"[":
            self.pos += 1
            items = []
            while True:
                self.skip()
                if self.pos >= len(buf):
                    raise PdfSyntaxError("unterminated array")
                if buf[self.pos:self.pos + 1] == b"]":
                    self.pos += 1
                    return items
                if len(items) >= _PDF_MAX_ITEMS:
                    raise PdfSyntaxError(f"array of over {_PDF_MAX_ITEMS:,} items")
                items.append(self.value(depth + 1))
        if c == b"(":
            return self._literal()
        if c == b"<":
            return self._hex()
        if c == b"/":
            return self._name()
        match = _NUMBER_RE.match(buf, pos)
        if match:
            self.pos = match.end()
            text = match.group()
            if b"." in text:
                return float(text)
            number = int(text)
            ref = _REF_RE.match(buf, self.pos)
            if ref and text.isdigit():
                self.pos = ref.end()
                return _Ref(number, int(ref.group(1)))
            return number
        for word, result in ((b"true", True), (b"false", False), (b"null", None)):
            if buf.startswith(word, pos):
                self.pos += len(word)
                return result
        raise PdfSyntaxError(f"unexpected {buf[pos:pos + 10]!r} at offset {pos}")

    def _dict(self, depth: int) -> dict:
        self.pos += 2
        result: dict[str, Any] = {}
        while True:
            self.skip()
            if self.pos >= len(self.buf):
                raise PdfSyntaxError("unterminated dictionary")
            if self.buf.startswith(b">>", self.pos):
                self.pos += 2
                return result
            if len(result) >= _PDF_MAX_ITEMS:
                raise PdfSyntaxError(f"dictionary of over {_PDF_MAX_ITEMS:,} entries")
            key = self.value(depth + 1)
            if not isinstance(key, _Name):
                raise PdfSyntaxError(f"dictionary key is not a name at offset {self.pos}")
            result[str(key)] = self.value(depth + 1)

    def _name(self) -> _Name:
        match = _NAME_RE.match(self.buf, self.pos + 1)
        assert match is not None  # the pattern matches the empty name too
        raw = match.group()
        self.pos = match.end()
        raw = re.sub(rb"#([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)
        return _Name(raw.decode("utf-8", errors="replace"))

    def _hex(self) -> _String:
        end = self.buf.find(b">", self.pos)
        if end < 0:
            raise PdfSyntaxError("unterminated hex string")
        digits = re.sub(rb"[^0-9A-Fa-f]", b"", self.buf[self.pos + 1:end])
        self.pos = end + 1
        if len(digits) % 2:
            digits += b"0"
        return _String(bytes.fromhex(digits.decode("ascii")))

    def _literal(self) -> _String:
        buf = self.buf
        pos = self.pos + 1
        limit = min(len(buf), pos + _PDF_MAX_STRING)
        out = bytearray()
        depth = 1
        while True:
            match = _LITERAL_SPECIAL.search(buf, pos, limit)
            if match is None:
                raise PdfSyntaxError("unterminated literal string (or one over 1 MiB)")
            out += buf[pos:match.start()]
            c = buf[match.start()]
            pos = match.end()
            if c == 0x5C:  # backslash escape
                if pos >= limit:
                    continue
                e = buf[pos]
                pos += 1
                if e in _ESCAPES:
                    out += _ESCAPES[e]
                elif 0x30 <= e <= 0x37:  # up to three octal digits
                    digits = bytes([e])
                    while len(digits) < 3 and pos < limit and 0x30 <= buf[pos] <= 0x37:
                        digits += buf[pos:pos + 1]
                        pos += 1
                    out.append(int(digits, 8) & 0xFF)
                elif e == 0x0D:  # backslash + end of line: the line continues
                    if pos < limit and buf[pos] == 0x0A:
                        pos += 1
                elif e != 0x0A:
                    out.append(e)  # an unknown escape: the backslash is ignored
            elif c == 0x28:
                depth += 1
                out.append(c)
            elif c == 0x29:
                depth -= 1
                if depth == 0:
                    self.pos = pos
                    return _String(bytes(out))
                out.append(c)
            else:  # a bare CR or CRLF in a literal reads as LF
                if pos < limit and buf[pos] == 0x0A:
                    pos += 1
                out += b"\n"


class _PdfFile:
    """Indirect objects of a PDF held in memory, found by scanning (no xref table needed)."""

    def __init__(self, buf: bytes, warn: Any) -> None:
        self.buf = buf
        self.warn = warn
        self._index: dict[int, int] | None = None
        self._positions: list[int] = []
        self._compressed: dict[int, tuple[bytes, int]] | None = None
        self._inflated = 0

    def _scan(self) -> dict[int, int]:
        """Object number -> offset just after its `N G obj`, the last one in the file winning.

        Scanned backwards, on the reversed bytes, with a pattern that starts with the literal
        "jbo": the regular expression engine then skips ahead at C speed (a forward pattern
        starting with a digit costs seconds per 100 MiB). The newest objects come first, so
        when a hostile file holds over a million objects the index keeps the newest ones.
        """
        if self._index is None:
            self._index = {}
            reverse = self.buf[::-1]
            size = len(self.buf)
            count = 0
            for match in _OBJ_REVERSED_RE.finditer(reverse):
                count += 1
                if count > _PDF_MAX_OBJECTS:
                    self.warn(f"over {_PDF_MAX_OBJECTS:,} objects: only the newest are indexed")
                    break
                if match.start() and reverse[match.start() - 1] not in _WHITESPACE + _DELIMITERS:
                    continue  # "objx...": not the keyword
                end = size - match.start()  # just after "obj" in the file
                num = int(match.group(2)[::-1])
                self._index.setdefault(num, end)
                self._positions.append(end)
            del reverse
            self._positions.reverse()
        return self._index

    def object(self, num: int, depth: int = 0) -> tuple[Any, bytes | None]:
        """(value, decoded stream or None) of object `num`; (None, None) when not found."""
        if depth > 4:
            return None, None
        pos = self._scan().get(num)
        if pos is None:
            found = self._in_object_streams(num)
            if found is None:
                return None, None
            data, offset = found
            try:
                return _PdfParser(data, offset).value(), None
            except PdfSyntaxError:
                return None, None
        parser = _PdfParser(self.buf, pos)
        try:
            value = parser.value()
        except PdfSyntaxError as exc:
            self.warn(f"object {num}: {exc}")
            return None, None
        stream = None
        if isinstance(value, dict):
            match = _STREAM_RE.match(self.buf, parser.pos)
            if match:
                stream = self._stream(value, match.end(), depth)
        return value, stream

    def resolve(self, value: Any, depth: int = 0) -> Any:
        hops = 0
        while isinstance(value, _Ref) and hops < 8:
            value, _ = self.object(value.num, depth + 1)
            hops += 1
        return None if isinstance(value, _Ref) else value

    def _stream(self, head: dict, start: int, depth: int) -> bytes | None:
        length = self.resolve(head.get("Length"), depth)
        raw = None
        if isinstance(length, int) and 0 <= length <= len(self.buf) - start:
            after = self.buf[start + length:start + length + 32].lstrip(_WHITESPACE)
            if after.startswith(b"endstream"):
                raw = self.buf[start:start + length]
        if raw is None:
            end = self.buf.find(b"endstream", start)
            if end < 0:
                return None
            raw = self.buf[start:end].rstrip(b"\r\n")
        filters = head.get("Filter")
        filters = filters if isinstance(filters, list) else ([filters] if filters else [])
        if head.get("DecodeParms") and filters:
            params = head["DecodeParms"]
            params = params[0] if isinstance(params, list) and params else params
            if isinstance(params, dict) and params.get("Predictor", 1) not in (1, None):
                return None
        for name in filters:
            if name not in ("FlateDecode", "Fl"):
                return None
            raw = self._inflate(raw)
            if raw is None:
                return None
        return raw[:_PDF_MAX_STREAM]

    def _inflate(self, raw: bytes) -> bytes | None:
        room = min(_PDF_MAX_STREAM, _PDF_INFLATE_BUDGET - self._inflated)
        if room <= 0:
            return None
        inflater = zlib.decompressobj()
        try:
            out = inflater.decompress(raw, room)
        except zlib.error:
            return None
        if inflater.unconsumed_tail:
            return None
        self._inflated += len(out)
        return out

    def _in_object_streams(self, num: int) -> tuple[bytes, int] | None:
        if self._compressed is None:
            self._compressed = {}
            index = self._scan()
            starts = {pos: n for n, pos in index.items()}
            seen = 0
            for match in re.finditer(rb"/Type[\x00\t\n\x0c\r ]*/ObjStm" + _REGULAR_END, self.buf):
                seen += 1
                if seen > _PDF_MAX_OBJSTM:
                    self.warn(f"over {_PDF_MAX_OBJSTM:,} object streams: the rest not read")
                    break
                owner = self._owner(match.start())
                if owner is None or owner not in starts:
                    continue
                head, data = self.object(starts[owner], 1)
                if not isinstance(head, dict) or data is None:
                    continue
                self._load_object_stream(head, data)
        return self._compressed.get(num)

    def _owner(self, pos: int) -> int | None:
        i = bisect.bisect_right(self._positions, pos) - 1
        return self._positions[i] if i >= 0 else None

    def _load_object_stream(self, head: dict, data: bytes) -> None:
        count, first = head.get("N"), head.get("First")
        if not isinstance(count, int) or not isinstance(first, int) or count < 0:
            return
        numbers = re.findall(rb"\d+", data[:first])[: 2 * min(count, 100_000)]
        assert self._compressed is not None
        for i in range(0, len(numbers) - 1, 2):
            self._compressed.setdefault(int(numbers[i]), (data, first + int(numbers[i + 1])))


def _trailer(buf: bytes) -> dict:
    """The newest trailer (or cross-reference stream) dictionary in the last 64 KiB."""
    base = max(0, len(buf) - _PDF_TAIL)
    tail = buf[base:]
    found: list[tuple[int, dict]] = []
    for match in re.finditer(rb"trailer[\x00\t\n\x0c\r ]*<<", tail):
        try:
            found.append((match.start(), _PdfParser(buf, base + match.end() - 2).value()))
        except PdfSyntaxError:
            continue
    for match in _OBJ_RE.finditer(tail):
        parser = _PdfParser(buf, base + match.end())
        parser.skip()
        if not buf.startswith(b"<<", parser.pos):
            continue
        try:
            value = parser.value()
        except PdfSyntaxError:
            continue
        if isinstance(value, dict) and value.get("Type") == "XRef":
            found.append((match.start(), value))
    found.sort(key=lambda item: item[0])
    for _, value in reversed(found):
        if isinstance(value, dict) and ("Info" in value or "Root" in value):
            return value
    return {}


def _xmp(root: _Node) -> dict[str, Any]:
    """The XMP properties reported, from attributes and elements of every rdf:Description."""
    rdf = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
    wanted = {
        ("http://ns.adobe.com/xap/1.0/", "CreateDate"): "xmp_created",
        ("http://ns.adobe.com/xap/1.0/", "ModifyDate"): "xmp_modified",
        ("http://ns.adobe.com/xap/1.0/", "MetadataDate"): "xmp_metadata_date",
        ("http://ns.adobe.com/xap/1.0/", "CreatorTool"): "xmp_creator_tool",
        ("http://ns.adobe.com/pdf/1.3/", "Producer"): "xmp_producer",
        ("http://ns.adobe.com/xap/1.0/mm/", "DocumentID"): "xmp_document_id",
        ("http://ns.adobe.com/xap/1.0/mm/", "InstanceID"): "xmp_instance_id",
        ("http://purl.org/dc/elements/1.1/", "creator"): "xmp_authors",
        ("http://purl.org/dc/elements/1.1/", "title"): "xmp_title",
    }
    out: dict[str, Any] = {}
    for node in root.iter():
        if node.ns != rdf or node.tag != "Description":
            continue
        for key, value in node.attrs.items():
            if key in wanted and wanted[key] not in out:
                out[wanted[key]] = [value] if wanted[key] == "xmp_authors" else value.strip()
        for child in node.children:
            key = wanted.get((child.ns, child.tag))
            if key is None or key in out:
                continue
            items = [li.text.strip() for li in child.iter() if li.ns == rdf and li.tag == "li"]
            if key == "xmp_authors":
                out[key] = items if items else [child.text.strip()]
            else:
                out[key] = items[0] if items else child.text.strip()
    return out


_PDF_INFO_KEYS = {"Title": "title", "Author": "author", "Subject": "subject",
                  "Keywords": "keywords", "Creator": "creator", "Producer": "producer"}
_MAX_CUSTOM = 100


@register
class PdfInfo(Extractor):
    """A PDF's document information dictionary and XMP metadata."""

    name = "pdf_info"
    family = "documents"
    description = "PDF document information dictionary (/Info) and XMP metadata"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        if f.size > _PDF_MAX:
            raise ArtifactError(f"PDF of {f.size} bytes is over the 200 MiB limit: refused")
        buf = f.read(_PDF_MAX + 1)
        if len(buf) > _PDF_MAX:
            raise ArtifactError("PDF is over the 200 MiB limit: refused")
        header = re.search(rb"%PDF-(\d\.\d)", buf[:1024])
        if not header:
            raise ArtifactError("no %PDF- header in the first 1 KiB: not a PDF")

        def warn(message: str) -> None:
            ctx.warn(f"{f.path}: {message}")

        def error(message: str) -> None:
            ctx.error(f"{f.path}: {message}")

        data: dict[str, Any] = {
            "file_name": f.name, "sha256": hashlib.sha256(buf).hexdigest(), "format": "PDF",
            "pdf_version": header.group(1).decode(), "encrypted": False,
            "title": None, "author": None, "subject": None, "keywords": None,
            "creator": None, "producer": None, "created": None, "created_raw": None,
            "modified": None, "modified_raw": None, "trapped": None, "info_custom": {},
            "document_id": None, "eof_markers": buf.count(b"%%EOF"),
        }
        pdf = _PdfFile(buf, warn)
        trailer = _trailer(buf)
        if not trailer:
            warn("no trailer or cross-reference stream dictionary in the last 64 KiB")
        ids = trailer.get("ID")
        if isinstance(ids, list) and ids and isinstance(ids[0], bytes):
            data["document_id"] = bytes(ids[0]).hex()
        times: dict[str, Timestamp | None] = {}
        if trailer.get("Encrypt") is not None:
            data["encrypted"] = True
            ctx.note(f"{f.path}: encrypted PDF: its strings are not decrypted, properties not read")
        else:
            info = pdf.resolve(trailer.get("Info"))
            if "Info" in trailer and not isinstance(info, dict):
                error("the trailer's /Info dictionary was not found")
            if isinstance(info, dict):
                self._info(info, pdf, data, times, warn)
            self._metadata(trailer, pdf, data, times, warn, error)
        yield from self._events(f.name, data, times, _bin_user(f, ctx))

    @staticmethod
    def _info(info: dict, pdf: _PdfFile, data: dict, times: dict, warn: Any) -> None:
        for key, value in info.items():
            value = pdf.resolve(value)
            if key in _PDF_INFO_KEYS and isinstance(value, bytes):
                data[_PDF_INFO_KEYS[key]] = pdf_text(value)
            elif key in ("CreationDate", "ModDate") and isinstance(value, bytes):
                target = "created" if key == "CreationDate" else "modified"
                raw = pdf_text(value)
                ts, problem = parse_pdf_date(raw)
                if problem:
                    warn(f"/Info /{key}: {problem}")
                data[f"{target}_raw"] = raw
                data[target] = _iso(ts)
                times[target] = ts
            elif key == "Trapped" and isinstance(value, (str, bool)):
                data["trapped"] = str(value)
            elif isinstance(value, bytes) and len(data["info_custom"]) < _MAX_CUSTOM:
                data["info_custom"][key] = pdf_text(value)

    @staticmethod
    def _metadata(trailer: dict, pdf: _PdfFile, data: dict, times: dict, warn: Any,
                  error: Any) -> None:
        for key in ("xmp_created", "xmp_created_raw", "xmp_modified", "xmp_modified_raw",
                    "xmp_metadata_date", "xmp_metadata_date_raw", "xmp_creator_tool",
                    "xmp_producer", "xmp_authors", "xmp_title", "xmp_document_id",
                    "xmp_instance_id"):
            data[key] = None
        catalog = pdf.resolve(trailer.get("Root"))
        if not isinstance(catalog, dict):
            if "Root" in trailer:
                error("the document catalog (/Root) was not found; XMP not read")
            return
        ref = catalog.get("Metadata")
        if not isinstance(ref, _Ref):
            return
        _, stream = pdf.object(ref.num)
        if stream is None:
            error("the XMP metadata stream was not found or could not be decoded")
            return
        start = stream.find(b"<x:xmpmeta")
        end = stream.rfind(b"</x:xmpmeta>")
        packet = stream[start:end + len(b"</x:xmpmeta>")] if 0 <= start < end else stream
        try:
            _refuse_dtd(stream, "XMP metadata")  # the whole stream, not only the packet
            values = _xmp(parse_xml(packet, "XMP metadata"))
        except (XmlRefused, ValueError) as exc:
            error(f"{exc}; XMP not read")
            return
        for key in ("xmp_created", "xmp_modified", "xmp_metadata_date"):
            raw = values.pop(key, None)
            if not raw:
                continue
            ts, problem = parse_w3cdtf(raw)
            if problem:
                warn(f"XMP {key[4:]}: {problem}")
            data[key], data[f"{key}_raw"] = _iso(ts), raw
            times[key] = ts
        data.update(values)

    @staticmethod
    def _events(name: str, data: dict, times: dict, user: str | None) -> Iterator[Event]:
        author = data.get("author") or (", ".join(data["xmp_authors"])
                                        if data.get("xmp_authors") else None)
        tool = data.get("creator") or data.get("xmp_creator_tool")
        producer = data.get("producer") or data.get("xmp_producer")
        extras = [f"creator {tool}" if tool else "", f"producer {producer}" if producer else ""]
        detail = ", ".join(e for e in extras if e)

        def message(desc: str, raw: str | None, ts: Timestamp | None) -> str:
            if desc.startswith("Created"):
                head = f"created by {author}" if author else "created"
                shown = [detail] if detail else []
            else:
                head = "modified"
                shown = [p for p in (f"author {author}" if author else "", detail) if p]
            text = f"{name}: {head}" + (f" ({', '.join(shown)})" if shown else "")
            if desc.endswith("(XMP)"):
                text += " [XMP metadata]"
            if ts is None and raw:
                text += f"; time {raw!r} has no UTC offset or is not valid: not placed in UTC"
            return text

        events = []
        for desc, key in (("Created", "created"), ("Modified", "modified")):
            if data.get(f"{key}_raw"):
                events.append((desc, times.get(key), data[f"{key}_raw"]))
            xmp_key = f"xmp_{key}"
            xmp_raw = data.get(f"{xmp_key}_raw")
            if xmp_raw:
                xmp_ts = times.get(xmp_key)
                info_ts = times.get(key)
                same = (xmp_ts is not None and info_ts is not None and xmp_ts.ns == info_ts.ns) \
                    or (xmp_ts is None and info_ts is None and data.get(f"{key}_raw"))
                if not same:
                    events.append((f"{desc} (XMP)", xmp_ts, xmp_raw))
        if not events:
            events.append(("Created", None, None))
        for desc, ts, raw in events:
            yield Event(timestamp=ts, timestamp_desc=desc, message=message(desc, raw, ts),
                        data=dict(data), user=user)
