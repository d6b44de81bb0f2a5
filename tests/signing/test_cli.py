"""``vaxtrust passport sign-batch|revoke|revocation-list`` end to end, and the verifier reading the lists."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from tests.passport.conftest_keys import SoftToken, SyntheticPerson, synthetic_people, write_run
from vaxtrust.cli import app
from vaxtrust.errors import ConfigError, SigningKeyError

SECRETS = {"VAXTRUST_CSCA_PASSPHRASE": "csca passphrase cli", "VAXTRUST_KEY_PASSPHRASE": "key passphrase cli"}


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, BaseException | None]:
    result = CliRunner().invoke(app, ["passport", *args], env=SECRETS | (env or {}))
    return result.exit_code, result.output, result.exception


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    code, output, exception = _run(*args, env=env)
    assert code == 0, f"{output}\n{exception!r}"
    return output


@pytest.fixture
def keys(tmp_path: Path) -> str:
    directory = str(tmp_path / "keys")
    _ok("keys", "init-csca", "--keystore", directory)
    _ok("keys", "new-signer", "vn-national", "--keystore", directory)
    return directory


def _people() -> list[SyntheticPerson]:
    return [person for person in synthetic_people() if person.in_register]


def test_sign_revoke_export_and_verify_from_the_command_line(keys: str, tmp_path: Path) -> None:
    run, _ = write_run(tmp_path, _people())
    out = tmp_path / "issued"
    output = _ok("sign-batch", "--run", str(run), "--keystore", keys,
                 "--out", str(out))
    assert "5 people queued for signing" in output
    assert "issued 4" in output and "skipped 1 (dose_flagged 1)" in output
    again = _ok("sign-batch", "--run", str(run), "--keystore", keys,
                "--out", str(tmp_path / "elsewhere"))
    assert "issued 0, re-issued 0" in again  # the store knows everyone is signed
    rows = {row["person_id"]: row for row in pq.read_table(out / "certificates.parquet").to_pylist()}
    qr_text = rows["P001"]["qr_text"]

    trust, revocations = tmp_path / "trust.json", tmp_path / "revocations.json"
    _ok("trust-list", "export", "--keystore", keys, "--out", str(trust))
    pin = ["--csca", f"{keys}/csca/csca.pem"]
    assert "HỢP LỆ" in _ok("verify", qr_text, "--trust-list", str(trust), *pin)

    assert "revoked URN:UVCI:01:VN:" in _ok("revoke", "--keystore", keys, "--person-id", "P001",
                                            "--reason", "wrong dose date")
    output = _ok("revocation-list", "export", "--keystore", keys, "--out", str(revocations),
                 "--hash-type", "SIGNATURE")
    assert "1 batch(es), signed with the CSCA key" in output
    assert json.loads(revocations.read_text())["batches"][0]["hashType"] == "SIGNATURE"
    code, _, exception = _run("verify", qr_text, "--trust-list", str(trust),
                              "--revocation-list", str(revocations), *pin)
    assert code != 0 and "revoked" in str(exception).lower()


def test_sign_batch_needs_the_key_passphrase(keys: str, tmp_path: Path) -> None:
    run, _ = write_run(tmp_path, _people())
    code, _, exception = _run("sign-batch", "--run", str(run),
                              "--keystore", keys, "--out", str(tmp_path / "o"),
                              env={"VAXTRUST_KEY_PASSPHRASE": ""})
    assert code != 0 and isinstance(exception, SigningKeyError)
    assert "passphrase is needed" in str(exception)


def test_revocation_commands_need_a_store_and_valid_hash_types(keys: str, tmp_path: Path) -> None:
    code, _, exception = _run("revoke", "--keystore", keys, "--uvci", "x", "--reason", "r")
    assert isinstance(exception, ConfigError) and "sign-batch" in str(exception)
    run, _ = write_run(tmp_path, _people())
    _ok("sign-batch", "--run", str(run), "--keystore", keys,
        "--out", str(tmp_path / "o"))
    code, _, exception = _run("revocation-list", "export", "--keystore", keys,
                              "--out", str(tmp_path / "r.json"), "--hash-type", "MD5")
    assert isinstance(exception, ConfigError) and "MD5" in str(exception)
    code, _, exception = _run("revoke", "--keystore", keys, "--db", "sqlite:///x.db", "--uvci", "x",
                              "--reason", "r")
    assert isinstance(exception, ConfigError) and "--as" in str(exception)


@pytest.mark.hsm
def test_sign_batch_with_a_token_signer(tmp_path: Path, soft_token: SoftToken) -> None:
    keys = str(tmp_path / "keys")
    pin = {"VAXTRUST_PKCS11_PIN": soft_token.pin}
    _ok("keys", "init-csca", "--keystore", keys)
    _ok("keys", "new-signer", "batch-hsm", "--keystore", keys, "--token", soft_token.label,
        "--pkcs11-module", str(soft_token.module), env=pin)
    run, _ = write_run(tmp_path, _people())
    out = tmp_path / "issued"
    assert "issued 4" in _ok("sign-batch", "--run", str(run),
                             "--keystore", keys, "--out", str(out), env=pin)
    trust = tmp_path / "trust.json"
    _ok("trust-list", "export", "--keystore", keys, "--out", str(trust))
    for row in pq.read_table(out / "certificates.parquet").to_pylist():
        assert row["signer"] == "batch-hsm"
        assert "HỢP LỆ" in _ok("verify", row["qr_text"], "--trust-list", str(trust),
                               "--csca", f"{keys}/csca/csca.pem")
