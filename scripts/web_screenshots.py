"""Screenshots of the main pages of a running ``vaxtrust serve --demo`` (headless chromium).

    uv run python scripts/web_screenshots.py --url http://127.0.0.1:8765 --user bo-y-te-demo \
        --password ... --citizen ID,YYYY-MM-DD,PHONE --codes DEMO/web-codes.txt \
        --qr DEMO/passports/example.png --out docs/screenshots
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def sign_in(page: Any, user: str, password: str) -> None:
    page.goto("/officer/login")
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url("**/officer")


def certificate_photo(path: Path) -> Path:
    """A synthetic photo of the paper certificate (text on paper; nobody's real data)."""
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", (900, 600), (246, 243, 232))
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 30)
    lines = ["GIẤY XÁC NHẬN ĐÃ TIÊM VẮC XIN COVID-19", "", "Mũi 2 · Comirnaty (Pfizer)",
             "Ngày tiêm: 06/10/2021", "(ảnh minh hoạ, dữ liệu tổng hợp)"]
    for row, text in enumerate(lines):
        draw.text((50, 60 + row * 70), text, fill=(30, 30, 30), font=font)
    image.save(path, format="JPEG", quality=85)
    return path


def file_complaint(page: Any, phone: str, photo: Path) -> None:
    """The signed-in citizen reports a missing second dose, with the certificate's photo."""
    page.goto("/citizen/complaints")
    page.fill("#c-phone", phone)
    page.select_option("#c-category", "missing_dose")
    page.select_option("#c-vaccine", "pfizer")
    page.fill("#c-vaccinated_on", "06/10/2021")
    page.fill("#c-dose_number", "2")
    page.fill("#c-description", "Thiếu mũi 2 trên hệ thống")
    page.set_input_files("#c-attachment", str(certificate_photo(photo)))
    page.click("#complaint-form button[type=submit]")
    page.wait_for_url("**/citizen/complaints?filed=*")
    photo.unlink()


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
        sign_in(page, args.user, args.password)
        shot("officer-dashboard", full=True)
        page.goto("/officer/review")
        shot("review-queue")
        first = page.locator("table.queue a").first.get_attribute("href")
        page.goto(str(first))
        shot("review-item", full=True)
        record = page.locator("main p a").first.get_attribute("href")
        page.goto(str(record))
        shot("record", full=True)
        page.goto("/officer/users")
        shot("users", full=True)
        page.goto("/officer/signing")
        shot("signing")
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
        file_complaint(page, number, out / ".certificate-photo.jpg")
        shot("citizen-complaint-phone", full=True)
        page.goto("/lang/en?next=/verify")
        shot("verify-phone-en")
        phone.close()

        desktop = browser.new_context(base_url=args.url, viewport={"width": 1280, "height": 860})
        page = desktop.new_page()
        sign_in(page, args.user, args.password)
        page.goto("/officer/complaints")
        shot("complaints-inbox")
        page.click("table.complaints a")
        shot("complaint", full=True)
        desktop.close()
        browser.close()


if __name__ == "__main__":
    main()
