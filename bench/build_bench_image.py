#!/usr/bin/env python3
"""Build a benchmark disk image: a raw MBR disk with one NTFS volume holding a large,
Windows-like file tree, plus an E01 copy of it. Two sizes (what they hold: bench_content.py):

    sudo .venv/bin/python bench/build_bench_image.py               # bench-100k: 100,000+ files,
                                                                   # 300 Prefetch, a Recycle Bin
    sudo .venv/bin/python bench/build_bench_image.py --size large  # bench-1m: 1,000,000+ MFT
        # records, 3 profiles with hives, 1,000 shortcuts, Jump Lists, 50,000 browser visits,
        # documents; 500 Prefetch; > 1 GiB of event logs; a 200 MiB $UsnJrnl:$J

Needs root (the NTFS volume is filled through an ntfs-3g FUSE mount) and the Debian packages
ntfs-3g (mkntfs, ntfs-3g), fdisk (sfdisk), coreutils (dd), python3-hivex (large: the registry
hives) and, for the E01 copy, ewf-tools (ewfacquire). Run from the project root with the
project's virtual environment.

Everything is deterministic (fixed random seed) except the NTFS times that ntfs-3g stamps with
the wall clock: in bench-100k the bulk files' times and every "MFT changed" time; in bench-1m
only the "MFT changed" times of files whose times are set after writing (all times that
artifacts carry are fixed). Output goes to bench/work/ (git-ignored): the raw image, its E01,
and `<name>.json` with the facts of the image (file counts, expected evidence) and how long
each build step took.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _path in (ROOT, HERE):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

import bench_content as bc  # noqa: E402
from bench_content import (  # noqa: E402
    DOMAIN_SID, MBR_DISK_ID, NTFS_LABEL, NTFS_SERIAL, PART_START_SECTOR, SECTOR, USERS, MiB,
    _content, bulk_tree, pf_bytes, prefetch_specs, recycle_specs)
from fixtures.build_images import NtfsMount as _FixtureNtfsMount  # noqa: E402
from fixtures.builders.recycle_writer import build_i_file  # noqa: E402
from fixtures.builders.regf_writer import empty_hive  # noqa: E402


@dataclass(frozen=True)
class Size:
    """The defaults of one image size (each can be overridden on the command line)."""

    name: str | None  # None: bench-<files/1000>k
    files: int
    prefetch: int
    recycle: int
    recycle_users: tuple[str, ...]
    disk_mib: int
    e01_timeout: int
    domain_sid: str = DOMAIN_SID
    large: bool = False  # profiles, hives, event logs, USN journal, deleted files


SIZES = {
    "100k": Size(None, 100_000, 300, 50, bc.RECYCLE_USERS, 1536, 300),
    "large": Size("bench-1m", 1_000_000, 500, 150, tuple(USERS), 16384, 3600,
                  bc.LARGE_DOMAIN_SID, large=True),
}


@dataclass(frozen=True)
class LargeOptions:
    lnk: int = 1000  # shortcuts in the users' Recent folders, all users together
    visits: int = 50_000  # browser visits, all users and both browsers together
    evtx_mib: int = sum(s.chunks for s in bc.EVENT_LOGS) // 16  # chunks are 64 KiB
    usn_mib: int = 200
    usn_sparse_mib: int = 16  # the journal's freed (sparse) start
    deleted: int = 1500  # files written then deleted (unused MFT records)


def log(msg: str) -> None:
    print(f"[build_bench_image] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], stdin: bytes | None = None) -> None:
    done = subprocess.run(cmd, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")


def set_ntfs_times(path: Path, created: int, modified: int) -> None:
    os.setxattr(path, "system.ntfs_times", struct.pack("<4Q", created, modified, modified, modified))


def NtfsMount(image: Path, mountpoint: Path, log_path: Path, streams: bool = False) -> _FixtureNtfsMount:
    """The fixture builder's ntfs-3g mount, with big writes and longer waits for 100k files;
    streams: data streams reachable as `file:stream` (the USN journal's $J and $Max)."""
    options = "noatime,no_detach,big_writes" + (",streams_interface=windows" if streams else "")
    return _FixtureNtfsMount(image, mountpoint, log_path, options=options,
                             mount_wait_s=20.0, unmount_timeout_s=600.0)


@dataclass
class Inventory:
    """MFT entries of what was written (large image): the shortcuts, shell items and USN
    records that name files and folders need them."""

    dirs: dict[str, int] = field(default_factory=dict)  # folder below the root -> MFT entry
    user_files: dict[str, list[bc.VolumeFile]] = field(default_factory=dict)

    def add_dirs(self, root: Path, directory: str) -> None:
        parts = directory.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if sub not in self.dirs:
                self.dirs[sub] = os.stat(root / sub).st_ino


def put(root: Path, rel: str, data: bytes, created: int, modified: int) -> int:
    """Write a file below the mount with its NTFS times; returns its MFT entry."""
    target = root / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "wb") as fh:
        fh.write(data)
        entry = os.fstat(fh.fileno()).st_ino
    set_ntfs_times(target, created, modified)
    return entry


