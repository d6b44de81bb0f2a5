"""Database passwords never reach an error line, the CLI's output or a log."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from vaxtrust.redact import install_log_redaction, safe_url, without_passwords

SECRET = "s3cret-Pa55"


@pytest.mark.parametrize(("text", "shown"), [
    (f"postgresql+psycopg://vaxtrust:{SECRET}@db.example:5432/vaxtrust",
     "postgresql+psycopg://vaxtrust:***@db.example:5432/vaxtrust"),
    (f"store at 'postgresql://u:{SECRET}@h/d' failed", "store at 'postgresql://u:***@h/d' failed"),
    (f"postgresql://h/d?user=u&password={SECRET}", "postgresql://h/d?user=u&password=***"),
    (f"host=db user=u password={SECRET} dbname=v", "host=db user=u password=*** dbname=v"),
    ("sqlite:///vaxtrust.db", "sqlite:///vaxtrust.db"),
    ("postgresql://postgres@127.0.0.1:5432/vaxtrust", "postgresql://postgres@127.0.0.1:5432/vaxtrust"),
])
def test_passwords_are_hidden(text: str, shown: str) -> None:
    assert without_passwords(text) == shown
    assert safe_url(text) == shown


def _vaxtrust(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vaxtrust", *args], capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("url", [
    f"postgresql+psycopg://vaxtrust:{SECRET}@127.0.0.1:1/vaxtrust",   # nobody listens there
    f"mysql://vaxtrust:{SECRET}@127.0.0.1/vaxtrust",                  # unsupported back-end
    f"postgresql+nosuchdriver://vaxtrust:{SECRET}@127.0.0.1/vaxtrust",  # no such driver
])
def test_cli_errors_never_print_the_database_password(url: str) -> None:
    result = _vaxtrust("users", "list", "--db", url, "--as", "minh")
    assert result.returncode != 0
    assert SECRET not in result.stdout + result.stderr
    assert "vaxtrust:***@" in result.stderr.replace("\n", "")
    assert "Traceback" not in result.stderr


def test_log_records_never_hold_the_password(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    install_log_redaction()  # idempotent
    with caplog.at_level(logging.INFO, logger="vaxtrust.store"):
        logging.getLogger("vaxtrust.store").info("connecting to %s",
                                                 f"postgresql://u:{SECRET}@h/d")
    assert SECRET not in caplog.text and "postgresql://u:***@h/d" in caplog.text
