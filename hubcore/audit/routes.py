"""HTTP for the audit log: a filterable page and a CSV export, for one municipality
(its administrators) or for the whole platform (platform administrators)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from hubcore.audit import operations as ops
from hubcore.auth.guard import requires
from hubcore.db import utcnow, write_transaction
from hubcore.sites.models import Municipality, Site
from hubcore.sites.operations import list_municipalities, list_sites
from hubcore.web import render

FILTER_KEYS = ("user", "site", "action", "from", "to", "municipality")


@dataclass(frozen=True)
class Scope:
    """Whose log a page shows: one municipality's, or the platform's (municipality None)."""

    municipality: Municipality | None
    sites: list[Site]
    municipalities: list[Municipality]

    @property
    def base(self) -> str:
        return f"/m/{self.municipality.slug}/audit" if self.municipality else "/audit"


def _scope(request: Request) -> Scope:
    m = getattr(request.state, "municipality", None)
    if m is not None:
        return Scope(m, list_sites(m), [])
    return Scope(None, list_sites(), list_municipalities())


def _filter(request: Request, scope: Scope) -> tuple[ops.AuditFilter, dict[str, str]]:
    f, errors = ops.parse_filter(
        request.query_params, {s.slug: s.id for s in scope.sites},
        None if scope.municipality else {m.slug: m.id for m in scope.municipalities})
    if scope.municipality is not None:
        f.municipality_id = scope.municipality.id
    return f, errors


def _page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def _log_page(request: Request) -> Response:
    scope = _scope(request)
    f, errors = _filter(request, scope)
    principal = request.state.principal
    page = _page_number(request.query_params.get("page"))
    events, total = ops.search(principal, f, offset=(page - 1) * ops.PAGE_SIZE)
    pages = max(1, math.ceil(total / ops.PAGE_SIZE))
    if page > pages:  # a stale link: show the last page
        page = pages
        events, total = ops.search(principal, f, offset=(page - 1) * ops.PAGE_SIZE)
    kept = [(k, request.query_params[k]) for k in FILTER_KEYS if request.query_params.get(k)]

    def page_url(n: int) -> str:
        params = kept + ([("page", str(n))] if n > 1 else [])
        return scope.base + "/" + ("?" + urlencode(params) if params else "")

    site_names = {s.id: s.name for s in scope.sites}
    m_names = {m.id: m.name for m in scope.municipalities}
    if scope.municipality is not None:
        m_names[scope.municipality.id] = scope.municipality.name
    ctx: dict[str, Any] = {
        "scope": scope, "events": [_row(e, site_names, m_names) for e in events],
        "total": total, "page": page, "pages": pages, "errors": errors,
        "values": dict(kept), "actions": [(k, ops.event_label(k)) for k in ops.EVENT_LABELS],
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
        "csv_url": scope.base + ".csv" + ("?" + urlencode(kept) if kept else ""),
    }
    return render(request, "audit/log.html", ctx)


def _row(e, site_names: dict[int, str], m_names: dict[int, str]) -> dict[str, str]:
    if e.site_id is not None:
        place = site_names.get(e.site_id, e.site_slug)
    elif e.municipality_id is not None:
        place = m_names.get(e.municipality_id, "")
    else:
        place = ""
    return {"at": ops.tokyo_time(e.at).strftime("%Y-%m-%d %H:%M:%S"), "action": e.action,
            "label": ops.event_label(e.action), "user": e.user_email, "place": place,
            "subject": e.subject, "detail": ops.detail_text(e), "ip": e.ip}


def _export(request: Request) -> Response:
    if request.method == "HEAD":  # no export took place: nothing to record or to read
        return Response(media_type="text/csv; charset=utf-8")
    scope = _scope(request)
    f, _errors = _filter(request, scope)  # unusable values are left out, as on the page
    with write_transaction():
        ops.record("audit_exported", municipality=scope.municipality, detail=f.describe())
    stamp = ops.tokyo_time(utcnow()).strftime("%Y%m%d-%H%M")
    name = f"audit-{scope.municipality.slug if scope.municipality else 'platform'}-{stamp}.csv"
    return StreamingResponse(ops.export_csv(request.state.principal, f),
                             media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@requires("audit.view")
def municipality_log(request: Request) -> Response:
    return _log_page(request)


@requires("audit.view")
def municipality_csv(request: Request) -> Response:
    return _export(request)


@requires("platform.audit")
def platform_log(request: Request) -> Response:
    return _log_page(request)


@requires("platform.audit")
def platform_csv(request: Request) -> Response:
    return _export(request)


def audit_routes() -> list[Route]:
    return [
        Route("/m/{municipality}/audit/", municipality_log, methods=["GET"],
              name="audit_municipality"),
        Route("/m/{municipality}/audit.csv", municipality_csv, methods=["GET"],
              name="audit_municipality_csv"),
        Route("/audit/", platform_log, methods=["GET"], name="audit_platform"),
        Route("/audit.csv", platform_csv, methods=["GET"], name="audit_platform_csv"),
    ]