# --------------------------------------------------------------------------------------------
# Filling the volume


def fill_bulk(root: Path, tree, seed: int, timings: dict, inv: Inventory | None) -> tuple[int, int]:
    """The bulk tree. For the large image (`inv` given) the files that an artifact definition
    matches get valid content, every file gets fixed NTFS times, and MFT entries are noted."""
    rng = random.Random(seed + 3)
    art_rng, time_rng = random.Random(seed + 4), random.Random(seed + 5)
    t0 = time.monotonic()
    n_files = n_bytes = 0
    for d, names in tree:
        target = root / d
        target.mkdir(parents=True, exist_ok=True)
        hives = d == "Windows/System32/config"  # valid (empty) hives: both tools read them
        user = bc.user_of(d)
        if inv is not None:
            inv.add_dirs(root, d)
        for name in names:
            data = empty_hive(file_name=name) if hives else _content(name, rng)
            times = None
            if inv is not None:
                special = bc.bulk_artifact(d, name, art_rng)
                if special is not None:
                    data, times = special[0], special[1:]
            with open(target / name, "wb") as fh:
                if data:
                    fh.write(data)
                entry = os.fstat(fh.fileno()).st_ino if inv is not None and user else 0
            if inv is not None:
                set_ntfs_times(target / name, *(times or bc.bulk_times(time_rng, d)))
                if user:
                    inv.user_files.setdefault(user, []).append(
                        bc.VolumeFile(f"{d}/{name}", entry, len(data)))
            n_files += 1
            n_bytes += len(data)
    timings["bulk_files_s"] = round(time.monotonic() - t0, 2)
    log(f"  bulk tree: {n_files} files, {n_bytes / MiB:.1f} MiB in {timings['bulk_files_s']} s")
    return n_files, n_bytes


def fill_prefetch(root: Path, pf_specs, timings: dict) -> tuple[dict, list[tuple[str, int]]]:
    t0 = time.monotonic()
    pf_dir = root / "Windows" / "Prefetch"
    pf_dir.mkdir(parents=True, exist_ok=True)
    pf_facts = {"files": 0, "bytes": 0, "run_times": 0, "volumes": 0, "versions": {}}
    written = []
    for spec in pf_specs:
        data = pf_bytes(spec)
        target = pf_dir / spec.file_name
        target.write_bytes(data)
        set_ntfs_times(target, spec.run_times[-1] - 10_000_000 * 7, spec.run_times[0] + 10_000_000 * 10)
        written.append((spec.file_name, target))
        key = f"v{spec.version}{'-compressed' if spec.compressed else ''}"
        pf_facts["versions"][key] = pf_facts["versions"].get(key, 0) + 1
        pf_facts["files"] += 1
        pf_facts["bytes"] += len(data)
        pf_facts["run_times"] += len(spec.run_times)
        pf_facts["volumes"] += 1
    # Layout.ini, as Windows keeps beside the .pf files (no artifact).
    (pf_dir / "Layout.ini").write_bytes("\r\n".join(f"C:{s.path}" for s in pf_specs).encode("utf-16"))
    timings["prefetch_s"] = round(time.monotonic() - t0, 2)
    log(f"  prefetch: {pf_facts['files']} files {pf_facts['versions']} in {timings['prefetch_s']} s")
    return pf_facts, written


