"""Extracting one artifact file: read it once, hash it, run its extractor in isolation.

Shared by the in-process run and the worker processes of `--workers N`: each owns an
`Extraction` writing to its own store, so a file is processed the same way wherever it runs.
The record built here (with `event_hash`) is the timeline's contract; see triage/integrity.py.
"""
from __future__ import annotations

import datetime as _dt
import json
import re
import sqlite3
from collections import Counter
from concurrent.futures import Future
from typing import Any

from triage import integrity
from triage.artifacts import Artifact
from triage.collect import Match, find_path, path_times
from triage.file_digests import (HashAhead, allocated_bytes, has_sparse_runs, reader_apart,
                                 stream_digests)
from triage.extractors import ExtractionContext, Extractor
from triage.files import BufferedFile
from triage.limits import Deadline, ExtractionMemoryLimit, ExtractionTimeout, MemoryGuard
from triage.model import Event, Timestamp
from triage.progress import Reporter
from triage.sources import Evidence, Volume
from triage.store import CaseStore, CaseWriteError, file_values
from triage.timing import StageTimes

BUFFER_LIMIT = 64 * 1024 * 1024  # files up to this size are read once into memory and parsed there
OVERLAP_MIN = 1024 * 1024  # from this size, a file read into memory is hashed while it is parsed
WAIT_EVENTS = 10_000  # events that may wait for their file's digests before the parser waits


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Strings from evidence may hold lone UTF-16 surrogates: keep them visible as \\udxxx."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_PLAIN = (type(None), bool, int)


def json_safe(value: Any) -> Any:
    """Event data as plain JSON values, so the stored, exported and hashed forms are one."""
    kind = type(value)
    if kind is dict:  # the usual case, with its plain members handled inline (hot path)
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                key = clean_text(str(key))
            item_kind = type(item)
            if item_kind is str:
                out[key] = item if item.isascii() else clean_text(item)
            elif item_kind in _PLAIN:
                out[key] = item
            elif item_kind is list:  # lists of plain text or numbers (flags, names): inline
                out[key] = [x if (x.__class__ is str and x.isascii()) or x.__class__ in _PLAIN
                            else json_safe(x) for x in item]
            else:
                out[key] = json_safe(item)
        return out
    if kind in _PLAIN:
        return value
    if kind is str:
        return clean_text(value)
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Timestamp):
        return value.iso()
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {clean_text(str(k)): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(v) for v in value), key=repr)
    return clean_text(str(value))


_DIRECT = frozenset((str, int, bool, type(None), float))
_DIRECT_OR_LIST = _DIRECT | {list}
_STRICT = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                           allow_nan=False)


