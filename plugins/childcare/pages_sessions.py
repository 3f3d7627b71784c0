"""Childcare sessions in the calendar: this and next week's list, book one, cancel one.

A session is a core calendar booking (``sessions.create_session``), so the calendar's
refusals apply: opening hours (a site manager may override them), another booking in
the room, and the nap-time rule. Each comes back as a message at its field (422) and
nothing is saved.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.routing import Route

from hubcore.auth import requires
from hubcore.auth.permissions import Forbidden
from hubcore.calendar import operations as cal
from hubcore.calendar import recurrence as rec
from hubcore.calendar import views as v
from hubcore.db import utcnow
from hubcore.errors import Invalid
from hubcore.forms import nfkc, validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.rooms.operations import list_rooms
from hubcore.sites.models import Site
from hubcore.web import can, is_htmx, read_form, redirect, render, site_url
from plugins.childcare import sessions
from plugins.childcare.models import AFTERSCHOOL, DROPIN, HIROBA, NAP, SESSION_KINDS, CareRoom

KIND_LABELS = {DROPIN: N_("Drop-in care"), AFTERSCHOOL: N_("After-school club"),
               HIROBA: N_("Parent and child space"), NAP: N_("Nap time")}
SCOPES = ("this", "all")


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind]) if kind in KIND_LABELS else kind


class SessionIn(BaseModel):
    """The session form: one day, or weekly on the chosen weekdays from the first day."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(title=N_("Kind"))
    room: int = Field(title=N_("Room"), ge=1)
    title: str = Field("", title=N_("Title"), max_length=200)
    first_day: dt.date = Field(title=N_("First day"))
    start_time: dt.time = Field(title=N_("Start time"))
    end_time: dt.time = Field(title=N_("End time"))
    weekdays: list[str] = Field(default_factory=list, title=N_("Repeat on"))
    until: dt.date | None = Field(None, title=N_("Last day"))
    capacity: int | None = Field(None, title=N_("Children at once"), ge=1, le=500)
    loud: bool = Field(False, title=N_("Loud (music, sports)"))
    override: bool = Field(False, title=N_("Outside opening hours"))

    @field_validator("room", "first_day", "start_time", "end_time", "until", "capacity",
                     mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)

    @field_validator("kind")
    @classmethod
    def _kind(cls, v):
        if v not in SESSION_KINDS:
            raise ValueError(_("Choose the kind of session."))
        return v

    @field_validator("title", mode="before")
    @classmethod
    def _strip(cls, v):
        return v.strip() if isinstance(v, str) else v

    @field_validator("weekdays")
    @classmethod
    def _days(cls, v):
        if any(d not in rec.WEEKDAYS for d in v):
            raise ValueError(_("Choose weekdays from the list."))
        return [d for d in rec.WEEKDAYS if d in set(v)]

    @field_validator("loud", "override", mode="before")
    @classmethod
    def _checkbox(cls, v):
        return v in ("on", "1", "true", True)


def booking_data(site: Site, form: SessionIn) -> dict[str, Any]:
    """Calendar BookingIn fields for the form: a weekly rule (RRULE BYDAY) when weekdays
    are ticked, its first occurrence on the first of them on or after the first day."""
    day = form.first_day
    if form.weekdays:
        wanted = {rec.WEEKDAYS.index(d) for d in form.weekdays}
        while day.weekday() not in wanted:
            day += dt.timedelta(days=1)
    if form.end_time <= form.start_time:
        raise Invalid({"end_time": _("The end must be after the start.")})
    rule = ""
    if form.weekdays:
        if form.until is not None and form.until < day:
            raise Invalid({"until": _("The last day is before the first session "
                                      "({day}).").format(day=day.isoformat())})
        rule = rec.build_rrule("WEEKLY", weekdays=form.weekdays, until=form.until)
    room_cap = CareRoom.select(CareRoom.capacity).where(CareRoom.room == form.room).scalar()
    return {"room": form.room, "title": form.title or kind_label(form.kind),
            "start": dt.datetime.combine(day, form.start_time),
            "end": dt.datetime.combine(day, form.end_time), "rrule": rule,
            # What the session takes of a shared room: its places, else the care room's.
            "attendance": form.capacity or room_cap or 1,
            "loud": form.loud and form.kind != NAP}


# Where the calendar's field names are shown on this form.
FIELD_OF = {"start": "start_time", "end": "end_time", "rrule": "weekdays",
            "attendance": "capacity", "uid": "title"}