def fill_recycle_bin(root: Path, rc_specs, users: tuple[str, ...], domain_sid: str,
                     timings: dict) -> None:
    t0 = time.monotonic()
    bin_root = root / "$Recycle.Bin"
    for user in users:
        sid_dir = bin_root / f"{domain_sid}-{USERS[user]}"
        sid_dir.mkdir(parents=True, exist_ok=True)
        (sid_dir / "desktop.ini").write_bytes(
            "\r\n[.ShellClassInfo]\r\nCLSID={645FF040-5081-101B-9F08-00AA002F954E}\r\n".encode("utf-16"))
    for spec in rc_specs:
        sid_dir = bin_root / f"{domain_sid}-{USERS[spec.user]}"
        r_path = sid_dir / f"$R{spec.suffix}"
        if spec.folder is not None:
            r_path.mkdir()
            for name, data in spec.folder.items():
                (r_path / name).write_bytes(data)
        else:
            r_path.write_bytes(spec.content or b"")
            set_ntfs_times(r_path, spec.deleted - 10_000_000 * 86400 * 30, spec.deleted - 10_000_000 * 3600)
        i_path = sid_dir / f"$I{spec.suffix}"
        i_path.write_bytes(build_i_file(spec.original_path, spec.size, spec.deleted, version=2))
        set_ntfs_times(i_path, spec.deleted, spec.deleted)
    timings["recycle_bin_s"] = round(time.monotonic() - t0, 2)


def count_volume(root: Path, timings: dict) -> tuple[int, int]:
    t0 = time.monotonic()
    counted_files = counted_dirs = 0
    for _, dnames, fnames in os.walk(root):
        counted_files += len(fnames)
        counted_dirs += len(dnames)
    timings["count_walk_s"] = round(time.monotonic() - t0, 2)
    log(f"  volume holds {counted_files} files in {counted_dirs} directories (walk {timings['count_walk_s']} s)")
    return counted_files, counted_dirs


def fill_volume(root: Path, tree, pf_specs, rc_specs, size: Size, seed: int, timings: dict,
                large: LargeOptions | None = None) -> dict:
    inv = Inventory() if size.large else None
    n_files, n_bytes = fill_bulk(root, tree, seed, timings, inv)
    pf_facts, pf_written = fill_prefetch(root, pf_specs, timings)
    fill_recycle_bin(root, rc_specs, size.recycle_users, size.domain_sid, timings)
    extra = {}
    if inv is not None:
        extra = fill_large(root, inv, pf_specs, pf_written, seed, large or LargeOptions(), timings)
    counted_files, counted_dirs = count_volume(root, timings)
    return {"files": counted_files, "directories": counted_dirs, "bulk_files": n_files,
            "bulk_bytes": n_bytes, "prefetch": pf_facts,
            "recycle_bin": {"users": [f"{size.domain_sid}-{USERS[u]}" for u in size.recycle_users],
                            "i_files": len(rc_specs),
                            "r_folders": sum(1 for s in rc_specs if s.folder is not None)},
            **extra}


# --------------------------------------------------------------------------------------------
# The large image: profiles, system hives, event logs, USN journal, deleted files


def _split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]


