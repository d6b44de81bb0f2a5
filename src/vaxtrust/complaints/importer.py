"""Bulk import of complaints exported from another portal (CSV or XLSX, Vietnamese headers).

The file goes through the dose records' own ingest (``vaxtrust.ingest``: readers, header names,
hostile-file limits, row checks, repeated complaint numbers), then every accepted row through
:func:`vaxtrust.complaints.standardise.standardise`. A row with any problem is rejected with row,
field, reason and a Vietnamese message; nothing is lost: rows in = accepted + rejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

from vaxtrust.complaints import parallel
from vaxtrust.complaints.standardise import MESSAGES, ComplaintInput, Problem, standardise
from vaxtrust.engine.base import Engine
from vaxtrust.ingest.load import RAW_TABLE, REJECTS_TABLE, ingest
from vaxtrust.schema import COMPLAINT_COLUMNS

KIND: Final = "complaints"


@dataclass(frozen=True)
class RejectRow:
    source: str
    row_number: int | None
    complaint_id: str | None
    field: str | None
    value: str | None
    reason: str

    @property
    def message(self) -> str:
        return MESSAGES.get(self.reason, (self.reason, self.reason))[0]


@dataclass
class ImportRead:
    source: str
    content_hash: str
    rows_in: int = 0
    inputs: list[ComplaintInput] = field(default_factory=list)
    rejects: list[RejectRow] = field(default_factory=list)
    row_numbers: dict[int, int | None] = field(default_factory=dict)  # id(input) → its row

    @property
    def rejected(self) -> int:
        return self.rows_in - len(self.inputs)


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _raw_rows(engine: Engine) -> Iterator[dict[str, str | None]]:
    columns = ", ".join(("row_number", *COMPLAINT_COLUMNS))
    for batch in engine.query_batches(f"SELECT {columns} FROM {RAW_TABLE[KIND]} "
                                      "ORDER BY row_number"):
        yield from batch.to_pylist()


def _standardise_all(today: dt.date, raws: Sequence[dict[str, str | None]]
                     ) -> list[ComplaintInput | list[Problem]]:
    return [standardise(raw, today=today) for raw in raws]


def read_file(engine: Engine, path: Path, *, today: dt.date | None = None) -> ImportRead:
    """Read one file of complaints: standardised complaints and the rejects, in row order."""
    today = today or dt.date.today()
    counts = ingest(engine, KIND, [path], today=today)
    result = ImportRead(str(path), file_hash(path), rows_in=sum(c.rows_in for c in counts))
    for row in engine.query(f"SELECT * FROM {REJECTS_TABLE} ORDER BY row_number").to_pylist():
        result.rejects.append(RejectRow(row["source"], row["row_number"], row["record_id"],
                                        row["field"], row["value"], row["reason"]))
    raws = list(_raw_rows(engine))
    numbers = [raw.pop("row_number") for raw in raws]
    standardised = parallel.map_slices(partial(_standardise_all, today), raws)
    for raw, row_number, checked in zip(raws, numbers, standardised, strict=True):
        number = int(row_number) if row_number is not None else None
        if isinstance(checked, ComplaintInput):
            result.inputs.append(checked)
            result.row_numbers[id(checked)] = number
            continue
        result.rejects.extend(
            RejectRow(str(path), number, raw.get("complaint_id"), problem.field,
                      raw.get(problem.field), problem.reason) for problem in checked)
    result.rejects.sort(key=lambda r: (r.row_number or 0))
    engine.drop(RAW_TABLE[KIND])
    engine.drop(REJECTS_TABLE)
    return result
