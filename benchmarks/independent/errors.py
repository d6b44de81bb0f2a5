"""The independent error model: how a facility's data-entry turns a person into a dose record.

Written from ../shared/domain/vn-facts.md (§1 IDs, §3 names, §6.5 phones, §2.2 the 2025 reform,
§7 the March 2022 mismatch figures) without reading the matcher. Two levels:

* the **identity entry**: what a facility typed for the person (name, date of birth, gender, ID,
  phone) when it first registered them on the platform. Later doses reuse that entry most of the
  time (the platform looks the person up) and re-type it otherwise, with fresh errors;
* the **record**: how the facility's software and habits format that entry in one dose row
  (Excel's treatment of numbers, date and gender formats, ALL CAPS, NFD, unit names, whitespace).

Every rate is a probability at ``--error-scale 1`` among the entries or records where the error is
possible, multiplied by the entering facility's sloppiness (a log-normal factor with mean 1).
"""

from __future__ import annotations

import datetime as dt
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from benchmarks.independent import vietnamese as vn

# code: (rate at scale 1, where it is possible). The README table is generated from this.
RATES: dict[str, tuple[float, str]] = {
    # names (identity entry)
    "name_middle_added": (0.012, "any name: Thị/Văn or another middle name inserted"),
    "name_middle_dropped": (0.010, "names with a middle name"),
    "name_middle_changed": (0.006, "names with a middle name: one middle name replaced"),
    "name_regional_variant": (0.12, "surnames Hoàng/Huỳnh/Vũ/Võ: the other regional form"),
    "name_word_order": (0.004, "any name: surname last, or given name first"),
    "name_wrong_tone": (0.012, "names with a tone mark: one tone replaced or dropped"),
    "name_tone_style": (0.08, "names with an open oa/oe/uy syllable: hòa <-> hoà"),
    "name_typo": (0.015, "any name: one key substituted, dropped, doubled or swapped"),
    "name_keyboard_full": (0.004, "any name: Telex or VNI keys never converted (Nguyeenx)"),
    "name_keyboard_partial": (0.007, "any name: some syllables or the tone key left (Nguyênx)"),
    "name_no_diacritics": (0.012, "any name: typed without diacritics (plus 2 % of facilities)"),
    # dates of birth (identity entry)
    "dob_placeholder_jan1": (0.008, "day-precision births: 01/01 of the year"),
    "dob_placeholder_fixed": (0.002, "day-precision births: a fixed date (01/01/1970, ...)"),
    "dob_year_only": (0.004, "day-precision births: only the year"),
    "dob_day_month_swapped": (0.012, "day <= 12 and day != month"),
    "dob_year_off_by_one": (0.008, "any birth date"),
    "dob_digit_typo": (0.008, "any birth date: one digit of dd/mm/yyyy mistyped"),
    # gender
    "gender_missing": (0.008, "anyone"),
    "gender_flipped": (0.004, "anyone"),
    # ID numbers (identity entry)
    "id_missing": (0.03, "adults (children: 5 x)"),
    "id_parent_on_child": (0.22, "children under 18: a parent's ID"),
    "id_household_member": (0.002, "adults with a spouse: the spouse's ID"),
    "id_old_cmnd": (0.15, "people who had a 9-digit CMND"),
    "id_digit_typo": (0.006, "any ID given"),
    "id_digits_transposed": (0.003, "any ID given: two neighbouring digits swapped"),
    # phones (identity entry)
    "phone_missing": (0.06, "anyone"),
    "phone_old_prefix": (0.10, "numbers whose prefix changed in 2018: the 11-digit form"),
    # record formatting
    "name_all_caps": (0.006, "any record (plus 4 % of facilities for every record)"),
    "name_nfd": (0.008, "any record with diacritics"),
    "name_eth_lookalike": (0.01, "names with Đ: typed as Ð (U+00D0)"),
    "name_extra_whitespace": (0.006, "any record"),
    "id_leading_zero_lost": (0.004, "IDs starting with 0 (plus 5.5 % of facilities: every one)"),
    "id_scientific_notation": (0.001, "IDs (plus 1.5 % of facilities: every one)"),
    "phone_leading_zero_lost": (0.004, "phones (and every phone at Excel-number facilities)"),
    "address_missing_part": (0.03, "any record: province, district or commune empty"),
    "address_2025_units": (0.02, "any record (plus 3 % of facilities): post-2025 province and ward"),
    "duplicate_entry": (0.01, "any dose: entered a second time, typed again"),
}