def fill_profiles(root: Path, inv: Inventory, opts: LargeOptions, seed: int) -> dict:
    """Each user's Recent shortcuts and Jump Lists, NTUSER.DAT, UsrClass.dat, Chrome History
    and Firefox places.sqlite, all from the same list of files the user opened."""
    from fixtures.builders.browser_writer import build_chrome_history, build_places

    facts: dict[str, dict] = {}
    for (user, rid), lnks, visits in zip(USERS.items(), _split(opts.lnk, len(USERS)),
                                         _split(opts.visits, len(USERS))):
        home = f"Users/{user}"
        opened = bc.user_opened(user, inv.user_files.get(user, []), inv.dirs, lnks, seed)
        recent = f"{home}/AppData/Roaming/Microsoft/Windows/Recent"
        for n, o in enumerate(opened):
            put(root, f"{recent}/{bc.lnk_file_name(o)}", bc.lnk_bytes(o, n), o.first, o.last)
        jumps = bc.jump_lists(user, opened)
        for name, data in jumps.items():
            kind = "Automatic" if name.endswith("automaticDestinations-ms") else "Custom"
            put(root, f"{recent}/{kind}Destinations/{name}", data, bc.USER_CREATED[user], opened[-1].last)
        runs = bc.user_runs(user, seed)
        put(root, f"{home}/NTUSER.DAT", bc.ntuser_hive(user, opened, runs, seed),
            bc.USER_CREATED[user], bc.SHUTDOWN_TIME)
        put(root, f"{home}/AppData/Local/Microsoft/Windows/UsrClass.dat",
            bc.usrclass_hive(user, opened), bc.USER_CREATED[user], bc.SHUTDOWN_TIME)
        chrome_n = visits * 7 // 10
        chrome = bc.browser_visits(user, chrome_n, seed, 1)
        firefox = bc.browser_visits(user, visits - chrome_n, seed, 2)
        downloads = [(Path(f.path).name, f.size, bc.between(random.Random(f.entry), bc.T_FIRST, bc.T_LAST))
                     for f in inv.user_files.get(user, []) if f.path.startswith(f"{home}/Downloads/")][:40]
        rows = bc.chrome_rows(user, chrome, downloads, seed)
        history = root / f"{home}/AppData/Local/Google/Chrome/User Data/Default/History"
        build_chrome_history(history, rows)
        set_ntfs_times(history, bc.USER_CREATED[user] + bc.DAY, chrome[-1][3])
        places = root / f"{home}/AppData/Roaming/Mozilla/Firefox/Profiles/x1y2z3ab.default-release/places.sqlite"
        fx_rows = bc.firefox_rows(user, firefox, seed)
        build_places(places, fx_rows)
        set_ntfs_times(places, bc.USER_CREATED[user] + bc.DAY, firefox[-1][3])
        facts[user] = {
            "sid": bc.sid(user), "recent_lnk": len(opened),
            "recent_lnk_on_usb": sum(1 for o in opened if o.stick),
            "recent_lnk_on_share": sum(1 for o in opened if o.path.startswith("\\\\")),
            "jump_lists": {n: (n.split(".")[0]) for n in jumps},
            "userassist_programs": len(runs),
            "chrome_visits": len(rows["visits"]), "chrome_urls": len(rows["urls"]),
            "chrome_downloads": len(rows["downloads"]),
            "chrome_search_terms": len(rows["keyword_search_terms"]),
            "firefox_visits": len(fx_rows["moz_historyvisits"]),
            "firefox_places": len(fx_rows["moz_places"]),
            "firefox_bookmarks": sum(1 for b in fx_rows["moz_bookmarks"] if b["type"] == 1)}
    return facts


def fill_system(root: Path, pf_specs, seed: int) -> dict:
    """SYSTEM, SOFTWARE, SAM (replacing the empty hives of the bulk tree) and Amcache.hve."""
    rng = random.Random(seed + 100)
    programs = []
    for spec in pf_specs:
        path = "C:" + spec.path
        if path.upper() not in {p.upper() for p, _ in programs}:
            programs.append((path, bc.between(rng, bc.INSTALL_TIME, spec.run_times[-1])))
    bam = {user: [(f"\\Device\\HarddiskVolume2{path[2:]}", t)
                  for name, _, _, t in bc.user_runs(user, seed) if (path := bc.program_path(name))]
           for user in USERS}
    config = "Windows/System32/config"
    for name, data in (("SYSTEM", bc.system_hive(programs[:256], bam)), ("SOFTWARE", bc.software_hive()),
                       ("SAM", bc.sam_hive())):
        put(root, f"{config}/{name}", data, bc.INSTALL_TIME, bc.SHUTDOWN_TIME)
    put(root, "Windows/AppCompat/Programs/Amcache.hve", bc.amcache_hive(programs),
        bc.INSTALL_TIME, bc.SHUTDOWN_TIME)
    return {"host": bc.HOST, "time_zone": bc.TZ_KEY, "shimcache_entries": min(256, len(programs)),
            "amcache_files": len(programs), "bam_entries": sum(len(v) for v in bam.values()),
            "sam_accounts": len(bc.SAM_ACCOUNTS),
            "usb_sticks": [{"vendor": s.vendor, "product": s.product, "serial": s.serial,
                            "volume_serial": f"{s.volume_serial:08X}", "letter": s.letter,
                            "users": list(s.users)} for s in bc.STICKS]}


