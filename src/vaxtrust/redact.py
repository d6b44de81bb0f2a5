"""Secrets never printed: passwords in database URLs, in messages, CLI output and logs.

A store URL such as ``postgresql+psycopg://vaxtrust:s3cret@db/vaxtrust`` reaches error messages
("cannot reach the store at ..."), the demo's hints and log lines. Every such place shows it
through :func:`safe_url`; :func:`without_passwords` is the catch-all the CLI's error printer and
the log record factory (:func:`install_log_redaction`) apply to any text.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Final

REDACTED: Final = "***"
_URL_PASSWORD = re.compile(
    r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/@'\"]*:)(?P<secret>[^\s@/'\"]+)(?P<at>@)")
_KEYWORD_PASSWORD = re.compile(r"(?i)(?P<head>\b(?:password|passwd|pwd)=)(?P<secret>[^&\s'\";]+)")


def without_passwords(text: str) -> str:
    """``text`` with the password of every URL (``user:PASSWORD@``) and ``password=`` hidden."""
    text = _URL_PASSWORD.sub(rf"\g<head>{REDACTED}\g<at>", text)
    return _KEYWORD_PASSWORD.sub(rf"\g<head>{REDACTED}", text)


def safe_url(url: object) -> str:
    """A database URL as it may be shown: its password replaced by ``***``."""
    return without_passwords(str(url))


def install_log_redaction() -> None:
    """Hide passwords in every log record from now on (idempotent; any logger, any library)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "vaxtrust_redacts", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        message = record.getMessage()
        cleaned = without_passwords(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return record

    factory.vaxtrust_redacts = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)
