"""Dose records and the signing queue within the actor's scope; reads are audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vaxtrust.app._store import acting
from vaxtrust.errors import ConfigError
from vaxtrust.signing import queue as signing
from vaxtrust.store import records
from vaxtrust.store.db import Store
from vaxtrust.store.records import Page
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import RECORD_STATUSES, SigningTask, VaccinationRecord


@dataclass(frozen=True)
class RecordView:
    record_id: str
    facility_id: str
    province_code: str
    commune_code: str | None
    full_name: str | None
    dob: str | None
    gender: str | None
    id_number: str | None
    status: str
    person_id: str | None

    @classmethod
    def of(cls, record: VaccinationRecord) -> RecordView:
        return cls(record.record_id, record.facility_id, record.province_code,
                   record.commune_code, record.full_name, record.dob, record.gender,
                   record.id_number, record.status, record.person_id)


@dataclass(frozen=True)
class SigningTaskView:
    id: int
    person_id: str
    action: str
    state: str
    reason: str | None
    created_at: str

    @classmethod
    def of(cls, task: SigningTask) -> SigningTaskView:
        return cls(task.id, task.person_id, task.action, task.state, task.reason,
                   task.created_at)


def _views(page: Page[VaccinationRecord]) -> Page[RecordView]:
    return Page([RecordView.of(record) for record in page.items], page.total, page.page,
                page.page_size)


def list_records(store: Store, actor: Actor, *, status: str | None = None,
                 facility_id: str | None = None, page: int = 1,
                 page_size: int = 50) -> Page[RecordView]:
    """Dose records in the actor's scope (a citizen: their own); the read is audited."""
    if status and status not in RECORD_STATUSES:
        raise ConfigError(f"record status {status}: use {', '.join(RECORD_STATUSES)}")
    with acting(store, actor) as (session, by):
        found = records.list_records(session, by, status=status, facility_id=facility_id,
                                     page=page, page_size=page_size)
        records.log_access(session, by, f"list:records:{by.scope_label()}",
                           f"records list page {page}")
        return _views(found)


def authentication_list(store: Store, actor: Actor, *, page: int = 1,
                        page_size: int = 50) -> Page[RecordView]:
    """Records still to authenticate against the register (commune police: their commune)."""
    with acting(store, actor) as (session, by):
        found = records.authentication_list(session, by, page=page, page_size=page_size)
        records.log_access(session, by, f"list:authentication:{by.scope_label()}",
                           f"authentication list page {page}")
        return _views(found)


def signing_tasks(store: Store, actor: Actor, *, state: str | None = "pending",
                  limit: int = 100) -> Sequence[SigningTaskView]:
    """People waiting to be signed (or re-signed) in the actor's scope."""
    with acting(store, actor) as (session, by):
        return [SigningTaskView.of(task)
                for task in signing.list_tasks(session, by, state=state, limit=limit)]
