"""Disk images through dfVFS: containers, volume systems, VSS and BitLocker, never a prompt.

Why our own walk over dfVFS's scan tree instead of VolumeScanner.GetBasePathSpecs: the
examiner needs to know what was *not* processed (a locked BitLocker volume, snapshots skipped,
a partition with no file system we can read), and VolumeScanner either prompts, raises, or
drops those silently. Walking the scan nodes ourselves records every volume with its status.
"""
from __future__ import annotations

import glob
import os
import re
from typing import Any, Iterator

from dfvfs.helpers import source_scanner
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory as path_spec_factory
from dfvfs.resolver import context as resolver_context
from dfvfs.resolver import resolver
from dfvfs.volume import gpt_volume_system, tsk_volume_system, vshadow_volume_system

from triage.files import basename
from triage.model import Timestamp, filetime
from triage.sources import Evidence, EvidenceError, SnapshotInfo, SourceOptions, Volume, tolerant_ewf
from triage.sources.carve import find_volumes

_CONTAINERS = {
    definitions.TYPE_INDICATOR_EWF: "EWF",
    definitions.TYPE_INDICATOR_QCOW: "QCOW2",
    definitions.TYPE_INDICATOR_VMDK: "VMDK",
    definitions.TYPE_INDICATOR_VHDI: "VHD/VHDX",
    definitions.TYPE_INDICATOR_RAW: "RAW",
    definitions.TYPE_INDICATOR_MODI: "MODI",
    definitions.TYPE_INDICATOR_PHDI: "PHDI",
}
_VOLUME_SYSTEMS = {
    definitions.TYPE_INDICATOR_TSK_PARTITION: "MBR",
    definitions.TYPE_INDICATOR_GPT: "GPT",
}
_GPT_TYPES = {
    "ebd0a0a2-b9e5-4433-87c0-68b6b72699c7": "Microsoft basic data",
    "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system",
    "e3c9e316-0b5c-4db8-817d-f92df00215ae": "Microsoft reserved",
    "de94bba4-06d1-4d40-a16a-bfd50179d6ac": "Windows recovery",
    "5808c8aa-7e8f-42e0-85d2-e1e90434cfb3": "Windows LDM metadata",
    "af9b60a0-1431-4f62-bc68-3311714a69ad": "Windows LDM data",
    "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux file system",
}
_ENCRYPTION = {
    definitions.TYPE_INDICATOR_BDE: "BitLocker",
    definitions.TYPE_INDICATOR_LUKSDE: "LUKS",
    definitions.TYPE_INDICATOR_CS: "FileVault (Core Storage)",
}


def short_reason(exc: BaseException) -> str:
    """libyal errors are chains of 'function: message.' clauses; keep the one that explains."""
    text = " ".join(str(exc).strip("'\" ").split())
    clauses = [c.strip() for c in re.split(r"\.\s+|\.'|'", text) if c.strip()]
    for key in ("missing segment", "missing", "truncated", "unsupported", "invalid", "corrupt"):
        for clause in clauses:
            if key in clause.lower():
                return re.sub(r"^[\w]+: ", "", clause.split(" with error: ")[-1])[:200]
    return (re.sub(r"^[\w]+: ", "", clauses[-1]) if clauses else type(exc).__name__)[:200]


def damage_reason(exc: BaseException) -> str:
    """short_reason, plus the first offset the error chain names (where the damage is)."""
    reason = short_reason(exc)
    found = re.search(r"offset:?\s*(\d+)\s*\((0x[0-9a-fA-F]+)\)", str(exc))
    if found and found.group(1) not in reason:
        reason += f" at offset {found.group(1)} ({found.group(2)})"
    return reason


def _new_context() -> resolver_context.Context:
    return resolver_context.Context()


