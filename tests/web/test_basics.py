"""The app's frame: security headers, one JSON error shape, no internals in any answer, i18n."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.fixtures import csrf_of


def test_home_page_is_vietnamese_by_default_and_english_by_the_switch(
        client: TestClient) -> None:
    client.cookies.clear()
    page = client.get("/")
    assert page.status_code == 200
    assert "Cổng thông tin tiêm chủng COVID-19" in page.text
    assert '<html lang="vi">' in page.text
    switched = client.get("/lang/en?next=/verify", follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/verify"
    page = client.get("/verify")
    assert "Check a vaccine passport" in page.text and '<html lang="en">' in page.text


def test_language_switch_never_redirects_off_the_site(client: TestClient) -> None:
    for target in ("https://evil.example/", "//evil.example/x"):
        answer = client.get(f"/lang/vi?next={target}", follow_redirects=False)
        assert answer.headers["location"] == "/"


def test_every_answer_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/verify", "/citizen", "/officer/login", "/api/v1/openapi.json",
                 "/static/app.css", "/no-such-page"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_templates_hold_no_inline_script_or_style() -> None:
    from pathlib import Path

    import vaxtrust.web

    folder = Path(vaxtrust.web.__file__).parent / "templates"
    for template in folder.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert "<script>" not in text and " style=" not in text and "onclick" not in text, \
            template.name


def test_api_errors_have_one_shape(client: TestClient) -> None:
    for method, path, body in (("get", "/api/v1/review/items", None),
                               ("get", "/api/v1/nothing-here", None),
                               ("post", "/api/v1/verify", {"wrong": 1}),
                               ("post", "/api/v1/session", {"username": "", "password": ""})):
        answer = client.request(method, path, json=body)
        assert answer.status_code >= 400
        data = answer.json()
        assert set(data) == {"ok", "status", "error", "errors"}
        assert data["ok"] is False and data["status"] == answer.status_code
        assert isinstance(data["errors"], list) and data["errors"]


def test_no_stack_trace_or_sql_when_the_store_fails(client: TestClient) -> None:
    from sqlalchemy import text

    store = client.app.state.store  # type: ignore[attr-defined]
    with store.engine.begin() as connection:
        connection.execute(text("DROP TABLE review_item_reason"))
    from tests.web.fixtures import sign_in_as

    sign_in_as(client, store, "minh")
    for path in ("/api/v1/review/items", "/officer/review"):
        answer = client.get(path)
        assert answer.status_code in (500, 503)
        for leak in ("Traceback", "SELECT", "review_item_reason", "sqlite", "File \""):
            assert leak not in answer.text


def test_posting_a_form_without_its_token_is_refused(client: TestClient) -> None:
    answer = client.post("/citizen/lookup", data={"id_number": "1", "dob": "1990-01-01",
                                                  "phone": "0912345678"})
    assert answer.status_code == 403
    token = csrf_of(client)
    answer = client.post("/citizen/lookup", data={"id_number": "1", "dob": "1990-01-01",
                                                  "phone": "0912345678", "csrf_token": token})
    assert answer.status_code == 200


ROUTES_WITH_IDS = [
    ("GET", "/officer/review/{}"), ("POST", "/officer/review/{}/decide"),
    ("GET", "/officer/records/{}"), ("GET", "/officer/persons/{}"),
    ("GET", "/officer/imports/{}"), ("GET", "/officer/imports/{}/rejects.xlsx"),
    ("GET", "/api/v1/review/items/{}"), ("POST", "/api/v1/review/items/{}/decision"),
    ("GET", "/api/v1/records/{}"), ("GET", "/api/v1/persons/{}"),
    ("GET", "/api/v1/signing/batches/{}"), ("GET", "/api/v1/complaints/{}"),
    ("POST", "/api/v1/complaints/{}/assign")]


def test_ids_in_paths_beyond_the_stores_keys_are_refused_not_failed(client: TestClient) -> None:
    """Signed in as the ministry, an id past 2^63 or longer than any key in a page's or an API
    route's path is refused (404 or 422), never a server error."""
    from tests.web.fixtures import sign_in_as

    token = sign_in_as(client, client.app.state.store, "minh")  # type: ignore[attr-defined]
    for method, template in ROUTES_WITH_IDS:
        for value in (str(2**63 + 5), "9" * 65):
            answer = client.request(method, template.format(value), data={"csrf_token": token},
                                    headers={"X-CSRF-Token": token})
            assert answer.status_code in (404, 422), (method, template, answer.text[:200])
