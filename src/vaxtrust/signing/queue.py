"""The store's signing queue and the certificates it decides: the store is the authority.

Decisions and publishes queue people (:func:`queue_person`, and publish's set-based twin). A batch
claims tasks into its issuance journal (:func:`claim_next`), reserves a UVCI per person before it
signs (:func:`reserve`), and reports each signed certificate (:func:`confirm_issued`), which
revokes the person's previous one in the same transaction. Two partial unique indexes make the
rules hold whatever crashes: one ``issued`` certificate per person, one ``reserved`` per person.

A reservation whose claim is released (its signer died: :func:`release_stale_claims`) is revoked
by UVCI, since its journal may hold a signed certificate the store never saw; a journal that
comes back proves which of its reservations it never signed (:func:`void`). Claims use
``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several signers can work at once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, NotFound, StoreError
from vaxtrust.passport.revocation import Revocation
from vaxtrust.store import audit
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Certificate, Person, SigningBlock, SigningTask, utc_now_text

EXPIRED = "expired"  # a superseded expired certificate: never on a revocation list
CLAIM_RELEASED = "claim_released"


@dataclass(frozen=True)
class CurrentCertificate:
    uvci: str
    fingerprint: str | None
    expires_at: datetime | None


# --- the queue ----------------------------------------------------------------------------------


def has_active_certificate(session: Session, person_id: str) -> bool:
    return current_certificate(session, person_id) is not None


def queue_person(session: Session, person_id: str, reason: str) -> SigningTask | None:
    """Queue ``person_id``: issue, or revoke and re-issue when they hold a certificate.

    Nothing is added when a pending task exists: the signer reads the person's data when it
    signs, so one pending task already covers every change made before it runs.
    """
    pending = session.scalar(
        select(SigningTask).where(
            SigningTask.person_id == person_id, SigningTask.state == "pending"
        ).limit(1)
    )
    if pending is not None:
        return None
    action = "revoke_and_reissue" if has_active_certificate(session, person_id) else "issue"
    task = SigningTask(person_id=person_id, action=action, state="pending", reason=reason,
                       created_at=utc_now_text())
    session.add(task)
    session.flush()
    return task


@dataclass(frozen=True)
class ClaimedTask:
    """A task a batch claimed: whom to sign and why."""

    id: int
    person_id: str
    action: str


def claim_next(session: Session, actor: Actor, limit: int, *, worker: str,
               journal_id: str) -> list[ClaimedTask]:
    """Claim up to ``limit`` pending tasks of people in the actor's scope for ``journal_id``,
    oldest first; people another journal holds a reservation for wait until it resolves.

    Set-based: the tasks are locked and read in one statement and claimed in one UPDATE."""
    actor.require(Permission.SIGN)
    if limit < 1:
        raise ConfigError(f"claim limit must be at least 1, not {limit}")
    reserved = exists().where(Certificate.person_id == SigningTask.person_id,
                              Certificate.state == "reserved")
    rows = session.execute(
        select(SigningTask.id, SigningTask.person_id, SigningTask.action)
        .where(SigningTask.state == "pending", actor.persons_filter(SigningTask.person_id), ~reserved)
        .order_by(SigningTask.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    tasks = [ClaimedTask(task_id, person_id, action) for task_id, person_id, action in rows]
    if tasks:
        session.execute(
            update(SigningTask).where(SigningTask.id.in_([task.id for task in tasks]))
            .values(state="claimed", claimed_at=utc_now_text(), claimed_by=worker,
                    journal_id=journal_id)
            .execution_options(synchronize_session=False))
    return tasks


def claimed_by_journal(session: Session, actor: Actor, journal_id: str) -> list[SigningTask]:
    """Tasks still claimed by ``journal_id`` (a batch of it died before finishing them)."""
    actor.require(Permission.SIGN)
    return list(session.scalars(
        select(SigningTask).where(SigningTask.state == "claimed", SigningTask.journal_id == journal_id,
                                  actor.persons_filter(SigningTask.person_id))
        .order_by(SigningTask.id)
    ))


def _claimed_task(session: Session, actor: Actor, task_id: int) -> SigningTask:
    actor.require(Permission.SIGN)
    task = session.scalar(
        select(SigningTask).where(
            SigningTask.id == task_id, actor.persons_filter(SigningTask.person_id)
        )
    )
    if task is None:
        raise NotFound(f"no signing task {task_id} in your scope")
    if task.state != "claimed":
        raise StoreError(f"signing task {task_id} is {task.state}, not claimed")
    return task


def mark_done(session: Session, actor: Actor, task_id: int) -> None:
    task = _claimed_task(session, actor, task_id)
    task.state, task.finished_at = "done", utc_now_text()


def mark_failed(session: Session, actor: Actor, task_id: int, error: str) -> None:
    task = _claimed_task(session, actor, task_id)
    task.state, task.finished_at, task.error = "failed", utc_now_text(), error


def list_tasks(session: Session, actor: Actor, *, state: str | None = None,
               limit: int = 100) -> Sequence[SigningTask]:
    actor.require(Permission.SIGN)
    query = select(SigningTask).where(actor.persons_filter(SigningTask.person_id))
    if state:
        query = query.where(SigningTask.state == state)
    return session.scalars(query.order_by(SigningTask.id).limit(limit)).all()


def release_stale_claims(session: Session, actor: Actor, older_than: str) -> int:
    """Put claims older than ``older_than`` (ISO time) back to pending (their signer died).

    The UVCIs those claims reserved are revoked: the dead signer's journal may hold certificates
    signed with them that the store never heard of, and they must not stay valid beside the
    certificates the next signer issues."""
    actor.require(Permission.SIGN)
    stale = list(session.scalars(
        select(SigningTask).where(SigningTask.state == "claimed", SigningTask.claimed_at < older_than,
                                  actor.persons_filter(SigningTask.person_id))
        .with_for_update()
    ))
    for task in stale:
        for certificate in session.scalars(select(Certificate).where(
                Certificate.person_id == task.person_id, Certificate.state == "reserved",
                Certificate.journal_id == task.journal_id)):
            _revoke(session, actor, certificate,
                    f"{CLAIM_RELEASED}: journal {task.journal_id} may hold it unreported")
        task.state, task.claimed_at, task.claimed_by, task.journal_id = "pending", None, None, None
    session.flush()
    return len(stale)


# --- certificates -------------------------------------------------------------------------------


def current_certificate(session: Session, person_id: str) -> CurrentCertificate | None:
    row = session.execute(
        select(Certificate.uvci, Certificate.fingerprint, Certificate.expires_at).where(
            Certificate.person_id == person_id, Certificate.state == "issued")
    ).first()
    if row is None:
        return None
    return CurrentCertificate(row[0], row[1], datetime.fromisoformat(row[2]) if row[2] else None)


def current_certificates(session: Session, person_ids: Sequence[str]) -> dict[str, CurrentCertificate]:
    """The current certificate of each of ``person_ids`` that has one (one query)."""
    rows = session.execute(
        select(Certificate.person_id, Certificate.uvci, Certificate.fingerprint, Certificate.expires_at)
        .where(Certificate.person_id.in_(list(person_ids)), Certificate.state == "issued"))
    return {person: CurrentCertificate(uvci, fingerprint,
                                       datetime.fromisoformat(expires) if expires else None)
            for person, uvci, fingerprint, expires in rows}


def is_blocked(session: Session, person_id: str) -> bool:
    return session.get(SigningBlock, person_id) is not None


def blocked(session: Session, person_ids: Sequence[str]) -> set[str]:
    """Of ``person_ids``, those no batch may sign (one query)."""
    return set(session.scalars(select(SigningBlock.person_id)
                               .where(SigningBlock.person_id.in_(list(person_ids)))))


@dataclass(frozen=True)
class Reservation:
    """What the store knows of a certificate before it is signed."""

    uvci: str
    person_id: str
    fingerprint: str
    signer: str
    kid: bytes
    issued_at: datetime
    expires_at: datetime


def reserve(session: Session, actor: Actor, journal_id: str, reservation: Reservation) -> None:
    """Reserve a UVCI for ``journal_id`` to sign (at most one open reservation per person)."""
    reserve_all(session, actor, journal_id, [reservation])


def reserve_all(session: Session, actor: Actor, journal_id: str,
                reservations: Sequence[Reservation]) -> None:
    """Reserve UVCIs for ``journal_id`` to sign, people in the actor's scope only (one insert)."""
    actor.require(Permission.SIGN)
    if not reservations:
        return
    wanted = {reservation.person_id for reservation in reservations}
    visible = set(session.scalars(select(Person.person_id).where(
        Person.person_id.in_(sorted(wanted)), actor.persons_filter(Person.person_id))))
    if wanted - visible:
        raise NotFound(f"no person {min(wanted - visible)} in your scope")
    session.execute(insert(Certificate), [{
        "uvci": reservation.uvci, "person_id": reservation.person_id, "state": "reserved",
        "issued_at": reservation.issued_at.isoformat(), "issued_by": actor.username,
        "journal_id": journal_id, "fingerprint": reservation.fingerprint,
        "signer": reservation.signer, "kid": reservation.kid.hex(),
        "expires_at": reservation.expires_at.isoformat(),
    } for reservation in reservations])


