"""How long ``vaxtrust publish`` takes for a large cleaning run (target: 1 million records in at
most 2 minutes on PostgreSQL).

Generates a synthetic run folder as ``vaxtrust clean`` writes it (results, review candidates,
dose history, the publish-ready records and persons tables, run.json; only generated people) with
DuckDB, publishes it into a fresh database, publishes it again (must change nothing), and prints
the time of each stage. Run it under the heavy lock:

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_publish.py --records 1000000
    uv run python benchmarks/bench_publish.py --records 100000 --backend sqlite
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from sqlalchemy import create_engine, make_url, text

from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.schema import (
    ORIGINAL_FIELDS,
    RUN_DOSE_HISTORY,
    RUN_PERSONS,
    RUN_RECORDS,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
)
from vaxtrust.store.db import Store
from vaxtrust.store.publish import RunFolder, publish_run
from vaxtrust.store.scope import load_actor
from vaxtrust.store.users import add_user

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

# Status mix of a realistic run: most records verified, some corrected, a few for review.
GENERATE_SQL = """
CREATE TABLE gen AS
SELECT i, i // 2 AS p,
       CASE WHEN i % 100 < 72 THEN 'verified' WHEN i % 100 < 87 THEN 'corrected'
            WHEN i % 100 < 95 THEN 'review' WHEN i % 100 < 99 THEN 'unmatched'
            ELSE 'rejected' END AS status
FROM range({n}) t(i);

CREATE TABLE register AS
SELECT '001' || lpad(CAST(p AS VARCHAR), 9, '0') AS person_id, NULL::VARCHAR AS old_id,
       'Nguyễn Văn ' || CAST(p AS VARCHAR) AS full_name,
       strftime(DATE '1950-01-01' + CAST(p % 20000 AS INTEGER), '%Y-%m-%d') AS dob,
       'day' AS dob_precision, CASE WHEN p % 2 = 0 THEN 'M' ELSE 'F' END AS gender,
       lpad(CAST(p % 63 + 1 AS VARCHAR), 2, '0') AS province_code, '001' AS district_code,
       lpad(CAST(p % 9000 AS VARCHAR), 5, '0') AS commune_code, NULL::VARCHAR AS phone
FROM (SELECT DISTINCT p FROM gen UNION SELECT max(p) + 1 FROM gen);

CREATE TABLE records AS
SELECT 'R' || CAST(g.i AS VARCHAR) AS record_id,
       CASE WHEN g.status = 'corrected' THEN 'Nguyen Van ' || CAST(g.p AS VARCHAR)
            ELSE r.full_name END AS full_name,
       strftime(CAST(r.dob AS DATE), '%d/%m/%Y') AS dob,
       CASE WHEN r.gender = 'M' THEN 'Nam' ELSE 'Nữ' END AS gender,
       CASE WHEN g.status IN ('review', 'unmatched') THEN '' ELSE r.person_id END AS id_number,
       '0912345678' AS phone, r.province_code AS province, '001' AS district,
       r.commune_code AS commune, CAST(g.i % 2 + 1 AS VARCHAR) AS dose_number,
       'Comirnaty' AS vaccine, 'FK1234' AS lot, '2021-09-01' AS vaccinated_on,
       'F' || lpad(CAST(g.p % 700 AS VARCHAR), 3, '0') AS facility_id
FROM gen g JOIN register r ON r.person_id = '001' || lpad(CAST(g.p AS VARCHAR), 9, '0');

CREATE TABLE results AS
SELECT 'R' || CAST(g.i AS VARCHAR) AS record_id, g.status,
       CASE WHEN g.status IN ('verified', 'corrected')
            THEN '001' || lpad(CAST(g.p AS VARCHAR), 9, '0') END AS person_id,
       CASE WHEN g.status = 'corrected' THEN 'Nguyễn Văn ' || CAST(g.p AS VARCHAR) END
           AS corrected_full_name,
       NULL::VARCHAR AS corrected_dob, NULL::VARCHAR AS corrected_gender,
       NULL::VARCHAR AS corrected_id_number,
       CASE WHEN g.status IN ('verified', 'corrected') THEN 0.99 END AS confidence,
       CASE g.status WHEN 'corrected' THEN ['name_tone_style'] WHEN 'review' THEN ['no_id']
            WHEN 'rejected' THEN ['dose_date_invalid'] ELSE []::VARCHAR[] END AS reasons
FROM gen g;

CREATE TABLE candidates AS
SELECT 'R' || CAST(g.i AS VARCHAR) AS record_id, k AS rank,
       '001' || lpad(CAST(g.p + k - 1 AS VARCHAR), 9, '0') AS person_id,
       CASE k WHEN 1 THEN 0.8 ELSE 0.3 END AS match_probability,
       '{{"full_name": {{"verdict": "equal"}}}}' AS comparison, ['no_id'] AS reasons
FROM gen g, range(1, 3) t(k) WHERE g.status = 'review';

