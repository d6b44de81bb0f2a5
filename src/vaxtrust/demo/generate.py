"""``vaxtrust generate``: a synthetic register, dose records as facilities export them, and the truth.

The population is made in chunks of whole households (``CHUNK_PERSONS``) so memory stays bounded
at 10 million persons; each chunk is written as it is finished. Output is deterministic for a
given seed, person count and error scale. Files are written to a sibling temporary folder and moved
into place only when complete.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

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
    DamagedIdentity,
    ErrorModel,
    TrueRecords,
    error_rates,
)
from vaxtrust.demo.population import (
    NO_TOKEN,
    PRECISION_DAY,
    PRECISION_MONTH,
    PRECISION_NAMES,
    ROLE_CHILD,
    ROLE_HEAD,
    ROLE_NAMES,
    IdAllocator,
    Population,
    generate_population,
    is_none,
    mobile_numbers,
    only_where,
)
from vaxtrust.errors import ConfigError
from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS, TRUTH_COLUMNS

CHUNK_PERSONS: Final = 500_000
MAX_PERSONS: Final = 200_000_000
GENERATOR_VERSION: Final = "1"
RECORDS_FILE: Final = "records.csv"
RECORD_FORMATS: Final = ("csv", "parquet", "xlsx")
XLSX_MAX_ROWS: Final = 1_048_575   # one sheet of Excel, minus the header
REGISTER_FILE: Final = "register.parquet"
TRUTH_DIR: Final = "truth"
RECORDS_TRUTH_FILE: Final = "records_truth.parquet"
PERSONS_FILE: Final = "persons.parquet"
MANIFEST_FILE: Final = "manifest.json"

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


class _XlsxRecords:
    """Dose records as one Excel sheet of text cells, as facilities send them (small sets only)."""

    def __init__(self, path: Path) -> None:
        import xlsxwriter

        self._book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        self._sheet = self._book.add_worksheet("records")
        self._sheet.write_row(0, 0, DOSE_RECORD_COLUMNS)
        self._row = 1

    def write_table(self, table: pa.Table) -> None:
        if self._row + table.num_rows > XLSX_MAX_ROWS + 1:
            raise ConfigError(f"--format xlsx holds at most {XLSX_MAX_ROWS:,} records (one Excel "
                              "sheet); use csv or parquet, or fewer --persons")
        # Cells are written one by one: xlsx is an optional, small-data format.
        for values in zip(*(table[c].to_pylist() for c in DOSE_RECORD_COLUMNS), strict=True):
            for column, value in enumerate(values):
                self._sheet.write_string(self._row, column, value)
            self._row += 1

    def close(self) -> None:
        self._book.close()


class _Writers:
    """Chunked writers of every output file."""

    def __init__(self, folder: Path, records_format: str) -> None:
        (folder / TRUTH_DIR).mkdir(parents=True)
        self.records: pacsv.CSVWriter | pq.ParquetWriter | _XlsxRecords
        if records_format == "xlsx":
            self.records = _XlsxRecords(folder / records_file(records_format))
        elif records_format == "parquet":
            self.records = pq.ParquetWriter(str(folder / records_file(records_format)), RECORDS_SCHEMA)
        else:
            self.records = pacsv.CSVWriter(
                str(folder / RECORDS_FILE), RECORDS_SCHEMA,
                write_options=pacsv.WriteOptions(quoting_style="needed"))
        self.register = pq.ParquetWriter(str(folder / REGISTER_FILE), REGISTER_SCHEMA)
        self.truth = pq.ParquetWriter(str(folder / TRUTH_DIR / RECORDS_TRUTH_FILE), TRUTH_SCHEMA)
        self.persons = pq.ParquetWriter(str(folder / TRUTH_DIR / PERSONS_FILE), PERSONS_SCHEMA)

    def close(self) -> None:
        for writer in (self.records, self.register, self.truth, self.persons):
            writer.close()


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

    out = options.out.resolve()
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        staging.chmod(0o755)
    except OSError as error:
        raise ConfigError(f"--out {options.out} cannot be written: {error.strerror}") from error
    try:
        writers = _Writers(staging, options.records_format)
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
        _move_into_place(staging, out)
        console.stage_finished("generate", rows=counts.records)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return manifest


def records_file(records_format: str) -> str:
    """``records.csv``, ``records.parquet`` or ``records.xlsx``."""
    return f"records.{records_format}"


def _chunk_count(options: GenerateOptions) -> int:
    return -(-options.persons // options.chunk_persons)


def _move_into_place(staging: Path, out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    staging.rename(out)


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
                    model: ErrorModel, profiles: exports.FacilityProfiles, writers: _Writers,
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

    record_ids = _keys("R", counts.records + np.arange(len(order)), 10)
    records = _record_table(record_ids, order, truth_records, damaged, doses, profiles)
    kinds = damaged.kinds[order]
    kinds[:, KIND_INDEX["duplicate_entry"]] = duplicate
    writers.records.write_table(records)
    writers.truth.write_table(_truth_table(record_ids, truth_records, order, kinds))
    persons = _persons_table(people, foreign, key_offset)
    writers.persons.write_table(persons)
    writers.register.write_table(_register_table(people))

    _count(counts, people, foreign, truth_records, order, kinds)


def _years(dates: np.ndarray) -> np.ndarray:
    return dates.astype("datetime64[Y]").astype(np.int64) + 1970


def _keys(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    padded = pc.utf8_lpad(pa.array(numbers, pa.int64()).cast(_STRING), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


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


def _record_table(record_ids: pa.Array, order: np.ndarray, truth: TrueRecords, damaged: DamagedIdentity,
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


def _truth_table(record_ids: pa.Array, truth: TrueRecords, order: np.ndarray, kinds: np.ndarray) -> pa.Table:
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
        "true_dob": _iso_dob(truth.dob[order], truth.precision[order]),
        "true_gender": pa.array(np.where(truth.female[order], "F", "M"), _STRING),
        "true_id_number": true_id,
        "error_kinds": pa.ListArray.from_arrays(pa.array(offsets), values),
    }, schema=TRUTH_SCHEMA)


def _iso_dob(dates: np.ndarray, precision: np.ndarray) -> pa.Array:
    """ISO 8601 text at the known precision: 1984-10-10, 1950-03 or 1945."""
    iso = pa.array(dates.astype("datetime64[D]").astype(str), _STRING)
    length = np.where(precision == PRECISION_DAY, 10, np.where(precision == PRECISION_MONTH, 7, 4))
    return pc.choose(pa.array((length // 3 - 1).astype(np.int8)),
                     pc.utf8_slice_codeunits(iso, 0, 4), pc.utf8_slice_codeunits(iso, 0, 7),
                     iso)


def _register_table(people: Population) -> pa.Table:
    admin = ref.admin_units()
    keep = people.in_register
    c = people.commune[keep]
    return pa.table({
        "person_id": pa.array(people.person_id[keep], _STRING),
        "old_id": pa.array(people.old_id[keep], _STRING),
        "full_name": people.full_name.filter(pa.array(keep)),
        "dob": _iso_dob(people.dob[keep], people.dob_precision[keep]),
        "dob_precision": pa.array(np.array(PRECISION_NAMES, dtype=object)[people.dob_precision[keep]], _STRING),
        "gender": pa.array(np.where(people.female[keep], "F", "M"), _STRING),
        "province_code": pa.array(admin.province_code[c], _STRING),
        "district_code": pa.array(admin.district_code[c], _STRING),
        "commune_code": pa.array(admin.commune_code[c], _STRING),
        "phone": pa.array(people.register_phone[keep], _STRING),
    }, schema=REGISTER_SCHEMA)


def _persons_table(people: Population, foreign: dict[str, np.ndarray], key_offset: int) -> pa.Table:
    admin = ref.admin_units()
    n_res, n_for = len(people), len(foreign["name"])
    keys = _keys("P", key_offset + np.arange(n_res + n_for), 10)
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
        "dob": _iso_dob(np.concatenate([people.dob, foreign["dob"]]), precision),
        "dob_precision": pa.array(np.array(PRECISION_NAMES, dtype=object)[precision], _STRING),
        "gender": pa.array(np.where(np.concatenate([people.female, foreign["female"]]), "F", "M"), _STRING),
        "province_code": pa.array(admin.province_code[communes], _STRING),
        "district_code": pa.array(admin.district_code[communes], _STRING),
        "commune_code": pa.array(admin.commune_code[communes], _STRING),
        "phone": both(people.phone, foreign["phone"]),
        "household_id": both(_keys("H", people.household, 10), none),
        "household_role": both(np.array(ROLE_NAMES, dtype=object)[people.role], none),
        "twin_of": both(twin_key, none),
        "birth_registration_province": both(people.birth_province, none),
    }, schema=PERSONS_SCHEMA)


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
