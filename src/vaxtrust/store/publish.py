"""Publish a cleaning run into the operational store: in bulk, idempotently, all or nothing.

1. DuckDB reads and checks the run's Parquet files and the original inputs, and prepares staging
   rows (one per record, candidate, review reason, register person, dose).
2. One store transaction loads them into temporary tables (``COPY`` on PostgreSQL) and applies
   them with set-based SQL that runs unchanged on SQLite and PostgreSQL.

Rules: a run whose files were published before changes nothing. A newer run updates the records
it covers, supersedes their open review items and opens new ones, but leaves every record an
officer has already decided exactly as decided. Originals are never overwritten: each change of a
current value becomes a ``correction`` row naming the run and its reason codes.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from vaxtrust.console import Console, NoopConsole
from vaxtrust.engine.duckdb import DuckDBEngine
from vaxtrust.errors import InputError, StoreError
from vaxtrust.schema import (
    DOSE_HISTORY_COLUMNS,
    DOSE_RECORD_COLUMNS,
    REGISTER_COLUMNS,
    RESULT_COLUMNS,
    REVIEW_CANDIDATE_COLUMNS,
    RUN_DOSE_HISTORY,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
    RUN_SUMMARY,
    Status,
)
from vaxtrust.store import audit
from vaxtrust.store.doses import refresh_dose_history
from vaxtrust.store.scope import Actor, Permission
from vaxtrust.store.tables import Run, utc_now_text

UNASSIGNED_FACILITY = "unassigned"
UNKNOWN_PROVINCE = "unknown"
IDENTITY_FIELDS = ("full_name", "dob", "gender", "id_number")
ORIGINAL_FIELDS = tuple(c for c in DOSE_RECORD_COLUMNS if c != "record_id")
# Where a run directory may keep copies of its inputs (checked in this order).
RUN_RECORDS_NAMES = ("records.parquet", "records.csv", "inputs/records.parquet",
                     "inputs/records.csv")
RUN_REGISTER_NAMES = ("register.parquet", "register.csv", "inputs/register.parquet",
                      "inputs/register.csv")
_BATCH_ROWS = 50_000

# Staging tables: name → columns (all text except where the type is given).
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "stage_records": (
        "record_id", "facility_id", "province_code", "commune_code",
        *(f"original_{name}" for name in ORIGINAL_FIELDS),
        *IDENTITY_FIELDS, "status", "person_id", "confidence", "reasons", "input_order", "action",
    ),
    "stage_persons": REGISTER_COLUMNS,
    "stage_candidates": ("record_id", "rank", "person_id", "match_probability", "comparison",
                         "reasons"),
    "stage_reasons": ("record_id", "reason"),
    "stage_doses": ("person_id", "record_id", "dose_number", "vaccine_mp", "vaccine_ma",
                    "vaccine_vp", "vaccinated_on", "facility_id", "duplicate_of", "flags"),
    "stage_facilities": ("facility_id", "name", "province_code"),
}
_STAGE_TYPES = {"confidence": "DOUBLE PRECISION", "match_probability": "DOUBLE PRECISION",
                "rank": "INTEGER", "dose_number": "INTEGER", "input_order": "BIGINT"}
# input_order = rank of the source file * this + row in the file (no file holds this many).
_FILE_STRIDE = 1_000_000_000_000


@dataclass(frozen=True)
class RunInputs:
    """The files of one publish: the run directory and the original inputs of the run.

    ``mappings`` (file header → standard column, per kind) are the header mappings the run used,
    so the originals are read exactly as the run read them.
    """

    run_dir: Path
    records: tuple[Path, ...]
    register: Path
    facilities: Path | None = None
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def locate(cls, run_dir: Path, records: Sequence[Path] = (), register: Path | None = None,
               facilities: Path | None = None) -> RunInputs:
        """The given inputs, else copies kept in the run directory, else the run's own sources."""
        if not (run_dir / RUN_RESULTS).is_file():
            raise InputError(f"not a cleaning run: {RUN_RESULTS} is missing", path=str(run_dir))
        summary = _read_summary(run_dir)
        mappings: dict[str, dict[str, str]] = {}
        found_records = tuple(records)
        if not found_records:
            found_records, mappings["records"] = _find_inputs(
                run_dir, RUN_RECORDS_NAMES, summary, "records")
        found_register = register
        if found_register is None:
            registers, mappings["register"] = _find_inputs(
                run_dir, RUN_REGISTER_NAMES, summary, "register")
            found_register = registers[0] if registers else None
        missing = [option for option, found in (("--records", found_records),
                                                ("--register", found_register)) if not found]
        if missing:
            raise InputError(
                "the run keeps no copy of its original inputs: give "
                + " and ".join(missing) + " (standard import schema, CSV, XLSX or Parquet)",
                path=str(run_dir),
            )
        assert found_register is not None
        for path in (*found_records, found_register, facilities):
            if path is not None and not path.is_file():
                raise InputError("file not found", path=str(path))
        return cls(run_dir, found_records, found_register, facilities, mappings)


