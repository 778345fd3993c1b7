"""The fast EVTX reader (triage/evtx_fast.py) against libevtx: the extractor must give the
same events with the fast reader on and off, for every file the tests build, the shared samples
and a generated log of a few thousand varied records; each value type is printed as libevtx
prints it; damaged or unusual chunks are left to libevtx with the same result."""
from __future__ import annotations

import random
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

import test_evtx as base  # noqa: E402  (the EVTX extractor's own builders)
from conftest import ALICE, SAMPLES  # noqa: E402

from fixtures.builders import evtx_writer as ew  # noqa: E402
from fixtures.builders.evtx_writer import Elem, EvtxRecord, build_evtx, event_data  # noqa: E402
from triage import evtx_fast  # noqa: E402
from triage.extractors import ExtractionContext  # noqa: E402
from triage.extractors import evtx as evtx_module  # noqa: E402
from triage.extractors.evtx import EvtxExtractor  # noqa: E402
from triage.files import LocalFile  # noqa: E402
from triage.model import ArtifactError  # noqa: E402

T0 = base.T0
SECURITY = base.SECURITY


def _run(path: Path, fast: bool, everything: bool) -> tuple[Any, ExtractionContext]:
    ctx = ExtractionContext(users_by_sid={ALICE: "alice"},
                            options={"evtx_all": everything, "evtx_fast": fast})
    try:
        events = list(EvtxExtractor().extract(LocalFile(str(path)), ctx))
    except ArtifactError as exc:
        return ("ArtifactError", str(exc)), ctx
    # data as its items: the order of the keys is compared too (it is the JSON's, the hash's)
    return [(e.timestamp, e.timestamp_desc, e.message, e.user, list(e.data.items()))
            for e in events], ctx


def same(path: Path) -> list[str]:
    """Assert the fast reader changes nothing (events and warnings, catalogue and --evtx-all);
    returns the --evtx-all fast run's notes (how many chunks went to libevtx)."""
    notes: list[str] = []
    for everything in (False, True):
        fast, fast_ctx = _run(path, True, everything)
        slow, slow_ctx = _run(path, False, everything)
        if fast != slow:  # the first difference, readable
            assert isinstance(fast, list) and isinstance(slow, list), (fast, slow)
            for one, other in zip(fast, slow):
                assert one == other
            assert len(fast) == len(slow)
        assert fast_ctx.warnings == slow_ctx.warnings
        assert not slow_ctx.notes
        notes = fast_ctx.notes
    return notes


def _file(tmp_path: Path, data: bytes, name: str = "log.evtx") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture
def no_libevtx(monkeypatch):
    """libevtx must not be opened at all (a clean file is read by the fast reader alone)."""
    def refuse() -> None:
        raise AssertionError("libevtx opened for a file the fast reader reads alone")
    monkeypatch.setattr(evtx_module.pyevtx, "file", refuse)


# --- the extractor's own test files, the samples ------------------------------------------------


@pytest.mark.parametrize("builder", [base.security_log, base.system_log, base.partition_log,
                                     base.storsvc_log])
def test_builders_identical_and_fast(tmp_path, builder):
    path = _file(tmp_path, builder())
    assert same(path) == []
    with open(path, "rb") as handle:
        reader = evtx_fast.FileReader(handle, path.stat().st_size, handle.read(4096))
        assert not reader.libevtx_only
        chunks = list(reader.chunks())
    assert all(chunk.records is not None for chunk in chunks) and not reader.needs_libevtx


def test_clean_file_never_opens_libevtx(tmp_path, no_libevtx):
    path = _file(tmp_path, base.security_log())
    ctx = ExtractionContext(options={"evtx_all": True})
    events = list(EvtxExtractor().extract(LocalFile(str(path)), ctx))
    assert [e.data["event_id"] for e in events] == [4624, 4625] and not ctx.notes


