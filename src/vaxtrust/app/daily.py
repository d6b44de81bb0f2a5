"""``daily``: each day's facility files cleaned against the register and the store, published,
and queued for signing, in one go (``docs/daily.md``).

A day's file is small: it cannot train the probabilistic model, and its people already have doses
in the store. So a daily run

1. refuses, before any work, a file processed before (the ledger ``daily_file`` holds the SHA-256
   of every file a daily run published), a file that is not a dose-records file (ingest's header
   check), and a file with records of a facility outside the user's scope;
2. adds the stored records of the people the file names by ID as context: the person's earlier
   doses are evidence for matching and consolidation (a dose already in the store, sent again
   under another record id, is a same-day duplicate), but their stored outcomes stay as they are
   (the run folder keeps only the day's records; see :func:`_keep_day_records`);
3. cleans with the saved linkage model (``--model``, else the newest published run's
   ``model.json``), so the day is matched as the national run matched;
4. publishes the day's records and writes the ledger rows in one transaction (all or nothing);
   publish recomputes the dose history of the day's people who have earlier doses, and queues the
   people it linked for signing: newly verified people to be issued a certificate, people with
   one to have it revoked and re-issued (their history changed).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.app._store import acting
from vaxtrust.app.audit import export_head
from vaxtrust.app.reports import take_snapshot
from vaxtrust.console import Console, NoopConsole
from vaxtrust.errors import ConfigError, InputError, PermissionDenied
from vaxtrust.pipeline.outputs import RunKey, file_sha256, write_contents
from vaxtrust.schema import (
    DOSE_RECORD_COLUMNS,
    ORIGINAL_FIELDS,
    RUN_RECORDS,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
)
from vaxtrust.store.bulk import insert_rows, is_postgres
from vaxtrust.store.db import Store
from vaxtrust.store.publish import PublishReport, RunFolder, publish_run
from vaxtrust.store.scope import Actor, Permission, Role
from vaxtrust.store.tables import DailyFile, Facility, Run, utc_now_text

if TYPE_CHECKING:
    from vaxtrust.config import Settings
    from vaxtrust.pipeline.match.model import SavedModel

__all__ = ["DailyReport", "daily", "current_model"]

CONTEXT_FILE = "stored-context.parquet"
# Where the register snapshot's read and standardised tables are kept between daily runs.
REGISTER_CACHE = ".register-cache"


@dataclass(frozen=True)
class DailyFileDone:
    """One file of the day: its name, bytes' SHA-256 and rows."""

    path: Path
    content_hash: str
    records: int


@dataclass(frozen=True)
class DailyReport:
    """What a daily run did."""

    run_id: str
    run_dir: Path
    files: tuple[DailyFileDone, ...]
    context_records: int
    model_run: str | None
    by_status: dict[str, int]
    publish: PublishReport
    refreshed_people: int
    snapshot_rows: int
    """Rows of today's progress snapshot, taken after publishing (issue 16)."""


# ---------------------------------------------------------------- refusals before any work

def file_hashes(files: Sequence[Path]) -> dict[Path, str]:
    hashes: dict[Path, str] = {}
    for path in files:
        if not path.is_file():
            raise InputError("file does not exist", path=str(path))
        digest = file_sha256(path)
        twin = next((other for other, seen in hashes.items() if seen == digest), None)
        if twin is not None:
            raise InputError(f"the same file as {twin} (identical bytes): give it once",
                             path=str(path))
        hashes[path] = digest
    return hashes


def processed_before(session: Session, hashes: Iterable[str]) -> dict[str, DailyFile]:
    """Ledger rows of the files among ``hashes`` a daily run already published."""
    rows = session.scalars(select(DailyFile).where(DailyFile.content_hash.in_(list(hashes))))
    return {row.content_hash: row for row in rows}


def refuse_processed(session: Session, hashes: dict[Path, str]) -> None:
    done = processed_before(session, hashes.values())
    for path, digest in hashes.items():
        if digest in done:
            row = done[digest]
            raise InputError(
                f"processed already on {row.processed_at[:16].replace('T', ' ')} UTC by "
                f"{row.processed_by} as {row.file_name} (run {row.run_id}, {row.records:,} "
                "records): nothing done; a corrected file is a new file", path=str(path))


