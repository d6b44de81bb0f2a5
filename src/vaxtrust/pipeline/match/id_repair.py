"""Repaired and mistyped IDs: one-digit and transposition candidates, and the old 9-digit CMND.

Excel damage (lost leading zero, scientific notation) is repaired by the standardiser and reported
in ``id_repairs``; this path handles what is left: an ID that does not lead to the person. It
generates every ID one substitution or one adjacent transposition away (at most 119 per record)
and joins them to the register, so it is one equality join however large the register is. A
9-digit CMND is looked up in the register's ``old_id``.
"""

from __future__ import annotations

ID_LENGTH = 12


def id_variants_sql(open_records: str) -> str:
    """Every 12-digit ID one substitution or one adjacent transposition away from the record's."""
    return f"""
WITH ids AS (
    SELECT r.record_id, r.id_clean AS id
    FROM {open_records} AS o
    JOIN std_records AS r ON r.record_id = o.record_id
    WHERE length(r.id_clean) = {ID_LENGTH} AND regexp_full_match(r.id_clean, '[0-9]+')
),
substitutions AS (
    SELECT record_id,
        substr(id, 1, pos - 1) || CAST(digit AS VARCHAR) || substr(id, pos + 1) AS variant,
        'id_digit_mistyped' AS id_verdict
    FROM ids, range(1, {ID_LENGTH + 1}) AS positions(pos), range(0, 10) AS digits(digit)
    WHERE substr(id, pos, 1) <> CAST(digit AS VARCHAR)
),
transpositions AS (
    SELECT record_id,
        substr(id, 1, pos - 1) || substr(id, pos + 1, 1) || substr(id, pos, 1)
            || substr(id, pos + 2) AS variant,
        'id_digits_swapped' AS id_verdict
    FROM ids, range(1, {ID_LENGTH}) AS positions(pos)
    WHERE substr(id, pos, 1) <> substr(id, pos + 1, 1)
)
SELECT * FROM substitutions UNION ALL SELECT * FROM transpositions
"""


def id_repair_pairs_sql(variants: str, open_records: str, *, repair_factor: float,
                        old_id_factor: float) -> str:
    """Register persons reached by an ID variant, or by the record's ID as their old CMND."""
    return f"""
SELECT v.record_id, p.person_id, 'id_repair' AS path, v.id_verdict,
    {repair_factor} AS id_factor, CAST(NULL AS DOUBLE) AS probability
FROM {variants} AS v
JOIN std_register AS p ON p.person_id = v.variant
UNION ALL
SELECT r.record_id, p.person_id, 'id_repair' AS path, 'id_old_cmnd' AS id_verdict,
    {old_id_factor} AS id_factor, CAST(NULL AS DOUBLE) AS probability
FROM {open_records} AS o
JOIN std_records AS r ON r.record_id = o.record_id
JOIN std_register AS p ON p.old_id = r.id_clean
WHERE r.id_clean IS NOT NULL
"""
