"""The generator's tables: dose records as facilities export them, the register, the truth.

Each builder turns one chunk of generated people and doses into an Arrow table of its file's
schema; the writers (:mod:`vaxtrust.demo.writers`) append them.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.demo import exports
from vaxtrust.demo import reference as ref
from vaxtrust.demo.doses import Doses, facilities
from vaxtrust.demo.errors import KIND_CODES, DamagedIdentity, TrueRecords
from vaxtrust.demo.population import (
    PRECISION_DAY,
    PRECISION_MONTH,
    PRECISION_NAMES,
    ROLE_NAMES,
    Population,
)
from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS, TRUTH_COLUMNS

PERSON_COLUMNS: Final = (
    "person_key", "person_id", "in_register", "old_id", "passport_number", "nationality",
    "full_name", "dob", "dob_precision", "gender", "province_code", "district_code",
    "commune_code", "phone", "household_id", "household_role", "twin_of",
    "birth_registration_province",
)
_STRING = pa.string()
REGISTER_SCHEMA: Final = pa.schema([(c, _STRING) for c in REGISTER_COLUMNS])
TRUTH_SCHEMA: Final = pa.schema([(c, _STRING) for c in TRUTH_COLUMNS[:-1]]
                                + [("error_kinds", pa.list_(_STRING))])
PERSONS_SCHEMA: Final = pa.schema(
    [(c, pa.bool_() if c == "in_register" else _STRING) for c in PERSON_COLUMNS])
RECORDS_SCHEMA: Final = pa.schema([(c, _STRING) for c in DOSE_RECORD_COLUMNS])


def padded_keys(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    padded = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(_STRING), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def record_table(record_ids: pa.Array, order: np.ndarray, truth: TrueRecords, damaged: DamagedIdentity,
                  doses: Doses, profiles: exports.FacilityProfiles) -> pa.Table:
    facility = doses.facility[order]
    take = pa.array(order)
    dob = exports.format_dates(damaged.year[order], damaged.month[order], damaged.day[order],
                               profiles.date_format[facility])
    dob = pc.if_else(pa.array(damaged.year_only[order]), pa.array(damaged.year[order]).cast(_STRING), dob)
    dy, dm, dd = exports.date_parts(doses.date[order])
    vaccinated_on = exports.format_dates(dy, dm, dd, profiles.date_format[facility])
    province, district, commune = _address(truth, damaged, doses, order, profiles)
    dose_text = pa.array(doses.dose_number[order]).cast(_STRING)
    dose_text = pc.if_else(pa.array(profiles.dose_prefix[facility]),
                           pc.binary_join_element_wise("Mũi ", dose_text, ""), dose_text)
    vaccine_names = np.array([[v.names[min(s, len(v.names) - 1)] for s in range(4)] for v in ref.VACCINES],
                             dtype=object)
    vaccine = vaccine_names[doses.vaccine[order], profiles.vaccine_style[facility]]
    lot_prefix = np.array([v.lot_prefix for v in ref.VACCINES], dtype=object)[doses.vaccine[order]]
    lot_number = (doses.lot[order].astype(np.int64) * 7919 + 1021) % 9000 + 1000
    lot = pc.binary_join_element_wise(pa.array(lot_prefix, _STRING), pa.array(lot_number).cast(_STRING), "")
    phone = exports.format_phones(damaged.phone.take(take), profiles.phone_style[facility])
    columns = {
        "record_id": record_ids,
        "full_name": damaged.name.take(take),
        "dob": dob,
        "gender": exports.format_genders(damaged.gender[order], profiles.gender_code[facility]),
        "id_number": damaged.id_number.take(take),
        "phone": phone,
        "province": province, "district": district, "commune": commune,
        "dose_number": dose_text,
        "vaccine": pa.array(vaccine, _STRING),
        "lot": lot,
        "vaccinated_on": vaccinated_on,
        "facility_id": pa.array(facilities().facility_id[facility], _STRING),
    }
    return pa.table({c: pc.fill_null(columns[c], "") for c in DOSE_RECORD_COLUMNS}, schema=RECORDS_SCHEMA)


def _address(truth: TrueRecords, damaged: DamagedIdentity, doses: Doses, order: np.ndarray,
             profiles: exports.FacilityProfiles) -> tuple[pa.Array, pa.Array, pa.Array]:
    admin = ref.admin_units()
    commune = truth.commune[order]
    short = pa.array(profiles.short_address[doses.facility[order]])
    drop = damaged.drop_address[order]
    parts = []
    for names, bit in ((admin.province_name, 1), (admin.district_name, 2), (admin.commune_name, 4)):
        full = pa.array(names[commune], _STRING)
        text = pc.if_else(short, exports.short_admin_name(full), full)
        parts.append(pc.if_else(pa.array((drop & bit) != 0), "", text))
    return parts[0], parts[1], parts[2]


def truth_table(record_ids: pa.Array, truth: TrueRecords, order: np.ndarray, kinds: np.ndarray) -> pa.Table:
    take = pa.array(order)
    registered = truth.registered[order]
    true_id = pa.array(truth.id_number[order], _STRING)
    rows, cols = np.nonzero(kinds)
    offsets = np.concatenate([[0], np.cumsum(kinds.sum(axis=1))]).astype(np.int32)
    values = pa.array(np.array(KIND_CODES, dtype=object)[cols], _STRING)
    del rows
    return pa.table({
        "record_id": record_ids,
        "true_person_id": pc.if_else(pa.array(registered), true_id, pa.scalar(None, _STRING)),
        "true_full_name": truth.name.take(take),
        "true_dob": iso_dob(truth.dob[order], truth.precision[order]),
        "true_gender": pa.array(np.where(truth.female[order], "F", "M"), _STRING),
        "true_id_number": true_id,
        "error_kinds": pa.ListArray.from_arrays(pa.array(offsets), values),
    }, schema=TRUTH_SCHEMA)


def iso_dob(dates: np.ndarray, precision: np.ndarray) -> pa.Array:
    """ISO 8601 text at the known precision: 1984-10-10, 1950-03 or 1945."""
    iso = pa.array(dates.astype("datetime64[D]").astype(str), _STRING)
    length = np.where(precision == PRECISION_DAY, 10, np.where(precision == PRECISION_MONTH, 7, 4))
    return pc.choose(pa.array((length // 3 - 1).astype(np.int8)),
                     pc.utf8_slice_codeunits(iso, 0, 4), pc.utf8_slice_codeunits(iso, 0, 7),
                     iso)


def register_table(people: Population) -> pa.Table:
    admin = ref.admin_units()
    keep = people.in_register
    c = people.commune[keep]
    return pa.table({
        "person_id": pa.array(people.person_id[keep], _STRING),
        "old_id": pa.array(people.old_id[keep], _STRING),
        "full_name": people.full_name.filter(pa.array(keep)),
        "dob": iso_dob(people.dob[keep], people.dob_precision[keep]),
        "dob_precision": pa.array(np.array(PRECISION_NAMES, dtype=object)[people.dob_precision[keep]], _STRING),
        "gender": pa.array(np.where(people.female[keep], "F", "M"), _STRING),
        "province_code": pa.array(admin.province_code[c], _STRING),
        "district_code": pa.array(admin.district_code[c], _STRING),
        "commune_code": pa.array(admin.commune_code[c], _STRING),
        "phone": pa.array(people.register_phone[keep], _STRING),
    }, schema=REGISTER_SCHEMA)


def persons_table(people: Population, foreign: dict[str, np.ndarray], key_offset: int) -> pa.Table:
    admin = ref.admin_units()
    n_res, n_for = len(people), len(foreign["name"])
    keys = padded_keys("P", key_offset + np.arange(n_res + n_for), 10)
    twin_key = pc.if_else(pa.array(people.twin_of >= 0),
                          keys.take(pa.array(np.maximum(people.twin_of, 0))), pa.scalar(None, _STRING))
    communes = np.concatenate([people.commune, foreign["commune"]])
    none = pa.nulls(n_for, _STRING)

    def both(res: pa.Array | np.ndarray, fore: pa.Array | np.ndarray) -> pa.Array:
        return pa.concat_arrays([pa.array(res, _STRING) if not isinstance(res, pa.Array) else res,
                                 pa.array(fore, _STRING) if not isinstance(fore, pa.Array) else fore])

    precision = np.concatenate([people.dob_precision, np.zeros(n_for, dtype=np.int8)])
    return pa.table({
        "person_key": keys,
        "person_id": both(people.person_id, none),
        "in_register": pa.array(np.concatenate([people.in_register, np.zeros(n_for, bool)])),
        "old_id": both(people.old_id, none),
        "passport_number": both(pa.nulls(n_res, _STRING), foreign["passport"]),
        "nationality": both(np.full(n_res, "VN", dtype=object), foreign["nationality"]),
        "full_name": both(people.full_name, foreign["name"]),
        "dob": iso_dob(np.concatenate([people.dob, foreign["dob"]]), precision),
        "dob_precision": pa.array(np.array(PRECISION_NAMES, dtype=object)[precision], _STRING),
        "gender": pa.array(np.where(np.concatenate([people.female, foreign["female"]]), "F", "M"), _STRING),
        "province_code": pa.array(admin.province_code[communes], _STRING),
        "district_code": pa.array(admin.district_code[communes], _STRING),
        "commune_code": pa.array(admin.commune_code[communes], _STRING),
        "phone": both(people.phone, foreign["phone"]),
        "household_id": both(padded_keys("H", people.household, 10), none),
        "household_role": both(np.array(ROLE_NAMES, dtype=object)[people.role], none),
        "twin_of": both(twin_key, none),
        "birth_registration_province": both(people.birth_province, none),
    }, schema=PERSONS_SCHEMA)