def _read_summary(run_dir: Path) -> dict[str, Any]:
    path = run_dir / RUN_SUMMARY
    if not path.is_file():
        return {}
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise InputError(f"not valid JSON: {error}", path=str(path)) from error
    return summary if isinstance(summary, dict) else {}


def _find_inputs(run_dir: Path, names: tuple[str, ...], summary: dict[str, Any],
                 kind: str) -> tuple[tuple[Path, ...], dict[str, str]]:
    """A copy inside the run directory, else the source files (and header mapping) the run's
    summary names, as given or relative to the run directory's parent."""
    for name in names:
        if (run_dir / name).is_file():
            return (run_dir / name,), {}
    sources = summary.get("sources")
    entries = [source for source in (sources if isinstance(sources, list) else [])
               if isinstance(source, dict) and source.get("kind") == kind
               and isinstance(source.get("source"), str)]
    paths: list[Path] = []
    mapping: dict[str, str] = {}
    for entry in entries:
        given = Path(entry["source"])
        found = next((path for path in (given, run_dir.parent / given) if path.is_file()), None)
        if found is None:
            return (), {}
        paths.append(found)
        columns = entry.get("columns")
        if isinstance(columns, dict):
            mapping.update({str(header): str(column) for column, header in columns.items()})
    return tuple(paths), mapping


@dataclass(frozen=True)
class PublishReport:
    run_id: str
    content_hash: str
    already_published: bool
    records: int = 0
    new_records: int = 0
    updated_records: int = 0
    kept_decisions: int = 0
    review_items: int = 0
    superseded_items: int = 0
    corrections: int = 0
    signing_queued: int = 0


def content_hash(run_dir: Path) -> str:
    """SHA-256 over the run's result files: the same run always hashes the same."""
    digest = hashlib.sha256()
    for name in (RUN_RESULTS, RUN_REVIEW_CANDIDATES, RUN_DOSE_HISTORY):
        path = run_dir / name
        if path.is_file():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    return digest.hexdigest()


# ---------------------------------------------------------------- preparation (DuckDB)

def _read_table_sql(path: Path) -> str:
    quoted = str(path).replace("'", "''")
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet('{quoted}')"
    if suffix in (".csv", ".txt"):
        return f"read_csv('{quoted}', all_varchar=true, header=true)"
    raise InputError("unsupported file type: use CSV or Parquet", path=str(path))


def _register_view(con: duckdb.DuckDBPyConnection, name: str, path: Path,
                   required: tuple[str, ...]) -> None:
    try:
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM {_read_table_sql(path)}")
        columns = [row[0] for row in con.execute(f"DESCRIBE {name}").fetchall()]
    except duckdb.Error as error:
        raise InputError(f"cannot read: {error}", path=str(path)) from error
    missing = [column for column in required if column not in columns]
    if missing:
        raise InputError(f"missing columns: {', '.join(missing)}", path=str(path))


def _ingest_originals(engine: DuckDBEngine, inputs: RunInputs) -> None:
    """Read the original inputs exactly as the cleaning run did (same readers and repairs)."""
    from vaxtrust.ingest.load import ingest

    ingest(engine, "records", list(inputs.records), mapping=inputs.mappings.get("records"))
    ingest(engine, "register", [inputs.register], mapping=inputs.mappings.get("register"))
    # The run collapsed repeated record ids to their first row; keep the same one.
    engine.execute("""CREATE VIEW records AS SELECT * FROM raw_records
                      QUALIFY row_number() OVER (PARTITION BY record_id
                                                 ORDER BY source, row_number) = 1""")
    engine.execute("CREATE VIEW register AS SELECT * FROM raw_register")
    _register_admin_codes(engine)


