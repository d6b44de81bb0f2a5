"""``register_changes``: a new register snapshot, or a file of changed register rows, re-verifies
only the records of the people it touches (``docs/daily.md``, "Register changes").

The register changes under the store: new CCCD numbers, corrected names and dates of birth,
people removed. The store keeps a copy of every register person its records refer to (``person``);
the people whose row in the file differs from that copy are *touched* (and, given a complete
snapshot, the store's people missing from it have *vanished*): one set-based job on the engine
(:func:`changes_sql`). A province officer's change is refused before any cleaning when a touched
person has records outside their province, and a whole snapshot (every province) is the
ministry's. Only the touched people's records are cleaned again, against the file's rows, with
the rule paths (the saved model describes the old snapshot):

- a record that still agrees with its person (now as the register says) stays linked; its
  corrected values follow the register, and the certificate of a person whose name or date of
  birth changed is queued to be revoked and re-issued (publish, ``queue_identity_changes``);
- a record that no longer agrees, or whose person vanished, goes back to review
  (``register_person_changed``): an officer links it again.

Records an officer decided stay as decided. The file is in the same ledger as the daily files:
the same file is applied once.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import and_, bindparam, func, select, text
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.app.audit import export_head
from vaxtrust.app.daily import CONTEXT_FILE, STORED_RECORD_COLUMNS, file_hashes, refuse_processed
from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import PermissionDenied
from vaxtrust.pipeline.outputs import RunKey, write_contents
from vaxtrust.schema import REGISTER_COLUMNS, RUN_RECORDS, RUN_RESULTS
from vaxtrust.store.bulk import is_postgres
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishReport, RunFolder, publish_run
from vaxtrust.store.publish.scope import OutsideScope, PublishOutsideScope
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import DailyFile, Person, VaccinationRecord, utc_now_text

if TYPE_CHECKING:
    from vaxtrust.config import Settings

__all__ = ["RegisterChangeReport", "register_changes"]

CHANGED_REASON = "register_person_changed"
_CHUNK = 1000


@dataclass(frozen=True)
class RegisterChangeReport:
    """What a register change did."""

    changed_people: int
    vanished_people: int
    records: int
    back_to_review: int
    run_id: str | None
    run_dir: Path | None
    publish: PublishReport | None


@dataclass(frozen=True)
class _Touched:
    changed: set[str]
    vanished: set[str]
    rows: int
    """Rows of the file (the ledger's count)."""


def _export_persons(session: Session, path: Path, people: list[str] | None) -> None:
    """The store's copies of register persons (every one, or ``people``) into a CSV file the
    engine reads: a whole PostgreSQL table streams out by ``COPY``, the rest in batches."""
    connection = session.connection()
    if people is None and is_postgres(connection):
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = (f"COPY (SELECT {', '.join(REGISTER_COLUMNS)} FROM person) TO STDOUT "
                     "(FORMAT csv, HEADER true)")
        with raw.cursor() as cursor, cursor.copy(statement) as copy, path.open("wb") as out:
            for block in copy:
                out.write(block)
        return
    query = select(*(getattr(Person, name) for name in REGISTER_COLUMNS))
    if people is None:
        batches = [session.execute(query.execution_options(yield_per=10_000))]
    else:
        batches = [session.execute(query.where(Person.person_id.in_(people[at:at + _CHUNK])))
                   for at in range(0, len(people), _CHUNK)]
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REGISTER_COLUMNS)
        for rows in batches:
            writer.writerows(rows)


def changes_sql(*, snapshot: bool) -> str:
    """People of ``stored_person`` (the store's copies) whose row in ``raw_register`` (the file)
    differs, empty and missing values alike; with a whole ``snapshot``, also those missing from
    it (``vanished``). One set-based job, whatever the register's size."""
    differs = " OR ".join(
        f"nullif(CAST(n.{name} AS VARCHAR), '') IS DISTINCT FROM nullif(o.{name}, '')"
        for name in REGISTER_COLUMNS[1:])
    return f"""
        SELECT DISTINCT o.person_id, n.person_id IS NULL AS vanished
        FROM stored_person o {"LEFT JOIN" if snapshot else "JOIN"} raw_register n
          ON CAST(n.person_id AS VARCHAR) = o.person_id
        WHERE n.person_id IS NULL OR {differs}"""


def _touched(settings: Settings, store: Store, path: Path, spill: Path, *,
             snapshot: bool) -> _Touched:
    """Read the file as ``clean`` reads a register (its readers, mapping, header check) and
    compare it with the store's copies of its people (a changes file: by key; a snapshot: every
    person the store holds) on the engine."""
    from vaxtrust.ingest.load import ingest

    with settings.create_engine(spill) as engine:
        counts = ingest(engine, "register", [path],
                        mapping=settings.clean_settings().mapping.register)
        people = None if snapshot else [str(value) for value in engine.query(
            "SELECT DISTINCT CAST(person_id AS VARCHAR) AS person_id FROM raw_register "
            "WHERE person_id IS NOT NULL", stage="register changes").column(0).to_pylist()]
        stored = spill.with_name("stored-persons.csv")
        with store.transaction() as session:
            _export_persons(session, stored, people)
        engine.load_file("stored_person", stored, file_format="csv", delimiter=",",
                         columns=REGISTER_COLUMNS)
        found = engine.query(changes_sql(snapshot=snapshot), stage="register changes")
    rows = zip(found.column("person_id").to_pylist(), found.column("vanished").to_pylist(),
               strict=True)
    changed: set[str] = set()
    vanished: set[str] = set()
    for person_id, gone in rows:
        (vanished if gone else changed).add(str(person_id))
    return _Touched(changed, vanished, sum(count.rows_in for count in counts))


