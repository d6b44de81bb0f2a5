"""Settings: file < environment < options, every error at once, docs listing every key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from vaxtrust.cli import app
from vaxtrust.config import Settings, load_settings
from vaxtrust.errors import ConfigError

DOCS = Path(__file__).parents[2] / "docs" / "configuration.md"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the environment: start each test without vaxtrust variables."""
    import os

    for name in list(os.environ):
        if name.startswith("VAXTRUST"):
            monkeypatch.delenv(name)


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "vaxtrust.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_any_source() -> None:
    settings = load_settings()
    assert settings.engine.type == "duckdb" and settings.engine.threads is None
    assert settings.store.url == "sqlite:///vaxtrust.db"
    assert settings.clean_settings().match.auto_link == 0.95


def test_the_environment_beats_the_file_and_options_beat_both(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, '[engine]\nthreads = 2\nmemory_limit = "4GB"\n'
                 '[matching]\nauto_link = 0.9\n')
    from_file = load_settings(path)
    assert (from_file.engine.threads, from_file.engine.memory_limit) == (2, "4GB")
    monkeypatch.setenv("VAXTRUST__ENGINE__THREADS", "3")
    from_env = load_settings(path)
    assert (from_env.engine.threads, from_env.engine.memory_limit) == (3, "4GB")
    from_options = load_settings(path, engine={"threads": 5, "memory_limit": None})
    assert (from_options.engine.threads, from_options.engine.memory_limit) == (5, "4GB")
    assert from_options.matching.auto_link == 0.9  # other sections keep the file's values
    assert from_options.clean_settings().match.auto_link == 0.9


def test_the_file_can_come_from_the_environment(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAXTRUST_CONFIG", str(_file(tmp_path, "[web]\nport = 8443\n")))
    assert load_settings().web.port == 8443


def test_the_older_database_variable_stays_below_the_new_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, '[store]\nurl = "sqlite:///file.db"\n')
    assert load_settings(path).store.url == "sqlite:///file.db"
    monkeypatch.setenv("VAXTRUST_DATABASE_URL", "sqlite:///legacy.db")
    assert load_settings(path).store.url == "sqlite:///legacy.db"
    monkeypatch.setenv("VAXTRUST__STORE__URL", "sqlite:///new.db")
    assert load_settings(path).store.url == "sqlite:///new.db"
    assert load_settings(path, store={"url": "sqlite:///cli.db"}).store.url == "sqlite:///cli.db"


def test_every_error_of_every_source_is_reported_at_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _file(tmp_path, '[engine]\nmemory_limit = "lots"\ntypo = 1\n[matching]\n'
                 'auto_link = 0.2\n[nonsense]\nx = 1\n')
    monkeypatch.setenv("VAXTRUST__WEB__PORT", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, engine={"threads": 0})
    message = str(caught.value)
    assert message.startswith("6 invalid settings")
    for expected in ("engine.memory_limit: 'lots': write it like 8GB",
                     "engine.typo: unknown setting", "engine.threads:",
                     "matching: review_floor must lie between candidate_floor and auto_link",
                     "nonsense: unknown setting", "web.port:"):
        assert expected in message


@pytest.mark.parametrize(("text", "message"), [
    ("[engine\n", "is not valid TOML"),
    (None, "does not exist"),
])
def test_a_missing_or_broken_file_is_named(tmp_path: Path, text: str | None,
                                           message: str) -> None:
    path = _file(tmp_path, text) if text is not None else tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=message):
        load_settings(path)


def test_the_cli_reads_the_file_given_with_config(tmp_path: Path) -> None:
    path = _file(tmp_path, '[store]\nurl = "sqlite:///%s"\n' % (tmp_path / "from-file.db"))
    result = CliRunner().invoke(app, ["--config", str(path), "store", "upgrade"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "from-file.db").is_file()
    # an option beats the file
    other = tmp_path / "from-option.db"
    result = CliRunner().invoke(app, ["--config", str(path), "store", "upgrade",
                                      "--db", f"sqlite:///{other}"])
    assert result.exit_code == 0, result.output
    assert other.is_file()


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += _keys(annotation, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_the_docs_list_every_setting_and_nothing_else() -> None:
    text = DOCS.read_text(encoding="utf-8")
    keys = _keys(Settings)
    assert len(keys) > 30
    rows = set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)` \| `(VAXTRUST__[A-Z_]+)` \|", text, re.M))
    documented = {key for key, _ in rows}
    assert documented == set(keys)
    for key, env in rows:
        section, name = key.split(".")
        assert env == f"VAXTRUST__{section.upper()}__{name.upper()}"


def test_the_csca_secret_comes_from_its_variable_or_an_owner_only_pin_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    from vaxtrust.config import PassportSettings

    monkeypatch.setenv("VAXTRUST_CSCA_PASSPHRASE", "file key passphrase")
    monkeypatch.setenv("VAXTRUST_CSCA_PIN", "1234-5678")
    settings = PassportSettings()
    assert settings.csca_secret("file").value == b"file key passphrase"
    assert settings.csca_secret("pkcs11").value == b"1234-5678"
    pin_file = tmp_path / "csca.pin"
    pin_file.write_text("8765-4321\n")
    pin_file.chmod(0o600)
    assert PassportSettings(csca_pin_file=pin_file).csca_secret("pkcs11").value == b"8765-4321"
    pin_file.chmod(0o640)
    with pytest.raises(ConfigError, match="open to other accounts .*chmod 600"):
        PassportSettings(csca_pin_file=pin_file).csca_secret("pkcs11")
    pin_file.write_text("\n")
    pin_file.chmod(0o600)
    with pytest.raises(ConfigError, match="is empty"):
        PassportSettings(csca_pin_file=pin_file).csca_secret("pkcs11")
    monkeypatch.delenv("VAXTRUST_CSCA_PIN")
    with pytest.raises(ConfigError, match=r"\$VAXTRUST_CSCA_PIN or passport.csca_pin_file"):
        settings.csca_secret("pkcs11")