def _register_admin_codes(engine: DuckDBEngine) -> None:
    """Province and commune codes of each distinct typed address, by the cleaning's own rules
    (``vn.admin``); few distinct addresses even in a million records."""
    from vaxtrust.vn import admin

    places = engine.connection.execute(
        "SELECT DISTINCT province, district, commune FROM records").fetchall()
    codes = [admin.parse(province, district, commune) for province, district, commune in places]
    engine.register("admin_codes", pa.table({
        "province": [place[0] for place in places],
        "district": [place[1] for place in places],
        "commune": [place[2] for place in places],
        "province_code": [code.province_code for code in codes],
        "commune_code": [code.commune_code for code in codes],
    }, schema=pa.schema([(name, pa.string()) for name in (
        "province", "district", "commune", "province_code", "commune_code")])))


def _text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def _json_list(column: str) -> str:
    return f"coalesce(CAST(to_json({column}) AS VARCHAR), '[]')"


def _code(column: str, width: int) -> str:
    """Numeric admin codes get their leading zeros back; other text is kept trimmed."""
    value = f"trim(CAST({column} AS VARCHAR))"
    return (f"CASE WHEN regexp_full_match({value}, '[0-9]{{1,{width}}}') "
            f"THEN lpad({value}, {width}, '0') ELSE nullif({value}, '') END")


def _fail_on(con: duckdb.DuckDBPyConnection, sql: str, message: str, path: Path,
             field: str | None = None) -> None:
    """Raise InputError naming up to 5 offending rows when ``sql`` returns any."""
    rows = con.execute(sql + " LIMIT 5").fetchall()
    if rows:
        examples = ", ".join(str(row[0]) for row in rows)
        raise InputError(f"{message}: {examples}", path=str(path), field=field)


def _validate(con: duckdb.DuckDBPyConnection, inputs: RunInputs, has_candidates: bool) -> None:
    results = inputs.run_dir / RUN_RESULTS
    statuses = ", ".join(f"'{status.value}'" for status in Status)
    _fail_on(con, "SELECT 'row ' || row_number() OVER () FROM results WHERE record_id IS NULL",
             "results rows without record_id", results, "record_id")
    _fail_on(con, "SELECT record_id FROM results GROUP BY record_id HAVING count(*) > 1",
             "record_id repeated in results", results, "record_id")
    _fail_on(con, f"SELECT record_id || ' (' || coalesce(status, 'empty') || ')' FROM results "
             f"WHERE status IS NULL OR status NOT IN ({statuses})",
             f"unknown status (use {statuses})", results, "status")
    _fail_on(con, "SELECT record_id FROM results WHERE status IN ('verified', 'corrected') "
             "AND person_id IS NULL", "linked records without person_id", results, "person_id")
    _fail_on(con, "SELECT r.record_id FROM results r LEFT JOIN records o USING (record_id) "
             "WHERE o.record_id IS NULL AND r.status <> 'rejected'",
             "results rows without their original record", inputs.records[0], "record_id")
    _fail_on(con, "SELECT person_id FROM register GROUP BY person_id HAVING count(*) > 1",
             "person_id repeated in the register file", inputs.register, "person_id")
    _fail_on(con, "SELECT r.record_id || ' → ' || r.person_id FROM results r "
             "LEFT JOIN register p USING (person_id) "
             "WHERE r.person_id IS NOT NULL AND p.person_id IS NULL",
             "results link persons missing from the register", inputs.register, "person_id")
    if not has_candidates:
        _fail_on(con, "SELECT record_id FROM results WHERE status = 'review'",
                 f"review records but no {RUN_REVIEW_CANDIDATES}", results, "status")
        return
    candidates = inputs.run_dir / RUN_REVIEW_CANDIDATES
    _fail_on(con, "SELECT c.record_id FROM candidates c LEFT JOIN results r USING (record_id) "
             "WHERE r.record_id IS NULL OR r.status <> 'review'",
             "candidates for records that are not under review", candidates, "record_id")
    _fail_on(con, "SELECT record_id FROM candidates WHERE rank IS NULL OR rank < 1 "
             "OR person_id IS NULL", "candidates without a rank ≥ 1 or a person_id",
             candidates, "rank")
    _fail_on(con, "SELECT record_id || ' rank ' || rank FROM candidates "
             "GROUP BY record_id, rank HAVING count(*) > 1",
             "candidate rank repeated", candidates, "rank")
    _fail_on(con, "SELECT c.person_id FROM candidates c LEFT JOIN register p USING (person_id) "
             "WHERE p.person_id IS NULL", "candidates missing from the register",
             inputs.register, "person_id")


