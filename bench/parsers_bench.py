#!/usr/bin/env python3
"""Throughput of triage's hot parsers alone, outside `triage run`: $MFT, USN journal, EVTX
records per second and evidence hashing MB/s beside `sha256sum` on the same file.

    .venv/bin/python bench/parsers_bench.py                       # everything, 3 runs each
    .venv/bin/python bench/parsers_bench.py --only mft --mft /tmp/mft.bin

Why apart from run_bench.py: a whole run mixes finding files, reading the image, the store and
the outputs; the targets of the Speed issue are per parser ($MFT >= 200,000 records/s, EVTX >=
50,000 records/s, hashing >= 90 % of sha256sum), so each parser is timed on its own input, in
this process, with the page cache warm and every measurement repeated (`-n`, median and best).

What is timed (wall time, and this process's CPU time beside it):
  mft    triage.ntfs_mft.MftScan over an $MFT (given with --mft, else extracted from the bench
         image with `icat -o 2048 IMAGE 0`): the scan as mft_deleted drives it (select entries
         not in use, with details) and as mft_timeline drives it (every entry), then the whole
         extractors (events out). Records/s = MFT records / seconds.
  usn    the usnjrnl extractor over a $J of N records built with fixtures/builders/usn_writer.py
         (journal-only parent paths: no $MFT beside it). Records/s = journal records / seconds.
  evtx   the evtx extractor over an EVTX of N records built with fixtures/builders/evtx_writer.py
         (a mix of catalogued and uncatalogued events), default and --evtx-all.
  hash   triage's evidence hashing (triage.integrity.hash_stream: MD5, SHA-1 and SHA-256 in one
         pass, what the engine and `--hash-evidence` use), over a large file, beside `sha256sum`,
         `md5sum` and `sha1sum` on the same file, and hashlib SHA-256 alone (to tell the cost of
         three digests from Python's overhead).
Each parser is also timed with the engine's per-event record building (`build_record`: JSON
normalisation and the event hash), the part of a real run's cost that every event pays.

Output: bench/results/<date>-parsers.json and .md (host, versions, load average before each
measurement). Inputs are built under bench/work/parsers/ (git-ignored) and reused.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import struct
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # `fixtures` and `bench` are not installed packages
    sys.path.insert(0, str(ROOT))
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from run_bench import host_info, triage_source  # noqa: E402

MiB = 1024 * 1024
TARGETS = {"mft_records_per_s": 200_000, "evtx_records_per_s": 50_000, "hash_vs_sha256sum": 0.90}
PARTS = ("mft", "usn", "evtx", "hash")
FILETIME_2026 = 134168869231234567  # 2026-03-02T01:02:03.1234567Z


def log(msg: str) -> None:
    print(f"[parsers_bench] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Timing


def timed(fn: Callable[[], Any], runs: int, warmup: bool = False) -> dict[str, Any]:
    """Run fn `runs` times (after one unmeasured run with `warmup`: imports, first reads);
    wall and process CPU seconds of each, the load average before each, and fn's last return
    value (what it counted)."""
    walls, cpus, loads = [], [], []
    result = fn() if warmup else None
    for _ in range(runs):
        loads.append(round(os.getloadavg()[0], 2))
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return {"wall_s": [round(w, 4) for w in walls], "cpu_s": [round(c, 4) for c in cpus],
            "wall_s_median": round(statistics.median(walls), 4), "wall_s_min": round(min(walls), 4),
            "cpu_s_median": round(statistics.median(cpus), 4), "loadavg_1m_before": loads,
            "result": result}


def rate(count: int, item: dict[str, Any], key: str) -> None:
    """Add count per second of the median and of the fastest run (`key`_per_s, `key`_per_s_best)."""
    item[f"{key}_per_s"] = round(count / item["wall_s_median"]) if item["wall_s_median"] else None
    item[f"{key}_per_s_best"] = round(count / item["wall_s_min"]) if item["wall_s_min"] else None
    item[f"{key}_per_cpu_s"] = round(count / item["cpu_s_median"]) if item["cpu_s_median"] else None


def _records_builder():
    """The engine's per-event record building (JSON normalisation, event hash), as a function
    of an event, for the "+ build_record" measurements."""
    from triage.artifacts import Artifact
    from triage.extraction import build_record, file_hasher

    def make(name: str, family: str, extractor: Any) -> Callable[[Any], dict]:
        artifact = Artifact(name=name, family=family, extractor=extractor.name, paths=("/bench",))
        source = {"evidence": "bench", "volume": "p1", "path": "/bench", "inode": None,
                  "sha256": "0" * 64}
        hasher = file_hasher(artifact, extractor, "BENCH-HOST", source)  # once per file, as
        return lambda event: build_record(event, artifact, extractor, "BENCH-HOST", source,
                                          hasher)  # the engine does
    return make


def drain(events: Iterable[Any], build: Callable[[Any], dict] | None = None) -> int:
    n = 0
    if build is None:
        for _ in events:
            n += 1
    else:
        for event in events:
            build(event)
            n += 1
    return n


# --------------------------------------------------------------------------------------------
# $MFT


def extract_mft(image: Path, out: Path, offset_sectors: int = 2048) -> Path:
    """$MFT (entry 0) of the NTFS volume at `offset_sectors` of a raw image, with sleuthkit."""
    if out.exists() and out.stat().st_size:
        return out
    icat = shutil.which("icat")
    if not icat:
        raise SystemExit("icat (sleuthkit) is needed to extract the $MFT: apt-get install sleuthkit, "
                         "or give --mft PATH")
    log(f"extracting $MFT from {image} with icat -o {offset_sectors}")
    with open(out, "wb") as fh:
        subprocess.run([icat, "-o", str(offset_sectors), str(image), "0"], stdout=fh, check=True)
    return out


def bench_mft(path: Path, runs: int) -> dict[str, Any]:
    from triage.extractors import ExtractionContext
    from triage.extractors.mft import MftDeletedFiles, MftTimeline
    from triage.files import LocalFile
    from triage.ntfs_mft import IN_USE, MftScan

    def scan(deleted_only: bool) -> Callable[[], dict]:
        def run() -> dict:
            select = (lambda flags: not flags & IN_USE) if deleted_only else (lambda flags: True)
            with open(path, "rb") as handle:
                s = MftScan(handle, select, details=deleted_only).run()
                reported = sum(1 for _ in s.records())
            return {"records": s.stats.records, "reported": reported, "in_use": s.stats.in_use,
                    "deleted": s.stats.deleted, "bad": s.stats.bad}
        return run

    make = _records_builder()

    def extractor(cls: type, build: bool) -> Callable[[], dict]:
        ext = cls()
        builder = make("Bench", ext.family, ext) if build else None

        def run() -> dict:
            ctx = ExtractionContext()
            events = drain(ext.extract(LocalFile(str(path), path="/$MFT"), ctx), builder)
            return {"events": events}
        return run

    out: dict[str, Any] = {"input": {"path": str(path), "bytes": path.stat().st_size}}
    items = {
        "MftScan (mft_deleted: entries not in use, details)": scan(True),
        "MftScan (mft_timeline: every entry)": scan(False),
        "mft_deleted extractor (events out)": extractor(MftDeletedFiles, False),
        "mft_deleted + build_record": extractor(MftDeletedFiles, True),
        "mft_timeline extractor (events out)": extractor(MftTimeline, False),
        "mft_timeline + build_record": extractor(MftTimeline, True),
    }
    records = None
    for name, fn in items.items():
        log(f"mft: {name}")
        item = timed(fn, runs, warmup=records is None)
        if records is None:
            records = item["result"]["records"]
            out["input"].update({k: v for k, v in item["result"].items()})
        rate(records, item, "records")
        if "events" in item["result"]:
            rate(item["result"]["events"], item, "events")
        out[name] = item
    return out


# --------------------------------------------------------------------------------------------
# USN journal


def _built_input(path: Path, count: int, build: Callable[[Path, int], dict[str, Any]],
                 message: str) -> dict[str, Any]:
    """A generated input of `count` records and its facts (PATH.json), built when missing or
    of another size."""
    info_path = path.with_suffix(".json")
    if not path.exists() or not info_path.exists() or \
            json.loads(info_path.read_text()).get("records") != count:
        log(message)
        t0 = time.perf_counter()
        info = build(path, count)
        info["build_s"] = round(time.perf_counter() - t0, 2)
        info_path.write_text(json.dumps(info))
    return json.loads(info_path.read_text())


def build_usn(path: Path, count: int, seed: int = 20260312) -> dict[str, Any]:
    """A $J of `count` V2 records: a few hundred directories and files in them being created,
    written, renamed and deleted, as a busy volume logs them (4 KiB pages, Windows' layout)."""
    from fixtures.builders import usn_writer as uw

    rng = random.Random(seed)
    dirs = [(100 + i, 1 + i % 3) for i in range(400)]
    items = []
    for i, (entry, seq) in enumerate(dirs):
        parent = dirs[rng.randrange(i)] if i else (5, 5)
        items.append(uw.UsnRecord(f"Folder {i:04d}", entry, seq, parent[0], parent[1],
                                  FILETIME_2026 + i * 10_000, uw.FILE_CREATE | uw.CLOSE,
                                  attributes=uw.ATTR_DIRECTORY))
    reasons = (uw.FILE_CREATE, uw.DATA_EXTEND, uw.DATA_EXTEND | uw.CLOSE, uw.DATA_OVERWRITE,
               uw.BASIC_INFO_CHANGE | uw.CLOSE, uw.RENAME_OLD_NAME, uw.RENAME_NEW_NAME,
               uw.FILE_DELETE | uw.CLOSE, uw.SECURITY_CHANGE)
    exts = (".docx", ".xlsx", ".tmp", ".log", ".pdf", ".txt", ".dll", ".lnk")
    stamp = FILETIME_2026 + 10_000_000
    while len(items) < count:
        parent = dirs[rng.randrange(len(dirs))]
        entry = 10_000 + rng.randrange(200_000)
        name = f"file_{entry:06d}{exts[entry % len(exts)]}"
        stamp += rng.randrange(1, 20_000_000)
        items.append(uw.UsnRecord(name, entry, 1 + entry % 7, parent[0], parent[1], stamp,
                                  reasons[rng.randrange(len(reasons))]))
    data = uw.build_journal(items[:count])
    path.write_bytes(data)
    return {"records": count, "bytes": len(data)}


def bench_usn(path: Path, count: int, runs: int) -> dict[str, Any]:
    from triage.extractors import ExtractionContext
    from triage.extractors import usnjrnl
    from triage.files import LocalFile

    info = _built_input(path, count, build_usn, f"usn: building a $J of {count} records")
    make = _records_builder()
    ext = usnjrnl.UsnJournalExtractor()

    def run(build: bool) -> Callable[[], dict]:
        builder = make("UsnJournal", ext.family, ext) if build else None

        def go() -> dict:
            ctx = ExtractionContext()
            f = LocalFile(str(path), path="/$Extend/$UsnJrnl:$J")
            return {"events": drain(ext.extract(f, ctx), builder), "warnings": len(ctx.warnings)}
        return go

    out: dict[str, Any] = {"input": dict(info, path=str(path))}
    for i, (name, fn) in enumerate((("usnjrnl extractor (events out)", run(False)),
                                    ("usnjrnl + build_record", run(True)))):
        log(f"usn: {name}")
        item = timed(fn, runs, warmup=i == 0)
        rate(count, item, "records")
        out[name] = item
    return out


# --------------------------------------------------------------------------------------------
# EVTX


def build_evtx_log(path: Path, count: int, seed: int = 20260312) -> dict[str, Any]:
    """An EVTX of `count` records: 40 % successful logons (4624), 10 % failed logons (4625),
    5 % service installs (7045), all catalogued; 45 % service state changes (7036, not
    catalogued), so the default run skips about half and --evtx-all takes every record."""
    from fixtures.builders import evtx_writer as ew

    rng = random.Random(seed)
    sec = "Microsoft-Windows-Security-Auditing"
    sec_guid = "{54849625-5478-4994-a5ba-3e3b0328c30d}"
    scm_guid = "{555908d1-a6d7-4695-8e1e-26931d2012f4}"
    users = ("alice", "bob", "carol", "dave", "svc_backup")
    records = []
    kinds = {"4624": 0, "4625": 0, "7045": 0, "7036": 0}
    t = FILETIME_2026
    for i in range(count):
        t += rng.randrange(1, 50_000_000)
        roll = rng.random()
        user = users[i % len(users)]
        if roll < 0.40:
            kinds["4624"] += 1
            payload = ew.event_data([
                ("SubjectUserSid", ew.sid("S-1-5-18")), ("SubjectUserName", "WKS-01$"),
                ("SubjectDomainName", "CORP"), ("SubjectLogonId", ew.hex64(0x3E7)),
                ("TargetUserSid", ew.sid(f"S-1-5-21-1-2-3-{1001 + i % 5}")),
                ("TargetUserName", user), ("TargetDomainName", "CORP"),
                ("TargetLogonId", ew.hex64(0x10000 + i)), ("LogonType", ew.u32((2, 3, 10)[i % 3])),
                ("LogonProcessName", "User32 "), ("AuthenticationPackageName", "Negotiate"),
                ("WorkstationName", "WKS-01"), ("IpAddress", f"192.0.2.{i % 250}"),
                ("IpPort", str(49152 + i % 10000)), ("ProcessName", "C:\\Windows\\System32\\svchost.exe"),
            ])
            records.append(ew.EvtxRecord(4624, sec, "Security", t, provider_guid=sec_guid,
                                         level=0, keywords=0x8020000000000000, payload=payload))
        elif roll < 0.50:
            kinds["4625"] += 1
            payload = ew.event_data([
                ("SubjectUserSid", ew.sid("S-1-0-0")), ("SubjectUserName", "-"),
                ("SubjectDomainName", "-"), ("SubjectLogonId", ew.hex64(0)),
                ("TargetUserSid", ew.sid("S-1-0-0")), ("TargetUserName", "administrator"),
                ("TargetDomainName", ""), ("Status", ew.Value(ew.HEX32, 0xC000006D)),
                ("FailureReason", "%%2313"), ("SubStatus", ew.Value(ew.HEX32, 0xC000006A)),
                ("LogonType", ew.u32(3)), ("WorkstationName", "KALI"),
                ("IpAddress", f"198.51.100.{i % 250}"), ("IpPort", "0"),
            ])
            records.append(ew.EvtxRecord(4625, sec, "Security", t, provider_guid=sec_guid,
                                         level=0, keywords=0x8010000000000000, payload=payload))
        elif roll < 0.55:
            kinds["7045"] += 1
            payload = ew.event_data({"ServiceName": f"svc{i % 97}",
                                     "ImagePath": f"%SystemRoot%\\svc{i % 97}.exe",
                                     "ServiceType": "user mode service", "StartType": "demand start",
                                     "AccountName": "LocalSystem"})
            records.append(ew.EvtxRecord(7045, "Service Control Manager", "System", t,
                                         provider_guid=scm_guid, qualifiers=16384,
                                         user_sid="S-1-5-18", payload=payload))
        else:
            kinds["7036"] += 1
            payload = ew.event_data({"param1": f"Service {i % 211}",
                                     "param2": ("running", "stopped")[i % 2]})
            records.append(ew.EvtxRecord(7036, "Service Control Manager", "System", t,
                                         provider_guid=scm_guid, qualifiers=16384, payload=payload))
    data = ew.build_evtx(records)
    path.write_bytes(data)
    return {"records": count, "bytes": len(data), "event_ids": kinds}


def bench_evtx(path: Path, count: int, runs: int) -> dict[str, Any]:
    from triage.extractors import ExtractionContext
    from triage.extractors.evtx import EvtxExtractor
    from triage.files import LocalFile

    info = _built_input(path, count, build_evtx_log, f"evtx: building an EVTX of {count} records")
    make = _records_builder()
    ext = EvtxExtractor()

    def run(everything: bool, build: bool) -> Callable[[], dict]:
        builder = make("WindowsEventLogs", ext.family, ext) if build else None

        def go() -> dict:
            ctx = ExtractionContext(options={"evtx_all": everything})
            f = LocalFile(str(path), path="/Windows/System32/winevt/Logs/Bench.evtx")
            return {"events": drain(ext.extract(f, ctx), builder), "warnings": len(ctx.warnings)}
        return go

    def libevtx(xml: bool) -> Callable[[], dict]:
        """The floor under the extractor: libevtx reading every record (and rendering its XML),
        with nothing done in Python."""
        import pyevtx

        def go() -> dict:
            evtx = pyevtx.file()
            with open(path, "rb") as handle:
                evtx.open_file_object(handle)
                n = evtx.number_of_records
                for i in range(n):
                    record = evtx.get_record(i)
                    if xml:
                        record.get_xml_string()
                evtx.close()
            return {"events": n}
        return go

    out: dict[str, Any] = {"input": dict(info, path=str(path))}
    for name, fn in (("libevtx get_record alone (the floor)", libevtx(False)),
                     ("libevtx get_record + get_xml_string", libevtx(True)),
                     ("evtx extractor, catalogue (default)", run(False, False)),
                     ("evtx catalogue + build_record", run(False, True)),
                     ("evtx extractor, --evtx-all", run(True, False)),
                     ("evtx --evtx-all + build_record", run(True, True))):
        log(f"evtx: {name}")
        item = timed(fn, runs, warmup=name.startswith("evtx extractor, catalogue"))
        rate(count, item, "records")
        rate(item["result"]["events"], item, "events")
        out[name] = item
    return out


# --------------------------------------------------------------------------------------------
# Hashing


def make_hash_file(path: Path, size_mib: int) -> None:
    if path.exists() and path.stat().st_size == size_mib * MiB:
        return
    log(f"hash: writing {size_mib} MiB of random data to {path}")
    block = os.urandom(64 * MiB)
    with open(path, "wb") as fh:
        for i in range(size_mib // 64):
            fh.write(block[i % 7:] + block[:i % 7])  # not 16 identical blocks
        fh.write(block[:(size_mib % 64) * MiB])


def _read_all(path: Path) -> None:
    with open(path, "rb") as fh:
        while fh.read(8 * MiB):
            pass


def bench_hash(path: Path, runs: int) -> dict[str, Any]:
    from triage import integrity

    size = path.stat().st_size
    _read_all(path)  # page cache warm

    def triage_stream() -> dict:
        with open(path, "rb") as fh:
            digests, n = integrity.hash_stream(fh)
        return {"bytes": n, "sha256": digests["sha256"]}

    def sha256_only() -> dict:
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(integrity.CHUNK):
                digest.update(chunk)
        return {"sha256": digest.hexdigest()}

    def tool(name: str) -> Callable[[], dict]:
        def go() -> dict:
            done = subprocess.run([name, str(path)], capture_output=True, text=True, check=True)
            return {"digest": done.stdout.split()[0]}
        return go

    items: dict[str, Callable[[], dict]] = {
        "sha256sum": tool("sha256sum"),
        "triage hash_stream (MD5+SHA-1+SHA-256, 1 MiB reads)": triage_stream,
        "hashlib SHA-256 alone (1 MiB reads)": sha256_only,
        "md5sum": tool("md5sum"),
        "sha1sum": tool("sha1sum"),
    }
    if shutil.which("openssl"):
        # A SHA-256 that uses the CPU's SHA extensions, as hashlib does (OpenSSL): sha256sum
        # of coreutils may not, which flatters any OpenSSL-based hasher beside it.
        def openssl() -> dict:
            done = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(path)],
                                  capture_output=True, text=True, check=True)
            return {"digest": done.stdout.split()[0]}
        items["openssl dgst -sha256"] = openssl
    evidence_item, kind = _evidence_hasher(path)
    if evidence_item is not None:
        items[f"triage --hash-evidence (hash_evidence; evidence kind {kind})"] = evidence_item
    out: dict[str, Any] = {"input": {"path": str(path), "bytes": size}}
    for name, fn in items.items():
        log(f"hash: {name}")
        item = timed(fn, runs)
        item["mb_per_s"] = round(size / 1e6 / item["wall_s_median"], 1)
        item["mb_per_s_best"] = round(size / 1e6 / item["wall_s_min"], 1)
        out[name] = item
    base = out["sha256sum"]
    for name, item in out.items():
        if name in ("input", "sha256sum"):
            continue
        item["vs_sha256sum"] = round(item["mb_per_s"] / base["mb_per_s"], 3)
        item["vs_sha256sum_best"] = round(item["mb_per_s_best"] / base["mb_per_s_best"], 3)
    ok = out["triage hash_stream (MD5+SHA-1+SHA-256, 1 MiB reads)"]["result"]["sha256"] == \
        out["sha256sum"]["result"]["digest"]
    out["digests_agree"] = ok
    three = sum(out[k]["wall_s_median"] for k in ("sha256sum", "md5sum", "sha1sum"))
    out["md5sum+sha1sum+sha256sum_mb_per_s"] = round(size / 1e6 / three, 1)
    return out


