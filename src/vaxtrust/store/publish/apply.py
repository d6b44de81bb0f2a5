"""Apply the staged run to the store with set-based SQL that runs unchanged on SQLite and
PostgreSQL: reference data, records (new, updated, or kept as an officer decided them),
corrections, review items, dose histories and the signing queue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from vaxtrust.schema import IDENTITY_FIELDS, ORIGINAL_FIELDS, REGISTER_COLUMNS
from vaxtrust.store.doses import refresh_dose_history
from vaxtrust.store.publish.load import ready_for_joins


def _run_sql(connection: Connection, sql: str, **params: Any) -> int:
    result = connection.execute(text(sql), params)
    return int(getattr(result, "rowcount", 0) or 0)


def apply_reference_data(connection: Connection) -> None:
    """Provinces, facilities and register persons the records refer to."""
    _run_sql(connection, """
        INSERT INTO province (code)
        SELECT DISTINCT province_code FROM stage_facilities
        WHERE province_code IS NOT NULL
          AND province_code NOT IN (SELECT code FROM province)""")
    # The facilities file names facilities; a known facility keeps its province (its scope).
    _run_sql(connection, """
        INSERT INTO facility (facility_id, name, province_code)
        SELECT facility_id, max(name), max(province_code) FROM stage_facilities
        WHERE province_code IS NOT NULL
        GROUP BY facility_id
        ON CONFLICT (facility_id) DO UPDATE SET name = excluded.name""")
    # Unknown facilities are registered in the province their first record names.
    _run_sql(connection, """
        INSERT INTO province (code)
        SELECT DISTINCT province_code FROM stage_records
        WHERE facility_id NOT IN (SELECT facility_id FROM facility)
          AND province_code NOT IN (SELECT code FROM province)""")
    _run_sql(connection, """
        INSERT INTO facility (facility_id, province_code)
        SELECT facility_id, min(province_code) FROM stage_records
        WHERE facility_id NOT IN (SELECT facility_id FROM facility)
        GROUP BY facility_id""")
    # A record's province is its facility's: scope follows who is accountable for the record.
    _run_sql(connection, """
        UPDATE stage_records SET province_code = f.province_code FROM facility f
        WHERE f.facility_id = stage_records.facility_id
          AND f.province_code <> stage_records.province_code""")
    columns = ", ".join(REGISTER_COLUMNS)
    values = [c for c in REGISTER_COLUMNS if c != "person_id"]
    updates = ", ".join(f"{c} = excluded.{c}" for c in values)
    # Only rows that differ are rewritten: a day's people are mostly stored already, as the
    # register has them, and rewriting an unchanged row still writes it and its indexes again.
    changed = " OR ".join(f"person.{c} IS DISTINCT FROM excluded.{c}" for c in values)
    _run_sql(connection, f"""
        INSERT INTO person ({columns}) SELECT {columns} FROM stage_persons WHERE true
        ON CONFLICT (person_id) DO UPDATE SET {updates} WHERE {changed}""")


def classify_records(connection: Connection) -> None:
    """new: not in the store; locked: an officer decided it; update: everything else."""
    # Rows arrive as 'new'; only records already in the store are touched here.
    _run_sql(connection, """
        UPDATE stage_records SET action = CASE WHEN v.decided THEN 'locked' ELSE 'update' END
        FROM vaccination_record v WHERE v.record_id = stage_records.record_id""")
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE stage_records")


_CORRECTION_INSERT = """
    INSERT INTO correction (record_id, field, old_value, new_value, actor, reason, run_id, made_at)
    SELECT s.record_id, '{field}', {old}, s.{field}, :actor,
           'cleaning run ' || :run_id || ': ' || s.reasons, :run_id, :now
    """


def correct_updated_records(connection: Connection, run_id: str, actor: str, now: str) -> int:
    """Before the update: one correction per current value the run changes."""
    count = 0
    for column in (*IDENTITY_FIELDS, "person_id", "status"):
        count += _run_sql(connection, _CORRECTION_INSERT.format(field=column, old=f"v.{column}")
                          + f"""
            FROM stage_records s JOIN vaccination_record v ON v.record_id = s.record_id
            WHERE s.action = 'update' AND v.{column} IS DISTINCT FROM s.{column}""",
            run_id=run_id, actor=actor, now=now)
    return count


def correct_new_records(connection: Connection, run_id: str, actor: str, now: str) -> int:
    """After the insert: the run's value of each identity field versus the facility's original."""
    count = 0
    for column in IDENTITY_FIELDS:
        old = f"s.original_{column}"
        count += _run_sql(connection, _CORRECTION_INSERT.format(field=column, old=old) + f"""
            FROM stage_records s
            WHERE s.action = 'new' AND {old} IS DISTINCT FROM s.{column}""",
            run_id=run_id, actor=actor, now=now)
    return count


def write_records(connection: Connection, run_id: str, now: str) -> tuple[int, int]:
    current = [*IDENTITY_FIELDS, "status", "person_id", "confidence", "reasons", "input_order"]
    updated = _run_sql(connection, f"""
        UPDATE vaccination_record SET
            {", ".join(f"{c} = s.{c}" for c in current)},
            run_id = :run_id, version = vaccination_record.version + 1, updated_at = :now
        FROM stage_records s
        WHERE vaccination_record.record_id = s.record_id AND s.action = 'update'""",
        run_id=run_id, now=now)
    columns = ["record_id", "facility_id", "province_code", "commune_code",
               *(f"original_{name}" for name in ORIGINAL_FIELDS), *current]
    inserted = _run_sql(connection, f"""
        INSERT INTO vaccination_record ({", ".join(columns)}, run_id, first_run_id, decided,
                                        version, updated_at)
        SELECT {", ".join(columns)}, :run_id, :run_id, false, 1, :now
        FROM stage_records WHERE action = 'new'""", run_id=run_id, now=now)
    # A decided record keeps its values, but takes its place in the newest run's input: the
    # order its dose history is consolidated in (not a value anyone decided).
    _run_sql(connection, """
        UPDATE vaccination_record SET input_order = (
            SELECT s.input_order FROM stage_records s
            WHERE s.record_id = vaccination_record.record_id)
        WHERE record_id IN (SELECT record_id FROM stage_records WHERE action = 'locked')""")
    return inserted, updated


def write_review_items(connection: Connection, run_id: str, now: str) -> tuple[int, int]:
    superseded = _run_sql(connection, """
        UPDATE review_item SET state = 'superseded', superseded_by_run = :run_id,
               version = version + 1, updated_at = :now
        WHERE state IN ('open', 'deferred')
          AND record_id IN (SELECT record_id FROM stage_records WHERE action = 'update')""",
        run_id=run_id, now=now)
    opened = _run_sql(connection, """
        INSERT INTO review_item (record_id, run_id, province_code, facility_id, state, version,
                                 created_at, updated_at)
        SELECT record_id, :run_id, province_code, facility_id, 'open', 1, :now, :now
        FROM stage_records WHERE status = 'review' AND action IN ('new', 'update')""",
        run_id=run_id, now=now)
    new_items = "review_item i ON i.record_id = {table}.record_id AND i.run_id = :run_id " \
                "AND i.state = 'open'"
    _run_sql(connection, f"""
        INSERT INTO review_candidate (item_id, rank, person_id, match_probability, comparison,
                                      reasons)
        SELECT i.id, c.rank, c.person_id, c.match_probability, c.comparison, c.reasons
        FROM stage_candidates c JOIN {new_items.format(table="c")}""", run_id=run_id)
    _run_sql(connection, f"""
        INSERT INTO review_item_reason (item_id, reason)
        SELECT i.id, r.reason FROM stage_reasons r JOIN {new_items.format(table="r")}""",
        run_id=run_id)
    return opened, superseded


def write_dose_history(connection: Connection, run_id: str) -> None:
    """Replace the consolidated doses of every person the run consolidated."""
    # Two statements, not one with OR: PostgreSQL answers each IN from its index, but plans an
    # OR of two sub-selects as a scan of the whole table (1.2 s at 2 M rows, 12 s at 20 M).
    _run_sql(connection, """
        DELETE FROM dose_history WHERE person_id IN (SELECT person_id FROM stage_doses)""")
    _run_sql(connection, """
        DELETE FROM dose_history
        WHERE record_id IN (SELECT record_id FROM stage_records WHERE action <> 'locked')""")
    # Only doses whose record is (still) linked to that person: decided records keep their link.
    _run_sql(connection, """
        INSERT INTO dose_history (person_id, record_id, dose_number, vaccine_mp, vaccine_ma,
                                  vaccine_vp, vaccinated_on, facility_id, duplicate_of, flags,
                                  run_id)
        SELECT d.person_id, d.record_id, d.dose_number, d.vaccine_mp, d.vaccine_ma, d.vaccine_vp,
               d.vaccinated_on, d.facility_id, d.duplicate_of, d.flags, :run_id
        FROM stage_doses d JOIN vaccination_record v
          ON v.record_id = d.record_id AND v.person_id = d.person_id""", run_id=run_id)


# The run's people (a record it wrote links them) whose history its consolidation saw whole: it
# consolidated exactly the records the store now links to them, and no two on one day (which of
# two same-day doses is the duplicate follows the input order, the run's files versus the
# store's input_order). Their history is then what refresh_dose_history would compute from the
# store, with the run's settings: the run's own rows, the stored context's included.
_SEEN_DOSES = """
    CREATE TEMPORARY TABLE stage_seen_doses AS
    SELECT w.person_id, w.record_id, w.context, w.duplicate_of,
           v.record_id AS linked_record, v.run_id AS record_run
    FROM (SELECT person_id, record_id, duplicate_of, 0 AS context FROM stage_doses
          UNION ALL
          SELECT person_id, record_id, duplicate_of, 1 AS context FROM stage_context_doses) w
    LEFT JOIN vaccination_record v
      ON v.record_id = w.record_id AND v.person_id = w.person_id
     AND v.status IN ('verified', 'corrected')
    WHERE w.person_id IN (SELECT d.person_id FROM stage_doses d
                          JOIN stage_records s ON s.record_id = d.record_id
                          WHERE s.action <> 'locked')"""
_WHOLE_PEOPLE = """
    CREATE TEMPORARY TABLE stage_whole_people AS
    WITH consolidated AS (
        SELECT person_id, count(*) AS doses, count(linked_record) AS linked,
               count(duplicate_of) AS duplicates
        FROM stage_seen_doses GROUP BY person_id
    ), stored AS (
        SELECT person_id, count(*) AS linked FROM vaccination_record
        WHERE person_id IN (SELECT person_id FROM consolidated)
          AND status IN ('verified', 'corrected')
        GROUP BY person_id
    )
    SELECT c.person_id FROM consolidated c JOIN stored s ON s.person_id = c.person_id
    WHERE c.duplicates = 0 AND c.linked = c.doses AND s.linked = c.doses"""
_CONTEXT_OF_WHOLE_PEOPLE = """
    FROM stage_context_doses c
    JOIN stage_whole_people p ON p.person_id = c.person_id
    JOIN stage_seen_doses s ON s.record_id = c.record_id AND s.person_id = c.person_id"""


def write_context_dose_history(connection: Connection, run_id: str) -> int:
    """Write back the stored context's doses (a daily run's people's earlier doses, other runs'
    records) the run consolidated, for the people whose history it saw whole; returns how many
    people had such doses. write_dose_history removed them with the rest of each history.

    Each row is credited to the run that published its record, as a recomputation credits it.
    The people left (another link in the store, a same-day duplicate) are recomputed from the
    store by refresh_other_runs_dose_history, as before; this spares the recomputation of the
    others, which was most of a 100,000-record day's publish (benchmarks/README.md)."""
    saved = connection.execute(text("SELECT settings FROM run WHERE run_id = :run_id"),
                               {"run_id": run_id}).scalar()
    for table in ("stage_seen_doses", "stage_whole_people"):
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
    if saved is None:   # a recomputation would use another run's settings: leave it to it
        connection.exec_driver_sql("CREATE TEMPORARY TABLE stage_whole_people (person_id TEXT)")
        return 0
    for statement, table in ((_SEEN_DOSES, "stage_seen_doses"),
                             (_WHOLE_PEOPLE, "stage_whole_people")):
        connection.exec_driver_sql(statement)
        ready_for_joins(connection, table, ("person_id",))
    people = count(connection, f"SELECT count(DISTINCT c.person_id) {_CONTEXT_OF_WHOLE_PEOPLE}")
    columns = ("person_id, record_id, dose_number, vaccine_mp, vaccine_ma, vaccine_vp, "
               "vaccinated_on, facility_id, duplicate_of, flags")
    prefixed = ", ".join(f"c.{column.strip()}" for column in columns.split(","))
    _run_sql(connection, f"""
        INSERT INTO dose_history ({columns}, run_id)
        SELECT {prefixed}, s.record_run {_CONTEXT_OF_WHOLE_PEOPLE}""")
    return people