CREATE TABLE doses AS
SELECT '001' || lpad(CAST(g.p AS VARCHAR), 9, '0') AS person_id,
       'R' || CAST(g.i AS VARCHAR) AS record_id, CAST(g.i % 2 + 1 AS INTEGER) AS dose_number,
       'EU/1/20/1528' AS vaccine_mp, 'ORG-100030215' AS vaccine_ma, '1119349007' AS vaccine_vp,
       DATE '2021-09-01' AS vaccinated_on,
       'F' || lpad(CAST(g.p % 700 AS VARCHAR), 3, '0') AS facility_id,
       NULL::VARCHAR AS duplicate_of, []::VARCHAR[] AS flags
FROM gen g WHERE g.status IN ('verified', 'corrected');

CREATE TABLE publish_records AS
SELECT res.record_id, rec.facility_id, rec.province AS province_code,
       lpad(rec.commune, 5, '0') AS commune_code,
       {originals},
       coalesce(res.corrected_full_name, rec.full_name) AS full_name,
       coalesce(res.corrected_dob, rec.dob) AS dob,
       coalesce(res.corrected_gender, rec.gender) AS gender,
       coalesce(res.corrected_id_number, rec.id_number) AS id_number,
       res.status, res.person_id, CAST(res.confidence AS DOUBLE) AS confidence, res.reasons,
       CAST(1000000000000 + row_number() OVER (ORDER BY rec.record_id) AS BIGINT) AS input_order
FROM results res JOIN records rec USING (record_id)
ORDER BY res.record_id;

CREATE TABLE persons AS
SELECT * FROM register p
WHERE p.person_id IN (SELECT person_id FROM results WHERE person_id IS NOT NULL)
   OR p.person_id IN (SELECT person_id FROM candidates)
   OR p.person_id IN (SELECT id_number FROM records);
"""


def generate_run(folder: Path, n: int) -> Path:
    run_dir = folder / "run"
    run_dir.mkdir(parents=True)
    con = duckdb.connect()
    originals = ", ".join(f"rec.{name} AS original_{name}" for name in ORIGINAL_FIELDS)
    con.execute(GENERATE_SQL.format(n=n, originals=originals))
    for table, name in (("results", RUN_RESULTS), ("candidates", RUN_REVIEW_CANDIDATES),
                        ("doses", RUN_DOSE_HISTORY), ("publish_records", RUN_RECORDS),
                        ("persons", RUN_PERSONS)):
        con.execute(f"COPY {table} TO '{run_dir / name}' (FORMAT parquet)")
    con.close()
    RunManifest(run_id=f"bench-{n}", created_at="2022-06-30T00:00:00+00:00",
                vaxtrust_version="bench", engine="duckdb",
                settings=CleanSettings().to_document(dt.date(2022, 6, 30))).write(run_dir)
    return run_dir


@dataclass
class TimingConsole:
    """Records how long each publish stage took."""

    started: dict[str, float] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def stage_started(self, stage: str, total: int | None = None) -> None:
        self.started[stage] = time.perf_counter()

    def rows_processed(self, stage: str, rows: int) -> None:
        pass

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        self.seconds[stage] = time.perf_counter() - self.started.pop(stage)

    def message(self, text: str) -> None:
        pass


def fresh_database(backend: str, folder: Path, admin_url: str) -> tuple[str, str | None]:
    if backend == "sqlite":
        return f"sqlite:///{folder / 'bench.db'}", None
    name = f"vaxtrust_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False), name


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def timed_publish(store: Store, run_dir: Path) -> tuple[float, TimingConsole, object]:
    console = TimingConsole()
    started = time.perf_counter()
    with store.transaction() as session:
        report = publish_run(session, load_actor(session, "bench"), RunFolder.open(run_dir),
                             console=console)
    return time.perf_counter() - started, console, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("postgres", "sqlite"), default="postgres")
    parser.add_argument("--admin-url", default=os.environ.get("VAXTRUST_BENCH_ADMIN_URL",
                                                              DEFAULT_PG))
    args = parser.parse_args()
    # The throw-away store's audit chain needs a key; a random one dies with the database.
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    with tempfile.TemporaryDirectory(prefix="bench-publish-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        run_dir = generate_run(folder, args.records)
        print(f"generated {args.records:,} records in {time.perf_counter() - started:.1f} s")
        url, database = fresh_database(args.backend, folder, args.admin_url)
        try:
            store = Store.open(url)
            with store.transaction() as session:
                add_user(session, by=None, username="bench", role="ministry")
            seconds, console, report = timed_publish(store, run_dir)
            print(f"publish ({args.backend}): {seconds:.1f} s, "
                  f"{args.records / seconds:,.0f} records/s")
            for stage, stage_seconds in console.seconds.items():
                print(f"  {stage:<36} {stage_seconds:7.1f} s")
            print(f"  {report}")
            again, _, second = timed_publish(store, run_dir)
            print(f"publish again (idempotent): {again:.1f} s, "
                  f"already published: {second.already_published}")  # type: ignore[attr-defined]
            store.close()
        finally:
            if database:
                drop_database(args.admin_url, database)


if __name__ == "__main__":
    main()
