"""Issue 15: complaints in the store: triage, routing, scope, resolution through the review
decision path (one audit trail), refusal grounds, escalation, the optimistic lock."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.store.factory import PEOPLE
from vaxtrust.complaints import workflow
from vaxtrust.complaints.deadlines import DeadlineRule
from vaxtrust.complaints.standardise import ComplaintInput, standardise
from vaxtrust.errors import ConfigError, NotFound, PermissionDenied, ReviewConflict
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import (
    Complaint,
    Correction,
    Decision,
    SigningTask,
    VaccinationRecord,
)

NOW = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
RULE = DeadlineRule()


def claim(person: int, **changes: str) -> ComplaintInput:
    pid, name, dob, *_ = PEOPLE[person]
    raw: dict[str, str | None] = {
        "full_name": name, "dob": dob, "phone": "0912345678", "id_number": pid,
        "category": "missing_dose", "vaccinated_on": "01/09/2021", "dose_number": "1",
        "vaccine": "Comirnaty", **changes}
    parsed = standardise(raw, today=dt.date(2026, 12, 1))
    assert isinstance(parsed, ComplaintInput), parsed
    return parsed


def file(store: Store, actor: Actor, *items: ComplaintInput) -> list[int]:
    with store.transaction() as session:
        return workflow.file_complaints(session, actor, list(items), channel="import",
                                        rule=RULE, now=NOW).ids


def row(store: Store, complaint_id: int) -> Complaint:
    with store.transaction() as session:
        found = session.get(Complaint, complaint_id)
        assert found is not None
        session.expunge(found)
        return found


@pytest.fixture
def minh(published: Store, actors: dict[str, Actor]) -> Actor:
    return actors["minh"]


def test_a_missing_dose_at_the_named_facility_is_proposed_as_a_link(
        published: Store, actors: dict[str, Actor]) -> None:
    # Lê Thị Cúc's dose at HN-01 sits in review (R3, a typo in the year of birth).
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    found = row(published, number)
    assert (found.proposal, found.record_id, found.person_id) == ("link_record", "R3",
                                                                   PEOPLE[2][0])
    assert (found.routing, found.facility_id, found.province_code) == ("facility", "HN-01", "01")
    assert found.deadline_at == "2026-12-03T08:00:00.000000Z"


def test_a_dose_already_on_the_history_is_named(published: Store,
                                                actors: dict[str, Actor]) -> None:
    (number,) = file(published, actors["minh"], claim(0))
    found = row(published, number)
    assert (found.proposal, found.record_id) == ("dose_exists", "R1")


@pytest.mark.parametrize(("changes", "ground"), [
    ({"full_name": "Le Thi Cuc"}, "name_without_diacritics"),
    ({"full_name": "Lê Thị Hồng"}, "name_contradicts_certificate"),
    ({"dob": "30/11/1971"}, "dob_differs_from_system"),
])
def test_a_claim_that_contradicts_the_register_is_proposed_for_refusal(
        published: Store, actors: dict[str, Actor], changes: dict[str, str],
        ground: str) -> None:
    (number,) = file(published, actors["minh"], claim(2, **changes))
    with published.transaction() as session:
        detail = workflow.show_complaint(session, actors["minh"], number)
    assert detail.proposal is not None
    assert (detail.proposal.kind, detail.proposal.ground) == ("refuse", ground)


def test_routing_without_a_site_follows_9458(published: Store,
                                             actors: dict[str, Actor]) -> None:
    nobody = {"id_number": "001099999999", "full_name": "Đỗ Văn Giang", "dob": "01/01/1960"}
    numbers = file(published, actors["minh"],
                   claim(0, **nobody, facility_id="HCM-01"),
                   claim(0, **nobody, province="Hồ Chí Minh"),
                   claim(0, **nobody, province="Hà Nội", district="Quận Ba Đình"),
                   claim(0, **nobody))
    routes = [(r.routing, r.facility_id, r.province_code, r.proposal)
              for r in (row(published, n) for n in numbers)]
    assert routes == [("facility", "HCM-01", "79", None), ("province", None, "79", None),
                      ("district", None, "01", None), ("pickup", None, None, None)]


def test_each_officer_sees_only_the_complaints_routed_to_them(
        published: Store, actors: dict[str, Actor]) -> None:
    hanoi, hcm = file(published, actors["minh"], claim(2, facility_id="HN-01"),
                      claim(3, facility_id="HCM-01"))
    with published.transaction() as session:
        def ids(name: str) -> list[int]:
            page = workflow.list_complaints(session, actors[name], workflow.ComplaintFilter())
            return [item.id for item in page.items]
        assert ids("minh") == [hanoi, hcm]
        assert ids("hanoi") == [hanoi] and ids("hn01") == [hanoi] and ids("hn02") == []
        assert ids("hcm01") == [hcm]
        with pytest.raises(NotFound):
            workflow.show_complaint(session, actors["hn01"], hcm)
        with pytest.raises(PermissionDenied):
            workflow.list_complaints(session, actors["police4"], workflow.ComplaintFilter())
        with pytest.raises(PermissionDenied):
            workflow.refuse(session, actors["an"], hanoi, ground="8", note="n")


def test_the_inbox_pages_by_deadline_with_a_keyset(published: Store,
                                                   actors: dict[str, Actor]) -> None:
    numbers = file(published, actors["minh"], *[claim(0) for _ in range(5)])
    with published.transaction() as session:
        seen: list[int] = []
        cursor = None
        while True:
            page = workflow.list_complaints(session, actors["minh"],
                                            workflow.ComplaintFilter(after=cursor, limit=2))
            seen += [item.id for item in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
    assert seen == numbers


def test_resolving_a_link_is_a_review_decision_with_its_audit_trail(
        published: Store, actors: dict[str, Actor]) -> None:
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    with published.transaction() as session:
        result = workflow.resolve(session, actors["hn01"], number, note="ảnh giấy xác nhận khớp")
    assert result.kind == "link_record" and result.decision_id is not None
    # Queued for signing (publish had queued her already: one pending task covers both).
    with published.transaction() as session:
        record = session.get(VaccinationRecord, "R3")
        assert record is not None
        assert (record.person_id, record.status, record.dob) == (PEOPLE[2][0], "corrected",
                                                                 "1970-11-30")
        assert record.original_dob == "30/11/1907"     # the original stays
        decision = session.get(Decision, result.decision_id)
        assert decision is not None and decision.actor == "hn01"
        assert session.scalar(select(func.count()).select_from(Correction).where(
            Correction.decision_id == decision.id)) > 0
        assert session.scalar(select(SigningTask.action).where(
            SigningTask.person_id == PEOPLE[2][0], SigningTask.state == "pending")) == "issue"
        events = [e.event_type for e in audit.events_for(session, f"complaint:{number}")]
        assert events == ["complaint_resolved"]
        assert audit.verify_chain(session).intact
        complaint = session.get(Complaint, number)
        assert complaint is not None
        assert (complaint.state, complaint.decision_id) == ("resolved", result.decision_id)


def test_a_dose_that_exists_is_settled_without_a_change(published: Store,
                                                        actors: dict[str, Actor]) -> None:
    (number,) = file(published, actors["minh"], claim(0))
    with published.transaction() as session:
        before = session.scalar(select(func.count()).select_from(Correction))
        result = workflow.resolve(session, actors["hn01"], number, note="đã có mũi 1")
        assert result.decision_id is None
        assert session.scalar(select(func.count()).select_from(Correction)) == before


def test_a_complaint_without_a_person_cannot_be_resolved_only_refused(
        published: Store, actors: dict[str, Actor]) -> None:
    (number,) = file(published, actors["minh"], claim(0, id_number="001099999999",
                                                      facility_id="HN-01"))
    with published.transaction() as session, pytest.raises(ConfigError, match="no register"):
        workflow.resolve(session, actors["hn01"], number, note="x")
    with published.transaction() as session:
        with pytest.raises(ConfigError, match="13 grounds"):
            workflow.refuse(session, actors["hn01"], number, ground="bad", note="x")
        workflow.refuse(session, actors["hn01"], number, ground="10", note="không khớp")
    found = row(published, number)
    assert (found.state, found.refusal_ground) == ("refused", "nothing_matches_certificate")
    with published.transaction() as session, pytest.raises(ConfigError, match="refused already"):
        workflow.escalate(session, actors["hn01"], number, reason="r")


def test_two_officers_acting_on_one_complaint_conflict(published: Store,
                                                       actors: dict[str, Actor]) -> None:
    (number,) = file(published, actors["minh"], claim(0))
    with published.transaction() as session:
        workflow.assign(session, actors["hn01"], number)
    with published.transaction() as session, pytest.raises(ReviewConflict):
        workflow.refuse(session, actors["hn01"], number, ground="8", note="n",
                        expected_version=1)
    with published.transaction() as session, pytest.raises(ConfigError, match="reason"):
        workflow.assign(session, actors["hanoi"], number, assignee="hn01")


def test_overdue_complaints_escalate_to_the_province(published: Store,
                                                     actors: dict[str, Actor]) -> None:
    late, pickup = file(published, actors["minh"], claim(0), claim(0, id_number="001099999999"))
    with published.transaction() as session:
        assert workflow.escalate_overdue(session, actors["hanoi"], now=NOW) == []
        later = NOW + dt.timedelta(hours=49)
        assert workflow.escalate_overdue(session, actors["minh"], now=later) == [late]
        overdue = workflow.list_complaints(session, actors["hanoi"], workflow.ComplaintFilter(
            overdue=True), now=later)
        assert [(c.id, c.state, c.overdue) for c in overdue.items] == [(late, "escalated", True)]
        events = audit.events_for(session, f"complaint:{late}")
        assert [e.event_type for e in events] == ["complaint_escalated"]
    assert row(published, pickup).state == "received"


def test_a_citizen_sees_only_their_own_complaints(published: Store,
                                                  actors: dict[str, Actor]) -> None:
    own, other = file(published, actors["minh"], claim(0), claim(2))
    with published.transaction() as session:
        mine: Any = workflow.citizen_complaints(session, actors["an"])
        assert [c.id for c in mine] == [own]
        with pytest.raises(NotFound):
            workflow.show_complaint(session, actors["an"], other)
        detail = workflow.show_complaint(session, actors["an"], own)
        assert detail.register is None and detail.record is None


def test_a_large_batch_split_over_the_cores_is_triaged_as_in_one_process(
        published: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from vaxtrust.complaints import parallel, triage

    claims = [claim(person, facility_id="HN-01") for person in range(len(PEOPLE))] * 3
    with published.transaction() as session:
        alone = triage.triage(session, claims)
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    with published.transaction() as session:
        assert triage.triage(session, claims) == alone
    assert [p for p in alone if p.proposal] != []


def test_a_large_import_split_over_the_cores_stores_the_rows_of_one_process(
        published: Store, actors: dict[str, Actor], monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers build the rows to store (the parent adds only the ids): the same rows."""
    from vaxtrust.complaints import parallel

    claims = [claim(person, facility_id="HN-01") for person in range(len(PEOPLE))] * 3
    columns = [c for c in workflow.STORED_COLUMNS if c != "external_id"]

    def stored(ids: list[int]) -> list[tuple[Any, ...]]:
        with published.transaction() as session:
            by_id = {c.id: c for c in session.scalars(
                select(Complaint).where(Complaint.id.in_(ids)))}
            return [tuple(getattr(by_id[n], c) for c in columns) for n in ids]

    alone = stored(file(published, actors["minh"], *claims))
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    assert stored(file(published, actors["minh"], *claims)) == alone
    assert any(row[workflow.PROPOSAL_AT] for row in alone)


