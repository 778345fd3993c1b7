"""A case folder's derived outputs: the timeline files and the manifest that hashes them.

Both `triage run` and `triage rules run` end here, so a case is always written the same way:
timeline.jsonl and timeline.csv from the store (each event with the ids of the rules whose
findings it proves, as `tags`), then manifest.json with every output's SHA-256.
"""
from __future__ import annotations

import os
from collections import defaultdict
from typing import Any

from triage.manifest import write_manifest
from triage.outputs import csv_timeline, jsonl
from triage.store import iter_events, open_readonly


def event_tags(db: Any) -> dict[int, list[str]]:
    tags: dict[int, list[str]] = defaultdict(list)
    try:
        rows = db.execute("SELECT fe.seq, f.rule_id FROM finding_events fe "
                          "JOIN findings f ON f.id = fe.finding_id ORDER BY f.rule_id")
        for seq, rule_id in rows:
            if rule_id not in tags[seq]:
                tags[seq].append(rule_id)
    except Exception:  # a case without findings tables
        pass
    return tags


def write_outputs(case_dir: str, manifest: dict[str, Any]) -> str:
    """(Re)write the timeline files and the manifest; returns the manifest's SHA-256."""
    db = open_readonly(os.path.join(case_dir, "case.sqlite"))
    try:
        tags = event_tags(db)
        with open(os.path.join(case_dir, "timeline.jsonl"), "w", encoding="utf-8", newline="\n") as out:
            jsonl.write(iter_events(db), out, tags)
        with open(os.path.join(case_dir, "timeline.csv"), "w", encoding="utf-8", newline="") as out:
            csv_timeline.write(iter_events(db), out, tags)
    finally:
        db.close()
    return write_manifest(case_dir, manifest)
