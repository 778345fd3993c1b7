"""Recycle Bin extractors: `$I` (v1, v2) and INFO2, on built files and on real samples."""
from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

from fixtures.builders.recycle_writer import Info2Record, build_i_file, build_info2  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.recycle_bin import RecycleBinIFile, RecycleBinInfo2  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

SID = "S-1-5-21-1-2-3-1001"
SAMPLES = ROOT.parent / "shared" / "samples" / "recyclebin" / "plaso"

# 2021-03-04T05:06:07.1234567Z as FILETIME
FT_2021 = 132593079671234567
FT_2021_ISO = "2021-03-04T05:06:07.1234567Z"


def _ctx() -> ExtractionContext:
    return ExtractionContext(users_by_sid={SID: "bob"})


def _place(tmp_path: Path, folder: str, files: dict[str, bytes]) -> Path:
    """Write `files` into tmp_path/<folder>/ and return that folder."""
    target = tmp_path.joinpath(*folder.strip("/").split("/"))
    target.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (target / name).write_bytes(content)
    return target


def _local(folder: Path, vpath_dir: str, name: str) -> LocalFile:
    return LocalFile(str(folder / name), path=f"{vpath_dir}/{name}")


def _i_events(tmp_path: Path, files: dict[str, bytes], name: str, ctx=None):
    vdir = f"/$Recycle.Bin/{SID}"
    folder = _place(tmp_path, vdir, files)
    ctx = ctx or _ctx()
    return list(RecycleBinIFile().extract(_local(folder, vdir, name), ctx)), ctx


# ---------------------------------------------------------------- writer round trips: $I


@pytest.mark.parametrize("version", [1, 2])
def test_i_file_round_trip_with_r(tmp_path: Path, version: int) -> None:
    content = b"name,total\n" * 1000 + b"x" * (3 << 20)  # spans several 1 MiB chunks
    original = "C:\\Users\\bob\\Documents\\customers.xlsx"
    raw = build_i_file(original, 52311, FT_2021, version=version)
    if version == 1:
        assert len(raw) == 544
    else:
        assert len(raw) == 28 + 2 * (len(original) + 1)
    events, ctx = _i_events(
        tmp_path, {"$IAB12CD.xlsx": raw, "$RAB12CD.xlsx": content}, "$IAB12CD.xlsx"
    )
    assert len(events) == 1
    event = events[0]
    assert event.timestamp is not None and event.timestamp.iso() == FT_2021_ISO
    assert event.timestamp_desc == "Deleted"
    assert event.message == (
        "C:\\Users\\bob\\Documents\\customers.xlsx sent to the Recycle Bin (52,311 bytes)"
    )
    assert event.user == "bob"
    assert event.data == {
        "original_path": original,
        "size": 52311,
        "version": version,
        "sid": SID,
        "i_file": "$IAB12CD.xlsx",
        "r_file": "$RAB12CD.xlsx",
        "r_present": True,
        "r_size": len(content),
        "r_sha256": hashlib.sha256(content).hexdigest(),
    }
    assert ctx.warnings == []


def test_i_file_without_r(tmp_path: Path) -> None:
    raw = build_i_file("D:\\data\\report.txt", 7, FT_2021, version=2)
    events, _ = _i_events(tmp_path, {"$IABC123.txt": raw}, "$IABC123.txt")
    (event,) = events
    assert event.data["r_present"] is False
    assert event.data["r_file"] == "$RABC123.txt"
    assert "r_size" not in event.data and "r_sha256" not in event.data
    assert event.message == "D:\\data\\report.txt sent to the Recycle Bin (7 bytes)"


