"""Evaluating rules over a finished timeline and writing findings with their proving events.

One pass over the events in timeline order: every event is tested against every rule's
conditions; a match rule collects its events directly, thresholds and sequences keep only the
events that pass their `where` tests (a small subset) and are resolved at the end. A rule that
fails at run time (a field of an unexpected type, say) is recorded and skipped: the other rules
and the case are unaffected.

Virtual fields, computed per event: `local_hour` (0-23) and `local_weekday` (0 = Monday) in
the case's local zone (`--source-tz` or the system's), for business-hours rules.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from triage.detection.rules import Rule
from triage.store import NO_TIME_SORT, row_to_record

MAX_EVENTS_PER_FINDING = 1000
_NS = 1_000_000_000

FINDINGS_SCHEMA = """
CREATE TABLE IF NOT EXISTS findings (
  id INTEGER PRIMARY KEY, rule_id TEXT, title TEXT, severity TEXT, attack TEXT, tags TEXT,
  description TEXT, first_time TEXT, last_time TEXT, explanation TEXT, group_value TEXT,
  event_count INTEGER);
CREATE TABLE IF NOT EXISTS finding_events (finding_id INTEGER, seq INTEGER);
CREATE TABLE IF NOT EXISTS rule_errors (rule_id TEXT, origin TEXT, message TEXT);
"""


@dataclass
class Finding:
    rule: Rule
    events: list[tuple[int, int, str | None]]  # (seq, ts, timestamp)
    explanation: str
    group_value: str | None = None
    total: int = 0

    def span(self) -> tuple[str | None, str | None]:
        times = [t for _, _, t in self.events if t]
        return (min(times), max(times)) if times else (None, None)


@dataclass
class DetectionResult:
    findings: list[Finding] = field(default_factory=list)
    rule_errors: list[tuple[Rule, str]] = field(default_factory=list)

    def by_severity(self) -> dict[str, int]:
        counts: dict[str, int] = defaultdict(int)
        for f in self.findings:
            counts[f.rule.severity] += 1
        return dict(counts)


def _flatten(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    elif isinstance(value, list):
        for v in value:
            yield from _flatten(v)
    elif value is not None:
        yield str(value)


def field_value(record: dict[str, Any], path: str) -> Any:
    if path == "_text":  # every text of the event: for Sigma keywords
        if "_text" not in record:
            record["_text"] = "\n".join([record.get("message") or "", *_flatten(record.get("data"))])
        return record["_text"]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except (TypeError, ValueError):
        return None


def _compare(value: Any, op: str, wanted: Any) -> bool:
    left, right = _as_number(value), _as_number(wanted)
    if left is None or right is None:
        if value is None:
            return False
        left, right = str(value), str(wanted)  # ISO times compare correctly as text
    return {"gt": left > right, "gte": left >= right, "lt": left < right, "lte": left <= right}[op]


def _equal(value: Any, wanted: Any, nocase: bool) -> bool:
    if isinstance(value, list):
        return any(_equal(v, wanted, nocase) for v in value)
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value is wanted or value == wanted
    if isinstance(wanted, (int, float)) and _as_number(value) is not None:
        return _as_number(value) == float(wanted)
    if value is None:
        return wanted is None
    if nocase:
        return str(value).casefold() == str(wanted).casefold()
    return str(value) == str(wanted)


def compile_condition(cond: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    """A validated condition as a Python closure: interpreted once, not once per event."""
    if "all" in cond:
        parts = [compile_condition(c) for c in cond["all"]]
        return lambda record: all(part(record) for part in parts)
    if "any" in cond:
        parts = [compile_condition(c) for c in cond["any"]]
        return lambda record: any(part(record) for part in parts)
    if "not" in cond:
        inner = compile_condition(cond["not"])
        return lambda record: not inner(record)
    path, op, wanted, nocase = cond["field"], cond["op"], cond["value"], cond["nocase"]
    if op == "exists":
        return lambda record: (field_value(record, path) is not None) == wanted
    if op == "equals":
        return lambda record: _equal(field_value(record, path), wanted, nocase)
    if op == "not_equals":
        return lambda record: not _equal(field_value(record, path), wanted, nocase)
    if op == "in":
        return lambda record: any(_equal(field_value(record, path), w, nocase) for w in wanted)
    if op == "contains":
        needle = str(wanted).casefold() if nocase else str(wanted)

        def contains(record: dict[str, Any]) -> bool:
            value = field_value(record, path)
            if value is None:
                return False
            items = value if isinstance(value, list) else [value]
            return any(needle in (str(i).casefold() if nocase else str(i)) for i in items)
        return contains
    if op == "regex":
        pattern = re.compile(str(wanted), re.IGNORECASE if nocase else 0)

        def regex(record: dict[str, Any]) -> bool:
            value = field_value(record, path)
            if value is None:
                return False
            items = value if isinstance(value, list) else [value]
            return any(pattern.search(str(i)) for i in items)
        return regex

    def compare(record: dict[str, Any]) -> bool:
        value = field_value(record, path)
        return value is not None and _compare(value, op, wanted)
    return compare


def test(cond: dict[str, Any], record: dict[str, Any]) -> bool:
    """Evaluate one condition on one record (compiles it: for one-off use)."""
    return compile_condition(cond)(record)


def families(cond: dict[str, Any]) -> frozenset[str] | None:
    """The event families a condition can match at all (None: any family).

    Used to skip, per event, the rules that cannot match its family: most rules name one.
    """
    if "all" in cond:
        known = [f for f in (families(c) for c in cond["all"]) if f is not None]
        return frozenset.intersection(*known) if known else None
    if "any" in cond:
        parts = [families(c) for c in cond["any"]]
        return None if any(p is None for p in parts) else frozenset().union(*parts)
    if "not" in cond or cond.get("field") != "family":
        return None
    if cond["op"] == "equals":
        return frozenset({str(cond["value"]).casefold()})
    if cond["op"] == "in":
        return frozenset(str(v).casefold() for v in cond["value"])
    return None


def _key(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).casefold()


def _duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


class _RuleState:
    """What one rule keeps during the pass."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.failed: str | None = None
        body = rule.body
        if rule.kind == "match":
            self.match = compile_condition(body)
            self.families = families(body)
        elif rule.kind == "threshold":
            self.match = compile_condition(body["where"])
            self.families = families(body["where"])
        else:
            self.step_tests = [(step["name"], compile_condition(step["where"])) for step in body["steps"]]
            step_families = [families(step["where"]) for step in body["steps"]]
            self.families = None if any(f is None for f in step_families) \
                else frozenset().union(*step_families)
        self.hits: list[tuple[int, int, str | None, dict[str, Any]]] = []
        self.steps: dict[str, list[tuple[int, int, str | None, dict[str, Any]]]] = defaultdict(list)

    def feed(self, seq: int, ts: int, timestamp: str | None, record: dict[str, Any]) -> None:
        rule = self.rule
        if rule.kind == "match":
            if self.match(record):
                self.hits.append((seq, ts, timestamp, {}))
        elif rule.kind == "threshold":
            spec = rule.body
            if ts != NO_TIME_SORT and self.match(record):
                extra = {"group": _key(field_value(record, spec["group_by"])) if spec["group_by"] else "",
                         "distinct": _key(field_value(record, spec["distinct"])) if spec["distinct"] else seq}
                self.hits.append((seq, ts, timestamp, extra))
        else:
            spec = rule.body
            if ts == NO_TIME_SORT:
                return
            for name, step_test in self.step_tests:
                if step_test(record):
                    join = spec["join"]
                    value = _key(field_value(record, join[name])) if join else ""
                    if join and value is None:
                        continue
                    self.steps[name].append((seq, ts, timestamp, {"join": value}))

    def findings(self) -> list[Finding]:
        rule = self.rule
        if rule.kind == "match":
            if not self.hits:
                return []
            events = [(s, t, ts) for s, t, ts, _ in self.hits]
            return [Finding(rule, events[:MAX_EVENTS_PER_FINDING],
                            f"{len(events)} matching event(s)", total=len(events))]
        if rule.kind == "threshold":
            return self._thresholds()
        return self._sequences()

    def _thresholds(self) -> list[Finding]:
        spec = self.rule.body
        window = spec["window"] * _NS
        groups: dict[str, list[tuple[int, int, str | None, dict[str, Any]]]] = defaultdict(list)
        for hit in self.hits:
            groups[hit[3]["group"]].append(hit)
        found = []
        for group, hits in sorted(groups.items(), key=lambda item: item[0] or ""):
            start = 0
            counts: dict[Any, int] = defaultdict(int)
            burst: dict[int, tuple[int, int, str | None]] = {}
            for end, (seq, ts, timestamp, extra) in enumerate(hits):
                counts[extra["distinct"]] += 1
                while ts - hits[start][1] > window:
                    gone = hits[start][3]["distinct"]
                    counts[gone] -= 1
                    if not counts[gone]:
                        del counts[gone]
                    start += 1
                if len(counts) >= spec["count"]:
                    for s, t, tstamp, _ in hits[start:end + 1]:
                        burst[s] = (s, t, tstamp)
                elif burst and hits[start][1] > max(t for _, t, _ in burst.values()):
                    found.append(self._threshold_finding(group, burst))
                    burst = {}
            if burst:
                found.append(self._threshold_finding(group, burst))
        return found

    def _threshold_finding(self, group: str, burst: dict[int, tuple[int, int, str | None]]) -> Finding:
        spec = self.rule.body
        events = sorted(burst.values(), key=lambda e: (e[1], e[0]))
        what = f" distinct {spec['distinct']}" if spec["distinct"] else ""
        who = f" for {spec['group_by']} = {group}" if spec["group_by"] else ""
        text = (f"{len(events)} events (at least {spec['count']}{what} within "
                f"{_duration_text(spec['window'])}){who}")
        return Finding(self.rule, events[:MAX_EVENTS_PER_FINDING], text,
                       group_value=group or None, total=len(events))

    def _sequences(self) -> list[Finding]:
        spec = self.rule.body
        first, then = (s["name"] for s in spec["steps"])
        within = spec["within"] * _NS
        seconds = self.steps[then]
        grouped: dict[str | None, list[tuple[int, int, str | None]]] = {}
        counts: dict[str | None, tuple[int, int]] = {}
        for seq, ts, timestamp, extra in self.steps[first]:
            followers = [(s, t, tstamp) for s, t, tstamp, e in seconds
                         if ts <= t <= ts + within and e["join"] == extra["join"] and s != seq]
            if not followers:
                continue
            key = extra["join"] if spec["join"] else str(seq)
            bucket = grouped.setdefault(key, [])
            seen = {e[0] for e in bucket}
            new = [(seq, ts, timestamp)] + followers
            bucket.extend(e for e in new if e[0] not in seen)
            a, b = counts.get(key, (0, 0))
            counts[key] = (a + 1, b + len(followers))
        found = []
        for key, events in grouped.items():
            events.sort(key=lambda e: (e[1], e[0]))
            a, b = counts[key]
            on = ""
            if spec["join"]:
                on = f" on {spec['join'][first]} = {key}"
            text = (f"'{first}' ({a} event(s)) then '{then}' within "
                    f"{_duration_text(spec['within'])}{on}")
            found.append(Finding(self.rule, events[:MAX_EVENTS_PER_FINDING], text,
                                 group_value=key if spec["join"] else None, total=len(events)))
        return found


