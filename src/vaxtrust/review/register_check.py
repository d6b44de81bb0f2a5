"""Check a record's identity fields against a register person, with the cleaning's own rules.

Both sides go through the same ``vaxtrust.vn`` standardisers as the pipeline, so an officer's edit
is accepted exactly when the pipeline would have called it a match on every field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from vaxtrust.vn import dates, gender, ids, names

CHECKED_FIELDS = ("full_name", "dob", "gender", "id_number")
CACHE = 1 << 16   # distinct values kept: a bulk triage checks the same names and dates often


class RegisterPerson(Protocol):
    """What the check reads of a register person (a ``Person`` row or a plain selected row)."""

    @property
    def person_id(self) -> str: ...
    @property
    def old_id(self) -> str | None: ...
    @property
    def full_name(self) -> str | None: ...
    @property
    def dob(self) -> str | None: ...
    @property
    def gender(self) -> str | None: ...


@dataclass(frozen=True)
class FieldMismatch:
    field: str
    record_value: str | None
    register_value: str | None

    def __str__(self) -> str:
        return f"{self.field} {self.record_value!r} ≠ register {self.register_value!r}"


@lru_cache(maxsize=CACHE)
def _name(value: str | None) -> str | None:
    return names.canonical(value)


@lru_cache(maxsize=CACHE)
def _dob(value: str | None) -> str | None:
    parsed = dates.parse(value)
    return parsed.value.isoformat() if parsed.valid and parsed.value else None


@lru_cache(maxsize=CACHE)
def _gender(value: str | None) -> str | None:
    return gender.parse(value)


@lru_cache(maxsize=CACHE)
def normalise_id(value: str | None) -> str | None:
    return ids.parse(value).clean if value else None


@dataclass(frozen=True)
class Standardised:
    """Identity values as the check compares them: name, date of birth and gender through the
    cleaning's standardisers; the ID as written (the register's own form needs no parse)."""

    full_name: str | None
    dob: str | None
    gender: str | None
    id_number: str | None

    @classmethod
    def of(cls, values: Mapping[str, str | None]) -> Standardised:
        return cls(_name(values.get("full_name")), _dob(values.get("dob")),
                   _gender(values.get("gender")), values.get("id_number"))


@dataclass(frozen=True)
class StandardisedPerson:
    """A register person as the check compares them (standardised once, compared often)."""

    person_id: str
    old_id: str | None
    full_name: str | None
    dob: str | None
    gender: str | None

    @classmethod
    def of(cls, person: RegisterPerson) -> StandardisedPerson:
        return cls(person.person_id, normalise_id(person.old_id), _name(person.full_name),
                   _dob(person.dob), _gender(person.gender))


def mismatched_fields(values: Standardised, person: StandardisedPerson) -> list[str]:
    """The fields of ``values`` that do not match ``person`` (an empty ID is not compared): the
    check itself, on values standardised before (a bulk triage compares each many times)."""
    found = [field for field, mine, theirs in (
        ("full_name", values.full_name, person.full_name), ("dob", values.dob, person.dob),
        ("gender", values.gender, person.gender)) if mine is None or mine != theirs]
    written = values.id_number
    if written == person.person_id:   # the register's own form: nothing to parse
        return found
    record_id = normalise_id(written)
    if record_id is not None and record_id not in (person.person_id, person.old_id):
        found.append("id_number")
    return found


def mismatches(values: Mapping[str, str | None], person: RegisterPerson
               ) -> list[FieldMismatch]:
    """Fields of ``values`` that do not match ``person`` (an empty ID is not compared)."""
    register = {"full_name": person.full_name, "dob": person.dob, "gender": person.gender,
                "id_number": person.person_id}
    return [FieldMismatch(field, values.get(field), register[field]) for field in
            mismatched_fields(Standardised.of(values), StandardisedPerson.of(person))]
