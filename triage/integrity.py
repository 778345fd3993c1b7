"""Hashes that make a case verifiable: file digests, the per-event hash and the timeline chain.

Why a chain: an event hash proves a row is unchanged, but not that no row was deleted or that
the order was kept. Each chain link hashes the previous link with the next event hash over the
sorted timeline, so the head (recorded in manifest.json) commits to every row and its place.
The canonical serialization is JSON with sorted keys, no spaces and UTF-8: reproducible by
anyone with a JSON library, which a report reviewer may need to do by hand.
"""
from __future__ import annotations

import hashlib
import json
import json.encoder
import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, BinaryIO, Iterable

CHAIN_SEED = hashlib.sha256(b"triage timeline chain v1").hexdigest()
CHUNK = 1 << 20

# The exported field names, in the order they are written (the JSONL contract).
EVENT_FIELDS = ("timestamp", "timestamp_desc", "artifact", "family", "extractor", "message",
                "user", "host", "source", "data")
SOURCE_FIELDS = ("evidence", "volume", "path", "inode", "sha256")


def canonical(value: Any) -> str:
    """Canonical JSON: sorted keys, no spaces, UTF-8 kept. Strings, integers and None (most
    event fields) are encoded directly with the json module's own C string encoder, which is
    what json.dumps ends in for them: the same text, without its per-call set-up."""
    kind = value.__class__
    if kind is str:
        return _encode_string(value)
    if value is None:
        return "null"
    if kind is int:
        return int.__repr__(value)
    return _ENCODER.encode(value)


# What json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False) builds on
# every call, built once (the same C encoder, the same text).
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_encode_string = json.encoder.encode_basestring  # the C encoder (ensure_ascii=False)


_SORTED_FIELDS = tuple(sorted(EVENT_FIELDS))


def event_hash(record: dict[str, Any]) -> str:
    """SHA-256 over the canonical form of an event's fields (never its own hash).

    Equal to hashing canonical({field: record[field]}); built piecewise so that the data
    serialisation, the costliest part, is done once (`data_json` when the caller has it).
    Many events of one file: FileEventHasher gives the same hash with less work.
    """
    parts = []
    for key in _SORTED_FIELDS:
        if key == "data" and "data_json" in record:
            text = record["data_json"]
        else:
            text = canonical(record.get(key))
        parts.append(f'"{key}":{text}')
    return hashlib.sha256(("{" + ",".join(parts) + "}").encode("utf-8")).hexdigest()


class FileEventHasher:
    """`event_hash` for the many events of one artifact file: the text of the fields they all
    share (artifact, family, extractor, host, source) is composed once, around the slots of
    the fields that differ. Gives exactly event_hash(record) (held equal by a test)."""

    def __init__(self, artifact: str, family: str, extractor: str, host: str | None,
                 source: dict[str, Any]):
        self._head = f'{{"artifact":{canonical(artifact)},"data":'
        self._middle = (f',"extractor":{canonical(extractor)},"family":{canonical(family)},'
                        f'"host":{canonical(host)},"message":')
        self._tail = f',"source":{canonical(source)},"timestamp":'

    def __call__(self, timestamp: str | None, timestamp_desc: str, message: str,
                 user: str | None, data_json: str) -> str:
        text = (f'{self._head}{data_json}{self._middle}{canonical(message)}{self._tail}'
                f'{canonical(timestamp)},"timestamp_desc":{canonical(timestamp_desc)},'
                f'"user":{canonical(user)}}}')
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_next(previous: str, ev_hash: str) -> str:
    return hashlib.sha256((previous + ev_hash).encode("ascii")).hexdigest()


def chain_head(hashes: Iterable[str]) -> str:
    link = CHAIN_SEED
    for value in hashes:
        link = chain_next(link, value)
    return link


_POOL: ThreadPoolExecutor | None = None
PARALLEL_MIN = 256 * 1024  # below this, a thread hand-off costs more than it saves


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-hash")
    return _POOL


