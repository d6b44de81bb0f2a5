"""The day's progress counts per province, commune and facility, in one set-based query.

The same query answers a report for today (live) and writes a snapshot (``INSERT ... SELECT``),
so a report read back from a snapshot equals the live one of its day. A snapshot replaces the
rows of its date: taking it twice leaves one copy. Days are Viet Nam days (UTC+7): the day D
ends at D 17:00 UTC, and certificates and complaints count when they happened before that.
Record outcomes and open review items are the store's state when the snapshot is taken: a
snapshot of a past date can only be taken from the store as it is now, so the daily runs take
one each day.

Counts of people and certificates sit with each person's first linked record (lowest record
id), so a sum over any level counts each person once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    column,
    delete,
    false,
    func,
    insert,
    inspect,
    literal,
    literal_column,
    not_,
    null,
    select,
    table,
    true,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError
from vaxtrust.store import audit
from vaxtrust.store.doses import LINKED_STATUSES
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import (
    RECORD_STATUSES,
    Certificate,
    ProgressSnapshot,
    ReviewItem,
    VaccinationRecord,
    utc_now_text,
)

VN_OFFSET = dt.timedelta(hours=7)
KEYS = ("province_code", "commune_code", "facility_id")
COUNTS = (
    "records", *RECORD_STATUSES, "review_open", "review_over_7d", "review_over_30d",
    "people_linked", "people_signed", "certificates_revoked", "certificates_reissued",
    "complaints_received", "complaints_open", "complaints_overdue", "complaints_resolved",
    "complaints_refused",
)
AWAITING = ("open", "deferred")
COMPLAINT_TABLE = "complaint"


@dataclass(frozen=True)
class GrainRow:
    """Counts of one (province, commune, facility); ``commune_code`` '' when unknown."""

    province_code: str
    commune_code: str
    facility_id: str
    records: int = 0
    verified: int = 0
    corrected: int = 0
    review: int = 0
    unmatched: int = 0
    rejected: int = 0
    review_open: int = 0
    review_over_7d: int = 0
    review_over_30d: int = 0
    people_linked: int = 0
    people_signed: int = 0
    certificates_revoked: int = 0
    certificates_reissued: int = 0
    complaints_received: int = 0
    complaints_open: int = 0
    complaints_overdue: int = 0
    complaints_resolved: int = 0
    complaints_refused: int = 0
    review_oldest_at: str | None = None


GRAIN_FIELDS = tuple(f.name for f in fields(GrainRow))


def today_vn(now: dt.datetime | None = None) -> dt.date:
    """Today's date in Viet Nam."""
    return ((now or dt.datetime.now(dt.UTC)) + VN_OFFSET).date()


def day_end_text(day: dt.date) -> str:
    """The end of the Viet Nam day ``day`` as the store's UTC text."""
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time()) - VN_OFFSET
    return end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# Columns and expressions alike (typed loosely: SQLAlchemy's own types differ for each).
Expr = Any


def scope_filter(actor: Actor, province: Expr, facility: Expr,
                 commune: Expr) -> ColumnElement[bool]:
    """An actor's scope on the three keys (the police: their commune; a citizen: nothing)."""
    match actor.role:
        case Role.MINISTRY:
            return true()
        case Role.PROVINCE:
            return province == actor.province_code
        case Role.FACILITY:
            return facility == actor.facility_id
        case Role.COMMUNE_POLICE:
            return commune == actor.commune_code
        case _:
            return false()


def _part(keys: Sequence[Expr], values: Mapping[str, Expr],
          oldest: Expr | None = None) -> list[Expr]:
    zero: Expr = literal_column("0")
    return [*(key.label(name) for key, name in zip(keys, KEYS, strict=True)),
            *(values.get(name, zero).label(name) for name in COUNTS),
            (oldest if oldest is not None else cast(null(), String(32))).label("review_oldest_at")]


def _count(condition: ColumnElement[bool]) -> Expr:
    return func.sum(case((condition, 1), else_=0))


def _records_part(actor: Actor) -> Select[Any]:
    r = VaccinationRecord
    keys = (r.province_code, func.coalesce(r.commune_code, literal_column("''")), r.facility_id)
    values = {"records": func.count(), **{s: _count(r.status == s) for s in RECORD_STATUSES}}
    return (select(*_part(keys, values)).where(scope_filter(actor, *keys[::2], keys[1]))
            .group_by(*keys))


def _review_part(actor: Actor, end: str, day: dt.date) -> Select[Any]:
    item, r = ReviewItem, VaccinationRecord
    keys = (item.province_code, func.coalesce(r.commune_code, literal_column("''")),
            item.facility_id)
    cut7 = day_end_text(day - dt.timedelta(days=7))
    cut30 = day_end_text(day - dt.timedelta(days=30))
    values = {"review_open": func.count(), "review_over_7d": _count(item.created_at < cut7),
              "review_over_30d": _count(item.created_at < cut30)}
    return (select(*_part(keys, values, func.min(item.created_at)))
            .join_from(item, r, r.record_id == item.record_id)
            .where(item.state.in_(AWAITING), item.created_at < end,
                   scope_filter(actor, keys[0], keys[2], keys[1]))
            .group_by(*keys))


