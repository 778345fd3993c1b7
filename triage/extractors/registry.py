"""Registry hives (regf): opened once, recovered from .LOG1/.LOG2 when dirty, read by plugins.

Format: Windows NT Registry File (REGF), read with python-registry; transaction-log recovery in
triage/registry/hive.py. The hive type comes from the file name (SYSTEM, SOFTWARE, SAM,
SECURITY, NTUSER.DAT, UsrClass.dat, Amcache.hve, DEFAULT) or, when renamed, from the hive's
own file-name field. Every plugin in triage/registry/plugins/ that declares the type runs on it;
one failing plugin is an error for that plugin, the others go on. A hive recovered from its
logs is noted in the case (errors table, severity info) and every event from it says
`data.hive_recovered: true`.

Key last-written times are FILETIME UTC (full precision). What each event means is written by
the plugin that made it (`data.plugin`).
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import Event
from triage.registry import HiveView, load_plugins
from triage.registry.hive import open_hive

_BY_NAME = {
    "system": "SYSTEM", "software": "SOFTWARE", "sam": "SAM", "security": "SECURITY",
    "ntuser.dat": "NTUSER", "usrclass.dat": "USRCLASS", "amcache.hve": "AMCACHE",
    "default": "DEFAULT",
}


def hive_type(file_name: str, embedded_name: str = "") -> str | None:
    """SYSTEM, NTUSER, ... from the file name, else from the name stored in the base block."""
    for candidate in (file_name, embedded_name.replace("\\", "/").rsplit("/", 1)[-1]):
        kind = _BY_NAME.get(candidate.lower())
        if kind:
            return kind
    lowered = file_name.lower()
    for stem, kind in (("ntuser", "NTUSER"), ("usrclass", "USRCLASS"), ("amcache", "AMCACHE")):
        if stem in lowered:
            return kind
    return None


def _profile_sid(ctx: ExtractionContext, user: str | None) -> str | None:
    if not user:
        return None
    for sid, name in ctx.users_by_sid.items():
        if name.lower() == user.lower():
            return sid
    return None


@register
class RegistryHive(Extractor):
    name = "registry"
    family = "registry"
    description = "Registry hives: system facts, USB devices, user activity, execution"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        opened = open_hive(f)
        embedded = ""
        try:
            embedded = opened.registry._regf.hive_name()
        except Exception:
            pass
        kind = hive_type(f.name, embedded or "")
        if kind is None:
            ctx.warn(f"unknown hive type for {f.name!r}: no registry plugin applies")
            return
        for problem in opened.problems:
            ctx.warn(problem)
        if opened.recovered:
            ctx.note(f"{kind} hive was dirty: recovered from {', '.join(opened.logs_applied)}")
        user = ctx.user_for_path(f.path) if kind in ("NTUSER", "USRCLASS") else None
        view = HiveView(registry=opened.registry, hive_type=kind, path=f.path, user=user,
                        sid=_profile_sid(ctx, user), recovered=opened.recovered)
        for plugin_cls in sorted(load_plugins().values(), key=lambda c: c.name):
            if kind not in plugin_cls.hives:
                continue
            try:
                for event in plugin_cls().process(view, ctx):
                    event.data.setdefault("plugin", plugin_cls.name)
                    event.data.setdefault("hive", kind)
                    if opened.recovered:
                        event.data["hive_recovered"] = True
                    if event.user is None and user:
                        event.user = user
                    yield event
            except Exception as exc:  # one plugin's failure must not cost the others
                ctx.error(f"registry plugin {plugin_cls.name}: {type(exc).__name__}: {exc}")

