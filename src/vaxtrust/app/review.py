"""The review queue: list, show and decide items within the actor's scope (``docs/store.md``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vaxtrust.app._store import acting
from vaxtrust.errors import ConfigError
from vaxtrust.review import queue
from vaxtrust.review.queue import (
    AcceptCandidate,
    DecisionResult,
    Defer,
    EditFields,
    ItemDetail,
    ItemSummary,
    RejectAll,
)
from vaxtrust.store.db import Store
from vaxtrust.store.records import Page
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import REVIEW_STATES

__all__ = ["AcceptCandidate", "Defer", "DecisionResult", "EditFields", "ItemDetail",
           "ItemFilter", "ItemSummary", "RejectAll", "decide", "list_items", "show_item"]

AWAITING = ("open", "deferred")


@dataclass(frozen=True)
class ItemFilter:
    """Which items to list; every field narrows the actor's scope, never widens it."""

    province_code: str | None = None
    facility_id: str | None = None
    reason: str | None = None
    states: Sequence[str] = AWAITING
    created_before: str | None = None
    """Only items waiting since before this store time (the queue's age filter)."""
    page: int = 1
    page_size: int = 50

    def __post_init__(self) -> None:
        unknown = [state for state in self.states if state not in REVIEW_STATES]
        if unknown:
            raise ConfigError(f"review state {', '.join(unknown)}: use "
                              f"{', '.join(REVIEW_STATES)}")


def list_items(store: Store, actor: Actor, query: ItemFilter | None = None, *,
               total: int | None = None) -> Page[ItemSummary]:
    """The queue's page; ``total`` skips the count when the caller holds a recent one."""
    query = query or ItemFilter()
    with acting(store, actor) as (session, by):
        return queue.list_items(session, by, province_code=query.province_code,
                                facility_id=query.facility_id, reason=query.reason,
                                states=query.states, page=query.page, page_size=query.page_size,
                                total=total, created_before=query.created_before)


def show_item(store: Store, actor: Actor, item_id: int) -> ItemDetail:
    with acting(store, actor) as (session, by):
        return queue.show_item(session, by, item_id)


def decide(store: Store, actor: Actor, item_id: int,
           decision: AcceptCandidate | RejectAll | EditFields | Defer, *,
           expected_version: int | None = None) -> DecisionResult:
    """Decide one item; ReviewConflict when someone changed it after ``expected_version``."""
    with acting(store, actor) as (session, by):
        return queue.decide(session, by, item_id, decision, expected_version=expected_version)
