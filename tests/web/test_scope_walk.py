"""Every officer route and API route, as every role, against the two-province store: each
answers exactly as the store's scope allows, and no page shows the other province."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.store.test_scope import EXPECTED_RECORDS
from tests.web.fixtures import Filed, file_complaints, sign_in_as
from vaxtrust.config import Settings
from vaxtrust.store.db import Store
from vaxtrust.store.tables import ReviewItem
from vaxtrust.web.routes.reports import MEDIA

PERSONS = {"an": "001090000001", "binh": "001085000002", "cuc": "001170000003",
           "dung": "079095000004", "em": "079188000005", "phuc": "079092000006"}
VISIBLE_PERSONS = {
    "minh": set(PERSONS.values()) - {PERSONS["phuc"]},     # Phúc: no record, not in the store
    "hanoi": {PERSONS["an"], PERSONS["binh"], PERSONS["cuc"]},
    "hn01": {PERSONS["an"], PERSONS["binh"]},
    "hn02": {PERSONS["cuc"]},
    "hcm": {PERSONS["dung"]},
    "hcm01": {PERSONS["dung"]},
    "police4": set(), "police26734": set(),
}
REVIEWERS = {"minh", "hanoi", "hcm", "hn01", "hn02", "hcm01"}
ITEM_SCOPE = {"R3": {"minh", "hanoi", "hn01"}, "R6": {"minh", "hcm", "hcm01"}}
# Issue 15: who sees the complaint routed to HN-01 (province 01), and the one to HCM-01 (79).
COMPLAINT_SCOPE = {"01": {"minh", "hanoi", "hn01"}, "79": {"minh", "hcm", "hcm01"}}
PROVINCE = {"hanoi": "01", "hn01": "01", "hn02": "01", "hcm": "79", "hcm01": "79"}
# What only the other province's pages may show (names and record ids of its records).
SHOWN_ONLY_IN = {
    "01": ["Nguyễn Văn An", "Trần Thị Bình", "Lê Thị Cúc", "R1", "R2", "R3", "R8", "hanoi",
           "hn01", "hn02"],
    "79": ["Phạm Văn Dũng", "Hoàng Thị Em", "Hoang Thi Em", "Đỗ Văn Giang", "R4", "R5", "R6",
           "hcm", "hcm01"],
}
ROLES = ["anonymous", "an", *sorted(VISIBLE_PERSONS)]


def _workbook_text(body: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets
                     for row in sheet.iter_rows(values_only=True) for cell in row
                     if cell is not None)


def _item_ids(store: Store) -> dict[str, int]:
    with store.transaction() as session:
        return {record: item for item, record in session.execute(
            select(ReviewItem.id, ReviewItem.record_id))}


def _complaint_routes(filed: Filed) -> list[tuple[str, str, dict[str, int | str]]]:
    """The inbox, each complaint and its photo, as a page and in the API."""
    routes: list[tuple[str, str, dict[str, int | str]]] = []
    for prefix in ("/officer", "/api/v1"):
        routes.append((prefix + "/complaints", "reviewer", {}))
        routes += [(prefix + "/complaints?overdue=" + ("1" if prefix == "/officer" else "true"),
                    "reviewer", {})]
        for province, number in (("01", filed.hanoi), ("79", filed.hcm)):
            routes += [(f"{prefix}/complaints/{number}{tail}", "complaint",
                        {"province": province})
                       for tail in ("", f"/attachments/{filed.sha256}")]
    return routes


def _routes(items: dict[str, int]) -> list[tuple[str, str, dict[str, int | str]]]:
    """(path, rule, parameters) of every officer page and API read."""
    routes: list[tuple[str, str, dict[str, int | str]]] = []
    for prefix in ("/officer", "/api/v1"):
        dash = "" if prefix == "/officer" else "/dashboard"
        routes += [(prefix + dash, "officer", {}),
                   (prefix + ("/review" if prefix == "/officer" else "/review/items"),
                    "reviewer", {}),
                   (prefix + ("/signing" if prefix == "/officer" else "/signing/tasks"),
                    "signer", {}),
                   (prefix + "/users", "manager", {})]
        routes += [(f"{prefix}/records/{record}", "record", {"record": record})
                   for record in ("R1", "R3", "R4", "R5", "R6", "R8")]
        routes += [(f"{prefix}/persons/{person}", "person", {"person": person})
                   for person in PERSONS.values()]
        routes += [(f"{prefix}/review/{'items/' if prefix == '/api/v1' else ''}{item}",
                    "item", {"record": record}) for record, item in items.items()]
    routes += [(path, "reviewer", {}) for path in (
        "/officer/reports", "/officer/reports?level=facility", "/officer/reports?level=commune",
        "/officer/reports?level=district", "/officer/reports/download?format=json",
        "/officer/reports/accountability", "/officer/reports/officers", "/officer/lists",
        "/api/v1/reports/progress", "/api/v1/reports/progress?level=facility",
        "/api/v1/reports/progress?level=commune&live=true", "/api/v1/reports/accountability",
        "/api/v1/reports/officers", "/api/v1/reports/progress/download?format=xlsx",
        "/api/v1/lists")]
    routes.append(("/api/v1/signing/batches", "ministry", {}))
    routes.append(("/api/v1/signing/batches/1", "ministry-missing", {}))
    routes.append(("/api/v1/records", "officer", {}))
    routes.append(("/api/v1/me", "officer", {}))
    return routes


def expected_status(role: str, path: str, rule: str, params: dict[str, int | str]) -> int:
    api = path.startswith("/api/")
    if role == "anonymous":
        return 401 if api else 303
    if role == "an":
        return 403
    allowed = {
        "officer": True,
        "reviewer": role in REVIEWERS,
        "signer": role in REVIEWERS,
        "ministry": role == "minh",
        "ministry-missing": False,
        "manager": role in ("minh", "hanoi", "hcm"),
        "record": params.get("record") in EXPECTED_RECORDS[role],
        "person": params.get("person") in VISIBLE_PERSONS[role],
        "item": role in ITEM_SCOPE.get(str(params.get("record")), set()),
        "complaint": role in COMPLAINT_SCOPE.get(str(params.get("province")), set()),
    }[rule]
    if allowed:
        return 200
    if rule == "ministry-missing":
        return 404 if role == "minh" else 403
    if rule in ("reviewer", "signer", "manager", "ministry") or (
            rule in ("item", "complaint") and role not in REVIEWERS):
        return 403
    return 404


@pytest.mark.parametrize("role", ROLES)
def test_every_route_answers_as_the_scope_allows(client: TestClient, web_store: Store,
                                                 settings: Settings, role: str) -> None:
    complaints = _complaint_routes(file_complaints(web_store, settings))
    if role != "anonymous":
        sign_in_as(client, web_store, role)
    forbidden: list[str] = []
    if role in PROVINCE:
        other = "79" if PROVINCE[role] == "01" else "01"
        forbidden = SHOWN_ONLY_IN[other]
    wrong = []
    for path, rule, params in _routes(_item_ids(web_store)) + complaints:
        answer = client.get(path, follow_redirects=False)
        expected = expected_status(role, path, rule, params)
        if answer.status_code != expected:
            wrong.append(f"{path}: {answer.status_code}, expected {expected}")
            continue
        shown = answer.text
        if answer.headers.get("content-type", "").startswith(MEDIA["xlsx"]):
            shown = _workbook_text(answer.content)      # compressed: its cells, not its bytes
        for text in forbidden:
            if text in path.split("/"):
                continue        # a refusal may repeat what was asked for, nothing more
            if re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", shown):
                wrong.append(f"{path} shows {text!r} of the other province")
    assert wrong == []


def test_a_refusal_says_no_more_than_for_an_id_nobody_has(client: TestClient,
                                                          web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    for prefix in ("/officer/records/", "/api/v1/records/"):
        other = client.get(prefix + "R4")
        nobody = client.get(prefix + "R404")
        assert other.status_code == nobody.status_code == 404
        assert other.text.replace("R4", "R404") == nobody.text


def test_an_officer_cannot_decide_an_item_of_the_other_province(
        client: TestClient, web_store: Store) -> None:
    from tests.store.conftest import snapshot

    items = _item_ids(web_store)
    token = sign_in_as(client, web_store, "hcm")
    before = {name: rows for name, rows in snapshot(web_store).items()
              if name not in ("web_session", "audit_event")}
    page = client.post(f"/officer/review/{items['R3']}/decide",
                       data={"action": "accept:1", "note": "x", "csrf_token": token})
    api = client.post(f"/api/v1/review/items/{items['R3']}/decision",
                      json={"action": "accept", "rank": 1, "note": "x"},
                      headers={"X-CSRF-Token": token})
    assert page.status_code == 404 and api.status_code == 404
    after = {name: rows for name, rows in snapshot(web_store).items()
             if name not in ("web_session", "audit_event")}
    assert after == before


def test_an_officer_cannot_act_on_a_complaint_of_the_other_province(
        client: TestClient, web_store: Store, settings: Settings) -> None:
    from tests.store.conftest import snapshot

    filed = file_complaints(web_store, settings)
    before = {name: rows for name, rows in snapshot(web_store).items()
              if name not in ("web_session", "audit_event")}
    for officer, other in (("hcm", filed.hanoi), ("hcm01", filed.hanoi), ("hanoi", filed.hcm),
                           ("hn02", filed.hanoi)):
        token = sign_in_as(client, web_store, officer)
        for action, data in (("resolve", {"note": "n"}), ("refuse", {"ground": "8", "note": "n"}),
                             ("assign", {"reason": "r"}), ("escalate", {"reason": "r"})):
            page = client.post(f"/officer/complaints/{other}/{action}",
                               data={**data, "csrf_token": token})
            api = client.post(f"/api/v1/complaints/{other}/{action}", json=data,
                              headers={"X-CSRF-Token": token})
            assert (page.status_code, api.status_code) == (404, 404), (officer, action)
            assert "Lê Thị Cúc" not in page.text + api.text
    after = {name: rows for name, rows in snapshot(web_store).items()
             if name not in ("web_session", "audit_event")}
    assert after == before


def test_a_province_officer_creates_users_of_their_province_only(
        client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "hanoi")
    answer = client.post("/api/v1/users", json={"username": "hcm-new", "role": "province",
                                                 "province_code": "79"},
                         headers={"X-CSRF-Token": token})
    assert answer.status_code == 403
    own = client.post("/api/v1/users", json={"username": "hn-new", "role": "facility",
                                              "facility_id": "HN-09"},
                      headers={"X-CSRF-Token": token})
    assert own.status_code == 201
    with web_store.transaction() as session:
        from vaxtrust.store.tables import User

        assert session.scalar(select(User).where(User.username == "hcm-new")) is None
