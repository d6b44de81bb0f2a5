"""Standardise: the ``std_records`` and ``std_register`` tables of ``docs/pipeline-tables.md``.

Every column is one of the Vietnamese rules of :mod:`vaxtrust.vn`, in its SQL form
(:mod:`vaxtrust.vn.sql`), run once per distinct value and joined back. The stage itself is SQL
over the all-text ``raw_*`` tables of ingest; :func:`register_vn_functions` gives an engine what
that SQL calls (the name-repair functions and the admin-unit key tables) and :func:`run_standardise`
materialises both tables.

- :func:`standardise_records_sql` / :func:`standardise_register_sql` - the two queries;
- :func:`standardise_doses_sql` - only the dose columns of ``std_records`` (no functions or
  reference tables needed), for the store's dose-history refresh.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import pyarrow as pa

from vaxtrust.console import Console
from vaxtrust.engine import Engine
from vaxtrust.vn.sql import (
    admin_query,
    chain,
    date_stages,
    dose_number_sql,
    gender_sql,
    id_stages,
    name_query,
    phone_stages,
    python_functions,
    reference_tables,
    text_sql,
    vaccine_code_sql,
    vaccine_key_sql,
    vaccine_product_sql,
)


def register_vn_functions(engine: Engine) -> None:
    """Register the name-repair functions and the admin-unit key tables in ``engine``."""
    for name, function in python_functions().items():
        engine.register_function(name, _vectorised(function), [pa.string()], pa.string())
    for name, columns in reference_tables().items():
        engine.register(name, pa.table(columns))


def _vectorised(fn: Callable[[str | None], str | None]) -> Callable[[pa.Array], pa.Array]:
    def apply(values: pa.Array) -> pa.Array:
        return pa.array([fn(v) for v in values.to_pylist()], type=pa.string())
    return apply


def run_standardise(engine: Engine, console: Console, *, register: bool = True) -> None:
    """Materialise ``std_register`` and ``std_records`` from ``raw_register`` / ``raw_records``.

    ``register=False``: ``std_register`` is there already (a run's register cache)."""
    console.stage_started("standardise", 2)
    register_vn_functions(engine)
    if register:
        engine.create_table("std_register", standardise_register_sql("raw_register"),
                            stage="standardise")
    console.rows_processed("standardise", 1)
    engine.create_table("std_records", standardise_records_sql("raw_records"),
                        stage="standardise")
    console.stage_finished("standardise", engine.count("std_records"))


def _per_distinct(source: str, column: str, stages: Sequence[list[tuple[str, str]]],
                  outputs: Sequence[str], prefix: str) -> str:
    """Run ``stages`` once per distinct value of ``column`` (values repeat across doses)."""
    return "(" + chain(f"(SELECT DISTINCT {column} FROM {source})", stages,
                       [column, *outputs], prefix) + ")"


def _join(alias: str, query: str, columns: Sequence[str]) -> str:
    condition = " AND ".join(f"s.{c} IS NOT DISTINCT FROM {alias}.{c}" for c in columns)
    return f"LEFT JOIN {query} {alias} ON {condition}"


NAME_COLUMNS: Final = ("n.name_canonical", "n.name_fold", "n.surname_fold", "n.middle_fold",
                       "n.given_fold", "n.name_flags")
_DATE_OUT: Final = ("date", "year", "month", "day", "precision")


# A record's date of birth typed in full that is no date of birth (01/08/9968, 1655-09-20,
# 32/05/1990): its digits as yyyymmdd (vn.dates.ParsedDate.typed_digits), so that matching can
# see a one-digit slip of the register person's date (compare.DOB_VERDICT_SQL); the date itself
# stays unknown.
_DOB_TYPED: Final = (
    "CASE WHEN dob_precision IS NULL AND dob_y0 IS NOT NULL AND dob_m0 IS NOT NULL "
    "AND dob_d0 IS NOT NULL THEN lpad(CAST(dob_y0 AS VARCHAR), 4, '0') "
    "|| lpad(CAST(dob_m0 AS VARCHAR), 2, '0') || lpad(CAST(dob_d0 AS VARCHAR), 2, '0') END")


def _dob_columns(alias: str, p: str) -> list[str]:
    return [f"{alias}.{p}_date AS dob", f"{alias}.{p}_year AS dob_year",
            f"{alias}.{p}_month AS dob_month", f"{alias}.{p}_day AS dob_day",
            f"{alias}.{p}_precision AS dob_precision"]


def _simple(source: str, column: str, expr: str, alias: str) -> str:
    return f"(SELECT {column}, {expr} AS {alias} FROM (SELECT DISTINCT {column} FROM {source}))"


DOSE_COLUMNS: Final = (
    "dn.dn AS dose_number", "vc.mp AS vaccine_mp", "vc.ma AS vaccine_ma", "vc.vp AS vaccine_vp",
    "CASE WHEN v.vax_precision = 'day' THEN v.vax_date END AS vaccinated_on",
    f"{text_sql('s.facility_id')} AS facility_id",
)
"""The dose columns of ``std_records``, over the joins of :func:`_dose_joins`."""


def _dose_joins(src: str) -> tuple[str, str, str]:
    """The joins (aliases v, dn, vc) giving a dose's date, number and product codes."""
    product = vaccine_product_sql(vaccine_key_sql("vaccine"))
    vaccine = (f"(SELECT vaccine, {vaccine_code_sql('p', 'mp')} AS mp, "
               f"{vaccine_code_sql('p', 'ma')} AS ma, {vaccine_code_sql('p', 'vp')} AS vp "
               f"FROM (SELECT vaccine, {product} AS p FROM (SELECT DISTINCT vaccine FROM {src})))")
    return (
        _join("v", _per_distinct(src, "vaccinated_on", date_stages("vaccinated_on", "vax"),
                                 ["vax_date", "vax_precision"], "_vn_v"), ["vaccinated_on"]),
        _join("dn", _simple(src, "dose_number", dose_number_sql("dose_number"), "dn"),
              ["dose_number"]),
        _join("vc", vaccine, ["vaccine"]),
    )


def standardise_records_sql(source_table: str = "raw_records") -> str:
    """The ``std_records`` query over an all-text ``raw_records`` table."""
    src = source_table
    vaccinated_on, dose_number, vaccine = _dose_joins(src)
    joins = [
        _join("n", name_query(src), ["full_name"]),
        _join("d", _per_distinct(src, "dob", [*date_stages("dob", "dob"),
                                              [("dob_typed", _DOB_TYPED)]],
                                 [*(f"dob_{o}" for o in _DATE_OUT), "dob_typed"], "_vn_d"),
              ["dob"]),
        vaccinated_on,
        _join("i", _per_distinct(src, "id_number", id_stages("id_number", "id"),
                                 ["id_clean", "id_kind", "id_repairs"], "_vn_i"), ["id_number"]),
        _join("ph", _per_distinct(src, "phone", phone_stages("phone", "ph"), ["ph_number"],
                                  "_vn_p"), ["phone"]),
        _join("g", _simple(src, "gender", gender_sql("gender"), "g"), ["gender"]),
        dose_number,
        vaccine,
        _join("a", admin_query(src), ["province", "district", "commune"]),
    ]
    select = [
        "s.record_id", "s.source", "CAST(s.row_number AS BIGINT) AS row_number", *NAME_COLUMNS,
        *_dob_columns("d", "dob"), "d.dob_typed", "g.g AS gender", "i.id_clean", "i.id_kind", "i.id_repairs",
        "ph.ph_number AS phone", "a.province_code", "a.district_code", "a.commune_code",
        *DOSE_COLUMNS, f"{text_sql('s.lot')} AS lot",
    ]
    return f"SELECT {', '.join(select)} FROM {src} s {' '.join(joins)}"


def standardise_doses_sql(source_table: str = "raw_records") -> str:
    """The columns of ``std_records`` that consolidation reads, over an all-text table with
    ``record_id, source, row_number, dose_number, vaccine, vaccinated_on, facility_id``.

    The same expressions as :func:`standardise_records_sql`, without the identity columns: the
    store recomputes a person's dose history from its records' original values with these.
    """
    src = source_table
    select = ["s.record_id", "s.source", "CAST(s.row_number AS BIGINT) AS row_number",
              *DOSE_COLUMNS]
    return f"SELECT {', '.join(select)} FROM {src} s {' '.join(_dose_joins(src))}"


def standardise_register_sql(source_table: str = "raw_register") -> str:
    """The ``std_register`` query over an all-text ``raw_register`` table.

    The register's ``dob_precision`` (day, month, year) caps the precision parsed from ``dob``.
    """
    src = source_table
    precision = ("CASE WHEN d.dob_precision IS NULL THEN NULL "
                 "WHEN lower(trim(s.dob_precision)) = 'year' OR d.dob_precision = 'year' "
                 "THEN 'year' WHEN lower(trim(s.dob_precision)) = 'month' "
                 "OR d.dob_precision = 'month' THEN 'month' ELSE 'day' END")
    joins = [
        _join("n", name_query(src), ["full_name"]),
        _join("d", _per_distinct(src, "dob", date_stages("dob", "dob"),
                                 [f"dob_{o}" for o in _DATE_OUT], "_vn_d"), ["dob"]),
        _join("g", _simple(src, "gender", gender_sql("gender"), "g"), ["gender"]),
    ]
    inner = [
        "s.person_id", *NAME_COLUMNS, "d.dob_year AS _y", "d.dob_month AS _m", "d.dob_day AS _d",
        f"{precision} AS dob_precision", "g.g AS gender", "s.id_clean", "s.id_kind",
        "s.id_repairs", "CASE WHEN s.old_kind = 'cmnd' THEN s.old_clean END AS old_id",
        "s.ph_number AS phone", f"{text_sql('s.province_code')} AS province_code",
        f"{text_sql('s.district_code')} AS district_code",
        f"{text_sql('s.commune_code')} AS commune_code",
    ]
    # A person's ID is unique, and so are the old ID and the phone where given (half the
    # rows give none): parsed on every row, as a DISTINCT and a join back would cost more
    # than they save.
    persons = "(" + chain(src, [*id_stages("person_id", "id"), *id_stages("old_id", "old"),
                                *phone_stages("phone", "ph")], ["*"], "_vn_r") + ")"
    capped = f"SELECT {', '.join(inner)} FROM {persons} s {' '.join(joins)}"
    return (
        "SELECT person_id, name_canonical, name_fold, surname_fold, middle_fold, given_fold, "
        "name_flags, CASE WHEN dob_precision IS NOT NULL THEN make_date(_y, "
        "CASE WHEN dob_precision = 'year' THEN 1 ELSE _m END, "
        "CASE WHEN dob_precision = 'day' THEN _d ELSE 1 END) END AS dob, "
        "_y AS dob_year, CASE WHEN dob_precision IN ('day', 'month') THEN _m END AS dob_month, "
        "CASE WHEN dob_precision = 'day' THEN _d END AS dob_day, dob_precision, gender, "
        "id_clean, id_kind, id_repairs, old_id, phone, province_code, district_code, "
        f"commune_code FROM ({capped})"
    )
