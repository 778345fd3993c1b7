"""Collection: find the files that artifact definitions name, in one guided walk per volume.

Why a guided walk and not a full listing: a workstation has hundreds of thousands of files and
the artifacts live in a few dozen folders. All definitions' path patterns are merged, and a
directory is listed only when some pattern can still match below it, each directory once.
Matching is case-insensitive, as on Windows. Patterns use shell wildcards per path segment
(`*`, `?`, `[...]`) and `**` for any number of folders.

A single-file evidence item, or a loose folder of artifacts that is not laid out like a system
drive, is matched by file name against each pattern's last segment (`by_name`); a last segment
made only of wildcards (`Mail/**/*`) says nothing about the name and is not used there.
A definition's `exclude` patterns leave out files by name in both kinds of matching.
"""
from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Iterator

from triage.artifacts import Artifact
from triage.files import EvidenceFile
from triage.sources import Tree


@dataclass(frozen=True)
class _State:
    artifact_index: int
    segments: tuple[str, ...]  # lower-cased pattern segments
    position: int
    stream: str | None = None  # `/$Extend/$UsnJrnl:$J`: the NTFS data stream wanted


VOLUME_PATH = "@volume"  # a definition path naming the raw volume itself (e.g. FAT deleted entries)


@dataclass
class Match:
    artifact: Artifact
    file: EvidenceFile


def _segments(pattern: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in pattern.strip("/").split("/") if s)


_WILDCARDS = frozenset("*?[")
_LITERAL: dict[str, bool] = {}


def _matches(name: str, seg: str) -> bool:
    """fnmatchcase(name, seg), with a plain comparison for a segment without wildcards (most
    are: `windows`, `system32`...); this runs for every entry of every folder walked."""
    literal = _LITERAL.get(seg)
    if literal is None:
        literal = _LITERAL[seg] = not (_WILDCARDS & set(seg))
    return name == seg if literal else fnmatchcase(name, seg)


def _next(state: _State, position: int) -> _State:
    return _State(state.artifact_index, state.segments, position, state.stream)


def _advance(state: _State, name: str, is_dir: bool) -> tuple[list[_State], bool]:
    """States that continue below `name`, and whether `name` (a file) completes the pattern."""
    segs, pos = state.segments, state.position
    if pos >= len(segs):
        return [], False
    seg = segs[pos]
    if seg == "**":
        carried: list[_State] = []
        if is_dir:
            carried.append(state)  # ** swallows this folder too
        more, done = _advance(_next(state, pos + 1), name, is_dir)
        return carried + more, done
    if not _matches(name, seg):
        return [], False
    if pos == len(segs) - 1:
        return [], not is_dir
    return ([_next(state, pos + 1)] if is_dir else []), False


def find_files(tree: Tree, artifacts: list[Artifact], by_name: bool = False) -> Iterator[Match]:
    """Yield (artifact, file) for every file a definition names, in a stable order."""
    if by_name:
        yield from _match_by_name(tree, tree.root(), "", artifacts)
        return
    states = []
    for i, artifact in enumerate(artifacts):
        for pattern in artifact.paths:
            if pattern.strip("/") == VOLUME_PATH:
                volume = getattr(tree, "volume_file", lambda: None)()
                if volume is not None:
                    yield Match(artifact, volume)
                continue
            segments = _segments(pattern)
            stream = None
            if segments and ":" in segments[-1]:
                last, stream = segments[-1].split(":", 1)
                segments = segments[:-1] + (last,)
            states.append(_State(i, segments, 0, stream))
    yield from _walk(tree, tree.root(), "", states, artifacts, set())


def _walk(tree: Tree, node: Any, path: str, states: list[_State], artifacts: list[Artifact],
          seen: set[tuple[int, str]]) -> Iterator[Match]:
    for name, child, is_dir in tree.children(node):
        lower = name.lower()
        child_path = f"{path}/{name}"
        next_states: list[_State] = []
        matched: list[tuple[int, str | None]] = []
        for state in states:
            carried, complete = _advance(state, lower, is_dir)
            next_states.extend(carried)
            if complete:
                matched.append((state.artifact_index, state.stream))
        for index, stream in dict.fromkeys(matched):
            if artifacts[index].excludes(name):
                continue
            key = (index, f"{child_path}:{stream}" if stream else child_path)
            if key in seen:
                continue
            seen.add(key)
            if stream is None:
                yield Match(artifacts[index], tree.file(child, child_path))
                continue
            opener = getattr(tree, "stream", None)
            found = opener(child, child_path, stream) if opener else None
            if found is not None:
                yield Match(artifacts[index], found)
        if is_dir and next_states:
            yield from _walk(tree, child, child_path, list(dict.fromkeys(next_states)), artifacts, seen)


