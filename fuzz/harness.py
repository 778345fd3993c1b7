"""Run one (mutated) input through one fuzz target and check the property.

The property, for every input:
  * the target finishes: it yields events (all consumed) or raises one of its expected errors
    (ArtifactError for an extractor; a parser's own error type for a parser). Any other
    exception is a bug;
  * every event is an Event whose timestamp is None or lies within 1601..9999, whose message
    and timestamp_desc are text, and whose data the engine can store: `json_safe` (the engine's
    own conversion) then canonical JSON;
  * messages left in the context (warnings, errors, notes) are text, since the engine joins
    them; an error the registry extractor recorded for a plugin that failed with a Python
    programming error (IndexError, struct.error, ...) is a crash hidden by the isolation and
    counts as a failure too;
  * it ends within a per-input deadline (SIGALRM: the engine's triage.limits.Deadline), and its peak
    Python memory (tracemalloc) stays under a bound.

Why in-process and in memory: the extractors read through `EvidenceFile` (`open`, `read`,
`sibling`), so a `FuzzFile` over bytes exercises exactly the code the engine runs, with no
file system in between, thousands of times a minute.
"""
from __future__ import annotations

import io
import os
import re
import traceback
import tracemalloc
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Callable, Iterable

from triage import integrity
from triage.extraction import json_safe
from triage.files import basename
from triage.limits import Deadline
from triage.model import Event, Timestamp

DEADLINE_S = 5.0
MEMORY_LIMIT = 256 * 1024 * 1024
_MIN_NS = -11_644_473_600 * 1_000_000_000  # 1601-01-01T00:00:00Z
_MAX_NS = 253_402_300_800 * 1_000_000_000 - 1  # 9999-12-31T23:59:59.999999999Z
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Errors that only a programming mistake raises; found in a registry plugin's isolated failure.
_CRASH_TYPES = ("IndexError", "KeyError", "TypeError", "AttributeError", "ValueError", "error",
                "UnicodeDecodeError", "UnicodeEncodeError", "ZeroDivisionError",
                "OverflowError", "RecursionError", "MemoryError", "AssertionError",
                "NameError", "UnboundLocalError", "OSError")
_MASKED = re.compile(r"^registry plugin (\w+): (" + "|".join(_CRASH_TYPES) + r"): ")
# A warning or error that names a programming error caught by a parser's own per-record
# isolation: not a failure (the record was reported and skipped), but counted and listed by
# the long run, since it may hide a bug.
_SUSPICIOUS = re.compile(r"\b(IndexError|KeyError|TypeError|AttributeError|ZeroDivisionError|"
                         r"UnboundLocalError|NameError|RecursionError|OverflowError|"
                         r"unpack_from requires|unpack requires|struct\.error)\b")


class InputTimeout(BaseException):
    """The per-input deadline passed. A BaseException so that no `except Exception` in a
    parser can swallow it and run on."""


class PropertyViolation(Exception):
    """The target finished but broke the property (a bad event, a hidden crash, memory)."""


@dataclass
class FuzzFile:
    """An EvidenceFile over bytes: the file under test and the files around it.

    `siblings` are files in the same folder (by name), `folders` the folders beside it (name ->
    {relative path: bytes}), as `EvidenceFile.sibling()` / `sibling_folder()` promise.
    """

    path: str
    content: bytes
    siblings: dict[str, bytes] = field(default_factory=dict)
    folders: dict[str, dict[str, bytes]] = field(default_factory=dict)
    inode: int | None = None

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def name(self) -> str:
        return basename(self.path)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.content)

    def read(self, limit: int | None = None) -> bytes:
        return self.content if limit is None else self.content[:limit]

    def sibling(self, name: str) -> "FuzzFile | None":
        parent = self.path.rsplit("/", 1)[0]
        for other, content in sorted(self.siblings.items()):
            if other.lower() == name.lower():
                return FuzzFile(f"{parent}/{other}", content)
        return None

    def sibling_folder(self, name: str) -> "list[FuzzFile] | None":
        parent = self.path.rsplit("/", 1)[0]
        for folder, files in sorted(self.folders.items()):
            if folder.lower() == name.lower():
                return [FuzzFile(f"{parent}/{folder}/{rel}", files[rel]) for rel in sorted(files)]
        return None


@dataclass
class Outcome:
    """What one input did: events produced, or the failure and where it was raised."""

    events: int = 0
    expected_error: str | None = None  # the message of an accepted ArtifactError & co.
    failure: str | None = None  # "ExcType: message" of a bug
    suspicious: list[str] = field(default_factory=list)  # see _SUSPICIOUS
    site: str | None = None  # "triage/x.py:123 (function)" where the bug was raised
    trace: str | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None


