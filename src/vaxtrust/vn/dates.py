"""Dates as facilities typed them: parse with an explicit precision, never inventing a day.

Accepted forms (day first, as Vietnamese write dates): ``dd/mm/yyyy``, ``d/m/yy``, ``dd-mm-yyyy``,
``dd.mm.yyyy``, ``ddmmyyyy``, ``yyyy-mm-dd`` (optionally with a time), ``yyyymmdd``, ``mm/yyyy``, ``yyyy-mm``,
``yyyy``, and Excel serial day numbers (5 digits, 1927-2028). Two-digit years pivot at
:data:`TWO_DIGIT_YEAR_PIVOT`: ``yy <= 26`` is 20yy, else 19yy.

:func:`parse` never raises; anything else is ``invalid`` with a reason code.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Final, Literal

Precision = Literal["day", "month", "year"]

EARLIEST_YEAR: Final = 1900
LATEST_YEAR: Final = 2026
TWO_DIGIT_YEAR_PIVOT: Final = 26
EXCEL_EPOCH: Final = date(1899, 12, 30)
EXCEL_SERIAL_MIN: Final = 10_000   # 1927-05-18; smaller numbers are read as years or garbage
EXCEL_SERIAL_MAX: Final = 47_000   # 2028-09-05

STRIP_CHARS: Final = " \t\n\r"
_SEP = r"[/.\-]"
DAY_FIRST_RE: Final = re.compile(rf"([0-9]{{1,2}}){_SEP}([0-9]{{1,2}}){_SEP}([0-9]{{4}}|[0-9]{{2}})")
ISO_RE: Final = re.compile(rf"([0-9]{{4}}){_SEP}([0-9]{{1,2}}){_SEP}([0-9]{{1,2}})(?:[ T][0-9:.]*)?")
YEAR_MONTH_RE: Final = re.compile(rf"([0-9]{{4}}){_SEP}([0-9]{{1,2}})")
MONTH_YEAR_RE: Final = re.compile(rf"([0-9]{{1,2}}){_SEP}([0-9]{{4}})")
YEAR_RE: Final = re.compile(r"[0-9]{4}")
EIGHT_DIGITS_RE: Final = re.compile(r"[0-9]{8}")
EXCEL_SERIAL_RE: Final = re.compile(r"([0-9]{5})(?:\.0+)?")


@dataclass(frozen=True)
class ParsedDate:
    """A parsed date: the parts that were given, their precision, or why it is unusable.

    ``value`` is the date when known to the day, else the first day of the known month or year
    (a sortable stand-in; ``day``/``month`` stay None so no day is ever invented).
    """

    value: date | None
    precision: Precision | None
    year: int | None = None
    month: int | None = None
    day: int | None = None
    reason: str | None = None
    repairs: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return self.precision is not None

    @property
    def typed_digits(self) -> str | None:
        """The digits (yyyymmdd) of a date typed in full that is no date (01/08/9968), so that a
        one-digit slip of a known date can be seen; None for a usable or partial date."""
        if self.valid or self.year is None or self.month is None or self.day is None:
            return None
        return f"{self.year:04d}{self.month:02d}{self.day:02d}"


def _invalid(reason: str, year: int | None = None, month: int | None = None,
             day: int | None = None) -> ParsedDate:
    return ParsedDate(None, None, year, month, day, reason)


def make(year: int, month: int | None = None, day: int | None = None,
         repairs: tuple[str, ...] = ()) -> ParsedDate:
    """A checked date from parts; impossible combinations come back invalid."""
    if not EARLIEST_YEAR <= year <= LATEST_YEAR:
        return _invalid("date_out_of_range", year, month, day)
    if month is None:
        return ParsedDate(date(year, 1, 1), "year", year, repairs=repairs)
    if not 1 <= month <= 12:
        return _invalid("date_impossible", year, month, day)
    if day is None:
        return ParsedDate(date(year, month, 1), "month", year, month, repairs=repairs)
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return _invalid("date_impossible", year, month, day)
    return ParsedDate(date(year, month, day), "day", year, month, day, repairs=repairs)


def _full_year(text: str) -> tuple[int, tuple[str, ...]]:
    if len(text) == 4:
        return int(text), ()
    yy = int(text)
    return (2000 + yy if yy <= TWO_DIGIT_YEAR_PIVOT else 1900 + yy), ("date_two_digit_year",)


def parse(raw: object) -> ParsedDate:
    """Parse one date as typed (see module doc); never raises."""
    if not isinstance(raw, str):
        return _invalid("date_missing")
    text = raw.strip(STRIP_CHARS)
    if not text:
        return _invalid("date_missing")
    if match := DAY_FIRST_RE.fullmatch(text):
        year, repairs = _full_year(match.group(3))
        return make(year, int(match.group(2)), int(match.group(1)), repairs)
    if match := ISO_RE.fullmatch(text):
        return make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    if match := YEAR_MONTH_RE.fullmatch(text):
        return make(int(match.group(1)), int(match.group(2)))
    if match := MONTH_YEAR_RE.fullmatch(text):
        return make(int(match.group(2)), int(match.group(1)))
    if YEAR_RE.fullmatch(text):
        return make(int(text))
    if EIGHT_DIGITS_RE.fullmatch(text):
        return _parse_eight_digits(text)
    if match := EXCEL_SERIAL_RE.fullmatch(text):
        serial = int(match.group(1))
        if EXCEL_SERIAL_MIN <= serial <= EXCEL_SERIAL_MAX:
            day = EXCEL_EPOCH + timedelta(days=serial)
            return make(day.year, day.month, day.day, ("date_excel_serial",))
        return _invalid("date_out_of_range")
    return _invalid("date_unparseable")


def _parse_eight_digits(text: str) -> ParsedDate:
    """``ddmmyyyy`` (the usual form) or, when that is impossible, ``yyyymmdd``."""
    day_first = make(int(text[4:]), int(text[2:4]), int(text[:2]), ("date_no_separator",))
    if day_first.valid:
        return day_first
    year_first = make(int(text[:4]), int(text[4:6]), int(text[6:]), ("date_no_separator",))
    return year_first if year_first.valid else day_first


@dataclass(frozen=True)
class DateAlternative:
    """A date the typist may have meant, with the reason code of the presumed error."""

    date: ParsedDate
    reason: Literal["dob_day_month_swapped", "dob_digit_mistyped"]


def alternatives(parsed: ParsedDate) -> list[DateAlternative]:
    """Plausible intended dates for a date of birth (for the matcher, never for output).

    Day and month swapped, and each single mistyped digit of day, month or year, keeping the
    given precision (a month-only date never gains a day). Works on impossible dates too
    (``13/05`` typed as ``05/13``).
    """
    if parsed.year is None:
        return []
    found: dict[ParsedDate, DateAlternative] = {}
    year, month, day = parsed.year, parsed.month, parsed.day
    if month is not None and day is not None and month != day:
        swapped = make(year, day, month)
        if swapped.valid:
            found[swapped] = DateAlternative(swapped, "dob_day_month_swapped")
    for candidate in _one_digit_variants(year, month, day):
        if candidate.valid and candidate != replace(parsed, repairs=()):
            found.setdefault(candidate, DateAlternative(candidate, "dob_digit_mistyped"))
    return list(found.values())


def _one_digit_variants(year: int, month: int | None, day: int | None) -> list[ParsedDate]:
    variants = [make(y, month, day) for y in _digit_changes(year, 4)]
    if month is not None:
        variants += [make(year, m, day) for m in _digit_changes(month, 2)]
    if day is not None:
        variants += [make(year, month, d) for d in _digit_changes(day, 2)]
    return variants


def _digit_changes(value: int, width: int) -> list[int]:
    text = f"{value:0{width}d}"
    return [int(text[:i] + digit + text[i + 1:])
            for i in range(len(text)) for digit in "0123456789" if digit != text[i]]
