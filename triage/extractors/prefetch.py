"""Windows Prefetch (`C:\\Windows\\Prefetch\\<EXECUTABLE>-<HASH>.pf`): program execution.

Format: the "SCCA" Prefetch file, documented in the libyal libscca paper "Windows Prefetch File
(PF) format" and read here with libscca (pyscca). Versions: 17 (XP, 2003), 23 (Vista, 7),
26 (8.1), 30 (Windows 10 and 11) and 31 (recent Windows 11; read when the installed libscca
knows it). Versions 17 and 23 keep one run time, 26 and later the eight most recent. From
Windows 10 on the file is stored in a "MAM\\x04" container (uint32 uncompressed size, then
Xpress Huffman, [MS-XCA] LZ77+Huffman, in 64 KiB chunks); libscca decompresses it.

Every time is a FILETIME, UTC, 100 ns resolution (seven digits), converted with
triage.model.filetime(); a slot holding 0 is "not set" and gives no event.

Events per file:
    "Last Run"       the most recent run time (run_index 0). Carries `files`, the full list of
                     files the program touched in its first seconds, in the file's order. When
                     the file records no last run time at all, this event is still emitted with
                     no timestamp so the file list is not lost.
    "Previous Run"   each other stored run time (run_index 1..7, 1 = the run before the last).
    "Volume Created" each volume the program touched, at that volume's creation time (the
                     event has no timestamp when the file leaves it unset).

Event data: executable, executable_path (the referenced file whose name is the executable;
for a name Windows truncated to 29 characters, the first whose name starts with it; else
None), prefetch_hash (8 upper-case hex digits), run_count, format_version, compressed (the
file is a MAM container), files_count, volumes (list of {device_path, serial (8 hex digits),
creation (ISO 8601 or None)}); run events add run_index, volume events volume_index.
Prefetch does not record who ran the program: `user` is always None.

Integrity: libfwnt's Xpress Huffman decoder reads past the end of a truncated MAM body as if it
were zeros and libscca then parses garbage without complaint. So a MAM body is decompressed
twice with pyfwnt, once as is and once followed by 0xFF bytes: an intact stream never reads
past its end and gives the same bytes both times; a cut one does not (ArtifactError).
"""
from __future__ import annotations

import io
import ntpath
import struct
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

import pyscca

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, filetime

try:  # libfwnt-python comes with dfvfs; without it the MAM truncation check is skipped
    import pyfwnt
except ImportError:  # pragma: no cover - depends on the installation
    pyfwnt = None

_MAM_SIGNATURE = b"MAM\x04"
_SCCA_SIGNATURE = b"SCCA"
_MAX_UNCOMPRESSED = 64 * 1024 * 1024  # real Prefetch files are at most a few MiB
_EXECUTABLE_NAME_CHARS = 29  # the header keeps at most 29 characters of the name
_RUN_SLOTS_V26 = 8


@dataclass
class _Volume:
    device_path: str
    serial: str
    creation: Timestamp | None

    def as_data(self) -> dict:
        return {
            "device_path": self.device_path,
            "serial": self.serial,
            "creation": self.creation.iso() if self.creation else None,
        }


@dataclass
class _Prefetch:
    format_version: int
    compressed: bool
    executable: str
    prefetch_hash: str
    run_count: int
    run_times: list[int] = field(default_factory=list)  # raw FILETIMEs, index 0 = last run
    volumes: list[_Volume] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


def _reason(exc: BaseException) -> str:
    """libscca's error chain ("outer: ... inner: cause. ...") cut to its innermost cause."""
    text = " ".join(str(exc).split())
    parts = [part.strip() for part in text.split(". ") if part.strip()]
    cause = parts[1] if len(parts) > 1 else (parts[0] if parts else type(exc).__name__)
    if ": " in cause:
        cause = cause.split(": ", 1)[1]
    return cause.rstrip(".")


def _check_mam(data: bytes) -> int:
    """Validate a MAM container; returns the format version of the compressed SCCA content."""
    if len(data) < 8 + 256:
        raise ArtifactError(f"truncated compressed Prefetch file ({len(data)} bytes)")
    (size,) = struct.unpack_from("<I", data, 4)
    if not 84 <= size <= _MAX_UNCOMPRESSED:
        raise ArtifactError(f"implausible uncompressed size {size} in the MAM header")
    if pyfwnt is None:
        return 0
    body = data[8:]
    try:
        plain = pyfwnt.lzxpress_huffman_decompress(body, size)
        padded = pyfwnt.lzxpress_huffman_decompress(body + b"\xff" * 64, size)
    except (OSError, ValueError, MemoryError) as exc:
        raise ArtifactError(f"corrupt compressed Prefetch data: {_reason(exc)}") from None
    if len(plain) != size or plain != padded:
        raise ArtifactError("truncated or corrupt compressed Prefetch data (MAM body ends early)")
    if plain[4:8] != _SCCA_SIGNATURE:
        raise ArtifactError("compressed content is not a Prefetch file (no SCCA signature)")
    return struct.unpack_from("<I", plain, 0)[0]


