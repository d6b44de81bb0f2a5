"""Look-up limits per client address and per ID number, counted in the store.

Every worker of ``vaxtrust serve`` (and every server on one database) shares the counts, so the
limit is the setting, not workers x the setting. Each key's attempts are counted in
``BUCKETS`` time buckets per window (``web_rate_limit``): the window slides a bucket at a time.
An attempt is counted, then refused when the window's total is over the limit (the count taken
back, so a refused attempt costs nothing); on PostgreSQL the count's row lock makes concurrent
attempts of one key wait for each other, so none slips past the limit.

On PostgreSQL an attempt is one statement (the counts, the check and what the attempt admits, see
:meth:`RateLimits.admit`) committed on its own without waiting for the WAL flush; the event loop's
variant also reads what the attempt needs in that statement (a :class:`Prelude`): a look-up is one
round trip, not ten. The current bucket's count is the one the upsert returns (its row lock
taken); the older buckets of the window are read as the statement starts, as a range of the
primary key (key, bucket): a bucket counts while ``bucket > now - window``, which is its
``expires > now``. (Asked as ``expires > now``, the planner read the ``expires`` index, every
live count of every key, on each attempt: ~8 ms at 1 M records.)

Keys are HMACs (with a key derived from the store's audit key, which lives outside the database)
of the kind and the value: the table never holds an ID number or an address.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from psycopg import AsyncConnection
from sqlalchemy import Delete, Insert, Update, delete, func, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from vaxtrust.store.db import Store
from vaxtrust.store.tables import WebRateLimit
from vaxtrust.web.async_store import driver_sql

BUCKETS = 12


@dataclass(frozen=True)
class Limit:
    kind: str          # "address" or "id"
    limit: int
    seconds: int

    @property
    def bucket_seconds(self) -> int:
        return max(1, self.seconds // BUCKETS)


@dataclass(frozen=True)
class Sql:
    """A value of an admitted row given as SQL over a :class:`Prelude` (PostgreSQL)."""
    text: str


@dataclass(frozen=True)
class Prelude:
    """What an attempt reads in its own admitting statement (PostgreSQL): common table
    expressions (``name AS (...), ``, placed before the statement's own), their parameters
    (named ``p_...``), and one expression over them that the statement returns."""
    ctes: str
    params: dict[str, Any]
    returns: str


class Admission(NamedTuple):
    admitted: bool
    read: Any          # the value of the prelude's ``returns`` (None without a prelude)


class RateLimits:
    """The look-up limits of one app, over its store."""

    def __init__(self, store: Store, limits: list[Limit],
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.limits = {limit.kind: limit for limit in limits}
        self.clock = clock
        secret = store.audit_key.secret if store.audit_key is not None else b""
        self._secret = hmac.new(secret, b"vaxtrust web rate limit", hashlib.sha256).digest()

    def key(self, kind: str, value: str) -> str:
        return hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    def allow(self, values: dict[str, str], now: float | None = None) -> bool:
        """Count one attempt for each ``kind: value``; False when any is over its limit."""
        return self.admit(values, None, now)

    def admit(self, values: dict[str, str], then: tuple[str, dict[str, Any]] | None,
              now: float | None = None) -> bool:
        """Count one attempt for each ``kind: value`` and, when every limit lets it through,
        insert ``then`` (a table name and its row), all committed together; False when any
        limit is over (each limit counts only the attempts it let through)."""
        moment, counts = self._counts(values, now)
        if self.store.engine.dialect.name == "postgresql":
            with self.store.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                over = _over_of(counts, connection.exec_driver_sql(
                    *_admit_postgres(counts, then, moment)).one().over)
                for statement in _chores(over):
                    connection.execute(statement)
            return not over
        with self.store.transaction() as session:
            over = _over(session, counts, moment)
            for statement in _chores(over):
                session.execute(statement)
            if then is not None and not over:
                session.execute(_insert_statement(then))
            return not over

    async def admit_async(self, connection: AsyncConnection[Any], values: dict[str, str],
                          then: tuple[str, dict[str, Any]] | None, now: float | None = None,
                          prelude: Prelude | None = None) -> Admission:
        """:meth:`admit` on PostgreSQL from the event loop, on an autocommitting connection of
        :class:`vaxtrust.web.async_store.AsyncStore`: the same statement, the same counts, with
        the ``prelude``'s reads (whatever the limits say) in that one statement."""
        moment, counts = self._counts(values, now)
        cursor = await connection.execute(*_admit_postgres(counts, then, moment, prelude))
        row = await cursor.fetchone()
        assert row is not None    # one row, always (a SELECT without FROM)
        over = _over_of(counts, row[1])
        for statement in _chores(over):
            await connection.execute(*driver_sql(statement))
        return Admission(not over, row[2])

    def _counts(self, values: dict[str, str], now: float | None) -> tuple[int, list[_Count]]:
        moment = int(self.clock() if now is None else now)
        counts = sorted(_Count.of(self.limits[kind], self.key(kind, value), moment)
                        for kind, value in values.items())    # one lock order: no deadlock
        return moment, counts


@dataclass(frozen=True, order=True)
class _Count:
    key: str
    bucket: int
    expires: int
    limit: int

    @classmethod
    def of(cls, limit: Limit, key: str, now: int) -> _Count:
        size = limit.bucket_seconds
        bucket = now - now % size
        return cls(key, bucket, bucket + size * BUCKETS, limit.limit)

    def counted_after(self, now: int) -> int:
        """The window's buckets at ``now`` are those starting after this second (that is,
        ``expires > now``: a bucket expires a window after it starts)."""
        return now - (self.expires - self.bucket)


def _increment(session: Session, counts: list[_Count]) -> None:
    """One more hit in each count's bucket (an upsert: a bucket's first hit inserts its row)."""
    rows = [{"key": c.key, "bucket": c.bucket, "hits": 1, "expires": c.expires} for c in counts]
    session.execute(sqlite.insert(WebRateLimit).values(rows).on_conflict_do_update(
        index_elements=[WebRateLimit.key, WebRateLimit.bucket],
        set_={"hits": WebRateLimit.hits + 1}))


def _over(session: Session, counts: list[_Count], moment: int) -> list[_Count]:
    """Count in the caller's transaction (SQLite): one upsert of every count, one sum; the
    counts now over their limit."""
    _increment(session, counts)
    totals = dict(session.execute(
        select(WebRateLimit.key, func.sum(WebRateLimit.hits))
        .where(WebRateLimit.key.in_([count.key for count in counts]),
               WebRateLimit.expires > moment).group_by(WebRateLimit.key)).all())
    return [count for count in counts if (totals.get(count.key) or 0) > count.limit]


def _chores(over: list[_Count]) -> list[Update]:
    """What follows a refused attempt: it is taken back from the limits that refused it (a
    refused attempt is not counted)."""
    return [update(WebRateLimit).where(WebRateLimit.key == count.key,
                                       WebRateLimit.bucket == count.bucket)
            .values(hits=WebRateLimit.hits - 1) for count in over]


def expired_counts(now: float) -> Delete:
    """Every count that no longer counts (the server's sweeper, ``web.lookup.sweep_expired``)."""
    return delete(WebRateLimit).where(WebRateLimit.expires <= int(now))


def _over_of(counts: list[_Count], keys_over: list[str]) -> list[_Count]:
    over = set(keys_over)
    return [count for count in counts if count.key in over]


def _insert_statement(then: tuple[str, dict[str, Any]]) -> Insert:
    from vaxtrust.store.tables import Base

    table, row = then
    return Base.metadata.tables[table].insert().values(row)


_ADMIT = """
WITH {prelude}hit AS (
    INSERT INTO web_rate_limit AS w (key, bucket, hits, expires) VALUES {counts}
    ON CONFLICT (key, bucket) DO UPDATE SET hits = w.hits + 1
    RETURNING key, bucket, hits),
limits (key, most, since) AS (VALUES {limits}),
over AS (
    SELECT hit.key FROM hit JOIN limits ON limits.key = hit.key
    WHERE hit.hits + (SELECT coalesce(sum(older.hits), 0) FROM web_rate_limit older
                      WHERE older.key = hit.key AND older.bucket > limits.since
                        AND older.bucket <> hit.bucket) > limits.most){then}
SELECT set_config('synchronous_commit', 'off', true) AS unflushed,
       ARRAY(SELECT key FROM over) AS over, {returns} AS read
"""
_THEN = """,
admitted AS (
    INSERT INTO {table} ({columns}) SELECT {values} WHERE NOT EXISTS (SELECT FROM over)
    RETURNING 1)"""


def _admit_postgres(counts: list[_Count], then: tuple[str, dict[str, Any]] | None,
                    moment: int, prelude: Prelude | None = None) -> tuple[str, dict[str, Any]]:
    """The counts, their check and ``then`` as one statement (psycopg's SQL text and its
    parameters), after the ``prelude``'s reads; its one row's ``over`` holds the keys of the
    counts over their limit and ``read`` the prelude's value.

    Only counts and short-lived rows are written, so the statement's commit does not wait for
    the disk (``synchronous_commit`` off for this transaction): a crash may lose the last
    fraction of a second of them, never a record, a decision or the audit trail. The text is the
    same for every attempt of one shape, so psycopg prepares it once per connection."""
    params: dict[str, Any] = {}
    rows, limits = [], []
    for n, count in enumerate(counts):
        rows.append(f"(CAST(%(k{n})s AS varchar), CAST(%(b{n})s AS bigint), 1, "
                    f"CAST(%(e{n})s AS bigint))")
        limits.append(f"(CAST(%(k{n})s AS varchar), CAST(%(l{n})s AS bigint), "
                      f"CAST(%(s{n})s AS bigint))")
        params.update({f"k{n}": count.key, f"b{n}": count.bucket, f"e{n}": count.expires,
                       f"l{n}": count.limit, f"s{n}": count.counted_after(moment)})
    clause = ""
    if then is not None:
        table, row = then
        clause = _THEN.format(table=table, columns=", ".join(row), values=", ".join(
            value.text if isinstance(value, Sql) else f"%(v_{name})s"
            for name, value in row.items()))
        params.update({f"v_{name}": value for name, value in row.items()
                       if not isinstance(value, Sql)})
    if prelude is not None:
        params.update(prelude.params)
    sql = _ADMIT.format(prelude=prelude.ctes if prelude else "", counts=", ".join(rows),
                        limits=", ".join(limits), then=clause,
                        returns=prelude.returns if prelude else "NULL")
    return sql, params
