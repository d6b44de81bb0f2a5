"""Complaints of known truth about a published store, and a scorer of their triage (issue 15).

:func:`known_complaints` reads a store that a cleaning run of generated data was published into,
and the generator's truth (each record's true person, ``records_truth.parquet``), and writes
complaints as a portal exports them (Vietnamese headers) with the resolution each should get:

| situation | the citizen says | the right proposal |
| --- | --- | --- |
| ``dose_exists`` | a dose the history holds (missing / no certificate / wrong personal info) | ``dose_exists`` of that record |
| ``duplicate`` | a dose recorded twice | ``duplicate`` of the record the history counts once |
| ``missing_link`` | a dose whose record is in review or unmatched (the errors injected) | ``link_record`` of that record |
| ``wrong_link`` | a dose whose record is linked to someone else or rejected | none: an officer relinks it |
| ``not_in_register`` | anything, for a person the register lacks | none: an officer looks |
| ``refuse_name`` | another person's name with their ID (ground 2) | ``refuse`` name_contradicts_certificate |
| ``refuse_no_diacritics`` | their name without diacritics (ground 11) | ``refuse`` name_without_diacritics |
| ``refuse_dob`` | another date of birth (ground 5) | ``refuse`` dob_differs_from_system |
| ``refuse_photo`` | a dose nobody recorded, with a photo an officer refuses (grounds 1, 3, 4, 6-10, 12, 13) | none: an officer looks |

:func:`score` compares what triage proposed with that truth: the share of complaints whose
proposal is right, wrong (another proposal, or one where only an officer can tell) and none.
Only generated people.
"""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from sqlalchemy import Connection

from vaxtrust.complaints import grounds
from vaxtrust.complaints.model import CATEGORY_TEXT
from vaxtrust.complaints.triage import iso_day
from vaxtrust.vn import names

HEADERS: Final[dict[str, str]] = {
    "complaint_id": "Mã phản ánh", "full_name": "Họ và tên", "dob": "Ngày sinh",
    "gender": "Giới tính", "phone": "Số điện thoại", "id_number": "Số CCCD/CMND",
    "category": "Loại phản ánh", "dose_number": "Mũi tiêm", "vaccine": "Loại vắc xin",
    "vaccinated_on": "Ngày tiêm", "facility_id": "Cơ sở tiêm", "description": "Nội dung",
}
TRUTH_HEADER: Final = ("complaint_id", "situation", "expected", "record_ids", "ground")
LINKED: Final = ("verified", "corrected")
UNLINKED: Final = ("review", "unmatched")
PHOTO_GROUNDS: Final = tuple(g.code for g in grounds.GROUNDS if g.number not in (2, 5, 11))
REFUSALS: Final = ("refuse_name", "refuse_no_diacritics", "refuse_dob", "refuse_photo")
NOBODY_DOSE: Final = ("10/03/2021", "9")   # a date and dose number no record carries


@dataclass(frozen=True)
class Expected:
    situation: str
    expected: str | None            # the proposal kind that is right (None: an officer looks)
    record_ids: frozenset[str] = frozenset()   # any of these records is the right one
    ground: str | None = None


@dataclass
class _Store:
    persons: dict[str, Any]
    records: list[Any]
    by_person: dict[str, list[Any]]
    duplicates: set[str]


def _read_store(connection: Connection) -> _Store:
    persons = {row.person_id: row for row in connection.exec_driver_sql(
        "SELECT person_id, full_name, dob, gender FROM person")}
    records = list(connection.exec_driver_sql(
        "SELECT record_id, status, person_id, facility_id, original_full_name, original_dob, "
        "original_id_number, original_dose_number, original_vaccine, original_vaccinated_on "
        "FROM vaccination_record ORDER BY record_id"))
    by_person: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        if record.person_id and record.status in LINKED:
            by_person[record.person_id].append(record)
    duplicates = {row[0] for row in connection.exec_driver_sql(
        "SELECT record_id FROM dose_history WHERE duplicate_of IS NOT NULL")}
    return _Store(persons, records, by_person, duplicates)


def _dmy(iso: str | None) -> str:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso and len(iso) == 10 else ""


def _dose(record: Any) -> tuple[str | None, str | None, str | None, str]:
    return (iso_day(record.original_vaccinated_on), record.original_dose_number,
            record.original_vaccine, record.facility_id)


