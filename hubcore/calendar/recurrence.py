"""RFC 5545 recurrence: checking RRULE values and expanding series with dateutil.

Series are expanded in their own zone's wall clock (10:00 every Tuesday stays
10:00 across a DST change), then stored in UTC.
"""

from __future__ import annotations

import datetime as dt
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrulebase, rruleset, rrulestr

from hubcore.i18n import gettext as _

# Rooms are booked by the day at the finest; HOURLY and finer rules are refused.
FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
# Endless (or very long) rules get occurrence rows up to this far ahead.
HORIZON = relativedelta(months=18)
MAX_OCCURRENCES = 1000  # per booking, within the horizon
MAX_RDATES = 500
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RuleError(ValueError):
    """An RRULE (or EXDATE/RDATE) that cannot be used; the message is translated."""


def horizon_from(now: dt.datetime) -> dt.datetime:
    return now + HORIZON


def _parse_parts(rule: str) -> dict[str, str]:
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for piece in text.split(";"):
        if not piece.strip():
            continue
        key, sep, value = piece.partition("=")
        key, value = key.strip().upper(), value.strip().upper()
        if not sep or not key or not value or key in parts:
            raise RuleError(_("The repeat rule is not valid: {rule}").format(rule=rule))
        parts[key] = value
    return parts


def _parse_until(value: str, tz: ZoneInfo, all_day: bool) -> dt.datetime:
    """UNTIL as an aware datetime. A date means the end of that day in the series' zone."""
    try:
        if len(value) == 8:
            day = dt.datetime.strptime(value, "%Y%m%d")
            return (day + dt.timedelta(days=1, seconds=-1)).replace(tzinfo=tz)
        if value.endswith("Z"):
            return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        # A floating UNTIL (not allowed with TZID, but common) means local time.
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
    except ValueError:
        raise RuleError(_("The repeat rule's end date is not valid: {value}")
                        .format(value=value)) from None


def normalise_rule(rule: str, tz: ZoneInfo, all_day: bool) -> str:
    """Check an RRULE value and return it in one form: FREQ first, UNTIL as RFC 5545
    wants it next to DTSTART (a DATE for all-day series, UTC otherwise)."""
    if not rule.strip():
        return ""
    parts = _parse_parts(rule)
    if parts.get("FREQ") not in FREQS:
        raise RuleError(_("A booking repeats daily, weekly, monthly or yearly at most."))
    if "UNTIL" in parts and "COUNT" in parts:
        raise RuleError(_("A repeat rule ends either on a date or after a number of times, "
                          "not both."))
    if "COUNT" in parts:
        if not parts["COUNT"].isdigit() or not 1 <= int(parts["COUNT"]) <= MAX_OCCURRENCES:
            raise RuleError(_("The number of repeats must be between 1 and {n}.")
                            .format(n=MAX_OCCURRENCES))
    if "UNTIL" in parts:
        until = _parse_until(parts["UNTIL"], tz, all_day)
        if all_day:
            parts["UNTIL"] = until.astimezone(tz).strftime("%Y%m%d")
        else:
            parts["UNTIL"] = until.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    ordered = {"FREQ": parts.pop("FREQ"), **parts}
    text = ";".join(f"{k}={v}" for k, v in ordered.items())
    try:
        _dateutil_rule(text, dt.datetime(2026, 1, 1, tzinfo=tz), tz, all_day, shape_only=True)
    except RuleError:
        raise
    except (ValueError, TypeError) as exc:
        raise RuleError(_("The repeat rule is not valid: {rule}").format(rule=rule)) from exc
    return text


# Parts a booking's rule may use. BYYEARDAY, BYWEEKNO and BYHOUR and finer are left out.
_PARTS = {"FREQ", "INTERVAL", "UNTIL", "COUNT", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS",
          "WKST"}
_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def _ints(value: str) -> list[int]:
    return [int(x) for x in value.split(",")]


