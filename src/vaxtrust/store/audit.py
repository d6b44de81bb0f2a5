"""The append-only audit trail: typed events, chained by hashes.

Every row of ``audit_event`` carries ``seq`` (dense: 1, 2, 3 ...), the event type, actor, time,
subject and a JSON payload, plus ``prev_hash`` (the previous row's hash) and ``hash`` (SHA-256 of
all of the row's content and ``prev_hash``). Editing a row breaks its own hash; deleting a row
breaks the next row's ``prev_hash`` and leaves a gap in ``seq``. :func:`verify_chain` names each.
The database also refuses UPDATE and DELETE on the table (a trigger made by the migration).

Limit: deleting the newest rows leaves a shorter, still valid chain. Keep the head hash that
``vaxtrust audit verify`` prints somewhere else (a report, a ticket) to detect that.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from vaxtrust.store.tables import AuditEventRow, utc_now_text

GENESIS_HASH = "0" * 64
# Any constant works; it names the one lock that serialises appends on PostgreSQL.
_PG_CHAIN_LOCK = 7_220_516_906


@dataclass(frozen=True, kw_only=True)
class AuditEvent(ABC):
    """Base of every audit event. Subclasses add their payload fields, each documented."""

    event_type: ClassVar[str]

    actor: str
    """Username of the person who caused the event (``system`` for the store itself)."""
    subject_id: str
    """What the event is about, as ``kind:id`` (``record:R1``, ``person:P1``, ``review:12``)."""
    occurred_at: str = field(default_factory=utc_now_text)
    """When it happened: ISO-8601 UTC text, set when the event is created."""

    def payload(self) -> dict[str, Any]:
        """The event's own fields (everything but actor, subject and time)."""
        base = {"actor", "subject_id", "occurred_at"}
        return {key: value for key, value in asdict(self).items() if key not in base}


@dataclass(frozen=True, kw_only=True)
class RunPublished(AuditEvent):
    """A cleaning run was loaded into the store; it links every verified or corrected record."""

    event_type: ClassVar[str] = "run_published"
    run_id: str
    """The run's id (from its summary.json, else its content hash)."""
    content_hash: str
    """SHA-256 of the run's result files: proves which links and outcomes were published."""
    records: int
    """Records written or updated by the run."""
    review_items: int
    """Review items the run opened."""
    superseded_items: int
    """Open items of older runs that this run replaced."""
    kept_decisions: int
    """Records the run covered but left alone because an officer had already decided them."""


@dataclass(frozen=True, kw_only=True)
class RecordLinked(AuditEvent):
    """A person linked a dose record to a register person (or unlinked it)."""

    event_type: ClassVar[str] = "record_linked"
    person_id: str | None
    """The register person the record now belongs to; None when the link was removed."""
    previous_person_id: str | None
    """The person it belonged to before, if any."""
    decision_id: int | None
    """The review decision that made the link."""


@dataclass(frozen=True, kw_only=True)
class CorrectionMade(AuditEvent):
    """One field of a record changed its current value (the original is kept)."""

    event_type: ClassVar[str] = "correction_made"
    field_name: str
    """Which field: full_name, dob, gender, id_number, person_id or status."""
    old_value: str | None
    """The value before the change."""
    new_value: str | None
    """The value after the change."""
    reason: str
    """Why, in words or reason codes."""
    decision_id: int | None
    """The review decision that caused it, if any."""


@dataclass(frozen=True, kw_only=True)
class ReviewDecided(AuditEvent):
    """An officer decided a review item (accept, reject all, edit or defer)."""

    event_type: ClassVar[str] = "review_decided"
    record_id: str
    """The record under review."""
    kind: str
    """accept, reject_all, edit or defer."""
    person_id: str | None
    """The register person chosen (accept, edit), else None."""
    note: str | None
    """The officer's note."""
    decision_id: int
    """Row id of the decision."""


@dataclass(frozen=True, kw_only=True)
class ComplaintFiled(AuditEvent):
    """A citizen filed a complaint (phản ánh) about their vaccination data."""

    event_type: ClassVar[str] = "complaint_filed"
    record_id: str | None
    """The record complained about, when known."""
    category: str
    """The kind of complaint (wrong name, missing dose, ...)."""


