"""`triage rules run CASE`: new rules on an old case, without reading the evidence again.

The events and their chain are untouched; the findings tables, the timeline files' tags and
the manifest are rewritten, and the manifest keeps a history of every re-run.
"""
from __future__ import annotations

import os
from typing import Any

from triage import __version__
from triage.case import write_outputs
from triage.detection import DetectionResult, detect, load_rules
from triage.detection.sigma import load_sigma_rules
from triage.engine import UsageError, utc_now
from triage.manifest import read_manifest
from triage.timezones import tzinfo
from triage.verify import verify_case


def rerun_rules(case_dir: str, rule_dirs: list[str], builtin: bool = True,
                command_line: list[str] | None = None,
                sigma_dirs: list[str] | None = None) -> DetectionResult:
    sigma_dirs = sigma_dirs or []
    rules = load_rules(rule_dirs, builtin=builtin) + load_sigma_rules(sigma_dirs)
    check = verify_case(case_dir)
    if not check.ok:
        raise UsageError(f"{case_dir} does not verify ({check.problems[0]}); refusing to add "
                         "findings to a changed case")
    manifest: dict[str, Any] = read_manifest(case_dir)
    zone = manifest.get("local_time_zone")
    result = detect(os.path.join(case_dir, "case.sqlite"), rules, tzinfo(zone) if zone else None)
    history = manifest.setdefault("rule_runs", [])
    history.append({"time": utc_now(), "tool_version": __version__, "command_line": command_line,
                    "rule_dirs": rule_dirs, "sigma_dirs": sigma_dirs, "builtin": builtin,
                    "findings": result.by_severity()})
    manifest["rules"] = {"builtin": builtin, "dirs": rule_dirs, "sigma_dirs": sigma_dirs,
                         "ids": sorted(r.id for r in rules)}
    manifest.setdefault("counts", {})["findings"] = result.by_severity()
    write_outputs(case_dir, manifest)
    if os.path.exists(os.path.join(case_dir, "report.html")):  # its findings are now stale
        from triage.case_files import register_output
        from triage.report import build_report

        build_report(case_dir)
        register_output(case_dir, "report.html")
    return result
