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


def evidence_sources_sql(open_records: str) -> str:
    """Records sharing an evidence key with an open record (the only ones evidence can come from).

    Narrowing to these first keeps the step proportional to the open records, not the run.
    """
    return f"""
WITH keyed AS ({_keyed_sql()}),
open_keys AS (
    SELECT DISTINCT k.key_name, k.key_value, k.name_fold, k.dob
    FROM {open_records} AS o JOIN keyed AS k ON k.record_id = o.record_id
)
SELECT DISTINCT k.record_id
FROM keyed AS k
JOIN open_keys AS ok
  ON ok.key_name = k.key_name AND ok.key_value = k.key_value
 AND ok.name_fold = k.name_fold AND ok.dob = k.dob
WHERE k.record_id NOT IN (SELECT record_id FROM {open_records})
"""


def _keyed_sql() -> str:
    keyed = """SELECT record_id, name_fold, dob, {key} AS key_value, '{key}' AS key_name
        FROM std_records
        WHERE name_fold IS NOT NULL AND dob_precision = 'day' AND {key} IS NOT NULL"""
    return "\n        UNION ALL\n        ".join(keyed.format(key=key) for key in EVIDENCE_KEYS)


def evidence_pairs_sql(open_records: str, linked: str) -> str:
    """(record, person, probability NULL) pairs lent by linked records sharing an evidence key.

    ``linked`` has ``record_id, person_id`` of the records linked unambiguously so far.
    """
    return f"""
WITH keyed AS ({_keyed_sql()}),
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
