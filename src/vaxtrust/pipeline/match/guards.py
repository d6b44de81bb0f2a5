"""Guards for the hard cases: who may link, and when the system must not pick.

- Households and a parent's ID on a child's record: an ID-anchored pair whose name differs is
  reported as ``id_belongs_to_other_person`` (``name_differs_on_own_id`` with the ID holder's
  own date of birth and gender) and capped below any link (compare.UNEXPLAINED_CAP);
  the record goes on to the other paths without its ID.
- Twins: same date of birth, surname, household and often phone; only the given name differs.
  A name verdict of ``name_typo`` requires the given names to be (nearly) equal, and any pair
  with a name that differs beyond an explained error can never link.
- Identical common names (Nguyễn is 38 % of the country): when a second register person scores
  at or above ``competitor_floor`` the record is ambiguous and goes to review with both
  candidates. The system never picks between close candidates.
- Namesakes set apart by where they live: a second person with the same name and date of birth
  is no competitor when the record's phone or commune is the best candidate's and is known to
  differ from that person's (and the person agrees with the record on neither), while that
  person agrees no better than the best candidate on name, date of birth and gender. That is
  evidence that separates, not a pick between close candidates.
"""

from __future__ import annotations

from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.compare import (
    DOB_FACTORS,
    GENDER_FACTORS,
    NAME_FACTORS,
    OWN_ID_NAME_DIFFERS,
    factor_sql,
)
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


def _rule_factor_sql(alias: str) -> str:
    """The name x date of birth x gender factor of a candidate row (how well its fields agree)."""
    return " * ".join(factor_sql(f"{alias}.{field}_verdict", factors) for field, factors in (
        ("name", NAME_FACTORS), ("dob", DOB_FACTORS), ("gender", GENDER_FACTORS)))


# On a rival (c) of the best candidate (b) of record r, with their register rows pc and pb: the
# record's phone or commune is the best candidate's and known to be different for the rival, the
# rival shares neither with the record, the record's ID does not lead to the rival, and its name,
# date of birth and gender agree no better.
SET_APART_SQL = f"""(
    c.id_verdict IN ('id_missing', 'id_not_in_register', 'id_belongs_to_other_person',
                     '{OWN_ID_NAME_DIFFERS}')
    AND NOT coalesce(r.phone = pc.phone, false)
    AND NOT coalesce(r.commune_code = pc.commune_code, false)
    AND ((r.phone = pb.phone AND pc.phone IS NOT NULL)
         OR (r.commune_code = pb.commune_code AND pc.commune_code IS NOT NULL))
    AND {_rule_factor_sql("c")} <= {_rule_factor_sql("b")})"""


def _plausible_rival(alias: str) -> str:
    """A candidate other than the best whose name and date of birth differ by no more than an
    explained error (a name that only agrees in surname and given name is no rival either)."""
    return (f"{alias}.rank > 1 AND {alias}.name_verdict NOT IN ('name_different', "
            f"'name_partial_match') AND {alias}.dob_verdict <> 'dob_different'")


def set_apart_sql(ranked: str, settings: MatchSettings) -> str:
    """``record_id, person_id`` of the close rivals (at or above ``competitor_floor``) that the
    record's phone or commune sets apart from its best candidate (:data:`SET_APART_SQL`).

    Only the few close rivals are joined to their values; callers materialise this small table
    before :func:`top_two_sql`.
    """
    return f"""
WITH close_rivals AS (
    SELECT c.record_id, c.person_id, c.name_verdict, c.dob_verdict, c.gender_verdict,
        c.id_verdict
    FROM {ranked} AS c
    WHERE {_plausible_rival("c")} AND c.match_probability >= {settings.competitor_floor}
)
SELECT c.record_id, c.person_id
FROM close_rivals AS c
JOIN (SELECT record_id, person_id, name_verdict, dob_verdict, gender_verdict FROM {ranked}
      WHERE rank = 1 AND record_id IN (SELECT record_id FROM close_rivals)) AS b
  ON b.record_id = c.record_id
JOIN std_records AS r ON r.record_id = c.record_id
JOIN std_register AS pb ON pb.person_id = b.person_id
JOIN std_register AS pc ON pc.person_id = c.person_id
WHERE {SET_APART_SQL}
"""


def top_two_sql(ranked: str, set_apart: str) -> str:
    """Per record: the best candidate's columns and its strongest plausible competitor.

    A competitor is another person whose name and date of birth are equal or differ only by an
    explained error. A person whose name differs outright (a twin sibling, a parent sharing the
    phone) never makes the best candidate ambiguous: the name is what tells them apart. Nor does
    a namesake that the record's phone or commune sets apart from the best candidate (the
    ``set_apart`` table of :func:`set_apart_sql`).
    """
    return f"""
WITH competitors AS (
    SELECT c.record_id, max(c.match_probability) AS competitor_probability,
        arg_max(c.person_id, c.match_probability) AS competitor_person_id
    FROM {ranked} AS c
    LEFT JOIN {set_apart} AS s ON s.record_id = c.record_id AND s.person_id = c.person_id
    WHERE {_plausible_rival("c")} AND s.person_id IS NULL
    GROUP BY c.record_id
)
SELECT best.*, competitors.competitor_probability, competitors.competitor_person_id
FROM {ranked} AS best
LEFT JOIN competitors ON competitors.record_id = best.record_id
WHERE best.rank = 1
"""


def best_candidates(engine: Engine, candidates: str, prefix: str, settings: MatchSettings,
                    stage: str) -> tuple[str, str]:
    """Rank ``candidates``, set apart namesakes, keep the best and its strongest competitor.

    The one guard chain of the matcher's evidence path and of decide. Creates ``{prefix}_ranked``,
    ``{prefix}_set_apart`` and ``{prefix}_top`` (see :func:`top_two_sql`); returns the names of
    the ranked and top tables. The caller drops the three tables (:func:`guard_tables`).
    """
    ranked, set_apart, top = guard_tables(prefix)
    engine.create_table(ranked, ranked_candidates_sql(candidates), stage=stage)
    engine.create_table(set_apart, set_apart_sql(ranked, settings), stage=stage)
    engine.create_table(top, top_two_sql(ranked, set_apart), stage=stage)
    return ranked, top


def guard_tables(prefix: str) -> tuple[str, str, str]:
    """The work tables of :func:`best_candidates`."""
    return f"{prefix}_ranked", f"{prefix}_set_apart", f"{prefix}_top"


def linkable_sql(top_two: str, settings: MatchSettings) -> str:
    """Condition (on a ``top_two_sql`` row) under which the best candidate links automatically."""
    return (f"({top_two}.match_probability >= {settings.auto_link_sql(top_two)}"
            f" AND coalesce({top_two}.competitor_probability, 0.0) < {settings.competitor_floor})")

