"""A larger generated data set (slow group): shares stay realistic and a perfect run scores 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.demo.conftest import Generated
from tests.demo.test_evaluate import perfect_results
from vaxtrust.demo.evaluate import score
from vaxtrust.demo.generate import GenerateOptions, generate


@pytest.mark.slow
def test_three_hundred_thousand_persons(tmp_path: Path) -> None:
    folder = tmp_path / "large"
    manifest = generate(GenerateOptions(persons=300_000, seed=2022, out=folder, chunk_persons=120_000))
    shares, counts = manifest["shares"], manifest["counts"]
    assert 0.23 < shares["vaccinated_residents_with_mismatch"] < 0.31
    assert 0.04 < shares["vaccinated_residents_without_usable_id"] < 0.065
    assert shares["records_in_register"] > 0.95
    assert 2.0 < counts["records"] / counts["residents"] < 2.6
    generated = Generated(folder, manifest)
    assert generated.register().num_rows == counts["registered"]
    result = score(folder, perfect_results(generated))
    assert result.precision == 1.0 and result.recall == 1.0 and result.records == counts["records"]
