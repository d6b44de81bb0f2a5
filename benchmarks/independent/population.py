"""A synthetic Viet Nam: households, people, the register's view of them, and their doses.

Only synthetic people. Names come from the MIT-licensed duyet/vietnamese-namedb lists
(copied in ``data/``) and the surname shares of vn-facts §3.2; administrative units are the
pre-2025 GSO list shipped with vaxtrust (``vaxtrust/vn/data``, data only).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import itertools
import random
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

DATA = Path(__file__).parent / "data"

# vn-facts §3.2 (national estimates; Hoàng/Huỳnh and Vũ/Võ split north/south below)
SURNAMES = {
    "Nguyễn": 38.0, "Trần": 11.0, "Lê": 9.5, "Phạm": 7.1, "Hoàng": 2.6, "Huỳnh": 2.5,
    "Phan": 4.5, "Vũ": 2.0, "Võ": 1.9, "Đặng": 2.1, "Bùi": 2.0, "Đỗ": 1.45, "Hồ": 1.3, "Ngô": 1.3,
    "Dương": 1.0, "Lý": 0.5, "Đinh": 0.6, "Đào": 0.5, "Cao": 0.4, "Lâm": 0.4, "Mai": 0.4,
    "Trương": 0.5, "Lương": 0.4, "Hà": 0.5, "Tạ": 0.2, "Tô": 0.2, "Trịnh": 0.4, "Chu": 0.2,
    "Thái": 0.2, "Hứa": 0.1, "La": 0.1, "Quách": 0.1, "Kiều": 0.1, "Thân": 0.1, "Triệu": 0.2,
    "Lò": 0.15, "Lục": 0.05, "Vương": 0.15, "Nông": 0.2, "Tăng": 0.1, "Mạc": 0.05, "Âu": 0.05,
    "Diệp": 0.05, "Tống": 0.1, "Lưu": 0.3, "Khổng": 0.03, "Doãn": 0.03, "Giáp": 0.05,
}
NORTH_FORMS, SOUTH_FORMS = ("Hoàng", "Vũ"), ("Huỳnh", "Võ")
SOUTH_FROM_GSO = 46  # Huế and southwards: Huỳnh/Võ more common than Hoàng/Vũ

OLD_MIDDLE_F = ("Ngọc", "Thu", "Thanh", "Kim", "Bích", "Hồng", "Mỹ", "Phương", "Lan", "Diệu")
OLD_MIDDLE_M = ("Hữu", "Minh", "Quốc", "Đức", "Quang", "Công", "Xuân", "Thanh", "Ngọc", "Đình")

# Foreigners vaccinated in Viet Nam use passports (vn-facts §1.3)
FOREIGN = {
    "KR": (("KIM", "LEE", "PARK", "CHOI"), ("MIN JUN", "SEO YEON", "JI HO", "HA EUN")),
    "CN": (("WANG", "LI", "ZHANG", "LIU"), ("WEI", "FANG", "JING", "LEI")),
    "JP": (("SATO", "SUZUKI", "TAKAHASHI"), ("HARUTO", "YUI", "SOTA")),
    "US": (("SMITH", "JOHNSON", "BROWN"), ("JAMES", "MARY", "ROBERT")),
    "FR": (("MARTIN", "BERNARD", "DUBOIS"), ("LUCAS", "CHLOE", "HUGO")),
}

NEW_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",  # Viettel
    "081", "082", "083", "084", "085", "088", "091", "094",                           # VinaPhone
    "070", "076", "077", "078", "079", "089", "090", "093",                           # MobiFone
    "056", "058", "092", "059", "099",
)


@dataclass(frozen=True)
class Commune:
    province_code: str
    province: str
    district_code: str
    district: str
    commune_code: str
    commune: str


@dataclass
class Human:
    """A synthetic person as the truth knows them."""

    key: str
    household: str
    role: str
    surname: str
    middles: list[str]
    given: str
    gender: str
    dob: dt.date
    dob_precision: str = "day"
    commune: Commune | None = None
    birth_province: str = ""
    person_id: str = ""
    old_id: str | None = None
    register_old_id: str | None = None
    register_phone: str | None = None
    phone: str = ""
    in_register: bool = True
    nationality: str = "VN"
    passport: str | None = None
    twin_of: str | None = None
    namesake_of: str | None = None
    temporary_commune: Commune | None = None
    parent: Human | None = None
    spouse: Human | None = None
    head: Human | None = None
    traits: list[str] = field(default_factory=list)

    @property
    def full_name(self) -> str:
        return " ".join([self.surname, *self.middles, self.given])

    @property
    def register_dob(self) -> str:
        if self.dob_precision == "year":
            return f"{self.dob.year:04d}"
        if self.dob_precision == "month":
            return f"{self.dob.year:04d}-{self.dob.month:02d}"
        return self.dob.isoformat()


def _lines(name: str) -> list[str]:
    return [line.strip() for line in (DATA / name).read_text(encoding="utf-8").splitlines()
            if line.strip()]


def _zipf(items: list[str], rng: random.Random) -> tuple[list[str], list[float]]:
    """Items in a fixed shuffled order with cumulative Zipf-like weights (a few very common)."""
    order = list(items)
    rng.shuffle(order)
    weights = [1.0 / (rank + 8) for rank in range(len(order))]
    return order, list(itertools.accumulate(weights))


@dataclass(frozen=True)
class NameBook:
    given_m: tuple[list[str], list[float]]
    given_f: tuple[list[str], list[float]]
    pairs_m: tuple[list[str], list[float]]
    pairs_f: tuple[list[str], list[float]]
    surnames_north: tuple[list[str], list[float]]
    surnames_south: tuple[list[str], list[float]]


@functools.cache
def name_book() -> NameBook:
    fixed = random.Random(20211021)  # fixed: the name distribution does not depend on the seed

    def surnames(south: bool) -> tuple[list[str], list[float]]:
        shares = dict(SURNAMES)
        for north, southern in zip(NORTH_FORMS, SOUTH_FORMS, strict=True):
            total = shares[north] + shares[southern]
            shares[north], shares[southern] = (total * 0.25, total * 0.75) if south \
                else (total * 0.8, total * 0.2)
        names = list(shares)
        return names, list(itertools.accumulate(shares[n] for n in names))

    return NameBook(
        given_m=_zipf(_lines("namedb_boy_one_word.txt"), fixed),
        given_f=_zipf(_lines("namedb_girl_one_word.txt"), fixed),
        pairs_m=_zipf([p for p in _lines("namedb_boy.txt") if len(p.split()) == 2], fixed),
        pairs_f=_zipf([p for p in _lines("namedb_girl.txt") if len(p.split()) == 2], fixed),
        surnames_north=surnames(False),
        surnames_south=surnames(True),
    )


def _pick(rng: random.Random, table: tuple[list[str], list[float]]) -> str:
    return rng.choices(table[0], cum_weights=table[1])[0]


def surname(rng: random.Random, province_code: str) -> str:
    book = name_book()
    south = int(province_code) >= SOUTH_FROM_GSO
    return _pick(rng, book.surnames_south if south else book.surnames_north)


def middle_and_given(rng: random.Random, gender: str, year: int) -> tuple[list[str], str]:
    """Tên đệm and tên by gender and cohort (vn-facts §3.3: Thị/Văn dominate older cohorts)."""
    book = name_book()
    female = gender == "F"
    given = _pick(rng, book.given_f if female else book.given_m)
    common = "Thị" if female else "Văn"
    draw = rng.random()
    if year < 1980:
        if draw < (0.85 if female else 0.62):
            middles = [common]
            if rng.random() < 0.15:
                middles.append(rng.choice(OLD_MIDDLE_F if female else OLD_MIDDLE_M))
        elif draw < 0.99 or female:
            middles = [rng.choice(OLD_MIDDLE_F if female else OLD_MIDDLE_M)]
        else:
            middles = []
        return middles, given
    pair = _pick(rng, book.pairs_f if female else book.pairs_m).split()
    if draw < (0.5 if female else 0.62):
        return pair[:1], pair[1]
    if draw < 0.85:
        return [common], given
    if draw < 0.97:
        return [common, pair[0]], pair[1]
    return [], given  # no middle name (rare, mostly men)


@functools.cache
def communes() -> list[Commune]:
    path = resources.files("vaxtrust.vn") / "data" / "admin_units_pre2025.csv"
    with path.open(encoding="utf-8") as handle:
        return [Commune(r["province_code"], r["province"], r["district_code"], r["district"],
                        r["commune_code"], r["commune"]) for r in csv.DictReader(handle)]


@functools.cache
def commune_weights() -> list[float]:
    fixed = random.Random(20220504)
    return list(itertools.accumulate(fixed.lognormvariate(0, 0.8) for _ in communes()))


@functools.cache
def units_2025() -> tuple[dict[str, str], dict[str, list[str]]]:
    """Old province code -> new province name; old commune code -> new ward name(s)."""
    base = resources.files("vaxtrust.vn") / "data"
    with (base / "province_63_to_34_2025.csv").open(encoding="utf-8") as handle:
        provinces = {r["old_code_gso"]: r["new_province"] for r in csv.DictReader(handle)}
    wards: dict[str, list[str]] = {}
    with (base / "commune_2025.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            wards.setdefault(row["commune_code"], []).append(row["new_commune"])
    return provinces, wards


def random_phone(rng: random.Random) -> str:
    return rng.choice(NEW_PREFIXES) + f"{rng.randrange(10**7):07d}"


def birth_date(rng: random.Random, year: int) -> dt.date:
    return dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
