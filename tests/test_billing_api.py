"""Billing in the JSON API: invoices, payments, and their OpenAPI description."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from openapi_spec_validator import validate as validate_spec
from test_api import conforms
from testplugins import lessons

from hubcore.billing import operations as ops
from hubcore.billing.models import Invoice, Organisation, Payment
from hubcore.billing.run import run_month
from hubcore.migrations import migrate
from hubcore.people.models import Household
from hubcore.plugins import get_host
from hubcore.testing import api_token, hub_client, make_site, make_user, registered

API = "/api/v1/sites/test-site"
APRIL = "2026-04"


@pytest.fixture
def lsite(database):
    with registered(lessons):
        migrate(get_host())
        site = make_site(plugins=("lessons",))
        lessons.seed(site, households=4)
        run_month(site, APRIL)
        yield site


@pytest.fixture
def doc(client) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json()


def first_issued(site) -> Invoice:
    inv = Invoice.select().where(Invoice.site == site).order_by(Invoice.id).first()
    return ops.issue_invoice(ops.review_invoice(inv), on=dt.date(2026, 5, 1))


def test_the_document_describes_billing(doc):
    validate_spec(doc)
    paths = doc["paths"]
    assert set(paths["/api/v1/sites/{site}/invoices"]) == {"get"}
    assert set(paths["/api/v1/sites/{site}/invoices/{invoice_id}"]) == {"get"}
    assert set(paths["/api/v1/sites/{site}/payments"]) == {"post"}
    post = paths["/api/v1/sites/{site}/payments"]["post"]
    assert {"201", "400", "401", "403", "415", "422"} <= set(post["responses"])
    schemas = doc["components"]["schemas"]
    assert {"amount", "method", "received_on", "invoice_id", "household_id",
            "organisation_id"} <= set(schemas["PaymentCreateIn"]["properties"])
    assert {"lines", "totals", "outstanding"} <= set(schemas["InvoiceOut"]["properties"])
    params = {p["name"] for p in paths["/api/v1/sites/{site}/invoices"]["get"]["parameters"]}
    assert {"site", "month", "status"} <= params
    assert any(t["name"] == "billing" for t in doc["tags"])


def test_list_invoices_of_a_month_by_status(lsite, client, doc):
    body = conforms(doc, "listInvoices", client.get(f"{API}/invoices?month={APRIL}"))
    assert len(body) == 5 and {i["status"] for i in body} == {"draft"}
    first_issued(lsite)
    issued = conforms(doc, "listInvoices",
                      client.get(f"{API}/invoices?month={APRIL}&status=issued"))
    assert [i["number"] for i in issued] == ["000001"]
    # The month before this one by default: nothing billed there.
    assert conforms(doc, "listInvoices", client.get(f"{API}/invoices")) == []
    bad = client.get(f"{API}/invoices?month=2026-13&status=paid")
    body = conforms(doc, "listInvoices", bad)
    assert bad.status_code == 422 and set(body["fields"]) == {"month", "status"}


def test_get_an_invoice_with_lines_and_totals(lsite, client, doc):
    inv = first_issued(lsite)
    body = conforms(doc, "getInvoice", client.get(f"{API}/invoices/{inv.id}"))
    assert body["number"] == "000001" and body["total"] == inv.total
    assert sum(line["amount"] for line in body["lines"]) == inv.total
    assert {t["category"]: t["total"] for t in body["totals"]} == {
        "standard": inv.total_standard, "reduced": inv.total_reduced,
        "non_taxable": inv.total_non_taxable}
    assert body["outstanding"] == inv.total
    assert any(not line["printed"] for line in body["lines"])  # the free child lunch
    assert conforms(doc, "getInvoice", client.get(f"{API}/invoices/abc")).get(
        "error") == "not_found"


def test_record_payments_against_an_invoice_or_a_payer(lsite, client, doc):
    inv = first_issued(lsite)
    r = client.post(f"{API}/payments", json={"invoice_id": inv.id, "amount": 100,
                                             "method": "bank_transfer",
                                             "received_on": "2026-05-10",
                                             "reference": "ｻﾄｳ ﾀﾛｳ"})
    body = conforms(doc, "createPayment", r)
    assert r.status_code == 201 and body["amount"] == 100 and body["invoice_id"] == inv.id
    assert conforms(doc, "getPayment", client.get(r.headers["location"])) == body
    detail = client.get(f"{API}/invoices/{inv.id}").json()
    assert detail["outstanding"] == inv.total - 100
    org = Organisation.get(Organisation.name == "株式会社テスト0")
    r = client.post(f"{API}/payments", json={"organisation_id": org.id, "amount": 5000,
                                             "method": "cash", "received_on": "2026-05-11"})
    assert conforms(doc, "createPayment", r)["payer"] == {
        "kind": "organisation", "id": org.id, "name": org.name}
    assert Payment.select().count() == 2


def test_invalid_payments_name_their_fields_and_save_nothing(lsite, client, doc):
    inv = first_issued(lsite)
    draft = Invoice.select().where(Invoice.status == "draft").first()
    cases = [
        ({"amount": "many", "method": "cash", "received_on": "2026-05-10"}, {"amount"}),
        ({"invoice_id": inv.id, "amount": 0, "method": "bitcoin",
          "received_on": "2026-05-10"}, {"amount", "method"}),
        ({"invoice_id": draft.id, "amount": 10, "method": "cash", "received_on": "2026-05-10"},
         {"invoice_id"}),
        ({"amount": 10, "method": "cash", "received_on": "2026-05-10"}, {"household_id"}),
        ({"invoice_id": inv.id, "amount": 10, "method": "cash"}, {"received_on"}),
        ({"invoice_id": inv.id, "amount": 10, "method": "cash", "received_on": "2026-05-10",
          "tip": 5}, {"tip"}),
    ]
    for data, fields in cases:
        r = client.post(f"{API}/payments", json=data)
        body = conforms(doc, "createPayment", r)
        assert r.status_code == 422 and set(body["fields"]) == fields, (data, body)
    assert Payment.select().count() == 0


def test_another_sites_invoices_and_payers_are_not_found(lsite, client, doc):
    other = make_site("other", municipality="other-town")
    hh = Household.create(site=other, name="他家", name_kana="タケ", kana_key="タケ")
    foreign = Invoice.create(site=other, period=APRIL, payer_key=f"household:{hh.id}",
                             household=hh, payer_name="他家")
    assert conforms(doc, "getInvoice",
                    client.get(f"{API}/invoices/{foreign.id}"))["error"] == "not_found"
    r = client.post(f"{API}/payments", json={"invoice_id": foreign.id, "amount": 10,
                                             "method": "cash", "received_on": "2026-05-10"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"invoice_id"}
    r = client.post(f"{API}/payments", json={"household_id": hh.id, "amount": 10,
                                             "method": "cash", "received_on": "2026-05-10"})
    assert r.status_code == 422 and set(r.json()["fields"]) == {"household_id"}
    assert client.get(f"/api/v1/sites/other/invoices?month={APRIL}").status_code == 404
    assert Payment.select().count() == 0


def test_roles_and_read_only_tokens(lsite, settings, doc):
    from hubcore.app import create_app

    inv = first_issued(lsite)
    pay = {"invoice_id": inv.id, "amount": 10, "method": "cash", "received_on": "2026-05-10"}
    app = create_app(settings)
    make_user("viewer@t.jp", ("viewer", lsite))
    make_user("staff@t.jp", ("staff", lsite))
    with hub_client(app, token=api_token("viewer@t.jp")) as c:
        assert c.get(f"{API}/invoices/{inv.id}").status_code == 200
        r = c.post(f"{API}/payments", json=pay)
        assert conforms(doc, "createPayment", r)["error"] == "forbidden"
    with hub_client(app, token=api_token("staff@t.jp", read_only=True)) as c:
        assert c.post(f"{API}/payments", json=pay).status_code == 403
    with hub_client(app, token=api_token("staff@t.jp")) as c:
        assert c.post(f"{API}/payments", json=pay).status_code == 201
    assert Payment.select().count() == 1
