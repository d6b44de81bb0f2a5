"""Facility heads' accountability (letter 1975/BYT-CNTT: the head of a vaccination facility
answers for wrong data not corrected in time): per facility, its head, its open errors older
than N days, its overdue complaints, its authenticated but unsigned people and their trend; ranked
within each province, the facilities that hold passports back first.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError
from vaxtrust.reports.columns import Column
from vaxtrust.reports.officers import facility_heads
from vaxtrust.reports.progress import ProgressReport
from vaxtrust.reports.snapshot import AWAITING, day_end_text, scope_filter
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import ProgressSnapshot, ReviewItem

COLUMNS = (
    Column("province_code", "Mã tỉnh", "Province", "text"),
    Column("rank", "Thứ hạng trong tỉnh", "Rank in province"),
    Column("facility_id", "Mã cơ sở", "Facility id", "text"),
    Column("facility_name", "Cơ sở tiêm chủng", "Facility", "text"),
    Column("head_name", "Người đứng đầu", "Head", "text"),
    Column("head_phone", "Điện thoại", "Phone", "text"),
    Column("verified_unsigned", "Đã xác thực, chưa ký", "Authenticated, not signed"),
    Column("unsigned_change", "Thay đổi so với ảnh chụp trước", "Change since first snapshot "
           "of the trend"),
    Column("errors_over_days", "Lỗi mở quá N ngày", "Open errors older than N days"),
    Column("review_open", "Mục rà soát đang mở", "Open review items"),
    Column("complaints_overdue", "Phản ánh quá hạn", "Overdue complaints"),
    Column("people_linked", "Người đã xác thực", "People authenticated"),
    Column("people_signed", "Người đã ký", "People signed"),
)


@dataclass(frozen=True)
class FacilityAccount:
    province_code: str
    rank: int
    facility_id: str
    facility_name: str
    head_name: str | None
    head_phone: str | None
    verified_unsigned: int
    unsigned_change: int | None
    errors_over_days: int
    review_open: int
    complaints_overdue: int
    people_linked: int
    people_signed: int
    trend: list[dict[str, Any]] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        return asdict(self)


def _errors_over(session: Session, actor: Actor, report: ProgressReport,
                 days: int) -> dict[str, int]:
    """Open review items per facility older than ``days`` at the end of the report's day."""
    if report.source == "snapshot":
        # A snapshot keeps the 7- and 30-day counts only: the items of a past day are gone.
        if days not in (7, 30):
            raise ConfigError(f"a past day's accountability knows errors older than 7 or 30 "
                              f"days, not {days}")
        name = f"review_over_{days}d"
        return {u.code: u.counts[name] for u in report.levels["facility"]}
    cut = day_end_text(report.as_of - dt.timedelta(days=days))
    item = ReviewItem
    rows = session.execute(
        select(item.facility_id, func.count())
        .where(item.state.in_(AWAITING), item.created_at < cut, actor.review_items_filter())
        .group_by(item.facility_id))
    return {facility: int(count) for facility, count in rows}


def _trends(session: Session, actor: Actor, until: dt.date) -> dict[str, list[dict[str, Any]]]:
    s = ProgressSnapshot
    rows = session.execute(
        select(s.snapshot_date, s.facility_id, func.sum(s.people_linked - s.people_signed),
               func.sum(s.review_open))
        .where(s.snapshot_date <= until.isoformat(),
               scope_filter(actor, s.province_code, s.facility_id, s.commune_code))
        .group_by(s.snapshot_date, s.facility_id).order_by(s.snapshot_date))
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for day, facility, unsigned, review_open in rows:
        found[facility].append({"date": day, "verified_unsigned": int(unsigned or 0),
                                "review_open": int(review_open or 0)})
    return found


def build(session: Session, actor: Actor, report: ProgressReport,
          days: int = 7) -> list[FacilityAccount]:
    """The facilities of the report, ranked per province (the most unsigned people first)."""
    actor.require(Permission.REPORT)
    if days < 1:
        raise ConfigError(f"--days {days}: errors older than at least 1 day")
    if "facility" not in report.levels:
        raise ConfigError("accountability needs the facility level of the report")
    units = report.levels["facility"]
    errors = _errors_over(session, actor, report, days)
    heads = facility_heads(session, [u.code for u in units])
    trends = _trends(session, actor, report.as_of)
    by_province: dict[str, list[FacilityAccount]] = defaultdict(list)
    for unit in units:
        head = heads.get(unit.code)
        trend = trends.get(unit.code, [])
        change = (unit.verified_unsigned - trend[0]["verified_unsigned"]) if trend else None
        by_province[unit.province_code].append(FacilityAccount(
            unit.province_code, 0, unit.code, unit.name, head.full_name if head else None,
            head.phone if head else None, unit.verified_unsigned, change,
            errors.get(unit.code, 0), unit.counts["review_open"],
            unit.counts["complaints_overdue"], unit.counts["people_linked"],
            unit.counts["people_signed"], trend))
    ranked: list[FacilityAccount] = []
    for province in sorted(by_province):
        ordered = sorted(by_province[province], key=lambda a: (
            -a.verified_unsigned, -a.errors_over_days, -a.complaints_overdue, a.facility_id))
        ranked.extend(FacilityAccount(**{**asdict(a), "rank": index})
                      for index, a in enumerate(ordered, start=1))
    return ranked
