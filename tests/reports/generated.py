"""Generated store content for report tests: a few hundred records with every outcome, open
review items of various ages, and certificates issued, revoked and re-issued (synthetic people,
written straight into the tables so the counts can be checked against independent arithmetic)."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from vaxtrust.reports.snapshot import day_end_text
from vaxtrust.store.db import Store
from vaxtrust.store.tables import (
    Certificate,
    Facility,
    Person,
    Province,
    ReviewItem,
    VaccinationRecord,
)

# (facility, province, communes): Ha Noi and Ho Chi Minh City as in the store tests, Da Nang new.
FACILITIES = [("GEN-HN-1", "01", ("00004", "00007")), ("GEN-HN-2", "01", ("00004", "")),
              ("GEN-HCM-1", "79", ("26734", "26737")), ("GEN-DN-1", "48", ("20194",))]
STATUSES = ("verified", "corrected", "review", "unmatched", "rejected")
DAY = dt.date(2022, 4, 28)


def _at(day: dt.date, hour: int = 9) -> str:
    """A time on a Viet Nam day, as the store's UTC text."""
    return (dt.datetime.combine(day, dt.time(hour)) - dt.timedelta(hours=7)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Generated:
    day: dt.date
    end: str


def populate(store: Store, *, seed: int = 16, records: int = 400,
             facilities: list[tuple[str, str, tuple[str, ...]]] = FACILITIES) -> Generated:
    """Add generated rows to a published store; figures are meant to be read as of ``DAY``."""
    rng = random.Random(seed)
    with store.transaction() as session:
        for code in sorted({province for _, province, _ in facilities}):
            if session.get(Province, code) is None:
                session.add(Province(code=code))
        session.flush()
        for facility, province, _ in facilities:
            session.add(Facility(facility_id=facility, name=f"Trạm y tế {facility}",
                                 province_code=province))
        people = [f"0{rng.randrange(10**10, 10**11)}" for _ in range(records // 2)]
        people = sorted(set(people))
        for person_id in people:
            session.add(Person(person_id=person_id, full_name="Người Tổng Hợp", dob="1980-01-01",
                               gender="M"))
        session.flush()
        linked: set[str] = set()
        for number in range(records):
            facility, province, communes = rng.choice(facilities)
            status = rng.choice(STATUSES)
            person = rng.choice(people) if status in ("verified", "corrected") else None
            if person:
                linked.add(person)
            record_id = f"G{number:05d}"
            session.add(VaccinationRecord(
                record_id=record_id, facility_id=facility, province_code=province,
                commune_code=rng.choice(communes) or None, status=status, person_id=person,
                run_id="run-1", first_run_id="run-1", updated_at=_at(DAY), reasons="[]"))
            if status == "review":
                session.flush()
                age = rng.choice((0, 3, 8, 15, 31, 45))
                state = rng.choice(("open", "open", "deferred", "decided"))
                session.add(ReviewItem(record_id=record_id, run_id="run-1",
                                       province_code=province, facility_id=facility,
                                       state=state, created_at=_at(DAY - dt.timedelta(age)),
                                       updated_at=_at(DAY)))
        for index, person in enumerate(sorted(linked)):
            kind = rng.choice(("none", "issued", "revoked", "reissued", "later"))
            if kind == "none":
                continue
            first_day = DAY - dt.timedelta(days=5) if kind != "later" else DAY + dt.timedelta(2)
            revoked = kind in ("revoked", "reissued")
            session.add(Certificate(
                uvci=f"URN:UVCI:01:VN:GEN{index:05d}A", person_id=person,
                state="revoked" if revoked else "issued", issued_at=_at(first_day),
                issued_by="gen", revoked_at=_at(DAY - dt.timedelta(2)) if revoked else None))
            if kind == "reissued":
                session.add(Certificate(
                    uvci=f"URN:UVCI:01:VN:GEN{index:05d}B", person_id=person, state="issued",
                    issued_at=_at(DAY - dt.timedelta(1)), issued_by="gen"))
    return Generated(DAY, day_end_text(DAY))