@dataclass
class _Maker:
    store: _Store
    rng: random.Random
    rows: list[dict[str, str]] = field(default_factory=list)
    truth: list[Expected] = field(default_factory=list)

    def add(self, identity: Mapping[str, str | None], record: Any, category: str,
            expected: Expected, *, dose: tuple[str, str] | None = None) -> None:
        date, number = dose or (_dmy(iso_day(record.original_vaccinated_on)),
                                record.original_dose_number or "")
        self.rows.append({
            "complaint_id": f"PA-{len(self.rows) + 1:08d}",
            "full_name": identity["full_name"] or "", "dob": _dmy(identity["dob"]),
            "gender": {"M": "Nam", "F": "Nữ"}.get(identity.get("gender") or "", ""),
            "phone": f"09{self.rng.randrange(10**8):08d}", "id_number": identity["id_number"] or "",
            "category": CATEGORY_TEXT[category][0], "dose_number": number,
            "vaccine": record.original_vaccine or "", "vaccinated_on": date,
            "facility_id": record.facility_id, "description": "Dữ liệu tổng hợp (thử nghiệm)"})
        self.truth.append(expected)

    def same_dose(self, person_id: str, record: Any) -> frozenset[str]:
        """The person's linked records carrying the same dose as ``record`` (any may be named)."""
        return frozenset(r.record_id for r in self.store.by_person.get(person_id, [])
                         if _dose(r) == _dose(record))

    def complaint(self, record: Any, true_person: str | None, refuse_share: float) -> None:
        person = self.store.persons.get(true_person or "")
        if person is None:
            identity = {"full_name": names.canonical(record.original_full_name),
                        "dob": iso_day(record.original_dob), "id_number": true_person}
            self.add(identity, record, "missing_dose", Expected("not_in_register", None))
            return
        identity = {"full_name": person.full_name, "dob": person.dob, "gender": person.gender,
                    "id_number": person.person_id}
        if self.rng.random() < refuse_share:
            self.refusal(identity, record)
        elif record.person_id == person.person_id and record.status in LINKED:
            if record.record_id in self.store.duplicates:
                self.add(identity, record, "duplicate_dose",
                         Expected("duplicate", "duplicate", frozenset({record.record_id})))
            else:
                category = self.rng.choice(("missing_dose", "no_certificate",
                                            "wrong_personal_info", "wrong_dose_info"))
                self.add(identity, record, category, Expected(
                    "dose_exists", "dose_exists", self.same_dose(person.person_id, record)))
        elif record.status in UNLINKED:
            self.add(identity, record, "missing_dose",
                     Expected("missing_link", "link_record", frozenset({record.record_id})))
        else:
            self.add(identity, record, "missing_dose",
                     Expected("wrong_link", None, frozenset({record.record_id})))

    def refusal(self, identity: dict[str, str | None], record: Any) -> None:
        situation = self.rng.choice(REFUSALS)
        claimed = dict(identity)
        ground: str | None
        if situation == "refuse_name":
            other = self.rng.choice(self.store.records)
            claimed["full_name"] = names.canonical(other.original_full_name)
            if names.fold(claimed["full_name"]) == names.fold(identity["full_name"]):
                situation, claimed = "refuse_photo", dict(identity)
        elif situation == "refuse_no_diacritics":
            claimed["full_name"] = names.fold(identity["full_name"])
            if names.canonical(claimed["full_name"]) == identity["full_name"]:   # no marks
                situation, claimed = "refuse_photo", dict(identity)
        elif situation == "refuse_dob" and len(dob := identity["dob"] or "") == 10:
            claimed["dob"] = f"{int(dob[:4]) - 1}{dob[4:]}".replace("-02-29", "-02-28")
        else:
            situation = "refuse_photo"
        ground = {"refuse_name": "name_contradicts_certificate",
                  "refuse_no_diacritics": "name_without_diacritics",
                  "refuse_dob": "dob_differs_from_system"}.get(situation)
        if ground is None:
            situation = "refuse_photo"
            self.add(claimed, record, "missing_dose",
                     Expected(situation, None, ground=self.rng.choice(PHOTO_GROUNDS)),
                     dose=NOBODY_DOSE)
            return
        self.add(claimed, record, "wrong_personal_info",
                 Expected(situation, "refuse", ground=ground))


