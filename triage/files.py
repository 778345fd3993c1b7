"""One evidence file as an extractor sees it, wherever it lives (image, directory, loose file).

Why a small interface of our own: extractors must not know whether a file came from an E01
through dfVFS or from a folder of collected artifacts, and tests must be able to hand them a
plain local file. The engine reads a file through `open()`; `sibling()` lets an extractor pair
files that belong together (a Recycle Bin `$I` with its `$R`, a hive with its `.LOG1`).
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import BinaryIO, Callable, Protocol


class EvidenceFile(Protocol):
    """Read-only view of one file in a volume."""

    path: str  # path inside the volume, '/'-separated, as stored on disk (case kept)
    size: int
    inode: int | None  # MFT entry / inode number where the file system has one

    @property
    def name(self) -> str: ...

    def open(self) -> BinaryIO:
        """A seekable, read-only file object over the file's (default) data stream."""

    def read(self, limit: int | None = None) -> bytes:
        """The content, or its first `limit` bytes."""

    def sibling(self, name: str) -> "EvidenceFile | None":
        """A file in the same directory, matched case-insensitively, or None."""

    def sibling_folder(self, name: str) -> "list[EvidenceFile] | None":
        """Every file under a folder of that name beside this file (recursively), or None when
        there is no such folder. For a deleted folder's `$R` and the like."""


def basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class LocalFile:
    """A file on the examiner's own file system (directory evidence, single-file evidence, tests)."""

    local_path: str
    path: str = ""
    inode: int | None = None  # a host file's inode is not evidence provenance: None unless given
    size: int = 0
    opens_apart = True  # each open() is an OS handle of its own: two threads may read it at once

    def __post_init__(self) -> None:
        st = os.stat(self.local_path)
        self.size = st.st_size
        if not self.path:
            self.path = "/" + os.path.basename(self.local_path)

    @property
    def name(self) -> str:
        return basename(self.path)

    def open(self) -> BinaryIO:
        return open(self.local_path, "rb")

    def read(self, limit: int | None = None) -> bytes:
        with open(self.local_path, "rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def sibling(self, name: str) -> "LocalFile | None":
        folder = os.path.dirname(self.local_path)
        wanted = name.lower()
        try:
            entries = os.listdir(folder)
        except OSError:
            return None
        for entry in sorted(entries):
            if entry.lower() == wanted and os.path.isfile(os.path.join(folder, entry)):
                parent = self.path.rsplit("/", 1)[0]
                return LocalFile(os.path.join(folder, entry), path=f"{parent}/{entry}")
        return None

    def sibling_folder(self, name: str) -> "list[LocalFile] | None":
        folder = os.path.dirname(self.local_path)
        parent = self.path.rsplit("/", 1)[0]
        for entry in sorted(os.listdir(folder)):
            full = os.path.join(folder, entry)
            if entry.lower() == name.lower() and os.path.isdir(full):
                found = []
                for root, dirs, files in os.walk(full):
                    dirs.sort()
                    rel = os.path.relpath(root, folder).replace(os.sep, "/")
                    found.extend(LocalFile(os.path.join(root, f), path=f"{parent}/{rel}/{f}")
                                 for f in sorted(files))
                return found
        return None


@dataclass
class BufferedFile:
    """A file whose bytes the engine already holds (read once, hashed once, parsed from memory).

    Wraps another EvidenceFile so provenance and `sibling()` still come from the original.
    """

    inner: EvidenceFile
    content: bytes

    @property
    def path(self) -> str:
        return self.inner.path

    @property
    def inode(self) -> int | None:
        return self.inner.inode

    @property
    def size(self) -> int:
        return len(self.content)

    @property
    def name(self) -> str:
        return basename(self.inner.path)

    def open(self) -> BinaryIO:
        return io.BytesIO(self.content)

    def read(self, limit: int | None = None) -> bytes:
        return self.content if limit is None else self.content[:limit]

    def sibling(self, name: str) -> "EvidenceFile | None":
        return self.inner.sibling(name)

    def sibling_folder(self, name: str) -> "list[EvidenceFile] | None":
        return self.inner.sibling_folder(name)

    def __getattr__(self, name: str):
        """Anything else the original offers (a stream's `extents()`, a volume's `fs_type`)."""
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


Opener = Callable[[], BinaryIO]
