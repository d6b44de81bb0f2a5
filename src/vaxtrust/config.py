"""The one settings object of vaxtrust, and the factories that build the parts from it.

Settings come from four places; a later one wins (``docs/configuration.md`` lists every key):

1. the defaults below;
2. a TOML file (``load_settings(path)``, ``vaxtrust --config FILE``, or ``$VAXTRUST_CONFIG``);
3. environment variables ``VAXTRUST__SECTION__KEY`` (e.g. ``VAXTRUST__ENGINE__THREADS=4``);
   ``VAXTRUST_DATABASE_URL`` is still read as ``store.url``, below ``VAXTRUST__STORE__URL``;
4. command-line options, passed as ``load_settings(path, engine={"threads": 4})``.

Every problem of every source is reported at once, in one :class:`~vaxtrust.errors.ConfigError`.
There is no module-level settings object: each shell (CLI, web, daily runs) loads its own and
passes it down.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from vaxtrust.errors import ConfigError

if TYPE_CHECKING:
    from vaxtrust.complaints.deadlines import DeadlineRule
    from vaxtrust.engine import Engine
    from vaxtrust.ingest.mapping import ColumnMapping
    from vaxtrust.passport.keystore import KeyStore
    from vaxtrust.passport.pki import Passphrase
    from vaxtrust.pipeline.match.settings import MatchSettings
    from vaxtrust.pipeline.settings import CleanSettings
    from vaxtrust.signing.signers import Signers
    from vaxtrust.store.audit_key import AuditKey
    from vaxtrust.store.db import Store

CONFIG_ENV = "VAXTRUST_CONFIG"
ENV_PREFIX = "VAXTRUST__"
ENV_DELIMITER = "__"
LEGACY_DATABASE_URL_ENV = "VAXTRUST_DATABASE_URL"
DEFAULT_DATABASE_URL = "sqlite:///vaxtrust.db"
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class EngineSettings(_Section):
    """The batch engine that runs the cleaning (and the store's small jobs)."""

    type: Literal["duckdb", "spark"] = "duckdb"
    """duckdb (embedded, the default) or spark (``uv sync --extra spark``)."""

    memory_limit: str | None = None
    """Most memory the engine may use, e.g. 8GB (it spills to disk beyond); DuckDB's default is
    60% of the machine's memory, Spark's driver memory 2g."""

    threads: int | None = Field(default=None, ge=1)
    """Worker threads (DuckDB) or local Spark cores; default: every core (DuckDB), 2 (Spark)."""

    temp_dir: Path | None = None
    """Where the engine spills; default: a hidden folder beside the run folder, removed after."""

    spark_master: str | None = None
    """Spark master URL (e.g. spark://host:7077); default local[threads]."""

    @field_validator("memory_limit")
    @classmethod
    def _memory(cls, value: str | None) -> str | None:
        if value is not None and not _MEMORY.match(value):
            raise ValueError(f"{value!r}: write it like 8GB or 512MB")
        return value

    def options(self, spill_dir: Path) -> dict[str, Any]:
        """Keyword options of :func:`vaxtrust.engine.create_engine` for this engine."""
        spill = self.temp_dir or spill_dir
        if self.type == "duckdb":
            return {"threads": self.threads, "memory_limit": self.memory_limit,
                    "temp_directory": spill, "reuse_memory": True}
        options: dict[str, Any] = {
            "master": self.spark_master or f"local[{self.threads or 2}]", "scratch_dir": spill}
        match = _MEMORY.match(self.memory_limit) if self.memory_limit else None
        if match:
            options["driver_memory"] = f"{match.group(1)}{match.group(2)[0].lower()}"
        return options

    def create(self, spill_dir: Path) -> Engine:
        """A new engine of this kind (the caller closes it)."""
        from vaxtrust.engine import create_engine

        return create_engine(self.type, **self.options(spill_dir))


class StoreSettings(_Section):
    """The operational store."""

    url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL: sqlite:///FILE (embedded) or postgresql+psycopg://USER@HOST/DB."""

    audit_key_file: Path | None = None
    """File (0600) holding the audit chain's HMAC key, outside the database; else
    $VAXTRUST_AUDIT_KEY, else (SQLite only) STORE.audit-key beside the store file."""

    audit_head_dir: Path | None = None
    """Where the chain's signed head exports go (default: STORE.audit-heads beside a SQLite
    store; for PostgreSQL a folder per server and database under $VAXTRUST_AUDIT_HEAD_DIR, beside the key file, or in ~/.local/state/vaxtrust)."""

    def audit_key(self) -> AuditKey | None:
        """The store's audit key as configured (file, environment, or beside a SQLite store
        file), without opening the store: it keys the content manifests of cleaning runs."""
        from sqlalchemy import make_url

        from vaxtrust.store import audit_key

        url = make_url(self.url)
        database = url.database if url.get_backend_name() == "sqlite" else None
        return audit_key.resolve(self.audit_key_file, sqlite_database=database,
                                 chain_is_empty=False)

    def open(self, *, migrate: bool = True) -> Store:
        """Open the store (migrated to the newest schema unless ``migrate`` is False)."""
        from vaxtrust.store.db import Store

        return Store.open(self.url, migrate=migrate, audit_key_file=self.audit_key_file,
                          audit_head_dir=self.audit_head_dir)


class MatchingSettings(_Section):
    """Thresholds of matching and decide (``docs/matching.md``); defaults favour precision."""

    auto_link: float = Field(default=0.95, ge=0, le=1)
    """A rule-path candidate at or above this links automatically (if no close competitor)."""
    probabilistic_auto_link: float = Field(default=0.999, ge=0, le=1)
    """A Splink candidate at or above this links automatically (if no close competitor)."""
    review_floor: float = Field(default=0.30, ge=0, le=1)
    """A best candidate at or above this (but not linkable) goes to review."""
    competitor_floor: float = Field(default=0.30, ge=0, le=1)
    """A second person at or above this makes the record ambiguous: review, never pick."""
    max_link_error: float = Field(default=0.5, ge=0, le=1)
    """Most expected error (one minus the calibrated probability) of an automatic link."""
    calibrated_link_error: float = Field(default=1e-3, ge=0, le=1)
    """Most expected error of a link on the combined evidence alone (below the rules'
    thresholds, every guard of docs/matching.md "Links on the combined evidence" holding)."""
    candidate_floor: float = Field(default=0.01, ge=0, le=1)
    """Pairs scored below this are not kept as candidates."""
    review_candidates: int = Field(default=5, ge=1)
    """Most candidates kept per review item."""
    id_repair_factor: float = Field(default=0.97, ge=0, le=1)
    """ID evidence of a one-digit or transposition repair of the record's ID."""
    old_id_factor: float = Field(default=0.995, ge=0, le=1)
    """ID evidence of a match through the register's old CMND."""
    evidence_factor: float = Field(default=0.97, ge=0, le=1)
    """ID evidence lent by another, already linked dose record of the same person."""
    probabilistic: bool = True
    """Run the Splink path (off only to measure the rule paths alone)."""
    training_labels: int = Field(default=50_000, ge=1)
    """Most labelled pairs used to estimate Splink's m probabilities."""
    u_max_pairs: int = Field(default=300_000, ge=1)
    """Random pairs sampled to estimate Splink's u probabilities."""

    @model_validator(mode="after")
    def _floors(self) -> MatchingSettings:
        if not self.candidate_floor <= self.review_floor <= self.auto_link:
            raise ValueError("review_floor must lie between candidate_floor and auto_link")
        return self

    def build(self) -> MatchSettings:
        from vaxtrust.pipeline.match.settings import MatchSettings

        return MatchSettings(**self.model_dump())


def _default_intervals() -> dict[str, int]:
    from vaxtrust.pipeline.settings import MIN_INTERVAL_DAYS

    return dict(MIN_INTERVAL_DAYS)


class CleaningSettings(_Section):
    """Ingest and consolidation of a cleaning run (``docs/cleaning.md``)."""

    mapping_file: Path | None = None
    """TOML file naming which file header holds which standard column ([records], [register])."""
    campaign_start: dt.date = dt.date(2021, 3, 8)
    """Doses dated before this are flagged (first COVID-19 dose in Viet Nam)."""
    today: dt.date | None = None
    """The run's "today" (later dates are in the future); default: the real date."""
    min_interval_days: dict[str, int] = Field(default_factory=_default_intervals)
    """Shortest plausible days from a dose of a product (EU DCC mp code) to the next dose."""
    default_min_interval_days: int = Field(default=14, ge=0)
    """The same, after a dose of a product not in min_interval_days."""
    write_csv: bool = False
    """Also write results.csv next to results.parquet."""

    @field_validator("min_interval_days")
    @classmethod
    def _intervals(cls, value: dict[str, int]) -> dict[str, int]:
        negative = sorted(product for product, days in value.items() if days < 0)
        if negative:
            raise ValueError(f"minimum intervals must be zero or more days ({', '.join(negative)})")
        return value

    @field_validator("mapping_file")
    @classmethod
    def _mapping_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"{value} does not exist")
        return value


