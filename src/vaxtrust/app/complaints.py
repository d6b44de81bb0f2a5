"""Citizens' complaints (phản ánh): the operations the CLI and the web application share.

Import a portal's export, file one from the citizen's form, list the inbox (soonest deadline
first, keyset-paged), show one with its triage proposal, assign, escalate, refuse, resolve.
Every operation is one store transaction as the actor (``vaxtrust.app._store.acting``);
notifications go out only after it committed. See ``docs/complaints.md``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.complaints import workflow
from vaxtrust.complaints.attachments import AttachmentStore, FolderStore, Prepared, prepare
from vaxtrust.complaints.deadlines import DeadlineRule
from vaxtrust.complaints.importer import ImportRead, RejectRow, read_file
from vaxtrust.complaints.notify import Notifier, received_text, refused_text, resolved_text
from vaxtrust.complaints.settle import Settled
from vaxtrust.complaints.settle import settle_certain as settle_certain_in
from vaxtrust.complaints.standardise import ComplaintInput, Problem, standardise
from vaxtrust.complaints.workflow import (
    ComplaintDetail,
    ComplaintFilter,
    ComplaintSummary,
    InboxPage,
    Resolution,
)
from vaxtrust.config import Settings
from vaxtrust.errors import InputError, NotFound, PermissionDenied
from vaxtrust.reports import campaign as campaigns
from vaxtrust.review.register_check import normalise_id
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import Complaint, ComplaintAttachment, Person, utc_now_text

__all__ = ["ComplaintDetail", "ComplaintFilter", "ComplaintSummary", "ImportReport", "InboxPage",
           "Resolution", "assign", "attachment", "attachment_store", "escalate",
           "escalate_overdue", "file_complaint", "import_file", "list_complaints", "refuse",
           "resolve", "settle_certain", "show_complaint"]


@dataclass(frozen=True)
class ImportReport:
    source: str
    rows_in: int
    accepted: int
    rejected: int
    skipped: int
    proposals: int
    ids: list[int]
    rejects: list[RejectRow] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)   # settled by the system (--settle)


def import_file(settings: Settings, store: Store, actor: Actor, path: Path, *,
                today: dt.date | None = None, now: dt.datetime | None = None,
                settle: bool = False) -> ImportReport:
    """Import one CSV/XLSX export: rejects named row by row; the rest triaged, routed, stored.

    With ``settle`` the complaints whose proposal is certain are then settled by the system
    (:mod:`vaxtrust.complaints.settle`), in the same transaction."""
    with acting(store, actor, subject=f"file:{path.name}") as (_, by):
        by.require(Permission.REVIEW)   # before reading the file; refused, it is audited
    spill = Path(tempfile.mkdtemp(prefix=".complaints-import-"))
    try:
        with settings.create_engine(spill) as engine:
            read = read_file(engine, path, today=today)
    finally:
        shutil.rmtree(spill, ignore_errors=True)
    with acting(store, actor, subject=f"file:{path.name}") as (session, by):
        by.require(Permission.REVIEW)
        rule = campaign_rule(settings, session)
        filed = workflow.file_complaints(session, by, read.inputs, channel="import", rule=rule,
                                         now=now)
        rejects = read.rejects + _outside_rejects(read, filed.outside)
        accepted = len(read.inputs) - len(filed.outside)
        audit.append(session, [audit.ComplaintsImported(
            actor=by.username, subject_id=f"file:{path.name}"[:80], source=path.name,
            content_hash=read.content_hash, rows_in=read.rows_in, accepted=accepted,
            rejected=read.rows_in - accepted, skipped=filed.skipped,
            first_id=filed.ids[0] if filed.ids else None,
            last_id=filed.ids[-1] if filed.ids else None)])
        settled = settle_certain_in(session, by, filed.ids, now=now).settled if settle else []
    return ImportReport(str(path), read.rows_in, accepted, read.rows_in - accepted,
                        filed.skipped, filed.proposals, filed.ids,
                        sorted(rejects, key=lambda r: r.row_number or 0), settled)


def settle_certain(store: Store, actor: Actor, *, notifier: Notifier | None = None
                   ) -> Settled:
    """Settle every received complaint in scope whose proposal is certain (the system acts,
    within ``actor``'s scope); the citizens are told after the commit."""
    with acting(store, actor) as (session, by):
        result = settle_certain_in(session, by)
        phones = dict(session.execute(select(Complaint.id, Complaint.phone).where(
            Complaint.id.in_(result.settled)))) if notifier is not None else {}
    if notifier is not None:
        for complaint_id, phone in sorted(phones.items()):
            if phone:
                notifier.notify(phone, resolved_text(complaint_id))
    return result


def _outside_rejects(read: ImportRead, outside: Sequence[ComplaintInput]) -> list[RejectRow]:
    """Complaints routed outside the importer's scope: rejected, for whoever handles them."""
    by_number = {item.external_id: read.row_numbers.get(id(item)) for item in read.inputs}
    return [RejectRow(read.source, read.row_numbers.get(id(item), by_number.get(
                          (item.external_id or "").rpartition("/")[0])),
                      item.external_id, "facility_id", item.claimed_facility_id, "outside_scope")
            for item in outside]


def attachment_store(settings: Settings) -> AttachmentStore:
    return FolderStore(settings.complaints.attachments_dir)


@dataclass(frozen=True)
class Filed:
    complaint_id: int
    deadline_at: str
    proposal: str | None
    complaint_ids: list[int] = field(default_factory=list)   # one per dose claimed


def file_complaint(settings: Settings, store: Store, actor: Actor, raw: dict[str, str | None],
                   *, attachment: bytes | None = None, files: AttachmentStore | None = None,
                   notifier: Notifier | None = None, today: dt.date | None = None
                   ) -> Filed | list[Problem]:
    """A citizen's complaint from the form (after the one-time code): their own person's.

    Every problem comes back at once (nothing stored); the attachment is checked and
    re-encoded before anything is written, and stored before the complaint row commits. The
    form's ID must be the one the code proved (or that person's old CMND): a complaint about
    another person's ID is refused (``id_not_yours``), nothing stored.
    """
    if actor.role is not Role.CITIZEN or actor.person_id is None:
        raise PermissionDenied("complaints are filed by the citizen after the one-time code")
    checked = standardise(raw, today=today)
    prepared: Prepared | None = None
    if attachment:
        try:
            prepared = prepare(attachment, max_bytes=settings.complaints.max_attachment_bytes)
        except InputError as error:
            problems = checked if isinstance(checked, list) else []
            return [*problems, Problem("attachment", _attachment_reason(error))]
    if isinstance(checked, list):
        return checked
    with acting(store, actor) as (session, by):
        if not _own_id(session, actor.person_id, checked.id_number):
            return [Problem("id_number", "id_not_yours")]
        item = ComplaintInput(**{**checked.__dict__, "external_id": None, "received_at": None})
        filed = workflow.file_complaints(session, by, [item], channel="web",
                                         rule=campaign_rule(settings, session),
                                         filed_by=by.username)
        if prepared is not None:
            (files or attachment_store(settings)).put(prepared)
        rows = [workflow.complaint_in_scope(session, by, number) for number in filed.ids]
        for row in rows:   # one per dose claimed, each with the photo
            if prepared is not None:
                session.add(ComplaintAttachment(
                    complaint_id=row.id, sha256=prepared.sha256,
                    content_type=prepared.content_type, size=len(prepared.data),
                    added_at=utc_now_text()))
            audit.append(session, [audit.ComplaintFiled(
                actor=by.username, subject_id=f"complaint:{row.id}", record_id=row.record_id,
                category=row.category, channel="web", facility_id=row.facility_id,
                province_code=row.province_code, deadline_at=row.deadline_at,
                proposal=row.proposal)])
        result = Filed(rows[0].id, rows[0].deadline_at, rows[0].proposal, filed.ids)
        phone = rows[0].phone
    if notifier is not None and phone:
        notifier.notify(phone, received_text(result.complaint_id, result.deadline_at[:16]))
    return result


def _own_id(session: Session, person_id: str, id_number: str) -> bool:
    """Is ``id_number`` (standardised) the ID the one-time code proved, or its old CMND?"""
    if id_number == person_id:
        return True
    person = session.get(Person, person_id)
    return person is not None and id_number == normalise_id(person.old_id)


def _attachment_reason(error: InputError) -> str:
    return "attachment_too_large" if "quá lớn" in str(error) else "attachment_not_an_image"


def list_complaints(store: Store, actor: Actor, query: ComplaintFilter | None = None, *,
                    now: dt.datetime | None = None) -> InboxPage:
    with acting(store, actor) as (session, by):
        return workflow.list_complaints(session, by, query or ComplaintFilter(), now=now)


def citizen_complaints(store: Store, actor: Actor) -> list[ComplaintSummary]:
    with acting(store, actor) as (session, by):
        return workflow.citizen_complaints(session, by)


def show_complaint(store: Store, actor: Actor, complaint_id: int) -> ComplaintDetail:
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        return workflow.show_complaint(session, by, complaint_id)


def attachment(store: Store, actor: Actor, complaint_id: int, sha256: str,
               files: AttachmentStore) -> tuple[bytes, str]:
    """An attachment's bytes and type, only to someone who may see its complaint."""
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        workflow.complaint_in_scope(session, by, complaint_id)
        row = session.get(ComplaintAttachment, (complaint_id, sha256))
        if row is None:
            raise NotFound(f"complaint {complaint_id} has no attachment {sha256[:80]}")
        return files.get(row.sha256), row.content_type


def assign(store: Store, actor: Actor, complaint_id: int, *, assignee: str | None = None,
           facility_id: str | None = None, reason: str | None = None,
           expected_version: int | None = None) -> ComplaintSummary:
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        row = workflow.assign(session, by, complaint_id, assignee=assignee,
                              facility_id=facility_id, reason=reason,
                              expected_version=expected_version)
        session.refresh(row)
        return workflow._summary(row, utc_now_text())


def escalate(store: Store, actor: Actor, complaint_id: int, *, reason: str,
             expected_version: int | None = None) -> ComplaintSummary:
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        row = workflow.escalate(session, by, complaint_id, reason=reason,
                                expected_version=expected_version)
        session.refresh(row)
        return workflow._summary(row, utc_now_text())


def escalate_overdue(store: Store, actor: Actor, *, now: dt.datetime | None = None) -> list[int]:
    with acting(store, actor) as (session, by):
        return workflow.escalate_overdue(session, by, now=now)


def refuse(store: Store, actor: Actor, complaint_id: int, *, ground: str, note: str,
           expected_version: int | None = None, notifier: Notifier | None = None
           ) -> ComplaintSummary:
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        row = workflow.refuse(session, by, complaint_id, ground=ground, note=note,
                              expected_version=expected_version)
        session.refresh(row)
        summary, phone, code = workflow._summary(row, utc_now_text()), row.phone, \
            row.refusal_ground
    if notifier is not None and phone and code:
        notifier.notify(phone, refused_text(summary.id, code))
    return summary


def resolve(store: Store, actor: Actor, complaint_id: int, *, note: str,
            record_id: str | None = None, expected_version: int | None = None,
            notifier: Notifier | None = None) -> Resolution:
    with acting(store, actor, subject=f"complaint:{complaint_id}") as (session, by):
        result = workflow.resolve(session, by, complaint_id, note=note, record_id=record_id,
                                  expected_version=expected_version)
    if notifier is not None and result.phone:
        notifier.notify(result.phone, resolved_text(result.complaint_id))
    return result


def deadline_rule(settings: Settings) -> DeadlineRule:
    return settings.complaints.deadline_rule()


def campaign_rule(settings: Settings, session: Session) -> DeadlineRule:
    """The deadline of a complaint recorded now: the current campaign's, else the settings'."""
    return campaigns.current(session).complaint_rule(deadline_rule(settings))


