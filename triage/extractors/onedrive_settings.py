"""OneDrive account settings files (`settings\\<Personal|BusinessN>\\global.ini` and
`<cid or account id>.ini`): which OneDrive account a profile used and which local folders it
kept in sync with which libraries (the sync roots). No time is recorded in these files, and
the file's own time is not given to extractors, so every event here has no timestamp.

Where: `%LOCALAPPDATA%\\Microsoft\\OneDrive\\settings\\Personal\\` (the personal account) and
`...\\settings\\Business1\\` ... `Business9\\` (work or school accounts). On Windows the files
are UTF-16 LE text (usually with a BOM), on macOS UTF-8; lines are `key = value`, CRLF.

Not documented by Microsoft. Read as described in public write-ups (Brian Maloney's
"OneDrive Evolution" notes and OneDriveExplorer, Yogesh Khatri's swiftforensics posts) and,
for the positions of the fields of the sync-root lines, Guido Witt-Doerring's public
"GetLocalPath" notes on these files:

    global.ini        account-wide settings; `cid = <account id>` names the account's own
                      `<cid>.ini` (and `<cid>.dat`). Every `key = value` line is kept.
    <cid>.ini         one line per sync root, the value a space-separated list of fields in
                      which quoted fields ("...") may hold spaces:
      Personal folder
        library = ...        the personal OneDrive: the local folder is the 2nd quoted field
        libraryScope = ...   newer clients: the local folder is the 5th quoted field
      BusinessN folder (fields counted after `=`, from 1)
        libraryScope = N ... a synced library: N (field 1) is the library number, 0 being the
                             account's own OneDrive for Business, others SharePoint libraries;
                             field 9 site id, 10 web id, 11 library id, 13 the local folder
        libraryFolder = ...  a folder of a library synced on its own: field 2 library number,
                             field 3 parent folder id, field 5 the local folder
        AddedScope = ...     a shared folder added to "My files" as a shortcut: field 6 site
                             id, 7 web id, 8 library id, 9 link id, 10 path inside the library
                             (its local folder is not on the line: it lies under the account's
                             own folder)
    When the field at the documented position is not a local path (a client whose lines
    differ), the first field that is an absolute local path (`C:\\...`, `\\\\server\\...`,
    `/...`) is used instead and `local_path_from` says "first path-like field".

Events (timestamp None):
    "Account Settings"  one per global.ini. Data: client ("OneDrive"), account (the settings
        folder: Personal, Business1...), cid, settings (every key and value of the file;
        at most 500 keys, values cut at 4,096 characters).
    "Sync Root"         one per sync-root line of a <cid>.ini. Data: client, account, entry
        (library, libraryScope, libraryFolder or AddedScope), library_type ("OneDrive
        (personal)", "OneDrive for Business", "SharePoint library", "SharePoint library
        folder", "Shortcut added to My files"), local_path, local_path_from ("documented
        position" or "first path-like field"; None without a path), library_number, site_id,
        web_id, library_id, parent_folder_id, link_id, relative_path (each only where the
        documented layout has it), emails (fields that are e-mail addresses), fields (every
        field of the line after `=`, as written).
Other lines and other .ini files are not interpreted (a note says so).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile, basename
from triage.model import ArtifactError, Event

MAX_INI_BYTES = 16 * 1024 * 1024
MAX_KEYS = 500
MAX_VALUE_CHARS = 4096

SYNC_ROOT_TAGS = ("library", "libraryScope", "libraryFolder", "AddedScope")
_PATH_RE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\]|/)")
_EMAIL_RE = re.compile(r"^[^@\s\"]+@[^@\s\"]+\.[^@\s\"]+$")


def decode_text(data: bytes) -> tuple[str, bool]:
    """Text of a OneDrive settings or map file: UTF-16 LE on Windows, UTF-8 on macOS.

    Returns (text, clean): `clean` is False when some bytes could not be decoded (they become
    U+FFFD). A BOM decides; without one, NUL high bytes in the first characters mean UTF-16 LE.
    """
    if data.startswith(b"\xff\xfe"):
        encoding, body = "utf-16-le", data[2:]
    elif data.startswith(b"\xef\xbb\xbf"):
        encoding, body = "utf-8", data[3:]
    elif len(data) >= 4 and data[1] == 0 and data[3] == 0 and data[0] and data[2]:
        encoding, body = "utf-16-le", data
    else:
        encoding, body = "utf-8", data
    clean = not (encoding == "utf-16-le" and len(body) % 2)  # a lone last byte is lost
    if not clean:
        body = body[:-1]
    try:
        return body.decode(encoding), clean
    except UnicodeDecodeError:
        return body.decode(encoding, errors="replace"), False


def ini_lines(text: str) -> Iterator[tuple[str, str]]:
    """(key, value) of every `key = value` line; other lines are skipped."""
    for line in text.splitlines():
        key, sep, value = line.partition(" = ")
        if not sep:
            key, sep, value = line.partition("=")
        if sep and key.strip():
            yield key.strip(), value.strip()


def split_fields(value: str) -> list[str]:
    """Space-separated fields; a field in double quotes keeps its spaces (quotes removed)."""
    fields: list[str] = []
    i, n = 0, len(value)
    while i < n:
        if value[i] == " ":
            i += 1
            continue
        if value[i] == '"':
            end = value.find('"', i + 1)
            end = n if end < 0 else end
            fields.append(value[i + 1:end])
            i = end + 1
        else:
            end = value.find(" ", i)
            end = n if end < 0 else end
            fields.append(value[i:end])
            i = end
    return fields


def quoted_fields(value: str) -> list[str]:
    """The double-quoted fields of a line's value, in order."""
    return value.split('"')[1::2]


