"""The core's calendar area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.calendar import models
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.migrations import create_tables, table_hooks
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="calendar",
    label_ja="カレンダー",
    label_en="Calendar",
    requires=("rooms",),
    description="Bookings of rooms by every program, recurring series, holidays, ICS.",
    core=True,
)


# Step 2 added school periods; create_tables is idempotent, so fresh databases that
# got the table in step 1 pass step 2 unchanged.
register_models, register_migrations = table_hooks(
    "calendar", models.MODELS, create_tables(models.CalendarPeriod))


@hookimpl
def register_commands(cli):
    from hubcore.calendar.cli import calendar

    cli.add_command(calendar)


@hookimpl
def invoice_lines(site, payer, period):
    from hubcore.calendar.hire import hire_lines

    return period.memo(f"calendar-hire:{site.id}", lambda: hire_lines(site, period)).get(
        payer.key, [])


@hookimpl
def load_demo_data(site, people):
    from hubcore.calendar.demo import load

    load(site, people)


@hookimpl
def register_actions():
    from hubcore.auth.actions import Action

    # Bookings name rooms, times and (optionally) an organiser: not sensitive data.
    return [
        Action("calendar.view", N_("See the calendar and its bookings"),
               ("site_manager", "staff", "viewer", "municipality_admin")),
        Action("calendar.book", N_("Book rooms; change and cancel bookings"),
               ("site_manager", "staff")),
        Action("calendar.override", N_("Book outside opening hours, on closed days and "
                                       "holidays"), ("site_manager", "municipality_admin")),
        Action("calendar.manage", N_("Set opening hours, closed days, school periods and "
                                     "rooms next to each other; manage ICS feeds; import "
                                     "calendar files"), ("site_manager",)),
    ]


@hookimpl
def register_routes():
    from hubcore.calendar.routes import routes

    return routes()


@hookimpl
def navigation_items(site, request):
    from hubcore.web import NavItem, can, site_url

    if not can(request, "calendar.view", site):
        return []
    return [NavItem(_("Calendar"), site_url(site, "calendar"), order=25, key="calendar")]
