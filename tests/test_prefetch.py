"""Prefetch extractor: built files (v17, v23, v26, v30, v30 MAM), real samples, bad input."""
from __future__ import annotations

import io
import os
import struct
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

import pyscca  # noqa: E402

from fixtures.builders.prefetch_writer import (  # noqa: E402
    PrefetchVolume,
    build_prefetch,
    xpress_huffman_compress,
)
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors.prefetch import PrefetchExtractor  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "prefetch" / "plaso"

# FILETIMEs and the ISO strings they must print as (seven fractional digits, UTC).
T_LAST = 132593079671234567
T_LAST_ISO = "2021-03-04T05:06:07.1234567Z"
T_PREV1 = 132592895999999999
T_PREV1_ISO = "2021-03-03T23:59:59.9999999Z"
T_PREV3 = 132590304000000001
T_PREV3_ISO = "2021-03-01T00:00:00.0000001Z"
T_VOL_C = 131908718450600000
T_VOL_C_ISO = "2019-01-02T03:04:05.0600000Z"
T_VOL_D = 128920188310000000
T_VOL_D_ISO = "2009-07-14T04:20:31.0000000Z"

VOL_C = "\\VOLUME{01d3096ba3a46863-2ca3d1ae}"
VOL_D = "\\DEVICE\\HARDDISKVOLUME2"
FILES = [
    VOL_C + "\\WINDOWS\\SYSTEM32\\NTDLL.DLL",
    VOL_C + "\\WINDOWS\\SYSTEM32\\notepad.exe",
    VOL_C + "\\WINDOWS\\SYSTEM32\\KERNEL32.DLL",
    VOL_D + "\\TOOLS\\README.TXT",
]
VOLUMES = [
    PrefetchVolume(
        VOL_C, 0x2CA3D1AE, T_VOL_C, [VOL_C + "\\WINDOWS", VOL_C + "\\WINDOWS\\SYSTEM32"]
    ),
    PrefetchVolume(VOL_D, 0x0BADF00D, T_VOL_D, [VOL_D + "\\TOOLS"]),
]
VOLUMES_DATA = [
    {"device_path": VOL_C, "serial": "2CA3D1AE", "creation": T_VOL_C_ISO},
    {"device_path": VOL_D, "serial": "0BADF00D", "creation": T_VOL_D_ISO},
]


def _extract(tmp_path: Path, data: bytes, name: str = "NOTEPAD.EXE-D8414F97.pf") -> list:
    target = tmp_path / name
    target.write_bytes(data)
    return list(PrefetchExtractor().extract(LocalFile(str(target)), ExtractionContext()))


def _iso(event) -> str | None:
    return event.timestamp.iso() if event.timestamp else None


# --- the writer on its own, read back by libscca -----------------------------------------------


def test_writer_read_back_by_pyscca_multi_chunk():
    """A MAM file over several 64 KiB chunks: libscca decompresses and parses all of it."""
    files = [VOL_C + f"\\PROGRAM FILES\\APP\\MODULE_{i:04d}_{i * 7919 % 10007:05d}.DLL"
             for i in range(900)]
    data = build_prefetch("APP.EXE", 0x1234ABCD, [T_LAST, T_PREV1], 3, VOLUMES[:1], files)
    plain = build_prefetch("APP.EXE", 0x1234ABCD, [T_LAST, T_PREV1], 3, VOLUMES[:1], files,
                           compressed=False)
    assert data[:4] == b"MAM\x04"
    assert struct.unpack_from("<I", data, 4)[0] == len(plain) > 2 * 0x10000
    assert len(data) < len(plain)
    scca = pyscca.file()
    scca.open_file_object(io.BytesIO(data))
    assert scca.format_version == 30
    assert scca.executable_filename == "APP.EXE"
    assert scca.prefetch_hash == 0x1234ABCD
    assert scca.run_count == 3
    assert scca.get_last_run_time_as_integer(0) == T_LAST
    assert scca.get_last_run_time_as_integer(1) == T_PREV1
    assert scca.get_last_run_time_as_integer(2) == 0
    assert scca.number_of_volumes == 1
    volume = scca.get_volume_information(0)
    assert (volume.device_path, volume.serial_number) == (VOL_C, 0x2CA3D1AE)
    assert volume.get_creation_time_as_integer() == T_VOL_C
    assert list(scca.filenames) == files
    scca.close()


def test_xpress_huffman_round_trip():
    pyfwnt = pytest.importorskip("pyfwnt")
    samples = [
        b"",
        b"x",
        b"abc" * 400,  # long matches: 8-bit and 16-bit length extensions
        bytes(70000),  # crosses a chunk boundary
        os.urandom(3000),  # incompressible
        bytes(range(256)) * 300 + b"tail",
    ]
    for sample in samples:
        packed = xpress_huffman_compress(sample)
        assert pyfwnt.lzxpress_huffman_decompress(packed, len(sample)) == sample


# --- built files through the extractor ---------------------------------------------------------


