"""HTTP for the calendar: views, the booking dialog, feeds, import, settings.

The booking dialog is filled by htmx (calendar.js opens the <dialog>); without
JavaScript the same URLs answer whole pages. A 422 answer carries the form again
with what is in the way: the conflicts, or why the site is closed then.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

import anyio.from_thread
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hubcore import db
from hubcore.auth.guard import public, requires
from hubcore.auth.permissions import Forbidden
from hubcore.calendar import forms, ics
from hubcore.calendar import hours as hours_mod
from hubcore.calendar import operations as ops
from hubcore.calendar import pages as p
from hubcore.calendar import periods as periods_mod
from hubcore.calendar import views as v
from hubcore.errors import Invalid, NotFound
from hubcore.i18n import gettext as _
from hubcore.people.models import Person
from hubcore.rooms.models import Room
from hubcore.rooms.operations import get_room, list_rooms
from hubcore.web import can, is_htmx, read_form, redirect, render

# --- views ---------------------------------------------------------------------------


@requires("calendar.view")
def week(request: Request):
    return render(request, "calendar/week.html", p.week_context(request))


@requires("calendar.view")
def day(request: Request):
    return render(request, "calendar/week.html", p.day_context(request))


@requires("calendar.view")
def month(request: Request):
    return render(request, "calendar/month.html", p.month_context(request))


@requires("calendar.view")
def switch(request: Request):
    """The site picker's target (a GET form cannot choose its own action)."""
    from hubcore.sites.operations import get_site

    slug = request.query_params.get("to", "")
    try:
        other = get_site(slug)
    except NotFound:
        other = request.state.site
    if not request.state.principal.can_see_site(other):
        other = request.state.site
    return RedirectResponse(p.base_url(other), status_code=303)


# --- the booking dialog ------------------------------------------------------------------


def _dialog(request: Request, ctx: dict, status: int = 200) -> Response:
    template = "calendar/_dialog.html" if is_htmx(request) else "calendar/booking.html"
    return render(request, template, {"nav": "calendar", **ctx}, status_code=status)


def _flags(request: Request, form: dict) -> dict[str, bool]:
    flags = {k: form.get(k) == "1" for k in ("override", "skip_conflicts", "skip_closed")}
    if flags["override"] and not can(request, "calendar.override"):
        raise Forbidden("calendar.override")
    return flags


def _refused(request: Request, ctx: dict, exc: Exception, all_day: bool) -> Response:
    """The form again, with why it was refused."""
    site = request.state.site
    rooms = {r.id: r.name for r in list_rooms(site, include_retired=True)}
    if isinstance(exc, ops.BookingConflict):
        ctx.update(conflicts=p.conflict_rows(exc.conflicts, rooms),
                   conflict_dates=len(exc.dates), message=str(exc))
    elif isinstance(exc, ops.OutsideHours):
        ctx.update(problems=exc.problems)
    else:
        ctx["errors"] = forms.form_errors(exc.errors, all_day)
    return _dialog(request, ctx, 422)


@requires("calendar.book")
def booking_new(request: Request):
    site = request.state.site
    q = request.query_params
    today = p.today(site)
    values = {"date": q.get("date") or today.isoformat(), "start_time": q.get("start_time")
              or "10:00", "end_time": q.get("end_time") or "11:00",
              "room": int(q["room"]) if q.get("room", "").isdigit() else None,
              "program": "calendar", "attendance": 1, "status": "confirmed"}
    back = p.safe_back(site, q.get("back") or request.headers.get("HX-Current-URL", "")
                       .partition(str(request.base_url).rstrip("/"))[2] or None)
    return _dialog(request, p.form_context(request, site, values=values, back=back))


@requires("calendar.book")
def booking_create(request: Request):
    site = request.state.site
    form = read_form(request)
    back = p.safe_back(site, form.get("back"))
    ctx = p.form_context(request, site, values=form, back=back)
    flags = _flags(request, form)
    try:
        data = forms.booking_data(form)
        booking = ops.create_booking(site, data, **flags)
    except (Invalid, ops.BookingConflict) as exc:
        return _refused(request, ctx, exc, form.get("all_day") == "on")
    day = booking.start_at.astimezone(ops.site_zone(site)).date()
    return redirect(p.safe_back(site, back, day), request)


def _occurrence(request: Request, booking, rid_text: str | None) -> ops.Occurrence:
    occ = p.occurrence_of(booking, v.parse_rid(rid_text))
    if occ is None:
        raise NotFound(rid_text)
    return occ


