"""In Debian's chromium: review and decide an item by keyboard, a citizen's look-up and PDF, a
QR upload, the language switch, and axe-core on every page (no serious or critical issue)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.browser import LiveServer, serious_violations
from tests.web.fixtures import AN, Keys
from vaxtrust.config import Settings
from vaxtrust.store.db import Store
from vaxtrust.web import create_app
from vaxtrust.web.sessions import create_session

pytestmark = pytest.mark.browser
# One store back-end is enough in the browser (the postgres group runs the store behind it).
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


@pytest.fixture
def live(web_store: Store, settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings, store=web_store)) as server:
        yield server


@pytest.fixture
def page(browser: Any, live: LiveServer) -> Iterator[Any]:
    context = browser.new_context(base_url=live.url, accept_downloads=True)
    opened = context.new_page()
    yield opened
    context.close()


def signed_in(page: Any, live: LiveServer, store: Store, username: str) -> None:
    token = create_session(store, minutes=30, username=username).token
    page.context.add_cookies([{"name": "vt_session", "value": token, "url": live.url}])


def item_links(page: Any) -> list[str]:
    return [link.get_attribute("href") for link in page.locator("table.queue a").all()]


@sqlite_only
def test_an_officer_signs_in_and_decides_an_item_with_the_keyboard(
        page: Any, live: LiveServer, web_store: Store) -> None:
    from tests.web.test_officers import PASSWORD, with_password

    with_password(web_store, "minh")
    page.goto("/officer/review")
    assert "/officer/login" in page.url
    page.fill("#username", "minh")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/officer/review")
    first, second = item_links(page)[:2]
    page.goto(first)
    page.keyboard.press("1")
    assert page.locator("#a-1").is_checked()
    page.keyboard.press("n")
    page.keyboard.type("năm sinh gõ nhầm 1907")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"**{second}?decided=*")
    assert "Decision recorded" in page.content() or "Đã ghi nhận" in page.content()


@sqlite_only
def test_a_citizen_looks_up_the_record_and_downloads_the_pdf(
        page: Any, live: LiveServer, codes_file: Path, tmp_path: Path) -> None:
    page.goto("/citizen")
    page.fill("#id_number", AN)
    page.fill("#dob", "1990-02-03")
    page.fill("#phone", "0912345678")
    page.click("button[type=submit]")
    page.wait_for_selector("#code")
    code = codes_file.read_text().split("\t")[1].strip()
    page.fill("#code", code)
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/record")
    assert "Nguyễn Văn An" in page.content()
    with page.expect_download() as download:
        page.click("a[href='/citizen/certificate.pdf']")
    saved = tmp_path / "certificate.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes().startswith(b"%PDF")


@sqlite_only
def test_a_verifier_uploads_a_qr_image(page: Any, live: LiveServer, keys: Keys,
                                       tmp_path: Path) -> None:
    image = tmp_path / "qr.png"
    image.write_bytes(keys.valid_png)
    page.goto("/verify")
    page.set_input_files("#image", str(image))
    page.click("#verify-form button[type=submit]")
    verdict = page.locator(".verdict")
    verdict.wait_for()
    assert "HỢP LỆ" in verdict.inner_text() and "Nguyễn Văn An" in verdict.inner_text()


# Chromium on Linux has no BarcodeDetector (phones' browsers do): a stand-in that "sees" the
# given text once the page's video plays the camera's (fake) stream.
FAKE_DETECTOR = """
window.BarcodeDetector = class {
  constructor(options) { this.formats = options.formats; }
  detect(video) {
    const seen = video.srcObject && video.readyState >= 2 && this.formats.includes("qr_code");
    return Promise.resolve(seen ? [{ rawValue: %s }] : []);
  }
};
"""


@sqlite_only
def test_a_verifier_scans_with_the_camera(browser: Any, live: LiveServer, keys: Keys) -> None:
    """The camera button opens the camera, and a QR code it sees is verified at once."""
    context = browser.new_context(base_url=live.url, permissions=["camera"])
    context.add_init_script(FAKE_DETECTOR % json.dumps(keys.valid_qr))
    page = context.new_page()
    page.goto("/verify")
    page.click("#camera-start")
    verdict = page.locator(".verdict")
    verdict.wait_for()
    assert "HỢP LỆ" in verdict.inner_text() and "Nguyễn Văn An" in verdict.inner_text()
    context.close()


@sqlite_only
def test_the_ministry_starts_a_batch_and_the_page_follows_it(
        browser: Any, web_store: Store, settings: Settings, keys: Keys, tmp_path: Path) -> None:
    from tests.web.test_signing_batches import plan_of

    app = create_app(settings, store=web_store)
    app.state.batch_plan = plan_of(keys, tmp_path / "signed")     # the real background thread
    with LiveServer(app) as server:
        context = browser.new_context(base_url=server.url, bypass_csp=True)  # to inject axe
        context.add_cookies([{"name": "vt_lang", "value": "en", "url": server.url}])
        page = context.new_page()
        signed_in(page, server, web_store, "minh")
        page.goto("/officer/signing")
        page.click("#batches button[type=submit]")
        page.wait_for_url("**/officer/signing?started=*")
        # the page polls the batch and reloads itself when it has finished
        page.locator("#batches td", has_text="Finished").wait_for(timeout=60_000)
        assert serious_violations(page) == []
        context.close()


@sqlite_only
def test_the_language_switch(page: Any, live: LiveServer) -> None:
    page.goto("/verify")
    assert page.locator("h1").inner_text() == "Kiểm tra hộ chiếu vắc xin"
    page.click("a[hreflang=en]")
    page.wait_for_url("**/verify")
    assert page.locator("h1").inner_text() == "Check a vaccine passport"
    assert page.locator("html").get_attribute("lang") == "en"


@sqlite_only
def test_pages_work_under_the_content_security_policy(page: Any, live: LiveServer,
                                                      web_store: Store) -> None:
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    signed_in(page, live, web_store, "minh")
    for path in ("/", "/verify", "/officer", "/officer/review"):
        page.goto(path)
    assert [p for p in problems if "Content Security Policy" in p] == []


PAGES = ["/", "/verify", "/citizen", "/officer/login", "/no-such-page"]
OFFICER_PAGES = ["/officer", "/officer/review", "/officer/complaints", "/officer/records/R2",
                 "/officer/persons/001085000002", "/officer/signing", "/officer/users",
                 "/officer/reports", "/officer/reports?level=facility",
                 "/officer/reports/accountability", "/officer/reports/officers",
                 "/officer/lists"]


@sqlite_only
@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_serious_accessibility_violation_on_any_page(
        browser: Any, live: LiveServer, web_store: Store, keys: Keys, codes_file: Path,
        tmp_path: Path, language: str) -> None:
    context = browser.new_context(base_url=live.url, bypass_csp=True)  # to inject axe
    context.add_cookies([{"name": "vt_lang", "value": language, "url": live.url}])
    page = context.new_page()
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        problems = serious_violations(page)
        if problems:
            found[name] = problems

    for path in PAGES:
        page.goto(path)
        check(path)
    image = tmp_path / "qr.png"
    image.write_bytes(keys.valid_png)
    page.goto("/verify")
    page.set_input_files("#image", str(image))
    page.click("#verify-form button[type=submit]")
    page.locator(".verdict").wait_for()
    check("verify verdict")
    page.goto("/citizen")
    page.fill("#id_number", AN)
    page.fill("#dob", "1990-02-03")
    page.fill("#phone", "0912345678")
    page.click("button[type=submit]")
    page.wait_for_selector("#code")
    check("citizen code")
    page.fill("#code", codes_file.read_text().split("\t")[1].strip())
    page.click("button[type=submit]")
    page.wait_for_url("**/citizen/record")
    check("citizen record")
    page.goto("/citizen/complaints")
    check("citizen complaints")
    token = create_session(web_store, minutes=30, username="minh").token
    context.add_cookies([{"name": "vt_session", "value": token, "url": live.url}])
    for path in OFFICER_PAGES:
        page.goto(path)
        check(path)
    page.goto("/officer/review")
    page.goto(item_links(page)[0])
    check("review item")
    page.goto("/officer/lists")
    page.set_input_files("#file", str(_answered_list(web_store, tmp_path)))
    page.click("form[action='/officer/lists/import'] button[type=submit]")
    page.wait_for_url("**/officer/lists/imports/*")
    check("2262 list applied, with a rejected row")
    context.close()
    assert found == {}


def _answered_list(store: Store, folder: Path) -> Path:
    """A commune's 2262 list with one answer the import refuses (neither Đúng nor Sai)."""
    import openpyxl

    from vaxtrust.app.police_lists import export_lists
    from vaxtrust.store.scope import Actor, Role

    made = export_lists(store, Actor("minh", Role.MINISTRY), folder, commune="26734")[0]
    book = openpyxl.load_workbook(made.path)
    book.active.cell(2, 11).value = "Có lẽ"  # type: ignore[union-attr]
    book.save(made.path)
    return made.path