def _refuse_outside_scope(session: Session, actor: Actor, facilities: dict[str, str]) -> None:
    """Refuse records of a facility the actor may not send for (facility → file it is in).

    Facilities the store knows are placed in their province; a facility it does not know yet is
    judged by publish once standardisation placed it (publish refuses it the same way)."""
    if actor.role is Role.MINISTRY:
        return
    rows = session.execute(select(Facility.facility_id, Facility.province_code).where(
        Facility.facility_id.in_(list(facilities))))
    known = {str(facility): str(province) for facility, province in rows}
    for facility, source in sorted(facilities.items()):
        allowed = (facility == actor.facility_id if actor.role is Role.FACILITY
                   else known.get(facility, actor.province_code) == actor.province_code)
        if not allowed:
            where = f"province {known[facility]}" if facility in known else "another place"
            raise PermissionDenied(
                f"file {source}: records of facility {facility} ({where}); user "
                f"{actor.username} ({actor.role} {actor.scope_label()}) may not send for it: "
                "nothing done")


# ---------------------------------------------------------------- the day's keys and context

@dataclass(frozen=True)
class _DayKeys:
    facilities: dict[str, str]   # facility_id → the file it appears in first
    ids: set[str]                # ID numbers as typed and as repaired
    rows: dict[Path, int]


def _read_day(settings: Settings, files: Sequence[Path], spill: Path) -> _DayKeys:
    """Read the day's files as ``clean`` will (its readers, mapping and header check: a file
    of another schema fails here, with ingest's message) and take their facilities and IDs."""
    from vaxtrust.ingest.load import ingest
    from vaxtrust.vn import ids

    clean_settings = settings.clean_settings()
    with settings.create_engine(spill) as engine:
        counts = ingest(engine, "records", list(files), mapping=clean_settings.mapping.records)
        table = engine.query("SELECT source, facility_id, id_number FROM raw_records",
                             stage="daily")
    facilities: dict[str, str] = {}
    typed: set[str] = set()
    for source, facility, number in zip(*(table.column(c).to_pylist() for c in
                                          ("source", "facility_id", "id_number")), strict=True):
        if facility:
            facilities.setdefault(str(facility).strip(), Path(source).name)
        if number:
            typed.add(str(number).strip())
    repaired = {parsed.clean for parsed in map(ids.parse, typed) if parsed.clean}
    rows = {Path(count.source).resolve(): count.rows_in for count in counts}
    return _DayKeys(facilities, typed | repaired, rows)


STORED_RECORD_COLUMNS = ", ".join(
    ["record_id", *(f"original_{name} AS {name}" for name in ORIGINAL_FIELDS)])


_CONTEXT_KEYS = "daily_context_ids"
_FETCH = 50_000   # rows per fetch of the stored context


def _write_context(session: Session, ids: set[str], path: Path) -> int:
    """The stored records of the people the day names by ID, as the facilities typed them (the
    import schema), into ``path``; returns how many.

    The IDs go into a temporary table (``COPY`` on PostgreSQL) joined in the store: one indexed
    read whose cost follows the day's people, not the store, and no IN lists of thousands."""
    connection = session.connection()
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_CONTEXT_KEYS}")
    connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_CONTEXT_KEYS} (person_id TEXT PRIMARY KEY)")
    insert_rows(connection, _CONTEXT_KEYS, ("person_id",), ((value,) for value in sorted(ids)))
    if is_postgres(connection):
        connection.exec_driver_sql(f"ANALYZE {_CONTEXT_KEYS}")
    schema = pa.schema([(name, pa.string()) for name in DOSE_RECORD_COLUMNS])
    result = connection.exec_driver_sql(f"""
        SELECT {STORED_RECORD_COLUMNS} FROM vaccination_record
        WHERE status <> 'rejected'
          AND person_id IN (SELECT person_id FROM {_CONTEXT_KEYS})""")
    names = list(result.keys())
    batches = []
    while rows := result.fetchmany(_FETCH):
        columns = list(zip(*rows, strict=True))
        batches.append(pa.table([pa.array(column, pa.string()) for column in columns],
                                names=names).select(schema.names))
    connection.exec_driver_sql(f"DROP TABLE IF EXISTS {_CONTEXT_KEYS}")
    table = pa.concat_tables(batches) if batches else schema.empty_table()
    pq.write_table(table, path)
    return table.num_rows


