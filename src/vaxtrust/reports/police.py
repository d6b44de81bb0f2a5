"""The commune lists of procedure 2262/BYT-CNTT (04/05/2022): the health station lists the
commune's people whose records could not be verified (no ID, malformed ID, wrong basic data), the
commune police check them against the population database, sign the list and hand it back, and
the station applies their answers.

Export: one Excel file per commune, one row per record still to authenticate (status review or
unmatched) with what the police check (ID, full name, date of birth, gender, address) and columns
for their answer. The store keeps each exported row's record and a digest of the values shown.

Import: each answered row becomes a review decision through :func:`vaxtrust.review.queue.decide`
(an edit checked field by field against the register, then corrections and the link), with the
list, its row and the file's SHA-256 in the decision's note: the police's list is the audit
source. A row that does not match an exported row, or whose answer the register does not bear
out, is refused with a reason; a row already applied is skipped, so importing a file twice
changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from vaxtrust.engine.base import ROW_NUMBER_COLUMN
from vaxtrust.errors import ConfigError, InputError, NotFound, VaxtrustError
from vaxtrust.ingest.readers import read_xlsx
from vaxtrust.reports.columns import Column, header_key
from vaxtrust.reports.progress import admin_names
from vaxtrust.review import queue
from vaxtrust.store import audit
from vaxtrust.store.records import log_access
from vaxtrust.store.scope import AUTHENTICATION_STATUSES, Actor, Permission, Role
from vaxtrust.store.tables import (
    PoliceList,
    PoliceListImport,
    PoliceListRow,
    ReviewItem,
    ReviewItemReason,
    VaccinationRecord,
    utc_now_text,
)

SHEET = "Danh sách 2262"
POLICE_REASON = "police_list_2262"
SHOWN = (
    Column("list_id", "Mã danh sách", "List id", "text"),
    Column("row_number", "STT", "Row", "text"),
    Column("record_id", "Mã bản ghi", "Record id", "text"),
    Column("id_number", "Số CCCD/CMND", "ID number", "text"),
    Column("full_name", "Họ và tên", "Full name", "text"),
    Column("dob", "Ngày sinh", "Date of birth", "text"),
    Column("gender", "Giới tính", "Gender", "text"),
    Column("address", "Địa chỉ", "Address", "text"),
    Column("facility_id", "Cơ sở tiêm", "Facility", "text"),
    Column("reasons", "Lý do cần xác minh", "Why it needs checking", "text"),
)
ANSWERS = (
    Column("verdict", "Kết quả (Đúng/Sai)", "Answer (right/wrong)", "text"),
    Column("new_id_number", "Số định danh đúng", "Correct ID number", "text"),
    Column("new_full_name", "Họ và tên đúng", "Correct full name", "text"),
    Column("new_dob", "Ngày sinh đúng", "Correct date of birth", "text"),
    Column("new_gender", "Giới tính đúng", "Correct gender", "text"),
    Column("police_note", "Ghi chú của Công an xã", "Commune police's note", "text"),
)
COLUMNS = (*SHOWN, *ANSWERS)
# The values whose digest ties an answered row to the row exported.
DIGESTED = ("record_id", "id_number", "full_name", "dob", "gender")
RIGHT = {"dung", "d", "right", "correct", "x"}
WRONG = {"sai", "s", "wrong"}
COMMUNE_RE = re.compile(r"[0-9]{1,5}")


def _digest(values: dict[str, str | None]) -> str:
    shown = [(values.get(name) or "").strip() for name in DIGESTED]
    return hashlib.sha256(audit.canonical_json(shown).encode("utf-8")).hexdigest()


def commune_code(text: str) -> str:
    if not COMMUNE_RE.fullmatch(text.strip()):
        raise ConfigError(f"commune {text!r}: a GSO commune code of up to 5 digits, e.g. 00004")
    return text.strip().zfill(5)


def _address(record: VaccinationRecord) -> str:
    code = record.commune_code or ""
    province, district, commune = admin_names(code)
    if commune:
        return ", ".join(part for part in (commune, district, province) if part)
    typed = [record.original_commune, record.original_district, record.original_province]
    return ", ".join(part for part in typed if part)


@dataclass(frozen=True)
class ExportedList:
    list_id: str
    commune_code: str
    rows: int
    path: Path


def communes_in_scope(session: Session, actor: Actor) -> list[str]:
    """Communes with records to authenticate in the actor's scope."""
    record = VaccinationRecord
    return [code for code in session.scalars(
        select(record.commune_code).distinct()
        .where(actor.records_filter(), record.status.in_(AUTHENTICATION_STATUSES),
               record.commune_code.is_not(None))
        .order_by(record.commune_code)) if code]


