"""The booking form: its fields to and from BookingIn, and the repeat choices."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hubcore.calendar import operations as ops
from hubcore.calendar import recurrence as rec
from hubcore.calendar.models import Booking
from hubcore.calendar.schemas import BookingIn
from hubcore.errors import Invalid
from hubcore.forms import validate
from hubcore.i18n import N_
from hubcore.i18n import gettext as _

REPEATS = {
    "": N_("Does not repeat"),
    "daily": N_("Every day"),
    "weekly": N_("Every week on this weekday"),
    "biweekly": N_("Every two weeks"),
    "monthly_weekday": N_("Every month on this weekday (e.g. 2nd Tuesday)"),
    "monthly_date": N_("Every month on this date"),
    "yearly": N_("Every year"),
    "custom": N_("Custom rule (RFC 5545 RRULE)"),
}
# Fields of BookingIn the form edits (exdates and rdates stay as they are).
EDITED = ("room", "title", "program", "organiser", "attendance", "all_day", "start", "end",
          "setup_minutes", "cleanup_minutes", "status", "notes", "loud", "rrule")
# What one occurrence of a series may change.
SINGLE = ("start", "end", "room", "title")


def _date(value: Any, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise Invalid({name: _("Give a date (YYYY-MM-DD).")}) from None


def _time(value: Any, name: str) -> dt.time:
    try:
        return dt.time.fromisoformat(str(value).zfill(5) if len(str(value)) == 4 else str(value))
    except ValueError:
        raise Invalid({name: _("Give a time (HH:MM).")}) from None


def rule_from_form(form: dict[str, Any], day: dt.date) -> str:
    """The RRULE value the repeat fields ask for ("" for none)."""
    choice = form.get("repeat", "")
    if choice == "custom":
        return str(form.get("rrule", "")).strip()
    if not choice:
        return ""
    until = _date(form["repeat_until"], "repeat_until") if form.get("repeat_until") else None
    count = None
    if form.get("repeat_count"):
        try:
            count = int(form["repeat_count"])
        except ValueError:
            raise Invalid({"repeat_count": _("Give a whole number of times.")}) from None
        if not 1 <= count <= rec.MAX_OCCURRENCES:
            raise Invalid({"repeat_count": _("Between 1 and {n} times.").format(
                n=rec.MAX_OCCURRENCES)})
    if until is not None and count is not None:
        raise Invalid({"repeat_count": _("Give an end date or a number of times, not both.")})
    freq, interval, monthly = {
        "daily": ("DAILY", 1, "date"), "weekly": ("WEEKLY", 1, "date"),
        "biweekly": ("WEEKLY", 2, "date"), "monthly_weekday": ("MONTHLY", 1, "weekday"),
        "monthly_date": ("MONTHLY", 1, "date"), "yearly": ("YEARLY", 1, "date"),
    }.get(choice, (None, 1, "date"))
    if freq is None:
        raise Invalid({"repeat": _("Choose how the booking repeats.")})
    return rec.build_rrule(freq, interval=interval, monthly=monthly, start=day, until=until,
                           count=count)


def booking_data(form: dict[str, Any]) -> dict[str, Any]:
    """BookingIn fields from the posted form (date + times, repeat choices)."""
    errors: dict[str, str] = {}
    day = end_day = None
    try:
        day = _date(form.get("date", ""), "date")
    except Invalid as exc:
        errors.update(exc.errors)
    all_day = form.get("all_day") in ("on", "1", "true", True)
    data: dict[str, Any] = {k: form[k] for k in (
        "room", "title", "program", "organiser", "attendance", "setup_minutes",
        "cleanup_minutes", "status", "notes") if form.get(k) not in (None, "")}
    data["title"] = form.get("title", "")
    data["all_day"] = all_day
    data["loud"] = form.get("loud") in ("on", "1", "true", True)
    try:
        if all_day:
            end_day = _date(form["end_date"], "end_date") if form.get("end_date") else day
        else:
            start_t = _time(form.get("start_time", ""), "start_time")
            end_t = _time(form.get("end_time", ""), "end_time")
    except Invalid as exc:
        errors.update(exc.errors)
    if errors:
        raise Invalid(errors)
    if all_day:
        data["start"], data["end"] = day, end_day
    else:
        data["start"] = dt.datetime.combine(day, start_t)
        # An end at 0:00 means midnight at the end of the day.
        end_date = day + dt.timedelta(days=1) if end_t == dt.time(0) else day
        data["end"] = dt.datetime.combine(end_date, end_t)
    data["rrule"] = rule_from_form(form, day)
    return data


# BookingIn's errors on start/end belong to the form's date and time fields.
FIELD_OF = {"start": "start_time", "end": "end_time"}


def form_errors(errors: dict[str, str], all_day: bool) -> dict[str, str]:
    out = {}
    for k, v in errors.items():
        key = FIELD_OF.get(k, k)
        if all_day and k in ("start", "end"):
            key = "date" if k == "start" else "end_date"
        out.setdefault(key, v)
    return out


def form_values(fields: dict[str, Any], tz) -> dict[str, Any]:
    """Form values from BookingIn fields (a booking or one occurrence of it)."""
    start = fields["start"]
    end = fields["end"]
    if isinstance(start, dt.datetime) and start.tzinfo is not None:
        start, end = start.astimezone(tz), end.astimezone(tz)
    values = {k: fields.get(k) for k in ("room", "title", "program", "organiser", "attendance",
                                         "setup_minutes", "cleanup_minutes", "status", "notes")}
    values["all_day"] = fields.get("all_day", False)
    values["loud"] = fields.get("loud", False)
    values["date"] = start.date().isoformat()
    values["end_date"] = end.date().isoformat() if values["all_day"] else ""
    values["start_time"] = f"{start:%H:%M}"
    values["end_time"] = f"{end:%H:%M}"
    rule = fields.get("rrule") or ""
    values["repeat"] = "custom" if rule else ""
    values["rrule"] = rule
    return values


def changes_for(booking: Booking, data: dict[str, Any], occurrence: ops.Occurrence | None,
                scope: str) -> dict[str, Any]:
    """Only what the form changed, compared with the booking (its start and end with the
    chosen occurrence's), as update_booking wants it; typed by BookingIn."""
    tz = ops.site_zone(booking.site)
    current = ops.booking_input(booking)
    if occurrence is not None:
        current["start"], current["end"] = occurrence.start, occurrence.end
        if booking.all_day:
            current["end"] = occurrence.end - dt.timedelta(days=1)
    for k in ("start", "end"):
        if isinstance(current[k], dt.datetime):
            current[k] = current[k].astimezone(tz).replace(tzinfo=None)
    new = validate(BookingIn, {**current, **data})
    old = validate(BookingIn, current)
    fields = SINGLE if scope == "this" else EDITED
    changed = {k: getattr(new, k) for k in fields if getattr(new, k) != getattr(old, k)}
    if scope == "this":
        others = [k for k in EDITED if k not in SINGLE and getattr(new, k) != getattr(old, k)]
        if others:
            raise Invalid({others[0]: _("Only the time, room and title of a single "
                                        "occurrence can be changed. Choose “this and "
                                        "following” or “all” to change more.")})
    return changed
