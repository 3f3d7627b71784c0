"""Pages of today's work: the overview, reservations with the waitlist, and the front-desk
tablet (children in and out, staff in and out, 親子ひろば head counts).

Routes parse the request, call reservations/attendance and render. htmx requests get
the swapped part only (the tablet's panel, the reservations block); without JavaScript
the same URLs answer whole pages and a POST ends in a redirect.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.auth import requires
from hubcore.calendar.operations import site_zone
from hubcore.db import get_in_site
from hubcore.errors import Invalid
from hubcore.forms import nfkc, validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.web import can, is_htmx, read_form, redirect, render, site_url
from plugins.childcare import attendance as att
from plugins.childcare import reservations as res
from plugins.childcare import sessions
from plugins.childcare.children import authorised_pickups
from plugins.childcare.models import BOOKED, Attendance, CareRoom, Child, Reservation

NAV = "childcare"


def _url(request: Request, *parts) -> str:
    return site_url(request.state.site, "childcare", *parts)


def _base(request: Request, **extra) -> dict:
    site = request.state.site
    return {"nav": NAV, "hm": lambda t: res.hhmm(site, t) if t else "",
            "program_label": res.program_label, "cc_url": lambda *p: _url(request, *p),
            "values": {}, "errors": {}, **extra}


def _parse_day(request: Request, raw: str | None) -> dt.date:
    try:
        return dt.date.fromisoformat(raw) if raw else res.site_today(request.state.site)
    except ValueError:
        return res.site_today(request.state.site)


def _names(people: list[Reservation]) -> str:
    return "、".join(r.child.person.full_name for r in people)


# --- overview --------------------------------------------------------------------


@requires("childcare.view")
def index(request: Request):
    site = request.state.site
    today = res.site_today(site)
    entries = att.expected_today(site, today)
    counts = {state: sum(1 for e in entries if e.state == state)
              for state in (att.EXPECTED, att.IN, att.OUT)}
    links = [(label, _url(request, *path), action) for label, path, action in (
        (_("Front-desk tablet"), ("tablet",), "childcare.attend"),
        (_("Reservations and waitlist"), ("reservations",), "childcare.view"),
        (_("Children"), ("children",), "childcare.view"),
        (_("Ratio board"), ("board",), "childcare.view"),
        (_("Childcare sessions"), ("sessions",), "childcare.view"),
        (_("Settings"), ("settings",), "childcare.manage"),
        (_("Relief"), ("relief",), "childcare.relief"),
    ) if can(request, action, site)]
    staff_in = sum(1 for s in att.staff_today(site, today) if s.current is not None)
    return render(request, "childcare/index.html", _base(
        request, today=today, counts=counts, waitlisted=res.waitlist_count(site, today),
        staff_in=staff_in, links=links, entries=entries))


# --- reservations ----------------------------------------------------------------


def _reservations_context(request: Request, day: dt.date, **extra) -> dict:
    site = request.state.site
    room_days = res.day_reservations(site, day)
    children = list(Child.select(Child, Person).join(Person)
                    .where((Child.site == site) & Child.active)
                    .order_by(Person.kana_key, Child.id))
    rooms = [rd.room for rd in room_days if rd.sittings] or _care_rooms(site)
    values = {"day": day.isoformat(), "start": "09:00", "end": "12:00", "waitlist": "on",
              **({"room_id": str(rooms[0].id)} if len(rooms) == 1 else {})}
    return _base(request, day=day, prev_day=day - dt.timedelta(days=1),
                 next_day=day + dt.timedelta(days=1), room_days=room_days,
                 children=children, rooms=rooms, values=values, **extra)


def _reservations_answer(request: Request, ctx: dict, status: int = 200) -> Response:
    template = ("childcare/_reservations.html" if is_htmx(request)
                else "childcare/reservations.html")
    return render(request, template, ctx, status_code=status)


@requires("childcare.view")
def reservations_page(request: Request):
    day = _parse_day(request, request.query_params.get("day"))
    return render(request, "childcare/reservations.html", _reservations_context(request, day))


@requires("childcare.attend")
def reservation_create(request: Request):
    site = request.state.site
    form = read_form(request)
    day = _parse_day(request, form.get("day"))
    try:
        data = validate(res.ReservationIn, form)
        r = res.reserve(site, data.child_id, data.room_id, data.day, data.start, data.end,
                        lunch=data.lunch, snack=data.snack, program=data.program,
                        waitlist=data.waitlist, notes=data.notes)
    except Invalid as exc:
        ctx = _reservations_context(request, day, errors=exc.errors)
        ctx["values"] = form
        return _reservations_answer(request, ctx, 422)
    if not is_htmx(request):
        return redirect(_url(request, "reservations") + f"?day={r.day.isoformat()}", request)
    name = r.child.person.full_name
    times = f"{res.hhmm(site, r.start_at)}–{res.hhmm(site, r.end_at)}"
    if r.status == BOOKED:
        message = _("{child} is booked {times}.").format(child=name, times=times)
    else:
        message = _("{room} is full then: {child} is on the waitlist ({times}).").format(
            room=r.room.name, child=name, times=times)
    ctx = _reservations_context(request, r.day, message=message)
    ctx["values"] = {**ctx["values"], "room_id": str(r.room_id), "start": form.get("start"),
                     "end": form.get("end")}
    return _reservations_answer(request, ctx, 201)


@requires("childcare.attend")
def reservation_cancel(request: Request):
    site = request.state.site
    r = res.get_reservation(site, request.path_params["reservation_id"])
    moved = res.cancel(site, r)
    if not is_htmx(request):
        return redirect(_url(request, "reservations") + f"?day={r.day.isoformat()}", request)
    message = _("The reservation of {child} is cancelled.").format(
        child=r.child.person.full_name)
    if moved:
        message += " " + _("Moved up from the waitlist: {names}.").format(names=_names(moved))
    return _reservations_answer(request, _reservations_context(request, r.day, message=message))


# --- the tablet ------------------------------------------------------------------


def _care_rooms(site) -> list[Room]:
    """Rooms children are cared in: the care rooms, and rooms with a session today."""
    today = res.site_today(site)
    ids = {r for (r,) in CareRoom.select(CareRoom.room).join(Room)
           .where(Room.site == site).tuples()}
    ids |= {s.room_id for s in sessions.sittings(site, today, today + dt.timedelta(days=1))}
    q = Room.select().where((Room.site == site) & ~Room.retired)
    if ids:
        q = q.where(Room.id.in_(ids))
    return list(q.order_by(Room.sort_order, Room.name))


def _tablet(request: Request, tab: str, template: str, ctx: dict, status: int = 200):
    ctx = {**_base(request), "tab": tab, "today": res.site_today(request.state.site),
           "panel": template, **ctx}
    page = template if is_htmx(request) else "childcare/tablet.html"
    return render(request, page, ctx, status_code=status)


def _children_ctx(request: Request, **extra) -> dict:
    site = request.state.site
    today = res.site_today(site)
    settings = att.site_settings(site)
    walkin_children, walkin_rooms = att.walk_in_choices(site)
    return {"entries": att.expected_today(site, today), "closing": settings.closing_time,
            "waitlisted": res.waitlist_count(site, today), "walkin_children": walkin_children,
            "walkin_rooms": walkin_rooms, **extra}


def _children(request: Request, status: int = 200, **extra) -> Response:
    return _tablet(request, "children", "childcare/_tablet_children.html",
                   _children_ctx(request, **extra), status)


def _after_post(request: Request, path: str, answer) -> Response:
    """htmx: the panel; a plain form post: back to the tablet page (303)."""
    return answer() if is_htmx(request) else redirect(_url(request, *path), request)


@requires("childcare.attend")
def tablet(request: Request):
    return _children(request)


@requires("childcare.attend")
def tablet_checkin(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        child_id = _int(form, "child_id")
        reservation = _int(form, "reservation_id", required=False)
        room = _int(form, "room_id", required=reservation is None)
        a = att.check_in(site, child_id, room, reservation=reservation,
                         program=form.get("program"))
    except Invalid as exc:
        return _children(request, 422, error=" ".join(exc.errors.values()))
    message = _("{child} checked in at {time}.").format(child=a.child.person.full_name,
                                                        time=res.hhmm(site, a.checked_in_at))
    return _after_post(request, ("tablet",), lambda: _children(request, message=message))


class WalkInIn(BaseModel):
    """The tablet's walk-in form: a child with no reservation arrives at drop-in care."""

    model_config = ConfigDict(extra="forbid")

    child_id: int = Field(title=N_("Child"), gt=0, lt=2**63)
    room_id: int = Field(title=N_("Room"), gt=0, lt=2**63)
    until: dt.time | None = Field(None, title=N_("End time"))
    lunch: bool = Field(False, title=N_("Lunch"))
    snack: bool = Field(False, title=N_("Snack"))

    @field_validator("child_id", "room_id", "until", mode="before")
    @classmethod
    def _half_width(cls, v):
        return nfkc(v)

    @field_validator("lunch", "snack", mode="before")
    @classmethod
    def _checkbox(cls, v):
        return True if v == "on" else v


