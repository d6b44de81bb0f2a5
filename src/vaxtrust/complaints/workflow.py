"""The complaint workflow in the store: file, list, show, assign, escalate, refuse, resolve.

Every function takes the session and the :class:`~vaxtrust.store.scope.Actor` and adds the
actor's complaint scope to its SQL. State changes use the optimistic lock (``version``) and append
a typed audit event. Resolving goes through the review queue's decision
(:func:`vaxtrust.review.queue.decide`): the record is linked or corrected to the register by the
same code, with the same checks and the same audit trail, as an officer's review decision.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Final

from sqlalchemy import ColumnElement, and_, func, select, text, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from vaxtrust.complaints import grounds, parallel
from vaxtrust.complaints.deadlines import DeadlineRule, time_text
from vaxtrust.complaints.model import FINAL_STATES, OPEN_STATES, check_transition
from vaxtrust.complaints.routing import facility_provinces, route
from vaxtrust.complaints.standardise import ComplaintInput
from vaxtrust.complaints.triage import Proposal, Triage, proposal_from_json, triage_then
from vaxtrust.errors import ConfigError, NotFound, PermissionDenied, ReviewConflict
from vaxtrust.review import queue
from vaxtrust.signing import queue as signing
from vaxtrust.store import audit, bulk
from vaxtrust.store.doses import LINKED_STATUSES
from vaxtrust.store.records import MAX_PAGE_SIZE, log_access
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import (
    COMPLAINT_OPEN_SQL,
    COMPLAINT_STATES,
    Complaint,
    ComplaintAttachment,
    Facility,
    Person,
    ReviewCandidate,
    ReviewItem,
    ReviewItemReason,
    VaccinationRecord,
    utc_now_text,
)

NUMBERS_TABLE: Final = "import_numbers"   # an import's complaint numbers (temporary)
COMPLAINT_REASON: Final = "complaint"   # the review item reason of items a complaint opened


# ---------------------------------------------------------------- filing

@dataclass(frozen=True)
class Filed:
    ids: list[int]
    skipped: int   # complaint numbers stored before (imports are idempotent)
    proposals: int
    outside: list[ComplaintInput] = field(default_factory=list)   # routed outside the scope


def _within(actor: Actor, row: dict[str, Any]) -> bool:
    """Keep an officer's import inside their scope: what would route elsewhere is refused,
    what routes nowhere becomes theirs (they imported it, they handle it)."""
    match actor.role:
        case Role.PROVINCE:
            row["province_code"] = row["province_code"] or actor.province_code
            return bool(row["province_code"] == actor.province_code)
        case Role.FACILITY:
            if row["facility_id"] is None and row["province_code"] in (None,
                                                                       actor.province_code):
                row.update(facility_id=actor.facility_id, province_code=actor.province_code,
                           routing="facility")
            return bool(row["facility_id"] == actor.facility_id)
        case Role.MINISTRY | Role.CITIZEN:
            return True
    return False


@lru_cache(maxsize=4096)
def _times(rule: DeadlineRule, received: dt.datetime) -> tuple[str, str]:
    """A complaint's received and deadline times as stored (an import shares a few moments)."""
    return time_text(received), time_text(rule.deadline(received))


def _row(item: ComplaintInput, found: Triage, known: dict[str, str], *, channel: str,
         filed_by: str, now: dt.datetime, rule: DeadlineRule) -> dict[str, Any]:
    received, deadline = _times(rule, item.received_at or now)
    facts = route(found.facility_id, found.province_code, item.province_code,
                  item.district_code, known)
    stamp = _times(rule, now)[0]
    proposal = found.proposal
    return {
        "external_id": item.external_id, "channel": channel, "filed_by": filed_by,
        "state": "received", "category": item.category, "version": 1,
        "full_name": item.full_name, "dob": item.dob, "gender": item.gender,
        "phone": item.phone, "id_number": item.id_number, "address": item.address,
        "description": item.description, "dose_number": item.dose_number,
        "vaccine": item.vaccine, "vaccinated_on": item.vaccinated_on,
        "claimed_facility_id": item.claimed_facility_id, "person_id": found.person_id,
        "record_id": proposal.record_id if proposal else None,
        "proposal": proposal.kind if proposal else None,
        "proposal_detail": audit.canonical_json(proposal.as_json() if proposal else {}),
        "routing": facts.routing, "facility_id": facts.facility_id,
        "province_code": facts.province_code or item.province_code,
        "district_code": item.district_code, "commune_code": item.commune_code,
        "assignee": None, "received_at": received, "deadline_at": deadline,
        "updated_at": stamp,
        "escalated_at": None, "resolved_at": None, "refusal_ground": None,
        "resolution_note": None, "decision_id": None,
    }


