"""The fuzz targets: one table, every parser of the project.

Every extractor that `triage.extractors.load_extractors()` finds has a row here (a test fails
when one has none, so a new extractor cannot ship unfuzzed), with its seeds (see seeds.py), the
path the file is found at, and the extractor options that open its widest code paths. The
parsers that are not extractors have rows too: the $MFT scanner, the FAT/exFAT walker, the
registry hive opener with its transaction-log recovery, the shell item decoder (its registry, ShellBags and shortcut entry points), the
device id parsers, the SQLite WAL checker and the YAML loaders (data lists, rules, artifact
definitions).

A target turns a Seed (with its mutated file) into a call and, for extractors, the context
the call reports into. `expected` are the errors a target may raise on bad input; anything
else is a bug.
"""
from __future__ import annotations

import functools
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from fuzz import fixups as F
from fuzz import seeds as S
from fuzz.harness import DEADLINE_S, MEMORY_LIMIT, FuzzFile, Outcome, run_input
from fuzz.mutators import Plan, apply
from triage.model import ArtifactError

Call = Callable[[], Iterable[Any] | None]


@dataclass
class Target:
    """One row of the table."""

    name: str
    kind: str  # "extractor" | "parser"
    module: str  # the module under test (for the coverage check and the report)
    seeds: Callable[[int], list[S.Seed]]  # sample size limit -> seeds
    prepare: Callable[[S.Seed], tuple[Call, Any]]  # seed (mutated) -> (call, ctx or None)
    expected: tuple[type[BaseException], ...] = (ArtifactError,)
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    fixup: Callable[[bytes], bytes] | None = None  # checksum repair (fuzz/fixups.py)

    def seed_list(self, limit: int) -> tuple[S.Seed, ...]:
        return S.cached(self.seeds, limit)


# ---------------------------------------------------------------------------------- extractors


def _context(seed: S.Seed, options: dict[str, Any], timezone: str | None = None) -> Any:
    from triage.extractors import ExtractionContext

    volume = {path.lower(): (path, raw) for path, raw in seed.volume.items()}

    def open_path(path: str) -> FuzzFile | None:
        found = volume.get(path.lower())
        return FuzzFile(found[0], found[1]) if found else None

    return ExtractionContext(host="WS-FUZZ", users_by_sid={S.ALICE_SID: "alice"},
                             timezone=timezone, options=dict(options),
                             definition_dirs=list(_definition_dirs()),
                             open_path=open_path)


@functools.lru_cache(maxsize=None)
def extractor_class(name: str) -> type:
    """The registered extractor `name` (entry points are read once per process)."""
    from triage.extractors import load_extractors

    return load_extractors().extractors[name]


@functools.lru_cache(maxsize=None)
def _definition_dirs() -> tuple[str, ...]:
    from triage.artifacts import builtin_dirs

    return tuple(str(d) for d in builtin_dirs())


def extractor_prepare(name: str, options: dict[str, Any] | None = None,
                      timezone: str | None = None) -> Callable[[S.Seed], tuple[Call, Any]]:
    """Run the registered extractor `name` over the seed's file, as the engine would."""
    def prepare(seed: S.Seed) -> tuple[Call, Any]:
        extractor = extractor_class(name)()
        ctx = _context(seed, options or {}, timezone)
        f = FuzzFile(seed.path, seed.data, seed.siblings, seed.folders)
        return (lambda: extractor.extract(f, ctx)), ctx
    return prepare


def _extractor(name: str, module: str, seeds: Callable[[int], list[S.Seed]],
               options: dict[str, Any] | None = None, timezone: str | None = None,
               note: str = "", fixup: Callable[[bytes], bytes] | None = None) -> Target:
    return Target(name, "extractor", module, seeds, extractor_prepare(name, options, timezone),
                  options=options or {}, note=note, fixup=fixup)


MAIL = {"mail_body_preview": 200, "internal_domains": ["example.co.jp"]}

