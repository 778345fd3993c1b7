"""Local-time conversion: --source-tz first, else the system's zone (with DST), else its bias."""
from __future__ import annotations

import datetime as dt

import pytest

from triage.artifacts import builtin_dirs
from triage.timezones import local_to_utc, resolve_zone

DIRS = [str(d) for d in builtin_dirs()]


def test_resolution_order():
    assert resolve_zone("Europe/Paris", "Tokyo Standard Time", -540, DIRS) == "Europe/Paris"
    assert resolve_zone(None, "Tokyo Standard Time", -540, DIRS) == "Asia/Tokyo"
    assert resolve_zone(None, "Unlisted Standard Time", -330, DIRS) == "UTC+05:30"
    assert resolve_zone(None, None, 300, DIRS) == "UTC-05:00"
    assert resolve_zone(None, None, None, DIRS) is None


def test_conversion_applies_dst_and_never_guesses():
    summer = dt.datetime(2026, 7, 1, 12, 0, 0, 123456)
    assert local_to_utc(summer, "Asia/Tokyo").iso() == "2026-07-01T03:00:00.123456Z"
    assert local_to_utc(summer, "America/New_York").iso() == "2026-07-01T16:00:00.123456Z"
    assert local_to_utc(dt.datetime(2026, 1, 1, 12), "America/New_York").iso() == "2026-01-01T17:00:00.000000Z"
    assert local_to_utc(summer, "UTC+05:30").iso() == "2026-07-01T06:30:00.123456Z"
    assert local_to_utc(summer, None) is None
    with pytest.raises(ValueError):
        local_to_utc(summer, "Mars/Base")


def test_run_records_zone_and_refuses_unknown(cli, recycle_tree, tmp_path):
    import json

    result = cli("run", recycle_tree, "-o", tmp_path / "c", "--source-tz", "Asia/Tokyo", "--quiet")
    assert result.exit_code == 0
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    assert manifest["local_time_zone"] == "Asia/Tokyo"
    bad = cli("run", recycle_tree, "-o", tmp_path / "d", "--source-tz", "Mars/Base")
    assert bad.exit_code == 2 and "unknown time zone 'Mars/Base'" in bad.output


def test_broken_zone_list_is_a_definition_error(tmp_path):
    import pytest

    from triage.artifacts import DefinitionError
    from triage.timezones import resolve_zone

    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "windows_zones.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="windows_zones.yaml: expected a mapping"):
        resolve_zone(None, "Tokyo Standard Time", -540, [str(tmp_path)])
    (lists / "windows_zones.yaml").write_text("a: [\n", encoding="utf-8")
    with pytest.raises(DefinitionError, match="not valid YAML"):
        resolve_zone(None, "Tokyo Standard Time", -540, [str(tmp_path)])
