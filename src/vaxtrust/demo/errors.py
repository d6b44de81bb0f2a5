"""The error model: what goes wrong between a person and their dose records (vn-facts §1, §3-§6).

Each error kind has a stable code (the same as the cleaning reasons where they overlap), the field
it damages, a level and a default rate:

- ``person``: decided once per person (the identity was typed wrong when they first came) and
  carried into about 80 % of their records (later doses were sometimes re-typed correctly);
  scaled by the sloppiness of the facility of the person's first record;
- ``record``: decided per record, scaled by the facility's sloppiness (damage by export software,
  Excel, legacy fonts and input methods is a facility habit).

So rates vary by facility: most facilities are careful and a few produce most of the damage
(sloppiness has mean 1 and a heavy tail, ``exports.facility_profiles``).

A kind is recorded for a record only where it really changed the value, so the truth never lists
an error that is not there. Rates are probabilities per person or record among those where the
error is possible (a day/month swap needs a day <= 12; a tone-style flip needs a syllable such as
"hòa"). ``--error-scale`` multiplies every rate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.demo import vntext
from vaxtrust.demo.population import NO_TOKEN, PRECISION_DAY, PRECISION_YEAR, is_none, vocabulary
from vaxtrust.errors import ConfigError

PERSISTENCE: Final = 0.8


@dataclass(frozen=True)
class ErrorKind:
    code: str
    field: str
    level: str
    rate: float
    description: str


ERROR_KINDS: Final = (
    # Names (vn-facts §3)
    ErrorKind("name_typo", "full_name", "person", 0.014, "one letter or tone mark mistyped"),
    ErrorKind("name_middle_dropped", "full_name", "person", 0.01, "middle name(s) left out"),
    ErrorKind("name_middle_added", "full_name", "person", 0.012,
              "a middle name the register does not have (Ngọc Ánh → Thị Ngọc Ánh, Thị Ánh → Thị Thu Ánh)"),
    ErrorKind("name_middle_changed", "full_name", "person", 0.004,
              "another middle name (Thị Thu Hà → Thị Thanh Hà)"),
    ErrorKind("name_regional_variant", "full_name", "person", 0.1, "Hoàng/Huỳnh or Vũ/Võ swapped"),
    ErrorKind("name_order_swapped", "full_name", "person", 0.0035, "surname written last"),
    ErrorKind("name_tone_style", "full_name", "person", 0.1, "old/new tone style (hòa/hoà) differs from the register"),
    ErrorKind("name_misplaced_tone", "full_name", "person", 0.0042, "tone mark on the wrong vowel (baỏ)"),
    ErrorKind("name_nfd", "full_name", "record", 0.0084, "decomposed Unicode (NFD)"),
    ErrorKind("name_no_diacritics", "full_name", "record", 0.01, "diacritics lost (Nguyen Van A)"),
    ErrorKind("name_all_caps", "full_name", "record", 0.01, "ALL CAPS"),
    ErrorKind("name_mojibake_tcvn3", "full_name", "record", 0.0035, "TCVN3 (ABC) bytes read as Windows-1252"),
    ErrorKind("name_mojibake_vni", "full_name", "record", 0.0028, "VNI-Windows bytes read as Windows-1252"),
    ErrorKind("name_mojibake_utf8", "full_name", "record", 0.0014, "UTF-8 bytes read as Windows-1252"),
    ErrorKind("name_telex_residue", "full_name", "record", 0.004,
              "Telex keys left in (Nguyeenx Thij), every word or only some, or only the tone keys"),
    ErrorKind("name_vni_residue", "full_name", "record", 0.003,
              "VNI keys left in (Nguye6n4 Thi5), every word or only some, or only the tone keys"),
    ErrorKind("name_eth_lookalike", "full_name", "record", 0.021, "Đ typed as the look-alike Ð (U+00D0)"),
    ErrorKind("name_extra_whitespace", "full_name", "record", 0.0056, "double, leading or trailing spaces"),
    # Date of birth (vn-facts §6.4)
    ErrorKind("dob_day_month_swapped", "dob", "person", 0.025, "day and month swapped"),
    ErrorKind("dob_year_only", "dob", "person", 0.0056, "only the year given"),
    ErrorKind("dob_placeholder", "dob", "person", 0.0084,
              "01/01 of the birth year instead of the date, or a fixed date (01/01/1900, 01/01/1970)"),
    ErrorKind("dob_typo", "dob", "person", 0.0056, "year or day mistyped"),
    ErrorKind("dob_year_off_by_one", "dob", "person", 0.005, "year of birth one off"),
    ErrorKind("dob_digit_mistyped", "dob", "person", 0.005,
              "one digit of the written date wrong, at times an impossible date (01/08/9968)"),
    # Gender
    ErrorKind("gender_missing", "gender", "person", 0.0056, "gender left empty"),
    ErrorKind("gender_flipped", "gender", "person", 0.0042, "the other gender"),
    # ID number (vn-facts §1)
    ErrorKind("id_missing", "id_number", "person", 0.025, "no ID (children: far more often)"),
    ErrorKind("id_old_cmnd", "id_number", "person", 0.056, "the old 9-digit CMND instead of the CCCD"),
    ErrorKind("id_old_cmnd_unregistered", "id_number", "person", 0.01,
              "an old 9-digit CMND the register does not hold (adults)"),
    ErrorKind("id_parent_on_child", "id_number", "person", 0.21, "a parent's ID on a child's record"),
    ErrorKind("id_digit_mistyped", "id_number", "person", 0.007, "one digit wrong"),
    ErrorKind("id_digits_swapped", "id_number", "person", 0.0042, "two neighbouring digits swapped"),
    ErrorKind("id_separators_removed", "id_number", "record", 0.0035, "spaces or dots inside the number"),
    ErrorKind("id_leading_zero_lost", "id_number", "record", 0.01, "Excel dropped the leading zero(s)"),
    ErrorKind("id_scientific_notation", "id_number", "record", 0.0028, "Excel wrote 7.9084E+10"),
    # Phone, address (vn-facts §6.5)
    ErrorKind("phone_old_prefix", "phone", "person", 0.05, "pre-2018 11-digit number (0162...)"),
    ErrorKind("phone_missing", "phone", "person", 0.03, "no phone"),
    ErrorKind("address_missing_part", "address", "person", 0.025, "province, district or commune empty"),
    # Whole records
    ErrorKind("duplicate_entry", "record", "record", 0.012, "the same dose entered twice"),
    ErrorKind("person_not_in_register", "record", "person", 0.006, "a resident missing from the register snapshot"),
    ErrorKind("foreigner_passport", "record", "person", 0.0, "a foreigner with a passport number (never in the register)"),
)
KIND_CODES: Final = tuple(kind.code for kind in ERROR_KINDS)
KIND_INDEX: Final = {code: i for i, code in enumerate(KIND_CODES)}
KIND_FIELD: Final = {kind.code: kind.field for kind in ERROR_KINDS}
# Sloppiness column that scales each field's errors (exports.FacilityProfiles.sloppiness).
_SLOPPINESS_COLUMN: Final = {"id_number": 2}
_FIXED_PLACEHOLDERS: Final = ((1900, 1, 1), (1970, 1, 1))
# Kinds that make a record disagree with the register on name, dob, gender or ID.
MISMATCH_FIELDS: Final = frozenset({"full_name", "dob", "gender", "id_number"})
FOREIGNER_SHARE: Final = 0.025   # foreigners per resident (not scaled by --error-scale)


def error_rates(scale: float = 1.0) -> dict[str, float]:
    """Default rates times ``scale`` (capped at 1)."""
    if not np.isfinite(scale) or scale < 0:
        raise ConfigError(f"--error-scale must be a number >= 0, got {scale}")
    return {kind.code: min(1.0, kind.rate * scale) for kind in ERROR_KINDS}


@dataclass
class TrueRecords:
    """The correct values of each dose record's identity fields, before any damage."""

    person: np.ndarray       # person row (residents first, then foreigners)
    tokens: np.ndarray       # (n, 4) name tokens, NO_TOKEN for foreigners
    name: pa.Array
    dob: np.ndarray          # datetime64[D]
    precision: np.ndarray    # int8 PRECISION_*
    female: np.ndarray
    id_number: np.ndarray    # object
    old_id: np.ndarray       # object or None
    parent_id: np.ndarray    # object or None (children only)
    child: np.ndarray        # bool: born 2004 or later
    phone: np.ndarray        # object or None
    facility: np.ndarray     # int32
    commune: np.ndarray      # int32 commune of residence
    foreign: np.ndarray      # bool
    registered: np.ndarray   # bool


