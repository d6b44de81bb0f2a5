"""The audit trail: typed events, an intact hash chain, and tampering named row by row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tests.conftest import ROOT
from vaxtrust.errors import ConfigError, PermissionDenied, StoreError
from vaxtrust.review.queue import AcceptCandidate, decide, list_items
from vaxtrust.store import audit
from vaxtrust.store.audit_key import AuditKey
from vaxtrust.store.db import Store
from vaxtrust.store.scope import Actor


def _decide_something(store: Store, actors: dict[str, Actor]) -> None:
    with store.transaction() as session:
        item = list_items(session, actors["hn01"]).items[0]
        decide(session, actors["hn01"], item.id, AcceptCandidate(1))


def _verify(store: Store) -> audit.ChainReport:
    with store.transaction() as session:
        return audit.verify_chain(session)


def _tamper(store: Store, sql: str, table: str = "audit_event") -> None:
    """Bypass the append-only guard the way a database administrator could."""
    with store.engine.begin() as connection:
        if store.dialect == "postgresql":
            connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
            connection.execute(text(sql))
            connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        else:
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_update"))
            connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_delete"))
            connection.execute(text(sql))


def _export_head(store: Store) -> None:
    from vaxtrust.app.audit import export_head

    export_head(store)


def _verify_against_head(store: Store) -> audit.ChainReport:
    from vaxtrust.store.audit_key import newest_head

    assert store.audit_key is not None and store.audit_head_dir is not None
    with store.transaction() as session:
        return audit.verify_chain(session, head=newest_head(store.audit_key,
                                                            store.audit_head_dir))


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


def test_an_edited_row_rehashed_without_the_key_is_named(
    published: Store, actors: dict[str, Actor]
) -> None:
    """A forger who recomputes the row's hash with another key (or none) is caught by it."""
    _decide_something(published, actors)
    with published.engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM audit_event WHERE seq = 4")).one()
    guessed = AuditKey(b"\x01" * 32, "a guess")
    forged = audit.row_hash(guessed, row.seq, row.event_type, "someone-else", row.occurred_at,
                            row.subject_id, row.payload, row.prev_hash)
    _tamper(published, f"UPDATE audit_event SET actor = 'someone-else', hash = '{forged}' "
                       "WHERE seq = 4")
    assert [str(p) for p in _verify(published).problems] == [
        "row 4: edited: its content no longer matches its hash",
        "row 5: prev_hash does not match the previous row's hash (the previous row was "
        "edited, or rows were deleted or reordered)"]


def test_a_whole_chain_rehashed_without_the_key_is_named(
    published: Store, actors: dict[str, Actor]
) -> None:
    """Re-hashing every row with plain SHA-256 (the old, unkeyed chain) gives a valid-looking
    chain to anyone without the key; with it, every row is named."""
    _decide_something(published, actors)
    with published.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_event ORDER BY seq")).all()
    prev, statements = audit.GENESIS_HASH, []
    for row in rows:
        actor = "nobody" if row.seq == 3 else row.actor
        digest = audit.row_hash(None, row.seq, row.event_type, actor, row.occurred_at,
                                row.subject_id, row.payload, prev)
        statements.append(f"UPDATE audit_event SET actor = '{actor}', prev_hash = '{prev}', "
                          f"hash = '{digest}', key_id = NULL WHERE seq = {row.seq}")
        prev = digest
    for statement in statements:
        _tamper(published, statement)
    problems = _verify(published).problems
    assert len(problems) == len(rows)
    assert all("not keyed" in str(problem) for problem in problems)


def test_a_deleted_row_is_named(published: Store, actors: dict[str, Actor]) -> None:
    _decide_something(published, actors)
    _tamper(published, "DELETE FROM audit_event WHERE seq IN (5, 6)")
    assert [str(p) for p in _verify(published).problems] == [
        "row 7: rows 5-6 deleted before this row"]


def test_reordered_rows_are_named(published: Store, actors: dict[str, Actor]) -> None:
    _decide_something(published, actors)
    _tamper(published, "UPDATE audit_event SET seq = -5 WHERE seq = 5")
    _tamper(published, "UPDATE audit_event SET seq = 5 WHERE seq = 6")
    _tamper(published, "UPDATE audit_event SET seq = 6 WHERE seq = -5")
    problems = [str(p) for p in _verify(published).problems]
    assert problems[0].startswith("row 5: prev_hash does not match")
    assert "row 5: edited: its content no longer matches its hash" in problems


