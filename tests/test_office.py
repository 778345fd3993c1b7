"""Document properties: OOXML, OLE2 property sets and PDF, on built files and real samples."""
from __future__ import annotations

import hashlib
import json
import shutil
import struct
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders import office_writer as w  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.office import (  # noqa: E402
    OleSummary,
    OoxmlProperties,
    PdfInfo,
    parse_pdf_date,
    parse_property_set_stream,
    parse_w3cdtf,
    pdf_text,
)
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

from conftest import read_jsonl, samples  # noqa: E402

OFFICE = ROOT / "fixtures" / "artifacts" / "office"
BOB_SID = "S-1-5-21-1111111111-2222222222-3333333333-1002"

CORE_JA = [
    ("dc:title", "顧客リスト 2026"), ("dc:subject", "四半期"), ("dc:creator", "佐藤"),
    ("cp:keywords", "顧客; 売上"), ("dc:description", "社外秘 & <confidential>"),
    ("cp:category", "営業"), ("cp:lastModifiedBy", "bob"), ("cp:revision", "7"),
    ("dcterms:created", "2026-03-02T01:02:03Z"),
    ("dcterms:modified", "2026-03-11T14:44:21.57+09:00"),
    ("cp:lastPrinted", "2026-03-10T09:00:00"),  # no zone: local, not placed in UTC
    ("cp:contentStatus", "Draft"), ("dc:language", "ja-JP"),
]
APP_JA = [
    ("Template", ""), ("TotalTime", "95"), ("Pages", "3"), ("Words", "250"),
    ("Characters", "1000"), ("Application", "Microsoft Excel"), ("DocSecurity", "0"),
    ("Lines", "20"), ("Paragraphs", "8"), ("Slides", "4"), ("Notes", "1"),
    ("HiddenSlides", "0"), ("Manager", "田中"), ("Company", "株式会社サンプル"),
    ("CharactersWithSpaces", "1200"), ("AppVersion", "16.0300"),
]


def _ctx() -> ExtractionContext:
    return ExtractionContext(users_by_sid={BOB_SID: "bob"})


def _file(tmp_path: Path, name: str, raw: bytes, vpath: str | None = None) -> LocalFile:
    path = tmp_path / name
    path.write_bytes(raw)
    return LocalFile(str(path), path=vpath or f"/Users/alice/Documents/{name}")


def _run(extractor, f: LocalFile, ctx: ExtractionContext | None = None):
    ctx = ctx or _ctx()
    return list(extractor.extract(f, ctx)), ctx


def _bad(extractor, tmp_path: Path, name: str, raw: bytes) -> str:
    with pytest.raises(ArtifactError) as info:
        _run(extractor, _file(tmp_path, name, raw))
    message = str(info.value)
    assert message and "\n" not in message
    return message


# ------------------------------------------------------------------------------ OOXML


def test_ooxml_japanese_workbook(tmp_path: Path) -> None:
    raw = w.build_ooxml("xlsx", w.core_xml(CORE_JA), w.app_xml(APP_JA))
    events, ctx = _run(OoxmlProperties(), _file(tmp_path, "顧客リスト.xlsx", raw))
    assert ctx.warnings == [] and ctx.errors == []
    assert [e.timestamp_desc for e in events] == ["Created", "Last Saved", "Last Printed"]
    created, saved, printed = events
    assert created.timestamp.iso() == "2026-03-02T01:02:03Z"
    assert saved.timestamp.iso() == "2026-03-11T05:44:21.57Z"  # +09:00 to UTC, two digits kept
    assert printed.timestamp is None
    assert created.message == "顧客リスト.xlsx: created by 佐藤 (last saved by bob, revision 7)"
    assert saved.message == "顧客リスト.xlsx: last saved by bob (created by 佐藤, revision 7)"
    assert printed.message == (
        "顧客リスト.xlsx: last printed (created by 佐藤, last saved by bob, revision 7); "
        "time '2026-03-10T09:00:00' has no time zone or is not valid: not placed in UTC")
    assert all(e.user is None for e in events)  # the engine names the profile owner
    assert created.data == {
        "file_name": "顧客リスト.xlsx", "sha256": hashlib.sha256(raw).hexdigest(),
        "format": "OOXML",
        "title": "顧客リスト 2026", "subject": "四半期", "author": "佐藤",
        "keywords": "顧客; 売上", "comments": "社外秘 & <confidential>", "category": "営業",
        "last_saved_by": "bob", "revision": "7",
        "created": "2026-03-02T01:02:03Z", "last_saved": "2026-03-11T05:44:21.57Z",
        "last_printed": None, "template": "", "application": "Microsoft Excel",
        "app_version": "16.0300", "company": "株式会社サンプル", "manager": "田中",
        "content_status": "Draft", "language": "ja-JP", "identifier": None, "version": None,
        "created_raw": "2026-03-02T01:02:03Z", "last_saved_raw": "2026-03-11T14:44:21.57+09:00",
        "last_printed_raw": "2026-03-10T09:00:00", "edit_time_minutes": 95,
        "pages": 3, "words": 250, "characters": 1000, "characters_with_spaces": 1200,
        "lines": 20, "paragraphs": 8, "slides": 4, "notes": 1, "hidden_slides": 0,
        "security": 0, "has_vba_project": False,
    }
    assert saved.data == created.data == printed.data


