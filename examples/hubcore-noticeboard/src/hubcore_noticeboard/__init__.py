"""お知らせ掲示板: a hub's notice board, as a hubcore plugin.

Staff post notices for a site (a title, a text, an optional last day, pinned or
not); the dashboard shows the current ones, pinned first; a notice past its last
day disappears by itself, and one taken down is archived, never deleted.
"""

from __future__ import annotations

from hubcore.auth import Action
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta
from hubcore.web import NavItem, Widget, render_fragment, site_url
from hubcore_noticeboard.models import MODELS

PLUGIN = PluginMeta(
    name="noticeboard",
    label_ja="お知らせ掲示板",
    label_en="Notice board",
    version="0.1.0",
    description="Notices for a site: pinned or dated, taken down when done.",
    colour="#b45309",
)

WIDGET_LIMIT = 5  # notices on the dashboard; the page lists them all


@hookimpl
def register_models():
    return MODELS


@hookimpl
def register_migrations():
    return Migrations("noticeboard", [create_tables(*MODELS)])  # version 1


@hookimpl
def register_actions():
    # Everyone at the site reads the board; staff and managers post and take down.
    return [
        Action("noticeboard.view", N_("See notices"),
               ("site_manager", "staff", "viewer", "municipality_admin")),
        Action("noticeboard.post", N_("Post and take down notices"), ("site_manager", "staff")),
    ]


@hookimpl
def register_routes():
    from hubcore_noticeboard.routes import routes

    return routes()


@hookimpl
def navigation_items(site, request):
    return [NavItem(_("Notices"), site_url(site, "noticeboard"), order=15, key="noticeboard")]


@hookimpl
def dashboard_widgets(site, request):
    from hubcore_noticeboard.operations import current_notices

    notices = current_notices(site, limit=WIDGET_LIMIT + 1)
    html = render_fragment(request, "noticeboard/_widget.html",
                           {"notices": notices[:WIDGET_LIMIT], "more": len(notices) > WIDGET_LIMIT,
                            "site": site})
    return [Widget(_("Notices"), html, order=10)]


@hookimpl
def load_demo_data(site, people):
    from hubcore_noticeboard.demo import add_demo_notices

    add_demo_notices(site)