def known_complaints(connection: Connection, truth: Mapping[str, str | None], *, count: int,
                     seed: int = 15, refuse_share: float = 0.1
                     ) -> tuple[list[dict[str, str]], list[Expected]]:
    """``count`` complaints about the store's records (each record once, then again).

    ``truth`` maps record IDs to their true person's register ID (None: not in the register).
    Returns the rows (by field name; :func:`write` gives them Vietnamese headers) and the truth.
    """
    store = _read_store(connection)
    maker = _Maker(store, random.Random(seed))
    order = list(range(len(store.records)))
    maker.rng.shuffle(order)
    for index in range(count):
        record = store.records[order[index % len(order)]]
        maker.complaint(record, truth.get(record.record_id), refuse_share)
    return maker.rows, maker.truth


def read_truth(path: Path) -> dict[str, str | None]:
    """The generator's ``records_truth.parquet``: record ID → true register person."""
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["record_id", "true_person_id"])
    return dict(zip(table.column(0).to_pylist(), table.column(1).to_pylist(), strict=True))


def write(rows: Iterable[dict[str, str]], truth: Iterable[Expected], out: Path,
          truth_out: Path) -> None:
    """The complaints as a portal's CSV export, and their truth beside them."""
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADERS.values())
        writer.writerows([row[name] for name in HEADERS] for row in rows)
    with truth_out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRUTH_HEADER)
        for number, expected in enumerate(truth, start=1):
            writer.writerow([f"PA-{number:08d}", expected.situation, expected.expected or "",
                             "|".join(sorted(expected.record_ids)), expected.ground or ""])


def read_expected(path: Path) -> dict[str, Expected]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["complaint_id"]: Expected(
            row["situation"], row["expected"] or None,
            frozenset(filter(None, row["record_ids"].split("|"))), row["ground"] or None)
            for row in csv.DictReader(handle)}


@dataclass(frozen=True)
class TriageScore:
    total: int
    right: int
    wrong: int
    none: int
    none_expected: int    # ... of which only an officer can settle (no proposal is right)
    by_situation: dict[str, Counter[str]]
    wrong_examples: list[tuple[str, str, str]]   # (complaint, proposed, expected)

    def share(self, part: int) -> float:
        return part / self.total if self.total else 0.0


def _verdict(expected: Expected, kind: str | None, record_id: str | None,
             ground: str | None) -> str:
    if kind is None:
        return "none"
    if kind != expected.expected:
        return "wrong"
    if kind == "refuse":
        return "right" if ground == expected.ground else "wrong"
    return "right" if record_id in expected.record_ids else "wrong"


def score(proposals: Iterator[tuple[str, str | None, str | None, str | None]],
          expected: Mapping[str, Expected]) -> TriageScore:
    """Score ``(complaint number, proposal, record, ground)`` rows against the truth."""
    counts: Counter[str] = Counter()
    by_situation: dict[str, Counter[str]] = defaultdict(Counter)
    examples: list[tuple[str, str, str]] = []
    for number, kind, record_id, ground in proposals:
        truth = expected.get(number)
        if truth is None:
            continue
        verdict = _verdict(truth, kind, record_id, ground)
        counts[verdict] += 1
        by_situation[truth.situation][verdict] += 1
        if verdict == "none" and truth.expected is None:
            counts["none_expected"] += 1
        if verdict == "wrong" and len(examples) < 20:
            examples.append((number, f"{kind} {record_id or ground}",
                             f"{truth.expected} {sorted(truth.record_ids) or truth.ground}"))
    return TriageScore(counts["right"] + counts["wrong"] + counts["none"], counts["right"],
                       counts["wrong"], counts["none"], counts["none_expected"],
                       dict(by_situation), examples)


def stored_proposals(connection: Connection) -> Iterator[tuple[str, str | None, str | None,
                                                                str | None]]:
    """What triage proposed for each imported complaint, by its number."""
    import json

    for row in connection.exec_driver_sql(
            "SELECT external_id, proposal, record_id, proposal_detail FROM complaint "
            "WHERE external_id IS NOT NULL"):
        ground = json.loads(row.proposal_detail or "{}").get("ground")
        yield row.external_id, row.proposal, row.record_id, ground
