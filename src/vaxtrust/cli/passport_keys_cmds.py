"""``vaxtrust passport keys|trust-list|revoke|sign-batch``: keys, trust and revocation."""

from __future__ import annotations

import typer


def register(passport_app: typer.Typer) -> None:
    """Add the key, trust-list, revocation and batch-signing commands to ``passport_app``."""
