"""Officers sign in through the store's authentication (Argon2id, lock-out, every attempt
audited): ``vaxtrust.store.auth.sign_in``, the same as the CLI's ``--as``."""

from __future__ import annotations

from vaxtrust.errors import AuthenticationFailed
from vaxtrust.store.auth import sign_in as store_sign_in
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor


def sign_in(store: Store, username: str, password: str, address: str) -> Actor | None:
    """The signed-in officer, or None (one answer for unknown user, wrong password, locked
    account: the reason is in the audit trail only)."""
    if not username or not password:
        return None
    try:
        return store_sign_in(store, username, password, client=f"web:{address}")
    except AuthenticationFailed:
        return None
