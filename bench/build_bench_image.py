#!/usr/bin/env python3
"""Build the benchmark disk image: a raw MBR disk with one NTFS volume holding a large,
Windows-like file tree (100,000+ files), 300 Prefetch files and a two-user Recycle Bin.

Needs root (the NTFS volume is filled through an ntfs-3g FUSE mount) and the Debian packages
ntfs-3g (mkntfs, ntfs-3g), fdisk (sfdisk), coreutils (dd) and, for the E01 copy, ewf-tools
(ewfacquire). Run from the project root with the project's virtual environment:

    sudo .venv/bin/python bench/build_bench_image.py            # -> bench/work/bench-100k.raw (+ .E01)

Everything is deterministic (fixed random seed) except the NTFS "MFT changed" times that
ntfs-3g stamps with the wall clock. Output goes to bench/work/ (git-ignored): the raw image,
its E01, and `<name>.json` with the facts of the image (file counts, expected evidence) and
how long each build step took.
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
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fixtures.builders.prefetch_writer import PrefetchVolume, build_prefetch  # noqa: E402
from fixtures.builders.recycle_writer import build_i_file  # noqa: E402
from fixtures.builders.regf_writer import empty_hive  # noqa: E402
from fixtures.build_images import NtfsMount as _FixtureNtfsMount  # noqa: E402

MiB = 1024 * 1024
SECTOR = 512
PART_START_SECTOR = 2048
NTFS_LABEL = "Windows"
NTFS_SERIAL = 0x5E3A9C1D7B2F4E60
C_SERIAL32 = NTFS_SERIAL & 0xFFFFFFFF
MBR_DISK_ID = 0xBE7C4100
DOMAIN_SID = "S-1-5-21-3141592653-5897932384-6264338327"
USERS = {"alice": 1001, "bob": 1002, "carol": 1003}
RECYCLE_USERS = ("alice", "bob")  # the two users with a Recycle Bin

_EPOCH_1601 = datetime(1601, 1, 1, tzinfo=timezone.utc)


def ft(year, month, day, hour=0, minute=0, second=0, ticks=0) -> int:
    """FILETIME (100 ns ticks since 1601-01-01 UTC) of a UTC date."""
    delta = datetime(year, month, day, hour, minute, second, tzinfo=timezone.utc) - _EPOCH_1601
    return (delta.days * 86400 + delta.seconds) * 10_000_000 + ticks


INSTALL_TIME = ft(2025, 6, 2, 7, 12, 40)  # volume "creation" recorded in Prefetch
T_FIRST = ft(2025, 7, 1)
T_LAST = ft(2026, 3, 12, 18, 0, 0)
C_DEVICE = f"\\VOLUME{{{INSTALL_TIME:016x}-{C_SERIAL32:08x}}}"


def log(msg: str) -> None:
    print(f"[build_bench_image] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], stdin: bytes | None = None) -> None:
    done = subprocess.run(cmd, input=stdin, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}): "
                           f"{done.stderr.decode(errors='replace').strip()}")


def set_ntfs_times(path: Path, created: int, modified: int) -> None:
    os.setxattr(path, "system.ntfs_times", struct.pack("<4Q", created, modified, modified, modified))


# --------------------------------------------------------------------------------------------
# The bulk tree: (directory, file names) pairs, generated deterministically

_SYLL = ["win", "net", "core", "sys", "user", "shell", "crypt", "print", "media", "dx", "ui",
         "app", "srv", "host", "kern", "data", "sec", "auth", "wmi", "reg", "task", "sync",
         "cloud", "edge", "store", "search", "audio", "video", "font", "input", "power", "usb",
         "hid", "bt", "wlan", "dns", "http", "tls", "ole", "com", "rpc", "ntfs", "vss", "cfg"]
_VENDORS = ["Adobe", "Google", "Mozilla", "Microsoft Office", "Zoom", "7-Zip", "VideoLAN",
            "Notepad++", "Git", "Python311", "NVIDIA Corporation", "Intel", "Realtek", "Dell",
            "Citrix", "Cisco", "Oracle", "VMware", "WinRAR", "Slack", "Dropbox", "KeePass",
            "TeamViewer", "Wireshark", "PuTTY", "FileZilla", "Audacity", "GIMP", "LibreOffice",
            "Microsoft OneDrive", "Windows Defender", "Windows Mail", "Internet Explorer",
            "Common Files", "WindowsPowerShell", "Microsoft Visual Studio", "Java", "Node.js",
            "Docker", "Veeam"]
_LOCALES = ["en-US", "de-DE", "fr-FR", "ja-JP", "es-ES", "it-IT", "pt-BR", "zh-CN"]


def _word(rng: random.Random, parts: int = 2) -> str:
    return "".join(rng.choice(_SYLL) for _ in range(parts))


def _names(rng: random.Random, count: int, exts: list[str], parts: int = 2) -> list[str]:
    seen: set[str] = set()
    out = []
    while len(out) < count:
        name = f"{_word(rng, parts)}{rng.choice(['', '', str(rng.randint(1, 64))])}.{rng.choice(exts)}"
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def bulk_tree(target: int, seed: int) -> list[tuple[str, list[str]]]:
    """At least `target` files in a Windows-like layout, as (directory, [file names])."""
    scale = target / 96_000
    while True:
        tree = _bulk_tree(scale, seed)
        total = sum(len(names) for _, names in tree)
        if total >= target:
            return tree
        scale *= target / total * 1.005


def _bulk_tree(scale: float, seed: int) -> list[tuple[str, list[str]]]:
    rng = random.Random(seed)
    # scale 1.0 gives about 96,000 files; `scale` stretches every count.
    n = lambda k: max(1, round(k * scale))  # noqa: E731
    dirs: list[tuple[str, list[str]]] = []

    def add(d: str, names: list[str]) -> None:
        dirs.append((d, names))

    add("Windows/System32", _names(rng, n(4200), ["dll"] * 8 + ["exe"] * 2 + ["cpl", "ocx", "tlb"]))
    for loc in _LOCALES[:4]:
        add(f"Windows/System32/{loc}", [f"{x}.mui" for x in _names(rng, n(500), ["dll", "exe"])])
    add("Windows/System32/drivers", _names(rng, n(450), ["sys"]))
    add("Windows/System32/DriverStore/FileRepository", [])
    for i in range(n(700)):
        add(f"Windows/System32/DriverStore/FileRepository/{_word(rng)}.inf_amd64_{rng.getrandbits(64):016x}",
            _names(rng, rng.randint(2, 9), ["inf", "sys", "cat", "dll", "pnf"]))
    add("Windows/System32/config", ["SYSTEM", "SOFTWARE", "SAM", "SECURITY", "DEFAULT"])
    add("Windows/System32/winevt/Logs", [f"{_word(rng)}%4Operational.evtx" for _ in range(n(300))])
    add("Windows/System32/Tasks/Microsoft/Windows", [_word(rng, 3) for _ in range(n(200))])
    add("Windows/SysWOW64", _names(rng, n(3200), ["dll"] * 8 + ["exe"] * 2))
    for loc in _LOCALES[:2]:
        add(f"Windows/SysWOW64/{loc}", [f"{x}.mui" for x in _names(rng, n(400), ["dll", "exe"])])
    for i in range(n(3300)):
        arch = rng.choice(["amd64", "wow64", "x86", "msil"])
        comp = f"{arch}_microsoft-windows-{_word(rng)}-{_word(rng)}_31bf3856ad364e35_10.0.19041.{rng.randint(1, 4000)}_none_{rng.getrandbits(64):016x}"
        add(f"Windows/WinSxS/{comp}", _names(rng, rng.randint(2, 12), ["dll", "exe", "manifest", "mui", "cat"]))
    add("Windows/WinSxS/Manifests", _names(rng, n(3000), ["manifest"], parts=3))
    add("Windows/INF", _names(rng, n(1400), ["inf", "pnf"]))
    add("Windows/Fonts", _names(rng, n(450), ["ttf", "ttc", "fon", "otf"]))
    add("Windows/servicing/Packages", _names(rng, n(6000), ["mum", "cat"], parts=3))
    for i in range(n(300)):
        add(f"Windows/assembly/NativeImages_v4.0.30319_64/{_word(rng)}.{_word(rng)}/{rng.getrandbits(128):032x}",
            _names(rng, rng.randint(1, 6), ["ni.dll", "ni.exe"]))
    add("Windows/Logs/CBS", [f"CbsPersist_2025{rng.randint(1000, 1299):04d}{rng.randint(0, 235959):06d}.log" for _ in range(n(200))])
    add("Windows/Temp", _names(rng, n(400), ["tmp", "log", "etl"]))
    add("Windows/SoftwareDistribution/Download", _names(rng, n(900), ["cab", "psf", "xml"]))

    for pf, share in (("Program Files", 12500), ("Program Files (x86)", 8500)):
        per_vendor = n(share) // len(_VENDORS)
        for vendor in _VENDORS:
            left = per_vendor
            app = f"{pf}/{vendor}"
            while left > 0:
                sub = app if rng.random() < 0.3 else f"{app}/{_word(rng)}"
                k = min(left, rng.randint(10, 80))
                add(sub, _names(rng, k, ["dll", "exe", "json", "xml", "pak", "dat", "png", "ico"]))
                left -= k
    for i in range(n(120)):
        add(f"ProgramData/Microsoft/Windows Defender/Definition Updates/{{{rng.getrandbits(64):016X}}}", _names(rng, 6, ["vdm", "dll"]))
    add("ProgramData/Microsoft/Windows/Start Menu/Programs", [f"{v}.lnk" for v in _VENDORS])
    for i in range(n(150)):
        add(f"ProgramData/Package Cache/{{{rng.getrandbits(128):032X}}}", _names(rng, rng.randint(1, 8), ["msi", "cab", "exe"]))
    add("ProgramData/Microsoft/Search/Data/Applications/Windows", _names(rng, n(800), ["edb", "jrs", "chk"]))

    for user in USERS:
        home = f"Users/{user}"
        add(f"{home}/Documents", _names(rng, n(600), ["docx", "xlsx", "pdf", "txt", "pptx", "csv"]))
        add(f"{home}/Downloads", _names(rng, n(150), ["exe", "zip", "pdf", "msi", "iso"]))
        add(f"{home}/Desktop", _names(rng, n(60), ["lnk", "txt", "docx"]) + ["desktop.ini"])
        for year in (2024, 2025, 2026):
            add(f"{home}/Pictures/{year}", [f"IMG_{year}{rng.randint(101, 1231):04d}_{rng.randint(0, 235959):06d}.jpg" for _ in range(n(200))])
        add(f"{home}/AppData/Roaming/Microsoft/Windows/Recent", [f"{x}.lnk" for x in _names(rng, n(300), ["docx", "pdf", "txt", "xlsx"])])
        add(f"{home}/AppData/Local/Microsoft/Windows/INetCache/IE", _names(rng, n(1200), ["htm", "js", "css", "png", "gif"]))
        add(f"{home}/AppData/Local/Google/Chrome/User Data/Default/Cache/Cache_Data", [f"f_{i:06x}" for i in range(1, n(2500))] + ["index", "data_0", "data_1", "data_2", "data_3"])
        add(f"{home}/AppData/Local/Google/Chrome/User Data/Default/Code Cache/js", [f"{rng.getrandbits(64):016x}_0" for _ in range(n(700))])
        add(f"{home}/AppData/Local/Temp", _names(rng, n(350), ["tmp", "log", "dat"]))
        add(f"{home}/AppData/Local/Packages/Microsoft.Windows.Search_cw5n1h2txyewy/LocalState", _names(rng, n(150), ["json", "db", "dat"]))
        add(f"{home}/AppData/Roaming/Mozilla/Firefox/Profiles/x1y2z3ab.default-release/cache2/entries", [f"{rng.getrandbits(160):040X}" for _ in range(n(600))])
    return dirs


def _content(name: str, rng: random.Random) -> bytes:
    """Small deterministic content: mostly resident in the MFT record (< ~600 bytes), some
    non-resident (1-16 KiB), a few larger (64-384 KiB)."""
    r = rng.random()
    if r < 0.002:
        size = rng.randint(64, 384) * 1024
    elif r < 0.06:
        size = rng.randint(1, 16) * 1024
    else:
        size = rng.randint(0, 600)
    head = (b"MZ\x90\x00" if name.lower().endswith((".dll", ".exe", ".sys")) else b"") + name.encode() + b"\r\n"
    return (head * (size // max(1, len(head)) + 1))[:size]


# --------------------------------------------------------------------------------------------
# Prefetch and Recycle Bin


_SYS_DLLS = ["NTDLL.DLL", "KERNEL32.DLL", "KERNELBASE.DLL", "LOCALE.NLS", "USER32.DLL",
             "WIN32U.DLL", "GDI32.DLL", "GDI32FULL.DLL", "MSVCP_WIN.DLL", "UCRTBASE.DLL",
             "ADVAPI32.DLL", "MSVCRT.DLL", "SECHOST.DLL", "RPCRT4.DLL", "SHELL32.DLL",
             "COMBASE.DLL", "OLE32.DLL", "IMM32.DLL", "SHLWAPI.DLL", "BCRYPTPRIMITIVES.DLL",
             "CRYPTBASE.DLL", "UXTHEME.DLL", "WINDOWS.STORAGE.DLL", "WLDP.DLL", "SHCORE.DLL",
             "KERNEL.APPCORE.DLL", "PROFAPI.DLL", "POWRPROF.DLL", "UMPDC.DLL", "CFGMGR32.DLL",
             "VERSION.DLL", "WS2_32.DLL", "DNSAPI.DLL", "IPHLPAPI.DLL", "NSI.DLL", "MSWSOCK.DLL",
             "CRYPT32.DLL", "WINTRUST.DLL", "MSASN1.DLL", "SSPICLI.DLL", "USERENV.DLL",
             "DWMAPI.DLL", "TEXTINPUTFRAMEWORK.DLL", "COREMESSAGING.DLL", "WINHTTP.DLL"]


@dataclass
class PfSpec:
    executable: str
    path: str  # NT path on C: without the volume, e.g. \WINDOWS\SYSTEM32\CMD.EXE
    prefetch_hash: int
    version: int
    compressed: bool
    run_times: list[int]
    run_count: int
    files: list[str]

    @property
    def file_name(self) -> str:
        return f"{self.executable}-{self.prefetch_hash:08X}.pf"


def prefetch_specs(tree: list[tuple[str, list[str]]], count: int, seed: int) -> list[PfSpec]:
    rng = random.Random(seed + 1)
    exes = [(d, f) for d, names in tree for f in names
            if f.lower().endswith(".exe") and not d.startswith("Windows/WinSxS") and len(f) <= 29]
    rng.shuffle(exes)
    user_files = [f"{d}/{f}" for d, names in tree if d.startswith("Users/") for f in names[:40]]
    specs: list[PfSpec] = []
    used: set[str] = set()
    for i in range(count):
        # A few executables run from two places (same name, different hash), as on real systems.
        d, exe = exes[i % len(exes)] if i < count - 20 else exes[rng.randrange(min(i, len(exes)))]
        exe = exe.upper()
        path = "\\" + d.replace("/", "\\").upper() + "\\" + exe
        h = rng.getrandbits(32)
        while f"{exe}-{h:08X}" in used:
            h = rng.getrandbits(32)
        used.add(f"{exe}-{h:08X}")
        roll = rng.random()
        version, compressed = ((30, True) if roll < 0.88 else (30, False) if roll < 0.92
                               else (26, False) if roll < 0.96 else (23, False) if roll < 0.98
                               else (17, False))
        slots = 8 if version >= 26 else 1
        n_runs = rng.randint(1, slots)
        last = rng.randint(T_FIRST + (T_LAST - T_FIRST) // 3, T_LAST)
        times = sorted({last - rng.randint(0, last - T_FIRST) for _ in range(n_runs - 1)} | {last},
                       reverse=True)
        run_count = len(times) + (rng.randint(0, 300) if len(times) == slots else 0)
        loaded = rng.sample(_SYS_DLLS, rng.randint(6, len(_SYS_DLLS)))
        files = [f"\\WINDOWS\\SYSTEM32\\{x}" for x in loaded] + [path]
        files += ["\\" + p.replace("/", "\\").upper() for p in rng.sample(user_files, rng.randint(0, 6))]
        specs.append(PfSpec(exe, path, h, version, compressed, times, run_count, files))
    return specs


def pf_bytes(spec: PfSpec) -> bytes:
    names = [f"{C_DEVICE}{p}" for p in spec.files]
    dirs: list[str] = []
    for name in names:
        parts = name.split("\\")  # ['', 'VOLUME{..}', 'DIR', ..., 'FILE']
        for i in range(3, len(parts)):
            d = "\\".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    volume = PrefetchVolume(C_DEVICE, C_SERIAL32, INSTALL_TIME, dirs)
    return build_prefetch(spec.executable, spec.prefetch_hash, spec.run_times, spec.run_count,
                          [volume], names, version=spec.version, compressed=spec.compressed)


@dataclass
class RecycleSpec:
    user: str
    suffix: str
    original_path: str
    deleted: int
    content: bytes | None  # None: the $R is a folder
    folder: dict[str, bytes] | None = None

    @property
    def size(self) -> int:
        if self.folder is not None:
            return sum(len(v) for v in self.folder.values())
        return len(self.content or b"")


def recycle_specs(count: int, seed: int) -> list[RecycleSpec]:
    rng = random.Random(seed + 2)
    out = []
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    suffixes: set[str] = set()
    for i in range(count):
        user = RECYCLE_USERS[i % len(RECYCLE_USERS)]
        ext = rng.choice(["docx", "xlsx", "pdf", "txt", "csv", "zip", "jpg", ""])
        base = f"{_word(rng)}_{rng.randint(1, 999)}"
        where = rng.choice(["Documents", "Desktop", "Downloads", "Pictures\\2026"])
        original = f"C:\\Users\\{user}\\{where}\\{base}" + (f".{ext}" if ext else "")
        suffix = "".join(rng.choice(alphabet) for _ in range(6))
        while suffix in suffixes:
            suffix = "".join(rng.choice(alphabet) for _ in range(6))
        suffixes.add(suffix)
        suffix += f".{ext}" if ext else ""
        deleted = rng.randint(T_FIRST, T_LAST)
        if not ext:  # a deleted folder
            folder = {f"{_word(rng)}.txt": f"note {j} of {base}\r\n".encode() * rng.randint(1, 40)
                      for j in range(rng.randint(1, 4))}
            out.append(RecycleSpec(user, suffix, original, deleted, None, folder))
        else:
            data = (f"{original}\r\n".encode() * rng.randint(1, 400))
            out.append(RecycleSpec(user, suffix, original, deleted, data))
    return out


# --------------------------------------------------------------------------------------------
# The volume and the disk


def NtfsMount(image: Path, mountpoint: Path, log_path: Path) -> _FixtureNtfsMount:
    """The fixture builder's ntfs-3g mount, with big writes and longer waits for 100k files."""
    return _FixtureNtfsMount(image, mountpoint, log_path, options="noatime,no_detach,big_writes",
                             mount_wait_s=20.0, unmount_timeout_s=300.0)


