"""Issue 16, procedure 2262/BYT-CNTT: the commune list goes to the commune police and their answers
come back through the same verified path as a review decision, with the list as audit source."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import select

from tests.store.cli import cli, invoke
from tests.store.conftest import snapshot
from vaxtrust.app import police_lists
from vaxtrust.errors import InputError, NotFound, PermissionDenied
from vaxtrust.reports.police import COLUMNS
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import (
    AuditEventRow,
    Correction,
    Decision,
    ReviewItem,
    SigningTask,
    VaccinationRecord,
)

HEADERS = [column.vi for column in COLUMNS]


def _answer(path: Path, answers: dict[str, dict[str, str]], out: Path,
            edit_listed: dict[str, dict[str, str]] | None = None) -> Path:
    """The police's copy: answers per record id (verdict, new_*, police_note)."""
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert sheet is not None
    index = {column.key: number for number, column in enumerate(COLUMNS, start=1)}
    for row in range(2, sheet.max_row + 1):
        record_id = sheet.cell(row, index["record_id"]).value
        for key, value in answers.get(str(record_id), {}).items():
            sheet.cell(row, index[key]).value = value
        for key, value in (edit_listed or {}).get(str(record_id), {}).items():
            sheet.cell(row, index[key]).value = value
    book.save(out)
    return out


def _record(store: Store, record_id: str) -> VaccinationRecord:
    with store.transaction() as session:
        record = session.get(VaccinationRecord, record_id)
        assert record is not None
        session.expunge(record)
        return record


def test_export_lists_the_commune_people_to_check(published: Store, actors: dict[str, Actor],
                                                  tmp_path: Path) -> None:
    made = police_lists.export_lists(published, actors["hcm"], tmp_path, commune="26734")
    assert [(m.commune_code, m.rows) for m in made] == [("26734", 2)]
    sheet = openpyxl.load_workbook(made[0].path)["Danh sách 2262"]
    assert [c.value for c in sheet[1]] == HEADERS
    assert sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in rows] == ["R4", "R6"]
    r4 = rows[0]
    assert (r4[4], r4[6]) == ("Đỗ Văn Giang", "Nam")
    assert "Hồ Chí Minh" in r4[7]                 # the address, from the commune code
    assert "no_id" in r4[9]
    # Every commune of the scope, one file each; nothing for a commune with nothing to check.
    every = police_lists.export_lists(published, actors["minh"], tmp_path / "all")
    assert sorted(m.commune_code for m in every) == ["00007", "26734"]
    with pytest.raises(NotFound):
        police_lists.export_lists(published, actors["hanoi"], tmp_path, commune="26734")
    for name in ("an", "police4"):
        with pytest.raises(PermissionDenied):
            police_lists.export_lists(published, actors[name], tmp_path, commune="00007")


