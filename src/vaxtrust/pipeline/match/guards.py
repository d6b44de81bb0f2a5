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

from typing import Final

from vaxtrust.engine import Engine
from vaxtrust.pipeline.match.compare import (
    DOB_FACTORS,
    EQUAL,
    FULL_NAME_VERDICTS,
    GENDER_FACTORS,
    NAME_FACTORS,
    OWN_ID_NAME_DIFFERS,
    at_most_one_edit_sql,
    factor_sql,
    name_words_sql,
)
from vaxtrust.pipeline.match.settings import MatchSettings


def ranked_candidates_sql(candidates: str) -> str:
    """The best candidate row per (record, person) ranked per record, 1 = best.

    A person proposed by several paths keeps its best-scoring pair; ties go to the path that
    relies on the stronger evidence (exact first). A record with one candidate row (nearly
    every record) is rank 1 as it is: the two sorts run only over records with several.
    """
    path_order = ("CASE path WHEN 'exact' THEN 0 WHEN 'id_anchored' THEN 1 WHEN 'id_repair' THEN 2"
                  " WHEN 'household_evidence' THEN 3 ELSE 4 END")
    return f"""
WITH several AS (SELECT record_id FROM {candidates} GROUP BY record_id HAVING count(*) > 1),
best_per_person AS (
    SELECT c.*, row_number() OVER (
        PARTITION BY record_id, person_id
        ORDER BY match_probability DESC, {path_order}) AS person_rank
    FROM {candidates} AS c SEMI JOIN several USING (record_id)
)
SELECT c.*, CAST(1 AS BIGINT) AS rank FROM {candidates} AS c ANTI JOIN several USING (record_id)
UNION ALL
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


def _explained_sql(alias: str) -> str:
    """A candidate whose name and date of birth differ by no more than an explained error (a
    name that only agrees in surname and given name does not count)."""
    return (f"{alias}.name_verdict NOT IN ('name_different', 'name_partial_match') "
            f"AND {alias}.dob_verdict <> 'dob_different'")


def _plausible_rival(alias: str) -> str:
    """A candidate other than the best that could be the record's person (:func:`_explained_sql`)."""
    return f"{alias}.rank > 1 AND {_explained_sql(alias)}"


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


