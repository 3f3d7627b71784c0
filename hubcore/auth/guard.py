"""The permission decision every route carries, and the guard that enforces it.

Endpoints say what they need with a decorator::

    @requires("rooms.manage")
    def room_create(request): ...

    @public
    def healthz(request): ...

The app wraps every route with :func:`protect`. It loads who is asking (from the
session cookie), answers anonymous visitors with the log-in page, loads the site or
municipality named in the path (404 when the user holds no role there, as if it did
not exist), checks the action (403), and only then calls the endpoint. A route
without a decision is refused (fail closed), and tests/test_permissions.py fails.
"""

from __future__ import annotations

import functools
import inspect
import logging
from dataclasses import dataclass
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hubcore import db
from hubcore.auth.permissions import Forbidden, Principal
from hubcore.errors import NotFound

log = logging.getLogger("hubcore.auth")

ATTR = "__hubcore_decision__"
SESSION_USER = "uid"
SESSION_VERSION = "sv"


@dataclass(frozen=True)
class Decision:
    """What a route needs: nothing (public), a logged-in user, or an action."""

    login: bool
    action: str | None = None

    def describe(self) -> str:
        return self.action or ("login" if self.login else "public")


def _mark(fn, decision: Decision):
    setattr(fn, ATTR, decision)
    return fn


def public(fn):
    """Anyone may call it, logged in or not (the log-in page, health checks)."""
    return _mark(fn, Decision(login=False))


def login_required(fn):
    """Any logged-in user (pages about the user themself)."""
    return _mark(fn, Decision(login=True))


def requires(action: str):
    """The route needs ``action`` at the site (or municipality) its path names."""

    def decorate(fn):
        return _mark(fn, Decision(login=True, action=action))

    return decorate


def decision_of(endpoint) -> Decision | None:
    return getattr(endpoint, ATTR, None)


def session_principal(request: Request) -> Principal | None:
    """The logged-in user of this request, or None (no session, stale session, inactive)."""
    from hubcore.auth.permissions import principal_for_session

    session = request.scope.get("session") or {}
    uid = session.get(SESSION_USER)
    if not isinstance(uid, int):
        return None
    return principal_for_session(uid, session.get(SESSION_VERSION))


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def _login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login?next=" + quote(target, safe="/")
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": url})
    if request.method in ("GET", "HEAD"):
        return Response(status_code=303, headers={"Location": url})
    from hubcore.i18n import gettext as _
    from hubcore.web import render

    return render(request, "error.html", {"title": _("Please log in"),
                                          "message": _("Your session has ended. Log in and "
                                                       "try again; nothing was saved.")}, 401)


def _check(request: Request, decision: Decision | None, plugin: str | None) -> Response | None:
    """Load the principal and the place into request.state; an answer if refused."""
    from hubcore.audit.operations import Actor, current_actor
    from hubcore.sites.operations import get_municipality, get_site, is_enabled

    principal = session_principal(request)
    request.state.principal = principal
    current_actor.set(Actor(principal.user.id, principal.user.email, client_ip(request))
                      if principal is not None else Actor(None, "", client_ip(request)))
    if decision is None:
        log.error("route %s has no permission decision: refused", request.url.path)
        raise Forbidden(request.url.path)
    if principal is None:
        return _login_redirect(request)
    params = request.path_params
    site = municipality = None
    if "site" in params:
        site = get_site(params["site"])
        if not principal.can_see_site(site):
            raise NotFound(site.slug)
        if plugin is not None and not is_enabled(site, plugin):
            raise NotFound(plugin)  # off here: answer as if it did not exist
        request.state.site = site
        request.state.plugin = plugin
    elif "municipality" in params:
        municipality = get_municipality(params["municipality"])
        if not principal.can_see_municipality(municipality):
            raise NotFound(municipality.slug)
        request.state.municipality = municipality
    if decision.action is not None:
        principal.require(decision.action, site=site, municipality=municipality)
    return None


def protect(endpoint, plugin: str | None = None):
    """Wrap an endpoint with its permission check (and a database connection)."""
    decision = decision_of(endpoint)
    if decision is not None and not decision.login:
        # Public: no session to load; the endpoint opens a connection if it needs one.
        return endpoint if inspect.iscoroutinefunction(endpoint) else _sync(endpoint)
    if inspect.iscoroutinefunction(endpoint):

        @functools.wraps(endpoint)
        async def async_view(request: Request):
            refused = await run_in_threadpool(db.with_connection(_check), request, decision,
                                              plugin)
            return refused or await endpoint(request)

        return async_view

    @functools.wraps(endpoint)
    def view(request: Request):
        with db.database.connection_context():
            return _check(request, decision, plugin) or endpoint(request)

    return _sync(view)


def _sync(view):
    from hubcore.web import sync_endpoint

    return sync_endpoint(view)
