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

    Narrowing to these first keeps the step proportional to the open records, not the run: the
    open records' values are read once, and the run's records once, joined on name and date of
    birth (any key then agrees or not), not once per key.
    """
    return f"""
WITH open_values AS (
    SELECT DISTINCT name_fold, dob, {", ".join(EVIDENCE_KEYS)}
    FROM ({_keyed_records_sql(open_records)})
)
SELECT DISTINCT k.record_id
FROM std_records AS k
JOIN open_values AS o ON o.name_fold = k.name_fold AND o.dob = k.dob
WHERE k.dob_precision = 'day' AND ({_shares_a_key_sql("o", "k")})
  AND k.record_id NOT IN (SELECT record_id FROM {open_records})
"""


def _keyed_records_sql(records: str, *columns: str) -> str:
    """The rows of ``std_records`` of ``records`` (``record_id``, and ``columns`` of ``records``)
    that can share evidence: a folded name, a full date of birth and some evidence key."""
    keys = ", ".join(f"r.{key}" for key in EVIDENCE_KEYS)
    listed = "".join(f", s.{column}" for column in columns)
    return f"""SELECT r.record_id, r.name_fold, r.dob, {keys}{listed}
        FROM {records} AS s JOIN std_records AS r ON r.record_id = s.record_id
        WHERE r.name_fold IS NOT NULL AND r.dob_precision = 'day'
          AND ({" OR ".join(f"r.{key} IS NOT NULL" for key in EVIDENCE_KEYS)})"""


def _shares_a_key_sql(a: str, b: str) -> str:
    return " OR ".join(f"{a}.{key} = {b}.{key}" for key in EVIDENCE_KEYS)


def _by_key_sql(keyed: str, *columns: str) -> str:
    """One row per (evidence key, its value) of each row of ``keyed`` that has it."""
    listed = "".join(f", {column}" for column in columns)
    return "\n        UNION ALL\n        ".join(
        f"SELECT name_fold, dob, {key} AS key_value, '{key}' AS key_name{listed} "
        f"FROM {keyed} WHERE {key} IS NOT NULL" for key in EVIDENCE_KEYS)


def evidence_pairs_sql(open_records: str, linked: str) -> str:
    """(record, person, probability NULL) pairs lent by linked records sharing an evidence key.

    ``linked`` has ``record_id, person_id`` of the records linked unambiguously so far.
    """
    return f"""
WITH linked_values AS ({_keyed_records_sql(linked, "person_id")}),
open_values AS ({_keyed_records_sql(open_records)}),
people_by_key AS (
    SELECT key_name, key_value, name_fold, dob,
        min(person_id) AS person_id, count(DISTINCT person_id) AS people
    FROM ({_by_key_sql("linked_values", "person_id")})
    GROUP BY key_name, key_value, name_fold, dob
)
SELECT DISTINCT k.record_id, pk.person_id, CAST(NULL AS DOUBLE) AS probability
FROM ({_by_key_sql("open_values", "record_id")}) AS k
JOIN people_by_key AS pk
  ON pk.key_name = k.key_name AND pk.key_value = k.key_value
 AND pk.name_fold = k.name_fold AND pk.dob = k.dob
WHERE pk.people = 1
"""
