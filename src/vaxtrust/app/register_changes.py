"""``register_changes``: a new register snapshot, or a file of changed register rows, re-verifies
only the records of the people it touches (``docs/daily.md``, "Register changes").

The register changes under the store: new CCCD numbers, corrected names and dates of birth,
people removed. The store keeps a copy of every register person its records refer to (``person``);
the people whose row in the file differs from that copy are *touched* (and, given a complete
snapshot, the store's people missing from it have *vanished*). Only their records are cleaned
again, against the file's rows, with the rule paths (the saved model describes the old snapshot):

- a record that still agrees with its person (now as the register says) stays linked; its
  corrected values follow the register, and the certificate of a person whose name or date of
  birth changed is queued to be revoked and re-issued (publish, ``queue_identity_changes``);
- a record that no longer agrees, or whose person vanished, goes back to review
  (``register_person_changed``): an officer links it again.

Records an officer decided stay as decided. The file is in the same ledger as the daily files:
the same file is applied once.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.app.audit import export_head
from vaxtrust.app.daily import CONTEXT_FILE, STORED_RECORD_COLUMNS, file_hashes, refuse_processed
from vaxtrust.console import Console, NoopConsole
from vaxtrust.pipeline.outputs import RunKey, write_contents
from vaxtrust.schema import REGISTER_COLUMNS, RUN_RECORDS, RUN_RESULTS
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishReport, RunFolder, publish_run
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import DailyFile, Person, utc_now_text

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


def _read_register(settings: Settings, path: Path, spill: Path) -> pa.Table:
    """The file's rows as ``clean`` reads a register (its readers, mapping, header check)."""
    from vaxtrust.ingest.load import ingest

    with settings.create_engine(spill) as engine:
        ingest(engine, "register", [path], mapping=settings.clean_settings().mapping.register)
        columns = ", ".join(f"CAST({name} AS VARCHAR) AS {name}" for name in REGISTER_COLUMNS)
        return engine.query(f"SELECT {columns} FROM raw_register", stage="register changes")


def _touched(session: Session, rows: pa.Table, *, snapshot: bool) -> tuple[set[str], set[str]]:
    """People of the store whose register row changed, and (snapshot) those who vanished.

    A changes file is compared with the store's copies of its own people only (by key); a
    snapshot with every person the store holds."""
    given = {row["person_id"]: tuple(row[c] for c in REGISTER_COLUMNS)
             for row in rows.to_pylist()}
    changed: set[str] = set()
    vanished: set[str] = set()
    columns = [getattr(Person, c) for c in REGISTER_COLUMNS]
    if snapshot:
        batches = [session.execute(select(*columns).execution_options(yield_per=10_000))]
    else:
        wanted = sorted(given)
        batches = [session.execute(select(*columns).where(
            Person.person_id.in_(wanted[start:start + _CHUNK])))
            for start in range(0, len(wanted), _CHUNK)]
    for stored in batches:
        for row in stored:
            values = tuple(None if value in (None, "") else str(value) for value in row)
            person_id = str(values[0])
            new = given.get(person_id)
            if new is None:
                if snapshot:
                    vanished.add(person_id)
            elif tuple(None if value in (None, "") else value for value in new) != values:
                changed.add(person_id)
    return changed, vanished


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
        refuse_processed(session, hashes)
    work = Path(tempfile.mkdtemp(prefix=".register-"))
    try:
        rows = _read_register(settings, changes, work / "spill-read")
        with store.transaction() as session:
            changed, vanished = _touched(session, rows, snapshot=snapshot)
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
                    records=rows.num_rows, processed_at=utc_now_text(),
                    processed_by=actor.username))
        except BaseException:
            shutil.rmtree(run_dir, ignore_errors=True)
            raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export_head(store, check=False)
    return RegisterChangeReport(len(changed), len(vanished), len(record_ids), moved,
                                report.run_id, run_dir, report)
