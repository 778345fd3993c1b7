"""Hive opening and transaction-log recovery against real dirty hives (third-party samples)."""
from __future__ import annotations

import shutil

import pytest

from conftest import samples, tree_digest
from triage.extractors.registry import hive_type
from triage.files import LocalFile
from triage.model import ArtifactError
from triage.registry.hive import open_hive


def _keys(registry, path):
    try:
        return sorted(k.name() for k in registry.open(path).subkeys())
    except Exception:
        return None


def test_new_format_dual_logs_recover_the_yarp_hive():
    folder = samples("registry", "yarp", "NewDirtyHive1")
    before = tree_digest(folder)
    opened = open_hive(LocalFile(str(folder / "NewDirtyHive"), path="/NewDirtyHive"))
    assert opened.dirty and opened.recovered
    assert opened.logs_applied == ["NewDirtyHive.LOG1", "NewDirtyHive.LOG2"]
    root = opened.registry.root()
    assert [k.name() for k in root.subkeys()] == ["Key3"]
    assert _keys(opened.registry, "Key3") == ["Key3_1", "Key3_2", "Key3_3"]
    assert opened.registry.open("Key3").value("(default)").value() == "1" * 1440
    assert tree_digest(folder) == before  # recovery happens in memory


def test_old_format_log_recovers_the_yarp_hive():
    folder = samples("registry", "yarp", "OldDirtyHive")
    opened = open_hive(LocalFile(str(folder / "OldDirtyHive"), path="/OldDirtyHive"))
    assert opened.recovered and opened.logs_applied == ["OldDirtyHive.LOG1"]
    registry = opened.registry
    assert "1" not in _keys(registry, "key_with_many_subkeys")
    registry.open("key_with_many_subkeys\\5000\\find_me_in_log")
    value = registry.open("key_with_many_subkeys\\4500").value("V").value()
    assert value[:4] == ["a", "bb", "ccc", ""]


def test_dirty_hive_without_logs_is_read_as_is_with_a_problem(tmp_path):
    source = samples("registry", "yarp", "NewDirtyHive1", "NewDirtyHive")
    shutil.copy(source, tmp_path / "NewDirtyHive")
    opened = open_hive(LocalFile(str(tmp_path / "NewDirtyHive"), path="/NewDirtyHive"))
    assert opened.dirty and not opened.recovered
    assert "no transaction log" in opened.problems[0]
    assert sorted(k.name() for k in opened.registry.root().subkeys()) == ["Key1", "Key2"]


def test_real_ntuser_and_usrclass_logs_apply():
    tony = samples("registry", "win10", "NTUSER-tony-transactions.DAT")
    opened = open_hive(LocalFile(str(tony), path=f"/Users/tony/{tony.name}"))
    assert opened.recovered and opened.logs_applied == ["NTUSER-tony-transactions.DAT.LOG1"]
    usrclass = samples("registry", "win10", "UsrClass-regipy.dat")
    opened = open_hive(LocalFile(str(usrclass), path=f"/{usrclass.name}"))
    assert opened.logs_applied == ["UsrClass-regipy.dat.LOG1", "UsrClass-regipy.dat.LOG2"]


def test_not_a_hive_and_truncated_hive(tmp_path):
    junk = tmp_path / "SYSTEM"
    junk.write_bytes(b"\0" * 8192)
    with pytest.raises(ArtifactError, match="no regf signature"):
        open_hive(LocalFile(str(junk), path="/SYSTEM"))
    source = samples("registry", "win7", "SYSTEM").read_bytes()
    short = tmp_path / "SYSTEM2"
    short.write_bytes(source[:6000])
    opened = open_hive(LocalFile(str(short), path="/SYSTEM"))
    assert opened.problems[0].startswith("truncated hive: its base block declares")


