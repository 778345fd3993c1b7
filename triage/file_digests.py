"""Digests of the artifact files too large to read into memory: streamed, sparse-aware, and
computed ahead of their parsing on a reader of their own.

Why ahead: every event hash includes its file's SHA-256, so a file's events wait for its
digests. A file read into memory is hashed on another thread while it is parsed
(triage/extraction.py); the larger ones (a 1 GiB $MFT, a 500 MiB Security.evtx, the USN
journal) are streamed from the image, and hashing them in the main thread before parsing added
their whole read-and-hash time to the run. `HashAhead` hashes them on one thread from the
moment the volume's files are collected, in match order, while the files before them are
parsed: by their turn the digests are usually known, and the parser never waits for long.

Why a reader of its own: dfVFS file objects, and the libyal objects under them, keep a
position and are not safe for two threads; the hashing thread reads through the same file
system opened again in a resolver context of its own (`DfvfsTree.independent`), down to its
own handle on the image file, so the parsers' reads and its reads never share state. Local
files (directory evidence) open a handle of their own per call already.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Callable

from triage import integrity
from triage.collect import Match, find_again


class Cancelled(Exception):
    """The run stopped before this file's turn: its digests are not needed."""


def has_sparse_runs(f: Any) -> bool:
    extents = getattr(f, "extents", None)
    return callable(extents) and any(sparse for _, _, sparse in extents())


def allocated_bytes(f: Any) -> int:
    """The bytes of a sparse stream's allocated runs: what its digests cover."""
    return sum(size for _, size, sparse in f.extents() if not sparse)


def hash_allocated(f: Any, stop: threading.Event | None = None) -> tuple[dict[str, str], int]:
    """Digests of a sparse stream's allocated runs only (a $J is gigabytes of sparse zeros)."""
    hasher = integrity.MultiHasher()
    with f.open() as handle:
        for offset, size, sparse in f.extents():
            if sparse:
                continue
            handle.seek(offset)
            remaining = size
            while remaining > 0:
                if stop is not None and stop.is_set():
                    raise Cancelled()
                chunk = handle.read(min(integrity.CHUNK, remaining))
                if not chunk:
                    break
                hasher.update(chunk)
                remaining -= len(chunk)
    return hasher.hexdigests(), hasher.size


def stream_digests(f: Any, stop: threading.Event | None = None) -> dict[str, str]:
    """MD5, SHA-1 and SHA-256 of a file read in chunks (its allocated runs if sparse)."""
    if has_sparse_runs(f):
        return hash_allocated(f, stop)[0]

    def check(_: int) -> None:
        if stop is not None and stop.is_set():
            raise Cancelled()

    with f.open() as handle:
        return integrity.hash_stream(handle, check)[0]


def reader_apart(f: Any, independent_tree: Callable[[], Any]) -> Any:
    """The same file, readable on another thread while `f` is read: `f` itself when each
    open() is a handle of its own (a local file), else found again in `independent_tree()`.
    Raises OSError when it cannot be had, or is not the same size (then it is not the same)."""
    if getattr(f, "opens_apart", False):
        return f
    tree = independent_tree()
    locator = getattr(f, "locator", None)
    again = find_again(tree, f.path, locator() if callable(locator) else None)
    if again is None:
        raise OSError(f"not found again by the hashing reader: {f.path}")
    if again.size != f.size:
        raise OSError(f"found again with another size ({again.size}, not {f.size}): {f.path}")
    return again


class HashAhead:
    """The digests of one volume's large files, hashed on a thread of their own, in order.

    `take(match)` gives the file's Future (None when it is not hashed ahead); a Future that
    fails (the file could not be found or read by the second reader) leaves the hashing to
    the caller's own reader. `close()` cancels what was not started and stops the file being
    hashed at its next chunk."""

    def __init__(self, tree: Any, matches: list[Match], wanted: Callable[[Match], bool]):
        self._futures: dict[int, Future[dict[str, str]]] = {}
        self._stop = threading.Event()
        self._executor: ThreadPoolExecutor | None = None
        self._tree = tree
        self._apart: Any = None
        chosen = [m for m in matches if wanted(m)]
        if not chosen or tree is None:
            return
        if not hasattr(tree, "independent") and \
                not all(getattr(m.file, "opens_apart", False) for m in chosen):
            return  # no second reader to be had: hashed by the caller, as it reads
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-hash-ahead")
        for match in chosen:
            self._futures[id(match)] = self._executor.submit(self._digests, match)

    def _independent_tree(self) -> Any:
        if self._apart is None:  # opened on the hashing thread, used by it alone
            self._apart = self._tree.independent()
        return self._apart

    def _digests(self, match: Match) -> dict[str, str]:
        if self._stop.is_set():
            raise Cancelled()
        return stream_digests(reader_apart(match.file, self._independent_tree), self._stop)

    def take(self, match: Match) -> "Future[dict[str, str]] | None":
        return self._futures.pop(id(match), None)

    def close(self) -> None:
        self._stop.set()
        for future in self._futures.values():
            future.cancel()
        self._futures.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        self._apart = None

    def __enter__(self) -> "HashAhead":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
