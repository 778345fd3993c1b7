"""NTFS `$MFT`: deleted files and folders, and the file-system (MACB) timeline.

Format: the NTFS Master File Table, documented in the libyal libfsntfs paper "New Technologies
File System (NTFS)" and in Carrier's "File System Forensic Analysis"; read by triage.ntfs_mft in
one streaming pass (record size from the first record, update-sequence fixups applied, damaged
records counted and reported in one warning). Paths are rebuilt through parent references; a
record whose parent was reused or is gone is placed under `/$OrphanFiles/` with `orphan` True.

Times: every time is a FILETIME, UTC, 100 ns resolution (seven digits). Each entry has two sets:
    $STANDARD_INFORMATION ($SI): created (B), modified (M, content written), changed (C, MFT
        entry changed) and accessed (A). Any program can set them (SetFileTime), so they can be
        back-dated ("timestomped").
    $FILE_NAME ($FN), one per name: the same four times, set by the kernel when the name is
        created, renamed or moved; user-mode programs cannot set them directly.
NTFS does not record when a file was deleted. A deleted entry's event time is its last $SI
entry-modified time, the latest change the record itself keeps, labelled as exactly that.
Entries without any $FILE_NAME (never used, or reserved like 12-15) are not reported.

Extractors:
    mft_deleted (NtfsDeletedFiles): one event per entry that is no longer in use but still holds
        a name. Time: "$SI Entry Modified" (the $FN one, "$FN Entry Modified", when the entry
        has no $SI). Message "Deleted file <path> (<size> bytes), MFT entry <n> ...".
    mft_timeline (NtfsFileSystemTimeline, off by default): for every named entry, in use or
        not, one event per DISTINCT time among its eight ($SI and preferred $FN created,
        modified, changed, accessed). timestamp_desc says which of the eight carry that time in
        MACB form: "$SI [MACB]", "$SI [M.C.], $FN [M...]" (M modified, A accessed, C MFT entry
        changed, B born/created; a dot where that time differs).

Event data (both): path, name, dos_name (8.3 name or None), names (every $FILE_NAME: name,
namespace, parent_entry, parent_sequence), hard_links (other paths of the entry, when any),
entry, sequence, allocated, deleted, is_dir, orphan, size (real size of the unnamed $DATA,
resident or not; None for folders or when unknown), data_location ("resident", "nonresident"
or None), file_attributes ($SI flag names such as hidden, system, archive), si_times and
fn_times ({created, modified, changed, accessed}, ISO 8601 with seven digits or None; fn_times
from the name used for the path), ads (named $DATA streams: name, size, resident),
zone_identifier (a resident Zone.Identifier stream parsed: zone_id, zone, referrer_url,
host_url, other keys under `other`; None when absent or not resident) and timestomp (reasons,
possibly empty):
    si_created_before_fn_created   $SI created is earlier than $FN created;
    si_time_without_fraction       an $SI time has all seven sub-second digits zero while the
                                   matching $FN time has some (tools often set whole seconds);
    si_modified_before_si_created  $SI modified is earlier than $SI created (weak alone: a
                                   copied or unpacked file keeps its modified time).
mft_deleted adds recoverable ("resident": the content is still in the record; "data runs": the
clusters are listed in data_runs [first cluster or None when sparse, count], recoverable unless
reused; "empty": size 0; "no data": a folder or no $DATA seen), data_runs (at most 64) and
resident_sha256 (SHA-256 of resident content, None otherwise).
The event's user is the profile the path lies in (/Users/<name>/...), else None.
"""
from __future__ import annotations

import datetime
from typing import Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.files import EvidenceFile
from triage.model import FILETIME_MAX, ArtifactError, Event, filetime
from triage.ntfs_mft import (
    IN_USE,
    IS_DIR,
    NAMESPACES,
    R_ADS,
    R_DATA,
    R_ENTRY,
    R_FLAGS,
    R_NAMES,
    R_RESIDENT_SHA256,
    R_RUNS,
    R_SEQ,
    R_SI,
    R_SIZE,
    R_ZONE,
    MftError,
    MftScan,
    attribute_names,
    parse_zone_identifier,
    preferred_name,
)

_TICKS = 10_000_000  # FILETIME ticks per second
_TIME_KEYS = ("created", "modified", "changed", "accessed")  # order in $SI and $FN
_BITS = (1, 2, 4, 8, 16, 32, 64, 128)  # $SI M, A, C, B, then $FN M, A, C, B


