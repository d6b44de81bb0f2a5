"""The review queue: list items, show one with its ranked candidates, decide it.

Decisions use optimistic locking: ``decide`` changes an item only if its ``version`` is still the
one the officer saw, so when two officers decide the same item the second gets
:class:`~vaxtrust.errors.ReviewConflict` and nothing of theirs is written. Every decision becomes
corrections of the record (the originals stay), audit events, a recomputed dose history for each
person the record's dose moves to or from, and a signing-queue entry for each person whose
passport it affects.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true, update
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, NotFound, ReviewConflict
from vaxtrust.review.register_check import CHECKED_FIELDS, mismatches, normalise_id
from vaxtrust.signing import queue as signing
from vaxtrust.store import audit
from vaxtrust.store.doses import LINKED_STATUSES, refresh_dose_history
from vaxtrust.store.records import Page, check_paging, log_access
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import (
    Correction,
    Decision,
    Person,
    ReviewCandidate,
    ReviewItem,
    ReviewItemReason,
    VaccinationRecord,
    utc_now_text,
)

AWAITING = ("open", "deferred")
EDITABLE_FIELDS = CHECKED_FIELDS


# ---------------------------------------------------------------- decisions

@dataclass(frozen=True)
class AcceptCandidate:
    """Link the record to the candidate of this rank; its values become the register's."""

    rank: int
    note: str | None = None


@dataclass(frozen=True)
class RejectAll:
    """None of the candidates is this person: the record stays unmatched."""

    note: str


@dataclass(frozen=True)
class EditFields:
    """Correct fields; accepted only if the edited record then matches a register person."""

    fields: dict[str, str]
    note: str
    person_id: str | None = None


@dataclass(frozen=True)
class Defer:
    """Leave the item open with a note (e.g. waiting for the citizen or commune police)."""

    note: str


DecisionInput = AcceptCandidate | RejectAll | EditFields | Defer


# ---------------------------------------------------------------- reading

@dataclass(frozen=True)
class ItemSummary:
    id: int
    record_id: str
    province_code: str
    facility_id: str
    state: str
    version: int
    reasons: tuple[str, ...]
    candidates: int
    created_at: str


@dataclass(frozen=True)
class CandidateView:
    rank: int
    person_id: str
    match_probability: float | None
    register: dict[str, str | None]
    differences: dict[str, dict[str, Any]]
    reasons: list[str]


@dataclass(frozen=True)
class ItemDetail:
    item: ItemSummary
    note: str | None
    original: dict[str, str | None]
    current: dict[str, str | None]
    candidates: list[CandidateView] = field(default_factory=list)


