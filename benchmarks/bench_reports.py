"""Progress report and daily snapshot at scale (issue 16; targets: the report for all 63 provinces
from a 10 M-record store on PostgreSQL ≤ 30 s, a daily snapshot ≤ 60 s).

The store is built by set-based SQL (``generate_series``), not by the pipeline: ``--records``
dose records (two per person) over the 63 provinces' real communes and 40 facilities each, with
every outcome, an open review item per record in review, and certificates (issued, revoked and
re-issued) for about half of the linked people. Only generated people. Then, timed:

1. the progress report of today as the ministry, every level (live, one set-based query);
2. the daily snapshot (``INSERT ... SELECT`` of the same query), then again (idempotent);
3. the report of today read from the snapshot (the default once it is taken), and the same day's
   report a day later;
4. a province officer's live report (their province only);
5. writing the report as xlsx, pdf and json.

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_reports.py --records 1000000

The database ``vaxtrust_reports_bench`` is kept between runs (``--fresh`` starts it again,
``--drop`` drops it at the end): a 10 M store is grown in steps, each its own run under the lock
(``--records 2500000 --build-only``, then 5 M, 7.5 M, and 10 M timed). Files go to
``/work/bench-data/reports``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import time
from pathlib import Path

from sqlalchemy import text

from pg_store import (
    FACILITIES_PER_PROVINCE,
    NOW,
    SERVER,
    add_run_and_places,
    create_database,
    drop_database,
)
from vaxtrust.app import reports
from vaxtrust.reports.snapshot import today_vn
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role
from vaxtrust.vn._data import read_rows

NAME = "vaxtrust_reports_bench"
OUT = Path("/work/bench-data/reports")


def _setup(store: Store) -> None:
    """The run, the provinces, their facilities and the communes the records are spread over."""
    communes = [(row["province_code"], row["commune_code"])
                for row in read_rows("admin_units_pre2025.csv")]
    with store.engine.begin() as c:
        add_run_and_places(c, sorted({p for p, _ in communes}))
        c.execute(text("CREATE TABLE bench_commune (k int PRIMARY KEY, province text, "
                       "commune text)"))
        c.execute(text("INSERT INTO bench_commune SELECT row_number() OVER () - 1, p, cc FROM "
                       "unnest(CAST(:p AS text[]), CAST(:c AS text[])) AS t(p, cc)"),
                  {"p": [p for p, _ in communes], "c": [cc for _, cc in communes]})


def _records(c, low: int, high: int) -> None:  # type: ignore[no-untyped-def]
    """Dose records ``low`` < g <= ``high`` (two per person), their people, review items and
    certificates. Rows carry names, dates, IDs, vaccine and lot as published records do, so a
    scan reads rows of a realistic width."""
    communes = c.execute(text("SELECT count(*) FROM bench_commune")).scalar_one()
    c.execute(text(
        "INSERT INTO person (person_id, full_name, dob, gender) SELECT lpad(g::text, 12, '0'),"
        " 'Người Tổng Hợp', '1980-01-01', 'M' FROM generate_series(CAST(:lo AS bigint), :hi) g"),
        {"lo": low // 2 + 1, "hi": high // 2})
    statuses = ("(ARRAY['verified','verified','verified','corrected','review','unmatched',"
                "'rejected'])[1 + (g * 7919) % 7]")
    c.execute(text(
        "WITH new AS (INSERT INTO vaccination_record (record_id, facility_id, province_code, "
        "commune_code, status, person_id, reasons, run_id, first_run_id, decided, version, "
        "updated_at, input_order, original_full_name, full_name, original_dob, dob, "
        "original_gender, gender, original_id_number, id_number, original_vaccine, "
        "original_lot, original_vaccinated_on, original_dose_number, original_phone) "
        "SELECT 'R' || g, 'F' || bc.province || '-' || (1 + bc.k % :f), bc.province, bc.commune,"
        " s.status, CASE WHEN s.status IN ('verified','corrected') "
        "THEN lpad((1 + (g - 1) / 2)::text, 12, '0') END, '[]', 'bench', 'bench', false, 1,"
        " :now, g, 'Nguyễn Thị Tổng Hợp', 'Nguyễn Thị Tổng Hợp', '01/01/1980', '1980-01-01',"
        " 'Nữ', 'F', lpad(((g - 1) / 2)::text, 12, '0'), lpad(((g - 1) / 2)::text, 12, '0'),"
        " 'Comirnaty (Pfizer-BioNTech)', 'FK' || (g % 9973), '2021-10-0' || (1 + g % 9),"
        " (1 + (g - 1) % 2)::text, '09' || lpad((g % 100000000)::text, 8, '0')"
        " FROM generate_series(CAST(:lo AS bigint), :hi) g"
        f" CROSS JOIN LATERAL (SELECT {statuses} AS status) s"
        " JOIN bench_commune bc ON bc.k = (((g - 1) / 2) * 104729) % :communes"
        " RETURNING record_id, province_code, facility_id, status) "
        "INSERT INTO review_item (record_id, run_id, province_code, facility_id, state, "
        "version, created_at, updated_at) SELECT record_id, 'bench', province_code, "
        "facility_id, 'open', 1, to_char(TIMESTAMP '2022-04-27 03:00' - "
        "(abs(hashtext(record_id)) % 40) * INTERVAL '1 day', "
        "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), :now FROM new WHERE status = 'review'"),
        {"lo": low + 1, "hi": high, "f": FACILITIES_PER_PROVINCE, "now": NOW,
         "communes": communes})
    c.execute(text(
        "INSERT INTO certificate (uvci, person_id, state, issued_at, issued_by, revoked_at) "
        "SELECT 'URN:UVCI:01:VN:B' || person_id, person_id, CASE WHEN abs(hashtext(person_id))"
        " % 10 = 0 THEN 'revoked' ELSE 'issued' END, '2022-04-20T03:00:00.000000Z', 'bench',"
        " CASE WHEN abs(hashtext(person_id)) % 10 = 0 THEN '2022-04-22T03:00:00.000000Z' END"
        " FROM (SELECT DISTINCT person_id FROM vaccination_record WHERE person_id > :lo"
        " AND person_id <= :hi AND abs(hashtext(person_id)) % 2 = 0) linked"),
        {"lo": f"{low // 2:012d}", "hi": f"{high // 2:012d}"})


def _size(store: Store) -> int:
    with store.engine.connect() as c:
        if not c.execute(text("SELECT to_regclass('bench_commune')")).scalar():
            return -1
        return int(c.execute(text("SELECT count(*) FROM vaccination_record")).scalar_one())


def _grow(store: Store, records: int, step: int) -> None:
    """Grow the store to ``records`` dose records, ``step`` at a time (one transaction each)."""
    have = _size(store)
    if have < 0:
        _setup(store)
        have = 0
    while have < records:
        upto = min(records, have + step)
        start = time.perf_counter()
        with store.engine.begin() as c:
            _records(c, have, upto)
        print(f"  {have:,} -> {upto:,} records: {time.perf_counter() - start:.1f} s", flush=True)
        have = upto
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(text("VACUUM ANALYZE"))


def _timed(label: str, action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - start:.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000,
                        help="Grow the store to this many dose records first.")
    parser.add_argument("--step", type=int, default=2_500_000,
                        help="Records added per transaction while growing.")
    parser.add_argument("--build-only", action="store_true",
                        help="Grow the store, then stop (grow a big store in several runs).")
    parser.add_argument("--fresh", action="store_true", help="Start from an empty database.")
    parser.add_argument("--drop", action="store_true", help="Drop the database at the end.")
    args = parser.parse_args()
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    create_database(NAME, fresh=args.fresh)
    try:
        store = Store.open(f"{SERVER}/{NAME}")
        _timed(f"grow the store to {args.records:,} records (set-based SQL)",
               lambda: _grow(store, args.records, args.step))
        if args.build_only:
            return
        print(f"  store: {_size(store):,} records", flush=True)
        ministry = Actor("os:bench", Role.MINISTRY)
        today = today_vn()
        report = _timed("progress report, 63 provinces, every level (live)",
                        lambda: reports.progress(store, ministry, today=today, live=True))
        total = report.total
        print(f"  {len(report.levels['province'])} provinces, "
              f"{len(report.levels['district'])} districts, "
              f"{len(report.levels['commune'])} communes, "
              f"{len(report.levels['facility'])} facilities; {total.counts['records']:,} "
              f"records, {total.counts['people_linked']:,} people linked, "
              f"{total.counts['people_signed']:,} signed")
        taken = _timed("daily snapshot", lambda: reports.take_snapshot(store, ministry,
                                                                         today=today))
        print(f"  {taken.rows:,} rows")
        _timed("daily snapshot again (replaces the day)",
               lambda: reports.take_snapshot(store, ministry, today=today))
        _timed("progress report, 63 provinces, every level, from today's snapshot",
               lambda: reports.progress(store, ministry, today=today))
        later = today + dt.timedelta(days=1)
        _timed("the same a day later (a past day's report)",
               lambda: reports.progress(store, ministry, day=today, today=later))
        hanoi = Actor("os:bench-01", Role.PROVINCE, province_code="01")
        _timed("progress report as one province (01), live",
               lambda: reports.progress(store, hanoi, today=today, live=True))
        for fmt in ("xlsx", "pdf", "json"):
            path = OUT / f"progress.{fmt}"
            _timed(f"write {fmt}", lambda fmt=fmt, path=path: reports.write_progress(
                report, path, fmt))
        store.close()
    finally:
        if args.drop:
            drop_database(NAME)


if __name__ == "__main__":
    main()
