"""Evaluating rules over a finished timeline and writing findings with their proving events.

One pass over the events in timeline order: every event is tested against the conditions of
every rule it can match (rules are pre-selected by the event's family, description, extractor
and artifact, and by the data keys they need, so most events are never decoded); a match rule
collects its events directly, thresholds and sequences keep only the events that pass their
`where` tests (a small subset) and are resolved at the end. A rule that
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
from triage.store import NO_TIME_SORT, event_kinds, row_to_record, rows_by_family

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


# Columns a rule can be pre-selected on without decoding an event's data.
PREFILTER_COLUMNS = ("family", "timestamp_desc", "extractor", "artifact")


def column_values(cond: dict[str, Any], column: str) -> frozenset[str] | None:
    """The case-folded values `column` must have for the condition to hold (None: any).

    A necessary condition only, used to skip per event the rules that cannot match its
    family, description, extractor or artifact: most rules name one. Only text values are used
    (a number is compared as a number, which text folding cannot stand for)."""
    if "all" in cond:
        known = [v for v in (column_values(c, column) for c in cond["all"]) if v is not None]
        return frozenset.intersection(*known) if known else None
    if "any" in cond:
        parts = [column_values(c, column) for c in cond["any"]]
        return None if any(p is None for p in parts) else frozenset().union(*parts)
    if "not" in cond or cond.get("field") != column:
        return None
    wanted = [cond["value"]] if cond["op"] == "equals" else \
        (list(cond["value"]) if cond["op"] == "in" else None)
    if wanted is None or not all(type(w) is str for w in wanted):
        return None
    return frozenset(w.casefold() for w in wanted)


_PRESENCE_OPS = ("in", "contains", "regex", "gt", "gte", "lt", "lte")


def data_keys(cond: dict[str, Any]) -> frozenset[str]:
    """Keys that must be present in an event's `data` for the condition to hold.

    A `data.KEY...` field that is absent reads as None, which no `contains`, `regex`, `in`,
    comparison, non-null `equals` or `exists: true` accepts. The check is made on the stored
    JSON text (the key's canonical JSON followed by a colon), before the text is parsed: a
    key that is present always passes; a miss proves absence."""
    return _needed(cond, _leaf_keys)


def _needed(cond: dict[str, Any], leaf: Callable[[dict[str, Any]], frozenset[Any]]) -> frozenset[Any]:
    """What every way of satisfying the condition needs, from what each leaf needs (`leaf`):
    all of its parts' needs, the needs common to the branches of an `any`, nothing under a
    `not`."""
    if "all" in cond:
        return frozenset().union(*(_needed(c, leaf) for c in cond["all"]))
    if "any" in cond:
        parts = [_needed(c, leaf) for c in cond["any"]]
        return frozenset.intersection(*parts) if parts else frozenset()
    if "not" in cond:
        return frozenset()
    return leaf(cond)


def _leaf_keys(cond: dict[str, Any]) -> frozenset[str]:
    path, op, wanted = cond.get("field", ""), cond.get("op"), cond.get("value")
    if not path.startswith("data.") or len(path) <= 5:
        return frozenset()
    requires = op in _PRESENCE_OPS or (op == "equals" and wanted is not None) or \
        (op == "exists" and wanted is True)
    if op == "in" and None in (wanted or []):
        requires = False
    return frozenset({path[5:].split(".")[0]}) if requires else frozenset()


def data_texts(cond: dict[str, Any]) -> frozenset[tuple[str, str, bool]]:
    """(key, text, nocase) such that the condition holds only if `data[key]` contains `text`:
    the leaves `data.KEY contains TEXT` (a top-level key, non-empty text; without case only
    for ASCII text) that every way of satisfying the condition needs. Checked in the stored
    JSON (see _TEXT_TEST)."""
    return _needed(cond, _leaf_texts)


def _leaf_texts(cond: dict[str, Any]) -> frozenset[tuple[str, str, bool]]:
    path, wanted, nocase = cond.get("field", ""), cond.get("value"), bool(cond.get("nocase"))
    if cond.get("op") != "contains" or type(wanted) is not str or not wanted or \
            not path.startswith("data.") or "." in path[5:] or len(path) <= 5:
        return frozenset()
    key = path[5:]
    if '"' in key or "\\" in key or (nocase and not wanted.casefold().isascii()):
        return frozenset()  # (not written as a JSON path label here; see _TEXT_TEST)
    return frozenset({(key, wanted.casefold() if nocase else wanted, nocase)})


def _like_pattern(text: str) -> str:
    """A LIKE pattern (ESCAPE '\\') finding `text` anywhere."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _key(value: Any) -> str | None:
    if value is None:
        return None
    return str(value).casefold()


def _duration_text(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class _Gate:
    """Necessary conditions of one rule condition: column values, data keys (as the text
    they have in the stored data JSON) and texts a data value must contain (JSON path, text as
    the JSON writes it: see _TEXT_TEST)."""

    needs: tuple[tuple[str, frozenset[str]], ...]
    needles: tuple[str, ...]
    texts: tuple[tuple[str, str, bool, str], ...] = ()

    @classmethod
    def of(cls, cond: dict[str, Any]) -> "_Gate":
        needs = tuple((column, values) for column in PREFILTER_COLUMNS
                      if (values := column_values(cond, column)) is not None)
        keys = sorted(data_keys(cond))
        texts = []
        for key, text, nocase in sorted(data_texts(cond)):
            stored = json.dumps(text, ensure_ascii=False)[1:-1]  # as the JSON writes it
            texts.append((f'$."{key}"', _like_pattern(stored) if nocase else stored, nocase,
                          json.dumps(key, ensure_ascii=False) + ":"))
        return cls(needs, tuple(json.dumps(k, ensure_ascii=False) + ":" for k in keys),
                   tuple(texts))

    def admits(self, folded: dict[str, Any]) -> bool:
        return all(folded[column] in allowed for column, allowed in self.needs)


class _RuleState:
    """What one rule keeps during the pass."""

    def __init__(self, rule: Rule):
        self.rule = rule
        self.failed: str | None = None
        body = rule.body
        if rule.kind == "match":
            self.match = compile_condition(body)
            conditions = [body]
        elif rule.kind == "threshold":
            self.match = compile_condition(body["where"])
            conditions = [body["where"]]
        else:
            self.step_tests = [(step["name"], compile_condition(step["where"])) for step in body["steps"]]
            conditions = [step["where"] for step in body["steps"]]
        # One gate per condition (a sequence has one per step): what an event must have for
        # that condition to hold (see column_values and data_keys). An event that passes no
        # gate never reaches the rule, and most events are never decoded.
        self.gates = [_Gate.of(c) for c in conditions]
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


def _interested(states: list[_RuleState], values: tuple[Any, ...]) -> list[tuple[_RuleState, tuple[_Gate, ...]]]:
    """The rules an event with these PREFILTER_COLUMNS values can match at all, each with the
    gates it passes."""
    folded = dict(zip(PREFILTER_COLUMNS, (v.casefold() if isinstance(v, str) else v for v in values)))
    found = []
    for state in states:
        gates = tuple(g for g in state.gates if g.admits(folded))
        if gates:
            found.append((state, gates))
    return found


def _ready(gates: tuple[_Gate, ...], text: str) -> bool:
    """Whether the event's data text has every key of at least one gate."""
    return any(all(n in text for n in gate.needles) for gate in gates)


# Whether the data value at w.text_path may contain w.text (a `contains` leaf, see
# data_texts), on the stored JSON. A text item holding the text has it in the JSON, escaped
# character by character as w.text is: the instr finds it. Without case (w.text a LIKE
# pattern of ASCII text): LIKE ignores the case of ASCII letters only, so JSON with any other
# character (whose casefold() may give ASCII: "ſ" is "s") is let through. Otherwise the value
# is read: a text or null value (or no value) cannot match; an array can only through an item
# that is not text (a number, a bool, None, a nested list or object, which the condition
# reads as str() of it, not as JSON); any other value might. Invalid JSON is let through.
# Before the JSON is parsed, a shortcut settles the usual miss: where the key's text ("key":)
# occurs once at most in the whole JSON and is followed by [], null or a text, the value at
# the top level is empty, null, a text without the text, or absent (the one occurrence may be
# nested); a key text cannot occur inside a JSON string, whose quotes are escaped.
_TEXT_TEST = (
    "(CASE WHEN w.text_nocase THEN e.data LIKE w.text ESCAPE '\\' "
    "OR length(CAST(e.data AS BLOB)) <> length(e.data) ELSE instr(e.data, w.text) > 0 END) "
    "OR (NOT (SELECT CASE WHEN k.at = 0 THEN 1 "
    "WHEN instr(substr(e.data, k.at + length(w.text_key)), w.text_key) > 0 THEN 0 "
    "WHEN substr(e.data, k.at + length(w.text_key), 2) = '[]' "
    "OR substr(e.data, k.at + length(w.text_key), 4) = 'null' "
    "OR substr(e.data, k.at + length(w.text_key), 1) = '\"' THEN 1 ELSE 0 END "
    "FROM (SELECT instr(e.data, w.text_key) AS at) k) "
    "AND (NOT json_valid(e.data) OR "
    "CASE json_type(e.data, w.text_path) WHEN 'text' THEN 0 WHEN 'null' THEN 0 "
    "WHEN 'array' THEN EXISTS (SELECT 1 FROM json_each(e.data, w.text_path) j "
    "WHERE j.type <> 'text') "
    "ELSE json_type(e.data, w.text_path) IS NOT NULL END))")


def _has_json1(db: sqlite3.Connection) -> bool:
    try:
        db.execute("SELECT json_valid('[]'), json_type('[]'), "
                   "(SELECT count(*) FROM json_each('[]'))").fetchone()
        return True
    except sqlite3.Error:
        return False


def _candidate_rows(db: sqlite3.Connection, states: list[_RuleState]) -> Iterator[sqlite3.Row]:
    """The events some rule may match, in timeline order, chosen inside SQLite.

    The distinct (family, description, extractor, artifact) combinations of the case are few;
    the rules each can reach are worked out in Python (the exact folding `_interested` uses)
    and written to a temporary table with, per rule, one data key it needs. SQLite then hands
    over only the events of a wanted combination whose data text holds such a key: the millions
    of file-system and event-log records no rule looks at never become Python objects. A
    combination with a NULL column (not written by triage) falls back to reading every event.

    The combinations come from the case's event_kinds (no pass over the events), and only the
    families of the wanted ones are read, each through the family index (rows_by_family): the
    events of a family no rule wants are not even visited (the shipped TRIAGE-DEL-003 wants
    the file-system family, so a USN journal's records still are)."""
    combos = [kind[:4] for kind in event_kinds(db)]  # (in PREFILTER_COLUMNS order)
    if any(v is None for combo in combos for v in combo):
        yield from db.execute("SELECT * FROM events ORDER BY seq")
        return
    json1 = _has_json1(db)  # (an SQLite built without JSON functions: key needles only)
    wanted = []
    for combo in combos:
        values = tuple(combo)
        for _, gates in _interested(states, values):
            wanted.extend((*values, g.needles[0] if g.needles else None,
                           *(g.texts[0] if g.texts and json1 else (None,) * 4))
                          for g in gates)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS rule_wanted (family TEXT, timestamp_desc TEXT, "
               "extractor TEXT, artifact TEXT, needle TEXT, text_path TEXT, text TEXT, "
               "text_nocase INTEGER, text_key TEXT)")
    db.execute("DELETE FROM temp.rule_wanted")
    db.executemany("INSERT INTO temp.rule_wanted VALUES (?,?,?,?,?,?,?,?,?)",
                   sorted(set(wanted), key=repr))
    db.execute("CREATE INDEX IF NOT EXISTS temp.rule_wanted_key ON rule_wanted "
               "(family, timestamp_desc, extractor, artifact)")
    try:
        yield from rows_by_family(
            db, {row[0] for row in wanted}, "e.*",
            "EXISTS (SELECT 1 FROM temp.rule_wanted w "
            "WHERE w.family = e.family AND w.timestamp_desc = e.timestamp_desc "
            "AND w.extractor = e.extractor AND w.artifact = e.artifact "
            "AND (w.needle IS NULL OR instr(e.data, w.needle) > 0) "
            f"AND (w.text IS NULL OR {_TEXT_TEST}))")
    finally:
        db.execute("DROP TABLE IF EXISTS temp.rule_wanted")


def evaluate(rules: Iterable[Rule], rows: Iterator[sqlite3.Row] | sqlite3.Connection,
             zone: Any = None) -> DetectionResult:
    """Evaluate `rules` over events in timeline order: `rows` (all of them, any source), or a
    case store's connection, from which only the events some rule can match are read."""
    states = [_RuleState(rule) for rule in rules]
    if isinstance(rows, sqlite3.Connection):
        rows = _candidate_rows(rows, states)
    add_local = _local_fields(zone)
    by_columns: dict[tuple[Any, ...], list[tuple[_RuleState, tuple[_Gate, ...]]]] = {}
    for row in rows:
        values = (row["family"], row["timestamp_desc"], row["extractor"], row["artifact"])
        interested = by_columns.get(values)
        if interested is None:
            interested = by_columns[values] = _interested(states, values)
        if not interested:
            continue  # no rule can match: the event is not even decoded
        text = row["data"]
        ready = [s for s, gates in interested if not s.failed and _ready(gates, text)]
        if not ready:
            continue
        record = row_to_record(row)
        add_local(record, row["ts"])
        for state in ready:
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