def test_recovered_written_time_and_damage_identical(tmp_path):
    lost = EvtxRecord(4720, SECURITY, "Security", base.T1, record_id=9,
                      payload=event_data({"TargetUserName": "backdoor", "TargetDomainName": "WKS",
                                          "TargetSid": ew.sid(ALICE)}))
    late = base._logon_4624()
    late.written = base.T2
    assert same(_file(tmp_path, build_evtx([late], slack=lost))) == []
    undated = base._logon_4624()
    undated.time, undated.written = None, base.T1
    assert same(_file(tmp_path, build_evtx([undated]), "undated.evtx")) == []


@pytest.mark.parametrize("name", sorted(p.name for p in (SAMPLES / "evtx").rglob("*.evtx"))
                         if (SAMPLES / "evtx").exists() else ["(no samples)"])
def test_shared_samples_identical(name):
    found = sorted((SAMPLES / "evtx").rglob(name)) if (SAMPLES / "evtx").exists() else []
    if not found:
        pytest.skip("shared EVTX samples absent")
    for path in found:
        same(path)


# --- a generated log of varied records -----------------------------------------------------------

NS2 = "http://schemas.microsoft.com/win/2004/08/events"
TEXTS = ["plain", "", "a&b<c>d\"e'f", "tab\there", "crlf\r\nand\rcr", "\n", " lead", "trail ",
         "ctl\x01\x1fchars", "emoji \U0001F600", "cut\0after", "\u00e9\u4e2d", "x" * 300,
         "semi;colon=eq", "-"]


def _typed_payload(rng: random.Random) -> Elem:
    """EventData with a value of every type libevtx prints (arrays included)."""
    return event_data([
        ("I8", ew.i8(rng.choice([-128, -5, 0, 7, 127]))), ("U8", ew.u8(rng.randrange(256))),
        ("I16", ew.i16(rng.choice([-32768, -300, 12]))), ("U16", ew.u16(rng.randrange(65536))),
        ("I32", ew.i32(rng.choice([-2 ** 31, -5, 99]))), ("U32", ew.u32(rng.randrange(2 ** 32))),
        ("I64", ew.i64(rng.choice([-2 ** 63, -1, 2 ** 40]))),
        ("U64", ew.u64(rng.randrange(2 ** 64))),
        ("R32", ew.real32(rng.choice([0.0, 1.25, -3.0e-5, 2.5e20]))),
        ("R64", ew.real64(rng.choice([0.0, -0.0, 123.456, 6.02e23, 3.5e-300]))),
        ("Bool", ew.boolean(rng.random() < 0.5)),
        ("Bin", ew.binary(rng.randbytes(rng.randrange(9)))),
        ("Guid", ew.guid(str(__import__("uuid").UUID(int=rng.getrandbits(128))))),
        ("Size", ew.size_t(rng.randrange(2 ** 32), rng.choice([4, 8]))),
        ("Ft", ew.filetime_value(rng.choice([0, T0 + rng.randrange(10 ** 9), 2 ** 63]))),
        ("St", ew.systemtime(2026, rng.randrange(1, 13), rng.randrange(1, 29), rng.randrange(24),
                             rng.randrange(60), rng.randrange(60), rng.randrange(1000),
                             rng.randrange(7))),
        ("Sid", ew.sid(rng.choice(["S-1-5-18", ALICE, "S-1-0-0", "S-1-5-32-544"]))),
        ("Hex32", ew.hex32(rng.randrange(2 ** 32))), ("Hex64", ew.hex64(rng.randrange(2 ** 64))),
        ("Ansi", ew.ansi(rng.choice([b"abc", b"caf\xe9", b"nul\0cut", b""]))),
        ("Text", rng.choice(TEXTS)),
        ("Strings", ew.array(ew.STRING, rng.choice([["a", "b"], ["", "x", ""], ["\n"], []]))),
        ("Numbers", ew.array(ew.UINT16, rng.choice([[1, 2, 3], [], [65535]]))),
        ("Hexes", ew.array(ew.HEX64, [rng.randrange(2 ** 64) for _ in range(rng.randrange(3))])),
        ("Ansis", ew.array(ew.ANSI, [b"one", b"two"])),
        ("Maybe", ew.optional(rng.choice([ew.absent(ew.STRING), ew.string("here")]))),
    ])