class MultiHasher:
    """MD5, SHA-1 and SHA-256 in one pass over the bytes.

    Why a thread: hashlib releases the GIL on large buffers, so MD5 (the slowest of the three)
    runs on another core while SHA-1 and SHA-256 run here; on a multi-core machine the three
    cost about as much as MD5 alone.
    """

    def __init__(self) -> None:
        self._hashes = {"md5": hashlib.md5(), "sha1": hashlib.sha1(), "sha256": hashlib.sha256()}
        self.size = 0

    def update(self, data: bytes) -> None:
        self.size += len(data)
        if len(data) >= PARALLEL_MIN and (os.cpu_count() or 1) > 1:
            md5 = _pool().submit(self._hashes["md5"].update, data)
            self._hashes["sha1"].update(data)
            self._hashes["sha256"].update(data)
            md5.result()
            return
        for h in self._hashes.values():
            h.update(data)

    def hexdigests(self) -> dict[str, str]:
        return {name: h.hexdigest() for name, h in self._hashes.items()}


def hash_bytes(data: bytes) -> dict[str, str]:
    hasher = MultiHasher()
    hasher.update(data)
    return hasher.hexdigests()


_BACKGROUND: ThreadPoolExecutor | None = None


def _background() -> ThreadPoolExecutor:
    """One thread for hashing beside the main work (hashlib releases the GIL): jobs run one
    after another, in the order given."""
    global _BACKGROUND
    if _BACKGROUND is None:
        _BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-background-hash")
    return _BACKGROUND


def hash_bytes_in_background(data: bytes) -> "Future[dict[str, str]]":
    """hash_bytes on the background hashing thread: for a file read into memory, hashed while
    it is parsed. One file at a time: the run reads files one by one."""
    return _background().submit(hash_bytes, data)


def hash_stream(handle: BinaryIO, progress: Any = None) -> tuple[dict[str, str], int]:
    """Digest a file object from its current position in 1 MiB chunks; returns (digests, size)."""
    hasher = MultiHasher()
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        hasher.update(chunk)
        if progress is not None:
            progress(len(chunk))
    return hasher.hexdigests(), hasher.size


def sha256_evidence(f: Any) -> tuple[int, str]:
    """(bytes read, SHA-256 hex) of an evidence file's content (anything with `open()`),
    streamed in 1 MiB chunks: for files an extractor hashes besides the one it was given."""
    digest = hashlib.sha256()
    total = 0
    with f.open() as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
            total += len(chunk)
    return total, digest.hexdigest()


def sha256_file(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashedTextWriter:
    """A UTF-8 text file whose SHA-256 is computed as it is written, not read back afterwards.

    Text is gathered into blocks of about 1 MiB; each block is written and handed to a hashing
    thread of its own (hashlib releases the GIL), so the digest of a multi-gigabyte timeline
    costs the thread composing its lines almost nothing. Blocks are hashed in the order they
    are written (one thread, first in first out); at most a few wait, so memory stays bounded.
    """

    BLOCK = 1 << 20
    MAX_WAITING = 8

    def __init__(self, path: str):
        self._file = open(path, "wb")
        self._parts: list[str] = []
        self._pending = 0
        self._digest = hashlib.sha256()
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="triage-output-hash")
        self._waiting: list[Future[None]] = []
        self.size = 0

    def write(self, text: str) -> None:
        self._parts.append(text)
        self._pending += len(text)
        if self._pending >= self.BLOCK:
            self._flush()

    def _flush(self) -> None:
        if not self._parts:
            return
        data = "".join(self._parts).encode("utf-8")
        self._parts.clear()
        self._pending = 0
        self._file.write(data)
        self.size += len(data)
        self._waiting.append(self._thread.submit(self._digest.update, data))
        if len(self._waiting) > self.MAX_WAITING:
            self._waiting.pop(0).result()

    def close(self) -> tuple[str, int]:
        """Write what is left; returns (SHA-256 hex, size in bytes) of the whole file."""
        try:
            self._flush()
            for waiting in self._waiting:
                waiting.result()
        finally:
            self._thread.shutdown(wait=True)
            self._file.close()
        return self._digest.hexdigest(), self.size

    def __enter__(self) -> "HashedTextWriter":
        return self

    def __exit__(self, *exc: Any) -> None:
        if not self._file.closed:
            if exc[0] is None:
                self.close()
            else:  # an error while writing: release the thread and the file, keep the error
                self._thread.shutdown(wait=True)
                self._file.close()


def sha256_file_in_background(path: str) -> "Future[str]":
    """sha256_file on the background hashing thread: for a finished file (case.sqlite)
    hashed while other work runs."""
    return _background().submit(sha256_file, path)