# People whose dose history the run just wrote from its own view, which does not know officers'
# links: people with a decided record the run consolidated or took a record from, and the run's
# people of decided records (an officer may have linked the record elsewhere or to nobody).
_DECIDED_PEOPLE = """
    SELECT person_id FROM stage_doses
    WHERE person_id IN (SELECT person_id FROM vaccination_record WHERE decided)
       OR record_id IN (SELECT record_id FROM stage_records WHERE action = 'locked')
    UNION
    SELECT old_value FROM correction
    WHERE run_id = :run_id AND field = 'person_id'
      AND old_value IN (SELECT person_id FROM vaccination_record WHERE decided)"""


def refresh_decided_dose_history(session: Session, run_id: str) -> int:
    """Recompute the dose history of the people the run rewrote whom a decided record belongs
    to or was taken from, so an officer's link survives newer runs. Nobody else: publish stays
    as fast as before."""
    connection = session.connection()
    # The partial index of decided records answers at once; the common first publish stops here.
    decided = connection.execute(text("SELECT 1 FROM vaccination_record WHERE decided LIMIT 1"))
    if decided.first() is None:
        return 0
    people = connection.execute(text(_DECIDED_PEOPLE), {"run_id": run_id}).scalars()
    return refresh_dose_history(session, list(people)).people