def test_ooxml_parts_found_through_relationships(tmp_path: Path) -> None:
    """Parts at other names are found from _rels/.rels; upper-case names match too."""
    core = w.core_xml([("dc:creator", "alice"), ("dcterms:created", "2020-01-02T03:04:05Z")])
    raw = w.build_ooxml("docx", core, w.app_xml([("Pages", "2")]),
                        core_name="meta/Core1.xml", app_name="meta/Extended.xml")
    (created,), ctx = _run(OoxmlProperties(), _file(tmp_path, "a.docx", raw))
    assert ctx.warnings == [] and ctx.errors == []
    assert created.data["author"] == "alice" and created.data["pages"] == 2
    assert created.timestamp.iso() == "2020-01-02T03:04:05Z"
    # no relationships part at all: the usual names are used
    raw = w.build_ooxml("docx", core, None, rels=False)
    (created,), _ = _run(OoxmlProperties(), _file(tmp_path, "b.docx", raw))
    assert created.data["author"] == "alice"


def test_ooxml_macro_document_and_strict_namespaces(tmp_path: Path) -> None:
    strict_app = (b'<?xml version="1.0" encoding="UTF-8"?><Properties xmlns='
                  b'"http://purl.oclc.org/ooxml/officeDocument/extendedProperties">'
                  b"<Application>Microsoft Office Word</Application><TotalTime>3</TotalTime>"
                  b"</Properties>")
    raw = w.build_ooxml("docm", w.core_xml([("cp:lastModifiedBy", "mallory")]), strict_app,
                        extra={"word/vbaProject.bin": b"\xcc\x61" + b"\0" * 64})
    (event,), _ = _run(OoxmlProperties(), _file(tmp_path, "invoice.docm", raw))
    assert event.data["has_vba_project"] is True
    assert event.data["application"] == "Microsoft Office Word"
    assert event.data["edit_time_minutes"] == 3
    assert event.timestamp is None and event.timestamp_desc == "Created"
    assert event.message == "invoice.docm: created (last saved by mallory)"


def test_ooxml_without_properties_still_gives_its_hash(tmp_path: Path) -> None:
    raw = w.build_ooxml("pptx", None, None)
    (event,), ctx = _run(OoxmlProperties(), _file(tmp_path, "deck.pptx", raw))
    assert ctx.warnings == [] and ctx.errors == []
    assert event.timestamp is None and event.timestamp_desc == "Created"
    assert event.message == "deck.pptx: created"
    assert event.data["sha256"] == hashlib.sha256(raw).hexdigest()
    assert event.data["author"] is None and event.data["has_vba_project"] is False


def test_ooxml_malformed_app_part_is_an_error_core_kept(tmp_path: Path) -> None:
    core = w.core_xml([("dc:creator", "alice"), ("dcterms:modified", "2021-05-06T07:08:09Z")])
    raw = w.build_ooxml("docx", core, b"<Properties><Pages>2</Pag")
    (event,), ctx = _run(OoxmlProperties(), _file(tmp_path, "a.docx", raw))
    assert event.timestamp_desc == "Last Saved" and event.data["author"] == "alice"
    assert ctx.warnings == []
    assert len(ctx.errors) == 1 and "not well-formed" in ctx.errors[0]


def test_ooxml_bad_values_warn(tmp_path: Path) -> None:
    core = w.core_xml([("dcterms:created", "2026-02-30T00:00:00Z")])
    raw = w.build_ooxml("docx", core, w.app_xml([("Pages", "many")]))
    (event,), ctx = _run(OoxmlProperties(), _file(tmp_path, "a.docx", raw))
    assert event.timestamp is None and event.data["created_raw"] == "2026-02-30T00:00:00Z"
    assert event.data["pages"] is None
    assert len(ctx.warnings) == 2
    assert "not a valid date" in ctx.warnings[0] and "Pages" in ctx.warnings[1]


@pytest.mark.parametrize("text, iso", [
    ("2012-11-07T23:29:00Z", "2012-11-07T23:29:00Z"),
    ("2012-11-07T23:29Z", "2012-11-07T23:29:00Z"),
    ("2026-03-11T14:44:21.57+09:00", "2026-03-11T05:44:21.57Z"),
    ("2026-01-01T00:30:00-05:30", "2026-01-01T06:00:00Z"),
    ("1999-12-31T23:59:59.123456789987Z", "1999-12-31T23:59:59.123456789Z"),
    ("2026-03-10T09:00:00", None),
    ("2026-03-10", None),
    ("2026", None),
])
def test_w3cdtf(text: str, iso: str | None) -> None:
    ts, problem = parse_w3cdtf(text)
    assert problem is None
    assert (ts.iso() if ts else None) == iso


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01T00:00:00Z", "2026-01-01T00:00:00+25:00"])
def test_w3cdtf_invalid(text: str) -> None:
    ts, problem = parse_w3cdtf(text)
    assert ts is None and problem


