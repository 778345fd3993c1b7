"""Artifact definitions (validation, matching) and extractor discovery through entry points."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from triage.artifacts import Artifact, DefinitionError, load_definitions, load_file, select
from triage.collect import find_files
from triage.sources.directory import OsTree


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.mark.parametrize("body, message", [
    ("- name: X\n  family: f\n  extractor: e\n", "definition 'X': missing field 'paths'"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: /a\n", "field 'paths' must be a non-empty list"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: [a/b]\n", "field 'paths' item 1 must be a string starting with '/'"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: [/a]\n  colour: red\n", "unknown field 'colour'"),
    ("- name: X\n  family: ''\n  extractor: e\n  paths: [/a]\n", "field 'family' must be a non-empty str"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: [/a]\n  max_size: big\n", "field 'max_size' must be a int"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: [/a]\n  exclude: [a/b]\n", "field 'exclude' item 1 must be a file-name pattern"),
    ("- name: X\n  family: f\n  extractor: e\n  paths: [/a]\n  exclude: '*.msf'\n", "field 'exclude' must be a list"),
    ("- just a string\n", "definition 1: expected a mapping"),
    ("- name: X\n  family: [\n", "line"),
])
def test_definition_errors_name_file_and_field(tmp_path, body, message):
    path = write(tmp_path / "bad.yaml", body)
    with pytest.raises(DefinitionError) as info:
        load_file(path)
    assert str(path) in str(info.value)
    assert message in str(info.value)


def test_shipped_definitions_load_and_examiner_adds_own(tmp_path):
    shipped = load_definitions()
    names = {a.name for a in shipped}
    assert {"WindowsPrefetch", "RecycleBin", "RecycleBinINFO2"} <= names
    write(tmp_path / "mine.yaml", """
        name: MyNotes
        family: custom
        extractor: recycle_bin
        paths: [/Notes/*.bin]
    """)
    combined = load_definitions([str(tmp_path)])
    assert {a.name for a in combined} == names | {"MyNotes"}
    write(tmp_path / "clash.yaml", """
        name: RecycleBin
        family: custom
        extractor: recycle_bin
        paths: [/x]
    """)
    with pytest.raises(DefinitionError, match="name already defined"):
        load_definitions([str(tmp_path)])


def test_select_by_name_or_family_case_insensitive():
    a = Artifact("A", "execution", "x", ("/a",))
    b = Artifact("B", "deleted", "y", ("/b",))
    assert select([a, b], ["EXECUTION"]) == [a]
    assert select([a, b], ["b,a"]) == [a, b]
    assert select([a, b], []) == [a, b]


def test_matching_is_case_insensitive_with_wildcards_and_globstar(tmp_path):
    root = tmp_path / "root"
    for rel in ["WINDOWS/prefetch/CMD.EXE-1.PF", "Windows/Prefetch/readme.txt",
                "Users/Alice/AppData/Local/Google/Chrome/User Data/Default/History",
                "Users/bob/deep/a/b/c/History", "Users/bob/History.txt"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(b"x")
    arts = [Artifact("Pf", "execution", "prefetch", ("/Windows/Prefetch/*.pf",)),
            Artifact("Hist", "browser", "h", ("/users/*/AppData/Local/Google/Chrome/User Data/*/History",
                                               "/Users/*/deep/**/History"))]
    found = [(m.artifact.name, m.file.path) for m in find_files(OsTree(str(root)), arts)]
    assert found == [
        ("Hist", "/Users/Alice/AppData/Local/Google/Chrome/User Data/Default/History"),
        ("Hist", "/Users/bob/deep/a/b/c/History"),
        ("Pf", "/WINDOWS/prefetch/CMD.EXE-1.PF"),
    ]


def test_artifacts_command_lists_definitions(cli):
    result = cli("artifacts", "--json")
    listed = json.loads(result.output)
    prefetch = next(a for a in listed if a["name"] == "WindowsPrefetch")
    assert prefetch["extractor"] == "prefetch" and prefetch["family"] == "execution"
    assert all(a["extractor_installed"] for a in listed)


def test_definition_naming_unknown_extractor_is_refused(cli, recycle_tree, tmp_path):
    defs = write(tmp_path / "defs" / "x.yaml", """
        name: Ghost
        family: custom
        extractor: no_such_extractor
        paths: [/x]
    """).parent
    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--artifacts", defs)
    assert result.exit_code == 2
    assert "x.yaml: definition 'Ghost': field 'extractor': no extractor named 'no_such_extractor'" in result.output


PLUGIN = '''
"""A third-party extractor: one event per line of a .notes file."""
from triage.extractors import Extractor
from triage.model import Event, posix


class NotesExtractor(Extractor):
    name = "thirdparty_notes"
    family = "custom"

    def extract(self, f, ctx):
        for number, line in enumerate(f.read().decode().splitlines(), 1):
            seconds, text = line.split(" ", 1)
            yield Event(posix(int(seconds)), "Written", text, {"line": number})
'''


def test_plugin_from_outside_the_package_is_discovered_and_run(tmp_path, recycle_tree):
    site = tmp_path / "site"
    write(site / "notes_plugin.py", PLUGIN)
    dist = site / "notes_plugin-1.0.dist-info"
    write(dist / "METADATA", "Metadata-Version: 2.1\nName: notes-plugin\nVersion: 1.0\n")
    write(dist / "entry_points.txt", "[triage.extractors]\nnotes = notes_plugin:NotesExtractor\n")
    defs = write(tmp_path / "defs" / "notes.yaml", """
        name: Notes
        family: custom
        extractor: thirdparty_notes
        paths: [/Users/*/*.notes]
    """).parent
    write(recycle_tree / "Users" / "alice" / "todo.notes", "1700000000 copy the list\n1700000060 quit\n")
    env = dict(os.environ, PYTHONPATH=str(site))
    triage = Path(sys.executable).with_name("triage")
    listing = subprocess.run([str(triage), "artifacts", "--json", "--artifacts", str(defs)],
                             capture_output=True, text=True, env=env, check=True)
    assert any(a["name"] == "Notes" and a["extractor_installed"] for a in json.loads(listing.stdout))
    case = tmp_path / "case"
    proc = subprocess.run([str(triage), "run", str(recycle_tree), "-o", str(case), "--artifacts",
                           str(defs), "--only", "Notes", "--json"],
                          capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(l) for l in (case / "timeline.jsonl").read_text().splitlines()]
    assert [(e["timestamp"], e["message"], e["extractor"], e["user"]) for e in events] == [
        ("2023-11-14T22:13:20Z", "copy the list", "thirdparty_notes", "alice"),
        ("2023-11-14T22:14:20Z", "quit", "thirdparty_notes", "alice"),
    ]
    assert events[0]["source"]["path"] == "/Users/alice/todo.notes"


def test_off_by_default_artifacts_run_only_when_named():
    on = Artifact("On", "filesystem", "x", ("/a",))
    off = Artifact("Off", "filesystem", "y", ("/b",), default=False)
    assert select([on, off], []) == [on]
    assert select([on, off], ["filesystem"]) == [on]
    assert select([on, off], ["off"]) == [off]
    assert select([on, off], ["filesystem,Off"]) == [on, off]
