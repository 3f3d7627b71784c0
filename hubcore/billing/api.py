"""Billing in the JSON API: invoices to read, payments to record.

``billing_operations()`` is added to hubcore.api.routes.OPERATIONS, so the routes and
the OpenAPI document both come from it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from hubcore.api.http import ApiCall, Operation
from hubcore.billing import operations as ops
from hubcore.billing.lines import Month, Payer
from hubcore.billing.models import Invoice, Payment
from hubcore.billing.schemas import PaymentIn
from hubcore.db import MAX_ID, get_in_site
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import N_
from hubcore.i18n import gettext as _

# --- models ---------------------------------------------------------------------------


class InvoiceQuery(BaseModel):
    month: str | None = Field(None, title=N_("Month"),
                              description="YYYY-MM; the month before the current one if "
                                          "not given")
    status: Literal["draft", "reviewed", "issued"] | None = Field(None, title=N_("Status"))

    @field_validator("month")
    @classmethod
    def _month(cls, v):
        if v is None:
            return v
        try:
            return str(Month.parse(v))
        except ValueError:
            raise ValueError(_("Month must be a month such as 2026-04.")) from None


class PayerOut(BaseModel):
    kind: Literal["household", "organisation"]
    id: int
    name: str


class InvoiceSummaryOut(BaseModel):
    id: int
    kind: Literal["invoice", "credit_note"]
    status: Literal["draft", "reviewed", "issued"]
    number: str | None = Field(description="Given when issued")
    period: str = Field(description="The billed month, YYYY-MM")
    revision: int = Field(description="0, or how many times the month was re-invoiced after "
                                      "a full reversal")
    payer: PayerOut
    total: int = Field(description="Yen, tax included")
    issue_date: dt.date | None
    due_date: dt.date | None
    corrects_id: int | None = Field(description="A credit note: the invoice it corrects")
    url: str


class InvoiceLineOut(BaseModel):
    position: int
    program: str = Field(description="The plugin that billed it; 'billing' for lines added "
                                     "by hand")
    description: str
    day: dt.date | None
    period_from: dt.date | None
    period_to: dt.date | None
    quantity: Decimal
    unit_price: Decimal | None
    amount: int = Field(description="Yen, tax included")
    tax_category: Literal["standard", "reduced", "non_taxable"]
    printed: bool = Field(description="False for a zero-yen line left off the printed "
                                      "invoice")


class RateTotalOut(BaseModel):
    category: Literal["standard", "reduced", "non_taxable"]
    rate: int = Field(description="Percent")
    total: int = Field(description="Yen, tax included")
    tax: int = Field(description="The consumption tax in the total, rounded down once")


class InvoiceOut(InvoiceSummaryOut):
    payer_address: str
    reason: str = Field(description="A credit note: why it was made")
    lines: list[InvoiceLineOut]
    totals: list[RateTotalOut]
    outstanding: int | None = Field(description="An issued invoice: what is still to pay")
    credit_note_ids: list[int]


class PaymentCreateIn(PaymentIn):
    """A payment against an issued invoice (``invoice_id``), or to a payer's account
    (exactly one of ``household_id`` and ``organisation_id``)."""

    invoice_id: int | None = Field(None, title=N_("Invoice"), ge=1, le=MAX_ID)
    household_id: int | None = Field(None, title=N_("Household"), ge=1, le=MAX_ID)
    organisation_id: int | None = Field(None, title=N_("Organisation"), ge=1, le=MAX_ID)


class PaymentOut(BaseModel):
    id: int
    payer: PayerOut
    invoice_id: int | None
    method: str
    amount: int
    received_on: dt.date
    reference: str
    note: str


# --- handlers ---------------------------------------------------------------------------


def _payer_out(key: str, name: str) -> PayerOut:
    p = Payer.from_key(key)
    return PayerOut(kind=p.kind, id=p.id, name=name)


def _summary(call: ApiCall, inv: Invoice) -> dict:
    return {"id": inv.id, "kind": inv.kind, "status": inv.status, "number": inv.number,
            "period": inv.period, "revision": inv.revision,
            "payer": _payer_out(inv.payer_key, inv.payer_name), "total": inv.total,
            "issue_date": inv.issue_date, "due_date": inv.due_date,
            "corrects_id": inv.corrects_id,
            "url": call.url("sites", call.site_slug, "invoices", inv.id)}


def invoice_list(call: ApiCall) -> list[InvoiceSummaryOut]:
    period = call.query.month or str(ops.previous_month(call.site))
    found = ops.list_invoices(call.site, period, status=call.query.status)
    return [InvoiceSummaryOut(**_summary(call, i)) for i in found]


def invoice_detail(call: ApiCall) -> InvoiceOut:
    inv = ops.get_invoice(call.site, call.path_id("invoice_id"))
    outstanding = None
    if inv.kind == "invoice" and inv.status == "issued":
        outstanding = ops.outstanding(call.site, inv.payer_key).get(inv.id, 0)
    rows = ops.invoice_line_rows(inv)
    notes = [i for (i,) in Invoice.select(Invoice.id).where(Invoice.corrects == inv)
             .order_by(Invoice.id).tuples()]
    return InvoiceOut(
        **_summary(call, inv), payer_address=inv.payer_address, reason=inv.reason,
        lines=[InvoiceLineOut(
            position=r.position, program=r.program, description=r.description, day=r.day,
            period_from=r.period_from, period_to=r.period_to, quantity=ops._norm(r.quantity),
            unit_price=ops._norm(r.unit_price), amount=r.amount, tax_category=r.tax_category,
            printed=not (r.hide_if_zero and r.amount == 0)) for r in rows],
        totals=[RateTotalOut(category=r.category.value, rate=r.rate, total=r.total, tax=r.tax)
                for r in ops.invoice_totals(inv).by_rate],
        outstanding=outstanding, credit_note_ids=notes)


def _payment_out(p: Payment, name: str) -> PaymentOut:
    return PaymentOut(id=p.id, payer=_payer_out(p.payer_key, name), invoice_id=p.invoice_id,
                      method=p.method, amount=p.amount, received_on=p.received_on,
                      reference=p.reference, note=p.note)


def _payer_name(call: ApiCall, key: str) -> str:
    return next((i.payer.name for i in ops.list_payers(call.site, [key])
                 if i.payer.key == key), "")


def payment_create(call: ApiCall) -> PaymentOut:
    from hubcore.forms import validate

    data = validate(PaymentCreateIn, call.body)
    invoice = None
    named = [p for p in (("household", data.household_id),
                         ("organisation", data.organisation_id)) if p[1] is not None]
    if data.invoice_id is not None:
        try:
            invoice = ops.get_invoice(call.site, data.invoice_id)
        except NotFound:
            raise Invalid({"invoice_id": _("No such invoice at this site.")}) from None
        payer = ops.payer_of_invoice(invoice)
        if named and Payer(*named[0]) != payer or len(named) > 1:
            raise Invalid({"invoice_id": _("The payer named is not the invoice's payer.")})
    elif len(named) == 1:
        payer = Payer(*named[0])
    else:
        raise Invalid({"household_id": _("Name the invoice, or exactly one household or "
                                         "organisation.")})
    try:
        payment = ops.record_payment(call.site, payer, data.amount, data.method,
                                     data.received_on, invoice=invoice,
                                     reference=data.reference, note=data.note)
    except Invalid as exc:
        # The operation names the payer and the invoice; the body calls them by their ids.
        where = {"payer": f"{payer.kind}_id", "invoice": "invoice_id"}
        raise Invalid({where.get(k, k): v for k, v in exc.errors.items()}) from None
    call.headers["Location"] = call.url("sites", call.site_slug, "payments", payment.id)
    return _payment_out(payment, _payer_name(call, payer.key))


def payment_detail(call: ApiCall) -> PaymentOut:
    p = get_in_site(Payment, call.site, call.path_id("payment_id"))
    return _payment_out(p, _payer_name(call, p.payer_key))


# --- the operations ---------------------------------------------------------------------


def billing_operations() -> list[Operation]:
    s = "/sites/{site}"
    return [
        Operation("GET", f"{s}/invoices", invoice_list, "listInvoices",
                  "List a month's invoices and credit notes", "billing", InvoiceSummaryOut,
                  many=True, query=InvoiceQuery, action="billing.view"),
        Operation("GET", f"{s}/invoices/{{invoice_id}}", invoice_detail, "getInvoice",
                  "Get an invoice or credit note with its lines and totals per tax rate",
                  "billing", InvoiceOut, action="billing.view"),
        Operation("POST", f"{s}/payments", payment_create, "createPayment",
                  "Record a payment (a part payment is fine; a negative amount is a refund)",
                  "billing", PaymentOut, status=201, body=PaymentCreateIn,
                  description="Against an issued invoice (invoice_id), or to a payer's "
                              "account (household_id or organisation_id).",
                  action="billing.payments"),
        Operation("GET", f"{s}/payments/{{payment_id}}", payment_detail, "getPayment",
                  "Get a payment", "billing", PaymentOut, action="billing.view"),
    ]
