#!/usr/bin/env python3
"""Time `triage run` beside plaso (log2timeline + psort) and dissect (target-query) on the same
image, for the same artifacts, and write the medians.

    .venv/bin/python bench/run_bench.py bench/work/bench-100k.raw [bench/work/bench-100k.E01] [-n 3]
    .venv/bin/python bench/run_bench.py IMAGE --scope default --configs triage,plaso-filter,dissect

Scopes (--scope):
  prefetch-rb  (the default) Windows Prefetch and the Recycle Bin `$I` files only
  default      triage's default artifacts (`triage run IMAGE`, no --only); plaso with the parsers
               that cover them and a file filter built from triage's own definitions; dissect
               with the equivalent plugins (DISSECT_DEFAULT_PLUGINS)

Configurations, run back to back in every repetition (in this order):
  triage          triage run IMAGE -o CASE --force --quiet --json [--only ...]
  plaso-filter    log2timeline --parsers LIST --file_filter FILTER.yaml ... + psort
  plaso-nofilter  the same without --file_filter (plaso opens every file to test the parsers)
  dissect         target-query -q -j -f PLUGINS IMAGE (JSON lines; records counted)

For every run: wall time (of both plaso steps together), the peak total RSS and PSS of the whole
process tree (sampled every 0.1 s from /proc, or psutil when importable), the max RSS that
`/usr/bin/time -v` reports (the largest single process), and the number of events produced
(triage: the summary's "events"; plaso: lines in the psort JSONL). Medians and the ratios
plaso/triage go to bench/results/<date>-<image>.json and .md.

plaso and dissect live in their own virtual environments outside the project (default
/work/bench-venvs/plaso and /work/bench-venvs/dissect), created on first use with `python3 -m
venv` + `pip install plaso psutil` (or `dissect psutil`). Nothing is added to the project's
dependencies: this script needs the standard library, plus triage itself (PyYAML and
triage.artifacts) for the default scope's plaso filter.

Events are also mapped to common kinds (prefetch, lnk, evtx, registry, browser, recycle bin,
mft, usnjrnl, ...) for every tool, so the result shows who produced what; and triage's own
per-stage timings (the "timings" of its --json summary, when it has them) go into the result.
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
CONFIGS = ("triage", "plaso-filter", "plaso-nofilter", "dissect")
DEFAULT_CONFIGS = ("triage", "plaso-filter", "plaso-nofilter")
DEFAULT_DISSECT_VENV = Path("/work/bench-venvs/dissect")
SCOPES = ("prefetch-rb", "default")
DISSECT_PREFETCH_RB = "prefetch,recyclebin"
# plaso parsers that cover triage's default artifacts (/work/shared/BENCHMARKS.md, plus the
# INFO2 Recycle Bin, Custom Destinations jump lists and the Windows Timeline database, which
# triage also reads by default). `mft` gives plaso's whole MACB timeline of the $MFT, where
# triage's default reports only deleted entries: see the kinds table of a result.
PLASO_DEFAULT_PARSERS = ("prefetch,lnk,winreg,winevtx,sqlite/chrome_27_history,sqlite/firefox_history,"
                         "sqlite/windows_timeline,recycle_bin,recycle_bin_info2,text/setupapi,olecf,"
                         "custom_destinations,czip/oxml,mft,usnjrnl,esedb")
# dissect target-query plugins (dissect.target 3.25, `target-query -l`) for triage's default
# artifacts: Prefetch, Recycle Bin, shortcuts, both jump lists, event logs, browser history and
# downloads, the registry plugins triage has an equivalent of (UserAssist, MRUs, USB, ShimCache,
# Amcache, BAM, ShellBags, SAM), Windows Timeline, SRUM network and application usage, the USN
# journal, and the $MFT (mft.records: every entry, where triage's default reports deleted ones).
DISSECT_DEFAULT_PLUGINS = (
    "prefetch,recyclebin,lnk,jumplist.automatic_destination,jumplist.custom_destination,evtx,"
    "browser.history,browser.downloads,userassist,mru.recentdocs,mru.opensave,mru.lastvisited,"
    "mru.run,mru.msoffice,mru.networkdrive,mru.mstsc,usb,shimcache,amcache.files,amcache.programs,"
    "amcache.applications,amcache.application_files,bam,shellbags,sam,activitiescache,"
    "sru.network_data,sru.application,usnjrnl,mft.records")
MiB = 1024 * 1024


def log(msg: str) -> None:
    print(f"[run_bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The scope: what each tool is asked for


def _glob_segment_regex(segment: str) -> str:
    """One path segment of a triage pattern (shell wildcards as fnmatch reads them, matched
    case-insensitively) as the regular expression plaso's filter wants for that segment
    (dfVFS anchors it and ignores case)."""
    out, i = [], 0
    while i < len(segment):
        c = segment[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = i + 1
            if segment[j:j + 1] == "!":
                j += 1
            if segment[j:j + 1] == "]":
                j += 1
            end = segment.find("]", j)
            if end < 0:
                out.append(re.escape(c))
            else:
                body = segment[i + 1:end]
                body = "^" + body[1:] if body.startswith("!") else body
                out.append("[" + body + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def plaso_filter_paths(patterns: list[str], depth: int = 10) -> list[str]:
    """triage path patterns as plaso filter paths (one regular expression per segment).

    plaso's filter has no recursion: a `**` (any number of folders, zero included) becomes 0 to
    `depth` `.*` segments. An NTFS stream (`/$Extend/$UsnJrnl:$J`) names its file; `@volume`
    has no plaso equivalent. Patterns that differ only in their last segment are merged into
    one alternation, so the expansion stays small (Thunderbird's folder names: 150 patterns)."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for pattern in patterns:
        if pattern.strip("/") == "@volume":
            continue
        segments = [seg for seg in pattern.strip("/").split("/") if seg]
        if not segments:
            continue
        if ":" in segments[-1]:
            segments[-1] = segments[-1].split(":", 1)[0]
        regexes = [seg if seg == "**" else _glob_segment_regex(seg) for seg in segments]
        last = groups.setdefault(tuple(regexes[:-1]), [])
        if regexes[-1] not in last:
            last.append(regexes[-1])
    out: list[str] = []
    for prefix, lasts in groups.items():
        tail = lasts[0] if len(lasts) == 1 else "(" + "|".join(lasts) + ")"
        expanded: list[list[str]] = [[]]
        for seg in prefix:
            if seg == "**":
                expanded = [e + [".*"] * n for e in expanded for n in range(depth + 1)]
            else:
                expanded = [e + [seg] for e in expanded]
        for segs in expanded:
            path = "/" + "/".join(segs + [tail])
            if path not in out:
                out.append(path)
    return out


def default_artifacts(definitions_dir: Path | None = None) -> list:
    """triage's default artifacts, loaded the way `triage run` loads them (triage.artifacts)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from triage.artifacts import load_definitions, select

    extra = [str(definitions_dir)] if definitions_dir else []
    return select(load_definitions(extra), [])


def plaso_default_filter(depth: int = 10) -> tuple[str, dict]:
    """The YAML filter for the default scope, and what went into it. Definitions limited to
    non-system volumes (`volumes: other`, e.g. `/**/*.pdf` sweeps of USB sticks) are left out:
    plaso's filter applies to every volume, and on a system volume triage skips them."""
    import yaml  # PyYAML: a triage dependency

    artifacts = default_artifacts()
    used = [a for a in artifacts if a.volumes != "other"]
    patterns = [p for a in used for p in a.paths]
    paths = plaso_filter_paths(patterns, depth)
    doc = {"description": "triage's default artifacts (the paths its definitions name; "
                          f"** expanded to 0-{depth} folders)",
           "type": "include", "path_separator": "/", "paths": paths}
    info = {"artifacts": [a.name for a in used],
            "left_out_other_volumes": [a.name for a in artifacts if a.volumes == "other"],
            "left_out_volume_paths": [a.name for a in used if any(p.strip("/") == "@volume" for p in a.paths)],
            "triage_patterns": len(patterns), "filter_paths": len(paths), "globstar_depth": depth}
    return yaml.safe_dump(doc, sort_keys=False, width=1000), info


# Common kinds, so the tools' outputs can be compared: triage by artifact name, plaso by
# data_type, dissect by record type. First match wins (substring of the lower-cased name).
TRIAGE_KINDS = (
    ("onedrive", "cloud"), ("dropbox", "cloud"), ("drivefs", "cloud"), ("boxdrive", "cloud"),
    ("prefetch", "prefetch"), ("recyclebin", "recycle bin"), ("ntfsdeleted", "mft"),
    ("ntfsfilesystem", "mft"), ("usnjournal", "usnjrnl"), ("shortcuts", "lnk"),
    ("jumplist", "jumplist"), ("eventlog", "evtx"), ("registry", "registry"),
    ("amcache", "registry"), ("setupapi", "setupapi"), ("webcache", "browser"),
    ("history", "browser"), ("downloads", "browser"), ("documents", "documents"),
    ("srum", "srum"), ("timeline", "activity"), ("pst", "mail"), ("mbox", "mail"),
    ("gloda", "mail"), ("mail", "mail"), ("fat", "fat"),
)
PLASO_KINDS = (
    ("windows:prefetch", "prefetch"), ("windows:volume:creation", "prefetch"),
    ("windows:metadata:deleted_item", "recycle bin"), ("fs:ntfs:usn", "usnjrnl"),
    ("fs:stat:ntfs", "mft"), ("fs:stat", "mft"), ("windows:lnk", "lnk"),
    ("windows:shell_item", "lnk"), ("windows:distributed_link_tracking", "lnk"),
    ("olecf:dest_list", "jumplist"), ("windows:evtx", "evtx"), ("windows:registry", "registry"),
    ("windows:srum", "srum"), ("windows:timeline", "activity"), ("setupapi", "setupapi"),
    ("chrome:", "browser"), ("firefox:", "browser"), ("msie:", "browser"), ("webcache", "browser"),
    ("olecf:", "documents"), ("metadata:openxml", "documents"), ("office", "documents"),
    ("esedb", "other esedb"),
)
DISSECT_KINDS = (
    ("prefetch", "prefetch"), ("recyclebin", "recycle bin"), ("usnjrnl", "usnjrnl"),
    ("mft", "mft"), ("jumplist", "jumplist"), ("lnk", "lnk"), ("evtx", "evtx"),
    ("browser", "browser"), ("sru", "srum"), ("activitiescache", "activity"),
    ("registry", "registry"), ("shimcache", "registry"), ("amcache", "registry"),
    ("userassist", "registry"), ("mru", "registry"), ("shellbag", "registry"),
    ("bam", "registry"), ("usb", "registry"), ("sam", "registry"),
)


def kind_of(name: str, table: tuple[tuple[str, str], ...]) -> str:
    low = name.lower()
    for needle, kind in table:
        if needle in low:
            return kind
    return "other"


def kinds_by_family(event_kinds: dict[str, int], table: tuple[tuple[str, str], ...]) -> dict[str, int]:
    """Event counts per common kind, from the tool's own fine-grained kinds ("name/desc")."""
    out: Counter = Counter()
    for key, count in event_kinds.items():
        out[kind_of(key.split("/", 1)[0] if table is not DISSECT_KINDS else key, table)] += count
    return dict(sorted(out.items()))


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


_HZ = os.sysconf("SC_CLK_TCK")


def _own_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a process has used itself so far (/proc/PID/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
        fields = stat[stat.rfind(b")") + 2:].split()
        return (int(fields[11]) + int(fields[12])) / _HZ
    except (OSError, IndexError, ValueError):
        return None


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
        self._cpu: dict[int, float] = {}  # each process's own CPU s, as last seen
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
            for pid in self._pids:
                used = _own_cpu_s(pid)
                if used is not None:
                    self._cpu[pid] = max(used, self._cpu.get(pid, 0.0))
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

    @property
    def tree_cpu_s(self) -> float:
        """CPU seconds of the tree's processes as sampled (each process's own time when last
        seen): a lower bound that survives killed workers, which /usr/bin/time cannot count."""
        return round(sum(self._cpu.values()), 2)


_TIME_RE = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_CPU_RE = re.compile(r"(User|System) time \(seconds\): ([\d.]+)")


def _stop_tree(root: int) -> None:
    """End the measured command's processes (not /usr/bin/time, which then writes its report):
    SIGTERM, then SIGKILL for what is left after 10 s."""
    import signal

    for sig, pause in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 0.0)):
        pids = [p for p in _tree(root) if p != root]
        for pid in pids:
            try:
                os.kill(pid, sig)
            except OSError:
                pass
        deadline = time.monotonic() + pause
        while pause and time.monotonic() < deadline and any(p != root for p in _tree(root)):
            time.sleep(0.2)


