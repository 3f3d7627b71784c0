"""Childcare (子育て支援): drop-in care (一時預かり), the after-school club (放課後児童クラブ)
and the open parent-and-child space (親子ひろば), as a hubcore plugin.

Registered through the ``hubcore`` entry point like any third party's plugin; it
uses only the core's public hooks and modules. Each hook below hands over to the
module that holds the logic, imported when first called.
"""

from __future__ import annotations

from hubcore.auth import Action
from hubcore.auth.actions import MUNICIPALITY_ADMIN, PLATFORM_ADMIN, SITE_MANAGER, STAFF, VIEWER
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta
from hubcore.web import NavItem, site_url
from plugins.childcare.models import MODELS

PLUGIN = PluginMeta(
    name="childcare",
    label_ja="子育て支援",
    label_en="Childcare",
    version="0.1.0",
    description="Drop-in care, the after-school club and the parent-and-child space: "
                "children, reservations, check-in, staff ratios and fees.",
    colour="#db2777",
)

register_models, register_migrations = table_hooks("childcare", MODELS)


@hookimpl
def register_actions():
    return [
        Action("childcare.view", N_("See childcare: today, reservations, the ratio board"),
               (SITE_MANAGER, STAFF, VIEWER)),
        Action("childcare.attend", N_("Take reservations and check children and staff in "
                                      "and out"), (SITE_MANAGER, STAFF)),
        Action("childcare.children", N_("Register children, pickup people and emergency "
                                        "contacts"), (SITE_MANAGER, STAFF)),
        Action("childcare.health", N_("See and change children's allergies and medical notes"),
               (SITE_MANAGER, STAFF), sensitive=True),
        Action("childcare.relief", N_("See and change households' relief brackets"),
               (SITE_MANAGER,), sensitive=True),
        Action("childcare.manage", N_("Change childcare settings, sessions, rooms, staff "
                                      "and prices"), (SITE_MANAGER,)),
        Action("childcare.ratios", N_("Change the municipality's staff ratios and relief "
                                      "amounts"), (MUNICIPALITY_ADMIN, PLATFORM_ADMIN)),
    ]


@hookimpl
def register_routes():
    from plugins.childcare.routes import routes

    return routes()


@hookimpl
def navigation_items(site, request):
    return [NavItem(_("Childcare"), site_url(site, "childcare"), order=30, key="childcare")]


@hookimpl
def dashboard_widgets(site, request):
    from plugins.childcare.pages_board import dashboard_widgets as widgets

    return widgets(site, request)


@hookimpl
def person_panels(site, person, request):
    from plugins.childcare.pages_children import person_panels as panels

    return panels(site, person, request)


@hookimpl
def invoice_lines(site, payer, period):
    from plugins.childcare.billing import invoice_lines as lines

    return lines(site, payer, period)


@hookimpl
def report_metrics(site, period):
    from plugins.childcare.reports import report_metrics as metrics

    return metrics(site, period)


@hookimpl
def validate_booking(site, booking, occurrences):
    from plugins.childcare.naptime import validate_booking as validate

    return validate(site, booking, occurrences)


@hookimpl
def plugin_enabled(site):
    from plugins.childcare.settings import on_enabled

    on_enabled(site)


@hookimpl
def load_demo_data(site, people):
    from plugins.childcare.demo import load_demo_data as load

    load(site, people)