def _people_part(actor: Actor, end: str) -> Select[Any]:
    r, c = VaccinationRecord, Certificate
    # Each linked person's first record (lowest record id), in one ordered pass over the linked
    # records (a window, not a join back to the 10 M-row table: issue 16's 30 s target).
    ranked = (select(r.person_id.label("person_id"), r.province_code.label("province_code"),
                     func.coalesce(r.commune_code, literal_column("''")).label("commune_code"),
                     r.facility_id.label("facility_id"),
                     func.row_number().over(partition_by=r.person_id, order_by=r.record_id)
                     .label("n"))
              .where(r.person_id.is_not(None), r.status.in_(LINKED_STATUSES))
              .subquery("ranked"))
    current_at_end = and_(c.issued_at < end, or_null_after(c.revoked_at, end))
    certs = (select(c.person_id.label("person_id"),
                    func.max(case((current_at_end, 1), else_=0)).label("signed"),
                    _count(c.revoked_at < end).label("revoked"), func.count().label("n"))
             .where(c.state.in_(("issued", "revoked")), c.issued_at < end)
             .group_by(c.person_id).subquery("certs"))
    keys = (ranked.c.province_code, ranked.c.commune_code, ranked.c.facility_id)
    values = {
        "people_linked": func.count(),
        "people_signed": func.sum(func.coalesce(certs.c.signed, 0)),
        "certificates_revoked": func.sum(func.coalesce(certs.c.revoked, 0)),
        "certificates_reissued": func.sum(case((certs.c.n > 1, certs.c.n - 1), else_=0)),
    }
    return (select(*_part(keys, values))
            .select_from(ranked.outerjoin(certs, certs.c.person_id == ranked.c.person_id))
            .where(ranked.c.n == 1, scope_filter(actor, keys[0], keys[2], keys[1]))
            .group_by(*keys))


def or_null_after(value: Expr, end: str) -> ColumnElement[bool]:
    """``value`` is unset or not before ``end`` (a certificate not yet revoked at the end)."""
    return (value.is_(None)) | (value >= end)


def _complaints_part(actor: Actor, end: str) -> Select[Any]:
    """Complaints (issue 15's ``complaint`` table): received, open, overdue, resolved, refused
    by the end of the day; settled means state resolved or refused with its time."""
    t = table(COMPLAINT_TABLE, column("province_code"), column("commune_code"),
              column("facility_id"), column("state"), column("received_at"),
              column("deadline_at"), column("resolved_at"))
    keys = (func.coalesce(t.c.province_code, literal_column("''")),
            func.coalesce(t.c.commune_code, literal_column("''")),
            func.coalesce(t.c.facility_id, literal_column("''")))
    settled_by_end = and_(t.c.state.in_(("resolved", "refused")), t.c.resolved_at < end)
    still_open = not_(settled_by_end)
    values = {
        "complaints_received": func.count(),
        "complaints_open": _count(still_open),
        "complaints_overdue": _count(and_(still_open, t.c.deadline_at < end)),
        "complaints_resolved": _count(and_(settled_by_end, t.c.state == "resolved")),
        "complaints_refused": _count(and_(settled_by_end, t.c.state == "refused")),
    }
    return (select(*_part(keys, values)).where(t.c.received_at < end,
                                               scope_filter(actor, keys[0], keys[2], keys[1]))
            .group_by(*keys))


def has_complaints(session: Session) -> bool:
    return inspect(session.connection()).has_table(COMPLAINT_TABLE)


def figures_query(session: Session, actor: Actor, day: dt.date) -> Select[Any]:
    """One row per (province, commune, facility) in the actor's scope, counts as of ``day``."""
    end = day_end_text(day)
    parts = [_records_part(actor), _review_part(actor, end, day), _people_part(actor, end)]
    if has_complaints(session):
        parts.append(_complaints_part(actor, end))
    union = union_all(*parts).subquery("parts")
    keys = [union.c[name] for name in KEYS]
    return (select(*keys, *(func.sum(union.c[name]).label(name) for name in COUNTS),
                   func.min(union.c.review_oldest_at).label("review_oldest_at"))
            .group_by(*keys))


def _rows(result: Sequence[object]) -> list[GrainRow]:
    out = []
    for row in result:
        mapping = row._mapping  # type: ignore[attr-defined]
        values = {name: mapping[name] for name in GRAIN_FIELDS}
        for name in COUNTS:
            values[name] = int(values[name] or 0)
        out.append(GrainRow(**values))
    return out


