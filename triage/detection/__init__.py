"""Detection: rules over a finished timeline, findings with the events that prove them.

`detect(db_path, rules, zone)` evaluates rules on a case store and writes the findings tables;
it is used by `triage run` (after extraction) and by `triage rules run CASE` (without touching
the evidence again).
"""
from __future__ import annotations

import sqlite3
from typing import Any, Iterable

from triage.detection.engine import DetectionResult, evaluate, store_findings
from triage.detection.rules import Rule, RuleError, load_rules

__all__ = ["DetectionResult", "Rule", "RuleError", "detect", "load_rules"]


def detect(db_path: str, rules: Iterable[Rule], zone: Any = None) -> DetectionResult:
    db = sqlite3.connect(db_path)
    db.row_factory = sqlite3.Row
    try:
        result = evaluate(rules, db, zone)
        store_findings(db, result)
    finally:
        db.close()
    return result
