"""``vaxtrust demo``: a synthetic province through every stage that exists."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add ``demo`` to ``app``."""
