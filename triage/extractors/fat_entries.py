"""FAT12/16/32 and exFAT directory entries, allocated and deleted, read from the raw volume.

Why: USB sticks and memory cards are FAT or exFAT, and dfVFS lists only their live files. The
directory entries of deleted files stay until the slot is reused: name (the long name whole,
the 8.3 name without its first character), size, first cluster and times. This extractor walks
every directory of the volume (`@volume`: the partition's raw bytes) through triage.fatfs and
reports every entry. Any other file system (NTFS...) is recognised from its boot sector and
left alone quietly: no events, no error.

Formats: Microsoft "FAT: General Overview of On-Disk Format" (FAT32 File System Specification
1.03) and "exFAT File System Specification"; field by field in triage/fatfs.py.

Times:
    FAT12/16/32 entries hold LOCAL wall-clock time: Created (10 ms resolution, two digits),
    Modified (2 s, no digits) and Accessed (a date only: the event is at local midnight of that
    date, "Accessed (date only)"). They are converted to UTC with the case's zone
    (`ctx.timezone`: --source-tz, else the seized system's zone) through
    triage.timezones.local_to_utc; `time_zone` names the zone used.
    exFAT entries hold local time plus, per time, a UTC offset when its "valid" bit is set
    (Windows sets it): then UTC = local - offset whatever the case's zone, and the offset is
    kept (`created_utc_offset`...). Created and Modified have 10 ms (two digits), Accessed 2 s.
    A time without a valid offset is converted like a FAT time.
    With no zone known a local-only time gives an event with NO timestamp (never a guessed
    one); `created_local`, `modified_local`, `accessed_local` always keep the times as written
    (ISO 8601 without a zone) and `timestamp_note` says why. `time_zone` is the zone that
    converted at least one of the entry's times (None when none needed it, or none is known).
    A date or time field that is not a valid date (month 0, hour 25...) is listed in
    `invalid_times` and gives no event.

Events: one per entry per distinct time. Equal times share one event whose timestamp_desc
names them all ("Created; Modified"); each is "Created", "Modified", "Accessed" (exFAT) or
"Accessed (date only)" (FAT). An entry with no time at all gives one untimed event
"Times Not Set". Deleted entries say "Deleted file"/"Deleted folder" in the message; there is
no deletion time in FAT or exFAT.

Event data: file_system ("FAT12", "FAT16", "FAT32", "exFAT"), volume_label, volume_serial
(8 hex digits, as LNK and Prefetch record it), path (long names; '?' for a lost first
character), name, short_name (FAT 8.3 name with the NT lower-case flags applied; '?' for the
first byte a deletion overwrote), deleted, first_char_lost (the 8.3 name lost its first
character: true for every deleted FAT entry; the long name, when it survived, is whole),
in_deleted_dir (the entry lies in a deleted folder: deleted too, whatever its own mark says),
is_dir, size, first_cluster, attributes (names: read_only, hidden, system, directory, archive),
entry_offset (byte offset of the 8.3 entry / exFAT File entry in the volume: what
`triage recover --inode` takes for FAT), created_local, modified_local, accessed_local,
time_zone, invalid_times; FAT only: short_name_hex (the 8.3 bytes when not ASCII; decoded as
Shift-JIS when they fit, else code page 437); exFAT only: created_utc_offset,
modified_utc_offset, accessed_utc_offset ("+09:00" or None), no_fat_chain, valid_data_length,
checksum_valid.

Bounds: 64 folder levels, 5 million entries, directory cycles and cluster-chain loops are cut
with a warning (see triage.fatfs). The volume label entry and "."/".." are not reported.
"""
from __future__ import annotations

import datetime as _dt
from typing import Any, Iterator

from triage.extractors import ExtractionContext, Extractor, register
from triage.fatfs import FatEntry, FatError, FatVolume, attribute_names, open_volume
from triage.files import EvidenceFile
from triage.model import ArtifactError, Event, Timestamp, from_datetime
from triage.timezones import local_to_utc


def _offset_text(minutes: int | None) -> str | None:
    if minutes is None:
        return None
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _local_text(value: _dt.datetime | None, digits: int, date_only: bool = False) -> str | None:
    if value is None:
        return None
    if date_only:
        return value.strftime("%Y-%m-%d")
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{value.microsecond:06d}"[:digits]
    return text