CHILD_ID_MISSING_FACTOR = 5.0
MAX_RATE = 0.9

FIXED_DATES = ((1970, 1, 1), (1900, 1, 1), (1980, 1, 1), (2000, 1, 1))

MIDDLE_F = ("Thị", "Thu", "Ngọc", "Thanh", "Kim", "Minh", "Phương", "Lan", "Hồng", "Mỹ")
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Quang", "Công", "Xuân", "Thanh", "Đình")
REGIONAL = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}

# 2018 conversion, new prefix -> old (vn-facts §6.5)
OLD_PREFIX = {
    "070": "0120", "079": "0121", "077": "0122", "076": "0126", "078": "0128",
    "083": "0123", "084": "0124", "085": "0125", "081": "0127", "082": "0129",
    "032": "0162", "033": "0163", "034": "0164", "035": "0165", "036": "0166", "037": "0167",
    "038": "0168", "039": "0169", "056": "0186", "058": "0188", "059": "0199",
}


@dataclass
class Person:
    """What the entry needs of a synthetic person (the truth)."""

    surname: str
    middles: list[str]
    given: str
    gender: str                      # M / F
    dob: dt.date
    dob_precision: str               # day / month / year
    person_id: str                   # 12-digit CCCD / personal ID ('' for foreigners)
    old_id: str | None               # the CMND the person had (None: never had one)
    register_old_id: str | None      # what the register knows of it
    passport: str | None = None      # foreigners
    child: bool = False
    parent_id: str | None = None     # the ID a parent would give for a child
    spouse_id: str | None = None
    phone: str = ""                  # the phone this person gives (own, or a parent's)

    @property
    def full_name(self) -> str:
        return " ".join([self.surname, *self.middles, self.given])


@dataclass
class Entry:
    """One identity as a facility typed it. dob: (y, m, d) with m/d None for year only."""

    full_name: str
    dob: tuple[int, int | None, int | None]
    gender: str
    id_number: str
    phone: str
    kinds: list[str] = field(default_factory=list)


Rate = Callable[[str], float]


def rate_function(scale: float, multiplier: float) -> Rate:
    def rate(code: str) -> float:
        return min(RATES[code][0] * scale * multiplier, MAX_RATE)
    return rate


# -- names -------------------------------------------------------------------------------------

def _middle_pool(gender: str) -> tuple[str, ...]:
    return MIDDLE_F if gender == "F" else MIDDLE_M


def _middles(person: Person, rng: random.Random, rate: Rate, kinds: list[str]) -> list[str]:
    middles = list(person.middles)
    pool = _middle_pool(person.gender)
    draw = rng.random()
    added, dropped = rate("name_middle_added"), rate("name_middle_dropped") if middles else 0.0
    changed = rate("name_middle_changed") if middles else 0.0
    if draw < added:
        common = "Thị" if person.gender == "F" else "Văn"
        if common not in middles and rng.random() < 0.6:
            middles.insert(0, common)
        else:
            extra = rng.choice([m for m in pool if m not in middles and m != common])
            middles.insert(rng.randrange(len(middles) + 1), extra)
        kinds.append("name_middle_added")
    elif draw < added + dropped:
        del middles[rng.randrange(len(middles))]
        kinds.append("name_middle_dropped")
    elif draw < added + dropped + changed:
        index = rng.randrange(len(middles))
        middles[index] = rng.choice([m for m in pool if m not in middles])
        kinds.append("name_middle_changed")
    return middles


def _syllable_edit(words: list[str], rng: random.Random, edit: Callable[[str], str]) -> bool:
    """Apply ``edit`` to one word it changes (tried in random order); True if one changed."""
    order = list(range(len(words)))
    rng.shuffle(order)
    for index in order:
        new = edit(words[index])
        if new != words[index]:
            words[index] = new
            return True
    return False