@pytest.mark.parametrize(
    "version, compressed",
    [(17, False), (23, False), (26, False), (30, False), (30, True)],
)
def test_built_file_round_trip(tmp_path, version, compressed):
    many = version >= 26
    run_times = [T_LAST, T_PREV1, 0, T_PREV3] if many else [T_LAST]
    data = build_prefetch("NOTEPAD.EXE", 0xD8414F97, run_times, 5, VOLUMES, FILES,
                          version=version, compressed=compressed)
    assert (data[:4] == b"MAM\x04") is compressed
    events = _extract(tmp_path, data)

    descs = [e.timestamp_desc for e in events]
    if many:
        assert descs == ["Last Run", "Previous Run", "Previous Run", "Volume Created",
                         "Volume Created"]
        assert [_iso(e) for e in events] == [T_LAST_ISO, T_PREV1_ISO, T_PREV3_ISO, T_VOL_C_ISO,
                                              T_VOL_D_ISO]
        assert [e.data["run_index"] for e in events[:3]] == [0, 1, 3]
        assert events[1].message == "NOTEPAD.EXE run (previous run 1 of 2)"
        assert events[2].message == "NOTEPAD.EXE run (previous run 2 of 2)"
    else:
        assert descs == ["Last Run", "Volume Created", "Volume Created"]
        assert [_iso(e) for e in events] == [T_LAST_ISO, T_VOL_C_ISO, T_VOL_D_ISO]
    assert events[0].message == "NOTEPAD.EXE run (5 times in total; last run)"
    assert events[-2].message == (
        f"Volume {VOL_C} (serial 2CA3D1AE) created; referenced by NOTEPAD.EXE Prefetch"
    )
    assert events[-1].message == (
        f"Volume {VOL_D} (serial 0BADF00D) created; referenced by NOTEPAD.EXE Prefetch"
    )
    assert [e.data["volume_index"] for e in events[-2:]] == [0, 1]

    for event in events:
        assert event.user is None
        assert "\n" not in event.message
        assert event.data["executable"] == "NOTEPAD.EXE"
        assert event.data["executable_path"] == VOL_C + "\\WINDOWS\\SYSTEM32\\notepad.exe"
        assert event.data["prefetch_hash"] == "D8414F97"
        assert event.data["run_count"] == 5
        assert event.data["format_version"] == version
        assert event.data["compressed"] is compressed
        assert event.data["files_count"] == 4
        assert event.data["volumes"] == VOLUMES_DATA
        assert ("files" in event.data) is (event.timestamp_desc == "Last Run")
    assert events[0].data["files"] == FILES


def test_no_run_time_and_single_run(tmp_path):
    """run count 1 reads "1 time"; an unset last run time still gives the file list, untimed."""
    data = build_prefetch("A.EXE", 1, [T_LAST], 1, [], ["\\DEVICE\\X\\A.EXE"], version=23)
    (event,) = _extract(tmp_path, data)
    assert event.message == "A.EXE run (1 time in total; last run)"
    assert event.data["volumes"] == [] and event.data["executable_path"] == "\\DEVICE\\X\\A.EXE"

    data = build_prefetch("B.EXE", 2, [], 0, [], ["\\DEVICE\\X\\C.DLL"], version=30)
    (event,) = _extract(tmp_path, data)
    assert event.timestamp is None and event.timestamp_desc == "Last Run"
    assert event.data["files"] == ["\\DEVICE\\X\\C.DLL"]
    assert event.data["executable_path"] is None


# --- real samples (third-party ground truth) ---------------------------------------------------


def _sample(name: str) -> Path:
    path = SAMPLES / name
    if not path.is_file():
        pytest.skip(f"sample not present: {path}")
    return path


def _extract_sample(name: str) -> list:
    return list(PrefetchExtractor().extract(LocalFile(str(_sample(name))), ExtractionContext()))


def test_sample_bytecodegenerator():
    events = _extract_sample("BYTECODEGENERATOR.EXE-C1E9BCE6.pf")
    assert [e.timestamp_desc for e in events] == ["Last Run"] + ["Previous Run"] * 6 + [
        "Volume Created"
    ]
    assert [_iso(e) for e in events] == [
        "2015-05-14T22:11:58.0911341Z",
        "2015-05-14T22:11:55.3576520Z",
        "2015-05-14T22:11:45.5135991Z",
        "2015-05-14T22:11:25.8427278Z",
        "2015-05-14T22:11:19.8586549Z",
        "2015-05-14T22:11:05.9066547Z",
        "2015-05-14T22:10:38.2515193Z",
        "2015-05-15T06:54:55.1392941Z",
    ]
    last = events[0]
    assert last.data["format_version"] == 30
    assert last.data["compressed"] is True
    assert last.data["executable"] == "BYTECODEGENERATOR.EXE"
    assert last.data["prefetch_hash"] == "C1E9BCE6"
    assert last.data["run_count"] == 7
    assert last.data["files_count"] == 1085 and len(last.data["files"]) == 1085
    assert last.data["files"][0] == (
        "\\VOLUME{01d08edc0cbccaad-3e0d2d25}\\WINDOWS\\SYSTEM32\\NTDLL.DLL"
    )
    assert last.data["executable_path"] == (
        "\\VOLUME{01d08edc0cbccaad-3e0d2d25}\\WINDOWS\\SYSTEM32\\BYTECODEGENERATOR.EXE"
    )
    assert last.data["volumes"] == [
        {
            "device_path": "\\VOLUME{01d08edc0cbccaad-3e0d2d25}",
            "serial": "3E0D2D25",
            "creation": "2015-05-15T06:54:55.1392941Z",
        }
    ]
    assert last.message == "BYTECODEGENERATOR.EXE run (7 times in total; last run)"
    assert events[6].message == "BYTECODEGENERATOR.EXE run (previous run 6 of 6)"


