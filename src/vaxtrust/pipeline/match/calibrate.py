"""Calibrated link probabilities: what the run's own data says a link's error rate is.

The paths score pairs with hand-set factors (:mod:`.compare`) that explain each field to a person;
those scores are not error rates. Calibration re-weighs the best candidate of every record with a
Fellegi–Sunter model fitted to the run's own candidate pairs, on the comparisons of the
probabilistic path (name, date of birth, gender, phone, place; :mod:`.probabilistic`) and the
ID's verdict:

* m and u of every level are fitted by EM to all candidate pairs the paths proposed (any rank),
  starting from the run's trained model (m from ID-authenticated pairs, u from random register
  pairs): the wrong persons a matcher meets are relatives and neighbours (a parent's ID on a
  child's record shares the phone and the commune), not random people;
* per path, the **prior** (the share of its best candidates that are right: an ID leads to its
  holder far more often than a date of birth and a given name do) is fitted by EM over the
  path's best candidates, m and u fixed;
* the **calibrated probability** of a pair is the posterior, one minus it the expected error of
  linking it.

Decide links a pair only when its rules allow it (the guards stay: caps, competitors) *and* its
expected error is at most ``MatchSettings.max_link_error``: the threshold is an error rate. The
table ``calibration`` (per path and band of expected error: best candidates, links, the wrong
links expected among them) goes into the run summary; ``benchmarks/bench_calibration.py``
measures how close the expectation comes to the truth on generated data (it is conservative
there). The model takes the fields as independent given the pair's status, so the rule guards,
not the calibration, keep relatives and twins apart.

Without a trained or saved model (a tiny file: the probabilistic path was skipped) nothing is
calibrated and decide works on the rule scores alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from vaxtrust.engine import Engine

if TYPE_CHECKING:
    from vaxtrust.pipeline.match.settings import MatchSettings

# One row per comparison level of the run's model: comparison, level (in the model's order),
# sql_condition (in the engine's dialect; 'ELSE' for the last level), m and u (NULL on the level
# of a field unknown on either side, which weighs nothing).
FS_LEVELS: Final = "match_fs_levels"
# Per path, per band of expected error: the calibration table of the run summary.
CALIBRATION: Final = "calibration"
# m and u are kept off 0: a level never seen must not make a pair certain either way.
PROBABILITY_FLOOR: Final = 1e-4
# Bands of expected error (1 − calibrated probability), upper bounds; the last is open.
ERROR_BANDS: Final = (1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.5)
EM_ITERATIONS: Final = 100
# The columns the model's comparisons read, on each side (``_l`` record, ``_r`` register).
LINKAGE_NAMES: Final = (
    "name_fold", "surname_fold", "given_fold", "name_sorted", "dob", "dob_year", "dob_month",
    "dob_day", "dob_precision", "gender", "phone", "province_code", "district_code",
    "commune_code")
# The name parts among them, computed from name_fold where a level needs them.
_NAME_PART_NAMES: Final = ("surname_fold", "given_fold", "name_sorted")
NULL_LEVEL: Final = -1
# The ID's verdict as one more comparison, its m and u both learned by EM (the trained model
# has no ID comparison: its m comes from ID-authenticated pairs). No usable ID weighs nothing.
ID_LEVELS: Final = {"equal": 0, "id_digit_mistyped": 1, "id_digits_swapped": 1, "id_old_cmnd": 2,
                    "id_not_in_register": 3, "id_belongs_to_other_person": 4,
                    "name_differs_on_own_id": 4}
_ID_START_M: Final = (0.9, 0.04, 0.02, 0.02, 0.02)
_ID_START_U: Final = (0.2, 0.2, 0.2, 0.2, 0.2)


def id_levels(comparison: int) -> list[Level]:
    """The ID comparison's levels (their conditions are the candidates' ``id_verdict``)."""
    return [Level(comparison, level, "", m, u)
            for level, (m, u) in enumerate(zip(_ID_START_M, _ID_START_U, strict=True))]


def id_gamma_sql(comparison: int) -> str:
    whens = " ".join(f"WHEN '{verdict}' THEN {level}" for verdict, level in ID_LEVELS.items())
    return f"CAST(CASE t.id_verdict {whens} ELSE {NULL_LEVEL} END AS INTEGER) AS g{comparison}"


@dataclass(frozen=True)
class Level:
    """One comparison level of the model: its condition, m and u (None on a null level)."""

    comparison: int
    level: int
    sql_condition: str
    m: float | None
    u: float | None


def _probability(value: Any) -> float | None:
    return None if value is None else float(value)


def _as_duckdb(condition: str, dialect: str) -> str:
    """A level's condition in DuckDB SQL, the engines' reference dialect (Splink writes it in
    the dialect of the engine it runs on)."""
    if dialect == "duckdb" or condition.strip().upper() == "ELSE":
        return condition
    import sqlglot

    return sqlglot.parse_one(condition, read=dialect).sql(dialect="duckdb")


def levels_of(linker: Any, dialect: str = "duckdb") -> list[Level]:
    """The levels of a trained Splink linker, in its order (conditions in DuckDB SQL)."""
    return [Level(c, n, _as_duckdb(level.sql_condition, dialect),
                  None if level.is_null_level else _probability(level.m_probability),
                  None if level.is_null_level else _probability(level.u_probability))
            for c, comparison in enumerate(linker._settings_obj.comparisons)
            for n, level in enumerate(comparison.comparison_levels)]


def keep_levels(engine: Engine, levels: Sequence[Level]) -> None:
    """Leave the model's levels in the engine for decide (:data:`FS_LEVELS`)."""
    import pyarrow as pa

    engine.register(FS_LEVELS, pa.table({
        "comparison": pa.array([lv.comparison for lv in levels], pa.int64()),
        "level": pa.array([lv.level for lv in levels], pa.int64()),
        "sql_condition": pa.array([lv.sql_condition for lv in levels], pa.string()),
        "m": pa.array([lv.m for lv in levels], pa.float64()),
        "u": pa.array([lv.u for lv in levels], pa.float64())}))


