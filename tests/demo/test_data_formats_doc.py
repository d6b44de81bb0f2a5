"""docs/data-formats.md stays complete: every column and every error code is described there."""

from __future__ import annotations

from pathlib import Path

from vaxtrust.demo.errors import ERROR_KINDS
from vaxtrust.demo.generate import PERSON_COLUMNS
from vaxtrust.schema import DOSE_RECORD_COLUMNS, REGISTER_COLUMNS, RESULT_COLUMNS, TRUTH_COLUMNS

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-formats.md"


def test_every_column_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    columns = (*DOSE_RECORD_COLUMNS, *REGISTER_COLUMNS, *RESULT_COLUMNS, *TRUTH_COLUMNS, *PERSON_COLUMNS)
    assert [c for c in columns if f"`{c}`" not in text] == []


def test_every_error_kind_is_documented_with_its_rate() -> None:
    text = DOC.read_text(encoding="utf-8")
    for kind in ERROR_KINDS:
        row = next((line for line in text.splitlines() if line.startswith(f"| `{kind.code}` |")), None)
        assert row is not None, kind.code
        assert f"| {kind.field} | {kind.level} |" in row, kind.code
        assert kind.rate == 0 or f"| {kind.rate:g} |" in row, kind.code
