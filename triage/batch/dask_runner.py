"""`triage batch --scheduler tcp://HOST:PORT`: the same per-image tasks on a Dask cluster.

Each image is `client.submit(run_image, task)`: the function a local batch runs in its worker
processes, so a case made on the cluster has the same events and chain head as one made
locally. Requirements (checked on every connected worker before anything is submitted):
the same triage version as the client, read access to every evidence path (the same absolute
path on every machine) and write access to LAB_DIR/cases, where the workers write the case
folders.

Progress travels as Dask events (`Worker.log_event` -> `Client.subscribe_topic`). A run that
passes `--image-timeout`, or a Ctrl-C, sets a `distributed.Event` that the run checks between
artifact files: it stops there, keeping only its CASE.partial folder. (A Dask worker runs tasks
in threads, where triage's per-file `--file-timeout` alarm cannot be armed; a run stuck inside
one file keeps its worker thread until it returns.)

Dask is optional (the `cluster` extra): it is imported here only, and only when asked for.
"""
from __future__ import annotations

import collections
import os
import time
import uuid
from typing import Any, Callable

from triage.engine import UsageError

INSTALL_HINT = ("install the cluster extra on this machine and on every worker: "
                "pip install 'triage[cluster]' (that is dask[distributed])")


def _distributed() -> Any:
    try:
        import distributed
    except ImportError:
        raise UsageError(f"--scheduler needs Dask, which is not installed: {INSTALL_HINT}") from None
    return distributed


def connect(address: str, timeout: float = 15.0, wait_workers: float = 30.0) -> Any:
    """A Client of the scheduler at `address`, once at least one worker is there."""
    distributed = _distributed()
    try:
        client = distributed.Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # OSError on timeout, ValueError on a malformed address ...
        raise UsageError(f"--scheduler: cannot reach the Dask scheduler at {address}: "
                         f"{' '.join(str(exc).split()) or type(exc).__name__}") from None
    try:
        client.wait_for_workers(1, timeout=wait_workers)
    except Exception:
        client.close()
        raise UsageError(f"--scheduler: no Dask worker joined {address} within {wait_workers:g} s "
                         "(start some with `dask worker " + address + "`)") from None
    return client


def check_worker(evidence: list[str], cases_dir: str) -> dict[str, Any]:
    """Runs on every worker: its triage version, the evidence it cannot read, LAB_DIR access."""
    import triage
    from triage.batch.runner import warm_up

    warm_up()  # once per worker, so that no image pays for the imports
    missing = [p for p in evidence if not os.access(p, os.R_OK)]
    writable = os.path.isdir(cases_dir) and os.access(cases_dir, os.W_OK | os.X_OK)
    return {"version": triage.__version__, "unreadable": missing, "lab_writable": writable}


def check_workers(client: Any, tasks: list[dict[str, Any]], cases_dir: str) -> None:
    import triage

    # evidence the client cannot read either is not a worker's problem: it is that image's
    # ("evidence unreadable"), as in a local run
    evidence = sorted({t["evidence"] for t in tasks if os.access(t["evidence"], os.R_OK)})
    try:
        reports = client.run(check_worker, evidence, cases_dir)
    except Exception as exc:
        raise UsageError(f"--scheduler: the workers cannot run triage ({type(exc).__name__}: "
                         f"{exc}); {INSTALL_HINT}") from None
    problems = []
    for worker, report in sorted(reports.items()):
        if report["version"] != triage.__version__:
            problems.append(f"{worker} runs triage {report['version']}, this machine "
                            f"{triage.__version__}")
        if report["unreadable"]:
            shown = ", ".join(report["unreadable"][:3])
            more = len(report["unreadable"]) - 3
            problems.append(f"{worker} cannot read {shown}" + (f" and {more} more" if more > 0 else ""))
        if not report["lab_writable"]:
            problems.append(f"{worker} cannot write to {cases_dir}")
    if problems:
        raise UsageError("--scheduler: " + "; ".join(problems) + " (every worker needs the same "
                         "triage installation, the evidence at the same paths, and LAB_DIR)")


def run_dask(client: Any, tasks: list[dict[str, Any]], image_timeout: float | None,
             on_started: Callable[[int, dict[str, Any]], None],
             on_progress: Callable[[int, dict[str, Any]], None],
             on_finished: Callable[[int, dict[str, Any]], None],
             run: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
    """Submit one task per image to the cluster and report each result as it comes
    (`check_workers` first: run_batch does)."""
    distributed = _distributed()
    from triage.batch.runner import one_line, run_image, utc_now

    run = run or run_image
    if not tasks:
        return
    token = uuid.uuid4().hex[:12]
    topic = f"triage-batch-{token}"
    inbox: collections.deque[Any] = collections.deque()
    client.subscribe_topic(topic, inbox.append)
    futures: dict[Any, dict[str, Any]] = {}
    events: dict[int, str] = {}
    for task in tasks:
        task = dict(task, dask_topic=topic, cancel_event=f"{topic}-stop-{task['index']}")
        events[task["index"]] = task["cancel_event"]
        future = client.submit(run, task, key=f"triage-image-{task['index']}-{token}",
                               pure=False, retries=0)
        futures[future] = task
    remaining = set(futures)
    deadlines: dict[int, float] = {}
    finished: set[int] = set()

    def drain() -> None:
        while inbox:
            event = inbox.popleft()
            message = event[1] if isinstance(event, tuple) and len(event) == 2 else event
            if not isinstance(message, dict):
                continue
            index = message.get("index")
            if index in finished:
                continue
            if message.get("kind") == "started":
                if image_timeout:
                    deadlines[index] = time.monotonic() + image_timeout
                on_started(index, message)
            else:
                on_progress(index, message)

    def stop(index: int) -> None:
        try:
            distributed.Event(events[index], client=client).set()
        except Exception:
            pass

    def failure(index: int, text: str) -> dict[str, Any]:
        return {"index": index, "status": f"failed: {one_line(text)}", "exit_code": None,
                "error": one_line(text, 2000), "finished": utc_now(), "summary": None}

    try:
        while remaining:
            if not any(f.done() for f in remaining):
                time.sleep(0.1)  # (distributed.wait needs a default client; this one is not)
            drain()
            now = time.monotonic()
            for future in list(remaining):
                index = futures[future]["index"]
                if future.done():
                    remaining.discard(future)
                    drain()
                    if future.status == "finished":
                        outcome = future.result()
                    elif future.status == "cancelled":
                        outcome = failure(index, "cancelled on the Dask cluster")
                    else:
                        exc = future.exception()
                        name = type(exc).__name__
                        if name == "KilledWorker":
                            text = f"the Dask worker running this image died ({exc})"
                        else:
                            text = f"{name}: {exc}"
                        outcome = failure(index, text)
                    finished.add(index)
                    on_finished(index, outcome)
                elif index in deadlines and now > deadlines[index]:
                    stop(index)
                    future.cancel()
                    remaining.discard(future)
                    finished.add(index)
                    on_finished(index, failure(
                        index, f"timed out after {image_timeout:g} s (--image-timeout); the run "
                        "was told to stop at its next artifact file"))
    except BaseException:
        for future in remaining:
            stop(futures[future]["index"])
        client.cancel(list(remaining))
        raise
    finally:
        try:
            client.unsubscribe_topic(topic)
        except Exception:
            pass