@dataclass(frozen=True, kw_only=True)
class ComplaintResolved(AuditEvent):
    """A complaint was settled (accepted with corrections, or refused with a reason)."""

    event_type: ClassVar[str] = "complaint_resolved"
    outcome: str
    """accepted or refused."""
    reason: str
    """Why, as the officer wrote it."""


@dataclass(frozen=True, kw_only=True)
class CertificateIssued(AuditEvent):
    """A vaccine passport (EU DCC) was signed for a person."""

    event_type: ClassVar[str] = "certificate_issued"
    uvci: str
    """The certificate's unique identifier."""
    person_id: str
    """The register person it was issued to."""


@dataclass(frozen=True, kw_only=True)
class CertificateRevoked(AuditEvent):
    """A vaccine passport was revoked (usually to be re-issued after a correction)."""

    event_type: ClassVar[str] = "certificate_revoked"
    uvci: str
    """The revoked certificate's unique identifier."""
    person_id: str
    """The person it had been issued to."""
    reason: str
    """Why it was revoked."""


@dataclass(frozen=True, kw_only=True)
class PersonalDataAccessed(AuditEvent):
    """A user looked at personal data (a record, a person, a review item)."""

    event_type: ClassVar[str] = "personal_data_accessed"
    purpose: str
    """What the access was for (review show, record history, person view ...)."""


@dataclass(frozen=True, kw_only=True)
class UserAdded(AuditEvent):
    """A user account was created with a role and a scope."""

    event_type: ClassVar[str] = "user_added"
    role: str
    """ministry, province, facility, commune_police or citizen."""
    scope: str
    """The province, facility, commune or person the role is limited to ('' for ministry)."""


@dataclass(frozen=True, kw_only=True)
class LoginSucceeded(AuditEvent):
    """A person signed in (web login, CLI password or API token)."""

    event_type: ClassVar[str] = "login_succeeded"
    method: str
    """password or token."""
    client: str
    """Where the sign-in came from: an IP address, or ``cli:UID`` for the command line."""


@dataclass(frozen=True, kw_only=True)
class LoginFailed(AuditEvent):
    """A sign-in was refused. The person was told only that it failed; the reason is here."""

    event_type: ClassVar[str] = "login_failed"
    method: str
    """password or token."""
    client: str
    """Where the attempt came from: an IP address, or ``cli:UID`` for the command line."""
    reason: str
    """unknown_user, bad_password, no_password, inactive, locked, bad_token or expired_token."""


@dataclass(frozen=True, kw_only=True)
class PasswordChanged(AuditEvent):
    """A user's password was set or changed (never the password itself)."""

    event_type: ClassVar[str] = "password_changed"
    self_service: bool
    """True when the user changed their own password, False when a manager or admin set it."""


@dataclass(frozen=True, kw_only=True)
class UserDeactivated(AuditEvent):
    """A user account was deactivated: it can no longer sign in and its tokens are revoked."""

    event_type: ClassVar[str] = "user_deactivated"
    reason: str
    """Why, as the manager wrote it."""
    tokens_revoked: int
    """How many live API tokens the deactivation revoked."""


@dataclass(frozen=True, kw_only=True)
class TokenIssued(AuditEvent):
    """An API token was issued to a user for scripted use (only its hash is stored)."""

    event_type: ClassVar[str] = "token_issued"
    token_id: int
    """Row id of the token."""
    name: str
    """What the token is for, as its owner named it."""
    expires_at: str
    """When it stops working (ISO-8601 UTC)."""


@dataclass(frozen=True, kw_only=True)
class TokenRevoked(AuditEvent):
    """An API token was revoked before its expiry."""

    event_type: ClassVar[str] = "token_revoked"
    token_id: int
    """Row id of the token."""


@dataclass(frozen=True, kw_only=True)
class AdminActed(AuditEvent):
    """The operating-system account owning the deployment used administrator mode."""

    event_type: ClassVar[str] = "admin_acted"
    os_user: str
    """The operating-system account name."""
    uid: int
    """Its numeric user id."""
    command: str
    """The command run in administrator mode."""


