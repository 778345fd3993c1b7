"""The ESE database writer used to build SRUM and WebCache test databases, read back by
libesedb (pyesedb): every column type, NULLs, multi-page trees, page sizes, header fields."""
from __future__ import annotations

import datetime as dt
import io
import struct
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `fixtures` is not an installed package
    sys.path.insert(0, str(ROOT))

pyesedb = pytest.importorskip("pyesedb")

from fixtures.builders.ese_writer import (  # noqa: E402
    PAGE_CATALOG,
    SIGNATURE,
    Column,
    ColumnType,
    EseWriter,
    build_database,
    encode_record,
    ole_date,
    sid_bytes,
)

UTC = dt.timezone.utc
WHEN = dt.datetime(2026, 3, 2, 1, 2, 3, tzinfo=UTC)
GUID = uuid.UUID("973F5D5C-1D90-4944-BE8E-24B94231A174")

ALL_TYPES = [
    Column("Flag", ColumnType.BIT),
    Column("Byte", ColumnType.UNSIGNED_BYTE),
    Column("Short", ColumnType.SHORT),
    Column("Long", ColumnType.LONG),
    Column("Money", ColumnType.CURRENCY),
    Column("Single", ColumnType.IEEE_SINGLE),
    Column("Double", ColumnType.IEEE_DOUBLE),
    Column("When", ColumnType.DATE_TIME),
    Column("ULong", ColumnType.UNSIGNED_LONG),
    Column("LongLong", ColumnType.LONG_LONG),
    Column("Guid", ColumnType.GUID),
    Column("UShort", ColumnType.UNSIGNED_SHORT),
    Column("Name", ColumnType.TEXT, codepage=1200),
    Column("Ascii", ColumnType.TEXT, codepage=1252),
    Column("Blob", ColumnType.BINARY),
    Column("Url", ColumnType.LONG_TEXT, codepage=1200),
    Column("Data", ColumnType.LONG_BINARY),
]
FULL_ROW = {
    "Flag": True, "Byte": 200, "Short": -12345, "Long": -2_000_000_000, "Money": -(2 ** 62),
    "Single": 1.5, "Double": -2.25, "When": WHEN, "ULong": 4_000_000_000,
    "LongLong": 2_147_483_648, "Guid": GUID, "UShort": 65535, "Name": "顧客リスト.xlsx",
    "Ascii": "café", "Blob": b"\x00\x01\xff", "Url": "https://gigafile.nu/" + "x" * 600,
    "Data": bytes(range(256)) * 3,
}


def _open(data: bytes):
    db = pyesedb.file()
    db.open_file_object(io.BytesIO(data))
    return db


def _values(table, index: int) -> dict:
    record = table.get_record(index)
    return {table.get_column(i).name: record.get_value_data(i)
            for i in range(table.get_number_of_columns())}


def test_every_column_type_reads_back():
    data = build_database([("AllTypes", ALL_TYPES, [FULL_ROW])])
    db = _open(data)
    assert db.get_number_of_tables() == 1
    assert db.get_format_version() == (0x620 << 32) | 0x09  # version, revision
    assert db.get_page_size() == 4096
    table = db.get_table_by_name("AllTypes")
    # fixed-size columns come first (identifiers 1..), then variable (128..), then tagged (256..)
    assert [(c.name, c.type) for c in table.columns] == [
        ("Flag", 1), ("Byte", 2), ("Short", 3), ("Long", 4), ("Money", 5), ("Single", 6),
        ("Double", 7), ("When", 8), ("ULong", 14), ("LongLong", 15), ("Guid", 16),
        ("UShort", 17), ("Name", 10), ("Ascii", 10), ("Blob", 9), ("Url", 12), ("Data", 11)]
    assert table.get_number_of_records() == 1
    record = table.get_record(0)
    ints = {table.get_column(i).name: record.get_value_data_as_integer(i)
            for i in (1, 2, 3, 8, 9, 11)}
    assert ints == {"Byte": 200, "Short": -12345, "Long": -2_000_000_000, "ULong": 4_000_000_000,
                    "LongLong": 2_147_483_648, "UShort": 65535}
    assert record.get_value_data_as_boolean(0) is True
    assert record.get_value_data_as_floating_point(6) == -2.25
    raw = _values(table, 0)
    assert struct.unpack("<f", raw["Single"])[0] == 1.5  # pyesedb reads 32-bit floats as 0.0
    assert struct.unpack("<q", raw["Money"])[0] == -(2 ** 62)
    assert struct.unpack("<d", raw["When"])[0] == ole_date(WHEN)
    assert uuid.UUID(bytes_le=raw["Guid"]) == GUID
    assert record.get_value_data_as_string(12) == "顧客リスト.xlsx"
    assert record.get_value_data_as_string(13) == "café"
    assert raw["Blob"] == b"\x00\x01\xff"
    assert record.get_value_data_as_string(15) == FULL_ROW["Url"]
    assert raw["Data"] == FULL_ROW["Data"]