def _check_shape(parts: dict[str, str], dtstart: dt.datetime | None) -> None:
    """Refuse rules that may give no occurrence at all (30 February): dateutil would
    look for one until the year 9999, which takes seconds for a daily rule. What is
    allowed here always gives occurrences, so expansion stays bounded."""
    unsupported = sorted(set(parts) - _PARTS)
    if unsupported:
        raise RuleError(_("Repeat rules with {parts} are not supported for room bookings.")
                        .format(parts=", ".join(unsupported)))
    freq = parts["FREQ"]
    try:
        interval = int(parts.get("INTERVAL", "1"))
        months = _ints(parts["BYMONTH"]) if "BYMONTH" in parts else []
        monthdays = _ints(parts["BYMONTHDAY"]) if "BYMONTHDAY" in parts else []
        setpos = _ints(parts["BYSETPOS"]) if "BYSETPOS" in parts else []
    except ValueError:
        raise RuleError(_("The repeat rule is not valid: {rule}").format(
            rule=";".join(f"{k}={v}" for k, v in parts.items()))) from None
    days = [_BYDAY.match(d) for d in parts["BYDAY"].split(",")] if "BYDAY" in parts else []
    if (not 1 <= interval <= 99 or any(m is None for m in days)
            or any(not 1 <= m <= 12 for m in months)
            or any(not 1 <= abs(d) <= 31 for d in monthdays)
            or any(not 1 <= abs(p) <= 5 for p in setpos)):
        raise RuleError(_("The repeat rule is not valid: {rule}").format(
            rule=";".join(f"{k}={v}" for k, v in parts.items())))
    ordinal = any(m.group(2) for m in days)
    limit = 53 if freq == "YEARLY" and not months else 5
    no_day = _("This repeat rule gives no date at all.")
    if any(m.group(2) and not 1 <= int(m.group(2)) <= limit for m in days):
        raise RuleError(no_day)
    if freq in ("DAILY", "WEEKLY") and (ordinal or monthdays or setpos):
        raise RuleError(_("A daily or weekly rule takes weekdays and months only."))
    if freq == "DAILY" and interval > 1 and (days or months):
        raise RuleError(_("Every few days on given weekdays is not supported; "
                          "use a weekly rule."))
    if monthdays and days:
        raise RuleError(_("A repeat rule takes a day of the month or a weekday, not both."))
    if setpos and not days:
        raise RuleError(no_day)
    if dtstart is not None and freq in ("MONTHLY", "YEARLY") and not days and not monthdays:
        monthdays = [dtstart.day]  # what dateutil takes when the rule names no day
        if freq == "YEARLY" and not months:
            months = [dtstart.month]
    if monthdays and not any(abs(d) <= _DAYS_IN_MONTH[m - 1]
                             for d in monthdays for m in (months or range(1, 13))):
        raise RuleError(no_day)


def _dateutil_rule(rule: str, dtstart: dt.datetime, tz: ZoneInfo, all_day: bool,
                   bound: dt.datetime | None = None, shape_only: bool = False) -> rrulebase:
    parts = _parse_parts(rule)
    _check_shape(parts, None if shape_only else dtstart)
    until = _parse_until(parts.pop("UNTIL"), tz, all_day) if "UNTIL" in parts else None
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    r = rrulestr("RRULE:" + text, dtstart=dtstart)
    # Never iterate past the bound: a rule matching no day (Feb 30) would otherwise run
    # to the year 9999. dateutil warns about COUNT with UNTIL, which is what we want.
    limit = min(x for x in (until, bound) if x is not None) if (until or bound) else None
    if limit is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            r = r.replace(until=limit)
    return r


@dataclass(frozen=True)
class Series:
    """What expansion needs of a booking. dtstart is aware in the series' zone."""

    dtstart: dt.datetime
    duration: dt.timedelta
    rule: str = ""
    rdates: tuple[dt.datetime, ...] = ()
    exdates: frozenset[dt.date] = frozenset()
    all_day: bool = False

    @property
    def tz(self) -> ZoneInfo:
        return self.dtstart.tzinfo  # type: ignore[return-value]

    def has_end(self) -> bool:
        parts = _parse_parts(self.rule) if self.rule else {}
        return not self.rule or "UNTIL" in parts or "COUNT" in parts

    def end_of(self, start: dt.datetime) -> dt.datetime:
        # Aware + timedelta is wall-clock arithmetic: a 2-hour meeting stays 2 hours on
        # the clock face, as RFC 5545 and recurring-ical-events compute it.
        return start + self.duration


@dataclass(frozen=True)
class Expansion:
    starts: list[dt.datetime]  # aware, in the series' zone, ordered
    complete: bool  # False: more occurrences follow after the bound


class TooManyOccurrences(RuleError):
    """The rule gives more occurrences before the horizon than a booking may have."""


