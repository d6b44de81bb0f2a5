"""The signing batch: claim from the store's queue, reserve, sign into the journal, tell the store.

Each chunk goes through three commits, and a crash between any two loses nothing and doubles
nothing:

1. **Store**: claim tasks for this journal, read the people, decide each (already issued, skip,
   or sign) and reserve a UVCI for everyone to sign. Skips and unchanged people are finished here.
2. **Journal**: sign the reserved UVCIs, a signer's whole share at a time, and commit (fsync).
3. **Store**: each signed certificate becomes its person's current one (the previous one revoked
   in the same transaction); tasks done.

A batch starts by recovering its journal (:func:`recover_journal`): reservations the journal holds
are confirmed, those it never signed are voided, its leftover claims go back to the queue, and any
certificate of the journal the store does not know is revoked. A claim released while its journal
was away (``--reclaim-after``) has its UVCIs revoked by the store; when that journal comes back,
those certificates are retired in it too. The store's unique index keeps one current certificate
per person across every journal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import CertificateError
from vaxtrust.passport.issue import (
    DEFAULT_VALIDITY,
    IssueRequest,
    SignedCertificate,
    issue_certificates,
)
from vaxtrust.passport.payload import Dose, Holder, new_uvci
from vaxtrust.passport.signer import Signer
from vaxtrust.signing import CLAIM, queue
from vaxtrust.signing.journal import EXPIRED, RECORD_CHANGED, IssuanceJournal, JournalCertificate
from vaxtrust.signing.people import PersonToSign, people_in_store, unknown_person, why_not_signable
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Certificate

STAGE = "sign-batch"

SignerFor = Callable[[PersonToSign], tuple[str, Signer]]


@dataclass
class BatchSummary:
    issued: int = 0
    reissued: int = 0  # the record changed: old certificate revoked
    renewed: int = 0  # the old certificate expired: superseded, not revoked
    already_issued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    recovered: int = 0  # certificates of an earlier, interrupted batch confirmed to the store
    revoked_unknown: int = 0  # certificates of the journal the store did not know

    def count(self, outcome: str) -> None:
        """Count one outcome: issued, reissued, renewed, already_issued or skip:<reason>."""
        if outcome in ("issued", "reissued", "renewed", "already_issued"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        else:
            reason = outcome.removeprefix("skip:")
            self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())


@dataclass(frozen=True)
class BatchOptions:
    validity: timedelta = DEFAULT_VALIDITY
    allow_flagged: bool = False
    claim: int = CLAIM


@dataclass(frozen=True)
class _ToSign:
    """A person the store reserved a UVCI for, waiting for their signer's turn."""

    task_id: int
    person: PersonToSign
    fingerprint: str
    current: queue.CurrentCertificate | None
    signer_name: str
    signer: Signer
    request: IssueRequest
    uvci: str

    @property
    def renewal(self) -> bool:
        return self.current is not None and self.current.fingerprint == self.fingerprint


@dataclass(frozen=True)
class _Skip:
    """A person not signed, and the certificate withdrawn because their data changed."""

    task_id: int
    person_id: str
    reason: str
    withdraw: queue.CurrentCertificate | None

    @property
    def withdraw_reason(self) -> str:
        return f"{RECORD_CHANGED}: {self.reason}"


@dataclass
class _Chunk:
    to_sign: list[_ToSign] = field(default_factory=list)
    skipped: list[_Skip] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)


def sign_from_store(
    store: Store, actor: Actor, journal: IssuanceJournal, signer_for: SignerFor, *, worker: str,
    now: Callable[[], datetime] = lambda: datetime.now(UTC), options: BatchOptions | None = None,
    console: Console | None = None, total: int | None = None,
) -> BatchSummary:
    """Work through the actor's pending signing tasks until none is left."""
    options = options or BatchOptions()
    console = console or NoopConsole()
    summary = BatchSummary()
    recover_journal(store, actor, journal, summary, now())
    console.stage_started(STAGE, total)
    while True:
        at = now()
        with store.transaction() as session:
            chunk = _claim_and_reserve(session, actor, journal, signer_for, at, options, worker)
        if not chunk.outcomes:
            break
        signed = _sign_into_journal(chunk, journal, at, options.validity)
        with store.transaction() as session:
            retired = _tell_store(session, actor, journal, chunk, signed)
        _retire_in_journal(journal, retired, at)
        for outcome in chunk.outcomes:
            summary.count(outcome)
        console.rows_processed(STAGE, len(chunk.outcomes))
    console.stage_finished(STAGE, summary.issued + summary.reissued + summary.renewed)
    return summary


