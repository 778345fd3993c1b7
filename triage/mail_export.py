"""Export mail attachments from the mail stores of the evidence, with a hashed export log.

Why its own command and not part of `triage run`: a timeline run never copies evidence content
(attachments are listed there by name, size and SHA-256); an examiner asks for the files
deliberately, with a filter, as with `triage recover`. The evidence is only read.

How: the mail extractors themselves (PST/OST, mbox, Windows Mail .eml) walk each store as they
do for the timeline, and hand every attachment's content to an `AttachmentSink` given in the
extractor options (`attachment_sink`). So the files exported are exactly the attachments the
timeline lists, with the same SHA-256, and no second parser of any mail format exists.
An extractor supports this when it calls `open_attachment` before reading an attachment's
content and `message` once the message's data is complete (`discard` when it is not).

Output: DIR/<volume>/<store path>/<message>/<attachment name>; each component made safe
(no `..`, no separators, no device names, no control characters: triage.recover.safe_component)
and a taken name gets a number, so nothing is overwritten and nothing lands outside DIR.
<message> is "<item id or message number> <subject>" (cut to 80 characters).
DIR/attachments_log.jsonl and .csv list every attachment of the matching messages: where it
came from (evidence, volume, store, folder, message key, subject, sender, date), name, size,
status (exported; no content: not stored in the message, e.g. a link or an embedded message;
unreadable: content could not be read whole, nothing kept), exported_as (relative to DIR),
sha256 and md5 of the exported bytes, and the SHA-256 the store's walk computed (the timeline's).
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable

from triage.artifacts import load_definitions
from triage.collect import find_files
from triage.extractors import ExtractionContext, load_extractors
from triage.integrity import sha256_file
from triage.recover import check_output, free_name, safe_component, safe_relative
from triage.sources import EvidenceError, SourceOptions, open_evidence

LOG_FIELDS = ("evidence", "volume", "store", "folder", "message", "subject", "sender", "date",
              "name", "size", "status", "reason", "exported_as", "sha256", "md5",
              "store_sha256")
PENDING_DIR = ".attachments.partial"


@dataclass
class ExportOptions:
    evidence: str
    output: str
    names: tuple[str, ...] = ()  # attachment file-name patterns (any may match)
    stores: tuple[str, ...] = ()  # store path patterns
    sha256: tuple[str, ...] = ()  # wanted content hashes
    force: bool = False
    sources: SourceOptions = field(default_factory=SourceOptions)
    options: dict[str, Any] = field(default_factory=dict)  # extractor options (internal domains)


@dataclass
class ExportResult:
    output: str
    records: list[dict[str, Any]] = field(default_factory=list)
    stores: int = 0
    log_jsonl: str = ""
    log_csv: str = ""
    log_sha256: str = ""
    csv_sha256: str = ""
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for record in self.records:
            out[record["status"]] = out.get(record["status"], 0) + 1
        return out


class _Pending:
    """One attachment's content being written to a private temporary file, hashed as it goes."""

    def __init__(self, path: str, index: int, name: str | None):
        self.path, self.index, self.name = path, index, name
        self.handle = open(path, "xb")
        self.sha256, self.md5 = hashlib.sha256(), hashlib.md5()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.handle.write(chunk)
        self.sha256.update(chunk)
        self.md5.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()


