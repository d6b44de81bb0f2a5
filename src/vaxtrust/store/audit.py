"""The append-only audit trail: typed events in a keyed hash chain.

Every row of ``audit_event`` carries ``seq`` (dense: 1, 2, 3 ...), the event type, actor, time,
subject and a JSON payload, plus ``prev_hash`` (the previous row's hash), ``hash`` (HMAC-SHA256,
with the audit key, of all of the row's content and ``prev_hash``) and ``key_id`` (which key).
The key is kept outside the database (:mod:`vaxtrust.store.audit_key`), so whoever can write
the database cannot re-hash rows they edited. Editing a row breaks its own hash; deleting or
reordering rows breaks a ``prev_hash`` and leaves a gap in ``seq``; deleting the newest rows is
found against the newest signed head export. :func:`verify_chain` names each.

Decisions and corrections are covered too: each ``review_decided`` and ``correction_made`` event
carries the SHA-256 of its row, each ``run_published`` the digest of the run's corrections, and
``chain_rekeyed`` the digest of the rows made before the chain was keyed; a deleted, edited or
added decision or correction row is a problem of :func:`verify_chain`.

The database also refuses UPDATE and DELETE on these tables (triggers made by the migrations).
"""

from __future__ import annotations

import functools
import hashlib
import json
from abc import ABC
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from vaxtrust.errors import ConfigError
from vaxtrust.store.audit_key import AuditKey, HeadExport
from vaxtrust.store.tables import AuditEventRow, Base, Correction, Decision, utc_now_text

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
        """The event's own fields (everything but actor, subject and time); every payload field
        is a plain value, so a shallow read is the whole payload (``asdict`` would deep-copy)."""
        return {name: getattr(self, name) for name in _payload_names(type(self))}


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
    corrections_digest: str | None = None
    """SHA-256 of the run's correction rows (in id order): deleting or editing one is found."""


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
    correction_id: int | None = None
    """Row id of the correction."""
    correction_digest: str | None = None
    """SHA-256 of the correction row: deleting or editing it is found."""


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
    decision_digest: str | None = None
    """SHA-256 of the decision row: deleting or editing it is found."""


@dataclass(frozen=True, kw_only=True)
class ComplaintFiled(AuditEvent):
    """A citizen filed a complaint (phản ánh) about their vaccination data."""

    event_type: ClassVar[str] = "complaint_filed"
    record_id: str | None
    """The record complained about, when triage found it."""
    category: str
    """The kind of complaint (missing_dose, wrong_personal_info, ...)."""
    channel: str = "web"
    """web (the citizen's form) or import."""
    facility_id: str | None = None
    """The facility it was routed to (None: the province, or the daily pick-up queue)."""
    province_code: str | None = None
    """The province it was routed to."""
    deadline_at: str | None = None
    """When it must be settled (48 hours by default)."""
    proposal: str | None = None
    """The triage's proposal (link_record, correct_to_register, ...), if any."""


@dataclass(frozen=True, kw_only=True)
class ComplaintsImported(AuditEvent):
    """Complaints exported from another portal were imported in bulk (one event per file)."""

    event_type: ClassVar[str] = "complaints_imported"
    source: str
    """The file's name."""
    content_hash: str
    """SHA-256 of the file: proves which complaints were imported."""
    rows_in: int
    """Rows read (rows_in = accepted + rejected)."""
    accepted: int
    """Complaints stored."""
    rejected: int
    """Rows rejected (row, field and reason in the rejects)."""
    skipped: int = 0
    """Complaints already imported before (same complaint number): left alone."""
    first_id: int | None = None
    """The first complaint id stored."""
    last_id: int | None = None
    """The last complaint id stored."""


@dataclass(frozen=True, kw_only=True)
class ComplaintAssigned(AuditEvent):
    """A complaint was assigned, taken or reassigned (facility, officer)."""

    event_type: ClassVar[str] = "complaint_assigned"
    state: str
    """The state it moved to (assigned or in_progress)."""
    facility_id: str | None
    """The facility handling it now."""
    previous_facility_id: str | None
    """The facility that handled it before."""
    assignee: str | None
    """The officer it is assigned to."""
    reason: str | None
    """Why (needed for a reassignment)."""