def enter_name(person: Person, rng: random.Random, rate: Rate, keyboard: str,
               kinds: list[str]) -> str:
    middles = _middles(person, rng, rate, kinds)
    surname = person.surname
    if surname in REGIONAL and rng.random() < rate("name_regional_variant"):
        surname = REGIONAL[surname]
        kinds.append("name_regional_variant")
    words = [surname, *middles, person.given]
    if len(words) > 1 and rng.random() < rate("name_word_order"):
        words = words[1:] + words[:1] if rng.random() < 0.7 else words[-1:] + words[:-1]
        kinds.append("name_word_order")
    if rng.random() < rate("name_wrong_tone"):
        tone = rng.choice(vn.TONE_MARKS + ("",))
        if _syllable_edit(words, rng, lambda w: vn.change_tone(w, tone)):
            kinds.append("name_wrong_tone")
    if rng.random() < rate("name_tone_style") and _syllable_edit(words, rng, vn.toggle_tone_style):
        kinds.append("name_tone_style")
    if rng.random() < rate("name_typo"):
        op = rng.choice(("substitute", "delete", "double", "swap"))
        position, pick = rng.randrange(8), rng.randrange(4)
        if _syllable_edit(words, rng, lambda w: vn.typo(w, op, position, pick)):
            kinds.append("name_typo")
    draw = rng.random()
    full, partial = rate("name_keyboard_full"), rate("name_keyboard_partial")
    if draw < full + partial:
        words = _keyboard(words, rng, keyboard, full=draw < full, kinds=kinds)
    elif rng.random() < rate("name_no_diacritics"):
        plain = [vn.strip_diacritics(w) for w in words]
        if plain != words:
            words = plain
            kinds.append("name_no_diacritics")
    return " ".join(words)


def _keyboard(words: list[str], rng: random.Random, scheme: str, full: bool,
              kinds: list[str]) -> list[str]:
    at_end = rng.random() < 0.75
    if full:
        typed = [vn.keyboard_residue(w, scheme, tone_at_end=at_end) for w in words]
        suffix = "full"
    else:
        typed = list(words)
        shapes_done = rng.random() < 0.5
        changeable = [i for i, w in enumerate(words)
                      if vn.keyboard_residue(w, scheme, at_end, shapes_done) != w]
        if len(changeable) > 1:
            changeable = rng.sample(changeable, rng.randrange(1, len(changeable)))
        for index in changeable:
            typed[index] = vn.keyboard_residue(words[index], scheme, at_end, shapes_done)
        suffix = "partial"
    if typed != words:
        kinds.append(f"name_{scheme}_{suffix}")
    return typed


# -- dates of birth ----------------------------------------------------------------------------

def enter_dob(person: Person, rng: random.Random, rate: Rate, kinds: list[str],
              ) -> tuple[int, int | None, int | None]:
    born = person.dob
    year: int = born.year
    month: int | None = born.month
    day: int | None = born.day
    if person.dob_precision == "year":
        month, day = (1, 1) if rng.random() < 0.5 else (None, None)
    elif person.dob_precision == "month":
        day = 1
    else:
        draw = rng.random()
        jan1, fixed, only = (rate("dob_placeholder_jan1"), rate("dob_placeholder_fixed"),
                             rate("dob_year_only"))
        if draw < jan1 and (month, day) != (1, 1):
            month, day = 1, 1
            kinds.append("dob_placeholder_jan1")
        elif jan1 <= draw < jan1 + fixed:
            year, month, day = rng.choice(FIXED_DATES)
            kinds.append("dob_placeholder_fixed")
        elif jan1 + fixed <= draw < jan1 + fixed + only:
            month, day = None, None
            kinds.append("dob_year_only")
        elif (day is not None and month is not None and day <= 12 and day != month
              and rng.random() < rate("dob_day_month_swapped")):
            month, day = day, month
            kinds.append("dob_day_month_swapped")
    if rng.random() < rate("dob_year_off_by_one"):
        year += rng.choice((-1, 1))
        kinds.append("dob_year_off_by_one")
    if rng.random() < rate("dob_digit_typo"):
        year, month, day = _digit_typo(year, month, day, rng)
        kinds.append("dob_digit_typo")
        if not plausible_date(year, month, day):
            kinds.append("dob_impossible")
    return year, month, day


def _digit_typo(year: int, month: int | None, day: int | None, rng: random.Random,
                ) -> tuple[int, int | None, int | None]:
    digits = list(f"{day or 0:02d}{month or 0:02d}{year:04d}")
    positions = [i for i in range(8) if (i >= 4 or (month is not None and day is not None))]
    index = rng.choice(positions)
    digits[index] = rng.choice([d for d in "0123456789" if d != digits[index]])
    text = "".join(digits)
    new_year = int(text[4:])
    if month is None or day is None:
        return new_year, month, day
    return new_year, int(text[2:4]), int(text[:2])