def is_local_path(text: str) -> bool:
    return bool(_PATH_RE.match(text))


@dataclass
class SyncRoot:
    """One sync-root line, read with the documented layout."""

    entry: str
    library_type: str
    fields: list[str]
    local_path: str | None = None
    local_path_from: str | None = None
    library_number: str | None = None
    site_id: str | None = None
    web_id: str | None = None
    library_id: str | None = None
    parent_folder_id: str | None = None
    link_id: str | None = None
    relative_path: str | None = None

    def data(self) -> dict:
        return {"entry": self.entry, "library_type": self.library_type,
                "local_path": self.local_path, "local_path_from": self.local_path_from,
                "library_number": self.library_number, "site_id": self.site_id,
                "web_id": self.web_id, "library_id": self.library_id,
                "parent_folder_id": self.parent_folder_id, "link_id": self.link_id,
                "relative_path": self.relative_path,
                "emails": [x for x in self.fields if _EMAIL_RE.match(x)],
                "fields": self.fields}


def _at(fields: list[str], position: int) -> str | None:
    """Field `position` counted from 1 after `=`, or None when the line is shorter."""
    return fields[position - 1] if 0 < position <= len(fields) else None


def _place_path(root: SyncRoot, documented: str | None) -> None:
    if documented is not None and is_local_path(documented):
        root.local_path, root.local_path_from = documented, "documented position"
        return
    for field in root.fields:
        if is_local_path(field):
            root.local_path, root.local_path_from = field, "first path-like field"
            return


