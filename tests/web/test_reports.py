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



def test_police_and_citizens_get_no_reports(client: TestClient, web_store: Store) -> None:
    sign_in_as(client, web_store, "police4")
    assert client.get("/officer/reports", follow_redirects=False).status_code == 403