class _Walker:
    """Turns one dfVFS scan tree into Volumes and snapshot records."""

    def __init__(self, scanner: source_scanner.SourceScanner, scan_context: Any,
                 options: SourceOptions, evidence: Evidence, ctx: resolver_context.Context):
        self.scanner = scanner
        self.scan_context = scan_context
        self.options = options
        self.evidence = evidence
        self.ctx = ctx

    def credentials(self) -> list[tuple[str, Any]]:
        creds: list[tuple[str, Any]] = []
        if self.options.recovery_password:
            creds.append(("recovery_password", self.options.recovery_password))
        if self.options.password:
            creds.append(("password", self.options.password))
        if self.options.startup_key:
            with open(self.options.startup_key, "rb") as handle:
                creds.append(("startup_key", handle.read()))
        return creds

    def walk(self, node: Any, volume: Volume) -> None:
        ti = node.type_indicator
        if ti in _CONTAINERS and ti not in (definitions.TYPE_INDICATOR_RAW,):
            if _CONTAINERS[ti] not in self.evidence.containers:
                self.evidence.containers.append(_CONTAINERS[ti])
        if ti in _CONTAINERS and self.evidence.media_path_spec is None:
            self.evidence.media_path_spec = node.path_spec
        if ti in _ENCRYPTION:
            volume.encryption = _ENCRYPTION[ti]
            if self.scan_context.IsLockedScanNode(node.path_spec) and not self._unlock(node):
                volume.status = "skipped: encrypted volume locked (no or wrong key given)"
                volume.note = ("give --recovery-password, --password or --startup-key"
                               if not self.credentials() else "the keys given did not unlock it")
                self.evidence.volumes.append(volume)
                return
        if node.IsVolumeSystemRoot():
            self._volume_system(node, volume)
            return
        if node.IsFileSystem():
            self._file_system(node.path_spec, volume)
            return
        if not node.sub_nodes:
            if volume.partition is not None:
                volume.status = "skipped: no supported file system found"
                self.evidence.volumes.append(volume)
            return
        for sub in node.sub_nodes:
            self.walk(sub, volume)

    def _unlock(self, node: Any) -> bool:
        for kind, data in self.credentials():
            try:
                if self.scanner.Unlock(self.scan_context, node.path_spec, kind, data):
                    self.scanner.Scan(self.scan_context, scan_path_spec=node.path_spec)
                    return True
            except (dfvfs_errors.BackEndError, KeyError):
                continue
        return False

    def _volume_system(self, node: Any, parent: Volume) -> None:
        ti = node.type_indicator
        if ti in _VOLUME_SYSTEMS:
            self.evidence.volume_system = _VOLUME_SYSTEMS[ti]
            extents = self._partition_extents(node)
            for sub in node.sub_nodes:
                location = getattr(sub.path_spec, "location", None)
                if not location or not re.match(r"^/p\d+$", location):
                    continue  # unallocated space and the partition table itself
                pid = location[1:]
                offset, size, desc = extents.get(pid, (None, None, None))
                self.walk(sub, Volume(id=pid, partition=pid, offset=offset, size=size,
                                      partition_type=desc))
            return
        if ti == definitions.TYPE_INDICATOR_VSHADOW:
            self._snapshots(node, parent)
            return
        # APFS containers, LVM and the like: each sub volume in turn.
        for sub in node.sub_nodes:
            location = getattr(sub.path_spec, "location", None) or ""
            name = location.strip("/") or parent.id
            self.walk(sub, Volume(id=name, partition=name))

    def _partition_extents(self, node: Any) -> dict[str, tuple[int, int, str | None]]:
        result: dict[str, tuple[int, int, str | None]] = {}
        system = (gpt_volume_system.GPTVolumeSystem()
                  if node.type_indicator == definitions.TYPE_INDICATOR_GPT
                  else tsk_volume_system.TSKVolumeSystem())
        try:
            system.Open(node.path_spec)
        except Exception:  # the partition table is damaged: partitions still get scanned
            return result
        for vol in system.volumes:
            extent = vol.extents[0] if vol.extents else None
            attr = vol.GetAttribute("description")
            desc = str(attr.value) if attr is not None else _gpt_type(vol)
            if extent is not None:
                result[vol.identifier] = (extent.offset, extent.size, desc)
        return result

    def _snapshots(self, node: Any, volume: Volume) -> None:
        """A VSS volume: record its stores; process them only with --vss all."""
        stores = []
        system = vshadow_volume_system.VShadowVolumeSystem()
        try:
            system.Open(node.path_spec)
            for vss in system.volumes:
                created = vss.GetAttribute("creation_time")
                ts = filetime(created.value) if created is not None else None
                stores.append((vss.identifier, ts.iso() if ts else None))
        except Exception as exc:
            volume.note = f"shadow copies present but unreadable: {damage_reason(exc)}"
        base = volume.id if volume.partition else "vol"
        for store, created in stores:
            self.evidence.snapshots.append(SnapshotInfo(volume=base, store=store, created=created))
        # The live volume is a sibling node of the VSS root: dfVFS scans it there.
        if self.options.vss != "all":
            return
        for sub in node.sub_nodes:
            location = getattr(sub.path_spec, "location", None)
            if not location or not location.startswith("/vss"):
                continue
            store = location[1:]
            fs_spec = path_spec_factory.Factory.NewPathSpec(
                definitions.PREFERRED_NTFS_BACK_END, location="\\", parent=sub.path_spec)
            snap = Volume(id=f"{base}/{store}", partition=volume.partition, snapshot=store,
                          offset=volume.offset, size=volume.size,
                          partition_type=volume.partition_type, encryption=volume.encryption)
            self._file_system(fs_spec, snap)

    def _file_system(self, fs_spec: Any, volume: Volume) -> None:
        if volume.partition is None and volume.snapshot is None:
            volume.id = "vol"
        try:
            tree = DfvfsTree(fs_spec, self.ctx)
        except Exception as exc:
            volume.status = f"skipped: file system unreadable ({damage_reason(exc)})"
            self.evidence.volumes.append(volume)
            return
        volume.fs_type = tree.fs_type
        volume.label = tree.label
        volume.serial = tree.serial()
        volume.tree = tree
        self.evidence.volumes.append(volume)


