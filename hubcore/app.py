"""create_app(): the Starlette application with every plugin's routes mounted."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from hubcore import db, i18n
from hubcore.auth.guard import protect
from hubcore.auth.middleware import SecurityMiddleware
from hubcore.auth.permissions import Forbidden
from hubcore.config import Settings, load_settings
from hubcore.errors import NotFound
from hubcore.i18n import gettext as _
from hubcore.plugins import PluginHost, get_host
from hubcore.web import find_theme, render, theme_dirs

log = logging.getLogger("hubcore")
STATIC = Path(__file__).parent / "static"


class LanguageMiddleware:
    """Picks ja/en per request (?lang= sets a cookie) into i18n.current_language."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        asked = request.query_params.get("lang")
        lang = i18n.pick_language(asked, request.cookies.get("lang"))
        token = i18n.current_language.set(lang)

        async def send_with_cookie(message):
            if asked in i18n.LANGUAGES and message["type"] == "http.response.start":
                cookie = f"lang={lang}; Path=/; Max-Age=31536000; SameSite=Lax"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_cookie)
        finally:
            i18n.current_language.reset(token)


def plugin_routes(host: PluginHost) -> list[BaseRoute]:
    """One Mount per plugin inside /s/{site}; the site-root plugin (dashboard) last."""
    impls = {i.plugin_name: i.function for i in host.pm.hook.register_routes.get_hookimpls()}
    mounts: list[BaseRoute] = []
    root: list[BaseRoute] = []
    for p in host.ordered():
        fn = impls.get(p.meta.name)
        if fn is None:
            continue
        wrapped = [
            Route(r.path, protect(r.endpoint, p.meta.name), methods=r.methods,
                  name=f"{p.meta.name}:{r.name}")
            for r in fn()
        ]
        if p.meta.mount_path:
            mounts.append(Mount(p.meta.mount_path, routes=wrapped))
        else:
            root += wrapped
    return [Mount("/s/{site}", routes=mounts + root)]


def static_routes(host: PluginHost) -> list[BaseRoute]:
    routes: list[BaseRoute] = [
        Mount("/static/hubcore", StaticFiles(directory=STATIC), name="static")
    ]
    for p in host.ordered():
        if p.static_dir and not p.meta.core:
            routes.append(Mount(f"/static/{p.meta.name}", StaticFiles(directory=p.static_dir)))
    seen = set()
    for base in theme_dirs():
        if not base.is_dir():
            continue
        for theme in sorted(base.iterdir()):
            if theme.name not in seen and (theme / "static").is_dir():
                seen.add(theme.name)
                static = StaticFiles(directory=theme / "static")
                routes.append(Mount(f"/themes/{theme.name}", static))
    return routes


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


async def not_found(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": "not_found", "message": _("Not found.")}, status_code=404)
    return await run_in_threadpool(
        render, request, "error.html",
        {"title": _("Page not found"), "message": _("The page or site you asked for does not "
                                                     "exist, or is not available here.")},
        404,
    )


async def http_error(request: Request, exc: HTTPException) -> Response:
    if exc.status_code == 404:
        return await not_found(request, exc)
    if _wants_json(request):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    return PlainTextResponse(str(exc.detail), status_code=exc.status_code)


async def forbidden(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": "forbidden",
                             "message": _("You may not do this here.")}, status_code=403)
    return await run_in_threadpool(
        render, request, "error.html",
        {"title": _("Not allowed"),
         "message": _("Your role does not allow this here. Nothing was changed. Ask the "
                      "site manager or the municipality if you need it.")}, 403)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    if _wants_json(request):
        return JSONResponse({"error": "internal"}, status_code=500)
    return await run_in_threadpool(
        render, request, "error.html",
        {"title": _("Something went wrong"),
         "message": _("The error was recorded. Nothing was saved; please try again.")}, 500)


def create_app(settings: Settings | None = None) -> Starlette:
    """Build the app: database from settings, every plugin's routes, templates, statics."""
    settings = settings or load_settings()
    db.configure(settings.database_url)
    host = get_host()
    i18n.load_catalogues([p.locale_dir for p in host.ordered() if p.locale_dir])

    from hubcore.admin.routes import admin_routes
    from hubcore.api.routes import api_routes
    from hubcore.audit.routes import audit_routes
    from hubcore.auth.routes import account_routes
    from hubcore.reports.routes import reports_routes
    from hubcore.sites.routes import index_routes

    guarded = [*index_routes(), *account_routes(), *admin_routes(), *audit_routes(),
               *reports_routes()]
    routes = [
        *[Route(r.path, protect(r.endpoint), methods=r.methods, name=r.name) for r in guarded],
        *api_routes(),
        *static_routes(host),
        *plugin_routes(host),
    ]
    app = Starlette(
        debug=settings.debug,
        routes=routes,
        exception_handlers={404: not_found, HTTPException: http_error, NotFound: not_found,
                            Forbidden: forbidden, 500: server_error},
    )
    app.add_middleware(LanguageMiddleware)
    app.add_middleware(SecurityMiddleware, secret_key=settings.secret_key)  # outermost
    app.state.settings = settings
    app.state.host = host
    if find_theme("default") is None:
        log.warning("theme 'default' not found in %s", [str(d) for d in theme_dirs()])
    return app
