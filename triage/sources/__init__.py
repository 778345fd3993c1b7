"""Evidence sources: what the examiner points triage at, opened read-only, as volumes of files.

Three kinds, one shape: a disk image (through dfVFS: containers, partitions, VSS, BitLocker), a
directory (a mounted image or an already collected triage folder), or a single artifact file.
Each yields `Volume`s; each volume offers a `Tree` that the collector walks. The rest of triage
never knows which kind it was given.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Iterator, Protocol

from triage.files import EvidenceFile


class EvidenceError(Exception):
    """The evidence as a whole cannot be opened (missing, unknown format, corrupt container)."""


class Node(Protocol):
    """A directory entry inside a Tree (the concrete type belongs to the Tree)."""


class Tree(Protocol):
    """A read-only file system view that the collector walks."""

    def root(self) -> Any: ...

    def children(self, node: Any) -> Iterator[tuple[str, Any, bool]]:
        """(name, node, is_directory) for each entry of a directory node, sorted by name."""

    def file(self, node: Any, path: str) -> EvidenceFile: ...


@dataclass
class Volume:
    """One file system that will be searched: partition x snapshot, or a directory or file."""

    id: str  # "p1", "p1/vss2", "vol" (no partition table), "dir", "file", "C"
    partition: str | None = None
    snapshot: str | None = None
    offset: int | None = None
    size: int | None = None
    partition_type: str | None = None
    fs_type: str | None = None
    label: str | None = None
    serial: str | None = None  # volume serial number (hex)
    encryption: str | None = None
    status: str = "processed"  # processed | skipped: <why>
    by_name: bool = False  # loose artifacts (single file, unstructured folder): match file names
    note: str | None = None
    tree: Tree | None = field(default=None, repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """The facts recorded in the case and shown by `triage info` (no live handles)."""
        return {
            "id": self.id,
            "partition": self.partition,
            "snapshot": self.snapshot,
            "offset": self.offset,
            "size": self.size,
            "partition_type": self.partition_type,
            "fs_type": self.fs_type,
            "label": self.label,
            "serial": self.serial,
            "encryption": self.encryption,
            "status": self.status,
            "note": self.note,
        }


@dataclass
class SnapshotInfo:
    volume: str  # the partition it belongs to
    store: str  # vss1...
    created: str | None


@dataclass
class Evidence:
    """An opened evidence item: its kind, layers, volumes and snapshots."""

    path: str
    kind: str  # image | directory | file
    containers: list[str] = field(default_factory=list)  # e.g. ["EWF"], ["QCOW"]
    volume_system: str | None = None  # MBR | GPT | None
    volumes: list[Volume] = field(default_factory=list)
    snapshots: list[SnapshotInfo] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)  # every file that makes up the evidence
    media_path_spec: Any = field(default=None, repr=False)  # dfVFS spec of the media stream
    media_size: int | None = None
    # byte ranges of the media that could not be read (an E01 read as far as it goes):
    # triage.sources.tolerant_ewf.DamageLog, None where reads cannot be partial
    damage: Any = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """How events name their evidence: the file name, stable wherever the image is copied."""
        return os.path.basename(os.path.normpath(self.path))

    def processable(self) -> list[Volume]:
        return [v for v in self.volumes if v.tree is not None and v.status == "processed"]


@dataclass
class SourceOptions:
    vss: str = "none"  # none | all
    recovery_password: str | None = None
    password: str | None = None
    startup_key: str | None = None


def open_evidence(path: str, options: SourceOptions | None = None) -> Evidence:
    """Open anything the examiner can point at; raise EvidenceError with one clear line."""
    options = options or SourceOptions()
    if not os.path.exists(path):
        raise EvidenceError(f"no such file or directory: {path}")
    if os.path.isdir(path):
        from triage.sources.directory import open_directory

        return open_directory(path)
    from triage.sources.image import open_image

    return open_image(path, options)
