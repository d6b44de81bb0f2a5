"""SQLAlchemy 2 tables of the operational store.

The schema changes only through Alembic revisions (``store/migrations``); a test checks that the
migrations produce exactly this metadata. Times are ISO-8601 UTC text (``utc_now_text``) so they
round-trip identically on SQLite and PostgreSQL, which the audit hash chain relies on. Lists
(reason codes) are JSON text for the same reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("ministry", "province", "facility", "commune_police", "citizen")
RECORD_STATUSES = ("verified", "corrected", "review", "unmatched", "rejected")
REVIEW_STATES = ("open", "deferred", "decided", "superseded")
DECISION_KINDS = ("accept", "reject_all", "edit", "defer")
SIGNING_ACTIONS = ("issue", "revoke_and_reissue")
SIGNING_STATES = ("pending", "claimed", "done", "failed")
# reserved: a UVCI the store handed to a signer before it signs; void: a reservation its journal
# proves was never signed. Only "issued" is current, and a person has at most one (uq index).
CERTIFICATE_STATES = ("reserved", "issued", "revoked", "void")
# Complaints (phản ánh, 9458/BYT-CNTT): see vaxtrust.complaints.model for the transitions.
COMPLAINT_STATES = ("received", "assigned", "in_progress", "resolved", "refused", "escalated")
COMPLAINT_CATEGORIES = ("missing_dose", "wrong_personal_info", "wrong_dose_info",
                        "duplicate_dose", "no_certificate")
COMPLAINT_ROUTINGS = ("facility", "province", "district", "pickup")
# The inbox's partial indexes cover the complaints still to settle.
COMPLAINT_OPEN_SQL = "state NOT IN ('resolved', 'refused')"


def utc_now_text() -> str:
    """Now in UTC as fixed-width ISO-8601 text (sorts like the time it names)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Province(Base):
    __tablename__ = "province"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))


class Facility(Base):
    __tablename__ = "facility"

    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    province_code: Mapped[str] = mapped_column(ForeignKey("province.code"), index=True)


class User(Base):
    """An officer or citizen; role and scope columns decide what the store lets them see."""

    __tablename__ = "app_user"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    province_code: Mapped[str | None] = mapped_column(String(64))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[str] = mapped_column(String(32))
    password_hash: Mapped[str | None] = mapped_column(Text)
    """Argon2id hash (PHC string); None until a password is set: such a user cannot sign in."""
    password_changed_at: Mapped[str | None] = mapped_column(String(32))
    last_login_at: Mapped[str | None] = mapped_column(String(32))


class ApiToken(Base):
    """A bearer token issued to a user for scripts; only its SHA-256 is kept."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32))
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    last_used_at: Mapped[str | None] = mapped_column(String(32))


class LoginThrottle(Base):
    """Consecutive failed sign-ins per key (``user:NAME`` or ``client:ADDRESS``).

    Kept for names that are no user too, so a lock-out never tells whether a user exists.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[str] = mapped_column(String(32))
    locked_until: Mapped[str | None] = mapped_column(String(32))


class Run(Base):
    """A published cleaning run. content_hash makes publishing idempotent."""

    __tablename__ = "run"

    run_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_dir: Mapped[str] = mapped_column(Text)
    published_at: Mapped[str] = mapped_column(String(32))
    published_by: Mapped[str] = mapped_column(String(64))
    record_count: Mapped[int] = mapped_column(Integer)
    review_count: Mapped[int] = mapped_column(Integer)
    superseded_items: Mapped[int] = mapped_column(Integer)
    kept_decisions: Mapped[int] = mapped_column(Integer)
    # The settings the run was cleaned with (run.json): dose-history refreshes reuse them.
    settings: Mapped[str | None] = mapped_column(Text)


class Person(Base):
    """A person of the population register (a copy of the rows the store's records refer to)."""

    __tablename__ = "person"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    old_id: Mapped[str | None] = mapped_column(String(32), index=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    dob: Mapped[str | None] = mapped_column(String(10))
    dob_precision: Mapped[str | None] = mapped_column(String(64))
    gender: Mapped[str | None] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))


