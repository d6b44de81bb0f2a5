"""Publishing a cleaning run: bulk, idempotent, newer runs keep decisions, bad input refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from tests.store.conftest import snapshot, table_counts
from tests.store.factory import PEOPLE, baseline, comparison, result
from vaxtrust.errors import InputError, PermissionDenied, StoreError
from vaxtrust.review.queue import AcceptCandidate, decide, list_items
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishReport, RunFolder, publish_run
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import (
    Correction,
    DoseHistory,
    ReviewItem,
    SigningTask,
    VaccinationRecord,
)


def _publish(store: Store, actor: Actor, run_dir: Path,
             facilities: Path | None = None) -> PublishReport:
    with store.transaction() as session:
        return publish_run(session, actor, RunFolder.open(run_dir, facilities))


def test_publish_loads_records_items_doses_and_queues_signing(
    published: Store, actors: dict[str, Actor]
) -> None:
    counts = table_counts(published)
    assert counts["vaccination_record"] == 8
    assert counts["review_item"] == 2 and counts["review_candidate"] == 3
    assert counts["dose_history"] == 4
    with published.transaction() as session:
        corrected = session.get(VaccinationRecord, "R2")
        assert corrected is not None
        assert corrected.original_full_name == "Tran Thi Binh"
        assert corrected.full_name == "Trần Thị Bình"
        assert corrected.status == "corrected" and corrected.person_id == PEOPLE[1][0]
        change = session.scalars(select(Correction).where(Correction.record_id == "R2")).one()
        assert (change.field, change.old_value, change.new_value) == (
            "full_name", "Tran Thi Binh", "Trần Thị Bình")
        assert "name_tone_style" in change.reason and change.actor == "minh"
        queued = set(session.scalars(select(SigningTask.person_id)))
    # Everyone the run linked waits for signing; nobody under review or unmatched does.
    assert queued == {PEOPLE[0][0], PEOPLE[1][0], PEOPLE[2][0], PEOPLE[3][0]}


def test_facilities_and_provinces_follow_the_records(published: Store) -> None:
    with published.transaction() as session:
        r5 = session.get(VaccinationRecord, "R5")
        assert r5 is not None
        assert (r5.facility_id, r5.province_code, r5.commune_code) == ("HCM-01", "79", "26734")


def test_publishing_the_same_run_twice_changes_nothing(
    published: Store, actors: dict[str, Actor], run1: Path
) -> None:
    before = snapshot(published)
    report = _publish(published, actors["minh"], run1)
    assert report.already_published
    assert snapshot(published) == before


def test_a_copied_run_directory_is_the_same_run(
    published: Store, actors: dict[str, Actor], run1: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(run1, tmp_path / "copy")
    assert _publish(published, actors["minh"], copy).already_published


def _second_run() -> baseline:  # type: ignore[valid-type]
    """A newer run: R3 still under review (new candidate order), R6 now corrected, R4 linked."""
    spec = baseline()
    spec.run_id = "run-2"
    p = PEOPLE
    spec.results = [row for row in spec.results if row["record_id"] not in ("R4", "R6", "R3")]
    spec.results += [
        result("R3", "review", None, ["dob_year_typo", "name_common"]),
        result("R4", "unmatched"),
        result("R6", "corrected", p[4][0], ["id_leading_zero_lost"], full_name=p[4][1],
               id_number=p[4][0]),
    ]
    spec.candidates = [
        {"record_id": "R3", "rank": 1, "person_id": p[1][0], "match_probability": 0.5,
         "comparison": comparison(("Lê Thị Cúc", p[1][1]), ("1907-11-30", p[1][2])),
         "reasons": []},
    ]
    return spec


def test_newer_run_supersedes_open_items_and_keeps_decisions(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    officer = actors["hn01"]
    with published.transaction() as session:
        r3_item = list_items(session, officer).items[0]
        decide(session, officer, r3_item.id, AcceptCandidate(1))
    report = _publish(published, actors["minh"], _second_run().write(tmp_path / "run2"))
    assert not report.already_published
    assert report.kept_decisions == 1          # R3: decided by an officer, left alone
    assert report.superseded_items == 1        # R6's open item
    assert report.review_items == 0
    with published.transaction() as session:
        r3 = session.get(VaccinationRecord, "R3")
        r6 = session.get(VaccinationRecord, "R6")
        assert r3 is not None and r6 is not None
        assert r3.person_id == PEOPLE[2][0] and r3.decided and r3.run_id == "run-1"
        assert r6.status == "corrected" and r6.person_id == PEOPLE[4][0]
        assert r6.run_id == "run-2" and r6.first_run_id == "run-1"
        assert r6.original_full_name == "Hoang Thi Em"
        states = {r.record_id: r.state for r in session.execute(select(ReviewItem.record_id, ReviewItem.state))}
        assert states == {"R3": "decided", "R6": "superseded"}
        fields = set(session.scalars(select(Correction.field).where(
            Correction.record_id == "R6", Correction.run_id == "run-2")))
        assert fields == {"full_name", "id_number", "person_id", "status"}
        queued = set(session.scalars(select(SigningTask.person_id)))
        assert PEOPLE[4][0] in queued


def test_dose_history_of_a_decided_record_keeps_the_decided_person(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    with published.transaction() as session:
        item = list_items(session, actors["hn01"]).items[0]
        decide(session, actors["hn01"], item.id, AcceptCandidate(1))
    spec = _second_run()
    from tests.store.factory import dose

    spec.doses.append(dose(PEOPLE[1][0], "R3", "HN-01", 2))   # the run would move R3
    _publish(published, actors["minh"], spec.write(tmp_path / "run2"))
    with published.transaction() as session:
        owners = set(session.scalars(select(DoseHistory.person_id)
                                     .where(DoseHistory.record_id == "R3")))
    assert PEOPLE[1][0] not in owners


def test_a_run_id_reused_with_other_files_is_refused(
    published: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    spec = _second_run()
    spec.run_id = "run-1"
    with pytest.raises(StoreError, match="run id run-1 was published before"):
        _publish(published, actors["minh"], spec.write(tmp_path / "again"))


def test_only_ministry_and_province_users_publish(
    store: Store, actors: dict[str, Actor], run1: Path
) -> None:
    with pytest.raises(PermissionDenied, match="hn01"):
        _publish(store, actors["hn01"], run1)
    assert table_counts(store)["vaccination_record"] == 0


@pytest.mark.parametrize("missing", ["run.json", "records.parquet", "persons.parquet"])
def test_a_run_folder_missing_a_contract_file_is_refused(
    tmp_path: Path, store: Store, actors: dict[str, Actor], missing: str
) -> None:
    run_dir = baseline().write(tmp_path / "run")
    (run_dir / missing).unlink()
    with pytest.raises(InputError, match=f"{missing} is missing"):
        _publish(store, actors["minh"], run_dir)
    assert table_counts(store)["vaccination_record"] == 0


@pytest.mark.parametrize(("damage", "message"), [
    (lambda spec: spec.results.append(result("R1", "verified", PEOPLE[0][0])),
     "record_id repeated in records: R1"),
    (lambda spec: spec.results.__setitem__(0, result("R1", "matched", PEOPLE[0][0])),
     "unknown status"),
    (lambda spec: spec.results.__setitem__(0, result("R1", "verified", None)),
     "linked records without person_id: R1"),
    (lambda spec: spec.results.__setitem__(0, result("R1", "verified", "999999999999")),
     "records link persons missing from the register extract: R1 → 999999999999"),
    (lambda spec: spec.candidates.append({**spec.candidates[0], "record_id": "R1"}),
     "candidates for records that are not under review: R1"),
    (lambda spec: spec.candidates.append({**spec.candidates[0]}),
     "candidate rank repeated: R3 rank 1"),
    (lambda spec: spec.candidates.append({**spec.candidates[0], "rank": 3,
                                          "person_id": "999999999999"}),
     "candidates missing from the register extract: 999999999999"),
])
def test_bad_runs_are_refused_naming_the_rows(
    store: Store, actors: dict[str, Actor], tmp_path: Path, damage: object, message: str
) -> None:
    spec = baseline()
    damage(spec)  # type: ignore[operator]
    run_dir = spec.write(tmp_path / "bad")
    with pytest.raises(InputError, match=message):
        _publish(store, actors["minh"], run_dir)
    assert table_counts(store)["vaccination_record"] == 0


@pytest.mark.parametrize(("name", "column"), [
    ("records.parquet", "status"), ("persons.parquet", "dob"),
    ("review_candidates.parquet", "rank"), ("dose_history.parquet", "vaccinated_on"),
])
def test_run_tables_missing_a_column_are_refused(
    store: Store, actors: dict[str, Actor], tmp_path: Path, name: str, column: str
) -> None:
    import pyarrow.parquet as pq

    run_dir = baseline().write(tmp_path / "run")
    table = pq.read_table(run_dir / name).drop_columns([column])
    pq.write_table(table, run_dir / name)
    with pytest.raises(InputError, match=f"{name}: missing columns: {column}"):
        _publish(store, actors["minh"], run_dir)


def test_the_run_id_and_settings_come_from_the_runs_manifest(
    store: Store, actors: dict[str, Actor], tmp_path: Path
) -> None:
    from vaxtrust.store.tables import Run

    spec = baseline()
    spec.run_id = "run-20220630T000000Z-0a1b2c3d"
    report = _publish(store, actors["minh"], spec.write(tmp_path / "run"))
    assert report.run_id == "run-20220630T000000Z-0a1b2c3d"
    with store.transaction() as session:
        run = session.get(Run, report.run_id)
        assert run is not None and run.settings is not None
        assert json.loads(run.settings)["cleaning"]["today"] == "2022-06-30"


def test_a_facilities_file_places_facilities_in_their_province(
    store: Store, actors: dict[str, Actor], run1: Path, tmp_path: Path
) -> None:
    facilities = tmp_path / "facilities.csv"
    facilities.write_text("facility_id,name,province_code\nHN-02,Trạm Y tế Phường 4,1\n",
                          encoding="utf-8")
    _publish(store, actors["minh"], run1, facilities)
    from vaxtrust.store.tables import Facility

    with store.transaction() as session:
        facility = session.get(Facility, "HN-02")
        assert facility is not None
        assert (facility.name, facility.province_code) == ("Trạm Y tế Phường 4", "01")


def test_a_large_publish_on_postgresql_refreshes_the_planner_statistics(
    store: Store, actors: dict[str, Actor], run1: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vaxtrust.store import publish

    def analysed() -> set[str]:
        with store.transaction() as session:
            return set(session.scalars(text(
                "SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = current_schema() "
                "AND tablename IN ('vaccination_record', 'review_item', 'person')")))

    if store.engine.dialect.name != "postgresql":
        with store.transaction() as session:
            assert not publish.refresh_statistics(session.connection())
        return
    assert analysed() == set()
    monkeypatch.setattr(publish, "ANALYZE_AFTER", 8)     # the baseline run has 8 records
    _publish(store, actors["minh"], run1)
    assert analysed() == {"vaccination_record", "review_item", "person"}


def test_a_publish_small_beside_a_table_leaves_its_statistics_alone(
    published: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A day's records beside a store of millions: sampling the large tables again costs
    seconds and changes nothing; a table the publish grows by its share is analysed."""
    from vaxtrust.store import publish

    if published.engine.dialect.name != "postgresql":
        return
    with published.transaction() as session:
        session.execute(text("ANALYZE"))      # vaccination_record: 8 rows, review_item: 2
    monkeypatch.setattr(publish, "ANALYZE_SHARE", 0.5)
    with published.transaction() as session:
        analysed = publish.refresh_statistics(session.connection(), 2)
    assert "review_item" in analysed and "vaccination_record" not in analysed
    with published.transaction() as session:
        assert set(publish.refresh_statistics(session.connection())) == set(
            publish.WRITTEN_TABLES)


def test_a_small_publish_leaves_the_statistics_to_autovacuum(
    store: Store, actors: dict[str, Actor], run1: Path
) -> None:
    _publish(store, actors["minh"], run1)
    if store.engine.dialect.name == "postgresql":
        with store.transaction() as session:
            assert session.scalar(text(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'vaccination_record'")) == 0