@dataclass(frozen=True, kw_only=True)
class ComplaintEscalated(AuditEvent):
    """A complaint went to the province's Department of Health / CDC (overdue, or by hand)."""

    event_type: ClassVar[str] = "complaint_escalated"
    province_code: str | None
    """The province that handles it now."""
    facility_id: str | None
    """The facility that answers for it (its overdue count)."""
    deadline_at: str
    """The deadline it missed or was escalated before."""
    reason: str
    """overdue, or the officer's words."""


@dataclass(frozen=True, kw_only=True)
class ComplaintResolved(AuditEvent):
    """A complaint was settled (accepted with corrections, or refused with a reason)."""

    event_type: ClassVar[str] = "complaint_resolved"
    outcome: str
    """resolved or refused."""
    reason: str
    """Why, as the officer wrote it."""
    ground: str | None = None
    """The refusal ground of 9458/BYT-CNTT (a stable code), when refused."""
    proposal: str | None = None
    """What settled it: link_record, correct_to_register, dose_exists or duplicate."""
    record_id: str | None = None
    """The record it was about."""
    decision_id: int | None = None
    """The review decision that linked or corrected the record (one code path)."""


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


@dataclass(frozen=True, kw_only=True)
class ChainRekeyed(AuditEvent):
    """The chain was signed with the audit key (``vaxtrust audit rekey``): every row before
    this one re-hashed with it, and the decisions and corrections made before it adopted."""

    event_type: ClassVar[str] = "chain_rekeyed"
    rows: int
    """Rows re-hashed (all rows before this event)."""
    last_decision_id: int
    """Decisions with ids up to this one are covered by ``decisions_digest``."""
    decisions_digest: str
    """SHA-256 over those decision rows."""
    last_correction_id: int
    """Corrections with ids up to this one (and no other cover) are in ``corrections_digest``."""
    corrections_digest: str
    """SHA-256 over those correction rows."""


@dataclass(frozen=True, kw_only=True)
class CampaignSaved(AuditEvent):
    """The ministry created or changed a campaign's deadlines and targets."""

    event_type: ClassVar[str] = "campaign_saved"
    code: str
    """The campaign's code."""
    deadlines: str
    """Its deadlines as saved (canonical JSON)."""
    targets: str
    """Its targets as saved (canonical JSON)."""
    complaint_deadline: str | None = None
    """Its complaint deadline as saved (``48h``, ``48h working days``), if it sets one."""


@dataclass(frozen=True, kw_only=True)
class SnapshotTaken(AuditEvent):
    """The day's progress counts were written (replacing an earlier snapshot of that date)."""

    event_type: ClassVar[str] = "snapshot_taken"
    snapshot_date: str
    """The date the counts are for (YYYY-MM-DD, Viet Nam time)."""
    rows: int
    """Rows written (one per province, commune and facility)."""


@dataclass(frozen=True, kw_only=True)
class OfficersImported(AuditEvent):
    """A directory of focal officers (or facility heads) was imported."""

    event_type: ClassVar[str] = "officers_imported"
    file_sha256: str
    """SHA-256 of the imported file."""
    added: int
    """Officers added."""
    updated: int
    """Officers whose position, phone or email changed."""
    rejected: int
    """Rows refused (each with its reason in the import's answer)."""


@dataclass(frozen=True, kw_only=True)
class PoliceListExported(AuditEvent):
    """A commune's list of people to check went to the commune police (procedure 2262)."""

    event_type: ClassVar[str] = "police_list_exported"
    list_id: str
    """The list's id, printed in the file."""
    commune_code: str
    """The commune."""
    rows: int
    """People (records) on the list."""


@dataclass(frozen=True, kw_only=True)
class PoliceListImported(AuditEvent):
    """The commune police's answered list was applied: each answer a review decision."""

    event_type: ClassVar[str] = "police_list_imported"
    list_id: str
    """The list the answers belong to."""
    file_sha256: str
    """SHA-256 of the answered file: the audit source of the decisions it made."""
    applied: int
    """Answers that became decisions (corrections and links)."""
    rejected: int
    """Rows refused, with reasons."""


EVENT_TYPES: dict[str, type[AuditEvent]] = {
    cls.event_type: cls
    for cls in (
        RunPublished, RecordLinked, CorrectionMade, ReviewDecided, ComplaintFiled,
        ComplaintsImported, ComplaintAssigned, ComplaintEscalated, ComplaintResolved,
        CertificateIssued, CertificateRevoked, PersonalDataAccessed, UserAdded,
        LoginSucceeded, LoginFailed, PasswordChanged, UserDeactivated, TokenIssued, TokenRevoked,
        AdminActed, ActionRefused, ChainRekeyed, CampaignSaved, SnapshotTaken,
        OfficersImported, PoliceListExported, PoliceListImported,
    )
}


