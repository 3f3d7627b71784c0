"""The cross-program report of a site, a municipality or the platform; KPI targets.

Every figure is an aggregate; no function here returns a person. The report of many
sites is a handful of grouped queries over all of them at once (never a query per
site and month):

* people, visits by age band and program, people in two or more programs: the
  ``visit_tally`` rollup (see ``hubcore.reports.visits`` for why visits are a core
  table with rollups);
* sessions and mixed-generation sessions: ``visit_session``;
* room use: minutes booked from calendar occurrences (confirmed bookings, by the
  occurrence's start, rooms in use today) over minutes open from opening hours,
  closed days and, where the site closes on them, public holidays;
* revenue: the lines of issued invoices and credit notes (negative lines) by the
  month they bill for (``invoice.period``), tax included, by program and payer type
  (a household, or the organisation's kind).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from hubcore import db
from hubcore.calendar.hours import holiday_name
from hubcore.calendar.models import CalendarSettings, ClosedDay, OpeningHours
from hubcore.db import write_transaction
from hubcore.errors import Invalid
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.people.operations import AGE_BANDS, age_band, age_band_label
from hubcore.plugins import get_host
from hubcore.reports.metrics import MetricRow, Period, fiscal_year_of
from hubcore.reports.models import UNKNOWN_BAND, KpiTarget
from hubcore.rooms.models import Room
from hubcore.sites.models import Municipality, Site
from hubcore.sites.operations import list_municipalities, list_sites

BANDS = [*range(len(AGE_BANDS)), UNKNOWN_BAND]
PAYER_KINDS = ("household", "company", "insurer", "municipality", "other")
PAYER_LABELS = {"household": N_("Households"), "company": N_("Companies"),
                "insurer": N_("Insurers"), "municipality": N_("Municipality"),
                "other": N_("Other organisations")}


def band_key(band: int) -> str:
    """``0–5`` … ``75+``, or ``unknown``: the key CSV files carry."""
    return "unknown" if band == UNKNOWN_BAND else age_band(AGE_BANDS[band][0]) or "unknown"


def band_label(band: int) -> str:
    return _("Birth date unknown") if band == UNKNOWN_BAND else age_band_label(band_key(band))


def payer_label(kind: str) -> str:
    return _(PAYER_LABELS.get(kind, N_("Other organisations")))


def program_label(program: str) -> str:
    """The program's name in the page's language; adjustments and uninstalled programs too."""
    from hubcore import i18n
    from hubcore.billing.operations import program_label as billing_label

    return billing_label(program, i18n.current_language.get())


def program_colour(program: str) -> str:
    host = get_host()
    return host.plugins[program].meta.colour if program in host.plugins else "#6b7280"


# --- figures -----------------------------------------------------------------------------


@dataclass
class RoomUse:
    room_id: int
    name: str
    open_minutes: int | None  # None: neither the room nor the site has opening hours
    booked: Counter = field(default_factory=Counter)  # program → minutes

    @property
    def booked_minutes(self) -> int:
        return sum(self.booked.values())

    @property
    def ratio(self) -> float | None:
        return self.booked_minutes / self.open_minutes if self.open_minutes else None


@dataclass
class Figures:
    """The figures of one site, or of several added together (a municipality)."""

    key: str
    name: str
    url: str | None = None
    sites: int = 1
    people: int = 0
    visits: int = 0
    multi_program: int = 0
    sessions: int = 0
    mixed_sessions: int = 0
    by_band: Counter = field(default_factory=Counter)  # band index → visits
    by_program: Counter = field(default_factory=Counter)  # program → visits
    people_by_program: Counter = field(default_factory=Counter)  # program → people
    by_month: Counter = field(default_factory=Counter)  # YYYYMM → visits
    open_minutes: int = 0  # of rooms whose opening hours are known
    booked: Counter = field(default_factory=Counter)  # program → minutes, all rooms
    booked_measured: int = 0  # minutes booked in rooms whose opening hours are known
    rooms: list[RoomUse] = field(default_factory=list)  # a single site's only
    revenue: Counter = field(default_factory=Counter)  # (program, payer kind) → yen
    metrics: dict[tuple, MetricRow] = field(default_factory=dict)

    @property
    def room_use(self) -> float | None:
        """Minutes booked over minutes open (rooms with known hours); None if none has."""
        return self.booked_measured / self.open_minutes if self.open_minutes else None

    @property
    def revenue_total(self) -> int:
        return sum(self.revenue.values())

    def revenue_by(self, index: int) -> Counter:
        out: Counter = Counter()
        for key, yen in self.revenue.items():
            out[key[index]] += yen
        return out

    def add(self, other: Figures) -> None:
        """Add another site's figures. Every person belongs to one site, so people add up."""
        self.sites += other.sites
        for name in ("people", "visits", "multi_program", "sessions", "mixed_sessions",
                     "open_minutes", "booked_measured"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("by_band", "by_program", "people_by_program", "by_month", "booked",
                     "revenue"):
            getattr(self, name).update(getattr(other, name))
        for key, row in other.metrics.items():
            mine = self.metrics.get(key)
            self.metrics[key] = row if mine is None else MetricRow(
                row.program, row.metric, mine.value + row.value, row.label, row.unit,
                row.dimensions)

    def metric(self, name: str) -> float | int | None:
        """A figure by its KPI name (see METRICS); room use in per cent."""
        if name == "room_use":
            use = self.room_use
            return None if use is None else round(use * 100, 1)
        if name == "revenue":
            return self.revenue_total
        return getattr(self, name)


@dataclass
class Report:
    scope: str  # "site", "municipality" or "platform"
    title: str
    period: Period
    rows: list[Figures]  # sites (of a municipality) or municipalities (the platform)
    total: Figures


def _in(values: Sequence) -> str:
    return "(" + ", ".join([db.database.obj.param] * len(values)) + ")"


def _query(sql: str, args: Sequence) -> list[tuple]:
    return db.database.execute_sql(sql, list(args)).fetchall()


def _day(day: dt.date):
    return day.isoformat() if db.is_sqlite() else day


def _utc(value: dt.datetime):
    naive = value.astimezone(dt.UTC).replace(tzinfo=None)
    return naive.isoformat(" ") if db.is_sqlite() else naive


def _local(value, tz: ZoneInfo) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC).astimezone(tz)


