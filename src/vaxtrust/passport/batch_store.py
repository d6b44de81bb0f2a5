"""``sign-batch --db``: sign the people waiting in the operational store's signing queue.

Tasks are claimed in chunks (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several signers can work
at once). Each chunk is signed into the issuance journal first and committed there: that is where a
certificate comes into existence, exactly as for a run directory. Only then is the store told
(certificates recorded, replaced ones revoked, tasks done or failed, all audited). Telling the store
is idempotent: after a crash between the two commits the task stays claimed; the store's
``reset_stale_claims`` releases it (``sign-batch --db … --reclaim-after MINUTES`` does that first), the journal answers
"already issued" and the store is brought up to date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.console import Console, NoopConsole
from vaxtrust.passport.batch import (
    STAGE,
    BatchSummary,
    IssuanceJournal,
    PersonToSign,
    SignerFor,
    sign_people,
)
from vaxtrust.passport.issue import DEFAULT_VALIDITY
from vaxtrust.store import signing
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import DoseHistory, Person

CLAIM = 256


def people_in_store(session: Session, person_ids: Iterable[str]) -> dict[str, PersonToSign]:
    """Register identity and consolidated doses (duplicates left out) of the given people."""
    ids = sorted(set(person_ids))
    doses: dict[str, list[dict[str, object]]] = {person_id: [] for person_id in ids}
    for dose in session.scalars(
        select(DoseHistory)
        .where(DoseHistory.person_id.in_(ids), DoseHistory.duplicate_of.is_(None))
        .order_by(DoseHistory.person_id, DoseHistory.vaccinated_on, DoseHistory.record_id)
    ):
        doses[dose.person_id].append({
            "vaccinated_on": dose.vaccinated_on, "mp": dose.vaccine_mp,
            "facility": dose.facility_id, "flags": dose.flags,
        })
    people = {}
    for person in session.scalars(select(Person).where(Person.person_id.in_(ids))):
        people[person.person_id] = PersonToSign(
            person_id=person.person_id, full_name=person.full_name, dob=person.dob,
            dob_precision=person.dob_precision, province=person.province_code,
            doses=tuple(doses[person.person_id]),
        )
    return people


def sign_from_store(
    store: Store, actor: Actor, journal: IssuanceJournal, signer_for: SignerFor, *, worker: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC), validity: timedelta | None = None,
    allow_flagged: bool = False, console: Console | None = None, claim: int = CLAIM,
) -> BatchSummary:
    """Work through the actor's pending signing tasks until none is left."""
    console = console or NoopConsole()
    summary = BatchSummary()
    console.stage_started(STAGE, None)
    while True:
        with store.transaction() as session:
            tasks = [(task.id, task.person_id) for task in
                     signing.claim_next(session, actor, claim, worker=worker)]
            people = people_in_store(session, [person_id for _, person_id in tasks])
        if not tasks:
            break
        outcomes = sign_chunk(tasks, people, journal, signer_for, now, validity or DEFAULT_VALIDITY,
                               allow_flagged)
        with store.transaction() as session:
            for (task_id, person_id), outcome in zip(tasks, outcomes, strict=True):
                summary.count(outcome)
                if outcome.startswith("skip:"):
                    reason = journal.skip_reason(person_id) or outcome.removeprefix("skip:")
                    signing.mark_failed(session, actor, task_id, reason)
                else:
                    tell_store(session, actor, journal, person_id)
                    signing.mark_done(session, actor, task_id)
        console.rows_processed(STAGE, len(tasks))
    console.stage_finished(STAGE, summary.issued + summary.reissued + summary.renewed)
    return summary


def sign_chunk(
    tasks: list[tuple[int, str]], people: dict[str, PersonToSign], journal: IssuanceJournal,
    signer_for: SignerFor, now: Callable[[], datetime], validity: timedelta, allow_flagged: bool,
) -> list[str]:
    """Sign a claimed chunk into the journal and commit it there (all or nothing)."""
    journal.begin()
    try:
        outcomes = sign_people(
            [people.get(person_id) or PersonToSign(person_id, None, None, None, None, ())
             for _, person_id in tasks],
            journal, signer_for, now(), validity, allow_flagged,
        )
        journal.commit()
    except BaseException:
        journal.rollback()
        raise  # the tasks stay claimed until released (sign-batch --reclaim-after)
    return outcomes


def release_stale_claims(store: Store, actor: Actor, *, older_than: timedelta, now: datetime) -> int:
    """Put tasks claimed before ``now - older_than`` back to pending (their signer died)."""
    with store.transaction() as session:
        cutoff = (now - older_than).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the store's form
        return signing.reset_stale_claims(session, actor, cutoff)


def tell_store(session: Session, actor: Actor, journal: IssuanceJournal, person_id: str) -> None:
    """Make the store's certificates of ``person_id`` agree with the journal (idempotent)."""
    current = journal.current(person_id)
    recorded = [certificate.uvci for certificate in signing.active_certificates(session, actor, person_id)]
    for uvci, reason in journal.retired_since(person_id, recorded).items():
        signing.revoke(session, actor, uvci, reason)
    if current is not None and current.uvci not in recorded:
        signing.record_issued(session, actor, person_id, current.uvci)
