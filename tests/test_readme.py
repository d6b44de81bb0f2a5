"""The README's "What is where" table names every package and top-level folder of the tree."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def layout_paths() -> set[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = text.split("## What is where", 1)[1].split("\n## ", 1)[0]
    return {match.rstrip("/") for match in re.findall(r"^\| `([^`]+)` \|", table, re.MULTILINE)}


def test_the_layout_table_names_every_package_and_folder() -> None:
    named = layout_paths()
    packages = {f"src/vaxtrust/{path.name}" for path in (ROOT / "src" / "vaxtrust").iterdir()
                if (path / "__init__.py").is_file()}
    folders = {name for name in ("benchmarks", "docs", "scripts", "tests", ".ci/run")
               if (ROOT / name).exists()}
    assert packages | folders <= named, sorted((packages | folders) - named)


def test_every_path_in_the_layout_table_exists() -> None:
    missing = [path for path in layout_paths()
               if "*" not in path and not (ROOT / path).exists()]
    assert missing == []
