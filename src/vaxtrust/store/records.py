"""Repository of dose records, register persons and dose histories, always within scope.

Reads that show personal data append a ``personal_data_accessed`` audit event, so a person's
data can always be traced to who looked at it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, NotFound, PermissionDenied
from vaxtrust.store import audit
from vaxtrust.store.scope import AUTHENTICATION_STATUSES, Actor, Role
from vaxtrust.store.tables import (
    Correction,
    DoseHistory,
    Person,
    Run,
    VaccinationRecord,
)

# The fields whose history is kept: the identity fields, the link and the outcome.
TRACKED_FIELDS = ("full_name", "dob", "gender", "id_number", "person_id", "status")
MAX_PAGE_SIZE = 1000
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def check_paging(page: int, page_size: int) -> None:
    if page < 1:
        raise ConfigError(f"page must be 1 or more, not {page}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ConfigError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")


def log_access(session: Session, actor: Actor, subject_id: str, purpose: str) -> None:
    audit.append(session, [audit.PersonalDataAccessed(
        actor=actor.username, subject_id=subject_id, purpose=purpose,
    )])


def get_record(session: Session, actor: Actor, record_id: str, *,
               purpose: str = "record view") -> VaccinationRecord:
    """One record in the actor's scope, else NotFound (never says whether it exists elsewhere)."""
    record = session.scalar(
        select(VaccinationRecord).where(
            VaccinationRecord.record_id == record_id, actor.records_filter()
        )
    )
    if record is None:
        raise NotFound(f"no record {record_id} in your scope")
    log_access(session, actor, f"record:{record_id}", purpose)
    return record


def list_records(
    session: Session, actor: Actor, *, status: str | None = None,
    facility_id: str | None = None, page: int = 1, page_size: int = 50,
) -> Page[VaccinationRecord]:
    check_paging(page, page_size)
    query = select(VaccinationRecord).where(actor.records_filter())
    if status:
        query = query.where(VaccinationRecord.status == status)
    if facility_id:
        query = query.where(VaccinationRecord.facility_id == facility_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(VaccinationRecord.record_id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(rows, total, page, page_size)


def authentication_list(
    session: Session, actor: Actor, *, page: int = 1, page_size: int = 50,
) -> Page[VaccinationRecord]:
    """Records of a commune still to authenticate against the register (commune police)."""
    if actor.role in (Role.CITIZEN,):
        raise PermissionDenied(f"user {actor.username} ({actor.role}) has no authentication list")
    check_paging(page, page_size)
    query = select(VaccinationRecord).where(
        actor.records_filter(), VaccinationRecord.status.in_(AUTHENTICATION_STATUSES)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(VaccinationRecord.commune_code, VaccinationRecord.record_id)
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(rows, total, page, page_size)


@dataclass(frozen=True)
class FieldValue:
    """One value a field had, who gave it and why."""

    field: str
    value: str | None
    actor: str
    reason: str
    at: str


def record_history(session: Session, actor: Actor, record_id: str) -> list[FieldValue]:
    """Every value each tracked field ever had: the first one, then each correction in order.

    The identity fields start with the facility's original value; the link and the outcome
    start with what the first cleaning run published.
    """
    record = get_record(session, actor, record_id, purpose="record history")
    first_run = session.get(Run, record.first_run_id)
    published_at = first_run.published_at if first_run else record.updated_at
    publisher = first_run.published_by if first_run else "unknown"
    corrections = session.scalars(
        select(Correction).where(Correction.record_id == record_id).order_by(Correction.id)
    ).all()
    history: list[FieldValue] = []
    for field in TRACKED_FIELDS:
        changes = [c for c in corrections if c.field == field]
        if field in ("person_id", "status"):
            first = changes[0].old_value if changes else getattr(record, field)
            source = f"cleaning run {record.first_run_id}"
        else:
            first = getattr(record, f"original_{field}")
            source = "facility export (original)"
        history.append(FieldValue(field, first, publisher, source, published_at))
        history.extend(FieldValue(field, c.new_value, c.actor, c.reason, c.made_at)
                       for c in changes)
    return history


def get_person(session: Session, actor: Actor, person_id: str) -> Person:
    person = session.scalar(
        select(Person).where(Person.person_id == person_id, actor.persons_filter(Person.person_id))
    )
    if person is None:
        raise NotFound(f"no person {person_id} in your scope")
    log_access(session, actor, f"person:{person_id}", "person view")
    return person


def person_dose_history(session: Session, actor: Actor, person_id: str) -> Sequence[DoseHistory]:
    """The person's consolidated doses, only from records the actor may see."""
    return person_with_doses(session, actor, person_id)[1]


def person_with_doses(session: Session, actor: Actor, person_id: str) -> \
        tuple[Person, Sequence[DoseHistory]]:
    """The person and their consolidated doses (from records the actor may see), with one
    access event. The doses are read first: the event takes the audit chain's lock, held until
    the caller's commit, so the lock covers no read."""
    doses = session.scalars(
        select(DoseHistory)
        .join(VaccinationRecord, VaccinationRecord.record_id == DoseHistory.record_id)
        .where(DoseHistory.person_id == person_id, actor.records_filter())
        .order_by(DoseHistory.dose_number, DoseHistory.vaccinated_on)
    ).all()
    return get_person(session, actor, person_id), doses
