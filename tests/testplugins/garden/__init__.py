"""A test plugin: a community garden's plots. Exercises every hook the core offers."""

from __future__ import annotations

import peewee
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from hubcore.audit.operations import sensitive_read
from hubcore.auth import Action, requires
from hubcore.db import BaseModel
from hubcore.hookspecs import hookimpl
from hubcore.i18n import gettext as _
from hubcore.migrations import Migrations, add_column, create_tables
from hubcore.plugins import PluginMeta
from hubcore.sites.models import Site
from hubcore.web import NavItem, Widget, render, render_fragment, site_url

PLUGIN = PluginMeta(name="garden", label_ja="菜園", label_en="Garden", version="1.2.0",
                    description="Community garden plots (test plugin).", colour="#16a34a")

# What the event hooks saw, for the tests to read.
EVENTS: list[tuple[str, str]] = []


class Plot(BaseModel):
    site = peewee.ForeignKeyField(Site, on_delete="CASCADE")
    name = peewee.CharField(max_length=50)
    size_m2 = peewee.IntegerField(default=0)  # added in version 2

    class Meta:
        table_name = "garden_plot"


STEPS = [create_tables(Plot), add_column("garden_plot", "size_m2", peewee.IntegerField(default=0))]


@hookimpl
def register_models():
    return [Plot]


@hookimpl
def register_migrations():
    return Migrations("garden", STEPS)


@hookimpl
def register_actions():
    return [
        Action("garden.view", "See the garden plots",
               ("site_manager", "staff", "viewer", "municipality_admin")),
        # Sensitive on purpose: the tests check that reads are allowed and logged.
        Action("garden.read_allergies", "Read gardeners' allergies", ("site_manager", "staff"),
               sensitive=True),
    ]


@hookimpl
def permission_allowed(site, principal, action, resource):
    # A plugin deciding for its own resources: a plot named "closed" is off limits.
    if action == "garden.view" and getattr(resource, "name", None) == "closed":
        return False
    return None


@requires("garden.view")
def plots(request):
    site = request.state.site
    names = [p.name for p in Plot.select().where(Plot.site == site).order_by(Plot.name)]
    return render(request, "garden/plots.html", {"plots": names, "nav": "garden"})


@requires("garden.view")
def ping(request):
    return PlainTextResponse(f"garden at {request.state.site.slug}")


@requires("garden.view")
async def async_ping(request):
    return PlainTextResponse(f"async garden at {request.state.site.slug}")


@hookimpl
def register_routes():
    return [Route("/", plots, name="plots"), Route("/ping", ping, name="ping"),
            Route("/async", async_ping, name="async")]


@hookimpl
def navigation_items(site, request):
    return [NavItem(_("Garden"), site_url(site, "garden"), order=50, key="garden")]


@hookimpl
def dashboard_widgets(site, request):
    html = render_fragment(request, "garden/_widget.html",
                           {"count": Plot.select().where(Plot.site == site).count()})
    return [Widget(_("Garden"), html, order=50)]


@hookimpl
def person_panels(site, person, request):
    from hubcore.web import can

    panels = [Widget("garden-panel", render_fragment(request, "garden/_panel.html",
                                                     {"person": person}))]
    if can(request, "garden.read_allergies"):
        sensitive_read(site, f"person:{person.id}", "garden allergies")
        panels.append(Widget("garden-allergies", render_fragment(
            request, "garden/_allergies.html", {"person": person})))
    return panels


@hookimpl
def template_slot(site, slot, request):
    if slot == "dashboard_top":
        return "<b>garden slot & escaped</b>"
    return None


@hookimpl
def person_changed(site, person, created):
    EVENTS.append(("person_changed", f"{site.slug}:{person.family_name}:{created}"))
    if person.notes == "garden-veto":
        raise ValueError("the garden plugin refuses this person")


@hookimpl
def load_demo_data(site, people):
    Plot.create(site=site, name=f"{site.slug}-demo-plot")


@hookimpl
def plugin_enabled(site):
    EVENTS.append(("enabled", site.slug))


@hookimpl
def plugin_disabled(site):
    EVENTS.append(("disabled", site.slug))


@hookimpl
def prepare_jinja2_environment(env):
    env.filters["shout"] = lambda s: f"{s}!"


@hookimpl
def register_commands(cli):
    import click

    @cli.command("garden-hello")
    def hello():
        """Say hello from the garden plugin."""
        click.echo("hello from the garden")