def _claim_and_reserve(session: Session, actor: Actor, journal: IssuanceJournal,
                       signer_for: SignerFor, at: datetime, options: BatchOptions,
                       worker: str) -> _Chunk:
    """Commit 1: claim, decide each person, reserve the UVCIs to sign (a few statements a chunk)."""
    tasks = queue.claim_next(session, actor, options.claim, worker=worker,
                             journal_id=journal.journal_id)
    person_ids = [task.person_id for task in tasks]
    people = people_in_store(session, person_ids)
    current = queue.current_certificates(session, person_ids)
    blocked = queue.blocked(session, person_ids)
    chunk = _Chunk()
    seen: dict[str, int] = {}
    done: list[int] = []
    for task in tasks:
        if task.person_id in seen:  # a second task of one person shares the first's outcome
            chunk.outcomes.append(chunk.outcomes[seen[task.person_id]])
            done.append(task.id)
            continue
        seen[task.person_id] = len(chunk.outcomes)
        person = people.get(task.person_id) or unknown_person(task.person_id)
        decided = _decide(task, person, current.get(task.person_id), task.person_id in blocked,
                          signer_for, at, options)
        if isinstance(decided, _ToSign):
            chunk.to_sign.append(decided)
            chunk.outcomes.append("")  # filled in once signed
        elif isinstance(decided, _Skip):
            chunk.skipped.append(decided)
            chunk.outcomes.append("skip:" + decided.reason.split(":")[0])  # the detail is kept
        else:
            done.append(task.id)
            chunk.outcomes.append(decided)
    queue.reserve_all(session, actor, journal.journal_id, [queue.Reservation(
        uvci=job.uvci, person_id=job.person.person_id, fingerprint=job.fingerprint,
        signer=job.signer_name, kid=job.signer.kid, issued_at=at, expires_at=at + options.validity,
    ) for job in chunk.to_sign])
    for skip in chunk.skipped:
        # a certificate made of data that has since changed into something unsignable is
        # revoked: it no longer says what the verified record says
        if skip.withdraw is not None:
            queue.revoke(session, actor, uvci=skip.withdraw.uvci, reason=skip.withdraw_reason)
    queue.finish(session, actor, done, [(skip.task_id, skip.reason) for skip in chunk.skipped])
    return chunk


def _decide(task: queue.ClaimedTask, person: PersonToSign, current: queue.CurrentCertificate | None,
            blocked: bool, signer_for: SignerFor, at: datetime,
            options: BatchOptions) -> _ToSign | _Skip | str:
    fingerprint = person.fingerprint()
    unchanged = current is not None and current.fingerprint == fingerprint
    if current is not None and unchanged and current.expires_at is not None and current.expires_at > at:
        return "already_issued"
    if blocked:
        return _Skip(task.id, person.person_id, "blocked", None)
    withdraw = None if unchanged else current
    reason = why_not_signable(person, allow_flagged=options.allow_flagged)
    if reason is not None:
        return _Skip(task.id, person.person_id, reason, withdraw)
    try:
        holder = Holder.from_register(person.full_name or "", person.dob or "", person.dob_precision)
        doses = [
            Dose(vaccinated_on=date.fromisoformat(str(dose["vaccinated_on"])[:10]), product=dose["mp"])
            for dose in person.doses
        ]
    except (CertificateError, ValueError) as error:
        return _Skip(task.id, person.person_id, f"certificate_data: {error}", withdraw)
    signer_name, signer = signer_for(person)
    return _ToSign(task.id, person, fingerprint, current, signer_name, signer, (holder, doses),
                   new_uvci())


def _sign_into_journal(chunk: _Chunk, journal: IssuanceJournal, at: datetime,
                       validity: timedelta) -> list[SignedCertificate | CertificateError]:
    """Commit 2: sign every reservation, a signer's share at a time, into the journal."""
    signed: list[SignedCertificate | CertificateError] = [CertificateError("unsigned")] * len(chunk.to_sign)
    by_signer: dict[int, list[int]] = {}
    for position, job in enumerate(chunk.to_sign):
        by_signer.setdefault(id(job.signer), []).append(position)
    journal.begin()
    try:
        for skip in chunk.skipped:
            journal.record_skipped(skip.person_id, skip.reason, at)
            if skip.withdraw is not None:
                journal.retire(skip.withdraw.uvci, reason=skip.withdraw_reason, now=at)
        for positions in by_signer.values():
            jobs = [chunk.to_sign[position] for position in positions]
            issued = issue_certificates([job.request for job in jobs], jobs[0].signer, now=at,
                                        validity=validity, uvcis=[job.uvci for job in jobs])
            for position, job, certificate in zip(positions, jobs, issued, strict=True):
                signed[position] = certificate
                if isinstance(certificate, CertificateError):
                    journal.record_skipped(job.person.person_id, f"certificate_data: {certificate}", at)
                else:
                    journal.record_issued(
                        person_id=job.person.person_id, fingerprint=job.fingerprint,
                        signer=job.signer_name, issued=certificate, now=at,
                        reason=EXPIRED if job.renewal else RECORD_CHANGED)
        journal.commit()
    except BaseException:
        journal.rollback()
        raise  # the tasks stay claimed with their reservations; the next batch recovers them
    return signed


