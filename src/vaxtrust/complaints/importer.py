"""Bulk import of complaints exported from another portal (CSV or XLSX, Vietnamese headers).

The file goes through the dose records' own ingest (``vaxtrust.ingest``: readers, header names,
hostile-file limits, row checks, repeated complaint numbers), then every accepted row through
:func:`vaxtrust.complaints.standardise.standardise`. A row with any problem is rejected with row,
field, reason and a Vietnamese message; nothing is lost: rows in = accepted + rejected.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Final

import pyarrow as pa

from vaxtrust.complaints import parallel
from vaxtrust.complaints.standardise import MESSAGES, ComplaintInput, standardise
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


Checked = tuple[int | None, ComplaintInput | list[RejectRow]]   # (row number, result)


def _standardise_slice(source: str, today: dt.date, raws: pa.Table) -> list[Checked]:
    """Standardise a slice of the raw rows (in a worker: the slice becomes Python rows there,
    and only the results travel back); a rejected row's rejects are built here too."""
    checked: list[Checked] = []
    for raw in raws.to_pylist():
        row_number = raw.pop("row_number")
        number = int(row_number) if row_number is not None else None
        result = standardise(raw, today=today)
        if isinstance(result, ComplaintInput):
            checked.append((number, result))
        else:
            checked.append((number, [
                RejectRow(source, number, raw.get("complaint_id"), problem.field,
                          raw.get(problem.field), problem.reason) for problem in result]))
    return checked


def read_file(engine: Engine, path: Path, *, today: dt.date | None = None) -> ImportRead:
    """Read one file of complaints: standardised complaints and the rejects, in row order."""
    today = today or dt.date.today()
    counts = ingest(engine, KIND, [path], today=today)
    result = ImportRead(str(path), file_hash(path), rows_in=sum(c.rows_in for c in counts))
    for row in engine.query(f"SELECT * FROM {REJECTS_TABLE} ORDER BY row_number").to_pylist():
        result.rejects.append(RejectRow(row["source"], row["row_number"], row["record_id"],
                                        row["field"], row["value"], row["reason"]))
    columns = ", ".join(("row_number", *COMPLAINT_COLUMNS))
    raws = engine.query(f"SELECT {columns} FROM {RAW_TABLE[KIND]} ORDER BY row_number")
    with parallel.paused_gc():
        for number, checked in parallel.map_slices(
                partial(_standardise_slice, str(path), today), raws):
            if isinstance(checked, ComplaintInput):
                result.inputs.append(checked)
                result.row_numbers[id(checked)] = number
            else:
                result.rejects.extend(checked)
    result.rejects.sort(key=lambda r: (r.row_number or 0))
    engine.drop(RAW_TABLE[KIND])
    engine.drop(REJECTS_TABLE)
    return result
