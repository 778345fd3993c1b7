"""`--hash-evidence`: digest the whole media stream, and check it against the hash in an E01.

The media stream is what the acquisition tool hashed (the decoded disk, not the container
files), so this is the figure to compare with the acquisition report. dfVFS does not expose the
MD5/SHA-1 that EnCase/ewfacquire store in the E01; pyewf reads them.
"""
from __future__ import annotations

from typing import Any

from triage.integrity import hash_stream
from triage.sources import Evidence


def stored_ewf_hashes(first_segment: str) -> dict[str, str]:
    import pyewf

    handle = pyewf.handle()
    try:
        handle.open(pyewf.glob(first_segment))
        stored = {}
        for name in ("MD5", "SHA1"):
            value = handle.get_hash_value(name)
            if value:
                stored[name.lower()] = value.lower()
        return stored
    finally:
        try:
            handle.close()
        except Exception:
            pass


def hash_evidence(evidence: Evidence, progress: Any = None) -> dict[str, Any]:
    """Computed digests of the media stream, stored ones where the container has them, verdict."""
    result: dict[str, Any] = {"computed": None, "stored": None, "verification": None}
    if evidence.kind == "image" and evidence.media_path_spec is not None:
        from dfvfs.resolver import context, resolver

        handle = resolver.Resolver.OpenFileObject(evidence.media_path_spec,
                                                  resolver_context=context.Context())
        handle.seek(0)
        digests, size = hash_stream(handle, progress)
        result["computed"] = dict(digests, size=size)
    elif evidence.kind == "file":
        with open(evidence.segments[0], "rb") as handle:
            digests, size = hash_stream(handle, progress)
        result["computed"] = dict(digests, size=size)
    else:
        result["verification"] = "not applicable (directory evidence: every file read is hashed)"
        return result
    if "EWF" in evidence.containers:
        try:
            stored = stored_ewf_hashes(evidence.segments[0])
        except Exception as exc:
            stored = {}
            result["verification"] = f"stored hash unreadable: {exc}"
        result["stored"] = stored or None
        if stored:
            verdicts = [result["computed"][k] == v for k, v in stored.items()]
            result["verification"] = "match" if all(verdicts) else "MISMATCH"
        elif result["verification"] is None:
            result["verification"] = "no hash stored in the E01"
    else:
        result["verification"] = "no stored hash in this container format"
    return result
