"""Phone numbers: the national form, the 2018 mobile prefix change, mobile vs landline.

Mobile numbers have 10 digits (``0`` + 9) since the 2018 change from 11 digits (``0162`` ->
``032`` ...); landlines have 11 digits (``02`` + area code + number) since 2017. Numbers come
back in that national form; ``+84``, ``84`` and ``0084`` prefixes and separators are removed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal

from vaxtrust.vn._data import read_rows

PhoneKind = Literal["mobile", "landline", "invalid", "missing"]

SEPARATORS: Final = " .-()/\t"    # also removed in SQL by translate() (web.lookup)
SEPARATORS_RE: Final = re.compile(f"[{re.escape(SEPARATORS)}]")
NUMBER_RE: Final = re.compile(r"\+?[0-9]+")
MOBILE_RE: Final = re.compile(r"0[35789][0-9]{8}")
LANDLINE_RE: Final = re.compile(r"02[0-9]{9}")


@cache
def old_mobile_prefixes() -> dict[str, str]:
    """11-digit-era mobile prefix (``0162``) -> 10-digit prefix (``032``)."""
    return {row["old_prefix"]: row["new_prefix"] for row in read_rows("mobile_prefix_2018.csv")}


@dataclass(frozen=True)
class ParsedPhone:
    number: str | None
    kind: PhoneKind
    repairs: tuple[str, ...] = ()
    reason: str | None = None


def national_digits(raw: str) -> tuple[str | None, bool]:
    """Digits in national form (leading 0) or None, and whether a lost leading 0 was restored."""
    text = SEPARATORS_RE.sub("", raw)
    if not NUMBER_RE.fullmatch(text):
        return None, False
    if text.startswith("+84"):
        return "0" + text[3:], False
    if text.startswith("+"):
        return None, False  # a foreign number
    if text.startswith("0084"):
        return "0" + text[4:], False
    if text.startswith("84") and len(text) in (11, 12):
        return "0" + text[2:], False
    if len(text) in (9, 10) and not text.startswith("0"):
        return "0" + text, True  # Excel dropped the leading zero
    return text, False


def parse(raw: object) -> ParsedPhone:
    """Normalise and classify one phone number; never raises."""
    if not isinstance(raw, str) or not raw.strip():
        return ParsedPhone(None, "missing", (), "phone_missing")
    digits, zero_restored = national_digits(raw)
    if digits is None:
        return ParsedPhone(None, "invalid", (), "phone_not_a_number")
    repairs: tuple[str, ...] = ("phone_leading_zero_lost",) if zero_restored else ()
    if len(digits) == 11 and digits[:4] in old_mobile_prefixes():
        return ParsedPhone(old_mobile_prefixes()[digits[:4]] + digits[4:], "mobile",
                           (*repairs, "phone_old_prefix"))
    if MOBILE_RE.fullmatch(digits):
        return ParsedPhone(digits, "mobile", repairs)
    if LANDLINE_RE.fullmatch(digits):
        return ParsedPhone(digits, "landline", repairs)
    return ParsedPhone(None, "invalid", (), "phone_invalid")


def typed_forms(number: str) -> tuple[str, ...]:
    """Every text without separators that :func:`parse` reads as ``number`` (a number it
    returned): its national digits and, for a mobile number, the 11-digit forms of before 2018,
    each with ``+84``, ``0084``, ``84`` or without its leading zero.

    A database then matches a stored raw phone against ``number`` without parsing it: the raw
    text with :data:`SEPARATORS` removed is one of these forms exactly when it parses to
    ``number`` (the citizen look-up's one statement, ``web.lookup``)."""
    digits = [number, *(old + number[len(new):] for old, new in old_mobile_prefixes().items()
                        if number.startswith(new))]
    typed = (form for d in digits for form in (d, "+84" + d[1:], "0084" + d[1:], "84" + d[1:],
                                               d[1:]))
    return tuple(dict.fromkeys(form for form in typed if parse(form).number == number))
