"""Checksum repairs applied after a mutation (on about half of the inputs, as hypothesis
draws `Plan.fix`), so that a mutated structure reaches the code behind the format's integrity
check instead of being refused at it every time.

Why: a format with a checksum over every page or chunk (ESE databases, EVTX chunks, a regf
base block) turns almost every mutation into "checksum mismatch", which tests one line of the
parser. Repairing the checksum after mutating lets the damage through to the record parsers,
as a file edited by an attacker (or torn by a crash after its checksum was written) would.
The other half of the inputs keep the broken checksum, so the checks themselves are fuzzed too.

Formats (little-endian):
    ESE (our own writer's format revision 0x09, and any database using the legacy checksum):
        every page, the header and its shadow included, starts with a uint32 XOR of the
        page's other 32-bit words, seeded with 0x89ABCDEF; the page size is the header's
        uint32 at 236.
    EVTX: the file header's CRC32 of bytes 0-119 at 124; each 64 KiB chunk's header CRC32 of
        bytes 0-119 and 128-511 at 124, and the CRC32 of its records (512 up to the free
        space offset, uint32 at 48) at 52.
    regf: the base block's XOR checksum of its first 508 bytes at 508.
"""
from __future__ import annotations

import struct
import zlib

ESE_SEED = 0x89ABCDEF
EVTX_HEADER = 4096
EVTX_CHUNK = 65536


def ese_pages(data: bytes) -> bytes:
    if len(data) < 240:
        return data
    page = struct.unpack_from("<I", data, 236)[0]
    if page not in (2048, 4096, 8192, 16384, 32768):
        return data
    buf = bytearray(data)
    for start in range(0, len(buf) - page + 1, page):
        value = ESE_SEED
        for (word,) in struct.iter_unpack("<I", bytes(buf[start + 4:start + page])):
            value ^= word
        struct.pack_into("<I", buf, start, value)
    return bytes(buf)


def evtx_crcs(data: bytes) -> bytes:
    if len(data) < 128:
        return data
    buf = bytearray(data)
    struct.pack_into("<I", buf, 124, zlib.crc32(bytes(buf[:120])))
    for start in range(EVTX_HEADER, len(buf) - 512 + 1, EVTX_CHUNK):
        chunk = buf[start:start + EVTX_CHUNK]
        free = struct.unpack_from("<I", chunk, 48)[0]
        records = zlib.crc32(bytes(chunk[512:min(max(free, 512), len(chunk))]))
        struct.pack_into("<I", buf, start + 52, records)
        head = buf[start:start + 512]
        struct.pack_into("<I", buf, start + 124, zlib.crc32(bytes(head[:120] + head[128:512])))
    return bytes(buf)


def regf_base_block(data: bytes) -> bytes:
    if len(data) < 512 or data[:4] != b"regf":
        return data
    buf = bytearray(data)
    value = 0
    for (word,) in struct.iter_unpack("<I", bytes(buf[:508])):
        value ^= word
    value = 0xFFFFFFFE if value == 0xFFFFFFFF else (value or 1)
    struct.pack_into("<I", buf, 508, value)
    return bytes(buf)


def mam_compress(plain: bytes) -> bytes:
    """A Windows 10/11 prefetch MAM container around `plain` (the project's own Xpress
    Huffman encoder), so mutations of the decompressed prefetch reach the parser."""
    from fixtures.builders.prefetch_writer import xpress_huffman_compress

    return b"MAM\x04" + struct.pack("<I", len(plain)) + xpress_huffman_compress(plain)
