"""``vaxtrust serve`` as people run it: uvicorn with two worker processes over the store (on
PostgreSQL the look-up runs on each worker's event loop over its async connection pool)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.web.fixtures import AN, Keys
from vaxtrust.store.db import Store

RIGHT = {"id_number": AN, "dob": "1990-02-03", "phone": "0912 345 678"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(web_store: Store, keys: Keys, codes_file: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    url = web_store.engine.url.render_as_string(hide_password=False)
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "vaxtrust", "serve", "--db", url, "--port", str(port),
         "--workers", "2", "--trust-list", str(keys.trust_list), "--csca", str(keys.csca),
         "--journal", str(keys.journal), "--code-sender", f"file:{codes_file}",
         "--no-access-log"],
        env=os.environ.copy(), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None, (tmp_path / "server.log").read_text()
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _holds_a_line(path: Path) -> bool:
    return path.exists() and path.read_text().endswith("\n")


def test_a_citizen_looks_up_the_record_on_the_running_server(server: str,
                                                             codes_file: Path) -> None:
    with httpx.Client(base_url=server, timeout=10) as client:
        answers = [client.post("/api/v1/citizen/lookup", json={**RIGHT, **wrong})
                   for wrong in ({"phone": "0987654321"}, {"id_number": "001090000009"}, {})]
        assert [answer.status_code for answer in answers] == [200] * 3
        assert all(set(answer.json()) == {"challenge"} for answer in answers)
        deadline = time.monotonic() + 10       # the code goes out after the answer
        # the sender creates the file before it writes the line: wait for a whole line
        while not _holds_a_line(codes_file) and time.monotonic() < deadline:
            time.sleep(0.05)
        [line] = codes_file.read_text().splitlines()      # only the right details sent one
        phone, code = line.split("\t")
        assert phone == "0912345678"
        challenge = answers[-1].json()["challenge"]
        token = client.post("/api/v1/citizen/code",
                            json={"challenge": challenge, "code": code}).json()["token"]
        record = client.get("/api/v1/citizen/record",
                            headers={"Authorization": f"Bearer {token}"}).json()
    assert record["full_name"] == "Nguyễn Văn An"
    assert [row["record_id"] for row in record["records"]] == ["R1"]


def test_a_serving_worker_freezes_what_it_started_with(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import gc

    from vaxtrust.web.app import SERVE_OPTIONS_ENV, app_from_environment

    monkeypatch.setenv(SERVE_OPTIONS_ENV, json.dumps(
        {"store": {"url": f"sqlite:///{tmp_path / 'store.sqlite'}"}}))
    monkeypatch.setattr(gc, "freeze", frozen := _Calls())
    app = app_from_environment()
    assert frozen.count == 0
    with TestClient(app):                # its start-up (the store opened) is frozen too
        assert frozen.count == 1


class _Calls:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1