def _current(field: str) -> str:
    corrected = f"r.corrected_{field}"
    return f"coalesce({_text(corrected)}, {_text('o.' + field)})"


def _stage_queries(has_candidates: bool, has_doses: bool, has_facilities: bool) -> dict[str, str]:
    originals = ", ".join(f"{_text('o.' + name)} AS original_{name}" for name in ORIGINAL_FIELDS)
    identity = ", ".join(f"{_current(name)} AS {name}" for name in IDENTITY_FIELDS)
    queries = {
        "stage_records": f"""
            SELECT r.record_id,
                   coalesce(nullif(trim({_text('o.facility_id')}), ''),
                            '{UNASSIGNED_FACILITY}') AS facility_id,
                   coalesce(a.province_code, {_code('o.province', 2)}, '{UNKNOWN_PROVINCE}')
                       AS province_code,
                   coalesce(a.commune_code, {_code('o.commune', 5)}) AS commune_code,
                   {originals}, {identity},
                   r.status, {_text('r.person_id')} AS person_id,
                   CAST(r.confidence AS DOUBLE) AS confidence,
                   {_json_list('r.reasons')} AS reasons,
                   CAST(f.file_rank * {_FILE_STRIDE} + o.row_number AS BIGINT) AS input_order,
                   'new' AS action
            FROM results r LEFT JOIN records o USING (record_id)
                 LEFT JOIN (SELECT source, row_number() OVER (ORDER BY source) AS file_rank
                            FROM (SELECT DISTINCT source FROM raw_records)) f
                      ON f.source = o.source
                 LEFT JOIN admin_codes a ON a.province IS NOT DISTINCT FROM o.province
                      AND a.district IS NOT DISTINCT FROM o.district
                      AND a.commune IS NOT DISTINCT FROM o.commune
            ORDER BY r.record_id""",
        "stage_persons": f"""
            SELECT {", ".join(_text(c) + " AS " + c for c in REGISTER_COLUMNS)}
            FROM register p
            WHERE p.person_id IN (SELECT person_id FROM results)
               {"OR p.person_id IN (SELECT person_id FROM candidates)" if has_candidates else ""}
               OR p.person_id IN (SELECT id_number FROM records)
               OR p.old_id IN (SELECT id_number FROM records)""",
        "stage_reasons": """
            SELECT DISTINCT record_id, CAST(reason AS VARCHAR) AS reason
            FROM (SELECT record_id, unnest(reasons) AS reason FROM results
                  WHERE status = 'review') WHERE reason IS NOT NULL""",
    }
    if has_candidates:
        queries["stage_candidates"] = f"""
            SELECT record_id, CAST(rank AS INTEGER) AS rank, {_text('person_id')} AS person_id,
                   CAST(match_probability AS DOUBLE) AS match_probability,
                   coalesce({_text('comparison')}, '{{}}') AS comparison,
                   {_json_list('reasons')} AS reasons
            FROM candidates"""
    if has_doses:
        queries["stage_doses"] = f"""
            SELECT {_text('d.person_id')} AS person_id, d.record_id,
                   CAST(d.dose_number AS INTEGER) AS dose_number,
                   {_text('d.vaccine_mp')} AS vaccine_mp, {_text('d.vaccine_ma')} AS vaccine_ma,
                   {_text('d.vaccine_vp')} AS vaccine_vp,
                   {_text('d.vaccinated_on')} AS vaccinated_on,
                   {_text('d.facility_id')} AS facility_id,
                   {_text('d.duplicate_of')} AS duplicate_of, {_json_list('d.flags')} AS flags
            FROM doses d JOIN results r ON r.record_id = d.record_id
                         AND r.person_id = CAST(d.person_id AS VARCHAR)"""
    if has_facilities:
        queries["stage_facilities"] = f"""
            SELECT trim({_text('facility_id')}) AS facility_id, {_text('name')} AS name,
                   {_code('province_code', 2)} AS province_code
            FROM facilities WHERE nullif(trim({_text('facility_id')}), '') IS NOT NULL"""
    return queries