def _user_payload(rng: random.Random) -> Elem:
    inner = [Elem("Param", [("Kind", rng.choice(["a", "b"]))], [ew.string(rng.choice(TEXTS))]),
             Elem("Deep", children=[Elem("Leaf", [("n", ew.u32(rng.randrange(9)))]),
                                    Elem("Other", children=[ew.u16(rng.randrange(9))])]),
             Elem("auto-ns2:Prefixed", children=["text"])]
    wrapper = Elem("EventXML", [("xmlns:auto-ns2", NS2), ("xmlns", "Event_NS")], inner)
    return Elem("UserData", children=[wrapper])


def _other_payloads(rng: random.Random) -> Elem:
    return rng.choice([
        Elem("EventData", children=[Elem("Data", [], [ew.string(rng.choice(TEXTS))]),
                                    Elem("Data", [], ["static"]),
                                    Elem("Binary", [], [ew.binary(rng.randbytes(5))])]),
        Elem("EventData", children=[Elem("Data", [("Name", "Same")], [ew.string("one")]),
                                    Elem("Data", [("Name", "Same")], [ew.string("two")]),
                                    Elem("Extra", [], [ew.u32(5)])]),
        Elem("EventData", children=[Elem("Data", [("Name", "Mixed")],
                                         ["pre ", ew.string("\r"), ew.string("\n"), " post"])]),
        Elem("BinaryEventData", children=[ew.binary(rng.randbytes(6))]),
        Elem("EventData"),
    ])


def varied_records(count: int, seed: int = 20261123) -> list[EvtxRecord]:
    """Catalogued and other events, nested and inline payloads, UserData, every value type."""
    rng = random.Random(seed)
    records: list[EvtxRecord] = []
    time = T0
    for i in range(count):
        time += rng.randrange(1, 10 ** 8)
        kind = rng.random()
        if kind < 0.25:
            rec = base._logon_4624()
        elif kind < 0.35:
            rec = base._failed_4625()
        elif kind < 0.45:
            rec = EvtxRecord(7036, "Service Control Manager", "System", time, qualifiers=16384,
                             event_source_name="Service Control Manager",
                             payload=event_data({"param1": f"Service {i % 17}",
                                                 "param2": rng.choice(["running", "stopped"])}))
        elif kind < 0.55:
            rec = EvtxRecord(1, "Microsoft-Windows-Sysmon", "Microsoft-Windows-Sysmon/Operational",
                             time, inline_payload=True, user_sid="S-1-5-18",
                             payload=event_data({"RuleName": "-", "ProcessId": ew.u32(i),
                                                 "Image": "C:\\Tools\\x.exe", "CommandLine":
                                                 rng.choice(TEXTS), "User": "CORP\\alice",
                                                 "ParentImage": "C:\\Windows\\cmd.exe"}))
        elif kind < 0.65:
            rec = EvtxRecord(9001, "Typed-Provider", "Typed/Operational", time,
                             payload=_typed_payload(rng), inline_payload=rng.random() < 0.5)
        elif kind < 0.75:
            rec = EvtxRecord(21, base.LSM, base.LSM + "/Operational", time,
                             payload=_user_payload(rng), user_sid=rng.choice([None, ALICE]))
        elif kind < 0.82:
            rec = EvtxRecord(9002, "Other-Provider", rng.choice(["Application", ""]), time,
                             payload=_other_payloads(rng), level=rng.randrange(6))
        elif kind < 0.85:
            script = "Write-Host 'x'\n" + "A" * rng.randrange(6000) + "\u00e9"
            rec = EvtxRecord(4104, "Microsoft-Windows-PowerShell",
                             "Microsoft-Windows-PowerShell/Operational", time, level=5,
                             user_sid=ALICE, payload=event_data({
                                 "MessageNumber": ew.u32(1), "MessageTotal": ew.u32(1),
                                 "ScriptBlockText": script, "ScriptBlockId": f"id-{i}",
                                 "Path": ""}))
        elif kind < 0.88:
            rec = EvtxRecord(2003, "Microsoft-Windows-DriverFrameworks-UserMode",
                             "Microsoft-Windows-DriverFrameworks-UserMode/Operational", time,
                             payload=ew.user_data("UMDFHostDeviceArrivalBegin",
                                                  "http://x.invalid/umdf", {"Status": ew.u32(i)},
                                                  {"instance": f"WPDBUSENUMROOT\\UMB\\{i}",
                                                   "lifetime": ew.guid(
                                                       "{0e7b2e5c-4b6d-4cf0-9b6c-7e1d2a3b4c5d}")}))
        else:
            rec = EvtxRecord(104, "Microsoft-Windows-Eventlog", "System", time,
                             payload=ew.user_data("LogFileCleared", base.EVENTLOG_NS,
                                                  {"SubjectUserName": rng.choice(TEXTS[:4]),
                                                   "Channel": "Security"}),
                             computer=rng.choice(["WKS-01", "SRV\u00e9"]))
        rec.time = None if rng.random() < 0.03 else time
        rec.written = time + rng.choice([0, 0, 0, 10_000_000])
        rec.record_id = None
        records.append(rec)
    return records


