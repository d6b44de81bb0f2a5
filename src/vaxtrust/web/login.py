"""Officers sign in through the store's authentication (argon2id, lock-out, audited)."""

from __future__ import annotations

from vaxtrust.store.db import Store


def sign_in(store: Store, username: str, password: str, address: str) -> str | None:
    """None when the password is right and the user may sign in; else the reason code
    (``bad_credentials`` or ``locked``) the login page shows."""
    raise NotImplementedError
