"""What the officer pages and the API show, read through the store's scope layer.

Each function takes the caller's session and Actor; the Actor's filters decide what any query
can return, so a page cannot show another province's rows whatever its parameters say.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from vaxtrust.complaints.deadlines import time_text
from vaxtrust.review import queue
from vaxtrust.signing import queue as signing
from vaxtrust.store import audit, records
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import (
    COMPLAINT_OPEN_SQL,
    Certificate,
    Complaint,
    DoseHistory,
    ReviewItem,
    SigningTask,
    VaccinationRecord,
)
from vaxtrust.web.sessions import store_time

AGE_BUCKETS = ((7, "≤ 7"), (30, "8–30"), (None, "> 30"))
MAX_AGE_DAYS = 3650


def waiting_longer_than(days: int, now: datetime | None = None) -> str | None:
    """The queue's age filter: the store time items must be older than (None: any age)."""
    return store_time((now or datetime.now(UTC)) - timedelta(days=days)) if days else None


@dataclass(frozen=True)
class Dashboard:
    by_status: dict[str, int]
    backlog: int
    backlog_by_age: list[tuple[str, int]]
    signed: int
    revoked: int
    reissued: int
    waiting: int
    refused: int
    complaints_open: int = 0
    complaints_overdue: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"records_by_status": self.by_status, "review_backlog": self.backlog,
                "review_backlog_by_age_days": dict(self.backlog_by_age),
                "people_signed": self.signed, "certificates_revoked": self.revoked,
                "certificates_reissued": self.reissued, "signing_waiting": self.waiting,
                "signing_refused": self.refused, "complaints_open": self.complaints_open,
                "complaints_overdue": self.complaints_overdue}


def dashboard(session: Session, actor: Actor, *, now: datetime | None = None) -> Dashboard:
    moment = now or datetime.now(UTC)
    by_status = {status: count for status, count in session.execute(
        select(VaccinationRecord.status, func.count())
        .where(actor.records_filter()).group_by(VaccinationRecord.status))}
    reviewing = actor.role in (Role.MINISTRY, Role.PROVINCE, Role.FACILITY)
    ages: list[tuple[str, int]] = []
    backlog = 0
    if reviewing:
        awaiting = (actor.review_items_filter(), ReviewItem.state.in_(queue.AWAITING))
        upper: str | None = None
        for days, name in AGE_BUCKETS:
            query = select(func.count()).select_from(ReviewItem).where(*awaiting)
            if upper is not None:
                query = query.where(ReviewItem.created_at < upper)
            if days is not None:
                query = query.where(
                    ReviewItem.created_at >= store_time(moment - timedelta(days=days)))
            ages.append((name, session.scalar(query) or 0))
            upper = store_time(moment - timedelta(days=days)) if days is not None else upper
        backlog = sum(count for _, count in ages)

    def certificates(state: str) -> int:
        return session.scalar(select(func.count()).select_from(Certificate).where(
            Certificate.state == state, actor.persons_filter(Certificate.person_id))) or 0

    def tasks(*conditions: Any) -> int:
        return session.scalar(select(func.count()).select_from(SigningTask).where(
            actor.persons_filter(SigningTask.person_id), *conditions)) or 0

    return Dashboard(
        by_status, backlog, ages, certificates("issued"), certificates("revoked"),
        tasks(SigningTask.action == "revoke_and_reissue", SigningTask.state == "done"),
        tasks(SigningTask.state == "pending"), tasks(SigningTask.state == "failed"),
        *(_complaint_counts(session, actor, moment) if reviewing else (0, 0)))


def _complaint_counts(session: Session, actor: Actor, moment: datetime) -> tuple[int, int]:
    """Open and overdue complaints in the officer's complaint scope (the inbox's own filter:
    the partial indexes' predicate, so the counts use them)."""
    open_ = (actor.complaints_filter(), text(COMPLAINT_OPEN_SQL))
    count = select(func.count()).select_from(Complaint).where(*open_)
    overdue = count.where(Complaint.deadline_at < time_text(moment))
    return session.scalar(count) or 0, session.scalar(overdue) or 0