def test_sample_onedrive():
    events = _extract_sample("ONEDRIVE.EXE-7E152375.pf")
    assert [(e.timestamp_desc, _iso(e)) for e in events] == [
        ("Last Run", "2015-05-14T22:11:05.4852771Z"),
        ("Previous Run", "2015-05-14T22:10:28.6747101Z"),
        ("Volume Created", "2015-05-15T06:54:55.1392941Z"),
    ]
    assert events[0].data["run_count"] == 2
    assert len(events[0].data["files"]) == 134 and events[2].data["files_count"] == 134
    assert events[0].data["prefetch_hash"] == "7E152375"


def test_sample_notepad():
    events = _extract_sample("NOTEPAD.EXE-D8414F97.pf")
    assert [(e.timestamp_desc, _iso(e)) for e in events] == [
        ("Last Run", "2019-06-05T19:55:04.8777787Z"),
        ("Previous Run", "2019-06-05T19:23:00.8157052Z"),
        ("Volume Created", "2017-07-30T19:40:03.5487843Z"),
    ]
    assert events[0].data["run_count"] == 2
    assert len(events[0].data["files"]) == 56
    assert events[2].data["volumes"] == [
        {
            "device_path": "\\VOLUME{01d3096ba3a46863-2ca3d1ae}",
            "serial": "2CA3D1AE",
            "creation": "2017-07-30T19:40:03.5487843Z",
        }
    ]
    assert events[2].message == (
        "Volume \\VOLUME{01d3096ba3a46863-2ca3d1ae} (serial 2CA3D1AE) created; "
        "referenced by NOTEPAD.EXE Prefetch"
    )
    assert events[0].message == "NOTEPAD.EXE run (2 times in total; last run)"


def test_sample_am_delta_patch_version_31():
    events = _extract_sample("AM_DELTA_PATCH_1.443.990.0.EX-7037CF86.pf")
    assert [e.timestamp_desc for e in events] == ["Last Run", "Volume Created"]
    last = events[0]
    assert last.data["format_version"] == 31
    assert last.data["executable"] == "AM_DELTA_PATCH_1.443.990.0.EX"
    assert last.data["prefetch_hash"] == "7037CF86"
    assert last.data["run_count"] == 1
    assert last.data["volumes"][0]["serial"] == "BC1F1BFC"
    # the name is cut to 29 characters; the full path is found by its start
    assert last.data["executable_path"].endswith("\\AM_DELTA_PATCH_1.443.990.0.EXE")


# --- bad input ---------------------------------------------------------------------------------


def _valid(compressed: bool) -> bytes:
    return build_prefetch("NOTEPAD.EXE", 0xD8414F97, [T_LAST, T_PREV1], 2, VOLUMES, FILES,
                          version=30, compressed=compressed)


def _corrupt_body(data: bytes) -> bytes:
    damaged = bytearray(data)
    for index in range(8 + 256 + 16, len(damaged) - 8, 5):
        damaged[index] ^= 0xA5
    return bytes(damaged)


def _unsupported_version() -> bytes:
    data = bytearray(_valid(False))
    struct.pack_into("<I", data, 0, 99)
    return bytes(data)


@pytest.mark.parametrize(
    "label, content",
    [
        ("empty", b""),
        ("random", os.urandom(4096)),
        ("text", b"this is not a prefetch file\n" * 20),
        ("truncated", _valid(False)[: len(_valid(False)) // 2]),
        ("truncated-header", _valid(False)[:60]),
        ("truncated-mam", _valid(True)[: len(_valid(True)) // 2]),
        ("corrupt-mam", _corrupt_body(_valid(True))),
        ("mam-header-only", b"MAM\x04" + struct.pack("<I", 5000)),
        ("unsupported-version", _unsupported_version()),
    ],
)
def test_bad_input_raises_artifact_error(tmp_path, capfd, label, content):
    target = tmp_path / f"{label}.pf"
    target.write_bytes(content)
    with pytest.raises(ArtifactError) as caught:
        list(PrefetchExtractor().extract(LocalFile(str(target)), ExtractionContext()))
    reason = str(caught.value)
    assert reason and "\n" not in reason
    captured = capfd.readouterr()
    assert captured.err == "" and captured.out == ""  # the C libraries printed nothing


def test_unsupported_version_reason(tmp_path):
    target = tmp_path / "v99.pf"
    target.write_bytes(_unsupported_version())
    with pytest.raises(ArtifactError, match="unsupported Prefetch format version 99"):
        list(PrefetchExtractor().extract(LocalFile(str(target)), ExtractionContext()))
