"""Reading a damaged E01 as far as it goes: unreadable chunks become zeros, recorded by offset.

Why: libewf opens a segment set whose later segment is cut short or missing, but every read
that touches a lost chunk fails, and one failed read while dfVFS scans the volume (e.g. the
NTFS backup boot sector at the volume's end) used to cost the whole image. An examiner wants the
readable parts processed and the damage reported with offsets. So the EWF file object dfVFS
uses is replaced by one that reads chunk by chunk after a failure, substitutes zeros for each
chunk libewf cannot give, and records (offset, length, reason) in the `DamageLog` of that image.
The engine turns the log into errors that name the byte ranges; files whose bytes fell in a
damaged range fail in their own parsers (or parse zeros) and are recorded as such.

Only reads past a failure are slowed; an intact image reads exactly as before.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from dfvfs.file_io import ewf_file_io
from dfvfs.lib import definitions
from dfvfs.resolver_helpers import manager
from dfvfs.resolver_helpers.ewf_resolver_helper import EWFResolverHelper

_DEFAULT_CHUNK = 32 * 1024  # EnCase's default: 64 sectors of 512 bytes
MAX_RANGES = 10_000  # ranges kept per image (the count goes on)


@dataclass
class DamageLog:
    """The byte ranges of one image's media that could not be read (merged, in order)."""

    ranges: list[list[Any]] = field(default_factory=list)  # [offset, length, reason]
    dropped: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, offset: int, length: int, reason: str) -> None:
        with self.lock:
            for entry in self.ranges:  # overlapping or adjacent: one range, first reason kept
                if entry[0] <= offset + length and offset <= entry[0] + entry[1]:
                    end = max(entry[0] + entry[1], offset + length)
                    entry[0] = min(entry[0], offset)
                    entry[1] = end - entry[0]
                    return
            if len(self.ranges) >= MAX_RANGES:
                self.dropped += 1
                return
            self.ranges.append([offset, length, reason])
            self.ranges.sort(key=lambda e: e[0])

    @property
    def total(self) -> int:
        return sum(length for _, length, _ in self.ranges)


_LOGS: dict[str, DamageLog] = {}
_LOGS_LOCK = threading.Lock()


def damage_log(image_path: str) -> DamageLog:
    """The damage log of the image whose first segment is `image_path` (created on demand)."""
    key = os.path.abspath(image_path)
    with _LOGS_LOCK:
        return _LOGS.setdefault(key, DamageLog())


def forget(image_path: str) -> None:
    with _LOGS_LOCK:
        _LOGS.pop(os.path.abspath(image_path), None)


def _reason(exc: BaseException) -> str:
    """libewf's reason without the offset it names (the range gives the offsets)."""
    from triage.sources.image import short_reason

    return re.sub(r"\s*(for|at) offset:?\s*\d+(\s*\(0x[0-9a-fA-F]+\))?", "", short_reason(exc))


class _TolerantHandle:
    """A pyewf handle whose reads never fail inside the media: lost chunks read as zeros."""

    def __init__(self, handle: Any, log: DamageLog):
        self._handle = handle
        self._log = log
        self._size = handle.get_media_size()
        try:
            self._chunk = int(handle.get_chunk_size()) or _DEFAULT_CHUNK
        except Exception:
            self._chunk = _DEFAULT_CHUNK
        self._offset = 0

    def read(self, size: int | None = None) -> bytes:
        if size is None or size < 0:
            size = self._size - self._offset
        size = max(0, min(size, self._size - self._offset))
        if size == 0:
            return b""
        try:
            self._handle.seek_offset(self._offset, os.SEEK_SET)
            data = self._handle.read_buffer(size)
        except (OSError, IOError) as exc:
            data = self._careful(self._offset, size, exc)
        self._offset += len(data)
        return data

    def _careful(self, offset: int, size: int, first: BaseException) -> bytes:
        """Chunk by chunk: what libewf gives, zeros (logged) for what it cannot."""
        out = bytearray()
        end = offset + size
        position = offset
        while position < end:
            piece = min(end, (position // self._chunk + 1) * self._chunk) - position
            try:
                self._handle.seek_offset(position, os.SEEK_SET)
                data = self._handle.read_buffer(piece)
                if len(data) != piece:
                    raise OSError(f"short read ({len(data)} of {piece} bytes)")
            except (OSError, IOError) as exc:
                self._log.add(position, piece, _reason(exc) or _reason(first))
                data = bytes(piece)
            out += data
            position += piece
        return bytes(out)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> None:
        if whence == os.SEEK_CUR:
            offset += self._offset
        elif whence == os.SEEK_END:
            offset += self._size
        if offset < 0:
            raise OSError("seek before the start of the media")
        self._offset = offset

    def get_offset(self) -> int:
        return self._offset

    def get_size(self) -> int:
        return self._size

    def get_media_size(self) -> int:
        return self._size

    def close(self) -> None:
        self._handle.close()

    def __getattr__(self, name: str) -> Any:  # hashes, sector sizes... straight from libewf
        return getattr(self._handle, name)


class TolerantEWFFile(ewf_file_io.EWFFile):
    """dfVFS's EWF file object with the tolerant handle in place of pyewf's."""

    def _OpenFileObject(self, path_spec: Any) -> Any:
        handle = super()._OpenFileObject(path_spec)
        if handle is None:
            return None
        location = getattr(path_spec.parent, "location", None) or "?"
        return _TolerantHandle(handle, damage_log(location))

    def get_size(self) -> int:
        if not self._is_open:
            raise OSError("Not opened.")
        return self._file_object.get_size()


class TolerantEWFResolverHelper(EWFResolverHelper):
    TYPE_INDICATOR = definitions.TYPE_INDICATOR_EWF

    def NewFileObject(self, resolver_context: Any, path_spec: Any) -> TolerantEWFFile:
        return TolerantEWFFile(resolver_context, path_spec)


def install() -> None:
    """Use the tolerant EWF file object for every EWF path spec in this process (idempotent)."""
    current = manager.ResolverHelperManager._resolver_helpers.get(definitions.TYPE_INDICATOR_EWF)
    if isinstance(current, TolerantEWFResolverHelper):
        return
    if current is not None:
        manager.ResolverHelperManager.DeregisterHelper(current)
    manager.ResolverHelperManager.RegisterHelper(TolerantEWFResolverHelper())
