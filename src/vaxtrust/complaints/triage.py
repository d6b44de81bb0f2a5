"""Triage: the first hour of an officer's work, done when a complaint comes in.

Each complaint is matched to its register person with the review queue's own check
(:func:`vaxtrust.review.register_check.mismatches`, the cleaning's standardisers) and to that
person's dose records in the store: the records linked to them, the records under review that
list them as a candidate, and unlinked (review or unmatched) records at the facility the citizen
names that carry the dose claimed. From these it proposes one resolution:

| proposal | meaning | settled by |
| --- | --- | --- |
| ``link_record`` | record R (unlinked, or linked to someone else) is this person's dose | linking R (a review decision) |
| ``correct_to_register`` | R is this person's, but its name/date of birth/... differ from the register | correcting R to the register (a review decision) |
| ``dose_exists`` | the dose is already on the person's history (facility F, date D) | an answer, no change |
| ``duplicate`` | the dose is recorded twice; the history counts it once (duplicate of R) | an answer, no change |
| ``refuse`` | the complaint contradicts the register (ground 2, 5 or 11 of 9458) | a refusal |

No proposal means an officer has to look. A proposal is ``certain`` only where a cleaning run
would auto-link: R's own identity fields match the person on every field.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache, partial
from typing import Any, Final, Protocol, TypeVar

from sqlalchemy import NullPool, create_engine
from sqlalchemy.orm import Session

from vaxtrust.complaints import parallel
from vaxtrust.review.register_check import (
    CACHE,
    CHECKED_FIELDS,
    RegisterPerson,
    Standardised,
    StandardisedPerson,
    mismatched_fields,
)
from vaxtrust.store.bulk import ClaimKeys
from vaxtrust.store.doses import LINKED_STATUSES
from vaxtrust.store.scope import AUTHENTICATION_STATUSES
from vaxtrust.vn import dates, names, vaccines

PROPOSALS: Final = ("link_record", "correct_to_register", "dose_exists", "duplicate", "refuse")
PROPOSAL_TEXT: Final[dict[str, tuple[str, str]]] = {
    "link_record": ("Gắn bản ghi {record_id} cho người này",
                    "Link record {record_id} to this person"),
    "correct_to_register": ("Sửa bản ghi {record_id} theo CSDL quốc gia về dân cư",
                            "Correct record {record_id} to the register's values"),
    "dose_exists": ("Mũi tiêm đã có: cơ sở {facility_id}, ngày {vaccinated_on}",
                    "The dose exists: facility {facility_id}, date {vaccinated_on}"),
    "duplicate": ("Mũi tiêm bị ghi trùng: bản ghi {record_id} trùng với {duplicate_of}",
                  "Dose recorded twice: record {record_id} duplicates {duplicate_of}"),
    "refuse": ("Từ chối: {ground}", "Refuse: {ground}"),
}
AWAITING: Final = ("open", "deferred")
BATCH: Final = 100_000   # claims read together (bounds memory on a 1 M import)
Made = TypeVar("Made")   # what a caller makes of each claim and its triage (triage_then)


class Claim(Protocol):
    """What triage reads of a complaint (a stored row or a standardised input)."""

    @property
    def category(self) -> str: ...
    @property
    def full_name(self) -> str | None: ...
    @property
    def dob(self) -> str | None: ...
    @property
    def gender(self) -> str | None: ...
    @property
    def id_number(self) -> str | None: ...
    @property
    def dose_number(self) -> int | None: ...
    @property
    def vaccine(self) -> str | None: ...
    @property
    def vaccinated_on(self) -> str | None: ...
    @property
    def claimed_facility_id(self) -> str | None: ...


@dataclass(frozen=True)
class Proposal:
    kind: str
    record_id: str | None = None
    ground: str | None = None
    certain: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def text(self, language: str = "vi") -> str:
        template = PROPOSAL_TEXT[self.kind][0 if language == "vi" else 1]
        values = {"record_id": self.record_id, "ground": self.ground, **self.detail}
        return template.format_map(defaultdict(lambda: "?", values))

    def as_json(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies, a cost at a million complaints.
        return {"kind": self.kind, "record_id": self.record_id, "ground": self.ground,
                "certain": self.certain, "detail": dict(self.detail)}


@dataclass(frozen=True)
class Triage:
    person_id: str | None
    proposal: Proposal | None
    facility_id: str | None = None       # where the dose in question was given, when known
    province_code: str | None = None


class StoredRecord(Protocol):
    """What triage reads of a dose record in the store (a plain selected row)."""

    @property
    def record_id(self) -> str: ...
    @property
    def person_id(self) -> str | None: ...
    @property
    def status(self) -> str: ...
    @property
    def facility_id(self) -> str: ...
    @property
    def province_code(self) -> str: ...


RECORD_COLUMNS: Final = (
    "record_id", "person_id", "status", "facility_id", "province_code",
    *(f"original_{name}" for name in CHECKED_FIELDS), *CHECKED_FIELDS,
    "original_vaccinated_on", "original_vaccine", "original_dose_number")
PERSON_COLUMNS: Final = ("person_id", "old_id", "full_name", "dob", "gender")


@dataclass
class _RecordFacts:
    record: StoredRecord
    vaccinated_on: str | None
    dose_number: int | None
    vaccine: str | None

    @cached_property
    def typed(self) -> Standardised:
        """The identity the facility typed (``original_*``), standardised once per read."""
        return Standardised.of({name: getattr(self.record, f"original_{name}")
                                for name in CHECKED_FIELDS})

    @cached_property
    def current(self) -> Standardised:
        """The record's current identity values, standardised once per read."""
        return Standardised.of({name: getattr(self.record, name) for name in CHECKED_FIELDS})


