"""Issue 16: the report pages show the same figures as ``vaxtrust.app.reports`` with SVG charts,
in Vietnamese first, and the downloads are the CLI's files."""

from __future__ import annotations

import io

import openpyxl
from fastapi.testclient import TestClient

from tests.web.fixtures import sign_in_as
from vaxtrust.app import reports
from vaxtrust.store.db import Store
from vaxtrust.store.scope import load_actor


def test_the_progress_page_and_its_downloads(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    page = client.get("/officer/reports?lang=vi")
    assert page.status_code == 200
    assert "Báo cáo tiến độ" in page.text and "<svg" in page.text
    assert "Xu hướng so với thời hạn" in page.text
    with web_store.transaction() as session:
        hanoi = load_actor(session, "hanoi")
    report = reports.progress(web_store, hanoi)
    assert f">{report.total.counts['records']}<" in page.text
    data = client.get("/officer/reports/download?format=json").json()
    assert data["levels"]["country"][0]["records"] == report.total.counts["records"]
    assert [u["code"] for u in data["levels"]["province"]] == ["01"]
    book = client.get("/officer/reports/download?format=xlsx")
    assert "Tỉnh" in openpyxl.load_workbook(io.BytesIO(book.content)).sheetnames
    pdf = client.get("/officer/reports/download?format=pdf")
    assert pdf.content.startswith(b"%PDF")
    english = client.get("/officer/reports?lang=en&level=facility")
    assert "Progress report" in english.text and "HN-01" in english.text
    assert client.get("/officer/reports?level=village").status_code == 400
    assert client.get("/officer/reports/accountability").status_code == 200


def test_the_reports_api_answers_as_the_pages_in_scope(client: TestClient,
                                                       web_store: Store) -> None:
    sign_in_as(client, web_store, "hanoi")
    with web_store.transaction() as session:
        hanoi = load_actor(session, "hanoi")
    report = reports.progress(web_store, hanoi)
    communes = client.get("/api/v1/reports/progress?level=commune").json()
    assert communes["level"] == "commune" and communes["source"] == "live"
    assert communes["total"]["records"] == report.total.counts["records"]
    assert [u["code"] for u in communes["units"]] == [u.code for u in report.levels["commune"]]
    assert [u["records"] for u in communes["units"]] == \
        [u.counts["records"] for u in report.levels["commune"]]
    assert {d["key"] for d in communes["deadlines"]} >= {"complaints", "signing", "cleaning"}
    # A past day reads its snapshot: none was taken, so it is refused with the reason.
    past = client.get("/api/v1/reports/progress?date=2022-04-01")
    assert past.status_code == 400 and "no snapshot of 2022-04-01" in past.json()["error"]
    assert client.get("/api/v1/reports/progress?level=village").status_code == 422
    ranked = client.get("/api/v1/reports/accountability?days=30").json()
    assert {f["province_code"] for f in ranked["facilities"]} == {"01"}
    assert client.get("/api/v1/reports/officers").json() == {"officers": []}
    pdf = client.get("/api/v1/reports/progress/download?format=pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    book = client.get("/api/v1/reports/progress/download")
    assert "Xã phường" in openpyxl.load_workbook(io.BytesIO(book.content)).sheetnames


def test_police_and_citizens_get_no_reports(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "police4")
    assert client.get("/officer/reports", follow_redirects=False).status_code == 403
    assert client.get("/api/v1/reports/progress").status_code == 403
