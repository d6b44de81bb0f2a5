"""Settling complaints automatically where the proposal is certain; everything else waits for
an officer.

Only three proposals can be settled without an officer, and only when it is certain:

* ``link_record``: record R, not linked, is the complainant's dose, every identity field on R
  (name, date of birth, gender, ID) agrees with the register person under the cleaning's own
  standardisers (the review queue's register check), and a cleaning run would have linked R to
  that person by itself: decide's own guard chain says so
  (:func:`vaxtrust.complaints.guard.cleaning_would_link`). A namesake the record's phone or
  commune does not set apart, a twin's record (the given name differs) or a parent's ID on a
  child's record therefore never settles by itself.
  The link is the officer's review decision (:func:`vaxtrust.complaints.workflow.resolve`), so
  it is checked, audited and queued for signing by the one code path.
* ``dose_exists`` / ``duplicate``: the dose is already on the person's history; the answer
  changes no record. Settled in bulk (one UPDATE and one audit insert per chunk) once the store
  confirms the record is still linked to the person.

Every settled complaint's audit event names ``system`` as the actor and the reason.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Final

from sqlalchemy import and_, insert, select, update
from sqlalchemy.orm import Session

from vaxtrust.complaints.deadlines import time_text
from vaxtrust.complaints.guard import cleaning_would_link
from vaxtrust.complaints.workflow import resolve
from vaxtrust.errors import ConfigError, NotFound, ReviewConflict
from vaxtrust.review.register_check import CHECKED_FIELDS, mismatches
from vaxtrust.signing import queue as signing
from vaxtrust.store import audit
from vaxtrust.store.doses import LINKED_STATUSES
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Complaint, Person, SigningTask, VaccinationRecord

SYSTEM: Final = "system"
ANSWERS: Final = ("dose_exists", "duplicate")
CHUNK: Final = 5_000
REASONS: Final[dict[str, str]] = {
    "link_record": "tự động: bản ghi khớp mọi trường với CSDL dân cư, không có người trùng tên "
                   "(automatic: the record agrees with the register on every field, no namesake)",
    "dose_exists": "tự động: mũi tiêm đã có trong lịch sử tiêm (automatic: the dose is on the "
                   "person's history)",
    "duplicate": "tự động: mũi tiêm bị ghi trùng, lịch sử chỉ tính một lần (automatic: the dose "
                 "was recorded twice and counts once)",
}


@dataclass(frozen=True)
class Settled:
    settled: list[int]          # complaint ids settled by the system
    left: list[int]             # certain proposals a guard left for an officer
    signing_queued: list[str]


def system_actor(actor: Actor) -> Actor:
    """The system, acting within the scope of the officer who started it."""
    actor.require(Permission.REVIEW)
    return replace(actor, username=SYSTEM)


def settle_certain(session: Session, actor: Actor, complaint_ids: Sequence[int] | None = None,
                   *, now: dt.datetime | None = None) -> Settled:
    """Settle the received complaints in ``actor``'s scope (or those from the smallest to the
    largest of ``complaint_ids``) whose proposal is certain; the rest stay for an officer."""
    system = system_actor(actor)
    answers = _settle_answers(session, system, complaint_ids, now or dt.datetime.now(dt.UTC))
    settled, left, queued = list(answers.settled), [], list(answers.signing_queued)
    candidates = _certain_links(session, system, complaint_ids)
    linkable = cleaning_would_link(session, [(row.record_id, row.person_id) for row in
                                             candidates if _agrees(session, row)])
    for row in candidates:
        complaint_id = row.id
        if (row.record_id, row.person_id) not in linkable:
            left.append(complaint_id)
            continue
        try:
            result = resolve(session, system, complaint_id, note=REASONS["link_record"])
        except (ConfigError, NotFound, ReviewConflict):
            left.append(complaint_id)   # the store changed since triage: an officer looks
            continue
        settled.append(complaint_id)
        queued.extend(result.signing_queued)
    return Settled(sorted(settled), sorted(left), queued)


def _received(actor: Actor, complaint_ids: Sequence[int] | None) -> list[Any]:
    conditions = [actor.complaints_filter(), Complaint.state == "received"]
    if complaint_ids is not None:
        # An import's ids form one range (reserved together); a range, not a list of a
        # million values, and whatever else is in it is just as eligible.
        conditions.append(Complaint.id.between(min(complaint_ids, default=0),
                                               max(complaint_ids, default=-1)))
    return conditions


def _certain_links(session: Session, actor: Actor,
                   complaint_ids: Sequence[int] | None) -> list[Any]:
    rows = session.execute(select(Complaint.id, Complaint.proposal_detail, Complaint.record_id,
                                  Complaint.person_id).where(
        *_received(actor, complaint_ids), Complaint.proposal == "link_record")
        .order_by(Complaint.id))
    return [row for row in rows if json.loads(row.proposal_detail or "{}").get("certain")]


def _agrees(session: Session, complaint: Any) -> bool:
    """The record is still unlinked and every identity field on it agrees with the person
    (what made the proposal certain: a parent's ID or a twin's name never does)."""
    record = session.get(VaccinationRecord, complaint.record_id or "")
    person = session.get(Person, complaint.person_id or "")
    if record is None or person is None or record.status in LINKED_STATUSES:
        return False
    identity = {name: getattr(record, f"original_{name}") for name in CHECKED_FIELDS}
    return not mismatches(identity, person)


def _settle_answers(session: Session, actor: Actor, complaint_ids: Sequence[int] | None,
                    now: dt.datetime) -> Settled:
    """"The dose exists" and "a duplicate", in bulk: the record must still be the person's."""
    rows = session.execute(
        select(Complaint.id, Complaint.version, Complaint.person_id, Complaint.record_id,
               Complaint.proposal)
        .join(VaccinationRecord, and_(VaccinationRecord.record_id == Complaint.record_id,
                                      VaccinationRecord.person_id == Complaint.person_id))
        .where(*_received(actor, complaint_ids), Complaint.proposal.in_(ANSWERS),
               VaccinationRecord.status.in_(LINKED_STATUSES))
        .order_by(Complaint.id)).all()
    settled: list[int] = []
    queued: list[str] = []
    stamp = time_text(now)
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        done = _mark_resolved(session, chunk, stamp)
        mine = [row for row in chunk if row.id in done]
        audit.append(session, [audit.ComplaintResolved(
            actor=actor.username, subject_id=f"complaint:{row.id}", outcome="resolved",
            reason=REASONS[row.proposal], proposal=row.proposal, record_id=row.record_id)
            for row in mine])
        queued.extend(_queue_unsigned(session, {row.person_id for row in mine}, stamp))
        settled.extend(done)
    return Settled(settled, [], queued)


