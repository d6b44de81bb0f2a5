"""Issue 12: every command, as every role of Ha Noi (province 01), against a store that also holds
Ho Chi Minh City (province 79): nothing of province 79 is shown, and nothing is written but the
audit trail (sign-ins and refusals).

Each command names province 79's objects (its items, records, people, facility, users) or none,
or reads a file about them (a facility's day, register changes, officers, complaints); echoing
what the officer handed in is no leak. A command may be refused, never crash.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from tests.store.cli import invoke
from tests.store.conftest import snapshot
from tests.store.factory import PEOPLE, with_second_dose_under_review
from vaxtrust.app import police_lists, users
from vaxtrust.errors import NotFound, PermissionDenied, VaxtrustError
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.passport.pki import Passphrase
from vaxtrust.pipeline.outputs import write_contents
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import AuditEventRow, Certificate, ReviewItem, SigningTask

# The province officer (the widest rights short of the ministry) and a citizen run in the fast
# suite; the other roles with the slow group (about 13 s each).
HANOI_ROLES = ["hanoi", "an", *(pytest.param(name, marks=pytest.mark.slow)
                                for name in ("hn01", "hn02", "police4"))]
# Whatever names or identifies province 79's people, records, facility and users.
OUTSIDE = [*(value for person in PEOPLE[3:] for value in person[:2]), "Đỗ Văn Giang",
           "Hoang Thi Em", "79188000005", "HCM-01", "R4", "R5", "R6", "hcm01", "police26734",
           "Phạm Thị Lan", "Trương Văn Bảy"]
# What a 2262 list export keeps of the list it wrote (to match the police's answers later), and
# an import of the outcome of the file given (its rows refused with their reasons included).
EXPORT_LOGS = ("police_list", "police_list_row", "police_list_import")
# Written by any command: its sign-in, and the audit trail of what it did or was refused.
SIGN_IN_COLUMNS = ("last_login_at", "password_hash")
SECRET = "walk test key passphrase"
KEY_ENV: dict[str, str | None] = {"VAXTRUST_KEY_PASSPHRASE": SECRET}


def _complaint_commands(hcm: str, hanoi: str) -> list[list[str]]:
    """Issue 15: the complaints commands (province 79's complaint ``hcm``, Ha Noi's ``hanoi``)."""
    return [
        ["complaints", "list"], ["complaints", "list", "--facility", "HCM-01"],
        ["complaints", "list", "--province", "79"], ["complaints", "list", "--overdue"],
        ["complaints", "list", "--state", "resolved", "--state", "refused"],
        ["complaints", "show", hcm], ["complaints", "show", hcm, "--json"],
        ["complaints", "assign", hcm], ["complaints", "assign", hanoi, "--facility", "HCM-01",
                                        "--reason", "r"],
        ["complaints", "resolve", hcm, "--note", "n"],
        ["complaints", "refuse", hcm, "--ground", "8", "--note", "n"],
        ["complaints", "escalate", hcm, "--reason", "r"],
    ]


def _complaints(store: Store, minh: Actor) -> tuple[str, str]:
    """A complaint of Phạm Văn Dũng's dose at HCM-01 (province 79), one of Nguyễn Văn An's."""
    from vaxtrust.complaints import workflow
    from vaxtrust.complaints.deadlines import DeadlineRule
    from vaxtrust.complaints.standardise import ComplaintInput

    def claim(person: int, facility: str) -> ComplaintInput:
        pid, name, dob, *_ = PEOPLE[person]
        return ComplaintInput("missing_dose", name, dob, "0912345678", pid,
                              vaccinated_on="2021-09-01", claimed_facility_id=facility)

    with store.transaction() as session:
        ids = workflow.file_complaints(session, minh, [claim(3, "HCM-01"), claim(0, "HN-01")],
                                       channel="import", rule=DeadlineRule()).ids
    return str(ids[0]), str(ids[1])


def _intake_commands(files: Path) -> list[list[str]]:
    """Commands that bring files of province 79 in (a facility's day, register changes, officers,
    complaints), revoke one of its people, or export what the whole country shares."""
    keys = str(files / "keys")
    return [
        ["daily", "--register", str(files / "register.csv"), "--runs", "{out}/runs",
         str(files / "day-79.csv")],
        ["register-changes", str(files / "register-79.csv"), "--runs", "{out}/runs"],
        ["officers", "import", str(files / "officers-79.xlsx")],
        ["complaints", "import", str(files / "complaints-79.csv"), "--rejects",
         "{out}/complaint-rejects.csv"],
        ["passport", "revoke", "--keystore", keys, "--person-id", PEOPLE[4][0], "--reason", "r"],
        ["passport", "revocation-list", "export", "--keystore", keys, "--unsigned",
         "--out", "{out}/revocations.json"],
        ["audit", "export-head"],
    ]


def _intake_files(folder: Path) -> None:
    """The files :func:`_intake_commands` reads, all about province 79."""
    import csv

    import xlsxwriter

    from tests.store.test_complaints_cli import HEADER as COMPLAINT_HEADER
    from tests.store.test_complaints_cli import person_row

    def write_csv(name: str, header: list[str], rows: list[list[str]]) -> None:
        with (folder / name).open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([header, *rows])

    register = ["person_id", "full_name", "dob", "gender", "phone", "province", "commune"]
    write_csv("register.csv", register, [[pid, name, dob, "Nam" if gender == "M" else "Nữ",
                                          "0912345678", province, commune]
                                         for pid, name, dob, gender, province, commune in PEOPLE])
    pid, name, dob, _, province, commune = PEOPLE[3]
    write_csv("register-79.csv", register, [[pid, "Phạm Văn Dũng Mới", dob, "Nam", "0912345678",
                                             province, commune]])
    pid, name, dob, *_ = PEOPLE[4]
    write_csv("day-79.csv", ["record_id", "full_name", "dob", "gender", "id_number", "phone",
                             "dose_number", "vaccine", "vaccinated_on", "facility_id", "province"],
              [["D79", name, dob, "Nữ", pid, "0912345678", "2", "Comirnaty", "2021-10-01",
                "HCM-01", "79"]])
    write_csv("complaints-79.csv", COMPLAINT_HEADER, [
        person_row("PA-79", 4, **{"Cơ sở tiêm": "HCM-01", "Tỉnh": "Hồ Chí Minh"})])
    book = xlsxwriter.Workbook(str(folder / "officers-79.xlsx"))
    sheet = book.add_worksheet()
    for r, row in enumerate([
        ["Tỉnh", "Đơn vị", "Mã cơ sở tiêm chủng", "Họ và tên", "Chức vụ", "Điện thoại", "Email"],
        ["79", "Cơ sở tiêm chủng", "HCM-01", "Phạm Thị Lan", "Giám đốc", "0903123456", ""],
        ["79", "Sở Y tế", "", "Trương Văn Bảy", "Phó Giám đốc", "0903123457", ""],
    ]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()


def _commands(hcm_item: int, hanoi_item: int, files: Path) -> list[list[str]]:
    outsider = PEOPLE[4][0]
    run, keys, out = (str(files / name) for name in ("run-2", "keys", "out"))
    return [
        ["publish", run],
        ["passport", "sign-batch", "--keystore", keys, "--out", out, "--run", run],
        ["review", "list"], ["review", "list", "--province", "79"],
        ["review", "list", "--facility", "HCM-01"],
        ["review", "list", "--state", "decided", "--state", "superseded"],
        ["review", "show", str(hcm_item)], ["review", "show", str(hcm_item), "--json"],
        ["review", "decide", str(hcm_item), "--accept", "1"],
        ["review", "decide", str(hcm_item), "--reject-all", "--note", "n"],
        ["review", "decide", str(hcm_item), "--defer", "--note", "n"],
        ["review", "decide", str(hcm_item), "--edit", "dob=05/05/1988", "--note", "n"],
        ["review", "decide", str(hanoi_item), "--edit", "full_name=x", "--person", outsider,
         "--note", "n"],
        ["review", "decide", str(hanoi_item), "--edit", f"id_number={outsider}",
         "--edit", "full_name=Hoàng Thị Em", "--edit", "dob=1988-05-05", "--note", "n"],
        ["audit", "verify"], ["audit", "log"], ["audit", "log", "--subject", "record:R6"],
        ["audit", "history", "R6"], ["audit", "history", "R4"], ["audit", "history", "R5"],
        ["users", "list"],
        ["users", "add", "spy", "--role", "facility", "--facility", "HCM-01"],
        ["users", "add", "spy", "--role", "province", "--province", "79"],
        ["users", "passwd", "hcm01"],
        ["users", "deactivate", "hcm01", "--reason", "r"],
        ["users", "token", "list"],
        ["records", "list"], ["records", "list", "--facility", "HCM-01"],
        ["records", "list", "--status", "unmatched"], ["records", "authentication-list"],
        ["signing", "list"], ["signing", "list", "--state", "done"],
        ["report", "progress", "--format", "json", "--out", "{out}/progress.json"],
        ["report", "progress", "--format", "xlsx", "--level", "facility",
         "--out", "{out}/progress.xlsx"],
        ["report", "snapshot"], ["report", "campaign"],
        ["report", "campaign", "--target", "signed_share=0.5"],
        ["report", "accountability", "--out", "{out}/accountability.xlsx"],
        ["report", "accountability", "--format", "json", "--days", "30",
         "--out", "{out}/accountability.json"],
        ["officers", "list"], ["officers", "list", "--province", "79"],
        ["officers", "export", "--out", "{out}/officers.xlsx"],
        ["lists", "export", "--out", "{out}/lists"],
        ["lists", "export", "--commune", "26734", "--out", "{out}/lists79"],
        *_intake_commands(files),
    ]


def _written(command: list[str]) -> str:
    """What a command wrote to its --out file (a workbook's cells as text)."""
    if "--out" not in command:
        return ""
    return _text_of(Path(command[command.index("--out") + 1]))


def _given(command: list[str]) -> str:
    """What the officer hands the command (taken before it runs): its words and the files it
    reads (echoing those is no leak)."""
    inputs = [Path(part) for part in command if Path(part).is_file()]
    return " ".join([*command, *(_text_of(path) for path in inputs)])


def _text_of(path: Path) -> str:
    if path.is_dir():
        return "\n".join(_text_of(file) for file in sorted(path.iterdir()))
    if not path.exists():
        return ""
    if path.suffix == ".xlsx":
        book = openpyxl.load_workbook(path, read_only=True)
        return "\n".join(str(value) for sheet in book for row in sheet.iter_rows(values_only=True)
                         for value in row if value is not None)
    return path.read_text(encoding="utf-8")


def _item_of(store: Store, record_id: str) -> int:
    with store.transaction() as session:
        item = session.scalar(select(ReviewItem.id).where(ReviewItem.record_id == record_id))
    assert item is not None
    return item


def _without_audit(rows: dict[str, list[tuple[object, ...]]]) -> dict[str, object]:
    from vaxtrust.store.tables import Base

    columns = list(Base.metadata.tables["app_user"].columns.keys())
    blank = {columns.index(name) for name in SIGN_IN_COLUMNS}
    kept: dict[str, object] = {name: value for name, value in rows.items()
                               if name not in ("audit_event", "login_throttle", *EXPORT_LOGS)}
    kept["app_user"] = [tuple(None if i in blank else v for i, v in enumerate(row))
                        for row in rows["app_user"]]
    return kept


def _refusals(store: Store) -> int:
    with store.transaction() as session:
        return len(session.scalars(select(AuditEventRow.seq).where(
            AuditEventRow.event_type == "action_refused")).all())


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A newer run of both provinces (``run-2``) and a key store (``keys``) for the walk."""
    folder = tmp_path_factory.mktemp("walk")
    with_second_dose_under_review().write(folder / "run-2")
    now = datetime.now(UTC)
    keys = KeyStore.create(folder / "keys", country="VN", common_name="VN CSCA walk", now=now,
                           passphrase=Passphrase.of(SECRET))
    keys.new_signer("vn-national", csca_passphrase=Passphrase.of(SECRET), now=now,
                    key_passphrase=Passphrase.of(SECRET))
    _intake_files(folder)
    return folder


@pytest.mark.parametrize("username", HANOI_ROLES)
def test_every_command_keeps_province_79_out_of_reach(
    published: Store, store_url: str, actors: dict[str, Actor], username: str, files: Path,
    tmp_path: Path
) -> None:
    hcm_item, hanoi_item = _item_of(published, "R6"), _item_of(published, "R3")
    complaints = _complaint_commands(*_complaints(published, actors["minh"]))
    (police_list,) = police_lists.export_lists(published, actors["minh"], tmp_path / "given",
                                              commune="26734")   # as the police send it back
    token = users.issue_token(published, actors["hcm01"], "script", timedelta(days=1))
    answered = [["lists", "import", str(police_list.path)],
                ["users", "token", "revoke", str(token.id)]]   # hcm01's token
    for template in _commands(hcm_item, hanoi_item, files) + complaints + answered:
        command = [part.replace("{out}", str(tmp_path)) for part in template]
        before, refusals = snapshot(published), _refusals(published)
        given = _given(command)
        result = invoke([*command, "--as", username, "--db", store_url], KEY_ENV)
        said = f"{result.output}\n{result.exception or ''}\n{_written(command)}"
        typed = " ".join(command)
        assert result.exception is None or isinstance(result.exception, VaxtrustError | SystemExit), \
            f"{username} {typed} crashed: {result.exception!r}"
        shown = [value for value in OUTSIDE if value in said and value not in given]
        assert not shown, f"{username} {typed} showed {shown}: {said}"
        assert _without_audit(snapshot(published)) == _without_audit(before), \
            f"{username} {typed} wrote outside the audit trail"
        if isinstance(result.exception, PermissionDenied | NotFound):
            assert _refusals(published) == refusals + 1, f"{username} {typed}: not audited"


def test_the_walk_can_fail(published: Store, store_url: str,
                           actors: dict[str, Actor]) -> None:
    """The ministry sees province 79: the walk's checks would catch a leak."""
    result = invoke(["records", "list", "--as", "minh", "--db", store_url])
    assert any(value in result.output for value in OUTSIDE)
    shown = json.dumps(result.output, ensure_ascii=False)
    assert "HCM-01" in shown


def _province_79_signing(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """The signing queue and certificates of province 79's people."""
    outsiders = [person[0] for person in PEOPLE[3:]]
    with store.transaction() as session:
        return {table.__tablename__: sorted(
            (tuple(row) for row in session.execute(select(table.__table__)
                                                   .where(table.person_id.in_(outsiders)))),
            key=repr) for table in (SigningTask, Certificate)}


@pytest.mark.parametrize("username", HANOI_ROLES)
def test_sign_batch_signs_only_the_signers_province(
    published: Store, store_url: str, actors: dict[str, Actor], username: str, files: Path,
    tmp_path: Path
) -> None:
    """``sign-batch`` writes certificates (that is its work), but only of the signer's scope:
    province 79's queue and certificates stay as they were and nothing of it is shown."""
    before = _province_79_signing(published)
    out = tmp_path / "signed"
    result = invoke(["passport", "sign-batch", "--keystore", str(files / "keys"), "--out",
                     str(out), "--as", username, "--db", store_url], KEY_ENV)
    said = f"{result.output}\n{result.exception or ''}"
    assert not [value for value in OUTSIDE if value in said], said
    assert _province_79_signing(published) == before
    if result.exit_code != 0:  # a role without the right to sign
        assert isinstance(result.exception, PermissionDenied | NotFound), said
        assert username in ("an", "police4")
        return
    signed = set(pq.read_table(out / "certificates.parquet")["person_id"].to_pylist())
    assert signed <= {person[0] for person in PEOPLE[:3]}
    assert signed or username != "hanoi"  # the province officer signs province 01's queue


def test_sign_batch_run_is_the_ministrys(published: Store, store_url: str,
                                          actors: dict[str, Actor], files: Path,
                                          tmp_path: Path) -> None:
    """``sign-batch --run`` publishes the whole run: a province officer is refused before
    anything is read or written (and the refusal is audited); the ministry publishes and signs."""
    command = ["passport", "sign-batch", "--keystore", str(files / "keys"), "--run",
               str(files / "run-2")]
    before, refusals = snapshot(published), _refusals(published)
    refused = invoke([*command, "--out", str(tmp_path / "hanoi"), "--as", "hanoi", "--db",
                      store_url], KEY_ENV)
    assert isinstance(refused.exception, PermissionDenied)
    assert "ministry" in str(refused.exception)
    assert _without_audit(snapshot(published)) == _without_audit(before)
    assert _refusals(published) == refusals + 1
    write_contents(files / "run-2")  # as its cleaning would have: the run's content manifest
    # A password in the URL (PostgreSQL's trust authentication ignores it) is never printed.
    with_password = store_url.replace("postgres@", "postgres:walk-Pa55word@")
    signed = invoke([*command, "--out", str(tmp_path / "minh"), "--as", "minh", "--db",
                     with_password], KEY_ENV)
    assert signed.exit_code == 0, f"{signed.output}\n{signed.exception}"
    assert "published run run-2" in signed.output
    assert "walk-Pa55word" not in signed.output