def _evidence_hasher(path: Path) -> tuple[Callable[[], dict] | None, str]:
    """`--hash-evidence` as the engine calls it, on the file opened as evidence (an image is
    hashed through dfVFS's media stream, a plain file through open())."""
    try:
        from triage.evidence_hash import hash_evidence
        from triage.sources import open_evidence

        evidence = open_evidence(str(path))
    except Exception as exc:  # noqa: BLE001 - reported, not fatal: the other figures stand
        log(f"hash: cannot open {path} as evidence ({exc}); --hash-evidence not measured")
        return None, ""

    def go() -> dict:
        result = hash_evidence(evidence)
        computed = result.get("computed") or {}
        return {"sha256": computed.get("sha256"), "size": computed.get("size"),
                "evidence_kind": evidence.kind}
    return go, ("image: dfVFS media stream" if evidence.kind == "image" else evidence.kind)


def bench_hash_image(image: Path, runs: int) -> dict[str, Any]:
    """--hash-evidence on a disk image (dfVFS media stream) beside sha256sum of the same file."""
    _read_all(image)
    size = image.stat().st_size
    hasher, kind = _evidence_hasher(image)
    out: dict[str, Any] = {"input": {"path": str(image), "bytes": size, "evidence_kind": kind}}
    if hasher is None:
        return out
    items = {"sha256sum": lambda: {"digest": subprocess.run(
                 ["sha256sum", str(image)], capture_output=True, text=True, check=True).stdout.split()[0]},
             f"triage --hash-evidence ({kind})": hasher}
    for name, fn in items.items():
        log(f"hash image: {name}")
        item = timed(fn, runs)
        item["mb_per_s"] = round(size / 1e6 / item["wall_s_median"], 1)
        item["mb_per_s_best"] = round(size / 1e6 / item["wall_s_min"], 1)
        out[name] = item
    for name, item in list(out.items()):
        if name not in ("input", "sha256sum"):
            item["vs_sha256sum"] = round(item["mb_per_s"] / out["sha256sum"]["mb_per_s"], 3)
            item["vs_sha256sum_best"] = round(item["mb_per_s_best"] / out["sha256sum"]["mb_per_s_best"], 3)
            out["digests_agree"] = item["result"]["sha256"] == out["sha256sum"]["result"]["digest"]
    return out