Place = tuple[str, str | None]   # (facility, day of the dose)


@dataclass
class _Unlinked:
    """Unlinked records by the place a claim names (kept from batch to batch: triage only
    reads, so a facility's records are read once per import, not once per batch)."""

    facilities: set[str] = field(default_factory=set)   # read already
    at: dict[Place, list[_RecordFacts]] = field(default_factory=dict)
    sharing: dict[Place, _Sharing] = field(default_factory=dict)


@dataclass
class _Found:
    persons: dict[str, RegisterPerson] = field(default_factory=dict)    # by ID and old ID
    linked: dict[str, list[_RecordFacts]] = field(default_factory=dict)  # by person
    candidate_of: dict[str, list[_RecordFacts]] = field(default_factory=dict)
    # Unlinked records by (facility, day of the dose): a claim names both to look there.
    unlinked: _Unlinked = field(default_factory=_Unlinked)
    duplicates: dict[str, dict[str, str]] = field(default_factory=dict)  # person → rec → of
    standardised: dict[str, StandardisedPerson] = field(default_factory=dict)  # by person

    def checked(self, person: RegisterPerson) -> StandardisedPerson:
        """``person`` as the register check compares them (standardised once per batch)."""
        found = self.standardised.get(person.person_id)
        if found is None:
            found = self.standardised[person.person_id] = StandardisedPerson.of(person)
        return found

    def unlinked_sharing(self, place: Place, person: StandardisedPerson) -> list[_RecordFacts]:
        """The unlinked records at ``place`` (facility, day) whose typed name or date of birth
        is the person's. Only these can be close (:func:`_compatible`: a record with both off
        has two fields off), so the register check runs on them, not on the whole day."""
        index = self.unlinked.sharing.get(place)
        if index is None:
            index = self.unlinked.sharing[place] = _Sharing(self.unlinked.at.get(place, []))
        return index.of(person)


