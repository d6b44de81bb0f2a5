"""How a command line signs in: ``--as USER`` with that user's password or token, or ``--admin``.

- ``--as USER``: the password from ``$VAXTRUST_PASSWORD``, else a prompt on the terminal.
- ``$VAXTRUST_TOKEN`` (an API token from ``vaxtrust users token``): acts as the token's user;
  ``--as`` may be left out, and must name the same user when given.
- a new password (``users add``, ``users passwd``): ``$VAXTRUST_NEW_PASSWORD``, a made-up one
  (``--generate-password``, printed once), or typed twice on the terminal.
- ``--admin``: administrator mode for the operating-system account that owns the store
  (:func:`vaxtrust.store.auth.administrator`), e.g. to add the first ministry user.

Every sign-in and failed sign-in is audited; a failure is one generic line.
"""

from __future__ import annotations

import getpass
import os
import secrets
import sys
from typing import TYPE_CHECKING

import typer

from vaxtrust.errors import ConfigError

if TYPE_CHECKING:
    from vaxtrust.store.db import Store
    from vaxtrust.store.scope import Actor

PASSWORD_ENV = "VAXTRUST_PASSWORD"
NEW_PASSWORD_ENV = "VAXTRUST_NEW_PASSWORD"
TOKEN_ENV = "VAXTRUST_TOKEN"

AS_OPTION = typer.Option(None, "--as", help="Act as this user: their password from "
                         "$VAXTRUST_PASSWORD or a prompt (or their $VAXTRUST_TOKEN).")
ADMIN_OPTION = typer.Option(False, "--admin", help="Administrator mode: only for the "
                            "operating-system account that owns the store.")


def cli_client() -> str:
    """How the audit trail names a command-line client."""
    return f"cli:uid={os.geteuid()}"


def _command_path() -> str:
    # typer vendors click privately; its current context names the command being run.
    from typer._click.globals import get_current_context

    context = get_current_context(silent=True)
    return context.command_path if context is not None else "vaxtrust"


def read_password(prompt: str) -> str:
    """A password from ``$VAXTRUST_PASSWORD``, else typed (not echoed) on a terminal."""
    password = os.environ.get(PASSWORD_ENV)
    if password is not None:
        return password
    if not sys.stdin.isatty():
        raise ConfigError(f"no terminal to ask for the password: set ${PASSWORD_ENV} "
                          f"or ${TOKEN_ENV}")
    return getpass.getpass(prompt)


def signed_in(store: Store, actor_name: str | None, admin: bool) -> Actor:
    """The actor this command runs as, after checking their credentials."""
    from vaxtrust.store.auth import administrator, sign_in, sign_in_with_token

    if admin:
        if actor_name:
            raise ConfigError("choose --as USER or --admin, not both")
        return administrator(store, command=_command_path())
    token = os.environ.get(TOKEN_ENV)
    if token:
        actor = sign_in_with_token(store, token, client=cli_client())
        if actor_name and actor_name != actor.username:
            raise ConfigError(f"${TOKEN_ENV} belongs to another user than --as {actor_name}")
        return actor
    if not actor_name:
        raise ConfigError("say who you are: --as USER (with their password), "
                          f"${TOKEN_ENV}, or --admin")
    password = read_password(f"password for {actor_name}: ")
    return sign_in(store, actor_name, password, client=cli_client())


def new_password(username: str, generate: bool) -> str:
    """A new password for ``username``: made up, from ``$VAXTRUST_NEW_PASSWORD``, or typed twice."""
    from vaxtrust.store.auth import check_password_policy

    if generate:
        return secrets.token_urlsafe(15)
    password = os.environ.get(NEW_PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise ConfigError(f"no terminal to ask for the new password: set "
                              f"${NEW_PASSWORD_ENV} or use --generate-password")
        password = getpass.getpass(f"new password for {username}: ")
        if getpass.getpass("again: ") != password:
            raise ConfigError("the two passwords differ")
    check_password_policy(password, username)
    return password
