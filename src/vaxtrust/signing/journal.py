"""The issuance journal: the SQLite file (``issuance.sqlite`` in a sign-batch's output folder)
where a signed certificate first exists, fsync'd on commit.

A certificate is signed in memory and written here before the store hears of it, so a crash loses
only certificates nobody has seen. Each journal has an id that its claims and reservations in the
store carry: the store can then tell which journal holds a certificate it reserved, and a journal
reopened after a crash reports what it holds (:func:`vaxtrust.signing.batch.recover_journal`).
A unique index allows one current certificate per person in a journal; the store's own unique
index allows one across all journals.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vaxtrust.errors import ConfigError
from vaxtrust.passport.issue import SignedCertificate

JOURNAL = "issuance.sqlite"
CERTIFICATES = "certificates.parquet"
SKIPPED = "skipped.csv"
RECORD_CHANGED = "record_changed"
EXPIRED = "expired"

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
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class JournalCertificate:
    """A certificate as the journal holds it."""

    uvci: str
    person_id: str
    fingerprint: str
    signer: str
    kid: bytes
    signature: bytes
    issued_at: datetime
    expires_at: datetime
    revoked: bool


class IssuanceJournal:
    """The SQLite journal of every certificate a batch signed (fsync'd on commit)."""

    def __init__(self, path: Path, *, busy_timeout: float = 5.0) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # a commit is on disk before we go on
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('journal_id', ?)",
                             (uuid.uuid4().hex,))
            self.journal_id = str(self._db.execute(
                "SELECT value FROM meta WHERE key = 'journal_id'").fetchone()[0])
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
                f"the issuance journal {self.path} is in use by another sign-batch"
            ) from None

    def commit(self) -> None:
        self._db.execute("COMMIT")

    def rollback(self) -> None:
        if self._db.in_transaction:
            self._db.execute("ROLLBACK")

    # --- reading --------------------------------------------------------------------------------

    def certificate(self, uvci: str) -> JournalCertificate | None:
        row = self._db.execute(
            "SELECT uvci, person_id, fingerprint, signer, kid, signature, issued_at, expires_at, "
            "revoked_at IS NOT NULL FROM certificates WHERE uvci = ?", (uvci,),
        ).fetchone()
        return _certificate(row) if row else None

    def current(self) -> Iterator[JournalCertificate]:
        """Every current certificate of the journal, in person order."""
        for row in self._db.execute(
            "SELECT uvci, person_id, fingerprint, signer, kid, signature, issued_at, expires_at, 0 "
            "FROM certificates WHERE revoked_at IS NULL ORDER BY person_id"
        ).fetchall():
            yield _certificate(row)

    def current_certificates(self, *, chunk: int = 50_000) -> Iterator[list[dict[str, Any]]]:
        """The current certificates in person order, ``chunk`` rows at a time (for export)."""
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

    def skipped(self) -> list[tuple[str, str]]:
        return list(self._db.execute("SELECT person_id, reason FROM skipped ORDER BY person_id"))

    def counts(self) -> dict[str, int]:
        row = self._db.execute(
            "SELECT count(*) FILTER (WHERE revoked_at IS NULL), count(*) FILTER (WHERE revoked_at IS NOT NULL) "
            "FROM certificates"
        ).fetchone()
        return {"current": row[0], "revoked": row[1]}

    # --- writing (inside begin/commit) ----------------------------------------------------------

    def record_issued(
        self, *, person_id: str, fingerprint: str, signer: str, issued: SignedCertificate,
        now: datetime, reason: str = RECORD_CHANGED,
    ) -> None:
        """Record a new certificate in the open transaction, retiring the person's previous one in
        this journal (if any) with ``reason``."""
        self._db.execute(
            "UPDATE certificates SET revoked_at = ?, revoked_reason = ?, replaced_by = ? "
            "WHERE person_id = ? AND revoked_at IS NULL",
            (now.isoformat(), reason, issued.uvci, person_id),
        )
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

    def retire(self, uvci: str, *, reason: str, now: datetime) -> bool:
        """Mark a certificate of this journal no longer current (the store revoked or replaced it);
        False when the journal does not hold it as current."""
        changed = self._db.execute(
            "UPDATE certificates SET revoked_at = ?, revoked_reason = ? "
            "WHERE uvci = ? AND revoked_at IS NULL", (now.isoformat(), reason, uvci),
        ).rowcount
        return changed == 1


def _certificate(row: Any) -> JournalCertificate:
    return JournalCertificate(
        uvci=row[0], person_id=row[1], fingerprint=row[2], signer=row[3], kid=bytes(row[4]),
        signature=bytes(row[5]), issued_at=datetime.fromisoformat(row[6]),
        expires_at=datetime.fromisoformat(row[7]), revoked=bool(row[8]),
    )


def export_outputs(journal: IssuanceJournal, out_dir: Path, *, chunk: int = 50_000) -> tuple[Path, Path]:
    """Write the journal's current certificates (Parquet, streamed in chunks) and the people it
    skipped (CSV) into ``out_dir``."""
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
