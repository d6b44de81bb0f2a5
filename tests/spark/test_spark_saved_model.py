"""`vaxtrust clean --engine spark --model FILE`: a small file matched on Spark with a national
run's saved model links as the national run did, and a model of another register is refused
before any work, as on DuckDB (issue 17)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from tests.pipeline.test_saved_model import (
    REGISTER_HEADER,
    SETTINGS,
    WITHOUT_ID,
    Files,
    _links,
    _person,
    _write,
    files,
)
from vaxtrust.cli import app
from vaxtrust.errors import ConfigError
from vaxtrust.pipeline.match.model import read_model
from vaxtrust.pipeline.run import clean
from vaxtrust.pipeline.run_folder import RunManifest

pytestmark = pytest.mark.spark

__all__ = ["files"]   # the fixture, shared with the DuckDB tests


def _clean_on_spark(files: Files, register: Path, out: Path, model: Path,
                    monkeypatch: pytest.MonkeyPatch) -> Result:
    monkeypatch.setenv("VAXTRUST__ENGINE__TYPE", "spark")
    monkeypatch.setenv("VAXTRUST__ENGINE__MEMORY_LIMIT", "2GB")
    return CliRunner().invoke(app, ["clean", "-r", str(files.small), "-g", str(register),
                                    "-o", str(out), "--model", str(model), "--threads", "2"])


def test_spark_matches_a_small_file_with_the_saved_model_as_the_national_run(
        files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    expected = {f"R{i}": _links(national)[f"R{i}"] for i in WITHOUT_ID}
    assert sum(status == "corrected" for status, _ in expected.values()) >= 25

    result = _clean_on_spark(files, files.register, tmp_path / "day", national / "model.json",
                             monkeypatch)
    assert result.exit_code == 0, result.output
    assert RunManifest.read(tmp_path / "day").engine == "spark"
    assert _links(tmp_path / "day") == expected
    # The day's run passes the same model on, still naming the run that trained it.
    assert read_model(tmp_path / "day") == read_model(national)


def test_spark_refuses_a_model_of_another_register_before_any_work(
        files: Files, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    national = tmp_path / "national"
    clean([files.national], files.register, national, settings=SETTINGS)
    changed = _write(tmp_path / "register2.csv", REGISTER_HEADER,
                     [_person(i) for i in range(399)])
    result = _clean_on_spark(files, changed, tmp_path / "day", national, monkeypatch)
    assert isinstance(result.exception, ConfigError)
    assert "another register snapshot" in str(result.exception)
    assert not (tmp_path / "day").exists()
