"""Artifact definitions: data, not code. Where an artifact lives and which extractor reads it.

A definition file (`artifacts/*.yaml`) holds one mapping or a list of them (or several YAML
documents). An examiner adds a browser profile path or a whole new artifact without code, and
`--artifacts DIR` adds their own definitions to the shipped ones. Every error names the file and
the field, because a typo in a lab's definitions must not silently drop evidence.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from fnmatch import fnmatchcase

from triage.datalists import yaml_entries

REQUIRED = {"name": str, "family": str, "extractor": str, "paths": list}
OPTIONAL = {"doc": str, "max_size": int, "default": bool, "volumes": str, "exclude": list}
VOLUME_SCOPES = ("any", "system", "other")


class DefinitionError(Exception):
    """A definition file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Artifact:
    name: str
    family: str
    extractor: str
    paths: tuple[str, ...]
    doc: str = ""
    max_size: int | None = None  # bytes; bigger files are recorded as skipped, not parsed
    default: bool = True  # False: costly artifacts that run only when named with --only
    # any | system (volumes holding /Windows) | other (the rest: USB sticks, data partitions),
    # so a `/**/*.docx` sweep can cover removable media without walking the system volume.
    volumes: str = "any"
    # file-name patterns (last segment, case-insensitive) never matched even when a path does:
    # lets a catch-all such as `Mail/**/*` leave out an application's index and state files.
    exclude: tuple[str, ...] = ()
    origin: str = field(default="", compare=False)  # the file that defined it

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "family": self.family, "extractor": self.extractor,
                "paths": list(self.paths), "doc": self.doc, "max_size": self.max_size,
                "default": self.default, "volumes": self.volumes,
                "exclude": list(self.exclude), "origin": self.origin}

    def excludes(self, name: str) -> bool:
        """Whether a file of this name is left out by `exclude`."""
        lower = name.lower()
        return any(fnmatchcase(lower, pattern.lower()) for pattern in self.exclude)


def builtin_candidates() -> list[Path]:
    """Where the shipped definitions may be: the source tree, or the installed data directory."""
    return [Path(__file__).resolve().parent.parent / "artifacts",
            Path(sys.prefix) / "share" / "triage" / "artifacts"]


def builtin_dirs() -> list[Path]:
    """The shipped definitions' folder (one), or none when the installation lacks them."""
    return [c for c in builtin_candidates() if c.is_dir()][:1]


def _validate(entry: Any, origin: str, index: int) -> Artifact:
    where = f"{origin}: definition {index + 1}"
    if not isinstance(entry, dict):
        raise DefinitionError(f"{where}: expected a mapping with name, family, extractor, paths")
    if isinstance(entry.get("name"), str):
        where = f"{origin}: definition '{entry['name']}'"
    for key, kind in REQUIRED.items():
        if key not in entry:
            raise DefinitionError(f"{where}: missing field '{key}'")
        if not isinstance(entry[key], kind) or (kind is str and not entry[key].strip()):
            raise DefinitionError(f"{where}: field '{key}' must be a non-empty {kind.__name__}")
    for key, kind in OPTIONAL.items():
        if key in entry and entry[key] is not None and not isinstance(entry[key], kind):
            raise DefinitionError(f"{where}: field '{key}' must be a {kind.__name__}")
    if entry.get("volumes", "any") not in VOLUME_SCOPES:
        raise DefinitionError(f"{where}: field 'volumes' must be one of {', '.join(VOLUME_SCOPES)}")
    unknown = sorted(set(entry) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise DefinitionError(f"{where}: unknown field '{unknown[0]}'")
    paths = entry["paths"]
    if not paths:
        raise DefinitionError(f"{where}: field 'paths' is empty")
    for number, path in enumerate(paths, 1):
        if not isinstance(path, str) or not (path.startswith("/") or path == "@volume"):
            raise DefinitionError(f"{where}: field 'paths' item {number} must be a string "
                                  "starting with '/' (a path from the volume root) or '@volume'")
    exclude = entry.get("exclude") or []
    for number, pattern in enumerate(exclude, 1):
        if not isinstance(pattern, str) or not pattern or "/" in pattern:
            raise DefinitionError(f"{where}: field 'exclude' item {number} must be a file-name "
                                  "pattern without '/'")
    return Artifact(name=entry["name"].strip(), family=entry["family"].strip(),
                    extractor=entry["extractor"].strip(), paths=tuple(paths),
                    doc=(entry.get("doc") or "").strip(), max_size=entry.get("max_size"),
                    default=entry.get("default", True) is not False,
                    volumes=entry.get("volumes", "any"), exclude=tuple(exclude), origin=origin)


def load_file(path: Path) -> list[Artifact]:
    entries = yaml_entries(path, DefinitionError)
    return [_validate(entry, str(path), i) for i, entry in enumerate(entries)]


def load_definitions(extra_dirs: Iterable[str] = ()) -> list[Artifact]:
    """Shipped definitions, then the examiner's (whose names must not clash with shipped ones)."""
    seen: dict[str, Artifact] = {}
    if not builtin_dirs():
        # Without this a broken installation would run and silently find nothing.
        raise DefinitionError("the shipped artifact definitions are missing (looked in "
                              f"{', '.join(map(str, builtin_candidates()))}): reinstall triage")
    dirs = list(builtin_dirs()) + [Path(d) for d in extra_dirs]
    for folder in dirs:
        if not folder.is_dir():
            raise DefinitionError(f"{folder}: not a directory of artifact definitions")
        for path in sorted(folder.glob("*.y*ml")):
            for artifact in load_file(path):
                if artifact.name in seen:
                    raise DefinitionError(
                        f"{path}: definition '{artifact.name}': name already defined in "
                        f"{seen[artifact.name].origin}")
                seen[artifact.name] = artifact
    return list(seen.values())


def select(artifacts: list[Artifact], only: Iterable[str]) -> list[Artifact]:
    """Keep the artifacts whose name or family is listed (case-insensitive); all if none given."""
    wanted = {w.strip().lower() for item in only for w in item.split(",") if w.strip()}
    if not wanted:
        return [a for a in artifacts if a.default]
    known = {a.name.lower() for a in artifacts} | {a.family.lower() for a in artifacts}
    unknown = sorted(wanted - known)
    if unknown:
        raise DefinitionError(f"--only: no artifact or family named '{unknown[0]}' "
                              "(see `triage artifacts`)")
    # Naming an artifact selects it even when it is off by default; naming a family selects
    # the family's default artifacts plus any of its off-by-default ones named too.
    return [a for a in artifacts if a.name.lower() in wanted or
            (a.family.lower() in wanted and a.default)]


def for_volume(artifacts: list[Artifact], is_system: bool, loose: bool) -> list[Artifact]:
    """The definitions that apply to one volume (loose files count as a system volume's)."""
    wanted = "system" if is_system or loose else "other"
    return [a for a in artifacts if a.volumes in ("any", wanted)]


def relative_origin(origin: str) -> str:
    try:
        return os.path.relpath(origin)
    except ValueError:
        return origin