class _Sharing:
    """Records indexed by their typed (standardised) name and date of birth."""

    def __init__(self, records: list[_RecordFacts]) -> None:
        self.order = {id(facts): n for n, facts in enumerate(records)}
        self.by_name: dict[str, list[_RecordFacts]] = {}
        self.by_dob: dict[str, list[_RecordFacts]] = {}
        for facts in records:
            typed = facts.typed
            if typed.full_name is not None:
                self.by_name.setdefault(typed.full_name, []).append(facts)
            if typed.dob is not None:
                self.by_dob.setdefault(typed.dob, []).append(facts)

    def of(self, person: StandardisedPerson) -> list[_RecordFacts]:
        named = self.by_name.get(person.full_name, []) if person.full_name is not None else []
        born = self.by_dob.get(person.dob, []) if person.dob is not None else []
        if not born:
            return named
        if not named:
            return born
        both = {id(facts): facts for facts in (*named, *born)}
        return sorted(both.values(), key=lambda facts: self.order[id(facts)])


@lru_cache(maxsize=CACHE)
def iso_day(text: str | None) -> str | None:
    """A date written any way as YYYY-MM-DD, when it names a whole day."""
    parsed = dates.parse(text)
    return (parsed.value.isoformat() if parsed.valid and parsed.value and
            parsed.precision == "day" else None)


@lru_cache(maxsize=CACHE)
def _vaccine(text: str | None) -> str | None:
    product = vaccines.parse(text).vaccine
    return product.key if product else None


@lru_cache(maxsize=CACHE)
def _dose_number(text: str | None) -> int | None:
    return vaccines.parse_dose_number(text)


def _facts(record: Any) -> _RecordFacts:
    return _RecordFacts(record, iso_day(record.original_vaccinated_on),
                        _dose_number(record.original_dose_number),
                        _vaccine(record.original_vaccine))