@requires("calendar.view")
def booking_detail(request: Request):
    site = request.state.site
    b = ops.get_booking(site, request.path_params["booking_id"])
    occ = p.occurrence_of(b, v.parse_rid(request.query_params.get("o")))
    tz = ops.site_zone(site)
    values = forms.form_values(ops.booking_input(b), tz)
    if occ is not None:
        values.update(forms.form_values({**ops.booking_input(b), "start": occ.start,
                                         "end": occ.end - dt.timedelta(days=1)
                                         if b.all_day else occ.end,
                                         "room": occ.room_id, "title": occ.title}, tz))
    back = p.safe_back(site, request.query_params.get("back")
                       or request.headers.get("HX-Current-URL", "")
                       .partition(str(request.base_url).rstrip("/"))[2] or None)
    ctx = p.form_context(request, site, booking=b, occ=occ, values=values, back=back,
                         series=p.is_series(b), scope="this" if p.is_series(b) else "all",
                         organiser=b.organiser)
    return _dialog(request, ctx)


@requires("calendar.book")
def booking_update(request: Request):
    site = request.state.site
    b = ops.get_booking(site, request.path_params["booking_id"])
    form = read_form(request)
    back = p.safe_back(site, form.get("back"))
    occ = p.occurrence_of(b, v.parse_rid(form.get("o")))
    scope = form.get("scope", "")
    ctx = p.form_context(request, site, booking=b, occ=occ, values=form, back=back,
                         series=p.is_series(b), scope=scope, organiser=b.organiser)
    flags = _flags(request, form)
    try:
        if scope not in ("this", "following", "all"):
            raise Invalid({"scope": _("Choose which occurrences to change.")})
        if occ is None:
            raise Invalid({"scope": _("This occurrence no longer exists.")})
        data = forms.booking_data(form)
        changes = forms.changes_for(b, data, occ, scope)
        if changes:
            if scope == "this":
                flags = {"override": flags["override"]}
            b = ops.update_booking(b, changes, scope=scope, recurrence_id=occ.recurrence_id,
                                   **flags)
    except (Invalid, ops.BookingConflict) as exc:
        return _refused(request, ctx, exc, form.get("all_day") == "on")
    start = changes.get("start") if changes else None
    day = start.date() if isinstance(start, dt.datetime) else occ.start.date()
    return redirect(p.safe_back(site, back, day), request)


@requires("calendar.book")
def booking_cancel(request: Request):
    site = request.state.site
    b = ops.get_booking(site, request.path_params["booking_id"])
    form = read_form(request)
    back = p.safe_back(site, form.get("back"))
    occ = p.occurrence_of(b, v.parse_rid(form.get("o")))
    scope = form.get("scope", "")
    try:
        if scope not in ("this", "following", "all"):
            raise Invalid({"scope": _("Choose which occurrences to cancel.")})
        if occ is None:
            raise Invalid({"scope": _("This occurrence no longer exists.")})
        ops.cancel_booking(b, scope=scope, recurrence_id=occ.recurrence_id)
    except Invalid as exc:
        ctx = p.form_context(request, site, booking=b, occ=occ, values=form, back=back,
                             series=p.is_series(b), scope=scope, organiser=b.organiser)
        ctx["errors"] = exc.errors
        return _dialog(request, ctx, 422)
    return redirect(p.safe_back(site, back, occ.start.date()), request)


# --- feeds -----------------------------------------------------------------------------


def _feeds_page(request: Request, status: int = 200, **extra) -> Response:
    site = request.state.site
    people = list(Person.select(Person.id, Person.family_name, Person.given_name)
                  .where(Person.site == site).order_by(Person.kana_key, Person.id))
    ctx = {"nav": "calendar", "feeds": ics.list_feeds(site), "rooms": list_rooms(site),
           "people": people, "values": {}, "errors": {}, "base": p.base_url(site), **extra}
    return render(request, "calendar/feeds.html", ctx, status_code=status)


@requires("calendar.manage")
def feeds(request: Request):
    return _feeds_page(request)


@requires("calendar.manage")
def feed_create(request: Request):
    site = request.state.site
    form = read_form(request)
    kind = form.get("kind", "")
    target = {"room": form.get("room"), "person": form.get("person")}.get(kind)
    try:
        if kind in ("room", "person") and not target:
            raise Invalid({kind: _("Choose the room or person of the feed.")})
        feed, token = ics.create_feed(site, kind, target, form.get("label", ""))
    except NotFound:
        return _feeds_page(request, 422, values=form,
                           errors={kind: _("Choose a room or person of this site.")})
    except Invalid as exc:
        return _feeds_page(request, 422, values=form, errors=exc.errors)
    url = p.feed_url(request, site, token)
    return _feeds_page(request, 201, created=feed, url=url, webcal=p.webcal(url))


