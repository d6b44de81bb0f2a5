"""Synthetic residents of Viet Nam: households, names, birth dates, IDs, phones and addresses.

Everything is vectorised over persons with numpy; strings are assembled with Arrow from small
vocabularies (tokens of names, admin units), so 10 million persons stay fast. Nobody here is real.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.demo import reference as ref
from vaxtrust.demo.vntext import to_tone_style

ROLE_HEAD, ROLE_SPOUSE, ROLE_CHILD, ROLE_GRANDPARENT = 0, 1, 2, 3
ROLE_NAMES = ("head", "spouse", "child", "grandparent")
PRECISION_DAY, PRECISION_MONTH, PRECISION_YEAR = 0, 1, 2
PRECISION_NAMES = ("day", "month", "year")
HOUSEHOLD_SIZES = np.array([1, 2, 3, 4, 5, 6])
HOUSEHOLD_SIZE_P = np.array([0.12, 0.18, 0.22, 0.25, 0.13, 0.10])
# The ID's 6 random digits: an affine bijection of a per-bucket serial keeps them unique.
_ID_MULTIPLIER = 738_223
_CMND_MULTIPLIER = 3_141_593
NO_TOKEN = -1


@dataclass
class Vocabulary:
    """Every name token once, in both tone-mark styles (so styling is a vectorised take)."""

    tokens: list[str]
    index: dict[str, int]
    old_style: pa.Array
    new_style: pa.Array

    def ids(self, words: tuple[str, ...] | list[str]) -> np.ndarray:
        return np.array([self.index[w] for w in words], dtype=np.int32)


@cache
def vocabulary() -> Vocabulary:
    words: list[str] = [s for s, _ in ref.SURNAMES]
    words += [ref.MALE_TRADITIONAL_MIDDLE, ref.FEMALE_TRADITIONAL_MIDDLE]
    words += list(ref.MALE_MIDDLES) + list(ref.FEMALE_MIDDLES)
    for gender in ("M", "F"):
        words += list(ref.given_names(gender))
        for pair in ref.compound_names(gender):
            words += pair.split(" ")
    tokens = list(dict.fromkeys(words))
    return Vocabulary(
        tokens=tokens,
        index={t: i for i, t in enumerate(tokens)},
        old_style=pa.array([to_tone_style(t, "old") for t in tokens]),
        new_style=pa.array([to_tone_style(t, "new") for t in tokens]),
    )


@dataclass
class Population:
    """One chunk of residents; arrays are aligned by row."""

    household: np.ndarray      # int64, global household number
    role: np.ndarray           # int8, ROLE_*
    female: np.ndarray         # bool
    dob: np.ndarray            # datetime64[D]
    dob_precision: np.ndarray  # int8, PRECISION_*
    name_tokens: np.ndarray    # int32 (n, 4): surname, middle 1, middle 2, given; NO_TOKEN = none
    full_name: pa.Array        # register spelling (old or new tone style per person)
    commune: np.ndarray        # int32 index into reference.admin_units()
    birth_province: np.ndarray  # object, 2-digit GSO code of birth registration
    person_id: np.ndarray      # object, 12-digit personal ID
    old_id: np.ndarray         # object, 9-digit CMND or None
    phone: np.ndarray          # object, own mobile number or None
    household_phone: np.ndarray  # object, the number the household gives (head's)
    register_phone: np.ndarray   # object, the phone the register holds or None
    in_register: np.ndarray    # bool
    twin_of: np.ndarray        # int64 row of the twin in this chunk, -1 if none

    def __len__(self) -> int:
        return len(self.role)


class IdAllocator:
    """Hands out unique personal IDs and CMND numbers across chunks, deterministically."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._id_used = np.zeros(100 * 10 * 100, dtype=np.int64)
        self._id_offset = rng.integers(0, 1_000_000, size=self._id_used.size)
        self._cmnd_used = np.zeros(100, dtype=np.int64)
        self._cmnd_offset = rng.integers(0, 10_000_000, size=100)

    @staticmethod
    def _serials(buckets: np.ndarray, used: np.ndarray) -> np.ndarray:
        order = np.argsort(buckets, kind="stable")
        sorted_buckets = buckets[order]
        starts = np.flatnonzero(np.r_[True, sorted_buckets[1:] != sorted_buckets[:-1]])
        group_start = np.repeat(starts, np.diff(np.r_[starts, len(buckets)]))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(buckets)) - group_start
        serial = used[buckets] + rank
        np.add.at(used, buckets, 1)
        return serial

    def personal_ids(self, province: np.ndarray, female: np.ndarray, year: np.ndarray) -> np.ndarray:
        """12 digits: 0+GSO province of birth registration, century/gender, yy, 6 unique digits."""
        province_int = province.astype(np.int64)
        gender_digit = (year >= 2000).astype(np.int64) * 2 + female.astype(np.int64)
        yy = year % 100
        buckets = (province_int * 10 + gender_digit) * 100 + yy
        serial = self._serials(buckets, self._id_used)
        if serial.max(initial=0) >= 1_000_000:
            raise OverflowError("more than a million people in one province/gender/year bucket")
        random6 = (serial * _ID_MULTIPLIER + self._id_offset[buckets]) % 1_000_000
        number = (province_int * 10 + gender_digit) * 10**8 + yy * 10**6 + random6
        return _zero_pad(number, 12)

    def cmnd_numbers(self, province: np.ndarray) -> np.ndarray:
        """9 digits: a 2-digit issuing-province prefix (synthetic list) and 7 unique digits."""
        prefix = province.astype(np.int64)
        serial = self._serials(prefix, self._cmnd_used)
        random7 = (serial * _CMND_MULTIPLIER + self._cmnd_offset[prefix]) % 10_000_000
        return _zero_pad(prefix * 10**7 + random7, 9)


