"""Issue 16: the 2262 lists on the web: a commune's list exported, the police's answered list
uploaded and applied with its outcome (applied, unchanged, rejected with reasons; the rejects as
Excel), scoped and behind CSRF like every other form."""

from __future__ import annotations

import io
import re

import openpyxl
from fastapi.testclient import TestClient

from tests.web.fixtures import sign_in_as
from vaxtrust.reports.police import COLUMNS
from vaxtrust.store.db import Store

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _answered(listed: bytes, answers: dict[str, dict[str, str]]) -> bytes:
    book = openpyxl.load_workbook(io.BytesIO(listed))
    sheet = book.active
    assert sheet is not None
    index = {column.key: number for number, column in enumerate(COLUMNS, start=1)}
    for row in range(2, sheet.max_row + 1):
        for key, value in answers.get(str(sheet.cell(row, index["record_id"]).value), {}).items():
            sheet.cell(row, index[key]).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, token: str, body: bytes, name: str = "tra-loi.xlsx"):  # type: ignore[no-untyped-def]
    return client.post("/officer/lists/import", data={"csrf_token": token},
                       files={"file": (name, body, XLSX)}, follow_redirects=False)


def test_export_upload_and_outcome_with_rejects(client: TestClient, web_store: Store) -> None:
    token = sign_in_as(client, web_store, "hcm")
    page = client.get("/officer/lists?lang=vi")
    assert page.status_code == 200 and "Danh sách gửi Công an xã (2262)" in page.text
    assert 'value="26734"' in page.text and 'value="00007"' not in page.text  # their communes
    listed = client.post("/officer/lists/export", data={"csrf_token": token, "commune": "26734"})
    assert listed.status_code == 200 and listed.headers["content-type"] == XLSX
    body = _answered(listed.content, {
        "R6": {"verdict": "Sai", "new_id_number": "079188000005",
               "new_full_name": "Hoàng Thị Em"},
        "R4": {"verdict": "Có lẽ"}})
    sent = _upload(client, token, body)
    assert sent.status_code == 303
    outcome = client.get(sent.headers["location"] + "?lang=vi")
    assert outcome.status_code == 200 and "tra-loi.xlsx" in outcome.text
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", outcome.text))
    assert figures["Đã áp dụng (đã hiệu chỉnh và liên kết)"] == "1"
    assert figures["Bị loại"] == "1"
    assert "Đúng or Sai" in outcome.text
    rejects = client.get(sent.headers["location"] + "/rejects.xlsx")
    rows = list(openpyxl.load_workbook(io.BytesIO(rejects.content)).active
                .iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[0] == ("Dòng", "Mã bản ghi", "Lý do từ chối")
    assert [(row[1], "Đúng or Sai" in str(row[2])) for row in rows[1:]] == [("R4", True)]
    again = client.get(_upload(client, token, body).headers["location"] + "?lang=vi")
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", again.text))
    assert figures["Không đổi: đã áp dụng trước đó"] == "1"
    assert figures["Đã áp dụng (đã hiệu chỉnh và liên kết)"] == "0"
    assert "tra-loi.xlsx" in client.get("/officer/lists").text     # the import history
    # Someone else's import is not there for another province; the ministry sees it.
    sign_in_as(client, web_store, "hanoi")
    assert client.get(sent.headers["location"]).status_code == 404
    assert client.get(sent.headers["location"] + "/rejects.xlsx").status_code == 404
    sign_in_as(client, web_store, "minh")
    assert client.get(sent.headers["location"]).status_code == 200


def test_bad_uploads_forged_forms_and_the_police_are_refused(client: TestClient,
                                                              web_store: Store) -> None:
    token = sign_in_as(client, web_store, "hcm")
    assert _upload(client, "forged", b"x").status_code == 403
    wrong_kind = _upload(client, token, b"a,b\n", name="list.csv")
    assert wrong_kind.status_code == 400 and ".xlsx" in wrong_kind.text
    other = openpyxl.Workbook()
    other.active.append(["Họ và tên", "Ngày sinh"])  # type: ignore[union-attr]
    other.active.append(["Nguyễn Văn A", "01/01/1990"])  # type: ignore[union-attr]
    saved = io.BytesIO()
    other.save(saved)
    refused = _upload(client, token, saved.getvalue())
    assert refused.status_code == 400 and "not a 2262 list" in refused.text
    assert client.post("/officer/lists/export", data={"csrf_token": token,
                                                      "commune": "00007"}).status_code == 404
    assert client.get("/officer/lists/imports/99999").status_code == 404
    assert client.get("/officer/lists/imports/x1").status_code == 404
    sign_in_as(client, web_store, "police4")
    assert client.get("/officer/lists", follow_redirects=False).status_code == 403


def test_the_api_exports_applies_and_reports_as_the_pages(client: TestClient,
                                                          web_store: Store) -> None:
    from vaxtrust.web.sessions import create_session

    token = create_session(web_store, minutes=30, username="hcm").token
    bearer = {"Authorization": f"Bearer {token}"}
    overview = client.get("/api/v1/lists", headers=bearer).json()
    assert overview["communes"] == ["26734"]
    listed = client.post("/api/v1/lists/export", json={"commune": "26734"}, headers=bearer)
    assert listed.status_code == 200 and listed.headers["content-type"] == XLSX
    body = _answered(listed.content, {
        "R6": {"verdict": "Sai", "new_id_number": "079188000005",
               "new_full_name": "Hoàng Thị Em"},
        "R4": {"verdict": "Có lẽ"}})
    sent = client.post("/api/v1/lists/import", headers=bearer,
                       files={"file": ("tra-loi.xlsx", body, XLSX)})
    assert sent.status_code == 201
    outcome = sent.json()
    assert (outcome["applied"], outcome["file_name"]) == (1, "tra-loi.xlsx")
    assert [row["record_id"] for row in outcome["rejected"]] == ["R4"]
    shown = client.get(f"/api/v1/lists/imports/{outcome['import_id']}", headers=bearer)
    assert shown.json()["rejected"] == outcome["rejected"]
    rejects = client.get(f"/api/v1/lists/imports/{outcome['import_id']}/rejects.xlsx",
                         headers=bearer)
    assert rejects.headers["content-type"] == XLSX
    assert [row["import_id"] for row in client.get("/api/v1/lists", headers=bearer)
            .json()["imports"]] == [outcome["import_id"]]
    wrong_kind = client.post("/api/v1/lists/import", headers=bearer,
                             files={"file": ("list.csv", b"a,b\n", "text/csv")})
    assert wrong_kind.status_code == 400 and ".xlsx" in wrong_kind.json()["error"]
    # Another province's officer gets nothing of it; the police get no lists at all.
    sign_in_as(client, web_store, "hanoi")
    assert client.get(f"/api/v1/lists/imports/{outcome['import_id']}").status_code == 404
    police = sign_in_as(client, web_store, "police4")
    assert client.get("/api/v1/lists").status_code == 403
    assert client.post("/api/v1/lists/export", json={"commune": "26734"},
                       headers={"X-CSRF-Token": police}).status_code == 403
