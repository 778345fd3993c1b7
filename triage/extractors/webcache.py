"""Internet Explorer 10/11 and legacy (EdgeHTML) Edge web cache
(`C:\\Users\\<user>\\AppData\\Local\\Microsoft\\Windows\\WebCache\\WebCacheV01.dat`, on some
builds WebCacheV24.dat): browsing history, downloads and cached content.

Format: an Extensible Storage Engine (ESE) database, read with libesedb (pyesedb; the libyal
paper "Extensible Storage Engine (ESE) Database File (EDB) format" and the libyal esedb-kb note
"Microsoft Internet Explorer web cache (WebCache) database"). Windows keeps it open
(taskhostw.exe / dllhost.exe), so a copy from a seized system is usually in "dirty shutdown"
state with recent changes only in its V01*.log transaction logs; libesedb reads the database
file as it is and the extractor says so with a warning.

The `Containers` table lists the containers: ContainerId, Name (History, MSHist01<dates>
daily/weekly history, iedownload, Content, Cookies, DOMStore, ...), Directory. Each container's
entries are in the table `Container_<ContainerId>` (sometimes missing: noted). Columns read:
EntryId, ContainerId, CacheId, UrlHash, SecureDirectory, FileSize, Type, Flags, AccessCount,
SyncTime, CreationTime, ExpiryTime, ModifiedTime, AccessedTime, PostCheckTime (FILETIMEs, UTC,
100 ns), SyncCount, ExemptionDelta, Url, Filename, FileExtension, RequestHeaders,
ResponseHeaders, RedirectUrl, ExtraData.

Events:
    "Visited" (containers History and MSHist*, at AccessedTime: the last visit). History URLs
        are stored as `Visited: <user>@<url>` (`:<dates>: <user>@<url>` in the MSHist
        containers): the prefix is removed and the user name kept as url_user.
    "Download" (container iedownload, at AccessedTime). Url may carry an `iedownload:` prefix
        (removed). The target path and, when present, the source URL are read from the UTF-16
        strings of ResponseHeaders and ExtraData (target_path: the first string that is a
        Windows path; None when none is found).
    "Cache Entry Accessed" (container Content, at AccessedTime), only with the extractor option
        webcache_content: there are usually tens of thousands of them.
    An entry without an AccessedTime gets no time (every stored time is still in its data);
    a value that is not a valid FILETIME is left out and counted in a warning.
Cookies, DOMStore and the other containers are not read.

Event data: browser ("Internet Explorer / Edge (legacy)"), container, container_id,
container_directory, entry_id,
url, domain and category (triage.urlcat), url_user, access_count, file_name, file_extension,
file_size, redirect_url, creation_time, modified_time, accessed_time, expiry_time, sync_time
(ISO 8601 or None); downloads add target_path and source_url. `user` is the name in the URL's
prefix, else the profile the database lies in.
"""
from __future__ import annotations

import re
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors.srum import (
    EseDatabase,
    RowReader,
    TimeCounter,
    iso,
    note_state,
    open_database,
)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event
from triage.urlcat import categorize, lists_for

BROWSER = "Internet Explorer / Edge (legacy)"
CONTAINERS_TABLE = "Containers"
_VISITED = re.compile(r"^(?:Visited:|:\d{16}:)\s*(?P<user>[^@/]*)@(?P<url>.+)$", re.DOTALL)
_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:\\|\\\\[^\\]+\\)[^\0]*$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{1,15}://\S+$")
_MAX_STRINGS = 64
_TIME_FIELDS = (("CreationTime", "creation_time"), ("ModifiedTime", "modified_time"),
                ("AccessedTime", "accessed_time"), ("ExpiryTime", "expiry_time"),
                ("SyncTime", "sync_time"))


def _kind(name: str) -> str | None:
    lower = name.lower()
    if lower == "history" or lower.startswith("mshist"):
        return "history"
    if lower == "iedownload":
        return "download"
    if lower == "content":
        return "content"
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.rstrip("\0")
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        if len(data) % 2 == 0 and data[1:2] == b"\0":
            return data.decode("utf-16-le", "replace").rstrip("\0")
        return data.decode("cp1252", "replace").rstrip("\0")
    return str(value)


def utf16_strings(data: Any) -> list[str]:
    """The printable UTF-16LE strings (4 characters or more) in a binary value, in order."""
    if not isinstance(data, (bytes, bytearray)) or len(data) < 8:
        return []
    found = []
    for start in (0, 1):
        text = bytes(data[start:len(data) - ((len(data) - start) % 2)]).decode("utf-16-le",
                                                                             "replace")
        for piece in re.split(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]+", text):
            piece = piece.strip()
            if len(piece) >= 4 and piece.isprintable():
                found.append(piece)
                if len(found) >= _MAX_STRINGS:
                    return found
        if found:
            return found
    return found


