"""How long a daily run takes against a large register and store, and whether it is as accurate
as the national run (issue 17; targets: 1,000 records ≤ 10 s and 100,000 ≤ 60 s against a 10 M
register and a 20 M-record store; a register change touching 10,000 people ≤ 60 s).

Only generated people. Steps, each timed:

1. a register of ``--persons`` people (Parquet, DuckDB);
2. the national run: ``--train`` records cleaned against it (trains and saves the model), then
   published into a fresh PostgreSQL database ``bench_daily`` (or SQLite);
3. the store grown to ``--store`` records by set-based SQL (``generate_series``), two doses per
   person, with their persons and dose histories: not by the pipeline;
4. each ``--day`` size: a file of third doses of stored people (10 % without an ID, half of those
   typed without diacritics) through ``vaxtrust.app.daily.daily``;
5. a register change touching ``--touch`` people (new phone numbers; 1 in 10 also a new name)
   through ``vaxtrust.app.register_changes.register_changes``;
6. accuracy on the first day's records: the daily run against the truth, beside a national run
   (training file + the day's file, trained from scratch) on the same records.

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_daily.py \\
        --persons 1000000 --store 2000000 --day 1000 --day 100000 --touch 10000
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import time
from pathlib import Path

import duckdb
from sqlalchemy import create_engine, text

from vaxtrust.app.daily import daily
from vaxtrust.app.publish import publish
from vaxtrust.app.register_changes import register_changes
from vaxtrust.config import load_settings
from vaxtrust.pipeline.run import clean
from vaxtrust.store.db import Store
from vaxtrust.store.scope import load_actor
from vaxtrust.store.users import add_user

ADMIN_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "bench_daily"
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
            "Đỗ"]
MIDDLES = ["Văn", "Thị", "Hữu", "Ngọc", "Minh", "Thanh", "Quốc", "Xuân"]
GIVENS = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Phúc",
          "Quang", "Sơn", "Tâm", "Uyên", "Vinh", "Yến", "Hùng", "Linh", "Trang"]


def _pick(values: list[str], index: str, dialect: str) -> str:
    quoted = ", ".join(f"'{value}'" for value in values)
    array = f"ARRAY[{quoted}]" if dialect == "postgres" else f"[{quoted}]"
    return f"({array})[1 + ({index}) % {len(values)}]"


def _div(p: str, by: int) -> str:
    """Integer division that means the same in DuckDB (where / is real) and PostgreSQL."""
    return f"CAST((CAST({p} AS BIGINT) - CAST({p} AS BIGINT) % {by}) / {by} AS BIGINT)"


def person_sql(dialect: str, p: str = "p") -> dict[str, str]:
    """A person's register values from their number ``p``: plain arithmetic, identical in DuckDB
    and PostgreSQL, so the store's copies equal the register file's rows."""
    big = "BIGINT"
    name = (f"{_pick(SURNAMES, f'CAST({p} AS {big}) * 7', dialect)} || ' ' || "
            f"{_pick(MIDDLES, _div(p, 12), dialect)} || ' ' || "
            f"{_pick(GIVENS, _div(p, 96), dialect)}")
    return {
        "person_id": f"'001' || lpad(CAST({p} AS VARCHAR), 9, '0')",
        "full_name": name,
        "dob": f"CAST(DATE '1940-01-01' + CAST((CAST({p} AS {big}) * 7919) % 25000 AS INTEGER) "
               "AS VARCHAR)",
        "gender": f"CASE WHEN {p} % 2 = 0 THEN 'M' ELSE 'F' END",
        "province_code": "'01'", "district_code": "'001'",
        "commune_code": f"lpad(CAST({p} % 300 AS VARCHAR), 5, '0')",
    }


def make_register(folder: Path, persons: int) -> Path:
    cols = person_sql("duckdb")
    path = folder / "register.parquet"
    duckdb.sql(f"""COPY (SELECT {cols['person_id']} AS person_id, NULL::VARCHAR AS old_id,
        {cols['full_name']} AS full_name, {cols['dob']} AS dob, 'day' AS dob_precision,
        {cols['gender']} AS gender, '01' AS province_code, '001' AS district_code,
        {cols['commune_code']} AS commune_code, NULL::VARCHAR AS phone
        FROM range({persons}) t(p)) TO '{path}' (FORMAT parquet)""")
    return path


def make_doses(path: Path, persons: str, *, prefix: str, dose: int, day: str) -> Path:
    """Dose records of the people ``persons`` (a query of ``p``): 10 % without an ID."""
    cols = person_sql("duckdb")
    name = (f"CASE WHEN p % 20 = 3 THEN strip_accents({cols['full_name']}) "
            f"ELSE {cols['full_name']} END")
    duckdb.sql(f"""COPY (SELECT '{prefix}' || p AS record_id, {name} AS full_name,
        {cols['dob']} AS dob, CASE WHEN p % 2 = 0 THEN 'Nam' ELSE 'Nữ' END AS gender,
        CASE WHEN p % 10 = 3 THEN NULL ELSE {cols['person_id']} END AS id_number,
        '{dose}' AS dose_number, 'AstraZeneca' AS vaccine, '{day}' AS vaccinated_on,
        'F' || (p % 200) AS facility_id, 'Hà Nội' AS province
        FROM ({persons})) TO '{path}' (FORMAT csv, HEADER true)""")
    return path


def grow_store(url: str, persons: int, store_records: int, run_id: str) -> None:
    """Two doses per person for the first ``store_records / 2`` people, by set-based SQL."""
    people = store_records // 2
    pg = url.startswith("postgresql")
    cols = person_sql("postgres" if pg else "sqlite")
    series = (f"generate_series(0, {people - 1}) AS t(p)" if pg else
              f"(WITH RECURSIVE s(p) AS (SELECT 0 UNION ALL SELECT p + 1 FROM s "
              f"WHERE p < {people - 1}) SELECT p FROM s) AS t")
    engine = create_engine(url)
    with engine.begin() as connection:
        run = connection.execute(text(
            "SELECT count(*) FROM vaccination_record")).scalar()
        print(f"  store before growing: {run:,} records")
        connection.execute(text(f"""
            INSERT INTO person (person_id, full_name, dob, dob_precision, gender, province_code,
                                district_code, commune_code)
            SELECT {cols['person_id']}, {cols['full_name']}, {cols['dob']}, 'day',
                   {cols['gender']}, '01', '001', {cols['commune_code']}
            FROM {series} ON CONFLICT (person_id) DO NOTHING"""))
        for dose, day in ((1, "2021-07-01"), (2, "2021-10-01")):
            connection.execute(text(f"""
                INSERT INTO vaccination_record (
                    record_id, facility_id, province_code, commune_code, original_full_name,
                    original_dob, original_gender, original_id_number, original_dose_number,
                    original_vaccine, original_vaccinated_on, original_facility_id,
                    original_province, full_name, dob, gender, id_number, status, person_id,
                    confidence, reasons, run_id, first_run_id, decided, version, updated_at,
                    input_order)
                SELECT 'S{dose}-' || p, 'F' || (p % 200), '01', {cols['commune_code']},
                       {cols['full_name']}, {cols['dob']},
                       CASE WHEN p % 2 = 0 THEN 'Nam' ELSE 'Nữ' END, {cols['person_id']},
                       '{dose}', 'AstraZeneca', '{day}', 'F' || (p % 200), 'Hà Nội',
                       {cols['full_name']}, {cols['dob']}, {cols['gender']},
                       {cols['person_id']}, 'verified', {cols['person_id']}, 1.0, '[]',
                       '{run_id}', '{run_id}', false, 1, '2026-01-01T00:00:00.000000Z', p
                FROM {series} ON CONFLICT (record_id) DO NOTHING"""))
            connection.execute(text(f"""
                INSERT INTO dose_history (person_id, record_id, dose_number, vaccine_mp,
                                          vaccinated_on, facility_id, flags, run_id)
                SELECT {cols['person_id']}, 'S{dose}-' || p, {dose}, 'EU/1/21/1529', '{day}',
                       'F' || (p % 200), '[]', '{run_id}'
                FROM {series} ON CONFLICT DO NOTHING"""))
        connection.execute(text("""
            INSERT INTO facility (facility_id, province_code)
            SELECT DISTINCT facility_id, '01' FROM vaccination_record
            WHERE facility_id NOT IN (SELECT facility_id FROM facility)"""))
    if pg:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def score(results: Path, prefix: str) -> dict[str, float]:
    """Wrong links, recall and review share of the records named ``prefix<p>`` (truth: p)."""
    where = f"record_id LIKE '{prefix}%'"
    row = duckdb.sql(f"""
        SELECT count(*) AS n,
               count(*) FILTER (WHERE person_id IS NOT NULL AND person_id <>
                   '001' || lpad(substr(record_id, {len(prefix) + 1}), 9, '0')) AS wrong,
               count(*) FILTER (WHERE person_id IS NOT NULL) AS linked,
               count(*) FILTER (WHERE status = 'review') AS review
        FROM '{results}' WHERE {where}""").fetchall()[0]
    n, wrong, linked, review = row
    return {"records": n, "wrong_links": wrong, "recall": (linked - wrong) / max(n, 1),
            "review_share": review / max(n, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--store", type=int, default=2_000_000)
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--day", type=int, action="append")
    parser.add_argument("--touch", type=int, default=10_000)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--no-accuracy", action="store_true",
                        help="Skip the national run on the day's records (a large register).")
    parser.add_argument("--folder", type=Path, default=Path("/work/bench-data/daily/bench"))
    args = parser.parse_args()
    days = args.day or [1000]
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    folder = args.folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    admin = create_engine(ADMIN_PG, isolation_level="AUTOCOMMIT")
    if args.backend == "postgres":
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB}"))
            connection.execute(text(f"CREATE DATABASE {BENCH_DB}"))
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{BENCH_DB}"
    else:
        url = f"sqlite:///{folder / 'store.db'}"
    settings = load_settings(None, store={"url": url}, engine={"threads": 2})
    try:
        _bench(args, days, folder, settings, url)
    finally:
        if args.backend == "postgres":
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        admin.dispose()


def _timed(label: str, started: float) -> float:
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s", flush=True)
    return seconds


def _bench(args: argparse.Namespace, days: list[int], folder: Path, settings: object,
           url: str) -> None:
    from vaxtrust.config import Settings

    assert isinstance(settings, Settings)
    started = time.perf_counter()
    register = make_register(folder, args.persons)
    _timed(f"register of {args.persons:,} people", started)
    # The national run trains on people beyond the store's (its records are published too).
    people = args.store // 2
    train = make_doses(folder / "national.csv",
                       f"SELECT {people} + range AS p FROM range({args.train})",
                       prefix="N", dose=1, day="2021-07-01")
    started = time.perf_counter()
    national = folder / "national"
    clean([train], register, national, settings=settings.clean_settings())
    _timed(f"national run ({args.train:,} records, trains the model)", started)
    store = Store.open(url)
    with store.transaction() as session:
        add_user(session, by=None, username="bench", role="ministry")
    with store.transaction() as session:
        actor = load_actor(session, "bench")
    publish(store, actor, national)
    run_id = __import__("json").loads((national / "run.json").read_text())["run_id"]
    started = time.perf_counter()
    grow_store(url, args.persons, args.store, run_id)
    _timed(f"store grown to {args.store:,} records by SQL", started)
    first_day: tuple[Path, Path] | None = None
    for index, size in enumerate(days):
        # Third doses of stored people spread over the store (other people each day).
        day = make_doses(folder / f"day-{index}-{size}.csv",
                         f"SELECT (range * 7919 + {index * 104729}) % {people} AS p "
                         f"FROM range({size})",
                         prefix="D" if index == 0 else f"E{index}-", dose=3, day="2022-03-01")
        started = time.perf_counter()
        report = daily(settings, store, actor, [day], register=register,
                       runs_dir=folder / "runs")
        seconds = _timed(f"daily {size:,} records"
                         + (" (reads the register, fills the cache)" if index == 0 else ""),
                         started)
        stages = __import__("json").loads((report.run_dir / "summary.json").read_text())
        print(f"  {size / seconds:,.0f} records/s; statuses {report.by_status}; context "
              f"{report.context_records:,}; histories recomputed {report.refreshed_people:,}; "
              f"queued {report.publish.signing_queued:,}; clean stages "
              f"{stages.get('stage_seconds')}", flush=True)
        first_day = first_day or (day, report.run_dir)
    touched = folder / "changes.parquet"
    cols = person_sql("duckdb")
    duckdb.sql(f"""COPY (SELECT {cols['person_id']} AS person_id, NULL::VARCHAR AS old_id,
        CASE WHEN p % 10 = 0 THEN 'Trịnh Công Sáu' ELSE {cols['full_name']} END AS full_name,
        {cols['dob']} AS dob, 'day' AS dob_precision, {cols['gender']} AS gender,
        '01' AS province_code, '001' AS district_code, {cols['commune_code']} AS commune_code,
        '09' || lpad(CAST(p AS VARCHAR), 8, '0') AS phone
        FROM (SELECT (range * 104729) % {people} AS p FROM range({args.touch})))
        TO '{touched}' (FORMAT parquet)""")
    started = time.perf_counter()
    change = register_changes(settings, store, actor, touched, snapshot=False,
                              runs_dir=folder / "runs")
    _timed(f"register change touching {args.touch:,} people", started)
    print(f"  changed {change.changed_people:,}, records re-verified {change.records:,}, back "
          f"to review {change.back_to_review:,}", flush=True)
    store.close()
    if first_day is not None and not args.no_accuracy:
        day, run_dir = first_day
        print("accuracy, daily run:", score(run_dir / "results.parquet", "D"))
        started = time.perf_counter()
        clean([train, day], register, folder / "national-with-day",
              settings=settings.clean_settings())
        _timed("national run on the training and day files", started)
        print("accuracy, national run on the same records:",
              score(folder / "national-with-day" / "results.parquet", "D"))


if __name__ == "__main__":
    main()
