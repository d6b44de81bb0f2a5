"""Files that try to poison a run: broken quotes, control characters, zip bombs, huge cells."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from tests.ingest.conftest import ROWS, TODAY, VN_HEADER, write_delimited
from vaxtrust.console import RecordingConsole
from vaxtrust.engine import Engine
from vaxtrust.errors import InputError
from vaxtrust.ingest import readers
from vaxtrust.ingest.load import ingest
from vaxtrust.pipeline.standardise import run_standardise


def _row(record_id: str, name: str = "Nguyễn Văn An") -> list[str]:
    return [record_id, name, *ROWS[0][2:]]


def _rejects(engine: Engine) -> set[tuple[object, ...]]:
    return {(r["row_number"], r["record_id"], r["field"], r["reason"])
            for r in engine.to_arrow("rejects").to_pylist()}


def test_one_unterminated_quote_fails_the_file_loudly_naming_the_line(
        engine: Engine, tmp_path: Path) -> None:
    rows = [_row(f"R{n}") for n in range(1, 41)]
    rows.insert(20, _row("R99", '"Trần Thị Bình'))  # data row 21, line 22
    path = write_delimited(tmp_path / "doses.csv", rows)
    with pytest.raises(InputError) as info:
        ingest(engine, "records", [path], today=TODAY)
    message = str(info.value)
    assert f"file {path}" in message and "line 22" in message
    assert "never closed" in message


def test_quoted_ids_are_read_without_their_quotes(engine: Engine, tmp_path: Path) -> None:
    rows = [[f'"R{n}"', '"Nguyễn Văn ""An"""', *ROWS[0][2:]] for n in range(1, 41)]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert (count.rows_in, count.accepted, count.rejected) == (40, 40, 0)
    raw = engine.to_arrow("raw_records").to_pylist()
    assert {r["record_id"] for r in raw} == {f"R{n}" for n in range(1, 41)}
    assert raw[0]["full_name"] == 'Nguyễn Văn "An"'


