"""What the report pages show: tables and charts built from a Report (no HTTP)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.reports import charts
from hubcore.reports.charts import count, hours, percent
from hubcore.reports.operations import (
    BANDS,
    PAYER_KINDS,
    Figures,
    Report,
    band_key,
    band_label,
    payer_label,
    program_colour,
    program_label,
)


@dataclass
class ProgramRow:
    program: str
    label: str
    colour: str
    visits: int
    people: int
    booked_minutes: int
    share: float | None  # of the open hours
    revenue: int
    has_revenue: bool  # issued lines, even if credit notes took them back to zero


def programs(f: Figures) -> list[ProgramRow]:
    """Every program with visits, room time or revenue, by its label."""
    names = set(f.by_program) | set(f.booked) | {p for p, _k in f.revenue}
    revenue = f.revenue_by(0)
    rows = [ProgramRow(p, program_label(p), program_colour(p), f.by_program[p],
                       f.people_by_program[p], f.booked[p],
                       f.booked[p] / f.open_minutes if f.open_minutes else None, revenue[p],
                       any(key[0] == p for key in f.revenue))
            for p in names]
    return sorted(rows, key=lambda r: r.label)


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


MONTH_ABBR = (N_("Jan"), N_("Feb"), N_("Mar"), N_("Apr"), N_("May"), N_("Jun"), N_("Jul"),
              N_("Aug"), N_("Sep"), N_("Oct"), N_("Nov"), N_("Dec"))


def month_label(yyyymm: int) -> str:
    return _("{month}/{year}").format(year=yyyymm // 100, month=yyyymm % 100)


def report_charts(report: Report) -> dict[str, Any]:
    f = report.total
    progs = programs(f)
    out: dict[str, Any] = {}
    out["bands"] = charts.bar_chart(
        "chart-bands", _("Visits by age band (age on the day of the visit)"),
        [(band_label(b), f.by_band[b], count(f.by_band[b])) for b in BANDS
         if b >= 0 or f.by_band[b]], css="bar-band")
    out["programs"] = charts.bar_chart(
        "chart-programs", _("Visits by program"),
        [(r.label, r.visits, count(r.visits)) for r in progs if r.visits],
        fill={r.label: r.colour for r in progs})
    out["rooms"] = charts.bar_chart(
        "chart-rooms", _("Room use by program (share of the hours open)"),
        [(r.label, r.share or 0.0, percent(r.share)) for r in progs if r.booked_minutes],
        fill={r.label: r.colour for r in progs}, scale_max=max(
            1.0, max((r.share or 0.0 for r in progs), default=0.0)))
    kinds = [k for k in PAYER_KINDS if any(key[1] == k for key in f.revenue)]
    out["revenue"] = charts.stacked_chart(
        "chart-revenue", _("Revenue by program and payer type (yen, tax included)"),
        [(r.label, [(f"{payer_label(k)}: {f.revenue[(r.program, k)]:,}",
                     f.revenue[(r.program, k)], None, f"payer-{k}") for k in kinds],
          f"{r.revenue:,}") for r in progs if any(f.revenue[(r.program, k)] for k in kinds)],
        legend=[(payer_label(k), None, f"payer-{k}") for k in kinds])
    if report.period.kind == "fiscal_year":
        out["months"] = charts.column_chart(
            "chart-months", _("Visits per month"),
            [(_(MONTH_ABBR[m % 100 - 1]), f.by_month[m], count(f.by_month[m]))
             for m in report.period.months])
    if report.scope != "site" and len(report.rows) > 1:
        out["places"] = charts.bar_chart(
            "chart-places", _("People served by site") if report.scope == "municipality"
            else _("People served by municipality"),
            [(r.name, r.people, count(r.people)) for r in report.rows], css="bar-place")
    return out


def report_context(report: Report) -> dict[str, Any]:
    f = report.total
    kinds = [k for k in PAYER_KINDS if any(key[1] == k for key in f.revenue)]
    metrics = sorted(f.metrics.values(), key=lambda m: (program_label(m.program), m.metric,
                                                        sorted(m.dimensions.items())))
    return {
        "report": report, "f": f, "programs": programs(f), "charts": report_charts(report),
        "bands": [(band_label(b), f.by_band[b], share(f.by_band[b], f.visits))
                  for b in BANDS if b >= 0 or f.by_band[b]],
        "payer_kinds": [(k, payer_label(k)) for k in kinds],
        "revenue_by_kind": f.revenue_by(1),
        "metrics": metrics, "program_label": program_label,
        "multi_share": share(f.multi_program, f.people),
        "mixed_share": share(f.mixed_sessions, f.sessions),
        "months": [(month_label(m), f.by_month[m]) for m in report.period.months]
        if report.period.kind == "fiscal_year" else [],
        "count": count, "hours": hours, "percent": percent,
    }


# --- CSV ------------------------------------------------------------------------------------


def csv_header() -> list[str]:
    return [_("Period"), _("Place key"), _("Place"), _("Figure"), _("Figure name"),
            _("Program"), _("Group"), _("Value"), _("Unit")]


def _hours(minutes: int) -> float:
    """Hours as a plain number for CSV (no thousands separator)."""
    return round(minutes / 60, 2)


def _figure_rows(period: str, f: Figures) -> list[list[object]]:
    rows: list[list[object]] = []

    def add(figure: str, label: str, value: object, unit: str, program: str = "",
            group: str = "") -> None:
        rows.append([period, f.key, f.name, figure, label, program, group, value, unit])

    add("people", _("People served"), f.people, "people")
    add("visits", _("Visits"), f.visits, "visits")
    add("multi_program", _("People in two or more programs"), f.multi_program, "people")
    add("sessions", _("Sessions"), f.sessions, "sessions")
    add("mixed_sessions", _("Sessions with under-18s and over-65s together"),
        f.mixed_sessions, "sessions")
    for b in BANDS:
        if b >= 0 or f.by_band[b]:
            add("visits_by_age_band", band_label(b), f.by_band[b], "visits", group=band_key(b))
    for r in programs(f):
        add("visits_by_program", r.label, r.visits, "visits", program=r.program)
        add("people_by_program", r.label, r.people, "people", program=r.program)
        add("hours_booked", r.label, _hours(r.booked_minutes), "hours", program=r.program)
    add("hours_open", _("Hours open (rooms)"), _hours(f.open_minutes) if f.open_minutes
        else "", "hours")
    use = f.room_use
    add("room_use", _("Room use"), "" if use is None else round(use * 100, 1), "%")
    for (program, kind), yen in sorted(f.revenue.items()):
        add("revenue", f"{program_label(program)} / {payer_label(kind)}", yen, "yen",
            program=program, group=kind)
    for m, n in sorted(f.by_month.items()):
        add("visits_by_month", month_label(m), n, "visits", group=f"{m // 100}-{m % 100:02d}")
    for key, row in sorted(f.metrics.items(), key=lambda kv: str(kv[0])):
        dims = ";".join(f"{k}={v}" for k, v in key[2])
        add(f"metric:{row.metric}", row.label or row.metric, row.value, row.unit,
            program=row.program, group=dims)
    return rows


def csv_rows(report: Report) -> list[list[object]]:
    """Long format: one figure a row, the whole first, then each site (municipality)."""
    period = report.period.key
    out = _figure_rows(period, report.total)
    if report.scope != "site":
        for f in report.rows:
            out += _figure_rows(period, f)
    return out


def kpi_csv(report: Report, rows: list) -> tuple[list[str], list[list[object]]]:
    header = [_("Fiscal year"), _("Place"), _("Figure"), _("Figure name"), _("Actual"),
              _("Target"), _("Achieved (%)")]
    from hubcore.reports.operations import metric_label

    out = [[report.period.key, r.name, c.metric, metric_label(c.metric),
            "" if c.actual is None else c.actual, "" if c.target is None else c.target,
            "" if c.achieved is None else c.achieved] for r in rows for c in r.cells]
    return header, out


def csv_name(kind: str, key: str, period: str) -> str:
    stamp = dt.date.today().strftime("%Y%m%d")
    return f"{kind}-{key}-{period}-{stamp}.csv"