def _gpt_type(volume: Any) -> str | None:
    """A GPT partition's type: its well-known name, else the type GUID."""
    try:
        guid = str(volume._file_entry.GetGPTPartition().type_identifier).lower()
    except Exception:  # dfVFS internals moved: the type is a nicety, not evidence
        return None
    return f"{_GPT_TYPES[guid]} ({guid})" if guid in _GPT_TYPES else guid


def _segments(path: str) -> list[str]:
    """Every file that makes up the evidence (E01 + E02..., .001 + .002..., one file otherwise)."""
    lower = path.lower()
    stem, ext = os.path.splitext(path)
    if re.match(r"^\.e01$", ext.lower()):
        found = sorted(glob.glob(glob.escape(stem) + ".[Ee][0-9A-Za-z][0-9A-Za-z]"))
        return found or [path]
    if re.match(r"^\.0*1$", ext):
        width = len(ext) - 1
        found = sorted(p for p in glob.glob(glob.escape(stem) + "." + "[0-9]" * width))
        return found or [path]
    if lower.endswith(".aa"):
        return sorted(glob.glob(glob.escape(path[:-2]) + "[a-z][a-z]")) or [path]
    return [path]


def open_image(path: str, options: SourceOptions) -> Evidence:
    """Scan an image file; a plain file that holds no volume becomes single-file evidence."""
    tolerant_ewf.install()
    tolerant_ewf.forget(path)  # a damage log from an earlier opening in this process
    ctx = _new_context()
    scanner = source_scanner.SourceScanner(resolver_context=ctx)
    scan_context = source_scanner.SourceScannerContext()
    try:
        scan_context.OpenSourcePath(os.path.abspath(path))
        scanner.Scan(scan_context)
    except (dfvfs_errors.Error, OSError, ValueError, RuntimeError) as exc:
        raise EvidenceError(f"cannot read {path}: damaged, truncated or incomplete image "
                            f"({short_reason(exc)})") from None
    evidence = Evidence(path=path, kind="image", segments=[os.path.abspath(p) for p in _segments(path)],
                        damage=tolerant_ewf.damage_log(path))
    walker = _Walker(scanner, scan_context, options, evidence, ctx)
    if scan_context.source_type == definitions.SOURCE_TYPE_FILE:
        root = scan_context.GetRootScanNode()
        if not _carve_volumes(walker, root.path_spec if root else None):
            from triage.sources.directory import open_single_file

            return open_single_file(path)
        return evidence
    try:
        walker.walk(scan_context.GetRootScanNode(), Volume(id="vol"))
    except (dfvfs_errors.Error, OSError, ValueError, RuntimeError) as exc:
        raise EvidenceError(f"cannot read {path}: damaged, truncated or incomplete image "
                            f"({short_reason(exc)})") from None
    if not evidence.volumes and evidence.media_path_spec is not None:
        _carve_volumes(walker, evidence.media_path_spec)
    _check_extents(evidence, ctx)
    # Live volumes first, then their snapshots: the order examiners read them in.
    evidence.volumes.sort(key=lambda v: v.snapshot is not None)
    if not evidence.volumes:
        damage = evidence.damage
        if damage is not None and damage.ranges:
            offset, _, reason = damage.ranges[0]
            raise EvidenceError(
                f"cannot read {path}: damaged, truncated or incomplete image ({damage.total} "
                f"bytes of the media unreadable from offset {offset}: {reason}); no partition or "
                "file system could be read")
        raise EvidenceError(f"{path}: no partition or file system found in this image")
    return evidence


