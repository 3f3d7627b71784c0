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
    "permission_allowed",
    "invoice_lines",
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
def register_actions():
    """Return the ``hubcore.auth.Action`` objects this plugin's routes and data need.

    An action is a named permission (``"childcare.read_allergies"``) with a label,
    a scope (``"site"`` or ``"municipality"``), the roles that get it, and whether
    it reads sensitive data (要配慮個人情報). Routes name the action they need with
    ``hubcore.auth.requires("...")``; operations ask ``principal.can("...", site=...)``.
    Action names start with the plugin's name.
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


@hookspec
def permission_allowed(site, principal, action, resource):
    """Decide a permission for this plugin's own resources, or return ``None``.

    Called for every check of a site action, after the user's roles were looked up,
    only for users who may see ``site`` at all. ``resource`` is what the caller passed
    (a record, or ``None`` for the route as a whole). Return ``False`` to refuse even
    though a role grants the action (any ``False`` wins), ``True`` to allow though no
    role grants it, ``None`` to leave it to the roles.
    """


@hookspec
def invoice_lines(site, payer, period):
    """Return this program's ``hubcore.billing.LineItem`` list for one payer and month.

    ``payer`` is a ``hubcore.billing.Payer`` (a household of the site or an
    organisation of its municipality: ``payer.household_id`` / ``organisation_id``);
    ``period`` a ``hubcore.billing.Month``. Called by the monthly run for every payer,
    outside any transaction; return ``[]`` or ``None`` when there is nothing to bill.
    Amounts are integer yen, tax included; set ``hide_if_zero`` on zero-yen lines
    that must not appear on paper (a child's free meal). Must be deterministic: a
    rerun compares the lines to the draft's and rewrites only what changed. Load the
    month's records once with ``period.memo(key, loader)``, not once per payer.
    """


@hookspec
def payment_methods():
    """Return ``hubcore.billing.PaymentMethod`` objects this plugin adds (local
    currency, points...). The core adds cash, bank transfer and direct debit (口座振替);
    the first plugin to name a code wins. Payments refuse unknown codes.
    """


# --- calendar (site hooks) ----------------------------------------------------

SITE_HOOKS += ("calendar_entries", "validate_booking", "booking_changed")


@hookspec
def calendar_entries(site, start, end):
    """Return read-only entries to show in the site's calendar between ``start`` and
    ``end`` (aware datetimes in the site's zone, end exclusive), or ``None``.

    Each entry is a ``hubcore.calendar.CalendarEntry`` (title, start, end, program,
    optional room id, all-day flag and URL). They are shown, never booked: they take
    no room time and are not in conflicts or ICS feeds. Keep it to one query.
    """


@hookspec
def validate_booking(site, booking, occurrences):
    """Return a list of messages (translated strings) refusing a booking, or ``None``.

    Called for each booking written through ``hubcore.calendar.operations`` (create,
    change, move of one occurrence, import), inside the write transaction after the
    room is locked and the core's checks (opening hours, conflicts) passed.
    ``booking`` is the ``Booking`` about to be saved (not saved yet for a new one:
    ``booking.id`` is ``None``); ``occurrences`` the ``hubcore.calendar.operations.Slot``
    list that will be written (times in the site's zone, buffers in ``block_*``).
    Any message refuses the whole write with ``hubcore.errors.Invalid``.
    """


@hookspec
def booking_changed(site, booking, change):
    """Called after a booking was written; ``change`` is ``"created"``, ``"updated"``,
    ``"cancelled"`` or ``"extended"`` (the horizon job added occurrences).

    Runs after the booking's transaction block, so the booking is there to read. An
    exception is logged and does not undo the booking. For a "this and following"
    edit it is called for the shortened series (``"updated"``) and the new one
    (``"created"``).
    """


# --- reports (site hooks) ------------------------------------------------------

SITE_HOOKS += ("report_metrics",)


@hookspec
def report_metrics(site, period):
    """Return this program's figures for ``site`` over ``period`` as a list of
    ``hubcore.reports.MetricRow``, or ``None``.

    ``period`` is a ``hubcore.reports.Period`` (a month, or a fiscal year April–March;
    ``period.first`` and ``period.last`` are dates, both included). Each row names the
    program, a metric key, a value that adds up across sites (a count or an amount,
    never a ratio: the municipality's report sums the sites' rows), a translated label
    and optional ``dimensions`` (e.g. ``{"meal": "lunch"}``). Aggregates only: never a
    person's own data. Person-level figures (unique people, people in two or more
    programs, mixed-generation sessions) come from the visits a program records with
    ``hubcore.reports.record_visit``, not from this hook. Keep it to one query.
    """
