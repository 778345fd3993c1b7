"""Remote Desktop destinations the user connected to with mstsc (NTUSER).

Keys:
  Software\\Microsoft\\Terminal Server Client\\Servers\\<host>: one subkey per server;
      UsernameHint (the account used), CertHash (the server certificate's hash, binary).
  Software\\Microsoft\\Terminal Server Client\\Default: MRU0..MRU9, the connection dialog's
      history, MRU0 the most recent.

Times: a Servers\\<host> subkey gets a "Last Connected (key written)" event at its
last-written FILETIME (UTC): the key is written when a connection is made (or its saved
credentials change), so it is the last connection at the latest. The Default MRU follows the
MRU rule: the key's last-written time belongs to MRU0 ("Key Last Written"); the others get
"MRU Entry" with no timestamp.

data: server, username_hint, cert_hash (hex), key (Servers); server, mru_position, value, key
(Default MRU).
"""
from __future__ import annotations

from typing import Iterator

from triage.extractors import ExtractionContext
from triage.model import Event
from triage.registry import (HiveView, RegistryPlugin, key_time, path_of, raw_value,
                             register_plugin, value_or)
from triage.registry.mru import mru_note, mru_time, numbered_string_values

TSC = "Software\\Microsoft\\Terminal Server Client"


@register_plugin
class RdpServers(RegistryPlugin):
    name = "rdp_servers"
    hives = ("NTUSER",)
    description = "Remote Desktop client history: servers and the connection MRU"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        for server in hive.subkeys(f"{TSC}\\Servers"):
            hint = value_or(server, "UsernameHint")
            if hint is not None and not isinstance(hint, str):
                ctx.warn(f"RDP {path_of(server)}: UsernameHint is not a string")
                hint = None
            cert = raw_value(server, "CertHash")
            yield Event(key_time(server), "Last Connected (key written)",
                        f"Remote Desktop connection to {server.name()}"
                        + (f" as {hint}" if hint else ""),
                        {"server": server.name(), "username_hint": hint,
                         "cert_hash": cert.hex() if cert else None, "key": path_of(server)})
        default = hive.key(f"{TSC}\\Default")
        if default is None:
            return
        for number, name, host in numbered_string_values(default, "MRU", ctx.warn, "RDP MRU"):
            when, desc = mru_time(default, number)
            note = mru_note(number)
            yield Event(when, desc, f"Remote Desktop dialog history: {host} ({note})",
                        {"server": host, "mru_position": number, "value": name,
                         "key": path_of(default)})