def test_i_file_r_is_a_folder(tmp_path: Path) -> None:
    """A deleted folder: its $R is a directory whose files are listed and hashed."""
    raw = build_i_file("C:\\Users\\bob\\Projects", 4096, FT_2021, version=2)
    vdir = f"/$Recycle.Bin/{SID}"
    folder = _place(tmp_path, vdir, {"$IXYZ789": raw})
    (folder / "$RXYZ789").mkdir()
    (folder / "$RXYZ789" / "inner.txt").write_bytes(b"inside")
    (event,) = RecycleBinIFile().extract(_local(folder, vdir, "$IXYZ789"), _ctx())
    assert event.data["r_present"] is True and event.data["r_is_directory"] is True
    assert event.data["r_contents"] == [{
        "path": f"{vdir}/$RXYZ789/inner.txt", "size": 6,
        "sha256": hashlib.sha256(b"inside").hexdigest()}]
    assert event.data["r_files_total"] == 1
    assert event.data["original_path"] == "C:\\Users\\bob\\Projects"


def test_i_file_unicode_path_and_unknown_sid(tmp_path: Path) -> None:
    original = "C:\\Users\\zoë\\Desktop\\résumé 𝄞.docx"  # non-BMP: a surrogate pair
    raw = build_i_file(original, 1, FT_2021, version=2)
    other = "S-1-5-21-9-9-9-1002"
    folder = _place(tmp_path, f"/$Recycle.Bin/{other}", {"$I000001.docx": raw})
    ctx = _ctx()
    (event,) = RecycleBinIFile().extract(
        _local(folder, f"/$Recycle.Bin/{other}", "$I000001.docx"), ctx
    )
    assert event.data["original_path"] == original
    assert event.user == other  # an unnamed SID stays the SID
    assert event.data["sid"] == other


def test_i_file_outside_a_sid_folder(tmp_path: Path) -> None:
    raw = build_i_file("C:\\a.txt", 1, FT_2021, version=1)
    (tmp_path / "$Ia.txt").write_bytes(raw)
    (event,) = RecycleBinIFile().extract(LocalFile(str(tmp_path / "$Ia.txt")), _ctx())
    assert event.data["sid"] is None
    assert event.user is None


def test_i_file_unset_time_is_not_invented(tmp_path: Path) -> None:
    raw = build_i_file("C:\\a.txt", 1, 0, version=2)
    events, _ = _i_events(tmp_path, {"$Ia.txt": raw}, "$Ia.txt")
    assert events[0].timestamp is None


# ---------------------------------------------------------------- writer round trips: INFO2


def _info2_records() -> list[Info2Record]:
    return [
        Info2Record(1, 2, FT_2021, 2160128, "C:\\Documents and Settings\\bob\\Desktop\\a.exe"),
        Info2Record(2, 3, FT_2021 + 10_000_000, 11, "D:\\café\\notes.txt"),
        Info2Record(3, 2, FT_2021 + 1, 5, "C:\\tmp\\gone.doc", removed=True),
    ]


def test_info2_round_trip(tmp_path: Path) -> None:
    raw = build_info2(_info2_records())
    assert len(raw) == 20 + 3 * 800
    assert struct.unpack_from("<5I", raw) == (5, 2, 3, 800, 2160128 + 11)
    vdir = f"/RECYCLER/{SID}"
    d_content = b"MZ" + b"\0" * 5000
    folder = _place(tmp_path, vdir, {"INFO2": raw, "Dc1.exe": d_content})
    ctx = _ctx()
    events = list(RecycleBinInfo2().extract(_local(folder, vdir, "INFO2"), ctx))
    assert ctx.warnings == []
    assert len(events) == 3
    first, second, third = events
    assert [e.timestamp.iso() for e in events] == [
        FT_2021_ISO,
        "2021-03-04T05:06:08.1234567Z",
        "2021-03-04T05:06:07.1234568Z",
    ]
    assert all(e.timestamp_desc == "Deleted" and e.user == "bob" for e in events)
    assert first.data == {
        "original_path": "C:\\Documents and Settings\\bob\\Desktop\\a.exe",
        "index": 1,
        "drive_letter": "C",
        "size": 2160128,
        "sid": SID,
        "removed": False,
        "r_file": "Dc1.exe",
        "r_present": True,
        "r_size": len(d_content),
        "r_sha256": hashlib.sha256(d_content).hexdigest(),
    }
    assert first.message == (
        "C:\\Documents and Settings\\bob\\Desktop\\a.exe sent to the Recycle Bin (2,160,128 bytes)"
    )
    assert second.data["original_path"] == "D:\\café\\notes.txt"
    assert second.data["drive_letter"] == "D"
    assert second.data["r_file"] == "Dd2.txt"
    assert second.data["r_present"] is False
    assert second.data["r_size"] is None and second.data["r_sha256"] is None
    assert third.data["removed"] is True
    assert third.data["original_path"] == "C:\\tmp\\gone.doc"  # Unicode path survives
    assert third.data["r_file"] == "Dc3.doc"
    assert "removed" in third.message and third.message.startswith("C:\\tmp\\gone.doc sent")


