"""The run folder as the whole contract between ``clean`` and everything after it.

Besides the results a person reads (results, review candidates, dose histories, rejects, the
summary), a run writes what ``publish`` and the store need so that neither reads the original
inputs again nor recomputes anything (``docs/cleaning.md``, "The run folder"):

- ``run.json``: the run id, when and by which version and engine, and the settings it used
  (campaign start, the resolved "today", dose intervals, column mappings, matching thresholds);
- ``model.json``: the probabilistic model the run trained or reused, with its thresholds and the
  register snapshot it describes (:mod:`vaxtrust.pipeline.match.model`), when the path ran;
- ``records.parquet``: one publish-ready row per result: the facility's original values, the
  current (standardised or corrected) identity, the administrative codes the run computed, the
  outcome, and the record's place in the input (``input_order``);
- ``persons.parquet``: the register rows the run refers to (linked, candidates, typed IDs).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vaxtrust import __version__
from vaxtrust.errors import InputError
from vaxtrust.pipeline.settings import CleanSettings
from vaxtrust.schema import (
    IDENTITY_FIELDS,
    ORIGINAL_FIELDS,
    REGISTER_COLUMNS,
    RUN_MANIFEST,
    RUN_MODEL,
    RUN_PERSONS,
    RUN_RECORDS,
)

if TYPE_CHECKING:
    from vaxtrust.engine import Engine
    from vaxtrust.pipeline.match.model import RegisterIdentity, SavedModel

UNASSIGNED_FACILITY = "unassigned"
UNKNOWN_PROVINCE = "unknown"
# input_order = rank of the source file * this + row in the file (no file holds this many).
FILE_STRIDE = 1_000_000_000_000


def new_run_id(now: dt.datetime | None = None) -> str:
    """A run id that sorts by time and never repeats: run-20220630T101500Z-1a2b3c4d."""
    now = now or dt.datetime.now(dt.UTC)
    return f"run-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class RunManifest:
    """``run.json``: which run this is and how it was made."""

    run_id: str
    created_at: str
    vaxtrust_version: str
    engine: str
    settings: dict[str, Any]
    model: str | None = None

    def write(self, folder: Path) -> Path:
        path = folder / RUN_MANIFEST
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n",
                           encoding="utf-8")
        os.replace(partial, path)
        return path

    @classmethod
    def read(cls, folder: Path) -> RunManifest:
        """The manifest of the run in ``folder``; a clear InputError when there is none."""
        path = folder / RUN_MANIFEST
        if not path.is_file():
            raise InputError(f"not a complete cleaning run: {RUN_MANIFEST} is missing (runs "
                             "made before vaxtrust kept it must be cleaned again)",
                             path=str(folder))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**data)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as error:
            raise InputError(f"not a valid run manifest: {error}", path=str(path)) from None

    def clean_settings(self) -> CleanSettings:
        """The settings the run used, its "today" fixed to the run's."""
        return CleanSettings.from_document(self.settings)


# ---------------------------------------------------------------- tables

def _text(column: str) -> str:
    return f"CAST({column} AS VARCHAR)"


def _code(column: str, width: int, *, numeric_only: bool = False) -> str:
    """A typed numeric admin code with its leading zeros back; other text kept trimmed (or
    dropped, ``numeric_only``)."""
    value = f"trim(CAST({column} AS VARCHAR))"
    other = "NULL" if numeric_only else f"nullif({value}, '')"
    return (f"CASE WHEN regexp_full_match({value}, '[0-9]{{1,{width}}}') "
            f"THEN lpad({value}, {width}, '0') ELSE {other} END")


def records_sql(results: str = "results", raw: str = "raw_records",
                standardised: str = "std_records", rejected: str = "rejected_records") -> str:
    """One publish-ready row per result (``docs/cleaning.md``, records.parquet), in no order:
    sorting 10 million wide rows costs more than any reader gains (``input_order`` is the
    input's order).

    Administrative codes are the ones standardisation computed; a typed numeric code stands in
    where it found none. A record rejected at ingest has no accepted row, hence no originals:
    it keeps the facility (and a typed province code) of its first rejected row, and publish
    places it in that facility's province; without one it is ``unassigned`` in ``unknown``.
    """
    originals = ", ".join(f"{_text('o.' + name)} AS original_{name}" for name in ORIGINAL_FIELDS)
    identity = ", ".join(f"coalesce({_text('r.corrected_' + name)}, {_text('o.' + name)}) "
                         f"AS {name}" for name in IDENTITY_FIELDS)
    return f"""
        SELECT r.record_id,
               coalesce(nullif(trim({_text('o.facility_id')}), ''),
                        nullif(trim({_text('j.facility_id')}), ''), '{UNASSIGNED_FACILITY}')
                   AS facility_id,
               coalesce({_text('s.province_code')}, {_code('o.province', 2)},
                        {_code('j.province', 2, numeric_only=True)}, '{UNKNOWN_PROVINCE}')
                   AS province_code,
               coalesce({_text('s.commune_code')}, {_code('o.commune', 5)}) AS commune_code,
               {originals}, {identity},
               r.status, {_text('r.person_id')} AS person_id,
               CAST(r.confidence AS DOUBLE) AS confidence, r.reasons,
               CAST(f.file_rank * {FILE_STRIDE} + o.row_number AS BIGINT) AS input_order
        FROM {results} r
        LEFT JOIN {raw} o ON o.record_id = r.record_id
        LEFT JOIN {standardised} s ON s.record_id = r.record_id
        LEFT JOIN {rejected} j ON j.record_id = r.record_id AND o.record_id IS NULL
        LEFT JOIN (SELECT source, row_number() OVER (ORDER BY source) AS file_rank
                   FROM (SELECT DISTINCT source FROM {raw}) AS sources) f
             ON f.source = o.source"""