def prepare(engine: DuckDBEngine, inputs: RunInputs) -> dict[str, str]:
    """Read and check every input; return the staging queries to stream into the store."""
    con = engine.connection
    _ingest_originals(engine, inputs)
    _register_view(con, "results", inputs.run_dir / RUN_RESULTS, RESULT_COLUMNS)
    has_candidates = (inputs.run_dir / RUN_REVIEW_CANDIDATES).is_file()
    has_doses = (inputs.run_dir / RUN_DOSE_HISTORY).is_file()
    if has_candidates:
        _register_view(con, "candidates", inputs.run_dir / RUN_REVIEW_CANDIDATES,
                       REVIEW_CANDIDATE_COLUMNS)
    if has_doses:
        _register_view(con, "doses", inputs.run_dir / RUN_DOSE_HISTORY, DOSE_HISTORY_COLUMNS)
    if inputs.facilities is not None:
        _register_view(con, "facilities", inputs.facilities,
                       ("facility_id", "name", "province_code"))
    try:
        _validate(con, inputs, has_candidates)
    except duckdb.Error as error:
        raise InputError(f"cannot check the run: {error}", path=str(inputs.run_dir)) from error
    return _stage_queries(has_candidates, has_doses, inputs.facilities is not None)


# ---------------------------------------------------------------- loading (store)

def _create_stage_tables(connection: Connection) -> None:
    for table, columns in STAGE_COLUMNS.items():
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        spec = ", ".join(f"{column} {_STAGE_TYPES.get(column, 'TEXT')}" for column in columns)
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {table} ({spec})")


def _drop_stage_tables(connection: Connection) -> None:
    for table in STAGE_COLUMNS:
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def _batches(con: duckdb.DuckDBPyConnection, sql: str) -> Iterator[pa.RecordBatch]:
    reader = con.sql(sql).to_arrow_reader(_BATCH_ROWS)
    yield from reader


def _copy_postgres(connection: Connection, table: str, columns: tuple[str, ...],
                   batches: Iterator[pa.RecordBatch]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    rows = 0
    options = pa_csv.WriteOptions(include_header=False)
    with raw.cursor() as cursor, cursor.copy(
        f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
    ) as copy:
        for batch in batches:
            buffer = io.BytesIO()
            pa_csv.write_csv(batch, buffer, options)
            copy.write(buffer.getvalue())
            rows += batch.num_rows
    return rows


def _insert_sqlite(connection: Connection, table: str, columns: tuple[str, ...],
                   batches: Iterator[pa.RecordBatch]) -> int:
    raw = connection.connection.driver_connection
    assert raw is not None
    statement = (f"INSERT INTO {table} ({', '.join(columns)}) "
                 f"VALUES ({', '.join('?' for _ in columns)})")
    rows = 0
    cursor = raw.cursor()
    for batch in batches:
        values = [batch.column(name).to_pylist() for name in columns]
        cursor.executemany(statement, zip(*values, strict=True))
        rows += batch.num_rows
    cursor.close()
    return rows


def _load_stage(connection: Connection, con: duckdb.DuckDBPyConnection, queries: dict[str, str],
                console: Console) -> dict[str, int]:
    counts: dict[str, int] = {}
    loader = _copy_postgres if connection.dialect.name == "postgresql" else _insert_sqlite
    for table, sql in queries.items():
        console.stage_started(f"publish: load {table}")
        counts[table] = loader(connection, table, STAGE_COLUMNS[table], _batches(con, sql))
        console.stage_finished(f"publish: load {table}", counts[table])
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"ANALYZE {table}")
    if connection.dialect.name == "sqlite":
        # SQLite has no hash joins: without these its planner loops over the staged rows.
        for table, column in (("stage_records", "record_id"), ("stage_candidates", "record_id"),
                              ("stage_reasons", "record_id"), ("stage_doses", "record_id")):
            connection.exec_driver_sql(f"CREATE INDEX {table}_{column} ON {table} ({column})")
        connection.exec_driver_sql("ANALYZE")
    return counts


# ---------------------------------------------------------------- applying (store SQL)

def _run_sql(connection: Connection, sql: str, **params: Any) -> int:
    result = connection.execute(text(sql), params)
    return int(getattr(result, "rowcount", 0) or 0)