# ---------------------------------------------------------------- the run folder

def _keep_day_records(run_dir: Path, context: set[str], key: RunKey | None) -> None:
    """Drop the context records from the tables publish writes records from.

    Stored records were published (and maybe decided) before: a daily run uses them as evidence
    but never re-decides them. ``dose_history.parquet`` stays whole: the consolidated history
    of the day's people, earlier doses included (publish keeps only doses whose record is
    linked to that person in the store)."""
    if not context:
        return
    keep = pa.array(sorted(context), pa.string())
    for name in (RUN_RESULTS, RUN_RECORDS, RUN_REVIEW_CANDIDATES):
        path = run_dir / name
        if not path.is_file():
            continue
        table = pq.read_table(path)
        mask = pc.invert(pc.is_in(table.column("record_id"), value_set=keep))
        pq.write_table(table.filter(mask), path)
    write_contents(run_dir, key)   # the folder as published, keyed as clean keyed it


def _statuses(run_dir: Path) -> dict[str, int]:
    table = pq.read_table(run_dir / RUN_RESULTS, columns=["status"])
    counts = pc.value_counts(table.column("status")).to_pylist()
    return {str(row["values"]): int(row["counts"]) for row in counts}


def current_model(session: Session) -> Path | None:
    """The model of the newest published run that kept one (the store's current model)."""
    from vaxtrust.schema import RUN_MODEL

    for source in session.scalars(select(Run.source_dir).order_by(Run.published_at.desc())):
        if (Path(source) / RUN_MODEL).is_file():
            return Path(source) / RUN_MODEL
    return None


def _model(store: Store, model: Path | None) -> SavedModel | None:
    from vaxtrust.pipeline.match.model import read_model

    if model is None:
        with store.transaction() as session:
            model = current_model(session)
    return read_model(model) if model is not None else None


# ---------------------------------------------------------------- publish

def _publish(session: Session, actor: Actor, run_dir: Path, files: Sequence[DailyFileDone],
             console: Console) -> PublishReport:
    report = publish_run(session, actor, RunFolder.open(run_dir), console=console,
                         permission=Permission.SEND_DAILY)
    if report.already_published:    # the ledger refused this file before: cannot happen
        raise InputError("this day's run was published before: nothing done", path=str(run_dir))
    now = utc_now_text()
    session.add_all(DailyFile(content_hash=done.content_hash, file_name=done.path.name,
                              run_id=report.run_id, records=done.records, processed_at=now,
                              processed_by=actor.username) for done in files)
    session.flush()
    return report