def test_ole_date():
    assert ole_date(dt.datetime(1899, 12, 30, tzinfo=UTC)) == 0.0
    assert ole_date(dt.datetime(1970, 1, 1, tzinfo=UTC)) == 25569.0
    assert ole_date(dt.datetime(2026, 3, 2, 12, tzinfo=UTC)) == 46083.5
    with pytest.raises(ValueError):
        ole_date(dt.datetime(2026, 3, 2))


def test_nulls_fixed_variable_and_tagged():
    rows = [
        {"Long": None, "LongLong": 7, "Name": None, "Ascii": "b", "Url": None, "Data": b"\x01"},
        {"Long": 5},  # every later column missing: last fixed = 4, no variable, no tagged
        {},
    ]
    table = _open(build_database([("T", ALL_TYPES, rows)])).get_table_by_name("T")
    first, second, third = (_values(table, i) for i in range(3))
    # a NULL fixed column before the last one present keeps its (zero) bytes and is marked in
    # the NULL bit array, which libesedb does not read: it shows the zeros
    assert first["Long"] == b"\0\0\0\0" and struct.unpack("<q", first["LongLong"])[0] == 7
    assert first["Name"] is None and first["Ascii"] == b"b"
    assert first["Url"] is None and first["Data"] == b"\x01"
    assert struct.unpack("<i", second["Long"])[0] == 5
    # columns 1-3 precede the last fixed column present (Long, 4): zeros; the rest is absent
    assert {k for k, v in second.items() if v is not None} == {"Flag", "Byte", "Short", "Long"}
    assert all(v is None for v in third.values())


def test_record_layout():
    columns = [Column("A", ColumnType.LONG, identifier=1),
               Column("B", ColumnType.SHORT, identifier=2),
               Column("V", ColumnType.TEXT, codepage=1252, identifier=128),
               Column("W", ColumnType.BINARY, identifier=129),
               Column("T1", ColumnType.LONG_TEXT, codepage=1252, identifier=256),
               Column("T2", ColumnType.LONG_BINARY, identifier=257)]
    record = encode_record(columns, {"A": None, "B": 7, "W": b"xy", "T1": "abc", "T2": b"Z"})
    assert record == bytes.fromhex(
        "02 81 0b00"  # last fixed 2, last variable 129, variable offsets at 11
        "00000000 0700 01"  # A (NULL: zeros), B, NULL bits: A
        "0080 0200"  # V NULL (end 0), W ends at 2
        "7879"  # W
        "0001 0800 0101 0b00"  # tagged: 256 at 8, 257 at 11
        "616263 5a")


def test_many_rows_make_a_multi_level_tree():
    columns = [Column("Id", ColumnType.LONG), Column("Text", ColumnType.LONG_TEXT, codepage=1200)]
    rows = [{"Id": i, "Text": f"row {i} " + "y" * (i % 40)} for i in range(20000)]
    data = build_database([("Big", columns, rows)])
    table = _open(data).get_table_by_name("Big")
    assert table.get_number_of_records() == 20000
    for index in (0, 1, 777, 19999):
        record = table.get_record(index)
        assert record.get_value_data_as_integer(0) == index
        assert record.get_value_data_as_string(1) == rows[index]["Text"]
    flags = _page_flags(data, 4096)
    assert flags.count(0x2) > 100  # leaf pages
    assert 0x4 in flags  # an intermediate parent level below the root
    assert 0x1 | 0x4 in flags  # a root parent page


def test_several_tables_and_empty_table():
    columns = [Column("Id", ColumnType.LONG)]
    db = _open(build_database([("A", columns, [{"Id": 1}]), ("Empty", columns, []),
                               ("C", columns, [{"Id": 3}, {"Id": 4}])]))
    assert [t.name for t in db.tables] == ["A", "Empty", "C"]
    assert [t.get_number_of_records() for t in db.tables] == [1, 0, 2]
    assert db.get_table_by_name("C").get_record(1).get_value_data_as_integer(0) == 4


