"""``vaxtrust generate``: a synthetic register, dose records as facilities export them, and the truth.

The population is made in chunks of whole households (``CHUNK_PERSONS``) so memory stays bounded
at 10 million persons; each chunk is written as it is finished. Output is deterministic for a
given seed, person count and error scale. Files are written to a sibling temporary folder and moved
into place only when complete (:func:`vaxtrust.folders.staged_folder`). The tables are built by
:mod:`vaxtrust.demo.tables` and written by :mod:`vaxtrust.demo.writers`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.console import Console, NoopConsole
from vaxtrust.demo import exports
from vaxtrust.demo import reference as ref
from vaxtrust.demo.doses import Doses, Facilities, facilities, schedule
from vaxtrust.demo.errors import (
    ERROR_KINDS,
    FOREIGNER_SHARE,
    KIND_CODES,
    KIND_INDEX,
    MISMATCH_FIELDS,
    ErrorModel,
    TrueRecords,
    error_rates,
)
from vaxtrust.demo.population import (
    NO_TOKEN,
    PRECISION_DAY,
    ROLE_CHILD,
    ROLE_HEAD,
    IdAllocator,
    Population,
    generate_population,
    is_none,
    mobile_numbers,
    only_where,
)
from vaxtrust.demo.tables import (
    PERSON_COLUMNS,
    padded_keys,
    persons_table,
    record_table,
    register_table,
    truth_table,
)
from vaxtrust.demo.writers import (
    MANIFEST_FILE,
    PERSONS_FILE,
    RECORD_FORMATS,
    RECORDS_FILE,
    RECORDS_TRUTH_FILE,
    REGISTER_FILE,
    TRUTH_DIR,
    XLSX_MAX_ROWS,
    Writers,
    records_file,
)
from vaxtrust.errors import ConfigError
from vaxtrust.folders import staged_folder

CHUNK_PERSONS: Final = 500_000
MAX_PERSONS: Final = 200_000_000
GENERATOR_VERSION: Final = "1"

_STRING = pa.string()

__all__ = [
    "MANIFEST_FILE", "PERSON_COLUMNS", "RECORDS_FILE", "REGISTER_FILE", "GenerateOptions",
    "generate", "records_file",
]

@dataclass(frozen=True)
class GenerateOptions:
    persons: int
    seed: int
    out: Path
    error_scale: float = 1.0
    overwrite: bool = False
    chunk_persons: int = CHUNK_PERSONS
    records_format: str = "csv"
    provinces: tuple[str, ...] = ()   # pre-2025 GSO codes; empty = the whole country

    def validate(self) -> None:
        if not 1 <= self.persons <= MAX_PERSONS:
            raise ConfigError(f"--persons must be between 1 and {MAX_PERSONS:,}, got {self.persons}")
        if self.seed < 0 or self.seed >= 2**63:
            raise ConfigError(f"--seed must be between 0 and 2**63-1, got {self.seed}")
        if not np.isfinite(self.error_scale) or not 0 <= self.error_scale <= 20:
            raise ConfigError(f"--error-scale must be between 0 and 20, got {self.error_scale}")
        if self.records_format not in RECORD_FORMATS:
            raise ConfigError(f"--format must be one of {', '.join(RECORD_FORMATS)}, "
                              f"got {self.records_format!r}")
        known = set(ref.admin_units().province_codes.tolist())
        for code in self.provinces:
            if code not in known:
                raise ConfigError(f"--province {code!r} is not a pre-2025 GSO province code "
                                  "(two digits, e.g. 01 Hà Nội, 40 Nghệ An, 79 Hồ Chí Minh)")
        if self.records_format == "xlsx" and self.persons > 400_000:
            raise ConfigError(f"--format xlsx is for up to 400,000 persons (one Excel sheet holds "
                              f"{XLSX_MAX_ROWS:,} records); got --persons {self.persons:,}")
        if self.chunk_persons < 1:
            raise ConfigError(f"chunk size must be positive, got {self.chunk_persons}")
        _check_out_dir(self.out, self.overwrite)


def _check_out_dir(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not overwrite:
            raise ConfigError(f"--out {out} is not empty; choose another folder or pass --overwrite")
        if not (out / MANIFEST_FILE).is_file():
            # --overwrite deletes the folder: only ever one this command wrote.
            raise ConfigError(f"--out {out} is not empty and holds no {MANIFEST_FILE}; "
                              "--overwrite only replaces a folder written by `vaxtrust generate`")
    parent = out.resolve().parent
    while not parent.exists():
        parent = parent.parent
    if not os.access(parent, os.W_OK | os.X_OK) or (out.is_dir() and not os.access(out, os.W_OK)):
        raise ConfigError(f"--out {out} is not writable")


@dataclass
class _Counts:
    residents: int = 0
    registered: int = 0
    foreigners: int = 0
    households: int = 0
    twins: int = 0
    records: int = 0
    records_in_register: int = 0
    vaccinated_residents: int = 0
    residents_with_mismatch: int = 0
    residents_without_usable_id: int = 0
    kinds: np.ndarray = field(default_factory=lambda: np.zeros(len(KIND_CODES), dtype=np.int64))


def generate(options: GenerateOptions, console: Console | None = None) -> dict[str, Any]:
    """Write a synthetic data set to ``options.out``; return the manifest."""
    options.validate()
    console = console or NoopConsole()
    rates = error_rates(options.error_scale)
    root = np.random.SeedSequence(options.seed)
    global_seq, ids_seq, chunk_root = root.spawn(3)
    global_rng = np.random.default_rng(global_seq)
    place = facilities()
    profiles = exports.facility_profiles(global_rng, len(place.facility_id))
    north = _facility_in_north(place)
    ids = IdAllocator(np.random.default_rng(ids_seq))
    counts = _Counts()

    with staged_folder(options.out) as staging:
        writers = Writers(staging, options.records_format)
        console.stage_started("generate", total=options.persons)
        done = 0
        for chunk_seq in chunk_root.spawn(_chunk_count(options)):
            size = min(options.chunk_persons, options.persons - done)
            rng = np.random.default_rng(chunk_seq)
            model = ErrorModel(rng, rates, profiles.sloppiness, north)
            _generate_chunk(rng, size, done, ids, model, profiles, writers, counts, rates,
                            tuple(sorted(set(options.provinces))))
            done += size
            console.rows_processed("generate", done)
        writers.close()
        manifest = _manifest(options, rates, counts)
        (staging / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                             encoding="utf-8")
    console.stage_finished("generate", rows=counts.records)
    return manifest


def _chunk_count(options: GenerateOptions) -> int:
    return -(-options.persons // options.chunk_persons)


def _facility_in_north(place: Facilities) -> np.ndarray:
    """TCVN3 was the northern habit, VNI the southern one (vn-facts §3.4); split after Huế (46)."""
    admin = ref.admin_units()
    district_province = np.zeros(len(admin.district_codes), dtype=np.int64)
    district_province[admin.district_index] = admin.province_code.astype(np.int64)
    province = np.empty(len(place.facility_id), dtype=np.int64)
    province[place.commune_station] = admin.province_code.astype(np.int64)
    province[place.district_centre] = district_province
    return province <= 46


# --- one chunk -------------------------------------------------------------------------------
def _generate_chunk(rng: np.random.Generator, size: int, person_offset: int, ids: IdAllocator,
                    model: ErrorModel, profiles: exports.FacilityProfiles, writers: Writers,
                    counts: _Counts, rates: dict[str, float], provinces: tuple[str, ...]) -> None:
    people = generate_population(rng, size, counts.households, ids,
                                 rates["person_not_in_register"], provinces)
    foreign = _foreigners(rng, int(round(size * FOREIGNER_SHARE)), provinces)
    key_offset = person_offset + counts.foreigners
    birth_year = np.concatenate([_years(people.dob), _years(foreign["dob"])])
    commune = np.concatenate([people.commune, foreign["commune"]])
    doses = schedule(rng, birth_year, commune)
    truth_records = _true_records(people, foreign, doses)
    damaged = model.apply(truth_records)
    order = _with_duplicates(rng, len(doses), rates["duplicate_entry"], profiles, doses)
    duplicate = np.zeros(len(order), dtype=bool)
    duplicate[len(doses):] = True

    record_ids = padded_keys("R", counts.records + np.arange(len(order)), 10)
    records = record_table(record_ids, order, truth_records, damaged, doses, profiles)
    kinds = damaged.kinds[order]
    kinds[:, KIND_INDEX["duplicate_entry"]] = duplicate
    writers.records.write_table(records)
    writers.truth.write_table(truth_table(record_ids, truth_records, order, kinds))
    persons = persons_table(people, foreign, key_offset)
    writers.persons.write_table(persons)
    writers.register.write_table(register_table(people))

    _count(counts, people, foreign, truth_records, order, kinds)


def _years(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _foreigners(rng: np.random.Generator, n: int, provinces: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Foreign residents: Latin upper-case names, passport numbers, living in the big cities
    (or anywhere in the chosen provinces when none of those cities is among them)."""
    country = rng.integers(len(ref.FOREIGN_NAMES), size=n)
    surname = np.empty(n, dtype=object)
    given = np.empty(n, dtype=object)
    prefix = np.empty(n, dtype=object)
    nationality = np.empty(n, dtype=object)
    for i, (code, surnames, givens, letter) in enumerate(ref.FOREIGN_NAMES):
        rows = country == i
        surname[rows] = np.array(surnames, dtype=object)[rng.integers(len(surnames), size=int(rows.sum()))]
        given[rows] = np.array(givens, dtype=object)[rng.integers(len(givens), size=int(rows.sum()))]
        prefix[rows], nationality[rows] = letter, code
    name = pc.binary_join_element_wise(pa.array(surname, _STRING), pa.array(given, _STRING), " ")
    passport = pc.binary_join_element_wise(
        pa.array(prefix, _STRING),
        pc.utf8_lpad(pa.array(rng.integers(0, 10**8, size=n)).cast(_STRING), 8, "0"), "")
    admin = ref.admin_units()
    city_codes = [c for c in ("79", "01", "74", "48", "27") if not provinces or c in provinces]
    cities = np.flatnonzero(np.isin(admin.province_code.astype(str), city_codes or list(provinces)))
    years = rng.integers(1955, 2001, size=n)
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    phones = only_where(mobile_numbers(rng, n), rng.random(n) < 0.7)
    return {
        "name": np.asarray(name.to_numpy(zero_copy_only=False), dtype=object), "passport": np.asarray(passport.to_numpy(zero_copy_only=False), dtype=object),
        "nationality": nationality, "female": rng.random(n) < 0.45,
        "dob": start + rng.integers(0, 365, size=n), "commune": cities[rng.integers(len(cities), size=n)].astype(np.int32),
        "phone": phones,
    }