# PostgreSQL's default work_mem (4 MB) sends the query's sorts and hashes to disk at millions
# of records (two to three times slower at 10 M, benchmarks/README.md); for this transaction only.
REPORT_WORK_MEM = "256MB"


def _room_to_sort(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sql_text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))


def live(session: Session, actor: Actor, day: dt.date) -> list[GrainRow]:
    """The counts computed now from the store (the report of today)."""
    actor.require(Permission.REPORT)
    _room_to_sort(session)
    return _rows(session.execute(figures_query(session, actor, day)).all())


def stored(session: Session, actor: Actor, day: dt.date) -> list[GrainRow] | None:
    """The snapshot of ``day`` within the actor's scope, or None when none was taken."""
    actor.require(Permission.REPORT)
    s = ProgressSnapshot
    taken = session.scalar(select(func.count()).where(s.snapshot_date == day.isoformat()))
    if not taken:
        return None
    rows = session.execute(
        select(*(s.__table__.c[name] for name in GRAIN_FIELDS))
        .where(s.snapshot_date == day.isoformat(),
               scope_filter(actor, s.province_code, s.facility_id, s.commune_code))
        .order_by(s.province_code, s.commune_code, s.facility_id)).all()
    return _rows(rows)


def snapshot_dates(session: Session) -> list[dt.date]:
    s = ProgressSnapshot
    return [dt.date.fromisoformat(d) for d in session.scalars(
        select(s.snapshot_date).distinct().order_by(s.snapshot_date))]


@dataclass(frozen=True)
class SnapshotResult:
    snapshot_date: dt.date
    rows: int
    replaced: int


# A snapshot holds the whole store's counts whoever takes it (reports filter it by scope when
# they read it back); counts only, no personal data.
WHOLE_STORE = Actor("system:snapshot", Role.MINISTRY)


def take(session: Session, actor: Actor, day: dt.date, *, today: dt.date | None = None,
         after_publish: bool = False) -> SnapshotResult:
    """Write the whole store's counts of ``day`` (replacing that day's rows); audited as
    ``snapshot_taken`` by ``actor``.

    Taken by the ministry (``vaxtrust report snapshot``), or by whoever just published a run
    (``after_publish``: a daily run keeps today's snapshot current). Only today's (or
    yesterday's, for a run just after midnight) counts can be taken: the store keeps no past
    state of records and review items (``docs/reports.md``, "Daily snapshots").
    """
    if not after_publish:
        actor.require(Permission.CAMPAIGNS)
    now_day = today or today_vn()
    if day > now_day or day < now_day - dt.timedelta(days=1):
        raise ConfigError(f"a snapshot of {day.isoformat()} cannot be taken on "
                          f"{now_day.isoformat()}: only today's or yesterday's (the store keeps "
                          "no past state of records)")
    s = ProgressSnapshot
    replaced = session.execute(delete(s).where(s.snapshot_date == day.isoformat())
                               .execution_options(synchronize_session=False))
    _room_to_sort(session)
    query = figures_query(session, WHOLE_STORE, day).subquery("figures")
    columns = ["snapshot_date", *KEYS, *COUNTS, "review_oldest_at", "taken_at"]
    source = select(literal(day.isoformat()), *(query.c[name] for name in KEYS),
                    *(query.c[name] for name in COUNTS), query.c.review_oldest_at,
                    literal(utc_now_text()))
    session.execute(insert(s).from_select(columns, source))
    # Counted, not taken from rowcount: drivers differ on INSERT ... SELECT.
    rows = session.scalar(select(func.count()).where(s.snapshot_date == day.isoformat())) or 0
    audit.append(session, [audit.SnapshotTaken(
        actor=actor.username, subject_id=f"snapshot:{day.isoformat()}",
        snapshot_date=day.isoformat(), rows=rows)])
    return SnapshotResult(day, rows, int(getattr(replaced, "rowcount", 0) or 0))


def trend(session: Session, actor: Actor, until: dt.date) -> list[dict[str, Any]]:
    """Per snapshot date up to ``until``: records, authenticated, linked and signed people."""
    actor.require(Permission.REPORT)
    s = ProgressSnapshot
    rows = session.execute(
        select(s.snapshot_date, func.sum(s.records), func.sum(s.verified + s.corrected),
               func.sum(s.people_linked), func.sum(s.people_signed),
               func.sum(s.complaints_open))
        .where(s.snapshot_date <= until.isoformat(),
               scope_filter(actor, s.province_code, s.facility_id, s.commune_code))
        .group_by(s.snapshot_date).order_by(s.snapshot_date)).all()
    return [{"date": day, "records": int(a or 0), "authenticated": int(b or 0),
             "people_linked": int(c or 0), "people_signed": int(d or 0),
             "complaints_open": int(e or 0)} for day, a, b, c, d, e in rows]