def export_list(session: Session, actor: Actor, commune: str, out: Path) -> ExportedList:
    """Write the commune's list (records in the actor's scope) to ``out`` and remember it."""
    from vaxtrust.reports.xlsx import write_sheets

    actor.require(Permission.POLICE_LISTS)
    code = commune_code(commune)
    records = session.scalars(
        select(VaccinationRecord).where(
            actor.records_filter(), VaccinationRecord.commune_code == code,
            VaccinationRecord.status.in_(AUTHENTICATION_STATUSES))
        .order_by(VaccinationRecord.record_id)).all()
    if not records:
        raise NotFound(f"no records to authenticate in commune {code} in your scope")
    list_id = f"2262-{code}-{secrets.token_hex(4)}"
    session.add(PoliceList(list_id=list_id, commune_code=code, exported_at=utc_now_text(),
                           exported_by=actor.username, row_count=len(records)))
    session.flush()
    rows: list[dict[str, str | None]] = []
    for number, record in enumerate(records, start=1):
        values = {"list_id": list_id, "row_number": str(number), "record_id": record.record_id,
                  "id_number": record.id_number, "full_name": record.full_name,
                  "dob": record.dob, "gender": record.gender, "address": _address(record),
                  "facility_id": record.facility_id,
                  "reasons": ", ".join(_reasons(record))}
        session.add(PoliceListRow(list_id=list_id, row_number=number,
                                  record_id=record.record_id, digest=_digest(values)))
        rows.append(values)
    write_sheets(out, [(SHEET, COLUMNS, rows)])
    log_access(session, actor, f"list:police:{code}", f"2262 list {list_id}")
    audit.append(session, [audit.PoliceListExported(
        actor=actor.username, subject_id=f"police_list:{list_id}", list_id=list_id,
        commune_code=code, rows=len(records))])
    return ExportedList(list_id, code, len(records), out)


def _reasons(record: VaccinationRecord) -> list[str]:
    try:
        found = json.loads(record.reasons or "[]")
    except ValueError:
        found = []
    if not record.id_number:
        found = ["no_id", *found]
    return [str(reason) for reason in found] or [record.status]


@dataclass(frozen=True)
class RejectedAnswer:
    row_number: int
    record_id: str | None
    reason: str


@dataclass
class ImportResult:
    list_ids: list[str] = field(default_factory=list)
    applied: int = 0
    already_applied: int = 0
    unanswered: int = 0
    rejected: list[RejectedAnswer] = field(default_factory=list)
    signing_queued: list[str] = field(default_factory=list)
    import_id: int | None = None
    """The ``police_list_import`` row that keeps this outcome."""
    file_name: str = ""
    imported_at: str = ""
    imported_by: str = ""


REJECT_COLUMNS = (
    Column("row_number", "Dòng", "Row", "count"),
    Column("record_id", "Mã bản ghi", "Record id", "text"),
    Column("reason", "Lý do từ chối", "Why it was refused", "text"),
)


def _cells(path: Path) -> tuple[list[dict[str, str | None]], list[RejectedAnswer]]:
    wanted = {header_key(c.vi): c.key for c in COLUMNS} | \
        {header_key(c.en): c.key for c in COLUMNS}
    table, unreadable = read_xlsx(path, lambda cells: sum(header_key(c) in wanted
                                                          for c in cells) >= 5)
    columns = {header: wanted[header_key(header)] for header in table.column_names
               if header_key(header) in wanted}
    missing = [c.vi for c in (*SHOWN[:3], ANSWERS[0]) if c.key not in columns.values()]
    if missing:
        raise InputError(f"not a 2262 list: no column {', '.join(missing)}", path=str(path))
    rows = [{"_row": str(row[ROW_NUMBER_COLUMN]),
             **{key: (row[header] or "").strip() or None for header, key in columns.items()}}
            for row in table.to_pylist()]
    rejected = [RejectedAnswer(int(r["row_number"]), None, str(r["error"]))
                for r in unreadable.to_pylist()]
    return rows, rejected


