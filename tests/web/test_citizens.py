"""Citizen look-up: one-time code to the phone used at vaccination, nothing told about who
exists, limits per address and per ID, then the record and the certificate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Executable, update

from tests.web.fixtures import AN, BINH, csrf_of
from vaxtrust.store.db import Store
from vaxtrust.store.tables import Person, VaccinationRecord
from vaxtrust.vn import phones

RIGHT = {"id_number": AN, "dob": "1990-02-03", "phone": "0912 345 678"}


def lookup(client: TestClient, **values: str) -> str:
    """Post the look-up form; returns the challenge token of the answer."""
    import re

    page = client.post("/citizen/lookup", data={**values, "csrf_token": csrf_of(client)})
    assert page.status_code == 200, page.text
    found = re.search(r'name="challenge" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def sent_codes(codes_file: Path) -> list[tuple[str, str]]:
    if not codes_file.exists():
        return []
    return [tuple(line.split("\t")) for line in codes_file.read_text().splitlines()]  # type: ignore[misc]


def test_the_right_details_send_a_code_that_opens_the_record(
        client: TestClient, codes_file: Path) -> None:
    challenge = lookup(client, **RIGHT)
    [(phone, code)] = sent_codes(codes_file)
    assert phone == "0912345678" and len(code) == 6
    opened = client.post("/citizen/code", data={"challenge": challenge, "code": code,
                                                "csrf_token": csrf_of(client)},
                         follow_redirects=True)
    assert opened.status_code == 200
    assert "Nguyễn Văn An" in opened.text and "Verified" in opened.text
    assert "/citizen/certificate.pdf" in opened.text
    png = client.get("/citizen/certificate.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    pdf = client.get("/citizen/certificate.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]


def test_the_code_works_once(client: TestClient, codes_file: Path) -> None:
    challenge = lookup(client, **RIGHT)
    [(_, code)] = sent_codes(codes_file)
    data = {"challenge": challenge, "code": code, "csrf_token": csrf_of(client)}
    assert client.post("/citizen/code", data=data, follow_redirects=False).status_code == 303
    assert client.post("/citizen/code", data=data, follow_redirects=False).status_code == 400


@pytest.mark.parametrize("wrong", [
    {"id_number": "001090000009"},               # nobody has this ID
    {"dob": "1990-02-04"},                       # wrong date of birth
    {"phone": "0987654321"},                     # not the phone used at vaccination
])
def test_wrong_details_get_the_same_answer_and_no_code(
        client: TestClient, codes_file: Path, wrong: dict[str, str]) -> None:
    right_page = client.post("/citizen/lookup", data={**RIGHT, "csrf_token": csrf_of(client)})
    wrong_page = client.post("/citizen/lookup",
                             data={**RIGHT, **wrong, "csrf_token": csrf_of(client)})
    assert wrong_page.status_code == right_page.status_code == 200
    strip = __import__("re").compile(r'value="[^"]*"')
    assert strip.sub("", wrong_page.text) == strip.sub("", right_page.text)
    assert len(sent_codes(codes_file)) == 1      # only the right look-up sent one


def test_a_guessed_code_never_opens_a_look_up_that_matched_nobody(
        client: TestClient, codes_file: Path) -> None:
    challenge = lookup(client, **{**RIGHT, "phone": "0987654321"})
    for guess in ("000000", "123456"):
        answer = client.post("/citizen/code", data={"challenge": challenge, "code": guess,
                                                    "csrf_token": csrf_of(client)})
        assert answer.status_code == 400 and "not valid or has expired" in answer.text


def test_a_few_wrong_codes_use_the_challenge_up(client: TestClient, codes_file: Path) -> None:
    challenge = lookup(client, **RIGHT)
    [(_, code)] = sent_codes(codes_file)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        client.post("/citizen/code", data={"challenge": challenge, "code": wrong,
                                           "csrf_token": csrf_of(client)})
    late = client.post("/citizen/code", data={"challenge": challenge, "code": code,
                                              "csrf_token": csrf_of(client)})
    assert late.status_code == 400


def test_look_ups_are_limited_per_id_number(client: TestClient) -> None:
    token = csrf_of(client)
    answers = [client.post("/citizen/lookup", data={**RIGHT, "csrf_token": token}).status_code
               for _ in range(6)]
    assert answers == [200] * 5 + [429]
    other = client.post("/citizen/lookup", data={**RIGHT, "id_number": "079095000004",
                                                 "csrf_token": token})
    assert other.status_code == 200


def test_look_ups_are_limited_per_address(web_store: Store, settings: object) -> None:
    from vaxtrust.web import create_app

    web = settings.web.model_copy(update={"lookups_per_address": 2})  # type: ignore[attr-defined]
    tight = settings.model_copy(update={"web": web})  # type: ignore[attr-defined]
    with TestClient(create_app(tight, store=web_store)) as client:
        token = csrf_of(client)
        answers = [client.post("/citizen/lookup", data={
            **RIGHT, "id_number": f"00109000000{n}", "csrf_token": token}).status_code
            for n in range(3)]
    assert answers == [200, 200, 429]


def test_the_api_look_up_gives_a_token_for_the_record(client: TestClient,
                                                      codes_file: Path) -> None:
    challenge = client.post("/api/v1/citizen/lookup", json=RIGHT).json()["challenge"]
    [(_, code)] = sent_codes(codes_file)
    assert client.post("/api/v1/citizen/code",
                       json={"challenge": challenge, "code": "x"}).status_code == 400
    token = client.post("/api/v1/citizen/code",
                        json={"challenge": challenge, "code": code}).json()["token"]
    record = client.get("/api/v1/citizen/record", headers={"Authorization": f"Bearer {token}"})
    assert record.status_code == 200
    data = record.json()
    assert data["full_name"] == "Nguyễn Văn An"
    assert [r["record_id"] for r in data["records"]] == ["R1"]
    assert data["certificate"]["state"] == "issued"
    bearer = {"Authorization": f"Bearer {token}"}
    pdf = client.get("/api/v1/citizen/certificate.pdf", headers=bearer)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    png = client.get("/api/v1/citizen/certificate.png", headers=bearer)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # A citizen's token opens nothing of the officers'.
    assert client.get("/api/v1/review/items", headers=bearer).status_code == 401
    # Closing the record ends the token at once.
    assert client.delete("/api/v1/citizen/session", headers=bearer).status_code == 204
    assert client.get("/api/v1/citizen/record", headers=bearer).status_code == 401
    assert client.get("/api/v1/citizen/certificate.pdf", headers=bearer).status_code == 401


def test_without_the_code_the_record_stays_closed(client: TestClient) -> None:
    assert client.get("/citizen/record", follow_redirects=False).status_code == 303
    assert client.get("/citizen/certificate.pdf").status_code == 401
    assert client.get("/api/v1/citizen/record").status_code == 401


def test_closing_the_record_ends_the_session(client: TestClient, codes_file: Path) -> None:
    challenge = lookup(client, **RIGHT)
    [(_, code)] = sent_codes(codes_file)
    client.post("/citizen/code", data={"challenge": challenge, "code": code,
                                       "csrf_token": csrf_of(client)})
    page = client.get("/citizen/record")
    token = __import__("re").search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    client.post("/citizen/logout", data={"csrf_token": token})
    assert client.get("/citizen/record", follow_redirects=False).status_code == 303


def test_each_view_of_the_record_is_one_access_event(client: TestClient, web_store: Store,
                                                      codes_file: Path) -> None:
    from sqlalchemy import select

    from vaxtrust.store.scope import CITIZEN_PREFIX
    from vaxtrust.store.tables import AuditEventRow

    challenge = client.post("/api/v1/citizen/lookup", json=RIGHT).json()["challenge"]
    [(_, code)] = sent_codes(codes_file)
    token = client.post("/api/v1/citizen/code",
                        json={"challenge": challenge, "code": code}).json()["token"]
    for _ in range(2):
        assert client.get("/api/v1/citizen/record",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with web_store.transaction() as session:
        seen = session.execute(select(AuditEventRow.actor, AuditEventRow.subject_id).where(
            AuditEventRow.event_type == "personal_data_accessed",
            AuditEventRow.actor.startswith(CITIZEN_PREFIX))).all()
    assert [tuple(row) for row in seen] == [(f"{CITIZEN_PREFIX}{AN}", f"person:{AN}")] * 2


def _change(store: Store, statement: Executable) -> None:
    with store.transaction() as session:
        session.execute(statement)


@pytest.mark.parametrize(("stored", "asked"), [
    ("+84 912.345.678", "0912345678"),
    ("(091) 234-5678", "84912345678"),
    ("912345678", "0912 345 678"),
    ("0162 345 6789", "0323456789"),        # the 11-digit Viettel number of before 2018
    ("0323456789", "01623456789"),
])
def test_the_phone_used_at_vaccination_matches_however_either_was_typed(
        client: TestClient, web_store: Store, codes_file: Path, stored: str, asked: str) -> None:
    _change(web_store, update(VaccinationRecord).where(VaccinationRecord.person_id == AN)
            .values(original_phone=stored))
    lookup(client, **{**RIGHT, "phone": asked})
    lookup(client, **{**RIGHT, "phone": "0987654321"})
    assert [phone for phone, _ in sent_codes(codes_file)] == [phones.parse(asked).number]


def test_a_person_is_found_by_their_old_id_but_their_own_id_comes_first(
        client: TestClient, web_store: Store, codes_file: Path) -> None:
    _change(web_store, update(Person).where(Person.person_id == AN).values(old_id="012345678"))
    _change(web_store, update(Person).where(Person.person_id == BINH).values(old_id=AN))
    lookup(client, **{**RIGHT, "id_number": "012345678"})      # An's old ID
    assert len(sent_codes(codes_file)) == 1
    lookup(client, **{**RIGHT, "dob": "1985-07-21"})           # An's ID is Bình's old ID
    assert len(sent_codes(codes_file)) == 1
    lookup(client, **RIGHT)
    assert len(sent_codes(codes_file)) == 2


def test_a_look_up_is_one_round_trip_on_postgresql(
        client: TestClient, web_store: Store, codes_file: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if web_store.dialect != "postgresql":
        pytest.skip("SQLite looks up in a worker thread, in two statements")
    from psycopg import AsyncConnection

    sent: list[object] = []
    execute = AsyncConnection.execute

    async def counted(self: AsyncConnection[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await execute(self, query, *args, **kwargs)

    monkeypatch.setattr(AsyncConnection, "execute", counted)
    lookup(client, **RIGHT)
    lookup(client, **{**RIGHT, "id_number": "001090000009"})
    assert len(sent) == 2 and len(sent_codes(codes_file)) == 1
