"""SetupAPI text logs: device and driver installations (`C:\\Windows\\INF\\setupapi.dev.log`,
`setupapi.setup.log`, rotated `setupapi.dev.YYYYMMDD_HHMMSS.log`; `C:\\Windows\\setupapi.log`
on Windows XP / 2003).

Why it matters: the first time a USB device is plugged in, Plug and Play installs it and logs a
section such as `Device Install (Hardware initiated) - USBSTOR\\Disk&Ven_X&Prod_Y&Rev_Z\\<serial>`:
its start is the device's first connection to this system, kept even after the registry keys
are cleaned.

Format (Vista and later), plain text, one section per installation:

    [Device Install Log]                      header, then `OS Version = 10.0.10240` ...
    [Boot Session: 2015/11/22 17:58:03.498]   a boot (local time)
    >>>  [<action> - <target>]                section title
    >>>  Section start 2020/03/17 14:02:36.123
         ... body lines; `cmd:` the command line, `!!!` errors, `!` warnings ...
    <<<  Section end 2020/03/17 14:02:38.004
    <<<  [Exit status: SUCCESS]               or FAILURE(0xe0000219) ...

Windows XP: `[2009/06/03 08:51:38 1028.7 Driver Install]` opens a section (local time, whole
seconds, process.thread), then `#` lines; `#I121 Device install of "<instance id>" finished
successfully.` ends a successful device installation, `#E...` lines are errors.

Times are LOCAL wall-clock time. They are converted to UTC with the case's zone
(`ctx.timezone`: --source-tz, else the seized system's own zone) through
triage.timezones.local_to_utc; every event keeps the local text (`start_local`, `end_local`)
and the zone used (`time_zone`). With no zone known the event has no timestamp (never a
guessed one) and says so in `timestamp_note`. Precision: milliseconds (3 digits), XP seconds.

One event per section (this choice keeps the log's own unit: plaso's counts, 194 and 16 for
its test logs, are section counts), at the section start:
    "Device Install Started"  the section's action names a device installation
                              (`Device Install (Hardware initiated)`, `... (DiInstallDriver)`,
                              XP sections that install a device instance);
    "Setup Section Started"   any other section (`Setup Import Driver Package`,
                              `SetupCopyOEMInf`, `Sysprep Specialize`...).
The end is in the data (`end_local`, `end` in UTC, or None when the section is cut).

Event data: log_format ("vista" or "xp"), section_title, action, target, device_instance_id
(when the target, or an XP `install of "..."` line, is a device instance id), inf_path (when
the target is an .inf file), bus, vid/pid (USB) or vendor/product/revision (USBSTOR), serial,
serial_generated, start_local, end_local, end, time_zone, exit_status, command (first `cmd:`
line), errors (the first `!!!` / `#E` lines, at most 5) and error_count, warning_count,
boot_session (local), os_version, line (line number of the section title).

Encodings: UTF-8 (with or without BOM), UTF-16 LE/BE (BOM, or detected by its zero bytes) and,
for bytes that are not UTF-8, the ANSI code page cp1252. Lines longer than 8192 characters are
cut (the rest of the line is skipped), so a corrupt file cannot exhaust memory.
"""
from __future__ import annotations

import codecs
import datetime as _dt
import io
import re
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event
from triage.usb_ids import parse_instance_id
from triage.timezones import local_to_utc

MAX_LINE = 8192
MAX_ERRORS_KEPT = 5
_TIME = r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}(?:\.\d{1,3})?"
_HEADER = re.compile(r"^\[[A-Za-z ]*Log\]\s*$")
_OS_VERSION = re.compile(r"^\s*OS Version\s*=\s*(?P<v>.+?)\s*$")
_BOOT = re.compile(rf"^\[Boot Session:\s*(?P<ts>{_TIME})\s*\]")
_TITLE = re.compile(r"^>>>\s+\[(?P<title>.*)\]\s*$")
_START = re.compile(rf"^>>>\s+Section start\s+(?P<ts>{_TIME})")
_END = re.compile(rf"^<<<\s+Section end\s+(?P<ts>{_TIME})")
_EXIT = re.compile(r"^<<<\s+\[Exit status:\s*(?P<status>.*?)\]\s*$")
_CMD = re.compile(r"^\s+cmd:\s*(?P<cmd>.+?)\s*$")
_XP_SECTION = re.compile(
    r"^\[(?P<ts>\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) (?P<pt>\d+\.\d+) (?P<title>.*)\]\s*$")
_XP_INSTALL_OF = re.compile(r'install of "(?P<id>[^"]+)"', re.IGNORECASE)
_INSTANCE = re.compile(r"^[A-Za-z0-9_]+\\[^\\]")


