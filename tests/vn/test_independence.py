"""vaxtrust.vn depends on the standard library and its own data, never on an engine or stage."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import vaxtrust.vn


def _imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module)
    return modules


def test_vn_imports_only_the_standard_library_and_itself() -> None:
    folder = Path(vaxtrust.vn.__file__).parent
    foreign = {
        f"{path.name}: {module}"
        for path in sorted(folder.glob("*.py"))
        for module in _imported_modules(path)
        if not module.startswith("vaxtrust.vn")
        and module.split(".")[0] not in sys.stdlib_module_names
    }
    assert not foreign, f"vn must not depend on these: {sorted(foreign)}"
