"""Officer pages: the review item beside its candidates, decide in one step with a note, the
next item opens; record, person, signing and users pages; sessions and CSRF."""

from __future__ import annotations

import json
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.web.fixtures import AN, sign_in_as
from vaxtrust.store.db import Store
from vaxtrust.store.tables import (
    AuditEventRow,
    Decision,
    ReviewItem,
    SigningTask,
    VaccinationRecord,
)


def item_of(store: Store, record_id: str) -> int:
    with store.transaction() as session:
        return session.scalar(select(ReviewItem.id).where(ReviewItem.record_id == record_id))


def test_the_item_page_shows_the_record_beside_each_candidate(client: TestClient,
                                                              web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    page = client.get(f"/officer/review/{item_of(web_store, 'R3')}")
    assert page.status_code == 200
    assert "Candidate 1" in page.text and "Candidate 2" in page.text
    assert "1907-11-30" in page.text and "1970-11-30" in page.text     # record vs register
    assert 'class="v-diff"' in page.text and 'class="v-equal"' in page.text
    assert "Year of birth mistyped" in page.text                        # the reason, in words


def test_deciding_links_the_record_audits_it_and_opens_the_next_item(
        client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "minh")
    r3, r6 = item_of(web_store, "R3"), item_of(web_store, "R6")
    answer = client.post(f"/officer/review/{r3}/decide", follow_redirects=False, data={
        "action": "accept:1", "note": "year typed 1907 for 1970", "version": "1",
        "csrf_token": token})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/officer/review/{r6}?decided={r3}"
    with web_store.transaction() as session:
        record = session.get(VaccinationRecord, "R3")
        assert record is not None and record.person_id == "001170000003"
        decision = session.scalar(select(Decision).where(Decision.item_id == r3))
        assert decision is not None and decision.actor == "minh" and decision.kind == "accept"
        assert decision.note == "year typed 1907 for 1970"
        kinds = set(session.scalars(select(AuditEventRow.event_type)))
    assert {"review_decided", "record_linked", "correction_made"} <= kinds


def test_a_decision_needs_a_note_and_the_page_says_so(client: TestClient,
                                                      web_store: Store) -> None:
    token = sign_in_as(client, web_store, "hanoi")
    item = item_of(web_store, "R3")
    answer = client.post(f"/officer/review/{item}/decide",
                         data={"action": "reject_all", "note": " ", "csrf_token": token})
    assert answer.status_code == 400 and "needs a note" in answer.text
    with web_store.transaction() as session:
        assert session.scalar(select(Decision).where(Decision.item_id == item)) is None


def test_a_stale_version_is_refused_as_a_conflict(client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "hanoi")
    item = item_of(web_store, "R3")
    first = client.post(f"/officer/review/{item}/decide", data={
        "action": "defer", "note": "call the citizen", "version": "1", "csrf_token": token},
        follow_redirects=False)
    assert first.status_code == 303
    second = client.post(f"/officer/review/{item}/decide", data={
        "action": "reject_all", "note": "nobody", "version": "1", "csrf_token": token})
    assert second.status_code == 409 and "another officer" in second.text


@pytest.mark.parametrize("version", [str(2**63 + 5), "9" * 65, "¹", "abc"])
def test_a_version_no_page_gave_is_a_conflict_not_a_failure(
        client: TestClient, web_store: Store, version: str) -> None:
    """A decision form's version past the store's keys or in other digits is stale (409),
    never a server error, and nothing is decided."""
    token = sign_in_as(client, web_store, "hanoi")
    item = item_of(web_store, "R3")
    answer = client.post(f"/officer/review/{item}/decide", data={
        "action": "defer", "note": "call the citizen", "version": version, "csrf_token": token})
    assert answer.status_code == 409
    with web_store.transaction() as session:
        assert session.scalar(select(Decision).where(Decision.item_id == item)) is None


def test_deciding_without_the_csrf_token_is_refused(client: TestClient,
                                                    web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    item = item_of(web_store, "R3")
    answer = client.post(f"/officer/review/{item}/decide",
                         data={"action": "accept:1", "note": "x", "csrf_token": "forged"})
    assert answer.status_code == 403
    api = client.post(f"/api/v1/review/items/{item}/decision",
                      json={"action": "accept", "rank": 1, "note": "x"})
    assert api.status_code == 403


def test_the_api_decides_with_a_bearer_token(client: TestClient, web_store: Store) -> None:
    from vaxtrust.web.sessions import create_session

    token = create_session(web_store, minutes=5, username="hcm").token
    client.cookies.clear()
    item = item_of(web_store, "R6")
    answer = client.post(f"/api/v1/review/items/{item}/decision",
                         headers={"Authorization": f"Bearer {token}"},
                         json={"action": "reject_all", "note": "not this person"})
    assert answer.status_code == 200
    assert answer.json()["kind"] == "reject_all" and answer.json()["next_item_id"] is None


def test_queue_filters_by_reason(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "minh")
    everything = client.get("/officer/review")
    assert "R3" in everything.text and "R6" in everything.text
    filtered = client.get("/officer/review?reason=dob_year_typo")
    assert "R3" in filtered.text and ">R6<" not in filtered.text


def test_queue_filters_by_facility(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "minh")
    hcm = client.get("/officer/review?facility=HCM-01")
    assert ">R6<" in hcm.text and ">R3<" not in hcm.text
    hanoi = client.get("/api/v1/review/items?facility=HN-01").json()
    assert "R3" in str(hanoi) and "R6" not in str(hanoi)


def test_queue_filters_by_how_long_items_wait(client: TestClient, web_store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from vaxtrust.web.sessions import store_time

    with web_store.transaction() as session:       # R3 has waited 40 days, R6 since today
        item = session.get(ReviewItem, item_of(web_store, "R3"))
        assert item is not None
        item.created_at = store_time(datetime.now(UTC) - timedelta(days=40))
    sign_in_as(client, web_store, "minh")
    for days, shown in ((0, {"R3", "R6"}), (7, {"R3"}), (30, {"R3"})):
        page = client.get(f"/officer/review?older_than_days={days}")
        assert {r for r in ("R3", "R6") if f">{r}<" in page.text} == shown, days
        api = client.get(f"/api/v1/review/items?older_than_days={days}").json()
        assert {i["record_id"] for i in api["items"]} == shown, days
    assert client.get("/officer/review?older_than_days=-1").status_code == 422
    assert client.get("/officer/review?page_number=99999999999999999999").status_code == 422


def test_record_page_shows_history_audit_doses_and_person(client: TestClient,
                                                          web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    page = client.get("/officer/records/R2")
    assert page.status_code == 200
    assert "Tran Thi Binh" in page.text and "Trần Thị Bình" in page.text   # original, corrected
    assert "/officer/persons/001085000002" in page.text
    person = client.get("/officer/persons/001085000002")
    assert person.status_code == 200 and "R2" in person.text


def test_dashboard_counts_the_scope(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "hcm")
    data = client.get("/api/v1/dashboard").json()
    assert data["records_by_status"] == {"unmatched": 1, "verified": 1, "review": 1}
    assert data["review_backlog"] == 1
    page = client.get("/officer")
    assert page.status_code == 200 and "<svg" in page.text


def _resign(store: Store, person_id: str) -> None:
    """The signer's round for a person whose record changed: queue, claim, reserve, confirm."""
    from datetime import UTC, datetime, timedelta

    from vaxtrust.signing import queue as signing
    from vaxtrust.store.scope import load_actor

    now = datetime.now(UTC)
    with store.transaction() as session:
        minh = load_actor(session, "minh")
        session.execute(update(SigningTask).where(SigningTask.person_id == person_id)
                        .values(state="done"))    # the fixture's signing of the first one
        assert signing.queue_person(session, person_id, "record_changed") is not None
        [task] = [task for task in signing.claim_next(session, minh, 100, worker="w",
                                                      journal_id="j2")
                  if task.person_id == person_id]
        assert task.action == "revoke_and_reissue"
        signing.reserve(session, minh, "j2", signing.Reservation(
            "URN:UVCI:01:VN:RESIGNED", person_id, "f", "national", b"", now,
            now + timedelta(days=365)))
        assert signing.confirm_issued(session, minh, "URN:UVCI:01:VN:RESIGNED", journal_id="j2",
                                      signature=b"", previous_reason="record_changed")
        signing.mark_done(session, minh, task.id)


@pytest.mark.parametrize(("officer", "seen"), [("minh", 1), ("hanoi", 1), ("hcm", 0)])
def test_dashboard_counts_certificates_in_the_scope(client: TestClient, web_store: Store,
                                                    officer: str, seen: int) -> None:
    """An (Hà Nội) was signed, then re-signed after a change: one person signed, one certificate
    revoked, one re-issued, counted for the ministry and Hà Nội, not for Hồ Chí Minh City."""
    _resign(web_store, AN)
    sign_in_as(client, web_store, officer)
    data = client.get("/api/v1/dashboard").json()
    assert (data["people_signed"], data["certificates_revoked"],
            data["certificates_reissued"]) == (seen, seen, seen)


def test_signing_page_lists_the_queue(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "minh")
    page = client.get("/officer/signing")
    assert page.status_code == 200
    assert re.search(r"Waiting \(\d+\)", page.text)


def test_users_page_creates_a_user(client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "minh")
    answer = client.post("/officer/users", data={
        "username": "hn03", "role": "facility", "facility_id": "HN-03",
        "province_code": "01", "csrf_token": token})
    assert answer.status_code == 200 and "User created:" in answer.text
    bad = client.post("/officer/users", data={"username": "x y", "role": "facility",
                                              "csrf_token": token})
    assert bad.status_code == 400 and "username" in bad.text


def test_logout_ends_the_session_on_the_server(client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "minh")
    copied = client.cookies.get("vt_session")
    assert client.get("/officer").status_code == 200
    client.post("/officer/logout", data={"csrf_token": token})
    client.cookies.set("vt_session", copied or "")
    assert client.get("/officer", follow_redirects=False).status_code == 303


def test_a_forged_logout_leaves_the_session(client: TestClient, web_store: Store) -> None:
    """Another site cannot sign an officer out: the form must carry the page's token."""
    sign_in_as(client, web_store, "minh")
    forged = client.post("/officer/logout", data={"csrf_token": "forged"},
                         follow_redirects=False)
    assert forged.status_code == 403
    assert client.get("/officer", follow_redirects=False).status_code == 200


PASSWORD = "mật khẩu đủ dài cho thử nghiệm"


def with_password(store: Store, username: str) -> None:
    from vaxtrust.store.scope import load_actor
    from vaxtrust.store.users import set_password

    with store.transaction() as session:
        set_password(session, by=load_actor(session, "minh"), username=username,
                     password=PASSWORD)


def login(client: TestClient, username: str, password: str) -> object:
    from tests.web.fixtures import csrf_of

    return client.post("/officer/login", follow_redirects=False, data={
        "username": username, "password": password, "next": "/officer/review",
        "csrf_token": csrf_of(client)})


def test_an_officer_signs_in_with_the_password_and_the_login_is_audited(
        client: TestClient, web_store: Store) -> None:
    with_password(web_store, "hanoi")
    answer = login(client, "hanoi", PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/officer/review"
    assert client.get("/officer/review").status_code == 200
    with web_store.transaction() as session:
        kinds = list(session.scalars(select(AuditEventRow.event_type).where(
            AuditEventRow.actor == "hanoi")))
    assert "login_succeeded" in kinds


def test_wrong_passwords_give_one_answer_and_lock_the_account(client: TestClient,
                                                              web_store: Store) -> None:
    with_password(web_store, "hanoi")
    unknown = login(client, "nobody", PASSWORD)
    wrong = login(client, "hanoi", "not the password at all")
    assert unknown.status_code == wrong.status_code == 401
    assert "Sign-in failed" in wrong.text and "vt_session" not in wrong.headers.get(
        "set-cookie", "")
    for _ in range(5):
        login(client, "hanoi", "not the password at all")
    assert login(client, "hanoi", PASSWORD).status_code == 401      # locked out for a while
    with web_store.transaction() as session:
        failed = [json.loads(payload) for payload in session.scalars(
            select(AuditEventRow.payload).where(AuditEventRow.event_type == "login_failed")
            .order_by(AuditEventRow.seq))]
    assert len(failed) >= 7
    # the reason is in the audit trail only: the last attempts met the lock-out
    assert failed[0]["reason"] == "unknown_user" and failed[1]["reason"] == "bad_password"
    assert failed[-1]["reason"] == "locked" and failed[-1]["client"].startswith("web:")


def test_the_login_goes_only_to_pages_of_this_site(client: TestClient,
                                                   web_store: Store) -> None:
    from tests.web.fixtures import csrf_of

    with_password(web_store, "hanoi")
    answer = client.post("/officer/login", follow_redirects=False, data={
        "username": "hanoi", "password": PASSWORD, "next": "//evil.example/",
        "csrf_token": csrf_of(client)})
    assert answer.headers["location"] == "/officer"


def test_the_api_signs_in_and_out(client: TestClient, web_store: Store) -> None:
    with_password(web_store, "hcm")
    client.cookies.clear()
    assert client.post("/api/v1/session", json={"username": "hcm",
                                                "password": "wrong password!!"}).status_code == 401
    session = client.post("/api/v1/session", json={"username": "hcm", "password": PASSWORD})
    assert session.status_code == 200
    headers = {"Authorization": f"Bearer {session.json()['token']}"}
    assert client.get("/api/v1/me", headers=headers).json() == {
        "username": "hcm", "role": "province", "scope": "79"}
    assert client.delete("/api/v1/session", headers=headers).status_code == 204
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_the_queue_total_is_reused_for_seconds_only() -> None:
    from vaxtrust.web.views import RecentCounts

    now = [100.0]
    counts = RecentCounts(seconds=10, clock=lambda: now[0])
    assert counts.get(("minh",)) is None
    counts.put(("minh",), 80_000)
    assert counts.get(("minh",)) == 80_000 and counts.get(("hanoi",)) is None
    now[0] += 10.5
    assert counts.get(("minh",)) is None