@dataclass
class _Section:
    line: int
    log_format: str
    title: str | None
    start: str | None = None
    end: str | None = None
    exit_status: str | None = None
    process_thread: str | None = None
    command: str | None = None
    instance_ids: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    boot_session: str | None = None


def _parse_local(text: str | None) -> _dt.datetime | None:
    if not text:
        return None
    main, _, frac = text.partition(".")
    try:
        value = _dt.datetime.strptime(main, "%Y/%m/%d %H:%M:%S")
    except ValueError:
        return None
    if frac:
        value = value.replace(microsecond=int(frac.ljust(3, "0")[:3]) * 1000)
    return value


def _sniff(head: bytes) -> tuple[str, int]:
    """(encoding, BOM length): 'bytes' means UTF-8 per line, else cp1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "bytes", 3
    if head.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", 2
    if head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", 2
    sample = head[:4096]
    if len(sample) >= 16:
        odd_zero = sample[1::2].count(0) / max(1, len(sample) // 2)
        even_zero = sample[0::2].count(0) / max(1, len(sample) // 2)
        if odd_zero > 0.3 and even_zero < 0.05:
            return "utf-16-le", 0
        if even_zero > 0.3 and odd_zero < 0.05:
            return "utf-16-be", 0
    return "bytes", 0


def read_lines(handle: BinaryIO, ctx: ExtractionContext) -> Iterator[str]:
    """The file's lines, decoded, without line ends, each cut at MAX_LINE characters."""
    head = handle.read(4096)
    encoding, bom = _sniff(head)
    handle.seek(bom)
    cut = 0
    if encoding == "bytes":
        ansi = 0
        while True:
            raw = handle.readline(MAX_LINE * 4)
            if not raw:
                break
            if not raw.endswith(b"\n") and len(raw) == MAX_LINE * 4:
                cut += 1
                while True:  # skip the rest of an over-long line
                    more = handle.readline(MAX_LINE * 4)
                    if not more or more.endswith(b"\n"):
                        break
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                text = raw.decode("cp1252", errors="replace")
                ansi += 1
            yield text.rstrip("\r\n")[:MAX_LINE]
        if ansi:
            ctx.note(f"{ansi} line(s) are not UTF-8: decoded with the ANSI code page cp1252")
    else:
        reader = io.TextIOWrapper(handle, encoding=encoding, errors="replace", newline=None)
        while True:
            text = reader.readline(MAX_LINE)
            if not text:
                break
            if not text.endswith("\n") and len(text) == MAX_LINE:
                cut += 1
                while True:
                    more = reader.readline(MAX_LINE)
                    if not more or more.endswith("\n"):
                        break
            yield text.rstrip("\r\n")
        reader.detach()
    if cut:
        ctx.warn(f"{cut} line(s) longer than {MAX_LINE} characters were cut")


def _split_title(title: str | None) -> tuple[str | None, str | None]:
    if not title:
        return None, None
    action, sep, target = title.partition(" - ")
    return action.strip(), (target.strip() or None) if sep else None