def parse_sync_root(tag: str, value: str, business: bool) -> SyncRoot:
    """Read one sync-root line (`tag` is one of SYNC_ROOT_TAGS) of a Personal or Business
    account folder."""
    fields = split_fields(value)
    quoted = quoted_fields(value)
    if not business:
        root = SyncRoot(tag, "OneDrive (personal)", fields)
        position = 1 if tag == "library" else 4  # 2nd / 5th quoted field
        _place_path(root, quoted[position] if position < len(quoted) else None)
        return root
    if tag == "libraryScope":
        number = _at(fields, 1)
        kind = "OneDrive for Business" if number == "0" else "SharePoint library"
        root = SyncRoot(tag, kind, fields, library_number=number, site_id=_at(fields, 9),
                        web_id=_at(fields, 10), library_id=_at(fields, 11))
        _place_path(root, _at(fields, 13))
    elif tag == "libraryFolder":
        root = SyncRoot(tag, "SharePoint library folder", fields,
                        library_number=_at(fields, 2), parent_folder_id=_at(fields, 3))
        _place_path(root, _at(fields, 5))
    elif tag == "AddedScope":
        relative = _at(fields, 10)
        root = SyncRoot(tag, "Shortcut added to My files", fields, site_id=_at(fields, 6),
                        web_id=_at(fields, 7), library_id=_at(fields, 8),
                        link_id=_at(fields, 9),
                        relative_path=relative.strip() if relative is not None else None)
    else:  # "library" in a Business folder: not described; only a path-like field is taken
        root = SyncRoot(tag, "OneDrive library", fields)
        _place_path(root, None)
    return root


def account_of(path: str) -> str | None:
    """The settings folder holding the file (Personal, Business1...)."""
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else None


def _read_text(f: EvidenceFile, ctx: ExtractionContext) -> str:
    if f.size > MAX_INI_BYTES:
        raise ArtifactError(f"settings file of {f.size} bytes is larger than the "
                            f"{MAX_INI_BYTES}-byte bound for a OneDrive .ini: not read")
    text, clean = decode_text(f.read(MAX_INI_BYTES))
    if not clean:
        ctx.warn("some bytes are not valid text in the file's encoding: shown as U+FFFD")
    return text


@register
class OneDriveSettings(Extractor):
    name = "onedrive_settings"
    family = "cloud"
    description = ("OneDrive settings (global.ini, <cid>.ini): the account and its sync roots "
                   "(local folders and libraries), without times")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        text = _read_text(f, ctx)
        account = account_of(f.path)
        if basename(f.path).lower() == "global.ini":
            yield from self._global(text, account, ctx)
            return
        yield from self._sync_roots(text, account, ctx)

    def _global(self, text: str, account: str | None,
                ctx: ExtractionContext) -> Iterator[Event]:
        settings: dict[str, str] = {}
        cut = 0
        for key, value in ini_lines(text):
            if key in settings:
                continue
            if len(settings) >= MAX_KEYS:
                ctx.warn(f"more than {MAX_KEYS} settings: the rest are not kept")
                break
            if len(value) > MAX_VALUE_CHARS:
                value, cut = value[:MAX_VALUE_CHARS], cut + 1
            settings[key] = value
        if cut:
            ctx.note(f"{cut} value(s) longer than {MAX_VALUE_CHARS} characters were cut")
        if "cid" not in settings:
            ctx.note("no `cid = ` line: not a OneDrive account global.ini; nothing taken")
            return
        label = account or "account unknown"
        yield Event(None, "Account Settings",
                    f"OneDrive account settings ({label}): cid {settings['cid']}",
                    {"client": "OneDrive", "account": account, "cid": settings["cid"],
                     "settings": settings})

    def _sync_roots(self, text: str, account: str | None,
                    ctx: ExtractionContext) -> Iterator[Event]:
        business = bool(account and account.lower().startswith("business"))
        label = account or "account unknown"
        found = 0
        for key, value in ini_lines(text):
            if key not in SYNC_ROOT_TAGS:
                continue
            root = parse_sync_root(key, value, business)
            found += 1
            where = root.local_path or (f"path in library: {root.relative_path}"
                                        if root.relative_path else "no local folder on the line")
            yield Event(None, "Sync Root",
                        f"OneDrive ({label}) sync root {where}: {root.library_type} ({key})",
                        {"client": "OneDrive", "account": account, **root.data()})
        if not found:
            ctx.note("no library, libraryScope, libraryFolder or AddedScope line: not an "
                     "account settings file with sync roots; nothing taken")


__all__ = ["OneDriveSettings", "decode_text", "ini_lines", "parse_sync_root", "split_fields"]
