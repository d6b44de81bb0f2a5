"""Publishing across provinces is the ministry's: a province officer's run stays in the province,
and a refused publish is audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from tests.store.conftest import snapshot, table_counts
from tests.store.factory import baseline
from vaxtrust.app.publish import PublishOutsideScope, publish
from vaxtrust.errors import PermissionDenied
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import AuditEventRow, VaccinationRecord


def _refusals(store: Store) -> list[AuditEventRow]:
    with store.transaction() as session:
        return list(session.scalars(select(AuditEventRow)
                                    .where(AuditEventRow.event_type == "action_refused")))


def test_a_province_officer_cannot_publish_another_provinces_records(
    store: Store, actors: dict[str, Actor], run1: Path
) -> None:
    before = snapshot(store)
    with pytest.raises(PublishOutsideScope) as refused:
        publish(store, actors["hanoi"], run1)
    message = str(refused.value)
    # R4, R5, R6 are records of HCM-01, a facility of province 79
    assert "3 of 8 records are outside your scope, in provinces 79 (3)" in message
    assert "publishing across provinces is the ministry's" in message
    assert refused.value.outside.provinces == {"79": 3}
    after = snapshot(store)
    assert {table: rows for table, rows in after.items() if table != "audit_event"} == {
        table: rows for table, rows in before.items() if table != "audit_event"}
    [event] = _refusals(store)
    assert (event.actor, event.subject_id) == ("hanoi", "run:run-1")
    assert "publish" in event.payload and "outside your scope" in event.payload


def test_a_province_officer_publishes_a_run_of_their_province(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    spec = baseline()
    hanoi = {row["record_id"] for row in spec.records if row["province"] == "01"}
    spec.records = [row for row in spec.records if row["record_id"] in hanoi]
    spec.results = [row for row in spec.results if row["record_id"] in hanoi]
    spec.candidates = [row for row in spec.candidates if row["record_id"] in hanoi]
    spec.doses = [row for row in spec.doses if row["record_id"] in hanoi]
    report = publish(store, actors["hanoi"], spec.write(tmp_path / "hanoi-run"))
    assert report.new_records == len(hanoi) == 5
    with store.transaction() as session:
        provinces = set(session.scalars(select(VaccinationRecord.province_code)))
    assert provinces == {"01"}
    assert _refusals(store) == []


def test_the_ministry_publishes_every_province(
    store: Store, actors: dict[str, Actor], run1: Path
) -> None:
    assert publish(store, actors["minh"], run1).new_records == 8


def test_a_role_without_publishing_is_refused_and_audited(
    store: Store, actors: dict[str, Actor], run1: Path
) -> None:
    with pytest.raises(PermissionDenied, match="hn01"):
        publish(store, actors["hn01"], run1)
    assert table_counts(store)["vaccination_record"] == 0
    assert [event.actor for event in _refusals(store)] == ["hn01"]
