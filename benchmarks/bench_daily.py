"""How long a daily run takes against a large register and store, and whether it is as accurate
as the national run (issue 17; targets: 1,000 records ≤ 10 s and 100,000 ≤ 60 s against a 10 M
register and a 20 M-record store; a register change touching 10,000 people ≤ 60 s).

Only generated people. Three phases, so the large store is built once, in steps, under the lock:

``build`` (call it again until the store is full; each call grows it for ``--budget`` minutes):
  a register of ``--persons`` people (Parquet, DuckDB); the national run: ``--train`` records of
  the register's last people cleaned against it (trains and saves the model) and published into
  PostgreSQL database ``vaxtrust_daily_bench`` (``--db-name``); the store grown by set-based SQL
  (``generate_series``), two doses for each of the other people, with persons and dose
  histories: not by the pipeline. ``state.json`` in ``--folder`` remembers how far it got.

``run``: each ``--day`` size, a file of third doses of stored people (10 % without an ID, half of
  those typed without diacritics; new record ids and people on every call) through
  ``vaxtrust.app.daily.daily`` (without the progress snapshot, timed once on its own after); a register change touching ``--touch`` people (new phones; one in
  ten a new name) through ``vaxtrust.app.register_changes.register_changes``; accuracy on the
  first day's records against the truth, beside a national run (training file + the day's file,
  trained from scratch) on the same records.

``drop``: the database and the folder.

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_daily.py build \\
        --persons 10000000 --store 20000000          # again, until "store: 20,000,000 records"
    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_daily.py run \\
        --day 1000 --day 100000 --touch 10000 --no-accuracy
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
from sqlalchemy import create_engine, text

from vaxtrust.app.daily import daily
from vaxtrust.app.publish import publish
from vaxtrust.app.register_changes import register_changes
from vaxtrust.app.reports import take_snapshot
from vaxtrust.config import load_settings
from vaxtrust.pipeline.run import clean
from vaxtrust.store.db import Store
from vaxtrust.store.scope import load_actor
from vaxtrust.store.users import add_user

ADMIN_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "vaxtrust_daily_bench"
GROW_STEP = 2_000_000   # people per transaction while growing the store
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


GROWN_TABLES = ("person", "vaccination_record", "dose_history")


def defer_indexes(url: str) -> list[str]:
    """Drop the secondary indexes and foreign keys of the tables the build fills; returns the
    statements that make them again. Rows arrive much faster without them, and one index built
    over the full table (a sort) costs far less than 20 M insertions into it."""
    tables = ", ".join(f"'{name}'" for name in GROWN_TABLES)
    engine = create_engine(url)
    with engine.begin() as connection:
        keys = connection.execute(text(f"""
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
            FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text IN ({tables})
            """)).all()
        indexes = connection.execute(text(f"""
            SELECT indexname, indexdef FROM pg_indexes
            WHERE schemaname = 'public' AND tablename IN ({tables}) AND indexname NOT IN (
                SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))""")).all()
        for table, name, _definition in keys:
            connection.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"'))
        for name, _definition in indexes:
            connection.execute(text(f'DROP INDEX "{name}"'))
    engine.dispose()
    return [definition for _name, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in keys]


def restore_indexes(url: str, statements: list[str]) -> None:
    """Make the deferred indexes and foreign keys again, each in one pass over its table."""
    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("SET maintenance_work_mem = '1GB'"))
        for statement in statements:
            connection.execute(text(statement))
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def grow_store(url: str, first: int, last: int, run_id: str, *, boosted: int = 0) -> None:
    """Two doses for each person numbered ``first`` to ``last - 1`` (a third, a booster, for
    those numbered below ``boosted``), by set-based SQL in one transaction."""
    cols = person_sql("postgres")
    series = f"generate_series({first}, {last - 1}) AS t(p)"
    doses = [(1, "2021-07-01", ""), (2, "2021-10-01", ""),
             (3, "2021-12-15", f"WHERE p < {boosted}")]
    engine = create_engine(url)
    with engine.begin() as connection:
        # A lost step is rolled back whole and made again: no need to wait for the disk.
        connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(text(f"""
            INSERT INTO person (person_id, full_name, dob, dob_precision, gender, province_code,
                                district_code, commune_code)
            SELECT {cols['person_id']}, {cols['full_name']}, {cols['dob']}, 'day',
                   {cols['gender']}, '01', '001', {cols['commune_code']}
            FROM {series} ON CONFLICT (person_id) DO NOTHING"""))
        for dose, day, where in doses:
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
                FROM {series} {where} ON CONFLICT (record_id) DO NOTHING"""))
            connection.execute(text(f"""
                INSERT INTO dose_history (person_id, record_id, dose_number, vaccine_mp,
                                          vaccinated_on, facility_id, flags, run_id)
                SELECT {cols['person_id']}, 'S{dose}-' || p, {dose}, 'EU/1/21/1529', '{day}',
                       'F' || (p % 200), '[]', '{run_id}'
                FROM {series} {where} ON CONFLICT DO NOTHING"""))
        connection.execute(text("""
            INSERT INTO facility (facility_id, province_code)
            SELECT DISTINCT 'F' || (p % 200), '01' FROM generate_series(0, 199) AS t(p)
            WHERE 'F' || p NOT IN (SELECT facility_id FROM facility)"""))
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
    parser.add_argument("phase", choices=("build", "run", "drop"))
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--store", type=int, default=2_000_000)
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--budget", type=float, default=12.0,
                        help="build: stop growing the store after this many minutes.")
    parser.add_argument("--day", type=int, action="append")
    parser.add_argument("--touch", type=int, default=10_000,
                        help="run: people a file of changed register rows touches (0: none).")
    parser.add_argument("--snapshot-touch", type=int, default=0,
                        help="run: people a whole new register snapshot touches (0: none).")
    parser.add_argument("--db-name", default=BENCH_DB, help="PostgreSQL database of the bench.")
    parser.add_argument("--no-accuracy", action="store_true",
                        help="Skip the national run on the day's records (a large register).")
    parser.add_argument("--folder", type=Path, default=Path("/work/bench-data/daily/bench"))
    args = parser.parse_args()
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    bench = Bench(args.folder, args.db_name)
    if args.phase == "drop":
        bench.drop()
    elif args.phase == "build":
        bench.build(args.persons, args.store, args.train, args.budget * 60)
    else:
        bench.run(args.day or [], args.touch, args.snapshot_touch,
                  accuracy=not args.no_accuracy)


