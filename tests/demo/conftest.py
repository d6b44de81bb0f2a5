"""Small generated data sets shared by the demo tests (generated once per session, in seconds)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from vaxtrust.demo.generate import GenerateOptions, generate
from vaxtrust.schema import DOSE_RECORD_COLUMNS


@dataclass
class Generated:
    folder: Path
    manifest: dict[str, Any]
    _cache: dict[str, Any] = field(default_factory=dict)

    def records(self) -> pa.Table:
        if "records" not in self._cache:
            self._cache["records"] = self._read_records()
        return self._cache["records"]

    def pairs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(record, truth) rows as dicts, read once."""
        if "pairs" not in self._cache:
            self._cache["pairs"] = list(zip(self.records().to_pylist(), self.truth().to_pylist(),
                                            strict=True))
        return self._cache["pairs"]  # type: ignore[no-any-return]

    def _read_records(self) -> pa.Table:
        return pacsv.read_csv(
            self.folder / "records.csv",
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in DOSE_RECORD_COLUMNS},
                strings_can_be_null=False, quoted_strings_can_be_null=False))

    def register(self) -> pa.Table:
        return pq.read_table(self.folder / "register.parquet")

    def truth(self) -> pa.Table:
        return pq.read_table(self.folder / "truth" / "records_truth.parquet")

    def persons(self) -> pa.Table:
        return pq.read_table(self.folder / "truth" / "persons.parquet")


def _generate(folder: Path, persons: int, seed: int, scale: float = 1.0, chunk: int = 500_000) -> Generated:
    manifest = generate(GenerateOptions(persons=persons, seed=seed, out=folder, error_scale=scale,
                                        chunk_persons=chunk))
    assert json.loads((folder / "manifest.json").read_text(encoding="utf-8")) == manifest
    return Generated(folder, manifest)


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """4,000 residents in two chunks, default error rates."""
    return _generate(tmp_path_factory.mktemp("gen") / "small", 4_000, seed=11, chunk=2_500)


@pytest.fixture(scope="session")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """30,000 residents: enough records to check error rates within tolerance."""
    return _generate(tmp_path_factory.mktemp("gen") / "medium", 30_000, seed=5)


@pytest.fixture(scope="session")
def doubled(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """The medium data set with --error-scale 2."""
    return _generate(tmp_path_factory.mktemp("gen") / "doubled", 30_000, seed=5, scale=2.0)


@pytest.fixture(scope="session")
def noisy(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """Error rates x5 so every error kind shows up in a few thousand persons."""
    return _generate(tmp_path_factory.mktemp("gen") / "noisy", 6_000, seed=3, scale=5.0)