def file_complaints(session: Session, actor: Actor, items: Sequence[ComplaintInput], *,
                    channel: str, rule: DeadlineRule, now: dt.datetime | None = None,
                    filed_by: str | None = None) -> Filed:
    """Triage, route and store complaints (set-based inserts; the caller audits them)."""
    now = now or dt.datetime.now(dt.UTC)
    doses = [(filing, dose) for filing, item in enumerate(items) for dose in item.per_dose()]
    seen = _stored_numbers(session, {dose.external_id for _, dose in doses if dose.external_id})
    fresh = [(filing, dose) for filing, dose in doses
             if not dose.external_id or dose.external_id not in seen]
    build = partial(_stored_rows, actor, channel=channel, filed_by=filed_by or actor.username,
                    now=now, rule=rule)
    rows: list[StoredRow] = []
    filings: list[int] = []
    outside: list[ComplaintInput] = []
    with parallel.paused_gc():
        made = triage_then(session, [dose for _, dose in fresh], build)
        for (filing, item), row in zip(fresh, made, strict=True):
            if row is None:
                outside.append(item)
            else:
                rows.append(row)
                filings.append(filing)
        ids = _insert(session, rows, filings)
    return Filed(ids, len(doses) - len(fresh), sum(1 for row in rows if row[PROPOSAL_AT]),
                 outside)


StoredRow = tuple[Any, ...]   # a complaint's STORED_COLUMNS values


def _stored_rows(actor: Actor, session: Session, claims: Sequence[ComplaintInput],
                 found: list[Triage], *, channel: str, filed_by: str, now: dt.datetime,
                 rule: DeadlineRule) -> list[StoredRow | None]:
    """Each claim's row as stored (routed), or None when it routes outside ``actor``'s scope.
    Made where the triage ran (a worker, on a large import): the parent only adds the ids."""
    known = facility_provinces(session, {f.facility_id for f in found if f.facility_id})
    made: list[StoredRow | None] = []
    for item, result in zip(claims, found, strict=True):
        values = _row(item, result, known, channel=channel, filed_by=filed_by, now=now,
                      rule=rule)
        made.append(tuple(values[name] for name in STORED_COLUMNS)
                    if _within(actor, values) else None)
    return made


def _stored_numbers(session: Session, numbers: set[str]) -> set[str]:
    """The complaint numbers of ``numbers`` stored before: one bulk load into a temporary
    table and one join (a million numbers are not a million bound parameters)."""
    if not numbers:
        return set()
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {NUMBERS_TABLE}")
    connection.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {NUMBERS_TABLE} (external_id TEXT PRIMARY KEY)")
    try:
        bulk.insert_rows(connection, NUMBERS_TABLE, ("external_id",),
                         ((number,) for number in sorted(numbers)))
        return {row[0] for row in connection.exec_driver_sql(
            f"SELECT c.external_id FROM complaint c JOIN {NUMBERS_TABLE} n "
            "ON n.external_id = c.external_id")}
    finally:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {NUMBERS_TABLE}")


# The columns an import's workers fill; the parent adds the ids (reserved once, in order).
STORED_COLUMNS: Final = tuple(column.name for column in Complaint.__table__.columns
                              if column.name not in ("id", "filing_id"))
PROPOSAL_AT: Final = STORED_COLUMNS.index("proposal")


