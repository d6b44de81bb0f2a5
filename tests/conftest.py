"""Shared test set-up: paths to ../shared and the rule that CI never skips a needed service."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


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