def reservations_of(session: Session, journal_id: str) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(
        Certificate.journal_id == journal_id, Certificate.state == "reserved")))


@dataclass(frozen=True)
class Signed:
    """A reserved UVCI its journal has signed: the store makes it current."""

    uvci: str
    signature: bytes
    previous_reason: str  # for the person's previous certificate: record_changed or expired


def confirm_all(session: Session, actor: Actor, journal_id: str, signed: Sequence[Signed]) -> list[str]:
    """:func:`confirm_issued` for many certificates at once (a few statements, one audit append);
    returns the UVCIs that were no longer open reservations of ``journal_id``."""
    actor.require(Permission.SIGN)
    if not signed:
        return []
    by_uvci = {item.uvci: item for item in signed}
    rows = session.execute(select(Certificate.uvci, Certificate.person_id, Certificate.state,
                                  Certificate.journal_id)
                           .where(Certificate.uvci.in_(list(by_uvci)),
                                  actor.persons_filter(Certificate.person_id))).all()
    if len(rows) < len(by_uvci):
        raise NotFound(f"no certificate {min(set(by_uvci) - {row[0] for row in rows})} in your scope")
    open_ = {uvci: person for uvci, person, state, journal in rows
             if state == "reserved" and journal == journal_id}
    reasons = {person: by_uvci[uvci].previous_reason for uvci, person in open_.items()}
    events: list[audit.AuditEvent] = []
    for previous in session.scalars(select(Certificate).where(
            Certificate.person_id.in_(list(reasons)), Certificate.state == "issued")):
        revoked = _mark_revoked(actor, previous, reasons[previous.person_id])
        if reasons[previous.person_id] != EXPIRED:
            events.append(revoked)
    session.flush()  # the old ones are retired before the new ones are current (unique index)
    if open_:
        session.execute(update(Certificate), [
            {"uvci": uvci, "state": "issued", "signature": by_uvci[uvci].signature.hex()}
            for uvci in open_])
        events += [audit.CertificateIssued(
            actor=actor.username, subject_id=f"person:{person}", uvci=uvci, person_id=person,
        ) for uvci, person in open_.items()]
    audit.append(session, events)  # one append (one chain lock) for the whole chunk
    retired = [uvci for uvci, _, state, _ in rows if uvci not in open_ and state != "issued"]
    for uvci in retired:
        add_signature(session, uvci, by_uvci[uvci].signature)
    return retired


