"""Firefox `places.sqlite` (history, bookmarks, downloads) and legacy `downloads.sqlite`.

Format: SQLite 3 databases in the profile folder (`%APPDATA%\\Mozilla\\Firefox\\Profiles\\
<profile>\\`). places.sqlite exists since Firefox 3 (2008); its layout is described by Mozilla's
nsPlacesTables.h and the Places documentation (developer.mozilla.org "Places database"); the
tables read here are moz_places, moz_historyvisits, moz_bookmarks, moz_items_annos,
moz_anno_attributes and moz_annos, with every column checked for before it is used, so both the
Firefox 3-era schema and the current one (schema version 70+, Firefox 100 and later) are read.
downloads.sqlite (table moz_downloads) was the download list of Firefox 3 to 25; Firefox 26 and
later keep downloads as moz_annos annotations of the downloaded URL in places.sqlite. The
database is read from a private copy with its -wal (triage.extractors._sqlite): Firefox writes
places.sqlite in WAL mode, so recent records are often only in places.sqlite-wal.

Times, all UTC:
    visit_date, dateAdded, lastModified, moz_places.last_visit_date, moz_downloads.startTime /
    endTime: PRTime, microseconds since 1970-01-01 UTC (six fractional digits). 0 or NULL
    means "not set".
    `downloads/metaData` annotation `endTime`: JavaScript time, milliseconds since 1970-01-01
    UTC (three fractional digits).

Events of `firefox_places` (places.sqlite):
    "Visited"          one per moz_historyvisits row, at visit_date.
    "Last Visited"     a moz_places row with last_visit_date but no visit row left, at
                       last_visit_date.
    "Bookmark Added"   one per bookmark (type 1) and folder (type 2) at dateAdded;
                       separators are skipped.
    "Bookmark Modified" at lastModified, when it is set and differs from dateAdded.
    "Download Started" a download recorded in moz_annos (Firefox 26 and later), at the
                       dateAdded of its `downloads/destinationFileURI` annotation (written when
                       Firefox adds the download to history, as it starts).
    "Download Finished" at `endTime` of its `downloads/metaData` annotation, when present.
Events of `firefox_downloads` (downloads.sqlite, moz_downloads):
    "Download Started" at startTime; "Download Finished" at endTime when set.

Event data, every event: browser ("Firefox"; Waterfox, LibreWolf, Tor Browser, Thunderbird
when the path says so), profile (the folder holding the file), url, domain, category.
    Visited / Last Visited: title, visit_id, visit_count, typed, hidden, visit_type (link,
        typed, bookmark, embed, redirect_permanent, redirect_temporary, download,
        framed_link, reload), visit_type_raw, from_visit_id, from_visit_url, session,
        visit_source (organic, sponsored, bookmarked, searched; current schemas only).
    Bookmarks: bookmark_id, bookmark_type (bookmark, folder), title, folder (the path of the
        containing folders' titles, joined with "/"), guid, description (the
        bookmarkProperties/description annotation, when any), date_added, last_modified.
    places downloads: title, target_uri, target_path, target_name, state (downloading,
        finished, failed, canceled, paused, queued, blocked_parental, scanning, dirty,
        blocked_policy), file_size, deleted, end_time.
    downloads.sqlite: download_id, name, target_uri, target_path, temp_path, referrer,
        received_bytes, total_bytes (None when unknown, -1 in the file), state, mime_type,
        preferred_application, preferred_action, auto_resume, start_time, end_time.
"""
from __future__ import annotations

