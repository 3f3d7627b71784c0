"""HTTP for sites: the municipality/site lists, a site's dashboard, /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Route

from hubcore import db
from hubcore.sites import operations as ops
from hubcore.web import render, sync_endpoint


@db.with_connection
def index(request: Request):
    municipalities = ops.list_municipalities()
    if len(municipalities) == 1:
        return RedirectResponse(f"/m/{municipalities[0].slug}/", status_code=302)
    sites = ops.list_sites()
    return render(request, "sites/index.html", {"municipalities": municipalities, "sites": sites})


@db.with_connection
def municipality(request: Request):
    m = ops.get_municipality(request.path_params["municipality"])
    return render(request, "sites/municipality.html",
                  {"municipality": m, "sites": ops.list_sites(m)})


def plugin_colours(request: Request):
    from starlette.responses import Response

    from hubcore.web import plugin_colours_css

    return Response(plugin_colours_css(), media_type="text/css",
                    headers={"Cache-Control": "max-age=300"})


def healthz(request: Request):
    try:
        with db.database.connection_context():
            db.database.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


def dashboard(request: Request):
    site = request.state.site
    batches = site.hooks.dashboard_widgets(site=site, request=request)
    widgets = [w for batch in batches for w in batch]
    widgets.sort(key=lambda w: (w.order, w.title))
    return render(request, "sites/dashboard.html", {"widgets": widgets, "nav": "dashboard"})


def index_routes() -> list[Route]:
    return [
        Route("/", sync_endpoint(index), name="index"),
        Route("/m/{municipality}/", sync_endpoint(municipality), name="municipality"),
        Route("/healthz", sync_endpoint(healthz), name="healthz"),
        Route("/plugin-colours.css", plugin_colours, name="plugin_colours"),
    ]


def site_routes() -> list[Route]:
    return [Route("/", dashboard, name="dashboard")]