@requires("calendar.manage")
def feed_revoke(request: Request):
    site = request.state.site
    ics.revoke_feed(site, request.path_params["feed_id"])
    return redirect(p.base_url(site) + "feeds/", request)


@public
def feed_file(request: Request):
    """The ICS of a secret feed URL: the token alone decides (calendar apps send no
    cookie). Unknown, revoked and another site's tokens are all 404."""
    with db.database.connection_context():
        try:
            feed = ics.feed_for_token(request.path_params["feed_token"])
        except NotFound:
            return Response(_("No such calendar feed."), status_code=404,
                            media_type="text/plain")
        if feed.site.slug != request.path_params["site"]:
            return Response(_("No such calendar feed."), status_code=404,
                            media_type="text/plain")
        body = ics.feed_ics(feed)
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Content-Disposition": 'inline; filename="calendar.ics"'})


# --- import ----------------------------------------------------------------------------


def _import_page(request: Request, status: int = 200, **extra) -> Response:
    site = request.state.site
    ctx = {"nav": "calendar", "rooms": list_rooms(site), "values": {}, "errors": {},
           "base": p.base_url(site), "can_override": can(request, "calendar.override"),
           "program_label": p.program_label, "v": v, **extra}
    return render(request, "calendar/import.html", ctx, status_code=status)


@requires("calendar.manage")
def import_form(request: Request):
    return _import_page(request)


def _room(site, raw) -> Room:
    try:
        return get_room(site, raw or "")
    except NotFound:
        raise Invalid({"room": _("Choose a room of this site.")}) from None


@requires("calendar.manage")
def import_preview(request: Request):
    site = request.state.site
    form = anyio.from_thread.run(request.form)
    upload = form.get("file")
    values = {"room": form.get("room")}
    try:
        room = _room(site, form.get("room"))
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise Invalid({"file": _("Choose a calendar file (.ics).")})
        data = upload.file.read(ics.MAX_IMPORT_BYTES + 1)
        preview = ics.preview_import(site, room, data)
    except Invalid as exc:
        return _import_page(request, 422, values=values, errors=exc.errors)
    return _import_page(request, values=values, preview=preview, room=room,
                        data=base64.b64encode(data).decode())