import json
import re
import sqlite3
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors.chromium import named, profile_of
from triage.extractors._sqlite import (open_artifact_db, TimeReader, as_int, as_text, column, iso, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event
from triage.urlcat import categorize, lists_for

VISIT_TYPE = {1: "link", 2: "typed", 3: "bookmark", 4: "embed", 5: "redirect_permanent",
              6: "redirect_temporary", 7: "download", 8: "framed_link", 9: "reload"}
VISIT_SOURCE = {0: "organic", 1: "sponsored", 2: "bookmarked", 3: "searched"}
DOWNLOAD_STATE = {-1: "not_started", 0: "downloading", 1: "finished", 2: "failed",
                  3: "canceled", 4: "paused", 5: "queued", 6: "blocked_parental",
                  7: "scanning", 8: "dirty", 9: "blocked_policy"}
BOOKMARK_TYPE = {1: "bookmark", 2: "folder"}
_MAX_FOLDER_DEPTH = 64
_DRIVE = re.compile(r"^/?([A-Za-z]):(/|$)")

_BROWSERS = (("/waterfox/", "Waterfox"), ("/librewolf/", "LibreWolf"),
             ("/tor browser/", "Tor Browser"), ("/thunderbird/", "Thunderbird"))


def browser_of(path: str) -> str:
    lower = "/" + path.lower().strip("/") + "/"
    for fragment, name in _BROWSERS:
        if fragment in lower:
            return name
    return "Firefox"


def file_uri_to_path(uri: str | None) -> str | None:
    """file:///C:/Users/a%20b/x.zip -> C:\\Users\\a b\\x.zip; file:///home/x -> /home/x;
    file://server/share/x -> \\\\server\\share\\x. Anything else -> None."""
    if not uri or not uri.lower().startswith("file:"):
        return None
    try:
        parts = urlsplit(uri)
    except ValueError:
        return None
    path = unquote(parts.path, errors="surrogateescape")
    if parts.netloc and parts.netloc.lower() != "localhost":
        return "\\\\" + parts.netloc + path.replace("/", "\\")
    drive = _DRIVE.match(path)
    if drive:
        rest = path[drive.end():]
        return f"{drive.group(1)}:\\" + rest.replace("/", "\\")
    return path or None


def _base(f: EvidenceFile) -> dict[str, Any]:
    return {"browser": browser_of(f.path), "profile": profile_of(f.path)}


@register
class FirefoxPlaces(Extractor):
    name = "firefox_places"
    family = "browser"
    description = "Firefox places.sqlite: visits, bookmarks, downloads (Firefox 26+)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "moz_places" not in tables:
                raise ArtifactError("not a Firefox places database (no moz_places table)")
            run = _Places(db, tables, f, ctx)
            if "moz_historyvisits" in tables:
                yield from run_section(ctx, "moz_historyvisits", run.visits)
            else:
                ctx.warn("no 'moz_historyvisits' table: visits not available")
            yield from run_section(ctx, "moz_places without visits", run.orphan_places)
            if "moz_bookmarks" in tables:
                yield from run_section(ctx, "moz_bookmarks", run.bookmarks)
            if "moz_annos" in tables and "moz_anno_attributes" in tables:
                yield from run_section(ctx, "moz_annos downloads", run.downloads)
            run.times.report(ctx)


class _Places:
    def __init__(self, db: sqlite3.Connection, tables: dict[str, list[str]], f: EvidenceFile,
                 ctx: ExtractionContext) -> None:
        self.db, self.tables, self.ctx = db, tables, ctx
        self.times = TimeReader()
        self.lists = lists_for(ctx)
        self.base = _base(f)

    def _col(self, alias: str, table: str, name: str, label: str | None = None) -> str:
        return column(self.tables, alias, table, name, label)

    def _url(self, url: str | None) -> dict[str, Any]:
        return {"url": url, **categorize(url, self.lists)}

    @property
    def _who(self) -> str:
        return self.base["browser"]

    # ------------------------------------------------------------ history

    def visits(self) -> Iterator[Event]:
        hv = self.tables["moz_historyvisits"]
        has_from = "from_visit" in hv
        select = ", ".join([
            "v.id AS visit_id", self._col("v", "moz_historyvisits", "visit_date"),
            "p.url AS url", self._col("p", "moz_places", "title"),
            self._col("p", "moz_places", "visit_count"), self._col("p", "moz_places", "typed"),
            self._col("p", "moz_places", "hidden"),
            self._col("v", "moz_historyvisits", "visit_type"),
            self._col("v", "moz_historyvisits", "from_visit"),
            self._col("v", "moz_historyvisits", "session"),
            self._col("v", "moz_historyvisits", "source"),
            "fp.url AS from_url" if has_from else "NULL AS from_url",
        ])
        joins = ("LEFT JOIN moz_historyvisits fv ON fv.id = v.from_visit "
                 "LEFT JOIN moz_places fp ON fp.id = fv.place_id") if has_from else ""
        place_join = ("LEFT JOIN moz_places p ON p.id = v.place_id" if "place_id" in hv
                      else "LEFT JOIN moz_places p ON 0")
        query = f"SELECT {select} FROM moz_historyvisits v {place_join} {joins} ORDER BY v.id"
        for row in self.db.execute(query):
            url = as_text(row["url"])
            title = as_text(row["title"])
            from_visit = as_int(row["from_visit"])
            kind = named(VISIT_TYPE, row["visit_type"])
            data = {
                **self.base, **self._url(url), "title": title,
                "visit_id": as_int(row["visit_id"]),
                "visit_count": as_int(row["visit_count"]),
                "typed": as_int(row["typed"]),
                "hidden": as_int(row["hidden"]),
                "visit_type": kind, "visit_type_raw": as_int(row["visit_type"]),
                "from_visit_id": from_visit or None,
                "from_visit_url": as_text(row["from_url"]) if from_visit else None,
                "session": as_int(row["session"]),
                "visit_source": (named(VISIT_SOURCE, row["source"])
                                 if row["source"] is not None else None),
            }
            message = f"{self._who}: visited {url if url is not None else '(URL row missing)'}"
            if title:
                message += f' "{title}"'
            if kind:
                message += f" [{kind}]"
            yield Event(self.times.micros("moz_historyvisits.visit_date", row["visit_date"]),
                        "Visited", message, data)

    def orphan_places(self) -> Iterator[Event]:
        if "last_visit_date" not in self.tables["moz_places"]:
            return
        where = ""
        if "moz_historyvisits" in self.tables and "place_id" in self.tables["moz_historyvisits"]:
            where = "AND NOT EXISTS (SELECT 1 FROM moz_historyvisits v WHERE v.place_id = p.id)"
        select = ", ".join([
            "p.id AS place_id", "p.url AS url", self._col("p", "moz_places", "title"),
            self._col("p", "moz_places", "visit_count"), self._col("p", "moz_places", "typed"),
            self._col("p", "moz_places", "hidden"), "p.last_visit_date AS last_visit_date",
        ])
        query = (f"SELECT {select} FROM moz_places p WHERE p.last_visit_date IS NOT NULL "
                 f"AND p.last_visit_date != 0 {where} ORDER BY p.id")
        for row in self.db.execute(query):
            stamp = self.times.micros("moz_places.last_visit_date", row["last_visit_date"])
            if stamp is None:
                continue
            url = as_text(row["url"])
            title = as_text(row["title"])
            data = {**self.base, **self._url(url), "title": title,
                    "place_id": as_int(row["place_id"]),
                    "visit_count": as_int(row["visit_count"]), "typed": as_int(row["typed"]),
                    "hidden": as_int(row["hidden"])}
            message = f"{self._who}: last visited {url}"
            if title:
                message += f' "{title}"'
            yield Event(stamp, "Last Visited", message + " (no visit record left)", data)

    # ------------------------------------------------------------ bookmarks

    def _folders(self) -> dict[int, tuple[int | None, str]]:
        folders: dict[int, tuple[int | None, str]] = {}
        for row in self.db.execute(
                f"SELECT id, {self._col('b', 'moz_bookmarks', 'parent')}, "
                f"{self._col('b', 'moz_bookmarks', 'title')} FROM moz_bookmarks b"):
            key = as_int(row["id"])
            if key is not None:
                folders[key] = (as_int(row["parent"]), as_text(row["title"]) or "")
        return folders

    @staticmethod
    def _folder_path(parent: int | None, folders: dict[int, tuple[int | None, str]]) -> str | None:
        names: list[str] = []
        seen: set[int] = set()
        current = parent
        while current is not None and current in folders and current not in seen:
            if len(seen) >= _MAX_FOLDER_DEPTH:
                break
            seen.add(current)
            up, title = folders[current]
            if title:
                names.append(title)
            current = up if up else None
        return "/".join(reversed(names)) if names else None

    def _descriptions(self) -> dict[int, str]:
        if "moz_items_annos" not in self.tables or "moz_anno_attributes" not in self.tables:
            return {}
        found: dict[int, str] = {}
        for row in self.db.execute(
                "SELECT a.item_id AS item_id, a.content AS content FROM moz_items_annos a "
                "JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id "
                "WHERE n.name = 'bookmarkProperties/description' ORDER BY a.id"):
            key = as_int(row["item_id"])
            if key is not None and row["content"] is not None:
                found[key] = as_text(row["content"]) or ""
        return found

    def bookmarks(self) -> Iterator[Event]:
        folders = self._folders()
        descriptions = self._descriptions()
        has_fk = "fk" in self.tables["moz_bookmarks"]
        select = ", ".join([
            "b.id AS id", self._col("b", "moz_bookmarks", "type"),
            self._col("b", "moz_bookmarks", "parent"), self._col("b", "moz_bookmarks", "title"),
            self._col("b", "moz_bookmarks", "dateAdded"),
            self._col("b", "moz_bookmarks", "lastModified"),
            self._col("b", "moz_bookmarks", "guid"),
            "p.url AS url" if has_fk else "NULL AS url",
        ])
        join = "LEFT JOIN moz_places p ON p.id = b.fk" if has_fk else ""
        for row in self.db.execute(f"SELECT {select} FROM moz_bookmarks b {join} ORDER BY b.id"):
            kind = as_int(row["type"])
            if kind not in BOOKMARK_TYPE:
                continue  # 3 = separator: no title, no URL
            bookmark_id = as_int(row["id"])
            title = as_text(row["title"])
            url = as_text(row["url"]) if kind == 1 else None
            added = self.times.micros("moz_bookmarks.dateAdded", row["dateAdded"])
            modified = self.times.micros("moz_bookmarks.lastModified", row["lastModified"])
            folder = self._folder_path(as_int(row["parent"]), folders)
            data = {
                **self.base, **self._url(url), "bookmark_id": bookmark_id,
                "bookmark_type": BOOKMARK_TYPE[kind], "title": title, "folder": folder,
                "guid": as_text(row["guid"]),
                "description": descriptions.get(bookmark_id) if bookmark_id is not None else None,
                "date_added": iso(added), "last_modified": iso(modified),
            }
            what = "folder" if kind == 2 else "bookmark"
            label = f'"{title}"' if title else "(untitled)"
            target = f" {url}" if url else ""
            place = f" in {folder}" if folder else ""
            yield Event(added, "Bookmark Added",
                        f"{self._who}: {what} {label}{target} added{place}", data)
            if modified is not None and (added is None or modified.ns != added.ns):
                yield Event(modified, "Bookmark Modified",
                            f"{self._who}: {what} {label}{target} modified{place}", dict(data))

    # ------------------------------------------------------------ downloads (Firefox 26+)

    def downloads(self) -> Iterator[Event]:
        query = (
            "SELECT a.place_id AS place_id, n.name AS name, a.content AS content, "
            f"{self._col('a', 'moz_annos', 'dateAdded')}, p.url AS url, "
            f"{self._col('p', 'moz_places', 'title')} "
            "FROM moz_annos a JOIN moz_anno_attributes n ON n.id = a.anno_attribute_id "
            "LEFT JOIN moz_places p ON p.id = a.place_id "
            "WHERE n.name IN ('downloads/destinationFileURI', 'downloads/destinationFileName', "
            "'downloads/metaData') ORDER BY a.place_id, a.id")
        grouped: dict[int | None, dict[str, Any]] = {}
        for row in self.db.execute(query):
            entry = grouped.setdefault(as_int(row["place_id"]), {
                "url": as_text(row["url"]), "title": as_text(row["title"])})
            entry[as_text(row["name"]) or ""] = (as_text(row["content"]), row["dateAdded"])
        bad_json = 0
        for place_id, entry in grouped.items():
            uri, added_raw = entry.get("downloads/destinationFileURI", (None, None))
            name = entry.get("downloads/destinationFileName", (None, None))[0]
            meta_text = entry.get("downloads/metaData", (None, None))[0]
            meta: dict[str, Any] = {}
            if meta_text:
                try:
                    parsed = json.loads(meta_text)
                    meta = parsed if isinstance(parsed, dict) else {}
                    if not isinstance(parsed, dict):
                        bad_json += 1
                except (ValueError, RecursionError):  # RecursionError: hostile nesting
                    bad_json += 1
            url = entry["url"]
            started = self.times.micros("moz_annos.dateAdded", added_raw)
            ended = self.times.millis("downloads/metaData.endTime", meta.get("endTime"))
            deleted = meta.get("deleted")
            data = {
                **self.base, **self._url(url), "title": entry["title"], "place_id": place_id,
                "target_uri": uri, "target_path": file_uri_to_path(uri), "target_name": name,
                "state": named(DOWNLOAD_STATE, meta.get("state")),
                "file_size": as_int(meta.get("fileSize")),
                "deleted": deleted if isinstance(deleted, bool) else None,
                "end_time": iso(ended),
            }
            where = data["target_path"] or uri or name or "(no destination recorded)"
            tail = f" ({data['state']})" if data["state"] else ""
            if uri is not None or name is not None:
                yield Event(started, "Download Started",
                            f"{self._who}: download started {url} -> {where}{tail}", data)
            if ended is not None:
                yield Event(ended, "Download Finished",
                            f"{self._who}: download finished {url} -> {where}{tail}", dict(data))
        if bad_json:
            self.ctx.warn(f"downloads/metaData: {bad_json} annotation(s) not valid JSON")


@register
class FirefoxDownloads(Extractor):
    name = "firefox_downloads"
    family = "browser"
    description = "Firefox 3-25 downloads.sqlite (moz_downloads)"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if "moz_downloads" not in tables:
                raise ArtifactError("not a Firefox downloads database (no moz_downloads table)")
            times = TimeReader()
            yield from run_section(ctx, "moz_downloads",
                                   lambda: self._rows(db, tables, f, ctx, times))
            times.report(ctx)

    @staticmethod
    def _rows(db: sqlite3.Connection, tables: dict[str, list[str]], f: EvidenceFile,
              ctx: ExtractionContext, times: TimeReader) -> Iterator[Event]:
        lists = lists_for(ctx)
        base = _base(f)
        names = ["id", "name", "source", "target", "tempPath", "startTime", "endTime", "state",
                 "referrer", "currBytes", "maxBytes", "mimeType", "preferredApplication",
                 "preferredAction", "autoResume"]
        select = ", ".join(column(tables, "d", "moz_downloads", n) for n in names)
        for row in db.execute(f"SELECT {select} FROM moz_downloads d ORDER BY d.id"):
            url = as_text(row["source"])
            target = as_text(row["target"])
            start = times.micros("moz_downloads.startTime", row["startTime"])
            end = times.micros("moz_downloads.endTime", row["endTime"])
            total = as_int(row["maxBytes"])
            data = {
                **base, "url": url, **categorize(url, lists),
                "download_id": as_int(row["id"]), "name": as_text(row["name"]),
                "target_uri": target, "target_path": file_uri_to_path(target) or target,
                "temp_path": as_text(row["tempPath"]) or None,
                "referrer": as_text(row["referrer"]) or None,
                "received_bytes": as_int(row["currBytes"]),
                "total_bytes": total if total is not None and total >= 0 else None,
                "state": named(DOWNLOAD_STATE, row["state"]),
                "mime_type": as_text(row["mimeType"]) or None,
                "preferred_application": as_text(row["preferredApplication"]) or None,
                "preferred_action": as_int(row["preferredAction"]),
                "auto_resume": as_int(row["autoResume"]),
                "start_time": iso(start), "end_time": iso(end),
            }
            received = data["received_bytes"]
            size = f"{received:,} bytes" if received is not None else "size unknown"
            where = data["target_path"] or "(no target)"
            tail = f" ({size}, {data['state'] or 'state unknown'})"
            yield Event(start, "Download Started",
                        f"{base['browser']}: download started {url} -> {where}{tail}", data)
            if end is not None:
                yield Event(end, "Download Finished",
                            f"{base['browser']}: download finished {url} -> {where}{tail}",
                            dict(data))