def _description(bits: int) -> str:
    """timestamp_desc for a set of bits: "$SI [M.C.], $FN [MACB]"."""
    parts = []
    for label, shift in (("$SI", 0), ("$FN", 4)):
        marks = "".join(c if bits >> (shift + i) & 1 else "." for i, c in enumerate("MACB"))
        if marks != "....":
            parts.append(f"{label} [{marks}]")
    return ", ".join(parts)


_DESCRIPTIONS = [_description(bits) for bits in range(256)]


_TICKS_PER_DAY = 86_400 * _TICKS
_DATES: dict[int, str] = {}
_EPOCH_1601 = datetime.date(1601, 1, 1)


def _iso(value: int) -> str | None:
    """FILETIME to the ISO 8601 text Timestamp.iso() gives (seven digits), or None where
    filetime() says "not set"; about ten times faster (a million entries carry eight times
    each)."""
    if not value or value > FILETIME_MAX:
        return None
    days, rem = divmod(value, _TICKS_PER_DAY)
    date = _DATES.get(days)
    if date is None:
        date = (_EPOCH_1601 + datetime.timedelta(days=days)).isoformat()
        if len(_DATES) < 200_000:
            _DATES[days] = date
    seconds, ticks = divmod(rem, _TICKS)
    hours, seconds = divmod(seconds, 3600)
    minutes, seconds = divmod(seconds, 60)
    return f"{date}T{hours:02d}:{minutes:02d}:{seconds:02d}.{ticks:07d}Z"


def timestomp_reasons(si: tuple | None, fn: tuple | None) -> list[str]:
    """si: (created, modified, changed, accessed, ...); fn: the same four FILETIMEs."""
    reasons: list[str] = []
    if si and fn:
        if si[0] and fn[0] and si[0] < fn[0]:
            reasons.append("si_created_before_fn_created")
        for i in range(4):
            if si[i] and si[i] % _TICKS == 0 and fn[i] and fn[i] % _TICKS:
                reasons.append("si_time_without_fraction")
                break
    if si and si[0] and si[1] and si[1] < si[0]:
        reasons.append("si_modified_before_si_created")
    return reasons


def _scan(f: EvidenceFile, ctx: ExtractionContext, deleted_only: bool) -> MftScan:
    if deleted_only:
        def select(flags: int) -> bool:
            return not flags & IN_USE
    else:
        def select(flags: int) -> bool:
            return True
    with f.open() as handle:
        try:
            scan = MftScan(handle, select, details=deleted_only).run()
        except MftError as exc:
            raise ArtifactError(str(exc)) from None
    stats = scan.stats
    if stats.bad:
        reasons = ", ".join(f"{n} {why}" for why, n in sorted(stats.bad_reasons.items()))
        ctx.warn(f"{f.path}: {stats.bad} of {stats.records} MFT records unreadable ({reasons}); "
                 f"first at entry {stats.first_bad}")
    if stats.trailing:
        ctx.warn(f"{f.path}: {stats.trailing} bytes after the last whole "
                 f"{stats.record_size}-byte record ignored")
    if scan.extensions_dropped:
        ctx.warn(f"{f.path}: {scan.extensions_dropped} extension records not merged "
                 "(too many to remember)")
    ctx.note(f"{f.path}: {stats.records} MFT records of {stats.record_size} bytes: "
             f"{stats.in_use} in use, {stats.deleted} deleted, {stats.empty} without a name "
             f"(never used or reserved), {stats.extensions} extension, {stats.bad} unreadable")
    return scan


def _details(record: tuple, scan: MftScan) -> dict:
    """The event data shared by both extractors (see the module docstring)."""
    names = record[R_NAMES]
    entry = record[R_ENTRY]
    flags = record[R_FLAGS]
    main = preferred_name(names)
    index = scan.index
    path, orphan = index.path_for(main[0], main[2], main[3], entry)
    dos = next((n[0] for n in names if n[1] == 2), None)
    hard_links = []
    for item in names:
        if item is main or item[1] == 2 or (item[0] == main[0] and item[2] == main[2]):
            continue
        other, _ = index.path_for(item[0], item[2], item[3], entry)
        if other != path and other not in hard_links:
            hard_links.append(other)
    si = record[R_SI]
    fn = main[4:8]
    # each distinct time written once (an entry's eight times are mostly two or three values)
    texts = {value: _iso(value) for value in {*si[:4], *fn}} if si else \
        {value: _iso(value) for value in set(fn)}
    zone = None
    if record[R_ZONE] is not None:
        zone = parse_zone_identifier(record[R_ZONE])
    data = {
        "path": path,
        "name": main[0],
        "dos_name": dos,
        "names": [{"name": n[0], "namespace": NAMESPACES.get(n[1], str(n[1])),
                   "parent_entry": n[2], "parent_sequence": n[3]} for n in names],
        "entry": entry,
        "sequence": record[R_SEQ],
        "allocated": bool(flags & IN_USE),
        "deleted": not flags & IN_USE,
        "is_dir": bool(flags & IS_DIR),
        "orphan": orphan,
        "size": record[R_SIZE],
        "data_location": record[R_DATA],
        "file_attributes": attribute_names(si[4]) if si else [],
        "si_times": dict(zip(_TIME_KEYS, map(texts.__getitem__, si[:4]))) if si else None,
        "fn_times": dict(zip(_TIME_KEYS, map(texts.__getitem__, fn))),
        "ads": [{"name": a[0], "size": a[1], "resident": a[2]} for a in record[R_ADS]],
        "zone_identifier": zone,
        "timestomp": timestomp_reasons(si, fn),
    }
    if hard_links:
        data["hard_links"] = hard_links
    return data


