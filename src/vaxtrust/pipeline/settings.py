"""Settings of a cleaning run (``vaxtrust clean``), passed down explicitly (no globals)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from types import MappingProxyType
from typing import Any, Final

from vaxtrust.errors import ConfigError
from vaxtrust.ingest.mapping import ColumnMapping
from vaxtrust.pipeline.match.settings import MatchSettings

CAMPAIGN_START: Final = dt.date(2021, 3, 8)  # first COVID-19 dose in Viet Nam (AstraZeneca)

# Shortest plausible days from a dose of this product (EU DCC mp code) to the next dose: the
# labelled primary-series interval minus the usual 4-day grace period. A policy, not a rule of
# nature: override it in CleanSettings.
MIN_INTERVAL_DAYS: Final[Mapping[str, int]] = MappingProxyType({
    "EU/1/21/1529": 24,   # AstraZeneca (Vaxzevria), labelled 4-12 weeks
    "Covishield": 24,
    "EU/1/20/1528": 17,   # Pfizer-BioNTech (Comirnaty), 21 days
    "EU/1/20/1507": 24,   # Moderna (Spikevax), 28 days
    "EU/1/20/1525": 24,   # Janssen (single dose; a booster no sooner than this)
    "Sputnik-V": 17,      # 21 days
    "BBIBP-CorV": 17,     # Vero Cell, 3-4 weeks
    "WIBP-CorV": 17,
    "Hayat-Vax": 17,
    "Abdala": 10,         # 14 days
})


@dataclass(frozen=True)
class CleanSettings:
    """Everything a cleaning run can be told; defaults suit a national run."""

    match: MatchSettings = field(default_factory=MatchSettings)
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    campaign_start: dt.date = CAMPAIGN_START
    today: dt.date | None = None
    """The run's "today" (dates after it are in the future); None means the real date."""
    min_interval_days: Mapping[str, int] = field(default_factory=lambda: dict(MIN_INTERVAL_DAYS))
    default_min_interval_days: int = 14
    """Shortest plausible interval after a dose of a product not in ``min_interval_days``."""
    write_csv: bool = False
    """Also write results.csv next to results.parquet."""

    def __post_init__(self) -> None:
        if self.default_min_interval_days < 0 or any(
                days < 0 for days in self.min_interval_days.values()):
            raise ConfigError("minimum dose intervals must be zero or more days")

    def run_date(self) -> dt.date:
        return self.today or dt.date.today()

    def to_document(self, today: dt.date) -> dict[str, Any]:
        """These settings as JSON (a run's ``run.json``), with the "today" the run resolved."""
        return {
            "cleaning": {
                "campaign_start": self.campaign_start.isoformat(),
                "today": today.isoformat(),
                "min_interval_days": dict(sorted(self.min_interval_days.items())),
                "default_min_interval_days": self.default_min_interval_days,
                "mapping": {"records": dict(self.mapping.records),
                            "register": dict(self.mapping.register)},
            },
            "matching": asdict(self.match),
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> CleanSettings:
        """The settings :meth:`to_document` wrote, its "today" fixed; ConfigError if malformed."""
        try:
            cleaning = document["cleaning"]
            mapping = cleaning.get("mapping", {})
            return cls(
                match=MatchSettings(**document.get("matching", {})),
                mapping=ColumnMapping(records=dict(mapping.get("records", {})),
                                      register=dict(mapping.get("register", {}))),
                campaign_start=dt.date.fromisoformat(cleaning["campaign_start"]),
                today=dt.date.fromisoformat(cleaning["today"]),
                min_interval_days={str(product): int(days) for product, days
                                   in cleaning["min_interval_days"].items()},
                default_min_interval_days=int(cleaning["default_min_interval_days"]))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ConfigError(f"a run's settings are incomplete or malformed: {error!r}") from None