# --------------------------------------------------------------------------------------------
# Report


def _hash_rows(items: dict[str, Any]) -> list[str]:
    """The table of hashers: its header, then a row per measured hasher."""
    lines = ["| hasher | wall s (median; min) | CPU s (this process) | MB/s (median; best) "
             "| / sha256sum (median; best) | load 1m |", "|---|---|---|---|---|---|"]
    for name, item in items.items():
        if not isinstance(item, dict) or "wall_s_median" not in item:
            continue
        lines.append(f"| {name} | {item['wall_s_median']:.3f}; {item['wall_s_min']:.3f} "
                     f"| {item['cpu_s_median']:.3f} | {item['mb_per_s']}; {item['mb_per_s_best']} "
                     f"| {item.get('vs_sha256sum', 1.0)}; {item.get('vs_sha256sum_best', 1.0)} "
                     f"| {max(item['loadavg_1m_before']):.1f} |")
    return lines


def markdown(result: dict[str, Any]) -> str:
    host = result["host"]
    lines = [f"# Hot parsers alone ({result['date']})", "",
             f"Host: {host['cpus']} CPUs ({host['cpu_model']}), {host['mem_gib']} GiB RAM, Python "
             f"{host['python']}; triage {result['versions']['triage_source']['head_commit'] or '?'} "
             f"(sources {result['versions']['triage_source']['sources_sha256'][:12]}); "
             f"{result['runs']} runs each, page cache warm, one process.", "",
             "| parser | input | wall s (median; min) | CPU s | records/s (median; best) | per CPU s "
             "| events | events/s | load 1m |", "|---|---|---|---|---|---|---|---|---|"]
    for part in ("mft", "usn", "evtx"):
        section = result.get(part)
        if not section:
            continue
        inp = section["input"]
        desc = f"{inp.get('records')} records, {inp.get('bytes', 0) / MiB:.1f} MiB"
        for name, item in section.items():
            if name == "input":
                continue
            events = item["result"].get("events")
            lines.append(
                f"| {name} | {desc} | {item['wall_s_median']:.3f}; {item['wall_s_min']:.3f} "
                f"| {item['cpu_s_median']:.3f} | {item['records_per_s']:,}; {item['records_per_s_best']:,} "
                f"| {item['records_per_cpu_s']:,} | {events if events is not None else '-'} "
                f"| {item.get('events_per_s', '-') if events is not None else '-'} "
                f"| {max(item['loadavg_1m_before']):.1f} |")
    if result.get("hash"):
        h = result["hash"]
        lines += ["", f"Hashing {h['input']['bytes'] / MiB:.0f} MiB (`{h['input']['path']}`), "
                      "page cache warm:", "", *_hash_rows(h)]
        lines += ["", f"md5sum + sha1sum + sha256sum one after the other: "
                      f"{h['md5sum+sha1sum+sha256sum_mb_per_s']} MB/s. SHA-256 of triage and sha256sum "
                      f"agree: {h['digests_agree']}. (CPU s of the sum tools is theirs, not this "
                      "process's: shown as ~0.)"]
    hi = result.get("hash_image")
    if hi and len(hi) > 1:
        lines += ["", f"`--hash-evidence` on the bench image `{hi['input']['path']}` "
                      f"({hi['input']['bytes'] / MiB:.0f} MiB, {hi['input']['evidence_kind']}):", "",
                  *_hash_rows(hi)]
        lines.append(f"\nSHA-256 agree: {hi.get('digests_agree')}.")
    lines += ["", "## Targets", ""]
    for name, verdict in result["targets"].items():
        lines.append(f"- {name}: {verdict}")
    if result.get("notes"):
        lines += ["", "## Notes", ""] + [f"- {n}" for n in result["notes"]]
    return "\n".join(lines) + "\n"