def test_answers_become_verified_decisions_with_the_list_as_source(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    made = police_lists.export_lists(published, actors["hcm"], tmp_path, commune="26734")[0]
    answered = _answer(made.path, {
        # R6: the ID lost its leading zero and the name its tones.
        "R6": {"verdict": "Sai", "new_id_number": "079188000005",
               "new_full_name": "Hoàng Thị Em", "police_note": "đã đối chiếu CSDLQG"},
        # R4 (unmatched, no review item): the police found the person under another name.
        "R4": {"verdict": "sai", "new_id_number": "079095000004",
               "new_full_name": "Phạm Văn Dũng", "new_dob": "15/01/1995"},
    }, tmp_path / "answered.xlsx")
    result = police_lists.import_list(published, actors["hcm01"], answered)
    assert (result.applied, result.rejected, result.list_ids) == (2, [], [made.list_id]), \
        result.rejected
    assert "079188000005" in result.signing_queued     # Dũng was queued already (R5)
    r6, r4 = _record(published, "R6"), _record(published, "R4")
    assert (r6.status, r6.person_id, r6.full_name) == ("corrected", "079188000005", "Hoàng Thị Em")
    assert (r4.status, r4.person_id) == ("corrected", "079095000004")
    assert r6.original_full_name == "Hoang Thi Em"          # originals stay
    digest = hashlib.sha256(answered.read_bytes()).hexdigest()
    with published.transaction() as session:
        decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
        assert [d.kind for d in decisions] == ["edit", "edit"]
        assert all(made.list_id in (d.note or "") and digest in (d.note or "")
                   for d in decisions)
        assert any("đã đối chiếu CSDLQG" in (d.note or "") for d in decisions)
        corrections = session.scalars(select(Correction).where(
            Correction.decision_id.is_not(None))).all()
        assert corrections and all(made.list_id in c.reason for c in corrections)
        items = session.scalars(select(ReviewItem).where(ReviewItem.record_id == "R4")).all()
        assert [i.state for i in items] == ["decided"]
        event = session.scalars(select(AuditEventRow).where(
            AuditEventRow.event_type == "police_list_imported")).one()
        payload = json.loads(event.payload)
        assert (payload["file_sha256"], payload["applied"]) == (digest, 2)
    before = snapshot(published)
    again = police_lists.import_list(published, actors["hcm01"], answered)
    assert (again.applied, again.already_applied, again.rejected) == (0, 2, [])
    # The same file twice changes nothing but the log of uploads, which keeps both outcomes.
    after = snapshot(published)
    imports = after.pop("police_list_import")
    assert len(imports) == len(before.pop("police_list_import")) + 1 == 2
    assert after == before
    kept = police_lists.import_outcome(published, actors["hcm01"], again.import_id or 0)
    assert (kept.applied, kept.already_applied, kept.file_name) == (0, 2, "answered.xlsx")
    with pytest.raises(NotFound):               # another officer's import: as if none
        police_lists.import_outcome(published, actors["hcm"], again.import_id or 0)
    assert police_lists.import_outcome(published, actors["minh"], again.import_id or 0)


def test_rows_that_do_not_match_the_export_are_refused_with_reasons(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    made = police_lists.export_lists(published, actors["hcm"], tmp_path, commune="26734")[0]
    answered = _answer(made.path, {
        "R6": {"verdict": "Sai", "new_full_name": "Hoàng Thị Em", "new_dob": "05/05/1999"},
        "R4": {"verdict": "Có lẽ"},
    }, tmp_path / "bad.xlsx")
    result = police_lists.import_list(published, actors["hcm"], answered)
    reasons = {r.record_id: r.reason for r in result.rejected}
    assert result.applied == 0
    assert "does not match register person" in reasons["R6"] and "dob" in reasons["R6"]
    assert "Đúng or Sai" in reasons["R4"]
    kept = police_lists.import_outcome(published, actors["hcm"], result.import_id or 0)
    assert kept.rejected == result.rejected             # every refused row, with its reason
    tampered = _answer(made.path, {"R6": {"verdict": "Đúng", "new_id_number": "079188000005"}},
                       tmp_path / "tampered.xlsx",
                       edit_listed={"R6": {"full_name": "Hoàng Thị Em"},
                                    "R4": {"list_id": "2262-26734-ffffffff",
                                           "verdict": "Đúng"}})
    result = police_lists.import_list(published, actors["hcm"], tampered)
    reasons = {r.record_id: r.reason for r in result.rejected}
    assert "differ from the exported row" in reasons["R6"]
    assert "never exported" in reasons["R4"]
    assert _record(published, "R6").status == "review"
    outside = police_lists.import_list(
        published, actors["hn01"], _answer(made.path, {"R6": {
            "verdict": "Sai", "new_id_number": "079188000005",
            "new_full_name": "Hoàng Thị Em"}}, tmp_path / "outside.xlsx"))
    assert [r.reason for r in outside.rejected] == ["the record is not in your scope"]
    not_a_list = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(not_a_list)
    with pytest.raises(InputError):
        police_lists.import_list(published, actors["hcm"], not_a_list)


def test_lists_from_the_command_line(published: Store, store_url: str,
                                     actors: dict[str, Actor], tmp_path: Path) -> None:
    said = cli(store_url, "lists", "export", "--as", "hanoi", "--out", str(tmp_path / "out"))
    assert "00007" in said and "26734" not in said
    (path,) = (tmp_path / "out").glob("*.xlsx")
    answered = _answer(path, {"R3": {"verdict": "Sai", "new_dob": "30/11/1970",
                                     "new_id_number": "001170000003"}}, tmp_path / "a.xlsx")
    said = cli(store_url, "lists", "import", str(answered), "--as", "hn01")
    assert "1 applied" in said
    assert _record(published, "R3").person_id == "001170000003"
    said = cli(store_url, "lists", "import", str(answered), "--as", "hn01")
    assert "0 applied, 1 applied before" in said
    refused = invoke(["lists", "export", "--as", "an", "--out", str(tmp_path / "x"),
                      "--db", store_url])
    assert isinstance(refused.exception, PermissionDenied)
    with published.transaction() as session:
        queued = session.scalars(select(SigningTask.person_id)).all()
    assert "001170000003" in queued
