"""The EU DCC JSON schemas (1.0.0 to 1.3.3) and value sets shipped as package data."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import jsonschema
import jsonschema_rs

from vaxtrust.errors import InvalidCertificate

ISSUED_VERSION = "1.3.0"   # what Viet Nam issued in production (dcc-quality-assurance VN/1.3.0)
_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
_DATA = resources.files("vaxtrust.passport") / "data"


@cache
def known_versions() -> tuple[tuple[int, int, int], ...]:
    """Schema versions in the package, oldest first."""
    found = [_VERSION.match(entry.name) for entry in (_DATA / "schema").iterdir()]
    return tuple(sorted((int(m[1]), int(m[2]), int(m[3])) for m in found if m))


def schema_version_for(ver: object) -> str:
    """The packaged schema for a payload's ``ver``: exact, else the newest patch of the same minor.

    Test data carry patch versions that were never published (``1.0.4``); they are read with the
    newest schema of their minor version, as the schema FAQ advises.
    """
    if not isinstance(ver, str):
        raise InvalidCertificate(f"schema: payload version {ver!r} is not MAJOR.MINOR.PATCH")
    return _schema_version_for(ver)


@lru_cache(maxsize=64)
def _schema_version_for(ver: str) -> str:
    match = _VERSION.match(ver)
    if not match:
        raise InvalidCertificate(f"schema: payload version {ver!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    same_minor = [v for v in known_versions() if v[:2] == (major, minor)]
    if not same_minor:
        raise InvalidCertificate(f"schema: unknown payload version {ver!r}")
    exact = [v for v in same_minor if v[2] == patch]
    chosen = exact[0] if exact else same_minor[-1]
    return ".".join(map(str, chosen))


@cache
def _validator(version: str) -> jsonschema.protocols.Validator:
    text = (_DATA / "schema" / version / "DCC.combined-schema.json").read_text("utf-8")
    schema = json.loads(text)
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(schema, format_checker=_format_checker())


def _is_date(value: object) -> bool:
    try:
        return not isinstance(value, str) or bool(date.fromisoformat(value))
    except ValueError:
        return False


def _is_date_time(value: object) -> bool:
    try:
        return not isinstance(value, str) or bool(datetime.fromisoformat(value))
    except ValueError:
        return False


def _format_checker() -> jsonschema.FormatChecker:
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("date")(_is_date)
    checker.checks("date-time")(_is_date_time)
    return checker


@cache
def _fast_validator(version: str) -> Callable[[Any], bool]:
    """``is_valid`` of the schema compiled by jsonschema-rs: ~4 µs a payload, vs ~25 µs for
    fastjsonschema and ~2 ms for jsonschema, which matters as every issued payload is checked.

    It shares the date/date-time checks of the reference validator and only ever says "valid":
    a failure is explained (and so confirmed) by jsonschema, and a test keeps both verdicts equal
    on every dgc-testdata payload.
    """
    text = (_DATA / "schema" / version / "DCC.combined-schema.json").read_text("utf-8")
    validator = jsonschema_rs.validator_for(
        json.loads(text), formats={"date": _is_date, "date-time": _is_date_time}, validate_formats=True)
    return validator.is_valid


def _is_valid(payload: Any, version: str) -> bool:
    try:
        return _fast_validator(version)(payload)
    except (ValueError, TypeError, OverflowError):  # not JSON data (bytes, int keys): jsonschema tells
        return False


def schema_errors(payload: Any, version: str | None = None) -> list[str]:
    """Every schema violation of a DCC payload (``[]`` = valid), by the payload's own version.

    Beyond the JSON schema (which before 1.3.0 cannot say so), a DCC holds exactly one of
    ``v``/``t``/``r`` with exactly one entry.
    """
    if not isinstance(payload, dict):
        return ["payload is not a JSON object"]
    try:
        version = version or schema_version_for(payload.get("ver"))
    except InvalidCertificate as error:
        return [str(error)]
    errors = [] if _is_valid(payload, version) else [
        f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
        for error in _validator(version).iter_errors(payload)
    ]
    groups = [key for key in ("v", "t", "r") if key in payload]
    if len(groups) != 1:
        errors.append(f"holds {len(groups)} of the groups v/t/r, must hold exactly one")
    elif not isinstance(payload[groups[0]], list) or len(payload[groups[0]]) != 1:
        errors.append(f"group {groups[0]} must hold exactly one entry")
    return sorted(set(errors))


def validate(payload: Any, version: str | None = None) -> None:
    """Raise :class:`InvalidCertificate` listing every schema violation."""
    errors = schema_errors(payload, version)
    if errors:
        raise InvalidCertificate("schema: " + "; ".join(errors))


@cache
def value_set(name: str) -> dict[str, str]:
    """Code → English display name of one eHN value set (e.g. ``vaccine-medicinal-product``)."""
    text = (_DATA / "valuesets" / f"{name}.json").read_text("utf-8")
    values = json.loads(text)["valueSetValues"]
    return {code: entry.get("display", code) for code, entry in values.items()}


def display(value_set_name: str, code: object) -> str:
    """The display name of ``code``, or the code itself when the value set does not know it."""
    text = str(code) if code is not None else ""
    return value_set(value_set_name).get(text, text)
