"""Signing batches started from the signing page: one path with ``sign-batch --db``.

A ministry officer starts a batch; the request returns at once and the batch runs in a thread of
the worker that took it, through :func:`vaxtrust.app.signing.sign` as the officer (the same path,
scope checks and audit trail as ``vaxtrust passport sign-batch --db URL --as USER``), with the
signers of the server's settings (:meth:`vaxtrust.config.Settings.signers`). Its progress and
result live in the store (``signing_batch``), so the page the officer polls may be served by any
worker. One batch runs at a time (a partial unique index).

A stopping server tells its batch to stop after the chunk it is signing (:class:`BatchThreads`):
the batch is then recorded as failed, "stopped with its server after N people", and the people
it did not reach stay in the queue for the next batch; one still signing when the wait is over
is recorded as interrupted. A batch whose worker died without a word (its heartbeat older than
``STALE_AFTER``) is shown as interrupted and marked so by the next start. Either way the next
batch's journal recovery finishes what was left half done.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from vaxtrust.app._store import acting
from vaxtrust.config import Settings
from vaxtrust.errors import AlreadyRunning, ConfigError, PermissionDenied, VaxtrustError
from vaxtrust.signing.batch import CLAIM, STAGE, BatchOptions, BatchSummary
from vaxtrust.signing.signers import Signers
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor, Role
from vaxtrust.store.tables import SigningBatch, SigningTask
from vaxtrust.web.sessions import store_time

logger = logging.getLogger(__name__)
STALE_AFTER = timedelta(minutes=10)
BEAT_EVERY = timedelta(seconds=2)
STOP_WAIT_SECONDS = 60.0   # how long a stopping server waits for its batch's chunk to end
INTERRUPTED = "interrupted: its server stopped; the next batch recovers its journal"


@dataclass(frozen=True)
class BatchPlan:
    """What a batch needs besides the officer: the key store, its signers (each batch loads its
    own), where its journal goes."""

    keystore: Path
    out: Path
    signers: Callable[[], Signers]
    validity: timedelta
    audit_key_file: Path | None
    audit_head_dir: Path | None
    claim: int = CLAIM

    @classmethod
    def from_settings(cls, settings: Settings) -> BatchPlan | None:
        """The plan of ``settings``, or None when signing from the web is not set up
        (``passport.keystore`` and ``web.signing_out``)."""
        passport = settings.passport
        if passport.keystore is None or settings.web.signing_out is None:
            return None
        return cls(passport.keystore, settings.web.signing_out, settings.signers,
                   timedelta(days=passport.validity_days), settings.store.audit_key_file,
                   settings.store.audit_head_dir)


@dataclass(frozen=True)
class BatchView:
    id: int
    started_by: str
    state: str
    started_at: str
    finished_at: str | None
    total: int | None
    processed: int
    summary: dict[str, Any] | None
    error: str | None

    @classmethod
    def of(cls, row: SigningBatch, now: datetime | None = None) -> BatchView:
        """The batch as it is: a running one whose worker stopped beating is interrupted."""
        state, error = row.state, row.error
        if state == "running" and row.beat_at < store_time((now or datetime.now(UTC))
                                                             - STALE_AFTER):
            state, error = "failed", INTERRUPTED
        return cls(row.id, row.started_by, state, row.started_at, row.finished_at, row.total,
                   row.processed, json.loads(row.summary) if row.summary else None, error)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


Job = Callable[[Callable[[], bool]], None]
"""A batch to run; it calls its argument between chunks and stops when that answers True."""
Runner = Callable[[Job], None]


class BatchStopped(Exception):
    """Raised between two chunks when the server stops: the batch ends there, nothing half done."""


class BatchThreads:
    """Runs each batch in a thread beside the requests; :meth:`stop` (the server stopping) tells
    them to stop after their current chunk and waits for them."""

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def __call__(self, job: Job) -> None:
        thread = threading.Thread(target=job, args=(self._stopping.is_set,),
                                  name="vaxtrust-signing-batch", daemon=True)
        self._threads = [*(t for t in self._threads if t.is_alive()), thread]
        thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Stop every batch; True when all ended within ``timeout`` seconds (default
        ``STOP_WAIT_SECONDS``; a daemon thread still signing then dies with the process)."""
        self._stopping.set()
        deadline = time.monotonic() + (STOP_WAIT_SECONDS if timeout is None else timeout)
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(thread.is_alive() for thread in self._threads)


def interrupt_running(store: Store) -> None:
    """Record the running batch as interrupted: its worker is stopping before it could end
    cleanly (one batch runs at a time, so the running one is that worker's)."""
    with store.transaction() as session:
        session.execute(update(SigningBatch).where(SigningBatch.state == "running").values(
            state="failed", finished_at=store_time(datetime.now(UTC)), error=INTERRUPTED))


def _ministry_only(actor: Actor) -> None:
    if actor.role is not Role.MINISTRY:
        raise PermissionDenied("only the ministry starts a signing batch")


