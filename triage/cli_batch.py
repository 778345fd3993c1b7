"""`triage batch MANIFEST|DIR -o LAB_DIR`: triage many images into one lab folder.

Registered by the main command group (`main.add_command(batch_command, "batch")`). Exit codes:
0 every image ok; 1 some image completed with errors, was unreadable or failed; 2 usage error;
3 no image could be read; 130 interrupted (finished cases are kept; `--resume` continues).
"""
from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from triage.batch.lab import LAB_DB, LAB_JSONL
from triage.batch.manifest import parse_options
from triage.display import esc, shown
from triage.batch.runner import (BatchInterrupted, BatchListener, BatchOptions, BatchResult,
                                 run_batch)


def guarded(func: Any) -> Any:
    """`triage.cli.guarded` (one clear line and a documented exit code for every failure),
    imported when the command runs: triage.cli imports this module to register `batch`, so
    this module must not need triage.cli while it is being imported."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from triage.cli import guarded as cli_guarded

        return cli_guarded(func)(*args, **kwargs)

    return wrapper


_STYLE = {"ok": "green", "completed with errors": "yellow", "evidence unreadable": "red",
          "interrupted": "magenta"}


def _style(status: str | None) -> str:
    status = status or ""
    return _STYLE.get(status, "red" if status.startswith("failed") else "white")


def _figures(row: dict[str, Any]) -> str:
    parts = []
    if row.get("events") is not None:
        parts.append(f"{row['events']} events")
    if row.get("errors"):
        parts.append(f"{row['errors']} errors")
    findings = row.get("findings") or {}
    if findings:
        parts.append("findings " + ", ".join(f"{n} {sev}" for sev, n in findings.items()))
    if row.get("duration_s") is not None:
        parts.append(f"{row['duration_s']:.1f} s")
    if row.get("resumed"):
        parts.append("kept (verified)")
    return ", ".join(parts)


class PlainDisplay(BatchListener):
    """One line per image started and finished: for logs and scripts (stderr)."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stderr
        self.total = self.done = 0

    def _say(self, text: str) -> None:
        print(f"[batch] {text}", file=self.stream, flush=True)

    def begin(self, rows: list[dict[str, Any]], jobs: int, where: str) -> None:
        resumed = [r for r in rows if r.get("resumed")]
        self.total, self.done = len(rows), len(resumed)
        self._say(f"{len(rows)} images, {len(resumed)} kept from an earlier run; "
                  f"{'jobs ' + str(jobs) if where == 'local' else 'Dask scheduler ' + where}")

    def started(self, row: dict[str, Any], message: dict[str, Any]) -> None:
        self._say(f"start {row['case_id']} ({row['path']}) on {message.get('worker') or '?'}")

    def finished(self, row: dict[str, Any]) -> None:
        self.done += 1
        figures = _figures(row)
        self._say(f"done {row['case_id']}: {row['status']}" + (f", {figures}" if figures else "")
                  + f" [{self.done}/{self.total}]")


class RichDisplay(BatchListener):
    """Live display on a terminal: an overall bar and one line per image being processed."""

    def __init__(self) -> None:
        self.console = Console(stderr=True, highlight=False)
        self.bars = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[info]}"),
                                 TimeElapsedColumn(), console=self.console, transient=True)
        self.overall: Any = None
        self.lines: dict[int, Any] = {}

    def begin(self, rows: list[dict[str, Any]], jobs: int, where: str) -> None:
        resumed = sum(1 for r in rows if r.get("resumed"))
        self.console.print(f"[bold]triage batch[/] {len(rows)} images"
                           + (f", {resumed} kept from an earlier run" if resumed else "")
                           + (f", {jobs} jobs" if where == "local" else f", Dask {where}"))
        self.bars.start()
        self.overall = self.bars.add_task("[bold]images[/]", total=len(rows),
                                              completed=resumed, info="")

    def started(self, row: dict[str, Any], message: dict[str, Any]) -> None:
        self.lines[row["seq"]] = self.bars.add_task(f"  {esc(row['case_id'])}", total=None,
                                                        info="opening")

    def progress(self, row: dict[str, Any], message: dict[str, Any]) -> None:
        line = self.lines.get(row["seq"])
        if line is None:
            return
        info = f"{message.get('events', 0)} events"
        if message.get("kind") == "volume":
            info += f", volume {esc(message.get('volume'))}"
        self.bars.update(line, total=message.get("total") or None,
                             completed=message.get("files", 0), info=info)

    def finished(self, row: dict[str, Any]) -> None:
        line = self.lines.pop(row["seq"], None)
        if line is not None:
            self.bars.remove_task(line)
        self.bars.advance(self.overall)
        figures = _figures(row)
        self.console.print(f"  [{_style(row['status'])}]{row['status']}[/] {esc(row['case_id'])}"
                           + (f"  {figures}" if figures else ""), markup=True)

    def end(self, result: BatchResult) -> None:
        self.bars.stop()


