"""The signing queue and the certificates issued from it.

Decisions and publishes queue people here; ``passport sign-batch`` consumes the queue:
``claim_next`` → sign → ``record_issued`` (and ``revoke`` first for ``revoke_and_reissue``) →
``mark_done`` (or ``mark_failed``). Claims use ``FOR UPDATE SKIP LOCKED`` on PostgreSQL so several
signers can work at once without taking the same person twice.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError, NotFound, StoreError
from vaxtrust.store import audit
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Certificate, Person, SigningTask, utc_now_text


def has_active_certificate(session: Session, person_id: str) -> bool:
    return session.scalar(
        select(Certificate.uvci).where(
            Certificate.person_id == person_id, Certificate.state == "issued"
        ).limit(1)
    ) is not None


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


def claim_next(session: Session, actor: Actor, limit: int, *, worker: str) -> list[SigningTask]:
    """Claim up to ``limit`` pending tasks of people in the actor's scope, oldest first."""
    actor.require(Permission.SIGN)
    if limit < 1:
        raise ConfigError(f"claim limit must be at least 1, not {limit}")
    tasks = list(session.scalars(
        select(SigningTask)
        .where(SigningTask.state == "pending", actor.persons_filter(SigningTask.person_id))
        .order_by(SigningTask.id).limit(limit)
        .with_for_update(skip_locked=True)
    ))
    now = utc_now_text()
    for task in tasks:
        task.state, task.claimed_at, task.claimed_by = "claimed", now, worker
    session.flush()
    return tasks


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


def record_issued(session: Session, actor: Actor, person_id: str, uvci: str) -> Certificate:
    """Record a certificate the signer has just issued (and audit it)."""
    actor.require(Permission.SIGN)
    visible = session.scalar(
        select(Person.person_id).where(
            Person.person_id == person_id, actor.persons_filter(Person.person_id)
        )
    )
    if visible is None:
        raise NotFound(f"no person {person_id} in your scope")
    if session.get(Certificate, uvci) is not None:
        raise StoreError(f"certificate {uvci} is recorded already")
    certificate = Certificate(uvci=uvci, person_id=person_id, state="issued",
                              issued_at=utc_now_text(), issued_by=actor.username)
    session.add(certificate)
    audit.append(session, [audit.CertificateIssued(
        actor=actor.username, subject_id=f"person:{person_id}", uvci=uvci, person_id=person_id,
    )])
    return certificate


def revoke(session: Session, actor: Actor, uvci: str, reason: str) -> Certificate:
    actor.require(Permission.SIGN)
    if not reason.strip():
        raise ConfigError("revoking a certificate needs a reason")
    certificate = session.scalar(
        select(Certificate).where(
            Certificate.uvci == uvci, actor.persons_filter(Certificate.person_id)
        )
    )
    if certificate is None:
        raise NotFound(f"no certificate {uvci} in your scope")
    if certificate.state == "revoked":
        raise StoreError(f"certificate {uvci} was revoked already")
    certificate.state, certificate.revoked_at = "revoked", utc_now_text()
    certificate.revoked_by, certificate.revoke_reason = actor.username, reason
    audit.append(session, [audit.CertificateRevoked(
        actor=actor.username, subject_id=f"person:{certificate.person_id}", uvci=uvci,
        person_id=certificate.person_id, reason=reason,
    )])
    return certificate


def active_certificates(session: Session, actor: Actor, person_id: str) -> Sequence[Certificate]:
    return session.scalars(
        select(Certificate).where(
            Certificate.person_id == person_id, Certificate.state == "issued",
            actor.persons_filter(Certificate.person_id),
        )
    ).all()


def reset_stale_claims(session: Session, actor: Actor, older_than: str) -> int:
    """Put claims older than ``older_than`` (ISO time) back to pending (a signer died)."""
    actor.require(Permission.SIGN)
    result = session.execute(
        update(SigningTask)
        .where(SigningTask.state == "claimed", SigningTask.claimed_at < older_than,
               actor.persons_filter(SigningTask.person_id))
        .values(state="pending", claimed_at=None, claimed_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
