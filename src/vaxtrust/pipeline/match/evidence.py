"""Evidence from the same person's other dose records: one good record can fix the others.

A person's doses are usually entered at different times, by different people, with different
mistakes. When an open record shares its folded name, full date of birth and phone (or commune)
with records already linked unambiguously, and all of those point to one register person, that
person is proposed for the open record. The pair is still explained field by field against the
register, so a record that differs from the person beyond an explained error cannot link. Keys
shared by records linked to different people (twins in a household, namesakes) prove nothing and
are ignored.
"""

from __future__ import annotations

EVIDENCE_KEYS = ("phone", "commune_code")


def evidence_pairs_sql(open_records: str, linked: str) -> str:
    """(record, person, probability NULL) pairs lent by linked records sharing an evidence key.

    ``linked`` has ``record_id, person_id`` of the records linked unambiguously so far.
    """
    keyed = """SELECT record_id, name_fold, dob, {key} AS key_value, '{key}' AS key_name
        FROM std_records
        WHERE name_fold IS NOT NULL AND dob_precision = 'day' AND {key} IS NOT NULL"""
    keyed_union = "\n        UNION ALL\n        ".join(keyed.format(key=key) for key in EVIDENCE_KEYS)
    return f"""
WITH keyed AS (
        {keyed_union}
),
people_by_key AS (
    SELECT k.key_name, k.key_value, k.name_fold, k.dob,
        min(l.person_id) AS person_id, count(DISTINCT l.person_id) AS people
    FROM {linked} AS l JOIN keyed AS k ON k.record_id = l.record_id
    GROUP BY k.key_name, k.key_value, k.name_fold, k.dob
)
SELECT DISTINCT k.record_id, pk.person_id, CAST(NULL AS DOUBLE) AS probability
FROM {open_records} AS o
JOIN keyed AS k ON k.record_id = o.record_id
JOIN people_by_key AS pk
  ON pk.key_name = k.key_name AND pk.key_value = k.key_value
 AND pk.name_fold = k.name_fold AND pk.dob = k.dob
WHERE pk.people = 1
"""
