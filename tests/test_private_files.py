"""Issue 12, finding 1: every file the command line writes holds personal data or sits beside it,
so each is created 0600 in folders 0700, even when the operator's umask is the usual 022.

One synthetic province goes through every command that writes files: cleaning (run folder, CSV
results), publishing (the store and its audit key and head exports), a daily run (its run folder
and the register cache under ``--runs``), register changes, reports, the officers export, the
police lists, complaint rejects, and signing (issuance journal, certificates).
"""

from __future__ import annotations

import csv
import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vaxtrust.cli.signin import PASSWORD_ENV

PASSWORD = "a long test password 12"
SECRET = "test key passphrase 12"


def _run(root: Path, *args: str) -> str:
    env = {**os.environ, PASSWORD_ENV: PASSWORD, "VAXTRUST_NEW_PASSWORD": PASSWORD,
           "VAXTRUST_CSCA_PASSPHRASE": SECRET, "VAXTRUST_KEY_PASSPHRASE": SECRET,
           "VAXTRUST__ENGINE__THREADS": "1"}
    env.pop("VAXTRUST_TOKEN", None)
    proc = subprocess.run([sys.executable, "-m", "vaxtrust", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False,
                          preexec_fn=lambda: os.umask(0o022))  # noqa: PLW1509 (no threads here)
    assert proc.returncode == 0, f"vaxtrust {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _day_file(records: Path, day: Path) -> None:
    """Twenty of the generated records, under new ids, as a facility's day file."""
    with records.open(encoding="utf-8", newline="") as source:
        rows = list(csv.DictReader(source))[:20]
    with day.open("w", encoding="utf-8", newline="") as target:
        writer = csv.DictWriter(target, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({**row, "record_id": f"DAY-{n}"} for n, row in enumerate(rows))


def _loose(root: Path, given: Path) -> list[str]:
    loose = []
    for path in sorted(root.rglob("*")):
        if path == given or given in path.parents:
            continue
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            loose.append(f"{path.relative_to(root)} {mode:o}")
    return loose


@pytest.mark.slow
def test_every_file_the_commands_write_is_private_under_umask_022(tmp_path: Path) -> None:
    given = tmp_path / "given"   # the operator's own input files: not ours to judge
    given.mkdir()
    db = f"sqlite:///{tmp_path / 'store' / 'vaxtrust.db'}"
    (tmp_path / "store").mkdir(mode=0o700)
    _run(tmp_path, "generate", "--persons", "300", "--seed", "7", "--out", str(given / "gen"))
    _day_file(given / "gen" / "records.csv", given / "day.csv")
    register = str(given / "gen" / "register.parquet")
    _run(tmp_path, "clean", "-r", str(given / "gen" / "records.csv"), "-g", register,
         "-o", "run", "--csv")
    _run(tmp_path, "users", "add", "minh", "--role", "ministry", "--admin", "--db", db)
    admin = ["--as", "minh", "--db", db]
    _run(tmp_path, "publish", "run", *admin)
    _run(tmp_path, "daily", "--register", register, "--runs", "daily-runs", str(given / "day.csv"),
         *admin)
    _run(tmp_path, "register-changes", register, "--snapshot", "--runs", "daily-runs", *admin)
    _run(tmp_path, "report", "progress", "--format", "xlsx", "--out", "reports/progress.xlsx", *admin)
    _run(tmp_path, "report", "accountability", "--out", "reports/accountability.xlsx", *admin)
    _run(tmp_path, "officers", "export", "--out", "exports/officers.xlsx", *admin)
    _run(tmp_path, "lists", "export", "--out", "exports/lists", *admin)
    _run(tmp_path, "passport", "keys", "init-csca", "--keystore", "keys")
    _run(tmp_path, "passport", "keys", "new-signer", "vn-national", "--keystore", "keys")
    _run(tmp_path, "passport", "sign-batch", "--keystore", "keys", "--out", "signed", *admin)
    written = {path.relative_to(tmp_path).parts[0] for path in tmp_path.rglob("*")}
    assert {"run", "store", "daily-runs", "reports", "exports", "keys", "signed"} <= written
    assert (tmp_path / "daily-runs" / ".register-cache").is_dir()
    assert (tmp_path / "signed" / "issuance.sqlite").is_file()
    assert _loose(tmp_path, given) == []


def test_complaint_attachments_are_private_whatever_the_umask(tmp_path: Path) -> None:
    """The web server sets its umask; a library use of the attachment store may not."""
    from vaxtrust.complaints.attachments import FolderStore, Prepared

    old = os.umask(0o022)
    try:
        files = FolderStore(tmp_path / "attachments")   # the folder does not exist yet
        data = b"a photo of a vaccination card"
        files.put(Prepared(data, "image/png", hashlib.sha256(data).hexdigest()))
    finally:
        os.umask(old)
    assert _loose(tmp_path, tmp_path / "none") == []