def _apply_reference_data(connection: Connection) -> None:
    """Provinces, facilities and register persons the records refer to."""
    _run_sql(connection, """
        INSERT INTO province (code)
        SELECT DISTINCT province_code FROM stage_facilities
        WHERE province_code IS NOT NULL
          AND province_code NOT IN (SELECT code FROM province)""")
    # The facilities file names facilities; a known facility keeps its province (its scope).
    _run_sql(connection, """
        INSERT INTO facility (facility_id, name, province_code)
        SELECT facility_id, max(name), max(province_code) FROM stage_facilities
        WHERE province_code IS NOT NULL
        GROUP BY facility_id
        ON CONFLICT (facility_id) DO UPDATE SET name = excluded.name""")
    # Unknown facilities are registered in the province their first record names.
    _run_sql(connection, """
        INSERT INTO province (code)
        SELECT DISTINCT province_code FROM stage_records
        WHERE facility_id NOT IN (SELECT facility_id FROM facility)
          AND province_code NOT IN (SELECT code FROM province)""")
    _run_sql(connection, """
        INSERT INTO facility (facility_id, province_code)
        SELECT facility_id, min(province_code) FROM stage_records
        WHERE facility_id NOT IN (SELECT facility_id FROM facility)
        GROUP BY facility_id""")
    # A record's province is its facility's: scope follows who is accountable for the record.
    _run_sql(connection, """
        UPDATE stage_records SET province_code = f.province_code FROM facility f
        WHERE f.facility_id = stage_records.facility_id
          AND f.province_code <> stage_records.province_code""")
    columns = ", ".join(REGISTER_COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in REGISTER_COLUMNS if c != "person_id")
    _run_sql(connection, f"""
        INSERT INTO person ({columns}) SELECT {columns} FROM stage_persons WHERE true
        ON CONFLICT (person_id) DO UPDATE SET {updates}""")


def _classify_records(connection: Connection) -> None:
    """new: not in the store; locked: an officer decided it; update: everything else."""
    # Rows arrive as 'new'; only records already in the store are touched here.
    _run_sql(connection, """
        UPDATE stage_records SET action = CASE WHEN v.decided THEN 'locked' ELSE 'update' END
        FROM vaccination_record v WHERE v.record_id = stage_records.record_id""")
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("ANALYZE stage_records")


_CORRECTION_INSERT = """
    INSERT INTO correction (record_id, field, old_value, new_value, actor, reason, run_id, made_at)
    SELECT s.record_id, '{field}', {old}, s.{field}, :actor,
           'cleaning run ' || :run_id || ': ' || s.reasons, :run_id, :now
    """


def _correct_updated_records(connection: Connection, run_id: str, actor: str, now: str) -> int:
    """Before the update: one correction per current value the run changes."""
    count = 0
    for column in (*IDENTITY_FIELDS, "person_id", "status"):
        count += _run_sql(connection, _CORRECTION_INSERT.format(field=column, old=f"v.{column}")
                          + f"""
            FROM stage_records s JOIN vaccination_record v ON v.record_id = s.record_id
            WHERE s.action = 'update' AND v.{column} IS DISTINCT FROM s.{column}""",
            run_id=run_id, actor=actor, now=now)
    return count


def _correct_new_records(connection: Connection, run_id: str, actor: str, now: str) -> int:
    """After the insert: the run's value of each identity field versus the facility's original."""
    count = 0
    for column in IDENTITY_FIELDS:
        old = f"s.original_{column}"
        count += _run_sql(connection, _CORRECTION_INSERT.format(field=column, old=old) + f"""
            FROM stage_records s
            WHERE s.action = 'new' AND {old} IS DISTINCT FROM s.{column}""",
            run_id=run_id, actor=actor, now=now)
    return count


def _write_records(connection: Connection, run_id: str, now: str) -> tuple[int, int]:
    current = [*IDENTITY_FIELDS, "status", "person_id", "confidence", "reasons", "input_order"]
    updated = _run_sql(connection, f"""
        UPDATE vaccination_record SET
            {", ".join(f"{c} = s.{c}" for c in current)},
            run_id = :run_id, version = vaccination_record.version + 1, updated_at = :now
        FROM stage_records s
        WHERE vaccination_record.record_id = s.record_id AND s.action = 'update'""",
        run_id=run_id, now=now)
    columns = ["record_id", "facility_id", "province_code", "commune_code",
               *(f"original_{name}" for name in ORIGINAL_FIELDS), *current]
    inserted = _run_sql(connection, f"""
        INSERT INTO vaccination_record ({", ".join(columns)}, run_id, first_run_id, decided,
                                        version, updated_at)
        SELECT {", ".join(columns)}, :run_id, :run_id, false, 1, :now
        FROM stage_records WHERE action = 'new'""", run_id=run_id, now=now)
    # A decided record keeps its values, but takes its place in the newest run's input: the
    # order its dose history is consolidated in (not a value anyone decided).
    _run_sql(connection, """
        UPDATE vaccination_record SET input_order = (
            SELECT s.input_order FROM stage_records s
            WHERE s.record_id = vaccination_record.record_id)
        WHERE record_id IN (SELECT record_id FROM stage_records WHERE action = 'locked')""")
    return inserted, updated


