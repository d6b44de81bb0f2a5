"""Run the command line as a test user: every ``--as USER`` signs in with that user's password.

Test users get the password :func:`password_of` (``users add`` reads it from
``$VAXTRUST_NEW_PASSWORD``); the helpers put the right one into ``$VAXTRUST_PASSWORD``.
"""

from __future__ import annotations

from collections.abc import Sequence

from typer.testing import CliRunner, Result

from vaxtrust.cli import app


def password_of(username: str) -> str:
    return f"correct horse {username[::-1]} 42"


def credentials_env(args: Sequence[str]) -> dict[str, str | None]:
    """The environment a test user's command runs with: their password, the new user's."""
    env: dict[str, str | None] = {"VAXTRUST_TOKEN": None, "VAXTRUST_PASSWORD": None,
                                  "VAXTRUST_NEW_PASSWORD": None}
    if "--as" in args:
        env["VAXTRUST_PASSWORD"] = password_of(args[list(args).index("--as") + 1])
    if len(args) > 2 and args[0] == "users" and args[1] in ("add", "passwd"):
        env["VAXTRUST_NEW_PASSWORD"] = password_of(args[2])
    return env


def invoke(args: Sequence[str], env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**credentials_env(args), **(env or {})})


def cli(store_url: str, *args: str, env: dict[str, str | None] | None = None) -> str:
    """Run one command on the store; raise its error, else return its output."""
    result = invoke([*args, "--db", store_url], env)
    if result.exception is not None:
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output
