"""Issue 15's pages and API: a citizen files a complaint (with the photo) and follows it; an
officer works the inbox, reads the claim beside the record and the register, and resolves,
refuses, assigns or escalates it through the app's operations; bad input stores nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.store.conftest import snapshot
from tests.web.fixtures import AN, BINH, Filed, file_complaints, photo, sign_in_as
from vaxtrust.complaints.grounds import GROUNDS
from vaxtrust.complaints.model import CATEGORY_TEXT
from vaxtrust.config import Settings
from vaxtrust.store.db import Store
from vaxtrust.store.tables import (
    COMPLAINT_STATES,
    Complaint,
    ComplaintAttachment,
    Decision,
    VaccinationRecord,
)
from vaxtrust.web import create_app, i18n, labels
from vaxtrust.web.app import LANG_COOKIE
from vaxtrust.web.deps import CITIZEN_COOKIE
from vaxtrust.web.sessions import create_session

FORM = {"full_name": "Nguyễn Văn An", "dob": "03/02/1990", "phone": "0912345678",
        "id_number": AN, "category": "missing_dose", "vaccine": "pfizer",
        "vaccinated_on": "06/10/2021", "dose_number": "2", "facility_id": "HN-01",
        "address": "Số 1 Phố Huế, Hà Nội", "description": "Thiếu mũi 2"}


def as_citizen(client: TestClient, store: Store, person_id: str = AN) -> str:
    info = create_session(store, minutes=30, person_id=person_id)
    client.cookies.set(CITIZEN_COOKIE, info.token)
    return info.csrf_token


def complaints(store: Store) -> list[Complaint]:
    with store.transaction() as session:
        rows = list(session.scalars(select(Complaint).order_by(Complaint.id)))
        session.expunge_all()
        return rows


def attachments_on_disk(settings: Settings) -> list[Path]:
    folder = settings.complaints.attachments_dir
    return sorted(folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def filed(web_store: Store, settings: Settings) -> Filed:
    return file_complaints(web_store, settings)


# ---------------------------------------------------------------- citizens

def test_a_citizen_files_a_complaint_with_a_photo_and_sees_it_received(
        client: TestClient, web_store: Store, settings: Settings, codes_file: Path) -> None:
    token = as_citizen(client, web_store)
    form = client.get("/citizen/complaints")
    assert form.status_code == 200
    assert 'value="Nguyễn Văn An"' in form.text and f'value="{AN}"' in form.text  # prefilled
    answer = client.post("/citizen/complaints", data={**FORM, "csrf_token": token},
                         files={"attachment": ("giay-xac-nhan.jpg", photo(kind="JPEG"),
                                               "image/jpeg")}, follow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    (row,) = complaints(web_store)
    assert answer.headers["location"] == f"/citizen/complaints?filed={row.id}#mine"
    assert (row.channel, row.filed_by, row.person_id, row.category, row.vaccine,
            row.dose_number, row.vaccinated_on, row.state) == (
        "web", f"citizen:{AN}", AN, "missing_dose", "pfizer", 2, "2021-10-06", "received")
    with web_store.transaction() as session:
        (stored,) = session.scalars(select(ComplaintAttachment))
        assert stored.complaint_id == row.id and stored.content_type == "image/jpeg"
    assert [p.name for p in attachments_on_disk(settings) if p.is_file()] == [stored.sha256]
    status = client.get(answer.headers["location"])
    assert "Your complaint has been received" in status.text
    assert f"<td>{row.id}</td>" in status.text and "Received" in status.text
    assert row.deadline_at[:10] in status.text
    # the citizen is told through the one-time code's sender
    assert f"phản ánh số {row.id}" in codes_file.read_text(encoding="utf-8")


@pytest.mark.parametrize(("changes", "upload", "field", "message"), [
    ({}, ("notes.txt", b"not a photo at all", "image/jpeg"), "attachment",
     "Tệp đính kèm không phải là ảnh (JPEG, PNG hoặc WebP)"),
    ({"phone": "+1 415 555 0100"}, None, "phone",
     "Số điện thoại không phải số Việt Nam (ví dụ 0912345678)"),
    ({"id_number": "12-34"}, None, "id_number", "Số CCCD/CMND không hợp lệ"),
    ({"vaccinated_on": "01/01/2099"}, None, "vaccinated_on", "Ngày tiêm ở tương lai"),
    ({"full_name": ""}, None, "full_name", "Thiếu một giá trị bắt buộc"),
])
def test_bad_input_is_named_in_vietnamese_and_nothing_is_stored(
        client: TestClient, web_store: Store, settings: Settings,
        changes: dict[str, str], upload: tuple[str, bytes, str] | None, field: str,
        message: str) -> None:
    client.cookies.set(LANG_COOKIE, "vi")
    token = as_citizen(client, web_store)
    before = snapshot(web_store)
    answer = client.post("/citizen/complaints", data={**FORM, **changes, "csrf_token": token},
                         files={"attachment": upload} if upload else {"attachment": ("", b"")})
    assert answer.status_code == 400
    assert message in answer.text and 'role="alert"' in answer.text
    assert f'id="c-{field}"' in answer.text and f'aria-describedby="{field}-problem"' in \
        answer.text
    assert "Phản ánh chưa được lưu" in answer.text
    if "address" not in changes:
        assert "Số 1 Phố Huế, Hà Nội" in answer.text      # what was typed is kept
    after = snapshot(web_store)
    assert after["complaint"] == before["complaint"] == []
    assert after["complaint_attachment"] == [] and attachments_on_disk(settings) == []


@pytest.mark.parametrize("other_id", [BINH, "079090000123"])   # in the register, or not
def test_a_citizen_cannot_complain_about_another_persons_id(
        client: TestClient, web_store: Store, settings: Settings, other_id: str) -> None:
    client.cookies.set(LANG_COOKIE, "vi")
    token = as_citizen(client, web_store)     # the one-time code proved AN
    before = snapshot(web_store)
    answer = client.post("/citizen/complaints", data={**FORM, "id_number": other_id,
                                                      "csrf_token": token},
                         files={"attachment": ("p.png", photo(), "image/png")})
    assert answer.status_code == 400
    assert "Số CCCD/CMND phải là số của chính bạn" in answer.text
    assert 'aria-describedby="id_number-problem"' in answer.text
    after = snapshot(web_store)
    assert after["complaint"] == before["complaint"] == []
    assert after["complaint_attachment"] == [] and attachments_on_disk(settings) == []
    # the same through the API; the citizen's own ID, written with spaces, is theirs
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {create_session(web_store, minutes=30, person_id=AN).token}"}
    refused = client.post("/api/v1/citizen/complaints", headers=bearer,
                          data={**FORM, "id_number": other_id})
    assert refused.status_code == 400 and refused.json()["errors"] == [
        "id_number: Số CCCD/CMND phải là số của chính bạn, đã được xác thực bằng mã một lần"]
    own = client.post("/api/v1/citizen/complaints", headers=bearer,
                      data={**FORM, "id_number": f"{AN[:3]} {AN[3:6]} {AN[6:]}"})
    assert own.status_code == 201, own.text
    assert [row.id_number for row in complaints(web_store)] == [AN]


def test_a_citizen_files_several_doses_on_one_form_each_settled_on_its_own(
        client: TestClient, web_store: Store, settings: Settings) -> None:
    client.cookies.set(LANG_COOKIE, "vi")
    token = as_citizen(client, web_store)
    form = client.get("/citizen/complaints").text
    assert 'name="vaccinated_on_2"' in form and "mũi thứ 2 của phản ánh này" in form
    second = {"vaccine_2": "pfizer", "vaccinated_on_2": "05/11/2021", "dose_number_2": "3",
              "facility_id_2": "HN-02"}
    bad = client.post("/citizen/complaints", data={
        **FORM, **second, "vaccinated_on_2": "01/01/2099", "csrf_token": token})
    assert bad.status_code == 400 and 'id="c-vaccinated_on_2"' in bad.text
    assert "Ngày tiêm ở tương lai" in bad.text and complaints(web_store) == []
    answer = client.post("/citizen/complaints", data={**FORM, **second, "csrf_token": token},
                         files={"attachment": ("p.png", photo(), "image/png")},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text[:500]
    first, other = complaints(web_store)
    assert answer.headers["location"] == f"/citizen/complaints?filed={first.id}#mine"
    assert (first.filing_id, other.filing_id) == (first.id, first.id)
    assert [(c.dose_number, c.vaccinated_on, c.claimed_facility_id) for c in (first, other)] \
        == [(2, "2021-10-06", "HN-01"), (3, "2021-11-05", "HN-02")]
    with web_store.transaction() as session:   # the photo goes with each dose
        assert sorted(session.scalars(select(ComplaintAttachment.complaint_id))) == [
            first.id, other.id]


def test_every_problem_comes_back_at_once(client: TestClient, web_store: Store) -> None:
    token = as_citizen(client, web_store)
    answer = client.post("/citizen/complaints", data={
        **FORM, "phone": "12", "vaccinated_on": "01/01/2099", "csrf_token": token},
        files={"attachment": ("x.png", b"GIF89a....", "image/png")})
    assert answer.status_code == 400
    for text in ("not a Vietnamese number", "in the future", "not an image"):
        assert text in answer.text
    assert complaints(web_store) == []


@pytest.fixture
def small_limit_client(web_store: Store, settings: Settings) -> TestClient:
    limited = settings.model_copy(update={"complaints": settings.complaints.model_copy(
        update={"max_attachment_bytes": 10_000})})
    client = TestClient(create_app(limited, store=web_store), raise_server_exceptions=False)
    client.cookies.set(LANG_COOKIE, "vi")
    return client


@pytest.mark.parametrize("size", [(100, 100), (250, 250)])
def test_a_photo_too_large_is_refused_with_the_message_whether_read_or_not(
        small_limit_client: TestClient, web_store: Store, settings: Settings,
        size: tuple[int, int]) -> None:
    # 30 kB: read and refused by the attachment check; 190 kB: beyond the limit and the form's
    # margin, so the body is not read at all
    with small_limit_client as client:
        token = as_citizen(client, web_store)
        answer = client.post("/citizen/complaints", data={**FORM, "csrf_token": token},
                             files={"attachment": ("big.png", photo(size, noise=True),
                                                   "image/png")})
    assert answer.status_code == 400
    assert "Tệp đính kèm quá lớn" in answer.text
    assert complaints(web_store) == [] and attachments_on_disk(settings) == []


def test_filing_needs_the_citizen_session_and_the_form_token(
        client: TestClient, web_store: Store) -> None:
    anonymous = client.post("/citizen/complaints", data=FORM, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/citizen"
    assert client.get("/citizen/complaints", follow_redirects=False).status_code == 303
    as_citizen(client, web_store)
    forged = client.post("/citizen/complaints", data=FORM)
    wrong = client.post("/citizen/complaints", data={**FORM, "csrf_token": "x" * 43})
    assert forged.status_code == wrong.status_code == 403
    assert complaints(web_store) == []


def test_the_citizen_sees_only_their_own_complaints_and_the_outcome(
        client: TestClient, web_store: Store, filed: Filed) -> None:
    from vaxtrust.app import complaints as app

    with web_store.transaction() as session:
        from vaxtrust.store.scope import load_actor
        minh = load_actor(session, "minh")
    app.refuse(web_store, minh, filed.hanoi, ground="photo_unreadable", note="Ảnh bị mờ")
    as_citizen(client, web_store, "001170000003")        # Lê Thị Cúc
    page = client.get("/citizen/complaints")
    assert f"<td>{filed.hanoi}</td>" in page.text and f"<td>{filed.hcm}</td>" not in page.text
    assert "Refused" in page.text and "The photo is blurred and unreadable" in page.text
    assert "Ảnh bị mờ" in page.text
    api = client.get("/api/v1/citizen/complaints").json()["complaints"]
    assert [(c["id"], c["state"], c["refusal_ground"]) for c in api] == [
        (filed.hanoi, "refused", "photo_unreadable")]
    as_citizen(client, web_store, "079095000004")        # Phạm Văn Dũng
    other = client.get("/api/v1/citizen/complaints").json()["complaints"]
    assert [c["id"] for c in other] == [filed.hcm]


def test_a_citizen_files_through_the_api(client: TestClient, web_store: Store) -> None:
    client.cookies.clear()
    token = create_session(web_store, minutes=30, person_id=AN).token
    bearer = {"Authorization": f"Bearer {token}"}
    bad = client.post("/api/v1/citizen/complaints", headers=bearer,
                      data={**FORM, "phone": "+44 20 7946 0000"})
    assert bad.status_code == 400
    body = bad.json()
    assert body["ok"] is False and body["errors"] == [       # Vietnamese first
        "phone: Số điện thoại không phải số Việt Nam (ví dụ 0912345678)"]
    good = client.post("/api/v1/citizen/complaints", headers=bearer, data=FORM,
                       files={"attachment": ("p.png", photo(), "image/png")})
    assert good.status_code == 201, good.text
    assert [row.id for row in complaints(web_store)] == [good.json()["complaint_id"]]
    assert client.post("/api/v1/citizen/complaints", data=FORM).status_code == 401


# ---------------------------------------------------------------- officers

def test_the_inbox_lists_by_deadline_and_pages_by_keyset(
        client: TestClient, web_store: Store, settings: Settings) -> None:
    first = file_complaints(web_store, settings)
    second = file_complaints(web_store, settings)
    sign_in_as(client, web_store, "minh")
    page = client.get("/officer/complaints")
    assert page.status_code == 200
    order = [first.hanoi, first.hcm, second.hanoi, second.hcm]
    positions = [page.text.index(f'href="/officer/complaints/{n}"') for n in order]
    assert positions == sorted(positions)
    seen, cursor = [], None
    while True:
        answer = client.get("/api/v1/complaints", params={"limit": 3, **(
            {"after": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in answer["items"]]
        cursor = answer["next_cursor"]
        if cursor is None:
            break
    assert seen == order
    paged = client.get("/officer/complaints", params={"after": client.get(
        "/api/v1/complaints", params={"limit": 2}).json()["next_cursor"]})
    assert f'href="/officer/complaints/{second.hanoi}"' in paged.text
    assert f'href="/officer/complaints/{first.hanoi}"' not in paged.text
    assert client.get("/officer/complaints?after=nonsense").status_code == 400


def test_the_inbox_filters_by_facility_state_and_overdue(
        client: TestClient, web_store: Store, filed: Filed) -> None:
    sign_in_as(client, web_store, "minh")

    def listed(**params: str) -> list[int]:
        items = client.get("/api/v1/complaints", params=params).json()["items"]
        return [item["id"] for item in items]

    assert listed(facility="HCM-01") == [filed.hcm]
    assert listed(state="resolved") == [] and listed(overdue="true") == []
    with web_store.transaction() as session:
        session.get(Complaint, filed.hcm).deadline_at = "2021-01-01T00:00:00.000000Z"
    assert listed(overdue="true") == [filed.hcm]
    page = client.get("/officer/complaints?overdue=1")
    assert f"/officer/complaints/{filed.hcm}" in page.text and "Overdue" in page.text
    assert f"/officer/complaints/{filed.hanoi}\"" not in page.text
    board = client.get("/officer")
    assert "complaints open" in board.text and "/officer/complaints?overdue=1" in board.text
    assert client.get("/api/v1/dashboard").json()["complaints_overdue"] == 1


def test_the_complaint_page_shows_the_claim_beside_the_record_and_the_register(
        client: TestClient, web_store: Store, filed: Filed) -> None:
    sign_in_as(client, web_store, "hn01")
    page = client.get(f"/officer/complaints/{filed.hanoi}")
    assert page.status_code == 200
    text = page.text
    assert "Link record R3 to this person" in text               # the triage proposal
    assert 'href="/officer/records/R3"' in text and 'href="/officer/persons/001170000003"' in text
    assert "Differs from the claim" in text                      # R3's year of birth typo
    assert f'src="/officer/complaints/{filed.hanoi}/attachments/{filed.sha256}"' in text
    for ground in GROUNDS:
        assert f'value="{ground.code}"' in text
    for form in ("resolve", "refuse", "assign", "escalate"):
        assert f'action="/officer/complaints/{filed.hanoi}/{form}"' in text
    shown = client.get(f"/api/v1/complaints/{filed.hanoi}").json()
    assert shown["proposal"]["kind"] == "link_record" and shown["record"]["record_id"] == "R3"
    assert shown["register"]["full_name"] == "Lê Thị Cúc"


def test_resolving_on_the_page_links_the_record_through_the_review_decision(
        client: TestClient, web_store: Store, filed: Filed, codes_file: Path) -> None:
    token = sign_in_as(client, web_store, "hn01")
    answer = client.post(f"/officer/complaints/{filed.hanoi}/resolve",
                         data={"note": "Đã đối chiếu giấy xác nhận", "csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/officer/complaints?settled={filed.hanoi}"
    with web_store.transaction() as session:
        row = session.get(Complaint, filed.hanoi)
        record = session.get(VaccinationRecord, "R3")
        assert row is not None and record is not None
        assert (row.state, row.record_id) == ("resolved", "R3") and row.decision_id
        decision = session.get(Decision, row.decision_id)
        assert decision is not None and record.person_id == "001170000003"
    assert f"Phản ánh số {filed.hanoi}" in codes_file.read_text(encoding="utf-8")
    again = client.post(f"/officer/complaints/{filed.hanoi}/refuse",
                        data={"ground": "8", "note": "x", "csrf_token": token})
    assert again.status_code == 400 and "resolved already" in again.text


def test_refusing_needs_a_ground_and_a_note(client: TestClient, web_store: Store,
                                            filed: Filed) -> None:
    token = sign_in_as(client, web_store, "hcm01")
    before = complaints(web_store)
    for data in ({"ground": "photo_unreadable", "note": ""}, {"ground": "no_such", "note": "n"}):
        answer = client.post(f"/officer/complaints/{filed.hcm}/refuse",
                             data={**data, "csrf_token": token})
        assert answer.status_code == 400 and 'role="alert"' in answer.text
    assert [(r.id, r.state, r.version) for r in complaints(web_store)] == \
        [(r.id, r.state, r.version) for r in before]
    done = client.post(f"/api/v1/complaints/{filed.hcm}/refuse", headers={"X-CSRF-Token": token},
                       json={"ground": "photo_unreadable", "note": "Ảnh mờ"})
    assert done.status_code == 200 and done.json()["state"] == "refused"


def test_assign_with_reason_and_escalate(client: TestClient, web_store: Store,
                                         filed: Filed) -> None:
    token = sign_in_as(client, web_store, "hanoi")
    taken = client.post(f"/officer/complaints/{filed.hanoi}/assign",
                        data={"assignee": "hn01", "csrf_token": token}, follow_redirects=False)
    assert taken.status_code == 303
    again = client.post(f"/officer/complaints/{filed.hanoi}/assign",
                        data={"facility_id": "HN-02", "csrf_token": token})
    assert again.status_code == 400 and "needs a --reason" in again.text
    moved = client.post(f"/api/v1/complaints/{filed.hanoi}/assign",
                        headers={"X-CSRF-Token": token},
                        json={"facility_id": "HN-02", "reason": "Tiêm tại HN-02"})
    assert moved.status_code == 200 and moved.json()["facility_id"] == "HN-02"
    outside = client.post(f"/api/v1/complaints/{filed.hanoi}/assign",
                          headers={"X-CSRF-Token": token},
                          json={"facility_id": "HCM-01", "reason": "x"})
    assert outside.status_code == 404
    stale = client.post(f"/officer/complaints/{filed.hanoi}/escalate",
                        data={"reason": "quá hạn", "version": "1", "csrf_token": token})
    assert stale.status_code == 409
    escalated = client.post(f"/officer/complaints/{filed.hanoi}/escalate",
                            data={"reason": "quá hạn", "csrf_token": token},
                            follow_redirects=False)
    assert escalated.status_code == 303
    assert complaints(web_store)[0].state == "escalated"


def test_every_complaint_post_needs_the_form_token(client: TestClient, web_store: Store,
                                                   filed: Filed) -> None:
    sign_in_as(client, web_store, "minh")
    before = snapshot(web_store)["complaint"]
    for action, data in (("resolve", {"note": "n"}), ("refuse", {"ground": "8", "note": "n"}),
                         ("assign", {"reason": "r"}), ("escalate", {"reason": "r"})):
        page = client.post(f"/officer/complaints/{filed.hanoi}/{action}", data=data)
        api = client.post(f"/api/v1/complaints/{filed.hanoi}/{action}", json=data)
        assert page.status_code == api.status_code == 403, action
    assert snapshot(web_store)["complaint"] == before


def test_the_photo_is_served_with_the_complaints_authorisation_only(
        client: TestClient, web_store: Store, filed: Filed) -> None:
    path = f"/officer/complaints/{filed.hanoi}/attachments/{filed.sha256}"
    assert client.get(path, follow_redirects=False).status_code == 303
    assert client.get("/api/v1" + path.removeprefix("/officer")).status_code == 401
    as_citizen(client, web_store, "001170000003")
    assert client.get(path, follow_redirects=False).status_code == 303   # not an officer
    sign_in_as(client, web_store, "hcm01")
    assert client.get(path).status_code == 404
    sign_in_as(client, web_store, "hn01")
    for url in (path, "/api/v1" + path.removeprefix("/officer")):
        answer = client.get(url)
        assert answer.status_code == 200 and answer.content.startswith(b"\x89PNG")
        assert answer.headers["content-type"] == "image/png"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-disposition"].startswith('inline; filename="phan-anh-')
        assert "sandbox" in answer.headers["content-security-policy"]
    assert client.get(path[:-1] + "0").status_code == 404


def test_complaint_pages_are_vietnamese_first(client: TestClient, web_store: Store,
                                              filed: Filed) -> None:
    client.cookies.set(LANG_COOKIE, "vi")
    sign_in_as(client, web_store, "minh")
    inbox = client.get("/officer/complaints").text
    assert "Phản ánh" in inbox and "Thiếu mũi tiêm" in inbox and "Đã tiếp nhận" in inbox
    page = client.get(f"/officer/complaints/{filed.hanoi}").text
    assert "Gắn bản ghi R3 cho người này" in page and "Ảnh bị mờ, không đọc được" in page


def test_every_complaint_code_has_a_label_in_both_languages() -> None:
    kinds = {"state": COMPLAINT_STATES, "category": tuple(CATEGORY_TEXT),
             "ground": tuple(g.code for g in GROUNDS)}
    english = {g.code: g.en for g in GROUNDS} | {k: v[1] for k, v in CATEGORY_TEXT.items()}
    for kind, codes in kinds.items():
        for code in codes:
            i18n.set_language("en")
            en = labels.complaint_label(kind, code)
            i18n.set_language("vi")
            vi = labels.complaint_label(kind, code)
            assert en != code and vi not in ("", en, code), (kind, code)
            assert english.get(code, en) == en
    i18n.set_language("vi")
    assert [labels.complaint_label("ground", g.code) for g in GROUNDS] == [g.vi for g in GROUNDS]
    assert labels.complaint_label("state", "escalated") == "Đã chuyển Sở Y tế / CDC tỉnh"


def test_the_deadline_is_48_hours_from_filing(client: TestClient, web_store: Store) -> None:
    token = as_citizen(client, web_store)
    before = dt.datetime.now(dt.UTC)
    client.post("/citizen/complaints", data={**FORM, "csrf_token": token})
    (row,) = complaints(web_store)
    deadline = dt.datetime.fromisoformat(row.deadline_at.replace("Z", "+00:00"))
    assert dt.timedelta(hours=47, minutes=59) < deadline - before < dt.timedelta(hours=48,
                                                                                   minutes=1)
    with web_store.transaction() as session:
        assert session.scalar(select(func.count()).select_from(ComplaintAttachment)) == 0


def _complaint_routes() -> list[tuple[str, str]]:
    """Every page and API route with a complaint id in its path (method, path template)."""
    from vaxtrust.web.app import API_PREFIX
    from vaxtrust.web.routes import complaints as pages
    from vaxtrust.web.routes import complaints_api

    found = [(method, prefix + route.path)
             for prefix, router in (("", pages.router), (API_PREFIX, complaints_api.router))
             for route in router.routes if isinstance(route, APIRoute)
             and "{complaint_id}" in route.path for method in sorted(route.methods)]
    assert len(found) == 12, found   # the page, its 4 actions, the photo; the API's 6
    return found


@pytest.mark.parametrize("huge", [str(2**63 + 5), str(2**31), "9" * 65, "0", "-1"])
def test_every_complaint_route_refuses_an_id_past_the_stores_keys(
        client: TestClient, web_store: Store, filed: Filed, huge: str) -> None:
    """An id past 2^63 (SQLite's integers) or past the store's 4-byte keys is a 404 or a 422
    on every complaint page and API route, never a server error; nothing changes."""
    token = sign_in_as(client, web_store, "minh")
    before = snapshot(web_store)["complaint"]
    for method, template in _complaint_routes():
        path = template.replace("{complaint_id}", huge).replace("{sha256}", filed.sha256)
        answer = client.request(method, path, data={"csrf_token": token, "note": "n",
                                                    "reason": "r", "ground": "8"},
                                headers={"X-CSRF-Token": token})
        assert answer.status_code in (404, 422), (method, path, answer.status_code)
    assert snapshot(web_store)["complaint"] == before


@pytest.mark.parametrize("version", [str(2**63 + 5), "9" * 65, "¹", "abc"])
def test_a_version_no_page_gave_is_a_conflict_not_a_failure(
        client: TestClient, web_store: Store, filed: Filed, version: str) -> None:
    token = sign_in_as(client, web_store, "minh")
    before = snapshot(web_store)["complaint"]
    answer = client.post(f"/officer/complaints/{filed.hanoi}/escalate",
                         data={"reason": "quá hạn", "version": version, "csrf_token": token})
    assert answer.status_code == 409
    assert snapshot(web_store)["complaint"] == before


@pytest.mark.parametrize("cursor", [f"2022-01-01|{2**63 + 5}", "2022-01-01|¹",
                                    f"x|{'9' * 65}"])
def test_an_inbox_cursor_past_the_stores_keys_is_refused(
        client: TestClient, web_store: Store, filed: Filed, cursor: str) -> None:
    sign_in_as(client, web_store, "minh")
    assert client.get("/officer/complaints", params={"after": cursor}).status_code == 400
    assert client.get("/api/v1/complaints", params={"after": cursor}).status_code in (400, 422)
