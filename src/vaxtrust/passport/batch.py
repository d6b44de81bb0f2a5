"""``sign-batch``: sign every verified person of a cleaning run, resumable, never issuing twice.

The issuance journal (``issuance.sqlite`` in the output directory) is the only place a signed
certificate exists until it is exported. A certificate is signed in memory and written to the journal
in the same transaction that revokes the person's previous one, so a crash loses only certificates
nobody has seen; the re-run signs those people again and skips everyone already committed. A unique
index allows one current certificate per person, so even a bug cannot put two into circulation.

A person whose name, date of birth or doses changed since their certificate was issued gets the
old one revoked (reason ``record_changed``) and a new one issued; if the changed data cannot be
signed, the old one is revoked all the same. People revoked with ``block`` are never signed again
by a batch.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import (
    CertificateError,
    ConfigError,
    InputError,
    PipelineStageError,
)
from vaxtrust.files import make_private, private_dir
from vaxtrust.passport.issue import (
    DEFAULT_VALIDITY,
    IssueRequest,
    SignedCertificate,
    issue_certificates,
)
from vaxtrust.passport.payload import Dose, Holder
from vaxtrust.passport.revocation import Revocation
from vaxtrust.passport.signer import Signer
from vaxtrust.schema import AUTO_LINK_STATUSES, RUN_DOSE_HISTORY, RUN_RESULTS

JOURNAL = "issuance.sqlite"
CERTIFICATES = "certificates.parquet"
SKIPPED = "skipped.csv"
STAGE = "sign-batch"
COUNTRY = "VN"
RECORD_CHANGED = "record_changed"
EXPIRED = "expired"
COMMIT_EVERY = 256  # certificates per transaction: a crash re-signs at most this many, unseen

_SCHEMA = """
CREATE TABLE IF NOT EXISTS certificates (
    uvci TEXT PRIMARY KEY,
    person_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    signer TEXT NOT NULL,
    kid BLOB NOT NULL,
    algorithm INTEGER NOT NULL,
    signature BLOB NOT NULL,
    qr_text TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT,
    revoked_reason TEXT,
    replaced_by TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS one_current_certificate
    ON certificates (person_id) WHERE revoked_at IS NULL;
CREATE TABLE IF NOT EXISTS skipped (
    person_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS blocked (
    person_id TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class CurrentCertificate:
    uvci: str
    fingerprint: str
    expires_at: datetime


class IssuanceJournal:
    """The SQLite journal of every certificate a batch issued or revoked (fsync'd on commit)."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        try:
            private_dir(path.parent)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
            make_private(path)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before we go on
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as error:
            raise ConfigError(f"cannot open the issuance journal {path}: {error}") from None

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> IssuanceJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- transactions ---------------------------------------------------------------------------

    def begin(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            # One writer per journal: a second sign-batch on the same --out would wait forever.
            raise ConfigError(
                f"the issuance journal {self.path} is in use by another sign-batch or revoke"
            ) from None

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # --- reading --------------------------------------------------------------------------------

    def current(self, person_id: str) -> CurrentCertificate | None:
        row = self._db.execute(
            "SELECT uvci, fingerprint, expires_at FROM certificates "
            "WHERE person_id = ? AND revoked_at IS NULL",
            (person_id,),
        ).fetchone()
        return CurrentCertificate(row[0], row[1], datetime.fromisoformat(row[2])) if row else None

    def is_blocked(self, person_id: str) -> bool:
        return self._db.execute("SELECT 1 FROM blocked WHERE person_id = ?", (person_id,)).fetchone() is not None

    def current_certificates(self, *, chunk: int = 50_000) -> Iterator[list[dict[str, Any]]]:
        """The current certificates in person order, ``chunk`` rows at a time."""
        cursor = self._db.execute(
            "SELECT person_id, uvci, signer, kid, algorithm, issued_at, expires_at, qr_text "
            "FROM certificates WHERE revoked_at IS NULL ORDER BY person_id"
        )
        names = [column[0] for column in cursor.description]
        while rows := cursor.fetchmany(chunk):
            yield [dict(zip(names, row, strict=True)) for row in rows]

    def skip_reason(self, person_id: str) -> str | None:
        row = self._db.execute("SELECT reason FROM skipped WHERE person_id = ?", (person_id,)).fetchone()
        return str(row[0]) if row else None

    def retired_since(self, person_id: str, uvcis: list[str]) -> dict[str, str]:
        """Of ``uvcis`` (this person's), those the journal no longer holds current, with the reason."""
        found = {}
        for uvci in uvcis:
            row = self._db.execute(
                "SELECT revoked_reason FROM certificates WHERE uvci = ? AND person_id = ? "
                "AND revoked_at IS NOT NULL", (uvci, person_id),
            ).fetchone()
            if row is not None:
                found[uvci] = str(row[0])
        return found

    def skipped(self) -> list[tuple[str, str]]:
        return list(self._db.execute("SELECT person_id, reason FROM skipped ORDER BY person_id"))

    def revocations(self, *, country: str = COUNTRY) -> Iterator[Revocation]:
        for uvci, kid, signature, revoked_at, expires_at, reason in self._db.execute(
            "SELECT uvci, kid, signature, revoked_at, expires_at, revoked_reason FROM certificates "
            f"WHERE revoked_at IS NOT NULL AND revoked_reason <> '{EXPIRED}' ORDER BY uvci"
        ):
            yield Revocation(
                uci=uvci, country=country, kid=bytes(kid), signature=bytes(signature),
                revoked_at=datetime.fromisoformat(revoked_at), expires=datetime.fromisoformat(expires_at),
                reason=reason,
            )

    def counts(self) -> dict[str, int]:
        row = self._db.execute(
            "SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FILTER (WHERE revoked_at IS NOT NULL) "
            "FROM certificates"
        ).fetchone()
        return {"current": row[0], "revoked": row[1]}

    # --- writing (inside begin/commit) ----------------------------------------------------------

    def record_issued(
        self, *, person_id: str, fingerprint: str, signer: str, issued: SignedCertificate,
        replaces: str | None, now: datetime, reason: str = RECORD_CHANGED,
    ) -> None:
        """Retire ``replaces`` (if any) with ``reason`` and record the new certificate, in the open
        transaction. An ``expired`` predecessor is superseded, not revoked: it never reaches a list."""
        if replaces is not None:
            self._revoke(replaces, reason=reason, now=now, replaced_by=issued.uvci)
        self._db.execute(
            "INSERT INTO certificates (uvci, person_id, fingerprint, signer, kid, algorithm, signature, "
            "qr_text, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (issued.uvci, person_id, fingerprint, signer, issued.kid, issued.algorithm,
             issued.signature, issued.qr_text, issued.issued_at.isoformat(),
             issued.expires_at.isoformat()),
        )
        self._db.execute("DELETE FROM skipped WHERE person_id = ?", (person_id,))

    def record_skipped(self, person_id: str, reason: str, now: datetime) -> None:
        self._db.execute(
            "INSERT INTO skipped (person_id, reason, at) VALUES (?, ?, ?) "
            "ON CONFLICT (person_id) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            (person_id, reason, now.isoformat()),
        )

    def revoke_current(self, uvci: str, *, reason: str, now: datetime) -> None:
        """Revoke a current certificate inside the open transaction."""
        self._revoke(uvci, reason=reason, now=now)

    def _revoke(self, uvci: str, *, reason: str, now: datetime, replaced_by: str | None = None) -> None:
        changed = self._db.execute(
            "UPDATE certificates SET revoked_at = ?, revoked_reason = ?, replaced_by = ? "
            "WHERE uvci = ? AND revoked_at IS NULL",
            (now.isoformat(), reason, replaced_by, uvci),
        ).rowcount
        if changed != 1:
            raise ConfigError(f"certificate {uvci} is not a current certificate of this journal")

    # --- revoking by hand -----------------------------------------------------------------------

    def revoke(
        self, *, now: datetime, reason: str, person_id: str | None = None, uvci: str | None = None,
        block: bool = False,
    ) -> str:
        """Revoke a person's current certificate (or one by UVCI); ``block`` stops future batches too."""
        if (person_id is None) == (uvci is None):
            raise ConfigError("name exactly one of a person id or a UVCI to revoke")
        if not reason.strip():
            raise ConfigError("a revocation needs a reason")
        if uvci is None:
            current = self.current(person_id or "")
            if current is None:
                raise ConfigError(f"person {person_id} has no current certificate in {self.path}")
            uvci = current.uvci
        row = self._db.execute("SELECT person_id FROM certificates WHERE uvci = ?", (uvci,)).fetchone()
        if row is None:
            raise ConfigError(f"no certificate {uvci} in {self.path}")
        self.begin()
        try:
            self._revoke(uvci, reason=reason, now=now)
            if block:
                self._db.execute(
                    "INSERT OR REPLACE INTO blocked (person_id, reason, at) VALUES (?, ?, ?)",
                    (row[0], reason, now.isoformat()),
                )
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return uvci


# --- the people of a cleaning run ----------------------------------------------------------------


@dataclass(frozen=True)
class PersonToSign:
    """A verified person with what goes on their certificate."""

    person_id: str
    full_name: str | None
    dob: str | None
    dob_precision: str | None
    province: str | None
    doses: tuple[dict[str, Any], ...]

    @property
    def latest_facility(self) -> str | None:
        return self.doses[-1].get("facility") if self.doses else None

    def fingerprint(self) -> str:
        """What the certificate says about the person; a change means revoke and re-issue."""
        content = {
            "name": self.full_name, "dob": self.dob, "dob_precision": self.dob_precision,
            "doses": [[_iso_date(dose["vaccinated_on"]), dose["mp"]] for dose in self.doses],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def people_of_run(run_dir: Path, register: Path, *, chunk: int = 10_000) -> Iterator[PersonToSign]:
    """Every person linked (verified or corrected) in the run, with register identity and doses.

    Streams from DuckDB in person order, so memory does not grow with the run.
    """
    from vaxtrust.engine import small_job_engine, sql_string

    results, history = check_run_files(run_dir, register)
    statuses = ", ".join(f"'{status}'" for status in sorted(AUTO_LINK_STATUSES))
    sql = f"""
        WITH eligible AS (
            SELECT DISTINCT person_id FROM read_parquet({sql_string(results)})
            WHERE status IN ({statuses}) AND person_id IS NOT NULL
        ),
        doses AS (
            SELECT person_id, CAST(vaccinated_on AS VARCHAR) AS vaccinated_on, vaccine_mp AS mp,
                   facility_id AS facility, CAST(flags AS VARCHAR) AS flags
            FROM read_parquet({sql_string(history)}) WHERE duplicate_of IS NULL
        )
        SELECT e.person_id, r.full_name, CAST(r.dob AS VARCHAR) AS dob, r.dob_precision,
               r.province_code,
               list(struct_pack(vaccinated_on := d.vaccinated_on, mp := d.mp,
                                facility := d.facility, flags := d.flags)
                    ORDER BY d.vaccinated_on) FILTER (WHERE d.person_id IS NOT NULL) AS doses
        FROM eligible AS e
        LEFT JOIN read_parquet({sql_string(register)}) AS r ON r.person_id = e.person_id
        LEFT JOIN doses AS d ON d.person_id = e.person_id
        GROUP BY ALL ORDER BY e.person_id
    """
    with small_job_engine() as engine:
        try:
            for batch in engine.query_batches(sql, stage="people_of_run", batch_size=chunk):
                for row in batch.to_pylist():
                    yield PersonToSign(
                        person_id=str(row["person_id"]), full_name=row["full_name"],
                        dob=row["dob"], dob_precision=row["dob_precision"],
                        province=row["province_code"], doses=tuple(row["doses"] or ()),
                    )
        except PipelineStageError as error:
            raise InputError(f"cannot read the run or the register: {error}",
                             path=str(run_dir)) from None


def check_run_files(run_dir: Path, register: Path) -> tuple[Path, Path]:
    """The run's results and dose history; every missing input is an :class:`InputError`."""
    results, history = run_dir / RUN_RESULTS, run_dir / RUN_DOSE_HISTORY
    for path in (results, history, register):
        if not path.is_file():
            raise InputError("file not found", path=str(path))
    return results, history


def count_people_of_run(run_dir: Path) -> int:
    """How many people the run links (for a progress bar)."""
    from vaxtrust.engine import small_job_engine, sql_string

    statuses = ", ".join(f"'{status}'" for status in sorted(AUTO_LINK_STATUSES))
    with small_job_engine() as engine:
        counted = engine.query(
            f"SELECT count(DISTINCT person_id) AS n FROM read_parquet("
            f"{sql_string(run_dir / RUN_RESULTS)}) WHERE status IN ({statuses})",
            stage="count_people_of_run",
        )
    return int(counted.column("n")[0].as_py())


def why_not_signable(person: PersonToSign, *, allow_flagged: bool) -> str | None:
    """A stable reason code when the person cannot be signed from this data, else None."""
    if person.full_name is None:
        return "not_in_register"
    if not person.doses:
        return "no_doses"
    if any(not dose.get("mp") for dose in person.doses):
        return "dose_without_product"
    flags = sorted({flag for dose in person.doses for flag in _flags(dose.get("flags"))})
    if flags and not allow_flagged:
        return "dose_flagged: " + " ".join(flags)
    return None


def _flags(flags: object) -> list[str]:
    """Flag names from DuckDB's text form of a list (``[a, b]``) or the store's JSON (``["a"]``)."""
    text = "" if flags is None else str(flags).strip().removeprefix("[").removesuffix("]")
    names = (flag.strip().strip('"') for flag in text.split(","))
    return [name for name in names if name]


# --- the batch ----------------------------------------------------------------------------------


@dataclass
class BatchSummary:
    issued: int = 0
    reissued: int = 0  # the record changed: old certificate revoked
    renewed: int = 0  # the old certificate expired: superseded, not revoked
    already_issued: int = 0
    skipped: dict[str, int] = field(default_factory=dict)

    def count(self, outcome: str) -> None:
        """Count one outcome of :func:`sign_people`."""
        if outcome in ("issued", "reissued", "renewed", "already_issued"):
            setattr(self, outcome, getattr(self, outcome) + 1)
        else:
            reason = outcome.removeprefix("skip:")
            self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def total_skipped(self) -> int:
        return sum(self.skipped.values())


SignerFor = Callable[[PersonToSign], tuple[str, Signer]]


def sign_batch(
    people: Iterator[PersonToSign], journal: IssuanceJournal, signer_for: SignerFor, *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC), validity: timedelta | None = None,
    allow_flagged: bool = False, console: Console | None = None, total: int | None = None,
    commit_every: int = COMMIT_EVERY,
) -> BatchSummary:
    """Sign everyone not yet holding a current certificate for their current data.

    Certificate-data problems (a name that cannot be transliterated, an unknown vaccine) skip the
    person with a reason; signing-key problems stop the batch, keeping what was committed.
    """
    console = console or NoopConsole()
    summary = BatchSummary()
    console.stage_started(STAGE, total)
    while chunk := list(islice(people, commit_every)):
        journal.begin()
        try:
            outcomes = sign_people(chunk, journal, signer_for, now(),
                                   validity or DEFAULT_VALIDITY, allow_flagged)
            journal.commit()
        except BaseException:
            journal.rollback()
            raise
        for outcome in outcomes:
            summary.count(outcome)
        console.rows_processed(STAGE, len(outcomes))
    console.stage_finished(STAGE, summary.issued + summary.reissued + summary.renewed)
    return summary


@dataclass(frozen=True)
class _ToIssue:
    """A person who needs a new certificate, waiting for their signer's turn."""

    position: int
    person: PersonToSign
    fingerprint: str
    current: CurrentCertificate | None
    signer_name: str
    signer: Signer
    request: IssueRequest


def sign_people(
    people: list[PersonToSign], journal: IssuanceJournal, signer_for: SignerFor, now: datetime,
    validity: timedelta, allow_flagged: bool,
) -> list[str]:
    """Issue, re-issue, renew or skip each person inside the journal's open transaction.

    Returns an outcome per person, in order: ``issued``, ``reissued``, ``renewed``,
    ``already_issued`` or ``skip:<reason code>``. Certificates are signed a signer's whole share at
    a time (:func:`issue_certificates`), which is twice as fast as one by one.
    """
    outcomes: list[str] = [""] * len(people)
    waiting: list[_ToIssue] = []
    for position, person in enumerate(people):
        if any(job.person.person_id == person.person_id for job in waiting):
            _issue_waiting(waiting, journal, now, validity, outcomes)  # a repeat sees the first
            waiting = []
        decided = _prepare(position, person, journal, signer_for, now, allow_flagged)
        if isinstance(decided, str):
            outcomes[position] = decided
        else:
            waiting.append(decided)
    _issue_waiting(waiting, journal, now, validity, outcomes)
    return outcomes


def _prepare(position: int, person: PersonToSign, journal: IssuanceJournal, signer_for: SignerFor,
             now: datetime, allow_flagged: bool) -> _ToIssue | str:
    """What to sign for ``person``, or the outcome when nothing is to be signed."""
    fingerprint = person.fingerprint()
    current = journal.current(person.person_id)
    unchanged = current is not None and current.fingerprint == fingerprint
    if current is not None and unchanged and current.expires_at > now:
        return "already_issued"
    if journal.is_blocked(person.person_id):
        return _skip(journal, person, "blocked", now)
    reason = why_not_signable(person, allow_flagged=allow_flagged)
    if reason is not None:
        return _skip(journal, person, reason, now, withdraw=None if unchanged else current)
    try:
        holder = Holder.from_register(person.full_name or "", person.dob or "", person.dob_precision or "")
        doses = [
            Dose(vaccinated_on=date.fromisoformat(str(dose["vaccinated_on"])[:10]), product=dose["mp"])
            for dose in person.doses
        ]
    except (CertificateError, ValueError) as error:
        return _skip(journal, person, f"certificate_data: {error}", now,
                     withdraw=None if unchanged else current)
    signer_name, signer = signer_for(person)
    return _ToIssue(position, person, fingerprint, current, signer_name, signer, (holder, doses))


def _issue_waiting(waiting: list[_ToIssue], journal: IssuanceJournal, now: datetime,
                   validity: timedelta, outcomes: list[str]) -> None:
    """Sign everyone waiting, one batch per signer, and record each outcome in the journal."""
    by_signer: dict[int, list[_ToIssue]] = {}
    for job in waiting:
        by_signer.setdefault(id(job.signer), []).append(job)
    for jobs in by_signer.values():
        issued = issue_certificates([job.request for job in jobs], jobs[0].signer, now=now,
                                    validity=validity)  # signer problems raise: stop the batch
        for job, certificate in zip(jobs, issued, strict=True):
            outcomes[job.position] = _record(job, certificate, journal, now)


def _record(job: _ToIssue, certificate: SignedCertificate | CertificateError,
            journal: IssuanceJournal, now: datetime) -> str:
    unchanged = job.current is not None and job.current.fingerprint == job.fingerprint
    if isinstance(certificate, CertificateError):
        return _skip(journal, job.person, f"certificate_data: {certificate}", now,
                     withdraw=None if unchanged else job.current)
    journal.record_issued(
        person_id=job.person.person_id, fingerprint=job.fingerprint, signer=job.signer_name,
        issued=certificate, replaces=job.current.uvci if job.current else None, now=now,
        reason=EXPIRED if unchanged else RECORD_CHANGED,
    )
    if job.current is None:
        return "issued"
    return "renewed" if unchanged else "reissued"


def _skip(journal: IssuanceJournal, person: PersonToSign, reason: str, now: datetime, *,
          withdraw: CurrentCertificate | None = None) -> str:
    """Record why a person is not signed; a certificate made of data that has since changed into
    something unsignable is revoked: it no longer says what the verified record says."""
    journal.record_skipped(person.person_id, reason, now)
    if withdraw is not None:
        journal.revoke_current(withdraw.uvci, reason=f"{RECORD_CHANGED}: {reason}", now=now)
    return "skip:" + reason.split(":")[0]  # counted by code; the journal keeps the detail


def export_outputs(journal: IssuanceJournal, out_dir: Path, *, chunk: int = 50_000) -> tuple[Path, Path]:
    """Write the current certificates (Parquet, streamed in chunks) and the skipped people (CSV)."""
    import csv

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([
        ("person_id", pa.string()), ("uvci", pa.string()), ("signer", pa.string()),
        ("kid", pa.string()), ("algorithm", pa.int32()), ("issued_at", pa.string()),
        ("expires_at", pa.string()), ("qr_text", pa.string()),
    ])
    certificates = out_dir / CERTIFICATES
    with pq.ParquetWriter(certificates, schema) as writer:
        for rows in journal.current_certificates(chunk=chunk):
            for row in rows:
                row["kid"] = bytes(row["kid"]).hex()
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    skipped = out_dir / SKIPPED
    with skipped.open("w", newline="", encoding="utf-8") as handle:
        writer_csv = csv.writer(handle)
        writer_csv.writerow(["person_id", "reason"])
        writer_csv.writerows(journal.skipped())
    return certificates, skipped
