"""``vaxtrust daily``: a facility's day cleaned against the register and the store, published and
queued for signing; refused (nothing written) when processed before, out of scope or malformed."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.passport.conftest_keys import keystore
from vaxtrust.app.daily import daily
from vaxtrust.app.publish import publish
from vaxtrust.config import Settings, load_settings
from vaxtrust.errors import InputError, PermissionDenied
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.pipeline.outputs import check_contents
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.reports.snapshot import today_vn
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import (
    DailyFile,
    DoseHistory,
    ProgressSnapshot,
    Run,
    SigningTask,
    VaccinationRecord,
)

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
MIDDLES = ["Văn", "Thị", "Minh", "Ngọc", "Đức", "Thu"]
GIVENS = ["Hùng", "Lan", "Anh", "Bình", "Dũng", "Hoa", "Tuấn", "Mai", "Sơn", "Hương", "Long",
          "Nga", "Phúc", "Quang", "Trang", "Việt", "Yến"]
REGISTER_HEADER = ["person_id", "full_name", "dob", "gender", "phone", "province", "commune",
                   "dob_precision"]
RECORD_HEADER = ["record_id", "full_name", "dob", "gender", "id_number", "phone", "dose_number",
                 "vaccine", "vaccinated_on", "facility_id", "province"]
WITHOUT_ID = range(300, 330)
__all__ = ["keystore"]   # the signing tests' key store fixture


def _person(i: int) -> list[str]:
    name = (f"{SURNAMES[i % len(SURNAMES)]} {MIDDLES[i // 7 % len(MIDDLES)]} "
            f"{GIVENS[i // 3 % len(GIVENS)]}")
    return [f"0010{i:08d}", name, f"{1950 + i % 60}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "Nam" if i % 2 else "Nữ", f"09{i:08d}", "Hà Nội", f"{i % 40:05d}", "day"]


def _dose(record_id: str, i: int, dose: int, day: str, *, with_id: bool = True,
          facility: str = "HN-01") -> list[str]:
    pid, name, dob, gender, phone, province, *_ = _person(i)
    name = name if with_id else name.replace("Nguyễn", "Nguyen").replace("Trần", "Tran")
    return [record_id, name, dob, gender, pid if with_id else "", phone, str(dose),
            "AstraZeneca", day, facility, province]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@dataclass(frozen=True)
class National:
    settings: Settings
    register: Path
    run: Path


@pytest.fixture
def unpublished(tmp_path: Path) -> National:
    """The register, and no run yet (refusals come before any cleaning)."""
    register = _write(tmp_path / "register.csv", REGISTER_HEADER, [_person(i) for i in range(400)])
    return National(load_settings(None, engine={"threads": 2}), register, tmp_path / "national")


@pytest.fixture
def national(store: Store, actors: dict[str, Actor], unpublished: National,
             tmp_path: Path) -> National:
    """The national run: first doses of 330 people (30 without an ID), published."""
    records = _write(tmp_path / "national.csv", RECORD_HEADER, [
        _dose(f"N{i}", i, 1, "2021-07-15", with_id=i not in WITHOUT_ID) for i in range(330)])
    clean([records], unpublished.register, unpublished.run,
          settings=unpublished.settings.clean_settings())
    publish(store, actors["minh"], unpublished.run)
    return unpublished


def _day(tmp_path: Path, name: str = "day.csv") -> Path:
    rows = [_dose(f"D{i}", i, 2, "2021-09-15") for i in range(40)]
    rows += [_dose(f"D{i}", i, 2, "2021-09-15", with_id=False) for i in range(300, 305)]
    rows.append(_dose("N1", 1, 1, "2021-07-15"))             # a stored record sent again
    rows.append(_dose("X5", 5, 1, "2021-07-15"))             # a stored dose under a new id
    return _write(tmp_path / name, RECORD_HEADER, rows)


def _run_daily(store: Store, actor: Actor, national: National, files: list[Path],
               tmp_path: Path) -> object:
    return daily(national.settings, store, actor, files, register=national.register,
                 runs_dir=tmp_path / "runs")


def _counts(store: Store) -> tuple[int, ...]:
    with store.transaction() as session:
        return tuple(session.scalar(select(func.count()).select_from(table)) or 0
                     for table in (VaccinationRecord, DailyFile, Run, SigningTask, DoseHistory))


@pytest.mark.slow
def test_a_day_is_matched_with_the_national_model_against_the_store(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    _certify(store, "001000000007")    # signed after the national run
    report = _run_daily(store, actors["hanoi"], national, [_day(tmp_path)], tmp_path)
    assert report.model_run == json.loads(
        (national.run / "model.json").read_text(encoding="utf-8"))["trained_by_run"]
    assert report.context_records >= 40          # the first doses of the people it names
    assert report.publish.new_records == 46      # 45 second doses and X5; N1 left as stored
    with store.transaction() as session:
        records = {r.record_id: r for r in session.scalars(select(VaccinationRecord))}
        assert all(records[f"D{i}"].status == "verified" for i in range(40))
        # Without an ID and with a small file: linked only thanks to the national model.
        assert all(records[f"D{i}"].status == "corrected"
                   and records[f"D{i}"].person_id == f"0010{i:08d}" for i in range(300, 305))
        assert records["N1"].version == 1 and records["N1"].run_id == national_run_id(national)
        history = session.scalars(select(DoseHistory).where(
            DoseHistory.person_id == "001000000007").order_by(DoseHistory.vaccinated_on)).all()
        assert [(h.record_id, h.dose_number) for h in history] == [("N7", 1), ("D7", 2)]
        # Linked by name only: the context (found by ID) missed the first dose; it is kept.
        linked_by_name = session.scalars(select(DoseHistory.record_id).where(
            DoseHistory.person_id == "001000000301").order_by(DoseHistory.vaccinated_on)).all()
        assert linked_by_name == ["N301", "D301"]
        assert report.refreshed_people == 45       # every person of the day with earlier doses
        duplicate = session.scalars(select(DoseHistory).where(
            DoseHistory.record_id == "X5")).one()
        assert duplicate.duplicate_of == "N5"      # the stored dose, sent again: recognised
        queued = set(session.scalars(select(SigningTask.person_id).where(
            SigningTask.state == "pending")))
        assert {f"0010{i:08d}" for i in (*range(40), *range(300, 305))} <= queued
        # A new dose changes what the certificate shows: revoked and re-issued by the signer.
        assert session.scalars(select(SigningTask.action).where(
            SigningTask.person_id == "001000000007")).one() == "revoke_and_reissue"
        assert session.scalars(select(SigningTask.action).where(
            SigningTask.person_id == "001000000008")).one() == "issue"
        ledger = session.scalars(select(DailyFile)).one()
        assert ledger.file_name == "day.csv" and ledger.records == 47
        assert ledger.processed_by == "hanoi" and ledger.run_id == report.run_id
        # Today's progress snapshot is taken after publishing, with the day's records in it.
        snapshot = session.execute(select(ProgressSnapshot.snapshot_date,
                                          func.sum(ProgressSnapshot.records))
                                   .group_by(ProgressSnapshot.snapshot_date)).one()
        assert snapshot == (today_vn().isoformat(), len(records))
        assert report.snapshot_rows == session.scalar(
            select(func.count()).select_from(ProgressSnapshot))


@pytest.mark.slow
def test_the_signer_issues_the_days_people_and_reissues_those_whose_history_changed(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path,
        keystore: KeyStore) -> None:
    from tests.signing.test_batch import SIGN_AT, _sign
    from vaxtrust.passport.trustlist import trust_list_of
    from vaxtrust.passport.verify import verify_certificate
    from vaxtrust.signing.journal import JOURNAL, IssuanceJournal
    from vaxtrust.store.tables import Certificate

    first = _sign(store, actors["minh"], keystore, tmp_path / "national-certificates")
    assert first.issued >= 300
    _run_daily(store, actors["hanoi"], national, [_day(tmp_path)], tmp_path)
    second = _sign(store, actors["minh"], keystore, tmp_path / "day-certificates")
    # The 45 people of the day (second doses) held a certificate of one dose: revoked, re-issued.
    assert second.reissued == 45
    with store.transaction() as session:
        states = sorted(session.scalars(select(Certificate.state).where(
            Certificate.person_id == "001000000007")))
    assert states == ["issued", "revoked"]
    with IssuanceJournal(tmp_path / "day-certificates" / JOURNAL) as journal:
        qr_text = next(str(row["qr_text"]) for rows in journal.current_certificates()
                       for row in rows if row["person_id"] == "001000000007")
    shown = verify_certificate(qr_text, trust_list_of(keystore, now=SIGN_AT), now=SIGN_AT)
    assert shown.payload["v"][0]["dn"] == 2      # the day's dose is on the new certificate


@pytest.mark.slow
def test_the_days_people_seen_whole_keep_the_runs_consolidation_the_others_are_recomputed(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vaxtrust.store import doses

    recomputed: set[str] = set()
    consolidate = doses._consolidate

    def spy(records: Sequence[Any], settings: CleanSettings) -> dict[Any, Any]:
        recomputed.update(record.person_id for record in records)
        return consolidate(records, settings)

    monkeypatch.setattr(doses, "_consolidate", spy)
    report = _run_daily(store, actors["hanoi"], national, [_day(tmp_path)], tmp_path)
    assert report.refreshed_people == 45     # every person of the day with earlier doses
    # Recomputed from the store only: the people linked by name (the context, found by ID, did
    # not hold their first dose) and the person whose stored dose came again under a new id (of
    # two same-day doses, the duplicate follows the input order, which the store orders apart).
    assert recomputed == {f"0010{i:08d}" for i in (*range(300, 305), 5)}
    with store.transaction() as session:
        history = session.execute(select(DoseHistory.record_id, DoseHistory.run_id).where(
            DoseHistory.person_id == "001000000007").order_by(DoseHistory.vaccinated_on)).all()
        # Each row credited to the run that published its record, as a recomputation credits it.
        assert [tuple(row) for row in history] == [("N7", national_run_id(national)),
                                                   ("D7", report.run_id)]
    monkeypatch.setattr(doses, "_consolidate", consolidate)
    with store.transaction() as session:
        people = session.scalars(select(DoseHistory.person_id).distinct()).all()
        # The run's rows are what a recomputation from the store gives: it changes nothing.
        again = doses.refresh_dose_history(session, people)
    assert (again.people, again.written, again.removed) == (len(people), 0, 0)


def national_run_id(national: National) -> str:
    return json.loads((national.run / "run.json").read_text(encoding="utf-8"))["run_id"]


@pytest.mark.slow
def test_the_same_file_again_is_refused_and_changes_nothing(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    day = _day(tmp_path)
    _run_daily(store, actors["hanoi"], national, [day], tmp_path)
    before = _counts(store)
    renamed = tmp_path / "again" / "renamed.csv"
    renamed.parent.mkdir()
    renamed.write_bytes(day.read_bytes())
    with pytest.raises(InputError, match="processed already .* by hanoi as day.csv"):
        _run_daily(store, actors["hanoi"], national, [renamed], tmp_path)
    assert _counts(store) == before
    assert len([p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]) == 1


def test_a_file_for_a_facility_outside_the_users_scope_is_refused(
        store: Store, actors: dict[str, Actor], unpublished: National, tmp_path: Path) -> None:
    national = unpublished
    other = _write(tmp_path / "hcm.csv", RECORD_HEADER,
                   [_dose("H1", 1, 2, "2021-09-15", facility="HN-02"),
                    _dose("H2", 2, 2, "2021-09-15", facility="HCM-01")])
    with store.transaction() as session:   # HCM-01 is a facility of province 79
        from vaxtrust.store.tables import Facility, Province
        session.merge(Province(code="79"))
        session.merge(Facility(facility_id="HCM-01", province_code="79"))
    before = _counts(store)
    with pytest.raises(PermissionDenied, match="hcm.csv: records of facility HCM-01 "
                                               r"\(province 79\); user hanoi"):
        _run_daily(store, actors["hanoi"], national, [other], tmp_path)
    # A facility sends only its own records; police and citizens send nothing.
    with pytest.raises(PermissionDenied, match=r"records of facility HCM-01 .* user hn01 "
                                               r"\(facility HN-01\) may not send for it"):
        _run_daily(store, actors["hn01"], national, [other], tmp_path)
    own_and_neighbour = _write(tmp_path / "hn01.csv", RECORD_HEADER,
                               [_dose("H3", 3, 2, "2021-09-15", facility="HN-01"),
                                _dose("H4", 4, 2, "2021-09-15", facility="HN-02")])
    with pytest.raises(PermissionDenied, match="records of facility HN-02"):
        _run_daily(store, actors["hn01"], national, [own_and_neighbour], tmp_path)
    with pytest.raises(PermissionDenied, match="police4 .* may not send the day's dose records"):
        _run_daily(store, actors["police4"], national, [other], tmp_path)
    assert _counts(store) == before
    with store.transaction() as session:     # probing outside one's scope leaves a trace
        from vaxtrust.store.tables import AuditEventRow
        refused = session.scalars(select(AuditEventRow.actor).where(
            AuditEventRow.event_type == "action_refused")).all()
    assert sorted(refused) == ["hanoi", "hn01", "hn01", "police4"]
    assert not any((tmp_path / "runs").iterdir())


@pytest.mark.slow
def test_a_facility_officer_sends_the_day_of_their_own_facility(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    report = _run_daily(store, actors["hn01"], national, [_day(tmp_path)], tmp_path)
    assert report.publish.new_records == 46
    with store.transaction() as session:
        assert session.scalars(select(DailyFile.processed_by)).all() == ["hn01"]
        records = session.scalars(select(VaccinationRecord).where(
            VaccinationRecord.run_id == report.run_id)).all()
    assert {record.facility_id for record in records} == {"HN-01"}
    # The run folder's manifest is keyed with the store's audit key, as sign-batch checks it.
    assert store.audit_key is not None
    check_contents(report.run_dir, store.audit_key)


def test_the_same_file_twice_in_one_call_is_refused(
        store: Store, actors: dict[str, Actor], unpublished: National, tmp_path: Path) -> None:
    day = _day(tmp_path)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(day.read_bytes())
    before = _counts(store)
    with pytest.raises(InputError, match="the same file as .*day.csv .*: give it once"):
        _run_daily(store, actors["hanoi"], unpublished, [day, copy], tmp_path)
    assert _counts(store) == before


def test_a_file_of_another_schema_is_refused(
        store: Store, actors: dict[str, Actor], unpublished: National, tmp_path: Path) -> None:
    national = unpublished
    before = _counts(store)
    with pytest.raises(InputError, match="register.csv"):
        _run_daily(store, actors["hanoi"], national, [national.register], tmp_path)
    assert _counts(store) == before
    assert not any((tmp_path / "runs").iterdir())


# ---------------------------------------------------------------- register changes

def _certify(store: Store, person_id: str) -> None:
    from vaxtrust.store.tables import Certificate

    with store.transaction() as session:
        session.query(SigningTask).delete()    # the national run's queue, signed meanwhile
        session.add(Certificate(uvci=f"URN:UVCI:01:VN:{person_id}", person_id=person_id,
                                state="issued", issued_at="2026-01-01T00:00:00.000000Z",
                                issued_by="signer"))


@pytest.mark.slow
def test_register_changes_reverify_only_the_people_they_touch(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    from vaxtrust.app.register_changes import CHANGED_REASON, register_changes

    _certify(store, "001000000009")
    renamed = _person(7)
    renamed[1] = "Trịnh Công Sáu"              # another person's name under this ID now
    new_phone = _person(8)
    new_phone[4] = "0911111111"
    new_dob = _person(9)
    new_dob[2] = new_dob[2][:-2] + "27"        # the register's date of birth corrected
    changes = _write(tmp_path / "changes.csv", REGISTER_HEADER,
                     [renamed, new_phone, new_dob, _person(500)])   # and one new person
    report = register_changes(national.settings, store, actors["hanoi"], changes,
                              snapshot=False, runs_dir=tmp_path / "runs")
    assert (report.changed_people, report.vanished_people, report.records) == (3, 0, 3)
    assert report.run_dir is not None and store.audit_key is not None
    check_contents(report.run_dir, store.audit_key)
    with store.transaction() as session:
        records = {r.record_id: r for r in session.scalars(select(VaccinationRecord).where(
            VaccinationRecord.record_id.in_(["N7", "N8", "N9", "N10"])))}
        assert records["N7"].status == "review"
        assert CHANGED_REASON in records["N7"].reasons or records["N7"].status == "review"
        assert records["N8"].status == "verified"
        assert records["N10"].version == 1     # untouched people: not re-verified
        queued = {(t.person_id, t.action) for t in session.scalars(select(SigningTask))}
        assert ("001000000009", "revoke_and_reissue") in queued
    with pytest.raises(InputError, match="processed already"):
        register_changes(national.settings, store, actors["hanoi"], changes, snapshot=False,
                         runs_dir=tmp_path / "runs")


@pytest.mark.slow
def test_a_new_snapshot_reverifies_changed_people_and_sends_vanished_ones_to_review(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    from vaxtrust.app.register_changes import CHANGED_REASON, register_changes

    people = [_person(i) for i in range(400) if i != 10]   # person 10 left the register
    people[8][4] = "0911111111"                             # person 8 has a new phone
    snapshot = _write(tmp_path / "snapshot.csv", REGISTER_HEADER, people)
    report = register_changes(national.settings, store, actors["minh"], snapshot,
                              snapshot=True, runs_dir=tmp_path / "runs")
    assert (report.changed_people, report.vanished_people, report.records) == (1, 1, 2)
    assert report.back_to_review == 1
    with store.transaction() as session:
        record = session.get(VaccinationRecord, "N10")
        assert record is not None and record.status == "review"
        assert CHANGED_REASON in record.reasons
        assert session.get(VaccinationRecord, "N8").status == "verified"  # type: ignore[union-attr]
        assert session.get(VaccinationRecord, "N11").version == 1  # type: ignore[union-attr]


def _move_to_province_79(store: Store, record_id: str) -> None:
    from vaxtrust.store.tables import Facility, Province

    with store.transaction() as session:
        session.merge(Province(code="79"))
        session.merge(Facility(facility_id="HCM-01", province_code="79"))
        record = session.get(VaccinationRecord, record_id)
        assert record is not None
        record.facility_id, record.province_code = "HCM-01", "79"


@pytest.mark.slow
def test_register_changes_outside_a_province_officers_scope_are_refused_before_any_work(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    from vaxtrust.app.register_changes import register_changes
    from vaxtrust.store.tables import AuditEventRow

    _move_to_province_79(store, "N12")        # person 12 was vaccinated in province 79
    moved, kept = _person(12), _person(13)
    moved[4], kept[4] = "0911111112", "0911111113"
    changes = _write(tmp_path / "changes.csv", REGISTER_HEADER, [moved, kept])
    snapshot = _write(tmp_path / "snapshot.csv", REGISTER_HEADER, [_person(i) for i in range(9)])
    before = _counts(store)
    with pytest.raises(PermissionDenied, match=r"1 of 2 records are outside your scope, in "
                                               r"provinces 79 \(1\)"):
        register_changes(national.settings, store, actors["hanoi"], changes, snapshot=False,
                         runs_dir=tmp_path / "runs")
    with pytest.raises(PermissionDenied, match="may not apply a whole register snapshot"):
        register_changes(national.settings, store, actors["hanoi"], snapshot, snapshot=True,
                         runs_dir=tmp_path / "runs")
    assert _counts(store) == before
    assert not (tmp_path / "runs").exists()
    with store.transaction() as session:
        refused = session.scalars(select(AuditEventRow.actor).where(
            AuditEventRow.event_type == "action_refused")).all()
    assert refused == ["hanoi", "hanoi"]
    report = register_changes(national.settings, store, actors["minh"], changes,
                              snapshot=False, runs_dir=tmp_path / "runs")
    assert (report.changed_people, report.records) == (2, 2)


# ---------------------------------------------------------------- watching a folder

@pytest.mark.slow
def test_a_watched_folder_processes_each_file_once_across_restarts(
        store: Store, actors: dict[str, Actor], national: National, tmp_path: Path) -> None:
    from vaxtrust.app.daily import WatchState, watch_once

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    _day(inbox, "monday.csv")

    def look(state: WatchState) -> list[str]:
        reports = watch_once(national.settings, store, actors["hanoi"], inbox, state,
                             register=national.register, runs_dir=tmp_path / "runs")
        return [done.path.name for report in reports for done in report.files]

    state = WatchState({}, {})
    assert look(state) == []                   # first seen: it may still be being copied
    assert look(state) == ["monday.csv"]
    assert look(state) == []
    restarted = WatchState({}, {})
    assert look(restarted) == [] and look(restarted) == []   # the ledger remembers
    assert _snapshots_taken(store) == 1
    _write(inbox / "tuesday.csv", RECORD_HEADER, [_dose("T1", 50, 2, "2021-09-16")])
    _write(inbox / "tuesday-2.csv", RECORD_HEADER, [_dose("T2", 51, 2, "2021-09-16")])
    (inbox / "notes.txt").write_text("not a data file", encoding="utf-8")
    _write(inbox / "broken.csv", ["what"], [["nothing"]])
    assert look(restarted) == []
    assert sorted(look(restarted)) == ["tuesday-2.csv", "tuesday.csv"]
    assert look(restarted) == []               # the broken file is not retried unchanged
    assert list(restarted.failed.values())[0].startswith("file ")
    # One progress snapshot per look, after its last file, counting both files' records.
    assert _snapshots_taken(store) == 2
    with store.transaction() as session:
        assert session.scalar(select(func.sum(ProgressSnapshot.records)).where(
            ProgressSnapshot.snapshot_date == today_vn().isoformat())) == session.scalar(
            select(func.count()).select_from(VaccinationRecord))


def _snapshots_taken(store: Store) -> int:
    from vaxtrust.store.tables import AuditEventRow

    with store.transaction() as session:
        return session.scalar(select(func.count()).where(
            AuditEventRow.event_type == "snapshot_taken")) or 0


def test_daily_takes_files_or_a_watched_folder_not_both(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vaxtrust.cli import app
    from vaxtrust.errors import ConfigError

    result = CliRunner().invoke(app, ["daily", "--register", str(tmp_path / "r.csv")])
    assert isinstance(result.exception, ConfigError)
    result = CliRunner().invoke(app, ["daily", str(tmp_path / "a.csv"), "--watch", str(tmp_path),
                                      "--register", str(tmp_path / "r.csv")])
    assert isinstance(result.exception, ConfigError)
