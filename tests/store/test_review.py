"""The review queue: list, show, decide; optimistic locking; decisions become corrections."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.store.conftest import snapshot
from tests.store.factory import PEOPLE
from vaxtrust.errors import ConfigError, NotFound, PermissionDenied, ReviewConflict
from vaxtrust.review.queue import (
    AcceptCandidate,
    Defer,
    EditFields,
    RejectAll,
    decide,
    list_items,
    show_item,
)
from vaxtrust.signing import queue as signing
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import AuditEventRow, Correction, SigningTask, VaccinationRecord


def _item_of(store: Store, actor: Actor, record_id: str) -> int:
    with store.transaction() as session:
        items = list_items(session, actor, states=("open", "deferred", "decided", "superseded"))
    return next(item.id for item in items.items if item.record_id == record_id)


def test_list_filters_by_province_facility_and_reason_with_paging(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh = actors["minh"]
    with published.transaction() as session:
        everything = list_items(session, minh)
        by_province = list_items(session, minh, province_code="79")
        by_facility = list_items(session, minh, facility_id="HN-01")
        by_reason = list_items(session, minh, reason="id_leading_zero_lost")
        first_page = list_items(session, minh, page=1, page_size=1)
        second_page = list_items(session, minh, page=2, page_size=1)
    assert [i.record_id for i in everything.items] == ["R3", "R6"]
    assert [i.record_id for i in by_province.items] == ["R6"]
    assert [i.record_id for i in by_facility.items] == ["R3"]
    assert [i.record_id for i in by_reason.items] == ["R6"]
    assert first_page.total == 2 and first_page.pages == 2
    assert [i.record_id for i in first_page.items + second_page.items] == ["R3", "R6"]


@pytest.mark.parametrize(("page", "size"), [(0, 10), (1, 0), (1, 5000)])
def test_bad_paging_is_refused(published: Store, actors: dict[str, Actor], page: int,
                               size: int) -> None:
    with published.transaction() as session, pytest.raises(ConfigError, match="page"):
        list_items(session, actors["minh"], page=page, page_size=size)


def test_show_has_record_ranked_candidates_and_differences(
    published: Store, actors: dict[str, Actor]
) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        detail = show_item(session, actors["hn01"], item_id)
        accesses = session.scalars(select(AuditEventRow).where(
            AuditEventRow.event_type == "personal_data_accessed")).all()
    assert detail.original["dob"] == "30/11/1907"
    assert [c.rank for c in detail.candidates] == [1, 2]
    best = detail.candidates[0]
    assert best.person_id == PEOPLE[2][0] and best.register["dob"] == "1970-11-30"
    assert best.differences["dob"]["verdict"] == "different"
    assert [(a.actor, a.subject_id) for a in accesses] == [("hn01", "record:R3")]


def test_accept_links_corrects_and_queues_the_person(
    published: Store, actors: dict[str, Actor]
) -> None:
    officer = actors["hcm01"]
    item_id = _item_of(published, officer, "R6")
    with published.transaction() as session:
        result = decide(session, officer, item_id, AcceptCandidate(1))
    assert result.person_id == PEOPLE[4][0]
    assert result.signing_queued == [PEOPLE[4][0]]
    with published.transaction() as session:
        record = session.get(VaccinationRecord, "R6")
        assert record is not None
        assert (record.status, record.full_name, record.dob) == ("corrected", PEOPLE[4][1],
                                                                  PEOPLE[4][2])
        assert record.original_full_name == "Hoang Thi Em" and record.decided
        by_field = {c.field: (c.old_value, c.new_value, c.actor) for c in session.scalars(
            select(Correction).where(Correction.record_id == "R6"))}
        assert by_field["full_name"] == ("Hoang Thi Em", PEOPLE[4][1], "hcm01")
        assert by_field["person_id"] == (None, PEOPLE[4][0], "hcm01")
        task = session.scalars(select(SigningTask).where(
            SigningTask.person_id == PEOPLE[4][0])).one()
        assert task.action == "issue"


def test_reject_all_leaves_the_record_unmatched(published: Store, actors: dict[str, Actor]) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        result = decide(session, actors["hn01"], item_id, RejectAll("not any of them"))
        record = session.get(VaccinationRecord, "R3")
        assert record is not None
        assert (record.status, record.person_id, record.decided) == ("unmatched", None, True)
    assert result.signing_queued == []


def test_an_edit_that_does_not_match_the_register_is_refused(
    published: Store, actors: dict[str, Actor]
) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    before = snapshot(published)
    edit = EditFields({"dob": "1971-11-30"}, note="typo in year", person_id=PEOPLE[2][0])
    with pytest.raises(ConfigError, match=r"does not match register person 001170000003: dob"):
        with published.transaction() as session:
            decide(session, actors["hn01"], item_id, edit)
    assert snapshot(published) == before


def test_an_edit_that_matches_the_register_is_accepted(
    published: Store, actors: dict[str, Actor]
) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        result = decide(session, actors["hn01"], item_id,
                        EditFields({"dob": "30/11/1970"}, note="year typed 1907"))
        record = session.get(VaccinationRecord, "R3")
        assert record is not None
    assert result.person_id == PEOPLE[2][0]        # found among the candidates
    assert (record.dob, record.original_dob, record.status) == ("30/11/1970", "30/11/1907",
                                                                 "corrected")


@pytest.mark.parametrize("officer", ["hn01", "hanoi"])
def test_an_edit_cannot_reach_a_person_of_another_province(
    published: Store, actors: dict[str, Actor], officer: str
) -> None:
    """Issue 12 #2: linking R3 (Ha Noi) to a Ho Chi Minh City person, by --person or by ID,
    is 'not found' like a person who does not exist, and no register value of theirs is shown."""
    item_id = _item_of(published, actors[officer], "R3")
    before = snapshot(published)
    outsider = PEOPLE[4]                          # 079188000005, Hoàng Thị Em, province 79
    claims = [
        EditFields({"full_name": "x"}, note="n", person_id=outsider[0]),
        EditFields({"full_name": outsider[1], "dob": outsider[2], "gender": outsider[3]},
                   note="n", person_id=outsider[0]),
    ]
    for edit in claims:
        with pytest.raises(NotFound) as caught, published.transaction() as session:
            decide(session, actors[officer], item_id, edit)
        assert str(caught.value) == (f"person {outsider[0]} is not among the item's candidates "
                                     "or in your scope")
    by_id = EditFields({"id_number": outsider[0], "full_name": "x"}, note="n")
    with pytest.raises(ConfigError) as refused, published.transaction() as session:
        decide(session, actors[officer], item_id, by_id)
    assert outsider[0] not in str(refused.value).split(":", 1)[0]
    for value in outsider[1:3]:
        assert value not in str(refused.value)
    assert snapshot(published) == before


def test_the_ministry_may_link_to_anyone(published: Store, actors: dict[str, Actor]) -> None:
    item_id = _item_of(published, actors["minh"], "R3")
    outsider = PEOPLE[4]
    with pytest.raises(ConfigError, match="does not match register person 079188000005"), \
            published.transaction() as session:
        decide(session, actors["minh"], item_id,
               EditFields({"full_name": "x"}, note="n", person_id=outsider[0]))


@pytest.mark.parametrize(("edit", "message"), [
    (EditFields({"vaccine": "x"}, note="n"), "cannot edit vaccine"),
    (EditFields({}, note="n"), "needs at least one field"),
    (EditFields({"dob": "1970-11-30"}, note=""), "needs a --note"),
    (EditFields({"dob": "1970-11-30"}, note="n", person_id="123"), "not among the item's"),
])
def test_bad_edits_are_refused(published: Store, actors: dict[str, Actor], edit: EditFields,
                               message: str) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with pytest.raises((ConfigError, NotFound), match=message):
        with published.transaction() as session:
            decide(session, actors["hn01"], item_id, edit)


def test_accepting_a_missing_rank_is_refused(published: Store, actors: dict[str, Actor]) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with pytest.raises(ConfigError, match="no candidate of rank 7"):
        with published.transaction() as session:
            decide(session, actors["hn01"], item_id, AcceptCandidate(7))


def test_defer_keeps_the_item_waiting_with_its_note(
    published: Store, actors: dict[str, Actor]
) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        decide(session, actors["hn01"], item_id, Defer("asked commune police"))
        listed = list_items(session, actors["hn01"]).items
        assert [(i.state, i.version) for i in listed] == [("deferred", 2)]
        record = session.get(VaccinationRecord, "R3")
        assert record is not None and not record.decided
    with published.transaction() as session:
        decide(session, actors["hn01"], item_id, AcceptCandidate(1), expected_version=2)


def test_two_officers_cannot_decide_the_same_item(
    published: Store, actors: dict[str, Actor]
) -> None:
    first, second = actors["hn01"], actors["hanoi"]
    item_id = _item_of(published, first, "R3")
    with published.transaction() as session:
        seen = show_item(session, second, item_id).item.version
        decide(session, first, item_id, AcceptCandidate(1), expected_version=seen)
    before = snapshot(published)
    with pytest.raises(ReviewConflict, match="already decided by hn01"):
        with published.transaction() as session:
            decide(session, second, item_id, RejectAll("no"), expected_version=seen)
    assert snapshot(published) == before


def test_a_stale_version_is_a_conflict(published: Store, actors: dict[str, Actor]) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        decide(session, actors["hn01"], item_id, Defer("waiting"))
    with pytest.raises(ReviewConflict, match="changed since you read version 1"):
        with published.transaction() as session:
            decide(session, actors["hanoi"], item_id, AcceptCandidate(1), expected_version=1)


def test_concurrent_sessions_conflict_at_the_write(
    published: Store, actors: dict[str, Actor]
) -> None:
    """Both sessions read version 1; the one that writes second gets the conflict."""
    item_id = _item_of(published, actors["hn01"], "R3")
    slow = published.session()
    slow.begin()
    show_item(slow, actors["hanoi"], item_id)
    slow.commit()
    with published.transaction() as session:
        decide(session, actors["hn01"], item_id, AcceptCandidate(1), expected_version=1)
    with pytest.raises(ReviewConflict):
        with slow.begin():
            decide(slow, actors["hanoi"], item_id, AcceptCandidate(2), expected_version=1)
    slow.close()


def test_a_signed_person_whose_record_changes_is_queued_for_reissue(
    published: Store, actors: dict[str, Actor]
) -> None:
    minh = actors["minh"]
    person = PEOPLE[1][0]          # linked by R2, and rank 2 candidate of R3
    with published.transaction() as session:
        for task in signing.claim_next(session, minh, 10, worker="test", journal_id="j"):
            signing.mark_done(session, minh, task.id)
        now = datetime.now(UTC)
        signing.reserve(session, minh, "j", signing.Reservation(
            "URN:UVCI:01:VN:TEST1", person, "fingerprint", "signer", b"kid", now, now))
        assert signing.confirm_issued(session, minh, "URN:UVCI:01:VN:TEST1", journal_id="j",
                                      signature=b"s", previous_reason="record_changed")
    item_id = _item_of(published, actors["hn01"], "R3")
    with published.transaction() as session:
        result = decide(session, actors["hn01"], item_id, AcceptCandidate(2))
        assert result.signing_queued == [person]
        task = session.scalars(select(SigningTask).where(
            SigningTask.person_id == person, SigningTask.state == "pending")).one()
    assert task.action == "revoke_and_reissue"


def test_roles_without_review_rights_cannot_decide(
    published: Store, actors: dict[str, Actor]
) -> None:
    item_id = _item_of(published, actors["hn01"], "R3")
    for name in ("police4", "an"):
        with pytest.raises(PermissionDenied):
            with published.transaction() as session:
                decide(session, actors[name], item_id, AcceptCandidate(1))


def test_two_officers_deciding_at_the_same_moment_one_wins(
    published: Store, actors: dict[str, Actor]
) -> None:
    """Two threads read the item, wait for each other, then both decide: one conflict."""
    import threading

    item_id = _item_of(published, actors["hn01"], "R3")
    barrier = threading.Barrier(2, timeout=30)
    outcomes: dict[str, str] = {}

    def officer(name: str, decision: AcceptCandidate | RejectAll) -> None:
        try:
            with published.transaction() as session:
                version = show_item(session, actors[name], item_id).item.version
            barrier.wait()
            with published.transaction() as session:
                decide(session, actors[name], item_id, decision, expected_version=version)
            outcomes[name] = "decided"
        except ReviewConflict:
            outcomes[name] = "conflict"

    threads = [threading.Thread(target=officer, args=("hn01", AcceptCandidate(1))),
               threading.Thread(target=officer, args=("hanoi", RejectAll("not her")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["conflict", "decided"]
    with published.transaction() as session:
        decisions = session.scalars(select(Correction.decision_id).where(
            Correction.record_id == "R3").distinct()).all()
    assert len(decisions) == 1
