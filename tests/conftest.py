"""Shared test set-up: paths to test data and ../shared, and the rule that CI never skips a needed service.

Small files the tests need live in ``tests/vectors`` (a fresh clone has no ``../shared``). Tests that
read the large shared corpora carry the ``shared_data`` marker: deselected by default, run by
``.ci/run`` (``pytest -m shared_data``), which has ``../shared`` beside the repository.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
# No timing thresholds in tests: Hypothesis's per-example deadline (200 ms) fails a property test
# on a loaded machine, or on an example that first loads reference data, without any bug.
settings.register_profile("vaxtrust", deadline=None)
settings.load_profile("vaxtrust")
# The audit chain's key for every store the tests open (stores are copied from templates, so a
# key file beside each would not follow); tests of the key's other sources unset it.
TEST_AUDIT_KEY = "5e" * 32
os.environ.setdefault("VAXTRUST_AUDIT_KEY", TEST_AUDIT_KEY)
# PostgreSQL stores' head exports (SQLite keeps them beside each store file).
os.environ.setdefault("VAXTRUST_AUDIT_HEAD_DIR", tempfile.mkdtemp(prefix="vaxtrust-heads-"))
SHARED = ROOT.parent / "shared"
VECTORS = ROOT / "tests" / "vectors"
VN_SAMPLE = VECTORS / "vn-dcc-sample"  # Viet Nam's EU DCC test certificate (PROVENANCE.md there)
DCC_TESTDATA = SHARED / "dcc-testdata"  # large: tests that read it are marked shared_data


def require_service(reason: str) -> None:
    """Skip locally when a service is missing, but fail under CI (VAXTRUST_REQUIRE_SERVICES=1)."""
    if os.environ.get("VAXTRUST_REQUIRE_SERVICES") == "1" or os.environ.get("CI") == "true":
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        require_service(f"../shared not found at {SHARED}")
    return SHARED


def require_shared(path: Path) -> Path:
    """``path`` inside ../shared; skips (fails under CI) when it is missing."""
    if not path.exists():
        require_service(f"{path} not found (../shared)")
    return path


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> None:
    """Argon2id with test-sized cost: production's 64 MiB x 3 passes would make each sign-in
    of the CLI tests cost a third of a second on a busy machine. Same algorithm and code path;
    the parameters travel inside each hash, so verifying a production hash still works."""
    from argon2 import PasswordHasher

    from vaxtrust.store import auth

    auth._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth._dummy_hash.cache_clear()


@pytest.fixture(autouse=True)
def _cheaper_key_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """New key files in tests take 10,000 PBKDF2 rounds instead of 600,000 (about 1 s each).

    Only the cost changes, not the format; test_pki checks the real count. Subprocesses (the
    CLI run as a program) keep the real count.
    """
    from vaxtrust.passport import pki

    monkeypatch.setattr(pki, "PBKDF2_ROUNDS", 10_000)