def _print_summary(result: BatchResult) -> None:
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    console.width = max(120, console.width)
    table = Table(title="triage batch summary")
    for column in ("case", "status", "events", "errors", "findings", "duration"):
        table.add_column(column, overflow="fold")
    for row in result.rows:
        findings = ", ".join(f"{n} {s}" for s, n in (row.get("findings") or {}).items())
        duration = f"{row['duration_s']:.1f} s" if row.get("duration_s") is not None else ""
        status = row["status"] + (" (kept)" if row.get("resumed") else "")
        table.add_row(esc(row["case_id"]), f"[{_style(row['status'])}]{status}[/]",
                      "" if row.get("events") is None else str(row["events"]),
                      "" if row.get("errors") is None else str(row["errors"]), esc(findings),
                      duration)
    console.print(table)
    for row in result.rows:
        if row["status"] not in ("ok",) and row.get("error"):
            console.print(f"[{_style(row['status'])}]{esc(row['case_id'])}[/]: {esc(row['error'])}",
                          markup=True)
    counts = result.counts()
    console.print(", ".join(f"{n} {k}" for k, n in counts.items() if n)
                  + f"; {result.duration_s:.1f} s")
    if result.findings:
        console.print(f"[bold]lab findings[/] ({len(result.findings)}): values seen in several images")
        for finding in result.findings[:30]:
            console.print(f"  {shown(finding.line())}", markup=False)
        if len(result.findings) > 30:
            console.print(f"  ... {len(result.findings) - 30} more in {LAB_DB} (lab_findings)")
    for problem in result.problems:
        console.print(f"[yellow]note[/] {esc(problem)}", markup=True)
    console.print(f"lab index: {esc(os.path.join(result.lab_dir, LAB_DB))} and "
                  f"{esc(os.path.join(result.lab_dir, LAB_JSONL))}")


@click.command("batch")
@click.argument("source", type=click.Path())
@click.option("-o", "--output", "lab_dir", required=True, type=click.Path(), metavar="LAB_DIR",
              help="Lab folder: cases/<case id>/, lab.sqlite, lab.jsonl.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, metavar="N",
              help="Images processed at the same time (worker processes).")
@click.option("--image-timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Seconds one image may take; then its worker is stopped and it is failed.")
@click.option("--resume", is_flag=True, help="Keep cases that exist and verify; redo the others.")
@click.option("--force", is_flag=True, help="Redo every image, replacing existing case folders.")
@click.option("--scheduler", metavar="tcp://HOST:PORT",
              help="Run the images on this Dask scheduler's workers (needs the cluster extra).")
@click.option("--examiner", help="Examiner for items that name none.")
@click.option("--custodian", help="Custodian for items that name none.")
@click.option("--only", multiple=True, help="Default --only for every item (artifacts or "
              "families; an item's own options replace it).")
@click.option("--vss", type=click.Choice(["none", "all"]), help="Default --vss for every item.")
@click.option("--source-tz", help="Default --source-tz for every item.")
@click.option("--evtx-all", is_flag=True, help="Default --evtx-all for every item.")
@click.option("--hash-evidence", is_flag=True, help="Default --hash-evidence for every item.")
@click.option("-q", "--quiet", is_flag=True, help="No progress output and no summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the batch summary as JSON on stdout.")
@guarded
def batch_command(source: str, lab_dir: str, jobs: int, image_timeout: float | None,
                  resume: bool, force: bool, scheduler: str | None, examiner: str | None,
                  custodian: str | None, only: tuple[str, ...], vss: str | None,
                  source_tz: str | None, evtx_all: bool, hash_evidence: bool, quiet: bool,
                  as_json: bool) -> None:
    """Triage every image of SOURCE into LAB_DIR, several at a time.

    SOURCE is a CSV or YAML manifest (path, case_id, examiner, custodian, options) or a folder:
    every image file in it (.E01, .raw/.dd/.img/.001, .vmdk, .vhd, .vhdx, .qcow2; first
    segments only). Each image gets LAB_DIR/cases/<case id or file name>; LAB_DIR/lab.sqlite
    and lab.jsonl index them, and values seen in several images (USB serials, volume serials,
    file hashes, accounts, hosts) are listed as lab findings.
    """
    from triage.cli import _redacted_argv

    defaults: dict[str, Any] = {}
    if only:
        defaults["only"] = list(only)
    if vss:
        defaults["vss"] = vss
    if source_tz:
        defaults["source_tz"] = source_tz
    if evtx_all:
        defaults["evtx_all"] = True
    if hash_evidence:
        defaults["hash_evidence"] = True
    options = BatchOptions(
        source=source, lab_dir=lab_dir, jobs=jobs, image_timeout=image_timeout, resume=resume,
        force=force, scheduler=scheduler, examiner=examiner, custodian=custodian,
        options=parse_options(defaults, os.getcwd(), "command line"),
        command_line=_redacted_argv())
    if quiet or as_json:
        listener = BatchListener()
    elif sys.stderr.isatty():
        listener = RichDisplay()
    else:
        listener = PlainDisplay()
    try:
        result = run_batch(options, listener)
    except BatchInterrupted as stop:
        result = stop.result
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
        done = sum(1 for r in result.rows if r["status"] not in ("interrupted", "pending"))
        click.echo(f"triage: error: interrupted; {done} image(s) finished and are kept, the others "
                   "left no finished case folder (run again with --resume)", err=True)
        sys.exit(130)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2, default=str))
    elif not quiet:
        _print_summary(result)
    sys.exit(result.exit_code)
