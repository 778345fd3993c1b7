#!/usr/bin/env python3
"""Time `triage run` beside plaso (log2timeline + psort) on the same image, for the same
artifacts (Windows Prefetch and the Recycle Bin `$I` files), and write the medians.

    .venv/bin/python bench/run_bench.py bench/work/bench-100k.raw [bench/work/bench-100k.E01] [-n 3]

Configurations, run back to back in every repetition (in this order):
  triage          triage run IMAGE -o CASE --force --quiet --json --only WindowsPrefetch,RecycleBin
  plaso-filter    log2timeline --parsers prefetch,recycle_bin --file_filter FILTER.yaml ... + psort
  plaso-nofilter  the same without --file_filter (plaso opens every file to test the parsers)

For every run: wall time (of both plaso steps together), the peak total RSS and PSS of the whole
process tree (sampled every 0.1 s from /proc, or psutil when importable), the max RSS that
`/usr/bin/time -v` reports (the largest single process), and the number of events produced
(triage: the summary's "events"; plaso: lines in the psort JSONL). Medians and the ratios
plaso/triage go to bench/results/<date>-<image>.json and .md.

plaso lives in its own virtual environment outside the project (default /work/bench-venvs/plaso),
created on first use with `python3 -m venv` + `pip install plaso psutil`. Nothing is added to the
project's dependencies: this script needs only the standard library.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_PLASO_VENV = Path("/work/bench-venvs/plaso")
ARTIFACTS = "WindowsPrefetch,RecycleBin"
PLASO_PARSERS = "prefetch,recycle_bin"
# The same paths triage's definitions name (/Windows/Prefetch/*.pf, /$Recycle.Bin/*/$I*), as
# plaso's YAML filter wants them: one regular expression per path segment, '/' separating.
PLASO_FILTER = """\
description: Windows Prefetch and Recycle Bin $I files (the paths triage searches)
type: include
path_separator: '/'
paths:
- '/Windows/Prefetch/.*\\.pf'
- '/\\$Recycle\\.Bin/.*/\\$I.*'
"""
CONFIGS = ("triage", "plaso-filter", "plaso-nofilter")
MiB = 1024 * 1024


def log(msg: str) -> None:
    print(f"[run_bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Process-tree memory sampling


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _tree(root: int) -> list[int]:
    children = _children_map()
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, ()))
    return out


_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _rss_kib(pid: int) -> int:
    """Resident set size of one process in KiB (/proc/PID/statm: cheap to read)."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as fh:
            return int(fh.read().split()[1]) * _PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def _pss_kib(pid: int) -> int:
    """Proportional set size of one process in KiB: shared pages divided among their users.
    Reading smaps_rollup walks the page tables, so it is sampled less often than RSS."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return 0


class TreeSampler:
    """Peak total RSS (every `interval` s) and PSS (every `pss_every` samples) of a process and
    all its descendants. The tree is re-read from /proc every `tree_every` samples; the
    sampler's own CPU time is recorded (sampler_cpu_s)."""

    def __init__(self, pid: int, interval: float = 0.1, tree_every: int = 5, pss_every: int = 2,
                 skip: tuple[str, ...] = ("time",)):
        self.pid, self.interval, self.skip = pid, interval, skip
        self.tree_every, self.pss_every = tree_every, pss_every
        self.peak_rss = self.peak_pss = 0  # KiB
        self.peak_procs = 0
        self.samples = 0
        self.cpu_s = 0.0  # the sampler's own CPU time
        self._pids: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _comm(self, pid: int) -> str:
        try:
            with open(f"/proc/{pid}/comm") as fh:
                return fh.read().strip()
        except OSError:
            return ""

    def _sample(self) -> None:
        if self.samples < 20 or self.samples % self.tree_every == 0:  # every sample for 2 s
            self._pids = [p for p in _tree(self.pid) if self._comm(p) not in self.skip]
        self.peak_rss = max(self.peak_rss, sum(_rss_kib(p) for p in self._pids))
        if self.samples % self.pss_every == 0:
            self.peak_pss = max(self.peak_pss, sum(_pss_kib(p) for p in self._pids))
        self.peak_procs = max(self.peak_procs, len(self._pids))
        self.samples += 1

    def _run(self) -> None:
        start = time.thread_time()
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)
        self.cpu_s = time.thread_time() - start

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


