"""``serve --demo``: an account per role with a fresh password, and a citizen to look up."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.fixtures import AN
from vaxtrust.store.auth import sign_in
from vaxtrust.store.db import Store
from vaxtrust.web.demo import demo_accounts, demo_citizen, prepare_demo


def test_demo_accounts_sign_in_and_get_new_passwords_each_time(web_store: Store) -> None:
    first = demo_accounts(web_store, "minh")
    assert [role for role, _, _ in first] == ["ministry", "province", "facility"]
    for _, username, password in first:
        assert sign_in(web_store, username, password, client="test").username == username
    second = demo_accounts(web_store, "minh")
    assert [p for _, _, p in first] != [p for _, _, p in second]


def test_the_demo_citizen_holds_a_certificate(web_store: Store) -> None:
    citizen = demo_citizen(web_store)
    assert citizen is not None
    assert (citizen.id_number, citizen.dob, citizen.phone) == (AN, "1990-02-03", "0912345678")


@pytest.mark.slow
def test_serve_demo_has_a_citizen_with_a_certificate_and_signs_from_the_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo signs through the store: the certificate the store calls current is the one the
    journal holds, with no bridge between them. And serve --demo sets the signing page up: a
    batch the demo ministry starts signs with the demo's key into the demo's journal (nothing is
    left to sign after the demo, so it ends at once, done)."""
    from vaxtrust.app.users import actor_named
    from vaxtrust.config import load_settings
    from vaxtrust.demo.steps import DEMO_OFFICER, DEMO_PASSPHRASE
    from vaxtrust.signing import queue as signing
    from vaxtrust.web.batches import BatchPlan, batch, start_batch
    from vaxtrust.web.certificates import qr_text_of

    prepared = prepare_demo(tmp_path / "demo", persons=400)
    assert prepared.citizen is not None and len(prepared.accounts) == 3
    photos = Path(prepared.complaints_options()["attachments_dir"])   # the citizens' photos
    assert photos.parent == (tmp_path / "demo").resolve()
    monkeypatch.setenv("VAXTRUST_KEY_PASSPHRASE", DEMO_PASSPHRASE)
    settings = load_settings(None, store={"url": prepared.database_url},
                             web=prepared.web_options(), passport=prepared.passport_options())
    plan = BatchPlan.from_settings(settings)
    assert plan is not None
    store = Store.open(prepared.database_url)
    try:
        with store.transaction() as session:
            current = signing.current_certificate(session, prepared.citizen.id_number)
        minister = actor_named(store, DEMO_OFFICER)
        started = start_batch(store, minister, plan, runner=lambda job: job(lambda: False))
        finished = batch(store, minister, started.id)
    finally:
        store.close()
    assert current is not None
    assert (qr_text_of([prepared.journal], current.uvci) or "").startswith("HC1:")
    assert finished.state == "done", finished.error
