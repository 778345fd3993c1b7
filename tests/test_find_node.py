"""Finding one file or folder by path on a disk image (triage.collect.find_node): through
NTFS's own index where it answers, else by listing folders, but only below the deepest folder
the index knows. It must find exactly what listing every folder from the root finds."""
from __future__ import annotations

from typing import Any

import pytest

from conftest import FIXTURE_IMAGES
from triage.collect import find_node, path_times
from triage.sources import open_evidence


def _walk_from_root(tree: Any, path: str, directory: bool | None) -> tuple[Any, str] | None:
    """The reference: every folder listed from the root, names compared case-insensitively,
    the first match in name order (a directory first where either kind will do)."""
    kinds = [True, False] if directory is None else [directory]
    for kind in kinds:
        node, real = tree.root(), []
        parts = [p for p in path.strip("/").split("/") if p]
        for depth, part in enumerate(parts):
            last = depth == len(parts) - 1
            for name, child, is_dir in tree.children(node):
                if name.lower() == part.lower() and is_dir == (kind or not last):
                    node, real = child, real + [name]
                    break
            else:
                break
        else:
            return node, "/" + "/".join(real)
    return None


@pytest.fixture(scope="module")
def tree():
    return open_evidence(str(FIXTURE_IMAGES / "win-mbr.raw")).processable()[0].tree


PATHS = ["/Windows/System32/config/SYSTEM", "/windows/SYSTEM32/Config/software",
         "/Windows/System32/config", "/Users/alice", "/users/ALICE/ntuser.dat", "/$MFT",
         "/Windows", "/Windows/system32/config/systemprofile",
         "/Windows/ServiceProfiles/LocalService", "/Nowhere/at/all", "/Users/alice/NoSuchFile",
         "/Windows/System32/config/SYSTEM/not-a-folder", "/Users/alice/Documents/../x", "/"]


@pytest.mark.parametrize("directory", [False, True, None])
@pytest.mark.parametrize("path", PATHS)
def test_find_node_finds_what_listing_from_the_root_finds(tree, path, directory) -> None:
    found, expected = find_node(tree, path, directory), _walk_from_root(tree, path, directory)
    assert (found is None) == (expected is None)
    if found is not None:
        assert found[1] == expected[1]
        assert _entry(found[0]) == _entry(expected[0])


def _entry(node: Any) -> int:
    """The MFT entry number (nodes found by path and by listing have other path specs)."""
    return node._fsntfs_file_entry.file_reference & 0xFFFFFFFFFFFF


def test_a_missing_path_lists_only_below_the_deepest_folder_the_index_knows(tree, monkeypatch):
    listed = []
    children = type(tree).children

    def spy(self, node):
        listed.append(node.name)
        return children(self, node)
    monkeypatch.setattr(type(tree), "children", spy)
    assert find_node(tree, "/Windows/System32/config/systemprofile", directory=None) is None
    assert listed == ["config"]  # not the root, /Windows or System32
    listed.clear()
    assert path_times(tree, "/Windows/ServiceProfiles/LocalService") is None
    assert listed == ["Windows"]  # once: a folder or a file at once, not one after the other


def test_stored_names_keep_their_case_when_asked_in_another(tree) -> None:
    first = find_node(tree, "/windows/system32/CONFIG/software")
    again = find_node(tree, "/WINDOWS/SYSTEM32/config/SYSTEM")  # the folders remembered
    assert first[1] == "/Windows/System32/config/SOFTWARE"
    assert again[1] == "/Windows/System32/config/SYSTEM"
