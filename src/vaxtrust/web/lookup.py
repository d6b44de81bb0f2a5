"""A citizen looks up their own record: ID number, date of birth, the phone used at vaccination,
then a one-time code sent to that phone.

Whether anybody matched is never told: every look-up creates a challenge and gets the same
answer; a challenge nobody matched holds no person, so no code opens it. Codes are kept as
hashes, expire after minutes and allow a few tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, or_, select

from vaxtrust.store.db import Store
from vaxtrust.store.tables import LookupChallenge, Person, VaccinationRecord
from vaxtrust.vn import ids, phones
from vaxtrust.web.async_store import AsyncStore
from vaxtrust.web.codes import new_code
from vaxtrust.web.ratelimit import Prelude, RateLimits, Sql, expired_counts
from vaxtrust.web.sessions import store_time, token_hash

SWEEP_SECONDS = 30    # how often each server worker deletes expired challenges and counts

# A started look-up: its challenge's token and, when somebody matched, (phone, code) to send.
Started = tuple[str, tuple[str, str] | None]


def normalise_id(raw: str) -> str:
    parsed = ids.parse(raw)
    return parsed.clean or "".join(ch for ch in raw if ch.isdigit())


def normalise_dob(raw: str) -> str | None:
    """ISO date text from ``YYYY-MM-DD`` (a date field) or ``dd/mm/yyyy``; None if neither."""
    text = raw.strip()
    try:
        if "/" in text:
            day, month, year = (int(part) for part in text.split("/"))
            return date(year, month, day).isoformat()
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _code_hash(token: str, code: str) -> str:
    return hashlib.sha256(f"{token}:{code}".encode()).hexdigest()


# The person (by ID or old ID) with the phones of their records: one read, whoever it is.
_PERSON = (select(Person.person_id, Person.dob, VaccinationRecord.original_phone)
           .outerjoin(VaccinationRecord, VaccinationRecord.person_id == Person.person_id)
           .where(or_(Person.person_id == bindparam("number"),
                      Person.old_id == bindparam("number"))))

# The same match in SQL, read in the statement that counts the look-up and inserts its
# challenge (PostgreSQL, from the event loop): the person of the ID (the one whose own ID it is
# before one whose old ID it is), when the date of birth agrees and one of their records' raw
# phones, without separators, is a form that parses to the phone asked (phones.typed_forms).
_MATCH = """
person_asked AS (
    SELECT person_id, dob FROM person
    WHERE person_id = CAST(%(p_number)s AS varchar) OR old_id = CAST(%(p_number)s AS varchar)
    ORDER BY person_id = CAST(%(p_number)s AS varchar) DESC LIMIT 1),
person_matched AS (
    SELECT person_asked.person_id FROM person_asked
    WHERE person_asked.dob = CAST(%(p_dob)s AS varchar) AND EXISTS (
        SELECT FROM vaccination_record r WHERE r.person_id = person_asked.person_id
          AND translate(r.original_phone, CAST(%(p_separators)s AS text), '')
              = ANY(CAST(%(p_phones)s AS text[])))),
