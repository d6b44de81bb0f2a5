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
        """Count one attempt for each ``kind: value``; False when any is over its limit (each
        limit counts only the attempts it let through)."""
        moment = self.clock() if now is None else now
        allowed = True
        with self.store.transaction() as session:
            for kind, value in values.items():
                allowed = _count(session, self.limits[kind], self.key(kind, value),
                                 int(moment)) and allowed
            if random.random() < SWEEP_CHANCE:   # noqa: S311 - not a secret, only a chore's turn
                session.execute(delete(WebRateLimit).where(WebRateLimit.expires <= int(moment)))
        return allowed


def _count(session: Session, limit: Limit, key: str, now: int) -> bool:
    size = limit.bucket_seconds
    bucket = now - now % size
    _increment(session, key, bucket, expires=bucket + size * BUCKETS)
    total = session.scalar(select(func.sum(WebRateLimit.hits)).where(
        WebRateLimit.key == key, WebRateLimit.expires > now)) or 0
    if total <= limit.limit:
        return True
    session.execute(update(WebRateLimit).where(
        WebRateLimit.key == key, WebRateLimit.bucket == bucket).values(
        hits=WebRateLimit.hits - 1))
    return False


def _increment(session: Session, key: str, bucket: int, *, expires: int) -> None:
    """One more hit in the bucket (an upsert: the first hit of a bucket inserts its row)."""
    values = {"key": key, "bucket": bucket, "hits": 1, "expires": expires}
    elements = [WebRateLimit.key, WebRateLimit.bucket]
    more = {"hits": WebRateLimit.hits + 1}
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(WebRateLimit).values(**values)
                        .on_conflict_do_update(index_elements=elements, set_=more))
    else:
        session.execute(sqlite.insert(WebRateLimit).values(**values)
                        .on_conflict_do_update(index_elements=elements, set_=more))