def _visits(figs: dict[int, Figures], ids: list[int], period: Period) -> None:
    lo, hi = period.months[0], period.months[-1]
    where = f"site_id IN {_in(ids)} AND month >= {db.database.obj.param} " \
            f"AND month <= {db.database.obj.param}"
    args = [*ids, lo, hi]
    for site_id, month, program, band, n in _query(
            "SELECT site_id, month, program, band, SUM(visits) FROM visit_tally "
            f"WHERE {where} GROUP BY site_id, month, program, band", args):
        f = figs[site_id]
        n = int(n)
        f.visits += n
        f.by_band[band] += n
        f.by_program[program] += n
        f.by_month[month] += n
    for site_id, people, multi in _query(
            "SELECT site_id, COUNT(*), SUM(CASE WHEN n > 1 THEN 1 ELSE 0 END) FROM "
            "(SELECT site_id, person_id, COUNT(DISTINCT program) AS n FROM visit_tally "
            f"WHERE {where} GROUP BY site_id, person_id) t GROUP BY site_id", args):
        figs[site_id].people = int(people)
        figs[site_id].multi_program = int(multi or 0)
    for site_id, program, people in _query(
            "SELECT site_id, program, COUNT(DISTINCT person_id) FROM visit_tally "
            f"WHERE {where} GROUP BY site_id, program", args):
        figs[site_id].people_by_program[program] = int(people)
    p = db.database.obj.param
    for site_id, sessions, mixed in _query(
            "SELECT site_id, COUNT(*), SUM(CASE WHEN children > 0 AND elders > 0 THEN 1 "
            f"ELSE 0 END) FROM visit_session WHERE site_id IN {_in(ids)} AND day >= {p} "
            f"AND day <= {p} GROUP BY site_id", [*ids, _day(period.first), _day(period.last)]):
        figs[site_id].sessions = int(sessions)
        figs[site_id].mixed_sessions = int(mixed or 0)


def _revenue(figs: dict[int, Figures], ids: list[int], period: Period) -> None:
    p = db.database.obj.param
    first = f"{period.first.year:04d}-{period.first.month:02d}"
    last = f"{period.last.year:04d}-{period.last.month:02d}"
    sql = ("SELECT i.site_id, l.program, CASE WHEN i.household_id IS NOT NULL THEN 'household' "
           "ELSE COALESCE(o.kind, 'other') END AS payer, SUM(l.amount) "
           "FROM invoice i JOIN invoice_line l ON l.invoice_id = i.id "
           "LEFT JOIN organisation o ON o.id = i.organisation_id "
           f"WHERE i.site_id IN {_in(ids)} AND i.status = 'issued' AND i.period >= {p} "
           f"AND i.period <= {p} GROUP BY i.site_id, l.program, payer")
    for site_id, program, payer, yen in _query(sql, [*ids, first, last]):
        if yen:
            figs[site_id].revenue[(program, payer if payer in PAYER_KINDS else "other")] += \
                int(yen)


