"""Guards for the hard cases: who may link, and when the system must not pick.

- Households and a parent's ID on a child's record: an ID-anchored pair whose name differs is
  reported as ``id_belongs_to_other_person`` and capped below any link (compare.UNEXPLAINED_CAP);
  the record goes on to the other paths without its ID.
- Twins: same date of birth, surname, household and often phone; only the given name differs.
  A name verdict of ``name_typo`` requires the given names to be (nearly) equal, and any pair
  with a name that differs beyond an explained error can never link.
- Identical common names (Nguyễn is 38 % of the country): when a second register person scores
  at or above ``competitor_floor`` the record is ambiguous and goes to review with both
  candidates. The system never picks between close candidates.
"""

from __future__ import annotations

from vaxtrust.pipeline.match.settings import MatchSettings


def ranked_candidates_sql(candidates: str) -> str:
    """The best candidate row per (record, person) ranked per record, 1 = best.

    A person proposed by several paths keeps its best-scoring pair; ties go to the path that
    relies on the stronger evidence (exact first).
    """
    path_order = ("CASE path WHEN 'exact' THEN 0 WHEN 'id_anchored' THEN 1 WHEN 'id_repair' THEN 2"
                  " WHEN 'household_evidence' THEN 3 ELSE 4 END")
    return f"""
WITH best_per_person AS (
    SELECT *, row_number() OVER (
        PARTITION BY record_id, person_id
        ORDER BY match_probability DESC, {path_order}) AS person_rank
    FROM {candidates}
)
SELECT * EXCLUDE (person_rank), row_number() OVER (
        PARTITION BY record_id ORDER BY match_probability DESC, {path_order}, person_id) AS rank
FROM best_per_person WHERE person_rank = 1
"""


def top_two_sql(ranked: str) -> str:
    """Per record: the best candidate's columns and its strongest plausible competitor.

    A competitor is another person whose name and date of birth are equal or differ only by an
    explained error. A person whose name differs outright (a twin sibling, a parent sharing the
    phone) never makes the best candidate ambiguous: the name is what tells them apart.
    """
    return f"""
WITH competitors AS (
    SELECT record_id, max(match_probability) AS competitor_probability,
        arg_max(person_id, match_probability) AS competitor_person_id
    FROM {ranked}
    WHERE rank > 1 AND name_verdict <> 'name_different' AND dob_verdict <> 'dob_different'
    GROUP BY record_id
)
SELECT best.*, competitors.competitor_probability, competitors.competitor_person_id
FROM {ranked} AS best
LEFT JOIN competitors ON competitors.record_id = best.record_id
WHERE best.rank = 1
"""


def linkable_sql(top_two: str, settings: MatchSettings) -> str:
    """Condition (on a ``top_two_sql`` row) under which the best candidate links automatically."""
    return (f"({top_two}.match_probability >= {settings.auto_link_sql(f'{top_two}.path')}"
            f" AND coalesce({top_two}.competitor_probability, 0.0) < {settings.competitor_floor})")

