"""HTTP for rooms: parse, call operations, render. htmx gets fragments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from hubcore.auth.guard import requires
from hubcore.errors import Invalid
from hubcore.forms import validate
from hubcore.i18n import gettext as _
from hubcore.rooms import operations as ops
from hubcore.rooms.schemas import RoomIn
from hubcore.web import is_htmx, read_form, redirect, render, site_url


def _page_context(request: Request, **extra):
    site = request.state.site
    show_retired = request.query_params.get("retired") == "1"
    return {
        "rooms": ops.list_rooms(site, include_retired=show_retired),
        "show_retired": show_retired,
        "feature_labels": ops.feature_labels(),
        "nav": "rooms",
        "values": {},
        "errors": {},
        **extra,
    }


@requires("rooms.view")
def room_list(request: Request):
    return render(request, "rooms/list.html", _page_context(request))


@requires("rooms.manage")
def room_create(request: Request):
    site = request.state.site
    data = read_form(request, lists=("features",))
    try:
        room = ops.create_room(site, validate(RoomIn, data))
    except Invalid as exc:
        ctx = _page_context(request, values=data, errors=exc.errors)
        template = "rooms/_form.html" if is_htmx(request) else "rooms/list.html"
        return render(request, template, ctx, status_code=422)
    if is_htmx(request):
        ctx = _page_context(request, created=room,
                            message=_("Room “{name}” was added.").format(name=room.name))
        return render(request, "rooms/_created.html", ctx, status_code=201)
    return redirect(site_url(site, "rooms"), request)


@requires("rooms.manage")
def room_edit(request: Request):
    site = request.state.site
    room = ops.get_room(site, request.path_params["room_id"])
    if request.method == "GET":
        values = {"name": room.name, "capacity": room.capacity, "floor": room.floor,
                  "features": room.feature_list, "shareable": room.shareable,
                  "notes": room.notes, "sort_order": room.sort_order}
        return render(request, "rooms/edit.html", {"room": room, "values": values, "errors": {},
                                                   "feature_labels": ops.feature_labels(),
                                                   "nav": "rooms"})
    data = read_form(request, lists=("features",))
    try:
        ops.update_room(room, validate(RoomIn, data))
    except Invalid as exc:
        return render(request, "rooms/edit.html", {"room": room, "values": data,
                                                   "errors": exc.errors, "nav": "rooms",
                                                   "feature_labels": ops.feature_labels()},
                      status_code=422)
    return redirect(site_url(site, "rooms"), request)


def _set_retired(request: Request, retired: bool):
    site = request.state.site
    room = ops.set_retired(ops.get_room(site, request.path_params["room_id"]), retired)
    if is_htmx(request):
        return render(request, "rooms/_row.html",
                      {"room": room, "feature_labels": ops.feature_labels()})
    return redirect(site_url(site, "rooms"), request)


@requires("rooms.manage")
def room_retire(request: Request):
    return _set_retired(request, True)


@requires("rooms.manage")
def room_restore(request: Request):
    return _set_retired(request, False)


def routes() -> list[Route]:
    return [
        Route("/", room_list, methods=["GET"], name="list"),
        Route("/", room_create, methods=["POST"], name="create"),
        Route("/{room_id}/edit/", room_edit, methods=["GET", "POST"], name="edit"),
        Route("/{room_id}/retire/", room_retire, methods=["POST"], name="retire"),
        Route("/{room_id}/restore/", room_restore, methods=["POST"], name="restore"),
    ]