# The run's people with a linked dose outside its view (a record another run published that
# this run neither sent nor consolidated): write_dose_history replaced their history by the run's
# own view of it, which lacks that dose. People whose history the run saw whole have every dose
# back already (write_context_dose_history).
# The run's records are the staged ones it wrote (new or updated; locked ones keep their run),
# with the person the staged row names: read from the staging table, not from the store. Asking
# the store for its records of the run (by run id) was planned from statistics that do not know
# the new run: one row expected, 100,000 found, each compared with every staged row (105 s for
# a day of 100,000 records at 2 M records, benchmarks/README.md).
_PEOPLE_WITH_OTHER_DOSES = """
    SELECT DISTINCT s.person_id FROM stage_records s
    WHERE s.action <> 'locked' AND s.person_id IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM stage_whole_people w WHERE w.person_id = s.person_id)
      AND EXISTS (SELECT 1 FROM vaccination_record o
                  WHERE o.person_id = s.person_id AND o.status IN ('verified', 'corrected')
                    AND NOT EXISTS (SELECT 1 FROM dose_history d
                                    WHERE d.record_id = o.record_id
                                      AND d.person_id = o.person_id))"""


def refresh_other_runs_dose_history(session: Session, run_id: str) -> int:
    """Recompute, from every record linked to them, the dose history of the run's people who
    have doses other runs published (a facility's day, a province's file after another's), so
    their history (and certificate) keeps every dose. The first run of a store stops at once."""
    connection = session.connection()
    others = connection.execute(text("SELECT 1 FROM run WHERE run_id <> :run_id LIMIT 1"),
                                {"run_id": run_id})
    if others.first() is None:
        return 0
    people = connection.execute(text(_PEOPLE_WITH_OTHER_DOSES)).scalars()
    return refresh_dose_history(session, list(people)).people