@functools.cache
def _payload_names(event_class: type[AuditEvent]) -> tuple[str, ...]:
    base = {"actor", "subject_id", "occurred_at"}
    return tuple(f.name for f in fields(event_class) if f.name not in base)


def payload_fields(event_class: type[AuditEvent]) -> list[str]:
    """Names of the payload fields of an event class (for docs and their test)."""
    return list(_payload_names(event_class))


def canonical_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def row_hash(key: AuditKey | None, seq: int, event_type: str, actor: str, occurred_at: str,
             subject_id: str, payload: str, prev_hash: str) -> str:
    """HMAC-SHA256 with ``key`` over everything a row says, in a fixed order.

    ``key`` None gives the plain SHA-256 of chains made before the chain was keyed.
    """
    material = canonical_json([seq, event_type, actor, occurred_at, subject_id, payload,
                               prev_hash]).encode("utf-8")
    return key.mac(material) if key is not None else hashlib.sha256(material).hexdigest()


def row_digest(row: Base) -> str:
    """SHA-256 of every column of a decision or correction row (how events cover them)."""
    values = [getattr(row, column.key) for column in row.__table__.columns]
    return hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()


def rows_digest(rows: Iterable[Base]) -> str:
    """SHA-256 over the digests of ``rows``, in the order given."""
    digest = hashlib.sha256()
    for row in rows:
        digest.update(row_digest(row).encode("ascii"))
    return digest.hexdigest()


def session_key(session: Session) -> AuditKey:
    """The audit key of the store this session belongs to."""
    key = session.info.get("audit_key")
    if key is None:
        raise ConfigError("no audit key configured: set store.audit_key_file or "
                          "$VAXTRUST_AUDIT_KEY (see docs/security.md)")
    return key