# --- room use ---------------------------------------------------------------------------


def _minutes(opens: dt.time, closes: dt.time) -> int:
    end = 24 * 60 if closes == dt.time(0) else closes.hour * 60 + closes.minute
    return max(0, end - (opens.hour * 60 + opens.minute))


def _days(period: Period) -> list[dt.date]:
    return [period.first + dt.timedelta(days=i)
            for i in range((period.last - period.first).days + 1)]


@dataclass
class _Hours:
    """One site's opening rules over a period: weekly minutes per room, closed dates."""

    site_week: dict[int, int] | None  # weekday → minutes; None: the site has no hours
    room_week: dict[int, dict[int, int]]  # room id → weekday → minutes (own hours)
    closed: set[dt.date]

    def week(self, room_id: int) -> dict[int, int] | None:
        return self.room_week.get(room_id, self.site_week)

    def open_on(self, room_id: int, day: dt.date) -> int | None:
        week = self.week(room_id)
        if week is None:
            return None
        return 0 if day in self.closed else week.get(day.weekday(), 0)


def _hours(ids: list[int], period: Period) -> dict[int, _Hours]:
    weeks: dict[int, dict[int | None, dict[int, int]]] = defaultdict(dict)
    for h in OpeningHours.select().where(OpeningHours.site.in_(ids)):
        week = weeks[h.site_id].setdefault(h.room_id, Counter())
        week[h.weekday] += _minutes(h.opens, h.closes)
    closed: dict[int, set[dt.date]] = defaultdict(set)
    for c in ClosedDay.select().where(ClosedDay.site.in_(ids) & (ClosedDay.start_date
                                      <= period.last) & (ClosedDay.end_date >= period.first)):
        day = max(c.start_date, period.first)
        while day <= min(c.end_date, period.last):
            closed[c.site_id].add(day)
            day += dt.timedelta(days=1)
    open_on_holidays = {s for (s,) in CalendarSettings.select(CalendarSettings.site).where(
        CalendarSettings.site.in_(ids) & ~CalendarSettings.holidays_closed).tuples()}
    holidays = {d for d in _days(period) if holiday_name(d)}
    out = {}
    for site_id in ids:
        w = weeks.get(site_id, {})
        shut = closed[site_id] | (set() if site_id in open_on_holidays else holidays)
        out[site_id] = _Hours(w.get(None), {r: wk for r, wk in w.items() if r is not None}, shut)
    return out


def _room_use(figs: dict[int, Figures], sites: list[Site], period: Period) -> None:
    ids = [s.id for s in sites]
    hours = _hours(ids, period)
    rooms: dict[int, RoomUse] = {}
    site_of: dict[int, int] = {}
    days = _days(period)
    for room_id, site_id, name in (Room.select(Room.id, Room.site, Room.name)
                                   .where(Room.site.in_(ids) & ~Room.retired)
                                   .order_by(Room.sort_order, Room.name).tuples()):
        h = hours[site_id]
        week = h.week(room_id)
        open_minutes = None if week is None else sum(
            h.open_on(room_id, d) or 0 for d in days)
        rooms[room_id] = RoomUse(room_id, name, open_minutes)
        site_of[room_id] = site_id
    by_zone: dict[str, list[int]] = defaultdict(list)
    for s in sites:
        by_zone[s.timezone or "Asia/Tokyo"].append(s.id)
    p = db.database.obj.param
    span = ("SUM(CAST(ROUND((julianday(o.end_at) - julianday(o.start_at)) * 1440) AS INTEGER))"
            if db.is_sqlite() else
            "SUM(CAST(ROUND(EXTRACT(EPOCH FROM (o.end_at - o.start_at)) / 60) AS BIGINT))")
    for zone, zone_ids in by_zone.items():
        tz = ZoneInfo(zone)
        lo = _utc(dt.datetime.combine(period.first, dt.time(0), tz))
        hi = _utc(dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(0), tz))
        where = (f"o.site_id IN {_in(zone_ids)} AND o.start_at >= {p} AND o.start_at < {p} "
                 f"AND o.cancelled = {p} AND b.status = 'confirmed'")
        args = [*zone_ids, lo, hi, False]
        for room_id, program, minutes in _query(
                f"SELECT o.room_id, b.program, {span} FROM booking_occurrence o "
                f"JOIN booking b ON b.id = o.booking_id WHERE {where} AND b.all_day = {p} "
                "GROUP BY o.room_id, b.program", [*args, False]):
            if room_id in rooms:
                rooms[room_id].booked[program] += int(minutes or 0)
        # An all-day booking takes the room for the hours it is open that day.
        for room_id, program, start, end in _query(
                f"SELECT o.room_id, b.program, o.start_at, o.end_at FROM booking_occurrence o "
                f"JOIN booking b ON b.id = o.booking_id WHERE {where} AND b.all_day = {p}",
                [*args, True]):
            if room_id not in rooms:
                continue
            h, day = hours[site_of[room_id]], _local(start, tz).date()
            while day < _local(end, tz).date() and day <= period.last:
                rooms[room_id].booked[program] += h.open_on(room_id, day) or 0
                day += dt.timedelta(days=1)
    for room_id, use in rooms.items():
        f = figs[site_of[room_id]]
        f.rooms.append(use)
        f.booked.update(use.booked)
        if use.open_minutes is not None:
            f.open_minutes += use.open_minutes
            f.booked_measured += use.booked_minutes


