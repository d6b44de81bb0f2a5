"""Each person's dose history in the store, recomputed with the cleaning run's own rules.

``publish`` writes the run's consolidation (``dose_history.parquet``). When an officer links a
record to a person or unlinks it, the run's rows no longer describe those people's doses:
:func:`refresh_dose_history` recomputes them from the records linked to each person in the store.
It runs the cleaning's own SQL as a small engine job (:func:`~vaxtrust.engine.small_job_engine`)
with the settings of the run that last published the records (campaign start, dose intervals, the
run's fixed "today", from ``run.settings``): the records' original values through
``vaxtrust.vn`` (:func:`~vaxtrust.pipeline.standardise.standardise_doses_sql`), then
:func:`~vaxtrust.pipeline.consolidate.dose_history_sql` (same-day duplicates, dose order,
plausibility flags). So a history the run computed comes out identical, and rows that do not
change are left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from vaxtrust.pipeline.consolidate import dose_history_sql
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.pipeline.standardise import standardise_doses_sql
from vaxtrust.store.bulk import insert_rows
from vaxtrust.store.tables import DoseHistory, Run, VaccinationRecord

LINKED_STATUSES = ("verified", "corrected")
VALUE_COLUMNS = ("dose_number", "vaccine_mp", "vaccine_ma", "vaccine_vp", "vaccinated_on",
                 "facility_id", "duplicate_of", "flags")
# Bound parameters per IN list: well under SQLite's and psycopg's limits.
_CHUNK = 1000
_STAGE = "dose history"
_RAW_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("person_id", pa.string()), ("status", pa.string()),
    ("source", pa.string()), ("row_number", pa.int64()), ("dose_number", pa.string()),
    ("vaccine", pa.string()), ("vaccinated_on", pa.string()), ("facility_id", pa.string()),
])

Key = tuple[str, str]  # (person_id, record_id)
Values = tuple[Any, ...]  # VALUE_COLUMNS, as the store holds them


@dataclass(frozen=True)
class DoseRefresh:
    """What a refresh did: people recomputed, rows written (new or changed), rows removed."""

    people: int
    written: int
    removed: int


def refresh_dose_history(
    session: Session, person_ids: Iterable[str | None], *, settings: CleanSettings | None = None,
) -> DoseRefresh:
    """Recompute the dose history of ``person_ids`` from the records linked to them now.

    Runs inside the caller's transaction. Not scoped to an actor: a person's doses are all their
    linked records, whichever facility holds them; callers check the actor's rights first.
    ``settings`` (campaign start, minimum intervals, "today") default to those of the newest
    run that published one of the records; to the cleaning's defaults for runs published before
    runs kept their settings.
    """
    people = sorted({person_id for person_id in person_ids if person_id})
    if not people:
        return DoseRefresh(0, 0, 0)
    session.flush()  # pending changes (a decision's new link) must be visible to the reads
    records = list(_linked_records(session, people))
    computed = _consolidate(records, settings or run_settings(session, records))
    stored = _stored_rows(session, people)
    stale = [key for key, values in stored.items() if computed.get(key) != values]
    fresh = {key: values for key, values in computed.items() if stored.get(key) != values}
    # A recomputed row comes from the run that last published its record.
    _replace_rows(session, stale, fresh, {record.record_id: record.run_id for record in records})
    return DoseRefresh(len(people), len(fresh), len(stale) - len(fresh.keys() & stored.keys()))


def run_settings(session: Session, records: Sequence[Any]) -> CleanSettings:
    """The settings of the newest run that published one of ``records`` (defaults when none
    saved them): what the dose history here and the complaints' settle guard
    (:mod:`vaxtrust.complaints.guard`) apply, so both judge as that cleaning run did."""
    run_ids = sorted({record.run_id for record in records if record.run_id})
    if not run_ids:
        return CleanSettings()
    saved = session.scalar(
        select(Run.settings).where(Run.run_id.in_(run_ids), Run.settings.is_not(None))
        .order_by(Run.published_at.desc(), Run.run_id.desc()).limit(1))
    return CleanSettings.from_document(json.loads(saved)) if saved else CleanSettings()


def _replace_rows(session: Session, stale: Sequence[Key], fresh: dict[Key, Values],
                  run_of_record: dict[str, str]) -> None:
    """Delete the stale rows (changed ones included), insert the fresh ones."""
    if stale:  # by primary key, as one executemany (Core: the ORM has no bulk delete)
        session.connection().execute(
            delete(DoseHistory).where(DoseHistory.person_id == bindparam("p"),
                                      DoseHistory.record_id == bindparam("r")),
            [{"p": person_id, "r": record_id} for person_id, record_id in stale])
    if fresh:   # in bulk (COPY on PostgreSQL): a day's publish recomputes 100,000 people
        insert_rows(session.connection(), DoseHistory.__tablename__,
                    ("person_id", "record_id", "run_id", *VALUE_COLUMNS),
                    ((person_id, record_id, run_of_record[record_id], *values)
                     for (person_id, record_id), values in sorted(fresh.items())))


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _linked_records(session: Session, people: Sequence[str]) -> Iterator[Any]:
    """The dose-relevant original values of every record linked to one of ``people``."""
    record = VaccinationRecord
    for chunk in _chunks(people):
        yield from session.execute(
            select(record.record_id, record.person_id, record.status, record.run_id,
                   record.input_order,
                   record.original_dose_number, record.original_vaccine,
                   record.original_vaccinated_on, record.original_facility_id)
            .where(record.person_id.in_(chunk), record.status.in_(LINKED_STATUSES)))


def _stored_rows(session: Session, people: Sequence[str]) -> dict[Key, Values]:
    found: dict[Key, Values] = {}
    columns = [getattr(DoseHistory, name) for name in VALUE_COLUMNS]
    for chunk in _chunks(people):
        for row in session.execute(select(DoseHistory.person_id, DoseHistory.record_id, *columns)
                                   .where(DoseHistory.person_id.in_(chunk))):
            found[(row[0], row[1])] = tuple(row[2:])
    return found


def _consolidate(records: Sequence[Any], settings: CleanSettings) -> dict[Key, Values]:
    """The cleaning's consolidation of ``records``, formatted as publish stores a run's rows."""
    if not records:
        return {}
    # The raw table holds the links (person, status) dose_history_sql reads as "decisions" too.
    # One source: input_order already orders the run's files, then rows (VaccinationRecord).
    raw = pa.table({
        "record_id": [r.record_id for r in records], "person_id": [r.person_id for r in records],
        "status": [r.status for r in records], "source": [""] * len(records),
        "row_number": [r.input_order for r in records],
        "dose_number": [r.original_dose_number for r in records],
        "vaccine": [r.original_vaccine for r in records],
        "vaccinated_on": [r.original_vaccinated_on for r in records],
        "facility_id": [r.original_facility_id for r in records],
    }, schema=_RAW_SCHEMA)
    history = dose_history_sql(
        campaign_start=settings.campaign_start, today=settings.run_date(),
        min_interval_days=settings.min_interval_days,
        default_min_interval_days=settings.default_min_interval_days,
        decisions="raw_store_doses", records="store_doses")
    from vaxtrust.engine import small_job_engine

    with small_job_engine() as engine:
        engine.register("raw_store_doses", raw)
        engine.create_table("store_doses", standardise_doses_sql("raw_store_doses"), stage=_STAGE)
        rows = engine.query(f"""
            SELECT person_id, record_id, CAST(dose_number AS INTEGER) AS dose_number,
                   vaccine_mp, vaccine_ma, vaccine_vp,
                   CAST(vaccinated_on AS VARCHAR) AS vaccinated_on, facility_id, duplicate_of,
                   coalesce(CAST(to_json(flags) AS VARCHAR), '[]') AS flags
            FROM ({history})""", stage=_STAGE).to_pylist()
    return {(row["person_id"], row["record_id"]): tuple(row[name] for name in VALUE_COLUMNS)
            for row in rows}
