"""The core's people and households area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.hookspecs import hookimpl
from hubcore.i18n import gettext as _
from hubcore.migrations import table_hooks
from hubcore.people import models
from hubcore.plugins import PluginMeta
from hubcore.web import NavItem, Widget, can, render_fragment, site_url

PLUGIN = PluginMeta(
    name="people",
    label_ja="利用者・世帯",
    label_en="People and households",
    requires=("sites",),
    description="People (氏名, フリガナ, birth date, contacts) and the households that pay.",
    core=True,
)


register_models, register_migrations = table_hooks("people", models.MODELS)


@hookimpl
def register_routes():
    from hubcore.people.routes import routes

    return routes()


@hookimpl
def navigation_items(site, request):
    if not can(request, "people.view", site):
        return []
    return [
        NavItem(_("People"), site_url(site, "people"), order=30, key="people"),
        NavItem(_("Households"), site_url(site, "people", "households"), order=31,
                key="households"),
    ]


@hookimpl
def dashboard_widgets(site, request):
    from hubcore.people import operations as ops

    if not can(request, "people.view", site):
        return []
    bands = ops.age_band_counts(site, ops.site_today(site))
    html = render_fragment(request, "people/_widget.html", {
        "site": site, "people_count": sum(bands.values()),  # every person is in one band
        "household_count": ops.count_households(site), "bands": bands,
        "age_band_label": ops.age_band_label,
    })
    return [Widget(_("People"), html, order=30)]
