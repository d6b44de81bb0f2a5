"""Issue 15: complaints settled automatically only where the proposal is certain (a cleaning
run would link by itself); namesakes, twins and a parent's ID always wait for an officer."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import delete, select, update

from tests.store.cli import cli
from tests.store.factory import PEOPLE
from tests.store.test_complaints import claim, file, row
from tests.store.test_complaints_cli import person_row, write_csv
from vaxtrust.complaints import settle, workflow
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import (
    AuditEventRow,
    Decision,
    Person,
    SigningTask,
    VaccinationRecord,
)

CUC = PEOPLE[2]


def _fix_r3_birth_date(store: Store) -> None:
    """R3 (Lê Thị Cúc's dose in review, no ID on it) now agrees with her on every field."""
    with store.transaction() as session:
        session.execute(update(VaccinationRecord).where(VaccinationRecord.record_id == "R3")
                        .values(original_dob="30/11/1970"))


def _settle(store: Store, actor: Actor) -> settle.Settled:
    with store.transaction() as session:
        return settle.settle_certain(session, actor)


def _add_person(store: Store, person_id: str, name: str, *, dob: str = CUC[2],
                phone: str | None = None) -> None:
    with store.transaction() as session:
        session.add(Person(person_id=person_id, full_name=name, dob=dob, dob_precision="day",
                           gender="F", province_code="01", phone=phone))


def test_a_certain_link_is_settled_by_the_review_decision_as_the_system(
        published: Store, actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    assert row(published, number).proposal == "link_record"
    result = _settle(published, actors["minh"])
    assert (result.settled, result.left) == ([number], [])
    found = row(published, number)
    assert (found.state, found.record_id) == ("resolved", "R3")
    with published.transaction() as session:
        record = session.get(VaccinationRecord, "R3")
        assert record is not None and record.person_id == CUC[0]
        decision = session.get(Decision, found.decision_id)
        assert decision is not None and decision.actor == "system"
        resolved = session.scalar(select(AuditEventRow).where(
            AuditEventRow.event_type == "complaint_resolved"))
        assert resolved is not None and resolved.actor == "system"
        assert "automatic" in resolved.payload


def test_a_namesake_in_the_register_keeps_the_link_for_an_officer(
        published: Store, actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    _add_person(published, "001170000099", "Lê Thị Cúc")   # same name, same date of birth
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    result = _settle(published, actors["minh"])
    assert (result.settled, result.left) == ([], [number])
    assert row(published, number).state == "received"
    with published.transaction() as session:
        assert session.get(VaccinationRecord, "R3").person_id is None  # type: ignore[union-attr]


def test_a_namesake_one_birth_date_digit_away_is_a_competitor_as_in_decide(
        published: Store, actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    _add_person(published, "001170000097", "Lê Thị Cúc", dob="1970-11-20")
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    assert _settle(published, actors["minh"]).left == [number]
    assert row(published, number).state == "received"


def test_a_namesake_the_records_phone_sets_apart_settles_as_a_cleaning_run_links(
        published: Store, actors: dict[str, Actor]) -> None:
    # R3 carries Cúc's phone; her namesake's phone is another: decide's guard sets the
    # namesake apart and links, so the system settles the same way
    _fix_r3_birth_date(published)
    with published.transaction() as session:
        session.execute(update(Person).where(Person.person_id == CUC[0])
                        .values(phone="0912345678"))
    _add_person(published, "001170000099", "Lê Thị Cúc", phone="0987654321")
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    assert _settle(published, actors["minh"]).settled == [number]
    assert row(published, number).record_id == "R3"


def test_a_record_carrying_the_persons_own_id_settles_beside_a_namesake(
        published: Store, actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    _add_person(published, "001170000099", "Lê Thị Cúc")
    with published.transaction() as session:   # the ID-anchored path links it first
        session.execute(update(VaccinationRecord).where(VaccinationRecord.record_id == "R3")
                        .values(original_id_number=CUC[0]))
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    assert _settle(published, actors["minh"]).settled == [number]


def test_a_twin_is_never_settled_automatically(published: Store,
                                               actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    _add_person(published, "001170000098", "Lê Thị Mai")     # Cúc's twin sister
    twin = claim(2, facility_id="HN-01", full_name="Lê Thị Mai", id_number="001170000098")
    (number,) = file(published, actors["minh"], twin)
    found = row(published, number)
    assert found.proposal in (None, "link_record")
    assert not json.loads(found.proposal_detail).get("certain")
    assert _settle(published, actors["minh"]).settled == []
    assert row(published, number).state == "received"


def test_a_parents_id_on_the_record_is_never_settled_automatically(
        published: Store, actors: dict[str, Actor]) -> None:
    _fix_r3_birth_date(published)
    with published.transaction() as session:   # Cúc's dose carries her mother's ID
        session.execute(update(VaccinationRecord).where(VaccinationRecord.record_id == "R3")
                        .values(original_id_number=PEOPLE[1][0]))
    (number,) = file(published, actors["minh"], claim(2, facility_id="HN-01"))
    assert _settle(published, actors["minh"]).settled == []
    assert row(published, number).state == "received"


def test_a_dose_on_the_history_is_answered_in_bulk_and_queued_for_signing(
        published: Store, actors: dict[str, Actor]) -> None:
    first, taken = file(published, actors["minh"], claim(0), claim(3))
    with published.transaction() as session:
        workflow.assign(session, actors["minh"], taken, reason="by hand")
        session.execute(delete(SigningTask))
    result = _settle(published, actors["minh"])
    assert result.settled == [first]     # the one an officer took stays theirs
    assert (row(published, first).state, row(published, taken).state) == ("resolved",
                                                                           "in_progress")
    with published.transaction() as session:
        assert session.scalar(select(SigningTask.person_id)) == PEOPLE[0][0]
    assert _settle(published, actors["minh"]).settled == []   # settled once


def test_import_with_settle_reports_what_the_system_settled(published: Store,
                                                            tmp_path: Path) -> None:
    url = str(published.engine.url.render_as_string(hide_password=False))
    export = write_csv(tmp_path / "phan-anh.csv", [
        person_row("PA-1", 2), person_row("PA-2", 0, **{"Cơ sở tiêm": ""})])
    output = cli(url, "complaints", "import", str(export), "--as", "minh", "--settle")
    assert "1 settled automatically" in output     # PA-2: the dose exists; PA-1 needs an officer
    assert "intact" in cli(url, "audit", "verify", "--as", "minh")
