"""HTTP for sites: the municipality/site lists, a site's dashboard, /healthz."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from hubcore import db
from hubcore.auth.guard import login_required, public, requires
from hubcore.sites import operations as ops
from hubcore.web import render


@login_required
def index(request: Request):
    principal = request.state.principal
    municipalities = ops.list_municipalities(principal)
    sites = ops.list_sites(visible_to=principal)
    if len(municipalities) == 1:
        return RedirectResponse(f"/m/{municipalities[0].slug}/", status_code=302)
    return render(request, "sites/index.html", {"municipalities": municipalities, "sites": sites})


@login_required  # the guard answers 404 for a municipality the user holds no role in
def municipality(request: Request):
    m = request.state.municipality
    return render(request, "sites/municipality.html",
                  {"municipality": m,
                   "sites": ops.list_sites(m, visible_to=request.state.principal)})


@public
def plugin_colours(request: Request):
    from hubcore.web import plugin_colours_css

    return Response(plugin_colours_css(), media_type="text/css",
                    headers={"Cache-Control": "max-age=300"})


@public
def healthz(request: Request):
    try:
        with db.database.connection_context():
            db.database.execute_sql("SELECT 1").fetchone()
    except Exception as exc:  # any driver error means "not healthy"
        return JSONResponse({"status": "error", "database": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@requires("site.view")
def dashboard(request: Request):
    site = request.state.site
    batches = site.hooks.dashboard_widgets(site=site, request=request)
    widgets = [w for batch in batches for w in batch]
    widgets.sort(key=lambda w: (w.order, w.title))
    return render(request, "sites/dashboard.html", {"widgets": widgets, "nav": "dashboard"})


def index_routes() -> list[Route]:
    return [
        Route("/", index, name="index"),
        Route("/m/{municipality}/", municipality, name="municipality"),
        Route("/healthz", healthz, name="healthz"),
        Route("/plugin-colours.css", plugin_colours, name="plugin_colours"),
    ]


def site_routes() -> list[Route]:
    return [Route("/", dashboard, name="dashboard")]