_TIME_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_CPU_RE = re.compile(r"(User|System) time \(seconds\): ([\d.]+)")


def measure(cmd: list[str], cwd: Path, stdout_path: Path, stderr_path: Path,
            env: dict | None = None) -> dict:
    """Run cmd under /usr/bin/time -v; wall time, tree peaks and the time -v max RSS."""
    time_out = stderr_path.with_suffix(".time")
    full = ["/usr/bin/time", "-v", "-o", str(time_out)] + cmd
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err, env=env)
        with TreeSampler(proc.pid) as sampler:
            rc = proc.wait()
        wall = time.perf_counter() - start
    text = time_out.read_text(errors="replace") if time_out.exists() else ""
    m = _TIME_RE.search(text)
    # user + system CPU of the process and every descendant it waited for (plaso's workers).
    cpu = sum(float(v) for _, v in _CPU_RE.findall(text)) if text else None
    return {"cmd": cmd, "rc": rc, "wall_s": wall, "cpu_s": cpu,
            "tree_peak_rss_kib": sampler.peak_rss, "tree_peak_pss_kib": sampler.peak_pss,
            "tree_peak_procs": sampler.peak_procs, "samples": sampler.samples,
            "sampler_cpu_s": round(sampler.cpu_s, 3),
            "time_v_max_rss_kib": int(m.group(1)) if m else None}


# --------------------------------------------------------------------------------------------
# The tools


def ensure_plaso(venv: Path) -> Path:
    bin_dir = venv / "bin"
    if not (bin_dir / "log2timeline").exists():
        log(f"creating the plaso virtual environment {venv} (python3 -m venv + pip install plaso psutil)")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([shutil.which("python3") or "python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "plaso", "psutil"], check=True)
    return bin_dir


def _version(cmd: list[str]) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        return (done.stdout + done.stderr).strip().splitlines()[-1]
    except Exception as exc:  # noqa: BLE001 - only informational
        return f"unknown ({exc})"


def _pkg_versions(python: Path, names: list[str]) -> dict[str, str]:
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except Exception: out[n] = None\n"
            "print(json.dumps(out))")
    done = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True)
    try:
        return json.loads(done.stdout)
    except ValueError:
        return {}


# Both tools run with compiled bytecode cached, as an installed tool would: a session that sets
# PYTHONDONTWRITEBYTECODE would otherwise make triage (an editable install, no .pyc beside its
# sources) compile its modules on every run, while plaso's wheels ship compiled. The cache lives
# outside the source tree (PYTHONPYCACHEPREFIX), so nothing is written into the project.
CHILD_ENV: dict | None = None


def set_bytecode_cache(prefix: Path | None) -> None:
    global CHILD_ENV
    if prefix is None:
        CHILD_ENV = None
        return
    prefix.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(prefix)
    CHILD_ENV = env


def triage_source() -> dict:
    """Which triage was measured: the commit HEAD names (read from .git, no git command) and a
    SHA-256 over the package's Python sources (the tree may hold uncommitted changes)."""
    import hashlib

    digest = hashlib.sha256()
    files = sorted((ROOT / "triage").rglob("*.py"))
    for f in files:
        digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    commit = None
    try:
        head = (ROOT / ".git" / "HEAD").read_text().strip()
        if head.startswith("ref: "):
            ref = head[5:]
            ref_file = ROOT / ".git" / ref
            if ref_file.exists():
                commit = ref_file.read_text().strip()
            else:
                packed = ROOT / ".git" / "packed-refs"
                for line in packed.read_text().splitlines() if packed.exists() else []:
                    if line.endswith(" " + ref):
                        commit = line.split()[0]
        else:
            commit = head
    except OSError:
        pass
    return {"head_commit": commit, "py_files": len(files), "sources_sha256": digest.hexdigest()}