def _xml_bomb(encoding: str = "utf-8") -> bytes:
    text = ('<?xml version="1.0" encoding="%s"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            '<cp:coreProperties xmlns:cp="x"><cp:title>&lol2;</cp:title></cp:coreProperties>'
            % encoding)
    return text.encode(encoding)


@pytest.mark.parametrize("core", [
    _xml_bomb(),
    _xml_bomb("utf-16"),  # the byte check cannot see it: the parser refuses the DTD itself
    b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
])
def test_ooxml_refuses_dtd_and_entities(tmp_path: Path, core: bytes) -> None:
    raw = w.build_ooxml("docx", core, None)
    assert "DTD or entity" in _bad(OoxmlProperties(), tmp_path, "bomb.docx", raw)


def test_ooxml_refuses_zip_bombs(tmp_path: Path) -> None:
    padded = w.core_xml([("dc:title", "x" + " " * 300_000)])
    raw = w.build_ooxml("docx", padded, None)
    assert "compression ratio" in _bad(OoxmlProperties(), tmp_path, "ratio.docx", raw)
    huge = w.core_xml([("dc:title", "y" * (11 << 20))])
    raw = w.build_ooxml("docx", huge, None, compression=zipfile.ZIP_STORED)
    assert "10 MiB" in _bad(OoxmlProperties(), tmp_path, "huge.docx", raw)


def test_ooxml_refuses_too_many_members(tmp_path: Path) -> None:
    raw = w.build_ooxml("xlsx", None, None, compression=zipfile.ZIP_STORED,
                        extra={f"xl/x{i}.xml": b"" for i in range(10_000)})
    assert "over the 10000 limit" in _bad(OoxmlProperties(), tmp_path, "many.xlsx", raw)


def test_ooxml_bad_input(tmp_path: Path) -> None:
    assert "not a ZIP" in _bad(OoxmlProperties(), tmp_path, "fake.docx", b"customer-list")
    assert "not a ZIP" in _bad(OoxmlProperties(), tmp_path, "empty.docx", b"")
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("readme.txt", "hello")
    message = _bad(OoxmlProperties(), tmp_path, "zip.docx", plain.read_bytes())
    assert "not an OOXML package" in message
    truncated = w.build_ooxml("docx", w.core_xml([("dc:creator", "a")]), None)[:200]
    _bad(OoxmlProperties(), tmp_path, "cut.docx", truncated)


# ----------------------------------------------------------------------- OLE2 (committed)


def _committed(name: str, vpath: str | None = None) -> LocalFile:
    path = OFFICE / name
    return LocalFile(str(path), path=vpath or f"/Users/bob/Documents/{name}")


