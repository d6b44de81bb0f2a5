"""``vaxtrust passport ...``: issue, verify, revoke and test vaccine passports."""

from __future__ import annotations

import typer

passport_app = typer.Typer(
    help="Hộ chiếu vắc xin (EU DCC) / vaccine passports: issue, verify, revoke.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add ``passport`` and its sub-commands to ``app``."""
    from vaxtrust.cli import passport_keys_cmds

    passport_keys_cmds.register(passport_app)
    app.add_typer(passport_app, name="passport")