def _write_review_items(connection: Connection, run_id: str, now: str) -> tuple[int, int]:
    superseded = _run_sql(connection, """
        UPDATE review_item SET state = 'superseded', superseded_by_run = :run_id,
               version = version + 1, updated_at = :now
        WHERE state IN ('open', 'deferred')
          AND record_id IN (SELECT record_id FROM stage_records WHERE action = 'update')""",
        run_id=run_id, now=now)
    opened = _run_sql(connection, """
        INSERT INTO review_item (record_id, run_id, province_code, facility_id, state, version,
                                 created_at, updated_at)
        SELECT record_id, :run_id, province_code, facility_id, 'open', 1, :now, :now
        FROM stage_records WHERE status = 'review' AND action IN ('new', 'update')""",
        run_id=run_id, now=now)
    new_items = "review_item i ON i.record_id = {table}.record_id AND i.run_id = :run_id " \
                "AND i.state = 'open'"
    _run_sql(connection, f"""
        INSERT INTO review_candidate (item_id, rank, person_id, match_probability, comparison,
                                      reasons)
        SELECT i.id, c.rank, c.person_id, c.match_probability, c.comparison, c.reasons
        FROM stage_candidates c JOIN {new_items.format(table="c")}""", run_id=run_id)
    _run_sql(connection, f"""
        INSERT INTO review_item_reason (item_id, reason)
        SELECT i.id, r.reason FROM stage_reasons r JOIN {new_items.format(table="r")}""",
        run_id=run_id)
    return opened, superseded


def _write_dose_history(connection: Connection, run_id: str) -> None:
    """Replace the consolidated doses of every person the run consolidated."""
    _run_sql(connection, """
        DELETE FROM dose_history
        WHERE person_id IN (SELECT person_id FROM stage_doses)
           OR record_id IN (SELECT record_id FROM stage_records WHERE action <> 'locked')""")
    # Only doses whose record is (still) linked to that person: decided records keep their link.
    _run_sql(connection, """
        INSERT INTO dose_history (person_id, record_id, dose_number, vaccine_mp, vaccine_ma,
                                  vaccine_vp, vaccinated_on, facility_id, duplicate_of, flags,
                                  run_id)
        SELECT d.person_id, d.record_id, d.dose_number, d.vaccine_mp, d.vaccine_ma, d.vaccine_vp,
               d.vaccinated_on, d.facility_id, d.duplicate_of, d.flags, :run_id
        FROM stage_doses d JOIN vaccination_record v
          ON v.record_id = d.record_id AND v.person_id = d.person_id""", run_id=run_id)


# People whose dose history the run just wrote from its own view, which does not know officers'
# links: people with a decided record the run consolidated or took a record from, and the run's
# people of decided records (an officer may have linked the record elsewhere or to nobody).
_DECIDED_PEOPLE = """
    SELECT person_id FROM stage_doses
    WHERE person_id IN (SELECT person_id FROM vaccination_record WHERE decided)
       OR record_id IN (SELECT record_id FROM stage_records WHERE action = 'locked')
    UNION
    SELECT old_value FROM correction
    WHERE run_id = :run_id AND field = 'person_id'
      AND old_value IN (SELECT person_id FROM vaccination_record WHERE decided)"""


def _refresh_decided_dose_history(session: Session, run_id: str) -> int:
    """Recompute the dose history of the people the run rewrote whom a decided record belongs
    to or was taken from, so an officer's link survives newer runs. Nobody else: publish stays
    as fast as before."""
    connection = session.connection()
    # The partial index of decided records answers at once; the common first publish stops here.
    decided = connection.execute(text("SELECT 1 FROM vaccination_record WHERE decided LIMIT 1"))
    if decided.first() is None:
        return 0
    people = connection.execute(text(_DECIDED_PEOPLE), {"run_id": run_id}).scalars()
    return refresh_dose_history(session, list(people)).people


