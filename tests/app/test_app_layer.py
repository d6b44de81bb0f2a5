"""The application layer: its table of operations is complete and true, and the CLI is a shell
nothing else builds on."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import vaxtrust.app
from tests.imports import imported_modules

ROW = re.compile(r"^\| :mod:`vaxtrust\.app\.(\w+)` \| (.*) \|$", re.MULTILINE)


def test_every_app_module_has_a_row_naming_functions_it_defines() -> None:
    rows = dict(ROW.findall(vaxtrust.app.__doc__ or ""))
    modules = {info.name for info in pkgutil.iter_modules(vaxtrust.app.__path__)
               if not info.name.startswith("_")}
    assert set(rows) == modules
    missing = [f"{module}.{name}" for module, text in rows.items()
               for name in re.findall(r"``(\w+)``", text)
               if not callable(getattr(importlib.import_module(f"vaxtrust.app.{module}"), name, None))]
    assert missing == []


def test_no_other_shell_imports_the_cli() -> None:
    """The web app and the daily runs call ``vaxtrust.app``, never a command's module."""
    package = Path(vaxtrust.app.__file__).parents[1]
    importers = []
    for path in package.rglob("*.py"):
        if path.parent.name == "cli" or path.name == "__main__.py":
            continue
        if any(name == "vaxtrust.cli" or name.startswith("vaxtrust.cli.")
               for name in imported_modules(path)):
            importers.append(str(path.relative_to(package)))
    assert importers == []