def is_none(values: np.ndarray) -> np.ndarray:
    """Element-wise ``is None`` of an object array of strings (via Arrow, no Python loop)."""
    return np.asarray(pa.array(values, pa.string()).is_null().to_numpy(zero_copy_only=False))


def only_where(values: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else None (object array)."""
    out = np.full(len(values), None, dtype=object)
    out[keep] = values[keep]
    return out


def _zero_pad(numbers: np.ndarray, width: int) -> np.ndarray:
    text = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def _dates_in_years(rng: np.random.Generator, years: np.ndarray) -> np.ndarray:
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    end = (years - 1969).astype("datetime64[Y]").astype("datetime64[D]")
    length = (end - start).astype(np.int64)
    return start + (rng.random(len(years)) * length).astype(np.int64)


def _households(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Household number, position within the household and household size per person."""
    sizes = rng.choice(HOUSEHOLD_SIZES, size=n // 2 + 2, p=HOUSEHOLD_SIZE_P)
    total = np.cumsum(sizes)
    count = int(np.searchsorted(total, n)) + 1
    sizes = sizes[:count].copy()
    sizes[-1] -= total[count - 1] - n
    household = np.repeat(np.arange(count), sizes)
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    position = np.arange(n) - starts[household]
    return household, position, sizes[household]


def _middle_tokens(rng: np.random.Generator, female: np.ndarray, year: np.ndarray) -> np.ndarray:
    vocab = vocabulary()
    n = len(female)
    traditional_share = np.where(year < 1975, 0.78, np.where(year < 1995, 0.55, 0.2))
    traditional = np.where(female, vocab.index[ref.FEMALE_TRADITIONAL_MIDDLE],
                           vocab.index[ref.MALE_TRADITIONAL_MIDDLE])
    male_other = vocab.ids(ref.MALE_MIDDLES)[rng.integers(len(ref.MALE_MIDDLES), size=n)]
    female_other = vocab.ids(ref.FEMALE_MIDDLES)[rng.integers(len(ref.FEMALE_MIDDLES), size=n)]
    other = np.where(female, female_other, male_other)
    return np.where(rng.random(n) < traditional_share, traditional, other).astype(np.int32)


def _given_tokens(rng: np.random.Generator, female: np.ndarray) -> np.ndarray:
    vocab = vocabulary()
    result = np.empty(len(female), dtype=np.int32)
    for gender, mask in (("M", ~female), ("F", female)):
        names = ref.given_names(gender)
        picks = rng.choice(len(names), size=int(mask.sum()), p=ref.given_name_weights(gender))
        result[mask] = vocab.ids(names)[picks]
    return result


def _compound_tokens(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vocab = vocabulary()
    first = np.empty(len(female), dtype=np.int32)
    second = np.empty(len(female), dtype=np.int32)
    for gender, mask in (("M", ~female), ("F", female)):
        pairs = [p.split(" ") for p in ref.compound_names(gender)]
        picks = rng.integers(len(pairs), size=int(mask.sum()))
        first[mask] = vocab.ids([a for a, _ in pairs])[picks]
        second[mask] = vocab.ids([b for _, b in pairs])[picks]
    return first, second


def full_names(tokens: np.ndarray, old_style: np.ndarray) -> pa.Array:
    """Join name tokens with spaces, each person in their register tone style."""
    vocab = vocabulary()
    columns = []
    for j in range(tokens.shape[1]):
        ids = tokens[:, j]
        mask = ids == NO_TOKEN
        safe = pa.array(np.where(mask, 0, ids))
        styled = pc.choose(pa.array(old_style.astype(np.int8)),
                           vocab.new_style.take(safe), vocab.old_style.take(safe))
        columns.append(pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), styled))
    return pc.binary_join_element_wise(*columns, " ", null_handling="skip")


def mobile_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    prefixes, probs = ref.weights(ref.MOBILE_PREFIXES)
    prefix = pa.array(prefixes[rng.choice(len(prefixes), size=n, p=probs)].astype(str))
    local = _zero_pad(rng.integers(0, 10**7, size=n), 7)
    joined = pc.binary_join_element_wise(prefix, pa.array(local, pa.string()), "")
    return np.asarray(joined.to_numpy(zero_copy_only=False), dtype=object)


def generate_population(rng: np.random.Generator, n: int, household_offset: int,
                        ids: IdAllocator, unregistered_rate: float,
                        provinces: tuple[str, ...] = ()) -> Population:
    """``n`` residents in whole households; household numbers start at ``household_offset``."""
    household, position, size = _households(rng, n)
    n_households = int(household[-1]) + 1 if n else 0
    role = np.full(n, ROLE_CHILD, dtype=np.int8)
    role[position == 0] = ROLE_HEAD
    has_spouse = (size >= 2) & (rng.random(n_households) < 0.85)[household]
    role[(position == 1) & has_spouse] = ROLE_SPOUSE
    grandparent = (size >= 5) & (position == size - 1) & (rng.random(n_households) < 0.5)[household]
    role[grandparent] = ROLE_GRANDPARENT

    # Adults of each household, then everyone's year and gender from them.
    head_age = np.clip(rng.normal(46, 14, n_households), 20, 92).astype(np.int64)
    head_year = 2021 - head_age
    head_female = rng.random(n_households) < 0.25
    spouse_year = head_year + np.where(head_female, rng.integers(-7, 2, n_households),
                                       rng.integers(-1, 8, n_households))
    mother_year = np.where(head_female, head_year, spouse_year)
    child_rank = np.clip(position - np.where(has_spouse, 2, 1), 0, None)
    year = np.empty(n, dtype=np.int64)
    female = rng.random(n) < 0.51
    is_head, is_spouse = role == ROLE_HEAD, role == ROLE_SPOUSE
    year[is_head] = head_year[household[is_head]]
    female[is_head] = head_female[household[is_head]]
    year[is_spouse] = spouse_year[household[is_spouse]]
    female[is_spouse] = ~head_female[household[is_spouse]]
    is_child = role == ROLE_CHILD
    child_year = mother_year[household] + 20 + (2.5 * child_rank).astype(np.int64) + rng.integers(0, 5, n)
    # Children the arithmetic puts after 2021 are spread over the last few years instead.
    late = child_year > 2021
    child_year[late] = 2021 - rng.integers(0, 6, int(late.sum()))
    year[is_child] = child_year[is_child]
    is_grand = role == ROLE_GRANDPARENT
    year[is_grand] = np.maximum(head_year[household[is_grand]] - rng.integers(22, 36, int(is_grand.sum())), 1921)
    dob = _dates_in_years(rng, year)

    twin_of = np.full(n, -1, dtype=np.int64)
    twin = is_child & np.r_[False, is_child[:-1]] & (position > 0) & (rng.random(n) < 0.015)
    twin[0] = False
    twin_rows = np.flatnonzero(twin)
    twin_of[twin_rows] = twin_rows - 1
    dob[twin_rows] = dob[twin_rows - 1]
    year[twin_rows] = year[twin_rows - 1]

    precision = np.full(n, PRECISION_DAY, dtype=np.int8)
    u = rng.random(n)
    precision[(year < 1960) & (u < 0.06)] = PRECISION_YEAR
    precision[(year < 1975) & (u >= 0.06) & (u < 0.075)] = PRECISION_MONTH
    # Only the known part is kept: the register has no day (or month) for these people.
    dob = np.where(precision == PRECISION_YEAR, dob.astype("datetime64[Y]").astype("datetime64[D]"), dob)
    dob = np.where(precision == PRECISION_MONTH, dob.astype("datetime64[M]").astype("datetime64[D]"), dob)

    tokens = _name_tokens(rng, household, role, female, year, head_female)
    full_name = full_names(tokens, rng.random(n) < 0.55)

    commune = _communes(rng, n_households, provinces)[household]
    admin = ref.admin_units()
    province = admin.province_code[commune]
    migrant = rng.random(n) < np.where(is_child, 0.05, 0.15)
    other_province = admin.province_codes[rng.integers(len(admin.province_codes), size=n)]
    birth_province = np.where(migrant, other_province, province)
    person_id = ids.personal_ids(birth_province, female, year)
    has_cmnd = (year <= 2003) & (rng.random(n) < 0.55)
    old_id = np.full(n, None, dtype=object)
    old_id[has_cmnd] = ids.cmnd_numbers(birth_province[has_cmnd])

    phone = only_where(mobile_numbers(rng, n), (year <= 2003) & (rng.random(n) < 0.92))
    # The household gives the head's number, or the spouse's when the head has none.
    head_phone = phone[position == 0]
    spouse_rows = np.flatnonzero((role == ROLE_SPOUSE) & ~is_none(phone))
    fallback = np.full(n_households, None, dtype=object)
    fallback[household[spouse_rows]] = phone[spouse_rows]
    household_phone = np.where(is_none(head_phone), fallback, head_phone)[household]
    register_phone = only_where(phone, rng.random(n) < 0.65)
    return Population(
        household=household + household_offset, role=role, female=female, dob=dob,
        dob_precision=precision, name_tokens=tokens, full_name=full_name, commune=commune,
        birth_province=birth_province, person_id=person_id, old_id=old_id, phone=phone,
        household_phone=household_phone, register_phone=register_phone,
        in_register=rng.random(n) >= unregistered_rate, twin_of=twin_of,
    )


def sample_identities(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """``count`` synthetic residents as (register name, date of birth at its known precision:
    ``1984-10-10``, ``1950-03`` or ``1945``): the variety of a province, for benchmarks and tests."""
    rng = np.random.default_rng(seed)
    people = generate_population(rng, count, 0, IdAllocator(rng), unregistered_rate=0.0)
    keep = np.choose(people.dob_precision, [10, 7, 4])
    days = people.dob.astype("datetime64[D]").astype(str)
    return [(name, day[:length]) for name, day, length
            in zip(people.full_name.to_pylist(), days, keep, strict=True)]


def _name_tokens(rng: np.random.Generator, household: np.ndarray, role: np.ndarray,
                 female: np.ndarray, year: np.ndarray, head_female: np.ndarray) -> np.ndarray:
    """Surname (the father's for children), middle name(s) by gender and cohort, given name."""
    vocab = vocabulary()
    n, n_households = len(role), len(head_female)
    surnames, probs = ref.weights(tuple(ref.SURNAMES))
    surname_ids = vocab.ids(list(surnames))
    own = surname_ids[rng.choice(len(surnames), size=n, p=probs)]
    head_rows = np.flatnonzero(role == ROLE_HEAD)
    head_surname = np.zeros(n_households, dtype=np.int32)
    head_surname[household[head_rows]] = own[head_rows]
    spouse_rows = np.flatnonzero(role == ROLE_SPOUSE)
    spouse_surname = head_surname.copy()
    spouse_surname[household[spouse_rows]] = own[spouse_rows]
    father_surname = np.where(head_female & np.isin(np.arange(n_households), household[spouse_rows]),
                              spouse_surname, head_surname)
    surname = np.where(role == ROLE_CHILD, father_surname[household], own)
    # A grandfather is the head's father: the head carries his surname.
    surname = np.where((role == ROLE_GRANDPARENT) & ~female, head_surname[household], surname)

    middle = _middle_tokens(rng, female, year)
    # Some children carry the mother's surname as a middle name (vn-facts §3.3).
    mother_surname = np.where(head_female, head_surname, spouse_surname)[household]
    middle = np.where((role == ROLE_CHILD) & (rng.random(n) < 0.03), mother_surname, middle)
    given = _given_tokens(rng, female)
    middle2 = np.full(n, NO_TOKEN, dtype=np.int32)
    compound = (year >= 1988) & (rng.random(n) < 0.3)
    first, second = _compound_tokens(rng, female)
    middle2[compound] = first[compound]
    given[compound] = second[compound]
    # Younger people with a compound name often have no separate middle name.
    no_middle = compound & (rng.random(n) < 0.5)
    middle = np.where(no_middle, middle2, middle)
    middle2[no_middle] = NO_TOKEN
    return np.stack([surname, middle, middle2, given], axis=1).astype(np.int32)


@cache
def commune_weights(provinces: tuple[str, ...] = ()) -> np.ndarray:
    """Where households live: urban wards are denser than rural communes; ``provinces`` limits
    the choice to those pre-2025 GSO province codes (empty = the whole country)."""
    admin = ref.admin_units()
    level = admin.level
    weight = np.where(level == "Phường", 2.2, np.where(level == "Thị trấn", 1.4, 1.0))
    if provinces:
        weight = weight * np.isin(admin.province_code.astype(str), list(provinces))
    return weight / weight.sum()


def _communes(rng: np.random.Generator, count: int, provinces: tuple[str, ...]) -> np.ndarray:
    weights = commune_weights(provinces)
    return rng.choice(len(weights), size=count, p=weights).astype(np.int32)
