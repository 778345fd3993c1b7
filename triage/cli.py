"""The `triage` command line. Thin: parse options, call one module, map failures to exit codes.

Exit codes (documented in README):
  0 success; 1 run completed but some artifact files had errors (listed in the case);
  2 usage error (bad option, invalid definitions, case folder exists without --force);
  3 evidence unreadable (missing, unknown format, corrupt container);
  4 `triage verify`: the case differs from what was written;
  5 internal error (a bug; set TRIAGE_DEBUG=1 to see the traceback); 130 interrupted.
No Python traceback reaches a user unless TRIAGE_DEBUG is set.
"""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable

import click
from rich.console import Console
from rich.table import Table

from triage import __version__
from triage.artifacts import DefinitionError, load_definitions
from triage.detection.rules import RuleError
from triage.engine import (EXIT_EVIDENCE, EXIT_USAGE, RunOptions, RunSummary, UsageError, run)
from triage.display import esc, shown
from triage.progress import make_reporter
from triage.sources import EvidenceError, SourceOptions
from triage.store import CaseWriteError, is_disk_full

EXIT_VERIFY_FAILED, EXIT_INTERNAL, EXIT_CASE_WRITE, EXIT_INTERRUPTED = 4, 5, 6, 130


def _fail(code: int, message: str) -> None:
    click.echo(f"triage: error: {message}", err=True)
    sys.exit(code)


def guarded(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every failure into one clear line and a documented exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (UsageError, DefinitionError, RuleError) as exc:
            _fail(EXIT_USAGE, str(exc))
        except EvidenceError as exc:
            _fail(EXIT_EVIDENCE, str(exc))
        except KeyboardInterrupt:
            _fail(EXIT_INTERRUPTED, "interrupted; no finished case folder was written (an "
                  "unfinished CASE.partial is kept, marked incomplete)")
        except CaseWriteError as exc:
            _fail(EXIT_CASE_WRITE, f"cannot write the case folder (disk full or I/O error): "
                  f"{exc}; nothing was published: the unfinished case (CASE.partial) is kept, "
                  "marked incomplete")
        except (SystemExit, click.exceptions.Exit, click.ClickException):
            raise
        except Exception as exc:
            if os.environ.get("TRIAGE_DEBUG"):
                raise
            if is_disk_full(exc):
                _fail(EXIT_CASE_WRITE, f"no room to write: {exc}")
            _fail(EXIT_INTERNAL, f"internal error: {type(exc).__name__}: {exc} "
                  "(set TRIAGE_DEBUG=1 to see where)")

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triage")
def main() -> None:
    """Forensic evidence triage: disk image in, hashed and verifiable timeline out."""


def _source_options(vss: str, recovery_password: str | None, password: str | None,
                    startup_key: str | None) -> SourceOptions:
    return SourceOptions(vss=vss, recovery_password=recovery_password, password=password,
                         startup_key=startup_key)


def _credential_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--startup-key", type=click.Path(exists=True, dir_okay=False),
                        help="BitLocker startup key file (.BEK).")(func)
    func = click.option("--password", help="BitLocker user password.")(func)
    func = click.option("--recovery-password", help="BitLocker 48-digit recovery password.")(func)
    func = click.option("--vss", type=click.Choice(["none", "all"]), default="none",
                        show_default=True, help="Volume shadow snapshots to process.")(func)
    return func


@main.command("run")
@click.argument("evidence", type=click.Path())
@click.option("-o", "--output", "case_dir", required=True, type=click.Path(),
              help="Case folder to create.")
@click.option("--force", is_flag=True, help="Replace an existing case folder.")
@_credential_options
@click.option("--artifacts", "artifact_dirs", multiple=True, type=click.Path(),
              help="Extra folder of artifact definitions (repeatable).")
@click.option("--only", multiple=True, help="Only these artifacts or families (names, repeatable "
              "or comma-separated).")
@click.option("--examiner", help="Examiner name for the manifest.")
@click.option("--case", "case_id", help="Case identifier for the manifest.")
@click.option("--hash-evidence", is_flag=True, help="Hash the whole media stream; for E01 "
              "compare with the stored MD5/SHA-1.")
@click.option("--max-file-size", type=int, default=2 * 1024**3, show_default=True,
              help="Artifact files larger than this many bytes are recorded, not parsed.")
@click.option("--file-timeout", type=float, default=300.0, show_default=True,
              help="Seconds one artifact file may take before it is abandoned (0: no limit).")
@click.option("--file-memory", type=click.IntRange(0, 1 << 20), default=2048, show_default=True,
              metavar="MIB", help="MiB of memory one artifact file's parsing may add before it "
              "is abandoned (0: no limit).")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(),
              help="Extra folder of detection rules (repeatable).")
