"""`triage verify CASE`: prove that nothing in a case folder changed since it was written.

Checks, each reported by what differs (not just "failed"):
0. that the run finished: a folder with the RUN_INCOMPLETE.json marker (a `CASE.partial` left by
   an interrupted, killed or failed run), or a CASE that was never published beside its
   `CASE.partial`, is reported as incomplete with the reason the run left;
1. every output file's SHA-256 against manifest.json (and the manifest's own hash when given);
2. every stored event: its event_hash recomputed from its fields, its chain link, and the
   timeline order (time, then event hash), so a changed, deleted, inserted or reordered row is
   named by its sequence number;
3. the chain head and event count against the manifest, and the event counts per kind
   (`event_kinds`, in cases that have it: rules and analyses read only the families it names)
   against the events;
4. timeline.jsonl line by line against the store (a changed line is named by line number).
"""
from __future__ import annotations

import json
import os
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

from triage import integrity
from triage.incomplete import describe, read_marker
from triage.manifest import MANIFEST, OUTPUTS, read_manifest
from triage.store import NO_TIME_SORT, Kind, open_readonly, row_to_record
from triage.model import Timestamp

MAX_LISTED = 20


@dataclass
class VerifyResult:
    problems: list[str] = field(default_factory=list)
    checked_events: int = 0
    checked_files: int = 0
    chain_head: str | None = None
    incomplete: bool = False  # the run that made the folder never finished

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, text: str) -> None:
        self.problems.append(text)


def verify_case(case_dir: str, manifest_sha256: str | None = None) -> VerifyResult:
    result = VerifyResult()
    marker = read_marker(case_dir)
    if marker is not None:
        result.incomplete = True
        result.add(f"incomplete case: {describe(marker)}")
        return result
    partial = case_dir.rstrip("/" + os.sep) + ".partial"
    if not os.path.exists(case_dir) and os.path.isdir(partial):
        result.incomplete = True
        facts = read_marker(partial)
        result.add(f"{case_dir} was never finished: {partial} holds the incomplete run"
                   + (f" ({describe(facts)})" if facts is not None else ""))
        return result
    manifest_path = os.path.join(case_dir, MANIFEST)
    if not os.path.isfile(manifest_path):
        result.add(f"{MANIFEST} is missing: not a triage case folder, or an unfinished one")
        return result
    if manifest_sha256 and integrity.sha256_file(manifest_path) != manifest_sha256.lower():
        result.add(f"{MANIFEST}: SHA-256 differs from the one given")
    try:
        manifest = read_manifest(case_dir)
    except (ValueError, OSError) as exc:
        result.add(f"{MANIFEST}: unreadable ({exc})")
        return result
    for name, expected in (manifest.get("outputs") or {}).items():
        path = os.path.join(case_dir, name)
        if not os.path.isfile(path):
            result.add(f"{name}: missing")
            continue
        result.checked_files += 1
        if integrity.sha256_file(path) != expected.get("sha256"):
            result.add(f"{name}: SHA-256 differs from manifest.json (file changed)")
    for name in OUTPUTS:
        if name not in (manifest.get("outputs") or {}):
            result.add(f"{name}: not listed in manifest.json")
    db_path = os.path.join(case_dir, "case.sqlite")
    if os.path.isfile(db_path):
        _verify_store(db_path, manifest, result)
        jsonl_path = os.path.join(case_dir, "timeline.jsonl")
        if os.path.isfile(jsonl_path):
            _verify_jsonl(db_path, jsonl_path, result)
    return result


def _listed(result: VerifyResult, counter: list[int], text: str) -> None:
    counter[0] += 1
    if counter[0] <= MAX_LISTED:
        result.add(text)
    elif counter[0] == MAX_LISTED + 1:
        result.add("... further differences not listed")


