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

The database ``bench_reports`` is created and dropped.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from vaxtrust.app import reports
from vaxtrust.reports.snapshot import today_vn
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role
from vaxtrust.vn._data import read_rows

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
NAME = "bench_reports"
FACILITIES_PER_PROVINCE = 40
NOW = "2022-04-27T03:00:00.000000Z"


def _admin_engine():  # type: ignore[no-untyped-def]
    return create_engine(f"{SERVER}/postgres", isolation_level="AUTOCOMMIT")


def _build(store: Store, records: int) -> None:
    communes = [(row["province_code"], row["commune_code"])
                for row in read_rows("admin_units_pre2025.csv")]
    provinces = sorted({p for p, _ in communes})
    with store.engine.begin() as c:
        c.execute(text("INSERT INTO run (run_id, content_hash, source_dir, published_at, "
                       "published_by, record_count, review_count, superseded_items, "
                       "kept_decisions) VALUES ('bench', 'bench', '-', :now, 'bench', 0, 0, 0, 0)"),
                  {"now": NOW})
        c.execute(text("INSERT INTO province (code) SELECT unnest(CAST(:p AS text[]))"),
                  {"p": provinces})
        c.execute(text(
            "INSERT INTO facility (facility_id, province_code) SELECT 'F' || p || '-' || n, p "
            "FROM unnest(CAST(:p AS text[])) p, generate_series(1, :n) n"),
            {"p": provinces, "n": FACILITIES_PER_PROVINCE})
        c.execute(text("CREATE TEMP TABLE bench_commune (k int, province text, commune text)"))
        c.execute(text("INSERT INTO bench_commune SELECT row_number() OVER () - 1, p, cc FROM "
                       "unnest(CAST(:p AS text[]), CAST(:c AS text[])) AS t(p, cc)"),
                  {"p": [p for p, _ in communes], "c": [cc for _, cc in communes]})
        people = records // 2
        c.execute(text(
            "INSERT INTO person (person_id, full_name, dob, gender) SELECT lpad(g::text, 12, '0'),"
            " 'Người Tổng Hợp', '1980-01-01', 'M' FROM generate_series(1, :n) g"), {"n": people})
        statuses = "(ARRAY['verified','verified','verified','corrected','review','unmatched'," \
                   "'rejected'])[1 + (g * 7919) % 7]"
        c.execute(text(
            "INSERT INTO vaccination_record (record_id, facility_id, province_code, commune_code,"
            " status, person_id, reasons, run_id, first_run_id, decided, version, updated_at) "
            "SELECT 'R' || g, 'F' || bc.province || '-' || (1 + bc.k % :f), bc.province, bc.commune,"
            f" s.status, CASE WHEN s.status IN ('verified','corrected') "
            "THEN lpad((1 + (g - 1) / 2)::text, 12, '0') END, '[]', 'bench', 'bench', false, 1,"
            " :now FROM generate_series(CAST(1 AS bigint), :n) g "
            f"CROSS JOIN LATERAL (SELECT {statuses} AS status) s "
            "JOIN bench_commune bc ON bc.k = (((g - 1) / 2) * 104729) % :communes"),
            {"n": records, "f": FACILITIES_PER_PROVINCE, "now": NOW,
             "communes": len(communes)})
        c.execute(text(
            "INSERT INTO review_item (record_id, run_id, province_code, facility_id, state, "
            "version, created_at, updated_at) SELECT record_id, 'bench', province_code, "
            "facility_id, 'open', 1, to_char(TIMESTAMP '2022-04-27 03:00' - "
            "(abs(hashtext(record_id)) % 40) * INTERVAL '1 day', "
            "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), :now FROM vaccination_record "
            "WHERE status = 'review'"), {"now": NOW})
        c.execute(text(
            "INSERT INTO certificate (uvci, person_id, state, issued_at, issued_by, revoked_at) "
            "SELECT 'URN:UVCI:01:VN:B' || person_id, person_id, CASE WHEN abs(hashtext(person_id))"
            " % 10 = 0 THEN 'revoked' ELSE 'issued' END, '2022-04-20T03:00:00.000000Z', 'bench',"
            " CASE WHEN abs(hashtext(person_id)) % 10 = 0 THEN '2022-04-22T03:00:00.000000Z' END"
            " FROM (SELECT DISTINCT person_id FROM vaccination_record WHERE person_id IS NOT NULL"
            " AND abs(hashtext(person_id)) % 2 = 0) linked"))
        c.execute(text("ANALYZE"))


def _timed(label: str, action):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = action()
    print(f"{label}: {time.perf_counter() - start:.1f} s", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="Keep the database.")
    args = parser.parse_args()
    os.environ.setdefault("VAXTRUST_AUDIT_KEY", secrets.token_hex(32))
    admin = _admin_engine()
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{NAME}"'))
    try:
        store = Store.open(f"{SERVER}/{NAME}")
        _timed(f"build {args.records:,} records (set-based SQL)",
               lambda: _build(store, args.records))
        ministry = Actor("os:bench", Role.MINISTRY)
        today = today_vn()
        report = _timed("progress report, 63 provinces, every level (live)",
                        lambda: reports.progress(store, ministry, today=today))
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
            path = f"/work/bench-data/reports/progress.{fmt}"
            _timed(f"write {fmt}", lambda fmt=fmt, path=path: reports.write_progress(
                report, Path(path), fmt))
        store.close()
    finally:
        if not args.keep:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
