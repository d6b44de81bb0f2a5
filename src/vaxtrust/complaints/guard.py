"""Would a cleaning run link record R to person P by itself? The decide stage's own guards.

A complaint's certain ``link_record`` proposal is settled without an officer only where the
cleaning would have linked R to P automatically. That question is answered by the cleaning's
code, not a copy of it: R's values as the facility typed them and the register rows around P go
through the pipeline's standardise SQL, the pairs through the matcher's comparison
(:func:`~vaxtrust.pipeline.match.compare.relate_ids_sql`,
:func:`~vaxtrust.pipeline.match.compare.explain_pairs_sql`), and the result through decide's
guard chain (:func:`~vaxtrust.pipeline.match.guards.best_candidates`: rank, set namesakes apart
by phone or commune, best candidate and strongest competitor; then
:func:`~vaxtrust.pipeline.match.guards.linkable_sql`), with the thresholds of the run that
published R.

The candidates are those the cleaning would have set beside P: a record carrying P's own ID is
settled by the ID-anchored path before any other runs (P alone); one without it meets P and
every register person sharing P's date of birth or full name (namesakes, twins), and the person
whose ID it carries (a parent's), as the probabilistic path would find them.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Final

import pyarrow as pa
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vaxtrust.engine import Engine, small_job_engine
from vaxtrust.pipeline.match.compare import explain_pairs_sql, relate_ids_sql
from vaxtrust.pipeline.match.guards import best_candidates, linkable_sql
from vaxtrust.pipeline.match.settings import MatchSettings
from vaxtrust.pipeline.standardise import (
    register_vn_functions,
    standardise_records_sql,
    standardise_register_sql,
)
from vaxtrust.review.register_check import normalise_id
from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS
from vaxtrust.store.doses import run_settings
from vaxtrust.store.tables import Person, VaccinationRecord

Pair = tuple[str, str]   # (record_id, person_id)
_CHUNK: Final = 1000
_STAGE: Final = "complaint settle guard"


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start:start + _CHUNK]


def _records(session: Session, record_ids: Sequence[str]) -> list[VaccinationRecord]:
    found: list[VaccinationRecord] = []
    for chunk in _chunks(record_ids):
        found.extend(session.scalars(select(VaccinationRecord)
                                     .where(VaccinationRecord.record_id.in_(chunk))))
    return found


def _register(session: Session, claimed: Sequence[Person], carried: set[str]) -> list[Person]:
    """The claimed persons, those sharing one's date of birth or full name, and those whose ID
    a record carries."""
    found: dict[str, Person] = {person.person_id: person for person in claimed}
    wanted = ((sorted({p.dob for p in claimed if p.dob}), lambda chunk: Person.dob.in_(chunk)),
              (sorted({p.full_name for p in claimed if p.full_name}),
               lambda chunk: Person.full_name.in_(chunk)),
              (sorted(carried), lambda chunk: or_(Person.person_id.in_(chunk),
                                                  Person.old_id.in_(chunk))))
    for values, condition in wanted:
        for chunk in _chunks(values):
            for person in session.scalars(select(Person).where(condition(chunk))):
                found.setdefault(person.person_id, person)
    return list(found.values())


def _raw_records(records: Sequence[VaccinationRecord]) -> pa.Table:
    """The records as the facility typed them (the ``raw_records`` of a cleaning run)."""
    columns = {name: pa.array([r.record_id if name == "record_id" else
                               getattr(r, f"original_{name}") for r in records], pa.string())
               for name in DOSE_RECORD_COLUMNS}
    return pa.table({**columns, "source": pa.array([""] * len(records), pa.string()),
                     "row_number": pa.array(range(len(records)), pa.int64())})


def _raw_register(persons: Sequence[Person]) -> pa.Table:
    return pa.table({name: pa.array([getattr(p, name) for p in persons], pa.string())
                     for name in REGISTER_COLUMNS})


def _pairs_sql() -> str:
    """Each claim's candidate pairs: P alone when the record carries P's ID (the ID-anchored
    path settles it first), else P and its rivals (``probability`` NULL: the rule score)."""
    def relate(path: str, own: bool, rivals: str) -> str:
        pairs = f"""(SELECT c.record_id, p.person_id, CAST(NULL AS DOUBLE) AS probability
            FROM settle_claims AS c
            JOIN std_records AS r ON r.record_id = c.record_id
            JOIN std_register AS claimed ON claimed.person_id = c.person_id
            JOIN std_register AS p ON {rivals}
            WHERE coalesce(r.id_clean = c.person_id, false) = {str(own).lower()})"""
        return relate_ids_sql(pairs, path, 1.0)

    rivals = ("p.person_id = claimed.person_id OR p.dob = claimed.dob"
              " OR p.name_fold = claimed.name_fold OR p.person_id = r.id_clean"
              " OR p.old_id = r.id_clean")
    return (f"SELECT * FROM ({relate('id_anchored', True, 'p.person_id = claimed.person_id')})"
            f" UNION ALL SELECT * FROM ({relate('probabilistic', False, rivals)})")


def _linked(engine: Engine, claims: Sequence[Pair], settings: MatchSettings) -> set[Pair]:
    engine.register("settle_claims", pa.table({
        "record_id": [record_id for record_id, _ in claims],
        "person_id": [person_id for _, person_id in claims]}))
    engine.create_table("settle_pairs", _pairs_sql(), stage=_STAGE)
    engine.create_table(
        "settle_candidates",
        f"SELECT * FROM ({explain_pairs_sql('settle_pairs')}) "
        f"WHERE match_probability >= {settings.candidate_floor}", stage=_STAGE)
    _, top = best_candidates(engine, "settle_candidates", "settle", settings, _STAGE)
    rows = engine.query(f"SELECT record_id, person_id FROM {top} "
                        f"WHERE {linkable_sql(top, settings)}", stage=_STAGE).to_pylist()
    return {(row["record_id"], row["person_id"]) for row in rows} & set(claims)


def cleaning_would_link(session: Session, claims: Sequence[Pair]) -> set[Pair]:
    """The pairs of ``claims`` that a cleaning run would link automatically (see above)."""
    records = _records(session, sorted({record_id for record_id, _ in claims}))
    claimed = [person for chunk in _chunks(sorted({p for _, p in claims}))
               for person in session.scalars(select(Person).where(Person.person_id.in_(chunk)))]
    if not records or not claimed:
        return set()
    carried = {normalise_id(r.original_id_number) for r in records} - {None}
    persons = _register(session, claimed, {c for c in carried if c})
    settings = run_settings(session, records).match
    with small_job_engine() as engine:
        register_vn_functions(engine)
        engine.register("raw_records", _raw_records(records))
        engine.register("raw_register", _raw_register(persons))
        engine.create_table("std_records", standardise_records_sql("raw_records"), stage=_STAGE)
        engine.create_table("std_register", standardise_register_sql("raw_register"),
                            stage=_STAGE)
        return _linked(engine, claims, settings)
