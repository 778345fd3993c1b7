"""Chromium `History` database (Chrome, Edge, Brave, Opera, Vivaldi, Chromium): visits,
downloads and search terms.

Format: an SQLite 3 database in the browser profile (`...\\User Data\\<profile>\\History`;
Opera: `Opera Stable\\History` or `Opera Stable\\Default\\History`). Its schema version is the
`version` row of the `meta` table; every version from the 2010 era (version ~20, Chrome 8) to
the current one (version 60 and later) is read by checking which tables and columns exist, never
by assuming a layout. Documented by the Chromium sources (components/history/core/browser:
history_database.cc, url_database.cc (urls, keyword_search_terms), visit_database.cc,
download_database.cc, history_types.h, download_constants.h; ui/base/page_transition_types.h).
The database is read from a private copy with its -wal and -journal
(triage.extractors._sqlite), so records not yet checkpointed are included; a -wal whose frames
SQLite will not apply (failed checksum, cut frame, unfinished transaction) is reported as a
warning (`check_wal`, shared with the Firefox and Timeline extractors like the other helpers
below).

Times, all UTC:
    visits.visit_time, urls.last_visit_time, downloads.start_time / end_time /
    last_access_time (schema 24 and later): WebKit time, microseconds since 1601-01-01 UTC,
    converted exactly (six fractional digits). 0 means "not set".
    downloads.start_time / end_time in the old `downloads` table that still has `full_path`
    (schema before 24, e.g. Chrome 8): POSIX seconds (time_t), no fraction. Chromium's own
    migration to 24 converts them with (t + 11644473600) * 1000000; here they are read as is.

Events:
    "Visited"          one per row of `visits` (joined to `urls`), at visit_time.
    "Last Visited"     a `urls` row that no longer has any visit row (visits expire before their
                       URL rows do), at urls.last_visit_time.
    "Download Started" one per download, at start_time (no timestamp when start_time is 0, so
                       the download is still listed).
    "Download Finished" at end_time, when it is set (a cancelled or interrupted download ends
                       too: see `state`).
    "Searched"         one per keyword_search_terms row: the term typed into a search engine,
                       at the last_visit_time of the results page's URL (the database records no
                       other time for the search).

Event data, every event: browser (from the path: Chrome, Edge, Brave, Opera, Opera GX, Vivaldi,
Chromium, "Chromium-based"), profile (the folder holding the file), schema_version, url,
domain, category (triage.urlcat).
    Visited / Last Visited: title, visit_id, visit_count, typed_count, hidden, transition (core
        type name: link, typed, auto_bookmark, auto_subframe, manual_subframe, generated,
        auto_toplevel, form_submit, reload, keyword, keyword_generated), transition_qualifiers
        (list: blocked, forward_back, from_address_bar, home_page, from_api, chain_start,
        chain_end, client_redirect, server_redirect), transition_raw, from_visit_id,
        from_visit_url, visit_duration_us (microseconds, when the column exists), visit_source
        (synced, browsed, extension, firefox_imported, ie_imported, safari_imported; a visit
        without a visit_source row is "browsed", as Chromium reads it; None when the table does
        not exist), external_referrer_url (when the column exists). Last Visited has the URL's
        fields only.
    Downloads: download_id, guid, target_path, current_path, url (the final URL, after
        redirects), url_chain (every URL, chain_index order), tab_url, tab_referrer_url,
        referrer, site_url, received_bytes, total_bytes, state (in_progress, complete,
        cancelled, interrupted), danger_type (not_dangerous, dangerous_file, ...),
        interrupt_reason (Chromium's numeric code), opened, mime_type, original_mime_type,
        last_access_time (ISO 8601 or None), hash (SHA-256 hex when recorded), by_ext_id,
        by_ext_name, start_time, end_time (ISO 8601 or None). Columns a schema lacks are None.
    Searched: term, normalized_term, keyword_id, title.
"""
from __future__ import annotations

