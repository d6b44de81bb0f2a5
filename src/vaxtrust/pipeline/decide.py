"""Decide: exactly one status per record, with confidence, corrected values and reasons.

Input: ``std_records``, ``std_register``, ``match_candidates``. Output: ``decisions`` (the results
contract ``vaxtrust.schema.RESULT_COLUMNS`` plus ``path``) and ``review_candidates``
(``vaxtrust.schema.REVIEW_CANDIDATE_COLUMNS``). The rules, in order:

* **verified** — the best candidate links automatically (at or above its path's auto-link
  threshold, no other person at or above ``competitor_floor`` unless the record's phone or
  commune sets that namesake apart: ``guards.set_apart_sql``), its calibrated expected error is
  at most ``max_link_error`` (:mod:`vaxtrust.pipeline.match.calibrate`) and nothing differs;
* **corrected** — it links, and the register's values fill ``corrected_*`` for every field that
  differs (name, date of birth, gender, ID: all four may be filled);
* **review** — the best candidate reaches ``review_floor`` but cannot link, or two persons are
  close (``ambiguous_candidates``), or the rules would link but the calibrated error is above
  the limit (``link_error_above_limit``): the ranked candidates go to ``review_candidates``;
* **rejected** — nothing to match on (no usable ID and no name or no date of birth); the
  reasons in the order of those checks: ``name_unusable``, ``dob_unusable``, then
  ``id_invalid`` or ``id_missing``;
* **unmatched** — anything else (``foreign_passport`` for a passport holder, else
  ``no_candidate``).

Confidence is the confidence in the status given: the best candidate's calibrated probability
for links and reviews (its rule or Splink score when the run has no model to calibrate with),
one minus its score for unmatched records, 1 for rejected ones.
"""

from __future__ import annotations

from vaxtrust.console import Console, stage
from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.calibrate import (
    CALIBRATION,
    calibrate,
    calibration_table_sql,
    link_allowed_sql,
)
from vaxtrust.pipeline.match.compare import OWN_ID_NAME_DIFFERS, field_comparison_sql
from vaxtrust.pipeline.match.guards import (
    best_candidates,
    evidence_link_sql,
    guard_tables,
    linkable_sql,
    same_day_kin_sql,
)
from vaxtrust.pipeline.match.settings import MatchSettings
from vaxtrust.schema import REVIEW_CANDIDATE_COLUMNS

# The standardiser's flag of a name read back from legacy-encoding damage (vaxtrust.vn.legacy).
MOJIBAKE_REPAIRED = "name_mojibake_repaired"
# Review: the rules would link, but the calibrated error of the link is above max_link_error.
LINK_ERROR_ABOVE_LIMIT = "link_error_above_limit"
# Linked on the combined evidence (calibrated_link_error), below the path rules' threshold.
CALIBRATED_LINK = "calibrated_link"
CALIBRATED = "decide_calibrated"
SAME_DAY_KIN = "decide_same_day_kin"

USABLE_ID = "(r.id_clean IS NOT NULL AND r.id_kind IN ('cccd', 'cmnd'))"

# The register's date of birth as written in results: only as precise as the register knows it.
REGISTER_DOB_SQL = """CASE p_dob_precision
    WHEN 'day' THEN strftime(p_dob, '%Y-%m-%d')
    WHEN 'month' THEN strftime(p_dob, '%Y-%m')
    ELSE strftime(p_dob, '%Y') END"""


