"""Thresholds of the matching and decide stages, tuned for precision (a wrong link is the worst)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from vaxtrust.errors import ConfigError
from vaxtrust.pipeline.match.compare import FULL_NAME_VERDICTS


@dataclass(frozen=True)
class MatchSettings:
    """Every threshold the matching paths and the decide stage use.

    Probabilities are in [0, 1]. Rule paths (exact, ID-anchored, ID repair, other-dose evidence)
    score a pair as the product of the per-field factors of :mod:`vaxtrust.pipeline.match.compare`;
    the probabilistic path uses Splink's match probability.
    """

    auto_link: float = 0.95
    """A rule-path candidate at or above this links automatically (if no close competitor)."""

    probabilistic_auto_link: float = 0.999
    """A Splink candidate at or above this links automatically (if no close competitor)."""

    probabilistic_corroborated_link: float = 0.99
    """A Splink candidate at or above this links when the field verdicts corroborate Splink: the
    full name and the date of birth agree, the gender does not differ, and the record has no ID
    of its own (none, or a relative's that led to somebody else)."""

    review_floor: float = 0.30
    """A best candidate at or above this (but not linkable) sends the record to review."""

    competitor_floor: float = 0.30
    """A second register person at or above this makes the record ambiguous: review, never pick."""

    max_link_error: float = 0.5
    """The most expected error an automatic link may have: one minus its calibrated probability
    (:mod:`vaxtrust.pipeline.match.calibrate`, the run's own model). A pair the rules would link
    above it goes to review (``link_error_above_limit``). Without a model (a tiny file) the rules
    alone decide. 0.5: more likely right than wrong; the model is conservative on generated
    data (docs/matching.md), so a stricter limit costs right links."""

    calibrated_link_error: float = 1e-3
    """A best candidate the rules would not link (below its path's threshold) links all the same
    when the combined evidence is overwhelming: its calibrated expected error is at most this
    and every guard of :func:`vaxtrust.pipeline.match.guards.evidence_link_sql` holds (so a
    parent's ID, a twin or a namesake still goes to review). Its reasons say
    ``calibrated_link``. 0 turns this off."""

    candidate_floor: float = 0.01
    """Pairs scored below this are not kept as candidates at all."""

    review_candidates: int = 5
    """Most candidates kept per review item."""

    id_repair_factor: float = 0.97
    """ID evidence of a one-digit or transposition repair of the record's ID."""

    old_id_factor: float = 0.995
    """ID evidence of a match through the register's old CMND."""

    evidence_factor: float = 0.97
    """ID evidence lent by another dose record of the same person that is already linked."""

    probabilistic: bool = True
    """Run the Splink path (off only to measure the rule paths alone)."""

    training_labels: int = 50_000
    """Most labelled pairs (from the exact and ID-anchored paths) used to estimate Splink's m."""

    u_max_pairs: int = 300_000
    """Random pairs sampled to estimate Splink's u probabilities (300k: same accuracy as 1M
    on generated data at a third of the time; see benchmarks/README.md)."""

    def __post_init__(self) -> None:
        for name in ("auto_link", "probabilistic_auto_link", "probabilistic_corroborated_link",
                     "review_floor", "competitor_floor", "max_link_error", "calibrated_link_error",
                     "candidate_floor", "id_repair_factor", "old_id_factor", "evidence_factor"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ConfigError(f"match setting {name} must be within [0, 1], got {value}")
        if not self.candidate_floor <= self.review_floor <= self.auto_link:
            raise ConfigError("match setting review_floor must lie between candidate_floor and "
                              "auto_link")
        for name in ("review_candidates", "training_labels", "u_max_pairs"):
            if getattr(self, name) < 1:
                raise ConfigError(f"match setting {name} must be positive")

    def auto_link_sql(self, alias: str = "") -> str:
        """The automatic-link threshold of a candidate row (its columns under ``alias``), as SQL.

        Splink's score alone must reach ``probabilistic_auto_link``; with every field verdict
        agreeing (:data:`CORROBORATED_SQL`) ``probabilistic_corroborated_link`` is enough.
        """
        prefix = f"{alias}." if alias else ""
        corroborated = CORROBORATED_SQL.format(c=prefix)
        return (f"(CASE WHEN {prefix}path <> 'probabilistic' THEN {self.auto_link}"
                f" WHEN {corroborated} THEN {self.probabilistic_corroborated_link}"
                f" ELSE {self.probabilistic_auto_link} END)")


# A Splink pair the field rules corroborate: the whole name and the date of birth agree (the
# gender may be unknown), and the record carried no ID of its own that could tell otherwise.
CORROBORATED_SQL: Final = (
    f"({{c}}name_verdict IN ({', '.join(repr(v) for v in FULL_NAME_VERDICTS)})"
    " AND {c}dob_verdict = 'equal' AND {c}gender_verdict <> 'gender_flipped'"
    " AND {c}id_verdict IN ('id_missing', 'id_belongs_to_other_person'))")