def _read(handle: BinaryIO) -> _Prefetch:
    try:
        data = handle.read(_MAX_UNCOMPRESSED + 1)
    except OSError as exc:
        raise ArtifactError(f"cannot read the file: {exc}") from None
    if not data:
        raise ArtifactError("empty file")
    if len(data) > _MAX_UNCOMPRESSED:
        raise ArtifactError("file too large to be a Prefetch file")
    compressed = data[:4] == _MAM_SIGNATURE
    if compressed:
        version = _check_mam(data)
    elif len(data) >= 8 and data[4:8] == _SCCA_SIGNATURE:
        if len(data) < 84:
            raise ArtifactError(f"truncated Prefetch file ({len(data)} bytes)")
        version, _, _, declared = struct.unpack_from("<I4sII", data, 0)
        if declared > len(data):
            raise ArtifactError(
                f"truncated Prefetch file: header says {declared} bytes, file has {len(data)}"
            )
    elif data[:3] == b"MAM":
        raise ArtifactError(f"unsupported compressed Prefetch variant (signature {data[:4]!r})")
    else:
        raise ArtifactError("not a Prefetch file (no SCCA or MAM\\x04 signature)")

    scca = pyscca.file()
    try:
        scca.open_file_object(io.BytesIO(data))
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        reason = _reason(exc)
        if "unsupported format version" in reason:
            number = f" {version}" if version else ""
            raise ArtifactError(f"unsupported Prefetch format version{number}") from None
        raise ArtifactError(f"unreadable Prefetch file: {reason}") from None
    try:
        info = _Prefetch(
            format_version=scca.format_version,
            compressed=compressed,
            executable=scca.executable_filename or "",
            prefetch_hash=f"{scca.prefetch_hash:08X}",
            run_count=scca.run_count,
        )
        slots = _RUN_SLOTS_V26 if info.format_version >= 26 else 1
        for index in range(slots):
            info.run_times.append(scca.get_last_run_time_as_integer(index))
        for index in range(scca.number_of_volumes):
            volume = scca.get_volume_information(index)
            info.volumes.append(
                _Volume(
                    device_path=volume.device_path or "",
                    serial=f"{volume.serial_number:08X}",
                    creation=filetime(volume.get_creation_time_as_integer()),
                )
            )
        info.files = [scca.get_filename(index) or "" for index in range(scca.number_of_filenames)]
    except (OSError, ValueError, TypeError, MemoryError) as exc:
        raise ArtifactError(f"unreadable Prefetch file: {_reason(exc)}") from None
    finally:
        try:
            scca.close()
        except (OSError, ValueError):
            pass
    return info


def _executable_path(executable: str, files: list[str]) -> str | None:
    """The referenced file that is the executable itself (case-insensitive name match)."""
    wanted = executable.upper()
    if not wanted:
        return None
    for name in files:
        if ntpath.basename(name).upper() == wanted:
            return name
    if len(executable) == _EXECUTABLE_NAME_CHARS:  # Windows cut the name: match its start
        for name in files:
            if ntpath.basename(name).upper().startswith(wanted):
                return name
    return None


def _times(count: int) -> str:
    return "1 time" if count == 1 else f"{count} times"


@register
class PrefetchExtractor(Extractor):
    name = "prefetch"
    family = "execution"
    description = "Windows Prefetch (.pf): last and previous run times, volumes, files loaded"

    @staticmethod
    def _volumes(info: _Prefetch) -> list[dict]:
        return [volume.as_data() for volume in info.volumes]  # a fresh list for every event

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        handle = f.open()
        try:
            info = _read(handle)
        finally:
            handle.close()

        exe = info.executable or "(unnamed executable)"
        base = {
            "executable": info.executable,
            "executable_path": _executable_path(info.executable, info.files),
            "prefetch_hash": info.prefetch_hash,
            "run_count": info.run_count,
            "format_version": info.format_version,
            "compressed": info.compressed,
            "files_count": len(info.files),
        }
        total = _times(info.run_count)

        last = filetime(info.run_times[0]) if info.run_times else None
        message = f"{exe} run ({total} in total; last run)"
        if last is None:
            message = f"{exe} run ({total} in total; no last run time recorded)"
        yield Event(
            timestamp=last,
            timestamp_desc="Last Run",
            message=message,
            data={
                **base,
                "volumes": self._volumes(info),
                "run_index": 0,
                "files": list(info.files),
            },
            user=None,
        )

        previous = [
            (index, stamp)
            for index, stamp in ((i, filetime(v)) for i, v in enumerate(info.run_times))
            if index > 0 and stamp is not None
        ]
        for number, (index, stamp) in enumerate(previous, start=1):
            yield Event(
                timestamp=stamp,
                timestamp_desc="Previous Run",
                message=f"{exe} run (previous run {number} of {len(previous)})",
                data={**base, "volumes": self._volumes(info), "run_index": index},
                user=None,
            )

        for index, volume in enumerate(info.volumes):
            yield Event(
                timestamp=volume.creation,
                timestamp_desc="Volume Created",
                message=(
                    f"Volume {volume.device_path or '(no device path)'} (serial {volume.serial}) "
                    f"created; referenced by {exe} Prefetch"
                ),
                data={**base, "volumes": self._volumes(info), "volume_index": index},
                user=None,
            )
