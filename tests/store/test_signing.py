"""The signing queue that ``passport sign-batch`` consumes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.store.factory import PEOPLE
from vaxtrust.errors import ConfigError, StoreError
from vaxtrust.store import audit, signing
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Certificate, SigningTask


def test_claim_sign_and_finish(published: Store, actors: dict[str, Actor]) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        first = signing.claim_next(session, minh, 2, worker="signer-1")
    with published.transaction() as session:
        second = signing.claim_next(session, minh, 10, worker="signer-2")
    assert len(first) == 2 and len(second) == 2
    assert not {t.id for t in first} & {t.id for t in second}
    with published.transaction() as session:
        for task in first:
            signing.record_issued(session, minh, task.person_id, f"URN:UVCI:01:VN:{task.id}")
            signing.mark_done(session, minh, task.id)
        signing.mark_failed(session, minh, second[0].id, "HSM unavailable")
        states = {t.id: t.state for t in session.scalars(select(SigningTask))}
        issued = session.scalars(select(Certificate)).all()
        events = {row.event_type for row in audit.events_for(
            session, f"person:{first[0].person_id}")}
    assert [states[t.id] for t in first] == ["done", "done"]
    assert states[second[0].id] == "failed"
    assert len(issued) == 2 and "certificate_issued" in events


def test_a_finished_task_cannot_be_finished_again(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        task = signing.claim_next(session, minh, 1, worker="w")[0]
        signing.mark_done(session, minh, task.id)
    with published.transaction() as session, pytest.raises(StoreError, match="is done"):
        signing.mark_done(session, minh, task.id)


def test_stale_claims_go_back_to_pending(published: Store, actors: dict[str, Actor]) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        claimed = signing.claim_next(session, minh, 10, worker="dead-signer")
    with published.transaction() as session:
        reset = signing.reset_stale_claims(session, minh, "9999-12-31T00:00:00Z")
        again = signing.claim_next(session, minh, 10, worker="new-signer")
    assert reset == len(claimed) and {t.id for t in again} == {t.id for t in claimed}


def test_a_signed_person_is_queued_for_revocation_and_reissue(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        for task in signing.claim_next(session, minh, 10, worker="w"):
            signing.mark_done(session, minh, task.id)
        signing.record_issued(session, minh, person, "URN:UVCI:01:VN:A1")
        task = signing.queue_person(session, person, "record changed")
        duplicate = signing.queue_person(session, person, "changed again")
    assert task is not None and task.action == "revoke_and_reissue"
    assert duplicate is None          # one pending task covers every change before it runs
    with published.transaction() as session:
        signing.revoke(session, minh, "URN:UVCI:01:VN:A1", "record changed")
        assert signing.active_certificates(session, minh, person) == []
    with published.transaction() as session, pytest.raises(StoreError, match="revoked already"):
        signing.revoke(session, minh, "URN:UVCI:01:VN:A1", "again")


@pytest.mark.parametrize(("limit", "message"), [(0, "at least 1")])
def test_bad_claims_are_refused(published: Store, actors: dict[str, Actor], limit: int,
                                message: str) -> None:
    with published.transaction() as session, pytest.raises(ConfigError, match=message):
        signing.claim_next(session, actors["minh"], limit, worker="w")


def test_revoking_needs_a_reason(published: Store, actors: dict[str, Actor]) -> None:
    with published.transaction() as session:
        signing.record_issued(session, actors["minh"], PEOPLE[0][0], "URN:UVCI:01:VN:B")
    with published.transaction() as session, pytest.raises(ConfigError, match="reason"):
        signing.revoke(session, actors["minh"], "URN:UVCI:01:VN:B", " ")


def test_the_same_certificate_cannot_be_recorded_twice(
    published: Store, actors: dict[str, Actor]
) -> None:
    with published.transaction() as session:
        signing.record_issued(session, actors["minh"], PEOPLE[0][0], "URN:UVCI:01:VN:C")
    with published.transaction() as session, pytest.raises(StoreError, match="already"):
        signing.record_issued(session, actors["minh"], PEOPLE[0][0], "URN:UVCI:01:VN:C")