def verdicts(result: dict[str, Any]) -> dict[str, str]:
    out = {}
    mft = result.get("mft")
    if mft:
        item = mft["MftScan (mft_deleted: entries not in use, details)"]
        whole = mft["mft_deleted extractor (events out)"]
        out["$MFT >= 200,000 records/s"] = (
            f"MftScan {item['records_per_s']:,}/s (best {item['records_per_s_best']:,}, per CPU second "
            f"{item['records_per_cpu_s']:,}); whole mft_deleted extractor {whole['records_per_s']:,}/s "
            f"(best {whole['records_per_s_best']:,}, per CPU second {whole['records_per_cpu_s']:,}): "
            + ("met" if whole["records_per_s"] >= TARGETS["mft_records_per_s"] else
               "met in the best run only" if whole["records_per_s_best"] >= TARGETS["mft_records_per_s"]
               else "MISSED"))
    evtx = result.get("evtx")
    if evtx:
        d = evtx["evtx extractor, catalogue (default)"]
        a = evtx["evtx extractor, --evtx-all"]
        floor = evtx["libevtx get_record alone (the floor)"]
        out["EVTX >= 50,000 records/s"] = (
            f"default {d['records_per_s']:,}/s (best {d['records_per_s_best']:,}), --evtx-all "
            f"{a['records_per_s']:,}/s (best {a['records_per_s_best']:,}); libevtx alone reads "
            f"{floor['records_per_s']:,}/s (best {floor['records_per_s_best']:,}): "
            + ("met" if min(d["records_per_s"], a["records_per_s"]) >= TARGETS["evtx_records_per_s"]
               else "met by default only" if d["records_per_s"] >= TARGETS["evtx_records_per_s"] else "MISSED"))
    usn = result.get("usn")
    if usn:
        u = usn["usnjrnl extractor (events out)"]
        out["USN (no target)"] = f"{u['records_per_s']:,} records/s (best {u['records_per_s_best']:,})"
    h = result.get("hash")
    if h:
        t = h["triage hash_stream (MD5+SHA-1+SHA-256, 1 MiB reads)"]
        out["hashing >= 90 % of sha256sum"] = (
            f"{t['mb_per_s']} MB/s = {t['vs_sha256sum']:.0%} of sha256sum ({h['sha256sum']['mb_per_s']} MB/s); "
            + ("met" if t["vs_sha256sum"] >= TARGETS["hash_vs_sha256sum"] else "MISSED")
            + (f" (beside `openssl dgst -sha256`, {h['openssl dgst -sha256']['mb_per_s']} MB/s: "
               f"{t['mb_per_s'] / h['openssl dgst -sha256']['mb_per_s']:.0%})" if "openssl dgst -sha256" in h else ""))
    return out