@dataclass
class DamagedIdentity:
    name: pa.Array
    year: np.ndarray
    month: np.ndarray
    day: np.ndarray
    year_only: np.ndarray      # bool: the record gives only the year
    gender: np.ndarray         # int8 0 male, 1 female, 2 missing
    id_number: pa.Array
    phone: pa.Array
    drop_address: np.ndarray   # int8 bits: 1 province, 2 district, 4 commune
    kinds: np.ndarray          # bool (n, len(KIND_CODES))


class ErrorModel:
    """Applies the error kinds to one chunk of records (deterministic for a given generator)."""

    def __init__(self, rng: np.random.Generator, rates: dict[str, float],
                 sloppiness: np.ndarray, legacy_north: np.ndarray) -> None:
        self.rng = rng
        self.rates = rates
        self.sloppiness = sloppiness        # (facilities, 3)
        self.legacy_north = legacy_north    # bool per facility: TCVN3 country, else VNI

    # -- drawing -------------------------------------------------------------------------------
    def _person_draw(self, records: TrueRecords, code: str, rate: np.ndarray | None = None
                     ) -> np.ndarray:
        """Records of persons who have the error, ~PERSISTENCE of each such person's records.

        ``rate`` overrides the kind's rate per record. The rate of the person's first record
        applies, times the sloppiness of that record's facility.
        """
        n_people = int(records.person.max(initial=-1)) + 1
        record_rate = np.full(len(records.person), self.rates[code]) if rate is None else rate
        column = _SLOPPINESS_COLUMN.get(KIND_FIELD[code], 0)
        record_rate = np.minimum(record_rate * self.sloppiness[records.facility, column], 0.95)
        person_rate = np.zeros(n_people)
        people, first = np.unique(records.person, return_index=True)
        person_rate[people] = record_rate[first]
        has = self.rng.random(n_people) < person_rate
        return has[records.person] & (self.rng.random(len(records.person)) < PERSISTENCE)

    def _record_draw(self, records: TrueRecords, code: str, sloppiness_column: int) -> np.ndarray:
        p = np.minimum(self.rates[code] * self.sloppiness[records.facility, sloppiness_column], 0.95)
        return self.rng.random(len(records.facility)) < p

    # -- the whole model -----------------------------------------------------------------------
    def apply(self, records: TrueRecords) -> DamagedIdentity:
        n = len(records.person)
        kinds = np.zeros((n, len(KIND_CODES)), dtype=bool)
        kinds[:, KIND_INDEX["foreigner_passport"]] = records.foreign
        kinds[:, KIND_INDEX["person_not_in_register"]] = ~records.registered & ~records.foreign
        resident = ~records.foreign
        name = self._damage_name(records, kinds, resident)
        year, month, day, year_only = self._damage_dob(records, kinds, resident)
        gender = self._damage_gender(records, kinds, resident)
        id_number = self._damage_id(records, kinds, resident)
        phone = self._damage_phone(records, kinds)
        drop = np.zeros(n, dtype=np.int8)
        missing = self._person_draw(records, "address_missing_part") & resident
        drop[missing] = self.rng.choice(np.array([1, 2, 4, 6], dtype=np.int8), size=int(missing.sum()),
                                        p=(0.1, 0.3, 0.4, 0.2))
        kinds[:, KIND_INDEX["address_missing_part"]] = missing
        return DamagedIdentity(name=name, year=year, month=month, day=day, year_only=year_only,
                               gender=gender, id_number=id_number, phone=phone,
                               drop_address=drop, kinds=kinds)

    def _mark(self, kinds: np.ndarray, code: str, applied: np.ndarray) -> None:
        kinds[:, KIND_INDEX[code]] |= applied

    # -- names ---------------------------------------------------------------------------------
    def _damage_name(self, records: TrueRecords, kinds: np.ndarray, resident: np.ndarray) -> pa.Array:
        vocab = vocabulary()
        tokens = records.tokens
        name = records.name
        style_tokens = np.array([o != nw for o, nw in zip(vocab.old_style.to_pylist(),
                                                          vocab.new_style.to_pylist(), strict=True)])
        d_tokens = np.array(["Đ" in t for t in vocab.tokens])
        regional = vocab.ids(tuple(t for t in vntext.SURNAME_VARIANTS if t in vocab.index))

        def token_any(flags: np.ndarray) -> np.ndarray:
            safe = np.where(tokens == NO_TOKEN, 0, tokens)
            return (flags[safe] & (tokens != NO_TOKEN)).any(axis=1)

        steps: list[tuple[str, np.ndarray, Callable[[str], str]]] = [
            ("name_regional_variant", np.isin(tokens[:, 0], regional), vntext.surname_variant),
            ("name_middle_dropped", tokens[:, 1] != NO_TOKEN, vntext.drop_middle),
            ("name_tone_style", token_any(style_tokens), vntext.flip_tone_style),
            ("name_misplaced_tone", resident, self._seeded(vntext.misplace_tone)),
            ("name_typo", resident, self._seeded(vntext.typo)),
            ("name_order_swapped", resident, vntext.swap_order),
        ]
        for code, eligible, fn in steps:
            name = self._apply(name, self._person_draw(records, code) & eligible, fn, kinds, code)
            if code == "name_middle_dropped":
                name = self._damage_middle(records, kinds, resident, name)

        # Encoding damage: at most one of these per record, by facility habit.
        encodings = self._encoding_choice(records, resident)
        encoders: dict[str, Callable[[str], str]] = {
            "name_no_diacritics": vntext.strip_diacritics, "name_nfd": vntext.nfd,
            "name_mojibake_tcvn3": _tcvn3_mojibake, "name_mojibake_vni": _vni_mojibake,
            "name_mojibake_utf8": _utf8_mojibake,
            "name_telex_residue": self._seeded(vntext.telex_residue),
            "name_vni_residue": self._seeded(vntext.vni_residue),
        }
        for code, fn in encoders.items():
            name = self._apply(name, encodings == code, fn, kinds, code)
        clean_text = (encodings == "") | (encodings == "name_no_diacritics") | (encodings == "name_nfd")
        caps = self._record_draw(records, "name_all_caps", 0) & clean_text & resident
        name = self._apply(name, caps, str.upper, kinds, "name_all_caps")
        eth = self._record_draw(records, "name_eth_lookalike", 0) & (encodings == "") & token_any(d_tokens)
        name = self._apply(name, eth, vntext.eth_lookalike, kinds, "name_eth_lookalike")
        spaces = self._record_draw(records, "name_extra_whitespace", 0)
        return self._apply(name, spaces, self._seeded(vntext.extra_whitespace), kinds,
                           "name_extra_whitespace")

    def _damage_middle(self, records: TrueRecords, kinds: np.ndarray, resident: np.ndarray,
                       name: pa.Array) -> pa.Array:
        """A middle name added or changed (the forms' Văn/Thị, or another common middle)."""
        taken = kinds[:, KIND_INDEX["name_middle_dropped"]]
        for code, fn in (("name_middle_added", vntext.add_middle),
                         ("name_middle_changed", vntext.change_middle)):
            drawn = self._person_draw(records, code) & resident & ~taken
            for female in (True, False):
                seeded = self._seeded(functools.partial(_by_gender, fn, female))
                name = self._apply(name, drawn & (records.female == female), seeded, kinds, code)
            taken = taken | kinds[:, KIND_INDEX[code]]
        return name

    def _encoding_choice(self, records: TrueRecords, resident: np.ndarray) -> np.ndarray:
        n = len(records.facility)
        choice = np.full(n, "", dtype=object)
        for code, column in (("name_no_diacritics", 0), ("name_nfd", 0),
                             ("name_mojibake_tcvn3", 1), ("name_mojibake_vni", 1),
                             ("name_mojibake_utf8", 0), ("name_telex_residue", 0),
                             ("name_vni_residue", 0)):
            drawn = self._record_draw(records, code, column) & resident & (choice == "")
            if code == "name_mojibake_tcvn3":
                drawn &= self.legacy_north[records.facility]
            elif code == "name_mojibake_vni":
                drawn &= ~self.legacy_north[records.facility]
            choice[drawn] = code
        return choice

    def _seeded(self, fn: Callable[[str, np.random.Generator], str]) -> Callable[[str], str]:
        rng = np.random.default_rng(self.rng.integers(2**63))
        return lambda text: fn(text, rng)

    def _apply(self, values: pa.Array, mask: np.ndarray, fn: Callable[[str], str],
               kinds: np.ndarray, code: str) -> pa.Array:
        changed_values, changed = transform_distinct(values, mask, fn)
        self._mark(kinds, code, changed)
        return changed_values

    # -- dates of birth ------------------------------------------------------------------------
    def _damage_dob(self, records: TrueRecords, kinds: np.ndarray, resident: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        dates = records.dob
        year = dates.astype("datetime64[Y]").astype(np.int64) + 1970
        month = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
        day = (dates - dates.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
        exact = (records.precision == PRECISION_DAY) & resident
        # Facilities write a year-only birth date as the year or as 01/01 of it.
        year_only = (records.precision == PRECISION_YEAR) & (self.rng.random(len(dates)) < 0.5)
        taken = np.zeros(len(year), dtype=bool)

        swap = self._person_draw(records, "dob_day_month_swapped") & exact & (day <= 12) & (day != month)
        month[swap], day[swap] = day[swap], month[swap].copy()
        taken |= swap
        only = self._person_draw(records, "dob_year_only") & exact & ~taken
        year_only = year_only | only
        taken |= only
        placeholder = self._person_draw(records, "dob_placeholder") & exact & ~taken & ~((day == 1) & (month == 1))
        day[placeholder], month[placeholder] = 1, 1
        fixed = placeholder & (self.rng.random(len(year)) < 0.2)
        pick = self.rng.integers(len(_FIXED_PLACEHOLDERS), size=int(fixed.sum()))
        year[fixed] = np.array([y for y, _, _ in _FIXED_PLACEHOLDERS])[pick]
        taken |= placeholder
        typo = self._person_draw(records, "dob_typo") & exact & ~taken
        shift_year = self.rng.random(len(year)) < 0.5
        year[typo & shift_year] += self.rng.choice(np.array([-10, -1, 1, 10]), size=int((typo & shift_year).sum()))
        wrong_day = typo & ~shift_year
        day[wrong_day] = (day[wrong_day] + self.rng.integers(1, 27, int(wrong_day.sum()))) % 28 + 1
        taken |= typo
        off = self._person_draw(records, "dob_year_off_by_one") & exact & ~taken
        year[off] += self.rng.choice(np.array([-1, 1]), size=int(off.sum()))
        taken |= off
        digit = self._person_draw(records, "dob_digit_mistyped") & exact & ~taken
        year[digit], month[digit], day[digit] = _mistype_date_digit(
            self.rng, year[digit], month[digit], day[digit])
        for code, mask in (("dob_day_month_swapped", swap), ("dob_year_only", only),
                           ("dob_placeholder", placeholder), ("dob_typo", typo),
                           ("dob_year_off_by_one", off), ("dob_digit_mistyped", digit)):
            self._mark(kinds, code, mask)
        return year, month, day, year_only

    # -- gender --------------------------------------------------------------------------------
    def _damage_gender(self, records: TrueRecords, kinds: np.ndarray, resident: np.ndarray) -> np.ndarray:
        gender = records.female.astype(np.int8)
        missing = self._person_draw(records, "gender_missing") & resident
        flipped = self._person_draw(records, "gender_flipped") & resident & ~missing
        gender[flipped] = 1 - gender[flipped]
        gender[missing] = 2
        self._mark(kinds, "gender_missing", missing)
        self._mark(kinds, "gender_flipped", flipped)
        return gender

    # -- ID numbers ----------------------------------------------------------------------------
    def _damage_id(self, records: TrueRecords, kinds: np.ndarray, resident: np.ndarray) -> pa.Array:
        ids = records.id_number.copy()
        child = records.child & resident
        missing_rate = np.where(child, np.minimum(self.rates["id_missing"] * 8, 1.0), self.rates["id_missing"])
        missing = self._person_draw(records, "id_missing", missing_rate) & resident
        has_parent = ~is_none(records.parent_id)
        parent = self._person_draw(records, "id_parent_on_child") & child & has_parent & ~missing
        has_cmnd = ~is_none(records.old_id)
        cmnd = self._person_draw(records, "id_old_cmnd") & has_cmnd & resident & ~missing & ~parent
        unregistered = (self._person_draw(records, "id_old_cmnd_unregistered") & resident
                        & ~records.child & ~missing & ~parent & ~cmnd)
        ids[parent] = records.parent_id[parent]
        ids[cmnd] = records.old_id[cmnd]
        ids[unregistered] = _unregistered_cmnd(self.rng, records.person[unregistered])
        ids[missing] = None
        for code, mask in (("id_missing", missing), ("id_parent_on_child", parent), ("id_old_cmnd", cmnd),
                           ("id_old_cmnd_unregistered", unregistered)):
            self._mark(kinds, code, mask)

        twelve = resident & ~missing & ~cmnd & ~unregistered
        mistyped = self._person_draw(records, "id_digit_mistyped") & twelve
        ids[mistyped] = _mistype_digit(self.rng, ids[mistyped])
        swapped = self._person_draw(records, "id_digits_swapped") & twelve & ~mistyped
        new = _swap_digits(self.rng, ids[swapped])
        really = new != ids[swapped]
        ids[swapped] = new
        swapped[swapped] = really
        self._mark(kinds, "id_digit_mistyped", mistyped)
        self._mark(kinds, "id_digits_swapped", swapped)

        present = resident & ~missing
        text = pa.array(ids, pa.string())
        separators = self._record_draw(records, "id_separators_removed", 2) & present
        text = self._apply(text, separators, self._seeded(_with_separators), kinds, "id_separators_removed")
        excel = present & ~separators
        scientific = self._record_draw(records, "id_scientific_notation", 2) & excel
        text = self._apply(text, scientific, _scientific, kinds, "id_scientific_notation")
        zero = self._record_draw(records, "id_leading_zero_lost", 2) & excel & ~scientific
        return self._apply(text, zero, _strip_zeros, kinds, "id_leading_zero_lost")

    # -- phones --------------------------------------------------------------------------------
    def _damage_phone(self, records: TrueRecords, kinds: np.ndarray) -> pa.Array:
        from vaxtrust.demo.reference import old_mobile_prefixes

        text = pa.array(records.phone, pa.string())
        missing = self._person_draw(records, "phone_missing")
        old = self._person_draw(records, "phone_old_prefix") & ~missing
        table = old_mobile_prefixes()
        text = self._apply(text, old & pc.is_valid(text).to_numpy(zero_copy_only=False),
                           lambda p: table.get(p[:3], p[:3]) + p[3:], kinds, "phone_old_prefix")
        really_missing = missing & pc.is_valid(text).to_numpy(zero_copy_only=False)
        self._mark(kinds, "phone_missing", really_missing)
        return pc.if_else(pa.array(really_missing), pa.scalar(None, pa.string()), text)


def _by_gender(fn: Callable[[str, np.random.Generator, bool], str], female: bool, text: str,
               rng: np.random.Generator) -> str:
    return fn(text, rng, female)


def transform_distinct(values: pa.Array, mask: np.ndarray, fn: Callable[[str], str]
                       ) -> tuple[pa.Array, np.ndarray]:
    """Apply ``fn`` to the masked rows, once per distinct value; also say where it changed."""
    if not mask.any():
        return values, mask
    selector = pa.array(mask)
    subset = values.filter(selector)
    encoded = subset.dictionary_encode()
    mapped = pa.array([None if v is None else fn(v) for v in encoded.dictionary.to_pylist()],
                      pa.string())
    new = mapped.take(encoded.indices)
    changed = np.zeros(len(mask), dtype=bool)
    differs = pc.fill_null(pc.not_equal(new, subset), False)
    changed[mask] = differs.to_numpy(zero_copy_only=False)
    return pc.replace_with_mask(values, selector, new), changed


def _as_cp1252(data: bytes) -> str:
    """Bytes as Windows-1252 shows them; its 5 unassigned bytes show as Latin-1 controls."""
    return "".join(bytes([b]).decode("cp1252", errors="replace") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
                   else chr(b) for b in data)


def _tcvn3_mojibake(text: str) -> str:
    from vaxtrust.vn.legacy import encode_tcvn3

    return _as_cp1252(encode_tcvn3(text))


def _vni_mojibake(text: str) -> str:
    from vaxtrust.vn.legacy import encode_vni

    return _as_cp1252(encode_vni(text))


def _utf8_mojibake(text: str) -> str:
    return _as_cp1252(text.encode("utf-8"))


def _digits_matrix(ids: np.ndarray) -> np.ndarray:
    return np.array(ids.astype(str), dtype="U12").view(np.uint32).reshape(len(ids), 12).copy()


def _from_matrix(matrix: np.ndarray) -> np.ndarray:
    return matrix.view("U12").ravel().astype(object)


def _mistype_digit(rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    if not len(ids):
        return ids
    matrix = _digits_matrix(ids)
    rows = np.arange(len(ids))
    column = rng.integers(3, 12, len(ids))   # the province code is rarely the slip
    old = matrix[rows, column] - ord("0")
    matrix[rows, column] = (old + rng.integers(1, 10, len(ids))) % 10 + ord("0")
    return _from_matrix(matrix)


def _swap_digits(rng: np.random.Generator, ids: np.ndarray) -> np.ndarray:
    if not len(ids):
        return ids
    matrix = _digits_matrix(ids)
    rows = np.arange(len(ids))
    column = rng.integers(3, 11, len(ids))
    left = matrix[rows, column].copy()
    matrix[rows, column] = matrix[rows, column + 1]
    matrix[rows, column + 1] = left
    return _from_matrix(matrix)


def _unregistered_cmnd(rng: np.random.Generator, person: np.ndarray) -> np.ndarray:
    """One 9-digit CMND per person (the same on each of their records) that the register lacks:
    issued by a province code above the synthetic list's (``IdAllocator.cmnd_numbers``)."""
    people, index = np.unique(person, return_inverse=True)
    numbers = 970_000_000 + rng.integers(0, 30_000_000, len(people))
    return np.array([f"{n:09d}" for n in numbers], dtype=object)[index]


def _mistype_date_digit(rng: np.random.Generator, year: np.ndarray, month: np.ndarray,
                        day: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One of the eight digits of DDMMYYYY replaced by another; the date may become impossible
    (01/08/9968, 32/05/1990), as such slips do."""
    digits = np.stack([day // 10, day % 10, month // 10, month % 10,
                       year // 1000, year // 100 % 10, year // 10 % 10, year % 10], axis=1)
    rows = np.arange(len(year))
    column = rng.integers(0, 8, len(year))
    digits[rows, column] = (digits[rows, column] + rng.integers(1, 10, len(year))) % 10
    return (digits[:, 4] * 1000 + digits[:, 5] * 100 + digits[:, 6] * 10 + digits[:, 7],
            digits[:, 2] * 10 + digits[:, 3], digits[:, 0] * 10 + digits[:, 1])


def _with_separators(text: str, rng: np.random.Generator) -> str:
    sep = " " if rng.random() < 0.6 else "."
    return sep.join(text[i:i + 3] for i in range(0, len(text), 3))


def _strip_zeros(text: str) -> str:
    return text.lstrip("0") or "0"


def _scientific(text: str) -> str:
    """What Excel writes for a long number in a narrow General column: ``7.9084E+10``."""
    digits = text.lstrip("0")
    if not digits.isdigit():
        return text
    mantissa, exponent = f"{int(digits):.5E}".split("E")
    return f"{mantissa.rstrip('0').rstrip('.')}E{exponent}"