def _true_records(people: Population, foreign: dict[str, np.ndarray], doses: Doses) -> TrueRecords:
    n_res = len(people)
    person = doses.person
    resident = person < n_res
    res_row = np.where(resident, person, 0)
    for_row = np.where(resident, 0, person - n_res)
    year = _years(people.dob)
    child = (year >= 2004) & (people.role == ROLE_CHILD)
    parent_id = _parent_ids(people)
    tokens = np.where(resident[:, None], people.name_tokens[res_row], NO_TOKEN)
    name = pc.if_else(pa.array(resident), people.full_name.take(pa.array(res_row)),
                      pa.array(foreign["name"][for_row] if len(foreign["name"]) else
                               np.full(len(person), ""), _STRING))
    # Children give the household's number; adults their own if they have one.
    phone_res = np.where(child | is_none(people.phone), people.household_phone, people.phone)

    def pick(res: np.ndarray, fore: np.ndarray | None, default: Any = None) -> np.ndarray:
        out = np.empty(len(person), dtype=res.dtype)
        out[resident] = res[res_row[resident]]
        out[~resident] = fore[for_row[~resident]] if fore is not None else default
        return out

    return TrueRecords(
        person=person, tokens=tokens, name=name,
        dob=pick(people.dob, foreign["dob"]),
        precision=pick(people.dob_precision, None, PRECISION_DAY),
        female=pick(people.female, foreign["female"]),
        id_number=pick(people.person_id, foreign["passport"]),
        old_id=pick(people.old_id, None, None), parent_id=pick(parent_id, None, None),
        child=pick(child, None, False), phone=pick(phone_res, foreign["phone"]),
        facility=doses.facility, commune=pick(people.commune, foreign["commune"]), foreign=~resident,
        registered=pick(people.in_register, None, False),
    )