def _refuse_outside_scope(session: Session, actor: Actor, people: set[str]) -> None:
    """Refuse, before any cleaning, to re-verify records the actor may not publish: those of the
    touched people outside a province officer's province (publish would refuse them last)."""
    if actor.role is Role.MINISTRY:
        return
    record = VaccinationRecord
    outside: Counter[str] = Counter()
    total = 0
    wanted = sorted(people)
    for at in range(0, len(wanted), _CHUNK):
        mine = and_(~record.decided, record.person_id.in_(wanted[at:at + _CHUNK]))
        total += session.scalar(select(func.count()).where(mine)) or 0
        outside.update({str(province): int(count) for province, count in session.execute(
            select(record.province_code, func.count()).where(mine, ~actor.records_filter())
            .group_by(record.province_code))})
    if outside:
        provinces = dict(sorted(outside.items(), key=lambda item: (-item[1], item[0])))
        raise PublishOutsideScope(actor, OutsideScope(sum(outside.values()), total, provinces))


def _write_records(session: Session, people: set[str], path: Path) -> set[str]:
    """The undecided records linked to ``people``, as typed, into ``path``; their ids."""
    from vaxtrust.schema import DOSE_RECORD_COLUMNS

    schema = pa.schema([(name, pa.string()) for name in DOSE_RECORD_COLUMNS])
    batches: list[pa.Table] = []
    wanted = sorted(people)
    for start in range(0, len(wanted), _CHUNK):
        rows = session.execute(text(f"""
            SELECT {STORED_RECORD_COLUMNS} FROM vaccination_record
            WHERE NOT decided AND person_id IN :ids""").bindparams(
            bindparam("ids", expanding=True)),
            {"ids": wanted[start:start + _CHUNK]})
        data = [dict(row._mapping) for row in rows]
        if data:
            batches.append(pa.Table.from_pylist(data, schema=schema))
    table = pa.concat_tables(batches) if batches else schema.empty_table()
    pq.write_table(table, path)
    return set(table.column("record_id").to_pylist())


def _back_to_review(run_dir: Path, key: RunKey | None) -> int:
    """Records the changed register no longer finds a person for go to review, not unmatched:
    they were linked before; an officer links them again."""
    moved = 0
    for name in (RUN_RESULTS, RUN_RECORDS):
        table = pq.read_table(run_dir / name)
        lost = pc.equal(table.column("status"), "unmatched")
        moved = int(pc.sum(lost).as_py() or 0)
        status = pc.if_else(lost, "review", table.column("status"))
        reasons = pa.array([
            [*(codes or []), CHANGED_REASON] if flag else codes
            for flag, codes in zip(lost.to_pylist(), table.column("reasons").to_pylist(),
                                   strict=True)], table.schema.field("reasons").type)
        table = table.set_column(table.schema.get_field_index("status"), "status", status)
        table = table.set_column(table.schema.get_field_index("reasons"), "reasons", reasons)
        pq.write_table(table, run_dir / name)
    write_contents(run_dir, key)
    return moved


def register_changes(settings: Settings, store: Store, actor: Actor, changes: Path, *,
                     snapshot: bool, runs_dir: Path,
                     console: Console | None = None) -> RegisterChangeReport:
    """Re-verify the records of the people ``changes`` touches (see the module doc).

    ``snapshot`` says the file is the whole register (the store's people missing from it
    vanished); else it holds changed or new rows only.
    """
    from vaxtrust.pipeline.run import clean

    console = console or NoopConsole()
    hashes = file_hashes([changes])
    # Refusals inside acting(): they are kept in the audit trail (action_refused).
    with acting(store, actor, subject=f"register:{changes.name}"[:80]) as (session, by):
        by.require(Permission.PUBLISH)
        if snapshot and by.role is not Role.MINISTRY:
            raise PermissionDenied(
                f"user {by.username} ({by.role} {by.scope_label()}) may not apply a whole "
                "register snapshot: it touches people of every province, and publishing across "
                "provinces is the ministry's; send the changed rows of your province's people")
        refuse_processed(session, hashes)
    work = Path(tempfile.mkdtemp(prefix=".register-"))
    try:
        touched = _touched(settings, store, changes, work / "spill-read", snapshot=snapshot)
        changed, vanished = touched.changed, touched.vanished
        with acting(store, actor, subject=f"register:{changes.name}"[:80]) as (session, by):
            _refuse_outside_scope(session, by, changed | vanished)
            record_ids = _write_records(session, changed | vanished, work / CONTEXT_FILE)
        if not record_ids:
            return RegisterChangeReport(len(changed), len(vanished), 0, 0, None, None, None)
        clean_settings = settings.clean_settings()
        clean_settings = replace(clean_settings,
                                 match=replace(clean_settings.match, probabilistic=False))
        runs_dir.mkdir(parents=True, exist_ok=True)
        run_dir = runs_dir / f"register-{work.name[-8:]}"
        with settings.create_engine(work / "spill") as engine:
            clean([work / CONTEXT_FILE], changes, run_dir, settings=clean_settings,
                  engine=engine, console=console, run_key=store.audit_key)
        try:
            moved = _back_to_review(run_dir, store.audit_key)
            with acting(store, actor, subject=f"register:{changes.name}") as (session, by):
                report = publish_run(session, by, RunFolder.open(run_dir), console=console)
                session.add(DailyFile(
                    content_hash=hashes[changes], file_name=changes.name, run_id=report.run_id,
                    records=touched.rows, processed_at=utc_now_text(),
                    processed_by=actor.username))
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export_head(store, check=False)
    return RegisterChangeReport(len(changed), len(vanished), len(record_ids), moved,
                                report.run_id, run_dir, report)
