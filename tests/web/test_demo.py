"""``serve --demo``: an account per role with a fresh password, and a citizen to look up."""

from __future__ import annotations

from tests.web.fixtures import AN, Keys
from vaxtrust.store.auth import sign_in
from vaxtrust.store.db import Store
from vaxtrust.web.demo import demo_accounts, demo_citizen, record_journal_certificates


def test_demo_accounts_sign_in_and_get_new_passwords_each_time(web_store: Store) -> None:
    first = demo_accounts(web_store, "minh")
    assert [role for role, _, _ in first] == ["ministry", "province", "facility"]
    for _, username, password in first:
        assert sign_in(web_store, username, password, client="test").username == username
    second = demo_accounts(web_store, "minh")
    assert [p for _, _, p in first] != [p for _, _, p in second]


def test_the_demo_citizen_holds_a_certificate(web_store: Store, keys: Keys) -> None:
    assert record_journal_certificates(web_store, "minh", keys.journal) == 0   # An's is known
    citizen = demo_citizen(web_store)
    assert citizen is not None
    assert (citizen.id_number, citizen.dob, citizen.phone) == (AN, "1990-02-03", "0912345678")