def _read_levels(engine: Engine) -> list[Level]:
    rows = engine.query(f"SELECT * FROM {FS_LEVELS} ORDER BY comparison, level",
                        stage="decide").to_pylist()
    return [Level(int(r["comparison"]), int(r["level"]), str(r["sql_condition"]),
                  _probability(r["m"]), _probability(r["u"])) for r in rows]


def _comparisons(levels: Sequence[Level]) -> list[list[Level]]:
    return [[lv for lv in levels if lv.comparison == c]
            for c in sorted({lv.comparison for lv in levels})]


def gamma_sql(levels: Sequence[Level]) -> str:
    """``g0, g1, ...``: the level of each comparison a pair row (``<name>_l``, ``<name>_r``)
    falls in, the first that holds in the model's order; :data:`NULL_LEVEL` for a field unknown
    on either side."""
    columns = []
    for n, comparison in enumerate(_comparisons(levels)):
        whens, otherwise = [], str(NULL_LEVEL)
        for lv in comparison:
            code = NULL_LEVEL if lv.m is None and lv.u is None else lv.level
            if lv.sql_condition.strip().upper() == "ELSE":
                otherwise = str(code)
            else:
                whens.append(f"WHEN {lv.sql_condition} THEN {code}")
        columns.append(f"CAST(CASE {' '.join(whens)} ELSE {otherwise} END AS INTEGER) AS g{n}")
    return ", ".join(columns)


def _name_parts_inline(condition: str) -> str:
    """``condition`` with the name parts (``surname_fold_l``, ``name_sorted_r``, ...) written as
    expressions of that side's folded name. Inside the CASE of :func:`gamma_sql` they are then
    computed only for the few pairs that reach their level (folded names that differ), not split
    and sorted for every candidate pair; a part left unreplaced fails as an unknown column."""
    from vaxtrust.pipeline.match.probabilistic import NAME_PARTS

    def inline(found: re.Match[str]) -> str:
        return "(" + NAME_PARTS[found[1]].format(name=f"name_fold_{found[2]}") + ")"

    pattern = r'"?\b(' + "|".join(NAME_PARTS) + r')_(l|r)\b"?'
    return re.sub(pattern, inline, condition)