@dataclass(frozen=True, kw_only=True)
class ActionRefused(AuditEvent):
    """A signed-in user asked for something their role or scope does not allow, or that
    named something outside it. Refused without telling them whether it exists."""

    event_type: ClassVar[str] = "action_refused"
    action: str
    """What was asked (review decide, record history, publish ...)."""
    reason: str
    """Why it was refused (missing permission, out of scope, not among the candidates ...)."""


EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.event_type: cls
    for cls in (
        RunPublished, RecordLinked, CorrectionMade, ReviewDecided, ComplaintFiled,
        ComplaintResolved, CertificateIssued, CertificateRevoked, PersonalDataAccessed, UserAdded,
        LoginSucceeded, LoginFailed, PasswordChanged, UserDeactivated, TokenIssued, TokenRevoked,
        AdminActed, ActionRefused,
    )
}


def payload_fields(event_class: type[AuditEvent]) -> list[str]:
    """Names of the payload fields of an event class (for docs and their test)."""
    base = {"actor", "subject_id", "occurred_at"}
    return [f.name for f in fields(event_class) if f.name not in base]


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_hash(seq: int, event_type: str, actor: str, occurred_at: str, subject_id: str,
             payload: str, prev_hash: str) -> str:
    """SHA-256 over everything a row says, in a fixed order."""
    material = canonical_json([seq, event_type, actor, occurred_at, subject_id, payload, prev_hash])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def _lock_chain_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock and return (last seq, last hash)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})
    last = session.execute(
        select(AuditEventRow.seq, AuditEventRow.hash).order_by(AuditEventRow.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if last is None else (last.seq, last.hash)


def append(session: Session, events: Iterable[AuditEvent]) -> list[AuditEventRow]:
    """Append events to the chain inside the caller's transaction (committed with its work)."""
    seq, prev_hash = _lock_chain_head(session)
    rows: list[AuditEventRow] = []
    for event in events:
        seq += 1
        payload = canonical_json(event.payload())
        digest = row_hash(seq, event.event_type, event.actor, event.occurred_at,
                          event.subject_id, payload, prev_hash)
        rows.append(AuditEventRow(
            seq=seq, event_type=event.event_type, actor=event.actor,
            occurred_at=event.occurred_at, subject_id=event.subject_id, payload=payload,
            prev_hash=prev_hash, hash=digest,
        ))
        prev_hash = digest
    session.add_all(rows)
    session.flush()
    return rows


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain is broken."""

    seq: int
    problem: str

    def __str__(self) -> str:
        return f"row {self.seq}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    rows: int
    head_hash: str
    problems: Sequence[ChainProblem]

    @property
    def intact(self) -> bool:
        return not self.problems


def _stream_rows(session: Session, batch: int = 10_000) -> Iterator[AuditEventRow]:
    after = 0
    while True:
        rows = session.scalars(
            select(AuditEventRow).where(AuditEventRow.seq > after)
            .order_by(AuditEventRow.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def verify_chain(session: Session) -> ChainReport:
    """Recompute every hash and link; name each edited row and each deleted one."""
    problems: list[ChainProblem] = []
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    for row in _stream_rows(session):
        count += 1
        if row.seq != expected_seq:
            missing = (f"row {expected_seq}" if row.seq == expected_seq + 1
                       else f"rows {expected_seq}-{row.seq - 1}")
            problems.append(ChainProblem(row.seq, f"{missing} deleted before this row"))
        elif row.prev_hash != prev_hash:
            problems.append(ChainProblem(
                row.seq, "prev_hash does not match the previous row's hash "
                "(the previous row was edited, or a row before it deleted and renumbered)"))
        recomputed = row_hash(row.seq, row.event_type, row.actor, row.occurred_at,
                              row.subject_id, row.payload, row.prev_hash)
        if recomputed != row.hash:
            problems.append(ChainProblem(row.seq, "edited: its content no longer matches its hash"))
        expected_seq, prev_hash = row.seq + 1, row.hash
    return ChainReport(rows=count, head_hash=prev_hash, problems=problems)


def events_for(session: Session, subject_id: str) -> list[AuditEventRow]:
    """Every event about one subject, oldest first."""
    return list(session.scalars(
        select(AuditEventRow).where(AuditEventRow.subject_id == subject_id)
        .order_by(AuditEventRow.seq)
    ))