def decisions_sql(top_two: str, settings: MatchSettings, calibrated: str | None = None) -> str:
    """One row per ``std_records`` row: the results contract plus ``path``.

    ``calibrated`` (:func:`vaxtrust.pipeline.match.calibrate.calibrate`) gives the best
    candidate's calibrated probability: a link also needs its expected error at most
    ``max_link_error``, and links and reviews carry it as their confidence.
    """
    linked = linkable_sql("t", settings)
    calibrated_probability = "c.calibrated_probability" if calibrated else "CAST(NULL AS DOUBLE)"
    ambiguous = (f"(t.match_probability >= {settings.review_floor} AND "
                 f"coalesce(t.competitor_probability, 0.0) >= {settings.competitor_floor})")
    unusable = f"(NOT {USABLE_ID} AND (r.name_fold IS NULL OR r.dob_precision IS NULL))"
    return f"""
WITH judged AS (
    SELECT r.record_id, r.id_kind, r.id_clean, r.id_repairs, r.name_fold, r.dob_precision,
        t.person_id, t.path, t.match_probability, t.reasons AS candidate_reasons,
        t.name_verdict, t.dob_verdict, t.gender_verdict,
        -- a name repaired from legacy-encoding damage (Nguyá»\x85n) is written back corrected
        list_contains(coalesce(r.name_flags, []), '{MOJIBAKE_REPAIRED}') AS name_repaired,
        p.name_canonical AS p_name, p.dob AS p_dob, p.dob_precision AS p_dob_precision,
        p.gender AS p_gender,
        {calibrated_probability} AS calibrated,
        -- the rules would link; the calibrated error decides whether it may
        coalesce({linked}, false) AS rules_link,
        coalesce({linked}, false) AND {link_allowed_sql(calibrated_probability, settings)}
            AS rules_allowed,
        -- a CASE, not an AND: DuckDB computes both sides of an AND for every row, and the
        -- evidence's name checks (edit distances per name word) cost most of decide at 10 M
        CASE WHEN coalesce({linked}, false) THEN false ELSE coalesce(
            {evidence_link_sql("t", "r", "p", "k", calibrated_probability, settings)}, false)
            END AS evidence_link,
        coalesce({ambiguous}, false) AS ambiguous,
        {unusable} AS unusable
    FROM std_records AS r
    LEFT JOIN {top_two} AS t ON t.record_id = r.record_id
    LEFT JOIN std_register AS p ON p.person_id = t.person_id
    {f"LEFT JOIN {calibrated} AS c ON c.record_id = r.record_id" if calibrated else ""}
    LEFT JOIN {SAME_DAY_KIN} AS k ON k.record_id = r.record_id
),
linkable AS (SELECT *, rules_allowed OR evidence_link AS linked FROM judged),
corrected AS (
    SELECT *,
        CASE WHEN linked AND (name_verdict <> 'equal' OR name_repaired) THEN p_name END
            AS corrected_full_name,
        -- written as text only for the few records it corrects
        CASE WHEN linked AND dob_verdict <> 'equal' THEN {REGISTER_DOB_SQL} END
            AS corrected_dob,
        CASE WHEN linked AND gender_verdict <> 'equal' THEN p_gender END AS corrected_gender,
        CASE WHEN linked AND (id_clean IS DISTINCT FROM person_id
                              OR len(coalesce(id_repairs, [])) > 0)
             THEN person_id END AS corrected_id_number
    FROM linkable
)
SELECT record_id,
    CASE
        WHEN linked AND corrected_full_name IS NULL AND corrected_dob IS NULL
             AND corrected_gender IS NULL AND corrected_id_number IS NULL THEN 'verified'
        WHEN linked THEN 'corrected'
        WHEN match_probability >= {settings.review_floor} THEN 'review'
        WHEN unusable THEN 'rejected'
        ELSE 'unmatched'
    END AS status,
    CASE WHEN linked THEN person_id END AS person_id,
    corrected_full_name, corrected_dob, corrected_gender, corrected_id_number,
    CAST(CASE
        WHEN linked OR match_probability >= {settings.review_floor}
            THEN coalesce(calibrated, match_probability)
        WHEN unusable THEN 1.0
        ELSE 1.0 - coalesce(match_probability, 0.0)
    END AS DOUBLE) AS confidence,
    CASE
        WHEN linked AND (name_repaired OR evidence_link) THEN list_sort(list_concat(
            candidate_reasons,
            CASE WHEN name_repaired THEN ['{MOJIBAKE_REPAIRED}'] ELSE [] END,
            CASE WHEN evidence_link THEN ['{CALIBRATED_LINK}'] ELSE [] END))
        WHEN linked THEN candidate_reasons
        WHEN match_probability >= {settings.review_floor} THEN list_sort(list_distinct(
            list_concat(candidate_reasons,
                        CASE WHEN ambiguous THEN ['ambiguous_candidates'] ELSE [] END,
                        CASE WHEN rules_link THEN ['{LINK_ERROR_ABOVE_LIMIT}'] ELSE [] END)))
        WHEN unusable THEN list_filter([
            CASE WHEN name_fold IS NULL THEN 'name_unusable' END,
            CASE WHEN dob_precision IS NULL THEN 'dob_unusable' END,
            CASE WHEN id_kind = 'invalid' THEN 'id_invalid' ELSE 'id_missing' END],
            lambda reason: reason IS NOT NULL)
        ELSE list_concat(
            [CASE WHEN id_kind = 'passport' THEN 'foreign_passport' ELSE 'no_candidate' END],
            list_filter(coalesce(candidate_reasons, []), lambda reason:
                        reason = 'id_belongs_to_other_person'
                        OR reason = '{OWN_ID_NAME_DIFFERS}'))
    END AS reasons,
    CASE WHEN linked OR match_probability >= {settings.review_floor} THEN path END AS path
FROM corrected
"""


def review_candidates_sql(ranked: str, settings: MatchSettings) -> str:
    """Ranked candidates, with their field comparison, of every record sent to review."""
    shown = f"""(
    SELECT c.record_id, c.rank, c.person_id, c.match_probability, c.reasons, c.name_verdict,
        c.dob_verdict, c.gender_verdict, c.id_verdict
    FROM {ranked} AS c
    JOIN decisions AS d ON d.record_id = c.record_id
    WHERE d.status = 'review' AND c.rank <= {settings.review_candidates}
        AND c.match_probability >= {settings.candidate_floor})"""
    return f"""
SELECT record_id, CAST(rank AS INTEGER) AS rank, person_id, match_probability,
    field_comparison AS comparison, reasons
FROM ({field_comparison_sql(shown)})
"""


def run_decide(engine: Engine, settings: MatchSettings, console: Console) -> None:
    """Write ``decisions`` and ``review_candidates`` from ``match_candidates``."""
    with stage(console, "decide", total=engine.count("std_records")):
        ranked, top = best_candidates(engine, "match_candidates", "decide", settings, "decide")
        model = calibrate(engine, ranked, CALIBRATED)
        engine.create_table(SAME_DAY_KIN, same_day_kin_sql(top), stage="decide")
        engine.create_table("decisions", decisions_sql(top, settings, CALIBRATED if model
                                                       else None), stage="decide")
        engine.drop(SAME_DAY_KIN)
        if model:
            engine.create_table(CALIBRATION, calibration_table_sql(CALIBRATED, model),
                                stage="decide")
            engine.drop(CALIBRATED)
        engine.create_table(
            "review_candidates",
            f"SELECT {', '.join(REVIEW_CANDIDATE_COLUMNS)} FROM "
            f"({review_candidates_sql(ranked, settings)})",
            stage="decide",
        )
        for name in guard_tables("decide"):
            engine.drop(name)
