"""The long fuzzing run: many inputs per target, crashes saved, a report written.

    .venv/bin/python -m fuzz.run_fuzz --target all --examples 100000 --time-budget 15 \
        --seed 2026 --report fuzz/REPORT.md       # the run in fuzz/REPORT.md, about 13 minutes
    .venv/bin/python -m fuzz.run_fuzz --target evtx --target lnk --examples 500 --seed 7

Each target runs in a child process of its own (python -m fuzz.run_fuzz --child NAME), so a
crash inside a C library (a segmentation fault in libesedb, libpff, ...) or a hang that the
per-input deadline cannot interrupt costs that target only and is reported as such: before each
input the child writes the input's mutation plan to a small file, and the parent rebuilds the
input from it (seeds and mutations are deterministic) and saves it as the crash. The child
records every input's outcome without stopping at the first failure, so the report counts all
of them; the smallest input of each distinct failure site is saved under fuzz/crashes/<target>/
(git-ignored) with a .txt beside it saying what it is and how to replay it:

    .venv/bin/python -m fuzz.run_fuzz --replay fuzz/crashes/<target>/<file>.bin

Seeds that parse fast are drawn more often than slow ones (a big sample would otherwise eat a
target's time budget), and an input's deadline is five times its seed's own time when that
is longer than --deadline.

The report (markdown) has one row per target: seeds, inputs tried, inputs the parser rejected
with its expected error, failures, distinct failure sites, time; then every distinct site. The
hand-kept list of failures found and fixed (fuzz/FINDINGS.md) is appended to it.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import re
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fuzz import seeds as S  # noqa: E402
from fuzz import targets as T  # noqa: E402
from fuzz.harness import DEADLINE_S, MEMORY_LIMIT  # noqa: E402
from fuzz.mutators import Op, Plan, apply, hot_offsets, plans  # noqa: E402

CRASHES = ROOT / "fuzz" / "crashes"
FINDINGS = ROOT / "fuzz" / "FINDINGS.md"
ADDRESS_SPACE_LIMIT = 4 * 1024 * 1024 * 1024  # a child's hard bound: runaway C allocations fail


# ---------------------------------------------------------------------------------- plans on disk


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {"seed": plan.seed, "fix": plan.fix,
            "ops": [dict(dataclasses.asdict(op), blob=op.blob.hex()) for op in plan.ops]}


def plan_from_json(raw: dict[str, Any]) -> Plan:
    return Plan(raw["seed"], tuple(Op(**dict(op, blob=bytes.fromhex(op["blob"])))
                                   for op in raw["ops"]), raw.get("fix", False))


# ---------------------------------------------------------------------------------- the child


class _BudgetSpent(BaseException):
    """Raised from inside the property when the target's time budget is spent: hypothesis lets
    a BaseException through at once (no shrinking), which ends the target's run."""


