"""vaxtrust.vn depends on the standard library and its own data, never on an engine or stage."""

from __future__ import annotations

import sys
from pathlib import Path

import vaxtrust.vn
from tests.imports import imported_modules


def test_vn_imports_only_the_standard_library_and_itself() -> None:
    folder = Path(vaxtrust.vn.__file__).parent
    foreign = {
        f"{path.name}: {module}"
        for path in sorted(folder.glob("*.py"))
        for module in imported_modules(path)
        if not module.startswith("vaxtrust.vn")
        and module.split(".")[0] not in sys.stdlib_module_names
    }
    assert not foreign, f"vn must not depend on these: {sorted(foreign)}"
