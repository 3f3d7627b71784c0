"""The core's sites area, written as a built-in plugin: dashboard, site lists."""

from __future__ import annotations

from hubcore.hookspecs import hookimpl
from hubcore.i18n import gettext as _
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta
from hubcore.sites import models
from hubcore.web import NavItem, Widget, render_fragment, site_url

PLUGIN = PluginMeta(
    name="sites",
    label_ja="拠点",
    label_en="Sites",
    description="Municipalities, sites, dashboards and plugin enablement.",
    core=True,
    url_prefix="",
)


register_models, register_migrations = table_hooks("sites", models.MODELS)


@hookimpl
def register_routes():
    from hubcore.sites.routes import site_routes

    return site_routes()


@hookimpl
def navigation_items(site, request):
    return [NavItem(_("Dashboard"), site_url(site), order=0, key="dashboard")]


@hookimpl
def dashboard_widgets(site, request):
    from hubcore.plugins import get_host
    from hubcore.sites.operations import enabled_plugins

    host = get_host()
    on = [host.meta(n) for n in sorted(enabled_plugins(site))]
    html = render_fragment(request, "sites/_widget_plugins.html", {"plugins": on})
    return [Widget(_("Programs at this site"), html, order=90)]