def test_deleting_the_newest_rows_is_found_against_the_head_export(
    published: Store, actors: dict[str, Actor]
) -> None:
    _decide_something(published, actors)
    _export_head(published)
    assert _verify_against_head(published).intact
    with published.transaction() as session:
        rows, _ = audit.chain_head(session)
    _tamper(published, f"DELETE FROM audit_event WHERE seq > {rows - 2}")
    problems = [str(p) for p in _verify_against_head(published).problems]
    assert problems[1:] and all(   # the deleted rows were events of the decision's corrections
        "has no audit event" in problem for problem in problems[1:])
    assert problems[:1] == [
        f"row {rows - 2}: the chain has {rows - 2} rows but held {rows} when its head was "
        f"exported (export {_newest_export(published).name} of "
        f"{_newest_export_time(published)}): newest rows deleted"]


def _newest_export(store: Store) -> Path:
    assert store.audit_head_dir is not None
    return sorted(store.audit_head_dir.glob("head-*.json"))[-1]


def _newest_export_time(store: Store) -> str:
    return json.loads(_newest_export(store).read_text(encoding="utf-8"))["exported_at"]


def test_a_forged_head_export_is_refused(published: Store, actors: dict[str, Actor]) -> None:
    _export_head(published)
    path = _newest_export(published)
    body = json.loads(path.read_text(encoding="utf-8"))
    body["rows"] = 1
    path.write_text(json.dumps(body), encoding="utf-8")
    with pytest.raises(StoreError, match="not made with this store's audit key"):
        _verify_against_head(published)


def test_a_deleted_correction_is_named(published: Store, actors: dict[str, Actor]) -> None:
    _decide_something(published, actors)
    with published.engine.connect() as connection:
        review_made = connection.execute(text(
            "SELECT min(id) FROM correction WHERE decision_id IS NOT NULL")).scalar_one()
        run_made = connection.execute(text(
            "SELECT min(id) FROM correction WHERE run_id IS NOT NULL")).scalar_one()
    _tamper(published, f"DELETE FROM correction WHERE id = {review_made}", "correction")
    _tamper(published, f"DELETE FROM correction WHERE id = {run_made}", "correction")
    assert [str(p) for p in _verify(published).problems] == [
        f"correction {review_made} was deleted (its audit event remains)",
        "corrections of run run-1 were deleted, edited or added after it was published"]


def test_an_edited_or_added_decision_is_named(
    published: Store, actors: dict[str, Actor]
) -> None:
    _decide_something(published, actors)
    _tamper(published, "UPDATE decision SET note = 'it was always so'", "decision")
    _tamper(published, "INSERT INTO decision (item_id, actor, kind, fields, decided_at) "
                       "SELECT item_id, 'ghost', 'reject_all', '{}', decided_at FROM decision",
            "decision")
    assert [str(p) for p in _verify(published).problems] == [
        "decision 1 was edited after its audit event",
        "decision 2 has no audit event (added behind the application's back)"]


def test_the_database_refuses_to_change_decisions_and_corrections(
    published: Store, actors: dict[str, Actor]
) -> None:
    _decide_something(published, actors)
    for sql in ("UPDATE decision SET note = 'x'", "DELETE FROM correction"):
        with pytest.raises((DBAPIError, StoreError), match="append-only"):
            with published.engine.begin() as connection:
                connection.execute(text(sql))


def test_hash_covers_every_column_and_the_key() -> None:
    key = AuditKey(b"\x02" * 32, "test")
    base = ("1", "t", "a", "2026", "s", "{}", "0" * 64)
    digests = {audit.row_hash(key, 1, *base[1:]), audit.row_hash(None, 1, *base[1:]),
               audit.row_hash(AuditKey(b"\x03" * 32, "other"), 1, *base[1:])}
    for index in range(1, len(base)):
        changed = list(base)
        changed[index] += "x"
        digests.add(audit.row_hash(key, 1, *changed[1:]))
    assert len(digests) == len(base) + 2


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


