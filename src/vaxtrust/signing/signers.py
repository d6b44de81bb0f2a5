"""The signers of a batch: each loaded once (a token session or a decrypted key), one picked per
person by the key store's routing (province, then facility) or one fixed signer for everyone.

Built from settings in one place (:meth:`vaxtrust.config.Settings.signers`); the CLI, the web
application and the demo all sign through it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.signer import Signer
    from vaxtrust.signing.people import PersonToSign


class Signers:
    """Loads each signer of ``keys`` once and picks one per person; :meth:`close` ends token
    sessions."""

    def __init__(self, keys: KeyStore, *, passphrase: str | None = None, pin: str | None = None,
                 fixed: str | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.keys = keys
        self._passphrase, self._pin, self._fixed, self._now = passphrase, pin, fixed, now
        self._loaded: dict[str, Signer] = {}

    def name_for(self, person: PersonToSign) -> str:
        """The signer that signs ``person``: the fixed one, else by province and facility."""
        return self._fixed or self.keys.signer_for(
            province=person.province, facility=person.latest_facility).name

    def load(self, name: str) -> Signer:
        """Signer ``name``, loaded (and checked by the key store) on first use."""
        if name not in self._loaded:
            self._loaded[name] = self.keys.load_signer(
                name, now=self._now(), passphrase=self._passphrase, pin=self._pin)
        return self._loaded[name]

    def for_person(self, person: PersonToSign) -> tuple[str, Signer]:
        name = self.name_for(person)
        return name, self.load(name)

    def close(self) -> None:
        for signer in self._loaded.values():
            close = getattr(signer, "close", None)
            if close is not None:
                close()
        self._loaded.clear()

    def __enter__(self) -> Signers:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