WALKIN_FIELDS = ("child_id", "room_id", "until")


@requires("childcare.attend")
def tablet_walkin(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        data = validate(WalkInIn, form)
        a = att.walk_in(site, data.child_id, data.room_id, until=data.until,
                        lunch=data.lunch, snack=data.snack)
    except Invalid as exc:
        # Fields of the form by their input; the rest (the session is full, another
        # place clashes, the end is wrong) above the form. Nothing was saved.
        errors = {("until" if k == "end" else k): v for k, v in exc.errors.items()}
        general = " ".join(v for k, v in errors.items() if k not in WALKIN_FIELDS)
        return _children(request, 422, values=form, errors=errors, walkin_error=general)
    message = _("{child} checked in at {time} (walk-in, until {until}).").format(
        child=a.child.person.full_name, time=res.hhmm(site, a.checked_in_at),
        until=res.hhmm(site, a.reservation.end_at))
    return _after_post(request, ("tablet",), lambda: _children(request, message=message))


@requires("childcare.attend")
def tablet_checkout_form(request: Request):
    a = get_in_site(Attendance, request.state.site, request.path_params["attendance_id"])
    return _children(request, **_chooser(a))


def _chooser(a: Attendance, error: str = "", name: str = "") -> dict:
    return {"open_id": a.id, "pickups": authorised_pickups(a.child_id),
            "refusal": error, "other_name": name}


@requires("childcare.attend")
def tablet_checkout(request: Request):
    site = request.state.site
    a = get_in_site(Attendance, site, request.path_params["attendance_id"])
    form = read_form(request)
    raw = form.get("pickup", "")
    name = form.get("other_name", "")[:100]
    try:
        if not raw:
            raise Invalid({"pickup": _("Choose who is collecting the child.")})
        pickup_id = int(raw) if raw.isdigit() else None
        done = att.check_out(site, a, pickup_id, name=name)
    except Invalid as exc:
        # Refused on screen: the chooser stays open with the reason; nothing was saved.
        return _children(request, 422, **_chooser(a, " ".join(exc.errors.values()), name))
    message = _("{child} went home with {who} at {time}.").format(
        child=a.child.person.full_name, who=done.picked_up_name,
        time=res.hhmm(site, done.checked_out_at))
    if done.late_minutes:
        message += " " + _("Late pickup: {n} minutes after closing.").format(
            n=done.late_minutes)
    return _after_post(request, ("tablet",), lambda: _children(request, message=message))


def _int(form: dict, key: str, required: bool = True) -> int | None:
    raw = form.get(key, "")
    if raw.isdigit() and 0 < int(raw) < 2**63:
        return int(raw)
    if raw or required:
        raise Invalid({key: _("Choose from the list.")})
    return None


# staff


def _staff_ctx(request: Request, **extra) -> dict:
    site = request.state.site
    return {"members": att.staff_today(site), "rooms": _care_rooms(site), **extra}


def _staff(request: Request, status: int = 200, **extra) -> Response:
    return _tablet(request, "staff", "childcare/_tablet_staff.html",
                   _staff_ctx(request, **extra), status)


@requires("childcare.attend")
def tablet_staff(request: Request):
    return _staff(request)


@requires("childcare.attend")
def tablet_staff_post(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        staff_id = _int(form, "staff_id")
        if form.get("out"):
            row = att.staff_check_out(site, staff_id)
            message = _("{name} checked out at {time}.").format(
                name=row.staff.name, time=res.hhmm(site, row.checked_out_at))
        else:
            row = att.staff_move(site, staff_id, _int(form, "room_id"))
            message = _("{name} is in {room} from {time}.").format(
                name=row.staff.name, room=row.room.name, time=res.hhmm(site, row.checked_in_at))
    except Invalid as exc:
        return _staff(request, 422, error=" ".join(exc.errors.values()))
    return _after_post(request, ("tablet", "staff"), lambda: _staff(request, message=message))


# 親子ひろば


def _hour(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdigit() and 0 <= int(raw) <= 23 else None


def _hiroba_ctx(request: Request, hour: int | None, **extra) -> dict:
    """The open space's rooms today, the hour counted (asked, else now, kept within the
    sessions' hours) and the counts."""
    site = request.state.site
    today = res.site_today(site)
    rooms = att.hiroba_rooms(site, today)
    counts = att.head_counts(site, today)
    by_key = {(c.room_id, c.hour): c for c in counts}
    hours = sorted({h for _room, sits in rooms for s in sits
                    for h in range(s.start.hour, s.end.hour + (1 if s.end.minute else 0))})
    if hour is None:
        now = dt.datetime.now(site_zone(site)).hour
        hour = min(max(now, hours[0]), hours[-1]) if hours else now
    hours = sorted({*hours, hour})
    totals = {r.id: (sum(c.children for c in counts if c.room_id == r.id),
                     sum(c.adults for c in counts if c.room_id == r.id)) for r, _s in rooms}
    return {"hiroba": rooms, "hour": hour, "hours": hours, "by_key": by_key, "totals": totals,
            **extra}


def _hiroba(request: Request, hour: int | None, status: int = 200, **extra) -> Response:
    return _tablet(request, "hiroba", "childcare/_tablet_hiroba.html",
                   _hiroba_ctx(request, hour, **extra), status)


@requires("childcare.attend")
def tablet_hiroba(request: Request):
    return _hiroba(request, _hour(request.query_params.get("hour")))


@requires("childcare.attend")
def tablet_hiroba_post(request: Request):
    site = request.state.site
    form = read_form(request)
    hour = _hour(form.get("hour"))
    try:
        room_id = _int(form, "room_id")
        if hour is None:
            raise Invalid({"hour": _("Choose an hour from 0 to 23.")})
        who, delta = form.get("who"), form.get("delta")
        if who not in ("children", "adults") or delta not in ("1", "-1"):
            raise Invalid({"who": _("Choose from the list.")})
        att.change_head_count(site, room_id, res.site_today(site), hour,
                              **{who: int(delta)})
    except Invalid as exc:
        return _hiroba(request, hour, 422, error=" ".join(exc.errors.values()))
    return _after_post(request, ("tablet", "hiroba"),
                       lambda: _hiroba(request, hour))


def routes() -> list[Route]:
    return [
        Route("/", index, methods=["GET"], name="index"),
        Route("/reservations/", reservations_page, methods=["GET"], name="reservations"),
        Route("/reservations/", reservation_create, methods=["POST"], name="reserve"),
        Route("/reservations/{reservation_id:int}/cancel/", reservation_cancel,
              methods=["POST"], name="reservation_cancel"),
        Route("/tablet/", tablet, methods=["GET"], name="tablet"),
        Route("/tablet/checkin/", tablet_checkin, methods=["POST"], name="checkin"),
        Route("/tablet/walkin/", tablet_walkin, methods=["POST"], name="walkin"),
        Route("/tablet/checkout/{attendance_id:int}/", tablet_checkout_form, methods=["GET"],
              name="checkout_form"),
        Route("/tablet/checkout/{attendance_id:int}/", tablet_checkout, methods=["POST"],
              name="checkout"),
        Route("/tablet/staff/", tablet_staff, methods=["GET"], name="tablet_staff"),
        Route("/tablet/staff/", tablet_staff_post, methods=["POST"], name="staff_post"),
        Route("/tablet/hiroba/", tablet_hiroba, methods=["GET"], name="tablet_hiroba"),
        Route("/tablet/hiroba/", tablet_hiroba_post, methods=["POST"], name="hiroba_post"),
    ]

