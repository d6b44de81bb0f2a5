"""Vaccination histories: which doses of which vaccine each person got, when and where.

Schedules follow the 2021-2022 campaign (vn-facts §4-§5): AstraZeneca from 8 March 2021, the mass
campaign in the second half of 2021, 12-17 year olds from October 2021 (Pfizer, Moderna), 5-11 year
olds from April 2022; primary intervals per vaccine, boosters from late 2021, a second booster
from May 2022. Nothing after 31 December 2022.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

from vaxtrust.demo import reference as ref

CAMPAIGN_START = np.datetime64("2021-03-08")
CAMPAIGN_END = np.datetime64("2022-12-31")
FIRST_BOOSTER = np.datetime64("2021-11-20")
SECOND_BOOSTER = np.datetime64("2022-05-01")
MAX_DOSES = 4
_V = ref.VACCINE_INDEX


@dataclass
class Facilities:
    """Vaccination facilities: one station per commune, one district health centre per district."""

    facility_id: np.ndarray        # object
    commune_station: np.ndarray    # commune index → facility row
    district_centre: np.ndarray    # district index → facility row


@cache
def facilities() -> Facilities:
    admin = ref.admin_units()
    stations = np.array([f"TYT{code}" for code in admin.commune_code], dtype=object)
    centres = np.array([f"TTYT{code}" for code in admin.district_codes], dtype=object)
    return Facilities(
        facility_id=np.concatenate([stations, centres]),
        commune_station=np.arange(len(stations)),
        district_centre=len(stations) + np.arange(len(centres)),
    )


@dataclass
class Doses:
    person: np.ndarray       # row of the person in the chunk
    dose_number: np.ndarray  # int8, 1-based
    vaccine: np.ndarray      # int8 index into reference.VACCINES
    date: np.ndarray         # datetime64[D]
    facility: np.ndarray     # int32 row in facilities()
    lot: np.ndarray          # int32 lot serial of the vaccine

    def __len__(self) -> int:
        return len(self.person)


def _pick(rng: np.random.Generator, n: int, table: dict[str, float]) -> np.ndarray:
    keys = np.array([_V[k] for k in table], dtype=np.int8)
    probs = np.array(list(table.values()))
    return keys[rng.choice(len(keys), size=n, p=probs / probs.sum())]


def _days(rng: np.random.Generator, low: np.ndarray | int, high: np.ndarray | int, n: int) -> np.ndarray:
    return (low + rng.random(n) * (np.asarray(high) - low + 1)).astype("timedelta64[D]")


def schedule(rng: np.random.Generator, birth_year: np.ndarray, commune: np.ndarray) -> Doses:
    """Every dose of every person (rows ordered by person, then dose number)."""
    n = len(birth_year)
    adult, teen = birth_year <= 2003, (birth_year >= 2004) & (birth_year <= 2009)
    child = (birth_year >= 2010) & (birth_year <= 2016)
    u = rng.random(n)
    n_doses = np.zeros(n, dtype=np.int8)
    n_doses[adult] = np.searchsorted(np.cumsum([0.04, 0.05, 0.36, 0.43, 0.12]), u[adult], side="right")
    n_doses[teen] = np.searchsorted(np.cumsum([0.05, 0.05, 0.55, 0.35]), u[teen], side="right")
    n_doses[child] = np.searchsorted(np.cumsum([0.35, 0.10, 0.55]), u[child], side="right")

    first = np.full(n, CAMPAIGN_START)
    early = rng.random(n) < 0.07
    first[adult] = np.where(
        early[adult],
        CAMPAIGN_START + _days(rng, 0, 114, n)[adult],
        np.datetime64("2021-07-01")
        + np.minimum(rng.exponential(75, n), 360).astype("timedelta64[D]")[adult],
    )
    first[teen] = np.datetime64("2021-10-15") + _days(rng, 0, 130, n)[teen]
    first[child] = np.datetime64("2022-04-14") + _days(rng, 0, 200, n)[child]

    primary = _pick(rng, n, {"astrazeneca": 0.3, "verocell": 0.33, "pfizer": 0.2, "moderna": 0.08,
                             "sputnik": 0.02, "hayatvax": 0.02, "abdala": 0.03, "janssen": 0.02})
    primary[adult & early] = _pick(rng, n, {"astrazeneca": 0.9, "verocell": 0.05, "sputnik": 0.05})[adult & early]
    primary[teen] = _pick(rng, n, {"pfizer": 0.9, "moderna": 0.1})[teen]
    primary[child] = _pick(rng, n, {"pfizer": 0.8, "moderna": 0.2})[child]
    primary_doses = np.array([v.primary_doses for v in ref.VACCINES])[primary]
    interval_low = np.array([v.primary_interval[0] for v in ref.VACCINES])[primary]
    interval_high = np.array([v.primary_interval[1] for v in ref.VACCINES])[primary]

    dates = np.empty((n, MAX_DOSES), dtype="datetime64[D]")
    vaccines = np.empty((n, MAX_DOSES), dtype=np.int8)
    dates[:, 0], vaccines[:, 0] = first, primary
    booster_one = _pick(rng, n, {"pfizer": 0.45, "moderna": 0.25, "astrazeneca": 0.3})
    booster_two = _pick(rng, n, {"pfizer": 0.6, "moderna": 0.4})
    for k in range(1, MAX_DOSES):
        in_primary = k < primary_doses
        first_booster = k == primary_doses
        gap = np.where(in_primary, 0, np.where(first_booster, 90, 120))
        spread = np.where(in_primary, interval_high - interval_low, np.where(first_booster, 120, 90))
        step = _days(rng, gap + np.where(in_primary, interval_low, 0), gap + spread
                     + np.where(in_primary, interval_low, 0), n)
        earliest = np.where(in_primary, dates[:, k - 1], np.where(first_booster, FIRST_BOOSTER, SECOND_BOOSTER))
        dates[:, k] = np.maximum(dates[:, k - 1] + step, earliest)
        vaccines[:, k] = np.where(in_primary, primary, np.where(first_booster, booster_one, booster_two))

    given = (np.arange(MAX_DOSES)[None, :] < n_doses[:, None]) & (dates <= CAMPAIGN_END)
    # A dose after a missing one is not given either (histories have no holes).
    given = np.cumprod(given, axis=1).astype(bool)
    person, dose = np.nonzero(given)
    place = facilities()
    admin = ref.admin_units()
    at_centre = rng.random(len(person)) < 0.18
    facility = np.where(at_centre, place.district_centre[admin.district_index[commune[person]]],
                        place.commune_station[commune[person]])
    date = dates[person, dose]
    # Lots change roughly monthly; a few lots per vaccine are in use at once.
    months = (date - CAMPAIGN_START).astype(np.int64) // 30
    lot = (months * 4 + rng.integers(0, 4, len(person))).astype(np.int32)
    return Doses(person=person, dose_number=(dose + 1).astype(np.int8),
                 vaccine=vaccines[person, dose], date=date, facility=facility.astype(np.int32),
                 lot=lot)
