"""Every hook hubcore calls: the plugin API.

Global hooks are called once at start-up on ``pm.hook``. Site hooks are called per
request on ``site.hooks`` and take the site as their first argument; only plugins
enabled for that site (and its municipality) take part. Each hook has a section
with an example in docs/hooks.md, and a test fails when one is missing.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("hubcore")
hookimpl = pluggy.HookimplMarker("hubcore")

# Site hooks: their first argument is the site. sites.SiteHooks checks this list.
SITE_HOOKS = (
    "navigation_items",
    "dashboard_widgets",
    "person_panels",
    "template_slot",
    "person_changed",
    "load_demo_data",
    "plugin_enabled",
    "plugin_disabled",
)


# --- global hooks -----------------------------------------------------------


@hookspec
def register_models():
    """Return the peewee model classes this plugin defines.

    Models subclass ``hubcore.db.BaseModel`` (which binds them to the configured
    database); a plugin's tables are named ``<plugin>_<thing>``, which a core test
    checks against this list. Tables are created by the plugin's migrations, not
    from this list.
    """


@hookspec
def register_migrations():
    """Return a ``hubcore.migrations.Migrations`` with this plugin's ordered steps.

    ``hubcore migrate`` applies, per plugin, every step above the schema version
    recorded for it, each step in its own transaction, and records the new version.
    Running it twice changes nothing the second time.
    """


@hookspec
def register_routes():
    """Return a list of Starlette ``Route`` objects for this plugin.

    They are mounted once under ``/s/{site}/{plugin}/``. Before a request reaches
    the endpoint, the core loads the site into ``request.state.site`` and answers
    404 where the site is unknown or the plugin is off for it; plugin code never
    checks enablement itself. Plain ``def`` endpoints run with a database
    connection open (GET/HEAD on SQLite inline on the event loop, so keep them
    quick; writes and PostgreSQL in the thread pool).
    """


@hookspec
def register_commands(cli):
    """Add ``click`` commands or groups to the ``hubcore`` command.

    ``cli`` is the top-level ``click.Group``; call ``cli.add_command(...)``.
    """


@hookspec
def prepare_jinja2_environment(env):
    """Add filters, globals or tests to a Jinja2 environment before it renders.

    Called once for each theme's environment.
    """


# --- site hooks -------------------------------------------------------------


@hookspec
def navigation_items(site, request):
    """Return a list of ``hubcore.web.NavItem`` for the site's menu.

    Items are sorted by their ``order`` and then by label.
    """


@hookspec
def dashboard_widgets(site, request):
    """Return a list of ``hubcore.web.Widget`` shown on the site's dashboard.

    A widget has a title, ready HTML (render it with ``hubcore.web.render_fragment``)
    and an ``order``.
    """


@hookspec
def person_panels(site, person, request):
    """Return a list of ``hubcore.web.Widget`` shown on a person's page.

    Use it to show what this program knows about the person (an enrolment, a
    membership). Sensitive data must be shown only to roles that need it.
    """


@hookspec
def template_slot(site, slot, request):
    """Return HTML (a ``markupsafe.Markup`` or a string to escape) for a named slot.

    Templates call ``{{ slot("name") }}``; every plugin's answers are joined in
    plugin order. Core slots: ``head_extra``, ``dashboard_top``,
    ``person_detail_bottom``, ``room_list_bottom``.
    """


@hookspec
def person_changed(site, person, created):
    """Called after a person was created (``created=True``) or changed.

    Runs inside the transaction that wrote the person: raising aborts the write.
    Raise ``hubcore.errors.Invalid({field: message})`` to refuse with a message the
    form shows; any other exception is an error.
    """


@hookspec
def load_demo_data(site, people):
    """Add this plugin's demo records to a demo site (``hubcore demo``).

    ``people`` is the list of the site's demo ``Person`` rows. Called only for
    plugins enabled on the site, inside the demo's transaction.
    """


@hookspec
def plugin_enabled(site):
    """Called on one plugin only, right after it was switched on for ``site``."""


@hookspec
def plugin_disabled(site):
    """Called on one plugin only, right after it was switched off for ``site``.

    Data is kept: switching a plugin off hides it, never deletes anything.
    """
