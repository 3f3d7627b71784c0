"""HTTP for municipality administration: programs per site, users and roles."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from hubcore.admin import operations as ops
from hubcore.auth.guard import requires
from hubcore.errors import Invalid
from hubcore.i18n import gettext as _
from hubcore.sites.operations import list_sites
from hubcore.web import is_htmx, read_form, redirect, render

# --- programs per site ------------------------------------------------------------------


def _plugins_url(request: Request) -> str:
    return f"/m/{request.state.municipality.slug}/plugins/"


def _grid_context(request: Request, **extra: Any) -> dict[str, Any]:
    m = request.state.municipality
    return {"municipality": m, "grid": ops.plugin_grid(m), "action": _plugins_url(request),
            "message": None, "error": None, "refused": "", **extra}


@requires("plugins.manage")
def plugins_page(request: Request) -> Response:
    return render(request, "admin/plugins.html", _grid_context(request))


@requires("plugins.manage")
def plugins_switch(request: Request) -> Response:
    m = request.state.municipality
    form = read_form(request)
    scope, plugin = form.get("scope", ""), form.get("plugin", "")
    site = ops.site_of(m, scope) if scope else None  # another municipality's site: 404
    template = "admin/_plugin_grid.html" if is_htmx(request) else "admin/plugins.html"
    try:
        message = ops.switch_plugin(m, site, plugin, ops.parse_enabled(form.get("enabled", "")))
    except (Invalid, ops.Refused) as exc:
        error = exc.message if isinstance(exc, ops.Refused) else next(iter(exc.errors.values()))
        return render(request, template, _grid_context(
            request, error=error, refused=f"{scope}:{plugin}"), status_code=422)
    if not is_htmx(request):
        return redirect(_plugins_url(request), request)
    return render(request, template, _grid_context(request, message=message))


# --- users ------------------------------------------------------------------------------

DONE = {
    "granted": lambda: _("The role was granted."),
    "already": lambda: _("The user held this role already; nothing changed."),
    "revoked": lambda: _("The role was taken away."),
    "removed": lambda: _("The user was removed from the municipality."),
}


def _users_url(request: Request, user_id: int | None = None) -> str:
    base = f"/m/{request.state.municipality.slug}/users/"
    return f"{base}{user_id}/" if user_id is not None else base


def _done(request: Request) -> str | None:
    make = DONE.get(request.query_params.get("done", ""))
    return make() if make else None


def _users_context(request: Request, **extra: Any) -> dict[str, Any]:
    m = request.state.municipality
    return {"municipality": m, "members": ops.members(m), "roles": ops.role_choices(),
            "sites": list_sites(m), "values": {}, "errors": {}, "added": None,
            "message": _done(request), **extra}


@requires("users.manage")
def users_page(request: Request) -> Response:
    return render(request, "admin/users.html", _users_context(request))


@requires("users.manage")
def user_add(request: Request) -> Response:
    m = request.state.municipality
    form = read_form(request)
    try:
        added = ops.add_user(m, form.get("email", ""), form.get("name", ""),
                             form.get("role", ""), form.get("site", ""))
    except Invalid as exc:
        return render(request, "admin/users.html",
                      _users_context(request, values=form, errors=exc.errors), status_code=422)
    # An answer page, not a redirect: a new account's password is shown this once.
    return render(request, "admin/users.html", _users_context(request, added=added),
                  status_code=201 if added.password else 200)


def _user_context(request: Request, member: ops.Member, **extra: Any) -> dict[str, Any]:
    m = request.state.municipality
    return {"municipality": m, "member": member, "roles": ops.role_choices(),
            "sites": list_sites(m), "values": {}, "errors": {}, "password": None,
            "may_reset": ops.may_reset_password(m, request.state.principal, member),
            "message": _done(request), "users_url": _users_url(request),
            "user_url": _users_url(request, member.user.id), **extra}


def _member(request: Request) -> ops.Member:
    return ops.member(request.state.municipality, request.path_params["user_id"])


@requires("users.manage")
def user_page(request: Request) -> Response:
    return render(request, "admin/user.html", _user_context(request, _member(request)))


def _refused(request: Request, member: ops.Member, exc: Invalid, form: dict) -> Response:
    return render(request, "admin/user.html",
                  _user_context(request, member, values=form, errors=exc.errors),
                  status_code=422)


@requires("users.manage")
def user_grant(request: Request) -> Response:
    member = _member(request)
    form = read_form(request)
    try:
        granted = ops.grant(request.state.municipality, member, form.get("role", ""),
                            form.get("site", ""))
    except Invalid as exc:
        return _refused(request, member, exc, form)
    done = "granted" if granted else "already"
    return redirect(f"{_users_url(request, member.user.id)}?done={done}", request)


@requires("users.manage")
def user_revoke(request: Request) -> Response:
    member = _member(request)
    form = read_form(request)
    try:
        still_here = ops.revoke(request.state.municipality, request.state.principal, member,
                                form.get("grant", ""))
    except Invalid as exc:
        return _refused(request, member, exc, form)
    if still_here:
        return redirect(f"{_users_url(request, member.user.id)}?done=revoked", request)
    return redirect(f"{_users_url(request)}?done=removed", request)


@requires("users.manage")
def user_password(request: Request) -> Response:
    member = _member(request)
    try:
        password = ops.reset_password(request.state.municipality, request.state.principal,
                                      member)
    except Invalid as exc:
        return _refused(request, member, exc, {})
    return render(request, "admin/user.html", _user_context(request, member, password=password))


@requires("users.manage")
def user_remove(request: Request) -> Response:
    member = _member(request)
    form = read_form(request)
    try:
        # The box is the confirmation where no JavaScript asks (hx-confirm).
        if form.get("confirm") != "yes":
            raise Invalid({"confirm": _("Tick the box to confirm the removal.")})
        ops.remove(request.state.municipality, request.state.principal, member)
    except Invalid as exc:
        return _refused(request, member, exc, form)
    return redirect(f"{_users_url(request)}?done=removed", request)


def admin_routes() -> list[Route]:
    return [
        Route("/m/{municipality}/plugins/", plugins_page, methods=["GET"], name="admin_plugins"),
        Route("/m/{municipality}/plugins/", plugins_switch, methods=["POST"],
              name="admin_plugins_switch"),
        Route("/m/{municipality}/users/", users_page, methods=["GET"], name="admin_users"),
        Route("/m/{municipality}/users/", user_add, methods=["POST"], name="admin_user_add"),
        Route("/m/{municipality}/users/{user_id}/", user_page, methods=["GET"],
              name="admin_user"),
        Route("/m/{municipality}/users/{user_id}/roles", user_grant, methods=["POST"],
              name="admin_user_grant"),
        Route("/m/{municipality}/users/{user_id}/roles/revoke", user_revoke, methods=["POST"],
              name="admin_user_revoke"),
        Route("/m/{municipality}/users/{user_id}/password", user_password, methods=["POST"],
              name="admin_user_password"),
        Route("/m/{municipality}/users/{user_id}/remove", user_remove, methods=["POST"],
              name="admin_user_remove"),
    ]