def _insert(session: Session, rows: list[StoredRow], filings: list[int]) -> list[int]:
    """Store the rows in one bulk load (COPY on PostgreSQL) under ids reserved first; the
    doses of one form (same ``filings`` entry) share the first one's id as ``filing_id``."""
    connection = session.connection()
    ids = bulk.reserve_ids(connection, Complaint.__tablename__, len(rows))
    first: dict[int, int] = {}
    for number, filing in zip(ids, filings, strict=True):
        first.setdefault(filing, number)
    sizes = Counter(filings)
    bulk.insert_rows(connection, Complaint.__tablename__, ("id", "filing_id", *STORED_COLUMNS),
                     ((number, first[filing] if sizes[filing] > 1 else None, *row)
                      for number, filing, row in zip(ids, filings, rows, strict=True)))
    return ids


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class ComplaintFilter:
    """Which complaints to list; every field narrows the actor's scope, never widens it."""

    states: Sequence[str] = OPEN_STATES
    facility_id: str | None = None
    province_code: str | None = None
    overdue: bool = False
    after: str | None = None   # the keyset cursor of the previous page (``deadline|id``)
    limit: int = 50

    def __post_init__(self) -> None:
        unknown = [s for s in self.states if s not in COMPLAINT_STATES]
        if unknown:
            raise ConfigError(f"complaint state {', '.join(unknown)}: use "
                              f"{', '.join(COMPLAINT_STATES)}")
        if not 1 <= self.limit <= MAX_PAGE_SIZE:
            raise ConfigError(f"page size must be between 1 and {MAX_PAGE_SIZE}, not "
                              f"{self.limit}")


@dataclass(frozen=True)
class ComplaintSummary:
    id: int
    version: int
    state: str
    category: str
    channel: str
    facility_id: str | None
    province_code: str | None
    routing: str
    received_at: str
    deadline_at: str
    overdue: bool
    proposal: str | None
    record_id: str | None
    assignee: str | None


@dataclass(frozen=True)
class InboxPage:
    items: list[ComplaintSummary]
    next_cursor: str | None


def _summary(row: Complaint, now_text: str) -> ComplaintSummary:
    return ComplaintSummary(
        row.id, row.version, row.state, row.category, row.channel, row.facility_id,
        row.province_code, row.routing, row.received_at, row.deadline_at,
        row.state in OPEN_STATES and row.deadline_at < now_text, row.proposal, row.record_id,
        row.assignee)


MAX_ID: Final = 2**31 - 1   # the store's integer keys (a cursor past them is none it gave)


def _cursor(text_value: str) -> tuple[str, int]:
    deadline, sep, number = text_value.rpartition("|")
    if not sep or not (number.isascii() and number.isdigit()) or \
            len(number) > len(str(MAX_ID)) or int(number) > MAX_ID:
        raise ConfigError(f"page cursor {text_value!r} is not one this list gave")
    return deadline, int(number)


def _state_filter(states: Sequence[str]) -> ColumnElement[bool] | TextClause:
    if set(states) == set(OPEN_STATES):
        # Exactly the partial indexes' predicate, so the inbox uses them.
        return text(COMPLAINT_OPEN_SQL)
    return Complaint.state.in_(states)


def list_complaints(session: Session, actor: Actor, query: ComplaintFilter, *,
                    now: dt.datetime | None = None) -> InboxPage:
    """One page of the actor's complaints, soonest deadline first, paged by keyset."""
    _require_reader(actor)
    now_text = time_text(now or dt.datetime.now(dt.UTC))
    statement = select(Complaint).where(actor.complaints_filter(), _state_filter(query.states))
    if query.facility_id:
        statement = statement.where(Complaint.facility_id == query.facility_id)
    if query.province_code:
        statement = statement.where(Complaint.province_code == query.province_code)
    if query.overdue:
        statement = statement.where(Complaint.deadline_at < now_text,
                                    text(COMPLAINT_OPEN_SQL))
    if query.after:
        statement = statement.where(
            tuple_(Complaint.deadline_at, Complaint.id) > tuple_(*_cursor(query.after)))
    rows = session.scalars(statement.order_by(Complaint.deadline_at, Complaint.id)
                           .limit(query.limit + 1)).all()
    items = [_summary(row, now_text) for row in rows[:query.limit]]
    last = rows[query.limit - 1] if len(rows) > query.limit else None
    return InboxPage(items, f"{last.deadline_at}|{last.id}" if last else None)


@dataclass(frozen=True)
class ComplaintDetail:
    summary: ComplaintSummary
    claim: dict[str, Any]
    proposal: Proposal | None
    proposal_text: tuple[str, str] | None
    register: dict[str, str | None] | None
    record: dict[str, Any] | None
    refusal_ground: str | None
    resolution_note: str | None
    resolved_at: str | None
    decision_id: int | None
    attachments: list[dict[str, Any]] = field(default_factory=list)


CLAIM_FIELDS: Final = ("full_name", "dob", "gender", "phone", "id_number", "address",
                       "description", "dose_number", "vaccine", "vaccinated_on",
                       "claimed_facility_id", "external_id", "person_id", "district_code",
                       "commune_code")


