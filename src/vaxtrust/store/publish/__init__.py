"""Publish a cleaning run into the operational store: in bulk, idempotently, all or nothing.

Publish reads only the run folder (``docs/cleaning.md``, "The run folder") and never recomputes
what the run computed. Its rooms, in order:

1. :mod:`~vaxtrust.store.publish.folder`: locate the run and check its files and columns;
2. :mod:`~vaxtrust.store.publish.prepare`: turn its Parquet tables into staging rows;
3. :mod:`~vaxtrust.store.publish.load`: stream them into temporary tables (``COPY`` on
   PostgreSQL) inside the caller's transaction;
4. :mod:`~vaxtrust.store.publish.check`: refuse a run whose tables contradict each other;
   :mod:`~vaxtrust.store.publish.scope`: refuse records outside the publisher's scope;
5. :mod:`~vaxtrust.store.publish.apply`: apply them with set-based SQL that runs unchanged on
   SQLite and PostgreSQL.

Rules: a run whose files were published before changes nothing. A newer run updates the records
it covers, supersedes their open review items and opens new ones, but leaves every record an
officer has already decided exactly as decided. Originals are never overwritten: each change of a
current value becomes a ``correction`` row naming the run and its reason codes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import StoreError
from vaxtrust.store import audit
from vaxtrust.store.publish import prepare
from vaxtrust.store.publish.apply import (
    Applied,
    apply_reference_data,
    apply_run,
    classify_records,
    queue_identity_changes,
)
from vaxtrust.store.publish.check import check_staged, keep_linked_doses
from vaxtrust.store.publish.folder import RunFolder, content_hash
from vaxtrust.store.publish.load import create_stage_tables, drop_stage_tables, load_stage
from vaxtrust.store.publish.scope import OutsideScope, PublishOutsideScope, refuse_outside_scope
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Correction, Run, utc_now_text

__all__ = ["OutsideScope", "PublishOutsideScope", "PublishReport", "RunFolder", "content_hash",
           "publish_run"]


@dataclass(frozen=True)
class PublishReport:
    run_id: str
    content_hash: str
    already_published: bool
    records: int = 0
    new_records: int = 0
    updated_records: int = 0
    kept_decisions: int = 0
    review_items: int = 0
    superseded_items: int = 0
    corrections: int = 0
    signing_queued: int = 0
    histories_refreshed: int = 0   # people whose history other runs' doses were added back to


def _tune_postgres(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        # Set-based statements over staged rows: JIT compilation costs more than it saves.
        connection.exec_driver_sql("SET LOCAL jit = off")
        # Joins of a million staged rows against the store fit in memory instead of spilling.
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        # Random reads cost about what sequential ones do on the SSDs the store runs on; with
        # the default (4, spinning disks) the planner scanned all 20 M dose rows to delete the
        # histories of a day's 100,000 people rather than look them up by index (seconds
        # instead of a fraction). A national run's million rows still join by hash.
        connection.exec_driver_sql("SET LOCAL random_page_cost = 1.1")


ANALYZE_AFTER = 10_000   # records: from this size a publish may change the tables' statistics
# A table's statistics are refreshed when the publish adds at least this share of the rows it
# held at its last ANALYZE: autovacuum's own rule (autovacuum_analyze_scale_factor, 10 %).
ANALYZE_SHARE = 0.1
WRITTEN_TABLES = ("person", "vaccination_record", "correction", "dose_history", "review_item",
                  "review_item_reason", "review_candidate", "signing_queue")


def refresh_statistics(connection: Connection, records: int | None = None) -> tuple[str, ...]:
    """``ANALYZE`` the tables a publish of ``records`` records changes enough, inside its
    transaction so the statistics commit with the rows; returns them (none but on PostgreSQL).

    Without it the planner keeps the picture of the tables before the load until autovacuum's
    next pass: right after a first publish of a million records it took ``review_item`` for
    empty and sorted all its items for the queue's first page (benchmarks/README.md). A table
    is analysed when it was never analysed or ``records`` is at least :data:`ANALYZE_SHARE` of
    the rows it held (``records`` None: every table). A day of 100,000 records in a store of
    20 M leaves the large tables alone: sampling them costs seconds and changes nothing."""
    if connection.dialect.name != "postgresql":
        return ()
    tables = WRITTEN_TABLES if records is None else _changed_tables(connection, records)
    if tables:
        connection.exec_driver_sql(f"ANALYZE {', '.join(tables)}")
    return tables


def _changed_tables(connection: Connection, records: int) -> tuple[str, ...]:
    """The written tables whose row count at their last ANALYZE (``reltuples``; -1: never
    analysed, PostgreSQL 14+) is below ``records / ANALYZE_SHARE``."""
    rows = connection.execute(text("""
        SELECT c.relname, c.reltuples FROM pg_class c
        WHERE c.relname = ANY(:names) AND c.relkind = 'r'
          AND c.relnamespace = (SELECT oid FROM pg_namespace
                                WHERE nspname = current_schema())"""),
        {"names": list(WRITTEN_TABLES)}).all()
    held = {str(name): float(tuples) for name, tuples in rows}
    return tuple(name for name in WRITTEN_TABLES
                 if held.get(name, -1.0) < 0 or records >= ANALYZE_SHARE * held[name])


def _load_and_check(session: Session, run: RunFolder, console: Console) -> int:
    """Stream the run into staging tables and check them; returns the records staged."""
    connection = session.connection()
    _tune_postgres(connection)
    create_stage_tables(connection)
    counts = load_stage(connection, prepare.sources(run), console)
    console.stage_started("publish: check")
    check_staged(connection, run)
    keep_linked_doses(connection)
    console.stage_finished("publish: check", counts["stage_records"])
    return counts["stage_records"]


def _apply(session: Session, actor: Actor, run_id: str, now: str) -> Applied:
    """Place the records in their facilities' provinces, refuse records outside the actor's
    scope, then write everything."""
    connection = session.connection()
    identity_queued = queue_identity_changes(connection, run_id, now)
    apply_reference_data(connection)
    refuse_outside_scope(connection, actor)
    classify_records(connection)
    applied = apply_run(session, run_id, actor.username, now)
    drop_stage_tables(connection)
    return replace(applied, signing_queued=applied.signing_queued + identity_queued)


def _record_run(session: Session, run: Run, actor: Actor, applied: Applied) -> None:
    run.record_count = applied.new_records + applied.updated_records
    run.review_count, run.superseded_items = applied.review_items, applied.superseded_items
    run.kept_decisions = applied.kept_decisions
    audit.append(session, [audit.RunPublished(
        actor=actor.username, subject_id=f"run:{run.run_id}", run_id=run.run_id,
        content_hash=run.content_hash, records=run.record_count,
        review_items=applied.review_items, superseded_items=applied.superseded_items,
        kept_decisions=applied.kept_decisions, corrections_digest=audit.rows_digest(
            session.scalars(select(Correction).where(Correction.run_id == run.run_id)
                            .order_by(Correction.id).execution_options(yield_per=10_000))),
    )])


def publish_run(session: Session, actor: Actor, run: RunFolder, *,
                console: Console | None = None,
                permission: Permission = Permission.PUBLISH) -> PublishReport:
    """Publish one run inside the session's transaction (the caller commits).

    ``permission`` is what the actor needs: a daily run publishes the day of the facilities the
    actor may send for (:attr:`Permission.SEND_DAILY`); the records' scope is checked the same
    way for both. Raises PermissionDenied (:class:`PublishOutsideScope` for records outside the actor's
    scope), InputError for a run whose tables contradict each other, StoreError for a run id
    published before with other files.
    """
    actor.require(permission)
    console = console or NoopConsole()
    digest = run.content_hash()
    run_id = run.manifest.run_id
    existing = session.scalar(select(Run).where(Run.content_hash == digest))
    if existing is not None:
        return PublishReport(existing.run_id, digest, already_published=True)
    if session.get(Run, run_id) is not None:
        raise StoreError(f"run id {run_id} was published before with different files")
    now = utc_now_text()
    row = Run(run_id=run_id, content_hash=digest, source_dir=str(run.path), published_at=now,
              published_by=actor.username, record_count=0, review_count=0, superseded_items=0,
              kept_decisions=0, settings=run.settings_json())
    session.add(row)
    session.flush()
    staged = _load_and_check(session, run, console)
    console.stage_started("publish: apply")
    applied = _apply(session, actor, run_id, now)
    console.stage_finished("publish: apply", staged)
    if staged >= ANALYZE_AFTER and (tables := refresh_statistics(session.connection(), staged)):
        console.message(f"publish: planner statistics refreshed (ANALYZE {', '.join(tables)})")
    _record_run(session, row, actor, applied)
    return PublishReport(
        run_id=run_id, content_hash=digest, already_published=False, records=staged,
        new_records=applied.new_records, updated_records=applied.updated_records,
        kept_decisions=applied.kept_decisions, review_items=applied.review_items,
        superseded_items=applied.superseded_items, corrections=applied.corrections,
        signing_queued=applied.signing_queued, histories_refreshed=applied.histories_refreshed,
    )