@pytest.mark.parametrize("name, embedded, kind", [
    ("SYSTEM", "", "SYSTEM"), ("ntuser.dat", "", "NTUSER"), ("NTUSER-vibranium.DAT", "", "NTUSER"),
    ("UsrClass.dat", "", "USRCLASS"), ("Amcache.hve", "", "AMCACHE"),
    ("evidence_042.bin", "\\??\\C:\\Windows\\System32\\config\\SOFTWARE", "SOFTWARE"),
    ("random.bin", "", None),
])
def test_hive_type_from_name(name, embedded, kind):
    assert hive_type(name, embedded) == kind


def test_damaged_parent_link_costs_no_plugin_its_events(tmp_path):
    """Fuzzing regression: python-registry's key.path() let struct.error escape when a key's
    parent link points past the end of the hive, and the plugin reading that key lost all its
    events (an isolated "registry plugin office_mru: error: unpack_from ..." row)."""
    import struct
    from pathlib import Path

    from Registry import Registry

    from triage.extractors import ExtractionContext
    from triage.extractors.registry import RegistryHive
    from triage.registry import path_of

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts" / "registry" / \
        "activity" / "NTUSER.DAT"
    ctx = ExtractionContext()
    where = "/Users/alice/NTUSER.DAT"
    good = [e for e in RegistryHive().extract(LocalFile(str(fixture), path=where), ctx)
            if e.data["plugin"] == "office_mru"]
    assert good and ctx.errors == []
    key_path = good[0].data["key"]
    key = Registry.Registry(str(fixture)).open(key_path.split("\\", 1)[1])
    raw = bytearray(fixture.read_bytes())
    struct.pack_into("<I", raw, key._nkrecord._offset + 0x10, 0x7FFFFFF0)  # parent link
    damaged = tmp_path / "NTUSER.DAT"
    damaged.write_bytes(bytes(raw))
    with pytest.raises(struct.error):
        Registry.Registry(str(damaged)).open(key_path.split("\\", 1)[1]).path()
    assert path_of(Registry.Registry(str(damaged)).open(key_path.split("\\", 1)[1])) == \
        "[damaged parent link]\\" + key_path.rsplit("\\", 1)[1]
    ctx = ExtractionContext()
    events = [e for e in RegistryHive().extract(LocalFile(str(damaged), path=where), ctx)
              if e.data["plugin"] == "office_mru"]
    assert ctx.errors == []
    assert len(events) == len(good)
    damaged_key = "[damaged parent link]\\" + key_path.rsplit("\\", 1)[1]
    assert damaged_key in {e.data["key"] for e in events}


def test_value_data_past_the_end_costs_no_plugin_its_events(tmp_path):
    """Fuzzing regression: value_bytes() fell back on python-registry's raw_data() outside its
    guard, so a value whose data cell lies past the end of the hive raised struct.error into
    the plugin (recent_docs lost every event to one damaged RecentDocs value)."""
    import struct
    from pathlib import Path

    from Registry import Registry

    from triage.extractors import ExtractionContext
    from triage.extractors.registry import RegistryHive
    from triage.registry import value_bytes

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "artifacts" / "registry" / \
        "activity" / "NTUSER.DAT"
    recent = "Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\RecentDocs"
    value = next(v for v in Registry.Registry(str(fixture)).open(recent).values()
                 if v.name() == "1")
    raw = bytearray(fixture.read_bytes())
    struct.pack_into("<I", raw, value._vkrecord._offset + 0x8, 0x7FFFFFF0)  # data cell offset
    struct.pack_into("<I", raw, value._vkrecord._offset + 0xC, 1)  # REG_SZ: read through a cell
    damaged = tmp_path / "NTUSER.DAT"
    damaged.write_bytes(bytes(raw))
    broken = next(v for v in Registry.Registry(str(damaged)).open(recent).values()
                  if v.name() == "1")
    with pytest.raises(struct.error):
        broken.raw_data()
    assert value_bytes(broken) == b""
    ctx = ExtractionContext()
    where = "/Users/alice/NTUSER.DAT"
    events = [e for e in RegistryHive().extract(LocalFile(str(damaged), path=where), ctx)
              if e.data["plugin"] == "recent_docs"]
    assert not [m for m in ctx.errors if "recent_docs" in m]
    assert events
