"""Every shipped rule: events that fire it, and close look-alikes that must not."""
from __future__ import annotations

import json
import sqlite3

import pytest

from triage import integrity
from triage.detection.engine import evaluate
from triage.detection.rules import load_rules
from triage.model import Timestamp
from triage.store import SCHEMA, record_to_row, EVENT_COLUMNS
from triage.timezones import tzinfo

RULES = {r.id: r for r in load_rules()}
BASE = "2026-03-11T06:00:00.0000000Z"  # a Wednesday, 15:00 in Tokyo


def at(minutes: float) -> str:
    ts = Timestamp.parse(BASE)
    return Timestamp(ts.ns + int(minutes * 60 * 10**9), 7).iso()


def ev(family: str, desc: str, message: str = "x", minutes: float = 0, user: str | None = "alice",
       artifact: str = "A", extractor_name: str = "e", **data) -> dict:
    record = {"timestamp": at(minutes), "timestamp_desc": desc, "artifact": artifact,
              "family": family, "extractor": extractor_name, "message": message, "user": user,
              "host": "WS", "source": {"evidence": "e", "volume": "p1", "path": "/p", "inode": None,
                                       "sha256": None}, "data": data}
    record["event_hash"] = integrity.event_hash(record)
    return record


def fired(rule_id: str, events: list[dict], zone: str = "Asia/Tokyo") -> bool:
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.executescript(SCHEMA)
    rows = sorted((record_to_row(e, Timestamp.parse(e["timestamp"]).ns) for e in events),
                  key=lambda r: (r[0], r[-1]))
    db.executemany(f"INSERT INTO events (seq, {','.join(EVENT_COLUMNS)}, chain_hash) VALUES "
                   f"(?, {','.join('?' * len(EVENT_COLUMNS))}, '')",
                   [(i + 1, *row) for i, row in enumerate(rows)])
    result = evaluate([RULES[rule_id]], db.execute("SELECT * FROM events ORDER BY seq"), tzinfo(zone))
    assert not result.rule_errors
    # The case-store path, which lets SQLite pre-select the events, finds exactly the same.
    selected = evaluate([RULES[rule_id]], db, tzinfo(zone))
    assert [(f.events, f.explanation) for f in selected.findings] == \
        [(f.events, f.explanation) for f in result.findings]
    return bool(result.findings)


usb_first = ev("registry", "First Install", plugin="usb_devices", device_kind="mass storage")
usb_arrival = ev("registry", "Last Arrival", plugin="usb_devices", device_kind="mass storage")
lnk_removable = ev("recent_files", "Target Accessed", "E:\\顧客リスト.xlsx", minutes=20,
                   drive_type_name="removable")
lnk_fixed = ev("recent_files", "Target Accessed", "C:\\report.docx", minutes=20, drive_type_name="fixed")
archive = ev("execution", "Last Run", executable="7Z.EXE")

