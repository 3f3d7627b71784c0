"""Screenshots of the main pages at tablet and phone sizes, to check the CSS by eye.

Start a demo hub, then run this against it:

    HUBCORE_INSTANCE=/tmp/inst-demo hubcore serve --demo --port 8010 &
    python docs/screenshots.py http://127.0.0.1:8010 /tmp/shots

It writes one PNG per page and viewport into the folder (do not commit them):
the dashboard, the rooms list, the municipality page, a 404 page, the rooms form
after an empty submit (showing its errors), the people pages (list, a 五十音 row,
a person, households, a household, the person form after an empty submit), a
keyboard-focus view and a print preview. Needs Playwright (in the test extras)
and a Chromium: /usr/bin/chromium if present, else ``playwright install chromium``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

VIEWPORTS = {"tablet": (1024, 768), "phone": (390, 844)}


def shoot(page: Page, out: Path, name: str, full: bool = True) -> None:
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=full)
    print(path)


def run(base: str, out: Path, site: str, municipality: str, lang: str) -> int:
    out.mkdir(parents=True, exist_ok=True)
    chromium = "/usr/bin/chromium" if os.path.exists("/usr/bin/chromium") else None
    pages = {
        "dashboard": f"/s/{site}/",
        "rooms": f"/s/{site}/rooms/",
        "municipality": f"/m/{municipality}/",
        "not-found": "/s/no-such-site/",
        "people": f"/s/{site}/people/",
        "people-row": f"/s/{site}/people/?row=%E3%82%AB",  # the カ row
        "households": f"/s/{site}/people/households/",
    }
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium)
        for vp_name, (width, height) in VIEWPORTS.items():
            context = browser.new_context(viewport={"width": width, "height": height},
                                          device_scale_factor=1, locale="ja-JP")
            page = context.new_page()
            # the language is a cookie set by ?lang=
            page.goto(f"{base}/?lang={lang}")
            for name, path in pages.items():
                response = page.goto(base + path)
                if name != "not-found" and response is not None and response.status == 404:
                    print(f"skipped {path}: 404")
                    continue
                shoot(page, out, f"{vp_name}-{name}")
                # follow the first person / household link to its page
                link = {"people": "#people-results .person-name",
                        "households": ".table .person-name"}.get(name)
                if link and page.locator(link).count():
                    page.locator(link).first.click()
                    page.wait_for_load_state()
                    shoot(page, out, f"{vp_name}-{name}-detail")

            # the person form submitted empty
            response = page.goto(f"{base}/s/{site}/people/new/")
            if response is not None and response.ok:
                page.locator("form.form button[type=submit]").first.click()
                page.wait_for_load_state()
                shoot(page, out, f"{vp_name}-person-form-errors")

            # the rooms form submitted empty: htmx swaps in the form with its errors
            page.goto(f"{base}/s/{site}/rooms/")
            page.locator("#room-form button[type=submit]").click()
            page.locator("#room-form .form-error").wait_for()
            page.locator("#room-form").scroll_into_view_if_needed()
            shoot(page, out, f"{vp_name}-rooms-errors")

            # keyboard focus ring on the first menu entry
            page.goto(f"{base}/s/{site}/rooms/")
            for _ in range(4):
                page.keyboard.press("Tab")
            shoot(page, out, f"{vp_name}-focus", full=False)

            if vp_name == "tablet":
                page.emulate_media(media="print")
                page.goto(f"{base}/s/{site}/rooms/")
                shoot(page, out, "print-rooms")
                page.emulate_media(media="screen")
            context.close()
        browser.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base_url", help="e.g. http://127.0.0.1:8010")
    parser.add_argument("out_dir", type=Path, help="folder for the PNG files")
    parser.add_argument("--site", default="midorino-school")
    parser.add_argument("--municipality", default="midorino")
    parser.add_argument("--lang", default="ja", choices=("ja", "en"))
    args = parser.parse_args()
    return run(args.base_url.rstrip("/"), args.out_dir, args.site, args.municipality, args.lang)


if __name__ == "__main__":
    sys.exit(main())