def run_triage(triage: Path, image: Path, work: Path, tag: str) -> dict:
    case = work / f"case-{tag}"
    cmd = [str(triage), "run", str(image), "-o", str(case), "--force", "--quiet", "--json",
           "--only", ARTIFACTS]
    res = measure(cmd, work, work / f"{tag}.stdout", work / f"{tag}.stderr", CHILD_ENV)
    summary = {}
    try:
        summary = json.loads((work / f"{tag}.stdout").read_text())
    except ValueError:
        pass
    res["events"] = summary.get("events")
    res["per_artifact"] = summary.get("per_artifact")
    res["files"] = summary.get("files")
    res["errors"] = summary.get("errors")
    res["warnings"] = summary.get("warnings")
    res["internal_duration_s"] = summary.get("duration_s")
    timeline = case / "timeline.jsonl"
    if timeline.exists():
        with open(timeline, "rb") as fh:
            res["timeline_lines"] = sum(1 for _ in fh)
        kinds = Counter()
        with open(timeline, encoding="utf-8") as fh:
            for line in fh:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                kinds[f"{ev.get('artifact', '?')}/{ev.get('timestamp_desc', '?')}"] += 1
        res["event_kinds"] = dict(sorted(kinds.items()))
    res["steps"] = None
    return res


def run_plaso(bin_dir: Path, image: Path, work: Path, tag: str, filter_file: Path | None,
              workers: int | None) -> dict:
    storage, jsonl = work / f"{tag}.plaso", work / f"{tag}.jsonl"
    for p in (storage, jsonl):
        if p.exists():
            p.unlink()
    l2t = [str(bin_dir / "log2timeline"), "--status_view", "none", "--unattended",
           "--partitions", "all", "--vss_stores", "none", "--parsers", PLASO_PARSERS,
           "--logfile", str(work / f"{tag}.l2t.log.gz")]
    if filter_file is not None:
        l2t += ["--file_filter", str(filter_file)]
    if workers:
        l2t += ["--workers", str(workers)]
    l2t += ["--storage_file", str(storage), str(image)]
    psort = [str(bin_dir / "psort"), "--status_view", "none", "-o", "json_line",
             "--logfile", str(work / f"{tag}.psort.log.gz"), "-w", str(jsonl), str(storage)]
    s1 = measure(l2t, work, work / f"{tag}.l2t.stdout", work / f"{tag}.l2t.stderr", CHILD_ENV)
    s2 = measure(psort, work, work / f"{tag}.psort.stdout", work / f"{tag}.psort.stderr", CHILD_ENV) \
        if s1["rc"] == 0 else None
    steps = [s for s in (s1, s2) if s is not None]
    res = {
        "cmd": [s1["cmd"], s2["cmd"] if s2 else None],
        "rc": max(s["rc"] for s in steps) if s2 else (s1["rc"] or 1),
        "wall_s": sum(s["wall_s"] for s in steps),
        "cpu_s": sum((s["cpu_s"] or 0) for s in steps),
        "tree_peak_rss_kib": max(s["tree_peak_rss_kib"] for s in steps),
        "tree_peak_pss_kib": max(s["tree_peak_pss_kib"] for s in steps),
        "tree_peak_procs": max(s["tree_peak_procs"] for s in steps),
        "time_v_max_rss_kib": max((s["time_v_max_rss_kib"] or 0) for s in steps),
        "steps": {"log2timeline": s1, "psort": s2},
        "storage_bytes": storage.stat().st_size if storage.exists() else None,
    }
    kinds = Counter()
    events = None
    if jsonl.exists():
        events = 0
        with open(jsonl, encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                events += 1
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                kinds[f"{ev.get('data_type', '?')}/{ev.get('timestamp_desc', '?')}"] += 1
    res["events"] = events
    res["event_kinds"] = dict(sorted(kinds.items()))
    return res


# --------------------------------------------------------------------------------------------
# Reporting


def _med(values: list[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


def summarise(runs: dict[str, list[dict]]) -> dict:
    out: dict[str, dict] = {}
    for config, items in runs.items():
        if not items:
            continue
        out[config] = {
            "runs": len(items),
            "failed_runs": sum(1 for r in items if r["rc"] not in (0,)),
            "wall_s": _med([r["wall_s"] for r in items]),
            "wall_s_min": min(r["wall_s"] for r in items),
            "wall_s_max": max(r["wall_s"] for r in items),
            "cpu_s": _med([r["cpu_s"] for r in items]),
            "loadavg_1m_median": _med([r["loadavg_1m_before"] for r in items]),
            "tree_peak_rss_mib": _med([r["tree_peak_rss_kib"] / 1024 for r in items]),
            "tree_peak_pss_mib": _med([r["tree_peak_pss_kib"] / 1024 for r in items]),
            "time_v_max_rss_mib": _med([(r["time_v_max_rss_kib"] or 0) / 1024 for r in items]),
            "tree_peak_procs": max(r["tree_peak_procs"] for r in items),
            "events": _med([r["events"] for r in items]),
            "events_all": sorted({r["events"] for r in items if r["events"] is not None}),
        }
        if config.startswith("plaso"):
            out[config]["log2timeline_s"] = _med([r["steps"]["log2timeline"]["wall_s"] for r in items])
            out[config]["psort_s"] = _med([r["steps"]["psort"]["wall_s"] for r in items
                                           if r["steps"]["psort"]])
    base = runs.get("triage") or []
    for config in out:
        if not config.startswith("plaso") or not base:
            continue
        pairs = list(zip(base, runs[config]))  # the same repetition: run back to back
        out[config]["ratio_vs_triage"] = {
            "wall": _ratio(out[config]["wall_s"], out["triage"]["wall_s"]),
            "wall_min": _ratio(out[config]["wall_s_min"], out["triage"]["wall_s_min"]),
            "cpu": _ratio(out[config]["cpu_s"], out["triage"]["cpu_s"]),
            "tree_peak_rss": _ratio(out[config]["tree_peak_rss_mib"], out["triage"]["tree_peak_rss_mib"]),
            "tree_peak_pss": _ratio(out[config]["tree_peak_pss_mib"], out["triage"]["tree_peak_pss_mib"]),
            "time_v_max_rss": _ratio(out[config]["time_v_max_rss_mib"], out["triage"]["time_v_max_rss_mib"]),
            "wall_median_of_pair_ratios": _med([p["wall_s"] / t["wall_s"] for t, p in pairs]),
            "tree_rss_median_of_pair_ratios": _med(
                [p["tree_peak_rss_kib"] / t["tree_peak_rss_kib"] for t, p in pairs if t["tree_peak_rss_kib"]]),
        }
    return out


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def markdown(result: dict) -> str:
    lines = [f"# Benchmark {result['image']['name']} ({result['date']})", ""]
    img = result["image"]
    lines.append(f"Image: `{img['path']}` ({img['format']}, {img['bytes'] / MiB:.0f} MiB"
                 + (f", {img['facts']['content']['files']} files" if img.get("facts") else "") + ").")
    host = result["host"]
    lines.append(f"Host: {host['cpus']} CPUs ({host['cpu_model']}), {host['mem_gib']} GiB RAM, "
                 f"Python {host['python']}; triage {result['versions']['triage']}, "
                 f"plaso {result['versions']['plaso']}. Repetitions: {result['repetitions']}.")
    lines += ["", "| configuration | runs | wall s (median) | min-max | CPU s (user+sys) | tree peak RSS MiB "
              "| tree peak PSS MiB | time -v max RSS MiB | procs | events | load 1m | plaso/triage wall "
              "(median; min) | plaso/triage CPU | plaso/triage RSS; PSS |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config, s in result["summary"].items():
        r = s.get("ratio_vs_triage", {})
        lines.append(
            f"| {config} | {s['runs']} | {s['wall_s']:.2f} | {s['wall_s_min']:.2f}-{s['wall_s_max']:.2f} "
            f"| {s['cpu_s']:.2f} | {s['tree_peak_rss_mib']:.0f} | {s['tree_peak_pss_mib']:.0f} "
            f"| {s['time_v_max_rss_mib']:.0f} | {s['tree_peak_procs']} | {s['events']:.0f} "
            f"| {s['loadavg_1m_median']:.1f} "
            + (f"| {r['wall']}; {r['wall_min']} | {r['cpu']} | {r['tree_peak_rss']}; {r['tree_peak_pss']} |"
               if r else "| | | |"))
    lines.append("")
    for config, s in result["summary"].items():
        if config.startswith("plaso"):
            lines.append(f"- {config}: log2timeline {s['log2timeline_s']:.2f} s + psort {s['psort_s']:.2f} s (medians).")
    lines += ["", "Event kinds (first repetition):", ""]
    for config, items in result["runs"].items():
        if items:
            kinds = ", ".join(f"{k}: {v}" for k, v in items[0].get("event_kinds", {}).items())
            lines.append(f"- {config}: {kinds}")
    totals = {s["events"] for s in result["summary"].values()}
    lines += ["", "Counting conventions: triage emits one event per Prefetch run time, per Prefetch volume and "
              "per `$I` file; plaso one per timestamp of an event-data item. "
              + ("Here every configuration produced the same number of events; compare the kinds above."
                 if len(totals) == 1 else "The totals differ: compare the kinds above."), "",
              "Wall times are disturbed by other load on the machine (`load 1m`, taken before each run); "
              "CPU time (user + system of the process and the children it waited for, from "
              "`/usr/bin/time -v`) is the steadier measure of work done.", ""]
    return "\n".join(lines)


def print_table(result: dict) -> None:
    print(f"\n{result['image']['name']} ({result['image']['format']}), {result['repetitions']} repetitions, medians")
    print(f"{'configuration':16} {'runs':>4} {'wall s':>8} {'min s':>7} {'CPU s':>7} {'treeRSS MiB':>12} "
          f"{'treePSS MiB':>12} {'time-v MiB':>11} {'events':>7} {'wall x':>7} {'min x':>6} {'CPU x':>6} "
          f"{'RSS x':>6} {'PSS x':>6}")
    for config, s in result["summary"].items():
        r = s.get("ratio_vs_triage", {})
        print(f"{config:16} {s['runs']:4} {s['wall_s']:8.2f} {s['wall_s_min']:7.2f} {s['cpu_s'] or 0:7.2f} "
              f"{s['tree_peak_rss_mib']:12.0f} {s['tree_peak_pss_mib']:12.0f} "
              f"{s['time_v_max_rss_mib']:11.0f} {s['events'] or 0:7.0f} {str(r.get('wall', '-')):>7} "
              f"{str(r.get('wall_min', '-')):>6} {str(r.get('cpu', '-')):>6} "
              f"{str(r.get('tree_peak_rss', '-')):>6} {str(r.get('tree_peak_pss', '-')):>6}")
    print("(x = plaso / triage of the medians; min x: of the fastest runs. The tools count events "
          "differently in general: compare the event kinds in the .md)")


def host_info() -> dict:
    model = ""
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                mem = int(line.split()[1]) * 1024
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu_model": model, "mem_gib": round(mem / 1024**3, 1),
            "python": platform.python_version(), "kernel": platform.release()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="triage beside plaso on the same image")
    ap.add_argument("images", nargs="+", type=Path, help="raw or E01 image(s)")
    ap.add_argument("-n", "--repetitions", type=int, default=3)
    ap.add_argument("--fewer", action="append", default=[], metavar="CONFIG=N",
                    help="run CONFIG only in the first N repetitions (e.g. plaso-nofilter=1: it takes minutes)")
    ap.add_argument("--configs", default=",".join(CONFIGS),
                    help=f"comma-separated subset of {','.join(CONFIGS)}")
    ap.add_argument("--plaso-venv", type=Path, default=DEFAULT_PLASO_VENV)
    ap.add_argument("--plaso-workers", type=int, default=None, help="log2timeline --workers (default: plaso's)")
    ap.add_argument("--triage", type=Path, default=ROOT / ".venv" / "bin" / "triage")
    ap.add_argument("--work", type=Path, default=HERE / "work" / "runs", help="scratch outputs (git-ignored)")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--bytecode-cache", type=Path, default=HERE / "work" / "pycache",
                    help="PYTHONPYCACHEPREFIX for both tools (git-ignored); 'none' leaves the environment as it is")
    ap.add_argument("--no-warmup", action="store_true",
                    help="skip the unmeasured first run of triage and plaso-filter (fills the bytecode cache)")
    ap.add_argument("--keep", action="store_true", help="keep the cases and plaso outputs of the last repetition")
    args = ap.parse_args(argv)

    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    fewer: dict[str, int] = {}
    for item in args.fewer:
        name, _, count = item.partition("=")
        if name not in CONFIGS or not count.isdigit():
            ap.error(f"--fewer wants CONFIG=N, got {item!r}")
        fewer[name] = int(count)
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown configuration(s): {', '.join(bad)}")
    if not Path("/usr/bin/time").exists():
        ap.error("/usr/bin/time (GNU time) is needed: apt-get install time")
    bin_dir = ensure_plaso(args.plaso_venv) if any(c.startswith("plaso") for c in configs) else None
    set_bytecode_cache(None if str(args.bytecode_cache) == "none" else args.bytecode_cache.resolve())
    versions = {
        "triage": _pkg_versions(args.triage.parent / "python", ["triage", "dfvfs", "pytsk3", "libscca-python"]),
        "plaso": _pkg_versions(bin_dir / "python", ["plaso", "dfvfs", "pytsk3", "libscca-python"]) if bin_dir else None,
    }
    versions["triage"], versions["triage_deps"] = versions["triage"].get("triage"), versions["triage"]
    versions["triage_source"] = triage_source()
    if versions["plaso"]:
        versions["plaso"], versions["plaso_deps"] = versions["plaso"].get("plaso"), versions["plaso"]

    written = []
    for image in args.images:
        image = image.resolve()
        if not image.exists():
            log(f"missing image {image}")
            return 2
        fmt = "E01" if image.suffix.upper() == ".E01" else "raw"
        stem = image.stem
        facts_path = image.with_suffix(".json")
        facts = json.loads(facts_path.read_text()) if facts_path.exists() else None
        work = args.work / f"{stem}-{fmt}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        filter_file = work / "plaso-filter.yaml"
        filter_file.write_text(PLASO_FILTER)
        segments = sorted(image.parent.glob(f"{stem}.E0*")) if fmt == "E01" else [image]
        size = sum(p.stat().st_size for p in segments)

        # Read the image once so that no configuration pays for a cold page cache.
        t0 = time.perf_counter()
        for seg in segments:
            with open(seg, "rb") as fh:
                while fh.read(8 * MiB):
                    pass
        log(f"{image.name}: page cache warmed in {time.perf_counter() - t0:.1f} s")

        if not args.no_warmup:
            # One unmeasured run of each tool: fills the bytecode cache, warms the page cache.
            if "triage" in configs:
                w = run_triage(args.triage, image, work, "warmup-triage")
                log(f"{image.name} warm-up triage: rc {w['rc']}, {w['wall_s']:.2f} s (not counted)")
                shutil.rmtree(work / "case-warmup-triage", ignore_errors=True)
            if any(c.startswith("plaso") for c in configs):
                w = run_plaso(bin_dir, image, work, "warmup-plaso", filter_file, args.plaso_workers)
                log(f"{image.name} warm-up plaso-filter: rc {w['rc']}, {w['wall_s']:.2f} s (not counted)")
                for p in work.glob("warmup-plaso.*"):
                    if p.suffix in (".plaso", ".jsonl"):
                        p.unlink()

        runs: dict[str, list[dict]] = {c: [] for c in configs}
        for rep in range(1, args.repetitions + 1):
            for config in configs:
                if rep > fewer.get(config, args.repetitions):
                    continue
                tag = f"{config}-{rep}"
                load = os.getloadavg()[0]
                if config == "triage":
                    res = run_triage(args.triage, image, work, tag)
                else:
                    res = run_plaso(bin_dir, image, work, tag,
                                    filter_file if config == "plaso-filter" else None, args.plaso_workers)
                res["repetition"] = rep
                res["loadavg_1m_before"] = load
                runs[config].append(res)
                log(f"{image.name} rep {rep} {config}: rc {res['rc']}, {res['wall_s']:.2f} s, "
                    f"tree RSS {res['tree_peak_rss_kib'] / 1024:.0f} MiB, PSS {res['tree_peak_pss_kib'] / 1024:.0f} MiB, "
                    f"time -v {((res['time_v_max_rss_kib'] or 0) / 1024):.0f} MiB, events {res['events']}")
                if res["rc"] != 0:
                    log(f"  non-zero exit: see {work}/{tag}.*stderr")
                # Outputs are large (cases, .plaso); keep only the last repetition's on --keep.
                if not (args.keep and rep == fewer.get(config, args.repetitions)):
                    for p in list(work.glob(f"{tag}.plaso")) + list(work.glob(f"{tag}.jsonl")):
                        p.unlink()
                    shutil.rmtree(work / f"case-{tag}", ignore_errors=True)

        date = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        result = {
            "date": date,
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "image": {"name": f"{stem}-{fmt}", "path": str(image.relative_to(ROOT)) if image.is_relative_to(ROOT) else str(image),
                      "format": fmt, "bytes": size, "segments": len(segments),
                      "facts": {k: facts[k] for k in ("content", "expected", "timings") if k in facts} if facts else None},
            "host": host_info(),
            "versions": versions,
            "repetitions": args.repetitions,
            "repetitions_per_config": {c: len(runs[c]) for c in configs},
            "configs": configs,
            "bytecode_cache": CHILD_ENV is not None,
            "warmup": not args.no_warmup,
            "commands": {
                "triage": f"triage run IMAGE -o CASE --force --quiet --json --only {ARTIFACTS}",
                "plaso": ("log2timeline --status_view none --unattended --partitions all --vss_stores none "
                          f"--parsers {PLASO_PARSERS} [--file_filter FILTER.yaml] --storage_file X.plaso IMAGE; "
                          "psort --status_view none -o json_line -w X.jsonl X.plaso"),
                "plaso_filter_yaml": PLASO_FILTER,
            },
            "summary": summarise(runs),
            "runs": runs,
        }
        # Keep the committed JSON small: drop the full command lines of every run.
        for items in runs.values():
            for r in items:
                r.pop("cmd", None)
                if r.get("steps"):
                    for s in r["steps"].values():
                        if s:
                            s.pop("cmd", None)
        args.results.mkdir(parents=True, exist_ok=True)
        out_json = args.results / f"{date}-{stem}-{fmt}.json"
        out_json.write_text(json.dumps(result, indent=1) + "\n")
        out_md = out_json.with_suffix(".md")
        out_md.write_text(markdown(result))
        written += [out_json, out_md]
        print_table(result)
    for p in written:
        log(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