def _make_legacy(store: Store) -> None:
    """Turn the store's chain into one made before the key: plain SHA-256, no key_id."""
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM audit_event ORDER BY seq")).all()
    prev = audit.GENESIS_HASH
    for row in rows:
        digest = audit.row_hash(None, row.seq, row.event_type, row.actor, row.occurred_at,
                                row.subject_id, row.payload, prev)
        _tamper(store, f"UPDATE audit_event SET prev_hash = '{prev}', hash = '{digest}', "
                       f"key_id = NULL WHERE seq = {row.seq}")
        prev = digest


def test_rekey_signs_a_legacy_chain_and_adopts_its_rows(
    published: Store, actors: dict[str, Actor]
) -> None:
    from vaxtrust.app.audit import rekey, verify
    from vaxtrust.store.scope import Role

    _decide_something(published, actors)
    _make_legacy(published)
    assert not _verify(published).intact
    with pytest.raises(PermissionDenied, match="--admin"):
        rekey(published, actors["minh"])
    admin = Actor(username="os:root", role=Role.MINISTRY)
    head = rekey(published, admin)
    result = verify(published, admin)
    assert result.chain.intact and result.head == head
    assert head.rows == result.chain.rows
    _decide_something_else(published, actors)
    assert _verify(published).intact
    _tamper(published, "DELETE FROM correction WHERE id = 1", "correction")
    assert [str(p) for p in _verify(published).problems] == [
        "decisions or corrections made before the chain was keyed were deleted or edited since"]


def _decide_something_else(store: Store, actors: dict[str, Actor]) -> None:
    from vaxtrust.review.queue import RejectAll

    with store.transaction() as session:
        item = list_items(session, actors["hcm01"]).items[0]
        decide(session, actors["hcm01"], item.id, RejectAll("none of them"))


def test_rekey_refuses_a_broken_chain(published: Store, actors: dict[str, Actor]) -> None:
    from vaxtrust.app.audit import rekey
    from vaxtrust.store.scope import Role

    _make_legacy(published)
    _tamper(published, "UPDATE audit_event SET actor = 'x' WHERE seq = 2")
    with pytest.raises(ConfigError, match="broken already"):
        rekey(published, Actor(username="os:root", role=Role.MINISTRY))


def test_a_rotated_key_keeps_the_chain_verifiable(
    published: Store, store_url: str, actors: dict[str, Actor], tmp_path: Path
) -> None:
    """``audit rekey --previous-key-file``: the chain verifies with the retired key, is re-hashed
    with the new one, and verifies (with its new head export) from then on; without the old
    key, or with the wrong one, nothing is rotated."""
    from vaxtrust.app.audit import export_head, rekey, verify
    from vaxtrust.files import write_private
    from vaxtrust.store.audit_key import new_key_file
    from vaxtrust.store.scope import Role

    admin = Actor(username="os:root", role=Role.MINISTRY)
    _decide_something(published, actors)
    export_head(published, admin)            # a head export made with the retired key
    assert published.audit_key is not None
    old_file = tmp_path / "old.key"
    write_private(old_file, published.audit_key.secret.hex() + "\n", exclusive=True)
    new_key = new_key_file(tmp_path / "new.key")
    rotated = Store.open(store_url, audit_key_file=tmp_path / "new.key",
                         audit_head_dir=published.audit_head_dir)
    try:
        with pytest.raises(ConfigError, match="broken already"):
            rekey(rotated, admin)            # the new key alone cannot vouch for the old rows
        wrong = new_key_file(tmp_path / "wrong.key")
        assert wrong.key_id != new_key.key_id
        with pytest.raises(ConfigError, match="broken already"):
            rekey(rotated, admin, previous_key_file=tmp_path / "wrong.key")
        head = rekey(rotated, admin, previous_key_file=old_file)
        result = verify(rotated, admin)
        assert result.chain.intact and result.head == head
        _decide_something_else(rotated, actors)
        assert verify(rotated, admin).chain.intact
        assert not _verify(published).intact    # the retired key no longer writes or verifies
        _tamper(rotated, "UPDATE audit_event SET actor = 'x' WHERE seq = 2")
        assert not verify(rotated, admin).chain.intact
    finally:
        rotated.close()
