"""Screenshots of the main pages of a running ``vaxtrust serve --demo`` (headless chromium).

    uv run python scripts/web_screenshots.py --url http://127.0.0.1:8765 --user bo-y-te-demo \
        --password ... --citizen ID,YYYY-MM-DD,PHONE --codes DEMO/web-codes.txt \
        --qr DEMO/passports/example.png --out docs/screenshots
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("url", "user", "password", "citizen", "codes", "qr", "out"):
        parser.add_argument(f"--{name}", required=True)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        desktop = browser.new_context(base_url=args.url, viewport={"width": 1280, "height": 860})
        page = desktop.new_page()

        def shot(name: str, full: bool = False) -> None:
            page.screenshot(path=str(out / f"{name}.png"), full_page=full)

        page.goto("/")
        shot("home")
        page.goto("/verify")
        page.set_input_files("#image", args.qr)
        page.click("#verify-form button[type=submit]")
        page.locator(".verdict").wait_for()
        shot("verify-valid")
        page.goto("/officer/login")
        page.fill("#username", args.user)
        page.fill("#password", args.password)
        page.click("main button[type=submit]")
        page.wait_for_url("**/officer")
        shot("officer-dashboard", full=True)
        page.goto("/officer/review")
        shot("review-queue")
        first = page.locator("table.queue a").first.get_attribute("href")
        page.goto(str(first))
        shot("review-item", full=True)
        record = page.locator("main p a").first.get_attribute("href")
        page.goto(str(record))
        shot("record", full=True)
        page.set_viewport_size({"width": 1280, "height": 1800})  # figures, deadlines, charts
        page.goto("/officer/reports?level=district")
        shot("officer-reports")
        desktop.close()

        phone = browser.new_context(base_url=args.url, viewport={"width": 390, "height": 844},
                                    device_scale_factor=2, is_mobile=True)
        page = phone.new_page()
        id_number, dob, number = args.citizen.split(",")
        page.goto("/citizen")
        page.fill("#id_number", id_number)
        page.fill("#dob", dob)
        page.fill("#phone", number)
        page.click("main button[type=submit]")
        page.wait_for_selector("#code")
        time.sleep(0.5)
        code = Path(args.codes).read_text().splitlines()[-1].split("\t")[1]
        page.fill("#code", code)
        page.click("main button[type=submit]")
        page.wait_for_url("**/citizen/record")
        shot("citizen-record-phone", full=True)
        page.goto("/lang/en?next=/verify")
        shot("verify-phone-en")
        phone.close()
        browser.close()


if __name__ == "__main__":
    main()
