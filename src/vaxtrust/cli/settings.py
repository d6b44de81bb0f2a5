"""The CLI's settings: ``--config FILE`` (root option) < environment < the command's options."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaxtrust.config import Settings


@dataclass
class _Invocation:
    """What the root callback parsed; it runs (and resets this) on every invocation."""

    config: Path | None = None


invocation = _Invocation()


def cli_settings(**overrides: Any) -> Settings:
    """Settings of this command; ``overrides`` are its options by section (None: not given)."""
    from vaxtrust.config import load_settings

    return load_settings(invocation.config, **overrides)