@dataclass(frozen=True)
class FieldRow:
    """One field of the item page: the record's value beside each candidate's, with verdicts."""

    name: str
    original: str | None
    standardised: str | None                      # as the cleaning compared it
    candidates: list[tuple[str | None, str]]      # (register value, verdict code)


def compare_rows(detail: queue.ItemDetail) -> list[FieldRow]:
    """Field by field: the record as entered and as compared, each candidate's register value
    with the cleaning's verdict (none where the cleaning compared nothing)."""
    rows = []
    for name in detail.original:
        cells = []
        standardised = detail.current[name]
        for candidate in detail.candidates:
            difference = candidate.differences.get(name)
            verdict = ""
            if isinstance(difference, dict):
                verdict = str(difference.get("verdict") or "")
                standardised = difference.get("record", standardised)
            cells.append((candidate.register.get(name), verdict))
        rows.append(FieldRow(name, detail.original[name], standardised, cells))
    return rows


def decision_from_form(values: dict[str, str]) -> queue.DecisionInput:
    """A decision from the item page's one form (action, rank, note, field edits)."""
    from vaxtrust.errors import ConfigError

    action, note = values.get("action", ""), values.get("note", "").strip()
    if not note:
        raise ConfigError("a decision needs a note")
    if action.startswith("accept:"):
        rank = action.removeprefix("accept:")
        if not rank.isdigit():
            raise ConfigError("choose a candidate")
        return queue.AcceptCandidate(int(rank), note)
    if action == "reject_all":
        return queue.RejectAll(note)
    if action == "defer":
        return queue.Defer(note)
    if action == "edit":
        edits = {name: values[f"edit_{name}"] for name in queue.EDITABLE_FIELDS
                 if values.get(f"edit_{name}", "").strip()}
        return queue.EditFields(edits, note, values.get("person_id") or None)
    raise ConfigError("choose what to decide")


def next_item_id(session: Session, actor: Actor, after: int) -> int | None:
    actor.require(Permission.REVIEW)
    return session.scalar(
        select(ReviewItem.id).where(actor.review_items_filter(),
                                    ReviewItem.state.in_(queue.AWAITING), ReviewItem.id > after)
        .order_by(ReviewItem.id).limit(1)) or session.scalar(
        select(ReviewItem.id).where(actor.review_items_filter(),
                                    ReviewItem.state.in_(queue.AWAITING), ReviewItem.id < after)
        .order_by(ReviewItem.id).limit(1))


@dataclass(frozen=True)
class RecordPage:
    record: VaccinationRecord
    history: list[records.FieldValue]
    events: list[dict[str, Any]]
    doses: list[DoseHistory]
    certificates: list[Certificate]
    review_items: list[ReviewItem] = field(default_factory=list)


def _event(row: Any) -> dict[str, Any]:
    try:
        payload = json.loads(row.payload)
    except (TypeError, ValueError):
        payload = {}
    return {"seq": row.seq, "at": row.occurred_at, "type": row.event_type, "actor": row.actor,
            "payload": payload}


def record_page(session: Session, actor: Actor, record_id: str) -> RecordPage:
    record = records.get_record(session, actor, record_id)
    history = records.record_history(session, actor, record_id)
    events = [_event(row) for row in audit.events_for(session, f"record:{record_id}")
              if row.event_type != "personal_data_accessed"]
    doses: list[DoseHistory] = []
    certificates: list[Certificate] = []
    if record.person_id:
        doses = list(session.scalars(
            select(DoseHistory)
            .join(VaccinationRecord, VaccinationRecord.record_id == DoseHistory.record_id)
            .where(DoseHistory.person_id == record.person_id, actor.records_filter())
            .order_by(DoseHistory.vaccinated_on, DoseHistory.record_id)))
        certificates = list(session.scalars(select(Certificate).where(
            Certificate.person_id == record.person_id,
            actor.persons_filter(Certificate.person_id)).order_by(Certificate.issued_at)))
    items = list(session.scalars(select(ReviewItem).where(
        ReviewItem.record_id == record_id).order_by(ReviewItem.id))) \
        if actor.role in (Role.MINISTRY, Role.PROVINCE, Role.FACILITY) else []
    return RecordPage(record, history, events, doses, certificates, items)


