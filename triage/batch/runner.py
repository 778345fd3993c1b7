"""`triage batch`: many images, one engine run each, in parallel, into one lab folder.

Each image is one task: `run_image(task)` calls `triage.engine.run` exactly as `triage run`
would (same options, so the same events and chain head) and returns a plain dict. Locally the
tasks run in worker processes (`concurrent.futures.ProcessPoolExecutor`, spawn context), one
single-process pool per job slot, so that a worker that crashes, is killed or hangs past
`--image-timeout` is stopped and replaced without touching the images running beside it. The
same function is submitted to a Dask cluster by `triage.batch.dask_runner`.

Statuses: `ok`, `completed with errors` (the run's exit code 1), `evidence unreadable`,
`failed: <one line>` (any other failure: an exception, a worker that died, a timeout) and
`interrupted` (Ctrl-C). A case folder is only ever published whole by the engine (CASE.partial
is renamed at the end), so a killed or interrupted image never leaves a case that looks whole.
"""
from __future__ import annotations

import collections
import multiprocessing
import os
import queue as queue_module
import shutil
import signal
import socket
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable

from triage.batch.lab import CASES, COMPLETED, correlate, row_from_case, utc_now, write_index
from triage.batch.manifest import BatchItem, SECRET_OPTIONS, load_items, redact
from triage.engine import UsageError
from triage.progress import Reporter

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_NONE_READ, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
PROGRESS_INTERVAL = 0.25  # seconds between two progress messages of one worker
CANCEL_CHECK_INTERVAL = 1.0
STARTUP_ALLOWANCE = 60.0  # seconds a new worker may take to start before --image-timeout runs


# =========================================================================================
# worker side: one image
# =========================================================================================
_SINK: Callable[[dict[str, Any]], None] | None = None  # set in pool workers / dask tasks


class _Cancelled(BaseException):
    """The batch gave up on this image (Dask --image-timeout): stop at the next file."""


def _emit(message: dict[str, Any]) -> None:
    if _SINK is None:
        return
    try:
        _SINK(message)
    except Exception:
        pass  # progress is a display aid: never let it fail a run


class _TaskReporter(Reporter):
    """Sends a worker's progress to the batch (throttled), and honours a Dask cancel."""

    def __init__(self, index: int, sink: Callable[[dict[str, Any]], None] | None,
                 cancel_event: str | None = None):
        self.index, self.sink = index, sink
        self.files = self.total = self.events = 0
        self._last = 0.0
        self._cancel_event = cancel_event
        self._last_check = time.monotonic()

    def _send(self, kind: str, force: bool = False, **payload: Any) -> None:
        now = time.monotonic()
        if self.sink is None or (not force and now - self._last < PROGRESS_INTERVAL):
            return
        self._last = now
        try:
            self.sink({"index": self.index, "kind": kind, "files": self.files,
                       "total": self.total, "events": self.events, **payload})
        except Exception:
            pass

    def _check_cancel(self) -> None:
        if not self._cancel_event:
            return
        now = time.monotonic()
        if now - self._last_check < CANCEL_CHECK_INTERVAL:
            return
        self._last_check = now
        try:
            from distributed import Event

            cancelled = Event(self._cancel_event).is_set()
        except Exception:
            return
        if cancelled:
            raise _Cancelled("stopped by the batch (--image-timeout)")

    def volume(self, volume_id: str, description: str) -> None:
        self._check_cancel()
        self._send("volume", force=True, volume=volume_id, description=description)

    def files_found(self, count: int) -> None:
        self.total += count
        self._send("files", force=True)

    def file_done(self, path: str, events: int) -> None:
        self.files += 1
        self.events += events
        self._check_cancel()
        self._send("file")

    def note(self, text: str) -> None:
        self._send("note", force=True, text=text)