class PassportSettings(_Section):
    """Keys and signing of vaccine passports (``docs/keys.md``)."""

    keystore: Path | None = None
    """Key store directory (CSCA certificate, signers, manifest)."""
    signer: str | None = None
    """Sign everyone with this signer; default: the signer of the person's province/facility."""
    passphrase_env: str = "VAXTRUST_KEY_PASSPHRASE"
    """Environment variable holding the signers' key passphrase (secrets never go in files)."""
    csca_passphrase_env: str = "VAXTRUST_CSCA_PASSPHRASE"
    """Environment variable holding the CSCA key passphrase (a CSCA key in a file)."""
    csca_pin_env: str = "VAXTRUST_CSCA_PIN"
    """Environment variable holding the user PIN of the token that holds the CSCA key."""
    csca_pin_file: Path | None = None
    """File holding that PIN instead (one line, readable by its owner only); wins over the variable."""
    pin_env: str = "VAXTRUST_PKCS11_PIN"
    """Environment variable holding the PKCS#11 token PIN."""
    validity_days: int = Field(default=365, ge=1, le=3650)
    """Days a signed certificate is valid."""
    pinned_csca: list[Path] = Field(default_factory=list)
    """CSCA certificate(s) (PEM) a verifier trusts; ``passport verify`` refuses to run without
    one (or ``--csca``, or ``$VAXTRUST_PINNED_CSCA``) unless given ``--insecure-unpinned``."""

    def open_keystore(self) -> KeyStore:
        """The configured key store."""
        from vaxtrust.passport.keystore import KeyStore

        if self.keystore is None:
            raise ConfigError("no key store: set passport.keystore or give --keystore")
        return KeyStore.open(self.keystore)

    def signers(self, *, now: Callable[[], dt.datetime] | None = None) -> Signers:
        """The signers of the configured key store, with the passphrase and PIN from the
        environment and the fixed ``signer`` if set (the caller closes them)."""
        from vaxtrust.signing.signers import Signers

        return Signers(self.open_keystore(), passphrase=self.secret("key"), pin=self.secret("pin"),
                       fixed=self.signer, **({"now": now} if now is not None else {}))

    def csca_secret(self, backend: Literal["file", "pkcs11"]) -> Passphrase:
        """What unlocks a CSCA key: its file's passphrase, or (``pkcs11``) its token's PIN from
        ``csca_pin_file`` or ``csca_pin_env``; a ConfigError says where to put it."""
        from vaxtrust.passport.pki import Passphrase

        if backend == "pkcs11":
            if self.csca_pin_file is not None:
                from vaxtrust.files import read_secret_file

                return Passphrase.of(read_secret_file(self.csca_pin_file, "the CSCA token's PIN"))
            where = f"${self.csca_pin_env} or passport.csca_pin_file (--csca-pin-file)"
            return Passphrase.of(_required(os.environ.get(self.csca_pin_env),
                                           f"the CSCA token's PIN: set {where}"))
        return Passphrase.of(_required(os.environ.get(self.csca_passphrase_env),
                                       f"the CSCA key passphrase: set ${self.csca_passphrase_env}"))

    def secret(self, which: Literal["key", "csca", "pin"]) -> str | None:
        """The passphrase or PIN from the environment variable this section names."""
        env = {"key": self.passphrase_env, "csca": self.csca_passphrase_env,
               "pin": self.pin_env}[which]
        return os.environ.get(env) or None


