"""The ``vaxtrust`` command line.

Each area registers its commands from its own module; heavy imports happen inside the commands so
``vaxtrust --help`` stays fast. Every :class:`~vaxtrust.errors.VaxtrustError` becomes one red line
and a non-zero exit; ``--debug`` or ``VAXTRUST_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console

from vaxtrust import __version__
from vaxtrust.cli.settings import invocation
from vaxtrust.errors import VaxtrustError
from vaxtrust.files import private_umask
from vaxtrust.redact import install_log_redaction, without_passwords

app = typer.Typer(
    name="vaxtrust",
    help="vaxtrust: làm sạch dữ liệu tiêm chủng và ký hộ chiếu vắc xin / "
    "clean vaccination records and sign vaccine passports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

err_console = Console(stderr=True)


CONFIG_OPTION = typer.Option(
    None, "--config", help="Settings file (TOML, docs/configuration.md); default: "
    "$VAXTRUST_CONFIG. Environment variables VAXTRUST__SECTION__KEY and each command's options "
    "override it.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vaxtrust {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors."),
    config: Path | None = CONFIG_OPTION,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
) -> None:
    if debug:
        os.environ["VAXTRUST_DEBUG"] = "1"
    invocation.config = config
    # Stores, run outputs, register copies and journals hold personal data: 0600 / 0700.
    private_umask()


def _register_commands() -> None:
    from vaxtrust.cli import (
        clean_cmds,
        complaint_cmds,
        daily_cmds,
        data_cmds,
        demo_cmd,
        passport_cmds,
        report_cmds,
        store_cmds,
        web_cmds,
    )

    for module in (data_cmds, clean_cmds, daily_cmds, passport_cmds, store_cmds, report_cmds,
                   complaint_cmds, demo_cmd, web_cmds):
        module.register(app)


_register_commands()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app with the one error handler."""
    install_log_redaction()
    try:
        app(args=argv, standalone_mode=True)
    except VaxtrustError as error:
        if os.environ.get("VAXTRUST_DEBUG") == "1":
            raise
        # One line, printed literally: messages may contain [brackets] and long file paths.
        err_console.print("error: ", style="bold red", end="")
        err_console.print(without_passwords(str(error)), markup=False, highlight=False,
                          soft_wrap=True)
        sys.exit(2)
    except (KeyboardInterrupt, BrokenPipeError):
        sys.exit(130)