def _carve_volumes(walker: "_Walker", media_spec: Any) -> bool:
    """No partition table or file system was recognised: look for volumes by their boot
    sectors (triage.sources.carve) and open each found one. True when any was found."""
    if media_spec is None:
        return False
    evidence, ctx = walker.evidence, walker.ctx
    try:
        media = resolver.Resolver.OpenFileObject(media_spec, resolver_context=ctx)
        size = media.get_size()
    except Exception:
        return False
    if size < 1024 * 1024:
        return False

    def read_at(offset: int, length: int) -> bytes:
        media.seek(offset)
        return media.read(length)

    try:
        found = find_volumes(read_at, size)
    except Exception:
        return False
    if not found:
        return False
    evidence.media_path_spec = media_spec
    evidence.volume_system = None
    back_ends = {"NTFS": definitions.PREFERRED_NTFS_BACK_END,
                 "FAT": definitions.PREFERRED_FAT_BACK_END,
                 "exFAT": definitions.TYPE_INDICATOR_TSK}
    for number, volume in enumerate(found, 1):
        readable = min(volume.size, size - volume.offset)  # a truncated image ends early
        range_spec = path_spec_factory.Factory.NewPathSpec(
            definitions.TYPE_INDICATOR_DATA_RANGE, range_offset=volume.offset,
            range_size=readable, parent=media_spec)
        location = "\\" if back_ends[volume.fs] == definitions.PREFERRED_NTFS_BACK_END else "/"
        fs_spec = path_spec_factory.Factory.NewPathSpec(back_ends[volume.fs], location=location,
                                                        parent=range_spec)
        vid = f"found{number}"
        entry = Volume(id=vid, partition=vid, offset=volume.offset, size=volume.size,
                       partition_type=f"{volume.fs} (found by its boot sector)")
        entry.note = (f"no usable partition table: {volume.fs} volume found by its boot sector "
                      f"at offset {volume.offset} ({volume.size} bytes)")
        walker._file_system(fs_spec, entry)
    return True


def _check_extents(evidence: Evidence, ctx: resolver_context.Context) -> None:
    """A partition that runs past the end of the media means a truncated image: say so."""
    if evidence.media_path_spec is None:
        return
    try:
        media = resolver.Resolver.OpenFileObject(evidence.media_path_spec, resolver_context=ctx)
        evidence.media_size = media.get_size()
    except Exception:
        return
    for volume in evidence.volumes:
        if volume.offset is not None and volume.size and \
                volume.offset + volume.size > evidence.media_size:
            missing = volume.offset + volume.size - evidence.media_size
            volume.note = (f"partition runs {missing} bytes past the end of the image "
                           f"({evidence.media_size} bytes): truncated image?")