def test_two_stray_quotes_cannot_merge_rows_silently(engine: Engine, tmp_path: Path) -> None:
    rows = [_row("R1"), _row("R2", '"Trần'), _row("R3", 'Bình"'), _row("R4")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    with pytest.raises(InputError, match=r"line 3: a quoted value .* runs over a line break"):
        ingest(engine, "records", [path], today=TODAY)


def test_a_broken_quote_in_one_line_rejects_only_that_row(engine: Engine, tmp_path: Path) -> None:
    rows = [_row("R1"), _row("R2", '"Trần" Thị'), _row("R3")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(2, None, "full_name", "unbalanced_quotes")}
    assert (count.rows_in, count.accepted, count.rejected) == (3, 2, 1)


def test_header_row_with_a_broken_quote_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "doses.csv"
    path.write_text('"Mã bản ghi"x,Họ và tên,Ngày sinh\nR1,a,1990\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 1, field header: the header row does not fit"):
        ingest(engine, "records", [path], today=TODAY)


@pytest.mark.parametrize("character", ["\x00", "\x1b", "\x7f", "\x85", "\u202e", "\u2028", "\t"])
def test_control_characters_reject_their_row_with_field_and_reason(
        engine: Engine, tmp_path: Path, character: str) -> None:
    rows = [_row("R1"), _row("R2", f"Trần{character}Bình"), _row("R3")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(2, "R2", "full_name", "control_character")}
    [reject] = engine.to_arrow("rejects").to_pylist()
    assert reject["value"] == "Trần\ufffdBình"  # shown, but never passed on
    assert (count.rows_in, count.accepted, count.rejected) == (3, 2, 1)


def test_every_faulty_cell_of_a_row_is_named_once(engine: Engine, tmp_path: Path) -> None:
    faulty = _row("R2")
    faulty[5] = "0912\x00345678"  # phone
    faulty[7] = "Pfizer\u202e"  # vaccine
    faulty[9] = "F" * 300  # facility: too long
    rows = [_row("R1"), faulty, _row("R3", "Lê\x1bVăn Cường")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(2, "R2", "phone", "control_character"),
                                (2, "R2", "vaccine", "control_character"),
                                (2, "R2", "facility_id", "value_too_long"),
                                (3, "R3", "full_name", "control_character")}
    assert (count.rows_in, count.accepted, count.rejected) == (3, 1, 2)


def _utf8_read_as_cp1252(text: str) -> str:
    """What a tool shows when it reads UTF-8 as Windows-1252: bytes cp1252 leaves undefined
    (0x81, 0x8D, 0x8F, 0x90, 0x9D) become C1 control characters."""
    return "".join(bytes([b]).decode("cp1252") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
                   else chr(b) for b in text.encode("utf-8"))


@pytest.mark.parametrize("name", ["Đỗ Thị Ngọc Ánh", "Nguyễn Văn Đức", "Phạm Quỳnh Hương"])
def test_a_utf8_name_read_as_cp1252_is_kept_and_repaired_not_rejected(
        engine: Engine, tmp_path: Path, name: str) -> None:
    damaged = _utf8_read_as_cp1252(name)
    latin1 = name.encode("utf-8").decode("latin-1")  # every continuation byte a C1 control
    rows = [_row("R1", damaged), _row("R2", latin1), _row("R3", f"{damaged}\x85")]
    path = write_delimited(tmp_path / "doses.csv", rows)
    [count] = ingest(engine, "records", [path], today=TODAY)
    # a control character that belongs to no damaged letter still rejects its row
    assert _rejects(engine) == {(3, "R3", "full_name", "control_character")}
    assert (count.accepted, count.rejected) == (2, 1)
    run_standardise(engine, RecordingConsole(), register=False)
    standardised = engine.query("SELECT name_canonical, name_flags FROM std_records").to_pylist()
    assert standardised == [{"name_canonical": name, "name_flags": ["name_mojibake_repaired"]}] * 2


def test_xlsx_cell_with_a_line_break_is_a_control_character(engine: Engine,
                                                             tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(VN_HEADER)
    sheet.append(_row("R1", "Nguyễn\nVăn An"))
    sheet.append(_row("R2"))
    path = tmp_path / "doses.xlsx"
    workbook.save(path)
    ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(1, "R1", "full_name", "control_character")}


def test_xlsx_cell_longer_than_excel_allows_rejects_its_row(engine: Engine,
                                                            tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(VN_HEADER)
    sheet.append(_row("R1", "LONGCELL"))
    sheet.append(_row("R2"))
    written = tmp_path / "written.xlsx"
    workbook.save(written)  # openpyxl cuts long cells when writing: put it in by hand
    path = _rewritten(written, tmp_path / "doses.xlsx", b"LONGCELL",
                      b"A" * (readers.MAX_CELL_CHARS + 1))
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert _rejects(engine) == {(1, None, None, "cell_too_long")}
    assert (count.rows_in, count.accepted, count.rejected) == (2, 1, 1)


def _rewritten(source: Path, target: Path, old: bytes, new: bytes) -> Path:
    """A copy of an XLSX file with ``old`` replaced by ``new`` in every member."""
    with zipfile.ZipFile(source) as reader, zipfile.ZipFile(target, "w") as writer:
        for item in reader.infolist():
            writer.writestr(item, reader.read(item.filename).replace(old, new))
    return target


def _zip_bomb(path: Path, sheet_bytes: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as sheet:
            block = b" " * (1 << 20)
            for _ in range(sheet_bytes >> 20):
                sheet.write(block)
    return path


def test_xlsx_zip_bomb_is_refused_before_it_is_inflated(engine: Engine, tmp_path: Path,
                                                        monkeypatch) -> None:
    path = _zip_bomb(tmp_path / "doses.xlsx", 40 << 20)
    assert path.stat().st_size < 100_000

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the workbook was opened")

    monkeypatch.setattr("openpyxl.load_workbook", never)
    with pytest.raises(InputError, match=r"sheet1.xml is packed [\d,]+ : 1 .*refused unopened"):
        ingest(engine, "records", [path], today=TODAY)


def test_xlsx_unpacking_beyond_the_size_limit_is_refused(engine: Engine, tmp_path: Path,
                                                         monkeypatch) -> None:
    path = _zip_bomb(tmp_path / "doses.xlsx", 2 << 20)
    monkeypatch.setattr(readers, "MAX_XLSX_UNPACKED_BYTES", 1 << 20)
    with pytest.raises(InputError, match="would unpack to 2 MB, more than the limit of 1 MB"):
        ingest(engine, "records", [path], today=TODAY)


def test_xlsx_that_is_no_zip_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "doses.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="cannot be opened as an Excel workbook"):
        ingest(engine, "records", [path], today=TODAY)


def test_xml_entity_expansion_is_refused(engine: Engine, tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.active.append(VN_HEADER)
    path = tmp_path / "doses.xlsx"
    workbook.save(path)
    doctype = (b'<!DOCTYPE lolz [<!ENTITY lol "lol">'
               b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
               b'<worksheet ')
    bombed = _rewritten(path, tmp_path / "bombed.xlsx", b"<worksheet ", doctype)
    with pytest.raises(InputError, match="cannot be opened as an Excel workbook"):
        ingest(engine, "records", [bombed], today=TODAY)


def test_semicolon_file_with_commas_inside_quoted_values(engine: Engine, tmp_path: Path) -> None:
    rows = [_row("R1", '"Nguyễn, Văn An"'), _row("R2")]
    path = write_delimited(tmp_path / "doses.csv", rows, delimiter=";")
    [count] = ingest(engine, "records", [path], today=TODAY)
    assert count.accepted == 2
    names = {r["full_name"] for r in engine.to_arrow("raw_records").to_pylist()}
    assert "Nguyễn, Văn An" in names