def _flat_encoder() -> Any:
    """_STRICT's own C encoder, made once: JSONEncoder.encode builds one per call (with a
    closure and a dict for circular references), a third of the cost of encoding an event's
    data. Without circular-reference checks, which a flat dict of plain values cannot need.
    None where the C accelerator is missing or does not give _STRICT's text."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    try:
        encoder = make(None, _STRICT.default, json.encoder.encode_basestring, None, ":", ",",
                       True, False, False)
        sample = {"b": [1.5, "\u00e9\n", None], "a": True, "c": -3}
        return encoder if "".join(encoder(sample, 0)) == _STRICT.encode(sample) else None
    except Exception:
        return None


_FLAT_ENCODER = _flat_encoder()


def _encode_flat(data: dict[str, Any]) -> str:
    return "".join(_FLAT_ENCODER(data, 0)) if _FLAT_ENCODER is not None else _STRICT.encode(data)


def data_json(data: Any) -> str:
    """canonical(json_safe(data)), without json_safe's walk in the usual case: a flat dict
    with ASCII text keys whose values are text, numbers, booleans, None or lists of those is
    serialised directly; the text is then checked for what json_safe would have changed (lone
    surrogates; NaN and infinities make the strict encoder fail). Anything else takes the
    walk. A property test holds both ways equal."""
    if data.__class__ is dict:
        kinds = set(map(type, data.values()))
        if kinds <= _DIRECT or (kinds <= _DIRECT_OR_LIST and all(
                set(map(type, v)) <= _DIRECT for v in data.values() if v.__class__ is list)):
            try:
                plain_keys = all(map(str.isascii, data))  # TypeError: a key that is not str
                text = _encode_flat(data) if plain_keys else None
            except (TypeError, ValueError):
                text = None
            if text is not None and (text.isascii() or _SURROGATE.search(text) is None):
                return text
    return integrity.canonical(json_safe(data))


def file_hasher(artifact: Artifact, extractor: Extractor, host: str | None,
                source: dict[str, Any]) -> integrity.FileEventHasher:
    """The event hasher of one file, for `build_record` (the shared fields are a third of an
    event hash's input: serialised once per file, not once per event)."""
    return integrity.FileEventHasher(artifact.name, artifact.family, extractor.name, host, source)


def build_record(event: Event, artifact: Artifact, extractor: Extractor, host: str | None,
                 source: dict[str, Any], hasher: integrity.FileEventHasher | None = None,
                 text: str | None = None) -> dict[str, Any]:
    """The stored and exported record of one event, with its `event_hash`. `hasher`: the
    `file_hasher` of this file, when the caller builds many records from it; `text`: the
    event's data_json when the caller has it already (an extractor's shared data)."""
    record = {
        "timestamp": event.timestamp.iso() if event.timestamp else None,
        "timestamp_desc": clean_text(event.timestamp_desc),
        "artifact": artifact.name,
        "family": artifact.family,
        "extractor": extractor.name,
        "message": clean_text(event.message),
        "user": clean_text(event.user) if event.user else None,
        "host": host,
        "source": source,
        "data": event.data,  # as the extractor gave it; `data_json` is its stored JSON
    }
    if text is None:
        text = data_json(event.data)
    record["data_json"] = text  # stored as is
    if hasher is None:
        hasher = file_hasher(artifact, extractor, host, source)
    record["event_hash"] = hasher(record["timestamp"], record["timestamp_desc"],
                                  record["message"], record["user"], text)
    return record


class _Unreadable(Exception):
    """A file's digests could be had from no reader: it is recorded as unreadable."""


class Extraction:
    """Processes matched files into a store, counting what happened."""

    def __init__(self, options: Any, extractors: dict[str, Extractor], definition_dirs: list[str],
                 store: CaseStore, reporter: Reporter):
        self.options = options
        self.extractors = extractors
        self.definition_dirs = definition_dirs
        self.store: CaseStore | None = store
        self.reporter = reporter
        self.counts: Counter[str] = Counter()
        self.errors = 0
        self.warnings = 0
        self.files = 0
        self.error_lines: list[str] = []
        self.timings = StageTimes()

    def error(self, stage: str, message: str, severity: str = "error", **where: Any) -> None:
        assert self.store is not None
        self.store.add_error(severity, stage, message, **where)
        if severity == "error":
            self.errors += 1
            self.error_lines.append(f"{where.get('path') or where.get('volume') or stage}: {message}")
        elif severity == "warning":
            self.warnings += 1

    def _limit(self, artifact: Artifact) -> int:
        # A definition's own max_size (e.g. a streamed $MFT) replaces the general limit.
        return artifact.max_size or self.options.max_file_size

    def _streamed(self, match: Match) -> bool:
        """A file parsed from the evidence rather than from memory, and hashed as such."""
        f = match.file
        return not getattr(f, "hash_exempt", False) and \
            BUFFER_LIMIT < f.size <= self._limit(match.artifact)

    def process_all(self, matches: list[Match], evidence: Evidence, volume: Volume,
                    host: str | None, users: dict[str, str], timezone: str | None) -> None:
        """Process a volume's matches in order, the large ones hashed ahead of their turn
        (triage/file_digests.py) while the files before them are parsed."""
        with HashAhead(volume.tree, matches, self._streamed) as ahead:
            for match in matches:
                self.process(match, evidence, volume, host, users, timezone, ahead)

    def process(self, match: Match, evidence: Evidence, volume: Volume, host: str | None,
                users: dict[str, str], timezone: str | None,
                ahead: HashAhead | None = None) -> None:
        assert self.store is not None
        artifact, f = match.artifact, match.file
        extractor = self.extractors[artifact.extractor]
        where = {"artifact": artifact.name, "extractor": extractor.name,
                 "evidence": evidence.name, "volume": volume.id, "path": f.path}
        limit = self._limit(artifact)
        source_row = {"evidence": evidence.name, "volume": volume.id, "path": f.path,
                      "inode": f.inode, "size": f.size, "artifact": artifact.name,
                      "extractor": extractor.name}
        if getattr(f, "hash_exempt", False):  # a raw volume: parsed in place, never read whole
            self._run_extractor(artifact, extractor, f, evidence, volume, host, users, timezone,
                                where, source_row, {"md5": None, "sha1": None, "sha256": None})
            return
        if f.size > limit:
            reason = f"file of {f.size} bytes is over the {limit}-byte limit: not parsed"
            self.store.add_source(**source_row, status="skipped", events=0, error=reason)
            self.error("extract", reason, **where)
            return
        try:
            with self.timings.stage("read and hash"):
                if f.size <= BUFFER_LIMIT:
                    content = f.read()
                    digests: Any = integrity.hash_bytes(content) if len(content) < OVERLAP_MIN \
                        else integrity.hash_bytes_in_background(content)
                    readable: Any = BufferedFile(f, content)
                else:  # streamed: hashed ahead (a Future) where it could be, else here, now
                    readable = f
                    if has_sparse_runs(f):
                        self.error("read", f"hashes cover the {allocated_bytes(f)} allocated "
                                   f"bytes of this {f.size}-byte sparse stream (sparse runs "
                                   "are zeros, not read)", severity="info", **where)
                    ahead_digests = ahead.take(match) if ahead is not None else None
                    if ahead_digests is not None and not (
                            ahead_digests.done() and ahead_digests.exception() is not None):
                        digests = ahead_digests
                    else:
                        digests = stream_digests(f)
        except Exception as exc:
            reason = f"cannot read file: {type(exc).__name__}: {exc}"
            self.store.add_source(**source_row, status="unreadable", events=0, error=reason)
            self.error("read", reason, **where)
            return
        self._run_extractor(artifact, extractor, readable, evidence, volume, host, users,
                            timezone, where, source_row, digests)

    def _run_extractor(self, artifact: Artifact, extractor: Extractor, readable: Any,
                       evidence: Evidence, volume: Volume, host: str | None,
                       users: dict[str, str], timezone: str | None, where: dict[str, Any],
                       source_row: dict[str, Any], digests: "dict[str, Any] | Future[dict[str, Any]]") -> None:
        """Run one file's extractor and store its events. `digests` may still be computing
        (a Future: a file read into memory, or a large one hashed ahead): the parser starts at
        once, and its first events wait (at most WAIT_EVENTS of them) until the file's SHA-256,
        which every event hash includes, is known; so hashing overlaps parsing instead of
        preceding it. Should the Future fail, the file is hashed again on a reader of this
        thread's own (never the parser's handle, whose position it would move); if that
        fails too, the file is unreadable and none of its events is stored, as when its
        hashing fails before parsing."""
        assert self.store is not None
        store = self.store
        f = readable
        tree = volume.tree
        ctx = ExtractionContext(host=host, users_by_sid=users, timezone=timezone,
                                options=self.options.extractor_options,
                                definition_dirs=self.definition_dirs,
                                open_path=lambda path: find_path(tree, path) if tree else None,
                                path_times=lambda path: path_times(tree, path) if tree else None)
        profile_user = ctx.user_for_path(f.path)
        pending = digests if isinstance(digests, Future) else None
        hasher: integrity.FileEventHasher | None = None
        source: dict[str, Any] = {}
        produced = 0
        waiting: list[Event] = []
        unreadable: list[str] = []
        file: list[Any] = [None]  # the file's staging_files id, once its digests are known

        def settle() -> None:
            """The file's digests are needed now: wait for them, make the event hasher."""
            nonlocal digests, hasher
            if unreadable:
                raise _Unreadable(unreadable[0])
            if pending is not None:
                try:
                    digests = pending.result()
                except Exception:
                    try:
                        digests = integrity.hash_bytes(f.content) if isinstance(f, BufferedFile) \
                            else stream_digests(reader_apart(f, lambda: tree.independent()))
                    except Exception as exc:
                        unreadable.append(f"cannot read file: {type(exc).__name__}: {exc}")
                        raise _Unreadable(unreadable[0]) from None
            source.update({"evidence": evidence.name, "volume": volume.id,
                           "path": clean_text(f.path), "inode": f.inode,
                           "sha256": digests["sha256"]})  # type: ignore[index]
            hasher = file_hasher(artifact, extractor, host, source)
            try:
                file[0] = store.file_id(file_values(artifact.name, artifact.family,
                                                    extractor.name, host, source))
            except sqlite3.Error as exc:  # the case, not the artifact: stop the run
                raise CaseWriteError(f"writing the case failed: {exc}") from exc

        shared: list[Any] = [None, None]  # (data, its JSON) of the last event, see shares_data
        shares_data = extractor.shares_data

        def keep(event: Event) -> None:
            nonlocal produced
            text = event.data_json  # (composed by the extractor itself: see Event)
            if text is None and shares_data:
                if event.data is shared[0]:
                    text = shared[1]
                else:
                    text = data_json(event.data)
                    shared[:] = event.data, text
            record = build_record(event, artifact, extractor, host, source, hasher, text)
            try:
                store.add_event(record, event.timestamp.ns if event.timestamp else None, file[0])
            except (ExtractionTimeout, ExtractionMemoryLimit):
                raise  # a limit's signal that arrived while storing: the file's
            except Exception as exc:  # the case, not the artifact: stop the run
                raise CaseWriteError(f"writing the case failed: {exc}") from exc
            produced += 1

        def release() -> None:
            """Store the events that waited for the digests (also when the parser failed:
            what it gave is kept)."""
            if hasher is None:
                settle()
            held = waiting[:]
            waiting.clear()
            for event in held:
                keep(event)

        if pending is None:
            settle()
        error: str | None = None
        try:
            with Deadline(self.options.file_timeout), \
                    MemoryGuard(getattr(self.options, "file_memory", 0)), \
                    self.timings.stage(f"extract:{artifact.family}"):
                try:
                    for event in extractor.extract(readable, ctx):
                        if event.user is None and profile_user:
                            event.user = profile_user  # a file in a profile belongs to its owner
                        if hasher is None:
                            if not pending.done() and len(waiting) < WAIT_EVENTS:  # type: ignore[union-attr]
                                waiting.append(event)
                                continue
                            release()
                        keep(event)
                finally:
                    if waiting or hasher is None:
                        release()
        except CaseWriteError:
            raise
        except _Unreadable:
            pass
        except (Exception, ExtractionTimeout, ExtractionMemoryLimit) as exc:  # isolation: one
            # bad file never stops the run (the limits are BaseExceptions, so that no parser's
            # own `except Exception` swallows them)
            error = f"{type(exc).__name__}: {exc}" if not str(exc).startswith(type(exc).__name__) \
                else str(exc)
            if produced:
                error += f" (after {produced} events, which are kept)"
        if hasher is None and not unreadable:  # (a limit's signal cut short even the release)
            try:
                settle()
            except _Unreadable:
                pass
        if unreadable:  # no reader gave the digests: no event of the file was stored
            self.store.add_source(**source_row, status="unreadable", events=0,
                                  error=unreadable[0])
            self.error("read", unreadable[0], **where)
            return
        assert isinstance(digests, dict)
        problems = ([error] if error else []) + ctx.errors
        self.store.add_source(**source_row, md5=digests["md5"], sha1=digests["sha1"],
                              sha256=digests["sha256"], status="error" if problems else "parsed",
                              events=produced, error="; ".join(problems) or None)
        for severity, messages in (("error", problems), ("warning", ctx.warnings),
                                   ("info", ctx.notes)):
            for message in messages:
                self.error("extract", message, severity=severity, **where)
        self.counts[artifact.name] += produced
        self.files += 1
        self.reporter.file_done(f.path, produced)

