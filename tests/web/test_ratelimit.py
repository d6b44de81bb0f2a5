"""The look-up limits live in the store: two apps (two workers) share them, the window slides,
and the table holds no ID number or address."""

from __future__ import annotations

from sqlalchemy import select

from vaxtrust.store.db import Store
from vaxtrust.store.tables import WebRateLimit
from vaxtrust.web.ratelimit import Limit, RateLimits

HOUR = 3600
T0 = 1_800_000_000.0


def limits(store: Store, per_address: int = 3, per_id: int = 2) -> RateLimits:
    return RateLimits(store, [Limit("address", per_address, HOUR), Limit("id", per_id, HOUR)])


def test_two_workers_share_one_limit(store: Store) -> None:
    first, second = limits(store), limits(store)
    answers = [worker.allow({"id": "001090000001"}, now=T0 + n)
               for n, worker in enumerate([first, second, first, second])]
    assert answers == [True, True, False, False]


def test_the_window_slides_and_a_refusal_is_not_counted(store: Store) -> None:
    shared = limits(store, per_id=2)
    assert [shared.allow({"id": "A"}, now=T0 + n) for n in range(4)] == [True, True, False, False]
    assert shared.allow({"id": "B"}, now=T0 + 5)                  # another ID is not limited
    assert not shared.allow({"id": "A"}, now=T0 + HOUR - 400)     # still inside the window
    assert shared.allow({"id": "A"}, now=T0 + HOUR + 1)           # the first bucket has gone
    assert shared.allow({"id": "A"}, now=T0 + HOUR + 2)
    assert not shared.allow({"id": "A"}, now=T0 + HOUR + 3)


def test_either_limit_refuses(store: Store) -> None:
    shared = limits(store, per_address=2, per_id=5)
    answers = [shared.allow({"address": "198.51.100.7", "id": f"ID{n}"}, now=T0) for n in range(3)]
    assert answers == [True, True, False]
    assert shared.allow({"address": "198.51.100.8", "id": "ID9"}, now=T0)


def test_the_table_holds_only_keyed_hashes(store: Store) -> None:
    shared = limits(store)
    shared.allow({"address": "198.51.100.7", "id": "001090000001"}, now=T0)
    with store.transaction() as session:
        keys = set(session.scalars(select(WebRateLimit.key)))
    assert len(keys) == 2
    assert not any("001090000001" in key or "198.51.100.7" in key for key in keys)
    assert keys == {shared.key("address", "198.51.100.7"), shared.key("id", "001090000001")}


def test_the_sweep_deletes_expired_counts_and_challenges_only(store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    from vaxtrust.store.tables import LookupChallenge
    from vaxtrust.web.lookup import sweep_expired
    from vaxtrust.web.sessions import store_time

    shared = limits(store)
    shared.allow({"id": "A"}, now=T0)
    shared.allow({"id": "B"}, now=T0 + 2 * HOUR)
    moment = datetime.fromtimestamp(T0 + 2 * HOUR, UTC)
    with store.transaction() as session:
        for name, minutes in (("old", -1), ("live", 10)):
            session.add(LookupChallenge(
                token_hash=name, person_id=None, code_hash="x", tries_left=3,
                created_at=store_time(moment - timedelta(minutes=20)),
                expires_at=store_time(moment + timedelta(minutes=minutes))))
    sweep_expired(store, moment)
    with store.transaction() as session:
        assert list(session.scalars(select(WebRateLimit.key))) == [shared.key("id", "B")]
        assert list(session.scalars(select(LookupChallenge.token_hash))) == ["live"]


def test_concurrent_attempts_never_slip_past_the_limit(store: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    workers = [limits(store, per_id=3) for _ in range(4)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda n: workers[n % 4].allow({"id": "A"}, now=T0), range(16)))
    assert answers.count(True) == 3