def _describe(data: dict) -> str:
    kind = "folder" if data["is_dir"] else "file"
    text = f"{'Deleted ' + kind if data['deleted'] else kind.capitalize()} {data['path']}"
    if not data["is_dir"]:
        size = data["size"]
        text += f" ({size:,} bytes)" if size is not None else " (size unknown)"
    return text + f", MFT entry {data['entry']}"


def _suffix(data: dict) -> str:
    parts = []
    zone = data["zone_identifier"]
    if zone:
        where = zone.get("host_url") or zone.get("referrer_url")
        parts.append(f"Zone.Identifier ZoneId={zone.get('zone_id')}" +
                     (f" from {where}" if where else ""))
    if data["timestomp"]:
        parts.append("possible timestomping: " + ", ".join(data["timestomp"]))
    return "; " + "; ".join(parts) if parts else ""


@register
class MftDeletedFiles(Extractor):
    """Deleted files and folders still described in the $MFT (one event per entry)."""

    name = "mft_deleted"
    family = "deleted"
    description = "NTFS $MFT entries no longer in use: deleted files and folders"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        scan = _scan(f, ctx, deleted_only=True)
        for record in scan.records():
            data = _details(record, scan)
            runs = record[R_RUNS]
            if data["is_dir"] or data["data_location"] is None:
                recoverable = "no data"
            elif not data["size"]:
                recoverable = "empty"
            elif data["data_location"] == "resident":
                recoverable = "resident"
            else:
                recoverable = "data runs" if runs else "no data"
            data["recoverable"] = recoverable
            data["resident_sha256"] = record[R_RESIDENT_SHA256]
            data["data_runs"] = [list(run) for run in runs] if runs else None
            si = record[R_SI]
            if si and filetime(si[2]):
                stamp, desc, what = filetime(si[2]), "$SI Entry Modified", "$SI"
            else:
                fn_changed = preferred_name(record[R_NAMES])[6]
                stamp, desc, what = filetime(fn_changed), "$FN Entry Modified", "$FN"
                if stamp is None:
                    desc = "$SI Entry Modified"
            message = (f"{_describe(data)} (time is the last {what} entry change; the "
                       f"deletion time is not recorded){_suffix(data)}")
            yield Event(stamp, desc, message, data, ctx.user_for_path(data["path"]))


@register
class MftTimeline(Extractor):
    """MACB file-system timeline from $SI and $FN times of every named $MFT entry."""

    name = "mft_timeline"
    family = "filesystem"
    description = "NTFS $MFT $STANDARD_INFORMATION and $FILE_NAME times (MACB timeline)"
    shares_data = True  # one data dict for the two to eight events of an entry

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        scan = _scan(f, ctx, deleted_only=False)
        for record in scan.records():
            data = _details(record, scan)
            message = _describe(data) + _suffix(data)
            user = ctx.user_for_path(data["path"])
            si = record[R_SI]
            fn = preferred_name(record[R_NAMES])[4:8]
            groups: dict[int, int] = {}  # FILETIME -> bits: $SI M A C B = 1 2 4 8, $FN << 4
            times = (si[1], si[3], si[2], si[0]) if si else (0, 0, 0, 0)
            for bit, value in zip(_BITS, times + (fn[1], fn[3], fn[2], fn[0])):
                if 0 < value <= FILETIME_MAX:
                    groups[value] = groups.get(value, 0) | bit
            if not groups:
                yield Event(None, "$SI and $FN times not set", message, data, user)
                continue
            for value in sorted(groups):
                yield Event(filetime(value), _DESCRIPTIONS[groups[value]], message, data, user)
