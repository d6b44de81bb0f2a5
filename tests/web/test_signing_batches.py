"""The ministry starts a signing batch from the signing page (or the API): it runs in the
background through the one signing path, its progress and result are kept in the store, and no
other role can start one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.fixtures import AN, PASSPHRASE, Keys, sign_in_as
from vaxtrust.signing import queue as signing
from vaxtrust.store.db import Store
from vaxtrust.store.tables import SigningBatch, SigningTask
from vaxtrust.web.batches import BatchPlan
from vaxtrust.web.certificates import qr_text_of
from vaxtrust.web.sessions import store_time

OTHER_ROLES = ["hanoi", "hcm", "hn01", "hn02", "hcm01", "police4", "police26734"]


def plan_of(keys: Keys, out: Path, *, passphrase: str = PASSPHRASE) -> BatchPlan:
    return BatchPlan(keystore=keys.csca.parent.parent, out=out, signer="national",
                     passphrase=passphrase, pin=None, validity=timedelta(days=365),
                     audit_key_file=None, audit_head_dir=None)


class Jobs:
    """A runner that keeps the batch's job until the test runs it (the thread, made visible)."""

    def __init__(self) -> None:
        self.waiting: list[Callable[[], None]] = []

    def __call__(self, job: Callable[[], None]) -> None:
        self.waiting.append(job)

    def run(self) -> None:
        while self.waiting:
            self.waiting.pop(0)()


@pytest.fixture
def jobs(client: TestClient, keys: Keys, tmp_path: Path) -> Jobs:
    runner = Jobs()
    client.app.state.batch_plan = plan_of(keys, tmp_path / "signed")   # type: ignore[attr-defined]
    client.app.state.batch_runner = runner                             # type: ignore[attr-defined]
    return runner


def batches(store: Store) -> list[SigningBatch]:
    with store.transaction() as session:
        return list(session.scalars(select(SigningBatch).order_by(SigningBatch.id)))


def pending(store: Store) -> int:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(SigningTask).where(
            SigningTask.state == "pending")) or 0


def test_the_ministry_starts_a_batch_from_the_page_and_sees_it_finish(
        client: TestClient, web_store: Store, jobs: Jobs, tmp_path: Path) -> None:
    waiting = pending(web_store)
    assert waiting > 0
    token = sign_in_as(client, web_store, "minh")
    answer = client.post("/officer/signing/batches", data={"csrf_token": token},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/officer/signing?started=")
    [batch] = batches(web_store)
    assert (batch.state, batch.started_by, batch.total) == ("running", "minh", waiting)
    running = client.get("/officer/signing")
    assert f'data-batch="{batch.id}"' in running.text and "Running" in running.text

    jobs.run()
    [batch] = batches(web_store)
    assert batch.state == "done" and batch.error is None
    assert batch.processed == waiting and pending(web_store) == 0
    done = client.get(f"/api/v1/signing/batches/{batch.id}").json()
    assert done["state"] == "done"
    assert done["summary"]["issued"] + done["summary"]["reissued"] >= 1
    page = client.get("/officer/signing")
    assert "Finished" in page.text and "data-batch=" not in page.text
    # An's new certificate is the store's current one, and its QR text is in the batch's journal
    with web_store.transaction() as session:
        current = signing.current_certificate(session, AN)
    assert current is not None
    assert (qr_text_of([tmp_path / "signed" / "issuance.sqlite"], current.uvci)
            or "").startswith("HC1:")


def test_one_batch_at_a_time_and_the_api_reports_it(client: TestClient, web_store: Store,
                                                    jobs: Jobs) -> None:
    token = sign_in_as(client, web_store, "minh")
    first = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert first.status_code == 202 and first.json()["state"] == "running"
    second = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert second.status_code == 409 and "running already" in second.json()["error"]
    listed = client.get("/api/v1/signing/batches").json()["batches"]
    assert [b["id"] for b in listed] == [first.json()["id"]]
    jobs.run()
    assert client.get(f"/api/v1/signing/batches/{first.json()['id']}").json()["state"] == "done"
    third = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert third.status_code == 202
    assert client.get("/api/v1/signing/batches/999").status_code == 404


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_no_other_role_starts_or_sees_a_batch(client: TestClient, web_store: Store, jobs: Jobs,
                                              role: str) -> None:
    token = sign_in_as(client, web_store, role)
    page = client.post("/officer/signing/batches", data={"csrf_token": token},
                       follow_redirects=False)
    api = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert (page.status_code, api.status_code) == (403, 403)
    assert client.get("/api/v1/signing/batches").status_code == 403
    assert batches(web_store) == [] and jobs.waiting == []


def test_a_batch_needs_the_page_token_and_a_signed_in_officer(
        client: TestClient, web_store: Store, jobs: Jobs) -> None:
    anonymous = client.post("/officer/signing/batches", follow_redirects=False)
    assert anonymous.status_code == 303 and "/officer/login" in anonymous.headers["location"]
    assert client.post("/api/v1/signing/batches").status_code == 401
    sign_in_as(client, web_store, "minh")
    forged = client.post("/officer/signing/batches", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    assert batches(web_store) == [] and jobs.waiting == []


def test_a_server_without_keys_says_how_to_set_signing_up(client: TestClient,
                                                          web_store: Store) -> None:
    token = sign_in_as(client, web_store, "minh")
    assert "web.signing_out" in client.get("/officer/signing").text
    answer = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert answer.status_code == 400 and "not set up" in answer.json()["error"]
    assert batches(web_store) == []


def test_a_failed_batch_says_why_without_a_traceback(client: TestClient, web_store: Store,
                                                     keys: Keys, tmp_path: Path) -> None:
    runner = Jobs()
    client.app.state.batch_plan = plan_of(keys, tmp_path / "out",    # type: ignore[attr-defined]
                                          passphrase="not the passphrase of these keys")
    client.app.state.batch_runner = runner                           # type: ignore[attr-defined]
    token = sign_in_as(client, web_store, "minh")
    started = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token}).json()
    runner.run()
    failed = client.get(f"/api/v1/signing/batches/{started['id']}").json()
    assert failed["state"] == "failed" and failed["error"]
    assert "Traceback" not in failed["error"] and failed["summary"] is None
    assert "Failed" in client.get("/officer/signing").text


def test_a_batch_whose_server_stopped_gives_way_to_the_next(
        client: TestClient, web_store: Store, jobs: Jobs) -> None:
    long_ago = store_time(datetime.now(UTC) - timedelta(hours=1))
    with web_store.transaction() as session:
        session.add(SigningBatch(started_by="minh", state="running", started_at=long_ago,
                                 beat_at=long_ago, processed=3))
    token = sign_in_as(client, web_store, "minh")
    answer = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
    assert answer.status_code == 202
    stopped, started = batches(web_store)
    assert stopped.state == "failed" and "interrupted" in (stopped.error or "")
    assert started.state == "running"