def _required(value: str | None, what: str) -> str:
    if not value:
        raise ConfigError(what)
    return value


class WebSettings(_Section):
    """The web application (``vaxtrust serve``, ``docs/web.md``)."""

    host: str = "127.0.0.1"
    """Address to listen on."""
    port: int = Field(default=8000, ge=1, le=65535)
    """Port to listen on."""
    workers: int = Field(default=1, ge=1)
    """Worker processes."""
    trust_list: Path | None = None
    """Trust list JSON (``passport trust-list export``) the verifier pages use and publish."""
    revocation_list: Path | None = None
    """Revocation list JSON the verifier pages use and publish."""
    csca: list[Path] = Field(default_factory=list)
    """Pinned CSCA certificates (PEM): the trust and revocation lists must be signed by one."""
    insecure_unpinned: bool = False
    """Accept a trust list that pins no CSCA (every verifier answer then says UNPINNED)."""
    journals: list[Path] = Field(default_factory=list)
    """Issuance journals (``sign-batch --out DIR``'s ``issuance.sqlite``) holding the QR text of
    the certificates citizens download."""
    signing_out: Path | None = None
    """Folder the signing page's batches sign into (as ``sign-batch --out``; its journal is read
    for citizens' downloads too); with ``passport.keystore`` it lets the ministry start a batch
    from the page."""
    session_minutes: int = Field(default=30, ge=1, le=24 * 60)
    """An officer's session ends after this many minutes without a request."""
    citizen_session_minutes: int = Field(default=15, ge=1, le=120)
    """A citizen's view of their record stays open this long after the one-time code."""
    code_minutes: int = Field(default=10, ge=1, le=60)
    """A citizen's one-time code is valid this long."""
    code_tries: int = Field(default=5, ge=1, le=10)
    """Wrong one-time codes allowed per look-up."""
    code_sender: str = "console"
    """Where one-time codes go: ``console`` (the server's log) or ``file:PATH`` (appended, mode
    0600); an SMS gateway plugs in as a ``vaxtrust.web.codes.CodeSender``."""
    lookups_per_address: int = Field(default=20, ge=1)
    """Citizen look-ups allowed per client address in ``rate_window_minutes`` (shared by every worker)."""
    lookups_per_id: int = Field(default=5, ge=1)
    """Citizen look-ups allowed per ID number in ``rate_window_minutes`` (shared by every worker)."""
    rate_window_minutes: int = Field(default=60, ge=1)
    """The window of both look-up limits."""
    max_upload_bytes: int = Field(default=2_000_000, ge=1_000)
    """Largest QR image a verifier may upload."""
    secure_cookies: bool = True
    """Cookies only over HTTPS (``serve`` turns this off when it listens on a loopback address)."""


