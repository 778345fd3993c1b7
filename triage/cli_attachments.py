"""`triage attachments`: export mail attachments with a hashed log (triage.mail_export).

Added to the command group by triage/cli.py's `_register_commands`.
"""
from __future__ import annotations

import click

from triage.cli import _credential_options, guarded
from triage.cli_recover import finish_export
from triage.sources import SourceOptions


@click.command("attachments")
@click.argument("evidence", type=click.Path())
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="Folder to export into (created; must be empty unless --force).")
@click.option("--name", "names", multiple=True, metavar="GLOB",
              help="Only attachments whose file name matches (case-insensitive shell pattern, "
              "e.g. '*.xlsx'). Repeatable: any pattern may match.")
@click.option("--sha256", "digests", multiple=True, metavar="HEX",
              help="Only attachments with this content SHA-256 (as in the timeline's "
              "attachment_sha256). Repeatable.")
@click.option("--store", "stores", multiple=True, metavar="GLOB",
              help="Only mail stores whose path matches (case-insensitive shell pattern on the "
              "path from the volume root; '*' also matches '/'). Repeatable.")
@_credential_options
@click.option("--force", is_flag=True, help="Export into a folder that is not empty. Nothing "
              "in it is ever overwritten: taken names get a number, and so do the logs.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@guarded
def attachments_command(evidence: str, output: str, names: tuple[str, ...],
                        digests: tuple[str, ...], stores: tuple[str, ...], vss: str,
                        recovery_password: str | None, password: str | None,
                        startup_key: str | None, force: bool, quiet: bool, as_json: bool) -> None:
    """Export the attachments of the mail stores in EVIDENCE (PST/OST, Thunderbird mbox,
    Windows Mail .eml).

    The stores are walked by the same extractors as `triage run`, so what is exported is what
    the timeline lists, with the same SHA-256. Files land in
    OUTPUT/<volume>/<store path>/<message>/<name> (every name made safe, nothing overwritten,
    nothing outside OUTPUT, files made read-only); OUTPUT/attachments_log.jsonl and .csv list
    each attachment of the selected messages with its message (folder, subject, sender, date),
    status (exported, no content, unreadable) and the SHA-256 and MD5 of what was written;
    their own SHA-256 is printed at the end. The evidence is only read. Exit 0 when done, 1
    when some store could not be read whole, 2 for a usage error, 3 when the evidence cannot
    be opened.
    """
    from triage.mail_export import ExportOptions, export_attachments

    options = ExportOptions(
        evidence=evidence, output=output, names=names, stores=stores,
        sha256=tuple(d.strip().lower() for d in digests), force=force,
        sources=SourceOptions(vss=vss, recovery_password=recovery_password, password=password,
                              startup_key=startup_key))

    def show(record: dict) -> None:
        if quiet or as_json:
            return
        where = record["exported_as"] or "-"
        extra = f" ({record['reason']})" if record["reason"] else ""
        click.echo(f"{record['status']:<11} {record['volume']} {record['store']} "
                   f"[{record['folder'] or '-'}] {record['name'] or '(unnamed)'} -> {where}{extra}")

    result = export_attachments(options, show)
    finish_export(result, as_json, f"{result.stores} mail store(s), {len(result.records)} "
                  "attachment(s)", {"stores": result.stores})