def measure(cmd: list[str], cwd: Path, stdout_path: Path, stderr_path: Path,
            env: dict | None = None, timeout: float | None = None) -> dict:
    """Run cmd under /usr/bin/time -v; wall time, tree peaks and the time -v max RSS. With a
    timeout the command is ended when it runs past it (`timed_out`: its figures are a lower
    bound, its output partial)."""
    time_out = stderr_path.with_suffix(".time")
    full = ["/usr/bin/time", "-v", "-o", str(time_out)] + cmd
    timed_out = False
    with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(full, cwd=cwd, stdout=out, stderr=err, env=env)
        with TreeSampler(proc.pid) as sampler:
            try:
                rc = proc.wait(timeout=timeout if timeout and timeout > 0 else None)
            except subprocess.TimeoutExpired:
                timed_out = True
                log(f"  {Path(cmd[0]).name} ran past {timeout:.0f} s: ended (figures are lower bounds)")
                _stop_tree(proc.pid)
                rc = proc.wait()
        wall = time.perf_counter() - start
    text = time_out.read_text(errors="replace") if time_out.exists() else ""
    m = _TIME_RE.search(text)
    # user + system CPU of the process and every descendant it waited for (plaso's workers).
    cpu = sum(float(v) for _, v in _CPU_RE.findall(text)) if text else None
    if timed_out:  # killed workers are not in time -v's sum: the sampled figure is the bound
        cpu = max(cpu or 0.0, sampler.tree_cpu_s)
    return {"cmd": cmd, "rc": rc, "timed_out": timed_out, "wall_s": wall, "cpu_s": cpu,
            "tree_cpu_s_sampled": sampler.tree_cpu_s,
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


def ensure_dissect(venv: Path) -> Path:
    """dissect in its own virtual environment, created on first use like plaso's."""
    bin_dir = venv / "bin"
    if not (bin_dir / "target-query").exists():
        log(f"creating the dissect virtual environment {venv} (python3 -m venv + pip install dissect psutil)")
        venv.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([shutil.which("python3") or "python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "-q", "dissect", "psutil"], check=True)
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


def default_plus(extra: str) -> str:
    """An --only list naming triage's default artifacts and the off-by-default ones in EXTRA."""
    from triage.artifacts import load_definitions
    known = {a.name: a for a in load_definitions()}
    added = [name.strip() for name in extra.split(",") if name.strip()]
    missing = [name for name in added if name not in known]
    if missing:
        sys.exit(f"--triage-add: no artifact named {missing[0]}")
    return ",".join([a.name for a in known.values() if a.default] + added)


def run_triage(triage: Path, image: Path, work: Path, tag: str, only: str | None = ARTIFACTS,
               timeout: float | None = None, options: list[str] | None = None) -> dict:
    case = work / f"case-{tag}"
    cmd = [str(triage), "run", str(image), "-o", str(case), "--force", "--quiet", "--json"]
    if only:
        cmd += ["--only", only]
    cmd += options or []
    res = measure(cmd, work, work / f"{tag}.stdout", work / f"{tag}.stderr", CHILD_ENV, timeout)
    summary = {}
    try:
        summary = json.loads((work / f"{tag}.stdout").read_text())
    except ValueError:
        pass
    res["events"] = summary.get("events")
    # triage exits 1 when some artifact file could not be parsed (an error row each, the run
    # complete): on the bench image, files named like artifacts that are not (random .lnk,
    # .evtx, .docx bytes). That is a finished run; only a missing summary or another code fails.
    res["ok"] = res["rc"] == 0 or (res["rc"] == 1 and bool(summary) and summary.get("exit_code") == 1
                                   and (summary.get("errors") or 0) > 0)
    res["per_artifact"] = summary.get("per_artifact")
    res["files"] = summary.get("files")
    res["errors"] = summary.get("errors")
    res["warnings"] = summary.get("warnings")
    res["internal_duration_s"] = summary.get("duration_s")
    res["timings"] = stage_timings(summary.get("timings"))
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
        res["events_by_kind"] = kinds_by_family(res["event_kinds"], TRIAGE_KINDS)
    res["steps"] = None
    return res


def stage_timings(raw) -> dict[str, dict[str, float | None]] | None:
    """triage's per-stage timings from its --json summary: {stage: {wall_s, cpu_s}} (a bare
    number is read as the wall time); None when this triage does not report them."""
    if not isinstance(raw, dict) or not raw:
        return None
    out: dict[str, dict[str, float | None]] = {}
    for stage, value in raw.items():
        if isinstance(value, (int, float)):
            out[str(stage)] = {"wall_s": float(value), "cpu_s": None}
        elif isinstance(value, dict):
            wall, cpu = value.get("wall_s", value.get("seconds")), value.get("cpu_s")
            out[str(stage)] = {"wall_s": float(wall) if isinstance(wall, (int, float)) else None,
                               "cpu_s": float(cpu) if isinstance(cpu, (int, float)) else None}
    return out or None


def run_dissect(bin_dir: Path, image: Path, work: Path, tag: str, plugins: str,
                timeout: float | None = None) -> dict:
    """target-query with the scope's plugins, JSON lines on stdout; records are counted by
    their record type (`_recorddescriptor`), descriptor lines are not records."""
    out_path = work / f"{tag}.dissect.jsonl"
    cmd = [str(bin_dir / "target-query"), "-q", "-j", "-f", plugins, str(image)]
    res = measure(cmd, work, out_path, work / f"{tag}.dissect.stderr", CHILD_ENV, timeout)
    kinds: Counter = Counter()
    events = 0
    bad = 0
    if out_path.exists():
        with open(out_path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except ValueError:
                    bad += 1
                    continue
                if rec.get("_type") != "record":
                    continue
                events += 1
                desc = rec.get("_recorddescriptor")
                name = desc[0] if isinstance(desc, list) and desc else str(desc)
                kinds[name] += 1
    res["events"] = events if out_path.exists() else None
    res["unparsed_lines"] = bad
    res["output_bytes"] = out_path.stat().st_size if out_path.exists() else None
    res["event_kinds"] = dict(sorted(kinds.items()))
    res["events_by_kind"] = kinds_by_family(res["event_kinds"], DISSECT_KINDS)
    try:
        err = (work / f"{tag}.dissect.stderr").read_text(errors="replace").splitlines()
        res["stderr_lines"] = len(err)
        res["stderr_tail"] = err[-5:]
    except OSError:
        pass
    res["steps"] = None
    return res


def plaso_jsonl_kinds(jsonl: Path) -> tuple[int, Counter]:
    """psort's JSON lines: how many, and how many of each `data_type/timestamp_desc`."""
    events, kinds = 0, Counter()
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
    return events, kinds


def run_plaso(bin_dir: Path, image: Path, work: Path, tag: str, filter_file: Path | None,
              workers: int | None, parsers: str = PLASO_PARSERS, timeout: float | None = None) -> dict:
    storage, jsonl = work / f"{tag}.plaso", work / f"{tag}.jsonl"
    for p in (storage, jsonl):
        if p.exists():
            p.unlink()
    l2t = [str(bin_dir / "log2timeline"), "--status_view", "none", "--unattended",
           "--partitions", "all", "--vss_stores", "none", "--parsers", parsers,
           "--logfile", str(work / f"{tag}.l2t.log.gz")]
    if filter_file is not None:
        l2t += ["--file_filter", str(filter_file)]
    if workers:
        l2t += ["--workers", str(workers)]
    l2t += ["--storage_file", str(storage), str(image)]
    psort = [str(bin_dir / "psort"), "--status_view", "none", "-o", "json_line",
             "--logfile", str(work / f"{tag}.psort.log.gz"), "-w", str(jsonl), str(storage)]
    s1 = measure(l2t, work, work / f"{tag}.l2t.stdout", work / f"{tag}.l2t.stderr", CHILD_ENV, timeout)
    left = None if not timeout else max(timeout - s1["wall_s"], 1.0)
    s2 = measure(psort, work, work / f"{tag}.psort.stdout", work / f"{tag}.psort.stderr", CHILD_ENV, left) \
        if s1["rc"] == 0 and not s1["timed_out"] else None
    steps = [s for s in (s1, s2) if s is not None]
    res = {
        "cmd": [s1["cmd"], s2["cmd"] if s2 else None],
        "rc": max(s["rc"] for s in steps) if s2 else (s1["rc"] or 1),
        "timed_out": any(s["timed_out"] for s in steps),
        "wall_s": sum(s["wall_s"] for s in steps),
        "cpu_s": sum((s["cpu_s"] or 0) for s in steps),
        "tree_peak_rss_kib": max(s["tree_peak_rss_kib"] for s in steps),
        "tree_peak_pss_kib": max(s["tree_peak_pss_kib"] for s in steps),
        "tree_peak_procs": max(s["tree_peak_procs"] for s in steps),
        "time_v_max_rss_kib": max((s["time_v_max_rss_kib"] or 0) for s in steps),
        "steps": {"log2timeline": s1, "psort": s2},
        "storage_bytes": storage.stat().st_size if storage.exists() else None,
    }
    events, kinds = plaso_jsonl_kinds(jsonl) if jsonl.exists() else (None, Counter())
    res["events"] = events
    res["event_kinds"] = dict(sorted(kinds.items()))
    res["events_by_kind"] = kinds_by_family(res["event_kinds"], PLASO_KINDS)
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
            "failed_runs": sum(1 for r in items if not r.get("ok", r["rc"] == 0)),
            "timed_out_runs": sum(1 for r in items if r.get("timed_out")),
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
        by_kind = [r.get("events_by_kind") for r in items if r.get("events_by_kind") is not None]
        if by_kind:
            names = sorted({k for d in by_kind for k in d})
            out[config]["events_by_kind"] = {k: _med([d.get(k, 0) for d in by_kind]) for k in names}
        if config == "triage":
            out[config]["artifact_errors"] = _med([r.get("errors") for r in items])
            timed = [r["timings"] for r in items if r.get("timings")]
            out[config]["timings"] = _median_timings(timed) if timed else None
    base = runs.get("triage") or []
    for config in out:
        if config == "triage" or not base:
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


def _median_timings(timed: list[dict]) -> dict[str, dict[str, float | None]]:
    """Median wall and CPU seconds per stage over the repetitions, in triage's stage order."""
    stages = list(dict.fromkeys(stage for t in timed for stage in t))
    return {stage: {key: (round(v, 3) if (v := _med([t.get(stage, {}).get(key) for t in timed])) is not None
                          else None) for key in ("wall_s", "cpu_s")} for stage in stages}


def _ratio(a, b):
    return round(a / b, 2) if a is not None and b else None


def _fmt(value, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def markdown(result: dict) -> str:
    scope = result.get("scope", "prefetch-rb")
    lines = [f"# Benchmark {result['image']['name']}, scope {scope} ({result['date']})", ""]
    img = result["image"]
    facts = img.get("facts") or {}
    files = (facts.get("content") or {}).get("files")
    lines.append(f"Image: `{img['path']}` ({img['format']}, {img['bytes'] / MiB:.0f} MiB"
                 + (f", {files} files" if files else "") + ").")
    host = result["host"]
    versions = result["versions"]
    tools = [f"triage {versions['triage']}"]
    if versions.get("plaso"):
        tools.append(f"plaso {versions['plaso']}")
    if versions.get("dissect"):
        tools.append(f"dissect {versions['dissect']} (dissect.target {versions['dissect_deps'].get('dissect.target')})")
    lines.append(f"Host: {host['cpus']} CPUs ({host['cpu_model']}), {host['mem_gib']} GiB RAM, "
                 f"Python {host['python']}; {', '.join(tools)}. Repetitions: {result['repetitions']} "
                 f"({', '.join(f'{c} {n}' for c, n in result['repetitions_per_config'].items())}).")
    lines += ["", "| configuration | runs | wall s (median) | min-max | CPU s (user+sys) | tree peak RSS MiB "
              "| tree peak PSS MiB | time -v max RSS MiB | procs | events | load 1m | x triage wall "
              "(median; min) | x triage CPU | x triage RSS; PSS |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for config, s in result["summary"].items():
        r = s.get("ratio_vs_triage", {})
        lines.append(
            f"| {config} | {s['runs']}" + (f" ({s['failed_runs']} failed)" if s["failed_runs"] else "")
            + (f" ({s['timed_out_runs']} ended at the time limit: lower bounds)" if s.get("timed_out_runs") else "")
            + f" | {s['wall_s']:.2f} | {s['wall_s_min']:.2f}-{s['wall_s_max']:.2f} "
            f"| {_fmt(s['cpu_s'])} | {s['tree_peak_rss_mib']:.0f} | {s['tree_peak_pss_mib']:.0f} "
            f"| {s['time_v_max_rss_mib']:.0f} | {s['tree_peak_procs']} | {_fmt(s['events'], '.0f')} "
            f"| {s['loadavg_1m_median']:.1f} "
            + (f"| {r['wall']}; {r['wall_min']} | {r['cpu']} | {r['tree_peak_rss']}; {r['tree_peak_pss']} |"
               if r else "| | | |"))
    lines += ["", "x triage: the configuration's median divided by triage's (above 1: triage is "
              "faster or smaller)."]
    errors = (result["summary"].get("triage") or {}).get("artifact_errors")
    if errors:
        lines.append(f"triage recorded {errors:.0f} artifact errors per run (files named like an artifact "
                     "that are not one; each is an error row, the run completes with exit code 1).")
    lines.append("")
    for config, s in result["summary"].items():
        if config.startswith("plaso"):
            lines.append(f"- {config}: log2timeline {_fmt(s['log2timeline_s'])} s + psort "
                         f"{_fmt(s.get('psort_s'))} s (medians).")
    timings = (result["summary"].get("triage") or {}).get("timings")
    if timings:
        lines += ["", "## triage per stage (median of the repetitions, from its --json summary)", "",
                  "| stage | wall s | CPU s |", "|---|---|---|"]
        for stage, t in timings.items():
            lines.append(f"| {stage} | {_fmt(t['wall_s'], '.3f')} | {_fmt(t['cpu_s'], '.3f')} |")
    elif "triage" in result["summary"]:
        lines += ["", "triage's --json summary gave no per-stage timings (no \"timings\" key)."]
    kinds = sorted({k for s in result["summary"].values() for k in (s.get("events_by_kind") or {})})
    if kinds:
        configs = [c for c, s in result["summary"].items() if s.get("events_by_kind") is not None]
        lines += ["", "## Events per kind (median of the repetitions)", "",
                  "| kind | " + " | ".join(configs) + " |", "|---" * (len(configs) + 1) + "|"]
        for kind in kinds:
            lines.append(f"| {kind} | " + " | ".join(
                _fmt(result["summary"][c]["events_by_kind"].get(kind), ".0f") for c in configs) + " |")
        lines += ["", "Kinds: triage by artifact definition, plaso by `data_type`, dissect by record "
                  "type (see TRIAGE_KINDS, PLASO_KINDS, DISSECT_KINDS in run_bench.py). The tools count "
                  "differently: triage emits one event per time a record holds (per Prefetch run time, "
                  "per `$I`), plaso one per timestamp of an event-data item, dissect one record per "
                  "item (a Prefetch record per loaded file, a registry record per value), so equal "
                  "evidence need not give equal counts; a kind that is 0 for one tool and not for "
                  "another is evidence that tool did not produce."]
    lines += ["", "## Event kinds in detail (first repetition)", ""]
    for config, items in result["runs"].items():
        if items:
            detail = items[0].get("event_kinds", {})
            shown = sorted(detail.items(), key=lambda kv: -kv[1])[:40]
            more = f" (and {len(detail) - len(shown)} more kinds in the JSON)" if len(detail) > len(shown) else ""
            lines.append(f"- {config}: " + ", ".join(f"{k}: {v}" for k, v in shown) + more)
    if result.get("commands"):
        lines += ["", "## Commands", ""]
        for name, cmd in result["commands"].items():
            if not name.endswith("_yaml") and isinstance(cmd, str):
                lines.append(f"- {name}: `{cmd}`")
        if result.get("plaso_filter"):
            f = result["plaso_filter"]
            lines.append(f"- plaso filter: {f['filter_paths']} paths from {f['triage_patterns']} patterns of "
                         f"{len(f['artifacts'])} definitions (`**` as 0-{f['globstar_depth']} folders); "
                         f"left out (other volumes only): {', '.join(f['left_out_other_volumes']) or 'none'}.")
    totals = {s["events"] for s in result["summary"].values()}
    lines += ["", ("Every configuration produced the same number of events; compare the kinds above."
                   if len(totals) == 1 else "The totals differ: compare the kinds above."), "",
              "Wall times are disturbed by other load on the machine (`load 1m`, taken before each run); "
              "CPU time (user + system of the process and the children it waited for, from "
              "`/usr/bin/time -v`) is the steadier measure of work done.", ""]
    return "\n".join(lines)


def print_table(result: dict) -> None:
    print(f"\n{result['image']['name']} ({result['image']['format']}), scope {result.get('scope')}, "
          f"{result['repetitions']} repetitions, medians")
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
    print("(x = configuration / triage of the medians; min x: of the fastest runs. The tools count "
          "events differently: compare the events per kind in the .md)")


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
    ap = argparse.ArgumentParser(description="triage beside plaso and dissect on the same image")
    ap.add_argument("images", nargs="+", type=Path, help="raw or E01 image(s)")
    ap.add_argument("-n", "--repetitions", type=int, default=3)
    ap.add_argument("--scope", choices=SCOPES, default="prefetch-rb",
                    help="prefetch-rb: Prefetch and Recycle Bin only (default); default: triage's "
                         "default artifacts, plaso's and dissect's equivalents")
    ap.add_argument("--plaso-parsers", default=None, help="override the scope's plaso parser list")
    ap.add_argument("--triage-option", action="append", default=[], metavar="OPTION",
                    help="a `triage run` option for every triage run, e.g. --triage-option=--evtx-all "
                         "(every event log record, as plaso's winevtx parser gives them)")
    ap.add_argument("--triage-add", default=None, metavar="NAMES",
                    help="with --scope default: run triage on its default artifacts plus these "
                         "(comma-separated, e.g. NtfsFileSystemTimeline for a like-for-like $MFT)")
    ap.add_argument("--dissect-plugins", default=None, help="override the scope's dissect plugin list")
    ap.add_argument("--filter-depth", type=int, default=10,
                    help="default scope: folders a `**` stands for in plaso's filter (0 to N)")
    ap.add_argument("--dissect-venv", type=Path, default=DEFAULT_DISSECT_VENV)
    ap.add_argument("--timeout", action="append", default=[], metavar="CONFIG=SECONDS",
                    help="end CONFIG's run after SECONDS (recorded as timed out: a lower bound)")
    ap.add_argument("--tag", default="", help="added to the result file names")
    ap.add_argument("--rebuild-md", action="store_true",
                    help="IMAGES are result .json files: write their .md again (after a report change)")
    ap.add_argument("--fewer", action="append", default=[], metavar="CONFIG=N",
                    help="run CONFIG only in the first N repetitions (e.g. plaso-nofilter=1: it takes minutes)")
    ap.add_argument("--configs", default=",".join(DEFAULT_CONFIGS),
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

    if args.rebuild_md:
        for path in args.images:
            result = json.loads(path.read_text())
            result["summary"] = summarise(result["runs"])
            path.write_text(json.dumps(result, indent=1) + "\n")
            path.with_suffix(".md").write_text(markdown(result))
            log(f"rewrote {path} summary and {path.with_suffix('.md')}")
        return 0
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    fewer: dict[str, int] = {}
    for item in args.fewer:
        name, _, count = item.partition("=")
        if name not in CONFIGS or not count.isdigit():
            ap.error(f"--fewer wants CONFIG=N, got {item!r}")
        fewer[name] = int(count)
    timeouts: dict[str, float] = {}
    for item in args.timeout:
        name, _, seconds = item.partition("=")
        if name not in CONFIGS or not seconds.replace(".", "", 1).isdigit():
            ap.error(f"--timeout wants CONFIG=SECONDS, got {item!r}")
        timeouts[name] = float(seconds)
    bad = [c for c in configs if c not in CONFIGS]
    if bad:
        ap.error(f"unknown configuration(s): {', '.join(bad)}")
    if not Path("/usr/bin/time").exists():
        ap.error("/usr/bin/time (GNU time) is needed: apt-get install time")
    bin_dir = ensure_plaso(args.plaso_venv) if any(c.startswith("plaso") for c in configs) else None
    dissect_dir = ensure_dissect(args.dissect_venv) if "dissect" in configs else None
    set_bytecode_cache(None if str(args.bytecode_cache) == "none" else args.bytecode_cache.resolve())
    versions = {
        "triage": _pkg_versions(args.triage.parent / "python", ["triage", "dfvfs", "pytsk3", "libscca-python"]),
        "plaso": _pkg_versions(bin_dir / "python", ["plaso", "dfvfs", "pytsk3", "libscca-python"]) if bin_dir else None,
        "dissect": _pkg_versions(dissect_dir / "python", ["dissect", "dissect.target", "dissect.ntfs",
                                                          "dissect.evidence", "flow.record"])
        if dissect_dir else None,
    }
    versions["triage"], versions["triage_deps"] = versions["triage"].get("triage"), versions["triage"]
    versions["triage_source"] = triage_source()
    if versions["plaso"]:
        versions["plaso"], versions["plaso_deps"] = versions["plaso"].get("plaso"), versions["plaso"]
    if versions["dissect"]:
        versions["dissect"], versions["dissect_deps"] = versions["dissect"].get("dissect"), versions["dissect"]

    # What each tool is asked for in this scope.
    plaso_filter_info = None
    if args.scope == "default":
        only, plaso_parsers = None, PLASO_DEFAULT_PARSERS
        dissect_plugins = DISSECT_DEFAULT_PLUGINS
        filter_text, plaso_filter_info = plaso_default_filter(args.filter_depth)
    else:
        only, plaso_parsers, dissect_plugins, filter_text = ARTIFACTS, PLASO_PARSERS, DISSECT_PREFETCH_RB, PLASO_FILTER
    plaso_parsers = args.plaso_parsers or plaso_parsers
    if args.triage_add:
        if args.scope != "default":
            sys.exit("--triage-add needs --scope default")
        only = default_plus(args.triage_add)
    dissect_plugins = args.dissect_plugins or dissect_plugins
    suffix = ("" if args.scope == "prefetch-rb" else f"-{args.scope}") + (f"-{args.tag}" if args.tag else "")

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
        work = args.work / f"{stem}-{fmt}{suffix}"
        if work.exists():
            shutil.rmtree(work)
        work.mkdir(parents=True)
        filter_file = work / "plaso-filter.yaml"
        filter_file.write_text(filter_text)
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
                w = run_triage(args.triage, image, work, "warmup-triage", only)
                log(f"{image.name} warm-up triage: rc {w['rc']}, {w['wall_s']:.2f} s (not counted)")
                shutil.rmtree(work / "case-warmup-triage", ignore_errors=True)
            if any(c.startswith("plaso") for c in configs):
                w = run_plaso(bin_dir, image, work, "warmup-plaso", filter_file, args.plaso_workers,
                              plaso_parsers)
                log(f"{image.name} warm-up plaso-filter: rc {w['rc']}, {w['wall_s']:.2f} s (not counted)")
                for p in work.glob("warmup-plaso.*"):
                    if p.suffix in (".plaso", ".jsonl"):
                        p.unlink()
            if "dissect" in configs:
                w = run_dissect(dissect_dir, image, work, "warmup-dissect", dissect_plugins)
                log(f"{image.name} warm-up dissect: rc {w['rc']}, {w['wall_s']:.2f} s (not counted)")
                for p in work.glob("warmup-dissect.*.jsonl"):
                    p.unlink()

        runs: dict[str, list[dict]] = {c: [] for c in configs}
        for rep in range(1, args.repetitions + 1):
            for config in configs:
                if rep > fewer.get(config, args.repetitions):
                    continue
                tag = f"{config}-{rep}"
                load = os.getloadavg()[0]
                if config == "triage":
                    res = run_triage(args.triage, image, work, tag, only, timeouts.get(config),
                                     args.triage_option)
                elif config == "dissect":
                    res = run_dissect(dissect_dir, image, work, tag, dissect_plugins, timeouts.get(config))
                else:
                    res = run_plaso(bin_dir, image, work, tag,
                                    filter_file if config == "plaso-filter" else None, args.plaso_workers,
                                    plaso_parsers, timeouts.get(config))
                res["repetition"] = rep
                res["loadavg_1m_before"] = load
                runs[config].append(res)
                log(f"{image.name} rep {rep} {config}: rc {res['rc']}, {res['wall_s']:.2f} s, "
                    f"tree RSS {res['tree_peak_rss_kib'] / 1024:.0f} MiB, PSS {res['tree_peak_pss_kib'] / 1024:.0f} MiB, "
                    f"time -v {((res['time_v_max_rss_kib'] or 0) / 1024):.0f} MiB, events {res['events']}")
                if res["rc"] != 0:
                    log(f"  exit {res['rc']}" + (" (artifact errors, run complete)" if res.get("ok") else "")
                        + f": see {work}/{tag}.*stderr")
                # Outputs are large (cases, .plaso); keep only the last repetition's on --keep.
                if not (args.keep and rep == fewer.get(config, args.repetitions)):
                    for p in list(work.glob(f"{tag}.plaso")) + list(work.glob(f"{tag}.jsonl")) + \
                            list(work.glob(f"{tag}.dissect.jsonl")):
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
            "scope": args.scope,
            "commands": {
                "triage": "triage run IMAGE -o CASE --force --quiet --json" + (f" --only {only}" if only else ""),
                "plaso": ("log2timeline --status_view none --unattended --partitions all --vss_stores none "
                          f"--parsers {plaso_parsers} [--file_filter FILTER.yaml] --storage_file X.plaso IMAGE; "
                          "psort --status_view none -o json_line -w X.jsonl X.plaso"),
                "plaso_filter_yaml": filter_text,
                "dissect": f"target-query -q -j -f {dissect_plugins} IMAGE",
            },
            "dissect_plugins": dissect_plugins.split(","),
            "plaso_parsers": plaso_parsers.split(","),
            "plaso_filter": plaso_filter_info,
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
        out_json = args.results / f"{date}-{stem}-{fmt}{suffix}.json"
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