@pytest.fixture(scope="module")
def varied_log(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("evtx_fast") / "varied.evtx"
    path.write_bytes(build_evtx(varied_records(2400)))
    return path


def test_varied_log_identical_and_read_fast(varied_log):
    assert (varied_log.stat().st_size - 4096) // 65536 >= 10
    assert same(varied_log) == []  # no chunk left to libevtx


def test_varied_log_templates_cached_across_chunks(varied_log):
    evtx_fast._KNOWN.clear()
    with open(varied_log, "rb") as handle:
        reader = evtx_fast.FileReader(handle, varied_log.stat().st_size, handle.read(4096))
        records = [r for chunk in reader.chunks() for r in chunk.records or ()]
    assert len(records) == 2400
    templates = {id(r.plan.template) for r in records}
    assert len(templates) < 40  # one parse per template, not one per chunk


# --- values printed exactly as libevtx prints them ----------------------------------------------


def _fields(tmp_path: Path, payload: Elem, inline: bool = False) -> dict[str, Any]:
    path = _file(tmp_path, build_evtx([EvtxRecord(9001, "Typed-Provider", "Typed", T0,
                                                  payload=payload, inline_payload=inline)]))
    assert same(path) == []
    ctx = ExtractionContext(options={"evtx_all": True})
    (event,) = EvtxExtractor().extract(LocalFile(str(path)), ctx)
    return event.data


@pytest.mark.parametrize("value, text", [
    (ew.i8(-5), "-123"), (ew.i8(-128), "-128"), (ew.i8(-1), "-127"), (ew.i8(7), "7"),
    (ew.u8(200), "200"),
    (ew.i16(-300), "-32468"), (ew.i16(-32768), "-32768"), (ew.u16(65535), "65535"),
    (ew.i32(-5), "-2147483643"), (ew.i64(-2 ** 63), "-9223372036854775808"),
    (ew.u32(4_000_000_000), "4000000000"), (ew.i64(-5), "-9223372036854775803"),
    (ew.u64(2 ** 64 - 1), "18446744073709551615"),
    (ew.real32(1.5), "1.500000e+000"), (ew.real32(-2.25e-5), "-2.250000e-005"),
    (ew.real64(0.3), "3.000000e-001"), (ew.real64(2.5e300), "2.500000e+300"),
    (ew.real64(123456789.123), "1.234568e+008"),
    (ew.real64(0.0), "0.000000e+000"), (ew.real64(-0.0), "-0.000000e+000"),
    (ew.boolean(False), "false"), (ew.raw(ew.BOOL, struct.pack("<I", 2)), "true"),
    (ew.binary(b"\x00\xab\xcd"), "00ABCD"), (ew.binary(b""), ""),
    (ew.guid("{01234567-89ab-cdef-0123-456789abcdef}"), "{01234567-89AB-CDEF-0123-456789ABCDEF}"),
    (ew.size_t(123, 4), "0x00000000"), (ew.size_t(2 ** 40, 8), "0x0000000000000000"),
    (ew.filetime_value(0), "1601-01-01T00:00:00.000000000Z"),
    (ew.filetime_value(T0), "2026-03-02T01:02:03.123456700Z"),
    (ew.filetime_value(2650467743999999999), "9999-12-31T23:59:59.999999900Z"),
    (ew.filetime_value(2 ** 63 - 1), "(0x7fffffff 0xffffffff)"),
    (ew.systemtime(2026, 3, 2, 1, 2, 3, 456), "2026-03-02T01:02:03.456000000Z"),
    (ew.sid("S-1-5-21-1-2-3-1001"), "S-1-5-21-1-2-3-1001"),
    (ew.raw(ew.SID, bytes([1, 1, 1, 2, 3, 4, 5, 6, 7, 0, 0, 0])), "S-1-1108152157446-7"),
    (ew.hex32(0xABC), "0x00000abc"), (ew.hex64(0xABC), "0x0000000000000abc"),
    (ew.ansi(b"caf\xe9"), "caf\u00e9"), (ew.ansi(b"abc\0def"), "abc"),
    (ew.string("ab\0cd"), "ab"), (ew.string("a&b<c>\"'"), "a&b<c>\"'"),
    (ew.string("x\r\ny\rz"), "x\ny\nz"), (ew.string("a\x01b\ufffec"), "abc"),
    (ew.string("\n"), ""), (ew.string("\n\n"), "\n\n"), (ew.string("  "), "  "),
    (ew.string("\U0001F600"), "\U0001F600"), (ew.string(""), ""),
])
def test_value_printed_as_libevtx(tmp_path, value, text):
    for inline in (False, True):
        assert _fields(tmp_path, event_data([("V", value)]), inline)["V"] == text


@pytest.mark.parametrize("value, texts", [
    (ew.array(ew.STRING, ["ab", "cd"]), ["ab", "cd"]),
    (ew.raw(ew.STRING | ew.ARRAY, "ab\0\0cd\0".encode("utf-16-le")), ["ab", "", "cd"]),
    (ew.raw(ew.STRING | ew.ARRAY, "ab\0cd".encode("utf-16-le")), ["ab", "cd"]),
    (ew.raw(ew.STRING | ew.ARRAY, "\0".encode("utf-16-le")), ""),
    (ew.array(ew.UINT16, [1, 2, 3]), ["1", "2", "3"]),
    (ew.array(ew.UINT16, []), ""),
    (ew.array(ew.HEX64, [1, 2]), ["0x0000000000000001", "0x0000000000000002"]),
    (ew.array(ew.GUID, ["{00000000-0000-0000-0000-000000000001}"]),
     "{00000000-0000-0000-0000-000000000001}"),
    (ew.array(ew.FILETIME, [0, T0]), ["1601-01-01T00:00:00.000000000Z",
                                      "2026-03-02T01:02:03.123456700Z"]),
    (ew.array(ew.ANSI, [b"one", b"two"]), ["one", "two"]),
])
def test_array_one_element_per_item(tmp_path, value, texts):
    assert _fields(tmp_path, event_data([("A", value)]))["A"] == texts


def test_optional_null_drops_element_and_attribute(tmp_path):
    data = _fields(tmp_path, event_data([("Kept", "x"), ("Gone", ew.optional(ew.absent(ew.STRING))),
                                         ("Also", ew.optional(ew.string("y")))]))
    assert data["Kept"] == "x" and data["Also"] == "y" and "Gone" not in data
    payload = Elem("UserData", children=[Elem("W", [("a", ew.optional(ew.absent(ew.UINT32))),
                                                    ("b", ew.u32(2))], [Elem("k", [], ["v"])])])
    data = _fields(tmp_path, payload)
    assert data["b"] == "2" and "a" not in data and data["k"] == "v"


def test_system_values_and_provider_names(tmp_path):
    records = [EvtxRecord(7036, "Service Control Manager", "System", T0, qualifiers=16384,
                          event_source_name="SCM Source", user_sid=ALICE, level=2,
                          computer="HOST\u00e9", payload=event_data({"param1": "x"})),
               EvtxRecord(7036, "Service Control Manager", "", T0, computer="",
                          payload=event_data({"param1": "y"}))]
    path = _file(tmp_path, build_evtx(records))
    assert same(path) == []
    ctx = ExtractionContext(options={"evtx_all": True})
    first, second = EvtxExtractor().extract(LocalFile(str(path)), ctx)
    assert (first.data["provider"], first.data["level"], first.data["computer"],
            first.data["user_sid"]) == ("SCM Source", 2, "HOST\u00e9", ALICE)
    assert second.data["channel"] is None and second.data["computer"] is None


def test_compiled_templates_render_as_defined():
    """render() splits each catalogue template once; the result is _render_slowly's."""
    rng = random.Random(7)
    choices = [None, "", "-", " ", "x", "a {b} [c]", "  two  spaces ", 5, 0, ["a", "-"], [],
               ["", "-"], "\u200eltr\u202e", "tab\tnew\nline"]
    templates = [e.message for e in evtx_module.evtx_catalog.CATALOG] + \
        [e.timestamp_desc for e in evtx_module.evtx_catalog.CATALOG] + \
        ["{a}[ {b}][{c} and {a}] x", "[plain]{a}", "{a[b]c}", "a {b [c]", "{ {a} }", "[]{1}{2}"]
    for template in templates:
        names = set(evtx_module._PLACEHOLDER.findall(template)) | {"a", "b", "c", "1", "2"}
        for _ in range(12):
            values = {name: rng.choice(choices) for name in names if rng.random() < 0.8}
            assert evtx_module.render(template, values) == \
                evtx_module._render_slowly(template, values), (template, values)


# --- damaged or unusual chunks: libevtx reads them ----------------------------------------------


def _services(count: int) -> list[EvtxRecord]:
    return [EvtxRecord(7045, "Service Control Manager", "System", T0 + i,
                       payload=event_data({"ServiceName": f"svc{i}", "ImagePath": "x.exe"}))
            for i in range(count)]


def _fix_crcs(data: bytearray, chunk: int) -> bytearray:
    at = 4096 + chunk * 65536
    free = struct.unpack_from("<I", data, at + 48)[0]
    struct.pack_into("<I", data, at + 52, zlib.crc32(bytes(data[at + 512:at + free])))
    struct.pack_into("<I", data, at + 124, zlib.crc32(bytes(data[at:at + 120] +
                                                            data[at + 128:at + 512])))
    return data


def _chunks_to_libevtx(notes: list[str]) -> str:
    assert len(notes) == 1, notes
    return notes[0].split(" EVTX chunks")[0]


def test_bad_crc_chunk_read_through_libevtx(tmp_path):
    data = bytearray(build_evtx(_services(6), records_per_chunk=3))
    at = data.index("svc1".encode("utf-16-le"))
    data[at] = ord("S")  # edited after Windows wrote it: the chunk's CRC32 fails
    path = _file(tmp_path, bytes(data))
    assert _chunks_to_libevtx(same(path)) == "1 of 2"
    events, _ = _run(path, True, True)
    assert [dict(e[4])["ServiceName"] for e in events] == ["svc0", "Svc1", "svc2", "svc3",
                                                             "svc4", "svc5"]


def test_truncated_record_identical(tmp_path):
    data = bytearray(build_evtx(_services(6)))
    records = [m for m in range(4096 + 512, 4096 + 65536, 8) if data[m:m + 4] == b"**\0\0"]
    third = records[2]
    struct.pack_into("<I", data, third + 4, 0x40)  # its size no longer matches its copy
    path = _file(tmp_path, bytes(data))
    assert _chunks_to_libevtx(same(path)) == "1 of 1"  # the CRC32 fails as well
    fixed = _file(tmp_path, bytes(_fix_crcs(data, 0)), "fixed.evtx")
    same(fixed)  # CRC32s fixed: records before it fast, the rest libevtx's (recovered)
    events, _ = _run(fixed, True, True)
    assert [(dict(e[4])["ServiceName"], dict(e[4])["recovered"]) for e in events][:3] == [
        ("svc0", False), ("svc1", False), ("svc3", True)]


def test_unknown_token_read_through_libevtx(tmp_path):
    payload = Elem("EventData", children=[Elem("Data", [("Name", "Amp")],
                                               ["x", ew.EntityRef("amp"), "y"])])
    records = [EvtxRecord(9001, "Typed-Provider", "Typed", T0, payload=payload)] + _services(3)
    path = _file(tmp_path, build_evtx(records, records_per_chunk=1))
    assert _chunks_to_libevtx(same(path)) == "1 of 4"
    events, _ = _run(path, True, True)
    assert dict(events[0][4])["Amp"] == "x&y"


def test_corrupted_template_read_through_libevtx(tmp_path):
    data = bytearray(build_evtx(_services(4), records_per_chunk=2))
    second = 4096 + 65536
    name = data.index("ServiceName".encode("utf-16-le"), second)
    struct.pack_into("<H", data, name - 2, 0)  # a name of no characters: libfwevt refuses it
    path = _file(tmp_path, bytes(_fix_crcs(data, 1)))
    assert _chunks_to_libevtx(same(path)) == "1 of 2"
    _, ctx = _run(path, True, True)
    assert any("unreadable EVTX records" in w for w in ctx.warnings)


def test_name_without_its_nul_read_through_libevtx(tmp_path):
    data = bytearray(base.system_log())
    name = "BackupPath".encode("utf-16-le")  # a UserData element's name
    at = data.index(name) + len(name)
    data[at:at + 2] = b"\x00\xa9"  # libfwevt reads the character after a name as part of it
    path = _file(tmp_path, bytes(_fix_crcs(data, 0)))
    assert _chunks_to_libevtx(same(path)) == "1 of 1"
    events, _ = _run(path, False, True)
    data = dict(events[-1][4])
    assert data["event_id"] == 104 and "BackupPath" not in data


@pytest.mark.parametrize("payload", [
    Elem("UserData", children=[Elem("W", [("q", ew.string('say "hi"'))], [Elem("k", [], ["v"])])]),
    Elem("UserData", children=[Elem("W", [("e", ew.string(""))], [Elem("k", [], ["v"])])]),
    event_data([("V", ew.raw(ew.SID, bytes([1, 2, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0])))]),
    event_data([("V", ew.raw(ew.STRING, b"a\x00\x00\xd8b\x00"))]),  # a lone surrogate
    event_data([("V", ew.real64(1234567.5))]),  # a rounding tie libfvalue gets its own way
    event_data([("V", ew.real64(1e-300))]),  # libfvalue prints ":.000000e-301"
    event_data([("V", ew.raw(ew.STRING, b"abc"))]),  # odd UTF-16 size: libevtx fails the record
    event_data([("V", ew.systemtime(2026, 2, 30))]),
    event_data([("V", ew.absent(ew.STRING))]),  # NULL in a normal substitution
])
def test_what_libevtx_prints_its_own_way(tmp_path, payload):
    """Values and shapes libevtx writes unreadably or oddly: left to it, same events."""
    records = [EvtxRecord(9001, "Typed-Provider", "Typed", T0, payload=payload)] + _services(2)
    path = _file(tmp_path, build_evtx(records, records_per_chunk=1))
    assert _chunks_to_libevtx(same(path)) == "1 of 3"


def test_mutated_then_checksummed_files_identical(tmp_path):
    """Random byte changes inside records, CRC32s recomputed so the fast reader reads them:
    it gives libevtx's events or leaves the chunk to libevtx."""
    rng = random.Random(20261123)
    bases = [base.security_log(), base.system_log(), base.partition_log(),
             build_evtx(varied_records(40, seed=5))]
    for number in range(60):
        data = bytearray(rng.choice(bases))
        for _ in range(rng.randint(1, 5)):
            data[rng.randrange(4096 + 512, len(data))] = rng.randrange(256)
        for chunk in range((len(data) - 4096) // 65536):
            _fix_crcs(data, chunk)
        same(_file(tmp_path, bytes(data), f"m{number}.evtx"))


def test_bad_input_same_errors(tmp_path):
    for data in (b"ElfFile\x00" + bytes(200), base.security_log()[:3000],
                 base.security_log()[:4096 + 30000]):
        same(_file(tmp_path, data))


# --- a record that ends at its chunk's last byte ---------------------------------------------------


def _padded_4625(pad: int) -> EvtxRecord:
    """A failed logon whose workstation name is `pad` characters: a record of chosen size."""
    return EvtxRecord(4625, SECURITY, "Security", T0, computer="WKS-01.corp.example", level=0,
                      provider_guid=base.SECURITY_GUID, keywords=0x8010000000000000,
                      payload=event_data([
                          ("TargetUserSid", ew.sid("S-1-0-0")), ("TargetUserName", "administrator"),
                          ("LogonType", ew.u32(3)), ("WorkstationName", "K" * pad),
                          ("IpAddress", "198.51.100.23")]))


def _first_chunk_free(data: bytes) -> int:
    return struct.unpack_from("<I", data, 4096 + 48)[0]


def chunk_end_log() -> tuple[bytes, int]:
    """A log whose first chunk ends with a record filling it to the last byte, then one more
    record in a second chunk; returns the file and the chunk-end record's number."""
    fillers = []
    while True:
        fillers.append(_padded_4625(8))
        data = build_evtx(fillers)
        if _first_chunk_free(data) > 65536 - 2000:
            break
    free = _first_chunk_free(data)
    for pad in range(0, 1200):
        data = build_evtx(fillers + [_padded_4625(pad)])
        if _first_chunk_free(data) == 65536:  # the padded record ends at the chunk's end
            return build_evtx(fillers + [_padded_4625(pad), _padded_4625(8)]), len(fillers) + 1
        if _first_chunk_free(data) == free:  # the record moved to the next chunk: too big
            break
    raise AssertionError("no padding fills the chunk exactly")


def test_record_at_the_chunk_end_is_read_and_marked(tmp_path) -> None:
    data, number = chunk_end_log()
    path = _file(tmp_path, data)
    fast, fast_ctx = _run(path, True, False)
    slow, slow_ctx = _run(path, False, False)
    assert len(fast) == len(slow) + 1 == number + 1  # libevtx loses the chunk-end record
    extra = [e for e in fast if dict(e[4]).get("chunk_end_record")]
    assert len(extra) == 1 and dict(extra[0][4])["record_number"] == number
    assert dict(extra[0][4])["TargetUserName"] == "administrator"
    assert [e for e in fast if e not in extra] == slow  # everything else as libevtx gives it
    assert any(f"record {number} ends at the last byte of chunk 0" in n for n in fast_ctx.notes)
    assert not fast_ctx.warnings


def test_record_at_the_chunk_end_of_a_libevtx_chunk_is_reported(tmp_path) -> None:
    data, number = chunk_end_log()
    broken = bytearray(data)
    struct.pack_into("<I", broken, 4096 + 52, struct.unpack_from("<I", broken, 4096 + 52)[0] ^ 1)
    path = _file(tmp_path, bytes(broken))  # records CRC32 wrong: the chunk goes to libevtx
    fast, ctx = _run(path, True, False)
    assert not any(dict(e[4]).get("chunk_end_record") for e in fast)
    assert any(f"record {number} ends at the last byte of chunk 0, which is read through "
               "libevtx" in w for w in ctx.warnings)
