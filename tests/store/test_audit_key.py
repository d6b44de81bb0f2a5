"""Where the audit key comes from, and the private-file helpers it is written with."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from vaxtrust.errors import ConfigError
from vaxtrust.files import make_private, private_dir, write_private
from vaxtrust.store.audit_key import KEY_ENV, read_key_file
from vaxtrust.store.db import Store
from vaxtrust.store.scope import load_actor
from vaxtrust.store.users import add_user


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _add_first_user(store: Store) -> None:
    with store.transaction() as session:
        add_user(session, by=None, username="minh", role="ministry")


def test_a_new_sqlite_store_gets_a_private_key_beside_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    database = tmp_path / "store.db"
    store = Store.open(f"sqlite:///{database}")
    _add_first_user(store)
    key_file = Path(f"{database}.audit-key")
    assert _mode(key_file) == 0o600 and _mode(database) == 0o600
    assert store.audit_key is not None and store.audit_key.key_id not in repr(key_file)
    store.close()
    again = Store.open(f"sqlite:///{database}")
    assert again.audit_key == read_key_file(key_file)
    again.close()


def test_a_store_whose_key_is_missing_is_read_only(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV)
    database = tmp_path / "store.db"
    store = Store.open(f"sqlite:///{database}")
    _add_first_user(store)
    store.close()
    Path(f"{database}.audit-key").unlink()
    keyless = Store.open(f"sqlite:///{database}")
    assert keyless.audit_key is None        # not silently replaced by a new key
    with pytest.raises(ConfigError, match="no audit key configured"):
        with keyless.transaction() as session:
            add_user(session, by=load_actor(session, "minh"), username="second",
                     role="ministry")
    keyless.close()


@pytest.mark.parametrize(("content", "mode", "message"), [
    ("ab" * 32, 0o644, "open to other accounts"),
    ("ab" * 8, 0o600, "shorter than 32 bytes"),
    ("not hex at all", 0o600, "not hex"),
])
def test_a_bad_key_file_is_refused(tmp_path: Path, content: str, mode: int,
                                   message: str) -> None:
    path = tmp_path / "key"
    path.write_text(content, encoding="ascii")
    os.chmod(path, mode)
    with pytest.raises(ConfigError, match=message):
        Store.open(f"sqlite:///{tmp_path / 's.db'}", audit_key_file=path)


def test_private_files_and_folders(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        assert _mode(folder) == 0o700 and _mode(tmp_path / "a") == 0o700
        write_private(folder / "f", "x")
        assert _mode(folder / "f") == 0o600
        with pytest.raises(FileExistsError):
            write_private(folder / "f", "y", exclusive=True)
        loose = tmp_path / "loose.parquet"
        loose.write_text("x")
        assert _mode(loose) == 0o644
        make_private(loose)
        assert _mode(loose) == 0o600
    finally:
        os.umask(old)
