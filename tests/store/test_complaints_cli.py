"""Issue 15: ``vaxtrust complaints`` on a published store, and the bad inputs a citizen or a
portal export can bring (clear Vietnamese messages, nothing stored half-way)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.store.cli import cli, invoke
from tests.store.factory import PEOPLE
from vaxtrust.app import complaints as app
from vaxtrust.complaints.attachments import FolderStore
from vaxtrust.config import Settings
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role
from vaxtrust.store.tables import AuditEventRow, Complaint, ComplaintAttachment

HEADER = ["Mã phản ánh", "Họ và tên", "Ngày sinh", "Số điện thoại", "Số CCCD/CMND",
          "Loại phản ánh", "Mũi tiêm", "Loại vắc xin", "Ngày tiêm", "Cơ sở tiêm", "Tỉnh"]


def person_row(number: str, person: int, **changes: str) -> list[str]:
    pid, name, dob, *_ = PEOPLE[person]
    values = {"Mã phản ánh": number, "Họ và tên": name, "Ngày sinh": dob,
              "Số điện thoại": "0912 345 678", "Số CCCD/CMND": pid,
              "Loại phản ánh": "Thiếu mũi tiêm", "Mũi tiêm": "1", "Loại vắc xin": "Pfizer",
              "Ngày tiêm": "01/09/2021", "Cơ sở tiêm": "HN-01", "Tỉnh": "Hà Nội", **changes}
    return [values[name] for name in HEADER]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "phan-anh.csv", [
        person_row("PA-1", 2),                                       # Lê Thị Cúc: R3
        person_row("PA-2", 0, **{"Cơ sở tiêm": ""}),                 # Nguyễn Văn An: R1
        person_row("PA-3", 0, **{"Số điện thoại": "+1 555 0100"}),   # not Vietnamese
        person_row("PA-4", 0, **{"Số CCCD/CMND": "12-AB"}),          # no ID
        person_row("PA-5", 0, **{"Ngày tiêm": "01/09/2031"}),        # in the future
        person_row("PA-6", 0, **{"Họ và tên": ""}),                  # missing
    ])


def test_import_rejects_bad_rows_with_a_vietnamese_reason_and_keeps_the_rest(
        published: Store, export: Path, tmp_path: Path) -> None:
    url = str(published.engine.url.render_as_string(hide_password=False))
    rejects = tmp_path / "rejects.csv"
    output = cli(url, "complaints", "import", str(export), "--as", "minh",
                 "--rejects", str(rejects))
    assert "6 rows in = 2 accepted + 4 rejected" in output
    assert "Số điện thoại không phải số Việt Nam" in output
    with rejects.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert {(r["row_number"], r["field"], r["reason"]) for r in rows} == {
        ("3", "phone", "phone_not_vietnamese"), ("4", "id_number", "id_unparseable"),
        ("5", "vaccinated_on", "date_out_of_range"), ("6", "full_name", "missing_value")}
    assert all(r["message"] for r in rows)
    with published.transaction() as session:
        stored = session.execute(select(Complaint.external_id, Complaint.proposal)
                                 .order_by(Complaint.id)).all()
        assert [tuple(r) for r in stored] == [("PA-1", "link_record"), ("PA-2", "dose_exists")]
        assert session.scalar(select(AuditEventRow.event_type).where(
            AuditEventRow.event_type == "complaints_imported")) is not None
    again = cli(url, "complaints", "import", str(export), "--as", "minh")
    assert "2 imported before (skipped); 0 complaints stored" in again


def test_the_commands_settle_a_complaint_end_to_end(published: Store, export: Path) -> None:
    url = str(published.engine.url.render_as_string(hide_password=False))
    cli(url, "complaints", "import", str(export), "--as", "minh")
    inbox = cli(url, "complaints", "list", "--as", "hn01")
    assert "link_record" in inbox and "R3" in inbox
    shown = cli(url, "complaints", "show", "1", "--as", "hn01")
    assert "Gắn bản ghi R3" in shown and "1907" in shown and "1970-11-30" in shown
    assert "complaints" in cli(url, "complaints", "list", "--as", "hcm01")  # empty inbox
    assert invoke(["complaints", "show", "1", "--as", "hcm01", "--db", url]).exit_code != 0
    cli(url, "complaints", "assign", "1", "--as", "hn01")
    resolved = cli(url, "complaints", "resolve", "1", "--as", "hn01", "--note", "đã đối chiếu")
    assert "resolved by link_record" in resolved and "record R3" in resolved
    refused = cli(url, "complaints", "refuse", "2", "--as", "hanoi", "--ground",
                  "photo_unreadable", "--note", "gửi lại ảnh rõ hơn")
    assert "refused" in refused
    assert "photo_unreadable" in invoke(["complaints", "grounds"]).output
    closed = cli(url, "complaints", "list", "--as", "minh", "--state", "resolved",
                 "--state", "refused")
    assert "resolved" in closed and "refused" in closed
    assert "intact" in cli(url, "audit", "verify", "--as", "minh")


def _image(tmp_path: Path) -> bytes:
    path = tmp_path / "giay-xac-nhan.jpg"
    image = Image.new("RGB", (40, 30), "white")
    exif = Image.Exif()
    exif[0x010F] = "Camera Maker"  # Make
    image.save(path, exif=exif)
    return path.read_bytes()


def _form(person: int, **changes: str) -> dict[str, str | None]:
    pid, name, dob, *_ = PEOPLE[person]
    return {"full_name": name, "dob": dob, "phone": "0912345678", "id_number": pid,
            "category": "missing_dose", "vaccinated_on": "01/09/2021", "dose_number": "1",
            "vaccine": "Pfizer", "facility_id": "HN-01", **changes}


@pytest.mark.parametrize(("changes", "attachment", "field", "reason"), [
    ({}, b"%PDF-1.4 not an image", "attachment", "attachment_not_an_image"),
    ({}, b"\xff" * 20_000, "attachment", "attachment_too_large"),
    ({"phone": "+44 20 7946 0958"}, None, "phone", "phone_not_vietnamese"),
    ({"id_number": "không có"}, None, "id_number", "id_unparseable"),
    ({"vaccinated_on": "01/12/2099"}, None, "vaccinated_on", "vaccinated_on_in_future"),
])
def test_a_bad_citizen_complaint_is_refused_whole_with_a_vietnamese_message(
        published: Store, actors: dict[str, Actor], tmp_path: Path, changes: dict[str, str],
        attachment: bytes | None, field: str, reason: str) -> None:
    settings = Settings(complaints={"attachments_dir": tmp_path / "files",
                                    "max_attachment_bytes": 10_000})
    citizen = actors["an"]
    result = app.file_complaint(settings, published, citizen, _form(0, **changes),
                                attachment=attachment, today=dt.date(2026, 12, 1))
    assert isinstance(result, list)
    assert [(p.field, p.reason) for p in result] == [(field, reason)]
    assert result[0].message and result[0].message != reason
    with published.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert not (tmp_path / "files").exists()


def test_a_citizen_files_a_complaint_with_a_photo_stripped_of_metadata(
        published: Store, actors: dict[str, Actor], tmp_path: Path) -> None:
    settings = Settings(complaints={"attachments_dir": tmp_path / "files"})
    sent: list[tuple[str, str]] = []

    class Phone:
        def notify(self, phone: str, text: str) -> None:
            sent.append((phone, text))

    filed = app.file_complaint(settings, published, actors["an"], _form(0),
                               attachment=_image(tmp_path), notifier=Phone())
    assert isinstance(filed, app.Filed)
    assert sent and sent[0][0] == "0912345678" and "Đã tiếp nhận" in sent[0][1]
    with published.transaction() as session:
        stored = session.scalar(select(ComplaintAttachment))
        assert stored is not None and stored.content_type == "image/jpeg"
        sha = stored.sha256
    files = FolderStore(tmp_path / "files")
    data, kind = app.attachment(published, actors["an"], filed.complaint_id, sha, files)
    assert kind == "image/jpeg" and b"Camera Maker" not in data
    with pytest.raises(Exception, match="no complaint"):
        app.attachment(published, actors["hcm01"], filed.complaint_id, sha, files)


def test_a_complaint_about_several_doses_is_triaged_and_routed_per_dose(
        published: Store, tmp_path: Path) -> None:
    second = {"Mũi tiêm 2": "2", "Loại vắc xin 2": "Pfizer", "Ngày tiêm 2": "06/10/2021",
              "Cơ sở tiêm 2": "HN-02"}
    export = tmp_path / "phan-anh.csv"
    with export.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([*HEADER, *second])
        writer.writerow([*person_row("PA-1", 0), *second.values()])
        writer.writerow([*person_row("PA-2", 0), *{**second, "Ngày tiêm 2": "01/09/2031"}
                         .values()])
    url = str(published.engine.url.render_as_string(hide_password=False))
    rejects = tmp_path / "rejects.csv"
    output = cli(url, "complaints", "import", str(export), "--as", "minh",
                 "--rejects", str(rejects))
    assert "2 rows in = 1 accepted + 1 rejected" in output
    assert "2 complaints stored" in output          # one per dose
    with rejects.open(encoding="utf-8") as handle:   # the second dose's date: nothing stored
        assert [(r["row_number"], r["field"]) for r in csv.DictReader(handle)] == [
            ("2", "vaccinated_on_2")]
    with published.transaction() as session:
        stored = session.execute(select(
            Complaint.id, Complaint.external_id, Complaint.filing_id, Complaint.dose_number,
            Complaint.vaccinated_on, Complaint.facility_id, Complaint.proposal)
            .order_by(Complaint.id)).all()
    first, other = stored
    assert first[1:] == ("PA-1", first.id, 1, "2021-09-01", "HN-01", "dose_exists")  # R1
    assert other[1:] == ("PA-1/2", first.id, 2, "2021-10-06", "HN-02", None)   # its facility
    again = cli(url, "complaints", "import", str(export), "--as", "minh")
    assert "0 complaints stored" in again           # both doses were imported before


def test_a_name_in_the_wrong_encoding_is_repaired_on_import_not_rejected(
        published: Store, tmp_path: Path) -> None:
    """A portal that read UTF-8 as Latin-1 exports "Lê Thá»\x8b Cúc" (C1 controls inside the
    letters): the import repairs it as the cleaning does; a stray control is still refused."""
    name = PEOPLE[2][1]
    damaged = name.encode("utf-8").decode("latin-1")
    export = write_csv(tmp_path / "phan-anh.csv", [
        person_row("PA-1", 2, **{"Họ và tên": damaged}),
        person_row("PA-2", 0, **{"Họ và tên": "Nguyễn\x85 Văn An"})])
    report = app.import_file(Settings(), published, Actor("os:test", Role.MINISTRY), export)
    assert (report.rows_in, report.accepted, report.rejected) == (2, 1, 1)
    assert [(r.row_number, r.field, r.reason) for r in report.rejects] == [
        (2, "full_name", "control_character")]
    with published.transaction() as session:
        assert session.execute(select(Complaint.external_id, Complaint.full_name,
                                      Complaint.proposal)).all() == [
            ("PA-1", name, "link_record")]


def test_an_xlsx_export_with_vietnamese_headers_imports_like_a_csv(
        published: Store, tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    sheet.append(person_row("PA-1", 2))
    sheet.append(person_row("PA-2", 0, **{"Số điện thoại": "+1 555 0100"}))
    export = tmp_path / "phan-anh.xlsx"
    workbook.save(export)
    url = str(published.engine.url.render_as_string(hide_password=False))
    output = cli(url, "complaints", "import", str(export), "--as", "minh")
    assert "2 rows in = 1 accepted + 1 rejected" in output
    assert "Số điện thoại không phải số Việt Nam" in output
    with published.transaction() as session:
        assert session.execute(select(Complaint.external_id, Complaint.proposal)).all() == [
            ("PA-1", "link_record")]
