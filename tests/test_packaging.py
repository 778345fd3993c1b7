"""A non-editable install must carry the shipped definitions, lists and rules, and an
installation that lacks them must say so instead of running and finding nothing."""
from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import pytest

from triage import artifacts as artifacts_module
from triage.artifacts import DefinitionError, load_definitions
from triage.detection import rules as rules_module
from triage.detection.rules import RuleError, load_rules

ROOT = Path(__file__).resolve().parent.parent


def _data_files() -> dict[str, list[str]]:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["tool"]["setuptools"]["data-files"]


@pytest.mark.parametrize("folder", ["artifacts", "artifacts/lists", "rules"])
def test_every_shipped_file_is_installed(folder: str) -> None:
    """Each YAML file the loaders read is matched by a data-files pattern aimed at the folder
    the loaders look in (<prefix>/share/triage/<folder>)."""
    patterns = _data_files().get(f"share/triage/{folder}")
    assert patterns, f"no data-files entry installs {folder}/"
    shipped = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / folder).glob("*.y*ml"))
    assert shipped
    for name in shipped:
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name


def test_missing_definitions_are_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(artifacts_module, "builtin_candidates", lambda: [tmp_path / "nowhere"])
    with pytest.raises(DefinitionError, match="shipped artifact definitions are missing"):
        load_definitions()


def test_missing_rules_are_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(rules_module, "builtin_rule_candidates", lambda: (tmp_path / "x",))
    with pytest.raises(RuleError, match="shipped rules are missing"):
        load_rules()
    assert load_rules(builtin=False) == []  # --no-builtin-rules needs no shipped folder
