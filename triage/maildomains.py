"""Mail addresses: normalisation, and whether an address is internal, external or free-mail.

In a leak investigation the first question about a mail store is "which messages went outside,
and which went to a personal mailbox". The organisation's own domains come from the command
line (`--internal-domain`, repeatable; `ctx.options["internal_domains"]`); the free-mail and
personal-mail providers come from `artifacts/lists/freemail_domains.yaml` plus the examiner's
own `<--artifacts DIR>/lists/freemail_domains.yaml` files (see the shipped file for the format).

Matching is by domain: an entry matches the domain itself and every sub-domain of it
(`biglobe.ne.jp` matches `xx.biglobe.ne.jp`), case-insensitively; international domain names
are compared in their ASCII (IDNA) form. An internal domain likewise covers its sub-domains.

An address is "internal" when its domain is one of the internal domains, "external" when it is
not. When no internal domain was given, whether an address is external is unknown: `internal`
is None and the summaries leave `external_recipients` empty with `internal_domains_known`
false, so a rule never takes "we were not told" for "it went outside". An Exchange legacy
address (`/o=Org/ou=.../cn=Recipients/cn=user`, address type EX) names a mailbox of the same
Exchange organisation as the store, so it counts as internal when internal domains are known.
Free-mail is decided by the list alone and does not need the internal domains.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Sequence


from triage.datalists import lists_for_context, load_cached
from triage.datalists import shipped_list as datalists_shipped

LIST_NAME = "freemail_domains.yaml"
LIST_KEY = "freemail"

_ADDRESS = re.compile(r"^[^\s@<>\"(),;:]+@([A-Za-z0-9\u0080-\uffff](?:[A-Za-z0-9\u0080-\uffff.-]*"
                      r"[A-Za-z0-9\u0080-\uffff])?)$")
_EXCHANGE_DN = re.compile(r"^/o=", re.IGNORECASE)


class MailListError(ValueError):
    """A free-mail domain list is not in the expected format (the message names the file)."""


def _ascii_domain(domain: str) -> str:
    domain = domain.strip().strip(".").lower()
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return domain


def normalize_address(text: Any) -> str | None:
    """An SMTP address in lower case, from `addr`, `<addr>`, `SMTP:addr` or `mailto:addr`;
    None when the text is not an SMTP address (an X.500 DN, a bare name, an empty value)."""
    if not isinstance(text, str):
        return None
    value = text.strip().strip("<>").strip()
    lower = value.lower()
    for prefix in ("smtp:", "mailto:"):
        if lower.startswith(prefix):
            value = value[len(prefix):].strip().strip("<>").strip()
            break
    value = value.strip("'\"")
    if not _ADDRESS.match(value):
        return None
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain}".lower()


def is_exchange_dn(text: Any) -> bool:
    """True for an Exchange legacy distinguished name (`/o=.../cn=...`)."""
    return isinstance(text, str) and bool(_EXCHANGE_DN.match(text.strip()))


def domain_of(address: str | None) -> str | None:
    """The domain of an SMTP address (lower case, IDNA form), or None."""
    normal = normalize_address(address)
    if normal is None:
        return None
    return _ascii_domain(normal.rpartition("@")[2]) or None


def _in_domains(domain: str, domains: Iterable[str]) -> bool:
    for entry in domains:
        if domain == entry or domain.endswith("." + entry):
            return True
    return False


@dataclass(frozen=True)
class FreemailDomains:
    """The compiled free-mail list; `contains(domain)` tests a domain and its parents."""

    domains: frozenset[str] = frozenset()
    sources: tuple[str, ...] = ()

    def contains(self, domain: str | None) -> bool:
        if not domain:
            return False
        labels = _ascii_domain(domain).split(".")
        return any(".".join(labels[i:]) in self.domains for i in range(len(labels) - 1))

    @classmethod
    def from_mappings(cls, mappings: Iterable[tuple[str, Any]]) -> "FreemailDomains":
        """Compile (origin, {"freemail": [domains]}) pairs; any error names the file."""
        found: set[str] = set()
        sources = []
        for origin, mapping in mappings:
            sources.append(origin)
            if mapping is None:
                continue
            if not isinstance(mapping, Mapping):
                raise MailListError(f"{origin}: expected a mapping with a '{LIST_KEY}' list")
            unknown = sorted(str(k) for k in mapping if k != LIST_KEY)
            if unknown:
                raise MailListError(f"{origin}: unknown key '{unknown[0]}' (only '{LIST_KEY}')")
            entries = mapping.get(LIST_KEY) or []
            if not isinstance(entries, list):
                raise MailListError(f"{origin}: '{LIST_KEY}' must be a list of domains")
            for entry in entries:
                if not isinstance(entry, str) or not entry.strip():
                    raise MailListError(f"{origin}: '{LIST_KEY}': {entry!r} is not a domain")
                domain = _ascii_domain(entry.lstrip("@*."))
                if "." not in domain or not re.match(r"^[a-z0-9.-]+$", domain):
                    raise MailListError(f"{origin}: '{LIST_KEY}': {entry!r} is not a domain")
                found.add(domain)
        return cls(frozenset(found), tuple(sources))


@dataclass(frozen=True)
class AddressClass:
    """What is known about one address."""

    address: str | None  # normalised SMTP address; None for an Exchange DN or a non-address
    domain: str | None
    internal: bool | None  # None: no internal domain given, or nothing to judge by
    freemail: bool

    @property
    def external(self) -> bool:
        return self.internal is False


def classify(address: Any, internal_domains: Sequence[str] | None,
             freemail: FreemailDomains | None = None) -> AddressClass:
    """Classify one address against the organisation's domains and the free-mail list.

    `freemail` defaults to the shipped list. An Exchange legacy DN is internal when internal
    domains are known (it names a mailbox of the store's own organisation).
    """
    domains = [_ascii_domain(d.lstrip("@")) for d in (internal_domains or []) if d and d.strip()]
    if freemail is None:
        freemail = shipped_freemail()
    if is_exchange_dn(address):
        return AddressClass(None, None, True if domains else None, False)
    normal = normalize_address(address)
    if normal is None:
        return AddressClass(None, None, None, False)
    domain = _ascii_domain(normal.rpartition("@")[2])
    internal = _in_domains(domain, domains) if domains else None
    return AddressClass(normal, domain, internal, freemail.contains(domain))


def summarize(addresses: Iterable[Any], internal_domains: Sequence[str] | None,
              freemail: FreemailDomains | None = None) -> dict[str, Any]:
    """The event data fields shared by every mail extractor, for a message's recipients.

    external_recipients / freemail_recipients: distinct normalised addresses, in first-seen
    order; external_recipient_count / freemail_recipient_count; internal_domains_known.
    """
    known = bool([d for d in (internal_domains or []) if d and d.strip()])
    external: list[str] = []
    free: list[str] = []
    for address in addresses:
        result = classify(address, internal_domains, freemail)
        if result.address is None:
            continue
        if result.external and result.address not in external:
            external.append(result.address)
        if result.freemail and result.address not in free:
            free.append(result.address)
    return {"external_recipients": external, "external_recipient_count": len(external),
            "freemail_recipients": free, "freemail_recipient_count": len(free),
            "internal_domains_known": known}


def sender_fields(address: Any, internal_domains: Sequence[str] | None,
                  freemail: FreemailDomains | None = None) -> dict[str, Any]:
    """sender_external (None when unknown) and sender_freemail for the sender's address."""
    result = classify(address, internal_domains, freemail)
    return {"sender_external": None if result.internal is None else not result.internal,
            "sender_freemail": result.freemail}


# ---------------------------------------------------------------- loading, cached per process

_LOADED: dict[tuple, FreemailDomains] = {}



def load_freemail(paths: Sequence[str]) -> FreemailDomains:
    """Compile the lists in `paths` (shipped first, examiner lists after); cached per process."""
    return load_cached(paths, _LOADED, FreemailDomains.from_mappings, MailListError)


def shipped_list() -> str | None:
    """The list shipped with the definitions (source tree or installed data directory)."""
    return datalists_shipped(LIST_NAME)


def shipped_freemail() -> FreemailDomains:
    shipped = shipped_list()
    return load_freemail([shipped]) if shipped else FreemailDomains()


def freemail_for(ctx: Any) -> FreemailDomains:
    """The free-mail list for an extraction: every `lists/freemail_domains.yaml` the context
    names (the shipped list when it names none). A list that cannot be read is reported with
    ctx.error() and left out; the others still apply."""
    return lists_for_context(ctx, LIST_NAME, load_freemail, MailListError, "free-mail domain list")


def internal_domains_for(ctx: Any) -> list[str]:
    """The organisation's domains from the run's options (lower case, without '@')."""
    options = getattr(ctx, "options", None) or {}
    value = options.get("internal_domains") or []
    if isinstance(value, str):
        value = [value]
    return [str(d).strip().lower().lstrip("@") for d in value if str(d).strip()]


__all__ = ["AddressClass", "FreemailDomains", "MailListError", "classify", "domain_of",
           "freemail_for", "internal_domains_for", "is_exchange_dn", "load_freemail",
           "normalize_address", "sender_fields", "summarize"]
