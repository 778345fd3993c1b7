"""A case folder's derived outputs: the timeline files and the manifest that hashes them.

Both `triage run` and `triage rules run` end here, so a case is always written the same way:
timeline.jsonl and timeline.csv from the store (each event with the ids of the rules whose
findings it proves, as `tags`), then manifest.json with every output's SHA-256.
"""
from __future__ import annotations

import os
from collections import defaultdict
from contextlib import ExitStack
from typing import Any

from triage.integrity import HashedTextWriter, sha256_file_in_background
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


# From this many events on (and with a second CPU), timeline.csv is written by a process of
# its own while this one writes timeline.jsonl: the two are independent, each about half the
# work, and a process costs about half a second to start.
PARALLEL_OUTPUT_MIN = 200_000

TIMELINES = {"timeline.jsonl": (jsonl.line, ""), "timeline.csv": (csv_timeline.line, csv_timeline.HEADER)}


def write_timelines(case_dir: str, names: list[str]) -> dict[str, str]:
    """Write the named timeline files in one pass over the events (rows read by position);
    returns each file's SHA-256 (hashed as written)."""
    db = open_readonly(os.path.join(case_dir, "case.sqlite"))
    db.row_factory = None
    try:
        tags = event_tags(db)
        with ExitStack() as stack:
            outs = {name: stack.enter_context(HashedTextWriter(os.path.join(case_dir, name)))
                    for name in names}
            writers = []
            for name, out in outs.items():
                line, header = TIMELINES[name]
                if header:
                    out.write(header)
                writers.append((out.write, line))
            for row in iter_events(db):
                for write, line in writers:
                    write(line(row, tags))
            return {name: out.close()[0] for name, out in outs.items()}
    finally:
        db.close()


def _csv_in_child(case_dir: str) -> str:
    return write_timelines(case_dir, ["timeline.csv"])["timeline.csv"]


def write_outputs(case_dir: str, manifest: dict[str, Any]) -> str:
    """(Re)write the timeline files and the manifest; returns the manifest's SHA-256.

    The timelines are hashed as they are written; case.sqlite, finished by now, is hashed
    meanwhile on another thread. A large case writes its CSV in a second process."""
    store_path = os.path.join(case_dir, "case.sqlite")
    store_hash = sha256_file_in_background(store_path)
    db = open_readonly(store_path)
    try:
        events = db.execute("SELECT max(seq) FROM events").fetchone()[0] or 0
    finally:
        db.close()
    if events >= PARALLEL_OUTPUT_MIN and (os.cpu_count() or 1) > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=1,
                                 mp_context=multiprocessing.get_context("spawn")) as pool:
            csv_hash = pool.submit(_csv_in_child, case_dir)
            hashed = write_timelines(case_dir, ["timeline.jsonl"])
            hashed["timeline.csv"] = csv_hash.result()
    else:
        hashed = write_timelines(case_dir, list(TIMELINES))
    hashed["case.sqlite"] = store_hash.result()
    return write_manifest(case_dir, manifest, hashed)
