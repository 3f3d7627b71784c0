"""The core's billing area, written as a built-in plugin."""

from __future__ import annotations

from hubcore.billing import models
from hubcore.billing.lines import PaymentMethod
from hubcore.hookspecs import hookimpl
from hubcore.i18n import N_
from hubcore.i18n import gettext as _
from hubcore.migrations import table_hooks
from hubcore.plugins import PluginMeta

PLUGIN = PluginMeta(
    name="billing",
    label_ja="請求",
    label_en="Billing",
    requires=("people",),
    description="Invoices per payer and month, payments, credit notes, tax.",
    core=True,
)


register_models, register_migrations = table_hooks("billing", models.MODELS)


@hookimpl
def register_commands(cli):
    from hubcore.billing.cli import billing

    cli.add_command(billing)


@hookimpl
def payment_methods():
    return [
        PaymentMethod("cash", N_("Cash"), order=10),
        PaymentMethod("bank_transfer", N_("Bank transfer"), order=20),
        PaymentMethod("direct_debit", N_("Direct debit"), order=30),
    ]


@hookimpl
def register_actions():
    from hubcore.auth.actions import Action

    # Billing shows what households pay, not why (no fee-relief brackets or income),
    # so none of these reads sensitive data.
    return [
        Action("billing.view", N_("See invoices, payments and balances"),
               ("site_manager", "staff", "viewer", "municipality_admin")),
        Action("billing.manage", N_("Run the monthly billing, review and issue invoices, make "
                                    "credit notes, change the billing settings"),
               ("site_manager", "municipality_admin")),
        Action("billing.payments", N_("Record payments"), ("site_manager", "staff")),
    ]


@hookimpl
def register_routes():
    from hubcore.billing.routes import routes

    return routes()


@hookimpl
def prepare_jinja2_environment(env):
    from hubcore.billing.operations import _norm
    from hubcore.billing.pages import month_label
    from hubcore.billing.printing import number, yen

    env.filters["yen"] = yen
    env.filters["month_label"] = month_label
    env.filters["quantity"] = lambda v: number(_norm(v))  # 1,100 and 10.45, never 1.1E+3


@hookimpl
def navigation_items(site, request):
    from hubcore.web import NavItem, can, site_url

    if not can(request, "billing.view", site):
        return []
    return [NavItem(_("Billing"), site_url(site, "billing"), order=60, key="billing")]


@hookimpl
def dashboard_widgets(site, request):
    from hubcore.billing.pages import glance
    from hubcore.web import Widget, can, render_fragment

    if not can(request, "billing.view", site):
        return []
    html = render_fragment(request, "billing/_widget.html", {"site": site, "g": glance(site)})
    return [Widget(_("Billing"), html, order=60)]


@hookimpl
def load_demo_data(site, people):
    from hubcore.billing.demo import load

    load(site)
