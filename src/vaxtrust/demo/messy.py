"""Synthetic messy input values, as facilities typed them, for tests and benchmarks.

Only invented people: names are drawn from common syllables, numbers are random. The mix covers
every pattern the standardiser knows (tone styles, case, stray characters, legacy encodings,
Excel damage, date formats, old phone prefixes, typed addresses and vaccine brands).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, timedelta
from functools import cache
from importlib.resources import files

import pyarrow as pa

from vaxtrust.vn.legacy import encode_tcvn3, encode_vni

SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
            "Hồ", "Ngô", "Dương", "Lý", "Tôn Thất", "Âu Dương")
MIDDLES = ("Văn", "Thị", "Hữu", "Đức", "Ngọc", "Minh", "Thanh", "Quốc", "Xuân", "Hoài", "")
GIVEN = ("Hòa", "Hoà", "Thủy", "Thuỷ", "Khỏe", "Khoẻ", "Hương", "Hướng", "Tuấn", "Nguyệt",
         "Quỳnh", "Huỳnh", "Ngoại", "Khuỷu", "Hoàng", "Loan", "Đức", "Giang", "Quý", "Gìn",
         "Thuý", "Hùynh", "Toán", "Tóan", "Oanh", "Nhung", "An", "Bình", "Yến", "Phượng")
VACCINES = ("Astra", "AZ", "AstraZeneca", "Pfizer", "pfizer-biontech", "Vero Cell", "Sinopharm",
            "Hayat", "Sputnik V", "Abdala", "Moderna", "Janssen", "Covishield", "Sinovac", "??",
            "", "Vắc xin Vero cell")
PLACES = (("Hà Nội", "Ba Đình", "Phúc Xá"), ("TP.HCM", "Quận 1", "Phường Bến Nghé"),
          ("Thành phố Hồ Chí Minh", "Q3", "P.05"), ("Hoà Bình", "Huyện Lạc Sơn", "Xã Ân Nghĩa"),
          ("tinh khanh hoa", "tp nha trang", ""), ("79", "Quận 3", "Phường 5"), ("", "", ""),
          ("Đắk Lắk", "Buôn Ma Thuột", "Tân Lợi"), ("Nowhere", "X", "Y"))


@cache
def _given_names() -> tuple[str, ...]:
    """One-syllable given names (duyet/vietnamese-namedb, MIT); some carry Ð for Đ as typed."""
    text = files("vaxtrust.vn").joinpath("data", "given_names_namedb.txt").read_text("utf-8")
    return tuple(line.strip() for line in text.splitlines() if line.strip())


def _name(rng: random.Random) -> str:
    pool = _given_names()
    middle = rng.choice(MIDDLES) if rng.random() < 0.6 else rng.choice(pool)
    given = rng.choice(GIVEN) if rng.random() < 0.3 else rng.choice(pool)
    second = rng.choice(pool) if rng.random() < 0.2 else ""
    words = [rng.choice(SURNAMES), middle, second, given]
    name = " ".join(w for w in words if w)
    roll = rng.random()
    if roll < 0.05:
        return encode_tcvn3(name).decode("cp1252", errors="replace")
    if roll < 0.09:
        return encode_vni(name).decode("cp1252", errors="replace")
    if roll < 0.11:
        return name.encode("utf-8").decode("cp1252", errors="replace")
    if roll < 0.25:
        return name.upper()
    if roll < 0.30:
        return "  " + name.lower().replace(" ", "   ") + " 1."
    if roll < 0.33:
        return name.replace("Đ", "\u00d0")
    if roll < 0.36:
        return "".join(rng.choice((c, c.upper())) for c in name)
    if roll < 0.38:
        return rng.choice(("", "   ", "?", "Nguy?n V?n A", "x", "Y Bih Niê", "H'Hen Niê"))
    return name


def _dob(rng: random.Random) -> str:
    day = date(1930, 1, 1) + timedelta(days=rng.randrange(33_000))
    d, m, y = day.day, day.month, day.year
    return rng.choice((
        f"{d:02d}/{m:02d}/{y}", f"{d}/{m}/{y % 100:02d}", f"{y}-{m:02d}-{d:02d}",
        f"{d:02d}-{m:02d}-{y}", f"{d:02d}.{m:02d}.{y}", str((day - date(1899, 12, 30)).days),
        str(y), f"{m:02d}/{y}", f"{d:02d}{m:02d}{y}", f"{m:02d}/{d:02d}/{y}", "31/02/1990",
        "", "abc", f"{y}-{m:02d}-{d:02d} 00:00:00", f"{y}-{m:02d}",
    ))


def _cccd(rng: random.Random) -> str:
    province = rng.choice(("001", "079", "038", "096", "048", "101"))
    century = rng.choice("0123")
    year = rng.randrange(0, 100) if century in "01" else rng.randrange(0, 22)
    return f"{province}{century}{year:02d}{rng.randrange(10**6):06d}"


def _id(rng: random.Random) -> str:
    number = _cccd(rng)
    return rng.choice((
        number, number.lstrip("0"), f"{int(number):.11E}".replace("E+", "E+"),
        f"{int(number):.5E}", " ".join((number[:3], number[3:6], number[6:9], number[9:])),
        f"{rng.randrange(10**8, 10**9)}", f"{rng.randrange(10**7, 10**8)}", "B1234567",
        "", "không có", number + ".0", "'" + number, number[:11] + "x", number + "1",
    ))


def _phone(rng: random.Random) -> str:
    rest = f"{rng.randrange(10**7):07d}"
    return rng.choice((
        f"09{rng.randrange(10)}{rest}", f"+84 9{rng.randrange(10)} {rest[:3]} {rest[3:]}",
        f"0162{rest}", f"162{rest}", f"9{rng.randrange(10)}{rest}", f"024{rest}1",
        "", "n/a", "0123", f"84{rng.randrange(3, 10)}{rng.randrange(10)}{rest}",
    ))


def _gender(rng: random.Random) -> str:
    return rng.choice(("Nam", "Nữ", "nam", "NỮ", "M", "F", "nu", "", "khác", "Male"))


def _vaccinated_on(rng: random.Random) -> str:
    day = date(2021, 3, 8) + timedelta(days=rng.randrange(700))
    return rng.choice((f"{day.day:02d}/{day.month:02d}/{day.year}", day.isoformat(),
                       str((day - date(1899, 12, 30)).days), ""))


FIELDS: dict[str, Callable[[random.Random], str]] = {
    "full_name": _name, "dob": _dob, "gender": _gender, "id_number": _id, "phone": _phone,
    "dose_number": lambda rng: rng.choice(("1", "2", "3", "Mũi 2", "", "x")),
    "vaccine": lambda rng: rng.choice(VACCINES),
    "lot": lambda rng: rng.choice(("A123", " ", "")),
    "vaccinated_on": _vaccinated_on,
    "facility_id": lambda rng: rng.choice(("F001", "", "F002")),
}


# Fields that belong to the person (typed again at each dose, usually the same way).
PERSON_FIELDS = ("full_name", "dob", "gender", "id_number", "phone")
RETYPED = 0.15  # share of doses where a person's field was typed afresh (possibly differently)


def messy_records(rows: int, seed: int = 7) -> pa.Table:
    """A ``raw_records`` table of ``rows`` synthetic messy dose records (all text).

    People get 1-3 doses (2.4 on average, as in Viet Nam's campaign); each dose repeats the
    person's fields as first typed, except that 15% of fields are typed again.
    """
    rng = random.Random(seed)
    columns: dict[str, list[str]] = {name: [] for name in ("record_id", *FIELDS, "province",
                                                           "district", "commune", "source",
                                                           "row_number")}
    person: dict[str, str] = {}
    place: tuple[str, str, str] = PLACES[0]
    doses_left = 0
    for i in range(rows):
        if doses_left == 0:
            person = {name: FIELDS[name](rng) for name in PERSON_FIELDS}
            place = rng.choice(PLACES)
            doses_left = rng.choice((1, 2, 2, 3, 3))
        doses_left -= 1
        columns["record_id"].append(f"R{i}")
        for name, make in FIELDS.items():
            typed_before = person.get(name)
            fresh = typed_before is None or rng.random() < RETYPED
            columns[name].append(make(rng) if fresh or typed_before is None else typed_before)
        for name, value in zip(("province", "district", "commune"), place, strict=True):
            columns[name].append(value)
        columns["source"].append("messy.csv")
        columns["row_number"].append(str(i + 1))
    return pa.table(columns)
