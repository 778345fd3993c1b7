"""The investigation report: sections in English and Japanese, times in the chosen zone,
evidence text escaped (a hostile file name shows as text and runs nothing), no external
resource, the cap on embedded events, the `triage report` command with the manifest, and the
page rendered by headless Chromium (skipped when it is not installed)."""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders.browser_writer import build_chrome_history, webkit_from_iso  # noqa: E402
from fixtures.builders.lnk_writer import DRIVE_REMOVABLE, build_lnk, link_info_local  # noqa: E402
from fixtures.builders.office_writer import build_ooxml, core_xml  # noqa: E402
from fixtures.builders.recycle_writer import build_i_file  # noqa: E402
from triage.cli import main  # noqa: E402  (before triage.cli_report, as the entry point does)
from triage.cli_report import report_command  # noqa: E402
from triage.report import build_report, render_report  # noqa: E402
from triage.report.build import script_hash  # noqa: E402
from triage.report.i18n import JS_KEYS, LABELS, placeholders  # noqa: E402

FIXTURE_E01 = ROOT / "fixtures" / "images" / "win.E01"
CHROMIUM = "/usr/bin/chromium"
EVIL = "<img src=x onerror=alert(1)>"
SCRIPT_END = "</script><!--@SUM(1+1)"
SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
FT = 134168869231234567  # 2026-03-02T01:02:03.1234567Z
SECTION_IDS = ("case", "system", "findings", "usb", "execution", "browsing", "recent", "deleted",
               "activity", "timeline", "errors")


def make_hostile_evidence(root: Path) -> Path:
    """A system-drive folder whose artifacts carry HTML, script and formula text: a Chrome
    History (titles, URLs, a download, a search), an Office document named and authored with
    markup, Recycle Bin entries and a shortcut to a removable drive."""
    w = webkit_from_iso
    chrome = root / "Users/alice/AppData/Local/Google/Chrome/User Data/Default"
    chrome.mkdir(parents=True)
    build_chrome_history(chrome / "History", {
        "urls": [
            {"id": 1, "url": "https://drive.google.com/drive/my-drive",
             "title": "</script><script>alert(2)</script>", "visit_count": 2,
             "last_visit_time": w("2026-03-02T01:10:00.000001Z")},
            {"id": 2, "url": "https://46.gigafile.nu/upload?<!--", "title": EVIL, "visit_count": 1,
             "last_visit_time": w("2026-03-02T01:20:00.000002Z")},
            {"id": 3, "url": "https://mail.google.com/mail/u/0/", "title": "Gmail invoice\u202efdp.exe", "visit_count": 1,
             "last_visit_time": w("2026-03-02T01:30:00.000003Z")},
        ],
        "visits": [
            {"id": 1, "url": 1, "visit_time": w("2026-03-02T01:05:00.000001Z"), "transition": 1},
            {"id": 2, "url": 1, "visit_time": w("2026-03-02T01:10:00.000001Z"), "transition": 0},
            {"id": 3, "url": 2, "visit_time": w("2026-03-02T01:20:00.000002Z"), "transition": 0},
            {"id": 4, "url": 3, "visit_time": w("2026-03-02T01:30:00.000003Z"), "transition": 0},
        ],
        "keyword_search_terms": [{"keyword_id": 2, "url_id": 2, "term": EVIL + "顧客",
                                  "normalized_term": "x"}],
        "downloads": [
            {"id": 1, "guid": "6A0B8C1E-2D3F-4A5B-9C8D-7E6F5A4B3C2D",
             "current_path": f"C:\\Users\\alice\\Downloads\\{EVIL}.docx",
             "target_path": f"C:\\Users\\alice\\Downloads\\{EVIL}.docx",
             "start_time": w("2026-03-02T01:21:00.500000Z"), "end_time": w("2026-03-02T01:21:03Z"),
             "received_bytes": 10, "total_bytes": 10, "state": 1, "danger_type": 0,
             "interrupt_reason": 0, "opened": 0, "tab_url": "https://46.gigafile.nu/",
             "mime_type": "application/octet-stream"},
        ],
        "downloads_url_chains": [{"id": 1, "chain_index": 0, "url": f"https://46.gigafile.nu/dl/{EVIL}"}],
    })
    docs = root / "Users/alice/Documents"
    docs.mkdir(parents=True)
    (docs / f"{EVIL}.docx").write_bytes(build_ooxml("docx", core=core_xml([
        ("dc:creator", '"><svg onload=alert(3)>'),
        ("cp:lastModifiedBy", '=HYPERLINK("http://evil.example/","x")'),
        ("dc:title", "-2+3"),
        ("dcterms:created", "2026-03-01T09:00:00Z"),
        ("dcterms:modified", "2026-03-02T02:00:00Z")])))
    for name in ("=1+2.docx", "@SUM(A1).docx", "-cmd.xlsx"):  # spreadsheet formula bait
        (docs / name).write_bytes(build_ooxml(name.rsplit(".", 1)[1], core=core_xml([
            ("dc:creator", "+mallory"), ("dcterms:created", "2026-03-01T10:00:00Z")])))
    recycle = root / "$Recycle.Bin" / SID
    recycle.mkdir(parents=True)
    (recycle / "$IAAAAAA.docx").write_bytes(build_i_file(f"C:\\Users\\alice\\Documents\\{EVIL}.docx", 12, FT))
    (recycle / "$RAAAAAA.docx").write_bytes(b"not a zip..")  # an error row for the errors section
    (recycle / "$IBBBBBB.txt").write_bytes(build_i_file(f"C:\\Users\\alice\\{SCRIPT_END}.txt", 5,
                                                       FT + 10**9))
    recent = root / "Users/alice/AppData/Roaming/Microsoft/Windows/Recent"
    recent.mkdir(parents=True)
    (recent / "evil.lnk").write_bytes(build_lnk(
        link_info=link_info_local(f"E:\\{EVIL}.xlsx", DRIVE_REMOVABLE, 0x4B1D2C3E, "USB<b>"),
        created=FT, modified=FT + 5 * 10**7, accessed=FT + 9 * 10**7, file_size=1234))
    return root


