"""Personal ID numbers: CCCD (12 digits), old CMND (9 digits), passports, and Excel damage.

A CCCD is ``PPP G YY RRRRRR``: birth-registration province (or country) code, a century+gender
digit (0/1 = 1900s male/female, 2/3 = 2000s ...), the last two digits of the birth year and six
random digits (Nghị định 137/2015, Thông tư 59/2021/TT-BCA). There is no check digit, so a typo
can only be caught by structure and by comparing the decoded year and gender with the record.

:func:`parse` never raises: garbage comes back as ``invalid`` with a reason code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Final, Literal

from vaxtrust.vn._data import cccd_country_names, cccd_province_names

IdKind = Literal["cccd", "cmnd", "passport", "invalid", "missing"]

# Latest birth year a CCCD can encode for our data (the register snapshot is from the 2020s).
LATEST_BIRTH_YEAR: Final = 2026
# Century+gender digits in use: 0/1 (1900s) and 2/3 (2000s).
CENTURY_DIGITS: Final = "0123"

SCIENTIFIC_RE: Final = re.compile(r"([0-9])(?:\.([0-9]+))?E\+?([0-9]{1,2})")
EXCEL_DECIMAL_RE: Final = re.compile(r"([0-9]+)\.0+")
SEPARATED_RE: Final = re.compile(r"[0-9][0-9 .,_/\-]*[0-9]")
SEPARATORS_RE: Final = re.compile(r"[ .,_/\-]")
# Passport numbers: 6-9 letters and digits with at least one of each (VN: one letter + 7 digits).
PASSPORT_RE: Final = re.compile(r"[A-Z0-9]{6,9}")
DIGITS_RE: Final = re.compile(r"[0-9]+")
# Characters dropped before parsing: whitespace, Excel's text apostrophe, quotes.
INVISIBLE_CHARS: Final = " \t\n\r\f\v\u00a0\u200b'\"`"
_INVISIBLE_RE: Final = re.compile(f"[{re.escape(INVISIBLE_CHARS)}]+")
_ASCII_UPPER: Final = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True)
class ParsedId:
    """Result of :func:`parse`. ``clean`` keeps all-digit input even when invalid (for typo repair)."""

    kind: IdKind
    clean: str | None
    repairs: tuple[str, ...] = ()
    reason: str | None = None


@cache   # read for every 12-digit ID parsed: a set built once, not per ID
def known_birth_codes() -> frozenset[str]:
    return frozenset(cccd_province_names()) | frozenset(cccd_country_names())


def cccd_structure_problem(digits: str) -> str | None:
    """The reason a 12-digit string cannot be a CCCD, or None if its structure is valid."""
    if len(digits) != 12 or not DIGITS_RE.fullmatch(digits):
        return "id_wrong_length"
    if digits[:3] not in known_birth_codes():
        return "id_unknown_province_code"
    if digits[3] not in CENTURY_DIGITS:
        return "id_impossible_century"
    if _birth_year(digits) > LATEST_BIRTH_YEAR:
        return "id_impossible_birth_year"
    return None


def _birth_year(digits: str) -> int:
    return (19 + int(digits[3]) // 2) * 100 + int(digits[4:6])


def parse(raw: object) -> ParsedId:
    """Classify and repair one ID number as typed (see module doc); never raises.

    >>> parse("1.01234567891E+11")
    ParsedId(kind='cccd', clean='001234567891', repairs=('id_scientific_notation', 'id_leading_zero_lost'), reason=None)
    """
    if not isinstance(raw, str):
        return ParsedId("missing", None, (), "id_missing")
    text = _INVISIBLE_RE.sub("", raw).translate(_ASCII_UPPER)
    if not text:
        return ParsedId("missing", None, (), "id_missing")
    repairs: list[str] = []
    digits: str | None = None
    if DIGITS_RE.fullmatch(text):
        digits = text
    elif match := SCIENTIFIC_RE.fullmatch(text):
        mantissa = match.group(1) + (match.group(2) or "")
        if len(mantissa) != int(match.group(3)) + 1:
            return ParsedId("invalid", None, ("id_scientific_notation",),
                            "id_scientific_notation_lossy")
        digits = mantissa
        repairs.append("id_scientific_notation")
    elif match := EXCEL_DECIMAL_RE.fullmatch(text):
        digits = match.group(1)
        repairs.append("id_excel_decimal")
    elif SEPARATED_RE.fullmatch(text):
        digits = SEPARATORS_RE.sub("", text)
        repairs.append("id_separators_removed")
    if digits is None:
        if PASSPORT_RE.fullmatch(text) and not text.isalpha() and re.search("[A-Z]", text):
            return ParsedId("passport", text)
        return ParsedId("invalid", None, (), "id_not_a_number")
    return _classify_digits(digits, repairs)


def _classify_digits(digits: str, repairs: list[str]) -> ParsedId:
    n = len(digits)
    if n == 12:
        problem = cccd_structure_problem(digits)
        kind: IdKind = "invalid" if problem else "cccd"
        return ParsedId(kind, digits, tuple(repairs), problem)
    if n in (10, 11):
        padded = digits.zfill(12)
        if cccd_structure_problem(padded) is None:
            return ParsedId("cccd", padded, (*repairs, "id_leading_zero_lost"))
        return ParsedId("invalid", digits, tuple(repairs), "id_wrong_length")
    if n == 9:
        return ParsedId("cmnd", digits, tuple(repairs))
    if n == 8:
        return ParsedId("cmnd", "0" + digits, (*repairs, "id_leading_zero_lost"))
    return ParsedId("invalid", digits, tuple(repairs), "id_wrong_length")


@dataclass(frozen=True)
class CccdInfo:
    """What a CCCD number says about its holder."""

    birth_code: str
    birth_place: str
    born_abroad: bool
    gender: Literal["M", "F"]
    birth_year: int


def decode_cccd(number: str) -> CccdInfo | None:
    """Decode a structurally valid CCCD, or None when it is not one."""
    if cccd_structure_problem(number) is not None:
        return None
    code = number[:3]
    provinces = cccd_province_names()
    place = provinces.get(code) or cccd_country_names()[code]
    gender: Literal["M", "F"] = "F" if int(number[3]) % 2 else "M"
    return CccdInfo(code, place, code not in provinces, gender, _birth_year(number))


def check_against(number: str, *, dob: date | int | None = None,
                  gender: str | None = None) -> tuple[str, ...]:
    """Reason codes where a CCCD contradicts a date (or year) of birth and a gender (M/F)."""
    info = decode_cccd(number)
    if info is None:
        return ()
    problems = []
    year = dob.year if isinstance(dob, date) else dob
    if year is not None and year != info.birth_year:
        problems.append("id_birth_year_mismatch")
    if gender in ("M", "F") and gender != info.gender:
        problems.append("id_gender_mismatch")
    return tuple(problems)


@dataclass(frozen=True)
class IdCorrection:
    number: str
    reason: Literal["id_digit_mistyped", "id_digits_swapped"]


def corrections(number: str, *, dob: date | int | None = None,
                gender: str | None = None) -> list[IdCorrection]:
    """Structurally valid CCCDs one keystroke away from ``number`` (one digit changed, or two
    adjacent digits swapped), consistent with ``dob``/``gender`` when those are given."""
    if len(number) != 12 or not DIGITS_RE.fullmatch(number):
        return []
    found: dict[str, IdCorrection] = {}
    for i in range(12):
        for digit in "0123456789":
            if digit != number[i]:
                candidate = number[:i] + digit + number[i + 1:]
                found.setdefault(candidate, IdCorrection(candidate, "id_digit_mistyped"))
    for i in range(11):
        if number[i] != number[i + 1]:
            candidate = number[:i] + number[i + 1] + number[i] + number[i + 2:]
            found[candidate] = IdCorrection(candidate, "id_digits_swapped")
    return [c for c in found.values()
            if cccd_structure_problem(c.number) is None
            and not check_against(c.number, dob=dob, gender=gender)]
