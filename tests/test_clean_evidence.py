"""A clean workstation (ordinary programs, files, sites and logons) raises no finding, while the
fixture image's exfiltration story raises the story's findings."""
from __future__ import annotations

import json

from conftest import FIXTURE_IMAGES, FT_1
from fixtures.builders.browser_writer import build_chrome_history, webkit_from_iso
from fixtures.builders.lnk_writer import build_lnk, link_info_local
from fixtures.builders.prefetch_writer import PrefetchVolume, build_prefetch
from fixtures.builders.recycle_writer import build_i_file

ALICE = "S-1-5-21-1111111111-2222222222-3333333333-1001"
HOUR = 36_000_000_000  # FILETIME ticks


def _clean_drive(root):
    prefetch = root / "Windows" / "Prefetch"
    prefetch.mkdir(parents=True)
    volume = PrefetchVolume("\\VOLUME{01dc4c67a520b980-9b2d4680}", 0x9B2D4680, FT_1 - 1000 * HOUR, [])
    for exe, number in (("NOTEPAD.EXE", 0x11111111), ("WINWORD.EXE", 0x22222222)):
        (prefetch / f"{exe}-{number:08X}.pf").write_bytes(build_prefetch(
            exe, number, [FT_1 + 2 * HOUR], 3, [volume], [f"{volume.device_path}\\WINDOWS\\{exe}"]))
    bin_dir = root / "$Recycle.Bin" / ALICE
    bin_dir.mkdir(parents=True)
    (bin_dir / "$IAB12CD.txt").write_bytes(build_i_file("C:\\Users\\alice\\Desktop\\lunch menu.txt", 40, FT_1))
    (bin_dir / "$RAB12CD.txt").write_bytes(b"curry, salad, soup, rice, tea, cake, fruit" [:40])
    recent = root / "Users" / "alice" / "AppData" / "Roaming" / "Microsoft" / "Windows" / "Recent"
    recent.mkdir(parents=True)
    (recent / "minutes.docx.lnk").write_bytes(build_lnk(
        link_info=link_info_local("C:\\Users\\alice\\Documents\\minutes.docx", 3, 0x9B2D4680, "Windows"),
        created=FT_1, modified=FT_1 + HOUR, accessed=FT_1 + 2 * HOUR, file_size=1234))
    chrome = root / "Users" / "alice" / "AppData" / "Local" / "Google" / "Chrome" / "User Data" / "Default"
    chrome.mkdir(parents=True)
    visit = webkit_from_iso("2026-03-02T03:00:00.000000Z")
    build_chrome_history(chrome / "History", {
        "urls": [{"id": 1, "url": "https://www.example.co.jp/news", "title": "News",
                  "visit_count": 1, "last_visit_time": visit}],
        "visits": [{"id": 1, "url": 1, "visit_time": visit, "transition": 1}]})
    logs = root / "Windows" / "System32" / "winevt" / "Logs"
    logs.mkdir(parents=True)
    return root


def test_clean_workstation_raises_no_finding(cli, tmp_path):
    case = tmp_path / "case"
    result = cli("run", _clean_drive(tmp_path / "ev"), "-o", case, "--json", "--source-tz", "Asia/Tokyo")
    summary = json.loads(result.output)
    assert result.exit_code == 0, result.output
    families = {k for k, v in summary["per_artifact"].items() if v}
    assert {"WindowsPrefetch", "RecycleBin", "WindowsShortcuts", "ChromiumHistory"} <= families
    assert summary["findings"] == {}, summary["finding_list"]


def test_the_fixture_story_is_reported(cli, tmp_path):
    result = cli("run", FIXTURE_IMAGES / "win.E01", "-o", tmp_path / "case", "--json")
    summary = json.loads(result.output)
    fired = {line.split("] ", 1)[1].split(" ", 1)[0] for line in summary["finding_list"]}
    # 7-Zip run, then the KIOXIA stick; a payroll file deleted; the stick's first connection
    assert {"TRIAGE-EXE-001", "TRIAGE-ACT-002", "TRIAGE-DEL-001", "TRIAGE-USB-001"} <= fired