@dataclass(frozen=True)
class PersonPage:
    person: Any
    records: list[VaccinationRecord]
    doses: list[DoseHistory]
    certificates: list[Certificate]


def person_page(session: Session, actor: Actor, person_id: str) -> PersonPage:
    own = list(session.scalars(select(VaccinationRecord).where(
        VaccinationRecord.person_id == person_id, actor.records_filter())
        .order_by(VaccinationRecord.record_id)))
    certificates = list(session.scalars(select(Certificate).where(
        Certificate.person_id == person_id, actor.persons_filter(Certificate.person_id))
        .order_by(Certificate.issued_at)))
    # Last: the one access event takes the audit chain's lock, held until the commit.
    person, doses = records.person_with_doses(session, actor, person_id)
    return PersonPage(person, own, list(doses), certificates)


@dataclass(frozen=True)
class SigningPage:
    waiting: list[SigningTask]
    done: list[SigningTask]
    refused: list[SigningTask]


def signing_page(session: Session, actor: Actor, *, limit: int = 100) -> SigningPage:
    return SigningPage(
        list(signing.list_tasks(session, actor, state="pending", limit=limit)),
        list(signing.list_tasks(session, actor, state="done", limit=limit)),
        list(signing.list_tasks(session, actor, state="failed", limit=limit)))


def record_json(record: VaccinationRecord) -> dict[str, Any]:
    return {"record_id": record.record_id, "facility_id": record.facility_id,
            "province_code": record.province_code, "status": record.status,
            "person_id": record.person_id, "full_name": record.full_name, "dob": record.dob,
            "gender": record.gender, "id_number": record.id_number,
            "original": {name: getattr(record, f"original_{name}") for name in (
                "full_name", "dob", "gender", "id_number", "dose_number", "vaccine",
                "vaccinated_on")},
            "reasons": _json_list(record.reasons), "version": record.version}


def dose_json(dose: DoseHistory) -> dict[str, Any]:
    return {"record_id": dose.record_id, "dose_number": dose.dose_number,
            "vaccine": dose.vaccine_mp, "vaccinated_on": dose.vaccinated_on,
            "facility_id": dose.facility_id, "duplicate_of": dose.duplicate_of,
            "flags": _json_list(dose.flags)}


def certificate_json(certificate: Certificate) -> dict[str, Any]:
    return {"uvci": certificate.uvci, "state": certificate.state,
            "issued_at": certificate.issued_at, "revoked_at": certificate.revoked_at,
            "revoke_reason": certificate.revoke_reason}


def task_json(task: SigningTask) -> dict[str, Any]:
    return {"id": task.id, "person_id": task.person_id, "action": task.action,
            "state": task.state, "reason": task.reason, "created_at": task.created_at,
            "error": task.error}


def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(item) for item in value] if isinstance(value, list) else []


class RecentCounts:
    """Counts a few seconds old, per worker: the review queue's total is most of the cost of
    its page on a national queue (80 k items: a scan per page view), and a total that lags a
    decision by ``seconds`` misleads nobody. The items themselves are always read fresh."""

    def __init__(self, seconds: float = 10.0, clock: Callable[[], float] = time.monotonic,
                 size: int = 1000) -> None:
        self.seconds, self.clock, self.size = seconds, clock, size
        self._counts: dict[tuple[object, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[object, ...]) -> int | None:
        with self._lock:
            found = self._counts.get(key)
        return found[1] if found is not None and found[0] > self.clock() else None

    def put(self, key: tuple[object, ...], count: int) -> None:
        with self._lock:
            if len(self._counts) >= self.size:
                self._counts.clear()
            self._counts[key] = (self.clock() + self.seconds, count)
