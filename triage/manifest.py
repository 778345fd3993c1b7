"""manifest.json: what was run, on what, by whom, and the SHA-256 of every output file.

The manifest cannot hash itself; its own SHA-256 is printed at the end of the run (and in
`--json`) for the examiner's notes, and `triage verify --manifest-sha256` checks it later.
"""
from __future__ import annotations

import json
import os
from typing import Any

from triage.integrity import sha256_file

MANIFEST = "manifest.json"
OUTPUTS = ("case.sqlite", "timeline.jsonl", "timeline.csv")


def write_manifest(case_dir: str, manifest: dict[str, Any],
                   hashed: dict[str, str] | None = None) -> str:
    """Hash the standard outputs anew; entries for files registered later (reports, exports)
    keep the hash recorded when they were written, so a changed file still fails verify.

    `hashed`: SHA-256 of standard outputs the caller computed while writing them."""
    manifest = dict(manifest)
    hashed = hashed or {}
    extra = {name: entry for name, entry in (manifest.get("outputs") or {}).items()
             if name not in OUTPUTS}
    manifest["outputs"] = {name: {"sha256": hashed.get(name) or sha256_file(os.path.join(case_dir, name)),
                                  "size": os.path.getsize(os.path.join(case_dir, name))}
                           for name in OUTPUTS if os.path.exists(os.path.join(case_dir, name))}
    manifest["outputs"].update(extra)
    path = os.path.join(case_dir, MANIFEST)
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    return sha256_file(path)


def read_manifest(case_dir: str) -> dict[str, Any]:
    with open(os.path.join(case_dir, MANIFEST), encoding="utf-8") as handle:
        return json.load(handle)
