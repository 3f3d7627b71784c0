"""HTTP for the notice board: parse the request, call operations, render. htmx gets fragments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from hubcore.auth import requires
from hubcore.errors import Invalid
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.web import is_htmx, read_form, redirect, render, site_url
from hubcore_noticeboard import operations as ops
from hubcore_noticeboard.schemas import NoticeIn


def _context(request: Request, **extra):
    site = request.state.site
    return {
        "notices": ops.current_notices(site),
        "today": ops.site_today(site),
        "nav": "noticeboard",
        "values": {},
        "errors": {},
        **extra,
    }


@requires("noticeboard.view")
def notice_list(request: Request):
    return render(request, "noticeboard/list.html", _context(request))


@requires("noticeboard.post")
def notice_create(request: Request):
    site = request.state.site
    data = read_form(request)
    try:
        notice = ops.create_notice(site, validate(NoticeIn, data))
    except Invalid as exc:
        ctx = _context(request, values=data, errors=exc.errors)
        template = "noticeboard/_form.html" if is_htmx(request) else "noticeboard/list.html"
        return render(request, template, ctx, status_code=422)
    if is_htmx(request):
        message = _("Notice “{title}” was posted.").format(title=notice.title)
        return render(request, "noticeboard/_created.html", _context(request, message=message),
                      status_code=201)
    return redirect(site_url(site, "noticeboard"), request)


@requires("noticeboard.post")
def notice_archive(request: Request):
    site = request.state.site
    notice = ops.archive_notice(ops.get_notice(site, request.path_params["notice_id"]))
    if is_htmx(request):
        message = _("Notice “{title}” was taken down.").format(title=notice.title)
        return render(request, "noticeboard/_list.html", _context(request, message=message))
    return redirect(site_url(site, "noticeboard"), request)


def routes() -> list[Route]:
    return [
        Route("/", notice_list, methods=["GET"], name="list"),
        Route("/", notice_create, methods=["POST"], name="create"),
        Route("/{notice_id:int}/archive/", notice_archive, methods=["POST"], name="archive"),
    ]
