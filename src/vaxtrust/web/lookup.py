"""A citizen looks up their own record: ID number, date of birth, the phone used at vaccination,
then a one-time code sent to that phone.

Whether anybody matched is never told: every look-up creates a challenge and gets the same
answer; a challenge nobody matched holds no person, so no code opens it. Codes are kept as
hashes, expire after minutes and allow a few tries.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import delete, or_, select

from vaxtrust.store.db import Store
from vaxtrust.store.tables import LookupChallenge, Person, VaccinationRecord
from vaxtrust.vn import ids, phones
from vaxtrust.web.codes import new_code
from vaxtrust.web.ratelimit import RateLimits
from vaxtrust.web.sessions import store_time, token_hash

SWEEP_CHANCE = 0.05   # share of look-ups that also delete every expired challenge


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


def find_person(store: Store, number: str, dob: str | None, phone: str | None) -> \
        tuple[str, str] | None:
    """(person_id, phone) when the three agree with the register and a dose record.

    One read, whoever it is: the person (by ID or old ID) with the phones of their records."""
    if not number or dob is None or phone is None:
        return None
    statement = (select(Person.person_id, Person.dob, VaccinationRecord.original_phone)
                 .outerjoin(VaccinationRecord, VaccinationRecord.person_id == Person.person_id)
                 .where(or_(Person.person_id == number, Person.old_id == number)))
    with store.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")  # no BEGIN, no ROLLBACK
        rows = connection.execute(statement).all()
    if not rows or rows[0].dob != dob:
        return None
    person_id = rows[0].person_id
    used = (row.original_phone for row in rows if row.person_id == person_id)
    if any(phones.parse(value).number == phone for value in used if value):
        return person_id, phone
    return None


def start_lookup(store: Store, limits: RateLimits, *, address: str, id_number: str,
                 dob_text: str, phone_text: str, minutes: int, tries: int) -> \
        tuple[str, tuple[str, str] | None] | None:
    """A challenge for this look-up, counted by the limits per client address and per ID
    number; returns its token and, when somebody matched, (phone, code) to send, or None when
    a limit refused the look-up.

    Two round trips on PostgreSQL whoever it is: the person's read, then the counts and the
    challenge in one statement. The caller sends the code after answering, so the answer's
    timing does not depend on it.
    """
    number = normalise_id(id_number)
    phone = phones.parse(phone_text).number
    match = find_person(store, number, normalise_dob(dob_text), phone)
    token, code = secrets.token_urlsafe(32), new_code()
    now = datetime.now(UTC)
    challenge = {"token_hash": token_hash(token), "person_id": match[0] if match else None,
                 "code_hash": _code_hash(token, code), "tries_left": tries,
                 "created_at": store_time(now),
                 "expires_at": store_time(now + timedelta(minutes=minutes))}
    if not limits.admit({"address": address, "id": number or id_number},
                        (LookupChallenge.__tablename__, challenge)):
        return None
    if random.random() < SWEEP_CHANCE:    # noqa: S311 - not a secret, only a chore's turn
        with store.transaction() as session:
            session.execute(delete(LookupChallenge).where(
                LookupChallenge.expires_at < store_time(now)))
    return token, (match[1], code) if match else None


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