def _reasons_by_item(session: Session, item_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    rows = session.execute(
        select(ReviewItemReason.item_id, ReviewItemReason.reason)
        .where(ReviewItemReason.item_id.in_(item_ids))
        .order_by(ReviewItemReason.item_id, ReviewItemReason.reason)
    ).all()
    found: dict[int, list[str]] = {}
    for item_id, reason in rows:
        found.setdefault(item_id, []).append(reason)
    return {key: tuple(value) for key, value in found.items()}


def _summaries(session: Session, items: Sequence[ReviewItem]) -> list[ItemSummary]:
    ids = [item.id for item in items]
    reasons = _reasons_by_item(session, ids)
    counts: dict[int, int] = {
        row[0]: row[1] for row in session.execute(
            select(ReviewCandidate.item_id, func.count())
            .where(ReviewCandidate.item_id.in_(ids)).group_by(ReviewCandidate.item_id))
    }
    return [
        ItemSummary(item.id, item.record_id, item.province_code, item.facility_id, item.state,
                    item.version, reasons.get(item.id, ()), counts.get(item.id, 0),
                    item.created_at)
        for item in items
    ]


def list_items(
    session: Session, actor: Actor, *, province_code: str | None = None,
    facility_id: str | None = None, reason: str | None = None,
    states: Sequence[str] = AWAITING, page: int = 1, page_size: int = 50,
    total: int | None = None, created_before: str | None = None,
) -> Page[ItemSummary]:
    """Items in the actor's scope, filtered and paged, oldest first. ``total``: the count when
    the caller knows it (a recent one: counting a national queue is most of a page's cost).
    ``created_before``: only items waiting since before this store time (the age filter)."""
    actor.require(Permission.REVIEW)
    check_paging(page, page_size)
    query = select(ReviewItem).where(actor.review_items_filter(), ReviewItem.state.in_(states))
    if province_code:
        query = query.where(ReviewItem.province_code == province_code)
    if facility_id:
        query = query.where(ReviewItem.facility_id == facility_id)
    if created_before:
        query = query.where(ReviewItem.created_at < created_before)
    if reason:
        query = query.where(ReviewItem.id.in_(
            select(ReviewItemReason.item_id).where(ReviewItemReason.reason == reason)
        ))
    if total is None:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = session.scalars(
        query.order_by(ReviewItem.id).offset((page - 1) * page_size).limit(page_size)
    ).all()
    return Page(_summaries(session, items), total, page, page_size)


def _item_in_scope(session: Session, actor: Actor, item_id: int) -> ReviewItem:
    actor.require(Permission.REVIEW)
    item = session.scalar(
        select(ReviewItem).where(ReviewItem.id == item_id, actor.review_items_filter())
    )
    if item is None:
        raise NotFound(f"no review item {item_id} in your scope")
    return item


def _record_values(record: VaccinationRecord, prefix: str = "") -> dict[str, str | None]:
    return {name: getattr(record, prefix + name) for name in EDITABLE_FIELDS}


def _person_values(person: Person) -> dict[str, str | None]:
    return {"full_name": person.full_name, "dob": person.dob, "gender": person.gender,
            "id_number": person.person_id, "old_id": person.old_id}


def show_item(session: Session, actor: Actor, item_id: int) -> ItemDetail:
    """The item with its record (original and current) and ranked candidates with differences."""
    item = _item_in_scope(session, actor, item_id)
    record = session.get(VaccinationRecord, item.record_id)
    assert record is not None
    rows = session.execute(
        select(ReviewCandidate, Person).join(Person, Person.person_id == ReviewCandidate.person_id)
        .where(ReviewCandidate.item_id == item.id).order_by(ReviewCandidate.rank)
    ).all()
    candidates = [
        CandidateView(candidate.rank, candidate.person_id, candidate.match_probability,
                      _person_values(person), _parse_json(candidate.comparison, {}),
                      _parse_json(candidate.reasons, []))
        for candidate, person in rows
    ]
    log_access(session, actor, f"record:{record.record_id}", f"review show {item.id}")
    return ItemDetail(_summaries(session, [item])[0], item.note,
                      _record_values(record, "original_"), _record_values(record), candidates)


def _parse_json(text: str, default: Any) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, TypeError):
        return default


# ---------------------------------------------------------------- deciding

def _refuse_if_not_awaiting(session: Session, item: ReviewItem) -> None:
    if item.state in AWAITING:
        return
    if item.state == "superseded":
        newer = session.scalar(select(ReviewItem.id).where(
            ReviewItem.record_id == item.record_id, ReviewItem.state.in_(AWAITING)))
        hint = f"; decide item {newer} instead" if newer else ""
        raise ReviewConflict(
            f"review item {item.id} was superseded by run {item.superseded_by_run}{hint}")
    last = session.scalar(select(Decision).where(Decision.item_id == item.id)
                          .order_by(Decision.id.desc()).limit(1))
    who = f" by {last.actor} at {last.decided_at} ({last.kind})" if last else ""
    raise ReviewConflict(f"review item {item.id} was already decided{who}")