def queue_identity_changes(connection: Connection, run_id: str, now: str) -> int:
    """Queue certificate holders whose register name or date of birth the run changes (before the
    register rows are applied): their certificate no longer says what the register says."""
    changed = " OR ".join(f"COALESCE(p.{column}, '') <> COALESCE(s.{column}, '')"
                          for column in ("full_name", "dob", "dob_precision"))
    return _run_sql(connection, f"""
        INSERT INTO signing_queue (person_id, action, state, reason, created_at)
        SELECT p.person_id, 'revoke_and_reissue', 'pending',
               'cleaning run ' || :run_id || ' changed their register identity', :now
        FROM person p JOIN stage_persons s ON s.person_id = p.person_id
        WHERE ({changed})
          AND EXISTS (SELECT 1 FROM certificate c WHERE c.person_id = p.person_id
                      AND c.state = 'issued')
          AND NOT EXISTS (SELECT 1 FROM signing_queue q WHERE q.person_id = p.person_id
                          AND q.state = 'pending')""", run_id=run_id, now=now)


def queue_signing(connection: Connection, run_id: str, now: str) -> int:
    """Queue people newly linked by the run, and people whose linked records it changed."""
    return _run_sql(connection, """
        INSERT INTO signing_queue (person_id, action, state, reason, created_at)
        SELECT p.person_id,
               CASE WHEN EXISTS (SELECT 1 FROM certificate c WHERE c.person_id = p.person_id
                                 AND c.state = 'issued')
                    THEN 'revoke_and_reissue' ELSE 'issue' END,
               'pending', 'cleaning run ' || :run_id || ' linked or changed their records', :now
        FROM (
            SELECT person_id FROM stage_records
            WHERE action = 'new' AND status IN ('verified', 'corrected')
            UNION
            SELECT s.person_id FROM stage_records s
            WHERE s.action = 'update' AND s.status IN ('verified', 'corrected')
              AND EXISTS (SELECT 1 FROM correction c WHERE c.record_id = s.record_id
                          AND c.run_id = :run_id)
            UNION
            SELECT old_value FROM correction
            WHERE run_id = :run_id AND field = 'person_id' AND old_value IS NOT NULL
        ) p
        WHERE p.person_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM signing_queue q WHERE q.person_id = p.person_id
                          AND q.state = 'pending')""", run_id=run_id, now=now)


def count(connection: Connection, sql: str) -> int:
    return int(connection.exec_driver_sql(sql).scalar() or 0)


@dataclass(frozen=True)
class Applied:
    """What applying a run changed."""

    new_records: int
    updated_records: int
    kept_decisions: int
    review_items: int
    superseded_items: int
    corrections: int
    signing_queued: int
    histories_refreshed: int = 0


def apply_run(session: Session, run_id: str, actor: str, now: str) -> Applied:
    """Apply the staged run (reference data and classification already done)."""
    connection = session.connection()
    corrections = correct_updated_records(connection, run_id, actor, now)
    inserted, updated = write_records(connection, run_id, now)
    corrections += correct_new_records(connection, run_id, actor, now)
    opened, superseded = write_review_items(connection, run_id, now)
    write_dose_history(connection, run_id)
    completed = write_context_dose_history(connection, run_id)
    refresh_decided_dose_history(session, run_id)
    refreshed = completed + refresh_other_runs_dose_history(session, run_id)
    queued = queue_signing(connection, run_id, now)
    kept = count(connection, "SELECT count(*) FROM stage_records WHERE action = 'locked'")
    return Applied(inserted, updated, kept, opened, superseded, corrections, queued, refreshed)