class ComplaintSettings(_Section):
    """Citizens' complaints (``vaxtrust complaints``, 9458/BYT-CNTT)."""

    deadline_hours: int = Field(default=48, ge=1, le=24 * 60)
    """Hours from the moment a complaint is recorded until it must be settled (9458: 48)."""
    working_days: bool = False
    """Count the deadline in working days only (Monday-Friday, less Viet Nam's public holidays)."""
    attachments_dir: Path = Path("complaint-attachments")
    """Folder where attachments are stored under their SHA-256 (outside the database)."""
    max_attachment_bytes: int = Field(default=5_000_000, ge=10_000)
    """Largest attachment accepted (a photo of the paper vaccination certificate)."""

    def deadline_rule(self) -> DeadlineRule:
        from vaxtrust.complaints.deadlines import DeadlineRule

        return DeadlineRule(self.deadline_hours, self.working_days)


class Settings(BaseSettings):
    """Every setting of vaxtrust, by section. Build with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter=ENV_DELIMITER, extra="forbid", frozen=True,
        case_sensitive=False,
    )

    engine: EngineSettings = EngineSettings()
    store: StoreSettings = StoreSettings()
    matching: MatchingSettings = MatchingSettings()
    cleaning: CleaningSettings = CleaningSettings()
    passport: PassportSettings = PassportSettings()
    web: WebSettings = WebSettings()
    complaints: ComplaintSettings = ComplaintSettings()

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # First wins: command line, environment, the legacy database variable, the file.
        return (init_settings, env_settings, _LegacyEnvSource(settings_cls),
                _DictSource(settings_cls, _FILE_DATA.get({})))

    # -------------------------------------------------------------- factories

    def clean_settings(self, *, mapping: ColumnMapping | None = None) -> CleanSettings:
        """The cleaning run's settings (``mapping`` from options replaces the mapping file)."""
        from vaxtrust.ingest.mapping import ColumnMapping, load_mapping
        from vaxtrust.pipeline.settings import CleanSettings

        if mapping is None:
            mapping = (load_mapping(self.cleaning.mapping_file) if self.cleaning.mapping_file
                       else ColumnMapping())
        cleaning = self.cleaning
        return CleanSettings(
            match=self.matching.build(), mapping=mapping, campaign_start=cleaning.campaign_start,
            today=cleaning.today, min_interval_days=dict(cleaning.min_interval_days),
            default_min_interval_days=cleaning.default_min_interval_days,
            write_csv=cleaning.write_csv)

    def create_engine(self, spill_dir: Path) -> Engine:
        """A new batch engine (the caller closes it)."""
        return self.engine.create(spill_dir)

    def open_store(self, *, migrate: bool = True) -> Store:
        """The operational store (the caller closes it)."""
        return self.store.open(migrate=migrate)

    def open_keystore(self) -> KeyStore:
        """The passport key store."""
        return self.passport.open_keystore()

    def signers(self, *, now: Callable[[], dt.datetime] | None = None) -> Signers:
        """The passport signers, loaded on first use (the caller closes them)."""
        return self.passport.signers(now=now)


