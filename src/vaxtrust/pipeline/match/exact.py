"""Exact authentication: ID, name, date of birth and gender equal after canonicalisation.

This is the authentication the population register performs itself; most records end here, so the
path joins once and writes its candidates straight away: every verdict is ``equal``, and the rule
confidence of such a pair is certain whatever else agrees (:data:`ALL_EQUAL_CONFIDENCE`). Only the
few notes of a pair that agrees (the ID repaired, the other tone style) need the pair's values.
"""

from __future__ import annotations

from typing import Final

from vaxtrust.pipeline.match.compare import (
    DOB_FACTORS,
    EQUAL,
    GENDER_FACTORS,
    NAME_FACTORS,
    tone_style_sql,
)

# The rule confidence of a pair on the person's own ID whose every field is equal: 1.0, which no
# support can lift (compare.explain_pairs_sql gives the same; a test holds the two together).
ALL_EQUAL_CONFIDENCE: Final = NAME_FACTORS[EQUAL] * DOB_FACTORS[EQUAL] * GENDER_FACTORS[EQUAL]


def exact_candidates_sql(open_records: str) -> str:
    """The candidates of the open records whose four identity fields equal the register
    person's of that ID, with the columns of ``explain_pairs_sql``."""
    tone_style = f"{tone_style_sql('r')} <> {tone_style_sql('p')}"
    return f"""
SELECT r.record_id, p.person_id, 'exact' AS path, '{EQUAL}' AS name_verdict,
    '{EQUAL}' AS dob_verdict, '{EQUAL}' AS gender_verdict, '{EQUAL}' AS id_verdict,
    CAST({ALL_EQUAL_CONFIDENCE!r} AS DOUBLE) AS match_probability,
    CASE WHEN {tone_style} OR len(coalesce(r.id_repairs, [])) > 0
         THEN list_sort(list_distinct(list_concat(
             [CASE WHEN {tone_style} THEN 'name_tone_style' END], coalesce(r.id_repairs, []))))
         ELSE CAST([] AS VARCHAR[]) END AS reasons
FROM {open_records} AS o
JOIN std_records AS r ON r.record_id = o.record_id
JOIN std_register AS p
  ON p.person_id = r.id_clean
 AND p.name_canonical = r.name_canonical
 AND p.dob = r.dob AND p.dob_precision = r.dob_precision
 AND p.gender = r.gender"""
