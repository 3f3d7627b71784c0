"""HTTP for the ratio board and the municipality's ratio rules: parse, call, render.

/board/            now (refreshed by htmx every minute), the day's grid, tomorrow at a glance
/board/now/        the "now" part alone (what the refresh fetches)
/board/forecast/   a day's expected children and the staff they need (default: tomorrow)
/ratios/           the rules in force at the site's municipality
/ratios/edit/      new rules from a date (municipality administrators)
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

import pydantic
from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.auth import requires
from hubcore.errors import Invalid
from hubcore.forms import nfkc, validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.web import Widget, can, read_form, redirect, render, render_fragment, site_url
from plugins.childcare import board
from plugins.childcare.models import ROUNDING_MODES
from plugins.childcare.ratios import (
    DEFAULT_RULES,
    ROUNDING_LABELS,
    Band,
    PolicyBook,
    RatioPolicy,
    set_rules,
)

BAND_ROWS = 6  # rows of the rules form; national rules use 4
OLDEST_AGE = 18


def _today(site) -> dt.date:
    return board.site_now(site).date()


def _day(request: Request, default: dt.date) -> dt.date:
    """``?day=YYYY-MM-DD`` or ``default``; Invalid for anything else."""
    raw = request.query_params.get("day", "").strip()
    if not raw:
        return default
    try:
        day = dt.date.fromisoformat(nfkc(raw))
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year <= 2100:
        raise Invalid({"day": _("Enter a date (YYYY-MM-DD).")})
    return day


def _urls(site) -> dict[str, str]:
    return {"board_url": site_url(site, "childcare", "board"),
            "now_url": site_url(site, "childcare", "board", "now"),
            "forecast_url": site_url(site, "childcare", "board", "forecast"),
            "ratios_url": site_url(site, "childcare", "ratios"),
            "ratios_edit_url": site_url(site, "childcare", "ratios", "edit")}


# --- the board ----------------------------------------------------------------------------


def _board_context(request: Request, day: dt.date, **extra: Any) -> dict[str, Any]:
    site = request.state.site
    today = _today(site)
    ctx: dict[str, Any] = {
        "nav": "childcare", "day": day, "today": today, "is_today": day == today,
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "grid": board.day_grid(site, day), "now": None, "tomorrow": None,
        "errors": {}, "values": {}, **_urls(site), **extra}
    if day == today:
        ctx["now"] = board.now_status(site)
        ctx["tomorrow"] = board.forecast(site, today + dt.timedelta(days=1))
    return ctx


@requires("childcare.view")
def board_page(request: Request) -> Response:
    site = request.state.site
    try:
        day = _day(request, _today(site))
    except Invalid as exc:
        ctx = _board_context(request, _today(site), errors=exc.errors,
                             values={"day": request.query_params.get("day", "")})
        return render(request, "childcare/board.html", ctx, status_code=422)
    return render(request, "childcare/board.html", _board_context(request, day))


@requires("childcare.view")
def board_now(request: Request) -> Response:
    """The "now" part alone: htmx swaps it in every minute."""
    site = request.state.site
    return render(request, "childcare/_board_now.html",
                  {"now": board.now_status(site), **_urls(site)})


@requires("childcare.view")
def forecast_page(request: Request) -> Response:
    site = request.state.site
    tomorrow = _today(site) + dt.timedelta(days=1)
    status, errors = 200, {}
    try:
        day = _day(request, tomorrow)
    except Invalid as exc:
        day, status, errors = tomorrow, 422, exc.errors
    return render(request, "childcare/board_forecast.html", {
        "nav": "childcare", "day": day, "grid": board.forecast(site, day),
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
        "errors": errors, "values": {"day": request.query_params.get("day", "")},
        **_urls(site)}, status_code=status)


def dashboard_widgets(site, request) -> list[Widget]:
    """Each care room's status now, for those who may see childcare."""
    if not can(request, "childcare.view", site):
        return []
    html = render_fragment(request, "childcare/_board_widget.html",
                           {"site": site, "now": board.now_status(site), **_urls(site)})
    return [Widget(_("Staff ratio now"), html, order=20)]


# --- the municipality's rules ----------------------------------------------------------------


def _band_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for i in range(BAND_ROWS):
        fields[f"max_age_{i}"] = (int | None, Field(None, title=N_("Up to age"), ge=0,
                                                    le=OLDEST_AGE))
        fields[f"ratio_{i}"] = (int | None, Field(None, title=N_("Children per staff"), ge=1,
                                                  le=100))
    return fields


