"""What a batch runs: the evidence list from a CSV or YAML manifest, or every image in a folder.

A manifest names one evidence item per row (CSV) or list entry (YAML):

    path (required), case_id, examiner, custodian, options

`options` holds the `triage run` options for that item, either as a mapping
(`{only: [WindowsPrefetch], vss: all, evtx_all: true}`) or as a command-line string
(`--only WindowsPrefetch,RecycleBin --vss all --evtx-all`). Relative paths (the evidence,
`--artifacts`, `--rules`, `--sigma`, `--startup-key`) are relative to the manifest's folder.

A YAML manifest is either a list of items or a mapping with `images:` (the list) and optional
`defaults:` (examiner, custodian, options applied to every item that does not set them).

Every problem is a usage error naming the manifest, the row and the field, raised before any
image is opened.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shlex
from dataclasses import dataclass, field
from typing import Any, Iterable

from triage.engine import UsageError

# --- options -------------------------------------------------------------------------------
# canonical name -> kind; kinds: flag, list, path-list, str, path, int, float, choice
OPTION_KINDS: dict[str, str] = {
    "only": "list",
    "vss": "choice",
    "source_tz": "str",
    "evtx_all": "flag",
    "webcache_content": "flag",
    "mail_body_preview": "int",
    "onedrive_odl_all": "flag",
    "hash_evidence": "flag",
    "artifacts": "path-list",
    "rules": "path-list",
    "sigma": "path-list",
    "no_builtin_rules": "flag",
    "internal_domain": "list",
    "max_file_size": "int",
    "file_timeout": "float",
    "file_memory": "int",
    "recovery_password": "str",
    "password": "str",
    "startup_key": "path",
}
ALIASES = {"artifact_dirs": "artifacts", "rule_dirs": "rules", "sigma_dirs": "sigma",
           "internal_domains": "internal_domain", "evtx": "evtx_all"}
CHOICES = {"vss": ("none", "all")}
SECRET_OPTIONS = ("recovery_password", "password")
_COMMA_SPLIT = {"only", "internal_domain"}
_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n", ""}

# --- image files in a folder ---------------------------------------------------------------
IMAGE_EXTENSIONS = (".e01", ".raw", ".dd", ".img", ".001", ".vmdk", ".vhd", ".vhdx", ".qcow2")
_VMDK_EXTENT = re.compile(r"^(?P<base>.+)-(flat|delta|s\d{3}|f\d{3})\.vmdk$", re.IGNORECASE)
_SAFE_ID = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass
class BatchItem:
    path: str                      # absolute path of the evidence
    case_id: str | None = None     # as given; the folder name is `folder`
    examiner: str | None = None
    custodian: str | None = None
    options: dict[str, Any] = field(default_factory=dict)  # canonical names, checked
    origin: str = ""               # "manifest.csv:3", "folder" ...
    folder: str = ""               # case folder name under LAB_DIR/cases (unique)

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "case_id": self.case_id, "examiner": self.examiner,
                "custodian": self.custodian, "options": redact(self.options),
                "origin": self.origin, "folder": self.folder}


def redact(options: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k in SECRET_OPTIONS and v else v) for k, v in options.items()}


def _canonical(name: str, where: str) -> str:
    key = name.strip().lstrip("-").replace("-", "_").lower()
    key = ALIASES.get(key, key)
    if key not in OPTION_KINDS:
        known = ", ".join("--" + k.replace("_", "-") for k in OPTION_KINDS)
        raise UsageError(f"{where}: options: unknown option '{name}' (known: {known})")
    return key


def _as_bool(value: Any, key: str, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"{where}: options: '{key}' must be true or false, not {value!r}")


def _convert(key: str, value: Any, base_dir: str, where: str) -> Any:
    kind = OPTION_KINDS[key]
    if kind == "flag":
        return _as_bool(value, key, where)
    if kind in ("list", "path-list"):
        values = value if isinstance(value, (list, tuple)) else [value]
        out: list[str] = []
        for v in values:
            if v is None:
                continue
            parts = str(v).split(",") if key in _COMMA_SPLIT else [str(v)]
            out.extend(p.strip() for p in parts if p.strip())
        if kind == "path-list":
            out = [os.path.normpath(os.path.join(base_dir, p)) for p in out]
        return out
    if isinstance(value, (list, dict)) or value is None:
        raise UsageError(f"{where}: options: '{key}' takes one value, not {value!r}")
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: options: '{key}' must be a whole number, not {value!r}") from None
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            raise UsageError(f"{where}: options: '{key}' must be a number, not {value!r}") from None
    text = str(value).strip()
    if kind == "choice":
        if text.lower() not in CHOICES[key]:
            raise UsageError(f"{where}: options: '{key}' must be one of "
                             f"{', '.join(CHOICES[key])}, not {value!r}")
        return text.lower()
    if kind == "path":
        return os.path.normpath(os.path.join(base_dir, text))
    if key == "source_tz":
        from triage.timezones import tzinfo

        try:
            tzinfo(text)
        except ValueError as exc:
            raise UsageError(f"{where}: options: source_tz: {exc}") from None
    return text


def _merge(options: dict[str, Any], key: str, value: Any) -> None:
    if OPTION_KINDS[key] in ("list", "path-list") and key in options:
        options[key] = options[key] + value
    else:
        options[key] = value


def parse_options(value: Any, base_dir: str = ".", where: str = "options") -> dict[str, Any]:
    """Run options from a mapping or a `--key value` string, checked, with canonical names."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return {}
    options: dict[str, Any] = {}
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise UsageError(f"{where}: options: not valid JSON ({exc})") from None
    if isinstance(value, dict):
        for name, raw in value.items():
            key = _canonical(str(name), where)
            _merge(options, key, _convert(key, raw, base_dir, where))
        return options
    if not isinstance(value, str):
        raise UsageError(f"{where}: options: expected a mapping or a '--key value' string, "
                         f"not {type(value).__name__}")
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise UsageError(f"{where}: options: {exc}") from None
    i = 0
    while i < len(words):
        word = words[i]
        if not word.startswith("--"):
            raise UsageError(f"{where}: options: expected an option such as --only, not {word!r}")
        name, eq, inline = word.partition("=")
        key = _canonical(name, where)
        if OPTION_KINDS[key] == "flag":
            raw: Any = inline if eq else True
            i += 1
        elif eq:
            raw = inline
            i += 1
        else:
            if i + 1 >= len(words) or words[i + 1].startswith("--"):
                raise UsageError(f"{where}: options: {name} needs a value")
            raw = words[i + 1]
            i += 2
        _merge(options, key, _convert(key, raw, base_dir, where))
    return options


