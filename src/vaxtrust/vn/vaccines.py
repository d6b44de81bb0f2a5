"""COVID-19 vaccine products as typed, mapped to EU DCC codes, with their dose schedules.

Codes come from the EU DCC value sets v1.15 (``data/vn_vaccines_dcc_codes.csv``, Apache-2.0).
Schedules are a documented, deliberately conservative table (product labels / WHO SAGE):

========================  ==============  ==========================  =========================
product                   primary doses   minimum days between doses  source of the minimum
========================  ==============  ==========================  =========================
AstraZeneca / Covishield  2               28                          SmPC: 4-12 weeks
Sputnik V                 2               21                          label: day 0 and 21
Vero Cell (BIBP, WIBP)    2               21                          WHO SAGE: 3-4 weeks
Hayat-Vax                 2               21                          as Vero Cell
Pfizer (Comirnaty)        2               21                          SmPC: at least 21 days
Moderna (Spikevax)        2               28                          SmPC: 28 days
Janssen                   1               56                          booster at least 2 months
Abdala                    3               14                          label: days 0, 14, 28
Covaxin                   2               28                          WHO EUL: 4 weeks
========================  ==============  ==========================  =========================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Final

from vaxtrust.vn._alphabet import FOLD_TABLE
from vaxtrust.vn._data import read_rows

NOT_ALNUM_RE: Final = re.compile("[^a-z0-9]+")
# The dose number is the first 1-2 digit number in the text ("2", "Mũi 2", "02").
DOSE_NUMBER_RE: Final = re.compile("^[^0-9]*([0-9]{1,2})([^0-9].*)?$")
_ASCII_LOWER: Final = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


@dataclass(frozen=True)
class Vaccine:
    """One product with its EU DCC codes and schedule."""

    key: str            # our stable product key
    mp: str             # medicinal product
    ma: str             # marketing authorisation holder / manufacturer
    vp: str             # vaccine or prophylaxis (specific SNOMED code)
    primary_doses: int  # doses in a complete primary course (the DCC ``sd`` of that course)
    min_interval_days: int


# Our key -> (mp in the value-set table, doses, minimum interval).
_SCHEDULES: Final = {
    "astrazeneca": ("EU/1/21/1529", 2, 28), "covishield": ("Covishield", 2, 28),
    "sputnik_v": ("Sputnik-V", 2, 21), "vero_cell_bibp": ("BBIBP-CorV", 2, 21),
    "vero_cell_wibp": ("WIBP-CorV", 2, 21), "hayat_vax": ("Hayat-Vax", 2, 21),
    "pfizer": ("EU/1/20/1528", 2, 21), "moderna": ("EU/1/20/1507", 2, 28),
    "janssen": ("EU/1/20/1525", 1, 56), "abdala": ("Abdala", 3, 14),
    "covaxin": ("Covaxin", 2, 28),
}

# (pattern over the key of the typed text, product key or None for "known not to be codable"),
# first match wins. Keys are lower-case ASCII letters and digits only ("Vero Cell" -> "verocell").
PATTERNS: Final[tuple[tuple[str, str | None], ...]] = (
    ("sinovac|coronavac", None),
    ("covishield|serum", "covishield"),
    ("astra|vaxzevria|chadox|azd1222|^az$|^az[0-9]|^aztra", "astrazeneca"),
    ("sputnik|gamaleya|gamcovid", "sputnik_v"),
    ("hayat", "hayat_vax"),
    ("wibp|wuhan", "vero_cell_wibp"),
    ("vero|sinopharm|bbibp|^sino", "vero_cell_bibp"),
    ("pfizer|pfizer|biontech|comirnaty|^bnt|^pfz|^pf$", "pfizer"),
    ("moderna|spikevax|mrna1273|^mod$", "moderna"),
    ("janssen|jansen|johnson|^jnj$|^jj$|jcovden|ad26", "janssen"),
    ("abdala|cigb", "abdala"),
    ("covaxin|bharat", "covaxin"),
)
_COMPILED: Final = tuple((re.compile(p), key) for p, key in PATTERNS)


@cache
def products() -> dict[str, Vaccine]:
    """Every known product by key."""
    by_mp = {row["mp_medicinal_product"]: row for row in read_rows("vn_vaccines_dcc_codes.csv")}
    return {
        key: Vaccine(key, mp, by_mp[mp]["ma_holder_or_manufacturer"],
                     by_mp[mp]["vp_prophylaxis_current"], doses, interval)
        for key, (mp, doses, interval) in _SCHEDULES.items()
    }


def vaccine_key(raw: str) -> str:
    """The matching key of typed text: no diacritics, lower case, letters and digits only."""
    return NOT_ALNUM_RE.sub("", raw.translate(FOLD_TABLE).translate(_ASCII_LOWER))


@dataclass(frozen=True)
class ParsedVaccine:
    vaccine: Vaccine | None
    reason: str | None = None


def parse(raw: object) -> ParsedVaccine:
    """The product typed as ``raw``, or None with ``vaccine_unknown``/``vaccine_missing``."""
    if not isinstance(raw, str):
        return ParsedVaccine(None, "vaccine_missing")
    key = vaccine_key(raw)
    if not key:
        return ParsedVaccine(None, "vaccine_missing")
    for pattern, product in _COMPILED:
        if pattern.search(key):
            return ParsedVaccine(products()[product] if product else None,
                                 None if product else "vaccine_unknown")
    return ParsedVaccine(None, "vaccine_unknown")


def parse_dose_number(raw: object) -> int | None:
    """The dose number typed as ``raw`` ("2", "Mũi 2"), or None."""
    if not isinstance(raw, str):
        return None
    match = DOSE_NUMBER_RE.fullmatch(raw)
    return int(match.group(1)) if match else None