@click.option("--no-builtin-rules", is_flag=True, help="Evaluate only the rules of --rules.")
@click.option("--sigma", "sigma_dirs", multiple=True, type=click.Path(),
              help="Folder of Sigma rules for event-log events (repeatable).")
@click.option("--source-tz", help="Time zone of local-time artifacts (IANA name such as "
              "Asia/Tokyo, or UTC+09:00). Default: the seized system's own zone.")
@click.option("--internal-domain", "internal_domains", multiple=True,
              help="The organisation's own mail domain (repeatable): mail to others is external.")
@click.option("--webcache-content", is_flag=True, help="Also put the WebCache content cache "
              "(every cached file, very numerous) on the timeline.")
@click.option("--evtx-all", is_flag=True, help="Put every event log record on the timeline, "
              "not only the catalogued ones.")
@click.option("--onedrive-odl-all", is_flag=True, help="Put every OneDrive log (ODL) record "
              "on the timeline, not only uploads, downloads, deletions, renames and moves.")
@click.option("--mail-body-preview", type=click.IntRange(0, 100_000), default=0, show_default=True,
              metavar="CHARS", help="Keep the first CHARS characters of each mail body in its "
              "event (0: bodies are never copied).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Extraction processes for this image (same output as one process).")
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary on stdout.")
@guarded
def run_command(evidence: str, case_dir: str, force: bool, vss: str,
                recovery_password: str | None, password: str | None, startup_key: str | None,
                artifact_dirs: tuple[str, ...], only: tuple[str, ...], examiner: str | None,
                case_id: str | None, hash_evidence: bool, max_file_size: int,
                file_timeout: float, file_memory: int, rule_dirs: tuple[str, ...], no_builtin_rules: bool,
                sigma_dirs: tuple[str, ...], source_tz: str | None, internal_domains: tuple[str, ...],
                webcache_content: bool, evtx_all: bool, onedrive_odl_all: bool,
                mail_body_preview: int, workers: int,
                quiet: bool,
                as_json: bool) -> None:
    """Extract the evidence timeline of EVIDENCE into a new case folder.

    EVIDENCE is a disk image (raw, split raw, E01, VMDK, VHD/VHDX, QCOW2), a directory
    (mounted image or collected files) or a single artifact file.
    """
    options = RunOptions(
        evidence=evidence, case_dir=case_dir, force=force,
        sources=_source_options(vss, recovery_password, password, startup_key),
        artifact_dirs=list(artifact_dirs), only=list(only), examiner=examiner, case_id=case_id,
        hash_evidence=hash_evidence, max_file_size=max_file_size, file_timeout=file_timeout,
        file_memory=file_memory * 1024**2, command_line=_redacted_argv(),
        extractor_options={"evtx_all": evtx_all, "webcache_content": webcache_content,
                           "internal_domains": [d.lower().lstrip("@") for d in internal_domains],
                           "mail_body_preview": mail_body_preview,
                           "onedrive_odl_all": onedrive_odl_all},
        source_tz=source_tz, rule_dirs=list(rule_dirs), builtin_rules=not no_builtin_rules,
        sigma_dirs=list(sigma_dirs), workers=workers)
    summary = run(options, make_reporter(quiet or as_json))
    if as_json:
        click.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))
    elif not quiet:
        _print_summary(summary)
    sys.exit(summary.exit_code)


def _redacted_argv() -> list[str]:
    """The command line for the manifest, with BitLocker secrets blanked."""
    argv = list(sys.argv)
    secret = {"--recovery-password", "--password"}
    out = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
        elif arg in secret:
            out.append(arg)
            hide_next = True
        elif any(arg.startswith(s + "=") for s in secret):
            out.append(arg.split("=", 1)[0] + "=***")
        else:
            out.append(arg)
    return out


