"""The printable invoice (適格請求書) as an HTML string, for printing or a PDF tool.

What a qualified invoice must show, and where it comes from here: the issuer's
name and registration number (the snapshot taken at issue), the payer, the dates
of the lines, what was supplied with reduced-rate lines marked (※), and per rate
the tax-included total, the rate and the tax. Hidden zero-yen lines are left out.
"""

from __future__ import annotations

from typing import Any

from hubcore import i18n
from hubcore.billing import operations as ops
from hubcore.billing.lines import TaxCategory
from hubcore.billing.models import Invoice
from hubcore.sites.models import Site


def yen(amount: int) -> str:
    if i18n.current_language.get() == "ja":
        return f"{amount:,}円"
    return f"¥{amount:,}"


def number(value) -> str:
    """A quantity or unit price with thousands separators (1,100; 10.45)."""
    return "" if value is None else f"{value:,}"


def invoice_context(invoice: Invoice, lang: str = "ja", wareki: bool = False) -> dict[str, Any]:
    site = Site.get_by_id(invoice.site_id)
    lines = ops.printable_lines(invoice)
    corrects = Invoice.get_by_id(invoice.corrects_id) if invoice.corrects_id else None
    return {
        "invoice": invoice,
        "site": site,
        "issuer": ops.issuer_details(invoice),
        "sections": ops.sections(lines, lang),
        "rates": [r for r in ops.invoice_totals(invoice).by_rate if r.total],
        "corrects": corrects,
        "has_reduced": any(li.tax == TaxCategory.REDUCED for li in lines),
        "REDUCED": TaxCategory.REDUCED,
        "NON_TAXABLE": TaxCategory.NON_TAXABLE,
        "yen": yen,
        "number": number,
        "use_wareki": wareki,  # dates in 和暦 (令和8年…) instead of 2026年…
    }


def render_invoice(invoice: Invoice, lang: str = "ja", wareki: bool = False,
                   stylesheet: str | None = None, script: str | None = None,
                   back_url: str | None = None) -> str:
    """The whole printable document: HTML with its print CSS inline (for a PDF tool),
    or linking ``stylesheet`` instead, as a browser page must (the Content-Security-
    Policy refuses inline styles). ``back_url`` adds a screen-only bar with a link back
    and a print button (``script`` makes it work); the bar is not printed."""
    from hubcore.web import environment

    token = i18n.current_language.set(lang)
    try:
        site = Site.get_by_id(invoice.site_id)
        env = environment(site.theme)
        return env.get_template("billing/invoice_print.html").render(
            {"lang": lang, "stylesheet": stylesheet, "script": script, "back_url": back_url,
             **invoice_context(invoice, lang, wareki)})
    finally:
        i18n.current_language.reset(token)