def _local_fields(zone: Any) -> Any:
    def add(record: dict[str, Any], ts: int) -> None:
        if ts == NO_TIME_SORT or zone is None:
            record["local_hour"] = record["local_weekday"] = None
            return
        moment = _dt.datetime.fromtimestamp(ts / _NS, zone)
        record["local_hour"], record["local_weekday"] = moment.hour, moment.weekday()
    return add


def evaluate(rules: Iterable[Rule], rows: Iterator[sqlite3.Row], zone: Any = None) -> DetectionResult:
    states = [_RuleState(rule) for rule in rules]
    add_local = _local_fields(zone)
    by_family: dict[str, list[_RuleState]] = {}
    for row in rows:
        family = row["family"]
        interested = by_family.get(family)
        if interested is None:
            folded = (family or "").casefold()
            interested = by_family[family] = [s for s in states
                                              if s.families is None or folded in s.families]
        if not interested:
            continue  # no rule can match this family: the event is not even decoded
        record = row_to_record(row)
        add_local(record, row["ts"])
        for state in interested:
            if state.failed:
                continue
            try:
                state.feed(row["seq"], row["ts"], row["timestamp"], record)
            except Exception as exc:  # a rule that breaks at run time is recorded and skipped
                state.failed = f"{type(exc).__name__}: {exc}"
    result = DetectionResult()
    for state in states:
        if state.failed:
            result.rule_errors.append((state.rule, state.failed))
            continue
        try:
            result.findings.extend(state.findings())
        except Exception as exc:
            result.rule_errors.append((state.rule, f"{type(exc).__name__}: {exc}"))
    order = {s: i for i, s in enumerate(("critical", "high", "medium", "low", "info"))}
    result.findings.sort(key=lambda f: (order[f.rule.severity], f.span()[0] or "", f.rule.id))
    return result


def store_findings(db: sqlite3.Connection, result: DetectionResult) -> None:
    """Replace the case's findings with these (rules can be re-run on a case)."""
    db.executescript(FINDINGS_SCHEMA)
    db.execute("DELETE FROM findings")
    db.execute("DELETE FROM finding_events")
    db.execute("DELETE FROM rule_errors")
    for number, finding in enumerate(result.findings, 1):
        first, last = finding.span()
        rule = finding.rule
        db.execute("INSERT INTO findings VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                   (number, rule.id, rule.title, rule.severity, rule.attack,
                    json.dumps(rule.tags, ensure_ascii=False), rule.description, first, last,
                    finding.explanation, finding.group_value, finding.total))
        db.executemany("INSERT INTO finding_events VALUES (?, ?)",
                       [(number, seq) for seq, _, _ in finding.events])
    db.executemany("INSERT INTO rule_errors VALUES (?,?,?)",
                   [(r.id, r.origin, message) for r, message in result.rule_errors])
    db.commit()
