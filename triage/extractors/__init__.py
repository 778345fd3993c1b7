"""Extractor plugin boundary: the base class, the registry, and what an extractor is given.

An extractor is one module per file format. It declares a `name` (referenced by
`artifacts/*.yaml`) and turns one evidence file into Events. It never sees the engine: the
engine adds provenance, hashes and host. Extractors are found through the `triage.extractors`
entry-point group, so the built-in ones (declared in pyproject.toml) and a third party's are
discovered the same way and adding one never means editing the engine.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any, Callable, Iterator

from triage.files import EvidenceFile
from triage.model import ArtifactError, Event

ENTRY_POINT_GROUP = "triage.extractors"

__all__ = [
    "ArtifactError",
    "Event",
    "ExtractionContext",
    "Extractor",
    "EvidenceFile",
    "load_extractors",
    "register",
]


@dataclass
class ExtractionContext:
    """What the engine knows about the system an artifact came from.

    `users_by_sid` comes from the SOFTWARE hive's ProfileList when there is one; `timezone` is the
    zone used to convert local-time sources (recorded in the case), `None` when unknown.
    """

    host: str | None = None
    users_by_sid: dict[str, str] = field(default_factory=dict)
    timezone: str | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    # Extractor settings from the command line (e.g. {"evtx_all": True}); unknown keys ignored.
    options: dict[str, Any] = field(default_factory=dict)
    # Folders of definitions (shipped first, then --artifacts DIRs): an extractor's own data
    # lists live in their `lists/` sub-folder, so an examiner extends a list the same way.
    definition_dirs: list[str] = field(default_factory=list)
    # Another file of the same volume by its path (case-insensitive), e.g. the USN journal
    # parser asking for /$MFT to rebuild paths; None where the evidence has no such file.
    open_path: Callable[[str], EvidenceFile | None] = field(default=lambda path: None, repr=False)
    # A folder's or file's own file-system times on the same volume ({"created": Timestamp...}),
    # e.g. a profile folder's creation; None for collected folders and where there is none.
    path_times: Callable[[str], dict[str, Any] | None] = field(default=lambda path: None,
                                                               repr=False)

    def list_files(self, name: str) -> list[str]:
        """Every `lists/<name>` file in the definition folders, shipped one first."""
        import os

        found = [os.path.join(d, "lists", name) for d in self.definition_dirs]
        return [p for p in found if os.path.isfile(p)]

    def user_for_sid(self, sid: str | None) -> str | None:
        """Account name for a SID; the SID itself when the system does not name it."""
        if not sid:
            return None
        return self.users_by_sid.get(sid.upper(), sid)

    @staticmethod
    def user_for_path(path: str) -> str | None:
        """The profile a path lies in: /Users/<name>/... or /Documents and Settings/<name>/..."""
        match = re.match(r"^/(?:users|documents and settings)/([^/]+)/", path, re.IGNORECASE)
        if not match or match.group(1).lower() in {"public", "default", "all users", "default user"}:
            return None
        return match.group(1)

    def warn(self, message: str) -> None:
        """A recoverable oddity in the file (kept in the case's error list as a warning)."""
        self.warnings.append(message)

    def error(self, message: str) -> None:
        """Part of the file could not be read (an error row), though extraction went on."""
        self.errors.append(message)

    def note(self, message: str) -> None:
        """A fact about how the file was read (e.g. a hive recovered from its logs)."""
        self.notes.append(message)


class Extractor:
    """Base class: subclass, set `name` and `family`, implement `extract`.

    `extract(f, ctx)` yields Events from one evidence file. Raise ArtifactError (or let any
    exception escape) when the file is unreadable: the engine records it against that file only.
    """

    name: str = ""
    family: str = ""
    description: str = ""
    # True: events yielded one after the other may carry the very same `data` dict (one
    # record's several times), which is never changed once yielded; the engine then serialises
    # it once. Opt-in, because an extractor that changed a shared dict between yields would
    # otherwise store stale data.
    shares_data: bool = False

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        raise NotImplementedError


_REGISTRY: dict[str, type[Extractor]] = {}


def register(cls: type[Extractor]) -> type[Extractor]:
    """Class decorator: make an extractor known by its `name`."""
    if not cls.name:
        raise ValueError(f"{cls.__qualname__} has no name")
    _REGISTRY[cls.name] = cls
    return cls


@dataclass
class LoadReport:
    extractors: dict[str, type[Extractor]]
    failures: list[tuple[str, str]]  # (entry point, reason)


def _import_builtin_modules() -> None:
    """Import every module of this package (the fallback when the package is not installed)."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")


def load_extractors() -> LoadReport:
    """Discover extractors through the entry-point group, then any built-in not declared there.

    An entry point may name a module (whose @register classes count) or an Extractor class. A
    plugin that fails to import is reported, never fatal.
    """
    failures: list[tuple[str, str]] = []
    for entry in metadata.entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # a broken third-party plugin must not stop the run
            failures.append((f"{entry.name} = {entry.value}", f"{type(exc).__name__}: {exc}"))
            continue
        if isinstance(loaded, type) and issubclass(loaded, Extractor):
            register(loaded)
    _import_builtin_modules()
    return LoadReport(dict(_REGISTRY), failures)