def _metrics(figs: dict[int, Figures], sites: list[Site], period: Period) -> None:
    for s in sites:
        for answer in s.hooks.report_metrics(site=s, period=period):
            for row in answer or ():
                f = figs[s.id]
                mine = f.metrics.get(row.key)
                f.metrics[row.key] = row if mine is None else MetricRow(
                    row.program, row.metric, mine.value + row.value, row.label, row.unit,
                    row.dimensions)


def site_figures(sites: Sequence[Site], period: Period) -> dict[int, Figures]:
    """The figures of each site over ``period``: a few grouped queries for all of them."""
    figs = {s.id: Figures(s.slug, s.name, f"/s/{s.slug}/reports/") for s in sites}
    if not sites:
        return figs
    ids = list(figs)
    _visits(figs, ids, period)
    _room_use(figs, list(sites), period)
    _revenue(figs, ids, period)
    _metrics(figs, list(sites), period)
    return figs


def _total(key: str, name: str, parts: Iterable[Figures]) -> Figures:
    total = Figures(key, name, sites=0)
    for f in parts:
        total.add(f)
    return total


def site_report(site: Site, period: Period) -> Report:
    f = site_figures([site], period)[site.id]
    return Report("site", site.name, period, [f], f)


def municipal_report(municipality: Municipality, period: Period) -> Report:
    """Every site of the municipality, and the municipality as a whole."""
    sites = list_sites(municipality)
    figs = site_figures(sites, period)
    rows = [figs[s.id] for s in sites]
    return Report("municipality", municipality.name, period, rows,
                  _total(municipality.slug, municipality.name, rows))


def platform_report(period: Period) -> Report:
    """Every municipality (its sites added up), and the platform as a whole."""
    sites = list_sites()
    figs = site_figures(sites, period)
    rows = []
    for m in list_municipalities():
        row = _total(m.slug, m.name, (figs[s.id] for s in sites if s.municipality_id == m.id))
        row.url = f"/m/{m.slug}/reports/"
        rows.append(row)
    return Report("platform", _("All municipalities"), period, rows,
                  _total("platform", _("All municipalities"), rows))


# --- periods -----------------------------------------------------------------------------


def today_in(site_or_zone: Site | str = "Asia/Tokyo") -> dt.date:
    zone = site_or_zone if isinstance(site_or_zone, str) else (site_or_zone.timezone
                                                               or "Asia/Tokyo")
    return dt.datetime.now(ZoneInfo(zone)).date()


def default_period(today: dt.date | None = None) -> Period:
    """The fiscal year under way: what a municipality reports on."""
    return Period.of_fiscal_year(fiscal_year_of(today or today_in()))


def parse_period(raw: str | None, today: dt.date | None = None) -> tuple[Period, str | None]:
    """The period a page asks for (``?period=2026-05`` or ``FY2026``) and an error
    message when the value could not be used (the default period is shown then)."""
    if not raw:
        return default_period(today), None
    try:
        return Period.parse(raw), None
    except ValueError:
        return default_period(today), bad_period(raw)


def bad_period(raw: str) -> str:
    return _("“{value}” is not a period: choose a month or a fiscal year.").format(
        value=raw[:20])


def parse_fiscal_year(raw: str) -> int | None:
    """``2026`` (or ``FY2026``) as a fiscal year, None if it is not one."""
    raw = raw.strip().upper().removeprefix("FY")
    if raw.isascii() and raw.isdigit() and 2000 <= int(raw) <= 9999:
        return int(raw)
    return None


def period_choices(today: dt.date | None = None, years: int = 5) -> list[Period]:
    """Fiscal years to offer, the current one first."""
    current = fiscal_year_of(today or today_in())
    return [Period.of_fiscal_year(y) for y in range(current, current - years, -1)]


# --- KPI targets -----------------------------------------------------------------------


