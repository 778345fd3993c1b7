"""Open a registry hive from evidence, recovering a dirty hive from its transaction logs.

Why recover: Windows writes changes to `.LOG1`/`.LOG2` first and to the hive later, so a hive
taken from a seized disk is often "dirty" (its two sequence numbers differ) and the newest keys
(a USB device plugged in an hour before the seizure) exist only in the logs. Recovery happens on
an in-memory copy: the evidence is never written.

Log formats: the new one (Windows 8.1 and later, "HvLE" log entries; applied with
python-registry's RegistryLog, dual-logging order by sequence number) and the old one (Vista to
8.0, a "DIRT" dirty-sector bitmap followed by the dirty 512-byte sectors, applied here).
Format reference: the "Windows NT Registry File (REGF) format" paper (libyal) and the public
notes on registry transaction logs.
"""
from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from typing import Any

from triage.files import EvidenceFile
from triage.model import ArtifactError, filetime

BASE_BLOCK = 4096
SECTOR = 512


@dataclass
class OpenedHive:
    """A parsed hive and what it took to read it."""

    registry: Any  # Registry.Registry
    dirty: bool = False
    recovered: bool = False
    logs_applied: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    header_written: str | None = None  # the base block's last-written time (ISO)


def _u32(data: bytes | bytearray, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def _checksum(block: bytes | bytearray) -> int:
    value = 0
    for (word,) in struct.iter_unpack("<I", bytes(block[:508])):
        value ^= word
    if value == 0xFFFFFFFF:
        return 0xFFFFFFFE
    return value or 1


def base_block_state(data: bytes | bytearray) -> tuple[bool, bool]:
    """(checksum valid, sequence numbers equal) of a primary hive's base block."""
    if len(data) < BASE_BLOCK or data[:4] != b"regf":
        raise ArtifactError("not a registry hive (no regf signature)")
    return _checksum(data[:512]) == _u32(data, 508), _u32(data, 4) == _u32(data, 8)


def _apply_old_log(hive: bytearray, log: bytes) -> int:
    """Apply an old-format (Vista to 8.0) log: base block, DIRT bitmap, dirty sectors.

    Returns the number of sectors written. The log's base block replaces the hive's when the
    hive's own is invalid; the hive's sequence numbers are then made equal.
    """
    if len(log) < SECTOR * 2 or log[:4] != b"regf":
        raise ArtifactError("old-format log without a base block")
    vector = log.find(b"DIRT", SECTOR)
    if vector != SECTOR and vector != BASE_BLOCK:
        raise ArtifactError("old-format log without a DIRT dirty vector")
    hbins_size = _u32(log, 40)
    sectors = hbins_size // SECTOR
    bitmap = log[vector + 4: vector + 4 + (sectors + 7) // 8]
    data_at = vector + 4 + len(bitmap)
    data_at = (data_at + SECTOR - 1) // SECTOR * SECTOR
    written = 0
    for index in range(sectors):
        if not bitmap[index // 8] & (1 << (index % 8)):
            continue
        chunk = log[data_at + written * SECTOR: data_at + (written + 1) * SECTOR]
        if len(chunk) < SECTOR:
            raise ArtifactError("old-format log truncated inside its dirty sectors")
        target = BASE_BLOCK + index * SECTOR
        if target + SECTOR > len(hive):
            hive.extend(b"\0" * (target + SECTOR - len(hive)))
        hive[target: target + SECTOR] = chunk
        written += 1
    sequence = _u32(log, 4)
    struct.pack_into("<II", hive, 4, sequence, sequence)
    struct.pack_into("<I", hive, 40, hbins_size)
    struct.pack_into("<I", hive, 508, _checksum(hive[:512]))
    return written


def _recover(data: bytearray, f: EvidenceFile, opened: OpenedHive) -> bytearray:
    from Registry import RegistryLog, RegistryParse

    logs = []
    for suffix in (".LOG1", ".LOG2", ".LOG"):
        log_file = f.sibling(f.name + suffix)
        if log_file is not None and log_file.size >= SECTOR:
            try:
                logs.append((log_file.name, log_file.read()))
            except Exception as exc:
                opened.problems.append(f"{log_file.name}: unreadable ({exc})")
    if not logs:
        opened.problems.append("dirty hive and no transaction log beside it: read as is "
                               "(the newest changes may be missing)")
        return data
    new, old = [], []
    for name, raw in logs:
        try:
            block = RegistryParse.REGFBlock(raw, 0, False)
            if block.is_new_transaction_log_file():
                new.append((name, raw))
            elif block.is_old_transaction_log_file():
                old.append((name, raw))
        except Exception:
            opened.problems.append(f"{name}: not a transaction log")
    if new:
        buffer = io.BytesIO(bytes(data))
        candidates = []
        for name, raw in new:
            try:
                buffer.seek(0)
                log = RegistryLog.RegistryLog(buffer, io.BytesIO(raw))
            except Exception as exc:
                opened.problems.append(f"{name}: cannot be applied ({exc})")
                continue
            if log.is_eligible_log():
                candidates.append((name, raw, log))
        if len(candidates) == 2 and candidates[1][2].is_starting_log(candidates[0][2]):
            candidates.reverse()
        expected = None
        for position, (name, raw, _) in enumerate(candidates):
            try:
                buffer.seek(0)
                log = RegistryLog.RegistryLog(buffer, io.BytesIO(raw))  # re-read the primary
                if position == 0:
                    expected = log.recover_hive()
                else:
                    last = log.recover_hive_continue((expected or 0) + 1)
                    if last is None:
                        continue
                    expected = last
                opened.logs_applied.append(name)
            except Exception as exc:
                opened.problems.append(f"{name}: recovery stopped ({type(exc).__name__}: {exc})")
                break
        if opened.logs_applied:
            opened.recovered = True
            return bytearray(buffer.getvalue())
    for name, raw in old:
        try:
            _apply_old_log(data, raw)
            opened.logs_applied.append(name)
            opened.recovered = True
            return data
        except ArtifactError as exc:
            opened.problems.append(f"{name}: {exc}")
    return data


def open_hive(f: EvidenceFile) -> OpenedHive:
    """Parse a hive (recovering it when dirty). ArtifactError when it is not a readable hive."""
    from Registry import Registry

    data = bytearray(f.read())
    checksum_ok, sequences_equal = base_block_state(data)
    opened = OpenedHive(registry=None)
    opened.header_written = (lambda t: t.iso() if t else None)(
        filetime(struct.unpack_from("<Q", data, 12)[0]))
    declared = _u32(data, 40)
    if BASE_BLOCK + declared > len(data):
        opened.problems.append(f"truncated hive: its base block declares {declared} bytes of "
                               f"hive bins, the file holds {len(data) - BASE_BLOCK}; keys past the "
                               "end are lost")
    if not (checksum_ok and sequences_equal):
        opened.dirty = True
        data = _recover(data, f, opened)
    try:
        opened.registry = Registry.Registry(io.BytesIO(bytes(data)))
        opened.registry.root()
    except Exception as exc:
        raise ArtifactError(f"unreadable registry hive: {type(exc).__name__}: {exc}") from None
    return opened