def plausible_date(year: int, month: int | None, day: int | None) -> bool:
    if not 1900 <= year <= 2022:
        return False
    if month is None or day is None:
        return True
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


# -- IDs and phones ----------------------------------------------------------------------------

def enter_id(person: Person, rng: random.Random, rate: Rate, kinds: list[str]) -> str:
    if person.passport is not None:
        return person.passport
    missing = rate("id_missing") * (CHILD_ID_MISSING_FACTOR if person.child else 1.0)
    number = person.person_id
    if person.child and person.parent_id and rng.random() < rate("id_parent_on_child"):
        number = person.parent_id
        kinds.append("id_parent_on_child")
    elif rng.random() < min(missing, MAX_RATE):
        kinds.append("id_missing")
        return ""
    elif person.spouse_id and rng.random() < rate("id_household_member"):
        number = person.spouse_id
        kinds.append("id_household_member")
    elif person.old_id and rng.random() < rate("id_old_cmnd"):
        number = person.old_id
        kinds.append("id_old_cmnd")
        if person.register_old_id is None:
            kinds.append("id_cmnd_not_in_register")
    if rng.random() < rate("id_digit_typo"):
        digits = list(number)
        index = rng.randrange(len(digits))
        digits[index] = rng.choice([d for d in "0123456789" if d != digits[index]])
        number = "".join(digits)
        kinds.append("id_digit_typo")
    if rng.random() < rate("id_digits_transposed"):
        index = rng.randrange(len(number) - 1)
        if number[index] != number[index + 1]:
            number = number[:index] + number[index + 1] + number[index] + number[index + 2:]
            kinds.append("id_digits_transposed")
    return number


def enter_phone(person: Person, rng: random.Random, rate: Rate, kinds: list[str]) -> str:
    phone = person.phone
    if not phone:
        return ""
    if rng.random() < rate("phone_missing"):
        kinds.append("phone_missing")
        return ""
    old = OLD_PREFIX.get(phone[:3])
    if old and rng.random() < rate("phone_old_prefix"):
        kinds.append("phone_old_prefix")
        return old + phone[3:]
    return phone


def enter_identity(person: Person, rng: random.Random, rate: Rate, keyboard: str) -> Entry:
    """What one facility typed for ``person`` (errors drawn at that facility's rates)."""
    kinds: list[str] = []
    name = enter_name(person, rng, rate, keyboard, kinds) if not person.passport \
        else person.full_name
    dob = enter_dob(person, rng, rate, kinds)
    gender = person.gender
    draw = rng.random()
    if draw < rate("gender_missing"):
        gender = ""
        kinds.append("gender_missing")
    elif draw < rate("gender_missing") + rate("gender_flipped"):
        gender = "F" if gender == "M" else "M"
        kinds.append("gender_flipped")
    number = enter_id(person, rng, rate, kinds)
    phone = enter_phone(person, rng, rate, kinds)
    return Entry(name, dob, gender, number, phone, kinds)


# -- record formatting -------------------------------------------------------------------------

def format_name(name: str, rng: random.Random, rate: Rate, all_caps: bool,
                kinds: list[str]) -> str:
    if all_caps or rng.random() < rate("name_all_caps"):
        upper = name.upper()
        if upper != name:
            name = upper
            kinds.append("name_all_caps")
    if "Đ" in name and rng.random() < rate("name_eth_lookalike"):
        name = name.replace("Đ", "\u00d0")
        kinds.append("name_eth_lookalike")
    if rng.random() < rate("name_nfd"):
        decomposed = unicodedata.normalize("NFD", name)
        if decomposed != name:
            name = decomposed
            kinds.append("name_nfd")
    if rng.random() < rate("name_extra_whitespace"):
        name = rng.choice((name.replace(" ", "  ", 1), " " + name, name + " "))
        kinds.append("name_extra_whitespace")
    return name


def excel_number(digits: str, scientific: bool) -> str:
    """What Excel makes of a digit string typed into a General cell: 001090590389 -> 1090590389."""
    stripped = digits.lstrip("0") or "0"
    if not scientific:
        return stripped
    mantissa = f"{int(stripped):.5E}"            # 1.09059E+09
    head, exponent = mantissa.split("E")
    head = head.rstrip("0").rstrip(".")
    return f"{head}E{exponent[0]}{int(exponent[1:]):02d}"