def _print_summary(summary: RunSummary) -> None:
    console = Console(stderr=True, soft_wrap=True, highlight=False)
    table = Table(title="triage run summary", show_lines=False)
    table.add_column("artifact")
    table.add_column("events", justify="right")
    for name, count in summary.per_artifact.items():
        table.add_row(name, str(count))
    table.add_row("[bold]total[/]", f"[bold]{summary.events}[/]")
    console.print(table)
    console.print(f"files read: {summary.files}   errors: {summary.errors}   "
                  f"warnings: {summary.warnings}   duration: {summary.duration_s:.1f} s")
    slowest = sorted(summary.timings.items(), key=lambda kv: -kv[1]["wall_s"])[:4]
    if slowest:
        console.print("slowest stages: " + ", ".join(
            f"{name} {figures['wall_s']:.1f} s" for name, figures in slowest))
    if summary.snapshots_found:
        console.print(f"volume shadow snapshots: {summary.snapshots_found} found, "
                      f"{summary.snapshots_processed} processed")
    for volume in summary.volumes:
        if volume["status"] != "processed":
            console.print(f"[yellow]volume {esc(volume['id'])}: {esc(volume['status'])}[/]")
    if summary.evidence_hashes:
        computed = summary.evidence_hashes.get("computed") or {}
        if computed:
            console.print(f"evidence MD5 {computed.get('md5')}  SHA-256 {computed.get('sha256')}")
        console.print(f"evidence hash verification: {summary.evidence_hashes.get('verification')}")
    if summary.finding_lines:
        console.print("[bold]findings[/]: " + ", ".join(f"{n} {sev}" for sev, n in summary.findings.items()))
        for line in summary.finding_lines[:20]:
            console.print(f"  {shown(line)}", markup=False)
        if len(summary.finding_lines) > 20:
            console.print(f"  ... {len(summary.finding_lines) - 20} more in case.sqlite (findings)")
    for line in summary.error_lines[:10]:
        console.print(f"[red]error[/] {esc(line)}", markup=True, highlight=False)
    if len(summary.error_lines) > 10:
        console.print(f"... {len(summary.error_lines) - 10} more errors in case.sqlite (errors table)")
    console.print(f"case: {esc(summary.case_dir)}")
    console.print(f"chain head: {summary.chain_head}")
    console.print(f"manifest.json SHA-256: {summary.manifest_sha256} (record it in your notes)")