def _claim(session: Session, item: ReviewItem, expected_version: int, new_state: str,
           note: str | None) -> None:
    """The optimistic lock: change the item only if nobody changed it since it was read."""
    result = session.execute(
        update(ReviewItem)
        .where(and_(ReviewItem.id == item.id, ReviewItem.version == expected_version,
                    ReviewItem.state.in_(AWAITING)))
        .values(state=new_state, version=ReviewItem.version + 1, note=note,
                updated_at=utc_now_text())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        session.expire(item)
        current = session.get(ReviewItem, item.id)
        state = f"{current.state}, version {current.version}" if current else "gone"
        raise ReviewConflict(
            f"review item {item.id} changed since you read version {expected_version} "
            f"(now {state}): another officer decided it first; show it again")
    session.expire(item)


@dataclass(frozen=True)
class DecisionResult:
    decision_id: int
    item_id: int
    record_id: str
    kind: str
    person_id: str | None
    corrections: int
    signing_queued: list[str]


def _chosen_person(session: Session, actor: Actor, item: ReviewItem,
                   record: VaccinationRecord, decision: DecisionInput) -> Person | None:
    if isinstance(decision, AcceptCandidate):
        candidate = session.scalar(select(ReviewCandidate).where(
            ReviewCandidate.item_id == item.id, ReviewCandidate.rank == decision.rank))
        if candidate is None:
            raise ConfigError(f"review item {item.id} has no candidate of rank {decision.rank}")
        return session.get(Person, candidate.person_id)
    if isinstance(decision, EditFields):
        return _person_for_edit(session, actor, item, record, decision)
    return None


def _edited_values(record: VaccinationRecord, edit: EditFields) -> dict[str, str | None]:
    unknown = sorted(set(edit.fields) - set(EDITABLE_FIELDS))
    if unknown:
        raise ConfigError(f"cannot edit {', '.join(unknown)}: editable fields are "
                          f"{', '.join(EDITABLE_FIELDS)}")
    if not edit.fields:
        raise ConfigError("an edit needs at least one field=value")
    values = _record_values(record)
    values.update(_cleaned(edit.fields))
    return values


def _cleaned(fields: dict[str, str]) -> dict[str, str | None]:
    """Edited values as stored: trimmed, and empty means no value."""
    return {key: value.strip() or None for key, value in fields.items()}


def _claimable_persons(actor: Actor, item: ReviewItem) -> ColumnElement[bool]:
    """The persons an edit of ``item`` may link to: the candidates the officer was shown, people
    with a record in the officer's scope, and residents of the officer's province; the ministry
    any person. Anything else is 'not found', whether or not it exists."""
    if actor.role is Role.MINISTRY:
        return true()
    shown = Person.person_id.in_(
        select(ReviewCandidate.person_id).where(ReviewCandidate.item_id == item.id))
    residents = (Person.province_code == actor.province_code if actor.province_code
                 else false())
    return or_(shown, residents, actor.persons_filter(Person.person_id))


def _person_for_edit(session: Session, actor: Actor, item: ReviewItem,
                     record: VaccinationRecord, edit: EditFields) -> Person:
    """The register person the edited record claims to be, then checked field by field."""
    values = _edited_values(record, edit)
    claimable = _claimable_persons(actor, item)
    person: Person | None = None
    if edit.person_id:
        person = session.scalar(select(Person).where(Person.person_id == edit.person_id,
                                                     claimable))
        if person is None:
            raise NotFound(f"person {edit.person_id} is not among the item's candidates or in "
                           "your scope")
    elif values.get("id_number"):
        number = normalise_id(values["id_number"]) or values["id_number"]
        person = session.scalar(select(Person).where(
            (Person.person_id == number) | (Person.old_id == number), claimable).limit(1))
    if person is None:
        ranked = session.scalars(
            select(Person).join(ReviewCandidate, ReviewCandidate.person_id == Person.person_id)
            .where(ReviewCandidate.item_id == item.id).order_by(ReviewCandidate.rank)).all()
        person = next((p for p in ranked if not mismatches(values, p)), None)
        if person is None and ranked:
            person = ranked[0]      # refused below, naming what differs from the best candidate
        if person is None:
            raise ConfigError(
                f"edit of review item {item.id} matches no register person: give --person or "
                "an id_number of the register")
    problems = mismatches(values, person)
    if problems:
        raise ConfigError(
            f"edit of review item {item.id} does not match register person {person.person_id}: "
            + "; ".join(str(problem) for problem in problems))
    return person


def _apply_to_record(
    session: Session, actor: Actor, record: VaccinationRecord, new_values: dict[str, str | None],
    reason: str, decision_id: int,
) -> list[audit.AuditEvent]:
    """Write new current values as corrections (originals are never touched)."""
    events: list[audit.AuditEvent] = []
    now = utc_now_text()
    for name, value in new_values.items():
        old = getattr(record, name)
        if old == value:
            continue
        correction = Correction(record_id=record.record_id, field=name, old_value=old,
                                new_value=value, actor=actor.username, reason=reason,
                                decision_id=decision_id, made_at=now)
        session.add(correction)
        session.flush()
        events.append(audit.CorrectionMade(
            actor=actor.username, subject_id=f"record:{record.record_id}", field_name=name,
            old_value=old, new_value=value, reason=reason, decision_id=decision_id,
            correction_id=correction.id, correction_digest=audit.row_digest(correction)))
        setattr(record, name, value)
    record.decided = True
    record.version += 1
    record.updated_at = now
    return events


def _new_values(record: VaccinationRecord, decision: DecisionInput,
                person: Person | None) -> dict[str, str | None]:
    if isinstance(decision, RejectAll):
        return {"status": "unmatched", "person_id": None}
    assert person is not None
    values: dict[str, str | None] = {"status": "corrected", "person_id": person.person_id}
    if isinstance(decision, EditFields):
        values.update(_cleaned(decision.fields))
    else:
        values.update(full_name=person.full_name, dob=person.dob, gender=person.gender,
                      id_number=person.person_id)
    if all(getattr(record, f"original_{name}") == values.get(name, getattr(record, name))
           for name in EDITABLE_FIELDS):
        values["status"] = "verified"
    return values


def _validate_note(decision: DecisionInput) -> None:
    needs_note = isinstance(decision, RejectAll | EditFields | Defer)
    note = getattr(decision, "note", None)
    if needs_note and not (note and note.strip()):
        raise ConfigError(f"a {_kind(decision).replace('_', ' ')} decision needs a --note")


def _kind(decision: DecisionInput) -> str:
    return {AcceptCandidate: "accept", RejectAll: "reject_all", EditFields: "edit",
            Defer: "defer"}[type(decision)]


def decide(
    session: Session, actor: Actor, item_id: int, decision: DecisionInput, *,
    expected_version: int | None = None,
) -> DecisionResult:
    """Decide one item inside the caller's transaction; ReviewConflict if someone was first."""
    item = _item_in_scope(session, actor, item_id)
    _refuse_if_not_awaiting(session, item)
    _validate_note(decision)
    version = item.version if expected_version is None else expected_version
    record = session.get(VaccinationRecord, item.record_id)
    assert record is not None
    person = _chosen_person(session, actor, item, record, decision)
    kind = _kind(decision)
    note = getattr(decision, "note", None)
    _claim(session, item, version, "deferred" if kind == "defer" else "decided", note)
    row = Decision(item_id=item.id, actor=actor.username, kind=kind,
                   person_id=person.person_id if person else None,
                   fields=audit.canonical_json(getattr(decision, "fields", {})), note=note,
                   decided_at=utc_now_text())
    session.add(row)
    session.flush()
    events: list[audit.AuditEvent] = [audit.ReviewDecided(
        actor=actor.username, subject_id=f"review:{item.id}", record_id=record.record_id,
        kind=kind, person_id=row.person_id, note=note, decision_id=row.id,
        decision_digest=audit.row_digest(row))]
    corrections: list[audit.AuditEvent] = []
    queued: list[str] = []
    if kind != "defer":
        previous_person, previous_link = record.person_id, _dose_link(record)
        reason = f"review {kind} (item {item.id})" + (f": {note}" if note else "")
        corrections = _apply_to_record(session, actor, record,
                                       _new_values(record, decision, person), reason, row.id)
        if record.person_id != previous_person:
            events.append(audit.RecordLinked(
                actor=actor.username, subject_id=f"record:{record.record_id}",
                person_id=record.person_id, previous_person_id=previous_person,
                decision_id=row.id))
        session.flush()
        if _dose_link(record) != previous_link:
            # The dose moved: both people's histories (duplicates, dose order, flags) change.
            refresh_dose_history(session, {record.person_id, previous_person})
        queued = _queue_affected(session, {record.person_id, previous_person}, item.id)
    audit.append(session, [*events, *corrections])
    return DecisionResult(row.id, item.id, record.record_id, kind, row.person_id,
                          len(corrections), queued)


def _dose_link(record: VaccinationRecord) -> tuple[str | None, bool]:
    """Whom the record's dose belongs to, and whether it counts (a dose history's inputs)."""
    return record.person_id, record.status in LINKED_STATUSES


def _queue_affected(session: Session, person_ids: set[str | None], item_id: int) -> list[str]:
    """People whose record became verified, and signed people whose record changed."""
    queued = []
    for person_id in sorted(p for p in person_ids if p):
        if signing.queue_person(session, person_id, f"review decision on item {item_id}"):
            queued.append(person_id)
    return queued