def expand(series: Series, bound: dt.datetime, after: dt.datetime | None = None,
           limit: int = MAX_OCCURRENCES) -> Expansion:
    """The series' starts after ``after`` (exclusive) up to ``bound`` (inclusive)."""
    rset = rruleset()
    rule = None
    if series.rule:
        rule = _dateutil_rule(series.rule, series.dtstart, series.tz, series.all_day, bound)
        rset.rrule(rule)
    else:
        rset.rdate(series.dtstart)
    for r in series.rdates:
        rset.rdate(r)
    it: Iterable[dt.datetime] = rset.xafter(after, inc=False) if after is not None else rset
    starts = []
    for start in it:
        if start > bound:
            break
        if start.astimezone(series.tz).date() in series.exdates:
            continue
        starts.append(start.astimezone(series.tz))
        if len(starts) > limit:
            raise TooManyOccurrences(
                _("The booking has more than {n} occurrences within {months} months; "
                  "shorten the repeat rule.").format(n=limit, months=18))
    return Expansion(starts, _complete(series, bound, rule))


def _complete(series: Series, bound: dt.datetime, rule: rrulebase | None) -> bool:
    """Whether no occurrence comes after ``bound``."""
    if any(r > bound for r in series.rdates):
        return False
    if rule is None:
        return True
    parts = _parse_parts(series.rule)
    if "UNTIL" in parts:
        return _parse_until(parts["UNTIL"], series.tz, series.all_day) <= bound
    if "COUNT" in parts:
        # The bounded rule stops at the bound or at COUNT, whichever comes first.
        return rule.count() >= int(parts["COUNT"])
    return False


def first_start(series: Series, bound: dt.datetime) -> dt.datetime | None:
    """The first instance the rule itself gives (None when it gives none before bound)."""
    if not series.rule:
        return series.dtstart
    rule = _dateutil_rule(series.rule, series.dtstart, series.tz, series.all_day, bound)
    for start in rule:
        return start
    return None


def until_before(rule: str, instant: dt.datetime, tz: ZoneInfo, all_day: bool) -> str:
    """The rule, ending just before ``instant`` (for splitting a series)."""
    parts = _parse_parts(rule)
    parts.pop("COUNT", None)
    if all_day:
        parts["UNTIL"] = (instant.astimezone(tz).date() - dt.timedelta(days=1)).strftime("%Y%m%d")
    else:
        parts["UNTIL"] = (instant - dt.timedelta(seconds=1)).astimezone(dt.UTC).strftime(
            "%Y%m%dT%H%M%SZ")
    return ";".join(f"{k}={v}" for k, v in parts.items())


def with_count(rule: str, count: int | None) -> str:
    parts = _parse_parts(rule)
    if count is None:
        parts.pop("COUNT", None)
    else:
        parts["COUNT"] = str(count)
    return ";".join(f"{k}={v}" for k, v in parts.items())


def rule_count(rule: str) -> int | None:
    parts = _parse_parts(rule)
    return int(parts["COUNT"]) if "COUNT" in parts else None


def build_rrule(freq: str, *, interval: int = 1, weekdays: Sequence[str] = (),
                monthly: str = "date", start: dt.date | None = None,
                until: dt.date | None = None, count: int | None = None) -> str:
    """An RRULE value from what a booking form asks.

    ``monthly="weekday"`` with ``start`` repeats on the same weekday of the month as
    ``start`` (第2火曜 → ``BYDAY=2TU``; the last one of the month → ``-1``).
    """
    parts = [f"FREQ={freq.upper()}"]
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    if freq.upper() == "WEEKLY" and weekdays:
        order = [d for d in WEEKDAYS if d in {w.upper() for w in weekdays}]
        parts.append("BYDAY=" + ",".join(order))
    if freq.upper() == "MONTHLY" and monthly == "weekday":
        if start is None:
            raise ValueError("monthly by weekday needs the start date")
        nth = (start.day - 1) // 7 + 1
        if nth == 5:
            nth = -1  # a 5th Tuesday exists only in some months: "the last" is meant
        parts.append(f"BYDAY={nth}{WEEKDAYS[start.weekday()]}")
    if until is not None:
        parts.append(f"UNTIL={until:%Y%m%d}")
    if count is not None:
        parts.append(f"COUNT={count}")
    return ";".join(parts)


def format_dates(days: Iterable[dt.date]) -> str:
    return ",".join(sorted({d.strftime("%Y%m%d") for d in days}))


def parse_dates(text: str) -> frozenset[dt.date]:
    return frozenset(dt.datetime.strptime(x, "%Y%m%d").date() for x in text.split(",") if x)


def format_local(values: Iterable[dt.datetime], tz: ZoneInfo) -> str:
    return ",".join(sorted({v.astimezone(tz).strftime("%Y%m%dT%H%M%S") for v in values}))


def parse_local(text: str, tz: ZoneInfo) -> tuple[dt.datetime, ...]:
    return tuple(dt.datetime.strptime(x, "%Y%m%dT%H%M%S").replace(tzinfo=tz)
                 for x in text.split(",") if x)
