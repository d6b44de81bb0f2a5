"""Schemathesis against the API's own OpenAPI schema: no generated request gets a 5xx answer,
signed in as the ministry (everything reachable) and as nobody."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from vaxtrust.config import Settings
from vaxtrust.store.db import Store
from vaxtrust.web import create_app
from vaxtrust.web.sessions import create_session


@pytest.mark.slow
@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_no_generated_request_gets_a_server_error(web_store: Store, settings: Settings) -> None:
    from hypothesis import given

    app = create_app(settings, store=web_store)
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    token = create_session(web_store, minutes=60, username="minh").token
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 15

    for operation in operations:
        @given(case=operation.as_strategy())
        @hypothesis_settings(max_examples=25, deadline=None, database=None,
                             suppress_health_check=list(HealthCheck))
        def no_server_error(case: Any) -> None:
            for headers in ({"Authorization": f"Bearer {token}"}, {}):
                response = case.call(headers=headers)
                assert response.status_code < 500, (case.method, case.path,
                                                    response.text[:300])
                kind = response.headers.get("content-type") or ""
                kind = " ".join(kind) if isinstance(kind, list) else kind
                if response.status_code >= 400 and kind.startswith("application/json"):
                    body = response.json()
                    assert body.get("ok") is False
                    assert body.get("status") == response.status_code

        no_server_error()


def test_every_operation_has_a_stable_id(web_store: Store, settings: Settings) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings, store=web_store)) as client:
        spec = client.get("/api/v1/openapi.json").json()
    ids = [operation.get("operationId") for path in spec["paths"].values()
           for operation in path.values()]
    assert ids and all(isinstance(i, str) and "-" in i and "_" not in i for i in ids), ids
    assert len(ids) == len(set(ids))
