"""The calendar in the JSON API: bookings (create, read, change, cancel) and occurrences.

``calendar_operations()`` is added to hubcore.api.routes.OPERATIONS, so the routes
and the OpenAPI document both come from it. Times are ISO 8601; answers give them
with the site's offset (+09:00). A room that is taken answers 409 with every
conflicting occurrence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from starlette.responses import JSONResponse

from hubcore.api.http import ApiCall, Operation
from hubcore.api.models import ApiError
from hubcore.calendar import operations as ops
from hubcore.calendar import recurrence as rec
from hubcore.calendar.models import Booking
from hubcore.calendar.schemas import BookingIn
from hubcore.db import MAX_ID
from hubcore.errors import Invalid
from hubcore.forms import validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.rooms.operations import get_room

MAX_RANGE = dt.timedelta(days=92)  # occurrences per request: a quarter at most

# --- models ---------------------------------------------------------------------------


class Retry(BaseModel):
    """What to do when something is in the way (the same as the booking form's offers)."""

    override: bool = Field(False, title=N_("Override opening hours"),
                           description="Book outside opening hours, on closed days and "
                                       "holidays (needs calendar.override)")
    skip_conflicts: bool = Field(False, title=N_("Skip conflicting dates"),
                                 description="Book the other dates of a series; the "
                                             "conflicting ones become EXDATEs")
    skip_closed: bool = Field(False, title=N_("Skip closed dates"),
                              description="Book the other dates of a series; closed days "
                                          "and holidays become EXDATEs")


class BookingCreateIn(BookingIn, Retry):
    """A booking (``start``/``end`` ISO 8601; without an offset they are the site's wall
    clock) with what to do when something is in the way."""


class ChangeOptions(Retry):
    """Which occurrences a change applies to, and what to do when something is in the way."""

    scope: Literal["this", "following", "all"] = Field(
        "all", title=N_("Scope"),
        description="this: one occurrence (only start, end, room and title); following: "
                    "this one and the later ones (the series is split); all: the series")
    recurrence_id: dt.datetime | None = Field(
        None, title=N_("Occurrence"),
        description="The occurrence (its RECURRENCE-ID, as in occurrences) that start/end "
                    "name and where a split happens; required for this and following")


class BookingChangeIn(BookingIn, ChangeOptions):
    """Changes to a booking: any of its fields, plus which occurrences they apply to."""


class BookingOut(BaseModel):
    id: int
    uid: str = Field(description="The iCalendar UID")
    room: int
    title: str
    program: str
    organiser: int | None
    attendance: int
    all_day: bool
    start: dt.datetime = Field(description="The first occurrence's start, with the offset")
    end: dt.datetime = Field(description="The first occurrence's end (exclusive)")
    setup_minutes: int
    cleanup_minutes: int
    status: Literal["confirmed", "pending", "cancelled"]
    notes: str
    loud: bool
    rrule: str = Field(description="RFC 5545 RRULE value; empty for a single booking")
    exdates: list[dt.date]
    rdates: list[dt.datetime]
    sequence: int
    url: str


class OccurrenceOut(BaseModel):
    booking_id: int
    recurrence_id: dt.datetime = Field(description="Names this occurrence in PATCH/DELETE")
    room: int
    title: str
    program: str
    start: dt.datetime
    end: dt.datetime
    all_day: bool
    status: Literal["confirmed", "pending"]
    moved: bool


class ConflictOut(BaseModel):
    date: dt.date
    start: dt.datetime
    end: dt.datetime
    title: str
    program: str
    booking_id: int
    room: int
    requested_start: dt.datetime = Field(description="The requested occurrence it is in the "
                                                     "way of")


class ConflictError(ApiError):
    """409: the room is taken; nothing was saved."""

    conflicts: list[ConflictOut]


class BookingQuery(BaseModel):
    room: int | None = Field(None, title=N_("Room"), ge=1, le=MAX_ID)
    include_cancelled: bool = Field(False, title=N_("Include cancelled bookings"))
    limit: int = Field(100, title=N_("Limit"), ge=1, le=500)
    offset: int = Field(0, title=N_("Offset"), ge=0, le=10**9)


class OccurrenceQuery(BaseModel):
    start: dt.datetime = Field(title=N_("From"), description="ISO 8601 date or time")
    end: dt.datetime = Field(title=N_("To"), description="ISO 8601 date or time (exclusive); "
                                                        "at most 92 days after start")
    room: int | None = Field(None, title=N_("Room"), ge=1, le=MAX_ID)
    program: str | None = Field(None, title=N_("Program"), max_length=100)

    @model_validator(mode="before")
    @classmethod
    def _dates(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for k in ("start", "end"):
                if isinstance(data.get(k), str) and len(data[k]) == 10:
                    data[k] = data[k] + "T00:00:00"
        return data

    @model_validator(mode="after")
    def _range(self) -> OccurrenceQuery:
        if (self.start.tzinfo is None) != (self.end.tzinfo is None) or self.end <= self.start:
            raise ValueError(_("The end must be after the start."))
        if self.end - self.start > MAX_RANGE:
            raise ValueError(_("Ask for {days} days at most.").format(days=MAX_RANGE.days))
        return self


class CancelQuery(BaseModel):
    scope: Literal["this", "following", "all"] = Field("all", title=N_("Scope"))
    recurrence_id: dt.datetime | None = Field(None, title=N_("Occurrence"))


# --- handlers ---------------------------------------------------------------------------


def _out(call: ApiCall, b: Booking) -> BookingOut:
    fields = ops.booking_input(b)
    tz = ops.site_zone(call.site)
    end = b.end_at.astimezone(tz)
    return BookingOut(
        id=b.id, uid=b.uid, room=b.room_id, title=b.title, program=b.program,
        organiser=b.organiser_id, attendance=b.attendance, all_day=b.all_day,
        start=b.start_at.astimezone(tz), end=end, setup_minutes=b.setup_minutes,
        cleanup_minutes=b.cleanup_minutes, status=b.status, notes=b.notes, loud=b.loud,
        rrule=b.rrule, exdates=fields["exdates"],
        rdates=[d.astimezone(tz) for d in fields["rdates"]], sequence=b.sequence,
        url=call.url("sites", call.site_slug, "bookings", b.id))


def _conflict(exc: ops.BookingConflict) -> JSONResponse:
    body = ConflictError(
        error="conflict", message=str(exc),
        conflicts=[ConflictOut(date=c.date, start=c.start, end=c.end, title=c.title,
                               program=c.program, booking_id=c.booking_id, room=c.room_id,
                               requested_start=c.requested_start) for c in exc.conflicts])
    return JSONResponse(body.model_dump(mode="json"), status_code=409)


def _retry(call: ApiCall, data: Retry) -> dict[str, bool]:
    if data.override:
        call.principal.require("calendar.override", site=call.site)
    return {"override": data.override, "skip_conflicts": data.skip_conflicts,
            "skip_closed": data.skip_closed}


def booking_create(call: ApiCall):
    data = validate(BookingCreateIn, call.body)
    flags = _retry(call, data)
    try:
        b = ops.create_booking(call.site, BookingIn(**data.model_dump(
            include=set(BookingIn.model_fields))), **flags)
    except ops.BookingConflict as exc:
        return _conflict(exc)
    call.headers["Location"] = call.url("sites", call.site_slug, "bookings", b.id)
    return _out(call, b)


def booking_list(call: ApiCall) -> list[BookingOut]:
    q = call.query
    sel = Booking.select().where(Booking.site == call.site)
    if q.room is not None:
        sel = sel.where(Booking.room == q.room)
    if not q.include_cancelled:
        sel = sel.where(Booking.status != "cancelled")
    found = sel.order_by(Booking.start_at, Booking.id).limit(q.limit).offset(q.offset)
    return [_out(call, b) for b in found]


def booking_detail(call: ApiCall) -> BookingOut:
    return _out(call, ops.get_booking(call.site, call.path_id("booking_id")))


def booking_update(call: ApiCall):
    b = ops.get_booking(call.site, call.path_id("booking_id"))
    control = {k: call.body[k] for k in ("scope", "recurrence_id", "override",
                                         "skip_conflicts", "skip_closed") if k in call.body}
    fields = {k: val for k, val in call.body.items() if k not in control}
    ctl = validate(ChangeOptions, control)
    flags = _retry(call, ctl)
    unknown = set(fields) - set(BookingIn.model_fields)
    if unknown:
        raise Invalid({sorted(unknown)[0]: _("{label} is not a known field.").format(
            label=sorted(unknown)[0])})
    current = ops.booking_input(b)
    if ctl.scope in ("this", "following") and ctl.recurrence_id is None:
        raise Invalid({"recurrence_id": _("Say which occurrence to change.")})
    if ctl.recurrence_id is not None and {"start", "end"} & set(fields):
        # start/end name that occurrence's new times: check them against its own.
        occ = next((o for o in ops.booking_occurrences(b, include_cancelled=True)
                    if o.recurrence_id == ctl.recurrence_id.astimezone(dt.UTC)), None)
        if occ is None:
            raise Invalid({"recurrence_id": _("This booking has no such occurrence.")})
        current["start"], current["end"] = occ.start_at, occ.end_at
        if b.all_day:
            current["end"] = occ.end_at - dt.timedelta(days=1)
    typed = validate(BookingIn, {**current, **fields})
    changes = {k: getattr(typed, k) for k in fields}
    if not changes:
        return _out(call, b)
    if ctl.scope == "this":
        flags = {"override": flags["override"]}
    try:
        b = ops.update_booking(b, changes, scope=ctl.scope, recurrence_id=ctl.recurrence_id,
                               **flags)
    except ops.BookingConflict as exc:
        return _conflict(exc)
    except rec.RuleError as exc:
        raise Invalid({"rrule": str(exc)}) from None
    return _out(call, b)


def booking_cancel(call: ApiCall) -> BookingOut:
    b = ops.get_booking(call.site, call.path_id("booking_id"))
    q = call.query
    if q.scope != "all" and q.recurrence_id is None:
        raise Invalid({"recurrence_id": _("Say which occurrence to cancel.")})
    b = ops.cancel_booking(b, scope=q.scope, recurrence_id=q.recurrence_id)
    return _out(call, b)


def occurrence_list(call: ApiCall) -> list[OccurrenceOut]:
    q = call.query
    room = get_room(call.site, q.room).id if q.room is not None else None
    found = ops.occurrences(call.site, q.start, q.end, room=room,
                            programs=[q.program] if q.program else None)
    return [OccurrenceOut(booking_id=o.booking_id, recurrence_id=o.recurrence_id,
                          room=o.room_id, title=o.title, program=o.program, start=o.start,
                          end=o.end, all_day=o.all_day, status=o.status, moved=o.moved)
            for o in found]


# --- the operations ---------------------------------------------------------------------


CONFLICT = {409: ("The room is taken at some of the times (every conflicting occurrence is "
                  "listed); nothing was saved", ConflictError)}


def calendar_operations() -> list[Operation]:
    s = "/sites/{site}"
    b = f"{s}/bookings/{{booking_id}}"
    return [
        Operation("GET", f"{s}/bookings", booking_list, "listBookings",
                  "List a site's bookings (series as one booking each)", "calendar",
                  BookingOut, many=True, query=BookingQuery, action="calendar.view"),
        Operation("POST", f"{s}/bookings", booking_create, "createBooking",
                  "Book a room, once or as a series (rrule)", "calendar", BookingOut,
                  status=201, body=BookingCreateIn, errors=CONFLICT,
                  description="Outside opening hours, on closed days and holidays the answer "
                              "is 422 naming the dates (override with calendar.override, or "
                              "skip_closed); a taken room is 409 (or skip_conflicts).",
                  action="calendar.book"),
        Operation("GET", b, booking_detail, "getBooking", "Get a booking", "calendar",
                  BookingOut, action="calendar.view"),
        Operation("PATCH", b, booking_update, "updateBooking",
                  "Change a booking, one occurrence, or this and the following ones",
                  "calendar", BookingOut, body=BookingChangeIn, partial=True,
                  errors=CONFLICT, action="calendar.book"),
        Operation("DELETE", b, booking_cancel, "cancelBooking",
                  "Cancel a booking, one occurrence, or this and the following ones",
                  "calendar", BookingOut, query=CancelQuery,
                  description="Cancelled bookings stay (status cancelled) and leave feeds.",
                  action="calendar.book"),
        Operation("GET", f"{s}/occurrences", occurrence_list, "listOccurrences",
                  "Occurrences between two times, series expanded, cancelled ones left out",
                  "calendar", OccurrenceOut, many=True, query=OccurrenceQuery,
                  action="calendar.view"),
    ]