def test_info2_legacy_280_records(tmp_path: Path) -> None:
    records = [
        Info2Record(0, 2, FT_2021, 10, "C:\\WINDOWS\\TEMP\\été.TXT"),
        Info2Record(1, 2, FT_2021, 20, "C:\\OLD.BAK", removed=True),
    ]
    raw = build_info2(records, record_size=280)
    assert len(raw) == 20 + 2 * 280
    vdir = "/RECYCLED"
    folder = _place(tmp_path, vdir, {"INFO2": raw, "DC0.TXT": b"hello"})
    ctx = ExtractionContext()
    first, second = RecycleBinInfo2().extract(_local(folder, vdir, "INFO2"), ctx)
    assert first.data["original_path"] == "C:\\WINDOWS\\TEMP\\été.TXT"  # cp1252
    assert first.data["sid"] is None and first.user is None
    assert first.data["r_present"] is True
    assert first.data["r_file"] == "DC0.TXT"  # the name as found on disk
    assert first.data["r_sha256"] == hashlib.sha256(b"hello").hexdigest()
    # ANSI only and removed: the first character (drive letter) comes back from the drive number
    assert second.data["removed"] is True
    assert second.data["original_path"] == "C:\\OLD.BAK"


def test_info2_empty_bin(tmp_path: Path) -> None:
    (tmp_path / "INFO2").write_bytes(build_info2([]))
    assert list(RecycleBinInfo2().extract(LocalFile(str(tmp_path / "INFO2")), _ctx())) == []


def test_info2_partial_trailing_record_warns(tmp_path: Path) -> None:
    raw = build_info2(_info2_records()[:1]) + b"\0" * 100
    (tmp_path / "INFO2").write_bytes(raw)
    ctx = _ctx()
    events = list(RecycleBinInfo2().extract(LocalFile(str(tmp_path / "INFO2")), ctx))
    assert len(events) == 1
    assert len(ctx.warnings) == 1 and "partial record" in ctx.warnings[0]


# ---------------------------------------------------------------- real samples


def _sample(name: str) -> LocalFile:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"sample {path} not present")
    return LocalFile(str(path), path=f"/$Recycle.Bin/{SID}/{name}")


def test_sample_v1() -> None:
    f = _sample("$II3DF3L.zip")
    (event,) = RecycleBinIFile().extract(f, _ctx())
    assert event.timestamp.iso() == "2012-03-12T20:49:58.6330000Z"
    assert event.data["original_path"] == "C:\\Users\\nfury\\Documents\\Alloy Research\\StarFury.zip"
    assert event.data["size"] == 724919
    assert event.data["version"] == 1
    assert event.data["r_file"] == "$RI3DF3L.zip"
    assert event.data["r_present"] is False
    assert event.user == "bob"


def test_sample_v2() -> None:
    f = _sample("$I103S5F.jpg")
    (event,) = RecycleBinIFile().extract(f, _ctx())
    assert event.timestamp.iso() == "2016-06-29T21:37:45.6180000Z"
    assert event.data["original_path"] == "C:\\Users\\random\\Downloads\\bunnies.jpg"
    assert event.data["size"] == 222255
    assert event.data["version"] == 2


