"""Fixtures of the signing tests: the passport tests' key store and synthetic runs."""

from tests.passport.conftest_keys import keystore, soft_token  # noqa: F401  (key fixtures)
