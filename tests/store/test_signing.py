"""The store's signing queue and its rule: one current certificate per person."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.store.factory import PEOPLE
from vaxtrust.errors import ConfigError, NotFound, StoreError
from vaxtrust.signing import queue as signing
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Certificate, SigningTask

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _reserve(session: Session, actor: Actor, person: str, uvci: str, journal: str = "j1") -> None:
    signing.reserve(session, actor, journal, signing.Reservation(
        uvci, person, "fingerprint", "vn-national", b"\x01\x02", NOW, NOW + timedelta(days=365)))


def _issue(session: Session, actor: Actor, person: str, uvci: str, journal: str = "j1") -> None:
    _reserve(session, actor, person, uvci, journal)
    assert signing.confirm_issued(session, actor, uvci, journal_id=journal, signature=b"sig",
                                  previous_reason="record_changed")


def _states(session: Session, person: str) -> dict[str, str]:
    return dict(session.execute(select(Certificate.uvci, Certificate.state)
                                .where(Certificate.person_id == person)).all())


def test_claim_sign_and_finish(published: Store, actors: dict[str, Actor]) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        first = signing.claim_next(session, minh, 2, worker="signer-1", journal_id="j1")
    with published.transaction() as session:
        second = signing.claim_next(session, minh, 10, worker="signer-2", journal_id="j2")
    assert len(first) == 2 and len(second) == 2
    assert not {t.id for t in first} & {t.id for t in second}
    with published.transaction() as session:
        for task in first:
            _issue(session, minh, task.person_id, f"URN:UVCI:01:VN:{task.id}")
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
        task = signing.claim_next(session, minh, 1, worker="w", journal_id="j")[0]
        signing.mark_done(session, minh, task.id)
    with published.transaction() as session, pytest.raises(StoreError, match="is done"):
        signing.mark_done(session, minh, task.id)


def test_released_claims_go_back_to_pending_and_their_reservations_are_revoked(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        claimed = signing.claim_next(session, minh, 10, worker="dead-signer", journal_id="dead")
        _reserve(session, minh, claimed[0].person_id, "URN:UVCI:01:VN:DEAD", journal="dead")
    with published.transaction() as session:  # the person waits while another journal holds them
        assert signing.claim_next(session, minh, 10, worker="new", journal_id="new") == []
    with published.transaction() as session:
        reset = signing.release_stale_claims(session, minh, "9999-12-31T00:00:00Z")
        again = signing.claim_next(session, minh, 10, worker="new-signer", journal_id="new")
        revoked = session.get(Certificate, "URN:UVCI:01:VN:DEAD")
        listed = [revocation.uci for revocation in signing.revocations(session, minh, country="VN")]
    assert reset == len(claimed) and {t.id for t in again} == {t.id for t in claimed}
    assert revoked is not None and revoked.state == "revoked"
    assert revoked.revoke_reason is not None and "journal dead" in revoked.revoke_reason
    assert listed == ["URN:UVCI:01:VN:DEAD"]  # its journal may hold it signed


def test_a_signed_person_is_queued_for_revocation_and_reissue(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        for task in signing.claim_next(session, minh, 10, worker="w", journal_id="j1"):
            signing.mark_done(session, minh, task.id)
        _issue(session, minh, person, "URN:UVCI:01:VN:A1")
        task = signing.queue_person(session, person, "record changed")
        duplicate = signing.queue_person(session, person, "changed again")
    assert task is not None and task.action == "revoke_and_reissue"
    assert duplicate is None          # one pending task covers every change before it runs
    with published.transaction() as session:
        signing.revoke(session, minh, uvci="URN:UVCI:01:VN:A1", reason="record changed")
        assert signing.active_certificates(session, minh, person) == []
    with published.transaction() as session, pytest.raises(StoreError, match="revoked already"):
        signing.revoke(session, minh, uvci="URN:UVCI:01:VN:A1", reason="again")


def test_a_new_certificate_replaces_the_current_one(published: Store, actors: dict[str, Actor]) -> None:
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        _issue(session, minh, person, "URN:UVCI:01:VN:OLD")
        _issue(session, minh, person, "URN:UVCI:01:VN:NEW", journal="j2")
        assert _states(session, person) == {"URN:UVCI:01:VN:OLD": "revoked", "URN:UVCI:01:VN:NEW": "issued"}


def test_the_store_refuses_a_second_current_certificate(
    published: Store, actors: dict[str, Actor]
) -> None:
    """Whatever code path writes it, a person cannot hold two issued certificates."""
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        _issue(session, minh, person, "URN:UVCI:01:VN:FIRST")
    with pytest.raises(StoreError, match="(?i)unique"), published.transaction() as session:
        session.add(Certificate(uvci="URN:UVCI:01:VN:SECOND", person_id=person, state="issued",
                                issued_at="2026-12-01T00:00:00Z", issued_by="minh"))
    with pytest.raises(StoreError, match="(?i)unique"), published.transaction() as session:
        _reserve(session, minh, person, "URN:UVCI:01:VN:R1")
        _reserve(session, minh, person, "URN:UVCI:01:VN:R2", journal="j2")
    with published.transaction() as session:
        assert _states(session, person) == {"URN:UVCI:01:VN:FIRST": "issued"}


def test_a_reservation_revoked_meanwhile_is_not_confirmed(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        task = signing.claim_next(session, minh, 1, worker="w", journal_id="j1")[0]
        _reserve(session, minh, task.person_id, "URN:UVCI:01:VN:LATE")
        signing.release_stale_claims(session, minh, "9999-12-31T00:00:00Z")
        assert not signing.confirm_issued(session, minh, "URN:UVCI:01:VN:LATE", journal_id="j1",
                                          signature=b"sig", previous_reason="record_changed")
        late = session.get(Certificate, "URN:UVCI:01:VN:LATE")
        assert late is not None and (late.state, late.signature) == ("revoked", b"sig".hex())
    assert person  # the fixture's first person is queued


@pytest.mark.parametrize(("limit", "message"), [(0, "at least 1")])
def test_bad_claims_are_refused(published: Store, actors: dict[str, Actor], limit: int,
                                message: str) -> None:
    with published.transaction() as session, pytest.raises(ConfigError, match=message):
        signing.claim_next(session, actors["minh"], limit, worker="w", journal_id="j")


def test_revoking_needs_a_reason_and_one_target(published: Store, actors: dict[str, Actor]) -> None:
    with published.transaction() as session:
        _issue(session, actors["minh"], PEOPLE[0][0], "URN:UVCI:01:VN:B")
    with published.transaction() as session, pytest.raises(ConfigError, match="reason"):
        signing.revoke(session, actors["minh"], uvci="URN:UVCI:01:VN:B", reason=" ")
    with published.transaction() as session, pytest.raises(ConfigError, match="exactly one"):
        signing.revoke(session, actors["minh"], reason="x")
    with published.transaction() as session, pytest.raises(NotFound, match="no current"):
        signing.revoke(session, actors["minh"], person_id=PEOPLE[1][0], reason="x")


def test_revoke_and_block(published: Store, actors: dict[str, Actor]) -> None:
    minh, person = actors["minh"], PEOPLE[0][0]
    with published.transaction() as session:
        _issue(session, minh, person, "URN:UVCI:01:VN:C")
    with published.transaction() as session:
        assert signing.revoke(session, minh, person_id=person, reason="fraud", block=True) == "URN:UVCI:01:VN:C"
    with published.transaction() as session:
        assert signing.is_blocked(session, person) and not signing.is_blocked(session, PEOPLE[1][0])


def test_the_same_uvci_cannot_be_reserved_twice(published: Store, actors: dict[str, Actor]) -> None:
    with published.transaction() as session:
        _issue(session, actors["minh"], PEOPLE[0][0], "URN:UVCI:01:VN:D")
    with pytest.raises(StoreError, match="(?i)unique"), published.transaction() as session:
        _reserve(session, actors["minh"], PEOPLE[1][0], "URN:UVCI:01:VN:D")
