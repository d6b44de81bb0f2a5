"""The audit trail: verify the chain, read events, a record's history (``docs/store.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from vaxtrust.app._store import acting
from vaxtrust.store.audit import ChainReport, verify_chain
from vaxtrust.store.db import Store
from vaxtrust.store.records import FieldValue, record_history
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import AuditEventRow


@dataclass(frozen=True)
class EventView:
    seq: int
    occurred_at: str
    event_type: str
    actor: str
    subject_id: str
    payload: str


def verify(store: Store, actor: Actor) -> ChainReport:
    """Check the whole chain; the report names every edited or deleted row."""
    with acting(store, actor) as (session, by):
        by.require(Permission.AUDIT)
        return verify_chain(session)


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
