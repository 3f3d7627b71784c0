"""What the billing pages show, gathered by plain functions (no HTTP here)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import peewee

from hubcore import i18n
from hubcore.billing import operations as ops
from hubcore.billing.lines import Month, Payer
from hubcore.billing.models import STATUSES, Invoice, InvoiceLine, Organisation, Payment
from hubcore.errors import Invalid
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Household
from hubcore.sites.models import Site
from hubcore.web import site_url

TAX_LABELS = {"standard": N_("10% (standard rate)"), "reduced": N_("8% (reduced rate)"),
              "non_taxable": N_("Non-taxable")}
KIND_LABELS = {"invoice": N_("Invoice"), "credit_note": N_("Credit note")}
ORGANISATION_KIND_LABELS = {"company": N_("Company"), "insurer": N_("Insurer"),
                            "municipality": N_("Municipality"), "other": N_("Other")}


def parse_month(text: str | None, default: Month) -> Month:
    """``YYYY-MM`` from a form or query, ``default`` when empty, else Invalid on "month"."""
    if not text:
        return default
    try:
        return Month.parse(text)
    except ValueError:
        raise Invalid({"month": _("Month must be a month such as 2026-04.")}) from None


def month_label(period: Month | str) -> str:
    """2026年4月 in Japanese, 2026-04 otherwise."""
    m = Month.parse(period) if isinstance(period, str) else period
    if i18n.current_language.get() == "ja":
        return f"{m.year}年{m.month}月"
    return str(m)


def shift(period: Month, months: int) -> Month:
    n = period.year * 12 + period.month - 1 + months
    return Month(n // 12, n % 12 + 1)


# --- the month ------------------------------------------------------------------------


@dataclass
class MonthOverview:
    period: Month
    status: str | None
    invoices: list[Invoice]  # of the month, filtered by status
    counts: dict[str, int]  # per status, the whole month (invoices and credit notes)
    amounts: dict[str, int]  # per status, the sum of totals
    open: dict[int, int] = field(default_factory=dict)  # still to pay per issued invoice


def month_overview(site: Site, period: Month, status: str | None = None) -> MonthOverview:
    status = status if status in STATUSES else None
    counts = dict.fromkeys(STATUSES, 0)
    amounts = dict.fromkeys(STATUSES, 0)
    for st, n, total in (Invoice.select(Invoice.status, peewee.fn.COUNT(Invoice.id),
                                        peewee.fn.SUM(Invoice.total))
                         .where((Invoice.site == site) & (Invoice.period == str(period)))
                         .group_by(Invoice.status).tuples()):
        counts[st], amounts[st] = n, int(total or 0)
    q = Invoice.select().where((Invoice.site == site) & (Invoice.period == str(period)))
    if status:
        q = q.where(Invoice.status == status)
    # Invoices first, in the run's order (the payers' 五十音 order); credit notes after.
    invoices = list(q.order_by(Invoice.kind.desc(), Invoice.id))
    open_ = {}
    if counts["issued"]:
        left = ops.outstanding(site)
        open_ = {i.id: left[i.id] for i in invoices if i.id in left}
    return MonthOverview(period, status, invoices, counts, amounts, open_)


# --- one invoice ----------------------------------------------------------------------


@dataclass(frozen=True)
class LineSection:
    label: str
    rows: list[InvoiceLine]
    subtotal: int


def line_sections(invoice: Invoice, lang: str) -> list[LineSection]:
    """The invoice's stored lines (hidden zero-yen ones too) per program, in order."""
    grouped: dict[str, list[InvoiceLine]] = {}
    for row in ops.invoice_line_rows(invoice):
        grouped.setdefault(row.program, []).append(row)
    return [LineSection(ops.program_label(program, lang), rows, sum(r.amount for r in rows))
            for program, rows in grouped.items()]


def payer_url(site: Site, payer_key: str) -> str:
    payer = Payer.from_key(payer_key)
    kind = "households" if payer.kind == "household" else "organisations"
    return site_url(site, "billing", kind, payer.id)


def invoice_context(site: Site, invoice: Invoice, lang: str) -> dict[str, Any]:
    """Everything the invoice page shows about ``invoice``."""
    corrects = Invoice.get_by_id(invoice.corrects_id) if invoice.corrects_id else None
    notes = list(Invoice.select().where(Invoice.corrects == invoice).order_by(Invoice.id))
    issued_invoice = invoice.kind == "invoice" and invoice.status == "issued"
    open_amount = None
    replaceable = False
    if issued_invoice:
        open_amount = ops.outstanding(site, invoice.payer_key).get(invoice.id, 0)
        reversed_in_full = not any(r.total for r in ops.net_of(invoice).by_rate)
        newer = Invoice.select().where(
            (Invoice.site == site) & (Invoice.kind == "invoice")
            & (Invoice.payer_key == invoice.payer_key) & (Invoice.period == invoice.period)
            & (Invoice.revision > invoice.revision)).exists()
        replaceable = reversed_in_full and not newer
    return {
        "invoice": invoice,
        "sections": line_sections(invoice, lang),
        "rates": [r for r in ops.invoice_totals(invoice).by_rate if r.total],
        "corrects": corrects,
        "credit_notes": notes,
        "payments": ops.invoice_payments(invoice),
        "open_amount": open_amount,
        "replaceable": replaceable,
        "payer_url": payer_url(site, invoice.payer_key),
        "today": ops.site_today(site),
    }


# --- payers ---------------------------------------------------------------------------


def payer_context(site: Site, record: Household | Organisation) -> dict[str, Any]:
    payer = ops.payer_of(record)
    invoices = ops.payer_invoices(site, payer)
    return {
        "payer": payer,
        "record": record,
        "invoices": invoices,
        "open": ops.outstanding(site, payer.key),
        "payments": ops.payer_payments(site, payer),
        "balance": ops.balance(site, payer),
        "invoice_numbers": {i.id: i.number for i in invoices},
    }


@dataclass(frozen=True)
class BalanceRow:
    payer: Payer
    url: str
    balance: int


def balance_rows(site: Site) -> list[BalanceRow]:
    """Payers who owe something or paid in advance, largest debt first."""
    amounts = {k: v for k, v in ops.balances(site).items() if v}
    names = {p.payer.key: p.payer for p in ops.list_payers(site, amounts)}
    rows = [BalanceRow(names.get(k, Payer.from_key(k, k)), payer_url(site, k), v)
            for k, v in amounts.items()]
    rows.sort(key=lambda r: (-r.balance, r.payer.name))
    return rows


def payments_received(site: Site, period: Month) -> list[Payment]:
    return ops.list_payments(site, period.first_day, period.last_day)


# --- the dashboard --------------------------------------------------------------------


@dataclass(frozen=True)
class Glance:
    period: Month
    drafts: int
    reviewed: int
    overdue: int


def glance(site: Site, today: dt.date | None = None) -> Glance:
    """The dashboard's figures: drafts and reviewed invoices of the month billed by default
    (the previous one), and invoices overdue."""
    period = ops.previous_month(site)
    counts = dict(Invoice.select(Invoice.status, peewee.fn.COUNT(Invoice.id)).where(
        (Invoice.site == site) & (Invoice.period == str(period))
        & (Invoice.status != "issued")).group_by(Invoice.status).tuples())
    return Glance(period, counts.get("draft", 0), counts.get("reviewed", 0),
                  len(ops.overdue(site, today)))