import sqlite3
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.extractors._sqlite import (TimeReader, as_int, as_text, column, iso, open_artifact_db, run_section)
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event
from triage.urlcat import UrlCategories, categorize, lists_for

def profile_of(path: str) -> str | None:
    parts = [p for p in path.split("/") if p]
    return parts[-2] if len(parts) >= 2 else None


# ---------------------------------------------------------------- Chromium names

_BROWSERS = (
    ("/google/chrome sxs/", "Chrome Canary"),
    ("/google/chrome beta/", "Chrome Beta"),
    ("/google/chrome dev/", "Chrome Dev"),
    ("/google/chrome/", "Chrome"),
    ("/google-chrome", "Chrome"),
    ("/microsoft/edge sxs/", "Edge Canary"),
    ("/microsoft/edge beta/", "Edge Beta"),
    ("/microsoft/edge dev/", "Edge Dev"),
    ("/microsoft/edge/", "Edge"),
    ("/microsoft-edge", "Edge"),
    ("/microsoft edge", "Edge"),
    ("/bravesoftware/", "Brave"),
    ("/opera software/opera gx", "Opera GX"),
    ("/opera software/", "Opera"),
    ("/com.operasoftware.opera", "Opera"),
    ("/vivaldi/", "Vivaldi"),
    ("/chromium/", "Chromium"),
)

TRANSITION_CORE = {
    0: "link", 1: "typed", 2: "auto_bookmark", 3: "auto_subframe", 4: "manual_subframe",
    5: "generated", 6: "auto_toplevel", 7: "form_submit", 8: "reload", 9: "keyword",
    10: "keyword_generated",
}
TRANSITION_QUALIFIERS = (
    (0x00800000, "blocked"), (0x01000000, "forward_back"), (0x02000000, "from_address_bar"),
    (0x04000000, "home_page"), (0x08000000, "from_api"), (0x10000000, "chain_start"),
    (0x20000000, "chain_end"), (0x40000000, "client_redirect"), (0x80000000, "server_redirect"),
)
VISIT_SOURCE = {0: "synced", 1: "browsed", 2: "extension", 3: "firefox_imported",
                4: "ie_imported", 5: "safari_imported"}
DOWNLOAD_STATE = {0: "in_progress", 1: "complete", 2: "cancelled",
                  3: "interrupted",  # the old value 3 (bug 140687), migrated to 4 in schema 23
                  4: "interrupted"}
DANGER_TYPE = {
    0: "not_dangerous", 1: "dangerous_file", 2: "dangerous_url", 3: "dangerous_content",
    4: "maybe_dangerous_content", 5: "uncommon_content", 6: "user_validated",
    7: "dangerous_host", 8: "potentially_unwanted", 9: "allowlisted_by_policy",
    10: "async_scanning", 11: "blocked_password_protected", 12: "blocked_too_large",
    13: "sensitive_content_warning", 14: "sensitive_content_block", 15: "deep_scanned_safe",
    16: "deep_scanned_opened_dangerous", 17: "prompt_for_scanning",
    18: "blocked_unsupported_filetype", 19: "dangerous_account_compromise",
    20: "deep_scanned_failed", 21: "prompt_for_local_password_scanning",
    22: "async_local_password_scanning", 23: "blocked_scan_failed",
}


def browser_of(path: str) -> str:
    lower = "/" + path.lower().strip("/") + "/"
    for fragment, name in _BROWSERS:
        if fragment in lower:
            return name
    return "Chromium-based"


def named(table: dict[int, str], value: Any) -> str | None:
    number = as_int(value)
    if number is None:
        return None
    return table.get(number, f"unknown ({number})")


def transition_parts(value: Any) -> tuple[str | None, list[str], int | None]:
    number = as_int(value)
    if number is None:
        return None, [], None
    number &= 0xFFFFFFFF
    core = number & 0xFF
    qualifiers = [name for bit, name in TRANSITION_QUALIFIERS if number & bit]
    return TRANSITION_CORE.get(core, f"unknown ({core})"), qualifiers, number


