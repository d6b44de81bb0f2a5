"""Locate and read a run folder: the files publish reads, their columns, and the run's hash.

Publish reads only what ``clean`` wrote for it (``docs/cleaning.md``, "The run folder"): the
manifest ``run.json``, ``records.parquet``, ``persons.parquet``, ``review_candidates.parquet`` and
``dose_history.parquet``; never the original inputs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from vaxtrust.errors import InputError
from vaxtrust.pipeline.run_folder import RunManifest
from vaxtrust.schema import (
    DOSE_HISTORY_COLUMNS,
    IDENTITY_FIELDS,
    ORIGINAL_FIELDS,
    REGISTER_COLUMNS,
    REVIEW_CANDIDATE_COLUMNS,
    RUN_DOSE_HISTORY,
    RUN_PERSONS,
    RUN_RECORDS,
    RUN_RESULTS,
    RUN_REVIEW_CANDIDATES,
)

RECORD_COLUMNS = (
    "record_id", "facility_id", "province_code", "commune_code",
    *(f"original_{name}" for name in ORIGINAL_FIELDS),
    *IDENTITY_FIELDS, "status", "person_id", "confidence", "reasons", "input_order",
)
FACILITY_COLUMNS = ("facility_id", "name", "province_code")
# The files whose bytes make a run's content hash, in this order.
HASHED_FILES = (RUN_RESULTS, RUN_REVIEW_CANDIDATES, RUN_DOSE_HISTORY, RUN_RECORDS, RUN_PERSONS)
BATCH_ROWS = 50_000


def _check_columns(path: Path, columns: Sequence[str], required: Sequence[str]) -> None:
    missing = [column for column in required if column not in columns]
    if missing:
        raise InputError(f"missing columns: {', '.join(missing)}", path=str(path))


def _parquet_columns(path: Path) -> list[str]:
    try:
        return list(pq.read_schema(path).names)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"cannot read: {error}", path=str(path)) from None


@dataclass(frozen=True)
class RunFolder:
    """A checked run folder, ready to be streamed into the store."""

    path: Path
    manifest: RunManifest
    has_candidates: bool
    has_doses: bool
    facilities: Path | None = None

    @classmethod
    def open(cls, path: Path, facilities: Path | None = None) -> RunFolder:
        """The run in ``path``; InputError naming the first file or column that is missing."""
        if not path.is_dir():
            raise InputError("not a cleaning run folder", path=str(path))
        manifest = RunManifest.read(path)
        for name, required in ((RUN_RECORDS, RECORD_COLUMNS), (RUN_PERSONS, REGISTER_COLUMNS)):
            if not (path / name).is_file():
                raise InputError(f"not a complete cleaning run: {name} is missing",
                                 path=str(path))
            _check_columns(path / name, _parquet_columns(path / name), required)
        has_candidates = (path / RUN_REVIEW_CANDIDATES).is_file()
        has_doses = (path / RUN_DOSE_HISTORY).is_file()
        for present, name, required in (
                (has_candidates, RUN_REVIEW_CANDIDATES, REVIEW_CANDIDATE_COLUMNS),
                (has_doses, RUN_DOSE_HISTORY, DOSE_HISTORY_COLUMNS)):
            if present:
                _check_columns(path / name, _parquet_columns(path / name), required)
        if facilities is not None:
            _check_columns(facilities, read_facilities(facilities).column_names,
                           FACILITY_COLUMNS)
        return cls(path, manifest, has_candidates, has_doses, facilities)

    def batches(self, name: str, columns: Sequence[str]) -> Iterator[pa.RecordBatch]:
        """The Parquet file ``name`` of the run, in batches of ``columns``."""
        path = self.path / name
        try:
            yield from pq.ParquetFile(path).iter_batches(batch_size=BATCH_ROWS,
                                                         columns=list(columns))
        except (OSError, pa.ArrowException) as error:
            raise InputError(f"cannot read: {error}", path=str(path)) from None

    def content_hash(self) -> str:
        return content_hash(self.path)

    def settings_json(self) -> str:
        return json.dumps(self.manifest.settings, ensure_ascii=False, sort_keys=True)


def content_hash(run_dir: Path) -> str:
    """SHA-256 over the run's tables and the settings it used: the same run hashes the same,
    wherever its folder lies (its id and time are not part of it)."""
    digest = hashlib.sha256()
    for name in HASHED_FILES:
        path = run_dir / name
        if path.is_file():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
    manifest = RunManifest.read(run_dir)
    digest.update(json.dumps(manifest.settings, sort_keys=True).encode())
    return digest.hexdigest()


def read_facilities(path: Path) -> pa.Table:
    """A facilities file (CSV or Parquet: facility_id, name, province_code), every value text."""
    if not path.is_file():
        raise InputError("file not found", path=str(path))
    suffix = path.suffix.lower()
    try:
        if suffix == ".parquet":
            table = pq.read_table(path)
            return table.cast(pa.schema([(name, pa.string()) for name in table.column_names]))
        if suffix in (".csv", ".txt"):
            text = pa_csv.ConvertOptions(column_types={name: pa.string()
                                                       for name in FACILITY_COLUMNS})
            return pa_csv.read_csv(path, convert_options=text)
    except (OSError, pa.ArrowException) as error:
        raise InputError(f"cannot read: {error}", path=str(path)) from None
    raise InputError("unsupported file type: use CSV or Parquet", path=str(path))
