"""In a real headless Chromium, on the demo: bill a month, print an invoice, record a
payment, issue a credit note.

The demo has no program that bills, so the live server gets the test plugin "lessons"
(installed through sitecustomize.py, as test_admin_browser.py installs garden and
kitchen) and two demo households get lessons and lunches in April 2026, written with
the plugin's own model and the core's price table. Everything after that is done in the
browser.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from hubcore.testing import browser_login

pytestmark = pytest.mark.browser

TESTS = Path(__file__).resolve().parent.parent
SITE = "/s/midorino-school/"

SITECUSTOMIZE = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
from hubcore.plugins import get_host
from testplugins import lessons
get_host().register(lessons)
"""


@pytest.fixture
def server(request, db_url, monkeypatch, tmp_path) -> str:
    """live_server (the demo) with the lessons plugin, and April's lessons recorded."""
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "sitecustomize.py").write_text(SITECUSTOMIZE)
    monkeypatch.setenv("PYTHONPATH", str(boot))  # live_server hands os.environ on
    url = request.getfixturevalue("live_server")
    _record_lessons(db_url)
    return url


def _record_lessons(db_url: str) -> list[str]:
    from testplugins import lessons

    from hubcore import db
    from hubcore.people.models import Household
    from hubcore.sites import operations as site_ops
    from hubcore.sites.models import Site

    db.configure(db_url)
    try:
        with db.database.connection_context():
            site = Site.get(Site.slug == "midorino-school")
            # Only the lessons bill here: the demo's childcare (its fees) is switched off.
            site_ops.set_site_plugin(site, "childcare", False)
            lessons.add_prices(site)
            households = list(Household.select().where(Household.site == site)
                              .order_by(Household.kana_key).limit(2))
            for h in households:
                for day in (dt.date(2026, 4, 7), dt.date(2026, 4, 14)):
                    lessons.Attendance.create(site=site, household=h, day=day, code="lesson")
                    lessons.Attendance.create(site=site, household=h, day=day, code="lunch")
            return [h.name for h in households]
    finally:
        db.database.obj.close_all()


def manager() -> tuple[str, str]:
    from hubcore.demo import DEMO_ACCOUNTS

    return next((email, password) for email, _n, role, place, password in DEMO_ACCOUNTS
                if role == "site_manager" and place == "midorino-school")


def accept_dialogs(page: Page) -> list[str]:
    seen: list[str] = []

    def accept(dialog) -> None:
        seen.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    return seen


