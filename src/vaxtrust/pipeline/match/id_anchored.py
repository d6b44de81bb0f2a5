"""ID-anchored comparison: the record's ID exists in the register; compare every other field.

The ID is strong evidence but not proof (a parent's or a twin's ID is a known error class), so the
pair is explained field by field in :mod:`vaxtrust.pipeline.match.compare` and only a pair whose
every difference is an explained entry error can link.
"""

from __future__ import annotations


def id_anchored_pairs_sql(open_records: str) -> str:
    """The register person of each open record's ID (CCCD or 12-digit CMND)."""
    return f"""
SELECT r.record_id, p.person_id, 'id_anchored' AS path, 'equal' AS id_verdict, 1.0 AS id_factor,
    CAST(NULL AS DOUBLE) AS probability
FROM {open_records} AS o
JOIN std_records AS r ON r.record_id = o.record_id
JOIN std_register AS p ON p.person_id = r.id_clean
"""