_URL_MEMO = 200_000  # URLs whose domain/category are remembered while one file is read


def _bytes(value: Any) -> str:
    number = as_int(value)
    return f"{number:,}" if number is not None and number >= 0 else "?"


@register
class ChromiumHistory(Extractor):
    name = "chromium_history"
    family = "browser"
    description = ("Chromium-family History (Chrome, Edge, Brave, Opera, Vivaldi): visits, "
                   "downloads, searches")

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with open_artifact_db(f, ctx) as (db, tables):
            if not {"urls", "visits", "downloads"} & set(tables):
                raise ArtifactError(
                    "not a Chromium History database (no urls, visits or downloads table)")
            for needed in ("urls", "visits"):
                if needed not in tables:
                    ctx.warn(f"no '{needed}' table: browsing history not available")
            run = _Run(db, tables, f.path, ctx)
            if "visits" in tables and "urls" in tables:
                yield from run_section(ctx, "visits", run.visits)
            if "urls" in tables:
                yield from run_section(ctx, "urls without visits", run.orphan_urls)
            if "downloads" in tables:
                yield from run_section(ctx, "downloads", run.downloads)
            if "keyword_search_terms" in tables:
                yield from run_section(ctx, "keyword_search_terms", run.searches)
            run.times.report(ctx)