def run_case(evidence: Path, case: Path, *extra: str) -> Path:
    result = CliRunner().invoke(main, ["run", str(evidence), "-o", str(case), "-q", *extra],
                                catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output  # 1: an artifact file had errors
    return case


@pytest.fixture(scope="module")
def image_case(tmp_path_factory) -> Path:
    case = tmp_path_factory.mktemp("report") / "case"
    return run_case(FIXTURE_E01, case, "--hash-evidence", "--examiner", "J. <b>Doe</b>",
                    "--case", "C-<1>")


@pytest.fixture(scope="module")
def hostile_case(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("hostile")
    return run_case(make_hostile_evidence(base / "evidence"), base / "case")


def island(page: str, name: str = "triage-events"):
    match = re.search(rf'<script type="application/json" id="{name}">(.*?)</script>', page, re.S)
    assert match, name
    return json.loads(match.group(1))


# ------------------------------------------------------------------ content


def test_sections_and_facts_in_english(image_case, tmp_path):
    path = build_report(str(image_case), out=str(tmp_path / "r.html"))
    page = Path(path).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    for anchor in SECTION_IDS:
        assert f'<section id="{anchor}">' in page and f'href="#{anchor}"' in page
    en = LABELS["en"]
    for key in ("sec_case", "sec_system", "sec_findings", "sec_usb", "sec_execution", "sec_browsing",
                "sec_recent", "sec_deleted", "sec_activity", "sec_timeline"):
        assert f"<h2>{en[key]}</h2>" in page
    # case and evidence: hashes, E01 verification, examiner (escaped), tool version
    assert "c46c44572d28a9935ab1e78653662003" in page  # MD5 computed = stored
    assert en["verification_match"] in page
    assert "J. &lt;b&gt;Doe&lt;/b&gt;" in page and "C-&lt;1&gt;" in page
    assert "triage 0.1.0" in page
    manifest = json.loads((image_case / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["timeline"]["chain_head"] in page
    assert hashlib.sha256((image_case / "manifest.json").read_bytes()).hexdigest() in page
    # system and users
    assert "WS-ACCT-07" in page and "S-1-5-21-1111111111-2222222222-3333333333-1002" in page
    # times in the case's zone (Asia/Tokyo), named, full precision kept
    assert "Asia/Tokyo" in page
    assert "2026-03-11 15:15:02.2000000 +09:00" in page  # payroll_2025.csv deleted, 06:15:02.2Z
    # findings with their proving event
    assert "TRIAGE-DEL-001" in page and "payroll_2025.csv" in page
    assert 'class="badge sev-high"' in page
    # USB device and its lifecycle chart (one row, install/arrival/removal marks)
    usb = page[page.index('<section id="usb">'):page.index('<section id="execution">')]
    assert "KIOXIA TransMemory USB Device" in usb and "0022CFF6B8A7C2B1" in usb
    assert "<svg" in usb and "<path d=" in usb and "<rect" in usb and "<circle" in usb
    assert "First Install" in usb and "Last Removal" in usb
    # program execution: Prefetch run counts and last runs
    execution = page[page.index('<section id="execution">'):page.index('<section id="browsing">')]
    assert "7Z.EXE" in execution and ">211<" in execution  # SVCHOST run count
    assert "2026-03-11 14:58:29.5000000 +09:00" in execution
    # documents, deleted files, activity histogram
    assert "budget_2026.xlsx" in page and "Budget 2026" in page
    deleted = page[page.index('<section id="deleted">'):page.index('<section id="activity">')]
    assert "passwords.txt" in deleted and "取引先メモ.txt" in deleted
    activity = page[page.index('<section id="activity">'):page.index('<section id="timeline">')]
    assert "<svg" in activity and en["per_day"] in activity
    # the timeline island holds every event (fewer than the cap) in the zone, with the rule tags
    rows = island(page)["rows"]
    total = manifest["counts"]["events"]
    assert len(rows) == total
    assert en["cap_all"].format(n=f"{total:,}") in page
    payroll = next(r for r in rows if "payroll_2025.csv" in r[6])
    assert payroll[1] == "2026-03-11 15:15:02.2000000 +09:00"
    assert payroll[2] == "2026-03-11T06:15:02.2000000Z" and payroll[9] == "TRIAGE-DEL-001"


def test_japanese_labels(image_case, tmp_path):
    page = Path(build_report(str(image_case), lang="ja", out=str(tmp_path / "ja.html"))).read_text("utf-8")
    ja = LABELS["ja"]
    assert '<html lang="ja">' in page
    for key in ("title", "sec_case", "sec_system", "sec_findings", "sec_usb", "sec_execution",
                "sec_browsing", "sec_recent", "sec_deleted", "sec_activity", "sec_timeline",
                "examiner", "verification_match", "lifecycle", "per_day"):
        assert ja[key] in page, key
    total = json.loads((image_case / "manifest.json").read_text(encoding="utf-8"))["counts"]["events"]
    assert ja["cap_all"].format(n=f"{total:,}") in page
    for anchor in SECTION_IDS:
        assert f'<section id="{anchor}">' in page
    # the script's labels are Japanese too
    assert island(page, "triage-labels")["next"] == ja["next"]


def test_time_zone_option(image_case):
    utc = render_report(str(image_case), tz="UTC")
    assert "2026-03-11 06:15:02.2000000 +00:00" in utc
    assert "2026-03-11 15:15:02.2000000" not in utc
    assert island(utc)["rows"][-1][2].endswith("Z")  # the UTC original stays in the data
    india = render_report(str(image_case), tz="UTC+05:30")
    assert "2026-03-11 11:45:02.2000000 +05:30" in india and "UTC+05:30" in india
    with pytest.raises(ValueError):
        render_report(str(image_case), tz="Mars/Olympus_Mons")
    with pytest.raises(ValueError):
        render_report(str(image_case), lang="fr")


def test_cap_on_embedded_events(image_case):
    total = json.loads((image_case / "manifest.json").read_text(encoding="utf-8"))["counts"]["events"]
    assert total > 10
    page = render_report(str(image_case), max_events=10)
    rows = island(page)["rows"]
    assert len(rows) == 10 and [r[0] for r in rows] == list(range(1, 11))
    assert html.escape(LABELS["en"]["cap_some"].format(k="10", n=f"{total:,}", cap="10")) in page
    ja = render_report(str(image_case), lang="ja", max_events=10)
    assert html.escape(LABELS["ja"]["cap_some"].format(k="10", n=f"{total:,}", cap="10")) in ja
    assert island(render_report(str(image_case), max_events=0))["rows"] == []


def test_i18n_complete():
    assert set(LABELS["en"]) == set(LABELS["ja"])
    for key, text in LABELS["en"].items():
        assert placeholders(text) == placeholders(LABELS["ja"][key]), key
        assert LABELS["ja"][key].strip(), key
    assert set(JS_KEYS) <= set(LABELS["en"])


# ------------------------------------------------------------------ safety


def test_hostile_names_are_escaped(hostile_case):
    page = render_report(str(hostile_case))
    # the evidence text is there, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "&lt;/script&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;svg onload=alert(3)&gt;" in page
    assert "USB&lt;b&gt;" in page
    # and never as markup
    assert EVIL not in page and "<svg onload" not in page and "alert(2)</script>" not in page
    assert "<!--" not in page
    assert not re.search(r"<[a-z][^>]*\son[a-z]+\s*=", page, re.I)  # no event handler attribute
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" id="triage-labels">',
                                                  '<script type="application/json" id="triage-events">',
                                                  "<script>"]
    assert page.count("</script>") == 3
    # the JSON island round-trips the exact evidence text
    rows = island(page)["rows"]
    messages = "\n".join(r[6] for r in rows)
    assert EVIL in messages and SCRIPT_END in messages and "<!--" in messages
    # a right-to-left override is shown, not obeyed (in the HTML and in the JSON island)
    assert "\u202e" not in page and "Gmail invoice⟨U+202E⟩fdp.exe" in page
    # every section that shows these artifacts is filled
    for text in ("46.gigafile.nu", "drive.google.com", "mail.google.com", LABELS["en"]["cat_file_transfer"],
                 "4B1D2C3E", "=HYPERLINK(&quot;http://evil.example/&quot;,&quot;x&quot;)", "-2+3",
                 "not a ZIP archive"):
        assert text in page, text


def test_no_external_resources_and_strict_policy(hostile_case, image_case):
    for case in (hostile_case, image_case):
        page = render_report(str(case))
        attr = re.compile(r"\b(?:src|href|srcset|action|formaction|poster|data|xlink:href|background)"
                          r"\s*=\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//", re.I)
        assert not attr.search(page)
        assert not re.search(r"url\(\s*[\"']?\s*(?:https?:)?//", page, re.I)
        assert "@import" not in page
        for tag in ("<link", "<img", "<iframe", "<object", "<embed", "<audio", "<video", "<base"):
            assert tag not in page.lower(), tag
        hrefs = re.findall(r'href="([^"]*)"', page)
        assert hrefs and all(h.startswith("#") for h in hrefs)
        csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1)
        assert "default-src &#x27;none&#x27;" in csp and "connect-src &#x27;none&#x27;" in csp
        script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
        assert script_hash(script) == f"sha256-{digest}" and digest in csp


# ------------------------------------------------------------------ the command


def test_report_command_registers_in_manifest(image_case, tmp_path):
    case = tmp_path / "case"
    shutil.copytree(image_case, case)
    runner = CliRunner()
    before = hashlib.sha256((case / "manifest.json").read_bytes()).hexdigest()
    result = runner.invoke(report_command, [str(case), "--lang", "ja", "--tz", "UTC"])
    assert result.exit_code == 0, result.output
    report = case / "report.html"
    digest = hashlib.sha256(report.read_bytes()).hexdigest()
    manifest = json.loads((case / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["outputs"]["report.html"] == {"sha256": digest, "size": report.stat().st_size}
    assert manifest["added_outputs"][-1]["previous_manifest_sha256"] == before
    new_manifest = hashlib.sha256((case / "manifest.json").read_bytes()).hexdigest()
    assert digest in result.output and new_manifest in result.output
    verify = runner.invoke(main, ["verify", str(case), "--manifest-sha256", new_manifest])
    assert verify.exit_code == 0, verify.output
    assert "5 files" not in verify.output and "4 files" in verify.output
    # rebuilding replaces the entry; a changed report is caught by verify
    assert runner.invoke(report_command, [str(case)]).exit_code == 0
    assert runner.invoke(main, ["verify", str(case)]).exit_code == 0
    with open(report, "a", encoding="utf-8") as handle:
        handle.write("<!-- edited -->")
    changed = runner.invoke(main, ["verify", str(case)])
    assert changed.exit_code == 4 and "report.html" in changed.output


def test_report_outside_the_case_prints_its_hash(image_case, tmp_path):
    before = (image_case / "manifest.json").read_bytes()
    out = tmp_path / "elsewhere" / "r.html"
    out.parent.mkdir()
    result = CliRunner().invoke(report_command, [str(image_case), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.output
    assert "not registered" in result.output
    assert (image_case / "manifest.json").read_bytes() == before


def test_report_command_refusals(image_case, tmp_path):
    runner = CliRunner()
    bad_zone = runner.invoke(report_command, [str(image_case), "--tz", "Nowhere/Nothing"])
    assert bad_zone.exit_code == 2 and "time zone" in bad_zone.output
    clobber = runner.invoke(report_command, [str(image_case), "-o", str(image_case / "timeline.csv")])
    assert clobber.exit_code == 2 and "refusing" in clobber.output
    assert runner.invoke(report_command, [str(tmp_path / "nope")]).exit_code == 2
    case = tmp_path / "case"
    shutil.copytree(image_case, case)
    with open(case / "timeline.csv", "a", encoding="utf-8") as handle:
        handle.write("tampered\n")
    before = (case / "report.html").read_bytes()  # the run's own report
    changed = runner.invoke(report_command, [str(case)])
    assert changed.exit_code == 4 and (case / "report.html").read_bytes() == before
    forced = runner.invoke(report_command, [str(case), "--no-verify", "-o", str(tmp_path / "f.html")])
    assert forced.exit_code == 0


# ------------------------------------------------------------------ headless browser


def png_has_content(data: bytes) -> bool:
    """True when a PNG (8-bit RGB/RGBA, not interlaced) has two differing pixels; stdlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    width, height, depth, color, _, _, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), header
    bpp = 3 if color == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(b"".join(idat))
    prev = bytearray(stride)
    uniform = None
    for y in range(height):
        start = y * (stride + 1)
        kind, cur = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = cur[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                cur[i] = (cur[i] + a) & 0xFF
            elif kind == 2:
                cur[i] = (cur[i] + b) & 0xFF
            elif kind == 3:
                cur[i] = (cur[i] + ((a + b) >> 1)) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                cur[i] = (cur[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        if uniform is None:
            uniform = bytes(cur[:bpp]) * width
        if bytes(cur) != uniform:
            return True
        prev = cur
    return False


def test_png_checker():
    def png(rows: list[bytes], width: int) -> bytes:
        def chunk(kind: bytes, body: bytes) -> bytes:
            return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        raw = b"".join(b"\x00" + r for r in rows)
        return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    assert not png_has_content(png([b"\xff\xff\xff" * 4] * 3, 4))
    assert png_has_content(png([b"\xff\xff\xff" * 4, b"\xff\xff\xff" * 3 + b"\x00\x00\x00"], 4))


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile{len(list(tmp_path.iterdir()))}"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run",
               f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env=dict(os.environ, LANG="C.UTF-8"))


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="chromium is not installed")
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_renders_in_headless_chromium(hostile_case, tmp_path, lang):
    report = Path(build_report(str(hostile_case), lang=lang, out=str(tmp_path / f"report-{lang}.html")))
    url = report.resolve().as_uri()
    dom = _chromium(tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    dumped = dom.stdout
    body = re.search(r"<body[^>]*>", dumped).group(0)
    assert 'data-ready="1"' in body, "the page script did not finish"
    assert "data-js-error" not in body
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console  # no script error, no blocked load, no policy violation
    for anchor in SECTION_IDS:
        assert f'<section id="{anchor}">' in dumped
    rendered = re.findall(r'<tr class="ev" data-i="\d+">', dumped)
    events = json.loads((hostile_case / "manifest.json").read_text(encoding="utf-8"))["counts"]["events"]
    assert len(rendered) == min(events, 100)
    assert "&lt;img src=x onerror=alert(1)&gt;" in dumped and "<img" not in dumped
    assert "alert(2)</script>" not in dumped and "<svg onload" not in dumped
    status = re.search(r'<span id="tl-status">([^<]*)</span>', dumped).group(1)
    assert status == LABELS[lang]["showing"].format(a=1, b=min(events, 100), n=events)
    shot = tmp_path / f"report-{lang}.png"
    result = _chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,2000", url)
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    assert png_has_content(shot.read_bytes())
