"""Who a certificate is for: a linked person's register identity and consolidated doses, read from
the store (never from a run folder, which anyone with file access can edit)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from vaxtrust.store.tables import DoseHistory, Person


@dataclass(frozen=True)
class PersonToSign:
    """A verified person with what goes on their certificate."""

    person_id: str
    full_name: str | None
    dob: str | None
    dob_precision: str | None
    province: str | None
    doses: tuple[dict[str, Any], ...]

    @property
    def latest_facility(self) -> str | None:
        return self.doses[-1].get("facility") if self.doses else None

    def fingerprint(self) -> str:
        """What the certificate says about the person; a change means revoke and re-issue."""
        content = {
            "name": self.full_name, "dob": self.dob, "dob_precision": self.dob_precision,
            "doses": [[_iso_date(dose["vaccinated_on"]), dose["mp"]] for dose in self.doses],
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def unknown_person(person_id: str) -> PersonToSign:
    """A queued person the store no longer holds (skipped as ``not_in_register``)."""
    return PersonToSign(person_id, None, None, None, None, ())


def _iso_date(value: object) -> str | None:
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


def people_in_store(session: Session, person_ids: Iterable[str]) -> dict[str, PersonToSign]:
    """Register identity and consolidated doses (duplicates left out) of the given people."""
    ids = sorted(set(person_ids))
    doses: dict[str, list[dict[str, object]]] = {person_id: [] for person_id in ids}
    # Plain rows, not ORM objects: a chunk reads a thousand people and their doses.
    for person_id, vaccinated_on, mp, facility, flags in session.execute(
        select(DoseHistory.person_id, DoseHistory.vaccinated_on, DoseHistory.vaccine_mp,
               DoseHistory.facility_id, DoseHistory.flags)
        .where(DoseHistory.person_id.in_(ids), DoseHistory.duplicate_of.is_(None))
        .order_by(DoseHistory.person_id, DoseHistory.vaccinated_on, DoseHistory.record_id)
    ):
        doses[person_id].append({"vaccinated_on": vaccinated_on, "mp": mp, "facility": facility,
                                 "flags": flags})
    people = {}
    for person_id, full_name, dob, dob_precision, province in session.execute(
            select(Person.person_id, Person.full_name, Person.dob, Person.dob_precision,
                   Person.province_code).where(Person.person_id.in_(ids))):
        people[person_id] = PersonToSign(
            person_id=person_id, full_name=full_name, dob=dob, dob_precision=dob_precision,
            province=province, doses=tuple(doses[person_id]),
        )
    return people


def why_not_signable(person: PersonToSign, *, allow_flagged: bool) -> str | None:
    """A stable reason code when the person cannot be signed from this data, else None."""
    if person.full_name is None:
        return "not_in_register"
    if not person.doses:
        return "no_doses"
    if any(not dose.get("mp") for dose in person.doses):
        return "dose_without_product"
    flags = sorted({flag for dose in person.doses for flag in _flags(dose.get("flags"))})
    if flags and not allow_flagged:
        return "dose_flagged: " + " ".join(flags)
    return None


def _flags(flags: object) -> list[str]:
    """Flag names from the store's JSON list (``["a"]``) or a text form of a list (``[a, b]``)."""
    text = "" if flags is None else str(flags).strip().removeprefix("[").removesuffix("]")
    names = (flag.strip().strip('"') for flag in text.split(","))
    return [name for name in names if name]
