"""Export deleted files whose data has not been reused, with a hashed recovery log.

Why a separate command and not part of `triage run`: recovery writes evidence copies, which a
timeline run never does, and an examiner asks for it deliberately, with a filter. Nothing in the
evidence is written: every volume is read through dfVFS, read-only.

What is a candidate:
  NTFS (through The Sleuth Kit, pytsk3, over the partition's bytes as dfVFS gives them): every
  MFT record that is not in use and still holds a $FILE_NAME (a deleted file whose record was
  not reused), found by reading every record of the MFT, so files that no directory index names
  any more are found too. Its path is rebuilt from the $FILE_NAME parent references (a parent
  record that was reused since makes the file an orphan: `/$OrphanFiles/<name>`). Only the
  unnamed $DATA stream is exported. Deleted names that survive only in directory-index slack,
  whose record now belongs to another file, are not candidates: their content is unknown.
  FAT12/16/32 and exFAT (triage.fatfs): every deleted directory entry of a file, including the
  files inside deleted folders.

Is the data still there? A deleted file's clusters are free when it is deleted; if the
allocation map now marks any of them in use, another file took them:
  NTFS: the data runs of the $DATA attribute, clusters holding the file's bytes only, against
  the volume's $Bitmap (MFT record 6, read by us). A resident $DATA lives in the MFT record
  itself: status "resident", exported.
  FAT12/16/32: deletion frees the FAT chain, so the clusters are ASSUMED contiguous from the
  first cluster (`contiguous_assumed`: a file that was fragmented comes back wrong even when
  every cluster is free); in use = a non-zero FAT entry.
  exFAT: a NoFatChain file is contiguous for certain; otherwise the FAT chain, when it is still
  intact (exactly the clusters the size needs, ending with end-of-chain) is used, else
  contiguous is assumed; in use = the allocation bitmap.
A free cluster may still have been used and freed again since the deletion: "recovered" means
"no file holds these clusters now", not "proved identical".

Statuses: recovered (exported), resident (NTFS data in the MFT record, exported), allocated
(a live file selected with --include-allocated or --inode, exported as a copy), overwritten
(every cluster is in use by another file: not exported), partial (some are: not exported),
empty (size 0: nothing to export), unrecoverable (no data attribute, clusters outside the
volume, broken allocated chain; `reason` says which), error (reading failed).

Output: DIR/<volume>/<original path> (each name made safe for Windows and POSIX: no `..`, no
absolute paths, `<>:"/\\|?*`, control characters and bidirectional controls replaced by `_`, reserved device names
prefixed, trailing dots and spaces removed); a name already taken gets " (entry N)" and then a
number, so nothing is ever overwritten. The log DIR/recovery_log.jsonl (one JSON object per
candidate) and DIR/recovery_log.csv (the same rows) record evidence, volume, file_system, path,
inode (NTFS MFT entry; FAT/exFAT: byte offset of the directory entry in the volume, see
inode_kind), size, deleted, status, reason, exported_as (relative to DIR), sha256 and md5 of the
exported bytes, clusters, clusters_in_use, contiguous_assumed and chain.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Callable, Iterator

from triage import fatfs
from triage.integrity import sha256_file
from triage.engine import UsageError
from triage.sources import Evidence, SourceOptions, Volume, open_evidence

LOG_FIELDS = ("evidence", "volume", "file_system", "path", "inode", "inode_kind", "size",
              "deleted", "status", "reason", "exported_as", "sha256", "md5", "clusters",
              "clusters_in_use", "contiguous_assumed", "chain")
EXPORTED = {"recovered", "resident", "allocated"}
CHUNK = 1 << 20
NTFS_MAX_DEPTH = 256
# Windows-illegal characters, control characters and the Unicode bidirectional controls (a
# right-to-left override makes "invoice\u202efdp.exe" show as "invoiceexe.pdf").
_ILLEGAL = re.compile('[<>:"/\\\\|?*\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)


@dataclass
class RecoverOptions:
    evidence: str
    output: str
    deleted_only: bool = True
    paths: tuple[str, ...] = ()
    inodes: tuple[int, ...] = ()
    sources: SourceOptions = field(default_factory=SourceOptions)
    force: bool = False


@dataclass
class Candidate:
    """One file found on a volume, with what is known about its data."""

    path: str
    inode: int
    inode_kind: str
    size: int
    deleted: bool
    status: str  # provisional: recovered / resident / allocated / overwritten / ...
    reason: str | None = None
    clusters: int | None = None
    clusters_in_use: int | None = None
    contiguous_assumed: bool | None = None
    chain: str | None = None
    reader: Callable[[], Iterator[bytes]] | None = field(default=None, repr=False)


@dataclass
class RecoveryResult:
    output: str
    records: list[dict[str, Any]] = field(default_factory=list)
    log_jsonl: str = ""
    log_csv: str = ""
    log_sha256: str = ""
    csv_sha256: str = ""
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for record in self.records:
            out[record["status"]] = out.get(record["status"], 0) + 1
        return out


# -- safe names -------------------------------------------------------------------------------


def safe_component(name: str) -> str:
    """One path component made safe to create on Windows and POSIX."""
    text = _ILLEGAL.sub("_", name).rstrip(" .") or "_"  # "." and ".." end up as "_"
    if _RESERVED.match(text):
        text = "_" + text
    while len(text.encode("utf-8")) > 240:
        text = text[:-1]
    return text


def safe_relative(volume_id: str, path: str) -> str:
    parts = [safe_component(volume_id.replace("/", "_"))]
    parts += [safe_component(p) for p in path.split("/") if p]
    return os.path.join(*parts)


# -- the command ------------------------------------------------------------------------------


def check_output(options: Any) -> None:
    """The export folder (`options.output`) may be used: a folder, empty unless `options.force`,
    never inside folder evidence (`options.evidence`). Shared by every exporting command."""
    out = options.output
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"{out}: exists and is not a folder")
    if os.path.isdir(out) and os.listdir(out) and not options.force:
        raise UsageError(f"{out}: folder is not empty (use --force to add to it; nothing in it "
                         "is ever overwritten)")
    evidence = os.path.abspath(options.evidence)
    if os.path.isdir(evidence):
        target = os.path.abspath(out)
        if target == evidence or target.startswith(evidence.rstrip(os.sep) + os.sep):
            raise UsageError(f"{out}: the output folder must not be inside the evidence")


def free_name(folder: str, stem: str, suffix: str) -> str:
    """A path in `folder` that does not exist yet: stem+suffix, else stem-2+suffix, ..."""
    candidate = os.path.join(folder, stem + suffix)
    number = 2
    while os.path.exists(candidate):
        candidate = os.path.join(folder, f"{stem}-{number}{suffix}")
        number += 1
    return candidate


def recover(options: RecoverOptions,
            on_record: Callable[[dict[str, Any]], None] | None = None) -> RecoveryResult:
    """Run a recovery; raise UsageError / EvidenceError for the caller to map to exit codes."""
    if not options.deleted_only and not options.paths and not options.inodes:
        raise UsageError("--include-allocated needs --path or --inode (it would copy every "
                         "file of the evidence)")
    check_output(options)
    evidence = open_evidence(options.evidence, options.sources)
    os.makedirs(options.output, exist_ok=True)
    result = RecoveryResult(output=options.output)
    result.log_jsonl = free_name(options.output, "recovery_log", ".jsonl")
    result.log_csv = free_name(options.output, "recovery_log", ".csv")
    with open(result.log_jsonl, "x", encoding="utf-8", newline="\n") as log:
        for volume in evidence.volumes:
            try:
                for candidate in _volume_candidates(evidence, volume, options, result):
                    record = _handle(evidence, volume, candidate, options, result)
                    log.write(json.dumps(record, ensure_ascii=False, sort_keys=False) + "\n")
                    result.records.append(record)
                    if on_record:
                        on_record(record)
            except Exception as exc:  # one damaged volume never stops the others
                text = str(exc) if isinstance(exc, OSError) else f"{type(exc).__name__}: {exc}"
                result.errors.append(f"volume {volume.id}: {text}")
    with open(result.log_csv, "x", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_FIELDS)
        writer.writeheader()
        for record in result.records:
            writer.writerow({k: "" if record[k] is None else record[k] for k in LOG_FIELDS})
    result.log_sha256 = sha256_file(result.log_jsonl)
    result.csv_sha256 = sha256_file(result.log_csv)
    return result


def _selected(candidate: Candidate, options: RecoverOptions) -> bool:
    if options.paths:
        lower = candidate.path.lower()
        if not any(fnmatchcase(lower, glob.lower()) for glob in options.paths):
            return False
    if options.inodes:
        return candidate.inode in options.inodes
    return candidate.deleted or not options.deleted_only


def _wants_allocated(options: RecoverOptions) -> bool:
    return bool(options.inodes) or not options.deleted_only


def _handle(evidence: Evidence, volume: Volume, candidate: Candidate, options: RecoverOptions,
            result: RecoveryResult) -> dict[str, Any]:
    record: dict[str, Any] = {
        "evidence": evidence.name, "volume": volume.id, "file_system": volume.fs_type,
        "path": candidate.path, "inode": candidate.inode, "inode_kind": candidate.inode_kind,
        "size": candidate.size, "deleted": candidate.deleted, "status": candidate.status,
        "reason": candidate.reason, "exported_as": None, "sha256": None, "md5": None,
        "clusters": candidate.clusters, "clusters_in_use": candidate.clusters_in_use,
        "contiguous_assumed": candidate.contiguous_assumed, "chain": candidate.chain,
    }
    if candidate.status not in EXPORTED or candidate.reader is None:
        return record
    relative = safe_relative(volume.id, candidate.path)
    target = os.path.join(options.output, relative)
    folder, name = os.path.split(target)
    os.makedirs(folder, exist_ok=True)
    stem, suffix = os.path.splitext(name)
    if os.path.exists(target):
        target = free_name(folder, f"{stem} (entry {candidate.inode})", suffix)
    sha, md5 = hashlib.sha256(), hashlib.md5()
    written = 0
    try:
        with open(target, "xb") as out:
            for chunk in candidate.reader():
                out.write(chunk)
                sha.update(chunk)
                md5.update(chunk)
                written += len(chunk)
    except Exception as exc:
        record.update(status="error", reason=f"reading the data failed: {type(exc).__name__}: "
                      f"{exc}; the partial copy was removed")
        result.errors.append(f"{volume.id}:{candidate.path}: {record['reason']}")
        try:
            os.remove(target)
        except OSError:
            pass
        return record
    if written != candidate.size:
        record["reason"] = (f"{written} of {candidate.size} bytes could be read "
                            "(the volume ends early?)")
    record.update(exported_as=os.path.relpath(target, options.output).replace(os.sep, "/"),
                  sha256=sha.hexdigest(), md5=md5.hexdigest())
    return record


def _volume_candidates(evidence: Evidence, volume: Volume, options: RecoverOptions,
                       result: RecoveryResult) -> Iterator[Candidate]:
    if volume.tree is None or volume.status != "processed":
        result.notes.append(f"volume {volume.id}: {volume.status}")
        return
    if volume.note:
        result.notes.append(f"volume {volume.id}: {volume.note}")
    opener = getattr(volume.tree, "volume_file", None)
    raw = opener() if opener else None
    if raw is None:
        result.notes.append(f"volume {volume.id}: no raw volume (a folder or a single file "
                            "holds no deleted files)")
        return
    handle = raw.open()
    handle.seek(0)
    boot = handle.read(512)
    if boot[3:11] == b"NTFS    ":
        for candidate in _ntfs_candidates(handle, raw.size, options, result, volume.id):
            if _selected(candidate, options):
                yield candidate
        return
    try:
        fat = fatfs.open_volume(handle, raw.size or None)
    except fatfs.FatError as exc:
        result.errors.append(f"volume {volume.id}: FAT/exFAT volume unreadable: {exc}")
        return
    if fat is None:
        result.notes.append(f"volume {volume.id}: {volume.fs_type or 'this file system'} is not "
                            "supported by recover (NTFS, FAT12/16/32 and exFAT are)")
        return
    for candidate in _fat_candidates(fat, options, result, volume.id):
        if _selected(candidate, options):
            yield candidate


# -- FAT / exFAT ------------------------------------------------------------------------------


def _fat_candidates(volume: fatfs.FatVolume, options: RecoverOptions, result: RecoveryResult,
                    volume_id: str) -> Iterator[Candidate]:
    warned: set[str] = set()

    def warn(message: str) -> None:
        if message not in warned:
            warned.add(message)
            result.notes.append(f"volume {volume_id}: {message}")

    want_allocated = _wants_allocated(options)
    for entry in volume.walk(warn):
        if entry.is_dir or (not entry.deleted and not want_allocated):
            continue
        yield _fat_candidate(volume, entry)
    if volume.bitmap_problem:
        result.errors.append(f"volume {volume_id}: exFAT allocation bitmap: "
                             f"{volume.bitmap_problem}")


def _fat_candidate(volume: fatfs.FatVolume, entry: fatfs.FatEntry) -> Candidate:
    candidate = Candidate(path=entry.path, inode=entry.entry_offset, inode_kind="entry_offset",
                          size=entry.size, deleted=entry.deleted, status="recovered")
    if entry.size == 0:
        candidate.status = "empty"
        return candidate
    needed = -(-entry.size // volume.cluster_size)
    candidate.clusters = needed
    first = entry.first_cluster
    if not volume.valid_cluster(first):
        candidate.status = "unrecoverable"
        candidate.reason = f"first cluster {first} is outside the volume"
        return candidate
    exfat = volume.kind == "exFAT"
    if not entry.deleted:
        candidate.status = "allocated"
        if exfat and entry.no_fat_chain:
            clusters, problem = _contiguous(volume, first, needed)
            candidate.chain = "contiguous (NoFatChain)"
        else:
            clusters, problem = volume.chain(first, needed)
            candidate.chain = "FAT chain"
            if not problem and len(clusters) < needed:
                problem = f"the FAT chain ends after {len(clusters)} of {needed} clusters"
        if problem:
            candidate.status = "unrecoverable"
            candidate.reason = problem
            return candidate
        candidate.clusters_in_use = 0
        candidate.contiguous_assumed = False
        candidate.reader = lambda: volume.iter_data(clusters, entry.size)
        return candidate
    clusters = None
    if exfat and entry.no_fat_chain:
        candidate.chain = "contiguous (NoFatChain)"
        candidate.contiguous_assumed = False
    elif exfat:
        clusters = _intact_chain(volume, first, needed)
        if clusters is not None:
            candidate.chain = "FAT chain"
            candidate.contiguous_assumed = False
    if clusters is None:
        if candidate.chain is None:
            candidate.chain = "contiguous (assumed)"
            candidate.contiguous_assumed = True
        clusters, problem = _contiguous(volume, first, needed)
        if problem:
            candidate.status = "unrecoverable"
            candidate.reason = problem
            return candidate
    in_use = sum(1 for c in clusters if volume.is_allocated(c))
    candidate.clusters_in_use = in_use
    if in_use == needed:
        candidate.status = "overwritten"
        candidate.reason = f"all {needed} clusters are in use by other files"
    elif in_use:
        candidate.status = "partial"
        candidate.reason = f"{in_use} of {needed} clusters are in use by other files"
    else:
        candidate.reader = lambda: volume.iter_data(clusters, entry.size)
    return candidate


def _contiguous(volume: fatfs.FatVolume, first: int, count: int) -> tuple[list[int], str | None]:
    if first + count - 1 > volume.max_cluster:
        return [], (f"{count} clusters from {first} run past the end of the volume "
                    f"(last cluster {volume.max_cluster})")
    return list(range(first, first + count)), None


def _intact_chain(volume: fatfs.FatVolume, first: int, count: int) -> list[int] | None:
    """exFAT: a deleted file's FAT chain when it still spells exactly `count` clusters."""
    try:
        clusters, problem = volume.chain(first, count)
        if problem or len(clusters) != count:
            return None
        return clusters if volume._end_of_chain(volume.fat_entry(clusters[-1])) else None
    except fatfs.FatError:
        return None