def _mark_resolved(session: Session, rows: Sequence[Any], stamp: str) -> set[int]:
    """One UPDATE per proposal kind; a complaint an officer took meanwhile is left alone (any
    change moves it out of ``received``)."""
    done: set[int] = set()
    for kind in ANSWERS:
        ids = [row.id for row in rows if row.proposal == kind]
        if ids:
            done.update(session.scalars(
                update(Complaint).where(Complaint.id.in_(ids), Complaint.state == "received")
                .values(state="resolved", version=Complaint.version + 1, updated_at=stamp,
                        resolved_at=stamp, resolution_note=REASONS[kind])
                .returning(Complaint.id).execution_options(synchronize_session=False)))
    return done


def _queue_unsigned(session: Session, person_ids: set[str], stamp: str) -> list[str]:
    """As a resolution does: a person with neither a current certificate nor a pending task is
    queued to be issued one (one insert for the chunk)."""
    ordered = sorted(person_ids)
    if not ordered:
        return []
    holding = signing.current_certificates(session, ordered)
    pending = set(session.scalars(select(SigningTask.person_id).where(
        SigningTask.person_id.in_(ordered), SigningTask.state == "pending")))
    queued = [p for p in ordered if p not in holding and p not in pending]
    if queued:
        session.execute(insert(SigningTask), [
            {"person_id": person_id, "action": "issue", "state": "pending",
             "reason": "complaint settled automatically", "created_at": stamp}
            for person_id in queued])
    return queued