def _dfdatetime(value: Any) -> Timestamp | None:
    """A dfdatetime value as a Timestamp with the precision it was stored with."""
    if value is None:
        return None
    try:
        text = value.CopyToDateTimeStringISO8601()
    except Exception:
        return None
    if not text or not text.endswith("+00:00"):
        return None
    try:
        return Timestamp.parse(text[:-6] + "Z")
    except ValueError:
        return None


class DfvfsTree:
    """A Tree over one dfVFS file system; nodes are dfVFS file entries."""

    def __init__(self, fs_spec: Any, ctx: resolver_context.Context):
        self.fs_spec = fs_spec
        self.ctx = ctx
        self.fs = resolver.Resolver.OpenFileSystem(fs_spec, resolver_context=ctx)
        self.fs_type = fs_spec.type_indicator
        self.label = self._label()
        self._stored_folders: dict[str, str] = {}  # lower-case folder path -> as stored

    def independent(self) -> "DfvfsTree":
        """This file system opened again in a resolver context of its own, down to its own
        handle on the image file: its files may be read on another thread while this tree's
        are read (dfVFS and libyal objects keep a position and are not safe for two threads).
        Costs a second opening of the file system (milliseconds)."""
        return DfvfsTree(self.fs_spec, _new_context())

    def _native_volume(self) -> Any:
        """The libyal volume object behind the file system (for label and serial), if any."""
        getter = getattr(self.fs, "GetFATVolume", None)
        try:
            return getter() if getter else getattr(self.fs, "_fsntfs_volume", None)
        except Exception:
            return None

    def _label(self) -> str | None:
        volume = self._native_volume()
        for attribute in ("name", "label"):  # pyfsntfs: name; pyfsfat: label
            try:
                value = getattr(volume, attribute, None)
            except Exception:
                continue
            if value:
                return str(value).strip() or None
        return None

    def serial(self) -> str | None:
        """Volume serial number in hex, as Windows artifacts (LNK, Prefetch) record it."""
        try:
            value = self._native_volume().serial_number
        except Exception:
            return None
        return f"{value:X}" if value else None

    def root(self) -> Any:
        entry = self.fs.GetRootFileEntry()
        if entry is None:
            raise OSError("file system has no root directory")
        return entry

    def children(self, node: Any) -> Iterator[tuple[str, Any, bool]]:
        try:
            subs = list(node.sub_file_entries)
        except Exception:
            return
        subs.sort(key=lambda e: e.name)
        for sub in subs:
            try:
                is_dir = sub.IsDirectory()
                if not is_dir and not sub.IsFile():
                    continue
            except Exception:
                continue
            yield sub.name, sub, is_dir

    def file(self, node: Any, path: str) -> "DfvfsFile":
        return DfvfsFile(node, path, self)

    @staticmethod
    def times(node: Any) -> dict[str, Timestamp | None]:
        """A file's or folder's own file-system times (NTFS: $STANDARD_INFORMATION), in UTC;
        None where the file system keeps no such time."""
        return {name: _dfdatetime(getattr(node, attribute, None))
                for name, attribute in (("created", "creation_time"),
                                        ("modified", "modification_time"),
                                        ("accessed", "access_time"),
                                        ("changed", "change_time"))}

    def file_at(self, locator: tuple[str, int, int], path: str) -> "DfvfsFile | None":
        """The file a DfvfsFile.locator() names, found again by its MFT entry (a worker
        process): NTFS gives the entry at once, where finding it by path walks the B-trees of
        every folder above it, and a file opened by path is looked up again on every open."""
        location, mft_entry, mft_attribute = locator
        spec = path_spec_factory.Factory.NewPathSpec(
            self.fs_type, location=location, mft_entry=mft_entry, mft_attribute=mft_attribute,
            parent=self.fs_spec.parent)
        try:
            entry = self.fs.GetFileEntryByPathSpec(spec)
        except Exception:
            return None
        return DfvfsFile(entry, path, self) if entry is not None else None

    def lookup(self, path: str) -> tuple[Any, str] | None:
        """(entry, path as stored) through the file system's own index, or None.

        Why: finding /Windows/System32/config/SYSTEM by listing directories builds a dfVFS
        entry for each of System32's thousands of children; NTFS finds it in its B-tree.
        """
        if self.fs_type != definitions.TYPE_INDICATOR_NTFS:
            return None
        location = "\\" + path.strip("/").replace("/", "\\")
        spec = path_spec_factory.Factory.NewPathSpec(self.fs_type, location=location,
                                                    parent=self.fs_spec.parent)
        try:
            entry = self.fs.GetFileEntryByPathSpec(spec)
        except Exception:
            return None
        if entry is None:
            return None
        return entry, self._stored_path(entry, path)

    def _stored_path(self, entry: Any, path: str) -> str:
        """The path with its names as stored (their case), from the entry up; the folders'
        are remembered by their lower-case path, for their parent entries are found again
        by path, one lookup each."""
        folder = "/" + "/".join(p for p in path.lower().strip("/").split("/")[:-1] if p)
        known = self._stored_folders.get(folder)
        if known is not None or folder == "/":
            return f"{known or ''}/{entry.name}"
        names = []
        current = entry
        while current is not None and current.name:
            names.append(current.name)
            current = current.GetParentFileEntry()
        stored = "/" + "/".join(reversed(names))
        parts = stored.split("/")
        for depth in range(2, len(parts)):
            if len(self._stored_folders) < 10_000:
                self._stored_folders["/".join(parts[:depth]).lower()] = "/".join(parts[:depth])
        return stored

    def stream(self, node: Any, path: str, name: str) -> "DfvfsStreamFile | None":
        """An NTFS alternate data stream of a file (`$UsnJrnl:$J`, `x:Zone.Identifier`)."""
        try:
            names = {s.name.lower(): s.name for s in node.data_streams if s.name}
        except Exception:
            return None
        real = names.get(name.lower())
        if real is None:
            return None
        return DfvfsStreamFile(node, f"{path}:{real}", self, real)

    def volume_file(self) -> "VolumeFile | None":
        """The raw volume under this file system (for parsers of unallocated entries)."""
        parent = getattr(self.fs_spec, "parent", None)
        if parent is None:
            return None
        return VolumeFile(parent, self.ctx, self.fs_type)


