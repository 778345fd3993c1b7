"""What the benchmark images hold: every file's content, generated deterministically from a seed.

build_bench_image.py creates the volume and the disk and writes what this module describes;
this module only computes names, bytes and times (no root, no mount), so its generators can be
read and checked on their own. Two sizes share it:

* bench-100k: the bulk tree (100,000+ small files), 300 Prefetch files, a two-user Recycle Bin.
* bench-1m (`--size large`): the same generators at 1,000,000 files and 500 Prefetch files, a
  three-user Recycle Bin, and what a triage examiner meets on a real workstation: registry
  hives with content (SYSTEM, SOFTWARE, SAM, Amcache, each user's NTUSER.DAT and UsrClass.dat),
  1,000 shortcuts in the users' Recent folders and Jump Lists, Chrome and Firefox histories
  (50,000 visits), Office and PDF documents with their properties, more than 1 GiB of event
  logs and a 200 MiB USN journal.

Every time is a FILETIME (100 ns ticks since 1601-01-01 UTC) between the Windows install
(INSTALL_TIME) and T_LAST; random choices come from random.Random(seed + k), one k per part,
so that changing one part never changes another.
"""
from __future__ import annotations

import hashlib
import random
import struct
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from fixtures.builders.prefetch_writer import PrefetchVolume, build_prefetch
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


def recycle_specs(count: int, seed: int, users: tuple[str, ...] = RECYCLE_USERS) -> list[RecycleSpec]:
    """`count` deleted files and folders, taken in turn from `users`' Recycle Bins."""
    rng = random.Random(seed + 2)
    out = []
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    suffixes: set[str] = set()
    for i in range(count):
        user = users[i % len(users)]
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



# ============================================================================================
# The large image (`--size large`): a workstation with three users and full artifact sets.
# Everything below is used by bench-1m only; bench-100k is the part above.

