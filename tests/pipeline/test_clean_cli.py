"""``vaxtrust clean`` on the command line: the summary table, the outputs, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.pipeline.conftest import Province
from vaxtrust.cli import app
from vaxtrust.config import load_settings
from vaxtrust.errors import ConfigError


def test_clean_prints_the_summary_and_the_outputs(province: Province, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["clean", "--register", str(province.register), "--out", str(out), "--csv",
            "--threads", "2", "--memory-limit", "1GB"]
    for path in province.records:
        args += ["--records", str(path)]
    result = CliRunner().invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "rows in = accepted + rejected" in result.output
    assert "verified" in result.output and "F-SOUTH" in result.output
    assert str(out / "results.csv") in result.output.replace("\n", "")
    assert (out / "results.csv").exists()


def _vaxtrust(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaxtrust", *args], capture_output=True,
                          text=True, check=False)


def _error_text(result: subprocess.CompletedProcess[str]) -> str:
    """stderr as one line (rich wraps long lines at the terminal width)."""
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    return " ".join(result.stderr.split())


def test_a_missing_input_is_one_red_line(province: Province, tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    result = _vaxtrust("clean", "--records", str(missing), "--register",
                       str(province.register), "--out", str(tmp_path / "run"))
    assert _error_text(result) == f"error: file {missing}: file does not exist"
    assert not (tmp_path / "run").exists()


def test_a_bad_mapping_file_is_one_red_line(province: Province, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[records]\n"Tên" = "ten"\n', encoding="utf-8")
    result = _vaxtrust("clean", "--records", str(province.records[0]), "--register",
                       str(province.register), "--out", str(tmp_path / "run"),
                       "--mapping", str(mapping))
    text = _error_text(result)
    assert "mapping.toml: table records maps to unknown columns: 'Tên' = 'ten'" in text


@pytest.mark.parametrize(("kind", "threads", "memory", "message"), [
    ("sqlite", None, None, "engine.type: Input should be 'duckdb' or 'spark'"),
    ("duckdb", 0, None, "engine.threads: Input should be greater than or equal to 1"),
    ("duckdb", None, "lots", "engine.memory_limit: 'lots': write it like 8GB or 512MB"),
])
def test_engine_options_are_checked(kind: str, threads: int | None, memory: str | None,
                                    message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(engine={"type": kind, "threads": threads, "memory_limit": memory})


def test_a_bad_engine_option_is_one_error_before_any_work(province: Province,
                                                          tmp_path: Path) -> None:
    result = _vaxtrust("clean", "--records", str(province.records[0]), "--register",
                       str(province.register), "--out", str(tmp_path / "run"),
                       "--engine", "sqlite", "--threads", "0")
    text = _error_text(result)
    assert "2 invalid settings" in text and "engine.type" in text and "engine.threads" in text
    assert not (tmp_path / "run").exists()


def test_the_duckdb_batch_engine_keeps_its_memory_for_the_run(tmp_path: Path) -> None:
    options = load_settings(engine={"memory_limit": "8GB"}).engine.options(tmp_path)
    assert options == {"threads": None, "memory_limit": "8GB", "temp_directory": tmp_path,
                       "reuse_memory": True}


def test_spark_options_translate_memory(tmp_path: Path) -> None:
    settings = load_settings(engine={"type": "spark", "threads": 4, "memory_limit": "8GB"})
    options = settings.engine.options(tmp_path)
    assert options["master"] == "local[4]" and options["driver_memory"] == "8g"
    assert options["scratch_dir"] == tmp_path


def test_an_output_folder_holding_other_files_is_refused(province: Province,
                                                         tmp_path: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "thesis.docx").write_text("precious", encoding="utf-8")
    result = _vaxtrust("clean", "--records", str(province.records[0]), "--register",
                       str(province.register), "--out", str(out))
    assert "not a vaxtrust run" in _error_text(result)
    assert (out / "thesis.docx").read_text(encoding="utf-8") == "precious"