def evidence_link_sql(top_two: str, record: str, person: str, kin: str,
                      calibrated_probability: str, settings: MatchSettings) -> str:
    """Condition (on a ``top_two_sql`` row, its ``std_records`` and ``std_register`` rows and
    its :func:`same_day_kin_sql` row, NULL when it has none) under which a best candidate links
    on the combined evidence of all its fields although its path's rules score it below their
    threshold.

    Its calibrated expected error must be at most ``calibrated_link_error``, its rule score at
    least ``review_floor`` (a name no rule explains on the person's own ID is capped below it,
    and the calibration alone weighs it), and the guards hold:

    - no close competitor, and a name present;
    - the record's full date of birth is the person's (or one slip of it), or else the record
      carries the person's own ID: a date unknown, a placeholder or a year alone leaves a
      namesake possible;
    - the phone or the province agrees with the person's (an outside namesake lives elsewhere),
      or the record carries the person's own ID (or old CMND), which no outsider holds;
    - nothing of the record's own identity says it is somebody else: a 12-digit CCCD the
      register does not know (every CCCD issued is in it), an old CMND other than the one the
      register holds for the person, a foreign passport, an ID whose holder is another person
      born that day;
    - the name and date of birth differ by no more than an explained error; or the record
      carries the person's own ID (or old CMND), full date of birth and gender under a name no
      rule explains that still writes the person's given name (:func:`_given_name_written_sql`),
      and the register holds nobody else born that day in the person's commune or on the
      person's phone (a twin carrying the sibling's ID); or it carries the person's own ID,
      full name and gender with a date of birth no slip explains (a parent and child do not
      share a full name);
    - without the person's own ID, the person's home stands in for it: the commune or the
      phone agrees and the other is not known to differ, and the record carries no ID or
      another register person's (a parent's). Then a name no rule explains links as on the own
      ID (full date of birth, gender, the given name written, no same-day kin); and the year of
      birth alone (a year, a month, or 01/01 of the year typed for an unknown day) links under
      the person's full name and gender in the person's own commune.

    The record's full date of birth includes one typed as no date at all (01/08/9968) one digit
    away from the person's: the slip is repaired like an ID's.

    An unnamed but harmless difference (a Splink score held down by a moved phone or commune,
    a garbled name on the person's own ID) then no longer forces review when nothing else could
    be the person.
    """
    if settings.calibrated_link_error <= 0.0:
        return "false"
    t, r, p = top_two, record, person
    own_id = f"{t}.id_verdict IN ({_OWN_IDS})"
    # a date typed in full that is no date (01/08/9968) one digit away from the person's is a
    # slip of the person's full date, like a slip typed as a valid date
    full_date = (f"(({r}.dob_precision = 'day' AND {t}.dob_verdict IN ({_FULL_DATE_VERDICTS}))"
                 f" OR ({r}.dob_precision IS NULL AND {t}.dob_verdict = 'dob_typo'))")
    full_names = ", ".join(f"'{verdict}'" for verdict in FULL_NAME_VERDICTS)
    own_id_other_date = (f"({own_id} AND {t}.name_verdict IN ({full_names})"
                         f" AND {t}.gender_verdict <> 'gender_flipped')")
    other_name = (
        f"{t}.name_verdict = 'name_different'"
        f" AND {r}.dob_precision = 'day' AND {t}.dob_verdict = '{EQUAL}'"
        f" AND {t}.gender_verdict <> 'gender_flipped'"
        f" AND {_given_name_written_sql(r, p)} AND {kin}.record_id IS NULL")
    own_id_other_name = f"({own_id} AND {other_name})"
    # Without the own ID, the person's home stands in for it (an outsider namesake lives
    # elsewhere): the commune agrees, or the phone does, and the other is not known to differ;
    # and the record's ID, if any, is a register person's (a parent's on a child's record).
    phone, commune = f"{r}.phone = {p}.phone", f"{r}.commune_code = {p}.commune_code"
    in_commune = f"coalesce({commune}, false) AND coalesce({phone}, true)"
    at_home = f"(({in_commune}) OR (coalesce({phone}, false) AND coalesce({commune}, true)))"
    no_other_id = f"{t}.id_verdict IN ('id_missing', 'id_belongs_to_other_person')"
    home_other_name = f"({at_home} AND {no_other_id} AND {other_name})"
    # a year alone leaves more namesakes than a full date: only the commune sets them apart
    year_in_commune = (
        f"({t}.dob_verdict IN ({_YEAR_DATE_VERDICTS}) AND {r}.dob_year = {p}.dob_year"
        f" AND {t}.name_verdict IN ({full_names}) AND {t}.gender_verdict <> 'gender_flipped'"
        f" AND {in_commune} AND {no_other_id})")
    return f"""(1.0 - {calibrated_probability} <= {settings.calibrated_link_error!r}
        AND ({t}.match_probability >= {settings.review_floor} OR {own_id_other_name})
        AND coalesce({t}.competitor_probability, 0.0) < {settings.competitor_floor}
        AND {t}.name_verdict <> 'name_missing'
        AND (coalesce({phone}, false)
             OR coalesce({r}.province_code = {p}.province_code, false) OR {own_id})
        AND coalesce({r}.id_kind, '') <> 'passport'
        AND {t}.id_verdict <> '{OWN_ID_NAME_DIFFERS}'
        AND NOT ({t}.id_verdict = 'id_not_in_register'
                 AND ({r}.id_kind = 'cccd' OR ({r}.id_kind = 'cmnd' AND {p}.old_id IS NOT NULL)))
        AND (({_explained_sql(t)} AND ({full_date} OR {own_id}))
             OR {own_id_other_name} OR {home_other_name} OR {own_id_other_date}
             OR {year_in_commune}))"""


# ID verdicts of a record carrying the person's own ID: the CCCD, or the old CMND it replaced.
_OWN_IDS: Final = f"'{EQUAL}', 'id_old_cmnd'"
# Date-of-birth verdicts of a record whose full date is the person's, or a slip of it.
_FULL_DATE_VERDICTS: Final = f"'{EQUAL}', 'dob_day_month_swapped', 'dob_typo'"
# Date-of-birth verdicts of a record that gives the person's year of birth but not the day.
_YEAR_DATE_VERDICTS: Final = "'dob_year_only', 'dob_month_only', 'dob_placeholder'"


def _given_name_written_sql(record: str, person: str) -> str:
    """Some word of the record's name is the person's given name with at most one slip (Lâm
    typed Lm, Ban cut to Ba): the given name is how relatives are told apart. Written out word
    by word, not as a lambda: Spark cannot call the Python damerau_levenshtein inside one."""
    written = " OR ".join(at_most_one_edit_sql(word, f"{person}.given_fold")
                          for word in name_words_sql(f"{record}.name_fold"))
    return f"({person}.given_fold <> '' AND ({written}))"


def same_day_kin_sql(top_two: str) -> str:
    """``record_id`` of the best candidates under a name no rule explains that have kin in the
    register: somebody else born the same day in their commune or on their phone (a twin).
    Those records are not linked on the evidence alone, with the own ID or at home."""
    return f"""
SELECT DISTINCT t.record_id
FROM {top_two} AS t
JOIN std_register AS p ON p.person_id = t.person_id
JOIN std_register AS k
  ON k.dob = p.dob AND k.person_id <> p.person_id
 AND (k.commune_code = p.commune_code OR k.phone = p.phone)
WHERE t.name_verdict = 'name_different'
"""
