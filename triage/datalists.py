"""Data lists that extractors read (`lists/*.yaml` beside the artifact definitions).

The shipped list comes first, then the examiner's (from `--artifacts DIR/lists/`), so a lab
extends a list (URL categories, free-mail domains, AppIDs) without code. Compiled lists are
cached per process, keyed by the files' paths, sizes and modification times.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable, Sequence, TypeVar

import yaml

T = TypeVar("T")


def read_yaml(path: Any, error: type[Exception], all_documents: bool = False,
              loader: type = yaml.SafeLoader) -> Any:
    """A YAML file's content (a list of its documents with all_documents); `error` naming the
    file, line and problem when it cannot be read. Used for lists, definitions and rules."""
    try:
        with open(path, encoding="utf-8") as handle:
            if all_documents:
                return list(yaml.load_all(handle, Loader=loader))  # noqa: S506 - safe loaders only
            return yaml.load(handle, Loader=loader)  # noqa: S506 - safe loaders only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}:" if mark else ""
        raise error(f"{path}:{line} not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{path}: cannot read: {exc}") from None


def yaml_entries(path: Any, error: type[Exception], loader: type = yaml.SafeLoader) -> list[Any]:
    """The entries of a definitions or rules file: each document is one entry or a list."""
    entries: list[Any] = []
    for doc in read_yaml(path, error, all_documents=True, loader=loader):
        if doc is not None:
            entries.extend(doc if isinstance(doc, list) else [doc])
    return entries


def load_cached(paths: Sequence[str], cache: dict[tuple, T],
                compile_lists: Callable[[Iterable[tuple[str, Any]]], T],
                error: type[Exception]) -> T:
    """Compile the lists in `paths` once per process (until one of the files changes)."""
    key_parts = []
    for path in paths:
        try:
            st = os.stat(path)
            key_parts.append((os.path.abspath(path), st.st_size, st.st_mtime_ns))
        except OSError:
            key_parts.append((os.path.abspath(path), -1, -1))
    key = tuple(key_parts)
    found = cache.get(key)
    if found is None:
        found = compile_lists((path, read_yaml(path, error)) for path in paths)
        cache[key] = found
    return found


def shipped_list(name: str) -> str | None:
    """The list shipped with the definitions (source tree or installed data directory)."""
    from triage.artifacts import builtin_dirs

    for folder in builtin_dirs():
        candidate = os.path.join(folder, "lists", name)
        if os.path.isfile(candidate):
            return candidate
    return None


def lists_for_context(ctx: Any, name: str, load: Callable[[Sequence[str]], T],
                      error: type[Exception], what: str) -> T:
    """The compiled list `name` for an extraction: every `lists/<name>` the context names
    (the shipped one when it names none). An unreadable list is reported with ctx.error() and
    left out; the others still apply."""
    paths = list(ctx.list_files(name)) if hasattr(ctx, "list_files") else []
    if not paths:
        shipped = shipped_list(name)
        paths = [shipped] if shipped else []
    try:
        return load(paths)
    except error:
        pass
    good = []
    for path in paths:
        try:
            load([path])
            good.append(path)
        except error as exc:
            report = getattr(ctx, "error", None) or getattr(ctx, "warn")
            report(f"{what} ignored: {exc}")
    return load(good)
