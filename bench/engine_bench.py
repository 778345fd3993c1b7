#!/usr/bin/env python3
"""The engine's per-event cost: two or more triage builds on one event-heavy evidence folder.

Why this benchmark: on the large image most of triage's time goes to what happens to each
event after its parser made it (record, hash, store, order and chain, rules, timelines,
report), not to the parsers. This evidence isolates that: a folder with COPIES copies of the
100,000-record EVTX log and the 500,000-record $J of parsers_bench.py (the same seeded
builders), about 665,000 timeline events in all. Each build is run REPETITIONS times,
alternating, and the per-stage timings of its `--json` summary are reported side by side
with wall time, CPU time, peak RSS and the event count (which must be equal).

    .venv/bin/python bench/engine_bench.py --build before=/path/to/old/bin/triage \
        --build after=.venv/bin/triage -n 3

A frozen older build installs with `pip install .` from a `git worktree` of its commit into
a virtual environment of its own (see bench/README.md).
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for path in (ROOT, HERE):  # `fixtures` and `bench` are not installed packages
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from parsers_bench import build_evtx_log, build_usn  # noqa: E402
from run_bench import host_info, log, run_triage  # noqa: E402

EVTX_RECORDS = 100_000
USN_RECORDS = 500_000


def build_evidence(work: Path, copies: int) -> Path:
    """The evidence folder (built once; the inputs are parsers_bench.py's, reused if there)."""
    inputs = work / "parsers"
    inputs.mkdir(parents=True, exist_ok=True)
    evtx = inputs / f"bench-{EVTX_RECORDS}.evtx"
    usn = inputs / f"usn-{USN_RECORDS}.J"
    if not evtx.exists():
        log(f"building {evtx.name}")
        build_evtx_log(evtx, EVTX_RECORDS)
    if not usn.exists():
        log(f"building {usn.name}")
        build_usn(usn, USN_RECORDS)
    folder = work / f"engine-evidence-{copies}"
    logs = folder / "Windows" / "System32" / "winevt" / "Logs"
    logs.mkdir(parents=True, exist_ok=True)
    (folder / "$Extend").mkdir(exist_ok=True)
    targets = [(usn, folder / "$Extend" / "$J")] + \
        [(evtx, logs / f"Security-{n}.evtx") for n in range(1, copies + 1)]
    for source, target in targets:
        if not target.exists():
            shutil.copyfile(source, target)
    return folder


def _median(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return round(statistics.median(real), 3) if real else None


def summarise(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, results in runs.items():
        stages: dict[str, dict[str, float | None]] = {}
        names = [s for r in results for s in (r.get("timings") or {})]
        for stage in dict.fromkeys(names):
            stages[stage] = {key: _median([(r.get("timings") or {}).get(stage, {}).get(key)
                                           for r in results]) for key in ("wall_s", "cpu_s")}
        out[label] = {"runs": len(results), "ok": all(r["ok"] for r in results),
                      "events": sorted({r.get("events") for r in results}, key=str),
                      "wall_s": _median([r["wall_s"] for r in results]),
                      "cpu_s": _median([r["cpu_s"] for r in results]),
                      "peak_rss_mib": _median([(r["tree_peak_rss_kib"] or 0) / 1024 for r in results]),
                      "stages": stages}
    return out


def markdown(result: dict[str, Any]) -> str:
    labels = list(result["summary"])
    first = labels[0]
    lines = [f"# Engine benchmark ({result['date'][:10]})", "",
             f"Evidence: `{result['evidence']}` ({result['copies']} copies of the "
             f"{EVTX_RECORDS:,}-record EVTX log, one {USN_RECORDS:,}-record $J).",
             f"Host: {result['host'].get('cpus')} CPUs, Python {result['host'].get('python')}; "
             f"{result['repetitions']} repetitions each, alternating.", "",
             "| build | events | wall s | CPU s | peak RSS MiB | x " + first + " wall | x " + first + " CPU |",
             "|---|---|---|---|---|---|---|"]
    base = result["summary"][first]
    for label in labels:
        s = result["summary"][label]
        ratio = (lambda k: f"{base[k] / s[k]:.2f}" if s[k] and base[k] else "-")
        lines.append(f"| {label} ({result['builds'][label]}) | {', '.join(map(str, s['events']))} | "
                     f"{s['wall_s']} | {s['cpu_s']} | {s['peak_rss_mib']:.0f} | {ratio('wall_s')} | "
                     f"{ratio('cpu_s')} |")
    lines += ["", "Per stage (median CPU s; wall s in brackets), from each build's --json summary:", "",
              "| stage | " + " | ".join(labels) + " |", "|---|" + "---|" * len(labels)]
    stages = list(dict.fromkeys(s for label in labels for s in result["summary"][label]["stages"]))
    for stage in stages:
        cells = []
        for label in labels:
            value = result["summary"][label]["stages"].get(stage)
            cells.append(f"{value['cpu_s']} ({value['wall_s']})" if value else "-")
        lines.append(f"| {stage} | " + " | ".join(cells) + " |")
    lines += ["", "Command: `" + result["command"] + "`", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", action="append", required=True, metavar="LABEL=TRIAGE",
                    help="a triage executable to measure, with its label (repeatable)")
    ap.add_argument("-n", "--repetitions", type=int, default=3)
    ap.add_argument("--copies", type=int, default=3, help="copies of the EVTX log")
    ap.add_argument("--work", type=Path, default=HERE / "work")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--tag", default="")
    args = ap.parse_args(argv)
    builds = dict(item.split("=", 1) for item in args.build)
    evidence = build_evidence(args.work, args.copies)
    scratch = args.work / "engine-runs"
    scratch.mkdir(parents=True, exist_ok=True)
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in builds}
    for rep in range(args.repetitions):
        for label, triage in builds.items():
            res = run_triage(Path(triage), evidence, scratch, f"{label}-{rep}", only=None)
            res.pop("event_kinds", None)
            log(f"{label} rep {rep + 1}: rc {res['rc']}, {res['wall_s']:.1f} s wall, "
                f"{res['cpu_s']} CPU s, events {res.get('events')}")
            runs[label].append(res)
    result = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "evidence": str(evidence), "copies": args.copies, "host": host_info(),
              "repetitions": args.repetitions, "builds": builds,
              "command": " ".join(["bench/engine_bench.py"] + (argv if argv is not None else sys.argv[1:])),
              "summary": summarise(runs), "runs": runs}
    args.results.mkdir(parents=True, exist_ok=True)
    stem = f"{result['date'][:10]}-engine{'-' + args.tag if args.tag else ''}"
    (args.results / f"{stem}.json").write_text(json.dumps(result, indent=1, default=str))
    (args.results / f"{stem}.md").write_text(markdown(result))
    print(markdown(result))
    return 0 if all(s["ok"] for s in result["summary"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
