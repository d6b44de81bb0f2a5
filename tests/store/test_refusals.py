"""Failed and refused operations leave an ``action_refused`` event, and change nothing else."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.store.factory import PEOPLE
from vaxtrust.app import review
from vaxtrust.app.audit import history
from vaxtrust.errors import NotFound, PermissionDenied
from vaxtrust.review.queue import EditFields
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import AuditEventRow


def _refusals(store: Store) -> list[tuple[str, str, str]]:
    with store.transaction() as session:
        rows = session.scalars(select(AuditEventRow)
                               .where(AuditEventRow.event_type == "action_refused")
                               .order_by(AuditEventRow.seq))
        return [(r.actor, json.loads(r.payload)["action"], json.loads(r.payload)["reason"])
                for r in rows]


def test_a_look_up_outside_the_scope_is_audited(published: Store,
                                                 actors: dict[str, Actor]) -> None:
    hanoi = actors["hanoi"]
    item = review.list_items(published, hanoi).items[0]
    with pytest.raises(NotFound):
        review.decide(published, hanoi, item.id,
                      EditFields({"full_name": "x"}, note="n", person_id=PEOPLE[4][0]))
    with pytest.raises(NotFound):
        history(published, hanoi, "R6")               # a Ho Chi Minh City record
    with pytest.raises(PermissionDenied):
        review.list_items(published, actors["an"])    # a citizen has no review rights
    assert [(who, action) for who, action, _ in _refusals(published)] == [
        ("hanoi", "vaxtrust.app.review.decide"), ("hanoi", "vaxtrust.app.audit.history"),
        ("an", "vaxtrust.app.review.list_items")]
    assert "not among the item's candidates" in _refusals(published)[0][2]
