"""Which CSCA a verifier trusts: pinned once, never taken from the trust list it checks.

A trust list names its own CSCA; a verifier that believes it trusts anyone who makes a key store
calling itself "VN CSCA, Ministry of Health". So a verifier pins the CSCA certificate(s) it
trusts, configured once: ``--csca FILE`` (repeatable), the setting ``passport.pinned_csca``, or
the environment variable ``VAXTRUST_PINNED_CSCA`` (paths separated by ``:``). Without one it
refuses to run, unless told ``--insecure-unpinned``; every answer then says ``UNPINNED``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509

from vaxtrust.errors import ConfigError

PINNED_CSCA_ENV: Final = "VAXTRUST_PINNED_CSCA"
UNPINNED: Final = "UNPINNED"
UNPINNED_NOTE: Final = (f"{UNPINNED}: no CSCA is pinned, so this answer trusts whatever CSCA the "
                        "trust list names; anyone can make such a list")


@dataclass(frozen=True)
class Pinning:
    """The CSCAs a verification must chain to; ``None`` only when explicitly unpinned."""

    cscas: list[x509.Certificate] | None

    @property
    def pinned(self) -> bool:
        return self.cscas is not None


def pinned_csca_paths(options: Sequence[Path], configured: Sequence[Path]) -> list[Path]:
    """The first of: the command's options, the setting, the environment variable."""
    if options:
        return list(options)
    if configured:
        return list(configured)
    from_env = os.environ.get(PINNED_CSCA_ENV, "")
    return [Path(part) for part in from_env.split(os.pathsep) if part.strip()]


def resolve_pinning(paths: Sequence[Path], *, insecure_unpinned: bool) -> Pinning:
    """Load the pinned CSCAs; refuse to go on without one unless ``insecure_unpinned``."""
    from vaxtrust.passport.pki import load_certificate

    if paths:
        return Pinning([load_certificate(path) for path in paths])
    if insecure_unpinned:
        return Pinning(None)
    raise ConfigError(
        "no CSCA is pinned: give --csca CSCA.pem, set passport.pinned_csca or "
        f"{PINNED_CSCA_ENV}; --insecure-unpinned trusts whatever CSCA the trust list names "
        "(never for a real check: a self-made key store would verify)")
