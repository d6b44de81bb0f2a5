"""The ministry starts a signing batch from the signing page (or the API): it runs in the
background through the one signing path, its progress and result are kept in the store, and no
other role can start one."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.web.fixtures import AN, PASSPHRASE, Keys, sign_in_as
from vaxtrust.config import Settings
from vaxtrust.passport.keystore import KeyStore
from vaxtrust.signing import queue as signing
from vaxtrust.signing.batch import CLAIM
from vaxtrust.signing.signers import Signers
from vaxtrust.store.db import Store
from vaxtrust.store.tables import SigningBatch, SigningTask
from vaxtrust.web import create_app
from vaxtrust.web.batches import BatchPlan, BatchThreads, Job
from vaxtrust.web.certificates import qr_text_of
from vaxtrust.web.sessions import store_time

OTHER_ROLES = ["hanoi", "hcm", "hn01", "hn02", "hcm01", "police4", "police26734"]


def plan_of(keys: Keys, out: Path, *, passphrase: str = PASSPHRASE, claim: int = CLAIM) -> BatchPlan:
    keystore = keys.csca.parent.parent
    return BatchPlan(keystore=keystore, out=out,
                     signers=lambda: Signers(KeyStore.open(keystore), passphrase=passphrase,
                                             fixed="national"),
                     validity=timedelta(days=365), audit_key_file=None, audit_head_dir=None,
                     claim=claim)


class Jobs:
    """A runner that keeps the batch's job until the test runs it (the thread, made visible)."""

    def __init__(self) -> None:
        self.waiting: list[Job] = []

    def __call__(self, job: Job) -> None:
        self.waiting.append(job)

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> None:
        while self.waiting:
            self.waiting.pop(0)(should_stop)


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


def test_a_batch_stopped_with_its_server_says_so_and_the_next_one_finishes(
        client: TestClient, web_store: Store, keys: Keys, tmp_path: Path) -> None:
    runner = Jobs()
    client.app.state.batch_plan = plan_of(keys, tmp_path / "signed",  # type: ignore[attr-defined]
                                          claim=1)
    client.app.state.batch_runner = runner                            # type: ignore[attr-defined]
    waiting = pending(web_store)
    assert waiting >= 2
    token = sign_in_as(client, web_store, "minh")
    first = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token}).json()
    runner.run(should_stop=lambda: True)         # the server stops during the first chunk
    stopped = client.get(f"/api/v1/signing/batches/{first['id']}").json()
    assert stopped["state"] == "failed" and stopped["processed"] == 1
    assert "stopped with its server after 1 people" in stopped["error"]
    assert pending(web_store) == waiting - 1     # the others still wait, none half signed
    second = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token}).json()
    runner.run()
    assert client.get(f"/api/v1/signing/batches/{second['id']}").json()["state"] == "done"
    assert pending(web_store) == 0


def test_a_running_batch_whose_worker_died_shows_as_interrupted(
        client: TestClient, web_store: Store) -> None:
    long_ago = store_time(datetime.now(UTC) - timedelta(hours=1))
    with web_store.transaction() as session:
        session.add(SigningBatch(started_by="minh", state="running", started_at=long_ago,
                                 beat_at=long_ago, processed=3))
    sign_in_as(client, web_store, "minh")
    [shown] = client.get("/api/v1/signing/batches").json()["batches"]
    assert shown["state"] == "failed" and "interrupted" in shown["error"]


def test_stopping_the_threads_ends_their_batches_between_chunks() -> None:
    threads, chunks = BatchThreads(), []

    def job(should_stop: Callable[[], bool]) -> None:
        while not should_stop():
            chunks.append(1)
            time.sleep(0.01)

    threads(job)
    while not chunks:
        time.sleep(0.01)
    assert threads.stop(timeout=10)
    done = len(chunks)
    time.sleep(0.05)
    assert len(chunks) == done


def test_threads_that_do_not_stop_in_time_are_reported() -> None:
    threads, release = BatchThreads(), threading.Event()
    threads(lambda should_stop: release.wait(10))
    assert not threads.stop(timeout=0.05)
    release.set()


def test_a_server_stopping_while_its_batch_still_signs_records_it_as_interrupted(
        web_store: Store, settings: Settings, keys: Keys, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vaxtrust.web import batches as web_batches

    release = threading.Event()
    monkeypatch.setattr(web_batches, "run_batch", lambda *args: release.wait(30))  # a long chunk
    monkeypatch.setattr(web_batches, "STOP_WAIT_SECONDS", 0.1)
    app = create_app(settings, store=web_store)
    app.state.batch_plan = plan_of(keys, tmp_path / "signed")
    try:
        with TestClient(app) as client:
            token = sign_in_as(client, web_store, "minh")
            started = client.post("/api/v1/signing/batches", headers={"X-CSRF-Token": token})
            assert started.status_code == 202
        [batch] = batches(web_store)        # the server has stopped
        assert batch.state == "failed" and "interrupted" in (batch.error or "")
    finally:
        release.set()