def finish(session: Session, actor: Actor, done: Sequence[int], failed: Sequence[tuple[int, str]]) -> None:
    """Mark claimed tasks done, or failed with their reason (a few statements)."""
    actor.require(Permission.SIGN)
    now = utc_now_text()
    ids = [*done, *(task_id for task_id, _ in failed)]
    if not ids:
        return
    claimed = set(session.scalars(select(SigningTask.id).where(
        SigningTask.id.in_(ids), SigningTask.state == "claimed",
        actor.persons_filter(SigningTask.person_id))))
    if claimed != set(ids):
        raise StoreError(f"signing task {min(set(ids) - claimed)} is not claimed in your scope")
    if done:  # the common case: one UPDATE for the whole chunk
        session.execute(update(SigningTask).where(SigningTask.id.in_(list(done)))
                        .values(state="done", finished_at=now)
                        .execution_options(synchronize_session=False))
    if failed:
        session.execute(update(SigningTask), [
            {"id": task_id, "state": "failed", "finished_at": now, "error": error}
            for task_id, error in failed])


def confirm_issued(session: Session, actor: Actor, uvci: str, *, journal_id: str,
                   signature: bytes, previous_reason: str) -> bool:
    """A reserved certificate was signed: it becomes the person's current one and their previous
    one is retired with ``previous_reason`` (``expired`` supersedes without a revocation).

    False when the reservation is no longer open (its claim was released and it was revoked):
    the caller retires it in its journal too. Idempotent for a certificate already confirmed."""
    actor.require(Permission.SIGN)
    certificate = _in_scope(session, actor, uvci)
    certificate.signature = signature.hex()
    if certificate.state == "issued":
        return True
    if certificate.state != "reserved" or certificate.journal_id != journal_id:
        return False
    for previous in session.scalars(select(Certificate).where(
            Certificate.person_id == certificate.person_id, Certificate.state == "issued")):
        _revoke(session, actor, previous, previous_reason, audited=previous_reason != EXPIRED)
    session.flush()  # the old one is retired before the new one is current (unique index)
    certificate.state = "issued"
    audit.append(session, [audit.CertificateIssued(
        actor=actor.username, subject_id=f"person:{certificate.person_id}", uvci=uvci,
        person_id=certificate.person_id,
    )])
    return True


def void(session: Session, uvci: str, journal_id: str) -> None:
    """A reservation its own journal shows was never signed (the batch died before its commit)."""
    session.execute(update(Certificate).where(
        Certificate.uvci == uvci, Certificate.journal_id == journal_id,
        Certificate.state == "reserved").values(state="void"))


