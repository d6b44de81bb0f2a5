"""The store's PostgreSQL from the event loop: a small asyncio connection pool (psycopg_pool) for
the routes that run many times a second and do little else (the citizen look-up).

Why: a sync route runs in one of anyio's worker threads, and each request paid for the hand-off
to that thread and back (a profile at 1 M records put ~40 % of the workers' time there, more than
the look-up's own work). An ``async def`` route on an async connection stays on the event loop.
The connections autocommit (each statement is its own transaction, as the sync look-up path
does) and psycopg prepares a statement on the server once a connection has run it a few times.

SQLite has no such pool: its routes keep the sync path in a worker thread.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import ClauseElement
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect

from vaxtrust.store.db import Store

# Connections per server process: a look-up holds one for two short statements, so a few serve
# dozens of requests in flight (more would only queue inside PostgreSQL on two cores).
ASYNC_POOL_SIZE = 8


class AsyncStore:
    """An open pool of autocommitting connections to ``store``'s PostgreSQL database."""

    def __init__(self, pool: AsyncConnectionPool[AsyncConnection[Any]]) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, store: Store, size: int = ASYNC_POOL_SIZE) -> AsyncStore:
        """The pool of ``store`` (PostgreSQL only), its connections opened."""
        engine = store.engine
        _args, options = engine.dialect.create_connect_args(engine.url)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            "", kwargs={**options, "autocommit": True}, min_size=size, max_size=size,
            open=False, name="vaxtrust-web")
        await pool.open(wait=True)
        return cls(pool)

    async def close(self) -> None:
        await self.pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection[Any]]:
        async with self.pool.connection() as connection:
            yield connection


@cache
def _dialect() -> Any:
    return pg_dialect.dialect()


def driver_sql(statement: ClauseElement) -> tuple[str, dict[str, Any]]:
    """A SQLAlchemy statement as psycopg's SQL text and parameters (``%(name)s``)."""
    compiled = statement.compile(dialect=_dialect())
    return str(compiled), dict(compiled.params)
