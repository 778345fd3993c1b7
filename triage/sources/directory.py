"""Directory and single-file evidence: a mounted image, a collected triage folder, one artifact.

A collected folder often keeps one sub-folder per drive letter (e.g. `C/Windows/...`, as
collection tools write it); each such folder becomes its own volume named by the letter, so
that paths inside it read as they did on the seized system.
"""
from __future__ import annotations

import os
from typing import Iterator

from triage.files import LocalFile
from triage.sources import Evidence, Volume

_SYSTEM_MARKERS = {"windows", "users", "documents and settings", "$recycle.bin", "recycler"}


class OsTree:
    """A Tree over a local directory; nodes are absolute local paths."""

    def __init__(self, root: str):
        self._root = os.path.abspath(root)

    def root(self) -> str:
        return self._root

    def children(self, node: str) -> Iterator[tuple[str, str, bool]]:
        try:
            entries = sorted(os.scandir(node), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
                if not is_dir and not entry.is_file(follow_symlinks=False):
                    continue  # sockets, devices, symlinks: never evidence files
            except OSError:
                continue
            yield entry.name, entry.path, is_dir

    def file(self, node: str, path: str) -> LocalFile:
        return LocalFile(node, path=path)


def _looks_like_system_root(path: str) -> bool:
    try:
        names = {n.lower() for n in os.listdir(path)}
    except OSError:
        return False
    return bool(names & _SYSTEM_MARKERS)


def open_directory(path: str) -> Evidence:
    evidence = Evidence(path=path, kind="directory")
    drive_dirs = []
    if not _looks_like_system_root(path):
        for name in sorted(os.listdir(path)):
            full = os.path.join(path, name)
            if len(name) == 1 and name.isalpha() and os.path.isdir(full) and _looks_like_system_root(full):
                drive_dirs.append((name.upper(), full))
    if drive_dirs:
        for letter, full in drive_dirs:
            evidence.volumes.append(Volume(id=letter, fs_type="directory", tree=OsTree(full)))
    else:
        loose = not _looks_like_system_root(path)
        evidence.volumes.append(Volume(id="dir", fs_type="directory", tree=OsTree(path),
                                       by_name=loose,
                                       note="loose files: matched by file name" if loose else None))
    return evidence


class SingleFileTree:
    """A Tree holding one file at the root; the collector matches it by file name only."""

    def __init__(self, local_path: str):
        self.local_path = os.path.abspath(local_path)

    def root(self) -> str:
        return ""

    def children(self, node: str) -> Iterator[tuple[str, str, bool]]:
        if node == "":
            yield os.path.basename(self.local_path), self.local_path, False

    def file(self, node: str, path: str) -> LocalFile:
        return LocalFile(node, path=path)


def open_single_file(path: str) -> Evidence:
    evidence = Evidence(path=path, kind="file", segments=[os.path.abspath(path)])
    evidence.volumes.append(Volume(id="file", fs_type="file", tree=SingleFileTree(path), by_name=True))
    return evidence
