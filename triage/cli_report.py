"""`triage report CASE` and `triage export CASE`: outputs rebuilt from a finished case.

Both read case.sqlite (read-only) and manifest.json, never the evidence. Before building they
check the case as `triage verify` does and refuse a case that differs (exit 4; `--no-verify`
skips the check, e.g. for a very large case already verified). A file written INTO the case
folder is hashed into manifest.json (so `triage verify` covers it, and the manifest's new
SHA-256 is printed); a file written elsewhere is not registered and its SHA-256 is printed.

Registered in the command group by triage/cli.py:
    from triage.cli_report import export_command, report_command
    main.add_command(report_command)
    main.add_command(export_command)
"""
from __future__ import annotations

import functools
import importlib.util
import os
import sys
from typing import Any, Callable

import click

from triage.case_files import OutputRefused, check_target, record_output
from triage.engine import UsageError
from triage.export import DEFAULT_NAMES, FORMATS, EventFilter, export_with_stats, zone_info
from triage.report.i18n import LANGUAGES


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """triage.cli's `guarded` (one clear line and a documented exit code per failure), looked up
    when the command runs, so triage.cli may import this module at any point of its own."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from triage.cli import guarded as cli_guarded

        return cli_guarded(func)(*args, **kwargs)

    return wrapper


def _check_case(case_dir: str, no_verify: bool) -> None:
    if not os.path.isdir(case_dir):
        raise UsageError(f"{case_dir}: no such case folder")
    if not os.path.isfile(os.path.join(case_dir, "manifest.json")) or \
            not os.path.isfile(os.path.join(case_dir, "case.sqlite")):
        raise UsageError(f"{case_dir}: not a triage case folder (no manifest.json or case.sqlite)")
    if no_verify:
        return
    from triage.verify import verify_case

    result = verify_case(case_dir)
    if not result.ok:
        for problem in result.problems:
            click.echo(f"DIFFERS: {problem}", err=True)
        click.echo(f"triage: error: {case_dir} does not verify; refusing to build from a changed "
                   "case (--no-verify to build anyway)", err=True)
        from triage.cli import EXIT_VERIFY_FAILED

        sys.exit(EXIT_VERIFY_FAILED)


def _check_zone(zone: str | None) -> None:
    if zone:
        try:
            zone_info(zone)
        except ValueError as exc:
            raise UsageError(f"--tz: {exc}") from None


def _check_target(case_dir: str, out: str) -> None:
    try:
        check_target(case_dir, out)
    except OutputRefused as exc:
        raise UsageError(str(exc)) from None
    folder = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(folder):
        raise UsageError(f"{out}: folder {folder} does not exist")


def _announce(case_dir: str, path: str, what: str) -> None:
    record = record_output(case_dir, path)
    click.echo(f"{what}: {path}")
    click.echo(f"SHA-256: {record.sha256}")
    if record.registered_as:
        click.echo(f"registered in manifest.json as {record.registered_as}; manifest.json SHA-256 is "
                   f"now {record.manifest_sha256} (record it in your notes)")
    else:
        click.echo("outside the case folder: not registered in manifest.json (record the SHA-256 "
                   "above in your notes)")


@click.command("report")
@click.argument("case_dir", type=click.Path())
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True,
              help="Language of the report's labels.")
@click.option("--tz", "zone", help="Time zone for the times shown (IANA name such as Asia/Tokyo, "
              "or UTC+09:00). Default: the case's local zone, else UTC.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="HTML file to write (default: CASE/report.html).")
@click.option("--max-events", type=click.IntRange(min=0), default=20000, show_default=True,
              help="Most timeline events embedded in the page (the page says how many).")
@click.option("--no-verify", is_flag=True, help="Do not check the case against its manifest first.")
@guarded
def report_command(case_dir: str, lang: str, zone: str | None, out: str | None, max_events: int,
                   no_verify: bool) -> None:
    """Write the investigation report of CASE: one self-contained HTML file.

    Rebuilt from case.sqlite and manifest.json (the evidence is not read). Inside the case
    folder the report is hashed into manifest.json so `triage verify` covers it.
    """
    from triage.report import DEFAULT_NAME, build_report

    _check_case(case_dir, no_verify)
    _check_zone(zone)
    out = out or os.path.join(case_dir, DEFAULT_NAME)
    _check_target(case_dir, out)
    path = build_report(case_dir, lang=lang, tz=zone, out=out, max_events=max_events)
    _announce(case_dir, path, "report")


@click.command("export")
@click.argument("case_dir", type=click.Path())
@click.option("-f", "--format", "fmt", type=click.Choice(FORMATS), required=True,
              help="csv (as timeline.csv), jsonl (as timeline.jsonl), xlsx (Excel), bodyfile "
              "(mactime), timesketch (Timesketch JSONL).")
@click.option("--from", "start", help="Only events at or after this time (ISO 8601; UTC unless it "
              "carries an offset, e.g. 2026-03-11T15:00+09:00).")
@click.option("--to", "end", help="Only events at or before this time (a date alone: that whole day).")
@click.option("--family", multiple=True, help="Only these families (repeatable or comma-separated).")
@click.option("--artifact", multiple=True, help="Only these artifacts (repeatable or comma-separated).")
@click.option("--user", multiple=True, help="Only these users (repeatable or comma-separated).")
@click.option("--contains", help="Only events whose message contains this text (any case).")
@click.option("--tz", "zone", help="Zone of the xlsx date-time columns (default: the case's local "
              "zone, else UTC). The other formats are UTC.")
@click.option("-o", "--output", "out", type=click.Path(dir_okay=False),
              help="File to write (default: CASE/export.<format>).")
@click.option("--no-verify", is_flag=True, help="Do not check the case against its manifest first.")
@guarded
def export_command(case_dir: str, fmt: str, start: str | None, end: str | None,
                   family: tuple[str, ...], artifact: tuple[str, ...], user: tuple[str, ...],
                   contains: str | None, zone: str | None, out: str | None, no_verify: bool) -> None:
    """Export the timeline of CASE, filtered, for another tool.

    Rebuilt from case.sqlite (the evidence is not read). Text cells of CSV and XLSX that a
    spreadsheet would run as a formula get a leading apostrophe. Inside the case folder the
    export is hashed into manifest.json so `triage verify` covers it.
    """
    _check_case(case_dir, no_verify)
    _check_zone(zone)
    try:
        EventFilter.build(start, end, family, artifact, user, contains)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if fmt == "xlsx" and importlib.util.find_spec("openpyxl") is None:
        raise UsageError("xlsx export needs the openpyxl package (pip install openpyxl)")
    out = out or os.path.join(case_dir, DEFAULT_NAMES[fmt])
    _check_target(case_dir, out)
    stats = export_with_stats(case_dir, fmt, out, start=start, end=end, family=family or None,
                              artifact=artifact or None, user=user or None, contains=contains,
                              tz=zone)
    click.echo(f"{stats.written:,} events written ({fmt})")
    if stats.skipped_untimed:
        click.echo(f"{stats.skipped_untimed:,} events without a time left out ({fmt} needs a time)")
    if stats.sheets:
        click.echo("sheets: " + ", ".join(stats.sheets))
    _announce(case_dir, out, "export")


__all__ = ["export_command", "report_command"]