# The figures a municipality sets targets for, in the order of the sheet.
METRICS = (
    ("people", N_("People served"), ""),
    ("visits", N_("Visits"), ""),
    ("multi_program", N_("People in two or more programs"), ""),
    ("mixed_sessions", N_("Sessions with under-18s and over-65s together"), ""),
    ("room_use", N_("Room use"), "%"),
    ("revenue", N_("Revenue (tax included)"), "yen"),
)
METRIC_NAMES = tuple(m[0] for m in METRICS)
MAX_TARGET = 10**12


def metric_label(name: str) -> str:
    for key, label, _unit in METRICS:
        if key == name:
            return _(label)
    return name


def targets(municipality: Municipality, fiscal_year: int) -> dict[tuple[int | None, str], int]:
    """(site id or None for the whole municipality, metric) → target."""
    rows = KpiTarget.select(KpiTarget.site, KpiTarget.metric, KpiTarget.value).where(
        (KpiTarget.municipality == municipality) & (KpiTarget.fiscal_year == fiscal_year))
    return {(site_id, metric): value for site_id, metric, value in rows.tuples()}


def target_field(site_id: int | None, metric: str) -> str:
    return f"t-{site_id if site_id is not None else 'all'}-{metric}"


def parse_targets(sites: Sequence[Site], form: dict) -> tuple[dict[tuple[int | None, str],
                                                                   int], dict[str, str]]:
    """Targets from the edit form (blank: no target) and the messages of bad cells."""
    import unicodedata

    values: dict[tuple[int | None, str], int] = {}
    errors: dict[str, str] = {}
    for site_id in [None, *(s.id for s in sites)]:
        for metric in METRIC_NAMES:
            name = target_field(site_id, metric)
            raw = unicodedata.normalize("NFKC", str(form.get(name, ""))).strip()
            raw = raw.replace(",", "")
            if not raw:
                continue
            if not raw.isascii() or not raw.isdigit():
                errors[name] = _("Enter a whole number of 0 or more, or leave it blank.")
            elif int(raw) > (100 if metric == "room_use" else MAX_TARGET):
                errors[name] = (_("Room use is at most 100 %.") if metric == "room_use"
                                else _("This number is too large."))
            else:
                values[(site_id, metric)] = int(raw)
    return values, errors


def save_targets(municipality: Municipality, fiscal_year: int,
                 values: dict[tuple[int | None, str], int]) -> None:
    """Replace the municipality's targets of the fiscal year with ``values``."""
    if not 2000 <= fiscal_year <= 9999:
        raise Invalid({"fiscal_year": _("Choose a fiscal year.")})
    own = {s.id for s in list_sites(municipality)}
    if any(site_id is not None and site_id not in own for site_id, _m in values):
        raise Invalid({"site": _("A target names a site of another municipality.")})
    with write_transaction():
        KpiTarget.delete().where((KpiTarget.municipality == municipality)
                                 & (KpiTarget.fiscal_year == fiscal_year)).execute()
        if values:
            KpiTarget.insert_many([
                {"municipality": municipality, "site": site_id, "fiscal_year": fiscal_year,
                 "metric": metric, "value": value}
                for (site_id, metric), value in sorted(values.items(),
                                                       key=lambda kv: (kv[0][0] or 0, kv[0][1]))
            ]).execute()


@dataclass
class KpiCell:
    metric: str
    actual: float | int | None
    target: int | None

    @property
    def achieved(self) -> float | None:
        """Actual over target in per cent (None without a target or with a zero one)."""
        if self.target in (None, 0) or self.actual is None:
            return None
        return round(float(Decimal(str(self.actual)) / self.target * 100), 1)


@dataclass
class KpiRow:
    key: str
    name: str
    cells: list[KpiCell]


def kpi_sheet(municipality: Municipality, fiscal_year: int) -> tuple[Report, list[KpiRow]]:
    """The KPI sheet of a fiscal year: each site's figures and the whole municipality's,
    against the targets the municipality entered."""
    report = municipal_report(municipality, Period.of_fiscal_year(fiscal_year))
    goal = targets(municipality, fiscal_year)
    sites = {s.slug: s.id for s in list_sites(municipality)}
    rows = []
    for f in report.rows:
        site_id = sites[f.key]
        rows.append(KpiRow(f.key, f.name, [KpiCell(m, f.metric(m), goal.get((site_id, m)))
                                           for m in METRIC_NAMES]))
    t = report.total
    rows.append(KpiRow("", _("Whole municipality"),
                       [KpiCell(m, t.metric(m), goal.get((None, m))) for m in METRIC_NAMES]))
    return report, rows