def _parent_ids(people: Population) -> np.ndarray:
    """For children, the ID of the household head (whose ID parents put on children's forms)."""
    head_rows = np.flatnonzero(people.role == ROLE_HEAD)
    start = int(people.household.min(initial=0))
    head_of = np.full(int(people.household.max(initial=0)) - start + 1, -1, dtype=np.int64)
    head_of[people.household[head_rows] - start] = head_rows
    row = head_of[people.household - start]
    return only_where(people.person_id[np.maximum(row, 0)], (people.role == ROLE_CHILD) & (row >= 0))


def _with_duplicates(rng: np.random.Generator, n: int, rate: float,
                     profiles: exports.FacilityProfiles, doses: Doses) -> np.ndarray:
    """Row order of the export: every record once, some twice, shuffled as facilities mix them."""
    p = np.minimum(rate * profiles.sloppiness[doses.facility, 0], 0.95)
    copies = np.flatnonzero(rng.random(n) < p)
    shuffle = rng.permutation(n)
    return np.concatenate([shuffle, copies])


def _count(counts: _Counts, people: Population, foreign: dict[str, np.ndarray], truth: TrueRecords,
           order: np.ndarray, kinds: np.ndarray) -> None:
    n_res = len(people)
    counts.residents += n_res
    counts.registered += int(people.in_register.sum())
    counts.foreigners += len(foreign["name"])
    counts.households = int(people.household.max(initial=counts.households - 1)) + 1
    counts.twins += int((people.twin_of >= 0).sum())
    counts.records += len(order)
    counts.records_in_register += int(truth.registered[order].sum())
    counts.kinds += kinds.sum(axis=0)
    person = truth.person[order]
    resident = person < n_res
    mismatch_cols = [KIND_INDEX[k.code] for k in ERROR_KINDS if k.field in MISMATCH_FIELDS]
    no_id_cols = [KIND_INDEX["id_missing"], KIND_INDEX["id_scientific_notation"]]
    for target, cols in (("mismatch", mismatch_cols), ("no_id", no_id_cols)):
        flagged = np.zeros(n_res, dtype=bool)
        flagged[person[resident & kinds[:, cols].any(axis=1)]] = True
        if target == "mismatch":
            counts.residents_with_mismatch += int(flagged.sum())
        else:
            counts.residents_without_usable_id += int(flagged.sum())
    vaccinated = np.zeros(n_res, dtype=bool)
    vaccinated[person[resident]] = True
    counts.vaccinated_residents += int(vaccinated.sum())


