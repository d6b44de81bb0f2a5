"""Prepare staging rows from the run folder's tables: text as the store keeps it, no lookups.

Each function turns Parquet batches into batches of exactly the staging table's columns
(:data:`STAGE_COLUMNS`): lists become JSON text, dates ISO text, numbers their staging type.
Nothing is recomputed: the run already standardised the values and found the admin codes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from vaxtrust.schema import (
    DOSE_HISTORY_COLUMNS,
    REGISTER_COLUMNS,
    REVIEW_CANDIDATE_COLUMNS,
    RUN_DOSE_HISTORY,
    RUN_PERSONS,
    RUN_RECORDS,
    RUN_REVIEW_CANDIDATES,
)
from vaxtrust.store.publish.folder import (
    FACILITY_COLUMNS,
    RECORD_COLUMNS,
    RunFolder,
    read_facilities,
)

# Staging tables: name → columns (all text except where _STAGE_TYPES says otherwise).
STAGE_COLUMNS: dict[str, tuple[str, ...]] = {
    "stage_records": (*RECORD_COLUMNS, "action"),
    "stage_persons": REGISTER_COLUMNS,
    "stage_candidates": REVIEW_CANDIDATE_COLUMNS,
    "stage_reasons": ("record_id", "reason"),
    "stage_doses": DOSE_HISTORY_COLUMNS,
    "stage_facilities": FACILITY_COLUMNS,
}
STAGE_TYPES: dict[str, pa.DataType] = {
    "confidence": pa.float64(), "match_probability": pa.float64(), "rank": pa.int32(),
    "dose_number": pa.int32(), "input_order": pa.int64(),
}
_LISTS = frozenset({"reasons", "flags"})


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_lists(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each list as compact JSON text (``[]`` for none), as the store keeps reason lists."""
    return pa.array(["[]" if value is None else _json(value) for value in values.to_pylist()],
                    pa.string())


def _json_text(values: pa.Array | pa.ChunkedArray, empty: str) -> pa.Array:
    """Text as it is, other values as JSON text; ``empty`` for none."""
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return pc.fill_null(values.cast(pa.string()), empty)
    return pa.array([empty if value is None else _json(value) for value in values.to_pylist()],
                    pa.string())


def _staged(batch: pa.RecordBatch, table: str,
            extra: dict[str, pa.Array] | None = None) -> pa.RecordBatch:
    """``batch`` with exactly ``table``'s staging columns, each of its staging type."""
    arrays = []
    for name in STAGE_COLUMNS[table]:
        if extra and name in extra:
            arrays.append(extra[name])
            continue
        values = batch.column(name)
        if name in _LISTS:
            arrays.append(_json_lists(values))
        elif name == "comparison":
            arrays.append(_json_text(values, "{}"))
        else:
            arrays.append(values.cast(STAGE_TYPES.get(name, pa.string())))
    return pa.RecordBatch.from_arrays(arrays, names=list(STAGE_COLUMNS[table]))


class _RecordSources:
    """The records, and on the same pass the reasons of the records under review."""

    def __init__(self, run: RunFolder) -> None:
        self.run = run
        self._reasons: list[tuple[str, str]] = []

    def records(self) -> Iterator[pa.RecordBatch]:
        """One row per result; every record starts as ``new`` (apply classifies them)."""
        for batch in self.run.batches(RUN_RECORDS, RECORD_COLUMNS):
            self._keep_review_reasons(batch)
            action = pa.array(["new"] * batch.num_rows, pa.string())
            yield _staged(batch, "stage_records", {"action": action})

    def _keep_review_reasons(self, batch: pa.RecordBatch) -> None:
        under_review = batch.filter(pc.equal(batch.column("status"), "review"))
        for record_id, reasons in zip(under_review.column("record_id").to_pylist(),
                                      under_review.column("reasons").to_pylist(), strict=True):
            self._reasons += [(record_id, reason) for reason in dict.fromkeys(reasons or ())
                              if reason is not None]

    def reasons(self) -> Iterator[pa.RecordBatch]:
        """(record, reason) of each record under review; after :meth:`records` ran."""
        yield pa.RecordBatch.from_arrays(
            [pa.array([pair[0] for pair in self._reasons], pa.string()),
             pa.array([pair[1] for pair in self._reasons], pa.string())],
            names=list(STAGE_COLUMNS["stage_reasons"]))


def persons(run: RunFolder) -> Iterator[pa.RecordBatch]:
    for batch in run.batches(RUN_PERSONS, REGISTER_COLUMNS):
        yield _staged(batch, "stage_persons")


def candidates(run: RunFolder) -> Iterator[pa.RecordBatch]:
    for batch in run.batches(RUN_REVIEW_CANDIDATES, REVIEW_CANDIDATE_COLUMNS):
        yield _staged(batch, "stage_candidates")


def doses(run: RunFolder) -> Iterator[pa.RecordBatch]:
    for batch in run.batches(RUN_DOSE_HISTORY, DOSE_HISTORY_COLUMNS):
        yield _staged(batch, "stage_doses")


def _code(value: str | None, width: int) -> str | None:
    """A numeric admin code with its leading zeros back; other text trimmed."""
    text = (value or "").strip()
    if text.isascii() and text.isdigit() and len(text) <= width:
        return text.zfill(width)
    return text or None


def facilities(run: RunFolder) -> Iterator[pa.RecordBatch]:
    """The facilities file's named facilities (the file is small: read whole)."""
    if run.facilities is None:
        return
    rows = read_facilities(run.facilities).select(list(FACILITY_COLUMNS)).to_pylist()
    kept = [(str(row["facility_id"]).strip(), row["name"], _code(row["province_code"], 2))
            for row in rows if row["facility_id"] is not None and row["facility_id"].strip()]
    yield pa.RecordBatch.from_arrays(
        [pa.array([row[index] for row in kept], pa.string()) for index in range(3)],
        names=list(FACILITY_COLUMNS))


def sources(run: RunFolder) -> dict[str, Iterator[pa.RecordBatch]]:
    """The batches of every staging table this run has, in loading order (records first)."""
    found = _RecordSources(run)
    tables = {"stage_records": found.records(), "stage_reasons": found.reasons(),
              "stage_persons": persons(run)}
    if run.has_candidates:
        tables["stage_candidates"] = candidates(run)
    if run.has_doses:
        tables["stage_doses"] = doses(run)
    if run.facilities is not None:
        tables["stage_facilities"] = facilities(run)
    return tables