def _refusal(request: Request, exc: Exception, values: dict[str, Any]) -> dict[str, str]:
    """The calendar's refusal as messages at this form's fields."""
    if isinstance(exc, cal.BookingConflict):
        first = exc.conflicts[0]
        tz = cal.site_zone(request.state.site)
        start, end = first.start.astimezone(tz), first.end.astimezone(tz)
        return {"room": str(exc) + " " + _("In the way: “{title}” on {date}, {start}–{end}.")
                .format(title=first.title, date=start.date().isoformat(), start=v.hm(start),
                        end=v.hm(end))}
    errors: dict[str, str] = {}
    for key, message in exc.errors.items():
        if key == "__all__":  # a plugin's rule, here the nap-time rule
            key = "room" if values.get("kind") == NAP or not values.get("loud") else "loud"
        errors.setdefault(FIELD_OF.get(key, key), message)
    if isinstance(exc, cal.OutsideHours) and can(request, "calendar.override"):
        errors["start_time"] += " " + _("Tick “Outside opening hours” to book it anyway.")
    return errors


def _week_start(site: Site) -> dt.date:
    return v.monday(utcnow().astimezone(cal.site_zone(site)).date())


def _days(site: Site) -> list[tuple[dt.date, list[sessions.Sitting]]]:
    """This and next week's sessions by day (days without one left out)."""
    first = _week_start(site)
    out: dict[dt.date, list[sessions.Sitting]] = {}
    for s in sessions.sittings(site, first, first + dt.timedelta(days=14)):
        out.setdefault(s.start.date(), []).append(s)
    return sorted(out.items())


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    site = request.state.site
    rooms = list_rooms(site)
    care = dict(CareRoom.select(CareRoom.room, CareRoom.capacity)
                .where(CareRoom.room.in_([r.id for r in rooms] or [0])).tuples())
    first = _week_start(site)
    return {
        "nav": "childcare", "days": _days(site), "rooms": rooms, "care": care,
        "room_names": {r.id: r.name for r in rooms}, "first": first,
        "last": first + dt.timedelta(days=13), "kinds": [(k, kind_label(k)) for k in
                                                          SESSION_KINDS],
        "kind_label": kind_label, "weekdays": list(zip(rec.WEEKDAYS, v.WEEKDAYS, strict=True)),
        "hm": v.hm, "day_label": v.long_date, "rid": v.rid_text, "hiroba": HIROBA,
        "can_manage": can(request, "childcare.manage"),
        "can_override": can(request, "calendar.override"),
        "today": utcnow().astimezone(cal.site_zone(site)).date(),
        "values": {"kind": DROPIN, "start_time": "09:00", "end_time": "17:00"},
        "errors": {}, "message": None, **extra,
    }


@requires("childcare.view")
def session_list(request: Request):
    ctx = _context(request)
    ctx["values"]["first_day"] = ctx["today"].isoformat()
    if request.query_params.get("done") == "cancelled":
        ctx["message"] = _("The session was cancelled.")
    elif request.query_params.get("done") == "created":
        ctx["message"] = _("The session was booked.")
    return render(request, "childcare/sessions.html", ctx)


@requires("childcare.manage")
def session_create(request: Request):
    site = request.state.site
    values = read_form(request, lists=("weekdays",))
    try:
        form = validate(SessionIn, values)
        if form.override and not can(request, "calendar.override"):
            raise Forbidden("calendar.override")
        sessions.create_session(site, form.kind, booking_data(site, form),
                                capacity=form.capacity, override=form.override)
    except (Invalid, cal.BookingConflict) as exc:
        ctx = _context(request, values=values, errors=_refusal(request, exc, values))
        template = "childcare/sessions_form.html" if is_htmx(request) \
            else "childcare/sessions.html"
        return render(request, template, ctx, status_code=422)
    return redirect(site_url(site, "childcare", "sessions") + "?done=created", request)


@requires("childcare.manage")
def session_cancel(request: Request):
    site = request.state.site
    session = sessions.get_session(site, request.path_params["session_id"])
    form = read_form(request)
    scope = form.get("scope", "this")
    rid = v.parse_rid(form.get("occurrence"))
    try:
        if scope not in SCOPES or (scope == "this" and rid is None):
            raise Invalid({"scope": _("Say which occurrence to cancel.")})
        sessions.cancel_session(session, scope, rid if scope == "this" else None)
    except Invalid as exc:
        ctx = _context(request, message=" ".join(exc.errors.values()))
        return render(request, "childcare/sessions.html", ctx, status_code=422)
    return redirect(site_url(site, "childcare", "sessions") + "?done=cancelled", request)


def routes() -> list[Route]:
    return [
        Route("/sessions/", session_list, methods=["GET"], name="sessions"),
        Route("/sessions/", session_create, methods=["POST"], name="session_create"),
        Route("/sessions/{session_id:int}/cancel/", session_cancel, methods=["POST"],
              name="session_cancel"),
    ]
