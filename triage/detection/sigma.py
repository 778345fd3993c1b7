"""Standard Sigma rules (loaded with pySigma) evaluated on the timeline's event-log events.

pySigma parses a rule and its condition into a tree (AND/OR/NOT, field = value with the value
modifiers applied: wildcards, regular expressions, numbers); that tree is translated into the
same conditions the native rules use, so one evaluator serves both.

Field mapping (Sigma name -> triage event field), documented in README:
    EventID -> data.event_id, Channel -> data.channel, Provider_Name -> data.provider,
    Computer -> data.computer, any other field F -> data.F (the EventData/UserData name as
    Windows writes it, e.g. TargetUserName, Image, CommandLine).
    A keyword (a value without a field) is searched in the message and every data value.
The rule's logsource adds its channel (service security -> Security, system -> System, sysmon
-> Microsoft-Windows-Sysmon/Operational, powershell -> Microsoft-Windows-PowerShell/Operational
...) and restricts it to event-log events. Levels map to severities (informational -> info);
the first `attack.tNNNN` tag becomes the ATT&CK technique.

Only catalogued event-log records are on the timeline unless `--evtx-all` is given: run with it
when Sigma rules target other events. Unsupported constructs (CIDR values, correlation rules,
aggregations) make that rule an error naming the file, never the whole set.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from triage.detection.rules import Rule, RuleError

FIELD_MAP = {"EventID": "data.event_id", "Channel": "data.channel",
             "Provider_Name": "data.provider", "Computer": "data.computer"}
CHANNELS = {
    "security": "Security", "system": "System", "application": "Application",
    "sysmon": "Microsoft-Windows-Sysmon/Operational",
    "powershell": "Microsoft-Windows-PowerShell/Operational",
    "taskscheduler": "Microsoft-Windows-TaskScheduler/Operational",
    "terminalservices-localsessionmanager":
        "Microsoft-Windows-TerminalServices-LocalSessionManager/Operational",
    "windefend": "Microsoft-Windows-Windows Defender/Operational",
    "driver-framework": "Microsoft-Windows-DriverFrameworks-UserMode/Operational",
}
LEVELS = {"informational": "info", "low": "low", "medium": "medium", "high": "high",
          "critical": "critical"}
TEXT_FIELD = "_text"  # virtual: message + every data value, for Sigma keywords


def _field(name: str | None) -> str:
    if not name:
        return TEXT_FIELD
    return FIELD_MAP.get(name, f"data.{name}")


def _string_condition(field: str, value: Any) -> dict[str, Any]:
    from sigma.types import SpecialChars

    parts = value.s if hasattr(value, "s") else [str(value)]
    if not any(isinstance(p, SpecialChars) for p in parts):
        text = "".join(str(p) for p in parts)
        if field == TEXT_FIELD:
            return {"field": field, "op": "contains", "value": text, "nocase": True}
        return {"field": field, "op": "equals", "value": text, "nocase": True}
    pattern = ""
    for part in parts:
        if part == SpecialChars.WILDCARD_MULTI:
            pattern += ".*"
        elif part == SpecialChars.WILDCARD_SINGLE:
            pattern += "."
        else:
            pattern += re.escape(str(part))
    if field == TEXT_FIELD:
        return {"field": field, "op": "regex", "value": pattern, "nocase": True}
    return {"field": field, "op": "regex", "value": f"^{pattern}$", "nocase": True}


def _value_condition(field: str, value: Any) -> dict[str, Any]:
    from sigma import types

    if isinstance(value, types.SigmaNumber):
        return {"field": field, "op": "equals", "value": value.number, "nocase": False}
    if isinstance(value, types.SigmaBool):
        return {"field": field, "op": "equals", "value": value.boolean, "nocase": False}
    if isinstance(value, types.SigmaNull):
        return {"field": field, "op": "exists", "value": False, "nocase": False}
    if isinstance(value, types.SigmaRegularExpression):
        return {"field": field, "op": "regex", "value": value.regexp, "nocase": False}
    if isinstance(value, types.SigmaString):
        return _string_condition(field, value)
    raise RuleError(f"unsupported Sigma value type {type(value).__name__}")


def _convert(node: Any) -> dict[str, Any]:
    from sigma import conditions as c

    if isinstance(node, c.ConditionAND):
        return {"all": [_convert(a) for a in node.args]}
    if isinstance(node, c.ConditionOR):
        return {"any": [_convert(a) for a in node.args]}
    if isinstance(node, c.ConditionNOT):
        return {"not": _convert(node.args[0])}
    if isinstance(node, c.ConditionFieldEqualsValueExpression):
        return _value_condition(_field(node.field), node.value)
    if isinstance(node, c.ConditionValueExpression):
        return _value_condition(TEXT_FIELD, node.value)
    raise RuleError(f"unsupported Sigma condition element {type(node).__name__}")


def _attack(rule: Any) -> str | None:
    for tag in rule.tags:
        if tag.namespace == "attack" and re.match(r"^t\d{4}(\.\d{3})?$", tag.name):
            return tag.name.upper()
    return None


def convert_rule(rule: Any, origin: str) -> Rule:
    parsed = [cond.parse() for cond in rule.detection.parsed_condition]
    body = _convert(parsed[0]) if len(parsed) == 1 else {"any": [_convert(p) for p in parsed]}
    scope: list[dict[str, Any]] = [{"field": "family", "op": "equals", "value": "eventlog",
                                    "nocase": True}]
    service = (rule.logsource.service or "").lower()
    if service in CHANNELS:
        scope.append({"field": "data.channel", "op": "equals", "value": CHANNELS[service],
                      "nocase": True})
    level = getattr(rule.level, "name", str(rule.level or "medium")).lower()
    return Rule(id=f"SIGMA-{rule.id or rule.title}", title=rule.title,
                severity=LEVELS.get(level, "medium"),
                description=(rule.description or rule.title).strip(), kind="match",
                body={"all": scope + [body]}, attack=_attack(rule),
                tags=["sigma"] + [f"{t.namespace}.{t.name}" for t in rule.tags], origin=origin)


def load_sigma_rules(folders: Iterable[str]) -> list[Rule]:
    """Every Sigma rule (*.yml, *.yaml) under the folders, recursively."""
    try:
        from sigma.collection import SigmaCollection
        from sigma.exceptions import SigmaError
    except ImportError:  # pragma: no cover - pySigma is a dependency
        raise RuleError("Sigma rules need pySigma (pip install pysigma)") from None
    rules: list[Rule] = []
    for folder in folders:
        base = Path(folder)
        if not base.is_dir():
            raise RuleError(f"{folder}: not a directory of Sigma rules")
        for path in sorted(list(base.rglob("*.yml")) + list(base.rglob("*.yaml"))):
            try:
                collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
                for sigma_rule in collection.rules:
                    rules.append(convert_rule(sigma_rule, str(path)))
            except (SigmaError, RuleError, ValueError, AttributeError) as exc:
                raise RuleError(f"{path}: Sigma rule not usable: {exc}") from None
    return rules
