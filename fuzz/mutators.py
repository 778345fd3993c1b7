"""Mutations of a seed file, chosen by hypothesis so that a failing input shrinks.

Why a plan and not bytes: hypothesis shrinks what it draws. Drawing a short list of mutation
operations (kind, offset, length, value) keeps every input close to a real, well-formed file
(so the parser gets past its signature checks and into the structures behind them) and lets a
failure shrink to "one 4-byte field at offset 0x34 set to 0xFFFFFFFF" instead of a megabyte of
noise. Offsets are drawn as plain integers and taken modulo the current length, so they shrink
towards the start of the file; half of them are steered into the file's non-zero regions
("hot" offsets), because most of a disk image or a database is empty space where a mutation
tests nothing.

The operations (the issue's list):
    flip       one bit
    overwrite  1-16 random bytes
    truncate   cut the file at an offset
    zero       a zero-filled range (up to 4 KiB)
    insert     a random block (1-64 bytes, or one byte repeated up to 4 KiB)
    absurd     a 2/4/8-byte little-endian field at an aligned offset set to 0, 0xFFFF,
               0x7FFFFFFF, 0xFFFFFFFF or 2**63-1 (masked to the width)
    duplicate  a chunk copied and inserted elsewhere (the file grows)
    splice     a chunk copied over another place (the size stays)
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from hypothesis import strategies as st

ABSURD_VALUES = (0, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1)
WIDTHS = (2, 4, 8)
KINDS = ("flip", "overwrite", "truncate", "zero", "insert", "absurd", "duplicate", "splice")
MAX_OPS = 4
_OFFSET_SPACE = 2**32


@dataclass(frozen=True)
class Op:
    """One mutation. `at`, `src` are raw offsets (reduced modulo the current length)."""

    kind: str
    at: int
    size: int = 0
    value: int = 0
    blob: bytes = b""
    src: int = 0

    def describe(self) -> str:
        if self.kind == "flip":
            return f"flip bit {self.value} at {self.at}"
        if self.kind == "overwrite":
            return f"overwrite at {self.at} with {self.blob.hex()}"
        if self.kind == "truncate":
            return f"truncate at {self.at}"
        if self.kind == "zero":
            return f"zero {self.size} bytes at {self.at}"
        if self.kind == "insert":
            return f"insert {len(self.blob) or self.size} bytes at {self.at}"
        if self.kind == "absurd":
            return f"absurd {self.size}-byte value {self.value:#x} at {self.at}"
        return f"{self.kind} {self.size} bytes from {self.src} to {self.at}"


@dataclass(frozen=True)
class Plan:
    """Which seed, and the operations applied to the file the seed names for mutation."""

    seed: int
    ops: tuple[Op, ...]
    fix: bool = False  # repair the format's checksums after mutating (fuzz/fixups.py)

    def describe(self) -> str:
        text = "; ".join(op.describe() for op in self.ops) or "unmutated"
        return text + ("; checksums repaired" if self.fix else "")


def _offset(hot: Sequence[int]) -> st.SearchStrategy[int]:
    """Offsets near the start, anywhere, or inside a non-zero region of the seed."""
    choices = [st.integers(0, 1023), st.integers(0, _OFFSET_SPACE - 1)]
    if hot:
        choices.append(st.builds(lambda i, d: hot[i] + d, st.integers(0, len(hot) - 1),
                                 st.integers(0, 255)))
    return st.one_of(*choices)


def _op(hot: Sequence[int]) -> st.SearchStrategy[Op]:
    at = _offset(hot)
    small = st.integers(1, 64)
    return st.one_of(
        st.builds(Op, st.just("flip"), at, value=st.integers(0, 7)),
        st.builds(Op, st.just("overwrite"), at, blob=st.binary(min_size=1, max_size=16)),
        st.builds(Op, st.just("truncate"), at),
        st.builds(Op, st.just("zero"), at, size=st.integers(1, 4096)),
        st.builds(Op, st.just("insert"), at, blob=st.binary(min_size=1, max_size=64)),
        st.builds(Op, st.just("insert"), at, size=st.integers(1, 4096), value=st.integers(0, 255)),
        st.builds(Op, st.just("absurd"), at, size=st.sampled_from(WIDTHS),
                  value=st.sampled_from(ABSURD_VALUES)),
        st.builds(Op, st.just("duplicate"), at, size=st.one_of(small, st.integers(1, 8192)),
                  src=_offset(hot)),
        st.builds(Op, st.just("splice"), at, size=st.one_of(small, st.integers(1, 8192)),
                  src=_offset(hot)),
    )


def plans(hot_offsets: Sequence[Sequence[int]],
          weights: Sequence[int] | None = None) -> st.SearchStrategy[Plan]:
    """Plans for one of the seeds; `hot_offsets[i]` are seed i's non-zero regions, `weights[i]`
    how many times more often seed i is drawn (the long run favours seeds that parse fast, so
    a 15 MiB hive does not eat a target's whole time budget). The strategies are built once
    (building one per draw costs more than running most parsers)."""
    per_seed = [st.lists(_op(hot), min_size=1, max_size=MAX_OPS) for hot in hot_offsets]
    if weights:
        order = [i for i, weight in enumerate(weights) for _ in range(max(1, weight))]
        pick: st.SearchStrategy[int] = st.sampled_from(order)
    else:
        pick = st.integers(0, len(per_seed) - 1)

    @st.composite
    def draw_plan(draw: st.DrawFn) -> Plan:
        seed = draw(pick)
        return Plan(seed, tuple(draw(per_seed[seed])), draw(st.booleans()))

    return draw_plan()


def apply(data: bytes, ops: Sequence[Op]) -> bytes:
    """The seed's bytes with every operation applied in order."""
    buf = bytearray(data)
    for op in ops:
        _apply_one(buf, op)
    return bytes(buf)


def _apply_one(buf: bytearray, op: Op) -> None:
    n = len(buf)
    if op.kind == "truncate":
        del buf[op.at % (n + 1):]
        return
    if op.kind == "insert":
        at = op.at % (n + 1)
        buf[at:at] = op.blob or bytes([op.value]) * op.size
        return
    if n == 0:
        return
    at = op.at % n
    if op.kind == "flip":
        buf[at] ^= 1 << op.value
    elif op.kind == "overwrite":
        buf[at:at + len(op.blob)] = op.blob[: n - at]
    elif op.kind == "zero":
        end = min(n, at + op.size)
        buf[at:end] = bytes(end - at)
    elif op.kind == "absurd":
        at -= at % op.size
        if at + op.size <= n:
            value = op.value & ((1 << (8 * op.size)) - 1)
            buf[at:at + op.size] = value.to_bytes(op.size, "little")
    elif op.kind in ("duplicate", "splice"):
        src = op.src % n
        chunk = bytes(buf[src:src + op.size])
        if op.kind == "duplicate":
            buf[at:at] = chunk
        else:
            buf[at:at + len(chunk)] = chunk[: n - at]
    else:
        raise ValueError(f"unknown mutation {op.kind!r}")


def hot_offsets(data: bytes, block: int = 256, limit: int = 4096) -> list[int]:
    """Start offsets of the non-zero `block`-sized regions of `data` (at most `limit`, spread
    evenly over the file)."""
    found = [i for i in range(0, len(data), block) if data[i:i + block].strip(b"\0")]
    if len(found) > limit:
        step = len(found) / limit
        found = [found[int(i * step)] for i in range(limit)]
    return found