def fill_event_logs(root: Path, opts: LargeOptions, seed: int) -> dict:
    """The event logs (EVENT_LOGS scaled to opts.evtx_mib) and the empty channels."""
    try:
        from triage.evtx_catalog import lookup

        def catalogued(provider, channel, event_id):
            return lookup(provider, channel, event_id) is not None
    except ImportError:  # the counts of catalogued records are then left out
        catalogued = None
    logs = root / "Windows/System32/winevt/Logs"
    logs.mkdir(parents=True, exist_ok=True)
    scale = opts.evtx_mib * 16 / sum(s.chunks for s in bc.EVENT_LOGS)
    facts = []
    for spec in bc.EVENT_LOGS:
        target = logs / spec.file
        with open(target, "wb") as fh:
            facts.append(bc.write_event_log(fh, spec, seed, max(1, round(spec.chunks * scale)), catalogued))
        set_ntfs_times(target, bc.INSTALL_TIME, bc.T_LAST)
    for name in bc.EMPTY_LOGS:
        put(root, f"Windows/System32/winevt/Logs/{name}.evtx", bc.empty_log(), bc.INSTALL_TIME,
            bc.INSTALL_TIME + 3 * bc.MINUTE)
    total = {"files": len(facts) + len(bc.EMPTY_LOGS), "bytes": sum(f["bytes"] for f in facts)
             + len(bc.EMPTY_LOGS) * len(bc.empty_log()), "records": sum(f["records"] for f in facts)}
    if catalogued is not None:
        total["catalogued_records"] = sum(f["catalogued_records"] for f in facts)
    return {**total, "logs": facts, "empty_logs": len(bc.EMPTY_LOGS)}


def fill_usn_journal(root: Path, inv: Inventory, pf_written, opts: LargeOptions, seed: int) -> dict:
    """$Extend\\$UsnJrnl with its $Max and $J streams. ntfs-3g creates no journal and refuses
    new files in $Extend, but renames one into it: the file is made at the root with its
    streams (mount option streams_interface=windows), then moved."""
    from fixtures.builders.usn_writer import write_journal

    files = [(Path(f.path).name, f.entry, inv.dirs[str(Path(f.path).parent)])
             for fs in inv.user_files.values() for f in fs if f.entry]
    pf_dir = os.stat(root / "Windows" / "Prefetch").st_ino
    prefetch = [(name, os.stat(path).st_ino, pf_dir) for name, path in pf_written]
    temp_dirs = [(d, e) for d, e in inv.dirs.items()
                 if d.endswith(("/Temp", "/Downloads", "/Cache_Data", "/entries", "/INetCache/IE"))]
    free_entry = max(e for _, e, _ in files) + 10_000
    leading = opts.usn_sparse_mib * MiB
    count, records = bc.usn_records(files, prefetch, temp_dirs, free_entry, opts.usn_mib * MiB,
                                    leading, seed)
    journal = root / "$UsnJrnl"
    try:
        journal.write_bytes(b"")
        with open(f"{journal}:$Max", "wb") as fh:
            fh.write(bc.usn_max_stream(leading))
        with open(f"{journal}:$J", "wb") as fh:
            length = write_journal(fh, records, leading_zeros=leading)
        set_ntfs_times(journal, bc.INSTALL_TIME + 4 * bc.MINUTE, bc.T_LAST)
        os.rename(journal, root / "$Extend" / "$UsnJrnl")
    except OSError as exc:
        return {"written": False, "reason": f"{type(exc).__name__}: {exc}"}
    return {"written": True, "path": "/$Extend/$UsnJrnl:$J", "records": count,
            "stream_bytes": length, "sparse_start_bytes": leading, "record_bytes": length - leading,
            "first_time": bc.iso7(bc.USN_WINDOW_START), "last_time_at_most": bc.iso7(bc.T_LAST)}


