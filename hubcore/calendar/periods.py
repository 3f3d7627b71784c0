"""School periods (1限, 2限 …) as a site's calendar time labels, edited as text lines."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from hubcore.calendar.models import CalendarPeriod
from hubcore.db import database, write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.sites.models import Site

MAX_PERIODS = 20
# "1限 8:50-9:35", "昼休み 12:15〜13:00" (full-width digits and 〜 are fine after NFKC)
_LINE = re.compile(r"^(?P<name>.+?)\s+(?P<start>\d{1,2}:\d{2})\s*[-–~〜]\s*(?P<end>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class Period:
    name: str
    starts: dt.time
    ends: dt.time


def list_periods(site: Site) -> list[Period]:
    """Plain SQL: every calendar page asks, and nearly always gets nothing."""
    p = database.obj.param
    rows = database.execute_sql(
        "SELECT name, CAST(starts AS TEXT), CAST(ends AS TEXT) FROM calendar_period "
        f"WHERE site_id = {p} ORDER BY position", [site.id]).fetchall()
    return [Period(n, dt.time.fromisoformat(a), dt.time.fromisoformat(b)) for n, a, b in rows]


def periods_text(periods: list[Period]) -> str:
    return "\n".join(f"{p.name} {p.starts:%H:%M}-{p.ends:%H:%M}" for p in periods)


def parse_periods(text: str) -> list[Period]:
    """One period a line, "name HH:MM-HH:MM", in time order without overlaps."""
    out: list[Period] = []
    for number, raw in enumerate(unicodedata.normalize("NFKC", text).splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        m = _LINE.match(line)
        try:
            if m is None:
                raise ValueError
            starts = dt.time.fromisoformat(m["start"].zfill(5))
            ends = dt.time.fromisoformat(m["end"].zfill(5))
        except ValueError:
            raise Invalid({"periods": _("Line {n}: write a name and its times, e.g. "
                                        "“1限 8:50-9:35”.").format(n=number)}) from None
        name = m["name"].strip()[:20]
        if ends <= starts:
            raise Invalid({"periods": _("Line {n}: the period ends before it starts.")
                           .format(n=number)})
        if out and starts < out[-1].ends:
            raise Invalid({"periods": _("Line {n}: periods must be in time order without "
                                        "overlapping.").format(n=number)})
        out.append(Period(name, starts, ends))
    if len(out) > MAX_PERIODS:
        raise Invalid({"periods": _("At most {n} periods.").format(n=MAX_PERIODS)})
    return out


def set_periods(site: Site, periods: list[Period]) -> None:
    """Replace the site's periods; an empty list goes back to plain hours."""
    with write_transaction():
        CalendarPeriod.delete().where(CalendarPeriod.site == site).execute()
        if periods:
            CalendarPeriod.insert_many([
                {"site": site, "position": i, "name": p.name, "starts": p.starts,
                 "ends": p.ends} for i, p in enumerate(periods)]).execute()