def test_many_tables_spill_the_catalog_over_pages():
    columns = [Column(f"Column{i}", ColumnType.LONG) for i in range(20)]
    tables = [(f"Container_{n}", columns, [{"Column0": n}]) for n in range(40)]
    db = _open(build_database(tables))
    assert db.get_number_of_tables() == 40
    assert db.get_table_by_name("Container_39").get_record(0).get_value_data_as_integer(0) == 39


@pytest.mark.parametrize("page_size,revision", [(8192, 0x09), (4096, 0x0C), (4096, 0x14)])
def test_page_sizes_and_revisions(page_size, revision):
    columns = [Column("Id", ColumnType.LONG), Column("Text", ColumnType.LONG_TEXT, codepage=1200)]
    rows = [{"Id": i, "Text": "z" * 100} for i in range(300)]
    data = build_database([("T", columns, rows)], page_size=page_size, format_revision=revision)
    db = _open(data)
    assert db.get_page_size() == page_size
    assert db.get_format_version() == (0x620 << 32) | revision
    assert db.get_table_by_name("T").get_number_of_records() == 300
    assert len(data) % page_size == 0


def test_header_copy_checksums_and_state():
    writer = EseWriter(dirty=True)
    writer.add_table("T", [Column("Id", ColumnType.LONG)], [{"Id": 1}])
    data = writer.build()
    header, shadow = data[:4096], data[4096:8192]
    assert header == shadow
    assert struct.unpack_from("<II", header, 0)[1] == SIGNATURE
    assert struct.unpack_from("<I", header, 52)[0] == 2  # dirty shutdown
    assert struct.unpack_from("<I", header, 0)[0] == _xor(header, 4)
    for number, page in _pages(data, 4096):
        assert struct.unpack_from("<I", page, 0)[0] == _xor(page, 4)
        assert struct.unpack_from("<I", page, 4)[0] == number
    assert _open(data).get_table_by_name("T").get_number_of_records() == 1
    clean = build_database([("T", [Column("Id", ColumnType.LONG)], [{"Id": 1}])])
    assert struct.unpack_from("<I", clean, 52)[0] == 3
    assert _page_flags(clean, 4096)[PAGE_CATALOG - 1] == 0x3  # catalog: a root leaf


def test_bad_rows_are_refused():
    with pytest.raises(ValueError, match="does not fit"):
        build_database([("T", [Column("Data", ColumnType.LONG_BINARY)], [{"Data": b"x" * 5000}])])
    with pytest.raises(ValueError, match="unknown column"):
        build_database([("T", [Column("Id", ColumnType.LONG)], [{"Nope": 1}])])
    with pytest.raises(ValueError, match="duplicate"):
        build_database([("T", [Column("Id", ColumnType.LONG), Column("Id", ColumnType.SHORT)], [])])
    with pytest.raises(ValueError, match="255 bytes"):
        encode_record([Column("Blob", ColumnType.BINARY, identifier=128)], {"Blob": b"x" * 300})
    with pytest.raises(ValueError, match="page size"):
        EseWriter(page_size=32768)


def test_sid_bytes():
    assert sid_bytes("S-1-5-18") == b"\x01\x01\x00\x00\x00\x00\x00\x05\x12\x00\x00\x00"
    assert len(sid_bytes("S-1-5-21-1111111111-2222222222-3333333333-1001")) == 28


# ---------------------------------------------------------------- helpers


def _xor(page: bytes, start: int) -> int:
    value = SIGNATURE
    for (word,) in struct.iter_unpack("<I", page[start:]):
        value ^= word
    return value


def _pages(data: bytes, page_size: int):
    for number in range(1, len(data) // page_size - 1):
        page = data[(number + 1) * page_size:(number + 2) * page_size]
        if page[:4] != b"\0\0\0\0":
            yield number, page


def _page_flags(data: bytes, page_size: int) -> list[int]:
    """Flags of every page from page 1 on (0 for a page never written)."""
    flags = []
    for number in range(1, len(data) // page_size - 1):
        page = data[(number + 1) * page_size:(number + 2) * page_size]
        flags.append(struct.unpack_from("<I", page, 36)[0] if page[:4] != b"\0\0\0\0" else 0)
    return flags
