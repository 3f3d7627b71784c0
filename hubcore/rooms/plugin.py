"""The core's rooms area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.hookspecs import hookimpl
from hubcore.i18n import gettext as _
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta
from hubcore.rooms import models
from hubcore.web import NavItem, Widget, render_fragment, site_url

PLUGIN = PluginMeta(
    name="rooms",
    label_ja="部屋",
    label_en="Rooms",
    requires=("sites",),
    description="Rooms of a site: capacity, floor, features, shareability.",
    core=True,
)


register_models, register_migrations = table_hooks("rooms", models.MODELS)


@hookimpl
def register_routes():
    from hubcore.rooms.routes import routes

    return routes()


@hookimpl
def navigation_items(site, request):
    return [NavItem(_("Rooms"), site_url(site, "rooms"), order=20, key="rooms")]


@hookimpl
def dashboard_widgets(site, request):
    from hubcore.rooms.operations import feature_labels, list_rooms

    rooms = list_rooms(site)
    html = render_fragment(request, "rooms/_widget.html",
                           {"rooms": rooms, "site": site, "feature_labels": feature_labels()})
    return [Widget(_("Rooms"), html, order=20)]
