"""`triage recover`: export deleted files that no other file has overwritten (triage.recover).

Added to the command group by triage/cli.py: `main.add_command(recover_command, "recover")`.
"""
from __future__ import annotations

import json
import sys
from typing import Any

import click

from triage.cli import guarded
from triage.sources import SourceOptions

EXIT_SOME_ERRORS = 1


@click.command("recover")
@click.argument("evidence", type=click.Path())
@click.option("-o", "--output", "output", required=True, type=click.Path(),
              help="Folder to export into (created; must be empty unless --force).")
@click.option("--deleted/--include-allocated", "deleted_only", default=True, show_default=True,
              help="--deleted (the default): only deleted files. --include-allocated: live "
              "files matching --path are exported too, as read-only copies with hashes "
              "(needs --path or --inode).")
@click.option("--path", "paths", multiple=True, metavar="GLOB",
              help="Only files whose original path matches (case-insensitive shell pattern "
              "on the full path from the volume root, e.g. '/Users/*/Documents/*.xlsx'; "
              "'*' also matches '/', so '*.csv' finds them in every folder). Repeatable: any "
              "pattern may match.")
@click.option("--inode", "inodes", multiple=True, type=int, metavar="N",
              help="Only this entry, deleted or not: the NTFS MFT entry number, or for "
              "FAT/exFAT the byte offset of its directory entry in the volume (`inode` in the "
              "recovery log, `entry_offset` in FatDirectoryEntries events). Repeatable.")
@click.option("--vss", type=click.Choice(["none", "all"]), default="none", show_default=True,
              help="Also recover from volume shadow snapshots (each snapshot is its own "
              "volume folder, e.g. p1_vss1).")
@click.option("--recovery-password", help="BitLocker 48-digit recovery password.")
@click.option("--password", help="BitLocker user password.")
@click.option("--startup-key", type=click.Path(exists=True, dir_okay=False),
              help="BitLocker startup key file (.BEK).")
@click.option("--force", is_flag=True, help="Export into a folder that is not empty. Nothing "
              "in it is ever overwritten: taken names get a suffix, and so do the logs.")
@click.option("-q", "--quiet", is_flag=True, help="Print only the summary.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@guarded
def recover_command(evidence: str, output: str, deleted_only: bool, paths: tuple[str, ...],
                    inodes: tuple[int, ...], vss: str, recovery_password: str | None,
                    password: str | None, startup_key: str | None, force: bool, quiet: bool,
                    as_json: bool) -> None:
    """Export deleted files of EVIDENCE whose data no other file has taken.

    NTFS volumes are read with The Sleuth Kit (every unused MFT record that still names a
    file); FAT12/16/32 and exFAT with triage's own parser (every deleted directory entry, the
    contents of deleted folders included). A file is exported only when none of its clusters
    is in use by another file now; otherwise it is listed as "overwritten" (all clusters) or
    "partial" (some), never exported. FAT12/16/32 deletions free the cluster chain, so those
    files are read as contiguous clusters from their first cluster and marked
    contiguous_assumed (exFAT: exact when the entry says NoFatChain or its FAT chain is intact).

    Files land in OUTPUT/<volume>/<original path> (names made safe, never overwriting);
    OUTPUT/recovery_log.jsonl and recovery_log.csv list every candidate with its status
    (recovered, resident, allocated, overwritten, partial, empty, unrecoverable, error) and the
    SHA-256 and MD5 of what was exported; their own SHA-256 is printed at the end. The evidence
    is only read. Exit 0 when done, 1 when some volume or file could not be read, 2 for a usage
    error, 3 when the evidence cannot be opened.
    """
    from triage.recover import RecoverOptions, recover

    options = RecoverOptions(
        evidence=evidence, output=output, deleted_only=deleted_only, paths=paths,
        inodes=inodes, force=force,
        sources=SourceOptions(vss=vss, recovery_password=recovery_password, password=password,
                              startup_key=startup_key))

    def show(record: dict) -> None:
        if quiet or as_json:
            return
        where = record["exported_as"] or "-"
        extra = f" ({record['reason']})" if record["reason"] else ""
        click.echo(f"{record['status']:<13} {record['volume']} {record['path']} "
                   f"[{record['inode_kind']} {record['inode']}, {record['size']:,} bytes] "
                   f"-> {where}{extra}")

    result = recover(options, show)
    finish_export(result, as_json, f"{len(result.records)} candidate file(s)",
                  {"notes": result.notes})


def finish_export(result: Any, as_json: bool, what: str, extra: dict[str, Any]) -> None:
    """The end of an exporting command (recover, attachments): the summary as JSON or as
    lines with the logs' SHA-256, and exit 1 when something could not be read."""
    counts = result.counts()
    if as_json:
        click.echo(json.dumps({
            "output": result.output, **extra, "counts": counts, "records": result.records,
            "errors": result.errors, "log": result.log_jsonl, "log_sha256": result.log_sha256,
            "csv": result.log_csv, "csv_sha256": result.csv_sha256,
        }, indent=2, ensure_ascii=False))
    else:
        for note in extra.get("notes") or []:
            click.echo(f"note: {note}", err=True)
        for error in result.errors:
            click.echo(f"error: {error}", err=True)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing"
        click.echo(f"{what}: {summary}")
        click.echo(f"{result.log_jsonl} SHA-256: {result.log_sha256} (record it in your notes)")
        click.echo(f"{result.log_csv} SHA-256: {result.csv_sha256}")
    sys.exit(EXIT_SOME_ERRORS if result.errors else 0)
