"""`triage run`: evidence in, case folder out. The one place that ties the stages together.

Flow: definitions + extractors -> open evidence -> per volume: system facts, collection,
extraction (each file isolated, bounded in time and size) -> store -> timeline order + chain ->
JSONL/CSV -> manifest with every output's hash. The case is written to `CASE.partial` and
renamed only when complete, so a folder named CASE is always a finished case.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from triage import __version__, gc_policy, integrity
from triage.artifacts import (Artifact, DefinitionError, builtin_dirs, for_volume,
                              load_definitions, select)
from triage.collect import find_files, find_node
from triage.extraction import Extraction
from triage.extractors import Extractor, load_extractors
from triage.analysis import run_analyses
from triage.case import write_outputs
from triage.detection import detect, load_rules
from triage.detection.sigma import load_sigma_rules
from triage.progress import Reporter
from triage.sources import Evidence, EvidenceError, SourceOptions, open_evidence
from triage.incomplete import INCOMPLETE_MARKER, read_marker, write_marker
from triage.store import CaseStore, CaseWriteError, is_disk_full
from triage.sysinfo import SystemInfo, read_system_info
from triage.timezones import resolve_zone, tzinfo
from triage.timing import StageTimes

EXIT_OK, EXIT_ARTIFACT_ERRORS, EXIT_USAGE, EXIT_EVIDENCE = 0, 1, 2, 3


class UsageError(Exception):
    """The command line asks for something impossible (exit code 2)."""


@dataclass
class RunOptions:
    evidence: str
    case_dir: str
    force: bool = False
    sources: SourceOptions = field(default_factory=SourceOptions)
    artifact_dirs: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    examiner: str | None = None
    case_id: str | None = None
    hash_evidence: bool = False
    max_file_size: int = 2 * 1024**3
    file_timeout: float = 300.0
    file_memory: int = 2048 * 1024**2  # bytes one extractor call may grow memory by (0: none)
    command_line: list[str] = field(default_factory=lambda: list(sys.argv))
    extractor_options: dict[str, Any] = field(default_factory=dict)
    rule_dirs: list[str] = field(default_factory=list)
    sigma_dirs: list[str] = field(default_factory=list)
    builtin_rules: bool = True
    source_tz: str | None = None  # zone for local-time artifacts; default: the system's own
    workers: int = 1  # extraction processes within this one image
    report_lang: str = "en"


@dataclass
class RunSummary:
    case_dir: str
    evidence: str
    events: int = 0
    files: int = 0
    errors: int = 0
    warnings: int = 0
    per_artifact: dict[str, int] = field(default_factory=dict)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    snapshots_found: int = 0
    snapshots_processed: int = 0
    chain_head: str = ""
    manifest_sha256: str = ""
    evidence_hashes: dict[str, Any] | None = None
    duration_s: float = 0.0
    error_lines: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)
    entities: dict[str, int] = field(default_factory=dict)
    finding_lines: list[str] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return EXIT_ARTIFACT_ERRORS if self.errors else EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {"case": self.case_dir, "evidence": self.evidence, "events": self.events,
                "files": self.files, "errors": self.errors, "warnings": self.warnings,
                "per_artifact": self.per_artifact, "volumes": self.volumes,
                "snapshots": {"found": self.snapshots_found, "processed": self.snapshots_processed},
                "chain_head": self.chain_head, "manifest_sha256": self.manifest_sha256,
                "evidence_hashes": self.evidence_hashes, "duration_s": round(self.duration_s, 3),
                "findings": self.findings, "finding_list": self.finding_lines,
                "entities": self.entities, "timings": self.timings,
                "exit_code": self.exit_code}


def utc_now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


class Run:
    """One `triage run`: owns the store, the extractors and the stages."""

    def __init__(self, options: RunOptions, reporter: Reporter):
        self.options = options
        self.reporter = reporter
        self.store: CaseStore | None = None
        self.extractors: dict[str, Extractor] = {}
        self.extraction: Extraction | None = None

    def _error(self, stage: str, message: str, severity: str = "error", **where: Any) -> None:
        assert self.extraction is not None
        self.extraction.error(stage, message, severity, **where)

    # -- set-up -----------------------------------------------------------------------------
    def _definitions(self) -> list[Artifact]:
        self.definition_dirs = [str(d) for d in builtin_dirs()] + list(self.options.artifact_dirs)
        artifacts = select(load_definitions(self.options.artifact_dirs), self.options.only)
        report = load_extractors()
        for name, reason in report.failures:
            self.reporter.note(f"extractor plugin {name} not loaded: {reason}")
        for artifact in artifacts:
            cls = report.extractors.get(artifact.extractor)
            if cls is None:
                raise DefinitionError(f"{artifact.origin}: definition '{artifact.name}': field "
                                      f"'extractor': no extractor named '{artifact.extractor}' is "
                                      "installed (see `triage artifacts`)")
            self.extractors.setdefault(artifact.extractor, cls())
        self.load_failures = report.failures
        return artifacts

    def _check_zone(self) -> None:
        if self.options.source_tz:
            try:
                tzinfo(self.options.source_tz)
            except ValueError as exc:
                raise UsageError(f"--source-tz: {exc}") from None

    def _check_case_dir(self) -> None:
        case = os.path.abspath(self.options.case_dir)
        if os.path.exists(case) and not self.options.force:
            raise UsageError(f"case folder {self.options.case_dir} already exists "
                             "(use --force to replace it)")
        evidence = os.path.abspath(self.options.evidence)
        if case == evidence or case.startswith(evidence + os.sep):
            raise UsageError("the case folder must not be inside the evidence")

    def _work_dir(self) -> str:
        work = os.path.abspath(self.options.case_dir) + ".partial"
        if os.path.exists(work):
            shutil.rmtree(work)
        os.makedirs(work)
        # Until the case is published, this says so: a killed process leaves it "running",
        # an interrupted or failed one says why; `triage verify` reports either.
        write_marker(work, {"state": "running", "started": utc_now(),
                            "pid": os.getpid(), "command_line": self.options.command_line})
        return work

    def _system_info(self, evidence: Evidence) -> SystemInfo:
        """The first live volume with Windows hives names the host for the whole evidence."""
        assert self.store is not None
        for volume in evidence.processable():
            if volume.snapshot or evidence.kind == "file":
                continue
            try:
                info = read_system_info(volume.tree)
            except Exception as exc:
                self._error("system", f"system facts unreadable: {exc}", severity="warning",
                            evidence=evidence.name, volume=volume.id)
                continue
            for problem in info.problems:
                self._error("system", problem, severity="warning", evidence=evidence.name,
                            volume=volume.id)
            if info.found:
                info_volume = volume.id
                self.store.set_info("system_volume", info_volume)
                return info
        return SystemInfo()

    # -- the run ----------------------------------------------------------------------------
    def execute(self) -> RunSummary:
        started = utc_now()
        clock = time.monotonic()
        # before this run opens anything: what is frozen never goes, and a batch worker runs
        # one image after another in one process
        gc_policy.tune_for_extraction()
        self.times = times = StageTimes()
        with times.stage("definitions and rules"):
            artifacts = self._definitions()
            self.rules = load_rules(self.options.rule_dirs, builtin=self.options.builtin_rules) + \
                load_sigma_rules(self.options.sigma_dirs)
        self._check_zone()
        self._check_case_dir()
        with times.stage("open evidence"):
            evidence = open_evidence(self.options.evidence, self.options.sources)
        if evidence.kind == "file" and not any(
                next(find_files(v.tree, artifacts, by_name=True), None)
                for v in evidence.processable()):
            raise EvidenceError(f"{self.options.evidence}: no partition table or file system that "
                                "triage can read, and not a file that any artifact definition names")
        work = self._work_dir()
        try:
            summary = self._execute(work, evidence, artifacts, started, clock)
        except EvidenceError:
            self._abandon(work)
            raise
        except KeyboardInterrupt:
            self._abandon(work, keep="interrupted")
            raise
        except BaseException as exc:
            full = is_disk_full(exc)
            state = "disk full" if full else \
                "write failed" if isinstance(exc, CaseWriteError) else "failed"
            self._abandon(work, keep=state, reason=str(exc))
            if full and not isinstance(exc, CaseWriteError):
                raise CaseWriteError(f"writing the case failed: {exc}") from exc
            raise  # the .partial folder stays, visibly unfinished, for inspection
        return summary

    def _abandon(self, work: str, keep: str | None = None, reason: str | None = None) -> None:
        """Stop: remove the work folder, or (`keep` = why) leave it marked incomplete."""
        self.reporter.stop()
        if self.store is not None:
            try:
                self.store.close()
            except Exception:
                pass  # a store that cannot commit (disk full) keeps its last transaction
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
            return
        try:
            marker = read_marker(work) or {}
            write_marker(work, {**marker, "state": keep, "reason": reason,
                                "stopped": utc_now()})
        except OSError:
            pass  # no room even for that: the "running" marker stays, still incomplete

    def _execute(self, work: str, evidence: Evidence, artifacts: list[Artifact], started: str,
                 clock: float) -> RunSummary:
        opts, times = self.options, self.times
        self.reporter.start(opts.evidence)
        self.store = store = CaseStore(os.path.join(work, "case.sqlite"))
        self.extraction = extraction = Extraction(opts, self.extractors, self.definition_dirs,
                                                  store, self.reporter)
        summary = RunSummary(case_dir=opts.case_dir, evidence=opts.evidence)
        for name, reason in self.load_failures:
            self._error("plugins", f"extractor plugin {name} not loaded: {reason}", severity="warning")

        if opts.hash_evidence:
            from triage.evidence_hash import hash_evidence

            self.reporter.note("hashing the evidence media stream (--hash-evidence)")
            with times.stage("hash evidence media"):
                summary.evidence_hashes = hash_evidence(evidence)
            if summary.evidence_hashes.get("verification") == "MISMATCH":
                self._error("evidence", "computed hash does not match the hash stored in the E01")

        with times.stage("system facts"):
            system = self._system_info(evidence)
        users = system.users_by_sid()
        zone = resolve_zone(opts.source_tz, system.timezone_name, system.timezone_bias_minutes,
                            self.definition_dirs)
        store.set_info("local_time_zone", {"zone": zone, "from": "--source-tz" if opts.source_tz
                                           else ("system registry" if zone else None)})
        for volume in evidence.volumes:
            info = volume.describe()
            store.add_volume(evidence.name, info)
            summary.volumes.append(info)
            if volume.tree is None or volume.status != "processed":
                self.reporter.note(f"volume {volume.id}: {volume.status}")
                if volume.status.startswith("skipped: encrypted"):
                    self._error("volume", f"{volume.status}; {volume.note}", severity="warning",
                                evidence=evidence.name, volume=volume.id)
                elif volume.status.startswith("skipped: file system unreadable"):
                    self._error("volume", volume.status, evidence=evidence.name, volume=volume.id)
                continue
            if volume.note and volume.note.startswith("shadow copies present but unreadable"):
                self._error("volume", volume.note, severity="warning", evidence=evidence.name,
                            volume=volume.id)
            if volume.note and "truncated image" in volume.note:
                self._error("volume", volume.note, evidence=evidence.name, volume=volume.id)
                self.reporter.note(f"volume {volume.id}: {volume.note}")
            elif volume.note and volume.note.startswith("no usable partition table"):
                self._error("volume", volume.note, severity="warning", evidence=evidence.name,
                            volume=volume.id)
                self.reporter.note(f"volume {volume.id}: {volume.note}")
            self.reporter.volume(volume.id, ", ".join(
                str(x) for x in (volume.fs_type, volume.label, volume.snapshot) if x))
            try:
                with times.stage("collect"):
                    is_system = find_node(volume.tree, "/Windows", directory=True) is not None
                    scoped = for_volume(artifacts, is_system, volume.by_name)
                    matches = list(find_files(volume.tree, scoped, by_name=volume.by_name))
            except Exception as exc:
                self._error("collect", f"walking the file system failed: {exc}",
                            evidence=evidence.name, volume=volume.id)
                continue
            self.reporter.files_found(len(matches))
            if opts.workers > 1 and len(matches) > 1:
                from triage.parallel import extract_in_workers

                extract_in_workers(self, work, evidence, volume, matches, system.host, users, zone)
            else:
                extraction.process_all(matches, evidence, volume, system.host, users, zone)
            store.commit()

        self._report_damage(evidence)
        summary.snapshots_found = len(evidence.snapshots)
        summary.snapshots_processed = sum(1 for v in evidence.volumes if v.snapshot and v.tree)
        if summary.snapshots_found and not summary.snapshots_processed:
            self.reporter.note(f"{summary.snapshots_found} volume shadow snapshot(s) found and "
                               "skipped (use --vss all to process them)")

        with times.stage("timeline order and chain"):
            count, head = store.finalize()
        for key, value in {
            "tool_version": __version__, "case_id": opts.case_id, "examiner": opts.examiner,
            "evidence": evidence.name, "system": system.to_dict(), "started": started,
            "snapshots": [s.__dict__ for s in evidence.snapshots],
        }.items():
            store.set_info(key, value)
        store.close()
        with times.stage("analyses"):
            summary.entities = run_analyses(os.path.join(work, "case.sqlite"))
        with times.stage("rules"):
            detection = detect(os.path.join(work, "case.sqlite"), self.rules,
                               tzinfo(zone) if zone else None)
        summary.findings = detection.by_severity()
        summary.finding_lines = [f"[{f.rule.severity}] {f.rule.id} {f.rule.title}: {f.explanation}"
                                 for f in detection.findings]
        for rule, message in detection.rule_errors:
            extraction.warnings += 1
            extraction.error_lines.append(f"rule {rule.id} skipped: {message}")

        summary.events, summary.chain_head = count, head
        summary.files, summary.errors = extraction.files, extraction.errors
        summary.warnings = extraction.warnings
        summary.per_artifact = {a.name: extraction.counts.get(a.name, 0) for a in artifacts}
        summary.error_lines = extraction.error_lines
        summary.duration_s = time.monotonic() - clock
        with times.stage("outputs"):
            manifest = self._manifest(work, evidence, system, artifacts, summary, started)
            summary.manifest_sha256 = write_outputs(work, manifest)
        with times.stage("report"):
            summary.manifest_sha256 = self._report(work) or summary.manifest_sha256
        self._publish(work)
        summary.duration_s = time.monotonic() - clock  # the whole run (the manifest has its
        summary.timings = self._timings()               # own started / finished times)
        self.reporter.stop()
        return summary

    def _report_damage(self, evidence: Evidence) -> None:
        """Media ranges the container could not give (read as zeros): one error each."""
        damage = evidence.damage
        if damage is None or not damage.ranges:
            return
        assert self.store is not None
        for offset, length, reason in damage.ranges:
            self._error("image", f"media bytes {offset}-{offset + length - 1} ({length} bytes) "
                        f"could not be read ({reason}): read as zeros; files there may be "
                        "incomplete", evidence=evidence.name)
        if damage.dropped:
            self._error("image", f"{damage.dropped} more unreadable ranges not listed",
                        evidence=evidence.name)
        self.store.set_info("media_damage", {"ranges": damage.ranges, "bytes": damage.total,
                                             "more_ranges": damage.dropped})

    def _timings(self) -> dict[str, dict[str, float]]:
        """Run stages first, then extraction (read and hash, then one line per family)."""
        assert self.extraction is not None
        stages = self.times.to_dict()
        extraction = self.extraction.timings.to_dict()
        ordered = {k: v for k, v in stages.items() if k not in ("timeline order and chain",
                                                              "analyses", "rules", "outputs",
                                                              "report")}
        ordered.update(sorted(extraction.items(), key=lambda kv: (kv[0] != "read and hash", kv[0])))
        ordered.update({k: v for k, v in stages.items() if k not in ordered})
        return ordered

    def _report(self, work: str) -> str | None:
        """report.html in every case, hashed into the manifest; a failure costs the report only."""
        from triage.case_files import register_output
        from triage.report import build_report

        try:
            build_report(work, lang=self.options.report_lang)
            return register_output(work, "report.html")
        except Exception as exc:
            assert self.extraction is not None
            self.extraction.warnings += 1
            self.extraction.error_lines.append(f"report.html not written: {type(exc).__name__}: {exc}")
            return None

    def _publish(self, work: str) -> None:
        os.remove(os.path.join(work, INCOMPLETE_MARKER))
        case = os.path.abspath(self.options.case_dir)
        if os.path.exists(case):
            shutil.rmtree(case)  # --force was given (checked before any work)
        os.rename(work, case)

    def _manifest(self, work: str, evidence: Evidence, system: SystemInfo,
                  artifacts: Iterable[Artifact], summary: RunSummary, started: str) -> dict[str, Any]:
        opts = self.options
        segments = []
        for path in evidence.segments:
            try:
                segments.append({"path": path, "size": os.path.getsize(path)})
            except OSError:
                segments.append({"path": path, "size": None})
        return {
            "format": "triage-case/1",
            "tool": {"name": "triage", "version": __version__, "python": platform.python_version(),
                     "platform": platform.platform(), "libraries": library_versions()},
            "command_line": opts.command_line,
            "case_id": opts.case_id,
            "examiner": opts.examiner,
            "started": started,
            "finished": utc_now(),
            "evidence": {
                "path": os.path.abspath(opts.evidence), "name": evidence.name,
                "kind": evidence.kind, "containers": evidence.containers,
                "volume_system": evidence.volume_system, "segments": segments,
                "hashes": summary.evidence_hashes,
            },
            "volumes": summary.volumes,
            "snapshots": {"found": summary.snapshots_found, "processed": summary.snapshots_processed,
                          "stores": [s.__dict__ for s in evidence.snapshots]},
            "system": system.to_dict(),
            "local_time_zone": resolve_zone(opts.source_tz, system.timezone_name,
                                            system.timezone_bias_minutes, self.definition_dirs),
            "options": {"vss": opts.sources.vss, "only": opts.only,
                        "artifact_dirs": opts.artifact_dirs, "hash_evidence": opts.hash_evidence,
                        "max_file_size": opts.max_file_size, "file_timeout": opts.file_timeout,
                        "file_memory": opts.file_memory,
                        "extractor_options": opts.extractor_options,
                        "credentials_given": bool(opts.sources.recovery_password or
                                                  opts.sources.password or opts.sources.startup_key)},
            "artifacts": [a.name for a in artifacts],
            "counts": {"events": summary.events, "files": summary.files, "errors": summary.errors,
                       "warnings": summary.warnings, "per_artifact": summary.per_artifact,
                       "findings": summary.findings, "entities": summary.entities},
            "rules": {"builtin": opts.builtin_rules, "dirs": opts.rule_dirs,
                      "sigma_dirs": opts.sigma_dirs,
                      "ids": sorted(r.id for r in self.rules)},
            "timeline": {"order": "timestamp, then event_hash", "chain_seed": integrity.CHAIN_SEED,
                         "chain_head": summary.chain_head, "events": summary.events},
        }


def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {}
    for name in ("dfvfs", "pytsk3", "libscca-python", "libewf-python", "python-registry",
                 "click", "rich", "PyYAML"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def run(options: RunOptions, reporter: Reporter) -> RunSummary:
    return Run(options, reporter).execute()