def _columns(table: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{table}.{column}" for column in columns)


def _load(session: Session, claims: Sequence[Claim], unlinked: _Unlinked) -> _Found:
    """Everything triage needs about ``claims``, read by joins on the claims' keys.

    The claims' ID numbers and named facilities go into temporary tables (one bulk load);
    each read (persons, their records, review candidates, duplicates, unlinked records at
    the named facilities not read for an earlier batch) is then one join over all of them,
    not a query per complaint. A person's records come in record order (the same proposal
    whatever order the store keeps them in).
    """
    found = _Found(unlinked=unlinked)
    connection = session.connection()
    keys = ClaimKeys(connection)
    facilities = {c.claimed_facility_id for c in claims
                  if c.claimed_facility_id and c.vaccinated_on} - unlinked.facilities
    try:
        keys.load({c.id_number for c in claims if c.id_number}, facilities)
        for person in keys.rows(f"SELECT {', '.join(PERSON_COLUMNS)} FROM person WHERE "
                                f"person_id IN (SELECT person_id FROM {keys.persons})"):
            found.persons.setdefault(person.person_id, person)
            if person.old_id:
                found.persons.setdefault(person.old_id, person)
        for record in keys.rows(
                f"SELECT {_columns('r', RECORD_COLUMNS)} FROM vaccination_record r "
                f"JOIN {keys.persons} k ON k.person_id = r.person_id "
                "ORDER BY r.person_id, r.record_id"):
            found.linked.setdefault(record.person_id, []).append(_facts(record))
        awaiting = ", ".join(f"'{state}'" for state in AWAITING)
        for record in keys.rows(
                f"SELECT c.person_id AS candidate_id, {_columns('r', RECORD_COLUMNS)} "
                f"FROM review_candidate c JOIN {keys.persons} k ON k.person_id = c.person_id "
                "JOIN review_item i ON i.id = c.item_id "
                "JOIN vaccination_record r ON r.record_id = i.record_id "
                f"WHERE i.state IN ({awaiting})"):
            found.candidate_of.setdefault(record.candidate_id, []).append(_facts(record))
        for row in keys.rows(
                f"SELECT h.person_id, h.record_id, h.duplicate_of FROM dose_history h "
                f"JOIN {keys.persons} k ON k.person_id = h.person_id "
                "WHERE h.duplicate_of IS NOT NULL"):
            found.duplicates.setdefault(row.person_id, {})[row.record_id] = row.duplicate_of
        statuses = ", ".join(f"'{status}'" for status in AUTHENTICATION_STATUSES)
        for record in keys.rows(
                f"SELECT {_columns('r', RECORD_COLUMNS)} FROM vaccination_record r "
                f"JOIN {keys.facilities} f ON f.facility_id = r.facility_id "
                f"WHERE r.status IN ({statuses})"):
            facts = _facts(record)
            unlinked.at.setdefault((record.facility_id, facts.vaccinated_on), []).append(facts)
        unlinked.facilities |= facilities
    finally:
        keys.drop()
    return found


def triage(session: Session, claims: Sequence[Claim]) -> list[Triage]:
    """One :class:`Triage` per claim, in order (reads the store per ``BATCH`` claims)."""
    return triage_then(session, claims, _as_found)


Then = Callable[[Session, Sequence[Claim], list[Triage]], list[Made]]


def triage_then(session: Session, claims: Sequence[Claim], then: Then[Made]) -> list[Made]:
    """``then(session, claims, their triage)`` over ``claims``, results in order.

    A large batch on PostgreSQL is split over the cores (:mod:`vaxtrust.complaints.parallel`),
    each worker reading the store on a connection of its own (triage only reads, and the
    import has written nothing before it) and running ``then`` on its slice: what travels
    back is what the caller keeps (e.g. the rows to store), not the triage to rebuild them."""
    bind = session.get_bind()
    if len(claims) >= parallel.MIN_ITEMS and bind.dialect.name == "postgresql":
        url = bind.engine.url.render_as_string(hide_password=False)
        return parallel.map_slices(partial(_triage_on, url, then), claims)
    return then(session, claims, _triage_batches(session, claims))


def _as_found(_: Session, __: Sequence[Claim], found: list[Triage]) -> list[Triage]:
    return found


def _triage_on(url: str, then: Then[Made], claims: Sequence[Claim]) -> list[Made]:
    """Triage in a worker process: its own connection (never one inherited from the parent)."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            return then(session, claims, _triage_batches(session, claims))
    finally:
        engine.dispose()


def _triage_batches(session: Session, claims: Sequence[Claim]) -> list[Triage]:
    results: list[Triage] = []
    unlinked = _Unlinked()
    for start in range(0, len(claims), BATCH):
        batch = claims[start:start + BATCH]
        found = _load(session, batch, unlinked)
        results.extend(_triage_one(claim, found) for claim in batch)
    return results


def _claimed_values(claim: Claim, person: RegisterPerson) -> dict[str, str | None]:
    # A gender the citizen did not give is not a contradiction.
    return {"full_name": claim.full_name, "dob": claim.dob,
            "gender": claim.gender or person.gender, "id_number": claim.id_number}


def _refusal(claim: Claim, person: RegisterPerson, checked: StandardisedPerson
             ) -> Proposal | None:
    problems = set(mismatched_fields(Standardised.of(_claimed_values(claim, person)), checked))
    if "full_name" in problems:
        same_letters = names.fold(claim.full_name) == names.fold(person.full_name)
        return Proposal("refuse", ground="name_without_diacritics" if same_letters
                        else "name_contradicts_certificate")
    if "dob" in problems:
        return Proposal("refuse", ground="dob_differs_from_system")
    return None


def _fits(facts: _RecordFacts, claim: Claim) -> bool:
    """The record carries the dose claimed (every part the citizen gave)."""
    pairs: tuple[tuple[object, object], ...] = (
        (claim.vaccinated_on, facts.vaccinated_on), (claim.dose_number, facts.dose_number),
        (claim.vaccine, facts.vaccine), (claim.claimed_facility_id, facts.record.facility_id))
    return all(claimed is None or claimed == held for claimed, held in pairs)


def _compatible(facts: _RecordFacts, person: StandardisedPerson) -> tuple[bool, bool]:
    """(close enough to propose, certain): at most one identity field off; none off."""
    problems = set(mismatched_fields(facts.typed, person))
    return len(problems - {"gender"}) <= 1, not problems


def _where(facts: _RecordFacts) -> dict[str, Any]:
    return {"facility_id": facts.record.facility_id, "vaccinated_on": facts.vaccinated_on,
            "dose_number": facts.dose_number, "vaccine": facts.vaccine}


def _linked_proposal(claim: Claim, person: StandardisedPerson, mine: list[_RecordFacts],
                     duplicates: dict[str, str]) -> Proposal | None:
    fitting = [f for f in mine if _fits(f, claim)]
    if claim.category == "duplicate_dose":
        for facts in fitting or mine:
            if facts.record.record_id in duplicates:
                return Proposal("duplicate", facts.record.record_id, certain=True,
                                detail={**_where(facts),
                                        "duplicate_of": duplicates[facts.record.record_id]})
    for facts in fitting:
        if facts.record.status in LINKED_STATUSES and mismatched_fields(facts.current, person):
            return Proposal("correct_to_register", facts.record.record_id,
                            detail=_where(facts))
    has_claim = claim.vaccinated_on or claim.dose_number or claim.vaccine
    if fitting and (has_claim or claim.category not in ("missing_dose", "duplicate_dose")):
        # The record the history counts, not its duplicate (when the dose was entered twice).
        facts = next((f for f in fitting if f.record.record_id not in duplicates), fitting[0])
        if facts.record.status in LINKED_STATUSES:
            return Proposal("dose_exists", facts.record.record_id, certain=True,
                            detail=_where(facts))
    return None


def _unlinked_proposal(claim: Claim, person: StandardisedPerson, found: _Found
                       ) -> Proposal | None:
    if not (claim.vaccinated_on or claim.dose_number or claim.vaccine):
        return None
    pool = list(found.candidate_of.get(person.person_id, []))
    if claim.claimed_facility_id and claim.vaccinated_on:
        pool += found.unlinked_sharing((claim.claimed_facility_id, claim.vaccinated_on), person)
    seen: set[str] = set()
    proposals: list[Proposal] = []
    for facts in pool:
        record = facts.record
        if record.record_id in seen or record.person_id == person.person_id:
            continue
        seen.add(record.record_id)
        if not _fits(facts, claim):
            continue
        close, certain = _compatible(facts, person)
        if close:
            proposals.append(Proposal("link_record", record.record_id, certain=certain,
                                      detail=_where(facts)))
    # Two records fit equally: an officer decides which (never a guess).
    return proposals[0] if len(proposals) == 1 else None


def _triage_one(claim: Claim, found: _Found) -> Triage:
    person = found.persons.get(claim.id_number or "")
    if person is None:
        facility = claim.claimed_facility_id
        return Triage(None, None, facility_id=facility)
    checked = found.checked(person)
    refusal = _refusal(claim, person, checked)
    if refusal is not None:
        return Triage(person.person_id, refusal)
    mine = found.linked.get(person.person_id, [])
    proposal = (_linked_proposal(claim, checked, mine,
                                 found.duplicates.get(person.person_id, {}))
                or _unlinked_proposal(claim, checked, found))
    where = next((f.record for f in mine + found.candidate_of.get(person.person_id, [])
                  if proposal and f.record.record_id == proposal.record_id), None)
    if where is None and proposal and proposal.record_id:
        named = (claim.claimed_facility_id or "", claim.vaccinated_on)
        where = next((f.record for f in found.unlinked.at.get(named, [])
                      if f.record.record_id == proposal.record_id), None)
    return Triage(person.person_id, proposal,
                  facility_id=where.facility_id if where else claim.claimed_facility_id,
                  province_code=where.province_code if where else None)


def proposal_from_json(kind: str | None, detail: dict[str, Any]) -> Proposal | None:
    if kind is None:
        return None
    return Proposal(kind, detail.get("record_id"), detail.get("ground"),
                    bool(detail.get("certain")), dict(detail.get("detail") or {}))


def stored_detail(proposal: Proposal | None) -> dict[str, Any]:
    return proposal.as_json() if proposal else {}