def one_line(text: Any, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def build_run_options(task: dict[str, Any]) -> Any:
    """The RunOptions `triage run` would build for this item (keep in step with cli.run_command)."""
    from triage.engine import RunOptions
    from triage.sources import SourceOptions

    o = task.get("options") or {}
    return RunOptions(
        evidence=task["evidence"], case_dir=task["case_dir"], force=bool(task.get("force")),
        sources=SourceOptions(vss=o.get("vss", "none"), recovery_password=o.get("recovery_password"),
                              password=o.get("password"), startup_key=o.get("startup_key")),
        artifact_dirs=list(o.get("artifacts") or []), only=list(o.get("only") or []),
        examiner=task.get("examiner"), case_id=task.get("case_id"),
        hash_evidence=bool(o.get("hash_evidence")),
        max_file_size=int(o.get("max_file_size", 2 * 1024**3)),
        file_timeout=float(o.get("file_timeout", 300.0)),
        file_memory=int(o.get("file_memory", 2048)) * 1024**2,
        command_line=list(task.get("command_line") or []),
        extractor_options={"evtx_all": bool(o.get("evtx_all")),
                           "webcache_content": bool(o.get("webcache_content")),
                           "mail_body_preview": int(o.get("mail_body_preview") or 0),
                           "onedrive_odl_all": bool(o.get("onedrive_odl_all")),
                           "internal_domains": [d.lower().lstrip("@")
                                                for d in o.get("internal_domain") or []]},
        source_tz=o.get("source_tz"), rule_dirs=list(o.get("rules") or []),
        builtin_rules=not o.get("no_builtin_rules"), sigma_dirs=list(o.get("sigma") or []))


def _peak_rss_kib() -> int | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak // 1024) if sys.platform == "darwin" else int(peak)


def _dask_sink(topic: str) -> Callable[[dict[str, Any]], None] | None:
    try:
        from distributed import get_worker

        worker = get_worker()
    except Exception:
        return None
    return lambda message: worker.log_event(topic, message)


def run_image(task: dict[str, Any]) -> dict[str, Any]:
    """Run the engine on one image; never raises for a failed image: the status says it."""
    from triage.artifacts import DefinitionError
    from triage.detection.rules import RuleError
    from triage.engine import run
    from triage.sources import EvidenceError

    sink = _SINK
    if task.get("dask_topic"):
        sink = _dask_sink(task["dask_topic"]) or sink
    index = task["index"]
    started, clock, cpu = utc_now(), time.monotonic(), time.process_time()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    if sink is not None:
        try:
            sink({"index": index, "kind": "started", "worker": worker, "time": started})
        except Exception:
            sink = None
    result: dict[str, Any] = {"index": index, "started": started, "worker": worker,
                              "error": None, "summary": None}
    reporter = _TaskReporter(index, sink, task.get("cancel_event"))
    try:
        summary = run(build_run_options(task), reporter)
        result["exit_code"] = summary.exit_code
        result["status"] = "ok" if summary.exit_code == 0 else "completed with errors"
        result["summary"] = {
            "events": summary.events, "errors": summary.errors, "warnings": summary.warnings,
            "findings": dict(summary.findings), "chain_head": summary.chain_head,
            "manifest_sha256": summary.manifest_sha256,
            "evidence_hashes": summary.evidence_hashes, "files": summary.files,
            "error_lines": summary.error_lines[:5]}
        if summary.error_lines:
            result["error"] = one_line(summary.error_lines[0])
    except EvidenceError as exc:
        result.update(status="evidence unreadable", exit_code=3, error=one_line(exc))
    except (UsageError, DefinitionError, RuleError) as exc:
        result.update(status=f"failed: {one_line(exc)}", exit_code=2, error=one_line(exc, 2000))
    except _Cancelled as exc:
        result.update(status=f"failed: {one_line(exc)}", exit_code=None, error=one_line(exc))
    except Exception as exc:  # a bug in an extractor or the engine: this image only
        text = f"{type(exc).__name__}: {exc}"
        result.update(status=f"failed: {one_line(text)}", exit_code=5, error=one_line(text, 2000))
    result["finished"] = utc_now()
    result["duration_s"] = round(time.monotonic() - clock, 3)
    result["cpu_s"] = round(time.process_time() - cpu, 3)
    result["peak_rss_kib"] = _peak_rss_kib()
    return result


def equivalent_command(item: BatchItem, case_dir: str) -> list[str]:
    """The `triage run` command line this item stands for (secrets blanked): for the manifest."""
    argv = ["triage", "run", item.path, "-o", case_dir]
    if item.case_id or item.folder:
        argv += ["--case", item.case_id or item.folder]
    if item.examiner:
        argv += ["--examiner", item.examiner]
    for key, value in sorted(item.options.items()):
        flag = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            if value:
                argv.append(flag)
        elif isinstance(value, list):
            for v in value:
                argv += [flag, str(v)]
        else:
            argv += [flag, "***" if key in SECRET_OPTIONS else str(value)]
    return argv


# =========================================================================================
# local parallel runs
# =========================================================================================
def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _init_worker(progress_queue: Any) -> None:
    """Pool worker start: Ctrl-C is the batch's to handle; progress goes to the queue."""
    global _SINK
    _ignore_sigint()
    if progress_queue is not None:
        _SINK = progress_queue.put
    warm_up()


def warm_up() -> None:
    """Import what every run needs once per worker, so no image pays for it (best effort)."""
    try:
        import triage.engine  # noqa: F401
        import triage.sources.image  # noqa: F401
        from triage.artifacts import load_definitions
        from triage.detection import load_rules
        from triage.extractors import load_extractors

        load_definitions([])
        load_extractors()
        load_rules([])
        import dfvfs.resolver_helpers  # noqa: F401  (their format definitions load on import)
    except Exception:
        return  # the run itself will report what is wrong
    import tempfile

    try:  # one look at a blank disk loads dfvfs' signature scanners
        from triage.sources import open_evidence

        with tempfile.TemporaryDirectory(prefix="triage-warm-") as folder:
            blank = os.path.join(folder, "blank.raw")
            with open(blank, "wb") as handle:
                handle.truncate(1024 * 1024)
            open_evidence(blank)
    except Exception:
        pass


def default_start_method() -> str:
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class _Slot:
    """One job slot: a single-process pool, replaced when its worker dies or must be stopped."""

    def __init__(self, ctx: Any, progress_queue: Any):
        self.executor = ProcessPoolExecutor(max_workers=1, mp_context=ctx,
                                            initializer=_init_worker, initargs=(progress_queue,))
        self.pid_future = self.executor.submit(os.getpid)
        self.process: Any = None
        self.task: dict[str, Any] | None = None
        self.future: Future | None = None
        self.deadline: float | None = None

    @property
    def pid(self) -> int | None:
        if self.pid_future.done() and not self.pid_future.cancelled() \
                and self.pid_future.exception() is None:
            return self.pid_future.result()
        return None

    def remember_process(self) -> None:
        """Keep the worker's Process object while it lives: its exit code explains a death."""
        if self.process is None and self.pid is not None:
            self.process = next((p for p in multiprocessing.active_children()
                                 if p.pid == self.pid), None)

    def assign(self, task: dict[str, Any], run: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.task, self.deadline = task, None
        self.future = self.executor.submit(run, task)

    def death(self) -> str:
        code = None
        if self.process is not None:
            self.process.join(2)
            code = self.process.exitcode
        if code is None:
            return "worker process died"
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"worker process died (killed by {name})"
        return f"worker process died (exit code {code})"

    def stop(self, kill: bool = True) -> None:
        pid = self.pid
        if kill and pid is not None:
            for sig in (signal.SIGTERM, getattr(signal, "SIGKILL", signal.SIGTERM)):
                try:
                    os.kill(pid, sig)
                except (ProcessLookupError, PermissionError, OSError):
                    break
                if self.process is None:
                    break
                self.process.join(2)
                if self.process.exitcode is not None:
                    break
        self.executor.shutdown(wait=not kill, cancel_futures=True)


def run_local(tasks: list[dict[str, Any]], jobs: int, image_timeout: float | None,
              on_started: Callable[[int, dict[str, Any]], None],
              on_progress: Callable[[int, dict[str, Any]], None],
              on_finished: Callable[[int, dict[str, Any]], None],
              run: Callable[[dict[str, Any]], dict[str, Any]] = run_image,
              start_method: str | None = None) -> None:
    """Run tasks in `jobs` worker processes; report each image's result through on_finished.

    Workers are started by a forkserver that has imported triage once (where the platform has
    one; spawn elsewhere), so a replaced worker starts in milliseconds, not seconds.
    `run` must be a module-level function (it is pickled by reference); tests pass a wrapper.
    """
    if not tasks:
        return
    ctx = multiprocessing.get_context(start_method or default_start_method())
    if ctx.get_start_method() == "forkserver":
        ctx.set_forkserver_preload(["triage.batch._preload"])
    from multiprocessing.managers import SyncManager

    manager = SyncManager(ctx=ctx)
    manager.start(_ignore_sigint)
    progress_queue = manager.Queue()
    pending = collections.deque(tasks)
    slots: list[_Slot | None] = [_Slot(ctx, progress_queue) for _ in range(min(jobs, len(tasks)))]
    started: set[int] = set()
    finished: set[int] = set()

    def drain() -> None:
        while True:
            try:
                message = progress_queue.get_nowait()
            except (queue_module.Empty, EOFError, OSError, BrokenPipeError):
                return
            index = message.get("index")
            if index in finished:
                continue
            if message.get("kind") == "started":
                started.add(index)
                for slot in slots:
                    if slot is not None and slot.task is not None and slot.task["index"] == index \
                            and image_timeout:
                        slot.deadline = time.monotonic() + image_timeout
                on_started(index, message)
            else:
                on_progress(index, message)

    def finish(index: int, result: dict[str, Any]) -> None:
        finished.add(index)
        on_finished(index, result)

    def failure(task: dict[str, Any], text: str) -> dict[str, Any]:
        return {"index": task["index"], "status": f"failed: {one_line(text)}", "exit_code": None,
                "error": one_line(text, 2000), "started": None, "finished": utc_now(),
                "summary": None}

    stopped = False
    try:
        while pending or any(s is not None and s.task is not None for s in slots):
            for i, slot in enumerate(slots):
                if slot is None and pending:
                    slot = slots[i] = _Slot(ctx, progress_queue)
                if slot is not None and slot.task is None and pending:
                    slot.assign(pending.popleft(), run)
                    if image_timeout:  # until the worker says it started (allowing its start)
                        slot.deadline = time.monotonic() + image_timeout + STARTUP_ALLOWANCE
            futures = [s.future for s in slots if s is not None and s.task is not None and s.future]
            wait(futures, timeout=0.1, return_when=FIRST_COMPLETED)
            for slot in slots:
                if slot is not None:
                    slot.remember_process()
            drain()
            now = time.monotonic()
            for i, slot in enumerate(slots):
                if slot is None or slot.task is None or slot.future is None:
                    continue
                task = slot.task
                if slot.future.done():
                    exc = slot.future.exception()
                    if exc is None:
                        drain()
                        finish(task["index"], slot.future.result())
                        slot.task = None
                        continue
                    if isinstance(exc, BrokenProcessPool):
                        text = slot.death() if task["index"] in started or slot.pid is not None \
                            else "worker process could not start"
                    else:
                        text = f"{type(exc).__name__}: {exc}"
                    finish(task["index"], failure(task, text))
                    slot.stop(kill=True)
                    slots[i] = None
                elif slot.deadline is not None and now > slot.deadline:
                    slot.stop(kill=True)
                    finish(task["index"], failure(
                        task, f"timed out after {image_timeout:g} s (--image-timeout); "
                        "the worker was stopped"))
                    slots[i] = None
        stopped = True
    finally:
        for slot in slots:
            if slot is not None:
                slot.stop(kill=not stopped)
        try:
            manager.shutdown()
        except Exception:
            pass


# =========================================================================================
# the batch
# =========================================================================================
@dataclass
class BatchOptions:
    source: str                       # manifest (.csv/.yaml) or folder of images
    lab_dir: str
    jobs: int = 1
    image_timeout: float | None = None
    resume: bool = False
    force: bool = False
    scheduler: str | None = None      # tcp://host:port of a Dask scheduler
    examiner: str | None = None       # default for items that name none
    custodian: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # default run options (canonical)
    command_line: list[str] = field(default_factory=lambda: list(sys.argv))


@dataclass
class BatchResult:
    lab_dir: str
    rows: list[dict[str, Any]]
    findings: list[Any] = field(default_factory=list)
    duration_s: float = 0.0
    interrupted: bool = False
    problems: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counter: collections.Counter[str] = collections.Counter()
        for row in self.rows:
            status = row["status"] or "pending"
            counter["failed" if status.startswith("failed") else status] += 1
        counter["resumed"] = sum(1 for r in self.rows if r.get("resumed"))
        return dict(counter)

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        if not any(r["status"] in COMPLETED for r in self.rows):
            return EXIT_NONE_READ
        if any(r["status"] != "ok" for r in self.rows):
            return EXIT_SOME_FAILED
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {"lab": self.lab_dir, "images": self.rows, "counts": self.counts(),
                "lab_findings": [f.to_dict() for f in self.findings],
                "problems": self.problems, "duration_s": round(self.duration_s, 3),
                "interrupted": self.interrupted, "exit_code": self.exit_code}


class BatchInterrupted(Exception):
    """Ctrl-C: the index is written (unfinished images say `interrupted`)."""

    def __init__(self, result: BatchResult):
        super().__init__("interrupted")
        self.result = result


class BatchListener:
    """What the display hears (all no-ops here: --quiet)."""

    def begin(self, rows: list[dict[str, Any]], jobs: int, where: str) -> None: ...

    def started(self, row: dict[str, Any], message: dict[str, Any]) -> None: ...

    def progress(self, row: dict[str, Any], message: dict[str, Any]) -> None: ...

    def finished(self, row: dict[str, Any]) -> None: ...

    def end(self, result: BatchResult) -> None: ...


class _LabLock:
    """One batch at a time per lab folder (a second one would interleave the index)."""

    def __init__(self, lab_dir: str):
        self.path = os.path.join(lab_dir, ".batch.lock")

    def __enter__(self) -> "_LabLock":
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
            except FileExistsError:
                try:
                    with open(self.path, encoding="ascii") as handle:
                        pid = int(handle.read().strip() or 0)
                except (OSError, ValueError):
                    pid = 0
                if pid and pid != os.getpid() and _alive(pid):
                    raise UsageError(f"another batch (process {pid}) is writing to this lab "
                                     f"folder ({self.path} exists)") from None
                os.remove(self.path)  # left by a batch that is gone
                continue
            with os.fdopen(fd, "w", encoding="ascii") as handle:
                handle.write(str(os.getpid()))
            return self
        raise UsageError(f"cannot lock the lab folder ({self.path})")

    def __exit__(self, *exc: Any) -> None:
        try:
            os.remove(self.path)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def check_definitions(items: list[BatchItem]) -> None:
    """Artifact definitions, --only names and rules of every item, checked before any image is
    opened: a mistake there would fail every image the same way; it is a usage error instead."""
    from triage.artifacts import DefinitionError, load_definitions, select
    from triage.detection import load_rules
    from triage.detection.rules import RuleError
    from triage.detection.sigma import load_sigma_rules

    seen: set[tuple[Any, ...]] = set()
    for item in items:
        o = item.options
        key = (tuple(o.get("artifacts") or ()), tuple(o.get("only") or ()),
               tuple(o.get("rules") or ()), tuple(o.get("sigma") or ()),
               bool(o.get("no_builtin_rules")))
        if key in seen:
            continue
        seen.add(key)
        try:
            select(load_definitions(key[0]), key[1])
            load_rules(key[2], builtin=not key[4])
            load_sigma_rules(key[3])
        except (DefinitionError, RuleError) as exc:
            raise UsageError(f"{item.origin}: {exc}") from None


def _differs(manifest: dict[str, Any], item: BatchItem) -> str | None:
    """Why an existing, intact case is not the one this item asks for (None: it is)."""
    evidence = (manifest.get("evidence") or {}).get("path")
    if os.path.abspath(evidence or "") != item.path:
        return "was made from other evidence"
    made = manifest.get("options") or {}
    o = item.options

    def names(only: Any) -> list[str]:
        return sorted({w.strip().lower() for x in only or [] for w in str(x).split(",") if w.strip()})

    asked = {"vss": o.get("vss", "none"), "only": names(o.get("only")),
             "hash_evidence": bool(o.get("hash_evidence")),
             "evtx_all": bool(o.get("evtx_all"))}
    found = {"vss": made.get("vss", "none"), "only": names(made.get("only")),
             "hash_evidence": bool(made.get("hash_evidence")),
             "evtx_all": bool((made.get("extractor_options") or {}).get("evtx_all"))}
    changed = [k for k in asked if asked[k] != found[k]]
    return f"was made with other options ({', '.join(changed)})" if changed else None


def _plan(items: list[BatchItem], opts: BatchOptions, lab: str,
          problems: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from triage.manifest import read_manifest
    from triage.verify import verify_case

    rows, tasks, conflicts = [], [], []
    for seq, item in enumerate(items, 1):
        case_dir = os.path.join(lab, CASES, item.folder)
        row: dict[str, Any] = {
            "seq": seq, "path": item.path, "case_id": item.folder, "examiner": item.examiner,
            "custodian": item.custodian, "status": "pending", "case_folder": f"{CASES}/{item.folder}",
            "options": redact(item.options), "origin": item.origin, "resumed": False}
        rows.append(row)
        force = opts.force
        if opts.resume:
            if os.path.isdir(case_dir + ".partial"):
                shutil.rmtree(case_dir + ".partial")  # an interrupted run: never reused
            if os.path.isdir(case_dir):
                check = verify_case(case_dir)
                why = "does not verify"
                if check.ok:
                    try:
                        why = _differs(read_manifest(case_dir), item)
                    except (OSError, ValueError):
                        why = "has an unreadable manifest"
                if not why:
                    row.update(row_from_case(case_dir))
                    row["resumed"] = True
                    continue
                problems.append(f"{row['case_folder']}: existing case {why}: run again")
                force = True
        elif os.path.exists(case_dir) and not force:
            conflicts.append(row["case_folder"])
        tasks.append({
            "index": seq, "evidence": item.path, "case_dir": case_dir,
            "case_id": item.case_id or item.folder, "examiner": item.examiner,
            "custodian": item.custodian, "options": dict(item.options), "force": force,
            "command_line": equivalent_command(item, case_dir)})
    if conflicts:
        shown = ", ".join(conflicts[:5]) + (f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else "")
        raise UsageError(f"case folder(s) already exist in {lab}: {shown} (use --resume to keep "
                         "verified cases and redo the others, or --force to redo them all)")
    return rows, tasks


def run_batch(opts: BatchOptions, listener: BatchListener | None = None,
              run: Callable[[dict[str, Any]], dict[str, Any]] = run_image) -> BatchResult:
    """Plan, run (locally or on Dask), index and correlate one batch."""
    listener = listener or BatchListener()
    if opts.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    if opts.image_timeout is not None and opts.image_timeout <= 0:
        raise UsageError("--image-timeout must be more than 0 seconds")
    if opts.resume and opts.force:
        raise UsageError("--resume and --force contradict each other: give one")
    lab = os.path.abspath(opts.lab_dir)
    if os.path.exists(lab) and not os.path.isdir(lab):
        raise UsageError(f"{opts.lab_dir} exists and is not a folder")
    items = load_items(opts.source, lab)
    for item in items:
        item.options = {**opts.options, **item.options}
        item.examiner = item.examiner or opts.examiner
        item.custodian = item.custodian or opts.custodian
    check_definitions(items)
    if opts.scheduler:
        from triage.batch.dask_runner import connect  # fails early, before any work

        client = connect(opts.scheduler)
    else:
        client = None
    os.makedirs(os.path.join(lab, CASES), exist_ok=True)
    clock = time.monotonic()
    info = {"tool": "triage batch", "started": utc_now(), "source": os.path.abspath(opts.source),
            "command_line": opts.command_line, "jobs": opts.jobs, "scheduler": opts.scheduler,
            "image_timeout": opts.image_timeout, "resume": opts.resume, "force": opts.force}
    try:
        from triage import __version__

        info["tool_version"] = __version__
        with _LabLock(lab):
            problems: list[str] = []
            rows, tasks = _plan(items, opts, lab, problems)
            if client is not None and tasks:
                from triage.batch.dask_runner import check_workers

                check_workers(client, tasks, os.path.join(lab, CASES))
            by_index = {row["seq"]: row for row in rows}
            result = BatchResult(lab_dir=lab, rows=rows, problems=problems)
            write_index(lab, rows, info=info)
            listener.begin(rows, opts.jobs, opts.scheduler or "local")

            clocks: dict[int, float] = {}

            def on_started(index: int, message: dict[str, Any]) -> None:
                row = by_index[index]
                if row["status"] == "pending":
                    row["status"] = "running"
                    row["worker"] = message.get("worker")
                    row["started"] = message.get("time") or utc_now()
                    clocks[index] = time.monotonic()
                    listener.started(row, message)

            def on_progress(index: int, message: dict[str, Any]) -> None:
                listener.progress(by_index[index], message)

            def on_finished(index: int, outcome: dict[str, Any]) -> None:
                row = by_index[index]
                if outcome.get("duration_s") is None and index in clocks:
                    outcome = dict(outcome, duration_s=round(time.monotonic() - clocks[index], 3))
                _apply(row, outcome)
                write_index(lab, rows, info=info)
                listener.finished(row)

            try:
                if client is not None:
                    from triage.batch.dask_runner import run_dask

                    run_dask(client, tasks, opts.image_timeout, on_started, on_progress,
                             on_finished, run=run)
                else:
                    run_local(tasks, opts.jobs, opts.image_timeout, on_started, on_progress,
                              on_finished, run=run)
            except KeyboardInterrupt:
                for row in rows:
                    if row["status"] in ("pending", "running"):
                        row["status"] = "interrupted"
                        row["error"] = "the batch was interrupted before this image finished"
                result.interrupted = True
                result.duration_s = time.monotonic() - clock
                info["finished"] = utc_now()
                write_index(lab, rows, info=info)
                listener.end(result)
                raise BatchInterrupted(result) from None
            except BaseException:
                listener.end(result)  # leave the terminal clean for the error message
                raise

            completed = [(r["case_id"], os.path.join(lab, r["case_folder"]))
                         for r in rows if r["status"] in COMPLETED]
            result.findings = correlate(completed, problems=problems)
            result.duration_s = time.monotonic() - clock
            info["finished"] = utc_now()
            info["counts"] = result.counts()
            info["duration_s"] = round(result.duration_s, 3)
            write_index(lab, rows, result.findings, info)
            listener.end(result)
            return result
    finally:
        if client is not None:
            client.close()


def _apply(row: dict[str, Any], outcome: dict[str, Any]) -> None:
    row["status"] = outcome.get("status") or "failed: no status"
    row["exit_code"] = outcome.get("exit_code")
    row["error"] = outcome.get("error")
    for key in ("started", "finished", "duration_s", "cpu_s", "peak_rss_kib"):
        if outcome.get(key) is not None or key not in row:
            row[key] = outcome.get(key)
    if outcome.get("worker"):
        row["worker"] = outcome["worker"]
    summary = outcome.get("summary") or {}
    for key in ("events", "errors", "warnings", "findings", "chain_head", "manifest_sha256",
                "evidence_hashes"):
        row[key] = summary.get(key)
