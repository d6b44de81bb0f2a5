"""Fixtures of the passport tests."""

from tests.passport.conftest_core import (  # noqa: F401,E402  (passport-core fixtures)
    doses,
    es256_signer,
    holder,
    ps256_signer,
)
from tests.passport.conftest_keys import keystore, soft_token  # noqa: F401  (key fixtures)