def _lock_chain_head(session: Session) -> tuple[int, str]:
    """Take the chain's lock and return (last seq, last hash)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_CHAIN_LOCK})
    last = session.execute(
        select(AuditEventRow.seq, AuditEventRow.hash).order_by(AuditEventRow.seq.desc()).limit(1)
    ).first()
    return (0, GENESIS_HASH) if last is None else (last.seq, last.hash)


def append(session: Session, events: Iterable[AuditEvent]) -> int:
    """Append events to the chain inside the caller's transaction (committed with its work);
    returns how many. One bulk insert: a signing chunk appends a thousand events at once."""
    events = list(events)
    if not events:
        return 0
    key = session_key(session)
    seq, prev_hash = _lock_chain_head(session)
    rows: list[dict[str, Any]] = []
    for event in events:
        seq += 1
        payload = canonical_json(event.payload())
        digest = row_hash(key, seq, event.event_type, event.actor, event.occurred_at,
                          event.subject_id, payload, prev_hash)
        rows.append({"seq": seq, "event_type": event.event_type, "actor": event.actor,
                     "occurred_at": event.occurred_at, "subject_id": event.subject_id,
                     "payload": payload, "prev_hash": prev_hash, "hash": digest,
                     "key_id": key.key_id})
        prev_hash = digest
    session.execute(insert(AuditEventRow), rows)
    return len(rows)


@dataclass(frozen=True)
class ChainProblem:
    """One place where the chain is broken."""

    seq: int
    """The chain row (0: a decision or correction row, named in ``problem``)."""
    problem: str

    def __str__(self) -> str:
        return f"row {self.seq}: {self.problem}" if self.seq else self.problem


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


@dataclass
class _Cover:
    """What the events of the chain say about decision and correction rows."""

    decisions: dict[int, str] = field(default_factory=dict)
    corrections: dict[int, str] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    adopted: dict[str, Any] | None = None

    def note(self, row: AuditEventRow) -> None:
        if row.event_type not in ("review_decided", "correction_made", "run_published",
                                  "chain_rekeyed"):
            return
        payload = json.loads(row.payload)
        if row.event_type == "review_decided" and payload.get("decision_digest"):
            self.decisions[payload["decision_id"]] = payload["decision_digest"]
        elif row.event_type == "correction_made" and payload.get("correction_digest"):
            self.corrections[payload["correction_id"]] = payload["correction_digest"]
        elif row.event_type == "run_published" and payload.get("corrections_digest"):
            self.runs[payload["run_id"]] = payload["corrections_digest"]
        elif row.event_type == "chain_rekeyed":
            # Everything before is adopted wholesale by the event's digests.
            self.decisions, self.corrections, self.runs = {}, {}, {}
            self.adopted = payload


def _check_chain(session: Session, key: AuditKey, cover: _Cover, *,
                 legacy_ok: bool = False, previous: AuditKey | None = None) -> ChainReport:
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
                "(the previous row was edited, or rows were deleted or reordered)"))
        if row.key_id is None and not legacy_ok:
            problems.append(ChainProblem(row.seq, "not keyed (made before the chain was "
                                         "keyed): run `vaxtrust audit rekey --admin`"))
        elif row.key_id is None:
            if row_hash(None, row.seq, row.event_type, row.actor, row.occurred_at,
                        row.subject_id, row.payload, row.prev_hash) != row.hash:
                problems.append(ChainProblem(row.seq, "edited: its content no longer matches "
                                             "its hash"))
        elif row.key_id != key.key_id and (previous is None or row.key_id != previous.key_id):
            problems.append(ChainProblem(row.seq, f"hashed with another audit key "
                                         f"({row.key_id}, this one is {key.key_id})"))
        elif row_hash(key if row.key_id == key.key_id else previous, row.seq, row.event_type,
                      row.actor, row.occurred_at, row.subject_id, row.payload,
                      row.prev_hash) != row.hash:
            problems.append(ChainProblem(row.seq, "edited: its content no longer matches its "
                                         "hash"))
        cover.note(row)
        expected_seq, prev_hash = row.seq + 1, row.hash
    return ChainReport(rows=count, head_hash=prev_hash, problems=problems)


def _check_head(session: Session, report: ChainReport, head: HeadExport) -> list[ChainProblem]:
    """The chain must still hold the exported head: same hash at the exported row count."""
    where = f"(export {head.path.name if head.path else ''} of {head.exported_at})"
    if report.rows < head.rows:
        return [ChainProblem(report.rows, f"the chain has {report.rows} rows but held "
                             f"{head.rows} when its head was exported {where}: newest rows "
                             "deleted")]
    exported = session.scalar(select(AuditEventRow.hash).where(AuditEventRow.seq == head.rows))
    if exported != head.head_hash:
        return [ChainProblem(head.rows, f"row {head.rows} is not the head exported {where}: "
                             "the chain was rewritten")]
    return []


def _check_rows(name: str, rows: Iterable[Base], digests: dict[int, str],
                adopted_upto: int) -> tuple[list[ChainProblem], list[Base]]:
    """Rows individually covered must match; the rest up to ``adopted_upto`` are returned."""
    problems: list[ChainProblem] = []
    adopted: list[Base] = []
    seen: set[int] = set()
    for row in rows:
        row_id = int(getattr(row, "id"))  # noqa: B009 - decision and correction rows alike
        seen.add(row_id)
        if row_id in digests:
            if digests[row_id] != row_digest(row):
                problems.append(ChainProblem(0, f"{name} {row_id} was edited after its audit "
                                             "event"))
        elif row_id <= adopted_upto:
            adopted.append(row)
        elif not (name == "correction" and getattr(row, "run_id", None)):
            problems.append(ChainProblem(0, f"{name} {row_id} has no audit event (added "
                                         "behind the application's back)"))
    problems += [ChainProblem(0, f"{name} {row_id} was deleted (its audit event remains)")
                 for row_id in sorted(set(digests) - seen)]
    return problems, adopted


def _check_cover(session: Session, cover: _Cover) -> list[ChainProblem]:
    adopted = cover.adopted or {"last_decision_id": 0, "last_correction_id": 0}
    decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
    problems, old_decisions = _check_rows("decision", decisions, cover.decisions,
                                          adopted["last_decision_id"])
    corrections = session.scalars(select(Correction).order_by(Correction.id)).all()
    run_rows: dict[str, list[Correction]] = {}
    for row in corrections:
        if row.run_id and row.id not in cover.corrections and \
                row.id > adopted["last_correction_id"]:
            run_rows.setdefault(row.run_id, []).append(row)
    more, old_corrections = _check_rows("correction", corrections, cover.corrections,
                                        adopted["last_correction_id"])
    problems += more
    for run_id in sorted(set(run_rows) | set(cover.runs)):
        if rows_digest(run_rows.get(run_id, [])) != cover.runs.get(run_id, rows_digest([])):
            problems.append(ChainProblem(0, f"corrections of run {run_id} were deleted, edited "
                                         "or added after it was published"))
    if cover.adopted is not None and (
            rows_digest(old_decisions) != cover.adopted["decisions_digest"]
            or rows_digest(old_corrections) != cover.adopted["corrections_digest"]):
        problems.append(ChainProblem(0, "decisions or corrections made before the chain was "
                                     "keyed were deleted or edited since"))
    return problems


def verify_chain(session: Session, *, head: HeadExport | None = None) -> ChainReport:
    """Recompute every keyed hash and link; check the decisions and corrections the events
    cover, and the newest signed head export ``head`` when given. Names each problem."""
    cover = _Cover()
    report = _check_chain(session, session_key(session), cover)
    problems = list(report.problems)
    if head is not None:
        problems += _check_head(session, report, head)
    problems += _check_cover(session, cover)
    return ChainReport(report.rows, report.head_hash, problems)


# The append-only guard of audit_event (migration 0001), lifted only while rekeying.
_SQLITE_GUARD = {
    "audit_event_no_update": "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: UPDATE refused'); END",
    "audit_event_no_delete": "CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: DELETE refused'); END",
}


def _set_guard(session: Session, on: bool) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"ALTER TABLE audit_event {'ENABLE' if on else 'DISABLE'} "
                             "TRIGGER USER"))
        return
    for name, create in _SQLITE_GUARD.items():
        session.execute(text(create if on else f"DROP TRIGGER IF EXISTS {name}"))


def rekey(session: Session, *, actor: str, previous: AuditKey | None = None) -> ChainReport:
    """Re-hash the whole chain with the store's audit key (``vaxtrust audit rekey``): a chain
    made before the key existed, or, with ``previous`` (the retired key), a key rotation.

    Refused when the chain is broken already (re-hashing would hide it): every row must verify
    with the store's key, the ``previous`` one, or (made before keys) as plain SHA-256. Decisions
    and corrections older than this are adopted by digest in a ``chain_rekeyed`` event. Needs the
    right to lift the append-only guard: the tables' owner (administrator mode).
    """
    key = session_key(session)
    _lock_chain_head(session)
    before = _check_chain(session, key, _Cover(), legacy_ok=True, previous=previous)
    if not before.intact:
        raise ConfigError(f"the audit chain is broken already ({before.problems[0]}): "
                          "rekeying would hide it")
    _set_guard(session, False)
    prev_hash = GENESIS_HASH
    for row in _stream_rows(session):
        digest = row_hash(key, row.seq, row.event_type, row.actor, row.occurred_at,
                          row.subject_id, row.payload, prev_hash)
        session.execute(text("UPDATE audit_event SET prev_hash = :prev, hash = :hash, "
                             "key_id = :key_id WHERE seq = :seq"),
                        {"prev": prev_hash, "hash": digest, "key_id": key.key_id,
                         "seq": row.seq})
        prev_hash = digest
    _set_guard(session, True)
    decisions = session.scalars(select(Decision).order_by(Decision.id)).all()
    corrections = session.scalars(select(Correction).order_by(Correction.id)).all()
    append(session, [ChainRekeyed(
        actor=actor, subject_id="audit:chain", rows=before.rows,
        last_decision_id=decisions[-1].id if decisions else 0,
        decisions_digest=rows_digest(decisions),
        last_correction_id=corrections[-1].id if corrections else 0,
        corrections_digest=rows_digest(corrections))])
    return before


def chain_head(session: Session) -> tuple[int, str]:
    """(rows, newest hash) of the chain."""
    last = session.execute(select(AuditEventRow.seq, AuditEventRow.hash)
                           .order_by(AuditEventRow.seq.desc()).limit(1)).first()
    return (0, GENESIS_HASH) if last is None else (last.seq, last.hash)


def events_for(session: Session, subject_id: str) -> list[AuditEventRow]:
    """Every event about one subject, oldest first."""
    return list(session.scalars(
        select(AuditEventRow).where(AuditEventRow.subject_id == subject_id)
        .order_by(AuditEventRow.seq)
    ))