@requires("calendar.manage")
def import_commit(request: Request):
    site = request.state.site
    form = read_form(request)
    values = {"room": form.get("room")}
    flags = {k: form.get(k) == "1" for k in ("override", "skip_conflicts", "skip_closed")}
    if flags["override"] and not can(request, "calendar.override"):
        raise Forbidden("calendar.override")
    try:
        room = _room(site, form.get("room"))
        try:
            data = base64.b64decode(form.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            data = b""
        if not data:
            raise Invalid({"file": _("Choose a calendar file (.ics).")})
        created = ics.commit_import(site, room, data, **flags)
    except ops.BookingConflict as exc:
        rooms = {r.id: r.name for r in list_rooms(site, include_retired=True)}
        return _import_page(request, 422, values=values, failed=str(exc),
                            conflicts=p.conflict_rows(exc.conflicts, rooms))
    except ops.OutsideHours as exc:
        return _import_page(request, 422, values=values, failed=" ".join(
            x.reason for x in exc.problems[:5]))
    except Invalid as exc:
        return _import_page(request, 422, values=values, errors=exc.errors)
    first = min((b.start_at for b in created), default=None)
    return _import_page(request, values=values, imported=len(created),
                        first_url=p.safe_back(site, None, first.astimezone(
                            ops.site_zone(site)).date()) if first else None)


# --- settings --------------------------------------------------------------------------

WEEKDAY_KEYS = range(7)


def _settings_page(request: Request, status: int = 200, **extra) -> Response:
    site = request.state.site
    today = p.today(site)
    opening = hours_mod.opening_hours(site)
    values = {}
    for w in WEEKDAY_KEYS:
        intervals = opening.get(w, [])
        if intervals:
            values[f"opens_{w}"] = f"{intervals[0][0]:%H:%M}"
            values[f"closes_{w}"] = f"{intervals[-1][1]:%H:%M}"
    values["holidays_closed"] = hours_mod.holidays_closed(site)
    values["periods"] = periods_mod.periods_text(periods_mod.list_periods(site))
    rooms = list_rooms(site)
    adjacent = set()
    for r in rooms:
        adjacent |= {tuple(sorted((r.id, o))) for o in ops.adjacent_room_ids(r)}
    ctx = {"nav": "calendar", "values": values, "errors": {}, "base": p.base_url(site),
           "weekdays": [(w, v.weekday_name(dt.date(2024, 1, 1) + dt.timedelta(days=w)))
                        for w in WEEKDAY_KEYS],
           "closed": hours_mod.closed_days(site, today - dt.timedelta(days=366),
                                           today + dt.timedelta(days=3 * 366)),
           "rooms": rooms, "adjacent": sorted(adjacent), "room_names": {r.id: r.name
                                                                        for r in rooms}}
    for k, val in extra.items():
        if k == "values":
            ctx["values"] = {**ctx["values"], **val}
        else:
            ctx[k] = val
    return render(request, "calendar/settings.html", ctx, status_code=status)


@requires("calendar.manage")
def settings(request: Request):
    return _settings_page(request)


def _hours_from(form: dict) -> list[tuple[int, dt.time, dt.time]]:
    out = []
    for w in WEEKDAY_KEYS:
        opens, closes = form.get(f"opens_{w}"), form.get(f"closes_{w}")
        if not opens and not closes:
            continue
        try:
            out.append((w, dt.time.fromisoformat(opens or ""), dt.time.fromisoformat(closes or "")))
        except ValueError:
            raise Invalid({f"opens_{w}": _("Give both times (HH:MM), or neither.")}) from None
    return out


@requires("calendar.manage")
def settings_save(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        hours = _hours_from(form)
        periods = periods_mod.parse_periods(form.get("periods", ""))
        try:
            hours_mod.set_opening_hours(site, hours)
        except Invalid as exc:  # the back end names its own fields: show them at Monday's
            raise Invalid({f"opens_{hours[0][0] if hours else 0}":
                           " ".join(exc.errors.values())}) from None
        hours_mod.set_holidays_closed(site, form.get("holidays_closed") == "on")
        periods_mod.set_periods(site, periods)
    except Invalid as exc:
        return _settings_page(request, 422, values=form, errors=exc.errors)
    return _settings_page(request, message=_("The calendar settings were saved."))


@requires("calendar.manage")
def closed_days(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        if form.get("remove"):
            hours_mod.remove_closed_day(site, form["remove"])
            return _settings_page(request, message=_("The closed days were removed."))
        start = forms._date(form.get("start_date", ""), "start_date")
        end = forms._date(form["end_date"], "end_date") if form.get("end_date") else start
        hours_mod.add_closed_day(site, start, end, form.get("name", ""))
    except NotFound:
        return _settings_page(request, 422, errors={"remove": _("No such closed days.")})
    except Invalid as exc:
        return _settings_page(request, 422, values=form, errors=exc.errors)
    return _settings_page(request, message=_("The closed days were added."))


@requires("calendar.manage")
def adjacency(request: Request):
    site = request.state.site
    form = read_form(request)
    try:
        a = _room(site, form.get("room_a"))
        b = _room(site, form.get("room_b"))
        ops.set_adjacent(site, a, b, form.get("adjacent") != "0")
    except Invalid as exc:
        return _settings_page(request, 422, errors=exc.errors)
    return _settings_page(request, message=_("The rooms next to each other were saved."))


def routes() -> list[Route]:
    return [
        Route("/", week, methods=["GET"], name="week"),
        Route("/day/", day, methods=["GET"], name="day"),
        Route("/month/", month, methods=["GET"], name="month"),
        Route("/switch/", switch, methods=["GET"], name="switch"),
        Route("/new/", booking_new, methods=["GET"], name="new"),
        Route("/new/", booking_create, methods=["POST"], name="create"),
        Route("/b/{booking_id}/", booking_detail, methods=["GET"], name="booking"),
        Route("/b/{booking_id}/", booking_update, methods=["POST"], name="update"),
        Route("/b/{booking_id}/cancel/", booking_cancel, methods=["POST"], name="cancel"),
        Route("/feeds/", feeds, methods=["GET"], name="feeds"),
        Route("/feeds/", feed_create, methods=["POST"], name="feed_create"),
        Route("/feeds/{feed_id}/revoke/", feed_revoke, methods=["POST"], name="feed_revoke"),
        Route("/feed/{feed_token}.ics", feed_file, methods=["GET"], name="feed"),
        Route("/import/", import_form, methods=["GET"], name="import"),
        Route("/import/", import_preview, methods=["POST"], name="import_preview"),
        Route("/import/commit/", import_commit, methods=["POST"], name="import_commit"),
        Route("/settings/", settings, methods=["GET"], name="settings"),
        Route("/settings/", settings_save, methods=["POST"], name="settings_save"),
        Route("/settings/closed/", closed_days, methods=["POST"], name="closed"),
        Route("/settings/adjacent/", adjacency, methods=["POST"], name="adjacent"),
    ]