@main.command("verify")
@click.argument("case_dir", type=click.Path())
@click.option("--manifest-sha256", help="Also check manifest.json against this SHA-256.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@guarded
def verify_command(case_dir: str, manifest_sha256: str | None, as_json: bool) -> None:
    """Check every hash and the event chain of a case folder; exit 4 on any difference."""
    from triage.verify import verify_case

    if not os.path.isdir(case_dir) and not os.path.isdir(case_dir.rstrip("/") + ".partial"):
        raise UsageError(f"{case_dir}: no such case folder")
    result = verify_case(case_dir, manifest_sha256)
    if as_json:
        click.echo(json.dumps({"ok": result.ok, "incomplete": result.incomplete,
                               "problems": result.problems,
                               "events_checked": result.checked_events,
                               "files_checked": result.checked_files,
                               "chain_head": result.chain_head}, indent=2))
    else:
        for problem in result.problems:
            click.echo(f"DIFFERS: {problem}")
        state = "intact" if result.ok else "INCOMPLETE" if result.incomplete else "CHANGED"
        click.echo(f"{case_dir}: {state} ({result.checked_files} files, "
                   f"{result.checked_events} events checked; chain head {result.chain_head})")
    sys.exit(0 if result.ok else EXIT_VERIFY_FAILED)


@main.command("artifacts")
@click.option("--artifacts", "artifact_dirs", multiple=True, type=click.Path(),
              help="Extra folder of artifact definitions (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the definitions as JSON.")
@guarded
def artifacts_command(artifact_dirs: tuple[str, ...], as_json: bool) -> None:
    """List the artifact definitions and the extractor each one uses."""
    from triage.extractors import load_extractors

    definitions = load_definitions(artifact_dirs)
    report = load_extractors()
    if as_json:
        click.echo(json.dumps([dict(a.to_dict(), extractor_installed=a.extractor in report.extractors)
                               for a in definitions], indent=2, ensure_ascii=False))
        return
    table = Table(title="artifact definitions")
    for column in ("name", "family", "extractor", "paths"):
        table.add_column(column, overflow="fold")
    for a in definitions:
        extractor = a.extractor if a.extractor in report.extractors else f"{a.extractor} (missing!)"
        table.add_row(*(esc(x) for x in (a.name, a.family, extractor, "\n".join(a.paths))))
    Console(width=max(120, Console().width)).print(table)
    for name, reason in report.failures:
        click.echo(f"plugin {name} failed to load: {reason}", err=True)


@main.group("rules")
def rules_group() -> None:
    """List, validate and run detection rules."""


@rules_group.command("list")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule folder.")
@click.option("--sigma", "sigma_dirs", multiple=True, type=click.Path(), help="Sigma rule folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the rules as JSON.")
@guarded
def rules_list(rule_dirs: tuple[str, ...], sigma_dirs: tuple[str, ...], as_json: bool) -> None:
    """List the shipped rules (and those of --rules and --sigma folders)."""
    from triage.detection import load_rules
    from triage.detection.sigma import load_sigma_rules

    rules = load_rules(rule_dirs) + load_sigma_rules(sigma_dirs)
    if as_json:
        click.echo(json.dumps([r.summary() for r in rules], indent=2, ensure_ascii=False))
        return
    table = Table(title="detection rules")
    for column in ("id", "severity", "kind", "ATT&CK", "title"):
        table.add_column(column, overflow="fold")
    for r in rules:
        table.add_row(*(esc(x) for x in (r.id, r.severity, r.kind, r.attack or "", r.title)))
    Console(width=max(120, Console().width)).print(table)


@rules_group.command("validate")
@click.argument("rule_dir", type=click.Path(exists=True, file_okay=False))
@guarded
def rules_validate(rule_dir: str) -> None:
    """Check every rule file in RULE_DIR; exit 2 naming the file, line and field of an error."""
    from triage.detection import load_rules

    rules = load_rules([rule_dir], builtin=False)
    click.echo(f"{rule_dir}: {len(rules)} rule(s) valid")


@rules_group.command("run")
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule folder.")
@click.option("--no-builtin-rules", is_flag=True, help="Evaluate only the rules of --rules.")
@click.option("--sigma", "sigma_dirs", multiple=True, type=click.Path(), help="Sigma rule folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@guarded
def rules_run(case_dir: str, rule_dirs: tuple[str, ...], no_builtin_rules: bool,
              sigma_dirs: tuple[str, ...], as_json: bool) -> None:
    """Re-evaluate rules on an existing case (the evidence is not read again).

    Replaces the case's findings, rewrites the timeline files' tags and the manifest (which
    records the re-run), so `triage verify` keeps covering the case.
    """
    from triage.rerun import rerun_rules

    result = rerun_rules(case_dir, list(rule_dirs), builtin=not no_builtin_rules,
                         command_line=_redacted_argv(), sigma_dirs=list(sigma_dirs))
    lines = [{"rule": f.rule.id, "severity": f.rule.severity, "title": f.rule.title,
              "explanation": f.explanation, "first": f.span()[0], "last": f.span()[1],
              "events": f.total} for f in result.findings]
    if as_json:
        click.echo(json.dumps({"findings": lines, "rule_errors": [
            {"rule": r.id, "error": m} for r, m in result.rule_errors]}, indent=2, ensure_ascii=False))
    else:
        for line in lines:
            click.echo(shown(f"[{line['severity']}] {line['rule']} {line['title']}: "
                             f"{line['explanation']}"))
        for rule, message in result.rule_errors:
            click.echo(f"rule {rule.id} skipped: {message}", err=True)
        click.echo(f"{len(lines)} finding(s)")


@main.command("usb")
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the devices as JSON.")
@guarded
def usb_command(case_dir: str, as_json: bool) -> None:
    """Removable devices of a case: one record per device, from every source that saw it."""
    from triage.analysis.devices import read_devices

    devices = read_devices(os.path.join(case_dir, "case.sqlite"))
    if as_json:
        click.echo(json.dumps(devices, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"removable and portable devices ({len(devices)})", show_lines=True)
    for column in ("#", "kind", "device", "serial", "first connected", "last connected",
                   "last removed", "letters / volumes", "users", "files opened"):
        table.add_column(column, overflow="fold")
    for d in devices:
        name = d["friendly_name"] or " ".join(x for x in (d["vendor"], d["product"]) if x) or "?"
        volumes = ", ".join(d["drive_letters"] + [f"{l} ({s})" for l, s in
                                                  zip(d["volume_labels"], d["volume_serials"])])
        table.add_row(*(esc(cell) for cell in (
            d["id"], d["kind"] or "", name, d["serial"] or "",
            f"{d['first_connected'] or ''}\n{d['first_connected_source'] or ''}",
            f"{d['last_connected'] or ''}\n{d['last_connected_source'] or ''}",
            f"{d['last_removed'] or ''}\n{d['last_removed_source'] or ''}",
            volumes, ", ".join(d["users"]), len(d["files_opened"]))))
    Console(width=max(160, Console().width)).print(table)


@main.command("info")
@click.argument("evidence", type=click.Path())
@_credential_options
@click.option("--json", "as_json", is_flag=True, help="Print the facts as JSON.")
@guarded
def info_command(evidence: str, vss: str, recovery_password: str | None, password: str | None,
                 startup_key: str | None, as_json: bool) -> None:
    """Describe EVIDENCE: containers, partitions, file systems, snapshots, Windows, users."""
    from triage.info import describe, render

    facts = describe(evidence, _source_options(vss, recovery_password, password, startup_key))
    if as_json:
        click.echo(json.dumps(facts, indent=2, ensure_ascii=False))
    else:
        render(facts, Console())


def _register_commands() -> None:
    """Commands that live in their own modules (one job each)."""
    from triage.cli_attachments import attachments_command
    from triage.cli_batch import batch_command
    from triage.cli_recover import recover_command
    from triage.cli_report import export_command, report_command

    main.add_command(report_command)
    main.add_command(export_command)
    main.add_command(recover_command, "recover")
    main.add_command(batch_command, "batch")
    main.add_command(attachments_command, "attachments")


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
