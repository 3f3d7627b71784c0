"""HTTP for billing: parse, call operations, render.

Forms post plainly and answer with a redirect (an HX-Redirect for htmx) or, when
refused, the same page with the fields marked (422). The month's bulk actions answer
with the month page itself, showing what was done: each of them is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from hubcore import i18n
from hubcore.auth.guard import public, requires
from hubcore.billing import export, pages
from hubcore.billing import operations as ops
from hubcore.billing.lines import LineItem, Month
from hubcore.billing.models import DUE_RULES, STATUSES, Invoice
from hubcore.billing.printing import render_invoice
from hubcore.billing.run import run_month
from hubcore.billing.schemas import AdjustmentIn, BillingSettingsIn, OrganisationIn, PaymentIn
from hubcore.errors import Invalid, NotFound
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.i18n import ngettext
from hubcore.people import operations as people
from hubcore.web import read_form, redirect, render, site_url

HERE = Path(__file__).parent
PRINT_CSS = (HERE / "templates" / "billing" / "_print.css").read_text(encoding="utf-8")
PRINT_JS = (HERE / "assets" / "print.js").read_text(encoding="utf-8")

# ?done=… after a redirect: what the page says was done.
DONE: dict[str, Callable[[], str]] = {
    "reviewed": lambda: _("The invoice was marked reviewed."),
    "reopened": lambda: _("The invoice is a draft again; the next run brings it up to date."),
    "issued": lambda: _("The invoice was issued."),
    "deleted": lambda: _("The draft was deleted."),
    "line_added": lambda: _("The line was added."),
    "line_removed": lambda: _("The line was removed."),
    "credit_note": lambda: _("The credit note was made as a draft: review and issue it."),
    "replacement": lambda: _("A new draft invoice was made for this month."),
    "paid": lambda: _("The payment was recorded."),
    "saved": lambda: _("The settings were saved."),
    "organisation": lambda: _("The organisation was added."),
}


def _done(request: Request) -> str | None:
    make = DONE.get(request.query_params.get("done", ""))
    return make() if make else None


def _url(request: Request, *parts: object) -> str:
    return site_url(request.state.site, "billing", *[str(p) for p in parts])


def _with(url: str, **params: object) -> str:
    return url + "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def _labels() -> dict[str, Any]:
    """Label lookups every billing template uses."""
    return {
        "status_label": lambda s: _(ops.STATUS_LABELS.get(s, s)),
        "kind_label": lambda k: _(pages.KIND_LABELS.get(k, k)),
        "tax_label": lambda t: _(pages.TAX_LABELS.get(t, t)),
        "method_labels": ops.payment_method_labels(),
        "nav": "billing",
    }


def _page(request: Request, template: str, ctx: dict[str, Any], status_code: int = 200,
          headers: dict[str, str] | None = None) -> Response:
    return render(request, template, {**_labels(), "values": {}, "errors": {},
                                      "message": _done(request), **ctx},
                  status_code=status_code, headers=headers)


# --- the month ------------------------------------------------------------------------


def _month_page(request: Request, period: Month, status_code: int = 200,
                **extra: Any) -> Response:
    site = request.state.site
    return _page(request, "billing/month.html", {
        "overview": pages.month_overview(site, period, request.query_params.get("status")),
        "prev_month": pages.shift(period, -1), "next_month": pages.shift(period, 1),
        "statuses": STATUSES, "result": None, **extra}, status_code)


def _form_month(request: Request, form: dict[str, Any]) -> Month:
    return pages.parse_month(form.get("month"), ops.previous_month(request.state.site))


def _month_refused(request: Request, exc: Invalid, form: dict[str, Any]) -> Response:
    """The month page again with the refusal; the month shown is the default one."""
    period = ops.previous_month(request.state.site)
    return _month_page(request, period, 422, errors=exc.errors, values=form)


@requires("billing.view")
def month(request: Request) -> Response:
    query = dict(request.query_params)
    try:
        period = _form_month(request, query)
    except Invalid as exc:
        return _month_refused(request, exc, query)
    return _month_page(request, period)


@requires("billing.manage")
def month_run(request: Request) -> Response:
    form = read_form(request)
    try:
        period = _form_month(request, form)
    except Invalid as exc:
        return _month_refused(request, exc, form)
    try:
        result = run_month(request.state.site, period)
    except Invalid as exc:  # a program refused (no price for a day): drafts so far stay, rerun
        return _month_page(request, period, 422, values=form,
                           errors={"month": " ".join(exc.errors.values())})
    return _month_page(request, period, result=result)


@requires("billing.manage")
def month_review(request: Request) -> Response:
    form = read_form(request, lists=("invoice",))
    try:
        period = _form_month(request, form)
        if form.get("scope") == "all":
            n = ops.review_all(request.state.site, period)
        else:
            ids = _ids(form.get("invoice", []), "invoice")
            if not ids:
                raise Invalid({"invoice": _("Choose the drafts to mark reviewed, or mark all "
                                            "drafts of the month reviewed.")})
            n = ops.review_invoices(request.state.site, ids)
    except Invalid as exc:
        return _month_refused(request, exc, form)
    message = ngettext("{n} invoice was marked reviewed.", "{n} invoices were marked reviewed.",
                       n).format(n=n)
    return _month_page(request, period, message=message)


@requires("billing.manage")
def month_issue(request: Request) -> Response:
    form = read_form(request)
    try:
        period = _form_month(request, form)
    except Invalid as exc:
        return _month_refused(request, exc, form)
    issued = ops.issue_reviewed(request.state.site, period)
    if issued:
        message = ngettext("{n} invoice was issued: {first} to {last}.",
                           "{n} invoices were issued: {first} to {last}.", len(issued)).format(
            n=len(issued), first=issued[0].number, last=issued[-1].number)
    else:
        message = _("Nothing was issued: mark invoices reviewed first.")
    return _month_page(request, period, message=message)


def _ids(raw: list[str], name: str) -> list[int]:
    if not all(v.isascii() and v.isdigit() and len(v) < 19 for v in raw):
        raise Invalid({name: _("Choose from the list.")})
    return [int(v) for v in raw]


# --- one invoice ----------------------------------------------------------------------


def _invoice(request: Request) -> Invoice:
    return ops.get_invoice(request.state.site, request.path_params["invoice_id"])


def _invoice_page(request: Request, invoice: Invoice, status_code: int = 200,
                  **extra: Any) -> Response:
    site = request.state.site
    ctx = pages.invoice_context(site, invoice, i18n.current_language.get())
    # The forms' fields have distinct names, so one `values` serves them all: what was
    # typed into the refused form, the payment form's defaults for the others.
    defaults = {"amount": ctx["open_amount"] or "", "method": "bank_transfer",
                "received_on": ctx["today"].isoformat()}
    posted = extra.pop("values", {})
    values = posted if extra.get("form") == "payment" else {**defaults, **posted}
    return _page(request, "billing/invoice.html", {
        **ctx, "values": values,
        "invoice_url": _url(request, "invoices", invoice.id),
        "month_url": _with(_url(request), month=invoice.period), **extra}, status_code)


def _refused(request: Request, invoice: Invoice, exc: Invalid, form: dict[str, Any],
             which: str) -> Response:
    """The invoice page again, the refused form (``which``) keeping what was typed."""
    return _invoice_page(request, Invoice.get_by_id(invoice.id), 422, errors=exc.errors,
                         form=which, values=form)


@requires("billing.view")
def invoice_page(request: Request) -> Response:
    return _invoice_page(request, _invoice(request))


def _change(request: Request, change: Callable[[Invoice], object], done: str) -> Response:
    invoice = _invoice(request)
    try:
        change(invoice)
    except Invalid as exc:
        return _refused(request, invoice, exc, {}, "status")
    return redirect(_with(_url(request, "invoices", invoice.id), done=done), request)


@requires("billing.manage")
def invoice_review(request: Request) -> Response:
    return _change(request, ops.review_invoice, "reviewed")


@requires("billing.manage")
def invoice_reopen(request: Request) -> Response:
    return _change(request, ops.reopen_invoice, "reopened")


@requires("billing.manage")
def invoice_issue(request: Request) -> Response:
    return _change(request, ops.issue_invoice, "issued")


@requires("billing.manage")
def invoice_delete(request: Request) -> Response:
    invoice = _invoice(request)
    try:
        ops.delete_draft(invoice)
    except Invalid as exc:
        return _refused(request, invoice, exc, {}, "status")
    return redirect(_with(_url(request), month=invoice.period, done="deleted"), request)


@requires("billing.manage")
def invoice_add_line(request: Request) -> Response:
    invoice = _invoice(request)
    form = read_form(request)
    try:
        data = validate(AdjustmentIn, form)
        ops.add_manual_line(invoice, LineItem(program=ops.MANUAL, description=data.description,
                                              amount=data.amount, tax=data.tax))
    except Invalid as exc:
        return _refused(request, invoice, exc, form, "line")
    return redirect(_with(_url(request, "invoices", invoice.id), done="line_added"), request)


@requires("billing.manage")
def invoice_remove_line(request: Request) -> Response:
    invoice = _invoice(request)
    raw = read_form(request).get("line_id", "")
    try:
        if not raw:
            raise Invalid({"line_id": _("Choose a line to remove.")})
        if not (raw.isascii() and raw.isdigit() and len(raw) < 19):
            raise NotFound(raw)
        ops.remove_manual_line(invoice, int(raw))
    except Invalid as exc:
        return _refused(request, invoice, exc, {}, "status")
    return redirect(_with(_url(request, "invoices", invoice.id), done="line_removed"), request)


@requires("billing.manage")
def invoice_credit_note(request: Request) -> Response:
    invoice = _invoice(request)
    form = read_form(request, lists=("line",))
    try:
        note = ops.credit_note_for_lines(invoice, _ids(form.get("line", []), "lines"),
                                         reason=form.get("reason", "")[:2000])
    except Invalid as exc:
        return _refused(request, invoice, exc, form, "credit_note")
    return redirect(_with(_url(request, "invoices", note.id), done="credit_note"), request)


@requires("billing.manage")
def invoice_replace(request: Request) -> Response:
    invoice = _invoice(request)
    try:
        new = ops.create_replacement(invoice)
    except Invalid as exc:
        return _refused(request, invoice, exc, {}, "status")
    return redirect(_with(_url(request, "invoices", new.id), done="replacement"), request)


@requires("billing.payments")
def invoice_payment(request: Request) -> Response:
    invoice = _invoice(request)
    form = read_form(request)
    try:
        data = validate(PaymentIn, form)
        ops.record_payment(request.state.site, ops.payer_of_invoice(invoice), data.amount,
                           data.method, data.received_on, invoice=invoice,
                           reference=data.reference, note=data.note)
    except Invalid as exc:
        return _refused(request, invoice, exc, form, "payment")
    return redirect(_with(_url(request, "invoices", invoice.id), done="paid") + "#payments",
                    request)


@requires("billing.view")
def invoice_print(request: Request) -> Response:
    invoice = _invoice(request)
    html = render_invoice(invoice, i18n.current_language.get(),
                          wareki=request.query_params.get("wareki") == "1",
                          stylesheet=_url(request, "print.css").rstrip("/"),
                          script=_url(request, "print.js").rstrip("/"),
                          back_url=_url(request, "invoices", invoice.id))
    return HTMLResponse(html)


@public  # the print page's own look and button: nothing in them is private
def print_css(request: Request) -> Response:
    return Response(PRINT_CSS, media_type="text/css", headers={"Cache-Control": "max-age=300"})


@public
def print_js(request: Request) -> Response:
    return Response(PRINT_JS, media_type="text/javascript",
                    headers={"Cache-Control": "max-age=300"})


# --- payers, balances, payments -----------------------------------------------------------


@requires("billing.view")
def household_payer(request: Request) -> Response:
    site = request.state.site
    record = people.get_household(site, request.path_params["household_id"])
    return _page(request, "billing/payer.html", pages.payer_context(site, record))


@requires("billing.view")
def organisation_payer(request: Request) -> Response:
    site = request.state.site
    record = ops.get_organisation(site, request.path_params["organisation_id"])
    return _page(request, "billing/payer.html", pages.payer_context(site, record))


@requires("billing.view")
def balances(request: Request) -> Response:
    return _page(request, "billing/balances.html",
                 {"rows": pages.balance_rows(request.state.site)})


@requires("billing.view")
def overdue(request: Request) -> Response:
    site = request.state.site
    return _page(request, "billing/overdue.html",
                 {"rows": ops.overdue(site), "today": ops.site_today(site)})


@requires("billing.view")
def payments(request: Request) -> Response:
    site = request.state.site
    query = dict(request.query_params)
    try:
        period = _form_month(request, query)
    except Invalid as exc:
        return _page(request, "billing/payments.html", {
            "period": ops.previous_month(site), "rows": [], "values": query,
            "errors": exc.errors}, 422)
    rows = pages.payments_received(site, period)
    names = {p.payer.key: p.payer.name for p in ops.list_payers(site, {r.payer_key for r in rows})}
    return _page(request, "billing/payments.html", {
        "period": period, "rows": rows, "names": names,
        "prev_month": pages.shift(period, -1), "next_month": pages.shift(period, 1)})


# --- exports ------------------------------------------------------------------------------


def _export(request: Request, what: str) -> Response:
    site = request.state.site
    query = dict(request.query_params)
    encoding = query.get("encoding", "utf-8")
    try:
        period = _form_month(request, query)
        if encoding not in ("utf-8", "cp932"):
            raise Invalid({"encoding": _("Choose UTF-8 or Shift_JIS.")})
        if what == "invoices":
            header, rows = export.INVOICE_HEADER, export.invoice_rows(site, period)
        else:
            header = export.PAYMENT_HEADER
            rows = export.payment_rows(site, period.first_day, period.last_day)
        try:
            # Refused before the first byte: a broken half file would look like a whole one.
            export.check_encodable(header, rows, encoding)
        except export.ExportEncodingError as exc:
            raise Invalid({"encoding": str(exc)}) from None
    except Invalid as exc:
        return _month_refused(request, exc, query)
    charset = "Shift_JIS" if encoding == "cp932" else "utf-8"
    name = f"{what}-{site.slug}-{period}{'-sjis' if encoding == 'cp932' else ''}.csv"
    return StreamingResponse(export.iter_csv(header, rows, encoding),
                             media_type=f"text/csv; charset={charset}",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@requires("billing.view")
def export_invoices(request: Request) -> Response:
    return _export(request, "invoices")


@requires("billing.view")
def export_payments(request: Request) -> Response:
    return _export(request, "payments")


# --- settings and organisations -----------------------------------------------------------

SETTINGS_FIELDS = tuple(BillingSettingsIn.model_fields)


@requires("billing.manage")
def settings_page(request: Request) -> Response:
    site = request.state.site
    if request.method == "GET":
        current = ops.get_settings(site)
        values = {f: getattr(current, f) for f in SETTINGS_FIELDS}
        return _page(request, "billing/settings.html", {"values": values,
                                                        "due_rules": DUE_RULES})
    form = read_form(request)
    form.setdefault("issuer_is_corporation", False)  # an unticked box is not sent at all
    try:
        ops.update_settings(site, validate(BillingSettingsIn, form))
    except Invalid as exc:
        return _page(request, "billing/settings.html", {"values": form, "errors": exc.errors,
                                                        "due_rules": DUE_RULES}, 422)
    return redirect(_with(_url(request, "settings"), done="saved"), request)


def _organisations_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    site = request.state.site
    return _page(request, "billing/organisations.html", {
        "organisations": ops.list_organisations(site.municipality, include_inactive=True),
        "kind_labels": pages.ORGANISATION_KIND_LABELS, **extra}, status_code)


@requires("billing.view")
def organisations(request: Request) -> Response:
    return _organisations_page(request)


@requires("billing.manage")
def organisation_create(request: Request) -> Response:
    form = read_form(request)
    try:
        ops.create_organisation(request.state.site.municipality, validate(OrganisationIn, form))
    except Invalid as exc:
        return _organisations_page(request, 422, values=form, errors=exc.errors)
    return redirect(_with(_url(request, "organisations"), done="organisation"), request)


def routes() -> list[Route]:
    inv = "/invoices/{invoice_id}"
    return [
        Route("/", month, methods=["GET"], name="month"),
        Route("/run/", month_run, methods=["POST"], name="run"),
        Route("/review/", month_review, methods=["POST"], name="review"),
        Route("/issue/", month_issue, methods=["POST"], name="issue"),
        Route(f"{inv}/", invoice_page, methods=["GET"], name="invoice"),
        Route(f"{inv}/review/", invoice_review, methods=["POST"], name="invoice_review"),
        Route(f"{inv}/reopen/", invoice_reopen, methods=["POST"], name="invoice_reopen"),
        Route(f"{inv}/issue/", invoice_issue, methods=["POST"], name="invoice_issue"),
        Route(f"{inv}/delete/", invoice_delete, methods=["POST"], name="invoice_delete"),
        Route(f"{inv}/lines/", invoice_add_line, methods=["POST"], name="invoice_add_line"),
        Route(f"{inv}/lines/remove/", invoice_remove_line, methods=["POST"],
              name="invoice_remove_line"),
        Route(f"{inv}/credit-note/", invoice_credit_note, methods=["POST"],
              name="invoice_credit_note"),
        Route(f"{inv}/replace/", invoice_replace, methods=["POST"], name="invoice_replace"),
        Route(f"{inv}/payments/", invoice_payment, methods=["POST"], name="invoice_payment"),
        Route(f"{inv}/print/", invoice_print, methods=["GET"], name="invoice_print"),
        Route("/print.css", print_css, methods=["GET"], name="print_css"),
        Route("/print.js", print_js, methods=["GET"], name="print_js"),
        Route("/households/{household_id}/", household_payer, methods=["GET"],
              name="household"),
        Route("/organisations/{organisation_id}/", organisation_payer, methods=["GET"],
              name="organisation"),
        Route("/balances/", balances, methods=["GET"], name="balances"),
        Route("/overdue/", overdue, methods=["GET"], name="overdue"),
        Route("/payments/", payments, methods=["GET"], name="payments"),
        Route("/export/invoices.csv", export_invoices, methods=["GET"], name="export_invoices"),
        Route("/export/payments.csv", export_payments, methods=["GET"], name="export_payments"),
        Route("/settings/", settings_page, methods=["GET", "POST"], name="settings"),
        Route("/organisations/", organisations, methods=["GET"], name="organisations"),
        Route("/organisations/", organisation_create, methods=["POST"],
              name="organisation_create"),
    ]
