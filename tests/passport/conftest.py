"""Fixtures of the passport tests."""

from tests.passport.conftest_keys import keystore, soft_token  # noqa: F401  (key fixtures)