"""
_MATCHED = Sql("(SELECT person_id FROM person_matched)")


@dataclass(frozen=True)
class _Asked:
    """A look-up's details in the register's forms; ``number`` empty or ``dob``/``phone`` None
    when they cannot name anybody (nothing is read then)."""
    number: str
    raw_id: str
    dob: str | None
    phone: str | None

    @classmethod
    def of(cls, id_number: str, dob_text: str, phone_text: str) -> _Asked:
        return cls(normalise_id(id_number), id_number, normalise_dob(dob_text),
                   phones.parse(phone_text).number)

    @property
    def readable(self) -> bool:
        return bool(self.number) and self.dob is not None and self.phone is not None

    def limited_as(self, address: str) -> dict[str, str]:
        return {"address": address, "id": self.number or self.raw_id}

    def prelude(self) -> Prelude:
        """The match read in the look-up's one statement; it names nobody (NULL) when the
        details cannot, and the statement is the same either way (the same timing)."""
        named = self.readable and self.phone is not None
        return Prelude(_MATCH, {
            "p_number": self.number if named else None, "p_dob": self.dob if named else None,
            "p_separators": phones.SEPARATORS,
            "p_phones": list(phones.typed_forms(self.phone)) if named and self.phone else []},
            _MATCHED.text)


def _matched(asked: _Asked, rows: Sequence[Sequence[Any]]) -> tuple[str, str] | None:
    """(person_id, phone) when the person's date of birth and one of their records' phones
    agree with what was asked; the person whose own ID was asked comes before one whose old ID
    it is (as in :data:`_MATCH`)."""
    rows = sorted(rows, key=lambda row: row[0] != asked.number)
    if not rows or asked.phone is None or rows[0][1] != asked.dob:
        return None
    person_id = rows[0][0]
    used = (phone for person, _dob, phone in rows if person == person_id)
    if any(phones.parse(value).number == asked.phone for value in used if value):
        return person_id, asked.phone
    return None


def find_person(store: Store, asked: _Asked) -> tuple[str, str] | None:
    """(person_id, phone) when the ID, date of birth and phone agree with the register and a
    dose record."""
    if not asked.readable:
        return None
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")  # no BEGIN, no ROLLBACK
        rows = connection.execute(_PERSON, {"number": asked.number}).all()
    return _matched(asked, rows)


@dataclass(frozen=True)
class _Challenge:
    token: str
    code: str
    row: dict[str, Any]

    @classmethod
    def new(cls, person: str | Sql | None, minutes: int, tries: int) -> _Challenge:
        """A challenge for ``person`` (an ID, SQL that reads it, or None: nobody)."""
        token, code = secrets.token_urlsafe(32), new_code()
        now = datetime.now(UTC)
        return cls(token, code, {
            "token_hash": token_hash(token), "person_id": person,
            "code_hash": _code_hash(token, code), "tries_left": tries,
            "created_at": store_time(now),
            "expires_at": store_time(now + timedelta(minutes=minutes))})

    @property
    def insert(self) -> tuple[str, dict[str, Any]]:
        return LookupChallenge.__tablename__, self.row


def sweep_expired(store: Store, now: datetime | None = None) -> None:
    """Every expired challenge and look-up count deleted, in one transaction.

    The server runs it every :data:`SWEEP_SECONDS` in each worker, outside any request: done
    inside one look-up in twenty (as it was), the sweep's extra statement made those look-ups
    the slowest twentieth, which is the p95 at 50 clients."""
    now = now or datetime.now(UTC)
    with store.transaction() as session:
        session.execute(delete(LookupChallenge).where(LookupChallenge.expires_at < store_time(now)))
        session.execute(expired_counts(now.timestamp()))


def start_lookup(store: Store, limits: RateLimits, *, address: str, id_number: str,
                 dob_text: str, phone_text: str, minutes: int, tries: int) -> Started | None:
    """A challenge for this look-up, counted by the limits per client address and per ID
    number; returns its token and, when somebody matched, (phone, code) to send, or None when
    a limit refused the look-up.

    Two round trips whoever it is: the person's read, then the counts and the challenge
    (:func:`start_lookup_async` does both in one on PostgreSQL). The caller sends the code
    after answering, so the answer's timing does not depend on it.
    """
    asked = _Asked.of(id_number, dob_text, phone_text)
    match = find_person(store, asked)
    challenge = _Challenge.new(match[0] if match else None, minutes, tries)
    if not limits.admit(asked.limited_as(address), challenge.insert):
        return None
    return challenge.token, (match[1], challenge.code) if match else None


async def start_lookup_async(database: AsyncStore, limits: RateLimits, *, address: str,
                             id_number: str, dob_text: str, phone_text: str, minutes: int,
                             tries: int) -> Started | None:
    """:func:`start_lookup` on PostgreSQL from the event loop, in one round trip whoever it
    is: the person's match (in SQL), the counts, their check and the challenge (holding the
    person it matched) are one statement on a connection of the async pool."""
    asked = _Asked.of(id_number, dob_text, phone_text)
    challenge = _Challenge.new(_MATCHED, minutes, tries)
    async with database.connection() as connection:
        admission = await limits.admit_async(connection, asked.limited_as(address),
                                             challenge.insert, prelude=asked.prelude())
    if not admission.admitted:
        return None
    if admission.read is None or asked.phone is None:
        return challenge.token, None
    return challenge.token, (asked.phone, challenge.code)


def check_code(store: Store, token: str, code: str) -> str | None:
    """The person a correct code opens (the challenge is then used up), else None."""
    if not token or len(token) > 200:
        return None
    now = store_time(datetime.now(UTC))
    with store.transaction() as session:
        challenge = session.get(LookupChallenge, token_hash(token))
        if challenge is None:
            return None
        if challenge.expires_at < now or challenge.tries_left <= 0:
            session.delete(challenge)
            return None
        challenge.tries_left -= 1
        if challenge.person_id and hmac.compare_digest(
                challenge.code_hash, _code_hash(token, code.strip())):
            person_id = challenge.person_id
            session.delete(challenge)
            return person_id
        return None
