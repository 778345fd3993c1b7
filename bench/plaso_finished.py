"""Results of a plaso run that finished outside run_bench.py, from the files it left.

Why: plaso on bench-1m takes longer than a working session (log2timeline about an hour,
psort over four hours), and a session's end stops every process it started, run_bench.py's
and plaso's alike. Run psort by hand under `/usr/bin/time -v` and `timeout` (so that it ends
before the session does and its report is written), then read its `.l2t.time` /
`.psort.time` reports and JSONL here: CPU = user + system of each step, wall = time -v's
elapsed, events and kinds from the JSONL, counted as run_bench.py counts them. A step that
ended early (exit status 124 at `timeout`'s limit, or ended by a signal) makes plaso's
figures and the ratios lower bounds, and the result says so. Writes `bench/results/<date>-<image>-plaso-finished-<tag>.json` and
`.md` beside a triage result of run_bench.py.

    .venv/bin/python bench/plaso_finished.py bench/work/runs/bench-1m-raw-default-s6-plaso \\
        --triage bench/results/2026-11-23-bench-1m-raw-default-s6-triage-mft.json --tag s6
"""
from __future__ import annotations

import argparse
import json
import re
from datetime import datetime, timezone
from pathlib import Path

from run_bench import PLASO_KINDS, kinds_by_family, plaso_jsonl_kinds

RESULTS = Path(__file__).resolve().parent / "results"
_CPU = re.compile(r"(User|System) time \(seconds\): ([\d.]+)")
_WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)")
_RSS = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_EXIT = re.compile(r"Exit status: (\d+)")
# GNU time's first line when the command ended by a signal (its "Exit status" is then 0)
_SIGNAL = re.compile(r"Command terminated by signal (\d+)")


def time_report(path: Path) -> dict:
    """One `/usr/bin/time -v` report: CPU s (user + system), wall s, max RSS KiB, exit status."""
    text = path.read_text(errors="replace")
    wall = _WALL.search(text)
    if wall is None:
        raise SystemExit(f"{path}: no elapsed time (the step has not finished)")
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    rss, status, signal = _RSS.search(text), _EXIT.search(text), _SIGNAL.search(text)
    return {"cpu_s": round(sum(float(v) for _, v in _CPU.findall(text)), 2),
            "wall_s": round(seconds, 2),
            "max_rss_kib": int(rss.group(1)) if rss else None,
            "exit_status": None if signal or status is None else int(status.group(1)),
            "signal": int(signal.group(1)) if signal else None}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run_dir", type=Path, help="the run's folder under bench/work/runs")
    ap.add_argument("--name", default="plaso-filter-1", help="the plaso run's file stem")
    ap.add_argument("--triage", type=Path, required=True, help="run_bench.py result JSON with a triage run")
    ap.add_argument("--tag", default="")
    args = ap.parse_args()
    steps = {step: time_report(args.run_dir / f"{args.name}.{suffix}.time")
             for step, suffix in (("log2timeline", "l2t"), ("psort", "psort"))}
    events, kinds = plaso_jsonl_kinds(args.run_dir / f"{args.name}.jsonl")
    plaso = {"cpu_s": round(sum(s["cpu_s"] for s in steps.values()), 2),
             "wall_s": round(sum(s["wall_s"] for s in steps.values()), 2),
             "max_rss_kib": max(s["max_rss_kib"] or 0 for s in steps.values()),
             "complete": all(s["exit_status"] == 0 for s in steps.values()),
             "steps": steps, "events": events, "event_kinds": dict(sorted(kinds.items())),
             "events_by_kind": kinds_by_family(dict(kinds), PLASO_KINDS)}
    triage_result = json.loads(args.triage.read_text())
    triage = triage_result["runs"]["triage"][0]
    ratios = {"cpu": round(plaso["cpu_s"] / triage["cpu_s"], 2),
              "wall": round(plaso["wall_s"] / triage["wall_s"], 2)}
    date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    stem = f"{date}-{triage_result['image']['name']}-plaso-finished" + (f"-{args.tag}" if args.tag else "")
    out = {"date": date, "run_dir": str(args.run_dir), "plaso": plaso,
           "triage_result": str(args.triage),
           "triage": {k: triage.get(k) for k in ("wall_s", "cpu_s", "tree_peak_rss_kib", "events",
                                                 "loadavg_1m_before")},
           "ratios_plaso_over_triage": ratios,
           # a step ended early (e.g. psort run under `timeout`, exit 124): plaso's time and
           # so the ratios are at least these; its events are those written before the end
           "ratios_are_lower_bounds": not plaso["complete"]}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(out, indent=1) + "\n")
    lines = [f"# plaso (finished outside run_bench.py) beside triage: {triage_result['image']['name']}", "",
             "| tool | wall s | CPU s | max RSS MiB (one process) | events | complete |", "|---|---|---|---|---|---|"]
    for step, s in steps.items():
        lines.append(f"| plaso {step} | {s['wall_s']:,.0f} | {s['cpu_s']:,.0f} | "
                     f"{(s['max_rss_kib'] or 0) / 1024:,.0f} | | "
                     + (f"ended by signal {s['signal']} |" if s["signal"] else f"exit {s['exit_status']} |"))
    lines.append(f"| plaso, both steps | {plaso['wall_s']:,.0f} | {plaso['cpu_s']:,.0f} | "
                 f"{plaso['max_rss_kib'] / 1024:,.0f} | {events:,} | {plaso['complete']} |")
    lines.append(f"| triage ({args.triage.name}) | {triage['wall_s']:,.0f} | {triage['cpu_s']:,.0f} | "
                 f"{triage['tree_peak_rss_kib'] / 1024:,.0f} (tree) | {triage['events']:,} | |")
    bound = "" if plaso["complete"] else ">= "
    lines += ["", f"plaso / triage: **{bound}{ratios['cpu']}x CPU**, **{bound}{ratios['wall']}x wall**."]
    if not plaso["complete"]:
        lines += ["", "plaso did not finish (a step ended at a time limit, by a signal, or "
                  "failed): its times, and so the ratios, are lower bounds; its events are those "
                  "it wrote before the end."]
    lines += ["",
              "| kind | plaso events | triage events |", "|---|---|---|"]
    tri_kinds = triage.get("events_by_kind") or {}
    for kind in sorted(set(plaso["events_by_kind"]) | set(tri_kinds)):
        lines.append(f"| {kind} | {plaso['events_by_kind'].get(kind, 0):,} | {tri_kinds.get(kind, 0):,} |")
    (RESULTS / f"{stem}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
