"""What a booking form or API request may contain."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from hubcore.forms import nfkc
from hubcore.i18n import N_
from hubcore.i18n import gettext as _

# Longest occurrence. Range queries look this far back for occurrences still running, so
# it bounds every index scan: a week view reads two weeks of the index, not months.
# Longer periods are booked as daily series.
MAX_SPAN = dt.timedelta(days=7)
MAX_BUFFER_MINUTES = 240
# Longest occurrence with its setup and cleanup time (what conflicts look at).
MAX_BLOCK = MAX_SPAN + dt.timedelta(minutes=2 * MAX_BUFFER_MINUTES)


def _as_datetime(v):
    v = nfkc(v)
    if isinstance(v, dt.date) and not isinstance(v, dt.datetime):
        return dt.datetime.combine(v, dt.time(0))
    if isinstance(v, str) and len(v) == 10:  # a date alone: midnight (all-day bookings)
        return v + "T00:00:00"
    return v


class BookingIn(BaseModel):
    """A booking. ``start``/``end`` without a zone are wall-clock times in the site's
    zone. For all-day bookings only their dates count and ``end`` is the last day."""

    model_config = ConfigDict(extra="forbid")

    room: int = Field(title=N_("Room"), ge=1)
    title: str = Field(title=N_("Title"), min_length=1, max_length=200)
    program: str = Field("calendar", title=N_("Program"), min_length=1, max_length=100)
    organiser: int | None = Field(None, title=N_("Organiser"), ge=1)
    attendance: int = Field(1, title=N_("Expected attendance"), ge=1, le=1000)
    all_day: bool = Field(False, title=N_("All day"))
    start: dt.datetime = Field(title=N_("Start"))
    end: dt.datetime = Field(title=N_("End"))
    setup_minutes: int = Field(0, title=N_("Setup time (minutes)"), ge=0, le=MAX_BUFFER_MINUTES)
    cleanup_minutes: int = Field(0, title=N_("Cleanup time (minutes)"), ge=0,
                                 le=MAX_BUFFER_MINUTES)
    status: Literal["confirmed", "pending"] = Field("confirmed", title=N_("Status"))
    notes: str = Field("", title=N_("Notes"), max_length=2000)
    loud: bool = Field(False, title=N_("Makes noise (music, sports)"))
    # RFC 5545 RRULE value, e.g. FREQ=MONTHLY;BYDAY=2TU;COUNT=10 (毎月第2火曜, 10回).
    rrule: str = Field("", title=N_("Repeat"), max_length=500)
    exdates: list[dt.date] = Field(default_factory=list, title=N_("Except on"))
    rdates: list[dt.datetime] = Field(default_factory=list, title=N_("Also on"))

    @field_validator("title", "notes", mode="before")
    @classmethod
    def _normalise_text(cls, v):
        return unicodedata.normalize("NFKC", v).strip() if isinstance(v, str) else v

    @field_validator("room", "organiser", "attendance", "setup_minutes", "cleanup_minutes",
                     mode="before")
    @classmethod
    def _half_width(cls, v):
        return None if v == "" else nfkc(v)

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates(cls, v):
        return _as_datetime(v)

    @field_validator("rdates", mode="before")
    @classmethod
    def _rdates(cls, v):
        return [_as_datetime(x) for x in v] if isinstance(v, list) else v

    @field_validator("all_day", "loud", mode="before")
    @classmethod
    def _checkbox(cls, v):
        return True if v == "on" else v

    @field_validator("end")
    @classmethod
    def _end_after_start(cls, v: dt.datetime, info: ValidationInfo):
        start = info.data.get("start")
        if start is None:
            return v
        if (start.tzinfo is None) != (v.tzinfo is None):
            raise ValueError(_("Give the start and the end both with or both without a zone."))
        if info.data.get("all_day"):
            if v.date() < start.date():
                raise ValueError(_("The last day is before the first day."))
        elif v <= start:
            raise ValueError(_("The end must be after the start."))
        if v - start + (dt.timedelta(days=1) if info.data.get("all_day") else dt.timedelta(0)) \
                > MAX_SPAN:
            raise ValueError(_("A booking lasts {days} days at most; book a longer period "
                               "as a repeating booking.").format(days=MAX_SPAN.days))
        return v