def child(name: str, examples: int, seed: int, limit: int, deadline: float, memory: int,
          out_dir: Path, budget: float | None = None) -> None:
    """Fuzz one target in this process; write results.json and the current plan to out_dir."""
    from hypothesis import HealthCheck, Verbosity, given, settings
    from hypothesis import seed as hypothesis_seed

    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))
    target = T.get(name)
    seeds = target.seed_list(limit)
    hot = [hot_offsets(s.target_bytes()) for s in seeds]
    current = out_dir / "current.json"
    stats: dict[str, Any] = {"tried": 0, "rejected": 0, "events": 0, "failures": 0, "sites": {},
                             "reasons": {}, "suspicious": {}}
    started = time.monotonic()
    costs = [seed_cost(target, seeds, i, deadline) for i in range(len(seeds))]
    deadlines = [max(deadline, 5 * cost) for cost in costs]
    stats["slow_seeds"] = {seeds[i].label: round(d, 1) for i, d in enumerate(deadlines)
                           if d > deadline}
    weights = [min(20, max(1, round(0.05 / max(cost, 1e-4)))) for cost in costs]

    marker = open(current, "w", encoding="utf-8")  # rewritten in place before each input

    def record(plan: Plan) -> None:
        if budget is not None and time.monotonic() - started > budget:
            raise _BudgetSpent()
        marker.seek(0)
        marker.write(json.dumps(plan_to_json(plan)))
        marker.truncate()
        marker.flush()
        outcome, data = T.run_plan(target, seeds, plan, deadlines[plan.seed], memory)
        stats["tried"] += 1
        stats["events"] += outcome.events
        if outcome.expected_error:
            stats["rejected"] += 1
            reason = re.sub(r"\d+", "N", outcome.expected_error)[:90]
            stats["reasons"][reason] = stats["reasons"].get(reason, 0) + 1
        for message in outcome.suspicious[:3]:
            key = re.sub(r"\d+", "N", message)[:140]
            stats["suspicious"][key] = stats["suspicious"].get(key, 0) + 1
        if outcome.failed:
            stats["failures"] += 1
            site = stats["sites"].setdefault(outcome.site, {"count": 0, "size": None})
            site["count"] += 1
            if site["size"] is None or len(data) < site["size"]:
                site.update(size=len(data), failure=outcome.failure, trace=outcome.trace,
                            plan=plan_to_json(plan), seed=seeds[plan.seed].label)
                save_crash(name, outcome.site, data, site, seeds[plan.seed])

    @settings(max_examples=examples, database=None, deadline=None, derandomize=False,
              suppress_health_check=list(HealthCheck), verbosity=Verbosity.quiet)
    @hypothesis_seed(seed)
    @given(plan=plans(hot, weights))
    def fuzz(plan: Plan) -> None:
        record(plan)

    try:
        fuzz()
    except _BudgetSpent:
        stats["budget_spent"] = True
    marker.close()
    current.unlink(missing_ok=True)
    stats["seconds"] = round(time.monotonic() - started, 1)
    stats["seeds"] = len(seeds)
    for site in stats["sites"].values():
        site.pop("trace", None)
    stats["reasons"] = dict(sorted(stats["reasons"].items(), key=lambda kv: -kv[1])[:8])
    stats["suspicious"] = dict(sorted(stats["suspicious"].items(), key=lambda kv: -kv[1])[:8])
    (out_dir / "results.json").write_text(json.dumps(stats, indent=1))


def seed_cost(target: T.Target, seeds: tuple[S.Seed, ...], index: int, deadline: float
              ) -> float:
    """Seconds the unmutated seed takes. Inputs made from it get five times that as their
    deadline when it is longer than `deadline` (a 2 MiB sample event log takes seconds on its
    own; a mutation that makes it five times slower is what counts as a hang), and cheap seeds
    are drawn more often."""
    started = time.monotonic()
    T.run_plan(target, seeds, Plan(index, ()), deadline * 20)
    return time.monotonic() - started


