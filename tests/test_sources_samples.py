"""dfVFS sources against real third-party images (skipped when ../shared/samples is absent)."""
from __future__ import annotations

import json
import textwrap

from conftest import read_jsonl, samples, tree_digest
from triage.extractors import Extractor, register
from triage.model import Event
from triage.sources import SourceOptions, open_evidence


@register
class _FileSizeForTests(Extractor):
    """Test-only extractor: one timeless event per file naming its size."""

    name = "test_file_size"
    family = "test"

    def extract(self, f, ctx):
        yield Event(None, "No time", f"{f.name}: {f.size} bytes", {"size": f.size})


def _defs(tmp_path, paths: list[str]):
    folder = tmp_path / "defs"
    folder.mkdir()
    lines = "\n".join(f"    - {p}" for p in paths)
    (folder / "test.yaml").write_text(textwrap.dedent(f"""\
        name: TestFiles
        family: test
        extractor: test_file_size
        paths:
        """) + lines + "\n")
    return folder


def test_mbr_with_extended_partition_offsets():
    evidence = open_evidence(str(samples("images", "tsk_volume_system.raw")))
    assert evidence.volume_system == "MBR"
    parts = {v.id: (v.offset, v.size) for v in evidence.volumes}
    assert parts["p1"] == (512, 179200)
    assert parts["p5"] == (180224, 1294336)


def test_split_e01_segments_found():
    evidence = open_evidence(str(samples("images", "image-split.E01")))
    assert evidence.containers == ["EWF"]
    assert [s.rsplit("/", 1)[-1] for s in evidence.segments] == ["image-split.E01", "image-split.E02"]


def test_vss_skipped_by_default_and_named_when_processed(cli, tmp_path):
    image = samples("images", "vsstest.qcow2")
    before = tree_digest(image)
    defs = _defs(tmp_path, ["/another_file", "/syslog", "/password.txt"])
    result = cli("run", image, "-o", tmp_path / "a", "--artifacts", defs, "--only", "TestFiles", "--json")
    summary = json.loads(result.output)
    assert summary["snapshots"] == {"found": 2, "processed": 0}
    assert sorted(e["source"]["path"] for e in read_jsonl(tmp_path / "a")) == ["/another_file", "/password.txt"]

    result = cli("run", image, "-o", tmp_path / "b", "--artifacts", defs, "--only", "TestFiles",
                 "--vss", "all", "--json")
    summary = json.loads(result.output)
    assert summary["snapshots"] == {"found": 2, "processed": 2}
    seen = sorted((e["source"]["volume"], e["source"]["path"]) for e in read_jsonl(tmp_path / "b"))
    assert seen == [("vol", "/another_file"), ("vol", "/password.txt"), ("vol/vss1", "/syslog"),
                    ("vol/vss2", "/another_file")]
    manifest = json.loads((tmp_path / "b" / "manifest.json").read_text())
    assert [s["created"] for s in manifest["snapshots"]["stores"]] == [
        "2013-12-03T06:35:09.7363787Z", "2013-12-03T06:37:48.9190583Z"]
    assert tree_digest(image) == before


def test_info_on_vss_image(cli):
    result = cli("info", samples("images", "vsstest.qcow2"), "--json")
    facts = json.loads(result.output)
    assert facts["containers"] == ["QCOW2"]
    assert [v["fs_type"] for v in facts["volumes"]] == ["NTFS"]
    assert len(facts["snapshots"]) == 2


def test_containers_open_to_the_same_files():
    names = {}
    for image in ("image.E01", "image.qcow2", "image.vhd", "image.vmdk"):
        evidence = open_evidence(str(samples("images", image)), SourceOptions())
        tree = evidence.volumes[0].tree
        names[image] = sorted(n for n, _, _ in tree.children(tree.root()))
    assert all(v == names["image.E01"] for v in names.values())
    assert "passwords.txt" in names["image.E01"]