def _require_reader(actor: Actor) -> None:
    if actor.role is not Role.CITIZEN:
        actor.require(Permission.REVIEW)


def complaint_in_scope(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    _require_reader(actor)
    row = session.scalar(select(Complaint).where(Complaint.id == complaint_id,
                                                 actor.complaints_filter()))
    if row is None:
        raise NotFound(f"no complaint {complaint_id} in your scope")
    return row


def _record_view(session: Session, actor: Actor, record_id: str | None) -> dict[str, Any] | None:
    if not record_id or actor.role is Role.CITIZEN:
        return None
    record = session.get(VaccinationRecord, record_id)
    if record is None:
        return None
    names = ("full_name", "dob", "gender", "id_number", "dose_number", "vaccine",
             "vaccinated_on", "facility_id")
    return {"record_id": record.record_id, "status": record.status,
            "person_id": record.person_id, "facility_id": record.facility_id,
            "original": {name: getattr(record, f"original_{name}") for name in names},
            "current": {name: getattr(record, name) for name in
                        ("full_name", "dob", "gender", "id_number")}}


def show_complaint(session: Session, actor: Actor, complaint_id: int, *,
                   now: dt.datetime | None = None) -> ComplaintDetail:
    """The complaint, its claim, triage proposal, record and register person side by side."""
    row = complaint_in_scope(session, actor, complaint_id)
    now_text = time_text(now or dt.datetime.now(dt.UTC))
    detail = json.loads(row.proposal_detail or "{}")
    proposal = proposal_from_json(row.proposal, detail)
    person = session.get(Person, row.person_id) if row.person_id else None
    register = ({"person_id": person.person_id, "full_name": person.full_name,
                 "dob": person.dob, "gender": person.gender, "old_id": person.old_id}
                if person and actor.role is not Role.CITIZEN else None)
    attachments = [{"sha256": a.sha256, "content_type": a.content_type, "size": a.size}
                   for a in session.scalars(select(ComplaintAttachment).where(
                       ComplaintAttachment.complaint_id == row.id))]
    log_access(session, actor, f"complaint:{row.id}", "complaint show")
    return ComplaintDetail(
        _summary(row, now_text), {name: getattr(row, name) for name in CLAIM_FIELDS},
        proposal, (proposal.text("vi"), proposal.text("en")) if proposal else None,
        register, _record_view(session, actor, row.record_id), row.refusal_ground,
        row.resolution_note, row.resolved_at, row.decision_id, attachments)


# ---------------------------------------------------------------- changing state

def _officer_complaint(session: Session, actor: Actor, complaint_id: int) -> Complaint:
    actor.require(Permission.REVIEW)
    return complaint_in_scope(session, actor, complaint_id)


def _claim(session: Session, row: Complaint, expected_version: int | None, new_state: str,
           **values: Any) -> None:
    """The optimistic lock: change the complaint only if nobody changed it since it was read."""
    check_transition(row.state, new_state, row.id)
    version = row.version if expected_version is None else expected_version
    result = session.execute(
        update(Complaint).where(and_(Complaint.id == row.id, Complaint.version == version,
                                     Complaint.state.not_in(FINAL_STATES)))
        .values(state=new_state, version=Complaint.version + 1, updated_at=utc_now_text(),
                **values).execution_options(synchronize_session=False))
    if getattr(result, "rowcount", 0) != 1:
        session.expire(row)
        current = session.get(Complaint, row.id)
        now = f"{current.state}, version {current.version}" if current else "gone"
        raise ReviewConflict(f"complaint {row.id} changed since you read version {version} "
                             f"(now {now}): another officer acted first; show it again")
    session.expire(row)


def assign(session: Session, actor: Actor, complaint_id: int, *, assignee: str | None = None,
           facility_id: str | None = None, reason: str | None = None,
           expected_version: int | None = None) -> Complaint:
    """Assign (or take, when ``assignee`` is the actor) or reassign to a facility or officer."""
    row = _officer_complaint(session, actor, complaint_id)
    assignee = assignee or actor.username
    reassigning = row.state in ("assigned", "in_progress") or (
        facility_id is not None and facility_id != row.facility_id)
    if reassigning and not (reason and reason.strip()):
        raise ConfigError(f"complaint {row.id} is {row.state} (facility "
                          f"{row.facility_id or '-'}): a reassignment needs a --reason")
    province = row.province_code
    if facility_id is not None and facility_id != row.facility_id:
        province = _facility_province(session, actor, facility_id)
    new_state = "in_progress" if assignee == actor.username else "assigned"
    previous = row.facility_id
    _claim(session, row, expected_version, new_state, assignee=assignee,
           facility_id=facility_id or row.facility_id, province_code=province,
           routing="facility" if facility_id else row.routing)
    audit.append(session, [audit.ComplaintAssigned(
        actor=actor.username, subject_id=f"complaint:{row.id}", state=new_state,
        facility_id=facility_id or previous, previous_facility_id=previous, assignee=assignee,
        reason=reason)])
    return row


def _facility_province(session: Session, actor: Actor, facility_id: str) -> str:
    """A facility the actor may hand a complaint to: in their province (the ministry: any)."""
    province = session.scalar(select(Facility.province_code)
                              .where(Facility.facility_id == facility_id))
    allowed = province is not None and (
        actor.role is Role.MINISTRY
        or (actor.role is Role.PROVINCE and province == actor.province_code))
    if not allowed:
        raise NotFound(f"no facility {facility_id} you may assign complaints to")
    assert province is not None
    return province


def escalate(session: Session, actor: Actor, complaint_id: int, *, reason: str,
             expected_version: int | None = None) -> Complaint:
    """Send one complaint to its province (by hand, with a reason)."""
    if not reason.strip():
        raise ConfigError("an escalation needs a --reason")
    row = _officer_complaint(session, actor, complaint_id)
    _escalate(session, actor, row, reason, expected_version)
    return row


def _escalate(session: Session, actor: Actor, row: Complaint, reason: str,
              expected_version: int | None) -> None:
    if row.province_code is None:
        raise ConfigError(f"complaint {row.id} has no province to escalate to: assign it from "
                          "the pick-up queue first")
    _claim(session, row, expected_version, "escalated", escalated_at=utc_now_text())
    audit.append(session, [audit.ComplaintEscalated(
        actor=actor.username, subject_id=f"complaint:{row.id}", province_code=row.province_code,
        facility_id=row.facility_id, deadline_at=row.deadline_at, reason=reason)])


def escalate_overdue(session: Session, actor: Actor, *, now: dt.datetime | None = None,
                     limit: int = 100_000) -> list[int]:
    """Every overdue complaint in scope not yet escalated goes to its province."""
    actor.require(Permission.REVIEW)
    now_text = time_text(now or dt.datetime.now(dt.UTC))
    rows = session.scalars(select(Complaint).where(
        actor.complaints_filter(), text(COMPLAINT_OPEN_SQL), Complaint.deadline_at < now_text,
        Complaint.state != "escalated", Complaint.province_code.is_not(None))
        .order_by(Complaint.deadline_at, Complaint.id).limit(limit)).all()
    for row in rows:
        _escalate(session, actor, row, "overdue", None)
    return [row.id for row in rows]


def refuse(session: Session, actor: Actor, complaint_id: int, *, ground: str, note: str,
           expected_version: int | None = None) -> Complaint:
    """Refuse with one of the 13 grounds of 9458 and a note."""
    chosen = grounds.ground(ground)
    if not note.strip():
        raise ConfigError("a refusal needs a --note for the citizen")
    row = _officer_complaint(session, actor, complaint_id)
    _claim(session, row, expected_version, "refused", refusal_ground=chosen.code,
           resolution_note=note, resolved_at=utc_now_text())
    audit.append(session, [audit.ComplaintResolved(
        actor=actor.username, subject_id=f"complaint:{row.id}", outcome="refused",
        reason=note, ground=chosen.code, record_id=row.record_id)])
    return row


# ---------------------------------------------------------------- resolving

@dataclass(frozen=True)
class Resolution:
    complaint_id: int
    kind: str
    record_id: str | None
    person_id: str | None
    decision_id: int | None
    signing_queued: list[str]
    phone: str | None


def _item_for(session: Session, complaint: Complaint, record: VaccinationRecord,
              person_id: str) -> tuple[int, int]:
    """The awaiting review item of ``record`` with the complaint's person as a candidate
    (opened or extended by the complaint), and that candidate's rank."""
    item = session.scalar(select(ReviewItem).where(
        ReviewItem.record_id == record.record_id, ReviewItem.state.in_(queue.AWAITING)))
    now = utc_now_text()
    if item is None:
        item = ReviewItem(record_id=record.record_id, run_id=record.run_id,
                          province_code=record.province_code, facility_id=record.facility_id,
                          state="open", note=f"opened by complaint {complaint.id}",
                          created_at=now, updated_at=now)
        session.add(item)
        session.flush()
        session.add(ReviewItemReason(item_id=item.id, reason=COMPLAINT_REASON))
    rank = session.scalar(select(ReviewCandidate.rank).where(
        ReviewCandidate.item_id == item.id, ReviewCandidate.person_id == person_id))
    if rank is None:
        rank = (session.scalar(select(func.max(ReviewCandidate.rank))
                               .where(ReviewCandidate.item_id == item.id)) or 0) + 1
        session.add(ReviewCandidate(item_id=item.id, rank=rank, person_id=person_id,
                                    match_probability=None, comparison="{}",
                                    reasons=json.dumps([COMPLAINT_REASON])))
        session.flush()
    return item.id, rank


def _resolution_kind(row: Complaint, record_id: str | None) -> str:
    if record_id and record_id != row.record_id:
        return "link_record"     # the officer chose another record: link it (checked)
    if row.proposal in (None, "refuse"):
        raise ConfigError(f"complaint {row.id} has no proposal to confirm: give the record "
                          "(--record) that settles it, or refuse it with a ground")
    return row.proposal


def resolve(session: Session, actor: Actor, complaint_id: int, *, note: str,
            record_id: str | None = None, expected_version: int | None = None) -> Resolution:
    """Settle a complaint by confirming (or editing: another ``record_id``) its proposal.

    Linking or correcting a record is a review decision on that record (accepting the
    complaint's person as the candidate, i.e. the register's values), so it passes the review
    queue's checks and leaves its audit trail; the citizen's claim never overwrites a value.
    "The dose exists" and "a duplicate" are settled without a change once the store confirms
    the record is the person's and linked. The person is queued for signing (or revocation and
    re-issue when their certificate's data changed).
    """
    row = _officer_complaint(session, actor, complaint_id)
    check_transition(row.state, "resolved", row.id)
    if row.person_id is None:
        raise ConfigError(f"complaint {row.id} matches no register person: refuse it with a "
                          "ground, or escalate it")
    kind = _resolution_kind(row, record_id)
    target = record_id or row.record_id
    record = session.scalar(select(VaccinationRecord).where(
        VaccinationRecord.record_id == target, actor.records_filter())) if target else None
    if record is None:
        raise NotFound(f"no record {target} in your scope")
    decision_id: int | None = None
    queued: list[str] = []
    version = row.version if expected_version is None else expected_version
    if kind in ("link_record", "correct_to_register"):
        item_id, rank = _item_for(session, row, record, row.person_id)
        result = queue.decide(session, actor, item_id, queue.AcceptCandidate(
            rank, note=f"complaint {row.id}: {note}"))
        decision_id, queued = result.decision_id, result.signing_queued
    else:
        if record.person_id != row.person_id or record.status not in LINKED_STATUSES:
            raise ConfigError(f"record {record.record_id} is not a linked dose of person "
                              f"{row.person_id}: the proposal no longer holds")
        if signing.current_certificate(session, row.person_id) is None and \
                signing.queue_person(session, row.person_id, f"complaint {row.id}"):
            queued = [row.person_id]
    _claim(session, row, version, "resolved", resolution_note=note, record_id=record.record_id,
           resolved_at=utc_now_text(), decision_id=decision_id)
    audit.append(session, [audit.ComplaintResolved(
        actor=actor.username, subject_id=f"complaint:{row.id}", outcome="resolved", reason=note,
        proposal=kind, record_id=record.record_id, decision_id=decision_id)])
    return Resolution(row.id, kind, record.record_id, row.person_id, decision_id, queued,
                      row.phone)


def citizen_complaints(session: Session, actor: Actor) -> list[ComplaintSummary]:
    """A citizen's own complaints, newest first."""
    if actor.role is not Role.CITIZEN:
        raise PermissionDenied("only a citizen lists their own complaints")
    now_text = utc_now_text()
    rows = session.scalars(select(Complaint).where(actor.complaints_filter())
                           .order_by(Complaint.id.desc()).limit(100)).all()
    return [_summary(row, now_text) for row in rows]


