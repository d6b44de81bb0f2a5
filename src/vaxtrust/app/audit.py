"""The audit trail: verify the chain, read events, a record's history (``docs/store.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.errors import ConfigError, PermissionDenied, StoreError
from vaxtrust.store import audit
from vaxtrust.store.audit import ChainReport, chain_head, session_key, verify_chain
from vaxtrust.store.audit_key import HeadExport, newest_head, read_head, read_key_file
from vaxtrust.store.audit_key import export_head as write_head
from vaxtrust.store.db import Store
from vaxtrust.store.records import FieldValue, record_history
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import AuditEventRow, utc_now_text


@dataclass(frozen=True)
class EventView:
    seq: int
    occurred_at: str
    event_type: str
    actor: str
    subject_id: str
    payload: str


@dataclass(frozen=True)
class VerifyReport:
    chain: ChainReport
    head: HeadExport | None
    """The newest signed head export the chain was checked against (None: there is none)."""


def verify(store: Store, actor: Actor) -> VerifyReport:
    """Check the whole chain, the decisions and corrections it covers, and the newest head
    export; the report names every problem."""
    with acting(store, actor) as (session, by):
        by.require(Permission.AUDIT)
        head = newest_head(session_key(session), _head_dir(store))
        return VerifyReport(verify_chain(session, head=head), head)


def _head_dir(store: Store) -> Path:
    if store.audit_head_dir is None:
        raise ConfigError("no folder for audit head exports: set store.audit_head_dir")
    return store.audit_head_dir


def export_head(store: Store, actor: Actor | None = None, *, check: bool = True) -> HeadExport:
    """Export the chain's signed head (row count and newest hash) to the head folder.

    On demand (``actor`` given) the chain is verified first: a broken chain's head is not
    exported. After a publish (no actor, ``check`` False) the head is exported as it is.
    """
    if actor is not None:
        with acting(store, actor) as (session, by):
            by.require(Permission.AUDIT)
            return _export(store, session, check)
    with store.transaction() as session:
        return _export(store, session, check)


def _export(store: Store, session: Session, check: bool) -> HeadExport:
    key = session_key(session)
    if check:
        report = verify_chain(session, head=newest_head(key, _head_dir(store)))
        if not report.intact:
            raise StoreError(f"the audit chain is broken ({report.problems[0]}): its head is "
                             "not exported")
    rows, head_hash = chain_head(session)
    path = write_head(key, _head_dir(store), rows, head_hash, utc_now_text())
    return read_head(key, path)


def rekey(store: Store, actor: Actor, *, previous_key_file: Path | None = None) -> HeadExport:
    """Re-hash the chain with the store's audit key (administrator mode), then export its head.

    ``previous_key_file`` rotates the key: the chain must verify with the retired key (or the
    new one) before it is re-hashed with the store's (new) key."""
    if not actor.is_administrator:
        raise PermissionDenied("rekeying lifts the audit trail's guard: run it with --admin")
    previous = read_key_file(previous_key_file) if previous_key_file is not None else None
    with store.transaction() as session:
        audit.rekey(session, actor=actor.username, previous=previous)
    return export_head(store, check=False)


def events(store: Store, actor: Actor, *, subject: str | None = None,
           limit: int = 50) -> Sequence[EventView]:
    """The newest events, or the newest of one subject (``record:R1``, ``person:...``)."""
    with acting(store, actor) as (session, by):
        by.require(Permission.AUDIT)
        query = select(AuditEventRow).order_by(AuditEventRow.seq.desc()).limit(limit)
        if subject:
            query = query.where(AuditEventRow.subject_id == subject)
        return [EventView(row.seq, row.occurred_at, row.event_type, row.actor, row.subject_id,
                          row.payload) for row in session.scalars(query)]


def history(store: Store, actor: Actor, record_id: str) -> list[FieldValue]:
    """Every value a record in the actor's scope ever had, who gave it and why."""
    with acting(store, actor) as (session, by):
        return record_history(session, by, record_id)