def test_triage_then_runs_the_callers_step_where_the_triage_ran(
        published: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from vaxtrust.complaints import parallel, triage

    claims = [claim(person, facility_id="HN-01") for person in range(len(PEOPLE))] * 3
    monkeypatch.setattr(parallel, "MIN_ITEMS", 2)
    monkeypatch.setattr(parallel, "workers", lambda: 2)
    with published.transaction() as session:
        made = triage.triage_then(session, claims, lambda _, some, found: [
            (os.getpid(), result) for result in found])
        assert [result for _, result in made] == triage.triage(session, claims)
        here = {pid for pid, _ in made} == {os.getpid()}
        assert here == (session.get_bind().dialect.name != "postgresql")


def test_resolving_for_a_signed_person_queues_revocation_and_reissue(
        published: Store, actors: dict[str, Actor]) -> None:
    from vaxtrust.signing import queue as signing

    minh, cuc = actors["minh"], PEOPLE[2][0]
    with published.transaction() as session:     # Cúc already holds a certificate
        for task in signing.claim_next(session, minh, 10, worker="test", journal_id="j"):
            signing.mark_done(session, minh, task.id)
        now = dt.datetime.now(dt.UTC)
        signing.reserve(session, minh, "j", signing.Reservation(
            "URN:UVCI:01:VN:TEST1", cuc, "fingerprint", "signer", b"kid", now, now))
        assert signing.confirm_issued(session, minh, "URN:UVCI:01:VN:TEST1", journal_id="j",
                                      signature=b"s", previous_reason="record_changed")
    (number,) = file(published, minh, claim(2, facility_id="HN-01"))
    with published.transaction() as session:     # her missing dose R3 is linked: data changed
        result = workflow.resolve(session, actors["hn01"], number, note="ảnh khớp")
        assert result.signing_queued == [cuc]
        assert session.scalar(select(SigningTask.action).where(
            SigningTask.person_id == cuc, SigningTask.state == "pending")) == "revoke_and_reissue"