# --- manifests -----------------------------------------------------------------------------
_FIELDS = ("path", "case_id", "examiner", "custodian", "options")
_FIELD_ALIASES = {"case": "case_id", "evidence": "path", "image": "path", "file": "path"}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _item(entry: dict[str, Any], base_dir: str, where: str,
          defaults: dict[str, Any] | None = None) -> BatchItem:
    row: dict[str, Any] = {}
    for name, value in entry.items():
        if name is None:
            raise UsageError(f"{where}: more values than columns")
        key = _FIELD_ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
        if key not in _FIELDS:
            raise UsageError(f"{where}: unknown field '{name}' (fields: {', '.join(_FIELDS)})")
        row[key] = value
    defaults = defaults or {}
    path = _text(row.get("path"))
    if not path:
        raise UsageError(f"{where}: field 'path': missing (the evidence to process)")
    options = dict(defaults.get("options") or {})
    options.update(parse_options(row.get("options"), base_dir, where))
    return BatchItem(path=os.path.abspath(os.path.join(base_dir, os.path.expanduser(path))),
                     case_id=_text(row.get("case_id")),
                     examiner=_text(row.get("examiner")) or defaults.get("examiner"),
                     custodian=_text(row.get("custodian")) or defaults.get("custodian"),
                     options=options, origin=where)


def read_csv_manifest(path: str) -> list[BatchItem]:
    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise UsageError(f"{path}: empty manifest (expected a header row with 'path')")
            names = [_FIELD_ALIASES.get(n.strip().lower(), n.strip().lower())
                     for n in reader.fieldnames if n]
            if "path" not in names:
                raise UsageError(f"{path}:1: no 'path' column (columns: {', '.join(reader.fieldnames)})")
            items = []
            for row in reader:
                values = [v for k, v in row.items() if k is not None and isinstance(v, str)]
                if None not in row and not any(v.strip() for v in values):
                    continue  # a line of empty cells
                if values and values[0].lstrip().startswith("#"):
                    continue  # a comment line
                items.append(_item(row, base, f"{path}:{reader.line_num}"))
            return items
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    except csv.Error as exc:
        raise UsageError(f"{path}: not a valid CSV file ({exc})") from None


def read_yaml_manifest(path: str) -> list[BatchItem]:
    import yaml

    base = os.path.dirname(os.path.abspath(path))
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the manifest ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    defaults: dict[str, Any] = {}
    if isinstance(document, dict):
        unknown = set(document) - {"images", "defaults"}
        if unknown:
            raise UsageError(f"{path}: unknown top-level key(s) {', '.join(map(str, sorted(unknown)))} "
                             "(expected 'images' and optional 'defaults')")
        raw_defaults = document.get("defaults") or {}
        if not isinstance(raw_defaults, dict):
            raise UsageError(f"{path}: 'defaults' must be a mapping")
        defaults = {"examiner": _text(raw_defaults.get("examiner")),
                    "custodian": _text(raw_defaults.get("custodian")),
                    "options": parse_options(raw_defaults.get("options"), base, f"{path}: defaults")}
        document = document.get("images")
    if document is None:
        raise UsageError(f"{path}: empty manifest (expected a list of images)")
    if not isinstance(document, list):
        raise UsageError(f"{path}: expected a list of images (or a mapping with 'images')")
    items = []
    for number, entry in enumerate(document, 1):
        where = f"{path}: image {number}"
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict):
            raise UsageError(f"{where}: expected a mapping with 'path', not {type(entry).__name__}")
        items.append(_item(entry, base, where, defaults))
    return items


