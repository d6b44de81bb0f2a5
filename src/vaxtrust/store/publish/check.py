"""Check the staged run before anything is applied: set-based SQL over the staging tables.

Each check names up to five offending rows and the run file they came from. A failed check
raises :class:`~vaxtrust.errors.InputError`; the caller's transaction then leaves the store as
it was.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, text

from vaxtrust.errors import InputError
from vaxtrust.schema import RUN_PERSONS, RUN_RECORDS, RUN_REVIEW_CANDIDATES, Status
from vaxtrust.store.publish.folder import RunFolder
from vaxtrust.store.publish.load import ready_for_joins

_STATUSES = ", ".join(f"'{status.value}'" for status in Status)

# (query returning examples, message, file, field)
_RECORD_CHECKS = (
    ("SELECT 'row ' || input_order FROM stage_records WHERE record_id IS NULL",
     "records without record_id", "record_id"),
    ("SELECT record_id FROM stage_records GROUP BY record_id HAVING count(*) > 1",
     "record_id repeated in records", "record_id"),
    ("SELECT record_id || ' (' || coalesce(status, 'empty') || ')' FROM stage_records "
     f"WHERE status IS NULL OR status NOT IN ({_STATUSES})",
     f"unknown status (use {_STATUSES})", "status"),
    ("SELECT record_id FROM stage_records WHERE status IN ('verified', 'corrected') "
     "AND person_id IS NULL", "linked records without person_id", "person_id"),
    ("SELECT record_id FROM stage_records WHERE facility_id IS NULL OR province_code IS NULL",
     "records without a facility or province", "facility_id"),
)
_PERSON_CHECKS = (
    ("SELECT person_id FROM stage_persons GROUP BY person_id HAVING count(*) > 1",
     "person_id repeated in the register extract", "person_id"),
    ("SELECT r.record_id || ' → ' || r.person_id FROM stage_records r "
     "WHERE r.person_id IS NOT NULL AND NOT EXISTS "
     "(SELECT 1 FROM stage_persons p WHERE p.person_id = r.person_id)",
     "records link persons missing from the register extract", "person_id"),
)
_CANDIDATE_CHECKS = (
    ("SELECT c.record_id FROM stage_candidates c WHERE NOT EXISTS (SELECT 1 FROM stage_records r "
     "WHERE r.record_id = c.record_id AND r.status = 'review')",
     "candidates for records that are not under review", "record_id"),
    ("SELECT record_id FROM stage_candidates WHERE rank IS NULL OR rank < 1 "
     "OR person_id IS NULL", "candidates without a rank ≥ 1 or a person_id", "rank"),
    ("SELECT record_id || ' rank ' || rank FROM stage_candidates "
     "GROUP BY record_id, rank HAVING count(*) > 1", "candidate rank repeated", "rank"),
    ("SELECT c.person_id FROM stage_candidates c WHERE NOT EXISTS "
     "(SELECT 1 FROM stage_persons p WHERE p.person_id = c.person_id)",
     "candidates missing from the register extract", "person_id"),
)


def _fail_on(connection: Connection, sql: str, message: str, path: Path, field: str) -> None:
    """Raise InputError naming up to 5 offending rows when ``sql`` returns any.

    The check is planned as a whole (a materialised CTE), not for its first five rows: under a
    bare ``LIMIT 5`` PostgreSQL expects offenders early and picks a nested-loop anti-join, which
    on a clean run scans every pair (12 minutes at 1 M records; a hash anti-join takes a second).
    """
    rows = connection.execute(text(
        f"WITH offending AS MATERIALIZED ({sql}) SELECT * FROM offending LIMIT 5")).fetchall()
    if rows:
        examples = ", ".join(str(row[0]) for row in rows)
        raise InputError(f"{message}: {examples}", path=str(path), field=field)


def check_staged(connection: Connection, run: RunFolder) -> None:
    """Refuse a run whose tables contradict each other or the results contract."""
    for sql, message, field in _RECORD_CHECKS:
        _fail_on(connection, sql, message, run.path / RUN_RECORDS, field)
    for sql, message, field in _PERSON_CHECKS:
        _fail_on(connection, sql, message, run.path / RUN_PERSONS, field)
    if not run.has_candidates:
        _fail_on(connection, "SELECT record_id FROM stage_records WHERE status = 'review'",
                 f"review records but no {RUN_REVIEW_CANDIDATES}", run.path / RUN_RECORDS,
                 "status")
        return
    for sql, message, field in _CANDIDATE_CHECKS:
        _fail_on(connection, sql, message, run.path / RUN_REVIEW_CANDIDATES, field)


CONTEXT_DOSES = "stage_context_doses"
_NOT_THE_RUNS = """NOT EXISTS (
    SELECT 1 FROM stage_records r
    WHERE r.record_id = stage_doses.record_id AND r.person_id = stage_doses.person_id)"""


def keep_linked_doses(connection: Connection) -> None:
    """Only doses of records the run links to that same person: a dose history row of anyone
    else is not the run's to write.

    The rows taken out are kept aside (:data:`CONTEXT_DOSES`): a daily run consolidates its
    people's stored records with the day's, and apply takes those rows back for the people whose
    history the run saw whole instead of recomputing it
    (:func:`~vaxtrust.store.publish.apply.write_context_dose_history`)."""
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {CONTEXT_DOSES}")
    connection.exec_driver_sql(f"""
        CREATE TEMPORARY TABLE {CONTEXT_DOSES} AS SELECT * FROM stage_doses
        WHERE {_NOT_THE_RUNS}""")
    connection.exec_driver_sql(f"DELETE FROM stage_doses WHERE {_NOT_THE_RUNS}")
    ready_for_joins(connection, CONTEXT_DOSES, ("person_id", "record_id"))
