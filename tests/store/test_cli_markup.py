"""Names and notes that look like Rich markup print as themselves and crash nothing."""

from __future__ import annotations

from pathlib import Path

from tests.store.cli import cli
from tests.store.factory import baseline

MARKUP_NAME = "Lê [/bold] Thị [red]Cúc[/]"
MARKUP_NOTE = "hỏi công an [/] [bold]"


def _cli(store_url: str, *args: str) -> str:
    return cli(store_url, *args).replace("\n", " ")


def test_markup_in_names_and_notes_prints_literally(store_url: str, tmp_path: Path) -> None:
    spec = baseline()
    for row in spec.records:
        if row["record_id"] == "R3":
            row["full_name"] = MARKUP_NAME
    run = spec.write(tmp_path / "run")
    _cli(store_url, "users", "add", "minh", "--role", "ministry", "--admin")
    _cli(store_url, "publish", str(run), "--as", "minh")
    assert "[/bold]" in _cli(store_url, "records", "list", "--as", "minh")
    shown = _cli(store_url, "review", "show", "1", "--as", "minh")
    assert MARKUP_NAME in shown
    _cli(store_url, "review", "decide", "1", "--defer", "--note", MARKUP_NOTE, "--as", "minh")
    assert "[/]" in _cli(store_url, "audit", "history", "R3", "--as", "minh")
