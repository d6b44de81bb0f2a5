"""persons.parquet's rows: every register person a run refers to, once, in person_id order."""

from __future__ import annotations

import pyarrow as pa

from vaxtrust.engine import create_engine
from vaxtrust.pipeline.run_folder import persons_sql
from vaxtrust.schema import REGISTER_COLUMNS


def _register(rows: list[tuple[str, str | None]]) -> pa.Table:
    ids, old_ids = zip(*rows, strict=True)
    other = {name: [None] * len(rows) for name in REGISTER_COLUMNS
             if name not in ("person_id", "old_id")}
    return pa.table({"person_id": list(ids), "old_id": list(old_ids), **other},
                    schema=pa.schema([(name, pa.string()) for name in REGISTER_COLUMNS]))


def test_persons_are_the_linked_the_candidates_and_the_typed_ids_once_each() -> None:
    register = _register([
        ("001000000005", None),         # linked by two records
        ("001000000004", None),         # a review candidate
        ("001000000003", None),         # whose ID a record typed, not linked
        ("001000000002", "012345678"),  # whose old CMND a record typed
        ("001000000001", None),         # nobody refers to them
        ("001000000006", "087654321"),  # linked, and their old CMND typed as well
    ])
    results = pa.table({"person_id": ["001000000005", "001000000005", "001000000006", None]})
    candidates = pa.table({"person_id": ["001000000004", "001000000005"]})
    raw = pa.table({"id_number": ["001000000003", "012345678", "087654321", "999", None]})
    with create_engine("duckdb", threads=2) as engine:
        for name, table in (("raw_register", register), ("results", results),
                            ("review_candidates", candidates), ("raw_records", raw)):
            engine.register(name, table)
        persons = engine.query(persons_sql()).column("person_id").to_pylist()
    assert sorted(persons) == ["001000000002", "001000000003", "001000000004",
                               "001000000005", "001000000006"]