def iso7(filetime: int) -> str:
    """FILETIME -> '2026-03-02T08:15:30.1234567Z'."""
    seconds, ticks = divmod(filetime, 10_000_000)
    return (_EPOCH_1601 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S") + f".{ticks:07d}Z"


def to_datetime(filetime: int) -> datetime:
    return _EPOCH_1601 + timedelta(microseconds=filetime // 10)


def between(rng: random.Random, lo: int, hi: int) -> int:
    """A random FILETIME in [lo, hi], to the 100 ns."""
    return rng.randint(lo, hi)


SECOND = 10_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

HOST = "WS-FIN-042"
DOMAIN = "CORP"
PRODUCT, EDITION, BUILD, UBR, DISPLAY_VERSION = "Windows 10 Pro", "Professional", "19045", 5247, "22H2"
TZ_KEY, TZ_BIAS = "Tokyo Standard Time", -540  # minutes; UTC = local time + bias
SHUTDOWN_TIME = T_LAST + 12 * MINUTE + 3_141_592
MAC = "00:15:5d:4a:21:07"
USER_CREATED = {"alice": ft(2025, 6, 2, 8, 1, 7, 1_234_567),
                "bob": ft(2025, 6, 3, 0, 15, 2, 7_654_321),
                "carol": ft(2025, 9, 15, 1, 30, 44, 5_550_000)}
C_VOLUME_GUID = "{2c8e1f4a-6d3b-11f0-9a51-806e6f6e6963}"
SHARE_SERVER, SHARE_NAME, SHARE_LETTER = "fs01.corp.example", "finance", "Z"
SHARE = f"\\\\{SHARE_SERVER}\\{SHARE_NAME}"
DISK_INTERFACE = "{53f56307-b6bf-11d0-94f2-00a0c91efb8b}"
DEVPROPS = "{83da6326-97a6-4088-9453-a1923f573b29}"


# bench-100k's DOMAIN_SID has sub-authorities above 2**32 - 1, which no binary SID can hold
# (it only names Recycle Bin folders there); the large image, whose SIDs are also stored in
# binary form (registry, event logs), uses a valid one.
LARGE_DOMAIN_SID = "S-1-5-21-3141592653-2718281828-1618033988"


def office_hours(t: int) -> int:
    """Where a user's action at UTC FILETIME `t` lands in working hours: each week's 168 hours
    (local time, Monday 00:00 on) are laid evenly onto its five working days, 08:00-21:00. The
    map keeps the order of events (a later time never lands earlier) and the week they are in;
    people open files and browse in office hours, the machine logs around the clock."""
    local = t - TZ_BIAS * MINUTE  # 1601-01-01, FILETIME 0, was a Monday
    monday = local - local % (7 * DAY)
    day, within = divmod((local - monday) * 65 // 168, 13 * HOUR)
    return monday + day * DAY + 8 * HOUR + within + TZ_BIAS * MINUTE


def sid(user: str) -> str:
    return f"{LARGE_DOMAIN_SID}-{USERS[user]}"


@dataclass(frozen=True)
class Stick:
    """A USB storage device the users plugged in (identities are invented, layouts real)."""

    vendor: str
    product: str
    revision: str
    serial: str
    vid: str
    pid: str
    label: str
    volume_serial: int
    volume_guid: str
    letter: str
    users: tuple[str, ...]
    first: int  # first install
    last_arrival: int
    last_removal: int
    capacity: int

    @property
    def device(self) -> str:
        return f"Disk&Ven_{self.vendor}&Prod_{self.product}&Rev_{self.revision}"

    @property
    def instance(self) -> str:
        return f"{self.serial}&0"

    @property
    def symbolic(self) -> str:  # the device path MountedDevices stores for its volume
        return f"_??_USBSTOR#{self.device}#{self.instance}#{DISK_INTERFACE}"


STICKS = [
    Stick("SanDisk", "Cruzer_Blade", "1.00", "4C530001230721117134", "0781", "5567", "SANDISK",
          0x1A2B3C4D, "{7f3a9c2e-1b4d-11f1-a5c1-806e6f6e6963}", "E", ("alice", "bob"),
          ft(2025, 8, 4, 1, 12, 9, 1_111_111), ft(2026, 3, 11, 6, 2, 44, 9_171_234),
          ft(2026, 3, 11, 7, 48, 3, 1_125_678), 15_376_000_000),
    Stick("Kingston", "DataTraveler_3.0", "PMAP", "60A44C413A8FE3A0C9290FB0", "0951", "1666",
          "KINGSTON", 0x5E6F7081, "{9b4e2d10-8a1c-11f0-b3d2-806e6f6e6963}", "E", ("bob",),
          ft(2025, 11, 20, 0, 40, 2, 2_222_222), ft(2026, 2, 27, 5, 10, 0, 3_333_333),
          ft(2026, 2, 27, 9, 1, 12, 4_444_444), 31_004_000_000),
    Stick("Samsung", "PSSD_T7", "0", "S5SXNS0R501234A", "04E8", "4001", "T7", 0x0C1D2E3F,
          "{c2d7f0a3-f4b5-11f0-8e2d-806e6f6e6963}", "F", ("carol",),
          ft(2026, 1, 9, 2, 30, 30, 5_555_555), ft(2026, 3, 12, 8, 15, 2, 6_666_666),
          ft(2026, 3, 12, 9, 0, 44, 7_777_777), 500_107_862_016),
]


# --------------------------------------------------------------------------------------------
# Documents: bulk files whose names an artifact definition matches get valid content

DOC_KINDS = ("docx", "xlsx", "pptx")
_APPLICATIONS = {"docx": "Microsoft Office Word", "xlsx": "Microsoft Excel",
                 "pptx": "Microsoft Office PowerPoint"}


def user_of(directory: str) -> str | None:
    parts = directory.split("/")
    return parts[1] if len(parts) > 1 and parts[0] == "Users" and parts[1] in USERS else None


def document_bytes(kind: str, title: str, author: str, created: int, modified: int) -> bytes:
    """An Office Open XML package or a PDF whose properties say who wrote it and when."""
    from fixtures.builders.office_writer import app_xml, build_ooxml, build_pdf, core_xml

    c, m = to_datetime(created), to_datetime(modified)
    if kind == "pdf":
        stamp = lambda d: f"(D:{d:%Y%m%d%H%M%S}Z)".encode()  # noqa: E731
        return build_pdf({"Title": f"({title})".encode(), "Author": f"({author})".encode(),
                          "Creator": b"(Microsoft Word)", "Producer": b"(Microsoft Word)",
                          "CreationDate": stamp(c), "ModDate": stamp(m)})
    w3c = lambda d: f"{d:%Y-%m-%dT%H:%M:%S}Z"  # noqa: E731
    core = core_xml([("dc:title", title), ("dc:creator", author), ("cp:lastModifiedBy", author),
                     ("cp:revision", str(1 + (modified - created) // DAY % 40)),
                     ("dcterms:created", w3c(c)), ("dcterms:modified", w3c(m))])
    app = app_xml([("Application", _APPLICATIONS[kind]), ("Company", "Contoso K.K."),
                   ("TotalTime", str((modified - created) // MINUTE % 600))])
    return build_ooxml(kind, core, app, date_time=(m.year, m.month, m.day, m.hour, m.minute,
                                                    m.second // 2 * 2))


_SHORTCUT_TARGETS = ["C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
                     "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
                     "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
                     "C:\\Program Files\\Mozilla Firefox\\firefox.exe",
                     "C:\\Program Files\\7-Zip\\7zFM.exe",
                     "C:\\Program Files\\Notepad++\\notepad++.exe",
                     "C:\\Program Files\\KeePass Password Safe 2\\KeePass.exe",
                     "C:\\Program Files (x86)\\Zoom\\bin\\Zoom.exe"]


def shortcut_bytes(target: str, created: int, modified: int) -> bytes:
    """A Desktop shortcut to a program (link info on C:, ID list, working directory, icon)."""
    from fixtures.builders import lnk_writer as lw

    parts = target.split("\\")
    when = to_datetime(created)
    items = [lw.root_item(), lw.volume_item("C:\\")]
    items += [lw.file_entry_item(p, short_name=short_name(p), is_directory=True, modified=when,
                                 created=when, accessed=when) for p in parts[1:-1]]
    items.append(lw.file_entry_item(parts[-1], short_name=short_name(parts[-1]), size=2_310_144,
                                    modified=when, created=when, accessed=to_datetime(modified)))
    return lw.build_lnk(target_id_list=lw.id_list(*items),
                        link_info=lw.link_info_local(target, lw.DRIVE_FIXED, C_SERIAL32, NTFS_LABEL),
                        working_directory="\\".join(parts[:-1]), icon_location=target,
                        created=created, accessed=modified, modified=created, file_size=2_310_144)


def bulk_artifact(directory: str, name: str, rng: random.Random) -> tuple[bytes, int, int] | None:
    """Valid content and (created, modified) for a bulk file in a user folder that an artifact
    definition matches (Office and PDF documents, Desktop shortcuts); None for any other."""
    user = user_of(directory)
    ext = name.rsplit(".", 1)[-1].lower()
    if user is None or ext not in DOC_KINDS + ("pdf", "lnk"):
        return None
    created = between(rng, USER_CREATED[user], T_LAST - 2 * DAY)
    modified = between(rng, created, T_LAST)
    if ext == "lnk":
        if not directory.endswith("/Desktop"):
            return None
        created = max(office_hours(created), USER_CREATED[user])
        modified = max(office_hours(modified), created)
        return shortcut_bytes(rng.choice(_SHORTCUT_TARGETS), created, modified), created, modified
    title = name.rsplit(".", 1)[0].replace("_", " ")
    return document_bytes(ext, title, user, created, modified), created, modified


def large_tree(tree: list[tuple[str, list[str]]]) -> list[tuple[str, list[str]]]:
    """The bulk tree of the large image: the event log folder and the users' Recent folders
    are left empty there (their real content is written apart), the rest is kept."""
    def real(d: str) -> bool:
        return d == "Windows/System32/winevt/Logs" or d.endswith("/AppData/Roaming/Microsoft/Windows/Recent")
    return [(d, [] if real(d) else names) for d, names in tree]


def recycled_documents(specs: list[RecycleSpec], seed: int) -> list[RecycleSpec]:
    """The Recycle Bin of the large image: nothing deleted before its user's profile existed
    (such times are mapped into the profile's life), deleted Office and PDF files are real
    documents."""
    from dataclasses import replace

    rng = random.Random(seed + 8)
    out = []
    for spec in specs:
        born = USER_CREATED[spec.user] + DAY
        if spec.deleted < born:
            moved = born + (spec.deleted - T_FIRST) * (T_LAST - born) // (T_LAST - T_FIRST)
            spec = replace(spec, deleted=moved)
        ext = spec.original_path.rsplit(".", 1)[-1].lower() if spec.content is not None else ""
        if ext in DOC_KINDS + ("pdf",):
            title = spec.original_path.rsplit("\\", 1)[-1].rsplit(".", 1)[0]
            created = between(rng, USER_CREATED[spec.user], spec.deleted - DAY)
            spec = replace(spec, content=document_bytes(ext, title, spec.user, created,
                                                        between(rng, created, spec.deleted)))
        out.append(spec)
    return out


def office_prefetch(specs: list[PfSpec]) -> list[PfSpec]:
    """The Prefetch of the large image: programs run in office hours (run times through
    office_hours, still distinct and newest first)."""
    from dataclasses import replace

    out = []
    for spec in specs:
        times: list[int] = []
        for t in sorted(spec.run_times):
            times.append(max(office_hours(t), times[-1] + 1 if times else 0))
        out.append(replace(spec, run_times=times[::-1]))
    return out


def bulk_times(rng: random.Random, directory: str) -> tuple[int, int]:
    """(created, modified) of a bulk file: a user's files from the profile's creation on; most
    system files created at install time with an older modification time (as copied from the
    installation media), the rest created by updates and programs since."""
    user = user_of(directory)
    if user is not None:
        created = between(rng, USER_CREATED[user], T_LAST - HOUR)
        return created, between(rng, created, T_LAST)
    if rng.random() < 0.7:
        created = INSTALL_TIME + rng.randrange(2 * HOUR)
        return created, created - rng.randrange(400 * DAY)
    created = between(rng, INSTALL_TIME, T_LAST - HOUR)
    return created, between(rng, created, T_LAST)


def deleted_files(count: int, seed: int) -> list[tuple[str, bytes, int, int]]:
    """(path, content, created, modified) of files written and deleted before the image is
    taken, so that their MFT records stay behind unused: temporary and downloaded files."""
    rng = random.Random(seed + 90)
    out = []
    for i in range(count):
        user = list(USERS)[i % len(USERS)]
        where = rng.choice(["AppData/Local/Temp", "Downloads", "Documents", "Desktop"])
        if where.endswith("Temp"):
            name = f"{rng.getrandbits(32):08x}.tmp"
        else:
            name = (f"{rng.choice(_WORK_WORDS)}_{rng.choice(_WORK_WORDS)}_{i}."
                    f"{rng.choice(['xlsx', 'csv', 'zip', 'txt'])}")
        created = between(rng, max(T_FIRST, USER_CREATED[user]), T_LAST - HOUR)
        data = (f"{user} {name} {i}\r\n".encode() * rng.randint(1, 300))
        out.append((f"Users/{user}/{where}/{name}", data, created, between(rng, created, T_LAST)))
    return out


# --------------------------------------------------------------------------------------------
# Registry hives (layouts as fixtures/build_images.py and fixtures/build_registry_*.py write
# them; values a plugin reads are real, the rest is left out)

def hive_bytes(hive) -> bytes:
    import os
    import tempfile

    fd, path = tempfile.mkstemp(prefix="bench-hive-")
    os.close(fd)
    try:
        hive.save(path)
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def _filetime_property(h, instance: str, leaf: str, when: int) -> None:
    from fixtures.builders import regf_writer as rw

    path = f"{instance}\\Properties\\{DEVPROPS}\\{leaf}"
    h.values(path, rw.Value("", 0xFFFF0010, struct.pack("<Q", when)))
    h.set_time(path, when)


def system_hive(programs: list[tuple[str, int]], bam: dict[str, list[tuple[str, int]]]) -> bytes:
    """SYSTEM: host name, time zone, shutdown, the USB sticks (USBSTOR, USB, WPD bus, mounted
    devices), ShimCache for `programs` [(path, modified)], BAM {user: [(program, last run)]}."""
    from fixtures.build_registry_execution import cache_win10
    from fixtures.builders import regf_writer as rw

    h = rw.Hive("ROOT", default_time=INSTALL_TIME,
                file_name="\\REGISTRY\\MACHINE\\SYSTEM")
    h.values("Select", rw.dword("Current", 1), rw.dword("Default", 1), rw.dword("Failed", 0),
             rw.dword("LastKnownGood", 1))
    cs = "ControlSet001"
    h.values(f"{cs}\\Control\\ComputerName\\ComputerName", rw.sz("ComputerName", HOST))
    h.values(f"{cs}\\Services\\Tcpip\\Parameters", rw.sz("Hostname", HOST),
             rw.sz("NV Hostname", HOST), rw.sz("Domain", "corp.example"))
    h.values(f"{cs}\\Control\\TimeZoneInformation", rw.dword("Bias", TZ_BIAS),
             rw.dword("ActiveTimeBias", TZ_BIAS), rw.sz("StandardName", "@tzres.dll,-632"),
             rw.dword("StandardBias", 0), rw.binary("StandardStart", bytes(16)),
             rw.sz("DaylightName", "@tzres.dll,-631"), rw.dword("DaylightBias", -60),
             rw.binary("DaylightStart", bytes(16)), rw.sz("TimeZoneKeyName", TZ_KEY),
             rw.dword("DynamicDaylightTimeDisabled", 0))
    h.values(f"{cs}\\Control\\Windows", rw.binary("ShutdownTime", struct.pack("<Q", SHUTDOWN_TIME)))
    h.set_time(f"{cs}\\Control\\Windows", SHUTDOWN_TIME)
    enum = f"{cs}\\Enum"
    mounted = [rw.binary("\\DosDevices\\C:", struct.pack("<IQ", MBR_DISK_ID, PART_START_SECTOR * SECTOR)),
               rw.binary(f"\\??\\Volume{C_VOLUME_GUID}",
                         struct.pack("<IQ", MBR_DISK_ID, PART_START_SECTOR * SECTOR))]
    for n, s in enumerate(STICKS):
        inst = f"{enum}\\USBSTOR\\{s.device}\\{s.instance}"
        h.values(inst, rw.sz("DeviceDesc", "@disk.inf,%disk_devdesc%;Disk drive"),
                 rw.sz("FriendlyName", f"{s.vendor} {s.product.replace('_', ' ')} USB Device"),
                 rw.sz("Service", "disk"), rw.sz("Class", "DiskDrive"),
                 rw.sz("ClassGUID", "{4d36e967-e325-11ce-bfc1-08002be10318}"),
                 rw.multi_sz("HardwareID", [f"USBSTOR\\{s.device}", f"USBSTOR\\Disk{s.vendor}",
                                            "USBSTOR\\GenDisk"]),
                 rw.sz("ContainerID", f"{{{hashlib.md5(s.serial.encode()).hexdigest()[:8]}-"
                                      f"0000-5000-8000-{s.serial[-12:].lower().rjust(12, '0')}}}"))
        for leaf, when in (("0064", s.first), ("0065", s.first + 9_876_543),
                           ("0066", s.last_arrival), ("0067", s.last_removal)):
            _filetime_property(h, inst, leaf, when)
        h.set_time(inst, s.last_removal + 4_321)
        usb = f"{enum}\\USB\\VID_{s.vid}&PID_{s.pid}\\{s.serial}"
        h.values(usb, rw.sz("DeviceDesc", "@usbstor.inf,%genericbulkonly.devicedesc%;"
                                          "USB Mass Storage Device"),
                 rw.sz("Service", "USBSTOR"), rw.sz("LocationInformation", f"Port_#000{n + 1}.Hub_#0001"),
                 rw.multi_sz("HardwareID", [f"USB\\VID_{s.vid}&PID_{s.pid}&REV_0100",
                                            f"USB\\VID_{s.vid}&PID_{s.pid}"]))
        for leaf, when in (("0064", s.first - 3_000_000), ("0066", s.last_arrival - 2_000_000),
                           ("0067", s.last_removal + 1_000_000)):
            _filetime_property(h, usb, leaf, when)
        h.set_time(usb, s.last_arrival - 1_000_000)
        wpd = f"{enum}\\SWD\\WPDBUSENUM\\{s.symbolic}"
        h.values(wpd, rw.sz("FriendlyName", s.label), rw.sz("Service", "WUDFWpdFs"),
                 rw.sz("ClassGUID", "{eec5ad98-8080-425f-922a-dabf3de3f69a}"))
        _filetime_property(h, wpd, "0064", s.first + 30_000_000)
        _filetime_property(h, wpd, "0066", s.last_arrival + 20_000_000)
        h.set_time(wpd, s.last_arrival + 21_000_000)
        link = s.symbolic.encode("utf-16-le")
        mounted += [rw.binary(f"\\??\\Volume{s.volume_guid}", link),
                    rw.binary(f"\\DosDevices\\{s.letter}:", link)]
    h.values("MountedDevices", *mounted)
    h.set_time("MountedDevices", max(s.last_arrival for s in STICKS) + 5_000_000)
    cache = cache_win10([{"path": p, "ft": t} for p, t in programs])
    h.values(f"{cs}\\Control\\Session Manager\\AppCompatCache",
             rw.binary("AppCompatCache", cache), rw.dword("CacheMainSdb", 0))
    h.set_time(f"{cs}\\Control\\Session Manager\\AppCompatCache", SHUTDOWN_TIME - 20 * SECOND)
    for user, entries in bam.items():
        key = f"{cs}\\Services\\bam\\State\\UserSettings\\{sid(user)}"
        h.values(key, rw.dword("Version", 1), rw.dword("SequenceNumber", len(entries)),
                 *[rw.binary(p, struct.pack("<Q", t) + bytes(16)) for p, t in entries])
        h.set_time(key, max(t for _, t in entries))
    return hive_bytes(h)


def software_hive() -> bytes:
    """SOFTWARE: Windows version and install date, ProfileList, portable devices, EMDMgmt."""
    from fixtures.builders import regf_writer as rw

    h = rw.Hive("ROOT", default_time=INSTALL_TIME, file_name="\\REGISTRY\\MACHINE\\SOFTWARE")
    rw.windows_version_and_profiles(
        h, product=PRODUCT, edition=EDITION, build=BUILD, display_version=DISPLAY_VERSION,
        ubr=UBR, install_time=INSTALL_TIME, owner="alice", organization="Contoso K.K.",
        profiles=[(sid(user), f"C:\\Users\\{user}", USER_CREATED[user]) for user in USERS])
    devices = "Microsoft\\Windows Portable Devices\\Devices"
    for s in STICKS:
        wpd = f"SWD#WPDBUSENUM#{s.symbolic.upper()}"
        h.values(f"{devices}\\{wpd}", rw.sz("FriendlyName", s.label))
        h.set_time(f"{devices}\\{wpd}", s.first + 50_000_000)
        emd = (f"Microsoft\\Windows NT\\CurrentVersion\\EMDMgmt\\"
               f"{s.symbolic}{s.label}_{s.volume_serial}")
        h.values(emd, rw.dword("DeviceStatus", 2), rw.qword("LastTestedTime", 0))
        h.set_time(emd, s.first + 60_000_000)
    return hive_bytes(h)


# (name, rid, full name, comment, flags, logins, failed, last login, password set)
SAM_ACCOUNTS = [
    ("Administrator", 500, "", "Built-in account for administering the computer/domain",
     0x0211, 0, 0, None, INSTALL_TIME + 30 * SECOND),
    ("Guest", 501, "", "Built-in account for guest access to the computer/domain",
     0x0215, 0, 0, None, None),
    ("DefaultAccount", 503, "", "A user account managed by the system.", 0x0215, 0, 0, None, None),
    ("WDAGUtilityAccount", 504, "", "A user account managed and used by the system for Windows "
     "Defender Application Guard scenarios.", 0x0211, 0, 0, None, INSTALL_TIME + 31 * SECOND),
    ("alice", 1001, "Alice Tanaka", "Finance", 0x0210, 412, 0, T_LAST - 9 * HOUR,
     USER_CREATED["alice"] + 5 * SECOND),
    ("bob", 1002, "Bob Sato", "Finance", 0x0210, 288, 3, T_LAST - 30 * HOUR,
     USER_CREATED["bob"] + 5 * SECOND),
    ("carol", 1003, "Carol Ito", "Audit", 0x0210, 97, 0, T_LAST - 5 * HOUR,
     USER_CREATED["carol"] + 5 * SECOND),
]


def sam_hive() -> bytes:
    """SAM: the local accounts (F and V values without password hashes, Names subkeys)."""
    from fixtures.build_registry_activity import sam_f, sam_v
    from fixtures.builders import regf_writer as rw

    h = rw.Hive("CsiTool-CreateHive-{00000000-0000-0000-0000-000000000000}",
                default_time=INSTALL_TIME, file_name="\\SystemRoot\\System32\\Config\\SAM")
    users = "SAM\\Domains\\Account\\Users"
    h.key("SAM\\Domains\\Builtin")
    iso = lambda t: iso7(t) if t else None  # noqa: E731
    for name, rid, full, comment, flags, logins, failed, last, pw in SAM_ACCOUNTS:
        created = USER_CREATED.get(name, INSTALL_TIME)
        key = f"{users}\\{rid:08X}"
        h.values(key, rw.binary("F", sam_f(rid, flags, logins, failed, iso(last), iso(pw), None,
                                           iso(last - 2 * DAY) if failed and last else None)),
                 rw.binary("V", sam_v(name, full, comment)))
        h.set_time(key, last or created)
        h.values(f"{users}\\Names\\{name}", rw.Value("", rid, b""))
        h.set_time(f"{users}\\Names\\{name}", created)
    return hive_bytes(h)


def amcache_hive(programs: list[tuple[str, int]]) -> bytes:
    """Amcache.hve: Root\\InventoryApplicationFile for `programs` [(path, first seen)]."""
    from fixtures.builders import regf_writer as rw

    h = rw.Hive("{11517B7C-E79D-4e20-961B-75A811715ADD}", default_time=INSTALL_TIME,
                file_name="\\??\\C:\\Windows\\AppCompat\\Programs\\Amcache.hve")
    for path, seen in programs:
        name = path.rsplit("\\", 1)[-1]
        digest = hashlib.sha1(path.lower().encode("utf-16-le")).hexdigest()
        key = f"Root\\InventoryApplicationFile\\{name.lower()}|{digest[:16]}"
        h.values(key, rw.sz("ProgramId", "0000" + digest[:36]), rw.sz("FileId", "0000" + digest),
                 rw.sz("LowerCaseLongPath", path.lower()), rw.sz("LongPathHash", key.rsplit("\\", 1)[-1]),
                 rw.sz("Name", name), rw.sz("Publisher", ""), rw.sz("Version", ""),
                 rw.sz("BinaryType", "pe64_amd64"), rw.sz("ProductName", ""),
                 rw.sz("LinkDate", ""), rw.qword("Size", 40_960 + int(digest[:4], 16) * 16),
                 rw.dword("Language", 1033), rw.dword("IsPeFile", 1),
                 rw.dword("IsOsComponent", 1 if path.lower().startswith("c:\\windows") else 0),
                 rw.qword("Usn", 0))
        h.set_time(key, seen)
    return hive_bytes(h)


# --------------------------------------------------------------------------------------------
# What each user did: the files they opened (shortcuts, RecentDocs, open/save dialogs, Office
# MRUs, Jump Lists), the programs they ran (UserAssist, BAM) and the folders they browsed
# (ShellBags). One list of Opened files per user feeds every artifact that records it.

@dataclass(frozen=True)
class VolumeFile:
    """A file or folder on the image, with its MFT entry (the NTFS inode ntfs-3g reports)."""

    path: str  # below the volume root, '/'-separated
    entry: int
    size: int = 0


@dataclass(frozen=True)
class Opened:
    path: str  # Windows path: C:\\..., E:\\... or \\\\server\\share\\...
    first: int  # first opened: the shortcut's creation
    last: int  # last opened: the shortcut's modification
    count: int
    size: int
    target_created: int
    target_modified: int
    entry: int = 0  # the target's MFT entry (C: only)
    parents: tuple[int, ...] = ()  # MFT entries of the folders on the way (C: only)
    stick: Stick | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("\\", 1)[-1]

    @property
    def ext(self) -> str:
        return self.name.rsplit(".", 1)[-1].lower() if "." in self.name else ""


_WORK_WORDS = ["budget", "forecast", "invoice", "payroll", "vendor", "contract", "minutes",
               "audit", "expenses", "report", "summary", "plan", "review", "ledger", "tax",
               "quote", "order", "customers", "pricing", "inventory", "travel", "board"]


def _remote_name(rng: random.Random) -> str:
    year = rng.choice([2025, 2026])
    return (f"{rng.choice(_WORK_WORDS)}_{rng.choice(_WORK_WORDS)}_{year}{rng.randint(1, 12):02d}"
            f".{rng.choice(['xlsx', 'xlsx', 'docx', 'pdf', 'csv', 'pptx'])}")


def user_opened(user: str, files: list[VolumeFile], entries: dict[str, int], count: int,
                seed: int) -> list[Opened]:
    """`count` distinct files `user` opened, oldest first: most from the user's own folders
    (`files`, with their MFT entries; `entries` maps folder paths to theirs), some from the USB
    sticks the user plugged in and, for alice and bob, from the finance share."""
    rng = random.Random(seed + 20 + USERS[user])
    start = max(T_FIRST, USER_CREATED[user] + DAY)
    sticks = [s for s in STICKS if user in s.users]
    local = [f for f in files if f.path.rsplit(".", 1)[-1].lower()
             in ("docx", "xlsx", "pptx", "pdf", "txt", "csv", "zip", "jpg")]
    rng.shuffle(local)
    out: list[Opened] = []
    seen: set[str] = set()
    while len(out) < count:
        roll = rng.random()
        first = max(office_hours(between(rng, start, T_LAST - HOUR)), start)
        last = max(office_hours(between(rng, first, T_LAST)), first)
        created = min(office_hours(between(rng, start - 30 * DAY, first)), first)
        modified = min(max(office_hours(between(rng, created, last)), created), last)
        size = rng.randint(2_000, 4_000_000)
        if roll < 0.12 and sticks:
            s = rng.choice(sticks)
            first, last = sorted(min(max(office_hours(between(rng, s.first, s.last_removal)), s.first),
                                     s.last_removal) for _ in range(2))
            path = f"{s.letter}:\\{rng.choice(['Finance', 'Backup', 'Transfer', 'Q1'])}\\{_remote_name(rng)}"
            item = Opened(path, first, last, rng.randint(1, 6), size, created, modified, stick=s)
        elif roll < 0.2 and user != "carol":
            path = f"{SHARE}\\{rng.choice(['Reports', 'Closing', 'Payroll'])}\\{_remote_name(rng)}"
            item = Opened(path, first, last, rng.randint(1, 12), size, created, modified)
        elif local:
            f = local.pop()
            parts = f.path.split("/")
            parents = tuple(entries.get("/".join(parts[:i]), 0) for i in range(1, len(parts)))
            item = Opened("C:\\" + f.path.replace("/", "\\"), first, last, rng.randint(1, 30),
                          f.size, created, modified, f.entry, parents)
        else:
            continue
        if item.name.lower() not in seen:  # Recent keeps one shortcut per file name
            seen.add(item.name.lower())
            out.append(item)
    return sorted(out, key=lambda o: o.last)


def short_name(name: str) -> str:
    """An 8.3 alias as Windows makes one for a long name (first of its kind, ~1)."""
    stem, _, ext = name.rpartition(".") if "." in name else (name, "", "")
    base = "".join(c for c in stem.upper() if c.isascii() and c.isalnum())[:6] or "FILE"
    return f"{base}~1" + (f".{ext.upper()[:3]}" if ext else "")


def _pidl(o: Opened, folder_only: bool = False) -> bytes:
    """The shell item list of a file as Explorer records it (My Computer / drive / folders /
    file, or Network / share / folders / file); folder_only: of the folder holding it."""
    from fixtures import build_registry_activity as act

    parts = o.path.split("\\")
    fat = iso7(o.target_modified)
    if o.path.startswith("\\\\"):
        items = [act.root_item(*act.NETWORK),
                 act.network_item("\\\\" + "\\".join(parts[2:4]), "Microsoft Windows Network")]
        folders, entries = parts[4:-1], [0] * len(parts[4:-1])
    else:
        items = [act.root_item(*act.MY_COMPUTER), act.volume_item(parts[0][0])]
        folders = parts[1:-1]
        entries = list(o.parents[:len(folders)]) + [0] * (len(folders) - len(o.parents))
    for folder, entry in zip(folders, entries):
        items.append(act.dir_item(folder, short_name(folder), iso7(o.target_created), entry,
                                  1 if entry else 0))
    if folder_only:
        return act.id_list(*items)
    items.append(act.file_item(o.name, short_name(o.name), directory=False,
                               size=min(o.size, 0xFFFFFFFF), modified=fat,
                               created=iso7(o.target_created), accessed=iso7(o.last),
                               mft_entry=o.entry, mft_sequence=1 if o.entry else 0))
    return act.id_list(*items)


def lnk_bytes(o: Opened, serial: int = 1) -> bytes:
    """The shortcut Windows writes in Recent when `o` is opened (link info with the volume's
    type, serial and label, or the share; the target's ID list and times; tracker block)."""
    from fixtures.builders import lnk_writer as lw

    parts = o.path.split("\\")
    if o.path.startswith("\\\\"):
        info = lw.link_info_network("\\\\" + "\\".join(parts[2:4]).upper(), "\\".join(parts[4:]),
                                    device_name=f"{SHARE_LETTER}:")
        items = [lw.root_item(lw.MY_NETWORK_PLACES, 0x58), lw.network_item("\\\\" + "\\".join(parts[2:4]))]
        folders = parts[4:-1]
    else:
        if o.stick is not None:
            info = lw.link_info_local(o.path, lw.DRIVE_REMOVABLE, o.stick.volume_serial, o.stick.label)
        else:
            info = lw.link_info_local(o.path, lw.DRIVE_FIXED, C_SERIAL32, NTFS_LABEL)
        items = [lw.root_item(), lw.volume_item(parts[0] + "\\")]
        folders = parts[1:-1]
    created, modified, last = (to_datetime(o.target_created), to_datetime(o.target_modified),
                               to_datetime(o.last))
    for i, folder in enumerate(folders):
        entry = o.parents[i] if i < len(o.parents) else 0
        items.append(lw.file_entry_item(folder, short_name=short_name(folder), is_directory=True,
                                        modified=created, created=created, accessed=created,
                                        mft_entry=entry, mft_sequence=1 if entry else 0))
    items.append(lw.file_entry_item(o.name, short_name=short_name(o.name), size=min(o.size, 0xFFFFFFFF),
                                     modified=modified, created=created, accessed=last,
                                     mft_entry=o.entry, mft_sequence=1 if o.entry else 0))
    droid_volume = lw.uuid1_droid(MAC, INSTALL_TIME, 0x2A01)
    droid_file = lw.uuid1_droid(MAC, o.first, serial & 0x3FFF)
    return lw.build_lnk(target_id_list=lw.id_list(*items), link_info=info,
                        relative_path="..\\" * 5 + "\\".join(parts[1:]) if o.path[1] == ":" else None,
                        working_directory="\\".join(parts[:-1]),
                        extra_blocks=[lw.tracker_block(HOST.lower(), droid_volume, droid_file)],
                        created=o.target_created, accessed=o.last, modified=o.target_modified,
                        file_size=min(o.size, 0xFFFFFFFF))


def lnk_file_name(o: Opened) -> str:
    return o.name + ".lnk"


# Programs (path as UserAssist names it, with its known-folder GUID prefix; Jump List AppID)
_PF64 = "{6D809377-6AF0-444B-8957-A3773F02200E}"
_SYS32 = "{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}"
PROGRAMS = [
    (f"{_PF64}\\Microsoft Office\\root\\Office16\\WINWORD.EXE", "fb3b0dbfee58fac8", "docx"),
    (f"{_PF64}\\Microsoft Office\\root\\Office16\\EXCEL.EXE", "b8ab77100df80ab2", "xlsx"),
    (f"{_PF64}\\Microsoft Office\\root\\Office16\\POWERPNT.EXE", None, "pptx"),
    (f"{_PF64}\\Google\\Chrome\\Application\\chrome.exe", None, None),
    (f"{_PF64}\\Mozilla Firefox\\firefox.exe", "6758a3a018631c8d", None),
    (f"{_SYS32}\\notepad.exe", "9b9cdc69c1c24e2b", "txt"),
    (f"{_SYS32}\\cmd.exe", "6728dd69a3088f97", None),
    (f"{_SYS32}\\WindowsPowerShell\\v1.0\\powershell.exe", "590aee7bdd69b59b", None),
    (f"{_SYS32}\\mstsc.exe", None, None),
    (f"{_SYS32}\\SnippingTool.exe", "3353b940c074fd0c", None),
    (f"{_PF64}\\7-Zip\\7zFM.exe", None, "zip"),
    (f"{_PF64}\\Adobe\\Acrobat DC\\Acrobat\\Acrobat.exe", None, "pdf"),
    ("Microsoft.Windows.Explorer", "f01b4d95cf55d32a", None),
    ("Microsoft.Windows.ControlPanel", "7e4dca80246863e3", None),
]
_KNOWN = {_PF64: "C:\\Program Files", _SYS32: "C:\\Windows\\System32"}


def program_path(ua_name: str) -> str | None:
    """C:\\... path of a UserAssist program name (None for AppUserModelIDs)."""
    guid, _, rest = ua_name.partition("\\")
    return f"{_KNOWN[guid]}\\{rest}" if guid in _KNOWN else None


def user_runs(user: str, seed: int) -> list[tuple[str, int, int, int]]:
    """(UserAssist name, run count, focus ms, last run) of every program the user ran."""
    rng = random.Random(seed + 30 + USERS[user])
    start = max(T_FIRST, USER_CREATED[user] + DAY)
    return [(name, rng.randint(1, 400), rng.randint(1_000, 90_000_000),
             max(office_hours(between(rng, start, T_LAST)), start))
            for name, _, _ in PROGRAMS if rng.random() < 0.9 or name.startswith("Microsoft.")]


def ntuser_hive(user: str, opened: list[Opened], runs: list[tuple[str, int, int, int]],
                seed: int) -> bytes:
    """NTUSER.DAT: UserAssist, RecentDocs, ComDlg32, RunMRU, TypedPaths, WordWheelQuery,
    Office MRUs, MountPoints2, mapped drive and RDP servers, all from the user's activity."""
    from fixtures import build_registry_activity as act
    from fixtures.build_registry_execution import mru_list_ex
    from fixtures.builders import regf_writer as rw

    rng = random.Random(seed + 40 + USERS[user])
    explorer = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer"
    tag = hashlib.md5(user.encode()).hexdigest().upper()
    h = rw.Hive(f"CMI-CreateHive{{{tag[:8]}-2D4E-4A6B-9C8D-0E1F2A3B4C5D}}", USER_CREATED[user],
                file_name=f"\\??\\C:\\Users\\{user}\\ntuser.dat")
    h.values("Environment", rw.expand_sz("TEMP", "%USERPROFILE%\\AppData\\Local\\Temp"),
             rw.expand_sz("TMP", "%USERPROFILE%\\AppData\\Local\\Temp"))
    # UserAssist: executables, and the shortcuts they were started from
    for guid in (act.UA_EXE, act.UA_LNK):
        h.values(f"{act.UA}\\{guid}", rw.dword("Version", 5))
    newest = max(t for *_, t in runs)
    h.key(f"{act.UA}\\{act.UA_EXE}\\Count", newest)
    h.values(f"{act.UA}\\{act.UA_EXE}\\Count",
             *[rw.binary(act.rot13(name), act.ua_record(n, max(1, n // 3), ms, iso7(t)))
               for name, n, ms, t in runs])
    pinned = "{9E3995AB-1F9C-4F13-B827-48B24B6C7174}\\TaskBar"  # the taskbar's pinned shortcuts
    lnk_runs = [(f"{pinned}\\{name.rsplit(chr(92), 1)[-1][:-4]}.lnk", n, t)
                for name, n, _, t in runs if name.lower().endswith(".exe")][:6]
    h.key(f"{act.UA}\\{act.UA_LNK}\\Count", max(t for *_, t in lnk_runs))
    h.values(f"{act.UA}\\{act.UA_LNK}\\Count",
             *[rw.binary(act.rot13(name), act.ua_record(n, 0, 0, iso7(t))) for name, n, t in lnk_runs])
    # RecentDocs: the RecentDocs key (150 newest) and one subkey per extension (20 newest)
    groups: dict[str, list[Opened]] = {"": opened[-150:]}
    for o in opened:
        groups.setdefault(f".{o.ext}", []).append(o)
    for sub, items in groups.items():
        items = items[-(150 if not sub else 20):]
        path = f"{act.RECENT}\\{sub}" if sub else act.RECENT
        h.key(path, items[-1].last)
        numbers = list(range(len(items)))  # value n = n-th oldest; MRU = newest first
        h.values(path, rw.binary("MRUListEx", mru_list_ex(numbers[::-1])),
                 *[rw.binary(str(n), act.utf16z(o.name) + act.lnk_item(
                     lnk_file_name(o), short_name(lnk_file_name(o)), iso7(o.last), 300_000 + n))
                   for n, o in zip(numbers, items)])
    # ComDlg32: open/save dialogs (20 newest per extension) and the folders they were in
    dialogs = [o for o in opened if o.ext in ("docx", "xlsx", "pdf", "csv", "pptx")]
    for ext in ("*", "docx", "xlsx", "pdf", "csv", "pptx"):
        items = [o for o in dialogs if ext == "*" or o.ext == ext][-20:]
        if not items:
            continue
        path = f"{act.COMDLG}\\OpenSavePidlMRU\\{ext}"
        h.key(path, items[-1].last + 1_234)
        h.values(path, rw.binary("MRUListEx", mru_list_ex(list(range(len(items)))[::-1])),
                 *[rw.binary(str(n), _pidl(o)) for n, o in enumerate(items)])
    visited = [("WINWORD.EXE", "docx"), ("EXCEL.EXE", "xlsx"), ("notepad.exe", "txt"),
               ("chrome.exe", "pdf")]
    last_visited = [(prog, next(o for o in reversed(opened) if o.ext == ext or ext == "pdf"))
                    for prog, ext in visited if any(o.ext == ext for o in opened)]
    path = f"{act.COMDLG}\\LastVisitedPidlMRU"
    h.key(path, max(o.last for _, o in last_visited) + 2_345)
    h.values(path, rw.binary("MRUListEx", mru_list_ex(list(range(len(last_visited)))[::-1])),
             *[rw.binary(str(n), act.utf16z(prog) + _pidl(o, folder_only=True))
               for n, (prog, o) in enumerate(last_visited)])
    # RunMRU, TypedPaths, WordWheelQuery
    commands = ["cmd", "notepad", "\\\\fs01.corp.example\\finance", "mstsc /v:10.20.1.15",
                "powershell", "control", "regedit", "%temp%"]
    chosen = rng.sample(commands, 5)
    h.key(f"{explorer}\\RunMRU", between(rng, T_LAST - 20 * DAY, T_LAST))
    h.values(f"{explorer}\\RunMRU", *[rw.sz(chr(97 + i), c + "\\1") for i, c in enumerate(chosen)],
             rw.sz("MRUList", "".join(chr(97 + i) for i in rng.sample(range(5), 5))))
    h.key(f"{explorer}\\TypedPaths", between(rng, T_LAST - 20 * DAY, T_LAST))
    h.values(f"{explorer}\\TypedPaths", *[rw.sz(f"url{i + 1}", p) for i, p in enumerate(
        [f"C:\\Users\\{user}\\Documents", SHARE + "\\Reports", "E:\\", "C:\\Windows\\Temp"])])
    terms = rng.sample(_WORK_WORDS, 6)
    h.key(f"{explorer}\\WordWheelQuery", between(rng, T_LAST - 20 * DAY, T_LAST))
    h.values(f"{explorer}\\WordWheelQuery", rw.binary("MRUListEx", mru_list_ex(list(range(6))[::-1])),
             *[rw.binary(str(n), act.utf16z(t)) for n, t in enumerate(terms)])
    # Office MRUs (Word and Excel, 25 newest each)
    for app, ext in (("Word", "docx"), ("Excel", "xlsx")):
        items = [o for o in opened if o.ext == ext][-25:]
        if not items:
            continue
        path = f"Software\\Microsoft\\Office\\16.0\\{app}\\User MRU\\AD_{tag}\\File MRU"
        h.key(path, items[-1].last + 3_456)
        h.values(path, rw.dword("Max Display", 50),
                 *[rw.sz(f"Item {n}", act.office_item(iso7(o.last), o.path))
                   for n, o in enumerate(reversed(items), 1)])
    # MountPoints2: the C: volume, the sticks this user plugged in, the share
    mp2 = f"{explorer}\\MountPoints2"
    h.values(f"{mp2}\\{C_VOLUME_GUID}", rw.sz("BaseClass", "Drive"))
    h.set_time(f"{mp2}\\{C_VOLUME_GUID}", USER_CREATED[user] + 40 * SECOND)
    for s in STICKS:
        if user in s.users:
            h.values(f"{mp2}\\{s.volume_guid}", rw.sz("BaseClass", "Drive"))
            h.set_time(f"{mp2}\\{s.volume_guid}", s.last_arrival + 17 * SECOND)
    if user != "carol":
        share_key = f"{mp2}\\##{SHARE_SERVER}#{SHARE_NAME}"
        h.values(share_key, rw.sz("_LabelFromReg", f"{SHARE_NAME} ({SHARE_SERVER})"),
                 rw.sz("BaseClass", "Drive"))
        h.set_time(share_key, T_LAST - 3 * DAY - 7 * HOUR)
        h.values(f"Network\\{SHARE_LETTER}", rw.sz("RemotePath", SHARE),
                 rw.sz("UserName", f"{DOMAIN}\\{user}"),
                 rw.sz("ProviderName", "Microsoft Windows Network"),
                 rw.dword("ProviderType", 0x20000), rw.dword("ConnectionType", 1))
        h.set_time(f"Network\\{SHARE_LETTER}", USER_CREATED[user] + 2 * DAY)
    if user == "bob":
        tsc = "Software\\Microsoft\\Terminal Server Client"
        for host, when in (("10.20.1.15", T_LAST - 2 * DAY), ("srv-app01.corp.example", T_LAST - 40 * DAY)):
            h.values(f"{tsc}\\Servers\\{host}", rw.sz("UsernameHint", f"{DOMAIN}\\{user}"))
            h.set_time(f"{tsc}\\Servers\\{host}", when)
        h.values(f"{tsc}\\Default", rw.sz("MRU0", "10.20.1.15"), rw.sz("MRU1", "srv-app01.corp.example"))
        h.set_time(f"{tsc}\\Default", T_LAST - 2 * DAY)
    return hive_bytes(h)


class _Bag:
    """A BagMRU node: the shell item naming the folder, its last-written time, its children."""

    def __init__(self, item: bytes, when: int):
        self.item, self.when = item, when
        self.children: dict[str, _Bag] = {}

    def child(self, name: str, item: bytes, when: int) -> "_Bag":
        node = self.children.get(name.lower())
        if node is None:
            node = self.children[name.lower()] = _Bag(item, when)
        node.when = max(node.when, when)
        return node


def usrclass_hive(user: str, opened: list[Opened]) -> bytes:
    """UsrClass.dat: the ShellBags (BagMRU) of every folder holding a file the user opened."""
    from fixtures import build_registry_execution as ex
    from fixtures.builders import regf_writer as rw

    def fat(filetime: int) -> bytes:
        d = to_datetime(filetime)
        return ex.fat(d.year, d.month, d.day, d.hour, d.minute, d.second)

    root = _Bag(b"", 0)
    computer = network = None
    for o in opened:
        parts = o.path.split("\\")
        if o.path.startswith("\\\\"):
            if network is None:
                network = root.child("network", ex.root_folder(ex.NETWORK, 0x58), o.last)
            node = network.child(SHARE, ex.network_location("\\\\" + "\\".join(parts[2:4]),
                                                             "Microsoft Network"), o.last)
            folders, entries = parts[4:-1], [0] * len(parts[4:-1])
        elif o.stick is not None:
            node = root.child(parts[0], ex.removable_root_drive(parts[0] + "\\"), o.last)
            folders, entries = parts[1:-1], [0] * len(parts[1:-1])
        else:
            if computer is None:
                computer = root.child("computer", ex.root_folder(ex.MY_COMPUTER, 0x50), o.last)
            node = computer.child(parts[0], ex.volume(parts[0] + "\\"), o.last)
            folders, entries = parts[1:-1], list(o.parents)
        for folder, entry in zip(folders, entries + [0] * len(folders)):
            stamp = fat(o.target_created)
            node = node.child(folder, ex.file_entry(short_name(folder), folder, stamp, stamp,
                                                    fat(o.last), mft_entry=entry,
                                                    mft_sequence=1 if entry else 0), o.last)
    h = rw.Hive(f"{sid(user)}_Classes", USER_CREATED[user],
                file_name=f"\\??\\C:\\Users\\{user}\\AppData\\Local\\Microsoft\\Windows\\UsrClass.dat")
    slots = [0]

    def write(node: _Bag, key: str) -> None:
        children = list(node.children.values())
        order = sorted(range(len(children)), key=lambda i: -children[i].when)
        if children:
            h.values(key, *[rw.binary(str(i), ex.pidl(c.item)) for i, c in enumerate(children)],
                     rw.binary("MRUListEx", ex.mru_list_ex(order)))
        for i, c in enumerate(children):
            slots[0] += 1
            sub = f"{key}\\{i}"
            h.values(sub, rw.dword("NodeSlot", slots[0]))
            h.set_time(sub, c.when)
            write(c, sub)

    h.values(ex.BAGS, rw.dword("NodeSlot", 0))
    h.set_time(ex.BAGS, max(o.last for o in opened))
    write(root, ex.BAGS)
    h.values(ex.BAGS, rw.binary("NodeSlots", b"\x02" * (slots[0] + 1)))
    return hive_bytes(h)


def jump_lists(user: str, opened: list[Opened]) -> dict[str, bytes]:
    """{file name: bytes} of the user's Jump Lists: one AutomaticDestinations file per program
    that opened some of the files (DestList + one shortcut per entry), Explorer's folders, and
    Chrome's CustomDestinations tasks."""
    from fixtures.builders import jumplist_writer as jw
    from fixtures.builders import lnk_writer as lw

    out: dict[str, bytes] = {}
    for _, app_id, ext in PROGRAMS:
        if app_id is None or ext is None:
            continue
        items = [o for o in opened if o.ext == ext][-40:]
        if not items:
            continue
        entries = [jw.DestEntry(n, o.path, o.last, hostname=HOST.lower(), access_count=o.count,
                                droid_volume=lw.uuid1_droid(MAC, INSTALL_TIME, 0x2A01),
                                droid_file=lw.uuid1_droid(MAC, o.first, n))
                   for n, o in enumerate(items, 1)]
        links = {n: lnk_bytes(o, n) for n, o in enumerate(items, 1)}
        out[f"{app_id}.automaticDestinations-ms"] = jw.build_automatic_destinations(entries, links)
    folders: dict[str, Opened] = {}
    for o in opened:
        folders[o.path.rsplit("\\", 1)[0].lower()] = o
    recent = sorted(folders.values(), key=lambda o: o.last)[-30:]
    entries = [jw.DestEntry(n, o.path.rsplit("\\", 1)[0], o.last, hostname=HOST.lower(),
                            access_count=o.count) for n, o in enumerate(recent, 1)]
    out["f01b4d95cf55d32a.automaticDestinations-ms"] = jw.build_automatic_destinations(
        entries, {n: lnk_bytes(o, n) for n, o in enumerate(recent, 1)})
    chrome = "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe"
    tasks = [lw.build_lnk(link_info=lw.link_info_local(chrome, lw.DRIVE_FIXED, C_SERIAL32, NTFS_LABEL),
                          description=text, arguments=args, icon_location=chrome)
             for text, args in (("New window", "--new-window"),
                                ("New Incognito window", "--incognito"))]
    out["5d696d521de238c3.customDestinations-ms"] = jw.build_custom_destinations(
        [jw.Category("tasks", tasks)])
    return out


# --------------------------------------------------------------------------------------------
# Browser histories: Chrome History and Firefox places.sqlite per user

_SITES = [  # (host, path pattern, title pattern, weight)
    ("www.google.com", "/search?q={q}&sourceid=chrome&ie=UTF-8", "{q} - Google Search", 14),
    ("mail.google.com", "/mail/u/0/#inbox/{h}", "Inbox - {user}@gmail.com - Gmail", 6),
    ("outlook.office.com", "/mail/inbox/id/{h}", "Mail - {User} - Outlook", 10),
    ("contoso.sharepoint.com", "/sites/Finance/Shared%20Documents/{w}_{w2}.xlsx", "{w}_{w2}.xlsx", 8),
    ("intranet.corp.example", "/finance/{w}/{n}", "{W} - Finance intranet", 9),
    ("github.com", "/{w}/{w2}", "{w}/{w2}: {W} tools", 3),
    ("stackoverflow.com", "/questions/{n}/{w}-{w2}", "{W} {w2} - Stack Overflow", 3),
    ("learn.microsoft.com", "/en-us/office/{w}-{w2}", "{W} {w2} - Microsoft Support", 5),
    ("www.youtube.com", "/watch?v={h}", "{W} {w2} - YouTube", 4),
    ("en.wikipedia.org", "/wiki/{W}_{w2}", "{W} {w2} - Wikipedia", 3),
    ("www.nikkei.com", "/article/DGXZQO{n}/", "{W} {w2} - 日本経済新聞", 4),
    ("news.yahoo.co.jp", "/articles/{h}", "{W}のニュース - Yahoo!ニュース", 4),
    ("www.amazon.co.jp", "/dp/B0{n}", "Amazon.co.jp: {W} {w2}", 2),
    ("drive.google.com", "/drive/folders/{h}", "{W} - Google Drive", 1),
    ("www.dropbox.com", "/home/{W}", "{W} - Dropbox", 1),
    ("wetransfer.com", "/downloads/{h}/{n}", "WeTransfer", 0.3),
]


def _url(rng: random.Random, user: str, site: tuple) -> tuple[str, str, str | None]:
    host, path, title, _ = site
    w, w2 = rng.choice(_WORK_WORDS), rng.choice(_WORK_WORDS)
    q = f"{w} {w2}" if rng.random() < 0.7 else f"{w} excel {w2}"
    fields = dict(q=q.replace(" ", "+"), h=f"{rng.getrandbits(64):016x}", n=rng.randint(10_000, 99_999_999),
                  w=w, w2=w2, W=w.capitalize(), user=user, User=user.capitalize())
    url = f"https://{host}{path.format(**fields)}"
    return url, title.format(**dict(fields, q=q)), q if host == "www.google.com" else None


def browser_visits(user: str, count: int, seed: int, salt: int) -> list[tuple[str, str, str | None, int]]:
    """`count` visits (url, title, search term, time), oldest first, times distinct."""
    rng = random.Random(seed + 50 + 10 * USERS[user] + salt)
    start = max(T_FIRST, USER_CREATED[user] + DAY)
    pool = [_url(rng, user, rng.choices(_SITES, [s[3] for s in _SITES])[0])
            for _ in range(max(50, count // 5))]
    weights = [1 / (i + 1) ** 0.8 for i in range(len(pool))]
    step = (T_LAST - start) // count
    visits, last = [], start
    for i in range(count):
        last = max(office_hours(start + i * step + rng.randrange(step)), last + 1)
        visits.append((*rng.choices(pool, weights)[0], last))
    return visits


def chrome_rows(user: str, visits: list, downloads: list[tuple[str, int, int]], seed: int) -> dict:
    """Rows for browser_writer.build_chrome_history: urls, visits, search terms, downloads
    [(file name, size, time)] into the user's Downloads folder."""
    rng = random.Random(seed + 60 + USERS[user])
    webkit = lambda t: t // 10  # noqa: E731  FILETIME -> microseconds since 1601
    urls: dict[str, dict] = {}
    rows_visits, terms = [], {}
    for n, (url, title, term, when) in enumerate(visits, 1):
        row = urls.setdefault(url, {"id": len(urls) + 1, "url": url, "title": title,
                                    "visit_count": 0, "typed_count": 0, "last_visit_time": 0,
                                    "hidden": 0})
        typed = rng.random() < 0.08
        row["visit_count"] += 1
        row["typed_count"] += typed
        row["last_visit_time"] = webkit(when)
        from_visit = n - 1 if n > 1 and not typed and rng.random() < 0.5 else 0
        transition = (1 if typed else 0) | (0x30000000 if not from_visit else 0x10000000)
        rows_visits.append({"id": n, "url": row["id"], "visit_time": webkit(when),
                            "from_visit": from_visit, "transition": transition,
                            "visit_duration": rng.randint(0, 600_000_000)})
        if term:
            terms[row["id"]] = term
    rows = {"urls": list(urls.values()), "visits": rows_visits,
            "keyword_search_terms": [{"keyword_id": 2, "url_id": u, "term": t,
                                      "normalized_term": t.lower()} for u, t in terms.items()],
            "downloads": [], "downloads_url_chains": []}
    for n, (name, size, when) in enumerate(downloads, 1):
        host = rng.choice(["download.example.com", "contoso.sharepoint.com", "github.com"])
        url = f"https://{host}/files/{name}"
        target = f"C:\\Users\\{user}\\Downloads\\{name}"
        rows["downloads"].append({
            "id": n, "guid": f"{rng.getrandbits(128):032x}", "current_path": target,
            "target_path": target, "start_time": webkit(when),
            "end_time": webkit(when) + rng.randint(1_000_000, 90_000_000), "received_bytes": size,
            "total_bytes": size, "state": 1, "danger_type": 0, "interrupt_reason": 0,
            "opened": 1, "last_access_time": webkit(when) + 100_000_000,
            "tab_url": url.rsplit("/", 2)[0], "referrer": url.rsplit("/", 2)[0],
            "site_url": url.split("/files/")[0], "mime_type": "application/octet-stream",
            "original_mime_type": "application/octet-stream"})
        rows["downloads_url_chains"].append({"id": n, "chain_index": 0, "url": url})
    return rows


def firefox_rows(user: str, visits: list, seed: int) -> dict:
    """Rows for browser_writer.build_places: origins, places, visits, a few bookmarks."""
    rng = random.Random(seed + 70 + USERS[user])
    prtime = lambda t: t // 10 - 11_644_473_600_000_000  # noqa: E731  FILETIME -> PRTime
    origins: dict[str, int] = {}
    places: dict[str, dict] = {}
    rows_visits = []
    for n, (url, title, _, when) in enumerate(visits, 1):
        host = url.split("/")[2]
        origin = origins.setdefault(host, len(origins) + 1)
        place = places.setdefault(url, {
            "id": len(places) + 1, "url": url, "title": title, "rev_host": host[::-1] + ".",
            "visit_count": 0, "hidden": 0, "typed": 0, "frecency": 100,
            "last_visit_date": 0, "guid": f"{rng.getrandbits(72):018x}"[:12],
            "origin_id": origin})
        place["visit_count"] += 1
        place["last_visit_date"] = prtime(when)
        rows_visits.append({"id": n, "from_visit": n - 1 if n > 1 and rng.random() < 0.4 else 0,
                            "place_id": place["id"], "visit_date": prtime(when),
                            "visit_type": rng.choice([1, 1, 1, 2, 5, 6]), "session": 0,
                            "source": 0})
    bookmarks = [{"id": 1, "type": 2, "parent": 0, "position": 0, "title": "", "guid": "root________",
                  "dateAdded": prtime(USER_CREATED[user]), "lastModified": prtime(USER_CREATED[user])},
                 {"id": 2, "type": 2, "parent": 1, "position": 0, "title": "toolbar",
                  "guid": "toolbar_____", "dateAdded": prtime(USER_CREATED[user]),
                  "lastModified": prtime(USER_CREATED[user])}]
    for i, place in enumerate(list(places.values())[:12]):
        added = between(rng, USER_CREATED[user], T_LAST)
        bookmarks.append({"id": 3 + i, "type": 1, "fk": place["id"], "parent": 2, "position": i,
                          "title": place["title"], "guid": f"bm{i:010d}", "dateAdded": prtime(added),
                          "lastModified": prtime(between(rng, added, T_LAST))})
    return {"moz_origins": [{"id": i, "prefix": "https://", "host": h, "frecency": 100}
                            for h, i in origins.items()],
            "moz_places": list(places.values()), "moz_historyvisits": rows_visits,
            "moz_bookmarks": bookmarks}


# --------------------------------------------------------------------------------------------
# Event logs: more than 1 GiB in Security, System, Application and six operational logs.
# Each log is a cycle of template chunks (fixtures/builders/evtx_writer.chunk_template) built
# from realistic records, copied with stamp_chunk: every record gets its own number and time
# (strictly increasing through the log), so the logs are valid EVTX read record by record.

COMPUTER = f"{HOST}.corp.example"
_SEC = "Microsoft-Windows-Security-Auditing"
_SEC_GUID = "{54849625-5478-4994-A5BA-3E3B0328C30D}"
_LSM = "Microsoft-Windows-TerminalServices-LocalSessionManager"
_SYSMON = "Microsoft-Windows-Sysmon"
_UMDF = "Microsoft-Windows-DriverFrameworks-UserMode"
_EXES = ["C:\\Windows\\System32\\svchost.exe", "C:\\Windows\\explorer.exe",
         "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
         "C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE",
         "C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
         "C:\\Windows\\System32\\conhost.exe", "C:\\Windows\\System32\\cmd.exe",
         "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
         "C:\\Windows\\System32\\taskhostw.exe", "C:\\Windows\\System32\\RuntimeBroker.exe",
         "C:\\Windows\\System32\\backgroundTaskHost.exe", "C:\\Windows\\System32\\SearchProtocolHost.exe",
         "C:\\Program Files\\Mozilla Firefox\\firefox.exe", "C:\\Windows\\System32\\notepad.exe",
         "C:\\Windows\\System32\\dllhost.exe", "C:\\Program Files\\7-Zip\\7zFM.exe"]
_SERVICES = ["Windows Update", "Background Intelligent Transfer Service", "Windows Modules Installer",
             "Microsoft Defender Antivirus Service", "WinHTTP Web Proxy Auto-Discovery Service",
             "Software Protection", "Windows Error Reporting Service", "Delivery Optimization",
             "Device Setup Manager", "Microsoft Store Install Service", "Windows Search",
             "Google Update Service (gupdate)", "Office  Source Engine", "Connected Devices Platform Service"]


def _logon_id(rng: random.Random):
    from fixtures.builders.evtx_writer import hex64
    return hex64(rng.randrange(0x10000, 0x7FFFFFF))


def _who(rng: random.Random) -> tuple[str, str, str]:
    user = rng.choice(list(USERS))
    return sid(user), user, DOMAIN


def _security(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    roll = rng.random()
    base = dict(computer=COMPUTER, level=0, provider_guid=_SEC_GUID, keywords=0x8020000000000000,
                process_id=rng.choice([676, 684, 692]), thread_id=rng.randrange(700, 9000))
    usid, user, dom = _who(rng)
    system = [("SubjectUserSid", ev.sid("S-1-5-18")), ("SubjectUserName", f"{HOST}$"),
              ("SubjectDomainName", DOMAIN), ("SubjectLogonId", ev.hex64(0x3E7))]
    if roll < 0.26:
        kind = rng.choice([2, 7, 11, 5, 5, 5, 3])
        target = (("S-1-5-18", "SYSTEM", "NT AUTHORITY") if kind == 5 else (usid, user, dom))
        return ev.EvtxRecord(4624, _SEC, "Security", T_FIRST, task=12544, version=2, **base,
                             payload=ev.event_data(system + [
                                 ("TargetUserSid", ev.sid(target[0])), ("TargetUserName", target[1]),
                                 ("TargetDomainName", target[2]), ("TargetLogonId", _logon_id(rng)),
                                 ("LogonType", ev.u32(kind)),
                                 ("LogonProcessName", "User32 " if kind in (2, 7, 11) else "Advapi  "),
                                 ("AuthenticationPackageName", "Negotiate"),
                                 ("WorkstationName", HOST if kind != 5 else "-"),
                                 ("LogonGuid", ev.guid("{00000000-0000-0000-0000-000000000000}")),
                                 ("TransmittedServices", "-"), ("LmPackageName", "-"),
                                 ("KeyLength", ev.u32(0)), ("ProcessId", ev.hex64(0x2D4)),
                                 ("ProcessName", "C:\\Windows\\System32\\svchost.exe" if kind != 2
                                  else "C:\\Windows\\System32\\winlogon.exe"),
                                 ("IpAddress", "127.0.0.1" if kind != 5 else "-"),
                                 ("IpPort", "0" if kind != 5 else "-"),
                                 ("ImpersonationLevel", "%%1833"), ("RestrictedAdminMode", "-"),
                                 ("TargetOutboundUserName", "-"), ("TargetOutboundDomainName", "-"),
                                 ("VirtualAccount", "%%1843"), ("TargetLinkedLogonId", ev.hex64(0)),
                                 ("ElevatedToken", "%%1842" if kind == 5 else "%%1843")]))
    if roll < 0.42:
        return ev.EvtxRecord(4634, _SEC, "Security", T_FIRST, task=12545, **base,
                             payload=ev.event_data([
                                 ("TargetUserSid", ev.sid(usid)), ("TargetUserName", user),
                                 ("TargetDomainName", dom), ("TargetLogonId", _logon_id(rng)),
                                 ("LogonType", ev.u32(rng.choice([2, 3, 7, 11])))]))
    if roll < 0.62:
        return ev.EvtxRecord(4672, _SEC, "Security", T_FIRST, task=12548, **base,
                             payload=ev.event_data([
                                 ("SubjectUserSid", ev.sid("S-1-5-18")), ("SubjectUserName", "SYSTEM"),
                                 ("SubjectDomainName", "NT AUTHORITY"), ("SubjectLogonId", _logon_id(rng)),
                                 ("PrivilegeList", "SeAssignPrimaryTokenPrivilege\r\n\t\t\tSeTcbPrivilege"
                                                   "\r\n\t\t\tSeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege"
                                                   "\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeDebugPrivilege")]))
    if roll < 0.88:
        exe, parent = rng.choice(_EXES), rng.choice(_EXES[:3])
        return ev.EvtxRecord(4688, _SEC, "Security", T_FIRST, task=13312, version=2, **base,
                             payload=ev.event_data([
                                 ("SubjectUserSid", ev.sid(usid)), ("SubjectUserName", user),
                                 ("SubjectDomainName", dom), ("SubjectLogonId", _logon_id(rng)),
                                 ("NewProcessId", ev.hex64(rng.randrange(0x100, 0x8000, 4))),
                                 ("NewProcessName", exe), ("TokenElevationType", "%%1938"),
                                 ("ProcessId", ev.hex64(rng.randrange(0x100, 0x8000, 4))),
                                 ("CommandLine", f"\"{exe}\"" + rng.choice(["", " /background", " -Embedding",
                                                                            " --type=renderer"])),
                                 ("TargetUserSid", ev.sid("S-1-0-0")), ("TargetUserName", "-"),
                                 ("TargetDomainName", "-"), ("TargetLogonId", ev.hex64(0)),
                                 ("ParentProcessName", parent),
                                 ("MandatoryLabel", ev.sid("S-1-16-8192"))]))
    if roll < 0.883:
        return ev.EvtxRecord(4625, _SEC, "Security", T_FIRST, task=12544,
                             **dict(base, keywords=0x8010000000000000),
                             payload=ev.event_data([
                                 ("SubjectUserSid", ev.sid("S-1-5-18")), ("SubjectUserName", f"{HOST}$"),
                                 ("SubjectDomainName", DOMAIN), ("SubjectLogonId", ev.hex64(0x3E7)),
                                 ("TargetUserSid", ev.sid("S-1-0-0")), ("TargetUserName", user),
                                 ("TargetDomainName", dom), ("Status", ev.Value(ev.HEX32, 0xC000006D)),
                                 ("FailureReason", "%%2313"), ("SubStatus", ev.Value(ev.HEX32, 0xC000006A)),
                                 ("LogonType", ev.u32(2)), ("LogonProcessName", "User32 "),
                                 ("AuthenticationPackageName", "Negotiate"), ("WorkstationName", HOST),
                                 ("IpAddress", "127.0.0.1"), ("IpPort", "0")]))
    if roll < 0.92:
        return ev.EvtxRecord(4648, _SEC, "Security", T_FIRST, task=12544, **base,
                             payload=ev.event_data([
                                 ("SubjectUserSid", ev.sid(usid)), ("SubjectUserName", user),
                                 ("SubjectDomainName", dom), ("SubjectLogonId", _logon_id(rng)),
                                 ("TargetUserName", user), ("TargetDomainName", dom),
                                 ("TargetServerName", SHARE_SERVER), ("TargetInfo", SHARE_SERVER),
                                 ("ProcessName", "C:\\Windows\\System32\\lsass.exe"),
                                 ("IpAddress", "-"), ("IpPort", "-")]))
    return ev.EvtxRecord(rng.choice([4798, 5379, 5058, 5061]), _SEC, "Security", T_FIRST,
                         task=13824, **base, payload=ev.event_data([
                             ("SubjectUserSid", ev.sid(usid)), ("SubjectUserName", user),
                             ("SubjectDomainName", dom), ("SubjectLogonId", _logon_id(rng)),
                             ("TargetName", f"MicrosoftAccount:user={user}@corp.example"),
                             ("Type", ev.u32(0)), ("CountOfCredentialsReturned", ev.u32(1)),
                             ("ReadOperation", "%%8100"), ("ReturnCode", ev.u32(0)),
                             ("ProcessCreationTime", ev.filetime_value(T_FIRST)),
                             ("ClientProcessId", ev.u32(rng.randrange(100, 9000)))]))


def _classic(values: list[str]):
    """<EventData> with unnamed <Data> elements, as classic (pre-manifest) providers write."""
    from fixtures.builders import evtx_writer as ev
    return ev.Elem("EventData", children=[ev.Elem("Data", [], [ev.string(v)]) for v in values])


def _system(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    roll = rng.random()
    scm = dict(computer=COMPUTER, qualifiers=16384, provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
               keywords=0x8080000000000000, process_id=704)
    if roll < 0.55:
        svc = rng.choice(_SERVICES)
        state = rng.choice(["running", "stopped"])
        return ev.EvtxRecord(7036, "Service Control Manager", "System", T_FIRST, **scm,
                             payload=ev.event_data([("param1", svc), ("param2", state),
                                                    ("Binary", ev.binary(svc.encode("utf-16-le")[:24]))]))
    if roll < 0.62:
        return ev.EvtxRecord(7040, "Service Control Manager", "System", T_FIRST, **scm,
                             payload=ev.event_data([("param1", rng.choice(_SERVICES)),
                                                    ("param2", "demand start"), ("param3", "auto start"),
                                                    ("param4", "BITS")]))
    if roll < 0.78:
        return ev.EvtxRecord(10016, "Microsoft-Windows-DistributedCOM", "System", T_FIRST,
                             computer=COMPUTER, level=3, qualifiers=0, user_sid="S-1-5-18",
                             provider_guid="{1B562E86-B7AA-4131-BADC-B6F3A001407E}",
                             payload=ev.event_data([
                                 ("param1", "application-specific"), ("param2", "Local"),
                                 ("param3", "Activation"),
                                 ("param4", "{2593F8B9-4EAF-457C-B68A-50F6B8EA6B54}"),
                                 ("param5", "{15C20B67-12E7-4BB6-92BB-7AFF07997402}"),
                                 ("param6", "NT AUTHORITY"), ("param7", "SYSTEM"),
                                 ("param8", "S-1-5-18"), ("param9", "LocalHost (Using LRPC)"),
                                 ("param10", "Unavailable"), ("param11", "Unavailable")]))
    if roll < 0.88:
        return ev.EvtxRecord(rng.choice([19, 43, 44]), "Microsoft-Windows-WindowsUpdateClient",
                             "System", T_FIRST, computer=COMPUTER, user_sid="S-1-5-18",
                             provider_guid="{945a8954-c147-4acd-923f-40c45405a658}",
                             payload=ev.event_data([
                                 ("updateTitle", f"2026-0{rng.randint(1, 3)} Cumulative Update for "
                                                 f"Windows 10 Version 22H2 for x64-based Systems (KB50{rng.randint(30000, 49999)})"),
                                 ("updateGuid", ev.guid(f"{{{rng.getrandbits(32):08x}-1111-4222-8333-444455556666}}")),
                                 ("updateRevisionNumber", ev.u32(1))]))
    return ev.EvtxRecord(rng.choice([35, 37]), "Microsoft-Windows-Time-Service", "System", T_FIRST,
                         computer=COMPUTER, user_sid="S-1-5-19",
                         provider_guid="{06EDCFEB-0FD0-4E53-ACCA-A6F8BBF81BCB}",
                         payload=ev.event_data([("TimeSource", "time.windows.com,0x9 "
                                                               "(ntp.m|0x9|0.0.0.0:123->20.43.94.199:123)")]))


def _system_rare(rng: random.Random):
    """System records of the chunks written at a boot or a device install: mostly the usual
    ones, some 6005/6006/6013 (event log service start and stop, uptime), 20001 (a USB stick's
    driver installed) and 7045 (a service installed by an update)."""
    from fixtures.builders import evtx_writer as ev

    roll = rng.random()
    if roll < 0.9:
        return _system(rng)
    if roll < 0.95:
        return ev.EvtxRecord(rng.choice([6005, 6006, 6013]), "EventLog", "System", T_FIRST,
                             computer=COMPUTER, qualifiers=32768, keywords=0x80000000000000,
                             payload=_classic([str(rng.randint(10_000, 900_000)), "60",
                                               "540 Tokyo Standard Time"]))
    if roll < 0.995:
        s = rng.choice(STICKS)
        return ev.EvtxRecord(20001, "Microsoft-Windows-UserPnp", "System", T_FIRST, computer=COMPUTER,
                             user_sid="S-1-5-18", provider_guid="{96F4A050-7E31-453C-88BE-9634F4E02139}",
                             payload=ev.user_data(
                                 "InstallDeviceID", "http://manifests.microsoft.com/win/2004/08/windows/userpnp",
                                 {"DriverName": "disk.inf", "DriverVersion": "10.0.19041.1",
                                  "DriverProvider": "Microsoft",
                                  "DeviceInstanceID": f"USBSTOR\\{s.device.upper()}\\{s.instance}",
                                  "SetupClass": "{4D36E967-E325-11CE-BFC1-08002BE10318}",
                                  "RebootOption": "false", "UpgradeDevice": "false", "IsDriverOEM": "false",
                                  "InstallStatus": "0x0", "DriverDescription": "Disk drive"}))
    name, image = rng.choice([("GoogleUpdaterService", "\"C:\\Program Files (x86)\\Google\\GoogleUpdater\\updater.exe\" --system --windows-service"),
                              ("MozillaMaintenance", "\"C:\\Program Files (x86)\\Mozilla Maintenance Service\\maintenanceservice.exe\""),
                              ("edgeupdate", "\"C:\\Program Files (x86)\\Microsoft\\EdgeUpdate\\MicrosoftEdgeUpdate.exe\" /svc")])
    return ev.EvtxRecord(7045, "Service Control Manager", "System", T_FIRST, computer=COMPUTER,
                         qualifiers=16384, provider_guid="{555908d1-a6d7-4695-8e1e-26931d2012f4}",
                         keywords=0x8080000000000000, user_sid="S-1-5-18",
                         payload=ev.event_data([("ServiceName", name), ("ImagePath", image),
                                                ("ServiceType", "user mode service"),
                                                ("StartType", "auto start"), ("AccountName", "LocalSystem")]))


def _application(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    roll = rng.random()
    if roll < 0.35:
        return ev.EvtxRecord(rng.choice([16384, 16394]), "Microsoft-Windows-Security-SPP", "Application",
                             T_FIRST, computer=COMPUTER, qualifiers=16384, keywords=0x80000000000000,
                             provider_guid="{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}",
                             payload=_classic(["2126-02-11T09:13:44Z", "RulesEngine"]))
    if roll < 0.55:
        exe = rng.choice(_EXES).rsplit("\\", 1)[-1]
        return ev.EvtxRecord(1000, "Application Error", "Application", T_FIRST, computer=COMPUTER,
                             level=2, qualifiers=0, keywords=0x80000000000000, task=100,
                             payload=_classic([exe, "10.0.19041.3636", "a1b2c3d4", "ntdll.dll",
                                               "10.0.19041.3636", "f1e2d3c4", "c0000005",
                                               f"{rng.randrange(0x1000, 0xFFFFF):08x}", "1c2c",
                                               "01da6f3c2b1a0e00", rng.choice(_EXES),
                                               "C:\\Windows\\SYSTEM32\\ntdll.dll",
                                               f"{rng.getrandbits(32):08x}-0000-4000-8000-00000000abcd", "", ""]))
    if roll < 0.75:
        return ev.EvtxRecord(1001, "Windows Error Reporting", "Application", T_FIRST, computer=COMPUTER,
                             qualifiers=0, keywords=0x80000000000000,
                             payload=_classic([str(rng.getrandbits(60)), "5", "APPCRASH", "Not available",
                                               "0", rng.choice(_EXES).rsplit("\\", 1)[-1], "10.0.19041.1", "", "",
                                               "", "", "", "", "", "", "", "", "", "", "", "", ""]))
    if roll < 0.88:
        return ev.EvtxRecord(rng.choice([326, 327, 302]), "ESENT", "Application", T_FIRST, computer=COMPUTER,
                             qualifiers=0, keywords=0x80000000000000, task=1,
                             payload=_classic(["SearchIndexer", "3680,D,50", "",
                                               "C:\\ProgramData\\Microsoft\\Search\\Data\\Applications\\Windows\\Windows.edb",
                                               "0"]))
    return ev.EvtxRecord(rng.choice([10000, 10001]), "Microsoft-Windows-RestartManager", "Application",
                         T_FIRST, computer=COMPUTER, user_sid=_who(rng)[0],
                         provider_guid="{0888E5EF-9B98-4695-979D-E92CE4247224}",
                         payload=ev.event_data([("RmSessionId", ev.u32(rng.randrange(0, 9))),
                                                ("UTCStartTime", ev.filetime_value(T_FIRST))]))


def _powershell(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    ps = dict(computer=COMPUTER, provider_guid="{A0C1853B-5C40-4B15-8766-3CF1C58F985A}",
              user_sid=_who(rng)[0])
    roll = rng.random()
    if roll < 0.55:
        body = rng.choice([
            "Get-ChildItem -Path $env:USERPROFILE\\Documents -Recurse -Filter *.xlsx | Measure-Object",
            "Import-Module Microsoft.PowerShell.Archive; Compress-Archive -Path .\\report -DestinationPath .\\report.zip",
            "$ErrorActionPreference = 'Stop'\r\nfunction Get-Ledger { param($Month) Import-Csv \"\\\\fs01.corp.example\\finance\\ledger_$Month.csv\" }",
            "Set-StrictMode -Version 1; $_.PSMessageDetails",
            "Get-Service | Where-Object Status -eq 'Running' | Select-Object Name, DisplayName",
            "prompt"])
        return ev.EvtxRecord(4104, "Microsoft-Windows-PowerShell", "Microsoft-Windows-PowerShell/Operational",
                             T_FIRST, level=5, task=2, opcode=15, keywords=0, **ps,
                             payload=ev.event_data([("MessageNumber", ev.u32(1)), ("MessageTotal", ev.u32(1)),
                                                    ("ScriptBlockText", body),
                                                    ("ScriptBlockId", f"{rng.getrandbits(32):08x}-5e1d-4c8b-9a11-3f7e2b6c1d0a"),
                                                    ("Path", "")]))
    return ev.EvtxRecord(rng.choice([40961, 40962, 53504]), "Microsoft-Windows-PowerShell",
                         "Microsoft-Windows-PowerShell/Operational", T_FIRST, task=4, keywords=0, **ps,
                         payload=ev.event_data([("param1", str(rng.randrange(1000, 20000))),
                                                ("param2", "DefaultAppDomain")]))


def _lsm(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    usid, user, dom = _who(rng)
    event = rng.choice([21, 22, 23, 24, 25, 40, 42])
    address = "LOCAL" if rng.random() < 0.85 else "10.20.4.61"  # console, or RDP from the VPN
    fields = ({"User": f"{dom}\\{user}", "SessionID": str(rng.randint(1, 9)), "Address": address}
              if event != 40 else {"Session": str(rng.randint(1, 9)), "Reason": "0"})
    return ev.EvtxRecord(event, _LSM, f"{_LSM}/Operational", T_FIRST, computer=COMPUTER, user_sid="S-1-5-18",
                         provider_guid="{5D896912-022D-40AA-A3A8-4FA5515C76D7}",
                         payload=ev.user_data("EventXML", "Event_NS", fields))


def _partition(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    s = rng.choice(STICKS)
    connected = rng.random() < 0.5
    return ev.EvtxRecord(1006, "Microsoft-Windows-Partition", "Microsoft-Windows-Partition/Diagnostic",
                         T_FIRST, computer=COMPUTER, user_sid="S-1-5-18", version=2,
                         provider_guid="{412bdff2-a8c4-470d-8f33-63fe0d8c20e2}",
                         payload=ev.event_data([
                             ("Version", ev.u32(2)), ("DiskNumber", ev.u32(1)), ("Flags", ev.u32(0)),
                             ("Characteristics", ev.u32(0)), ("IsSystem", ev.Value(ev.BOOL, 0)),
                             ("IsBoot", ev.Value(ev.BOOL, 0)), ("BusType", ev.u32(7)),
                             ("Manufacturer", s.vendor), ("Model", s.product.replace("_", " ")),
                             ("Revision", s.revision), ("SerialNumber", s.serial),
                             ("ParentId", f"USB\\VID_{s.vid}&PID_{s.pid}\\{s.serial}"),
                             ("DiskId", ev.guid(f"{{{hashlib.md5(s.serial.encode()).hexdigest()[:8]}-1d7e-11f1-b4a2-806e6f6e6963}}")),
                             ("Capacity", ev.u64(s.capacity if connected else 0)),
                             ("BytesPerSector", ev.u32(512)), ("PartitionStyle", ev.u32(0)),
                             ("PartitionCount", ev.u32(1 if connected else 0)),
                             ("PartitionTableBytes", ev.u32(512 if connected else 0)),
                             ("PartitionTable", ev.binary(bytes(64) if connected else b""))]))


def _kernel_pnp(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    s = rng.choice(STICKS)
    device = rng.choice([f"USBSTOR\\{s.device.upper()}\\{s.instance}", f"USB\\VID_{s.vid}&PID_{s.pid}\\{s.serial}",
                         "SWD\\PRINTENUM\\{2F5A2E8C-2D39-4B9C-8B0E-7E1A3C5D7F90}", "ACPI\\PNP0C0A\\1"])
    event = rng.choice([400, 410, 420, 430])
    return ev.EvtxRecord(event, "Microsoft-Windows-Kernel-PnP", "Microsoft-Windows-Kernel-PnP/Configuration",
                         T_FIRST, computer=COMPUTER, user_sid="S-1-5-18",
                         provider_guid="{9C205A39-1250-487D-ABD7-E831C6290539}",
                         payload=ev.event_data([("DeviceInstanceId", device), ("DriverName", "disk.inf"),
                                                ("ClassGuid", "{4d36e967-e325-11ce-bfc1-08002be10318}"),
                                                ("ServiceName", "disk"), ("Status", ev.u32(0))]))


def _sysmon(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    usid, user, dom = _who(rng)
    exe = rng.choice(_EXES)
    base = [("RuleName", "-"), ("UtcTime", "2026-01-01 00:00:00.000"),
            ("ProcessGuid", ev.guid(f"{{{rng.getrandbits(32):08x}-5f2e-65a0-0c01-000000000a00}}")),
            ("ProcessId", ev.u32(rng.randrange(100, 20000, 4))), ("Image", exe)]
    event = rng.choices([1, 3, 5, 11, 13, 22], [20, 15, 20, 20, 15, 10])[0]
    extra = {
        1: [("CommandLine", f"\"{exe}\""), ("CurrentDirectory", f"C:\\Users\\{user}\\"),
            ("User", f"{dom}\\{user}"), ("IntegrityLevel", "Medium"),
            ("Hashes", f"SHA256={hashlib.sha256(exe.encode()).hexdigest().upper()}"),
            ("ParentImage", "C:\\Windows\\explorer.exe")],
        3: [("User", f"{dom}\\{user}"), ("Protocol", "tcp"), ("Initiated", ev.Value(ev.BOOL, 1)),
            ("SourceIp", "10.20.4.37"), ("SourcePort", ev.u16(rng.randrange(49152, 65535))),
            ("DestinationIp", f"20.{rng.randint(1, 250)}.{rng.randint(1, 250)}.{rng.randint(1, 250)}"),
            ("DestinationHostname", "-"), ("DestinationPort", ev.u16(443))],
        5: [("User", f"{dom}\\{user}")],
        11: [("TargetFilename", f"C:\\Users\\{user}\\AppData\\Local\\Temp\\{rng.getrandbits(32):08x}.tmp"),
             ("CreationUtcTime", "2026-01-01 00:00:00.000"), ("User", f"{dom}\\{user}")],
        13: [("EventType", "SetValue"), ("TargetObject", f"HKU\\{usid}\\Software\\Microsoft\\Office\\16.0\\Common\\General\\LastAutoSave"),
             ("Details", "DWORD (0x00000001)"), ("User", f"{dom}\\{user}")],
        22: [("QueryName", rng.choice(["outlook.office.com", "www.google.com", "contoso.sharepoint.com"])),
             ("QueryStatus", "0"), ("QueryResults", "::ffff:20.190.151.7;"), ("User", f"{dom}\\{user}")],
    }[event]
    return ev.EvtxRecord(event, _SYSMON, f"{_SYSMON}/Operational", T_FIRST, computer=COMPUTER,
                         user_sid="S-1-5-18", version=5, provider_guid="{5770385F-C22A-43E0-BF4C-06F5698FFBD9}",
                         payload=ev.event_data(base + extra))


def _umdf(rng: random.Random):
    from fixtures.builders import evtx_writer as ev

    s = rng.choice(STICKS)
    instance = f"WPDBUSENUMROOT\\UMB\\2&37C186B&0&{s.symbolic.upper()}"
    event = rng.choice([2003, 2004, 2010, 2100, 2101, 2102, 2105, 2106])
    return ev.EvtxRecord(event, _UMDF, f"{_UMDF}/Operational", T_FIRST, computer=COMPUTER,
                         user_sid="S-1-5-19", provider_guid="{2E35AAEB-857F-4BEB-A418-2E6C0E54D988}",
                         payload=ev.user_data("UMDFHostDeviceRequest", "http://www.microsoft.com/DriverFrameworks/UserMode/Event",
                                              {"Status": ev.u32(0)},
                                              {"instance": instance,
                                               "lifetime": f"{{{rng.getrandbits(32):08X}-4B6D-4CF0-9B6C-7E1D2A3B4C5D}}"}))


@dataclass(frozen=True)
class LogSpec:
    """One event log: `chunks` chunks cycling through `templates` chunks built from `records`
    (rng -> EvtxRecord); a share `rare_share` of the chunks use `rare_templates` chunks built
    from `rare` instead, so that events rarer than one in a template still occur, rarely."""

    file: str
    chunks: int  # 64 KiB each
    records: object
    templates: int = 8  # distinct chunks the log cycles through (1 ms a record to build)
    rare: object = None
    rare_templates: int = 0
    rare_share: float = 0.0


EVENT_LOGS = [
    LogSpec("Security.evtx", 8192, _security, 16),
    LogSpec("System.evtx", 3128, _system, rare=_system_rare, rare_templates=4, rare_share=0.01),
    LogSpec("Application.evtx", 1536, _application),
    LogSpec("Microsoft-Windows-Sysmon%4Operational.evtx", 1536, _sysmon),
    LogSpec("Microsoft-Windows-PowerShell%4Operational.evtx", 1024, _powershell),
    LogSpec("Microsoft-Windows-Kernel-PnP%4Configuration.evtx", 512, _kernel_pnp),
    LogSpec("Microsoft-Windows-TerminalServices-LocalSessionManager%4Operational.evtx", 256, _lsm),
    LogSpec("Microsoft-Windows-DriverFrameworks-UserMode%4Operational.evtx", 256, _umdf),
    LogSpec("Microsoft-Windows-Partition%4Diagnostic.evtx", 8, _partition, 4),
]
# Channels with nothing logged: Windows keeps them as a header and one empty chunk (68 KiB).
EMPTY_LOGS = [
    "HardwareEvents", "Internet Explorer", "Key Management Service", "Windows PowerShell", "Setup",
    "OAlerts", "Microsoft-Windows-AppLocker%4EXE and DLL", "Microsoft-Windows-Bits-Client%4Operational",
    "Microsoft-Windows-CodeIntegrity%4Operational", "Microsoft-Windows-Diagnostics-Performance%4Operational",
    "Microsoft-Windows-GroupPolicy%4Operational", "Microsoft-Windows-Kernel-Boot%4Operational",
    "Microsoft-Windows-NetworkProfile%4Operational", "Microsoft-Windows-Ntfs%4Operational",
    "Microsoft-Windows-PrintService%4Admin", "Microsoft-Windows-RemoteDesktopServices-RdpCoreTS%4Operational",
    "Microsoft-Windows-Shell-Core%4Operational", "Microsoft-Windows-SMBClient%4Security",
    "Microsoft-Windows-Store%4Operational", "Microsoft-Windows-TaskScheduler%4Operational",
    "Microsoft-Windows-TerminalServices-RemoteConnectionManager%4Operational",
    "Microsoft-Windows-Time-Service%4Operational", "Microsoft-Windows-User Profile Service%4Operational",
    "Microsoft-Windows-Windows Defender%4Operational", "Microsoft-Windows-Windows Firewall With Advanced Security%4Firewall",
    "Microsoft-Windows-WindowsUpdateClient%4Operational", "Microsoft-Windows-Winlogon%4Operational",
    "Microsoft-Windows-WinRM%4Operational", "Microsoft-Windows-WMI-Activity%4Operational",
    "Microsoft-Windows-WLAN-AutoConfig%4Operational",
]


def empty_log() -> bytes:
    from fixtures.builders.evtx_writer import build_evtx
    return build_evtx([])


def write_event_log(out, spec: LogSpec, seed: int, chunks: int | None = None,
                    catalogued=None) -> dict:
    """Write the log `spec` (`chunks` chunks, default spec.chunks) to the binary file object
    `out`; returns its facts: chunks, bytes, records, records per event id and, when
    `catalogued(provider, channel, event_id)` is given, how many records it accepts."""
    from fixtures.builders import evtx_writer as ev

    chunks = spec.chunks if chunks is None else chunks
    rng = random.Random(f"{seed}:{spec.file}")
    templates, kinds = [], []
    for factory in [spec.records] * spec.templates + [spec.rare] * spec.rare_templates:
        made: list = []

        def records():
            while True:
                made.append(factory(rng))
                yield made[-1]

        template = ev.chunk_template(records())
        templates.append(template)
        kinds.append([(r.provider, r.channel, r.event_id) for r in made[:template.count]])
    common, rare = spec.templates, spec.rare_templates
    order = [common + rng.randrange(rare) if rare and rng.random() < spec.rare_share
             else rng.randrange(common) for _ in range(chunks)]
    total = sum(templates[i].count for i in order)
    start = max(T_FIRST, INSTALL_TIME)
    step = (T_LAST - start) // total
    if step < 2:
        raise ValueError(f"{spec.file}: {total} records do not fit between {iso7(start)} and {iso7(T_LAST)}")
    out.write(ev.file_header(chunks, total + 1))
    by_id: dict[str, int] = {}
    number = 1
    for index in order:
        template = templates[index]
        times = [start + (number - 1 + k) * step + rng.randrange(step) for k in range(template.count)]
        out.write(ev.stamp_chunk(template, number, times))
        number += template.count
        for provider, channel, event_id in kinds[index]:
            by_id[str(event_id)] = by_id.get(str(event_id), 0) + 1
    facts = {"file": spec.file, "chunks": chunks, "bytes": 4096 + chunks * ev.CHUNK_SIZE,
             "records": total, "first_record_time": iso7(start), "events_by_id": dict(sorted(
                 by_id.items(), key=lambda kv: int(kv[0])))}
    if catalogued is not None:
        per_template = [sum(1 for k in kind if catalogued(*k)) for kind in kinds]
        facts["catalogued_records"] = sum(per_template[i] for i in order)
    return facts


# --------------------------------------------------------------------------------------------
# The USN journal ($Extend\$UsnJrnl:$J): the last weeks of file activity on the volume, in
# Windows' patterns (data written then closed, temporary files created and deleted, downloads
# renamed, Prefetch files rewritten), naming real files and folders by MFT entry so that their
# paths can be rebuilt. Records are V2, packed in 4 KiB pages after a sparse (freed) start.

USN_WINDOW_START = T_LAST - 21 * DAY
USN_MAX_SIZE = 256 * MiB
USN_JOURNAL_ID = INSTALL_TIME + 4 * MINUTE + 2_718_281


def usn_max_stream(lowest_valid_usn: int) -> bytes:
    """The 32-byte $Max stream: maximum size, allocation delta, journal id, lowest valid USN."""
    return struct.pack("<QQQq", USN_MAX_SIZE, 32 * MiB, USN_JOURNAL_ID, lowest_valid_usn)


def _usn_size(name: str) -> int:
    return (60 + 2 * len(name) + 7) & ~7


def _usn_ops(rng: random.Random, files: list[tuple[str, int, int]], prefetch: list[tuple[str, int, int]],
             temp_dirs: list[tuple[str, int]], free_entry: int):
    """Operations for ever, each a list of (name, entry, sequence, parent entry, parent
    sequence, reason, attributes); files are (name, MFT entry, parent entry)."""
    from fixtures.builders import usn_writer as u

    seqs: dict[int, int] = {}
    pool = list(range(free_entry, free_entry + 20_000))
    word = lambda: rng.choice(_WORK_WORDS)  # noqa: E731
    while True:
        roll = rng.random()
        if roll < 0.36 and files:
            name, entry, parent = rng.choice(files)
            flag = rng.choice([u.DATA_EXTEND, u.DATA_OVERWRITE, u.DATA_EXTEND | u.DATA_OVERWRITE])
            yield [(name, entry, 1, parent, 1, flag, 0x20), (name, entry, 1, parent, 1, flag | u.CLOSE, 0x20)]
        elif roll < 0.72:
            dir_name, parent = rng.choice(temp_dirs)
            entry = rng.choice(pool)
            seq = seqs[entry] = seqs.get(entry, 1) + 1
            name = rng.choice([f"~WRL{rng.randrange(10000):04d}.tmp", f"{rng.getrandbits(32):08x}.tmp",
                               f"~${word()}_{word()}.docx", f"f_{rng.getrandbits(24):06x}",
                               f"{word()}.log", f"etilqs_{rng.getrandbits(60):015x}"])
            attrs = 0x2120 if name.endswith(".tmp") else 0x20
            pparent = 1 if parent != 5 else 5
            yield [(name, entry, seq, parent, pparent, u.FILE_CREATE, attrs),
                   (name, entry, seq, parent, pparent, u.FILE_CREATE | u.DATA_EXTEND, attrs),
                   (name, entry, seq, parent, pparent, u.FILE_CREATE | u.DATA_EXTEND | u.CLOSE, attrs),
                   (name, entry, seq, parent, pparent, u.FILE_DELETE | u.CLOSE, attrs)]
        elif roll < 0.80:
            dir_name, parent = rng.choice(temp_dirs)
            entry = rng.choice(pool)
            seq = seqs[entry] = seqs.get(entry, 1) + 1
            final = f"{word()}_{word()}_{rng.randint(1, 99)}.{rng.choice(['zip', 'pdf', 'xlsx', 'msi'])}"
            partial = f"Unconfirmed {rng.randrange(100000, 999999)}.crdownload"
            yield [(partial, entry, seq, parent, 1, u.FILE_CREATE, 0x20),
                   (partial, entry, seq, parent, 1, u.FILE_CREATE | u.DATA_EXTEND, 0x20),
                   (partial, entry, seq, parent, 1, u.FILE_CREATE | u.DATA_EXTEND | u.RENAME_OLD_NAME, 0x20),
                   (final, entry, seq, parent, 1, u.FILE_CREATE | u.DATA_EXTEND | u.RENAME_NEW_NAME, 0x20),
                   (final, entry, seq, parent, 1, u.FILE_CREATE | u.DATA_EXTEND | u.RENAME_NEW_NAME | u.CLOSE, 0x20)]
        elif roll < 0.92 and prefetch:
            name, entry, parent = rng.choice(prefetch)
            yield [(name, entry, 1, parent, 1, u.DATA_TRUNCATION, 0x2020),
                   (name, entry, 1, parent, 1, u.DATA_TRUNCATION | u.DATA_EXTEND, 0x2020),
                   (name, entry, 1, parent, 1, u.DATA_TRUNCATION | u.DATA_EXTEND | u.CLOSE, 0x2020)]
        elif files:
            name, entry, parent = rng.choice(files)
            flag = u.BASIC_INFO_CHANGE if rng.random() < 0.8 else u.SECURITY_CHANGE
            yield [(name, entry, 1, parent, 1, flag, 0x20), (name, entry, 1, parent, 1, flag | u.CLOSE, 0x20)]


def usn_records(files: list[tuple[str, int, int]], prefetch: list[tuple[str, int, int]],
                temp_dirs: list[tuple[str, int]], free_entry: int, size: int, leading: int,
                seed: int) -> tuple[int, object]:
    """(record count, iterator of UsnRecord) for a $J stream of about `size` bytes of records
    after `leading` sparse bytes, times strictly increasing from USN_WINDOW_START to T_LAST.
    The operations are drawn twice from the same seed: once to count, once to write."""
    from fixtures.builders.usn_writer import PAGE, UsnRecord

    def ops():
        return _usn_ops(random.Random(seed + 80), files, prefetch, temp_dirs, free_entry)

    count, length = 0, leading
    for op in ops():
        for name, *_ in op:
            need = _usn_size(name)
            if need > PAGE - length % PAGE:
                length += PAGE - length % PAGE
            length += need
            count += 1
        if length - leading >= size:
            break
    step = (T_LAST - USN_WINDOW_START) // count

    def records():
        rng = random.Random(seed + 81)
        k = 0
        for op in ops():
            for name, entry, seq, parent, pseq, reason, attrs in op:
                if k == count:
                    return
                yield UsnRecord(name, entry, seq, parent, pseq,
                                USN_WINDOW_START + k * step + rng.randrange(step), reason, attrs)
                k += 1

    return count, records()
