"""Column mappings: which file header holds which standard column, from TOML or options.

A mapping file has one table per input kind, file header = standard column::

    [records]
    "Mã định danh mũi tiêm" = "record_id"
    "Tên đơn vị tiêm" = "facility_id"

    [register]
    "Số ĐDCN" = "person_id"
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from vaxtrust.errors import ConfigError
from vaxtrust.ingest.headers import STANDARD_COLUMNS, SourceKind


@dataclass(frozen=True)
class ColumnMapping:
    """File header → standard column, per input kind. Empty means the built-in names only."""

    records: dict[str, str] = field(default_factory=dict)
    register: dict[str, str] = field(default_factory=dict)

    def for_kind(self, kind: SourceKind) -> dict[str, str]:
        return {"records": self.records, "register": self.register}.get(kind, {})


def _checked(kind: SourceKind, pairs: dict[str, object], where: str) -> dict[str, str]:
    allowed = STANDARD_COLUMNS[kind]
    errors = [f"{header!r} = {column!r}" for header, column in pairs.items()
              if not isinstance(column, str) or column not in allowed]
    if errors:
        raise ConfigError(
            f"{where}: table {kind} maps to unknown columns: {', '.join(errors)}; "
            f"known columns: {', '.join(allowed)}"
        )
    return {header: str(column) for header, column in pairs.items()}


def load_mapping(path: Path) -> ColumnMapping:
    """Read a mapping TOML file; every error names the file and the offending entries."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"mapping file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"mapping file {path} is not valid TOML: {error}") from None
    unknown = set(data) - {"records", "register"}
    if unknown:
        raise ConfigError(f"mapping file {path}: unknown tables {sorted(unknown)}; "
                          "use the tables records and register")
    tables: dict[str, dict[str, str]] = {}
    for kind in ("records", "register"):
        table = data.get(kind, {})
        if not isinstance(table, dict):
            raise ConfigError(f"mapping file {path}: {kind} must be a table")
        tables[kind] = _checked(kind, table, f"mapping file {path}")
    return ColumnMapping(records=tables["records"], register=tables["register"])


def parse_mapping_options(options: Iterable[str], kind: SourceKind = "records") -> dict[str, str]:
    """``["Header=column", ...]`` from the command line as a mapping."""
    pairs: dict[str, object] = {}
    for option in options:
        header, sep, column = option.rpartition("=")
        if not sep or not header.strip():
            raise ConfigError(f"--map {option!r}: write it as 'File header=standard_column'")
        pairs[header.strip()] = column.strip()
    return _checked(kind, pairs, "--map")


def merged(base: ColumnMapping, records: dict[str, str]) -> ColumnMapping:
    """``base`` with command-line record mappings added on top."""
    return ColumnMapping(records={**base.records, **records}, register=dict(base.register))