def fill_volume(root: Path, tree, pf_specs, rc_specs, seed: int, timings: dict) -> dict:
    rng = random.Random(seed + 3)
    t0 = time.monotonic()
    n_files = n_bytes = 0
    for d, names in tree:
        target = root / d
        target.mkdir(parents=True, exist_ok=True)
        hives = d == "Windows/System32/config"  # valid (empty) hives: both tools read them
        for name in names:
            data = empty_hive(file_name=name) if hives else _content(name, rng)
            with open(target / name, "wb") as fh:
                if data:
                    fh.write(data)
            n_files += 1
            n_bytes += len(data)
    timings["bulk_files_s"] = round(time.monotonic() - t0, 2)
    log(f"  bulk tree: {n_files} files, {n_bytes / MiB:.1f} MiB in {timings['bulk_files_s']} s")

    t0 = time.monotonic()
    pf_dir = root / "Windows" / "Prefetch"
    pf_dir.mkdir(parents=True, exist_ok=True)
    pf_facts = {"files": 0, "bytes": 0, "run_times": 0, "volumes": 0, "versions": {}}
    for spec in pf_specs:
        data = pf_bytes(spec)
        target = pf_dir / spec.file_name
        target.write_bytes(data)
        set_ntfs_times(target, spec.run_times[-1] - 10_000_000 * 7, spec.run_times[0] + 10_000_000 * 10)
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

    t0 = time.monotonic()
    bin_root = root / "$Recycle.Bin"
    for user in RECYCLE_USERS:
        sid_dir = bin_root / f"{DOMAIN_SID}-{USERS[user]}"
        sid_dir.mkdir(parents=True, exist_ok=True)
        (sid_dir / "desktop.ini").write_bytes(
            "\r\n[.ShellClassInfo]\r\nCLSID={645FF040-5081-101B-9F08-00AA002F954E}\r\n".encode("utf-16"))
    for spec in rc_specs:
        sid_dir = bin_root / f"{DOMAIN_SID}-{USERS[spec.user]}"
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

    t0 = time.monotonic()
    counted_files = counted_dirs = 0
    for _, dnames, fnames in os.walk(root):
        counted_files += len(fnames)
        counted_dirs += len(dnames)
    timings["count_walk_s"] = round(time.monotonic() - t0, 2)
    log(f"  volume holds {counted_files} files in {counted_dirs} directories (walk {timings['count_walk_s']} s)")
    return {"files": counted_files, "directories": counted_dirs, "bulk_files": n_files,
            "bulk_bytes": n_bytes, "prefetch": pf_facts,
            "recycle_bin": {"users": [f"{DOMAIN_SID}-{USERS[u]}" for u in RECYCLE_USERS],
                            "i_files": len(rc_specs),
                            "r_folders": sum(1 for s in rc_specs if s.folder is not None)}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=100_000, help="bulk files to create (>= 100000 for the benchmark)")
    ap.add_argument("--prefetch", type=int, default=300)
    ap.add_argument("--recycle", type=int, default=50, help="$I/$R pairs over the two users")
    ap.add_argument("--disk-mib", type=int, default=1536, help="raw disk size (sparse)")
    ap.add_argument("--name", default=None, help="image stem (default bench-<files/1000>k)")
    ap.add_argument("--out", type=Path, default=HERE / "work")
    ap.add_argument("--seed", type=int, default=20260312)
    ap.add_argument("--no-e01", action="store_true", help="skip the E01 copy")
    ap.add_argument("--e01-timeout", type=int, default=300, help="give up the E01 after this many seconds")
    args = ap.parse_args(argv)

    if os.geteuid() != 0:
        print("build_bench_image needs root (ntfs-3g FUSE mount)", file=sys.stderr)
        return 2
    for tool in ("mkntfs", "ntfslabel", "ntfs-3g", "sfdisk", "dd") + (() if args.no_e01 else ("ewfacquire",)):
        if shutil.which(tool) is None:
            print(f"missing tool: {tool}", file=sys.stderr)
            return 2

    name = args.name or f"bench-{args.files // 1000}k"
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    stage = out / f"{name}.stage"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    timings: dict[str, float] = {}
    t_all = time.monotonic()

    t0 = time.monotonic()
    tree = bulk_tree(args.files, args.seed)
    pf = prefetch_specs(tree, args.prefetch, args.seed)
    rc = recycle_specs(args.recycle, args.seed)
    timings["plan_s"] = round(time.monotonic() - t0, 2)
    log(f"plan: {sum(len(n) for _, n in tree)} bulk files in {len(tree)} directories, "
        f"{len(pf)} prefetch, {len(rc)} recycle entries ({timings['plan_s']} s)")

    disk_bytes = args.disk_mib * MiB
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
    with NtfsMount(vol, stage / "mnt", stage / "ntfs-3g.log") as root:
        facts = fill_volume(root, tree, pf, rc, args.seed, timings)
    timings["fill_and_unmount_s"] = round(time.monotonic() - t0, 2)
    log(f"volume filled and unmounted in {timings['fill_and_unmount_s']} s")

    t0 = time.monotonic()
    raw = out / f"{name}.raw"
    if raw.exists():
        raw.unlink()
    with open(raw, "wb") as fh:
        fh.truncate(disk_bytes)
    run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(raw)],
        stdin=(f"label: dos\nlabel-id: 0x{MBR_DISK_ID:08x}\nunit: sectors\n\n"
               f"start={PART_START_SECTOR}, size={part_sectors}, type=7, bootable\n").encode())
    run(["dd", f"if={vol}", f"of={raw}", "bs=1M", f"seek={PART_START_SECTOR * SECTOR // MiB}",
         "conv=notrunc,sparse", "status=none"])
    timings["disk_s"] = round(time.monotonic() - t0, 2)
    shutil.rmtree(stage)
    allocated = os.stat(raw).st_blocks * 512
    log(f"raw disk {raw} ({disk_bytes / MiB:.0f} MiB, {allocated / MiB:.0f} MiB allocated) in {timings['disk_s']} s")

    e01 = None
    if not args.no_e01:
        target = out / name
        for old in out.glob(f"{name}.E0*"):
            old.unlink()
        t0 = time.monotonic()
        try:
            subprocess.run(["ewfacquire", "-u", "-q", "-t", str(target), "-f", "encase6",
                            "-c", "deflate:fast", "-C", "BENCH", "-D", f"benchmark image {name}",
                            "-e", "bench builder", "-E", name, "-N", "synthetic benchmark image",
                            "-m", "fixed", "-M", "physical", "-S", "4GiB", str(raw)],
                           check=True, capture_output=True, timeout=args.e01_timeout)
            timings["e01_s"] = round(time.monotonic() - t0, 2)
            segments = sorted(out.glob(f"{name}.E0*"))
            e01 = {"path": str(segments[0]), "segments": len(segments),
                   "bytes": sum(p.stat().st_size for p in segments)}
            log(f"E01 {segments[0]} ({e01['bytes'] / MiB:.1f} MiB) in {timings['e01_s']} s")
        except subprocess.TimeoutExpired:
            log(f"ewfacquire took longer than {args.e01_timeout} s: no E01")
            for old in out.glob(f"{name}.E0*"):
                old.unlink()
        except subprocess.CalledProcessError as exc:
            log(f"ewfacquire failed: {exc.stderr.decode(errors='replace').strip()}")

    timings["total_s"] = round(time.monotonic() - t_all, 2)
    pf_facts = facts["prefetch"]
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
        "expected": {
            "prefetch_files": pf_facts["files"],
            "prefetch_run_times": pf_facts["run_times"],
            "prefetch_volumes": pf_facts["volumes"],
            "recycle_i_files": len(rc),
            "triage_events": pf_facts["run_times"] + pf_facts["volumes"] + len(rc),
        },
        "timings": timings,
    }
    (out / f"{name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
    log(f"done in {timings['total_s']} s; facts in {out / (name + '.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
