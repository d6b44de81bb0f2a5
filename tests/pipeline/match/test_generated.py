"""Matching on generated data with ground truth: the issue's accuracy targets, at test size."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from vaxtrust.demo.evaluate import score
from vaxtrust.demo.generate import GenerateOptions, generate
from vaxtrust.pipeline.run import clean


@pytest.mark.slow
@pytest.mark.parametrize("error_scale", [1.0, 2.0])
def test_generated_run_meets_the_accuracy_targets(tmp_path: Path, error_scale: float) -> None:
    data = tmp_path / "data"
    generate(GenerateOptions(persons=8_000, seed=11, out=data, error_scale=error_scale))
    clean([data / "records.csv"], data / "register.parquet", tmp_path / "run")
    result = score(data, pq.read_table(tmp_path / "run" / "results.parquet"))
    assert result.wrong_person_links == 0
    assert result.not_in_register_linked == 0
    assert result.recall is not None and result.recall >= 0.97
    assert result.review_rate is not None and result.review_rate <= 0.03