class VaccinationRecord(Base):
    """One dose record: the facility's original values (never updated) and the current ones."""

    __tablename__ = "vaccination_record"
    __table_args__ = (
        CheckConstraint(_in("status", RECORD_STATUSES), name="status"),
        Index("ix_vaccination_record_commune_status", "commune_code", "status"),
        # Only the few records officers decided: publish finds their people without a scan.
        Index("ix_vaccination_record_decided", "person_id", sqlite_where=text("decided"),
              postgresql_where=text("decided")),
    )

    record_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # No foreign key: publish registers the facility in the same transaction, just before.
    facility_id: Mapped[str] = mapped_column(String(64), index=True)
    # The facility's province, copied for scope queries (publish keeps the two in step).
    province_code: Mapped[str] = mapped_column(String(64), index=True)
    commune_code: Mapped[str | None] = mapped_column(String(64))
    original_full_name: Mapped[str | None] = mapped_column(Text)
    original_dob: Mapped[str | None] = mapped_column(Text)
    original_gender: Mapped[str | None] = mapped_column(Text)
    original_id_number: Mapped[str | None] = mapped_column(Text)
    original_phone: Mapped[str | None] = mapped_column(Text)
    original_province: Mapped[str | None] = mapped_column(Text)
    original_district: Mapped[str | None] = mapped_column(Text)
    original_commune: Mapped[str | None] = mapped_column(Text)
    original_dose_number: Mapped[str | None] = mapped_column(Text)
    original_vaccine: Mapped[str | None] = mapped_column(Text)
    original_lot: Mapped[str | None] = mapped_column(Text)
    original_vaccinated_on: Mapped[str | None] = mapped_column(Text)
    original_facility_id: Mapped[str | None] = mapped_column(Text)
    full_name: Mapped[str | None] = mapped_column(Text)
    dob: Mapped[str | None] = mapped_column(Text)
    gender: Mapped[str | None] = mapped_column(Text)
    id_number: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[str | None] = mapped_column(ForeignKey("person.person_id"), index=True)
    confidence: Mapped[float | None] = mapped_column(Float)
    reasons: Mapped[str] = mapped_column(Text, default="[]")
    # Run ids carry no foreign key: publish writes them with the run row, and one key check per
    # row is a large share of a million-row publish on PostgreSQL.
    run_id: Mapped[str] = mapped_column(String(80))
    """The run that last set this record's outcome."""
    first_run_id: Mapped[str] = mapped_column(String(80))
    """The run that first published this record."""
    decided: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[str] = mapped_column(String(32))
    input_order: Mapped[int | None] = mapped_column(BigInteger)
    """Where the record stood in the input of the run that last published it (by source file,
    then row): of two doses on one day the cleaning keeps the first, and so does the store when
    it recomputes a dose history (``vaxtrust.store.doses``). Between records of different runs
    it is only a stable tie-break; NULL (published before this column) sorts last."""


