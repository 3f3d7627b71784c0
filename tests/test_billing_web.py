"""Billing pages: the month, invoices, payments, settings, exports (both databases)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from testplugins import lessons

from hubcore.billing import operations as ops
from hubcore.billing.models import BillingSettings, Invoice, InvoiceLine, Organisation, Payment
from hubcore.billing.run import run_month
from hubcore.migrations import migrate
from hubcore.people.models import Household
from hubcore.plugins import get_host
from hubcore.testing import make_site, registered, user_client

HX = {"HX-Request": "true"}
APRIL = "2026-04"
B = "/s/test-site/billing/"


@pytest.fixture
def lsite(database):
    """The test site with the lessons plugin billing 4 households and a company in April."""
    with registered(lessons):
        migrate(get_host())
        site = make_site(plugins=("lessons",))
        lessons.seed(site, households=4)
        yield site


def invoices(site, **where) -> list[Invoice]:
    q = Invoice.select().where(Invoice.site == site)
    for k, v in where.items():
        q = q.where(getattr(Invoice, k) == v)
    return list(q.order_by(Invoice.id))


def issued(site) -> Invoice:
    """April billed, the first invoice issued."""
    run_month(site, APRIL)
    inv = invoices(site, kind="invoice")[0]
    return ops.issue_invoice(ops.review_invoice(inv), on=dt.date(2026, 5, 1))


def no_inline_code(html: str) -> None:
    """The Content-Security-Policy refuses inline styles and scripts."""
    assert " style=" not in html and "<style" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)


# --- the month ------------------------------------------------------------------------


def test_menu_and_dashboard_widget_for_those_who_may_see_billing(lsite, client, settings):
    page = client.get("/s/test-site/")
    assert f'href="{B}"' in page.text
    widget = re.search(r'<p class="stat" data-month="(\d{4}-\d{2})">', page.text)
    assert widget and widget.group(1) == str(ops.previous_month(lsite))
    # A platform administrator sees the site but not its billing: no menu item, no widget.
    with user_client(settings, ("platform_admin", None), email="platform@t.jp") as c:
        page = c.get("/s/test-site/")
        assert page.status_code == 200 and f'href="{B}"' not in page.text
        assert c.get(B).status_code == 403


def test_month_page_defaults_to_last_month_and_refuses_a_bad_month(lsite, client):
    page = client.get(B)
    assert page.status_code == 200
    assert f'value="{ops.previous_month(lsite)}"' in page.text
    no_inline_code(page.text)
    bad = client.get(B + "?month=2026-13")
    assert bad.status_code == 422 and 'id="month-error"' in bad.text


def test_run_the_month_from_the_page_and_again(lsite, client):
    r = client.post(B + "run/", data={"month": APRIL})
    assert r.status_code == 200
    assert re.search(r'data-count="created">5<', r.text)  # 4 households and a company
    assert len(invoices(lsite)) == 5
    for inv in invoices(lsite):
        assert f"invoices/{inv.id}/" in r.text
    # Again, with htmx: nothing new, the drafts unchanged, the page's main swapped in.
    again = client.post(B + "run/", data={"month": APRIL}, headers=HX)
    assert again.status_code == 200 and "<main" in again.text
    assert re.search(r'data-count="created">0<', again.text)
    assert re.search(r'data-count="unchanged">5<', again.text)
    assert len(invoices(lsite)) == 5
    bad = client.post(B + "run/", data={"month": "April"})
    assert bad.status_code == 422 and "month-error" in bad.text


def test_review_chosen_then_all_and_issue_the_month(lsite, client):
    run_month(lsite, APRIL)
    first, *rest = invoices(lsite)
    none = client.post(B + "review/", data={"month": APRIL, "scope": "selected"})
    assert none.status_code == 422 and "invoice-error" in none.text
    assert not invoices(lsite, status="reviewed")
    r = client.post(B + "review/", data={"month": APRIL, "scope": "selected",
                                         "invoice": [str(first.id)]})
    assert r.status_code == 200 and [i.id for i in invoices(lsite, status="reviewed")] == [
        first.id]
    client.post(B + "review/", data={"month": APRIL, "scope": "all"})
    assert len(invoices(lsite, status="reviewed")) == 5
    r = client.post(B + "issue/", data={"month": APRIL}, headers=HX)
    assert r.status_code == 200 and "000001" in r.text and "000005" in r.text
    assert sorted(i.number for i in invoices(lsite)) == [f"00000{n}" for n in range(1, 6)]
    # Issuing again issues nothing and says so.
    assert client.post(B + "issue/", data={"month": APRIL}).status_code == 200


def test_status_filter(lsite, client):
    run_month(lsite, APRIL)
    one = invoices(lsite)[0]
    ops.review_invoice(one)
    page = client.get(B + f"?month={APRIL}&status=reviewed")
    assert f"invoices/{one.id}/" in page.text
    assert all(f"invoices/{i.id}/" not in page.text for i in invoices(lsite)[1:])


# --- one invoice ----------------------------------------------------------------------


def test_invoice_page_shows_sections_lines_and_totals_per_rate(lsite, client):
    run_month(lsite, APRIL)
    inv = next(i for i in invoices(lsite) if i.total_non_taxable)
    page = client.get(B + f"invoices/{inv.id}/")
    assert page.status_code == 200
    no_inline_code(page.text)
    assert "<caption>" in page.text and "昼食" in page.text  # every household has lunches
    assert "E+" not in page.text and ">1,100<" in page.text  # a lesson's unit price
    for amount in (inv.total, inv.total_standard, inv.total_reduced, inv.total_non_taxable):
        assert f"{amount:,}" in page.text
    assert f"invoices/{inv.id}/print/" in page.text


def test_review_issue_and_reopen_one_invoice_plain_and_htmx(lsite, client):
    run_month(lsite, APRIL)
    inv = invoices(lsite)[0]
    url = B + f"invoices/{inv.id}/"
    r = client.post(url + "review/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith(url)
    r = client.post(url + "reopen/", headers=HX)
    assert r.status_code == 204 and r.headers["HX-Redirect"].startswith(url)
    assert Invoice.get_by_id(inv.id).status == "draft"
    refused = client.post(url + "issue/")  # a draft must be reviewed first
    assert refused.status_code == 422 and 'id="status-error"' in refused.text
    client.post(url + "review/")
    client.post(url + "issue/")
    assert Invoice.get_by_id(inv.id).number == "000001"
    assert client.post(url + "review/").status_code == 422  # issued: never changed


def test_adjustment_line_refused_then_added_and_removed(lsite, client):
    run_month(lsite, APRIL)
    inv = invoices(lsite)[0]
    url = B + f"invoices/{inv.id}/"
    lines_before = InvoiceLine.select().where(InvoiceLine.invoice == inv).count()
    bad = client.post(url + "lines/", data={"description": "", "amount": "たくさん",
                                            "tax": "standard"})
    assert bad.status_code == 422
    assert 'id="description-error"' in bad.text and 'id="amount-error"' in bad.text
    assert 'value="たくさん"' in bad.text  # what was typed is kept
    assert InvoiceLine.select().where(InvoiceLine.invoice == inv).count() == lines_before
    ok = client.post(url + "lines/", data={"description": "兄弟割引", "amount": "－５００",
                                           "tax": "standard"}, follow_redirects=False)
    assert ok.status_code == 303
    assert Invoice.get_by_id(inv.id).total == inv.total - 500
    line = InvoiceLine.get((InvoiceLine.invoice == inv) & (InvoiceLine.program == "billing"))
    assert "兄弟割引" in client.get(url).text
    client.post(url + "lines/remove/", data={"line_id": str(line.id)})
    assert Invoice.get_by_id(inv.id).total == inv.total
    # A programme's line is not removed by hand; another invoice's line is not found.
    other_line = InvoiceLine.select().where(InvoiceLine.invoice != inv).first()
    assert client.post(url + "lines/remove/", data={"line_id": str(other_line.id)}
                       ).status_code == 404
    assert client.post(url + "lines/remove/", data={"line_id": "x"}).status_code == 404


def test_full_and_partial_credit_notes(lsite, client):
    inv = issued(lsite)
    url = B + f"invoices/{inv.id}/"
    chosen = InvoiceLine.select().where((InvoiceLine.invoice == inv)
                                        & (InvoiceLine.amount > 0)).order_by(
        InvoiceLine.position).first()
    r = client.post(url + "credit-note/", data={"line": [str(chosen.id)], "reason": "欠席"},
                    follow_redirects=False)
    assert r.status_code == 303
    note = Invoice.get((Invoice.kind == "credit_note") & (Invoice.corrects == inv))
    assert r.headers["location"].startswith(B + f"invoices/{note.id}/")
    assert (note.total, note.reason, note.status) == (-chosen.amount, "欠席", "draft")
    # A line of another invoice is refused with the field named, nothing made.
    foreign = InvoiceLine.select().where(InvoiceLine.invoice != inv).first()
    bad = client.post(url + "credit-note/", data={"line": [str(foreign.id)]})
    assert bad.status_code == 422 and 'id="lines-error"' in bad.text
    assert Invoice.select().where(Invoice.kind == "credit_note").count() == 1
    # A full reversal of what is left is refused (one exists: lines must be named).
    assert client.post(url + "credit-note/", data={}).status_code == 422


def test_full_reversal_then_a_new_invoice_for_the_month(lsite, client):
    inv = issued(lsite)
    url = B + f"invoices/{inv.id}/"
    client.post(url + "credit-note/", data={"reason": "宛名の誤り"})
    note = Invoice.get(Invoice.corrects == inv)
    assert note.total == -inv.total
    client.post(B + f"invoices/{note.id}/review/")
    client.post(B + f"invoices/{note.id}/issue/")
    assert Invoice.get_by_id(note.id).number == "C000001"
    assert "replace/" in client.get(url).text
    r = client.post(url + "replace/", follow_redirects=False)
    new = Invoice.get((Invoice.revision == 1) & (Invoice.payer_key == inv.payer_key))
    assert r.headers["location"].startswith(B + f"invoices/{new.id}/")
    assert client.post(url + "replace/").status_code == 422  # once only


def test_print_page_is_the_a4_document_with_its_css_linked(lsite, client):
    client.post(B + "settings/", data={"issuer_name": "NPO法人みどり",
                                       "issuer_is_corporation": "on",
                                       "registration_number": "T7010705000725"})
    inv = issued(lsite)
    page = client.get(B + f"invoices/{inv.id}/print/")
    assert page.status_code == 200
    no_inline_code(page.text)
    assert f'href="{B}print.css"' in page.text and f'src="{B}print.js"' in page.text
    assert "T7010705000725" in page.text and inv.number in page.text and "様" in page.text
    assert "2026年5月1日" in page.text
    wareki = client.get(B + f"invoices/{inv.id}/print/?wareki=1")
    assert "令和8年5月1日" in wareki.text
    css = client.get(B + "print.css")
    assert css.status_code == 200 and "@page" in css.text and "A4" in css.text
    assert client.get(B + "print.js").headers["content-type"].startswith("text/javascript")


# --- payments -------------------------------------------------------------------------


def test_record_a_part_payment_and_see_the_balance(lsite, client):
    inv = issued(lsite)
    url = B + f"invoices/{inv.id}/"
    page = client.get(url)
    assert f'value="{inv.total}"' in page.text  # the open amount is offered
    bad = client.post(url + "payments/", data={"amount": "0", "method": "bitcoin",
                                               "received_on": "2026-05-20"})
    assert bad.status_code == 422
    assert 'id="amount-error"' in bad.text and 'id="method-error"' in bad.text
    assert Payment.select().count() == 0
    bad = client.post(url + "payments/", data={"amount": "100", "method": "cash",
                                               "received_on": "5月20日"})
    assert bad.status_code == 422 and 'id="received_on-error"' in bad.text
    r = client.post(url + "payments/", data={"amount": "１００", "method": "direct_debit",
                                             "received_on": "2026-05-20",
                                             "reference": "ｻﾄｳ"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url)
    assert re.search(r'id="open-amount">[^<]*' + f"{inv.total - 100:,}", page.text)
    payer = ops.payer_of_invoice(inv)
    balance_page = client.get(B + ("households" if payer.kind == "household" else
                                   "organisations") + f"/{payer.id}/")
    assert f"{inv.total - 100:,}" in balance_page.text
    assert inv.payer_name in client.get(B + "balances/").text
    assert f"{inv.total - 100:,}" in client.get(B + "overdue/").text  # due at the end of June
    listed = client.get(B + "payments/?month=2026-05")
    assert "ｻﾄｳ" in listed.text or "サトウ" in listed.text


def test_overdue_list(lsite, client):
    inv = issued(lsite)
    assert inv.due_date < dt.date.today()
    page = client.get(B + "overdue/")
    assert inv.number in page.text and f"{inv.total:,}" in page.text


def test_staff_record_payments_but_do_not_issue_viewers_only_look(lsite, settings):
    inv = issued(lsite)
    run_month(lsite, "2026-03")  # nothing in March: no drafts
    draft = invoices(lsite, status="draft")[0]
    url = B + f"invoices/{inv.id}/"
    pay = {"amount": "100", "method": "cash", "received_on": "2026-05-20"}
    with user_client(settings, ("staff", lsite), email="staff@t.jp") as c:
        assert c.get(url).status_code == 200
        assert c.post(url + "payments/", data=pay, follow_redirects=False).status_code == 303
        assert c.post(B + f"invoices/{draft.id}/review/").status_code == 403
        assert c.post(B + "issue/", data={"month": APRIL}).status_code == 403
        assert c.post(B + "run/", data={"month": APRIL}).status_code == 403
        assert c.get(B + "settings/").status_code == 403
        assert "record-payment" in c.get(url).text
        assert "make-credit-note" not in c.get(url).text
    with user_client(settings, ("viewer", lsite), email="viewer@t.jp") as c:
        assert c.get(url).status_code == 200 and c.get(B).status_code == 200
        assert "record-payment" not in c.get(url).text and "run-billing" not in c.get(B).text
        assert c.post(url + "payments/", data=pay).status_code == 403
        assert c.post(B + f"invoices/{draft.id}/review/").status_code == 403
        assert c.post(url + "credit-note/", data={}).status_code == 403
    assert Payment.select().count() == 1
    assert Invoice.get_by_id(draft.id).status == "draft"


def test_another_sites_records_are_not_found(lsite, client):
    other = make_site("other", municipality="other-town")
    hh = Household.create(site=other, name="他家", name_kana="タケ", kana_key="タケ")
    org = Organisation.create(municipality=other.municipality, name="他町の会社")
    foreign = Invoice.create(site=other, period=APRIL, payer_key=f"household:{hh.id}",
                             household=hh, payer_name="他家")
    for path in (f"invoices/{foreign.id}/", f"invoices/{foreign.id}/print/",
                 f"households/{hh.id}/", f"organisations/{org.id}/", "invoices/abc/",
                 "invoices/99999999999999999999/"):
        assert client.get(B + path).status_code == 404, path
    for path in ("review/", "issue/", "lines/", "credit-note/", "payments/", "delete/"):
        assert client.post(B + f"invoices/{foreign.id}/{path}", data={}).status_code == 404
    assert Invoice.get_by_id(foreign.id).status == "draft"
    # The other site itself does not exist for this user.
    assert client.get("/s/other/billing/").status_code == 404


def test_delete_a_draft(lsite, client):
    run_month(lsite, APRIL)
    inv = invoices(lsite)[0]
    r = client.post(B + f"invoices/{inv.id}/delete/", follow_redirects=False)
    assert r.status_code == 303 and "done=deleted" in r.headers["location"]
    assert Invoice.get_or_none(Invoice.id == inv.id) is None


# --- settings, organisations, exports ---------------------------------------------------


def test_settings_refuse_a_bad_registration_number_on_its_field(lsite, client):
    page = client.get(B + "settings/")
    assert page.status_code == 200
    no_inline_code(page.text)
    bad = client.post(B + "settings/", data={"issuer_name": "NPO法人みどり",
                                             "issuer_is_corporation": "on",
                                             "registration_number": "T7010705000724"})
    assert bad.status_code == 422
    error = re.search(r'id="registration_number-error"[^>]*>([^<]+)<', bad.text)
    assert error and error.group(1).strip()
    assert 'value="NPO法人みどり"' in bad.text
    assert BillingSettings.select().count() == 0
    bad = client.post(B + "settings/", data={"registration_number": "12345",
                                             "number_prefix": "請求/"})
    assert bad.status_code == 422
    assert "registration_number-error" in bad.text and "number_prefix-error" in bad.text
    ok = client.post(B + "settings/", data={
        "issuer_name": "NPO法人みどり", "registration_number": "Ｔ７０１０７０５０００７２５",
        "issuer_is_corporation": "on", "bank_account": "みどり銀行 普通 1234567",
        "due_rule": "days_after_issue", "due_days": "14", "number_prefix": "MS-"},
        follow_redirects=False)
    assert ok.status_code == 303
    s = ops.get_settings(lsite)
    assert (s.registration_number, s.due_rule, s.due_days, s.number_prefix) == (
        "T7010705000725", "days_after_issue", 14, "MS-")
    # Unticked, the box is not sent: the issuer is then not a corporation.
    client.post(B + "settings/", data={"registration_number": "T1234567890123"})
    assert ops.get_settings(lsite).issuer_is_corporation is False
    assert 'value="T1234567890123"' in client.get(B + "settings/").text


def test_organisations_list_and_create(lsite, client):
    page = client.get(B + "organisations/")
    assert "株式会社テスト0" in page.text  # the seed's company
    bad = client.post(B + "organisations/", data={"name": "", "kind": "bank"})
    assert bad.status_code == 422
    assert 'id="name-error"' in bad.text and 'id="kind-error"' in bad.text
    r = client.post(B + "organisations/", data={"name": "みどり野町役場", "kind": "municipality",
                                                "registration_number": ""},
                    follow_redirects=False)
    assert r.status_code == 303
    org = Organisation.get(Organisation.name == "みどり野町役場")
    assert org.municipality_id == lsite.municipality_id
    again = client.post(B + "organisations/", data={"name": "みどり野町役場"})
    assert again.status_code == 422 and "name-error" in again.text
    assert client.get(B + f"organisations/{org.id}/").status_code == 200


def _csv(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding))))


def test_csv_exports_stream_in_utf8_with_bom_or_shift_jis(lsite, client):
    inv = issued(lsite)
    ops.record_payment(lsite, ops.payer_of_invoice(inv), 300, "cash", dt.date(2026, 5, 2),
                       invoice=inv)
    r = client.get(B + f"export/invoices.csv?month={APRIL}")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = _csv(r.content, "utf-8-sig")
    assert rows[0][0] == "number" and len(rows) == 1 + len(invoices(lsite))
    sjis = client.get(B + f"export/invoices.csv?month={APRIL}&encoding=cp932")
    assert not sjis.content.startswith(b"\xef\xbb\xbf")
    assert _csv(sjis.content, "cp932") == rows
    pays = _csv(client.get(B + "export/payments.csv?month=2026-05").content, "utf-8-sig")
    assert pays[1][pays[0].index("amount")] == "300"
    # A character Shift_JIS lacks: refused before anything is sent, the cell named.
    Invoice.update(payer_name="𠮷田家").where(Invoice.id == inv.id).execute()
    bad = client.get(B + f"export/invoices.csv?month={APRIL}&encoding=cp932")
    assert bad.status_code == 422 and "payer_name" in bad.text and "𠮷" in bad.text
    assert client.get(B + f"export/invoices.csv?month={APRIL}&encoding=latin1"
                      ).status_code == 422


def test_refusals_answer_htmx_with_the_page_to_swap_in(lsite, client):
    inv = issued(lsite)
    r = client.post(B + f"invoices/{inv.id}/payments/", data={"amount": "x"}, headers=HX)
    assert r.status_code == 422 and "<main" in r.text and 'id="amount-error"' in r.text
    r = client.post(B + f"invoices/{inv.id}/payments/", headers=HX,
                    data={"amount": "50", "method": "cash", "received_on": "2026-05-03"})
    assert r.status_code == 204 and r.headers["HX-Redirect"].endswith("#payments")


def test_demo_billing_settings_are_valid_and_loaded_once(site):
    from hubcore.billing import demo
    from hubcore.billing.registration import registration_number_error

    site.slug = "midorino-school"  # the demo's settings are per site slug
    demo.load(site)
    demo.load(site)
    s = ops.get_settings(site)
    assert registration_number_error(s.registration_number) is None
    assert s.issuer_name and s.bank_account and s.number_prefix == "MS-"
    assert Organisation.select().where(Organisation.municipality == site.municipality_id
                                       ).count() == len(demo.ORGANISATIONS)
