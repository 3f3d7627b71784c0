"""HTTP for childcare settings and relief: parse, call operations, render.

/settings/              settings, prices, care rooms, staff roster (childcare.manage)
/relief/                households' relief brackets and the month's statement
                        (childcare.relief: sensitive, every showing logged)
/relief/statement.csv   the statement for the municipality (logged the same way)
/relief/amounts/        the municipality's amounts per bracket (childcare.ratios)

A refused form answers 422 with the page and the form's messages; nothing is saved.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.audit.operations import sensitive_read
from hubcore.auth import requires
from hubcore.billing import Month
from hubcore.billing.operations import previous_month, site_today
from hubcore.errors import Invalid
from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Household
from hubcore.web import read_form, redirect, render, site_url, writes_on_read
from plugins.childcare import relief
from plugins.childcare import settings as ops

DONE = {
    "settings": N_("Settings saved."),
    "price": N_("Price added."),
    "room": N_("Room saved."),
    "staff": N_("Staff saved."),
    "bracket": N_("Bracket saved."),
    "ended": N_("Bracket ended."),
    "amounts": N_("Amounts saved."),
}


def _url(request: Request, *parts: str) -> str:
    return site_url(request.state.site, "childcare", *parts)


def _done(request: Request) -> str | None:
    key = request.query_params.get("done", "")
    return _(DONE[key]) if key in DONE else None


# --- settings ------------------------------------------------------------------------


def _settings_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    site = request.state.site
    current = ops.get_settings(site)
    ctx = {
        "nav": "childcare", "message": _done(request),
        "values": ops.settings_values(current), "errors": {},
        "payers": ops.relief_payers(site), "shape_labels": ops.SHAPE_LABELS,
        "relief_mode_labels": ops.RELIEF_MODE_LABELS,
        "tax_labels": {k: _(v) for k, v in ops.TAX_LABELS.items()},
        "prices": ops.price_table(site), "codes": ops.PRICE_CODES,
        "rooms": ops.care_rooms(site), "staff": ops.list_staff(site),
        "today": site_today(site),
        "price_values": {}, "price_errors": {}, "room_errors": {}, "room_id": None,
        "room_value": "", "staff_values": {}, "staff_errors": {}, "edit_errors": {},
        "edit_id": None, "edit_values": {},
        **extra,
    }
    return render(request, "childcare/settings.html", ctx, status_code=status_code)


@requires("childcare.manage")
def settings_page(request: Request) -> Response:
    return _settings_page(request)


def _saved(request: Request, done: str) -> Response:
    return redirect(_url(request, "settings") + f"?done={done}", request)


@requires("childcare.manage")
def settings_save(request: Request) -> Response:
    form = read_form(request)
    try:
        ops.update_settings(request.state.site, form)
    except Invalid as exc:
        return _settings_page(request, 422, values=form, errors=exc.errors)
    return _saved(request, "settings")


@requires("childcare.manage")
def price_add(request: Request) -> Response:
    form = read_form(request)
    try:
        ops.add_childcare_price(request.state.site, form)
    except Invalid as exc:
        return _settings_page(request, 422, price_values=form, price_errors=exc.errors)
    return _saved(request, "price")


@requires("childcare.manage")
def room_save(request: Request) -> Response:
    form = read_form(request)
    try:
        ops.set_room_capacity(request.state.site, form)
    except Invalid as exc:
        return _settings_page(request, 422, room_errors=exc.errors,
                              room_id=form.get("room_id"), room_value=form.get("capacity", ""))
    return _saved(request, "room")


@requires("childcare.manage")
def staff_add(request: Request) -> Response:
    form = read_form(request)
    try:
        ops.add_staff(request.state.site, form)
    except Invalid as exc:
        return _settings_page(request, 422, staff_values=form, staff_errors=exc.errors)
    return _saved(request, "staff")


@requires("childcare.manage")
def staff_edit(request: Request) -> Response:
    form = read_form(request)
    staff_id = form.pop("staff_id", None)
    try:
        ops.update_staff(request.state.site, staff_id, form)
    except Invalid as exc:
        return _settings_page(request, 422, edit_errors=exc.errors, edit_id=str(staff_id),
                              edit_values=form)
    return _saved(request, "staff")


# --- relief --------------------------------------------------------------------------


def _month(raw: str | None, default: Month) -> Month:
    if not raw:
        return default
    try:
        return Month.parse(nfkc(raw))
    except ValueError:
        raise Invalid({"month": _("Enter a month as YYYY-MM.")}) from None


def _relief_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    site = request.state.site
    default = previous_month(site)
    errors: dict[str, str] = dict(extra.pop("errors", {}))
    try:
        period = _month(request.query_params.get("month"), default)
    except Invalid as exc:
        errors.update(exc.errors)
        period, status_code = default, 422
    today = site_today(site)
    households = relief.household_brackets(site)
    try:
        statement = relief.relief_statement(site, period)
    except Invalid as exc:  # a price missing for a day of the month: say which
        statement, status_code = [], 422
        errors.update(exc.errors)
    # 要配慮個人情報: one log entry per household whose bracket this page shows.
    for hid in sorted({h.household.id for h in households} | {r.household_id
                                                                for r in statement}):
        sensitive_read(site, f"household:{hid}", "childcare relief bracket")
    ctx = {
        "nav": "childcare", "message": _done(request), "today": today,
        "settings": ops.get_settings(site), "households": households,
        "all_households": list(Household.select(Household.id, Household.name)
                               .where(Household.site == site)
                               .order_by(Household.kana_key, Household.id)),
        "codes": relief.BRACKET_CODES, "labels": relief.LABELS,
        "in_force": relief.brackets_on(site.municipality_id, today),
        "bracket_label": relief.bracket_label,
        "period": period, "prev_month": _shift(period, -1), "next_month": _shift(period, 1),
        "statement": statement, "statement_total": sum(r.amount for r in statement),
        "values": {}, "errors": errors, "end_errors": {}, "end_id": None, "end_value": "",
        **extra,
    }
    return render(request, "childcare/relief.html", ctx, status_code=status_code)


def _shift(period: Month, months: int) -> Month:
    n = period.year * 12 + period.month - 1 + months
    return Month(n // 12, n % 12 + 1)


@requires("childcare.relief")
@writes_on_read  # each household's bracket shown is a logged sensitive read
def relief_page(request: Request) -> Response:
    return _relief_page(request)


@requires("childcare.relief")
def relief_set(request: Request) -> Response:
    form = read_form(request)
    try:
        relief.set_household_relief(request.state.site, form)
    except Invalid as exc:
        return _relief_page(request, 422, values=form, errors=exc.errors)
    return redirect(_url(request, "relief") + "?done=bracket", request)


@requires("childcare.relief")
def relief_end(request: Request) -> Response:
    form = read_form(request)
    try:
        relief.end_household_relief(request.state.site, form)
    except Invalid as exc:
        return _relief_page(request, 422, end_errors=exc.errors, end_id=form.get("relief_id"),
                            end_value=form.get("last_day", ""))
    return redirect(_url(request, "relief") + "?done=ended", request)


@requires("childcare.relief")
@writes_on_read
def relief_csv(request: Request) -> Response:
    site = request.state.site
    try:
        period = _month(request.query_params.get("month"), previous_month(site))
    except Invalid as exc:
        return _relief_page(request, 422, errors=exc.errors)
    try:
        rows = relief.relief_statement(site, period)
    except Invalid as exc:
        return _relief_page(request, 422, errors=exc.errors)
    for hid in sorted({r.household_id for r in rows}):
        sensitive_read(site, f"household:{hid}", "childcare relief statement export")
    name = f"childcare-relief-{site.slug}-{period}.csv"
    return Response(relief.statement_csv(site, period, rows),
                    media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- the municipality's amounts ---------------------------------------------------------


def _amounts_page(request: Request, status_code: int = 200, **extra: Any) -> Response:
    site = request.state.site
    today = site_today(site)
    in_force = relief.brackets_on(site.municipality_id, today)
    ctx = {
        "nav": "childcare", "message": _done(request), "today": today, "in_force": in_force,
        "sets": relief.bracket_sets(site.municipality_id), "codes": relief.BRACKET_CODES,
        "labels": relief.LABELS, "bracket_label": relief.bracket_label,
        "values": {c: b.amount for c, b in in_force.brackets.items()}, "errors": {}, **extra,
    }
    return render(request, "childcare/relief_amounts.html", ctx, status_code=status_code)


@requires("childcare.ratios")
def amounts_page(request: Request) -> Response:
    return _amounts_page(request)


@requires("childcare.ratios")
def amounts_save(request: Request) -> Response:
    form = read_form(request)
    try:
        relief.set_brackets(request.state.site.municipality, form)
    except Invalid as exc:
        return _amounts_page(request, 422, values=form, errors=exc.errors)
    return redirect(_url(request, "relief", "amounts") + "?done=amounts", request)


def routes() -> list[Route]:
    return [
        Route("/settings/", settings_page, methods=["GET"], name="settings"),
        Route("/settings/", settings_save, methods=["POST"], name="settings_save"),
        Route("/settings/prices/", price_add, methods=["POST"], name="price_add"),
        Route("/settings/rooms/", room_save, methods=["POST"], name="room_save"),
        Route("/settings/staff/", staff_add, methods=["POST"], name="staff_add"),
        Route("/settings/staff/edit/", staff_edit, methods=["POST"], name="staff_edit"),
        Route("/relief/", relief_page, methods=["GET"], name="relief"),
        Route("/relief/", relief_set, methods=["POST"], name="relief_set"),
        Route("/relief/end/", relief_end, methods=["POST"], name="relief_end"),
        Route("/relief/statement.csv", relief_csv, methods=["GET"], name="relief_csv"),
        Route("/relief/amounts/", amounts_page, methods=["GET"], name="relief_amounts"),
        Route("/relief/amounts/", amounts_save, methods=["POST"], name="relief_amounts_save"),
    ]
