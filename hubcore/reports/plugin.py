"""The core's cross-program reports, written as a built-in plugin."""

from __future__ import annotations

from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.migrations import Migrations, create_tables
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="reports",
    label_ja="報告",
    label_en="Reports",
    # Room use reads the calendar, revenue the invoices: their demo data comes first.
    requires=("people", "calendar", "billing"),
    description="Cross-program figures per site, municipality and platform; KPI sheets.",
    core=True,
)


@hookimpl
def register_models():
    from hubcore.reports import models

    return models.MODELS


@hookimpl
def register_migrations():
    from hubcore.reports import models

    return Migrations("reports", [create_tables(*models.MODELS)])


@hookimpl
def register_actions():
    from hubcore.auth.actions import Action

    # Aggregates only (counts, hours, yen): no action here reads a person's data.
    return [
        Action("reports.view", N_("See the site's cross-program report"),
               ("site_manager", "municipality_admin", "platform_admin", "viewer")),
        Action("reports.municipality", N_("See the municipality's cross-program report "
                                          "and KPI sheet"),
               ("municipality_admin", "platform_admin"), scope="municipality"),
        Action("reports.targets", N_("Set the municipality's KPI targets"),
               ("municipality_admin",), scope="municipality"),
        Action("reports.platform", N_("See the report of every municipality"),
               ("platform_admin",), scope="platform"),
    ]


@hookimpl
def register_routes():
    from hubcore.reports.routes import site_routes

    return site_routes()


@hookimpl
def register_commands(cli):
    from hubcore.reports.cli import reports

    cli.add_command(reports)


@hookimpl
def navigation_items(site, request):
    from hubcore.web import NavItem, can, site_url

    if not can(request, "reports.view", site):
        return []
    return [NavItem(_("Reports"), site_url(site, "reports"), order=70, key="reports")]


@hookimpl
def person_changed(site, person, created):
    # A corrected birth date moves the person's past visits to their right age band.
    if not created:
        from hubcore.reports.visits import refresh_person

        refresh_person(person)


@hookimpl(trylast=True)  # after the calendar's demo bookings exist
def load_demo_data(site, people):
    from hubcore.reports.demo import load

    load(site, people)
