"""Detection rules: loading and validation, with errors that name the file, line and field.

A rule file (`rules/*.yaml`) holds one rule or a list of them:

    id: TRIAGE-USB-001
    title: USB mass storage device first connected
    severity: medium                  # info | low | medium | high | critical
    attack: T1052.001                 # optional ATT&CK technique
    tags: [usb, exfiltration]
    description: Why this matters and what to check next.
    match: <condition>                # exactly one of match / threshold / sequence

A condition is a field test or a combination:
    {field: data.device_kind, equals: mass storage}       equals / not_equals / in / contains /
    {field: message, contains: 顧客, nocase: true}         regex / gt / gte / lt / lte / exists
    {all: [...]}, {any: [...]}, {not: {...}}

    threshold: {where: <condition>, count: 50, window: 10m, group_by: user, distinct: source.path}
    sequence:  {steps: [{name: usb, where: ...}, {name: open, where: ...}], within: 1h,
                join: {usb: data.drive_letter, open: data.drive_letter}}   # join is optional

Why our own small language and not only Sigma: the leak-investigation rules span artifacts
(a USB arrival then LNK files on its drive letter), which Sigma's single-event model does not
express; Sigma rules for event-log records are loaded separately.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import yaml

from triage.datalists import yaml_entries

SEVERITIES = ("info", "low", "medium", "high", "critical")
OPERATORS = ("equals", "not_equals", "in", "contains", "regex", "gt", "gte", "lt", "lte", "exists")
_DURATION = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RULE_KEYS = {"id", "title", "severity", "attack", "tags", "description", "match", "threshold",
              "sequence", "enabled"}


class RuleError(Exception):
    """A rule file is invalid; the message names the file, the line and the field."""


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that remembers the line of every mapping (as the key '__line__')."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[str, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_duration(value: Any) -> int:
    """'90s', '10m', '1h', '2d' or a number of seconds -> seconds."""
    if isinstance(value, int) and value > 0:
        return value
    match = _DURATION.match(str(value).strip())
    if not match:
        raise ValueError(f"not a duration: {value!r} (use e.g. 30s, 10m, 1h, 2d)")
    return int(match.group(1)) * _UNIT[match.group(2)]


@dataclass
class Rule:
    id: str
    title: str
    severity: str
    description: str
    kind: str  # match | threshold | sequence
    body: Any  # the validated condition / threshold / sequence spec
    attack: str | None = None
    tags: list[str] = field(default_factory=list)
    origin: str = ""

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "severity": self.severity,
                "attack": self.attack, "tags": self.tags, "kind": self.kind,
                "description": self.description, "origin": self.origin}


class _Validator:
    def __init__(self, origin: str, rule_id: str):
        self.origin = origin
        self.rule_id = rule_id

    def fail(self, node: Any, where: str, message: str) -> None:
        line = node.get("__line__") if isinstance(node, dict) else None
        at = f"{self.origin}:{line}" if line else self.origin
        raise RuleError(f"{at}: rule '{self.rule_id}': field '{where}': {message}")

    def condition(self, node: Any, where: str) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.fail({}, where, "a condition must be a mapping")
        keys = set(node) - {"__line__"}
        if keys & {"all", "any"}:
            (op,) = keys & {"all", "any"}
            if keys != {op} or not isinstance(node[op], list) or not node[op]:
                self.fail(node, where, f"'{op}' must be the only key, with a non-empty list")
            return {op: [self.condition(c, f"{where}.{op}[{i}]") for i, c in enumerate(node[op])]}
        if "not" in keys:
            if keys != {"not"}:
                self.fail(node, where, "'not' must be the only key")
            return {"not": self.condition(node["not"], f"{where}.not")}
        if "field" not in keys:
            self.fail(node, where, "expected 'field' with an operator, or all/any/not")
        ops = keys & set(OPERATORS)
        extra = keys - set(OPERATORS) - {"field", "nocase"}
        if len(ops) != 1 or extra:
            bad = sorted(extra)[0] if extra else ", ".join(sorted(ops)) or "none"
            self.fail(node, where, f"exactly one operator of {', '.join(OPERATORS)} is needed "
                                   f"(found {bad})")
        (op,) = ops
        value = node[op]
        if op == "in" and not isinstance(value, list):
            self.fail(node, f"{where}.in", "must be a list")
        if op == "regex":
            try:
                re.compile(value, re.IGNORECASE if node.get("nocase") else 0)
            except (re.error, TypeError) as exc:
                self.fail(node, f"{where}.regex", f"invalid regular expression: {exc}")
        if op == "exists" and not isinstance(value, bool):
            self.fail(node, f"{where}.exists", "must be true or false")
        return {"field": str(node["field"]), "op": op, "value": value,
                "nocase": bool(node.get("nocase", op in ("contains",)))}

    def duration(self, node: dict, key: str, where: str) -> int:
        try:
            return parse_duration(node.get(key))
        except ValueError as exc:
            self.fail(node, f"{where}.{key}", str(exc))
        raise AssertionError  # unreachable

    def threshold(self, node: Any) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.fail({}, "threshold", "must be a mapping")
        count = node.get("count")
        if not isinstance(count, int) or count < 1:
            self.fail(node, "threshold.count", "must be a positive integer")
        return {"where": self.condition(node.get("where"), "threshold.where"), "count": count,
                "window": self.duration(node, "window", "threshold"),
                "group_by": node.get("group_by"), "distinct": node.get("distinct")}

    def sequence(self, node: Any) -> dict[str, Any]:
        if not isinstance(node, dict):
            self.fail({}, "sequence", "must be a mapping")
        steps = node.get("steps")
        if not isinstance(steps, list) or len(steps) != 2:
            self.fail(node, "sequence.steps", "must be a list of two steps (first, then)")
        parsed = []
        for i, step in enumerate(steps):
            if not isinstance(step, dict) or not isinstance(step.get("name"), str):
                self.fail(step if isinstance(step, dict) else node, f"sequence.steps[{i}].name",
                          "each step needs a name")
            parsed.append({"name": step["name"],
                           "where": self.condition(step.get("where"), f"sequence.steps[{i}].where")})
        join = node.get("join")
        if join is not None:
            names = {s["name"] for s in parsed}
            if not isinstance(join, dict) or set(join) - {"__line__"} != names:
                self.fail(node, "sequence.join", f"must map each step name ({', '.join(sorted(names))}) "
                                                 "to a field")
            join = {k: str(v) for k, v in join.items() if k != "__line__"}
        return {"steps": parsed, "within": self.duration(node, "within", "sequence"), "join": join}


def _validate(entry: Any, origin: str, index: int) -> Rule | None:
    if not isinstance(entry, dict):
        raise RuleError(f"{origin}: rule {index + 1}: expected a mapping")
    rule_id = str(entry.get("id") or f"#{index + 1}")
    v = _Validator(origin, rule_id)
    for key in ("id", "title", "description"):
        if not isinstance(entry.get(key), str) or not entry[key].strip():
            v.fail(entry, key, "required, a non-empty string")
    if entry.get("severity") not in SEVERITIES:
        v.fail(entry, "severity", f"must be one of {', '.join(SEVERITIES)}")
    unknown = sorted(set(entry) - _RULE_KEYS - {"__line__"})
    if unknown:
        v.fail(entry, unknown[0], "unknown field")
    kinds = [k for k in ("match", "threshold", "sequence") if k in entry]
    if len(kinds) != 1:
        v.fail(entry, "match", "exactly one of match, threshold, sequence is needed")
    kind = kinds[0]
    body = {"match": lambda n: v.condition(n, "match"), "threshold": v.threshold,
            "sequence": v.sequence}[kind](entry[kind])
    tags = entry.get("tags") or []
    if not isinstance(tags, list):
        v.fail(entry, "tags", "must be a list")
    if entry.get("enabled", True) is False:
        return None
    return Rule(id=entry["id"].strip(), title=entry["title"].strip(), severity=entry["severity"],
                description=entry["description"].strip(), kind=kind, body=body,
                attack=entry.get("attack"), tags=[str(t) for t in tags], origin=origin)


def load_rule_file(path: Path) -> list[Rule]:
    entries = yaml_entries(path, RuleError, loader=_LineLoader)
    rules = [_validate(e, str(path), i) for i, e in enumerate(entries)]
    return [r for r in rules if r is not None]


def builtin_rule_candidates() -> tuple[Path, Path]:
    """Where the shipped rules may be: the source tree, or the installed data directory."""
    import sys

    return (Path(__file__).resolve().parents[2] / "rules",
            Path(sys.prefix) / "share" / "triage" / "rules")


def builtin_rule_dir() -> Path | None:
    for candidate in builtin_rule_candidates():
        if candidate.is_dir():
            return candidate
    return None


def load_rules(extra_dirs: Iterable[str] = (), builtin: bool = True) -> list[Rule]:
    """The shipped rules (unless builtin=False), then each extra folder's; ids must be unique."""
    shipped = builtin_rule_dir()
    if builtin and shipped is None:  # a broken installation must not look like "no findings"
        raise RuleError("the shipped rules are missing (looked in "
                        f"{', '.join(map(str, builtin_rule_candidates()))}): reinstall triage")
    folders = ([shipped] if builtin and shipped else []) + [Path(d) for d in extra_dirs]
    seen: dict[str, Rule] = {}
    for folder in folders:
        if not folder.is_dir():
            raise RuleError(f"{folder}: not a directory of rules")
        for path in sorted(folder.glob("*.y*ml")):
            for rule in load_rule_file(path):
                if rule.id in seen:
                    raise RuleError(f"{path}: rule '{rule.id}': id already used in {seen[rule.id].origin}")
                seen[rule.id] = rule
    return list(seen.values())
