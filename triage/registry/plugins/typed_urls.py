"""TypedURLs: addresses the user typed in Internet Explorer / Edge legacy (NTUSER).

Keys: Software\\Microsoft\\Internet Explorer\\TypedURLs (values url1, url2... REG_SZ, url1 the
most recent) and, from Windows 8 on, Software\\Microsoft\\Internet Explorer\\TypedURLsTime
(values of the same names, each an 8-byte FILETIME, UTC: when that address was typed).

Times: a URL with a non-zero TypedURLsTime value gets a "Typed" event at that time. A URL
without one falls back to the MRU rule: the TypedURLs key's last-written FILETIME belongs to
url1 only ("Key Last Written"); the other URLs get "MRU Entry" with no timestamp.

data: url, mru_position (url number - 1), value, typed_time_source ("TypedURLsTime" or
"key last written" or None), key.
"""
from __future__ import annotations

import struct
from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, path_of, raw_value, register_plugin
from triage.registry.mru import mru_note, mru_time, numbered_string_values

TYPED_URLS = "Software\\Microsoft\\Internet Explorer\\TypedURLs"
TYPED_URLS_TIME = "Software\\Microsoft\\Internet Explorer\\TypedURLsTime"


@register_plugin
class TypedURLs(RegistryPlugin):
    name = "typed_urls"
    hives = ("NTUSER",)
    description = "TypedURLs (+ TypedURLsTime): addresses typed in Internet Explorer"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        key = hive.key(TYPED_URLS)
        if key is None:
            return
        times_key = hive.key(TYPED_URLS_TIME)
        for number, name, url in numbered_string_values(key, "url", ctx.warn, "TypedURLs"):
            position = number - 1
            typed = None
            if times_key is not None:
                raw = raw_value(times_key, name)
                if raw is not None and len(raw) >= 8:
                    typed = filetime(struct.unpack_from("<Q", raw)[0])
                elif raw is not None:
                    ctx.warn(f"TypedURLs {path_of(times_key)}: value {name!r} is "
                             f"{len(raw)} bytes, not a FILETIME")
            data = {"url": url, "mru_position": position, "value": name, "key": path_of(key)}
            if typed is not None:
                data["typed_time_source"] = "TypedURLsTime"
                data["time_key"] = path_of(times_key)
                yield Event(typed, "Typed", f"Typed URL: {url}", data)
                continue
            when, desc = mru_time(key, position)
            data["typed_time_source"] = "key last written" if position == 0 else None
            note = mru_note(position)
            yield Event(when, desc, f"Typed URL: {url} ({note})", data)
