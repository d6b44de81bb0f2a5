"""Score a results table (the results contract) against the independent set's truth, in DuckDB.

Written separately from ``vaxtrust.demo.evaluate`` so that the scoring, too, owes nothing to the
matcher's authors. A record is *auto-linked* when its status is ``verified`` or ``corrected``; a
*wrong-person link* is an auto-link to anyone but the record's own register person (including any
link of a person who is not in the register). Records missing from the results count as not linked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

AUTO = "('verified', 'corrected')"


def _scored(con: duckdb.DuckDBPyConnection, data: Path, results: Path) -> None:
    con.execute(f"""CREATE OR REPLACE TEMP TABLE scored AS
        SELECT t.*, coalesce(r.status, 'missing') AS status, r.person_id AS linked,
               r.status IN {AUTO} AS auto,
               r.status IN {AUTO} AND r.person_id IS NOT DISTINCT FROM t.true_person_id
                   AND t.true_person_id IS NOT NULL AS right_link,
               r.status IN {AUTO} AND (t.true_person_id IS NULL
                   OR r.person_id IS DISTINCT FROM t.true_person_id) AS wrong_link
        FROM read_parquet('{data / "truth/records_truth.parquet"}') AS t
        LEFT JOIN read_parquet('{results}') AS r USING (record_id)""")


def score(data: Path, results: Path, review_candidates: Path | None = None) -> dict[str, Any]:
    """The headline figures, per error kind and per trait, and the review queue's first candidates."""
    con = duckdb.connect()
    _scored(con, data, results)
    row = con.execute("""SELECT count(*) AS records,
            count_if(true_person_id IS NOT NULL) AS in_register,
            count_if(auto) AS auto_links, count_if(right_link) AS right_links,
            count_if(wrong_link) AS wrong_person_links,
            count_if(wrong_link AND true_person_id IS NOT NULL) AS wrong_register_person,
            count_if(status = 'review') AS review,
            count_if(status = 'review' AND true_person_id IS NOT NULL) AS review_in_register,
            count_if(status = 'unmatched') AS unmatched, count_if(status = 'rejected') AS rejected,
            count_if(status = 'missing') AS missing,
            count_if(true_person_id IS NULL) AS outside_records,
            count_if(true_person_id IS NULL AND auto) AS outside_records_linked,
            count(DISTINCT person_key) FILTER (WHERE true_person_id IS NULL) AS outside_persons,
            count(DISTINCT person_key) FILTER (WHERE true_person_id IS NULL AND auto)
                AS outside_persons_linked
        FROM scored""").fetchone()
    assert row is not None
    names = [d[0] for d in con.description]
    figures: dict[str, Any] = dict(zip(names, row, strict=True))
    figures["auto_resolved"] = figures["right_links"] / max(figures["in_register"], 1)
    figures["review_share"] = figures["review"] / max(figures["records"], 1)
    figures["wrong_per_100k_auto_links"] = \
        100_000 * figures["wrong_person_links"] / max(figures["auto_links"], 1)
    figures["outside_persons_linked_share"] = \
        figures["outside_persons_linked"] / max(figures["outside_persons"], 1)
    figures["per_kind"] = _per_label(con, "error_kinds")
    figures["per_trait"] = _per_label(con, "traits")
    figures["clean_records"] = _per_label(con, None)
    if review_candidates is not None and review_candidates.is_file():
        figures["review_first_candidate"] = _first_candidate(con, review_candidates)
    con.close()
    return figures


def _per_label(con: duckdb.DuckDBPyConnection, column: str | None) -> dict[str, Any]:
    """Outcome of the records of register people carrying each label (or no error at all), and
    of those whose only error is this one (``alone``; for a trait: records without errors)."""
    if column is None:
        source = "SELECT 'none' AS label, * FROM scored WHERE len(error_kinds) = 0"
    else:
        source = f"SELECT unnest({column}) AS label, * FROM scored"
    # a sub-kind (an impossible date from a digit typo, a CMND the register lacks) is no second error
    errors = "len(list_filter(error_kinds, lambda k: k NOT IN ('dob_impossible', 'id_cmnd_not_in_register')))"
    # for a trait (twin, namesake), "alone" is a record without any error
    main = f"({errors}) + {1 if column == 'traits' else 0}"
    rows = con.execute(f"""SELECT label, count(*) AS records,
            count_if(right_link) / count(*) AS auto_resolved,
            count_if(status = 'review') / count(*) AS review,
            count_if(wrong_link) AS wrong_links,
            count_if({main} = 1) AS alone,
            count_if({main} = 1 AND right_link) / nullif(count_if({main} = 1), 0)
                AS alone_auto_resolved
        FROM ({source}) WHERE true_person_id IS NOT NULL
        GROUP BY label ORDER BY auto_resolved, label""").fetchall()
    return {label: {"records": n, "auto_resolved": auto, "review": review, "wrong_links": wrong,
                    "alone": alone, "alone_auto_resolved": alone_auto}
            for label, n, auto, review, wrong, alone, alone_auto in rows}


def _first_candidate(con: duckdb.DuckDBPyConnection, candidates: Path) -> dict[str, Any]:
    """For review items of register people: is the right person ranked first, or anywhere?"""
    row = con.execute(f"""
        WITH items AS (SELECT record_id, true_person_id FROM scored
                       WHERE status = 'review' AND true_person_id IS NOT NULL),
             candidates AS (SELECT record_id, rank, person_id FROM read_parquet('{candidates}'))
        SELECT count(*) AS items,
            count_if(first.person_id = items.true_person_id) AS right_first,
            count_if(EXISTS (SELECT 1 FROM candidates AS c WHERE c.record_id = items.record_id
                             AND c.person_id = items.true_person_id)) AS right_anywhere,
            count_if(first.person_id IS NULL) AS without_candidates
        FROM items LEFT JOIN (SELECT * FROM candidates
                              QUALIFY row_number() OVER (PARTITION BY record_id
                                                         ORDER BY rank) = 1) AS first
            USING (record_id)""").fetchone()
    assert row is not None
    items, first, anywhere, without = row
    return {"items": items, "right_first": first, "right_anywhere": anywhere,
            "without_candidates": without,
            "right_first_share": first / items if items else None,
            "right_anywhere_share": anywhere / items if items else None}