# --- a folder of images --------------------------------------------------------------------
def image_extension(name: str) -> str | None:
    """The image extension that makes `name` a batch item, or None (other segments too)."""
    lower = name.lower()
    for ext in IMAGE_EXTENSIONS:
        if lower.endswith(ext) and len(lower) > len(ext):
            return ext
    return None


def is_first_image_file(name: str, siblings: set[str]) -> bool:
    """True for a file that starts an image: not a later segment, not a VMDK extent."""
    if image_extension(name) is None:
        return False
    extent = _VMDK_EXTENT.match(name)
    if extent and f"{extent.group('base')}.vmdk".lower() in siblings:
        return False  # an extent of a descriptor that sits beside it
    return True


def scan_folder(folder: str, exclude: Iterable[str] = ()) -> list[BatchItem]:
    """Every image file under `folder` (recursively, sorted), first segments only."""
    root = os.path.abspath(folder)
    excluded = {os.path.abspath(p) for p in exclude}
    items = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and
                         os.path.join(current, d) not in excluded)
        siblings = {f.lower() for f in files}
        for name in sorted(files):
            if name.startswith(".") or not is_first_image_file(name, siblings):
                continue
            path = os.path.join(current, name)
            if os.path.isfile(path):
                items.append(BatchItem(path=path, origin=f"{os.path.relpath(path, root)}"))
    return items


# --- case folder names ---------------------------------------------------------------------
def _safe(text: str) -> str:
    text = _SAFE_ID.sub("_", text.strip()).strip("._")
    return text[:120] or "image"


def _stem(path: str) -> str:
    name = os.path.basename(path.rstrip(os.sep))
    ext = image_extension(name)
    if ext:
        name = name[: -len(ext)]
        if ext == ".001":
            for inner in (".raw", ".dd", ".img"):
                if name.lower().endswith(inner):
                    name = name[: -len(inner)]
    return name


def assign_folders(items: list[BatchItem], base: str | None = None) -> list[BatchItem]:
    """Give every item a unique case folder name: its case_id, else the file stem.

    Explicit case ids must be unique. Derived names that collide (win.E01 and win.vmdk are both
    "win") use the whole file name instead ("win-E01", "win-vmdk"), then the path below `base`,
    so a name never depends on the order of the list.
    """
    seen_explicit: dict[str, str] = {}
    for item in items:
        if item.case_id:
            folder = _safe(item.case_id)
            key = folder.lower()
            if key in seen_explicit:
                raise UsageError(f"{item.origin}: case_id '{item.case_id}' is used twice "
                                 f"(also {seen_explicit[key]}); case ids must be unique")
            seen_explicit[key] = item.origin
            item.folder = folder

    def candidates(item: BatchItem) -> list[str]:
        name = os.path.basename(item.path.rstrip(os.sep))
        out = [_safe(_stem(item.path)), _safe(name.replace(".", "-"))]
        if base:
            rel = os.path.relpath(item.path, base)
            out.append(_safe(rel.replace(os.sep, "_").replace(".", "-")))
        return out

    derived = [item for item in items if not item.case_id]
    taken = set(seen_explicit)
    level = {id(item): 0 for item in derived}
    while True:
        names: dict[str, list[BatchItem]] = {}
        for item in derived:
            options = candidates(item)
            names.setdefault(options[min(level[id(item)], len(options) - 1)].lower(), []).append(item)
        clash = False
        for key, group in names.items():
            if len(group) > 1 or key in taken:
                for item in group:
                    if level[id(item)] < len(candidates(item)) - 1:
                        level[id(item)] += 1
                        clash = True
        if not clash:
            break
    used = set(taken)
    for item in derived:
        options = candidates(item)
        folder = options[min(level[id(item)], len(options) - 1)]
        unique, n = folder, 2
        while unique.lower() in used:
            unique, n = f"{folder}-{n}", n + 1
        used.add(unique.lower())
        item.folder = unique
    return items


def load_items(source: str, lab_dir: str) -> list[BatchItem]:
    """The batch list for SOURCE (a .csv/.yaml/.yml manifest or a folder of images)."""
    if os.path.isdir(source):
        items = scan_folder(source, exclude=[lab_dir])
        if not items:
            raise UsageError(f"{source}: no image files found (looked for "
                             f"{', '.join(IMAGE_EXTENSIONS)})")
        return assign_folders(items, base=os.path.abspath(source))
    if not os.path.exists(source):
        raise UsageError(f"{source}: no such manifest or folder")
    lower = source.lower()
    if lower.endswith(".csv"):
        items = read_csv_manifest(source)
    elif lower.endswith((".yaml", ".yml")):
        items = read_yaml_manifest(source)
    else:
        raise UsageError(f"{source}: expected a .csv or .yaml manifest or a folder of images "
                         "(for one image use `triage run`)")
    if not items:
        raise UsageError(f"{source}: the manifest lists no images")
    return assign_folders(items)
