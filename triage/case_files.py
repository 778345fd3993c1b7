"""Files added to a finished case folder (reports, exports) and hashed into its manifest.

`triage verify` checks every entry of manifest["outputs"], so a report or export written INTO
the case folder is registered there: its SHA-256 and size are added (or updated) and
manifest.json is rewritten. Because that changes the manifest, the manifest's previous and new
SHA-256 are kept in manifest["added_outputs"] (a history, like `rule_runs`), so an examiner who
noted the manifest's hash at the end of the run can still link the two.

A file written OUTSIDE the case folder is not registered (the case cannot vouch for it): its
SHA-256 is given to the caller to print instead. The case's own files (case.sqlite, the
timeline files, manifest.json) can never be replaced this way.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass
from typing import Any

from triage import __version__
from triage.integrity import sha256_file
from triage.manifest import MANIFEST, OUTPUTS, read_manifest

PROTECTED = frozenset((*OUTPUTS, MANIFEST))


class OutputRefused(ValueError):
    """The target would overwrite a file the case is made of (message says which)."""


@dataclass
class OutputRecord:
    path: str
    sha256: str
    size: int
    registered_as: str | None = None  # the manifest entry name, None when outside the case
    manifest_sha256: str | None = None  # manifest.json's SHA-256 after registering


def _utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def relative_in_case(case_dir: str, path: str) -> str | None:
    """`path` relative to the case folder with '/' separators, or None when it lies outside."""
    case = os.path.realpath(case_dir)
    target = os.path.realpath(path)
    if os.path.commonpath([case, target]) != case or target == case:
        return None
    return os.path.relpath(target, case).replace(os.sep, "/")


def check_target(case_dir: str, path: str) -> None:
    """Refuse to write over a file the case is made of (case.sqlite, timelines, manifest)."""
    name = relative_in_case(case_dir, path)
    if name is not None and name in PROTECTED:
        raise OutputRefused(f"{path}: refusing to overwrite the case's own {name}; "
                            "choose another output file")


def _write_manifest(case_dir: str, manifest: dict[str, Any]) -> str:
    path = os.path.join(case_dir, MANIFEST)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(manifest, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    os.replace(tmp, path)  # never a half-written manifest
    return sha256_file(path)


def register_output(case_dir: str, relative_name: str) -> str:
    """Hash CASE/relative_name into manifest["outputs"]; returns manifest.json's new SHA-256."""
    return _register(case_dir, relative_name, None)


def _register(case_dir: str, relative_name: str, entry: dict[str, Any] | None) -> str:
    name = relative_name.replace("\\", "/").lstrip("/")
    path = os.path.join(case_dir, *name.split("/"))
    if relative_in_case(case_dir, path) != name:
        raise OutputRefused(f"{relative_name}: not a file inside the case folder {case_dir}")
    if name in PROTECTED:
        raise OutputRefused(f"{name}: is one of the case's own files, registered by the run")
    if not os.path.isfile(path):
        raise OutputRefused(f"{path}: no such file to register")
    manifest_path = os.path.join(case_dir, MANIFEST)
    previous = sha256_file(manifest_path)
    manifest = read_manifest(case_dir)
    entry = entry or {"sha256": sha256_file(path), "size": os.path.getsize(path)}
    manifest.setdefault("outputs", {})[name] = entry
    manifest.setdefault("added_outputs", []).append({
        "name": name, "time": _utc_now(), "tool_version": __version__, **entry,
        "previous_manifest_sha256": previous})
    return _write_manifest(case_dir, manifest)


def record_output(case_dir: str, path: str) -> OutputRecord:
    """After writing `path`: register it when it lies in the case folder, else just hash it."""
    record = OutputRecord(path=path, sha256=sha256_file(path), size=os.path.getsize(path))
    name = relative_in_case(case_dir, path)
    if name is not None:
        record.manifest_sha256 = _register(case_dir, name,
                                           {"sha256": record.sha256, "size": record.size})
        record.registered_as = name
    return record


__all__ = ["OutputRecord", "OutputRefused", "PROTECTED", "check_target", "record_output",
           "register_output", "relative_in_case"]
