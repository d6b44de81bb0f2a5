"""The directory of focal officers (letter 1975/BYT-CNTT): each province's Department of Health
and CDC, the ministry's own, and the heads of vaccination facilities (who answer for data not
corrected in time). Imported and exported as Excel with Vietnamese headers.

An import adds new officers and updates the position, phone and email of known ones (the same
province, unit, facility and full name); importing the same file twice changes nothing. Rows with
a problem are refused one by one with a reason; phones go through ``vaxtrust.vn.phones``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.orm import Session

from vaxtrust.engine.base import ROW_NUMBER_COLUMN
from vaxtrust.errors import InputError, PermissionDenied
from vaxtrust.ingest.readers import read_xlsx
from vaxtrust.reports.columns import Column, header_key
from vaxtrust.store import audit
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import Facility, FocalOfficer, utc_now_text
from vaxtrust.vn import admin, names, phones

SHEET = "Đầu mối"
COLUMNS = (
    Column("province_code", "Tỉnh", "Province", "text"),
    Column("unit", "Đơn vị", "Unit", "text"),
    Column("facility_id", "Mã cơ sở tiêm chủng", "Facility id", "text"),
    Column("full_name", "Họ và tên", "Full name", "text"),
    Column("position", "Chức vụ", "Position", "text"),
    Column("phone", "Điện thoại", "Phone", "text"),
    Column("email", "Email", "Email", "text"),
)
UNIT_NAMES = {"ministry": "Bộ Y tế", "health_department": "Sở Y tế",
              "cdc": "Trung tâm Kiểm soát bệnh tật (CDC)", "facility": "Cơ sở tiêm chủng"}
# What people type in the unit column, folded (no diacritics, lower case, no spaces).
_UNIT_KEYS = {
    "boyte": "ministry", "byt": "ministry", "ministry": "ministry",
    "soyte": "health_department", "syt": "health_department",
    "healthdepartment": "health_department", "cdc": "cdc",
    "trungtamkiemsoatbenhtat": "cdc", "trungtamkiemsoatbenhtatcdc": "cdc",
    "cosotiemchung": "facility", "cosotiem": "facility", "facility": "facility",
    "truongcosotiemchung": "facility",
}
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class OfficerView:
    id: int
    province_code: str | None
    unit: str
    facility_id: str | None
    full_name: str
    position: str | None
    phone: str | None
    email: str | None

    @classmethod
    def of(cls, row: FocalOfficer) -> OfficerView:
        return cls(row.id, row.province_code, row.unit, row.facility_id, row.full_name,
                   row.position, row.phone, row.email)

    def to_row(self) -> dict[str, object]:
        return {"province_code": self.province_code or "", "unit": UNIT_NAMES[self.unit],
                "facility_id": self.facility_id or "", "full_name": self.full_name,
                "position": self.position or "", "phone": self.phone or "",
                "email": self.email or ""}


@dataclass(frozen=True)
class RejectedRow:
    row_number: int
    reason: str


@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    unchanged: int
    rejected: list[RejectedRow]


def _visible(actor: Actor) -> ColumnElement[bool]:
    """Officers an actor sees: the ministry all; others their province's and the ministry's."""
    if actor.role is Role.MINISTRY:
        return true()
    if actor.role in (Role.PROVINCE, Role.FACILITY) and actor.province_code:
        return or_(FocalOfficer.province_code == actor.province_code,
                   FocalOfficer.unit == "ministry")
    return FocalOfficer.unit == "ministry"


def list_officers(session: Session, actor: Actor, *, province_code: str | None = None,
                  unit: str | None = None) -> list[OfficerView]:
    actor.require(Permission.REPORT)
    query = select(FocalOfficer).where(_visible(actor))
    if province_code:
        query = query.where(FocalOfficer.province_code == province_code)
    if unit:
        query = query.where(FocalOfficer.unit == unit)
    rows = session.scalars(query.order_by(FocalOfficer.province_code, FocalOfficer.unit,
                                          FocalOfficer.facility_id, FocalOfficer.full_name))
    return [OfficerView.of(row) for row in rows]


def facility_heads(session: Session, facility_ids: Sequence[str]) -> dict[str, OfficerView]:
    """The head of each facility (the first one listed, when a file named several)."""
    rows = session.scalars(select(FocalOfficer).where(
        FocalOfficer.unit == "facility", FocalOfficer.facility_id.in_(list(facility_ids)))
        .order_by(FocalOfficer.id))
    heads: dict[str, OfficerView] = {}
    for row in rows:
        heads.setdefault(row.facility_id or "", OfficerView.of(row))
    return heads


@dataclass(frozen=True)
class _Parsed:
    province_code: str | None
    unit: str
    facility_id: str | None
    full_name: str
    position: str | None
    phone: str | None
    email: str | None


def _header_index(headers: Sequence[str]) -> dict[str, str]:
    """Column key -> the file's header (Vietnamese or English, any case, diacritics or not)."""
    wanted = {header_key(c.vi): c.key for c in COLUMNS} | {header_key(c.en): c.key for c in COLUMNS}
    wanted |= {c.key.replace("_", ""): c.key for c in COLUMNS}
    found = {}
    for header in headers:
        key = wanted.get(header_key(header))
        if key and key not in found:
            found[key] = header
    return found