class _RulesBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    valid_from: dt.date = Field(title=N_("From"))
    rounding: Literal["sum", "band_ceil", "band_tenth"] = Field(title=N_("Rounding"))
    minimum_staff: int = Field(1, title=N_("Minimum staff"), ge=0, le=20)

    @field_validator("*", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)


RulesIn = pydantic.create_model("RulesIn", __base__=_RulesBase, **_band_fields())
assert set(ROUNDING_MODES) == {"sum", "band_ceil", "band_tenth"}


def bands_from_form(data: BaseModel) -> list[Band]:
    """The form's rows as bands: each starts where the one before ends, the last is open.
    Empty rows are skipped; every problem is named on its own field."""
    rows = [(i, getattr(data, f"max_age_{i}"), getattr(data, f"ratio_{i}"))
            for i in range(BAND_ROWS)]
    rows = [r for r in rows if r[1] is not None or r[2] is not None]
    if not rows:
        raise Invalid({"bands": _("Enter at least one age band.")})
    errors: dict[str, str] = {}
    bands, start = [], 0
    for n, (i, up_to, ratio) in enumerate(rows):
        last = n == len(rows) - 1
        if ratio is None:
            errors[f"ratio_{i}"] = _("Enter how many children one member of staff may "
                                     "look after.")
        if last and up_to is not None:
            errors[f"max_age_{i}"] = _("Leave the last band's age empty: it covers every "
                                       "older child.")
        elif not last and up_to is None:
            errors[f"max_age_{i}"] = _("Enter the age this band goes up to; only the last "
                                       "band is open.")
        elif up_to is not None and up_to < start:
            errors[f"max_age_{i}"] = _("This band starts at {age}: enter {age} or "
                                       "more.").format(age=start)
        if errors:
            continue
        bands.append(Band(start, up_to, ratio))
        start = (up_to or 0) + 1
    if errors:
        raise Invalid(errors)
    return bands


def _form_values(policy: RatioPolicy, today: dt.date) -> dict[str, Any]:
    values: dict[str, Any] = {"valid_from": today.isoformat(), "rounding": policy.rounding,
                              "minimum_staff": str(policy.minimum_staff)}
    for i, b in enumerate(policy.bands[:BAND_ROWS]):
        values[f"max_age_{i}"] = "" if b.max_age is None else str(b.max_age)
        values[f"ratio_{i}"] = str(b.children_per_staff)
    return values


def _ratios_context(request: Request, **extra: Any) -> dict[str, Any]:
    site = request.state.site
    today = _today(site)
    book = PolicyBook.load(site.municipality_id)
    policy = book.on(today)
    return {"nav": "childcare", "today": today, "policy": policy,
            "own": book.own(), "upcoming": [p for p in book.own() if p.valid_from > today],
            "national": [(since, bands) for since, bands in reversed(DEFAULT_RULES)],
            "municipality": site.municipality, "roundings": ROUNDING_LABELS,
            "may_edit": can(request, "childcare.ratios"), "band_rows": range(BAND_ROWS),
            "errors": {}, "values": _form_values(policy, today), **_urls(site), **extra}


@requires("childcare.view")
def ratios_page(request: Request) -> Response:
    return render(request, "childcare/ratios.html", _ratios_context(request))


@requires("childcare.ratios")
def ratios_edit(request: Request) -> Response:
    message = (_("The new rules were saved.") if request.query_params.get("saved") == "1"
               else None)
    return render(request, "childcare/ratios_edit.html",
                  _ratios_context(request, message=message))


@requires("childcare.ratios")
def ratios_save(request: Request) -> Response:
    site = request.state.site
    form = read_form(request)
    try:
        data = validate(RulesIn, form)
        set_rules(site.municipality, data.valid_from, bands_from_form(data),
                  rounding=data.rounding, minimum_staff=data.minimum_staff)
    except Invalid as exc:
        return render(request, "childcare/ratios_edit.html",
                      _ratios_context(request, errors=exc.errors, values=form),
                      status_code=422)
    return redirect(site_url(site, "childcare", "ratios", "edit") + "?saved=1", request)


def routes() -> list[Route]:
    return [
        Route("/board/", board_page, methods=["GET"], name="board"),
        Route("/board/now/", board_now, methods=["GET"], name="board_now"),
        Route("/board/forecast/", forecast_page, methods=["GET"], name="board_forecast"),
        Route("/ratios/", ratios_page, methods=["GET"], name="ratios"),
        Route("/ratios/edit/", ratios_edit, methods=["GET"], name="ratios_edit"),
        Route("/ratios/edit/", ratios_save, methods=["POST"], name="ratios_save"),
    ]
