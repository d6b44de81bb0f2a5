"""Files holding personal data are created 0600, in folders 0700: one place that decides how.

Names, dates of birth, ID numbers and phones live in the store, run outputs, register copies and
issuance journals. :func:`private_umask` makes every file and folder the process creates
private (libraries such as DuckDB, SQLite and Arrow create files themselves); the shells (CLI,
web server, daily runs) call it first. The other helpers create or tighten one file or folder
explicitly, for callers that cannot rely on the shell's umask (a library use of vaxtrust).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_umask() -> int:
    """Make everything this process creates from now on private; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) 0700.

    Folders that already exist are left alone (``--out .`` must not close the working folder);
    the files written into them are private themselves.
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
        os.chmod(folder, DIR_MODE)      # mkdir's mode is filtered through the umask
    return path


def make_private(path: Path) -> None:
    """Remove group and other access from a file or folder this account owns."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid != os.geteuid():
        return
    wanted = DIR_MODE if stat.S_ISDIR(info.st_mode) else FILE_MODE
    current = stat.S_IMODE(info.st_mode)
    if current & (stat.S_IRWXG | stat.S_IRWXO):
        os.chmod(path, current & wanted)


def write_private(path: Path, content: str | bytes, *, exclusive: bool = False) -> None:
    """Write ``content`` to ``path`` created 0600 (``exclusive``: refuse an existing file)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_EXCL if exclusive else os.O_TRUNC)
    data = content.encode("utf-8") if isinstance(content, str) else content
    descriptor = os.open(path, flags, FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def read_secret_file(path: Path, what: str) -> str:
    """The first line of a file holding a secret (a PIN, a password); refuses a file that other
    accounts may read, since the secret then is not the owner's alone."""
    from vaxtrust.errors import ConfigError

    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} ({what}) is open to other accounts (mode {mode:o}): chmod 600 it")
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ConfigError(f"cannot read {path} ({what}): {error.strerror}") from None
    if not lines or not lines[0].strip():
        raise ConfigError(f"{path} ({what}) is empty")
    return lines[0].strip()
