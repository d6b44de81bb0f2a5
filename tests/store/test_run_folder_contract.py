"""The run folder is the whole contract: publish needs nothing of the original inputs."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import select

from vaxtrust.app.clean import clean
from vaxtrust.app.publish import publish
from vaxtrust.config import load_settings
from vaxtrust.demo.generate import RECORDS_FILE, REGISTER_FILE, GenerateOptions, generate
from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor
from vaxtrust.store.tables import DoseHistory, Person, Run, VaccinationRecord

TODAY = dt.date(2022, 9, 1)


@pytest.fixture(scope="module")
def run_without_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated province cleaned, then its input files deleted."""
    folder = tmp_path_factory.mktemp("contract")
    data = folder / "data"
    generate(GenerateOptions(persons=300, seed=11, out=data))
    settings = load_settings(cleaning={"today": TODAY}, engine={"threads": 1})
    clean(settings, [data / RECORDS_FILE], data / REGISTER_FILE, folder / "run")
    shutil.rmtree(data)
    return folder / "run"


def test_publish_reads_only_the_run_folder(
    store: Store, actors: dict[str, Actor], run_without_inputs: Path
) -> None:
    run = run_without_inputs
    report = publish(store, actors["minh"], run)
    records = {row["record_id"]: row for row in pq.read_table(run / "records.parquet").to_pylist()}
    assert report.run_id == RunManifest.read(run).run_id
    assert report.new_records == report.records == len(records) > 300
    with store.transaction() as session:
        stored = {r.record_id: r for r in session.scalars(select(VaccinationRecord))}
        saved = session.get(Run, report.run_id)
        persons = set(session.scalars(select(Person.person_id)))
        doses = session.scalar(select(DoseHistory).limit(1))
    assert set(stored) == set(records)
    for record_id, row in records.items():
        record = stored[record_id]
        assert (record.status, record.person_id, record.full_name, record.original_dob) == (
            row["status"], row["person_id"], row["full_name"], row["original_dob"])
        assert record.commune_code == row["commune_code"]
        if row["facility_id"] != "unassigned" and row["province_code"] != "unknown":
            assert record.province_code == row["province_code"]
    assert persons == set(pq.read_table(run / "persons.parquet").column("person_id").to_pylist())
    assert doses is not None
    assert saved is not None and '"today": "2022-09-01"' in (saved.settings or "")


def test_publishing_again_changes_nothing(
    store: Store, actors: dict[str, Actor], run_without_inputs: Path
) -> None:
    first = publish(store, actors["minh"], run_without_inputs)
    again = publish(store, actors["minh"], run_without_inputs)
    assert again.already_published and again.run_id == first.run_id
