"""Generate the independent evaluation set: register, dose records and ground truth.

    uv run python -m benchmarks.independent.generate --persons 100000 --seed 7 --out DIR \
        [--error-scale 2 | --double]

Writes the project's standard import files (docs/data-formats.md): ``records.csv``,
``register.parquet``, ``truth/records_truth.parquet`` (the standard truth columns plus
``person_key``, ``facility_id`` and ``traits``), ``truth/persons.parquet`` and ``manifest.json``.
The same seed, size and scale give the same files. Only synthetic people.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from benchmarks.independent import errors
from benchmarks.independent import population as pop
from benchmarks.independent.errors import Entry, Person
from benchmarks.independent.population import Commune, Human
from benchmarks.independent.vietnamese import strip_diacritics

RECORD_COLUMNS = ("record_id", "full_name", "dob", "gender", "id_number", "phone", "province",
                  "district", "commune", "dose_number", "vaccine", "lot", "vaccinated_on",
                  "facility_id")
REGISTER_COLUMNS = ("person_id", "old_id", "full_name", "dob", "dob_precision", "gender",
                    "province_code", "district_code", "commune_code", "phone")

CHUNK_PERSONS = 50_000
NOT_IN_REGISTER = 0.01         # residents missing from the register snapshot
FOREIGNERS = 0.004
TWIN_BIRTHS = 0.015
NAMESAKES = 0.002              # adults sharing name, date of birth and gender with another adult
TEMPORARY_RESIDENCE = 0.04     # adults vaccinated where they live temporarily
REENTERED = 0.25               # later doses typed again instead of looked up on the platform
CMND_HOLDERS = 0.8             # adults born before 2004 who had a 9-digit CMND
REGISTER_KNOWS_CMND = 0.7
REGISTER_PHONE = 0.6
# formatting a register would not count as a mismatch, and IDs it could not use (§7 figures)
HARMLESS = frozenset({"name_all_caps", "name_nfd", "name_extra_whitespace", "id_old_cmnd",
                      "id_missing", "id_leading_zero_lost", "id_scientific_notation"})
NO_USABLE_ID = frozenset({"id_missing", "id_scientific_notation"})
CAMPAIGN_START = dt.date(2021, 3, 8)
LAST_DOSE = dt.date(2022, 12, 31)

# (name variants as facilities write them, lot prefix)
VACCINES = {
    "astrazeneca": (("AstraZeneca", "Vaxzevria", "AZ"), "AZV"),
    "sinopharm": (("Vero Cell", "Sinopharm", "Vero Cell"), "VRC"),
    "pfizer": (("Pfizer", "Comirnaty", "Pfizer-BioNTech"), "PFZ"),
    "moderna": (("Moderna", "Spikevax", "Moderna"), "MOD"),
    "sputnik": (("Sputnik V", "Sputnik V", "Gam-COVID-Vac"), "SPV"),
    "hayat": (("Hayat-Vax", "Hayat-Vax", "Hayat Vax"), "HYT"),
    "abdala": (("Abdala", "Abdala", "Abdala"), "ABD"),
    "janssen": (("Janssen", "J&J", "Janssen"), "JNJ"),
}
PRIMARY = {"astrazeneca": 0.36, "sinopharm": 0.2, "pfizer": 0.28, "moderna": 0.1,
           "sputnik": 0.02, "hayat": 0.015, "abdala": 0.015, "janssen": 0.01}
BOOSTER = {"pfizer": 0.6, "moderna": 0.3, "astrazeneca": 0.1}
GENDER_STYLES = (("Nam", "Nữ"), ("nam", "nữ"), ("NAM", "NỮ"), ("M", "F"), ("1", "0"),
                 ("Male", "Female"))
UNIT_PREFIXES = ("Thành phố ", "Tỉnh ", "Quận ", "Huyện ", "Thị xã ", "Thị trấn ", "Phường ",
                 "Xã ")


@dataclass(frozen=True)
class Facility:
    """How one vaccination facility enters and exports data (real exports vary by facility)."""

    facility_id: str
    multiplier: float        # sloppiness: every error rate of entries made here is scaled by it
    date_style: str
    us_locale: bool          # dates exported month first
    gender_style: tuple[str, str]
    dose_prefix: str
    vaccine_style: int
    short_units: bool
    units_2025: bool
    phone_style: str
    id_excel: str            # text / number / scientific
    all_caps: bool
    no_diacritics: bool
    keyboard: str            # telex / vni


def facility(seed: int, facility_id: str, province_code: str) -> Facility:
    rng = random.Random(f"{seed}-facility-{facility_id}")
    south = int(province_code) >= pop.SOUTH_FROM_GSO
    return Facility(
        facility_id=facility_id,
        multiplier=rng.lognormvariate(-0.32, 0.8),   # mean 1
        date_style=rng.choices(("dd/mm/yyyy", "d/m/yyyy", "iso", "dd-mm-yyyy", "serial"),
                               (0.55, 0.15, 0.15, 0.1, 0.05))[0],
        us_locale=rng.random() < 0.02,
        gender_style=rng.choices(GENDER_STYLES, (0.5, 0.1, 0.1, 0.1, 0.1, 0.1))[0],
        dose_prefix="Mũi " if rng.random() < 0.15 else "",
        vaccine_style=rng.randrange(3),
        short_units=rng.random() < 0.4,
        units_2025=rng.random() < 0.03,
        phone_style=rng.choices(("0", "+84", "84", "spaced", "dotted"),
                                (0.7, 0.1, 0.1, 0.05, 0.05))[0],
        id_excel=rng.choices(("text", "number", "scientific"), (0.93, 0.055, 0.015))[0],
        all_caps=rng.random() < 0.04,
        no_diacritics=rng.random() < 0.02,
        keyboard="vni" if rng.random() < (0.4 if south else 0.15) else "telex",
    )


# -- households --------------------------------------------------------------------------------

@dataclass
class Chunk:
    """The people of one chunk and what it writes."""

    humans: list[Human] = field(default_factory=list)
    records: list[list[str]] = field(default_factory=list)
    truth: list[dict[str, Any]] = field(default_factory=list)


class Generator:
    def __init__(self, persons: int, seed: int, error_scale: float) -> None:
        self.persons, self.seed, self.scale = persons, seed, error_scale
        self.used_ids: set[str] = set()
        self.facilities: dict[str, Facility] = {}
        self.record_seq: Counter[str] = Counter()
        self.kind_counts: Counter[str] = Counter()
        self.trait_counts: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self.person_seq = 0
        self.household_seq = 0
        self.mismatch_persons = 0
        self.vaccinated_residents = 0
        self.no_usable_id = 0

    # people
    def _human(self, rng: random.Random, household: str, role: str, gender: str, year: int,
               commune: Commune, surname: str | None = None) -> Human:
        self.person_seq += 1
        middles, given = pop.middle_and_given(rng, gender, year)
        human = Human(key=f"P{self.person_seq:010d}", household=household, role=role,
                      surname=surname or pop.surname(rng, commune.province_code),
                      middles=middles, given=given, gender=gender,
                      dob=pop.birth_date(rng, year), commune=commune)
        if year < 1950:
            draw = rng.random()
            human.dob_precision = "year" if draw < 0.08 else "month" if draw < 0.1 else "day"
        return human

    def _household(self, rng: random.Random) -> list[Human]:
        self.household_seq += 1
        hid = f"H{self.household_seq:09d}"
        weights = pop.commune_weights()
        commune = rng.choices(pop.communes(), cum_weights=weights)[0]
        head_year = int(rng.triangular(1936, 2002, 1976))
        head_gender = "M" if rng.random() < 0.72 else "F"
        head = self._human(rng, hid, "head", head_gender, head_year, commune)
        members = [head]
        spouse = None
        if head_year < 1999 and rng.random() < 0.78:
            spouse_year = min(max(head_year + (rng.randint(-2, 7) if head_gender == "M"
                                               else rng.randint(-7, 2)), 1930), 2002)
            spouse = self._human(rng, hid, "spouse", "F" if head_gender == "M" else "M",
                                 spouse_year, commune)
            head.spouse, spouse.spouse = spouse, head
            members.append(spouse)
        father = head if head_gender == "M" else spouse
        mother = head if head_gender == "F" else spouse
        mother_year = mother.dob.year if mother else head_year
        n_children = rng.choices((0, 1, 2, 3, 4), (0.2, 0.25, 0.35, 0.15, 0.05))[0] \
            if head_year < 1998 else 0
        for _ in range(n_children):
            year = mother_year + rng.randint(20, 40)
            if year > 2020:
                continue
            child_surname = father.surname if father else head.surname
            child = self._human(rng, hid, "child", rng.choice("MF"), year, commune, child_surname)
            child.parent = father if (father and rng.random() < 0.6) or not mother else mother
            members.append(child)
            if rng.random() < TWIN_BIRTHS:
                twin = self._human(rng, hid, "child", rng.choice("MF"), year, commune,
                                   child_surname)
                twin.dob = child.dob
                twin.parent = child.parent
                if rng.random() < 0.5 and child.middles:
                    twin.middles = list(child.middles)
                twin.twin_of, child.twin_of = child.key, twin.key
                twin.traits.append("twin")
                child.traits.append("twin")
                members.append(twin)
        if rng.random() < 0.12 and head_year > 1955:
            elder = self._human(rng, hid, "grandparent", rng.choice("MF"),
                                max(head_year - rng.randint(22, 35), 1925), commune)
            if elder.gender == "M" and head_gender == "M":
                elder.surname = head.surname
            members.append(elder)
        for member in members:
            member.head = head
        return members

    def _namesakes(self, rng: random.Random, humans: list[Human]) -> None:
        adults = [h for h in humans if h.dob.year < 2004 and h.dob_precision == "day"]
        for human in rng.sample(adults, int(len(adults) * NAMESAKES)):
            other = rng.choice(adults)
            if other.household == human.household or other.gender != human.gender \
                    or other.twin_of or human.twin_of:
                continue
            human.surname, human.middles, human.given = other.surname, list(other.middles), \
                other.given
            human.dob = other.dob
            human.namesake_of = other.key
            for person in (human, other):
                if "namesake_same_dob" not in person.traits:
                    person.traits.append("namesake_same_dob")

    def _identify(self, rng: random.Random, human: Human) -> None:
        """Personal ID (vn-facts §1.1), CMND, phone, register membership."""
        province = human.commune.province_code if human.commune else "01"
        birth = province if rng.random() < 0.85 else rng.choice(pop.communes()).province_code
        human.birth_province = birth
        century = 0 if human.dob.year < 2000 else 2
        digit = century + (1 if human.gender == "F" else 0)
        while True:
            number = f"0{birth}{digit}{human.dob.year % 100:02d}{rng.randrange(10**6):06d}"
            if number not in self.used_ids:
                break
        self.used_ids.add(number)
        human.person_id = number
        if human.dob.year < 2004 and rng.random() < CMND_HOLDERS:
            # 9 digits; the first two stand in for the issuing province (no public table, §1.3)
            while True:
                cmnd = f"{(int(province) * 3) % 90 + 10:02d}{rng.randrange(10**7):07d}"
                if cmnd not in self.used_ids:
                    break
            self.used_ids.add(cmnd)
            human.old_id = cmnd
            human.register_old_id = cmnd if rng.random() < REGISTER_KNOWS_CMND else None
        if human.dob.year < 2008 and rng.random() < 0.95:
            human.phone = pop.random_phone(rng)
            human.register_phone = human.phone if rng.random() < REGISTER_PHONE else None
        human.in_register = rng.random() >= NOT_IN_REGISTER
        if not human.in_register:
            human.traits.append("not_in_register")
        if 1961 < human.dob.year < 2003 and rng.random() < TEMPORARY_RESIDENCE:
            human.temporary_commune = rng.choices(pop.communes(),
                                                  cum_weights=pop.commune_weights())[0]

    def _foreigner(self, rng: random.Random) -> Human:
        self.household_seq += 1
        nationality = rng.choice(sorted(pop.FOREIGN))
        surnames, givens = pop.FOREIGN[nationality]
        commune = rng.choices(pop.communes(), cum_weights=pop.commune_weights())[0]
        self.person_seq += 1
        human = Human(key=f"P{self.person_seq:010d}", household=f"H{self.household_seq:09d}",
                      role="head", surname=rng.choice(surnames), middles=[],
                      given=rng.choice(givens), gender=rng.choice("MF"),
                      dob=pop.birth_date(rng, rng.randint(1950, 2000)), commune=commune,
                      in_register=False, nationality=nationality,
                      passport=f"{rng.choice('MEGPKC')}{rng.randrange(10**7, 10**8)}",
                      phone=pop.random_phone(rng))
        human.head = human
        human.traits.append("foreigner")
        return human

    # doses
    def _facility(self, commune: Commune, rng: random.Random) -> Facility:
        facility_id = f"TYT{commune.commune_code}" if rng.random() < 0.75 \
            else f"TTYT{commune.district_code}"
        found = self.facilities.get(facility_id)
        if found is None:
            found = facility(self.seed, facility_id, commune.province_code)
            self.facilities[facility_id] = found
        return found

    def _doses(self, rng: random.Random, human: Human) -> list[tuple[dt.date, str]]:
        year = human.dob.year
        if year <= 2003:
            count = rng.choices((0, 1, 2, 3, 4), (0.04, 0.06, 0.32, 0.43, 0.15))[0]
            day = CAMPAIGN_START + dt.timedelta(days=int(rng.triangular(0, 330, 170)))
        elif year <= 2009:
            count = rng.choices((0, 1, 2, 3), (0.08, 0.1, 0.62, 0.2))[0]
            day = dt.date(2021, 10, 15) + dt.timedelta(days=rng.randrange(90))
        elif year <= 2016:
            count = rng.choices((0, 1, 2), (0.3, 0.2, 0.5))[0]
            day = dt.date(2022, 4, 14) + dt.timedelta(days=rng.randrange(120))
        else:
            return []
        primary = rng.choices(list(PRIMARY), list(PRIMARY.values()))[0] if year <= 2003 \
            else "pfizer"
        doses = []
        for number in range(1, count + 1):
            if day > LAST_DOSE:
                break
            vaccine = primary if number <= 2 else rng.choices(list(BOOSTER),
                                                              list(BOOSTER.values()))[0]
            doses.append((day, vaccine))
            if primary == "janssen" and number == 1:
                primary = "pfizer"
            day += dt.timedelta(days=rng.randint(28, 84) if number == 1 else rng.randint(120, 240))
        return doses

    def _person_view(self, rng: random.Random, human: Human) -> Person:
        parent = human.parent
        parent_id = None
        if parent is not None:  # the parent gives the number they know: CCCD, or their CMND
            parent_id = parent.old_id if parent.old_id and rng.random() < 0.25 \
                else parent.person_id
        head = human.head
        phone = human.phone
        if human.role == "child" and head and head.phone and (not phone or human.dob.year > 2003):
            phone = head.phone
        elif human.role == "grandparent" and head and head.phone and human.dob.year < 1947:
            phone = head.phone
        return Person(surname=human.surname, middles=human.middles, given=human.given,
                      gender=human.gender, dob=human.dob, dob_precision=human.dob_precision,
                      person_id=human.person_id, old_id=human.old_id,
                      register_old_id=human.register_old_id, passport=human.passport,
                      child=human.dob.year > 2003, parent_id=parent_id,
                      spouse_id=human.spouse.person_id if human.spouse else None, phone=phone)

    def _records(self, rng: random.Random, human: Human, chunk: Chunk) -> None:
        doses = self._doses(rng, human)
        if not doses:
            return
        person = self._person_view(rng, human)
        home = human.temporary_commune or human.commune
        assert home is not None
        platform: Entry | None = None
        all_kinds: set[str] = set()
        for number, (day, vaccine) in enumerate(doses, start=1):
            place = self._facility(home, rng)
            rate = errors.rate_function(self.scale, place.multiplier)
            if platform is None or rng.random() < REENTERED:
                entry = errors.enter_identity(person, rng, rate, place.keyboard)
                platform = platform or entry
            else:
                entry = platform
            copies = 2 if rng.random() < rate("duplicate_entry") else 1
            for copy in range(copies):
                if copy:
                    place = self._facility(home, rng) if rng.random() < 0.3 else place
                    rate = errors.rate_function(self.scale, place.multiplier)
                    entry = errors.enter_identity(person, rng, rate, place.keyboard)
                kinds = self._record(rng, human, entry, place, rate, number, day, vaccine,
                                     chunk, duplicate=bool(copy))
                all_kinds.update(kinds)
        if human.nationality == "VN":
            self.vaccinated_residents += 1
            identity = {k for k in all_kinds if k.split("_")[0] in ("name", "dob", "gender", "id")
                        and k not in HARMLESS}
            self.mismatch_persons += bool(identity)
            self.no_usable_id += bool(all_kinds & NO_USABLE_ID)

    def _record(self, rng: random.Random, human: Human, entry: Entry, place: Facility,
                rate: errors.Rate, number: int, day: dt.date, vaccine: str, chunk: Chunk,
                duplicate: bool) -> list[str]:
        kinds = list(entry.kinds)
        if human.temporary_commune is not None:
            kinds.append("address_temporary_residence")
        if duplicate:
            kinds.append("duplicate_entry")
        name = entry.full_name
        if place.no_diacritics:
            plain = strip_diacritics(name).upper()
            if plain != name.upper():
                kinds.append("name_no_diacritics")
            name = plain
        name = errors.format_name(name, rng, rate, place.all_caps, kinds)
        dob = self._format_date(entry.dob, place, kinds)
        gender = {"M": place.gender_style[0], "F": place.gender_style[1], "": ""}[entry.gender]
        id_number = self._format_id(entry.id_number, place, rng, rate, kinds)
        phone = self._format_phone(entry.phone, place, rng, rate, kinds)
        province, district, commune = self._address(human, place, rng, rate, kinds)
        names, lot_prefix = VACCINES[vaccine]
        self.record_seq[place.facility_id] += 1
        record_id = f"{place.facility_id}-{self.record_seq[place.facility_id]:07d}"
        vaccinated = self._format_date((day.year, day.month, day.day), place, None)
        chunk.records.append([
            record_id, name, dob, gender, id_number, phone, province, district, commune,
            f"{place.dose_prefix}{number}", names[place.vaccine_style],
            f"{lot_prefix}{rng.randrange(10**4):04d}", vaccinated, place.facility_id])
        chunk.truth.append({
            "record_id": record_id,
            "true_person_id": human.person_id if human.in_register else None,
            "true_full_name": human.full_name, "true_dob": human.register_dob,
            "true_gender": human.gender, "true_id_number": human.passport or human.person_id,
            "error_kinds": sorted(set(kinds)), "person_key": human.key,
            "facility_id": place.facility_id, "traits": list(human.traits)})
        self.kind_counts.update(set(kinds))
        self.trait_counts.update(human.traits)
        return kinds

    @staticmethod
    def _format_date(value: tuple[int, int | None, int | None], place: Facility,
                     kinds: list[str] | None) -> str:
        year, month, day = value
        if month is None or day is None:
            return f"{year}"
        if place.us_locale and day <= 12:
            if kinds is not None and day != month and "dob_day_month_swapped" not in kinds:
                kinds.append("dob_day_month_swapped")
            month, day = day, month
        style = place.date_style
        if style == "serial" and errors.plausible_date(year, month, day) and year >= 1910:
            return str((dt.date(year, month, day) - dt.date(1899, 12, 30)).days)
        if style == "iso":
            return f"{year:04d}-{month:02d}-{day:02d}"
        if style == "d/m/yyyy":
            return f"{day}/{month}/{year}"
        if style == "dd-mm-yyyy":
            return f"{day:02d}-{month:02d}-{year:04d}"
        return f"{day:02d}/{month:02d}/{year:04d}"

    @staticmethod
    def _format_id(number: str, place: Facility, rng: random.Random, rate: errors.Rate,
                   kinds: list[str]) -> str:
        if not number.isdigit():
            return number
        scientific = place.id_excel == "scientific" or rng.random() < rate("id_scientific_notation")
        numeric = scientific or place.id_excel == "number" or \
            rng.random() < rate("id_leading_zero_lost")
        if not numeric:
            return number
        typed = errors.excel_number(number, scientific and len(number.lstrip("0")) >= 10)
        if "E+" in typed:
            kinds.append("id_scientific_notation")
        elif typed != number:
            kinds.append("id_leading_zero_lost")
        return typed

    @staticmethod
    def _format_phone(phone: str, place: Facility, rng: random.Random, rate: errors.Rate,
                      kinds: list[str]) -> str:
        if not phone:
            return ""
        if place.id_excel != "text" or rng.random() < rate("phone_leading_zero_lost"):
            kinds.append("phone_leading_zero_lost")
            return phone[1:]
        style = place.phone_style
        if style == "+84":
            return "+84" + phone[1:]
        if style == "84":
            return "84" + phone[1:]
        if style == "spaced" and len(phone) == 10:
            return f"{phone[:4]} {phone[4:7]} {phone[7:]}"
        if style == "dotted" and len(phone) == 10:
            return f"{phone[:4]}.{phone[4:7]}.{phone[7:]}"
        return phone

    @staticmethod
    def _address(human: Human, place: Facility, rng: random.Random, rate: errors.Rate,
                 kinds: list[str]) -> tuple[str, str, str]:
        unit = human.temporary_commune or human.commune
        assert unit is not None
        if place.units_2025 or rng.random() < rate("address_2025_units"):
            provinces, wards = pop.units_2025()
            parts = [provinces.get(unit.province_code, unit.province), "",
                     rng.choice(wards.get(unit.commune_code, [unit.commune]))]
            kinds.append("address_2025_units")
        else:
            parts = [unit.province, unit.district, unit.commune]
        if place.short_units:
            parts = [_short(p) for p in parts]
        if rng.random() < rate("address_missing_part"):
            parts[rng.randrange(3)] = ""
            kinds.append("address_missing_part")
        return parts[0], parts[1], parts[2]

    # chunks
    def chunk(self, index: int, size: int) -> Chunk:
        rng = random.Random(f"{self.seed}-chunk-{index}")
        chunk = Chunk()
        residents = 0
        while residents < size:
            members = self._household(rng)
            residents += len(members)
            chunk.humans.extend(members)
        self._namesakes(rng, chunk.humans)
        for human in chunk.humans:
            self._identify(rng, human)
        for _ in range(round(size * FOREIGNERS)):
            chunk.humans.append(self._foreigner(rng))
        for human in chunk.humans:
            self._records(rng, human, chunk)
        order = list(range(len(chunk.records)))
        rng.shuffle(order)
        chunk.records = [chunk.records[i] for i in order]
        chunk.truth = [chunk.truth[i] for i in order]
        self.counts.update(residents=residents, records=len(chunk.records),
                           foreigners=round(size * FOREIGNERS),
                           registered=sum(h.in_register and h.nationality == "VN"
                                          for h in chunk.humans))
        return chunk


def _short(unit: str) -> str:
    for prefix in UNIT_PREFIXES:
        if unit.startswith(prefix):
            return unit[len(prefix):]
    return unit


# -- files ---------------------------------------------------------------------------------------

TRUTH_SCHEMA = pa.schema([
    ("record_id", pa.string()), ("true_person_id", pa.string()), ("true_full_name", pa.string()),
    ("true_dob", pa.string()), ("true_gender", pa.string()), ("true_id_number", pa.string()),
    ("error_kinds", pa.list_(pa.string())), ("person_key", pa.string()),
    ("facility_id", pa.string()), ("traits", pa.list_(pa.string())),
])
REGISTER_SCHEMA = pa.schema([(name, pa.string()) for name in REGISTER_COLUMNS])
PERSON_COLUMNS = ("person_key", "person_id", "in_register", "old_id", "register_old_id",
                  "passport_number", "nationality", "full_name", "dob", "dob_precision", "gender",
                  "province_code", "district_code", "commune_code", "temporary_commune_code",
                  "phone", "household_id", "household_role", "twin_of", "namesake_of",
                  "birth_registration_province")
PERSON_SCHEMA = pa.schema([(n, pa.bool_() if n == "in_register" else pa.string())
                           for n in PERSON_COLUMNS])


def _person_row(h: Human) -> dict[str, Any]:
    c = h.commune
    assert c is not None
    return {
        "person_key": h.key, "person_id": h.person_id or None, "in_register": h.in_register,
        "old_id": h.old_id, "register_old_id": h.register_old_id, "passport_number": h.passport,
        "nationality": h.nationality, "full_name": h.full_name, "dob": h.register_dob,
        "dob_precision": h.dob_precision, "gender": h.gender, "province_code": c.province_code,
        "district_code": c.district_code, "commune_code": c.commune_code,
        "temporary_commune_code": h.temporary_commune.commune_code if h.temporary_commune
        else None, "phone": h.phone or None, "household_id": h.household,
        "household_role": h.role, "twin_of": h.twin_of, "namesake_of": h.namesake_of,
        "birth_registration_province": h.birth_province or None}


def _register_row(h: Human) -> dict[str, Any]:
    c = h.commune
    assert c is not None
    return {"person_id": h.person_id, "old_id": h.register_old_id, "full_name": h.full_name,
            "dob": h.register_dob, "dob_precision": h.dob_precision, "gender": h.gender,
            "province_code": c.province_code, "district_code": c.district_code,
            "commune_code": c.commune_code, "phone": h.register_phone}


def generate(persons: int, seed: int, out: Path, error_scale: float = 1.0,
             overwrite: bool = False) -> dict[str, Any]:
    """Write the set into ``out`` (appears only when complete); returns the manifest."""
    if out.exists():
        if not overwrite:
            raise SystemExit(f"{out} exists (use --overwrite)")
        if not (out / "manifest.json").is_file():
            raise SystemExit(f"{out} was not written by this generator; not replacing it")
    partial = out.with_name(f".{out.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    (partial / "truth").mkdir(parents=True)
    generator = Generator(persons, seed, error_scale)
    with (partial / "records.csv").open("w", encoding="utf-8", newline="") as handle, \
            pq.ParquetWriter(partial / "register.parquet", REGISTER_SCHEMA) as register, \
            pq.ParquetWriter(partial / "truth/records_truth.parquet", TRUTH_SCHEMA) as truth, \
            pq.ParquetWriter(partial / "truth/persons.parquet", PERSON_SCHEMA) as people:
        writer = csv.writer(handle)
        writer.writerow(RECORD_COLUMNS)
        done, index = 0, 0
        while done < persons:
            size = min(CHUNK_PERSONS, persons - done)
            chunk = generator.chunk(index, size)
            writer.writerows(chunk.records)
            truth.write_table(pa.Table.from_pylist(chunk.truth, TRUTH_SCHEMA))
            people.write_table(pa.Table.from_pylist([_person_row(h) for h in chunk.humans],
                                                    PERSON_SCHEMA))
            register.write_table(pa.Table.from_pylist(
                [_register_row(h) for h in chunk.humans if h.in_register and h.person_id],
                REGISTER_SCHEMA))
            done += size
            index += 1
    manifest = _manifest(generator)
    (partial / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False),
                                           encoding="utf-8")
    if out.exists():
        shutil.rmtree(out)
    partial.rename(out)
    return manifest


def _manifest(g: Generator) -> dict[str, Any]:
    records = g.counts["records"]
    return {
        "generator": "benchmarks.independent", "seed": g.seed, "persons": g.persons,
        "error_scale": g.scale, "chunk_persons": CHUNK_PERSONS,
        "rates": {code: min(rate * g.scale, errors.MAX_RATE)
                  for code, (rate, _) in errors.RATES.items()},
        "counts": {**dict(g.counts), "facilities": len(g.facilities),
                   "records_per_error_kind": dict(sorted(g.kind_counts.items())),
                   "records_per_trait": dict(sorted(g.trait_counts.items()))},
        "shares": {
            "records_per_error_kind": {k: round(v / records, 5) for k, v in
                                       sorted(g.kind_counts.items())} if records else {},
            "vaccinated_residents_with_identity_mismatch":
                round(g.mismatch_persons / g.vaccinated_residents, 4)
                if g.vaccinated_residents else 0.0,
            "vaccinated_residents_without_usable_id":
                round(g.no_usable_id / g.vaccinated_residents, 4)
                if g.vaccinated_residents else 0.0,
        },
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--error-scale", type=float, default=1.0)
    parser.add_argument("--double", action="store_true", help="double every error rate")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    scale = args.error_scale * (2.0 if args.double else 1.0)
    manifest = generate(args.persons, args.seed, args.out, scale, args.overwrite)
    print(json.dumps({"out": str(args.out), **manifest["counts"]}, ensure_ascii=False)[:2000])


if __name__ == "__main__":
    main()