class _FileObject:
    """dfVFS file IO made into the plain file object the format libraries expect."""

    def __init__(self, inner: Any):
        self._inner = inner
        inner.seek(0)  # resolver-cached objects keep the position of their last reader

    def read(self, size: int = -1) -> bytes:
        return self._inner.read(None if size is None or size < 0 else size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._inner.seek(offset, whence)
        return self._inner.get_offset()

    def tell(self) -> int:
        return self._inner.get_offset()

    def get_offset(self) -> int:
        return self._inner.get_offset()

    def get_size(self) -> int:
        return self._inner.get_size()

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        pass

    def __enter__(self) -> "_FileObject":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class DfvfsFile:
    """An EvidenceFile backed by a dfVFS file entry."""

    def __init__(self, entry: Any, path: str, tree: DfvfsTree):
        self._entry = entry
        self._tree = tree
        self.path = path
        spec = entry.path_spec
        inode = getattr(spec, "mft_entry", None)
        if inode is None:
            inode = getattr(spec, "inode", None)
        if inode is None:  # found by path: ask NTFS itself for the MFT entry number
            try:
                inode = entry._fsntfs_file_entry.file_reference & 0xFFFFFFFFFFFF
            except Exception:
                inode = None
        self.inode = inode
        try:
            self.size = int(entry.size or 0)
        except Exception:
            self.size = 0

    @property
    def name(self) -> str:
        return basename(self.path)

    def locator(self) -> tuple[str, int, int] | None:
        """What DfvfsTree.file_at needs to find this file again in another process (NTFS
        entries listed from their folder), or None."""
        spec = self._entry.path_spec
        values = (getattr(spec, "location", None), getattr(spec, "mft_entry", None),
                  getattr(spec, "mft_attribute", None))
        if type(self) is not DfvfsFile or getattr(spec, "data_stream", None) or \
                any(v is None for v in values):
            return None
        return values  # type: ignore[return-value]

    def open(self) -> _FileObject:
        handle = self._entry.GetFileObject()
        if handle is None:
            raise OSError(f"no data stream: {self.path}")
        return _FileObject(handle)

    def read(self, limit: int | None = None) -> bytes:
        handle = self.open()
        return handle.read(-1 if limit is None else limit)

    def sibling(self, name: str) -> "DfvfsFile | None":
        parent = self._entry.GetParentFileEntry()
        if parent is None:
            return None
        wanted = name.lower()
        for child_name, child, is_dir in self._tree.children(parent):
            if child_name.lower() == wanted and not is_dir:
                folder = self.path.rsplit("/", 1)[0]
                return DfvfsFile(child, f"{folder}/{child_name}", self._tree)
        return None

    def sibling_folder(self, name: str) -> "list[DfvfsFile] | None":
        parent = self._entry.GetParentFileEntry()
        if parent is None:
            return None
        folder = self.path.rsplit("/", 1)[0]
        for child_name, child, is_dir in self._tree.children(parent):
            if child_name.lower() == name.lower() and is_dir:
                return list(self._files_under(child, f"{folder}/{child_name}"))
        return None

    def _files_under(self, node: Any, path: str) -> Iterator["DfvfsFile"]:
        for child_name, child, is_dir in self._tree.children(node):
            if is_dir:
                yield from self._files_under(child, f"{path}/{child_name}")
            else:
                yield DfvfsFile(child, f"{path}/{child_name}", self._tree)


class DfvfsStreamFile(DfvfsFile):
    """A named NTFS data stream, readable sparse-aware through `extents()`."""

    def __init__(self, entry: Any, path: str, tree: DfvfsTree, stream: str):
        super().__init__(entry, path, tree)
        self.stream = stream
        try:
            self.size = int(self._ads().size)
        except Exception:
            handle = entry.GetFileObject(data_stream_name=stream)
            self.size = handle.get_size() if handle is not None else 0

    def _ads(self) -> Any:
        return self._entry._fsntfs_file_entry.get_alternate_data_stream_by_name(self.stream)

    def open(self) -> _FileObject:
        handle = self._entry.GetFileObject(data_stream_name=self.stream)
        if handle is None:
            raise OSError(f"no data stream {self.stream}: {self.path}")
        return _FileObject(handle)

    def extents(self) -> list[tuple[int, int, bool]]:
        """(offset in the stream, size, sparse) runs, so a parser can skip sparse gigabytes."""
        try:
            ads = self._ads()
            runs = []
            position = 0
            for index in range(ads.number_of_extents):
                _, size, flags = ads.get_extent(index)
                runs.append((position, size, bool(flags & 1)))
                position += size
            return runs
        except Exception:
            return [(0, self.size, False)]


class VolumeFile:
    """The raw bytes of one volume (partition or snapshot), as an EvidenceFile.

    Not hashed file by file like artifacts (a volume is gigabytes: `--hash-evidence` hashes the
    media), and it has no siblings. `fs_type` tells a parser which file system it holds.
    """

    hash_exempt = True

    def __init__(self, spec: Any, ctx: resolver_context.Context, fs_type: str | None):
        self._spec = spec
        self._ctx = ctx
        self.fs_type = fs_type
        self.path = "@volume"
        self.inode = None
        try:
            self.size = resolver.Resolver.OpenFileObject(spec, resolver_context=ctx).get_size()
        except Exception:
            self.size = 0

    @property
    def name(self) -> str:
        return "@volume"

    def open(self) -> _FileObject:
        return _FileObject(resolver.Resolver.OpenFileObject(self._spec, resolver_context=self._ctx))

    def read(self, limit: int | None = None) -> bytes:
        return self.open().read(-1 if limit is None else limit)

    def sibling(self, name: str) -> None:
        return None

    def sibling_folder(self, name: str) -> None:
        return None
