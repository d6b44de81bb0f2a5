"""One-time codes for citizens: how a code reaches the phone used at vaccination.

:class:`CodeSender` is the plug for an SMS gateway (its credentials come from the gateway's own
environment variables, never from vaxtrust's settings). The default senders write the code to
the server's log or to a file (development, the demo, tests).
"""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path
from typing import Protocol

from vaxtrust.errors import ConfigError

logger = logging.getLogger(__name__)
CODE_DIGITS = 6


class CodeSender(Protocol):
    def send(self, phone: str, code: str, *, minutes: int) -> None:
        """Deliver ``code`` to ``phone`` (national form, e.g. 0912345678). The web app calls it
        after answering, in a worker thread (a gateway may block on the network), unless the
        sender says ``local = True``."""


def is_local(sender: CodeSender) -> bool:
    """True for senders that only write on this machine (a log line, a file append): the web
    app calls them on its event loop, saving each look-up a hand-off to a worker thread."""
    return getattr(sender, "local", False) is True


class ConsoleSender:
    """Writes the code to the server's log (development only)."""

    local = True

    def send(self, phone: str, code: str, *, minutes: int) -> None:
        logger.warning("one-time code for %s: %s (valid %d minutes)", masked(phone), code, minutes)

    def notify(self, phone: str, text: str) -> None:
        """A message to the citizen (complaints: ``vaxtrust.complaints.notify``)."""
        logger.warning("message for %s: %s", masked(phone), text)


class FileSender:
    """Appends ``phone<TAB>code`` lines to a file readable by its owner only."""

    local = True

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, phone: str, code: str, *, minutes: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(f"{phone}\t{code}\n")

    def notify(self, phone: str, text: str) -> None:
        """A message to the citizen: ``phone<TAB>text`` (complaints)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(f"{phone}\t{' '.join(text.split())}\n")


def sender_from_setting(value: str) -> CodeSender:
    if value == "console":
        return ConsoleSender()
    if value.startswith("file:") and len(value) > 5:
        return FileSender(Path(value[5:]))
    raise ConfigError(f"code sender {value!r}: use 'console' or 'file:PATH'")


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def masked(phone: str) -> str:
    return "*" * max(0, len(phone) - 3) + phone[-3:]


def notifier_from_setting(value: str) -> ConsoleSender | FileSender:
    """The sender of ``web.code_sender`` as a complaints notifier (it has ``notify``)."""
    sender = sender_from_setting(value)
    assert isinstance(sender, ConsoleSender | FileSender)
    return sender