class _Run:
    """One History file being read."""

    def __init__(self, db: sqlite3.Connection, tables: dict[str, list[str]], path: str,
                 ctx: ExtractionContext) -> None:
        self.db = db
        self.tables = tables
        self.ctx = ctx
        self.times = TimeReader()
        self.lists: UrlCategories = lists_for(ctx)
        self._seen: dict[str | None, dict[str, Any]] = {}  # URL -> domain and category
        self.base = {"browser": browser_of(path), "profile": profile_of(path),
                     "schema_version": self._version()}

    def _version(self) -> int | None:
        if "meta" not in self.tables:
            return None
        try:
            row = self.db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
        except sqlite3.DatabaseError:
            return None
        if row is None:
            return None
        try:
            return int(row[0])
        except (TypeError, ValueError):
            return None

    def _url_fields(self, url: str | None) -> dict[str, Any]:
        known = self._seen.get(url)
        if known is None:
            known = categorize(url, self.lists)
            if len(self._seen) < _URL_MEMO:
                self._seen[url] = known
        return {"url": url, **known}

    @property
    def _who(self) -> str:
        return self.base["browser"]

    def _col(self, alias: str, table: str, name: str, label: str | None = None) -> str:
        return column(self.tables, alias, table, name, label)

    # ------------------------------------------------------------ visits

    def visits(self) -> Iterator[Event]:
        has_source = "visit_source" in self.tables
        select = ", ".join([
            "v.id AS visit_id", "v.visit_time AS visit_time", "u.url AS url",
            self._col("u", "urls", "title"), self._col("u", "urls", "visit_count"),
            self._col("u", "urls", "typed_count"), self._col("u", "urls", "hidden"),
            self._col("v", "visits", "transition"), self._col("v", "visits", "from_visit"),
            self._col("v", "visits", "visit_duration"),
            self._col("v", "visits", "external_referrer_url"),
            "fu.url AS from_url",
            "vs.source AS source" if has_source else "NULL AS source",
        ])
        join_source = "LEFT JOIN visit_source vs ON vs.id = v.id" if has_source else ""
        from_join = ("LEFT JOIN visits fv ON fv.id = v.from_visit "
                     "LEFT JOIN urls fu ON fu.id = fv.url"
                     if "from_visit" in self.tables["visits"] else "LEFT JOIN urls fu ON 0")
        query = (f"SELECT {select} FROM visits v LEFT JOIN urls u ON u.id = v.url "
                 f"{from_join} {join_source} ORDER BY v.id")
        for row in self.db.execute(query):
            url = as_text(row["url"])
            title = as_text(row["title"])
            core, qualifiers, raw = transition_parts(row["transition"])
            source = None
            if has_source:
                # no visit_source row: a visit the user browsed (Chromium's own reading)
                source = ("browsed" if row["source"] is None
                          else named(VISIT_SOURCE, row["source"]))
            from_visit = as_int(row["from_visit"])
            data = {
                **self.base, **self._url_fields(url), "title": title,
                "visit_id": as_int(row["visit_id"]),
                "visit_count": as_int(row["visit_count"]),
                "typed_count": as_int(row["typed_count"]),
                "hidden": bool(row["hidden"]) if row["hidden"] is not None else None,
                "transition": core, "transition_qualifiers": qualifiers, "transition_raw": raw,
                "from_visit_id": from_visit or None,
                "from_visit_url": as_text(row["from_url"]) if from_visit else None,
                "visit_duration_us": as_int(row["visit_duration"]),
                "visit_source": source,
                "external_referrer_url": as_text(row["external_referrer_url"]) or None,
            }
            label = url if url is not None else "(URL row missing)"
            message = f"{self._who}: visited {label}"
            if title:
                message += f' "{title}"'
            if core:
                message += f" [{core}]"
            yield Event(self.times.webkit("visits.visit_time", row["visit_time"]), "Visited",
                        message, data)

    def orphan_urls(self) -> Iterator[Event]:
        if "visits" in self.tables:
            where = "WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.url = u.id)"
        else:
            where = ""
        select = ", ".join([
            "u.id AS url_id", "u.url AS url", self._col("u", "urls", "title"),
            self._col("u", "urls", "visit_count"), self._col("u", "urls", "typed_count"),
            self._col("u", "urls", "hidden"), self._col("u", "urls", "last_visit_time"),
        ])
        for row in self.db.execute(f"SELECT {select} FROM urls u {where} ORDER BY u.id"):
            stamp = self.times.webkit("urls.last_visit_time", row["last_visit_time"])
            if stamp is None:
                continue  # a URL row with no time and no visit says nothing about a moment
            url = as_text(row["url"])
            title = as_text(row["title"])
            data = {
                **self.base, **self._url_fields(url), "title": title,
                "url_id": as_int(row["url_id"]),
                "visit_count": as_int(row["visit_count"]),
                "typed_count": as_int(row["typed_count"]),
                "hidden": bool(row["hidden"]) if row["hidden"] is not None else None,
            }
            message = f"{self._who}: last visited {url}"
            if title:
                message += f' "{title}"'
            message += " (no visit record left)"
            yield Event(stamp, "Last Visited", message, data)

    # ------------------------------------------------------------ downloads

    def downloads(self) -> Iterator[Event]:
        cols = self.tables["downloads"]
        legacy = "full_path" in cols  # schema before 24: time_t seconds, one url column
        chains: dict[int, list[str]] = {}
        if not legacy and "downloads_url_chains" in self.tables:
            for row in self.db.execute("SELECT id, chain_index, url FROM downloads_url_chains "
                                       "ORDER BY id, chain_index"):
                key = as_int(row["id"])
                if key is not None:
                    chains.setdefault(key, []).append(as_text(row["url"]) or "")
        names = ["id", "guid", "full_path", "current_path", "target_path", "url", "start_time",
                 "end_time", "received_bytes", "total_bytes", "state", "danger_type",
                 "interrupt_reason", "opened", "last_access_time", "referrer", "site_url",
                 "tab_url", "tab_referrer_url", "mime_type", "original_mime_type", "hash",
                 "by_ext_id", "by_ext_name"]
        select = ", ".join(self._col("d", "downloads", n) for n in names)
        convert = self.times.seconds if legacy else self.times.webkit
        for row in self.db.execute(f"SELECT {select} FROM downloads d ORDER BY d.id"):
            download_id = as_int(row["id"])
            if legacy:
                chain = [as_text(row["url"])] if row["url"] is not None else []
                target = current = as_text(row["full_path"])
            else:
                chain = chains.get(download_id, []) if download_id is not None else []
                if not chain and row["url"] is not None:
                    chain = [as_text(row["url"])]
                target = as_text(row["target_path"])
                current = as_text(row["current_path"])
            url = chain[-1] if chain else None
            start = convert("downloads.start_time", row["start_time"])
            end = convert("downloads.end_time", row["end_time"])
            digest = row["hash"]
            data = {
                **self.base, **self._url_fields(url),
                "download_id": download_id, "guid": as_text(row["guid"]),
                "target_path": target, "current_path": current, "url_chain": chain,
                "tab_url": as_text(row["tab_url"]) or None,
                "tab_referrer_url": as_text(row["tab_referrer_url"]) or None,
                "referrer": as_text(row["referrer"]) or None,
                "site_url": as_text(row["site_url"]) or None,
                "received_bytes": as_int(row["received_bytes"]),
                "total_bytes": as_int(row["total_bytes"]),
                "state": named(DOWNLOAD_STATE, row["state"]),
                "danger_type": named(DANGER_TYPE, row["danger_type"]),
                "interrupt_reason": as_int(row["interrupt_reason"]),
                "opened": bool(row["opened"]) if row["opened"] is not None else None,
                "mime_type": as_text(row["mime_type"]) or None,
                "original_mime_type": as_text(row["original_mime_type"]) or None,
                "last_access_time": iso(convert("downloads.last_access_time",
                                                row["last_access_time"])),
                "hash": digest.hex() if isinstance(digest, bytes) and digest else None,
                "by_ext_id": as_text(row["by_ext_id"]) or None,
                "by_ext_name": as_text(row["by_ext_name"]) or None,
                "start_time": iso(start), "end_time": iso(end),
            }
            where = target or current or "(no path)"
            tail = (f"({_bytes(row['received_bytes'])} of {_bytes(row['total_bytes'])} bytes, "
                    f"{data['state'] or 'state unknown'})")
            what = f"{url or '(no URL)'} -> {where} {tail}"
            yield Event(start, "Download Started", f"{self._who}: download started {what}", data)
            if end is not None:
                yield Event(end, "Download Finished",
                            f"{self._who}: download finished {what}",
                            dict(data, url_chain=list(chain)))

    # ------------------------------------------------------------ search terms

    def searches(self) -> Iterator[Event]:
        cols = self.tables["keyword_search_terms"]
        normalized = "normalized_term" if "normalized_term" in cols else "lower_term"
        has_urls = "urls" in self.tables
        select = ", ".join([
            self._col("k", "keyword_search_terms", "keyword_id"),
            self._col("k", "keyword_search_terms", "url_id"),
            self._col("k", "keyword_search_terms", "term"),
            self._col("k", "keyword_search_terms", normalized, "normalized_term"),
            "u.url AS url" if has_urls else "NULL AS url",
            self._col("u", "urls", "title") if has_urls else "NULL AS title",
            self._col("u", "urls", "last_visit_time") if has_urls else "NULL AS last_visit_time",
        ])
        join = "LEFT JOIN urls u ON u.id = k.url_id" if has_urls else ""
        for row in self.db.execute(
                f"SELECT {select} FROM keyword_search_terms k {join} ORDER BY k.rowid"):
            term = as_text(row["term"])
            url = as_text(row["url"])
            data = {
                **self.base, **self._url_fields(url), "term": term,
                "normalized_term": as_text(row["normalized_term"]),
                "keyword_id": as_int(row["keyword_id"]), "title": as_text(row["title"]),
            }
            message = f'{self._who}: searched "{term}"'
            if url:
                message += f" ({url})"
            yield Event(self.times.webkit("urls.last_visit_time", row["last_visit_time"]),
                        "Searched", message, data)


__all__ = ["ChromiumHistory", "browser_of", "transition_parts"]