def _timed(label: str, started: float) -> float:
    seconds = time.perf_counter() - started
    print(f"{label}: {seconds:.1f} s (load {os.getloadavg()[0]:.1f})", flush=True)
    return seconds


class Bench:
    """The bench's register, national run and store, kept between calls (``state.json``)."""

    def __init__(self, folder: Path, db_name: str) -> None:
        self.folder = folder
        self.state_path = folder / "state.json"
        self.db_name = db_name
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{db_name}"
        self.settings = load_settings(None, store={"url": self.url}, engine={"threads": 2})

    def _state(self) -> dict[str, Any]:
        if self.state_path.is_file():
            return dict(json.loads(self.state_path.read_text()))
        return {}

    def _save(self, state: dict[str, Any]) -> None:
        self.state_path.write_text(json.dumps(state, indent=1))

    def _admin(self, sql: str) -> None:
        admin = create_engine(ADMIN_PG, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(sql))
        admin.dispose()

    def drop(self) -> None:
        self._admin(f"DROP DATABASE IF EXISTS {self.db_name} WITH (FORCE)")
        shutil.rmtree(self.folder, ignore_errors=True)

    def build(self, persons: int, records: int, train: int, budget: float) -> None:
        """Make what is missing: the register, the national run (published), then grow the
        store towards ``records`` (its indexes deferred to the end) until ``budget`` seconds."""
        began = time.perf_counter()
        state = self._state()
        if not state:
            self.drop()
            self.folder.mkdir(parents=True)
            started = time.perf_counter()
            make_register(self.folder, persons)
            _timed(f"register of {persons:,} people", started)
            # The national run's people are the register's last ones; the store's, the others.
            make_doses(self.folder / "national.csv",
                       f"SELECT {persons - train} + range AS p FROM range({train})",
                       prefix="N", dose=1, day="2021-07-01")
            started = time.perf_counter()
            clean([self.folder / "national.csv"], self.folder / "register.parquet",
                  self.folder / "national", settings=self.settings.clean_settings())
            _timed(f"national run ({train:,} records, trains the model)", started)
            self._admin(f"CREATE DATABASE {self.db_name}")
            store = Store.open(self.url)
            with store.transaction() as session:
                add_user(session, by=None, username="bench", role="ministry")
            publish(store, self._actor(store), self.folder / "national")
            store.close()
            run = json.loads((self.folder / "national" / "run.json").read_text())["run_id"]
            state = {"persons": persons, "train": train, "people": min(
                records // 2, persons - train), "grown": 0, "run_id": run}
            self._save(state)
        people = state["people"]
        # Past two doses each, boosters for the first people make up the store's size.
        state["boosted"] = boosted = min(people, max(0, records - 2 * people - state["train"]))
        if state["grown"] < people and "deferred" not in state:
            state["deferred"] = defer_indexes(self.url)
            self._save(state)
        while state["grown"] < people and time.perf_counter() - began < budget:
            last = min(state["grown"] + GROW_STEP, people)
            started = time.perf_counter()
            grow_store(self.url, state["grown"], last, state["run_id"], boosted=boosted)
            state["grown"] = last
            self._save(state)
            _timed(f"store grown to {self._records(state):,} records by SQL", started)
        if state["grown"] >= people and state.get("deferred") and (
                time.perf_counter() - began < budget):
            started = time.perf_counter()
            restore_indexes(self.url, state["deferred"])
            state["deferred"] = []
            self._save(state)
            _timed("indexes and foreign keys made again, VACUUM ANALYZE", started)
        print(f"store: {self._records(state):,} records ({state['grown']:,} of {people:,} "
              f"people grown{'; indexes still to make' if state.get('deferred') else ''})")

    @staticmethod
    def _records(state: dict[str, Any]) -> int:
        return 2 * state["grown"] + min(state["grown"], state["boosted"]) + state["train"]

    def _actor(self, store: Store) -> Any:
        with store.transaction() as session:
            return load_actor(session, "bench")

    def run(self, days: list[int], touch: int, snapshot_touch: int, *, accuracy: bool) -> None:
        state = self._state()
        if state.get("deferred"):
            raise SystemExit("the store's indexes are not made yet: run build again first")
        people, tag = state["grown"], int(time.time()) % 1_000_000
        boosted = state.get("boosted", 0)
        store = Store.open(self.url)
        actor = self._actor(store)
        register = self.folder / "register.parquet"
        with store.transaction() as session:
            stored = session.execute(text("SELECT count(*) FROM vaccination_record")).scalar()
        print(f"register {state['persons']:,} people, store {stored:,} records", flush=True)
        first_day: tuple[Path, Path, str] | None = None
        for index, size in enumerate(days):
            # Third doses of stored people spread over the store (other people each day).
            prefix = f"D{tag}x{index}-"
            day = make_doses(self.folder / f"day-{tag}-{index}-{size}.csv",
                             f"SELECT {boosted} + (range * 7919 + {tag * 104729 + index}) % "
                             f"{people - boosted} AS p "
                             f"FROM range({size})", prefix=prefix, dose=3, day="2022-03-01")
            started = time.perf_counter()
            report = daily(self.settings, store, actor, [day], register=register,
                           runs_dir=self.folder / "runs", snapshot=False)
            seconds = _timed(f"daily {size:,} records", started)
            stages = json.loads((report.run_dir / "summary.json").read_text())
            print(f"  {size / seconds:,.0f} records/s; statuses {report.by_status}; context "
                  f"{report.context_records:,}; histories recomputed {report.refreshed_people:,}"
                  f"; queued {report.publish.signing_queued:,}; clean stages "
                  f"{stages.get('stage_seconds')}", flush=True)
            first_day = first_day or (day, report.run_dir, prefix)
        if days:
            # What a daily run adds after publishing by default (issue 16): the store counted.
            started = time.perf_counter()
            take_snapshot(store, actor, after_publish=True)
            _timed("today's progress snapshot (whole store; daily takes it after publishing)",
                   started)
        # A whole snapshot first: it is made from the first register, so people a changes file
        # touched before are changed (back) in it too.
        if snapshot_touch:
            self._snapshot_touch(store, actor, people, snapshot_touch, tag)
        if touch:
            self._touch(store, actor, people, touch, tag)
        store.close()
        if first_day is not None and accuracy:
            day, run_dir, prefix = first_day
            print("accuracy, daily run:", score(run_dir / "results.parquet", prefix))
            started = time.perf_counter()
            clean([self.folder / "national.csv", day], register,
                  self.folder / "national-with-day", settings=self.settings.clean_settings())
            _timed("national run on the training and day files", started)
            print("accuracy, national run on the same records:",
                  score(self.folder / "national-with-day" / "results.parquet", prefix))

    def _touch(self, store: Store, actor: Any, people: int, touch: int, tag: int) -> None:
        touched = self.folder / f"changes-{tag}.parquet"
        cols = person_sql("duckdb")
        duckdb.sql(f"""COPY (SELECT {cols['person_id']} AS person_id, NULL::VARCHAR AS old_id,
            CASE WHEN p % 10 = 0 THEN 'Trịnh Công Sáu' ELSE {cols['full_name']} END
                AS full_name,
            {cols['dob']} AS dob, 'day' AS dob_precision, {cols['gender']} AS gender,
            '01' AS province_code, '001' AS district_code, {cols['commune_code']} AS commune_code,
            '09' || lpad(CAST(p + {tag} AS VARCHAR), 8, '0') AS phone
            FROM (SELECT (range * 104729 + {tag}) % {people} AS p FROM range({touch})))
            TO '{touched}' (FORMAT parquet)""")
        started = time.perf_counter()
        change = register_changes(self.settings, store, actor, touched, snapshot=False,
                                  runs_dir=self.folder / "runs")
        _timed(f"register change touching {touch:,} people", started)
        print(f"  changed {change.changed_people:,}, records re-verified {change.records:,}, "
              f"back to review {change.back_to_review:,}", flush=True)

    def _snapshot_touch(self, store: Store, actor: Any, people: int, touch: int,
                        tag: int) -> None:
        """A whole new register snapshot in which ``touch`` stored people changed (new phones;
        one in ten a new name), applied with ``register_changes(snapshot=True)``."""
        snapshot = self.folder / f"register-{tag}.parquet"
        number = "CAST(substr(person_id, 4) AS BIGINT)"
        step = max(people // touch, 1)
        touched = f"({number} < {step * touch} AND {number} % {step} = {tag % step})"
        started = time.perf_counter()
        duckdb.sql(f"""COPY (SELECT * REPLACE (
                CASE WHEN {touched} AND ({number} // {step}) % 10 = 0 THEN 'Trịnh Công Sáu'
                     ELSE full_name END AS full_name,
                CASE WHEN {touched} THEN '09' || lpad(CAST({number} % 100000000 AS VARCHAR), 8,
                     '0') ELSE phone END AS phone)
            FROM '{self.folder / "register.parquet"}') TO '{snapshot}' (FORMAT parquet)""")
        _timed(f"new register snapshot written ({touch:,} people changed)", started)
        started = time.perf_counter()
        change = register_changes(self.settings, store, actor, snapshot, snapshot=True,
                                  runs_dir=self.folder / "runs")
        _timed(f"register snapshot of {self._state()['persons']:,} people compared and applied",
               started)
        print(f"  changed {change.changed_people:,}, vanished {change.vanished_people:,}, "
              f"records re-verified {change.records:,}, back to review "
              f"{change.back_to_review:,}", flush=True)
        snapshot.unlink()


if __name__ == "__main__":
    main()
