"""Look-up limits per client address and per ID number, counted in the store.

Every worker of ``vaxtrust serve`` (and every server on one database) shares the counts, so the
limit is the setting, not workers x the setting. Each key's attempts are counted in
``BUCKETS`` time buckets per window (``web_rate_limit``): the window slides a bucket at a time.
An attempt is counted, then refused when the window's total is over the limit (the count taken
back, so a refused attempt costs nothing); on PostgreSQL the count's row lock makes concurrent
attempts of one key wait for each other, so none slips past the limit.

Keys are HMACs (with a key derived from the store's audit key, which lives outside the database)
of the kind and the value: the table never holds an ID number or an address.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from vaxtrust.store.db import Store
from vaxtrust.store.tables import WebRateLimit

BUCKETS = 12
SWEEP_CHANCE = 0.01    # share of attempts that also delete every expired count


@dataclass(frozen=True)
class Limit:
    kind: str          # "address" or "id"
    limit: int
    seconds: int

    @property
    def bucket_seconds(self) -> int:
        return max(1, self.seconds // BUCKETS)


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
        """Count one attempt for each ``kind: value`` in a transaction of its own."""
        with self.store.transaction() as session:
            return self.count(session, values, now)

    def count(self, session: Session, values: dict[str, str], now: float | None = None) -> bool:
        """Count one attempt for each ``kind: value`` (in the caller's transaction); False when
        any is over its limit (each limit counts only the attempts it let through).

        Two statements whatever the number of limits: one upsert of every count, one sum."""
        moment = int(self.clock() if now is None else now)
        counts = sorted(_Count.of(self.limits[kind], self.key(kind, value), moment)
                        for kind, value in values.items())    # one lock order: no deadlock
        _increment(session, counts)
        totals = dict(session.execute(
            select(WebRateLimit.key, func.sum(WebRateLimit.hits))
            .where(WebRateLimit.key.in_([count.key for count in counts]),
                   WebRateLimit.expires > moment).group_by(WebRateLimit.key)).all())
        over = [count for count in counts if (totals.get(count.key) or 0) > count.limit]
        for count in over:      # take the refused attempt back
            session.execute(update(WebRateLimit).where(
                WebRateLimit.key == count.key, WebRateLimit.bucket == count.bucket).values(
                hits=WebRateLimit.hits - 1))
        if random.random() < SWEEP_CHANCE:   # noqa: S311 - not a secret, only a chore's turn
            session.execute(delete(WebRateLimit).where(WebRateLimit.expires <= moment))
        return not over


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


def _increment(session: Session, counts: list[_Count]) -> None:
    """One more hit in each count's bucket (an upsert: a bucket's first hit inserts its row)."""
    rows = [{"key": c.key, "bucket": c.bucket, "hits": 1, "expires": c.expires} for c in counts]
    elements = [WebRateLimit.key, WebRateLimit.bucket]
    more = {"hits": WebRateLimit.hits + 1}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(WebRateLimit).values(rows)
                        .on_conflict_do_update(index_elements=elements, set_=more))
    else:
        session.execute(sqlite.insert(WebRateLimit).values(rows)
                        .on_conflict_do_update(index_elements=elements, set_=more))
