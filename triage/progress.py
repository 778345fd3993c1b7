"""How a run tells the examiner where it is: rich bars on a terminal, plain lines in a log.

Progress goes to stderr so that `--json` output on stdout stays machine-readable in scripts.
"""
from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from triage.display import esc, shown


class Reporter:
    """Silent base: `--quiet`."""

    def start(self, evidence: str) -> None: ...

    def volume(self, volume_id: str, description: str) -> None: ...

    def files_found(self, count: int) -> None: ...

    def file_done(self, path: str, events: int) -> None: ...

    def note(self, text: str) -> None: ...

    def stop(self) -> None: ...


class PlainReporter(Reporter):
    """One line per step, for logs and batch runs (no terminal control codes)."""

    def __init__(self, stream: Any = None):
        self.stream = stream or sys.stderr
        self.events = 0
        self.files = 0
        self.total = 0
        self._last = 0.0

    def _say(self, text: str) -> None:
        print(f"[triage] {shown(text)}", file=self.stream, flush=True)

    def start(self, evidence: str) -> None:
        self._say(f"evidence {evidence}")

    def volume(self, volume_id: str, description: str) -> None:
        self._say(f"volume {volume_id}: {description}")

    def files_found(self, count: int) -> None:
        self.total, self.files = count, 0
        self._say(f"  {count} artifact files to read")

    def file_done(self, path: str, events: int) -> None:
        self.files += 1
        self.events += events
        now = time.monotonic()
        if now - self._last >= 5 or self.files == self.total:
            self._last = now
            self._say(f"  {self.files}/{self.total} files, {self.events} events")

    def note(self, text: str) -> None:
        self._say(text)


class RichReporter(Reporter):
    """Live bars for volumes, files and events on an interactive terminal."""

    def __init__(self) -> None:
        self.console = Console(stderr=True)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 MofNCompleteColumn(), TextColumn("{task.fields[events]} events"),
                                 TimeElapsedColumn(), console=self.console, transient=False)
        self.task: Any = None
        self.events = 0

    def start(self, evidence: str) -> None:
        self.console.print(f"[bold]triage[/] {esc(evidence)}")
        self.progress.start()

    def volume(self, volume_id: str, description: str) -> None:
        self.task = self.progress.add_task(f"volume {esc(volume_id)}", total=None,
                                           events=self.events)
        self.console.print(f"  volume [cyan]{esc(volume_id)}[/]: {esc(description)}")

    def files_found(self, count: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, total=count)

    def file_done(self, path: str, events: int) -> None:
        self.events += events
        if self.task is not None:
            self.progress.update(self.task, advance=1, events=self.events)

    def note(self, text: str) -> None:
        self.console.print(f"  {esc(text)}")

    def stop(self) -> None:
        self.progress.stop()


def make_reporter(quiet: bool) -> Reporter:
    if quiet:
        return Reporter()
    if sys.stderr.isatty():
        return RichReporter()
    return PlainReporter()
