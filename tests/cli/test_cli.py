from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from vaxtrust.cli import app


def test_help_lists_the_command_line() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "vaxtrust" in result.output


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("vaxtrust ")


def test_unknown_command_fails_without_traceback() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "vaxtrust", "no-such-command"], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
