"""HTTP for accounts: log-in, log-out, the user's own page with password and API tokens."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.auth import operations as ops
from hubcore.auth.guard import SESSION_USER, SESSION_VERSION, client_ip, login_required, public
from hubcore.db import database
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.web import read_form, redirect, render


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send a freshly logged-in user elsewhere."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return "/"
    return target


@public
def login(request: Request) -> Response:
    with database.connection_context():
        if request.method == "GET":
            return render(request, "auth/login.html",
                          {"next": _safe_next(request.query_params.get("next")), "values": {},
                           "errors": {}})
        form = read_form(request)
        email, password = form.get("email", ""), form.get("password", "")
        target = _safe_next(form.get("next"))
        missing = {k: m for k, m in (
            ("email", _("Email: enter your email address.")),
            ("password", _("Password: enter your password."))) if not form.get(k)}
        if missing:  # not an attempt: nothing is counted against anyone
            return render(request, "auth/login.html",
                          {"next": target, "values": {"email": email}, "errors": missing},
                          status_code=422)
        result = ops.authenticate(email, password, ip=client_ip(request))
        if not result.ok:
            if result.wait is not None:
                minutes = max(1, math.ceil(result.wait.total_seconds() / 60))
                seconds = max(1, math.ceil(result.wait.total_seconds()))
                message = (_("Too many failed log-ins. Try again in {n} minutes.").format(
                    n=minutes) if seconds > 60 else
                    _("Too many failed log-ins. Wait {n} seconds and try again.").format(
                        n=seconds))
                status = 429
            else:
                message = _("The email address or the password is not right.")
                status = 401
            return render(request, "auth/login.html",
                          {"next": target, "values": {"email": email}, "message": message,
                           "errors": {}},
                          status_code=status,
                          headers={"Retry-After": str(seconds)} if status == 429 else None)
    # A new session: whatever the cookie held before (a planted session) is dropped.
    request.session.clear()
    request.session.update({SESSION_USER: result.user.id,
                            SESSION_VERSION: result.user.session_version})
    return redirect(target, request)


@login_required
def logout(request: Request) -> Response:
    from hubcore.audit.operations import record

    record("logout")
    request.session.clear()
    return redirect("/login", request)


def _account_context(request: Request, **extra):
    from hubcore.auth.models import RoleGrant
    from hubcore.auth.operations import describe_grant

    principal = request.state.principal
    grants = list(RoleGrant.select().where(RoleGrant.user == principal.user)
                  .order_by(RoleGrant.id))
    return {"user": principal.user, "grants": [describe_grant(g) for g in grants],
            "tokens": ops.list_tokens(principal.user), "sites": _my_sites(request),
            "errors": {}, "values": {}, **extra}


def _my_sites(request: Request):
    from hubcore.sites.operations import list_sites

    return list_sites(visible_to=request.state.principal)


@login_required
def account(request: Request) -> Response:
    return render(request, "auth/account.html", _account_context(request))


@login_required
def change_password(request: Request) -> Response:
    user = ops.get_user(request.state.principal.user.id)  # with its password hash
    form = read_form(request)
    errors = {}
    if not ops.verify_password(user, form.get("current", "")):
        errors["current"] = _("Current password: it is not right.")
    if form.get("new", "") != form.get("repeat", ""):
        errors["repeat"] = _("Repeat: the two new passwords differ.")
    if not errors:
        try:
            ops.set_password(user, form.get("new", ""))
        except Invalid as exc:
            errors = {"new": next(iter(exc.errors.values()))}
    if errors:
        return render(request, "auth/account.html", _account_context(request, errors=errors),
                      status_code=422)
    # Sessions were ended by the change; keep this one.
    request.session[SESSION_VERSION] = user.session_version
    return render(request, "auth/account.html",
                  _account_context(request, message=_("Your password was changed.")))


@login_required
def token_create(request: Request) -> Response:
    from hubcore.sites.operations import get_site

    principal = request.state.principal
    form = read_form(request)
    site = None
    if form.get("site"):
        visible = {s.slug for s in _my_sites(request)}
        if form["site"] not in visible:
            return render(request, "auth/account.html", _account_context(
                request, values=form, errors={"site": _("Site: choose one of yours.")}),
                status_code=422)
        site = get_site(form["site"])
    try:
        token, secret = ops.create_token(principal.user, form.get("name", ""),
                                         read_only=form.get("access") != "write", site=site)
    except Invalid as exc:
        return render(request, "auth/account.html",
                      _account_context(request, values=form, errors=exc.errors), status_code=422)
    return render(request, "auth/account.html",
                  _account_context(request, new_token=token, secret=secret), status_code=201)


@login_required
def token_revoke(request: Request) -> Response:
    token = ops.get_token(request.state.principal.user, request.path_params["token_id"])
    ops.revoke_token(token)
    return redirect("/account/#tokens", request)


def account_routes() -> list[Route]:
    return [
        Route("/login", login, methods=["GET", "POST"], name="login"),
        Route("/logout", logout, methods=["POST"], name="logout"),
        Route("/account/", account, methods=["GET"], name="account"),
        Route("/account/password", change_password, methods=["POST"], name="password"),
        Route("/account/tokens", token_create, methods=["POST"], name="token_create"),
        Route("/account/tokens/{token_id}/revoke", token_revoke, methods=["POST"],
              name="token_revoke"),
    ]