@register
class SetupApiLog(Extractor):
    name = "setupapi"
    family = "usb"
    description = "SetupAPI logs: device (USB) and driver installations, local time"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        zone = ctx.timezone
        if zone is None:
            ctx.note("setupapi times are local and no time zone is known: events carry the "
                     "local time as text and no timestamp (use --source-tz)")
        state: dict[str, Any] = {"os_version": None, "boot": None, "header": False,
                                 "sections": 0, "zone": zone}
        current: _Section | None = None
        first_text = True
        with f.open() as handle:
            for number, line in enumerate(read_lines(handle, ctx), 1):
                if first_text and line.strip():
                    first_text = False
                    if _HEADER.match(line.strip().lstrip("\ufeff")):
                        state["header"] = True
                        continue
                if not line:
                    continue
                head = line[0]
                if head == ">":
                    title = _TITLE.match(line)
                    if title:
                        if current is not None:
                            if current.end is None:
                                ctx.warn(f"line {current.line}: section has no end")
                            yield self._event(current, state, ctx)
                        current = _Section(number, "vista", title.group("title"),
                                           boot_session=state["boot"])
                        continue
                    start = _START.match(line)
                    if start:
                        if current is None or current.start is not None:
                            if current is not None:
                                yield self._event(current, state, ctx)
                            current = _Section(number, "vista", None, boot_session=state["boot"])
                        current.start = start.group("ts")
                    continue
                if head == "<":
                    end = _END.match(line)
                    if end and current is not None:
                        current.end = end.group("ts")
                        continue
                    status = _EXIT.match(line)
                    if status and current is not None:
                        current.exit_status = status.group("status").strip() or None
                        yield self._event(current, state, ctx)
                        current = None
                    continue
                if head == "[":
                    boot = _BOOT.match(line)
                    if boot:
                        state["boot"] = boot.group("ts")
                        continue
                    xp = _XP_SECTION.match(line)
                    if xp:
                        if current is not None:
                            yield self._event(current, state, ctx)
                        current = _Section(number, "xp", xp.group("title"), start=xp.group("ts"),
                                           process_thread=xp.group("pt"))
                    continue
                if state["os_version"] is None and current is None:
                    version = _OS_VERSION.match(line)
                    if version:
                        state["os_version"] = version.group("v")
                        continue
                if current is not None:
                    self._body(current, line)
        if current is not None:
            if current.log_format == "vista":
                ctx.warn(f"line {current.line}: the log ends inside a section")
            yield self._event(current, state, ctx)
        if not state["header"] and not state["sections"]:
            raise ArtifactError("not a SetupAPI log: no log header and no sections")

    @staticmethod
    def _body(section: _Section, line: str) -> None:
        stripped = line.strip()
        if section.log_format == "xp":
            found = _XP_INSTALL_OF.search(line)
            if found and found.group("id") not in section.instance_ids:
                section.instance_ids.append(found.group("id"))
            if "finished successfully" in line and found:
                section.exit_status = "SUCCESS"
            if stripped.startswith("#E"):
                section.error_count += 1
                if len(section.errors) < MAX_ERRORS_KEPT:
                    section.errors.append(stripped[:500])
            elif stripped.startswith("#W"):
                section.warning_count += 1
            return
        if line.startswith("!!!"):
            section.error_count += 1
            if len(section.errors) < MAX_ERRORS_KEPT:
                section.errors.append(stripped[:500])
        elif line.startswith("!"):
            section.warning_count += 1
        elif section.command is None:
            cmd = _CMD.match(line)
            if cmd:
                section.command = cmd.group("cmd")

    def _convert(self, text: str | None, state: dict[str, Any], ctx: ExtractionContext,
                 digits: int):
        local = _parse_local(text)
        if local is None or state["zone"] is None:
            return None
        try:
            return local_to_utc(local, state["zone"], digits)
        except ValueError as exc:
            ctx.warn(f"{exc}: setupapi times left unconverted")
            state["zone"] = None
            return None

    def _event(self, section: _Section, state: dict[str, Any], ctx: ExtractionContext) -> Event:
        state["sections"] += 1
        xp = section.log_format == "xp"
        if xp and section.exit_status is None and section.error_count:
            section.exit_status = "FAILURE"
        digits = 0 if xp else 3
        start = self._convert(section.start, state, ctx, digits)
        end = self._convert(section.end, state, ctx, digits)
        action, target = _split_title(section.title)
        if xp:
            action, target = section.title, None
        instance = None
        inf_path = None
        if target and _INSTANCE.match(target) and ":" not in target[:3]:
            instance = target
        elif target and (target.lower().endswith(".inf") or ":\\" in target):
            inf_path = target
        if instance is None and section.instance_ids:
            instance = section.instance_ids[0]
        ident = parse_instance_id(instance) if instance else {}
        ident = {k: v for k, v in ident.items() if k in (
            "bus", "vid", "pid", "vendor", "product", "revision", "serial", "serial_generated")}
        if ident.get("bus") not in ("USB", "USBSTOR"):
            ident = {k: ident[k] for k in ("bus",) if k in ident}
        device = "device install" in (action or "").lower() or (xp and instance is not None)
        desc = "Device Install Started" if device else "Setup Section Started"
        data: dict[str, Any] = {
            "log_format": section.log_format, "section_title": section.title,
            "action": action, "target": target, "device_instance_id": instance,
            "inf_path": inf_path, **ident,
            "start_local": section.start, "end_local": section.end,
            "end": end.iso() if end else None, "time_zone": state["zone"],
            "exit_status": section.exit_status, "command": section.command,
            "errors": section.errors, "error_count": section.error_count,
            "warning_count": section.warning_count, "boot_session": section.boot_session,
            "os_version": state["os_version"], "line": section.line,
        }
        if xp:
            data["process_thread"] = section.process_thread
            data["device_instance_ids"] = section.instance_ids
        if state["zone"] is None:
            data["timestamp_note"] = ("local time only: no time zone known, not converted "
                                      "(see start_local)")
        elif section.start is None:
            data["timestamp_note"] = "the section has no start time"
        status = section.exit_status or "no exit status"
        return Event(start, desc, f"setupapi: {section.title or '(untitled section)'} "
                                  f"[{status}]", data)
