"""Who may use an engine: DuckDB only behind the engine interface, publish without one."""

from __future__ import annotations

from pathlib import Path

import vaxtrust
from tests.imports import imported_modules

PACKAGE = Path(vaxtrust.__file__).parent


def _importers(folder: Path, *prefixes: str) -> list[str]:
    return sorted(
        f"{path.relative_to(PACKAGE)}: {module}"
        for path in folder.rglob("*.py")
        for module in imported_modules(path)
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)
    )


def test_only_the_engine_package_imports_duckdb() -> None:
    outside = [line for line in _importers(PACKAGE, "duckdb") if not line.startswith("engine/")]
    assert outside == [], "use vaxtrust.engine.small_job_engine for small jobs"


def test_publish_needs_no_engine_and_no_ingest() -> None:
    assert _importers(PACKAGE / "store" / "publish", "vaxtrust.engine", "vaxtrust.ingest") == []