class AttachmentSink:
    """Receives attachments from a mail extractor and files them under the export folder."""

    def __init__(self, options: ExportOptions, result: ExportResult,
                 on_record: Callable[[dict[str, Any]], None] | None = None):
        self.options, self.result, self.on_record = options, result, on_record
        self.pending_dir = os.path.join(options.output, PENDING_DIR)
        os.makedirs(self.pending_dir, exist_ok=True)
        self.where: dict[str, Any] = {}
        self.pending: list[_Pending] = []
        self.counter = 0
        self.wanted = {h.lower() for h in options.sha256}

    def start_store(self, evidence: str, volume: str, store: str) -> None:
        self.discard()
        self.where = {"evidence": evidence, "volume": volume, "store": store}

    # -- the extractor side ----------------------------------------------------------------
    def open_attachment(self, index: int, name: str | None) -> _Pending:
        """A writer for attachment `index` of the message being read."""
        self.counter += 1
        pending = _Pending(os.path.join(self.pending_dir, f"{self.counter:08d}.part"), index, name)
        self.pending.append(pending)
        return pending

    def discard(self) -> None:
        """The message could not be read whole: what was written for it is dropped."""
        for pending in self.pending:
            pending.close()
            try:
                os.remove(pending.path)
            except OSError:
                pass
        self.pending = []

    def message(self, data: dict[str, Any]) -> None:
        """The message's data (as on the timeline) is complete: file its attachments."""
        written = {p.index: p for p in self.pending}
        self.pending = []
        try:
            for index, info in enumerate(data.get("attachments") or []):
                self._file(data, index, info, written.pop(index, None))
        finally:
            for leftover in written.values():
                leftover.close()
                os.remove(leftover.path)

    # -- filing ----------------------------------------------------------------------------
    def _selected(self, name: str | None, digest: str | None) -> bool:
        opts = self.options
        if opts.names and not any(fnmatchcase((name or "").lower(), p.lower()) for p in opts.names):
            return False
        return not self.wanted or (digest or "") in self.wanted

    def _file(self, data: dict[str, Any], index: int, info: dict[str, Any],
              pending: _Pending | None) -> None:
        if pending is not None:
            pending.close()
        store_digest = info.get("sha256")
        digest = pending.sha256.hexdigest() if pending is not None else None
        if not self._selected(info.get("name"), digest or store_digest):
            if pending is not None:
                os.remove(pending.path)
            return
        key = data.get("item_id") if data.get("item_id") is not None else \
            data.get("message_index")
        record = {**self.where,
                  "folder": data.get("folder_path") or data.get("folder"),
                  "message": key, "subject": data.get("subject"),
                  "sender": data.get("sender_address") or data.get("sender_name"),
                  "date": data.get("sent") or data.get("date_header"),
                  "name": info.get("name"), "size": info.get("size"), "status": "exported",
                  "reason": None, "exported_as": None, "sha256": None, "md5": None,
                  "store_sha256": store_digest}
        if pending is None:
            record["status"], record["reason"] = "no content", \
                f"no content stored in the message ({info.get('method') or info.get('mime_type') or 'not read'})"
        elif store_digest is None or store_digest != digest:
            os.remove(pending.path)
            record["status"], record["reason"] = "unreadable", \
                "content could not be read whole (see the timeline run's errors)"
        else:
            record["exported_as"] = self._place(data, key, info.get("name"), pending)
            record["sha256"], record["md5"] = digest, pending.md5.hexdigest()
            record["size"] = pending.size
        self.result.records.append(record)
        if self.on_record:
            self.on_record(record)

    def _place(self, data: dict[str, Any], key: Any, name: str | None, pending: _Pending) -> str:
        subject = " ".join(str(data.get("subject") or "").split())[:80]
        message = safe_component(f"{key} {subject}".strip() if key is not None else subject or "message")
        folder = os.path.join(self.options.output,
                              safe_relative(self.where["volume"], self.where["store"]), message)
        os.makedirs(folder, exist_ok=True)
        stem, suffix = os.path.splitext(safe_component(name or f"attachment {pending.index + 1}"))
        target = free_name(folder, stem, suffix)
        os.replace(pending.path, target)
        os.chmod(target, 0o444)
        return os.path.relpath(target, self.options.output)


def export_attachments(options: ExportOptions,
                       on_record: Callable[[dict[str, Any]], None] | None = None) -> ExportResult:
    """Walk every mail store of the evidence and export the selected attachments."""
    check_output(options)
    evidence = open_evidence(options.evidence, options.sources)
    classes = load_extractors().extractors
    artifacts = [a for a in load_definitions() if a.family == "mail" and a.extractor in classes
                 and getattr(classes[a.extractor], "exports_attachments", False)]
    os.makedirs(options.output, exist_ok=True)
    result = ExportResult(output=options.output)
    result.log_jsonl = free_name(options.output, "attachments_log", ".jsonl")
    result.log_csv = free_name(options.output, "attachments_log", ".csv")
    sink = AttachmentSink(options, result, on_record)
    try:
        for volume in evidence.processable():
            try:  # every mail definition applies to any volume
                matches = list(find_files(volume.tree, artifacts, by_name=volume.by_name))
            except Exception as exc:
                result.errors.append(f"volume {volume.id}: walking the file system failed: {exc}")
                continue
            for match in matches:
                if options.stores and not any(fnmatchcase(match.file.path.lower(), p.lower())
                                               for p in options.stores):
                    continue
                result.stores += 1
                sink.start_store(evidence.name, volume.id, match.file.path)
                ctx = ExtractionContext(options={**options.options, "attachment_sink": sink})
                extractor = classes[match.artifact.extractor]()
                try:
                    for _ in extractor.extract(match.file, ctx):
                        pass
                except Exception as exc:  # one bad store never stops the others
                    result.errors.append(f"{volume.id}:{match.file.path}: {type(exc).__name__}: {exc}")
                sink.discard()
                result.errors.extend(f"{volume.id}:{match.file.path}: {e}" for e in ctx.errors)
    finally:
        sink.discard()
        try:
            os.rmdir(sink.pending_dir)
        except OSError:
            pass
        _write_logs(result)
    return result


def _write_logs(result: ExportResult) -> None:
    with open(result.log_jsonl, "x", encoding="utf-8", newline="\n") as handle:
        for record in result.records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    with open(result.log_csv, "x", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS)
        writer.writeheader()
        for record in result.records:
            writer.writerow({k: _csv_cell(record.get(k)) for k in LOG_FIELDS})
    result.log_sha256 = sha256_file(result.log_jsonl)
    result.csv_sha256 = sha256_file(result.log_csv)


def _csv_cell(value: Any) -> Any:
    """Empty for None; text that a spreadsheet would run as a formula is quoted."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


__all__ = ["AttachmentSink", "EvidenceError", "ExportOptions", "ExportResult",
           "export_attachments"]
