"""HTTP for reports: a site's report (plugin routes under /s/{site}/reports/), the
municipality's report, KPI sheet and targets (/m/{municipality}/reports/...), and the
platform's report (/reports/). Figures are aggregates; no page names a person."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hubcore.auth.guard import requires
from hubcore.billing.export import iter_csv
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.reports import operations as ops
from hubcore.reports import pages
from hubcore.reports.metrics import Period, fiscal_year_of
from hubcore.sites.operations import list_sites
from hubcore.web import read_form, redirect, render


def _period(request: Request) -> tuple[Period, str | None]:
    return ops.parse_period(request.query_params.get("period"))


def _page(request: Request, report: ops.Report, base: str, error: str | None,
          **extra: Any) -> Response:
    ctx = {**pages.report_context(report), "base": base, "period_error": error,
           "fiscal_years": ops.period_choices(), "nav": "reports",
           "csv_url": f"{base}report.csv?period={report.period.key}", **extra}
    return render(request, "reports/report.html", ctx)


def _csv(report: ops.Report, kind: str, key: str) -> Response:
    name = pages.csv_name(kind, key, report.period.key)
    return StreamingResponse(iter_csv(pages.csv_header(), pages.csv_rows(report)),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- a site --------------------------------------------------------------------------------


@requires("reports.view")
def site_page(request: Request) -> Response:
    site = request.state.site
    period, error = _period(request)
    return _page(request, ops.site_report(site, period), f"/s/{site.slug}/reports/", error)


@requires("reports.view")
def site_csv(request: Request) -> Response:
    site = request.state.site
    return _csv(ops.site_report(site, _period(request)[0]), "report", site.slug)


def site_routes() -> list[Route]:
    return [Route("/", site_page, methods=["GET"], name="site"),
            Route("/report.csv", site_csv, methods=["GET"], name="site_csv")]


# --- a municipality ----------------------------------------------------------------------


def _m_base(request: Request) -> str:
    return f"/m/{request.state.municipality.slug}/reports/"


@requires("reports.municipality")
def municipality_page(request: Request) -> Response:
    m = request.state.municipality
    period, error = _period(request)
    return _page(request, ops.municipal_report(m, period), _m_base(request), error,
                 municipality=m)


@requires("reports.municipality")
def municipality_csv(request: Request) -> Response:
    m = request.state.municipality
    return _csv(ops.municipal_report(m, _period(request)[0]), "report", m.slug)


def _fiscal_year(request: Request) -> tuple[int, str | None]:
    raw = request.query_params.get("fy", "")
    current = fiscal_year_of(ops.today_in())
    if not raw:
        return current, None
    year = ops.parse_fiscal_year(raw)
    return (current, ops.bad_period(raw)) if year is None else (year, None)


@requires("reports.municipality")
def kpi_page(request: Request) -> Response:
    m = request.state.municipality
    year, error = _fiscal_year(request)
    report, rows = ops.kpi_sheet(m, year)
    return render(request, "reports/kpi.html", {
        "municipality": m, "report": report, "rows": rows, "year": year,
        "metrics": [(k, ops.metric_label(k), unit) for k, _l, unit in ops.METRICS],
        "fiscal_years": ops.period_choices(), "period_error": error, "base": _m_base(request),
        "csv_url": f"{_m_base(request)}kpi.csv?fy={year}"})


@requires("reports.municipality")
def kpi_csv(request: Request) -> Response:
    m = request.state.municipality
    year, _error = _fiscal_year(request)
    report, rows = ops.kpi_sheet(m, year)
    header, out = pages.kpi_csv(report, rows)
    name = pages.csv_name("kpi", m.slug, f"FY{year}")
    return StreamingResponse(iter_csv(header, out), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _targets_page(request: Request, year: int, values: dict[str, str],
                  errors: dict[str, str], status_code: int = 200,
                  saved: bool = False) -> Response:
    m = request.state.municipality
    places = [(None, _("Whole municipality")), *((s.id, s.name) for s in list_sites(m))]
    return render(request, "reports/targets.html", {
        "municipality": m, "year": year, "places": places, "values": values,
        "errors": errors, "saved": saved, "field": ops.target_field,
        "metrics": [(k, ops.metric_label(k), unit) for k, _l, unit in ops.METRICS],
        "fiscal_years": ops.period_choices(), "base": _m_base(request)},
        status_code=status_code)


@requires("reports.targets")
def targets_page(request: Request) -> Response:
    m = request.state.municipality
    year, _error = _fiscal_year(request)
    values = {ops.target_field(site_id, metric): str(v)
              for (site_id, metric), v in ops.targets(m, year).items()}
    return _targets_page(request, year, values, {},
                         saved=request.query_params.get("saved") == "1")


@requires("reports.targets")
def targets_save(request: Request) -> Response:
    m = request.state.municipality
    form = read_form(request)
    year = ops.parse_fiscal_year(str(form.get("fy", "")))
    if year is None:
        return _targets_page(request, fiscal_year_of(ops.today_in()), form,
                             {"fy": ops.bad_period(str(form.get("fy", "")))}, 422)
    values, errors = ops.parse_targets(list_sites(m), form)
    if errors:
        return _targets_page(request, year, form, errors, 422)
    try:
        ops.save_targets(m, year, values)
    except Invalid as exc:
        return _targets_page(request, year, form, exc.errors, 422)
    return redirect(f"{_m_base(request)}targets/?fy={year}&saved=1", request)


# --- the platform --------------------------------------------------------------------------


@requires("reports.platform")
def platform_page(request: Request) -> Response:
    period, error = _period(request)
    return _page(request, ops.platform_report(period), "/reports/", error)


@requires("reports.platform")
def platform_csv(request: Request) -> Response:
    return _csv(ops.platform_report(_period(request)[0]), "report", "platform")


def reports_routes() -> list[Route]:
    m = "/m/{municipality}/reports"
    return [
        Route(f"{m}/", municipality_page, methods=["GET"], name="reports_municipality"),
        Route(f"{m}/report.csv", municipality_csv, methods=["GET"],
              name="reports_municipality_csv"),
        Route(f"{m}/kpi/", kpi_page, methods=["GET"], name="reports_kpi"),
        Route(f"{m}/kpi.csv", kpi_csv, methods=["GET"], name="reports_kpi_csv"),
        Route(f"{m}/targets/", targets_page, methods=["GET"], name="reports_targets"),
        Route(f"{m}/targets/", targets_save, methods=["POST"], name="reports_targets_save"),
        Route("/reports/", platform_page, methods=["GET"], name="reports_platform"),
        Route("/reports/report.csv", platform_csv, methods=["GET"],
              name="reports_platform_csv"),
    ]
