"""Scope is enforced in the store's queries: for every repository function, no actor ever gets
a row outside their province, facility, commune or own person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.store.factory import PEOPLE
from vaxtrust.errors import NotFound, PermissionDenied
from vaxtrust.review import queue
from vaxtrust.signing import queue as signing
from vaxtrust.store import records
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import Person, ReviewItem, SigningTask, VaccinationRecord
from vaxtrust.store.users import list_users

# record_id → (facility, province, commune, status, person) of the baseline run.
FACILITY_OF = {"R1": "HN-01", "R2": "HN-01", "R3": "HN-01", "R4": "HCM-01", "R5": "HCM-01",
               "R6": "HCM-01", "R7": "HN-02", "R8": "HN-02"}  # R7 rejected: still its facility's
PROVINCE_OF = {"HN-01": "01", "HN-02": "01", "HCM-01": "79"}


def _visible_records(session: Session, actor: Actor) -> set[str]:
    page = records.list_records(session, actor, page_size=1000)
    return {record.record_id for record in page.items}


EXPECTED_RECORDS = {
    "minh": set(FACILITY_OF),
    "hanoi": {"R1", "R2", "R3", "R7", "R8"},
    "hcm": {"R4", "R5", "R6"},
    "hn01": {"R1", "R2", "R3"},
    "hn02": {"R7", "R8"},
    "hcm01": {"R4", "R5", "R6"},
    "police4": set(),                 # commune 00004 has no record awaiting authentication
    "police26734": {"R4", "R6"},      # review and unmatched records of commune 26734
    "an": {"R1"},                     # the citizen's own record only
}


@pytest.mark.parametrize("name", sorted(EXPECTED_RECORDS))
def test_list_records_returns_exactly_the_actors_scope(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    with published.transaction() as session:
        assert _visible_records(session, actors[name]) == EXPECTED_RECORDS[name]


@pytest.mark.parametrize("name", sorted(EXPECTED_RECORDS))
def test_get_record_and_history_refuse_every_record_outside_scope(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    actor = actors[name]
    for record_id in FACILITY_OF:
        with published.transaction() as session:
            if record_id in EXPECTED_RECORDS[name]:
                assert records.get_record(session, actor, record_id).record_id == record_id
                assert records.record_history(session, actor, record_id)
                continue
            with pytest.raises(NotFound):
                records.get_record(session, actor, record_id)
            with pytest.raises(NotFound):
                records.record_history(session, actor, record_id)


@pytest.mark.parametrize("name", ["police4", "police26734", "hn01", "minh"])
def test_authentication_list_only_holds_records_awaiting_authentication(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    with published.transaction() as session:
        page = records.authentication_list(session, actors[name], page_size=1000)
    found = {r.record_id for r in page.items}
    assert found <= EXPECTED_RECORDS[name]
    assert all(r.status in ("review", "unmatched") for r in page.items)


def test_citizens_have_no_authentication_list(published: Store, actors: dict[str, Actor]) -> None:
    with published.transaction() as session, pytest.raises(PermissionDenied):
        records.authentication_list(session, actors["an"])


def _persons_linked(session: Session) -> dict[str, set[str]]:
    linked: dict[str, set[str]] = {}
    for record in session.scalars(select(VaccinationRecord)):
        if record.person_id:
            linked.setdefault(record.person_id, set()).add(record.record_id)
    return linked


@pytest.mark.parametrize("name", sorted(EXPECTED_RECORDS))
def test_persons_and_dose_histories_only_through_visible_records(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    actor = actors[name]
    with published.transaction() as session:
        linked = _persons_linked(session)
    for person_id, record_ids in linked.items():
        visible = bool(record_ids & EXPECTED_RECORDS[name]) or name == "minh"
        with published.transaction() as session:
            if visible:
                assert records.get_person(session, actor, person_id).person_id == person_id
                doses = records.person_dose_history(session, actor, person_id)
                assert {d.record_id for d in doses} <= EXPECTED_RECORDS[name]
                continue
            for lookup in (records.get_person, records.person_dose_history):
                with pytest.raises(NotFound):
                    lookup(session, actor, person_id)


REVIEWERS = {"minh": {"R3", "R6"}, "hanoi": {"R3"}, "hcm": {"R6"}, "hn01": {"R3"},
             "hn02": set(), "hcm01": {"R6"}}


@pytest.mark.parametrize("name", sorted(REVIEWERS))
def test_review_functions_stay_in_scope(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    actor = actors[name]
    with published.transaction() as session:
        listed = {i.record_id for i in queue.list_items(session, actor).items}
        # Asking for another province or facility by filter returns nothing extra either.
        for province in ("01", "79"):
            filtered = queue.list_items(session, actor, province_code=province).items
            assert {i.record_id for i in filtered} <= REVIEWERS[name]
        items = {i.record_id: i.id for i in session.scalars(select(ReviewItem))}
    assert listed == REVIEWERS[name]
    for record_id, item_id in items.items():
        if record_id in REVIEWERS[name]:
            continue
        with published.transaction() as session, pytest.raises(NotFound):
            queue.show_item(session, actor, item_id)
        with published.transaction() as session, pytest.raises(NotFound):
            queue.decide(session, actor, item_id, queue.AcceptCandidate(1))


@pytest.mark.parametrize("name", ["police4", "police26734", "an"])
def test_non_reviewers_see_no_review_items(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    with published.transaction() as session, pytest.raises(PermissionDenied):
        queue.list_items(session, actors[name])


SIGNERS = ["minh", "hanoi", "hcm", "hn01", "hn02", "hcm01"]


def _scope_persons(session: Session, name: str) -> set[str]:
    if name == "minh":
        return set(session.scalars(select(Person.person_id)))
    return {p for p, recs in _persons_linked(session).items() if recs & EXPECTED_RECORDS[name]}


@pytest.mark.parametrize("name", SIGNERS)
def test_signing_queue_functions_stay_in_scope(
    published: Store, actors: dict[str, Actor], name: str
) -> None:
    actor = actors[name]
    with published.transaction() as session:
        allowed = _scope_persons(session, name)
        listed = {t.person_id for t in signing.list_tasks(session, actor)}
        claimed = signing.claim_next(session, actor, 100, worker=name, journal_id=name)
        all_tasks = {t.id: t.person_id for t in session.scalars(select(SigningTask))}
    assert listed <= allowed and {t.person_id for t in claimed} == listed
    outside = [task_id for task_id, person in all_tasks.items() if person not in allowed]
    for task_id in outside:
        with published.transaction() as session, pytest.raises(NotFound):
            signing.mark_done(session, actor, task_id)
    for person_id in {p for p, _ in PEOPLE_IDS} - allowed:
        with published.transaction() as session, pytest.raises(NotFound):
            _issue(session, actor, person_id, f"URN:UVCI:01:VN:{person_id}")
        with published.transaction() as session:
            assert signing.active_certificates(session, actor, person_id) == []


PEOPLE_IDS = [(p[0], p[1]) for p in PEOPLE]


def test_revoking_needs_the_certificate_in_scope(
    published: Store, actors: dict[str, Actor]
) -> None:
    with published.transaction() as session:
        _issue(session, actors["minh"], PEOPLE[3][0], "URN:UVCI:01:VN:HCM")
    with published.transaction() as session, pytest.raises(NotFound):
        signing.revoke(session, actors["hn01"], uvci="URN:UVCI:01:VN:HCM", reason="wrong dose")
    with published.transaction() as session, pytest.raises(NotFound):
        signing.revoke(session, actors["hn01"], person_id=PEOPLE[3][0], reason="wrong dose")
    with published.transaction() as session:
        signing.revoke(session, actors["hcm01"], uvci="URN:UVCI:01:VN:HCM", reason="wrong dose")


def _issue(session: Session, actor: Actor, person_id: str, uvci: str) -> None:
    """Reserve and confirm a certificate, as a signing batch does around its journal."""
    now = datetime.now(UTC)
    signing.reserve(session, actor, "journal", signing.Reservation(
        uvci, person_id, "fingerprint", "signer", b"kid", now, now))
    signing.confirm_issued(session, actor, uvci, journal_id="journal", signature=b"s",
                           previous_reason="record_changed")


DENIED: list[tuple[str, Callable[[Session, Actor], Any]]] = [
    ("list_users", lambda s, a: list_users(s, by=a)),
    ("claim_next", lambda s, a: signing.claim_next(s, a, 1, worker="x", journal_id="j")),
    ("list_tasks", lambda s, a: signing.list_tasks(s, a)),
]


@pytest.mark.parametrize(("label", "call"), DENIED, ids=[d[0] for d in DENIED])
@pytest.mark.parametrize("name", ["police4", "an"])
def test_roles_without_the_right_are_refused(
    published: Store, actors: dict[str, Actor], name: str, label: str,
    call: Callable[[Session, Actor], Any],
) -> None:
    with published.transaction() as session, pytest.raises(PermissionDenied):
        call(session, actors[name])
