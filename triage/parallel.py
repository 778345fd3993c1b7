"""`--workers N`: extraction of one image across worker processes, same output as one process.

Why this shape: dfVFS handles (and libyal objects) cannot cross processes, so each worker
re-opens the evidence itself (once per process, with its own resolver context) and finds its
files again by path. The matched files are cut into contiguous chunks of about equal weight
(bytes plus a fixed cost per file); each chunk is extracted
into a private SQLite file with the same schema as the case store; the main process merges
the chunks in chunk order. Events are ordered by (time, event hash) at finalisation anyway, and
sources and errors are merged in match order, so the case is the same as a one-process run:
same events, same chain head, same rows.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from triage import gc_policy
from triage.collect import Match, find_again
from triage.extraction import Extraction
from triage.progress import Reporter
from triage.sources import Evidence, SourceOptions, Volume, open_evidence
from triage.store import CaseStore

CHUNKS_PER_WORKER = 4


@dataclass
class ChunkJob:
    number: int
    work_dir: str
    evidence_path: str
    source_options: SourceOptions
    volume_id: str
    # (artifact name, file path in the volume, the file's locator where it has one)
    tasks: list[tuple[str, str, Any]]
    run_options: Any
    definition_dirs: list[str]
    host: str | None
    users: dict[str, str]
    zone: str | None


@dataclass
class ChunkResult:
    number: int
    db_path: str
    counts: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    warnings: int = 0
    files: int = 0
    error_lines: list[str] = field(default_factory=list)
    timings: dict[str, dict[str, float]] = field(default_factory=dict)


_EVIDENCE: dict[tuple[str, str], Evidence] = {}  # per worker process


def _volume(job: ChunkJob) -> Volume:
    key = (job.evidence_path, repr(job.source_options))
    if key not in _EVIDENCE:
        _EVIDENCE[key] = open_evidence(job.evidence_path, job.source_options)
    for volume in _EVIDENCE[key].volumes:
        if volume.id == job.volume_id:
            return volume
    raise RuntimeError(f"volume {job.volume_id} not found again in {job.evidence_path}")


def extract_chunk(job: ChunkJob) -> ChunkResult:
    """Worker side: extract one chunk of files into its own store."""
    from triage.artifacts import load_definitions
    from triage.extractors import load_extractors

    gc_policy.tune_for_extraction()  # as the main process does: once, before evidence opens
    volume = _volume(job)
    evidence = _EVIDENCE[(job.evidence_path, repr(job.source_options))]
    artifacts = {a.name: a for a in load_definitions(job.run_options.artifact_dirs)}
    classes = load_extractors().extractors
    extractors = {a.extractor: classes[a.extractor]() for a in artifacts.values()
                  if a.extractor in classes}
    db_path = os.path.join(job.work_dir, f"chunk-{job.number:05d}.sqlite")
    store = CaseStore(db_path, stage_apart=False)  # merged into the case, then deleted
    extraction = Extraction(job.run_options, extractors, job.definition_dirs, store, Reporter())
    matches = []
    for artifact_name, path, locator in job.tasks:
        found = find_again(volume.tree, path, locator) if volume.tree is not None else None
        if found is None:
            extraction.error("collect", "file found by the collector is gone in the worker",
                             artifact=artifact_name, evidence=evidence.name, volume=volume.id,
                             path=path)
            continue
        matches.append(Match(artifacts[artifact_name], found))
    extraction.process_all(matches, evidence, volume, job.host, job.users, job.zone)
    store.flush()
    store.close()
    return ChunkResult(job.number, db_path, dict(extraction.counts), extraction.errors,
                       extraction.warnings, extraction.files, extraction.error_lines,
                       extraction.timings.to_dict())


FILE_WEIGHT = 256 * 1024  # a file's fixed cost (open, hash, parse set-up), in bytes


def _chunks(matches: list[Match], workers: int) -> list[list[Match]]:
    """Contiguous runs of the matches (merge order stays match order), cut by weight (size
    plus a fixed cost per file) rather than by count: a gigabyte journal or event log gets a
    chunk of its own instead of dragging a thousand small files with it, so the workers
    finish together."""
    if not matches:
        return []
    count = max(1, min(len(matches), workers * CHUNKS_PER_WORKER))
    weights = [max(getattr(m.file, "size", 0) or 0, 0) + FILE_WEIGHT for m in matches]
    target = sum(weights) / count
    chunks: list[list[Match]] = [[] for _ in range(count)]
    done = 0.0
    for match, weight in zip(matches, weights):
        # the chunk where the file's middle falls on the line of all weights laid end to end
        chunks[min(count - 1, int((done + weight / 2) / target))].append(match)
        done += weight
    return [chunk for chunk in chunks if chunk]


def _locator(match: Match) -> Any:
    locator = getattr(match.file, "locator", None)
    return locator() if callable(locator) else None


def extract_in_workers(run: Any, work: str, evidence: Evidence, volume: Volume,
                       matches: list[Match], host: str | None, users: dict[str, str],
                       zone: str | None) -> None:
    """Main side: farm the chunks out, then merge them into the case store in order."""
    options = run.options
    jobs = [ChunkJob(number, work, os.path.abspath(options.evidence), options.sources, volume.id,
                     [(m.artifact.name, m.file.path, _locator(m)) for m in chunk], options,
                     run.definition_dirs, host, users, zone)
            for number, chunk in enumerate(_chunks(matches, options.workers))]
    extraction: Extraction = run.extraction
    context = multiprocessing.get_context("spawn")  # no inherited file offsets or libyal state
    with ProcessPoolExecutor(max_workers=options.workers, mp_context=context) as pool:
        for result in pool.map(extract_chunk, jobs):
            run.store.merge(result.db_path)
            os.remove(result.db_path)
            extraction.counts.update(result.counts)
            extraction.errors += result.errors
            extraction.warnings += result.warnings
            extraction.files += result.files
            extraction.error_lines.extend(result.error_lines)
            extraction.timings.merge(result.timings)
            for _ in range(result.files):
                run.reporter.file_done("", 0)