def _verdict(text: str | None) -> bool | None:
    key = header_key(text or "")
    if key in RIGHT:
        return True
    if key in WRONG:
        return False
    return None


def _edit(cell: dict[str, str | None], record: VaccinationRecord,
          right: bool) -> dict[str, str]:
    given = {name: cell.get(f"new_{name}") for name in ("id_number", "full_name", "dob",
                                                        "gender")}
    fields = {name: value for name, value in given.items() if value}
    if right:
        # Right as listed: the shown values stand; an ID the list lacked comes from the police.
        fields.setdefault("id_number", record.id_number or "")
        if not fields["id_number"]:
            raise ConfigError("Đúng but no ID: write the person's number in Số định danh đúng")
    elif not fields:
        raise ConfigError("Sai but no corrected value: fill at least one of the Đúng columns")
    return fields


def _item_for(session: Session, actor: Actor, record: VaccinationRecord) -> ReviewItem:
    """The record's awaiting review item, or a new one (an unmatched record has none)."""
    item = session.scalar(select(ReviewItem).where(
        ReviewItem.record_id == record.record_id, ReviewItem.state.in_(queue.AWAITING),
        actor.review_items_filter()).order_by(ReviewItem.id.desc()).limit(1))
    if item is not None:
        return item
    now = utc_now_text()
    item = ReviewItem(record_id=record.record_id, run_id=record.run_id,
                      province_code=record.province_code, facility_id=record.facility_id,
                      state="open", version=1, note="2262", created_at=now, updated_at=now)
    session.add(item)
    session.flush()
    session.add(ReviewItemReason(item_id=item.id, reason=POLICE_REASON))
    session.flush()
    return item


def _apply_row(session: Session, actor: Actor, cell: dict[str, str | None], digest: str,
               result: ImportResult) -> None:
    number = int(cell["_row"] or 0)
    list_id, record_id = cell.get("list_id"), cell.get("record_id")

    def refuse(reason: str) -> None:
        result.rejected.append(RejectedAnswer(number, record_id, reason))

    try:
        row_number = int(cell.get("row_number") or "")
    except ValueError:
        refuse(f"STT {cell.get('row_number')!r} is not a row number of the list")
        return
    exported = session.get(PoliceListRow, (list_id, row_number)) if list_id else None
    if exported is None:
        refuse(f"row {row_number} of list {list_id!r} was never exported")
        return
    if exported.record_id != record_id or exported.digest != _digest(cell):
        refuse("the listed values differ from the exported row: answers go in the answer "
               "columns, the listed ones stay as exported")
        return
    if exported.decision_id is not None:
        result.already_applied += 1
        return
    verdict = _verdict(cell.get("verdict"))
    if verdict is None:
        if cell.get("verdict"):
            refuse(f"answer {cell.get('verdict')!r}: write Đúng or Sai")
        else:
            result.unanswered += 1
        return
    record = session.scalar(select(VaccinationRecord).where(
        VaccinationRecord.record_id == exported.record_id, actor.records_filter()))
    if record is None:
        refuse("the record is not in your scope")
        return
    if record.status not in AUTHENTICATION_STATUSES:
        refuse(f"the record was settled meanwhile (now {record.status})")
        return
    police_note = cell.get("police_note")
    note = (f"Công an xã {exported.list_id.split('-')[1]}: danh sách {exported.list_id} dòng "
            f"{row_number} (2262/BYT-CNTT), tệp sha256 {digest}"
            + (f"; {police_note}" if police_note else ""))
    try:
        with session.begin_nested():
            fields = _edit(cell, record, verdict)
            item = _item_for(session, actor, record)
            decided = queue.decide(session, actor, item.id, queue.EditFields(fields, note))
    except VaxtrustError as error:
        refuse(str(error))
        return
    exported.decision_id, exported.answered_at = decided.decision_id, utc_now_text()
    result.applied += 1
    result.signing_queued.extend(decided.signing_queued)