class Correction(Base):
    """One change of one current field of a record: who, why, from what to what."""

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(
        ForeignKey("vaccination_record.record_id"), index=True
    )
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    # Indexed: publish reads a run's corrections (its audit digest, the people it unlinked).
    run_id: Mapped[str | None] = mapped_column(ForeignKey("run.run_id"), index=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    made_at: Mapped[str] = mapped_column(String(32))


class DoseHistory(Base):
    """Each person's consolidated doses, as the newest run computed them, or as the store
    recomputed them with the run's rules when an officer's decision linked or unlinked a record
    (``vaxtrust.store.doses``); ``run_id`` is then the run that published the dose's record.

    Derived data, replaced per person on publish and written only joined to the records it
    describes, so it carries no foreign keys (their per-row checks dominate a national publish).
    """

    __tablename__ = "dose_history"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    dose_number: Mapped[int | None] = mapped_column(Integer)
    vaccine_mp: Mapped[str | None] = mapped_column(String(64))
    vaccine_ma: Mapped[str | None] = mapped_column(String(64))
    vaccine_vp: Mapped[str | None] = mapped_column(String(64))
    vaccinated_on: Mapped[str | None] = mapped_column(String(10))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    duplicate_of: Mapped[str | None] = mapped_column(String(64))
    flags: Mapped[str] = mapped_column(Text, default="[]")
    run_id: Mapped[str] = mapped_column(String(80))


class ReviewItem(Base):
    """A record waiting for an officer. ``version`` is the optimistic lock."""

    __tablename__ = "review_item"
    __table_args__ = (
        CheckConstraint(_in("state", REVIEW_STATES), name="state"),
        Index("ix_review_item_queue", "state", "province_code", "facility_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(
        ForeignKey("vaccination_record.record_id"), index=True
    )
    run_id: Mapped[str] = mapped_column(ForeignKey("run.run_id"))
    province_code: Mapped[str] = mapped_column(String(64))
    facility_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    version: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    superseded_by_run: Mapped[str | None] = mapped_column(ForeignKey("run.run_id"))


class ReviewItemReason(Base):
    """The reason codes of an item, one row each, so the queue can filter by reason."""

    __tablename__ = "review_item_reason"

    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class ReviewCandidate(Base):
    __tablename__ = "review_candidate"

    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"))
    match_probability: Mapped[float | None] = mapped_column(Float)
    comparison: Mapped[str] = mapped_column(Text)
    reasons: Mapped[str] = mapped_column(Text, default="[]")


class Decision(Base):
    __tablename__ = "decision"
    __table_args__ = (CheckConstraint(_in("kind", DECISION_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id"), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(12))
    person_id: Mapped[str | None] = mapped_column(String(32))
    fields: Mapped[str] = mapped_column(Text, default="{}")
    note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[str] = mapped_column(String(32))


class Certificate(Base):
    """A certificate the store knows: reserved before signing, then issued, revoked or void."""

    __tablename__ = "certificate"
    __table_args__ = (
        CheckConstraint(_in("state", CERTIFICATE_STATES), name="state"),
        # One person, one current certificate, whatever signs and however often it crashes.
        Index("uq_certificate_current", "person_id", unique=True,
              sqlite_where=text("state = 'issued'"), postgresql_where=text("state = 'issued'")),
        # One signer at a time per person: a second reservation waits for the first to resolve.
        Index("uq_certificate_reserved", "person_id", unique=True,
              sqlite_where=text("state = 'reserved'"), postgresql_where=text("state = 'reserved'")),
        Index("ix_certificate_journal_id", "journal_id", "state"),
    )

    uvci: Mapped[str] = mapped_column(String(80), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.person_id"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    issued_at: Mapped[str] = mapped_column(String(32))
    issued_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[str | None] = mapped_column(String(32))
    revoked_by: Mapped[str | None] = mapped_column(String(64))
    revoke_reason: Mapped[str | None] = mapped_column(Text)
    # The issuance journal that reserved (and signs) it, and what the certificate says.
    journal_id: Mapped[str | None] = mapped_column(String(64))
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    signer: Mapped[str | None] = mapped_column(String(64))
    kid: Mapped[str | None] = mapped_column(String(64))  # hex
    signature: Mapped[str | None] = mapped_column(Text)  # hex; known once the journal reports it
    expires_at: Mapped[str | None] = mapped_column(String(32))


class SigningBlock(Base):
    """People an officer revoked with ``--block``: no batch signs them again."""

    __tablename__ = "signing_block"

    person_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    blocked_at: Mapped[str] = mapped_column(String(32))
    blocked_by: Mapped[str] = mapped_column(String(64))


class SigningTask(Base):
    """Work for ``passport sign-batch``: issue a certificate, or revoke and re-issue one."""

    __tablename__ = "signing_queue"
    __table_args__ = (
        CheckConstraint(_in("action", SIGNING_ACTIONS), name="action"),
        CheckConstraint(_in("state", SIGNING_STATES), name="state"),
        Index("ix_signing_queue_pending", "state", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # No foreign key: only linked (hence stored) persons are queued, often 100,000s at once.
    person_id: Mapped[str] = mapped_column(String(32), index=True)
    action: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    claimed_at: Mapped[str | None] = mapped_column(String(32))
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    journal_id: Mapped[str | None] = mapped_column(String(64))  # the journal the claim signs into
    finished_at: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(Text)


class AuditEventRow(Base):
    """The append-only audit trail. ``seq`` is dense (1, 2, 3 ...) and part of the hash."""

    __tablename__ = "audit_event"
    __table_args__ = (
        UniqueConstraint("prev_hash", name="uq_audit_event_prev_hash"),
        Index("ix_audit_event_subject", "subject_id"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    event_type: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_id: Mapped[str | None] = mapped_column(String(16))
    """Which audit key made ``hash`` (None: a plain SHA-256 made before the chain was keyed)."""


class WebSession(Base):
    """A signed-in browser or API client of ``vaxtrust serve`` (server-side, so logout is real).

    Only the SHA-256 of the session token is kept: a copy of the database opens no session. An
    officer's session names the user; a citizen's (after a one-time code) names the person.
    """

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(32))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32), index=True)


class LookupChallenge(Base):
    """A citizen's look-up waiting for its one-time code (``person_id`` NULL when nobody
    matched: the answer looks the same, and no code can ever open it)."""

    __tablename__ = "lookup_challenge"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[str | None] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64))
    tries_left: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[str] = mapped_column(String(32), index=True)


class WebRateLimit(Base):
    """Citizen look-ups counted per key (a keyed hash of a client address or an ID number) in
    time buckets, so every worker of ``vaxtrust serve`` shares one limit (``web.ratelimit``)."""

    __tablename__ = "web_rate_limit"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    bucket: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch second it starts
    hits: Mapped[int] = mapped_column(Integer)
    expires: Mapped[int] = mapped_column(BigInteger, index=True)  # epoch second it stops counting


class DailyFile(Base):
    """A facility file a daily run processed: its bytes' SHA-256 is the key, so the same file
    (by any name, from any folder, after any restart) is processed once."""

    __tablename__ = "daily_file"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    file_name: Mapped[str] = mapped_column(Text)
    run_id: Mapped[str] = mapped_column(String(80), ForeignKey("run.run_id"), index=True)
    records: Mapped[int] = mapped_column(Integer)
    processed_at: Mapped[str] = mapped_column(String(32))
    processed_by: Mapped[str] = mapped_column(String(64))


SIGNING_BATCH_STATES = ("running", "done", "failed")


class SigningBatch(Base):
    """A signing batch started from the web app's signing page: its progress and its result.

    At most one runs at a time (a partial unique index, across every worker); a batch whose
    worker stopped beating is marked failed by the next start, whose journal recovery finishes
    what it left.
    """

    __tablename__ = "signing_batch"
    __table_args__ = (
        CheckConstraint(_in("state", SIGNING_BATCH_STATES), name="state"),
        Index("uq_signing_batch_running", "state", unique=True,
              sqlite_where=text("state = 'running'"), postgresql_where=text("state = 'running'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[str] = mapped_column(String(32))
    beat_at: Mapped[str] = mapped_column(String(32))
    finished_at: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[int | None] = mapped_column(Integer)    # people waiting when it started
    processed: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[str | None] = mapped_column(Text)    # JSON: the batch's counts
    error: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- campaigns and reports (#16)

OFFICER_UNITS = ("ministry", "health_department", "cdc", "facility")


class Campaign(Base):
    """A cleaning campaign: its deadlines and targets (JSON text), editable by the ministry."""

    __tablename__ = "campaign"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[str] = mapped_column(String(10))
    deadlines: Mapped[str] = mapped_column(Text, default="[]")
    """``[{"key", "due_on" (YYYY-MM-DD), "label"}]``, in the order the report shows them."""
    targets: Mapped[str] = mapped_column(Text, default="{}")
    """Target shares, e.g. ``{"authenticated_share": 1.0, "signed_share": 1.0}``."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(64))
    complaint_hours: Mapped[int | None] = mapped_column(Integer)
    """Hours a complaint recorded during the campaign has (empty: the settings' rule)."""
    complaint_working_days: Mapped[bool | None] = mapped_column(Boolean)
    """Count those hours on working days only (Viet Nam's calendar); empty: the settings'."""


class ProgressSnapshot(Base):
    """The day's progress counts per province, commune and facility (``vaxtrust.reports``).

    Derived data, replaced as a whole for its date by each snapshot of that date. Counts of
    people and certificates sit with each person's first linked record (lowest record id), so
    sums over any level count every person once.
    """

    __tablename__ = "progress_snapshot"

    snapshot_date: Mapped[str] = mapped_column(String(10), primary_key=True)
    province_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    facility_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    records: Mapped[int] = mapped_column(BigInteger, default=0)
    verified: Mapped[int] = mapped_column(BigInteger, default=0)
    corrected: Mapped[int] = mapped_column(BigInteger, default=0)
    review: Mapped[int] = mapped_column(BigInteger, default=0)
    unmatched: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected: Mapped[int] = mapped_column(BigInteger, default=0)
    review_open: Mapped[int] = mapped_column(BigInteger, default=0)
    review_over_7d: Mapped[int] = mapped_column(BigInteger, default=0)
    review_over_30d: Mapped[int] = mapped_column(BigInteger, default=0)
    review_oldest_at: Mapped[str | None] = mapped_column(String(32))
    people_linked: Mapped[int] = mapped_column(BigInteger, default=0)
    people_signed: Mapped[int] = mapped_column(BigInteger, default=0)
    certificates_revoked: Mapped[int] = mapped_column(BigInteger, default=0)
    certificates_reissued: Mapped[int] = mapped_column(BigInteger, default=0)
    complaints_received: Mapped[int] = mapped_column(BigInteger, default=0)
    complaints_open: Mapped[int] = mapped_column(BigInteger, default=0)
    complaints_overdue: Mapped[int] = mapped_column(BigInteger, default=0)
    complaints_resolved: Mapped[int] = mapped_column(BigInteger, default=0)
    complaints_refused: Mapped[int] = mapped_column(BigInteger, default=0)
    taken_at: Mapped[str] = mapped_column(String(32))


class FocalOfficer(Base):
    """A focal officer of a province's Department of Health or CDC, of the ministry (no
    province), or the head of a vaccination facility (unit ``facility``)."""

    __tablename__ = "focal_officer"
    __table_args__ = (CheckConstraint(_in("unit", OFFICER_UNITS), name="unit"),
                      Index("ix_focal_officer_scope", "province_code", "unit"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    province_code: Mapped[str | None] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(20))
    facility_id: Mapped[str | None] = mapped_column(String(64), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[str] = mapped_column(String(32))
    updated_by: Mapped[str] = mapped_column(String(64))


class PoliceList(Base):
    """A commune's list for the commune police (procedure 2262/BYT-CNTT), as exported."""

    __tablename__ = "police_list"

    list_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    commune_code: Mapped[str] = mapped_column(String(64), index=True)
    exported_at: Mapped[str] = mapped_column(String(32))
    exported_by: Mapped[str] = mapped_column(String(64))
    row_count: Mapped[int] = mapped_column(Integer)


class PoliceListRow(Base):
    """One exported row: the record and a digest of the values the police were shown; the
    decision their answer became, once applied."""

    __tablename__ = "police_list_row"

    list_id: Mapped[str] = mapped_column(ForeignKey("police_list.list_id"), primary_key=True)
    row_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_id: Mapped[str] = mapped_column(String(64), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    decision_id: Mapped[int | None] = mapped_column(Integer)
    answered_at: Mapped[str | None] = mapped_column(String(32))


class PoliceListImport(Base):
    """One answered list applied (``vaxtrust lists import`` or the lists page): its outcome and
    every refused row with its reason (a JSON list of ``{row_number, record_id, reason}``), so
    the rejects can be read and downloaded later."""

    __tablename__ = "police_list_import"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    list_ids: Mapped[str] = mapped_column(Text)
    imported_at: Mapped[str] = mapped_column(String(32))
    imported_by: Mapped[str] = mapped_column(String(64), index=True)
    applied: Mapped[int] = mapped_column(Integer)
    already_applied: Mapped[int] = mapped_column(Integer)
    unanswered: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[str] = mapped_column(Text)


def _open_complaints() -> dict[str, Any]:
    where = text(COMPLAINT_OPEN_SQL)
    return {"sqlite_where": where, "postgresql_where": where}


class Complaint(Base):
    """A citizen's complaint (phản ánh) about their vaccination data, settled to a deadline.

    The citizen's claim (identity and the dose in question) is kept as standardised on the way
    in; it never overwrites a record. ``person_id``/``record_id``/``proposal`` are the triage's
    findings; ``facility_id``/``province_code`` who handles it (``routing`` says how that was
    decided); ``version`` is the optimistic lock of every state change.
    """

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(_in("state", COMPLAINT_STATES), name="state"),
        CheckConstraint(_in("category", COMPLAINT_CATEGORIES), name="category"),
        CheckConstraint(_in("routing", COMPLAINT_ROUTINGS), name="routing"),
        # The inboxes: open complaints by deadline, keyset-paged on (deadline_at, id).
        Index("ix_complaint_inbox", "deadline_at", "id", **_open_complaints()),
        Index("ix_complaint_inbox_facility", "facility_id", "deadline_at", "id",
              **_open_complaints()),
        Index("ix_complaint_inbox_province", "province_code", "deadline_at", "id",
              **_open_complaints()),
        # The reports: counts per facility and state.
        Index("ix_complaint_facility_state", "facility_id", "state"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    external_id: Mapped[str | None] = mapped_column(String(80), unique=True)
    """The complaint's number on the portal it was imported from (re-imports are skipped)."""
    channel: Mapped[str] = mapped_column(String(12))
    """web or import."""
    filed_by: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12))
    category: Mapped[str] = mapped_column(String(24))
    version: Mapped[int] = mapped_column(Integer, default=1)
    full_name: Mapped[str | None] = mapped_column(Text)
    dob: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(8))
    phone: Mapped[str | None] = mapped_column(String(20))
    id_number: Mapped[str | None] = mapped_column(String(32), index=True)
    address: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    dose_number: Mapped[int | None] = mapped_column(Integer)
    vaccine: Mapped[str | None] = mapped_column(String(64))
    vaccinated_on: Mapped[str | None] = mapped_column(String(10))
    claimed_facility_id: Mapped[str | None] = mapped_column(String(64))
    person_id: Mapped[str | None] = mapped_column(String(32), index=True)
    record_id: Mapped[str | None] = mapped_column(String(64))
    proposal: Mapped[str | None] = mapped_column(String(24))
    proposal_detail: Mapped[str] = mapped_column(Text, default="{}")
    routing: Mapped[str] = mapped_column(String(12))
    facility_id: Mapped[str | None] = mapped_column(String(64))
    province_code: Mapped[str | None] = mapped_column(String(64))
    district_code: Mapped[str | None] = mapped_column(String(64))
    commune_code: Mapped[str | None] = mapped_column(String(64))
    assignee: Mapped[str | None] = mapped_column(String(64))
    received_at: Mapped[str] = mapped_column(String(32))
    deadline_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))
    escalated_at: Mapped[str | None] = mapped_column(String(32))
    resolved_at: Mapped[str | None] = mapped_column(String(32))
    refusal_ground: Mapped[str | None] = mapped_column(String(40))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(Integer)
    """The review decision that settled it (the one link/correction path), if any."""
    filing_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """A form about several doses is one complaint per dose (each routed to the facility that
    gave it and settled on its own record); they share the id of the filing's first one."""


class ComplaintAttachment(Base):
    """A file attached to a complaint, stored outside the database under its SHA-256."""

    __tablename__ = "complaint_attachment"

    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id"), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    added_at: Mapped[str] = mapped_column(String(32))