EXTRACTORS = [
    _extractor("prefetch", "triage.extractors.prefetch", S.prefetch_seeds),
    _extractor("recycle_bin", "triage.extractors.recycle_bin", S.recycle_i_seeds),
    _extractor("recycle_bin_info2", "triage.extractors.recycle_bin", S.recycle_info2_seeds),
    _extractor("lnk", "triage.extractors.lnk", S.lnk_seeds),
    _extractor("jumplist_auto", "triage.extractors.jumplist", S.jumplist_auto_seeds),
    _extractor("jumplist_custom", "triage.extractors.jumplist", S.jumplist_custom_seeds),
    _extractor("evtx", "triage.extractors.evtx", S.evtx_seeds, {"evtx_all": True},
               fixup=F.evtx_crcs),
    _extractor("chromium_history", "triage.extractors.chromium", S.chromium_seeds),
    _extractor("firefox_places", "triage.extractors.firefox", S.firefox_places_seeds),
    _extractor("firefox_downloads", "triage.extractors.firefox", S.firefox_downloads_seeds),
    _extractor("activities_cache", "triage.extractors.activities_cache", S.activities_seeds),
    _extractor("webcache", "triage.extractors.webcache", S.webcache_seeds,
               {"webcache_content": True}, fixup=F.ese_pages),
    _extractor("srum", "triage.extractors.srum", S.srum_seeds, fixup=F.ese_pages),
    _extractor("mbox", "triage.extractors.mbox", S.mbox_seeds, MAIL),
    _extractor("thunderbird_gloda", "triage.extractors.thunderbird", S.gloda_seeds, MAIL),
    _extractor("pst", "triage.extractors.pst", S.pst_seeds, MAIL,
               note="no PST writer: seeds are the shared samples when present"),
    _extractor("onedrive_sync_engine", "triage.extractors.onedrive", S.onedrive_seeds),
    _extractor("dropbox_sync_history", "triage.extractors.dropbox", S.dropbox_seeds),
    _extractor("google_drivefs", "triage.extractors.google_drive", S.drivefs_seeds),
    _extractor("ooxml", "triage.extractors.office", S.ooxml_seeds),
    _extractor("ole_summary", "triage.extractors.office", S.ole_seeds),
    _extractor("pdf_info", "triage.extractors.office", S.pdf_seeds),
    _extractor("setupapi", "triage.extractors.setupapi", S.setupapi_seeds, timezone="Asia/Tokyo"),
    _extractor("mft_deleted", "triage.extractors.mft", S.mft_seeds),
    _extractor("mft_timeline", "triage.extractors.mft", S.mft_seeds),
    _extractor("usnjrnl", "triage.extractors.usnjrnl", S.usnjrnl_seeds),
    _extractor("fat_entries", "triage.extractors.fat_entries", S.fat_seeds,
               timezone="Asia/Tokyo"),
    _extractor("registry", "triage.extractors.registry", S.registry_seeds,
               fixup=F.regf_base_block),
    # Added while they were being written (their modules were not changed here):
    _extractor("box_drive_streemsfs", "triage.extractors.box_drive", S.box_seeds),
    _extractor("windows_mail_eml", "triage.extractors.windows_mail", S.eml_seeds, MAIL),
    _extractor("windows_mail_attachment_cache", "triage.extractors.windows_mail",
               S.mail_cache_seeds),
    _extractor("onedrive_odl", "triage.extractors.onedrive_logs", S.odl_seeds,
               {"onedrive_odl_all": True}),
    _extractor("onedrive_settings", "triage.extractors.onedrive_settings",
               S.onedrive_settings_seeds),
]

# ---------------------------------------------------------------------------------- parsers


def _ntfs_mft(seed: S.Seed) -> tuple[Call, Any]:
    import io

    from triage.ntfs_mft import MftScan

    def call() -> Iterable[Any]:
        scan = MftScan(io.BytesIO(seed.data), lambda flags: True, details=True).run()
        yield from scan.records()
        index = scan.index
        for entry in range(min(len(index), 4096)):
            yield index.path(entry)
    return call, None