def _match_by_name(tree: Tree, node: Any, path: str, artifacts: list[Artifact]) -> Iterator[Match]:
    for name, child, is_dir in tree.children(node):
        child_path = f"{path}/{name}"
        if is_dir:
            yield from _match_by_name(tree, child, child_path, artifacts)
            continue
        lower = name.lower()
        for artifact in artifacts:
            if artifact.excludes(lower):
                continue
            if any(fnmatchcase(lower, last) for last in _name_patterns(artifact)):
                yield Match(artifact, tree.file(child, child_path))


def _name_patterns(artifact: Artifact) -> list[str]:
    """The last segments of an artifact's paths that say something about a file's name."""
    lasts = [_segments(p)[-1] for p in artifact.paths if _segments(p)]
    return [last for last in lasts if last.strip("*?")]


def _is_directory(node: Any) -> bool | None:
    try:
        return bool(node.IsDirectory())
    except Exception:
        return None


def find_node(tree: Tree, path: str, directory: bool | None = False) -> tuple[Any, str] | None:
    """(node, path as stored) of a file (or a directory; None: either, a directory first) by
    its path (case-insensitive).

    Where the file system has an index (`tree.lookup`: NTFS), the path is looked up in it;
    when that finds nothing, folders are listed as before (names compared case-insensitively),
    but only below the deepest folder of the path that the index does find. Why: a path that
    is not there (a profile folder of the registry's ProfileList that was never created, such
    as /Windows/system32/config/systemprofile) was found missing by listing /Windows and
    System32, thousands of entries, seconds each time."""
    parts = [p for p in path.strip("/").split("/") if p]
    node, real, start = None, [], 0
    lookup = getattr(tree, "lookup", None)
    if lookup is not None:
        found = lookup(path)
        if found is not None and (directory is None or _is_directory(found[0]) == directory):
            return found
        for cut in range(len(parts) - 1, 0, -1):  # the deepest folder the index knows
            above = lookup("/" + "/".join(parts[:cut]))
            if above is not None and _is_directory(above[0]):
                node, real, start = above[0], [p for p in above[1].split("/") if p], cut
                break
    if node is None:
        node = tree.root()
    for depth in range(start, len(parts)):
        part, last = parts[depth].lower(), depth == len(parts) - 1
        kinds = (True, False) if last and directory is None else (bool(directory) or not last,)
        hits: dict[bool, tuple[str, Any]] = {}
        for name, child, is_dir in tree.children(node):  # (sorted by name: the first wins)
            if is_dir in kinds and is_dir not in hits and name.lower() == part:
                hits[is_dir] = (name, child)
                if is_dir == kinds[0]:
                    break
        hit = next((hits[kind] for kind in kinds if kind in hits), None)
        if hit is None:
            return None
        node = hit[1]
        real.append(hit[0])
    return node, "/" + "/".join(real)


def find_path(tree: Tree, path: str) -> EvidenceFile | None:
    """One file by its exact path (case-insensitive), or None: for well-known system files."""
    found = find_node(tree, path)
    return tree.file(found[0], found[1]) if found else None


def path_times(tree: Tree, path: str) -> dict[str, Any] | None:
    """The file-system times of a folder (or file) by path, where the source keeps evidence
    times (a disk image); None for collected folders, whose copies' times are not evidence."""
    times = getattr(tree, "times", None)
    if times is None:
        return None
    found = find_node(tree, path, directory=None)
    return times(found[0]) if found else None


def find_again(tree: Tree, path: str, locator: Any = None) -> EvidenceFile | None:
    """A collected file found again in another opening of its volume (a worker process, the
    hashing thread's own reader): by its locator (`DfvfsFile.locator`, an MFT entry) where it
    has one, else by its path."""
    at = getattr(tree, "file_at", None)
    found = at(locator, path) if locator is not None and at is not None else None
    return found or locate(tree, path)


def locate(tree: Tree, path: str) -> EvidenceFile | None:
    """Whatever a Match's file path names again: a file, a `file:stream`, or `@volume`."""
    if path == VOLUME_PATH:
        return getattr(tree, "volume_file", lambda: None)()
    head, _, stream = path.rpartition(":")
    opener = getattr(tree, "stream", None)
    if head and stream and "/" not in stream and opener is not None:
        found = find_node(tree, head)
        if found is not None:
            located = opener(found[0], found[1], stream)
            if located is not None:
                return located
    return find_path(tree, path)