def _queue_signing(connection: Connection, run_id: str, now: str) -> int:
    """Queue people newly linked by the run, and people whose linked records it changed."""
    return _run_sql(connection, """
        INSERT INTO signing_queue (person_id, action, state, reason, created_at)
        SELECT p.person_id,
               CASE WHEN EXISTS (SELECT 1 FROM certificate c WHERE c.person_id = p.person_id
                                 AND c.state = 'issued')
                    THEN 'revoke_and_reissue' ELSE 'issue' END,
               'pending', 'cleaning run ' || :run_id || ' linked or changed their records', :now
        FROM (
            SELECT person_id FROM stage_records
            WHERE action = 'new' AND status IN ('verified', 'corrected')
            UNION
            SELECT s.person_id FROM stage_records s
            WHERE s.action = 'update' AND s.status IN ('verified', 'corrected')
              AND EXISTS (SELECT 1 FROM correction c WHERE c.record_id = s.record_id
                          AND c.run_id = :run_id)
            UNION
            SELECT old_value FROM correction
            WHERE run_id = :run_id AND field = 'person_id' AND old_value IS NOT NULL
        ) p
        WHERE p.person_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM signing_queue q WHERE q.person_id = p.person_id
                          AND q.state = 'pending')""", run_id=run_id, now=now)


def _count(connection: Connection, sql: str) -> int:
    return int(connection.exec_driver_sql(sql).scalar() or 0)


def publish_run(
    session: Session, actor: Actor, inputs: RunInputs, *, console: Console | None = None,
) -> PublishReport:
    """Publish one run inside the session's transaction (the caller commits)."""
    actor.require(Permission.PUBLISH)
    console = console or NoopConsole()
    digest = content_hash(inputs.run_dir)
    summary = _read_summary(inputs.run_dir)
    run_id = str(summary.get("run_id") or f"run-{digest[:16]}")
    existing = session.scalar(select(Run).where(Run.content_hash == digest))
    if existing is not None:
        return PublishReport(existing.run_id, digest, already_published=True)
    if session.get(Run, run_id) is not None:
        raise StoreError(f"run id {run_id} was published before with different files")
    engine = DuckDBEngine()
    try:
        con = engine.connection
        queries = prepare(engine, inputs)
        connection = session.connection()
        now = utc_now_text()
        session.add(Run(run_id=run_id, content_hash=digest, source_dir=str(inputs.run_dir),
                        published_at=now, published_by=actor.username, record_count=0,
                        review_count=0, superseded_items=0, kept_decisions=0))
        session.flush()
        _create_stage_tables(connection)
        counts = _load_stage(connection, con, queries, console)
    finally:
        engine.close()
    console.stage_started("publish: apply")
    if connection.dialect.name == "postgresql":
        # Set-based statements over staged rows: JIT compilation costs more than it saves.
        connection.exec_driver_sql("SET LOCAL jit = off")
        # Joins of a million staged rows against the store fit in memory instead of spilling.
        connection.exec_driver_sql("SET LOCAL work_mem = '256MB'")
    _apply_reference_data(connection)
    _classify_records(connection)
    corrections = _correct_updated_records(connection, run_id, actor.username, now)
    inserted, updated = _write_records(connection, run_id, now)
    corrections += _correct_new_records(connection, run_id, actor.username, now)
    opened, superseded = _write_review_items(connection, run_id, now)
    _write_dose_history(connection, run_id)
    _refresh_decided_dose_history(session, run_id)
    queued = _queue_signing(connection, run_id, now)
    kept = _count(connection, "SELECT count(*) FROM stage_records WHERE action = 'locked'")
    _drop_stage_tables(connection)
    console.stage_finished("publish: apply", counts["stage_records"])
    run = session.get(Run, run_id)
    assert run is not None
    run.record_count, run.review_count = inserted + updated, opened
    run.superseded_items, run.kept_decisions = superseded, kept
    audit.append(session, [audit.RunPublished(
        actor=actor.username, subject_id=f"run:{run_id}", run_id=run_id, content_hash=digest,
        records=inserted + updated, review_items=opened, superseded_items=superseded,
        kept_decisions=kept,
    )])
    return PublishReport(
        run_id=run_id, content_hash=digest, already_published=False,
        records=counts["stage_records"], new_records=inserted, updated_records=updated,
        kept_decisions=kept, review_items=opened, superseded_items=superseded,
        corrections=corrections, signing_queued=queued,
    )