def add_signature(session: Session, uvci: str, signature: bytes) -> None:
    """Record the signature of a certificate the store revoked before its journal reported it, so
    the revocation list also carries its signature hash."""
    session.execute(update(Certificate).where(Certificate.uvci == uvci, Certificate.signature.is_(None))
                    .values(signature=signature.hex()))


def record_unknown(session: Session, actor: Actor, *, uvci: str, person_id: str, journal_id: str,
                   kid: bytes, signature: bytes, issued_at: datetime, expires_at: datetime) -> bool:
    """A certificate found in a journal that the store never reserved: recorded as revoked, so it
    reaches the revocation list. False when the person is not in the store."""
    actor.require(Permission.SIGN)
    if session.get(Person, person_id) is None:
        return False
    certificate = Certificate(
        uvci=uvci, person_id=person_id, state="issued", issued_at=issued_at.isoformat(),
        issued_by=actor.username, journal_id=journal_id, kid=kid.hex(), signature=signature.hex(),
        expires_at=expires_at.isoformat(),
    )
    _revoke(session, actor, certificate, "unknown_to_the_store: found in a journal")
    session.add(certificate)
    return True


def _in_scope(session: Session, actor: Actor, uvci: str) -> Certificate:
    certificate = session.scalar(
        select(Certificate).where(Certificate.uvci == uvci, actor.persons_filter(Certificate.person_id))
    )
    if certificate is None:
        raise NotFound(f"no certificate {uvci} in your scope")
    return certificate


def _mark_revoked(actor: Actor, certificate: Certificate, reason: str) -> audit.CertificateRevoked:
    """Revoke ``certificate`` in the session; returns its audit event for the caller to append."""
    certificate.state, certificate.revoked_at = "revoked", utc_now_text()
    certificate.revoked_by, certificate.revoke_reason = actor.username, reason
    return audit.CertificateRevoked(
        actor=actor.username, subject_id=f"person:{certificate.person_id}",
        uvci=certificate.uvci, person_id=certificate.person_id, reason=reason,
    )


def _revoke(session: Session, actor: Actor, certificate: Certificate, reason: str, *,
            audited: bool = True) -> None:
    event = _mark_revoked(actor, certificate, reason)
    if audited:
        audit.append(session, [event])


def revoke(session: Session, actor: Actor, *, reason: str, uvci: str | None = None,
           person_id: str | None = None, block: bool = False) -> str:
    """Revoke a person's current certificate (or one by UVCI); ``block`` stops future batches."""
    actor.require(Permission.SIGN)
    if (person_id is None) == (uvci is None):
        raise ConfigError("name exactly one of a person id or a UVCI to revoke")
    if not reason.strip():
        raise ConfigError("revoking a certificate needs a reason")
    if uvci is None:
        current = current_certificate(session, person_id or "")
        if current is None or not _visible(session, actor, person_id or ""):
            raise NotFound(f"person {person_id} has no current certificate in your scope")
        uvci = current.uvci
    certificate = _in_scope(session, actor, uvci)
    if certificate.state in ("revoked", "void"):
        raise StoreError(f"certificate {uvci} was {certificate.state} already")
    _revoke(session, actor, certificate, reason)
    if block and session.get(SigningBlock, certificate.person_id) is None:
        session.add(SigningBlock(person_id=certificate.person_id, reason=reason,
                                 blocked_at=utc_now_text(), blocked_by=actor.username))
    return uvci


def _visible(session: Session, actor: Actor, person_id: str) -> bool:
    return session.scalar(select(Person.person_id).where(
        Person.person_id == person_id, actor.persons_filter(Person.person_id))) is not None


def active_certificates(session: Session, actor: Actor, person_id: str) -> Sequence[Certificate]:
    return session.scalars(
        select(Certificate).where(
            Certificate.person_id == person_id, Certificate.state == "issued",
            actor.persons_filter(Certificate.person_id),
        )
    ).all()


def revocations(session: Session, actor: Actor, *, country: str) -> Iterator[Revocation]:
    """Every revoked certificate for a revocation list (expired ones superseded are left out).

    A reservation revoked before its journal reported it has no known signature: it is listed by
    UVCI hashes only."""
    actor.require(Permission.SIGN)
    for row in session.scalars(select(Certificate).where(
            Certificate.state == "revoked",
            and_(Certificate.revoke_reason != EXPIRED, actor.persons_filter(Certificate.person_id)))
            .order_by(Certificate.uvci)):
        yield Revocation(
            uci=row.uvci, country=country, kid=bytes.fromhex(row.kid or ""),
            signature=bytes.fromhex(row.signature or ""),
            revoked_at=datetime.fromisoformat(row.revoked_at or row.issued_at),
            expires=datetime.fromisoformat(row.expires_at or row.issued_at), reason=row.revoke_reason or "",
        )