def pair_gammas_sql(ranked: str, levels: Sequence[Level]) -> str:
    """``record_id, person_id, path, rank, g0, g1, ...`` of every ranked candidate pair.

    The pairs are joined straight to the compared columns (no name parts: see
    :func:`_name_parts_inline`); the inner joins keep exactly the ranked pairs."""
    from vaxtrust.pipeline.match.probabilistic import PAIR_COLUMNS, RECORD_PAIR_COLUMNS

    inline = [Level(lv.comparison, lv.level, _name_parts_inline(lv.sql_condition), lv.m, lv.u)
              for lv in levels]
    names = [c for c in LINKAGE_NAMES if c not in _NAME_PART_NAMES]
    sides = ", ".join(f"l.{c} AS {c}_l, r.{c} AS {c}_r" for c in names)
    return f"""
WITH l AS (SELECT record_id AS unique_id, {RECORD_PAIR_COLUMNS} FROM std_records),
r AS (SELECT person_id AS unique_id, {PAIR_COLUMNS} FROM std_register),
pairs AS (
    SELECT t.record_id, t.person_id, t.path, t.rank,
        {id_gamma_sql(len(_comparisons(levels)))}, {sides}
    FROM {ranked} AS t
    JOIN l ON l.unique_id = t.record_id
    JOIN r ON r.unique_id = t.person_id
)
SELECT record_id, person_id, path, rank, {gamma_sql(inline)}, g{len(_comparisons(levels))}
FROM pairs
"""


@dataclass(frozen=True)
class Pattern:
    """Candidate pairs sharing one comparison vector: their path, whether they rank first."""

    path: str
    best: bool
    gammas: tuple[int, ...]
    pairs: int


@dataclass(frozen=True)
class Model:
    """m per level (the trained model's), u per level among candidate pairs, prior per path."""

    m: dict[tuple[int, int], float]
    u: dict[tuple[int, int], float]
    priors: dict[str, float]

    def log2_bayes_factor(self, comparison: int, level: int) -> float:
        return math.log2(self.m[(comparison, level)] / self.u[(comparison, level)])


def _floor(values: np.ndarray) -> np.ndarray:
    return np.clip(values, PROBABILITY_FLOOR, 1.0 - PROBABILITY_FLOOR)


def _share(weighted_pairs: np.ndarray, pairs: float) -> float:
    """A prior: the weighted share of the pairs, kept off 0 and 1 like m and u."""
    share = float(weighted_pairs.sum()) / pairs
    return min(max(share, PROBABILITY_FLOOR), 1.0 - PROBABILITY_FLOOR)


def _posterior(prior: float, m: np.ndarray, u: np.ndarray) -> np.ndarray:
    return prior * m / (prior * m + (1.0 - prior) * u)