def test_bill_a_month_print_pay_and_credit(server, page: Page, tmp_path):
    dialogs = accept_dialogs(page)
    browser_login(page, server, *manager(), path=SITE)
    page.get_by_role("link", name=re.compile("^(請求|Billing)$")).first.click()
    expect(page).to_have_url(re.compile(re.escape(SITE) + r"billing/$"))

    # April: nothing billed yet.
    page.locator("#billing-month").fill("2026-04")
    page.locator(".billing-month-form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"month=2026-04"))
    expect(page.locator("table.billing-invoices")).to_have_count(0)

    # Run the month: two households had lessons and lunches.
    page.evaluate("window.__noReload = 'still here'")
    page.locator("#run-billing").click()
    expect(page.locator('#run-result [data-count="created"]')).to_have_text("2")
    rows = page.locator("table.billing-invoices tbody tr")
    expect(rows).to_have_count(2)
    # 2 lessons × 1,100 + 2 lunches × 500 = 3,200 yen each.
    expect(rows.first).to_contain_text("3,200")
    # Running again changes nothing.
    page.locator("#run-billing").click()
    expect(page.locator('#run-result [data-count="unchanged"]')).to_have_text("2")
    expect(rows).to_have_count(2)

    # Review all drafts, then issue them (after the confirmation).
    page.locator("#bulk-review button[value=all]").click()
    expect(rows.locator('[data-status="reviewed"]')).to_have_count(2)
    page.locator("#issue-reviewed").click()
    expect(rows.locator('[data-status="issued"]')).to_have_count(2)
    expect(rows.first).to_contain_text("MS-000001")
    assert dialogs and "2" in dialogs[-1]
    assert page.evaluate("window.__noReload") == "still here"

    # The invoice and its printable document.
    rows.first.get_by_role("link").click()
    expect(page.locator("h1")).to_contain_text("MS-000001")
    invoice_url = page.url
    payer = page.locator(".billing-facts a").first.inner_text()
    page.locator("#print-link").click()
    expect(page).to_have_url(re.compile(r"/print/$"))
    sheet = page.locator("main.sheet")
    expect(sheet).to_contain_text("MS-000001")
    expect(sheet).to_contain_text(f"{payer} 様")
    expect(sheet).to_contain_text("T3999900012026")  # the demo issuer's number
    expect(sheet).to_contain_text("みどり野ごちゃまぜネット")
    expect(sheet).to_contain_text("昼食 ※")  # the reduced rate is marked
    expect(sheet).to_contain_text("3,200")
    # The print style sheet is applied (linked, not inline: the CSP allows no inline style).
    assert page.evaluate("getComputedStyle(document.querySelector('h1')).textAlign") == \
        "center"
    page.get_by_role("link", name=re.compile("和暦")).click()
    expect(sheet).to_contain_text("令和8年")
    # On paper the browser's bar is gone and the sheet is A4.
    page.emulate_media(media="print")
    expect(page.locator(".toolbar")).to_be_hidden()
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 1000
    page.emulate_media(media="screen")

    # A part payment by 口座振替.
    page.goto(invoice_url)
    page.locator("#payment-amount").fill("1200")
    page.locator("#payment-method").select_option("direct_debit")
    page.locator("#payment-received_on").fill("2026-05-20")
    page.locator("#record-payment").click()
    expect(page.locator(".flash")).to_be_visible()
    expect(page.locator("#open-amount")).to_contain_text("2,000")
    expect(page.locator("table.billing-payments")).to_contain_text("1,200")

    # A credit note for the whole invoice: made as a draft, reviewed, issued.
    page.locator("#credit-reason").fill("利用日の誤り")
    page.locator("#make-credit-note").click()
    expect(page.locator("h1")).to_contain_text(re.compile("(返金伝票|Credit note)"))
    page.locator("#review-invoice").click()
    page.locator("#issue-invoice").click()
    expect(page.locator("h1")).to_contain_text("MS-C000001")
    expect(page.locator("#invoice-total")).to_contain_text("-3,200")
    page.goto(invoice_url)
    expect(page.locator(".billing-facts")).to_contain_text("MS-C000001")
    # What the payer owes now: the invoice reversed, the 1,200 paid is to be returned.
    expect(page.locator("#open-amount")).to_have_text(re.compile(r"^(0円|¥0)$"))


def test_bill_this_month_of_the_plain_demo(live_server, page: Page):
    """No test plugin: the demo hires out its multipurpose room (room hire, billed by the
    calendar), so this month bills the organisers' households."""
    from zoneinfo import ZoneInfo

    month = dt.datetime.now(ZoneInfo("Asia/Tokyo")).strftime("%Y-%m")
    dialogs = accept_dialogs(page)
    browser_login(page, live_server, *manager(), path=SITE + "billing/")
    page.locator("#billing-month").fill(month)
    page.locator(".billing-month-form button[type=submit]").click()
    page.locator("#run-billing").click()
    expect(page.locator('#run-result [data-count="created"]')).not_to_have_text("0")
    rows = page.locator("table.billing-invoices tbody tr")
    page.locator("#bulk-review button[value=all]").click()
    page.locator("#issue-reviewed").click()
    expect(rows.first.locator('[data-status="issued"]')).to_have_count(1)
    assert dialogs
    rows.first.get_by_role("link").click()
    invoice_url = page.url
    page.locator("#print-link").click()
    # The first payer's invoice: room hire (the calendar's) or the demo's childcare fees.
    expect(page.locator("main.sheet")).to_contain_text(re.compile("貸室料|子育て支援"))
    page.goto(invoice_url)
    page.locator("#payment-amount").fill("500")
    page.locator("#payment-method").select_option("cash")
    page.locator("#payment-received_on").fill(f"{month}-01")
    page.locator("#record-payment").click()
    expect(page.locator("table.billing-payments")).to_contain_text("500")
    page.locator("#credit-reason").fill("利用時間の誤り")
    page.locator("#make-credit-note").click()
    page.locator("#review-invoice").click()
    page.locator("#issue-invoice").click()
    expect(page.locator("h1")).to_contain_text("MS-C000001")