def fill_large(root: Path, inv: Inventory, pf_specs, pf_written, seed: int, opts: LargeOptions,
               timings: dict) -> dict:
    steps = {}
    t0 = time.monotonic()
    steps["profiles"] = fill_profiles(root, inv, opts, seed)
    timings["profiles_s"] = round(time.monotonic() - t0, 2)
    log(f"  profiles (shortcuts, jump lists, hives, browsers) in {timings['profiles_s']} s")
    t0 = time.monotonic()
    steps["system"] = fill_system(root, pf_specs, seed)
    timings["system_hives_s"] = round(time.monotonic() - t0, 2)
    t0 = time.monotonic()
    steps["event_logs"] = fill_event_logs(root, opts, seed)
    timings["event_logs_s"] = round(time.monotonic() - t0, 2)
    log(f"  event logs: {steps['event_logs']['records']} records, "
        f"{steps['event_logs']['bytes'] / MiB:.0f} MiB in {timings['event_logs_s']} s")
    t0 = time.monotonic()
    steps["usn_journal"] = fill_usn_journal(root, inv, pf_written, opts, seed)
    timings["usn_journal_s"] = round(time.monotonic() - t0, 2)
    log(f"  USN journal: {steps['usn_journal']} in {timings['usn_journal_s']} s")
    t0 = time.monotonic()
    deleted = bc.deleted_files(opts.deleted, seed)
    entries = [put(root, rel, data, created, modified) for rel, data, created, modified in deleted]
    for rel, *_ in deleted:
        os.remove(root / rel)
    steps["deleted_files"] = {"count": len(deleted), "bytes": sum(len(d[1]) for d in deleted),
                              "first_mft_entry": min(entries), "last_mft_entry": max(entries)}
    time_rng = random.Random(seed + 6)  # folder times last: adding entries changes them
    for d in sorted(inv.dirs, key=lambda p: -p.count("/")):
        user = bc.user_of(d)
        created = bc.USER_CREATED[user] if user else bc.INSTALL_TIME
        set_ntfs_times(root / d, created, bc.between(time_rng, created, bc.T_LAST))
    timings["deleted_and_folder_times_s"] = round(time.monotonic() - t0, 2)
    return steps


def mft_facts(volume: Path) -> dict:
    """Records of the volume's $MFT: allocated (its $DATA size / record size) and in use (bits
    set in its $BITMAP), read from record 0."""
    from fixtures.build_images import _runlist, _unfix

    with open(volume, "rb") as fh:
        boot = fh.read(512)
        sector, = struct.unpack_from("<H", boot, 0x0B)
        cluster = sector * boot[0x0D]
        mft_lcn, = struct.unpack_from("<Q", boot, 0x30)
        clusters = struct.unpack_from("<b", boot, 0x40)[0]
        rec_size = 1 << -clusters if clusters < 0 else clusters * cluster
        fh.seek(mft_lcn * cluster)
        rec = bytearray(fh.read(rec_size))
        _unfix(rec, 0, rec_size, sector)
        pos, data_size, bitmap = struct.unpack_from("<H", rec, 0x14)[0], 0, b""
        while pos + 8 <= rec_size:
            atype, alen = struct.unpack_from("<II", rec, pos)
            if atype == 0xFFFFFFFF or alen == 0:
                break
            if atype in (0x80, 0xB0) and rec[pos + 8]:  # non-resident $DATA / $BITMAP
                size = struct.unpack_from("<Q", rec, pos + 48)[0]
                if atype == 0x80:
                    data_size = size
                else:
                    for lcn, count in _runlist(rec, pos + struct.unpack_from("<H", rec, pos + 32)[0]):
                        fh.seek(lcn * cluster)
                        bitmap += fh.read(count * cluster)
                    bitmap = bitmap[:size]
            pos += alen
    return {"record_size": rec_size, "records_allocated": data_size // rec_size,
            "records_in_use": sum(bin(b).count("1") for b in bitmap)}


# --------------------------------------------------------------------------------------------
# The disk, the E01 and the facts


def build_disk(vol: Path, raw: Path, disk_bytes: int, part_sectors: int) -> None:
    if raw.exists():
        raw.unlink()
    with open(raw, "wb") as fh:
        fh.truncate(disk_bytes)
    run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(raw)],
        stdin=(f"label: dos\nlabel-id: 0x{MBR_DISK_ID:08x}\nunit: sectors\n\n"
               f"start={PART_START_SECTOR}, size={part_sectors}, type=7, bootable\n").encode())
    run(["dd", f"if={vol}", f"of={raw}", "bs=1M", f"seek={PART_START_SECTOR * SECTOR // MiB}",
         "conv=notrunc,sparse", "status=none"])


