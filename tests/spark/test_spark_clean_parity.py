"""`vaxtrust clean` gives the same answer for every record on Spark as on DuckDB.

A generated province of several thousand dose records (with the generator's full mix of errors:
tone styles, swapped dates, Excel-damaged IDs, mojibake, missing IDs) is cleaned on both
engines; status, person and corrections must agree record by record, and so must the review
queue, the dose histories and the rejects.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.spark.conftest import SPARK_TEST_OPTIONS
from vaxtrust.demo.generate import GenerateOptions, generate
from vaxtrust.engine import create_engine
from vaxtrust.errors import InputError
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.schema import RESULT_COLUMNS

pytestmark = pytest.mark.spark

SETTINGS = CleanSettings(today=dt.date(2022, 6, 1))


def _rows(table: pa.Table, key: tuple[str, ...]) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: tuple(str(row[k]) for k in key))


def _differences(spark: list[dict[str, Any]], reference: list[dict[str, Any]]) -> list[Any]:
    """Rows that differ; probabilities may differ in the last bits (sums in another order)."""
    def same(a: object, b: object) -> bool:
        if isinstance(a, float) and isinstance(b, float):
            return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
        return a == b

    assert len(spark) == len(reference)
    return [(s, r) for s, r in zip(spark, reference, strict=True)
            if s.keys() != r.keys() or not all(same(s[k], r[k]) for k in r)]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("province") / "data"
    # doubled error rates: enough hard records that some still need a person (review)
    generate(GenerateOptions(persons=1500, seed=11, out=folder, error_scale=2.0))
    return folder


@pytest.fixture(scope="module")
def runs(province: Path, spark_available: None,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    base = tmp_path_factory.mktemp("runs")
    inputs = ([province / "records.csv"], province / "register.parquet")
    clean(*inputs, base / "duckdb", settings=SETTINGS)
    with create_engine("spark", scratch_dir=base / "scratch", **SPARK_TEST_OPTIONS) as engine:
        clean(*inputs, base / "spark", settings=SETTINGS, engine=engine)
    yield base / "duckdb", base / "spark"


def test_every_record_gets_the_same_status_person_and_corrections(runs: tuple[Path, Path]) -> None:
    duckdb_run, spark_run = runs
    reference = pq.read_table(duckdb_run / "results.parquet")
    spark = pq.read_table(spark_run / "results.parquet")
    assert reference.num_rows > 3000
    assert tuple(spark.schema.names) == RESULT_COLUMNS
    assert _differences(_rows(spark, ("record_id",)), _rows(reference, ("record_id",))) == []
    # the comparison means something: the run holds every kind of outcome
    assert {"verified", "corrected", "review", "unmatched"} <= set(reference.column("status").to_pylist())


def test_review_queue_and_dose_histories_are_the_same(runs: tuple[Path, Path]) -> None:
    duckdb_run, spark_run = runs
    for name in ("review_candidates.parquet", "dose_history.parquet"):
        reference = pq.read_table(duckdb_run / name)
        spark = pq.read_table(spark_run / name)
        key = tuple(reference.schema.names)
        exact = tuple(k for k in key if not pa.types.is_floating(reference.schema.field(k).type))
        assert _differences(_rows(spark.select(key), exact), _rows(reference, exact)) == [], name


def test_rejects_and_summary_counts_are_the_same(runs: tuple[Path, Path]) -> None:
    duckdb_run, spark_run = runs
    reference_rejects = sorted((duckdb_run / "rejects.csv").read_text(encoding="utf-8").splitlines())
    spark_rejects = sorted((spark_run / "rejects.csv").read_text(encoding="utf-8").splitlines())
    assert spark_rejects == reference_rejects

    reference = json.loads((duckdb_run / "summary.json").read_text())
    spark = json.loads((spark_run / "summary.json").read_text())
    for part in ("records", "register", "by_status", "by_reason", "rejects_by_reason",
                 "review_candidates", "persons_with_doses", "dose_history_rows"):
        assert spark[part] == reference[part], part


def test_bad_input_gives_the_same_message_on_both_engines(
    spark_available: None, tmp_path: Path
) -> None:
    register = tmp_path / "register.csv"
    register.write_text("Họ và tên,Giới tính\nNguyễn Văn An,Nam\n", encoding="utf-8")
    records = tmp_path / "records.csv"
    records.write_text("Mã bản ghi,Họ và tên\nR1,Nguyễn Văn An\n", encoding="utf-8")
    messages = []
    for kind in ("duckdb", "spark"):
        options = SPARK_TEST_OPTIONS | {"scratch_dir": tmp_path / "s"} if kind == "spark" else {}
        with create_engine(kind, **options) as engine, pytest.raises(InputError) as info:
            clean([records], register, tmp_path / kind, settings=SETTINGS, engine=engine)
        messages.append(str(info.value))
        assert not (tmp_path / kind).exists()
    assert messages[0] == messages[1]
