"""Bad rows go to rejects with row, field and reason; bad files raise naming the file."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from tests.ingest.conftest import ROWS, TODAY, VN_HEADER, write_delimited
from vaxtrust.engine import Engine
from vaxtrust.errors import ConfigError, InputError
from vaxtrust.ingest.load import ingest
from vaxtrust.ingest.mapping import load_mapping, parse_mapping_options


def _cp1258(text: str) -> bytes:
    """Text as a legacy Windows-1258 file holds it (combining tone marks)."""
    return unicodedata.normalize("NFC", text).encode("cp1258", errors="replace")


def _rejects(engine: Engine) -> set[tuple[object, ...]]:
    return {(r["row_number"], r["record_id"], r["field"], r["reason"])
            for r in engine.to_arrow("rejects").to_pylist()}


def _row(record_id: str, **changes: str) -> list[str]:
    row = dict(zip(VN_HEADER, ROWS[0], strict=True))
    row["Mã bản ghi"] = record_id
    row.update({VN_HEADER[int(k[1:])]: v for k, v in changes.items()})
    return list(row.values())


def test_every_row_level_reject_kind(engine: Engine, tmp_path: Path) -> None:
    rows = [
        _row("R1"),
        _row(""),                                   # 2: no record_id
        _row("R3", c1=""),                          # 3: empty name
        _row("R4", c6="11"),                        # 4: dose number out of range
        _row("R5", c6="hai"),                       # 5: dose number not a number
        _row("R6", c2="01/01/1850"),                # 6: absurd birth date: kept, dob unknown
        _row("R7", c8="01/01/2030"),                # 7: dose date after today
        _row("R1", c6="2"),                         # 8: same record_id, different content
        _row("R9")[:5],                             # 9: too few columns
        _row("R10") + ["x"],                        # 10: too many columns
        _row("R1"),                                 # 11: exact duplicate of row 1
    ]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {
        (2, None, "record_id", "missing_record_id"),
        (3, "R3", "full_name", "missing_value"),
        (4, "R4", "dose_number", "dose_number_out_of_range"),
        (5, "R5", "dose_number", "dose_number_not_a_number"),
        (7, "R7", "vaccinated_on", "date_out_of_range"),
        (8, "R1", "record_id", "duplicate_record_id"),
        (9, None, "phone", "too_few_columns"),  # the first column missing
        (10, None, None, "too_many_columns"),
    }
    assert (count.rows_in, count.accepted, count.rejected, count.duplicates_collapsed) == (
        11, 3, 8, 1)
    assert count.rows_in == count.accepted + count.rejected
    accepted = sorted(engine.to_arrow("raw_records").to_pylist(), key=lambda r: r["row_number"])
    assert [r["record_id"] for r in accepted] == ["R1", "R6"]
    rejected = {r["record_id"]: r["reasons"] for r in
                engine.to_arrow("rejected_records").to_pylist()}
    assert rejected["R4"] == ["dose_number_out_of_range"]
    assert "R1" not in rejected  # its first row was accepted


def test_row_numbers_stay_true_after_skipped_rows(engine: Engine, tmp_path: Path) -> None:
    rows = [_row("R1"), _row("R2")[:3], _row("R3"), _row("R4")[:2], _row("R5")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    ingest(engine, "records", [path], today=TODAY)
    numbers = {r["record_id"]: r["row_number"] for r in engine.to_arrow("raw_records").to_pylist()}
    assert numbers == {"R1": 1, "R3": 3, "R5": 5}


def test_same_file_twice_and_a_copy_duplicate_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "doses.csv", ROWS)
    copy = write_delimited(tmp_path / "copy.csv", ROWS)
    counts = ingest(engine, "records", [path, path, copy], today=TODAY)
    assert len(counts) == 2
    assert engine.count("raw_records") == 2
    assert engine.count("rejects") == 0
    assert counts[1].duplicates_collapsed == 2 and counts[1].accepted == 2


def test_register_rejects_use_person_id(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    path.write_text("person_id,full_name,dob\n001090000001,Nguyễn Văn An,1990-02-01\n"
                    ",Không Số,1990-01-01\n001090000001,Người Khác,1991-01-01\n",
                    encoding="utf-8")
    [count] = ingest(engine, "register", [path], today=TODAY)
    assert _rejects(engine) == {(2, None, "person_id", "missing_person_id"),
                                (3, "001090000001", "person_id", "duplicate_person_id")}
    assert (count.rows_in, count.accepted, count.rejected) == (3, 1, 2)


@pytest.mark.parametrize(("content", "message"), [
    (b"", "file is empty"),
    (b"\xef\xbb\xbf\r\n", "file is empty"),
    ("Mã bản ghi,Họ và tên\n".encode(), "missing column(s) dob, dose_number, vaccinated_on"),
    (b"a,b,c\n1,2,3\n", "no recognisable header"),
    ("Mã bản ghi,Họ và tên,Ngày sinh,Mũi tiêm,Ngày tiêm\n".encode(), "no data rows"),
    (_cp1258("Họ và tên,Ngày sinh\nNguyễn Văn An,1990\n"), "is not UTF-8"),
])
def test_file_level_problems_name_the_file(engine: Engine, tmp_path: Path, content: bytes,
                                           message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="file .*bad.csv") as info:
        ingest(engine, "records", [path], today=TODAY)
    assert message in str(info.value)


def test_legacy_encoding_error_names_the_row(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_bytes(b"record_id,full_name,dob,dose_number,vaccinated_on\n"
                     b"R1,Nguyen,1990,1,2021-09-01\nR2," + _cp1258("Đức") + b",1990,1,x\n")
    with pytest.raises(InputError, match="row 2") as info:
        ingest(engine, "records", [path], today=TODAY)
    assert "Windows-1258" in str(info.value)


def test_missing_file(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        ingest(engine, "records", [tmp_path / "nope.csv"], today=TODAY)


def test_mapping_toml_and_options(engine: Engine, tmp_path: Path) -> None:
    toml = tmp_path / "mapping.toml"
    toml.write_text('[records]\n"Mã định danh mũi tiêm" = "record_id"\n"Tên" = "full_name"\n',
                    encoding="utf-8")
    mapping = load_mapping(toml)
    header = ["Mã định danh mũi tiêm", "Tên", "Ngày sinh", "Giới tính", "Số CCCD/CMND",
              "Số điện thoại", "Mũi tiêm", "Loại vắc xin", "Ngày tiêm", "Cơ sở tiêm"]
    path = write_delimited(tmp_path / "doses.csv", ROWS, header=header)
    ingest(engine, "records", [path], mapping=mapping.records, today=TODAY)
    assert engine.count("raw_records") == 2
    assert parse_mapping_options(["Tên đầy đủ=full_name"]) == {"Tên đầy đủ": "full_name"}


@pytest.mark.parametrize("text", ['[records]\n"A" = "no_such_column"\n', "[other]\n",
                                  "not toml ["])
def test_bad_mapping_files_are_config_errors(tmp_path: Path, text: str) -> None:
    toml = tmp_path / "mapping.toml"
    toml.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping.toml"):
        load_mapping(toml)


def test_overlong_values_are_rejected(engine: Engine, tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "doses.csv", [_row("R1", c9="F" * 300)])
    ingest(engine, "records", [path], today=TODAY)
    [reject] = engine.to_arrow("rejects").to_pylist()
    assert (reject["field"], reject["reason"]) == ("facility_id", "value_too_long")
    assert len(reject["value"]) == 256


def test_blank_lines_keep_row_numbers_true(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "doses.csv"
    lines = [",".join(VN_HEADER), ",".join(_row("R1")), "", ",".join(_row("R3")), "",
             ",".join(_row("R5")[:4]), ",".join(_row("R6")), "", ""]
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    ingest(engine, "records", [path], today=TODAY)
    numbers = {r["record_id"]: r["row_number"] for r in engine.to_arrow("raw_records").to_pylist()}
    assert numbers == {"R1": 1, "R3": 3, "R6": 6}
    assert [r["row_number"] for r in engine.to_arrow("rejects").to_pylist()] == [5]


def test_xlsx_rows_wider_than_the_header_are_rejected(engine: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(VN_HEADER)
    sheet.append(_row("R1"))
    sheet.append(_row("R2") + ["stray"])
    path = tmp_path / "doses.xlsx"
    workbook.save(path)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(2, None, None, "too_many_columns")}
    assert (count.rows_in, count.accepted, count.rejected) == (2, 1, 1)


def test_old_excel_files_are_refused_with_advice(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "doses.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(InputError, match="xls.*CSV UTF-8"):
        ingest(engine, "records", [path], today=TODAY)


def test_utf16_without_byte_order_mark(engine: Engine, tmp_path: Path) -> None:
    path = write_delimited(tmp_path / "doses.txt", ROWS, encoding="utf-16-le", delimiter="\t")
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.encoding == "utf-16" and count.accepted == 2


def test_one_undecodable_row_among_many_is_a_row_reject(engine: Engine, tmp_path: Path) -> None:
    rows = [",".join(_row(f"R{n}")).encode() for n in range(1, 101)]
    rows[41] = rows[41].replace("Nguyễn".encode(), _cp1258("Đức"))
    path = tmp_path / "doses.csv"
    path.write_bytes(b"\n".join([",".join(VN_HEADER).encode(), *rows]) + b"\n")
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(42, None, "full_name", "invalid_encoding")}
    assert (count.rows_in, count.accepted, count.rejected) == (100, 99, 1)


def test_utf16_rejects_keep_row_numbers(engine: Engine, tmp_path: Path) -> None:
    rows = [_row("R1"), _row("R2")[:3], _row("R3")]
    path = write_delimited(tmp_path / "doses.txt", rows, encoding="utf-16", delimiter="\t")
    ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(2, None, "gender", "too_few_columns")}
    numbers = {r["record_id"]: r["row_number"] for r in engine.to_arrow("raw_records").to_pylist()}
    assert numbers == {"R1": 1, "R3": 3}


@pytest.mark.parametrize(("dose_date", "rejected"), [
    ("2030-01-01", True),          # ISO, after today
    ("01.01.2030", True),          # day first, after today
    ("2030", True),                # a bare year after today
    ("12/2030", False),            # month and year only: left to the standardiser
    ("20300101", False),           # read day first (the year-first year is out of range),
    #                                as the standardiser does: no calendar date, not judged
    ("01/01/30", False),           # two-digit year: left to the standardiser
    ("31/02/2021", False),         # no such day: the standardiser's job, not a reject
    ("44197", False),              # an Excel serial day (2021-01-01)
])
def test_dates_are_judged_as_the_standardiser_reads_them(
    engine: Engine, tmp_path: Path, dose_date: str, rejected: bool,
) -> None:
    path = write_delimited(tmp_path / "doses.csv", [_row("R1", c8=dose_date)])
    ingest(engine, "records", [path], today=TODAY)
    assert bool(_rejects(engine)) is rejected