class _Patterns:
    """The patterns as arrays: the EM below is vectorised over them (in Python, a loop over
    patterns and comparisons per iteration took 3 s at 1 M records, while DuckDB waited)."""

    def __init__(self, keys: Sequence[tuple[int, int]], patterns: Sequence[Pattern]) -> None:
        index = {key: i for i, key in enumerate(keys)}
        none = len(keys)  # the index of a null level: likelihood factor 1, counted nowhere
        self.levels = np.array(
            [[none if level == NULL_LEVEL else index[(comparison, level)]
              for comparison, level in enumerate(p.gammas)] for p in patterns],
            dtype=np.intp).reshape(len(patterns), len(patterns[0].gammas) if patterns else 0)
        self.pairs = np.array([p.pairs for p in patterns], dtype=np.float64)
        self.comparison = np.array([c for c, _ in keys], dtype=np.intp)
        self.size = len(keys)

    def likelihood(self, probabilities: np.ndarray) -> np.ndarray:
        """Per pattern: the product of its levels' probabilities (``probabilities`` per key)."""
        return np.append(probabilities, 1.0)[self.levels].prod(axis=1)

    def reestimate(self, weights: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Per level: the share of the weighted pairs in each level of its comparison,
        ``start`` counting as one pair."""
        spread = np.broadcast_to((self.pairs * weights)[:, None], self.levels.shape)
        counts = start + np.bincount(self.levels.ravel(), weights=spread.ravel(),
                                     minlength=self.size + 1)[:self.size]
        totals = np.bincount(self.comparison, weights=counts)
        return _floor(counts / totals[self.comparison])


def estimate(levels: Sequence[Level], patterns: Sequence[Pattern],
             learned: frozenset[int] = frozenset()) -> Model:
    """u (and m of the ``learned`` comparisons) among all candidate pairs, then each path's
    prior among its best candidates, by EM.

    Starting values are the trained model's (the ID comparison's: :data:`_ID_START_M`, ``_U``);
    they count as one pseudo-pair per comparison so that no level is left at 0. u is fitted on
    every candidate pair (any rank: most pairs below the first are wrong persons, which is what
    u describes); m of the comparisons not ``learned`` stays the model's.
    """
    kept = [lv for lv in levels if lv.m or lv.u]
    keys = [(lv.comparison, lv.level) for lv in kept]
    start_m = _floor(np.array([lv.m or 0.0 for lv in kept], dtype=np.float64))
    start_u = _floor(np.array([lv.u or 0.0 for lv in kept], dtype=np.float64))
    table = _Patterns(keys, patterns)
    is_learned = np.isin(table.comparison, list(learned))
    m, u, prior = start_m, start_u, 0.5
    total = float(table.pairs.sum())
    for _ in range(EM_ITERATIONS if total else 0):
        right = _posterior(prior, table.likelihood(m), table.likelihood(u))
        prior = _share(table.pairs * right, total)
        u = table.reestimate(1.0 - right, start_u)
        if learned:
            m = np.where(is_learned, table.reestimate(right, start_m), m)
    priors: dict[str, float] = {}
    best = np.array([p.best for p in patterns], dtype=bool)
    paths = np.array([p.path for p in patterns], dtype=object)
    # m and u are fixed now: each pattern's likelihoods once, not once per iteration
    pm, pu = table.likelihood(m), table.likelihood(u)
    for path in sorted({p.path for p in patterns if p.best}):
        chosen = best & (paths == path)
        n, path_m, path_u = table.pairs[chosen], pm[chosen], pu[chosen]
        path_prior, pairs = 0.5, float(n.sum())
        for _ in range(EM_ITERATIONS):
            path_prior = _share(n * _posterior(path_prior, path_m, path_u), pairs)
        priors[path] = path_prior
    return Model(dict(zip(keys, m.tolist(), strict=True)),
                 dict(zip(keys, u.tolist(), strict=True)), priors)


def calibrated_probability_sql(model: Model) -> str:
    """SQL of the posterior of a row with ``path`` and ``g0, g1, ...`` under ``model``."""
    ln2 = math.log(2.0)
    log_odds = " ".join(f"WHEN '{p}' THEN {math.log(q / (1.0 - q))!r}"
                        for p, q in sorted(model.priors.items()))
    terms = []
    for comparison in sorted({c for c, _ in model.m}):
        whens = " ".join(f"WHEN {level} THEN {model.log2_bayes_factor(c, level)!r}"
                         for c, level in sorted(model.m) if c == comparison)
        terms.append(f"(CASE g{comparison} {whens} ELSE 0.0 END)")
    weight = " + ".join(terms) or "0.0"
    exponent = (f"least(700.0, greatest(-700.0, -((CASE path {log_odds} ELSE 0.0 END)"
                f" + ({weight}) * {ln2!r})))")
    return f"(1.0 / (1.0 + exp({exponent})))"


def band_sql(error: str) -> str:
    """The band label of an expected error."""
    whens = " ".join(f"WHEN {error} <= {bound!r} THEN '<= {bound:g}'" for bound in ERROR_BANDS)
    return f"(CASE {whens} ELSE '> {ERROR_BANDS[-1]:g}' END)"


def calibrate(engine: Engine, ranked: str, output: str) -> Model | None:
    """Calibrated probability of the best candidate of every record of ``ranked``.

    Creates ``output`` (``record_id, person_id, path, calibrated_probability``, rank 1 only) and
    returns the model; None (and no table) when the run has no model to weigh with.
    """
    if not engine.table_exists(FS_LEVELS):
        return None
    levels = _read_levels(engine)
    gammas = f"{output}_gammas"
    engine.create_table(gammas, pair_gammas_sql(ranked, levels), stage="decide")
    id_comparison = len(_comparisons(levels))
    columns = [f"g{n}" for n in range(id_comparison + 1)]
    rows = engine.query(
        f"SELECT path, rank = 1 AS best, {', '.join(columns)}, count(*) AS n FROM {gammas} "
        f"GROUP BY path, rank = 1, {', '.join(columns)}", stage="decide").to_pylist()
    patterns = [Pattern(str(r["path"]), bool(r["best"]), tuple(int(r[c]) for c in columns),
                        int(r["n"])) for r in rows]
    if not any(p.best for p in patterns):
        engine.drop(gammas)
        return None
    model = estimate([*levels, *id_levels(id_comparison)], patterns,
                     learned=frozenset(range(id_comparison + 1)))
    engine.create_table(output, f"""
        SELECT record_id, person_id, path, {calibrated_probability_sql(model)}
            AS calibrated_probability
        FROM {gammas} WHERE rank = 1""", stage="decide")
    engine.drop(gammas)
    return model


def calibration_table_sql(calibrated: str, model: Model) -> str:
    """Per path and band of expected error: best candidates, links, and the wrong links expected
    among those links (the sum of their expected errors)."""
    prior = " ".join(f"WHEN '{p}' THEN {q!r}" for p, q in sorted(model.priors.items()))
    error = "(1.0 - c.calibrated_probability)"
    return f"""
