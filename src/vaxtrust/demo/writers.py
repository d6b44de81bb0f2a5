"""The generator's output files: their names, and chunked writers of each of them."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from vaxtrust.demo.tables import PERSONS_SCHEMA, RECORDS_SCHEMA, REGISTER_SCHEMA, TRUTH_SCHEMA
from vaxtrust.errors import ConfigError
from vaxtrust.schema import DOSE_RECORD_COLUMNS

RECORDS_FILE: Final = "records.csv"
RECORD_FORMATS: Final = ("csv", "parquet", "xlsx")
XLSX_MAX_ROWS: Final = 1_048_575   # one sheet of Excel, minus the header
REGISTER_FILE: Final = "register.parquet"
TRUTH_DIR: Final = "truth"
RECORDS_TRUTH_FILE: Final = "records_truth.parquet"
PERSONS_FILE: Final = "persons.parquet"
MANIFEST_FILE: Final = "manifest.json"


def records_file(records_format: str) -> str:
    """``records.csv``, ``records.parquet`` or ``records.xlsx``."""
    return f"records.{records_format}"


class XlsxRecords:
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


class Writers:
    """Chunked writers of every output file."""

    def __init__(self, folder: Path, records_format: str) -> None:
        (folder / TRUTH_DIR).mkdir(parents=True)
        self.records: pacsv.CSVWriter | pq.ParquetWriter | XlsxRecords
        if records_format == "xlsx":
            self.records = XlsxRecords(folder / records_file(records_format))
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