def start_batch(store: Store, actor: Actor, plan: BatchPlan | None, *,
                runner: Runner) -> BatchView:
    """Record a running batch for ``actor`` (ministry only) and hand it to ``runner``."""
    now = datetime.now(UTC)
    with acting(store, actor, subject="signing-batch") as (session, by):
        _ministry_only(by)
        if plan is None:
            raise ConfigError("signing from the web is not set up: set passport.keystore and "
                              "web.signing_out (docs/web.md)")
        session.execute(update(SigningBatch).where(
            SigningBatch.state == "running",
            SigningBatch.beat_at < store_time(now - STALE_AFTER)).values(
            state="failed", finished_at=store_time(now), error=INTERRUPTED))
        session.flush()
        total = session.scalar(select(func.count()).select_from(SigningTask).where(
            SigningTask.state == "pending"))
        row = SigningBatch(started_by=by.username, state="running", started_at=store_time(now),
                           beat_at=store_time(now), total=total, processed=0)
        session.add(row)
        try:
            session.flush()
        except IntegrityError:
            raise AlreadyRunning(
                "a signing batch is running already; wait for it to finish") from None
        view = BatchView.of(row)
    runner(lambda should_stop: run_batch(store, actor, plan, view.id, should_stop))
    return view


def run_batch(store: Store, actor: Actor, plan: BatchPlan, batch_id: int,
              should_stop: Callable[[], bool] = lambda: False) -> None:
    """Sign the queue as ``actor`` through the one signing path; record how it ended."""
    from vaxtrust.app.signing import SignRequest, StoreChoice, sign
    from vaxtrust.app.users import actor_named

    url = store.engine.url.render_as_string(hide_password=False)
    choice = StoreChoice(keystore=plan.keystore, database_url=url,
                         sign_in=lambda opened: actor_named(opened, actor.username),
                         audit_key_file=plan.audit_key_file, audit_head_dir=plan.audit_head_dir)
    progress = Progress(store, batch_id, should_stop)
    try:
        result = sign(SignRequest(
            store=choice, out=plan.out, signers=plan.signers(),
            options=BatchOptions(validity=plan.validity, claim=plan.claim)), console=progress)
    except BatchStopped:
        _finish(store, batch_id, error=f"stopped with its server after {progress.processed} "
                "people; the others wait for the next batch")
    except VaxtrustError as error:
        _finish(store, batch_id, error=str(error))
    except Exception:
        logger.exception("signing batch %s failed", batch_id)
        _finish(store, batch_id, error="unexpected error; it has been logged")
    else:
        _finish(store, batch_id, summary=result.summary)


def _finish(store: Store, batch_id: int, *, summary: BatchSummary | None = None,
            error: str | None = None) -> None:
    values: dict[str, Any] = {"state": "failed" if error else "done", "error": error,
                              "finished_at": store_time(datetime.now(UTC))}
    if summary is not None:
        values["summary"] = json.dumps({**asdict(summary), "skipped_total": summary.total_skipped})
    with store.transaction() as session:
        session.execute(update(SigningBatch).where(SigningBatch.id == batch_id).values(**values))


class Progress:
    """The batch's console: people processed so far, written to its row (with a heartbeat);
    between chunks, where the batch may end cleanly, it stops the batch if asked."""

    def __init__(self, store: Store, batch_id: int,
                 should_stop: Callable[[], bool] = lambda: False) -> None:
        self.store, self.batch_id, self.should_stop = store, batch_id, should_stop
        self.processed = 0
        self._written = datetime.now(UTC)

    def stage_started(self, stage: str, total: int | None = None) -> None:
        pass

    def rows_processed(self, stage: str, rows: int) -> None:
        if stage != STAGE:
            return
        self.processed += rows
        now = datetime.now(UTC)
        stopping = self.should_stop()
        if stopping or now - self._written >= BEAT_EVERY:
            self._write(now)
        if stopping:
            raise BatchStopped

    def stage_finished(self, stage: str, rows: int | None = None) -> None:
        if stage == STAGE:
            self._write(datetime.now(UTC))

    def message(self, text: str) -> None:
        logger.info("signing batch %s: %s", self.batch_id, text)

    def _write(self, now: datetime) -> None:
        self._written = now
        with self.store.transaction() as session:
            session.execute(update(SigningBatch).where(SigningBatch.id == self.batch_id).values(
                processed=self.processed, beat_at=store_time(now)))


def recent_batches(store: Store, actor: Actor, *, limit: int = 5) -> list[BatchView]:
    """The latest batches, newest first (the ministry's: batches sign the whole country)."""
    with acting(store, actor, subject="signing-batch") as (session, by):
        _ministry_only(by)
        rows = session.scalars(select(SigningBatch).order_by(SigningBatch.id.desc())
                               .limit(limit))
        return [BatchView.of(row) for row in rows]


def batch(store: Store, actor: Actor, batch_id: int) -> BatchView:
    from vaxtrust.errors import NotFound

    with acting(store, actor, subject=f"signing-batch:{batch_id}") as (session, by):
        _ministry_only(by)
        row = session.get(SigningBatch, batch_id)
        if row is None:
            raise NotFound(f"no signing batch {batch_id}")
        return BatchView.of(row)
