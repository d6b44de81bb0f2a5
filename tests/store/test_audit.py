"""The audit trail: typed events, an intact hash chain, and tampering named row by row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import ROOT
from vaxtrust.errors import StoreError
from vaxtrust.review.queue import AcceptCandidate, decide, list_items
from vaxtrust.store import audit
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor


def _decide_something(store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        item = list_items(session, actors["hn01"]).items[0]
        decide(session, actors["hn01"], item.id, AcceptCandidate(1))


def _verify(store: Store) -> audit.ChainReport:
    with store.transaction() as session:
        return audit.verify_chain(session)


def _tamper(store: Store, sql: str) -> None:
    """Bypass the append-only guard the way a database administrator could."""
    with store.engine.begin() as connection:
        if store.dialect == "postgresql":
            connection.execute(text("ALTER TABLE audit_event DISABLE TRIGGER USER"))
            connection.execute(text(sql))
            connection.execute(text("ALTER TABLE audit_event ENABLE TRIGGER USER"))
        else:
            connection.execute(text("DROP TRIGGER audit_event_no_update"))
            connection.execute(text("DROP TRIGGER audit_event_no_delete"))
            connection.execute(text(sql))


def test_every_action_leaves_a_typed_event_in_an_intact_chain(
    published: Store, actors: dict[str, Actor]
) -> None:
    _decide_something(published, actors)
    report = _verify(published)
    assert report.intact and report.rows > 10
    with published.transaction() as session:
        types = {row.event_type for row in audit.events_for(session, "record:R3")}
    assert {"correction_made", "record_linked"} <= types


@pytest.mark.parametrize("sql", [
    "UPDATE audit_event SET actor = 'someone' WHERE seq = 1",
    "DELETE FROM audit_event WHERE seq = 1",
])
def test_the_database_refuses_to_change_the_trail(published: Store, sql: str) -> None:
    with pytest.raises((DBAPIError, StoreError), match="append-only"):
        with published.engine.begin() as connection:
            connection.execute(text(sql))
    assert _verify(published).intact


def test_an_edited_row_is_named(published: Store, actors: dict[str, Actor]) -> None:
    _decide_something(published, actors)
    _tamper(published, "UPDATE audit_event SET payload = '{}' WHERE seq = 4")
    report = _verify(published)
    assert [str(p) for p in report.problems] == [
        "row 4: edited: its content no longer matches its hash"]


def test_an_edited_and_rehashed_row_breaks_the_next_link(
    published: Store, actors: dict[str, Actor]
) -> None:
    """A forger who also recomputes the row's hash is caught by the next row's prev_hash."""
    _decide_something(published, actors)
    with published.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM audit_event WHERE seq = 4")).one()
    forged = audit.row_hash(row.seq, row.event_type, "someone-else", row.occurred_at,
                            row.subject_id, row.payload, row.prev_hash)
    _tamper(published, f"UPDATE audit_event SET actor = 'someone-else', hash = '{forged}' "
                       "WHERE seq = 4")
    assert [str(p) for p in _verify(published).problems] == [
        "row 5: prev_hash does not match the previous row's hash (the previous row was "
        "edited, or a row before it deleted and renumbered)"]


def test_a_deleted_row_is_named(published: Store, actors: dict[str, Actor]) -> None:
    _decide_something(published, actors)
    _tamper(published, "DELETE FROM audit_event WHERE seq IN (5, 6)")
    assert [str(p) for p in _verify(published).problems] == [
        "row 7: rows 5-6 deleted before this row"]


def test_hash_covers_every_column() -> None:
    base = ("1", "t", "a", "2026", "s", "{}", "0" * 64)
    digests = {audit.row_hash(1, *base[1:])}
    for index in range(1, len(base)):
        changed = list(base)
        changed[index] += "x"
        digests.add(audit.row_hash(1, *changed[1:]))
    assert len(digests) == len(base)


def test_every_event_type_and_field_is_documented() -> None:
    docs = (ROOT / "docs" / "store.md").read_text(encoding="utf-8")
    for event_type, event_class in audit.EVENT_TYPES.items():
        section = re.search(rf"### `{event_type}`\n(.*?)(?=\n### |\Z)", docs, re.S)
        assert section, f"docs/store.md has no section for {event_type}"
        for name in audit.payload_fields(event_class):
            assert f"`{name}`" in section.group(1), f"{event_type}.{name} undocumented"


def test_event_fields_carry_docstrings() -> None:
    for event_class in audit.EVENT_TYPES.values():
        source = Path(audit.__file__).read_text(encoding="utf-8")
        body = source.split(f"class {event_class.__name__}(")[1].split("\n\n\n")[0]
        for name in audit.payload_fields(event_class):
            assert re.search(rf"    {name}: .*\n    \"\"\"", body), f"{name} has no docstring"
