"""The whole cleaning run on a small synthetic province, its outputs, and its failure modes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.pipeline.conftest import Province
from vaxtrust.console import RecordingConsole
from vaxtrust.errors import InputError, PipelineStageError
from vaxtrust.pipeline import consolidate as consolidate_module
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.pipeline.summary import RunSummary
from vaxtrust.schema import DOSE_HISTORY_COLUMNS, RESULT_COLUMNS

SETTINGS = CleanSettings(today=dt.date(2026, 1, 1), write_csv=True)


def test_end_to_end(province: Province, tmp_path: Path) -> None:
    console = RecordingConsole()
    out = tmp_path / "run"
    summary = clean(province.records, province.register, out, settings=SETTINGS,
                    console=console)
    assert sorted(p.name for p in out.iterdir()) == [
        "contents.json", "dose_history.parquet", "persons.parquet", "records.parquet", "rejects.csv",
        "results.csv", "results.parquet", "review_candidates.parquet", "run.json",
        "summary.json"]
    # in = accepted + rejected, per file and in total
    assert summary.records.rows_in == 60 + 63
    assert summary.records.rows_in == summary.records.accepted + summary.records.rejected
    assert summary.records.rejected == 3 and summary.records.duplicates_collapsed == 1
    results = pq.read_table(out / "results.parquet")
    assert tuple(results.schema.names) == RESULT_COLUMNS
    statuses = dict(zip(results.column("record_id").to_pylist(),
                        results.column("status").to_pylist(), strict=True))
    # 60 + 59 accepted (S0 reused N0's id and was rejected), S98 and S99 rejected with an id
    assert len(statuses) == summary.results == 60 + 59 + 2
    assert statuses["N5"] == statuses["S5"] == "verified"
    assert statuses["S98"] == statuses["S99"] == "rejected"
    assert summary.by_status["verified"] == 119
    history = pq.read_table(out / "dose_history.parquet")
    assert tuple(history.schema.names) == DOSE_HISTORY_COLUMNS
    assert summary.persons_with_doses == 60
    assert {row["facility"]: row["total"] for row in summary.by_facility} == {
        "F-NORTH": 60, "F-SOUTH": 61}
    assert RunSummary.read(out / "summary.json").by_status == summary.by_status
    rejects = (out / "rejects.csv").read_text(encoding="utf-8")
    assert rejects.startswith("\ufeffsource,row_number,record_id,field,value,reason")  # for Excel
    assert "duplicate_record_id" in rejects and "dose_number_out_of_range" in rejects
    assert {"ingest records", "standardise", "consolidate", "outputs"} <= set(console.stages())


def test_the_run_folder_keeps_its_id_settings_and_publish_ready_tables(
        province: Province, tmp_path: Path) -> None:
    out = tmp_path / "run"
    summary = clean(province.records, province.register, out, settings=SETTINGS)
    manifest = RunManifest.read(out)
    assert manifest.run_id == summary.run_id and manifest.run_id.startswith("run-")
    assert RunSummary.read(out / "summary.json").run_id == manifest.run_id
    assert manifest.engine == "duckdb"
    # the settings it used, "today" included: the store recomputes dose histories with them
    assert manifest.clean_settings() == dataclasses.replace(SETTINGS, write_csv=False)
    assert manifest.settings["cleaning"]["today"] == "2026-01-01"
    records = {row["record_id"]: row for row in pq.read_table(out / "records.parquet").to_pylist()}
    results = pq.read_table(out / "results.parquet").to_pylist()
    assert set(records) == {row["record_id"] for row in results}
    n5 = records["N5"]
    assert (n5["facility_id"], n5["province_code"], n5["status"]) == ("F-NORTH", "01", "verified")
    assert n5["original_province"] == "Hà Nội" and n5["original_dob"].count("/") == 2
    assert n5["input_order"] < records["N6"]["input_order"] < records["S6"]["input_order"]
    rejected = records["S99"]  # rejected at ingest: no originals, but its facility's record
    assert (rejected["facility_id"], rejected["province_code"]) == ("F-SOUTH", "unknown")
    assert rejected["original_full_name"] is None and rejected["status"] == "rejected"
    persons = pq.read_table(out / "persons.parquet")
    linked = {row["person_id"] for row in results if row["person_id"]}
    assert linked <= set(persons.column("person_id").to_pylist())


def test_a_failing_stage_leaves_no_output_folder(province: Province, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> str:
        return "SELECT no_such_column FROM decisions"

    monkeypatch.setattr(consolidate_module, "dose_history_sql", broken)
    with pytest.raises(PipelineStageError, match="consolidate"):
        clean(province.records, province.register, tmp_path / "run", settings=SETTINGS)
    assert list(tmp_path.glob("*run*")) == []


def test_a_failed_rerun_keeps_the_previous_run(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "run"
    clean(province.records, province.register, out, settings=SETTINGS)
    before = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    with pytest.raises(InputError):
        clean([tmp_path / "missing.csv"], province.register, out, settings=SETTINGS)
    assert json.loads((out / "summary.json").read_text(encoding="utf-8")) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_register_without_usable_rows_is_an_input_error(province: Province,
                                                          tmp_path: Path) -> None:
    register = tmp_path / "empty_register.csv"
    register.write_text("person_id,full_name,dob\n,Không Số,1990-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match="no usable register rows.*row 1, person_id"):
        clean(province.records, register, tmp_path / "run", settings=SETTINGS)
    assert not (tmp_path / "run").exists()