@sqlite_only
def test_a_citizen_files_a_complaint_an_officer_resolves_it_and_the_citizen_sees_it(
        browser: Any, live: LiveServer, web_store: Store, tmp_path: Path) -> None:
    from tests.web.fixtures import photo

    image = tmp_path / "giay-xac-nhan.jpg"
    image.write_bytes(photo((400, 300), kind="JPEG"))
    problems: dict[str, list[str]] = {}

    def context_for(cookie: str, value: str) -> tuple[Any, Any]:
        context = browser.new_context(base_url=live.url, bypass_csp=True)   # to inject axe
        context.add_cookies([{"name": "vt_lang", "value": "vi", "url": live.url},
                             {"name": cookie, "value": value, "url": live.url}])
        return context, context.new_page()

    def check(page: Any, name: str) -> None:
        found = serious_violations(page)
        if found:
            problems[name] = found

    cuc = create_session(web_store, minutes=30, person_id="001170000003").token
    citizen, page = context_for("vt_citizen", cuc)
    page.set_viewport_size({"width": 390, "height": 844})          # a phone
    page.goto("/citizen/record")
    page.click("a[href='/citizen/complaints']")
    assert page.input_value("#c-full_name") == "Lê Thị Cúc"       # from the register
    page.fill("#c-phone", "0912345678")
    page.select_option("#c-category", "missing_dose")
    page.select_option("#c-vaccine", "pfizer")
    page.fill("#c-vaccinated_on", "01/09/2021")
    page.fill("#c-dose_number", "1")
    page.fill("#c-facility_id", "HN-01")
    page.fill("#c-vaccinated_on", "01/09/2099")                    # first a mistake
    page.set_input_files("#c-attachment", str(image))
    page.click("#complaint-form button[type=submit]")
    assert "Ngày tiêm ở tương lai" in page.locator("[role=alert]").inner_text()
    check(page, "citizen complaint form with problems")
    page.fill("#c-vaccinated_on", "01/09/2021")
    page.set_input_files("#c-attachment", str(image))
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url("**/citizen/complaints?filed=*")
    assert "Đã tiếp nhận" in page.locator("table.complaints").inner_text()
    check(page, "citizen complaints")

    token = create_session(web_store, minutes=30, username="hn01").token
    officer, desk = context_for("vt_session", token)
    desk.goto("/officer")
    desk.click("nav.officer a[href='/officer/complaints']")
    check(desk, "complaint inbox")
    desk.click("table.complaints a")
    assert "Gắn bản ghi R3 cho người này" in desk.content()
    assert desk.locator("figure.attachment img").evaluate("img => img.naturalWidth") == 400
    check(desk, "complaint page")
    desk.fill("#resolve-note", "Đã đối chiếu giấy xác nhận tiêm")
    desk.click("#resolve-form button[type=submit]")
    desk.wait_for_url("**/officer/complaints?settled=*")
    officer.close()

    page.reload()
    assert "Đã giải quyết" in page.locator("table.complaints").inner_text()
    citizen.close()
    assert problems == {}


def test_the_accessibility_check_finds_what_it_should(browser: Any) -> None:
    page = browser.new_page()
    page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
    problems = " ".join(serious_violations(page))
    page.close()
    assert "image-alt" in problems and "label" in problems