def test_sample_writer_matches_real_i_files() -> None:
    """The writer reproduces the real $I files byte for byte."""
    v1 = _sample("$II3DF3L.zip").read()
    v2 = _sample("$I103S5F.jpg").read()
    _, size1, ft1 = struct.unpack_from("<qqQ", v1)
    _, size2, ft2 = struct.unpack_from("<qqQ", v2)
    path1 = "C:\\Users\\nfury\\Documents\\Alloy Research\\StarFury.zip"
    assert build_i_file(path1, size1, ft1, version=1) == v1
    assert build_i_file("C:\\Users\\random\\Downloads\\bunnies.jpg", size2, ft2, version=2) == v2


def test_sample_info2() -> None:
    f = _sample("INFO2")
    ctx = ExtractionContext()
    events = list(RecycleBinInfo2().extract(LocalFile(f.local_path, path="/RECYCLER/INFO2"), ctx))
    assert len(events) == 4
    first = events[0]
    assert first.data["original_path"] == (
        "C:\\Documents and Settings\\Mr. Evil\\Desktop\\lalsetup250.exe"
    )
    assert first.data["drive_letter"] == "C"
    assert first.data["index"] == 1
    assert first.data["removed"] is False
    assert first.timestamp.iso() == "2004-08-25T16:18:25.2370000Z"
    assert first.data["r_file"] == "Dc1.exe"
    # the writer reproduces the first real record byte for byte
    raw = f.read()
    index, drive, ft, size = struct.unpack_from("<IIQI", raw, 20 + 260)
    rebuilt = build_info2([Info2Record(index, drive, ft, size, first.data["original_path"])])
    assert rebuilt[20:] == raw[20:820]
    assert raw[:20][12:16] == struct.pack("<I", 800)


# ---------------------------------------------------------------- bad input


def _bad(tmp_path: Path, name: str, raw: bytes, extractor) -> str:
    (tmp_path / name).write_bytes(raw)
    with pytest.raises(ArtifactError) as info:
        list(extractor.extract(LocalFile(str(tmp_path / name)), _ctx()))
    message = str(info.value)
    assert message and "\n" not in message
    return message


def test_bad_empty_i_file(tmp_path: Path) -> None:
    assert "shorter" in _bad(tmp_path, "$Iempty.txt", b"", RecycleBinIFile())


def test_bad_version(tmp_path: Path) -> None:
    raw = build_i_file("C:\\a.txt", 1, FT_2021, version=2)
    raw = struct.pack("<q", 3) + raw[8:]
    assert "version 3" in _bad(tmp_path, "$Iv3.txt", raw, RecycleBinIFile())


def test_bad_v2_length_past_end(tmp_path: Path) -> None:
    raw = build_i_file("C:\\a.txt", 1, FT_2021, version=2)
    raw = raw[:24] + struct.pack("<I", 500) + raw[28:]
    assert "overruns" in _bad(tmp_path, "$Ilong.txt", raw, RecycleBinIFile())


def test_bad_truncated_v1(tmp_path: Path) -> None:
    raw = build_i_file("C:\\a.txt", 1, FT_2021, version=1)[:300]
    assert "truncated" in _bad(tmp_path, "$Ishort.txt", raw, RecycleBinIFile())


def test_bad_utf16_path(tmp_path: Path) -> None:
    raw = build_i_file("C:\\ab", 1, FT_2021, version=2)
    raw = raw[:28] + b"\x00\xd8" + raw[30:]  # a lone high surrogate in place of "C"
    assert "UTF-16" in _bad(tmp_path, "$Ibad.txt", raw, RecycleBinIFile())


def test_bad_info2_record_size(tmp_path: Path) -> None:
    raw = build_info2(_info2_records()[:1], record_size=600)
    assert "record size 600" in _bad(tmp_path, "INFO2", raw, RecycleBinInfo2())


def test_bad_info2_short_header(tmp_path: Path) -> None:
    _bad(tmp_path, "INFO2", b"\x05\0\0\0", RecycleBinInfo2())