def _parse_row(session: Session, actor: Actor, cell: dict[str, str | None]) -> _Parsed | str:
    """The row's values, or why it is refused."""
    full_name = names.canonical(cell.get("full_name"))
    if not full_name:
        return "họ và tên trống / full name missing"
    unit = _UNIT_KEYS.get(header_key(cell.get("unit") or ""))
    if unit is None:
        return (f"đơn vị {cell.get('unit')!r} không rõ / unknown unit: use "
                + ", ".join(UNIT_NAMES.values()))
    province = None
    if unit != "ministry":
        raw = (cell.get("province_code") or "").strip()
        province = admin.parse(raw).province_code if raw else None
        if province is None:
            return f"tỉnh {raw!r} không rõ / unknown province"
    if actor.role is not Role.MINISTRY and (unit == "ministry" or province != actor.province_code):
        return "ngoài phạm vi của bạn / outside your scope"
    facility_id = (cell.get("facility_id") or "").strip() or None
    if unit == "facility":
        facility = session.get(Facility, facility_id) if facility_id else None
        if facility is None or facility.province_code != province:
            return f"cơ sở {facility_id!r} không có ở tỉnh {province} / no such facility"
    else:
        facility_id = None
    phone = None
    if (cell.get("phone") or "").strip():
        parsed = phones.parse(cell.get("phone"))
        if parsed.number is None:
            return f"số điện thoại {cell.get('phone')!r} không hợp lệ / invalid phone"
        phone = parsed.number
    email = (cell.get("email") or "").strip() or None
    if email and not EMAIL_RE.fullmatch(email):
        return f"email {email!r} không hợp lệ / invalid email"
    if phone is None and email is None:
        return "cần điện thoại hoặc email / a phone or an email is needed"
    position = (cell.get("position") or "").strip() or None
    return _Parsed(province, unit, facility_id, full_name, position, phone, email)


def import_file(session: Session, actor: Actor, path: Path) -> ImportResult:
    """Add or update the officers of an Excel file (ministry; a province officer: their own)."""
    actor.require(Permission.MANAGE_USERS)
    if actor.role is Role.FACILITY:
        raise PermissionDenied(f"user {actor.username} may not import focal officers")
    table, unreadable = read_xlsx(path, lambda cells: len(_header_index(cells)) >= 3)
    columns = _header_index(table.column_names)
    missing = [c.vi for c in COLUMNS if c.key in ("unit", "full_name") and c.key not in columns]
    if missing:
        raise InputError(f"the first sheet has no column {', '.join(missing)}", path=str(path))
    rejected = [RejectedRow(int(row["row_number"]), str(row["error"]))
                for row in unreadable.to_pylist()]
    added = updated = unchanged = 0
    seen: set[tuple[str | None, str, str | None, str]] = set()
    for row in table.to_pylist():
        cell = {key: row[header] for key, header in columns.items()}
        parsed = _parse_row(session, actor, cell)
        number = int(row[ROW_NUMBER_COLUMN])
        if isinstance(parsed, str):
            rejected.append(RejectedRow(number, parsed))
            continue
        key = (parsed.province_code, parsed.unit, parsed.facility_id, parsed.full_name)
        if key in seen:
            rejected.append(RejectedRow(number, "dòng trùng / the same officer twice"))
            continue
        seen.add(key)
        outcome = _upsert(session, actor, parsed)
        added += outcome == "added"
        updated += outcome == "updated"
        unchanged += outcome == "unchanged"
    rejected.sort(key=lambda r: r.row_number)
    if added or updated:
        audit.append(session, [audit.OfficersImported(
            actor=actor.username, subject_id=f"officers:{actor.scope_label() or 'VN'}",
            file_sha256=hashlib.sha256(path.read_bytes()).hexdigest(), added=added,
            updated=updated, rejected=len(rejected))])
    return ImportResult(added, updated, unchanged, rejected)


def _upsert(session: Session, actor: Actor, parsed: _Parsed) -> str:
    existing = session.scalar(select(FocalOfficer).where(
        FocalOfficer.province_code.is_(None) if parsed.province_code is None
        else FocalOfficer.province_code == parsed.province_code,
        FocalOfficer.unit == parsed.unit,
        FocalOfficer.facility_id.is_(None) if parsed.facility_id is None
        else FocalOfficer.facility_id == parsed.facility_id,
        FocalOfficer.full_name == parsed.full_name))
    values = {"position": parsed.position, "phone": parsed.phone, "email": parsed.email}
    if existing is None:
        session.add(FocalOfficer(province_code=parsed.province_code, unit=parsed.unit,
                                 facility_id=parsed.facility_id, full_name=parsed.full_name,
                                 updated_at=utc_now_text(), updated_by=actor.username, **values))
        return "added"
    if all(getattr(existing, name) == value for name, value in values.items()):
        return "unchanged"
    for name, value in values.items():
        setattr(existing, name, value)
    existing.updated_at, existing.updated_by = utc_now_text(), actor.username
    return "updated"