def _fatfs(seed: S.Seed) -> tuple[Call, Any]:
    import io

    from triage.fatfs import open_volume

    warnings: list[str] = []

    def call() -> Iterable[Any]:
        volume = open_volume(io.BytesIO(seed.data), len(seed.data))
        if volume is None:
            return
        for entry in volume.walk(warnings.append):
            yield entry
            if not entry.is_dir and not entry.deleted and entry.size:
                clusters, _ = volume.chain(entry.first_cluster, 64)
                for _chunk in volume.iter_data(clusters, min(entry.size, 1 << 16)):
                    pass
    return call, None


def _hive(seed: S.Seed) -> tuple[Call, Any]:
    """Open (and recover) the hive, then walk it as the plugins do, through the helpers of
    triage.registry: every key's path, time, subkeys and values."""
    from triage.registry import key_time, path_of, subkeys, value_bytes
    from triage.registry.hive import open_hive

    f = FuzzFile(seed.path, seed.data, seed.siblings, seed.folders)

    def call() -> Iterable[Any]:
        opened = open_hive(f)
        yield opened.dirty, opened.recovered, tuple(opened.problems)
        stack, seen = [opened.registry.root()], 0
        while stack and seen < 2000:
            key = stack.pop()
            seen += 1
            yield path_of(key), key_time(key)
            try:
                values = list(key.values())[:64]
            except Exception:  # noqa: BLE001 - python-registry's own errors: helpers' contract
                values = []
            for value in values:
                yield value_bytes(value)
            stack.extend(subkeys(key))
    return call, None


def _shell_items_registry(seed: S.Seed) -> tuple[Call, Any]:
    from triage.shellitems import decode_pidl

    return (lambda: [decode_pidl(seed.data)]), None


def _shellbag_items(seed: S.Seed) -> tuple[Call, Any]:
    from triage.shellitems import join_path, parse_item_list

    def call() -> Iterable[Any]:
        items = parse_item_list(seed.data)
        yield join_path([item.name for item in items])
        for item in items:
            yield item
    return call, None


def _shellitems_lnk(seed: S.Seed) -> tuple[Call, Any]:
    from triage.shellitems.link import shell_path

    return (lambda: [shell_path(seed.data, lambda message: None)]), None


def _device_ids(seed: S.Seed) -> tuple[Call, Any]:
    from triage import usb_ids

    text = seed.data.decode("utf-8", "surrogateescape")

    def call() -> Iterable[Any]:
        yield usb_ids.parse_instance_id(text)
        yield usb_ids.parse_device_path(text)
        yield usb_ids.parse_storage_id(text)
        yield usb_ids.parse_usb_id(text)
        yield usb_ids.serial_generated(text)
    return call, None


def _wal(seed: S.Seed) -> tuple[Call, Any]:
    from triage.extractors._sqlite import wal_damage

    return (lambda: [wal_damage(seed.data)]), None


def _with_file(seed: S.Seed, name: str, use: Callable[[str], Any]) -> Iterable[Any]:
    """Write the mutated YAML to a fresh private file (the loaders take paths) and load it."""
    folder = tempfile.mkdtemp(prefix="fuzz-yaml-")
    path = os.path.join(folder, name)
    try:
        with open(path, "wb") as handle:
            handle.write(seed.data)
        return [use(path)]
    finally:
        os.unlink(path)
        os.rmdir(folder)


def _url_list(seed: S.Seed) -> tuple[Call, Any]:
    from triage import urlcat

    def use(path: str) -> Any:
        urlcat._LOADED.clear()
        lists = urlcat.load_lists([path])
        return urlcat.categorize("https://drive.google.com/x", lists)
    return (lambda: _with_file(seed, "url_categories.yaml", use)), None


def _freemail_list(seed: S.Seed) -> tuple[Call, Any]:
    from triage import maildomains

    def use(path: str) -> Any:
        maildomains._LOADED.clear()
        lists = maildomains.load_freemail([path])
        return maildomains.classify("a@gmail.com", ["example.co.jp"], lists)
    return (lambda: _with_file(seed, "freemail_domains.yaml", use)), None


def _appid_list(seed: S.Seed) -> tuple[Call, Any]:
    from triage.extractors import jumplist

    def use(path: str) -> Any:
        jumplist._load_names.cache_clear()
        return jumplist._load_names((path,))
    return (lambda: _with_file(seed, "jumplist_appids.yaml", use)), None


