"""``vaxtrust passport keys|trust-list``: the command line of the key store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.passport.conftest_keys import SoftToken
from vaxtrust.cli import app
from vaxtrust.errors import ConfigError, SigningKeyError
from vaxtrust.passport.keystore import KeyStore

SECRETS = {"VAXTRUST_CSCA_PASSPHRASE": "csca passphrase cli", "VAXTRUST_KEY_PASSPHRASE": "key passphrase cli"}


def _invoke(*args: str, env: dict[str, str] | None = None) -> object:
    result = CliRunner().invoke(app, ["passport", *args], env=env if env is not None else SECRETS)
    return result


def _ok(*args: str, env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(app, ["passport", *args], env=env if env is not None else SECRETS)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def test_keys_lifecycle_from_the_command_line(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys")
    assert "C=VN valid to" in _ok("keys", "init-csca", "--keystore", keys)
    _ok("keys", "new-signer", "vn-national", "--keystore", keys)
    out = _ok("keys", "new-signer", "hanoi-2026", "--keystore", keys, "--province", "01")
    assert "ES256" in out and "province 01" in out
    out = _ok("keys", "new-signer", "hanoi-2027", "--keystore", keys, "--province", "01",
              "--replaces", "hanoi-2026", "--key-type", "rsa")
    assert "PS256" in out and "retiring hanoi-2026" in out
    listing = _ok("keys", "list", "--keystore", keys)
    assert "retired" in listing and "hanoi-2027" in listing
    _ok("keys", "withdraw", "vn-national", "--keystore", keys)
    trust = tmp_path / "trust.json"
    assert "2 signer(s)" in _ok("trust-list", "export", "--keystore", keys, "--out", str(trust))
    names = {entry["name"] for entry in json.loads(trust.read_text())["certificates"]}
    assert names == {"hanoi-2026", "hanoi-2027"}


def test_secrets_come_from_the_environment_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["passport", "keys", "init-csca", "--keystore", str(tmp_path)], env={
        "VAXTRUST_CSCA_PASSPHRASE": ""})
    assert isinstance(result.exception, ConfigError)
    assert "VAXTRUST_CSCA_PASSPHRASE" in str(result.exception)


def test_a_new_csca_needs_a_12_character_passphrase(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    result = CliRunner().invoke(app, ["passport", "keys", "init-csca", "--keystore", str(keys)],
                                env={"VAXTRUST_CSCA_PASSPHRASE": "11 chars ok"})
    assert result.exit_code != 0
    assert "at least 12 characters" in str(result.exception)
    assert not list(keys.rglob("*.p8"))


def test_wrong_csca_passphrase_is_one_red_line(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    _ok("keys", "init-csca", "--keystore", str(keys))
    env = {"VAXTRUST_CSCA_PASSPHRASE": "not the passphrase", "VAXTRUST_KEY_PASSPHRASE": "whatever it is",
           "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "vaxtrust", "passport", "keys", "new-signer", "x", "--keystore", str(keys)],
        capture_output=True, text=True, env=env,
    )
    assert proc.returncode != 0
    assert "wrong passphrase for key file" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_arguments_are_config_errors(tmp_path: Path) -> None:
    keys = str(tmp_path / "keys")
    _ok("keys", "init-csca", "--keystore", keys)
    result = CliRunner().invoke(app, ["passport", "keys", "new-signer", "x", "--keystore", keys,
                                      "--key-type", "dsa"], env=SECRETS)
    assert isinstance(result.exception, ConfigError) and "--key-type" in str(result.exception)
    result = CliRunner().invoke(app, ["passport", "keys", "new-signer", "x", "--keystore", keys,
                                      "--pkcs11-module", "/usr/lib/softhsm/libsofthsm2.so"], env=SECRETS)
    assert isinstance(result.exception, ConfigError) and "--token" in str(result.exception)
    result = CliRunner().invoke(app, ["passport", "keys", "list", "--keystore", str(tmp_path / "none")])
    assert isinstance(result.exception, ConfigError) and "init-csca" in str(result.exception)


@pytest.mark.hsm
def test_new_signer_in_a_token_from_the_command_line(tmp_path: Path, soft_token: SoftToken) -> None:
    keys = tmp_path / "keys"
    _ok("keys", "init-csca", "--keystore", str(keys))
    env = SECRETS | {"VAXTRUST_PKCS11_PIN": soft_token.pin}
    out = _ok("keys", "new-signer", "cli-hsm", "--keystore", str(keys), "--token", soft_token.label,
              "--pkcs11-module", str(soft_token.module), env=env)
    assert "pkcs11" in out
    assert KeyStore.open(keys).entry("cli-hsm").token_label == soft_token.label
    result = CliRunner().invoke(app, ["passport", "keys", "new-signer", "cli-hsm-2", "--keystore", str(keys),
                                      "--token", soft_token.label, "--province", "02"],
                                env=SECRETS | {"VAXTRUST_PKCS11_PIN": "0000-0000"})
    assert isinstance(result.exception, SigningKeyError) and "wrong PIN" in str(result.exception)


def test_every_key_command_and_secret_variable_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "keys.md").read_text(encoding="utf-8")
    commands = ["keys init-csca", "keys new-signer", "keys list", "keys withdraw", "trust-list export",
                "passport revoke", "revocation-list export", "sign-batch"]
    for command in commands:
        assert command in docs, command
    for variable in ("VAXTRUST_CSCA_PASSPHRASE", "VAXTRUST_CSCA_PIN", "VAXTRUST_KEY_PASSPHRASE",
                     "VAXTRUST_PKCS11_PIN"):
        assert variable in docs, variable
    for option in ("--province", "--facility", "--replaces", "--token", "--csca-token", "--csca-pin-file",
                   "--hash-type", "--block",
                   "--allow-flagged", "--db", "--reclaim-after", "--unsigned"):
        assert option in docs, option