def tune_gc() -> bool:
    """The collector set as `triage run` sets it before extracting (triage/gc_policy.py), so
    that the parsers are timed as they run there; False for a build without it."""
    try:
        from triage import gc_policy
    except ImportError:
        return False
    gc_policy.tune_for_extraction()
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="throughput of triage's hot parsers alone")
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    ap.add_argument("-n", "--runs", type=int, default=3, help="measurements of each item (median, best)")
    ap.add_argument("--mft", type=Path, help="an $MFT file (default: extracted from --image)")
    ap.add_argument("--image", type=Path, default=HERE / "work" / "bench-100k.raw",
                    help="raw image whose NTFS volume at sector 2048 gives the $MFT")
    ap.add_argument("--usn-records", type=int, default=500_000)
    ap.add_argument("--evtx-records", type=int, default=100_000)
    ap.add_argument("--hash-file", type=Path, default=None,
                    help="file to hash (default: a 1 GiB random file under --work)")
    ap.add_argument("--hash-mib", type=int, default=1024)
    ap.add_argument("--work", type=Path, default=HERE / "work" / "parsers")
    ap.add_argument("--results", type=Path, default=HERE / "results")
    ap.add_argument("--tag", default="", help="added to the result file names")
    args = ap.parse_args(argv)

    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    bad = [p for p in parts if p not in PARTS]
    if bad:
        ap.error(f"unknown part(s): {', '.join(bad)}")
    args.work.mkdir(parents=True, exist_ok=True)
    tuned = tune_gc()
    result: dict[str, Any] = {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "host": host_info(), "runs": args.runs,
        "versions": {"triage_source": triage_source()},
        "targets_wanted": TARGETS, "notes": [], "gc_tuned_as_triage_run": tuned,
    }
    if "mft" in parts:
        mft = args.mft or extract_mft(args.image, args.work / f"{args.image.stem}.mft")
        result["mft"] = bench_mft(mft, args.runs)
        if args.mft is None:
            result["mft"]["input"]["extracted_from"] = str(args.image)
    if "usn" in parts:
        result["usn"] = bench_usn(args.work / f"usn-{args.usn_records}.J", args.usn_records, args.runs)
    if "evtx" in parts:
        result["evtx"] = bench_evtx(args.work / f"bench-{args.evtx_records}.evtx", args.evtx_records, args.runs)
    if "hash" in parts:
        path = args.hash_file
        if path is None:
            path = args.work / f"random-{args.hash_mib}M.bin"
            make_hash_file(path, args.hash_mib)
        result["hash"] = bench_hash(path, args.runs)
        if args.image.exists():
            result["hash_image"] = bench_hash_image(args.image, args.runs)
    result["finished"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    result["targets"] = verdicts(result)
    for item in (result.get("mft"), result.get("usn"), result.get("evtx")):
        for value in (item or {}).values():
            if isinstance(value, dict) and "result" in value and not value["result"]:
                value.pop("result")
    args.results.mkdir(parents=True, exist_ok=True)
    stem = f"{result['date']}-parsers" + (f"-{args.tag}" if args.tag else "")
    out_json = args.results / f"{stem}.json"
    out_json.write_text(json.dumps(result, indent=1) + "\n")
    out_md = out_json.with_suffix(".md")
    out_md.write_text(markdown(result))
    print(out_md.read_text())
    log(f"wrote {out_json} and {out_md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
