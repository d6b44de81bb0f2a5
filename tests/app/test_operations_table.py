"""The table of operations in ``vaxtrust.app``'s docstring names every module and only real functions."""

from __future__ import annotations

import importlib
import pkgutil
import re

import vaxtrust.app

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