def test_committed_ole_files_match_facts_and_writer() -> None:
    """The committed compound files are the ones facts.json names, and their property-set
    streams are byte for byte what the writer produces today."""
    import pyolecf

    facts = json.loads((OFFICE / "facts.json").read_text(encoding="utf-8"))
    for name, spec in w.OLE_FIXTURES.items():
        raw = (OFFICE / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == facts["files"][name]["sha256"]
        olecf = pyolecf.file()
        with open(OFFICE / name, "rb") as handle:
            olecf.open_file_object(handle)
            root = olecf.get_root_item()
            for stream, content in spec["streams"].items():
                expected = content() if callable(content) else content
                item = root.get_sub_item_by_name(stream)
                assert item.read_buffer(item.get_size()) == expected, (name, stream)
            olecf.close()
    pdf = (OFFICE / "qpdf-objstm.pdf").read_bytes()
    assert hashlib.sha256(pdf).hexdigest() == facts["files"]["qpdf-objstm.pdf"]["sha256"]


def test_ole_japanese_code_page_932() -> None:
    events, ctx = _run(OleSummary(), _committed("ja-summary.doc"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2025-11-20T01:02:00.0000000Z"),
        ("Last Saved", "2026-02-03T04:05:00.0000000Z"),
        ("Last Printed", "2026-01-15T09:30:00.0000000Z"),
    ]
    assert events[0].message == "ja-summary.doc: created by 佐藤 花子 (last saved by bob, revision 7)"
    assert events[2].message == (
        "ja-summary.doc: last printed (created by 佐藤 花子, last saved by bob, revision 7)")
    raw = (OFFICE / "ja-summary.doc").read_bytes()
    assert events[0].data == {
        "file_name": "ja-summary.doc", "sha256": hashlib.sha256(raw).hexdigest(),
        "format": "OLE2", "code_page": 932,
        "title": "顧客リスト 2026年", "subject": "四半期売上", "author": "佐藤 花子",
        "keywords": "顧客;売上", "comments": "社外秘", "category": "営業",
        "last_saved_by": "bob", "revision": "7",
        "created": "2025-11-20T01:02:00.0000000Z", "last_saved": "2026-02-03T04:05:00.0000000Z",
        "last_printed": "2026-01-15T09:30:00.0000000Z", "template": "Normal.dotm",
        "application": "Microsoft Office Word", "app_version": "16.0",
        "company": "株式会社サンプル", "manager": "田中 一郎", "edit_time_seconds": 7500,
        "pages": 3, "words": 1200, "characters": 2400, "characters_with_spaces": 2600,
        "lines": 40, "paragraphs": 12, "slides": None, "notes": None, "hidden_slides": None,
        "security": 0, "root_modified": None, "has_vba_project": False,
    }


def test_ole_unicode_code_page_1200_and_lpwstr() -> None:
    events, ctx = _run(OleSummary(), _committed("unicode-summary.xls"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2024-06-30T23:59:58.1234567Z"),
        ("Last Saved", "2024-07-01T00:00:01.5000000Z"),
    ]  # last printed is 0: "not set", no event
    data = events[0].data
    assert data["code_page"] == 1200
    assert data["title"] == "Résumé 𝄞 review"  # VT_LPWSTR with a surrogate pair
    assert data["author"] == "Zoë Ünïcode" and data["last_saved_by"] == "Ōtani"
    assert data["edit_time_seconds"] == 1.5000001
    assert data["security"] == 2 and data["application"] == "Microsoft Excel"
    assert data["last_printed"] is None and data["company"] is None


def test_ole_without_property_sets() -> None:
    (event,), ctx = _run(OleSummary(), _committed("no-properties.ppt"))
    assert ctx.warnings == [] and ctx.errors == []
    assert event.timestamp is None and event.timestamp_desc == "Created"
    assert event.message == "no-properties.ppt: created"
    assert event.data["code_page"] is None and event.data["author"] is None


def test_ole_damaged_property_sets_warn_and_keep_the_rest() -> None:
    (event,), ctx = _run(OleSummary(), _committed("bad-summary.doc"))
    assert event.data["author"] == "Mallory"
    assert event.data["title"] is None and event.data["last_saved_by"] is None
    assert event.timestamp is None
    assert len(ctx.warnings) == 2
    assert "property 2 offset 2147483632 lies outside its section" in ctx.warnings[0]
    assert "property 8 string of 4096 bytes overruns its section" in ctx.warnings[1]
    assert ctx.errors == ["/Users/bob/Documents/bad-summary.doc: DocumentSummaryInformation: "
                          "property set byte order mark 0xFEFF is not 0xFFFE; not read"]


def test_password_protected_ooxml_is_read_as_ole(tmp_path: Path) -> None:
    """An encrypted .docx is an OLE2 file: the ooxml extractor hands it to ole_summary."""
    events, ctx = _run(OoxmlProperties(), _committed("encrypted.docx"))
    (event,) = events
    assert event.timestamp_desc == "Last Saved"
    assert event.timestamp.iso() == "2026-03-10T12:00:00.0000000Z"
    assert event.data["format"] == "OLE2 (encrypted OOXML package)"
    assert event.data["last_saved_by"] is None and event.data["author"] == "山田 太郎"
    assert event.message == "encrypted.docx: last saved (created by 山田 太郎)"
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["/Users/bob/Documents/encrypted.docx: a password-protected OOXML "
                         "document: only the property sets stored beside its encrypted "
                         "package are readable"]


def test_renamed_documents_go_to_the_right_reader(tmp_path: Path) -> None:
    docx = w.build_ooxml("docx", w.core_xml([("dc:creator", "alice")]), None)
    (event,), _ = _run(OleSummary(), _file(tmp_path, "really-a-docx.doc", docx))
    assert event.data["format"] == "OOXML" and event.data["author"] == "alice"
    doc = (OFFICE / "ja-summary.doc").read_bytes()
    events, _ = _run(OoxmlProperties(), _file(tmp_path, "really-a-doc.docx", doc))
    assert events[0].data["format"] == "OLE2" and events[0].data["author"] == "佐藤 花子"


def test_ole_in_recycle_bin_names_the_bin_owner(tmp_path: Path) -> None:
    raw = (OFFICE / "ja-summary.doc").read_bytes()
    f = _file(tmp_path, "$RQ1W2E3.doc", raw, vpath=f"/$Recycle.Bin/{BOB_SID}/$RQ1W2E3.doc")
    events, _ = _run(OleSummary(), f)
    assert {e.user for e in events} == {"bob"}
    assert events[0].data["file_name"] == "$RQ1W2E3.doc"


def test_property_set_parser_bounds() -> None:
    good = w.summary_cp932()
    (section,), problems = parse_property_set_stream(good)
    assert problems == [] and section.fmtid == w.FMTID_SUMMARY and section.values[4] == "佐藤 花子"
    with pytest.raises(ValueError, match="shorter than its header"):
        parse_property_set_stream(good[:20])
    with pytest.raises(ValueError, match="byte order"):
        parse_property_set_stream(b"\xff\xfe" + good[2:])
    with pytest.raises(ValueError, match="sections"):
        parse_property_set_stream(good[:24] + struct.pack("<I", 7) + good[28:])
    # a section claiming a billion properties is cut to what fits, nothing is allocated for it
    body = bytearray(good)
    struct.pack_into("<I", body, 48 + 4, 1_000_000_000)
    (section,), problems = parse_property_set_stream(bytes(body))
    assert any("declares 1000000000 properties" in p for p in problems)
    # a section offset past the end
    body = bytearray(good)
    struct.pack_into("<I", body, 44, 1 << 30)
    (section,), problems = parse_property_set_stream(bytes(body))
    assert section.values == {} and "outside the stream" in problems[0]


def test_property_set_unknown_code_page_and_bad_bytes() -> None:
    raw = w.property_set([(w.FMTID_SUMMARY, w.section([(4, w.VT_LPSTR, b"Ren\xe9\0")], 4242))])
    (section,), problems = parse_property_set_stream(raw)
    assert section.values[4] == "René" and "code page 4242 unknown" in problems[0]
    raw = w.property_set([(w.FMTID_SUMMARY, w.section([(4, w.VT_LPSTR, b"\x81\0")], 932))])
    (section,), problems = parse_property_set_stream(raw)
    assert section.values[4] == "\ufffd" and "not valid in code page 932" in problems[0]


def test_ole_bad_input(tmp_path: Path) -> None:
    assert "not an OLE2" in _bad(OleSummary(), tmp_path, "fake.doc", b"{\\rtf1 not OLE}")
    assert "not an OLE2" in _bad(OleSummary(), tmp_path, "empty.doc", b"")
    cut = (OFFICE / "ja-summary.doc").read_bytes()[:600]
    assert "unreadable OLE2" in _bad(OleSummary(), tmp_path, "cut.doc", cut)


# -------------------------------------------------------------------------- real samples


def _sample(*parts: str) -> LocalFile:
    path = samples("office", *parts)
    return LocalFile(str(path), path=f"/Users/nides/Documents/{parts[-1]}")


def test_sample_word_97_document() -> None:
    events, ctx = _run(OleSummary(), _sample("plaso", "Document.doc"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2012-12-10T18:38:00.0000000Z"),
        ("Last Saved", "2013-05-16T02:29:00.0000000Z"),
    ]
    data = events[0].data
    assert events[0].message == "Document.doc: created by DAVID NIDES (last saved by Nides, revision 4)"
    assert data["sha256"] == hashlib.sha256(samples("office", "plaso", "Document.doc")
                                            .read_bytes()).hexdigest()
    assert {k: data[k] for k in (
        "author", "last_saved_by", "revision", "title", "template", "application", "company",
        "app_version", "pages", "words", "characters", "characters_with_spaces", "lines",
        "paragraphs", "security", "code_page", "edit_time_seconds", "root_modified",
        "subject", "keywords", "has_vba_project")} == {
        "author": "DAVID NIDES", "last_saved_by": "Nides", "revision": "4",
        "title": "Table of Context", "template": "Normal.dotm",
        "application": "Microsoft Office Word", "company": "KPMG", "app_version": "14.0",
        "pages": 1, "words": 3, "characters": 18, "characters_with_spaces": 20, "lines": 1,
        "paragraphs": 1, "security": 0, "code_page": 1252, "edit_time_seconds": 0,
        "root_modified": "2013-05-16T02:29:49.7950000Z", "subject": "", "keywords": "",
        "has_vba_project": False,
    }


def test_sample_word_2007_document() -> None:
    events, ctx = _run(OoxmlProperties(), _sample("plaso", "Document.docx"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2012-11-07T23:29:00Z"), ("Last Saved", "2013-08-25T22:18:00Z")]
    data = events[0].data
    assert events[1].message == "Document.docx: last saved by Nides (created by Nides, revision 3)"
    assert {k: data[k] for k in (
        "author", "last_saved_by", "revision", "template", "edit_time_minutes", "application",
        "app_version", "pages", "words", "characters", "characters_with_spaces", "lines",
        "paragraphs", "security", "company", "title")} == {
        "author": "Nides", "last_saved_by": "Nides", "revision": "3", "template": "Normal.dotm",
        "edit_time_minutes": 1385, "application": "Microsoft Office Word",
        "app_version": "14.0000", "pages": 1, "words": 2, "characters": 13,
        "characters_with_spaces": 14, "lines": 1, "paragraphs": 1, "security": 0,
        "company": "", "title": None,
    }


def test_sample_olefile_document() -> None:
    events, _ = _run(OleSummary(), _sample("olefile", "test-ole-file.doc"))
    data = events[0].data
    assert data["author"] == "Laurence Ipsum" and data["pages"] == 1
    assert data["last_saved_by"] == "Laurence Ipsum" and data["revision"] == "2"
    assert [e.timestamp.iso() for e in events] == ["2014-04-11T11:15:00.0000000Z"] * 2
    assert data["words"] == 7 and data["characters"] == 40


def test_sample_excel_workbooks() -> None:
    events, ctx = _run(OleSummary(), _sample("xlrd", "Formate.xls"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2010-12-04T13:04:45.0000000Z"),
        ("Last Saved", "2010-12-04T17:08:00.0000000Z"),
    ]
    data = events[0].data
    assert (data["author"], data["last_saved_by"], data["revision"]) == (
        "manfred", "Manfred Moitzi", "1")
    assert data["code_page"] == 65001 and data["edit_time_seconds"] == 30
    # profiles.xls: creation FILETIME is 0 ("not set"): only the last save remains
    events, _ = _run(OleSummary(), _sample("xlrd", "profiles.xls"))
    (event,) = events
    assert event.timestamp_desc == "Last Saved"
    assert event.timestamp.iso() == "2010-05-29T05:24:27.0000000Z"
    assert event.data["author"] is None and event.data["last_saved_by"] == "Manfred Moitzi"
    assert event.data["revision"] == "33" and event.data["edit_time_seconds"] == 10975
    assert event.data["root_modified"] == "2010-12-03T12:03:28.4230000Z"
    assert event.message == "profiles.xls: last saved by Manfred Moitzi (revision 33)"


def test_sample_xlsx_without_document_properties() -> None:
    (event,), ctx = _run(OoxmlProperties(), _sample("xlrd", "sample.xlsx"))
    assert ctx.warnings == [] and ctx.errors == []
    assert event.timestamp is None and event.message == "sample.xlsx: created"
    assert event.data["sha256"] == (
        "7607b5495dd7452a91bac6a755133e8228fb37f91526fdaee5363ef365c05a96")


# ----------------------------------------------------------------------------------- PDF

PDF_INFO = {
    "Title": w.pdf_hex_utf16("顧客リスト 𝄞"),
    "Author": b"(Ren\\351 \\(\\205\\) Caf\xe9 \x92)",  # PDFDocEncoding: é, en dash, é, ™
    "Subject": b"(line1\\\nline2)",  # a backslash-newline continues the line
    "Keywords": b"<6B6579>",
    "Creator": b"(Microsoft\\256 Word)",
    "Producer": b"(Acrobat)",
    "CreationDate": b"(D:20260302100203+09'00')",
    "ModDate": b"(D:20260303010203Z)",
    "Company": b"(ACME)",
    "Trapped": b"/False",
}
PDF_XMP = w.xmp_packet({"xmp:CreateDate": "2026-03-02T10:02:03+09:00",
                        "xmp:ModifyDate": "2026-03-03T10:00:00+09:00",
                        "xmp:CreatorTool": "Word", "pdf:Producer": "Acrobat PDFMaker",
                        "xmpMM:DocumentID": "uuid:0f1e2d3c"},
                       authors=["佐藤", "bob"], title="顧客")


@pytest.mark.parametrize("compressed", [False, True])
def test_pdf_info_and_xmp(tmp_path: Path, compressed: bool) -> None:
    raw = w.build_pdf(PDF_INFO, PDF_XMP, compressed=compressed, xmp_filter=compressed)
    events, ctx = _run(PdfInfo(), _file(tmp_path, "見積書.pdf", raw))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2026-03-02T01:02:03Z"),
        ("Modified", "2026-03-03T01:02:03Z"),
        ("Modified (XMP)", "2026-03-03T01:00:00Z"),  # differs from /Info: shown; Created agrees
    ]
    assert events[0].message == (
        "見積書.pdf: created by René (–) Café ™ (creator Microsoft® Word, producer Acrobat)")
    assert events[2].message == ("見積書.pdf: modified (author René (–) Café ™, creator "
                                 "Microsoft® Word, producer Acrobat) [XMP metadata]")
    data = events[0].data
    assert data == {
        "file_name": "見積書.pdf", "sha256": hashlib.sha256(raw).hexdigest(), "format": "PDF",
        "pdf_version": "1.5" if compressed else "1.4", "encrypted": False,
        "title": "顧客リスト 𝄞", "author": "René (–) Café ™", "subject": "line1line2",
        "keywords": "key", "creator": "Microsoft® Word", "producer": "Acrobat",
        "created": "2026-03-02T01:02:03Z", "created_raw": "D:20260302100203+09'00'",
        "modified": "2026-03-03T01:02:03Z", "modified_raw": "D:20260303010203Z",
        "trapped": "False", "info_custom": {"Company": "ACME"},
        "document_id": data["document_id"], "eof_markers": 1,
        "xmp_created": "2026-03-02T01:02:03Z", "xmp_created_raw": "2026-03-02T10:02:03+09:00",
        "xmp_modified": "2026-03-03T01:00:00Z", "xmp_modified_raw": "2026-03-03T10:00:00+09:00",
        "xmp_metadata_date": None, "xmp_metadata_date_raw": None, "xmp_creator_tool": "Word",
        "xmp_producer": "Acrobat PDFMaker", "xmp_authors": ["佐藤", "bob"], "xmp_title": "顧客",
        "xmp_document_id": "uuid:0f1e2d3c", "xmp_instance_id": None,
    }
    assert len(data["document_id"]) == 32


def test_pdf_incremental_update_newest_info_wins(tmp_path: Path) -> None:
    raw = w.build_pdf(PDF_INFO, None, update={"Title": b"(v2)", "Author": b"(Mallory)",
                                              "ModDate": b"(D:20260401000000-05'30')"})
    events, ctx = _run(PdfInfo(), _file(tmp_path, "a.pdf", raw))
    assert ctx.warnings == [] and ctx.errors == []
    (event,) = events
    assert event.timestamp_desc == "Modified" and event.timestamp.iso() == "2026-04-01T05:30:00Z"
    assert event.data["title"] == "v2" and event.data["created"] is None
    assert event.data["eof_markers"] == 2
    assert event.message == "a.pdf: modified (author Mallory)"


def test_pdf_date_without_offset_is_not_placed_in_utc(tmp_path: Path) -> None:
    raw = w.build_pdf({"CreationDate": b"(D:20260302100203)", "Author": b"(bob)"})
    (event,), ctx = _run(PdfInfo(), _file(tmp_path, "a.pdf", raw))
    assert ctx.warnings == [] and ctx.errors == []
    assert event.timestamp is None and event.timestamp_desc == "Created"
    assert event.data["created"] is None and event.data["created_raw"] == "D:20260302100203"
    assert event.message == ("a.pdf: created by bob; time 'D:20260302100203' has no UTC offset "
                             "or is not valid: not placed in UTC")


def test_pdf_made_by_qpdf_with_object_streams() -> None:
    """qpdf put the catalog and /Info in an object stream, the xref in a PNG-predicted stream."""
    events, ctx = _run(PdfInfo(), _committed("qpdf-objstm.pdf"))
    assert ctx.warnings == [] and ctx.errors == []
    assert [(e.timestamp_desc, e.timestamp.iso()) for e in events] == [
        ("Created", "2025-01-01T18:04:05Z"), ("Modified", "2025-01-02T04:05:06Z")]
    data = events[0].data
    assert (data["title"], data["author"], data["producer"]) == ("見積書", "Suzuki",
                                                                 "triage fixture")
    assert data["xmp_authors"] == ["Suzuki"] and data["pdf_version"] == "1.5"
    assert data["document_id"] == "ae553fe829ad345e9cb932057fe75780"


def test_pdf_encrypted(tmp_path: Path) -> None:
    raw = w.build_pdf(PDF_INFO, None, encrypt=True)
    (event,), ctx = _run(PdfInfo(), _file(tmp_path, "locked.pdf", raw))
    assert event.timestamp is None and event.data["encrypted"] is True
    assert event.data["title"] is None
    assert ctx.warnings == [] and ctx.errors == []
    assert ctx.notes == ["/Users/alice/Documents/locked.pdf: encrypted PDF: its strings are not "
                         "decrypted, properties not read"]


def test_pdf_hostile_xmp_is_refused_info_kept(tmp_path: Path) -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x:xmpmeta>&a;</x:xmpmeta>'
    raw = w.build_pdf({"Author": b"(bob)", "ModDate": b"(D:20200101000000Z)"}, bomb)
    (event,), ctx = _run(PdfInfo(), _file(tmp_path, "a.pdf", raw))
    assert event.data["author"] == "bob" and event.timestamp.iso() == "2020-01-01T00:00:00Z"
    assert ctx.warnings == []
    assert len(ctx.errors) == 1 and "DTD or entity" in ctx.errors[0]


def test_pdf_without_trailer_and_bad_input(tmp_path: Path) -> None:
    raw = b"%PDF-1.4\n% no objects\n" + b"0" * 1500 + b"\n%%EOF\n"
    (event,), ctx = _run(PdfInfo(), _file(tmp_path, "stub.pdf", raw))
    assert event.timestamp is None and event.data["pdf_version"] == "1.4"
    assert "no trailer" in ctx.warnings[0]
    assert "not a PDF" in _bad(PdfInfo(), tmp_path, "x.pdf", b"MZ\x90\0" * 100)
    # nesting far past the parser's depth limit: no recursion error, just no /Info
    deep = b"%PDF-1.4\n1 0 obj\n" + b"[" * 5000 + b"\nendobj\ntrailer\n<< /Info 1 0 R >>\n%%EOF"
    (event,), ctx = _run(PdfInfo(), _file(tmp_path, "deep.pdf", deep))
    assert event.data["title"] is None
    assert "nested too deeply" in ctx.warnings[0]
    assert "/Info dictionary was not found" in ctx.errors[0]


def test_pdf_parser_bounds(tmp_path: Path) -> None:
    """A string over 1 MiB or an array of over 100,000 items is not parsed: /Info is lost,
    the file still gives its event and hash."""
    for title in (b"(" + b"a" * ((1 << 20) + 10) + b")", b"[" + b"0 " * 100_001 + b"]"):
        raw = w.build_pdf({"Title": title, "Author": b"(bob)"})
        (event,), ctx = _run(PdfInfo(), _file(tmp_path, "big.pdf", raw))
        assert event.data["title"] is None and event.data["sha256"]
        assert "/Info dictionary was not found" in ctx.errors[0]
        assert "over 1 MiB" in ctx.warnings[0] or "100,000 items" in ctx.warnings[0]


def test_pdf_over_200_mib_is_refused() -> None:
    @dataclass
    class Huge:
        path: str = "/Users/a/big.pdf"
        size: int = 200 * (1 << 20) + 1
        inode: None = None
        name: str = "big.pdf"

        def read(self, limit=None):  # pragma: no cover - must not be reached
            raise AssertionError("read before the size check")

    with pytest.raises(ArtifactError, match="200 MiB"):
        list(PdfInfo().extract(Huge(), _ctx()))


@pytest.mark.parametrize("text, iso", [
    ("D:20260302100203+09'00'", "2026-03-02T01:02:03Z"),
    ("D:20260303010203Z", "2026-03-03T01:02:03Z"),
    ("D:20260303010203Z00'00'", "2026-03-03T01:02:03Z"),
    ("D:199812231952-08'00'", "1998-12-24T03:52:00Z"),
    ("D:20260302100203+0900", "2026-03-02T01:02:03Z"),
    ("20260302100203-03'30", "2026-03-02T13:32:03Z"),
    ("D:20260302100203", None),
    ("D:2026", None),
])
def test_pdf_dates(text: str, iso: str | None) -> None:
    ts, problem = parse_pdf_date(text)
    assert problem is None and (ts.iso() if ts else None) == iso


@pytest.mark.parametrize("text", ["D:20261399000000Z", "garbage", "D:191120101010Z"])
def test_pdf_dates_invalid(text: str) -> None:
    ts, problem = parse_pdf_date(text)
    assert ts is None and problem


def test_pdf_text_encodings() -> None:
    assert pdf_text(b"\xfe\xff\x30\xb9\xd8\x34\xdd\x1e") == "ス𝄞"
    assert pdf_text(b"\xef\xbb\xbfcaf\xc3\xa9") == "café"
    assert pdf_text(b"\x80\x84\x92\xa0\x18\x9e") == "•—™€˘ž"
    assert pdf_text(b"plain") == "plain"


# -------------------------------------------------------------------------- end to end


def test_cli_on_a_system_drive_folder(cli, tmp_path: Path) -> None:
    root = tmp_path / "evidence"
    docs = root / "Users" / "alice" / "Documents"
    downloads = root / "Users" / "alice" / "Downloads"
    bob = root / "Users" / "bob" / "Desktop"
    bin_dir = root / "$Recycle.Bin" / BOB_SID
    for folder in (docs, downloads, bob, bin_dir, root / "Windows"):
        folder.mkdir(parents=True)
    xlsx = w.build_ooxml("xlsx", w.core_xml(CORE_JA), w.app_xml(APP_JA))
    (docs / "顧客リスト.xlsx").write_bytes(xlsx)
    (docs / "notes.txt").write_bytes(b"not a document")
    (downloads / "見積書.pdf").write_bytes(w.build_pdf(PDF_INFO, PDF_XMP))
    shutil.copy(OFFICE / "ja-summary.doc", bob / "old.doc")
    deleted = w.build_ooxml("docx", w.core_xml([("dc:creator", "bob"),
                                                ("dcterms:modified", "2026-03-11T05:00:00Z")]))
    (bin_dir / "$RZ9Y8X7.docx").write_bytes(deleted)
    (bin_dir / "$RBROKEN.docx").write_bytes(b"customer-list")

    case = tmp_path / "case"
    result = cli("run", root, "-o", case, "--json")
    assert result.exit_code == 1, result.output  # 1: a file could not be parsed
    summary = json.loads(result.output)
    assert summary["errors"] == 1  # the fake .docx in the bin, and only it
    events = [e for e in read_jsonl(case) if e["family"] == "documents"]
    by_path: dict[str, list[dict]] = {}
    for event in events:
        by_path.setdefault(event["source"]["path"], []).append(event)
    assert sorted(by_path) == sorted([
        "/Users/alice/Documents/顧客リスト.xlsx", "/Users/alice/Downloads/見積書.pdf",
        "/Users/bob/Desktop/old.doc", f"/$Recycle.Bin/{BOB_SID}/$RZ9Y8X7.docx"])
    for path, mine in by_path.items():
        assert all(e["data"]["sha256"] == e["source"]["sha256"] for e in mine), path
    xlsx_events = by_path["/Users/alice/Documents/顧客リスト.xlsx"]
    assert [(e["timestamp"], e["timestamp_desc"]) for e in xlsx_events] == [
        (None, "Last Printed"),  # the timeline puts untimed events first
        ("2026-03-02T01:02:03Z", "Created"), ("2026-03-11T05:44:21.57Z", "Last Saved")]
    assert summary["warnings"] == 0
    assert {e["user"] for e in xlsx_events} == {"alice"}
    assert {e["artifact"] for e in xlsx_events} == {"OfficeDocuments"}
    assert {e["extractor"] for e in by_path["/Users/alice/Downloads/見積書.pdf"]} == {"pdf_info"}
    old = by_path["/Users/bob/Desktop/old.doc"]
    assert {e["user"] for e in old} == {"bob"} and len(old) == 3
    assert {e["artifact"] for e in old} == {"LegacyOfficeDocuments"}
    (binned,) = by_path[f"/$Recycle.Bin/{BOB_SID}/$RZ9Y8X7.docx"]
    assert binned["user"] == BOB_SID  # no SOFTWARE hive here to name the SID
    assert binned["message"] == "$RZ9Y8X7.docx: last saved (created by bob)"
    assert binned["timestamp"] == "2026-03-11T05:00:00Z"