@register
class FatDirectoryEntries(Extractor):
    """Every directory entry of a FAT12/16/32 or exFAT volume, deleted ones included."""

    name = "fat_entries"
    family = "filesystem"
    description = "FAT12/16/32 and exFAT directory entries (allocated and deleted), local times"

    def extract(self, f: EvidenceFile, ctx: ExtractionContext) -> Iterator[Event]:
        with f.open() as handle:
            try:
                volume = open_volume(handle, getattr(f, "size", None) or None)
            except FatError as exc:
                raise ArtifactError(f"FAT/exFAT volume unreadable: {exc}") from None
            if volume is None:
                return  # not FAT or exFAT: another extractor's business
            yield from self._events(volume, ctx)

    def _events(self, volume: FatVolume, ctx: ExtractionContext) -> Iterator[Event]:
        zone = ctx.timezone
        state = {"untimed": 0, "zone_failed": False, "entries": 0, "deleted": 0,
                 "invalid": 0}
        warned: set[str] = set()

        def warn(message: str) -> None:
            if message not in warned:
                warned.add(message)
                ctx.warn(message)

        try:
            for entry in volume.walk(warn):
                state["entries"] += 1
                state["deleted"] += entry.deleted
                state["invalid"] += bool(entry.invalid_times)
                yield from self._entry_events(volume, entry, zone, state, ctx)
        except FatError as exc:
            ctx.error(f"walk stopped: {exc}")
        if volume.bitmap_problem:
            ctx.warn(f"exFAT allocation bitmap: {volume.bitmap_problem}")
        if state["invalid"]:
            ctx.warn(f"{state['invalid']} entr{'y has' if state['invalid'] == 1 else 'ies have'} "
                     "date or time fields that are not valid dates: listed in invalid_times, "
                     "no event for those times")
        if state["untimed"]:
            ctx.note(f"{volume.kind} times are local and no time zone is known: "
                     f"{state['untimed']} events carry the local time as text and no "
                     "timestamp (use --source-tz)")
        ctx.note(f"{volume.kind} volume, label {volume.label or '(none)'}, serial "
                 f"{volume.serial or '(none)'}: {state['entries']} entries, "
                 f"{state['deleted']} deleted")

    def _entry_events(self, volume: FatVolume, entry: FatEntry, zone: str | None,
                      state: dict[str, Any], ctx: ExtractionContext) -> Iterator[Event]:
        exfat = volume.kind == "exFAT"
        digits = {"created": 2, "modified": 2 if exfat else 0, "accessed": 0}
        desc = {"created": "Created", "modified": "Modified",
                "accessed": "Accessed" if exfat else "Accessed (date only)"}
        data: dict[str, Any] = {
            "file_system": volume.kind,
            "volume_label": volume.label,
            "volume_serial": volume.serial,
            "path": entry.path,
            "name": entry.name,
            "short_name": entry.short_name,
            "deleted": entry.deleted,
            "first_char_lost": entry.first_char_lost,
            "in_deleted_dir": entry.in_deleted_dir,
            "is_dir": entry.is_dir,
            "size": entry.size,
            "first_cluster": entry.first_cluster,
            "attributes": attribute_names(entry.attributes),
            "entry_offset": entry.entry_offset,
            "created_local": _local_text(entry.created, digits["created"]),
            "modified_local": _local_text(entry.modified, digits["modified"]),
            "accessed_local": _local_text(entry.accessed, 0, date_only=not exfat),
            "time_zone": zone,
            "invalid_times": entry.invalid_times,
        }
        if exfat:
            data.update(created_utc_offset=_offset_text(entry.created_offset),
                        modified_utc_offset=_offset_text(entry.modified_offset),
                        accessed_utc_offset=_offset_text(entry.accessed_offset),
                        no_fat_chain=entry.no_fat_chain,
                        valid_data_length=entry.valid_data_length,
                        checksum_valid=entry.checksum_valid)
        else:
            data["short_name_hex"] = entry.short_name_hex

        # Group equal times: (sort key) -> [descriptions], timestamp
        groups: dict[Any, tuple[list[str], Timestamp | None]] = {}
        untimed = False
        zone_used = False
        for label in ("created", "modified", "accessed"):
            value = getattr(entry, label)
            if value is None:
                continue
            offset = getattr(entry, f"{label}_offset")
            zone_used = zone_used or offset is None
            stamp = self._utc(value, offset, zone, digits[label], state, ctx)
            if stamp is None:
                untimed = True
            key = ("utc", stamp.ns) if stamp is not None else ("local", value)
            if key in groups:
                names, previous = groups[key]
                names.append(desc[label])
                if previous is not None and stamp is not None and stamp.digits > previous.digits:
                    groups[key] = (names, stamp)
            else:
                groups[key] = ([desc[label]], stamp)
        if not zone_used:
            data["time_zone"] = None  # every time carried its own UTC offset
        if untimed:
            data["timestamp_note"] = ("local time only: no time zone known, not converted "
                                      "(see *_local)")
        message = self._message(volume, entry)
        if not groups:
            yield Event(None, "Times Not Set", message, data)
            return
        for names, stamp in groups.values():
            if stamp is None:
                state["untimed"] += 1
            yield Event(stamp, "; ".join(names), message, dict(data))

    @staticmethod
    def _utc(value: _dt.datetime, offset: int | None, zone: str | None, digits: int,
             state: dict[str, Any], ctx: ExtractionContext) -> Timestamp | None:
        if offset is not None:
            return from_datetime(value.replace(tzinfo=_dt.timezone(_dt.timedelta(minutes=offset))),
                                 digits)
        if zone is None or state["zone_failed"]:
            return None
        try:
            return local_to_utc(value, zone, digits)
        except ValueError as exc:
            ctx.warn(f"{exc}: FAT times left unconverted")
            state["zone_failed"] = True
            return None

    @staticmethod
    def _message(volume: FatVolume, entry: FatEntry) -> str:
        kind = "folder" if entry.is_dir else "file"
        text = f"{'Deleted ' + kind if entry.deleted else kind.capitalize()} {entry.path}"
        if not entry.is_dir:
            text += f" ({entry.size:,} bytes)"
        notes = []
        if entry.first_char_lost and entry.long_name is None:
            notes.append("first character of the name lost")
        if entry.in_deleted_dir:
            notes.append("in a deleted folder")
        if notes:
            text += "; " + ", ".join(notes)
        label = f" '{volume.label}'" if volume.label else ""
        return f"{text} [{volume.kind}{label}]"
