"""Output folders that appear whole or not at all.

A command that writes a folder of files (a cleaning run, a generated data set) writes them into a
hidden sibling folder and moves it into place only when every file is complete: a failed or
interrupted command never leaves a complete-looking folder, and an earlier folder at the target
stays until the new one replaces it.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from vaxtrust.errors import ConfigError
from vaxtrust.files import private_dir


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A hidden folder beside ``target`` that replaces it when the block succeeds, else vanishes.

    The caller checks first that ``target`` may be replaced. A folder that cannot be created is
    a :class:`~vaxtrust.errors.ConfigError` naming ``target``.
    """
    target = target.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # 0700: run folders and data sets hold personal data (vaxtrust.files).
        staging = private_dir(target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}")
    except OSError as error:
        raise ConfigError(f"{target} cannot be written: {error.strerror or error}") from error
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _replace(staging, target)


def _replace(staging: Path, target: Path) -> None:
    """Move ``staging`` to ``target``; an earlier folder there is moved aside, then removed.

    Each step is one rename, so at every moment ``target`` is either the old folder or the new.
    """
    previous = None
    if target.exists():
        previous = target.parent / f".{target.name}.previous-{uuid.uuid4().hex[:8]}"
        os.replace(target, previous)
    os.replace(staging, target)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
