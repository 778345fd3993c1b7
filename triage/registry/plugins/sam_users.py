"""Local user accounts from the SAM hive: logons, password changes, creation.

Keys: SAM\\Domains\\Account\\Users\\<RID as 8 hex digits> (values F, V, optional
UserPasswordHint) and SAM\\Domains\\Account\\Users\\Names\\<account name> (its default
value's *type* is the RID).

F value (fixed, 80 bytes; little-endian):
  0x08 last logon FILETIME          0x18 password last set FILETIME
  0x20 account expires FILETIME     0x28 last failed logon (bad password) FILETIME
  0x30 RID (uint32)                 0x34 primary group RID (uint32)
  0x38 account control flags (uint16: 0x0001 disabled, 0x0004 password not required,
       0x0010 normal account, 0x0200 password never expires, 0x0400 locked out...)
  0x40 failed logon count (uint16)  0x42 logon count (uint16)
  FILETIMEs are UTC; 0 and 0x7FFFFFFFFFFFFFFF mean "never / not set".
V value: a table of 12-byte entries (uint32 offset, uint32 length, uint32 unused) at the start;
the offsets are relative to 0xCC. Entry 1 user name, 2 full name, 3 comment, 4 user comment,
6 home directory, 7 home drive, 8 logon script, 9 profile path (all UTF-16LE). Password
hashes (later entries) are never read.

Events, user = the account name:
  "Last Login", "Password Last Set", "Last Failed Login", "Account Expires" at the F value's
  FILETIMEs (each only when set);
  "Account Created" at the last-written time of Names\\<account name>: that key is written
  when the account is created and is commonly used as the creation time (an inference, said
  in the message; a rename rewrites it);
  "Key Last Written" at the Users\\<RID> key's time, only when a user has none of the above.
data: username, rid, full_name, comment, user_comment, home_directory, home_drive,
logon_script, profile_path, primary_group_rid, flags, flags_text, disabled, login_count,
failed_login_count, password_hint, key, names_key, user_key_last_written.
"""
from __future__ import annotations

import struct
from typing import Any, Iterator

from triage.extractors import ExtractionContext
from triage.model import Event, filetime
from triage.registry import HiveView, RegistryPlugin, key_time, path_of, raw_value, register_plugin

USERS = "SAM\\Domains\\Account\\Users"

ACB_FLAGS = {
    0x0001: "account disabled", 0x0002: "home directory required",
    0x0004: "password not required", 0x0008: "temporary duplicate account",
    0x0010: "normal account", 0x0020: "MNS logon account", 0x0040: "interdomain trust account",
    0x0080: "workstation trust account", 0x0100: "server trust account",
    0x0200: "password never expires", 0x0400: "account locked out",
    0x0800: "encrypted text password allowed", 0x1000: "smart card required",
    0x2000: "trusted for delegation", 0x4000: "not delegated", 0x8000: "use DES key only",
}
V_STRINGS = {1: "username", 2: "full_name", 3: "comment", 4: "user_comment",
             6: "home_directory", 7: "home_drive", 8: "logon_script", 9: "profile_path"}
F_TIMES = ((0x08, "Last Login", "last logged on"),
           (0x18, "Password Last Set", "password set"),
           (0x28, "Last Failed Login", "last failed logon (bad password)"),
           (0x20, "Account Expires", "account expires"))


def parse_f(raw: bytes) -> dict[str, Any]:
    """Times and counters of the F value (needs at least 0x44 bytes)."""
    if len(raw) < 0x44:
        raise ValueError(f"F value is {len(raw)} bytes, expected 80")
    flags = struct.unpack_from("<H", raw, 0x38)[0]
    return {
        "times": {desc: filetime(struct.unpack_from("<Q", raw, off)[0])
                  for off, desc, _ in F_TIMES},
        "rid": struct.unpack_from("<I", raw, 0x30)[0],
        "primary_group_rid": struct.unpack_from("<I", raw, 0x34)[0],
        "flags": flags,
        "flags_text": [text for bit, text in ACB_FLAGS.items() if flags & bit],
        "disabled": bool(flags & 0x0001),
        "failed_login_count": struct.unpack_from("<H", raw, 0x40)[0],
        "login_count": struct.unpack_from("<H", raw, 0x42)[0],
    }