def exception_site(exc: BaseException) -> str:
    """The innermost frame inside the project (triage/ or fuzz/), else the innermost frame:
    how failures are grouped into distinct bugs."""
    frames = traceback.extract_tb(exc.__traceback__)
    chosen = None
    for frame in frames:
        rel = os.path.relpath(frame.filename, ROOT)
        if rel.startswith("triage" + os.sep):
            chosen = (rel, frame.lineno, frame.name)
    if chosen is None and frames:
        last = frames[-1]
        chosen = (os.path.relpath(last.filename, ROOT), last.lineno, last.name)
    if chosen is None:
        return f"{type(exc).__name__} (no frame)"
    return f"{type(exc).__name__} at {chosen[0]}:{chosen[1]} ({chosen[2]})"


def check_event(event: Any) -> None:
    """The engine's expectations of one event (see triage/extraction.py build_record)."""
    if not isinstance(event, Event):
        raise PropertyViolation(f"yielded {type(event).__name__}, not an Event")
    ts = event.timestamp
    if ts is not None:
        if not isinstance(ts, Timestamp) or not isinstance(ts.ns, int):
            raise PropertyViolation(f"timestamp {ts!r} is not a Timestamp")
        if not _MIN_NS <= ts.ns <= _MAX_NS:
            raise PropertyViolation(f"timestamp {ts.ns} ns is outside 1601..9999 "
                                    f"({event.timestamp_desc})")
        ts.iso()
    if not isinstance(event.timestamp_desc, str) or not isinstance(event.message, str):
        raise PropertyViolation("timestamp_desc and message must be str")
    if event.user is not None and not isinstance(event.user, str):
        raise PropertyViolation(f"user {event.user!r} is not str")
    if not isinstance(event.data, dict):
        raise PropertyViolation(f"data is {type(event.data).__name__}, not a dict")
    integrity.canonical(json_safe(event.data))


def check_context(ctx: Any) -> None:
    for kind in ("warnings", "errors", "notes"):
        for message in getattr(ctx, kind, []):
            if not isinstance(message, str):
                raise PropertyViolation(f"ctx.{kind} holds {type(message).__name__}, not str")
    for message in getattr(ctx, "errors", []):
        masked = _MASKED.match(message)
        if masked:
            raise PropertyViolation(f"hidden crash in registry plugin {masked.group(1)}: "
                                    f"{message}")


def run_input(call: Callable[[], Iterable[Any] | None], expected: tuple[type[BaseException], ...],
              ctx: Any = None, deadline: float = DEADLINE_S,
              memory_limit: int = MEMORY_LIMIT, events_only: bool = True) -> Outcome:
    """Run `call()` (consuming what it returns) under the deadline and the memory check.

    With `events_only` every item must be an Event (an extractor); a parser target may yield
    its own records, which are only counted."""
    outcome = Outcome()
    # Traced for this input only: tracing hypothesis's own work between inputs would slow the
    # whole run five times, and a fresh trace makes the peak this input's own.
    started_tracing = not tracemalloc.is_tracing()
    if started_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    try:
        with Deadline(deadline, InputTimeout, "input not finished after {seconds:g} s"):
            produced = call()
            if produced is not None:
                for item in produced:
                    outcome.events += 1
                    if events_only or isinstance(item, Event):
                        check_event(item)
        if ctx is not None:
            check_context(ctx)
            messages = list(getattr(ctx, "warnings", [])) + list(getattr(ctx, "errors", []))
            outcome.suspicious = [m for m in messages if _SUSPICIOUS.search(m)]
    except expected as exc:
        outcome.expected_error = f"{type(exc).__name__}: {exc}"[:300]
    except (Exception, InputTimeout) as exc:  # noqa: BLE001 - every other exception is the bug
        outcome.failure = f"{type(exc).__name__}: {exc}"[:500]
        outcome.site = exception_site(exc) if not isinstance(exc, (PropertyViolation,
                                                                   InputTimeout)) \
            else f"{type(exc).__name__}: {_violation_kind(exc)}"
        outcome.trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        if started_tracing:
            tracemalloc.stop()
    if peak > memory_limit and not outcome.failed:  # however the input ended
        outcome.failure = (f"PropertyViolation: peak Python memory {peak >> 20} MiB over the "
                           f"{memory_limit >> 20} MiB bound")
        outcome.site = "PropertyViolation: memory bound"
    return outcome


def _violation_kind(exc: BaseException) -> str:
    """A stable label for grouping property violations (the message without its numbers)."""
    text = str(exc)
    if isinstance(exc, InputTimeout):
        return "deadline"
    return re.sub(r"\d+", "N", text)[:120]
