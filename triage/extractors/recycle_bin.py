"""Windows Recycle Bin: `$I` index files (Vista and later) and `INFO2` (Windows 95 to XP/2003).

Formats (documented in the libyal dtformats "Windows Recycle.Bin file formats" and "Windows
Recycler file formats" papers; INFO2 header variants in the rifiuti2 project notes). Every
integer is little-endian; every time is a FILETIME, UTC, 100 ns resolution (seven digits).

`$Recycle.Bin\\<SID>\\$I<id><.ext>` (the deleted content is in `$R<id><.ext>` beside it):
    version 1 (Vista to 8.1), 544 bytes: int64 version, int64 original size, FILETIME deletion
        time, 520 bytes UTF-16LE original path (NUL-terminated, NUL-padded).
    version 2 (Windows 10+): int64 version, int64 original size, FILETIME deletion time,
        uint32 path length in characters (terminating NUL included), UTF-16LE path.
    When a folder was deleted, `$R...` is a directory: the event then has r_present True,
    r_is_directory True and r_contents, the files inside with size and SHA-256 (at most
    1,000 listed; r_files_total counts them all).

`RECYCLER\\<SID>\\INFO2` (NT: one folder per user SID; 95/98: `RECYCLED\\INFO2`, no SID):
    a 20-byte header (uint32 version, two uint32 item tallies, uint32 record size, uint32 size
    tally), then fixed-size records. 800-byte records (NT/2000/XP/2003, ME): 260 bytes ANSI
    path, uint32 index, uint32 drive number (0 = A), FILETIME deletion time, uint32 size,
    520 bytes UTF-16LE path. 280-byte records (95/98): the same without the Unicode path.
    The deleted content is the file `D<drive letter><index><.ext of original>` beside INFO2.
    When an entry is restored or the bin emptied, Windows zeroes the first ANSI byte and keeps
    the record: such records are still reported, with `removed` True. The ANSI path of such a
    record has lost its first character (the drive letter): it is rebuilt from the recorded
    drive number, and only used when the record has no readable Unicode path.

Event data:
    `$I` (extractor "recycle_bin"): original_path, size (as recorded), version, sid, i_file,
        r_file, r_present, and when the `$R` file is there r_size and r_sha256.
    INFO2 (extractor "recycle_bin_info2"), one event per record: original_path, index,
        drive_letter, size (as recorded), sid, removed, r_file, r_present, r_size, r_sha256.
The only time is the deletion time ("Deleted"); nothing else is inferred.
"""
from __future__ import annotations

import ntpath
import re
import struct
from typing import Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile, basename
from triage.integrity import sha256_evidence
from triage.model import ArtifactError, Event, filetime

_MAX_FOLDER_FILES = 1000
_SID_RE = re.compile(r"^S-1-\d+(?:-\d+)+$", re.IGNORECASE)

_I_HEADER = struct.Struct("<qqQ")  # version, size, FILETIME
_I_V1_PATH_BYTES = 520
_I_MAX_PATH_CHARS = 32768  # Windows' longest path (32,767 characters) plus its NUL

_INFO2_HEADER = struct.Struct("<5I")  # version, kept, total, record size, size tally
_INFO2_FIELDS = struct.Struct("<IIQI")  # index, drive, FILETIME, size (at offset 260)
_ANSI_BYTES = 260


def _sid_of(f: EvidenceFile) -> str | None:
    """The name of the folder holding `f`, when it is a SID (as in $Recycle.Bin and RECYCLER)."""
    parent = f.path.rstrip("/").rsplit("/", 1)[0]
    name = basename(parent) if parent else ""
    return name if _SID_RE.match(name) else None


def _paired(f: EvidenceFile, name: str | None) -> dict:
    """r_file / r_present / r_size / r_sha256 for the content file `name` beside `f`; for a
    deleted folder (a `$R` directory) r_is_directory and r_contents (path, size, SHA-256)."""
    data: dict = {"r_file": name, "r_present": False}
    found = f.sibling(name) if name else None
    if found is not None:
        size, sha = sha256_evidence(found)
        data.update(r_file=found.name, r_present=True, r_size=size, r_sha256=sha)
        return data
    folder = f.sibling_folder(name) if name else None
    if folder is not None:
        contents = []
        for inner in folder[:_MAX_FOLDER_FILES]:
            size, sha = sha256_evidence(inner)
            contents.append({"path": inner.path, "size": size, "sha256": sha})
        data.update(r_present=True, r_is_directory=True, r_contents=contents,
                    r_files_total=len(folder))
    return data


def _utf16_path(raw: bytes, what: str) -> str:
    """UTF-16LE text up to its first NUL character; ArtifactError when it is not valid UTF-16."""
    end = len(raw) - len(raw) % 2
    for pos in range(0, end, 2):
        if raw[pos] == 0 and raw[pos + 1] == 0:
            end = pos
            break
    try:
        return raw[:end].decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise ArtifactError(f"{what} is not valid UTF-16: {exc.reason} at byte {exc.start}") from None


def _message(path: str, size: int) -> str:
    return f"{path or '(no path recorded)'} sent to the Recycle Bin ({size:,} bytes)"


