"""Definitions may name an NTFS data stream (`file:stream`) or the raw volume (`@volume`)."""
from __future__ import annotations

import json
import textwrap

from conftest import FIXTURE_IMAGES, read_jsonl
from triage.artifacts import Artifact
from triage.collect import find_files
from triage.extractors import Extractor, register
from triage.model import Event


class _FakeTree:
    """A tiny Tree with one file that has an alternate data stream."""

    def root(self):
        return "/"

    def children(self, node):
        if node == "/":
            yield "$Extend", "/$Extend", True
        elif node == "/$Extend":
            yield "$UsnJrnl", "/$Extend/$UsnJrnl", False

    def file(self, node, path):
        return ("file", path)

    def stream(self, node, path, name):
        return ("stream", path, name) if name.lower() == "$j" else None


def test_stream_patterns_match_the_named_stream_only():
    arts = [Artifact("Usn", "deleted", "x", ("/$Extend/$UsnJrnl:$J",)),
            Artifact("Max", "deleted", "y", ("/$Extend/$UsnJrnl:$Max",)),
            Artifact("Plain", "deleted", "z", ("/$extend/$usnjrnl",))]
    found = [(m.artifact.name, m.file) for m in find_files(_FakeTree(), arts)]
    assert found == [("Usn", ("stream", "/$Extend/$UsnJrnl", "$j")),
                     ("Plain", ("file", "/$Extend/$UsnJrnl"))]


@register
class _BootSector(Extractor):
    """Test-only: reads the raw volume's boot sector."""

    name = "test_boot_sector"
    family = "test"

    def extract(self, f, ctx):
        with f.open() as handle:
            boot = handle.read(512)
        yield Event(None, "No time", f"{f.fs_type} volume of {f.size} bytes",
                    {"oem": boot[3:11].decode("ascii", "replace"), "signature": boot[510:512].hex()})


def test_volume_definition_gets_the_raw_volume(cli, tmp_path):
    defs = tmp_path / "defs"
    defs.mkdir()
    (defs / "v.yaml").write_text(textwrap.dedent("""\
        name: BootSector
        family: test
        extractor: test_boot_sector
        paths: ['@volume']
        """))
    case = tmp_path / "c"
    result = cli("run", FIXTURE_IMAGES / "usb-fat32.raw", "-o", case, "--artifacts", defs,
                 "--only", "BootSector", "--json")
    assert result.exit_code == 0, result.output
    (event,) = read_jsonl(case)
    assert event["message"] == "FAT volume of 34603008 bytes"
    assert event["data"]["signature"] == "55aa"
    assert event["source"]["path"] == "@volume" and event["source"]["sha256"] is None
    assert json.loads(result.output)["files"] == 1


def test_sparse_streams_are_hashed_over_allocated_runs_only():
    import hashlib
    import io

    from triage.file_digests import has_sparse_runs as _has_sparse_runs, hash_allocated as _hash_allocated

    class SparseStream:
        """16 GiB logical, two allocated 4 KiB runs: reading the zeros would take minutes."""

        path, inode, size = "/$Extend/$UsnJrnl:$J", 99, 16 * 2**30 + 8192

        def extents(self):
            return [(0, 16 * 2**30, True), (16 * 2**30, 8192, False)]

        def open(self):
            data = b"A" * 4096 + b"B" * 4096

            class Handle(io.BytesIO):
                def seek(self, offset, whence=0):
                    assert offset >= 16 * 2**30, "a sparse run was read"
                    return super().seek(offset - 16 * 2**30)

            return Handle(data)

    stream = SparseStream()
    assert _has_sparse_runs(stream)
    digests, allocated = _hash_allocated(stream)
    assert allocated == 8192
    assert digests["sha256"] == hashlib.sha256(b"A" * 4096 + b"B" * 4096).hexdigest()