SELECT c.path, CAST((CASE c.path {prior} END) AS DOUBLE) AS path_prior,
    {band_sql(error)} AS expected_error_band,
    count(*) AS best_candidates,
    count(*) FILTER (WHERE d.status IN ('verified', 'corrected')) AS links,
    CAST(coalesce(sum({error}) FILTER (WHERE d.status IN ('verified', 'corrected')), 0.0)
         AS DOUBLE) AS expected_wrong_links
FROM {calibrated} AS c
JOIN decisions AS d ON d.record_id = c.record_id
GROUP BY ALL
ORDER BY c.path, min({error})
"""


def calibration_summary(engine: Engine) -> dict[str, Any] | None:
    """The run's calibration table for ``summary.json`` (None when nothing was calibrated)."""
    if not engine.table_exists(CALIBRATION):
        return None
    rows = engine.query(f"SELECT * FROM {CALIBRATION}", stage="summary").to_pylist()
    links = sum(int(r["links"]) for r in rows)
    expected = sum(float(r["expected_wrong_links"]) for r in rows)
    return {
        "links": links,
        "expected_wrong_links": round(expected, 3),
        "expected_wrong_per_100k_links": round(1e5 * expected / links, 3) if links else None,
        "path_priors": {str(r["path"]): float(r["path_prior"]) for r in rows},
        "bands": [{**r, "expected_wrong_links": round(float(r["expected_wrong_links"]), 4)}
                  for r in rows],
    }


def link_allowed_sql(calibrated_probability: str, settings: MatchSettings) -> str:
    """The error-rate threshold on a calibrated probability (NULL: not calibrated, no limit)."""
    return f"coalesce(1.0 - {calibrated_probability} <= {settings.max_link_error!r}, true)"
