"""Finding volumes by their boot sectors when the partition table is broken or wiped.

Why: a wiped or corrupted MBR/GPT makes dfVFS see a disk image as one opaque file, although
every volume on it is intact. Windows puts volumes at 1 MiB boundaries (Vista and later) or at
sector 63 (XP), so the boot sectors there are read: NTFS, exFAT and FAT12/16/32 boot sectors
name their own size, and the search jumps past each volume it finds. Only these offsets are
read, so even a large image is searched in seconds. Each volume found says where it was found;
the engine reports that the partition table was not usable.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Callable

MIB = 1024 * 1024
XP_START = 63 * 512
MAX_PROBES = 2_000_000  # 2 TiB of 1 MiB steps: a bound, not a limit in practice


@dataclass(frozen=True)
class FoundVolume:
    offset: int
    size: int
    fs: str  # "NTFS" | "exFAT" | "FAT"


def boot_sector_volume(sector: bytes, offset: int) -> FoundVolume | None:
    """The volume a boot sector at `offset` describes, or None when it is not one."""
    if len(sector) < 512 or sector[510:512] != b"\x55\xaa":
        return None
    if sector[3:11] == b"NTFS    ":
        per_sector = struct.unpack_from("<H", sector, 0x0B)[0]
        total = struct.unpack_from("<Q", sector, 0x28)[0]
        if per_sector in (512, 1024, 2048, 4096) and total:
            return FoundVolume(offset, (total + 1) * per_sector, "NTFS")  # + backup boot sector
        return None
    if sector[3:11] == b"EXFAT   ":
        shift = sector[0x6C]
        length = struct.unpack_from("<Q", sector, 0x48)[0]
        if 9 <= shift <= 12 and length:
            return FoundVolume(offset, length << shift, "exFAT")
        return None
    if sector[82:90] == b"FAT32   " or sector[54:59] in (b"FAT12", b"FAT16", b"FAT  "):
        per_sector = struct.unpack_from("<H", sector, 0x0B)[0]
        total = struct.unpack_from("<H", sector, 0x13)[0] or struct.unpack_from("<I", sector, 0x20)[0]
        if per_sector in (512, 1024, 2048, 4096) and total and sector[0x0D]:
            return FoundVolume(offset, total * per_sector, "FAT")
    return None


def find_volumes(read_at: Callable[[int, int], bytes], media_size: int) -> list[FoundVolume]:
    """Volumes whose boot sector lies at sector 63 or on a 1 MiB boundary, in disk order."""
    found: list[FoundVolume] = []
    candidates = [XP_START]
    position = MIB
    probes = 0
    while True:
        while candidates:
            offset = candidates.pop(0)
            if offset + 512 > media_size:
                continue
            volume = boot_sector_volume(read_at(offset, 512), offset)
            if volume is not None and volume.offset + min(volume.size, 512) <= media_size:
                found.append(volume)
                position = max(position, -(-(volume.offset + volume.size) // MIB) * MIB)
        probes += 1
        if position + 512 > media_size or probes > MAX_PROBES:
            return found
        candidates.append(position)
        position += MIB