@register
class RecycleBinIFile(Extractor):
    """One `$I` file of `$Recycle.Bin` (Vista and later), paired with its `$R` content file.

    A deleted folder's `$R` is a directory: its files are listed and hashed in r_contents.
    """

    name = "recycle_bin"
    family = "deleted"
    description = "Recycle Bin $I index file (Vista+, versions 1 and 2) and its $R content"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        data = f.read(_I_HEADER.size + 4 + _I_MAX_PATH_CHARS * 2)
        if len(data) < _I_HEADER.size:
            raise ArtifactError(f"$I file of {len(data)} bytes is shorter than its 24-byte header")
        version, size, deleted = _I_HEADER.unpack_from(data, 0)
        if version == 1:
            end = _I_HEADER.size + _I_V1_PATH_BYTES
            if len(data) < end:
                raise ArtifactError(f"version 1 $I file is truncated: {len(data)} of {end} bytes")
            raw = data[_I_HEADER.size:end]
        elif version == 2:
            if len(data) < _I_HEADER.size + 4:
                raise ArtifactError("version 2 $I file is truncated before its path length")
            (chars,) = struct.unpack_from("<I", data, _I_HEADER.size)
            if chars == 0 or chars > _I_MAX_PATH_CHARS:
                raise ArtifactError(f"version 2 $I path length {chars} characters is not plausible")
            start = _I_HEADER.size + 4
            end = start + chars * 2
            if end > len(data):
                raise ArtifactError(
                    f"version 2 $I path of {chars} characters overruns the file ({len(data)} bytes)"
                )
            raw = data[start:end]
        else:
            raise ArtifactError(f"unsupported $I version {version} (expected 1 or 2)")
        if size < 0:
            raise ArtifactError(f"$I records a negative file size ({size})")

        path = _utf16_path(raw, "$I original path")
        if not path:
            ctx.warn(f"{f.path}: $I records an empty original path")
        sid = _sid_of(f)
        r_name = "$R" + f.name[2:] if f.name[:2].upper() == "$I" else None
        event_data = {
            "original_path": path,
            "size": size,
            "version": version,
            "sid": sid,
            "i_file": f.name,
        }
        event_data.update(_paired(f, r_name))
        yield Event(
            timestamp=filetime(deleted),
            timestamp_desc="Deleted",
            message=_message(path, size),
            data=event_data,
            user=ctx.user_for_sid(sid),
        )


@register
class RecycleBinInfo2(Extractor):
    """Windows 95 to XP/2003 `INFO2`: one event per record, restored/emptied ones included."""

    name = "recycle_bin_info2"
    family = "deleted"
    description = "Recycle Bin INFO2 index (Windows 95 to XP/2003) and its D<drive><n> files"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        sid = _sid_of(f)
        user = ctx.user_for_sid(sid)
        with f.open() as handle:
            header = handle.read(_INFO2_HEADER.size)
            if len(header) < _INFO2_HEADER.size:
                raise ArtifactError(
                    f"INFO2 of {len(header)} bytes is shorter than its 20-byte header"
                )
            _version, _kept, _total, record_size, _tally = _INFO2_HEADER.unpack(header)
            if record_size not in (800, 280):
                raise ArtifactError(f"INFO2 record size {record_size} is not 800 or 280")
            offset = _INFO2_HEADER.size
            while True:
                record = handle.read(record_size)
                if not record:
                    break
                if len(record) < record_size:
                    ctx.warn(
                        f"{f.path}: INFO2 ends with a partial record of {len(record)} bytes"
                        f" at offset {offset} (ignored)"
                    )
                    break
                yield self._event(f, ctx, record, offset, sid, user)
                offset += record_size

    @staticmethod
    def _event(
        f: EvidenceFile,
        ctx: ExtractionContext,
        record: bytes,
        offset: int,
        sid: str | None,
        user: str | None,
    ) -> Event:
        index, drive, deleted, size = _INFO2_FIELDS.unpack_from(record, _ANSI_BYTES)
        letter = chr(ord("A") + drive) if drive < 26 else None
        ansi_raw = record[:_ANSI_BYTES]
        removed = ansi_raw[0] == 0
        if removed:
            # Windows overwrote the drive letter with 0; the recorded drive number gives it back.
            rest = ansi_raw[1:].split(b"\0", 1)[0]
            ansi = (letter or "?") + rest.decode("cp1252", errors="replace") if rest else ""
        else:
            ansi = ansi_raw.split(b"\0", 1)[0].decode("cp1252", errors="replace")

        path = ansi
        if len(record) >= _ANSI_BYTES + 20 + 520:
            try:
                unicode = _utf16_path(record[_ANSI_BYTES + 20 : _ANSI_BYTES + 20 + 520], "path")
            except ArtifactError as exc:
                ctx.warn(f"{f.path}: INFO2 record at offset {offset}: Unicode {exc}; ANSI path used")
                unicode = ""
            if unicode:
                path = unicode

        r_name = None
        if letter is not None:
            r_name = f"D{letter.lower()}{index}{ntpath.splitext(path)[1]}"
        else:
            ctx.warn(f"{f.path}: INFO2 record at offset {offset} has drive number {drive}")

        data = {
            "original_path": path,
            "index": index,
            "drive_letter": letter,
            "size": size,
            "sid": sid,
            "removed": removed,
        }
        data.update(_paired(f, r_name))
        data.setdefault("r_size", None)
        data.setdefault("r_sha256", None)
        message = _message(path, size)
        if removed:
            message += "; entry removed (restored or Recycle Bin emptied)"
        return Event(
            timestamp=filetime(deleted),
            timestamp_desc="Deleted",
            message=message,
            data=data,
            user=user,
        )