def save_crash(name: str, site: str, data: bytes, info: dict[str, Any], seed: S.Seed) -> Path:
    folder = CRASHES / name
    folder.mkdir(parents=True, exist_ok=True)
    stem = hashlib.sha256(site.encode()).hexdigest()[:12]
    path = folder / f"{stem}.bin"
    path.write_bytes(data)
    (folder / f"{stem}.txt").write_text(
        f"target: {name}\nsite: {site}\nfailure: {info.get('failure')}\nseed: {seed.label}\n"
        f"seed path: {seed.path}\nmutated file: {seed.mutate or 'the main file'}\n"
        f"plan: {json.dumps(info.get('plan'))}\n"
        f"replay: .venv/bin/python -m fuzz.run_fuzz --replay {path.relative_to(ROOT)}\n\n"
        f"{info.get('trace') or ''}", encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------- the parent


def run_target(name: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run one target's child; its stats, with a crash of the child itself recorded."""
    work = CRASHES / ".work" / name
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.iterdir():
        stale.unlink()
    command = [sys.executable, "-m", "fuzz.run_fuzz", "--child", name, "--examples",
               str(args.examples), "--seed", str(args.seed), "--sample-limit",
               str(args.sample_limit), "--deadline", str(args.deadline), "--memory",
               str(args.memory), "--work", str(work)]
    if args.time_budget:
        command += ["--time-budget", str(args.time_budget)]
    budget = args.target_timeout or (args.time_budget * 3 + 120 if args.time_budget else
                                     max(120.0, args.examples * args.deadline * 0.2))
    started = time.monotonic()
    try:
        proc = subprocess.run(command, cwd=ROOT, timeout=budget, capture_output=True, text=True)
        code, tail = proc.returncode, (proc.stderr or "")[-2000:]
    except subprocess.TimeoutExpired:
        code, tail = None, f"child still running after {budget:.0f} s: stopped"
    results = work / "results.json"
    if results.exists() and code == 0:
        stats = json.loads(results.read_text())
    else:
        stats = {"tried": None, "rejected": None, "events": None, "failures": 1,
                 "seconds": round(time.monotonic() - started, 1), "seeds": None,
                 "sites": {}}
        why = ("hang (no result before the time limit)" if code is None else
               f"child died: {signal.Signals(-code).name}" if code < 0 else
               f"child exited {code}")
        last = tail.strip().splitlines()[-1] if tail.strip() else ""
        site = {"count": 1, "failure": f"{why}; {last}"}
        current = work / "current.json"
        if current.exists():
            plan = plan_from_json(json.loads(current.read_text()))
            target = T.get(name)
            seeds = target.seed_list(args.sample_limit)
            data = apply(seeds[plan.seed].target_bytes(), plan.ops)
            site.update(plan=plan_to_json(plan), seed=seeds[plan.seed].label, size=len(data))
            save_crash(name, why, data, site, seeds[plan.seed])
        stats["sites"][why] = site
    stats["target"] = name
    return stats


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                              capture_output=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def write_report(path: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    samples = S.samples_dir()
    seconds = sum(row.get("seconds") or 0 for row in rows)
    lines = [
        "# Fuzzing report",
        "",
        f"Run {when} on commit {_commit()} (plus the working tree): `python -m fuzz.run_fuzz "
        f"--target {' '.join(args.target)} --examples {args.examples} --seed {args.seed}"
        f"{' --time-budget %g' % args.time_budget if args.time_budget else ''}`; "
        f"{seconds / 60:.1f} minutes of fuzzing in all. Per-input deadline {args.deadline:g} s "
        "(or five times the unmutated seed's own time when longer), peak Python memory bound "
        f"{args.memory >> 20} MiB (tracemalloc), address space of each child "
        f"{ADDRESS_SPACE_LIMIT >> 30} GiB. Shared samples: "
        f"{'used, up to ' + str(args.sample_limit >> 10) + ' KiB each' if samples else 'absent'}."
        " Half of the inputs of the ESE, EVTX and registry targets have their checksums "
        "repaired after mutation (fuzz/fixups.py).",
        "",
        "`rejected`: inputs the parser refused with its expected error (ArtifactError, or the "
        "parser's own error type), the right answer for a broken file. `failures`: inputs that "
        "raised anything else, yielded an invalid event, hid a crash behind the registry plugin "
        "isolation, ran past the deadline, went over the memory bound or killed the process.",
        "",
        "| target | kind | seeds | inputs tried | rejected | events | failures | distinct sites "
        "| seconds |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    total = {"tried": 0, "failures": 0}
    for row in rows:
        target = T.TARGETS[row["target"]]
        lines.append(f"| {row['target']} | {target.kind} | {row.get('seeds')} | "
                     f"{row.get('tried')} | {row.get('rejected')} | {row.get('events')} | "
                     f"{row['failures']} | {len(row['sites'])} | {row.get('seconds')} |")
        total["tried"] += row.get("tried") or 0
        total["failures"] += row["failures"]
    lines += ["", f"Total: {total['tried']} inputs, {total['failures']} failures.", ""]
    sites = [(row["target"], site, info) for row in rows for site, info in row["sites"].items()]
    lines += ["## Distinct failure sites in this run", ""]
    if not sites:
        lines.append("None.")
    for name, site, info in sites:
        lines.append(f"- `{name}`: {site} ({info['count']} inputs; e.g. "
                     f"{(info.get('failure') or '').splitlines()[0][:160]})")
    slow = [(row["target"], label, limit) for row in rows
            for label, limit in (row.get("slow_seeds") or {}).items()]
    if slow:
        lines += ["", "## Seeds with a longer deadline", "",
                  "These seeds take long enough unmutated that an input made from them gets five "
                  "times their own time:", ""]
        lines += [f"- `{name}`: {label} ({limit:g} s)" for name, label, limit in slow]
    suspicious = [(row["target"], text, count) for row in rows
                  for text, count in (row.get("suspicious") or {}).items()]
    lines += ["", "## Warnings naming a Python error", "",
              "Not failures: a parser's per-record isolation caught the error, reported it and "
              "went on with the next record. Listed because such a warning may hide a bug.", ""]
    lines += [f"- `{name}` ({count} inputs): {text}" for name, text, count in suspicious] or \
        ["None."]
    lines += ["", "## Most frequent rejections", "",
              "What the parsers said about the inputs they refused (numbers replaced by N):", ""]
    for row in rows:
        reasons = list((row.get("reasons") or {}).items())[:2]
        if reasons:
            lines.append(f"- `{row['target']}`: " + "; ".join(f"{text} ({count})"
                                                              for text, count in reasons))
    if FINDINGS.exists():
        lines += ["", FINDINGS.read_text(encoding="utf-8").rstrip()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def replay(path: Path) -> int:
    """Run a saved crash input again (its .txt says which target, seed and file)."""
    info = dict(line.split(": ", 1) for line in path.with_suffix(".txt").read_text().splitlines()
                if ": " in line and line.split(": ", 1)[0] in ("target", "seed", "plan"))
    target = T.get(info["target"])
    plan = plan_from_json(json.loads(info["plan"]))
    for limit in (S.LONG_SAMPLE_LIMIT, S.CI_SAMPLE_LIMIT):
        seeds = target.seed_list(limit)
        if plan.seed < len(seeds) and seeds[plan.seed].label == info["seed"]:
            break
    else:
        print("the seed of this crash is not available (samples absent?)", file=sys.stderr)
        return 2
    outcome, _ = T.run_plan(target, seeds, plan, DEADLINE_S * 4)
    print(outcome.trace or outcome.expected_error or f"no failure: {outcome.events} events")
    return 1 if outcome.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", action="append", default=[],
                        help="a target name (repeatable) or 'all'")
    parser.add_argument("--examples", type=int, default=1000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    parser.add_argument("--report", type=Path, help="write the markdown report here")
    parser.add_argument("--sample-limit", type=int, default=S.LONG_SAMPLE_LIMIT,
                        help="largest shared sample used as a seed (bytes)")
    parser.add_argument("--deadline", type=float, default=DEADLINE_S, help="seconds per input")
    parser.add_argument("--memory", type=int, default=MEMORY_LIMIT, help="peak bytes per input")
    parser.add_argument("--time-budget", type=float,
                        help="seconds of fuzzing per target: stop there even before --examples")
    parser.add_argument("--target-timeout", type=float,
                        help="seconds after which a target's child is killed (a hang)")
    parser.add_argument("--list", action="store_true", help="list the targets and exit")
    parser.add_argument("--replay", type=Path, help="run a saved crash input again")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.list:
        for name, target in T.TARGETS.items():
            print(f"{name:24s} {target.kind:9s} {target.module}")
        return 0
    if args.replay:
        return replay(args.replay)
    if args.child:
        child(args.child, args.examples, args.seed, args.sample_limit, args.deadline,
              args.memory, args.work, args.time_budget)
        return 0
    names = list(T.TARGETS) if not args.target or "all" in args.target else args.target
    for name in names:
        T.get(name)
    rows = []
    for name in names:
        row = run_target(name, args)
        rows.append(row)
        print(f"{name:24s} tried {row.get('tried')}, rejected {row.get('rejected')}, "
              f"failures {row['failures']} ({len(row['sites'])} sites), {row.get('seconds')} s",
              flush=True)
        for site, info in row["sites"].items():
            print(f"    {site}: {info['count']}x {(info.get('failure') or '')[:150]}", flush=True)
    args.target = names if len(names) < len(T.TARGETS) else ["all"]
    if args.report:
        write_report(args.report, rows, args)
    return 1 if any(row["failures"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
