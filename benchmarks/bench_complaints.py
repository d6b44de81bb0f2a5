"""Complaints at scale (issue 15; targets: 1 M complaints into PostgreSQL ≤ 2 minutes including
triage, the inbox ≤ 150 ms p95 at 1 M complaints, triage wrong ≤ 0.1 %).

Steps, each its own process (so its peak memory is its own), run one after another under
``flock /tmp/vaxtrust-heavy.lock``; the store is kept between steps:

1. ``build``: a store by set-based SQL (not the pipeline): ``--records`` dose records, two per
   generated person (names from Vietnamese name parts, so namesakes exist), 63 provinces x 40
   facilities; 80 % verified, 5 % corrected, 6 % in review (with the true person as candidate),
   6 % unmatched, 3 % rejected; unlinked records carry a damaged date of birth and no ID; 1 % of
   people have a dose recorded twice.
2. ``generate``: ``vaxtrust.demo.complaints`` writes ``--complaints`` complaints of known truth
   about that store (CSV with Vietnamese headers, and the truth beside it).
3. ``import``: ``vaxtrust.app.complaints.import_file`` as the ministry (ingest, standardise,
   triage, routing, deadlines, COPY), timed, with peak RSS; then the triage scored against the
   truth (right / wrong / none).
4. ``inbox``: first and next pages (keyset) of the ministry's, a province's and a facility's
   inbox, 200 times each: p50 / p95.
5. ``settle``: the system settles the complaints whose proposal is certain.
6. ``demo``: the accuracy on complaints about a *cleaned* generated province: ``vaxtrust demo``
   (generate, clean, publish), then generate, import and score complaints on its store.

    flock /tmp/vaxtrust-heavy.lock uv run python benchmarks/bench_complaints.py build
    ... generate / import / inbox / settle / demo; ``drop`` removes the database; ``reset``
    empties the complaint tables (to import the same file again: before/after a change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import secrets
import statistics
import subprocess
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
    provinces,
)
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role

NAME = os.environ.get("BENCH_COMPLAINTS_DB", "vt_complaints_bench")
DATA = Path("/work/bench-data/complaints")
KEY_FILE = DATA / "audit-key"
SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
            "Bùi", "Đỗ", "Hồ", "Ngô")
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Thị Thu", "Minh", "Thị Ngọc", "Quang", "Thanh",
           "Thị Kim")
GIVEN = ("An", "Bình", "Cúc", "Dũng", "Em", "Phúc", "Giang", "Hà", "Hải", "Hạnh", "Hiếu",
         "Hoa", "Hùng", "Hương", "Khánh", "Lan", "Linh", "Long", "Mai", "Minh", "Nam", "Nga",
         "Ngọc", "Nhung", "Oanh", "Phong", "Phương", "Quân", "Quỳnh", "Sơn", "Tâm", "Thảo",
         "Thắng", "Thủy", "Trang", "Trung", "Tuấn", "Vân", "Việt", "Yến")
VACCINES = ("Comirnaty", "AstraZeneca", "Moderna", "Vero Cell")


def _store() -> Store:
    os.environ["VAXTRUST_AUDIT_KEY"] = KEY_FILE.read_text().strip()
    return Store.open(f"{SERVER}/{NAME}")


def _ministry() -> Actor:
    return Actor("os:bench", Role.MINISTRY)


def _status_sql(g: str) -> str:
    return (f"CASE WHEN ({g} * 7919) % 100 < 80 THEN 'verified' WHEN ({g} * 7919) % 100 < 85 "
            f"THEN 'corrected' WHEN ({g} * 7919) % 100 < 91 THEN 'review' "
            f"WHEN ({g} * 7919) % 100 < 97 THEN 'unmatched' ELSE 'rejected' END")


def _build(records: int) -> None:
    DATA.mkdir(parents=True, exist_ok=True)
    KEY_FILE.write_text(secrets.token_hex(32))
    create_database(NAME, fresh=True)
    store = _store()
    codes = provinces()
    people = records // 2
    with store.engine.begin() as c:
        add_run_and_places(c, codes)
        c.execute(text(
            "CREATE TEMP TABLE parts AS SELECT CAST(:s AS text[]) s, CAST(:m AS text[]) m, "
            "CAST(:g AS text[]) gv, CAST(:p AS text[]) p, CAST(:v AS text[]) v"),
            {"s": list(SURNAMES), "m": list(MIDDLES), "g": list(GIVEN), "p": codes,
             "v": list(VACCINES)})
        # Person n: a name from the parts, a birth date, a CCCD of province 001.
        c.execute(text(
            "CREATE TEMP TABLE bench_people AS SELECT n, s[1 + n % 14] || ' ' ||"
            " m[1 + (n / 14) % 10] || ' ' || gv[1 + (n / 140) % 40] AS full_name,"
            " m[1 + (n / 14) % 10] LIKE 'Thị%' AS female FROM generate_series(1, :n) n, parts"),
            {"n": people})
        c.execute(text(
            "INSERT INTO person (person_id, full_name, dob, dob_precision, gender, province_code)"
            " SELECT '001' || CASE WHEN female THEN '1' ELSE '0' END || lpad(n::text, 8, '0'),"
            " full_name, to_char(DATE '1940-01-01' + CAST((CAST(n AS bigint) * 7919) % 25000"
            " AS int), 'YYYY-MM-DD'), 'day',"
            " CASE WHEN female THEN 'F' ELSE 'M' END, (SELECT p[1 + n % 63] FROM parts)"
            " FROM bench_people"))
        c.execute(text("ALTER TABLE bench_people ADD COLUMN person_id text"))
        c.execute(text("UPDATE bench_people SET person_id = '001' || CASE WHEN female THEN '1'"
                       " ELSE '0' END || lpad(n::text, 8, '0')"))
        c.execute(text("CREATE INDEX ON bench_people (n)"))
        status = _status_sql("g")
        # Record g is person (g + 1) / 2's dose (g + 1) % 2 + 1; unlinked ones carry a date of
        # birth one year off and no ID (why the cleaning could not link them).
        c.execute(text(
            "INSERT INTO vaccination_record (record_id, facility_id, province_code, status,"
            " person_id, original_full_name, original_dob, original_gender, original_id_number,"
            " original_dose_number, original_vaccine, original_vaccinated_on,"
            " original_facility_id, full_name, dob, gender, id_number, reasons, run_id,"
            " first_run_id, decided, version, updated_at)"
            " SELECT 'R' || g, f.facility_id, f.province_code, s.status,"
            " CASE WHEN s.status IN ('verified', 'corrected') THEN p.person_id END,"
            " CASE WHEN s.status = 'corrected' THEN upper(p.full_name) ELSE p.full_name END,"
            " CASE WHEN s.status IN ('review', 'unmatched') THEN"
            "  to_char(CAST(p.dob AS date) + INTERVAL '1 year', 'DD/MM/YYYY')"
            "  ELSE to_char(CAST(p.dob AS date), 'DD/MM/YYYY') END,"
            " CASE p.gender WHEN 'F' THEN 'Nữ' ELSE 'Nam' END,"
            " CASE WHEN s.status IN ('review', 'unmatched') THEN NULL ELSE p.person_id END,"
            " CAST(2 - g % 2 AS text), v[1 + (((g + 1) / 2) * 31) % 4],"
            " to_char(DATE '2021-06-01' + CAST((((g + 1) / 2) * 7927) % 150"
            "  + (1 - g % 2) * 90 AS int), 'DD/MM/YYYY'),"
            " f.facility_id, p.full_name, p.dob, p.gender, p.person_id, '[]', 'bench', 'bench',"
            " false, 1, :now"
            " FROM generate_series(CAST(1 AS bigint), :n) g"
            f" CROSS JOIN LATERAL (SELECT {status} AS status) s"
            " JOIN bench_people b ON b.n = (g + 1) / 2"
            " JOIN person p ON p.person_id = b.person_id"
            " JOIN facility f ON f.facility_id = 'F' || p.province_code || '-' ||"
            "  (1 + (((g + 1) / 2) * 104729) % :f)"
            " CROSS JOIN parts"), {"n": records, "f": FACILITIES_PER_PROVINCE, "now": NOW})
        # 1 % of people: dose 1 entered twice (linked, counted once by the history).
        c.execute(text(
            "INSERT INTO vaccination_record (record_id, facility_id, province_code, status,"
            " person_id, original_full_name, original_dob, original_gender, original_id_number,"
            " original_dose_number, original_vaccine, original_vaccinated_on,"
            " original_facility_id, full_name, dob, gender, id_number, reasons, run_id,"
            " first_run_id, decided, version, updated_at)"
            " SELECT 'D' || substr(record_id, 2), facility_id, province_code, 'verified',"
            " person_id, original_full_name, original_dob, original_gender, original_id_number,"
            " original_dose_number, original_vaccine, original_vaccinated_on,"
            " original_facility_id, full_name, dob, gender, id_number, reasons, run_id,"
            " first_run_id, decided, version, updated_at FROM vaccination_record"
            " WHERE status = 'verified' AND original_dose_number = '1'"
            " AND CAST(substr(record_id, 2) AS bigint) % 100 = 1"))
        c.execute(text(
            "INSERT INTO dose_history (person_id, record_id, dose_number, vaccinated_on,"
            " facility_id, duplicate_of, flags, run_id) SELECT person_id, record_id,"
            " CAST(original_dose_number AS int), to_char(to_date(original_vaccinated_on,"
            " 'DD/MM/YYYY'), 'YYYY-MM-DD'), facility_id, CASE WHEN record_id LIKE 'D%' THEN"
            " 'R' || substr(record_id, 2) END, '[]', 'bench' FROM vaccination_record"
            " WHERE person_id IS NOT NULL"))
        c.execute(text(
            "INSERT INTO review_item (record_id, run_id, province_code, facility_id, state,"
            " version, created_at, updated_at) SELECT record_id, 'bench', province_code,"
            " facility_id, 'open', 1, :now, :now FROM vaccination_record"
            " WHERE status = 'review'"), {"now": NOW})
        c.execute(text(
            "INSERT INTO review_candidate (item_id, rank, person_id, match_probability,"
            " comparison, reasons) SELECT i.id, 1, r.id_number, 0.9, '{}', '[\"dob_typo\"]'"
            " FROM review_item i JOIN vaccination_record r ON r.record_id = i.record_id"))
        c.execute(text("ANALYZE"))
    store.close()


def _truth(store: Store) -> dict[str, str | None]:
    """Every record is its current-value person's (the build kept the truth there)."""
    with store.engine.connect() as c:
        return {r[0]: r[1] for r in c.execute(text(
            "SELECT record_id, id_number FROM vaccination_record"))}