def build_e01(raw: Path, out: Path, name: str, timeout: int, timings: dict) -> dict | None:
    target = out / name
    for old in out.glob(f"{name}.E0*"):
        old.unlink()
    t0 = time.monotonic()
    try:
        subprocess.run(["ewfacquire", "-u", "-q", "-t", str(target), "-f", "encase6",
                        "-c", "deflate:fast", "-C", "BENCH", "-D", f"benchmark image {name}",
                        "-e", "bench builder", "-E", name, "-N", "synthetic benchmark image",
                        "-m", "fixed", "-M", "physical", "-S", "4GiB", str(raw)],
                       check=True, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        log(f"ewfacquire took longer than {timeout} s: no E01")
        for old in out.glob(f"{name}.E0*"):
            old.unlink()
        return None
    except subprocess.CalledProcessError as exc:
        log(f"ewfacquire failed: {exc.stderr.decode(errors='replace').strip()}")
        return None
    timings["e01_s"] = round(time.monotonic() - t0, 2)
    segments = sorted(out.glob(f"{name}.E0*"))
    e01 = {"path": str(segments[0]), "segments": len(segments),
           "bytes": sum(p.stat().st_size for p in segments)}
    log(f"E01 {segments[0]} ({e01['bytes'] / MiB:.1f} MiB) in {timings['e01_s']} s")
    return e01


def expected_events(facts: dict, rc_count: int) -> dict:
    """What a complete extraction holds, counted the way triage counts it: the parts whose
    count follows from the content alone (the other artifacts: see bench/README.md)."""
    pf = facts["prefetch"]
    expected = {"prefetch_files": pf["files"], "prefetch_run_times": pf["run_times"],
                "prefetch_volumes": pf["volumes"], "recycle_i_files": rc_count,
                "triage_events": pf["run_times"] + pf["volumes"] + rc_count}
    if "profiles" not in facts:
        return expected
    del expected["triage_events"]  # the other artifacts add events that are not counted here
    profiles = facts["profiles"].values()
    expected.update({
        "recent_lnk_files": sum(p["recent_lnk"] for p in profiles),
        "chrome_visits": sum(p["chrome_visits"] for p in profiles),
        "firefox_visits": sum(p["firefox_visits"] for p in profiles),
        "evtx_records": facts["event_logs"]["records"],
        "evtx_catalogued_records": facts["event_logs"].get("catalogued_records"),
        "usn_records": facts["usn_journal"].get("records"),
        "deleted_files_written": facts["deleted_files"]["count"]})
    return expected


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="100k",
                    help="100k: bench-100k (default); large: bench-1m with full artifact sets")
    ap.add_argument("--files", type=int, default=None, help="bulk files to create (default: by size)")
    ap.add_argument("--prefetch", type=int, default=None)
    ap.add_argument("--recycle", type=int, default=None, help="$I/$R pairs over the users")
    ap.add_argument("--disk-mib", type=int, default=None, help="raw disk size (sparse)")
    ap.add_argument("--name", default=None, help="image stem (default bench-<files/1000>k, bench-1m)")
    ap.add_argument("--out", type=Path, default=HERE / "work")
    ap.add_argument("--seed", type=int, default=20260312)
    ap.add_argument("--no-e01", action="store_true", help="skip the E01 copy")
    ap.add_argument("--e01-timeout", type=int, default=None, help="give up the E01 after this many seconds")
    large = ap.add_argument_group("large image (smaller values for a quick trial build)")
    for opt, help_text in (("lnk", "Recent shortcuts, all users"), ("visits", "browser visits, all users"),
                           ("evtx-mib", "event log MiB"), ("usn-mib", "USN record MiB"),
                           ("deleted", "deleted files")):
        large.add_argument(f"--{opt}", type=int, default=getattr(LargeOptions, opt.replace("-", "_")),
                           help=help_text)
    args = ap.parse_args(argv)
    size = SIZES[args.size]
    files = args.files if args.files is not None else size.files
    prefetch = args.prefetch if args.prefetch is not None else size.prefetch
    recycle = args.recycle if args.recycle is not None else size.recycle
    disk_mib = args.disk_mib if args.disk_mib is not None else size.disk_mib
    options = LargeOptions(args.lnk, args.visits, args.evtx_mib, args.usn_mib, deleted=args.deleted)

    if os.geteuid() != 0:
        print("build_bench_image needs root (ntfs-3g FUSE mount)", file=sys.stderr)
        return 2
    for tool in ("mkntfs", "ntfslabel", "ntfs-3g", "sfdisk", "dd") + (() if args.no_e01 else ("ewfacquire",)):
        if shutil.which(tool) is None:
            print(f"missing tool: {tool}", file=sys.stderr)
            return 2

    name = args.name or size.name or f"bench-{files // 1000}k"
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    stage = out / f"{name}.stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    timings: dict[str, float] = {}
    t_all = time.monotonic()

    t0 = time.monotonic()
    tree = bulk_tree(files, args.seed)
    if size.large:
        tree = bc.large_tree(tree)
    pf = prefetch_specs(tree, prefetch, args.seed)
    rc = recycle_specs(recycle, args.seed, size.recycle_users)
    if size.large:
        pf = bc.office_prefetch(pf)
        rc = bc.recycled_documents(rc, args.seed)
    timings["plan_s"] = round(time.monotonic() - t0, 2)
    log(f"plan: {sum(len(n) for _, n in tree)} bulk files in {len(tree)} directories, "
        f"{len(pf)} prefetch, {len(rc)} recycle entries ({timings['plan_s']} s)")

    disk_bytes = disk_mib * MiB
    part_sectors = disk_bytes // SECTOR - PART_START_SECTOR - 2048  # leave 1 MiB at the end
    vol = stage / "volume.raw"
    with open(vol, "wb") as fh:
        fh.truncate(part_sectors * SECTOR)
    t0 = time.monotonic()
    run(["mkntfs", "-F", "-Q", "-q", "-L", NTFS_LABEL, "-s", str(SECTOR), "-c", "4096",
         "-p", str(PART_START_SECTOR), "-H", "255", "-S", "63", str(vol)])
    run(["ntfslabel", f"--new-serial={NTFS_SERIAL:016X}", str(vol)])
    timings["mkntfs_s"] = round(time.monotonic() - t0, 2)

    log("filling the volume through ntfs-3g")
    t0 = time.monotonic()
    with NtfsMount(vol, stage / "mnt", stage / "ntfs-3g.log", streams=size.large) as root:
        facts = fill_volume(root, tree, pf, rc, size, args.seed, timings, options)
    timings["fill_and_unmount_s"] = round(time.monotonic() - t0, 2)
    log(f"volume filled and unmounted in {timings['fill_and_unmount_s']} s")
    if size.large:
        facts["mft"] = mft_facts(vol)
        log(f"  $MFT: {facts['mft']}")

    t0 = time.monotonic()
    raw = out / f"{name}.raw"
    build_disk(vol, raw, disk_bytes, part_sectors)
    timings["disk_s"] = round(time.monotonic() - t0, 2)
    shutil.rmtree(stage)
    allocated = os.stat(raw).st_blocks * 512
    log(f"raw disk {raw} ({disk_bytes / MiB:.0f} MiB, {allocated / MiB:.0f} MiB allocated) in {timings['disk_s']} s")

    e01 = None
    if not args.no_e01:
        timeout = args.e01_timeout if args.e01_timeout is not None else size.e01_timeout
        e01 = build_e01(raw, out, name, timeout, timings)

    timings["total_s"] = round(time.monotonic() - t_all, 2)
    manifest = {
        "name": name,
        "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": args.seed,
        "raw": {"path": str(raw), "bytes": disk_bytes, "allocated_bytes": allocated,
                "partition_table": "mbr", "partition_offset": PART_START_SECTOR * SECTOR,
                "partition_bytes": part_sectors * SECTOR, "file_system": "ntfs"},
        "e01": e01,
        "content": facts,
        # What a complete extraction holds, counted the way each tool counts.
        "expected": expected_events(facts, len(rc)),
        "timings": timings,
    }
    if size.large:
        manifest["size"] = args.size
        manifest["options"] = {"files": files, "prefetch": prefetch, "recycle": recycle,
                               **options.__dict__}
    (out / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"done in {timings['total_s']} s; facts in {out / (name + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