def import_answers(session: Session, actor: Actor, path: Path,
                   file_name: str | None = None) -> ImportResult:
    """Apply the commune police's answered list (see the module's docstring); the outcome is
    kept (``police_list_import``) under ``file_name`` (default the path's)."""
    actor.require(Permission.POLICE_LISTS)
    actor.require(Permission.REVIEW)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    rows, rejected = _cells(path)
    result = ImportResult(rejected=rejected)
    result.list_ids = sorted({row["list_id"] or "" for row in rows if row.get("list_id")})
    for cell in rows:
        _apply_row(session, actor, cell, digest, result)
    result.rejected.sort(key=lambda r: r.row_number)
    _keep_outcome(session, actor, file_name or path.name, digest, result)
    if result.applied:
        audit.append(session, [audit.PoliceListImported(
            actor=actor.username, subject_id=f"police_list:{list_id}"[:80], list_id=list_id,
            file_sha256=digest, applied=result.applied, rejected=len(result.rejected))
            for list_id in result.list_ids])
    return result


def _keep_outcome(session: Session, actor: Actor, file_name: str, digest: str,
                  result: ImportResult) -> None:
    row = PoliceListImport(
        file_name=file_name[:255], file_sha256=digest, list_ids=json.dumps(result.list_ids),
        imported_at=utc_now_text(), imported_by=actor.username, applied=result.applied,
        already_applied=result.already_applied, unanswered=result.unanswered,
        rejected=json.dumps([asdict(r) for r in result.rejected], ensure_ascii=False))
    session.add(row)
    session.flush()
    result.import_id, result.file_name = row.id, row.file_name
    result.imported_at, result.imported_by = row.imported_at, row.imported_by


def _outcome(row: PoliceListImport) -> ImportResult:
    return ImportResult(
        list_ids=json.loads(row.list_ids), applied=row.applied,
        already_applied=row.already_applied, unanswered=row.unanswered,
        rejected=[RejectedAnswer(**r) for r in json.loads(row.rejected)], import_id=row.id,
        file_name=row.file_name, imported_at=row.imported_at, imported_by=row.imported_by)


def _imports_visible(actor: Actor) -> ColumnElement[bool]:
    """The ministry sees every import; others the ones they made."""
    return true() if actor.role is Role.MINISTRY else \
        PoliceListImport.imported_by == actor.username


def import_outcome(session: Session, actor: Actor, import_id: int) -> ImportResult:
    """A kept import's outcome; NotFound outside what the actor may see."""
    actor.require(Permission.POLICE_LISTS)
    row = session.scalar(select(PoliceListImport).where(PoliceListImport.id == import_id,
                                                        _imports_visible(actor)))
    if row is None:
        raise NotFound(f"no list import {import_id}")
    return _outcome(row)


def recent_imports(session: Session, actor: Actor, limit: int = 20) -> list[ImportResult]:
    actor.require(Permission.POLICE_LISTS)
    return [_outcome(row) for row in session.scalars(
        select(PoliceListImport).where(_imports_visible(actor))
        .order_by(PoliceListImport.id.desc()).limit(limit))]


def lists_of(session: Session, actor: Actor, commune: str | None = None
             ) -> Sequence[tuple[PoliceList, int]]:
    """Exported lists (of the actor's communes) with how many answers were applied."""
    actor.require(Permission.POLICE_LISTS)
    answered = (select(PoliceListRow.list_id, func.count().label("n"))
                .where(PoliceListRow.decision_id.is_not(None))
                .group_by(PoliceListRow.list_id).subquery())
    query = (select(PoliceList, func.coalesce(answered.c.n, 0))
             .outerjoin(answered, answered.c.list_id == PoliceList.list_id)
             .where(PoliceList.commune_code.in_(communes_in_scope(session, actor))
                    | (PoliceList.exported_by == actor.username)))
    if commune:
        query = query.where(PoliceList.commune_code == commune_code(commune))
    return [(row[0], int(row[1])) for row in session.execute(
        query.order_by(PoliceList.exported_at))]