def _manifest(options: GenerateOptions, rates: dict[str, float], counts: _Counts) -> dict[str, Any]:
    vaccinated = max(counts.vaccinated_residents, 1)
    return {
        "generator": "vaxtrust generate", "generator_version": GENERATOR_VERSION,
        "seed": options.seed, "persons": options.persons, "error_scale": options.error_scale,
        "provinces": sorted(set(options.provinces)),
        "chunk_persons": options.chunk_persons,
        "rates": rates, "foreigner_share": FOREIGNER_SHARE,
        "counts": {
            "residents": counts.residents, "registered": counts.registered,
            "foreigners": counts.foreigners, "households": counts.households,
            "twins": counts.twins, "records": counts.records,
            "records_in_register": counts.records_in_register,
            "vaccinated_residents": counts.vaccinated_residents,
            "error_kinds": {code: int(n) for code, n in zip(KIND_CODES, counts.kinds, strict=True)},
        },
        "shares": {
            "records_in_register": round(counts.records_in_register / max(counts.records, 1), 4),
            "vaccinated_residents_with_mismatch": round(counts.residents_with_mismatch / vaccinated, 4),
            "vaccinated_residents_without_usable_id": round(counts.residents_without_usable_id / vaccinated, 4),
        },
        "files": {
            "records": records_file(options.records_format), "register": REGISTER_FILE,
            "records_truth": f"{TRUTH_DIR}/{RECORDS_TRUTH_FILE}",
            "persons": f"{TRUTH_DIR}/{PERSONS_FILE}",
        },
    }