def daily(settings: Settings, store: Store, actor: Actor, files: Sequence[Path], *,
          register: Path, runs_dir: Path, model: Path | None = None,
          console: Console | None = None, snapshot: bool = True) -> DailyReport:
    """Clean, publish and queue for signing the day's ``files`` (see the module doc), then take
    today's progress snapshot (unless ``snapshot`` is False).

    The run folder is kept in ``runs_dir`` (signing and dose-history refreshes read it). Every
    refusal (a processed file, another schema, a facility outside the actor's scope, a model of
    another register) comes before anything is written; a failure later leaves the store as it
    was and removes the run folder.
    """
    from vaxtrust.pipeline.run import clean

    console = console or NoopConsole()
    if not files:
        raise ConfigError("give at least one file of the day's dose records")
    hashes = file_hashes(files)
    subject = f"daily:{files[0].name}"[:80]
    # Refusals inside acting(): they are kept in the audit trail (action_refused).
    with acting(store, actor, subject=subject) as (session, acting_actor):
        acting_actor.require(Permission.SEND_DAILY)
        refuse_processed(session, hashes)
    saved = _model(store, model)
    runs_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".daily-", dir=runs_dir))
    run_dir = runs_dir / f"daily-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{work.name[-8:]}"
    try:
        keys = _read_day(settings, files, work / "spill-read")
        with acting(store, actor, subject=subject) as (session, acting_actor):
            _refuse_outside_scope(session, acting_actor, keys.facilities)
            context_path = work / CONTEXT_FILE
            context_rows = _write_context(session, keys.ids, context_path)
        context_ids = set(pq.read_table(context_path, columns=["record_id"])
                          .column("record_id").to_pylist())
        inputs = [*files, context_path] if context_rows else list(files)
        with settings.create_engine(work / "spill") as engine:
            summary = clean(inputs, register, run_dir, settings=settings.clean_settings(),
                            engine=engine, console=console, model=saved,
                            register_cache=runs_dir / REGISTER_CACHE, run_key=store.audit_key)
        _keep_day_records(run_dir, context_ids, store.audit_key)
        done = tuple(DailyFileDone(path, hashes[path], keys.rows.get(path.resolve(), 0)) for path in files)
        with acting(store, actor, subject=f"run:{summary.run_id}") as (session, by):
            report = _publish(session, by, run_dir, done, console)
    except BaseException:
        shutil.rmtree(run_dir, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    export_head(store, check=False)
    # Today's progress snapshot, so reports read figures as of this run with no separate job
    # (a second run the same day replaces it). It counts the whole store: a caller sending many
    # files in a row may take it once after the last (``snapshot=False``).
    taken = take_snapshot(store, actor, after_publish=True) if snapshot else None
    return DailyReport(
        run_id=report.run_id, run_dir=run_dir, files=done, context_records=context_rows,
        model_run=saved.trained_by_run if saved else None, by_status=_statuses(run_dir),
        publish=report, refreshed_people=report.histories_refreshed,
        snapshot_rows=taken.rows if taken else 0)



# ---------------------------------------------------------------- watching a folder

WATCHED_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".parquet", ".pq")


@dataclass
class WatchState:
    """What a watch has seen: sizes of files still being written, files that failed (by hash;
    they are tried again only when their bytes change, or after a restart)."""

    sizes: dict[Path, int]
    failed: dict[str, str]


def watch_once(settings: Settings, store: Store, actor: Actor, folder: Path, state: WatchState,
               *, register: Path, runs_dir: Path, model: Path | None = None,
               console: Console | None = None) -> list[DailyReport]:
    """One look at ``folder``: process each new file whose size stayed the same since the last
    look (a file still being copied waits), oldest first, each as its own daily run.

    A file is new when the store's ledger does not hold its hash: the ledger, not this process,
    remembers what was done, so a restarted watch neither repeats nor misses a file. A file
    refused or failing is reported on ``console`` and left alone until its bytes change.
    Today's progress snapshot is taken once, after the look's last file (its report's
    ``snapshot_rows``).
    """
    from vaxtrust.errors import VaxtrustError

    console = console or NoopConsole()
    files = sorted((path for path in folder.iterdir() if path.is_file()
                    and path.suffix.lower() in WATCHED_SUFFIXES and not path.name.startswith(".")),
                   key=lambda path: (path.stat().st_mtime, path.name))
    ready = []
    for path in files:
        size = path.stat().st_size
        settled = state.sizes.get(path) == size
        state.sizes[path] = size
        if settled:
            ready.append(path)
    if not ready:
        return []
    hashes = {path: file_sha256(path) for path in ready}
    with store.transaction() as session:
        done = processed_before(session, hashes.values())
    reports = []
    for path in ready:
        digest = hashes[path]
        if digest in done or digest in state.failed:
            continue
        try:
            reports.append(daily(settings, store, actor, [path], register=register,
                                 runs_dir=runs_dir, model=model, console=console,
                                 snapshot=False))
        except VaxtrustError as error:
            state.failed[digest] = str(error)
            console.message(f"{path.name}: not processed: {error}")
    if reports:
        # Today's snapshot once after the look's last file, not after each: it counts the whole
        # store, and the figures after the last run are the day's either way.
        taken = take_snapshot(store, actor, after_publish=True)
        reports[-1] = replace(reports[-1], snapshot_rows=taken.rows)
    return reports