CASES = {
    "TRIAGE-USB-001": ([usb_first], [usb_arrival, ev("registry", "First Install", plugin="usb_devices",
                                                     device_kind="hub")]),
    "TRIAGE-USB-002": ([ev("registry", "First Install", plugin="usb_devices",
                           device_kind="portable device (MTP)")], [usb_first]),
    "TRIAGE-USB-003": ([lnk_removable], [lnk_fixed]),
    "TRIAGE-USB-004": ([usb_arrival, lnk_removable],
                       [usb_arrival, ev("recent_files", "Target Accessed", minutes=90,
                                        drive_type_name="removable")]),
    "TRIAGE-ACT-001": ([ev("recent_files", "Target Accessed", f"file{i}", minutes=i * 0.2) for i in range(30)],
                       [ev("recent_files", "Target Accessed", f"file{i}", minutes=i * 2) for i in range(30)]),
    "TRIAGE-ACT-002": ([archive, ev("browser", "Visited", minutes=60, category="file_transfer")],
                       [archive, ev("browser", "Visited", minutes=60, category="search")]),
    "TRIAGE-ACT-003": ([ev("browser", "Visited", category="webmail")],
                       [ev("browser", "Visited", category="other")]),
    "TRIAGE-ACT-004": ([ev("recent_files", "Target Accessed", minutes=8 * 60 + i) for i in range(5)],
                       [ev("recent_files", "Target Accessed", minutes=i) for i in range(5)]),
    "TRIAGE-ACT-005": ([ev("recent_files", "Target Accessed", "Shortcut to C:\\Users\\alice\\名簿.xlsx")],
                       [ev("recent_files", "Target Accessed", "Shortcut to C:\\Users\\alice\\memo.xlsx")]),
    "TRIAGE-ACT-006": ([ev("activity", "Network Usage Recorded", app="C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe", bytes_sent=2_147_483_648)],
                       [ev("activity", "Network Usage Recorded", app="chrome.exe", bytes_sent=5_000_000),
                        ev("activity", "Network Usage Recorded", app="svchost.exe", bytes_sent=2_147_483_648)]),
    "TRIAGE-DEL-001": ([ev("deleted", "Deleted", original_path="C:\\Users\\bob\\payroll_2025.csv")],
                       [ev("deleted", "Deleted", original_path="C:\\Users\\bob\\notes.txt")]),
    "TRIAGE-DEL-002": ([ev("deleted", "Deleted", original_path=f"f{i}") for i in range(20)],
                       [ev("deleted", "Deleted", original_path="same") for _ in range(20)]),
    "TRIAGE-DEL-003": ([ev("deleted", "$SI Entry Modified", timestomp=["si_created_before_fn_created"])],
                       [ev("filesystem", "$SI [M...]", timestomp=["si_modified_before_si_created"]),
                        ev("filesystem", "$SI [M...]", timestomp=[])]),
    "TRIAGE-DEL-004": ([ev("deleted", "Deleted", r_present=False, extractor_name="recycle_bin")],
                       [ev("deleted", "Deleted", r_present=True, extractor_name="recycle_bin")]),
    "TRIAGE-LOG-001": ([ev("eventlog", "Log Cleared")], [ev("eventlog", "Logon", LogonType=2)]),
    "TRIAGE-LOG-002": ([ev("eventlog", "Logon", LogonType=10),
                        ev("eventlog", "Remote Session Logon", Address="192.0.2.7")],
                       [ev("eventlog", "Logon", LogonType=3),
                        ev("eventlog", "Remote Session Logon", Address="LOCAL")]),
    "TRIAGE-LOG-003": ([ev("eventlog", "Member Added to Group")], [ev("eventlog", "Account Changed")]),
    "TRIAGE-LOG-004": ([ev("eventlog", "Service Installed")], [ev("eventlog", "Service Started")]),
    "TRIAGE-EXE-001": ([archive], [ev("execution", "Volume Created", executable="7Z.EXE")]),
    "TRIAGE-EXE-002": ([ev("execution", "Last Run", executable="SDELETE64.EXE")],
                       [ev("execution", "Last Run", executable="NOTEPAD.EXE")]),
    "TRIAGE-EXE-003": ([ev("execution", "Previous Run", executable="ANYDESK.EXE")],
                       [ev("execution", "Previous Run", executable="EXCEL.EXE")]),
}


def mail(**data):
    base = {"time_roles": ["Sent"], "has_attachments": True, "attachment_names": ["a.pdf"],
            "external_recipient_count": 0, "freemail_recipient_count": 0, "sender_external": False}
    return ev("mail", "Sent", **{**base, **data})


CASES.update({
    "TRIAGE-MAIL-001": ([mail(external_recipient_count=1)],
                        [mail(external_recipient_count=1, has_attachments=False),
                         mail(external_recipient_count=1, sender_external=True),
                         mail(external_recipient_count=1, time_roles=["Created"]),
                         mail(external_recipient_count=0)]),
    "TRIAGE-MAIL-002": ([mail(freemail_recipient_count=2)],
                        [mail(freemail_recipient_count=2, has_attachments=False),
                         mail(freemail_recipient_count=0)]),
    "TRIAGE-MAIL-003": ([mail(attachment_names=["memo.txt", "顧客名簿.xlsx"])],
                        [mail(attachment_names=["memo.txt"]),
                         mail(attachment_names=["顧客名簿.xlsx"], time_roles=["Received"])]),
})


@pytest.mark.parametrize("rule_id", sorted(RULES))
def test_rule_fires_and_does_not_fire(rule_id):
    if rule_id not in CASES:
        pytest.fail(f"shipped rule {rule_id} has no fire/no-fire case in this test")
    positive, negative = CASES[rule_id]
    assert fired(rule_id, positive), f"{rule_id} did not fire"
    assert not fired(rule_id, negative), f"{rule_id} fired on its look-alike"