def download_details(*blobs: Any) -> tuple[str | None, str | None]:
    """(target path, source URL) from the strings of the download's header blobs."""
    target = source = None
    for blob in blobs:
        for string in utf16_strings(blob):
            if target is None and _WINDOWS_PATH.match(string):
                target = string
            elif source is None and _URL.match(string):
                source = string
    return target, source


@register
class WebCacheExtractor(Extractor):
    name = "webcache"
    family = "browser"
    description = ("Internet Explorer 10/11 and legacy Edge WebCacheV01.dat: visits, downloads "
                   "(and cached content with webcache_content)")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        handle = f.open()
        try:
            db = open_database(handle, "WebCache")
            try:
                yield from self._extract(db, f, ctx)
            finally:
                db.close()
        finally:
            handle.close()

    def _extract(self, db: EseDatabase, f: EvidenceFile,
                 ctx: ExtractionContext) -> Iterator[Event]:
        if CONTAINERS_TABLE not in db.tables:
            raise ArtifactError("not a WebCache database (no Containers table)")
        note_state(db, ctx, "V01*.log")
        content = bool(ctx.options.get("webcache_content"))
        reader = RowReader(db.tables[CONTAINERS_TABLE])
        containers = []
        for row in reader.rows():
            container_id = row.get("ContainerId")
            name = _text(row.get("Name")) or ""
            if isinstance(container_id, int):
                containers.append((container_id, name, _text(row.get("Directory"))))
        reader.report(ctx)
        profile_user = ctx.user_for_path(f.path)
        lists = lists_for(ctx)
        times = TimeCounter()
        skipped_content = 0
        for container_id, name, directory in containers:
            kind = _kind(name)
            if kind is None:
                continue
            table_name = f"Container_{container_id}"
            table = db.tables.get(table_name)
            if table is None:
                ctx.note(f"container {name} ({container_id}) has no {table_name} table")
                continue
            if kind == "content" and not content:
                try:
                    skipped_content += table.get_number_of_records()
                except (OSError, ValueError):
                    pass
                continue
            entries = RowReader(table)
            for row in entries.rows():
                yield self._event(kind, name, container_id, directory, row, profile_user,
                                  lists, times)
            entries.report(ctx)
        if skipped_content:
            ctx.note(f"{skipped_content} cached content entr(ies) not put on the timeline "
                     "(extractor option webcache_content)")
        times.report(ctx)

    @staticmethod
    def _event(kind: str, container: str, container_id: int, directory: str | None,
               row: dict[str, Any], profile_user: str | None, lists: Any,
               times: TimeCounter) -> Event:
        raw_url = _text(row.get("Url")) or ""
        url, url_user = raw_url, None
        if kind == "history":
            match = _VISITED.match(raw_url)
            if match:
                url, url_user = match.group("url"), match.group("user") or None
        elif kind == "download" and raw_url.lower().startswith("iedownload:"):
            url = raw_url[len("iedownload:"):]
        stamps = {label: times.filetime(column, row.get(column)) for column, label in _TIME_FIELDS}
        data: dict[str, Any] = {
            "browser": BROWSER,
            "container": container,
            "container_id": container_id,
            "container_directory": directory,
            "entry_id": row.get("EntryId"),
            "url": url or None,
            **categorize(url or None, lists),
            "url_user": url_user,
            "access_count": row.get("AccessCount"),
            "file_name": _text(row.get("Filename")),
            "file_extension": _text(row.get("FileExtension")),
            "file_size": row.get("FileSize"),
            "redirect_url": _text(row.get("RedirectUrl")),
            **{label: iso(stamp) for label, stamp in stamps.items()},
        }
        user = url_user or profile_user
        accessed = stamps["accessed_time"]
        shown = url or "(no URL)"
        if kind == "history":
            count = data["access_count"]
            times_text = f", {count} visit(s)" if isinstance(count, int) else ""
            who = f" by {url_user}" if url_user else ""
            return Event(accessed, "Visited", f"Visited {shown}{who}{times_text}", data, user)
        if kind == "download":
            target, source = download_details(row.get("ResponseHeaders"), row.get("ExtraData"))
            data["target_path"] = target
            data["source_url"] = source
            where = f" to {target}" if target else ""
            return Event(accessed, "Download", f"Downloaded {shown}{where}", data, user)
        name = data["file_name"]
        cached = f" (cached as {name})" if name else ""
        return Event(accessed, "Cache Entry Accessed", f"Cached {shown}{cached}", data, user)