def _verify_store(db_path: str, manifest: dict, result: VerifyResult) -> None:
    try:
        db = open_readonly(db_path)
        rows = db.execute("SELECT * FROM events ORDER BY seq")
    except sqlite3.Error as exc:
        result.add(f"case.sqlite: unreadable ({exc})")
        return
    link = integrity.CHAIN_SEED
    expected_seq = 1
    previous: tuple[int, str] | None = None
    listed = [0]
    kinds: Counter[Kind] = Counter()
    try:
        for row in rows:
            kinds[row["family"], row["timestamp_desc"], row["extractor"], row["artifact"]] += 1
            seq = row["seq"]
            if seq != expected_seq:
                _listed(result, listed, f"case.sqlite: event sequence jumps from {expected_seq - 1} "
                        f"to {seq} (rows deleted or inserted)")
                expected_seq = seq
            try:
                record = row_to_record(row)
                computed = integrity.event_hash(record)
            except (ValueError, TypeError) as exc:
                _listed(result, listed, f"case.sqlite: event {seq}: unreadable ({exc})")
                computed = ""
            if computed != row["event_hash"]:
                _listed(result, listed, f"case.sqlite: event {seq}: content does not match its "
                        "event_hash (row changed)")
            ts = row["ts"]
            expected_ts = Timestamp.parse(row["timestamp"]).ns if row["timestamp"] else NO_TIME_SORT
            if ts != expected_ts:
                _listed(result, listed, f"case.sqlite: event {seq}: sort time does not match its timestamp")
            key = (ts, row["event_hash"])
            if previous is not None and key < previous:
                _listed(result, listed, f"case.sqlite: event {seq}: out of timeline order (rows reordered)")
            previous = key
            link = integrity.chain_next(link, row["event_hash"])
            if link != row["chain_hash"]:
                _listed(result, listed, f"case.sqlite: event {seq}: chain link differs "
                        "(an earlier row was changed, removed or moved)")
                link = row["chain_hash"]  # resynchronise to report the next break too
            result.checked_events += 1
            expected_seq += 1
        _verify_kinds(db, kinds, result)
    except sqlite3.Error as exc:
        result.add(f"case.sqlite: unreadable ({exc})")
    finally:
        db.close()
    timeline = manifest.get("timeline") or {}
    computed_head = link
    result.chain_head = computed_head
    if timeline.get("events") is not None and timeline["events"] != result.checked_events:
        result.add(f"case.sqlite: {result.checked_events} events, manifest.json says "
                   f"{timeline['events']}")
    if timeline.get("chain_head") and timeline["chain_head"] != computed_head:
        result.add("chain head differs from manifest.json")


def _verify_kinds(db: sqlite3.Connection, counted: Counter[Kind], result: VerifyResult) -> None:
    """`event_kinds` against the kinds of the stored events (a case from before the table has
    nothing to check)."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                      "AND name = 'event_kinds'").fetchone():
        return
    stored: Counter[Kind] = Counter()
    for *kind, events in db.execute("SELECT family, timestamp_desc, extractor, artifact, events "
                                    "FROM event_kinds"):
        stored[tuple(kind)] += events if type(events) is int else float("nan")  # never equal
    differing = [k for k in sorted(set(stored) | set(counted), key=repr) if stored[k] != counted[k]]
    if differing:
        result.add(f"case.sqlite: event_kinds does not match the events for {len(differing)} "
                   f"kind(s), e.g. {differing[0]}: {stored[differing[0]]} in the table, "
                   f"{counted[differing[0]]} events (table changed)")


def _verify_jsonl(db_path: str, jsonl_path: str, result: VerifyResult) -> None:
    db = open_readonly(db_path)
    listed = [0]
    try:
        rows = db.execute("SELECT seq, event_hash FROM events ORDER BY seq")
        with open(jsonl_path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                row = rows.fetchone()
                try:
                    record = json.loads(line)
                    ok = integrity.event_hash(record) == record.get("event_hash")
                except ValueError:
                    ok, record = False, {}
                if not ok:
                    _listed(result, listed, f"timeline.jsonl: line {number}: content does not "
                            "match its event_hash")
                elif row is None or row["event_hash"] != record.get("event_hash"):
                    _listed(result, listed, f"timeline.jsonl: line {number}: not the event stored "
                            "at that place in case.sqlite")
            if rows.fetchone() is not None:
                result.add("timeline.jsonl: fewer lines than events in case.sqlite")
    finally:
        db.close()