# -- NTFS -------------------------------------------------------------------------------------


def _ntfs_candidates(handle: Any, size: int, options: RecoverOptions, result: RecoveryResult,
                     volume_id: str) -> Iterator[Candidate]:
    import pytsk3

    reader = _NtfsReader(pytsk3, handle, size)
    if options.inodes:
        numbers: Any = sorted(set(options.inodes))
    else:
        numbers = range(reader.fs.info.first_inum, reader.fs.info.last_inum + 1)
    want_allocated = _wants_allocated(options)
    for number in numbers:
        try:
            candidate = reader.candidate(number, want_allocated)
        except Exception as exc:
            if options.inodes:
                result.errors.append(f"volume {volume_id}: MFT entry {number}: {exc}")
            continue
        if candidate is not None:
            yield candidate
    for message in reader.problems:
        result.notes.append(f"volume {volume_id}: {message}")


class _NtfsReader:
    def __init__(self, tsk: Any, handle: Any, size: int):
        self.tsk = tsk

        class _Image(tsk.Img_Info):  # type: ignore[misc, name-defined]
            def __init__(self, inner: Any, length: int):
                self._inner = inner
                self._length = length
                super().__init__(url="", type=tsk.TSK_IMG_TYPE_EXTERNAL)

            def read(self, offset: int, length: int) -> bytes:
                self._inner.seek(offset)
                return self._inner.read(length)

            def get_size(self) -> int:
                return self._length

            def close(self) -> None:
                pass

        self.image = _Image(handle, size)
        try:
            self.fs = tsk.FS_Info(self.image)
        except OSError as exc:
            reason = str(exc).rsplit("with error: ", 1)[-1].strip()
            raise OSError(f"NTFS volume unreadable by The Sleuth Kit: {reason}") from None
        self.block_size = self.fs.info.block_size
        self.block_count = self.fs.info.block_count
        self.root = self.fs.info.root_inum
        self.bitmap = self._bitmap()
        self._memo: dict[tuple[int, int], str | None] = {}
        self.problems: list[str] = []

    def _bitmap(self) -> bytes:
        """$Bitmap (MFT record 6): one bit per cluster, 1 = in use."""
        entry = self.fs.open_meta(inode=6)
        length = entry.info.meta.size
        data = entry.read_random(0, length) if length else b""
        if len(data) * 8 < self.block_count:
            raise OSError(f"$Bitmap holds {len(data) * 8} bits for {self.block_count} clusters")
        return data

    def in_use(self, cluster: int) -> bool:
        return bool(self.bitmap[cluster >> 3] & (1 << (cluster & 7)))

    def file_names(self, entry: Any) -> list[tuple[str, int, int, int]]:
        """(name, parent record, parent sequence, namespace) of each $FILE_NAME attribute."""
        names = []
        for attr in entry:
            if attr.info.type != self.tsk.TSK_FS_ATTR_TYPE_NTFS_FNAME:
                continue
            raw = entry.read_random(0, attr.info.size, attr.info.type, attr.info.id)
            if len(raw) < 66:
                continue
            parent = struct.unpack_from("<Q", raw, 0)[0]
            length, namespace = raw[64], raw[65]
            name = raw[66:66 + 2 * length].decode("utf-16-le", errors="replace")
            names.append((name, parent & 0xFFFFFFFFFFFF, parent >> 48, namespace))
        names.sort(key=lambda n: n[3] == 2)  # a DOS 8.3 name only when nothing better
        return names

    def dir_path(self, number: int, sequence: int, depth: int = 0) -> str | None:
        """Path of a folder record, checked against the sequence the child recorded."""
        if number == self.root:
            return ""
        if depth > NTFS_MAX_DEPTH:
            self.problems.append(f"folder chain deeper than {NTFS_MAX_DEPTH} at MFT entry "
                                 f"{number}: treated as orphan")
            return None
        key = (number, sequence)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = None  # a loop of parent references ends as an orphan
        try:
            entry = self.fs.open_meta(inode=number)
            meta = entry.info.meta
            unalloc = bool(meta.flags & self.tsk.TSK_FS_META_FLAG_UNALLOC)
            if meta.seq != sequence and not (unalloc and meta.seq == (sequence + 1) & 0xFFFF):
                return None  # the folder's record was reused since
            names = self.file_names(entry)
        except Exception:
            return None
        if not names:
            return None
        name, parent, parent_seq, _ = names[0]
        above = self.dir_path(parent, parent_seq, depth + 1)
        path = None if above is None else f"{above}/{name}"
        self._memo[key] = path
        return path

    def candidate(self, number: int, want_allocated: bool) -> Candidate | None:
        tsk = self.tsk
        entry = self.fs.open_meta(inode=number)
        meta = entry.info.meta
        if meta is None:
            return None
        deleted = bool(meta.flags & tsk.TSK_FS_META_FLAG_UNALLOC)
        if not deleted and not want_allocated:
            return None
        if meta.type == tsk.TSK_FS_META_TYPE_DIR:
            return None
        names = self.file_names(entry)
        if not names:
            return None  # never used, or an MFT extension record: no file to speak of
        name, parent, parent_seq, _ = names[0]
        folder = self.dir_path(parent, parent_seq)
        path = f"{folder}/{name}" if folder is not None else f"/$OrphanFiles/{name}"
        data = None
        for attr in entry:
            if attr.info.type == tsk.TSK_FS_ATTR_TYPE_NTFS_DATA and not attr.info.name:
                data = attr
                break
        size = int(data.info.size) if data is not None else 0
        candidate = Candidate(path=path, inode=number, inode_kind="mft_entry", size=size,
                              deleted=deleted, status="recovered" if deleted else "allocated")
        if data is None:
            candidate.status = "unrecoverable" if deleted else "empty"
            candidate.reason = "no unnamed $DATA attribute"
            return candidate
        if size == 0:
            candidate.status = "empty"
            return candidate
        attr_type, attr_id = data.info.type, data.info.id

        def read() -> Iterator[bytes]:
            offset = 0
            while offset < size:
                take = min(CHUNK, size - offset)
                chunk = entry.read_random(offset, take, attr_type, attr_id)
                if not chunk:
                    raise OSError(f"no data at offset {offset}")
                yield chunk
                offset += len(chunk)

        if data.info.flags & tsk.TSK_FS_ATTR_RES:
            if deleted:
                candidate.status = "resident"
                candidate.reason = "data stored in the MFT record itself"
            candidate.reader = read
            return candidate
        needed = -(-size // self.block_size)
        clusters: list[int] = []
        sparse_flags = tsk.TSK_FS_ATTR_RUN_FLAG_SPARSE | tsk.TSK_FS_ATTR_RUN_FLAG_FILLER
        position = 0
        for run in data:
            if position >= needed:
                break
            length = min(int(run.len), needed - position)
            if not run.flags & sparse_flags:
                clusters.extend(range(int(run.addr), int(run.addr) + length))
            position += length
        candidate.clusters = len(clusters)
        candidate.contiguous_assumed = False
        candidate.chain = "data runs"
        if not deleted:
            candidate.clusters_in_use = 0
            candidate.reader = read
            return candidate
        if any(c >= self.block_count for c in clusters):
            candidate.status = "unrecoverable"
            candidate.reason = "data runs point outside the volume"
            return candidate
        in_use = sum(1 for c in clusters if self.in_use(c))
        candidate.clusters_in_use = in_use
        if clusters and in_use == len(clusters):
            candidate.status = "overwritten"
            candidate.reason = f"all {in_use} clusters are in use by other files"
        elif in_use:
            candidate.status = "partial"
            candidate.reason = f"{in_use} of {len(clusters)} clusters are in use by other files"
        else:
            candidate.reader = read
        return candidate


__all__ = ["RecoverOptions", "RecoveryResult", "recover", "safe_component", "safe_relative",
           "LOG_FIELDS"]