def _truth_file(path: Path) -> Path:
    """The truth beside a complaints file (``x.csv``: ``x-truth.csv``); a file cut from the
    generated one (its first rows, to profile) is scored against the generated truth."""
    beside = path.with_name(f"{path.stem}-truth.csv")
    return beside if beside.exists() else DATA / "complaints-truth.csv"


def _generate(count: int, path: Path) -> None:
    from vaxtrust.demo import complaints as known

    store = _store()
    with store.engine.connect() as c:
        rows, expected = known.known_complaints(c, _truth(store), count=count)
    known.write(rows, expected, path, path.with_name(f"{path.stem}-truth.csv"))
    store.close()


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _import_and_score(store: Store, path: Path, truth: Path, label: str) -> None:
    from vaxtrust.app import complaints as app
    from vaxtrust.config import Settings
    from vaxtrust.demo import complaints as known

    before = _peak_mb()
    start = time.perf_counter()
    report = app.import_file(Settings(), store, _ministry(), path)
    wall = time.perf_counter() - start
    print(f"{label}: import {report.rows_in:,} rows = {report.accepted:,} accepted + "
          f"{report.rejected:,} rejected, {report.proposals:,} proposals: {wall:.1f} s, "
          f"peak RSS {_peak_mb():,.0f} MB (before {before:,.0f} MB); load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    with store.engine.connect() as c:
        scored = known.score(known.stored_proposals(c), known.read_expected(truth))
    print(f"{label}: triage of {scored.total:,}: right {scored.share(scored.right):.2%}, "
          f"wrong {scored.share(scored.wrong):.3%} ({scored.wrong}), none "
          f"{scored.share(scored.none):.2%} (of which an officer's by truth "
          f"{scored.share(scored.none_expected):.2%})")
    for situation, counts in sorted(scored.by_situation.items()):
        print(f"  {situation}: {dict(counts)}")
    for example in scored.wrong_examples[:5]:
        print("  wrong:", example)


def _reset() -> None:
    """The store as ``build`` left it: no complaints (the audit trail keeps its events)."""
    store = _store()
    with store.engine.begin() as c:
        c.execute(text("TRUNCATE complaint_attachment, complaint"))
    store.close()


def _inbox(samples: int) -> None:
    from vaxtrust.app import complaints as app

    store = _store()
    with store.engine.connect() as c:
        facility, province = c.execute(text(
            "SELECT facility_id, province_code FROM complaint WHERE facility_id IS NOT NULL "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1")).one()
        total = c.execute(text("SELECT count(*) FROM complaint")).scalar()
    print(f"{total:,} complaints in the store")
    for actor in (_ministry(), Actor("os:bench-p", Role.PROVINCE, province_code=province),
                  Actor("os:bench-f", Role.FACILITY, province_code=province,
                        facility_id=facility)):
        firsts, nexts = [], []
        for _ in range(samples):
            start = time.perf_counter()
            page = app.list_complaints(store, actor)
            firsts.append(time.perf_counter() - start)
            start = time.perf_counter()
            app.list_complaints(store, actor, app.ComplaintFilter(after=page.next_cursor))
            nexts.append(time.perf_counter() - start)
        for label, times in (("first page", firsts), ("next page", nexts)):
            cuts = statistics.quantiles(times, n=20)
            print(f"inbox {actor.role.value} {label}: p50 {statistics.median(times) * 1e3:.1f} "
                  f"ms, p95 {cuts[18] * 1e3:.1f} ms; load {os.getloadavg()[0]:.1f}")


def _settle() -> None:
    from vaxtrust.app import complaints as app

    store = _store()
    start = time.perf_counter()
    result = app.settle_certain(store, _ministry())
    print(f"settle: {len(result.settled):,} settled automatically, {len(result.left):,} left "
          f"by a guard, {len(result.signing_queued):,} queued for signing: "
          f"{time.perf_counter() - start:.1f} s; load {os.getloadavg()[0]:.1f}")


def _demo(persons: int, count: int) -> None:
    from vaxtrust.demo import complaints as known

    folder = DATA / f"demo-{persons}"
    if not (folder / "store.db").exists():
        subprocess.run(["vaxtrust", "demo", "--persons", str(persons), "--seed", "15", "--out",
                        str(folder)], check=True, stdout=subprocess.DEVNULL)
    os.environ["VAXTRUST_AUDIT_KEY_FILE"] = str(folder / "store.db.audit-key")
    store = Store.open(f"sqlite:///{folder / 'store.db'}")
    with store.engine.begin() as c:
        c.execute(text("DELETE FROM complaint"))   # complaints from an earlier run of this step
    truth = known.read_truth(folder / "data" / "truth" / "records_truth.parquet")
    with store.engine.connect() as c:
        rows, expected = known.known_complaints(c, truth, count=count)
    path, truth_path = folder / "complaints.csv", folder / "complaints-truth.csv"
    known.write(rows, expected, path, truth_path)
    _import_and_score(store, path, truth_path, f"demo {persons:,} persons")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("step", choices=("build", "generate", "import", "inbox", "settle",
                                         "demo", "drop", "reset"))
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--complaints", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=20_000, help="demo: generated persons")
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--file", type=Path, default=DATA / "complaints.csv",
                        help="generate: where to write it (its truth beside it); import: the "
                             "complaints file (e.g. the first rows, to profile)")
    args = parser.parse_args()
    start = time.perf_counter()
    match args.step:
        case "build":
            _build(args.records)
        case "generate":
            _generate(args.complaints, args.file)
        case "import":
            _import_and_score(_store(), args.file, _truth_file(args.file), "store")
        case "inbox":
            _inbox(args.samples)
        case "settle":
            _settle()
        case "demo":
            _demo(args.persons, args.complaints)
        case "drop":
            drop_database(NAME)
        case "reset":
            _reset()
    print(f"{args.step}: {time.perf_counter() - start:.1f} s wall, peak RSS {_peak_mb():,.0f} MB,"
          f" load {os.getloadavg()[0]:.1f} (at {dt.datetime.now(dt.UTC):%H:%M} UTC)")


if __name__ == "__main__":
    main()
