"""URL domain and category: which events touch cloud storage, file transfer, webmail, search.

In a leak investigation the first question about a browser history is "which visits and
downloads went to a place where a file can leave the company". Every URL-bearing event gets
`domain` (the URL's host name, lower case, without port or user info) and `category`, looked
up in `artifacts/lists/url_categories.yaml` and in the examiner's own
`<--artifacts DIR>/lists/url_categories.yaml` files (see the shipped file for the format).

Categories shipped: cloud_storage, file_transfer, webmail, search, social; anything else is
"other". An examiner list may add categories of its own. A URL without a host (file:, about:,
place:, data:) has domain None and category "other".

Lists are compiled once per process for a given set of files (keyed by path, size and mtime),
and each compiled set memoises host lookups, so categorizing a large history stays cheap.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit


from triage.datalists import lists_for_context, load_cached
from triage.datalists import shipped_list as datalists_shipped

LIST_NAME = "url_categories.yaml"
OTHER = "other"

# `*` as the last label: a top-level domain, or a two-label country suffix such as co.jp.
_TLD = r"(?:[a-z0-9-]+|(?:co|com|ne|or|ac|go|gr|ed|lg|net|org|gov|edu)\.[a-z]{2})"
_LABEL = re.compile(r"^[a-z0-9_-]+$")
_MAX_HOST_CACHE = 65536
# scheme://host[:port] followed by / ? # or the end, with no user info and no IPv6 brackets
_SIMPLE_AUTHORITY = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9+.-]*:)?//([A-Za-z0-9._~-]+)(?::\d*)?(?:[/?#]|$)")


class UrlListError(ValueError):
    """A URL category list is not in the expected format (the message names the file)."""


@dataclass(frozen=True)
class _Rule:
    category: str
    pattern: str
    regex: re.Pattern[str]
    weight: int  # labels in the pattern: the most specific rule wins
    order: int  # position over all lists read: a later list wins a tie


def _ascii_host(host: str) -> str:
    host = host.strip().rstrip(".").lower()
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _compile(category: str, pattern: str, order: int, origin: str) -> _Rule:
    text = pattern.strip()
    exact = text.startswith("=")
    body = _ascii_host(text[1:] if exact else text)
    labels = body.split(".")
    if not body or any(not label for label in labels):
        raise UrlListError(f"{origin}: category '{category}': invalid pattern {pattern!r}")
    parts = []
    for index, label in enumerate(labels):
        if label == "*" and index == len(labels) - 1 and index > 0:
            parts.append(_TLD)
        elif _LABEL.match(label):
            parts.append(re.escape(label))
        else:
            raise UrlListError(
                f"{origin}: category '{category}': invalid pattern {pattern!r} "
                "(letters, digits, '-' and a final '.*' only)"
            )
    prefix = "^" if exact else r"^(?:.*\.)?"
    regex = re.compile(prefix + r"\.".join(parts) + "$")
    return _Rule(category, text, regex, len(labels), order)


@dataclass
class UrlCategories:
    """Compiled category rules; `categorize()` and `lookup()` use them."""

    rules: list[_Rule] = field(default_factory=list)
    sources: tuple[str, ...] = ()
    _cache: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_mappings(cls, mappings: Iterable[tuple[str, Any]]) -> "UrlCategories":
        """Compile (origin, mapping category -> [patterns]) pairs, earliest first."""
        rules: list[_Rule] = []
        sources = []
        for origin, mapping in mappings:
            sources.append(origin)
            if mapping is None:
                continue
            if not isinstance(mapping, Mapping):
                raise UrlListError(f"{origin}: expected a mapping of category -> list of domains")
            for category, patterns in mapping.items():
                if not isinstance(category, str) or not category.strip():
                    raise UrlListError(f"{origin}: category names must be non-empty strings")
                if patterns is None:
                    continue
                if not isinstance(patterns, list):
                    raise UrlListError(f"{origin}: category '{category}' must be a list of domains")
                for pattern in patterns:
                    if not isinstance(pattern, str):
                        raise UrlListError(
                            f"{origin}: category '{category}': {pattern!r} is not a string")
                    rules.append(_compile(category.strip(), pattern, len(rules), origin))
        return cls(rules=rules, sources=tuple(sources))

    def lookup(self, host: str | None) -> str:
        """The category of a host name (OTHER when no rule matches or there is no host)."""
        if not host:
            return OTHER
        cached = self._cache.get(host)
        if cached is not None:
            return cached
        key = _ascii_host(host)
        best: _Rule | None = None
        for rule in self.rules:
            if rule.regex.match(key) and (
                best is None or (rule.weight, rule.order) > (best.weight, best.order)
            ):
                best = rule
        category = best.category if best else OTHER
        if len(self._cache) < _MAX_HOST_CACHE:
            self._cache[host] = category
        return category


def domain_of(url: str | None) -> str | None:
    """The host name of a URL, lower case, without port, user info or trailing dot."""
    if not url or not isinstance(url, str):
        return None
    text = url.strip()
    if "://" not in text[:16] and not text.startswith("//"):
        # A bare "host/path" (no scheme) is read as a host; "about:blank", "place:..." are not.
        head = text.split("/")[0]
        if re.match(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?:[/?#]|$)", text) and ":" not in head:
            text = "//" + text
        else:
            return None
    simple = _SIMPLE_AUTHORITY.match(text)
    if simple:  # the common case, without urlsplit's general machinery
        host = simple.group(1).lower()
    else:
        try:
            host = urlsplit(text).hostname
        except ValueError:
            return None
    if not host:
        return None
    host = host.rstrip(".")
    return host or None


def categorize(url: str | None,
               lists: "UrlCategories | Mapping[str, Any]") -> dict[str, str | None]:
    """{"domain": host or None, "category": category} for one URL.

    `lists` is a compiled UrlCategories (from `load_lists` / `lists_for`) or a plain mapping
    category -> [domain patterns], as in the YAML file.
    """
    if not isinstance(lists, UrlCategories):
        lists = UrlCategories.from_mappings([("<mapping>", lists)])
    domain = domain_of(url)
    return {"domain": domain, "category": lists.lookup(domain)}


# ---------------------------------------------------------------- loading, cached per process

_LOADED: dict[tuple, UrlCategories] = {}



def load_lists(paths: Sequence[str]) -> UrlCategories:
    """Compile the lists in `paths` (shipped first, examiner lists after); cached per process."""
    return load_cached(paths, _LOADED, UrlCategories.from_mappings, UrlListError)


def shipped_list() -> str | None:
    """The list shipped with the definitions (source tree or installed data directory)."""
    return datalists_shipped(LIST_NAME)


def lists_for(ctx: Any) -> UrlCategories:
    """The categories for an extraction: every `lists/url_categories.yaml` the context names.

    A context without definition folders (a unit test, a library caller) gets the shipped list.
    A list that cannot be read is reported with ctx.error() and left out; the others still apply.
    """
    return lists_for_context(ctx, LIST_NAME, load_lists, UrlListError, "URL category list")
