"""`triage info EVIDENCE`: what is in an evidence item, before anything is extracted.

An examiner's first look at a seized image: which container, which partitions where, which
file systems and labels, shadow copies, encryption, and on a Windows volume the version, host
name and user profiles. Read-only like everything else.
"""
from __future__ import annotations

import os
from typing import Any

from rich.console import Console
from rich.table import Table

from triage.display import esc
from triage.sources import SourceOptions, open_evidence
from triage.sysinfo import read_system_info


def describe(path: str, options: SourceOptions) -> dict[str, Any]:
    evidence = open_evidence(path, options)
    facts: dict[str, Any] = {
        "evidence": os.path.abspath(path), "kind": evidence.kind,
        "containers": evidence.containers, "volume_system": evidence.volume_system,
        "segments": [{"path": p, "size": os.path.getsize(p)} for p in evidence.segments
                     if os.path.exists(p)],
        "volumes": [v.describe() for v in evidence.volumes],
        "snapshots": [s.__dict__ for s in evidence.snapshots],
        "windows": [],
    }
    for volume in evidence.processable():
        if volume.snapshot or evidence.kind == "file":
            continue
        info = read_system_info(volume.tree)
        if info.found or info.problems:
            facts["windows"].append(dict(info.to_dict(), volume=volume.id, problems=info.problems))
    return facts


def _size(value: int | None) -> str:
    if value is None:
        return ""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(value)


def render(facts: dict[str, Any], console: Console) -> None:
    console = Console(width=max(console.width, 140), highlight=False)
    console.print(f"[bold]{esc(facts['evidence'])}[/]  ({facts['kind']})")
    if facts["containers"]:
        console.print(f"container: {', '.join(facts['containers'])}")
    if facts["volume_system"]:
        console.print(f"partition table: {facts['volume_system']}")
    table = Table(title="volumes")
    for column in ("id", "offset", "size", "type", "file system", "label", "serial",
                   "encryption", "status"):
        table.add_column(column, overflow="fold")
    for v in facts["volumes"]:
        table.add_row(*(esc(cell) for cell in (
            v["id"], "" if v["offset"] is None else v["offset"], _size(v["size"]),
            v["partition_type"] or "", v["fs_type"] or "", v["label"] or "", v["serial"] or "",
            v["encryption"] or "", v["status"])))
    console.print(table)
    if facts["snapshots"]:
        console.print(f"volume shadow snapshots: {len(facts['snapshots'])}")
        for s in facts["snapshots"]:
            console.print(f"  {s['volume']}/{s['store']} created {s['created']}")
    for win in facts["windows"]:
        console.print(f"[bold]Windows[/] on {esc(win['volume'])}: {esc(win['product'] or '?')} "
                      f"build {esc(win['build'] or '?')} {esc(win['display_version'] or '')}"
                      .rstrip())
        console.print(f"  host name: {esc(win['host'] or '?')}   installed: "
                      f"{esc(win['install_date'] or '?')}   time zone: {esc(win['timezone'] or '?')}")
        for sid, user in sorted(win["users"].items()):
            created = f"  (folder created {user['profile_created']})" \
                if user.get("profile_created") else ""
            console.print(f"  user {esc(user['name'] or '?')}  {esc(sid)}  "
                          f"{esc(user['profile'] or '')}{esc(created)}")
        for problem in win["problems"]:
            console.print(f"  [yellow]{esc(problem)}[/]")