def _tell_store(session: Session, actor: Actor, journal: IssuanceJournal, chunk: _Chunk,
                signed: list[SignedCertificate | CertificateError]) -> list[str]:
    """Commit 3: the signed certificates become current; returns UVCIs the store had revoked
    meanwhile (their claim was released), to retire in the journal."""
    confirmed: list[queue.Signed] = []
    done: list[int] = []
    failed: list[tuple[int, str]] = []
    positions = iter(index for index, outcome in enumerate(chunk.outcomes) if outcome == "")
    for job, certificate, position in zip(chunk.to_sign, signed, positions, strict=True):
        if isinstance(certificate, CertificateError):
            queue.void(session, job.uvci, journal.journal_id)
            reason = f"certificate_data: {certificate}"
            if job.current is not None and not job.renewal:
                queue.revoke(session, actor, uvci=job.current.uvci, reason=f"{RECORD_CHANGED}: {reason}")
            failed.append((job.task_id, reason))
            chunk.outcomes[position] = "skip:certificate_data"
            continue
        confirmed.append(queue.Signed(job.uvci, certificate.signature,
                                      EXPIRED if job.renewal else RECORD_CHANGED))
        done.append(job.task_id)
        chunk.outcomes[position] = ("issued" if job.current is None
                                    else "renewed" if job.renewal else "reissued")
    retired = queue.confirm_all(session, actor, journal.journal_id, confirmed)
    queue.finish(session, actor, done, failed)
    return retired


def _retire_in_journal(journal: IssuanceJournal, uvcis: list[str], at: datetime) -> None:
    if not uvcis:
        return
    journal.begin()
    try:
        for uvci in uvcis:
            journal.retire(uvci, reason="revoked by the store", now=at)
        journal.commit()
    except BaseException:
        journal.rollback()
        raise


# --- recovery -----------------------------------------------------------------------------------

_LOOKUP = 500  # UVCIs per store query when comparing a journal with the store


def recover_journal(store: Store, actor: Actor, journal: IssuanceJournal, summary: BatchSummary,
                    at: datetime) -> None:
    """Bring the store and this journal into agreement after an interrupted batch (idempotent)."""
    with store.transaction() as session:
        summary.recovered += _settle_reservations(session, actor, journal)
    retired = []
    held = list(journal.current())
    for start in range(0, len(held), _LOOKUP):
        with store.transaction() as session:
            retired += _not_current_in_store(session, actor, journal, held[start:start + _LOOKUP],
                                             summary)
    _retire_in_journal(journal, retired, at)


def _settle_reservations(session: Session, actor: Actor, journal: IssuanceJournal) -> int:
    """Confirm the journal's reservations it signed, void those it did not, and put its leftover
    claims back in the queue; returns how many certificates were confirmed."""
    confirmed = 0
    for reservation in queue.reservations_of(session, journal.journal_id):
        signed = journal.certificate(reservation.uvci)
        if signed is None:
            queue.void(session, reservation.uvci, journal.journal_id)
            continue
        current = queue.current_certificate(session, reservation.person_id)
        renewal = current is not None and current.fingerprint == signed.fingerprint
        confirmed += queue.confirm_issued(
            session, actor, reservation.uvci, journal_id=journal.journal_id,
            signature=signed.signature, previous_reason=EXPIRED if renewal else RECORD_CHANGED)
    for task in queue.claimed_by_journal(session, actor, journal.journal_id):
        task.state, task.claimed_at, task.claimed_by, task.journal_id = "pending", None, None, None
    return confirmed


def _not_current_in_store(session: Session, actor: Actor, journal: IssuanceJournal,
                          held: list[JournalCertificate], summary: BatchSummary) -> list[str]:
    """Of the journal's current certificates, those the store does not hold as current: revoked
    in the store when it never heard of them, their signature recorded when it revoked them."""
    states = dict(session.execute(
        select(Certificate.uvci, Certificate.state)
        .where(Certificate.uvci.in_([certificate.uvci for certificate in held]))).all())
    retired = []
    for certificate in held:
        state = states.get(certificate.uvci)
        if state == "issued":
            continue
        if state is None:
            queue.record_unknown(
                session, actor, uvci=certificate.uvci, person_id=certificate.person_id,
                journal_id=journal.journal_id, kid=certificate.kid, signature=certificate.signature,
                issued_at=certificate.issued_at, expires_at=certificate.expires_at)
            summary.revoked_unknown += 1
        else:
            queue.add_signature(session, certificate.uvci, certificate.signature)
        retired.append(certificate.uvci)
    return retired


def release_stale_claims(store: Store, actor: Actor, *, older_than: timedelta, now: datetime) -> int:
    """Put tasks claimed before ``now - older_than`` back to pending (their signer died); the
    UVCIs they reserved are revoked."""
    with store.transaction() as session:
        cutoff = (now - older_than).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the store's form
        return queue.release_stale_claims(session, actor, cutoff)