def parse_v(raw: bytes) -> tuple[dict[str, str | None], list[str]]:
    """The text fields of the V value (offset table entries 1-9) and the problems met (an
    entry pointing outside the value leaves that field None)."""
    out: dict[str, str | None] = {name: None for name in V_STRINGS.values()}
    problems: list[str] = []
    if len(raw) < 0xCC:
        problems.append(f"V value is {len(raw)} bytes, shorter than its 0xCC-byte table")
    for index, field_name in V_STRINGS.items():
        if len(raw) < (index + 1) * 12:
            continue
        offset, length = struct.unpack_from("<II", raw, index * 12)
        start = 0xCC + offset
        if length == 0:
            continue
        if start + length > len(raw):
            problems.append(f"V entry {index} ({field_name}) points outside the value")
            continue
        out[field_name] = raw[start:start + length].decode("utf-16-le", "replace")
    return out, problems


@register_plugin
class SamUsers(RegistryPlugin):
    name = "sam_users"
    hives = ("SAM",)
    description = "SAM local accounts: last logon, password set, failed logon, creation"

    def process(self, hive: HiveView, ctx: ExtractionContext) -> Iterator[Event]:
        users = hive.key(USERS)
        if users is None:
            return
        names = self._names_by_rid(hive, ctx)
        for user_key in hive.subkeys(users):
            if user_key.name().lower() == "names":
                continue
            try:
                yield from self._user(user_key, names, ctx)
            except Exception as exc:  # one damaged account must not cost the others
                ctx.warn(f"SAM user {path_of(user_key)}: skipped ({type(exc).__name__}: {exc})")

    @staticmethod
    def _names_by_rid(hive: HiveView, ctx: ExtractionContext) -> dict[int, Any]:
        """{RID: Names\\<account> key}: the RID is the type of the key's default value."""
        found: dict[int, Any] = {}
        for key in hive.subkeys(f"{USERS}\\Names"):
            try:
                values = list(key.values())
                if values:
                    found[values[0].value_type()] = key
            except Exception as exc:
                ctx.warn(f"SAM {path_of(key)}: RID unreadable ({exc})")
        return found

    def _user(self, user_key: Any, names: dict[int, Any],
              ctx: ExtractionContext) -> Iterator[Event]:
        where = f"SAM user {path_of(user_key)}"
        raw_f, raw_v = raw_value(user_key, "F"), raw_value(user_key, "V")
        f: dict[str, Any] | None = None
        if raw_f is None:
            ctx.warn(f"{where}: no F value (no logon/password times)")
        else:
            try:
                f = parse_f(raw_f)
            except ValueError as exc:
                ctx.warn(f"{where}: {exc} (no logon/password times)")
        v: dict[str, str | None] = {name: None for name in V_STRINGS.values()}
        if raw_v is None:
            ctx.warn(f"{where}: no V value (names unknown)")
        else:
            v, problems = parse_v(raw_v)
            for problem in problems:
                ctx.warn(f"{where}: {problem}")
        try:
            key_rid: int | None = int(user_key.name(), 16)
        except ValueError:
            key_rid = None
        rid = f["rid"] if f else key_rid
        if f and key_rid is not None and key_rid != f["rid"]:
            ctx.warn(f"{where}: F value RID {f['rid']} differs from the key name")
        names_key = names.get(rid) if rid is not None else None
        username = v.get("username") or (names_key.name() if names_key is not None else None)
        hint = raw_value(user_key, "UserPasswordHint")
        data: dict[str, Any] = {"username": username, "rid": rid}
        data.update({k: v[k] for k in V_STRINGS.values() if k != "username"})
        if f:
            data.update({k: f[k] for k in ("primary_group_rid", "flags", "flags_text",
                                           "disabled", "login_count", "failed_login_count")})
        data.update({"password_hint": hint.decode("utf-16-le", "replace").rstrip("\x00")
                     if hint else None,
                     "key": path_of(user_key),
                     "names_key": path_of(names_key) if names_key is not None else None,
                     "user_key_last_written": key_time(user_key)})
        who = f"{username or '(name unknown)'} (RID {rid})"
        emitted = False
        for _, desc, text in F_TIMES if f else ():
            when = f["times"][desc]
            if when is None:
                continue
            emitted = True
            extra = f", {f['login_count']} logon(s)" if desc == "Last Login" else ""
            yield Event(when, desc, f"Local account {who}: {text}{extra}", dict(data),
                        user=username)
        if names_key is not None and key_time(names_key) is not None:
            emitted = True
            yield Event(key_time(names_key), "Account Created",
                        f"Local account {who} created (SAM Names\\{names_key.name()} key last "
                        "written: commonly taken as the creation time)", dict(data),
                        user=username)
        if not emitted:
            yield Event(key_time(user_key), "Key Last Written",
                        f"Local account {who} (no logon, password or creation time recorded; "
                        "user key last written)", dict(data), user=username)