def persons_sql(results: str = "results", candidates: str = "review_candidates",
                raw: str = "raw_records", register: str = "raw_register") -> str:
    """The register rows (as read) the run refers to: linked people, review candidates, and
    people whose ID or old ID a record typed (an officer's edit may claim them)."""
    columns = ", ".join(f"{_text('p.' + name)} AS {name}" for name in REGISTER_COLUMNS)
    # The IDs referred to first, then one semi-join (not an OR of subqueries: every engine plans
    # it as a join): a UNION of the whole rows would hash every column of some 10 million rows.
    return f"""
        WITH referred AS (
            SELECT person_id FROM {results} WHERE person_id IS NOT NULL
            UNION SELECT person_id FROM {candidates}
            UNION SELECT id_number FROM {raw} WHERE id_number IS NOT NULL
            UNION SELECT person_id FROM {register} WHERE old_id IN (
                SELECT id_number FROM {raw} WHERE id_number IS NOT NULL))
        SELECT {columns} FROM {register} p
        WHERE p.person_id IN (SELECT person_id FROM referred)"""


def _write_model(engine: Engine, folder: Path, *, run_id: str, settings: CleanSettings,
                 register: RegisterIdentity | None, reused: SavedModel | None) -> str | None:
    """``model.json`` from the model the probabilistic path left, if it ran: a reused model as
    it was saved (still naming the run that trained it), else the one this run trained."""
    from vaxtrust.pipeline.match.model import SavedModel
    from vaxtrust.pipeline.match.probabilistic import MODEL_TABLE

    if reused is not None:
        reused.write(folder)
        return RUN_MODEL
    if register is None or not engine.table_exists(MODEL_TABLE):
        return None
    rows = engine.query(f"SELECT model, labelled_pairs FROM {MODEL_TABLE}",
                        stage="outputs").to_pylist()
    if not rows:
        return None
    SavedModel(splink=json.loads(rows[0]["model"]), matching=settings.match, register=register,
               trained_by_run=run_id, labelled_pairs=int(rows[0]["labelled_pairs"])).write(folder)
    return RUN_MODEL


def _write_query(engine: Engine, sql: str, path: Path) -> None:
    """Write a query's rows to Parquet through a view: streamed to the file, not first held as
    a table (at 10 M records two copies of every record in memory)."""
    engine.drop("__run_out")
    engine.execute(f"CREATE VIEW __run_out AS {sql}", stage="outputs")
    engine.write_parquet("__run_out", path)
    engine.drop("__run_out")


def write_run_folder(engine: Engine, folder: Path, *, run_id: str, settings: CleanSettings,
                     today: dt.date, register: RegisterIdentity | None = None,
                     reused: SavedModel | None = None) -> dict[str, Path]:
    """Write the publish-ready tables, the model and ``run.json`` into ``folder``.

    Returns output name → path. Needs the run's ``results``, ``review_candidates``,
    ``raw_records``, ``std_records`` and ``raw_register`` tables. ``register`` identifies the
    register snapshot a trained model describes; ``reused`` is the saved model the run used.
    """
    _write_query(engine, records_sql(), folder / RUN_RECORDS)
    _write_query(engine, persons_sql(), folder / RUN_PERSONS)
    model = _write_model(engine, folder, run_id=run_id, settings=settings, register=register,
                         reused=reused)
    manifest = RunManifest(
        run_id=run_id, created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        vaxtrust_version=__version__, engine=engine.dialect.name,
        settings=settings.to_document(today), model=model)
    written = {"records": folder / RUN_RECORDS, "persons": folder / RUN_PERSONS,
               "run": manifest.write(folder)}
    if model:
        written["model"] = folder / model
    return written