def _rules(seed: S.Seed) -> tuple[Call, Any]:
    from pathlib import Path

    from triage.detection.rules import load_rule_file

    return (lambda: _with_file(seed, "rules.yaml", lambda p: load_rule_file(Path(p)))), None


def _definitions(seed: S.Seed) -> tuple[Call, Any]:
    from pathlib import Path

    from triage.artifacts import load_file

    return (lambda: _with_file(seed, "defs.yaml", lambda p: load_file(Path(p)))), None


def _errors(*names: str) -> tuple[type[BaseException], ...]:
    """Error classes by dotted name (imported lazily so that loading the table is cheap)."""
    import importlib

    found = []
    for dotted in names:
        module, _, attr = dotted.rpartition(".")
        found.append(getattr(importlib.import_module(module), attr))
    return tuple(found)


PARSERS = [
    Target("ntfs_mft", "parser", "triage.ntfs_mft", S.mft_seeds, _ntfs_mft,
           _errors("triage.ntfs_mft.MftError")),
    Target("fatfs", "parser", "triage.fatfs", S.fat_seeds, _fatfs,
           _errors("triage.fatfs.FatError")),
    Target("registry_hive", "parser", "triage.registry.hive", S.hive_seeds, _hive,
           fixup=F.regf_base_block),
    Target("shell_items", "parser", "triage.shellitems",
           lambda limit: S.shell_item_lists(), _shell_items_registry, ()),
    Target("shellbag_items", "parser", "triage.shellitems",
           lambda limit: S.shell_item_lists(), _shellbag_items, ()),
    Target("lnk_shell_items", "parser", "triage.shellitems",
           lambda limit: S.shell_item_lists(), _shellitems_lnk, ()),
    Target("usb_ids", "parser", "triage.usb_ids", lambda limit: S.device_id_seeds(), _device_ids,
           ()),
    Target("sqlite_wal", "parser", "triage.extractors._sqlite", lambda limit: S.wal_seeds(), _wal,
           ()),
    Target("url_categories", "parser", "triage.datalists",
           lambda limit: S.yaml_list_seeds("url_categories.yaml"), _url_list,
           _errors("triage.urlcat.UrlListError")),
    Target("freemail_domains", "parser", "triage.datalists",
           lambda limit: S.yaml_list_seeds("freemail_domains.yaml"), _freemail_list,
           _errors("triage.maildomains.MailListError")),
    Target("jumplist_appids", "parser", "triage.extractors.jumplist",
           lambda limit: S.yaml_list_seeds("jumplist_appids.yaml"), _appid_list, ()),
    Target("detection_rules", "parser", "triage.detection.rules", lambda limit: S.rule_seeds(),
           _rules, _errors("triage.detection.rules.RuleError")),
    Target("artifact_definitions", "parser", "triage.artifacts", lambda limit: S.definition_seeds(),
           _definitions, _errors("triage.artifacts.DefinitionError")),
]

TARGETS: dict[str, Target] = {t.name: t for t in EXTRACTORS + PARSERS}


def run_plan(target: Target, seeds: tuple[S.Seed, ...], plan: Plan,
             deadline: float = DEADLINE_S, memory_limit: int = MEMORY_LIMIT
             ) -> tuple[Outcome, bytes]:
    """Mutate the plan's seed, run the target on it; (outcome, the mutated file's bytes)."""
    seed = seeds[plan.seed]
    data = apply(seed.target_bytes(), plan.ops)
    if plan.fix and target.fixup is not None:
        data = target.fixup(data)
    if seed.encode is not None:
        data = seed.encode(data)
    call, ctx = target.prepare(seed.with_mutated(data))
    outcome = run_input(call, target.expected, ctx, deadline, memory_limit,
                        events_only=target.kind == "extractor")
    return outcome, data


def extractor_modules() -> set[str]:
    return {t.module for t in EXTRACTORS}


def get(name: str) -> Target:
    try:
        return TARGETS[name]
    except KeyError:
        raise KeyError(f"no fuzz target {name!r}; known: {', '.join(sorted(TARGETS))}") from None