class _DictSource(PydanticBaseSettingsSource):
    """Values already read (the TOML file), as one settings source."""

    def __init__(self, settings_cls: type[BaseSettings], data: Mapping[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = dict(data)

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


class _LegacyEnvSource(_DictSource):
    """``VAXTRUST_DATABASE_URL`` (older than this file) as ``store.url``."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        url = os.environ.get(LEGACY_DATABASE_URL_ENV)
        super().__init__(settings_cls, {"store": {"url": url}} if url else {})


# The TOML data of the load in progress: pydantic-settings builds sources from the class, so the
# file reaches its source through a context variable (safe across threads and tasks).
_FILE_DATA: ContextVar[dict[str, Any]] = ContextVar("vaxtrust_settings_file")


def read_toml(path: Path) -> dict[str, Any]:
    """The settings file's tables; a missing or broken file is a ConfigError naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"settings file {path} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"settings file {path} is not valid TOML: {error}") from None


def _without_unset(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Command-line overrides minus options left unset (None), section by section."""
    kept: dict[str, Any] = {}
    for key, value in overrides.items():
        if isinstance(value, Mapping):
            section = _without_unset(value)
            if section:
                kept[key] = section
        elif value is not None:
            kept[key] = value
    return kept


def _describe(error: ValidationError, origin: str) -> str:
    lines = []
    for problem in error.errors():
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        message = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown setting (see docs/configuration.md)"
        lines.append(f"{where}: {message}")
    count = len(lines)
    head = f"{count} invalid setting{'s' if count > 1 else ''} ({origin})"
    return head + ":\n  " + "\n  ".join(lines)


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Settings from defaults < ``path`` (else ``$VAXTRUST_CONFIG``) < environment < overrides.

    ``overrides`` are command-line values by section, e.g. ``engine={"threads": 4}``; None
    values mean "not given" and are ignored. Raises one :class:`ConfigError` listing every
    invalid setting.
    """
    file = Path(path) if path is not None else (
        Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    data = read_toml(file) if file is not None else {}
    origin = f"file {file}, environment, options" if file else "environment, options"
    token = _FILE_DATA.set(data)
    try:
        return Settings(**_without_unset(overrides))
    except ValidationError as error:
        raise ConfigError(_describe(error, origin)) from None
    finally:
        _FILE_DATA.reset(token)
